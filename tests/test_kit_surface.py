"""The kit's public surface is declared once (regflows/kit/__init__.py MODULES) and kept true."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import regflows.kit as kit

REPO = Path(__file__).resolve().parents[1]
KIT = REPO / "regflows" / "kit"
#: Code that uses the kit as a procedure would (the kit's own tests may reach its internals).
USERS = ("regflows", "notices", "calendars", "tasks", "flows", "bench")


@pytest.mark.parametrize("module", sorted(kit.MODULES))
def test_each_module_offers_exactly_what_the_surface_lists(module: str) -> None:
    loaded = importlib.import_module(f"regflows.kit.{module}")
    assert set(kit.MODULES[module]) == set(loaded.__all__), f"regflows/kit/__init__.py MODULES[{module!r}] 与 {module}.__all__ 不一致"
    missing = [name for name in kit.MODULES[module] if not hasattr(loaded, name)]
    assert not missing, f"{module} 缺少公开名称 {missing}"


def test_every_kit_module_is_on_the_surface() -> None:
    on_disk = {p.stem for p in KIT.glob("*.py") if p.stem != "__init__"} | {p.name for p in KIT.iterdir() if (p / "__init__.py").exists()}
    assert on_disk == set(kit.MODULES), "kit 模块须在 regflows/kit/__init__.py MODULES 中声明"


def kit_imports_outside_the_surface(root: Path, tops: tuple[str, ...]) -> list[str]:
    """Every ``from regflows.kit.X[.Y] import name`` outside the kit whose name X does not offer."""
    problems: list[str] = []
    for top in tops:
        for path in sorted((root / top).rglob("*.py")):
            if KIT in path.parents or ".venv" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
                if not isinstance(node, ast.ImportFrom) or not (node.module or "").startswith("regflows.kit"):
                    continue
                parts = (node.module or "").split(".")
                where = f"{path.relative_to(root)}:{node.lineno}"
                if len(parts) == 2:  # from regflows.kit import obligations
                    problems += [f"{where} regflows.kit.{a.name}" for a in node.names if a.name not in kit.MODULES]
                elif len(parts) > 3:  # from regflows.kit.documents.files import ...: an internal module
                    problems.append(f"{where} {node.module}（内部模块，请从 regflows.kit.{parts[2]} 导入）")
                else:
                    offered = kit.MODULES.get(parts[2], ())
                    problems += [f"{where} {node.module}.{a.name}" for a in node.names if a.name not in offered]
    return problems


def test_code_outside_the_kit_uses_only_the_declared_surface() -> None:
    assert kit_imports_outside_the_surface(REPO, USERS) == []


def test_the_check_finds_an_undeclared_name(tmp_path: Path) -> None:
    (tmp_path / "regflows").mkdir()
    (tmp_path / "regflows" / "x.py").write_text(
        "from regflows.kit.obligations import _row\nfrom regflows.kit.documents.files import zip_stamp\n", encoding="utf-8")
    found = kit_imports_outside_the_surface(tmp_path, ("regflows",))
    assert len(found) == 2 and "_row" in found[0] and "内部模块" in found[1]


def test_importing_one_kit_module_loads_no_document_writer() -> None:
    code = "import sys, regflows.kit.errors, regflows.kit.rulefiles; print('docx' in sys.modules, 'openpyxl' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO).stdout.split()
    assert out == ["False", "False"]
