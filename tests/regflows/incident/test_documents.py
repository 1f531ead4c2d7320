"""Incident report drafts (regflows/incident/documents.py): every required element is in the
file as text, Chinese fonts are set, drills are marked, personal data is masked, a missing
element stops the document and a 待补充 one is reported."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any, Literal

import docx
import pytest
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from pydantic import ValidationError

from notices.masking import mask_pii
from regflows.incident.documents import (
    DOCUMENTS,
    DRAFT_MARK,
    DRILL_TAG,
    ELEMENTS,
    Contact,
    Contacts,
    DocumentContext,
    DraftDocument,
    MissingElementError,
    PfiFacts,
    TimelineEntry,
    customer_notice,
    format_beijing,
    investigation_report,
    missing_elements,
    pending,
    pending_elements,
    pfi_report,
    public_warning,
    regulator_report,
    summary_report,
)

CST = dt.timezone(dt.timedelta(hours=8))
ID_NUMBER = "110101199003071234"
CARD = "6222021234567890123"
MOBILE = "13812345678"
STAFF_PHONE = "13912345678"
OFFICE_PHONE = "023-67891234"

REPORTER = Contact(name="李明", title="信息科技部值班工程师", phone="023-61234567", email="li.ming@example.cn")
LEAD = Contact(name="孙丽", title="合规部总经理", phone=STAFF_PHONE, email="sun.li@example.cn")
OFFICE = Contact(name="个人金融信息保护工作组", phone=OFFICE_PHONE, email="pfi@example.cn")
HOTLINE_PHONE = "95555-1"
HOTLINE = Contact(name="客户服务热线", phone=HOTLINE_PHONE)


def context(**overrides: Any) -> DocumentContext:
    """A complete grade III incident with PFI involved; ``overrides`` replace fields."""
    data: dict[str, Any] = {
        "institution_name": "渝信示范银行股份有限公司",
        "reporting_unit": "渝信示范银行成都分行",
        "incident_id": "INC-20251001-0001",
        "title": "手机银行客户信息泄露",
        "grade": "III",
        "category": "network_attack",
        "occurred_at": dt.datetime(2025, 10, 1, 8, 5, tzinfo=CST),
        "discovered_at": dt.datetime(2025, 10, 1, 1, 30, tzinfo=dt.timezone.utc),  # 09:30 in Beijing
        "confirmed_at": "2025-10-01T10:15:00+08:00",
        "response_ended_at": "2025-10-02T18:00:00+08:00",
        "handling_ended_at": "2025-10-02T17:30:00+08:00",
        "location": "成都同城数据中心",
        "network_name": "互联网业务区",
        "system_name": "手机银行系统",
        "other_systems_affected": "网上银行登录短暂变慢",
        "police_contacted": True,
        "pfi": PfiFacts(types=["姓名", "身份证号", "手机号码"], subjects=1234, high_sensitivity=True),
        "cause": f"攻击者利用接口越权漏洞批量查询，样本含证件号 {ID_NUMBER}。",
        "timeline": [
            TimelineEntry(at="2025-10-01T10:00:00+08:00", text="关闭存在漏洞的查询接口"),
            TimelineEntry(at="2025-10-01T09:30:00+08:00", text=f"客户致电 {MOBILE} 反映收到诈骗短信，值班人员发现异常"),
        ],
        "handling_progress": "漏洞接口已下线，已完成修复并上线验证。",
        "impact": f"约1234名客户信息可能泄露，含卡号 {CARD} 的客户已冻结交易。",
        "possible_harm": "可能被用于冒充本行实施电信诈骗。",
        "customer_summary": "我行手机银行一个查询功能存在漏洞，您的部分个人信息可能被他人获取。",
        "measures_taken": "已关闭存在漏洞的功能并修复，已向公安机关报案。",
        "individual_measures": "请警惕自称本行工作人员的来电，不要点击短信中的陌生链接。",
        "remedies": "如因本事件遭受资金损失，经核实后由我行先行赔付。",
        "nature": "外部网络攻击导致的个人金融信息泄露，属较大网络安全事件。",
        "responsibility": "接口上线前未做越权测试，开发中心负主要责任。",
        "handling_opinion": "对相关责任人予以通报批评。",
        "improvements": "全部对外接口上线前增加越权测试。",
        "lessons": "接口安全测试覆盖不足，监测告警阈值偏高。",
        "public_summary": "近期有不法分子冒充我行发送含钓鱼链接的短信。",
        "public_impact": "使用我行手机银行的客户。",
        "public_advice": "请勿点击短信中的陌生链接，不要向任何人透露验证码。",
        "contacts": Contacts(reporter=REPORTER, pfi_lead=LEAD, pfi_office=OFFICE, public=HOTLINE),
        "prepared_at": dt.datetime(2025, 10, 2, 20, 0, tzinfo=CST),
    }
    data.update(overrides)
    return DocumentContext(**data)


def texts(path: str | os.PathLike[str]) -> str:
    """Every text in the document: body paragraphs and tables in order, headers, footers."""
    document = docx.Document(os.fspath(path))
    parts = ["".join(t.text or "" for t in el.iter(qn("w:t"))) for el in document.element.body.iter(qn("w:p"))]
    for section in document.sections:
        parts += [p.text for p in section.header.paragraphs] + [p.text for p in section.footer.paragraphs]
    return "\n".join(parts)


def raw_xml(path: str | os.PathLike[str]) -> str:
    """Every part of the package, so a leak in properties or headers is found too."""
    with zipfile.ZipFile(path) as z:
        return "\n".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())


HEADINGS: dict[str, list[str]] = {
    "regulator_report": ["一、基本情况", "二、时间", "三、地点", "四、网络和系统名称", "五、事件过程", "六、处置进展", "七、事件影响", "八、联系人"],
    "regulator_initial_report": ["一、基本情况", "二、时间", "三、地点", "四、网络和系统名称", "五、事件过程", "六、处置进展", "七、事件影响", "八、联系人"],
    "progress_report": ["一、基本情况", "二、时间", "三、地点", "四、网络和系统名称", "五、事件过程", "六、处置进展", "七、事件影响", "八、联系人"],
    "public_warning": ["一、事件情况", "二、可能影响的范围", "三、请注意的事项和防范建议", "四、本机构已采取的措施", "五、咨询电话"],
    "pfi_report": [
        "一、基本情况", "二、涉及的个人金融信息种类", "三、事件原因", "四、可能造成的危害",
        "五、已采取的补救措施", "六、个人可以采取的减轻危害的措施", "七、联系方式",
    ],
    "customer_notice": [
        "一、发生了什么，对您有什么影响", "二、我们已经采取和将要采取的措施", "三、建议您采取的自我保护措施",
        "四、我们为您提供的补救措施", "五、如何联系我们",
    ],
    "summary_report": ["一、事件概况", "二、事件成因", "三、影响程度", "四、处置过程", "五、存在的问题缺陷和经验教训", "六、整改完善措施"],
    "investigation_report": ["一、事件概况", "二、事件起因", "三、事件性质", "四、事件影响", "五、责任认定", "六、处理意见", "七、改进措施"],
}

#: Values each document must print (beyond its headings), from the context above.
VALUES: dict[str, list[str]] = {
    "regulator_report": [
        "网络安全事件报告", "国家金融监督管理总局或其派出机构", "依据《银行业保险业网络安全管理办法》第四十五条",
        "渝信示范银行股份有限公司", "渝信示范银行成都分行", "INC-20251001-0001", "手机银行客户信息泄露",
        "III级（较大）", "黄色预警", "网络攻击事件",
        "发生时间", "2025年10月1日 08:05（北京时间）", "发现时间", "2025年10月1日 09:30（北京时间）",
        "成都同城数据中心", "互联网业务区", "手机银行系统", "网上银行登录短暂变慢", "是否已联系执法机关",
        "关闭存在漏洞的查询接口", "2025年10月1日 10:00（北京时间）",
        "漏洞接口已下线", "约1234名客户信息可能泄露", "李明", "023-61234567", "li.ming@example.cn",
        "报送单位：渝信示范银行成都分行（盖章）", "2025年10月2日",
    ],
    "regulator_initial_report": ["网络安全事件首次报告", "（首报：2小时内报告）", "依据《银行业保险业网络安全管理办法》第四十五条",
                                 "III级（较大）", "手机银行系统", "漏洞接口已下线", "约1234名客户信息可能泄露", "023-61234567"],
    "progress_report": ["网络安全事件处置进展报告", "（处置进展报告）", "处置进展报告如下", "漏洞接口已下线", "023-61234567"],
    "public_warning": ["网络安全事件警示信息", "社会公众", "冒充我行发送含钓鱼链接的短信", "使用我行手机银行的客户",
                       "请勿点击短信中的陌生链接", "已关闭存在漏洞的功能", "客户服务热线", HOTLINE_PHONE, "渝信示范银行股份有限公司"],
    "pfi_report": [
        "个人金融信息安全事件报告", "中国人民银行住所地分支机构", "姓名、身份证号、手机号码", "1234 人",
        "是否涉及高敏感信息", "攻击者利用接口越权漏洞", "可能被用于冒充本行实施电信诈骗", "已关闭存在漏洞的功能",
        "请警惕自称本行工作人员的来电", "事件处置联系人", "李明", "个人金融信息保护负责人", "孙丽",
        "个人金融信息保护工作机构", "pfi@example.cn", "2025年10月1日 10:15（北京时间）", "手机银行系统",
    ],
    "customer_notice": [
        "致客户的告知书", "尊敬的客户", "我行手机银行一个查询功能存在漏洞", "姓名、身份证号、手机号码",
        "已关闭存在漏洞的功能", "请警惕自称本行工作人员的来电", "由我行先行赔付",
        "个人金融信息保护负责人", "孙丽", STAFF_PHONE, "个人金融信息保护工作机构", OFFICE_PHONE,
        "渝信示范银行股份有限公司", "2025年10月1日",
    ],
    "summary_report": [
        "网络安全事件总结报告", "依据《银行业保险业网络安全管理办法》第四十八条", "攻击者利用接口越权漏洞",
        "约1234名客户信息可能泄露", "漏洞接口已下线", "关闭存在漏洞的查询接口", "接口安全测试覆盖不足",
        "全部对外接口上线前增加越权测试", "处置结束时间", "2025年10月2日 17:30（北京时间）", "李明",
    ],
    "investigation_report": [
        "事件调查评估报告", "III级响应", "攻击者利用接口越权漏洞", "外部网络攻击导致的个人金融信息泄露",
        "约1234名客户信息可能泄露", "开发中心负主要责任", "对相关责任人予以通报批评", "全部对外接口上线前增加越权测试",
        "应急响应结束时间", "2025年10月2日 18:00（北京时间）", "由事件发生部门自行组织调查处理和总结评估",
    ],
}


@pytest.mark.parametrize("kind", list(DOCUMENTS))
def test_every_required_element_is_in_the_document(kind: str, tmp_path: Path) -> None:
    draft = DOCUMENTS[kind](context(), tmp_path / f"{kind}.docx")
    assert isinstance(draft, DraftDocument) and draft.kind == kind and draft.pending == ()
    text = texts(draft)
    paragraphs = [p.text for p in docx.Document(os.fspath(draft)).paragraphs]
    for heading in HEADINGS[kind]:
        assert heading in paragraphs, f"{kind}: heading {heading} missing"
    for value in VALUES[kind]:
        assert value in text, f"{kind}: {value} missing"
    # The headings are Word headings (navigation pane, outline), not just bold lines.
    styled = [p.text for p in docx.Document(os.fspath(draft)).paragraphs if p.style.name == "Heading 1"]
    assert styled == HEADINGS[kind]


@pytest.mark.parametrize("kind", list(DOCUMENTS))
def test_page_fonts_header_footer_and_properties(kind: str, tmp_path: Path) -> None:
    path = DOCUMENTS[kind](context(), tmp_path / "d.docx").path
    document = docx.Document(os.fspath(path))
    section = document.sections[0]
    # Stored in twips, so compare in whole millimetres.
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    margins = (section.top_margin, section.bottom_margin, section.left_margin, section.right_margin)
    assert tuple(round(m.mm) for m in margins) == (37, 35, 28, 26)
    # Title: centred, 黑体.
    title = document.paragraphs[0]
    assert title.text == document.core_properties.title
    assert title.style.paragraph_format.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert title.style.element.rPr.rFonts.get(qn("w:eastAsia")) == "黑体"
    # Every style used and the document defaults name an East Asian font and no theme font.
    for name in ("Normal", "Heading 1", "RF Title", "RF Table", "Header", "Footer"):
        fonts = document.styles[name].element.rPr.rFonts
        assert fonts.get(qn("w:eastAsia")), name
        assert fonts.get(qn("w:eastAsiaTheme")) is None, name
    defaults = document.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    assert defaults.find(qn("w:rFonts")).get(qn("w:eastAsia")) == "仿宋"
    assert defaults.find(qn("w:lang")).get(qn("w:eastAsia")) == "zh-CN"
    # ... and so does every run with text, in the body, the header and the footer.
    roots = [document.element.body, section.header._element, section.footer._element]
    runs = [r for root in roots for r in root.iter(qn("w:r")) if r.find(qn("w:t")) is not None]
    assert runs
    for run in runs:
        assert run.rPr is not None and run.rPr.rFonts.get(qn("w:eastAsia")), "".join(t.text for t in run.iter(qn("w:t")))
    # Header: the unit and the draft mark; footer: page x of y as fields.
    assert "渝信示范银行成都分行" in section.header.paragraphs[0].text
    assert DRAFT_MARK in section.header.paragraphs[0].text
    instructions = [i.text.strip() for i in section.footer._element.iter(qn("w:instrText"))]
    assert instructions == ["PAGE", "NUMPAGES"]
    assert any(p.text.startswith(DRAFT_MARK) for p in document.paragraphs[1:3])  # the banner under the title
    props = document.core_properties
    assert props.author == "regflows" and props.content_status == DRAFT_MARK
    assert props.created == dt.datetime(2025, 10, 2, 20, 0, tzinfo=CST)  # prepared_at, stored in UTC
    assert DRILL_TAG not in raw_xml(path)  # a real incident's document never says 演练


@pytest.mark.parametrize("kind", list(DOCUMENTS))
def test_drill_marks_title_header_footer_banner_and_properties(kind: str, tmp_path: Path) -> None:
    draft = DOCUMENTS[kind](context(drill=True), tmp_path / "drill.docx")
    document = docx.Document(os.fspath(draft))
    assert draft.title.startswith(DRILL_TAG)
    assert document.paragraphs[0].text.startswith(DRILL_TAG)
    assert document.sections[0].header.paragraphs[0].text.startswith(DRILL_TAG)
    assert document.sections[0].footer.paragraphs[0].text.startswith(DRILL_TAG)
    assert any(p.text.startswith("【演练】本文件为应急演练材料") for p in document.paragraphs[:5])
    assert document.core_properties.title.startswith(DRILL_TAG)
    assert "演练" in document.core_properties.keywords and document.core_properties.category == "演练"


@pytest.mark.parametrize("kind", list(DOCUMENTS))
def test_personal_numbers_in_free_text_are_masked_staff_contacts_are_not(kind: str, tmp_path: Path) -> None:
    leaky = context(
        title=f"客户 {MOBILE} 投诉",
        customer_summary=f"您的卡号 {CARD} 相关信息可能被获取。",
        measures_taken=f"已冻结证件号 {ID_NUMBER} 名下账户。",
        nature=f"涉及手机号 {MOBILE}",
        lessons=f"回访 {MOBILE}",
        possible_harm=f"证件号 {ID_NUMBER} 可能被冒用",
    )
    path = DOCUMENTS[kind](leaky, tmp_path / "m.docx").path
    everything = raw_xml(path)
    for raw in (ID_NUMBER, CARD, MOBILE):
        assert raw not in everything, f"{kind}: {raw} leaked"
    text = texts(path)
    assert any(mask_pii(raw) in text for raw in (ID_NUMBER, CARD, MOBILE))  # masked, not dropped
    # Staff contacts stay callable (TENPAY 4(3), 4(4), 10).
    staff = {"regulator_report": "023-61234567", "regulator_initial_report": "023-61234567", "progress_report": "023-61234567",
             "summary_report": "023-61234567", "investigation_report": None, "public_warning": HOTLINE_PHONE}
    expected = staff.get(kind, STAFF_PHONE)
    if expected:
        assert expected in text


@pytest.mark.parametrize("kind", ["customer_notice", "public_warning"])
def test_customer_notice_and_public_warning_print_none_of_the_internal_record(kind: str, tmp_path: Path) -> None:
    """TENPAY 10 / NFRA 46: what customers and the public read says what concerns them, not the internal record."""
    text = texts(DOCUMENTS[kind](context(), tmp_path / "n.docx"))
    for internal in ("手机银行系统", "1234 人", "攻击者利用接口越权漏洞", "成都同城数据中心", "开发中心", "INC-20251001-0001", "李明"):
        assert internal not in text, internal


@pytest.mark.parametrize(
    ("kind", "field", "label", "clause"),
    [
        ("regulator_report", "location", "地点", "NFRA 45"),
        ("regulator_report", "timeline", "事件过程", "NFRA 45"),
        ("regulator_report", "handling_progress", "处置进展", "NFRA 45"),
        ("regulator_report", "impact", "事件影响", "NFRA 45"),
        ("regulator_report", "system_name", "网络和系统名称", "NFRA 45"),
        ("regulator_report", "occurred_at", "发生时间", "NFRA 45"),
        ("pfi_report", "cause", "事件原因", "TENPAY 4(3)"),
        ("pfi_report", "possible_harm", "可能造成的危害", "TENPAY 4(3)"),
        ("pfi_report", "individual_measures", "个人可以采取的减轻危害的措施", "TENPAY 4(3)"),
        ("customer_notice", "remedies", "为您提供的补救措施", "TENPAY 4(4), 10"),
        ("customer_notice", "customer_summary", "事件的内容和影响", "TENPAY 4(4), 10"),
        ("summary_report", "lessons", "存在的问题缺陷和经验教训", "NFRA 48"),
        ("regulator_initial_report", "impact", "事件影响", "NFRA 45"),
        ("progress_report", "handling_progress", "处置进展", "NFRA 45"),
        ("public_warning", "public_summary", "事件情况", "NFRA 46"),
        ("public_warning", "public_advice", "公众应注意的事项和防范建议", "NFRA 46"),
        ("summary_report", "handling_ended_at", "处置结束时间", "NFRA 48"),
        ("investigation_report", "responsibility", "责任认定", "CQ-PLAN 第五篇"),
        ("investigation_report", "nature", "事件性质", "CQ-PLAN 第五篇"),
        ("investigation_report", "response_ended_at", "应急响应结束时间", "CQ-PLAN 第五篇"),
    ],
)
@pytest.mark.parametrize("empty", [None, "  "])
def test_a_missing_element_raises_naming_it(
    kind: str, field: str, label: str, clause: str, empty: Any, tmp_path: Path
) -> None:
    if empty is not None and field in ("timeline", "occurred_at", "handling_ended_at", "response_ended_at"):
        empty = [] if field == "timeline" else None  # a blank for a list is empty, a time cannot be blank
    ctx = context(**{field: empty})
    target = tmp_path / "x.docx"
    with pytest.raises(MissingElementError) as err:
        DOCUMENTS[kind](ctx, target)
    assert field in err.value.fields
    message = str(err.value)
    assert field in message and label in message and clause in message
    assert not target.exists()  # nothing half-written
    assert [e.field for e in missing_elements(kind, ctx)] == [field]


def test_a_public_warning_without_a_hotline_is_not_drafted(tmp_path: Path) -> None:
    """NFRA 46: a warning to the public says where to ask; without the profile's public contact it is not written."""
    ctx = context(contacts=Contacts(reporter=REPORTER, pfi_lead=LEAD, pfi_office=OFFICE))
    with pytest.raises(MissingElementError, match="contacts.public"):
        public_warning(ctx, tmp_path / "w.docx")


