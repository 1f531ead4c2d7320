"""Waive an obligation a rule allows skipping, with the reason (the UI form; the CLI is ``regflows incident waive``).

Both go through the kit's one waiver (regflows/kit/obligations.py): refused unless the
obligation's rule carries ``waivable`` (the clause and the condition), refused without a reason
or from someone not in the profile; the ledger entry ``obligation.waived`` and the timeline event
"waived". A waiver stops the obligation's reminders and is never counted as a fulfilment.
"""

from __future__ import annotations

from typing import Any

from prefect import flow

from regflows.profile import load_profile, profile_path
from tasks.incident import waive_task


@flow(name="incident-waive")
def incident_waive(incident_id: str, obligation: str, reason: str, by: str) -> dict[str, Any]:
    """豁免事件的一项义务（仅限规则文件写明 waivable 的义务），须写明理由。

    Args:
        incident_id: 事件编号，如 INC-20251001-0A1B2C
        obligation: 义务编号（见事件状态中标有 waivable 的义务）
        reason: 豁免理由：为何符合规则允许豁免的情形（必填，记入时间线与审计账本）
        by: 决定人（机构配置中的人员编号）
    """
    people = sorted(load_profile(profile_path()).person_ids)  # who may answer for it (a list: a task parameter)
    return waive_task(incident_id, obligation, reason, by, people)
