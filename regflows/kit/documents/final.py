"""The signed-off copy of an approved draft .docx, derived from the approved bytes themselves.

Why a transformation and not a second rendering: what the approvers approved is the draft's
SHA-256; a document rendered again from the store could say something else (the data moves on).
The final copy is the approved document with only the draft's marks taken out (the banner under
the title and the 「草稿 — 待审核」 mark in headers, footers and properties) and the named
pending elements (``待补充（签发日期）`` and the like) filled in; everything else is the approved
text, run for run. The result is reproducible (the same input, fill and stamp give the same bytes).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Mapping

from docx import Document
from docx.text.paragraph import Paragraph

from regflows.kit.documents.files import reproducible_zip
from regflows.kit.documents.markers import DRAFT_MARK, pending

__all__ = ["FINAL_STATUS", "final_copy"]

FINAL_STATUS = "定稿"


def _paragraphs(document) -> Iterable[Paragraph]:  # type: ignore[no-untyped-def]
    yield from document.paragraphs
    for table in document.tables:
        for row in table.rows:
            for cell in row.cells:
                yield from cell.paragraphs
    for section in document.sections:
        for part in (section.header, section.footer, section.first_page_header, section.first_page_footer,
                     section.even_page_header, section.even_page_footer):
            if part is not None and not part.is_linked_to_previous:
                yield from part.paragraphs


def final_copy(data: bytes, *, stamp: dt.datetime, fill: Mapping[str, str]) -> bytes:
    """The approved .docx ``data`` without its draft marks, each ``待补充（reason）`` whose reason
    is a key of ``fill`` replaced by its value (no longer highlighted). Raises ValueError when a
    named element is not in the document: a fill that lands nowhere would leave the final copy
    silently incomplete."""
    document = Document(io.BytesIO(data))
    markers = {pending(reason): text for reason, text in fill.items()}
    found: set[str] = set()
    for paragraph in list(_paragraphs(document)):
        if paragraph.text.startswith(DRAFT_MARK + "："):  # the draft banner under the title
            paragraph._element.getparent().remove(paragraph._element)
            continue
        for run in paragraph.runs:
            text = run.text
            for marker, value in markers.items():
                if marker in text:
                    text = text.replace(marker, value)
                    found.add(marker)
                    run.font.highlight_color = None
                    run.font.bold = None
            if DRAFT_MARK in text:
                text = text.replace("　" + DRAFT_MARK, "").replace(" " + DRAFT_MARK, "").replace(DRAFT_MARK, "")
            if text != run.text:
                run.text = text
    missing = [m for m in markers if m not in found]
    if missing:
        raise ValueError(f"定稿时未找到待补充项：{'、'.join(missing)}")
    props = document.core_properties
    props.content_status = FINAL_STATUS
    props.comments = ""
    props.modified = stamp.astimezone(dt.UTC).replace(tzinfo=None, microsecond=0)
    raw = io.BytesIO()
    document.save(raw)
    return reproducible_zip(raw.getvalue(), stamp)
