"""Validation errors in Chinese that name the file, the line and the field.

The people who meet these messages are compliance staff editing a rule file, an officer typing
an incident record, an operator whose monitoring system posts one. Pydantic's own messages are
English, quote internal type names and give no line; a bare ``yaml.safe_load`` error gives a
line but no field. One translator, used by every procedure for YAML and JSON alike, gives each
problem one line::

    文件 rules/grading.yaml 第 12 行 criteria[3].grade：取值无效 'V'，可选：'I'、'II'、'III'、'IV'

The translator knows nothing about files: :func:`describe` takes a validation error and, when
there is one, the map from field paths to lines (:mod:`regflows.kit.rulefiles` builds it for
YAML and JSON). Without a map (a dict from an HTTP body or a notice context) it names only the
field, and ``show_input=False`` keeps rejected values (possibly personal data) out of the text.
"""

from __future__ import annotations

import os
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, Union

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

__all__ = [
    "Loc",
    "MessageHook",
    "RuleFileError",
    "clean_loc",
    "describe",
    "field_path",
    "line_for",
    "place",
    "translate",
]

#: A path into a document, as pydantic reports it: keys and list indexes.
Loc = tuple[str | int, ...]
#: A procedure's own wording for some errors: return a message, or None for the standard one.
MessageHook = Callable[[ErrorDetails], "str | None"]

#: Parts pydantic adds to a location that are not in the document: validator wrappers and the
#: marker of a failed dict key.
_KEY_MARKER: Final = "[key]"


class RuleFileError(ValueError):
    """A document that cannot be used; ``problems`` holds one self-contained line per problem.

    ``what`` says what kind of document it is, for the heading (``定级规则``, ``机构配置``).
    """

    def __init__(self, problems: Sequence[str], source: str | os.PathLike[str] | None = None, what: str = "文件") -> None:
        self.problems = list(problems)
        self.source = None if source is None else str(source)
        self.what = what
        super().__init__(self.heading())

    def heading(self) -> str:
        if len(self.problems) == 1:
            return f"{self.what}有误：{self.problems[0]}"
        named = f"{self.what} {self.source}" if self.source else self.what
        return f"{named} 有 {len(self.problems)} 处错误：\n" + "\n".join(f"  - {p}" for p in self.problems)


# --------------------------------------------------------------------------------------------
# Where: file, line, field
# --------------------------------------------------------------------------------------------


def place(source: str | os.PathLike[str] | None, line: int | None = None) -> str:
    """``文件 a.yaml 第 3 行`` for a file (a path), ``POST /incidents 第 3 行`` for a label (a str)."""
    if source is None:
        name = ""
    elif isinstance(source, os.PathLike):
        name = f"文件 {os.fspath(source)}"
    else:
        name = source
    if line is None:
        return name
    return f"{name} 第 {line} 行" if name else f"第 {line} 行"