def test_customer_notice_carries_the_five_elements_of_tenpay_10(tmp_path: Path) -> None:
    """TENPAY 第十条 (and 4(4)): 告知内容应包括但不限于：安全事件的内容和影响；已采取或将要采取的处置措施；个人金融信息
    主体自主防范和降低风险的建议；针对个人金融信息主体提供的补救措施；个人金融信息保护负责人和个人金融信息保护工作机构的联系方式."""
    required = {e.field for e in ELEMENTS["customer_notice"] if e.required and e.clause == "TENPAY 4(4), 10"}
    assert {"customer_summary", "measures_taken", "individual_measures", "remedies", "contacts.pfi_lead", "contacts.pfi_office"} <= required
    text = texts(customer_notice(context(), tmp_path / "n.docx"))
    order = [text.index(v) for v in ("我行手机银行一个查询功能存在漏洞", "已关闭存在漏洞的功能", "请警惕自称本行工作人员的来电",
                                     "由我行先行赔付", "个人金融信息保护负责人", "个人金融信息保护工作机构")]
    assert order == sorted(order)


def test_every_missing_element_is_named_at_once(tmp_path: Path) -> None:
    ctx = context(pfi=None, contacts=Contacts(reporter=REPORTER))
    with pytest.raises(MissingElementError) as err:
        customer_notice(ctx, tmp_path / "x.docx")
    assert set(err.value.fields) == {"pfi.types", "contacts.pfi_lead", "contacts.pfi_office"}


