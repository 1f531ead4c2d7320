"""A drill's injected channel faults: a downed kind points drill recipients at a closed local port
until the fault's end; cleared with the drill (notices/drill_faults.py)."""

from __future__ import annotations

import datetime as dt
import socket
from pathlib import Path

from notices import drill_faults
from notices.routing import person_as_recipient
from regflows.profile import DEMO_PROFILE, load_profile

UTC = dt.UTC


def test_a_downed_kind_points_at_a_closed_port_until_its_end_and_is_cleared(home: Path) -> None:
    profile = load_profile(DEMO_PROFILE)
    li = person_as_recipient(profile, "li.ming", "on_call")  # outbox push, sms, email
    now = dt.datetime(2026, 9, 15, 2, 0, tzinfo=UTC)
    assert drill_faults.apply([li], now) == [li]  # no fault: unchanged
    port = drill_faults.set_down("INC-DRILL-1", "sms", now + dt.timedelta(minutes=30))
    [changed] = drill_faults.apply([li], now + dt.timedelta(minutes=5))
    kinds = [(c.kind, c.url) for c in changed.channels]
    assert kinds[1] == ("sms", f"json://127.0.0.1:{port}/drill-fault/sms") and kinds[0] == (li.channels[0].kind, li.channels[0].url)
    with socket.socket() as s:  # nobody listens there: a real connection failure
        assert s.connect_ex(("127.0.0.1", port)) != 0
    assert drill_faults.apply([li], now + dt.timedelta(minutes=31)) == [li]  # past its end
    drill_faults.clear("INC-DRILL-1")
    assert drill_faults.active(now) == {}
