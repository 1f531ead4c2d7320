"""Benchmark: fan-out of one notice to 200 recipients x 3 channels, concurrent vs sequential.

Run: ``.venv/bin/python bench/notices_fanout.py [--recipients 200] [--latency-ms 50] [--before DIR]``

Both runs go through the real path: profile routing, send-time secret resolution, claim-before-
send in a SQLite store, Apprise (a fresh object per delivery) over HTTP to a local server that
answers after ``latency-ms`` (a stand-in for a vendor's network round trip), settle, ledger. The
server runs in a process of its own, as a vendor's does (bench/local_vendor.py): its threads do
not compete with the senders for this process's interpreter lock. The baseline is the same engine with one worker
(sequential), in the same process and run, so the ratio is what concurrency buys. With
``--before DIR`` (another checkout of regflows, e.g. ``git worktree add /tmp/before main``) the
concurrent run of that code is measured first, in a child process against the same server, and
the ratio before/after is printed too. Prints one JSON line per run and the ratios, with the
machine's load average.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # bench's own helpers; main() puts --root before it: the regflows measured comes from there
from bench import local_vendor  # noqa: E402


def profile_for(port: int, n: int):  # type: ignore[no-untyped-def]
    from regflows.profile import DEMO_PROFILE, Profile
    import yaml

    data = yaml.safe_load(DEMO_PROFILE.read_text(encoding="utf-8"))
    people = [
        {
            "id": f"p{i:03d}",
            "name": f"值班{i}",
            "channels": [
                {"kind": "webhook", "url": f"json://127.0.0.1:{port}/push/{i}"},
                {"kind": "sms", "url": f"json://127.0.0.1:{port}/sms/{i}"},
                {"kind": "webhook", "url": f"json://127.0.0.1:{port}/mail/{i}"},
            ],
        }
        for i in range(n)
    ]
    data["people"] += people
    data["roles"]["bench"] = {"kind": "on_call", "name": "压测值班组", "members": [p["id"] for p in people]}
    return Profile.model_validate(data)


def run(profile, workers: int, label: str) -> dict:  # type: ignore[no-untyped-def]
    from notices.delivery import DeliveryEngine, RetryPolicy
    from notices.service import send_notice

    engine = DeliveryEngine(policy=RetryPolicy(attempts=1), max_workers=workers)
    started = time.perf_counter()
    outcome = send_notice(profile, "test", {"institution": profile.institution.name, "sent_at": "2025-10-01T09:00:00+08:00"}, ["bench"],
                          notice_id=f"bench:{label}", urgent=True, engine=engine, raise_to_deputy=False)
    elapsed = time.perf_counter() - started
    delivered = sum(c.state == "delivered" for c in outcome.deliveries)
    return {"run": label, "workers": workers, "deliveries": len(outcome.deliveries), "delivered": delivered,
            "seconds_to_last_delivery": round(elapsed, 3), "deliveries_per_second": round(delivered / elapsed, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=200)
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--workers", type=int, default=32)
    parser.add_argument("--before", type=Path, help="another checkout: measure its concurrent run first")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)  # the code measured
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)  # a server already running
    parser.add_argument("--concurrent-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, str(args.root.resolve()))
    server = None
    port = args.port
    if port is None:
        server = local_vendor.spawn(args.latency_ms / 1000)
        port = server.port
    try:
        before = None
        if args.before is not None:
            child = subprocess.run([sys.executable, __file__, "--root", str(args.before), "--port", str(port), "--concurrent-only",
                                    "--recipients", str(args.recipients), "--workers", str(args.workers)],
                                   capture_output=True, text=True, check=True)
            before = json.loads(child.stdout.splitlines()[0])
            before["run"] = "concurrent, before"
        home = tempfile.mkdtemp(prefix="regflows-bench-")
        os.environ["REGFLOWS_HOME"] = home
        os.environ["REGFLOWS_DATABASE_URL"] = f"sqlite:///{home}/bench.db"
        from regflows.store import migrate

        migrate()
        profile = profile_for(port, args.recipients)
        load = os.getloadavg()[0]
        concurrent = run(profile, args.workers, "concurrent")
        if before is not None:
            print(json.dumps(before, ensure_ascii=False))
        print(json.dumps(concurrent, ensure_ascii=False))
        if args.concurrent_only:
            return
        sequential = run(profile, 1, "sequential")
        print(json.dumps(sequential, ensure_ascii=False))
        ratios = {"speedup_vs_sequential": round(sequential["seconds_to_last_delivery"] / concurrent["seconds_to_last_delivery"], 2)}
        if before is not None:
            ratios["speedup_vs_before"] = round(before["seconds_to_last_delivery"] / concurrent["seconds_to_last_delivery"], 2)
        print(json.dumps({**ratios, "load_average_1min_at_start": round(load, 2), "cores": os.cpu_count()}))
    finally:
        if server is not None:
            server.close()


if __name__ == "__main__":
    main()
