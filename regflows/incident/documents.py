"""Incident report drafts as .docx files: the five documents an incident owes in writing.

Why .docx: regulators and the police take a written report as a Word file or on paper with the
institution's seal, and the people who sign it edit it first. So regflows writes a *draft* that
is complete, marked 草稿 — 待审核 and ready for review, never a file that goes out unread.

| function | document | contents required by |
|---|---|---|
| :func:`regulator_initial_report` | 网络安全事件首次报告 | NFRA 45 (the 2-hour report; same contents as below) |
| :func:`regulator_report` | 网络安全事件报告 | NFRA 45 (时间、地点、网络和系统名称、事件过程、处置进展、事件影响): the 24-hour formal written report |
| :func:`progress_report` | 网络安全事件处置进展报告 | NFRA 45 (grade I: 每 2 小时报告处置进展，直至处置结束) |
| :func:`public_warning` | 网络安全事件警示信息 | NFRA 46 (及时向社会发布与公众有关的警示信息); TENPAY 10 (a public warning where subjects cannot each be told) |
| :func:`pfi_report` | 个人金融信息安全事件报告 | TENPAY 4(3), 9 (信息种类、原因、可能造成的危害、补救措施、个人可采取的措施、联系方式) |
| :func:`customer_notice` | 致客户的告知书 | TENPAY 4(4), 10 (the five elements) |
| :func:`summary_report` | 网络安全事件总结报告 | NFRA 48 (成因、影响程度、处置过程、问题缺陷、整改完善) |
| :func:`investigation_report` | 事件调查评估报告 | CQ-PLAN 第五篇 (起因、性质、影响、责任、处理意见、改进措施) |

Rules every document follows, and why:

- **No blanks.** A report with an empty "事件影响" line is worse than a late one: it looks
  complete. Each document has a list of its elements (:data:`ELEMENTS`), each citing its clause;
  a missing required element raises :class:`MissingElementError` naming *all* of them. Where
  the flow cannot know a value yet, the caller writes ``待补充（原因）`` (see :func:`pending`):
  it is printed highlighted and returned in :attr:`DraftDocument.pending`, so the flow can
  raise it before the deadline.
- **Masked personal data.** Every text that comes from the incident goes through
  :func:`notices.masking.mask_pii`: a report is copied, mailed and filed, and must not be the
  second leak (CUSTINFO/TENPAY treat a leaked ID number as an incident in itself). The one
  exception is the institution's *own* staff contacts (:class:`Contact`): TENPAY 4(3), 4(4)
  and 10 require them to be given so that the regulator and the customers can call, a masked
  phone number cannot be called, and they are published work contacts, not customers' data.
- **Drills cannot pass for real.** A drill document carries 【演练】 at the start of its title,
  in the header and footer of every page, in a banner under the title and in the file's
  properties.
- **Reproducible.** The same context gives the same bytes (the zip entries are stamped with
  ``prepared_at``), so a draft's hash can be put in the audit ledger and checked later.

Layout, fonts, marks and the file itself are the kit's official-document writer
(:class:`regflows.kit.documents.OfficialDocument`: A4 and type after GB/T 9704-2012, an East
Asian font on every run, written reproducibly and atomically); this module holds what is the
incident's own: which documents, their elements and clauses, their texts, and the masking.
Its documents keep the "第 x 页 共 y 页" footer with the drill tag and the draft mark.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from docx.table import Table
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    NonNegativeInt,
    StringConstraints,
    field_validator,
    model_validator,
)

from calendars.zone import SHANGHAI
from notices.masking import mask_pii
from regflows.incident.grading import GRADES, grading_rules
from regflows.incident.record import CATEGORY_NAMES  # CQ-PLAN event categories, one list
from regflows.kit.documents import DRAFT_MARK, DRILL_TAG, OfficialDocument, Pending, is_pending, pending, pending_reason

__all__ = [
    "CATEGORY_NAMES",
    "DOCUMENTS",
    "DOCUMENT_TITLES",
    "DRAFT_MARK",
    "DRILL_TAG",
    "ELEMENTS",
    "Contact",
    "Contacts",
    "DocumentContext",
    "DraftDocument",
    "Element",
    "MissingElementError",
    "PendingElement",
    "PfiFacts",
    "ReportStage",
    "TimelineEntry",
    "customer_notice",
    "format_beijing",
    "progress_report",
    "public_warning",
    "regulator_initial_report",
    "investigation_report",
    "is_pending",
    "missing_elements",
    "pending",
    "pending_elements",
    "pfi_report",
    "regulator_report",
    "summary_report",
]

UTC = dt.timezone.utc

DRILL_BANNER = "【演练】本文件为应急演练材料，所述事件并非真实发生，不得报送监管机构、公安机关，不得发送客户。"

#: The NFRA text is a 征求意见稿: when the final measures are published, change the title here.
NFRA_TITLE = "《银行业保险业网络安全管理办法》"

# --------------------------------------------------------------------------------------------
# The context: what a document may say. Typed here, independent of the incident record model, so
# that the documents can be tested (and reviewed) on their own.
# --------------------------------------------------------------------------------------------

GradeCode = Literal["I", "II", "III", "IV"]

# ``pending``, ``is_pending`` and the ``Pending`` field type (待补充（原因）) are the kit's
# (regflows/kit/documents/markers.py): every procedure's documents mark unknown elements alike.
NonBlank = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
#: Free text, or a ``待补充（原因）`` marker. Blank counts as missing (checked per document).
Text = str | None
When = AwareDatetime | Pending | None

_FROZEN = ConfigDict(extra="forbid", frozen=True)


class Contact(BaseModel):
    """A staff contact of the institution, printed *unmasked* (see the module docstring).

    TENPAY 4(3): 公司及安全事件处置相关人员的联系方式; TENPAY 4(4), 10: 个人金融信息保护负责人和
    个人金融信息保护工作机构的联系方式. For an office, ``name`` is the office's name.
    """

    model_config = _FROZEN

    name: NonBlank
    phone: NonBlank
    email: NonBlank | None = None
    title: NonBlank | None = None  # 职务 or department, e.g. 合规部总经理


class Contacts(BaseModel):
    """Who the reader of a document can call."""

    model_config = _FROZEN

    #: The person filing the report (NFRA 45 report; TENPAY 4(3) 安全事件处置相关人员).
    reporter: Contact | None = None
    #: 个人金融信息保护负责人 (TENPAY 4(4), 10).
    pfi_lead: Contact | None = None
    #: 个人金融信息保护工作机构 (TENPAY 4(4), 10).
    pfi_office: Contact | None = None
    #: Where the public can ask (a published hotline), printed in the public warning (NFRA 46).
    public: Contact | None = None


class PfiFacts(BaseModel):
    """Personal financial information involved (TENPAY 4(1) 涉及的个人金融信息及人数, 4(3) 信息种类)."""

    model_config = _FROZEN

    types: list[NonBlank] | Pending | None = None
    subjects: NonNegativeInt | Pending | None = None
    #: High-sensitivity information (e.g. ID numbers) involved: subjects must be told (TENPAY 10).
    high_sensitivity: bool = False


class TimelineEntry(BaseModel):
    """One step of the event process (NFRA 45 事件过程)."""

    model_config = _FROZEN

    at: AwareDatetime
    text: NonBlank


class DocumentContext(BaseModel):
    """Everything the five documents may print. Only the identity of the incident is required
    here; which other fields a document needs is checked when that document is written
    (:data:`ELEMENTS`), so one context can be built early and completed as the incident goes on.

    Times must carry an offset (a naive time is refused) and are printed in Beijing time.
    """

    model_config = _FROZEN

    # Identity
    institution_name: NonBlank
    reporting_unit: NonBlank | None = None  # a branch reporting for itself; default: the institution
    incident_id: NonBlank
    title: NonBlank
    grade: GradeCode
    # What follows from the grade, as the grading says (rules/grading.yaml, each with its clause);
    # when not given, the shipped rules' value for ``grade`` (see _level_from_rules).
    grade_name: NonBlank  # 较大 (NFRA 附件)
    warning_zh: NonBlank  # 黄色 (CQ-PLAN 第三篇一)
    investigated_by: NonBlank  # who investigates, printed in the investigation report (CQ-PLAN 第五篇)
    category: NonBlank | None = None  # CQ-PLAN category: a key of CATEGORY_NAMES or its Chinese name
    cq_plan: bool = True  # the institution follows CQ-PLAN: warning colour and response level are printed
    drill: bool = False

    # Times (NFRA 45 时间; TENPAY 4(1), 13; NFRA 48; CQ-PLAN 第五篇)
    occurred_at: When = None
    discovered_at: When = None
    confirmed_at: When = None
    response_ended_at: When = None
    handling_ended_at: When = None

    # Record items (TENPAY 4(1); NFRA 45 地点、网络和系统名称)
    location: Text = None
    network_name: Text = None
    system_name: Text = None
    other_systems_affected: Text = None
    police_contacted: bool | None = None
    pfi: PfiFacts | None = None

    # Narrative
    cause: Text = None
    timeline: list[TimelineEntry] | Pending | None = None
    handling_progress: Text = None
    impact: Text = None
    possible_harm: Text = None  # to the subjects (TENPAY 4(3) 可能造成的危害)
    customer_summary: Text = None  # plain-language 事件内容和影响 for the customer notice (TENPAY 10)
    measures_taken: Text = None  # 已采取或将要采取的处置/补救措施 (TENPAY 4(3), 10)
    individual_measures: Text = None  # 个人可以采取的减轻危害的措施 (TENPAY 4(3), 10)
    remedies: Text = None  # 针对个人金融信息主体提供的补救措施 (TENPAY 10)
    nature: Text = None  # 事件性质 (CQ-PLAN 第五篇)
    responsibility: Text = None  # 责任 (CQ-PLAN 第五篇)
    handling_opinion: Text = None  # 处理意见 (CQ-PLAN 第五篇)
    improvements: Text = None  # 改进/整改措施 (NFRA 48; CQ-PLAN 第五篇)
    lessons: Text = None  # 问题缺陷和经验教训 (NFRA 48)
    public_summary: Text = None  # 与公众有关的事件情况, in plain language (NFRA 46)
    public_impact: Text = None  # 可能影响的范围和人群 (NFRA 46; CQ-PLAN 第三篇三 可能影响范围)
    public_advice: Text = None  # 公众应注意的事项和防范措施 (NFRA 46; CQ-PLAN 第三篇三 警示事项)
    contacts: Contacts = Contacts()

    # Addressees and the date on the documents
    regulator: NonBlank = "国家金融监督管理总局或其派出机构"  # NFRA 45, 48
    pboc_branch: NonBlank = "中国人民银行住所地分支机构"  # TENPAY 5, 9
    #: The date printed on the documents and stamped in the file; default: now.
    prepared_at: AwareDatetime | None = None

    @model_validator(mode="before")
    @classmethod
    def _level_from_rules(cls, data: Any) -> Any:
        """A context built without a grading (early, or in a test) takes the grade's name, colour
        and investigating body from the shipped grading rules; a grading's values win."""
        if isinstance(data, dict) and data.get("grade") in GRADES:
            level = grading_rules().levels[data["grade"]]
            defaults = {"grade_name": level.name, "warning_zh": level.warning_zh, "investigated_by": level.investigation.text}
            data = {**defaults, **{k: v for k, v in data.items() if not (k in defaults and v is None)}}
        return data

    @field_validator("category")
    @classmethod
    def _known_category(cls, value: str | None) -> str | None:
        if value is None or value in CATEGORY_NAMES:
            return value
        for key, name in CATEGORY_NAMES.items():
            if value == name:
                return key
        raise ValueError(f"unknown category {value!r}; one of {', '.join(CATEGORY_NAMES)} (CQ-PLAN)")

    @property
    def category_name(self) -> str | None:
        return CATEGORY_NAMES[self.category] if self.category else None

    @property
    def grade_label(self) -> str:
        """``III级（较大）`` (NFRA appendix)."""
        return f"{self.grade}级（{self.grade_name}）"

    @property
    def warning_label(self) -> str | None:
        """``黄色预警`` (CQ-PLAN); none where the institution does not follow CQ-PLAN."""
        return f"{self.warning_zh}预警" if self.cq_plan else None

    @property
    def response_label(self) -> str | None:
        """``III级响应``: the response level follows the grade (CQ-PLAN); none without CQ-PLAN."""
        return f"{self.grade}级响应" if self.cq_plan else None

    @property
    def unit(self) -> str:
        return self.reporting_unit or self.institution_name


