"""The yearly evidence file (issue 16, item 3): each item's facts, where they came from, and the
conditions of 第十五条 and 第十六条 a person confirmed.

Why a YAML file a person edits, not only the store: most facts of the table (a policy missing, a
meeting not held, praise received) exist nowhere in regflows; the institution's staff state them,
and a person confirms every item (第十二条: the institution answers for the truth of its
self-assessment and evidence). Facts regflows already holds are gathered into the template by
code that passes them to :func:`template` as :class:`Gathered` (the seam; the gathering is
:mod:`regflows.rating.gather`).

The file::

    year: 2026
    items:                      # every one of the 48 item ids, quoted; {} = no deduction event found
      "8.1": {unauthorized_queries: 2, major_impact: false}
    provenance:                 # item id → where its facts came from, who confirmed them when
      "8.1": {source: 日核查记录, confirmed_by: zhao.lei, confirmed_at: 2027-01-12}
    downgrade_conditions: [3]   # 第十五条's item numbers a person confirmed (one step in all)
    zero_conditions: []         # 第十六条's item numbers (the score is 0)
    downgrade_candidates:       # possible 第十五条 conditions found by regflows, never applied
      - {condition: 3, what: 2026年3月统计表迟报, source: credit-stats}

Every problem is one Chinese line naming the item and the line (a missing item, an unknown fact,
a value of the wrong type, an unquoted id), all of them at once.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from calendars.zone import SHANGHAI
from regflows.kit.errors import RuleFileError
from regflows.kit.rulefiles import Document, parse_yaml, read_text
from regflows.rating.model import Fact, Item, RatingModel

__all__ = [
    "DOWNGRADE_CONDITIONS", "WHAT", "ZERO_CONDITIONS", "Candidate", "Evidence", "FactValue", "Gathered", "Provenance",
    "parse_evidence", "read_evidence", "template",
]

FactValue = int | bool | str | Decimal | None
#: A path (messages say 文件 …) or a label, as the kit's readers take it.
Source = str | os.PathLike[str]
WHAT = "考核评级自评证据"
#: 第十五条's eight conditions (one step down) and 第十六条's four (score 0), as the template lists them.
DOWNGRADE_CONDITIONS: dict[int, str] = {
    1: "因征信违规案件导致多起投诉、诉讼，或者引发社会群体性事件，造成重大负面影响",
    2: "在新闻媒体、网络引发持续性重大负面舆情，造成恶劣社会影响",
    3: "瞒报、迟报、漏报重大风险事件或者违规事件，造成严重后果",
    4: "自评时存在重大隐瞒情形，报送存在虚假记载、误导性陈述或者重大遗漏的文件、资料，情节严重",
    5: "发生3起以上同一类型较为严重的违规事件",
    6: "存在重大风险隐患，经3次以上监管督促仍未积极整改",
    7: "拒绝、阻碍人民银行及其分支机构检查、调查及其他征信管理工作",
    8: "人民银行及其分支机构确定的其他情形",
}
ZERO_CONDITIONS: dict[int, str] = {
    1: "发生涉及征信信息犯罪的案件，相关机构或者人员被依法追究刑事责任",
    2: "发生征信信息泄露、买卖征信信息等事件，相关人员被依法采取刑事强制措施",
    3: "发生征信信息泄露、非法查询等违规案件，被予以多次行政处罚（全国性接入机构5次以上、地方性3次以上）且未有效整改、合规状况持续恶化、存在重大风险隐患",
    4: "未经批准擅自开展征信机构业务",
}
_TOP = ("year", "items", "provenance", "downgrade_conditions", "zero_conditions", "downgrade_candidates")
_REQUIRED = ("year", "items", "downgrade_conditions", "zero_conditions")
#: The first year the 2018 model can rate (银发〔2018〕102号 took effect in 2018).
FIRST_YEAR = 2018
_NUMERALS = "一二三四五六七八九"


@dataclass(frozen=True)
class Provenance:
    """Where an item's facts came from; confirmed when both who and when are written."""

    source: str
    confirmed_by: str | None = None
    confirmed_at: dt.date | None = None

    @property
    def confirmed(self) -> bool:
        return bool(self.confirmed_by) and self.confirmed_at is not None


