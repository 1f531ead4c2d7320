"""Data quality of the inputs with great-expectations: one suite per input, failing rows listed.

Issue 7, "Checks and rules" 1: a failing check stops the run before anything is published and
the operator sees which rows failed. GX's Data Docs are not used: their HTML loads assets from
public CDNs and embeds failing values (personal data); :func:`failure_rows` renders our own
table instead, with raw ID numbers masked.

Speed (measured with great-expectations 1.24 and pandas 3): GX computes an md5 fingerprint of
the whole frame on every validation of a frame under ``HASH_THRESHOLD`` bytes (about 75 % of the
time at 10 M rows). There is no public switch; :func:`_no_fingerprint` sets the private constant
to 0 for the duration of a validation, and ``tests/regflows/credit/test_inputs.py`` fails if an upgrade
moves or stops using it. Strings are pyarrow-backed (see :mod:`regflows.credit.io`).

great_expectations is imported inside functions only (lazy): the import takes 3-11 s (measured),
and this module is loaded with :mod:`regflows.credit.pipeline`, hence by every credit task module
and the hourly ``credit-stats-watch`` flow, which never validates data. When it is imported,
:func:`_gx` first puts stand-ins for ``scipy.stats`` and ``altair`` (:data:`DEFERRED`): GX loads
them with the expectations the suites never use (KL divergence, KS tests and their charts), about
35 % of its import (measured with ``python -X importtime``, GX 1.x, issue 18); a stand-in imports
its module the first time anything uses it, so nothing changes for code that does. The import
runs with :func:`regflows.credit.fieldcopy.faster_field_copies` (pydantic v1's copies of its models'
fields were another ~0.3 s of it) and with the cyclic garbage collector paused, its objects then
frozen out of later collections (:func:`_no_collections`).
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import importlib.util
import re
import sys
import threading
import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from regflows.credit.fieldcopy import faster_field_copies
from regflows.credit.rules import rows_among
from regflows.credit.models import (
    LOG_REQUIRED_VALUES,
    LOG_STRING_COLUMNS,
    MAX_TEXT_LENGTH,
    RAW_ID_PATTERN,
    SUBJECT_TYPES,
    USER_STATUSES,
    Span,
    Thresholds,
)

#: What each check means for the operator (Chinese), by (expectation type, column).
_CHECK_TEXT: dict[str, str] = {
    "expect_column_values_to_not_be_null": "必填值为空",
    "expect_column_values_to_be_unique": "编号重复",
    "expect_column_values_to_be_in_set": "取值不在允许范围内",
    "expect_column_values_to_not_match_regex": "疑似未脱敏的18位身份证号（应为脱敏或哈希值）",
    "expect_column_value_lengths_to_be_between": f"文本过长（超过 {MAX_TEXT_LENGTH} 个字符）",
}
#: How much of a failing value the reports show (a 50 MB field is named, not copied).
_SHOWN = 80


def _clip(value: Any) -> Any:
    text = value if isinstance(value, str) else None
    if text is None or len(text) <= _SHOWN:
        return value
    return f"{text[:_SHOWN]}…（共 {len(text)} 个字符）"
_FLAG_TEXT: dict[str, tuple[str, str]] = {
    "_bad_queried_at": ("queried_at", "日期时间无法解析"),
    "_bad_authorized_at": ("authorized_at", "日期无法解析"),
    "_bad_authorization_expires": ("authorization_expires", "日期无法解析"),
    "_after_period_end": ("queried_at", "查询时间晚于统计期末"),
    "_bad_status_since": ("status_since", "日期无法解析"),
    # one partition of a big month: the rows the uniqueness suite of the query-id partitions found
    # (regflows/credit/partitions.py), reported as the whole-file uniqueness check reports them
    "_duplicate_query_id": ("query_id", _CHECK_TEXT["expect_column_values_to_be_unique"]),
}
_RAW_ID = re.compile(RAW_ID_PATTERN)


@dataclass
class QualityReport:
    """The outcome of one suite: which checks failed and on which rows."""

    input_name: str
    success: bool
    checks: int
    failures: pd.DataFrame = field(default_factory=pd.DataFrame)  # 行号, 字段, 问题, 值 (masked)
    failing_rows: pd.DataFrame = field(default_factory=pd.DataFrame)  # the rows themselves, masked

    def message(self) -> str:
        if self.success:
            return f"{self.input_name}：{self.checks} 项数据质量检查全部通过"
        n = self.failing_rows.shape[0]
        return f"{self.input_name}：数据质量检查未通过，{n} 行有问题（{self.failures.shape[0]} 处），未生成任何报表"


def mask_value(value: Any) -> str:
    """A value fit for an artifact: raw ID numbers keep only their first 3 and last 2 characters."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return ""
    text = str(value)
    if _RAW_ID.match(text):
        return text[:3] + "*" * (len(text) - 5) + text[-2:]
    return text


