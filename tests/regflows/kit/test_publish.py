"""A run's files are published as one set or not at all (issue 13, 2)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from regflows.kit.publish import JOURNAL, publishing, recover

REPO = Path(__file__).resolve().parents[3]


def _good_set(folder: Path) -> None:
    with publishing(folder) as stage:
        (stage.path / "table.xlsx").write_bytes(b"old table")
        (stage.path / "summary.json").write_text('{"run": 1}', encoding="utf-8")


def _visible(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")}


def test_a_finished_run_replaces_the_whole_set(tmp_path: Path) -> None:
    _good_set(tmp_path)
    with publishing(tmp_path) as stage:
        (stage.path / "table.xlsx").write_bytes(b"new table")
        (stage.path / "summary.json").write_text('{"run": 2}', encoding="utf-8")
    assert _visible(tmp_path) == {"table.xlsx": b"new table", "summary.json": b'{"run": 2}'}
    assert stage.names == ["summary.json", "table.xlsx"] and stage.final(stage.path / "table.xlsx") == tmp_path / "table.xlsx"
    assert [p.name for p in tmp_path.iterdir()] and not any(p.name.startswith(".staging") for p in tmp_path.iterdir())


def test_a_failed_run_leaves_the_last_good_set_and_keeps_its_own_files_apart(tmp_path: Path) -> None:
    _good_set(tmp_path)
    with pytest.raises(ValueError, match="检查未通过"):
        with publishing(tmp_path) as stage:
            (stage.path / "table.xlsx").write_bytes(b"half")
            (stage.path / "quality-failures.csv").write_text("行号,问题\n3,日期无法解析\n", encoding="utf-8")
            raise ValueError("检查未通过")
    assert _visible(tmp_path) == {"table.xlsx": b"old table", "summary.json": b'{"run": 1}'}
    assert stage.kept is not None and stage.kept.parent == tmp_path and stage.kept.name.startswith("failed-")
    assert sorted(p.name for p in stage.kept.iterdir()) == ["quality-failures.csv", "table.xlsx"]
    assert stage.final(stage.path / "quality-failures.csv") == stage.kept / "quality-failures.csv"


def test_a_commit_interrupted_after_the_journal_is_finished_by_the_next_run(tmp_path: Path) -> None:
    """The journal is the commit point: a crash between renames is rolled forward."""
    _good_set(tmp_path)
    stage = tmp_path / ".staging-1-x"
    stage.mkdir()
    (stage / "summary.json").write_text('{"run": 2}', encoding="utf-8")
    (tmp_path / "table.xlsx").write_bytes(b"new table")  # already moved when the crash came
    (tmp_path / JOURNAL).write_text(json.dumps({"stage": stage.name, "files": ["summary.json", "table.xlsx"]}), encoding="utf-8")
    assert recover(tmp_path) == []
    assert _visible(tmp_path) == {"table.xlsx": b"new table", "summary.json": b'{"run": 2}'}
    assert not (tmp_path / JOURNAL).exists() and not stage.exists()


def _writer_started(code: str, started: Path) -> subprocess.Popen[bytes]:
    """A child process running ``code`` (a publishing block), once it has written ``started``."""
    child = subprocess.Popen([sys.executable, "-c", code], cwd=REPO)
    for _ in range(600):
        if started.exists():
            return child
        time.sleep(0.05)
    child.kill()
    raise AssertionError("the child never started writing")


def test_a_run_killed_while_writing_publishes_nothing(tmp_path: Path) -> None:
    """A real SIGKILL in the middle of the write step: the last good set stays; the next run keeps
    the killed run's partial files in failed-<timestamp>/ (never deleted) and publishes its own."""
    _good_set(tmp_path)
    started = tmp_path.parent / "started"
    code = f"""
import pathlib, time
from regflows.kit.publish import publishing
with publishing(pathlib.Path({str(tmp_path)!r})) as stage:
    (stage.path / "table.xlsx").write_bytes(b"")  # a 0-byte file, as a kill leaves it
    pathlib.Path({str(started)!r}).write_text("x")
    time.sleep(60)
    (stage.path / "summary.json").write_text("never")
"""
    child = _writer_started(code, started)
    try:
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(30)
    assert _visible(tmp_path) == {"table.xlsx": b"old table", "summary.json": b'{"run": 1}'}
    kept = recover(tmp_path)
    assert len(kept) == 1 and (kept[0] / "table.xlsx").read_bytes() == b""
    assert "中断" in (kept[0] / "未完成的运行.txt").read_text(encoding="utf-8")
    assert _visible(tmp_path) == {"table.xlsx": b"old table", "summary.json": b'{"run": 1}'}


def test_two_runs_on_one_folder_do_not_break_each_other(tmp_path: Path) -> None:
    """Review of issue 13 (2): a second run's recovery took the first run's live staging folder for
    a crashed one. A live run's folder is left alone; both publish whole sets, one after the other."""
    started, release = tmp_path.parent / "a-started", tmp_path.parent / "a-release"
    code = f"""
import pathlib, time
from regflows.kit.publish import publishing
with publishing(pathlib.Path({str(tmp_path)!r})) as stage:
    (stage.path / "table.xlsx").write_bytes(b"A table")
    pathlib.Path({str(started)!r}).write_text("x")
    while not pathlib.Path({str(release)!r}).exists():
        time.sleep(0.05)
    (stage.path / "summary.json").write_text("A")
"""
    child = _writer_started(code, started)
    try:
        with publishing(tmp_path) as stage:  # run B, while A still writes
            (stage.path / "table.xlsx").write_bytes(b"B table")
            (stage.path / "summary.json").write_text("B", encoding="utf-8")
        assert stage.recovered == [] and _visible(tmp_path) == {"table.xlsx": b"B table", "summary.json": b"B"}
        release.write_text("go")
        assert child.wait(60) == 0
    finally:
        release.write_text("go")
        child.kill()
    assert _visible(tmp_path) == {"table.xlsx": b"A table", "summary.json": b"A"}  # A's whole set, published last
    assert not list(tmp_path.glob("failed-*")) and not list(tmp_path.glob(".staging-*"))
