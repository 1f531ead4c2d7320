"""The year's self-assessment run (issue 16, items 4-6): evidence in, the report, the score sheet
and summary.json out, published all or none, on record with their SHA-256.

Steps: refuse a year the institution is not rated for (第九条: newly connected), read and check
the evidence (every problem named with its item and line), score it, score last year's evidence
when given and compare, compute the self-assessment's due day (第十条（一）/第十一条), write the
three files into the kit's staging folder, record them (subject ``rating:<year>``, kinds
``report``, ``sheet``, ``summary``) and make sure the year's self-assessment is owed, then
publish the set. The sign-off (regflows/rating/signoff.py) takes the latest recorded set.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from calendars.official import CalendarError, WorkingDayCalendar
from calendars.zone import SHANGHAI
from regflows.kit.evidence import sha256_file
from regflows.kit.files import write_atomically
from regflows.kit.publish import publishing
from regflows.kit.reports import record_report_in
from regflows.profile import Profile
from regflows.rating.jsontext import dumps
from regflows.rating.model import load_model
from regflows.rating.owed import ensure_submission_in
from regflows.rating.report import ReportContext, artifact_markdown, write_report, write_sheet
from regflows.rating.schedule import PROCEDURE, RatingInputError, not_rated, submission_due, year_subject
from regflows.rating.scored import score_with_last
from regflows.rating.scoring import Comparison, RatingResult
from regflows.store import db

__all__ = ["FILE_KINDS", "Outcome", "RatingRefused", "comparison_dict", "file_names", "run"]

#: The recorded kinds of a run's files, as the sign-off reads them.
FILE_KINDS = ("report", "sheet", "summary")


class RatingRefused(ValueError):
    """The year is not rated for this institution (第九条): nothing is written."""


def file_names(year: int) -> dict[str, str]:
    return {"report": f"rating-self-assessment-{year}.docx", "sheet": f"rating-score-sheet-{year}.xlsx", "summary": "summary.json"}


@dataclass
class Outcome:
    year: int
    result: RatingResult
    comparison: Comparison | None
    files: dict[str, Path]
    summary: dict[str, Any]
    artifact: str
    warnings: list[str] = field(default_factory=list)


def comparison_dict(c: Comparison) -> dict[str, Any]:
    return {"previous_year": c.previous_year, "score": {"previous": c.score.previous, "current": c.score.current, "delta": c.score.delta},
            "grade": {"previous": c.previous_grade, "current": c.grade},
            "parts": {p.id: {"previous": p.previous, "current": p.current, "delta": p.delta} for p in c.parts},
            "items": [{"id": i.id, "previous": i.previous, "current": i.current, "delta": i.delta} for i in c.items]}


def run(year: int, evidence_path: Path, out_dir: Path, profile: Profile, *, last: Path | None = None, now: dt.datetime | None = None,
        calendar: WorkingDayCalendar | None = None, url: str | None = None,
        on_step: Callable[[str], None] | None = None) -> Outcome:
    """Score ``year`` from ``evidence_path`` and publish the report, score sheet and summary.json in ``out_dir``."""
    step = on_step or (lambda name: None)
    why = not_rated(profile.institution, year)
    if why is not None:
        raise RatingRefused(why)
    moment = (now or dt.datetime.now(SHANGHAI)).astimezone(SHANGHAI).replace(microsecond=0)
    if year >= moment.year:
        raise RatingInputError(f"{year} 年度尚未结束：考核评级期间为上一年度 1 月 1 日至 12 月 31 日（PBOC-102 附件3 第九条）")
    step("读取并核对自评证据")
    model = load_model()
    result, comparison, note, evidence = score_with_last(evidence_path, profile, last, model)
    if result.year != year:
        raise RatingInputError(f"自评证据 {evidence_path} 是 {result.year} 年度的（year），不是 {year} 年度")
    warnings = list(result.notes)
    try:
        deadline, clause = submission_due(year, profile.institution, profile.settings, calendar)
        due_label, basis = deadline.label(), f"{clause}：{deadline.basis}"
    except CalendarError as exc:
        due_label, basis = None, str(exc)
        warnings.append(f"报送期限无法计算：{exc}")
    ctx = ReportContext(institution=profile.institution.name, model=model, result=result, prepared_at=moment,
                        evidence_file=Path(evidence_path).name, evidence_sha256=sha256_file(Path(evidence_path))[0],
                        contradictions=profile.settings.rating_contradictions, candidates=evidence.downgrade_candidates,
                        comparison=comparison, comparison_note=note, submission_due=due_label, submission_basis=basis,
                        people={p.id: p.name for p in profile.people})
    summary: dict[str, Any] = {**result.to_dict(), "unevaluated": list(result.unevaluated), "submission_due": due_label,
                               "comparison": comparison_dict(comparison) if comparison else None}
    names = file_names(year)
    step("写出自评报告、计分表与 summary.json")
    with publishing(out_dir) as stage:
        write_report(stage.path / names["report"], ctx)
        write_sheet(stage.path / names["sheet"], ctx)
        write_atomically(stage.path / names["summary"], (dumps(summary) + "\n").encode("utf-8"))
        with db.session(url) as s:  # on record where they will be published (the same bytes), in one transaction
            for kind, name in names.items():
                staged = stage.path / name
                record_report_in(s, procedure=PROCEDURE, kind=kind, subject=year_subject(year),
                                 path=Path(out_dir).absolute() / name, sha256=hashlib.sha256(staged.read_bytes()).hexdigest(),
                                 action="rating.document_written", detail={"year": year, "score": str(result.score), "grade": result.grade})
            ensure_submission_in(s, year, profile, calendar)
    warnings += [f"此前一次运行在写出文件时中断，其未发布的文件已保存在 {kept}" for kept in stage.recovered]
    files = {key: stage.final(stage.path / name) for key, name in names.items()}
    return Outcome(year, result, comparison, files, summary, artifact_markdown(ctx), warnings)
