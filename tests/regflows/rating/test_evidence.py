"""The evidence file (issue 16, item 3): read with line-numbered Chinese errors naming the item,
every item required, provenance and the unconfirmed items, and the template with its seam."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from regflows.kit.errors import RuleFileError
from regflows.rating.evidence import Candidate, Evidence, Gathered, parse_evidence, template
from regflows.rating.model import RatingModel
from regflows.rating.scoring import score
from regflows.settings import RatingSettings


def _line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def _problems(text: str, model: RatingModel) -> str:
    with pytest.raises(RuleFileError) as caught:
        parse_evidence(text, "evidence.yaml", model)
    return str(caught.value)


def test_a_malformed_fact_names_its_item_and_line(model: RatingModel, evidence_text: Callable[..., str]) -> None:
    text = evidence_text({"8.1": {"unauthorized_queries": "many"}})
    message = _problems(text, model)
    assert "指标 8.1 的 unauthorized_queries 应为非负整数" in message
    assert f"第 {_line_of(text, 'unauthorized_queries')} 行" in message


@pytest.mark.parametrize(("facts", "problem"), [
    ({"unauthorized_queries": -1}, "应为非负整数"),
    ({"unauthorized_queries": True}, "应为非负整数"),
    ({"major_impact": "yes"}, "应为 true 或 false"),
    ({"unauthorised_queries": 1}, "指标 8.1 没有事实 unauthorised_queries"),
])
def test_each_kind_of_bad_fact(model: RatingModel, evidence_text: Callable[..., str], facts: dict[str, Any], problem: str) -> None:
    assert problem in _problems(evidence_text({"8.1": facts}), model)


@pytest.mark.parametrize(("item_id", "facts", "problem"), [
    ("6.2", {"training_pass_rate": 1.2}, "应在 0 至 1 之间"),
    ("6.2", {"training_pass_rate": "high"}, "应为数"),
    ("6.1", {"targeting": "partly"}, "应为 full、some、none 之一"),
    ("7.3", {"data_quality_score": 101}, "应在 0 至 100 之间"),
])
def test_bad_decimals_and_choices(model: RatingModel, evidence_text: Callable[..., str], item_id: str, facts: dict[str, Any],
                                  problem: str) -> None:
    message = _problems(evidence_text({item_id: facts}), model)
    assert f"指标 {item_id}" in message and problem in message


def test_a_missing_item_is_named(model: RatingModel, evidence_text: Callable[..., str]) -> None:
    text = evidence_text().replace("  '5.3': {}\n", "")
    message = _problems(text, model)
    assert "缺少指标 5.3" in message and "缺少指标 5.4" not in message


def test_an_unquoted_id_is_refused_naming_its_line(model: RatingModel, evidence_text: Callable[..., str]) -> None:
    text = evidence_text().replace("  '14': {}\n", "  14: {}\n")
    message = _problems(text, model)
    assert f"第 {_line_of(text, '  14: {}')} 行" in message and '指标编号 14 须加引号，写作 "14"' in message
    assert "缺少指标 14" not in message  # said once


def test_an_item_that_is_not_a_mapping(model: RatingModel, evidence_text: Callable[..., str]) -> None:
    text = evidence_text().replace("  '9.2': {}\n", "  '9.2':\n")
    assert "指标 9.2 的事实应为映射；无扣分事项请写 {}" in _problems(text, model)


@pytest.mark.parametrize(("top", "problem"), [
    ({"downgrade_conditions": [9]}, "第十五条没有第 9 项"),
    ({"zero_conditions": [5]}, "第十六条没有第 5 项"),
    ({"downgrade_conditions": [3, 3]}, "第十五条第 3 项重复"),
    ({"year": 2017}, "年度应为 2018 年及以后"),
    ({"grade": "A"}, "未知的键 grade"),
    ({"downgrade_candidates": [{"condition": 3}]}, "须写明情形 what"),
])
def test_bad_top_level_values(model: RatingModel, evidence_text: Callable[..., str], top: dict[str, Any], problem: str) -> None:
    assert problem in _problems(evidence_text(**top), model)


def test_a_yaml_syntax_error_names_its_line(model: RatingModel, evidence_text: Callable[..., str]) -> None:
    text = evidence_text().replace("  '8.1': {}\n", "  '8.1': {unauthorized_queries: 1\n")
    assert "YAML 语法错误" in _problems(text, model)


def test_every_problem_at_once(model: RatingModel, evidence_text: Callable[..., str]) -> None:
    text = evidence_text({"8.1": {"unauthorized_queries": -1}, "6.2": {"training_pass_rate": 2}}, zero_conditions=[9])
    with pytest.raises(RuleFileError) as caught:
        parse_evidence(text, "evidence.yaml", model)
    assert len(caught.value.problems) == 3


def test_provenance_and_unconfirmed(model: RatingModel, evidence: Callable[..., Evidence]) -> None:
    found = evidence(provenance={
        "8.1": {"source": "日核查记录", "confirmed_by": "zhao.lei", "confirmed_at": dt.date(2026, 1, 12)},
        "9.2": {"source": "自查", "confirmed_by": None, "confirmed_at": None},
    })
    unconfirmed = found.unconfirmed(model)
    assert "8.1" not in unconfirmed and "9.2" in unconfirmed and len(unconfirmed) == 47
    result = score(model, evidence({"8.1": {"unauthorized_queries": 1}}, provenance={"8.1": {"source": "日核查记录"}}), RatingSettings())
    item = next(i for i in result.items if i.id == "8.1")
    assert "来源：日核查记录" in item.deductions[0].evidence and "8.1" in result.unconfirmed


@pytest.mark.parametrize(("entry", "problem"), [
    ({"confirmed_by": "zhao.lei", "confirmed_at": "2027-01-12"}, "须写明事实来源 source"),
    ({"source": "x", "confirmed_by": "zhao.lei"}, "须同时写明确认人 confirmed_by 与确认日期 confirmed_at"),
    ({"source": "x", "confirmed_by": "zhao.lei", "confirmed_at": "12/01/2027"}, "应写作 YYYY-MM-DD"),
])
def test_bad_provenance(model: RatingModel, evidence_text: Callable[..., str], entry: dict[str, Any], problem: str) -> None:
    message = _problems(evidence_text(provenance={"8.1": entry}), model)
    assert "指标 8.1" in message and problem in message


def test_the_template_has_every_item_and_fact_and_reads_back(model: RatingModel) -> None:
    text = template(2026, model)
    for item in model.items:
        assert f'  "{item.id}":' in text
        for name, fact in item.facts.items():
            assert f"    {name}: " in text and fact.meaning in text
        for rule in item.rules:  # every criterion, one a line (a text running two together split at its mark)
            assert all(piece.strip() in text for piece in re.split(r"（计分标准\d）", rule.text))
    found = parse_evidence(text, "template.yaml", model)
    assert found.year == 2026 and len(found.unconfirmed(model)) == 48
    result = score(model, found, RatingSettings())
    assert (result.score, result.grade) == (97, "A")  # every default is "no deduction"; 18 not recognised


def test_the_template_writes_gathered_facts_with_their_source_unconfirmed(model: RatingModel) -> None:
    gathered = {"8.1": Gathered({"unauthorized_queries": 2}, "日核查：2026 年核实的未授权查询"),
                "6.2": Gathered({"training_pass_rate": Decimal("0.75")}, "培训系统")}
    found = parse_evidence(template(2026, model, gathered), "template.yaml", model)
    assert found.items["8.1"]["unauthorized_queries"] == 2 and found.items["6.2"]["training_pass_rate"] == Decimal("0.75")
    assert found.provenance["8.1"].source == "日核查：2026 年核实的未授权查询" and not found.provenance["8.1"].confirmed
    assert "8.1" in found.unconfirmed(model)
    with pytest.raises(ValueError, match="does not fit the model"):
        template(2026, model, {"8.1": Gathered({"unauthorized_queries": -1}, "x")})


def test_the_template_lists_candidates_never_as_conditions(model: RatingModel) -> None:
    text = template(2026, model, candidates=[Candidate(3, "2026年3月统计表迟报", "credit-stats")])
    found = parse_evidence(text, "template.yaml", model)
    assert found.downgrade_candidates == (Candidate(3, "2026年3月统计表迟报", "credit-stats"),)
    assert found.downgrade_conditions == ()


def test_an_unquoted_decimal_id_names_its_own_line(model: RatingModel, evidence_text: Callable[..., str],
                                                   confirmed_text: Callable[..., str]) -> None:
    """``8.1:`` is a number in YAML: the problem names the item's own line, not the ``items:`` line."""
    text = evidence_text().replace("  '8.1': {}\n", "  8.1: {}\n")
    message = _problems(text, model)
    assert f"第 {_line_of(text, '  8.1: {}')} 行" in message and '指标编号 8.1 须加引号，写作 "8.1"' in message
    assert f"第 {_line_of(text, 'items:')} 行" not in message and "缺少指标 8.1" not in message
    text = confirmed_text().replace("  '9.2':\n    source:", "  9.2:\n    source:")
    assert "  9.2:\n" in text
    message = _problems(text, model)
    assert f"第 {_line_of(text, '  9.2:')} 行" in message and "没有指标 9.2" in message