@dataclass(frozen=True)
class Candidate:
    """A possible condition of 第十五条 found in regflows' records: for a person to confirm, never applied."""

    condition: int
    what: str
    source: str | None = None


@dataclass(frozen=True)
class Evidence:
    """A validated evidence file; ``items`` holds the facts as written (defaults are the model's)."""

    year: int
    items: Mapping[str, Mapping[str, FactValue]]
    provenance: Mapping[str, Provenance] = field(default_factory=dict)
    downgrade_conditions: tuple[int, ...] = ()
    zero_conditions: tuple[int, ...] = ()
    downgrade_candidates: tuple[Candidate, ...] = ()
    source: str = ""

    def facts(self, item: Item) -> dict[str, FactValue]:
        """Every fact of ``item``: as written, else the model's default (no deduction)."""
        given = self.items.get(item.id, {})
        return {name: given.get(name, fact.default_value) for name, fact in item.facts.items()}

    def unconfirmed(self, model: RatingModel) -> list[str]:
        """The items nobody has confirmed yet, in the table's order (the sign-off waits for them)."""
        return [i.id for i in model.items if not (i.id in self.provenance and self.provenance[i.id].confirmed)]

    def unevaluated(self, model: RatingModel) -> dict[str, tuple[str, ...]]:
        """The items with a band fact written ``null`` (未评估), each with those facts, in the table's order.

        Such an item takes no deduction (there is no value to read a band from), so it would show
        full marks; it is listed instead, and the sign-off waits for it as for an unconfirmed item
        (第十二条: the institution answers for the truth of its self-assessment)."""
        out: dict[str, tuple[str, ...]] = {}
        for item in model.items:
            given = self.items.get(item.id, {})  # written null; a fact left out ({}) means no deduction event found
            missing = tuple(name for name, fact in item.facts.items() if fact.type == "decimal" and name in given and given[name] is None)
            if missing:
                out[item.id] = missing
        return out


@dataclass(frozen=True)
class Gathered:
    """Facts regflows gathered for one item, with their source: the seam for auto-filling."""

    facts: Mapping[str, FactValue]
    source: str


# -- reading --------------------------------------------------------------------------------------

def read_evidence(path: Source, model: RatingModel, people: Collection[str] | None = None, *, today: dt.date | None = None) -> Evidence:
    return parse_evidence(read_text(path, WHAT), path, model, people, today=today)


def parse_evidence(text: str, source: Source, model: RatingModel, people: Collection[str] | None = None, *,
                   today: dt.date | None = None) -> Evidence:
    """The evidence file's text as :class:`Evidence`; every problem at once as a :class:`RuleFileError`.

    ``people``: the profile's person ids; a confirmation by anyone else is refused (a confirmation
    is a regulated act: 第十二条, the institution answers for its self-assessment). ``today``
    (default: Beijing's today): a confirmation dated later, or before the rated year began, is refused."""
    document = parse_yaml(text, source, WHAT, decimals=True)  # rates and scores exact: 96.99999999999999999 < 97
    problems: list[str] = []
    data = document.data
    if not isinstance(data, dict):
        raise RuleFileError([document.problem((), "应为映射（year、items 等键）")], source, WHAT)
    for key in data:
        if key not in _TOP:
            problems.append(document.problem((str(key),), f"未知的键 {key}（可用：{'、'.join(_TOP)}）"))
    for key in _REQUIRED:
        if key not in data:
            problems.append(document.problem((), f"缺少 {key}"))
    year = data.get("year")
    if "year" in data and (not isinstance(year, int) or isinstance(year, bool) or year < FIRST_YEAR):
        problems.append(document.problem(("year",), f"年度应为 {FIRST_YEAR} 年及以后的四位整数，实为 {_written(year)}"))
    items = _items(document, data.get("items"), model, problems) if "items" in data else {}
    rated = year if isinstance(year, int) and not isinstance(year, bool) and year >= FIRST_YEAR else None
    provenance = _provenance(document, data.get("provenance"), model, problems, people,
                             (dt.date(rated, 1, 1) if rated else None, today or dt.datetime.now(SHANGHAI).date()))
    downgrade = _conditions(document, data, "downgrade_conditions", DOWNGRADE_CONDITIONS, "第十五条", problems)
    zero = _conditions(document, data, "zero_conditions", ZERO_CONDITIONS, "第十六条", problems)
    candidates = _candidates(document, data.get("downgrade_candidates"), problems)
    if problems:
        raise RuleFileError(problems, source, WHAT)
    assert isinstance(year, int)
    return Evidence(year, items, provenance, downgrade, zero, candidates, str(source))


