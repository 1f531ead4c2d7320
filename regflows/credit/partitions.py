"""A big month in partitions: every check and every rule exact, memory bounded by a partition.

A national bank's month (100 million queries) does not fit one pandas frame on a 24 GB machine
with room to spare, and the rules cannot simply run on slices of the file: three of them need
rows that lie anywhere in the month (issue 18, goal 3):

- the daily volume (PBOC-102 二（四）): all of one user's queries of a day;
- the repeated subject (PBOC-102 二（四）): all of one institution's queries of one subject within
  30 days, history rows before the period included;
- the uniqueness of ``query_id`` (the data-quality suite): every row of one id.

So the month is partitioned twice. **Slices** are runs of consecutive Parquet row groups (at
most :data:`SLICE_ROWS` rows each, unless one row group alone is bigger): each slice is
read once to *scan* its keys, and once more to be *checked* (the great-expectations suite on
every row) and *counted* (the rules on every row). **Buckets** are made by the scan: each key
column's values go to the bucket their hash names, so every row of one user, one subject or one
id lands in the same bucket, and each bucket is small. A bucket of users answers the daily
volume, a bucket of subjects the 30-day rule (:mod:`regflows.credit.rules`, the same functions
the whole-file run calls), a bucket of ids the uniqueness expectation (great-expectations' own,
:func:`regflows.credit.quality.duplicate_rows`); their answers (the rows they flag, sorted
positions in the file) go to the slices' checking and counting, which report them as the
whole-file run would. The merged report and rule result are identical to the whole-file run's
(``tests/regflows/credit/test_partitions.py``; the benchmark's differential check at 10 and 100
million rows).

Each step is a pure function of its partition, picklable, with no state but the spill folder:
:func:`run` maps them with any ``mapper`` (one after the other by default; a pool of spawned
processes from the command line, :func:`process_mapper`; Prefect's Dask task runner in the flow,
``tasks/credit_partitions.py``). The spill folder is the run's own (mode 0700: it holds the
month's ids, and each slice's flagged queries until the last slice: :func:`_spill_flagged`) and
removed when the run ends, whatever its outcome; a killed run's is removed by the next run
(:func:`_sweep`). Each step gives its freed memory back to the system as it ends (:func:`_release`):
the run's memory is the sum of the workers' processes, each about one partition.
"""

from __future__ import annotations

import dataclasses
import gc
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq

from regflows.credit.io import ARROW_STRINGS, read_log
from regflows.credit.models import Span, Thresholds
from regflows.credit.quality import QualityReport, check_log, duplicate_rows
from regflows.credit.rules import (
    RuleResult,
    _local_ms,
    apply_rules,
    daily_volume_rule,
    repeat_subject_rule,
    unknown_users_warning,
)

_MS_PER_DAY = 86_400_000
_NAT = np.iinfo(np.int64).min
#: The key columns the scan reads, and what each bucket kind keeps of a row.
_KEYS = ("query_id", "user_id", "institution", "subject_id")
_KINDS = ("subject", "user", "query")
#: The spill folder's folders: the buckets' and the slices' flagged queries.
_FOLDERS = (*_KINDS, "flagged")

T = TypeVar("T")
R = TypeVar("R")
#: Runs ``step`` on each item and returns the results in the items' order.
Mapper = Callable[[Callable[[T], R], Sequence[T]], list[R]]
#: Hears (what is being done, partitions done, partitions in all).
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Slice:
    """Consecutive row groups of the file, and where their rows start in it."""

    number: int
    row_groups: tuple[int, ...]
    first_row: int
    rows: int

    def holds(self, rows: np.ndarray) -> np.ndarray:
        """Those of the sorted file positions ``rows`` that fall in this slice."""
        lo, hi = np.searchsorted(rows, [self.first_row, self.first_row + self.rows])
        return rows[lo:hi]


@dataclass(frozen=True)
class Plan:
    """How one month's file is partitioned: its slices, the number of buckets, the spill folder."""

    path: Path
    slices: tuple[Slice, ...]
    buckets: int
    rows: int
    spill: Path  # the folder a run makes its own spill folder in (run: a folder of its own inside)
    time_format: str | None = None

    def bucket_files(self, kind: str, bucket: int) -> list[Path]:
        return [p for s in self.slices if (p := self.spill / kind / f"{bucket:05d}-{s.number:05d}.arrow").exists()]


