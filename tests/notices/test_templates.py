"""Notice templates: typed contexts, masking, the SMS form's limits (notices/templates.py), for
every registered kind: the generic ones and those the procedures register (regflows/procedures.py)."""

from __future__ import annotations

import datetime as dt
import re
import typing
from typing import Any

import jinja2
import pytest
from pydantic import BaseModel

from notices import templates
from notices.kinds import FORMS, kinds
from notices.masking import find_pii
from notices.templates import (
    ACK_LINK_PLACEHOLDER,
    GENERIC_KINDS,
    SMS_FIELDS,
    SMS_MAX_CHARS,
    TEMPLATE_DIR,
    Rendered,
    TemplateContextError,
    ref_label,
    render,
    sms_length,
    sms_variables,
)
from regflows.procedures import PROCEDURES

#: Every kind this process knows once the composition point is loaded, by its context model.
KINDS: dict[str, type[BaseModel]] = {name: registered.context for name, registered in kinds().items()}

UTC = dt.timezone.utc
ACK = "https://regflows.example.cn/ack/q7Yk2mZp"

#: One valid context per kind, in the shapes the callers send (notices/service.py,
#: notices/escalation.py, regflows/cli.py) where a caller exists.
VALID: dict[str, dict[str, Any]] = {
    "inspection_worklist_reminder": {
        "subject_ref": "self-inspection:2026Q3", "quarter": "2026Q3", "owner": "李明", "count": 2, "unanswered": 7,
        "leads": ["flagged:Q000002 非工作时间查询（待答复：审核、查询）核实页面：https://regflows.example.cn/inspection/eHl6.q7Yk2mZp"],
        "due_label": "2026-10-23 17:00", "ack_url": ACK, "institution": "渝信示范银行股份有限公司",
    },
    "inspection_signoff_request": {
        "state": "approve", "subject_ref": "self-inspection:2025Q3", "report_title": "2025年第三季度征信合规与信息安全自查自纠报告",
        "run_id": "2025Q3-20251009T093000-a1b2c3", "revision": 1, "prepared_by": "何敏", "reviewed_by": "孙丽",
        "files": ["《自查自纠报告》self-inspection-report-2025Q3.docx，SHA-256 " + "0" * 64 + "：https://regflows.example.cn/files/eHl6.q7Yk2mZp"],
        "content_sha256": "1" * 64, "clause": "PBOC-102 三（三）（报告流程参照征信信息安全事件的报告要求）",
        "route": "总部报人民银行，单独报送的分支机构报所在地人民银行分支机构", "due_label": "2025-10-28 24:00", "ack_url": ACK,
        "institution": "渝信示范银行股份有限公司",
    },
    "rating_signoff_request": {
        "state": "approve", "subject_ref": "rating:2025", "report_title": "2025年度征信合规与信息安全考核评级自评报告",
        "score_label": "94.5 分，B 级", "revision": 1, "prepared_by": "何敏", "reviewed_by": "孙丽",
        "files": ["《自评报告》rating-self-assessment-2025.docx，SHA-256 " + "0" * 64 + "：https://regflows.example.cn/files/eHl6.q7Yk2mZp"],
        "content_sha256": "1" * 64, "clause": "PBOC-102 附件3 第十条（一）、第十二条", "due_label": "2026-02-02 24:00", "ack_url": ACK,
        "institution": "渝信示范银行股份有限公司",
    },
    "drill_plan_request": {
        "state": "approve", "subject_ref": "drill-plan:DRILL-20260915-incident", "plan_title": "2026年网络安全事件应急演练",
        "event_title": "拒绝服务攻击导致网上银行服务中断", "on": "2026-09-15 10:00", "revision": 1, "prepared_by": "赵磊",
        "reviewed_by": "刘洋", "participants": "赵磊、李明、王芳、吴刚、孙丽",
        "files": ["《演练方案（plan.yaml）》plan.yaml，SHA-256 " + "0" * 64 + "：https://regflows.example.cn/files/eHl6.q7Yk2mZp"],
        "content_sha256": "1" * 64, "clause": "TENPAY 第十六条", "ack_url": ACK, "institution": "渝信示范银行股份有限公司",
    },
    "test": {"institution": "渝信示范银行股份有限公司", "sent_at": "2025-10-01 09:30:00"},
    "incident_alert": {
        "incident_id": "INC-20251001-0001",
        "title": "核心系统交易中断",
        "grade": "II",
        "colour": "橙色",
        "response_level": "II",
        "lead_name": "网络安全应急工作组",
        "discovered_at": dt.datetime(2025, 10, 1, 1, 30, tzinfo=UTC),
        "next_due": [
            {"title": "向国家金融监督管理总局报告", "due_label": "2025-10-01 11:30", "clause": "NFRA 45"},
            {"title": "书面报告", "due_label": "2025-10-02 09:30", "clause": "NFRA 45"},
        ],
        "summary": "09:30 起核心系统交易中断，影响柜面与手机银行。",
        "ack_url": ACK,
        "institution": "渝信示范银行股份有限公司",
    },
    "deadline_reminder": {
        "state": "due_soon",
        "obligation": "提交事件总结报告",
        "clause": "NFRA 48",
        "due_label": "2025-10-16 24:00",
        "subject_ref": "INC-20251001-0001",
        "subject_title": "核心系统交易中断",
        "basis": "2025-10-09 次日起算 5 个工作日，截至该日 24:00",
        "ack_url": ACK,
    },
    "escalation": {
        "notice_ref": "incident:INC-20251001-0001:alert",
        "notice_title": "【II级网络安全事件·橙色预警】核心系统交易中断",
        "drill": False,
        "step": 2,
        "minutes_waited": 10,
        "notified_before": ["li.ming", "王芳"],
        "ack_url": ACK,
    },
    "delivery_failure": {
        "notice_ref": "incident:INC-20251001-0001:alert",
        "notice_title": "【II级网络安全事件·橙色预警】核心系统交易中断",
        "person_name": "李明",
        "channels": [
            {"kind": "dingtalk", "target": "dingtalk://abcd****/", "state": "failed", "error": "HTTP 500"},
            {"kind": "email", "target": "mailtos://ops:****@smtp.example.cn", "state": "unknown", "error": ""},
        ],
        "drill": False,
    },
    "renotify": {
        "notice_ref": "incident:INC-20251001-0001:alert",
        "notice_title": "【II级网络安全事件·橙色预警】核心系统交易中断",
        "drill": False,
        "acked_by": "li.ming",
        "due_label": "2025-10-01 18:00",
    },
    "calendar_warning": {
        "warnings": ["2026 年节假日安排尚未载入，请在通知发布后及时导入。"],
        "checked_on": "2025-11-01",
    },
    "ledger_anchor": {"count": 1234, "head_hash": "0f" * 32, "at": "2025-10-01T00:00:05+08:00"},
    "approval_request": {
        "incident_id": "INC-20251001-0001",
        "incident_title": "核心系统交易中断",
        "grade": "I",
        "action": "结束应急响应",
        "decision_role": "网络安全领导小组",
        "basis": "CQ-PLAN 第四篇 应急结束",
        "proposed_by": "赵磊",
        "ack_url": ACK,
    },
    "signoff_request": {
        "state": "signoff",
        "subject_ref": "credit-stats:2025-10",
        "report_title": "征信信息安全情况统计表（2025年10月）",
        "prepared_by": "何敏",
        "reviewed_by": "孙丽",
        "figures": ["重庆市 渝信示范银行总行：异常查询 3，违规查询 1，非法提供 0，违规使用 0，信用报告泄漏 0"],
        "file_name": "credit-stats-2025-10.xlsx",
        "file_sha256": "0" * 64,
        "clause": "PBOC-102 三（二）、附件2",
        "due_label": "2025-11-10 24:00",
        "ack_url": ACK,
    },
    "credit_violation": {
        "subject_ref": "credit-daily:2025-10-10",
        "day": "2025-10-10",
        "query_id": "Q-20251010-000123",
        "queried_at": "2025-10-10 10:30:00",
        "unit": "YX0001",
        "user_id": "U000017",
        "rule_text": "未取得授权（PBOC-102 附件3 8.1）",
        "rules": "未取得授权（PBOC-102 附件3 8.1）",
        "clause": "PBOC-102 二（四）（日核查）、三（二）（风险事件立即上报）；附件3 8.1",
        "ack_url": ACK,
    },
    "credit_daily_digest": {
        "state": "problem",
        "subject_ref": "credit-daily:2025-10-12",
        "days": ["2025-10-10：查询 3 笔，违规查询 1 笔（已逐笔通知），异常查询线索 1 笔"],
        "leads": ["非工作日或工作时间以外查询（PBOC-102 二（四））：1 笔"],
        "examples": ["2025-10-10 21:00:00 YX0001 用户 U000017 查询 Q-1：非工作日或工作时间以外查询（PBOC-102 二（四））"],
        "files": ["var/reports/credit-daily/2025-10/daily-findings-2025-10-10.csv"],
        "problems": ["2025-10-11 的查询日志不存在：var/credit/daily/query-log-2025-10-11.csv"],
        "count": 1,
        "ack_url": ACK,
    },
}

