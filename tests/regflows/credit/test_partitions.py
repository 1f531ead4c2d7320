"""A big month in partitions (issue 18, goal 3; regflows/credit/partitions.py): the same failing
rows, counts and flagged queries as the whole-file run and as the DuckDB baseline, with each
rule's rows spread over several partitions."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from regflows.credit import partitions
from regflows.credit.demo import generate
from regflows.credit.models import RULES, Period

ROOT = Path(__file__).resolve().parents[3]
SEP = Period(2025, 9)


def _write(frame: pd.DataFrame, path: Path, group_rows: int) -> Path:
    """Parquet in row groups of ``group_rows``: each rule's rows land in several partitions."""
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=group_rows)
    return path


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory, edge_cases: pd.DataFrame) -> tuple[Path, Path]:
    """40,000 demo rows with the edge cases shuffled in, in row groups of 3,000 rows."""
    frame = generate(40_000, 7, SEP).frame
    edges = edge_cases.copy()
    edges["query_id"] = "X" + edges["query_id"]
    log = pd.concat([frame, edges.astype({c: frame[c].dtype for c in frame.columns if c in edges.columns})], ignore_index=True)
    log = log.sample(frac=1.0, random_state=3).reset_index(drop=True)  # a user's day and a subject's 30 days cross partitions
    folder = tmp_path_factory.mktemp("partitions")
    users = pd.DataFrame({"user_id": ["E-clean", "E-v250", "E-v251", "E-locked", "E-suspended", "E-temp"],
                          "status": ["active", "active", "active", "locked", "suspended", "active"],
                          "formal_employee": ["是", "true", "yes", "true", "true", "false"],
                          "status_since": ["", "", "", "2025-09-20", "", ""]})
    users_path = folder / "users.csv"
    users.to_csv(users_path, index=False)
    return _write(log, folder / "log.parquet", 3_000), users_path


def test_the_month_in_partitions_flags_what_the_whole_file_and_the_baseline_flag(
        baseline: ModuleType, month: tuple[Path, Path]) -> None:
    log, users = month
    plan = partitions.plan(log, 10_000)
    assert plan is not None and len(plan.slices) >= 4 and max(s.rows for s in plan.slices) <= 10_000
    whole = baseline.regflows_result(log, SEP.label, users)
    parted = baseline.regflows_result(log, SEP.label, users, partition_rows=10_000)
    duck = baseline.run(log, SEP.label, users)
    assert whole.failures.empty and parted.failures.empty
    assert baseline.differences(duck, parted) == []
    pd.testing.assert_frame_equal(whole.flagged.reset_index(drop=True), parted.flagged.reset_index(drop=True))
    assert whole.counts == parted.counts
    assert set(parted.flagged["rule"]) == set(RULES)  # every rule, its rows spread over the partitions
    rules = dict(zip(parted.flagged["query_id"], parted.flagged["rules"]))
    # ties broken by file order, shuffled here: exactly one of the 251 at 11:00:00 is the excess
    assert sum(q.startswith("Xe-v251-") for q in rules) == 1 and not any(q.startswith("Xe-v250-") for q in rules)
    assert "Xe-r29-3" in rules and "Xe-r30-3" not in rules


def test_failing_rows_are_named_by_their_line_in_the_whole_file(baseline: ModuleType, tmp_path: Path) -> None:
    frame = generate(9_000, 2, SEP).frame
    frame.loc[3, "user_id"] = None
    frame.loc[8_500, "query_id"] = frame.loc[5, "query_id"]  # a repeated id in two partitions
    frame.loc[7_000, "subject_type"] = "robot"
    frame.loc[4_100, "subject_id"] = "11010519491231002X"
    frame.loc[6_001, "queried_at"] = pd.Timestamp("2025-10-01 00:00:00")
    log = _write(frame, tmp_path / "bad.parquet", 1_000)
    parted = baseline.regflows_result(log, SEP.label, partition_rows=2_000)
    whole = baseline.regflows_result(log, SEP.label)
    duck = baseline.run(log, SEP.label)
    assert parted.flagged is None and len(parted.failures) >= 6
    assert baseline.differences(duck, parted) == []
    assert sorted(map(tuple, parted.failures.to_numpy().tolist())) == sorted(map(tuple, whole.failures.to_numpy().tolist()))
    assert {(6, "query_id"), (8_501, "query_id")} <= {(int(r), f) for r, f in zip(parted.failures["row"], parted.failures["field"])}


