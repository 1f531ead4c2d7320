"""Issue 12: the obligations an independent reading of the texts found missing or wrong, clause by
clause, computed by the pure clock (fixed dates). Each test cites the clause it encodes."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from regflows.incident.cli import incident_app
from regflows.incident.clock import ClockError, Extension, Obligation, obligations
from regflows.incident.grading import grade
from regflows.incident.record import IncidentRecord
from regflows.profile import Profile, load_profile

DEMO = Path(__file__).resolve().parents[3] / "profiles" / "demo.yaml"
BJ = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2025, 9, 30, 10, tzinfo=BJ)
PFI = {"types": ["手机号"], "subjects": 10, "high_sensitivity": False}
GRADE_I = {"data_incident": "especially_major"}
GRADE_II = {"data_incident": "major"}
GRADE_III = {"data_incident": "larger"}


def t(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=BJ)


def clock(record: IncidentRecord, profile: Profile | None = None, now: dt.datetime = NOW, **kw: Any) -> dict[str, Obligation]:
    return {o.id: o for o in obligations(record, grade(record), profile, now, **kw)}


@pytest.fixture(scope="module")
def demo() -> Profile:
    return load_profile(DEMO)


def regimes(profile: Profile, **switch: bool) -> Profile:
    return profile.model_copy(update={"regimes": {**profile.regimes, **{k.replace("_", "-"): v for k, v in switch.items()}}})


def payment(profile: Profile) -> Profile:
    """The demo institution under TENPAY (a payment institution's PFI rules)."""
    return regimes(profile, TENPAY=True)


# -- 1. NFRA 45 and 46 ----------------------------------------------------------------------------


def test_grade_i_owes_inform_users_with_a_customer_notice(rec) -> None:
    """NFRA 第四十五条 「特别重大（一级）…应当立即采取处置措施，按照规定及时告知用户」: a grade-I leak of
    two million ID numbers at a bank owes the users a notice (no fixed hour: 及时)."""
    record = rec(data_incident="especially_major", pfi={"types": ["身份证号"], "subjects": 2_000_000, "high_sensitivity": True})
    got = clock(record)
    inform = got["inform_users"]
    assert (inform.regime, inform.clause, inform.due, inform.state) == ("NFRA", "NFRA 第四十五条", None, "pending")
    assert "及时" in (inform.note or "")
    from regflows.incident.clock import shipped_rule_sets

    assert next(r for r in shipped_rule_sets()[0].obligations if r.id == "inform_users").draft == "customer_notice"
    assert "inform_users" not in clock(rec(**GRADE_II))


@pytest.mark.parametrize(("facts", "concern", "owed"), [
    (GRADE_I, None, True), (GRADE_II, None, True), (GRADE_III, None, False), ({}, None, False),
    (GRADE_III, True, True), (GRADE_I, False, False),
])
def test_public_warning_when_the_incident_concerns_the_public(facts: dict, concern: bool | None, owed: bool, rec) -> None:
    """NFRA 第四十六条 「及时向社会发布与公众有关的警示信息」: owed when the incident concerns the public
    (``public_concern``; unset: yes for grades I and II, no below); no fixed hour."""
    got = clock(rec(**facts, **({} if concern is None else {"public_concern": concern})))
    assert ("public_warning" in got) is owed
    if owed:
        assert got["public_warning"].clause == "NFRA 第四十六条" and got["public_warning"].state == "pending"


# -- 2. TENPAY 5: subject notification ------------------------------------------------------------


def test_subject_notification_is_due_immediately_and_waivable(rec) -> None:
    """TENPAY 第五条 「立即…通知住所地的中国人民银行分支机构…并通知个人金融信息主体。公司采取措施能够有效避免
    …造成危害的，可以不通知个人」: listed for every PFI leak, due with the PBoC report (the immediate
    window from discovery), waivable under article 5 (not 24 h after confirmation: article 13
    covers articles 7-9, not article 10's notification)."""
    got = clock(rec(pfi=PFI, confirmed_at="2025-09-30T14:00:00+08:00"))
    notify, pboc = got["subject_notification"], got["pboc_pfi_report"]
    assert notify.due == pboc.due == t("2025-09-30 10:10")
    assert notify.waivable is not None and notify.waivable.clause == "TENPAY 第五条"
    assert "第五条" in notify.clause


def test_a_reopened_subject_notification_is_due_at_once_from_the_request(rec) -> None:
    """TENPAY 第五条 「中国人民银行分支机构…认为可能造成危害要求公司通知个人的，公司应…履行通知职责」: a
    notification waived, then asked for by the branch, is due immediately from the request."""
    asked = t("2025-10-02 15:00")
    got = clock(rec(pfi=PFI), now=t("2025-10-02 15:05"), reopened={"subject_notification": asked})
    notify = got["subject_notification"]
    assert notify.due == t("2025-10-02 16:00") and notify.state == "open" and "重新打开" in (notify.basis or "")


# -- 3. TENPAY 9: police where the company is domiciled, computer systems only -------------------


def test_police_report_only_for_computer_systems_to_the_police_of_the_domicile(demo: Profile, rec) -> None:
    """TENPAY 第九条 「对计算机信息系统中发生的事件，24小时内向发生安全事件的公司主体所在地县级（含）以上人民政府
    公安机关报告」: only in computer information systems (``computer_system``, default yes), to the
    police of the company's domicile (the profile's ``institution.domicile``), not 事发地."""
    got = clock(rec(pfi=PFI, location="成都分行营业部"), payment(demo))
    police = got["police_report"]
    assert police.due == t("2025-10-01 09:10") and "公司主体所在地" in police.title and "事发地" not in police.title
    assert police.addressee == "重庆市渝中区的县级（含）以上人民政府公安机关"
    assert got["pboc_pfi_report"].addressee == "重庆市渝中区的中国人民银行分支机构"  # TENPAY 5: 住所地
    assert "police_report" not in clock(rec(pfi=PFI, computer_system=False), payment(demo))
    no_domicile = demo.model_copy(update={"institution": demo.institution.model_copy(update={"domicile": None})})
    assert clock(rec(pfi=PFI), payment(no_domicile))["police_report"].addressee == "重庆市的县级（含）以上人民政府公安机关"
    assert clock(rec(pfi=PFI))["police_report"].addressee == "公司主体所在地的县级（含）以上人民政府公安机关"


# -- 4. CUSTINFO 8.2: corporate customers' data too ----------------------------------------------


def test_internal_report_for_corporate_customer_data(rec) -> None:
    """CUSTINFO 8.2 「发现信息泄露、篡改等事件后，经办人需立即向信息管理部报告，2小时内提交书面报告」: any
    customer information, corporate customers included, not only PFI."""
    got = clock(rec(corporate_customer_data=True))
    assert got["internal_written_report"].due == t("2025-09-30 11:10")
    assert "internal_written_report" not in clock(rec())
    assert "pboc_pfi_report" not in got  # corporate data is not PFI: the TENPAY reports stay PFI's


# -- 5. NFRA 61: CII ------------------------------------------------------------------------------


def test_cii_initial_report_goes_to_nfra_itself(rec) -> None:
    """NFRA 第六十一条 「关基运营者应当第一时间向国家金融监督管理总局、公安部门报告，最迟不得超过1小时」: the
    one first report, due 1 h, addressed to 国家金融监督管理总局 itself (not "or its local office")."""
    got = clock(rec(cii=True, **GRADE_III))
    initial = got["regulator_initial_report"]
    assert initial.due == t("2025-09-30 10:10")
    assert "国家金融监督管理总局" in initial.title and "派出机构" not in initial.title
    assert initial.addressee == "国家金融监督管理总局"
    assert "police_report_cii" in got
    plain = clock(rec(**GRADE_III))["regulator_initial_report"]
    assert "或其派出机构" in plain.title and plain.addressee == "国家金融监督管理总局或其派出机构"


def test_cii_special_audit_due_immediately_after_recovery_beside_nfra_49(rec) -> None:
    """NFRA 第六十一条 「事件恢复后立即开展专项审计」: its own obligation, due the immediate window after
    ``recovered_at`` (pending until known); NFRA 第四十九条's special audit (grade II and above, 及时)
    is listed beside it when both apply."""
    pending = clock(rec(cii=True, **GRADE_III))
    assert pending["cii_special_audit"].state == "pending" and "special_audit" not in pending
    both = clock(rec(cii=True, recovered_at="2025-09-30T16:00:00+08:00", **GRADE_II))
    assert both["cii_special_audit"].due == t("2025-09-30 17:00") and both["cii_special_audit"].clause.startswith("NFRA 第六十一条")
    assert both["special_audit"].clause == "NFRA 第四十九条" and both["special_audit"].due is None


# -- 6. TENPAY 13: the management's written approval ----------------------------------------------


def test_pfi_response_steps_extended_by_written_approval(rec) -> None:
    """TENPAY 第十三条 「除非有公司管理层另行书面批准，上述第七条至第九条的措施应当在确认…后的24小时内予以处理完成」:
    an approval moves the due time, recorded with who and when; not overdue before it."""
    record = rec(pfi=PFI, confirmed_at="2025-09-30T10:00:00+08:00")
    at = t("2025-10-01 11:00")
    assert clock(record, now=at)["pfi_response_steps"].state == "overdue"
    ext = Extension(until=t("2025-10-03 18:00"), approved_by="周强", approved_at=t("2025-10-01 08:00"))
    steps = clock(record, now=at, extended={"pfi_response_steps": ext})["pfi_response_steps"]
    assert (steps.due, steps.state) == (t("2025-10-03 18:00"), "open")
    assert "周强" in (steps.basis or "") and "2025-10-01 08:00" in (steps.basis or "") and "第十三条" in (steps.basis or "")
    with pytest.raises(ClockError, match="不允许另定期限"):
        clock(rec(pfi=PFI), extended={"pboc_pfi_report": ext})


# -- 7. other authorities; regimes off ------------------------------------------------------------


@pytest.mark.parametrize(("facts", "owed"), [(GRADE_I, True), (GRADE_II, True), (GRADE_III, False)])
def test_cyberspace_office_report_for_grades_i_and_ii(facts: dict, owed: bool, rec) -> None:
    """CQ-PLAN 第三篇四、第四篇二 「及时通报…市委网信办、市网安总队」: grade I and II, no fixed hour."""
    got = clock(rec(**facts))
    assert ("cyberspace_office_report" in got) is owed
    if owed:
        item = got["cyberspace_office_report"]
        assert (item.regime, item.owner, item.due) == ("CQ-PLAN", "emergency_working_group", None)


def test_cii_protection_report_at_a_payment_institution(rec) -> None:
    """TENPAY 第五条第二款 「关键信息基础设施发生重大网络安全事件…向保护工作部门、公安机关报告」: CII, grade II
    or above, at once (the immediate window)."""
    got = clock(rec(cii=True, **GRADE_II))
    assert got["cii_protection_report"].due == t("2025-09-30 10:10")
    assert "cii_protection_report" not in clock(rec(cii=True, **GRADE_III))


def test_regimes_off_take_their_new_obligations_off(demo: Profile, rec) -> None:
    """Where a regime is off, its obligations are off (issue 12 point 7)."""
    record = rec(cii=True, pfi=PFI, **GRADE_I)
    everything = clock(record, payment(demo))
    assert {"inform_users", "public_warning", "cyberspace_office_report", "cii_protection_report", "subject_notification",
            "cii_special_audit"} <= set(everything)
    assert not {"inform_users", "public_warning", "cii_special_audit"} & set(clock(record, regimes(payment(demo), NFRA=False)))
    assert "cyberspace_office_report" not in clock(record, regimes(payment(demo), CQ_PLAN=False))
    assert not {"cii_protection_report", "subject_notification"} & set(clock(record, demo))  # the demo bank: TENPAY off


# -- the CLI contract -----------------------------------------------------------------------------


def test_cli_clock_lists_the_new_obligations_with_iso_due_times(tmp_path: Path) -> None:
    """`regflows incident clock FILE.json --now ISO` lists the issue's ids; due times are ISO 8601 with
    offset (NFRA 45/46/61, TENPAY 5, CQ-PLAN 第三篇四)."""
    record = {"title": "关基数据泄露", "occurred_at": "2025-09-30T09:00:00+08:00", "discovered_at": "2025-09-30T09:10:00+08:00",
              "discovered_by": "监控中心", "system_name": "核心业务系统", "category": "other", "cii": True,
              "data_incident": "especially_major", "pfi": PFI, "recovered_at": "2025-09-30T12:00:00+08:00"}
    path = tmp_path / "r.json"
    path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    result = CliRunner().invoke(incident_app, ["clock", str(path), "--now", "2025-09-30T12:30:00+08:00"])
    assert result.exit_code == 0, result.output
    rows = {o["id"]: o for o in json.loads(result.stdout)["obligations"]}
    assert {"inform_users", "public_warning", "cyberspace_office_report", "cii_special_audit", "cii_protection_report",
            "subject_notification"} <= set(rows)
    assert rows["subject_notification"]["due"] == "2025-09-30T10:10:00+08:00"
    assert rows["cii_special_audit"]["due"] == "2025-09-30T13:00:00+08:00"
    assert rows["cii_protection_report"]["addressee"] == "保护工作部门、公安机关"
    assert rows["public_warning"]["due"] is None and rows["public_warning"]["state"] == "pending"


def test_cii_regulator_draft_is_addressed_to_nfra_itself(demo: Profile, rec, tmp_path: Path) -> None:
    """NFRA 第六十一条 「第一时间向国家金融监督管理总局、公安部门报告」: the CII draft's addressee is
    国家金融监督管理总局 itself; a non-CII one keeps NFRA 45's 「或者其派出机构」."""
    from regflows.incident.documents import DOCUMENTS
    from regflows.incident.drafts import context_for, opening_events

    def addressee(record: IncidentRecord) -> str:
        data = record.model_dump(mode="json")
        ctx = context_for("INC-20250930-ABCDEF", data, grade(record).model_dump(mode="json"), demo, "总行", opening_events(data))
        path = DOCUMENTS["regulator_report"](ctx, tmp_path / f"{record.cii}.docx").path
        import docx

        return next(p.text for p in docx.Document(str(path)).paragraphs if p.text.endswith("："))

    assert addressee(rec(cii=True, **GRADE_III)) == "国家金融监督管理总局："
    assert addressee(rec(**GRADE_III)) == "国家金融监督管理总局或其派出机构："
