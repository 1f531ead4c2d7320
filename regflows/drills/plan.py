"""The drill plan (issue 17, item 2): TENPAY 第十六条's contents, the participants, the day and the
scenario's timeline of injects, as ``plan.yaml`` plus a .docx for approval.

A plan is written from the profile and the operator's choices (:func:`make_plan`): the drill event
from ``rules/scenarios.yaml`` (denial of service, malicious code, data leak, a supplier's outage),
its background, how the source is located and the protective measures (emergency handling,
analysis, eradication, recovery); the organisation and roles (who commands, defends, attacks,
observes), the environment with its attacking and defending sides; the participants, the
suppliers of important outsourced services included when NFRA applies (NFRA 44: a member of a
``service_provider`` role); the day, an official working day (refused otherwise, naming the working
days around it: a drill is an office-hours exercise of the on-call chain, and a holiday drill
would measure who happens to be away); and the injects: at T+N minutes, a channel down, a
re-grade, the end of handling, each with what is expected and within how many minutes.

People edit ``plan.yaml``; :func:`load_plan` reads it back with every problem in Chinese naming
the line (the kit's rule files) and :func:`check_plan` holds it against the profile and the
calendar again, so an edited plan cannot name a stranger or move to a Sunday. The plan is
approved through the kit's approvals (regflows/drills/approval.py), bound to the SHA-256 of
``plan.yaml``: a changed plan is a new revision, approved again.

Only the kinds regflows runs have a plan (``incident``, ``supplier``); the others are held outside
it and recorded with their evidence (regflows/drills/owed.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from calendars.official import CalendarError, WorkingDayCalendar, default_calendar
from calendars.zone import SHANGHAI
from regflows.drills.owed import DrillInputError, owed
from regflows.kit.documents import OfficialDocument
from regflows.kit.files import write_atomically
from regflows.kit.rulefiles import load_yaml_model
from regflows.profile import ChannelKind, Profile

__all__ = [
    "PLAN_FILE",
    "RUN_KINDS",
    "SCENARIOS_FILE",
    "DrillPlan",
    "Inject",
    "Measures",
    "Participant",
    "Scenarios",
    "check_plan",
    "load_plan",
    "make_plan",
    "plan_docx_name",
    "plan_sha256",
    "scenarios",
    "write_plan",
]

SCENARIOS_FILE = Path(__file__).resolve().parent / "rules" / "scenarios.yaml"
PLAN_FILE = "plan.yaml"
#: The kinds regflows runs itself (rules/owed.yaml ``runs: true``): the incident pipeline in drill mode.
RUN_KINDS: tuple[str, ...] = ("incident", "supplier")
Side = Literal["command", "defence", "attack", "observe"]
SIDE_NAMES: dict[str, str] = {"command": "指挥", "defence": "防守方", "attack": "攻击方", "observe": "观察评估"}
ACTION_NAMES: dict[str, str] = {"channel_down": "通知渠道故障", "regrade": "事件升级/调级", "end_handling": "处置结束", "note": "情况通报"}
KIND_TITLES: dict[str, str] = {"incident": "网络安全事件应急演练", "supplier": "供应商服务中断应急演练"}
PLAN_CLAUSE = "TENPAY 第十六条"
_GRADES = ("I", "II", "III", "IV")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Measures(_Strict):
    """TENPAY 第十六条: the protective measures."""

    handling: str = Field(min_length=2, title="应急处置")
    analysis: str = Field(min_length=2, title="分析")
    eradication: str = Field(min_length=2, title="根除")
    recovery: str = Field(min_length=2, title="恢复")


class Event(_Strict):
    title: str = Field(min_length=4, title="演练事件")
    category: str = Field(min_length=2, title="事件分类")
    credit_info_event: str | None = Field(default=None, title="征信信息安全事件类别")
    background: str = Field(min_length=4, title="背景")
    locate: str = Field(min_length=4, title="溯源")
    handling: str = Field(min_length=2, title="应急处置")
    analysis: str = Field(min_length=2, title="分析")
    eradication: str = Field(min_length=2, title="根除")
    recovery: str = Field(min_length=2, title="恢复")


class Inject(_Strict):
    """One inject of the scenario: at T+``at_minutes``, what happens, what is expected and by when."""

    at_minutes: int = Field(ge=0, le=24 * 60, title="开始后分钟数")
    action: Literal["channel_down", "regrade", "end_handling", "note"] = Field(title="注入动作")
    channel: ChannelKind | None = Field(default=None, title="故障渠道")
    grade: Literal["I", "II", "III", "IV"] | None = Field(default=None, title="调整后的级别")
    expected: str = Field(min_length=4, title="预期")
    within_minutes: int = Field(gt=0, le=24 * 60, title="预期完成时限（分钟）")

    @model_validator(mode="after")
    def _what_it_needs(self) -> Inject:
        if self.action == "channel_down" and self.channel is None:
            raise ValueError("channel_down 须写明故障渠道 channel（如 sms）")
        if self.action == "regrade" and self.grade is None:
            raise ValueError("regrade 须写明调整后的级别 grade（I-IV）")
        return self


class Scenarios(_Strict):
    """``rules/scenarios.yaml``."""

    clause: str = Field(min_length=6)
    events: dict[str, Event]
    defaults: dict[Literal["incident", "supplier"], str]
    injects: list[Inject] = Field(min_length=1)

    @model_validator(mode="after")
    def _defaults_exist(self) -> Scenarios:
        unknown = sorted(set(self.defaults.values()) - set(self.events))
        if unknown:
            raise ValueError(f"defaults 引用了不存在的演练事件：{'、'.join(unknown)}")
        return self


@lru_cache(maxsize=4)
def scenarios(path: Path = SCENARIOS_FILE) -> Scenarios:
    return load_yaml_model(path, Scenarios, what="演练场景")


class Participant(_Strict):
    person: str = Field(min_length=1, title="人员编号")
    side: Side = Field(title="分工")
    duty: str = Field(default="", title="职责")


class DrillPlan(_Strict):
    """``plan.yaml``: everything TENPAY 第十六条 asks of a plan, the participants, the day and the injects."""

    plan_id: str = Field(pattern=r"^DRILL-[0-9]{8}-[a-z_]+(-[0-9a-f]{6})?$", title="演练编号")
    year: int = Field(ge=2000, le=2100, title="年度")
    kind: Literal["incident", "supplier"] = Field(title="演练类型")
    on: dt.date = Field(title="演练日期")
    start: dt.time = Field(default=dt.time(10, 0), title="开始时间（北京时间）")
    title: str = Field(min_length=4, title="演练名称")
    event: str = Field(min_length=2, title="演练事件编号")
    event_title: str = Field(min_length=4, title="演练事件")
    category: str = Field(min_length=2, title="事件分类")
    credit_info_event: str | None = Field(default=None, title="征信信息安全事件类别（如 report_leak；演练事件不计入统计）")
    grade: Literal["I", "II", "III", "IV"] = Field(default="III", title="初始级别")
    environment: str = Field(min_length=4, title="演练环境")
    attackers: str = Field(min_length=2, title="攻击方")
    defenders: str = Field(min_length=2, title="防守方")
    background: str = Field(min_length=4, title="背景")
    locate: str = Field(min_length=4, title="溯源")
    measures: Measures
    participants: list[Participant] = Field(min_length=1, title="参演人员")
    injects: list[Inject] = Field(min_length=1, title="注入时间线")
    clause: str = Field(min_length=6, title="依据")

    @model_validator(mode="after")
    def _consistent(self) -> DrillPlan:
        if self.on.year != self.year:
            raise ValueError(f"演练日期 {self.on.isoformat()} 不在年度 {self.year} 内")
        times = [i.at_minutes for i in self.injects]
        if times != sorted(times):
            raise ValueError("注入时间线须按 at_minutes 从早到晚排列")
        people = [p.person for p in self.participants]
        repeated = sorted({p for p in people if people.count(p) > 1})
        if repeated:
            raise ValueError(f"参演人员重复：{'、'.join(repeated)}")
        if not any(p.side == "command" for p in self.participants):
            raise ValueError("参演人员中须有指挥（side: command）")
        return self

    @property
    def starts_at(self) -> dt.datetime:
        return dt.datetime.combine(self.on, self.start, tzinfo=SHANGHAI)

    @property
    def people(self) -> list[str]:
        return [p.person for p in self.participants]


# -- checks against the profile and the calendar -------------------------------------------------


def _working_day(on: dt.date, calendar: WorkingDayCalendar) -> None:
    """Refuses a day that is not an official working day, naming the working days around it."""
    try:
        if calendar.is_working_day(on):
            return
        before, after = calendar.previous_working_day(on), calendar.next_working_day(on)
    except CalendarError as exc:
        raise DrillInputError(f"演练日期 {on.isoformat()}：{exc}") from exc
    raise DrillInputError(
        f"演练日期 {on.isoformat()} 不是工作日（演练须在工作日举行）：前一个工作日 {before.isoformat()}，后一个工作日 {after.isoformat()}"
    )


def suppliers(profile: Profile) -> list[str]:
    """The members of the profile's ``service_provider`` roles: the suppliers of important
    outsourced services (NFRA 44), in the profile's order."""
    return list(dict.fromkeys(m for role in profile.roles.values() if role.kind == "service_provider" for m in role.members))


