"""Releasing a warning (CQ-PLAN 第三篇五 预警解除): who decides and who consents per colour, recorded
through the command on the timeline and in the audit ledger."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select
from typer.testing import CliRunner

from regflows.cli import app
from regflows.incident import store
from regflows.incident.grading import grade
from regflows.incident.record import IncidentRecord
from regflows.store import db, migrate
from regflows.store.models import AuditEntry, utcnow

BEIJING = dt.timezone(dt.timedelta(hours=8))
runner = CliRunner()


@pytest.fixture
def incident(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, http, write_profile):  # type: ignore[no-untyped-def]
    """A function: ``incident(grade)`` records an incident of that grade and returns its id."""
    migrate()
    profile_file = write_profile(tmp_path / "profile.yaml", http.base, 9, "http://127.0.0.1:4201")
    monkeypatch.setenv("REGFLOWS_PROFILE", str(profile_file))

    def make(grade_: str) -> str:
        discovered = utcnow().astimezone(BEIJING).replace(microsecond=0) - dt.timedelta(hours=1)
        data = {"title": f"事件{grade_}", "occurred_at": discovered.isoformat(), "discovered_at": discovered.isoformat(),
                "discovered_by": "值班工程师", "system_name": "办公系统", "category": "other"}
        if grade_ != "IV":
            data.update(assessed_grade=grade_, assessed_reason="研判")
        record = IncidentRecord.model_validate(data)
        grading = grade(record)
        incident_id = store.incident_id_for(record.model_dump(mode="json"), "YX0001")
        store.save_incident(incident_id, record.model_dump(mode="json"), "YX0001", grading.model_dump(mode="json"), grading.rules_version, "t")
        return incident_id

    return make


def _release(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["incident", "release-warning", *args])


def test_blue_is_released_by_the_division_and_recorded(incident) -> None:  # type: ignore[no-untyped-def]
    """CQ-PLAN 第三篇五（四）: 蓝色预警解除 — 事件发生处室根据实际情况决定解除预警."""
    incident_id = incident("IV")
    refused = _release(incident_id, "--by", "zhao.lei")
    assert refused.exit_code == 5 and "零售业务处" in refused.stderr and "CQ-PLAN 第三篇五（四）" in refused.stderr
    done = _release(incident_id, "--by", "chen.jing", "--note", "隐患已消除，已电话 13812345678 告知")
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["decided_by"] == "chen.jing"
    released = [e for e in store.timeline(incident_id) if e.kind == "warning_released"]
    assert [(e.actor, e.detail["warning"]) for e in released] == [("chen.jing", "蓝色")]
    assert released[0].detail["note"] == "隐患已消除，已电话 138****5678 告知"  # free text masked (issue 14, 3)
    with db.session() as s:
        entry = s.execute(select(AuditEntry).where(AuditEntry.action == "incident.warning_released")).scalar_one()
    assert json.loads(entry.payload)["basis"].startswith("CQ-PLAN 第三篇五（四）")
    again = _release(incident_id, "--by", "chen.jing")
    assert again.exit_code == 5 and "已解除" in again.stderr


def test_yellow_needs_the_working_group_s_consent(incident) -> None:  # type: ignore[no-untyped-def]
    """CQ-PLAN 第三篇五（三）: 黄色预警解除 — 事件发生处室决定，报应急工作组同意后发布预警解除信息."""
    incident_id = incident("III")
    alone = _release(incident_id, "--by", "chen.jing")
    assert alone.exit_code == 5 and "--consented-by" in alone.stderr
    outsider = _release(incident_id, "--by", "chen.jing", "--consented-by", "li.ming")
    assert outsider.exit_code == 5 and "网络安全应急工作组" in outsider.stderr
    ok = _release(incident_id, "--by", "chen.jing", "--consented-by", "sun.li")
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["consented_by"] == "sun.li"


def test_red_is_released_by_the_working_group(incident) -> None:  # type: ignore[no-untyped-def]
    """CQ-PLAN 第三篇五（一）: 红色预警解除 — 应急工作组根据实际情况决定解除预警."""
    incident_id = incident("I")
    assert _release(incident_id, "--by", "chen.jing").exit_code == 5
    assert _release(incident_id, "--by", "zhao.lei").exit_code == 0


def test_without_cq_plan_there_is_no_warning_to_release(incident, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    incident_id = incident("IV")
    data = yaml.safe_load((tmp_path / "profile.yaml").read_text(encoding="utf-8"))
    data["regimes"]["CQ-PLAN"] = False
    (tmp_path / "profile.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    refused = _release(incident_id, "--by", "chen.jing")
    assert refused.exit_code == 5 and "未启用 CQ-PLAN" in refused.stderr