def test_pending_without_a_reason_is_refused(tmp_path: Path) -> None:
    with pytest.raises(MissingElementError, match="待补充（原因）"):
        regulator_report(context(impact="待补充"), tmp_path / "x.docx")
    with pytest.raises(MissingElementError, match="other_systems_affected"):  # optional, but not like that
        regulator_report(context(other_systems_affected="待补充()"), tmp_path / "x.docx")
    with pytest.raises(ValidationError):  # a time is a time or a marker
        context(occurred_at="待补充")
    with pytest.raises(ValueError):
        pending("  ")


def test_pending_elements_are_printed_highlighted_and_reported(tmp_path: Path) -> None:
    ctx = context(
        occurred_at=pending("发生时间调查中"),
        impact=pending("影响范围评估中"),
        timeline=pending("日志分析中"),
        pfi=PfiFacts(types=["姓名"], subjects=pending("尚在统计")),
        other_systems_affected=pending("待排查"),
    )
    draft = regulator_report(ctx, tmp_path / "r.docx")
    assert [(p.field, p.reason) for p in draft.pending] == [
        ("occurred_at", "发生时间调查中"),
        ("other_systems_affected", "待排查"),
        ("timeline", "日志分析中"),
        ("impact", "影响范围评估中"),
    ]
    assert {p.clause for p in draft.pending} == {"NFRA 45", "TENPAY 4(1)"}
    assert draft.pending == pending_elements("regulator_report", ctx)
    document = docx.Document(os.fspath(draft))
    paragraphs = document.paragraphs + [p for t in document.tables for c in t._cells for p in c.paragraphs]
    highlighted = {r.text for p in paragraphs for r in p.runs if r.font.highlight_color is not None}
    assert {"待补充（影响范围评估中）", "待补充（日志分析中）", "待补充（发生时间调查中）", "待补充（待排查）"} <= highlighted
    pfi = pfi_report(ctx, tmp_path / "p.docx")
    assert [p.field for p in pfi.pending] == ["occurred_at", "other_systems_affected", "pfi.subjects"]


