"""Prefect tasks of the drills: the owed drills reminded and raised (regflows/drills/reminders.py).

Thin wrappers: the rules live in :mod:`regflows.drills`, logs here.
"""

from __future__ import annotations

import datetime as dt

from prefect import get_run_logger, task

from regflows.profile import Profile
from regflows.store.db import migrate
from tasks.notices import notices_published, sms_rate_limiter


@task(name="remind-drills 应开展的演练：提醒与期满上报", retries=1, retry_delay_seconds=10)
def drill_reminders_task(profile: Profile, now: dt.datetime) -> list[str]:
    """The year's owed drills written, then the reminders due at ``now`` (monthly from the
    profile's month in each period) and, once a period ended without its drill, raised to the
    owner role, the leadership group and compliance (NFRA 44 and the other clauses of
    regflows/drills/rules/owed.yaml)."""
    from regflows.drills.reminders import remind

    migrate()
    with notices_published():
        sent = remind(profile, now, before_send=sms_rate_limiter(profile))
    if sent:
        get_run_logger().warning("已发送演练提醒 %d 条：%s", len(sent), "；".join(sent))
    return sent


@task(name="advance-drill-plans 推进演练方案审核与批准", retries=1, retry_delay_seconds=5)
def plan_approvals_task(profile: Profile) -> list[str]:
    """Move each submitted drill plan through review and approval (the acknowledgement page's
    fallback; re-sends a request whose links expired). Returns the plans that cannot go on, each
    with its reason, logged as errors: never silent."""
    from regflows.drills.approval import advance_plan, open_plans
    from regflows.kit.approvals import NobodyEligible

    logger = get_run_logger()
    migrate()
    stuck: list[str] = []
    with notices_published():
        for plan_id in open_plans():
            try:
                approval = advance_plan(profile, plan_id, before_send=sms_rate_limiter(profile))
                logger.info("演练方案 %s：第 %d 版，%s", plan_id, approval.revision, approval.stage)
            except NobodyEligible as exc:
                logger.error("演练方案 %s：%s", plan_id, exc)
                stuck.append(f"{plan_id}：{exc}")
    return stuck
