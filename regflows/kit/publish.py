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
_STAGING = ".staging-"



@dataclass
class Stage:
    """The staging folder of one :func:`publishing` block and where its files ended up."""

    folder: Path  #: the output folder
    path: Path  #: where the block writes
    kept: Path | None = None  #: after a failure: the ``failed-<timestamp>`` folder holding the files
    names: list[str] = field(default_factory=list)  #: after success: the files published

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


def recover(folder: Path) -> list[Path]:
    """Finish a committed set a crash interrupted; keep any uncommitted staging folder as
    ``failed-<timestamp>/``. Returns the folders kept that way (callers raise them)."""
    if not folder.is_dir():
        return []
    if (folder / JOURNAL).exists():
        _roll_forward(folder)
    kept = []
    for stage in sorted(folder.glob(f"{_STAGING}*")):
        if stage.is_dir():
            target = failed_folder(folder)
            os.replace(stage, target)
            (target / "未完成的运行.txt").write_text("该运行在写出文件时中断，以下文件未发布。\n", encoding="utf-8")
            kept.append(target)
    return kept


@contextmanager
def publishing(folder: Path) -> Iterator[Stage]:
    """A :class:`Stage` to write into; on success its files replace their namesakes in ``folder``
    as one set; on any error nothing is published, the files written so far (failure reports
    included) go to ``failed-<timestamp>/`` (``stage.kept``) and the error propagates unchanged."""
    folder.mkdir(parents=True, exist_ok=True)
    recover(folder)
    stage = Stage(folder, folder / f"{_STAGING}{os.getpid()}-{dt.datetime.now(SHANGHAI):%Y%m%dT%H%M%S%f}")
    stage.path.mkdir(mode=0o700)
    try:
        yield stage
    except BaseException:
        stage.kept = failed_folder(folder)
        os.replace(stage.path, stage.kept)
        raise
    names = _files_of(stage.path)
    for name in names:
        with open(stage.path / name, "rb") as fh:
            os.fsync(fh.fileno())
    _sync_folder(stage.path)
    write_atomically(folder / JOURNAL, json.dumps({"stage": stage.path.name, "files": names}, ensure_ascii=False).encode())
    _roll_forward(folder)
    stage.names = names
