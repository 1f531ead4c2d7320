"""Grading an incident: NFRA appendix for the grade, CQ-PLAN for what follows from it.

The rules are data (``rules/grading.yaml``), each criterion with its clause, because the NFRA
text is a draft: when the final text changes a threshold, the change is one reviewed line of
YAML, not code. This module only evaluates them.

How the grade is found (NFRA 附件 银行业保险业网络安全事件分级标准):

- every criterion the record's facts match is collected; the highest grade wins (附件 总述:
  同时满足多个级别 … 按更高级别确定);
- numeric ranges include their lower bound and exclude their upper one (附件 "（含）以上" /
  "以下"): one province down exactly 3 h is II, exactly 6 h is I, 0.5 h exactly is III;
- the outage criteria count only for an *important* system down *during business hours* (附件 各级
  第 2 项); any other outage is written into the reasons as not counted, so a reader sees it was
  considered;
- the compromise and defacement situations of 附件 各级第 3 项 are listed there as cases of
  their level; regflows grades them automatically, without asking for separate proof of the
  "特别严重/严重/较严重" impact the sentence goes on to describe. Waiting for that proof would
  delay the 1- and 2-hour reports it is meant to trigger; an over-graded incident can be
  re-graded with a reason, a late report cannot be undone;
- the qualitative criteria (3(3), 3(4), CQ-PLAN 第一篇四) have no threshold a program could test:
  people assess them and write ``assessed_grade`` with ``assessed_reason``. The assessment can
  raise the grade, never lower it below what the objective criteria give.

What follows from the grade (CQ-PLAN), each with its clause in the rules file: the grade's name,
the warning colour and who issues it (第三篇一、三), response level and who leads and implements it
(第四篇二; 第二篇), who is told at declaration (第四篇二; CUSTINFO 8.2), who may end the response
and with whose approval (第四篇三), who investigates afterwards (第五篇). Alerts, tasks and
documents read these from the :class:`Grading`; none keeps a per-grade table of its own.
``reasons`` are Chinese, each ending with its clause in 【】, because they are shown to the duty
officer and copied into the regulator's report.
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from notices.masking import mask_pii
from regflows.incident.record import Grade, IncidentRecord
from regflows.kit.rulefiles import load_yaml_model
from regflows.profile import RoleKind

__all__ = [
    "GRADES",
    "Grading",
    "GradingRules",
    "Investigation",
    "WarningRelease",
    "Regrade",
    "ResponseEnding",
    "grade",
    "grading_rules",
    "higher",
    "load_grading_rules",
    "regrade",
]

RULES_FILE = Path(__file__).parent / "rules" / "grading.yaml"
#: Highest first (NFRA: I 特别重大 … IV 一般).
GRADES: tuple[str, ...] = ("I", "II", "III", "IV")
Warning = Literal["red", "orange", "yellow", "blue"]


def higher(a: str, b: str) -> str:
    """The higher of two grades (I is the highest)."""
    return a if GRADES.index(a) <= GRADES.index(b) else b


# --------------------------------------------------------------------------------------------
# The rules file
# --------------------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OutageRange(_Strict):
    provinces_min: int = Field(ge=1)
    provinces_max: int | None = None  # exclusive
    hours_min: float = Field(ge=0)
    hours_max: float | None = None  # exclusive

    def matches(self, provinces: int, hours: float) -> bool:
        return (
            provinces >= self.provinces_min
            and (self.provinces_max is None or provinces < self.provinces_max)
            and hours >= self.hours_min
            and (self.hours_max is None or hours < self.hours_max)
        )


class When(_Strict):
    data_incident: str | None = None
    compromise: str | None = None
    defacement: str | None = None
    outage: OutageRange | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> "When":
        set_ = [k for k in ("data_incident", "compromise", "defacement", "outage") if getattr(self, k) is not None]
        if len(set_) != 1:
            raise ValueError(f"when 须且只能写一个事实，实为 {set_ or '无'}")
        return self


class Criterion(_Strict):
    id: str
    grade: Grade
    when: When
    clause: str = Field(min_length=3)
    reason: str = Field(min_length=3)


class ResponseEnding(_Strict):
    """Who ends the response, in which order (CQ-PLAN 第四篇三).

    ``by`` decides (level I: proposes, ``by_act``) together with every role of ``together_with``
    (level IV: the development centre and the professional service provider); then
    ``approved_by`` approves or consents (``approved_act``). :attr:`steps` is that order: each
    party decides through its own member's signed link (regflows/incident/closing.py).
    """

    by: RoleKind = Field(title="决定（或提议）结束的部门")
    by_act: str = Field(default="决定结束", min_length=2, title="该部门的决定")
    approved_by: RoleKind | None = Field(default=None, title="批准或同意结束的部门")
    approved_act: str = Field(default="同意结束", min_length=2, title="批准或同意")
    together_with: list[RoleKind] = Field(default_factory=list, title="会同决定的部门")
    text: str = Field(title="结束规则")
    clause: str = Field(title="依据")

    @field_validator("together_with", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        """A grading stored before issue 12 names one role (or null) here."""
        if value is None:
            return []
        return [value] if isinstance(value, str) else value

    @property
    def steps(self) -> tuple[tuple[tuple[str, ...], str], ...]:
        """The decisions in order: (roles deciding jointly, what they do)."""
        first = ((self.by, *self.together_with), self.by_act)
        return (first, ((self.approved_by,), self.approved_act)) if self.approved_by else (first,)

    @property
    def approvals_required(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r for roles, _ in self.steps for r in roles))


class Investigation(_Strict):
    """Who investigates the incident after the response and reports on it (CQ-PLAN 第五篇)."""

    by: RoleKind = Field(title="组织调查的部门")
    text: str = Field(min_length=3, title="调查组织")  # printed in the investigation report
    clause: str = Field(min_length=3, title="依据")


class WarningRelease(_Strict):
    """Who releases the warning (CQ-PLAN 第三篇五 预警解除): ``by`` decides; ``consent`` agrees first (yellow)."""

    by: RoleKind = Field(title="决定解除预警的部门")
    consent: RoleKind | None = Field(default=None, title="同意解除的部门")
    text: str = Field(min_length=3, title="解除规则")
    clause: str = Field(min_length=3, title="依据")


class WithoutPlan(_Strict):
    """Who is alerted when the profile does not enable CQ-PLAN (its levels and roles do not apply)."""

    alert_roles: list[RoleKind] = Field(min_length=1)
    alert_clause: str = Field(min_length=3)


class Level(_Strict):
    """What follows from one grade; every value read by alerts, tasks and documents from here."""

    name: str = Field(min_length=1)  # 特别重大 / 重大 / 较大 / 一般
    clause: str
    warning: Warning
    warning_zh: str = Field(pattern=r"^\S+色$")  # 红色 / 橙色 / 黄色 / 蓝色: printed as “橙色预警”
    warning_issuer: RoleKind
    warning_clause: str
    warning_cautions: str = Field(min_length=3)  # 警示事项 (CQ-PLAN 第三篇三)
    warning_measures: str = Field(min_length=3)  # 应采取的措施 (CQ-PLAN 第三篇三、四)
    warning_measures_clause: str = Field(min_length=3)
    warning_release: WarningRelease
    response_level: Grade
    lead: RoleKind
    implementer: RoleKind
    response_clause: str
    alert_roles: list[RoleKind] = Field(min_length=1)
    alert_clause: str = Field(min_length=3)
    ending: ResponseEnding
    investigation: Investigation

    @model_validator(mode="after")
    def _alerted_include_the_actors(self) -> "Level":
        """Those who act at declaration (lead, implementer, warning issuer) must be told of it."""
        missing = [r for r in dict.fromkeys((self.lead, self.implementer, self.warning_issuer)) if r not in self.alert_roles]
        if missing:
            raise ValueError(f"alert_roles 须包含牵头、组织实施和发布预警的部门，缺少：{', '.join(missing)}")
        if len(set(self.alert_roles)) != len(self.alert_roles):
            raise ValueError(f"alert_roles 有重复：{', '.join(self.alert_roles)}")
        return self


class GradingRules(_Strict):
    version: str = Field(min_length=1)
    effective_from: dt.date
    source: str
    interpretations: list[str]
    criteria: list[Criterion] = Field(min_length=1)
    without_plan: WithoutPlan
    levels: dict[Grade, Level]

    @field_validator("levels")
    @classmethod
    def _all_levels(cls, value: dict[str, Level]) -> dict[str, Level]:
        missing = [g for g in GRADES if g not in value]
        if missing:
            raise ValueError(f"缺少级别：{', '.join(missing)}")
        return value

    @model_validator(mode="after")
    def _unique_ids(self) -> "GradingRules":
        ids = [c.id for c in self.criteria]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"条款编号重复：{', '.join(dupes)}")
        return self


def load_grading_rules(path: Path = RULES_FILE) -> GradingRules:
    """The rules of a grading file; a mistake is a :class:`~regflows.kit.errors.RuleFileError`
    (a ValueError) naming the file, line and field."""
    return load_yaml_model(path, GradingRules, what="定级规则")


@functools.cache
def grading_rules() -> GradingRules:
    """The shipped rules, loaded once per process."""
    return load_grading_rules()


# --------------------------------------------------------------------------------------------
# The result
# --------------------------------------------------------------------------------------------


class Regrade(_Strict):
    """One re-grade, kept in the grading's history (the store and the ledger record it too)."""

    from_grade: Grade = Field(title="原级别")
    to_grade: Grade = Field(title="新级别")
    reason: str = Field(min_length=1, title="理由")
    at: dt.datetime = Field(title="时间")
    by: str | None = Field(default=None, title="决定人")


