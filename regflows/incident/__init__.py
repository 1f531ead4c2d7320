"""Incident response (issue 6; digest sections 1.1-1.3 and 7).

The pure regulatory core, usable without Prefect or the store:

- :mod:`regflows.incident.record`: the incident record (the UI form, the CLI's JSON, the HTTP
  body), validated and masked;
- :mod:`regflows.incident.grading`: grade I-IV by the NFRA appendix, warning colour, response
  level and who leads and ends it by CQ-PLAN (rules in ``rules/grading.yaml``);
- :mod:`regflows.incident.clock`: the obligations with their due times and states (versioned
  rules in ``rules/obligations-<version>.yaml``);
- :mod:`regflows.incident.cli`: ``regflows incident grade|clock``;
- :mod:`regflows.incident.notices`: its notice kinds (the alert, the approval to close).

The names below are loaded on first use, so importing one submodule (the reminder watcher, the
CLI) does not import the others. The one exception is :mod:`regflows.incident.notices`: loading
any part of the procedure registers its notice kinds, so that a flow run in a worker process, or
any module that sends, never meets an unknown kind (regflows/procedures.py).
"""

from __future__ import annotations

import importlib
from typing import Any

from regflows.incident import notices as _notices  # noqa: F401  (registers the procedure's notice kinds)
from regflows.incident import yearfacts as _yearfacts  # noqa: F401  (registers the year's incidents for the rating: regflows/kit/yearfacts.py)

_EXPORTS = {
    "IncidentRecord": "record",
    "IncidentRecordError": "record",
    "load_record": "record",
    "validate_record": "record",
    "check_against_profile": "record",
    "resolve_institution": "record",
    "Grading": "grading",
    "grade": "grading",
    "regrade": "grading",
    "Obligation": "clock",
    "obligations": "clock",
    "ClockError": "clock",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
