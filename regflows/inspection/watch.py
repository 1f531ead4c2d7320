"""Which runs the working-day watch follows: the latest run of each quarter with links still
unanswered (issue 15, item 3: 「owners who have not answered are reminded on working days」).

Why the latest run only: a quarter run again (a corrected log, another seed) has a new worklist,
and its owners answer that one; reminding them of the earlier run's leads too would ask for the
same verification twice. Why every quarter with open links, not only the last: a lead nobody
verified is still unverified the quarter after (never silent).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from regflows.inspection.progress import OwnerProgress, progress_of
from regflows.store import db
from regflows.store.models import InspectionRun

__all__ = ["WatchedRun", "runs_to_watch"]


@dataclass(frozen=True)
class WatchedRun:
    run_id: str
    quarter: str
    summary: dict[str, Any]
    progress: list[OwnerProgress]

    @property
    def open(self) -> bool:
        return any(not row.done for row in self.progress)


def runs_to_watch(url: str | None = None) -> list[WatchedRun]:
    """The latest run of each quarter (by export time), oldest quarter first, with its progress;
    runs whose every link is answered left out."""
    with db.session(url) as s:
        rows = s.execute(select(InspectionRun.id, InspectionRun.quarter, InspectionRun.summary)
                         .order_by(InspectionRun.quarter, InspectionRun.exported_at.desc(), InspectionRun.id.desc())).all()
    latest: dict[str, tuple[str, dict[str, Any]]] = {}
    for run_id, quarter, summary in rows:
        latest.setdefault(str(quarter), (str(run_id), dict(summary or {})))
    watched = [WatchedRun(run_id, quarter, summary, progress_of(run_id, url)) for quarter, (run_id, summary) in latest.items()]
    return [w for w in watched if w.open]
