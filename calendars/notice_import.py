"""Read the published text of a State Council holiday notice into a :class:`YearArrangement`.

Why a strict parser and not a lenient one: the year files decide regulatory deadlines, so a line
the parser does not fully understand must stop the import with a message naming that line, and
a person reads the notice. The parser checks what a notice lets it check: each "共N天" against
the date range, each stated weekday (周三 / 星期日) against the calendar, each make-up working day
(…上班) against Saturday/Sunday, and the signature date against the document number's year.

Two kinds of notice are understood:

* the yearly notice ``国务院办公厅关于YYYY年部分节假日安排的通知``, which starts a year;
* an amending notice that extends a holiday, such as ``国务院办公厅关于延长2020年春节假期的通知``
  ("延长2020年春节假期至2月2日…2月3日…起正常上班"), applied on top of the year's existing
  arrangement: the added days become a holiday period of their own citing the amending notice,
  and make-up working days inside them are cancelled;
* an amending notice that re-arranges a holiday, such as ``国务院办公厅关于调整2019年劳动节假期安排
  的通知`` (国办发明电〔2019〕3号), which replaces the festival's period and make-up days.

Every holiday item must balance (:func:`_check_balance`): the make-up working days it names pay
for exactly the weekdays off beyond the statutory days (calendars/rules/statutory-days.yaml).
The older wording "1月1日放假，1月2日（星期一）补休" (2016, 2017) is read as a period that ends
with the weekday in lieu.

:func:`notice_target` reads only the title, so a caller can load the year file an amending
notice needs (``existing=``) before parsing. :func:`dump_year_yaml` writes the canonical text of
a year file, so that an imported notice and a hand-typed file can be compared byte for byte.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

import yaml
from pydantic import ValidationError

from calendars.model import HolidayPeriod, MakeupWorkday, Notice, YearArrangement
from calendars.statutory import statutory_days

__all__ = [
    "NoticeParseError",
    "NoticeTarget",
    "YEAR_FILE_HEADER",
    "dump_year_yaml",
    "notice_target",
    "parse_notice",
]

#: Festival names a notice item may carry, alone or joined with "、" (国庆节、中秋节).
FESTIVALS = frozenset({"元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节"})

#: The comment every year file starts with (written by :func:`dump_year_yaml`).
YEAR_FILE_HEADER = (
    "# 中国法定节假日放假调休安排：依据 notices 所列国务院办公厅通知原文逐条录入，原文见各 url。\n"
    "# Typed from the State Council notice(s) listed under `notices` (original text at each url).\n"
    "# Canonical layout: calendars.notice_import.dump_year_yaml(...) reproduces this file exactly.\n"
)

_CN_NUMERALS = "一二三四五六七八九十"
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
# Half-width punctuation some reprints use, mapped to the full-width forms of the official text.
_TO_FULL_WIDTH = str.maketrans({"(": "（", ")": "）", ":": "：", ",": "，", ";": "；"})
_TO_ASCII_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
_SPACES = re.compile(r"[\s\u3000\xa0]+")


class NoticeParseError(ValueError):
    """The notice text says something the parser cannot read with certainty; nothing is guessed."""

    def __init__(self, zh: str, en: str, line: str | None = None) -> None:
        self.line = line
        where = f"\n  出错的行 / offending line: 「{line}」" if line is not None else ""
        super().__init__(f"{zh}（{en}）{where}")


# --------------------------------------------------------------------------------------------
# Dates as notices write them: [YYYY年][M月]D日[（annotation）]
# --------------------------------------------------------------------------------------------

_DATE = r"(?:\d{4}年)?(?:\d{1,2}月)?\d{1,2}日(?:（[^）]*）)?"
_DATE_PARTS = re.compile(r"(?:(\d{4})年)?(?:(\d{1,2})月)?(\d{1,2})日(?:（([^）]*)）)?")
_RANGE_SEP = r"(?:至|—|－|-|~|～)"
_HOLIDAY_SENTENCE = re.compile(
    rf"^(?P<start>{_DATE})(?:{_RANGE_SEP}(?P<end>{_DATE}))?"
    r"放假(?P<tiaoxiu>调休)?(?:(?P<n1>\d+)天)?(?:，共(?P<n2>\d+)天)?"
    rf"(?:，(?P<buxiu>{_DATE})补休)?"
    r"(?:，(?P<tail>与周末连休|不调休))?$"
)
_MAKEUP_SENTENCE = re.compile(rf"^(?P<dates>{_DATE}(?:、{_DATE})*)上班$")
_EXTENSION_ITEM = re.compile(
    rf"^延长(?:(?P<year>\d{{4}})年)?(?P<name>\S+?)假期至(?P<end>{_DATE})，"
    rf"(?P<resume>{_DATE})起正常上班$"
)
#: Sentences inside an item that recommend rather than arrange (2024: 鼓励…安排职工在除夕休息).
_ADVISORY_PREFIXES = ("鼓励",)
#: Signs of an arrangement written outside a numbered item, which must not be skipped silently.
_STRAY_ARRANGEMENT = re.compile(r"\d{1,2}日（[^）]*）(?:上班|补休)|放假(?:调休)?，共\d+天")
_ANY_DATE = re.compile(r"\d{1,2}月\d{1,2}日")


@dataclass(frozen=True)
class _Context:
    """What a date needs from around it: the notice year and the line for error messages."""

    year: int
    line: str


def _resolve(token: str, ctx: _Context, *, year: int | None = None, month: int | None = None) -> dt.date:
    """One written date as a ``date``; missing year/month come from the caller, never a guess."""
    m = _DATE_PARTS.fullmatch(token)
    if m is None:
        raise NoticeParseError(f"无法识别日期「{token}」", f"cannot read the date {token!r}", ctx.line)
    y = int(m[1]) if m[1] else (year if year is not None else ctx.year)
    if m[2]:
        mo = int(m[2])
    elif month is not None:
        mo = month
    else:
        raise NoticeParseError(
            f"日期「{token}」没有月份，无法确定", f"date {token!r} has no month", ctx.line
        )
    try:
        day = dt.date(y, mo, int(m[3]))
    except ValueError as exc:
        raise NoticeParseError(f"日期「{token}」不存在", f"no such date {token!r}", ctx.line) from exc
    _check_annotation(day, m[4], ctx)
    return day


def _check_annotation(day: dt.date, annotation: str | None, ctx: _Context) -> None:
    """A bracket after a date may state its weekday (周二, 星期日) and lunar day; check the weekday."""
    if not annotation:
        return
    for part in re.split(r"[、，]", annotation):
        weekday = re.fullmatch(r"(?:周|星期)([一二三四五六日天])", part)
        if weekday:
            if _WEEKDAYS[weekday[1]] != day.weekday():
                raise NoticeParseError(
                    f"{day} 不是{part}", f"{day} is not the weekday the notice states ({part})", ctx.line
                )
        elif not part.startswith("农历"):
            raise NoticeParseError(
                f"日期后括号内容「{part}」无法识别",
                f"cannot read the annotation {part!r} after a date",
                ctx.line,
            )


# --------------------------------------------------------------------------------------------
# The parts of a notice
# --------------------------------------------------------------------------------------------


def _lines(text: str) -> list[str]:
    """Non-empty lines, spaces removed, half-width punctuation and digits normalised."""
    out = []
    for raw in text.splitlines():
        line = _SPACES.sub("", raw).translate(_TO_FULL_WIDTH).translate(_TO_ASCII_DIGITS)
        if line:
            out.append(line)
    return out


def _title(lines: list[str]) -> tuple[str, int, int]:
    """The title (possibly broken over two lines), its year, and how many lines it took."""
    if not lines:
        raise NoticeParseError("通知文本为空", "the notice text is empty")
    first = lines[0]
    if not first.startswith("国务院办公厅关于"):
        raise NoticeParseError(
            "第一行不是国务院办公厅通知标题",
            "the first line is not the title of a State Council General Office notice",
            first,
        )
    title, used = first, 1
    if not title.endswith("通知") and len(lines) > 1 and lines[1].endswith("通知"):
        title, used = title + lines[1], 2
    if not title.endswith("通知"):
        raise NoticeParseError("标题不完整（应以“通知”结尾）", "incomplete title", title)
    year = re.search(r"(\d{4})年", title)
    if year is None:
        raise NoticeParseError("标题中没有年份", "the title names no year", title)
    return title, int(year[1]), used


def _number(lines: list[str]) -> tuple[str, int]:
    """The 发文字号 line, e.g. 国办发明电〔2024〕12号, and its year; exactly one is required."""
    found = [m for line in lines if (m := re.fullmatch(r"国办发(?:明电)?〔(\d{4})〕\d+号", line))]
    if len(found) != 1:
        raise NoticeParseError(
            f"应有且只有一行发文字号（如 国办发明电〔2024〕12号），找到 {len(found)} 行",
            f"expected exactly one document number line, found {len(found)}",
        )
    return found[0][0], int(found[0][1])


def _signed_date(lines: list[str]) -> dt.date:
    """The date under the signature 国务院办公厅 (成文日期)."""
    for i in range(len(lines) - 1):
        if lines[i] == "国务院办公厅":
            m = re.fullmatch(r"(\d{4})年(\d{1,2})月(\d{1,2})日", lines[i + 1])
            if m:
                return dt.date(int(m[1]), int(m[2]), int(m[3]))
            raise NoticeParseError(
                "署名“国务院办公厅”下一行不是成文日期", "no date under the signature", lines[i + 1]
            )
    raise NoticeParseError(
        "找不到署名“国务院办公厅”及成文日期", "signature 国务院办公厅 and its date not found"
    )


def _items(lines: list[str]) -> tuple[list[str], list[str]]:
    """Numbered items (一、…) in order, and the other lines of the body."""
    items: list[str] = []
    others: list[str] = []
    for line in lines:
        m = re.match(rf"^([{_CN_NUMERALS}]+)、(.*)$", line)
        if m:
            expected = _cn_numeral(len(items) + 1)
            if m[1] != expected:
                raise NoticeParseError(
                    f"条目编号应为“{expected}、”", f"item number out of sequence, expected {expected}", line
                )
            items.append(line)
        else:
            others.append(line)
    return items, others


def _cn_numeral(n: int) -> str:
    if n <= 10:
        return _CN_NUMERALS[n - 1]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _CN_NUMERALS[tens - 1]) + "十" + (_CN_NUMERALS[ones - 1] if ones else "")


def _refuse_stray_arrangements(lines: Iterable[str]) -> None:
    """A make-up day or a "共N天" outside a numbered item would otherwise be skipped unnoticed."""
    for line in lines:
        if _STRAY_ARRANGEMENT.search(line):
            raise NoticeParseError(
                "条目之外出现了放假或上班安排，无法确定其归属",
                "an arrangement appears outside the numbered items",
                line,
            )


def _festival_name(name: str, line: str) -> str:
    parts = name.split("、")
    if not all(p in FESTIVALS for p in parts):
        raise NoticeParseError(
            f"无法识别的节日名称「{name}」", f"unknown holiday name {name!r}", line
        )
    return name


# --------------------------------------------------------------------------------------------
# The yearly notice
# --------------------------------------------------------------------------------------------


def _parse_item(
    item: str, year: int, number: str
) -> tuple[HolidayPeriod, list[MakeupWorkday]]:
    """One numbered item: "春节：1月28日（…）至2月4日（…）放假调休，共8天。1月26日（周日）…上班。"."""
    m = re.fullmatch(rf"[{_CN_NUMERALS}]+、([^：]+)：(.+)", item)
    if m is None:
        raise NoticeParseError(
            "条目格式应为“编号、节日：安排”", "an item must read '<no>、<holiday>：<arrangement>'", item
        )
    return _arrangement_of(_festival_name(m[1], item), m[2], year, number, item)


def _arrangement_of(
    name: str, text: str, year: int, number: str, item: str
) -> tuple[HolidayPeriod, list[MakeupWorkday]]:
    """The days off and make-up days ``text`` arranges for ``name``; errors name ``item``."""
    ctx = _Context(year, item)
    sentences = [s for s in text.split("。") if s]
    if not sentences:
        raise NoticeParseError("条目没有内容", "empty item", item)
    period, no_makeup = _holiday_sentence(sentences[0], name, number, ctx)
    makeups: list[MakeupWorkday] = []
    for sentence in sentences[1:]:
        if sentence.startswith(_ADVISORY_PREFIXES):
            continue  # a recommendation (e.g. rest on 除夕 using annual leave), not an arrangement
        makeups.extend(_makeup_sentence(sentence, name, number, ctx))
    if no_makeup and makeups:
        raise NoticeParseError(
            "条目写明“不调休”却列出了上班日", "says 不调休 but lists make-up working days", item
        )
    _check_balance(period, makeups, year, item)
    return period, makeups


def _holiday_sentence(
    sentence: str, name: str, number: str, ctx: _Context
) -> tuple[HolidayPeriod, bool]:
    """The period off and whether the item says 不调休 (no make-up days)."""
    m = _HOLIDAY_SENTENCE.fullmatch(sentence)
    if m is None:
        raise NoticeParseError(
            f"无法解析“{name}”的放假安排「{sentence}」",
            f"cannot parse the holiday arrangement of {name}",
            ctx.line,
        )
    start = _resolve(m["start"], ctx)
    end = _resolve(m["end"], ctx, year=start.year, month=start.month) if m["end"] else start
    if end < start:
        raise NoticeParseError(
            f"结束日 {end} 早于开始日 {start}", f"end {end} is before start {start}", ctx.line
        )
    if m["buxiu"]:
        end = _buxiu(m["buxiu"], end, ctx)
    span = (end - start).days + 1
    stated = {int(n) for n in (m["n1"], m["n2"]) if n}
    if stated - {span}:
        said = "、".join(str(n) for n in sorted(stated))
        raise NoticeParseError(
            f"通知所述天数（{said} 天）与日期 {start}..{end}（{span} 天）不符",
            f"the stated day count {said} disagrees with {start}..{end} ({span} days)",
            ctx.line,
        )
    period = HolidayPeriod(name=name, start=start, end=end, days=span, notice=number)
    return period, m["tail"] == "不调休"


def _buxiu(token: str, end: dt.date, ctx: _Context) -> dt.date:
    """"1月1日放假，1月2日（星期一）补休" (the 2016 and 2017 notices): a statutory day on a weekend
    is made up by the weekday after it, which is a day off of the same period. It must be a
    weekday and follow the days off with nothing but a weekend between."""
    day = _resolve(token, ctx, year=end.year, month=end.month)
    between = [end + dt.timedelta(days=i) for i in range(1, (day - end).days)]
    if day <= end or day.weekday() >= 5 or any(d.weekday() < 5 for d in between):
        raise NoticeParseError(
            f"补休日 {day} 应为紧随 {end} 之后的工作日（周一至周五）",
            f"the day off in lieu {day} must be the weekday right after {end}",
            ctx.line,
        )
    return day


def _check_balance(
    period: HolidayPeriod, makeups: list[MakeupWorkday], year: int, line: str
) -> None:
    """The make-up working days an item names must pay for exactly its extra weekdays off.

    For each holiday period: make-up days = days off in the period - the statutory days of its
    festival(s) by the law in force in the notice's year (calendars/rules/statutory-days.yaml,
    《全国年节及纪念日放假办法》第二条) - the weekend days in the period (a 补休 weekday is a day off
    like the others). A notice that does not balance was mis-typed or garbled (a dropped
    "…上班。" loses make-up days silently otherwise) and is refused. Extension notices (2020's
    Spring Festival) add days off without make-up days and are not checked.
    """
    law = statutory_days().version_for(year)
    if law is None:
        raise NoticeParseError(
            f"没有 {year} 年适用的法定假日天数（calendars/rules/statutory-days.yaml）",
            f"no statutory holiday days in force for {year}",
            line,
        )
    statutory = 0
    for festival in period.name.split("、"):
        if festival not in law.days:
            raise NoticeParseError(
                f"{law.clause} 没有“{festival}”的法定假日天数", f"no statutory days for {festival}", line
            )
        statutory += law.days[festival]
    days = [period.start + dt.timedelta(days=i) for i in range(period.days)]
    weekend = sum(d.weekday() >= 5 for d in days)
    expected = period.days - statutory - weekend
    if len(makeups) != expected:
        named = "、".join(d.date.isoformat() for d in makeups) or "无"
        raise NoticeParseError(
            f"“{period.name}”的调休不平衡：{period.start}..{period.end} 放假 {period.days} 天，"
            f"其中法定假日 {statutory} 天（{law.clause}）、周末 {weekend} 天，"
            f"应有 {expected} 个调休上班日，通知列出 {len(makeups)} 个（{named}）。"
            "请核对通知原文是否完整（如缺少“…上班。”）",
            f"the item does not balance: {period.days} days off - {statutory} statutory - {weekend} weekend "
            f"= {expected} make-up working days expected, {len(makeups)} named",
            line,
        )


def _makeup_sentence(
    sentence: str, name: str, number: str, ctx: _Context
) -> list[MakeupWorkday]:
    """"1月26日（周日）、2月8日（周六）上班": each must be a Saturday or Sunday."""
    m = _MAKEUP_SENTENCE.fullmatch(sentence)
    if m is None:
        raise NoticeParseError(
            f"无法解析的句子「{sentence}」（既不是上班安排，也不是倡议）",
            "cannot parse this sentence: neither make-up working days nor a recommendation",
            ctx.line,
        )
    days: list[MakeupWorkday] = []
    month: int | None = None
    for token in re.findall(_DATE, m["dates"]):
        day = _resolve(token, ctx, month=month)
        month = day.month
        if day.weekday() < 5:
            raise NoticeParseError(
                f"调休上班日 {day} 不是周六或周日",
                f"make-up working day {day} is not a Saturday or Sunday",
                ctx.line,
            )
        days.append(MakeupWorkday(date=day, for_holiday=name, notice=number))
    return days


def _parse_yearly(
    title: str, year: int, number: str, notice: Notice, items: list[str]
) -> YearArrangement:
    if not items:
        raise NoticeParseError("通知中没有编号的放假条目", "no numbered holiday items found", title)
    holidays: list[HolidayPeriod] = []
    makeups: list[MakeupWorkday] = []
    for item in items:
        period, days = _parse_item(item, year, number)
        holidays.append(period)
        makeups.extend(days)
    return _arrangement(year, [notice], holidays, makeups, [], title)


# --------------------------------------------------------------------------------------------
# Amending notices (extensions)
# --------------------------------------------------------------------------------------------


def _the_dated_item(items: list[str], what_zh: str, what_en: str, title: str) -> str:
    """The one item of an amending notice that carries dates (an extension or an adjustment
    names exactly one period; its other items are prose)."""
    dated = [i for i in items if _ANY_DATE.search(i)]
    if len(dated) != 1:
        raise NoticeParseError(
            f"应有且只有一条带日期的{what_zh}条目，找到 {len(dated)} 条",
            f"expected exactly one dated {what_en} item, found {len(dated)}",
            title,
        )
    return dated[0]

def _parse_extension(
    title: str, year: int, notice: Notice, items: list[str], existing: YearArrangement | None
) -> YearArrangement:
    """Apply "延长YYYY年X假期至M月D日…，M月D日…起正常上班" to the year's existing arrangement.

    An extension adds days off without make-up days (it is not a re-arrangement under the law's
    statutory days), so it is exempt from the balance check of :func:`_check_balance`.
    """
    existing = _check_amendable(title, year, notice, existing)
    item = _the_dated_item(items, "延长", "extension", title)  # the others are prose (开学, 补休…)
    body = re.sub(rf"^[{_CN_NUMERALS}]+、", "", item).rstrip("。")
    m = _EXTENSION_ITEM.fullmatch(body)
    if m is None:
        raise NoticeParseError(
            "无法解析延长假期条目", "cannot parse the extension item", item
        )
    ctx = _Context(year, item)
    if m["year"] and int(m["year"]) != year:
        raise NoticeParseError(f"条目年份与标题年份 {year} 不符", "item year differs from title", item)
    name = _festival_name(m["name"], item)
    periods = [p for p in existing.holidays if p.name == name]
    if not periods:
        raise NoticeParseError(
            f"{year} 年已有安排中没有“{name}”", f"no {name} period in the existing arrangement", item
        )
    last = max(periods, key=lambda p: p.end)
    new_end = _resolve(m["end"], ctx)
    resume = _resolve(m["resume"], ctx)
    if new_end <= last.end:
        raise NoticeParseError(
            f"延长后的结束日 {new_end} 不晚于原结束日 {last.end}",
            f"new end {new_end} does not extend {last.end}",
            item,
        )
    added = HolidayPeriod(
        name=name,
        start=last.end + dt.timedelta(days=1),
        end=new_end,
        days=(new_end - last.end).days,
        notice=notice.number,
    )
    _check_resume(resume, new_end, existing, item)
    _check_no_overlap(added, existing.holidays, item)
    # Make-up working days inside the added days are cancelled: they have become holidays.
    kept = [d for d in existing.makeup_workdays if not added.start <= d.date <= added.end]
    return _arrangement(
        year,
        [*existing.notices, notice],
        [*existing.holidays, added],
        kept,
        list(existing.notes),
        item,
    )


def _check_amendable(title: str, year: int, notice: Notice, existing: YearArrangement | None) -> YearArrangement:
    """An amending notice applies to the year's existing arrangement, once."""
    if existing is None:
        raise NoticeParseError(
            "这是修改性通知，需同时提供该年已有的安排（existing）",
            "an amending notice needs the year's existing arrangement (existing=...)",
            title,
        )
    if existing.year != year:
        raise NoticeParseError(
            f"通知针对 {year} 年，existing 却是 {existing.year} 年",
            f"notice is for {year}, existing arrangement is for {existing.year}",
            title,
        )
    if any(n.number == notice.number for n in existing.notices):
        raise NoticeParseError(
            f"{notice.number} 已载入该年安排", f"{notice.number} is already applied", title
        )
    return existing