def test_the_spill_folder_is_removed_whatever_the_outcome(month: tuple[Path, Path], tmp_path: Path) -> None:
    from regflows.credit.settings import thresholds
    from regflows.profile import load_profile

    plan = partitions.plan(month[0], 10_000, spill_dir=tmp_path)
    assert plan is not None
    th = thresholds(load_profile(ROOT / "profiles" / "demo.yaml").settings)
    seen: list[tuple[str, int, int]] = []
    result = partitions.run(plan, SEP, th, progress=lambda label, done, total: seen.append((label, done, total)))
    assert result.report.success and result.rules is not None
    assert list(tmp_path.iterdir()) == []
    assert seen[-1][1] == seen[-1][2] == 2 * len(plan.slices) + 3 * plan.buckets  # the bar reaches its end

    def boom(step, items):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        partitions.run(plan, SEP, th, mapper=boom)
    assert list(tmp_path.iterdir()) == []


def test_the_slices_flagged_queries_wait_in_the_spill_folder_not_in_the_parent(month: tuple[Path, Path]) -> None:
    """Issue 18, goal 1: a slice's flagged queries are written to the spill folder and read back
    after the last slice; the parent, which gets each slice's outcome as it ends, holds none of
    them while the workers hold their slices."""
    from regflows.credit.settings import thresholds
    from regflows.profile import load_profile

    th = thresholds(load_profile(ROOT / "profiles" / "demo.yaml").settings)
    plan = partitions.plan(month[0], 10_000)
    assert plan is not None
    sent: list[int] = []

    def mapper(step, items):  # type: ignore[no-untyped-def]
        results = partitions.serial(step, items)
        sent.extend(len(r.rules.flagged) for r in results if isinstance(r, partitions.SliceOutcome) and r.rules is not None)
        return results

    result = partitions.run(plan, SEP, th, mapper=mapper)
    assert len(sent) == len(plan.slices) and set(sent) == {0}
    assert result.rules is not None and len(result.rules.flagged) > 0
    assert result.rules.flagged["row"].is_monotonic_increasing


def test_equal_strings_share_a_bucket_and_buckets_spread() -> None:
    values = pd.Series([f"S{i:09d}" for i in range(20_000)] * 2 + [None, ""], dtype="str")
    buckets = partitions.bucket_of(values, 16)
    assert (buckets[:20_000] == buckets[20_000:40_000]).all()
    counts = np.bincount(buckets[:20_000], minlength=16)
    assert counts.min() > 20_000 / 16 / 2  # no bucket starved


def test_two_processes_find_what_one_finds_and_the_bar_hears_each_partition(month: tuple[Path, Path]) -> None:
    from regflows.credit.io import read_users
    from regflows.credit.settings import thresholds
    from regflows.profile import load_profile

    th = thresholds(load_profile(ROOT / "profiles" / "demo.yaml").settings)
    users = read_users(month[1]).frame
    plan = partitions.plan(month[0], 10_000)
    assert plan is not None
    one = partitions.run(plan, SEP, th, users)
    heard: list[int] = []
    with partitions.process_mapper(2) as mapper:
        assert isinstance(mapper, partitions.ProcessMapper)
        two = partitions.run(plan, SEP, th, users, mapper=mapper, progress=lambda _label, done, _total: heard.append(done))
    assert one.rules is not None and two.rules is not None
    pd.testing.assert_frame_equal(one.rules.flagged, two.rules.flagged)
    assert (one.rules.counts, one.rules.regions, one.rules.warnings) == (two.rules.counts, two.rules.regions, two.rules.warnings)
    assert heard == list(range(1, 2 * len(plan.slices) + 3 * plan.buckets + 1))  # one tick a partition step


