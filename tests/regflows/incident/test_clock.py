"""The regulatory clock rule by rule: which obligations apply, their due times across the 2025
National Day and 2026 Spring Festival breaks, their states at given instants, the rule-set
version in force at discovery, and the ``clock`` CLI. Fixed dates only."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from regflows.incident.cli import incident_app
from regflows.incident.clock import (
    OBLIGATION_IDS,
    ClockError,
    Obligation,
    load_rule_set,
    load_rule_sets,
    obligations,
    rule_set_for,
    setting,
    shipped_rule_sets,
    to_raise,
)
from regflows.incident.grading import grade, regrade
from regflows.incident.record import IncidentRecord, IncidentRecordError
from regflows.profile import Profile, Settings, load_profile

FIXTURES = Path(__file__).parent / "fixtures" / "incidents"
DEMO = Path(__file__).resolve().parents[3] / "profiles" / "demo.yaml"
BJ = dt.timezone(dt.timedelta(hours=8))
runner = CliRunner()


def t(text: str) -> dt.datetime:
    """``"2025-09-30 11:10"`` in Beijing time."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=BJ)


GRADE_FACTS: dict[str, dict[str, Any]] = {
    "I": {"data_incident": "especially_major"},
    "II": {"data_incident": "major"},
    "III": {"data_incident": "larger"},
    "IV": {},
}
PFI = {"types": ["身份证号"], "subjects": 10, "high_sensitivity": True}
NOW = t("2025-09-30 10:00")


def clock(record: IncidentRecord, profile: Profile | None = None, now: dt.datetime = NOW, **kw: Any) -> dict[str, Obligation]:
    return {o.id: o for o in obligations(record, grade(record), profile, now, **kw)}


def printed(o: Obligation) -> str | None:
    return o.model_dump(mode="json")["due"]


@pytest.fixture(scope="module")
def demo() -> Profile:
    return load_profile(DEMO)


def with_regimes(profile: Profile, **switch: bool) -> Profile:
    regimes: dict[Any, bool] = {**profile.regimes, **{k.replace("_", "-"): v for k, v in switch.items()}}
    return profile.model_copy(update={"regimes": regimes})


# -- the rules -------------------------------------------------------------------------------


def test_shipped_rules_cover_the_issue_ids_in_order() -> None:
    (rules,) = shipped_rule_sets()
    assert rules.version == "nfra-draft-2024" and rules.effective_from == dt.date(2020, 1, 1)
    assert tuple(r.id for r in rules.obligations) == OBLIGATION_IDS
    assert all(c.clause for r in rules.obligations for c in r.cases)


def test_settings_defaults_and_profile_values(demo: Profile) -> None:
    assert setting(None, "immediate_report_minutes") == 60 and setting(None, "due_soon_minutes") == 30
    assert setting(demo, "deadline_roll_forward") is True
    assert setting(demo, "immediate_report_minutes") == 60  # not written in the demo profile: the default
    assert setting(demo.model_copy(update={"settings": Settings(immediate_report_minutes=15)}), "immediate_report_minutes") == 15


# -- which obligations apply -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("g", "expected"),
    [
        ("I", ["regulator_initial_report", "regulator_written_report", "progress_report", "inform_users", "public_warning",
               "cyberspace_office_report", "summary_report", "investigation_report", "special_audit"]),
        ("II", ["regulator_initial_report", "regulator_written_report", "public_warning", "cyberspace_office_report",
                "summary_report", "investigation_report", "special_audit"]),
        ("III", ["regulator_initial_report", "regulator_written_report", "summary_report", "investigation_report"]),
        ("IV", ["investigation_report"]),
    ],
)
def test_obligations_by_grade(g: str, expected: list[str], rec) -> None:
    got = clock(rec(**GRADE_FACTS[g]))
    assert list(got) == expected
    assert grade(rec(**GRADE_FACTS[g])).grade == g


