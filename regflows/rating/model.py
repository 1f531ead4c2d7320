"""The rating model (PBOC-102 附件3, 考核评级指标及标准) as validated data.

Why data and not code: the PBoC adjusts the indicators (第七条: 适时调整), and each row's
deduction rules are what a compliance officer checks against the table; a rule file
(``rules/model-<version>.yaml``) that cites every row can be read beside the table and versioned
with its source. The file's header explains each rule kind; this module checks what a typo could
break: exactly the 48 item ids, the sums per indicator, per part and in all (100), every item's
row citation, every fact a rule names declared with the type the rule needs, every setting a
band names defined in :class:`regflows.settings.RatingSettings`.

Amounts are :class:`decimal.Decimal` (pydantic reads a YAML float through its text, so ``0.1`` is
exactly one tenth): ten deductions of 0.1 from 1 leave exactly 0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from regflows.kit.rulefiles import load_yaml_model
from regflows.settings import RatingSettings

__all__ = [
    "ITEM_IDS", "MODEL_VERSIONS", "Band", "Fact", "Indicator", "Interval", "Item", "Part", "RatingModel", "Rule",
    "load_model", "model_file",
]

#: The 48 scored items of the 2018 table (issue 16, item 1), in the table's order.
ITEM_IDS: tuple[str, ...] = (
    "1.1", "1.2", "2.1", "2.2", "2.3", "3.1", "3.2", "4.1", "4.2", "4.3",
    "5.1", "5.2", "5.3", "5.4", "5.5", "5.6", "5.7", "6.1", "6.2", "6.3",
    "7.1", "7.2", "7.3", "8.1", "8.2", "8.3", "9.1", "9.2", "9.3",
    "10.1", "10.2", "10.3", "10.4", "10.5", "11.1", "11.2", "12.1", "12.2",
    "13.1", "13.2", "13.3", "13.4", "14", "15.1", "15.2", "16", "17", "18",
)
RULES = Path(__file__).resolve().parent / "rules"
#: Model versions shipped, by the year of the document that set them.
MODEL_VERSIONS: tuple[str, ...] = ("2018",)

Amount = Annotated[Decimal, Field(ge=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# -- facts --------------------------------------------------------------------------------------

class Fact(_Strict):
    """One fact an item's evidence gives; ``meaning`` is what the template says about it."""

    type: Literal["count", "flag", "decimal", "choice"]
    meaning: str = Field(min_length=4, title="含义")
    default: bool | str | None = Field(default=None, title="默认值")
    min: Decimal | None = None
    max: Decimal | None = None
    values: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Fact:
        if self.type == "flag" and not isinstance(self.default, bool):
            raise ValueError("flag 类事实须写明 default: true 或 false")
        if self.type == "choice" and (not self.values or self.default not in self.values):
            raise ValueError("choice 类事实须列出 values，default 须为其中之一")
        if self.type in ("count", "decimal") and self.default is not None:
            raise ValueError("count 的默认值为 0、decimal 的默认值为未评估，不写 default")
        return self

    @property
    def default_value(self) -> int | bool | str | None:
        if self.type == "count":
            return 0
        return self.default


# -- rules --------------------------------------------------------------------------------------

class _Rule(_Strict):
    step: int = Field(ge=1, le=4, title="计分标准序号")
    text: str = Field(min_length=4, title="计分标准原文")
    fact: str = Field(title="事实")


class PerCount(_Rule):
    """``each`` per 笔/次/处/项 of the fact; ``cap``: at most this from this rule (扣分最高不超过)."""

    kind: Literal["per_count"]
    each: Amount
    unit: str = Field(min_length=1)
    cap: Amount | None = None


class Fixed(_Rule):
    kind: Literal["fixed"]
    deduct: Amount


class Zero(_Rule):
    """不得分 when the fact equals ``equals`` (a flag) or exceeds ``above`` (a count)."""

    kind: Literal["zero"]
    item: str | None = Field(default=None, title="事实所属指标（默认本指标）")
    equals: bool | None = None
    above: Decimal | None = None

    @model_validator(mode="after")
    def _one_condition(self) -> Zero:
        if (self.equals is None) == (self.above is None):
            raise ValueError("不得分条件须写 equals（标志）或 above（数量）之一")
        return self


_INTERVAL = re.compile(r"^\s*([\[(])\s*([^,\s]*)\s*,\s*([^,\s\])]*)\s*([\])])\s*$")


