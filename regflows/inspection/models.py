"""The quarter under inspection and the procedure's input error.

Why a quarter of its own and not the credit statistics' month: procedures never import each
other (tests/test_boundaries.py), and the self-inspection counts in quarters (三（三）: 按季度).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

__all__ = ["InspectionInputError", "Quarter"]

_QUARTER = re.compile(r"^(\d{4})[Qq]([1-4])$")


class InspectionInputError(ValueError):
    """An input that cannot be used (a file, a row, a quarter): the message is Chinese and names it."""


@dataclass(frozen=True)
class Quarter:
    """A calendar quarter, e.g. ``2026Q3``: 1 July to 30 September, both days included."""

    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> Quarter:
        match = _QUARTER.match(text.strip()) if isinstance(text, str) else None
        if not match:
            raise InspectionInputError(f"季度应写作 YYYYQn（如 2026Q3），实为 {text!r}")
        return cls(int(match.group(1)), int(match.group(2)))

    @property
    def label(self) -> str:
        return f"{self.year:04d}Q{self.number}"

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, 3 * self.number - 2, 1)

    @property
    def last_day(self) -> dt.date:
        if self.number == 4:
            return dt.date(self.year, 12, 31)
        return dt.date(self.year, 3 * self.number + 1, 1) - dt.timedelta(days=1)

    def contains(self, day: dt.date) -> bool:
        return self.first_day <= day <= self.last_day

    def months_back(self, months: int) -> dt.date:
        """The first day of the ``months``-month window that ends with this quarter's last day
        (6 → the first day of the previous quarter: 附件3 5.1's six months)."""
        index = self.year * 12 + (3 * self.number - 1) - (months - 1)  # months since year 0, 0-based
        return dt.date(index // 12, index % 12 + 1, 1)
