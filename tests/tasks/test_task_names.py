"""Task names as Prefect records them (issue 14, 7: "task names lose their Chinese in the run graph").

What was found (Prefect 3.9.1): a task run is named ``<task name>-<3 characters of its dynamic
key>`` on the client (prefect/task_engine.py), nothing is slugified, and the server keeps the
Chinese. The run graph of Prefect's UI draws its labels with a bitmap font built for ASCII only
(``chars: BitmapFont.ASCII`` in the UI bundle), so it drops every Chinese character and shows
``-54c``. The task run list, the run's side panel and the logs show the names in full. These
tests keep our side true: every task has a Chinese name, and the server returns it intact.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def _task_names() -> dict[str, str | None]:
    """Every ``@task`` of tasks/: function → its ``name=`` (None when it has none)."""
    found: dict[str, str | None] = {}
    for path in sorted((REPO / "tasks").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.FunctionDef):
                continue
            for deco in node.decorator_list:
                call = deco if isinstance(deco, ast.Call) else None
                target = call.func if call else deco
                if isinstance(target, ast.Name) and target.id == "task":
                    names = [k.value for k in (call.keywords if call else []) if k.arg == "name"]
                    value = names[0].value if names and isinstance(names[0], ast.Constant) else None
                    found[f"{path.name}:{node.name}"] = value if isinstance(value, str) else None
    return found


def test_every_task_has_a_chinese_name() -> None:
    names = _task_names()
    assert len(names) >= 20
    assert {f: n for f, n in names.items() if not (n and CHINESE.search(n))} == {}


@pytest.mark.prefect
def test_the_server_keeps_the_chinese_task_names(prefect_api: str) -> None:
    """Read back from a real server: the task runs' names (what the run graph labels) and the graph
    nodes carry the Chinese names as given: the real incident tasks' names, on stand-in bodies."""
    from prefect import flow, task

    names = [n for f, n in _task_names().items() if f.startswith("incident.py:") and n][:3]
    steps = [task(name=n)(lambda: None) for n in names]

    @flow(name="任务名称探针")
    def probe() -> None:
        for step in steps:
            step()

    state = probe(return_state=True)
    run_id = str(state.state_details.flow_run_id)
    runs = httpx.post(f"{prefect_api}/task_runs/filter", json={"flow_runs": {"id": {"any_": [run_id]}}}).json()
    assert sorted(r["name"].rsplit("-", 1)[0] for r in runs) == sorted(names)
    graph = httpx.get(f"{prefect_api}/flow_runs/{run_id}/graph-v2").json()
    assert sorted(node["label"].rsplit("-", 1)[0] for _, node in graph["nodes"]) == sorted(names)
