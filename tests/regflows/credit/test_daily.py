"""The daily check (日核查, PBOC-102 二（四）) and the monthly table agree (issue 12, point 14)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from regflows.credit.daily import Day, check_day, days_to_check, history_days, log_path, sum_counts
from regflows.credit.demo import generate
from regflows.credit.models import Period
from regflows.credit.rules import apply_rules
from regflows.credit.settings import thresholds

OCT = Period(2025, 10)  # National Day holidays 10-01..08, a make-up Saturday 10-11


def _by_day(frame: pd.DataFrame) -> dict[dt.date, pd.DataFrame]:
    days = frame["queried_at"].dt.date
    return {d: part.reset_index(drop=True) for d, part in frame.groupby(days, sort=True)}


def test_the_sum_of_the_days_is_the_month(tmp_path: Path) -> None:
    """PBOC-102 二（四） (日核查) and 三（二） (the monthly table): the daily checks of every day of the
    month, each with the earlier days' logs as the 30-day rule's history, find exactly the
    queries the monthly run counts, per institution and column, on the demo-style log (every rule
    planted, history rows before the month)."""
    demo = generate(6000, seed=3, period=OCT)
    log = demo.frame.copy()
    log["queried_at"] = log["queried_at"].dt.tz_localize("Asia/Shanghai")
    log["queried_at"] = log["queried_at"].astype("datetime64[ms, Asia/Shanghai]")
    th = thresholds()
    month = apply_rules(log, OCT, th)
    assert sum(c.get("abnormal_query", 0) for c in month.counts.values()) > 100  # every kind of lead is there
    logs = _by_day(log)
    daily = []
    day = OCT.first_day
    while day < OCT.next_first_day:
        history = {d: logs.get(d) for d in history_days(day, th)}
        daily.append(check_day(day, logs.get(day, log.iloc[0:0]), history, th))
        day += dt.timedelta(days=1)
    assert sum_counts(daily) == month.counts
    flagged_days = pd.concat([d.rules.flagged for d in daily], ignore_index=True)
    assert sorted(zip(flagged_days["query_id"], flagged_days["rules"])) == sorted(zip(month.flagged["query_id"], month.flagged["rules"]))


def test_days_to_check_are_every_day_since_the_last_check_weekends_included() -> None:
    """二（四）: every day is checked once, holidays too; a day left unchecked (its log was missing)
    is tried again; today is never checked (its log is not complete)."""
    monday = dt.date(2025, 10, 13)
    assert days_to_check([], monday) == [dt.date(2025, 10, 12)]
    checked = [dt.date(2025, 10, 8), dt.date(2025, 10, 9), dt.date(2025, 10, 11)]  # 10-10 missing
    assert days_to_check(checked, monday) == [dt.date(2025, 10, 10), dt.date(2025, 10, 12)]
    assert days_to_check([], monday, first=dt.date(2025, 10, 11)) == [dt.date(2025, 10, 11), dt.date(2025, 10, 12)]


def test_the_log_path_follows_the_setting_pattern(tmp_path: Path) -> None:
    day = dt.date(2025, 10, 3)
    assert log_path("credit/daily/query-log-{date}.csv", day, tmp_path) == tmp_path / "credit/daily/query-log-2025-10-03.csv"
    assert log_path("/data/q{date:%Y%m%d}.parquet", day, tmp_path) == Path("/data/q20251003.parquet")
    assert Day(day).end.isoformat() == "2025-10-04T00:00:00+08:00"


# -- the check with its records and notices (store: SQLite in a private REGFLOWS_HOME) ----------------

def _demo_profile():  # type: ignore[no-untyped-def]
    from regflows.profile import load_profile

    return load_profile(Path(__file__).resolve().parents[3] / "profiles" / "demo.yaml")


def test_a_run_raises_each_violation_digests_the_leads_and_remembers_the_days(home: Path, row, write_csv) -> None:
    """PBOC-102 二（四） (日核查) and 三（二） (立即上报): each 违规查询 of a day goes at once to the
    compliance role, urgent, with an acknowledgement link; the 异常查询 go as one digest; each
    checked day is on record, so the next run checks neither it again nor skips a day; a missing
    day's log is in the ledger and raised in a digest that must be acknowledged."""
    from sqlalchemy import select

    from regflows.credit.daily_check import check_one, plan, send_digest
    from regflows.store import db, migrate
    from regflows.store.models import AckLink, AuditEntry, Notice

    migrate()
    profile = _demo_profile()
    folder = home / "credit" / "daily"
    folder.mkdir(parents=True)
    # Friday 10-10 checked on Saturday? No: the check runs on working days; Monday 10-13 checks 10-10..10-12.
    write_csv(folder / "query-log-2025-10-10.csv", [
        row("ok", "2025-10-10 10:00:00", subject_id="h:s"),
        row("unauth", "2025-10-10 10:30:00", authorization_id="", authorized_at=""),
        row("night", "2025-10-10 21:00:00"),
    ])
    write_csv(folder / "query-log-2025-10-12.csv", [row("sunday", "2025-10-12 10:00:00", subject_id="h:s2")])  # a Sunday
    # 10-11 (a make-up working Saturday) has no log
    days = plan(profile, dt.date(2025, 10, 13))
    assert days == [dt.date(2025, 10, 12)]  # nothing on record yet: yesterday only
    outcomes = [check_one(profile, d, home, home / "reports", url=None)
                for d in (dt.date(2025, 10, 10), dt.date(2025, 10, 11), dt.date(2025, 10, 12))]
    assert [o.state for o in outcomes] == ["checked", "missing", "checked"]
    assert (outcomes[0].unauthorized, outcomes[0].abnormal, outcomes[2].abnormal) == (1, 1, 1)
    digest = send_digest(profile, outcomes)
    with db.session() as s:
        violation = s.get(Notice, outcomes[0].raised[0])
        assert violation.kind == "credit_violation" and violation.urgent and violation.requires_ack
        assert "unauth" in violation.body and "8.1" in violation.body and violation.roles == ["compliance"]
        assert s.execute(select(AckLink).where(AckLink.notice_id == outcomes[0].raised[0])).scalars().first() is not None
        note = s.get(Notice, digest)
        assert note.kind == "credit_daily_digest" and note.requires_ack and "2025-10-11 的查询日志不存在" in note.body
        assert "非工作日或工作时间以外查询" in note.body
        actions = [a for (a,) in s.execute(select(AuditEntry.action).where(AuditEntry.subject == "credit-daily:2025-10-11"))]
        assert actions == ["credit.daily.log_missing"]
    # Remembered: only the missing day (and the days since) is checked again.
    assert plan(profile, dt.date(2025, 10, 14)) == [dt.date(2025, 10, 11), dt.date(2025, 10, 13)]


