"""The annual rating flows against a real Prefect server (issue 16, items 5 and 6): the year's run
with its artifact of the five parts against their maxima and the comparison with last year; a
newly connected year refused in Chinese; the watch owing and reminding the self-assessment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from regflows.profile import DEMO_PROFILE


def _evidence(path: Path, year: int, items: dict[str, dict[str, Any]]) -> Path:
    from regflows.rating.model import load_model

    model = load_model()
    data = {"year": year, "items": {i.id: items.get(i.id, {}) for i in model.items},
            "provenance": {i.id: {"source": "自评工作组", "confirmed_by": "sun.li", "confirmed_at": f"{year + 1}-01-12"} for i in model.items},
            "downgrade_conditions": [], "zero_conditions": []}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _profile(path: Path, monkeypatch: pytest.MonkeyPatch, **institution: Any) -> Path:
    data = yaml.safe_load(DEMO_PROFILE.read_text(encoding="utf-8"))
    data["institution"].update(institution)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("REGFLOWS_PROFILE", str(path))
    return path


@pytest.mark.prefect
def test_the_year_runs_on_the_server_with_its_artifact_and_the_watch_reminds(prefect_api: str, home: Path, tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch, artifact_texts: Any) -> None:
    from flows.rating import rating_self_assessment, rating_watch

    _profile(tmp_path / "profile.yaml", monkeypatch)
    _evidence(home / "rating" / "evidence-2025.yaml", 2025, {"8.1": {"unauthorized_queries": 2}})
    _evidence(home / "rating" / "evidence-2024.yaml", 2024, {})  # last year's, beside it: compared
    result = rating_self_assessment(year="2025")
    assert (result["score"], result["grade"], result["unconfirmed"]) == ("95", "A", [])
    out = home / "reports" / "rating" / "2025"
    assert {Path(p).name for p in result["files"].values()} == {"rating-self-assessment-2025.docx", "rating-score-sheet-2025.xlsx",
                                                                "summary.json"}
    assert all((out / Path(p).name).is_file() for p in result["files"].values())
    texts = artifact_texts(prefect_api, "rating-self-assessment")
    text = next(t for t in texts if "2025年度" in t)
    assert "| 三、征信业务合规操作 | 30 | 28 | 2 |" in text and "| 合计 | 100 | 95 | 5 |" in text
    assert "与 2024 年度比较：97 → 95 分（-2）" in text

    watched = rating_watch(day="2026-01-05")
    assert watched == {"signoff": [], "reminders": ["rating:2025:rating_self_assessment:working-day@2026-01-05"]}


@pytest.mark.prefect
def test_a_newly_connected_year_fails_the_run_in_chinese(prefect_api: str, home: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.exceptions import FailedRun

    from flows.rating import rating_self_assessment

    _profile(tmp_path / "profile.yaml", monkeypatch, credit_connected_on="2025-05-20")
    _evidence(home / "rating" / "evidence-2025.yaml", 2025, {})
    with pytest.raises(FailedRun, match="对当年新接入机构不进行考核评级"):
        rating_self_assessment(year="2025")
    assert not (home / "reports" / "rating" / "2025").exists()


@pytest.mark.prefect
def test_a_missing_evidence_file_fails_the_run_saying_how_to_write_it(prefect_api: str, home: Path, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.exceptions import FailedRun

    from flows.rating import rating_self_assessment

    _profile(tmp_path / "profile.yaml", monkeypatch)
    with pytest.raises(FailedRun, match="regflows rating template --year 2024"):
        rating_self_assessment(year="2024")