@pytest.mark.parametrize(("at", "problem"), [
    ("2026-12-01", "确认日期 2026-12-01 晚于今天（2026-11-27），不能预先确认"),
    ("2025-12-31", "确认日期 2025-12-31 早于评级年度开始（2026-01-01）"),
])
def test_a_confirmation_date_outside_the_year_and_today_is_refused(model: RatingModel, evidence_text: Callable[..., str],
                                                                   at: str, problem: str) -> None:
    text = evidence_text(provenance={"8.1": {"source": "自查", "confirmed_by": "zhao.lei", "confirmed_at": at}})
    with pytest.raises(RuleFileError) as caught:
        parse_evidence(text, "evidence.yaml", model, today=dt.date(2026, 11, 27))
    message = str(caught.value)
    line = _line_of(text, f"    confirmed_at: '{at}'")
    assert f"第 {line} 行" in message and "指标 8.1" in message and problem in message
    assert parse_evidence(text.replace(at, "2026-11-27"), "evidence.yaml", model, today=dt.date(2026, 11, 27)).provenance["8.1"].confirmed


def test_a_bound_missing_on_one_side_is_not_printed_empty(model: RatingModel, evidence_text: Callable[..., str]) -> None:
    message = _problems(evidence_text({"5.1": {"user_count_deviation": -0.1}}), model)
    assert "指标 5.1 的 user_count_deviation 应不小于 0，实为 -0.1" in message and "至  之间" not in message