def test_optional_elements_are_left_out_never_blank(tmp_path: Path) -> None:
    ctx = context(
        confirmed_at=None,
        network_name=None,
        other_systems_affected=None,
        police_contacted=None,
        category=None,
        reporting_unit=None,
    )
    path = regulator_report(ctx, tmp_path / "r.docx").path
    document = docx.Document(os.fspath(path))
    labels = [row.cells[0].text for table in document.tables for row in table.rows]
    values = [row.cells[1].text for table in document.tables for row in table.rows]
    for absent in ("确认时间", "网络名称", "对其他系统的影响", "是否已联系执法机关", "事件类别", "报送单位"):
        assert absent not in labels
    assert all(v.strip() for v in values)
    assert "报送单位：渝信示范银行股份有限公司（盖章）" in texts(path)  # the unit defaults to the institution


def test_context_validation() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        context(discovered_at=dt.datetime(2025, 10, 1, 9, 30))  # naive: refused
    with pytest.raises(ValidationError, match="unknown category"):
        context(category="hacking")
    assert context(category="设备设施故障").category == "equipment_failure"
    assert context(grade="I").warning_label == "红色预警" and context(grade="IV").grade_label == "IV级（一般）"
    assert context(warning_zh="橙色").warning_label == "橙色预警"  # a grading's values win over the shipped ones
    assert context(grade="II").investigated_by.startswith("由应急工作组组织")  # default: the shipped rules' level
    assert context(grade="III", grade_name=None).grade_label == "III级（较大）"
    with pytest.raises(ValidationError):
        context(grade="V")
    with pytest.raises(ValidationError):
        Contact(name="孙丽", phone=" ")


