"""Correcting an incident's facts: one path for the form, ``regflows incident update`` and ``regrade``.

Why one function (issue 14, 2): a duty officer who learnt that the system was an important one
re-submitted the declaration form; the run said 「已登记 … III级」 while the store kept grade IV,
its obligations and its alert, and nobody was told. Now a declaration whose incident is on
record is refused (:func:`existing_incident`, with a link to the correction form), and a
correction goes through :func:`update_incident`, which does everything a changed fact implies,
in this order:

1. checks who answers for it (one of the profile's people) and why (a reason, masked);
2. validates the revised record as strictly as a declaration (:func:`validate_record`, the
   profile's checks, no time in the future);
3. grades it again (:func:`regflows.incident.grading.regrade`: NFRA 附件; the deadlines still
   count from discovery, so an obligation a higher grade adds may be overdue at once);
4. stores record, grading, the timeline event ``updated`` (``regraded`` too when the grade moved)
   and their ledger entries in one transaction, with the old and new grade and obligations;
5. recomputes the clock and, when the grade or the owed obligations changed, sends the incident
   alert again, headed 【更正】, to the new level's roles (CQ-PLAN 第三篇三、第四篇二); then raises
   every obligation already overdue under the new facts (the kit's reminder loop).

The form's facts (:class:`IncidentFacts`) are plain values people can fill in fast: text left
empty and the choice 「不变」 mean "unchanged", times are Beijing wall-clock text
(:func:`regflows.kit.forms.form_time`), choices are Chinese names. No Prefect here: the tasks
(tasks/incident.py) and the CLI call it.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field

from calendars.zone import SHANGHAI
from notices.masking import mask_pii
from regflows.incident import alerts, store
from regflows.incident.grading import Grading, grade, regrade
from regflows.incident.recompute import clock_rows, computed
from regflows.incident.record import (
    CATEGORY_NAMES, FIELD_TITLES, TIME_FIELDS, IncidentRecord, check_against_profile, check_times, named, validate_record,
)
from regflows.kit.forms import FormError, choice_code, form_time
from regflows.profile import Profile
from regflows.store.models import Obligation, utcnow
from regflows.store.obligations import CLOSED_STATES

__all__ = [
    "DuplicateDeclaration", "IncidentFacts", "fact_text", "UPDATE_DEPLOYMENT", "UpdateOutcome", "UpdateRefused", "existing_incident",
    "update_form_url", "update_incident",
]

#: The correction form's deployment (prefect.yaml), as ``flow/deployment``.
UPDATE_DEPLOYMENT = "incident-update/incident-update"

UNCHANGED: Literal["不变"] = "不变"
NOTHING = "无"
TriState = Literal["不变", "是", "否"]
CategoryChoice = Literal["不变", "有害程序事件", "网络攻击事件", "信息破坏事件", "信息内容安全事件", "设备设施故障", "灾害性事件", "其他事件"]
DATA_INCIDENT_NAMES = {"general": "一般", "larger": "较大", "major": "重大", "especially_major": "特别重大"}
DataIncidentChoice = Literal["不变", "无", "一般", "较大", "重大", "特别重大"]
COMPROMISE_NAMES = {"important_system_intruded": "重要信息系统被入侵", "other_system_admin": "其他信息系统被入侵并获取管理权限",
                    "important_system_admin": "关基外的重要信息系统被获取管理权限", "cii_admin": "关键信息基础设施被入侵并获取管理权限"}
CompromiseChoice = Literal["不变", "无", "重要信息系统被入侵", "其他信息系统被入侵并获取管理权限", "关基外的重要信息系统被获取管理权限",
                           "关键信息基础设施被入侵并获取管理权限"]
DEFACEMENT_NAMES = {"with_impact": "被攻击篡改并造成影响", "wide_spread": "导致违法有害信息较大范围传播",
                    "large_scale_spread": "导致违法有害信息大范围传播"}
DefacementChoice = Literal["不变", "无", "被攻击篡改并造成影响", "导致违法有害信息较大范围传播", "导致违法有害信息大范围传播"]
AssessedChoice = Literal["不变", "I级（特别重大）", "II级（重大）", "III级（较大）", "IV级（一般）"]  # shown in Chinese (issue 14, 5)
CREDIT_EVENT_NAMES = {"illegal_provision": "非法提供", "improper_use": "违规使用", "report_leak": "信用报告泄漏"}  # PBOC-102 附件2
CreditEventChoice = Literal["不变", "无", "非法提供", "违规使用", "信用报告泄漏"]
PublicConcernChoice = Literal["不变", "按级别判断", "是", "否"]  # NFRA 第四十六条: 按级别判断 = I、II级为是
#: The number of provinces as typed: 「不变」, or 0 to 34 (0: no outage after all; review 14, 12).
_PROVINCES = r"^(?:不变|[0-9]{1,2})$"

_UNCHANGED_HELP = "留空或「不变」为不更正。"
_TIME = "北京时间，如 2026-11-26 19:50（也可写带时区偏移的时间）；" + _UNCHANGED_HELP


class IncidentFacts(BaseModel):
    """要更正的事实：只填需要更正的项，其余保持「不变」或留空。"""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    important_system: TriState = Field(UNCHANGED, title="是否重要信息系统",
                                       description="受影响的系统是否为重要信息系统；停机条款只对重要信息系统计算（NFRA 附件 各级第 2 项）。")
    outage_business_hours: TriState = Field(UNCHANGED, title="服务中断是否在业务服务时段",
                                            description="停机条款只计业务服务时段内的中断（NFRA 附件）。" + _UNCHANGED_HELP)
    cii: TriState = Field(UNCHANGED, title="是否关键信息基础设施",
                          description="较大及以上关基事件须 1 小时内向监管和公安报告（NFRA 第六十一条）。" + _UNCHANGED_HELP)
    outage_provinces: str = Field(UNCHANGED, max_length=3, pattern=_PROVINCES, title="服务中断：受影响的省级行政区数量",
                                  description="业务无法正常开展的省（自治区、直辖市）个数，0 至 34；填 0 为没有服务中断"
                                              "（删除服务中断的记录）；「不变」为不更正（NFRA 附件）。")
    outage_hours: str = Field("", max_length=20, title="服务中断：业务服务时段内的中断时长（小时）",
                              description="如 0.5 表示半小时（NFRA 附件）；" + _UNCHANGED_HELP)
    category: CategoryChoice = Field(UNCHANGED, title="事件分类", description="CQ-PLAN 第一篇三。" + _UNCHANGED_HELP)
    data_incident: DataIncidentChoice = Field(UNCHANGED, title="数据安全事件级别",
                                              description="NFRA 附件 各级第 1 项；「无」为不构成数据安全事件。" + _UNCHANGED_HELP)
    compromise: CompromiseChoice = Field(UNCHANGED, title="入侵与权限获取", description="NFRA 附件 各级第 3(2) 项；「无」为未发生。" + _UNCHANGED_HELP)
    defacement: DefacementChoice = Field(UNCHANGED, title="网站/应用被篡改", description="NFRA 附件 各级第 3(1) 项；「无」为未发生。" + _UNCHANGED_HELP)
    assessed_grade: AssessedChoice = Field(UNCHANGED, title="综合研判级别",
                                           description="按定性条款研判的级别，只能调高（NFRA 附件 总述）；填写时须同时写研判理由。" + _UNCHANGED_HELP)
    assessed_reason: str = Field("", max_length=2000, title="研判理由", description="填写综合研判级别时必填。" + _UNCHANGED_HELP)
    occurred_at: str = Field("", max_length=40, title="发生时间（北京时间）", description="正式书面报告的 24 小时自此起算（NFRA 第四十五条）。" + _TIME)
    discovered_at: str = Field("", max_length=40, title="发现时间（北京时间）", description="各项报告时限自此起算。" + _TIME)
    confirmed_at: str = Field("", max_length=40, title="确认时间（北京时间）",
                              description="确认个人金融信息安全事件的时间（TENPAY 第七条、第十三条）。" + _TIME)
    recovered_at: str = Field("", max_length=40, title="事件恢复时间（北京时间）",
                              description="关基事件恢复后立即开展专项审计（NFRA 第六十一条）。" + _TIME)
    handling_ended_at: str = Field("", max_length=40, title="处置结束时间（北京时间）",
                                   description="总结报告 5 个工作日期限自此起算（NFRA 第四十八条）。" + _TIME)
    police_contacted: TriState = Field(UNCHANGED, title="是否已联系执法机关", description="TENPAY 第四条（一）。" + _UNCHANGED_HELP)
    corporate_customer_data: TriState = Field(UNCHANGED, title="是否涉及企业客户信息泄露、篡改",
                                              description="CUSTINFO 8.2：2 小时内向信息管理部门书面报告。" + _UNCHANGED_HELP)
    pfi_types: str = Field("", max_length=2000, title="涉及的个人金融信息种类",
                           description="如“身份证号、银行卡号、手机号”，用顿号或逗号分隔；填「无」为不涉及个人金融信息（TENPAY 第四条（一））。"
                                       + _UNCHANGED_HELP)
    pfi_subjects: str = Field("", max_length=12, title="涉及的信息主体人数",
                              description="受影响的个人金融信息主体数量（整数，TENPAY 第四条（一））。" + _UNCHANGED_HELP)
    pfi_high_sensitivity: TriState = Field(UNCHANGED, title="是否涉及高敏感信息",
                                           description="如身份证号、银行卡号、密码；此类事件须告知受影响的信息主体（TENPAY 第十条）。"
                                                       + _UNCHANGED_HELP)
    credit_info_event: CreditEventChoice = Field(UNCHANGED, title="征信信息安全事件",
                                                 description="须立即上报并计入当月征信信息安全情况统计表（PBOC-102 三（二）、附件2）；"
                                                             "「无」为不属于征信信息安全事件。" + _UNCHANGED_HELP)
    public_concern: PublicConcernChoice = Field(UNCHANGED, title="是否涉及公众（须向社会发布警示信息）",
                                                description="NFRA 第四十六条；按级别判断：I级、II级为是，其余为否。" + _UNCHANGED_HELP)
    discovered_by: str = Field("", max_length=200, title="发现人", description="发现事件的人员或监控系统名称（TENPAY 第四条（一））。"
                               + _UNCHANGED_HELP)
    location: str = Field("", max_length=200, title="发生地点", description="机房、网点等（TENPAY 第四条（一））。" + _UNCHANGED_HELP)
    title: str = Field("", max_length=200, title="事件标题", description=_UNCHANGED_HELP)
    system_name: str = Field("", max_length=200, title="系统名称", description=_UNCHANGED_HELP)
    other_systems_affected: str = Field("", max_length=2000, title="对其他系统的影响", description=_UNCHANGED_HELP)
    cause: str = Field("", max_length=5000, title="原因分析",
                       description="身份证号、银行卡号、电话号码会被自动打码。" + _UNCHANGED_HELP)

    def changes(self, current: dict[str, Any]) -> dict[str, Any]:
        """The record's fields this form changes (JSON values), given the current record; a value
        that cannot be read is a :class:`FormError` naming the field by its title."""
        titles = {name: f.title or name for name, f in type(self).model_fields.items()}
        out: dict[str, Any] = {}
        for name in ("title", "system_name", "other_systems_affected", "cause", "discovered_by", "location"):
            if getattr(self, name):
                out[name] = getattr(self, name)
        for name in ("occurred_at", "discovered_at", "confirmed_at", "recovered_at", "handling_ended_at"):
            at = form_time(getattr(self, name), titles[name])
            if at is not None:
                out[name] = at.isoformat()
        for name in ("important_system", "cii", "police_contacted", "corporate_customer_data"):
            if getattr(self, name) != UNCHANGED:
                out[name] = getattr(self, name) == "是"
        if self.category != UNCHANGED:
            out["category"] = choice_code(self.category, CATEGORY_NAMES, titles["category"])
        for name, names in (("data_incident", DATA_INCIDENT_NAMES), ("compromise", COMPROMISE_NAMES), ("defacement", DEFACEMENT_NAMES)):
            value = getattr(self, name)
            if value != UNCHANGED:
                out[name] = None if value == NOTHING else choice_code(value, names, titles[name])
        if self.assessed_grade != UNCHANGED:
            out["assessed_grade"] = self.assessed_grade.partition("级")[0]
        if self.assessed_reason:
            out["assessed_reason"] = self.assessed_reason
        if self.credit_info_event != UNCHANGED:
            out["credit_info_event"] = None if self.credit_info_event == NOTHING else choice_code(
                self.credit_info_event, CREDIT_EVENT_NAMES, titles["credit_info_event"])
        if self.public_concern != UNCHANGED:
            out["public_concern"] = {"按级别判断": None, "是": True, "否": False}[self.public_concern]
        if self.outage_provinces.strip() == "0":  # no outage after all: the hours and time of day go with it
            if self.outage_hours or self.outage_business_hours != UNCHANGED:
                raise FormError(f"「{titles['outage_provinces']}」填 0 表示没有服务中断，"
                                f"请将「{titles['outage_hours']}」留空、「{titles['outage_business_hours']}」选「不变」")
            out["outage"] = None
        else:
            outage = self._outage(current.get("outage"), titles)
            if outage is not None:
                out["outage"] = outage
        pfi = self._pfi(current.get("pfi"), titles)
        if pfi is not None:
            out["pfi"] = pfi or None
        return out

    def _pfi(self, current: dict[str, Any] | None, titles: dict[str, str]) -> dict[str, Any] | None:
        """The personal financial information as corrected, merged with the record's (None: unchanged;
        ``{}``: 「无」, not involved after all)."""
        if self.pfi_types == NOTHING:
            if self.pfi_subjects or self.pfi_high_sensitivity != UNCHANGED:
                raise FormError(f"「{titles['pfi_types']}」填「无」表示不涉及个人金融信息，"
                                f"请将「{titles['pfi_subjects']}」留空、「{titles['pfi_high_sensitivity']}」选「不变」")
            return {}
        given: dict[str, Any] = {}
        types = [t.strip() for t in self.pfi_types.replace("，", "、").replace(",", "、").split("、") if t.strip()]
        if types:
            given["types"] = types
        if self.pfi_subjects:
            try:
                given["subjects"] = int(self.pfi_subjects.replace(",", "").replace("，", ""))
            except ValueError:
                raise FormError(f"「{titles['pfi_subjects']}」应为整数人数，如 1200（填写的是 {self.pfi_subjects!r}）") from None
        if self.pfi_high_sensitivity != UNCHANGED:
            given["high_sensitivity"] = self.pfi_high_sensitivity == "是"
        if not given:
            return None
        merged = {**(current or {}), **given}
        missing = [k for k in ("types", "subjects", "high_sensitivity") if k not in merged]
        if missing:
            names = {"types": titles["pfi_types"], "subjects": titles["pfi_subjects"], "high_sensitivity": titles["pfi_high_sensitivity"]}
            raise FormError("事件记录中尚无个人金融信息，请同时填写：" + "、".join(f"「{names[k]}」" for k in missing))
        return merged

    def _outage(self, current: dict[str, Any] | None, titles: dict[str, str]) -> dict[str, Any] | None:
        provinces = None if self.outage_provinces.strip() in ("", UNCHANGED) else int(self.outage_provinces)
        if provinces is not None and provinces > 34:
            raise FormError(f"「{titles['outage_provinces']}」应为 0 至 34（全国 34 个省级行政区），填写的是 {provinces}")
        given: dict[str, Any] = {"provinces": provinces, "business_hours": None if self.outage_business_hours == UNCHANGED
                 else self.outage_business_hours == "是"}
        if self.outage_hours:
            try:
                given["hours"] = float(self.outage_hours.replace("，", ".").replace("。", "."))
            except ValueError:
                raise FormError(f"「{titles['outage_hours']}」应为小时数，如 0.5（填写的是 {self.outage_hours!r}）") from None
        given = {k: v for k, v in given.items() if v is not None}
        if not given:
            return None
        merged = {**(current or {}), **given}
        missing = [k for k in ("provinces", "hours", "business_hours") if k not in merged]
        if missing:
            names = {"provinces": titles["outage_provinces"], "hours": titles["outage_hours"],
                     "business_hours": titles["outage_business_hours"]}
            raise FormError("事件记录中尚无服务中断，请同时填写：" + "、".join(f"「{names[k]}」" for k in missing))
        return merged


class UpdateRefused(ValueError):
    """A correction the rules do not allow (the end of the response is decided, not typed; the
    reporting unit and the drill flag make another incident); the message says what to do."""


class DuplicateDeclaration(Exception):
    """A declaration whose incident (same reporting unit, discovery time and title) is on record:
    refused before anything is written or sent, naming the incident and the correction form."""

    def __init__(self, incident_id: str, link: str) -> None:
        self.incident_id, self.link = incident_id, link
        super().__init__(
            f"事件 {incident_id} 已登记（同一报告单位、发现时间与标题），本次申报未登记、未通知任何人。"
            f"如需更正事实（如是否重要信息系统、中断时长），请用事件更正表单：{link} "
            f"（或 regflows incident update {incident_id} … --reason … --by …）；更正后将重新定级、重算时限并通知相关部门。"
        )


def existing_incident(record: IncidentRecord, unit_code: str) -> str | None:
    """The id of the incident this declaration would make, when it is already on record."""
    incident_id = store.incident_id_for(record.model_dump(mode="json"), unit_code)
    return incident_id if store.exists(incident_id) else None


def update_form_url(ui_base: str, deployment_id: str | None, incident_id: str) -> str:
    """The Prefect UI's custom-run page of the ``incident-update`` deployment with the incident's id
    filled in. Prefect 3.9's UI routes ``/deployments/deployment/<id>/run`` and reads its
    ``parameters`` query as ``JSON.parse(decodeURIComponent(value))`` after the router has decoded
    the query once: the JSON is encoded twice, as the UI's own link helper and router do. Without
    the deployment's id (server down, deployment not registered) the deployments list."""
    base = ui_base.rstrip("/")
    if not deployment_id:
        return f"{base}/deployments"
    parameters = json.dumps({"incident_id": incident_id}, ensure_ascii=False, separators=(",", ":"))
    return f"{base}/deployments/deployment/{deployment_id}/run?parameters={quote(quote(parameters, safe=''), safe='')}"


