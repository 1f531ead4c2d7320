"""Benchmark: loading great-expectations as ``regflows credit-stats run`` does, against loading it
plainly (issue 18, goal 2: the fixed cost of a month).

    .venv/bin/python bench/gx_import.py            # 7 rounds
    .venv/bin/python bench/gx_import.py --runs 11

Each round starts two fresh interpreters, in alternating order: ``regflows.credit.quality._gx()``
as shipped, and the same with its two load-time measures replaced by contexts that do nothing
(the baseline): the faster copies of pydantic v1's fields (``regflows/credit/fieldcopy.py``), and
the pause of the cyclic garbage collector with the collection and freeze after it
(``_no_collections``); ``scipy.stats`` and ``altair`` are put off in both (``DEFERRED``). Each
reports the seconds of ``_gx()`` and of one full collection after it: a run's later collections
of the oldest generation walk every object the load left unless they were frozen out of them,
and one full collection stands for them (end to end the freeze was worth more: the README's
"Performance"). The interpreter's own start and the import of ``regflows.credit.quality`` are
the same in both and left out. The medians and their ratio are printed. Both use the bytecode
cache, as after ``make install``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_CHILD = """
import contextlib, sys, time
import regflows.credit.quality as quality
if {plain}:
    quality.faster_field_copies = lambda: contextlib.nullcontext(())
    quality._no_collections = contextlib.nullcontext
import gc
t, c = time.perf_counter(), time.process_time()
quality._gx()
gc.collect()
print(time.perf_counter() - t, time.process_time() - c)
"""


def once(plain: bool) -> tuple[float, float]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    done = subprocess.run([sys.executable, "-c", _CHILD.format(plain=plain)], env=env, capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        raise SystemExit(f"the child failed:\n{done.stderr[-3000:]}")
    wall, cpu = done.stdout.strip().splitlines()[-1].split()
    return float(wall), float(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    once(False)  # warm the bytecode cache and the page cache, untimed
    walls: dict[bool, list[float]] = {False: [], True: []}
    cpus: dict[bool, list[float]] = {False: [], True: []}
    for n in range(args.runs):
        for baseline in ([False, True] if n % 2 == 0 else [True, False]):
            wall, cpu = once(baseline)
            walls[baseline].append(wall)
            cpus[baseline].append(cpu)
            print(f"  round {n + 1} {'plain  ' if baseline else 'shipped'} {wall:5.2f} s (CPU {cpu:5.2f} s)", file=sys.stderr)
    wall_f, wall_p = statistics.median(walls[False]), statistics.median(walls[True])
    cpu_f, cpu_p = statistics.median(cpus[False]), statistics.median(cpus[True])
    print(f"great-expectations loaded by _gx(), medians of {args.runs}: as shipped {wall_f:.2f} s (CPU {cpu_f:.2f} s), "
          f"plainly (baseline) {wall_p:.2f} s (CPU {cpu_p:.2f} s): ratio {wall_f / wall_p:.2f} (CPU {cpu_f / cpu_p:.2f}), "
          f"saved {wall_p - wall_f:.2f} s (CPU {cpu_p - cpu_f:.2f} s)")


if __name__ == "__main__":
    main()
