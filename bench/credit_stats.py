"""Benchmark: credit statistics end to end vs a plain pandas groupby baseline (issue 7, "Performance").

    .venv/bin/python bench/credit_stats.py               # 10 M rows (the issue's target: < 30 s, < 4 GB)
    .venv/bin/python bench/credit_stats.py --rows 1000000

Generates a demo log (Parquet) first, then runs, each in its own process so that peak memory
(the process's own high-water mark, ``VmHWM``) belongs to one contender only:

- ``pipeline``: read Parquet, both great-expectations suites' worth of checks on the log, every
  rule, the .xlsx, summary.json and the flagged-queries file (events injected as none: the store
  is not what is measured);
- ``baseline``: the same five counts by a plain single pass in pandas (vectorised comparisons,
  ``groupby().cumcount()`` for the daily volume, ``groupby().shift(3)`` for the 30-day rule), no
  checks and no files: the ratio to beat.

The counts of both must agree, or the benchmark fails.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _peak_mb() -> float:
    """This process's own peak RSS. Not ``ru_maxrss``: Linux carries the parent's peak across
    fork+exec into the child's ``ru_maxrss``, so both contenders reported the demo generator's
    peak (about 5 GB at 10 M rows). ``VmHWM`` belongs to the child's own address space."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_pipeline(log: Path, period_text: str, out: Path) -> dict:
    t0 = time.perf_counter()
    import great_expectations  # noqa: F401 - its import cost is reported apart

    from regflows.credit.models import Period
    from regflows.credit.pipeline import check_inputs, count, read_inputs, write_outputs
    from regflows.credit.settings import thresholds
    from regflows.profile import load_profile

    profile = load_profile(ROOT / "profiles" / "demo.yaml")
    period = Period.parse(period_text)
    phases: dict[str, float] = {"import": time.perf_counter() - t0}
    start = time.perf_counter()
    t = time.perf_counter()
    inputs = read_inputs(log)
    phases["read"] = time.perf_counter() - t
    t = time.perf_counter()
    check_inputs(inputs, period, thresholds(profile.settings), out)
    phases["quality (GX)"] = time.perf_counter() - t
    t = time.perf_counter()
    outcome = count(inputs, period, profile, {})
    phases["rules"] = time.perf_counter() - t
    t = time.perf_counter()
    write_outputs(outcome, out, profile)
    phases["write"] = time.perf_counter() - t
    total = time.perf_counter() - start
    counts = {r["institution"]: [r["abnormal_query"], r["unauthorized_query"]] for r in outcome.summary["rows"]}
    return {"seconds": total, "phases": phases, "peak_mb": _peak_mb(), "rows": len(inputs.log.frame), "counts": counts}


def child_baseline(log: Path, period_text: str) -> dict:
    import pandas as pd

    from calendars import is_working_day
    from regflows.credit.models import Period

    period = Period.parse(period_text)
    start = time.perf_counter()
    df = pd.read_parquet(log)
    local = df["queried_at"]
    day = local.dt.normalize()
    df = df.sort_values(["institution", "subject_id", "queried_at"], kind="stable")
    prev3 = df.groupby(["institution", "subject_id"], sort=False)["queried_at"].shift(3)
    repeat = (df["queried_at"] - prev3) < pd.Timedelta(days=30)
    df = df.assign(repeat=repeat).sort_index()
    day = df["queried_at"].dt.normalize()
    cur = df[(day >= pd.Timestamp(period.first_day)) & (day < pd.Timestamp(period.next_first_day))].copy()
    cday = cur["queried_at"].dt.normalize()
    unauth = (cur["authorization_id"].isna() | cur["authorized_at"].isna() | (cur["authorized_at"] > cday)
              | (cur["authorization_expires"].notna() & (cday > cur["authorization_expires"])))
    working = {d: is_working_day(d.date()) for d in cday.unique()}
    tod = cur["queried_at"] - cday
    off = ~cday.map(working).astype(bool) | (tod < pd.Timedelta(hours=8, minutes=30)) | (tod > pd.Timedelta(hours=18))
    cur = cur.sort_values(["user_id", "queried_at"], kind="stable")
    rank = cur.groupby(["user_id", cday.loc[cur.index]], sort=False).cumcount() + 1
    volume = (rank > 250).reindex(off.index)
    abnormal = ~unauth & (off | volume | cur["repeat"].reindex(off.index))
    counts = pd.DataFrame({"institution": cur["institution"].reindex(off.index), "a": abnormal, "u": unauth}
                          ).groupby("institution")[["a", "u"]].sum()
    total = time.perf_counter() - start
    return {"seconds": total, "peak_mb": _peak_mb(), "rows": int(len(df)),
            "counts": {str(k): [int(v.a), int(v.u)] for k, v in counts.iterrows()}}


def _child(args: list[str]) -> dict:
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{args[1]} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--period", default="2025-09")
    parser.add_argument("--child", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, log, period, *rest = args.child
        result = child_pipeline(Path(log), period, Path(rest[0])) if kind == "pipeline" else child_baseline(Path(log), period)
        print(json.dumps(result))
        return

    from regflows.credit.demo import generate, write
    from regflows.credit.models import Period

    with tempfile.TemporaryDirectory(prefix="credit-bench-") as tmp:
        log = Path(tmp) / "log.parquet"
        t = time.perf_counter()
        demo = generate(args.rows, args.seed, Period.parse(args.period))
        write(demo, log)
        total_rows = len(demo.frame)
        del demo
        print(f"demo log: {total_rows:,} rows (incl. history) in {time.perf_counter() - t:.1f} s, {log.stat().st_size / 1e6:.0f} MB Parquet")
        pipe = _child(["--child", "pipeline", str(log), args.period, str(Path(tmp) / "out")])
        base = _child(["--child", "baseline", str(log), args.period])
    if pipe["counts"] != {k: v for k, v in base["counts"].items()}:
        raise SystemExit(f"counts differ: pipeline {pipe['counts']} baseline {base['counts']}")
    print(f"{'':10} {'seconds':>8} {'rows/s':>12} {'peak MB':>8}")
    for name, r in (("pipeline", pipe), ("baseline", base)):
        print(f"{name:10} {r['seconds']:8.1f} {r['rows'] / r['seconds']:12,.0f} {r['peak_mb']:8.0f}")
    print("pipeline phases: " + ", ".join(f"{k} {v:.1f} s" for k, v in pipe["phases"].items()))
    print(f"ratio pipeline/baseline: {pipe['seconds'] / base['seconds']:.2f}x time, "
          f"{pipe['peak_mb'] / base['peak_mb']:.2f}x memory; counts agree")


if __name__ == "__main__":
    main()
