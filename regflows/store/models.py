"""The domain store: the records the regulations ask an institution to keep, beside Prefect's own.

Prefect keeps runs, logs and artifacts, and may clean them up; an inspector asks for incidents
and their timelines, the deadlines that applied and when each was met, who was told what through
which channel and who acknowledged, and which reports were filed. Those live here, in SQLite by
default or PostgreSQL (``REGFLOWS_DATABASE_URL``), with alembic migrations.

Every time is stored in UTC and handed back timezone-aware; a naive time is refused on write.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Integer, String, Text, TypeDecorator, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime refused by the store: {value.isoformat()}")
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {dt.datetime: UTCDateTime, dict[str, Any]: JSON}


class Incident(Base):
    """A security incident (digest 1.1): the record items of TENPAY 4(1) live in ``record``."""

    __tablename__ = "incident"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    reporting_unit: Mapped[str] = mapped_column(String(32), index=True)
    title: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(40))
    grade: Mapped[str | None] = mapped_column(String(4))
    occurred_at: Mapped[dt.datetime]
    discovered_at: Mapped[dt.datetime]
    state: Mapped[str] = mapped_column(String(20), default="open")  # open | closing | closed
    drill: Mapped[bool] = mapped_column(Boolean, default=False)
    credit_info_event: Mapped[str | None] = mapped_column(String(30))
    record: Mapped[dict[str, Any]] = mapped_column(default=dict)
    grading: Mapped[dict[str, Any]] = mapped_column(default=dict)
    rules_version: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[dt.datetime | None]

    timeline: Mapped[list["IncidentEvent"]] = relationship(back_populates="incident", order_by="IncidentEvent.id")


class IncidentEvent(Base):
    """One entry of an incident's timeline (recorded, graded, notified, reported, closed...)."""

    __tablename__ = "incident_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incident.id"), index=True)
    at: Mapped[dt.datetime]
    kind: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(80))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)

    incident: Mapped[Incident] = relationship(back_populates="timeline")


class Obligation(Base):
    """A deadline the institution owes, with the clause it comes from."""

    __tablename__ = "obligation"
    __table_args__ = (UniqueConstraint("subject", "code", name="uq_obligation_subject_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    procedure: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(80), index=True)  # incident id, period, ...
    code: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(200))
    clause: Mapped[str] = mapped_column(String(120))
    owner_role: Mapped[str] = mapped_column(String(60))
    regime: Mapped[str | None] = mapped_column(String(20))
    due_at: Mapped[dt.datetime | None]
    every: Mapped[str | None] = mapped_column(String(20))  # ISO 8601 duration of a recurring obligation
    state: Mapped[str] = mapped_column(String(20), default="pending")
    fulfilled_at: Mapped[dt.datetime | None]
    fulfilled_by: Mapped[str | None] = mapped_column(String(60))
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)
    reminders_sent: Mapped[list[str]] = mapped_column(JSON, default=list)  # reminder keys already sent
    rules_version: Mapped[str | None] = mapped_column(String(40))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Notice(Base):
    """A rendered notice, addressed to roles; its deliveries are the evidence.

    Acknowledgement and escalation state lives here so that a watcher can resume after any
    restart: who must acknowledge (the roles' escalation chain), how far it has escalated, when.
    """

    __tablename__ = "notice"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(300))  # the rendered title
    body: Mapped[str] = mapped_column(Text, default="")  # the full form as sent
    sms: Mapped[str | None] = mapped_column(Text)  # the SMS form as sent
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    drill: Mapped[bool] = mapped_column(Boolean, default=False)
    grade: Mapped[str | None] = mapped_column(String(4))
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    related: Mapped[str | None] = mapped_column(String(80), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    requires_ack: Mapped[bool] = mapped_column(Boolean, default=False)
    escalation_step: Mapped[int] = mapped_column(Integer, default=0)
    last_escalated_at: Mapped[dt.datetime | None]
    chain_exhausted_at: Mapped[dt.datetime | None]
    acked_at: Mapped[dt.datetime | None]
    acked_by: Mapped[str | None] = mapped_column(String(60))
    resolve_by: Mapped[dt.datetime | None]
    resolved_at: Mapped[dt.datetime | None]
    renotified_at: Mapped[dt.datetime | None]


class Delivery(Base):
    """One notice to one person through one channel.

    The idempotency key (notice, person, channel) is claimed *before* sending and settled right
    after, so a retried task never sends twice to the same channel. A claim that was never
    settled (the process died in between) becomes ``unknown`` for a person to settle.
    """

    __tablename__ = "delivery"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    notice_id: Mapped[str] = mapped_column(ForeignKey("notice.id"), index=True)
    person_id: Mapped[str] = mapped_column(String(60))
    channel_index: Mapped[int] = mapped_column(Integer)
    channel_kind: Mapped[str] = mapped_column(String(20))
    target_masked: Mapped[str] = mapped_column(String(300))
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    state: Mapped[str] = mapped_column(String(20), default="sending")  # sending|delivered|failed|unknown
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    claimed_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    settled_at: Mapped[dt.datetime | None]
    settled_by: Mapped[str | None] = mapped_column(String(60))  # a person who settled an unknown


class DeliveryAttempt(Base):
    """Every try through Apprise, success or not: the evidence an inspector asks for."""

    __tablename__ = "delivery_attempt"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("delivery.id"), index=True)
    at: Mapped[dt.datetime]
    outcome: Mapped[str] = mapped_column(String(20))  # delivered|failed|unknown
    error: Mapped[str | None] = mapped_column(Text)
    elapsed_ms: Mapped[int | None] = mapped_column(Integer)


