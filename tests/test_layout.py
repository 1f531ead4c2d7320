"""The layout of tests/ (tests/README.md) stays true: its folders mirror the package tree, and no
module of tests/ imports another one (helpers come from conftest.py files, as fixtures)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
#: Folders of tests/ that hold data or tooling output, not tests of a package; and browser/: the
#: whole application through the Prefect UI and the endpoint's pages, not one package.
NOT_MIRRORS = {"fixtures", "__pycache__", ".pytest_cache", "browser"}
#: A script in a string (run in a child process) that imports from tests/.
SCRIPT_IMPORT = re.compile(r"^\s*(?:from|import)\s+(tests|conftest|test_\w+)\b", re.MULTILINE)


def python_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if not NOT_MIRRORS & set(p.relative_to(root).parts))


def imports_of_tests(root: Path) -> list[str]:
    """Every import, in a module of ``root``, of ``tests``, of a conftest, of a test module (by its
    name, as a sibling would be imported), or relative to the module's own folder."""
    test_names = {p.stem for p in python_files(root) if p.name.startswith("test_")}

    def forbidden(module: str) -> bool:
        top = module.partition(".")[0]
        return top in ("tests", "conftest") or top in test_names

    found: list[str] = []
    for path in python_files(root):
        where = path.relative_to(root.parent)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                found += [f"{where}:{node.lineno} import {a.name}" for a in node.names if forbidden(a.name)]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    found.append(f"{where}:{node.lineno} from {'.' * node.level}{node.module or ''} import ...")
                elif forbidden(node.module or ""):
                    found.append(f"{where}:{node.lineno} from {node.module} import ...")
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                found += [f"{where}:{node.lineno} a script imports {m}" for m in SCRIPT_IMPORT.findall(node.value)]
    return found


def folders_without_a_subject(root: Path, repo: Path) -> list[str]:
    """Every folder of ``root`` whose path, read from the repository root, is no package and no module."""
    missing = []
    for folder in sorted(p for p in root.rglob("*") if p.is_dir()):
        relative = folder.relative_to(root)
        if NOT_MIRRORS & set(relative.parts):
            continue
        subject = repo / relative
        if not (subject.is_dir() and any(subject.glob("*.py"))) and not subject.with_suffix(".py").is_file():
            missing.append(f"tests/{relative.as_posix()}")
    return missing


def test_no_module_of_tests_imports_another() -> None:
    assert imports_of_tests(TESTS) == [], "helpers belong in a conftest.py, as fixtures (tests/README.md)"


def test_every_folder_of_tests_mirrors_a_package_or_module() -> None:
    assert folders_without_a_subject(TESTS, REPO) == [], "tests/ follows the package tree (tests/README.md)"


def test_the_checks_find_what_they_forbid(tmp_path: Path) -> None:
    repo, tests = tmp_path, tmp_path / "tests"
    (repo / "calendars").mkdir()
    (repo / "calendars" / "zone.py").write_text("", encoding="utf-8")
    for folder in ("calendars", "calendars/zone", "calendars/fixtures/notices", "calendar", "tasks"):
        (tests / folder).mkdir(parents=True)
    # Each statement written apart from its keyword: this module's own strings must not read as a
    # script that imports from tests/.
    statements = [("import", "tests.conftest"), ("from", "tests.calendars.test_b import helper"),
                  ("from", ".test_b import helper"), ("from", "test_b import helper"), ("import", "conftest"),
                  ("import", "calendars.zone"), ("SCRIPT = '''\nimport sys\nfrom", "tests.calendars import test_b\n'''")]
    (tests / "calendars" / "test_a.py").write_text("".join(f"{first} {rest}\n" for first, rest in statements), encoding="utf-8")
    (tests / "calendars" / "test_b.py").write_text("def helper() -> None: ...\n", encoding="utf-8")
    found = imports_of_tests(tests)
    assert [line.split(" ", 1)[0] for line in found] == [f"tests/calendars/test_a.py:{n}" for n in (1, 2, 3, 4, 5, 7)], found
    assert folders_without_a_subject(tests, repo) == ["tests/calendar", "tests/tasks"]
