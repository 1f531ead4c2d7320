"""Rules as data (issue 11 item 4): the grade's name and colour, who is alerted, who investigates
and which draft an obligation produces are read from the rule files. Each test copies the shipped
rules into a temporary folder, changes one value in the copy, and finds the change in the output:
the grading, the alert's colour and roles, the drafts due, a document's text."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any, get_args

import docx
import pytest
import yaml

from regflows.incident import alerts, drafts
from regflows.incident.clock import RULES_DIR, ClockError, DraftKind, load_rule_sets, obligations
from regflows.incident.documents import DOCUMENTS, investigation_report
from regflows.incident.grading import Grading, grade, grading_rules, load_grading_rules
from regflows.incident.record import IncidentRecord
from regflows.profile import DEMO_PROFILE, Profile, load_profile
from tasks.incident import response_roles

BJ = dt.timezone(dt.timedelta(hours=8))
LARGER = {"data_incident": "larger"}  # grade III
MAJOR = {"data_incident": "major"}  # grade II


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    """A copy of the shipped rules folder, to be edited by the test."""
    folder = tmp_path / "rules"
    shutil.copytree(RULES_DIR, folder)
    return folder


@pytest.fixture(scope="module")
def demo() -> Profile:
    return load_profile(DEMO_PROFILE)


def edit(path: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def obligations_file(folder: Path) -> Path:
    (path,) = folder.glob("obligations-*.yaml")
    return path


def rule(data: dict[str, Any], obligation_id: str) -> dict[str, Any]:
    return next(r for r in data["obligations"] if r["id"] == obligation_id)


@pytest.fixture
def sent_alert(rec: Callable[..., IncidentRecord]) -> Callable[[pytest.MonkeyPatch, Profile, Grading], dict[str, Any]]:
    """A function: what send_alert hands to the notices layer, the context and the roles addressed."""
    def sent_alert(monkeypatch: pytest.MonkeyPatch, profile: Profile, grading: Grading) -> dict[str, Any]:
        calls: list[dict[str, Any]] = []

        def fake_send_notice(profile: Profile, kind: str, context: dict[str, Any], roles: list[str], **kw: Any) -> None:
            calls.append({"kind": kind, "context": context, "roles": roles})

        monkeypatch.setattr(alerts, "send_notice", fake_send_notice)
        data = grading.model_dump(mode="json")
        record = rec(**LARGER).model_dump(mode="json")
        alerts.send_alert(profile, "INC-20250930-0001", record, data, [], response_roles(data), None)
        (call,) = calls
        return call
    return sent_alert


# -- the grading rules file ---------------------------------------------------------------------


def test_colour_name_of_grade_ii_is_read_from_the_rules(rules: Path, demo: Profile, monkeypatch: pytest.MonkeyPatch,
                                                        rec, sent_alert) -> None:
    shipped = grade(rec(**MAJOR))
    assert (shipped.warning_zh, sent_alert(monkeypatch, demo, shipped)["context"]["colour"]) == ("橙色", "橙色")
    edit(rules / "grading.yaml", lambda d: d["levels"]["II"].update(warning_zh="红色"))
    changed = grade(rec(**MAJOR), load_grading_rules(rules / "grading.yaml"))
    assert changed.warning_zh == "红色"
    assert sent_alert(monkeypatch, demo, changed)["context"]["colour"] == "红色"


def test_alerted_roles_of_grade_iii_are_read_from_the_rules(rules: Path, demo: Profile, monkeypatch: pytest.MonkeyPatch,
                                                            rec, sent_alert) -> None:
    assert response_roles(grade(rec(**LARGER)).model_dump(mode="json")) == ["division", "on_call", "information_management"]
    edit(rules / "grading.yaml", lambda d: d["levels"]["III"]["alert_roles"].append("compliance"))
    changed = grade(rec(**LARGER), load_grading_rules(rules / "grading.yaml"))
    assert response_roles(changed.model_dump(mode="json")) == ["division", "on_call", "information_management", "compliance"]
    assert sent_alert(monkeypatch, demo, changed)["roles"] == ["division", "on_call", "information_management", "compliance"]


def test_grade_name_and_investigating_body_reach_the_document(rules: Path, demo: Profile, tmp_path: Path, rec) -> None:
    def change(d: dict[str, Any]) -> None:
        d["levels"]["III"]["name"] = "较大（测试）"
        d["levels"]["III"]["investigation"]["text"] = "由信息科技部牵头组织调查（测试）。"

    edit(rules / "grading.yaml", change)
    graded = grade(rec(**LARGER), load_grading_rules(rules / "grading.yaml"))
    assert graded.grade_name == "较大（测试）" and graded.reasons[0].startswith("III 级（较大（测试））")
    record = rec(**LARGER, response_ended_at="2025-09-30T18:00:00+08:00").model_dump(mode="json")
    ctx = drafts.context_for("INC-20250930-0001", record, graded.model_dump(mode="json"), demo, "渝信示范银行",
                             drafts.opening_events(record))
    path = investigation_report(ctx, tmp_path / "investigation.docx").path
    text = "\n".join(p.text for p in docx.Document(str(path)).paragraphs)
    text += "\n".join(c.text for t in docx.Document(str(path)).tables for row in t.rows for c in row.cells)
    assert "III级（较大（测试））" in text and "调查组织：由信息科技部牵头组织调查（测试）。" in text
    assert "由事件发生部门自行组织" not in text


def test_alert_roles_must_include_those_who_act(rules: Path) -> None:
    edit(rules / "grading.yaml", lambda d: d["levels"]["III"].update(alert_roles=["on_call", "information_management"]))
    with pytest.raises(ValueError, match="alert_roles 须包含.*division"):
        load_grading_rules(rules / "grading.yaml")


# -- the obligations rules file -----------------------------------------------------------------


def test_draft_of_an_obligation_is_read_from_the_rules(rules: Path, rec) -> None:
    record = rec(**LARGER).model_dump(mode="json")
    ids = ["police_report", "subject_notification", "regulator_initial_report"]
    assert drafts.drafts_due(ids, record) == ["customer_notice", "regulator_initial_report"]

    def change(d: dict[str, Any]) -> None:
        rule(d, "subject_notification")["draft"] = None
        rule(d, "police_report")["draft"] = "pfi_report"

    edit(obligations_file(rules), change)
    assert drafts.drafts_due(ids, record, load_rule_sets(rules)) == ["pfi_report", "regulator_initial_report"]


def test_drafts_due_follow_the_clock_of_a_copied_rule_set(rules: Path, rec) -> None:
    edit(obligations_file(rules), lambda d: rule(d, "regulator_written_report").update(draft="pfi_report"))
    sets = load_rule_sets(rules)
    record = rec(**LARGER)
    now = dt.datetime(2025, 9, 30, 10, tzinfo=BJ)
    # as the watch does: the obligations that have a due time (handling and the response go on)
    shipped = [o.id for o in obligations(record, grade(record), None, now) if o.due is not None]
    copied = [o.id for o in obligations(record, grade(record), None, now, rule_sets=sets) if o.due is not None]
    assert shipped == copied == ["regulator_initial_report", "regulator_written_report"]
    assert drafts.drafts_due(shipped, record.model_dump(mode="json")) == ["regulator_initial_report", "regulator_report"]
    assert drafts.drafts_due(copied, record.model_dump(mode="json"), sets) == ["regulator_initial_report", "pfi_report"]


def test_unknown_draft_or_setting_in_a_rule_file_is_refused(rules: Path) -> None:
    path = edit(obligations_file(rules), lambda d: rule(d, "police_report").update(draft="police_letter"))
    with pytest.raises(ClockError, match="draft"):
        load_rule_sets(rules)
    shutil.copy(RULES_DIR / path.name, path)
    edit(path, lambda d: rule(d, "pboc_pfi_report")["cases"][0]["due"].update(setting="no_such_minutes"))
    with pytest.raises(ClockError, match="未知设置 no_such_minutes"):
        load_rule_sets(rules)


def test_draft_kinds_are_the_documents() -> None:
    assert set(get_args(DraftKind)) == set(DOCUMENTS)


# -- what stays the same ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("facts", "roles"),
    [
        ({"data_incident": "especially_major"}, ["leadership_group", "emergency_working_group", "on_call", "information_management"]),
        (MAJOR, ["emergency_working_group", "on_call", "information_management"]),
        (LARGER, ["division", "on_call", "information_management"]),
        ({}, ["division", "on_call", "information_management"]),
    ],
)
def test_shipped_alert_roles_are_lead_implementer_issuer_on_call_and_information_management(
    facts: dict[str, Any], roles: list[str], rec
) -> None:
    """The shipped rules alert whom the code did before issue 11 (CQ-PLAN 第四篇二; CUSTINFO 8.2)."""
    g = grade(rec(**facts))
    before = list(dict.fromkeys([g.lead, g.implementer, g.warning_issuer, "on_call", "information_management"]))
    assert response_roles(g.model_dump(mode="json")) == roles == before


def test_a_grading_stored_before_issue_11_is_completed_from_its_rules(rec) -> None:
    stored = grade(rec(**MAJOR)).model_dump(mode="json")
    del stored["alert_roles"], stored["investigation"]
    back = Grading.model_validate(stored)
    level = grading_rules().levels["II"]
    assert back.alert_roles == level.alert_roles and back.investigation == level.investigation
    assert response_roles(stored) == ["emergency_working_group", "on_call", "information_management"]


# -- waivable obligations -----------------------------------------------------------------------

WAIVABLE = {"clause": "TEST 第五条（仅测试用）", "when": "经评估不需要通知的情形"}


def test_only_subject_notification_is_waivable() -> None:
    """Which obligations may be skipped is a regulatory reading, not a default: TENPAY 第五条 alone
    allows skipping one (「公司采取措施能够有效避免…造成危害的，可以不通知个人」, issue 12)."""
    waivable = {r.id: r.waivable for s in load_rule_sets() for r in s.obligations if r.waivable is not None}
    assert list(waivable) == ["subject_notification"] and waivable["subject_notification"].clause == "TENPAY 第五条"


def test_waivable_is_read_from_a_copied_rule_file_and_reaches_the_obligation(rules: Path, rec: Callable[..., IncidentRecord]) -> None:
    edit(obligations_file(rules), lambda d: rule(d, "pboc_pfi_report").update(waivable=WAIVABLE))
    record = rec(pfi={"types": ["身份证号"], "subjects": 10, "high_sensitivity": True}, confirmed_at="2025-09-30T10:00:00+08:00")
    assert record.subjects_at_risk
    now = dt.datetime(2025, 9, 30, 11, tzinfo=BJ)
    listed = {o.id: o for o in obligations(record, grade(record), None, now, rule_sets=load_rule_sets(rules))}
    assert listed["pboc_pfi_report"].model_dump(mode="json")["waivable"] == WAIVABLE  # as the store receives it
    assert [i for i, o in listed.items() if o.waivable is not None] == ["pboc_pfi_report", "subject_notification"]
    shipped = {o.id: o for o in obligations(record, grade(record), None, now)}
    assert shipped["pboc_pfi_report"].waivable is None


def test_a_waivable_without_its_condition_is_refused_naming_the_field(rules: Path) -> None:
    edit(obligations_file(rules), lambda d: rule(d, "police_report").update(waivable={"clause": "TENPAY 第九条"}))
    with pytest.raises(ClockError, match=r"waivable\.when"):
        load_rule_sets(rules)