@dataclass
class MonthResult:
    """What the partitioned run found: the log's report, and the rules' result when counted."""

    report: QualityReport
    rules: RuleResult | None = None
    #: An error of the bucket step held back until the quality suite had spoken (the whole-file
    #: run checks before it counts: a failing check is what the operator must see first).
    error: BaseException | None = None


#: The rows of a slice, at most (unless one row group alone is more): pyarrow's and pandas' own
#: row group, and a slice a worker process holds in well under a gigabyte (issue 18).
SLICE_ROWS = 1_048_576


def plan(path: Path, partition_rows: int, time_format: str | None = None, spill_dir: Path | None = None) -> Plan | None:
    """The partitioning of ``path``, or None when the whole file is read at once: not Parquet
    (CSV and Excel months are read whole), or no more than ``partition_rows`` rows. Slices hold
    at most :data:`SLICE_ROWS` rows, and at most ``partition_rows``."""
    if path.suffix.lower() not in {".parquet", ".pq"} or partition_rows <= 0:
        return None
    try:
        meta = pq.read_metadata(path)
    except Exception:  # noqa: BLE001 - the whole-file reader names the damaged file in its own words
        return None
    if meta.num_rows <= partition_rows:
        return None
    from regflows.credit.models import LOG_COLUMNS

    if not set(LOG_COLUMNS) <= set(meta.schema.names):  # the whole-file reader names what is missing
        return None
    slices: list[Slice] = []
    groups: list[int] = []
    first = rows = 0
    most = min(partition_rows, SLICE_ROWS)
    for g in range(meta.num_row_groups):
        n = meta.row_group(g).num_rows
        if groups and rows + n > most:
            slices.append(Slice(len(slices), tuple(groups), first, rows))
            first, groups, rows = first + rows, [], 0
        groups.append(g)
        rows += n
    if groups:
        slices.append(Slice(len(slices), tuple(groups), first, rows))
    return Plan(path=path, slices=tuple(slices), buckets=len(slices), rows=meta.num_rows,
                spill=spill_dir or Path(tempfile.gettempdir()), time_format=time_format)


def bucket_of(values: pd.Series, buckets: int) -> np.ndarray:
    """The bucket of each string: equal strings, equal buckets (missing values in bucket 0)."""
    return (string_hash(values) % np.uint64(buckets)).astype(np.int64)


def string_hash(values: pd.Series) -> np.ndarray:
    """A 64-bit hash of each string: equal strings, equal hashes (of the length and the last eight
    bytes, mixed; missing values 0). Vectorised over pyarrow's buffers: no Python object per
    value, so a scan of 100 million ids costs seconds, not minutes. Different strings may share a
    hash: it narrows, it never decides (a bucket, or the candidates of the 30-day rule)."""
    data = getattr(values.array, "_pa_array", None)
    arr = (data.combine_chunks() if data is not None else pa.array(values.astype("str").to_numpy(), type=pa.large_string()))
    if not pa.types.is_large_string(arr.type):
        arr = arr.cast(pa.large_string())
    if len(arr) == 0:
        return np.zeros(0, dtype=np.uint64)
    _, offsets_buf, data_buf = arr.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=np.int64)[arr.offset:arr.offset + len(arr) + 1]
    raw = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None and data_buf.size else np.zeros(1, np.uint8)
    ends = offsets[1:]
    lengths = ends - offsets[:-1]
    h = lengths.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    with np.errstate(over="ignore"):
        for k in range(1, 9):
            byte = np.where(lengths >= k, np.take(raw, ends - k, mode="clip"), 0).astype(np.uint64)
            h = (h ^ byte) * np.uint64(0x100000001B3)
        h ^= h >> np.uint64(31)
        h *= np.uint64(0xBF58476D1CE4E5B9)
        h ^= h >> np.uint64(29)
    h[values.isna().to_numpy()] = 0
    return h


def _spill(plan: Plan, kind: str, number: int, bucket: np.ndarray, columns: dict[str, Any]) -> None:
    """Write this slice's rows of each bucket into ``spill/kind/<bucket>-<slice>.arrow``."""
    folder = plan.spill / kind  # made by run(): a step outliving its run finds no folder and stops (never remakes it)
    order = np.argsort(bucket, kind="stable")  # stable: each bucket's rows stay in file order
    bounds = np.searchsorted(bucket[order], np.arange(plan.buckets + 1))
    table = pa.table(columns)
    for b in range(plan.buckets):
        if bounds[b] == bounds[b + 1]:
            continue
        part = table.take(pa.array(order[bounds[b]:bounds[b + 1]]))
        feather.write_feather(part, folder / f"{b:05d}-{number:05d}.arrow", compression="uncompressed")