# --------------------------------------------------------------------------------------------
# Elements: what each document must contain, with the clause that requires it.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Element:
    """One element of a document: the context field (dotted path), its printed name, its source."""

    field: str
    label: str
    clause: str
    required: bool = True


@dataclass(frozen=True)
class PendingElement:
    """An element printed as ``待补充（reason）``: the flow must raise it before the document goes out."""

    field: str
    label: str
    clause: str
    reason: str


class MissingElementError(ValueError):
    """A document cannot be drafted because required elements are missing (never a blank line)."""

    def __init__(self, kind: str, title: str, elements: Sequence[tuple[Element, str]]) -> None:
        self.kind = kind
        self.elements = tuple(e for e, _ in elements)
        self.fields = tuple(e.field for e in self.elements)
        listed = "; ".join(f"{e.field} {e.label} [{e.clause}]{': ' + why if why else ''}" for e, why in elements)
        super().__init__(
            f"{title} ({kind}) cannot be drafted, missing required element(s): {listed}. "
            "Give the value, or 待补充（原因） where it is not known yet."
        )


@dataclass(frozen=True)
class DraftDocument(os.PathLike):
    """A written draft: where it is, and which of its elements are still 待补充.

    It is path-like (``open(draft)``, ``Path(draft)``), so it can be used as the path it is.
    """

    kind: str
    title: str
    path: Path
    pending: tuple[PendingElement, ...]

    def __fspath__(self) -> str:
        return os.fspath(self.path)


