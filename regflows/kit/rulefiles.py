"""Rule files (YAML) and records (JSON), read with the line of every value and validated in Chinese.

Compliance staff edit the rule files (grading, obligations, holiday arrangements, the profile)
by hand; a typo must come back as ``文件 grading.yaml 第 12 行 criteria[3].grade：…``, not as a
bare PyYAML error or a pydantic traceback. Neither PyYAML's ``safe_load`` nor the ``json``
module keeps positions, so a document is parsed here together with a map from every key and
list item to its line, and :func:`regflows.kit.errors.describe` uses that map.

YAML specifics, because a silent surprise in a rule file is a wrong deadline:

- a syntax error names the line (and where the broken construct began), in Chinese;
- a key written twice in one mapping is an error (``safe_load`` silently keeps the last one);
- anchors (``&name``) and aliases (``*name``, ``<<: *name``) are refused, naming the line: an
  alias makes one edit change several rules unseen, and nested aliases (an "alias bomb") grow a
  few lines into gigabytes once validated. They are refused while the file is composed, before
  anything is expanded. The one exception is ``prefect.yaml`` (``aliases=True``), Prefect's own
  format, where anchors are its documented way to share a definition; it is code, reviewed with
  the code, not data an institution edits.
"""

from __future__ import annotations

import bisect
import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from regflows.kit.errors import Loc, MessageHook, RuleFileError, describe, field_path, line_for, place

__all__ = [
    "Document",
    "load_json_model",
    "load_yaml_model",
    "parse_json",
    "parse_yaml",
    "read_json",
    "read_text",
    "read_yaml",
]

M = TypeVar("M", bound=BaseModel)
Source = str | os.PathLike[str]


@dataclass(frozen=True)
class Document:
    """Parsed data with the line of every path. ``source`` is a path (messages say ``文件 …``)
    or a label such as ``POST /incidents``."""

    source: Source
    data: Any
    lines: Mapping[Loc, int]

    def line_of(self, loc: Sequence[str | int]) -> int | None:
        return line_for(self.lines, tuple(loc))

    def where(self, loc: Sequence[str | int]) -> str:
        """``文件 a.yaml 第 3 行 people[2].id``; the whole document when loc is empty."""
        path = field_path(tuple(loc))
        head = place(self.source, self.line_of(loc) if loc else None)
        return f"{head} {path}" if path else head

    def problem(self, loc: Sequence[str | int], message: str) -> str:
        """One problem line for a check pydantic does not make (cross-references)."""
        return f"{self.where(loc)}：{message}"

    def validate(
        self,
        model: type[M],
        *,
        what: str = "文件",
        titles: Mapping[str, str] | None = None,
        messages: MessageHook | None = None,
    ) -> M:
        """The data as ``model``; every problem named by file, line and field."""
        if self.data is None:
            raise RuleFileError([f"{place(self.source)}：内容为空"], self.source, what)
        try:
            return model.model_validate(self.data)
        except ValidationError as exc:
            problems = describe(exc, self.source, self.lines, model=model, titles=titles, messages=messages)
            raise RuleFileError(problems, self.source, what) from exc


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


def read_text(path: Source, what: str = "文件") -> str:
    """A UTF-8 file's text; a missing or unreadable file is a :class:`RuleFileError`."""
    where = place(path)
    try:
        return Path(path).read_text(encoding="utf-8-sig")  # a BOM (Windows Notepad) is read, as in the CSVs
    except FileNotFoundError as exc:
        raise RuleFileError([f"{where}：文件不存在"], path, what) from exc
    except UnicodeDecodeError as exc:
        raise RuleFileError([f"{where}：不是 UTF-8 文本（{exc}）"], path, what) from exc
    except OSError as exc:
        raise RuleFileError([f"{where}：无法读取（{exc}）"], path, what) from exc


def read_yaml(path: Source, what: str = "文件", *, aliases: bool = False) -> Document:
    return parse_yaml(read_text(path, what), path, what, aliases=aliases)


def read_json(path: Source, what: str = "文件") -> Document:
    return parse_json(read_text(path, what), path, what)


def load_yaml_model(
    path: Source,
    model: type[M],
    *,
    what: str = "文件",
    titles: Mapping[str, str] | None = None,
    messages: MessageHook | None = None,
) -> M:
    """Read, parse and validate a YAML rule file; any problem is a :class:`RuleFileError`."""
    return read_yaml(path, what).validate(model, what=what, titles=titles, messages=messages)


