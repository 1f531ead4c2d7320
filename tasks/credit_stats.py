"""Prefect tasks of the monthly credit statistics: read, check, count, write, record, publish.

Thin wrappers around :mod:`regflows.credit`: retries, logs and artifacts live here, rules do not.
Tasks that take the log frame use ``cache_policy=NONE``: hashing millions of rows for a cache
key would cost more than the work.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NONE

from calendars.zone import SHANGHAI
from notices.templates import ref_label
from regflows.credit.chart import history_markdown
from regflows.credit.deadline import remind as deadline_remind
from regflows.credit.events import EventRef, credit_events
from regflows.credit.models import COUNT_TITLES, COUNTS, CreditInputError, Period
from regflows.credit.pipeline import Inputs, Outcome, QualityFailure, check_inputs, count, read_inputs, write_outputs
from regflows.credit.settings import thresholds
from regflows.credit.late import owe_corrections
from regflows.credit.links import run_links
from regflows.credit.owed import owe_last_month, owe_month
from regflows.credit.signoff import SignoffError, advance, open_labels, preparers, record_run, signoff_rows
from regflows.credit.units import tables, table_for
from regflows.kit.documents import markdown_text
from regflows.kit.forms import FormError, choice_code
from regflows.profile import Profile
from regflows.store.db import migrate
from regflows.store.reports import latest_paths
from tasks.credit_partitions import dask_mapper
from tasks.notices import notices_published, sms_rate_limiter

PROCEDURE = "credit-stats"
ARTIFACT_ROWS = 500  # a failure table artifact shows this many rows; the CSV next to it has them all


@task(name="owe-tables 登记本月应报统计表", retries=2, retry_delay_seconds=10)
def owe_task(profile: Profile, period: Period) -> list[str]:
    """Each table the month owes is an obligation from the 1st, before anything can fail
    (PBOC-102 三（二）, zero-report rule): a run that stops later leaves it reminded and raised."""
    migrate()
    return owe_month(profile, period)


@task(name="choose-preparers 确定填表人")
def preparer_task(profile: Profile, preparer: str | None, unit: str | None = None) -> dict[str, Any]:
    """``{"people": unit code → 填表人, "unit": code or ""}`` of each table, before any work: a run
    without a 填表人 cannot be signed off. ``unit`` is the form's choice (``成都分行（YX0101）``) or
    a code. ``{"refused": message}`` for a unit not in the profile or filing no table of its own,
    or a 填表人 not in the profile (the flow fails with it, no traceback: tasks/refusals.py). Not
    retried: the answer depends on the profile and the parameters only."""
    try:
        code = choice_code(unit, profile.unit_choices(), "报送单位") if unit else ""
        return {"people": preparers(profile, [table_for(profile, code)] if code else tables(profile), preparer), "unit": code}
    except (CreditInputError, FormError, SignoffError) as exc:
        message = f"统计表未生成：{exc}"
        get_run_logger().error("%s", message)
        return {"refused": message}


@task(name="read-query-logs 读取查询日志", cache_policy=NONE)
def read_task(logs: Path, users: Path | None, time_format: str | None = None, partition_rows: int = 0) -> Inputs:
    """Both files; a Parquet log of more than ``partition_rows`` rows is only planned here, and
    read partition by partition by the quality task (regflows/credit/partitions.py)."""
    inputs = read_inputs(logs, users, time_format, partition_rows=partition_rows)
    if inputs.month is not None:
        get_run_logger().info("查询日志 %s：%d 行，分 %d 个分区处理（每区不超过约 %d 行）", logs, inputs.rows,
                              len(inputs.month.slices), partition_rows)
    else:
        get_run_logger().info("查询日志 %s：%d 行", logs, inputs.rows)
    return inputs


@task(name="check-quality 数据质量检查（great-expectations）", cache_policy=NONE)
def quality_task(inputs: Inputs, period: Period, profile: Profile, out_dir: Path) -> list[str]:
    """Both suites; on failure a table artifact of the failing rows (masked) and the CSV paths.
    A big month is checked and counted here, partition by partition, over a Dask cluster
    (tasks/credit_partitions.py): each partition's step a task run of its own."""
    try:
        if inputs.month is not None:
            with dask_mapper(profile.settings) as mapper:
                reports = check_inputs(inputs, period, thresholds(profile.settings), out_dir, mapper=mapper)
        else:
            reports = check_inputs(inputs, period, thresholds(profile.settings), out_dir)
    except QualityFailure as failure:
        for report in failure.reports:
            if report.success:
                continue
            rows = report.failures.head(ARTIFACT_ROWS).astype(str).to_dict(orient="records")
            create_table_artifact(rows, key=f"credit-stats-quality-{'log' if report.input_name == '查询日志' else 'users'}",
                                  description=f"{report.message()}；完整清单见 " + "、".join(str(f) for f in failure.files))
        get_run_logger().error("%s", failure)
        raise
    return [r.message() for r in reports]


