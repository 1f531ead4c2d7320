"""Settings (issue 11 item 4): one model per procedure inside the profile, each setting defined
once with its default, description and clause; the profile YAML keeps its flat ``settings:``
format; the procedures read the one definition, with no default of their own."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from regflows.credit.models import Thresholds
from regflows.credit.settings import thresholds
from regflows.incident.clock import setting
from regflows.profile import DEMO_PROFILE, ProfileError, load_profile
from regflows.settings import CoreSettings, CreditSettings, DrillSettings, IncidentSettings, InspectionSettings, RatingSettings, Settings

PARTS = (CoreSettings, IncidentSettings, CreditSettings, InspectionSettings, RatingSettings, DrillSettings)


def test_each_setting_is_defined_in_exactly_one_settings_model() -> None:
    names = [name for part in PARTS for name in part.model_fields]
    assert len(names) == len(set(names)), sorted({n for n in names if names.count(n) > 1})
    assert set(names) == set(Settings.model_fields)
    for part in PARTS:  # each part defines only its own fields: no part inherits from another
        assert part.__mro__[1].__name__ == "_Strict", part


@pytest.mark.parametrize("name", list(Settings.model_fields))
def test_each_setting_has_a_description_and_a_clause(name: str) -> None:
    field = Settings.model_fields[name]
    assert field.description and isinstance(field.json_schema_extra, dict)
    assert str(field.json_schema_extra["clause"]).strip()


def test_demo_profile_loads_unchanged() -> None:
    written = yaml.safe_load(DEMO_PROFILE.read_text(encoding="utf-8"))["settings"]
    profile = load_profile(DEMO_PROFILE)
    assert profile.settings.model_dump(exclude_unset=True) == written  # flat keys, as written
    assert profile.settings.credit_preparer == "he.min" and profile.settings.ack_wait_minutes["II"] == 10
    assert profile.settings.immediate_report_minutes == 60 and profile.settings.credit_daily_query_limit == 250  # defaults
    assert isinstance(profile.settings, (CoreSettings, IncidentSettings, CreditSettings))


def test_an_unknown_setting_is_refused_with_its_line(tmp_path: Path) -> None:
    text = DEMO_PROFILE.read_text(encoding="utf-8").replace(
        "  calendar_horizon_days: 60\n", "  calendar_horizon_days: 60\n  credit_daily_limit: 100\n"
    )
    path = tmp_path / "profile.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ProfileError, match="settings.credit_daily_limit"):
        load_profile(path)


def test_procedures_read_the_one_definition() -> None:
    """No procedure keeps a default of its own: without a profile they read the settings' defaults."""
    assert all(f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
               for f in dataclasses.fields(Thresholds))
    th, credit = thresholds(), CreditSettings()
    assert (th.daily_limit, th.repeat_limit, th.repeat_window_days) == (
        credit.credit_daily_query_limit, credit.credit_repeat_subject_limit, credit.credit_repeat_window_days)
    assert th.work_start.isoformat() == credit.credit_work_start and th.work_end.isoformat() == credit.credit_work_end
    assert list(th.reason_codes) == credit.credit_reason_codes
    assert list(th.enterprise_reason_codes) == credit.credit_enterprise_reason_codes
    incident = IncidentSettings()
    for name in IncidentSettings.model_fields:
        assert setting(None, name) == getattr(incident, name)
    assert setting(None, "deadline_roll_forward") is CoreSettings().deadline_roll_forward


def test_a_profile_value_replaces_the_default() -> None:
    profile = load_profile(DEMO_PROFILE)
    changed = profile.model_copy(update={"settings": Settings(credit_daily_query_limit=120, due_soon_minutes=45)})
    assert thresholds(changed.settings).daily_limit == 120 and setting(changed, "due_soon_minutes") == 45


def test_the_centralised_range_must_be_in_order() -> None:
    """附件3 5.1's 150-250: a profile that swaps the bounds would flag every centralised user."""
    assert InspectionSettings().inspection_centralised_min_daily == 150
    with pytest.raises(ValueError, match="inspection_centralised_min_daily 不能大于"):
        InspectionSettings(inspection_centralised_min_daily=300)
