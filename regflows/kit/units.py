"""Which reporting units report on their own, and to whom (PBOC-102 三（二）; 附件3 第二十一条).

三（二）: 「全国性接入机构的总行应于每月初10日内将上月情况报送人民银行征信管理局；地方性接入机构和
全国性接入机构的分支机构应于每月初6日内将上月情况报所在地人民银行分支机构」. The same route serves
every report that follows the event reports' route: the monthly statistics (regflows/credit) and
the quarterly self-inspection report (三（三）: 「报告流程参照征信信息安全事件的报告要求」,
regflows/inspection). So the split of the units is here, once:

- a unit other than the head office reports on its own when its ``reports_to_local_branch`` says
  so; unset, a national institution's branches do (三（二）) and a local institution's do not
  (第二十一条 lets a PBoC branch take a local institution's out-of-province branches, hence the
  setting);
- the head office's report covers every other unit (and any code the profile does not know).

A report's key in the store: the period's label for the head office's (as before units existed),
``<label>-<unit code>`` for a unit's own (a notice's subject allows no other separator than
``.-_:``); the label has a fixed length per procedure (``2025-10``, ``2025Q3``), so a unit code
with hyphens splits the same.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from regflows.profile import Profile, ReportingUnit

__all__ = ["SEPARATOR", "addressee", "head_office_covers", "of_unit", "own_units", "reports_on_its_own", "split_unit_key", "unit_key"]

T = TypeVar("T")

SEPARATOR = "-"
#: 三（二）: where a national access institution's head office reports.
PBOC_CREDIT_BUREAU = "中国人民银行征信管理局"


def reports_on_its_own(profile: Profile, unit: ReportingUnit) -> bool:
    """A unit other than the head office with its own report (三（二）; 第二十一条; the unit's setting)."""
    if unit.code == profile.head_office.code:
        return False
    if unit.reports_to_local_branch is not None:
        return unit.reports_to_local_branch
    return profile.institution.credit_access == "national_head_office"


def own_units(profile: Profile) -> list[ReportingUnit]:
    """The units that report on their own, in profile order."""
    return [u for u in profile.reporting_units if reports_on_its_own(profile, u)]


def head_office_covers(profile: Profile) -> tuple[str, ...]:
    """The codes of the units the head office's report covers: every unit not reporting on its own."""
    own = {u.code for u in own_units(profile)}
    return tuple(u.code for u in profile.reporting_units if u.code not in own)


def addressee(profile: Profile, unit: ReportingUnit | None = None) -> str:
    """Whom the report goes to (三（二））: a national head office to 人民银行征信管理局; a local
    institution's head office and a unit reporting on its own to the PBoC branch where it is."""
    chosen = unit or profile.head_office
    if chosen.code == profile.head_office.code and profile.institution.credit_access == "national_head_office":
        return PBOC_CREDIT_BUREAU
    return f"所在地人民银行分支机构（{chosen.region}）"


def unit_key(label: str, unit_code: str | None) -> str:
    """``2025Q3`` (the head office's, ``unit_code`` None) or ``2025Q3-YX0101``."""
    return label if unit_code is None else f"{label}{SEPARATOR}{unit_code}"


def split_unit_key(key: str, label_length: int) -> tuple[str, str | None]:
    """``2025-10-YX0101`` → (``2025-10``, ``YX0101``); ``2025-10`` → (``2025-10``, None)."""
    label, unit = key[:label_length], key[label_length + len(SEPARATOR):]
    return label, unit or None


def of_unit(reports: Sequence[T], unit_code: str | None, profile: Profile, code: Callable[[T], str]) -> T | None:
    """The report of ``unit_code`` among ``reports`` (the head office's first, then the units'):
    None or the head office's code gives the head office's; a unit without its own report gives
    None (the caller refuses it in its own words)."""
    if unit_code is None or unit_code == profile.head_office.code:
        return reports[0]
    return next((r for r in reports[1:] if code(r) == unit_code), None)