def scan(plan: Plan, piece: Slice) -> int:
    """Step 1, one slice: its keys into the buckets (subjects, users, ids). Returns its rows."""
    log = read_log(plan.path, plan.time_format, row_groups=list(piece.row_groups), first_row=piece.first_row,
                   only=_KEYS).frame
    rows = np.asarray(log.index, dtype=np.int64)
    local = _local_ms(log["queried_at"]) if len(log) else np.zeros(0, dtype=np.int64)
    timed = local != _NAT  # a row without a time fails the suite; no rule can place it
    sub = log[timed]
    subject_hash = string_hash(sub["subject_id"])
    _spill(plan, "subject", piece.number, (subject_hash % np.uint64(plan.buckets)).astype(np.int64),
           {"institution": sub["institution"].array, "subject_id": sub["subject_id"].array,
            "local_ms": local[timed], "row": rows[timed], "hash": subject_hash})
    _spill(plan, "user", piece.number, bucket_of(sub["user_id"], plan.buckets),
           {"user_id": sub["user_id"].array, "local_ms": local[timed], "row": rows[timed]})
    _spill(plan, "query", piece.number, bucket_of(log["query_id"], plan.buckets),
           {"query_id": log["query_id"].array, "row": rows})
    n = len(log)
    del log, sub
    _release(collect=False)
    return n


def _bucket(plan: Plan, kind: str, bucket: int) -> pd.DataFrame:
    files = plan.bucket_files(kind, bucket)
    if not files:
        return pd.DataFrame()
    table = pa.concat_tables([feather.read_table(f) for f in files])  # slice order: file order
    return table.to_pandas(types_mapper=ARROW_STRINGS.get)


@dataclass(frozen=True)
class BucketJob:
    kind: str
    bucket: int


def solve_bucket(plan: Plan, job: BucketJob, period: Span, thresholds: Thresholds) -> np.ndarray:
    """Step 2, one bucket: the sorted file positions its rule (or the uniqueness check) flags."""
    try:
        return _solve(plan, job, period, thresholds)
    finally:
        _release(collect=job.kind == "query")  # only the ids' bucket runs great-expectations (its cycles)


def _solve(plan: Plan, job: BucketJob, period: Span, thresholds: Thresholds) -> np.ndarray:
    frame = _bucket(plan, job.kind, job.bucket)
    if frame.empty:
        return np.zeros(0, dtype=np.int64)
    rows = frame["row"].to_numpy(dtype=np.int64)
    if job.kind == "query":
        return duplicate_rows(frame["query_id"].set_axis(pd.Index(rows)), thresholds)
    local = frame["local_ms"].to_numpy(dtype=np.int64)
    if job.kind == "subject":  # all rows, history included (as rules.apply_rules)
        # Only a subject queried more than the limit in the whole log can reach it; a subject's
        # rows share its hash, so the rows whose hash occurs more often are every such subject's
        # rows (and a few others'): the strings are compared on those alone.
        _, inverse, sizes = np.unique(frame["hash"].to_numpy(dtype=np.uint64), return_inverse=True, return_counts=True)
        candidates = np.flatnonzero(sizes[inverse] > thresholds.repeat_limit)
        if len(candidates) == 0:
            return np.zeros(0, dtype=np.int64)
        inst, _ = pd.factorize(frame["institution"].iloc[candidates])
        subj, names = pd.factorize(frame["subject_id"].iloc[candidates])
        known = (inst >= 0) & (subj >= 0)  # a missing one fails the suite: no count is kept then
        candidates, inst, subj = candidates[known], inst[known], subj[known]
        group = inst.astype(np.int64) * max(len(names), 1) + subj
        hit = repeat_subject_rule(group, local[candidates], thresholds.repeat_limit, thresholds.repeat_window_days)
        return np.sort(rows[candidates][hit])
    # users: the period's rows only (as rules.apply_rules)
    start = int(np.datetime64(period.first_day, "ms").astype("int64"))
    end = int(np.datetime64(period.next_first_day, "ms").astype("int64"))
    keep = (local >= start) & (local < end)
    local, rows = local[keep], rows[keep]
    user, _ = pd.factorize(frame["user_id"][keep])
    known = user >= 0  # a missing user fails the suite: no count is kept then
    user, local, rows = user[known], local[known], rows[known]
    day = local - np.mod(local, _MS_PER_DAY)
    hit = daily_volume_rule(user, day, local, thresholds.daily_limit)
    return np.sort(rows[hit])


