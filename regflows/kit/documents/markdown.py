"""Text from data inside a Markdown artifact: shown as typed, never as markup.

Why: Prefect's UI renders markdown artifacts. An incident title or a log value such as
``![x](http://evil.example/beacon)`` or ``[请点此确认](http://evil.example)`` would otherwise be an
image fetched from outside (telling a third party who opened the run) or a convincing link in
the duty officer's timeline; a newline would start a heading or end a table row. So every
Markdown punctuation character is escaped with a backslash (CommonMark: any ASCII punctuation may
be) and line breaks become spaces. Table artifacts need none of this: the UI shows their cells as
text.
"""

from __future__ import annotations

import re

_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~&\"'=:])")


def markdown_text(value: object) -> str:
    """``value`` as literal text inside Markdown (one line)."""
    text = " ".join(str(value).splitlines())
    return _PUNCTUATION.sub(r"\\\1", text)


__all__ = ["markdown_text"]
