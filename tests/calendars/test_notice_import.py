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
from calendars.official import WorkingDayCalendar
from calendars.statutory import statutory_days
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
#: Notices of years before the shipped data (no year file): typed as published, imported, and
#: checked day by day against an independent package. 2016 and 2017 use the older wording
#: "…放假，…（星期一）补休"; 2019 has the Labour Day adjustment 国办发明电〔2019〕3号.
OLDER_NOTICES: dict[int, list[str]] = {
    2016: ["2016-1.txt"],
    2017: ["2017-1.txt"],
    2018: ["2018-1.txt"],
    2019: ["2019-1.txt", "2019-2.txt"],
}


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
    used |= {name for names in OLDER_NOTICES.values() for name in names}
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
        "国务院办公厅关于2021年部分节假日安排的通知", "国务院办公厅关于做好2021年劳动节假期疫情防控工作的通知", 1
    )
    assert "不支持" in str(_refusal(text))


# ---------------------------------------------------------------------------------------------
# Every notice since 2016 (issue 13, item 9), and the balance of every item
# ---------------------------------------------------------------------------------------------


def _import_older(year: int) -> YearArrangement:
    arrangement: YearArrangement | None = None
    for name in OLDER_NOTICES[year]:
        arrangement = parse_notice(_text(name), url=URL, existing=arrangement)
    assert arrangement is not None
    return arrangement


@pytest.mark.parametrize("year", sorted(OLDER_NOTICES))
def test_older_notices_import_and_agree_with_an_independent_package(year: int) -> None:
    chinese_calendar = pytest.importorskip("chinese_calendar")
    calendar = WorkingDayCalendar([*(_import_older(y) for y in OLDER_NOTICES), _file(2020)])
    day, wrong = dt.date(year, 1, 1), []
    while day.year == year:
        if calendar.is_working_day(day) != chinese_calendar.is_workday(day) or calendar.is_provisional(day):
            wrong.append(day)
        day += dt.timedelta(days=1)
    assert wrong == []


def test_the_older_buxiu_wording_is_a_day_off_of_the_period() -> None:
    """2017: 「元旦：1月1日放假，1月2日（星期一）补休。」: 1 January was a Sunday."""
    new_year = _import_older(2017).holidays[0]
    assert (new_year.name, new_year.start, new_year.end, new_year.days) == ("元旦", dt.date(2017, 1, 1), dt.date(2017, 1, 2), 2)
    labour = next(p for p in _import_older(2016).holidays if p.name == "劳动节")
    assert (labour.start, labour.end) == (dt.date(2016, 5, 1), dt.date(2016, 5, 2))


def test_a_buxiu_day_must_be_the_weekday_after_the_days_off() -> None:
    text = _text("2017-1.txt").replace("1月2日（星期一）补休", "1月3日（星期二）补休")
    assert "补休" in str(_refusal(text))


def test_the_2019_labour_day_adjustment_replaces_the_period_and_its_makeup_days() -> None:
    before = parse_notice(_text("2019-1.txt"), url=URL)
    assert notice_target(_text("2019-2.txt")) == NoticeTarget(year=2019, amends=True)
    after = parse_notice(_text("2019-2.txt"), url=URL, existing=before)
    labour = [(p.start, p.end, p.notice) for p in after.holidays if p.name == "劳动节"]
    assert labour == [(dt.date(2019, 5, 1), dt.date(2019, 5, 4), "国办发明电〔2019〕3号")]
    makeup = {(d.date, d.notice) for d in after.makeup_workdays if d.for_holiday == "劳动节"}
    assert makeup == {(dt.date(2019, 4, 28), "国办发明电〔2019〕3号"), (dt.date(2019, 5, 5), "国办发明电〔2019〕3号")}
    assert [n.number for n in after.notices] == ["国办发明电〔2018〕15号", "国办发明电〔2019〕3号"]
    assert any("2019-05-01..2019-05-01" in note for note in after.notes)  # what was replaced
    assert "existing" in str(_refusal(_text("2019-2.txt")))
    assert "已载入" in str(_refusal(_text("2019-2.txt"), existing=after))


def test_an_adjustment_must_balance_too() -> None:
    text = _text("2019-2.txt").replace("4月28日（星期日）、5月5日（星期日）上班。", "5月5日（星期日）上班。")
    error = _refusal(text, existing=parse_notice(_text("2019-1.txt"), url=URL))
    assert "不平衡" in str(error) and error.line == "一、2019年5月1日至4日放假调休，共4天。5月5日（星期日）上班。"


def test_a_garbled_copy_that_lost_its_makeup_days_is_refused() -> None:
    """A copy that dropped 「…上班。」 would otherwise lose two make-up working days silently."""
    text = _text("2025-1.txt").replace("1月26日（周日）、2月8日（周六）上班。", "")
    error = _refusal(text)
    assert error.line is not None and error.line.startswith("二、春节")
    assert "应有 2 个调休上班日，通知列出 0 个" in str(error) and "does not balance" in str(error)
    one_lost = _text("2024-1.txt").replace("4月28日（星期日）、5月11日（星期六）上班。", "4月28日（星期日）上班。")
    assert "应有 2 个调休上班日，通知列出 1 个（2024-04-28）" in str(_refusal(one_lost))


def test_the_balance_follows_the_law_in_force_in_the_notice_s_year() -> None:
    """From 2025 the Spring Festival has 4 statutory days and Labour Day 2 (国务院令第798号).
    2024's and 2025's Spring Festivals are both 8 days off with 2 make-up days: 2024's has 3
    weekend days, 2025's 2, so each balances only under its own year's law."""
    law = statutory_days()
    assert [law.version_for(y).days["春节"] for y in (2016, 2024, 2025, 2026)] == [3, 3, 4, 4]  # type: ignore[union-attr]
    assert [law.version_for(y).days["劳动节"] for y in (2024, 2025)] == [1, 2]  # type: ignore[union-attr]
    assert law.version_for(2013) is None  # before the 2013 revision: no table, no import
    for name in ("2024-1.txt", "2025-1.txt"):
        spring = next(p for p in parse_notice(_text(name), url=URL).holidays if p.name == "春节")
        assert spring.days == 8


def test_a_makeup_day_too_many_is_refused() -> None:
    text = _text("2026-1.txt").replace("5月9日（周六）上班。", "5月9日（周六）、5月10日（周日）上班。")
    assert "应有 1 个调休上班日，通知列出 2 个" in str(_refusal(text))


def test_notice_target_tells_which_file_and_whether_existing_is_needed() -> None:
    """A caller (e.g. the import command) loads the right year file before parsing."""
    assert notice_target(_text("2025-1.txt")) == NoticeTarget(year=2025, amends=False)
    assert notice_target(_text("2020-2.txt")) == NoticeTarget(year=2020, amends=True)
