"""A drill measured from its records (issue 17, item 4): acknowledgement seconds per person and role,
escalation steps, obligations against their clocks, failed channels and their fallbacks, injects
expected against actual; the gaps the report lists."""

from __future__ import annotations

import datetime as dt

from regflows.drills.measure import AckRow, DeliveryRow, NoticeRow, ObligationRow, Records, gaps, measure

T = dt.datetime(2026, 9, 15, 2, 0, tzinfo=dt.UTC)


def at(seconds: float) -> dt.datetime:
    return T + dt.timedelta(seconds=seconds)


def records() -> Records:
    inject = {
        "index": 1,
        "action": "channel_down",
        "channel": "sms",
        "at_minutes": 10,
        "within_minutes": 10,
        "scheduled": at(10).isoformat(),
        "actual": at(11).isoformat(),
        "expected": "经备用渠道收到",
    }
    regrade = {
        "index": 2,
        "action": "regrade",
        "grade": {"from": "III", "to": "II"},
        "at_minutes": 30,
        "within_minutes": 1,
        "scheduled": at(30).isoformat(),
        "actual": at(30).isoformat(),
        "expected": "II 级告警确认",
    }
    ended = {
        "index": 3,
        "action": "end_handling",
        "at_minutes": 40,
        "within_minutes": 20,
        "scheduled": at(40).isoformat(),
        "actual": at(40).isoformat(),
        "expected": "发起结束审批",
    }
    notices = [NoticeRow("a1", "incident_alert", at(0), True, 0, "INC-D"), NoticeRow("a2", "incident_alert", at(31), True, 2, "INC-D")]
    deliveries = [
        DeliveryRow("a1", "li.ming", "sms", "delivered", at(1)),
        DeliveryRow("a1", "li.ming", "email", "delivered", at(1)),
        DeliveryRow("a2", "li.ming", "sms", "failed", at(32)),
        DeliveryRow("a2", "li.ming", "email", "delivered", at(32)),
        DeliveryRow("a2", "wang.fang", "sms", "failed", at(32)),  # no other channel: not reached
    ]
    acks = [AckRow("a1", "li.ming", at(42.5)), AckRow("a2", "li.ming", at(200))]
    obligations = [
        ObligationRow("internal_written_report", "内部书面报告", at(7200), "fulfilled", at(600)),
        ObligationRow("regulator_initial_report", "向监管报告", at(7200), "pending", None),
    ]
    return Records(
        "INC-D",
        {"plan_id": "DRILL-20260915-incident", "rehearsal": False},
        [inject, regrade, ended],
        notices,
        deliveries,
        acks,
        obligations,
        {"li.ming": ["on_call"]},
        {"at": at(50).isoformat()},
    )


def test_the_measurements_come_from_the_records() -> None:
    m = measure(records(), now=at(86400))
    assert [(a["person"], a["role"], a["seconds"]) for a in m["acks"]] == [("li.ming", "on_call", 42.5), ("li.ming", "on_call", 169.0)]
    assert m["escalations"] == [
        {"notice": "a1", "steps": 0, "acknowledged": True, "superseded": False},
        {"notice": "a2", "steps": 2, "acknowledged": True, "superseded": False},
    ]
    assert [(o["id"], o["met"]) for o in m["obligations"]] == [("internal_written_report", True), ("regulator_initial_report", False)]
    assert m["channels"] == [
        {"person": "li.ming", "channel": "sms", "failed": True, "fallback_reached": True, "notices": 1},
        {"person": "wang.fang", "channel": "sms", "failed": True, "fallback_reached": False, "notices": 1},
    ]
    injects = {i["action"]: i for i in m["injects"]}
    assert injects["channel_down"]["met"] is False and "wang.fang" in injects["channel_down"]["evidence"]
    assert injects["regrade"]["met"] is False and "170" in injects["regrade"]["evidence"]  # acknowledged after its minute
    assert injects["end_handling"]["met"] is False  # nobody asked to end the response
    assert injects["channel_down"]["at"] == at(10).isoformat() and injects["channel_down"]["actual"] == at(11).isoformat()


def test_each_gap_has_its_improvement() -> None:
    found = gaps(measure(records(), now=at(86400)))
    problems = "\n".join(g["problem"] for g in found)
    assert "regulator_initial_report" in problems and "wang.fang 的 sms" in problems and "end_handling" in problems
    assert all(g["improvement"] for g in found)


def test_an_obligation_not_yet_due_and_a_superseded_alert_are_no_gaps() -> None:
    r = records()
    r.obligations = [
        ObligationRow("regulator_written_report", "书面报告", at(86400 * 3), "pending", None),  # due in three days
        ObligationRow("summary_report", "总结报告", None, "pending", None),  # untimed, still open
        ObligationRow("regulator_initial_report", "向监管报告", at(600), "pending", None),  # due, not done: missed
    ]
    r.notices = [
        NoticeRow("a0", "incident_alert", at(0), True, 1, "INC-D", at(30)),  # superseded by a correction's alert
        *r.notices,
    ]
    m = measure(r, now=at(3600))
    assert [(o["id"], o["met"]) for o in m["obligations"]] == [
        ("regulator_written_report", None),
        ("summary_report", None),
        ("regulator_initial_report", False),
    ]
    assert m["escalations"][0] == {"notice": "a0", "steps": 1, "acknowledged": False, "superseded": True}
    problems = "\n".join(g["problem"] for g in gaps(m))
    assert "regulator_initial_report" in problems
    assert "regulator_written_report" not in problems and "summary_report" not in problems and "a0" not in problems


def test_a_killed_run_lists_its_unfired_injects_and_says_it_did_not_finish() -> None:
    r = records()
    r.started = {
        "plan_id": "DRILL-20260915-incident-0a1b2c",
        "rehearsal": False,
        "started": T.isoformat(),
        "speed": 60,
        "plan": {
            "injects": [
                {"index": 1, "at_minutes": 10, "action": "channel_down", "expected": "经备用渠道收到", "within_minutes": 10},
                {"index": 2, "at_minutes": 30, "action": "regrade", "expected": "II 级告警确认", "within_minutes": 1},
                {"index": 3, "at_minutes": 40, "action": "end_handling", "expected": "发起结束审批", "within_minutes": 20},
            ]
        },
    }
    r.injects, r.finished = r.injects[:1], None  # killed after T+10: only the first fired, no drill.finished
    m = measure(r, now=at(3600))
    assert [(i["index"], i["fired"], i["actual"]) for i in m["injects"]] == [(1, True, at(11).isoformat()), (2, False, None), (3, False, None)]
    assert m["injects"][1]["at"] == at(30).isoformat() and m["injects"][1]["evidence"] == "未触发"
    assert not m["finished"] and m["interrupted"]
    [problem] = [g["problem"] for g in gaps(m) if "演练未完成" in g["problem"]]
    assert "2 项注入未触发" in problem
    assert not measure(r, now=at(60))["interrupted"]  # still within its timeline: running, not interrupted