def load_json_model(
    text_or_path: str | bytes | Path,
    model: type[M],
    source: Source | None = None,
    *,
    what: str = "文件",
    titles: Mapping[str, str] | None = None,
    messages: MessageHook | None = None,
) -> M:
    """A model from a JSON file (a :class:`~pathlib.Path`) or JSON text named by ``source``."""
    if isinstance(text_or_path, Path):
        document = read_json(text_or_path, what)
    else:
        text = text_or_path.decode("utf-8") if isinstance(text_or_path, bytes) else text_or_path
        document = parse_json(text, source if source is not None else "JSON", what)
    return document.validate(model, what=what, titles=titles, messages=messages)


# --------------------------------------------------------------------------------------------
# YAML
# --------------------------------------------------------------------------------------------

#: PyYAML's most frequent complaints (regular expressions matched at the start), said the way a
#: person editing the file can act on them.
_YAML_PROBLEMS: tuple[tuple[str, str], ...] = (
    ("mapping values are not allowed here", "此处不能出现“键: 值”（上一行的引号未闭合、冒号后缺空格，或缩进不对？）"),
    ("could not find expected ':'", "缺少冒号“:”"),
    (r"found character '\\t' that cannot start any token", "含制表符（Tab），请改用空格缩进"),
    ("expected <block end>", "缩进不一致，或引号括起的值后还有内容"),
    ("did not find expected key", "缩进不一致，或列表项缺少“- ”"),
    ("did not find expected '-' indicator", "列表项缺少“- ”或缩进不一致"),
    ("expected ',' or ']'", "方括号 [ ] 未闭合，或列表项之间缺少逗号"),
    ("expected ',' or '}'", "花括号 { } 未闭合，或键值对之间缺少逗号"),
    ("found unexpected end of stream", "文件意外结束（引号或括号未闭合？）"),
    ("expected the node content", "缺少值（括号或引号未闭合？）"),
    ("expected a comment or a line break", "值后有多余内容（含冒号、# 或引号的值请整体加引号）"),
    (r"found character .* that cannot start any token", "值以 YAML 保留字符开头（如 @、`、%），请给该值加引号"),
    ("found undefined alias", "引用了未定义的锚点（*名称）"),
    ("found duplicate anchor", "锚点（&名称）重复"),
    ("found unknown escape character", "双引号内的转义字符无效（反斜杠 \\ 请写成 \\\\ 或改用单引号）"),
)


def _yaml_problem(problem: str) -> str:
    for english, chinese in _YAML_PROBLEMS:
        if re.match(english, problem):
            return f"{chinese}（{problem}）"
    return problem


class _AliasFound(Exception):
    """An anchor or alias met while composing; carries where, for the message."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class _NoAliasLoader(yaml.SafeLoader):  # type: ignore[misc]  # PyYAML ships no type hints
    """PyYAML's safe loader that stops at the first anchor or alias, before resolving it."""

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise _AliasFound(event.start_mark.line + 1, f"不允许使用 YAML 别名（*{event.anchor}）：请把内容直接写出")
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            raise _AliasFound(event.start_mark.line + 1, f"不允许使用 YAML 锚点（&{anchor}）：请把内容直接写出，不要用锚点与别名")
        return super().compose_node(parent, index)


