"""Issue 12 on a recorded incident (SQLite store, HTTP stand-in for the channels): the subjects'
notification waived and reopened (TENPAY 5), the management's written extension (TENPAY 13), and
a correction of the rules' reading picked up at the next recomputation (the watch's)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select
from typer.testing import CliRunner

from notices.acks import acknowledge, make_token
from regflows import ledger
from regflows.cli import app
from regflows.incident import alerts, clock, extensions, store
from regflows.incident.grading import grade
from regflows.incident.recompute import clock_rows
from regflows.incident.record import IncidentRecord
from regflows.profile import DEMO_PROFILE, Profile, load_profile
from regflows.store import db, migrate
from regflows.store.models import AuditEntry, utcnow

BASE = "http://127.0.0.1:4201"
BEIJING = dt.timezone(dt.timedelta(hours=8))
runner = CliRunner()


def _payment_profile(http: Any, tmp_path: Path) -> Path:
    """The demo institution under TENPAY, every person's channel at the HTTP stand-in."""
    data = yaml.safe_load(DEMO_PROFILE.read_text(encoding="utf-8"))
    for person in data["people"]:
        person["channels"] = [{"kind": "webhook", "url": f"json://{http.base}/ok/{person['id']}"}]
    data["public_base_url"] = BASE
    data["regimes"]["TENPAY"] = True
    path = tmp_path / "profile.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def pfi_incident(home: Path, http, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A PFI leak (phone numbers) discovered 3 hours ago and confirmed 2 hours ago, at a payment institution."""
    migrate()
    path = _payment_profile(http, tmp_path)
    monkeypatch.setenv("REGFLOWS_PROFILE", str(path))
    discovered = utcnow().astimezone(BEIJING).replace(microsecond=0) - dt.timedelta(hours=3)
    record = IncidentRecord.model_validate({
        "title": "客户手机号泄露", "occurred_at": (discovered - dt.timedelta(minutes=10)).isoformat(),
        "discovered_at": discovered.isoformat(), "discovered_by": "值班工程师", "system_name": "营销系统", "category": "other",
        "pfi": {"types": ["手机号"], "subjects": 120, "high_sensitivity": False},
        "confirmed_at": (discovered + dt.timedelta(hours=1)).isoformat(),
    })
    grading = grade(record)
    data = record.model_dump(mode="json")
    incident_id = store.incident_id_for(data, "YX0001")
    store.save_incident(incident_id, data, "YX0001", grading.model_dump(mode="json"), grading.rules_version, "test")
    profile = load_profile(path)
    rows = {r.code: r for r in clock_rows(incident_id, data, grading.model_dump(mode="json"), profile, utcnow())}
    return {"id": incident_id, "profile": profile, "http": http, "rows": rows, "discovered": discovered}


def _actions(subject: str) -> list[dict[str, Any]]:
    with db.session() as s:
        return [{"action": e.action, "actor": e.actor, **json.loads(e.payload)}
                for e in s.execute(select(AuditEntry).where(AuditEntry.subject == subject).order_by(AuditEntry.seq)).scalars()]


def _recompute(incident_id: str, profile: Profile, now: dt.datetime | None = None):  # type: ignore[no-untyped-def]
    incident = store.load_incident(incident_id)
    return {r.code: r for r in clock_rows(incident_id, incident.record, incident.grading, profile, now or utcnow())}


# -- TENPAY 5: waiving and reopening the subjects' notification -----------------------------------


