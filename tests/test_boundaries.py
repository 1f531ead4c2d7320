"""The import boundaries of issue 11 (items 2 and 5), checked on the source with ``ast``.

Every import counts: at module top level, inside functions, under ``if TYPE_CHECKING:``, relative
ones, and a module named in a string constant (``"regflows.credit.signoff:after_ack"`` loaded
with importlib is an import all the same). The rules:

- shared layers (the kit, ``notices``, ``calendars``, the store, the ledger, the profile, config,
  the YAML reader, the local server) never import a procedure nor ``tasks``/``flows``. A
  procedure is any package of ``regflows`` that is not shared (``regflows.incident``,
  ``regflows.credit``, and the next ones without editing this file);
- domain code (``regflows/**``) never imports ``tasks`` or ``flows``, except the composition
  roots that wire everything together (the CLI, ``regflows up``, the deployment registration,
  ``doctor``, the procedure registry);
- ``tasks`` never import ``flows``;
- domain code (``regflows/**``, ``notices``, ``calendars``) never imports Prefect: tasks are the one
  Prefect boundary (issue 11, item 5). Allowed: the composition roots, and the five adapters of
  :data:`PREFECT_ADAPTERS`, each for its reason.

A last test keeps the CLI's lazy imports lazy: ``import regflows.cli`` loads none of the heavy
libraries (Prefect, great-expectations, pandas, the store...), which every command would pay.

Each rule is its own test, so a violation of one does not hide the others; a failure names the
file, the line and the rule.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("regflows", "notices", "calendars", "tasks", "flows")
#: Parts of regflows every procedure may use; every other package of regflows is a procedure.
SHARED_REGFLOWS = ("regflows.kit", "regflows.store", "regflows.ledger", "regflows.profile", "regflows.settings",
                   "regflows.config", "regflows.server", "regflows.exit_codes", "regflows.channel_secrets", "regflows.recovery",
                   "regflows.priority")
SHARED = (*SHARED_REGFLOWS, "notices", "calendars")
COMPOSITION_ROOTS = ("regflows.cli", "regflows.up", "regflows.deployments", "regflows.doctor", "regflows.procedures")
#: Domain modules that may import Prefect besides the composition roots, and why.
PREFECT_ADAPTERS = {
    "regflows.incident.ingest": "POST /incidents starts the incident-response deployment",
    "regflows.incident.commands": "`regflows incident declare` starts the incident-response deployment",
    "regflows.incident.form_link": "a refused second declaration links to the incident-update form, whose id the server holds",
    "notices.secrets": "a channel's {secret:NAME} is a Prefect Secret block, read when sending",
    "regflows.drills.launch": "`regflows drill run` starts the drill-run deployment and waits for the drill's id",
}


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    path: str  # its file, relative to the repository
    line: int
    target: str  # the imported module (or module.name: a name may be a submodule)
    how: str  # "import", "from", "string"


def module_name(path: Path, root: Path = REPO) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules(root: Path = REPO) -> dict[str, Path]:
    return {module_name(p, root): p for package in PACKAGES for p in sorted((root / package).rglob("*.py"))}


def procedures(root: Path = REPO) -> list[str]:
    """The packages of regflows that are not shared layers: the procedures."""
    return sorted(
        f"regflows.{d.name}" for d in (root / "regflows").iterdir()
        if d.is_dir() and any(d.glob("*.py")) and f"regflows.{d.name}" not in SHARED_REGFLOWS
    )


def imports_in(source: str, module: str, path: str = "<string>", is_package: bool = False,
               known: set[str] | None = None) -> Iterator[Import]:
    """Every import in ``source``, wherever it stands; strings naming a known module count too."""
    tree = ast.parse(source, filename=path)
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, path, node.lineno, alias.name, "import")
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1] if package else []
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                yield Import(module, path, node.lineno, f"{base}.{alias.name}" if alias.name != "*" else base, "from")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and known is not None:
            named = node.value.partition(":")[0]
            if named in known and named.partition(".")[0] in PACKAGES and "." in named:
                yield Import(module, path, node.lineno, named, "string")


def all_imports(root: Path = REPO) -> list[Import]:
    modules = project_modules(root)
    known = set(modules)
    found: list[Import] = []
    for name, path in modules.items():
        found += imports_in(path.read_text(encoding="utf-8"), name, str(path.relative_to(root)),
                            is_package=path.name == "__init__.py", known=known)
    return found


def within(name: str, prefixes: tuple[str, ...] | list[str]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


#: A rule: the name, and a function from one import to the reason it is forbidden (or None).
Rule = Callable[[Import, list[str]], "str | None"]


def shared_never_imports_a_procedure(imp: Import, procs: list[str]) -> str | None:
    if not within(imp.module, SHARED):
        return None
    if within(imp.target, procs):
        return "共享层不得引用具体流程（procedure）"
    if within(imp.target, ("tasks", "flows")):
        return "共享层不得引用 tasks/flows"
    return None


def domain_never_imports_tasks_or_flows(imp: Import, procs: list[str]) -> str | None:
    if within(imp.module, ("regflows",)) and not within(imp.module, COMPOSITION_ROOTS) and within(imp.target, ("tasks", "flows")):
        return "领域代码（regflows/**）不得引用 tasks/flows（仅组合根可以）"
    return None


def tasks_never_import_flows(imp: Import, procs: list[str]) -> str | None:
    if within(imp.module, ("tasks",)) and within(imp.target, ("flows",)):
        return "tasks 不得引用 flows"
    return None


def domain_never_imports_prefect(imp: Import, procs: list[str]) -> str | None:
    if (within(imp.module, ("regflows", "notices", "calendars")) and within(imp.target, ("prefect",))
            and not within(imp.module, (*COMPOSITION_ROOTS, *PREFECT_ADAPTERS))):
        return "领域代码不得引用 prefect（Prefect 只经 tasks/ 与组合根进入）"
    return None


#: Where people and the scheduler enter: no SQL here, only calls into the store layer (issue 11:
#: "SQL lives in the store layer, not in tasks, flows or the CLI").
ENTRY_POINTS = ("tasks", "flows", "regflows.cli", "regflows.up", "regflows.doctor")
#: sqlalchemy names that are not SQL: parsing a database URL to show or check it.
NOT_SQL = ("sqlalchemy.engine.make_url",)


def sql_stays_in_the_store_layer(imp: Import, procs: list[str]) -> str | None:
    entry = within(imp.module, ENTRY_POINTS) or imp.module.endswith(".cli") or imp.module.endswith(".commands")
    if entry and within(imp.target, ("sqlalchemy",)) and imp.target not in NOT_SQL:
        return "SQL 只在存储层（regflows/store、各流程的 store 模块）：tasks、flows 与命令行不得引用 sqlalchemy"
    return None


def a_procedure_never_imports_another(imp: Import, procs: list[str]) -> str | None:
    """Procedures meet only in the shared layers (a credit count reads incidents from the store,
    not through the incident package): a new procedure can be added or removed alone."""
    mine = next((p for p in procs if within(imp.module, (p,))), None)
    if mine is not None and within(imp.target, [p for p in procs if p != mine]):
        return "流程之间不得互相引用（经共享层交换数据）"
    return None


#: What the calendar layer may take from regflows: reading its year files, nothing else.
CALENDAR_MAY_USE = ("regflows.kit.errors", "regflows.kit.rulefiles")


def calendars_stand_below_regflows(imp: Import, procs: list[str]) -> str | None:
    if within(imp.module, ("calendars",)) and within(imp.target, ("regflows",)) and not within(imp.target, CALENDAR_MAY_USE):
        return "日历层只可使用 regflows.kit 的规则文件读取（errors、rulefiles）"
    return None


def flows_act_through_tasks(imp: Import, procs: list[str]) -> str | None:
    """A flow composes tasks: the store, the ledger, the kit and the notices engine are reached
    only inside tasks (retries, logs, artifacts)."""
    if within(imp.module, ("flows",)) and within(imp.target, ("regflows.store", "regflows.ledger", "regflows.kit", "notices")):
        return "flows 只组合 tasks：存储、账本、工具包与通知只在 tasks 中使用"
    return None


RULES: dict[str, Rule] = {
    "a-procedure-never-imports-another": a_procedure_never_imports_another,
    "calendars-stand-below-regflows": calendars_stand_below_regflows,
    "flows-act-through-tasks": flows_act_through_tasks,
    "sql-stays-in-the-store-layer": sql_stays_in_the_store_layer,
    "shared-layers-never-import-a-procedure": shared_never_imports_a_procedure,
    "domain-never-imports-tasks-or-flows": domain_never_imports_tasks_or_flows,
    "tasks-never-import-flows": tasks_never_import_flows,
    "domain-never-imports-prefect": domain_never_imports_prefect,
}


def violations(rule: Rule, imports: list[Import], procs: list[str]) -> list[str]:
    out = []
    for imp in sorted(imports, key=lambda i: (i.path, i.line, i.target)):
        reason = rule(imp, procs)
        if reason:
            out.append(f"{imp.path}:{imp.line}: {reason}：{imp.module} → {imp.target}（{imp.how}）")
    return out


@pytest.fixture(scope="module")
def project_imports() -> list[Import]:
    return all_imports()


@pytest.mark.parametrize("rule", list(RULES))
def test_boundary(rule: str, project_imports: list[Import]) -> None:
    found = violations(RULES[rule], project_imports, procedures())
    assert not found, f"规则 {rule}：\n" + "\n".join(found)


def layer(module: str) -> str:
    """A layer: a package of regflows or one of its top modules, or a top-level package; each
    part of the kit is a layer of its own. The kit is a library of independent parts at two
    heights: its rule files and error translator sit below the calendar and the profile (which
    read rule files through them), its reminders and approvals above the notices (which they
    send through). Counted as one layer, the kit would make every such use look like a loop."""
    parts = module.split(".")
    if parts[:2] == ["regflows", "kit"] and len(parts) > 2:
        return ".".join(parts[:3])
    return ".".join(parts[:2]) if parts[0] == "regflows" and len(parts) > 1 else parts[0]


def layer_cycles(imports: list[Import], modules: set[str]) -> list[str]:
    """Layers that import each other, directly or through others (imports inside functions
    included: that is where such cycles hide), each with the imports that close the loop."""
    def resolve(target: str) -> str:
        while target and target not in modules:
            target = target.rpartition(".")[0]
        return target

    edges: dict[str, dict[str, list[Import]]] = {}
    for imp in imports:
        target = resolve(imp.target)
        if target and layer(target) != layer(imp.module):
            edges.setdefault(layer(imp.module), {}).setdefault(layer(target), []).append(imp)

    def reachable(start: str) -> set[str]:
        seen: set[str] = set()
        todo = list(edges.get(start, {}))
        while todo:
            current = todo.pop()
            if current not in seen:
                seen.add(current)
                todo += list(edges.get(current, {}))
        return seen

    reach = {name: reachable(name) for name in edges}
    out = []
    for a in sorted(edges):
        for b, via in sorted(edges[a].items()):
            if a in reach.get(b, set()):
                first = min(via, key=lambda i: (i.path, i.line))
                out.append(f"{first.path}:{first.line}: {a} → {b}（{first.target}），而 {b} 也依赖 {a}")
    return out


def test_layers_form_no_cycle(project_imports: list[Import]) -> None:
    found = layer_cycles(project_imports, set(project_modules()))
    assert not found, "层之间的循环依赖：\n" + "\n".join(found)


# -- the checker itself -----------------------------------------------------------------------

def test_a_cycle_hidden_in_a_function_is_found() -> None:
    modules = {"regflows.incident.commands", "tasks.incident", "regflows.incident.store", "regflows.store.db"}
    imports = [
        *imports_in("def regrade():\n    from tasks.incident import clock_rows\n", "regflows.incident.commands"),
        *imports_in("from regflows.incident import store\n", "tasks.incident"),
        *imports_in("from regflows.store import db\n", "regflows.incident.store"),
    ]
    found = layer_cycles(imports, modules)
    assert found == [
        "<string>:2: regflows.incident → tasks（tasks.incident.clock_rows），而 tasks 也依赖 regflows.incident",
        "<string>:1: tasks → regflows.incident（regflows.incident.store），而 regflows.incident 也依赖 tasks",
    ]
    assert layer_cycles(imports[1:], modules) == []

def test_every_top_module_of_regflows_is_classified() -> None:
    """A new regflows/<module>.py must be declared shared or a composition root: unclassified, it
    could import a procedure unnoticed (regflows.settings once was)."""
    top = sorted(f"regflows.{p.stem}" for p in (REPO / "regflows").glob("*.py"))
    assert [m for m in top if not within(m, (*SHARED_REGFLOWS, *COMPOSITION_ROOTS))] == []
    assert [m for m in SHARED_REGFLOWS + COMPOSITION_ROOTS if m not in project_modules()] == []  # no stale names


def test_the_sql_rule_forbids_a_query_in_a_task_and_allows_url_parsing() -> None:
    bad = imports_in("from sqlalchemy import select\n", "tasks.planted")
    ok = imports_in("from sqlalchemy.engine import make_url\n", "regflows.doctor")
    store = imports_in("from sqlalchemy import select\n", "regflows.store.planted")
    assert [sql_stays_in_the_store_layer(i, []) is not None for i in (*bad, *ok, *store)] == [True, False, False]


def test_procedures_are_the_packages_that_are_not_shared() -> None:
    assert {"regflows.incident", "regflows.credit"} <= set(procedures())
    assert not set(procedures()) & set(SHARED_REGFLOWS)


def test_the_walk_sees_every_package_and_function_level_imports(project_imports: list[Import]) -> None:
    assert {imp.module.partition(".")[0] for imp in project_imports} == set(PACKAGES)
    # A known import inside a function (regflows/procedures.py imports the ingest route in _incident_routes).
    assert any(imp.module == "regflows.procedures" and imp.target.startswith("regflows.incident.ingest") for imp in project_imports)


PLANTED = {  # case: (module, source, the line of the violation)
    "top level": ("notices.planted", "from regflows.incident.record import IncidentRecord\n", 1),
    "inside a function": ("calendars.planted", "def f():\n    import regflows.credit.models\n", 2),
    "a relative import": ("regflows.store.planted", "from ..incident import store\n", 1),
    "under TYPE_CHECKING": ("regflows.kit.planted", "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from regflows.credit import signoff\n", 4),
    "a dotted string": ("notices.planted", 'import importlib\n\nHOOK = {"x": "regflows.credit.signoff:after_ack"}\n', 3),
    "a future procedure": ("regflows.ledger", "from regflows.drill.plan import Plan\n", 1),
    "tasks from the store": ("regflows.store.planted", "import tasks.notices\n", 1),
}


@pytest.mark.parametrize("case", list(PLANTED))
def test_a_planted_violation_is_named_with_file_line_and_rule(case: str) -> None:
    module, source, line = PLANTED[case]
    path = f"{module.replace('.', '/')}.py"
    imports = list(imports_in(source, module, path, known={"regflows.credit.signoff"}))
    found = violations(RULES["shared-layers-never-import-a-procedure"], imports, ["regflows.incident", "regflows.credit", "regflows.drill"])
    assert len(found) == 1, found
    assert found[0].startswith(f"{path}:{line}: 共享层不得引用"), found


@pytest.mark.parametrize(("module", "source", "rule", "expected"), [
    ("regflows.incident.commands", "def f():\n    from tasks.incident import clock_rows\n", "domain-never-imports-tasks-or-flows", 1),
    ("regflows.cli", "from flows.incident_response import incident_response\n", "domain-never-imports-tasks-or-flows", 0),
    ("regflows.up", "from tasks.credit_stats import previous_period\n", "domain-never-imports-tasks-or-flows", 0),
    ("tasks.incident", "from flows.incident_watch import draft_new_reports\n", "tasks-never-import-flows", 1),
    ("flows.incident_watch", "from tasks.incident import watch_incident\n", "tasks-never-import-flows", 0),
    ("notices.service", "from regflows.store import db\nfrom regflows.profile import Profile\n", "shared-layers-never-import-a-procedure", 0),
    ("regflows.incident.alerts", "from regflows.credit import models\n", "shared-layers-never-import-a-procedure", 0),
    ("regflows.incident.alerts", "from regflows.credit import models\n", "a-procedure-never-imports-another", 1),
    ("regflows.credit.events", "from regflows.store.models import Incident\n", "a-procedure-never-imports-another", 0),
    ("calendars.zone", "from regflows.store import db\n", "calendars-stand-below-regflows", 1),
    ("calendars.official", "from regflows.kit.rulefiles import load_yaml_model\n", "calendars-stand-below-regflows", 0),
    ("flows.credit_stats", "from regflows.store import db\n", "flows-act-through-tasks", 1),
    ("flows.incident_fulfil", "from regflows.kit.obligations import fulfil\n", "flows-act-through-tasks", 1),
    ("flows.incident_fulfil", "from tasks.incident import fulfil_task\n", "flows-act-through-tasks", 0),
    ("regflows.credit.signoff", "def f():\n    from prefect import get_run_logger\n", "domain-never-imports-prefect", 1),
    ("notices.service", "import prefect.artifacts\n", "domain-never-imports-prefect", 1),
    ("calendars.schedules", "from prefect.schedules import RRule\n", "domain-never-imports-prefect", 1),
    ("regflows.up", "from prefect import serve\n", "domain-never-imports-prefect", 0),
    ("regflows.incident.ingest", "from prefect.deployments import arun_deployment\n", "domain-never-imports-prefect", 0),
    ("tasks.notices", "from prefect import task\n", "domain-never-imports-prefect", 0),
])
def test_each_rule_forbids_and_allows_what_it_says(module: str, source: str, rule: str, expected: int) -> None:
    found = violations(RULES[rule], list(imports_in(source, module)), ["regflows.incident", "regflows.credit"])
    assert len(found) == expected, found


#: Libraries a `regflows` command must not load at start-up (seconds each, measured: Prefect ~2 s,
#: great-expectations 3-11 s, the store ~0.9 s, pandas/pyarrow/python-docx/openpyxl ~1 s).
HEAVY = ("prefect", "great_expectations", "pandas", "pyarrow", "numpy", "sqlalchemy", "alembic", "docx", "openpyxl",
         "apprise", "starlette", "uvicorn", "httpx")


def test_cli_start_up_loads_no_heavy_library() -> None:
    import json
    import subprocess
    import sys

    code = f"import json, sys, regflows.cli; print(json.dumps(sorted({{m.partition('.')[0] for m in sys.modules}} & set({list(HEAVY)!r}))))"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == [], "regflows 命令启动时加载了重型库（应在命令内延迟导入）"
