"""Readers for the query log and the users file: CSV (UTF-8 or GBK), Parquet, Excel.

Why the readers only refuse what cannot be read at all (an empty or unreadable file, a missing
column): everything a row can get wrong (a bad date, a raw ID number, a duplicate id) is a
data-quality failure reported row by row by :mod:`regflows.credit.quality`, so the operator sees
every failing row at once instead of the first one. Values that do not parse become missing and
are marked in a ``_bad_<column>`` flag column that the suites check.

Times without an offset are Asia/Shanghai wall-clock times (issue 7, "Inputs"); times with an
offset are converted to Asia/Shanghai. Strings are pandas' pyarrow-backed ``str`` dtype (fast
regular expressions, and great-expectations avoids its whole-frame md5 on them: measured, see regflows/credit/quality.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from calendars.zone import SHANGHAI
from regflows.kit.files import TEXT_ENCODINGS
from regflows.credit.models import (
    LOG_COLUMNS,
    LOG_DATE_COLUMNS,
    LOG_OPTIONAL_COLUMNS,
    LOG_STRING_COLUMNS,
    USER_COLUMNS,
    USER_OPTIONAL_COLUMNS,
    CreditInputError,
)

_OFFSET = r"(?:[Zz]|[+-]\d{2}:?\d{2})$"
#: ISO 8601 as the contract reads it: YYYY-MM-DD, then (for instants) T or a space and hh:mm[:ss[.fraction]],
#: then an optional offset. pandas' "ISO8601" also takes 2025-9-5 and 20250915 100000; those are refused.
_ISO_DATE = r"\d{4}-\d{2}-\d{2}"
_ISO_TIME = r"[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?(?:[Zz]|[+-]\d{2}:?\d{2})?"
_ISO_INSTANT = _ISO_DATE + _ISO_TIME
_ISO_DATE_OR_INSTANT = _ISO_DATE + f"(?:{_ISO_TIME})?"
_TRUE = {"true", "1", "yes", "y", "是", "t"}
_FALSE = {"false", "0", "no", "n", "否", "f"}


@dataclass
class Table:
    """A frame read from a file; ``row_base`` turns index 0 into the line a person sees."""

    frame: pd.DataFrame
    path: Path
    row_base: int  # 2 for CSV/Excel (line 1 is the header), 1 for Parquet (record number)

    def line(self, index: int) -> int:
        return int(index) + self.row_base


class _ParquetColumns:
    """A Parquet file's columns, each read when it is popped (the reader's part of a frame that
    :func:`read_log` uses): the raw and converted copies of a 10-million-row log are then never
    alive together, only one column's."""

    def __init__(self, path: Path, columns: list[str], row_groups: list[int] | None = None, first_row: int = 0) -> None:
        self.path = path
        self.first_row = first_row
        self.columns = columns
        self.row_groups = row_groups
        self._file: pq.ParquetFile | None = None
        meta = pq.read_metadata(path)
        self._rows = meta.num_rows if row_groups is None else sum(meta.row_group(g).num_rows for g in row_groups)

    def __len__(self) -> int:
        return self._rows

    def reset_index(self, drop: bool = True) -> "_ParquetColumns":
        return self  # each column is read with a fresh RangeIndex

    def pop(self, col: str) -> pd.Series:
        self.columns = [c for c in self.columns if c != col]
        try:
            if self.row_groups is not None:  # one partition of a big month (regflows/credit/partitions.py)
                if self._file is None:  # opened once: each opening parses the file's metadata again
                    self._file = pq.ParquetFile(self.path)
                table = self._file.read_row_groups(self.row_groups, columns=[col])
                series = table.to_pandas(types_mapper=ARROW_STRINGS.get)[col]
                return series.set_axis(pd.RangeIndex(self.first_row, self.first_row + len(series)))
            return pd.read_parquet(self.path, columns=[col])[col].reset_index(drop=True)
        except Exception as exc:  # noqa: BLE001 - as in _raw: every reader error becomes one clear message
            raise CreditInputError(f"无法读取 {self.path}（{type(exc).__name__}: {exc}）") from exc


#: Arrow strings as pandas' pyarrow-backed ``str``, as ``pd.read_parquet`` gives them (a
#: ``types_mapper`` for pyarrow's ``to_pandas``).
ARROW_STRINGS = {pa.string(): pd.StringDtype("pyarrow", na_value=np.nan),
                 pa.large_string(): pd.StringDtype("pyarrow", na_value=np.nan)}