def _items(document: Document, raw: Any, model: RatingModel, problems: list[str]) -> dict[str, dict[str, FactValue]]:
    if not isinstance(raw, dict):
        problems.append(document.problem(("items",), "应为映射：每个指标编号（加引号，如 \"8.1\"）对应其事实"))
        return {}
    known = {i.id: i for i in model.items}
    items: dict[str, dict[str, FactValue]] = {}
    for key, facts in raw.items():
        loc: tuple[str | int, ...] = ("items", _key_text(key))  # an unquoted 8.1 is a number: found at its own line by its text
        if not isinstance(key, str):
            problems.append(document.problem(loc, f"指标编号 {loc[-1]} 须加引号，写作 \"{loc[-1]}\"（不加引号会被读作数字）"))
            continue
        item = known.get(key)
        if item is None:
            problems.append(document.problem(loc, f"没有指标 {key}（指标编号见 regflows rating template）"))
            continue
        if not isinstance(facts, dict):
            problems.append(document.problem(loc, f"指标 {key} 的事实应为映射；无扣分事项请写 {{}}，实为 {facts!r}"))
            continue
        items[key] = {}
        for name, value in facts.items():
            fact = item.facts.get(str(name))
            if fact is None:
                problems.append(document.problem((*loc, name), f"指标 {key} 没有事实 {name}（可用：{'、'.join(item.facts)}）"))
                continue
            checked, problem = _fact_value(fact, value)
            if problem:
                problems.append(document.problem((*loc, name), f"指标 {key} 的 {name} {problem}"))
            else:
                items[key][str(name)] = checked
    written = {_key_text(key) for key in raw}  # an unquoted id is reported above, not again as missing
    for item_id in known:
        if item_id not in written:
            problems.append(document.problem(("items",), f"缺少指标 {item_id}（每个指标都须写出；无扣分事项写 \"{item_id}\": {{}}）"))
    return items


def _key_text(key: Any) -> str:
    """A mapping key as the file wrote it, the way the document's lines are keyed (``8.1``, ``14``, ``true``)."""
    if isinstance(key, bool):
        return "true" if key else "false"
    return format(key, "f") if isinstance(key, Decimal) else str(key)


def _number(value: Any) -> Decimal | None:
    """A YAML number as an exact decimal: a float through its shortest text (0.1 is one tenth)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    try:
        if isinstance(value, Decimal):
            number = value
        elif isinstance(value, float):
            number = Decimal(repr(value))
        elif isinstance(value, str):
            number = Decimal(value.strip())
        else:
            return None
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _written(value: Any) -> str:
    """A value as the file wrote it, for a message (a decimal as its text, not ``Decimal('2.5')``)."""
    return format(value, "f") if isinstance(value, Decimal) else repr(value)


def _fact_value(fact: Fact, value: Any) -> tuple[FactValue, str | None]:
    """The value checked against its fact's type, or the problem in Chinese (values as written)."""
    if fact.type == "count":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            return None, f"应为非负整数（次数、笔数、处数），实为 {_written(value)}"
        if fact.max is not None and value > fact.max:
            return None, f"最多为 {fact.max}，实为 {value}"
        return value, None
    if fact.type == "flag":
        if not isinstance(value, bool):
            return None, f"应为 true 或 false，实为 {_written(value)}"
        return value, None
    if fact.type == "choice":
        if value not in fact.values:
            return None, f"应为 {'、'.join(fact.values)} 之一，实为 {_written(value)}"
        return value, None
    if value is None:
        return None, None  # not assessed
    number = _number(value)
    if number is None:
        return None, f"应为数（小数写作 0.85），实为 {_written(value)}"
    if (fact.min is not None and number < fact.min) or (fact.max is not None and number > fact.max):
        if fact.max is None:
            return None, f"应不小于 {fact.min}，实为 {_written(number)}"
        if fact.min is None:
            return None, f"应不大于 {fact.max}，实为 {_written(number)}"
        return None, f"应在 {fact.min} 至 {fact.max} 之间，实为 {_written(number)}"
    return number, None


