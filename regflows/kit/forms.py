"""What people type into a deployment's form, read the way they mean it.

The Prefect UI's date-time picker stores UTC unless the browser says otherwise (a duty officer's
19:50 became ``19:50Z``, eight hours late: issue 14, 1), and it shows optional values as a
"type None" toggle. So the forms take plain text: a time is typed as Beijing wall-clock time
(``2026-11-26 19:50``) and read as +08:00 unless it carries an offset; an empty field means "not
given". Choices are shown by their Chinese names and mapped to the codes the rules use.

This reading is for the forms only. JSON files, ``POST /incidents`` and the CLI keep refusing a
time without an offset (a machine that posts an incident must say which clock it means).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

from calendars.zone import SHANGHAI

__all__ = ["BEIJING_TIME_HELP", "FormError", "choice_code", "form_time", "optional_text"]

#: The help text beside every time field of a form.
BEIJING_TIME_HELP = "北京时间，如 2026-11-26 19:50；也可写带时区偏移的时间（如 2026-11-26T11:50:00Z）。"

_LOCAL = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$")
_WITH_OFFSET = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:?\d{2})$")


class FormError(ValueError):
    """A value typed into a form that cannot be read; the message names the field, in Chinese."""


def form_time(text: str | None, field: str) -> dt.datetime | None:
    """``2026-11-26 19:50`` (Beijing time) or an ISO time with an offset; empty means None.

    Full-width characters a Chinese input method may produce (``：``, ``－``, the ideographic
    space) are read as their ASCII forms."""
    if text is None:
        return None
    value = text.strip().translate({0xFF1A: ":", 0xFF0D: "-", 0x3000: " "})
    if not value:
        return None
    match = _LOCAL.match(value)
    try:
        if match:
            year, month, day, hour, minute, second = (int(g) if g else 0 for g in match.groups())
            return dt.datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)
        if _WITH_OFFSET.match(value):
            return dt.datetime.fromisoformat(value.replace(" ", "T").replace("Z", "+00:00"))
    except ValueError as exc:  # 2026-02-30, 25:00
        raise FormError(f"「{field}」不是有效的时间：{value}（{exc}）") from None
    raise FormError(f"「{field}」应为北京时间，如 2026-11-26 19:50（填写的是 {value!r}）")


def optional_text(text: str | None) -> str | None:
    """A text field left empty (or blank) is "not given"."""
    if text is None:
        return None
    return text.strip() or None


def choice_code(value: str, names: Mapping[str, str], field: str) -> str:
    """The code of a choice shown by its Chinese name (``设备设施故障`` → ``equipment_failure``).
    The code itself is accepted too (the CLI and JSON send codes)."""
    text = value.strip()
    if text in names:
        return text
    for code, name in names.items():
        if name == text:
            return code
    raise FormError(f"「{field}」应为以下之一：{'、'.join(names.values())}（填写的是 {text!r}）")