def test_grade_iii_hour_deadlines(rec) -> None:
    got = clock(rec(**GRADE_FACTS["III"]))
    initial = got["regulator_initial_report"]
    assert (initial.due, initial.clause, initial.regime) == (t("2025-09-30 11:10"), "NFRA 第四十五条", "NFRA")
    assert printed(initial) == "2025-09-30T11:10:00+08:00" and initial.due_label == "2025-09-30 11:10"
    written = got["regulator_written_report"]
    assert written.due == t("2025-10-01 09:00")  # 24 h after *occurrence*, on a holiday: never moved
    assert initial.owner == "division"  # grade III: the division implements (CQ-PLAN)
    summary = got["summary_report"]
    assert (summary.due, summary.state) == (None, "pending") and "handling_ended_at" in (summary.note or "")


@pytest.mark.parametrize("g", ["I", "II", "III"])
def test_cii_grades_i_to_iii_one_hour(g: str, rec) -> None:
    got = clock(rec(cii=True, **GRADE_FACTS[g]))
    assert got["regulator_initial_report"].due == t("2025-09-30 10:10")
    assert "第六十一条" in got["regulator_initial_report"].clause
    assert got["police_report_cii"].due == t("2025-09-30 10:10") and got["police_report_cii"].clause == "NFRA 第六十一条"
    audit = got["cii_special_audit"]  # NFRA 61: 恢复后立即, counted from recovered_at (issue 12)
    assert (audit.due, audit.state) == (None, "pending") and "第六十一条" in audit.clause and "recovered_at" in (audit.note or "")


def test_cii_grade_iv_has_no_cii_reports(rec) -> None:
    got = clock(rec(cii=True))
    assert "police_report_cii" not in got and "regulator_initial_report" not in got and "special_audit" not in got


def test_special_audit_without_cii_cites_49_only(rec) -> None:
    assert clock(rec(**GRADE_FACTS["II"]))["special_audit"].clause == "NFRA 第四十九条"


def test_pfi_obligations(rec) -> None:
    got = clock(rec(pfi=PFI))
    assert got["internal_written_report"].due == t("2025-09-30 11:10")
    assert got["internal_written_report"].owner == "on_call" and got["internal_written_report"].clause == "CUSTINFO 8.2"
    assert got["police_report"].due == t("2025-10-01 09:10")
    assert got["pboc_pfi_report"].due == t("2025-09-30 10:10")  # "immediately" = 60 minutes by default
    steps = got["pfi_response_steps"]
    assert (steps.due, steps.state) == (None, "pending") and "confirmed_at" in (steps.note or "")
    notify = got["subject_notification"]  # TENPAY 5: immediately, like the PBoC report (issue 12)
    assert (notify.due, notify.state) == (t("2025-09-30 10:10"), "due_soon")
    confirmed = clock(rec(pfi=PFI, confirmed_at="2025-09-30T14:00:00+08:00"))
    assert confirmed["pfi_response_steps"].due == t("2025-10-01 14:00")
    assert confirmed["subject_notification"].due == t("2025-09-30 10:10")


def test_subject_notification_for_every_pfi_incident(rec) -> None:
    """TENPAY 第五条 「立即…并通知个人金融信息主体」: notifying is the rule for every PFI leak, tamper or
    loss, whatever the sensitivity; skipping it is a recorded waiver, not a record field (issue 12)."""
    low = {**PFI, "high_sensitivity": False}
    assert "subject_notification" in clock(rec(pfi=low))
    assert "subject_notification" in clock(rec(pfi=PFI, subjects_may_be_harmed=False))
    assert "subject_notification" not in clock(rec())


def test_no_pfi_no_pfi_obligations(rec) -> None:
    got = clock(rec(**GRADE_FACTS["III"]))
    for oid in ("internal_written_report", "police_report", "pboc_pfi_report", "subject_notification", "pfi_response_steps"):
        assert oid not in got


def test_credit_event_report_immediately(rec) -> None:
    got = clock(rec(credit_info_event="improper_use"))
    assert got["credit_event_report"].due == t("2025-09-30 10:10")
    assert got["credit_event_report"].clause == "PBOC-102 三（二）" and got["credit_event_report"].owner == "compliance"
    assert "credit_event_report" not in clock(rec())