class AckLink(Base):
    """An issued acknowledgement link: short enough for an SMS, bound and signed (notices.acks)."""

    __tablename__ = "ack_link"

    token_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    notice_id: Mapped[str] = mapped_column(ForeignKey("notice.id"), index=True)
    person_id: Mapped[str] = mapped_column(String(60))
    expires_at: Mapped[dt.datetime]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Acknowledgement(Base):
    __tablename__ = "acknowledgement"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    notice_id: Mapped[str] = mapped_column(ForeignKey("notice.id"), index=True)
    person_id: Mapped[str] = mapped_column(String(60))
    at: Mapped[dt.datetime]
    via: Mapped[str] = mapped_column(String(40))
    token_id: Mapped[str] = mapped_column(String(64), unique=True)


class Approval(Base):
    """One maker-checker approval of one subject (regflows.kit.approvals): what was approved (its
    SHA-256), the step it waits for, and who made it and who approved, through which link.

    ``steps`` holds the maker, the approvals, the requests sent and the refused confirmations;
    ``detail`` is the procedure's own (the credit sign-off's draft and final files). ``version``
    makes two writers (the endpoint and a watch) that raced on the same row fail instead of both
    recording an approval.
    """

    __tablename__ = "approval"
    __table_args__ = (UniqueConstraint("subject", "kind", name="uq_approval_subject_kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subject: Mapped[str] = mapped_column(String(120), index=True)
    kind: Mapped[str] = mapped_column(String(60))
    revision: Mapped[int] = mapped_column(Integer, default=1)
    content_sha256: Mapped[str] = mapped_column(String(64))
    stage: Mapped[str] = mapped_column(String(40))
    steps: Mapped[dict[str, Any]] = mapped_column(default=dict)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    __mapper_args__ = {"version_id_col": version}


class Report(Base):
    """A document produced for a regulator, with the hash of the file as filed."""

    __tablename__ = "report"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    procedure: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(60))
    subject: Mapped[str] = mapped_column(String(80), index=True)
    path: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class InspectionRun(Base):
    """One quarter's self-inspection run (regflows.inspection; PBOC-102 三（三）): its scope as
    exported, so a filled-in worklist attaches to it (the workbook carries ``id`` and
    ``worklist_sha256`` in a hidden sheet) and an auditor can redraw its sample (``manifest``)."""

    __tablename__ = "inspection_run"

    id: Mapped[str] = mapped_column(String(60), primary_key=True)
    quarter: Mapped[str] = mapped_column(String(8), index=True)
    seed: Mapped[str] = mapped_column(String(40))  # a 64-bit seed as text: portable across backends
    manifest: Mapped[dict[str, Any]] = mapped_column(default=dict)
    worklist_sha256: Mapped[str | None] = mapped_column(String(64))
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)
    exported_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class InspectionLead(Base):
    """One lead of a run's worklist: a flagged query, a sampled query, a credit-information event
    or an incident, verified link by link by the owner of its unit (PBOC-102 三（三） 逐笔核实)."""

    __tablename__ = "inspection_lead"
    __table_args__ = (UniqueConstraint("run_id", "lead_id", name="uq_inspection_lead_run_lead"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("inspection_run.id"), index=True)
    lead_id: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))
    ref: Mapped[str] = mapped_column(String(120))
    unit: Mapped[str] = mapped_column(String(60))
    owner: Mapped[str | None] = mapped_column(String(60))
    summary: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class InspectionAnswer(Base):
    """One owner's outcome for one link of one lead, as recorded (a page or a workbook row).
    Answers are appended, never overwritten: the latest per (run, lead, link) counts, the earlier
    ones stay as the trail."""

    __tablename__ = "inspection_answer"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("inspection_run.id"), index=True)
    lead_id: Mapped[str] = mapped_column(String(120))
    link: Mapped[str] = mapped_column(String(20))
    outcome: Mapped[str] = mapped_column(String(20))
    evidence: Mapped[str] = mapped_column(Text, default="")
    answered_by: Mapped[str] = mapped_column(String(60))
    answered_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    source: Mapped[str] = mapped_column(String(20))  # page | workbook | carried
    source_sha256: Mapped[str | None] = mapped_column(String(64))  # the imported workbook's
    #: The run a ``carried`` answer was copied from (the quarter's previous run; records.save_run).
    carried_from: Mapped[str | None] = mapped_column(String(60))


class InspectionSpotCheck(Base):
    """One department × area of the quarterly compliance spot check, checked on a day by a person
    (CUSTINFO 10.2; regflows/inspection/spot_records.py), with or without a problem: what the spot
    check covered. Its result is not stored: the quarter's spot-check findings of the department
    and area (the rectification register) say it when read."""

    __tablename__ = "inspection_spot_check"
    __table_args__ = (UniqueConstraint("quarter", "department", "area", "checked_on", name="uq_inspection_spot_check"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    quarter: Mapped[str] = mapped_column(String(8), index=True)
    department: Mapped[str] = mapped_column(String(100))
    area: Mapped[str] = mapped_column(String(20))  # spot_check.AREAS code
    checked_on: Mapped[dt.date] = mapped_column(Date)
    checked_by: Mapped[str] = mapped_column(String(60))
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class OutboxMessage(Base):
    """The embedded default channel: notices for people with no real channel configured."""

    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    target: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)


class AuditEntry(Base):
    """One entry of the append-only, hash-chained audit ledger (see regflows.ledger)."""

    __tablename__ = "audit_entry"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime]
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(80))
    subject: Mapped[str] = mapped_column(String(120))
    payload: Mapped[str] = mapped_column(Text)  # canonical JSON, hashed as stored
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class LedgerHead(Base):
    """One row that serialises appends (row lock on PostgreSQL, write lock on SQLite)."""

    __tablename__ = "ledger_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    head_hash: Mapped[str] = mapped_column(String(64))
