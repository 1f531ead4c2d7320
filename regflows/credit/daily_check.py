"""The daily check (日核查) with its records and notices: what was checked, each 违规查询 raised
at once, the daily digest of 异常查询 leads, every day that could not be checked raised.

PBOC-102 二（四）: a daily check of query operations and abnormal-query monitoring, handling and
reporting; 三（二）: 「发生征信信息安全风险事件的，应立即上报相关情况」. The rules of one day are pure
(:mod:`regflows.credit.daily`); this module adds the store and the notices:

- **What was checked** is the report table: each checked day's findings file is recorded with
  its SHA-256 (``procedure = credit-daily-check``, ``subject = credit-daily:YYYY-MM-DD``) and a
  ledger entry carrying the log's SHA-256 and the counts. A day is recorded only after its
  violations were raised, so a crash in between raises them again on the next run under the
  same notice ids (the delivery claims send nothing twice), never loses them.
- **A missing or failing log** leaves its day unchecked: it is in the ledger, in the digest
  (which then needs acknowledging) and the run fails; the next run tries the day again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pandas as pd
from sqlalchemy import select

from notices.service import send_notice
from regflows import ledger
from regflows.credit.daily import Day, DayFindings, check_day, days_to_check, history_days, log_path
from regflows.credit.io import read_log, read_users
from regflows.credit.models import COUNT_TITLES, RULES, CreditInputError, Period
from regflows.credit.pipeline import FLAGGED_HEADERS
from regflows.credit.quality import check_log, mask_value
from regflows.credit.settings import thresholds
from regflows.kit.documents import write_csv
from regflows.kit.evidence import sha256_file
from regflows.kit.reports import record_report_in
from regflows.profile import Profile
from regflows.store import db
from regflows.store.models import AuditEntry, Report

PROCEDURE = "credit-daily-check"
KIND = "daily-findings"
#: How many leads the digest lists one by one; the rest are in the day's findings file.
DIGEST_EXAMPLES = 20
VIOLATION_CLAUSE = "PBOC-102 二（四）（日核查）、三（二）（风险事件立即上报）；附件3 8.1"


def subject(day: dt.date) -> str:
    return f"credit-daily:{day.isoformat()}"


def checked_days(url: str | None = None) -> set[dt.date]:
    """Every day whose check is on record."""
    with db.session(url) as s:
        subjects = s.execute(select(Report.subject).where(Report.procedure == PROCEDURE, Report.kind == KIND)).scalars()
        return {dt.date.fromisoformat(x.split(":", 1)[1]) for x in subjects}


def plan(profile: Profile, today: dt.date, url: str | None = None) -> list[dt.date]:
    """The days this run checks: every day up to yesterday not yet checked (weekends and holidays included)."""
    first = profile.settings.credit_daily_check_from
    return days_to_check(checked_days(url), today, dt.date.fromisoformat(first) if first else None)


@dataclass
class DayOutcome:
    """One day of a run: checked (with its findings and file), or not (missing, failed) and why."""

    day: dt.date
    state: Literal["checked", "missing", "failed"]
    log: str
    message: str
    rows: int = 0
    unauthorized: int = 0
    abnormal: int = 0
    file: str | None = None
    raised: list[str] = field(default_factory=list)  # the violation notices' ids
    leads: list[dict[str, str]] = field(default_factory=list)  # the 异常查询 of the day, for the digest
    warnings: list[str] = field(default_factory=list)


def _read_history(path: Path, time_format: str | None) -> pd.DataFrame | None:
    """An earlier day's log for the 30-day rule, or None when it is missing or unreadable (said in the warnings)."""
    if not path.exists():
        return None
    try:
        return read_log(path, time_format).frame
    except CreditInputError:
        return None


def _notice_id(day: dt.date, query_id: str) -> str:
    # A stable id per query (a retried run sends nothing twice); hashed, as a query id may hold any character.
    return f"{subject(day)}:v{hashlib.sha256(query_id.encode('utf-8')).hexdigest()[:16]}"


def raise_violations(profile: Profile, findings: DayFindings, url: str | None = None,
                     before_send: Callable[[str], None] | None = None) -> list[str]:
    """Each 违规查询 of the day to the alert role at once, urgent, with a personal acknowledgement
    link (三（二）: 立即上报); returns the notice ids."""
    role = profile.settings.credit_daily_alert_role
    sent = []
    for row in findings.of("unauthorized_query").itertuples(index=False):
        notice_id = _notice_id(findings.day, str(row.query_id))
        context = {
            "subject_ref": subject(findings.day), "day": findings.day, "query_id": str(row.query_id),
            "queried_at": str(row.queried_at), "unit": str(row.institution), "user_id": str(row.user_id),
            "rule_text": str(row.rule_text), "rules": "；".join(RULES[r][1] for r in str(row.rules).split(";")),
            "clause": VIOLATION_CLAUSE, "institution": profile.institution.name,
        }
        send_notice(profile, "credit_violation", context, [role], notice_id=notice_id, urgent=True, requires_ack=True,
                    related=subject(findings.day), before_send=before_send, url=url)
        sent.append(notice_id)
    return sent