def ui_base_of(api_url: str) -> str:
    """The UI address of a Prefect API address (``http://host:4200/api`` → ``http://host:4200``)."""
    base = api_url.rstrip("/")
    return base[: -len("/api")] if base.endswith("/api") else base


@dataclass
class UpdateOutcome:
    """What a correction changed, for the run's log and artifact and the CLI's JSON."""

    incident_id: str
    grade_before: str
    grade_after: str
    warning: str
    changes: dict[str, dict[str, Any]]
    obligations_before: list[dict[str, Any]]
    obligations_after: list[dict[str, Any]]
    added: list[str]
    removed: list[str]
    moved: list[str]
    alerted: bool
    raised: list[str] = field(default_factory=list)
    unreached: list[str] = field(default_factory=list)
    rows: list[Obligation] = field(default_factory=list, repr=False)

    def summary(self) -> dict[str, Any]:
        return {"incident": self.incident_id, "grade_before": self.grade_before, "grade": self.grade_after, "warning": self.warning,
                "changes": self.changes, "obligations_added": self.added, "obligations_removed": self.removed,
                "obligations_moved": self.moved, "alerted": self.alerted, "raised": self.raised, "unreached": self.unreached,
                "obligations_before": self.obligations_before, "obligations": self.obligations_after}


    def titles(self) -> dict[str, str]:
        """Each obligation's Chinese title by its code (the clock's, before and after)."""
        return {o["id"]: o["title"] for o in [*self.obligations_before, *self.obligations_after] if o.get("title")}

    def log_line(self) -> str:
        """The run's log line of the correction: obligations by their Chinese titles, never their codes (review 14, 10)."""
        titles = self.titles()

        def named(codes: list[str]) -> str:
            return "、".join(titles.get(c, c) for c in codes) or "无"

        told = "已通知新级别的相关部门" if self.alerted else "级别与应履行义务未变，未另行通知"
        return (f"事件 {self.incident_id} 已更正：{self.grade_before}级 → {self.grade_after}级；新增义务 {named(self.added)}；"
                f"不再适用（已撤销）{named(self.removed)}；期限变化 {named(self.moved)}；{told}")

    def raised_text(self) -> str:
        """What was raised at once, as people read it: 「向…报告（已逾期）」 for ``code:overdue@…``."""
        titles = self.titles()
        states = {"overdue": "已逾期", "due": "到期", "due_soon": "即将到期", "open": "待办"}
        out = []
        for item in self.raised:
            code, _, key = item.partition(":")
            state = key.split("@", 1)[0]
            out.append(f"{titles.get(code, code)}（{states.get(state, '提醒')}）")
        return "、".join(out)


