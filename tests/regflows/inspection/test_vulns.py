"""The vulnerability register and the quarter's figures (regflows/inspection/vulns.py; NFRA 23)."""

from __future__ import annotations

from pathlib import Path

import pytest

from regflows.inspection.models import Quarter
from regflows.inspection.vulns import VulnsError, chart_markdown, figures, parse_vulns, read_vulns

Q = Quarter.parse("2025Q3")
HEAD = "id,severity,found,due,fixed\n"


def test_figures_at_the_quarters_edges() -> None:
    vulns = parse_vulns(HEAD + "\n".join([
        "A,高危,2025-06-01,2025-07-01,",              # open, overdue
        "B,low,2025-07-02,2025-08-01,2025-07-20",     # fixed in the quarter on time: 18 days
        "C,critical,2025-08-01,2025-08-05,2025-08-20",  # fixed late: 19 days
        "D,medium,2025-09-01,2025-09-30,",            # open, due on the last day: not overdue
        "E,medium,2025-09-30,2025-12-01,2025-10-01",  # fixed after the quarter: open at its end
        "F,中,2025-06-01,2025-06-30,2025-09-30",        # fixed on the last day: not open, fixed late: 121 days
        "G,high,2025-10-02,2025-12-01,",              # found after the quarter: not counted
        "H,low,2025-03-01,2025-03-10,2025-04-01",     # fixed before the quarter
    ]))
    f = figures(vulns, Q)
    assert f.total == 8
    assert f.open_by_severity == {"critical": 0, "high": 1, "medium": 2, "low": 0} and f.open == 3
    assert f.overdue == ["A"]
    assert f.fixed_in_quarter == 3 and f.fixed_late == ["C", "F"]
    assert f.mean_days_to_fix == round((18 + 19 + 121) / 3, 1)
    assert f.found_in_quarter == 4
    text = chart_markdown(f)
    assert "| 高危 | █" in text and "| 严重 | " in text and "逾期未修复 1 个" in text


def test_no_fix_in_the_quarter_is_no_mean_not_zero() -> None:
    f = figures(parse_vulns(HEAD + "A,low,2025-07-01,2025-07-30,\n"), Q)
    assert f.mean_days_to_fix is None and f.as_dict()["mean_days_to_fix"] is None
    # a sentence, not "平均修复时长 本季度无修复" (review of issue 15, item 15)
    assert "本季度没有修复的漏洞，无从计算平均修复时长。" in chart_markdown(f) and "平均修复时长 本季度" not in chart_markdown(f)


def test_every_bad_row_is_named_with_its_line_and_column() -> None:
    text = HEAD + "\n".join([
        "A,high,2025-07-01,2025-07-30,",
        ",high,2025-07-01,2025-07-30,",           # line 3: no id
        "A,urgent,2025-07-01,2025-07-30,",        # line 4: repeated id, unknown severity
        "C,low,07/01/2025,2025-07-30,",           # line 5: a date that reads two ways
        "D,low,2025-07-10,2025-07-01,2025-07-05",  # line 6: due and fixed before found
        "E,low,2025-02-30,,",                     # line 7: no such day, no due
    ])
    with pytest.raises(VulnsError) as info:
        parse_vulns(text, "vulns.csv")
    problems = info.value.problems
    assert problems == [
        "第 3 行「id」：不能为空",
        "第 4 行「id」：A 与第 2 行重复",
        "第 4 行「severity」：'urgent' 不是可识别的等级（critical/严重、high/高危、medium/中危、low/低危）",
        "第 5 行「found」：'07/01/2025' 不是 YYYY-MM-DD 格式的日期",
        "第 6 行「due」：整改期限 2025-07-01 早于发现日 2025-07-10",
        "第 6 行「fixed」：修复日 2025-07-05 早于发现日 2025-07-10",
        "第 7 行「found」：'2025-02-30' 不是有效日期",
        "第 7 行「due」：不能为空",
    ]
    assert "vulns.csv" in str(info.value)


def test_missing_and_repeated_columns_are_refused() -> None:
    with pytest.raises(VulnsError, match="缺少列 fixed"):
        parse_vulns("id,severity,found,due\n")
    with pytest.raises(VulnsError, match="列名重复 id"):
        parse_vulns("id,severity,found,due,fixed,id\n")
    with pytest.raises(VulnsError, match="没有表头"):
        parse_vulns("")


def test_gbk_and_utf8_with_bom_are_read(tmp_path: Path) -> None:
    text = HEAD + "漏洞-1,严重,2025-07-01,2025-07-02,\n"
    (tmp_path / "gbk.csv").write_bytes(text.encode("gbk"))
    (tmp_path / "bom.csv").write_bytes(text.encode("utf-8-sig"))
    for name in ("gbk.csv", "bom.csv"):
        [v] = read_vulns(tmp_path / name)
        assert (v.id, v.severity) == ("漏洞-1", "critical")
    with pytest.raises(VulnsError, match="文件不存在"):
        read_vulns(tmp_path / "absent.csv")


def test_a_row_the_csv_reader_cannot_read_is_named_in_chinese() -> None:
    with pytest.raises(VulnsError) as caught:
        parse_vulns(HEAD + "A,low,2025-07-01,2025-07-30,\n" + 'B,"' + "x" * 200_000 + '"\n', "vulns.csv")
    text = str(caught.value)
    assert "第 3 行：无法按 CSV 读取（某一字段过长" in text and "field larger" not in text
