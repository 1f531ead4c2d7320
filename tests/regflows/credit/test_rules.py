"""违规查询 / 异常查询 rules case by case, with their edges (PBOC-102 attachment 3 8.1, II(4)).

Fixed dates in 2025 only: 2025-09-28 (Sunday) is a make-up working day for the National Day
holiday; 2025-10-01..08 are holidays.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from dataclasses import replace

import pandas as pd
import pytest

from regflows.credit.io import read_log, read_users
from regflows.credit.models import Period, Thresholds
from regflows.credit.rules import apply_rules
from regflows.credit.settings import thresholds
from regflows.settings import CreditSettings

SEP = Period(2025, 9)


@pytest.fixture
def flags(write_csv: Callable[..., Path]) -> Callable[..., dict[str, str]]:
    """A function: query_id → the rules that flagged it ("" when clean)."""
    def flags(tmp_path: Path, rows: list[dict], period: Period = SEP, users: list[dict] | None = None,
              th: Thresholds | None = None) -> dict[str, str]:
        log = read_log(write_csv(tmp_path / "log.csv", rows)).frame
        u = None
        if users is not None:
            cols = list(users[0])
            u = read_users(write_csv(tmp_path / "users.csv", users, columns=cols)).frame
        result = apply_rules(log, period, th or thresholds(), u)
        out = {r["query_id"]: "" for r in rows}
        for qid, rules in zip(result.flagged["query_id"], result.flagged["rules"]):
            out[qid] = rules
        return out
    return flags


# -- 违规查询 (attachment 3, 8.1) ------------------------------------------------------------
def test_authorization_dated_the_same_day_is_valid_the_next_day_is_not(tmp_path: Path, flags, row) -> None:
    got = flags(tmp_path, [
        row("same", "2025-09-10 10:00:00", authorized_at="2025-09-10"),
        row("next", "2025-09-10 10:00:00", authorized_at="2025-09-11"),
        row("late-night", "2025-09-10T23:30:00+08:00", authorized_at="2025-09-10"),
    ])
    assert got == {"same": "", "next": "authorization_after_query", "late-night": "off_hours"}


def test_expiry_day_itself_is_valid(tmp_path: Path, flags, row) -> None:
    got = flags(tmp_path, [
        row("on-expiry", "2025-09-10 10:00:00", authorization_expires="2025-09-10"),
        row("after-expiry", "2025-09-11 10:00:00", authorization_expires="2025-09-10"),
    ])
    assert got == {"on-expiry": "", "after-expiry": "authorization_expired"}


def test_no_authorization_is_a_rule_finding_and_counted_only_as_unauthorized(tmp_path: Path, flags, row) -> None:
    got = flags(tmp_path, [
        row("none", "2025-09-10 10:00:00", authorization_id="", authorized_at=""),
        row("none-at-night", "2025-09-10 22:00:00", authorization_id="", authorized_at=""),
        row("undated", "2025-09-10 10:00:00", authorized_at=""),
    ])
    assert got["none"] == "no_authorization"
    # each query counted once, 违规 before 异常: the night-time query is not also 异常
    assert got["none-at-night"] == "no_authorization"
    assert got["undated"] == "no_authorization"
    log = read_log(tmp_path / "log.csv").frame
    result = apply_rules(log, SEP, thresholds())
    assert result.counts == {"YX0001": {"unauthorized_query": 3}}


def test_utc_offset_is_converted_to_shanghai_day(tmp_path: Path, flags, row) -> None:
    # 2025-09-09 17:00 UTC is 2025-09-10 01:00 in Shanghai: authorization of the 10th is same-day
    got = flags(tmp_path, [row("utc", "2025-09-09T17:00:00Z", authorized_at="2025-09-10")])
    assert got == {"utc": "off_hours"}


# -- 异常查询: hours and the official calendar ---------------------------------------------------
def test_working_hours_bounds_are_inside(tmp_path: Path, flags, row) -> None:
    got = flags(tmp_path, [
        row("0830", "2025-09-10 08:30:00"),
        row("1800", "2025-09-10 18:00:00"),
        row("082959", "2025-09-10 08:29:59"),
        row("180001", "2025-09-10 18:00:01"),
        row("180000.5", "2025-09-10 18:00:00.500"),
    ])
    assert got == {"0830": "", "1800": "", "082959": "off_hours", "180001": "off_hours", "180000.5": "off_hours"}


def test_make_up_saturday_is_a_working_day_and_sunday_is_not(tmp_path: Path, flags, row) -> None:
    got = flags(tmp_path, [
        row("makeup", "2025-09-28 10:00:00"),  # 调休上班 (National Day 2025)
        row("sunday", "2025-09-21 10:00:00"),
        row("saturday", "2025-09-20 10:00:00"),
    ])
    assert got == {"makeup": "", "sunday": "off_hours", "saturday": "off_hours"}


def test_national_day_holiday_weekday_is_not_a_working_day(tmp_path: Path, flags, row) -> None:
    got = flags(tmp_path, [row("holiday", "2025-10-02 10:00:00"), row("work", "2025-10-09 10:00:00")],
                period=Period(2025, 10))
    assert got == {"holiday": "off_hours", "work": ""}


def test_thresholds_come_from_profile_settings_with_defaults(tmp_path: Path, flags, row) -> None:
    defaults = thresholds(None)
    assert (defaults.work_start, defaults.work_end, defaults.daily_limit) == (dt.time(8, 30), dt.time(18, 0), 250)
    assert (defaults.repeat_limit, defaults.repeat_window_days) == (3, 30)
    assert defaults.reason_codes[:3] == ("01", "02", "03") and defaults.enterprise_reason_codes[-1] == "18"
    th = thresholds(CreditSettings(credit_work_end="17:30:00", credit_daily_query_limit=2))
    assert th.work_end == dt.time(17, 30) and th.daily_limit == 2 and th.work_start == dt.time(8, 30)
    got = flags(tmp_path, [row("a", "2025-09-10 17:45:00")], th=th)
    assert got == {"a": "off_hours"}


# -- 异常查询: volume -------------------------------------------------------------------------
def test_250th_query_of_a_user_is_normal_the_251st_is_abnormal(tmp_path: Path, flags, row) -> None:
    start = pd.Timestamp("2025-09-10 09:00:00")
    rows = [row(f"q{i:03d}", (start + pd.Timedelta(seconds=60 * i)).strftime("%Y-%m-%d %H:%M:%S"))
            for i in range(1, 252)]
    rows.append(row("other-user", "2025-09-10 09:00:00", user_id="u2"))
    rows.append(row("next-day", "2025-09-11 09:00:00"))
    got = flags(tmp_path, rows)
    flagged = {k: v for k, v in got.items() if v}
    assert flagged == {"q251": "daily_volume"}


def test_unauthorized_queries_still_count_towards_the_daily_volume(tmp_path: Path, flags, row) -> None:
    th = replace(thresholds(), daily_limit=2)
    got = flags(tmp_path, [
        row("a", "2025-09-10 09:00:00", authorization_id="", authorized_at=""),
        row("b", "2025-09-10 09:01:00"),
        row("c", "2025-09-10 09:02:00"),
    ], th=th)
    assert got == {"a": "no_authorization", "b": "", "c": "daily_volume"}


# -- 异常查询: the same subject within a rolling 30 days ------------------------------------------
def test_third_is_normal_fourth_is_abnormal_with_history_from_previous_month(tmp_path: Path, flags, row) -> None:
    subj = {"subject_id": "h:same"}
    got = flags(tmp_path, [
        row("h1", "2025-08-20 10:00:00", **subj),  # history: not counted, but in the window
        row("p2", "2025-09-02 10:00:00", **subj),
        row("p3", "2025-09-05 10:00:00", **subj),  # 3rd within 30 days
        row("p4", "2025-09-08 10:00:00", **subj),  # 4th within 30 days
        row("other-inst", "2025-09-08 11:00:00", institution="YX0101", region="四川省", **subj),
    ])
    assert got == {"h1": "", "p2": "", "p3": "", "p4": "repeat_subject", "other-inst": ""}


def test_rolling_window_drops_queries_thirty_days_old(tmp_path: Path, flags, row) -> None:
    subj = {"subject_id": "h:s"}
    got = flags(tmp_path, [
        row("h1", "2025-08-04 10:00:00", **subj),  # exactly 30 days before p4: outside (t-30d, t]
        row("h2", "2025-08-20 10:00:00", **subj),
        row("h3", "2025-08-25 10:00:00", **subj),
        row("p4", "2025-09-03 10:00:00", **subj),
        row("p5", "2025-09-03 10:00:01", **subj),
    ])
    assert got == {"h1": "", "h2": "", "h3": "", "p4": "", "p5": "repeat_subject"}


def test_history_rows_are_never_counted(tmp_path: Path, row, write_csv) -> None:
    log = read_log(write_csv(tmp_path / "log.csv", [
        row("old", "2025-08-31 23:00:00", authorization_id="", authorized_at=""),
    ])).frame
    result = apply_rules(log, SEP, thresholds())
    assert result.period_rows == 0 and result.flagged.empty and result.counts == {}


# -- 异常查询: the user's status at the time -----------------------------------------------------
def test_user_status_at_the_time(tmp_path: Path, flags, row) -> None:
    users = [
        {"user_id": "u-locked", "status": "locked", "formal_employee": "true", "status_since": "2025-09-15"},
        {"user_id": "u-susp", "status": "suspended", "formal_employee": "是", "status_since": ""},
        {"user_id": "u-temp", "status": "active", "formal_employee": "false", "status_since": ""},
        {"user_id": "u-ok", "status": "active", "formal_employee": "yes", "status_since": ""},
    ]
    got = flags(tmp_path, [
        row("before-lock", "2025-09-12 10:00:00", user_id="u-locked"),
        row("on-lock-day", "2025-09-15 10:00:00", user_id="u-locked"),
        row("suspended", "2025-09-10 10:00:00", user_id="u-susp"),
        row("temp", "2025-09-10 10:00:00", user_id="u-temp"),
        row("ok", "2025-09-10 10:00:00", user_id="u-ok"),
        row("locked-night", "2025-09-16 21:00:00", user_id="u-locked"),
    ], users=users)
    assert got == {"before-lock": "", "on-lock-day": "user_status", "suspended": "user_status", "temp": "user_status",
                   "ok": "", "locked-night": "user_status;off_hours"}


def test_unknown_user_is_a_warning_not_a_finding(tmp_path: Path, row, write_csv) -> None:
    log = read_log(write_csv(tmp_path / "log.csv", [row("a", "2025-09-10 10:00:00", user_id="ghost")])).frame
    users = read_users(write_csv(tmp_path / "u.csv", [{"user_id": "u1", "status": "active", "formal_employee": "true"}],
                                 columns=["user_id", "status", "formal_employee"])).frame
    result = apply_rules(log, SEP, thresholds(), users)
    assert result.flagged.empty
    assert any("ghost" in w for w in result.warnings)


def test_empty_period_gives_no_findings(tmp_path: Path, write_csv) -> None:
    log = read_log(write_csv(tmp_path / "log.csv", [])).frame
    result = apply_rules(log, SEP, thresholds())
    assert result.period_rows == 0 and result.flagged.empty


@pytest.mark.parametrize("seed", [1, 2])
def test_demo_log_planted_anomalies_are_found_exactly(seed: int) -> None:
    from regflows.credit.demo import generate
    from regflows.credit.io import parse_instants

    demo = generate(20_000, seed, SEP)
    frame = demo.frame.copy()
    frame["queried_at"] = parse_instants(frame["queried_at"])[0]
    result = apply_rules(frame, SEP, thresholds())
    assert result.flagged["rule"].value_counts().to_dict() == demo.expected
    again = generate(20_000, seed, SEP)
    assert again.frame.equals(demo.frame)


def test_demo_log_expects_only_the_repeated_subjects_inside_the_window() -> None:
    """October 2025 starts with the National Day week: some planted repeated-subject groups have
    their fourth query 30 days or more after their history query, and are not findings (issue 18).
    The generator's expected counts, which `regflows demo query-log` prints, say so."""
    from regflows.credit.demo import SHARES, generate

    october = Period(2025, 10)
    demo = generate(20_000, 1, october)
    result = apply_rules(demo.frame, october, thresholds())
    assert result.flagged["rule"].value_counts().to_dict() == demo.expected
    assert 0 < demo.expected["repeat_subject"] < int(20_000 * SHARES["repeat_subject"])


