"""The composition point (regflows/procedures.py): every deployment, notice kind, command and
route belongs somewhere, and the notices layer holds no procedure's names (issue 11, item 2)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

from starlette.routing import Route
from starlette.testclient import TestClient
from typer.main import get_group

from notices.ack_server import create_app
from notices.kinds import FORMS, kinds
from notices.templates import GENERIC_KINDS
from regflows import config
from regflows.cli import app
from regflows.deployments import read_prefect_yaml
from regflows.procedures import CORE_DEPLOYMENTS, PROCEDURES, endpoint_routes

ROOT = Path(__file__).resolve().parents[2]


def test_every_deployment_belongs_to_exactly_one_procedure_or_the_core() -> None:
    owners: dict[str, list[str]] = {}
    for name in CORE_DEPLOYMENTS:
        owners.setdefault(name, []).append("core")
    for procedure in PROCEDURES:
        for name in procedure.deployments:
            owners.setdefault(name, []).append(procedure.name)
    declared = {spec.name for spec in read_prefect_yaml(config.prefect_yaml())}
    assert declared == set(owners), f"prefect.yaml only: {declared - set(owners)}; descriptors only: {set(owners) - declared}"
    assert {name: who for name, who in owners.items() if len(who) > 1} == {}


def test_every_registered_kind_has_both_templates_and_an_owner() -> None:
    owned = [k.name for k in GENERIC_KINDS] + [k.name for p in PROCEDURES for k in p.kinds]
    assert sorted(owned) == sorted(set(owned)) == sorted(kinds())
    for registered in kinds().values():
        for form in FORMS:
            assert registered.template(form).is_file(), f"{registered.name}: {registered.template(form)}"


def test_the_cli_mounts_each_procedures_commands() -> None:
    mounted = get_group(app).commands
    for procedure in PROCEDURES:
        for name, sub_app in procedure.commands:
            assert name in mounted and mounted[name].help == sub_app.info.help
    assert {"declare", "fulfil", "grade", "clock"} <= set(mounted["incident"].commands)  # type: ignore[attr-defined]


def test_endpoint_routes_are_the_procedures_routes() -> None:
    routes = endpoint_routes()
    assert [(r.path, sorted(r.methods or ())) for r in routes if isinstance(r, Route)] == [
        ("/incidents", ["POST"]), ("/inspection/{token}", ["GET", "HEAD"]), ("/inspection/{token}", ["POST"])]
    client = TestClient(create_app(routes))
    assert client.get("/health").text == "ok"
    assert client.post("/incidents", content=b"{}").status_code in (401, 503)  # the incident's own ingest answers
    assert client.get("/inspection/forged").status_code in (400, 403, 404)  # the owner's page refuses a forged link


def _python_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def test_the_notices_layer_names_no_procedure() -> None:
    """No import of a procedure, and none of a procedure's kind names or routes, in notices/."""
    procedure_names = {k.name for p in PROCEDURES for k in p.kinds}
    procedure_paths = {r.path for r in endpoint_routes() if isinstance(r, Route)}
    found: list[str] = []
    for path in _python_files(ROOT / "notices"):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            modules: list[str] = []
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                modules = [node.module]
            line = getattr(node, "lineno", 0)
            found += [f"{path.name}:{line} imports {m}" for m in modules
                      if m.split(".")[:2] in (["regflows", "incident"], ["regflows", "credit"]) or m == "regflows.procedures"]
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found += [f"{path.name}:{line} names {word}" for word in procedure_names | procedure_paths
                          if word in node.value]
    templates = {p.name.split(".", 1)[0] for p in (ROOT / "notices" / "templates").glob("*.j2")}
    assert found == [] and not templates & procedure_names, (found, templates & procedure_names)


def test_a_flow_process_has_its_procedures_kinds_without_any_composition_root() -> None:
    """A flow run loads its flow file by path in a worker: importing any part of a procedure must
    register its kinds, with nothing else loaded first."""
    code = ("import json, sys; import regflows.credit.signoff, regflows.incident.alerts; from notices.kinds import kinds; "
            "print(json.dumps({'kinds': sorted(kinds()), 'composed': 'regflows.procedures' in sys.modules}))")
    out = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout)
    assert {"incident_alert", "approval_request", "signoff_request"} <= set(out["kinds"])
    assert out["composed"] is False
