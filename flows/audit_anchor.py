"""Daily anchor of the audit ledger.

The hash chain proves no entry was altered, but not that the last entries were not deleted or
the whole chain recomputed by someone with database access. Once a day this flow verifies the
chain, writes its head (count and hash) to the anchor file outside the database and sends it to
the compliance role, whose copy an attacker on the database cannot reach.
"""

from __future__ import annotations

from prefect import flow, get_run_logger

from notices.role_outbox import tell_role
from regflows.profile import load_profile, profile_path
from tasks.ledger import anchor_task


@flow(name="audit-anchor")
def audit_anchor() -> dict:
    """校验审计账本并将链头锚定到数据库之外，通知合规部门。"""
    profile = load_profile(profile_path())
    anchor = anchor_task()
    body = f"审计账本链头：共 {anchor.count} 条，哈希 {anchor.head_hash}，时间 {anchor.at}。请留存本通知以备核对。"
    result = tell_role(profile, "compliance", "【审计账本锚点】每日链头", body)
    if result.not_reached:
        get_run_logger().warning("锚点仅写入本地 outbox，未经真实渠道送达：%s", ", ".join(result.not_reached))
    return {"count": anchor.count, "head_hash": anchor.head_hash, "at": anchor.at}
