"""Printing a produced document as people will: LibreOffice converts it to PDF (fixture
``printed``), poppler reads the PDF back (pages, page size, the text of each page and where each
word sits) and renders page 1 to a PNG under ``screenshots/print/`` (ignored) for a person to look at."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "screenshots" / "print"
WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>')


@dataclass(frozen=True)
class Word:
    text: str
    left: float
    top: float
    right: float
    bottom: float


@dataclass(frozen=True)
class Printed:
    """A document as LibreOffice prints it to PDF."""

    pdf: Path
    pages: int
    size: tuple[float, float]  # width, height of page 1 in points
    texts: list[str]  # each page's text as laid out (pdftotext -layout)
    words: list[Word]  # page 1's words with their boxes, in points from the top left
    png: Path  # page 1, rendered

    def word(self, text: str) -> Word:
        """The first word of page 1 that is ``text`` or, failing that, begins with it."""
        return next((w for w in self.words if w.text == text), None) or next(w for w in self.words if w.text.startswith(text))


def _run(*args: str) -> str:
    tool = shutil.which(args[0])
    assert tool, f"{args[0]} is not installed (Debian: libreoffice-calc, libreoffice-writer, poppler-utils; make install)"
    return subprocess.run([tool, *args[1:]], check=True, capture_output=True, text=True, timeout=180).stdout


def _print(source: Path, work: Path) -> Printed:
    out = work / "pdf"
    # a profile of its own: parallel conversions with one shared profile lock each other out
    _run("soffice", f"-env:UserInstallation={(work / 'lo-profile').as_uri()}", "--headless",
         "--convert-to", "pdf", "--outdir", str(out), str(source))
    pdf = out / f"{source.stem}.pdf"
    assert pdf.is_file(), f"LibreOffice wrote no PDF for {source.name}"
    info = _run("pdfinfo", str(pdf))
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE).group(1))  # type: ignore[union-attr]
    size = re.search(r"^Page size:\s+([\d.]+) x ([\d.]+)", info, re.MULTILINE)
    assert size
    texts = [_run("pdftotext", "-layout", "-f", str(n), "-l", str(n), str(pdf), "-") for n in range(1, pages + 1)]
    words = [Word(m[4], float(m[0]), float(m[1]), float(m[2]), float(m[3]))
             for m in WORD.findall(_run("pdftotext", "-bbox", "-f", "1", "-l", "1", str(pdf), "-"))]
    SHOTS.mkdir(parents=True, exist_ok=True)
    _run("pdftoppm", "-png", "-r", "110", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(SHOTS / source.stem))
    return Printed(pdf, pages, (float(size[1]), float(size[2])), texts, words, SHOTS / f"{source.stem}.png")


@pytest.fixture
def printed(tmp_path: Path) -> Callable[[Path], Printed]:
    """A function: the document at a path, printed to PDF by LibreOffice (headless) and read back."""
    return lambda source: _print(source, tmp_path / f"print-{source.stem}")
