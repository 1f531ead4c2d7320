"""The model as data (issue 16, item 1): exactly the 48 items, the table's sums, every row cited,
the contradictions written down, and a broken rule file refused in Chinese with file and line."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from regflows.kit.errors import RuleFileError
from regflows.kit.rulefiles import load_yaml_model
from regflows.rating.model import ITEM_IDS, Interval, RatingModel, Zero, model_file
from regflows.settings import RatingSettings

ISSUE_IDS = ("1.1 1.2 2.1 2.2 2.3 3.1 3.2 4.1 4.2 4.3 5.1 5.2 5.3 5.4 5.5 5.6 5.7 6.1 6.2 6.3 7.1 7.2 7.3 8.1 8.2 8.3 "
             "9.1 9.2 9.3 10.1 10.2 10.3 10.4 10.5 11.1 11.2 12.1 12.2 13.1 13.2 13.3 13.4 14 15.1 15.2 16 17 18").split()


def test_the_item_ids_are_exactly_the_48_of_the_table(model: RatingModel) -> None:
    assert [i.id for i in model.items] == ISSUE_IDS == list(ITEM_IDS)
    assert len(ISSUE_IDS) == 48


def test_points_add_up_to_each_part_and_to_100(model: RatingModel) -> None:
    sums = {p.id: sum((i.points for i in model.items if model.part_of(i) is p), Decimal(0)) for p in model.parts}
    assert sums == {"1": 10, "2": 20, "3": 30, "4": 30, "5": 10}
    assert {p.id: p.max for p in model.parts} == sums
    assert sum(sums.values()) == model.total == 100
    for indicator in model.indicators:  # and the brackets of every 一级指标
        assert sum((i.points for i in model.items if i.indicator == indicator.id), Decimal(0)) == indicator.max


def test_every_item_cites_its_row_and_every_rule_its_step(model: RatingModel) -> None:
    for item in model.items:
        assert item.clause == f"PBOC-102 附件3 指标 {item.id}"
        assert item.content and item.rules
        for rule in item.rules:
            assert 1 <= rule.step <= 4 and len(rule.text) >= 4


def test_the_contradictions_of_16_17_18_are_data_and_documented(model: RatingModel) -> None:
    assert (model.item("16").points, model.item("16").rule_text_full) == (3, 5)
    assert (model.item("17").points, model.item("17").rule_text_full) == (4, 5)
    assert (model.item("18").points, model.item("18").bonus) == (3, 2)
    assert [model.item(i).full_marks("cap_at_value") for i in ("16", "17", "18")] == [3, 4, 2]
    assert [model.item(i).full_marks("rule_text") for i in ("16", "17", "18")] == [5, 5, 2]
    text = model_file().read_text(encoding="utf-8")
    assert "cap_at_value" in text and "rule_text" in text and "102" in text  # the header says how they are handled


def test_the_fixed_fact_names_of_the_issue_are_declared(model: RatingModel) -> None:
    assert model.item("3.1").facts["audit_done"].type == "flag"
    assert model.item("3.2").facts["late_audit_reports"].type == "count"
    assert model.item("5.1").facts["user_count_deviation"].type == "decimal"
    assert model.item("6.2").facts["training_pass_rate"].type == "decimal"
    assert model.item("7.3").facts["data_quality_score"].type == "decimal"
    assert {"unauthorized_queries", "major_impact"} <= set(model.item("8.1").facts)
    for item_id, each in zip(("13.1", "13.2", "13.3", "13.4", "14", "15.1", "15.2"), ("1", "0.5", "0.5", "1", "2", "1", "1")):
        item = model.item(item_id)
        assert set(item.facts) == {"deficiencies", "not_implemented"}
        assert [getattr(r, "each", None) for r in item.rules if r.fact == "deficiencies"] == [Decimal(each)]
    assert set(model.item("18").facts) == {"recognised"}
    # 3.2's 不得分 reads 3.1's fact
    assert any(isinstance(r, Zero) and r.item == "3.1" and r.fact == "audit_done" for r in model.item("3.2").rules)


def test_amounts_are_exact_decimals(model: RatingModel) -> None:
    each = next(r for r in model.item("8.2").rules if r.fact == "incomplete_authorisations")
    assert each.each == Decimal("0.1") and str(each.each) == "0.1"  # not 0.1000000000000000055...


def test_the_band_setting_of_6_3_exists() -> None:
    assert "rating_training_coverage_partial_points" in RatingSettings.model_fields


def _broken(tmp_path: Path, old: str, new: str) -> tuple[Path, int]:
    path = tmp_path / "model.yaml"
    shutil.copy(model_file(), path)
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path, text[: text.index(old)].count("\n") + 1


def test_a_wrong_sum_is_refused_naming_the_indicator(tmp_path: Path) -> None:
    path, _ = _broken(tmp_path, "    title: 工作运转\n    points: 1\n", "    title: 工作运转\n    points: 1.5\n")
    with pytest.raises(RuleFileError, match="一级指标 1 组织设置及运转：二级指标分值合计 2.5，应为 2"):
        load_yaml_model(path, RatingModel, what="考核评级指标及标准")


def test_a_rule_reading_an_undeclared_fact_is_refused_with_its_line(tmp_path: Path) -> None:
    path, _ = _broken(tmp_path, "{step: 2, kind: per_count, fact: unauthorized_queries,", "{step: 2, kind: per_count, fact: unauthorised_queries,")
    text = path.read_text(encoding="utf-8")
    item_line = text[: text.index('  - id: "8.1"')].count("\n") + 1  # an item's problem is reported at the item
    with pytest.raises(RuleFileError) as caught:
        load_yaml_model(path, RatingModel, what="考核评级指标及标准")
    assert f"第 {item_line} 行 items[23]：指标 8.1 计分标准2 引用的事实 unauthorised_queries 未在 facts 中声明" in str(caught.value)


def test_a_missing_item_is_refused(tmp_path: Path) -> None:
    path, _ = _broken(tmp_path, '  - id: "5.7"\n', '  - id: "5.8"\n')
    path.write_text(path.read_text(encoding="utf-8").replace("clause: PBOC-102 附件3 指标 5.7", "clause: PBOC-102 附件3 指标 5.8"), encoding="utf-8")
    with pytest.raises(RuleFileError, match=r"缺少 \['5.7'\]，多出 \['5.8'\]"):
        load_yaml_model(path, RatingModel, what="考核评级指标及标准")


def test_overlapping_bands_are_refused(tmp_path: Path) -> None:
    path, _ = _broken(tmp_path, '{range: "[95, 96)", deduct: 1}', '{range: "[95, 96]", deduct: 1}')
    with pytest.raises(RuleFileError, match=r"区间 \[96, 97\) 与 \[95, 96\] 重叠"):
        load_yaml_model(path, RatingModel, what="考核评级指标及标准")


@pytest.mark.parametrize(("text", "inside", "outside"), [
    ("(0.15, 0.30]", ["0.1501", "0.30"], ["0.15", "0.3001"]),
    ("[96, 97)", ["96", "96.99"], ["95.99", "97"]),
    ("(, 95)", ["-1", "94.99"], ["95"]),
    ("(0.30, )", ["0.3001", "1000"], ["0.30"]),
])
def test_intervals(text: str, inside: list[str], outside: list[str]) -> None:
    interval = Interval.parse(text)
    assert all(Decimal(v) in interval for v in inside) and not any(Decimal(v) in interval for v in outside)
    assert interval.text() == text


@pytest.mark.parametrize("text", ["0.15-0.30", "[97, 96)", "[a, 1)"])
def test_bad_intervals(text: str) -> None:
    with pytest.raises(ValueError, match="区间"):
        Interval.parse(text)
