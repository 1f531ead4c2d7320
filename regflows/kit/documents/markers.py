"""The marks that keep a document from passing for what it is not.

- A **draft** mark: a document regflows writes is a draft until people review and sign it; the
  mark is printed where a reader cannot miss it (page header and footer, a banner under the
  title, the file's properties), so a draft printed or mailed by mistake cannot pass for the
  signed document.
- A **drill** tag: a drill's documents look like the real ones by design, so each carries
  【演练】 at the start of its title, on every page and in its properties; a drill report must
  never reach a regulator, the police or a customer as if something had happened.
- A **pending** marker ``待补充（原因）``: an element the procedure cannot know yet. ``None`` means
  "nobody thought about it" and must stop a document; ``待补充（…）`` is a decision someone made,
  printed highlighted so the reviewer sees it, and reported so the procedure can raise it
  before the deadline.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

#: The default draft mark of an official document (page header, footer, properties).
DRAFT_MARK = "草稿 — 待审核"
#: Put before the title of every drill document, and on every page of it.
DRILL_TAG = "【演练】"
#: The default banner under a drill document's title; a procedure may say more precisely who
#: must not receive it.
DRILL_NOTICE = "【演练】本文件为演练材料，所述情况并非真实发生，不得对外报送或发送。"

_PENDING = re.compile(r"^待补充[（(](?P<reason>.*\S.*)[）)]$", re.S)
_PENDING_INSIDE = re.compile(r"待补充[（(]")


def pending(reason: str) -> str:
    """The text that stands for an element not known yet: ``待补充（reason）``."""
    if not reason.strip():
        raise ValueError("待补充 needs a reason, e.g. pending('原因调查中')")
    return f"待补充（{reason.strip()}）"


def pending_reason(value: object) -> str | None:
    """The reason of a ``待补充（原因）`` marker, or ``None`` when ``value`` is not one."""
    if not isinstance(value, str):
        return None
    match = _PENDING.fullmatch(value.strip())
    return match.group("reason").strip() if match else None


def is_pending(value: object) -> bool:
    """Whether ``value`` is a ``待补充（原因）`` marker."""
    return pending_reason(value) is not None


def contains_pending(text: str) -> bool:
    """Whether a printed text holds a 待补充 marker anywhere (it is then highlighted)."""
    return _PENDING_INSIDE.search(text) is not None


def _pending_marker(value: str) -> str:
    if not is_pending(value):
        raise ValueError("must be a value or a 待补充（原因） marker")
    return value.strip()


#: ``待补充（原因）`` in a field whose real value is not text (a time, a list, a count).
Pending = Annotated[str, AfterValidator(_pending_marker)]
