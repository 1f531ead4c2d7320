"""Tasks of the incident-response procedure: thin wrappers around the pure rules and the store."""

from __future__ import annotations

import datetime as dt
from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from calendars.deadlines import time_left_zh
from calendars.zone import SHANGHAI
from regflows.incident import drafts, store
from regflows.incident.clock import obligations as compute_obligations
from regflows.incident.clock import rule_set_for
from regflows.incident.grading import Grading, grade
from regflows.incident.record import IncidentRecord, check_against_profile
from regflows.profile import Profile
from regflows.store.models import Obligation, utcnow

#: Plain text: emoji are boxes where the browser lacks an emoji font (seen in the UI).
STATE_LABEL = {"pending": "待起算", "open": "进行中", "due_soon": "【即将到期】", "overdue": "【已逾期】",
               "fulfilled": "已履行", "calendar_missing": "【缺日历数据】"}


@task(name="登记事件")
def record_task(record: IncidentRecord, profile: Profile, actor: str, participants: list[str] | None = None) -> dict[str, Any]:
    unit = check_against_profile(record, profile)
    grading = grade(record)
    data = record.model_dump(mode="json")
    incident_id = store.incident_id_for(data, unit.code)
    rules = rule_set_for(record.discovered_at)
    created = store.save_incident(incident_id, data, unit.code, grading.model_dump(mode="json"), rules.version, actor,
                                  participants if record.drill else None)
    logger = get_run_logger()
    logger.info("%s 事件 %s：%s级（%s），%s", "登记" if created else "已登记", incident_id, grading.grade, grading.warning_zh, "；".join(grading.reasons))
    return {"incident_id": incident_id, "unit": unit.code, "unit_name": unit.name, "grading": grading.model_dump(mode="json"), "created": created}


def clock_rows(incident_id: str, record: dict[str, Any], grading: dict[str, Any], profile: Profile, now: dt.datetime) -> list[Obligation]:
    """Recompute the obligations at ``now`` from the record and what was fulfilled; store them."""
    rec = IncidentRecord.model_validate(record)
    result = compute_obligations(rec, Grading.model_validate(grading), profile, now, fulfilled=store.fulfilled_map(incident_id))
    rules_version = result[0].rules_version if result else ""
    return store.sync_obligations(incident_id, [o.model_dump(mode="json") for o in result], rules_version)


@task(name="计算监管时限")
def clock_task(incident_id: str, record: dict[str, Any], grading: dict[str, Any], profile: Profile) -> list[dict[str, Any]]:
    rows = clock_rows(incident_id, record, grading, profile, utcnow())
    publish_clock(incident_id, record, rows)
    return [obligation_row(r) for r in rows]


def obligation_row(row: Obligation) -> dict[str, Any]:
    return {"id": row.code, "title": row.title, "clause": row.clause, "owner": row.owner_role, "state": row.state,
            "due": row.due_at.astimezone(SHANGHAI).isoformat() if row.due_at else None,
            "due_label": (row.detail or {}).get("due_label"), "every": row.every}


def publish_clock(incident_id: str, record: dict[str, Any], rows: list[Obligation]) -> None:
    """The duty officer's view: every obligation as a line of a timeline, now marked."""
    now = utcnow()
    table = []
    for row in rows:
        remaining = time_left_zh(row.due_at, now) if row.due_at and row.state not in ("fulfilled",) else ""
        table.append({"状态": STATE_LABEL.get(row.state, row.state), "义务": row.title, "时限": (row.detail or {}).get("due_label") or "未起算",
                      "剩余": remaining, "依据": row.clause, "责任部门": row.owner_role, "编号": row.code})
    key = f"incident-{incident_id.lower()}-clock"
    create_table_artifact(table, key=key, description=f"事件 {incident_id} 的监管时限（北京时间 {now.astimezone(SHANGHAI):%Y-%m-%d %H:%M} 计算）")
    lines = [f"# {'【演练】' if record.get('drill') else ''}{incident_id} {record['title']}", "", f"**现在：{now.astimezone(SHANGHAI):%Y-%m-%d %H:%M}**", ""]
    shown_now = False
    for row in rows:
        if row.due_at and row.due_at > now and not shown_now:
            lines.append(f"- **—— 现在 {now.astimezone(SHANGHAI):%m-%d %H:%M} ——**")
            shown_now = True
        label = (row.detail or {}).get("due_label") or "未起算"
        lines.append(f"- {STATE_LABEL.get(row.state, row.state)} `{label}` {row.title}（{row.clause}，{row.owner_role}）")
    if not shown_now:
        lines.append(f"- **—— 现在 {now.astimezone(SHANGHAI):%m-%d %H:%M} ——**")
    create_markdown_artifact("\n".join(lines), key=f"incident-{incident_id.lower()}-timeline", description="事件时间线")


def response_roles(grading: dict[str, Any]) -> list[str]:
    """Who is told at declaration: the grading's ``alert_roles`` (rules/grading.yaml, CQ-PLAN
    第四篇二 and CUSTINFO 8.2: the lead, implementer and warning issuer, the on-call duty and the
    information-management department)."""
    return list(Grading.model_validate(grading).alert_roles)


@task(name="起草报告")
def drafts_task(incident_id: str, record: dict[str, Any], grading: dict[str, Any], profile: Profile, unit_name: str,
                obligation_ids: list[str]) -> list[dict[str, Any]]:
    ctx = drafts.context_for(incident_id, record, grading, profile, unit_name, drafts.opening_events(record))
    written = drafts.write_drafts(incident_id, drafts.drafts_due(obligation_ids, record), ctx)
    logger = get_run_logger()
    for item in written:
        if item["missing"]:
            logger.error("草稿 %s 无法生成，缺少：%s", item["kind"], "、".join(item["missing"]))
        elif item["pending"]:
            logger.warning("草稿 %s 待补充：%s", item["kind"], "、".join(item["pending"]))
    if written:
        create_table_artifact(
            [{"文书": i["kind"], "文件": i["path"] or "未生成", "待补充": "、".join(i["pending"]), "缺少": "、".join(i["missing"])} for i in written],
            key=f"incident-{incident_id.lower()}-drafts", description="事件报告草稿（待审核）",
        )
    return written