def test_the_deployment_runs_every_working_day_at_0800() -> None:
    """PBOC-102 二（四） 日核查: prefect.yaml schedules ``credit-daily-check`` on the working-day
    calendar (make-up Saturday 2025-09-28 in, the National Day holidays out), at 08:00, one run at
    a time; the credit procedure owns it."""
    from calendars.official import default_calendar
    from regflows.deployments import read_prefect_yaml
    from regflows.procedures import PROCEDURES

    specs = {s.name: s for s in read_prefect_yaml(Path(__file__).resolve().parents[3] / "prefect.yaml")}
    spec = specs["credit-daily-check"]
    assert spec.entrypoint == "flows/credit_daily_check.py:credit_daily_check" and spec.concurrency is not None
    assert [(w.every, w.n, w.at) for w in spec.working_days] == [("day", 1, "08:00")]
    rule, _last = spec.working_days[0].rrule(dt.date(2025, 9, 26), default_calendar())
    runs = rule.split("RDATE:")[1].split(",")[:6]
    assert runs == ["20250926T080000", "20250928T080000", "20250929T080000", "20250930T080000", "20251009T080000",
                    "20251010T080000"]
    assert "credit-daily-check" in next(p for p in PROCEDURES if p.name == "credit-stats").deployments


def test_the_demo_writes_its_days_from_its_month(tmp_path: Path) -> None:
    """The demo's daily logs (二（四） 日核查 input) are its month's queries split by day, the
    history rows before the month included; nothing from ``before`` on; an existing file kept."""
    from regflows.credit.demo import write_daily
    from regflows.credit.io import read_log

    month = generate(2000, seed=3, period=OCT)
    path_of = lambda d: log_path("daily/q-{date}.csv", d, tmp_path)  # noqa: E731
    written = write_daily(month, OCT, path_of, before=dt.date(2025, 10, 20))
    names = sorted(p.name for p in written)
    assert names[0] < "q-2025-10-01.csv" and names[-1] == "q-2025-10-19.csv"  # history days of September too
    assert {f"q-2025-10-{d:02d}.csv" for d in range(1, 20)} <= set(names)  # holidays too, a header only
    wanted = month.frame[month.frame["queried_at"] < "2025-10-20"]
    assert sum(len(read_log(p).frame) for p in written) == len(wanted)
    assert write_daily(month, OCT, path_of, before=dt.date(2025, 10, 20)) == []