DRILL_KINDS = ["incident_alert", "deadline_reminder", "escalation", "delivery_failure", "renotify", "approval_request"]


def test_every_kind_has_a_context_and_both_templates() -> None:
    assert set(VALID) == set(KINDS)
    # the generic kinds and each procedure's, nothing else
    assert set(KINDS) == {k.name for k in GENERIC_KINDS} | {k.name for p in PROCEDURES for k in p.kinds}
    assert {k.templates for k in GENERIC_KINDS} == {TEMPLATE_DIR}
    # each kind's folder holds its two templates, and no template of a kind nobody registers
    registered = kinds().values()
    for folder in {k.templates for k in registered}:
        files = {p.name for p in folder.glob("*.j2")}
        assert files == {f"{k.name}.{form}.j2" for k in registered if k.templates == folder for form in FORMS}, folder
    for model in KINDS.values():
        assert model.model_config.get("extra") == "forbid"


def test_procedure_kinds_live_with_their_procedure() -> None:
    """notices/templates/ holds only the generic kinds: a procedure's templates are its own."""
    generic = {k.name for k in GENERIC_KINDS}
    for procedure in PROCEDURES:
        for registered in procedure.kinds:
            assert registered.name not in generic
            assert registered.templates != TEMPLATE_DIR
            assert registered.context.__module__.startswith("regflows."), registered.name


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_renders_both_forms(kind: str) -> None:
    full = render(kind, VALID[kind])
    assert isinstance(full, Rendered)
    assert full.title and "\n" not in full.title
    assert full.body and "{{" not in full.body and "None" not in full.body
    sms = render(kind, VALID[kind], "sms")
    assert sms.title == ""
    assert sms.body and "\n" not in sms.body
    assert sms_length(sms.body) <= SMS_MAX_CHARS
    assert find_pii(sms.body) == []


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_renders_from_a_model_instance(kind: str) -> None:
    model = KINDS[kind].model_validate(VALID[kind])
    assert render(kind, model) == render(kind, VALID[kind])
    assert render(kind, model, "sms") == render(kind, VALID[kind], "sms")


