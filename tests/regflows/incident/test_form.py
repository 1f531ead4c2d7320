"""The incident-response form (issue 14, 1 and 5): Beijing time, Chinese choices, the strict record behind it."""

from __future__ import annotations

import datetime as dt

import pytest

from regflows.incident.form import CHOICES, IncidentForm, form_from_record
from regflows.incident.record import IncidentRecordError, check_times, validate_record

BASE = {"title": "网银系统中断", "discovered_at": "2026-11-26 19:50", "occurred_at": "2026-11-26 19:30",
        "category": "设备设施故障", "system_name": "网上银行系统", "discovered_by": "值班工程师"}


def test_a_typed_time_is_beijing_time_and_stored_with_its_offset() -> None:
    record = IncidentForm.model_validate(BASE).to_record()
    assert record.discovered_at.isoformat() == "2026-11-26T19:50:00+08:00"
    assert record.model_dump(mode="json")["discovered_at"] == "2026-11-26T19:50:00+08:00"
    assert record.category == "equipment_failure"
    # A time typed with an offset keeps its instant (and is stored in Beijing time).
    utc = IncidentForm.model_validate({**BASE, "discovered_at": "2026-11-26T11:50:00Z"}).to_record()
    assert utc.model_dump(mode="json")["discovered_at"] == "2026-11-26T19:50:00+08:00"


def test_the_form_flattens_the_optional_objects_and_reads_empty_as_not_given() -> None:
    form = IncidentForm.model_validate({**BASE, "important_system": True, "business_hours": True, "outage_provinces": 2,
                                        "outage_hours": 1.5, "pfi_types": "身份证号、手机号", "pfi_subjects": 30,
                                        "compromise": "重要信息系统被入侵", "public_concern": "是"})
    record = form.to_record()
    assert record.outage is not None and record.outage.business_hours and record.outage.provinces == 2
    assert record.pfi is not None and record.pfi.types == ["身份证号", "手机号"] and record.pfi.subjects == 30
    assert record.compromise == "important_system_intruded" and record.public_concern is True
    assert record.location is None and record.confirmed_at is None and record.data_incident is None


def test_the_reporting_unit_is_chosen_by_its_label_and_kept_as_its_code() -> None:
    units = {"HQ01": "示范银行总行（HQ01）", "CQ01": "示范银行重庆分行（CQ01）"}
    assert IncidentForm.model_validate({**BASE, "institution": "示范银行重庆分行（CQ01）"}).to_record(units).institution == "CQ01"
    assert IncidentForm.model_validate({**BASE, "institution": "CQ01"}).to_record(units).institution == "CQ01"  # the code too
    assert IncidentForm.model_validate(BASE).to_record(units).institution is None  # empty: the head office
    with pytest.raises(IncidentRecordError, match="「报告单位」应为以下之一"):
        IncidentForm.model_validate({**BASE, "institution": "成都分行"}).to_record(units)
    record = IncidentForm.model_validate({**BASE, "institution": "CQ01"}).to_record(units)
    assert form_from_record(record, units).institution == "示范银行重庆分行（CQ01）"  # what the CLI and POST send
    assert form_from_record(IncidentForm.model_validate(BASE).to_record(), units).institution == "示范银行总行（HQ01）"


def test_problems_are_chinese_and_name_the_field() -> None:
    form = IncidentForm.model_validate({**BASE, "discovered_at": "明天", "system_name": " ", "outage_hours": 2})
    with pytest.raises(IncidentRecordError) as caught:
        form.to_record()
    text = str(caught.value)
    assert "「发现时间（北京时间）」应为北京时间" in text and "「系统名称」必填" in text and "省级行政区数量" in text


def test_a_future_time_from_the_form_is_refused_in_chinese() -> None:
    record = IncidentForm.model_validate({**BASE, "discovered_at": "2026-11-27 03:50"}).to_record()
    with pytest.raises(IncidentRecordError) as caught:
        check_times(record, dt.datetime(2026, 11, 26, 20, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))))
    assert "「发现时间」（discovered_at）2026-11-27T03:50:00+08:00 晚于当前时间" in str(caught.value)


def test_a_future_time_is_refused_against_now_in_beijing_time() -> None:
    """Review of issue 14, 11: "now" read 「晚于当前时间 2026-11-26T23:09:59+00:00」 (the server's UTC)."""
    record = IncidentForm.model_validate({**BASE, "discovered_at": "2026-11-27 03:50"}).to_record()
    with pytest.raises(IncidentRecordError) as caught:
        check_times(record, dt.datetime(2026, 11, 26, 12, 0, 59, tzinfo=dt.timezone.utc))
    assert "晚于当前时间 2026-11-26 20:00（北京时间）：" in str(caught.value) and "+00:00" not in str(caught.value)


def test_json_callers_stay_strict_and_reach_the_same_record_through_the_form(rec) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(IncidentRecordError, match="没有时区偏移"):
        validate_record({"title": "x", "occurred_at": "2025-10-01T09:00:00", "discovered_at": "2025-10-01T09:10:00+08:00",
                         "discovered_by": "a", "system_name": "s", "category": "other"})
    record = rec(outage={"provinces": 1, "hours": 2, "business_hours": True}, compromise="other_system_admin",
                 credit_info_events=["illegal_provision", "report_leak"], cause="客户 13812345678 报告")
    form = form_from_record(record)
    assert form.category in CHOICES["category"].values() and form.compromise == "其他信息系统被入侵并获取管理权限"
    assert form.to_record() == record
