"""Daily anchor of the audit ledger.

The hash chain proves no entry was altered, but not that the last entries were not deleted or the
whole chain recomputed by someone with database access. Once a day this flow verifies the chain,
writes its head (count and hash) to the anchor file outside the database and sends it to the
compliance role, whose copy an attacker on the database cannot reach. Both steps are tasks
(tasks/ledger.py, tasks/notices.py). The profile is read by a plain call, not a task: reading and
validating one YAML file (~15 ms) is cheap and changes nothing; a bad profile fails the run with its
message.
"""

from __future__ import annotations

from prefect import flow

from regflows.profile import load_profile, profile_path
from tasks.ledger import anchor_task
from tasks.notices import send_notice_task


@flow(name="audit-anchor")
def audit_anchor() -> dict:
    """校验审计账本并将链头锚定到数据库之外，通知合规部门。"""
    profile = load_profile(profile_path())
    anchor = anchor_task()
    context = {"count": anchor.count, "head_hash": anchor.head_hash, "at": anchor.at, "institution": profile.institution.name}
    send_notice_task(profile, "ledger_anchor", context, ["compliance"], notice_id=f"ledger-anchor:{anchor.count}:{anchor.head_hash[:16]}")
    return {"count": anchor.count, "head_hash": anchor.head_hash, "at": anchor.at}
