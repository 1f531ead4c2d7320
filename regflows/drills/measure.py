"""A drill measured from its records, in real seconds (issue 17, item 4).

Nothing is typed in: the measurements are read from what the run and the incident pipeline
recorded (the notices and their deliveries, acknowledgements and escalation steps, the incident's
obligations, the ``drill.*`` ledger entries) and computed by :func:`measure`, pure:

- ``acks``: for every notice that asked for acknowledgement, each participant who acknowledged it,
  their role(s) in the profile and the seconds from the notice to their confirmation;
  ``unacknowledged`` lists those nobody confirmed, with the escalation steps they took
  (``escalations``: steps needed per notice);
- ``obligations``: each of the drill incident's obligations, its due instant and whether it was met
  on time (fulfilled no later than due; an untimed one met when fulfilled; waived ones are listed
  as not met, with their state); one still open and not yet due at the measuring instant (or
  untimed) is pending, ``met`` None: neither met nor a gap;
- a notice superseded by a correction (or otherwise resolved) before anyone acknowledged it no
  longer asks for acknowledgement: listed with ``superseded``, not a gap;
- ``channels``: each (person, channel kind) that failed at least once, and whether every notice
  that failed there reached the person through another channel (``fallback_reached``);
- ``injects``: each inject's scheduled instant, what was expected, when it actually fired, and
  whether the expectation was met within its minutes where the records can tell (a downed channel:
  every later notice reached its person another way; a re-grade: the next alert acknowledged; the
  end of handling: the closing requested); otherwise ``met`` is None, never guessed.

Gaps (:func:`gaps`) are what the report lists as problems, each with the improvement it calls for.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from regflows.drills.run import entries
from regflows.store import db
from regflows.store.models import Acknowledgement, Delivery, Notice, Obligation

#: How long after the last inject's scheduled instant a drill without ``drill.finished`` counts as
#: interrupted (before that it may still be running).
INTERRUPTED_AFTER = dt.timedelta(minutes=10)

__all__ = ["INTERRUPTED_AFTER", "AckRow", "DeliveryRow", "NoticeRow", "ObligationRow", "Records", "gaps", "measure", "obligation_met", "read_records"]


@dataclass(frozen=True)
class NoticeRow:
    id: str
    kind: str
    created_at: dt.datetime
    requires_ack: bool
    escalation_step: int
    related: str | None
    resolved_at: dt.datetime | None = None  # no longer awaiting acknowledgement (superseded by a correction, or resolved)


@dataclass(frozen=True)
class DeliveryRow:
    notice_id: str
    person: str
    channel: str
    state: str
    at: dt.datetime


@dataclass(frozen=True)
class AckRow:
    notice_id: str
    person: str
    at: dt.datetime


@dataclass(frozen=True)
class ObligationRow:
    code: str
    title: str
    due: dt.datetime | None
    state: str
    fulfilled_at: dt.datetime | None


@dataclass
class Records:
    """What a drill left on record (read by :func:`read_records`, or built by a test)."""

    drill_id: str
    started: dict[str, Any]
    injects: list[dict[str, Any]]
    notices: list[NoticeRow]
    deliveries: list[DeliveryRow]
    acks: list[AckRow]
    obligations: list[ObligationRow]
    roles: Mapping[str, list[str]] = field(default_factory=dict)  # person → role keys in the profile
    finished: dict[str, Any] | None = None  # the ``drill.finished`` entry, None while running or when the run died


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)  # SQLite gives naive UTC


def read_records(drill_id: str, roles: Mapping[str, list[str]], url: str | None = None) -> Records:
    """The drill's records; LookupError when ``drill_id`` is not a drill regflows ran."""
    started = entries(drill_id, "drill.started", url)
    if not started:
        raise LookupError(f"{drill_id} 不是 regflows 运行的演练（没有 drill.started 记录）")
    with db.session(url) as s:
        own = s.execute(select(Notice).where(Notice.related == drill_id)).scalars().all()
        ids = [n.id for n in own]
        escalated = s.execute(select(Notice).where(Notice.related.in_(ids))).scalars().all() if ids else []
        notices = [
            NoticeRow(
                n.id,
                n.kind,
                _aware(n.created_at),
                n.requires_ack,
                n.escalation_step or 0,
                n.related,
                _aware(n.resolved_at) if n.resolved_at else None,
            )
            for n in [*own, *escalated]
        ]
        every = [n.id for n in notices]
        deliveries = (
            [
                DeliveryRow(d.notice_id, d.person_id, d.channel_kind, d.state, _aware(d.settled_at or d.claimed_at or d.created_at))
                for d in s.execute(select(Delivery).where(Delivery.notice_id.in_(every))).scalars()
            ]
            if every
            else []
        )
        acks = (
            [
                AckRow(a.notice_id, a.person_id, _aware(a.at))
                for a in s.execute(select(Acknowledgement).where(Acknowledgement.notice_id.in_(every))).scalars()
            ]
            if every
            else []
        )
        obligations = [
            ObligationRow(
                o.code, o.title, _aware(o.due_at) if o.due_at else None, o.state, _aware(o.fulfilled_at) if o.fulfilled_at else None
            )
            for o in s.execute(select(Obligation).where(Obligation.subject == drill_id).order_by(Obligation.id)).scalars()
        ]
    finished = entries(drill_id, "drill.finished", url)
    return Records(
        drill_id,
        started[0],
        entries(drill_id, "drill.inject", url),
        notices,
        deliveries,
        acks,
        obligations,
        dict(roles),
        finished[0] if finished else None,
    )