def _parse_adjustment(
    title: str, year: int, notice: Notice, items: list[str], existing: YearArrangement | None
) -> YearArrangement:
    """Apply "调整YYYY年X假期安排" (国办发明电〔2019〕3号, Labour Day 2019) to the year's arrangement.

    The notice re-arranges one festival named in its title: its one dated item reads like an item
    of a yearly notice without the festival name ("2019年5月1日至4日放假调休，共4天。4月28日
    （星期日）、5月5日（星期日）上班。"). The festival's earlier period and make-up days are
    replaced by the new ones, which cite the adjusting notice and must balance like any yearly
    item; a note records what was replaced.
    """
    existing = _check_amendable(title, year, notice, existing)
    m = _ADJUSTMENT_TITLE.fullmatch(title)
    assert m is not None  # _kind matched it
    if int(m[1]) != year:
        raise NoticeParseError(f"标题年份与 {year} 不符", "title year differs", title)
    name = _festival_name(m[2], title)
    item = _the_dated_item(items, "调整", "adjustment", title)  # the others are prose (落实, 值班…)
    body = re.sub(rf"^[{_CN_NUMERALS}]+、", "", item)
    old_periods = [p for p in existing.holidays if p.name == name]
    if not old_periods:
        raise NoticeParseError(
            f"{year} 年已有安排中没有“{name}”", f"no {name} period in the existing arrangement", item
        )
    period, makeups = _arrangement_of(name, body, year, notice.number, item)
    old_makeups = [d for d in existing.makeup_workdays if d.for_holiday == name]
    others = [p for p in existing.holidays if p.name != name]
    _check_no_overlap(period, others, item)
    was = "、".join(f"{p.start}..{p.end}" for p in old_periods)
    was_makeup = "、".join(d.date.isoformat() for d in old_makeups) or "无"
    note = (
        f"{notice.number}（{notice.date}）调整{name}：原安排 {was}（调休上班日：{was_makeup}）"
        f"改为 {period.start}..{period.end}（调休上班日：{'、'.join(d.date.isoformat() for d in makeups) or '无'}）。"
    )
    return _arrangement(
        year,
        [*existing.notices, notice],
        [*others, period],
        [*(d for d in existing.makeup_workdays if d.for_holiday != name), *makeups],
        [*existing.notes, note],
        item,
    )