def test_subject_codes_by_parts_group_exactly_like_factorize() -> None:
    """The 30-day rule's subject codes, computed in parts two at a time, must put exactly the
    equal subjects together (the numbering may differ from pd.factorize)."""
    from regflows.credit.rules import _string_codes

    values = pd.Series(["h1", "h2", "h1", "", "é", "h10", "", "中文", "h2", "é", "h01", "h1"] * 50, dtype="str")
    codes, distinct = _string_codes(values, parts=3, min_rows=0)
    expected, uniques = pd.factorize(values)
    assert distinct == len(uniques)
    pairs = pd.DataFrame({"a": expected, "b": codes}).drop_duplicates()
    assert len(pairs) == len(uniques) and pairs["a"].is_unique and pairs["b"].is_unique
    # missing values keep pd.factorize's codes (-1) exactly
    with_missing = pd.Series(["h1", None, "h1"], dtype="str")
    assert _string_codes(with_missing, min_rows=0)[0].tolist() == [0, -1, 0]


# -- 异常查询 lead: a 查询原因 outside the agreed purposes (issue 12, point 15) ---------------------
def test_an_unlisted_reason_code_is_a_lead_per_subject_type(tmp_path: Path, flags, row) -> None:
    """PBOC-102 附件3 9.1 (不得用于约定外用途): a code outside its subject type's set is flagged
    ``reason_not_agreed`` (异常查询), each type against its own set (01 is 贷后管理 for a person,
    贷前审查 for an enterprise); 违规 still comes first."""
    got = flags(tmp_path, [
        row("p-ok", "2025-09-10 10:00:00", reason_code="01"),
        row("p-enterprise-code", "2025-09-10 10:00:00", reason_code="17"),  # 额度审批 of an enterprise report
        row("e-ok", "2025-09-10 10:00:00", subject_type="enterprise", reason_code="17"),
        row("e-person-code", "2025-09-10 10:00:00", subject_type="enterprise", reason_code="08"),  # 担保资格审查 (person)
        row("unauthorized", "2025-09-10 10:00:00", reason_code="99", authorization_id="", authorized_at=""),
    ])
    assert got == {"p-ok": "", "p-enterprise-code": "reason_not_agreed", "e-ok": "",
                   "e-person-code": "reason_not_agreed", "unauthorized": "no_authorization"}


