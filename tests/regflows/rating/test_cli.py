"""``regflows rating template|score`` (issue 16, "CLI contract"): the JSON's keys and exact
decimal numbers, the profile's settings, exit 2 naming the item and line of a malformed file."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from regflows.cli import app
from regflows.profile import DEMO_PROFILE
from regflows.rating.cli import dumps

runner = CliRunner()


def _score(path: Path, *extra: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["rating", "score", str(path), "--profile", str(DEMO_PROFILE), *extra])
    return result.exit_code, result.stdout, result.stderr


def test_template_then_score(tmp_path: Path, home: Path) -> None:
    out = tmp_path / "evidence-2026.yaml"
    written = runner.invoke(app, ["rating", "template", "--year", "2026", "--out", str(out)])
    assert written.exit_code == 0 and out.is_file()
    assert "未自动填入系统已有的事实" in written.stderr and "不存在" in written.stderr  # no store yet: never silent about it
    again = runner.invoke(app, ["rating", "template", "--year", "2026", "--out", str(out)])
    assert again.exit_code == 2 and "已存在" in again.stderr
    code, stdout, stderr = _score(out)
    assert code == 0
    data = json.loads(stdout, parse_float=Decimal)
    assert list(data) == ["year", "score", "grade", "parts", "items", "downgraded_by", "zeroed_by", "unconfirmed"]
    assert (data["year"], data["score"], data["grade"]) == (2026, 97, "A")
    assert data["parts"] == {"1": 10, "2": 20, "3": 30, "4": 30, "5": 7}
    assert [i["id"] for i in data["items"]][:3] == ["1.1", "1.2", "2.1"] and len(data["items"]) == 48
    assert all(list(i) == ["id", "points", "max", "deductions"] for i in data["items"])
    assert len(data["unconfirmed"]) == 48 and "48 个指标的事实尚未确认" in stderr


def test_an_unevaluated_band_fact_is_listed_on_stderr(tmp_path: Path, evidence_text: Callable[..., str]) -> None:
    path = tmp_path / "e.yaml"
    path.write_text(evidence_text({"5.1": {"user_count_deviation": None}, "6.3": {"training_coverage": None}}), encoding="utf-8")
    code, stdout, stderr = _score(path)
    assert code == 0
    assert list(json.loads(stdout)) == ["year", "score", "grade", "parts", "items", "downgraded_by", "zeroed_by", "unconfirmed"]
    assert "2 个指标未评估" in stderr and "5.1（user_count_deviation）、6.3（training_coverage）" in stderr


def test_scores_are_exact_json_numbers(tmp_path: Path, evidence_text: Callable[..., str]) -> None:
    path = tmp_path / "e.yaml"
    path.write_text(evidence_text({"8.2": {"incomplete_authorisations": 3}, "9.1": {"purpose_unclear": 10},
                                   "3.2": {"late_audit_reports": 1}}, downgrade_conditions=[3]), encoding="utf-8")
    code, stdout, _ = _score(path)
    assert code == 0
    assert '"score": 95.2' in stdout  # 97 − 0.3 − 1 − 0.5, written from its decimal text
    data = json.loads(stdout, parse_float=Decimal)
    item = next(i for i in data["items"] if i["id"] == "8.2")
    assert item["points"] == Decimal("1.7") and item["deductions"][0]["points"] == Decimal("0.3")
    assert set(item["deductions"][0]) == {"rule", "points", "evidence"}
    assert item["deductions"][0]["rule"].startswith("PBOC-102 附件3 指标 8.2 计分标准2：")
    assert next(i for i in data["items"] if i["id"] == "9.1")["points"] == 0
    assert (data["grade"], data["downgraded_by"], data["zeroed_by"]) == ("B", [3], [])


def test_the_profile_chooses_the_reading(tmp_path: Path, evidence_text: Callable[..., str]) -> None:
    profile = yaml.safe_load(DEMO_PROFILE.read_text(encoding="utf-8"))
    profile.setdefault("settings", {})["rating_contradictions"] = "rule_text"
    (tmp_path / "profile.yaml").write_text(yaml.safe_dump(profile, allow_unicode=True), encoding="utf-8")
    path = tmp_path / "e.yaml"
    path.write_text(evidence_text({"18": {"recognised": True}}), encoding="utf-8")
    result = runner.invoke(app, ["rating", "score", str(path), "--profile", str(tmp_path / "profile.yaml")])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout, parse_float=Decimal)
    assert data["score"] == 100 and data["parts"]["5"] == 12 and "超过满分的部分不计" in result.stderr


def test_a_malformed_file_exits_2_naming_item_and_line(tmp_path: Path, evidence_text: Callable[..., str]) -> None:
    text = evidence_text({"5.1": {"user_count_deviation": "a lot"}})
    path = tmp_path / "e.yaml"
    path.write_text(text, encoding="utf-8")
    code, stdout, stderr = _score(path)
    line = text[: text.index("user_count_deviation")].count("\n") + 1
    assert code == 2 and stdout == ""
    assert f"第 {line} 行" in stderr and "指标 5.1 的 user_count_deviation" in stderr and "Traceback" not in stderr


def test_a_missing_file_exits_2(tmp_path: Path) -> None:
    code, _, stderr = _score(tmp_path / "none.yaml")
    assert code == 2 and "文件不存在" in stderr


@pytest.mark.parametrize(("value", "text"), [
    (Decimal("0.1") * 3, "0.3"), (Decimal("1.0") - Decimal("0.1") * 10, "0"), (Decimal("100"), "100"), (Decimal("89.50"), "89.5"),
])
def test_dumps_writes_exact_decimal_text(value: Decimal, text: str) -> None:
    assert dumps({"x": value}) == '{\n  "x": ' + text + "\n}"
    assert json.loads(dumps([value, "中文", None, True, []]), parse_float=Decimal) == [Decimal(text), "中文", None, True, []]


def test_a_confirmation_by_someone_outside_the_profile_is_refused(tmp_path: Path, evidence_text: Callable[..., str]) -> None:
    path = tmp_path / "e.yaml"
    confirmed = {"source": "自查", "confirmed_at": "2026-01-12"}
    path.write_text(evidence_text(provenance={"8.1": {**confirmed, "confirmed_by": "zhao.lei"}}), encoding="utf-8")
    code, stdout, _ = _score(path)
    assert code == 0 and "8.1" not in json.loads(stdout)["unconfirmed"]
    path.write_text(evidence_text(provenance={"8.1": {**confirmed, "confirmed_by": "nobody"}}), encoding="utf-8")
    code, _, stderr = _score(path)
    assert code == 2 and "指标 8.1 的确认人 nobody 不是机构配置中的人员" in stderr


def test_template_where_no_folder_can_be_made_exits_2(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    result = runner.invoke(app, ["rating", "template", "--year", "2026", "--out", str(tmp_path / "a-file" / "e.yaml")])
    assert result.exit_code == 2 and "无法写入" in result.stderr and "Traceback" not in result.output


def test_template_refuses_a_year_before_the_model(tmp_path: Path) -> None:
    result = runner.invoke(app, ["rating", "template", "--year", "2017", "--out", str(tmp_path / "e.yaml")])
    assert result.exit_code == 2 and "2018" in result.stderr and not (tmp_path / "e.yaml").exists()


def test_last_years_comparison_goes_to_stderr_and_the_json_keeps_its_keys(tmp_path: Path, evidence_text: Callable[..., str]) -> None:
    this = tmp_path / "e2026.yaml"
    this.write_text(evidence_text({"8.1": {"unauthorized_queries": 2}}), encoding="utf-8")
    last = tmp_path / "e2025.yaml"
    last.write_text(evidence_text({"3.2": {"late_audit_reports": 1}}, year=2025), encoding="utf-8")
    code, stdout, stderr = _score(this, "--last", str(last))
    assert code == 0
    data = json.loads(stdout, parse_float=Decimal)
    assert list(data) == ["year", "score", "grade", "parts", "items", "downgraded_by", "zeroed_by", "unconfirmed"]
    assert "与 2025 年度比较：考核计分 96.5 → 95（-1.5），等级 A 级 → A 级" in stderr
    assert "指标 3.2：1.5 → 2（+0.5）" in stderr and "指标 8.1：3 → 1（-2）" in stderr
    assert "征信业务合规操作：30 → 28（-2）" in stderr
    wrong = tmp_path / "e2024.yaml"
    wrong.write_text(evidence_text(year=2024), encoding="utf-8")
    code, _, stderr = _score(this, "--last", str(wrong))
    assert code == 2 and "应为 2025 年度" in stderr


def test_a_nul_byte_in_the_evidence_exits_2_naming_its_line(tmp_path: Path, evidence_text: Callable[..., str]) -> None:
    path = tmp_path / "e.yaml"
    text = evidence_text()
    path.write_text(text.replace("  '8.1': {}\n", "  '8.1': {}\x00\n"), encoding="utf-8")
    line = text.splitlines().index("  '8.1': {}") + 1
    code, stdout, stderr = _score(path)
    assert code == 2 and not stdout and "Traceback" not in stderr
    assert f"第 {line} 行" in stderr and "U+0000" in stderr
