"""Prefect tasks of the daily check (日核查, PBOC-102 二（四）): which days, one day, the digest.

Thin wrappers around :mod:`regflows.credit.daily_check`: retries, logs and artifacts live here,
rules do not. Every task that sends publishes what it sent as the run's ``notices`` artifact.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from prefect import get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NONE

from regflows.credit.daily_check import DayOutcome, check_one, month_agreement, plan, record_disagreement, send_digest
from regflows.credit.models import Period
from regflows.profile import Profile
from regflows.store.db import migrate
from tasks.notices import notices_published, sms_rate_limiter

STATE_ZH = {"checked": "已核查", "missing": "日志缺失", "failed": "未通过检查"}


@task(name="plan-days 确定待核查日期", retries=2, retry_delay_seconds=10)
def plan_task(profile: Profile, today: dt.date) -> list[dt.date]:
    """Every day up to yesterday not yet checked, weekends and holidays included."""
    migrate()
    days = plan(profile, today)
    get_run_logger().info("待核查：%s", "、".join(d.isoformat() for d in days) or "无")
    return days


@task(name="check-day 核查一日查询日志", cache_policy=NONE, retries=1, retry_delay_seconds=30)
def check_day_task(profile: Profile, day: dt.date, home: Path, users: Path | None, out_dir: Path) -> DayOutcome:
    """One day: its log checked, each 违规查询 raised at once, the day recorded. A retry sends no
    violation twice (stable notice ids, delivery claims)."""
    with notices_published():
        outcome = check_one(profile, day, home, out_dir, users=users, before_send=sms_rate_limiter(profile))
    logger = get_run_logger()
    (logger.info if outcome.state == "checked" else logger.error)("%s", outcome.message)
    for warning in outcome.warnings:
        logger.warning("%s", warning)
    return outcome


@task(name="send-digest 发送异常查询线索日报", cache_policy=NONE, retries=1, retry_delay_seconds=30)
def digest_task(profile: Profile, outcomes: list[DayOutcome]) -> str | None:
    """The digest of the run's days to the alert role, and a table artifact of the days."""
    if outcomes:
        create_table_artifact([{"日期": o.day.isoformat(), "结果": STATE_ZH[o.state], "查询（笔）": o.rows,
                                "违规查询（笔）": o.unauthorized, "异常查询线索（笔）": o.abnormal, "说明": o.message}
                               for o in outcomes], key="credit-daily-check", description="征信查询日核查")
    with notices_published():
        return send_digest(profile, outcomes, before_send=sms_rate_limiter(profile))


@task(name="match-month-to-days 核对月报与日核查", cache_policy=NONE, retries=1, retry_delay_seconds=10)
def month_agreement_task(period: Period, counts: dict[str, dict[str, int]]) -> list[str]:
    """Where the month's table and the sum of its daily checks disagree (each a warning in the
    run's log and the ledger); nothing when no day of the month was checked daily."""
    migrate()
    found = month_agreement(period, counts)
    logger = get_run_logger()
    for line in found:
        logger.warning("%s", line)
    if found:
        record_disagreement(period, found)
    return found
