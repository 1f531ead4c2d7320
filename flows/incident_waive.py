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

from regflows.incident.clock import obligation_choices
from regflows.profile import load_profile, profile_path
from tasks.incident import waive_task
from tasks.parameters import MASKING_HOOKS, person_field, person_id
from tasks.refusals import refused

#: The form's choices: the obligations of the rule files that a rule allows waiving, by their Chinese titles.
OBLIGATIONS = obligation_choices(waivable_only=True)


@flow(name="incident-waive", **MASKING_HOOKS)
def incident_waive(
    incident_id: Annotated[str, Field(title="事件编号", description="如 INC-20251001-0A1B2C（见告警通知或事件状态）。")],
    obligation: Annotated[str, Field(title="义务", description="规则文件允许豁免（waivable）的义务（括号内为义务编号）；事件状态中标有可豁免。",
                                     json_schema_extra={"enum": list(OBLIGATIONS.values())})],
    reason: Annotated[str, Field(title="豁免理由", description="为何符合规则允许豁免的情形（必填，记入时间线与审计账本）。")],
    by: Annotated[str, person_field("决定人")],
) -> dict[str, Any]:
    """豁免事件的一项义务（仅限规则文件写明 waivable 的义务），须写明理由。

    Args:
        incident_id: 事件编号，如 INC-20251001-0A1B2C
        obligation: 义务：规则允许豁免的义务的中文名称（括号内为义务编号）；也可只填编号
        reason: 豁免理由：为何符合规则允许豁免的情形（必填，记入时间线与审计账本）
        by: 决定人（机构配置中的人员编号）
    """
    profile = load_profile(profile_path())
    people = sorted(profile.person_ids)  # who may answer for it (a list: a task parameter)
    person = person_id(by, profile)
    done = waive_task(incident_id, obligation, reason, person, people)
    return refused(done["refused"]) if "refused" in done else done
