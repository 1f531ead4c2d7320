"""The month against the previous twelve, as markdown with an inline SVG bar chart and a table.

Plain SVG written by hand: no plotting library, nothing fetched from a CDN, no personal data
(only counts per month).
"""

from __future__ import annotations

from typing import Any

from regflows.credit.models import COUNT_TITLES, COUNTS, Period

_COLOURS = {"abnormal_query": "#d98c1f", "unauthorized_query": "#c0392b", "illegal_provision": "#6c3483",
            "improper_use": "#1f618d", "report_leak": "#117a65"}


def monthly_totals(summary: dict[str, Any] | None) -> dict[str, int] | None:
    if summary is None:
        return None
    return {c: sum(int(r.get(c, 0)) for r in summary.get("rows", [])) for c in COUNTS}


def svg_chart(labels: list[str], totals: list[dict[str, int] | None], width: int = 720, height: int = 240) -> str:
    """Stacked bars per month; a missing month is a dashed outline."""
    margin, top = 40, 20
    n = max(len(labels), 1)
    slot = (width - margin) / n
    peak = max([sum(t.values()) for t in totals if t] + [1])
    scale = (height - top - 40) / peak
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-size="10">']
    base = height - 30
    for i, (label, total) in enumerate(zip(labels, totals)):
        x = margin + i * slot + slot * 0.15
        w = slot * 0.7
        if total is None:
            parts.append(f'<rect x="{x:.1f}" y="{base - 10}" width="{w:.1f}" height="10" fill="none" stroke="#999" stroke-dasharray="3,2"/>')
        else:
            y = base
            for c in COUNTS:
                h = total[c] * scale
                if h > 0:
                    y -= h
                    parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{_COLOURS[c]}"/>')
            parts.append(f'<text x="{x + w / 2:.1f}" y="{y - 3:.1f}" text-anchor="middle">{sum(total.values())}</text>')
        parts.append(f'<text x="{x + w / 2:.1f}" y="{base + 14}" text-anchor="middle">{label[2:]}</text>')
    parts.append(f'<line x1="{margin}" y1="{base}" x2="{width}" y2="{base}" stroke="#333"/>')
    for j, c in enumerate(COUNTS):
        parts.append(f'<rect x="{margin + j * 110}" y="{height - 12}" width="8" height="8" fill="{_COLOURS[c]}"/>'
                     f'<text x="{margin + j * 110 + 11}" y="{height - 4}">{COUNT_TITLES[c]}</text>')
    parts.append("</svg>")
    return "".join(parts)


def history_markdown(period: Period, summaries: dict[str, dict[str, Any] | None], warnings: list[str]) -> str:
    labels = sorted(summaries)
    totals = [monthly_totals(summaries[label]) for label in labels]
    lines = [f"# 征信信息安全情况：{period.year}年{period.month}月与前 12 个月", "", svg_chart(labels, totals), "",
             "| 月份 | " + " | ".join(COUNT_TITLES[c] for c in COUNTS) + " |", "|---" * (len(COUNTS) + 1) + "|"]
    for label, total in zip(labels, totals):
        cells = [str(total[c]) for c in COUNTS] if total else ["无记录"] * len(COUNTS)
        mark = f"**{label}**" if label == period.label else label
        lines.append(f"| {mark} | " + " | ".join(cells) + " |")
    if warnings:
        lines += ["", "## 警告", *[f"- {w}" for w in warnings]]
    return "\n".join(lines) + "\n"
