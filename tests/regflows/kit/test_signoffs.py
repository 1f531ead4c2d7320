"""The kit's sign-off helpers (regflows/kit/signoffs.py): approved files read once and checked,
final copies checked before filing, the final copy's name."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from regflows.kit.signoffs import FileChanged, check_final, final_path, read_approved


def _entry(path: Path, data: bytes) -> dict[str, str]:
    path.write_bytes(data)
    return {"path": str(path), "sha256": hashlib.sha256(data).hexdigest()}


def test_approved_bytes_are_read_once_and_a_changed_or_missing_file_is_named(tmp_path: Path) -> None:
    files = {"report": _entry(tmp_path / "r.docx", b"report"), "sheet": _entry(tmp_path / "s.xlsx", b"sheet")}
    assert read_approved(files) == {"report": b"report", "sheet": b"sheet"}
    (tmp_path / "s.xlsx").write_bytes(b"sheet, edited")
    with pytest.raises(FileChanged) as changed:
        read_approved(files)
    assert (changed.value.key, changed.value.path) == ("sheet", tmp_path / "s.xlsx")
    (tmp_path / "r.docx").unlink()
    with pytest.raises(FileChanged, match="r.docx"):
        check_final(files, ("report",))
    assert check_final({"sheet": _entry(tmp_path / "s.xlsx", b"x")}) == {"sheet": {"path": str(tmp_path / "s.xlsx"),
                                                                                    "sha256": hashlib.sha256(b"x").hexdigest()}}


def test_the_final_copy_is_named_after_its_revision() -> None:
    assert final_path(Path("/out/rating-self-assessment-2025.docx"), 2) == Path("/out/rating-self-assessment-2025-final-r2.docx")