def _raw(path: Path, columns: tuple[str, ...], lazy: bool = False) -> tuple[pd.DataFrame, int]:
    """The file as a frame of strings (or Parquet's own types), with its row base; ``lazy``:
    Parquet columns are read only when popped (:class:`_ParquetColumns`)."""
    if not path.exists():
        raise CreditInputError(f"文件不存在：{path}")
    if path.stat().st_size == 0:
        raise CreditInputError(f"文件为空（0 字节），无法读取：{path}")
    suffix = path.suffix.lower()
    try:
        if suffix in {".parquet", ".pq"}:
            names = [c for c in pq.read_schema(path).names if c in columns]
            if lazy:
                return _ParquetColumns(path, names), 1  # type: ignore[return-value]
            frame = pd.read_parquet(path, columns=names)
            return frame, 1
        if suffix in {".xlsx", ".xlsm"}:
            _refuse_duplicate_names(path, pd.read_excel(path, header=None, nrows=1, dtype=str, engine="openpyxl"))
            frame = pd.read_excel(path, dtype=str, engine="openpyxl", keep_default_na=False, na_values=[""])
            return frame, 2
        if suffix in {".csv", ".txt"}:
            for encoding in TEXT_ENCODINGS:
                try:
                    _refuse_duplicate_names(path, pd.read_csv(path, header=None, nrows=1, dtype="str", encoding=encoding))
                    frame = pd.read_csv(path, dtype="str", encoding=encoding, keep_default_na=False, na_values=[""])
                    return frame, 2
                except UnicodeDecodeError:
                    continue
            raise CreditInputError(f"{path}：既不是 UTF-8 也不是 GBK 编码，无法读取")
    except CreditInputError:
        raise
    except pd.errors.EmptyDataError as exc:
        raise CreditInputError(f"文件没有表头，无法读取：{path}") from exc
    except Exception as exc:  # noqa: BLE001 - every reader error becomes one clear message
        raise CreditInputError(f"无法读取 {path}（{type(exc).__name__}: {exc}）") from exc
    raise CreditInputError(f"不支持的文件类型 {suffix or '（无扩展名）'}：请提供 .csv、.parquet 或 .xlsx")


def _refuse_duplicate_names(path: Path, header: pd.DataFrame) -> None:
    """pandas renames a repeated column ``x`` to ``x.1`` and the reader would use the first one:
    two ``queried_at`` columns are a file nobody can read one way only, so it is refused."""
    if header.empty:
        return
    names = [str(v).strip() for v in header.iloc[0].tolist() if not pd.isna(v)]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise CreditInputError(f"{path}：表头第 1 行列名重复：{'、'.join(repeated)}（每列只能出现一次）")


def _require(frame: pd.DataFrame, path: Path, required: tuple[str, ...]) -> None:
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise CreditInputError(f"{path}：缺少列 {', '.join(missing)}（现有列：{', '.join(map(str, frame.columns))}）")


def _one_chunk(series: pd.Series) -> pd.Series:
    """The same pyarrow-backed strings in one contiguous chunk (other dtypes unchanged).

    Why: Parquet gives one chunk per record batch, and pyarrow concatenates a chunked column on
    every ``take`` and unifies per-chunk dictionaries on every ``factorize``; the checks and the
    rules do both on whole columns many times.
    """
    data = getattr(series.array, "_pa_array", None)
    if data is None or data.num_chunks <= 1:
        return series
    return pd.Series(data.combine_chunks(), index=series.index, dtype=series.dtype, name=series.name)