class Grading(_Strict):
    """The grade and what follows from it (NFRA 附件; CQ-PLAN 第三篇、第四篇)."""

    grade: Grade = Field(title="事件级别")
    grade_name: str = Field(title="级别名称")  # 特别重大 / 重大 / 较大 / 一般
    warning: Warning = Field(title="预警颜色")
    warning_zh: str = Field(title="预警颜色（中文）")  # 红色 / 橙色 / 黄色 / 蓝色
    warning_issuer: RoleKind = Field(title="发布预警的部门")
    response_level: Grade = Field(title="应急响应级别")
    lead: RoleKind = Field(title="响应牵头")
    implementer: RoleKind = Field(title="组织实施")
    alert_roles: list[RoleKind] = Field(title="宣布时通知的部门")
    ending: ResponseEnding = Field(title="响应结束")
    investigation: Investigation = Field(title="调查评估")
    reasons: list[str] = Field(title="定级理由")
    criteria: list[str] = Field(title="命中的分级条款")
    computed_grade: Grade = Field(title="按客观条款确定的级别")
    assessed_grade: Grade | None = Field(default=None, title="综合研判级别")
    rules_version: str = Field(title="规则版本")
    history: list[Regrade] = Field(default_factory=list, title="重新定级记录")

    @model_validator(mode="before")
    @classmethod
    def _complete_stored(cls, data: Any) -> Any:
        """A grading stored before the alert roles and the investigation were rules (issue 11) lacks
        them: they follow from its grade, by the shipped rules of its version."""
        if isinstance(data, dict) and "grade" in data and not {"alert_roles", "investigation"} <= data.keys():
            rules = grading_rules()
            if data.get("rules_version") == rules.version and data["grade"] in rules.levels:
                level = rules.levels[data["grade"]]
                data = {"alert_roles": level.alert_roles, "investigation": level.investigation, **data}
        return data

    def summary(self) -> dict[str, object]:
        """The CLI contract of ``regflows incident grade``."""
        return {"grade": self.grade, "warning": self.warning, "response_level": self.response_level, "reasons": self.reasons}