def test_content_of_an_incident_alert() -> None:
    full = render("incident_alert", VALID["incident_alert"])
    assert full.title == "【II级网络安全事件·橙色预警】核心系统交易中断"
    assert "发现时间：2025-10-01 09:30" in full.body  # 01:30 UTC shown in Shanghai time
    assert "由网络安全应急工作组牵头" in full.body
    assert "1. 向国家金融监督管理总局报告：截止 2025-10-01 11:30（NFRA 45）" in full.body
    assert ACK in full.body
    sms = render("incident_alert", VALID["incident_alert"], "sms").body
    assert sms == f"【II级事件·橙色预警】INC-20251001-0001，2项时限最早 10-01 11:30，详见邮件/推送。确认：{ACK}"


def test_deadline_states_and_blank_values_from_callers() -> None:
    for state, label in [("due_soon", "即将到期"), ("due", "已到期"), ("overdue", "已逾期")]:
        full = render("deadline_reminder", {**VALID["deadline_reminder"], "state": state})
        assert full.title.startswith(f"【时限{label}】")
    # notices/escalation.py passes "" for "unknown": treated as absent, not as an invalid value
    full = render("renotify", {**VALID["renotify"], "acked_by": "", "due_label": ""})
    assert "已确认" in full.body and "至今仍未办结" in full.body


