"""The rated year, its due days and the objection window (regflows/rating/schedule.py; issue 16,
item 6): 第九条's newly connected year refused, 第十条's 31 January rolled forward over a
holiday, 第十一条's local day as a setting, 第十条（四）'s 7 working days across National Day."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from regflows.rating.schedule import not_rated, objection_due, previous_year, submission_due


def test_the_deadline_on_a_holiday_rolls_forward_to_the_next_working_day(tmp_path: Path, demo_with: Callable[..., Any]) -> None:
    national = demo_with(tmp_path / "p.yaml", institution={"credit_access": "national_head_office"})
    # 2022-01-31 is the first day of the Spring Festival (2022-01-31 to 02-06): the 2021 self-assessment is due 2022-02-07
    deadline, clause = submission_due(2021, national.institution, national.settings)
    assert (deadline.last_day, deadline.moved_from, clause) == (dt.date(2022, 2, 7), dt.date(2022, 1, 31), "PBOC-102 附件3 第十条（一）")
    assert "顺延至 2022-02-07" in deadline.basis
    # 2024-01-31 is a Wednesday: not moved
    assert submission_due(2023, national.institution, national.settings)[0].last_day == dt.date(2024, 1, 31)


def test_a_local_institution_uses_the_profiles_day_rolled_forward(tmp_path: Path, demo_with: Callable[..., Any]) -> None:
    local = demo_with(tmp_path / "p.yaml", settings={"rating_local_submission_due": "02-15"})
    assert local.institution.credit_access == "local"
    deadline, clause = submission_due(2025, local.institution, local.settings)
    # 2026-02-15 is in the Spring Festival (02-15 to 02-23): the next working day is 02-24
    assert (deadline.last_day, clause) == (dt.date(2026, 2, 24), "PBOC-102 附件3 第十一条（参照第十条（一））")
    default = demo_with(tmp_path / "d.yaml")
    assert submission_due(2024, default.institution, default.settings)[0].last_day == dt.date(2025, 2, 5)  # 01-31 … 02-04 Spring Festival


def test_an_impossible_local_day_is_refused(tmp_path: Path, demo_with: Callable[..., Any]) -> None:
    from regflows.profile import ProfileError

    with pytest.raises(ProfileError, match="rating_local_submission_due"):
        demo_with(tmp_path / "p.yaml", settings={"rating_local_submission_due": "02-30"})


def test_29_february_is_refused_by_profile_check(tmp_path: Path, demo_with: Callable[..., Any]) -> None:
    """02-29 exists only in leap years: refused by the profile, naming the field, not an invalid date later."""
    from typer.testing import CliRunner

    from regflows.cli import app
    from regflows.profile import ProfileError

    with pytest.raises(ProfileError, match="rating_local_submission_due 不能为 02-29"):
        demo_with(tmp_path / "p.yaml", settings={"rating_local_submission_due": "02-29"})
    checked = CliRunner().invoke(app, ["profile", "check", str(tmp_path / "p.yaml")])
    assert checked.exit_code == 2 and "rating_local_submission_due" in checked.output, checked.output


def test_the_objection_window_runs_7_working_days_across_national_day() -> None:
    # feedback on Friday 2025-09-26: 09-28 (a make-up working Sunday), 09-29, 09-30, 10-09, 10-10, 10-11 (make-up Saturday), 10-13
    deadline = objection_due(dt.date(2025, 9, 26))
    assert deadline.last_day == dt.date(2025, 10, 13) and deadline.label() == "2025-10-13 24:00"


def test_a_year_of_new_connection_is_not_rated(tmp_path: Path, demo_with: Callable[..., Any]) -> None:
    profile = demo_with(tmp_path / "p.yaml", institution={"credit_connected_on": "2025-06-01"})
    why = not_rated(profile.institution, 2025)
    assert why is not None and "新接入" in why and "第九条" in why and "2025-06-01" in why
    assert "尚未接入" in (not_rated(profile.institution, 2024) or "")
    assert not_rated(profile.institution, 2026) is None
    assert not_rated(demo_with(tmp_path / "q.yaml").institution, 2025) is None  # no connection day: connected long ago
    assert "不是征信接入机构" in (not_rated(demo_with(tmp_path / "n.yaml", institution={"credit_access": "none"}).institution, 2025) or "")


def test_the_year_rated_is_the_previous_calendar_year() -> None:
    assert previous_year(dt.date(2026, 1, 5)) == 2025 and previous_year(dt.date(2026, 12, 31)) == 2025