NFRA45 = "NFRA 45"
_RECORD = "TENPAY 4(1)"
_PFI = "TENPAY 4(3)"
_NOTICE = "TENPAY 4(4), 10"
NFRA46 = "NFRA 46"
NFRA48 = "NFRA 48"
CQ5 = "CQ-PLAN 第五篇"

#: What NFRA 第四十五条 asks of every report to the regulator (time, place, network and system,
#: the event's course, handling progress, impact): the 2-hour initial report, the 24-hour
#: written report and each grade-I progress report carry the same elements.
_NFRA45_REPORT: tuple[Element, ...] = (
    Element("occurred_at", "发生时间", NFRA45),
    Element("discovered_at", "发现时间", NFRA45),
    Element("location", "地点", NFRA45),
    Element("network_name", "网络名称", NFRA45, required=False),
    Element("system_name", "网络和系统名称", NFRA45),
    Element("other_systems_affected", "对其他系统的影响", _RECORD, required=False),
    Element("police_contacted", "是否已联系执法机关", _RECORD, required=False),
    Element("timeline", "事件过程", NFRA45),
    Element("handling_progress", "处置进展", NFRA45),
    Element("impact", "事件影响", NFRA45),
    Element("contacts.reporter", "联系人", NFRA45),
)

#: The elements of each document, in the order they are printed. ``required=False`` elements are
#: printed when given and left out otherwise; ``待补充`` in any of them is reported.
ELEMENTS: dict[str, tuple[Element, ...]] = {
    "regulator_report": _NFRA45_REPORT,
    "regulator_initial_report": _NFRA45_REPORT,
    "progress_report": _NFRA45_REPORT,
    "pfi_report": (
        Element("occurred_at", "发生时间", _RECORD),
        Element("discovered_at", "发现时间", _RECORD),
        Element("confirmed_at", "确认时间", "TENPAY 13", required=False),
        Element("location", "地点", _RECORD, required=False),
        Element("system_name", "系统名称", _RECORD),
        Element("other_systems_affected", "对其他系统的影响", _RECORD, required=False),
        Element("police_contacted", "是否已联系执法机关", _RECORD, required=False),
        Element("pfi.types", "涉及的个人金融信息种类", _PFI),
        Element("pfi.subjects", "涉及的个人金融信息主体人数", _RECORD),
        Element("cause", "事件原因", _PFI),
        Element("possible_harm", "可能造成的危害", _PFI),
        Element("measures_taken", "已采取的补救措施", _PFI),
        Element("individual_measures", "个人可以采取的减轻危害的措施", _PFI),
        Element("contacts.reporter", "事件处置联系人", _PFI),
        Element("contacts.pfi_lead", "个人金融信息保护负责人", _PFI),
        Element("contacts.pfi_office", "个人金融信息保护工作机构", _PFI),
    ),
    "customer_notice": (
        Element("customer_summary", "事件的内容和影响", _NOTICE),
        Element("pfi.types", "可能涉及的信息种类", _NOTICE),
        Element("measures_taken", "已采取或将要采取的处置措施", _NOTICE),
        Element("individual_measures", "自主防范和降低风险的建议", _NOTICE),
        Element("remedies", "为您提供的补救措施", _NOTICE),
        Element("contacts.pfi_lead", "个人金融信息保护负责人联系方式", _NOTICE),
        Element("contacts.pfi_office", "个人金融信息保护工作机构联系方式", _NOTICE),
    ),
    "summary_report": (
        Element("occurred_at", "发生时间", NFRA45),
        Element("discovered_at", "发现时间", NFRA45),
        Element("handling_ended_at", "处置结束时间", NFRA48),
        Element("system_name", "网络和系统名称", NFRA45),
        Element("cause", "事件成因", NFRA48),
        Element("impact", "影响程度", NFRA48),
        Element("handling_progress", "处置过程", NFRA48),
        Element("timeline", "事件经过", NFRA48),
        Element("lessons", "存在的问题缺陷和经验教训", NFRA48),
        Element("improvements", "整改完善措施", NFRA48),
        Element("contacts.reporter", "联系人", NFRA48),
    ),
    "public_warning": (
        Element("public_summary", "事件情况", NFRA46),
        Element("public_impact", "可能影响的范围", NFRA46),
        Element("public_advice", "公众应注意的事项和防范建议", NFRA46),
        Element("measures_taken", "本机构已采取的措施", NFRA46),
        Element("contacts.public", "咨询电话", NFRA46),
    ),
    "investigation_report": (
        Element("occurred_at", "发生时间", CQ5),
        Element("discovered_at", "发现时间", CQ5),
        Element("response_ended_at", "应急响应结束时间", CQ5),
        Element("system_name", "涉及系统", CQ5, required=False),
        Element("cause", "事件起因", CQ5),
        Element("nature", "事件性质", CQ5),
        Element("impact", "事件影响", CQ5),
        Element("responsibility", "责任认定", CQ5),
        Element("handling_opinion", "处理意见", CQ5),
        Element("improvements", "改进措施", CQ5),
    ),
}

