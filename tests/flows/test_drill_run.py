"""A drill end to end on a real Prefect server (issue 17, item 3): the drill incident through the
real incident-response flow, notices tagged 【演练】 only to the participants over real HTTP and
SMTP, an injected SMS failure that is a real failure (a closed local port) with the fallback
reaching the person, the re-grade and the end of handling on the timeline; the drill absent from
the month's statistics."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
import docx
import pytest
import yaml
from sqlalchemy import select
from typer.testing import CliRunner

from calendars.zone import SHANGHAI
from notices import drill_faults
from notices.acks import acknowledge, make_token
from regflows.cli import app
from regflows.credit.events import credit_events
from regflows.credit.models import Period
from regflows.drills.plan import Inject, make_plan, write_plan
from regflows.drills.run import entries
from regflows.incident import store
from regflows.profile import load_profile
from regflows.store import db
from regflows.store.models import Acknowledgement, Delivery, Incident, Notice


@pytest.mark.prefect
def test_a_drill_runs_the_incident_pipeline_with_real_faults_only_to_participants(world, prefect_api: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from flows.drill_run import drill_run

    http, smtp = world["http"], world["smtp"]
    profile_file = Path(os.environ["REGFLOWS_PROFILE"])
    data = yaml.safe_load(profile_file.read_text(encoding="utf-8"))
    for person in data["people"]:  # li.ming: SMS first (an HTTP gateway), then e-mail; everyone else a webhook
        if person["id"] == "li.ming":
            person["channels"] = [{"kind": "sms", "url": f"json://{http.base}/ok/li.ming-sms"}, person["channels"][1]]
    profile_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    profile = load_profile(profile_file)
    plan = make_plan(profile, 2026, on=dt.date(2026, 9, 15), event="data_leak")
    plan = plan.model_copy(
        update={
            "injects": [  # the timeline, at speed 60: T+10 → 10 s, T+20 → 20 s, T+25 → 25 s
                Inject(at_minutes=10, action="channel_down", channel="sms", expected="短信故障，经邮件收到", within_minutes=10),
                Inject(at_minutes=20, action="regrade", grade="II", expected="升为 II 级", within_minutes=10),
                Inject(at_minutes=25, action="end_handling", expected="处置结束", within_minutes=20),
            ]
        }
    )
    write_plan(plan, profile, tmp_path)

    result = drill_run(str(tmp_path / "plan.yaml"), speed=60, rehearsal=True)
    drill_id = result["drill_id"]
    assert result["rehearsal"] and [i["action"] for i in result["injects"]] == ["channel_down", "regrade", "end_handling"]

    incident = store.load_incident(drill_id)
    assert incident.drill and incident.grade == "II" and incident.record["handling_ended_at"]
    participants = set(plan.people)
    received = {r.path.removeprefix("/ok/") for r in http.received}
    assert received and {p.removesuffix("-sms") for p in received} <= participants  # never a non-participant
    assert "zhou.qiang" not in received and "chen.jing" not in received  # leadership, division: not participants
    for message in http.received:
        body = message.json()
        assert body["message"].startswith("【演练】") and (not body["title"] or body["title"].startswith("【演练】")), body  # title and body
    assert smtp.messages and all("【演练】" in m.subject and "【演练】" in m.body for m in smtp.messages)

    with db.session() as s:
        notices = s.execute(select(Notice).where(Notice.related == drill_id)).scalars().all()
        assert notices and all(n.drill for n in notices)
        after = [n.id for n in notices if n.kind == "incident_alert" and n.created_at > notices[0].created_at]
        assert after, "the re-grade sent a new alert"
        rows = s.execute(select(Delivery).where(Delivery.notice_id.in_(after), Delivery.person_id == "li.ming")).scalars().all()
        sms = [d for d in rows if d.channel_kind == "sms"]
        assert sms and all(d.state == "failed" and "drill-fault" in d.target_masked for d in sms)  # a real failure
        assert any(d.channel_kind == "email" and d.state == "delivered" for d in rows)  # the fallback reached him
    injects = entries(drill_id, "drill.inject")
    assert [e["action"] for e in injects] == ["channel_down", "regrade", "end_handling"]
    started = entries(drill_id, "drill.started")[0]
    assert started["rehearsal"] and started["plan_id"] == plan.plan_id
    assert drill_faults.active() == {}  # the drill's faults cleared at its end

    now = incident.discovered_at.astimezone(SHANGHAI)
    assert incident.credit_info_event == "report_leak"
    assert drill_id not in [e.incident_id for e in credit_events(Period(now.year, now.month), profile)]  # never counted
    with db.session() as s:
        assert s.execute(select(Incident).where(Incident.id == drill_id)).scalar_one().drill

    # item 4: the measurements match the delivery and acknowledgement records
    first_alert = min((n for n in notices if n.kind == "incident_alert"), key=lambda n: n.created_at)
    acknowledge(make_token(first_alert.id, "wang.fang"))
    made = CliRunner().invoke(app, ["drill", "report", drill_id, "--out", str(tmp_path / "report")])
    assert made.exit_code == 0, made.output
    measured = json.loads((tmp_path / "report" / "measurements.json").read_text(encoding="utf-8"))
    with db.session() as s:
        ack = s.execute(select(Acknowledgement).where(Acknowledgement.notice_id == first_alert.id)).scalar_one()
        sent = s.get(Notice, first_alert.id).created_at
    expected = round((ack.at - sent).total_seconds(), 3)
    assert [(a["person"], a["seconds"]) for a in measured["acks"] if a["notice"] == first_alert.id] == [("wang.fang", expected)]
    assert "on_call" in next(a["role"] for a in measured["acks"])
    assert {"person": "li.ming", "channel": "sms", "failed": True, "fallback_reached": True}.items() <= measured["channels"][0].items()
    assert [i["action"] for i in measured["injects"]] == ["channel_down", "regrade", "end_handling"]
    assert measured["injects"][0]["met"] is True  # every notice after the SMS failure reached its person another way
    assert {o["id"] for o in measured["obligations"]} == {r.code for r in store.obligations_of(drill_id)}
    report = docx.Document(str(tmp_path / "report" / f"drill-report-{drill_id}.docx"))
    assert report.paragraphs[0].text.startswith("【演练】")