def test_objection_check_code_05_is_allowed_by_default(tmp_path: Path, flags, row) -> None:
    """PBOC-102 附件3 10.1: handling objections (异议核查与处理) is a duty, so 05 异议核查 is an agreed
    purpose of a personal report by default; a profile that leaves it out flags it."""
    assert "05" in thresholds().reason_codes
    assert flags(tmp_path, [row("objection", "2025-09-10 10:00:00", reason_code="05")]) == {"objection": ""}
    th = thresholds(CreditSettings(credit_reason_codes=["01", "02"]))
    assert flags(tmp_path, [row("objection", "2025-09-10 10:00:00", reason_code="05")], th=th) == {
        "objection": "reason_not_agreed"}


# -- thresholds written down (issue 12, point 16) ---------------------------------------------------
def test_user_status_counting_is_a_setting(tmp_path: Path, flags, row) -> None:
    """PBOC-102 附件3 5.4 (locked, stopped users) and 5.7 (no users for non-formal employees): which
    statuses count and whether a non-formal employee's query counts as 异常 are settings."""
    users = [
        {"user_id": "u-locked", "status": "locked", "formal_employee": "true", "status_since": ""},
        {"user_id": "u-susp", "status": "suspended", "formal_employee": "true", "status_since": ""},
        {"user_id": "u-temp", "status": "active", "formal_employee": "false", "status_since": ""},
    ]
    rows = [row("locked", "2025-09-10 10:00:00", user_id="u-locked"), row("susp", "2025-09-10 10:00:00", user_id="u-susp"),
            row("temp", "2025-09-10 10:00:00", user_id="u-temp")]
    th = thresholds(CreditSettings(credit_blocked_user_statuses=["locked"], credit_non_formal_user_abnormal=False))
    assert flags(tmp_path, rows, users=users, th=th) == {"locked": "user_status", "susp": "", "temp": ""}


