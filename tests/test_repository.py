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


#: A repository path as docs/clauses.md names it: in backticks, with a folder or a file suffix.
NAMED_PATH = re.compile(r"`([\w.-]+(?:/[\w.-]+)+/?|[\w-]+\.(?:py|yaml|md|toml))`")


def test_every_path_docs_clauses_names_exists() -> None:
    """docs/clauses.md says which file handles each clause: a renamed or removed file must not
    leave it pointing at nothing (issue 14, 8)."""
    text = (REPO / "docs" / "clauses.md").read_text(encoding="utf-8")
    named = sorted(set(NAMED_PATH.findall(text)))
    assert len(named) > 40  # the check reads the document, not an empty match
    assert [p for p in named if not (REPO / p).exists()] == []


def test_every_regulation_tag_has_its_section_in_docs_clauses() -> None:
    text = (REPO / "docs" / "clauses.md").read_text(encoding="utf-8")
    sections = [line for line in text.splitlines() if line.startswith("## ")]
    for tag in ("NFRA", "TENPAY", "CQ-PLAN", "CUSTINFO", "PBOC-102"):
        assert any(line.startswith(f"## {tag} ") for line in sections), tag
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "(docs/clauses.md)" in readme


def test_no_tracked_file_points_at_notes_the_clone_lacks() -> None:
    """The team's measured notes are not part of the repository: a reference to them by name
    sends a reader to a file a clone does not have (issue 14, 8)."""
    files = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    notes = "stack" + "-notes"
    found = [name for name in files if (REPO / name).is_file() and name != "uv.lock"
             and notes in (REPO / name).read_text(encoding="utf-8", errors="replace")]
    assert found == []
