"""Fixtures of the incident tests: a minimal valid incident record with the facts under test changed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from regflows.incident.record import IncidentRecord, validate_record

BASE_RECORD: dict[str, Any] = {
    "title": "事件",
    "occurred_at": "2025-09-30T09:00:00+08:00",
    "discovered_at": "2025-09-30T09:10:00+08:00",
    "discovered_by": "监控中心",
    "system_name": "核心业务系统",
    "category": "other",
}


def _rec(**changes: Any) -> IncidentRecord:
    return validate_record({**BASE_RECORD, **changes})


@pytest.fixture
def rec() -> Callable[..., IncidentRecord]:
    """A function that returns a minimal valid record for rule tests: ``rec(**changes)``."""
    return _rec
