"""Notice texts: one Jinja2 template per notice kind, in a full form and an SMS form.

Why typed contexts: a notice is sent in an emergency, by code paths that run rarely (an
escalation at 03:00, a grade I incident). A misspelt key must fail in the test suite, not print
an empty line to the on-call engineer, so each kind has a pydantic model with
``extra="forbid"`` and the templates run under ``StrictUndefined``. Both failures surface as
:class:`TemplateContextError` naming the kind and the field.

Why the SMS form is so restricted: an SMS passes through a gateway, the carriers and a phone's
lock screen, none of which we control, and cannot be recalled. So an SMS template may only use
fields in :data:`SMS_FIELDS`, every one of which is typed so that it *cannot* hold a name or a
customer's data (a reference matching a pattern, a grade, a count, a time, a link). Free text
(titles, summaries, names, error messages) only appears in the full form, where it is masked with
:func:`notices.masking.mask_pii` first. After rendering, an SMS with anything :func:`find_pii`
recognises is refused outright rather than masked.

Length of an SMS (:data:`SMS_MAX_CHARS` = 140): a Chinese SMS is UCS-2 encoded, 70 characters
per single message; 140 is two such segments. Counted in UTF-16 code units (an emoji counts
two), as the network counts them. Two caveats the sender should know: once a message is split,
each part carries a concatenation header and holds 67 characters, so 135-140 characters may be
billed as three parts; and the gateway's signature (【机构简称】) is added outside this budget. A
rendered SMS over the limit raises; it is never cut, since a cut could drop the deadline or the
acknowledgement link.

Which kinds exist is not decided here: each is registered with :mod:`notices.kinds` by its owner,
with its context model (built from the field types below) and the folder of its templates. This
module registers the generic kinds, whose templates live in ``notices/templates/``; a procedure's
kinds and templates live in the procedure's package.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import jinja2
from jinja2 import meta
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, computed_field, field_validator

from calendars.zone import SHANGHAI
from notices.kinds import NoticeKind, UnknownNoticeKind, register_kind
from notices.kinds import kind as registered
from notices.masking import find_pii, mask_pii, mask_url
from regflows.kit.errors import clean_loc, describe, field_path

__all__ = [
    "ACK_LINK_PLACEHOLDER",
    "GENERIC_KINDS",
    "SMS_FIELDS",
    "SMS_MAX_CHARS",
    "TEMPLATE_DIR",
    "AckUrl",
    "DueLabel",
    "HexHash",
    "Line",
    "NoticeContext",
    "Ref",
    "Rendered",
    "TemplateContextError",
    "Text",
    "channel_label",
    "ref_label",
    "render",
    "sms_length",
    "sms_variables",
]

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"

#: Two 70-character UCS-2 segments (see the module docstring for the 67-character caveat).
SMS_MAX_CHARS = 140

#: What the *record* copy of a notice shows where each recipient's own link goes (the stored
#: notice is rendered once, before the per-recipient links exist; see ``notices.service``).
ACK_LINK_PLACEHOLDER = "（每位收件人的专属确认链接）"

# --------------------------------------------------------------------------------------------
# Field types. The constrained ones are what makes a field safe for an SMS: a pattern that
# admits no Chinese text and no spaces cannot carry a person's name or a free-text description.
# --------------------------------------------------------------------------------------------

#: A notice, incident or report identifier: ``INC-20251001-0001``, ``incident:INC-1:alert:esc:2``,
#: or a reminder's notice (regflows/kit/reminders.py keys): ``credit-stats:2025-10:overdue@2025-11-10``,
#: an ``@`` only before a date or a UTC stamp, so that no e-mail address passes (an escalation of
#: an overdue reminder was refused for its ``@``).
Ref = Annotated[str, StringConstraints(pattern=(
    r"^(?:[A-Za-z0-9][A-Za-z0-9._:\-]{0,119}"
    r"|[A-Za-z0-9][A-Za-z0-9._:\-]{0,79}@(?:[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{8}T[0-9]{6}Z)(?::[A-Za-z0-9._:\-]{1,30})?)$"))]
#: An obligation with no fixed hour (及时: NFRA 46, CQ-PLAN 第三篇四), reminded until it is met.
UNTIMED = "无固定期限（及时）"
#: A deadline as ``calendars.deadlines.Deadline.label`` writes it: ``2025-10-09 24:00``; or :data:`UNTIMED`.
DueLabel = Annotated[str, StringConstraints(pattern=r"^(?:[0-9]{4}-[0-9]{2}-[0-9]{2} (?:[01][0-9]|2[0-4]):[0-5][0-9]|无固定期限（及时）)$")]
#: An http(s) link in printable ASCII, or the record copy's placeholder.
AckUrl = Annotated[
    str, StringConstraints(max_length=2048, pattern=r"^(?:https?://[!-~]+|（每位收件人的专属确认链接）)$")
]
HexHash = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
#: What a reminder's subject is, said in Chinese where people read ``credit-stats:2026-10`` (review
#: 14, 10): a period and a short fixed noun built by the procedure's code (2026年10月征信信息安全情况统计表),
#: never typed text; it starts with the period, so it cannot hold a person's name.
SubjectLabel = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}年(?:[0-9]{1,2}月|第[一二三四]季度)[\u4e00-\u9fff]{2,14}$")]
#: One line of free text (titles, names): full form only.
Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000, pattern=r"^[^\r\n]+$")]
#: Several lines of free text (summaries, warnings): full form only.
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20000)]

#: The context fields any SMS template may reference; a kind adds its own in
#: ``NoticeKind.sms_fields``. Each is one of the constrained types above, a bool, a number or a
#: time in every model that has it (``tests/notices/test_templates.py`` checks both the templates and the
#: models of every registered kind).
SMS_FIELDS: frozenset[str] = frozenset(
    {
        "drill",
        "notice_ref",
        "subject_ref",
        "subject_label",
        "state",
        "due_label",
        "ack_url",
        "sent_at",
        "acked_at",
        "at",
        "checked_on",
        "step",
        "minutes_waited",
        "chain_exhausted",
        "count",
        "head_hash",
        "channel_count",
        "warning_count",
        "late_from",
    }
)


class NoticeContext(BaseModel):
    """The base of every kind's context: unknown keys are refused, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _none_if_blank(value: Any) -> Any:
    """Callers pass ``""`` for "not known" (an unacknowledged notice's acked_by): treat it as None."""
    return None if isinstance(value, str) and not value.strip() else value


