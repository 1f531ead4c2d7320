"""Thresholds from the profile, with defaults while the profile schema does not know them yet.

The profile's ``settings`` are strict (unknown keys are refused), so this reads each setting with
``getattr`` and falls back to the documented default: the settings can be added to
``regflows.profile.Settings`` without touching this code.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from regflows.credit.models import ENTERPRISE_REASON_CODES, REASON_CODES, Thresholds

#: Setting name → default (README, "Credit statistics"; PBOC-102 II(4) monitoring thresholds).
DEFAULTS: dict[str, Any] = {
    "credit_work_start": "08:30:00",
    "credit_work_end": "18:00:00",
    "credit_daily_query_limit": 250,
    "credit_repeat_subject_limit": 3,
    "credit_repeat_window_days": 30,
    "credit_reason_codes": list(REASON_CODES),
    "credit_enterprise_reason_codes": list(ENTERPRISE_REASON_CODES),
}


def _time(value: Any) -> dt.time:
    return value if isinstance(value, dt.time) else dt.time.fromisoformat(str(value))


def thresholds(settings: Any | None = None) -> Thresholds:
    """The 异常查询 thresholds of a profile's ``settings`` (or the defaults)."""

    def get(name: str) -> Any:
        value = getattr(settings, name, None) if settings is not None else None
        return DEFAULTS[name] if value is None else value

    return Thresholds(
        work_start=_time(get("credit_work_start")),
        work_end=_time(get("credit_work_end")),
        daily_limit=int(get("credit_daily_query_limit")),
        repeat_limit=int(get("credit_repeat_subject_limit")),
        repeat_window_days=int(get("credit_repeat_window_days")),
        reason_codes=tuple(str(c) for c in get("credit_reason_codes")),
        enterprise_reason_codes=tuple(str(c) for c in get("credit_enterprise_reason_codes")),
    )
