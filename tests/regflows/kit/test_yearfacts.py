"""The kit's registry of year facts (regflows/kit/yearfacts.py): how an owed row stands at a time,
the providers merged, and nothing registered said in Chinese, never an empty year."""

from __future__ import annotations

import datetime as dt

import pytest

from regflows.kit import yearfacts
from regflows.kit.yearfacts import CreditEvent, NoYearFacts, Owed, YearFacts, YearFactsProvider, gather_year

BJ = dt.timezone(dt.timedelta(hours=8))
DUE = dt.datetime(2025, 3, 6, 23, 59, 59, tzinfo=BJ)


def _owed(fulfilled: dt.datetime | None, state: str = "pending", due: dt.datetime | None = DUE) -> Owed:
    return Owed(1, "p", "s", "c", "t", "PBOC-102 三（二）", due, fulfilled, state)


@pytest.mark.parametrize(("row", "now", "expected"), [
    (_owed(DUE), DUE, "on_time"),  # at the due instant itself: on time
    (_owed(DUE + dt.timedelta(seconds=1)), DUE, "late"),
    (_owed(None), DUE + dt.timedelta(seconds=1), "missed"),
    (_owed(None), DUE, "open"),
    (_owed(None, due=None), DUE + dt.timedelta(days=400), "open"),  # no fixed time: never missed
    (_owed(None, "waived"), DUE + dt.timedelta(days=1), "ended"),
    (_owed(None, "withdrawn"), DUE + dt.timedelta(days=1), "ended"),
])
def test_an_owed_row_at_a_time(row: Owed, now: dt.datetime, expected: str) -> None:
    assert row.timeliness(now) == expected


def test_providers_are_merged_by_owner_and_nothing_registered_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yearfacts, "_PROVIDERS", {})
    with pytest.raises(NoYearFacts, match="没有流程登记年度事实"):
        gather_year(2025)
    event = CreditEvent("INC-1", "YX0001", "t", ("report_leak",), dt.datetime(2025, 5, 1, tzinfo=BJ))
    yearfacts.register_year_facts(YearFactsProvider("b", "乙", lambda year, url: YearFacts(year, credit_events=(event,))))
    yearfacts.register_year_facts(YearFactsProvider("a", "甲", lambda year, url: YearFacts(year, reports=(_owed(None),),
                                                                                          quarters_run=(f"{year}Q3",))))
    facts = gather_year(2025)
    assert (facts.providers, facts.credit_events, len(facts.reports), facts.quarters_run) == (("a", "b"), (event,), 1, ("2025Q3",))
    with pytest.raises(ValueError):
        YearFacts(2025).merged(YearFacts(2024))