def test_the_template_prints_each_criterion_once_on_its_own_line(model: RatingModel) -> None:
    text = template(2026, model)
    assert "（计分标准3）" not in text
    block = text[text.index('  # 6.3 '):text.index('  "6.3":')]
    assert block.count("计分标准3：未参加培训教育活动或者培训教育活动流于形式的，不得分") == 1
    assert block.index("计分标准2：") < block.index("计分标准3：")
    block = text[text.index('  # 6.1 '):text.index('  "6.1":')]
    assert "  #   计分标准2：培训具有一定的针对性，得1分。\n  #   计分标准3：参加培训未区分不同机构层级、不同岗位，不得分\n" in block


def test_the_template_header_gives_a_local_institutions_own_day(tmp_path: Any, demo_with: Callable[..., Any], home: Any) -> None:
    from typer.testing import CliRunner

    from regflows.cli import app

    demo_with(tmp_path / "p.yaml", institution={"credit_access": "local"}, settings={"rating_local_submission_due": "02-15"})
    out = tmp_path / "e.yaml"
    written = CliRunner().invoke(app, ["rating", "template", "--year", "2025", "--out", str(out), "--profile", str(tmp_path / "p.yaml")])
    assert written.exit_code == 0, written.output
    header = out.read_text(encoding="utf-8").split("\nyear:")[0]
    assert "2026 年 2 月 15 日前报送所在地人民银行分支机构" in header and "1 月 31 日" not in header
    demo_with(tmp_path / "n.yaml", institution={"credit_access": "national_head_office"})
    written = CliRunner().invoke(app, ["rating", "template", "--year", "2025", "--out", str(tmp_path / "n-e.yaml"),
                                       "--profile", str(tmp_path / "n.yaml")])
    assert written.exit_code == 0, written.output
    assert "于 2026 年 1 月 31 日前报送人民银行" in (tmp_path / "n-e.yaml").read_text(encoding="utf-8")
