"""Refusals of unauthenticated requests on the endpoint: counted, rate-limited per client per
minute, and summarised into the audit ledger, never one ledger entry each.

Anyone can reach the endpoint (acknowledgement links, ``POST /incidents``, ``POST /uploads``).
A refusal (bad bearer token, forged or expired link) used to be one ledger entry: 1,000 random
requests added 1,000 entries in seconds, burying the entries that matter. Now a route that
refuses calls :func:`note_refusal`; the endpoint's :class:`RefusalLog` counts the refusal under
the client and the minute, and

- once a client has ``limit`` refusals in a minute, its further requests that minute are
  answered 429 before any route runs (counted as ``limited``), so guessing tokens costs a minute
  per ``limit`` tries;
- each ended minute becomes **one** ledger entry ``endpoint.refusals`` for all clients together
  (counts per client, action and reason, the fingerprints of the first tokens refused, how many
  requests were limited), written by the endpoint every few seconds and when it stops. Never
  silent, never a flood: a minute costs one entry whatever the traffic.

Memory is bounded too: past :data:`MAX_CLIENTS` clients in one minute, the rest are counted
together under ``其他``. The client is the peer address as uvicorn reports it: behind a reverse
proxy, uvicorn takes it from ``X-Forwarded-For`` for the proxies listed in
``FORWARDED_ALLOW_IPS`` (README, "Security of the endpoint").
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from regflows import config, ledger

__all__ = [
    "DEFAULT_PER_MINUTE",
    "LEDGER_ACTION",
    "MAX_CLIENTS",
    "RefusalLog",
    "note_refusal",
    "per_minute",
]

DEFAULT_PER_MINUTE = 20
LEDGER_ACTION = "endpoint.refusals"
#: Clients tracked one by one in a minute; beyond, counted together (memory stays bounded).
MAX_CLIENTS = 10_000
#: Clients named one by one in a ledger summary; beyond, counted together.
MAX_CLIENTS_IN_SUMMARY = 200
#: Token fingerprints kept per client and minute (enough to follow a guessing attempt).
MAX_SAMPLES = 5
OTHERS = "其他"


def per_minute() -> int:
    """``REGFLOWS_REFUSALS_PER_MINUTE`` (default 20): refusals after which a client waits out the minute."""
    raw = os.environ.get("REGFLOWS_REFUSALS_PER_MINUTE", "")
    return int(raw) if raw.strip().isdigit() and int(raw) > 0 else DEFAULT_PER_MINUTE


@dataclass
class _Window:
    refusals: Counter[str] = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)
    limited: int = 0

    @property
    def total(self) -> int:
        return sum(self.refusals.values())


class RefusalLog:
    """Per-client, per-minute refusal counts of one endpoint; thread-safe (routes run refusals in
    worker threads). ``clock`` returns seconds since the epoch (tests pass their own)."""

    def __init__(self, limit: int | None = None, clock: Callable[[], float] = time.time,
                 append: Callable[..., Any] | None = None) -> None:
        self.limit = limit if limit is not None else per_minute()
        self.clock = clock
        # The store the endpoint was started with, captured now: a summary written at shutdown
        # goes there even if the environment has changed since (a test's home torn down first).
        url = config.database_url()
        self._append = append or (lambda action, subject, payload: ledger.append(action, subject, payload, url=url))
        self._lock = threading.Lock()
        self._minutes: dict[int, dict[str, _Window]] = {}

    def _window(self, client: str, minute: int) -> _Window:
        clients = self._minutes.setdefault(minute, {})
        if client not in clients and len(clients) >= MAX_CLIENTS:
            client = OTHERS
        return clients.setdefault(client, _Window())

    def note(self, client: str | None, action: str, reason: str, token: str | None = None) -> None:
        """Count one refusal (``token``: a fingerprint, never the token itself)."""
        minute = int(self.clock() // 60)
        with self._lock:
            window = self._window(client or "unknown", minute)
            window.refusals[f"{action}:{reason}"] += 1
            if token and len(window.samples) < MAX_SAMPLES:
                window.samples.append(token)

    def limited(self, client: str | None) -> bool:
        """Whether the client used up its refusals this minute; a limited request is counted."""
        minute = int(self.clock() // 60)
        with self._lock:
            window = self._minutes.get(minute, {}).get(client or "unknown")
            if window is None or window.total < self.limit:
                return False
            window.limited += 1
            return True

    def retry_after(self) -> int:
        """Seconds until the current minute ends (the ``Retry-After`` of a 429)."""
        return max(1, 60 - int(self.clock() % 60))

    def flush(self, force: bool = False) -> int:
        """Write one ledger entry per ended minute (every minute with ``force``: at shutdown);
        returns how many entries were written. A failed write keeps the minute for the next try."""
        current = int(self.clock() // 60)
        with self._lock:
            due = sorted(m for m in self._minutes if force or m < current)
            taken = {m: self._minutes.pop(m) for m in due}
        written = 0
        for minute in due:
            try:
                self._append(LEDGER_ACTION, "endpoint", _summary(minute, taken[minute]))
            except Exception:
                with self._lock:  # put back what is not written: never silently lost
                    for unwritten in due[written:]:
                        merged = self._minutes.setdefault(unwritten, {})
                        for client, window in taken[unwritten].items():
                            merged.setdefault(client, window)
                raise
            written += 1
        return written


def _summary(minute: int, clients: dict[str, _Window]) -> dict[str, Any]:
    """The ledger payload of one minute: totals, then clients with the most refusals first."""
    start = dt.datetime.fromtimestamp(minute * 60, tz=dt.timezone.utc)
    ranked = sorted(clients.items(), key=lambda item: (-item[1].total, item[0]))
    named = ranked[:MAX_CLIENTS_IN_SUMMARY]
    rest = ranked[MAX_CLIENTS_IN_SUMMARY:]
    payload: dict[str, Any] = {
        "minute": start.isoformat(),
        "refusals": sum(w.total for w in clients.values()),
        "limited": sum(w.limited for w in clients.values()),
        "clients": {
            client: {"refusals": dict(sorted(w.refusals.items())), "limited": w.limited, "tokens": list(w.samples)}
            for client, w in named
        },
    }
    if rest:
        payload["other_clients"] = {"count": len(rest), "refusals": sum(w.total for _c, w in rest),
                                    "limited": sum(w.limited for _c, w in rest)}
    return payload


def note_refusal(request: Any, action: str, reason: str, token: str | None = None) -> None:
    """What a route calls when it refuses an unauthenticated request: counted in the endpoint's
    :class:`RefusalLog` (``request.app.state.refusals``). A route mounted on an app without
    one (a bare test app) writes the refusal to the ledger directly, as before."""
    client = request.client.host if getattr(request, "client", None) else None
    refusals = getattr(getattr(request.app, "state", None), "refusals", None)
    if isinstance(refusals, RefusalLog):
        refusals.note(client, action, reason, token)
        return
    ledger.append(action, "endpoint", {"reason": reason, "client": client, **({"token": token} if token else {})})