def _findings_file(findings: DayFindings, out_dir: Path) -> Path:
    """The day's flagged queries (subjects masked), as the monthly flagged-queries file."""
    day = findings.day
    folder = out_dir / f"{day.year:04d}-{day.month:02d}"
    folder.mkdir(parents=True, exist_ok=True)
    frame = findings.rules.flagged.copy()
    frame["count"] = frame["count"].map(COUNT_TITLES)
    frame["subject_id"] = frame["subject_id"].map(mask_value)
    return write_csv(frame.rename(columns=FLAGGED_HEADERS), folder / f"daily-findings-{day.isoformat()}.csv")


def check_one(profile: Profile, day: dt.date, home: Path, out_dir: Path, *, users: Path | None = None,
              url: str | None = None, before_send: Callable[[str], None] | None = None) -> DayOutcome:
    """Check one day: read its log, check its data, apply the rules with the history, raise each
    违规查询, write and record the findings. A missing or failing log is recorded in the ledger and
    returned as not checked (the day stays open)."""
    pattern = profile.settings.credit_daily_log_pattern
    th = thresholds(profile.settings)
    path = log_path(pattern, day, home)
    if not path.exists():
        message = f"{day.isoformat()} 的查询日志不存在：{path}（按 settings.credit_daily_log_pattern）"
        ledger.append("credit.daily.log_missing", subject(day), {"path": str(path)}, url=url)
        return DayOutcome(day, "missing", str(path), message)
    try:
        table = read_log(path, profile.settings.credit_log_time_format)
        report = check_log(table.frame, Day(day), th, table.row_base)
        user_frame = read_users(users).frame if users is not None and users.exists() else None
    except CreditInputError as exc:
        ledger.append("credit.daily.check_failed", subject(day), {"path": str(path), "error": str(exc)}, url=url)
        return DayOutcome(day, "failed", str(path), f"{day.isoformat()} 的查询日志无法读取：{exc}")
    if not report.success:
        folder = out_dir / f"{day.year:04d}-{day.month:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        detail = folder / f"quality-failures-{day.isoformat()}.csv"
        write_csv(report.failures, detail)
        ledger.append("credit.daily.check_failed", subject(day), {"path": str(path), "error": report.message(),
                                                                  "detail": str(detail)}, url=url)
        return DayOutcome(day, "failed", str(path), f"{day.isoformat()}：{report.message()}；问题明细：{detail}")
    history = {d: _read_history(log_path(pattern, d, home), profile.settings.credit_log_time_format)
               for d in history_days(day, th)}
    findings = check_day(day, table.frame, history, th, user_frame)
    findings.rules.flagged["row"] = findings.rules.flagged["row"] + table.row_base  # the line a person sees
    raised = raise_violations(profile, findings, url, before_send)
    file = _findings_file(findings, out_dir)
    unauthorized, abnormal = findings.total("unauthorized_query"), findings.total("abnormal_query")
    log_sha256 = sha256_file(path)[0]
    with db.session(url) as s:
        record_report_in(s, procedure=PROCEDURE, kind=KIND, subject=subject(day), path=file, action="credit.daily.checked",
                         detail={"log": str(path), "log_sha256": log_sha256, "rows": findings.rows,
                                 "unauthorized_query": unauthorized, "abnormal_query": abnormal,
                                 "counts": findings.counts, "violation_notices": raised})
    leads = [{"query_id": str(r.query_id), "queried_at": str(r.queried_at), "unit": str(r.institution),
              "user_id": str(r.user_id), "rule": str(r.rule)} for r in findings.of("abnormal_query").itertuples(index=False)]
    message = f"{day.isoformat()}：查询 {findings.rows} 笔，违规查询 {unauthorized} 笔（已逐笔通知），异常查询线索 {abnormal} 笔"
    return DayOutcome(day, "checked", str(path), message, rows=findings.rows, unauthorized=unauthorized, abnormal=abnormal,
                      file=str(file), raised=raised, leads=leads, warnings=findings.warnings)


