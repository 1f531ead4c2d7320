"""A declaration recorded for the run it started (regflows/incident/declaration.py): that run goes
on with it; any other declaration of the same incident is refused, as before (issue 14, 2)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from regflows.incident import store
from regflows.incident.declaration import record_declaration
from regflows.incident.record import IncidentRecord
from regflows.store import migrate


def test_the_run_a_declaration_started_goes_on_with_its_incident_and_no_other_does(home: Path, rec: Callable[..., IncidentRecord]) -> None:
    migrate()
    record = rec(title="网银中断")
    first = record_declaration(record, "HQ", "monitoring", run_key="ingest:a")
    assert first.created and not first.duplicate
    again = record_declaration(record, "HQ", "cli", run_key="ingest:a")  # the run the endpoint started, when it runs
    assert (again.incident_id, again.created, again.duplicate) == (first.incident_id, False, False)
    assert again.grading == first.grading and again.record == first.record
    assert record_declaration(record, "HQ", "cli", run_key="ingest:b").duplicate  # another run: a second declaration
    assert record_declaration(record, "HQ", "cli").duplicate  # a run of no key (the UI form, the CLI)
    assert [e.kind for e in store.timeline(first.incident_id)].count("recorded") == 1