def test_subject_notification_waived_with_fulfil_waive_then_reopened_due_at_once(pfi_incident) -> None:  # type: ignore[no-untyped-def]
    """TENPAY 第五条 「公司采取措施能够有效避免…造成危害的，可以不通知个人；中国人民银行分支机构…认为可能造成危害
    要求公司通知个人的，公司应…履行通知职责」: the waiver is a person's recorded decision with its reason
    (`fulfil … --waive --reason`), and the branch's request reopens it, due at once, in the ledger."""
    incident_id, profile = pfi_incident["id"], pfi_incident["profile"]
    assert pfi_incident["rows"]["subject_notification"].state == "overdue"  # due 1 h after discovery, 3 h ago
    no_reason = runner.invoke(app, ["incident", "fulfil", incident_id, "subject_notification", "--waive", "--by", "zhao.lei"])
    assert no_reason.exit_code == 2 and "豁免义务必须写明理由（--reason）" in no_reason.stderr
    waived = runner.invoke(app, ["incident", "fulfil", incident_id, "subject_notification", "--waive", "--by", "zhao.lei",
                                 "--reason", "泄露源已阻断，号码未被利用，经评估能够有效避免危害"])
    assert waived.exit_code == 0, waived.output
    assert json.loads(waived.stdout)["state"] == "waived" and json.loads(waived.stdout)["clause"] == "TENPAY 第五条"
    assert _recompute(incident_id, profile)["subject_notification"].state == "waived"

    reopened = runner.invoke(app, ["incident", "reopen", incident_id, "subject_notification", "--by", "zhao.lei",
                                   "--reason", "人民银行重庆营业管理部认为可能造成危害，要求通知个人"])
    assert reopened.exit_code == 0, reopened.output
    rows = _recompute(incident_id, profile)
    notify = rows["subject_notification"]
    asked = dt.datetime.fromisoformat(json.loads(reopened.stdout)["at"])
    assert notify.state in ("open", "due_soon")
    assert abs(notify.due_at.replace(tzinfo=notify.due_at.tzinfo or dt.timezone.utc) - (asked + dt.timedelta(minutes=60))) < dt.timedelta(seconds=1)
    again = runner.invoke(app, ["incident", "waive", incident_id, "subject_notification", "--reason", "再次", "--by", "zhao.lei"])
    assert again.exit_code == 5 and "重新打开" in again.stderr
    actions = [a["action"] for a in _actions(incident_id)]
    assert actions.index("obligation.waived") < actions.index("obligation.reopened")
    assert [e.kind for e in store.timeline(incident_id)][-2:] == ["waived", "reopened"]
    status = json.loads(runner.invoke(app, ["incident", "status", incident_id]).stdout)
    shown = {o["id"]: o for o in status["obligations"]}["subject_notification"]
    assert shown["reopened"]["waiver"]["reason"].startswith("泄露源已阻断") and "waiver" not in shown


# -- TENPAY 13: the management's written approval -------------------------------------------------


def _approval_link(http: Any, person: str) -> str:
    messages = [m.json() for m in http.wait_for(f"/ok/{person}", 1) if "【审批】" in m.json()["title"]]
    return http.ack_link_in(messages[-1]["message"], BASE).rsplit("/", 1)[1]


def test_management_extends_pfi_response_steps_through_a_signed_approval(pfi_incident) -> None:  # type: ignore[no-untyped-def]
    """TENPAY 第十三条 「除非有公司管理层另行书面批准，上述第七条至第九条的措施应当在确认…后的24小时内予以处理完成」:
    a member of the management role approves another due time through their own signed link;
    recorded with who and when; the obligation is not raised as overdue before the new time."""
    incident_id, profile, http = pfi_incident["id"], pfi_incident["profile"], pfi_incident["http"]
    until = (utcnow() + dt.timedelta(days=3)).astimezone(BEIJING).replace(microsecond=0)
    refused = runner.invoke(app, ["incident", "extend", incident_id, "pboc_pfi_report", "--until", until.isoformat(),
                                  "--reason", "x", "--by", "zhao.lei"])
    assert refused.exit_code == 5 and "没有规则允许另定期限" in refused.stderr
    asked = runner.invoke(app, ["incident", "extend", incident_id, "pfi_response_steps", "--until", until.isoformat(),
                                "--reason", "涉及第三方服务商（联系人 13812345678），溯源需延长", "--by", "zhao.lei"])
    assert asked.exit_code == 0, asked.output
    [requested] = [e for e in store.timeline(incident_id) if e.kind == "extension_requested"]
    assert requested.detail["reason"] == "涉及第三方服务商（联系人 138****5678），溯源需延长"  # masked (issue 14, 3)
    assert not any("13812345678" in json.dumps(a, ensure_ascii=False) for a in _actions(incident_id))
    request = f"incident:{incident_id}:extend:pfi_response_steps:r1:leadership_group:1"
    acknowledge(make_token(request, "zhao.lei"))  # the requester is not management: refused, recorded
    assert extensions.advance(profile, incident_id) == []
    acknowledge(_approval_link(http, "zhou.qiang"))  # the leadership group's member
    assert extensions.advance(profile, incident_id) == ["pfi_response_steps"]
    rows = _recompute(incident_id, profile)
    steps = rows["pfi_response_steps"]
    assert steps.state == "open" and "周强" in steps.detail["basis"] and "第十三条" in steps.detail["basis"]
    incident = store.load_incident(incident_id)
    raised = alerts.remind(profile, incident, list(rows.values()), now=utcnow() + dt.timedelta(days=1))
    assert not any(r.startswith("pfi_response_steps:overdue") for r in raised)
    later = alerts.remind(profile, incident, list(_recompute(incident_id, profile).values()), now=until + dt.timedelta(minutes=1))
    assert any(r.startswith("pfi_response_steps:overdue") for r in later)
    [extended] = [a for a in _actions(incident_id) if a["action"] == "obligation.extended"]
    assert (extended["approved_by"], extended["requested_by"]) == ("zhou.qiang", "zhao.lei") and extended["approved_at"]
    refusals = [a for a in _actions(extensions.subject_of(incident_id, "pfi_response_steps"))
                if a["action"] == "obligation.extension_refused"]
    assert refusals and refusals[0]["person"] == "zhao.lei"
    assert ledger.verify().ok


