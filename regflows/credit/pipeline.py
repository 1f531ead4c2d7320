"""The run end to end, in steps the Prefect tasks and the CLI share: read, check, count, write.

Nothing is written to the output folder before every check has passed except the failure
report itself (issue 7, check 1: "A failing check stops the run before anything is published").
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


from calendars.zone import SHANGHAI
from regflows.credit import partitions
from regflows.credit.events import EventRef, counts_of, credit_events
from regflows.credit.io import Table, read_log, read_users
from regflows.credit.models import COUNT_TITLES, Period, Thresholds, UnitRow
from regflows.credit.quality import QualityReport, check_log, check_users
from regflows.credit.rules import RuleResult, apply_rules
from regflows.credit.settings import thresholds as profile_thresholds
from regflows.credit.sheets import TableOutcome, annotate, assemble, overview, write_tables
from regflows.credit.summary import build_rows
from regflows.kit.documents import write_csv
from regflows.kit.files import write_atomically
from regflows.kit.publish import failed_folder, publishing, recover

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
    """The month's inputs: the log read whole (``log``), or, for a big month, its partitioning
    (``month``: read partition by partition during the checks, :mod:`regflows.credit.partitions`)."""

    log: Table | None
    users: Table | None
    month: partitions.Plan | None = None
    #: The partitioned run's outcome, set by :func:`check_inputs` (the checks and the rules share
    #: one pass over the partitions) and used by :func:`count`.
    month_result: partitions.MonthResult | None = None

    @property
    def rows(self) -> int:
        return self.month.rows if self.month is not None else len(self.log.frame) if self.log is not None else 0


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
    #: One table per unit that reports on its own and the head office's (regflows/credit/sheets.py).
    tables: list[TableOutcome] = field(default_factory=list)
    #: A run for one unit's table (``--unit``): its files are named for the unit, so that they
    #: never replace the whole month's summary.json and flagged list in the same folder.
    unit: str | None = None


def read_inputs(logs: Path, users: Path | None = None, time_format: str | None = None, *,
                partition_rows: int = 0) -> Inputs:
    """Both files; a Parquet log of more than ``partition_rows`` rows (setting
    ``credit_partition_rows``, 0: never) is only planned here and read partition by partition."""
    user_table = read_users(users) if users else None
    month = partitions.plan(Path(logs), partition_rows, time_format)
    if month is not None:
        return Inputs(None, user_table, month)
    return Inputs(read_log(logs, time_format), user_table)


def check_inputs(inputs: Inputs, period: Period, thresholds: Thresholds, out_dir: Path, *,
                 mapper: partitions.Mapper | None = None, progress: partitions.Progress | None = None) -> list[QualityReport]:
    """Run both suites; on any failure write the failing rows into ``out_dir/failed-<timestamp>/``
    (beside the last good set, never over it) and raise. A big month (``inputs.month``) is checked
    and counted partition by partition here (``mapper`` runs the partitions' steps, ``progress``
    hears them), its rules' result kept in ``inputs.month_result`` for :func:`count`."""
    users_report = [check_users(inputs.users.frame, thresholds, inputs.users.row_base)] if inputs.users is not None else []
    if inputs.month is not None:
        users_ok = all(r.success for r in users_report)
        users_frame = inputs.users.frame if inputs.users is not None else None
        result = partitions.run(inputs.month, period, thresholds, users_frame, count=users_ok, mapper=mapper,
                                progress=progress)
        reports = [result.report, *users_report]
    else:
        assert inputs.log is not None
        reports = [check_log(inputs.log.frame, period, thresholds, inputs.log.row_base), *users_report]
    failed = [r for r in reports if not r.success]
    if failed:
        # the failed run's own folder: the last good set in out_dir is left as it was (issue 13, 2)
        recover(out_dir)
        kept = failed_folder(out_dir)
        files: list[Path] = []
        for r in failed:
            stem = "log" if r.input_name == "查询日志" else "users"
            detail = kept / f"quality-failures-{stem}-{period.label}.csv"
            rows = kept / f"failing-rows-{stem}-{period.label}.csv"
            write_csv(r.failures, detail)
            write_csv(r.failing_rows, rows)
            files += [detail, rows]
        raise QualityFailure(reports, files)
    if inputs.month is not None:
        if result.error is not None:
            raise result.error
        inputs.month_result = result
    return reports