def check_plan(plan: DrillPlan, profile: Profile, calendar: WorkingDayCalendar | None = None) -> list[str]:
    """Refuses (:class:`DrillInputError`, Chinese) a plan the profile or the calendar does not allow;
    returns warnings for what it allows but a person should see."""
    _working_day(plan.on, calendar or default_calendar())
    unknown = [p for p in plan.people if p not in profile.person_ids]
    if unknown:
        raise DrillInputError(f"参演人员 {'、'.join(unknown)} 不在机构配置的人员（people）中")
    if plan.kind not in {o.kind for o in owed(profile, plan.year)}:
        raise DrillInputError(f"本机构配置的监管来源不要求 {plan.kind} 类演练（见 regflows drill owed）")
    warnings: list[str] = []
    if profile.regime_on("NFRA") and not set(suppliers(profile)) & set(plan.people):
        raise DrillInputError("参演人员须包括重要外包服务供应商（NFRA 第四十四条）：请加入 service_provider 角色的成员")
    channels = {c.kind for p in plan.people for c in profile.person(p).channels}
    for inject in plan.injects:
        if inject.action == "channel_down" and inject.channel not in channels:
            warnings.append(f"T+{inject.at_minutes} 分钟的渠道故障（{inject.channel}）：参演人员没有该类渠道，注入不会影响任何人")
    return warnings


