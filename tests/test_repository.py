"""The repository stands on its own: a user's clone has nothing beside it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: A path leaving the clone: the sibling folder the team's notes live in, or this machine's work
#: folders. Spelled in parts, so that this file does not itself point outside.
SIBLING = ".." + "/" + "shared"
OUTSIDE = re.compile(re.escape(SIBLING) + r"|(?<![\w.])/" + "work/")


def test_no_tracked_file_refers_outside_the_repository() -> None:
    files = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    found = []
    for name in files:
        path = REPO / name
        if name == "uv.lock" or not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        found += [f"{name}:{n}" for n, line in enumerate(text.splitlines(), 1) if OUTSIDE.search(line)]
    assert not found, "以下文件引用了仓库之外的路径：" + "、".join(found)


def test_the_pattern_finds_a_reference_outside() -> None:
    assert OUTSIDE.search(f"digested in `{SIBLING}/docs/regulations.md`")
    assert OUTSIDE.search("see /" + "work/x/seeds")
    assert not OUTSIDE.search("docs/regulations.md and tests/work/x")


def test_every_test_file_a_document_names_exists() -> None:
    """Docstrings and the README point readers at tests by path; a moved test must not leave them dangling."""
    files = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    named = re.compile(r"tests/[\w/]+\.py")
    dangling = []
    for name in files:
        if not name.endswith((".py", ".md", ".yaml")) or name in ("tests/test_repository.py", "tests/test_layout.py"):  # planted examples
            continue
        for n, line in enumerate((REPO / name).read_text(encoding="utf-8").splitlines(), 1):
            dangling += [f"{name}:{n} {m}" for m in named.findall(line) if not (REPO / m).is_file()]
    assert not dangling, "以下位置引用了不存在的测试文件：" + "、".join(dangling)