def _check_resume(resume: dt.date, new_end: dt.date, existing: YearArrangement, line: str) -> None:
    """"…起正常上班" must be the first working day after the new end (only a weekend between)."""
    makeup = {d.date for d in existing.makeup_workdays}
    between = [new_end + dt.timedelta(days=i) for i in range(1, (resume - new_end).days)]
    if resume <= new_end or any(d.weekday() < 5 or d in makeup for d in between):
        raise NoticeParseError(
            f"恢复上班日 {resume} 与延长后的结束日 {new_end} 不衔接",
            f"work resumes {resume}, which does not follow the new end {new_end}",
            line,
        )


def _check_no_overlap(added: HolidayPeriod, holidays: list[HolidayPeriod], line: str) -> None:
    for other in holidays:
        if added.start <= other.end and other.start <= added.end:
            raise NoticeParseError(
                f"延长的日期 {added.start}..{added.end} 与已有的“{other.name}”重叠",
                f"extension overlaps the existing period {other.name}",
                line,
            )


# --------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------


def _arrangement(
    year: int,
    notices: list[Notice],
    holidays: list[HolidayPeriod],
    makeups: list[MakeupWorkday],
    notes: list[str],
    line: str,
) -> YearArrangement:
    """Build the year in canonical order (periods by start, make-up days by date)."""
    try:
        return YearArrangement(
            year=year,
            notices=notices,
            holidays=sorted(holidays, key=lambda p: (p.start, p.end)),
            makeup_workdays=sorted(makeups, key=lambda d: d.date),
            notes=notes,
        )
    except ValidationError as exc:
        raise NoticeParseError(
            f"解析结果不是一致的年度安排：{exc}", "the parsed arrangement is inconsistent", line
        ) from exc


