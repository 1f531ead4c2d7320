"""Text from data inside Markdown artifacts is shown as typed (issue 13, 1: every artifact that carries input text)."""

from __future__ import annotations

from markdown_it import MarkdownIt  # installed with rich (Prefect and typer use it): the renderer of CommonMark

from regflows.credit.chart import history_markdown
from regflows.credit.models import Period
from regflows.kit.documents import markdown_text

HOSTILE = ["![x](http://evil.example/beacon)", "[请点此确认](http://evil.example)", "# 标题\n| a | b |", "<img src=x onerror=alert(1)>",
           "`code` *em* _u_ ~~s~~ \\ \\\\", "=HYPERLINK(\"http://evil.example\",\"x\")"]


def _rendered(text: str) -> str:
    return MarkdownIt("commonmark").enable("table").render(text)


def test_hostile_text_renders_as_its_own_characters() -> None:
    for value in HOSTILE:
        html = _rendered(f"- {markdown_text(value)}")
        assert "<a " not in html and "<img" not in html and "<h1" not in html and "<code" not in html and "<em" not in html
        plain = " ".join(value.splitlines())
        expected = plain.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
        assert f"<li>{expected}</li>" in html, (value, html)


def test_credit_trend_artifact_shows_warnings_as_text() -> None:
    text = history_markdown(Period(2025, 9), {"2025-09": None}, ["未知机构代码 ![x](http://evil.example/b)"])
    assert "<img" not in _rendered(text) and "![x](http://evil.example/b)" in _rendered(text)
