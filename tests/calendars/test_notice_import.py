"""The notice parser against the typed notices, and its refusals.

Why both directions: the fixtures (``tests/calendars/fixtures/notices``) are the notices as published, the
year files are typed separately; parsing one must give exactly the other, so a slip in either is
caught. The refusal tests pin the promise that matters most for deadlines: a line the parser
cannot read with certainty stops the import and names the line, it is never guessed.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from calendars.model import YearArrangement
from calendars.notice_import import (
    NoticeParseError,
    NoticeTarget,
    dump_year_yaml,
    notice_target,
    parse_notice,
)

ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = ROOT / "calendars" / "data"
NOTICES_DIR = Path(__file__).parent / "fixtures" / "notices"

#: Each year's notices in the order they were issued, with the address they were published at.
NOTICES: dict[int, list[tuple[str, str]]] = {
    2020: [
        ("2020-1.txt", "https://www.gov.cn/zhengce/zhengceku/2019-11/21/content_5454164.htm"),
        ("2020-2.txt", "https://www.gov.cn/zhengce/zhengceku/2020-01/27/content_5472352.htm"),
    ],
    2021: [("2021-1.txt", "https://www.gov.cn/zhengce/zhengceku/2020-11/25/content_5564127.htm")],
    2022: [("2022-1.txt", "https://www.gov.cn/zhengce/zhengceku/2021-10/25/content_5644835.htm")],
    2023: [("2023-1.txt", "https://www.gov.cn/zhengce/zhengceku/2022-12/08/content_5730844.htm")],
    2024: [("2024-1.txt", "https://www.gov.cn/zhengce/zhengceku/202310/content_6911528.htm")],
    2025: [("2025-1.txt", "https://www.gov.cn/zhengce/zhengceku/202411/content_6986383.htm")],
    2026: [("2026-1.txt", "https://www.gov.cn/zhengce/zhengceku/202511/content_7047091.htm")],
}
URL = "https://www.gov.cn/example"


def _text(name: str) -> str:
    return (NOTICES_DIR / name).read_text("utf-8")


def _file(year: int) -> YearArrangement:
    return YearArrangement.model_validate(yaml.safe_load((DATA_DIR / f"{year}.yaml").read_text("utf-8")))


def _import_year(year: int) -> YearArrangement:
    """Every notice of the year in issue order, each amending the result of the ones before."""
    arrangement: YearArrangement | None = None
    for name, url in NOTICES[year]:
        arrangement = parse_notice(_text(name), url=url, existing=arrangement)
    assert arrangement is not None
    return arrangement


def _refusal(text: str, **kwargs: object) -> NoticeParseError:
    with pytest.raises(NoticeParseError) as info:
        parse_notice(text, url=URL, **kwargs)  # type: ignore[arg-type]
    return info.value


# ---------------------------------------------------------------------------------------------
# Fixtures give the year files; the year files are canonical
# ---------------------------------------------------------------------------------------------


def test_every_fixture_is_used() -> None:
    used = {name for notices in NOTICES.values() for name, _ in notices}
    assert used == {p.name for p in NOTICES_DIR.glob("*.txt")}


@pytest.mark.parametrize("year", sorted(NOTICES))
def test_notices_give_the_year_file(year: int) -> None:
    imported = _import_year(year)
    assert imported.model_dump(exclude={"notes"}) == _file(year).model_dump(exclude={"notes"})


@pytest.mark.parametrize("year", sorted(NOTICES))
def test_year_file_is_canonical(year: int) -> None:
    """dump_year_yaml writes the file back byte for byte: one style, reviewable diffs."""
    path = DATA_DIR / f"{year}.yaml"
    assert dump_year_yaml(_file(year)) == path.read_text("utf-8")


@pytest.mark.parametrize("year", sorted(NOTICES))
def test_dump_of_an_import_loads_back(year: int) -> None:
    imported = _import_year(year)
    assert YearArrangement.model_validate(yaml.safe_load(dump_year_yaml(imported))) == imported


def test_dump_style() -> None:
    text = dump_year_yaml(_file(2025))
    body = [line for line in text.splitlines() if not line.startswith("#")]
    assert body[0] == "year: 2025"
    top_keys = [line.split(":")[0] for line in body if line and line[0] not in " -"]
    assert top_keys == ["year", "notices", "holidays", "makeup_workdays", "notes"]
    assert "  start: 2025-01-28" in body  # plain dates, not quoted, not timestamps


def test_extension_splits_spring_festival_and_cancels_makeup_day() -> None:
    regular = parse_notice(_text("2020-1.txt"), url=NOTICES[2020][0][1])
    assert dt.date(2020, 2, 1) in {d.date for d in regular.makeup_workdays}
    extended = parse_notice(_text("2020-2.txt"), url=NOTICES[2020][1][1], existing=regular)
    added = [p for p in extended.holidays if p.notice == "国办发明电〔2020〕1号"]
    assert [(p.name, p.start, p.end, p.days) for p in added] == [
        ("春节", dt.date(2020, 1, 31), dt.date(2020, 2, 2), 3)
    ]
    assert dt.date(2020, 2, 1) not in {d.date for d in extended.makeup_workdays}
    assert extended.notices[1].date == dt.date(2020, 1, 26)


def test_advisory_sentence_is_not_a_holiday() -> None:
    """2024: "鼓励…安排职工在除夕（2月9日）休息" recommends; 2月9日 stays a working day."""
    arrangement = parse_notice(_text("2024-1.txt"), url=URL)
    off = {p.start + dt.timedelta(days=i) for p in arrangement.holidays for i in range(p.days)}
    assert dt.date(2024, 2, 9) not in off


def test_half_width_punctuation_and_split_title_are_read_alike() -> None:
    """Reprints use ( ) : , and print the title on two lines, as the official layout does."""
    text = _text("2025-1.txt")
    variant = (
        text.replace("（", "(").replace("）", ")").replace("：", ":").replace("，", ",")
        .replace("关于2025年部分", "关于2025年\n部分", 1)
    )
    assert parse_notice(variant, url=URL) == parse_notice(text, url=URL)


# ---------------------------------------------------------------------------------------------
# Refusals: each names the offending line, in Chinese and English
# ---------------------------------------------------------------------------------------------


def test_refuses_count_that_disagrees_with_range() -> None:
    text = _text("2021-1.txt").replace("2月11日至17日放假调休，共7天", "2月11日至17日放假调休，共6天")
    error = _refusal(text)
    assert error.line is not None and error.line.startswith("二、春节")
    assert "天数" in str(error) and "day count" in str(error)


def test_refuses_makeup_day_on_a_weekday() -> None:
    text = _text("2021-1.txt").replace("2月7日（星期日）", "2月8日（星期一）")
    error = _refusal(text)
    assert error.line is not None and error.line.startswith("二、春节")
    assert "2021-02-08" in str(error) and "not a Saturday or Sunday" in str(error)


def test_refuses_makeup_day_on_a_weekday_without_stated_weekday() -> None:
    text = _text("2022-1.txt").replace("4月2日（星期六）上班", "4月1日上班")
    assert "2022-04-01" in str(_refusal(text))


def test_refuses_a_stated_weekday_that_is_wrong() -> None:
    text = _text("2025-1.txt").replace("1月1日（周三）", "1月1日（周二）")
    error = _refusal(text)
    assert error.line is not None and error.line.startswith("一、元旦")


def test_refuses_unparseable_holiday_line() -> None:
    text = _text("2021-1.txt").replace(
        "三、清明节：4月3日至5日放假调休，共3天。", "三、清明节：4月上旬放假，具体时间另行通知。"
    )
    error = _refusal(text)
    assert error.line == "三、清明节：4月上旬放假，具体时间另行通知。"
    assert "无法解析" in str(error) and "cannot parse" in str(error)


def test_refuses_unknown_sentence_in_an_item() -> None:
    text = _text("2021-1.txt").replace(
        "9月18日（星期六）上班。", "9月18日（星期六）上班。9月22日（星期三）补休。"
    )
    assert _refusal(text).line.startswith("六、中秋节")  # type: ignore[union-attr]


def test_refuses_text_with_no_year() -> None:
    text = _text("2021-1.txt").replace(
        "国务院办公厅关于2021年部分节假日安排的通知", "国务院办公厅关于部分节假日安排的通知", 1
    )
    error = _refusal(text)
    assert "年份" in str(error) and "no year" in str(error)


def test_refuses_unknown_holiday_name() -> None:
    text = _text("2021-1.txt").replace("五、端午节：", "五、龙舟节：")
    assert "龙舟节" in str(_refusal(text))


def test_refuses_arrangement_outside_the_numbered_items() -> None:
    text = _text("2021-1.txt").replace(
        "节假日期间，", "另：10月10日（星期日）上班。\n节假日期间，"
    )
    assert _refusal(text).line == "另：10月10日（星期日）上班。"


def test_refuses_makeup_days_when_item_says_no_makeup() -> None:
    text = _text("2025-1.txt").replace("放假1天，不调休。", "放假1天，不调休。1月4日（周六）上班。")
    assert "不调休" in str(_refusal(text))


def test_refuses_missing_number_or_signature() -> None:
    text = _text("2021-1.txt")
    assert "发文字号" in str(_refusal(text.replace("国办发明电〔2020〕27号\n", "")))
    assert "国务院办公厅" in str(_refusal(text.replace("\n国务院办公厅\n", "\n")))


def test_refuses_extension_without_existing_or_twice() -> None:
    assert "existing" in str(_refusal(_text("2020-2.txt")))
    once = _import_year(2020)
    assert "已载入" in str(_refusal(_text("2020-2.txt"), existing=once))


def test_refuses_yearly_notice_with_existing() -> None:
    assert "existing" in str(_refusal(_text("2021-1.txt"), existing=_file(2021)))


def test_refuses_extension_whose_resume_day_does_not_follow() -> None:
    text = _text("2020-2.txt").replace("2月3日（星期一）起正常上班", "2月4日（星期二）起正常上班")
    regular = parse_notice(_text("2020-1.txt"), url=URL)
    assert "2020-02-04" in str(_refusal(text, existing=regular))


def test_refuses_unsupported_kind_of_notice() -> None:
    text = _text("2021-1.txt").replace(
        "国务院办公厅关于2021年部分节假日安排的通知", "国务院办公厅关于调整2021年劳动节假期安排的通知", 1
    )
    assert "不支持" in str(_refusal(text))


def test_notice_target_tells_which_file_and_whether_existing_is_needed() -> None:
    """A caller (e.g. the import command) loads the right year file before parsing."""
    assert notice_target(_text("2025-1.txt")) == NoticeTarget(year=2025, amends=False)
    assert notice_target(_text("2020-2.txt")) == NoticeTarget(year=2020, amends=True)