def _seconds(a: dt.datetime, b: dt.datetime) -> float:
    return round((b - a).total_seconds(), 3)


def _inject_met(inject: Mapping[str, Any], records: Records, by_notice: Mapping[str, NoticeRow]) -> tuple[bool | None, str]:
    fired = dt.datetime.fromisoformat(inject["actual"])
    limit = fired + dt.timedelta(minutes=float(inject["within_minutes"]))
    action = inject["action"]
    if action == "channel_down":
        failed = [d for d in records.deliveries if d.channel == inject.get("channel") and d.state == "failed" and d.at >= fired]
        if not failed:
            return None, "故障后没有经该渠道发送的演练通知，无法判断"
        missed = sorted(
            {(d.notice_id, d.person) for d in failed} - {(d.notice_id, d.person) for d in records.deliveries if d.state == "delivered"}
        )
        return not missed, (
            "故障渠道的通知均经备用渠道送达" if not missed else "未经备用渠道送达：" + "、".join(f"{p}（{n}）" for n, p in missed)
        )
    if action == "regrade":
        alerts = [n for n in by_notice.values() if n.kind == "incident_alert" and n.created_at >= fired]
        if not alerts:
            return False, "调级后没有发出新级别的告警"
        acked = [a for a in records.acks if a.notice_id in {n.id for n in alerts}]
        first = min((a.at for a in acked), default=None)
        if first is None:
            return False, "调级后的告警无人确认"
        return first <= limit, f"调级告警首次确认于注入后 {_seconds(fired, first):g} 秒"
    if action == "end_handling":
        asked = [n for n in by_notice.values() if n.kind == "approval_request" and n.created_at >= fired]
        if not asked:
            return False, "处置结束后未发起应急结束审批"
        first = min(n.created_at for n in asked)
        return first <= limit, f"应急结束审批于注入后 {_seconds(fired, first):g} 秒发起"
    return None, "情况通报：无可判断的记录"


def obligation_met(o: ObligationRow, now: dt.datetime) -> bool | None:
    """Met on time (True), missed (False), or not yet decided (None): an obligation still open whose
    due instant has not come by ``now``, or an open untimed one, is pending, neither met nor missed;
    a withdrawn one is not owed. Waived counts as not met (it was owed and not done)."""
    if o.state == "fulfilled" and o.fulfilled_at is not None:
        return o.due is None or o.fulfilled_at <= o.due
    if o.state == "withdrawn":
        return None
    if o.state == "waived":
        return False
    return False if o.due is not None and o.due < now else None


def _unfired(records: Records) -> list[dict[str, Any]]:
    """The plan's injects that never fired (no ``drill.inject``), at their scheduled instants: the
    start plus their minutes divided by the speed (regflows/drills/run.py ``schedule``)."""
    fired = {i.get("index") for i in records.injects}
    started = records.started.get("started")
    planned = (records.started.get("plan") or {}).get("injects", [])
    if not started:
        return []
    start, speed = dt.datetime.fromisoformat(started), float(records.started.get("speed") or 1)
    return [
        {
            "index": i["index"],
            "fired": False,
            "at_minutes": i["at_minutes"],
            "at": (start + dt.timedelta(minutes=i["at_minutes"] / speed)).isoformat(),
            "expected": i["expected"],
            "actual": None,
            "action": i["action"],
            "within_minutes": i["within_minutes"],
            "met": None,
            "evidence": "未触发",
        }
        for i in planned
        if i["index"] not in fired
    ]


