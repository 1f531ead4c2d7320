"""The regulatory clock: which reports an incident owes, to whom, by when, and how late it is.

Pure: from the record, its grading, the profile and ``now``, the list of obligations with their
state. The flow stores them, the watcher reminds from them, the CLI prints them; none of them
computes a deadline itself, so there is one place where a clause becomes a due time.

Why the rules are versioned data (``rules/obligations-<version>.yaml``): the NFRA text is a draft
and will change. An incident is counted by the rules in force on the day it was *discovered*
(the set with the latest ``effective_from`` on or before that day, Asia/Shanghai), so a later
rule change never moves the deadlines of an incident already under way, and an auditor can see
which version applied (``rules_version`` on every obligation).

How time is counted (digest section 7; :mod:`calendars.deadlines`):

- "within N hours" and "immediately" are exact instants on the wall clock, holidays included.
  "Immediately" (TENPAY 5, PBOC-102 三（二）) has no number in the texts; regflows tracks it as
  ``immediate_report_minutes`` after discovery (profile setting, default 60);
- "5 working days after handling ends" counts official working days from the next day;
- "30 days after the response ends" counts calendar days from the next day and rolls a rest-day
  end forward (民法典 第二百零一条、第二百零三条; profile ``deadline_roll_forward``);
- a day-counted deadline ends at 24:00 of its last day: ``due`` is that instant (00:00 of the
  next day) and is printed as ``YYYY-MM-DDT23:59:59+08:00``, the last second that is on time.

States at ``now``: ``fulfilled`` (in the ``fulfilled`` mapping), ``overdue`` (now >= due),
``due_soon`` (within ``due_soon_minutes``, default 30), ``open``; ``pending`` when the start is
not known yet (no ``handling_ended_at``, no ``confirmed_at``...) or there is no fixed day;
``calendar_missing`` when the due day falls in a year whose State Council notice is not loaded:
the clock never guesses a holiday, it lists the obligation so the caller raises it.

Deadlines count from the record's own instants, never from a re-grade: an obligation a higher
grade adds may be overdue the moment it appears, and it is reported as such.

``progress_report`` (NFRA 45, grade I) recurs every 2 hours: it is listed once with the next due
time. The first is 2 hours after the initial report (its due time until it is fulfilled, then
its fulfilment time); after that, 2 hours after the last progress report (the ``fulfilled``
mapping holds the time of the latest one). A fulfilment does not close it; the end of handling
does: once the next due time is at or after ``handling_ended_at``, it is ``fulfilled``.
"""

from __future__ import annotations

import datetime as dt
import functools
import string
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator, model_validator

from calendars.deadlines import Deadline, end_of_day, within_days, within_hours, within_working_days
from calendars.official import WorkingDayCalendar, YearNotCovered
from calendars.zone import SHANGHAI
from regflows.incident.grading import Grading
from regflows.incident.record import FIELD_TITLES, Grade, IncidentRecord, check_against_profile
from regflows.kit.errors import RuleFileError
from regflows.kit.rulefiles import load_yaml_model
from regflows.profile import RegimeTag, RoleKind
from regflows.settings import IncidentSettings, Settings

if TYPE_CHECKING:
    from regflows.profile import Profile

__all__ = [
    "OBLIGATION_IDS",
    "ClockError",
    "DraftKind",
    "Extendable",
    "Extension",
    "Obligation",
    "ObligationState",
    "RuleSet",
    "Waivable",
    "load_rule_set",
    "load_rule_sets",
    "obligations",
    "rule_set_for",
    "setting",
    "shipped_rule_sets",
    "to_raise",
]

RULES_DIR = Path(__file__).parent / "rules"
ObligationState = Literal["pending", "open", "due_soon", "overdue", "fulfilled", "calendar_missing"]
Anchor = Literal["occurred_at", "discovered_at", "confirmed_at", "recovered_at", "response_ended_at", "handling_ended_at"]
#: The documents an obligation's ``draft`` may name: the keys of ``regflows.incident.documents.DOCUMENTS``
#: (a test keeps the two equal; the clock does not import python-docx to validate a rule file).
DraftKind = Literal["regulator_initial_report", "regulator_report", "progress_report", "pfi_report", "customer_notice",
                    "public_warning", "summary_report", "investigation_report"]

