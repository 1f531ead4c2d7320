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
from regflows.credit.models import CreditInputError, Period, previous_period
from regflows.profile import load_profile, profile_path
from tasks.credit_daily import month_agreement_task
from tasks.parameters import MASKING_HOOKS, person_id
from tasks.refusals import refused
from tasks.credit_stats import (events_task, owe_task, preparer_task, publish_task, quality_task, read_task,
                                request_review_task, rules_task, write_task)

#: The form's defaults, each a choice of its own (a form's choice cannot be empty): every table
#: the month owes, and each table's 填表人 as the profile sets it.
ALL_UNITS, PROFILE_PREPARER = "全部报送单位", "机构配置的填表人"


@flow(name="credit-stats", log_prints=True, **MASKING_HOOKS)
def credit_stats(
    period: Annotated[str, Field(title="统计月份", description="YYYY-MM，如 2025-10；留空为上月。")] = "",
    unit: Annotated[str, Field(title="报送单位", description="只生成该报送单位的统计表；「全部报送单位」为该月应报的全部统计表。",
                               json_schema_extra={"x-regflows-choices": "units", "x-regflows-extra-choices": [ALL_UNITS]})] = ALL_UNITS,
    preparer: Annotated[str, Field(title="填表人", description="机构配置中的人员；「机构配置的填表人」为 settings.credit_preparer"
                                   "（单独报送的单位可另行配置）。",
                                   json_schema_extra={"x-regflows-choices": "people", "x-regflows-extra-choices": [PROFILE_PREPARER]})
                        ] = PROFILE_PREPARER,
    notify: Annotated[bool, Field(title="发送复核请求", description="生成草稿后通知复核人复核（关闭时由 credit-stats-watch 补发）。")] = True,
    logs: Annotated[str, Field(title="查询日志文件", description="服务器上的路径；留空为 $REGFLOWS_HOME/credit/query-log-YYYY-MM.parquet。")] = "",
    users: Annotated[str, Field(title="用户名单文件", description="服务器上的路径；留空为同目录 users.csv（存在时）。")] = "",
    out_dir: Annotated[str, Field(title="输出目录", description="服务器上的路径；留空为 $REGFLOWS_HOME/reports/credit-stats/YYYY-MM。")] = "",
) -> dict:
    """征信信息安全情况统计表：period 为 YYYY-MM（默认上月）；logs 默认 $REGFLOWS_HOME/credit/query-log-YYYY-MM.parquet；
    users 默认同目录 users.csv（存在时）；输出到 $REGFLOWS_HOME/reports/credit-stats/YYYY-MM；
    preparer 为填表人（机构配置中的人员，默认机构配置 settings.credit_preparer；单独报送单位可另行配置）；unit 只生成该报送单位的
    统计表（默认该月应报的全部统计表：总行一张，单独报送的分支机构各一张）。生成草稿后请复核人复核、签发人签发。"""
    profile = load_profile(profile_path())
    try:
        p = Period.parse(period.strip()) if period.strip() else previous_period()
    except CreditInputError as exc:
        return refused(f"统计表未生成：{exc}")
    base = config.home() / "credit"
    log_path = Path(logs) if logs else base / f"query-log-{p.label}.parquet"
    users_path = Path(users) if users else (base / "users.csv" if (base / "users.csv").exists() else None)
    out = Path(out_dir) if out_dir else config.home() / "reports" / "credit-stats" / p.label

    owe_task(profile, p)  # the month's reports are owed whatever happens below (PBOC-102 三（二）)
    # Before any work: a run without a 填表人 cannot be signed off.
    person = person_id(preparer, profile) if preparer.strip() not in ("", PROFILE_PREPARER) else None
    chosen = preparer_task(profile, person, unit if unit.strip() not in ("", ALL_UNITS) else None)
    if "refused" in chosen:
        return refused(chosen["refused"])
    people, unit = chosen["people"], chosen["unit"]

    inputs = read_task(log_path, users_path, profile.settings.credit_log_time_format, profile.settings.credit_partition_rows)
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
