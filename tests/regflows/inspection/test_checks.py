"""The user checks (issue 15, item 2) at their edges, on the official calendar of 2025 Q4:
National Day 10-01..10-08 off, 09-28 (Sunday) and 10-11 (Saturday) make-up working days."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from regflows.inspection.checks import (
    CHECK_IDS, RULES_FILE, QueryHistory, check_rules, over_days_off, query_history, run_checks,
)
from regflows.inspection.users import CHECK_COLUMNS, OPTIONAL_COLUMNS
from regflows.inspection.models import Quarter
from regflows.inspection.users import User, UsersFile
from regflows.kit.errors import RuleFileError
from regflows.settings import InspectionSettings

Q = Quarter.parse("2025Q4")
D = dt.date
LOGS_FROM = D(2025, 1, 1)
ALL_COLUMNS = frozenset(CHECK_COLUMNS + OPTIONAL_COLUMNS)


def user(user_id: str = "u1", **changes: Any) -> User:
    base = User(line=2, user_id=user_id, person_id="p1", roles=frozenset({"query"}), query_mode="distributed",
                status="active", status_since=None, formal_employee=True, created_at=D(2024, 1, 2),
                filed_at=D(2024, 1, 3), password_changed_at=D(2025, 12, 20), password_policy_ok=True,
                password_reused=False, changed_at=None, direct_user=False)
    return dataclasses.replace(base, **changes)


def run(*users: User, per_day: dict[str, dict[dt.date, int]] | None = None, first_day: dt.date | None = LOGS_FROM,
        columns: frozenset[str] = ALL_COLUMNS, last_day: dt.date | None = None, **settings: Any) -> dict[str, Any]:
    numbered = [dataclasses.replace(u, line=i + 2) for i, u in enumerate(users)]
    results = run_checks(UsersFile(tuple(numbered), columns, "t"), QueryHistory(first_day, per_day or {}, last_day), Q,
                         InspectionSettings(**settings))
    assert list(results) == list(CHECK_IDS)
    return {check: {f.user_id: f.detail for f in r.findings} if r.count is not None else r.not_evaluated
            for check, r in results.items()}


def busy(user_id: str) -> dict[str, dict[dt.date, int]]:
    """A query every day of 2025 (so only the check under test can trip)."""
    return {user_id: {D(2025, 1, 1) + dt.timedelta(days=i): 1 for i in range(365)}}


# -- idle_not_locked (附件3 5.4) -----------------------------------------------------------------

def gap(last_query: dt.date, next_query: dt.date | None) -> dict[str, dict[dt.date, int]]:
    """A query every day of 2025 but none after ``last_query`` until ``next_query`` (None: none after)."""
    days = busy("u1")["u1"]
    return {"u1": {d: n for d, n in days.items() if d <= last_query or (next_query is not None and d >= next_query)}}


@pytest.mark.parametrize(("last_query", "next_query", "tripped"), [
    (D(2025, 9, 1), D(2025, 10, 2), True),  # 09-02..10-01: 30 days, the 30th the quarter's first day
    (D(2025, 9, 1), D(2025, 10, 1), False),  # 09-02..09-30: 29 days, a query on 10-01
    (D(2025, 11, 1), D(2025, 12, 2), True),  # 11-02..12-01: 30 days in the quarter
    (D(2025, 11, 1), D(2025, 11, 30), False),  # 11-02..11-29: 28 days
    (D(2025, 12, 1), None, True),  # 12-02..12-31: 30 days, the 30th the quarter's last day
    (D(2025, 12, 2), None, False),  # 12-03..12-31: 29 days
])
def test_idle_run_whose_30th_day_falls_in_the_quarter(last_query: dt.date, next_query: dt.date | None, tripped: bool) -> None:
    found = run(user(), per_day=gap(last_query, next_query))["idle_not_locked"]
    assert ("u1" in found) is tripped
    if tripped:
        nth = last_query + dt.timedelta(days=30)
        assert found["u1"] == f"自 {last_query + dt.timedelta(days=1)} 起连续 30 天无查询（第 30 天为 {nth}），当日仍为在用状态，未锁定"


def test_idle_run_begun_before_the_quarter_is_found_on_its_first_day() -> None:
    """Review of issue 15, item 1: a run whose 30th day is before the quarter, the user still idle
    and active in it, is a run of 30 days without a query ending in the quarter (10-01)."""
    found = run(user(), per_day=gap(D(2025, 8, 1), D(2025, 10, 5)))["idle_not_locked"]
    assert found == {"u1": "自 2025-08-02 起无查询（第 30 天为 2025-08-31），至本季度 2025-10-01 已连续 61 天无查询，"
                           "当日仍为在用状态，未锁定"}
    # locked in the quarter before (09-15): not active on any day of this one
    assert run(user(status="locked", status_since=D(2025, 9, 15)), per_day=gap(D(2025, 8, 1), None))["idle_not_locked"] == {}


def test_a_user_who_never_queries_is_idle() -> None:
    """Review of issue 15, item 1 (X-NEVER, X-C0): no query in the logs at all, created long ago."""
    never = {"other": {LOGS_FROM: 1}}
    found = run(user(created_at=D(2025, 1, 4)), user("c0", query_mode="centralised"), per_day=never)["idle_not_locked"]
    assert list(found) == ["u1", "c0"]
    assert found["u1"].startswith("自 2025-01-04 起无查询") and found["c0"].startswith("自 2025-01-01 起无查询")


def test_idle_only_on_days_the_logs_cover() -> None:
    never: dict[str, dict[dt.date, int]] = {"u1": {}}
    # created 12-02 (30 days to 12-31), but the logs end on 12-30: the 30th day is not covered
    assert run(user(created_at=D(2025, 12, 2)), per_day=never, last_day=D(2025, 12, 30))["idle_not_locked"] == {}
    assert list(run(user(created_at=D(2025, 12, 2)), per_day=never, last_day=D(2025, 12, 31))["idle_not_locked"]) == ["u1"]
    assert "不含本季度" in run(user(), per_day=never, last_day=D(2025, 9, 30))["idle_not_locked"]


@pytest.mark.parametrize(("active_since", "tripped"), [(D(2025, 12, 2), True), (D(2025, 12, 3), False)])
def test_idle_run_of_a_user_active_again_starts_on_that_day(active_since: dt.date, tripped: bool) -> None:
    u = user(status="active", status_since=active_since)
    assert ("u1" in run(u, per_day=gap(D(2025, 7, 1), None))["idle_not_locked"]) is tripped


@pytest.mark.parametrize(("locked_on", "tripped"), [(D(2025, 10, 1), False), (D(2025, 10, 2), True)])
def test_idle_user_locked_on_its_30th_day_passes_locked_the_day_after_does_not(locked_on: dt.date, tripped: bool) -> None:
    u = user(status="locked", status_since=locked_on)
    assert ("u1" in run(u, per_day={"u1": {D(2025, 9, 1): 1}})["idle_not_locked"]) is tripped


def test_idle_run_starts_at_creation_or_where_the_logs_begin() -> None:
    never: dict[str, dict[dt.date, int]] = {"u1": {}, "u2": {}}
    created = run(user("u1", created_at=D(2025, 12, 2)), user("u2", created_at=D(2025, 12, 3)), per_day=never)
    assert list(created["idle_not_locked"]) == ["u1"]  # 12-02..12-31 is 30 days; from 12-03 only 29
    # created long ago, logs from 12-02: the run starts where the logs begin
    assert list(run(user(), per_day=never, first_day=D(2025, 12, 2))["idle_not_locked"]) == ["u1"]
    assert run(user(), per_day=never, first_day=D(2025, 12, 3))["idle_not_locked"] == {}


def test_idle_ignores_non_query_users_and_needs_logs() -> None:
    assert run(user(roles=frozenset({"report"})), per_day={})["idle_not_locked"] == {}
    assert "没有任何查询" in run(user(), per_day={}, first_day=None)["idle_not_locked"]


def test_query_history_counts_beijing_days_and_covers_from_the_first_query_to_the_last() -> None:
    logs = pd.DataFrame({
        "query_id": ["q1", "q2", "q3"], "user_id": ["u1", "u1", "u2"],
        "queried_at": pd.to_datetime(["2025-09-30T16:30:00Z", "2025-10-01T09:00:00+08:00", "2025-08-15T23:59:00+08:00"], utc=True),
    })
    h = query_history([logs.iloc[:2], logs.iloc[2:]])
    assert h.per_day == {"u1": {D(2025, 10, 1): 2}, "u2": {D(2025, 8, 15): 1}}  # 16:30Z is 00:30 the next day in Beijing
    assert (h.first_day, h.last_day) == (D(2025, 8, 15), D(2025, 10, 1))  # the real days, not the 1st of the month
    naive = query_history(logs.assign(queried_at=pd.to_datetime(["2025-09-30 23:00"] * 3)), covered_from=D(2025, 7, 1))
    assert naive.count("u1", D(2025, 9, 30), D(2025, 9, 30)) == 2 and naive.first_day == D(2025, 7, 1)


# -- low_volume_not_suspended (附件3 5.1) --------------------------------------------------------

@pytest.mark.parametrize(("queries", "tripped"), [(20 * 128, False), (20 * 128 - 1, True)])
def test_distributed_average_exactly_20_passes_19_99_does_not(queries: int, tripped: bool) -> None:
    # 2025-07-01..12-31 has 128 official working days (National Day off, 09-28 and 10-11 worked)
    found = run(user(), per_day={"u1": {D(2025, 7, 1): queries}})["low_volume_not_suspended"]
    assert ("u1" in found) is tripped
    if tripped:
        assert "查询 2559 笔，在用工作日 128 天，日均 19.99 笔，低于 20 笔" in found["u1"]


def test_distributed_average_counts_only_days_the_user_existed_and_was_active() -> None:
    # created 10-09, the first working day after the holiday: all 61 working days of Q4 are after it
    u = user(created_at=D(2025, 10, 9))
    found = run(u, per_day={"u1": {D(2025, 10, 9): 20 * 61 - 1}})["low_volume_not_suspended"]
    assert "在用工作日 61 天" in found["u1"]  # 10-11 (a Saturday worked) counts, 10-01..10-08 do not
    assert run(u, per_day={"u1": {D(2025, 10, 9): 20 * 61}})["low_volume_not_suspended"] == {}


def test_low_volume_skips_suspended_users_and_needs_six_months_of_logs() -> None:
    assert run(user(status="suspended", status_since=D(2025, 12, 1)), per_day={})["low_volume_not_suspended"] == {}
    assert run(user(query_mode="centralised"), per_day={})["low_volume_not_suspended"] == {}
    reason = run(user(), per_day={}, first_day=D(2025, 8, 1))["low_volume_not_suspended"]
    assert reason == "需要 2025-07-01 至 2025-12-31（6 个月）的查询日志，现有日志覆盖 自 2025-08-01 起"
    short = run(user(), per_day={}, last_day=D(2025, 12, 30))["low_volume_not_suspended"]
    assert short == "需要 2025-07-01 至 2025-12-31（6 个月）的查询日志，现有日志覆盖 2025-01-01 至 2025-12-30"


# -- centralised_out_of_range (附件3 5.1) --------------------------------------------------------

@pytest.mark.parametrize(("queries", "tripped"), [
    (150 * 61, False), (150 * 61 - 1, True), (250 * 61, False), (250 * 61 + 1, True), (0, True),
])
def test_centralised_average_inside_150_250_both_bounds_included(queries: int, tripped: bool) -> None:
    # Q4 2025 has 61 working days; counting Mondays-Fridays instead would give 66 and trip 150*61
    u = user(query_mode="centralised")
    found = run(u, per_day={"u1": {D(2025, 10, 11): queries}})["centralised_out_of_range"]
    assert ("u1" in found) is tripped
    if tripped:
        assert "在用工作日 61 天" in found["u1"]


def test_centralised_needs_the_quarters_logs() -> None:
    assert "现有日志覆盖 自 2025-10-02 起" in run(user(query_mode="centralised"), first_day=D(2025, 10, 2))["centralised_out_of_range"]
    assert "2025-10-01 至 2025-12-30" in run(user(query_mode="centralised"), first_day=D(2025, 10, 1),
                                             last_day=D(2025, 12, 30))["centralised_out_of_range"]


# -- roles, people, passwords (5.2, 5.3, 5.6, 5.7) -------------------------------------------------

def test_shared_roles_public_and_non_formal_users() -> None:
    found = run(
        user("both", roles=frozenset({"admin", "query"})),
        user("dispute", roles=frozenset({"query", "dispute"})),
        user("nobody", person_id=None),
        user("temp", formal_employee=False),
        user("temp-locked", formal_employee=False, status="locked", status_since=D(2025, 12, 31)),
        per_day={k: {D(2025, 12, 30): 1} for k in ("both", "dispute", "nobody", "temp", "temp-locked")},
    )
    assert found["shared_roles"] == {"both": "同时为管理员、查询用户"}
    assert found["public_user"] == {"nobody": "未填写对应人员：用户未落实到具体人员"}
    assert list(found["non_formal_user"]) == ["temp"]  # locked on the quarter's last day: not active


@pytest.mark.parametrize(("changed", "tripped"), [(D(2025, 12, 1), False), (D(2025, 11, 30), True)])
def test_password_changed_30_days_before_the_quarters_end_passes_31_does_not(changed: dt.date, tripped: bool) -> None:
    found = run(user(password_changed_at=changed), per_day=busy("u1"))["password_stale"]
    assert ("u1" in found) is tripped
    locked = user(password_changed_at=D(2025, 1, 1), status="locked", status_since=D(2025, 12, 1))
    assert run(locked)["password_stale"] == {}


def test_a_password_never_changed_counts_from_creation_and_the_policy_check() -> None:
    found = run(user("u1", password_changed_at=None, created_at=D(2025, 11, 1)),
                user("u2", password_policy_ok=False, password_reused=True))
    assert found["password_stale"]["u1"] == "未更换过口令，设立于 2025-11-01，距季末 2025-12-31 已 60 天，超过 30 天"
    assert found["password_policy"] == {"u2": "口令策略未对该用户生效；口令重复使用"}


# -- filing_late (附件3 5.2) ---------------------------------------------------------------------

@pytest.mark.parametrize(("filed", "tripped"), [(D(2025, 10, 10), False), (D(2025, 10, 11), True)])
def test_admin_filed_on_the_2nd_working_day_across_the_holiday_passes_the_3rd_does_not(filed: dt.date, tripped: bool) -> None:
    # created 09-30: working days after it are 10-09 (1st), 10-10 (2nd), 10-11 (3rd, a Saturday worked)
    admin = user(roles=frozenset({"admin"}), created_at=D(2025, 9, 30), filed_at=filed)
    direct = user("d1", roles=frozenset({"report"}), direct_user=True, created_at=D(2025, 9, 30), filed_at=filed)
    found = run(admin, direct)["filing_late"]
    assert sorted(found) == (["d1", "u1"] if tripped else [])
    if tripped:
        assert found["u1"] == "管理员用户于 2025-09-30 设立，应于 2025-10-10 前备案（2 个工作日），实际 2025-10-11 备案"


def test_filing_after_a_change_unfiled_users_and_other_users() -> None:
    found = run(
        user("changed", roles=frozenset({"admin"}), changed_at=D(2025, 11, 3), filed_at=D(2025, 9, 1)),
        user("late-dec", roles=frozenset({"admin"}), created_at=D(2025, 12, 30), filed_at=None),  # due 2026-01-05
        user("other", filed_at=None),
        user("other-next-q", filed_at=D(2026, 1, 5)),
        user("old-late", roles=frozenset({"admin"}), created_at=D(2024, 3, 1), filed_at=D(2024, 4, 1)),
    )["filing_late"]
    assert found == {
        "changed": "管理员用户于 2025-11-03 变更，应于 2025-11-05 前备案，截至季末 2025-12-31 未备案",
        "other": "截至季末 2025-12-31 未备案",
        "other-next-q": "截至季末 2025-12-31 未备案",
    }  # old-late: found in 2024 Q1/Q2's inspection, not every quarter again


def test_filing_without_its_optional_columns_evaluates_what_it_can_and_says_what_it_did_not() -> None:
    """Review of issue 15, item 11: an admin filed late needs neither changed_at nor direct_user."""
    admin = user("admin", roles=frozenset({"admin"}), created_at=D(2025, 10, 9), filed_at=D(2025, 10, 14))
    other = user("other", filed_at=None)
    timely = user("timely", roles=frozenset({"admin"}), created_at=D(2025, 10, 9), filed_at=D(2025, 10, 10))
    for absent in ({"changed_at"}, {"direct_user"}, {"changed_at", "direct_user"}):
        results = run_checks(UsersFile((admin, dataclasses.replace(other, line=3), dataclasses.replace(timely, line=4)),
                                       ALL_COLUMNS - absent, "t"), QueryHistory(D(2025, 1, 1), busy("u1")), Q)
        r = results["filing_late"]
        assert r.count == 2 and [f.user_id for f in r.findings] == ["admin", "other"]
        assert r.partial is not None and all(col in r.partial for col in absent)
    assert run_checks(UsersFile((admin,), ALL_COLUMNS, "t"), QueryHistory(D(2025, 1, 1), busy("u1")), Q)["filing_late"].partial is None


@pytest.mark.parametrize(("absent", "check"), [("password_reused", "password_policy"), ("person_id", "public_user"),
                                               ("formal_employee", "non_formal_user"), ("filed_at", "filing_late"),
                                               ("password_changed_at", "password_stale")])
def test_a_check_whose_column_is_absent_is_not_evaluated_the_others_run(absent: str, check: str) -> None:
    results = run_checks(UsersFile((user(password_reused=True, person_id=None),), ALL_COLUMNS - {absent}, "t"),
                         QueryHistory(D(2025, 1, 1), busy("u1")), Q)
    assert results[check].count is None and results[check].not_evaluated == f"用户文件缺少 {absent} 列"
    assert all(r.count is not None for c, r in results.items() if c != check)


# -- the rule file -----------------------------------------------------------------------------

def test_findings_carry_the_rule_files_title_and_clause() -> None:
    results = run_checks(UsersFile((user(person_id=None),), ALL_COLUMNS, "t"), QueryHistory(D(2025, 1, 1), busy("u1")), Q)
    finding = results["public_user"].findings[0]
    assert (finding.title, finding.line) == ("用户未落实到具体人员（公共用户）", 2)
    assert finding.clause == check_rules().rule("public_user").clause and finding.clause.startswith("PBOC-102 附件3 5.2")
    assert all(r.clause.startswith("PBOC-102 附件3") for r in check_rules().checks)


def test_a_rule_file_missing_a_check_or_naming_an_unknown_setting_is_refused(tmp_path: Path) -> None:
    text = RULES_FILE.read_text(encoding="utf-8")
    cut = tmp_path / "cut.yaml"
    cut.write_text(text.split("  - id: filing_late")[0], encoding="utf-8")
    with pytest.raises(RuleFileError, match="缺少检查项：filing_late"):
        check_rules(cut)
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(text.replace("[inspection_idle_days]", "[inspection_idle_dayz]"), encoding="utf-8")
    with pytest.raises(RuleFileError, match="设置项不存在：inspection_idle_dayz"):
        check_rules(wrong)


def test_query_history_takes_the_monthly_statistics_log_as_read(tmp_path: Path) -> None:
    """The frame regflows.credit.io.read_log gives (aware Beijing times, pyarrow strings): the
    same files feed both procedures (issue 15, "Inputs")."""
    from regflows.credit.io import read_log
    from regflows.credit.models import LOG_COLUMNS

    path = tmp_path / "query-log-2025-09.csv"
    rows = ["q1,2025-09-30 23:30:00,u1,I1,R1,S1,person,01,A1,2025-09-01",
            "q2,2025-09-30T16:00:00Z,u1,I1,R1,S1,person,01,A1,2025-09-01"]  # 10-01 00:00 in Beijing
    path.write_text(",".join(LOG_COLUMNS) + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    h = query_history(read_log(path).frame)
    assert h.per_day == {"u1": {D(2025, 9, 30): 1, D(2025, 10, 1): 1}} and h.first_day == D(2025, 9, 30)


@pytest.mark.parametrize(("first", "last", "covered"), [
    (D(2025, 10, 9), D(2025, 12, 31), (D(2025, 10, 1), D(2026, 1, 3))),  # National Day before, New Year after
    (D(2025, 10, 10), D(2025, 12, 30), (D(2025, 10, 10), D(2025, 12, 30))),  # 10-09, 12-31 working days: not assumed
    (D(2025, 10, 1), D(2025, 12, 26), (D(2025, 10, 1), D(2025, 12, 28))),  # Friday 12-26: the weekend after it
])
def test_the_logs_cover_the_days_off_around_them_not_a_working_day(first: dt.date, last: dt.date,
                                                                   covered: tuple[dt.date, dt.date]) -> None:
    h = over_days_off(QueryHistory(first, {"u1": {first: 1, last: 1}}, last))
    assert (h.first_day, h.last_day) == covered
    assert over_days_off(QueryHistory(None, {})).first_day is None