@task(name="count-credit-events 统计征信事件（事件库）", retries=2, retry_delay_seconds=10)
def events_task(period: Period, profile: Profile) -> list[EventRef]:
    return credit_events(period, profile)


@task(name="apply-rules 适用规则并汇总", cache_policy=NONE)
def rules_task(inputs: Inputs, period: Period, profile: Profile, events: list[EventRef], unit: str | None = None) -> Outcome:
    outcome = count(inputs, period, profile, events, unit=unit)
    logger = get_run_logger()
    for w in outcome.warnings:
        logger.warning("%s", w)
    for t in outcome.tables:
        if t.calendar_missing:  # written all the same; the obligation is undated and raised (issue 13, 10)
            logger.error("%s（%s）的报送截止日无法确定：%s", t.table.filer_name, t.unit, t.due_basis)
    return outcome


@task(name="write-drafts 写出统计表（草稿）并登记", cache_policy=NONE)
def write_task(outcome: Outcome, out_dir: Path, profile: Profile, people: dict[str, str]) -> dict[str, str]:
    """Each table's draft .xlsx and figures, summary.json and the flagged file; each recorded in
    the store and the ledger with its SHA-256, each table's deadline as an obligation (PBOC-102
    三（二）), and a new review-and-sign-off revision of each table prepared by its 填表人
    (``people``: unit code → person id; regflows/credit/signoff.py)."""
    names = {unit: profile.person(person).name for unit, person in people.items()}
    files = write_outputs(outcome, out_dir, profile, prepared_on=dt.datetime.now(SHANGHAI).date(), preparers=names)
    migrate()
    logger = get_run_logger()
    for w in record_run(profile, outcome, people):
        logger.warning("%s", w)
    return {k: str(v) for k, v in files.items()}


@task(name="request-review 请复核人复核", retries=1, retry_delay_seconds=30)
def request_review_task(profile: Profile, keys: list[str]) -> dict[str, str]:
    """Send each table's review request (signed personal links); returns the stage each is in."""
    stages: dict[str, str] = {}
    with notices_published():
        for key in keys:
            state = advance(profile, key, before_send=sms_rate_limiter(profile))
            get_run_logger().info("统计表 %s：%s（第 %d 版，填表人 %s）", key, state.stage_title, state.revision, state.preparer.name)
            stages[key] = state.stage
    return stages


def stored_summaries(periods: list[Period]) -> dict[str, dict[str, Any] | None]:
    """The latest recorded summary.json of each period (None when none was recorded or it is gone)."""
    out: dict[str, dict[str, Any] | None] = {p.label: None for p in periods}
    # summary.json is recorded as "overview" (every table's rows); months from before units as "summary"
    found = {**latest_paths(PROCEDURE, "summary", list(out)), **latest_paths(PROCEDURE, "overview", list(out))}
    for label, recorded in found.items():
        path = Path(recorded)
        if path.exists():
            out[label] = json.loads(path.read_text(encoding="utf-8"))
    return out


