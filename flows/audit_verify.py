"""Morning integrity check of the audit ledger, every working day.

An inspector's first question about any evidence is whether it could have been changed. This
flow recomputes the whole hash chain and checks it against every anchor; a broken chain fails
the run, naming the first broken entry, so it shows red in the Prefect UI.
"""

from __future__ import annotations

from prefect import flow

from tasks.ledger import verify_task


@flow(name="audit-verify")
def audit_verify() -> dict:
    """校验审计账本哈希链与锚点。"""
    result = verify_task()
    return {"count": result.count, "head_hash": result.head_hash, "anchors": result.anchors_checked}
