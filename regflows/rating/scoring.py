"""The scoring engine (issue 16, item 4): every item's points with each deduction's rule and
evidence, the parts, the total, the grade, and the conditions of 第十五条 and 第十六条 applied.

Pure: the model, the evidence and the settings in, a :class:`RatingResult` out; no store, no
clock. Arithmetic in :class:`decimal.Decimal` only (ten deductions of 0.1 from 1 leave exactly 0;
a binary float leaves 1.4e-16 and a grade could turn on it).

How an item is scored: it starts at its full marks (:meth:`Item.full_marks`, the reading of
16/17/18 chosen by ``rating_contradictions``); its rules are applied in the table's order, each
taking at most what is left (扣完为止: an item never goes below 0), so the deductions listed add
up exactly to what the item lost. A 不得分 rule takes what is left; a band or choice with a score
takes what is above it. Every rule that fired is listed, even when nothing was left to take, so
that every event stays visible beside the points.

The total is the sum of the items, at most the model's total (100: 第六条; 指标 18 计分标准3).
Grades on half-open bands from ``rating_grade_floors`` (第十四条). Any condition of 第十六条:
the score is 0 and the grade ``0`` (第十七条（五） treats it as a class of its own). Else one or
several conditions of 第十五条 lower the grade one step in all; D stays D.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from regflows.rating.evidence import Evidence, FactValue
from regflows.rating.model import BandRule, ChoiceRule, Fixed, Item, PerCount, RatingModel, Rule, Zero
from regflows.settings import FlooredGrade, RatingSettings

__all__ = ["GRADES", "Change", "Comparison", "Deduction", "ItemScore", "RatingResult", "compare", "downgrade", "grade_of", "num", "score",
           "score_item"]

GRADES: tuple[str, ...] = ("A", "B", "C", "D")
ZERO = Decimal(0)


@dataclass(frozen=True)
class Deduction:
    rule: str  # the row's citation, the 计分标准 number and its text
    points: Decimal  # what it took from the item (after 扣完为止 and caps)
    evidence: str  # the facts behind it, and their source


@dataclass(frozen=True)
class ItemScore:
    id: str
    title: str
    part: str
    points: Decimal
    max: Decimal  # full marks under the reading in force
    deductions: tuple[Deduction, ...]


@dataclass(frozen=True)
class RatingResult:
    year: int
    score: Decimal
    grade: str
    #: The sum of the items before the cap at the model's total (and before a zero condition).
    total: Decimal
    #: The grade the score earns before 第十五条's downgrade ("0" when zeroed).
    grade_before_downgrade: str
    parts: Mapping[str, Decimal]
    items: tuple[ItemScore, ...]
    downgraded_by: tuple[int, ...]
    zeroed_by: tuple[int, ...]
    unconfirmed: tuple[str, ...]
    #: Chinese lines a person must see beside the JSON: the cap, pending candidates, unconfirmed items.
    notes: tuple[str, ...] = ()
    #: The items with a band fact left null (未评估), each with those facts: listed, never full marks in silence.
    unevaluated: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        """The CLI contract of issue 16 (Decimals kept: the JSON writer prints their exact text)."""
        return {
            "year": self.year,
            "score": self.score,
            "grade": self.grade,
            "parts": dict(self.parts),
            "items": [
                {"id": i.id, "points": i.points, "max": i.max,
                 "deductions": [{"rule": d.rule, "points": d.points, "evidence": d.evidence} for d in i.deductions]}
                for i in self.items
            ],
            "downgraded_by": list(self.downgraded_by),
            "zeroed_by": list(self.zeroed_by),
            "unconfirmed": list(self.unconfirmed),
        }


def num(value: Decimal | int) -> str:
    """A number as people write it: 0.5, 2, 96.5 (no exponent, no trailing zeros)."""
    text = format(Decimal(value).normalize(), "f")
    return "0" if text in ("-0", "") else text


def _shown(value: FactValue) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Decimal):
        return num(value)
    return str(value)


def _fired(rule: Rule, facts: Mapping[str, FactValue], other: Mapping[str, FactValue], remaining: Decimal,
           settings: RatingSettings) -> tuple[Decimal, str] | None:
    """What the rule would take from ``remaining`` and why, or None when it does not apply."""
    value = (other if isinstance(rule, Zero) and rule.item else facts).get(rule.fact)
    if isinstance(rule, PerCount):
        if not isinstance(value, int) or isinstance(value, bool) or value == 0:
            return None
        nominal = rule.each * value
        why = f"{value} {rule.unit} × {num(rule.each)} 分 = {num(nominal)} 分"
        if rule.cap is not None and nominal > rule.cap:
            nominal = rule.cap
            why += f"，本条最多扣 {num(rule.cap)} 分"
        return nominal, why
    if isinstance(rule, Fixed):
        return (rule.deduct, f"扣 {num(rule.deduct)} 分") if value is True else None
    if isinstance(rule, Zero):
        hit = value == rule.equals if rule.equals is not None else (
            isinstance(value, int) and rule.above is not None and value > rule.above)
        return (remaining, "不得分") if hit else None
    if isinstance(rule, BandRule):
        if not isinstance(value, Decimal):
            return None
        for band in rule.bands:
            if value in band.interval:
                if band.deduct is not None:
                    return band.deduct, f"落在区间 {band.interval.text()}：扣 {num(band.deduct)} 分"
                cap = band.score if band.score is not None else Decimal(getattr(settings, str(band.score_setting)))
                setting = f"（设置 {band.score_setting}）" if band.score_setting else ""
                return max(ZERO, remaining - cap), f"落在区间 {band.interval.text()}：本项最多得 {num(cap)} 分{setting}"
        return None
    if isinstance(rule, ChoiceRule):
        if not isinstance(value, str):
            return None
        cap = rule.scores[value]
        if cap >= remaining:
            return None
        return remaining - cap, f"本项最多得 {num(cap)} 分"
    raise AssertionError(f"unknown rule kind {rule!r}")


def score_item(item: Item, evidence: Evidence, model: RatingModel, settings: RatingSettings) -> ItemScore:
    """One item's points, each deduction with its rule and the evidence behind it."""
    full = item.full_marks(settings.rating_contradictions)
    facts = evidence.facts(item)
    remaining = full
    deductions: list[Deduction] = []
    for rule in item.rules:
        other_item = model.item(rule.item) if isinstance(rule, Zero) and rule.item else None
        other = evidence.facts(other_item) if other_item else {}
        fired = _fired(rule, facts, other, remaining, settings)
        if fired is None:
            continue
        nominal, why = fired
        taken = min(nominal, remaining)
        remaining -= taken
        owner = other_item or item
        value = (other if other_item else facts).get(rule.fact)
        evidence_text = f"{owner.id} {rule.fact} = {_shown(value)}（{owner.facts[rule.fact].meaning}）：{why}"
        if taken < nominal:
            evidence_text += f"；扣完为止，实扣 {num(taken)} 分"
        provenance = evidence.provenance.get(owner.id)
        if provenance is not None:
            evidence_text += f"；来源：{provenance.source}"
        deductions.append(Deduction(f"{item.clause} 计分标准{rule.step}：{rule.text}", taken, evidence_text))
    return ItemScore(item.id, item.title, model.part_of(item).id, remaining, full, tuple(deductions))


