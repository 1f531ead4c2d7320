"""Links people open to a self-inspection run's files: the worklist, the sample manifest, the
findings, the report draft and summary.json, each a signed, expiring download link of the regflows
endpoint (:mod:`notices.files`), served only while the file has its recorded SHA-256 and named in
Chinese on the person's disk. A summary that names a path on the server gives its reader nothing
to open (issue 14, 4); every file of a run is on record (``records.save_run``), so each gets one.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from notices.files import file_url
from regflows.profile import Profile

__all__ = ["FILE_TITLES", "run_links"]

#: How each file is named when a person downloads it (after the quarter's label).
FILE_TITLES = {"worklist": "线索核实清单", "manifest": "抽样清单", "findings": "用户检查问题清单",
               "report": "自查自纠报告（草稿）", "summary": "汇总数据"}


def run_links(profile: Profile, outcome: Any, validity: dt.timedelta | None = None) -> list[tuple[str, str | None]]:
    """(title, link) of every file the run wrote; a link is None for a file not on record."""
    validity = validity or dt.timedelta(hours=profile.settings.file_link_hours)
    base = str(profile.public_base_url)
    out: list[tuple[str, str | None]] = []
    for kind, path in outcome.files.items():
        base_kind, _, unit = kind.partition("-")  # report-YX0101: the report of a unit that reports on its own
        title = f"{outcome.quarter.label} {FILE_TITLES.get(base_kind, base_kind)}" + (f"（{unit}）" if unit else "")
        out.append((title, file_url(base, Path(path).absolute(), title, validity=validity)))
    return out