def _decimal_float(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Decimal | float:
    """A YAML float as the exact decimal its text writes (``96.99999999999999999`` stays below 97;
    a binary float would round it to 97.0); ``.inf`` and ``.nan`` stay floats (no decimal text)."""
    try:
        return Decimal(str(node.value).replace("_", ""))
    except InvalidOperation:
        return float(loader.construct_yaml_float(node))


class _DecimalLoader(yaml.SafeLoader):  # type: ignore[misc]
    pass


class _NoAliasDecimalLoader(_NoAliasLoader):
    pass


for _cls in (_DecimalLoader, _NoAliasDecimalLoader):
    _cls.add_constructor("tag:yaml.org,2002:float", _decimal_float)


def parse_yaml(text: str, source: Source, what: str = "文件", *, aliases: bool = False, decimals: bool = False) -> Document:
    """YAML text with the line of every key and list item. Parsed once: the node tree gives the
    lines, the same loader constructs the data from it. Anchors and aliases are refused unless
    ``aliases`` (the module docstring says why and where). ``decimals``: every YAML float is read as
    the exact :class:`~decimal.Decimal` of its text, never through a binary float (scores, rates)."""
    try:  # the reader checks every character as it is made: a NUL byte raises here, before parsing
        if decimals:
            loader = _DecimalLoader(text) if aliases else _NoAliasDecimalLoader(text)
        else:
            loader = yaml.SafeLoader(text) if aliases else _NoAliasLoader(text)
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1 if isinstance(exc.position, int) else None
        code = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "\0")
        raise RuleFileError([f"{place(source, line)}：含不能出现在 YAML 文件中的控制字符 U+{code:04X}（如 NUL），请删除该字符"],
                            source, what) from None
    root: yaml.Node | None = None
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except _AliasFound as exc:
        raise RuleFileError([f"{place(source, exc.line)}：{exc.message}"], source, what) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        began = exc.context_mark if exc.problem_mark is not None else None
        since = f"（自第 {began.line + 1} 行起）" if began is not None and mark is not None and began.line != mark.line else ""
        problem = _yaml_problem(exc.problem or str(exc))
        where = place(source, mark.line + 1 if mark is not None else None)
        raise RuleFileError([f"{where}：YAML 语法错误{since}：{problem}"], source, what) from exc
    except yaml.YAMLError as exc:
        raise RuleFileError([f"{place(source)}：YAML 语法错误：{exc}"], source, what) from exc
    except ValueError as exc:  # PyYAML raises a bare ValueError for an impossible date: 2025-02-30
        raise RuleFileError([_unconstructable(root, source, exc)], source, what) from exc
    finally:
        loader.dispose()
    lines: dict[Loc, int] = {}
    if root is not None:
        duplicates: list[str] = []
        _walk_yaml(root, (), lines, lambda loc, line, first: duplicates.append(
            f"{place(source, line)} {field_path(loc)}：键 {loc[-1]} 重复（第 {first} 行已写过一次），只能写一次"))
        if duplicates:
            raise RuleFileError(duplicates, source, what)
    return Document(source, data, lines)


def _unconstructable(root: yaml.Node | None, source: Source, exc: ValueError) -> str:
    """Find the scalar PyYAML could not turn into a value (it does not say which), by trying each."""
    lines: dict[Loc, int] = {}
    nodes: dict[Loc, yaml.Node] = {}
    if root is not None:
        _walk_yaml(root, (), lines, lambda loc, line, first: None, nodes)
    for loc, node in nodes.items():
        if isinstance(node, yaml.ScalarNode):
            try:
                yaml.SafeLoader("").construct_object(node)
            except ValueError:
                kind = "不是有效的日期或时间" if node.tag == "tag:yaml.org,2002:timestamp" else "无法识别的值"
                return f"{place(source, node.start_mark.line + 1)} {field_path(loc)}：{kind} {node.value!r}（{exc}）"
    return f"{place(source)}：无法识别的值（{exc}）"


def _walk_yaml(
    node: yaml.Node,
    path: Loc,
    lines: dict[Loc, int],
    duplicate: Callable[[Loc, int, int], None],
    nodes: dict[Loc, yaml.Node] | None = None,
) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if nodes is not None:
        nodes[path] = node
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode) or key.tag == "tag:yaml.org,2002:merge":
                continue
            name, line = str(key.value), key.start_mark.line + 1
            if name in seen:
                duplicate((*path, name), line, seen[name])
                continue
            seen[name] = line
            lines[(*path, name)] = line  # a mapping entry is reported at its key
            _walk_yaml(value, (*path, name), lines, duplicate, nodes)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk_yaml(item, (*path, i), lines, duplicate, nodes)


# --------------------------------------------------------------------------------------------
# JSON
# --------------------------------------------------------------------------------------------

_JSON_PROBLEMS: tuple[tuple[str, str], ...] = (
    ("Expecting ',' delimiter", "缺少逗号，或括号未闭合"),
    ("Expecting ':' delimiter", "键后缺少冒号"),
    ("Expecting property name enclosed in double quotes", "键须用双引号括起（或多了一个逗号）"),
    ("Expecting value", "缺少值（或多了一个逗号）"),
    ("Extra data", "JSON 结束后还有多余内容"),
    ("Unterminated string", "字符串的引号未闭合"),
    ("Invalid control character", "字符串中含控制字符（换行请写成 \\n）"),
    ("Invalid \\escape", "无效的转义字符"),
)


#: Bounds on JSON read from people and monitoring systems: an incident record nests three or
#: four levels and has no number longer than a timestamp. Past these, Python's json module
#: overflows its recursion limit (a 500 on the endpoint) or refuses an integer of more than 4,300
#: digits with a bare ValueError; both are refused here first, naming the line.
MAX_JSON_DEPTH = 64
MAX_NUMBER_CHARS = 100
#: A JSON string (its quotes and escapes); blanked before scanning for depth and numbers, so that
#: brackets and digits inside strings do not count. Strings hold no raw newline: lines are kept.
_JSON_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')
_JSON_NUMBER = re.compile(r"-?[0-9][0-9.eE+\-]*")


