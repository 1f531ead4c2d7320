"""Waive an obligation a rule allows skipping, with the reason (the UI form; the CLI is ``regflows incident waive``).

Both go through the kit's one waiver (regflows/kit/obligations.py): refused unless the
obligation's rule carries ``waivable`` (the clause and the condition), refused without a reason
or from someone not in the profile; the ledger entry ``obligation.waived`` and the timeline event
"waived". A waiver stops the obligation's reminders and is never counted as a fulfilment.
"""

from __future__ import annotations

from typing import Annotated, Any

from prefect import flow
from pydantic import Field

from regflows.profile import load_profile, profile_path
from tasks.incident import waive_task
from tasks.parameters import MASKING_HOOKS, person_field, person_id


@flow(name="incident-waive", **MASKING_HOOKS)
def incident_waive(
    incident_id: Annotated[str, Field(title="事件编号", description="如 INC-20251001-0A1B2C（见告警通知或事件状态）。")],
    obligation: Annotated[str, Field(title="义务编号", description="见事件状态中标有可豁免（waivable）的义务。")],
    reason: Annotated[str, Field(title="豁免理由", description="为何符合规则允许豁免的情形（必填，记入时间线与审计账本）。")],
    by: Annotated[str, person_field("决定人")],
) -> dict[str, Any]:
    """豁免事件的一项义务（仅限规则文件写明 waivable 的义务），须写明理由。

    Args:
        incident_id: 事件编号，如 INC-20251001-0A1B2C
        obligation: 义务编号（见事件状态中标有 waivable 的义务）
        reason: 豁免理由：为何符合规则允许豁免的情形（必填，记入时间线与审计账本）
        by: 决定人（机构配置中的人员编号）
    """
    profile = load_profile(profile_path())
    people = sorted(profile.person_ids)  # who may answer for it (a list: a task parameter)
    person = person_id(by, profile)
    return waive_task(incident_id, obligation, reason, person, people)