def _provenance(document: Document, raw: Any, model: RatingModel, problems: list[str],
                people: Collection[str] | None, window: tuple[dt.date | None, dt.date]) -> dict[str, Provenance]:
    """``window``: the first day of the rated year (None when the year is itself bad) and today; a
    confirmation outside it is refused (one in the future is not a confirmation; one before the year
    began cannot speak to the year's facts: 第九条, 第十二条)."""
    earliest, today = window
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        problems.append(document.problem(("provenance",), "应为映射：指标编号 → {source, confirmed_by, confirmed_at}"))
        return {}
    known = {i.id for i in model.items}
    out: dict[str, Provenance] = {}
    for key, entry in raw.items():
        loc: tuple[str | int, ...] = ("provenance", _key_text(key))
        if not isinstance(key, str) or key not in known:
            problems.append(document.problem(loc, f"没有指标 {_key_text(key)}（指标编号须加引号，如 \"8.1\"）"))
            continue
        if not isinstance(entry, dict):
            problems.append(document.problem(loc, f"指标 {key} 的来源应为映射 {{source, confirmed_by, confirmed_at}}"))
            continue
        unknown = [str(k) for k in entry if k not in ("source", "confirmed_by", "confirmed_at")]
        if unknown:
            problems.append(document.problem((*loc, unknown[0]), f"指标 {key} 的来源有未知的键 {'、'.join(unknown)}"))
        source = entry.get("source")
        if not isinstance(source, str) or not source.strip():
            problems.append(document.problem((*loc, "source"), f"指标 {key} 须写明事实来源 source"))
            continue
        by = entry.get("confirmed_by")
        if by is not None and (not isinstance(by, str) or not by.strip()):
            problems.append(document.problem((*loc, "confirmed_by"), f"指标 {key} 的确认人应为人员编号，实为 {by!r}"))
            continue
        if by is not None and people is not None and by.strip() not in people:
            problems.append(document.problem((*loc, "confirmed_by"), f"指标 {key} 的确认人 {by} 不是机构配置中的人员"))
            continue
        at = entry.get("confirmed_at")
        if isinstance(at, str):
            try:
                at = dt.date.fromisoformat(at.strip())
            except ValueError:
                problems.append(document.problem((*loc, "confirmed_at"), f"指标 {key} 的确认日期应写作 YYYY-MM-DD，实为 {at!r}"))
                continue
        if at is not None and (isinstance(at, dt.datetime) or not isinstance(at, dt.date)):
            problems.append(document.problem((*loc, "confirmed_at"), f"指标 {key} 的确认日期应写作 YYYY-MM-DD，实为 {at!r}"))
            continue
        if isinstance(at, dt.date) and at > today:
            problems.append(document.problem((*loc, "confirmed_at"), f"指标 {key} 的确认日期 {at.isoformat()} 晚于今天（{today.isoformat()}），不能预先确认"))
            continue
        if isinstance(at, dt.date) and earliest is not None and at < earliest:
            problems.append(document.problem((*loc, "confirmed_at"), f"指标 {key} 的确认日期 {at.isoformat()} 早于评级年度开始（{earliest.isoformat()}），"
                                             "不能确认该年度的事实（PBOC-102 附件3 第九条）"))
            continue
        if (by is None) != (at is None):
            problems.append(document.problem(loc, f"指标 {key} 的确认须同时写明确认人 confirmed_by 与确认日期 confirmed_at"))
            continue
        out[key] = Provenance(source.strip(), by.strip() if by else None, at)
    return out


