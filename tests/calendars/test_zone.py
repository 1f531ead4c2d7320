"""The one Shanghai zone (calendars/zone.py) and the one "time left / overdue by" wording in the views."""

from __future__ import annotations

import datetime as dt
import pickle
import re
import zoneinfo
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import tasks.incident
from calendars.zone import SHANGHAI, ZONE_NAME, local_date, now_local, to_local
from regflows.store.models import Obligation

REPO = Path(__file__).resolve().parents[2]
#: A second definition of Beijing time: a ZoneInfo/pendulum zone built from the name, or a fixed +8 offset.
ANOTHER_ZONE = re.compile(
    r"ZoneInfo\(|pendulum\.timezone\(|pendulum\.Timezone\(|timezone\(\s*(?:dt\.|datetime\.)?timedelta\(\s*hours\s*=\s*8\s*\)"
)


def test_shanghai_is_a_zoneinfo_that_works_everywhere_a_tzinfo_does() -> None:
    assert isinstance(SHANGHAI, zoneinfo.ZoneInfo) and str(SHANGHAI) == ZONE_NAME
    utc = dt.datetime(2025, 9, 30, 16, 30, tzinfo=dt.timezone.utc)
    local = utc.astimezone(SHANGHAI)
    assert (local.isoformat(), local.date()) == ("2025-10-01T00:30:00+08:00", dt.date(2025, 10, 1))
    assert dt.datetime(2025, 10, 1, 0, 30, tzinfo=SHANGHAI) == utc
    assert pickle.loads(pickle.dumps(local)) == local  # Prefect and the store pickle/serialise these
    stamps = pd.Series(pd.to_datetime(["2025-10-01 00:30:00"])).dt.tz_localize(SHANGHAI)
    assert stamps.dtype == pd.DatetimeTZDtype("us", "Asia/Shanghai")


def test_helpers_return_standard_datetimes_in_beijing_time() -> None:
    moment = to_local(dt.datetime(2025, 9, 30, 16, 30, tzinfo=dt.timezone.utc))
    assert type(moment) is dt.datetime and moment.utcoffset() == dt.timedelta(hours=8)
    assert local_date(dt.datetime(2025, 9, 30, 16, 30, tzinfo=dt.timezone.utc)) == dt.date(2025, 10, 1)
    now = now_local()
    assert type(now) is dt.datetime and now.tzinfo is SHANGHAI
    with pytest.raises(ValueError, match="naive"):
        to_local(dt.datetime(2025, 10, 1, 9, 0))


def test_no_module_defines_beijing_time_itself() -> None:
    offenders = []
    for folder in ("regflows", "calendars", "notices", "tasks", "flows"):
        for path in (REPO / folder).rglob("*.py"):
            if path == REPO / "calendars" / "zone.py":
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                if ANOTHER_ZONE.search(line):
                    offenders.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert offenders == [], "import calendars.zone.SHANGHAI instead:\n" + "\n".join(offenders)


def test_the_duty_officers_clock_view_says_time_left_in_the_one_wording(monkeypatch: pytest.MonkeyPatch) -> None:
    now = dt.datetime(2025, 10, 1, 1, 0, tzinfo=dt.timezone.utc)  # 09:00 Beijing
    monkeypatch.setattr(tasks.incident, "utcnow", lambda: now)
    tables: list[list[dict[str, Any]]] = []
    monkeypatch.setattr(tasks.incident, "create_table_artifact", lambda table, **_: tables.append(table))
    monkeypatch.setattr(tasks.incident, "create_markdown_artifact", lambda *_, **__: None)

    def row(code: str, due: dt.datetime | None, state: str = "open") -> Obligation:
        return Obligation(code=code, title=code, clause="NFRA 45", owner_role="on_call", state=state, due_at=due, detail={})

    rows = [
        row("late", now - dt.timedelta(minutes=5, seconds=10), "overdue"),
        row("soon", now + dt.timedelta(hours=1, minutes=5)),
        row("later", now + dt.timedelta(days=2, hours=3)),
        row("done", now - dt.timedelta(hours=1), "fulfilled"),
        row("unstarted", None, "pending"),
    ]
    from regflows.profile import load_profile

    profile = load_profile(Path(__file__).resolve().parents[2] / "profiles" / "demo.yaml")
    tasks.incident.publish_clock("INC-1", {"title": "网银中断"}, rows, profile)
    assert [r["剩余"] for r in tables[0]] == ["逾期 0 小时 6 分", "剩 1 小时 5 分", "剩 2 天 3 小时", "", ""]
    assert {r["责任部门"] for r in tables[0]} == {profile.role_label("on_call")} != {"on_call"}  # review 14, 9
