"""Cross-check the year files against two independent packages, day by day.

Why: the year files are typed by hand from the State Council notices, and a typing slip (a
wrong make-up day, a period one day short) would silently move a regulatory deadline. Two
packages maintained by other people (``chinese_calendar``, ``holidays``) catch such slips. The
packages are not trusted either: where one is wrong and the notice is right, the disagreement is
listed in KNOWN_PACKAGE_ERRORS with the reason and explained in that year's ``notes:``; any other
disagreement fails. A listed error that the package has since fixed also fails, so the list
cannot rot into a loose comparison.

Status is derived by ``calendars.official`` (the project's own reader of the year files).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import chinese_calendar
import holidays
import pytest
import yaml

from calendars.model import YearArrangement
from calendars.official import WorkingDayCalendar, load_calendar

DATA_DIR = Path(__file__).resolve().parents[2] / "calendars" / "data"
YEARS = range(2020, 2027)

#: Working days per year as published with the notices (counted from the State Council notices in tests/calendars/fixtures/notices/)
#: for 2024-2026; 2020-2023 are the counts of the files, which both packages confirm day by day.
WORKING_DAYS_PER_YEAR = {2020: 249, 2021: 250, 2022: 249, 2023: 249, 2024: 251, 2025: 248, 2026: 248}

#: Days where a package is known to be wrong and the notice right: (package, date) -> reason.
#: Each entry must also be explained in the ``notes:`` of the year file. For 2020-2026 neither
#: chinese_calendar 1.11.0 nor holidays 0.109 disagrees with the notices on any day, so the list
#: is empty. (chinese_calendar's known error, 2005-12-31, lies outside the years checked here.)
KNOWN_PACKAGE_ERRORS: dict[tuple[str, dt.date], str] = {}

PACKAGES = ("chinese_calendar", "holidays")


def _days_of(year: int) -> Iterator[dt.date]:
    day = dt.date(year, 1, 1)
    while day.year == year:
        yield day
        day += dt.timedelta(days=1)


@pytest.fixture(scope="module")
def calendar() -> WorkingDayCalendar:
    return load_calendar(DATA_DIR)


def _load(year: int) -> YearArrangement:
    return YearArrangement.model_validate(yaml.safe_load((DATA_DIR / f"{year}.yaml").read_text("utf-8")))


def _holidays_package_says_working(year: int) -> dict[dt.date, bool]:
    """Working-day status per the ``holidays`` package: public holidays only, never half days.

    ``weekend_workdays`` holds its make-up working days; it can carry dates of other years, so
    only the year asked about is used.
    """
    table = holidays.China(years=year, categories=(holidays.PUBLIC,))
    makeup = {d for d in table.weekend_workdays if d.year == year}
    return {d: d in makeup or (d.weekday() < 5 and d not in table) for d in _days_of(year)}


def _package_says_working(package: str, year: int) -> dict[dt.date, bool]:
    if package == "chinese_calendar":
        return {d: chinese_calendar.is_workday(d) for d in _days_of(year)}
    return _holidays_package_says_working(year)


# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("year", YEARS)
def test_year_file_validates(year: int) -> None:
    arrangement = _load(year)
    assert arrangement.year == year


def test_no_other_year_files() -> None:
    """A stray or misnamed file would be loaded by the calendar without being cross-checked."""
    names = sorted(p.name for p in DATA_DIR.glob("*.yaml"))
    assert names == [f"{y}.yaml" for y in YEARS]


@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("year", YEARS)
def test_working_days_agree_with_package(
    calendar: WorkingDayCalendar, package: str, year: int
) -> None:
    theirs = _package_says_working(package, year)
    disagreements = {
        day: (calendar.is_working_day(day), said)
        for day, said in theirs.items()
        if calendar.is_working_day(day) != said
    }
    unexplained = {
        day: f"year file says working={ours}, {package} says working={said}"
        for day, (ours, said) in disagreements.items()
        if (package, day) not in KNOWN_PACKAGE_ERRORS
    }
    assert unexplained == {}
    stale = [
        day
        for (pkg, day) in KNOWN_PACKAGE_ERRORS
        if pkg == package and day.year == year and day not in disagreements
    ]
    assert stale == [], f"{package} now agrees on {stale}: remove them from KNOWN_PACKAGE_ERRORS"


def test_known_package_errors_are_explained_in_notes() -> None:
    """Every tolerated package error is written down where an auditor reads the data.

    A date in late December may be set by the next year's notice, so both files are searched.
    """
    unexplained = []
    for (package, day), reason in sorted(KNOWN_PACKAGE_ERRORS.items()):
        years = [y for y in (day.year, day.year + 1) if (DATA_DIR / f"{y}.yaml").exists()]
        notes = " ".join(note for y in years for note in _load(y).notes)
        if not reason or day.isoformat() not in notes or package not in notes:
            unexplained.append((package, day))
    assert unexplained == []


@pytest.mark.parametrize("year", YEARS)
def test_working_day_count(calendar: WorkingDayCalendar, year: int) -> None:
    count = calendar.count_working_days(dt.date(year, 1, 1), dt.date(year, 12, 31))
    assert count == WORKING_DAYS_PER_YEAR[year]


@pytest.mark.parametrize(
    ("year", "number"),
    [(2024, "国办发明电〔2023〕7号"), (2025, "国办发明电〔2024〕12号"), (2026, "国办发明电〔2025〕7号")],
)
def test_notice_numbers(year: int, number: str) -> None:
    assert [n.number for n in _load(year).notices] == [number]


def test_2020_spring_festival_is_the_extended_one(calendar: WorkingDayCalendar) -> None:
    """The 2020 extension made 01-31..02-02 holidays and cancelled the 02-01 make-up day."""
    arrangement = _load(2020)
    assert [n.number for n in arrangement.notices] == ["国办发明电〔2019〕16号", "国办发明电〔2020〕1号"]
    spring = [(p.start, p.end, p.notice) for p in arrangement.holidays if p.name == "春节"]
    assert spring == [
        (dt.date(2020, 1, 24), dt.date(2020, 1, 30), "国办发明电〔2019〕16号"),
        (dt.date(2020, 1, 31), dt.date(2020, 2, 2), "国办发明电〔2020〕1号"),
    ]
    assert dt.date(2020, 2, 1) not in {m.date for m in arrangement.makeup_workdays}
    assert not calendar.is_working_day(dt.date(2020, 2, 1))
    assert calendar.is_working_day(dt.date(2020, 2, 3))
    assert calendar.is_working_day(dt.date(2020, 1, 19))  # make-up day of the regular notice
