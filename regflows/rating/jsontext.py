"""JSON with exact decimals (issue 16, "CLI contract": scores as JSON numbers, exact decimals):
``json`` would write a Decimal through a binary float. Used by the CLI and the run's summary.json."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

__all__ = ["decimal_text", "dumps"]


def decimal_text(value: Decimal) -> str:
    """The exact decimal as a JSON number: 0.5, 97, 0 (never an exponent, never a float's digits)."""
    text = format(value.normalize(), "f")
    return "0" if text == "-0" else text


def dumps(value: Any, indent: int = 2, _level: int = 0) -> str:
    """JSON like ``json.dumps(indent=2, ensure_ascii=False)``, with Decimals as exact numbers."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"not a finite decimal: {value}")
        return decimal_text(value)
    if value is None or isinstance(value, (bool, int, str)):
        return json.dumps(value, ensure_ascii=False)
    pad, inner = " " * (indent * _level), " " * (indent * (_level + 1))
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        body = ",\n".join(f"{inner}{json.dumps(str(k), ensure_ascii=False)}: {dumps(v, indent, _level + 1)}" for k, v in value.items())
        return "{\n" + body + "\n" + pad + "}"
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]"
        return "[\n" + ",\n".join(f"{inner}{dumps(v, indent, _level + 1)}" for v in value) + "\n" + pad + "]"
    raise TypeError(f"cannot write {type(value).__name__} as JSON")