def field_path(loc: Loc) -> str:
    """``criteria[3].when.outage``: keys joined by dots, list indexes in brackets."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def line_for(lines: Mapping[Loc, int], loc: Loc) -> int | None:
    """The line of the deepest part of ``loc`` present in the document (a missing field is
    reported at its parent). Integer parts also match string keys (YAML ``1:`` keys)."""
    path: Loc = ()
    found = lines.get(path)
    for part in loc:
        for candidate in (part, str(part)) if isinstance(part, int) else (part,):
            if (*path, candidate) in lines:
                path = (*path, candidate)
                found = lines[path]
                break
        else:
            break
    return found


# --------------------------------------------------------------------------------------------
# Locations as the document has them
# --------------------------------------------------------------------------------------------


def _unwrap(tp: Any) -> tuple[Any, str | None]:
    """Strip ``Annotated`` and ``X | None`` from a type; return it with its discriminator, if any."""
    discriminator: str | None = None
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            for meta in tp.__metadata__:
                found = getattr(meta, "discriminator", None)
                if isinstance(found, str):
                    discriminator = found
            tp = typing.get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            members = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(members) != 1:
                return tp, discriminator
            tp = members[0]
        else:
            return tp, discriminator


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _tagged_member(union: Any, discriminator: str, tag: str | int) -> Any:
    for member in typing.get_args(union):
        if _is_model(member):
            field = member.model_fields.get(discriminator)
            if field is not None and tag in typing.get_args(field.annotation):
                return member
    return Any


def clean_loc(loc: Sequence[str | int], model: type[BaseModel] | None = None) -> Loc:
    """The location as a path into the document.

    Pydantic inserts parts that are not in the document: ``function-after[...]`` for
    validators, ``[key]`` for a bad dict key, the tag of a discriminated union
    (``due.hours.hours`` for ``due: {kind: hours, hours: 0}``), the member type of a plain union
    (``x.int``). The first two are recognisable; the union parts are found by walking the model.
    """
    parts = [p for p in loc if not (isinstance(p, str) and (p.startswith("function-") or p == _KEY_MARKER))]
    if model is None:
        return tuple(parts)
    out: list[str | int] = []
    tp: Any = model
    i = 0
    while i < len(parts):
        part = parts[i]
        out.append(part)
        i += 1
        tp, _ = _unwrap(tp)
        if _is_model(tp) and isinstance(part, str):
            fields = tp.model_fields
            field = fields.get(part) or next((f for f in fields.values() if f.alias == part), None)
            if field is None:
                tp = Any
                continue
            tp = field.annotation
            own = field.discriminator if isinstance(field.discriminator, str) else None
        else:
            origin, args = typing.get_origin(tp), typing.get_args(tp)
            if origin in (list, tuple, set, frozenset, Sequence) and args:
                tp = args[0]
            elif origin in (dict, Mapping) and len(args) == 2:
                tp = args[1]
            else:
                tp = Any
            own = None
        tp, inner = _unwrap(tp)
        discriminator = own or inner
        if typing.get_origin(tp) in (Union, types.UnionType) and i < len(parts):
            label = parts[i]
            i += 1  # a union member's tag or type name: not in the document
            tp = _tagged_member(tp, discriminator, label) if discriminator else Any
    return tuple(out)


# --------------------------------------------------------------------------------------------
# What: the message
# --------------------------------------------------------------------------------------------


def _number(value: Any) -> str:
    """``0`` rather than ``0.0`` for a bound written as 0 on a float field."""
    return f"{value:g}" if isinstance(value, float) else str(value)


def _choices(expected: Any) -> str:
    """Pydantic's ``'a', 'b' or 'c'`` as ``'a'、'b'、'c'``."""
    return str(expected).replace("' or '", "', '").replace(", ", "、")


