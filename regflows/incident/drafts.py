"""Draft the incident's documents from what is on record, and say what is still missing.

The record, the grading and the profile's contacts fill what they can; every element the flow
cannot know yet (the impact assessment, the lessons) is written as 待补充（原因） and reported, so
a draft never has a blank where a regulator expects content, and the missing elements are
raised rather than forgotten. Which drafts apply follows the obligations, and which draft an
obligation produces is a rule of the obligations file (``draft:`` in
``rules/obligations-<version>.yaml``, the set in force at discovery): the regulator report when a
regulator report is owed (NFRA 45), the PFI report when PFI is involved (TENPAY 4(3)), the
customer notice when subjects must be told (TENPAY 4(4), 10), the public warning when the public
is concerned (NFRA 46), the 2-hour first report and the grade-I progress reports (NFRA 45) each
as a document of its own. The grade's name, warning colour and who investigates come from the
grading (``rules/grading.yaml``).

When: a report on what has not happened yet would be a draft of nothing, so the summary report
waits for the end of emergency handling (NFRA 48: 应急处置结束后) and the investigation report for
the approved end of the response (CQ-PLAN 第五篇: 应急响应结束后), :data:`WAITS_FOR`; everything else
is drafted as soon as its obligation applies. Each draft is on the incident's timeline
(``drafted``) with the SHA-256 of what it was drafted from (the record, the grading, and for a
progress report its number): when that changes (a corrected record, a re-grade, a progress
report filed) the draft is written again, as a new revision file, while its obligation is owed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import select

from calendars.zone import SHANGHAI
from regflows import config, ledger
from regflows.incident import documents as docs
from regflows.incident.clock import RuleSet, rule_set_for
from regflows.incident.grading import Grading
from regflows.profile import ContactInfo, Profile
from regflows.store import db
from regflows.store.models import IncidentEvent, utcnow
from regflows.store.reports import counts_reported
from regflows.kit.reports import record_report_in

LATER = "待事件处置过程中补充"

#: The record time a draft waits for: it reports on what follows it.
WAITS_FOR: dict[str, str] = {
    "summary_report": "handling_ended_at",  # NFRA 48: 较大（三级）及以上网络安全事件应急处置结束后五个工作日内 … 事件处置总结报告
    "investigation_report": "response_ended_at",  # CQ-PLAN 第五篇: 调查处理和总结评估工作原则上在应急响应结束后30天内完成
}


def _contact(info: ContactInfo | None) -> docs.Contact | None:
    return docs.Contact(name=info.name, phone=info.phone, email=info.email, title=info.title) if info else None


def context_for(incident_id: str, record: dict[str, Any], grading: dict[str, Any], profile: Profile, unit_name: str,
                events: list[dict[str, Any]]) -> docs.DocumentContext:
    pfi = record.get("pfi")
    graded = Grading.model_validate(grading)  # a grading stored before issue 11 is completed here
    values: dict[str, Any] = {
        "institution_name": profile.institution.name,
        "reporting_unit": unit_name,
        "incident_id": incident_id,
        "title": record["title"],
        "grade": graded.grade,
        "grade_name": graded.grade_name,
        "warning_zh": graded.warning_zh,
        "investigated_by": graded.investigation.text,
        "category": record["category"],
        "drill": bool(record.get("drill")),
        "occurred_at": record["occurred_at"],
        "discovered_at": record["discovered_at"],
        "confirmed_at": record.get("confirmed_at"),
        "response_ended_at": record.get("response_ended_at") or docs.pending("应急响应尚未结束"),
        "handling_ended_at": record.get("handling_ended_at") or docs.pending("事件处置尚未结束"),
        "location": record.get("location") or docs.pending("发现人未填写地点"),
        "system_name": record["system_name"],
        "other_systems_affected": record.get("other_systems_affected"),
        "police_contacted": record.get("police_contacted"),
        "pfi": docs.PfiFacts(types=pfi["types"], subjects=pfi["subjects"], high_sensitivity=pfi.get("high_sensitivity", False)) if pfi else None,
        "cause": record.get("cause") or docs.pending("原因分析中"),
        "timeline": [docs.TimelineEntry(at=e["at"], text=e["text"]) for e in events] or docs.pending(LATER),
        "contacts": docs.Contacts(reporter=_contact(profile.contacts.reporter), pfi_lead=_contact(profile.contacts.pfi_lead),
                                  pfi_office=_contact(profile.contacts.pfi_office), public=_contact(profile.contacts.public)),
    }
    if record.get("cii") and graded.grade in ("I", "II", "III"):  # NFRA 61: to NFRA itself, not "or its local office"
        values["regulator"] = "国家金融监督管理总局"
    values["cq_plan"] = profile.regime_on("CQ-PLAN")  # no warning colour nor response level without the plan
    for later in ("handling_progress", "impact", "possible_harm", "customer_summary", "measures_taken", "individual_measures",
                  "remedies", "nature", "responsibility", "handling_opinion", "improvements", "lessons",
                  "public_summary", "public_impact", "public_advice"):
        values[later] = docs.pending(LATER)
    return docs.DocumentContext(**{k: v for k, v in values.items() if v is not None})


def draft_basis(record: Mapping[str, Any], grading: Mapping[str, Any], kind: str, sequence: int | None = None) -> str:
    """The SHA-256 of what a draft is written from: when it changes, the draft is written again."""
    content = {"kind": kind, "record": dict(record), "grading": dict(grading), **({"sequence": sequence} if sequence else {})}
    return hashlib.sha256(ledger.canonical_json(content).encode("utf-8")).hexdigest()


def drafted_bases(incident_id: str, url: str | None = None) -> dict[str, list[str]]:
    """Each kind's drafts so far, oldest first, by the basis each was written from."""
    with db.session(url) as s:
        events = s.execute(select(IncidentEvent).where(IncidentEvent.incident_id == incident_id, IncidentEvent.kind == "drafted")
                           .order_by(IncidentEvent.id)).scalars()
        out: dict[str, list[str]] = {}
        for event in events:
            out.setdefault(event.detail["document"], []).append(event.detail.get("basis", ""))
        return out