#: How the update artifact shows a choice's code (the forms' own Chinese names).
_CHOICE_TEXT: dict[str, dict[str, str]] = {
    "category": CATEGORY_NAMES, "data_incident": DATA_INCIDENT_NAMES, "compromise": COMPROMISE_NAMES,
    "defacement": DEFACEMENT_NAMES, "credit_info_event": CREDIT_EVENT_NAMES,
}


def fact_text(name: str, value: Any) -> str:
    """A record value as a person reads it in Chinese (the update artifact: review 14, 10): times in
    Beijing time, choices by their Chinese names, the outage and the personal financial information
    as sentences, never a Python dict or list."""
    if value is None:
        return "（空）" if name != "public_concern" else "按级别判断"
    if isinstance(value, bool):
        return "是" if value else "否"
    if name in TIME_FIELDS:
        return f"{dt.datetime.fromisoformat(str(value)).astimezone(SHANGHAI):%Y-%m-%d %H:%M}（北京时间）"
    if name == "outage" and isinstance(value, dict):
        during = {True: "业务服务时段内", False: "业务服务时段外"}.get(bool(value["business_hours"]), "") if "business_hours" in value else ""
        return f"{value.get('provinces')} 个省级行政区业务无法正常开展，{float(value.get('hours') or 0):g} 小时，{during}".rstrip("，")
    if name == "pfi" and isinstance(value, dict):
        return (f"{'、'.join(str(t) for t in value.get('types') or [])}；{value.get('subjects')} 人；"
                f"{'涉及' if value.get('high_sensitivity') else '不涉及'}高敏感信息")
    if name == "assessed_grade":
        return f"{value}级"
    if isinstance(value, list):
        names = CREDIT_EVENT_NAMES if name == "credit_info_events" else {}
        return "、".join(names.get(str(v), str(v)) for v in value) or "（空）"
    if isinstance(value, dict):  # a field added later: its values, never the dict's repr
        return "；".join(f"{k}：{fact_text(str(k), v)}" for k, v in value.items())
    return _CHOICE_TEXT.get(name, {}).get(str(value), str(value))


