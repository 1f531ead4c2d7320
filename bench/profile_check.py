"""Benchmark: the profile checks grow linearly with the number of people (issue 13, item 7).

    .venv/bin/python bench/profile_check.py                      # 7,500 … 60,000 people
    .venv/bin/python bench/profile_check.py --sizes 1000 2000 4000 --channel json

A 60,000-person profile once took 94 s: the duplicate-id check called ``list.index`` for every
person (quadratic). For each size this writes a generated profile (the demo's roles and settings,
``N`` people, each with one channel, every role's members drawn from them) and times, in the same
process and run:

- ``baseline``: ``yaml.safe_load`` of the same file, a plain linear pass over the same text;
- ``load_profile``: reading with lines, validation, the channel-secret checks and the
  cross-references.

The ratio ``load_profile / baseline`` is printed per size. Linear checks keep it roughly flat as
the size grows; a quadratic one makes it grow with N (doubling the people doubles the ratio).
Exits 1 when the ratio at the largest size is more than ``--max-growth`` times the ratio at the
smallest: timings on a shared machine vary, which is why this is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHANNELS = {
    "outbox": ("outbox", "outbox://{pid}/email"),
    "json": ("webhook", "json://{{env:HOOK_USER}}:{{env:HOOK_PASSWORD}}@hooks.example.cn/notify/{pid}"),
}


def profile_text(people: int, channel: str) -> str:
    """The demo profile with ``people`` generated people; the demo's own people stay (roles name them)."""
    data = yaml.safe_load((ROOT / "profiles" / "demo.yaml").read_text(encoding="utf-8"))
    kind, url = CHANNELS[channel]
    extra = [{"id": f"p{i:06d}", "name": f"人员{i}", "channels": [{"kind": kind, "url": url.format(pid=f"p{i:06d}")}]}
             for i in range(max(0, people - len(data["people"])))]
    data["people"] += extra
    for role in data["roles"].values():  # long member lists: the reference checks are measured too
        role["members"] = role["members"] + [p["id"] for p in extra[: len(extra) // 4]]
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def best_of(repeat: int, action) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[7_500, 15_000, 30_000, 60_000])
    parser.add_argument("--channel", choices=sorted(CHANNELS), default="outbox")
    parser.add_argument("--repeat", type=int, default=1, help="best of this many runs per size")
    parser.add_argument("--max-growth", type=float, default=2.0)
    args = parser.parse_args()

    from regflows.profile import load_profile

    ratios: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in sorted(args.sizes):
            path = Path(tmp) / f"profile-{size}.yaml"
            path.write_text(profile_text(size, args.channel), encoding="utf-8")
            text = path.read_text(encoding="utf-8")
            base = best_of(args.repeat, lambda text=text: yaml.safe_load(text))
            checked = best_of(args.repeat, lambda path=path: load_profile(path))
            ratios.append(checked / base)
            print(f"{size:>7} people: baseline {base:7.2f} s, load_profile {checked:7.2f} s, ratio {checked / base:5.2f}x",
                  flush=True)
    growth = ratios[-1] / ratios[0]
    print(f"ratio growth from {min(args.sizes)} to {max(args.sizes)} people: {growth:.2f}x "
          f"(linear checks: about 1; quadratic: about {max(args.sizes) / min(args.sizes):.0f})")
    return 0 if growth <= args.max_growth else 1


if __name__ == "__main__":
    sys.exit(main())
