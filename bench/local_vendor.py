"""The vendor's side of the notice benchmarks: a local HTTP server standing in for an SMS gateway
or a bot's webhook, in a process of its own.

Why a process of its own: a vendor's server does not share the sender's interpreter lock. In the
same process its threads competed with the senders and with the benchmark's own bookkeeping,
which both slowed the sends and delayed the time a request was seen (bench/notices_fanout.py
measured 9.0 s instead of 5.4 s that way).

Every POST is answered ``200 {}`` after ``latency`` seconds (a network round trip). With
``record``, the server also writes one JSON line per POST to its standard output, taken when the
request's body has been read: ``{"at": <time.time()>, "path": …, "title": …}`` (``title`` from an
Apprise ``json://`` body); :class:`Vendor` collects them as :attr:`Vendor.arrivals`. Wall-clock
seconds, so they compare with times taken in other processes of this machine.

Used as ``python bench/local_vendor.py --latency-ms 50 [--record]`` (it prints its port first and
serves until its standard input closes), or through :func:`spawn`.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TextIO


def start_server(latency: float, out: TextIO | None = None) -> ThreadingHTTPServer:
    """The server, serving in a daemon thread of this process; ``out``: where each POST's arrival
    is written as a JSON line (None: not recorded)."""
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # type: ignore[no-untyped-def]
            pass

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            at = time.time()
            if out is not None:
                try:
                    title = json.loads(body).get("title")
                except (ValueError, AttributeError):
                    title = None
                with lock:
                    out.write(json.dumps({"at": at, "path": self.path, "title": title}, ensure_ascii=False) + "\n")
                    out.flush()
            time.sleep(latency)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

    class Server(ThreadingHTTPServer):
        request_queue_size = 256  # the listen backlog: a class attribute, read when it binds

    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@dataclass
class Vendor:
    """A vendor server running in a child process (:func:`spawn`)."""

    process: subprocess.Popen[str]
    port: int
    arrivals: list[dict[str, Any]] = field(default_factory=list)  # filled as the child reports them (record=True)
    _reader: threading.Thread | None = None

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=10)
        if self._reader is not None:
            self._reader.join(timeout=10)


def spawn(latency: float, record: bool = False) -> Vendor:
    """Start the server in a process of its own; returns once it listens."""
    cmd = [sys.executable, __file__, "--latency-ms", str(latency * 1000)] + (["--record"] if record else [])
    process = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, encoding="utf-8")
    assert process.stdout is not None
    vendor = Vendor(process, int(process.stdout.readline()))
    if record:
        def read() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                vendor.arrivals.append(json.loads(line))  # list.append is atomic: the reader is the only writer

        vendor._reader = threading.Thread(target=read, daemon=True)
        vendor._reader.start()
    return vendor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    server = start_server(args.latency_ms / 1000, sys.stdout if args.record else None)
    print(server.server_address[1], flush=True)
    sys.stdin.read()
    server.shutdown()


if __name__ == "__main__":
    main()