class _NotFinite(ValueError):
    pass


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _NotFinite(text)
    return value


def _not_a_number(name: str) -> float:
    raise _NotFinite(name)


def _json_bounds(text: str, source: Source) -> str | None:
    """Nesting deeper than :data:`MAX_JSON_DEPTH` or a number longer than :data:`MAX_NUMBER_CHARS`,
    named with its line; None when within bounds."""
    blank = _JSON_STRING.sub('""', text)
    depth = 0
    line = 1
    for char in blank:
        if char == "\n":
            line += 1
        elif char in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return f"{place(source, line)}：JSON 嵌套过深（超过 {MAX_JSON_DEPTH} 层）"
        elif char in "]}":
            depth -= 1
    for match in _JSON_NUMBER.finditer(blank):
        if len(match.group()) > MAX_NUMBER_CHARS:
            at = blank.count("\n", 0, match.start()) + 1
            return f"{place(source, at)}：JSON 数字过长（{len(match.group())} 个字符，最多 {MAX_NUMBER_CHARS} 个）"
    return None


def parse_json(text: str | bytes, source: Source, what: str = "文件") -> Document:
    """JSON text (or UTF-8 bytes, e.g. an HTTP body) with the line of every key and array element.

    Malformed input is a :class:`RuleFileError` naming the problem, never another exception:
    bytes that are not UTF-8, nesting deeper than :data:`MAX_JSON_DEPTH`, numbers longer than
    :data:`MAX_NUMBER_CHARS`, ``NaN``/``Infinity`` and numbers too large for a float."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise RuleFileError([f"{place(source)}：不是有效的 UTF-8 文本（第 {exc.start + 1} 字节起）"], source, what) from None
    bound = _json_bounds(text, source)
    if bound:
        raise RuleFileError([bound], source, what)
    try:
        data = json.loads(text, parse_float=_finite, parse_constant=_not_a_number)
    except json.JSONDecodeError as exc:
        problem = next((f"{zh}（{exc.msg}）" for en, zh in _JSON_PROBLEMS if exc.msg.startswith(en)), exc.msg)
        raise RuleFileError([f"{place(source, exc.lineno)}：JSON 语法错误（第 {exc.colno} 列）：{problem}"], source, what) from exc
    except _NotFinite as exc:
        raise RuleFileError([f"{place(source)}：JSON 数字 {str(exc)[:20]} 无效（不是有限的数，NaN/Infinity 不是 JSON）"], source,
                            what) from None
    except (ValueError, RecursionError) as exc:  # a bound not foreseen above: still a refusal, never a crash
        raise RuleFileError([f"{place(source)}：JSON 无法读取（{type(exc).__name__}）"], source, what) from None
    return Document(source, data, json_lines(text))


def json_lines(text: str) -> dict[Loc, int]:
    """The 1-based line of every key and array element of a well-formed JSON document.

    The json module keeps no positions; this walks the text with the module's own string and
    value scanners, recording where each path starts.
    """
    decoder = json.JSONDecoder()
    newlines = [i for i, c in enumerate(text) if c == "\n"]
    lines: dict[Loc, int] = {}

    def line(pos: int) -> int:
        return bisect.bisect_left(newlines, pos) + 1

    def ws(i: int) -> int:
        while i < len(text) and text[i] in " \t\r\n":
            i += 1
        return i

    def value(i: int, path: Loc) -> int:
        i = ws(i)
        lines.setdefault(path, line(i))
        if text[i] == "{":
            i = ws(i + 1)
            if text[i] == "}":
                return i + 1
            while True:
                key, j = json.decoder.scanstring(text, i + 1)  # type: ignore[attr-defined]
                lines[(*path, key)] = line(i)
                j = ws(j) + 1  # the colon
                i = ws(value(j, (*path, key)))  # setdefault keeps the key's line for the path
                if text[i] == ",":
                    i = ws(i + 1)
                    continue
                return i + 1  # "}"
        if text[i] == "[":
            i = ws(i + 1)
            if text[i] == "]":
                return i + 1
            k = 0
            while True:
                i = ws(value(i, (*path, k)))
                k += 1
                if text[i] == ",":
                    i = ws(i + 1)
                    continue
                return i + 1  # "]"
        _obj, end = decoder.raw_decode(text, i)
        return end

    try:
        value(0, ())
    except (ValueError, IndexError, RecursionError):  # never expected after json.loads succeeded; lines are a courtesy
        pass
    return lines
