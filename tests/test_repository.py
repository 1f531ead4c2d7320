"""The repository stands on its own: a user's clone has nothing beside it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: A path leaving the clone: a sibling folder, or this machine's work folders.
OUTSIDE = re.compile(r"\.\./shared|(?<![\w.])/work/")


def test_no_tracked_file_refers_outside_the_repository() -> None:
    files = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    found = []
    for name in files:
        path = REPO / name
        if name in ("uv.lock", "tests/test_repository.py") or not path.is_file():  # this file holds the patterns
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        found += [f"{name}:{n}" for n, line in enumerate(text.splitlines(), 1) if OUTSIDE.search(line)]
    assert not found, "以下文件引用了仓库之外的路径：" + "、".join(found)


def test_the_pattern_finds_a_reference_outside() -> None:
    assert OUTSIDE.search("digested in `../shared/docs/regulations.md`")
    assert OUTSIDE.search("see /work/shared/seeds")
    assert not OUTSIDE.search("docs/regulations.md and tests/work/x")
