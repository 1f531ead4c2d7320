"""Monthly credit-information security statistics (PBOC-102 III(2), attachment 2).

Runs by itself early on the 1st of each month for the previous month (prefect.yaml:
``credit-stats``; machines work on holidays), and from the UI for any period. Reads the query
log, checks it (nothing is published when a check fails), counts, writes the attachment 2 table,
records the files and the deadline, publishes a table artifact and a 12-month chart, and asks
the review role for the review. The draft becomes the final table only after a 复核人 and a
签发人, two people other than the 填表人, confirmed through their own signed links
(regflows/credit/signoff.py); ``credit-stats-watch`` keeps that going.

The flow only composes tasks (tasks/credit_stats.py) and turns its parameters into a period and
paths. The profile is read by a plain call, not a task: reading and validating one YAML file (~15 ms) is
cheap and changes nothing; a bad profile fails the run with its message.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger

from regflows import config
from regflows.credit.models import Period, previous_period
from regflows.profile import load_profile, profile_path
from tasks.credit_daily import month_agreement_task
from tasks.credit_stats import (events_task, owe_task, preparer_task, publish_task, quality_task, read_task,
                                request_review_task, rules_task, write_task)


@flow(name="credit-stats", log_prints=True)
def credit_stats(period: str | None = None, logs: str | None = None, users: str | None = None,
                 out_dir: str | None = None, preparer: str | None = None, notify: bool = True, unit: str | None = None) -> dict:
    """征信信息安全情况统计表：period 为 YYYY-MM（默认上月）；logs 默认 $REGFLOWS_HOME/credit/query-log-YYYY-MM.parquet；
    users 默认同目录 users.csv（存在时）；输出到 $REGFLOWS_HOME/reports/credit-stats/YYYY-MM；
    preparer 为填表人人员编号（默认机构配置 settings.credit_preparer；单独报送单位可另行配置）；unit 只生成该报送单位的统计表
    （默认该月应报的全部统计表：总行一张，单独报送的分支机构各一张）。生成草稿后请复核人复核、签发人签发。"""
    profile = load_profile(profile_path())
    p = Period.parse(period) if period else previous_period()
    base = config.home() / "credit"
    log_path = Path(logs) if logs else base / f"query-log-{p.label}.parquet"
    users_path = Path(users) if users else (base / "users.csv" if (base / "users.csv").exists() else None)
    out = Path(out_dir) if out_dir else config.home() / "reports" / "credit-stats" / p.label

    owe_task(profile, p)  # the month's reports are owed whatever happens below (PBOC-102 三（二）)
    people = preparer_task(profile, preparer, unit)  # before any work: a run without a 填表人 cannot be signed off

    inputs = read_task(log_path, users_path, profile.settings.credit_log_time_format)
    quality_task(inputs, p, profile, out)
    events = events_task(p, profile)
    outcome = rules_task(inputs, p, profile, events, unit)
    disagreements = month_agreement_task(p, outcome.rules.counts)  # the month agrees with its daily checks (二（四）)
    files = write_task(outcome, out, profile, people)
    publish_task(outcome, profile)
    keys = [t.key for t in outcome.tables]
    stages = request_review_task(profile, keys) if notify else {k: "review" for k in keys}
    if not notify:
        get_run_logger().info("未发送复核请求（notify=false）：可由 credit-stats-watch 补发")
    return {**outcome.summary, "files": files, "warnings": outcome.warnings + disagreements, "signoff": stages[keys[0]], "signoffs": stages}
