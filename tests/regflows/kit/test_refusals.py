"""Refusal counts per client and minute (regflows/kit/refusals.py, issue 13 item 6): the limit,
one summary per minute, bounded memory, nothing lost when the ledger cannot be written."""

from __future__ import annotations

from typing import Any

import pytest

from regflows.kit import refusals as module
from regflows.kit.refusals import LEDGER_ACTION, RefusalLog


class Clock:
    def __init__(self) -> None:
        self.now = 6_000.0  # the start of minute 100

    def __call__(self) -> float:
        return self.now


def test_a_client_is_limited_for_the_rest_of_its_minute_only() -> None:
    clock = Clock()
    log = RefusalLog(limit=3, clock=clock, append=lambda *a: None)
    for _ in range(3):
        assert not log.limited("10.0.0.1")
        log.note("10.0.0.1", "ack.refused", "forged")
    assert log.limited("10.0.0.1") and not log.limited("10.0.0.2")
    assert log.retry_after() == 60
    clock.now += 59
    assert log.limited("10.0.0.1") and log.retry_after() == 1
    clock.now += 1
    assert not log.limited("10.0.0.1")


def test_each_ended_minute_is_one_ledger_entry_for_all_clients() -> None:
    clock, written = Clock(), []
    log = RefusalLog(limit=2, clock=clock, append=lambda *a: written.append(a))
    for client in ("a", "b", "b", "b"):
        log.note(client, "incident.ingest_refused", "bad token")
    log.limited("b")
    assert log.flush() == 0  # minute 100 is not over
    clock.now += 60
    log.note("a", "upload.refused", "bad token")
    assert log.flush() == 1
    [(action, subject, payload)] = written
    assert (action, subject) == (LEDGER_ACTION, "endpoint")
    assert payload["refusals"] == 4 and payload["limited"] == 1 and list(payload["clients"]) == ["b", "a"]
    assert payload["clients"]["b"] == {"refusals": {"incident.ingest_refused:bad token": 3}, "limited": 1, "tokens": []}
    assert log.flush(force=True) == 1 and written[1][2]["clients"]["a"]["refusals"] == {"upload.refused:bad token": 1}


def test_memory_stays_bounded_with_many_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(module, "MAX_CLIENTS", 10)
    monkeypatch.setattr(module, "MAX_CLIENTS_IN_SUMMARY", 5)
    written: list[Any] = []
    log = RefusalLog(limit=100, clock=Clock(), append=lambda *a: written.append(a[2]))
    for i in range(1000):
        log.note(f"10.0.{i // 256}.{i % 256}", "ack.refused", "forged", token=f"fp{i}")
    log.flush(force=True)
    [payload] = written
    assert payload["refusals"] == 1000
    assert payload["clients"][module.OTHERS]["refusals"] == {"ack.refused:forged": 990}  # 10 clients one by one, the rest together
    assert len(payload["clients"]) == 5 and payload["other_clients"]["count"] == 6


def test_a_failed_ledger_write_keeps_the_counts_for_the_next_try() -> None:
    failing = True
    written: list[Any] = []

    def append(*args: Any) -> None:
        if failing:
            raise RuntimeError("database down")
        written.append(args)

    clock = Clock()
    log = RefusalLog(limit=5, clock=clock, append=append)
    log.note("a", "ack.refused", "forged")
    clock.now += 60
    log.note("a", "ack.refused", "expired")
    with pytest.raises(RuntimeError):
        log.flush(force=True)
    failing = False
    assert log.flush(force=True) == 2
    assert [w[2]["refusals"] for w in written] == [1, 1]
