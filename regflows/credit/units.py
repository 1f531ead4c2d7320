"""Who files which attachment-2 table, by when, signed by whom (PBOC-102 三（二）, 附件1, 附件3 第二十一条).

Which units report on their own is the kit's (regflows/kit/units.py), shared with the
quarterly self-inspection report, which follows the same route (三（三））.

三（二）: 「全国性接入机构的总行应于每月初10日内将上月情况报送人民银行征信管理局；地方性接入机构和
全国性接入机构的分支机构应于每月初6日内将上月情况报所在地人民银行分支机构」. Whether an
institution is national is 附件1's list of 21 (附件3 第二十一条: every other access institution
is local); the profile's ``institution.credit_access`` decides and ``regflows doctor`` warns when
it disagrees with the list (:func:`access_warnings`).

A reporting unit reports on its own (its own table, obligation, reminders and sign-off) when
``reports_to_local_branch`` says so; unset, a national institution's branches do (三（二）) and a
local institution's do not (its head office's table covers them; 第二十一条 lets a PBoC branch
take a local institution's out-of-province branches under its own supervision, hence the
setting). The head office's table covers every other unit, and any institution code of the log
that the profile does not know (named as such in the table).

The key of a table in the store: the month (``2025-10``) for the head office's, as before units
existed, so months recorded then keep their records; ``2025-10-YX0101`` for a unit's own (a notice's subject allows no other separator than ``.-_:``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from regflows.credit.models import DUE_DAY, CreditInputError, Period
from regflows.kit.rulefiles import load_yaml_model
from regflows.kit.units import head_office_covers, of_unit, own_units, split_unit_key, unit_key
from regflows.profile import Profile, ReportingUnit

NATIONAL_LIST = Path(__file__).resolve().parent / "data" / "national_access_institutions.yaml"
#: 三（二）: national head offices by the 10th; local institutions and branches by the 6th.
HEAD_OFFICE_DUE_DAY = DUE_DAY
BRANCH_DUE_DAY = 6
LABEL_LENGTH = len("YYYY-MM")


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(min_length=2)
    aliases: list[str] = Field(default_factory=list)


class NationalList(BaseModel):
    """附件1 as data: the 21 national access institutions."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    clause: str
    institutions: list[_Entry] = Field(min_length=1)

    def match(self, institution_name: str) -> str | None:
        """The 附件1 name the institution's name contains (longest first), or None: local."""
        names = sorted(((n, e.name) for e in self.institutions for n in (e.name, *e.aliases)), key=lambda p: -len(p[0]))
        return next((listed for n, listed in names if n in institution_name), None)


def national_list(path: Path = NATIONAL_LIST) -> NationalList:
    return load_yaml_model(path, NationalList, what="全国性接入机构名单")


def access_warnings(profile: Profile, listed: NationalList | None = None) -> list[str]:
    """Where ``credit_access`` disagrees with 附件1 (the profile decides; a person should look)."""
    names = listed or national_list()
    access = profile.institution.credit_access
    match = names.match(profile.institution.name)
    if access == "national_head_office" and match is None:
        return [f"机构配置 institution.credit_access 为 national_head_office（全国性接入机构总行，每月 10 日前报送），"
                f"但「{profile.institution.name}」不在全国性接入机构名单（PBOC-102 附件1，21 家）中：按附件3 第二十一条"
                "应为地方性接入机构（local，每月 6 日前报所在地人民银行分支机构）"]
    if access == "local" and match is not None:
        return [f"「{profile.institution.name}」在全国性接入机构名单（PBOC-102 附件1：{match}）中，"
                "但机构配置 institution.credit_access 为 local：总行应为 national_head_office，分支机构为 national_branch"]
    return []


@dataclass(frozen=True)
class ReportingTable:
    """One attachment-2 table a month owes: who files it, which units' rows it holds, by which day."""

    unit: ReportingUnit
    covers: tuple[str, ...]
    due_day: int
    head_office: bool
    preparer: str | None
    review_role: str
    signoff_role: str
    filer_name: str  # 填表单位

    def key(self, period: Period) -> str:
        return unit_key(period.label, None if self.head_office else self.unit.code)

    def file_stem(self, period: Period) -> str:
        return f"credit-stats-{period.label}-{self.unit.code}"


def tables(profile: Profile) -> list[ReportingTable]:
    """The head office's table first, then each unit that reports on its own, in profile order."""
    access = profile.institution.credit_access
    if access not in HEAD_OFFICE_DUE_DAY:
        raise CreditInputError(f"机构配置 credit_access={access}：不是征信接入机构，无需报送统计表")
    s = profile.settings
    own = own_units(profile)
    head = profile.head_office
    out = [ReportingTable(head, head_office_covers(profile),
                          HEAD_OFFICE_DUE_DAY[access], True, s.credit_preparer, s.credit_review_role,
                          s.credit_signoff_role, profile.institution.name)]
    for u in own:
        out.append(ReportingTable(u, (u.code,), BRANCH_DUE_DAY, False, u.credit_preparer or s.credit_preparer,
                                  u.credit_review_role or s.credit_review_role,
                                  u.credit_signoff_role or s.credit_signoff_role, u.name))
    return out


def table_for(profile: Profile, unit_code: str | None) -> ReportingTable:
    """The table filed by ``unit_code`` (None: the head office's); a unit without its own table is refused."""
    all_tables = tables(profile)
    found = of_unit(all_tables, unit_code, profile, lambda t: t.unit.code)
    if found is not None:
        return found
    known = "、".join(t.unit.code for t in all_tables)
    raise CreditInputError(f"报送单位 {unit_code} 不单独报送统计表（单独报送的单位：{known}）")


def table_of_key(profile: Profile, key: str) -> ReportingTable:
    return table_for(profile, split_key(key)[1])


def covering(profile: Profile, unit_code: str) -> ReportingTable:
    """The table whose rows hold ``unit_code`` (an unknown code: the head office's)."""
    all_tables = tables(profile)
    return next((t for t in all_tables if unit_code in t.covers and not t.head_office), all_tables[0])


def split_key(key: str) -> tuple[str, str | None]:
    """``2025-10-YX0101`` → (``2025-10``, ``YX0101``); ``2025-10`` → (``2025-10``, None). The month
    is always seven characters, so a unit code with hyphens splits the same."""
    return split_unit_key(key, LABEL_LENGTH)


def period_of(key: str) -> Period:
    return Period.parse(split_key(key)[0])
