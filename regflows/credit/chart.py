"""The month against the previous twelve, as a markdown table with a text bar per month.

No plotting library, nothing fetched from a CDN, no personal data (only counts per month).
"""

from __future__ import annotations

from typing import Any

from regflows.credit.models import COUNT_TITLES, COUNTS, Period
from regflows.kit.documents import markdown_text

def monthly_totals(summary: dict[str, Any] | None) -> dict[str, int] | None:
    if summary is None:
        return None
    return {c: sum(int(r.get(c, 0)) for r in summary.get("rows", [])) for c in COUNTS}


BAR_WIDTH = 30


def bar(total: dict[str, int] | None, peak: int) -> str:
    """A text bar of the month's total: Prefect's markdown renderer strips inline SVG and images,
    while a row of block characters renders everywhere (and reads fine in a log or an email)."""
    if total is None:
        return "—"
    value = sum(total.values())
    return "█" * max(1 if value else 0, round(value / peak * BAR_WIDTH)) + f" {value}"


def history_markdown(period: Period, summaries: dict[str, dict[str, Any] | None], warnings: list[str]) -> str:
    labels = sorted(summaries)
    totals = [monthly_totals(summaries[label]) for label in labels]
    peak = max([sum(t.values()) for t in totals if t] + [1])
    lines = [f"# 征信信息安全情况：{period.year}年{period.month}月与前 12 个月", "",
             "| 月份 | " + " | ".join(COUNT_TITLES[c] for c in COUNTS) + " | 合计 |", "|---" * (len(COUNTS) + 2) + "|"]
    for label, total in zip(labels, totals):
        cells = [str(total[c]) for c in COUNTS] if total else ["无记录"] * len(COUNTS)
        mark = f"**{label}**" if label == period.label else label
        lines.append(f"| {mark} | " + " | ".join(cells) + f" | {bar(total, peak)} |")
    if warnings:
        lines += ["", "## 警告", *[f"- {markdown_text(w)}" for w in warnings]]
    return "\n".join(lines) + "\n"
