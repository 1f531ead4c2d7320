"""Writing a document file: reproducible bytes, written atomically.

Both .docx and .xlsx are zip packages, and both writers need the same two guarantees:

- **Reproducible.** The same content gives the same bytes, so a file's SHA-256 recorded in the
  audit ledger identifies it, and an approval bound to that hash survives a byte-identical
  rerun (only a changed hash voids it). A zip entry carries a modification time; the libraries
  stamp the wall clock, so every entry is rewritten here with one given stamp (the document's
  own date), entries in the order the library wrote them, the same compression and the same
  permission bits.
- **Atomic.** A report that a kill, a full disk or an exception cut in half must never sit where
  the finished file belongs (a half .docx is a file someone may open, hash and file). The bytes
  go to a temporary file in the target's folder, are flushed to disk, and take the target's name
  with one ``os.replace``; on any error the temporary file is removed and an earlier target is
  left as it was.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile

from calendars.zone import SHANGHAI

#: The stamp of a document that has no date of its own: the zip format's earliest time (zip
#: dates start in 1980), the usual choice of reproducible-build tools. A file's properties then
#: say 1980-01-01, which no one mistakes for the day a report was made.
NO_DATE = dt.datetime(1980, 1, 1, tzinfo=SHANGHAI)

def zip_stamp(stamp: dt.datetime | None) -> tuple[int, int, int, int, int, int]:
    """The zip entry time for ``stamp``: its Beijing wall-clock time (zip times carry no zone).

    A naive stamp is refused: it would be read in the machine's zone, and two machines would
    then write different bytes for the same document.
    """
    if stamp is None:
        stamp = NO_DATE
    if stamp.tzinfo is None or stamp.utcoffset() is None:
        raise ValueError(f"文件时间戳必须带时区（例如 +08:00），收到的是不带时区的 {stamp.isoformat()}")
    local = stamp.astimezone(SHANGHAI)
    if local < NO_DATE:
        raise ValueError(f"zip 文件时间不能早于 1980 年，收到 {local.isoformat()}")
    return (local.year, local.month, local.day, local.hour, local.minute, local.second)


def reproducible_zip(package: bytes, stamp: dt.datetime | None) -> bytes:
    """``package`` (a zip) rewritten with every entry stamped ``stamp`` and mode 0644 inside."""
    when = zip_stamp(stamp)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=when)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            zout.writestr(entry, zin.read(info.filename))
    return out.getvalue()
