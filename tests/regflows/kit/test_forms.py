"""Form values read as people mean them (issue 14, 1): Beijing time unless an offset is given."""

from __future__ import annotations

import datetime as dt

import pytest

from regflows.kit.forms import FormError, choice_code, form_time, optional_text


def test_plain_time_is_beijing_time() -> None:
    got = form_time("2026-11-26 19:50", "发现时间")
    assert got is not None and got.utcoffset() == dt.timedelta(hours=8)
    assert got.astimezone(dt.timezone.utc) == dt.datetime(2026, 11, 26, 11, 50, tzinfo=dt.timezone.utc)


def test_offset_is_kept_and_full_width_colon_read() -> None:
    assert form_time("2026-11-26T11:50:00Z", "x") == dt.datetime(2026, 11, 26, 11, 50, tzinfo=dt.timezone.utc)
    assert form_time("2026-11-26 19：50", "x") == form_time("2026-11-26 19:50", "x")


@pytest.mark.parametrize("text", ["", "   ", None])
def test_empty_is_not_given(text: str | None) -> None:
    assert form_time(text, "x") is None and optional_text(text) is None


@pytest.mark.parametrize("text", ["26/11/2026 19:50", "2026-02-30 10:00", "1764157800", "tomorrow"])
def test_unreadable_time_names_the_field(text: str) -> None:
    with pytest.raises(FormError, match="「发现时间」"):
        form_time(text, "发现时间")


def test_choice_by_chinese_name_or_code() -> None:
    names = {"equipment_failure": "设备设施故障", "other": "其他事件"}
    assert choice_code("设备设施故障", names, "类别") == "equipment_failure"
    assert choice_code("other", names, "类别") == "other"
    with pytest.raises(FormError, match="「类别」应为以下之一：设备设施故障、其他事件"):
        choice_code("故障", names, "类别")