def test_immediately_minutes_from_profile_setting(demo: Profile, rec) -> None:
    class MoreSettings(Settings):
        immediate_report_minutes: float = 15

    quick = demo.model_copy(update={"settings": MoreSettings()})
    got = clock(rec(credit_info_event="report_leak"), quick)
    assert got["credit_event_report"].due == t("2025-09-30 09:25")
    assert "15 分钟" in (got["credit_event_report"].basis or "")


def test_regimes_switched_off_in_profile(demo: Profile, rec) -> None:
    record = rec(pfi=PFI, credit_info_event="report_leak", **GRADE_FACTS["I"])
    everything = clock(record)
    assert set(everything) == set(OBLIGATION_IDS) - {"police_report_cii", "cii_protection_report", "cii_special_audit"}
    got = clock(record, demo)  # the demo bank: TENPAY off
    for oid in ("police_report", "pboc_pfi_report", "subject_notification", "pfi_response_steps"):
        assert oid not in got
    assert {"internal_written_report", "credit_event_report", "regulator_initial_report"} <= set(got)
    no_nfra = clock(record, with_regimes(demo, NFRA=False))
    assert not {o.regime for o in no_nfra.values()} & {"NFRA"}
    assert "investigation_report" in no_nfra
    assert "investigation_report" not in clock(record, with_regimes(demo, CQ_PLAN=False))
    assert "credit_event_report" not in clock(record, with_regimes(demo, PBOC_102=False))
    assert "internal_written_report" not in clock(record, with_regimes(demo, CUSTINFO=False))


def test_profile_checks_the_record(demo: Profile, rec) -> None:
    not_cii = demo.model_copy(update={"institution": demo.institution.model_copy(update={"cii_operator": False})})
    with pytest.raises(IncidentRecordError, match="cii_operator"):
        clock(rec(cii=True), not_cii)
    with pytest.raises(IncidentRecordError, match="ZZ01"):
        clock(rec(institution="ZZ01"), demo)


# -- day-counted deadlines across holidays -----------------------------------------------------


@pytest.mark.parametrize(
    ("ended", "last_day"),
    [
        ("2025-09-30T18:00:00+08:00", "2025-10-14"),  # 10-09, 10-10, 10-11 (make-up Sat), 10-13, 10-14
        ("2025-09-27T10:00:00+08:00", "2025-10-10"),  # 09-28 (make-up Sun), 09-29, 09-30, 10-09, 10-10
        ("2025-10-03T10:00:00+08:00", "2025-10-14"),  # ended during the break: 10-09 is day 1, as from 09-30
        ("2026-02-13T18:00:00+08:00", "2026-02-27"),  # 02-14 (make-up Sat), then 02-24..02-27
        ("2026-02-24T09:00:00+08:00", "2026-03-02"),  # 02-25, 02-26, 02-27, 02-28 (make-up Sat), 03-02
    ],
)
def test_summary_report_five_working_days(ended: str, last_day: str, rec) -> None:
    record = rec(occurred_at=ended, discovered_at=ended, handling_ended_at=ended, **GRADE_FACTS["III"])
    summary = clock(record, now=dt.datetime.fromisoformat(ended))["summary_report"]
    assert summary.last_day == dt.date.fromisoformat(last_day)
    assert summary.due == dt.datetime.combine(summary.last_day + dt.timedelta(days=1), dt.time(), BJ)
    assert printed(summary) == f"{last_day}T23:59:59+08:00" and summary.due_label == f"{last_day} 24:00"
    assert summary.clause == "NFRA 第四十八条"


def test_obligation_and_grading_round_trip_through_json(rec) -> None:
    record = rec(handling_ended_at="2025-09-30T18:00:00+08:00", **GRADE_FACTS["III"])
    for o in clock(record).values():
        assert Obligation.model_validate_json(o.model_dump_json()) == o  # 23:59:59 reads back as 24:00
    g = grade(record)
    assert type(g).model_validate_json(g.model_dump_json()) == g