def _may_need_strip_or_blank(series: pd.Series) -> tuple[bool, bool]:
    """(some value might change under ``str.strip``, some value is the empty string).

    Conservative and cheap (first and last byte of each value, no copy of the strings): a value
    whose first and last bytes are printable ASCII other than space has nothing to strip,
    whatever Unicode calls whitespace. Anything not a single pyarrow chunk answers (True, True).
    """
    data = getattr(series.array, "_pa_array", None)
    if data is None or data.num_chunks != 1:
        return True, True
    arr = data.chunk(0)
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)) or len(arr) == 0:
        return True, True
    _, offsets_buf, data_buf = arr.buffers()
    offset_type = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    offsets = np.frombuffer(offsets_buf, dtype=offset_type)[arr.offset:arr.offset + len(arr) + 1]
    empty = np.diff(offsets) == 0
    blank = bool(empty.any()) and bool((empty & arr.is_valid().to_numpy(zero_copy_only=False)).any())
    if data_buf is None or data_buf.size == 0 or offsets[-1] == offsets[0]:
        return False, blank
    data = np.frombuffer(data_buf, dtype=np.uint8)
    # first and last byte of each value (clipped into the buffer; for an empty value these land
    # on another value's first or last byte, which only makes the answer more cautious);
    # uint8 wrap-around: b - 0x21 > 0x5D  <=>  b <= 0x20 or b >= 0x7F
    for edge in (offsets[:-1], offsets[1:] - 1):
        # numpy's stubs have no overload for an index array with mode= (it works since numpy 1.0)
        if ((np.take(data, edge, mode="clip") - np.uint8(0x21)) > np.uint8(0x5D)).any():  # type: ignore[call-overload]
            return True, blank
    return False, blank


def _strings(series: pd.Series) -> pd.Series:
    """Trimmed pyarrow-backed strings, empty → missing, in one contiguous chunk."""
    s = _one_chunk(series if isinstance(series.dtype, pd.StringDtype) else series.astype("str"))
    strip, blank = _may_need_strip_or_blank(s)
    if strip:  # only then: stripping 10 million clean values copies them all for nothing
        s = _one_chunk(s.str.strip())
        blank = True
    if blank:
        s = _one_chunk(s.where(s != "", None))
    return s


def parse_instants(series: pd.Series, time_format: str | None = None, *, require_time: bool = False) -> tuple[pd.Series, pd.Series]:
    """(aware Asia/Shanghai instants, bad flag): naive values are Shanghai wall-clock times.

    Text is read as ISO 8601 only (``T`` or a space between date and time), or in the one
    ``time_format`` the file declares (a setting). Never a guess: pandas' "mixed" parsing reads
    ``05/10/2025`` as 10 May, ``13/10/2025`` day-first and ``Oct 15`` as year 1, silently moving
    rows between months; such values are bad and the quality check names their rows. Sub-second
    digits (microseconds, nanoseconds from database exports) are kept to the millisecond.
    ``require_time``: a bare date is bad too (a query time of 00:00 would count as off-hours).
    """
    target = "datetime64[ms, Asia/Shanghai]"
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        tz = getattr(series.dtype, "tz", None)
        out = series.dt.tz_convert(SHANGHAI) if tz is not None else series.dt.tz_localize(SHANGHAI)
        return out.dt.floor("ms").astype(target), pd.Series(False, index=series.index)
    text = _strings(series)
    present = text.notna()
    out = pd.Series(pd.NaT, index=series.index, dtype=target)
    if present.any():
        if time_format:
            aware = present & bool("%z" in time_format or "%Z" in time_format)
        else:
            aware = present & text.str.contains(_OFFSET, regex=True).fillna(False).astype(bool)
        naive = present & ~aware
        if not time_format:  # the contract's shape only; anything else stays NaT and is reported
            shape = _ISO_INSTANT if require_time else _ISO_DATE_OR_INSTANT
            fits = text.str.fullmatch(shape).fillna(False).astype(bool)
            aware, naive = aware & fits, naive & fits
        fmt = time_format or "ISO8601"
        if naive.any():
            parsed = pd.to_datetime(text[naive], format=fmt, errors="coerce")
            out[naive] = parsed.dt.tz_localize(SHANGHAI).dt.floor("ms").astype(target)
        if aware.any():
            parsed = pd.to_datetime(text[aware], format=fmt, utc=True, errors="coerce")
            out[aware] = parsed.dt.tz_convert(SHANGHAI).dt.floor("ms").astype(target)
    bad = present & out.isna()
    return out, bad.astype(bool)


def parse_dates(series: pd.Series, time_format: str | None = None) -> tuple[pd.Series, pd.Series]:
    """(the Asia/Shanghai calendar day as naive midnight datetime64, bad flag)."""
    instants, bad = parse_instants(series, time_format)
    return instants.dt.tz_localize(None).dt.normalize().astype("datetime64[ms]"), bad


