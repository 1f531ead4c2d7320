"""The 异常查询 thresholds of a run, read from the profile's credit settings.

Every threshold is a setting of :class:`regflows.settings.CreditSettings`, defined there once
with its default and clause; this module only converts them to the typed :class:`Thresholds`
the rules take (times parsed, code lists as tuples). Without a profile the settings' defaults
apply, so there is no second copy of a default here.
"""

from __future__ import annotations

import datetime as dt

from regflows.credit.models import Thresholds
from regflows.settings import CreditSettings


def thresholds(settings: CreditSettings | None = None) -> Thresholds:
    """The thresholds of a profile's ``settings`` (any :class:`CreditSettings`, e.g. ``profile.settings``),
    or of the defaults."""
    s = settings if settings is not None else CreditSettings()
    return Thresholds(
        work_start=dt.time.fromisoformat(s.credit_work_start),
        work_end=dt.time.fromisoformat(s.credit_work_end),
        daily_limit=s.credit_daily_query_limit,
        repeat_limit=s.credit_repeat_subject_limit,
        repeat_window_days=s.credit_repeat_window_days,
        reason_codes=tuple(s.credit_reason_codes),
        enterprise_reason_codes=tuple(s.credit_enterprise_reason_codes),
        blocked_statuses=tuple(s.credit_blocked_user_statuses),
        non_formal_abnormal=s.credit_non_formal_user_abnormal,
    )