def test_hour_deadlines_ignore_holidays(rec) -> None:
    record = rec(occurred_at="2025-09-30T23:00:00+08:00", discovered_at="2025-09-30T23:30:00+08:00", **GRADE_FACTS["III"])
    got = clock(record, now=t("2025-09-30 23:30"))
    assert got["regulator_initial_report"].due == t("2025-10-01 01:30")
    assert got["regulator_written_report"].due == t("2025-10-01 23:00")


@pytest.mark.parametrize(
    ("ended", "last_day", "moved_from"),
    [
        ("2025-09-03T17:00:00+08:00", "2025-10-09", "2025-10-03"),  # National Day break
        ("2026-01-16T17:00:00+08:00", "2026-02-24", "2026-02-15"),  # Spring Festival break
        ("2025-10-16T17:00:00+08:00", "2025-11-17", "2025-11-15"),  # an ordinary Saturday
    ],
)
def test_investigation_report_thirty_days_rolled_forward(ended: str, last_day: str, moved_from: str, rec) -> None:
    record = rec(occurred_at="2025-09-01T09:00:00+08:00", discovered_at="2025-09-01T09:10:00+08:00", response_ended_at=ended)
    got = clock(record, now=t("2025-09-01 10:00"))["investigation_report"]
    assert got.last_day == dt.date.fromisoformat(last_day)
    assert printed(got) == f"{last_day}T23:59:59+08:00"
    assert got.clause == "CQ-PLAN 第五篇" and f"期末 {moved_from} 为休息日" in (got.basis or "")


def test_investigation_report_on_a_working_day_not_moved(rec) -> None:
    record = rec(response_ended_at="2025-10-10T17:00:00+08:00")  # +30 = 2025-11-09 (Sun) -> 11-10
    assert clock(record)["investigation_report"].last_day == dt.date(2025, 11, 10)
    record = rec(response_ended_at="2025-10-13T17:00:00+08:00")  # +30 = 2025-11-12 (Wed)
    assert clock(record)["investigation_report"].last_day == dt.date(2025, 11, 12)


def test_roll_forward_switched_off(demo: Profile, rec) -> None:
    no_roll = demo.model_copy(update={"settings": Settings(deadline_roll_forward=False)})
    record = rec(occurred_at="2025-09-01T09:00:00+08:00", discovered_at="2025-09-01T09:10:00+08:00",
                 response_ended_at="2025-09-03T17:00:00+08:00")
    got = clock(record, no_roll, now=t("2025-09-01 10:00"))["investigation_report"]
    assert got.last_day == dt.date(2025, 10, 3) and "不顺延" in (got.basis or "")


def test_calendar_missing_for_a_2027_due_day(rec) -> None:
    record = rec(occurred_at="2026-12-28T09:00:00+08:00", discovered_at="2026-12-28T09:05:00+08:00",
                 handling_ended_at="2026-12-28T18:00:00+08:00", **GRADE_FACTS["III"])
    got = clock(record, now=t("2026-12-28 19:00"))
    summary = got["summary_report"]
    assert (summary.due, summary.state) == (None, "calendar_missing")
    assert "2027" in (summary.note or "") and "import-notice" in (summary.note or "")
    assert summary in to_raise(got.values())
    fulfilled = clock(record, now=t("2026-12-28 19:00"), fulfilled={"summary_report": t("2026-12-28 20:00")})
    assert fulfilled["summary_report"].state == "fulfilled"


def test_a_deadline_on_provisional_december_days_says_so_until_the_next_notice_is_in(rec) -> None:
    """Issue 13, item 4: without 2026's notice, 5 working days after 2025-12-22 end on 12-29, a
    day 2026's notice could still re-arrange: the obligation's basis says 暂定; the watch's
    recomputation with 2026 loaded gives the definite deadline."""
    from calendars.official import WorkingDayCalendar, default_calendar

    record = rec(occurred_at="2025-12-22T09:00:00+08:00", discovered_at="2025-12-22T09:05:00+08:00",
                 handling_ended_at="2025-12-22T18:00:00+08:00", **GRADE_FACTS["III"])
    shipped = default_calendar()
    without_2026 = WorkingDayCalendar(shipped.arrangements[y] for y in (2024, 2025))
    before = clock(record, now=t("2025-12-22 19:00"), calendar=without_2026)["summary_report"]
    assert before.last_day == dt.date(2025, 12, 29) and "暂定" in (before.basis or "")
    after = clock(record, now=t("2025-12-22 19:00"), calendar=shipped)["summary_report"]
    assert after.last_day == dt.date(2025, 12, 29) and "暂定" not in (after.basis or "")


