"""The safe CSV writer: text from data stays text when a spreadsheet opens the file.

Why: a CSV carries no cell types, so Excel, WPS and LibreOffice evaluate any field that starts
with ``=``, ``+``, ``-`` or ``@`` (and, in some of them, a tab or carriage return before one) as a
formula: ``=HYPERLINK("http://evil.example","x")`` or ``=cmd|' /C calc'!A0`` from a query log
would run in the reviewer's spreadsheet (CSV injection, CWE-1236). The OWASP rule: prefix such a
field with a single quote, which every spreadsheet shows as text and a reader can strip again.
Only text columns are touched; numbers stay numbers (a negative count is a number, not a
formula). Header names are treated the same way.

The file starts with a UTF-8 BOM so that Excel opens Chinese text as UTF-8, and it is written
atomically (a crash leaves the previous file or none, never half a file). Rows go through
pyarrow's writer: a 10 M-row month flags some 650 000 queries, which pandas' ``to_csv`` takes
about 5 s to write and pyarrow 0.3 s; pyarrow quotes every text value, which any CSV reader and
Excel read as the same values.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

from regflows.kit.files import write_atomically

#: A field starting with one of these is read as a formula by some spreadsheet (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_START_RE = r"^[=+\-@\t\r]"


def neutralise(text: str) -> str:
    """``text`` as a spreadsheet will show it, never evaluate it."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def neutralise_column(series: pd.Series) -> pd.Series:
    """Every text value of ``series`` neutralised; other dtypes unchanged (vectorised)."""
    if not (pd.api.types.is_string_dtype(series.dtype) or series.dtype == object):
        return series
    if series.dtype == object:
        if not series.map(lambda v: isinstance(v, str)).any():
            return series
        return series.map(lambda v: neutralise(v) if isinstance(v, str) else v)
    risky = series.str.contains(_FORMULA_START_RE, regex=True).fillna(False).astype(bool)
    if not risky.any():
        return series
    return series.where(~risky, "'" + series)


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """``frame`` as a CSV a spreadsheet opens safely (see the module docstring); returns ``path``."""
    safe = frame.copy(deep=False)
    for col in safe.columns:
        safe[col] = neutralise_column(safe[col])
    header = io.StringIO()
    csv.writer(header, lineterminator="\n").writerow([neutralise(str(c)) for c in safe.columns])
    body = io.BytesIO()
    body.write(("\ufeff" + header.getvalue()).encode("utf-8"))
    if len(safe.columns):
        table = pa.Table.from_pandas(safe, preserve_index=False)
        pa_csv.write_csv(table, body, pa_csv.WriteOptions(include_header=False))
    write_atomically(path, body.getvalue())
    return path


__all__ = ["FORMULA_STARTS", "neutralise", "neutralise_column", "write_csv"]