@dataclass(frozen=True)
class Interval:
    """A range of a band, e.g. ``(0.15, 0.30]``; None is unbounded."""

    low: Decimal | None
    low_closed: bool
    high: Decimal | None
    high_closed: bool

    @classmethod
    def parse(cls, text: str) -> Interval:
        match = _INTERVAL.match(text)
        if not match:
            raise ValueError(f"区间应写作 \"[96, 97)\"、\"(0.30, )\" 的形式，实为 {text!r}")
        try:
            low = Decimal(match.group(2)) if match.group(2) else None
            high = Decimal(match.group(3)) if match.group(3) else None
        except ArithmeticError:
            raise ValueError(f"区间端点不是数：{text!r}") from None
        if low is not None and high is not None and low >= high:
            raise ValueError(f"区间下限须小于上限：{text!r}")
        return cls(low, match.group(1) == "[", high, match.group(4) == "]")

    def __contains__(self, value: Decimal) -> bool:
        if self.low is not None and (value < self.low or (value == self.low and not self.low_closed)):
            return False
        return not (self.high is not None and (value > self.high or (value == self.high and not self.high_closed)))

    def text(self) -> str:
        low = "" if self.low is None else str(self.low)
        high = "" if self.high is None else str(self.high)
        return f"{'[' if self.low_closed else '('}{low}, {high}{']' if self.high_closed else ')'}"


class Band(_Strict):
    """A range of the fact: the item scores at most ``score`` (or the setting ``score_setting``), or loses ``deduct``."""

    range: str
    score: Amount | None = None
    deduct: Amount | None = None
    score_setting: str | None = None

    @field_validator("range")
    @classmethod
    def _interval(cls, value: str) -> str:
        Interval.parse(value)
        return value

    @model_validator(mode="after")
    def _one_effect(self) -> Band:
        if sum(x is not None for x in (self.score, self.deduct, self.score_setting)) != 1:
            raise ValueError("每个区间写 score、deduct、score_setting 之一")
        if self.score_setting is not None and self.score_setting not in RatingSettings.model_fields:
            raise ValueError(f"设置项不存在：{self.score_setting}（见 regflows/settings.py RatingSettings）")
        return self

    @property
    def interval(self) -> Interval:
        return Interval.parse(self.range)


def _overlap(a: Interval, b: Interval) -> bool:
    """Whether two intervals share a value (a value in two bands would be scored twice)."""
    for low, low_closed, high, high_closed in ((a.low, a.low_closed, b.high, b.high_closed),
                                                (b.low, b.low_closed, a.high, a.high_closed)):
        if low is not None and high is not None and (low > high or (low == high and not (low_closed and high_closed))):
            return False
    return True