# -- states at now -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "state"),
    [
        ("2025-09-30 09:10", "open"),
        ("2025-09-30 10:39:59", "open"),
        ("2025-09-30 10:40", "due_soon"),  # 30 minutes before 11:10
        ("2025-09-30 11:09:59", "due_soon"),
        ("2025-09-30 11:10", "overdue"),
        ("2025-10-02 00:00", "overdue"),
    ],
)
def test_state_transitions(now: str, state: str, rec) -> None:
    assert clock(rec(**GRADE_FACTS["III"]), now=t(now))["regulator_initial_report"].state == state


def test_due_soon_window_override_and_fulfilled(rec) -> None:
    record = rec(**GRADE_FACTS["III"])
    assert clock(record, now=t("2025-09-30 10:50"), due_soon_minutes=10)["regulator_initial_report"].state == "open"
    assert clock(record, now=t("2025-09-30 11:00"), due_soon_minutes=10)["regulator_initial_report"].state == "due_soon"
    done = clock(record, now=t("2025-09-30 12:00"), fulfilled={"regulator_initial_report": t("2025-09-30 11:05")})
    assert done["regulator_initial_report"].state == "fulfilled"
    assert done["regulator_initial_report"].fulfilled_at == t("2025-09-30 11:05")
    assert done["regulator_written_report"].state == "open"


def test_day_counted_deadline_overdue_only_after_24_00(rec) -> None:
    record = rec(handling_ended_at="2025-09-30T18:00:00+08:00", **GRADE_FACTS["III"])
    assert clock(record, now=t("2025-10-14 23:59:59"))["summary_report"].state == "due_soon"
    assert clock(record, now=t("2025-10-14 12:00"))["summary_report"].state == "open"
    assert clock(record, now=t("2025-10-15 00:00"))["summary_report"].state == "overdue"


def test_bad_now_and_unknown_fulfilled_id(rec) -> None:
    with pytest.raises(ClockError, match="now"):
        clock(rec(), now=dt.datetime(2025, 9, 30, 10))
    with pytest.raises(ClockError, match="report_to_mars"):
        clock(rec(), fulfilled={"report_to_mars": NOW})


# -- progress reports --------------------------------------------------------------------------


def test_progress_report_first_after_initial_due_then_every_two_hours(rec) -> None:
    record = rec(**GRADE_FACTS["I"])
    p = clock(record, now=t("2025-09-30 12:00"))["progress_report"]
    assert (p.due, p.every, p.state, p.clause) == (t("2025-09-30 13:10"), "PT2H", "open", "NFRA 第四十五条")
    early = {"regulator_initial_report": t("2025-09-30 10:00")}
    assert clock(record, now=t("2025-09-30 11:00"), fulfilled=early)["progress_report"].due == t("2025-09-30 12:00")
    reported = {**early, "progress_report": t("2025-09-30 12:30")}
    nxt = clock(record, now=t("2025-09-30 13:00"), fulfilled=reported)["progress_report"]
    assert (nxt.due, nxt.state) == (t("2025-09-30 14:30"), "open")  # a fulfilment does not close it
    assert clock(record, now=t("2025-09-30 15:00"), fulfilled=reported)["progress_report"].state == "overdue"


def test_progress_report_cii_follows_the_one_hour_initial_report(rec) -> None:
    assert clock(rec(cii=True, **GRADE_FACTS["I"]))["progress_report"].due == t("2025-09-30 12:10")