class ChannelTestContext(NoticeContext):
    """``regflows notices test``: proves a channel delivers, nothing else."""

    institution: Line
    sent_at: dt.datetime
    channel: Line | None = None  # e.g. "email"; the masked target belongs in logs, not here


#: ``open``: an obligation with no fixed hour, still to be met (及时).
DeadlineState = Literal["due_soon", "due", "overdue", "open"]


class DeadlineReminderContext(NoticeContext):
    """An obligation is due soon, due now, or overdue."""

    state: DeadlineState
    obligation: Line
    clause: Line
    due_label: DueLabel
    subject_ref: Ref  # the incident or report the obligation belongs to
    subject_label: SubjectLabel | None = None  # the report said in Chinese, shown before the ref (regflows/kit/reminders.py Feed.subject_label)
    subject_title: Line | None = None
    basis: Line | None = None  # how the deadline was counted (Deadline.basis)
    late_from: dt.datetime | None = None  # when this reminder was due, if it is sent late
    late_reason: Line | None = None  # why it is late, when not an outage (规则解读更正)
    overdue_for: Line | None = None  # how long past the deadline (calendars.deadlines.time_left_zh: 逾期 2 天 3 小时)
    file_url: AckUrl | None = None  # the document to file, as a signed download link (notices/files.py)
    ack_url: AckUrl | None = None
    institution: Line | None = None
    drill: bool = False


class EscalationContext(NoticeContext):
    """Nobody acknowledged a notice in time: the next person of the chain is told."""

    notice_ref: Ref
    notice_title: Line
    step: int = Field(ge=1)
    minutes_waited: int = Field(ge=0)
    notified_before: list[Line] = Field(default_factory=list)  # staff, never customers
    chain_exhausted: bool = False  # the chain ran out: this goes to the role's deputy
    ack_url: AckUrl | None = None
    institution: Line | None = None
    drill: bool = False

    @field_validator("minutes_waited", mode="before")
    @classmethod
    def _not_negative(cls, value: Any) -> Any:
        """Clock skew between hosts must not stop an escalation from being sent."""
        return max(0, value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


#: How much of a channel's last error a delivery-failure notice quotes.
ERROR_MAX_CHARS = 500
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"<>，。；]+")