def _fmt(x: float) -> str:
    return f"{x:g}"


def _matches(c: Criterion, record: IncidentRecord, outage_counts: bool) -> bool:
    w = c.when
    if w.data_incident is not None:
        return record.data_incident == w.data_incident
    if w.compromise is not None:
        return record.compromise == w.compromise
    if w.defacement is not None:
        return record.defacement == w.defacement
    assert w.outage is not None
    return outage_counts and record.outage is not None and w.outage.matches(record.outage.provinces, record.outage.hours)


def grade(record: IncidentRecord, rules: GradingRules | None = None) -> Grading:
    """Grade a record by the rules (default: the shipped ``rules/grading.yaml``)."""
    rules = rules or grading_rules()
    notes: list[str] = []  # facts considered and why they did not count
    outage = record.outage
    outage_counts = outage is not None and record.important_system and outage.business_hours
    if outage is not None and not record.important_system:
        notes.append("服务中断不计入分级：受影响的系统不是重要信息系统，停机条款只适用于重要信息系统【NFRA 附件 各级第 2 项】")
    elif outage is not None and not outage.business_hours:
        notes.append("服务中断不计入分级：中断不在业务服务时段，停机条款只计业务服务时段内的中断【NFRA 附件 各级第 2 项】")

    matched = [c for c in rules.criteria if _matches(c, record, outage_counts)]
    matched.sort(key=lambda c: GRADES.index(c.grade))  # highest first, stable within a grade
    computed = matched[0].grade if matched else "IV"
    reasons: list[str] = []
    for c in matched:
        text = c.reason
        if c.when.outage is not None and outage is not None:
            text = text.format(provinces=outage.provinces, hours=_fmt(outage.hours))
        reasons.append(f"{c.grade} 级（{rules.levels[c.grade].name}）：{text}【{c.clause}】")
    if outage_counts and outage is not None and not any(c.when.outage for c in matched):
        notes.append(
            f"重要信息系统在业务服务时段中断 {_fmt(outage.hours)} 小时、{outage.provinces} 个省，未达到停机条款的下限"
            f"（须半小时及以上）【NFRA 附件（三）2、（二）2】"
        )
    if not matched:
        reasons.append("未满足三级及以上的任何客观条款，为一般网络安全事件【NFRA 附件（四）】")
    reasons.extend(notes)

    final = computed
    if record.assessed_grade is not None:
        a, why = record.assessed_grade, record.assessed_reason or ""
        if GRADES.index(a) < GRADES.index(computed):
            final = a
            reasons.insert(0, f"{a} 级（{rules.levels[a].name}）：综合研判，理由：{why}【NFRA 附件 各级第 3 项 定性条款】")
        elif a == computed:
            reasons.append(f"综合研判为 {a} 级，与客观条款一致（理由：{why}）【NFRA 附件 总述】")
        else:
            reasons.append(
                f"综合研判为 {a} 级，低于按客观条款确定的 {computed} 级，不予调低：研判只能调高级别"
                f"（理由：{why}）【NFRA 附件 总述：同时满足多个级别时按更高级别确定】"
            )

    level = rules.levels[final]  # type: ignore[index]
    return Grading(
        grade=final,  # type: ignore[arg-type]
        grade_name=level.name,
        warning=level.warning,
        warning_zh=level.warning_zh,
        warning_issuer=level.warning_issuer,
        response_level=level.response_level,
        lead=level.lead,
        implementer=level.implementer,
        alert_roles=level.alert_roles,
        ending=level.ending,
        investigation=level.investigation,
        reasons=reasons,
        criteria=[c.id for c in matched],
        computed_grade=computed,  # type: ignore[arg-type]
        assessed_grade=record.assessed_grade,
        rules_version=rules.version,
    )