#: Modules great_expectations imports at load time only for expectations the suites do not use
#: (``expect_column_kl_divergence_to_be_less_than``, the KS-test metrics): scipy.stats and
#: altair, about 35 % of GX's import. Deferred to their first use (:class:`_Deferred`).
DEFERRED: tuple[str, ...] = ("scipy.stats", "altair")
_LOADING = threading.RLock()


class _Deferred(types.ModuleType):
    """Stands in for a module in ``sys.modules`` until one of its attributes is used; then
    imports the module for real and answers from it (every later import gets the real one).

    Not :class:`importlib.util.LazyLoader`: the import system reads ``__spec__`` of a module
    found in ``sys.modules``, which makes a lazy module load at once on ``import altair``."""

    def __getattr__(self, attr: str) -> Any:
        return getattr(_load(self.__name__), attr)


def _load(name: str) -> types.ModuleType:
    with _LOADING:
        if isinstance(sys.modules.get(name), _Deferred):
            del sys.modules[name]
        parent, _, child = name.rpartition(".")
        if parent and isinstance(sys.modules[parent].__dict__.get(child), _Deferred):
            # the import system sets it again once the module is loaded; meanwhile the module's
            # own code (scipy.stats uses ``scipy.stats.x``) must not meet the stand-in
            delattr(sys.modules[parent], child)
        return importlib.import_module(name)


def _gx() -> Any:
    """great_expectations, imported with :data:`DEFERRED`'s modules put off."""
    if "great_expectations" not in sys.modules:
        with _LOADING:
            if "great_expectations" not in sys.modules:  # another thread may have loaded it meanwhile
                _load_gx()
    import great_expectations

    return great_expectations


def _load_gx() -> None:
    with _no_collections():
        for name in DEFERRED:
            if name in sys.modules:
                continue
            spec = importlib.util.find_spec(name)  # imports the parent package (scipy: cheap)
            if spec is None:
                continue
            stand_in = _Deferred(name)
            stand_in.__spec__ = spec
            sys.modules[name] = stand_in
            parent, _, child = name.rpartition(".")
            if parent:
                setattr(sys.modules[parent], child, stand_in)
        with faster_field_copies():  # pydantic v1's copies of its models' fields (fieldcopy.py)
            import great_expectations  # noqa: F401