class BandRule(_Rule):
    kind: Literal["band"]
    bands: tuple[Band, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _disjoint(self) -> BandRule:
        for i, a in enumerate(self.bands):
            for b in self.bands[i + 1:]:
                if _overlap(a.interval, b.interval):
                    raise ValueError(f"区间 {a.range} 与 {b.range} 重叠：一个值只能落在一个区间")
        return self


class ChoiceRule(_Rule):
    kind: Literal["choice"]
    scores: dict[str, Amount]


Rule = Annotated[PerCount | Fixed | Zero | BandRule | ChoiceRule, Field(discriminator="kind")]
#: The fact type each rule kind reads.
_FACT_TYPES: dict[str, tuple[str, ...]] = {
    "per_count": ("count",), "fixed": ("flag",), "band": ("decimal",), "choice": ("choice",), "zero": ("flag", "count"),
}


# -- items, indicators, parts ---------------------------------------------------------------------

class Item(_Strict):
    id: str
    indicator: str
    title: str = Field(min_length=2)
    points: Amount = Field(title="分值")
    clause: str
    content: str = Field(min_length=4, title="评价内容")
    facts: dict[str, Fact]
    rules: tuple[Rule, ...] = Field(min_length=1)
    #: What 计分标准1 says the item scores when it contradicts 分值 (16, 17: 得5分).
    rule_text_full: Amount | None = None
    #: A bonus item's award (18: 加2分): its full marks.
    bonus: Amount | None = None

    @model_validator(mode="after")
    def _rules_read_declared_facts(self) -> Item:
        if self.clause != f"PBOC-102 附件3 指标 {self.id}":
            raise ValueError(f"指标 {self.id} 的依据应写作“PBOC-102 附件3 指标 {self.id}”，实为 {self.clause!r}")
        for rule in self.rules:
            if isinstance(rule, Zero) and rule.item not in (None, self.id):
                continue  # another item's fact: checked by the model, which knows every item
            fact = self.facts.get(rule.fact)
            if fact is None:
                raise ValueError(f"指标 {self.id} 计分标准{rule.step} 引用的事实 {rule.fact} 未在 facts 中声明")
            if fact.type not in _FACT_TYPES[rule.kind]:
                raise ValueError(f"指标 {self.id} 计分标准{rule.step}（{rule.kind}）不能读取 {fact.type} 类事实 {rule.fact}")
            if isinstance(rule, Zero) and (rule.equals is None) != (fact.type == "count"):
                raise ValueError(f"指标 {self.id} 计分标准{rule.step}：标志用 equals，数量用 above")
            if isinstance(rule, ChoiceRule) and set(rule.scores) != set(fact.values):
                raise ValueError(f"指标 {self.id} 计分标准{rule.step}：scores 须逐一对应事实 {rule.fact} 的 values")
        return self

    def full_marks(self, contradictions: str) -> Decimal:
        """Full marks under the reading of the contradictions (README, Interpretations)."""
        if self.bonus is not None:
            return self.bonus
        if self.rule_text_full is not None:
            return self.rule_text_full if contradictions == "rule_text" else min(self.points, self.rule_text_full)
        return self.points


class Indicator(_Strict):
    id: str
    part: str
    title: str
    max: Amount


class Part(_Strict):
    id: str
    title: str
    max: Amount
    clause: str


class RatingModel(_Strict):
    """``rules/model-<version>.yaml``: the whole table, checked for the sums the table states."""

    model: str
    source: str = Field(min_length=10)
    total: Amount
    parts: tuple[Part, ...]
    indicators: tuple[Indicator, ...]
    items: tuple[Item, ...]

    @model_validator(mode="after")
    def _the_table_adds_up(self) -> RatingModel:
        ids = [i.id for i in self.items]
        if tuple(ids) != ITEM_IDS:
            missing = [i for i in ITEM_IDS if i not in ids]
            unknown = [i for i in ids if i not in ITEM_IDS]
            repeated = sorted({i for i in ids if ids.count(i) > 1})
            raise ValueError(f"指标编号应为表中 48 项且按表中顺序：缺少 {missing or '无'}，多出 {unknown or '无'}，重复 {repeated or '无'}")
        parts = {p.id: p for p in self.parts}
        indicators = {i.id: i for i in self.indicators}
        for indicator in self.indicators:
            if indicator.part not in parts:
                raise ValueError(f"一级指标 {indicator.id} 所属评价项目 {indicator.part} 不存在")
        for item in self.items:
            if item.indicator not in indicators:
                raise ValueError(f"指标 {item.id} 所属一级指标 {item.indicator} 不存在")
            for rule in item.rules:
                if isinstance(rule, Zero) and rule.item not in (None, item.id):
                    other = next((o for o in self.items if o.id == rule.item), None)
                    if other is None or rule.fact not in other.facts:
                        raise ValueError(f"指标 {item.id} 计分标准{rule.step} 引用的指标 {rule.item} 事实 {rule.fact} 不存在")
        for indicator in self.indicators:
            got = sum((i.points for i in self.items if i.indicator == indicator.id), Decimal(0))
            if got != indicator.max:
                raise ValueError(f"一级指标 {indicator.id} {indicator.title}：二级指标分值合计 {got}，应为 {indicator.max}")
        for part in self.parts:
            got = sum((i.max for i in self.indicators if i.part == part.id), Decimal(0))
            if got != part.max:
                raise ValueError(f"评价项目 {part.id} {part.title}：一级指标分值合计 {got}，应为 {part.max}")
        whole = sum((p.max for p in self.parts), Decimal(0))
        if whole != self.total:
            raise ValueError(f"五个评价项目合计 {whole}，应为满分 {self.total}（第六条）")
        return self

    def item(self, item_id: str) -> Item:
        return next(i for i in self.items if i.id == item_id)

    def part_of(self, item: Item) -> Part:
        indicator = next(i for i in self.indicators if i.id == item.indicator)
        return next(p for p in self.parts if p.id == indicator.part)


def model_file(version: str = "2018") -> Path:
    return RULES / f"model-{version}.yaml"


@cache
def load_model(version: str = "2018") -> RatingModel:
    """The model of ``version`` (:data:`MODEL_VERSIONS`), validated; errors in Chinese with file and line."""
    return load_yaml_model(model_file(version), RatingModel, what="考核评级指标及标准")
