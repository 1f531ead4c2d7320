"""Grading rule by rule (NFRA appendix), edges included; CQ-PLAN levels; re-grades; the grade CLI."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from regflows.incident.cli import incident_app
from regflows.incident.grading import GRADES, grade, grading_rules, higher, regrade
from regflows.incident.record import IncidentRecord

FIXTURES = Path(__file__).parent / "fixtures" / "incidents"
BJ = dt.timezone(dt.timedelta(hours=8))
runner = CliRunner()


@pytest.fixture
def outage(rec: Callable[..., IncidentRecord]) -> Callable[..., IncidentRecord]:
    """A function that returns a record of an outage: ``outage(provinces, hours, *, important=True, business_hours=True)``."""
    def outage(provinces: int, hours: float, *, important: bool = True, business_hours: bool = True) -> IncidentRecord:
        return rec(important_system=important, outage={"provinces": provinces, "hours": hours, "business_hours": business_hours})
    return outage


def test_rules_load_and_cite_clauses() -> None:
    rules = grading_rules()
    assert rules.version == "nfra-draft-2024"
    assert all(c.clause.startswith("NFRA 附件") for c in rules.criteria)
    assert len(rules.interpretations) >= 4
    assert higher("II", "I") == "I" and higher("III", "IV") == "III"


def test_nothing_matched_is_iv(rec) -> None:
    g = grade(rec())
    assert (g.grade, g.warning, g.response_level, g.criteria) == ("IV", "blue", "IV", [])
    assert "NFRA 附件（四）" in g.reasons[0]


@pytest.mark.parametrize(
    ("level", "expected", "clause"),
    [("especially_major", "I", "（一）1"), ("major", "II", "（二）1"), ("larger", "III", "（三）1"), ("general", "IV", "（四）")],
)
def test_data_incident_levels(level: str, expected: str, clause: str, rec) -> None:
    g = grade(rec(data_incident=level))
    assert g.grade == expected and g.criteria == [f"data_{level}"]
    assert f"NFRA 附件{clause}】" in g.reasons[0]


@pytest.mark.parametrize(
    ("provinces", "hours", "expected"),
    [
        # two or more provinces: >= 3 h is I, [0.5, 3) is II, below 0.5 h no outage criterion
        (2, 3, "I"), (2, 2.99, "II"), (2, 0.5, "II"), (2, 0.49, "IV"), (5, 8, "I"), (3, 0.5, "II"),
        # one province: >= 6 h I, [3, 6) II, [0.5, 3) III, below 0.5 h nothing
        (1, 6, "I"), (1, 5.99, "II"), (1, 3, "II"), (1, 2.99, "III"), (1, 0.5, "III"), (1, 0.49, "IV"), (1, 0, "IV"),
    ],
)
def test_outage_thresholds_lower_inclusive_upper_exclusive(provinces: int, hours: float, expected: str, outage) -> None:
    g = grade(outage(provinces, hours))
    assert g.grade == expected, g.reasons
    if expected != "IV":
        assert f"{provinces} 个省级行政区业务无法正常开展 {hours:g} 小时" in g.reasons[0]
        assert "NFRA 附件（" in g.reasons[0] and "）2】" in g.reasons[0]
    else:
        assert any("未达到停机条款的下限" in r for r in g.reasons)


def test_two_provinces_half_hour_is_ii_one_province_is_iii(outage) -> None:
    assert grade(outage(2, 0.5)).grade == "II"
    assert grade(outage(1, 0.5)).grade == "III"


def test_outage_of_a_non_important_system_does_not_count(outage) -> None:
    g = grade(outage(5, 10, important=False))
    assert g.grade == "IV" and g.criteria == []
    assert any("不是重要信息系统" in r for r in g.reasons)


def test_outage_outside_business_hours_does_not_count(outage) -> None:
    g = grade(outage(2, 8, business_hours=False))
    assert g.grade == "IV"
    assert any("不在业务服务时段" in r for r in g.reasons)


@pytest.mark.parametrize(
    ("value", "expected", "clause"),
    [
        ("cii_admin", "I", "（一）3(2)"),
        ("important_system_admin", "II", "（二）3(2)"),
        ("important_system_intruded", "III", "（三）3(2)"),
        ("other_system_admin", "III", "（三）3(2)"),
    ],
)
def test_compromise_grades_automatically(value: str, expected: str, clause: str, rec) -> None:
    g = grade(rec(compromise=value, cii=value == "cii_admin"))
    assert g.grade == expected and g.criteria == [value]
    assert clause in g.reasons[0]


@pytest.mark.parametrize(
    ("value", "expected", "clause"),
    [("large_scale_spread", "I", "（一）3(1)"), ("wide_spread", "II", "（二）3(1)"), ("with_impact", "III", "（三）3(1)")],
)
def test_defacement_grades_automatically(value: str, expected: str, clause: str, rec) -> None:
    g = grade(rec(defacement=value))
    assert g.grade == expected and clause in g.reasons[0]


def test_highest_matching_grade_wins_and_all_reasons_kept(rec) -> None:
    g = grade(rec(data_incident="larger", defacement="wide_spread", compromise="cii_admin", cii=True))
    assert g.grade == "I" and g.computed_grade == "I"
    assert g.criteria == ["cii_admin", "defacement_wide", "data_larger"]
    assert [r.split(" ")[0] for r in g.reasons] == ["I", "II", "III"]
    assert all("【" in r and r.endswith("】") for r in g.reasons)


def test_assessed_grade_raises(rec) -> None:
    g = grade(rec(data_incident="general", assessed_grade="II", assessed_reason="引发持续负面舆情"))
    assert (g.grade, g.computed_grade, g.assessed_grade) == ("II", "IV", "II")
    assert g.reasons[0].startswith("II 级（重大）：综合研判") and "引发持续负面舆情" in g.reasons[0]


def test_assessed_grade_never_lowers(rec) -> None:
    g = grade(rec(data_incident="especially_major", assessed_grade="IV", assessed_reason="影响有限"))
    assert g.grade == "I" and g.computed_grade == "I"
    assert any("不予调低" in r for r in g.reasons)
    same = grade(rec(data_incident="larger", assessed_grade="III", assessed_reason="与客观条款一致"))
    assert same.grade == "III" and any("一致" in r for r in same.reasons)


@pytest.mark.parametrize(
    ("record", "warning", "zh", "issuer", "lead", "implementer", "approvals"),
    [
        (dict(data_incident="especially_major"), "red", "红色", "emergency_working_group", "leadership_group",
         "emergency_working_group", ("emergency_working_group", "leadership_group")),
        (dict(data_incident="major"), "orange", "橙色", "emergency_working_group", "emergency_working_group",
         "emergency_working_group", ("emergency_working_group",)),
        (dict(data_incident="larger"), "yellow", "黄色", "division", "division", "division",
         ("division", "emergency_working_group")),
        (dict(), "blue", "蓝色", "division", "division", "division", ("division", "development_centre", "service_provider")),
    ],
)
def test_cq_plan_levels(record: dict[str, Any], warning: str, zh: str, issuer: str, lead: str, implementer: str,
                        approvals: tuple[str, ...], rec) -> None:
    g = grade(rec(**record))
    assert (g.warning, g.warning_zh, g.warning_issuer, g.lead, g.implementer) == (warning, zh, issuer, lead, implementer)
    assert g.response_level == g.grade
    assert g.ending.approvals_required == approvals
    assert g.ending.clause.startswith("CQ-PLAN 第四篇三")


def test_ending_roles_per_level(rec) -> None:
    i, ii, iii, iv = (grade(rec(data_incident=d)) for d in ("especially_major", "major", "larger", "general"))
    assert (i.ending.by, i.ending.approved_by) == ("emergency_working_group", "leadership_group")  # proposes / approves
    assert (ii.ending.by, ii.ending.approved_by, ii.ending.together_with) == ("emergency_working_group", None, [])
    assert (iii.ending.by, iii.ending.approved_by) == ("division", "emergency_working_group")  # decides / consents
    # CQ-PLAN 第四篇三（四）: 由事件发生处室会同发展中心与专业服务机构决定
    assert (iv.ending.by, iv.ending.together_with) == ("division", ["development_centre", "service_provider"])
    assert [roles for roles, _ in i.ending.steps] == [("emergency_working_group",), ("leadership_group",)]
    assert [roles for roles, _ in iii.ending.steps] == [("division",), ("emergency_working_group",)]
    assert [roles for roles, _ in iv.ending.steps] == [("division", "development_centre", "service_provider")]


def test_regrade_records_reason_and_history(rec) -> None:
    first_record = rec(outage={"provinces": 1, "hours": 1, "business_hours": True}, important_system=True)
    first = grade(first_record)
    assert first.grade == "III"
    longer = first_record.revised(outage={"provinces": 1, "hours": 6, "business_hours": True})
    at = dt.datetime(2025, 9, 30, 15, 0, tzinfo=BJ)
    second = regrade(longer, first, reason="中断持续至 6 小时，联系人 13812345678", at=at, by="zhao.lei")
    assert (second.grade, len(second.history)) == ("I", 1)
    entry = second.history[0]
    assert (entry.from_grade, entry.to_grade, entry.by, entry.at) == ("III", "I", "zhao.lei", at)
    assert "13812345678" not in entry.reason
    assert "重新定级：III 级 → I 级" in second.reasons[-1]
    third = regrade(first_record, second, reason="核实中断时长为 1 小时", at=at + dt.timedelta(hours=1))
    assert third.grade == "III" and [h.to_grade for h in third.history] == ["I", "III"]


def test_regrade_needs_reason_and_aware_time(rec) -> None:
    g = grade(rec())
    with pytest.raises(ValueError, match="理由"):
        regrade(rec(), g, reason="  ", at=dt.datetime(2025, 9, 30, 10, tzinfo=BJ))
    with pytest.raises(ValueError, match="时区"):
        regrade(rec(), g, reason="x", at=dt.datetime(2025, 9, 30, 10))


def test_grades_constant_order() -> None:
    assert GRADES == ("I", "II", "III", "IV")


# -- CLI ------------------------------------------------------------------------------------


def test_cli_grade_prints_contract() -> None:
    result = runner.invoke(incident_app, ["grade", str(FIXTURES / "grade-i-cii-outage.json")])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert {k: out[k] for k in ("grade", "warning", "response_level")} == {"grade": "I", "warning": "red", "response_level": "I"}
    assert out["reasons"] and all("【NFRA" in r for r in out["reasons"])
    assert out["end_approvals"] == ["emergency_working_group", "leadership_group"]


def test_cli_grade_iii_and_iv() -> None:
    assert json.loads(runner.invoke(incident_app, ["grade", str(FIXTURES / "grade-iii-pfi-leak.json")]).stdout)["warning"] == "yellow"
    assert json.loads(runner.invoke(incident_app, ["grade", str(FIXTURES / "grade-iv-minor.json")]).stdout)["grade"] == "IV"


@pytest.mark.parametrize(
    ("name", "expected"),
    [("naive-time.json", "naive-time.json 第 4 行 「发现时间」（discovered_at）"), ("bad-fields.json", "category"),
     ("not-json.json", "JSON 语法错误"), ("absent.json", "文件不存在")],
)
def test_cli_grade_bad_input_exit_2(name: str, expected: str) -> None:
    result = runner.invoke(incident_app, ["grade", str(FIXTURES / name)])
    assert result.exit_code == 2 and result.stdout == ""
    assert expected in result.stderr