DOCUMENT_TITLES: dict[str, str] = {
    "regulator_initial_report": "网络安全事件首次报告",
    "regulator_report": "网络安全事件报告",
    "progress_report": "网络安全事件处置进展报告",
    "public_warning": "网络安全事件警示信息",
    "pfi_report": "个人金融信息安全事件报告",
    "customer_notice": "致客户的告知书",
    "summary_report": "网络安全事件总结报告",
    "investigation_report": "事件调查评估报告",
}

def _lookup(ctx: DocumentContext, path: str) -> Any:
    value: Any = ctx
    for part in path.split("."):
        value = getattr(value, part, None)
        if value is None:
            return None
    return value


def _state(value: Any) -> tuple[Literal["missing", "invalid", "pending", "present"], str]:
    """Classify one element's value; the second item is the 待补充 reason or why it is wrong."""
    if value is None:
        return "missing", ""
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return "missing", "blank"
        if (reason := pending_reason(text)) is not None:
            return "pending", reason
        if text.startswith("待补充"):
            return "invalid", "待补充 needs its reason in brackets: 待补充（原因）"
        return "present", ""
    if isinstance(value, (list, tuple)) and not value:
        return "missing", "empty"
    return "present", ""


def missing_elements(kind: str, ctx: DocumentContext) -> list[Element]:
    """The required elements of document ``kind`` that ``ctx`` lacks (empty: it can be drafted)."""
    return [e for e, _ in _missing(kind, ctx)]


def _missing(kind: str, ctx: DocumentContext) -> list[tuple[Element, str]]:
    out = []
    for element in ELEMENTS[kind]:
        state, why = _state(_lookup(ctx, element.field))
        if state == "invalid" or element.required and state == "missing":
            out.append((element, why))
    return out


