"""The incident record: what happened, as the regulations ask it to be written down.

One pydantic model, :class:`IncidentRecord`, is the JSON the CLI reads, the body a monitoring
system posts, and what the UI form (:mod:`regflows.incident.form`, times in Beijing time, choices
by Chinese name) is converted to inside the run. Every field carries a Chinese ``title`` and
``description`` (errors name the field by them), and the JSON field names are fixed by issue 6:
the entry points must agree on one record.

Sources (digest 1.1-1.2):

- record items: TENPAY 第四条（一）, 第七条 (who discovered it, when, where, which PFI and how many
  subjects, which system, impact on other systems, whether the police were contacted, the cause);
- categories: CQ-PLAN 第一篇三 (有害程序事件 … 其他事件);
- grading facts: NFRA 附件 银行业保险业网络安全事件分级标准 (see :mod:`regflows.incident.grading`).

Why the validators are strict:

- **Times must carry an offset.** A naive ``09:00`` is ambiguous across the machines that post
  incidents (a server in UTC, a laptop in Beijing), and every deadline of the clock is counted
  from these instants: a wrong hour is a late report to the regulator. A naive time is refused,
  naming the field. Epoch numbers are refused too (ISO 8601 only), so nobody's clock is guessed.
- **Free text is masked before it is stored.** An incident about leaked ID numbers tends to
  quote them; the record is copied into the store, the ledger, notices and reports, and must not
  be the second leak (CUSTINFO, TENPAY). :func:`notices.masking.mask_pii` runs in a validator, so
  no unmasked value ever exists inside a model instance.
- **Time order.** Discovery cannot precede occurrence, nor a confirmation, an end of response or
  of handling precede discovery: such a record would start the clock at the wrong instant.

Checks that need the institution profile (the reporting unit exists; ``cii`` only for a CII
operator) live in :func:`check_against_profile`, because the model itself is also used without
a profile (``regflows incident grade``).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, StringConstraints, field_validator, model_validator
from pydantic_core import ErrorDetails

from calendars.zone import local_label
from notices.masking import mask_pii
from regflows.kit.errors import RuleFileError, describe, place
from regflows.kit.rulefiles import parse_json, read_text
from regflows.settings import IncidentSettings

if TYPE_CHECKING:  # the profile module is light, but the record must not need it to validate
    from regflows.profile import Profile, ReportingUnit

__all__ = [
    "Category",
    "CompromiseLevel",
    "CreditInfoEvent",
    "DataIncidentLevel",
    "DefacementLevel",
    "FIELD_TITLES",
    "Grade",
    "IncidentRecord",
    "IncidentRecordError",
    "Outage",
    "PfiInvolvement",
    "TIME_FIELDS",
    "check_against_profile",
    "named",
    "check_times",
    "load_record",
    "resolve_institution",
    "validate_record",
]

#: CQ-PLAN 第一篇三: the seven event categories.
Category = Literal[
    "harmful_program",  # 有害程序事件
    "network_attack",  # 网络攻击事件
    "information_destruction",  # 信息破坏事件
    "information_content",  # 信息内容安全事件
    "equipment_failure",  # 设备设施故障
    "disaster",  # 灾害性事件
    "other",  # 其他事件
]
CATEGORY_NAMES: dict[str, str] = {
    "harmful_program": "有害程序事件",
    "network_attack": "网络攻击事件",
    "information_destruction": "信息破坏事件",
    "information_content": "信息内容安全事件",
    "equipment_failure": "设备设施故障",
    "disaster": "灾害性事件",
    "other": "其他事件",
}
Grade = Literal["I", "II", "III", "IV"]
#: NFRA 附件 (一)1/(二)1/(三)1/(四): the level of the 数据安全事件.
DataIncidentLevel = Literal["general", "larger", "major", "especially_major"]
#: NFRA 附件 (一)3(2)/(二)3(2)/(三)3(2): intrusion and administrator rights.
CompromiseLevel = Literal["important_system_intruded", "other_system_admin", "important_system_admin", "cii_admin"]
#: NFRA 附件 (一)3(1)/(二)3(1)/(三)3(1): website/app defaced.
DefacementLevel = Literal["with_impact", "wide_spread", "large_scale_spread"]
#: PBOC-102 附件2 columns counted as events (异常查询/违规查询 are monitoring leads, not events).
CreditInfoEvent = Literal["illegal_provision", "improper_use", "report_leak"]

TIME_FIELDS: tuple[str, ...] = (
    "occurred_at", "discovered_at", "confirmed_at", "recovered_at", "response_ended_at", "handling_ended_at",
)
_TEXT_FIELDS: tuple[str, ...] = (
    "title", "discovered_by", "location", "system_name", "other_systems_affected", "cause", "assessed_reason",
)

_TIME_HELP = "ISO 8601，须带时区偏移，如 2025-10-01T09:30:00+08:00；不带偏移的时间将被拒绝。"


class _Strict(BaseModel):
    # frozen: a record changes only through ``revised`` (which re-validates), never by assignment.
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class PfiInvolvement(_Strict):
    """The personal financial information involved (TENPAY 第四条（一）: 涉及的个人金融信息及人数)."""

    types: list[Annotated[str, StringConstraints(min_length=1, max_length=100)]] = Field(
        min_length=1,
        max_length=50,  # bounded like every list and text field (issue 13, 8)
        title="涉及的个人金融信息种类",
        description="如 身份证号、银行卡号、手机号、账户交易记录（TENPAY 第四条（一）、（三））。",
    )
    subjects: int = Field(
        ge=0,
        le=2_000_000_000,  # more people than China has is a typo
        title="涉及的信息主体人数",
        description="受影响的个人金融信息主体数量；尚未查清时填目前已知的人数（TENPAY 第四条（一））。",
    )
    high_sensitivity: bool = Field(
        title="是否涉及高敏感信息",
        description="如身份证号、银行卡号、密码等高敏感信息泄露；此类事件须告知受影响的信息主体（TENPAY 第十条）。",
    )

    @field_validator("types")
    @classmethod
    def _mask_types(cls, value: list[str]) -> list[str]:
        cleaned = [mask_pii(t.strip()) for t in value]
        if any(not t for t in cleaned):
            raise ValueError("信息种类不能为空字符串")
        return cleaned


class Outage(_Strict):
    """A service outage of the affected system (NFRA 附件 (一)2/(二)2/(三)2)."""

    provinces: int = Field(
        ge=1,
        title="受影响的省级行政区数量",
        description="业务无法正常开展的省（自治区、直辖市）个数（NFRA 附件 分级标准）。",
    )
    hours: float = Field(
        ge=0,
        allow_inf_nan=False,
        title="业务服务时段内的中断时长（小时）",
        description="业务无法正常开展的时长，只计业务服务时段内的部分，如 0.5 表示半小时（NFRA 附件）。",
    )
    business_hours: bool = Field(
        title="是否发生在业务服务时段",
        description="分级标准的停机条款只适用于业务服务时段内的中断（NFRA 附件 “在业务服务时段”）。",
    )


FIELD_TITLES: dict[str, str] = {}  # filled below from the model's own titles


def named(name: str) -> str:
    """A field as a refusal names it: its Chinese title first, the field for a JSON caller after
    (「发现时间」（discovered_at）; review 14, 10), as :func:`validate_record`'s problems do."""
    title = FIELD_TITLES.get(name)
    return f"「{title}」（{name}）" if title else name


