"""The scoring engine (issue 16, items 2 and 4): each of the 18 indicators earning full marks,
losing a deduction and floored at zero; the fixed facts' edges; exact decimals; the grade bands
at their edges; 第十五条's one step; 第十六条's zero; the contradictions and the cap at 100."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from regflows.rating.model import RatingModel
from regflows.rating.scoring import RatingResult, compare, grade_of
from regflows.settings import RatingSettings

Scored = Callable[..., RatingResult]
D = Decimal

#: indicator → (evidence earning full marks, evidence costing a deduction with the indicator's
#: points then, evidence flooring it at zero). Full-marks evidence writes the facts out
#: explicitly (a clean value), not only {}.
CASES: dict[str, tuple[dict[str, Any], tuple[dict[str, Any], str], dict[str, Any]]] = {
    "1": ({"1.1": {"mechanism_defects": 0}, "1.2": {"unimplemented_tasks": 0}},
          ({"1.2": {"unimplemented_tasks": 1}}, "1.8"),
          {"1.1": {"mechanism_defects": 6}, "1.2": {"unimplemented_tasks": 6}}),
    "2": ({"2.1": {"missing_policies": 0, "missing_key_policies": 0}, "2.2": {"unrevised_policies": 0}},
          ({"2.1": {"missing_key_policies": 1}, "2.3": {"unfiled_policies": 2}}, "3.1"),
          {"2.1": {"missing_policies": 11}, "2.2": {"unrevised_policies": 6}, "2.3": {"unfiled_policies": 6}}),
    "3": ({"3.1": {"audit_done": True}, "3.2": {"late_audit_reports": 0}},
          ({"3.2": {"late_audit_reports": 1}}, "3.5"),
          {"3.1": {"audit_done": False}}),
    "4": ({"4.1": {"departments_without_owner": 0}},
          ({"4.1": {"departments_without_owner": 1}}, "5.5"),
          {"4.1": {"departments_without_owner": 5}, "4.2": {"training_rounds_missed": 5}, "4.3": {"record_failures": 5}}),
    "5": ({"5.1": {"user_count_deviation": 0.1}, "5.3": {"shared_or_public_users": 0}},
          ({"5.6": {"password_failures": 1}}, "7.5"),
          {"5.1": {"user_count_deviation": 0.5}, "5.2": {"not_real_name": 11}, "5.3": {"shared_or_public_users": 1},
           "5.4": {"stop_failures": 3}, "5.5": {"unapproved_operations": 1}, "5.6": {"password_failures": 3},
           "5.7": {"non_formal_users": 2}}),
    "6": ({"6.1": {"targeting": "full"}, "6.2": {"training_pass_rate": 0.95}, "6.3": {"training_coverage": 1}},
          ({"6.2": {"training_pass_rate": 0.7}}, "5"),
          {"6.1": {"targeting": "none"}, "6.2": {"training_pass_rate": 0.5}, "6.3": {"trained": False}}),
    "7": ({"7.3": {"data_quality_score": 97}},
          ({"7.1": {"unauthorised_submissions": 2}}, "4.6"),
          {"7.1": {"unauthorised_submissions": 6}, "7.2": {"notice_failures": 5}, "7.3": {"data_quality_score": 94.5}}),
    "8": ({"8.1": {"unauthorized_queries": 0, "major_impact": False}},
          ({"8.1": {"unauthorized_queries": 1}}, "5"),
          {"8.1": {"unauthorized_queries": 4}, "8.2": {"incomplete_authorisations": 21}, "8.3": {"unregistered_queries": 6}}),
    "9": ({"9.2": {"illegal_provisions": 0}},
          ({"9.1": {"purpose_unclear": 3}}, "5.7"),
          {"9.1": {"purpose_misused": 3}, "9.2": {"illegal_provisions": 1}, "9.3": {"leaks": 5}}),
    "10": ({"10.5": {"unreported_lawsuits": 0, "lawsuit_lost": False}},
           ({"10.4": {"uncooperative": 1}}, "5"),
           {"10.1": {"late_replies": 6}, "10.2": {"late_corrections": 6}, "10.3": {"unrecorded": 6},
            "10.4": {"uncooperative": 3}, "10.5": {"unreported_lawsuits": 6}}),
    "11": ({"11.1": {"creation_failures": 0}},
           ({"11.2": {"change_failures": 1}}, "2.8"),
           {"11.1": {"creation_failures": 5}, "11.2": {"change_failures": 6}}),
    "12": ({"12.1": {"not_archived": False, "archive_defects": 0}},
           ({"12.1": {"archive_defects": 1}}, "3.5"),
           {"12.1": {"archive_defects": 5}, "12.2": {"unrelated_access": 3}}),
    "13": ({"13.1": {"deficiencies": 0, "not_implemented": False}},
           ({"13.1": {"deficiencies": 1}, "13.2": {"deficiencies": 1}}, "8.5"),
           {"13.1": {"deficiencies": 4}, "13.2": {"deficiencies": 5}, "13.3": {"deficiencies": 5}, "13.4": {"deficiencies": 4}}),
    "14": ({"14": {"deficiencies": 0}},
           ({"14": {"deficiencies": 1}}, "8"),
           {"14": {"deficiencies": 6}}),
    "15": ({"15.2": {"deficiencies": 0}},
           ({"15.1": {"deficiencies": 2}}, "8"),
           {"15.1": {"deficiencies": 6}, "15.2": {"deficiencies": 6}}),
    "16": ({"16": {"failures": 0}},
           ({"16": {"failures": 1}}, "2"),
           {"16": {"failures": 4}}),
    "17": ({"17": {"poor_work": 0}},
           ({"17": {"poor_work": 1}}, "3"),
           {"17": {"poor_work": 5}}),
    # 18 is a bonus with two states: recognised earns its 2; not recognised loses the 2 (its
    # 计分标准2, 不得分), which is both its deduction and its floor.
    "18": ({"18": {"recognised": True}},
           ({"18": {"recognised": False}}, "0"),
           {"18": {}}),
}


def _indicator(result: RatingResult, model: RatingModel, indicator: str) -> list[Any]:
    ids = {i.id for i in model.items if i.indicator == indicator}
    return [i for i in result.items if i.id in ids]


def _traced(result: RatingResult) -> None:
    """Every lost point is a listed deduction: full marks − deductions = points, for every item."""
    for item in result.items:
        assert item.max - sum((d.points for d in item.deductions), D(0)) == item.points, item.id
        assert item.points >= 0


def test_every_indicator_has_its_three_cases() -> None:
    assert list(CASES) == [str(n) for n in range(1, 19)]


@pytest.mark.parametrize("indicator", list(CASES))
def test_full_marks(indicator: str, scored: Scored, model: RatingModel) -> None:
    result = scored(CASES[indicator][0])
    items = _indicator(result, model, indicator)
    assert all(i.points == i.max and not i.deductions for i in items)
    expected = sum((model.item(i.id).full_marks("cap_at_value") for i in items), D(0))
    assert sum((i.points for i in items), D(0)) == expected
    _traced(result)


@pytest.mark.parametrize("indicator", list(CASES))
def test_a_deduction(indicator: str, scored: Scored, model: RatingModel) -> None:
    evidence, points = CASES[indicator][1]
    result = scored(evidence)
    items = _indicator(result, model, indicator)
    assert sum((i.points for i in items), D(0)) == D(points)
    deductions = [d for i in items for d in i.deductions]
    assert deductions and all(d.points > 0 and "PBOC-102 附件3 指标" in d.rule and "计分标准" in d.rule for d in deductions)
    _traced(result)


@pytest.mark.parametrize("indicator", list(CASES))
def test_floored_at_zero(indicator: str, scored: Scored, model: RatingModel) -> None:
    result = scored(CASES[indicator][2])
    items = _indicator(result, model, indicator)
    assert [i.points for i in items] == [0] * len(items)
    _traced(result)


def test_a_floor_says_what_was_actually_taken(scored: Scored) -> None:
    item = next(i for i in scored({"8.1": {"unauthorized_queries": 4}}).items if i.id == "8.1")
    assert item.points == 0
    (deduction,) = item.deductions
    assert deduction.points == 3
    assert "unauthorized_queries = 4" in deduction.evidence and "4 笔 × 1 分 = 4 分" in deduction.evidence
    assert "扣完为止，实扣 3 分" in deduction.evidence


def test_ten_deductions_of_a_tenth_from_one_leave_exactly_zero(scored: Scored) -> None:
    nine = next(i for i in scored({"9.1": {"purpose_unclear": 9}}).items if i.id == "9.1")
    ten = next(i for i in scored({"9.1": {"purpose_unclear": 10}}).items if i.id == "9.1")
    assert nine.points == D("0.1") and str(nine.points) == "0.1"
    assert ten.points == D(0) and ten.points.is_zero()
    assert ten.deductions[0].points == D("1.0") and "扣完为止" not in ten.deductions[0].evidence  # exact, not floored
    assert sum([0.1] * 10) != 1.0  # what binary floats would have done


def _points(result: RatingResult, item_id: str) -> Decimal:
    return next(i.points for i in result.items if i.id == item_id)


@pytest.mark.parametrize(("audit_done", "late", "expected"), [
    (True, 0, ("2", "2")), (True, 1, ("2", "1.5")), (True, 4, ("2", "0")), (True, 6, ("2", "0")), (False, 0, ("0", "0")),
])
def test_3_1_and_3_2_audit(scored: Scored, audit_done: bool, late: int, expected: tuple[str, str]) -> None:
    result = scored({"3.1": {"audit_done": audit_done}, "3.2": {"late_audit_reports": late}})
    assert (_points(result, "3.1"), _points(result, "3.2")) == (D(expected[0]), D(expected[1]))


def test_3_2_caps_the_late_reports_at_2_in_its_evidence(scored: Scored) -> None:
    item = next(i for i in scored({"3.2": {"late_audit_reports": 6}}).items if i.id == "3.2")
    assert item.deductions[0].points == 2 and "本条最多扣 2 分" in item.deductions[0].evidence


@pytest.mark.parametrize(("deviation", "points"), [
    ("0", "1"), ("0.15", "1"), ("0.1501", "0.5"), ("0.30", "0.5"), ("0.3001", "0"), ("2", "0"),
])
def test_5_1_user_count_deviation(scored: Scored, deviation: str, points: str) -> None:
    assert _points(scored({"5.1": {"user_count_deviation": float(deviation)}}), "5.1") == D(points)


@pytest.mark.parametrize(("rate", "points"), [("1", "2"), ("0.8", "2"), ("0.7999", "1"), ("0.6", "1"), ("0.5999", "0"), ("0", "0")])
def test_6_2_training_pass_rate(scored: Scored, rate: str, points: str) -> None:
    assert _points(scored({"6.2": {"training_pass_rate": float(rate)}}), "6.2") == D(points)


@pytest.mark.parametrize(("coverage", "setting", "points"), [
    ("1", 1, "2"), ("0.99", 1, "1"), ("0.6", 1, "1"), ("0.6", 2, "2"), ("0.5999", 1, "1"), ("0.5999", 2, "1"), ("0", 2, "1"),
])
def test_6_3_coverage_between_60_and_100_is_a_setting(scored: Scored, coverage: str, setting: int, points: str) -> None:
    settings = RatingSettings(rating_training_coverage_partial_points=setting)
    assert _points(scored({"6.3": {"training_coverage": float(coverage)}}, settings=settings), "6.3") == D(points)


@pytest.mark.parametrize(("quality", "points"), [
    ("100", "2"), ("97", "2"), ("96.99", "1.5"), ("96", "1.5"), ("95.99", "1"), ("95", "1"), ("94.99", "0"),
])
def test_7_3_data_quality_score(scored: Scored, quality: str, points: str) -> None:
    assert _points(scored({"7.3": {"data_quality_score": float(quality)}}), "7.3") == D(points)


def test_7_3_band_and_events_add_up_and_floor(scored: Scored) -> None:
    result = scored({"7.3": {"data_quality_score": 96.5, "dispute_errors": 5, "missing_data_kinds": 1}})
    item = next(i for i in result.items if i.id == "7.3")
    assert [d.points for d in item.deductions] == [D("0.5"), D("1"), D("0.5")]  # the last floored: 2 - 0.5 - 1 = 0.5 left
    assert item.points == 0


def test_8_1_major_impact_scores_zero(scored: Scored) -> None:
    result = scored({"8.1": {"unauthorized_queries": 1, "major_impact": True}})
    item = next(i for i in result.items if i.id == "8.1")
    assert item.points == 0 and [d.points for d in item.deductions] == [1, 2]


@pytest.mark.parametrize(("item_id", "each", "full"), [
    ("13.1", "1", "3"), ("13.2", "0.5", "2"), ("13.3", "0.5", "2"), ("13.4", "1", "3"), ("14", "2", "10"), ("15.1", "1", "5"),
    ("15.2", "1", "5"),
])
def test_places_of_part_four(scored: Scored, item_id: str, each: str, full: str) -> None:
    assert _points(scored({item_id: {"deficiencies": 1}}), item_id) == D(full) - D(each)
    assert _points(scored({item_id: {"deficiencies": 1, "not_implemented": True}}), item_id) == 0
    assert _points(scored({item_id: {"deficiencies": 100}}), item_id) == 0


# -- total, grade, conditions --------------------------------------------------------------------

def test_a_clean_year_under_each_reading(scored: Scored) -> None:
    plain = scored()
    assert (plain.score, plain.grade, plain.parts) == (97, "A", {"1": 10, "2": 20, "3": 30, "4": 30, "5": 7})
    assert scored({"18": {"recognised": True}}).score == 99  # cap_at_value: 16 and 17 at 3 and 4, 18 adds 2


def test_the_cap_at_100_under_rule_text(scored: Scored) -> None:
    result = scored({"18": {"recognised": True}}, settings=RatingSettings(rating_contradictions="rule_text"))
    assert result.total == 102 and result.score == 100 and result.grade == "A"
    assert result.parts["5"] == 12
    assert [(i.points, i.max) for i in result.items if i.id in ("16", "17")] == [(5, 5), (5, 5)]
    assert any("超过满分的部分不计" in n for n in result.notes)
    without = scored(settings=RatingSettings(rating_contradictions="rule_text"))
    assert (without.total, without.score) == (100, 100)


#: Evidence losing exactly 7 points (14: 3 places × 2; 5.6: 3 × 0.5 floored at 1): 97 − 7 = 90.
NINETY = {"14": {"deficiencies": 3}, "5.6": {"password_failures": 3}}


@pytest.mark.parametrize(("points", "grade"), [
    ("59", "D"), ("59.9", "D"), ("60", "C"), ("74", "C"), ("74.5", "C"), ("75", "B"), ("89", "B"), ("89.5", "B"),
    ("89.9", "B"), ("90", "A"), ("100", "A"), ("0", "D"),
])
def test_grade_bands_at_their_edges(points: str, grade: str) -> None:
    assert grade_of(D(points), RatingSettings().rating_grade_floors) == grade


def test_a_profile_may_read_89_5_as_an_a() -> None:
    floors = RatingSettings(rating_grade_floors={"A": 89.5, "B": 75, "C": 60}).rating_grade_floors
    assert floors["A"] == D("89.5")
    assert grade_of(D("89.5"), floors) == "A" and grade_of(D("89.4"), floors) == "B"


def test_grade_floors_out_of_order_are_refused() -> None:
    with pytest.raises(ValueError, match="0 < C < B < A"):
        RatingSettings(rating_grade_floors={"A": 70, "B": 75, "C": 60})


def test_the_engine_grades_90_and_89_5(scored: Scored) -> None:
    ninety = scored(NINETY)
    assert (ninety.score, ninety.grade) == (90, "A")
    below = scored({**NINETY, "3.2": {"late_audit_reports": 1}})
    assert (below.score, below.grade) == (D("89.5"), "B")


def test_a_downgrade_from_a_to_b(scored: Scored) -> None:
    result = scored(downgrade_conditions=[3])
    assert (result.score, result.grade_before_downgrade, result.grade, result.downgraded_by) == (97, "A", "B", (3,))


def test_two_conditions_still_one_step(scored: Scored) -> None:
    result = scored(downgrade_conditions=[5, 3])
    assert (result.grade, result.downgraded_by) == ("B", (3, 5))


#: Part four at zero (−30), 9.2 (−3), 8.1 (−3), 9.3 (−2): 97 − 38 = 59.
FIFTY_NINE: dict[str, Any] = {
    **{i: {"not_implemented": True} for i in ("13.1", "13.2", "13.3", "13.4", "14", "15.1", "15.2")},
    "9.2": {"illegal_provisions": 1}, "8.1": {"major_impact": True}, "9.3": {"major_impact": True},
}


def test_d_stays_d(scored: Scored) -> None:
    plain = scored(FIFTY_NINE)
    assert (plain.score, plain.grade, plain.parts["4"]) == (59, "D", 0)
    downgraded = scored(FIFTY_NINE, downgrade_conditions=[1, 7])
    assert (downgraded.grade_before_downgrade, downgraded.grade) == ("D", "D")


def test_a_zero_condition(scored: Scored) -> None:
    result = scored(zero_conditions=[2])
    assert (result.score, result.grade, result.zeroed_by) == (0, "0", (2,))
    assert result.total == 97  # the items are still scored and shown
    assert any("第十六条" in n for n in result.notes)


def test_candidates_are_never_applied(scored: Scored) -> None:
    result = scored(downgrade_candidates=[{"condition": 3, "what": "2026年3月统计表迟报", "source": "credit-stats"}])
    assert (result.grade, result.downgraded_by) == ("A", ())
    assert any("待确认的第十五条（3）情形，未计入：2026年3月统计表迟报" in n for n in result.notes)


def test_the_comparison_with_last_year(scored: Scored) -> None:
    last = scored({"8.1": {"unauthorized_queries": 1}, "14": {"deficiencies": 2}}, year=2025)
    this = scored({"8.1": {"unauthorized_queries": 2}, "18": {"recognised": True}}, downgrade_conditions=[3])
    found = compare(this, last)
    assert (found.previous_year, found.year) == (2025, 2026)
    assert (found.score.previous, found.score.current, found.score.delta) == (92, 97, 5)  # 97 − 1 − 4; 97 − 2 + 2
    assert (found.previous_grade, found.grade) == ("A", "B")
    assert [(c.id, c.previous, c.current) for c in found.items] == [("8.1", 2, 1), ("14", 6, 10), ("18", 0, 2)]
    assert [c.delta for c in found.parts] == [0, 0, -1, 4, 2]
    with pytest.raises(ValueError, match="应早于本年度"):
        compare(last, this)


@pytest.mark.parametrize(("item_id", "fact", "text", "points"), [
    ("7.3", "data_quality_score", "96.99999999999999999", "1.5"),  # a binary float reads 97.0: full marks
    ("7.3", "data_quality_score", "95.999999999999999999", "1"),  # a binary float reads 96.0: only 0.5 lost
    ("5.1", "user_count_deviation", "0.30000000000000000001", "0"),  # a binary float reads 0.3: 0.5 kept
    ("6.2", "training_pass_rate", "0.79999999999999999999", "1"),  # a binary float reads 0.8: full marks
])
def test_decimals_are_read_from_their_text_never_through_a_binary_float(model: RatingModel, evidence_text: Callable[..., str],
                                                                       item_id: str, fact: str, text: str, points: str) -> None:
    from regflows.rating.evidence import parse_evidence
    from regflows.rating.scoring import score

    written = evidence_text({item_id: {fact: "PLACEHOLDER"}}).replace("PLACEHOLDER", text)
    evidence = parse_evidence(written, "e.yaml", model)
    assert evidence.items[item_id][fact] == D(text)
    item = next(i for i in score(model, evidence, RatingSettings()).items if i.id == item_id)
    assert item.points == D(points)
    assert all(f"{fact} = {text}" in d.evidence for d in item.deductions) and item.deductions
