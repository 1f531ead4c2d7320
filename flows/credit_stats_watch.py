"""Hourly: remind about the monthly credit statistics on working days until marked submitted,
and raise it when the due day has passed (PBOC-102 III(2))."""

from __future__ import annotations

from prefect import flow, get_run_logger

from regflows.credit.deadline import remind
from regflows.profile import load_profile, profile_path
from tasks.notices import sms_rate_limiter


@flow(name="credit-stats-watch")
def credit_stats_watch() -> list[str]:
    """工作日提醒报送征信信息安全情况统计表，逾期未标记报送即上报。"""
    profile = load_profile(profile_path())
    sent = remind(profile, before_send=sms_rate_limiter(profile))
    if sent:
        get_run_logger().warning("已发送统计表报送提醒：%s", ", ".join(sent))
    return sent