def test_times_are_printed_in_beijing_time() -> None:
    assert format_beijing(dt.datetime(2025, 9, 30, 16, 30, tzinfo=dt.timezone.utc)) == "2025年10月1日 00:30（北京时间）"


def test_regulator_report_stages(tmp_path: Path) -> None:
    subtitles: dict[Literal["initial", "written", "progress"], str] = {
        "initial": "（首报：2小时内报告）",
        "written": "（正式书面报告）",
    }
    for stage, subtitle in subtitles.items():
        draft = regulator_report(context(), tmp_path / f"{stage}.docx", stage=stage)
        assert docx.Document(os.fspath(draft)).paragraphs[1].text == subtitle
    progress = regulator_report(context(grade="I"), tmp_path / "p.docx", stage="progress", sequence=3)
    assert docx.Document(os.fspath(progress)).paragraphs[1].text == "（处置进展报告 第3次）"


def test_investigation_names_who_investigates_by_grade(tmp_path: Path) -> None:
    assert "由应急工作组组织" in texts(investigation_report(context(grade="II"), tmp_path / "i.docx"))


def test_output_is_reproducible_and_path_like(tmp_path: Path) -> None:
    first = summary_report(context(), tmp_path / "a" / "s.docx")
    second = summary_report(context(), tmp_path / "b" / "s.docx")
    assert Path(first).read_bytes() == Path(second).read_bytes()
    assert os.fspath(first) == str(tmp_path / "a" / "s.docx")
    assert not [p for p in (tmp_path / "a").iterdir() if p.name != "s.docx"]  # no temp file left


def test_elements_cite_their_clauses() -> None:
    for kind, elements in ELEMENTS.items():
        assert kind in DOCUMENTS
        for element in elements:
            assert element.clause.split()[0] in {"NFRA", "TENPAY", "CQ-PLAN"}, (kind, element)


@pytest.mark.skipif(not (shutil.which("libreoffice") or shutil.which("soffice")), reason="LibreOffice not installed")
def test_converts_to_pdf_with_libreoffice(tmp_path: Path) -> None:
    path = regulator_report(context(), tmp_path / "r.docx").path
    office = shutil.which("libreoffice") or shutil.which("soffice")
    assert office is not None  # the skip above covers a machine without LibreOffice
    subprocess.run(
        [office, "--headless", f"-env:UserInstallation=file://{tmp_path / 'lo'}",
         "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)],
        check=True, timeout=180, capture_output=True,
    )
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF")
