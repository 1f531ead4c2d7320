"""The notice-kind registry: what each kind of notice is, declared by whoever owns it.

Why a registry: the notices layer renders, sends, acknowledges and escalates notices of every
procedure, but must not know any procedure (issue 11, item 2). So a kind is not a name the layer
knows in advance but a :class:`NoticeKind` that its owner registers: the typed context, the folder
of its two templates, and how its acknowledgement page behaves. ``notices`` registers only the
generic kinds (:mod:`notices.templates`); a procedure registers its own in its ``notices`` module,
which its package imports, so that every process that loads any part of the procedure (a flow run
in a worker, the endpoint, the CLI) has them before it sends.

A kind is registered once per process. Registering the same record again is harmless (a module
imported twice under one name cannot do it, but a composition root may re-register); registering
a *different* record under a taken name is a mistake and raises, so two procedures cannot
silently take each other's notices.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel

__all__ = ["FORMS", "NoticeKind", "UnknownNoticeKind", "kind", "kinds", "register_kind"]

#: The two forms every kind has: ``<kind>.full.j2`` (email, push) and ``<kind>.sms.j2``.
FORMS: tuple[str, str] = ("full", "sms")

#: A kind's name: lower-case words joined by ``_``. Template files are found by it
#: (``<name>.<form>.j2``), and it is stored with every notice, so it cannot contain a dot.
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


@dataclass(frozen=True)
class NoticeKind:
    """One kind of notice, as its owner declares it.

    ``context`` is the pydantic model a sender's context must fit (``extra="forbid"``, so a
    misspelt key fails in the tests rather than printing a blank line at 03:00). ``templates`` is
    the folder holding ``<name>.full.j2`` and ``<name>.sms.j2``. ``sms_fields`` names the fields of
    this kind, beyond :data:`notices.templates.SMS_FIELDS`, that its SMS may show; each must be
    of a type that cannot hold a name (``tests/notices/test_templates.py`` checks every registered kind).

    The rest is what the acknowledgement page does with a link of this kind: ``button`` is what
    its button says; ``shows_body`` titles the page with the notice's own title (a decision is
    taken on what it said; every page shows the notice as sent, its deadlines included: issue 14, 7); ``stops_escalation`` says whether confirming stops escalation (a
    notice to named people rather than roles has none to stop); ``after_ack`` runs after a
    confirmation with the notice id and returns a line for the person (e.g. the next step of a
    sign-off), or ``""``. ``superseded_by`` returns the id of the notice that replaced this one
    (a 【更正】 alert after a correction of the facts), or None: the page then shows the newer
    notice instead of the stale content and takes no confirmation (review 14, 14).
    """

    name: str
    context: type[BaseModel]
    templates: Path
    button: str = "确认收到"
    shows_body: bool = False
    stops_escalation: bool = True
    after_ack: Callable[[str], str] | None = None
    superseded_by: Callable[[str], str | None] | None = None
    sms_fields: frozenset[str] = field(default_factory=frozenset)

    def template(self, form: str) -> Path:
        return self.templates / f"{self.name}.{form}.j2"


class UnknownNoticeKind(KeyError):
    """No kind of that name is registered in this process."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(name)

    def __str__(self) -> str:
        return f"未知的通知类型 {self.name!r}（已注册：{'、'.join(sorted(_REGISTRY)) or '无'}）"


_REGISTRY: dict[str, NoticeKind] = {}


def register_kind(notice_kind: NoticeKind) -> NoticeKind:
    """Register a kind; returns it, so that a module can keep it as a constant.

    Refuses a malformed name, a folder lacking either template, and a name already registered
    with a different record: each would otherwise surface only when the notice is sent.
    """
    name = notice_kind.name
    if not _NAME.fullmatch(name):
        raise ValueError(f"通知类型名 {name!r} 无效：只能用小写字母、数字和下划线，以字母开头")
    missing = [p.name for p in map(notice_kind.template, FORMS) if not p.is_file()]
    if missing:
        raise ValueError(f"通知类型 {name} 缺少模板 {'、'.join(missing)}（应在 {notice_kind.templates}）")
    known = _REGISTRY.get(name)
    if known is not None:
        if known != notice_kind:
            raise ValueError(f"通知类型 {name} 已注册（{known.context.__module__}.{known.context.__name__}），不能重复注册为另一种")
        return known
    _REGISTRY[name] = notice_kind
    return notice_kind


def kind(name: str) -> NoticeKind:
    """The registered kind of that name; :class:`UnknownNoticeKind` if none is."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownNoticeKind(name) from None


def kinds() -> dict[str, NoticeKind]:
    """Every registered kind by name (a copy: registering goes through :func:`register_kind`)."""
    return dict(_REGISTRY)
