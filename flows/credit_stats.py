"""Monthly credit-information security statistics (PBOC-102 III(2), attachment 2).

Runs by itself early on the 1st of each month for the previous month (prefect.yaml:
``credit-stats``; machines work on holidays), and from the UI for any period. Reads the query
log, checks it (nothing is published when a check fails), counts, writes the attachment 2 table,
records the files and the deadline, publishes a table artifact and a 12-month chart, and tells
the compliance role the report is ready and when it is due.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger

from regflows import config
from regflows.credit.models import Period
from regflows.profile import load_profile, profile_path
from tasks.credit_stats import events_task, previous_period, publish_task, quality_task, read_task, rules_task, write_task
from tasks.notices import send_notice_task


@flow(name="credit-stats", log_prints=True)
def credit_stats(period: str | None = None, logs: str | None = None, users: str | None = None,
                 out_dir: str | None = None, preparer: str | None = None, notify: bool = True) -> dict:
    """征信信息安全情况统计表：period 为 YYYY-MM（默认上月）；logs 默认 $REGFLOWS_HOME/credit/query-log-YYYY-MM.parquet；
    users 默认同目录 users.csv（存在时）；输出到 $REGFLOWS_HOME/reports/credit-stats/YYYY-MM。"""
    profile = load_profile(profile_path())
    p = Period.parse(period) if period else previous_period()
    base = config.home() / "credit"
    log_path = Path(logs) if logs else base / f"query-log-{p.label}.parquet"
    users_path = Path(users) if users else (base / "users.csv" if (base / "users.csv").exists() else None)
    out = Path(out_dir) if out_dir else config.home() / "reports" / "credit-stats" / p.label

    inputs = read_task(log_path, users_path)
    quality_task(inputs, p, profile, out)
    events = events_task(p)
    outcome = rules_task(inputs, p, profile, events)
    files = write_task(outcome, out, profile, preparer)
    publish_task(outcome)
    if notify:
        deadline_label = f"{outcome.due.isoformat()} 24:00"
        context = {"state": "due_soon", "obligation": f"报送征信信息安全情况统计表（{p.year}年{p.month}月），已生成待复核签发",
                   "clause": "PBOC-102 三（二）、附件2", "due_label": deadline_label, "subject_ref": f"credit-stats:{p.label}",
                   "basis": outcome.due_basis, "institution": profile.institution.name}
        send_notice_task(profile, "deadline_reminder", context, ["compliance"], notice_id=f"credit-stats:{p.label}:prepared")
    else:
        get_run_logger().info("未发送通知（notify=false）")
    return {**outcome.summary, "files": files, "warnings": outcome.warnings}