# -- corrections of reading -----------------------------------------------------------------------


def _older_reading(folder: Path) -> Path:
    """The shipped rules as they read before the correction: revision 1, without the subjects'
    notification for a low-sensitivity leak (issue 6's reading)."""
    shutil.copytree(clock.RULES_DIR, folder)
    (path,) = folder.glob("obligations-*.yaml")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["revision"], data["corrections"] = 1, []
    notify = next(r for r in data["obligations"] if r["id"] == "subject_notification")
    notify["cases"][0]["when"] = {"subjects_at_risk": True}
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return folder


def test_a_correction_raises_a_newly_owed_overdue_obligation_at_the_next_tick_with_a_ledger_entry(
        home: Path, http, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 12: 「these are corrections of our reading, not changes of law」: the rule version in force
    is corrected in place (revision 2); an open incident is recomputed at the next watch tick; an
    obligation newly owed that is already overdue (TENPAY 第五条: notify the subjects, due at once)
    is raised as late at once, with a ledger entry saying the rules were corrected."""
    migrate()
    path = _payment_profile(http, tmp_path)
    monkeypatch.setenv("REGFLOWS_PROFILE", str(path))
    profile = load_profile(path)
    older = clock.load_rule_sets(_older_reading(tmp_path / "rules"))
    shipped: Callable[[], tuple[clock.RuleSet, ...]] = clock.shipped_rule_sets
    monkeypatch.setattr(clock, "shipped_rule_sets", lambda: tuple(older))
    discovered = utcnow().astimezone(BEIJING).replace(microsecond=0) - dt.timedelta(hours=3)
    record = IncidentRecord.model_validate({
        "title": "客户手机号泄露", "occurred_at": (discovered - dt.timedelta(minutes=10)).isoformat(),
        "discovered_at": discovered.isoformat(), "discovered_by": "值班工程师", "system_name": "营销系统", "category": "other",
        "pfi": {"types": ["手机号"], "subjects": 120, "high_sensitivity": False},
    })
    grading = grade(record).model_dump(mode="json")
    data = record.model_dump(mode="json")
    incident_id = store.incident_id_for(data, "YX0001")
    store.save_incident(incident_id, data, "YX0001", grading, "nfra-draft-2024", "test")
    before = _recompute(incident_id, profile)
    assert "subject_notification" not in before and before["pboc_pfi_report"].detail["rules_revision"] == 1
    incident = store.load_incident(incident_id)
    alerts.remind(profile, incident, list(before.values()))  # the watch's tick under the older reading
    assert not [a for a in _actions(incident_id) if a["action"] == "obligation.rules_corrected"]

    monkeypatch.setattr(clock, "shipped_rule_sets", shipped)  # the corrected rule file, same version, revision 2

    def tick() -> list[str]:
        """What each incident-watch tick does for the incident (tasks/incident.py watch_incident):
        recompute its clock from the store, then remind and raise."""
        rows = _recompute(incident_id, profile)
        return alerts.remind(profile, store.load_incident(incident_id), list(rows.values()))

    raised = tick()
    assert any(r.startswith("subject_notification:overdue@") for r in raised)
    corrected = [a for a in _actions(incident_id) if a["action"] == "obligation.rules_corrected"]
    assert [c["obligation"] for c in corrected] == ["subject_notification"]
    assert (corrected[0]["from_revision"], corrected[0]["to_revision"], corrected[0]["state"]) == (1, 2, "overdue")
    assert "规则解读已更正" in corrected[0]["note"] and "已逾期" in corrected[0]["note"]
    assert "rules_corrected" in [e.kind for e in store.timeline(incident_id)]
    late = [m.json() for m in http.received if "已逾期" in m.json()["title"]]
    assert any("通知个人金融信息主体" in m["message"] and "【迟发】" in m["message"] and "规则解读已更正" in m["message"]
               for m in late)
    assert not any(r.startswith("subject_notification:") for r in tick())  # the next tick records and sends nothing more
    assert len([a for a in _actions(incident_id) if a["action"] == "obligation.rules_corrected"]) == 1


# -- 及时: no fixed hour, reminded until met ------------------------------------------------------


def test_untimed_obligations_are_reminded_until_fulfilled(home: Path, http, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """CQ-PLAN 第三篇四、第四篇二 「及时通报…市委网信办、市网安总队」 and NFRA 第四十六条 「及时向社会发布与公众
    有关的警示信息」: no fixed hour, so never overdue, but reminded every ``untimed_reminder_hours``
    from discovery until fulfilled."""
    migrate()
    path = _payment_profile(http, tmp_path)
    monkeypatch.setenv("REGFLOWS_PROFILE", str(path))
    profile = load_profile(path)
    discovered = utcnow().astimezone(BEIJING).replace(microsecond=0) - dt.timedelta(hours=5)
    record = IncidentRecord.model_validate({
        "title": "网银大面积中断", "occurred_at": (discovered - dt.timedelta(minutes=10)).isoformat(),
        "discovered_at": discovered.isoformat(), "discovered_by": "监控中心", "system_name": "网银", "category": "other",
        "data_incident": "major",
    })
    grading = grade(record).model_dump(mode="json")
    data = record.model_dump(mode="json")
    incident_id = store.incident_id_for(data, "YX0001")
    store.save_incident(incident_id, data, "YX0001", grading, "nfra-draft-2024", "test")
    rows = _recompute(incident_id, profile)
    report = rows["cyberspace_office_report"]
    assert (report.due_at, report.state, report.detail["untimed"]) == (None, "pending", True)
    sent = alerts.remind(profile, store.load_incident(incident_id), list(rows.values()))
    assert any(r.startswith("cyberspace_office_report:every@") for r in sent)  # 4 h after discovery, once
    assert any(r.startswith("public_warning:every@") for r in sent)  # grade II: public concern unless recorded otherwise
    assert not any(r.startswith("cyberspace_office_report:overdue") for r in sent)
    message = next(m.json() for m in http.received if "市委网信办" in m.json()["message"] and "待及时办理" in m.json()["title"])
    assert "无固定期限（及时）" in message["message"]
    assert not [r for r in alerts.remind(profile, store.load_incident(incident_id), list(_recompute(incident_id, profile).values()))
                if r.startswith("cyberspace_office_report:")]  # not twice in the same interval
    store.fulfil(incident_id, "cyberspace_office_report", evidence="已电话通报市委网信办值班室", by="zhao.lei", people=profile.person_ids)
    later = alerts.remind(profile, store.load_incident(incident_id), list(_recompute(incident_id, profile).values()),
                          now=utcnow() + dt.timedelta(hours=8))
    assert not any(r.startswith("cyberspace_office_report:") for r in later)
    assert any(r.startswith("public_warning:every@") for r in later)  # still owed: reminded again