class IncidentRecord(_Strict):
    """网络安全事件 / 个人金融信息安全事件记录（TENPAY 第四条（一）；NFRA 附件；CQ-PLAN）。"""

    title: str = Field(
        min_length=1, max_length=200, title="事件标题", description="一句话概述事件，如“网银系统中断”。"
    )
    occurred_at: dt.datetime = Field(
        title="发生时间", description="事件发生的时间（正式书面报告的 24 小时自此起算，NFRA 第四十五条）。" + _TIME_HELP
    )
    discovered_at: dt.datetime = Field(
        title="发现时间",
        description="发现事件的时间；各项报告时限（2 小时、1 小时、24 小时、“立即”）自此起算。不得早于发生时间。" + _TIME_HELP,
    )
    confirmed_at: dt.datetime | None = Field(
        default=None,
        title="确认时间（个人金融信息安全事件）",
        description="确认发生或可能发生个人金融信息安全事件的时间（TENPAY 第七条）；第七至九条措施须在此后 24 小时内完成"
        "（TENPAY 第十三条）。未确认时留空。" + _TIME_HELP,
    )
    recovered_at: dt.datetime | None = Field(
        default=None,
        title="事件恢复时间",
        description="受影响的系统和业务恢复的时间（NFRA 第四十七条）；关基事件恢复后立即开展专项审计（NFRA 第六十一条），"
        "该期限自此起算。未恢复时留空。" + _TIME_HELP,
    )
    response_ended_at: dt.datetime | None = Field(
        default=None,
        title="应急响应结束时间",
        description="应急响应经批准结束的时间（CQ-PLAN 第四篇三）：由结束审批的最后一项批准自动记录，申报时请留空"
        "（填写的值不予采用）；调查评估报告 30 日期限自此起算（CQ-PLAN 第五篇）。" + _TIME_HELP,
    )
    handling_ended_at: dt.datetime | None = Field(
        default=None,
        title="处置结束时间",
        description="事件处置完成的时间（NFRA 第四十五、四十八条）：进展报告至此停止，总结报告 5 个工作日期限自此起算。"
        "未结束时留空。" + _TIME_HELP,
    )
    institution: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_-]{1,32}$",
        title="报告单位代码",
        description="发生事件的报告单位（机构配置 reporting_units 中的 code）；留空为总行/总部。",
    )
    discovered_by: str = Field(
        min_length=1,
        max_length=200,
        title="发现人",
        description="发现事件的人员或监控系统名称（TENPAY 第四条（一））。",
    )
    location: str | None = Field(
        default=None, max_length=500, title="发生地点", description="事件发生的地点或机房、网点（TENPAY 第四条（一））。"
    )
    system_name: str = Field(
        min_length=1,
        max_length=200,
        title="系统名称",
        description="发生事件的网络和信息系统名称（TENPAY 第四条（一）；NFRA 第四十五条报告内容）。",
    )
    other_systems_affected: str | None = Field(
        default=None,
        max_length=2000,
        title="对其他系统的影响",
        description="对其他系统的影响；无影响时可填“无”（TENPAY 第四条（一））。",
    )
    police_contacted: bool = Field(
        default=False, title="是否已联系执法机关", description="是否已联系公安机关等执法机关（TENPAY 第四条（一））。"
    )
    computer_system: bool = Field(
        default=True,
        title="是否发生在计算机信息系统中",
        description="事件是否发生在计算机信息系统中；是则须 24 小时内向公司主体所在地县级（含）以上公安机关报告"
        "（TENPAY 第九条“对计算机信息系统中发生的事件”）。纸质材料遗失等不涉及计算机信息系统的事件填 false。",
    )
    corporate_customer_data: bool = Field(
        default=False,
        title="是否涉及企业客户信息泄露、篡改",
        description="事件是否造成企业（法人）客户信息泄露、篡改等；与个人金融信息一样，须 2 小时内向信息管理部门提交书面报告"
        "（CUSTINFO 8.2：客户信息泄露、篡改等事件）。",
    )
    public_concern: bool | None = Field(
        default=None,
        title="是否涉及公众（须向社会发布警示信息）",
        description="事件是否与公众有关、须及时向社会发布警示信息（NFRA 第四十六条）。留空时按级别判断："
        "特别重大（I级）、重大（II级）为是，较大及以下为否。",
    )
    pfi: PfiInvolvement | None = Field(
        default=None,
        title="涉及的个人金融信息",
        description="涉及个人金融信息时填写种类、人数、是否高敏感；不涉及时留空（TENPAY 第四条（一））。",
    )
    subjects_may_be_harmed: bool | None = Field(
        default=None,
        title="是否可能损害信息主体权益",
        description="个人金融信息主体的合法权益是否可能受到侵害（TENPAY 第四条（四）、第十条）；留空时按“是否涉及高敏感信息”判断。"
        "本字段不免除通知：通知个人金融信息主体对每一起个人金融信息泄露、篡改、丢失都列出（TENPAY 第五条），"
        "采取措施能够有效避免危害而不通知的，须由人员以豁免记录理由（regflows incident waive）。",
    )
    cause: str | None = Field(
        default=None,
        max_length=5000,
        title="原因分析",
        description="事件原因的分析（TENPAY 第四条（一））；尚在分析时可留空。身份证号、银行卡号、电话号码会被自动打码。",
    )
    category: Category = Field(
        title="事件分类",
        description="CQ-PLAN 第一篇三：harmful_program 有害程序事件；network_attack 网络攻击事件；"
        "information_destruction 信息破坏事件；information_content 信息内容安全事件；"
        "equipment_failure 设备设施故障；disaster 灾害性事件；other 其他事件。",
    )
    important_system: bool = Field(
        default=False,
        title="是否重要信息系统",
        description="受影响的系统是否为重要信息系统；停机条款只对重要信息系统计算（NFRA 附件）。",
    )
    cii: bool = Field(
        default=False,
        title="是否关键信息基础设施",
        description="受影响的系统是否为关键信息基础设施（关基）；较大及以上关基事件须 1 小时内向监管和公安报告"
        "（NFRA 第六十一条）。机构配置为非关基运营者时不得为 true。",
    )
    outage: Outage | None = Field(
        default=None,
        title="服务中断",
        description="重要信息系统服务异常导致业务无法正常开展时填写；无中断时留空（NFRA 附件）。",
    )
    data_incident: DataIncidentLevel | None = Field(
        default=None,
        title="数据安全事件级别",
        description="general 一般；larger 较大；major 重大；especially_major 特别重大（NFRA 附件 各级第 1 项）。"
        "不构成数据安全事件时留空。",
    )
    compromise: CompromiseLevel | None = Field(
        default=None,
        title="入侵与权限获取",
        description="important_system_intruded 重要信息系统被入侵；other_system_admin 其他信息系统被入侵并获取管理权限；"
        "important_system_admin 关基外的重要信息系统被获取管理权限；cii_admin 关键信息基础设施被入侵并获取管理权限"
        "（NFRA 附件 各级第 3(2) 项）。",
    )
    defacement: DefacementLevel | None = Field(
        default=None,
        title="网站/应用被篡改",
        description="with_impact 被攻击篡改并造成影响；wide_spread 导致违法有害信息较大范围传播；"
        "large_scale_spread 导致违法有害信息大范围传播（NFRA 附件 各级第 3(1) 项）。",
    )
    assessed_grade: Grade | None = Field(
        default=None,
        title="综合研判级别",
        description="按分级标准的定性条款（对国家安全、社会秩序、经济建设、公共利益的威胁、影响与损失）研判的级别："
        "只能调高按客观条款确定的级别，不能调低（NFRA 附件：同时满足多个级别时按更高级别确定）。",
    )
    assessed_reason: str | None = Field(
        default=None,
        max_length=2000,
        validate_default=True,
        title="研判理由",
        description="填写综合研判级别时必填：说明依据的定性条款和事实。",
    )
    credit_info_event: CreditInfoEvent | None = Field(
        default=None,
        title="征信信息安全事件",
        description="illegal_provision 非法提供；improper_use 违规使用；report_leak 信用报告泄漏：须立即上报，"
        "并计入当月征信信息安全情况统计表（PBOC-102 三（二）、附件2）。",
    )
    credit_info_events: list[CreditInfoEvent] = Field(
        default_factory=list,
        max_length=5,  # attachment 2 has five kinds
        title="征信信息安全事件（多类）",
        description="一起事件同时属于多类征信信息安全事件时全部列出（如既非法提供又致信用报告泄漏）：统计表每一类各计 1 笔"
        "（PBOC-102 附件2）；credit_info_event 留空时取第一类。",
    )
    drill: bool = Field(
        default=False,
        title="演练",
        description="演练事件：流程照常运行，但所有通知标注【演练】，只发给演练参与人，不向监管、公安或客户发送任何内容。",
    )

    # -- times ------------------------------------------------------------------------------
    @field_validator(*TIME_FIELDS, mode="before")
    @classmethod
    def _iso_text_only(cls, value: Any, info: ValidationInfo) -> Any:
        """ISO 8601 text or a datetime; an epoch number or a bare date has no stated offset."""
        if value is None or isinstance(value, (str, dt.datetime)):
            return value
        raise ValueError(f"{named(info.field_name or '')}须为带时区偏移的 ISO 8601 时间字符串，如 2025-10-01T09:30:00+08:00，实为 {value!r}")

    @field_validator(*TIME_FIELDS, mode="after")
    @classmethod
    def _aware_and_ordered(cls, value: dt.datetime | None, info: ValidationInfo) -> dt.datetime | None:
        if value is None:
            return None
        name = info.field_name or ""
        if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
            raise ValueError(
                f"{named(name)}没有时区偏移：{value.isoformat()} 有歧义，"
                f"请写成 {value.isoformat()}+08:00 这样带偏移的时间"
            )
        # Fields are validated in declaration order, so the earlier instants are in info.data
        # when they were valid themselves (an invalid one has its own error already).
        if name == "discovered_at":
            occurred = info.data.get("occurred_at")
            if occurred is not None and value < occurred:
                raise ValueError(
                    f"{named('discovered_at')}{value.isoformat()} 早于{named('occurred_at')}{occurred.isoformat()}"
                )
        elif name != "occurred_at":
            discovered = info.data.get("discovered_at")
            if discovered is not None and value < discovered:
                raise ValueError(
                    f"{named(name)}{value.isoformat()} 早于{named('discovered_at')}"
                    f"{discovered.isoformat()}"
                )
        return value

    # -- free text ----------------------------------------------------------------------------
    @field_validator(*_TEXT_FIELDS, mode="after")
    @classmethod
    def _mask(cls, value: str | None) -> str | None:
        return None if value is None else mask_pii(value)

    # -- cross-field facts, bound to the later field so the error names it -------------------
    @field_validator("subjects_may_be_harmed")
    @classmethod
    def _harm_needs_pfi(cls, value: bool | None, info: ValidationInfo) -> bool | None:
        if value and "pfi" in info.data and info.data["pfi"] is None:
            raise ValueError("subjects_may_be_harmed 只适用于涉及个人金融信息的事件：请先填写 pfi（种类、人数、是否高敏感）")
        return value

    @field_validator("compromise")
    @classmethod
    def _cii_admin_needs_cii(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value == "cii_admin" and info.data.get("cii") is False:
            raise ValueError("compromise 为 cii_admin（关基被入侵并获取管理权限）时 cii 必须为 true")
        return value

    @model_validator(mode="before")
    @classmethod
    def _credit_kinds_together(cls, data: Any) -> Any:
        """Several kinds of credit event (PBOC-102 附件2, one column each): ``credit_info_event`` is
        the first of them when unset, so the clock's immediate report still applies."""
        if isinstance(data, dict) and data.get("credit_info_events") and not data.get("credit_info_event"):
            return {**data, "credit_info_event": list(data["credit_info_events"])[0]}
        return data

    @field_validator("assessed_reason")
    @classmethod
    def _reason_with_assessment(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("assessed_grade") is not None and not value:
            raise ValueError("填写了 assessed_grade（综合研判级别）时必须填写 assessed_reason（研判理由）")
        return value

    # -- helpers ----------------------------------------------------------------------------
    def revised(self, **changes: Any) -> "IncidentRecord":
        """A copy with changes, validated again (``model_copy(update=...)`` would skip validation)."""
        data = self.model_dump()
        data.update(changes)
        return type(self).model_validate(data)

    @property
    def pfi_involved(self) -> bool:
        return self.pfi is not None

    @property
    def customer_info_involved(self) -> bool:
        """Customer information leaked or tampered with (CUSTINFO 8.2): PFI, or corporate customers' data."""
        return self.pfi is not None or self.corporate_customer_data

    def concerns_public(self, grade: Grade) -> bool:
        """Whether a public warning is owed (NFRA 第四十六条): as recorded, else yes for grades I and II."""
        if self.public_concern is not None:
            return self.public_concern
        return grade in ("I", "II")

    @property
    def subjects_at_risk(self) -> bool:
        """Whether the subjects must be told (TENPAY 第四条（四）, 第十条; exception: 第五条).

        Explicit ``subjects_may_be_harmed`` wins; left empty, a high-sensitivity leak (an ID
        number: TENPAY 第十条's own example) counts as harmful.
        """
        if self.pfi is None:
            return False
        if self.subjects_may_be_harmed is not None:
            return self.subjects_may_be_harmed
        return self.pfi.high_sensitivity


FIELD_TITLES.update({name: field.title or name for name, field in IncidentRecord.model_fields.items()})
FIELD_TITLES.update({f"pfi.{n}": f.title or n for n, f in PfiInvolvement.model_fields.items()})
FIELD_TITLES.update({f"outage.{n}": f.title or n for n, f in Outage.model_fields.items()})


# --------------------------------------------------------------------------------------------
# Errors that name the field (and the line of the JSON file)
# --------------------------------------------------------------------------------------------


class IncidentRecordError(RuleFileError):
    """A record that cannot be used; ``problems`` lists ``where field（标题）：message`` lines.

    The wording of the problems is the kit's (:mod:`regflows.kit.errors`), as for every rule
    file; ``source`` is a path (``文件 …``) or a label (``POST /incidents``, ``事件记录``).
    """

    def __init__(self, problems: Sequence[str], source: str | os.PathLike[str] = "事件记录") -> None:
        self.label = place(source)
        super().__init__(problems, source, "事件记录")

    def heading(self) -> str:
        if len(self.problems) == 1:
            only = self.problems[0]
            return only if only.startswith(self.label) else f"{self.label}：{only}"
        return f"{self.label} 有 {len(self.problems)} 处错误：\n" + "\n".join(f"  - {p}" for p in self.problems)


def _record_message(error: ErrorDetails) -> str | None:
    """The record's own wording where the kit's general one says less."""
    if error["type"] == "string_pattern_mismatch":  # the one pattern field: institution
        return f"格式无效 {error.get('input')!r}（只允许字母、数字、_ 和 -，最长 32 位）"
    if error["type"] in {"model_type", "model_attributes_type", "dict_type"}:
        return "须为 JSON 对象（{...}）或 null"
    return None


def validate_record(data: Mapping[str, Any] | str | bytes, source: str | os.PathLike[str] = "事件记录") -> IncidentRecord:
    """A record from a mapping (HTTP body, UI form) or JSON text; every problem names its field.

    JSON text gets line numbers in the messages (``文件 a.json 第 4 行 field（标题）：message``).
    """
    where: Mapping[tuple[str | int, ...], int] | None = None
    if isinstance(data, (str, bytes)):
        try:
            document = parse_json(data, source, "事件记录")  # bytes too: invalid UTF-8 is refused, named
        except RuleFileError as exc:
            raise IncidentRecordError(exc.problems, source) from exc
        parsed, where = document.data, document.lines
    else:
        parsed = data
    if not isinstance(parsed, Mapping):
        raise IncidentRecordError([f"{place(source, 1)}：顶层必须是 JSON 对象（{{...}}）"], source)
    try:
        return IncidentRecord.model_validate(dict(parsed))
    except ValidationError as exc:
        problems = describe(exc, source if where is not None else None, where, model=IncidentRecord,
                            titles=FIELD_TITLES, messages=_record_message, chinese_first=True)
        raise IncidentRecordError(problems, source) from exc


def load_record(path: str | Path) -> IncidentRecord:
    """Read and validate a record from a JSON file (UTF-8); errors name the file, line and field."""
    file = Path(path)
    try:
        text = read_text(file, "事件记录")
    except RuleFileError as exc:
        raise IncidentRecordError(exc.problems, file) from exc
    return validate_record(text, file)


# --------------------------------------------------------------------------------------------
# Checks against the institution profile
# --------------------------------------------------------------------------------------------


def resolve_institution(record: IncidentRecord, profile: "Profile") -> "ReportingUnit":
    """The reporting unit the record names; no code means the head office. Unknown codes are refused."""
    if record.institution is None:
        return profile.head_office
    for unit in profile.reporting_units:
        if unit.code == record.institution:
            return unit
    known = "、".join(f"{u.code}（{u.name}）" for u in profile.reporting_units)
    raise IncidentRecordError([f"institution（报告单位代码）: 未知的机构代码 {record.institution}，机构配置中有：{known}"])


def check_times(record: IncidentRecord, now: dt.datetime, settings: Any = None) -> None:
    """Refuse times no declaration can truly have (issue 13, 8): later than ``now`` plus the clock
    skew (a typo of the year or of AM/PM, or a picker in the wrong zone: it would start a
    regulatory clock in the future) or earlier than the institution's records begin (year 1
    cannot be computed on the calendar). ``now`` is the wall clock, or ``--now`` on the CLI.
    ``settings``: the profile's settings (any object with the two fields), default the defaults.
    """
    s = settings if settings is not None else IncidentSettings()
    latest = now + dt.timedelta(seconds=int(s.declaration_clock_skew_seconds))
    begin = dt.date.fromisoformat(str(s.records_begin))
    problems = []
    for name in TIME_FIELDS:
        value = getattr(record, name, None)
        if value is None:
            continue
        if value > latest:
            problems.append(f"{named(name)}{value.isoformat()} 晚于当前时间 {local_label(now)}："
                            "不能登记尚未发生的时间，请核对年份、上下午与时区（北京时间写成 +08:00）")
        elif value.date() < begin:
            problems.append(f"{named(name)}{value.isoformat()} 早于本机构记录起始日 {begin.isoformat()}"
                            "（机构配置 settings.records_begin）：请核对年份")
    if problems:
        raise IncidentRecordError(problems)


def check_against_profile(record: IncidentRecord, profile: "Profile") -> "ReportingUnit":
    """Everything about the record that depends on the institution; returns the reporting unit.

    ``cii`` is refused for an institution that operates no CII: the 1-hour police and regulator
    reports of NFRA 第六十一条 would then be computed for a system that cannot be CII, and the
    profile is the institution's own statement of what it operates.
    """
    problems: list[str] = []
    if record.cii and not profile.institution.cii_operator:
        problems.append(
            "cii（是否关键信息基础设施）: 机构配置 institution.cii_operator 为 false（本机构不运营关键信息基础设施），"
            "事件记录不能标记为关基事件；如确属关基，请先更正机构配置"
        )
    try:
        unit = resolve_institution(record, profile)
    except IncidentRecordError as exc:
        problems.extend(exc.problems)
        unit = None
    if problems or unit is None:
        raise IncidentRecordError(problems)
    return unit
