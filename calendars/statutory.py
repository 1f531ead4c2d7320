"""How many statutory holiday days each festival has, by the law in force in a given year.

Why it matters: a holiday notice arranges days off around the statutory days (法定假日) and
pays for the extra weekdays off with make-up working days (调休上班). The number of make-up days
a period must name follows from its length, its weekend days and the statutory days, so a notice
whose make-up days do not add up was mis-typed or garbled and must not be imported
(calendars/notice_import.py). The days are data (``calendars/rules/statutory-days.yaml``), each
version citing the article of 《全国年节及纪念日放假办法》 it comes from, since the law changes
(from 2025 the Spring Festival has 4 days and Labour Day 2).
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from regflows.kit.rulefiles import load_yaml_model

RULES = Path(__file__).parent / "rules" / "statutory-days.yaml"


class LawVersion(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    effective_from: dt.date
    clause: str = Field(min_length=1)
    days: dict[str, int]


class StatutoryDays(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    versions: list[LawVersion] = Field(min_length=1)

    def version_for(self, year: int) -> LawVersion | None:
        """The version in force on 1 January of ``year`` (a notice arranges one whole year)."""
        start = dt.date(year, 1, 1)
        valid = [v for v in self.versions if v.effective_from <= start]
        return max(valid, key=lambda v: v.effective_from) if valid else None


@functools.cache
def statutory_days() -> StatutoryDays:
    return load_yaml_model(RULES, StatutoryDays, what="法定假日天数")