def test_escalation_does_not_repeat_the_drill_tag_of_the_quoted_title() -> None:
    context = {**VALID["escalation"], "drill": True, "notice_title": "【演练】【II级网络安全事件】核心系统交易中断"}
    full = render("escalation", context)
    assert full.title == "【演练】【升级·第2级】【II级网络安全事件】核心系统交易中断"
    assert full.body.count("【演练】") == 1  # its own, once: not again from the quoted title
    exhausted = render("escalation", {**context, "chain_exhausted": True})
    assert "升级链已用尽" in exhausted.title and "替补" in exhausted.body


@pytest.mark.parametrize(("ref", "said"), [
    ("credit-stats:2025-10:overdue@2025-11-10", "credit-stats:2025-10 逾期提醒（时限 2025-11-10 24:00）"),
    ("incident:INC-1:regulator_initial_report:overdue@20251001T030000Z", "incident:INC-1:regulator_initial_report 逾期提醒（时限 2025-10-01 11:00）"),
    ("incident:INC-1:regulator_initial_report:before-30@20251001T030000Z", "incident:INC-1:regulator_initial_report 到期前30分钟提醒（时限 2025-10-01 11:00）"),
    ("credit-stats:2025-10:working-day@2025-11-05", "credit-stats:2025-10 2025-11-05 工作日提醒"),
    ("credit-stats:2025-10:overdue@2025-11-10:esc:2", "credit-stats:2025-10 逾期提醒（时限 2025-11-10 24:00） 第2级升级"),
    ("overdue@2025-11-10", "逾期提醒（时限 2025-11-10 24:00）"),
    ("incident:INC-20251001-0001:alert", "incident:INC-20251001-0001:alert"),
])
def test_reminder_keys_in_a_notice_ref_are_said_in_chinese(ref: str, said: str) -> None:
    """Issue 14 (7): Chinese texts showed reminder keys such as ``overdue@2026-11-10``."""
    assert ref_label(ref) == said


def test_an_escalation_of_a_reminder_names_it_in_chinese_in_both_forms() -> None:
    context = {**VALID["escalation"], "notice_ref": "credit-stats:2025-10:overdue@2025-11-10"}
    full, sms = render("escalation", context), render("escalation", context, "sms")
    assert "overdue@" not in full.title + full.body + sms.body
    assert "逾期提醒（时限 2025-11-10 24:00）" in full.body and "逾期提醒" in sms.body
    for kind in ("renotify", "delivery_failure"):
        both = [render(kind, {**VALID[kind], "notice_ref": "credit-stats:2025-10:overdue@2025-11-10"}, form) for form in ("full", "sms")]
        assert all("overdue@" not in r.body and "逾期提醒" in r.body for r in both), kind


# ---------------------------------------------------------------------------------------------
# Errors name the kind and the field
# ---------------------------------------------------------------------------------------------


def _required(kind: str) -> list[str]:
    return [name for name, field in KINDS[kind].model_fields.items() if field.is_required()]


@pytest.mark.parametrize(("kind", "field"), [(k, f) for k in sorted(KINDS) for f in _required(k)])
def test_missing_field_raises_naming_it(kind: str, field: str) -> None:
    context = {k: v for k, v in VALID[kind].items() if k != field}
    for form in ("full", "sms"):
        with pytest.raises(TemplateContextError) as err:
            render(kind, context, form)  # type: ignore[arg-type]
        assert err.value.kind == kind
        assert err.value.field == field
        assert field in str(err.value) and kind in str(err.value)
    assert isinstance(err.value, ValueError)