def test_the_monthly_run_finds_where_it_disagrees_with_the_days(home: Path) -> None:
    """二（四） (日核查) and 三（二） (the monthly table): the month's counts are checked against the
    daily checks on record; on the demo month they agree; a month whose figures differ from its
    days is named per institution and column; days without a check are named."""
    from regflows.credit.daily_check import check_one, month_agreement
    from regflows.credit.demo import write_daily
    from regflows.credit.io import read_log
    from regflows.store import migrate

    migrate()
    profile = _demo_profile()
    pattern = profile.settings.credit_daily_log_pattern
    month = generate(600, seed=5, period=OCT)
    write_daily(month, OCT, lambda d: log_path(pattern, d, home), before=OCT.next_first_day)
    assert month_agreement(OCT, {}) == []  # no daily check in use: nothing to compare
    for n in range(1, 31):  # 10-01 left unchecked
        assert check_one(profile, OCT.first_day + dt.timedelta(days=n), home, home / "reports").state == "checked"
    monthly_log = home / "month.parquet"
    month.frame.to_parquet(monthly_log, index=False)
    counts = apply_rules(read_log(monthly_log).frame, OCT, thresholds()).counts
    assert month_agreement(OCT, counts) == ["2025-10 有 1 天没有日核查记录（2025-10-01）：月报与日核查无法逐日核对"]
    assert check_one(profile, OCT.first_day, home, home / "reports").state == "checked"  # the National Day holiday
    assert month_agreement(OCT, counts) == []
    changed = {inst: {**c, "unauthorized_query": c.get("unauthorized_query", 0) + 1} for inst, c in counts.items()}
    inst = sorted(counts)[0]
    assert any(line.startswith(f"机构 {inst} 违规查询：月报") for line in month_agreement(OCT, changed))


def test_a_digest_of_missing_days_only_claims_no_lead() -> None:
    """二（四）: a run that could check no day (every log missing) raises the days and does not say
    that nothing was found."""
    from notices.templates import render
    from regflows.credit.daily_check import DayOutcome, digest_context

    missing = DayOutcome(dt.date(2025, 10, 11), "missing", "x.csv", "2025-10-11 的查询日志不存在：x.csv")
    context = digest_context(_demo_profile(), [missing])
    assert context["state"] == "problem" and context["count"] == 0
    body = render("credit_daily_digest", context).body
    assert "2025-10-11 的查询日志不存在" in body and "未发现异常查询线索" not in body
