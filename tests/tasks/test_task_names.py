"""Task names as Prefect records them (issue 14, 7: "task names lose their Chinese in the run graph").

What was found (Prefect 3.9.1): a task run is named ``<task name>-<3 characters of its dynamic
key>`` on the client (prefect/task_engine.py), nothing is slugified, and the server keeps the
Chinese. The run graph of Prefect's UI draws its labels with a bitmap font built for ASCII only
(``chars: BitmapFont.ASCII`` in the UI bundle), so it drops every Chinese character: a name in
Chinese alone showed as ``-dd2`` (review of issue 14, defect 6). So every task is named
``<ascii-slug> <中文>`` (``check-form 核对申报表``): the graph shows the slug, the task run list,
the run's side panel and the logs show both. These tests keep our side true: every task has an
ASCII slug first and a Chinese name after it, no two tasks share a slug, and the server returns
the names intact.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
CHINESE = re.compile(r"[\u4e00-\u9fff]")
# What the run graph can draw, then the Chinese: ``check-form 核对申报表``.
SLUG_THEN_CHINESE = re.compile(r"^(?P<slug>[a-z0-9]+(?:-[a-z0-9]+)*) (?P<zh>\S.*)$")


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


def test_every_task_name_starts_with_an_ascii_slug_the_graph_can_draw() -> None:
    """The slug is what the run graph shows; the Chinese follows it and is not part of the slug."""
    names = _task_names()
    parsed = {f: SLUG_THEN_CHINESE.match(n or "") for f, n in names.items()}
    assert {f: names[f] for f, m in parsed.items() if not (m and CHINESE.search(m["zh"]))} == {}
    slugs = [m["slug"] for m in parsed.values() if m]
    assert len(set(slugs)) == len(slugs), "two tasks would look the same in the run graph"


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
    labels = [node["label"] for _, node in graph["nodes"]]
    assert sorted(label.rsplit("-", 1)[0] for label in labels) == sorted(names)
    # What the graph's ASCII font keeps of each label: the slug, not an empty name.
    drawn = sorted("".join(c for c in label if c.isascii()).rsplit("-", 1)[0].strip() for label in labels)
    assert drawn == sorted(SLUG_THEN_CHINESE.match(n)["slug"] for n in names)  # type: ignore[index]