def test_unknown_field_and_nested_errors_are_named() -> None:
    with pytest.raises(TemplateContextError, match="recipient_name") as err:
        render("escalation", {**VALID["escalation"], "recipient_name": "张三"})
    assert err.value.field == "recipient_name"
    bad = {**VALID["incident_alert"], "next_due": [{"title": "报告", "due_label": "明天", "clause": "NFRA 45"}]}
    with pytest.raises(TemplateContextError) as err:
        render("incident_alert", bad)
    assert err.value.field == "next_due[0].due_label"  # the kit's one field notation (regflows/kit/errors.py)


def test_template_referring_to_an_undefined_field_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    """StrictUndefined: a template bug fails at render time with the field's name, never a blank."""
    env = templates._environment()
    env.loader = jinja2.DictLoader(
        {"test.full.j2": "{% block title %}t{% endblock %}{% block body %}{{ sent_by }}{% endblock %}",
         "test.sms.j2": "{{ sent_at.no_such_attribute }}"}
    )
    monkeypatch.setattr(templates, "_ENV", env)
    with pytest.raises(TemplateContextError, match="sent_by") as err:
        render("test", VALID["test"])
    assert (err.value.kind, err.value.field) == ("test", "sent_by")
    with pytest.raises(TemplateContextError) as err:
        render("test", VALID["test"], "sms")
    assert err.value.field == "no_such_attribute"


def test_unknown_kind_wrong_model_and_bad_form() -> None:
    with pytest.raises(TemplateContextError, match="no_such_kind"):
        render("no_such_kind", {})
    with pytest.raises(TemplateContextError, match="ChannelTestContext"):
        render("test", KINDS["ledger_anchor"].model_validate(VALID["ledger_anchor"]))
    with pytest.raises(TemplateContextError, match="html"):
        render("test", VALID["test"], "html")  # type: ignore[arg-type]


def test_validation_errors_do_not_carry_the_input() -> None:
    """The context may hold personal data; the error ends up in logs, so pydantic's message (which
    quotes the input) is not chained."""
    with pytest.raises(TemplateContextError) as err:
        render("incident_alert", {**VALID["incident_alert"], "summary": "身份证 110101199003071234", "grade": "V"})
    assert err.value.field == "grade"
    assert err.value.__cause__ is None and err.value.__suppress_context__
    assert "110101199003071234" not in str(err.value)


def test_callers_edge_values_still_render() -> None:
    """A failure report or an escalation must not fail over a long error, a long title or clock skew."""
    long_error = "HTTP 502\n<html>" + "x" * 5000 + "</html>"
    context = {**VALID["delivery_failure"], "channels": [{"kind": "email", "target": "mailto://h", "state": "failed", "error": long_error}]}
    body = render("delivery_failure", context).body
    assert "…" in body and len(body) < 1000 and "<html>" in body
    title = "【演练】【II级网络安全事件·橙色预警】" + "长" * 400  # a rendered title quoted back
    assert render("escalation", {**VALID["escalation"], "notice_title": title, "minutes_waited": -1}).body.count("长") == 400
    assert "已0分钟" in render("escalation", {**VALID["escalation"], "minutes_waited": -3}, "sms").body


# ---------------------------------------------------------------------------------------------
# Personal data
# ---------------------------------------------------------------------------------------------


def test_free_text_is_masked_in_the_full_form() -> None:
    context = {
        **VALID["incident_alert"],
        "title": "客户 13812345678 投诉盗刷",
        "summary": "客户张三，身份证 110101199003071234，卡号 6222 0212 3456 7890 123，\n座机 023-6789 1234。",
        "next_due": [{"title": "通知客户 139-1234-5678", "due_label": "2025-10-01 11:30", "clause": "TENPAY 4(4)"}],
    }
    full = render("incident_alert", context)
    text = full.title + "\n" + full.body
    assert find_pii(text) == []
    for clear in ("13812345678", "110101199003071234", "6222 0212 3456 7890 123", "139-1234-5678", "6789 1234"):
        assert clear not in text
    assert "138****5678" in full.title
    assert "110101********1234" in full.body and "622202*********0123" in full.body
    assert "023-******34" in full.body and "139****5678" in full.body


def test_lists_of_free_text_are_masked_too() -> None:
    calendar = render("calendar_warning", {"warnings": ["联系人 13812345678 未回复"]})
    assert "138****5678" in calendar.body
    escalation = render("escalation", {**VALID["escalation"], "notified_before": ["李明 13812345678"]})
    assert "13812345678" not in escalation.body