def _utc(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)).astimezone(dt.timezone.utc).isoformat()


def _row_view(row: Obligation) -> dict[str, Any]:
    return {"id": row.code, "title": row.title, "state": row.state, "due_label": (row.detail or {}).get("due_label"),
            "due": _utc(row.due_at)}


def _owed(rows: list[dict[str, Any]], waived: set[str]) -> dict[str, str | None]:
    return {r["id"]: r["due"] for r in rows if r["state"] not in CLOSED_STATES and r["id"] not in waived}


def update_incident(profile: Profile, incident_id: str, changes: dict[str, Any], *, reason: str, by: str,
                    now: dt.datetime | None = None, force_regrade: bool = False, **send_options: Any) -> UpdateOutcome:
    """Change an incident's facts with a reason and a person; re-grade, store, recompute, alert, raise.

    ``changes`` are record fields with JSON values (an empty dict re-grades the record as it is:
    ``regflows incident regrade`` after a change of the rules' reading). ``force_regrade`` records
    a re-grade event even when the grade stays (``regrade`` is a decision on record). Raises
    ValueError (a person not in the profile, no reason, nothing to change),
    :class:`~regflows.incident.record.IncidentRecordError` (the revised record is invalid, naming
    the field), :class:`UpdateRefused`, or LookupError (no such incident), before anything is
    written. ``send_options`` go to the notices layer (``before_send``: the SMS rate limiter).
    """
    now = now or utcnow()
    by = by.strip()
    if by not in profile.person_ids:
        raise ValueError(f"更正人（by）{by} 不在机构配置的人员（people）中")
    reason = mask_pii(reason.strip())
    if not reason:
        raise ValueError("更正事件必须写明理由（reason）")
    incident = store.load_incident(incident_id)
    current = dict(incident.record)
    # A whole record (``--record FILE``) says nothing of the end of the response: that is the closing's.
    changes = {k: v for k, v in changes.items() if not (k == "response_ended_at" and v is None)}
    if changes.get("response_ended_at") not in (None, current.get("response_ended_at")):
        raise UpdateRefused("应急响应结束时间不能手工填写：它是结束应急响应的最后一项批准的时间（CQ-PLAN 第四篇三），"
                            "调查评估报告的 30 日期限自此起算（CQ-PLAN 第五篇）；请用 regflows incident close ID --proposed-by P 发起结束审批")
    for name in ("institution", "drill"):
        if name in changes and changes[name] != current.get(name):
            raise UpdateRefused(f"{named(name)}不能更正：它决定事件属于哪个报告单位、是否演练；"
                                "如登记有误，请另行申报，并以理由关闭原事件")
    revised = validate_record({**current, **changes}, source=f"事件 {incident_id} 的更正")
    check_against_profile(revised, profile)
    check_times(revised, now, profile.settings)
    data = revised.model_dump(mode="json")
    changed = {k: {"from": current.get(k), "to": v} for k, v in data.items() if current.get(k) != v}
    if not changed and not force_regrade:
        raise ValueError(f"事件 {incident_id}：没有要更正的事实（所填内容与现有记录相同）")
    previous = Grading.model_validate(incident.grading)
    fresh = grade(revised)
    if force_regrade or fresh.grade != previous.grade:
        new = regrade(revised, previous, reason=reason, at=now, by=by)
    else:  # the same grade: its reasons may still change (a longer outage), its history stays
        new = fresh.model_copy(update={"history": previous.history})
    grading = new.model_dump(mode="json")

    before_rows = store.obligations_of(incident_id)
    waived = {r.code for r in before_rows if r.state == "waived"}
    before = [_row_view(r) for r in before_rows]
    expected = [{"id": o["id"], "title": o["title"], "state": o["state"], "due_label": o.get("due_label"),
                 "due": _utc(dt.datetime.fromisoformat(o["due"])) if o.get("due") else None}
                for o in computed(incident_id, data, grading, profile, now)]
    owed_before, owed_after = _owed(before, waived), _owed(expected, waived)
    added = sorted(owed_after.keys() - owed_before.keys())
    removed = sorted(owed_before.keys() - owed_after.keys())
    moved = sorted(c for c in owed_after.keys() & owed_before.keys() if owed_after[c] != owed_before[c])
    regraded = force_regrade or new.grade != previous.grade
    detail = {"reason": reason, "changes": changed, "grade": {"from": previous.grade, "to": new.grade},
              "obligations": {"added": added, "removed": removed, "moved": moved}}
    revision = store.revise(incident_id, data, grading, detail, by, regraded=regraded)

    rows = clock_rows(incident_id, data, grading, profile, now, withdraw={"by": by, "reason": reason})
    after = [_row_view(r) for r in rows]
    incident = store.load_incident(incident_id)
    alert = new.grade != previous.grade or bool(added or removed or moved)
    unreached: list[str] = []
    if alert:  # the new level's roles (CQ-PLAN 第三篇三、第四篇二), the correction said at the top
        outcome = alerts.send_alert(profile, incident_id, data, grading, rows, alerts.alert_roles(profile, grading),
                                    alerts.drill_participants(incident_id), correction=_correction_text(changed, previous.grade, new.grade,
                                                                                                        reason, added, removed),
                                    revision=revision, **send_options)
        unreached = [p.recipient.person_id for p in outcome.unreached]
        store.resolve_earlier_alerts(incident_id, revision, by)  # their content is out of date (review 14, 14)
    raised = alerts.remind(profile, incident, rows, now, **send_options)  # overdue under the new facts: raised now
    return UpdateOutcome(incident_id, previous.grade, new.grade, new.warning, changed, before, after, added, removed, moved,
                         alert, raised, unreached, rows)


def _correction_text(changed: dict[str, dict[str, Any]], before: str, after: str, reason: str, added: list[str],
                     removed: list[str]) -> str:
    """One paragraph of the correction for the alert (masked text only: the record's own)."""
    parts = [f"级别 {before}级 → {after}级" if before != after else f"级别仍为 {after}级"]
    if changed:
        parts.append("更正了 " + "、".join(FIELD_TITLES.get(k, k) for k in changed))
    if added:
        parts.append(f"新增义务 {len(added)} 项")
    if removed:
        parts.append(f"不再适用的义务 {len(removed)} 项")
    parts.append(f"理由：{reason}")
    return "；".join(parts)
