"""Record that an obligation was met, with its evidence (the UI form; the CLI is ``regflows incident fulfil``).

Both go through the kit's one fulfil (regflows/kit/obligations.py): the same evidence standard,
the file checked and its SHA-256 recorded, the ledger entry, the timeline event. A form cannot
upload a file, so it names the path that ``POST /uploads`` of the regflows endpoint answered
with, or a file in the server's evidence folder: nothing else on the server (regflows/kit/evidence.py). Fulfilment stops the obligation's reminders. A recurring
obligation (grade I progress reports every 2 hours) records each report and stays open. The
flow is one task (tasks/incident.py: ``fulfil_task``).
"""

from __future__ import annotations

from typing import Annotated, Any

from prefect import flow
from pydantic import Field

from regflows.incident.clock import obligation_choices
from regflows.profile import load_profile, profile_path
from tasks.incident import fulfil_task
from tasks.parameters import MASKING_HOOKS, person_field, person_id
from tasks.refusals import refused

#: The form's choices: every obligation of the rule files, by its Chinese title.
OBLIGATIONS = obligation_choices(waivable_only=False)


@flow(name="incident-fulfil", **MASKING_HOOKS)
def incident_fulfil(
    incident_id: Annotated[str, Field(title="事件编号", description="如 INC-20251001-0A1B2C（见告警通知或事件状态）。")],
    obligation: Annotated[str, Field(title="义务", description="事件状态与提醒通知中的义务（括号内为义务编号）。",
                                     json_schema_extra={"enum": list(OBLIGATIONS.values())})],
    evidence: Annotated[str, Field(title="证据说明", description="做了什么、发给谁、以何种方式（必填；身份证号、电话号码会被自动打码）。")],
    by: Annotated[str, person_field("履行人")],
    reference: Annotated[str, Field(title="文号或回执编号", description="可留空。")] = "",
    file: Annotated[str, Field(title="证据文件", description="可留空；经 regflows 端点 POST /uploads 上传后返回的路径，或服务器"
                               "证据目录（REGFLOWS_EVIDENCE_DIR）下的文件路径，其他路径一律拒绝；登记时记录其 SHA-256 与大小。")] = "",
) -> dict[str, Any]:
    """登记事件义务已履行（附证据：发送内容与对象、文件或文号）。

    Args:
        incident_id: 事件编号，如 INC-20251001-0A1B2C
        obligation: 义务：中文名称（括号内为义务编号），如 向监管提交正式书面报告（regulator_written_report）；也可只填编号
        evidence: 证据说明：做了什么、发给谁、以何种方式（必填）
        by: 履行人（人员编号）
        reference: 文号或回执编号（可选）
        file: 证据文件（可选）：经 regflows 端点 POST /uploads 上传后返回的路径，或服务器证据目录
            （REGFLOWS_EVIDENCE_DIR）下的文件路径；登记时记录其 SHA-256 与大小
    """
    profile = load_profile(profile_path())
    people = sorted(profile.person_ids)  # who may answer for it (a list: a task parameter)
    person = person_id(by, profile)
    done = fulfil_task(incident_id, obligation, evidence, person, people, reference.strip() or None, file.strip() or None)
    return refused(done["refused"]) if "refused" in done else done
