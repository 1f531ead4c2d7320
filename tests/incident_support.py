"""A minimal valid incident record for rule tests, with the facts under test changed."""

from __future__ import annotations

from typing import Any

from regflows.incident.record import IncidentRecord, validate_record

BASE_RECORD: dict[str, Any] = {
    "title": "事件",
    "occurred_at": "2025-09-30T09:00:00+08:00",
    "discovered_at": "2025-09-30T09:10:00+08:00",
    "discovered_by": "监控中心",
    "system_name": "核心业务系统",
    "category": "other",
}


def rec(**changes: Any) -> IncidentRecord:
    return validate_record({**BASE_RECORD, **changes})
