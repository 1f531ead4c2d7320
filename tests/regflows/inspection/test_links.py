"""Signed download links to a self-inspection run's files (regflows/inspection/links.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from notices.files import DownloadRefused, read_file_token, recorded_file
from regflows.inspection.links import run_links
from regflows.inspection.models import Quarter
from regflows.inspection.pipeline import run
from regflows.profile import DEMO_PROFILE, load_profile


def test_each_file_of_a_run_has_a_link_that_serves_its_recorded_bytes(home: Path, tmp_path: Path, quarter_data: Any) -> None:
    profile = load_profile(DEMO_PROFILE)
    outcome = run(Quarter.parse("2025Q3"), quarter_data.logs, quarter_data.users, tmp_path / "out", profile, seed=1)
    links = dict(run_links(profile, outcome))
    # the run's files, and each branch's own report and findings (the demo's branches report to their local PBoC branch)
    assert set(links) == {f"2025Q3 {t}" for t in ("线索核实清单", "抽样清单", "用户检查问题清单", "自查自纠报告（草稿）", "汇总数据")} | {
        f"2025Q3 {t}（{unit}）" for t in ("用户检查问题清单", "自查自纠报告（草稿）") for unit in ("YX0101", "YX0201")}
    for title, link in links.items():
        assert link is not None and link.startswith(str(profile.public_base_url).rstrip("/") + "/files/")
        claim = read_file_token(link.rsplit("/", 1)[1])
        report, data = recorded_file(claim)
        assert Path(report.path).read_bytes() == data and claim.name.startswith(title)
    # a file changed after the run is no longer served: its recorded SHA-256 no longer matches
    (tmp_path / "out" / "summary.json").write_text("{}", encoding="utf-8")
    link = dict(run_links(profile, outcome))["2025Q3 汇总数据"]
    assert link is not None
    with pytest.raises(DownloadRefused):
        recorded_file(read_file_token(link.rsplit("/", 1)[1]))