def grade_of(points: Decimal, floors: Mapping[FlooredGrade, Decimal]) -> str:
    """第十四条 on half-open bands: the first grade whose floor the score reaches (89.5 is B by default)."""
    floored: tuple[FlooredGrade, ...] = ("A", "B", "C")
    for grade in floored:
        if points >= floors[grade]:
            return grade
    return "D"


def downgrade(grade: str) -> str:
    """第十五条: one step down, however many conditions; D stays D."""
    return GRADES[min(GRADES.index(grade) + 1, len(GRADES) - 1)]


def score(model: RatingModel, evidence: Evidence, settings: RatingSettings) -> RatingResult:
    items = tuple(score_item(item, evidence, model, settings) for item in model.items)
    parts = {part.id: sum((i.points for i in items if i.part == part.id), ZERO) for part in model.parts}
    total = sum(parts.values(), ZERO)
    notes: list[str] = []
    points = min(total, model.total)
    if total > model.total:
        notes.append(f"各项合计 {num(total)} 分，超过满分的部分不计，按 {num(model.total)} 分计（PBOC-102 附件3 第六条；指标 18 计分标准3）")
    if evidence.zero_conditions:
        points = ZERO
        grade_before = grade = "0"
        notes.append("存在第十六条情形（" + "、".join(f"（{n}）" for n in evidence.zero_conditions)
                     + "），考核计分直接定为 0 分（PBOC-102 附件3 第十六条）")
    else:
        grade_before = grade_of(points, settings.rating_grade_floors)
        grade = downgrade(grade_before) if evidence.downgrade_conditions else grade_before
        if evidence.downgrade_conditions:
            notes.append(f"存在第十五条情形（{'、'.join(f'（{n}）' for n in evidence.downgrade_conditions)}），"
                         f"等级由 {grade_before} 级下调一级为 {grade} 级（PBOC-102 附件3 第十五条）")
    for candidate in evidence.downgrade_candidates:
        notes.append(f"待确认的第十五条（{candidate.condition}）情形，未计入：{candidate.what}"
                     + (f"（来源：{candidate.source}）" if candidate.source else ""))
    unevaluated = evidence.unevaluated(model)
    if unevaluated:
        listed = "、".join(f"{i}（{'、'.join(facts)}）" for i, facts in unevaluated.items())
        notes.append(f"{len(unevaluated)} 个指标未评估（事实为 null，未按其计分，得分不代表满分）：{listed}；全部评估前不能签发")
    unconfirmed = tuple(evidence.unconfirmed(model))
    if unconfirmed:
        notes.append(f"{len(unconfirmed)} 个指标的事实尚未确认（provenance 的 confirmed_by、confirmed_at），全部确认前不能签发")
    return RatingResult(evidence.year, points, grade, total, grade_before, parts, items, evidence.downgrade_conditions,
                        evidence.zero_conditions, unconfirmed, tuple(notes), unevaluated)


