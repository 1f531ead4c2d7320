"""incident-fulfil and incident-waive on a real Prefect server (review of issue 14, 7 and 8): the
obligation is chosen by its Chinese title, and a refusal ends the run Failed with a Chinese
message and no traceback, run as a served deployment runs it (``python -m prefect.engine``)."""

from __future__ import annotations

import datetime as dt

import pytest

from regflows.incident import store
from regflows.incident.form import form_from_record
from regflows.incident.record import IncidentRecord
from regflows.store.models import utcnow

BEIJING = dt.timezone(dt.timedelta(hours=8))
pytestmark = pytest.mark.prefect


def declared() -> str:
    """A grade IV outage declared through the flow; its id."""
    from flows.incident_response import incident_response

    discovered = utcnow().astimezone(BEIJING).replace(microsecond=0) - dt.timedelta(hours=1)
    record = IncidentRecord.model_validate({
        "title": "核心系统中断", "occurred_at": (discovered - dt.timedelta(minutes=10)).isoformat(),
        "discovered_at": discovered.isoformat(), "discovered_by": "值班工程师", "system_name": "核心系统",
        "category": "equipment_failure", "outage": {"provinces": 1, "hours": 1, "business_hours": True},
    })
    return str(incident_response(form_from_record(record), "li.ming")["incident_id"])


def _clean(ran: dict) -> None:  # type: ignore[type-arg]
    """Failed, in Chinese, and no traceback nor Python exception name anywhere in the run's logs."""
    state, logs = ran["run"]["state"], ran["logs"]
    assert state["type"] == "FAILED", state
    assert "encountered an exception" not in state["message"] and "Error" not in state["message"], state["message"]
    bad = [m for m in logs if "Traceback" in m or "unexpected exception" in m or "encountered an exception" in m]
    assert bad == [], bad
    assert any(state["message"] in m or m in state["message"] for m in logs if "义务未" in m)


def test_the_obligation_is_fulfilled_by_its_chinese_title_and_refusals_read_chinese(world, run_as_deployed) -> None:  # type: ignore[no-untyped-def]
    from flows.incident_fulfil import OBLIGATIONS, incident_fulfil
    from flows.incident_waive import incident_waive

    incident_id = declared()
    owed = {o.code for o in store.obligations_of(incident_id)}
    code = next(c for c in OBLIGATIONS if c in owed)
    done = incident_fulfil(incident_id, OBLIGATIONS[code], "已电话报告监管联络人", "李明（li.ming）")
    assert done["obligation"] == code
    assert next(o for o in store.obligations_of(incident_id) if o.code == code).fulfilled_by == "li.ming"

    # No such incident (IncidentNotFound), through the engine a deployment uses.
    missing = run_as_deployed(incident_fulfil, {"incident_id": "INC-20260101-000000", "obligation": OBLIGATIONS[code],
                                                "evidence": "已报告", "by": "李明（li.ming）"})
    _clean(missing)
    assert missing["run"]["state"]["message"].startswith("义务未登记履行：事件 INC-20260101-000000 ")
    # Not a choice of the form (a typo): named in Chinese, the choices listed.
    typo = run_as_deployed(incident_fulfil, {"incident_id": incident_id, "obligation": "首次报告",
                                             "evidence": "已报告", "by": "李明（li.ming）"})
    _clean(typo)
    assert "「义务」应为以下之一：" in typo["run"]["state"]["message"]
    # A waiver no rule allows (WaiverRefused): Failed in Chinese, nothing written.
    before = store.timeline(incident_id)
    waived = run_as_deployed(incident_waive, {"incident_id": incident_id, "obligation": code, "reason": "无需报告",
                                              "by": "李明（li.ming）"})
    _clean(waived)
    assert waived["run"]["state"]["message"].startswith("义务未豁免：") and "没有规则允许豁免" in waived["run"]["state"]["message"]
    assert len(store.timeline(incident_id)) == len(before)
