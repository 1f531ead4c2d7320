"""Which self-inspection reports a quarter owes, and whose data each holds (issue 15, item 7).

PBOC-102 三（三）: 「…将自查自纠情况向人民银行书面报告，报告流程参照征信信息安全事件的报告要求」, and
三（二）'s route: the head office reports to the PBoC (a national access institution's to
人民银行征信管理局, a local one's to the PBoC branch where it is), a unit that reports on its own to
the PBoC branch where it is. Which units report on their own is the kit's
(:mod:`regflows.kit.units`, the same split as the monthly statistics' tables).

So a quarter owes one report for the head office, holding the data of every unit that does not
report on its own (and of any unit code the profile does not know), and one for each unit that
does, holding only its own: its leads, its share of the sample, the checks of its users, its
findings. Whether the head office's report also gives a summary of the units reporting on their
own is ``inspection_head_office_summary`` (README, Interpretations).

A report's key: the quarter (``2025Q3``) for the head office's, so quarters recorded before units
kept their records; ``2025Q3-YX0101`` for a unit's own (the kit's ``unit_key``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from regflows.inspection.models import InspectionInputError, Quarter
from regflows.kit.units import addressee, head_office_covers, of_unit, own_units, split_unit_key, unit_key
from regflows.profile import Profile, ReportingUnit

__all__ = ["LABEL_LENGTH", "InspectionReport", "report_for", "reports", "split_key", "user_units"]

#: ``2025Q3``: a quarter's label always has six characters.
LABEL_LENGTH = len("YYYYQn")


@dataclass(frozen=True)
class InspectionReport:
    """One written report a quarter owes: whose it is, whose data it holds, to whom it goes."""

    unit: ReportingUnit
    head_office: bool
    #: The units whose data it holds (the head office's: also any code the profile does not know).
    covers: tuple[str, ...]
    #: The units reporting on their own (the head office's report leaves their data out).
    others: tuple[str, ...]
    addressee: str
    #: Who reviews and who approves it (the unit's roles where set, else the institution's settings).
    review_role: str = "compliance"
    approval_role: str = "leadership_group"

    @property
    def code(self) -> str | None:
        """None for the head office's report, else the unit's code (as in keys and ``--unit``)."""
        return None if self.head_office else self.unit.code

    def key(self, quarter: Quarter) -> str:
        return unit_key(quarter.label, self.code)

    @property
    def suffix(self) -> str:
        """File-name suffix: the head office's files keep the quarter's names, a unit's add ``-<unit>``."""
        return "" if self.head_office else f"-{self.unit.code}"

    def holds(self, unit_code: str) -> bool:
        """Whether a lead, user or finding of ``unit_code`` belongs to this report."""
        return unit_code not in self.others if self.head_office else unit_code == self.unit.code


def reports(profile: Profile) -> list[InspectionReport]:
    """The head office's report first, then each unit that reports on its own, in profile order."""
    own = own_units(profile)
    others = tuple(u.code for u in own)
    s = profile.settings
    out = [InspectionReport(profile.head_office, True, head_office_covers(profile), others, addressee(profile),
                            s.inspection_review_role, s.inspection_approval_role)]
    out += [InspectionReport(u, False, (u.code,), (), addressee(profile, u), u.inspection_review_role or s.inspection_review_role,
                             u.inspection_approval_role or s.inspection_approval_role) for u in own]
    return out


def report_for(profile: Profile, unit_code: str | None) -> InspectionReport:
    """The report of ``unit_code`` (None or the head office's code: the head office's); a unit that
    does not report on its own is refused, naming those that do."""
    all_reports = reports(profile)
    found = of_unit(all_reports, unit_code, profile, lambda r: r.unit.code)
    if found is not None:
        return found
    own = "、".join(r.unit.code for r in all_reports[1:]) or "无"
    raise InspectionInputError(f"报送单位 {unit_code} 不单独报送自查报告，其情况在总部（{profile.head_office.code}）的报告中"
                               f"（单独报送的单位：{own}）")


def split_key(key: str) -> tuple[Quarter, str | None]:
    """``2025Q3-YX0101`` → (2025Q3, ``YX0101``); ``2025Q3`` → (2025Q3, None)."""
    label, unit = split_unit_key(key, LABEL_LENGTH)
    return Quarter.parse(label), unit


def user_units(users: Iterable[tuple[str, str | None]], queries: Mapping[tuple[str, str], int], default: str) -> dict[str, str]:
    """Each user's unit: the users file's ``unit`` where given; else the unit the user queried for
    most in the logs (history included; a tie: the first code in sort order); else ``default``
    (the head office: a user who never queried is administered centrally).

    ``users``: (user_id, unit or None); ``queries``: (user_id, unit) → number of queries."""
    counts: dict[str, Counter[str]] = {}
    for (user, queried_for), n in queries.items():
        counts.setdefault(user, Counter())[queried_for] += n
    out: dict[str, str] = {}
    for user, unit in users:
        if unit:
            out[user] = unit
        elif user in counts:
            top = max(counts[user].values())
            out[user] = min(u for u, n in counts[user].items() if n == top)
        else:
            out[user] = default
    return out