def pending_elements(kind: str, ctx: DocumentContext) -> tuple[PendingElement, ...]:
    """The elements of document ``kind`` that ``ctx`` gives as ``待补充（原因）``, in print order."""
    out = []
    for element in ELEMENTS[kind]:
        state, reason = _state(_lookup(ctx, element.field))
        if state == "pending":
            out.append(PendingElement(element.field, element.label, element.clause, reason))
    return tuple(out)


def _check(kind: str, ctx: DocumentContext) -> tuple[PendingElement, ...]:
    if missing := _missing(kind, ctx):
        raise MissingElementError(kind, DOCUMENT_TITLES[kind], missing)
    return pending_elements(kind, ctx)


# --------------------------------------------------------------------------------------------
# Formatting values
# --------------------------------------------------------------------------------------------


def format_beijing(when: dt.datetime) -> str:
    """A time as printed in the documents: ``2025年10月1日 09:30（北京时间）`` (digest 7: +08:00)."""
    local = when.astimezone(SHANGHAI)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}（北京时间）"


def _date(when: dt.datetime) -> str:
    local = when.astimezone(SHANGHAI)
    return f"{local.year}年{local.month}月{local.day}日"


def _value(value: Any) -> str:
    """One element's value as text (still unmasked)."""
    if isinstance(value, dt.datetime):
        return format_beijing(value)
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int):
        return f"{value} 人"
    if isinstance(value, (list, tuple)):
        return "、".join(str(v) for v in value)
    return str(value).strip()


def _contact_line(contact: Contact) -> str:
    parts = [contact.name + (f"（{contact.title}）" if contact.title else ""), f"电话：{contact.phone}"]
    if contact.email:
        parts.append(f"邮箱：{contact.email}")
    return "，".join(parts)


# --------------------------------------------------------------------------------------------
# The writer: the kit's official document (GB/T 9704 layout, fonts, marks, reproducible file)
# and the few kinds of block the incident documents use.
# --------------------------------------------------------------------------------------------

#: Under the title of every incident draft: who made it, and that it is not to be used unsigned.
DRAFT_NOTICE = DRAFT_MARK + "：本文件由 regflows 根据事件记录生成，须经审核、签发后方可使用。"


class _Writer:
    """Builds one document. Every text from the incident goes through :meth:`text` (masked)."""

    def __init__(self, ctx: DocumentContext, kind: str, subtitle: str | None = None) -> None:
        self.ctx = ctx
        self.kind = kind
        self.prepared_at = (ctx.prepared_at or dt.datetime.now(SHANGHAI)).replace(microsecond=0)
        # "第 x 页 共 y 页" with the drill tag and the draft mark in the footer too, as these
        # documents always had (the kit's default is GB/T 9704's "— 1 —").
        self.out = OfficialDocument(
            DOCUMENT_TITLES[kind],
            stamp=self.prepared_at,
            subtitle=subtitle,
            header=f"{mask_pii(ctx.unit)}　{DOCUMENT_TITLES[kind]}",
            draft=DRAFT_MARK,
            draft_notice=DRAFT_NOTICE,
            drill=ctx.drill,
            drill_notice=DRILL_BANNER,
            page_numbers="page_of_total",
        )
        self.title = self.out.title

    @staticmethod
    def text(value: Any) -> str:
        """An incident value as printed: formatted, then masked (mask_pii)."""
        return mask_pii(_value(value))

    def heading(self, text: str) -> None:
        self.out.heading(text)

    def para(self, text: str, *, indent: bool = True) -> None:
        """Body text, masked; each line of a multi-line value is its own paragraph."""
        for line in text.splitlines():
            if line.strip():
                self.out.paragraph(mask_pii(line.strip()), indent=indent)

    def value(self, field: str) -> None:
        """The value of one context field as body text (checked present by the caller)."""
        self.para(self.text(_lookup(self.ctx, field)))

    def table(
        self, rows: Sequence[tuple[str, str]], widths: tuple[float, float] = (42, 114), header: bool = False
    ) -> Table:
        return self.out.table(rows, widths, header=header)

    def facts(self, fields: Iterable[tuple[str, str]]) -> None:
        """A label/value table of context fields; optional ones that are absent are left out."""
        rows = []
        for label, field in fields:
            value = _lookup(self.ctx, field)
            if _state(value)[0] in ("pending", "present"):
                rows.append((label, self.text(value)))
        self.table(rows)

    def timeline(self, field: str = "timeline") -> None:
        """The event process as a time/text table (NFRA 45 事件过程), in time order."""
        value = _lookup(self.ctx, field)
        if isinstance(value, str):  # 待补充
            self.para(value)
            return
        rows = [("时间", "事件经过")]
        rows += [(format_beijing(e.at), self.text(e.text)) for e in sorted(value, key=lambda e: e.at)]
        self.table(rows, widths=(52, 104), header=True)

    def contacts(self, rows: Iterable[tuple[str, Contact]]) -> None:
        """Staff contacts, unmasked on purpose (TENPAY 4(3), 4(4), 10: they must be callable)."""
        self.table([(label, _contact_line(contact)) for label, contact in rows])

    def signature(self, signer: str | None = None, *, contact: Contact | None = None) -> None:
        self.out.signature([text for text in (
            f"联系人：{_contact_line(contact)}" if contact else None,
            mask_pii(signer or f"{self.ctx.unit}（盖章）"),
            _date(self.prepared_at),
        ) if text])

    def save(self, path: str | os.PathLike[str], pending: tuple[PendingElement, ...]) -> DraftDocument:
        """Written reproducibly (same context → same bytes, so the SHA-256 in the ledger
        identifies the draft) and atomically, owner-only: a draft describes an open incident."""
        target = self.out.save(
            path,
            subject=mask_pii(f"{self.ctx.incident_id} {self.ctx.title}"),
            keywords="；".join(filter(None, ("网络安全事件", self.ctx.incident_id, "演练" if self.ctx.drill else None))),
            category="演练" if self.ctx.drill else "事件报告",
        )
        return DraftDocument(self.kind, self.title, target, pending)