def test_progress_report_stops_when_handling_ends(rec) -> None:
    reported = {"regulator_initial_report": t("2025-09-30 10:00"), "progress_report": t("2025-09-30 12:30")}
    ended = rec(handling_ended_at="2025-09-30T14:00:00+08:00", **GRADE_FACTS["I"])
    p = clock(ended, now=t("2025-09-30 16:00"), fulfilled=reported)["progress_report"]
    assert (p.due, p.state) == (None, "fulfilled") and "结束" in (p.note or "")
    late = rec(handling_ended_at="2025-09-30T16:00:00+08:00", **GRADE_FACTS["I"])
    missed = clock(late, now=t("2025-09-30 16:30"), fulfilled=reported)["progress_report"]
    assert (missed.due, missed.state) == (t("2025-09-30 14:30"), "overdue")  # owed before handling ended


# -- re-grade ----------------------------------------------------------------------------------


def test_regrade_keeps_counting_from_discovery(rec) -> None:
    first = rec(important_system=True, outage={"provinces": 1, "hours": 0.2, "business_hours": True})
    before = obligations(first, grade(first), None, t("2025-09-30 12:00"))
    assert [o.id for o in before] == ["investigation_report"]
    worse = first.revised(outage={"provinces": 1, "hours": 1, "business_hours": True})
    g = regrade(worse, grade(first), reason="中断持续超过半小时", at=t("2025-09-30 12:00"))
    after = {o.id: o for o in obligations(worse, g, None, t("2025-09-30 12:00"))}
    assert g.grade == "III"
    assert after["regulator_initial_report"].due == t("2025-09-30 11:10")
    assert after["regulator_initial_report"] in to_raise(after.values())  # overdue the moment it appears


# -- rule-set versions -------------------------------------------------------------------------


