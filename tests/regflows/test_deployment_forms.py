"""Every deployment's form as registered (issue 14, 5): Chinese labels, Chinese choices, no
"type None" toggles, at most ten required fields listed first, the people as choices."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest

from regflows.deployments import read_prefect_yaml, to_runner_deployments
from regflows.profile import DEMO_PROFILE, load_profile

ROOT = Path(__file__).resolve().parents[2]
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def schemas() -> dict[str, dict[str, Any]]:
    specs = read_prefect_yaml(ROOT / "prefect.yaml")
    deployments, _ = to_runner_deployments(specs, ROOT, dt.date(2026, 11, 26), load_profile(DEMO_PROFILE))
    return {d.name: d._parameter_openapi_schema.model_dump() for d in deployments}


def _properties(schema: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every property of the form, those of nested models (definitions) included."""
    out = [(name, prop) for name, prop in (schema.get("properties") or {}).items()]
    for model, definition in (schema.get("definitions") or {}).items():
        out += [(f"{model}.{name}", prop) for name, prop in (definition.get("properties") or {}).items()]
    return out


def _nodes(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        return [node] + [n for v in node.values() for n in _nodes(v)]
    if isinstance(node, list):
        return [n for v in node for n in _nodes(v)]
    return []


def test_every_parameter_of_every_deployment_is_labelled_and_helped_in_chinese(schemas) -> None:  # type: ignore[no-untyped-def]
    assert "credit-stats" in schemas and "incident-fulfil" in schemas
    bad = [f"{dep}: {name}" for dep, schema in schemas.items() for name, prop in _properties(schema)
           if not CJK.search(prop.get("title") or "") or not CJK.search(prop.get("description") or "")]
    assert bad == []


def test_choices_are_chinese_and_nothing_is_optional_none(schemas) -> None:  # type: ignore[no-untyped-def]
    for dep, schema in schemas.items():
        for node in _nodes(schema):
            for value in node.get("enum") or []:
                assert CJK.search(str(value)), f"{dep}: choice {value!r} is not Chinese"
            for key in ("anyOf", "oneOf"):
                assert not any(option.get("type") == "null" for option in node.get(key) or []), f"{dep}: {key} with null"


def test_required_fields_come_first_and_are_at_most_ten(schemas) -> None:  # type: ignore[no-untyped-def]
    for dep, schema in schemas.items():
        forms = [schema] + list((schema.get("definitions") or {}).values())
        required = sum(len(f.get("required") or []) for f in forms)
        assert required <= 10, f"{dep}: {required} required fields"
        top = sorted(schema["properties"], key=lambda n: schema["properties"][n]["position"])
        for form, order in [(schema, top)] + [(d, list(d["properties"])) for d in forms[1:]]:
            needed = set(form.get("required") or [])
            assert order[:len(needed)] == [n for n in order if n in needed], f"{dep}: required fields not first: {order}"


def _drawn(schema: dict[str, Any]) -> list[tuple[str, bool]]:
    """The form's fields in the order the UI draws them, each with whether it is required: the
    parameters by ``position``, a nested form's fields in its place."""
    out: list[tuple[str, bool]] = []
    for name in sorted(schema["properties"], key=lambda n: schema["properties"][n]["position"]):
        prop, required = schema["properties"][name], name in (schema.get("required") or [])
        ref = prop.get("$ref") or next((o.get("$ref") for o in prop.get("allOf") or [] if "$ref" in o), None)
        if ref:
            nested = schema["definitions"][ref.rsplit("/", 1)[1]]
            out += [(f"{name}.{n}", required and n in (nested.get("required") or [])) for n in nested["properties"]]
        else:
            out.append((name, required))
    return out


def test_the_drawn_form_shows_every_required_field_before_any_optional_one(schemas) -> None:  # type: ignore[no-untyped-def]
    """Review of issue 14, 14: 「申报人」 (required) was drawn after ~25 optional fields of the nested
    incident form; a person scrolling past them missed it and met ``'declared_by' is a required property``."""
    for dep, schema in schemas.items():
        drawn = _drawn(schema)
        first_optional = next((i for i, (_, required) in enumerate(drawn) if not required), len(drawn))
        late = [name for name, required in drawn[first_optional:] if required]
        assert late == [], f"{dep}: required fields drawn after optional ones: {late}"
    assert _drawn(schemas["incident-response"])[0] == ("declared_by", True)


def test_the_form_s_text_fields_are_as_long_as_the_record_allows(schemas) -> None:  # type: ignore[no-untyped-def]
    """Review of issue 14, 14: a 3000-character title was accepted by the form and refused only
    after submitting; the UI now refuses it before, at the record's own limit."""
    from annotated_types import MaxLen

    from regflows.incident.record import IncidentRecord

    form = schemas["incident-response"]["definitions"]["IncidentForm"]["properties"]
    assert form["title"]["maxLength"] == 200
    for name, prop in form.items():
        field = IncidentRecord.model_fields.get(name)
        limits = [m.max_length for m in (field.metadata if field else []) if isinstance(m, MaxLen)]
        if prop.get("type") == "string" and limits:
            assert prop.get("maxLength") == limits[0], name


def test_the_decisive_switches_are_near_the_top_and_times_say_beijing(schemas) -> None:  # type: ignore[no-untyped-def]
    form = schemas["incident-response"]["definitions"]["IncidentForm"]["properties"]
    order = list(form)
    assert {"important_system", "business_hours", "cii"} <= set(order[:10])
    assert all("（北京时间）" in form[n]["title"] and form[n]["type"] == "string"
               for n in ("occurred_at", "discovered_at", "confirmed_at", "recovered_at", "handling_ended_at"))
    assert "设备设施故障" in form["category"]["enum"]


def test_declared_by_is_chosen_from_the_profiles_people_by_name(schemas) -> None:  # type: ignore[no-untyped-def]
    people = load_profile(DEMO_PROFILE).people
    declared = schemas["incident-response"]["properties"]["declared_by"]
    assert {f"{p.name}（{p.id}）" for p in people} <= set(declared["enum"])
    assert "declared_by" in schemas["incident-response"]["required"]
    participants = schemas["incident-response"]["properties"]["drill_participants"]
    assert set(participants["items"]["enum"]) == {f"{p.name}（{p.id}）" for p in people}
    assert set(schemas["incident-fulfil"]["properties"]["by"]["enum"]) == {f"{p.name}（{p.id}）" for p in people}


def test_the_reporting_unit_is_chosen_by_name_the_head_office_first_and_by_default(schemas) -> None:  # type: ignore[no-untyped-def]
    profile = load_profile(DEMO_PROFILE)
    [unit] = [p for name, p in _properties(schemas["incident-response"]) if name == "IncidentForm.institution"]
    labels = [f"{u.name}（{u.code}）" for u in profile.reporting_units]
    assert sorted(unit["enum"]) == sorted(labels) and unit["default"] == unit["enum"][0]
    assert unit["enum"][0] == f"{profile.head_office.name}（{profile.head_office.code}）"
    assert CJK.search(unit["title"])


@pytest.mark.prefect
def test_what_the_cli_and_post_incidents_send_fits_the_registered_form(prefect_api: str) -> None:
    """The server enforces the registered schema: the strict record in the form's shape, a system
    declarer and people by label are accepted; a declarer outside the choices is not."""
    from prefect.deployments import run_deployment

    from regflows.incident.form import SYSTEM_DECLARERS, form_from_record
    from regflows.incident.record import validate_record

    profile = load_profile(DEMO_PROFILE)
    specs = [s for s in read_prefect_yaml(ROOT / "prefect.yaml") if s.name == "incident-response"]
    [deployment], _ = to_runner_deployments(specs, ROOT, dt.date(2026, 11, 26), profile)
    deployment.apply()
    record = validate_record({"title": "网银系统中断", "occurred_at": "2025-10-01T09:00:00+08:00",
                              "discovered_at": "2025-10-01T01:10:00Z", "discovered_by": "监控", "system_name": "网上银行系统",
                              "category": "equipment_failure", "outage": {"provinces": 1, "hours": 2, "business_hours": True}})
    first = profile.people[0]
    incident: dict[str, Any] = form_from_record(record, profile.unit_choices()).model_dump(mode="json")
    parameters = {"incident": incident,
                  "declared_by": SYSTEM_DECLARERS["monitoring"],
                  "drill_participants": [profile.people_choices()[first.id]]}
    run = run_deployment("incident-response/incident-response", parameters=parameters, timeout=0)
    assert run.parameters["incident"]["discovered_at"] == "2025-10-01T01:10:00Z"
    assert run.parameters["incident"]["category"] == "设备设施故障"
    assert run.parameters["incident"]["institution"] == profile.unit_choices()[profile.head_office.code]
    with pytest.raises(Exception, match="institution|enum|not one of|Validation"):  # a bare code is not a choice of the form
        run_deployment("incident-response/incident-response", timeout=0,
                       parameters={**parameters, "incident": {**incident, "institution": profile.head_office.code}})
    with pytest.raises(Exception, match="declared_by|enum|not one of|Validation"):
        run_deployment("incident-response/incident-response", parameters={**parameters, "declared_by": "nobody"}, timeout=0)


def test_the_obligation_is_chosen_by_its_chinese_title_from_the_rule_files(schemas) -> None:  # type: ignore[no-untyped-def]
    """Review of issue 14, 8: 「义务编号」 wanted ``regulator_initial_report`` and listed no choices."""
    from flows.incident_fulfil import OBLIGATIONS
    from regflows.incident.clock import shipped_rule_sets

    codes = {rule.id: rule for rules in shipped_rule_sets() for rule in rules.obligations}
    fulfil = schemas["incident-fulfil"]["properties"]["obligation"]
    assert set(OBLIGATIONS) == set(codes) and fulfil["enum"] == list(OBLIGATIONS.values())
    assert f"{codes['regulator_initial_report'].title}（regulator_initial_report）" in fulfil["enum"]
    waive = schemas["incident-waive"]["properties"]["obligation"]["enum"]
    waivable = {f"{r.title}（{r.id}）" for r in codes.values() if r.waivable is not None}
    assert waivable and set(waive) == waivable


def test_credit_stats_takes_its_unit_and_preparer_by_name(schemas) -> None:  # type: ignore[no-untyped-def]
    """Review of issue 14, 8: 「填表人」 refused 「何敏」 and wanted ``he.min``; 「报送单位代码」 refused
    「成都分行」 and wanted ``YX0101``. Each default is a choice of its own (a choice cannot be empty)."""
    profile = load_profile(DEMO_PROFILE)
    props = schemas["credit-stats"]["properties"]
    unit, preparer = props["unit"], props["preparer"]
    assert unit["enum"] == ["全部报送单位", *profile.unit_choices().values()] and unit["default"] == "全部报送单位"
    assert set(preparer["enum"]) == {*profile.people_choices().values(), "机构配置的填表人"}
    assert preparer["default"] == "机构配置的填表人" and CJK.search(unit["title"]) and "代码" not in unit["title"]
