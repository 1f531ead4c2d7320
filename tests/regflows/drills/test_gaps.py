"""Each gap of a drill's report a rectification item on the shared register: a working-day due date,
an owner told by name, reminders and raising, closure with evidence and a re-check by someone else
(issue 17, item 5)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from calendars.deadlines import end_of_day
from calendars.official import default_calendar
from regflows.cli import app
from regflows.drills.gaps import close_gap, list_gaps, open_gaps
from regflows.drills.plan import make_plan
from regflows.drills.reminders import remind
from regflows.drills.run import record_finished, record_inject, record_started, schedule
from regflows.exit_codes import ExitCode
from regflows.kit.obligations import Refused
from regflows.store import db, migrate
from regflows.store.models import Notice

BJ = dt.timezone(dt.timedelta(hours=8))
GAPS = [{"problem": "通知 a2 无人确认（升级 2 级）", "improvement": "核实值班联系方式"}]


@pytest.fixture
def store(home: Path) -> Path:
    migrate()
    return home


def test_a_gap_is_due_in_working_days_reminded_to_its_owner_and_closed_after_a_recheck(store: Path, http: Any, build_profile: Any) -> None:
    profile = build_profile({"t.o": [("webhook", f"json://{http.base}/ok/owner")]})
    [gap] = open_gaps(profile, "INC-20260928-DRILL", GAPS, owner="t.o", opened_on=dt.date(2026, 9, 28))
    assert open_gaps(profile, "INC-20260928-DRILL", GAPS, owner="t.o", opened_on=dt.date(2026, 9, 28)) == []  # once
    last = default_calendar().add_working_days(dt.date(2026, 9, 28), 15)  # across National Day
    [row] = list_gaps("INC-20260928-DRILL")
    assert row["id"] == gap and row["owner"] == "t.o" and dt.datetime.fromisoformat(row["due"]) == end_of_day(last)
    before = default_calendar().add_working_days(last, -5)
    sent = remind(profile, dt.datetime.combine(before, dt.time(9, 1), BJ))
    assert f"{gap}:rectification:before-5wd@{last.isoformat()}" in sent
    assert http.wait_for("/ok/owner", 1)
    raised = remind(profile, end_of_day(last) + dt.timedelta(minutes=5))
    assert f"{gap}:rectification:overdue@{last.isoformat()}" in raised
    with db.session() as s:
        alarm = s.get(Notice, f"{gap}:rectification:overdue@{last.isoformat()}")
        assert alarm.requires_ack and "leadership_group" in alarm.roles
    with pytest.raises(Refused, match="复查人不能是整改责任人本人"):
        close_gap(gap, evidence="已更新值班联系方式", by="t.o", rechecked_by="t.o", people=profile.person_ids)
    closed = close_gap(gap, evidence="已更新值班联系方式", by="t.o", rechecked_by="sun.li", people=profile.person_ids)
    assert closed.state == "fulfilled" and list_gaps()[0]["state"] == "fulfilled"


def test_cli_report_opens_the_gaps_and_close_closes_them(store: Path, tmp_path: Path) -> None:
    from regflows.profile import DEMO_PROFILE, load_profile

    profile = load_profile(DEMO_PROFILE)
    plan = make_plan(profile, 2026, on=dt.date(2026, 9, 15))
    started = dt.datetime(2026, 9, 15, 2, 0, tzinfo=dt.UTC)
    record_started(plan, "INC-20260915-DRILLG", run_key="g", rehearsal=False, speed=60, started=started)
    ended = schedule(plan, started, 60)[-1]  # the end of handling, with nobody asking to close: a gap
    record_inject("INC-20260915-DRILLG", ended, ended.at, {"handling_ended_at": ended.at.isoformat()})
    record_finished("INC-20260915-DRILLG", ended.at)  # finished: its only gap is the end of handling
    runner = CliRunner()
    made = runner.invoke(app, ["drill", "report", "INC-20260915-DRILLG", "--out", str(tmp_path / "r"), "--owner", "liu.yang"])
    assert made.exit_code == 0, made.output
    listed = json.loads(runner.invoke(app, ["drill", "gaps", "INC-20260915-DRILLG"]).stdout)
    assert len(listed) == 1 and "end_handling" in listed[0]["problem"] and listed[0]["owner"] == "liu.yang"
    same = runner.invoke(app, ["drill", "close", listed[0]["id"], "--evidence", "x", "--by", "liu.yang", "--rechecked-by", "liu.yang"])
    assert same.exit_code == ExitCode.REFUSED
    done = runner.invoke(
        app, ["drill", "close", listed[0]["id"], "--evidence", "已修订结束流程", "--by", "liu.yang", "--rechecked-by", "zhao.lei"]
    )
    assert done.exit_code == 0, done.output
