"""The incident-response form: what a duty officer fills in from the Prefect UI at 2 a.m.

It is *not* the strict :class:`~regflows.incident.record.IncidentRecord`. The record refuses a
time without an offset, because a machine that posts an incident must say which clock it means;
a person at the UI means Beijing time, and Prefect's date-time picker stored UTC (a 19:50
discovery became 19:50Z, its 2-hour report due at the wrong hour: issue 14, 1). So the form:

- takes times as text titled 「（北京时间）」, read as +08:00 unless an offset is typed
  (:func:`regflows.kit.forms.form_time`); empty means "not given";
- shows every choice by its Chinese name (``设备设施故障``, not ``equipment_failure``) and maps it
  back with :func:`regflows.kit.forms.choice_code`;
- has no ``X | None`` field (Prefect's UI shows those as a "type None" toggle): an empty text, a
  zero or a 「无」 choice means "not given", and the optional nested objects (``pfi``,
  ``outage``) are flattened into plain fields;
- asks the six facts every record needs first, then the switches that decide the grade and the
  deadlines (important system, business hours, CII), then the rest;
- leaves validation to :meth:`IncidentForm.to_record`, whose messages are Chinese and name the
  field, instead of JSON-schema constraints the UI would explain in English.

``regflows incident declare`` and ``POST /incidents`` validate the strict record first and send
it in this shape (:func:`form_from_record`: every time with its offset, choices by name), so the
one deployment parameter serves all three entry points.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from annotated_types import MaxLen
from pydantic import BaseModel, ConfigDict, Field

from calendars.zone import SHANGHAI
from notices.masking import mask_pii
from regflows.incident.record import (
    CATEGORY_NAMES,
    IncidentRecord,
    IncidentRecordError,
    validate_record,
)
from regflows.kit.forms import BEIJING_TIME_HELP, FormError, choice_code, form_time

__all__ = ["CHOICES", "SYSTEM_DECLARERS", "IncidentForm", "form_from_record"]

#: Who declares when no person does: the choices of ``declared_by`` beside the profile's people.
SYSTEM_DECLARERS: dict[str, str] = {"monitoring": "监控系统（monitoring）", "cli": "命令行（cli）"}

_NONE = "无"

CategoryName = Literal["有害程序事件", "网络攻击事件", "信息破坏事件", "信息内容安全事件", "设备设施故障", "灾害性事件", "其他事件"]
DataIncidentName = Literal["无", "一般数据安全事件", "较大数据安全事件", "重大数据安全事件", "特别重大数据安全事件"]
CompromiseName = Literal["无", "重要信息系统被入侵", "其他信息系统被入侵并获取管理权限", "关基外的重要信息系统被获取管理权限",
                         "关键信息基础设施被入侵并获取管理权限"]
DefacementName = Literal["无", "被攻击篡改并造成影响", "导致违法有害信息较大范围传播", "导致违法有害信息大范围传播"]
GradeName = Literal["不调整", "I级（特别重大）", "II级（重大）", "III级（较大）", "IV级（一般）"]
CreditEventName = Literal["非法提供", "违规使用", "信用报告泄漏"]
CreditEventChoice = Literal["无", "非法提供", "违规使用", "信用报告泄漏"]
PublicConcernName = Literal["按级别判断", "是", "否"]
HarmName = Literal["按是否高敏感判断", "是", "否"]

#: Each choice field: record code -> the Chinese name the form shows (None: not given).
CHOICES: dict[str, dict[Any, str]] = {
    "category": dict(CATEGORY_NAMES),
    "data_incident": {None: _NONE, "general": "一般数据安全事件", "larger": "较大数据安全事件", "major": "重大数据安全事件",
                      "especially_major": "特别重大数据安全事件"},
    "compromise": {None: _NONE, "important_system_intruded": "重要信息系统被入侵",
                   "other_system_admin": "其他信息系统被入侵并获取管理权限",
                   "important_system_admin": "关基外的重要信息系统被获取管理权限",
                   "cii_admin": "关键信息基础设施被入侵并获取管理权限"},
    "defacement": {None: _NONE, "with_impact": "被攻击篡改并造成影响", "wide_spread": "导致违法有害信息较大范围传播",
                   "large_scale_spread": "导致违法有害信息大范围传播"},
    "assessed_grade": {None: "不调整", "I": "I级（特别重大）", "II": "II级（重大）", "III": "III级（较大）", "IV": "IV级（一般）"},
    "credit_info_event": {None: _NONE, "illegal_provision": "非法提供", "improper_use": "违规使用", "report_leak": "信用报告泄漏"},
    "public_concern": {None: "按级别判断", True: "是", False: "否"},
    "subjects_may_be_harmed": {None: "按是否高敏感判断", True: "是", False: "否"},
}
_TIME = "（北京时间）"


def _time_help(text: str) -> str:
    return f"{text}{BEIJING_TIME_HELP}"


def _record_lengths(schema: dict[str, Any]) -> None:
    """The record's length limits on the form's text fields, in the form's schema only (review of
    issue 14, 14): the UI refuses a 3000-character title before submitting, where it was refused
    after. The model itself keeps no constraint: a run started another way is still checked by
    ``to_record``, in Chinese."""
    for name, prop in (schema.get("properties") or {}).items():
        field = IncidentRecord.model_fields.get(name)
        limits = [m.max_length for m in (field.metadata if field else []) if isinstance(m, MaxLen)]
        if prop.get("type") == "string" and limits:
            prop["maxLength"] = limits[0]


class IncidentForm(BaseModel):
    """网络安全事件申报表（时间均为北京时间）。"""

    # No constraints the UI would explain in English: the checks are in to_record, in Chinese.
    # hide_input_in_errors: a type error Prefect reports must not quote what was typed (it may
    # hold an ID number).
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True, title="事件申报", json_schema_extra=_record_lengths)

    # -- the facts every record needs (required) ---------------------------------------------
    title: str = Field(title="事件标题", description="一句话概述事件，如“网银系统中断”。身份证号、银行卡号、电话号码会被自动打码。")
    discovered_at: str = Field(title="发现时间" + _TIME, description=_time_help(
        "发现事件的时间；各项报告时限（2 小时、1 小时、24 小时、“立即”）自此起算。不得晚于现在。"))
    occurred_at: str = Field(title="发生时间" + _TIME, description=_time_help(
        "事件发生的时间（正式书面报告的 24 小时自此起算，NFRA 第四十五条）；不得晚于发现时间。"))
    category: CategoryName = Field(title="事件分类", description="CQ-PLAN 第一篇三 的七类事件。")
    system_name: str = Field(title="系统名称", description="发生事件的网络和信息系统名称（TENPAY 第四条（一）；NFRA 第四十五条）。")
    discovered_by: str = Field(title="发现人", description="发现事件的人员或监控系统名称（TENPAY 第四条（一））。")

    # -- the switches that decide the grade and the deadlines --------------------------------
    important_system: bool = Field(default=False, title="是否重要信息系统",
                                   description="受影响的系统是否为重要信息系统；停机条款只对重要信息系统计算（NFRA 附件）。")
    business_hours: bool = Field(default=False, title="是否发生在业务服务时段",
                                 description="服务中断是否发生在业务服务时段：分级标准的停机条款只计此时段内的中断（NFRA 附件）。")
    cii: bool = Field(default=False, title="是否关键信息基础设施",
                      description="受影响的系统是否为关键信息基础设施（关基）；较大及以上关基事件须 1 小时内向监管和公安报告"
                      "（NFRA 第六十一条）。机构配置为非关基运营者时不得选是。")
    drill: bool = Field(default=False, title="演练",
                        description="演练事件：所有通知标注【演练】，只发给演练参与人，不向监管、公安或客户发送任何内容。")

    # -- outage (NFRA 附件 各级第 2 项) ----------------------------------------------------------
    outage_provinces: int = Field(default=0, title="服务中断：受影响的省级行政区数量",
                                  description="业务无法正常开展的省（自治区、直辖市）个数；0 表示没有服务中断。")
    outage_hours: float = Field(default=0, title="服务中断：业务服务时段内的中断时长（小时）",
                                description="只计业务服务时段内的部分，如 0.5 表示半小时；没有服务中断时填 0。")

    # -- other grading facts -----------------------------------------------------------------
    compromise: CompromiseName = Field(default="无", title="入侵与权限获取", description="NFRA 附件 各级第 3(2) 项。")
    defacement: DefacementName = Field(default="无", title="网站/应用被篡改", description="NFRA 附件 各级第 3(1) 项。")
    data_incident: DataIncidentName = Field(default="无", title="数据安全事件级别",
                                            description="NFRA 附件 各级第 1 项；不构成数据安全事件时选“无”。")

    # -- personal financial information (flattened: TENPAY 第四条（一）) -----------------------
    pfi_types: str = Field(default="", title="涉及的个人金融信息种类",
                           description="如“身份证号、银行卡号、手机号”，用顿号或逗号分隔；不涉及个人金融信息时留空（TENPAY 第四条（一））。")
    pfi_subjects: int = Field(default=0, title="涉及的信息主体人数",
                              description="受影响的个人金融信息主体数量；尚未查清时填目前已知的人数。")
    pfi_high_sensitivity: bool = Field(default=False, title="是否涉及高敏感信息",
                                       description="如身份证号、银行卡号、密码；此类事件须告知受影响的信息主体（TENPAY 第十条）。")
    subjects_may_be_harmed: HarmName = Field(default="按是否高敏感判断", title="是否可能损害信息主体权益",
                                             description="TENPAY 第四条（四）、第十条；仅适用于涉及个人金融信息的事件。")
    corporate_customer_data: bool = Field(default=False, title="是否涉及企业客户信息泄露、篡改",
                                          description="须 2 小时内向信息管理部门提交书面报告（CUSTINFO 8.2）。")
    credit_info_event: CreditEventChoice = Field(default="无", title="征信信息安全事件",
                                                 description="须立即上报并计入当月征信信息安全情况统计表（PBOC-102 三（二）、附件2）。")
    credit_info_events: list[CreditEventName] = Field(default_factory=list, title="征信信息安全事件（多类）",
                                                      description="一起事件同时属于多类时全部选上：统计表每一类各计 1 笔（PBOC-102 附件2）。")
    public_concern: PublicConcernName = Field(default="按级别判断", title="是否涉及公众（须向社会发布警示信息）",
                                              description="NFRA 第四十六条；按级别判断：I级、II级为是，其余为否。")
    computer_system: bool = Field(default=True, title="是否发生在计算机信息系统中",
                                  description="是则须 24 小时内向公安机关报告（TENPAY 第九条）；纸质材料遗失等选否。")
    police_contacted: bool = Field(default=False, title="是否已联系执法机关", description="TENPAY 第四条（一）。")

    # -- description ---------------------------------------------------------------------------
    location: str = Field(default="", title="发生地点", description="机房、网点等（TENPAY 第四条（一））；可留空。")
    other_systems_affected: str = Field(default="", title="对其他系统的影响", description="无影响时可填“无”（TENPAY 第四条（一））。")
    cause: str = Field(default="", title="原因分析",
                       description="尚在分析时可留空（TENPAY 第四条（一））。身份证号、银行卡号、电话号码会被自动打码。")
    institution: str = Field(default="", title="报告单位", description="发生事件的单位（机构配置 reporting_units）；默认为总行/总部。",
                             json_schema_extra={"x-regflows-choices": "units"})

    # -- later times and the assessment ---------------------------------------------------------
    confirmed_at: str = Field(default="", title="确认时间" + _TIME, description=_time_help(
        "确认发生个人金融信息安全事件的时间（TENPAY 第七条、第十三条）；未确认时留空。"))
    recovered_at: str = Field(default="", title="事件恢复时间" + _TIME, description=_time_help(
        "系统和业务恢复的时间（NFRA 第四十七条、第六十一条）；未恢复时留空。"))
    handling_ended_at: str = Field(default="", title="处置结束时间" + _TIME, description=_time_help(
        "事件处置完成的时间（NFRA 第四十五、四十八条）；未结束时留空。"))
    assessed_grade: GradeName = Field(default="不调整", title="综合研判级别",
                                      description="按分级标准的定性条款研判的级别：只能调高，不能调低（NFRA 附件）。")
    assessed_reason: str = Field(default="", title="研判理由", description="选择综合研判级别时必填：依据的定性条款和事实。")

    def to_record(self, units: Mapping[str, str] | None = None) -> IncidentRecord:
        """The strict record; every problem in one Chinese error naming the form's field.
        ``units`` (``Profile.unit_choices()``): the reporting unit is chosen by its label in the
        form (``重庆分行（CQ01）``) and kept as its code; the code itself is accepted too."""
        problems: list[str] = []
        data: dict[str, Any] = {}
        for name in ("occurred_at", "discovered_at", "confirmed_at", "recovered_at", "handling_ended_at"):
            title = type(self).model_fields[name].title or name
            try:
                moment = form_time(getattr(self, name), title)
            except FormError as exc:
                problems.append(str(exc))
                continue
            if moment is None and name in ("occurred_at", "discovered_at"):
                problems.append(f"「{title}」必填")
            data[name] = moment.astimezone(SHANGHAI).isoformat() if moment is not None else None
        for name in ("title", "system_name", "discovered_by"):
            if not getattr(self, name).strip():
                problems.append(f"「{type(self).model_fields[name].title}」必填")
        for name, choices in CHOICES.items():
            data[name] = _code(getattr(self, name), choices, type(self).model_fields[name].title or name, problems)
        data["credit_info_events"] = [_code(v, CHOICES["credit_info_event"], "征信信息安全事件（多类）", problems)
                                      for v in self.credit_info_events]
        for name in ("title", "system_name", "discovered_by", "location", "other_systems_affected", "cause",
                     "institution", "assessed_reason"):
            data[name] = getattr(self, name).strip() or None
        if units and data["institution"]:
            try:
                data["institution"] = choice_code(data["institution"], units, type(self).model_fields["institution"].title or "")
            except FormError as exc:
                problems.append(str(exc))
        for name in ("important_system", "cii", "drill", "corporate_customer_data", "computer_system", "police_contacted"):
            data[name] = getattr(self, name)
        data["outage"] = self._outage(problems)
        data["pfi"] = self._pfi(problems)
        if problems:
            raise IncidentRecordError(problems, "表单")
        return validate_record({k: v for k, v in data.items() if v is not None}, "表单")

    def _outage(self, problems: list[str]) -> dict[str, Any] | None:
        if self.outage_provinces == 0 and self.outage_hours == 0:
            return None
        if self.outage_provinces < 1:
            problems.append("「服务中断：受影响的省级行政区数量」填写了中断时长时须至少为 1")
        return {"provinces": self.outage_provinces, "hours": self.outage_hours, "business_hours": self.business_hours}

    def _pfi(self, problems: list[str]) -> dict[str, Any] | None:
        types = [t.strip() for t in self.pfi_types.replace("，", "、").replace(",", "、").split("、") if t.strip()]
        if not types:
            if self.pfi_subjects or self.pfi_high_sensitivity:
                problems.append("「涉及的个人金融信息种类」须填写：填写了信息主体人数或高敏感信息时，请写明涉及哪些信息")
            return None
        return {"types": types, "subjects": self.pfi_subjects, "high_sensitivity": self.pfi_high_sensitivity}

    def times_line(self) -> str:
        """The times as read, in Beijing time, for the run's first log line (masked title)."""
        parts = []
        for name in ("occurred_at", "discovered_at", "confirmed_at", "recovered_at", "handling_ended_at"):
            title = (type(self).model_fields[name].title or name).removesuffix(_TIME)
            try:
                moment = form_time(getattr(self, name), title)
            except FormError:
                parts.append(f"{title} {getattr(self, name)!r}（无法识别）")
                continue
            if moment is not None:
                parts.append(f"{title} {moment.astimezone(SHANGHAI).strftime('%Y-%m-%d %H:%M')}")
        return f"收到事件申报「{mask_pii(self.title)}」：" + "，".join(parts) + "（北京时间）"