@dataclass(frozen=True)
class Change:
    """One score that moved between two years: an item (``8.1``) or a part (``第3部分``)."""

    id: str
    previous: Decimal
    current: Decimal

    @property
    def delta(self) -> Decimal:
        return self.current - self.previous


@dataclass(frozen=True)
class Comparison:
    """This year's result beside last year's (issue 16, item 4): what moved, and by how much."""

    year: int
    previous_year: int
    score: Change
    grade: str
    previous_grade: str
    parts: tuple[Change, ...]
    #: The items whose points changed, in the table's order (an unchanged item is not listed).
    items: tuple[Change, ...]


def compare(current: RatingResult, previous: RatingResult) -> Comparison:
    """Last year's result against this year's, both scored with the same model.

    Why only the points and not the deductions: a rule's wording may be corrected between years,
    while the points are what the regulator compares; each year's deductions stay in its own result.
    """
    if previous.year >= current.year:
        raise ValueError(f"比较的上一年度（{previous.year}）应早于本年度（{current.year}）")
    before = {i.id: i.points for i in previous.items}
    if set(before) != {i.id for i in current.items}:
        raise ValueError("两个年度的指标不一致（考核评级指标及标准的版本不同），不能逐项比较")
    parts = tuple(Change(p, previous.parts[p], current.parts[p]) for p in current.parts)
    items = tuple(Change(i.id, before[i.id], i.points) for i in current.items if before[i.id] != i.points)
    return Comparison(current.year, previous.year, Change("score", previous.score, current.score), current.grade,
                      previous.grade, parts, items)