class ChannelAttempt(NoticeContext):
    kind: Line
    target: Line
    state: Line
    error: str = ""

    @field_validator("target", "error")
    @classmethod
    def _mask_urls(cls, value: str) -> str:
        """A channel URL is a secret (a webhook key): the deputy needs to know *which*, not the key."""
        return _URL.sub(lambda m: mask_url(m.group(0)), value)

    @field_validator("error", mode="before")
    @classmethod
    def _shorten(cls, value: Any) -> Any:
        """A vendor's error page (long, multi-line) must not break the failure report."""
        if isinstance(value, str):
            value = " ".join(value.split())  # one list item, one line
            if len(value) > ERROR_MAX_CHARS:
                return value[:ERROR_MAX_CHARS] + "…"
        return value


class DeliveryFailureContext(NoticeContext):
    """A notice reached a person through no channel: their role's deputy is told."""

    notice_ref: Ref
    notice_title: Line
    person_name: Line
    channels: list[ChannelAttempt] = Field(default_factory=list)
    ack_url: AckUrl | None = None
    institution: Line | None = None
    drill: bool = False

    @computed_field  # type: ignore[prop-decorator]
    @property
    def channel_count(self) -> int:
        return len(self.channels)


class RenotifyContext(NoticeContext):
    """Acknowledged, but not resolved by the time it was due."""

    notice_ref: Ref
    notice_title: Line
    acked_by: Line | None = None
    acked_at: dt.datetime | None = None
    due_label: DueLabel | None = None
    ack_url: AckUrl | None = None
    institution: Line | None = None
    drill: bool = False

    @field_validator("acked_by", "due_label", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return _none_if_blank(value)


class CalendarWarningContext(NoticeContext):
    """The working-day calendar needs attention (calendars.coverage warnings)."""

    warnings: list[Text] = Field(min_length=1)
    checked_on: dt.date | None = None
    institution: Line | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def warning_count(self) -> int:
        return len(self.warnings)


class LedgerAnchorContext(NoticeContext):
    """The daily ledger anchor (field names as in ``regflows.ledger.Anchor``)."""

    count: int = Field(ge=0)
    head_hash: HexHash
    at: dt.datetime
    institution: Line | None = None


#: The kinds the notices layer itself sends or that serve every procedure alike. A procedure's
#: own kinds (an incident alert, a sign-off request) are registered by the procedure.
GENERIC_KINDS: tuple[NoticeKind, ...] = tuple(
    register_kind(NoticeKind(name, model, TEMPLATE_DIR))
    for name, model in (
        ("test", ChannelTestContext),
        ("deadline_reminder", DeadlineReminderContext),
        ("escalation", EscalationContext),
        ("delivery_failure", DeliveryFailureContext),
        ("renotify", RenotifyContext),
        ("calendar_warning", CalendarWarningContext),
        ("ledger_anchor", LedgerAnchorContext),
    )
)


# --------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------


class TemplateContextError(ValueError):
    """A notice could not be rendered from its context; names the kind and the field."""

    def __init__(self, kind: str, field: str | None, message: str) -> None:
        self.kind = kind
        self.field = field
        super().__init__(message)


@dataclass(frozen=True)
class Rendered:
    title: str
    body: str


def _fmt_time(value: dt.datetime | dt.date | str | None, seconds: bool = False) -> str:
    """Times as people in Shanghai read them; a naive time is taken to be Shanghai time already."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(SHANGHAI)
        return value.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):  # an instant as stored (ISO 8601 with its offset, UTC or +08:00): read in Beijing time
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
        return _fmt_time(parsed, seconds) if parsed.tzinfo is not None else value
    return str(value)


_STATE_LABELS = {"due_soon": "即将到期", "due": "已到期", "overdue": "已逾期", "open": "待及时办理"}
_DELIVERY_STATES = {"delivered": "已送达", "failed": "失败", "unknown": "结果未知", "sending": "发送中", "in_flight": "发送中"}
_CHANNEL_LABELS = {
    "email": "邮件", "sms": "短信", "wecom": "企业微信", "dingtalk": "钉钉", "feishu": "飞书", "lark": "Lark",
    "ntfy": "ntfy 推送", "gotify": "Gotify 推送", "webhook": "Webhook", "outbox": "本地 outbox",
}


def channel_label(kind: str) -> str:
    """A channel kind as people read it (``sms`` → 短信)."""
    return _CHANNEL_LABELS.get(kind, kind)


_DRILL_TAG = re.compile(r"^(?:\s*【演练】)+\s*")


def _instant(stamp: str) -> str:
    """``20251001T030000Z`` (a reminder key's due instant, UTC) in Beijing time."""
    return _fmt_time(dt.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.timezone.utc))


#: The parts of a notice id that are codes (regflows/kit/reminders.py keys, escalation steps),
#: each with the Chinese phrase a person reads instead.
_REF_PARTS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"overdue@([0-9]{8}T[0-9]{6}Z)"), lambda m: f"逾期提醒（时限 {_instant(m[1])}）"),
    (re.compile(r"overdue@([0-9]{4}-[0-9]{2}-[0-9]{2})"), lambda m: f"逾期提醒（时限 {m[1]} 24:00）"),
    (re.compile(r"before-([0-9]+)@([0-9]{8}T[0-9]{6}Z)"), lambda m: f"到期前{m[1]}分钟提醒（时限 {_instant(m[2])}）"),
    (re.compile(r"working-day@([0-9]{4}-[0-9]{2}-[0-9]{2})"), lambda m: f"{m[1]} 工作日提醒"),
    (re.compile(r"every@([0-9]{8}T[0-9]{6}Z)"), lambda m: f"定期提醒（{_instant(m[1])}）"),
    (re.compile(r"calendar-missing@([0-9]{4}-[0-9]{2}-[0-9]{2})"), lambda m: f"{m[1]} 日历数据缺失提醒"),
    (re.compile(r"calendar_missing"), lambda m: "日历数据缺失提醒"),
]
_ESCALATION = re.compile(r":esc:([0-9]+)$")