def measure(records: Records, now: dt.datetime | None = None) -> dict[str, Any]:
    """The contract's measurements (``measurements.json``) and what else the report shows, as of
    ``now`` (the measuring instant: an obligation not yet due is pending, not missed)."""
    now = now or dt.datetime.now(dt.UTC)
    by_notice = {n.id: n for n in records.notices}
    acks = [
        {
            "person": a.person,
            "role": "、".join(records.roles.get(a.person, [])) or "—",
            "seconds": _seconds(by_notice[a.notice_id].created_at, a.at),
            "notice": a.notice_id,
        }
        for a in sorted(records.acks, key=lambda a: a.at)
        if a.notice_id in by_notice
    ]
    acked = {a.notice_id for a in records.acks}
    asking = [n for n in records.notices if n.requires_ack]
    escalations = [
        {"notice": n.id, "steps": n.escalation_step, "acknowledged": n.id in acked, "superseded": n.id not in acked and n.resolved_at is not None}
        for n in asking
    ]
    obligations = [
        {
            "id": o.code,
            "title": o.title,
            "due": o.due.isoformat() if o.due else None,
            "state": o.state,
            "met": obligation_met(o, now),
        }
        for o in records.obligations
    ]
    channels: list[dict[str, Any]] = []
    failures: dict[tuple[str, str], set[str]] = {}
    for d in records.deliveries:
        if d.state == "failed":
            failures.setdefault((d.person, d.channel), set()).add(d.notice_id)
    delivered = {(d.notice_id, d.person) for d in records.deliveries if d.state == "delivered"}
    for (person, channel), notices in sorted(failures.items()):
        channels.append(
            {
                "person": person,
                "channel": channel,
                "failed": True,
                "fallback_reached": all((n, person) in delivered for n in notices),
                "notices": len(notices),
            }
        )
    injects = []
    for inject in records.injects:
        met, evidence = _inject_met(inject, records, by_notice)
        injects.append(
            {
                "index": inject.get("index", 0),
                "fired": True,
                "at_minutes": inject.get("at_minutes"),
                "at": inject["scheduled"],
                "expected": inject["expected"],
                "actual": inject["actual"],
                "action": inject["action"],
                "within_minutes": inject["within_minutes"],
                "met": met,
                "evidence": evidence,
            }
        )
    unfired = _unfired(records)
    injects.extend(unfired)
    injects.sort(key=lambda i: i["index"])
    last = max((dt.datetime.fromisoformat(i["at"]) for i in injects), default=None)
    interrupted = records.finished is None and (last is None or now > last + INTERRUPTED_AFTER)
    return {
        "drill_id": records.drill_id,
        "plan_id": records.started.get("plan_id"),
        "rehearsal": bool(records.started.get("rehearsal")),
        "finished": records.finished is not None,
        "interrupted": interrupted,
        "acks": acks,
        "escalations": escalations,
        "obligations": obligations,
        "channels": channels,
        "injects": injects,
    }


def gaps(measured: Mapping[str, Any]) -> list[dict[str, str]]:
    """Each problem the measurements show, with the improvement it calls for (the report's 问题 and
    改进措施; each becomes a rectification item)."""
    out: list[dict[str, str]] = []
    if measured.get("interrupted"):
        unfired = [i for i in measured["injects"] if not i.get("fired", True)]
        out.append(
            {
                "problem": "演练未完成：运行中断，未登记演练结束"
                + (f"，{len(unfired)} 项注入未触发（" + "、".join(f"T+{i['at_minutes']} 分钟 {i['action']}" for i in unfired) + "）" if unfired else ""),
                "improvement": "查明中断原因（worker、服务器、进程），按新方案重新组织演练",
            }
        )
    for e in measured["escalations"]:
        if not e["acknowledged"] and not e.get("superseded"):
            out.append(
                {
                    "problem": f"通知 {e['notice']} 无人确认（升级 {e['steps']} 级）",
                    "improvement": "核实值班与升级链人员的联系方式与值守安排",
                }
            )
    for o in measured["obligations"]:
        if o["met"] is False:
            out.append(
                {
                    "problem": f"义务“{o['title']}”（{o['id']}）未按时完成（状态 {o['state']}）",
                    "improvement": "明确该义务的责任人与报告模板，下次演练复测",
                }
            )
    for c in measured["channels"]:
        if not c["fallback_reached"]:
            out.append(
                {
                    "problem": f"{c['person']} 的 {c['channel']} 渠道故障后未经备用渠道送达",
                    "improvement": "为该人员配置至少一个备用通知渠道并测试",
                }
            )
    for i in measured["injects"]:
        if i["met"] is False:
            out.append(
                {
                    "problem": f"注入（{i['action']}，计划 {i['at']}）未达预期：{i['expected']}；实际：{i['evidence']}",
                    "improvement": "按预期修订处置流程与分工，下次演练复测",
                }
            )
    return out
