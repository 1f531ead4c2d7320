"""The quarterly self-inspection (PBOC-102 三（三）; NFRA 23): on the first working day after each
quarter (prefect.yaml: ``self-inspection``), and from the UI for any ended quarter.

Reads the quarter's query logs (and the months before it back to the checks' history), the users
file and the vulnerability register from ``$REGFLOWS_HOME`` unless paths are given, runs the
checks, flags and samples the leads, writes the worklist, the sample manifest, the findings, the
report draft and summary.json, and publishes the summary artifact. Thin: tasks only.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

from pydantic import Field
from prefect import flow

from calendars.zone import SHANGHAI
from regflows import config
from regflows.inspection.models import InspectionInputError, Quarter
from regflows.inspection.pipeline import previous_quarter
from regflows.profile import load_profile, profile_path
from tasks.refusals import refused
from tasks.inspection import (
    progress_task, rectification_reminders_task, register_findings_task, run_task, signoff_task, summary_artifact_task,
)


def _default_logs(quarter: Quarter, months: int) -> list[Path]:
    """``$REGFLOWS_HOME/credit/query-log-YYYY-MM.parquet`` of the ``months`` months up to the quarter's end, those present."""
    base, first = config.home() / "credit", quarter.months_back(months)
    out, year, month = [], first.year, first.month
    while (year, month) <= (quarter.last_day.year, quarter.last_day.month):
        path = base / f"query-log-{year:04d}-{month:02d}.parquet"
        if path.exists():
            out.append(path)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


@flow(name="self-inspection", log_prints=True)
def self_inspection(
    quarter: Annotated[str, Field(title="自查季度", description="YYYYQn，如 2025Q3；留空为上一季度。")] = "",
    logs: Annotated[str, Field(title="查询日志文件", description="服务器上的路径，多个以换行或逗号分隔；留空为 $REGFLOWS_HOME/credit/ 下该季度及之前月份（用户检查的历史）的 query-log-YYYY-MM.parquet。")] = "",
    users: Annotated[str, Field(title="用户清单文件", description="服务器上的路径；留空为 $REGFLOWS_HOME/credit/users.csv。")] = "",
    vulns: Annotated[str, Field(title="漏洞台账文件", description="服务器上的路径；留空为 $REGFLOWS_HOME/inspection/vulns.csv（存在时）。")] = "",
    seed: Annotated[str, Field(title="抽样随机种子", description="非负整数；留空则随机生成并记录在抽样清单中。")] = "",
    out_dir: Annotated[str, Field(title="输出目录", description="服务器上的路径；留空为 $REGFLOWS_HOME/reports/self-inspection/YYYYQn。")] = "",
) -> dict:
    """季度征信合规与信息安全自查自纠：检查用户、标记线索并抽样，写出核实清单、抽样清单、问题清单、报告草稿与 summary.json。"""
    profile = load_profile(profile_path())
    try:
        q = Quarter.parse(quarter) if quarter else previous_quarter()
    except InspectionInputError as exc:
        return refused(f"「自查季度」：{exc}")
    if seed.strip() and not seed.strip().isdigit():
        return refused(f"「抽样随机种子」须为非负整数，实为 {seed!r}")
    paths = [Path(p.strip()) for p in logs.replace("\n", ",").split(",") if p.strip()] if logs \
        else _default_logs(q, profile.settings.inspection_distributed_months)
    users_path = Path(users) if users else config.home() / "credit" / "users.csv"
    default_vulns = config.home() / "inspection" / "vulns.csv"
    vulns_path = Path(vulns) if vulns else (default_vulns if default_vulns.exists() else None)
    out = Path(out_dir) if out_dir else config.home() / "reports" / "self-inspection" / q.label
    outcome = run_task(q, paths, users_path, out, profile, vulns_path, int(seed) if seed.strip() else None)
    if isinstance(outcome, dict):
        return refused(outcome["refused"])
    summary_artifact_task(outcome, profile)
    register_findings_task(profile, [outcome.run_id])
    return {**outcome.summary, "run_id": outcome.run_id, "files": {k: str(p) for k, p in outcome.files.items()},
            "warnings": outcome.warnings}


@flow(name="self-inspection-watch", log_prints=True)
def self_inspection_watch(
    day: Annotated[str, Field(title="日期", description="YYYY-MM-DD（北京时间）；留空为今天。非工作日只发布进度，不提醒。")] = "",
) -> dict[str, dict[str, list[str]] | list[str]]:
    """每个工作日：发布各季度最新一次自查的线索核实进度，提醒尚未答复的负责人（每条未完成线索附个人核实页面链接）；
    推进已提交的自查报告复核与签发（过期链接重新发送，签发后定稿）；提醒整改与整改情况报告、季度自查报告的期限，逾期的上报合规部门与领导小组。"""
    profile = load_profile(profile_path())
    if day.strip():
        when = dt.date.fromisoformat(day.strip())
        now = dt.datetime.combine(when, dt.time(9, 30), SHANGHAI)  # as the schedule runs it
    else:
        now = dt.datetime.now(SHANGHAI)
        when = now.date()
    worklists = progress_task(profile, when)
    register_findings_task(profile)  # the answers of 违规/需整改 given on the pages since
    return {"worklists": worklists, "signoff": signoff_task(profile),
            "rectification": rectification_reminders_task(profile, now)}
