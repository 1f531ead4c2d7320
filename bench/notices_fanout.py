"""Benchmark: fan-out of one notice to 200 recipients x 3 channels, concurrent vs sequential.

Run: ``.venv/bin/python bench/notices_fanout.py [--recipients 200] [--latency-ms 50]``

Both runs go through the real path: profile routing, send-time secret resolution, claim-before-
send in a SQLite store, Apprise (a fresh object per delivery) over HTTP to a local server that
answers after ``latency-ms`` (a stand-in for a vendor's network round trip), settle, ledger. The
baseline is the same engine with one worker (sequential), in the same process and run, so the
ratio is what concurrency buys. Prints one JSON line per run and the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def start_server(latency: float) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # type: ignore[no-untyped-def]
            pass

        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            time.sleep(latency)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.request_queue_size = 256
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


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
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="regflows-bench-")
    os.environ["REGFLOWS_HOME"] = home
    os.environ["REGFLOWS_DATABASE_URL"] = f"sqlite:///{home}/bench.db"
    from regflows.store import migrate

    migrate()
    server = start_server(args.latency_ms / 1000)
    profile = profile_for(server.server_address[1], args.recipients)
    concurrent = run(profile, args.workers, "concurrent")
    sequential = run(profile, 1, "sequential")
    print(json.dumps(concurrent, ensure_ascii=False))
    print(json.dumps(sequential, ensure_ascii=False))
    ratio = sequential["seconds_to_last_delivery"] / concurrent["seconds_to_last_delivery"]
    print(json.dumps({"speedup_vs_sequential": round(ratio, 2)}))
    server.shutdown()


if __name__ == "__main__":
    main()
