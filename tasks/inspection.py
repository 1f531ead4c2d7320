"""Prefect tasks of the quarterly self-inspection: the run and its summary artifact.

Thin wrappers around :mod:`regflows.inspection.pipeline`: logs and artifacts live here, rules do
not. ``regflows.credit`` is imported here for what it registers: its query-log reader and
monthly rules (regflows/kit/querylogs.py). A flow run loads its flow file by path in a worker, not
through a composition root, so the task module that needs the registration makes it (tasks may
import every procedure; the inspection itself never imports the statistics).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NONE

import regflows.credit  # noqa: F401  (registers the query-log source the run looks up)
from regflows.inspection.links import run_links
from notices.masking import mask_pii
from regflows.inspection.models import InspectionInputError, Quarter
from regflows.kit.querylogs import NoQueryLogSource
from regflows.inspection.pipeline import Outcome, run, summary_markdown
from regflows.inspection.progress import progress_table
from regflows.inspection.watch import runs_to_watch
from regflows.inspection.worklist_notices import remind_owners
from regflows.kit.documents import markdown_text
from regflows.profile import Profile
from regflows.store.db import migrate
from tasks.notices import notices_published, sms_rate_limiter


@task(name="run-inspection 季度自查：检查、标记、抽样并写出", cache_policy=NONE)
def run_task(quarter: Quarter, logs: list[Path], users: Path, out_dir: Path, profile: Profile, vulns: Path | None,
             seed: int | None, now: dt.datetime | None = None) -> Outcome | dict[str, str]:
    """Not retried: a second attempt would draw another seed when none was given, and the run
    is recorded once. Bad input (a file, a row, the quarter) returns ``{"refused": message}`` in
    Chinese for the flow to fail with, no traceback (tasks/refusals.py); nothing is published."""
    logger = get_run_logger()
    try:
        outcome = run(quarter, logs, users, out_dir, profile, vulns=vulns, seed=seed, now=now,
                      on_step=lambda name: logger.info("%s", name))
    except (InspectionInputError, NoQueryLogSource) as exc:
        message = mask_pii(f"季度自查未完成，未写出任何文件：{exc}")
        logger.error("%s", message)
        return {"refused": message}
    for w in outcome.warnings:  # never silent: unowned leads, undecided checks, an undetermined due day
        logger.warning("%s", w)
    return outcome


@task(name="publish-summary 发布自查摘要")
def summary_artifact_task(outcome: Outcome, profile: Profile) -> str | None:
    """The summary (counts, every check, the vulnerability chart, the warnings) and a signed
    download link to each file of the run (issue 14, 4)."""
    hours = profile.settings.file_link_hours
    lines = ["", "## 文件", "", f"下载链接经签名，{hours:g} 小时内有效；服务器核对登记的 SHA-256 后才提供文件。", ""]
    lines += [f"- [{markdown_text(title)}]({link})" if link else f"- {markdown_text(title)}（未登记，不提供下载）"
              for title, link in run_links(profile, outcome)]
    artifact = create_markdown_artifact(summary_markdown(outcome) + "\n".join(lines) + "\n", key="self-inspection-summary",
                                        description=f"{outcome.quarter.label} 季度自查摘要与文件")
    return str(artifact) if artifact is not None else None


@task(name="check-progress 核实进度：发布并提醒负责人", retries=1, retry_delay_seconds=10)
def progress_task(profile: Profile, day: dt.date) -> dict[str, list[str]]:
    """For the latest run of each quarter with open links: its progress per owner as a table
    artifact, and on an official working day one reminder per owner with unanswered links (each
    open lead with a fresh page link). Leads without an owner and owners the profile does not
    know are logged as warnings (and ledgered by remind_owners): never silent."""
    logger = get_run_logger()
    migrate()
    people = {p.id: p.name for p in profile.people}
    sent: dict[str, list[str]] = {}
    for watched in runs_to_watch():
        create_table_artifact(progress_table(watched.progress, people), key=f"self-inspection-progress-{watched.quarter.lower()}",
                              description=f"{watched.quarter} 线索核实进度（运行 {watched.run_id}）")
        due = watched.summary.get("report_due")
        with notices_published():
            result = remind_owners(profile, watched.run_id, day, due_label=f"{due} 24:00" if due else None,
                                   before_send=sms_rate_limiter(profile))
        sent[watched.run_id] = list(result.sent)
        if result.reminders.unowned:
            logger.warning("%s：%d 条未完成的线索没有核实负责人，无法提醒", watched.quarter, len(result.reminders.unowned))
        if result.unknown_owners:
            logger.warning("%s：负责人 %s 不在机构配置中，无法提醒", watched.quarter, "、".join(result.unknown_owners))
        if not result.reminders.working_day:
            logger.info("%s 不是工作日：不提醒", day.isoformat())
    return sent


@task(name="advance-inspection-signoff 推进自查报告复核与签发", retries=1, retry_delay_seconds=5)
def signoff_task(profile: Profile) -> list[str]:
    """Move each quarter's submitted reports (the head office's and each unit's) through review and approval (the acknowledgement
    page's fallback; re-sends a request whose links expired) and make it final once approved
    (regflows/inspection/signoff.py). Returns the quarters that cannot go on, each with its
    reason, logged as errors: never silent."""
    from regflows.inspection.signoff import SignoffError, advance, open_reports

    logger = get_run_logger()
    migrate()
    limiter = sms_rate_limiter(profile)
    stuck: list[str] = []
    with notices_published():
        for quarter, unit in open_reports():  # each report on its own: the head office's and each unit's
            try:
                view = advance(profile, quarter, unit=unit, before_send=limiter)
                logger.info("%s%s 自查报告：%s（第 %d 版，运行 %s）", quarter.label, f" 报送单位 {unit}" if unit else "",
                            view.stage_title, view.revision, view.run_id)
            except SignoffError as exc:
                logger.error("%s", exc)
                stuck.append(str(exc))
    return stuck


@task(name="remind-rectification 整改与自查报告：提醒与逾期上报", retries=1, retry_delay_seconds=10)
def rectification_reminders_task(profile: Profile, now: dt.datetime) -> list[str]:
    """Each finding's rectification and its report, and the quarter's self-inspection report: the
    reminders due at ``now`` (N working days before, on the due day) and, once overdue, raised to
    the compliance role and the leadership group (regflows/inspection/reminders.py; PBOC-102 附件4
    六（二）, 三（三）)."""
    from regflows.inspection.reminders import remind

    migrate()
    with notices_published():
        sent = remind(profile, now, before_send=sms_rate_limiter(profile))
    if sent:
        get_run_logger().warning("已发送整改与自查报告提醒 %d 条：%s", len(sent), "；".join(sent))
    return sent


@task(name="register-findings 登记需整改的问题", retries=1, retry_delay_seconds=10)
def register_findings_task(profile: Profile, run_ids: list[str] | None = None) -> dict[str, list[str]]:
    """The user checks' findings and the worklist's 违规/需整改 answers onto the rectification
    register (regflows/inspection/register.py), for ``run_ids`` or every run the watch follows;
    what cannot be opened (no owner, no calendar data) is logged as an error: never silent."""
    from regflows.inspection.register import register_run

    logger = get_run_logger()
    migrate()
    opened: dict[str, list[str]] = {}
    for run_id in run_ids if run_ids is not None else [w.run_id for w in runs_to_watch()]:
        result = register_run(run_id, profile)
        opened[run_id] = result.opened
        if result.opened:
            logger.warning("自查运行 %s：已登记整改问题 %d 个", run_id, len(result.opened))
        if result.withdrawn:  # a re-run no longer finds them (register.py): said, never silent
            logger.warning("自查运行 %s：复查运行未再发现、已撤销整改问题 %d 个：%s", run_id, len(result.withdrawn), "、".join(result.withdrawn))
        if result.reinstated:
            logger.warning("自查运行 %s：再次发现、重新登记整改问题 %d 个：%s", run_id, len(result.reinstated), "、".join(result.reinstated))
        for problem in result.problems:
            logger.error("自查运行 %s 未能登记整改：%s", run_id, problem)
    return opened
