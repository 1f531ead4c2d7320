"""Correct an incident's facts with a reason (the UI form; the CLI is ``regflows incident update`` / ``regrade``).

All three go through one domain function (regflows/incident/update.py): the revised record is
validated, graded again, stored with the timeline event and the ledger entry, the clock is
recomputed, the new level's roles are alerted (【更正】) when the grade or the owed obligations
change, and an obligation already overdue under the new facts is raised at once. The run logs
and publishes old vs new. A refused correction fails the run with the Chinese reason, no
traceback, nothing written.
"""

from __future__ import annotations

from typing import Annotated, Any

from prefect import flow
from pydantic import Field

from regflows.incident.update import IncidentFacts
from regflows.profile import load_profile, profile_path
from tasks.incident import update_task
from tasks.parameters import MASKING_HOOKS, person_field, person_id
from tasks.refusals import refused

#: Every fact "unchanged" (frozen, so one instance serves every run as the form's default).
UNCHANGED = IncidentFacts()


@flow(name="incident-update", **MASKING_HOOKS)
def incident_update(
    incident_id: Annotated[str, Field(title="事件编号", description="如 INC-20261126-0A1B2C；重复申报被拒绝时提示的编号。")],
    reason: Annotated[str, Field(title="更正理由", description="哪项事实有误、依据什么（必填，记入时间线与审计账本）。")],
    by: Annotated[str, person_field("更正人")],
    facts: Annotated[IncidentFacts, Field(title="要更正的事实", description="只填需要更正的项，其余保持「不变」或留空。")] = UNCHANGED,
) -> dict[str, Any]:
    """更正事件事实：重新定级、重算监管时限，级别或应履行义务变化时通知新级别的相关部门，已逾期的义务立即上报。

    Args:
        incident_id: 事件编号（必填），如 INC-20261126-0A1B2C；重复申报被拒绝时提示的编号
        reason: 更正理由（必填）：哪项事实有误、依据什么，记入时间线与审计账本
        by: 更正人（必填）：机构配置中的人员编号
        facts: 要更正的事实：只填需要更正的项，其余保持「不变」或留空
    """
    profile = load_profile(profile_path())
    result = update_task(profile, incident_id, facts, reason, person_id(by, profile))
    if "refused" in result:
        return refused(result["refused"])
    return result
