"""When the incident's drafts are written (regflows/incident/drafts.py): each report once what it
reports on has happened, each obligation its own document, again when the record changes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import docx
import pytest

from regflows.incident import drafts, store
from regflows.incident.grading import grade
from regflows.incident.record import IncidentRecord
from regflows.profile import DEMO_PROFILE, load_profile
from regflows.store import migrate

BEIJING = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
def grade_i(home: Path):  # type: ignore[no-untyped-def]
    """A grade I incident on record: (id, record, grading, profile)."""
    migrate()
    record = IncidentRecord.model_validate({
        "title": "核心系统数据泄露", "occurred_at": "2025-09-30T09:00:00+08:00", "discovered_at": "2025-09-30T09:10:00+08:00",
        "discovered_by": "监控中心", "system_name": "核心业务系统", "category": "network_attack", "data_incident": "especially_major",
    }).model_dump(mode="json")
    grading = grade(IncidentRecord.model_validate(record)).model_dump(mode="json")
    incident_id = store.incident_id_for(record, "YX0001")
    store.save_incident(incident_id, record, "YX0001", grading, grading["rules_version"], "t")
    return incident_id, record, grading, load_profile(DEMO_PROFILE)


ALL = ["regulator_initial_report", "regulator_written_report", "progress_report", "summary_report", "investigation_report"]


def _refresh(grade_i: Any, owed: dict[str, int] | None = None, **changes: Any) -> list[str]:
    incident_id, record, grading, profile = grade_i
    if changes:
        store.update_record(incident_id, changes, "zhao.lei")
    current = store.load_incident(incident_id).record
    written = drafts.refresh(incident_id, current, grading, profile, "渝信示范银行总行", owed or dict.fromkeys(ALL, 0))
    return [w["kind"] for w in written]


def _text(path: str) -> str:
    document = docx.Document(path)
    return "\n".join([p.text for p in document.paragraphs] + [c.text for t in document.tables for r in t.rows for c in r.cells])


def test_at_declaration_the_summary_and_investigation_reports_wait(grade_i) -> None:  # type: ignore[no-untyped-def]
    """NFRA 48 (应急处置结束后五个工作日内 … 事件处置总结报告) and CQ-PLAN 第五篇 (应急响应结束后30天内): nothing
    to report on before handling / the response ended, so no draft at declaration; the summary report
    is drafted once handling ended, and dates from it."""
    assert _refresh(grade_i) == ["regulator_initial_report", "regulator_report", "progress_report"]
    assert _refresh(grade_i) == []  # unchanged: not drafted again
    assert _refresh(grade_i, handling_ended_at="2025-10-02T17:30:00+08:00") == [
        "regulator_initial_report", "regulator_report", "progress_report", "summary_report"]  # the record changed: all again
    summary = [e for e in store.timeline(grade_i[0]) if e.kind == "drafted" and e.detail["document"] == "summary_report"]
    assert "处置结束时间" in _text(summary[0].detail["path"]) and "2025年10月2日 17:30" in _text(summary[0].detail["path"])
    assert "investigation_report" not in _refresh(grade_i)


def test_the_initial_and_progress_reports_are_documents_of_their_own(grade_i) -> None:  # type: ignore[no-untyped-def]
    """NFRA 45: the 2-hour report, the 24-hour formal written report and (grade I) a progress report every
    2 hours are three reports: each its own draft, title and file."""
    _refresh(grade_i)
    paths = {e.detail["document"]: e.detail["path"] for e in store.timeline(grade_i[0]) if e.kind == "drafted"}
    assert len(set(paths.values())) == 3
    assert "网络安全事件首次报告" in _text(paths["regulator_initial_report"])
    assert "（首报：2小时内报告）" in _text(paths["regulator_initial_report"])
    assert "（正式书面报告）" in _text(paths["regulator_report"])
    assert "（处置进展报告 第1次）" in _text(paths["progress_report"])


def test_a_changed_record_is_redrafted_as_a_new_revision_and_the_next_progress_report_is_numbered(grade_i) -> None:  # type: ignore[no-untyped-def]
    """Drafts follow the record: a correction after a draft gives a new draft (the earlier file stays as
    the ledger recorded it); after the first progress report is filed the next is 第2次 (NFRA 45 每 2 小时)."""
    _refresh(grade_i)
    again = _refresh(grade_i, cause="弱口令被利用")
    assert "regulator_initial_report" in again
    revisions = [e.detail for e in store.timeline(grade_i[0]) if e.kind == "drafted" and e.detail["document"] == "regulator_initial_report"]
    assert [r["revision"] for r in revisions] == [1, 2] and revisions[1]["path"].endswith("-regulator_initial_report-r2.docx")
    assert Path(revisions[0]["path"]).exists()
    assert _refresh(grade_i, {**dict.fromkeys(ALL, 0), "progress_report": 1}) == ["progress_report"]
    latest = [e.detail for e in store.timeline(grade_i[0]) if e.kind == "drafted" and e.detail["document"] == "progress_report"][-1]
    assert "（处置进展报告 第2次）" in _text(latest["path"])


def test_the_investigation_report_waits_for_the_approved_end(grade_i) -> None:  # type: ignore[no-untyped-def]
    """CQ-PLAN 第五篇: the investigation report follows the end of the response (written by the closing)."""
    assert "investigation_report" not in _refresh(grade_i)
    assert "investigation_report" in _refresh(grade_i, response_ended_at="2025-10-03T10:00:00+08:00")


def test_the_public_warning_can_be_drafted_from_the_record(grade_i, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """NFRA 46 (及时向社会发布与公众有关的警示信息): the record and the profile's public hotline fill what they
    can, the rest is 待补充 and reported, so the draft exists the moment the obligation applies."""
    from regflows.incident import documents as docs

    incident_id, record, grading, profile = grade_i
    ctx = drafts.context_for(incident_id, record, grading, profile, "渝信示范银行总行", drafts.opening_events(record))
    draft = docs.public_warning(ctx, tmp_path / "w.docx")
    assert {p.field for p in draft.pending} == {"public_summary", "public_impact", "public_advice", "measures_taken"}
    assert "023-6000 9999" in _text(str(draft.path)) and "核心业务系统" not in _text(str(draft.path))


def test_the_initial_report_prints_on_a4_portrait_with_its_title_and_chinese_text(grade_i, printed) -> None:  # type: ignore[no-untyped-def]
    """Issue 14 (6), the drafts too: the 2-hour report as LibreOffice prints it is A4 portrait
    (GB/T 9704), its title and the record's Chinese text on page 1 (the fonts are there)."""
    _refresh(grade_i)
    paths = {e.detail["document"]: e.detail["path"] for e in store.timeline(grade_i[0]) if e.kind == "drafted"}
    pdf = printed(Path(paths["regulator_initial_report"]))
    assert (round(pdf.size[0]), round(pdf.size[1])) == (595, 842)
    page = pdf.texts[0].replace(" ", "")
    assert "网络安全事件首次报告" in page and "核心系统数据泄露" in page
