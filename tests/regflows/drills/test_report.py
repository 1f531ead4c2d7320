"""The drill report (issue 17, item 5): its overview from what the run recorded, its tables."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import docx

from regflows.drills.measure import AckRow, DeliveryRow, NoticeRow, Records, measure
from regflows.drills.plan import make_plan
from regflows.drills.report import overview, write_report
from regflows.drills.run import started_payload

T = dt.datetime(2026, 9, 15, 2, 0, tzinfo=dt.UTC)


def test_the_overview_shows_the_plans_title_event_participants_and_clauses(build_profile: Any, tmp_path: Path) -> None:
    profile = build_profile({})
    plan = make_plan(profile, 2026, on=dt.date(2026, 9, 15))
    started = started_payload(plan, run_key="k", rehearsal=False, speed=60, started=T)
    measured = measure(Records("INC-D", started, [], [], [], [], [], {}), now=T + dt.timedelta(hours=2))  # no inject fired
    rows = dict(overview(measured, started, profile))
    assert rows["演练名称"] == plan.title and rows["演练事件"] == plan.event_title and rows["依据"] == plan.clause
    names = {p.id: p.name for p in profile.people}
    assert f"{names['wu.gang']}（防守方）" in rows["参演人员"]  # the supplier, with its side (NFRA 44)
    assert f"{names['zhao.lei']}（指挥）" in rows["参演人员"]
    written = write_report(measured, started, profile, tmp_path, T)
    document = docx.Document(str(written["report"]))
    text = "\n".join(p.text for p in document.paragraphs)
    assert plan.title in text and "演练未完成" in text
    cells = [c.text for t in document.tables for r in t.rows for c in r.cells]
    assert cells.count("未触发") == len(plan.injects)  # the injects that never fired are listed


def test_the_report_names_people_roles_and_channels_in_chinese_and_keeps_times_short(build_profile: Any, tmp_path: Path) -> None:
    profile = build_profile({})
    person = profile.roles["on_call"].members[0]
    name = profile.person(person).name
    plan = make_plan(profile, 2026, on=dt.date(2026, 9, 15))
    started = started_payload(plan, run_key="k", rehearsal=False, speed=60, started=T)
    later = T + dt.timedelta(seconds=40)
    records = Records(
        "INC-D",
        started,
        [],
        [NoticeRow("a1", "incident_alert", T, True, 0, "INC-D")],
        [DeliveryRow("a1", person, "sms", "failed", later), DeliveryRow("a1", person, "email", "delivered", later)],
        [AckRow("a1", person, later)],
        [],
        {person: ["on_call"]},
        {"at": later.isoformat()},
    )
    written = write_report(measure(records, now=later), started, profile, tmp_path, T)
    document = docx.Document(str(written["report"]))
    text = "\n".join(p.text for p in document.paragraphs)
    cells = [c.text for t in document.tables for r in t.rows for c in r.cells]
    assert name in cells and profile.roles["on_call"].name in cells and "on_call" not in cells
    assert f"{name}的短信渠道故障，经备用渠道送达" in text and person not in text
    assert "09-15 10:00:10" in cells and not any(c.startswith("2026-") for c in cells[cells.index("计划时间") :])  # the timeline without the year