def test_delivery_targets_and_errors_never_show_a_secret() -> None:
    context = {
        **VALID["delivery_failure"],
        "channels": [
            {"kind": "dingtalk", "target": "dingtalk://abcdef1234567890/", "state": "failed",
             "error": "HTTP 500 from https://oapi.dingtalk.com/robot/send?access_token=s3cr3tvalue"},
            {"kind": "sms", "target": "json://gw.example.cn/sms?to=13812345678&token=zzzz9999", "state": "failed", "error": ""},
        ],
    }
    body = render("delivery_failure", context).body
    for secret in ("abcdef1234567890", "s3cr3tvalue", "zzzz9999", "13812345678"):
        assert secret not in body
    assert "钉钉 dingtalk://abcd****/：失败" in body
    assert "短信 json://gw.example.cn/sms?to=138****5678&token=****：失败" in body


def test_sms_refuses_personal_data_even_masked() -> None:
    """A reference that happens to hold a mobile number: masked in the full form, refused by SMS."""
    context = {**VALID["incident_alert"], "incident_id": "INC-13812345678"}
    assert "INC-138****5678" in render("incident_alert", context).body
    with pytest.raises(TemplateContextError, match="个人信息"):
        render("incident_alert", context, "sms")


def test_sms_pii_check_is_the_last_line_of_defence(monkeypatch: pytest.MonkeyPatch) -> None:
    env = templates._environment()
    env.loader = jinja2.DictLoader({"test.sms.j2": "测试 {{ sent_at|time }} 客服 13812345678"})
    monkeypatch.setattr(templates, "_ENV", env)
    with pytest.raises(TemplateContextError, match="mobile"):
        render("test", VALID["test"], "sms")


#: Fields that may hold names, customers' data or free text: never allowed in an SMS.
NEVER_IN_SMS = {"title", "summary", "notice_title", "person_name", "recipient_name", "notified_before", "acked_by",
                "warnings", "channels", "obligation", "clause", "subject_title", "basis", "institution", "next_due",
                "channel", "error", "target"}


NAMES = ["张三", "李 明", "Zhang San", "欧阳娜娜"]


def _pattern_refuses_names(pattern: str | None) -> bool:
    return pattern is not None and not any(re.fullmatch(pattern, name) for name in NAMES)