@contextlib.contextmanager
def _no_collections() -> Iterator[None]:
    """No cyclic garbage collection while great-expectations loads, then one, then everything
    alive frozen out of later collections (``gc.freeze``): in a partition's worker too, whose
    steps collect after each slice (``regflows/credit/partitions.py``). The load makes some hundreds of thousands of
    objects that all live on (classes, their pydantic v1 fields, registries): every threshold
    crossed during it set the collector walking them again for nothing, and every collection of
    the oldest generation afterwards walked them all once more. Measured on a 1 M-row month from
    the command line (7 alternating runs each, medians): 6.4 s before, 6.0 s with the pause
    alone, 5.2 s with this.

    The collection before the freeze matters: without it the load's garbage (tracebacks of the
    imports it tried) was frozen too, and it held the calling function's frame, so its inputs,
    until the process ended (found in review; ``tests/regflows/credit/test_fieldcopy.py``). What a
    freeze still costs: an object alive at that moment (the caller's state, another thread's)
    that later becomes garbage only through a reference cycle is not reclaimed until the process
    ends; once per process, bounded by what was alive then. Collection resumes as it was."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
        gc.collect()
        gc.freeze()
    finally:
        if enabled:
            gc.enable()


@contextlib.contextmanager
def _no_fingerprint() -> Iterator[None]:
    """Skip GX's whole-frame md5 (HASH_THRESHOLD = 0) while validating; restore it afterwards."""
    from great_expectations.execution_engine import pandas_execution_engine as engine

    before = engine.HASH_THRESHOLD
    engine.HASH_THRESHOLD = 0
    try:
        yield
    finally:
        engine.HASH_THRESHOLD = before


def _expectations(kind: str, thresholds: Thresholds) -> list[Any]:
    """The suite of ``kind``: ``log`` (the whole file), ``log-partition`` (one partition of a
    big month: the uniqueness of ``query_id`` is the flag its own suite, ``query-id``, set over
    all rows of each id: :mod:`regflows.credit.partitions`), ``users``."""
    gx = _gx()

    E = gx.expectations
    if kind == "query-id":
        return [E.ExpectColumnValuesToBeUnique(column="query_id")]
    if kind in ("log", "log-partition"):
        unique = (E.ExpectColumnValuesToBeUnique(column="query_id") if kind == "log"
                  else E.ExpectColumnValuesToBeInSet(column="_duplicate_query_id", value_set=[False]))
        return [
            *[E.ExpectColumnValuesToNotBeNull(column=c) for c in LOG_REQUIRED_VALUES],
            unique,
            E.ExpectColumnValuesToBeInSet(column="subject_type", value_set=list(SUBJECT_TYPES)),
            E.ExpectColumnValuesToNotMatchRegex(column="subject_id", regex=RAW_ID_PATTERN),
            *[E.ExpectColumnValuesToBeInSet(column=c, value_set=[False])
              for c in ("_bad_queried_at", "_bad_authorized_at", "_bad_authorization_expires", "_after_period_end")],
            *[E.ExpectColumnValueLengthsToBeBetween(column=c, max_value=MAX_TEXT_LENGTH) for c in LOG_STRING_COLUMNS],
        ]
    return [
        E.ExpectColumnValuesToNotBeNull(column="user_id"),
        E.ExpectColumnValuesToBeUnique(column="user_id"),
        E.ExpectColumnValueLengthsToBeBetween(column="user_id", max_value=MAX_TEXT_LENGTH),
        E.ExpectColumnValuesToNotBeNull(column="status"),
        E.ExpectColumnValuesToBeInSet(column="status", value_set=list(USER_STATUSES)),
        E.ExpectColumnValuesToNotBeNull(column="formal_employee"),
        E.ExpectColumnValuesToBeInSet(column="formal_employee", value_set=["true", "false"]),
        E.ExpectColumnValuesToBeInSet(column="_bad_status_since", value_set=[False]),
    ]