def write_drafts(incident_id: str, kinds: list[str], ctx: docs.DocumentContext, url: str | None = None,
                 bases: Mapping[str, str] | None = None, sequences: Mapping[str, int] | None = None) -> list[dict[str, Any]]:
    """Write each draft, record it (path and SHA-256) in the store and the ledger, and on the
    incident's timeline with the basis it was written from (``bases``). A kind drafted before gets
    a new revision file (``-r2``, ``-r3`` …): the earlier file stays as the ledger recorded it."""
    folder = config.home() / "reports" / incident_id
    folder.mkdir(parents=True, exist_ok=True)
    before = counts_reported(incident_id, url)
    out = []
    for kind in dict.fromkeys(kinds):
        revision = before.get(kind, 0) + 1
        path = folder / (f"{incident_id}-{kind}.docx" if revision == 1 else f"{incident_id}-{kind}-r{revision}.docx")
        missing = docs.missing_elements(kind, ctx)
        if missing:
            out.append({"kind": kind, "path": None, "missing": [m.label for m in missing], "pending": []})
            continue
        options = {"sequence": sequences[kind]} if sequences and kind in sequences else {}
        draft = docs.DOCUMENTS[kind](ctx, path, **options)
        with db.session(url) as s:
            digest = record_report_in(s, procedure="incident_response", kind=kind, subject=incident_id, path=draft.path,
                                      action="report.drafted", detail={"pending": [p.label for p in draft.pending]})
            s.add(IncidentEvent(incident_id=incident_id, at=utcnow(), kind="drafted", actor="regflows",
                                detail={"document": kind, "path": str(draft.path), "sha256": digest, "revision": revision,
                                        "basis": (bases or {}).get(kind, "")}))
        out.append({"kind": kind, "path": str(draft.path), "missing": [], "pending": [p.label for p in draft.pending], "sha256": digest})
    return out


def refresh(incident_id: str, record: Mapping[str, Any], grading: Mapping[str, Any], profile: Profile, unit_name: str,
            owed: Mapping[str, int], url: str | None = None, *, first: bool = True) -> list[dict[str, Any]]:
    """Write the drafts the owed obligations call for now (``owed``: obligation id → how many times
    it was fulfilled so far, for the number of the next progress report), each unless it was
    already drafted from the same record, grading and number. Returns what :func:`write_drafts` did.
    ``first=False``: nothing for an incident with no draft yet (the watch leaves the first drafts to
    the declaration's own run for a while: tasks/incident.py ``draft_new_reports``)."""
    kinds = drafts_due(owed, record)
    sequences = {"progress_report": owed["progress_report"] + 1} if "progress_report" in kinds else {}
    bases = {k: draft_basis(record, grading, k, sequences.get(k)) for k in kinds}
    drafted = drafted_bases(incident_id, url)
    if not drafted and not first:
        return []
    todo = [k for k in kinds if not drafted.get(k) or drafted[k][-1] != bases[k]]
    if not todo:
        return []
    ctx = context_for(incident_id, dict(record), dict(grading), profile, unit_name, opening_events(dict(record)))
    return write_drafts(incident_id, todo, ctx, url, bases, sequences)


def opening_events(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The event process as far as the record tells it: its discovery."""
    return [{"at": record["discovered_at"], "text": f"{record.get('discovered_by') or '发现人'}发现事件：{record['title']}"}]


def drafts_due(obligation_ids: Iterable[str], record: Mapping[str, Any], rule_sets: Sequence[RuleSet] | None = None) -> list[str]:
    """The drafts the obligations call for, by the rule set in force at the record's discovery
    (the clock's own choice of rules; ``rule_sets`` replaces the shipped ones), less those whose
    :data:`WAITS_FOR` time the record does not have yet."""
    discovered_at = record["discovered_at"]
    if not isinstance(discovered_at, dt.datetime):
        discovered_at = dt.datetime.fromisoformat(str(discovered_at))
    kinds = rule_set_for(discovered_at, rule_sets).drafts_for(obligation_ids)
    return [k for k in kinds if k not in WAITS_FOR or record.get(WAITS_FOR[k])]


def beijing(value: dt.datetime) -> str:
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