def parse_notice(
    text: str, *, url: str, existing: YearArrangement | None = None
) -> YearArrangement:
    """The arrangement a notice sets, or with ``existing`` the year after an amending notice.

    ``text`` is the plain text as published: title, 发文字号, body, signature 国务院办公厅 and the
    date. Raises :class:`NoticeParseError` for anything not read with certainty.
    """
    lines = _lines(text)
    title, year, used = _title(lines)
    number, number_year = _number(lines)
    signed = _signed_date(lines)
    if number_year != signed.year:
        raise NoticeParseError(
            f"发文字号年份 {number_year} 与成文日期 {signed} 不符",
            "the document number's year differs from the signature date",
            number,
        )
    notice = Notice(number=number, title=title, date=signed, url=url)
    items, others = _items(lines[used:])
    _refuse_stray_arrangements(others)
    kind = _kind(title)
    if kind == "extension":
        return _parse_extension(title, year, notice, items, existing)
    if kind == "adjustment":
        return _parse_adjustment(title, year, notice, items, existing)
    if existing is not None:
        raise NoticeParseError(
            "年度通知开启新的一年，不应提供 existing",
            "a yearly notice starts a year; existing is only for amending notices",
            title,
        )
    return _parse_yearly(title, year, number, notice, items)


@dataclass(frozen=True)
class NoticeTarget:
    """Which year file a notice belongs to, and whether it amends it (then pass ``existing``)."""

    year: int
    amends: bool


