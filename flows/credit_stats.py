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
from typing import Annotated

from prefect import flow, get_run_logger
from pydantic import Field

from regflows import config
from regflows.credit.models import Period, previous_period
from regflows.profile import load_profile, profile_path
from tasks.credit_daily import month_agreement_task
from tasks.parameters import MASKING_HOOKS
from tasks.credit_stats import (events_task, owe_task, preparer_task, publish_task, quality_task, read_task,
                                request_review_task, rules_task, write_task)


@flow(name="credit-stats", log_prints=True, **MASKING_HOOKS)
def credit_stats(
    period: Annotated[str, Field(title="统计月份", description="YYYY-MM，如 2025-10；留空为上月。")] = "",
    unit: Annotated[str, Field(title="报送单位代码", description="只生成该报送单位的统计表；留空为该月应报的全部统计表。")] = "",
    preparer: Annotated[str, Field(title="填表人", description="人员编号；留空为机构配置的填表人（settings.credit_preparer）。")] = "",
    notify: Annotated[bool, Field(title="发送复核请求", description="生成草稿后通知复核人复核（关闭时由 credit-stats-watch 补发）。")] = True,
    logs: Annotated[str, Field(title="查询日志文件", description="服务器上的路径；留空为 $REGFLOWS_HOME/credit/query-log-YYYY-MM.parquet。")] = "",
    users: Annotated[str, Field(title="用户名单文件", description="服务器上的路径；留空为同目录 users.csv（存在时）。")] = "",
    out_dir: Annotated[str, Field(title="输出目录", description="服务器上的路径；留空为 $REGFLOWS_HOME/reports/credit-stats/YYYY-MM。")] = "",
) -> dict:
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
    people = preparer_task(profile, preparer or None, unit or None)  # before any work: a run without a 填表人 cannot be signed off

    inputs = read_task(log_path, users_path, profile.settings.credit_log_time_format)
    quality_task(inputs, p, profile, out)
    events = events_task(p, profile)
    outcome = rules_task(inputs, p, profile, events, unit or None)
    disagreements = month_agreement_task(p, outcome.rules.counts)  # the month agrees with its daily checks (二（四）)
    files = write_task(outcome, out, profile, people)
    publish_task(outcome, profile)
    keys = [t.key for t in outcome.tables]
    stages = request_review_task(profile, keys) if notify else {k: "review" for k in keys}
    if not notify:
        get_run_logger().info("未发送复核请求（notify=false）：可由 credit-stats-watch 补发")
    return {**outcome.summary, "files": files, "warnings": outcome.warnings + disagreements, "signoff": stages[keys[0]], "signoffs": stages}
