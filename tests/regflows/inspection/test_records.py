"""The self-inspection's records (regflows/inspection/records.py) on both store backends."""

from __future__ import annotations

import datetime as dt

import pytest

from regflows.inspection import records
from regflows.inspection.models import Answer, InspectionInputError, Lead

AT = dt.datetime(2026, 10, 9, 2, 0, tzinfo=dt.timezone.utc)


def _leads() -> list[Lead]:
    return [
        Lead("flagged", "Q000002", "head", "li.ming", "非工作时间查询", AT, ("非工作时间查询",), {"user_id": "u1"}),
        Lead("sampled", "Q000001", "branch-cq", None, "抽查"),
    ]


def test_a_run_and_its_leads_round_trip_in_order_and_cannot_be_saved_twice(store_url: str) -> None:
    records.save_run("R1", "2026Q3", 2**63 + 5, {"seed": 2**63 + 5}, _leads(), "ab" * 32, AT, url=store_url)
    run = records.run_of("R1", store_url)
    assert run is not None and run.quarter == "2026Q3" and int(run.seed) == 2**63 + 5 and run.exported_at == AT
    assert records.leads_of("R1", store_url) == _leads()
    with pytest.raises(InspectionInputError, match="R1"):
        records.save_run("R1", "2026Q3", 1, {}, [], None, AT, url=store_url)
    assert records.leads_of("R1", store_url) == _leads()


def test_answers_are_appended_and_the_latest_counts(store_url: str) -> None:
    records.save_run("R2", "2026Q3", 1, {}, _leads(), None, AT, url=store_url)
    first = Answer("flagged:Q000002", "query", "rectify", "待核实", "li.ming", AT, "workbook", "cd" * 32)
    later = Answer("flagged:Q000002", "query", "compliant", "已核实授权书", "li.ming", AT + dt.timedelta(hours=1), "page")
    assert records.record_answers("R2", [first], store_url) == 1
    records.record_answers("R2", [later], store_url)
    assert records.answers_of("R2", store_url) == [first, later]
    assert records.latest_answers("R2", store_url) == {("flagged:Q000002", "query"): later}
    assert records.answers_of("nope", store_url) == []
