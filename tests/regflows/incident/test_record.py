"""The incident record: aware times in order, masked free text, errors that name the field."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from regflows.incident.record import (
    IncidentRecord,
    IncidentRecordError,
    check_against_profile,
    load_record,
    resolve_institution,
    validate_record,
)
from regflows.profile import Profile, load_profile

FIXTURES = Path(__file__).parent / "fixtures" / "incidents"
DEMO = Path(__file__).resolve().parents[3] / "profiles" / "demo.yaml"
BJ = dt.timezone(dt.timedelta(hours=8))


def data(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "title": "网银中断",
        "occurred_at": "2025-09-30T09:00:00+08:00",
        "discovered_at": "2025-09-30T09:10:00+08:00",
        "discovered_by": "监控中心",
        "system_name": "网上银行",
        "category": "equipment_failure",
    }
    return {**base, **changes}


def problems(**changes: Any) -> str:
    with pytest.raises(IncidentRecordError) as info:
        validate_record(data(**changes))
    return str(info.value)


@pytest.fixture(scope="module")
def demo() -> Profile:
    return load_profile(DEMO)


def test_minimal_record_defaults() -> None:
    r = validate_record(data())
    assert r.occurred_at == dt.datetime(2025, 9, 30, 9, 0, tzinfo=BJ)
    assert (r.institution, r.pfi, r.cii, r.important_system, r.drill, r.police_contacted) == (None, None, False, False, False, False)
    assert r.pfi_involved is False and r.subjects_at_risk is False


def test_every_field_has_chinese_title_and_description() -> None:
    from regflows.incident.record import Outage, PfiInvolvement

    for model in (IncidentRecord, Outage, PfiInvolvement):
        for name, field in model.model_fields.items():
            assert field.title and any("\u4e00" <= c <= "\u9fff" for c in field.title), name
            assert field.description and any("\u4e00" <= c <= "\u9fff" for c in field.description), name
    schema = IncidentRecord.model_json_schema()  # the Prefect UI form is rendered from this
    assert schema["properties"]["discovered_at"]["title"] == "发现时间"


@pytest.mark.parametrize("field", ["occurred_at", "discovered_at", "confirmed_at", "response_ended_at", "handling_ended_at"])
def test_naive_time_refused_naming_the_field(field: str) -> None:
    message = problems(**{field: "2025-09-30T12:00:00"})
    assert field in message and "时区偏移" in message


def test_epoch_and_bare_date_refused() -> None:
    assert "ISO 8601" in problems(occurred_at=1759194000)
    assert "discovered_at" in problems(discovered_at="2025-09-30")


def test_other_offsets_accepted_as_instants() -> None:
    r = validate_record(data(occurred_at="2025-09-30T01:00:00Z", discovered_at="2025-09-30T09:10:00+08:00"))
    assert r.occurred_at == dt.datetime(2025, 9, 30, 9, 0, tzinfo=BJ)


def test_discovered_before_occurred_refused() -> None:
    message = problems(discovered_at="2025-09-30T08:59:59+08:00")
    assert "discovered_at" in message and "「发现时间」（discovered_at）：" in message and "早于「发生时间」（occurred_at）" in message


@pytest.mark.parametrize("field", ["confirmed_at", "response_ended_at", "handling_ended_at"])
def test_later_times_not_before_discovery(field: str) -> None:
    message = problems(**{field: "2025-09-30T09:05:00+08:00"})
    assert field in message and "早于「发现时间」（discovered_at）" in message
    validate_record(data(**{field: "2025-09-30T09:10:00+08:00"}))  # the same instant is fine


def test_pii_masked_in_free_text_before_storage() -> None:
    r = validate_record(
        data(
            title="客户 13812345678 投诉",
            cause="客户 110101199003071234 的卡 6222021234567890123 被盗刷，联系电话 023-67891234",
            location="网点，电话 13912345678",
            pfi={"types": ["身份证号 110101199003071234"], "subjects": 1, "high_sensitivity": True},
        )
    )
    stored = r.model_dump_json()
    for raw in ("13812345678", "110101199003071234", "6222021234567890123", "67891234", "13912345678"):
        assert raw not in stored
    assert "110101********1234" in (r.cause or "") and "138****5678" in r.title
    assert r.revised(cause=r.cause).cause == r.cause  # masking is idempotent across revisions


def test_unknown_field_and_bad_values_named() -> None:
    message = problems(severity="high", category="outage", outage={"provinces": 0, "hours": -1, "business_hours": True})
    assert "severity" in message and "未知字段" in message
    assert "category" in message and "outage" in message
    assert "outage.provinces" in message and "outage.hours" in message


def test_assessed_grade_needs_reason() -> None:
    assert "assessed_reason" in problems(assessed_grade="II")
    assert validate_record(data(assessed_grade="II", assessed_reason="舆情影响严重")).assessed_grade == "II"


def test_subjects_harm_needs_pfi_and_defaults_to_high_sensitivity() -> None:
    assert "pfi" in problems(subjects_may_be_harmed=True)
    pfi = {"types": ["手机号"], "subjects": 3, "high_sensitivity": False}
    assert validate_record(data(pfi=pfi)).subjects_at_risk is False
    assert validate_record(data(pfi=pfi, subjects_may_be_harmed=True)).subjects_at_risk is True
    high = {**pfi, "high_sensitivity": True}
    assert validate_record(data(pfi=high)).subjects_at_risk is True
    assert validate_record(data(pfi=high, subjects_may_be_harmed=False)).subjects_at_risk is False  # TENPAY 5 exception


def test_cii_admin_compromise_needs_cii() -> None:
    assert "cii" in problems(compromise="cii_admin")
    assert validate_record(data(compromise="cii_admin", cii=True)).compromise == "cii_admin"


def test_record_is_frozen_and_revised_revalidates() -> None:
    r = validate_record(data())
    with pytest.raises(ValidationError, match="frozen"):
        r.title = "x"  # type: ignore[misc]
    with pytest.raises(Exception) as info:
        r.revised(handling_ended_at=dt.datetime(2025, 9, 30, 9, 0))
    assert "handling_ended_at" in str(info.value)


def test_institution_resolved_against_profile(demo: Profile) -> None:
    assert resolve_institution(validate_record(data()), demo).code == "YX0001"  # the head office
    assert resolve_institution(validate_record(data(institution="YX0101")), demo).name == "渝信示范银行成都分行"
    with pytest.raises(IncidentRecordError) as info:
        check_against_profile(validate_record(data(institution="ZZ9999")), demo)
    assert "institution" in str(info.value) and "ZZ9999" in str(info.value) and "YX0001" in str(info.value)


def test_cii_refused_without_cii_operator(demo: Profile) -> None:
    not_cii = demo.model_copy(update={"institution": demo.institution.model_copy(update={"cii_operator": False})})
    record = validate_record(data(cii=True))
    assert check_against_profile(record, demo).code == "YX0001"
    with pytest.raises(IncidentRecordError) as info:
        check_against_profile(record, not_cii)
    assert "cii" in str(info.value) and "cii_operator" in str(info.value)
    assert check_against_profile(validate_record(data()), not_cii).code == "YX0001"


def test_load_record_from_file() -> None:
    r = load_record(FIXTURES / "grade-i-cii-outage.json")
    assert r.institution == "YX0101" and r.outage is not None and r.outage.hours == 3
    assert "110101199003071234" not in (r.cause or "")


def test_file_errors_name_field_and_line() -> None:
    with pytest.raises(IncidentRecordError) as info:
        load_record(FIXTURES / "naive-time.json")
    assert "naive-time.json 第 4 行 「发现时间」（discovered_at）" in str(info.value)
    with pytest.raises(IncidentRecordError) as info:
        load_record(FIXTURES / "bad-fields.json")
    text = str(info.value)
    assert "bad-fields.json 第 7 行 「事件分类」（category）：取值无效 'outage'" in text
    assert "bad-fields.json 第 9 行 「受影响的省级行政区数量」（outage.provinces）" in text


def test_json_syntax_error_and_missing_file() -> None:
    with pytest.raises(IncidentRecordError) as info:
        load_record(FIXTURES / "not-json.json")
    assert "not-json.json 第 4 行：JSON 语法错误" in str(info.value)
    with pytest.raises(IncidentRecordError) as info:
        load_record(FIXTURES / "absent.json")
    assert "文件不存在" in str(info.value)
    with pytest.raises(IncidentRecordError) as info:
        validate_record("[1, 2]", "x.json")
    assert "顶层必须是 JSON 对象" in str(info.value)


def test_missing_required_fields_listed() -> None:
    with pytest.raises(IncidentRecordError) as info:
        validate_record('{\n  "title": "x"\n}', "r.json")
    text = str(info.value)
    for field in ("occurred_at", "discovered_at", "discovered_by", "system_name", "category"):
        assert f"{field}" in text
    assert "缺少必填项" in text


def test_list_and_number_fields_are_bounded() -> None:
    """Issue 13 (8): list and text fields have bounds; an absurd count is a typo, named."""
    import pytest

    from regflows.incident.record import IncidentRecordError, validate_record

    base = {"title": "客户信息泄露", "occurred_at": "2025-09-29T22:00:00+08:00", "discovered_at": "2025-09-30T10:00:00+08:00",
            "discovered_by": "李明", "system_name": "客户关系管理系统", "category": "network_attack"}
    for pfi, field in [({"types": ["手机号"] * 51, "subjects": 1, "high_sensitivity": False}, "pfi.types"),
                       ({"types": ["x" * 101], "subjects": 1, "high_sensitivity": False}, "pfi.types"),
                       ({"types": ["手机号"], "subjects": 10**12, "high_sensitivity": False}, "pfi.subjects")]:
        with pytest.raises(IncidentRecordError, match=field.replace(".", r"\.")):
            validate_record(base | {"pfi": pfi})