# --------------------------------------------------------------------------------------------
# The five documents
# --------------------------------------------------------------------------------------------

ReportStage = Literal["initial", "written", "progress"]
_STAGES: dict[str, str] = {
    "initial": "（首报：2小时内报告）",
    "written": "（正式书面报告）",
    "progress": "（处置进展报告）",
}


def _basic_facts(w: _Writer, extra: Sequence[tuple[str, str]] = ()) -> None:
    w.facts([
        ("报送机构", "institution_name"),
        ("报送单位", "reporting_unit"),
        ("事件编号", "incident_id"),
        ("事件名称", "title"),
        *extra,
    ])


def regulator_report(
    ctx: DocumentContext, path: str | os.PathLike[str], *, stage: ReportStage = "written", sequence: int | None = None
) -> DraftDocument:
    """网络安全事件报告 to NFRA or its local office: by default the 24-hour formal written report.

    Contents (NFRA 45): 时间、地点、网络和系统名称、事件过程、处置进展、事件影响, "至少";
    plus the grade (NFRA 45 obliges reports for 较大（三级）及以上, so the regulator must see it),
    the warning colour and category (CQ-PLAN), the reporting institution, a contact person and
    the date. ``stage`` names which NFRA 45 report this is: the 2-hour first report, the 24-hour
    formal written report, or a grade-I progress report (every 2 hours; ``sequence`` = its number).
    The first report and the progress report are documents of their own
    (:func:`regulator_initial_report`, :func:`progress_report`): each obligation its own draft.
    """
    kind = {"initial": "regulator_initial_report", "progress": "progress_report"}.get(stage, "regulator_report")
    return _regulator(ctx, path, kind, stage, sequence)


def regulator_initial_report(ctx: DocumentContext, path: str | os.PathLike[str]) -> DraftDocument:
    """网络安全事件首次报告: the 2-hour report of NFRA 45 (发生较大（三级）及以上的网络安全事件，金融机构应当于
    2小时内向国家金融监督管理总局或者其派出机构报告), drafted at declaration: what is known by then, the
    rest 待补充. Distinct from the 24-hour formal written report (:func:`regulator_report`)."""
    return _regulator(ctx, path, "regulator_initial_report", "initial", None)


def progress_report(ctx: DocumentContext, path: str | os.PathLike[str], *, sequence: int | None = None) -> DraftDocument:
    """网络安全事件处置进展报告: grade I, NFRA 45 (每 2 小时报告处置进展，直至处置结束); ``sequence`` is
    the number of this progress report (the one after the last filed)."""
    return _regulator(ctx, path, "progress_report", "progress", sequence)


def _regulator(ctx: DocumentContext, path: str | os.PathLike[str], kind: str, stage: ReportStage,
               sequence: int | None) -> DraftDocument:
    pending_ = _check(kind, ctx)
    subtitle = _STAGES[stage]
    if stage == "progress" and sequence:
        subtitle = f"（处置进展报告 第{sequence}次）"
    w = _Writer(ctx, kind, subtitle)
    w.para(f"{mask_pii(ctx.regulator)}：", indent=False)
    w.para(f"依据{NFRA_TITLE}第四十五条，现将{mask_pii(ctx.unit)}发生的网络安全事件"
           f"{'处置进展' if stage == 'progress' else ''}报告如下。")
    w.heading("一、基本情况")
    _basic_facts(w, [("事件分级", "grade_label"), ("预警级别", "warning_label"), ("事件类别", "category_name")])
    w.heading("二、时间")
    w.facts([("发生时间", "occurred_at"), ("发现时间", "discovered_at"), ("确认时间", "confirmed_at")])
    w.heading("三、地点")
    w.value("location")
    w.heading("四、网络和系统名称")
    w.facts([
        ("网络名称", "network_name"),
        ("系统名称", "system_name"),
        ("对其他系统的影响", "other_systems_affected"),
        ("是否已联系执法机关", "police_contacted"),
    ])
    w.heading("五、事件过程")
    w.timeline()
    w.heading("六、处置进展")
    w.value("handling_progress")
    w.heading("七、事件影响")
    w.value("impact")
    w.heading("八、联系人")
    assert ctx.contacts.reporter is not None  # checked above
    w.contacts([("联系人", ctx.contacts.reporter)])
    w.signature(f"报送单位：{ctx.unit}（盖章）")
    return w.save(path, pending_)