def _validate(frame: pd.DataFrame, kind: str, thresholds: Thresholds) -> Any:
    gx = _gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    datasource = context.data_sources.add_pandas(f"credit-{kind}")
    batch_definition = datasource.add_dataframe_asset(name=kind).add_batch_definition_whole_dataframe("whole")
    # One suite per column, each validated on that column alone (same index, so the same row
    # labels): GX's map metrics filter their batch's whole frame (``df[df[col].notnull()]``) for
    # each metric, and on a 16-column frame of 10 M rows those copies were 8.6 of GX's 19.5 s
    # (cProfile, issue 18). Every expectation still checks every row of its column.
    expectations = _expectations(kind, thresholds)
    by_column: dict[str, list[int]] = {}
    for position, expectation in enumerate(expectations):
        by_column.setdefault(expectation.column, []).append(position)
    results: list[Any] = [None] * len(expectations)
    with _no_fingerprint():
        for n, (column, positions) in enumerate(by_column.items()):
            suite = gx.ExpectationSuite(name=f"credit-{kind}-{n}")
            for position in positions:
                suite.add_expectation(expectations[position])
            suite = context.suites.add(suite)
            batch = batch_definition.get_batch(batch_parameters={"dataframe": frame[[column]]})
            outcome = batch.validate(suite, result_format={"result_format": "COMPLETE"})
            for position, result in zip(positions, _in_order(outcome.results, [expectations[p] for p in positions])):
                results[position] = result
            _forget_metrics(datasource)
    _forget_context()
    return types.SimpleNamespace(results=results, success=all(r.success for r in results))


def _forget_metrics(datasource: Any) -> None:
    """Drop the metrics GX keeps of a validated column. Its execution engine caches every metric
    it computes (a length or a flag per row: 8 MB per million rows each) for the engine's life, to
    reuse them; each column is validated once here, so nothing is ever reused, and the cache held
    ~100 MB per million rows until the next validation (measured with tracemalloc, issue 18: the
    partitions' rules ran beside the suite's leftovers). Private (``_metric_cache``, as in GX
    1.x): ``tests/regflows/credit/test_inputs.py`` fails if an upgrade moves it."""
    cache = getattr(datasource.get_execution_engine(), "_metric_cache", None)
    if isinstance(cache, dict):
        cache.clear()


def _forget_context() -> None:
    """GX keeps the last context made (its ``project_manager``), and with it the batches of the
    last validation, until the next ``get_context``: let it go with the validation."""
    from great_expectations.data_context.data_context.context_factory import project_manager

    project_manager.set_project(None)


def _in_order(results: list[Any], expectations: list[Any]) -> list[Any]:
    """``results`` in the order of ``expectations`` (GX does not promise its results' order),
    matched by the id the suite gave each expectation."""
    by_id = {r.expectation_config.id: r for r in results}
    if len(by_id) != len(expectations) or any(e.id not in by_id for e in expectations):
        raise RuntimeError("great-expectations 的检查结果与检查项对不上")
    return [by_id[e.id] for e in expectations]


def _report(name: str, frame: pd.DataFrame, result: Any, line_base: int) -> QualityReport:
    problems: list[dict[str, Any]] = []
    for r in result.results:
        column = r.expectation_config.kwargs.get("column")
        info = r.exception_info or {}
        raised = info.get("raised_exception") if isinstance(info, dict) and "raised_exception" in info else any(
            v.get("raised_exception") for v in info.values() if isinstance(v, dict))
        if raised:
            problems.append({"行号": "", "字段": column, "问题": f"检查无法执行：{info}", "值": ""})
            continue
        if r.success:
            continue
        indices = r.result.get("unexpected_index_list") or []
        field_name, text = _FLAG_TEXT.get(column, (column, _CHECK_TEXT.get(r.expectation_config.type, r.expectation_config.type)))
        bad_flag = f"_bad_{column}"
        if r.expectation_config.type == "expect_column_values_to_not_be_null" and bad_flag in frame.columns:
            # a value that is present but unparseable is reported once, as unparseable
            indices = [i for i in indices if not frame.at[i, bad_flag]]
        raw_col = f"_raw_{field_name}"
        for idx in indices:
            if column in _FLAG_TEXT and raw_col in frame.columns and pd.notna(frame.at[idx, raw_col]):
                value = frame.at[idx, raw_col]
            else:
                value = frame.at[idx, field_name] if field_name in frame.columns else ""
            problems.append({"行号": int(idx) + line_base, "字段": field_name, "问题": text, "值": _clip(mask_value(value)),
                             "_index": idx})
    failures = pd.DataFrame(problems, columns=["行号", "字段", "问题", "值", "_index"])
    rows_idx = sorted({p["_index"] for p in problems if "_index" in p})
    visible = [c for c in frame.columns if not c.startswith("_")]
    # no failing row: an empty frame of the same columns built afresh (an empty slice of a
    # pyarrow-backed column shares, and keeps alive, the whole column's buffers: issue 18)
    failing = (frame.loc[rows_idx, visible].copy() if rows_idx
               else pd.DataFrame({c: pd.Series([], dtype=frame[c].dtype) for c in visible}))
    if "subject_id" in failing.columns:
        failing["subject_id"] = failing["subject_id"].map(mask_value)
    for col in [c for c in failing.columns if f"_raw_{c}" in frame.columns]:
        raw = frame.loc[rows_idx, f"_raw_{col}"]
        failing[col] = [r if pd.notna(r) else ("" if pd.isna(v) else str(v)) for r, v in zip(raw, failing[col])]
    for col in failing.columns:
        if failing[col].dtype == object or pd.api.types.is_string_dtype(failing[col].dtype):
            failing[col] = failing[col].map(_clip)
    failing.insert(0, "行号", [int(i) + line_base for i in rows_idx])
    return QualityReport(name, success=all(r.success for r in result.results) and not problems, checks=len(result.results),
                         failures=failures.drop(columns="_index").sort_values(["行号", "字段"], kind="stable"),
                         failing_rows=failing)