def test_every_threshold_is_written_down_with_its_clause() -> None:
    """Issue 12, point 16: working hours, the daily cap (附件3 5.1's 150-250 is a daily *average* for
    sizing centralised users, not a cap), the 30-day repeat limit, 违规 before 异常 and the user
    statuses are interpretations: each is a setting citing its clause and a row of the README's
    Interpretations table naming that clause."""
    fields = CreditSettings.model_fields
    clause = {name: str((fields[name].json_schema_extra or {})["clause"]) for name in fields}  # type: ignore[index]
    assert "13.3" in clause["credit_work_start"] and "13.3" in clause["credit_work_end"]
    assert "5.1" in clause["credit_daily_query_limit"] and "日均" in clause["credit_daily_query_limit"]
    assert "13.3" in clause["credit_repeat_subject_limit"]
    assert "5.4" in clause["credit_blocked_user_statuses"] and "5.7" in clause["credit_non_formal_user_abnormal"]
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("## Interpretations"):]
    rows = {line.split("|")[1].strip(): line for line in table.splitlines() if line.startswith("| ")}
    expected = {
        "working hours of the credit query log": ("08:30", "18:00", "13.3", "credit_work_start"),
        "a user's daily query cap": ("250", "5.1", "日均", "credit_daily_query_limit"),
        "queries of one subject within 30 days": ("3", "13.3", "credit_repeat_subject_limit"),
        "a query both 违规 and 异常": ("8.1", "违规"),
        "locked, suspended or non-formal users": ("5.4", "5.7", "credit_blocked_user_statuses"),
        "a 查询原因 code outside the agreed set": ("9.1", "10.1", "reason_not_agreed"),
    }
    for question, words in expected.items():
        assert question in rows, question
        assert all(w in rows[question] for w in words), (question, words)