def pfi_report(ctx: DocumentContext, path: str | os.PathLike[str]) -> DraftDocument:
    """个人金融信息安全事件报告 to the PBoC branch where the institution is domiciled (TENPAY 5, 9).

    Contents (TENPAY 4(3), repeated in 9): 发生或者可能发生个人金融信息泄露、篡改、丢失的信息种类、
    原因和可能造成的危害；公司采取的补救措施和个人可以采取的减轻危害的措施；公司及安全事件处置相关
    人员的联系方式. The record items of TENPAY 4(1) (times, system, number of subjects, whether
    law enforcement was contacted) come first, since the recipient asks for them at once.
    """
    pending_ = _check("pfi_report", ctx)
    w = _Writer(ctx, "pfi_report")
    w.para(f"{mask_pii(ctx.pboc_branch)}：", indent=False)
    w.para(f"根据《中华人民共和国个人信息保护法》及中国人民银行有关规定，现将{mask_pii(ctx.unit)}"
           "发生（或可能发生）的个人金融信息安全事件报告如下。")
    w.heading("一、基本情况")
    _basic_facts(w, [
        ("发生时间", "occurred_at"),
        ("发现时间", "discovered_at"),
        ("确认时间", "confirmed_at"),
        ("地点", "location"),
        ("系统名称", "system_name"),
        ("对其他系统的影响", "other_systems_affected"),
        ("是否已联系执法机关", "police_contacted"),
    ])
    w.heading("二、涉及的个人金融信息种类")
    w.facts([("信息种类", "pfi.types"), ("涉及主体人数", "pfi.subjects"), ("是否涉及高敏感信息", "pfi.high_sensitivity")])
    w.heading("三、事件原因")
    w.value("cause")
    w.heading("四、可能造成的危害")
    w.value("possible_harm")
    w.heading("五、已采取的补救措施")
    w.value("measures_taken")
    w.heading("六、个人可以采取的减轻危害的措施")
    w.value("individual_measures")
    w.heading("七、联系方式")
    c = ctx.contacts
    assert c.reporter and c.pfi_lead and c.pfi_office  # checked above
    w.contacts([
        ("事件处置联系人", c.reporter),
        ("个人金融信息保护负责人", c.pfi_lead),
        ("个人金融信息保护工作机构", c.pfi_office),
    ])
    w.signature(f"报送单位：{ctx.unit}（盖章）")
    return w.save(path, pending_)


def customer_notice(ctx: DocumentContext, path: str | os.PathLike[str]) -> DraftDocument:
    """致客户的告知书 to the affected subjects (TENPAY 4(4), 10; PBOC-102 III(2) notify subjects).

    The five elements of TENPAY 4(4)/10: 安全事件的内容和影响；已采取或将要采取的处置措施；
    个人金融信息主体自主防范和降低风险的建议；针对个人金融信息主体提供的补救措施；个人金融信息
    保护负责人和个人金融信息保护工作机构的联系方式.

    Written to any one customer (it can also serve as the public notice TENPAY 10 asks for when
    individual notice is impractical), so it prints none of the internal record: no system
    names, no number of subjects, no cause analysis beyond ``customer_summary``, and no data of
    any customer; free text is masked all the same.
    """
    pending_ = _check("customer_notice", ctx)
    w = _Writer(ctx, "customer_notice", "关于个人信息安全事件的告知")
    w.para("尊敬的客户：", indent=False)
    when = f"于{_date(ctx.discovered_at)}" if isinstance(ctx.discovered_at, dt.datetime) else ""
    w.para(f"我们非常重视您的个人信息安全。我们{when}发现一起可能涉及您个人信息的安全事件，"
           "现将有关情况告知如下。")
    w.heading("一、发生了什么，对您有什么影响")
    w.value("customer_summary")
    w.para(f"可能涉及的信息：{w.text(_lookup(ctx, 'pfi.types'))}。")
    w.heading("二、我们已经采取和将要采取的措施")
    w.value("measures_taken")
    w.heading("三、建议您采取的自我保护措施")
    w.value("individual_measures")
    w.para("请注意：我们的工作人员不会以任何理由向您索要密码或短信验证码，请勿向任何人透露。")
    w.heading("四、我们为您提供的补救措施")
    w.value("remedies")
    w.heading("五、如何联系我们")
    c = ctx.contacts
    assert c.pfi_lead and c.pfi_office  # checked above
    w.contacts([("个人金融信息保护负责人", c.pfi_lead), ("个人金融信息保护工作机构", c.pfi_office)])
    w.para("由此给您带来的不便，我们深表歉意。")
    w.signature(ctx.institution_name)
    return w.save(path, pending_)