def ref_label(ref: str) -> str:
    """A notice id as people read it: the reminder keys and escalation steps in it said in Chinese
    (``credit-stats:2025-10:overdue@2025-11-10`` → ``credit-stats:2025-10 逾期提醒（时限 2025-11-10
    24:00）``), the subject reference kept. Chinese texts showed the codes (issue 14, 7)."""
    step = _ESCALATION.search(ref)
    tail = f" 第{step[1]}级升级" if step else ""
    parts = ref[:step.start()].split(":") if step else ref.split(":")
    for index, part in enumerate(parts):
        for pattern, phrase in _REF_PARTS:
            found = pattern.fullmatch(part)
            if found:
                return " ".join([":".join(parts[:index]), phrase(found), *parts[index + 1:]]).strip() + tail
    return ":".join(parts) + tail


class KindLoader(jinja2.BaseLoader):
    """Finds ``<kind>.<form>.j2`` in the folder its kind registered, so that each owner keeps its
    templates beside its context models. Asked at every load: a kind registered later is found."""

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str | None, Callable[[], bool] | None]:
        try:
            folder = registered(template.split(".", 1)[0]).templates
        except UnknownNoticeKind:
            raise jinja2.TemplateNotFound(template) from None
        return jinja2.FileSystemLoader(folder).get_source(environment, template)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=KindLoader(),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # plain text; a channel that sends HTML escapes on its side
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters.update(
        time=_fmt_time,
        state_label=lambda s: _STATE_LABELS.get(s, s),
        delivery_state=lambda s: _DELIVERY_STATES.get(s, s),
        channel_label=channel_label,
        # SMS only: a deadline days away needs no year, and five characters matter in 140.
        short_label=lambda label: label[5:] if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{5}", label) else label,
        # A notice title quoted inside another notice already carries its own 【演练】.
        strip_drill=lambda s: _DRILL_TAG.sub("", s),
        ref_label=ref_label,
    )
    return env


_ENV = _environment()


