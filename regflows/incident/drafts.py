"""Draft the incident's documents from what is on record, and say what is still missing.

The record, the grading and the profile's contacts fill what they can; every element the flow
cannot know yet (the impact assessment, the lessons) is written as 待补充（原因） and reported, so
a draft never has a blank where a regulator expects content, and the missing elements are
raised rather than forgotten. Which drafts apply follows the obligations, and which draft an
obligation produces is a rule of the obligations file (``draft:`` in
``rules/obligations-<version>.yaml``, the set in force at discovery): the regulator report when a
regulator report is owed (NFRA 45), the PFI report when PFI is involved (TENPAY 4(3)), the
customer notice when subjects must be told (TENPAY 4(4), 10), the summary report once handling
ended (NFRA 48), the investigation report once the response ended (CQ-PLAN 第五篇). The grade's
name, warning colour and who investigates come from the grading (``rules/grading.yaml``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from calendars.zone import SHANGHAI
from regflows import config
from regflows.incident import documents as docs
from regflows.incident.clock import RuleSet, rule_set_for
from regflows.incident.grading import Grading
from regflows.profile import ContactInfo, Profile
from regflows.store import db
from regflows.kit.reports import record_report_in

LATER = "待事件处置过程中补充"


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
                                  pfi_office=_contact(profile.contacts.pfi_office)),
    }
    if record.get("cii") and graded.grade in ("I", "II", "III"):  # NFRA 61: to NFRA itself, not "or its local office"
        values["regulator"] = "国家金融监督管理总局"
    for later in ("handling_progress", "impact", "possible_harm", "customer_summary", "measures_taken", "individual_measures",
                  "remedies", "nature", "responsibility", "handling_opinion", "improvements", "lessons"):
        values[later] = docs.pending(LATER)
    return docs.DocumentContext(**{k: v for k, v in values.items() if v is not None})


def write_drafts(incident_id: str, kinds: list[str], ctx: docs.DocumentContext, url: str | None = None) -> list[dict[str, Any]]:
    """Write each draft, record it (path and SHA-256) in the store and the ledger."""
    folder = config.home() / "reports" / incident_id
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for kind in dict.fromkeys(kinds):
        path = folder / f"{incident_id}-{kind}.docx"
        missing = docs.missing_elements(kind, ctx)
        if missing:
            out.append({"kind": kind, "path": None, "missing": [m.label for m in missing], "pending": []})
            continue
        draft = docs.DOCUMENTS[kind](ctx, path)
        with db.session(url) as s:
            digest = record_report_in(s, procedure="incident_response", kind=kind, subject=incident_id, path=draft.path,
                                      action="report.drafted", detail={"pending": [p.label for p in draft.pending]})
        out.append({"kind": kind, "path": str(draft.path), "missing": [], "pending": [p.label for p in draft.pending], "sha256": digest})
    return out


def opening_events(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The event process as far as the record tells it: its discovery."""
    return [{"at": record["discovered_at"], "text": f"{record.get('discovered_by') or '发现人'}发现事件：{record['title']}"}]


def drafts_due(obligation_ids: Iterable[str], record: Mapping[str, Any], rule_sets: Sequence[RuleSet] | None = None) -> list[str]:
    """The drafts the obligations call for, by the rule set in force at the record's discovery
    (the clock's own choice of rules); ``rule_sets`` replaces the shipped ones."""
    discovered_at = record["discovered_at"]
    if not isinstance(discovered_at, dt.datetime):
        discovered_at = dt.datetime.fromisoformat(str(discovered_at))
    return list(rule_set_for(discovered_at, rule_sets).drafts_for(obligation_ids))


def beijing(value: dt.datetime) -> str:
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
