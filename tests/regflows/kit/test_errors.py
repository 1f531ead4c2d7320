"""The kit's one translator: rule files and records say, in Chinese, which file, line and field is wrong."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Annotated, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from calendars.official import DATA_DIR, CalendarError, load_year_file
from regflows.incident.clock import RULES_DIR, ClockError, load_rule_set
from regflows.incident.grading import RULES_FILE, load_grading_rules
from regflows.kit.errors import RuleFileError, clean_loc, describe, field_path, line_for, place
from regflows.kit.rulefiles import load_json_model, load_yaml_model, parse_json, parse_yaml


def line_of(text: str, needle: str, start: int = 1) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if i >= start and needle in line)


def copy_of(source: Path, tmp_path: Path, old: str, new: str) -> tuple[Path, str]:
    text = source.read_text(encoding="utf-8")
    assert old in text
    changed = text.replace(old, new, 1)
    target = tmp_path / source.name
    target.write_text(changed, encoding="utf-8")
    return target, changed


# -- the shipped rule files ----------------------------------------------------------------------


def test_grading_rules_with_a_wrong_value_name_file_line_and_field(tmp_path: Path) -> None:
    text = RULES_FILE.read_text(encoding="utf-8")
    first = line_of(text, "    grade: I")
    index = sum(1 for line in text.splitlines()[: first - 1] if line.startswith("  - id:")) - 1
    path, _ = copy_of(RULES_FILE, tmp_path, "    grade: I\n", "    grade: VI\n")
    with pytest.raises(RuleFileError) as info:
        load_grading_rules(path)
    message = str(info.value)
    assert f"文件 {path} 第 {first} 行 criteria[{index}].grade：取值无效 'VI'，可选：'I'、'II'、'III'、'IV'" in message
    assert message.startswith("定级规则有误：")
    assert isinstance(info.value, ValueError)  # callers that caught ValueError still do


def test_grading_rules_with_bad_yaml_syntax_name_file_and_line(tmp_path: Path) -> None:
    path, changed = copy_of(RULES_FILE, tmp_path, "    when: {data_incident: especially_major}",
                            "    when: {data_incident: especially_major")
    with pytest.raises(RuleFileError) as info:
        load_grading_rules(path)
    message = str(info.value)
    opened = line_of(changed, "when: {data_incident: especially_major")
    assert f"文件 {path} 第 " in message and "YAML 语法错误" in message
    assert f"自第 {opened} 行起" in message  # where the unclosed brace began
    assert "花括号 { } 未闭合" in message


def test_obligation_rules_name_the_field_without_pydantic_union_tags(tmp_path: Path) -> None:
    source = next(RULES_DIR.glob("obligations-*.yaml"))
    path, changed = copy_of(source, tmp_path, "hours: 2}", "hours: 0}")
    with pytest.raises(ClockError) as info:
        load_rule_set(path)
    message = str(info.value)
    line = line_of(changed, "hours: 0}")
    assert f"文件 {path} 第 {line} 行 obligations[" in message
    assert ".due.hours：须 > 0，实为 0" in message and "hours.hours" not in message


def test_calendar_year_file_names_line_and_field(tmp_path: Path) -> None:
    path, changed = copy_of(DATA_DIR / "2025.yaml", tmp_path, "  start: 2025-01-28", "  start: 2025-01-32")
    with pytest.raises(CalendarError) as info:
        load_year_file(path)
    assert f"文件 {path} 第 {line_of(changed, '2025-01-32')} 行 holidays[1].start：不是有效的日期或时间 '2025-01-32'" in str(info.value)


def test_every_shipped_rule_file_still_loads(tmp_path: Path) -> None:
    load_grading_rules()
    for path in RULES_DIR.glob("obligations-*.yaml"):
        load_rule_set(path)
    for path in DATA_DIR.glob("*.yaml"):
        load_year_file(path)
    # and a byte-identical copy loads the same as the original (nothing depends on the location)
    shutil.copy(RULES_FILE, tmp_path / "grading.yaml")
    assert load_grading_rules(tmp_path / "grading.yaml") == load_grading_rules()


# -- YAML ------------------------------------------------------------------------------------------


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=2)
    count: int = Field(ge=1)


class Hours(BaseModel):
    kind: Literal["hours"]
    hours: float = Field(gt=0)


class Days(BaseModel):
    kind: Literal["days"]
    n: int = Field(ge=1)


class Rules(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: str
    items: list[Item]
    due: Annotated[Hours | Days, Field(discriminator="kind")]
    start: dt.date | None = None


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD = """\
version: v1
items:
  - name: 甲乙
    count: 1
  - name: 丙丁
    count: 2