def regrade(
    record: IncidentRecord,
    previous: Grading,
    *,
    reason: str,
    at: dt.datetime,
    by: str | None = None,
    rules: GradingRules | None = None,
) -> Grading:
    """Grade a revised record again, recording the change and its reason in the history.

    The clock keeps counting from discovery (:mod:`regflows.incident.clock` takes the anchors
    from the record, never from the re-grade), so an obligation a higher grade adds may be
    overdue the moment it appears: that is the regulation, and the caller raises it at once.
    A re-grade may lower the grade when the *facts* were wrong (the outage was shorter); the
    reason is mandatory either way, because a lowered grade removes reports to a regulator.
    """
    reason = mask_pii(reason.strip())
    if not reason:
        raise ValueError("重新定级必须写明理由")
    if at.tzinfo is None or at.tzinfo.utcoffset(at) is None:
        raise ValueError(f"重新定级时间 {at.isoformat()} 没有时区偏移")
    new = grade(record, rules)
    entry = Regrade(from_grade=previous.grade, to_grade=new.grade, reason=reason, at=at, by=by)
    note = f"重新定级：{previous.grade} 级 → {new.grade} 级，理由：{reason}（{at.isoformat()}{'，' + by if by else ''}）"
    return new.model_copy(update={"history": [*previous.history, entry], "reasons": [*new.reasons, note]})