def _keep_bad_text(out: pd.DataFrame, col: str, raw: pd.Series) -> None:
    """Keep the original text of unparseable values (only those) so the failure report can show it."""
    bad = out[f"_bad_{col}"]
    if bad.any():
        out[f"_raw_{col}"] = raw.astype("str").where(bad, None)


def read_log(path: str | Path, time_format: str | None = None, *, row_groups: list[int] | None = None,
             first_row: int = 0, only: tuple[str, ...] | None = None) -> Table:
    """The query log: a header with at least the contract's columns; zero rows is a valid month.
    ``time_format``: the file's declared time format (setting ``credit_log_time_format``).

    ``row_groups``: only these row groups of a Parquet file (one partition of a big month,
    :mod:`regflows.credit.partitions`), their rows numbered from ``first_row`` (the frame's index
    is then the row's position in the whole file, so that every row named is the file's);
    ``only``: just these text columns and ``queried_at`` (read and normalised as for the whole
    log), for the partitioning's own pass over the keys."""
    path = Path(path)
    frame, base = _raw(path, LOG_COLUMNS + LOG_OPTIONAL_COLUMNS, lazy=True)
    _require(frame, path, LOG_COLUMNS)
    if row_groups is not None:
        if not isinstance(frame, _ParquetColumns):
            raise CreditInputError(f"{path}：只有 Parquet 文件可以分区读取")
        frame = _ParquetColumns(path, list(frame.columns), row_groups, first_row)
        out = pd.DataFrame(index=pd.RangeIndex(first_row, first_row + len(frame)))
    else:
        out = pd.DataFrame(index=pd.RangeIndex(len(frame)))
        frame = frame.reset_index(drop=True)
    # pop each raw column as it is converted: raw and converted copies of a 10-million-row log
    # must not both be alive
    for col in LOG_STRING_COLUMNS if only is None else [c for c in LOG_STRING_COLUMNS if c in only]:
        out[col] = _strings(frame.pop(col)) if col in frame.columns else pd.Series(None, index=out.index, dtype="str")
    raw = frame.pop("queried_at")
    out["queried_at"], out["_bad_queried_at"] = parse_instants(raw, time_format, require_time=True)
    _keep_bad_text(out, "queried_at", raw)
    for col in LOG_DATE_COLUMNS if only is None else ():
        if col in frame.columns:
            raw = frame.pop(col)
            out[col], out[f"_bad_{col}"] = parse_dates(raw, time_format)
            _keep_bad_text(out, col, raw)
        else:
            out[col] = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ms]")
            out[f"_bad_{col}"] = False
    pa.default_memory_pool().release_unused()  # the raw columns' memory back to the system, not kept for pyarrow
    return Table(out, path, base)


def read_users(path: str | Path, *, formal_optional: bool = False) -> Table:
    """The users file: status (active/locked/suspended), formal_employee, optional status_since.

    ``formal_optional``: a file without ``formal_employee`` is read, every user's value unknown
    (empty: the non-formal part of the user-status rule finds nothing), for a caller that decides
    what an absent column means on its own (the self-inspection's flagging: issue 15, "a column
    absent" is not evaluated, never a refused run; review of issue 15, defect 2)."""
    path = Path(path)
    frame, base = _raw(path, USER_COLUMNS + USER_OPTIONAL_COLUMNS)
    frame.columns = [str(c).strip() for c in frame.columns]
    absent = formal_optional and "formal_employee" not in frame.columns
    _require(frame, path, tuple(c for c in USER_COLUMNS if not (absent and c == "formal_employee")))
    out = pd.DataFrame(index=pd.RangeIndex(len(frame)))
    out["user_id"] = _strings(frame["user_id"].reset_index(drop=True))
    out["status"] = _strings(frame["status"].reset_index(drop=True)).str.lower()
    if absent:
        formal = pd.Series("", index=out.index, dtype="str")
    else:
        formal = _strings(frame["formal_employee"].reset_index(drop=True).astype("str")).str.lower()
    out["formal_employee"] = formal.map(lambda v: "true" if v in _TRUE else "false" if v in _FALSE else v)
    out["formal_employee"] = out["formal_employee"].astype("str")
    if "status_since" in frame.columns:
        raw = frame["status_since"].reset_index(drop=True)
        out["status_since"], out["_bad_status_since"] = parse_dates(raw)
        _keep_bad_text(out, "status_since", raw)
    else:
        out["status_since"] = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ms]")
        out["_bad_status_since"] = False
    return Table(out, path, base)