due: {kind: hours, hours: 2}
"""


def test_yaml_model_loads_and_every_problem_is_one_line(tmp_path: Path) -> None:
    assert load_yaml_model(write(tmp_path, GOOD), Rules).items[1].count == 2
    bad = GOOD.replace("count: 2", "count: two").replace("  - name: 甲乙", "  - name: 甲").replace("version: v1", "versoin: v1")
    path = write(tmp_path, bad)
    with pytest.raises(RuleFileError) as info:
        load_yaml_model(path, Rules, what="测试规则")
    problems = info.value.problems
    assert info.value.source == str(path)
    assert f"文件 {path} 第 1 行 versoin：未知字段（拼写错误？）" in problems
    assert f"文件 {path} 第 1 行：缺少必填项" not in problems  # a missing field names itself
    assert any(p.endswith("version：缺少必填项") for p in problems)
    assert f"文件 {path} 第 3 行 items[0].name：至少 2 个字符，实为 '甲'" in problems
    assert f"文件 {path} 第 6 行 items[1].count：须为整数，实为 'two'" in problems
    assert str(info.value).startswith(f"测试规则 {path} 有 4 处错误：\n  - ")


def test_yaml_duplicate_key_is_an_error_not_a_silent_override(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("    count: 1\n", "    count: 1\n    count: 3\n"))
    with pytest.raises(RuleFileError) as info:
        load_yaml_model(path, Rules)
    assert str(info.value) == f"文件有误：文件 {path} 第 5 行 items[0].count：键 count 重复（第 4 行已写过一次），只能写一次"


def test_yaml_syntax_errors_in_chinese(tmp_path: Path) -> None:
    with pytest.raises(RuleFileError) as info:
        parse_yaml("a: 1\n\tb: 2\n", Path("x.yaml"))
    assert info.value.problems == [
        "文件 x.yaml 第 2 行：YAML 语法错误：含制表符（Tab），请改用空格缩进（found character '\\t' that cannot start any token）"
    ]
    with pytest.raises(RuleFileError) as info:
        parse_yaml("a: 1\nb: c: d\n", Path("x.yaml"))
    assert info.value.problems[0].startswith("文件 x.yaml 第 2 行：YAML 语法错误：此处不能出现“键: 值”")
    with pytest.raises(RuleFileError) as info:
        parse_yaml("a: @x\n", Path("x.yaml"))
    assert info.value.problems[0].startswith("文件 x.yaml 第 1 行：YAML 语法错误：值以 YAML 保留字符开头（如 @、`、%），请给该值加引号")
    with pytest.raises(RuleFileError, match="内容为空"):
        parse_yaml("# only a comment\n", Path("x.yaml")).validate(Rules)


def test_discriminated_union_tag_invalid(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("kind: hours", "kind: weeks"))
    with pytest.raises(RuleFileError) as info:
        load_yaml_model(path, Rules)
    assert info.value.problems == [f"文件 {path} 第 7 行 due：kind 取值无效 'weeks'，可选：'hours'、'days'"]


# -- JSON ------------------------------------------------------------------------------------------


def test_json_model_from_a_file_and_from_text(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text('{\n  "version": "v1",\n  "items": [\n    {"name": "甲乙", "count": 0}\n  ],\n'
                    '  "due": {"kind": "days", "n": 1}\n}\n', encoding="utf-8")
    with pytest.raises(RuleFileError) as info:
        load_json_model(path, Rules)
    assert info.value.problems == [f"文件 {path} 第 4 行 items[0].count：须 ≥ 1，实为 0"]
    with pytest.raises(RuleFileError) as info:
        load_json_model('{"version": "v1",\n "items": [],\n "due": {"kind": "days", "n": 1},\n "start": "2025-13-01"}',
                        Rules, "POST /rules")
    assert info.value.problems == ["POST /rules 第 4 行 start：不是有效的日期 '2025-13-01'，请写成 2025-10-01"]
    with pytest.raises(RuleFileError) as info:
        parse_json('{"a": 1,\n "b": }', "body")
    assert info.value.problems[0].startswith("body 第 2 行：JSON 语法错误（第 7 列）：缺少值")


# -- without a file: a dict from a form or a notice context -----------------------------------------


def test_describe_without_a_file_and_without_the_rejected_values() -> None:
    with pytest.raises(ValidationError) as info:
        Rules.model_validate({"version": "v1", "items": [{"name": "13812345678", "count": "many"}], "due": {"kind": "hours"}})
    assert describe(info.value, model=Rules, show_input=False) == [
        "items[0].count：须为整数",
        "due.hours：缺少必填项",
    ]
    titled = describe(info.value, "通知 x 的内容", model=Rules, titles={"items.0.count": "数量"}, messages=lambda e: None)
    assert titled[0] == "通知 x 的内容 items[0].count（数量）：须为整数，实为 'many'"


def test_locations_and_places() -> None:
    assert field_path(("criteria", 3, "when", "outage")) == "criteria[3].when.outage"
    assert clean_loc(("due", "hours", "hours"), Rules) == ("due", "hours")
    assert clean_loc(("a", "function-after[_check(), str]", "b")) == ("a", "b")
    assert line_for({(): 1, ("a",): 2, ("a", "1"): 5}, ("a", 1, "missing")) == 5  # a YAML `1:` key
    assert place(Path("a.yaml"), 3) == "文件 a.yaml 第 3 行" and place("POST /x", 3) == "POST /x 第 3 行"
    assert place(None, 3) == "第 3 行" and place(None) == ""


def test_a_json_or_yaml_file_with_a_bom_is_read(tmp_path: Path) -> None:
    """Issue 13 (10): Windows Notepad saves UTF-8 with a BOM; the CSVs were read with one, the
    JSON incident records were refused."""
    from regflows.incident.record import load_record

    record = ('{"title": "核心系统中断", "occurred_at": "2025-09-30T09:00:00+08:00", "discovered_at": "2025-09-30T09:10:00+08:00",'
              ' "discovered_by": "监控中心", "system_name": "核心业务系统", "category": "other"}')
    path = tmp_path / "inc.json"
    path.write_bytes("\ufeff".encode() + record.encode())
    assert load_record(path).title == "核心系统中断"