def public_warning(ctx: DocumentContext, path: str | os.PathLike[str]) -> DraftDocument:
    """网络安全事件警示信息 to the public (NFRA 46: 及时向社会发布与公众有关的警示信息; TENPAY 10: where
    the subjects cannot each be told, a public warning).

    NFRA 46 lists no contents; this follows what CQ-PLAN 第三篇三 asks of any warning, as far as
    the public is concerned: what happened, the possible scope, what to watch for and do, what
    the institution is doing, who issues it and where to ask. Like the customer notice it prints
    none of the internal record (no system names, no counts, no cause analysis) and no data of
    any customer; free text is masked all the same.
    """
    pending_ = _check("public_warning", ctx)
    w = _Writer(ctx, "public_warning", "关于网络安全事件的警示")
    w.para("社会公众：", indent=False)
    when = f"于{_date(ctx.discovered_at)}" if isinstance(ctx.discovered_at, dt.datetime) else ""
    w.para(f"{mask_pii(ctx.institution_name)}{when}发现一起与公众有关的网络安全事件，现将有关情况和警示事项公告如下。")
    w.heading("一、事件情况")
    w.value("public_summary")
    w.heading("二、可能影响的范围")
    w.value("public_impact")
    w.heading("三、请注意的事项和防范建议")
    w.value("public_advice")
    w.para("请注意：本机构工作人员不会以任何理由索要您的密码或短信验证码；请通过本机构官方渠道核实信息，谨防假冒诈骗。")
    w.heading("四、本机构已采取的措施")
    w.value("measures_taken")
    w.heading("五、咨询电话")
    assert ctx.contacts.public is not None  # checked above
    w.contacts([("咨询电话", ctx.contacts.public)])
    w.signature(ctx.institution_name)
    return w.save(path, pending_)


def summary_report(ctx: DocumentContext, path: str | os.PathLike[str]) -> DraftDocument:
    """网络安全事件总结报告 (事件处置总结报告) to NFRA or its local office.

    NFRA 48: after handling, 总结分析事件成因、影响程度和处置过程，识别网络安全防护体系以及应急预案
    存在的问题缺陷，并整改完善; for 较大（三级）及以上 it is due within five working days after
    emergency handling ends (应急处置结束后五个工作日内: the end of handling, not of the response),
    so the end of handling is a required element and the report dates from it.
    """
    pending_ = _check("summary_report", ctx)
    w = _Writer(ctx, "summary_report")
    w.para(f"{mask_pii(ctx.regulator)}：", indent=False)
    w.para(f"依据{NFRA_TITLE}第四十八条，现将{mask_pii(ctx.unit)}“{mask_pii(ctx.title)}”网络安全事件的处置总结报告如下。")
    w.heading("一、事件概况")
    _basic_facts(w, [
        ("事件分级", "grade_label"),
        ("事件类别", "category_name"),
        ("网络和系统名称", "system_name"),
        ("发生时间", "occurred_at"),
        ("发现时间", "discovered_at"),
        ("处置结束时间", "handling_ended_at"),
    ])
    w.heading("二、事件成因")
    w.value("cause")
    w.heading("三、影响程度")
    w.value("impact")
    w.heading("四、处置过程")
    w.value("handling_progress")
    w.timeline()
    w.heading("五、存在的问题缺陷和经验教训")
    w.value("lessons")
    w.heading("六、整改完善措施")
    w.value("improvements")
    assert ctx.contacts.reporter is not None  # checked above
    w.signature(f"报送单位：{ctx.unit}（盖章）", contact=ctx.contacts.reporter)
    return w.save(path, pending_)


def investigation_report(ctx: DocumentContext, path: str | os.PathLike[str]) -> DraftDocument:
    """事件调查评估报告 (总结调查报告), due within 30 days after the response ends.

    CQ-PLAN 第五篇: 总结调查报告应对事件的起因、性质、影响、责任等进行分析评估，提出处理意见和改进
    措施. Who investigates (I/II: the emergency working group; III/IV: the division concerned) is
    the grading's rule (``levels.<grade>.investigation`` in rules/grading.yaml), printed from
    ``ctx.investigated_by``.
    """
    pending_ = _check("investigation_report", ctx)
    w = _Writer(ctx, "investigation_report")
    w.para(f"依据网络安全事件应急预案“调查与评估”的规定，对“{mask_pii(ctx.title)}”事件的起因、性质、影响、"
           "责任等进行了分析评估，提出处理意见和改进措施，报告如下。")
    w.heading("一、事件概况")
    _basic_facts(w, [
        ("事件分级", "grade_label"),
        ("响应级别", "response_label"),
        ("事件类别", "category_name"),
        ("涉及系统", "system_name"),
        ("发生时间", "occurred_at"),
        ("发现时间", "discovered_at"),
        ("应急响应结束时间", "response_ended_at"),
    ])
    w.para("调查组织：" + ctx.investigated_by)
    for heading, field in (
        ("二、事件起因", "cause"),
        ("三、事件性质", "nature"),
        ("四、事件影响", "impact"),
        ("五、责任认定", "responsibility"),
        ("六、处理意见", "handling_opinion"),
        ("七、改进措施", "improvements"),
    ):
        w.heading(heading)
        w.value(field)
    w.signature()
    return w.save(path, pending_)


#: Every document by kind, for the flow: ``DOCUMENTS[kind](ctx, path)``.
DOCUMENTS: dict[str, Callable[..., DraftDocument]] = {
    "regulator_initial_report": regulator_initial_report,
    "regulator_report": regulator_report,
    "progress_report": progress_report,
    "public_warning": public_warning,
    "pfi_report": pfi_report,
    "customer_notice": customer_notice,
    "summary_report": summary_report,
    "investigation_report": investigation_report,
}