def synthetic_rules(tmp_path: Path, version: str = "synthetic-2026", effective: str = "2026-01-01") -> Path:
    (shipped,) = shipped_rule_sets()
    data = shipped.model_dump(mode="json", by_alias=True)
    data.update(version=version, effective_from=effective)
    data["obligations"][0]["cases"][1]["due"]["hours"] = 4  # regulator_initial_report: 4 h instead of 2
    folder = tmp_path / "rules"
    folder.mkdir(exist_ok=True)
    (folder / f"obligations-{version}.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return folder


def test_rule_set_in_force_at_discovery(tmp_path: Path, rec) -> None:
    folder = synthetic_rules(tmp_path)
    sets = [*shipped_rule_sets(), *load_rule_sets(folder)]
    assert rule_set_for(t("2025-12-31 23:59"), sets).version == "nfra-draft-2024"
    assert rule_set_for(t("2026-01-01 00:00"), sets).version == "synthetic-2026"
    utc_eve = dt.datetime(2025, 12, 31, 16, 30, tzinfo=dt.timezone.utc)  # 2026-01-01 00:30 in Beijing
    assert rule_set_for(utc_eve, sets).version == "synthetic-2026"
    with pytest.raises(ClockError, match="没有生效"):
        rule_set_for(t("2019-12-31 10:00"), sets)

    old = rec(occurred_at="2025-12-31T23:00:00+08:00", discovered_at="2025-12-31T23:50:00+08:00", **GRADE_FACTS["III"])
    new = rec(occurred_at="2025-12-31T23:00:00+08:00", discovered_at="2026-01-01T00:10:00+08:00", **GRADE_FACTS["III"])
    o_old = clock(old, now=t("2026-01-01 00:00"), rule_sets=sets)["regulator_initial_report"]
    o_new = clock(new, now=t("2026-01-01 00:20"), rule_sets=sets)["regulator_initial_report"]
    assert (o_old.due, o_old.rules_version) == (t("2026-01-01 01:50"), "nfra-draft-2024")
    assert (o_new.due, o_new.rules_version) == (t("2026-01-01 04:10"), "synthetic-2026")


def test_rule_files_validated(tmp_path: Path) -> None:
    folder = synthetic_rules(tmp_path)
    wrong = folder / "obligations-other-name.yaml"
    (folder / "obligations-synthetic-2026.yaml").rename(wrong)
    with pytest.raises(ClockError, match="文件名"):
        load_rule_set(wrong)
    bad = yaml.safe_load(wrong.read_text(encoding="utf-8"))
    bad["version"] = "other-name"
    bad["obligations"][0]["owner"] = "nobody"
    wrong.write_text(yaml.safe_dump(bad, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ClockError, match="nobody"):
        load_rule_set(wrong)


# -- CLI ---------------------------------------------------------------------------------------


def run_clock(*args: str) -> Any:
    return runner.invoke(incident_app, ["clock", *args])


def test_cli_clock_all_regimes_without_profile() -> None:
    # --now after every time of the record (confirmed 14:00): the clock judges the record at --now
    result = run_clock(str(FIXTURES / "grade-iii-pfi-leak.json"), "--now", "2025-09-30T14:30:00+08:00")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    rows = {o["id"]: o for o in out["obligations"]}
    assert set(rows) == {
        "regulator_initial_report", "regulator_written_report", "internal_written_report", "police_report",
        "pboc_pfi_report", "subject_notification", "pfi_response_steps", "credit_event_report", "summary_report",
        "investigation_report",
    }
    first = out["obligations"][0]
    assert list(first)[:4] == ["id", "due", "source", "state"]
    assert rows["regulator_initial_report"] == {**rows["regulator_initial_report"], "due": "2025-09-30T12:00:00+08:00",
                                                "source": "NFRA 第四十五条", "state": "overdue"}
    assert rows["pboc_pfi_report"]["state"] == "overdue"  # discovered 10:00, "immediately" = 11:00
    assert rows["regulator_written_report"]["due"] == "2025-09-30T22:00:00+08:00"
    assert rows["summary_report"]["due"] is None and rows["summary_report"]["state"] == "pending"


def test_cli_clock_with_profile_leaves_out_disabled_regimes() -> None:
    result = run_clock(str(FIXTURES / "grade-iii-pfi-leak.json"), "--profile", str(DEMO), "--now", "2025-09-30T14:30:00+08:00")
    assert result.exit_code == 0, result.output
    ids = [o["id"] for o in json.loads(result.stdout)["obligations"]]
    assert "police_report" not in ids and "internal_written_report" in ids  # demo: TENPAY off, CUSTINFO on


@pytest.mark.parametrize("command", ["clock", "grade"])
@pytest.mark.parametrize(("field", "value", "problem"), [
    ("discovered_at", "2030-09-30T10:00:00+08:00", "晚于当前时间"),  # a typed year: a clock in the future
    ("confirmed_at", "2025-09-30T14:06:00+08:00", "晚于当前时间"),  # beyond the 300 s skew of --now
    ("occurred_at", "0001-09-29T22:00:00+08:00", "早于本机构记录起始日"),  # year 1 cannot be computed
])
def test_cli_refuses_times_no_declaration_can_have(tmp_path: Path, command: str, field: str, value: str, problem: str) -> None:
    """Issue 13 (8): a time later than --now (default the wall clock) plus the skew, or before the
    institution's records begin, is refused naming the field; no clock is started."""
    record = json.loads((FIXTURES / "grade-iii-pfi-leak.json").read_text(encoding="utf-8"))
    if field == "discovered_at":
        del record["confirmed_at"]  # else the order check (confirmed before discovered) speaks first
    record[field] = value
    path = tmp_path / "r.json"
    path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(incident_app, [command, str(path), "--now", "2025-09-30T14:00:00+08:00"])
    assert result.exit_code == 2, result.output
    assert field in result.output and problem in result.output and "Traceback" not in result.output
    within_skew = record | {field: "2025-09-30T14:04:00+08:00"} if field == "confirmed_at" else None
    if within_skew:
        path.write_text(json.dumps(within_skew, ensure_ascii=False), encoding="utf-8")
        assert runner.invoke(incident_app, [command, str(path), "--now", "2025-09-30T14:00:00+08:00"]).exit_code == 0


def test_cli_clock_day_counted_due_printed_at_23_59_59(tmp_path: Path) -> None:
    record = json.loads((FIXTURES / "grade-iii-pfi-leak.json").read_text(encoding="utf-8"))
    path = tmp_path / "r.json"
    path.write_text(json.dumps(record | {"handling_ended_at": "2025-10-10T17:00:00+08:00"}, ensure_ascii=False), encoding="utf-8")
    result = run_clock(str(path), "--now", "2025-10-10T18:00:00+08:00")
    rows = {o["id"]: o for o in json.loads(result.stdout)["obligations"]}
    # 5 working days from the day after handling ended (NFRA 48): Oct 11 (a make-up working day) .. Oct 17
    assert rows["summary_report"]["due"].endswith("T23:59:59+08:00") and rows["summary_report"]["state"] == "open"


def test_cli_clock_does_not_take_a_typed_end_of_response() -> None:
    """Issue 12 (9), from the outside review: the preview agrees with what declare stores: the end
    of the response is the closing's last approval, so a typed one starts no 30-day clock."""
    result = run_clock(str(FIXTURES / "grade-iv-minor.json"), "--now", "2025-10-10T18:00:00+08:00")
    rows = json.loads(result.stdout)["obligations"]
    assert [(r["id"], r["due"], r["state"]) for r in rows] == [("investigation_report", None, "pending")]
    assert "不予采用" in result.stderr


def test_cli_clock_calendar_missing_exits_3_after_printing() -> None:
    """Issue 13, exit codes: 3 is "no calendar data for a year needed"."""
    result = run_clock(str(FIXTURES / "summary-into-2027.json"), "--now", "2026-12-28T19:00:00+08:00")
    assert result.exit_code == 3
    rows = {o["id"]: o for o in json.loads(result.stdout)["obligations"]}
    assert rows["summary_report"]["state"] == "calendar_missing" and rows["summary_report"]["due"] is None
    assert "summary_report" in result.stderr and "2027" in result.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["naive-time.json"], "discovered_at"),
        (["grade-iii-pfi-leak.json", "--now", "2025-09-30T11:00:00"], "--now"),
        (["grade-iii-pfi-leak.json", "--now", "yesterday"], "--now"),
        (["grade-iii-pfi-leak.json", "--profile", "/nonexistent/profile.yaml"], "profile.yaml"),
    ],
)
def test_cli_clock_bad_input_exit_2(args: list[str], expected: str) -> None:
    result = run_clock(str(FIXTURES / args[0]), *args[1:])
    assert result.exit_code == 2 and result.stdout == ""
    assert expected in result.stderr


