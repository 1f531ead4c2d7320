"""Prefect tasks of the drills: the owed drills reminded and raised (regflows/drills/reminders.py),
plans' approvals advanced, and the run: the plan checked, the drill incident's form, the injects
fired on schedule (regflows/drills/run.py). The run's incident goes through the incident
pipeline's own flow and tasks (flows/drill_run.py calls flows/incident_response.py).

Thin wrappers: the rules live in :mod:`regflows.drills`, logs here.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NONE

from regflows.drills.plan import DrillPlan
from regflows.drills.run import Scheduled
from regflows.profile import Profile
from regflows.store.db import migrate
from regflows.store.models import utcnow
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


# -- the run (issue 17, item 3) -------------------------------------------------------------------


@task(name="check-drill-plan 核对演练方案与审批", cache_policy=NONE)
def plan_task(plan_path: str, profile: Profile, rehearsal: bool) -> dict[str, Any]:
    """The plan read and checked against the profile and the calendar, and approved for this very
    plan.yaml unless ``rehearsal``; ``{"refused": message}`` (Chinese) otherwise."""
    from regflows.drills.approval import require_approved
    from regflows.drills.owed import DrillInputError
    from regflows.kit.errors import RuleFileError
    from regflows.kit.obligations import Refused

    migrate()
    try:
        plan, is_rehearsal = require_approved(Path(plan_path), profile, rehearsal=rehearsal)
    except (RuleFileError, DrillInputError, Refused) as exc:
        get_run_logger().error("%s", exc)
        return {"refused": f"演练未开始：{exc}"}
    if is_rehearsal:
        get_run_logger().warning("演练方案 %s 未经批准：本次运行为预演（rehearsal），仅供测试", plan.plan_id)
    return {"plan": plan, "rehearsal": is_rehearsal}


@task(name="drill-form 生成演练事件申报", cache_policy=NONE)
def drill_form_task(plan: DrillPlan, profile: Profile, started: dt.datetime, rehearsal: bool) -> dict[str, Any]:
    """The drill incident as the incident-response form takes it (drill: true), its participants
    and its declarer (the plan's commander) as the form's choices."""
    from regflows.drills.run import incident_facts
    from regflows.incident.form import form_from_record
    from regflows.incident.record import validate_record

    record = validate_record(incident_facts(plan, started, rehearsal), source=f"演练方案 {plan.plan_id}")
    labels = profile.people_choices()
    commander = next(p.person for p in plan.participants if p.side == "command")
    return {
        "form": form_from_record(record, profile.unit_choices()),
        "participants": [labels[p] for p in plan.people],
        "declared_by": labels[commander],
    }


@task(name="record-drill-start 登记演练开始", retries=2, retry_delay_seconds=5)
def started_task(plan: DrillPlan, incident_id: str, run_key: str, rehearsal: bool, speed: float, started: dt.datetime) -> None:
    from regflows.drills.run import record_started

    record_started(plan, incident_id, run_key=run_key, rehearsal=rehearsal, speed=speed, started=started)
    get_run_logger().info("演练 %s（方案 %s）已开始%s", incident_id, plan.plan_id, "（预演）" if rehearsal else "")


@task(name="fire-inject 按时间线注入演练情况", cache_policy=NONE)
def inject_task(profile: Profile, plan: DrillPlan, incident_id: str, item: Scheduled, until: dt.datetime) -> dict[str, Any]:
    """Wait until the inject's instant (the timeline compressed by the speed), then do it for real:
    a channel down (drill notices' channels of that kind pointed at a closed local port until
    ``until``: notices/drill_faults.py), a re-grade or the end of handling through the incident
    pipeline's own correction path (regflows/incident/update.py), or a note; recorded with its
    planned and actual instants (``drill.inject``). Not retried: an inject fires once."""
    from notices import drill_faults
    from regflows.drills.run import record_inject
    from regflows.incident.update import update_incident

    logger = get_run_logger()
    wait = (item.at - utcnow()).total_seconds()
    if wait > 0:
        time.sleep(wait)
    actual = utcnow()
    inject = item.inject
    commander = next(p.person for p in plan.participants if p.side == "command")
    did: dict[str, Any] = {}
    limiter = sms_rate_limiter(profile)
    with notices_published():
        if inject.action == "channel_down":
            assert inject.channel is not None
            did = {"channel": inject.channel, "port": drill_faults.set_down(incident_id, inject.channel, until)}
        elif inject.action == "regrade":
            outcome = update_incident(
                profile,
                incident_id,
                {"assessed_grade": inject.grade, "assessed_reason": f"演练注入：{inject.expected}"},
                reason=f"演练注入（T+{inject.at_minutes} 分钟）：{inject.expected}",
                by=commander,
                force_regrade=True,
                before_send=limiter,
            )
            did = {"grade": {"from": outcome.grade_before, "to": outcome.grade_after}, "unreached": outcome.unreached}
        elif inject.action == "end_handling":
            update_incident(
                profile,
                incident_id,
                {"handling_ended_at": actual.isoformat()},
                reason=f"演练注入（T+{inject.at_minutes} 分钟）：处置结束",
                by=commander,
                before_send=limiter,
            )
            did = {"handling_ended_at": actual.isoformat()}
    record_inject(incident_id, item, actual, did)
    logger.info("演练 %s：T+%d 分钟注入 %s 已执行（%s）", incident_id, inject.at_minutes, inject.action, did)
    return {"index": item.index, "action": inject.action, "actual": actual.isoformat(), **did}


@task(name="finish-drill 结束演练注入", retries=2, retry_delay_seconds=5)
def finish_task(incident_id: str) -> None:
    """The drill's channel faults cleared and its end recorded (``drill.finished``)."""
    from notices import drill_faults
    from regflows.drills.run import record_finished

    drill_faults.clear(incident_id)
    record_finished(incident_id, utcnow())