def _safe_for_sms(annotation: Any, metadata: list[Any]) -> bool:
    """bool, int, a time, a Literal, or a str whose pattern refuses a name (possibly Optional)."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) is typing.Union or type(annotation).__name__ == "UnionType":
        return all(_safe_for_sms(a, list(getattr(a, "__metadata__", []))) for a in args)
    if typing.get_origin(annotation) is typing.Annotated:
        return _safe_for_sms(args[0], list(annotation.__metadata__))
    if typing.get_origin(annotation) is typing.Literal or annotation in (bool, int, dt.datetime, dt.date):
        return True
    if annotation is str:
        return any(_pattern_refuses_names(getattr(m, "pattern", None)) for m in metadata)
    return False


def test_sms_fields_cannot_hold_names_by_design() -> None:
    assert not SMS_FIELDS & NEVER_IN_SMS
    for kind, registered in kinds().items():
        model, allowed = registered.context, SMS_FIELDS | registered.sms_fields
        assert not allowed & NEVER_IN_SMS, f"{kind} lets an SMS show {allowed & NEVER_IN_SMS}"
        used = sms_variables(kind)
        assert used <= allowed, f"{kind}.sms.j2 uses {used - allowed}"
        for name in used | registered.sms_fields:
            if name in model.model_computed_fields:
                assert model.model_computed_fields[name].return_type in (int, str | None), (kind, name)
                continue
            assert name in model.model_fields, f"{kind}.sms.j2 uses {name}, which {model.__name__} lacks"
            field = model.model_fields[name]
            assert _safe_for_sms(field.annotation, field.metadata), f"{model.__name__}.{name} could hold free text"
    # the check itself: a one-line free-text field (a name) is not safe for an SMS
    line = KINDS["delivery_failure"].model_fields["person_name"]
    assert not _safe_for_sms(line.annotation, line.metadata)
    # the computed SMS fields derive only from constrained values
    assert KINDS["incident_alert"].model_validate(VALID["incident_alert"]).next_due_label == "2025-10-01 11:30"  # type: ignore[attr-defined]


def test_full_templates_parse_and_have_title_and_body() -> None:
    env = templates._environment()
    for kind in KINDS:
        template = env.get_template(f"{kind}.full.j2")
        assert {"title", "body"} <= set(template.blocks)


# ---------------------------------------------------------------------------------------------
# SMS length
# ---------------------------------------------------------------------------------------------


def test_sms_length_cap_raises_never_cuts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(templates, "SMS_MAX_CHARS", 40)
    with pytest.raises(TemplateContextError, match="超过上限 40") as err:
        render("incident_alert", VALID["incident_alert"], "sms")
    assert err.value.field == "ack_url"
    monkeypatch.undo()
    assert render("incident_alert", VALID["incident_alert"], "sms").body.endswith(ACK)


def test_sms_length_counts_utf16_units() -> None:
    assert sms_length("短信") == 2
    assert sms_length("😀") == 2
    assert SMS_MAX_CHARS == 140


def test_an_ack_link_too_long_for_an_sms_raises() -> None:
    link = "https://regflows.example.cn/ack/" + "x" * 160  # today's signed tokens are ~150 characters
    with pytest.raises(TemplateContextError, match="确认链接"):
        render("escalation", {**VALID["escalation"], "ack_url": link}, "sms")
    assert link in render("escalation", {**VALID["escalation"], "ack_url": link}).body


#: The SMS budget the templates are written for: a notice reference up to 36 characters
#: (``incident:INC-20251001-0001:alert`` is 32), an incident/subject reference up to 24,
#: an acknowledgement link up to 64 (``notices.acks`` links are the base URL + 33), drill on, counts
#: at two or three digits.
LONGEST_SMS: dict[str, dict[str, Any]] = {
    "inspection_worklist_reminder": {"subject_ref": "self-inspection:2026Q3", "count": 99_999, "due_label": "2026-10-23 17:00"},
    # a unit's own report (PBOC-102 三（三）'s route): its subject carries the unit code, up to 32 characters
    "inspection_signoff_request": {"state": "review", "subject_ref": "self-inspection:2025Q3-" + "U" * 32, "due_label": "2025-10-28 24:00",
                                   "ack_url": "https://" + "a" * 56},
    "rating_signoff_request": {"state": "review", "subject_ref": "rating:2025", "due_label": "2026-02-02 24:00",
                               "ack_url": "https://" + "a" * 56},
    "drill_plan_request": {"state": "review", "subject_ref": "drill-plan:DRILL-20260915-disaster_recovery_xx",
                           "ack_url": "https://" + "a" * 56},
    "test": {"sent_at": "2025-12-31 23:59"},
    "incident_alert": {"incident_id": "INC-20251001-0001-ABCDEF", "grade": "III", "colour": "黄色", "drill": True,
                       "next_due": [{"title": "t", "due_label": "2025-10-01 11:30", "clause": "c"}] * 99,
                       "ack_url": "https://" + "a" * 56},
    "deadline_reminder": {"subject_ref": "INC-20251001-0001-ABCDEF", "state": "due_soon", "drill": True,
                          "ack_url": "https://" + "a" * 56},
    "escalation": {"notice_ref": "n" * 36, "minutes_waited": 999, "step": 9, "drill": True, "ack_url": "https://" + "a" * 56},
    "delivery_failure": {"notice_ref": "n" * 36, "drill": True, "ack_url": "https://" + "a" * 56,
                         "channels": [VALID["delivery_failure"]["channels"][0]] * 9},
    "renotify": {"notice_ref": "n" * 36, "drill": True, "ack_url": "https://" + "a" * 56},
    "calendar_warning": {"warnings": ["w"] * 99},
    "ledger_anchor": {"count": 999_999_999},
    "approval_request": {"incident_id": "INC-20251001-0001-ABCDEF", "grade": "III", "drill": True, "ack_url": "https://" + "a" * 56},
    "signoff_request": {"state": "review", "subject_ref": "credit-stats:2025-10", "ack_url": "https://" + "a" * 56},
    "credit_violation": {"subject_ref": "credit-daily:2025-10-10", "ack_url": "https://" + "a" * 56},
    "credit_daily_digest": {"state": "problem", "subject_ref": "credit-daily:2025-10-12", "count": 99_999,
                            "ack_url": "https://" + "a" * 56},
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_sms_budget_fits_the_longest_expected_values(kind: str) -> None:
    context = {**VALID[kind], **LONGEST_SMS[kind]}
    sms = render(kind, context, "sms").body
    assert sms_length(sms) <= SMS_MAX_CHARS, (sms_length(sms), sms)
    if kind == "escalation":
        sms = render(kind, {**context, "chain_exhausted": True}, "sms").body
        assert sms_length(sms) <= SMS_MAX_CHARS, (sms_length(sms), sms)


def test_record_copy_placeholder_is_the_one_the_service_uses() -> None:
    from notices.service import ACK_PLACEHOLDER

    assert ACK_PLACEHOLDER == ACK_LINK_PLACEHOLDER
    sms = render("escalation", {**VALID["escalation"], "ack_url": ACK_PLACEHOLDER}, "sms")
    assert sms.body.endswith(ACK_PLACEHOLDER)


# ---------------------------------------------------------------------------------------------
# Drills
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", DRILL_KINDS)
def test_drill_prefix(kind: str) -> None:
    drill = {**VALID[kind], "drill": True}
    full = render(kind, drill)
    assert full.title.startswith("【演练】")
    assert full.body.startswith("【演练】")  # the email's and the webhook's body too, not only the title (issue 17, 3)
    assert render(kind, drill, "sms").body.startswith("【演练】")
    real = {**VALID[kind], "drill": False}
    assert "演练" not in render(kind, real).title + render(kind, real).body
    assert "演练" not in render(kind, real, "sms").body


def test_contexts_without_drill_refuse_it() -> None:
    for kind in set(KINDS) - set(DRILL_KINDS):
        assert "drill" not in KINDS[kind].model_fields
        with pytest.raises(TemplateContextError, match="drill"):
            render(kind, {**VALID[kind], "drill": True})


def test_models_are_plain_pydantic_models() -> None:
    for model in KINDS.values():
        assert issubclass(model, BaseModel)


def test_late_reminder_says_it_is_late() -> None:
    context = {**VALID["deadline_reminder"], "late_from": "2025-10-16T23:30:00+08:00"}
    assert "原定于 2025-10-16 23:30 发送" in render("deadline_reminder", context).body
    assert render("deadline_reminder", context, "sms").body.startswith("【迟发】")
    assert "迟发" not in render("deadline_reminder", VALID["deadline_reminder"]).body


def test_a_reminder_says_its_subject_in_chinese_when_the_feed_gives_a_label() -> None:
    """Review 14, 10: 「所属事项：credit-stats:2026-10」 read as code; the label comes first, the ref after."""
    context = {**VALID["deadline_reminder"], "subject_ref": "credit-stats:2026-10", "subject_label": "2026年10月征信信息安全情况统计表"}
    full, sms = render("deadline_reminder", context), render("deadline_reminder", context, "sms").body
    assert "所属事项：2026年10月征信信息安全情况统计表（credit-stats:2026-10）" in full.body
    assert "（2026年10月征信信息安全情况统计表）" in full.title and "credit-stats" not in full.title
    assert "2026年10月征信信息安全情况统计表 有一项义务" in sms and "credit-stats" not in sms
    assert sms_length(sms) <= SMS_MAX_CHARS
    with pytest.raises(templates.TemplateContextError, match="subject_label"):  # a name is not a label: the SMS stays free of free text
        render("deadline_reminder", {**context, "subject_label": "张三"}, "sms")
    plain = render("deadline_reminder", VALID["deadline_reminder"])
    assert f"所属事项：{VALID['deadline_reminder']['subject_ref']}" in plain.body