def digest_context(profile: Profile, outcomes: list[DayOutcome]) -> dict[str, object]:
    """The digest of a run's days: leads by rule, the first leads, files, problems, warnings."""
    checked = [o for o in outcomes if o.state == "checked"]
    problems = [o.message for o in outcomes if o.state != "checked"]
    leads = [lead for o in checked for lead in o.leads]
    by_rule: dict[str, int] = {}
    for lead in leads:
        by_rule[lead["rule"]] = by_rule.get(lead["rule"], 0) + 1
    examples = [f"{lead['queried_at']} {lead['unit']} 用户 {lead['user_id']} 查询 {lead['query_id']}：{RULES[lead['rule']][1]}"
                for lead in leads[:DIGEST_EXAMPLES]]
    last = max(o.day for o in outcomes)
    return {
        "state": "problem" if problems else "ok",
        "subject_ref": subject(last),
        "days": [o.message for o in checked],
        "leads": [f"{RULES[rule][1]}：{n} 笔" for rule, n in sorted(by_rule.items(), key=lambda kv: -kv[1])],
        "examples": examples,
        "more": max(0, len(leads) - len(examples)),
        "files": [o.file for o in checked if o.file],
        "problems": problems,
        "warnings": [w for o in checked for w in o.warnings],
        "count": len(leads),
        "institution": profile.institution.name,
    }


def send_digest(profile: Profile, outcomes: list[DayOutcome], url: str | None = None,
                before_send: Callable[[str], None] | None = None) -> str | None:
    """One digest for the run's days to the alert role (None when no day was due). A day that
    could not be checked makes it urgent and needing acknowledgement: a missing log is raised."""
    if not outcomes:
        return None
    context = digest_context(profile, outcomes)
    days = sorted(o.day for o in outcomes)
    notice_id = f"credit-daily:digest:{days[0].isoformat()}.{days[-1].isoformat()}"
    problem = context["state"] == "problem"
    send_notice(profile, "credit_daily_digest", context, [profile.settings.credit_daily_alert_role], notice_id=notice_id,
                urgent=problem, requires_ack=problem, related=subject(days[-1]), before_send=before_send, url=url)
    return notice_id


def recorded_counts(period: Period, url: str | None = None) -> tuple[dict[str, dict[str, int]], list[dt.date]]:
    """The month's daily checks on record: their counts added up per institution, and the days
    of the month with no check on record (from the ledger entries ``credit.daily.checked``)."""
    days = [period.first_day + dt.timedelta(days=n) for n in range((period.next_first_day - period.first_day).days)]
    total: dict[str, dict[str, int]] = {}
    seen: set[str] = set()
    with db.session(url) as s:
        rows = s.execute(select(AuditEntry.subject, AuditEntry.payload).where(
            AuditEntry.action == "credit.daily.checked", AuditEntry.subject.in_([subject(d) for d in days]))).all()
    for sub, payload in rows:
        seen.add(sub)
        for inst, counts in (json.loads(payload).get("counts") or {}).items():
            for name, n in counts.items():
                total.setdefault(inst, {})[name] = total.setdefault(inst, {}).get(name, 0) + int(n)
    return total, [d for d in days if subject(d) not in seen]


def month_agreement(period: Period, month: dict[str, dict[str, int]], url: str | None = None) -> list[str]:
    """Where the month's table (``month``: counts per institution) and its daily checks disagree,
    in Chinese; empty when they agree or when no day of the month was checked (no daily check in
    use). PBOC-102 二（四） and 三（二）: the days and the month report the same queries."""
    daily, unchecked = recorded_counts(period, url)
    if len(unchecked) == (period.next_first_day - period.first_day).days:
        return []
    out = []
    if unchecked:
        shown = "、".join(d.isoformat() for d in unchecked[:5]) + ("等" if len(unchecked) > 5 else "")
        out.append(f"{period.label} 有 {len(unchecked)} 天没有日核查记录（{shown}）：月报与日核查无法逐日核对")
    for inst in sorted(set(month) | set(daily)):
        for name in ("unauthorized_query", "abnormal_query"):
            m, d = month.get(inst, {}).get(name, 0), daily.get(inst, {}).get(name, 0)
            if m != d:
                out.append(f"机构 {inst} {COUNT_TITLES[name]}：月报 {m} 笔，日核查合计 {d} 笔，不一致（请核对当月查询日志与每日日志）")
    return out


def record_disagreement(period: Period, lines: list[str], url: str | None = None) -> None:
    """A disagreement between the month and its days, in the ledger (never silent)."""
    ledger.append("credit.daily.month_disagrees", f"credit-stats:{period.label}", {"lines": lines}, url=url)
