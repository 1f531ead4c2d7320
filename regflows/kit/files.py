"""Files written all at once or not at all, readable by their owner only.

A report, an uploaded piece of evidence or any other file regflows records by its SHA-256 must
never sit half-written where the finished file belongs (a half .docx is a file someone may
open, hash and file): the bytes go to a temporary file in the target's folder, are flushed to
disk, and take the target's name with one ``os.replace``; on any error the temporary file is
removed and an earlier target is left as it was. Used by the document writers
(``regflows.kit.documents``) and the evidence uploads (``regflows.kit.uploads``).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["PRIVATE_FILE", "TEXT_ENCODINGS", "decode_text", "write_atomically"]

#: Owner read/write only. Reports describe open incidents and the institution's figures; other
#: local accounts have no business reading them. (``mkstemp`` creates files this way.)
PRIVATE_FILE = 0o600


def write_atomically(target: str | os.PathLike[str], data: bytes, *, mode: int = PRIVATE_FILE) -> Path:
    """Write ``data`` to ``target`` all at once or not at all (see the module docstring).

    The folder is created if needed. The file is flushed and synced before it is renamed, so a
    power cut cannot leave the new name on empty blocks; the folder is synced after the rename
    where the system allows it, so the new name itself survives.
    """
    path = Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)
    return path


def _sync_folder(folder: Path) -> None:
    """Make a rename durable (POSIX); a system that cannot open a folder skips it (Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse fsync on a directory; the rename itself is done
    finally:
        os.close(fd)


#: The encodings a Chinese institution's text files come in: UTF-8 (with or without its BOM), or
#: GBK as Excel on a Chinese Windows saves CSV (gb18030 reads every GBK file, and more).
TEXT_ENCODINGS: tuple[str, ...] = ("utf-8-sig", "gb18030")


def decode_text(data: bytes) -> str | None:
    """``data`` as text in the first of :data:`TEXT_ENCODINGS` that reads it, or None when neither
    does (the caller says so in its own words, naming the file)."""
    for encoding in TEXT_ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None