#: The obligation ids of issues 6 and 12, in the order the shipped rules list them.
OBLIGATION_IDS: tuple[str, ...] = (
    "regulator_initial_report",
    "police_report_cii",
    "regulator_written_report",
    "progress_report",
    "inform_users",
    "public_warning",
    "internal_written_report",
    "police_report",
    "pboc_pfi_report",
    "subject_notification",
    "pfi_response_steps",
    "cii_protection_report",
    "cyberspace_office_report",
    "credit_event_report",
    "summary_report",
    "investigation_report",
    "cii_special_audit",
    "special_audit",
)


class ClockError(ValueError):
    """A question the clock cannot answer (no rule set in force, a naive ``now``, a bad rule file)."""


def setting(profile: "Profile | None", name: str) -> Any:
    """A profile setting; without a profile, its default. Each setting and its default is defined
    once, in :mod:`regflows.settings` (the clock's own in :class:`IncidentSettings`)."""
    return getattr(profile.settings if profile is not None else Settings(), name)


# --------------------------------------------------------------------------------------------
# The rules file
# --------------------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class When(_Strict):
    """Conditions that must all hold (an empty ``when`` always holds)."""

    grades: list[Grade] | None = None
    cii: bool | None = None
    pfi: bool | None = None
    subjects_at_risk: bool | None = None
    customer_info: bool | None = None  # PFI or corporate customers' data leaked/tampered (CUSTINFO 8.2)
    computer_system: bool | None = None  # in a computer information system (TENPAY 9)
    public_concern: bool | None = None  # concerns the public; unset on the record: grades I and II (NFRA 46)
    credit_info_event: bool | None = None

    def holds(self, record: IncidentRecord, grading: Grading) -> bool:
        checks = (
            (self.grades, grading.grade in (self.grades or ())),
            (self.cii, record.cii == self.cii),
            (self.pfi, record.pfi_involved == self.pfi),
            (self.subjects_at_risk, record.subjects_at_risk == self.subjects_at_risk),
            (self.customer_info, record.customer_info_involved == self.customer_info),
            (self.computer_system, record.computer_system == self.computer_system),
            (self.public_concern, record.concerns_public(grading.grade) == self.public_concern),
            (self.credit_info_event, (record.credit_info_event is not None) == self.credit_info_event),
        )
        return all(ok for condition, ok in checks if condition is not None)


class HoursDue(_Strict):
    kind: Literal["hours"]
    from_: Anchor = Field(alias="from")
    hours: float = Field(gt=0)


class ImmediatelyDue(_Strict):
    """“立即” (immediately), tracked as the minutes of a profile setting (whose default is defined once, there)."""

    kind: Literal["immediately"]
    from_: Anchor = Field(alias="from")
    setting: str


class WorkingDaysDue(_Strict):
    kind: Literal["working_days"]
    from_: Anchor = Field(alias="from")
    n: int = Field(ge=1)


class DaysDue(_Strict):
    kind: Literal["days"]
    from_: Anchor = Field(alias="from")
    n: int = Field(ge=1)


class EveryDue(_Strict):
    kind: Literal["every"]
    after: str
    hours: float = Field(gt=0)
    until: Anchor


class NoFixedDay(_Strict):
    kind: Literal["no_fixed_day"]
    note: str


DueSpec = Annotated[
    HoursDue | ImmediatelyDue | WorkingDaysDue | DaysDue | EveryDue | NoFixedDay, Field(discriminator="kind")
]


#: The placeholders an ``addressee`` may hold: ``{seat}``, where the company is domiciled
#: (TENPAY 5 住所地, 9 公司主体所在地: the profile's ``institution.domicile``, else its region).
ADDRESSEE_FIELDS = frozenset({"seat"})
#: ``{seat}`` without a profile.
NO_SEAT = "公司主体所在地"