def translate(error: ErrorDetails, show_input: bool = True) -> str:
    """One pydantic error in Chinese. Unknown kinds keep pydantic's (English) text."""
    kind, msg = error["type"], str(error["msg"])
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    raw = error.get("input")
    given = f"，实为 {raw!r}" if show_input else ""
    value = f" {raw!r}" if show_input else ""
    if kind == "missing":
        return "缺少必填项"
    if kind == "extra_forbidden":
        return "未知字段（拼写错误？）"
    if kind in {"literal_error", "enum"}:
        noun = "键名无效" if _KEY_MARKER in error["loc"] else "取值无效"
        return f"{noun}{value}，可选：{_choices(ctx.get('expected', ''))}"
    if kind == "union_tag_invalid":
        name = str(ctx.get("discriminator", "")).strip("'")
        return f"{name} 取值无效 {ctx.get('tag')!r}，可选：{_choices(ctx.get('expected_tags', ''))}"
    if kind == "union_tag_not_found":
        return f"缺少 {str(ctx.get('discriminator', '')).strip(chr(39))}（用于区分写法的字段）"
    if kind in {"value_error", "assertion_error"}:
        return msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind in {"timezone_naive", "timezone_aware"}:
        return "须带时区偏移，如 2025-10-01T09:30:00+08:00" if kind == "timezone_naive" else "不应带时区偏移"
    if kind.startswith("datetime"):
        return f"不是有效的 ISO 8601 时间{value}，请写成 2025-10-01T09:30:00+08:00"
    if kind.startswith("date"):
        return f"不是有效的日期{value}，请写成 2025-10-01"
    if kind.startswith("time"):
        return f"不是有效的时刻{value}，请写成 09:30:00"
    if kind in {"bool_type", "bool_parsing"}:
        return f"须为 true 或 false{given}"
    if kind in {"int_type", "int_parsing", "int_from_float", "int_parsing_size"}:
        return f"须为整数{given}"
    if kind in {"float_type", "float_parsing", "finite_number", "decimal_type", "decimal_parsing"}:
        return f"须为数字{given}"
    if kind in {"string_type", "string_unicode"}:
        return f"须为文字（字符串）{given}"
    if kind in {"list_type", "tuple_type", "set_type"}:
        return f"须为列表{given}"
    if kind in {"dict_type", "model_type", "model_attributes_type"}:
        return f"须为键值映射（key: value）{given}"
    bounds = {"greater_than": ("gt", ">"), "greater_than_equal": ("ge", "≥"), "less_than": ("lt", "<"),
              "less_than_equal": ("le", "≤")}
    if kind in bounds:
        key, sign = bounds[kind]
        return f"须 {sign} {_number(ctx.get(key))}{given}"
    if kind == "string_too_short":
        return "不能为空" if ctx.get("min_length") == 1 else f"至少 {ctx.get('min_length')} 个字符{given}"
    if kind == "string_too_long":
        return f"过长（最多 {ctx.get('max_length')} 个字符）"
    if kind == "too_short":
        return "至少填写一项" if ctx.get("min_length") == 1 else f"至少填写 {ctx.get('min_length')} 项"
    if kind == "too_long":
        return f"最多填写 {ctx.get('max_length')} 项"
    if kind == "string_pattern_mismatch":
        return f"格式无效{value}（须符合 {ctx.get('pattern')}）"
    if kind == "json_invalid":
        return f"不是有效的 JSON（{ctx.get('error', '')}）"
    if kind.startswith("url"):
        return f"不是有效的网址{value}"
    return msg


# --------------------------------------------------------------------------------------------
# The translator
# --------------------------------------------------------------------------------------------


def describe(
    exc: ValidationError,
    source: str | os.PathLike[str] | None = None,
    lines: Mapping[Loc, int] | None = None,
    *,
    model: type[BaseModel] | None = None,
    titles: Mapping[str, str] | None = None,
    messages: MessageHook | None = None,
    show_input: bool = True,
    chinese_first: bool = False,
) -> list[str]:
    """One Chinese line per error: ``<place> <field>（<title>）：<message>``; with ``chinese_first``
    ``<place> 「<title>」（<field>）：<message>``, for what a person reads first by the title (a form's
    refusal: review 14, 10) while a JSON caller still finds the field.

    ``source`` is a path (printed as ``文件 …``) or a label (``POST /incidents``); ``lines`` maps
    locations to 1-based lines; ``model`` (the validated model) lets union tags be dropped from
    the field path; ``titles`` maps dotted field paths to Chinese titles; ``messages`` overrides
    the wording of particular errors. A message that already starts with its field's label (a
    validator naming its own field) is not prefixed twice.
    """
    out: list[str] = []
    for error in exc.errors():
        loc = clean_loc(error["loc"], model)
        path = field_path(loc)
        title = (titles or {}).get(".".join(str(p) for p in loc))
        label = (f"「{title}」（{path}）" if chinese_first else f"{path}（{title}）") if title and path else path
        message = (messages(error) if messages else None) or translate(error, show_input)
        message = message.removeprefix(label).lstrip() if label else message
        where = place(source, line_for(lines, loc) if lines is not None and loc else None)
        head = " ".join(p for p in (where, label) if p)
        out.append(f"{head}：{message}" if head else message)
    return out