def _validate(kind: str, context: BaseModel | dict[str, Any]) -> BaseModel:
    try:
        model = registered(kind).context
    except UnknownNoticeKind as unknown:
        raise TemplateContextError(kind, None, str(unknown)) from None
    if isinstance(context, model):
        return context
    if isinstance(context, BaseModel):
        raise TemplateContextError(kind, None, f"通知类型 {kind} 需要 {model.__name__}，收到 {type(context).__name__}")
    try:
        return model.model_validate(context)
    except ValidationError as exc:
        # The one translator (regflows/kit/errors.py). Not chained, and show_input=False: the
        # rejected values may be personal data, and this exception ends up in logs.
        fields = [field_path(clean_loc(e["loc"], model)) for e in exc.errors()]
        detail = "；".join(describe(exc, model=model, show_input=False))
        raise TemplateContextError(kind, fields[0] if fields else None, f"通知 {kind} 的内容有误：{detail}") from None


def _masked(value: Any) -> Any:
    """Every string of the context, however deep, through mask_pii before any template sees it."""
    if isinstance(value, str):
        return mask_pii(value)
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_masked(v) for v in value]
    return value


_UNDEFINED = re.compile(r"'([^']+)' is undefined|has no attribute '([^']+)'")


def _render(kind: str, text: Any) -> str:
    try:
        return "".join(text) if not isinstance(text, str) else text
    except jinja2.UndefinedError as exc:
        m = _UNDEFINED.search(str(exc))
        field = (m.group(1) or m.group(2)) if m else None
        raise TemplateContextError(kind, field, f"通知 {kind} 的模板引用了内容中没有的字段 {field}：{exc}") from exc


def _block(kind: str, template: jinja2.Template, name: str, values: dict[str, Any]) -> str:
    return _render(kind, template.blocks[name](template.new_context(values)))


def _tidy_body(text: str) -> str:
    lines = [line.rstrip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def sms_length(text: str) -> int:
    """Length as the network counts it: UCS-2 / UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _check_sms(kind: str, body: str, values: dict[str, Any]) -> None:
    length = sms_length(body)
    if length > SMS_MAX_CHARS:
        link = values.get("ack_url") or ""
        hint = f"，其中确认链接 {sms_length(link)} 字，短信需要更短的链接" if link else ""
        raise TemplateContextError(
            kind, "ack_url" if link else None, f"通知 {kind} 的短信 {length} 字，超过上限 {SMS_MAX_CHARS} 字{hint}；短信不会被截断"
        )
    kinds = find_pii(body)
    if kinds:
        raise TemplateContextError(kind, None, f"通知 {kind} 的短信含个人信息（{'、'.join(kinds)}），拒绝发送")


def render(kind: str, context: BaseModel | dict[str, Any], form: Literal["full", "sms"] = "full") -> Rendered:
    """Render a notice. Full form: title and body (email, push). SMS form: body only, no personal data.

    Raises :class:`TemplateContextError` for an unknown kind, a context that does not fit the
    kind's model, a template referring to a missing field, or an SMS that is too long or
    carries personal data.
    """
    if form not in ("full", "sms"):
        raise TemplateContextError(kind, None, f"未知的通知形式 {form!r}（可选：full、sms）")
    model = _validate(kind, context)
    raw = model.model_dump(mode="python")
    values = _masked(raw)
    template = _ENV.get_template(f"{kind}.{form}.j2")
    if form == "sms":
        # Checked on the unmasked text too: in an SMS even a masked number (138****5678) is
        # refused, since the SMS fields are designed to hold none at all.
        _check_sms(kind, _sms_text(kind, template, raw), raw)
        body = _sms_text(kind, template, values)
        _check_sms(kind, body, values)
        return Rendered("", body)
    title = " ".join(_block(kind, template, "title", values).split())
    return Rendered(title, _tidy_body(_block(kind, template, "body", values)))


def _sms_text(kind: str, template: jinja2.Template, values: dict[str, Any]) -> str:
    """An SMS template's lines, stripped and joined: the template stays readable, the SMS has no breaks."""
    return "".join(line.strip() for line in _render(kind, template.generate(values)).splitlines())


def sms_variables(kind: str) -> set[str]:
    """The context fields an SMS template references (for the design check in the tests)."""
    source = _ENV.loader.get_source(_ENV, f"{kind}.sms.j2")[0]  # type: ignore[union-attr]
    return set(meta.find_undeclared_variables(_ENV.parse(source)))