class Case(_Strict):
    when: When
    due: DueSpec
    clause: str = Field(min_length=3)
    owner: str | None = None  # overrides the rule's owner
    title: str | None = None  # overrides the rule's title (NFRA 61: the CII report goes to NFRA itself)
    addressee: str | None = None  # to whom the report or notice goes; {seat}: the company's domicile

    @field_validator("addressee")
    @classmethod
    def _known_placeholders(cls, value: str | None) -> str | None:
        if value is not None:
            used = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
            unknown = used - ADDRESSEE_FIELDS
            if unknown:
                raise ValueError(f"addressee 中的占位符 {', '.join(sorted(unknown))} 未知（可用：{{seat}}）")
        return value


class Waivable(_Strict):
    """Where a text allows skipping an obligation: the clause that allows it and the condition.

    A compliance officer writes it in the rule file (``waivable: {clause: …, when: …}``); without
    it an obligation can never be waived. The person who waives it (``regflows incident waive``,
    the ``incident-waive`` form) records a reason against this condition; regflows does not judge
    whether the condition holds.
    """

    clause: str = Field(min_length=3, title="允许豁免的条款")
    when: str = Field(min_length=2, title="可豁免的情形")


class Extendable(_Strict):
    """Where a text lets a written approval move a due time (TENPAY 13: 除非有公司管理层另行书面批准)."""

    clause: str = Field(min_length=3, title="允许另定期限的条款")
    when: str = Field(min_length=2, title="另定期限的条件")


