"""Benchmark: from ``POST /incidents`` to the incident's first delivered notice (issue 18, goal 4).

Run: ``.venv/bin/python bench/incident_latency.py [--incidents 30] [--spacing 4] [--before DIR]``

What ``make run`` starts, for real: ``regflows up`` (this checkout's code) with a profile whose
people each have one webhook channel pointing at a local HTTP server (bench/local_vendor.py, in
a process of its own, answering after ``--latency-ms`` and recording when each request arrived);
``up`` registers and serves every deployment of prefect.yaml (the watches run every minute
meanwhile, as they do in production) and serves the regflows endpoint with its bearer token
``REGFLOWS_INGEST_TOKEN``. One Prefect server (SQLite, started the way ``up`` starts it) is shared
by every stack measured in the run.

``--incidents`` declarations are posted to ``POST /incidents``, one after the other, ``--spacing``
seconds apart on average (uniformly between half and one and a half times it, seeded: the posts
fall at every phase of the serve loop's polling). For each, from the moment the POST is sent
(wall clock) to the moment the vendor server has read the first alert naming the incident's
title, and the parts of it from the flow run's state history on the server:

- ``answer``: from the send to the endpoint's answer (validation, the duplicate check, creating
  the flow run; since issue 18 also recording the incident and sending its alert);
- ``run_running``: from the send to the flow run's Running state, which is the sum of:
- ``waiting``: the run created (Scheduled) until a runner picked it up (Pending): the serve loop's
  polling interval;
- ``starting``: Pending until Running: the run's process started, its imports, the engine.

Before issue 18 the alert was sent by the run only, after ``run_running`` plus its first tasks
(reading the form, recording, grading, the clock).

Each stack's line also says how its runs ended (``runs_ended``: every run must complete, going on
with the incident the endpoint recorded for it) and ``alerts_delivered_twice`` (recipients who got
one incident's alert more than once: the endpoint and the run send it under one notice id, and
each channel's claim must keep it to one). Percentiles by nearest rank (p95 of 30 samples is the 29th smallest). With ``--before DIR``
(another checkout, e.g. ``git archive COMMIT | tar -x -C /tmp/before``) that checkout's stack is
measured first against the same Prefect server and vendor, then this one's, and the ratio of the
p95s is printed. Each stack's lines carry the 1-minute load average at its start and end: the
machine's other work shares its 2 cores with the flow runs' processes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench import local_vendor  # noqa: E402

#: The goal (issue 18, goal 4): p95 of POST → first delivery, seconds.
GOAL_P95 = 5.0
TOKEN = "bench-ingest-token"
SHANGHAI = dt.timezone(dt.timedelta(hours=8))  # the bench's own records only: no regflows import before --root is chosen


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_profile(path: Path, vendor_port: int, label: str) -> None:
    """The demo profile with every person's channels replaced by one webhook to the vendor server."""
    import yaml

    data = yaml.safe_load((ROOT / "profiles" / "demo.yaml").read_text(encoding="utf-8"))
    for person in data["people"]:
        person["channels"] = [{"kind": "webhook", "url": f"json://127.0.0.1:{vendor_port}/{label}/{person['id']}"}]
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def summary(values: list[float]) -> dict[str, float]:
    return {"p50": round(percentile(values, 0.5), 2), "p95": round(percentile(values, 0.95), 2), "max": round(max(values), 2)}


