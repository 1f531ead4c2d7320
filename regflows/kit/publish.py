"""A run's output files published as one set: all of them or none.

Why: each file written atomically (:mod:`regflows.kit.files`) is not enough for a run that writes
several. Killed between two files, a run left a new .xlsx beside the previous run's
``summary.json``; a failed rerun left the earlier report beside its own failure files. A
compliance officer who opens the folder must see one run's set, whole.

How: the run writes into a staging folder inside the output folder (the same file system, so a
rename moves a file without copying it). When every file is written and synced, a journal naming
the staging folder and its files is written atomically: that is the commit point. The files are
then renamed into place and the journal removed. A crash before the journal leaves the last good
set untouched (the staging folder is kept as ``failed-<timestamp>/``, never deleted: it is what
the killed run had written); a crash after it is finished by the next :func:`publishing` or
:func:`recover` of the folder (roll forward), so no reader is left with a mixed set for longer
than the next run. A run that raises leaves the last good set untouched and its own files
(failure reports included) in ``failed-<timestamp>/``.

Used by every procedure for its output folder: ``with publishing(out_dir) as stage: write into
stage``.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from calendars.zone import SHANGHAI
from regflows.kit.files import _sync_folder, write_atomically

__all__ = ["JOURNAL", "Stage", "failed_folder", "publishing", "recover"]

#: The commit record of a set being renamed into place (a hidden file of the output folder).
JOURNAL = ".publish-journal.json"
_LOCK = ".publish.lock"
_STAGING = ".staging-"



@dataclass
class Stage:
    """The staging folder of one :func:`publishing` block and where its files ended up."""

    folder: Path  #: the output folder
    path: Path  #: where the block writes
    kept: Path | None = None  #: after a failure: the ``failed-<timestamp>`` folder holding the files
    names: list[str] = field(default_factory=list)  #: after success: the files published
    recovered: list[Path] = field(default_factory=list)  #: interrupted earlier runs kept as failed-*

    def final(self, staged: Path) -> Path:
        """Where a file written at ``staged`` is now (published, or kept after a failure)."""
        relative = Path(staged).relative_to(self.path)
        return (self.kept if self.kept is not None else self.folder) / relative


def failed_folder(folder: Path, now: dt.datetime | None = None) -> Path:
    """A new ``failed-<timestamp>`` folder name under ``folder`` (Beijing time, never reused)."""
    stamp = (now or dt.datetime.now(SHANGHAI)).astimezone(SHANGHAI).strftime("%Y%m%dT%H%M%S")
    candidate = folder / f"failed-{stamp}"
    n = 1
    while candidate.exists():
        n += 1
        candidate = folder / f"failed-{stamp}-{n}"
    return candidate


def _files_of(stage: Path) -> list[str]:
    """Every file under ``stage``, as paths relative to it (sub-folders allowed)."""
    return sorted(str(p.relative_to(stage)) for p in stage.rglob("*") if p.is_file())


def _roll_forward(folder: Path) -> None:
    journal = folder / JOURNAL
    entry = json.loads(journal.read_text(encoding="utf-8"))
    stage = folder / entry["stage"]
    for name in entry["files"]:
        source, target = stage / name, folder / name
        if source.exists():  # not yet moved when the earlier run stopped
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, target)
    _sync_folder(folder)
    journal.unlink()
    shutil.rmtree(stage, ignore_errors=True)


@contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """The output folder's lock, held only while a set is committed or a crash recovered: two runs
    on one folder publish one after the other, never interleaved."""
    with open(folder / _LOCK, "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _alive(stage: Path) -> bool:
    """Whether a running process still writes into ``stage``: it holds the lock of its
    ``<stage>.lock`` file for its whole life, and the system drops it when the process dies."""
    lock = stage.with_name(stage.name + ".lock")
    if not lock.exists():
        return False
    with open(lock, "a+b") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
    return False


def _recover_locked(folder: Path) -> list[Path]:
    if (folder / JOURNAL).exists():
        _roll_forward(folder)
    kept = []
    for stage in sorted(folder.glob(f"{_STAGING}*")):
        if stage.is_dir() and not _alive(stage):  # another run's live staging folder is left alone
            target = failed_folder(folder)
            os.replace(stage, target)
            (target / "未完成的运行.txt").write_text("该运行在写出文件时中断，以下文件未发布。\n", encoding="utf-8")
            stage.with_name(stage.name + ".lock").unlink(missing_ok=True)
            kept.append(target)
    return kept


def recover(folder: Path) -> list[Path]:
    """Finish a committed set a crash interrupted; keep any uncommitted staging folder of a run
    that is gone as ``failed-<timestamp>/``. Returns the folders kept that way (callers raise them)."""
    if not folder.is_dir():
        return []
    with _folder_lock(folder):
        return _recover_locked(folder)


@contextmanager
def publishing(folder: Path) -> Iterator[Stage]:
    """A :class:`Stage` to write into; on success its files replace their namesakes in ``folder``
    as one set; on any error nothing is published, the files written so far (failure reports
    included) go to ``failed-<timestamp>/`` (``stage.kept``) and the error propagates unchanged.
    ``stage.recovered``: earlier runs' interrupted folders this one found and kept."""
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{_STAGING}{os.getpid()}-{dt.datetime.now(SHANGHAI):%Y%m%dT%H%M%S%f}"
    with open(folder / f"{name}.lock", "a+b") as life:
        fcntl.flock(life.fileno(), fcntl.LOCK_EX)  # held while this run writes: see _alive
        recovered = recover(folder)
        stage = Stage(folder, folder / name, recovered=recovered)
        stage.path.mkdir(mode=0o700)
        try:
            try:
                yield stage
            except BaseException:
                with _folder_lock(folder):
                    stage.kept = failed_folder(folder)
                    os.replace(stage.path, stage.kept)
                raise
            names = _files_of(stage.path)
            for file in names:
                with open(stage.path / file, "rb") as fh:
                    os.fsync(fh.fileno())
            _sync_folder(stage.path)
            with _folder_lock(folder):
                write_atomically(folder / JOURNAL, json.dumps({"stage": stage.path.name, "files": names},
                                                              ensure_ascii=False).encode())
                _roll_forward(folder)
            stage.names = names
        finally:  # the lock file goes only after the set is published or kept: see _alive
            (folder / f"{name}.lock").unlink(missing_ok=True)
