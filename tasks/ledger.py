"""Tasks around the audit ledger: verify the chain, anchor its head outside the database."""

from __future__ import annotations

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact

from regflows import ledger


@task(name="verify-ledger 校验审计账本")
def verify_task() -> ledger.Verification:
    result = ledger.verify()
    create_markdown_artifact(
        "# 审计账本校验\n\n" + result.summary().replace("\n", "\n\n"), key="audit-verify", description="审计账本哈希链校验"
    )
    if not result.ok:
        raise ledger.LedgerBroken(result)
    get_run_logger().info(result.summary())
    return result


@task(name="anchor-ledger 锚定账本链头")
def anchor_task() -> ledger.Anchor:
    anchor = ledger.write_anchor()
    get_run_logger().info("已锚定：%s 条，链头 %s，文件 %s", anchor.count, anchor.head_hash, ledger.anchor_path())
    return anchor
