"""The run end to end, in steps the Prefect tasks and the CLI share: read, check, count, write.

Nothing is written to the output folder before every check has passed except the failure
report itself (issue 7, check 1: "A failing check stops the run before anything is published").
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


from calendars.zone import SHANGHAI
from regflows.credit.events import count_events
from regflows.credit.io import Table, read_log, read_users
from regflows.credit.models import COUNT_TITLES, Period, Thresholds, UnitRow
from regflows.credit.quality import QualityReport, check_log, check_users
from regflows.credit.rules import RuleResult, apply_rules
from regflows.credit.settings import thresholds as profile_thresholds
from regflows.credit.summary import build_rows, due_date, summary_json
from regflows.credit.table import write_table
from regflows.kit.documents import write_csv

FLAGGED_HEADERS = {
    "row": "行号", "query_id": "查询编号", "queried_at": "查询时间", "institution": "机构代码", "user_id": "用户",
    "subject_id": "查询主体（已脱敏）", "count": "统计项", "rule": "规则", "rules": "命中的全部规则", "rule_text": "说明（条款）",
}


class QualityFailure(RuntimeError):
    """A data-quality check failed: the reports and the files of failing rows, nothing published."""

    def __init__(self, reports: list[QualityReport], files: list[Path]) -> None:
        self.reports = reports
        self.files = files
        lines = [r.message() for r in reports if not r.success]
        super().__init__("\n".join(lines + [f"问题明细：{f}" for f in files]))


@dataclass
class Inputs:
    log: Table
    users: Table | None


@dataclass
class Outcome:
    """What a successful run produced."""

    period: Period
    due: dt.date
    due_basis: str
    rows: list[UnitRow]
    rules: RuleResult
    warnings: list[str]
    summary: dict[str, Any]
    files: dict[str, Path] = field(default_factory=dict)


def read_inputs(logs: Path, users: Path | None = None, time_format: str | None = None) -> Inputs:
    return Inputs(read_log(logs, time_format), read_users(users) if users else None)


def check_inputs(inputs: Inputs, period: Period, thresholds: Thresholds, out_dir: Path) -> list[QualityReport]:
    """Run both suites; on any failure write the failing rows next to where the report would go and raise."""
    reports = [check_log(inputs.log.frame, period, thresholds, inputs.log.row_base)]
    if inputs.users is not None:
        reports.append(check_users(inputs.users.frame, thresholds, inputs.users.row_base))
    failed = [r for r in reports if not r.success]
    if failed:
        out_dir.mkdir(parents=True, exist_ok=True)
        files: list[Path] = []
        for r in failed:
            stem = "log" if r.input_name == "查询日志" else "users"
            detail = out_dir / f"quality-failures-{stem}-{period.label}.csv"
            rows = out_dir / f"failing-rows-{stem}-{period.label}.csv"
            write_csv(r.failures, detail)
            write_csv(r.failing_rows, rows)
            files += [detail, rows]
        raise QualityFailure(reports, files)
    return reports


def count(inputs: Inputs, period: Period, profile: Any, events: dict[str, dict[str, int]],
          thresholds: Thresholds | None = None) -> Outcome:
    """Apply the rules and gather the rows of the table (no files written)."""
    th = thresholds or profile_thresholds(profile.settings)
    users = inputs.users.frame if inputs.users is not None else None
    result = apply_rules(inputs.log.frame, period, th, users)
    result.flagged["row"] = result.flagged["row"] + inputs.log.row_base  # the line a person sees
    query_counts = result.counts
    rows, warnings = build_rows(profile.reporting_units, query_counts, events, result.regions)
    roll = profile.settings.deadline_roll_forward
    deadline = due_date(period, profile.institution.credit_access, roll)
    assert deadline.last_day is not None
    return Outcome(period=period, due=deadline.last_day, due_basis=deadline.basis, rows=rows, rules=result,
                   warnings=result.warnings + warnings, summary=summary_json(period, deadline.last_day, rows))


def write_outputs(outcome: Outcome, out_dir: Path, profile: Any, *, preparer: str = "", reviewer: str = "",
                  signer: str = "", prepared_on: dt.date | None = None) -> dict[str, Path]:
    """The .xlsx (attachment 2, a draft until reviewed and signed: regflows/credit/signoff.py),
    summary.json and the flagged-queries file."""
    out_dir.mkdir(parents=True, exist_ok=True)
    label = outcome.period.label
    xlsx = write_table(out_dir / f"credit-stats-{label}.xlsx", outcome.period, outcome.rows,
                       unit_name=profile.institution.name, preparer=preparer, reviewer=reviewer, signer=signer,
                       prepared_on=prepared_on, draft=not (reviewer and signer))
    flagged = out_dir / f"flagged-queries-{label}.csv"
    frame = outcome.rules.flagged.copy()
    frame["count"] = frame["count"].map(COUNT_TITLES)
    write_csv(frame.rename(columns=FLAGGED_HEADERS), flagged)
    summary = out_dir / "summary.json"
    summary.write_text(json.dumps(outcome.summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    outcome.files = {"xlsx": xlsx, "summary": summary, "flagged": flagged}
    return outcome.files


#: The steps of :func:`run`, as a person watching a long run sees them.
STEPS = ("读取查询日志", "数据质量检查", "统计事件", "适用规则并汇总", "写出统计表")


def run(logs: Path, period: Period, profile: Any, out_dir: Path, *, users: Path | None = None,
        events: dict[str, dict[str, int]] | None = None, database_url: str | None = None, preparer: str = "",
        on_step: Callable[[str], None] | None = None) -> Outcome:
    """Read, check, count and write the draft; ``events`` defaults to the store's incidents of the
    period; ``preparer`` is the 填表人's name; ``on_step`` hears each of :data:`STEPS` as it starts."""
    step = on_step or (lambda _name: None)
    th = profile_thresholds(profile.settings)
    step(STEPS[0])
    inputs = read_inputs(logs, users, profile.settings.credit_log_time_format)
    step(STEPS[1])
    check_inputs(inputs, period, th, out_dir)
    step(STEPS[2])
    if events is None:
        events = count_events(period, database_url)
    step(STEPS[3])
    outcome = count(inputs, period, profile, events, th)
    step(STEPS[4])
    write_outputs(outcome, out_dir, profile, preparer=preparer, prepared_on=dt.datetime.now(SHANGHAI).date())
    return outcome