def test_cli_clock_cii_refused_by_profile(tmp_path: Path) -> None:
    text = DEMO.read_text(encoding="utf-8").replace("cii_operator: true", "cii_operator: false")
    profile = tmp_path / "no-cii.yaml"
    profile.write_text(text, encoding="utf-8")
    result = run_clock(str(FIXTURES / "grade-i-cii-outage.json"), "--profile", str(profile), "--now", "2025-09-30T10:00:00+08:00")
    assert result.exit_code == 2 and "cii_operator" in result.stderr


def test_cli_help_lists_commands() -> None:
    result = runner.invoke(incident_app, ["--help"])
    assert result.exit_code == 0 and "grade" in result.stdout and "clock" in result.stdout


def test_cli_clock_marks_a_provisional_deadline_and_exits_4(tmp_path: Path) -> None:
    """Issue 13 (4), from the outside review: a deadline resting on late-December days of a year
    whose successor's notice is not loaded is printed, marked provisional, and exits 4."""
    record = {"title": "核心系统中断", "occurred_at": "2026-12-20T09:00:00+08:00", "discovered_at": "2026-12-20T09:10:00+08:00",
              "discovered_by": "监控中心", "system_name": "核心业务系统", "category": "equipment_failure",
              "important_system": True, "outage": {"provinces": 1, "hours": 1, "business_hours": True},
              "handling_ended_at": "2026-12-22T10:00:00+08:00"}
    path = tmp_path / "r.json"
    path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    result = run_clock(str(path), "--now", "2026-12-22T12:00:00+08:00")
    assert result.exit_code == 4
    rows = {o["id"]: o for o in json.loads(result.stdout)["obligations"]}
    assert rows["summary_report"]["provisional"] is True and rows["summary_report"]["due"] == "2026-12-29T23:59:59+08:00"
    assert "provisional" not in rows["regulator_initial_report"]
    assert "summary_report" in result.stderr and "载入后重算" in result.stderr