@dataclass
class SliceOutcome:
    report: QualityReport
    rules: RuleResult | None


def check_slice(plan: Plan, piece: Slice, period: Span, thresholds: Thresholds, users: pd.DataFrame | None,
                line_base: int, duplicates: np.ndarray, hits: dict[str, np.ndarray] | None) -> SliceOutcome:
    """Step 3, one slice: the suite on every row (the ids the buckets found repeated among them);
    with ``hits`` (the daily-volume and 30-day rows of this slice) the rules too."""
    table = read_log(plan.path, plan.time_format, row_groups=list(piece.row_groups), first_row=piece.first_row)
    report = check_log(table.frame, period, thresholds, line_base, duplicates=duplicates)
    _release()  # the suite's leftovers, before the rules need memory of their own
    result = None
    if hits is not None and report.success:
        result = apply_rules(table.frame, period, thresholds, users, repeat_hits=hits["subject"], daily_hits=hits["user"])
        del table
        result = dataclasses.replace(result, flagged=_spill_flagged(plan, piece, result.flagged))
    else:
        del table
    _release(collect=False)
    return SliceOutcome(report, result)


def _spill_flagged(plan: Plan, piece: Slice, flagged: pd.DataFrame) -> pd.DataFrame:
    """Write the slice's flagged queries to ``spill/flagged/<slice>.arrow``; return an empty frame
    of the same columns and types in their place. Why: the parent gathers them after the last
    slice (:func:`_gathered`) instead of holding each slice's as it comes while the workers hold
    theirs (a million-row slice of the demo flags half its rows: ~110 MB in the parent, twice that
    while unpickled; issue 18, goal 1's 1.5 GB)."""
    empty = _empty_like(flagged)
    if len(flagged):
        table = pa.Table.from_pandas(flagged, preserve_index=False)
        feather.write_feather(table, plan.spill / "flagged" / f"{piece.number:05d}.arrow", compression="uncompressed")
    return empty


def _empty_like(frame: pd.DataFrame) -> pd.DataFrame:
    """No rows, the same columns and types, built afresh: an empty slice of a pyarrow-backed column
    keeps the whole column's buffers alive (as in :func:`regflows.credit.quality._report`)."""
    return pd.DataFrame({c: pd.Series([], dtype=frame[c].dtype) for c in frame.columns})


def _gathered(plan: Plan, results: Sequence[RuleResult]) -> list[RuleResult]:
    """``results`` with each slice's flagged queries read back from the spill folder, in their
    slice's types (:func:`_spill_flagged`)."""
    out = []
    for piece, result in zip(plan.slices, results):
        path = plan.spill / "flagged" / f"{piece.number:05d}.arrow"
        if not path.exists():
            out.append(result)
            continue
        back = feather.read_table(path).to_pandas(types_mapper=ARROW_STRINGS.get)
        for col in back.columns:
            if back[col].dtype != result.flagged[col].dtype:
                back[col] = back[col].astype(result.flagged[col].dtype)
        out.append(dataclasses.replace(result, flagged=back[list(result.flagged.columns)]))
    return out


def _release(collect: bool = True) -> None:
    """Free a step's memory now, back to the system. ``collect``: great-expectations' context,
    data sources and batches hold the validated columns in reference cycles, freed only by the
    cycle collector, which seldom runs when few Python objects are made (cheap: the imports were
    frozen out of the collections when great-expectations loaded, ``regflows/credit/quality.py``
    ``_no_collections``). Then pyarrow's allocator and the C library's give their free
    pages back: otherwise a worker process keeps the high-water mark of every step it ran
    (~250 MB of free pages a million-row slice, measured: issue 18) while the other works on."""
    if collect:
        gc.collect()
    pa.default_memory_pool().release_unused()
    _trim()


def _trim() -> None:
    """glibc's ``malloc_trim(0)``: numpy's and pandas' freed memory back to the system (a no-op
    elsewhere)."""
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL(None).malloc_trim(0)
        except (AttributeError, OSError):  # not glibc (musl): nothing to trim
            pass


