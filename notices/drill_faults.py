"""Channel faults injected by a drill: a channel kind "down" for drill notices, for real.

Why: a drill measures whether the fallback reaches a person when a channel fails (issue 17, item
3: "a channel down is a real failure, its endpoint stopped or pointed at a closed local port").
A fake failure (a flag the delivery engine obeys) would measure the flag. So while a fault is
active, every *drill* notice's channels of that kind are pointed at a closed port on 127.0.0.1:
Apprise's connection is refused, the delivery engine records the failure as it would any other
(attempts, evidence, ledger), and the person's next channel is tried. Real notices are never
touched (``send_notice`` applies faults only when ``drill`` is set).

The faults live in ``$REGFLOWS_HOME/drill-faults.json`` (owner-only, written atomically), so the
drill run, the watches and the endpoint (separate processes) all see them; each has an ``until``
after which it no longer applies, so a drill run that died cannot leave a channel down.

A shared layer: it names no procedure (the drill passes its id and the kind).
"""

from __future__ import annotations

import datetime as dt
import json
import socket
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from notices.routing import Recipient
from regflows import config
from regflows.kit.files import write_atomically
from regflows.profile import Channel
from regflows.store.models import utcnow

__all__ = ["FAULTS_FILE", "active", "apply", "clear", "closed_port", "faulted_url", "set_down"]

FAULTS_FILE = "drill-faults.json"
#: The host a downed channel is pointed at: this machine, never a real address.
HOST = "127.0.0.1"


def _path() -> Path:
    return config.home() / FAULTS_FILE


def _read() -> dict[str, Any]:
    try:
        data = json.loads(_path().read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def closed_port() -> int:
    """A local TCP port nobody listens on: bound by the system, then closed."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def faulted_url(kind: str, port: int) -> str:
    """Where a downed channel points: a JSON webhook on a closed local port (``json`` is a scheme
    Apprise sends over TCP for every kind; the kind stays what it was, so the SMS form and the SMS
    rate limit still apply)."""
    return f"json://{HOST}:{port}/drill-fault/{kind}"


def set_down(drill_id: str, kind: str, until: dt.datetime, port: int | None = None) -> int:
    """Channel ``kind`` is down for drill notices until ``until``; returns the closed port used."""
    data = _read()
    chosen = port or closed_port()
    data.setdefault(drill_id, {})[kind] = {"port": chosen, "until": until.isoformat()}
    write_atomically(_path(), json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8"))
    return chosen


def clear(drill_id: str) -> None:
    """The drill's faults removed (its end)."""
    data = _read()
    if data.pop(drill_id, None) is not None:
        write_atomically(_path(), json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8"))


def active(now: dt.datetime | None = None) -> dict[str, int]:
    """Channel kind → closed port, for every fault of every drill still in force."""
    moment = now or utcnow()
    out: dict[str, int] = {}
    for faults in _read().values():
        for kind, fault in (faults or {}).items():
            try:
                if dt.datetime.fromisoformat(fault["until"]) > moment:
                    out[kind] = int(fault["port"])
            except (KeyError, TypeError, ValueError):
                continue  # a hand-edited entry that says nothing usable applies to nothing
    return out


def apply(people: Iterable[Recipient], now: dt.datetime | None = None) -> list[Recipient]:
    """``people`` with their downed channels pointed at the closed port (drill notices only)."""
    down = active(now)
    if not down:
        return list(people)

    def channel(c: Channel) -> Channel:
        return c.model_copy(update={"url": faulted_url(c.kind, down[c.kind])}) if c.kind in down else c

    return [replace(p, channels=tuple(channel(c) for c in p.channels)) for p in people]