def _code(value: Any, choices: dict[Any, str], title: str, problems: list[str]) -> Any:
    names = {str(k): v for k, v in choices.items()}
    try:
        code = choice_code(str(value), names, title)
    except FormError as exc:
        problems.append(str(exc))
        return None
    return next(k for k in choices if str(k) == code)


def form_from_record(record: IncidentRecord, units: Mapping[str, str] | None = None) -> IncidentForm:
    """The form a strict record fills in: times with their offsets, choices by their Chinese names.

    ``regflows incident declare`` and ``POST /incidents`` send this (``.model_dump(mode="json")``)
    after validating the record strictly, so the deployment has one parameter shape. ``units``
    (``Profile.unit_choices()``) names the reporting unit as the registered form's choice does
    (the server refuses a value outside it); no unit in the record is the head office, listed first.
    """
    data = record.model_dump(mode="json")
    values: dict[str, Any] = {}
    for name in IncidentForm.model_fields:
        if name in CHOICES:
            values[name] = CHOICES[name][data.get(name)]
        elif name in data:
            values[name] = "" if data[name] is None else data[name]
    if units:
        values["institution"] = units.get(data.get("institution") or "", next(iter(units.values())))
    values["credit_info_events"] = [CHOICES["credit_info_event"][v] for v in data.get("credit_info_events") or []]
    outage, pfi = data.get("outage"), data.get("pfi")
    if outage:
        values.update(outage_provinces=outage["provinces"], outage_hours=outage["hours"], business_hours=outage["business_hours"])
    if pfi:
        values.update(pfi_types="、".join(pfi["types"]), pfi_subjects=pfi["subjects"], pfi_high_sensitivity=pfi["high_sensitivity"])
    return IncidentForm.model_validate(values)


def _check_choices_cover_codes() -> None:
    """The form's choices name every code of the record (a new code must get a Chinese name)."""
    if set(CHOICES["category"].values()) != set(CategoryName.__args__):  # type: ignore[attr-defined]
        raise AssertionError("IncidentForm.category 与 CATEGORY_NAMES 不一致")


_check_choices_cover_codes()