# -- writing a plan -------------------------------------------------------------------------------


def _default_participants(profile: Profile) -> list[Participant]:
    """Command: the emergency working group's first member; defence: on call, the information
    management department and the suppliers (NFRA 44); observe: compliance."""
    out: dict[str, Participant] = {}
    order: list[tuple[str, Side, str]] = [
        ("emergency_working_group", "command", "演练总指挥"),
        ("on_call", "defence", "值班响应"),
        ("information_management", "defence", "技术处置"),
        ("service_provider", "defence", "供应商配合处置"),
        ("compliance", "observe", "观察评估、记录"),
    ]
    for kind, side, duty in order:
        members = [m for role in profile.roles.values() if role.kind == kind for m in role.members]
        for person in members[:1] if side == "command" else members:
            out.setdefault(person, Participant(person=person, side=side, duty=duty))
    return list(out.values())


def _plan_clause(profile: Profile, year: int, kind: str, structure: str) -> str:
    """What the plan cites: TENPAY 第十六条 for its contents (as a model, 参照, when TENPAY is off),
    then the owed drill's clauses of the profile's regimes, each once (one per period otherwise)."""
    owed_clauses = "；".join(dict.fromkeys(o.clause for o in owed(profile, year) if o.kind == kind))[:400]
    return f"{structure if profile.regime_on('TENPAY') else '参照 ' + structure}；{owed_clauses}"


def make_plan(
    profile: Profile,
    year: int,
    kind: str = "incident",
    on: dt.date | None = None,
    event: str | None = None,
    calendar: WorkingDayCalendar | None = None,
    serial: str | None = None,
) -> DrillPlan:
    """A plan from the profile and the operator's choices; ``on`` defaults to the first working day
    of the profile's ``drill_month``. Refused (Chinese) for a kind regflows does not run, a day that
    is not a working day, an event the scenarios do not have. The id is unique per plan: the day,
    the kind and ``serial`` (six random hex digits unless given), so two plans for the same day
    never share an approval."""
    if kind not in RUN_KINDS:
        raise DrillInputError(
            f"regflows 组织运行的演练类型为 {'、'.join(RUN_KINDS)}；{kind} 类在 regflows 之外举行，以 regflows drill fulfil 登记证据"
        )
    if on is not None and on.year != year:
        raise DrillInputError(f"演练日期 {on.isoformat()} 不在 {year} 年度内（--on 须为 --year 年度中的日期）")
    chosen = calendar or default_calendar()
    library = scenarios()
    key = event or library.defaults[kind]  # type: ignore[index]
    if key not in library.events:
        raise DrillInputError(f"演练事件 {key!r} 不存在（可选：{'、'.join(library.events)}）")
    if on is None:
        try:
            on = chosen.roll_forward(dt.date(year, profile.settings.drill_month, 1))
        except CalendarError as exc:
            raise DrillInputError(str(exc)) from exc
    scenario = library.events[key]
    plan = DrillPlan(
        plan_id=f"DRILL-{on:%Y%m%d}-{kind}-{serial or secrets.token_hex(3)}",
        year=year,
        kind=kind,
        on=on,  # type: ignore[arg-type]
        title=f"{year}年{KIND_TITLES[kind]}",
        event=key,
        event_title=scenario.title,
        category=scenario.category,
        credit_info_event=scenario.credit_info_event,
        environment="生产环境旁路的演练环境；通知经真实渠道发送，均标注【演练】，仅发参演人员",
        attackers="演练导调组（按时间线注入故障与情况）",
        defenders="值班人员、信息科技部、重要外包服务供应商",
        background=scenario.background,
        locate=scenario.locate,
        measures=Measures(
            handling=scenario.handling, analysis=scenario.analysis, eradication=scenario.eradication, recovery=scenario.recovery
        ),
        participants=_default_participants(profile),
        injects=list(library.injects),
        clause=_plan_clause(profile, year, kind, library.clause),
    )
    check_plan(plan, profile, chosen)
    return plan