def _conditions(document: Document, data: dict[str, Any], key: str, allowed: Mapping[int, str], article: str,
                problems: list[str]) -> tuple[int, ...]:
    raw = data.get(key)
    if raw is None:
        return ()
    if not isinstance(raw, list):
        problems.append(document.problem((key,), f"应为{article}的项号列表，如 [3]；没有写 []"))
        return ()
    out: list[int] = []
    for i, number in enumerate(raw):
        if isinstance(number, bool) or not isinstance(number, int) or number not in allowed:
            problems.append(document.problem((key, i), f"{article}没有第 {number!r} 项（可用：{'、'.join(map(str, allowed))}）"))
        elif number in out:
            problems.append(document.problem((key, i), f"{article}第 {number} 项重复"))
        else:
            out.append(number)
    return tuple(sorted(out))


def _candidates(document: Document, raw: Any, problems: list[str]) -> tuple[Candidate, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        problems.append(document.problem(("downgrade_candidates",), "应为列表：每项 {condition, what, source}"))
        return ()
    out: list[Candidate] = []
    for i, entry in enumerate(raw):
        loc: tuple[str | int, ...] = ("downgrade_candidates", i)
        if not isinstance(entry, dict):
            problems.append(document.problem(loc, "应为 {condition, what, source}"))
            continue
        condition, what, source = entry.get("condition"), entry.get("what"), entry.get("source")
        if isinstance(condition, bool) or condition not in DOWNGRADE_CONDITIONS:
            problems.append(document.problem((*loc, "condition"), f"第十五条没有第 {condition!r} 项"))
        elif not isinstance(what, str) or not what.strip():
            problems.append(document.problem((*loc, "what"), "须写明情形 what"))
        elif source is not None and not isinstance(source, str):
            problems.append(document.problem((*loc, "source"), "来源 source 应为文字"))
        else:
            out.append(Candidate(condition, what.strip(), source))
    return tuple(out)


# -- the template ---------------------------------------------------------------------------------

def _scalar(value: FactValue) -> str:
    """A fact value as YAML text (JSON's forms are valid YAML)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, int):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def _quoted(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


_STEP_MARK = re.compile(r"（计分标准(\d)）")


def _criteria(item: Item) -> list[tuple[int, str]]:
    """The item's 计分标准 as the table numbers them, one a line, each once: a rule whose text runs
    the next criterion on (``…得1分。（计分标准3）…不得分``) is split at the mark, and two rules
    citing the same criterion (6.3: not trained, perfunctory) print it once."""
    out: list[tuple[int, str]] = []
    for rule in item.rules:
        pieces = _STEP_MARK.split(rule.text)
        pairs = [(rule.step, pieces[0])] + [(int(pieces[i]), pieces[i + 1]) for i in range(1, len(pieces) - 1, 2)]
        out += [(step, text.strip()) for step, text in pairs if text.strip() and (step, text.strip()) not in out]
    return sorted(out, key=lambda pair: pair[0])


def template(year: int, model: RatingModel, gathered: Mapping[str, Gathered] | None = None,
             candidates: Sequence[Candidate] = (), due: str | None = None) -> str:
    """The evidence file for ``year`` with every item, each fact with its meaning (comments).

    ``gathered``: facts regflows already holds, by item id (the auto-fill seam); they are written
    as values with their source in ``provenance``, unconfirmed. ``candidates``: possible
    conditions of 第十五条 found in the records (late or missed reports: (三)), listed under
    ``downgrade_candidates`` for a person to confirm, never applied. Without them every fact has its
    default (no deduction) and every item waits for a person to state and confirm its facts.
    ``due``: the header's sentence on when the self-assessment is due (the profile's, for a local
    institution: 第十一条); by default the national institution's 31 January (第十条).
    """
    gathered = dict(gathered or {})
    for item_id, found in gathered.items():  # a programming error, not a person's: fail loudly
        item = model.item(item_id)
        for name, value in found.facts.items():
            if name not in item.facts or _fact_value(item.facts[name], value)[1]:
                raise ValueError(f"gathered fact {item_id}.{name}={value!r} does not fit the model")
    lines = [
        f"# 金融信用信息基础数据库接入机构征信合规与信息安全年度考核评级：自评证据（{year} 年度）",
        f"# 依据：PBOC-102 附件3《考核评级管理办法》及《考核评级指标及标准》（模型 {model.model} 版）；",
        f"# 评级期间 {year}-01-01 至 {year}-12-31（第九条）。"
        + (due or f"全国性接入机构的自评结果及证明材料于 {year + 1} 年 1 月 31 日前报送人民银行（第十条）。"),
        "#",
        "# 填写说明：",
        "# - items：48 个指标每个都须写出（编号加引号）；{} 或默认值表示未发现扣分事项。",
        "#   计数类填次数/笔数/处数（整数），是否类填 true/false，比例填小数（0.85 即 85%），未评估填 null。",
        "# - provenance：每个指标的事实来源（source）及确认人（confirmed_by，人员编号）、确认日期（confirmed_at）；",
        "#   未确认的指标在计分结果中列为 unconfirmed，全部确认前不能签发。",
        "# - downgrade_conditions：经确认的第十五条情形（项号），任一项或多项均下调一级；",
        "#   zero_conditions：经确认的第十六条情形（项号），考核计分直接定为 0 分。",
        "# - downgrade_candidates：系统发现的可能的第十五条情形，仅供确认，不计入；确认后请把项号写入 downgrade_conditions。",
        "",
        f"year: {year}",
        "items:",
    ]
    part = None
    for item in model.items:
        item_part = model.part_of(item)
        if item_part is not part:
            part = item_part
            lines += ["", f"  # ==== {_NUMERALS[int(part.id) - 1]}、{part.title}（{part.max} 分） ===="]
        full = f"分值 {item.points}" + (f"，加分项：加 {item.bonus} 分" if item.bonus is not None else "")
        lines += ["", f"  # {item.id} {item.title}（{full}）{item.clause}", f"  #   评价内容：{item.content}"]
        lines += [f"  #   计分标准{step}：{text}" for step, text in _criteria(item)]
        filled = gathered.get(item.id)
        lines.append(f"  {_quoted(item.id)}:" + ("" if item.facts else " {}"))
        for name, fact in item.facts.items():
            value = filled.facts.get(name, fact.default_value) if filled else fact.default_value
            lines.append(f"    # {fact.meaning}")
            lines.append(f"    {name}: {_scalar(value)}")
    lines += ["", "provenance:"]
    if gathered:
        for item in model.items:
            if item.id in gathered:
                lines.append(f"  {_quoted(item.id)}: {{source: {_quoted(gathered[item.id].source)}, confirmed_by: null, confirmed_at: null}}")
    else:
        lines[-1] += " {}"
        lines.append('  # 例："8.1": {source: "日核查记录及授权档案抽查", confirmed_by: zhao.lei, confirmed_at: ' f"{year + 1}-01-15}}")
    lines += ["", "# 第十五条（下调一级）的情形："]
    lines += [f"#   ({n}) {text}" for n, text in DOWNGRADE_CONDITIONS.items()]
    lines += ["downgrade_conditions: []", "", "# 第十六条（直接定为 0 分）的情形："]
    lines += [f"#   ({n}) {text}" for n, text in ZERO_CONDITIONS.items()]
    lines += ["zero_conditions: []", "", "# 系统发现、待人工确认的第十五条情形（不计入，确认后写入 downgrade_conditions）："]
    if candidates:
        lines.append("downgrade_candidates:")
        for c in candidates:
            source = f", source: {_quoted(c.source)}" if c.source else ""
            lines.append(f"  - {{condition: {c.condition}, what: {_quoted(c.what)}{source}}}")
    else:
        lines.append("downgrade_candidates: []")
    lines.append("")
    return "\n".join(lines)