def test_subjects_sharing_a_hash_are_still_told_apart(baseline: ModuleType, tmp_path: Path) -> None:
    """The 30-day rule's candidates are narrowed by a hash of the last eight bytes: two subjects
    queried twice each with the same hash are not one subject queried four times."""
    assert partitions.string_hash(pd.Series(["A-12345678", "B-12345678"], dtype="str")).tolist()[0] == \
        partitions.string_hash(pd.Series(["B-12345678"], dtype="str")).tolist()[0]
    frame = generate(3_000, 9, SEP).frame
    extra = frame.iloc[:6].copy()
    extra["query_id"] = [f"Z{k}" for k in range(6)]
    extra["subject_id"] = ["A-12345678", "B-12345678", "A-12345678", "B-12345678", "C-12345678", "C-12345678"]
    extra["institution"] = "YX0001"
    extra["queried_at"] = pd.to_datetime([f"2025-09-{d:02d} 10:00:00" for d in (3, 4, 5, 8, 9, 10)]).astype(frame["queried_at"].dtype)
    log = _write(pd.concat([extra, frame], ignore_index=True), tmp_path / "log.parquet", 1_000)
    parted = baseline.regflows_result(log, SEP.label, partition_rows=1_500)
    assert baseline.differences(baseline.run(log, SEP.label), parted) == []
    assert not parted.flagged["query_id"].isin([f"Z{k}" for k in range(6)]).any()


def test_text_times_with_an_unreadable_one_in_one_slice_are_reported_as_the_whole_file_does(
        baseline: ModuleType, tmp_path: Path) -> None:
    """Review of issue 18: a slice with an unreadable time shows its times as text, the others as
    times; the failing rows of both are written as the whole-file report writes them."""
    frame = generate(9_000, 3, SEP).frame
    frame["queried_at"] = frame["queried_at"].astype(str)
    frame.loc[300, "queried_at"] = "garbage"
    frame.loc[7_000, "queried_at"] = "2025-13-01 00:00:00"
    frame.loc[5_000, "user_id"] = None  # a failing row in a slice whose times are all readable
    log = _write(frame, tmp_path / "text.parquet", 1_000)
    parted = baseline.regflows_result(log, SEP.label, partition_rows=2_000)  # writes the failing rows' file
    whole = baseline.regflows_result(log, SEP.label)
    assert sorted(map(tuple, parted.failures.to_numpy().tolist())) == sorted(map(tuple, whole.failures.to_numpy().tolist()))
    assert {301, 5_001, 7_001} <= set(parted.failures["row"].astype(int))


def _damaged(source: Path, target: Path) -> Path:
    data = bytearray(source.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 5_000] = np.random.default_rng(1).integers(0, 256, 5_000, dtype=np.uint8).tobytes()
    target.write_bytes(bytes(data))
    return target


def test_a_failing_step_leaves_no_spill_folder_and_no_stale_one_survives(month: tuple[Path, Path], tmp_path: Path) -> None:
    """Review of issue 18: steps still running in the workers when another failed re-created the
    removed spill folder; a killed run's folder stayed for ever."""
    from regflows.credit.models import CreditInputError
    from regflows.credit.settings import thresholds
    from regflows.profile import load_profile

    th = thresholds(load_profile(ROOT / "profiles" / "demo.yaml").settings)
    spill = tmp_path / "spill"
    spill.mkdir()
    stale = spill / "regflows-credit-partitions-4194000-dead"  # a process that is gone
    (stale / "subject").mkdir(parents=True)
    mine = spill / f"regflows-credit-partitions-{__import__('os').getpid()}-alive"  # a process that runs
    mine.mkdir()
    plan = partitions.plan(_damaged(month[0], tmp_path / "damaged.parquet"), 10_000, spill_dir=spill)
    assert plan is not None
    with partitions.process_mapper(2) as mapper, pytest.raises(CreditInputError, match="无法读取"):
        partitions.run(plan, SEP, th, mapper=mapper)
    __import__("time").sleep(2)  # a straggling step would have re-created its folder by now
    assert sorted(p.name for p in spill.iterdir()) == [mine.name]


def test_the_workers_end_with_a_killed_parent(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    code = """
import os, sys, time
from regflows.credit import partitions
with partitions.process_mapper(2) as mapper:
    futures = [mapper.pool.submit(time.sleep, 300) for _ in range(2)]
    time.sleep(3)
    print(" ".join(str(p) for p in mapper.pool._processes), flush=True)
    time.sleep(300)
"""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env)
    assert parent.stdout is not None
    workers = [int(p) for p in parent.stdout.readline().split()]
    assert len(workers) == 2
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 20
    alive = workers
    while alive and time.monotonic() < deadline:
        time.sleep(0.2)
        alive = [p for p in workers if os.path.exists(f"/proc/{p}") and "Z" not in open(f"/proc/{p}/stat").read().split(")")[1][:3]]
    assert alive == []