def count(inputs: Inputs, period: Period, profile: Any, events: dict[str, dict[str, int]] | list[EventRef],
          thresholds: Thresholds | None = None, unit: str | None = None) -> Outcome:
    """Apply the rules and gather the rows of the tables the month owes (or ``unit``'s), no files
    written. ``events`` are the incidents (:func:`regflows.credit.events.credit_events`), or bare
    counts per unit (no 备注 then)."""
    th = thresholds or profile_thresholds(profile.settings)
    users = inputs.users.frame if inputs.users is not None else None
    if inputs.month is not None:  # counted with the checks, partition by partition
        if inputs.month_result is None or inputs.month_result.rules is None:
            raise RuntimeError("分区读取的查询日志须先经 check_inputs 检查，才能统计")
        kept = inputs.month_result.rules
        result = dataclasses.replace(kept, flagged=kept.flagged.copy(), warnings=list(kept.warnings))
        row_base = 1  # a Parquet file's rows are numbered from 1 (regflows/credit/io.py)
    else:
        assert inputs.log is not None
        result = apply_rules(inputs.log.frame, period, th, users)
        row_base = inputs.log.row_base
    result.flagged["row"] = result.flagged["row"] + row_base  # the line a person sees
    query_counts = result.counts
    refs = events if isinstance(events, list) else []
    event_counts = counts_of(refs) if isinstance(events, list) else events
    rows, warnings = build_rows(profile.reporting_units, query_counts, event_counts, result.regions)
    annotate(rows, result.flagged, refs)
    tables = assemble(period, profile, rows, refs, unit)
    first = tables[0]
    return Outcome(period=period, due=first.due, due_basis=first.due_basis, rows=[r for t in tables for r in t.rows],
                   rules=result, warnings=result.warnings + warnings, summary=overview(period, tables), tables=tables,
                   unit=unit)


def write_outputs(outcome: Outcome, out_dir: Path, profile: Any, *, preparer: str = "",
                  prepared_on: dt.date | None = None, preparers: dict[str, str] | None = None) -> dict[str, Path]:
    """Each table's .xlsx (attachment 2, a draft until reviewed and signed: regflows/credit/signoff.py)
    and figures, summary.json and the flagged-queries file (``summary-<unit>.json`` and
    ``flagged-queries-YYYY-MM-<unit>.csv`` for a one-unit run); ``files`` are the first table's
    (``xlsx``, ``summary``: its figures) with ``flagged`` and ``overview`` (summary.json)."""
    label = outcome.period.label
    # One set or none (issue 13, 2): written into a staging folder, published together; a write
    # that fails or is killed leaves the last good set and keeps its files in failed-<timestamp>/.
    with publishing(out_dir) as stage:
        write_tables(outcome.tables, outcome.period, stage.path, preparer=preparer, prepared_on=prepared_on,
                     preparers=preparers)
        suffix = f"-{outcome.unit}" if outcome.unit else ""
        flagged = stage.path / f"flagged-queries-{label}{suffix}.csv"
        frame = outcome.rules.flagged.copy()
        if outcome.unit:  # only the queries behind this run's table
            mine = {r.institution for r in outcome.rows}
            frame = frame[frame["institution"].isin(mine)]
        frame["count"] = frame["count"].map(COUNT_TITLES)
        write_csv(frame.rename(columns=FLAGGED_HEADERS), flagged)
        summary = stage.path / f"summary{suffix}.json"
        write_atomically(summary, (json.dumps(outcome.summary, ensure_ascii=False, indent=2) + "\n").encode())
    for kept in stage.recovered:  # never silent: an earlier run was cut off while writing
        outcome.warnings.append(f"此前一次运行在写出文件时中断，其未发布的文件已保存在 {kept}")
    for table in outcome.tables:
        table.files = {key: stage.final(path) for key, path in table.files.items()}
    outcome.files = {**outcome.tables[0].files, "flagged": stage.final(flagged), "overview": stage.final(summary)}
    return outcome.files


#: The steps of :func:`run`, as a person watching a long run sees them.
STEPS = ("读取查询日志", "数据质量检查", "统计事件", "适用规则并汇总", "写出统计表")


def run(logs: Path, period: Period, profile: Any, out_dir: Path, *, users: Path | None = None,
        events: dict[str, dict[str, int]] | list[EventRef] | None = None, database_url: str | None = None,
        preparer: str = "", on_step: Callable[[str], None] | None = None, unit: str | None = None,
        preparers: dict[str, str] | None = None, progress: partitions.Progress | None = None) -> Outcome:
    """Read, check, count and write the draft; ``events`` defaults to the store's incidents of the
    period; ``preparer`` is the 填表人's name (``preparers``: by unit code, where a unit has its own); ``on_step`` hears each of :data:`STEPS` as it starts."""
    step = on_step or (lambda _name: None)
    th = profile_thresholds(profile.settings)
    step(STEPS[0])
    inputs = read_inputs(logs, users, profile.settings.credit_log_time_format,
                         partition_rows=profile.settings.credit_partition_rows)
    step(STEPS[1])
    with partitions.process_mapper(profile.settings.credit_partition_workers if inputs.month is not None else 1) as mapper:
        check_inputs(inputs, period, th, out_dir, mapper=mapper, progress=progress)
    step(STEPS[2])
    if events is None:
        events = credit_events(period, profile, database_url)
    step(STEPS[3])
    outcome = count(inputs, period, profile, events, th, unit)
    step(STEPS[4])
    write_outputs(outcome, out_dir, profile, preparer=preparer, prepared_on=dt.datetime.now(SHANGHAI).date(),
                  preparers=preparers)
    return outcome