class Rule(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    regime: RegimeTag
    owner: str  # a RoleKind or "response"
    draft: DraftKind | None = None  # the document drafted for it (regflows.incident.drafts)
    waivable: Waivable | None = None  # absent: the obligation can only be fulfilled
    extendable: Extendable | None = None  # absent: no approval moves its due time
    cases: list[Case] = Field(min_length=1)


class Correction(_Strict):
    """A correction of our reading of the texts, made in place (not a change of law)."""

    revision: int = Field(ge=2)
    date: dt.date
    reason: str = Field(min_length=3)


class RuleSet(_Strict):
    version: str = Field(pattern=r"^[a-z0-9][a-z0-9.-]*$")
    effective_from: dt.date
    #: Raised by one for each correction of reading made in place (see the rule file's header).
    revision: int = Field(default=1, ge=1)
    corrections: list[Correction] = Field(default_factory=list)
    source: str
    interpretations: list[str] = Field(default_factory=list)
    obligations: list[Rule] = Field(min_length=1)

    def drafts_for(self, obligation_ids: Iterable[str]) -> list[DraftKind]:
        """The drafts the given obligations call for, each once, in the order of the ids."""
        draft_of = {rule.id: rule.draft for rule in self.obligations}
        return list(dict.fromkeys(d for d in (draft_of.get(o) for o in obligation_ids) if d is not None))

    @model_validator(mode="after")
    def _consistent(self) -> "RuleSet":
        seen: list[str] = []
        role_kinds = set(RoleKind.__args__) | {"response"}  # type: ignore[attr-defined]
        for rule in self.obligations:
            if rule.id in seen:
                raise ValueError(f"义务编号重复：{rule.id}")
            for owner in [rule.owner, *(c.owner for c in rule.cases if c.owner)]:
                if owner not in role_kinds:
                    raise ValueError(f"{rule.id}: owner {owner} 不是角色类别（{', '.join(sorted(role_kinds))}）")
            for case in rule.cases:
                if isinstance(case.due, EveryDue) and case.due.after not in seen:
                    raise ValueError(f"{rule.id}: every.after 须引用排在前面的义务，{case.due.after} 不在其前")
                if isinstance(case.due, ImmediatelyDue) and case.due.setting not in IncidentSettings.model_fields:
                    raise ValueError(f"{rule.id}: 未知设置 {case.due.setting}（事件设置：{', '.join(IncidentSettings.model_fields)}）")
            seen.append(rule.id)
        revisions = [c.revision for c in self.corrections]
        if revisions != list(range(2, self.revision + 1)):
            raise ValueError(f"revision {self.revision} 须与 corrections 一致：每次更正一条，修订号依次为 2…{self.revision}"
                             f"（实为 {revisions or '无'}）")
        return self

    def extendable(self, obligation_id: str) -> Extendable | None:
        return next((r.extendable for r in self.obligations if r.id == obligation_id), None)


def load_rule_set(path: Path) -> RuleSet:
    try:
        rules = load_yaml_model(path, RuleSet, what="义务规则")
    except RuleFileError as exc:  # the message names the file, line and field
        raise ClockError(str(exc)) from exc
    if path.stem != f"obligations-{rules.version}":
        raise ClockError(f"义务规则 {path}: 文件名须为 obligations-{rules.version}.yaml")
    return rules


def load_rule_sets(directory: Path = RULES_DIR) -> list[RuleSet]:
    """Every ``obligations-*.yaml`` of a folder, oldest first; two sets may not share a date."""
    sets = sorted((load_rule_set(p) for p in directory.glob("obligations-*.yaml")), key=lambda r: r.effective_from)
    for a, b in zip(sets, sets[1:]):
        if a.effective_from == b.effective_from:
            raise ClockError(f"义务规则 {a.version} 与 {b.version} 的生效日期相同（{a.effective_from}）")
    return sets


@functools.cache
def shipped_rule_sets() -> tuple[RuleSet, ...]:
    return tuple(load_rule_sets())


def obligation_choices(rule_sets: Iterable[RuleSet] | None = None, waivable_only: bool = False) -> dict[str, str]:
    """Each obligation of the rule files and the label a form's choice shows
    (``向监管提交正式书面报告（regulator_written_report）``): the title to recognise, the code that
    reminders and ``regflows incident status`` print beside it. Every rule set's obligations, the
    newest title of a code winning (an incident is kept under the set of its discovery day);
    ``waivable_only``: those some rule set allows waiving (the waiver form)."""
    labels: dict[str, str] = {}
    for rules in rule_sets if rule_sets is not None else shipped_rule_sets():  # oldest first
        for rule in rules.obligations:
            if rule.waivable is not None or not waivable_only:
                labels[rule.id] = f"{rule.title}（{rule.id}）"
    return labels


def rule_set_for(discovered_at: dt.datetime, rule_sets: Iterable[RuleSet] | None = None) -> RuleSet:
    """The rule set in force on the day of discovery (Asia/Shanghai)."""
    day = discovered_at.astimezone(SHANGHAI).date()
    candidates = [r for r in (rule_sets if rule_sets is not None else shipped_rule_sets()) if r.effective_from <= day]
    if not candidates:
        raise ClockError(f"发现日 {day} 没有生效的义务规则（最早的规则自何日起生效请见 regflows/incident/rules/）")
    return max(candidates, key=lambda r: r.effective_from)


# --------------------------------------------------------------------------------------------
# The result
# --------------------------------------------------------------------------------------------


class Obligation(_Strict):
    """One deadline an incident owes, with its clause and its state at ``now``."""

    id: str = Field(title="义务编号")
    title: str = Field(title="义务")
    regime: RegimeTag = Field(title="监管来源")
    clause: str = Field(title="依据条款")
    owner: RoleKind = Field(title="责任部门（角色类别）")
    due: dt.datetime | None = Field(title="期限")  # instant; day-counted: 00:00 after the last day
    last_day: dt.date | None = Field(default=None, title="期限末日")  # day-counted deadlines only
    due_label: str | None = Field(default=None, title="期限（人读）")  # 2025-10-09 24:00 / 2025-10-01 11:00
    every: str | None = Field(default=None, title="重复间隔")  # ISO 8601 duration, "PT2H"
    state: ObligationState = Field(title="状态")
    basis: str | None = Field(default=None, title="期限计算依据")
    provisional: bool = Field(default=False, title="期限暂定（年末日期待下一年度节假日安排确认）")
    note: str | None = Field(default=None, title="说明")
    fulfilled_at: dt.datetime | None = Field(default=None, title="履行时间")
    untimed: bool = Field(default=False, title="无固定期限（及时），履行前定期提醒")
    waivable: Waivable | None = Field(default=None, title="可豁免（条款与情形）")
    extendable: Extendable | None = Field(default=None, title="可另定期限（条款与条件）")
    addressee: str | None = Field(default=None, title="报告/告知对象")
    rules_version: str = Field(title="规则版本")
    rules_revision: int = Field(default=1, title="规则修订号")

    @model_validator(mode="before")
    @classmethod
    def _due_from_last_day(cls, data: Any) -> Any:
        """Read back from JSON, a day-counted due (printed 23:59:59) is the instant 24:00 again."""
        if isinstance(data, dict) and data.get("last_day") and data.get("due") is not None:
            last = data["last_day"]
            last = dt.date.fromisoformat(last) if isinstance(last, str) else last
            data = {**data, "due": end_of_day(last)}
        return data

    @field_serializer("due", when_used="json")
    def _print_due(self, due: dt.datetime | None) -> str | None:
        """Day-counted deadlines print as the last on-time second: ``YYYY-MM-DDT23:59:59+08:00``."""
        if due is None:
            return None
        if self.last_day is not None:
            last_second = dt.datetime.combine(self.last_day, dt.time(23, 59, 59), tzinfo=SHANGHAI)
            return last_second.isoformat()
        return due.astimezone(SHANGHAI).isoformat()

    def cli_row(self) -> dict[str, Any]:
        """The CLI contract of ``regflows incident clock``: id, due, source, state, then the rest."""
        data = self.model_dump(mode="json")
        return {
            "id": data["id"],
            "due": data["due"],
            "source": data["clause"],
            "state": data["state"],
            "title": data["title"],
            "owner": data["owner"],
            "regime": data["regime"],
            "due_label": data["due_label"],
            "every": data["every"],
            "note": data["note"],
            "addressee": data["addressee"],
            **({"provisional": True} if data["provisional"] else {}),
        }


class Extension(_Strict):
    """A due time moved by a written approval where the rule allows it (``extendable``: TENPAY 13)."""

    until: dt.datetime
    approved_by: str  # the approver's name
    approved_at: dt.datetime


def to_raise(items: Iterable[Obligation]) -> list[Obligation]:
    """The obligations someone must be told about now: overdue, or uncomputable for lack of calendar data."""
    return [o for o in items if o.state in ("overdue", "calendar_missing")]


# --------------------------------------------------------------------------------------------
# The clock
# --------------------------------------------------------------------------------------------


def _aware(value: dt.datetime, name: str) -> dt.datetime:
    if not isinstance(value, dt.datetime) or value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ClockError(f"{name} 必须是带时区偏移的时间：{value!r}")
    return value


def _state(due: dt.datetime | None, now: dt.datetime, window: dt.timedelta) -> ObligationState:
    if due is None:
        return "pending"
    if now >= due:
        return "overdue"
    if now >= due - window:
        return "due_soon"
    return "open"


def _not_started(anchor: str) -> str:
    return f"「{FIELD_TITLES.get(anchor, anchor)}」（{anchor}）尚未填写，期限尚未开始计算"


def obligations(
    record: IncidentRecord,
    grading: Grading,
    profile: "Profile | None",
    now: dt.datetime,
    *,
    fulfilled: Mapping[str, dt.datetime] | None = None,
    reopened: Mapping[str, dt.datetime] | None = None,
    extended: Mapping[str, Extension] | None = None,
    due_soon_minutes: float | None = None,
    rule_sets: Sequence[RuleSet] | None = None,
    calendar: WorkingDayCalendar | None = None,
) -> list[Obligation]:
    """The obligations of an incident at ``now``, in rule-file order; those that do not apply are left out.

    ``profile`` None means every regime of the digest applies and every setting has its default;
    with a profile, the record is first checked against it (reporting unit, CII) and only the
    obligations of enabled regimes are listed. ``fulfilled`` maps obligation ids to when they
    were fulfilled (for ``progress_report``: the latest progress report). ``reopened`` maps the
    ids of waived obligations reopened since (TENPAY 5: the PBoC branch asks for the notification)
    to when: each is then due "immediately" from that instant. ``extended`` maps ids to a due time
    a written approval set (only where the rule is ``extendable``: TENPAY 13). ``due_soon_minutes``
    overrides the profile setting. ``rule_sets``/``calendar`` replace the shipped ones (tests).
    """
    now = _aware(now, "now")
    done: dict[str, dt.datetime] = {}
    for key, at in (fulfilled or {}).items():
        done[key] = _aware(at, f"fulfilled[{key}]")
    if profile is not None:
        check_against_profile(record, profile)
    rules = rule_set_for(record.discovered_at, rule_sets)
    unknown = sorted((set(done) | set(reopened or {}) | set(extended or {})) - {r.id for r in rules.obligations})
    if unknown:
        raise ClockError(f"未知的义务编号：{', '.join(unknown)}（规则 {rules.version}）")
    minutes = due_soon_minutes if due_soon_minutes is not None else setting(profile, "due_soon_minutes")
    window = dt.timedelta(minutes=float(minutes))

    computed: dict[str, Obligation] = {}
    for rule in rules.obligations:
        if profile is not None and not profile.regime_on(rule.regime):
            continue
        case = next((c for c in rule.cases if c.when.holds(record, grading)), None)
        if case is None:
            continue
        owner = case.owner or rule.owner
        seat = profile.institution.seat if profile is not None else NO_SEAT
        base: dict[str, Any] = {
            "id": rule.id,
            "title": case.title or rule.title,
            "regime": rule.regime,
            "clause": case.clause,
            "owner": grading.implementer if owner == "response" else owner,
            "waivable": rule.waivable,
            "extendable": rule.extendable,
            "addressee": case.addressee.format(seat=seat) if case.addressee else None,
            "rules_version": rules.version,
            "rules_revision": rules.revision,
        }
        if isinstance(case.due, EveryDue):
            computed[rule.id] = _recurring(base, case.due, record, computed, done, now, window)
            continue
        due, last_day, label, basis, note, missing = _due(case.due, record, profile, calendar)
        if rule.id in (reopened or {}):
            due, last_day, label, basis, note, missing = _reopened((reopened or {})[rule.id], profile)
        if rule.id in (extended or {}):
            if rule.extendable is None:
                raise ClockError(f"义务 {rule.id} 的规则不允许另定期限（规则 {rules.version}）")
            ext = (extended or {})[rule.id]
            until = _aware(ext.until, f"extended[{rule.id}]").astimezone(SHANGHAI)
            due, last_day, label, missing = until, None, until.strftime("%Y-%m-%d %H:%M"), False
            basis = (f"{rule.extendable.clause}（{rule.extendable.when}）：经 {ext.approved_by} 于 "
                     f"{ext.approved_at.astimezone(SHANGHAI):%Y-%m-%d %H:%M} 书面批准，期限另定为 {label}")
        if rule.id in done:
            state: ObligationState = "fulfilled"
        elif missing:
            state = "calendar_missing"
        else:
            state = _state(due, now, window)
        computed[rule.id] = Obligation(
            **base, due=due, last_day=last_day, due_label=label, state=state, basis=basis, note=note,
            fulfilled_at=done.get(rule.id), untimed=isinstance(case.due, NoFixedDay) and due is None,
            provisional=bool(note) and str(note).startswith(PROVISIONAL),
        )
    return list(computed.values())


#: How a provisional deadline's note begins (issue 13, 4).
PROVISIONAL = "暂定"


def _due(
    spec: Any, record: IncidentRecord, profile: "Profile | None", calendar: WorkingDayCalendar | None
) -> tuple[dt.datetime | None, dt.date | None, str | None, str | None, str | None, bool]:
    """(due, last_day, label, basis, note, calendar_missing) of a non-recurring case."""
    if isinstance(spec, NoFixedDay):
        return None, None, None, None, f"无固定期限：{spec.note}", False
    anchor_name: str = spec.from_
    anchor: dt.datetime | None = getattr(record, anchor_name)
    if anchor is None:
        return None, None, None, None, _not_started(anchor_name), False
    start = FIELD_TITLES.get(anchor_name, anchor_name)
    try:
        if isinstance(spec, HoursDue):
            d = within_hours(anchor, spec.hours)
            basis = f"{start}后 {spec.hours:g} 小时（按自然时间，节假日不顺延）"
        elif isinstance(spec, ImmediatelyDue):
            minutes = float(setting(profile, spec.setting))
            d = within_hours(anchor, minutes / 60)
            basis = f"“立即”：按{start}后 {minutes:g} 分钟追踪（设置 {spec.setting}）"
        elif isinstance(spec, WorkingDaysDue):
            d = within_working_days(anchor, spec.n, calendar)
            basis = f"{start}次日起 {spec.n} 个工作日：" + d.basis
        else:
            roll = bool(setting(profile, "deadline_roll_forward"))
            d = within_days(anchor, spec.n, roll_forward=roll, calendar=calendar)
            basis = f"{start}次日起 {spec.n} 日" + ("（末日为休息日顺延）" if roll else "（不顺延）") + "：" + d.basis
    except YearNotCovered as exc:
        return None, None, None, None, str(exc), True
    note = None
    if d.provisional:  # rests on late-December days of a year whose successor's notice is not in
        days = "、".join(day.isoformat() for day in d.provisional_days)
        note = f"{PROVISIONAL}：依据的 {days} 可能被下一年度节假日安排调整，载入后重算"
    return _shanghai(d), d.last_day, d.label(), basis, note, False


def _reopened(at: dt.datetime, profile: "Profile | None") -> tuple[
        dt.datetime, None, str, str, str, bool]:
    """A waived obligation reopened (TENPAY 5: the PBoC branch asks): due "immediately" from then."""
    minutes = float(setting(profile, "immediate_report_minutes"))
    due = (_aware(at, "reopened").astimezone(SHANGHAI) + dt.timedelta(minutes=minutes))
    basis = f"豁免后重新打开：自 {at.astimezone(SHANGHAI):%Y-%m-%d %H:%M} 起“立即”（{minutes:g} 分钟，设置 immediate_report_minutes）"
    return due, None, due.strftime("%Y-%m-%d %H:%M"), basis, "已重新打开（人民银行分支机构等要求通知）", False


def _shanghai(d: Deadline) -> dt.datetime:
    return d.due.astimezone(SHANGHAI)


def _recurring(
    base: dict[str, Any],
    spec: EveryDue,
    record: IncidentRecord,
    computed: Mapping[str, Obligation],
    done: Mapping[str, dt.datetime],
    now: dt.datetime,
    window: dt.timedelta,
) -> Obligation:
    every = f"PT{spec.hours:g}H"
    step = dt.timedelta(hours=spec.hours)
    common = {**base, "every": every, "fulfilled_at": done.get(base["id"])}
    first_anchor = done.get(spec.after)
    if first_anchor is None:
        before = computed.get(spec.after)
        first_anchor = before.due if before is not None else None
    if first_anchor is None:
        return Obligation(**common, due=None, state="pending", note=f"首次期限取决于 {spec.after}，其期限尚未确定")
    due = first_anchor.astimezone(SHANGHAI) + step
    last = done.get(base["id"])
    if last is not None:
        due = max(due, last.astimezone(SHANGHAI) + step)
    basis = (
        f"首次：{spec.after} {'完成' if spec.after in done else '期限'}后 {spec.hours:g} 小时；"
        f"此后每次在上一次后 {spec.hours:g} 小时，直至{FIELD_TITLES.get(spec.until, spec.until)}"
    )
    until: dt.datetime | None = getattr(record, spec.until)
    if until is not None and due >= until:
        return Obligation(
            **common, due=None, state="fulfilled", basis=basis,
            note=f"处置已于 {until.astimezone(SHANGHAI).isoformat()} 结束，进展报告至此停止",
        )
    return Obligation(
        **common, due=due, due_label=due.strftime("%Y-%m-%d %H:%M"), state=_state(due, now, window), basis=basis
    )