@task(name="publish-tables 发布统计表与趋势图", cache_policy=NONE)
def publish_task(outcome: Outcome, profile: Profile) -> None:
    rows = [{"报送单位": t.table.filer_name, "报送截止": t.due.isoformat(), "地区": r.region, "机构代码": r.institution,
             "机构名称": r.institution_name, **{COUNT_TITLES[c]: r.counts[c] for c in COUNTS}, "备注": r.remark}
            for t in outcome.tables for r in t.rows]
    dues = "；".join(f"{t.table.filer_name} {t.due.isoformat()}" for t in outcome.tables)
    create_table_artifact(rows, key="credit-stats-table",
                          description=f"征信信息安全情况统计表 {outcome.period.label}，报送截止：{dues}；文件下载见 credit-stats-files")
    publish_files(profile, outcome)
    periods = []
    p = outcome.period
    for _ in range(12):
        p = p.previous()
        periods.append(p)
    history = stored_summaries(periods)
    history[outcome.period.label] = outcome.summary
    create_markdown_artifact(history_markdown(outcome.period, history, outcome.warnings), key="credit-stats-trend",
                             description=f"{outcome.period.label} 与前 12 个月对比")


def publish_files(profile: Profile, outcome: Outcome) -> None:
    """The run's files (each table's draft and figures, summary.json, the flagged queries) as a
    Markdown artifact of signed download links (notices/files.py): people open the table they
    review from the UI, not from a server path (issue 14, 4)."""
    links = run_links(profile, outcome)
    hours = profile.settings.file_link_hours
    lines = [f"# 征信信息安全情况统计 {outcome.period.label}：文件", "",
             f"下载链接经签名，{hours:g} 小时内有效；服务器核对登记的 SHA-256 后才提供文件。", ""]
    lines += [f"- [{markdown_text(title)}]({link})" if link else f"- {markdown_text(title)}（未登记，不提供下载）" for title, link in links]
    create_markdown_artifact("\n".join(lines), key="credit-stats-files", description=f"{outcome.period.label} 统计表与数据文件（下载链接）")


@task(name="advance-signoff 推进复核与签发", retries=1, retry_delay_seconds=5)
def signoff_task(profile: Profile) -> list[str]:
    """Move each open month through review and sign-off (the endpoint's fallback); returns the
    months that cannot go on, each with the reason, and publishes the sign-off table."""
    logger = get_run_logger()
    limiter = sms_rate_limiter(profile)
    stuck: list[str] = []
    with notices_published():
        for label in open_labels():
            try:
                state = advance(profile, label, before_send=limiter)
                logger.info("统计表 %s：%s", label, state.stage_title)
            except SignoffError as exc:
                logger.error("%s", exc)
                stuck.append(str(exc))
    rows = signoff_rows()
    if rows:
        create_table_artifact(rows, key="credit-stats-signoff", description="征信信息安全情况统计表：填表、复核、签发与报送状态")
    return stuck


@task(name="remind-deadlines 提醒报送统计表", retries=1, retry_delay_seconds=5)
def deadline_reminders_task(profile: Profile) -> list[str]:
    """Working-day reminders until the table is submitted; raised once the due day has passed."""
    with notices_published():
        sent = deadline_remind(profile, before_send=sms_rate_limiter(profile))
    if sent:
        get_run_logger().warning("已发送统计表报送提醒：%s", "；".join(ref_label(s) for s in sent))
    return sent


@task(name="register-owed 登记应报统计表与更正", retries=1, retry_delay_seconds=5)
def owed_task(profile: Profile) -> list[str]:
    """From the 1st, last month's tables are owed (PBOC-102 三（二）), whether or not a run
    produced them; under ``correct_filed_month`` a filed table owes a correction for each event
    found after it was filed. Each new obligation is in the ledger and then reminded and raised
    by :func:`deadline_reminders_task`."""
    migrate()
    created = owe_last_month(profile) + owe_corrections(profile)
    if created:
        get_run_logger().warning("新登记的报送义务：%s", ", ".join(created))
    return created