def test_a_partitions_rows_and_first_positions_without_the_row_length_arrays() -> None:
    """Issue 18, goal 1: the membership of a partition's rows (a RangeIndex) in the month's hits,
    and each institution's first position, computed without row-length hash tables or integer
    arrays, answer exactly as the general ways do."""
    import numpy as np

    from regflows.credit.rules import _first_positions, rows_among

    rng = np.random.default_rng(5)
    hits = np.unique(rng.integers(0, 50_000, 9_000))
    for start, stop in [(0, 1_000), (20_000, 31_000), (49_000, 60_000), (70_000, 70_500), (0, 0)]:
        index = pd.RangeIndex(start, stop)
        assert (rows_among(index, hits) == rows_among(pd.Index(np.arange(start, stop)), hits)).all()
    codes = rng.integers(-1, 30, 100_000)
    ref_values, ref_first = np.unique(codes, return_index=True)
    values, first = _first_positions(codes)
    assert values.tolist() == ref_values.tolist() and first.tolist() == ref_first.tolist()
    sparse = np.array([7, 10**12, 7, -4])  # too spread for a table: the hash path
    assert [v.tolist() for v in _first_positions(sparse)] == [[-4, 7, 10**12], [3, 0, 1]]
    # and their memory: a million rows' membership in one bool array (1 MB; the general way, four
    # integer arrays: 32 MB), first positions in an index array (8 MB; a hash table: ~40 MB)
    import tracemalloc

    many = rng.integers(-1, 30, 1_000_000)
    tracemalloc.start()
    try:
        rows_among(pd.RangeIndex(2_000_000, 3_000_000), np.arange(0, 10_000_000, 97))
        assert tracemalloc.get_traced_memory()[1] < 4 * 2**20
        tracemalloc.reset_peak()
        _first_positions(many)
        assert tracemalloc.get_traced_memory()[1] < 20 * 2**20
    finally:
        tracemalloc.stop()