def plan_docx_name(plan: DrillPlan) -> str:
    return f"drill-plan-{plan.plan_id}.docx"


def plan_yaml(plan: DrillPlan) -> bytes:
    header = (
        "# 演练方案（TENPAY 第十六条）。可修改后提交审批（regflows drill submit）；修改后须重新审批。\n"
        "# injects：开始后 at_minutes 分钟注入；action: channel_down（渠道故障）| regrade（调级）| end_handling（处置结束）| note\n"
    )
    body = yaml.safe_dump(plan.model_dump(mode="json"), allow_unicode=True, sort_keys=False, width=120)
    return (header + body).encode("utf-8")


def plan_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load_plan(path: Path) -> DrillPlan:
    """``plan.yaml`` read and validated; a problem is a RuleFileError naming the file and line."""
    return load_yaml_model(path, DrillPlan, what="演练方案")


def _minutes(n: int) -> str:
    return f"T+{n} 分钟"


def write_docx(plan: DrillPlan, profile: Profile, path: Path, stamp: dt.datetime) -> Path:
    """The plan as an official document (GB/T 9704) for approval, marked 【演练】 (its scenario is
    fictional), with TENPAY 第十六条's parts in its order."""
    doc = OfficialDocument(
        f"{plan.title}方案", stamp=stamp, drill=True, header=f"{profile.institution.name}　演练方案", subtitle=f"编号：{plan.plan_id}"
    )
    names = {p.id: p.name for p in profile.people}
    doc.heading("一、演练事件")
    doc.table(
        [
            ("演练事件", plan.event_title),
            ("演练类型", KIND_TITLES[plan.kind]),
            ("演练时间", f"{plan.on.isoformat()} {plan.start.strftime('%H:%M')} 起（北京时间）"),
            ("初始级别", f"{plan.grade} 级"),
            ("依据", plan.clause),
        ],
        (40, 116),
    )
    doc.heading("二、组织与分工")
    doc.table(
        [
            ("人员", "分工", "职责"),
            *((f"{names.get(p.person, p.person)}（{p.person}）", SIDE_NAMES[p.side], p.duty or "—") for p in plan.participants),
        ],
        (52, 30, 74),
        label_column=False,
        header=True,
    )
    doc.heading("三、演练环境")
    doc.table([("演练环境", plan.environment), ("攻击方", plan.attackers), ("防守方", plan.defenders)], (40, 116))
    doc.heading("四、演练内容")
    doc.paragraph(f"（一）背景。{plan.background}")
    doc.paragraph(f"（二）溯源。{plan.locate}")
    doc.paragraph("（三）防护措施。")
    for label, text in (
        ("应急处置", plan.measures.handling),
        ("分析", plan.measures.analysis),
        ("根除", plan.measures.eradication),
        ("恢复", plan.measures.recovery),
    ):
        doc.paragraph(f"{label}：{text}")
    doc.heading("五、演练时间线")
    rows: list[Sequence[str]] = [("时间", "注入", "预期", "时限")]
    for i in plan.injects:
        what = ACTION_NAMES[i.action] + (f"（{i.channel}）" if i.channel else "") + (f"（升为 {i.grade} 级）" if i.grade else "")
        rows.append((_minutes(i.at_minutes), what, i.expected, f"{i.within_minutes} 分钟内"))
    doc.table(rows, (24, 36, 72, 24), label_column=False, header=True)
    doc.heading("六、要求")
    doc.paragraph(
        "演练通知均标注【演练】，仅发送参演人员，不得报送监管机构、公安机关，不得发送客户；"
        "演练事件不计入月度统计与考核评级。演练结束后形成演练报告，问题纳入整改台账。"
    )
    doc.signature(["编制：", "审核：", "批准："])
    return doc.save(path, subject=plan.event_title, keywords=f"演练方案 {plan.plan_id} {PLAN_CLAUSE}", category="演练方案")


def write_plan(plan: DrillPlan, profile: Profile, folder: Path, stamp: dt.datetime | None = None) -> dict[str, Path]:
    """``plan.yaml`` and the plan .docx written into ``folder`` (a staging folder: the caller
    publishes them as one set)."""
    moment = stamp or dt.datetime.now(SHANGHAI)
    write_atomically(folder / PLAN_FILE, plan_yaml(plan))
    docx_path = write_docx(plan, profile, folder / plan_docx_name(plan), moment)
    return {"plan": folder / PLAN_FILE, "docx": docx_path}