def serial(step: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """The default mapper: one item after the other, in this process."""
    return [step(item) for item in items]


class ProcessMapper:
    """A mapper over a pool of ``workers`` processes (the command line's; the flow runs the same
    steps over Prefect's Dask task runner): each process holds one partition at a time, so the
    run's memory is about ``workers`` partitions. Processes are spawned, not forked: the parent
    runs threads (the progress bar, Prefect's), and a forked child would inherit their locks."""

    def __init__(self, pool: ProcessPoolExecutor) -> None:
        self.pool = pool

    def __call__(self, step: Callable[[T], R], items: Sequence[T]) -> list[R]:
        return [result for _, result in sorted(self.each(step, items), key=lambda pair: pair[0])]

    def each(self, step: Callable[[T], R], items: Sequence[T]) -> Iterator[tuple[int, R]]:
        """(position, result) of each item as it finishes."""
        futures = {self.pool.submit(step, item): n for n, item in enumerate(items)}
        try:
            for future in as_completed(futures):
                yield futures[future], future.result()
        finally:
            for future in futures:
                future.cancel()
            # the steps already running finish before the caller goes on (and removes the
            # spill folder they write into)
            wait(futures)


@contextmanager
def process_mapper(workers: int) -> Iterator[Mapper]:
    """:class:`ProcessMapper` over ``workers`` processes for the ``with`` block; one worker:
    :func:`serial`, in this process."""
    if workers <= 1:
        yield serial
        return
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                             initializer=_worker_started) as pool:
        yield ProcessMapper(pool)


def _worker_started() -> None:
    """A worker process ends with its parent, even one killed with SIGKILL (Linux's parent-death
    signal), and leaves Ctrl-C to it: the parent stops the pool and removes the spill folder; a
    worker interrupted on its own would print its traceback over the parent's message."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() == 1:  # the parent died before the signal was asked for
            os._exit(1)


def _mapped(mapper: Mapper, step: Callable[[T], R], items: Sequence[T], label: str,
            progress: Progress | None, done: list[int], total: int) -> list[R]:
    """``mapper(step, items)``, telling ``progress`` as each item finishes where it can (one at a
    time in the default mapper; all at once after a mapper of its own, e.g. Dask)."""
    def tracked(item: T) -> R:
        result = step(item)
        done[0] += 1
        if progress is not None:
            progress(label, done[0], total)
        return result

    if mapper is serial:
        return serial(tracked, items)
    if isinstance(mapper, ProcessMapper):
        ordered: dict[int, R] = {}
        for position, result in mapper.each(step, items):
            ordered[position] = result
            done[0] += 1
            if progress is not None:
                progress(label, done[0], total)
        return [ordered[n] for n in range(len(items))]
    results = mapper(step, items)
    done[0] += len(items)
    if progress is not None:
        progress(label, done[0], total)
    return results


def merge_reports(reports: Iterable[QualityReport]) -> QualityReport:
    """The slices' reports as one report of the whole log (rows are positions in the file)."""
    reports = list(reports)
    failures = [r.failures for r in reports if not r.failures.empty]
    rows = [r.failing_rows for r in reports if not r.failing_rows.empty]
    first = reports[0]
    _same_types(rows)
    return QualityReport(
        first.input_name, success=all(r.success for r in reports), checks=first.checks,
        failures=(pd.concat(failures, ignore_index=True).sort_values(["行号", "字段"], kind="stable")
                  if failures else first.failures),
        failing_rows=pd.concat(rows, ignore_index=True) if rows else first.failing_rows)


def _same_types(frames: list[pd.DataFrame]) -> None:
    """A column that a slice shows as text (its unreadable values kept as they were written) and
    another as typed values becomes text in all, as the whole-file report writes it
    (:func:`regflows.credit.quality._report`: each other value as ``str``, a missing one empty)."""
    for col in frames[0].columns if frames else []:
        kinds = {str(f[col].dtype) for f in frames}
        if len(kinds) < 2:
            continue
        for f in frames:
            if not (f[col].dtype == object or pd.api.types.is_string_dtype(f[col].dtype)):
                f[col] = ["" if pd.isna(v) else str(v) for v in f[col]]


def merge_results(results: Sequence[RuleResult]) -> RuleResult:
    """The slices' rule results as the whole file's: flagged rows in file order, counts summed,
    each institution's region from its first query of the period."""
    frames = [r.flagged for r in results if len(r.flagged)]
    flagged = pd.concat(frames, ignore_index=True) if frames else results[0].flagged
    counts: dict[str, dict[str, int]] = {}
    regions: dict[str, str] = {}
    unknown: set[str] = set()
    for r in results:
        for inst, by_kind in r.counts.items():
            mine = counts.setdefault(inst, {})
            for kind, n in by_kind.items():
                mine[kind] = mine.get(kind, 0) + n
        for inst, region in r.regions.items():
            regions.setdefault(inst, region)
        unknown |= set(r.unknown_users)
    names = sorted(unknown)
    return RuleResult(flagged=flagged, counts=counts, period_rows=sum(r.period_rows for r in results),
                      warnings=unknown_users_warning(names), regions=dict(sorted(regions.items())), unknown_users=names)