class Stack:
    """``regflows up`` of one checkout in a private home, on the shared Prefect server."""

    def __init__(self, code: Path, tmp: Path, api: str, vendor_port: int, label: str) -> None:
        self.label, self.api = label, api
        self.dir = tmp / label
        self.dir.mkdir()
        profile = self.dir / "profile.yaml"
        write_profile(profile, vendor_port, label)
        self.endpoint = f"http://127.0.0.1:{free_port()}"
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("PREFECT_", "REGFLOWS_")) and k != "PYTHONPATH"}
        env.update(REGFLOWS_HOME=str(self.dir / "home"), REGFLOWS_PROFILE=str(profile), REGFLOWS_PUBLIC_BASE_URL=self.endpoint, REGFLOWS_INGEST_TOKEN=TOKEN,
                   PREFECT_API_URL=api, PREFECT_PROFILES_PATH=str(tmp / "prefect-profiles.toml"),  # not the user's own file
                   PYTHONPATH=str(code), PYTHONUNBUFFERED="1")
        self.log = self.dir / "regflows-up.log"
        with self.log.open("wb") as handle:
            self.process = subprocess.Popen([sys.executable, "-m", "regflows.cli", "up", "--no-server"],
                                            cwd=code, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, timeout: float = 300) -> None:
        """Until incident-response is READY (its runner has polled) and the endpoint answers."""
        import httpx
        from prefect.client.orchestration import get_client
        from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName

        deadline = time.monotonic() + timeout
        with get_client(sync_client=True) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"regflows up 退出（{self.process.returncode}）：\n{self.log.read_text(errors='replace')[-3000:]}")
                found = client.read_deployments(deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=["incident-response"])))
                if found and found[0].status is not None and found[0].status.value == "READY":
                    try:
                        if httpx.get(f"{self.endpoint}/health", timeout=5).status_code == 200:
                            return
                    except httpx.HTTPError:
                        pass
                time.sleep(1)
        raise RuntimeError(f"{self.label}: incident-response 未就绪，日志：\n{self.log.read_text(errors='replace')[-3000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # the flow runs it spawned
        except ProcessLookupError:
            pass
        self.process.wait(timeout=10)


def declare(stack: Stack, n: int, spacing: float, seed: int) -> list[dict[str, Any]]:
    """POST ``n`` incidents, spaced; returns one dict per POST (send time, answer, flow run id)."""
    import httpx

    rng = random.Random(seed)
    posts = []
    for i in range(n):
        discovered = dt.datetime.now(SHANGHAI).replace(microsecond=0) - dt.timedelta(minutes=5)
        title = f"时延测量{stack.label}第{i + 1}号终端感染病毒"
        body = {"title": title, "occurred_at": (discovered - dt.timedelta(minutes=10)).isoformat(),
                "discovered_at": discovered.isoformat(), "discovered_by": "终端安全系统", "system_name": "办公终端",
                "category": "harmful_program"}
        sent = time.time()
        answer = httpx.post(f"{stack.endpoint}/incidents", json=body, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)
        answered = time.time()
        posts.append({"title": title, "sent": sent, "answered": answered, "status": answer.status_code,
                      "flow_run_id": answer.json().get("flow_run_id") if answer.status_code == 202 else None,
                      "error": None if answer.status_code == 202 else answer.text[:300]})
        time.sleep(rng.uniform(spacing / 2, spacing * 1.5))
    return posts


def delivered_twice(vendor: local_vendor.Vendor, label: str) -> int:
    """How many (recipient, alert) pairs of this stack arrived more than once: the endpoint and the
    run both send the alert under one notice id, and each channel's claim must keep it to one."""
    seen: dict[tuple[str, str], int] = {}
    for arrival in list(vendor.arrivals):
        if arrival["path"].startswith(f"/{label}/") and arrival["title"] and "网络安全事件" in arrival["title"]:
            key = (arrival["path"], arrival["title"])
            seen[key] = seen.get(key, 0) + 1
    return sum(n > 1 for n in seen.values())


def first_deliveries(vendor: local_vendor.Vendor, posts: list[dict[str, Any]], timeout: float) -> dict[str, float]:
    """Title → the arrival of its first alert, waiting up to ``timeout`` s for the missing ones."""
    deadline = time.monotonic() + timeout
    while True:
        first: dict[str, float] = {}
        for arrival in list(vendor.arrivals):
            for post in posts:
                if arrival["title"] and post["title"] in arrival["title"] and "网络安全事件" in arrival["title"]:
                    first[post["title"]] = min(first.get(post["title"], math.inf), arrival["at"])
        if len(first) == sum(p["flow_run_id"] is not None for p in posts) or time.monotonic() > deadline:
            return first
        time.sleep(1)


FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def state_times(flow_run_ids: list[str], timeout: float) -> tuple[dict[str, dict[str, float]], dict[str, int]]:
    """Flow run id → the first time (epoch seconds) it entered each state type, once every run has
    ended (up to ``timeout`` s); and how many ended in each state (a run must complete: with the
    incident recorded by the endpoint, it goes on with it)."""
    from prefect.client.orchestration import get_client

    out: dict[str, dict[str, float]] = {}
    finals: dict[str, int] = {}
    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        for run_id in flow_run_ids:
            while (state := client.read_flow_run(uuid.UUID(run_id)).state_type.value) not in FINAL and time.monotonic() < deadline:
                time.sleep(1)
            finals[state] = finals.get(state, 0) + 1
            times: dict[str, float] = {}
            for state in client.read_flow_run_states(uuid.UUID(run_id)):
                times.setdefault(state.type.value, state.timestamp.timestamp())
            out[run_id] = times
    return out, finals


def measure(code: Path, tmp: Path, api: str, vendor: local_vendor.Vendor, label: str, args: argparse.Namespace) -> dict[str, Any]:
    stack = Stack(code, tmp, api, vendor.port, label)
    try:
        stack.wait_ready()
        time.sleep(args.settle)  # the first minute's watch runs start with the deployments: let them pass
        load_start = os.getloadavg()[0]
        posts = declare(stack, args.incidents, args.spacing, args.seed)
        first = first_deliveries(vendor, posts, timeout=args.timeout)
        load_end = os.getloadavg()[0]
        states, finals = state_times([p["flow_run_id"] for p in posts if p["flow_run_id"]], args.timeout)
    finally:
        stack.stop()
    parts: dict[str, list[float]] = {"total": [], "answer": [], "run_running": [], "waiting": [], "starting": []}
    missing = []
    for post in posts:
        if post["title"] not in first:
            missing.append({"title": post["title"], "status": post["status"], "error": post["error"]})
            continue
        s = states[post["flow_run_id"]]
        delivered = first[post["title"]]
        parts["total"].append(delivered - post["sent"])
        parts["answer"].append(post["answered"] - post["sent"])
        if {"SCHEDULED", "PENDING", "RUNNING"} <= s.keys():
            parts["waiting"].append(s["PENDING"] - s["SCHEDULED"])
            parts["starting"].append(s["RUNNING"] - s["PENDING"])
            parts["run_running"].append(s["RUNNING"] - post["sent"])
    result: dict[str, Any] = {"run": label, "code": str(code), "incidents": len(posts), "delivered": len(parts["total"]),
                              "missing": missing[:5], "runs_ended": finals, "alerts_delivered_twice": delivered_twice(vendor, label), "load_average_1min": [round(load_start, 2), round(load_end, 2)]}
    for name, values in parts.items():
        if values:
            result[f"{name}_s"] = summary(values)
    if parts["total"]:
        p95 = percentile(parts["total"], 0.95)
        result["goal"] = f"p95 {p95:.2f} s {'<' if p95 < GOAL_P95 and not missing else '>='} {GOAL_P95:.0f} s: " + (
            "pass" if p95 < GOAL_P95 and not missing else "fail")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=30)
    parser.add_argument("--spacing", type=float, default=4.0, help="mean seconds between two POSTs")
    parser.add_argument("--latency-ms", type=float, default=50, help="the vendor server's answer time")
    parser.add_argument("--before", type=Path, help="another checkout: measure its stack first, in the same run")
    parser.add_argument("--settle", type=float, default=5.0, help=argparse.SUPPRESS)
    parser.add_argument("--timeout", type=float, default=180.0, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder (logs, homes)")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="regflows-latency-"))
    api_port = free_port()
    api = f"http://127.0.0.1:{api_port}/api"
    os.environ.update(PREFECT_API_URL=api, PREFECT_PROFILES_PATH=str(tmp / "prefect-profiles.toml"))
    from regflows.server import start, wait_healthy  # the way `regflows up` starts its server

    server = start("127.0.0.1", api_port, tmp / "prefect", tmp / "logs")
    vendor = local_vendor.spawn(args.latency_ms / 1000, record=True)
    try:
        wait_healthy(server)
        runs = []
        if args.before is not None:
            runs.append(measure(args.before.resolve(), tmp, api, vendor, "before", args))
            print(json.dumps(runs[-1], ensure_ascii=False), flush=True)
        runs.append(measure(ROOT, tmp, api, vendor, "after" if args.before else "this", args))
        print(json.dumps(runs[-1], ensure_ascii=False), flush=True)
        if len(runs) == 2 and "total_s" in runs[0] and "total_s" in runs[1]:
            print(json.dumps({"p95_before_over_after": round(runs[0]["total_s"]["p95"] / runs[1]["total_s"]["p95"], 2),
                              "cores": os.cpu_count()}))
    finally:
        vendor.close()
        server.stop()
        if args.keep:
            print(f"scratch folder: {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
