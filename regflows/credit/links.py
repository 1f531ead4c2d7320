"""Links people open to the month's files: the draft tables, their figures, summary.json and the
flagged queries, each through a signed, expiring download link of the regflows endpoint
(:mod:`notices.files`), named in Chinese on the person's disk.

A review request or an artifact that names a file and a hash gives the reviewer nothing to open
(issue 14, 4); a link to the recorded file, served only while it still has its recorded SHA-256,
does. Only files on record (regflows/credit/signoff.py records every one) get a link.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from notices.files import file_url
from regflows.credit.signoff import report_title
from regflows.profile import Profile

#: What each of a table's files is, as the person's download is named.
FILE_TITLES = {"xlsx": "（草稿）", "summary": "（统计数据）"}
RUN_TITLES = {"overview": "汇总数据 summary", "flagged": "违规与异常查询清单"}


def table_file_name(profile: Profile, key: str, kind: str) -> str:
    """``征信信息安全情况统计表（2025年10月）（草稿）``: the Chinese download name of a table's file."""
    return report_title(profile, key) + FILE_TITLES.get(kind, f"（{kind}）")


def run_links(profile: Profile, outcome: Any, validity: dt.timedelta | None = None) -> list[tuple[str, str | None]]:
    """(title, link) of every file a run wrote: each table's draft and figures, then summary.json
    and the flagged queries; a link is None for a file not on record (never expected)."""
    validity = validity or dt.timedelta(hours=profile.settings.file_link_hours)
    base = str(profile.public_base_url)
    out: list[tuple[str, str | None]] = []
    for t in outcome.tables:
        key = t.key
        for kind, path in t.files.items():
            name = table_file_name(profile, key, kind)
            out.append((name, file_url(base, Path(path), name, validity=validity)))
    period = outcome.period
    for kind, title in RUN_TITLES.items():
        path = outcome.files.get(kind)
        if path is not None:
            name = f"征信信息安全情况统计{period.year}年{period.month}月{title}"
            out.append((name, file_url(base, Path(path), name, validity=validity)))
    return out