@dataclass
class _Steps:
    """The three steps with the run's fixed arguments bound (picklable, unlike a closure)."""

    plan: Plan
    period: Span
    thresholds: Thresholds
    users: pd.DataFrame | None
    line_base: int
    duplicates: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    hits: dict[str, np.ndarray] | None = None

    def scan(self, piece: Slice) -> int:
        return scan(self.plan, piece)

    def solve(self, job: BucketJob) -> np.ndarray:
        return solve_bucket(self.plan, job, self.period, self.thresholds)

    def check(self, piece: Slice) -> SliceOutcome:
        hits = None if self.hits is None else {k: piece.holds(v) for k, v in self.hits.items()}
        return check_slice(self.plan, piece, self.period, self.thresholds, self.users, self.line_base,
                           piece.holds(self.duplicates), hits)


#: A run's spill folder is named for its process: ``regflows-credit-partitions-<pid>-<random>``.
_SPILL_PREFIX = "regflows-credit-partitions-"


def _sweep(folder: Path) -> None:
    """Remove the spill folders of runs whose process is gone (killed: no ``finally`` ran); they
    hold the keys of a month's queries (user, subject, query ids)."""
    for old in folder.glob(f"{_SPILL_PREFIX}*"):
        pid = old.name.removeprefix(_SPILL_PREFIX).split("-", 1)[0]
        if not pid.isdigit() or not old.is_dir() or old.stat().st_uid != os.getuid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(old, ignore_errors=True)
        except PermissionError:
            continue


def _joined(parts: Sequence[np.ndarray]) -> np.ndarray:
    return np.sort(np.concatenate(parts)) if len(parts) else np.zeros(0, dtype=np.int64)


def run(plan: Plan, period: Span, thresholds: Thresholds, users: pd.DataFrame | None = None, *, count: bool = True,
        mapper: Mapper | None = None, progress: Progress | None = None, line_base: int = 1) -> MonthResult:
    """Scan, solve the buckets, check and count the slices; the spill folder is removed at the end.

    ``count``: False when another input already failed its suite (the log is still checked, so
    that the operator sees every failing row at once, as in the whole-file run)."""
    mapper = mapper or serial
    _sweep(plan.spill)
    plan = dataclasses.replace(plan, spill=Path(tempfile.mkdtemp(prefix=f"{_SPILL_PREFIX}{os.getpid()}-", dir=plan.spill)))
    for kind in _FOLDERS:
        (plan.spill / kind).mkdir()
    steps = _Steps(plan, period, thresholds, users, line_base)
    total = 2 * len(plan.slices) + (len(_KINDS) if count else 1) * plan.buckets
    done = [0]
    try:
        _mapped(mapper, steps.scan, plan.slices, "分区扫描", progress, done, total)
        ids = [BucketJob("query", b) for b in range(plan.buckets)]
        steps.duplicates = _joined(_mapped(mapper, steps.solve, ids, "分桶计算", progress, done, total))
        error: BaseException | None = None
        if count:
            jobs = [BucketJob(kind, b) for kind in ("subject", "user") for b in range(plan.buckets)]
            try:
                solved = _mapped(mapper, steps.solve, jobs, "分桶计算", progress, done, total)
                steps.hits = {kind: _joined([r for j, r in zip(jobs, solved) if j.kind == kind]) for kind in ("subject", "user")}
            except (OverflowError, ValueError) as exc:  # held back: the suite speaks first (raised after it, if it passes)
                error = exc
        outcomes = _mapped(mapper, steps.check, plan.slices, "质量检查与规则", progress, done, total)
        report = merge_reports(o.report for o in outcomes)
        results = [o.rules for o in outcomes]
        if not report.success or steps.hits is None or any(r is None for r in results):
            return MonthResult(report, None, error)
        return MonthResult(report, merge_results(_gathered(plan, [r for r in results if r is not None])))
    finally:
        shutil.rmtree(plan.spill, ignore_errors=True)


__all__ = ["BucketJob", "MonthResult", "Plan", "ProcessMapper", "Slice", "SliceOutcome", "bucket_of", "process_mapper", "string_hash", "check_slice", "merge_reports",
           "merge_results", "plan", "run", "scan", "serial", "solve_bucket"]