def check_log(frame: pd.DataFrame, period: Span, thresholds: Thresholds, line_base: int = 2, *,
              duplicates: np.ndarray | None = None) -> QualityReport:
    """The query-log suite (issue 7, check 1): required values, unique ids, value sets, parseable
    dates, no query after the period's end, no raw 18-digit ID numbers in ``subject_id``.

    ``duplicates``: ``frame`` is one partition of a big month and these are the rows (sorted
    positions in the whole file) whose ``query_id`` :func:`duplicate_rows` found repeated across
    the month; the partition's suite reports those of its rows, with the rest of their row.

    An unlisted 查询原因 code is not checked here: it is a finding (rule ``reason_not_agreed``,
    PBOC-102 附件3 9.1, :mod:`regflows.credit.rules`), not bad data, and must not stop the table."""
    frame["_after_period_end"] = (frame["queried_at"] >= period.end).fillna(False).astype(bool)
    kind = "log"
    if duplicates is not None:
        kind = "log-partition"
        frame["_duplicate_query_id"] = rows_among(frame.index, duplicates)
    try:
        return _report("查询日志", frame, _validate(frame, kind, thresholds), line_base)
    finally:
        del frame["_after_period_end"]
        if duplicates is not None:
            del frame["_duplicate_query_id"]


def duplicate_rows(query_ids: pd.Series, thresholds: Thresholds) -> np.ndarray:
    """The rows (``query_ids``' index, sorted) whose id is repeated, by great-expectations'
    uniqueness expectation on ``query_ids`` (every row of each id it holds: one query-id partition
    of a big month, :mod:`regflows.credit.partitions`)."""
    result = _validate(pd.DataFrame({"query_id": query_ids}), "query-id", thresholds)
    (outcome,) = result.results
    info = outcome.exception_info or {}
    if any(isinstance(v, dict) and v.get("raised_exception") for v in [info, *info.values()]):
        raise RuntimeError(f"great-expectations 的编号唯一性检查无法执行：{info}")
    return np.sort(np.asarray(outcome.result.get("unexpected_index_list") or [], dtype=np.int64))


def check_users(frame: pd.DataFrame, thresholds: Thresholds, line_base: int = 2) -> QualityReport:
    """The users suite: unique user ids, status in active/locked/suspended, formal_employee a
    yes/no value, status_since a date."""
    return _report("用户清单", frame, _validate(frame, "users", thresholds), line_base)