def notice_target(text: str) -> NoticeTarget:
    """Read only the title: lets a caller load the right year file before :func:`parse_notice`."""
    title, year, _ = _title(_lines(text))
    return NoticeTarget(year=year, amends=_amends(title))


_ADJUSTMENT_TITLE = re.compile(r"国务院办公厅关于调整(\d{4})年(\S+?)假期安排的通知")


def _kind(title: str) -> str:
    """``yearly``, ``extension`` or ``adjustment`` (both amend a year); any other kind is refused."""
    if re.fullmatch(r"国务院办公厅关于\d{4}年部分节假日(?:休息)?安排的通知", title):
        return "yearly"
    if re.fullmatch(r"国务院办公厅关于延长\d{4}年\S+假期的通知", title):
        return "extension"
    if _ADJUSTMENT_TITLE.fullmatch(title):
        return "adjustment"
    raise NoticeParseError(
        "不支持的通知类型（只支持年度节假日安排通知、延长假期通知和调整假期安排通知）",
        "unsupported kind of notice (yearly arrangement, holiday extension or adjustment only)",
        title,
    )


def _amends(title: str) -> bool:
    """True for an amending notice (extension, adjustment), False for a yearly one."""
    return _kind(title) != "yearly"


class _NoAliasDumper(yaml.SafeDumper):
    """A one-day holiday has the same date object as start and end: write it twice, no &anchor."""

    def ignore_aliases(self, data: object) -> bool:
        return True


def dump_year_yaml(arrangement: YearArrangement) -> str:
    """The canonical text of a year file: header comment, fixed key order, plain YYYY-MM-DD dates.

    Key order is the model's field order (year, notices, holidays, makeup_workdays, notes); lines
    are never wrapped, so a note stays on one line and diffs stay readable.
    """
    body = yaml.dump(
        arrangement.model_dump(mode="python"),
        Dumper=_NoAliasDumper,
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=False,
        width=1_000_000,
    )
    return YEAR_FILE_HEADER + body
