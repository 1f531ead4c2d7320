"""The year's self-assessment report (.docx), score sheet (.xlsx) and the artifact's Markdown
(issue 16, item 5). Pure writers: a :class:`ReportContext` in, files out (same context, same bytes).

Why attachment 3's structure: the PBoC rates from its table (考核评级指标及标准); a report laid
out as that table, five parts in order, each indicator and item with its 分值, its score and
every point lost with the row's 计分标准 and the evidence behind it, is read beside the table
without translation. Then what the total does: the cap at 100 (第六条), the grade (第十四条),
the conditions of 第十五条 (one step down) and 第十六条 (score 0) applied, the candidates
nobody has confirmed (never applied), and last year's result beside this year's when given.

It is a draft (草稿 marks) until signed off through the kit's approvals
(regflows/rating/signoff.py); the sign-off day is ``待补充（签发日期）`` until then and the kit's
``final_copy`` fills it in. Items nobody has confirmed are listed (第十二条: the institution
answers for its self-assessment): the sign-off refuses while any remain.

The score sheet holds values only, never a formula (the kit's SafeWorkbook writes text as text):
one row per item with its deductions, one row per part, the total and grade.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from regflows.kit.documents import DRAFT_MARK, CellStyle, OfficialDocument, SafeWorkbook, markdown_text, pending
from regflows.rating.evidence import DOWNGRADE_CONDITIONS, ZERO_CONDITIONS, Candidate
from regflows.rating.model import RatingModel
from regflows.rating.scoring import Comparison, RatingResult, num

__all__ = ["PART_NUMERALS", "SHEET_COLUMNS", "SIGNOFF_DAY", "ReportContext", "artifact_markdown", "num", "report_title",
           "write_report", "write_sheet"]

PART_NUMERALS = ("一", "二", "三", "四", "五")
SIGNOFF_DAY = "签发日期"
DRAFT_NOTICE = DRAFT_MARK + "：本自评报告由 regflows 根据本年度自评证据生成，须经复核、签发后方可报送人民银行。"
SHEET_COLUMNS = ("评价项目", "指标", "编号", "考核内容", "分值", "得分", "扣分", "计分标准", "证据")
SHEET_WIDTHS = (18, 22, 7, 28, 7, 7, 7, 45, 60)
_HEAD = CellStyle(bold=True, border=True, horizontal="center", vertical="center", wrap=True)
_CELL = CellStyle(border=True, vertical="top", wrap=True)
_BOLD = CellStyle(bold=True, border=True, vertical="top", wrap=True)


def _signed(value: Decimal) -> str:
    return ("+" if value > 0 else "") + num(value)


def report_title(year: int) -> str:
    return f"{year}年度征信合规与信息安全考核评级自评报告"


@dataclass
class ReportContext:
    """Everything the report says, gathered by the run (:mod:`.pipeline`)."""

    institution: str
    model: RatingModel
    result: RatingResult
    prepared_at: dt.datetime
    evidence_file: str
    evidence_sha256: str
    contradictions: str  # the reading of items 16-18 in force (settings.rating_contradictions)
    candidates: Sequence[Candidate] = ()
    comparison: Comparison | None = None
    #: Why there is no comparison (no last year's evidence given, another model version), or None.
    comparison_note: str | None = None
    submission_due: str | None = None  # the self-assessment's due day label, when the calendar gives it
    submission_basis: str = ""
    people: dict[str, str] = field(default_factory=dict)


def _unevaluated_text(facts: Sequence[str]) -> str:
    return f"未评估：{'、'.join(facts)} 为 null，未按其计分（得分不代表满分）；评估并确认前不能签发"


def _conditions_text(numbers: Sequence[int], table: dict[int, str]) -> str:
    return "；".join(f"（{n}）{table[n]}" for n in numbers)


def _items_rows(ctx: ReportContext, part_id: str) -> list[list[str]]:
    rows = [["编号", "考核指标", "分值", "得分", "扣分依据（计分标准）与证据"]]
    for indicator in (i for i in ctx.model.indicators if i.part == part_id):
        for item in (i for i in ctx.model.items if i.indicator == indicator.id):
            scored = next(s for s in ctx.result.items if s.id == item.id)
            missing = ctx.result.unevaluated.get(item.id)
            lines = [_unevaluated_text(missing)] if missing else []
            lines += [f"扣 {num(d.points)} 分：{d.rule}。证据：{d.evidence}" for d in scored.deductions]
            why = "\n".join(lines) or "未发现扣分事项"
            got = num(scored.points) + ("（未评估）" if missing else "")
            rows.append([item.id, f"{indicator.id} {indicator.title}：{item.title}", num(scored.max), got, why])
    return rows


def write_report(path: Path, ctx: ReportContext) -> Path:
    """The self-assessment report draft at ``path``."""
    r = ctx.result
    doc = OfficialDocument(report_title(r.year), stamp=ctx.prepared_at, subtitle=ctx.institution,
                           header=f"{ctx.institution}　{r.year} 年度考核评级自评报告", draft=DRAFT_MARK, draft_notice=DRAFT_NOTICE,
                           page_numbers="page_of_total")
    doc.heading("一、自评总体情况")
    doc.paragraph(f"依据《中国人民银行关于进一步加强征信信息安全管理的通知》（银发〔2018〕102号）六及附件3《金融信用信息基础数据库接入机构"
                  f"征信合规与信息安全年度考核评级管理办法》，本机构对照《考核评级指标及标准》，对 {r.year} 年 1 月 1 日至 12 月 31 日"
                  "（第九条）的征信合规与信息安全情况开展自评。")
    reading = {"cap_at_value": "指标16、17 最高按分值计，指标18 加2分", "rule_text": "指标16、17 按计分标准计5分，指标18 加2分"}
    overview = [["项目", "内容"], ["自评得分", f"{num(r.score)} 分（满分 {num(ctx.model.total)} 分）"],
                ["自评等级", "0 分（第十六条）" if r.grade == "0" else f"{r.grade} 级"],
                ["各项合计", f"{num(r.total)} 分" + ("（超过满分的部分不计，第六条；指标18 计分标准3）" if r.total > ctx.model.total else "")],
                ["按分数的等级", r.grade_before_downgrade if r.grade_before_downgrade == "0" else f"{r.grade_before_downgrade} 级（第十四条）"],
                *[[f"{PART_NUMERALS[i]}、{p.title}", f"{num(r.parts[p.id])} 分（满分 {num(p.max)} 分）"] for i, p in enumerate(ctx.model.parts)],
                ["指标及标准", f"{ctx.model.source}（模型 {ctx.model.model}）"],
                ["表内矛盾的处理", f"{reading.get(ctx.contradictions, ctx.contradictions)}（设置 rating_contradictions = {ctx.contradictions}）"],
                ["自评证据", f"{ctx.evidence_file}（SHA-256 {ctx.evidence_sha256}）"]]
    doc.table(overview, [45, 115], header=True)
    # the five parts, in the table's order (第五条)
    for i, part in enumerate(ctx.model.parts):
        doc.heading(f"{_heading_number(i + 2)}、{part.title}（满分 {num(part.max)} 分，自评 {num(r.parts[part.id])} 分）")
        doc.table(_items_rows(ctx, part.id), [15, 45, 15, 15, 70], header=True, label_column=False)
    n = len(ctx.model.parts) + 2
    doc.heading(f"{_heading_number(n)}、下调等级与定为 0 分的情形")
    if r.zeroed_by:
        doc.paragraph(f"存在第十六条情形：{_conditions_text(r.zeroed_by, ZERO_CONDITIONS)}。考核计分直接定为 0 分（第十六条）。")
    else:
        doc.paragraph("未发现第十六条所列情形。")
    if r.downgraded_by:
        doc.paragraph(f"存在第十五条情形：{_conditions_text(r.downgraded_by, DOWNGRADE_CONDITIONS)}。"
                      + ("" if r.zeroed_by else f"等级由 {r.grade_before_downgrade} 级下调一级为 {r.grade} 级（多项情形合计下调一级，D 级不再下调）。"))
    else:
        doc.paragraph("未确认第十五条所列情形。")
    for candidate in ctx.candidates:
        doc.paragraph(f"待确认的第十五条（{candidate.condition}）情形（未计入）：{candidate.what}"
                      + (f"（来源：{candidate.source}）" if candidate.source else ""))
    doc.heading(f"{_heading_number(n + 1)}、与上一年度比较")
    if ctx.comparison is None:
        doc.paragraph(ctx.comparison_note or "未提供上一年度的自评证据，不作比较。")
    else:
        c = ctx.comparison
        doc.paragraph(f"{c.year} 年度自评 {num(c.score.current)} 分、{_grade_label(c.grade)}；{c.previous_year} 年度 "
                      f"{num(c.score.previous)} 分、{_grade_label(c.previous_grade)}；变化 {_signed(c.score.delta)} 分。")
        titles = {p.id: p.title for p in ctx.model.parts}
        rows = [["评价项目", f"{c.previous_year} 年度", f"{c.year} 年度", "变化"],
                *[[titles.get(p.id, p.id), num(p.previous), num(p.current), _signed(p.delta)] for p in c.parts]]
        doc.table(rows, [60, 33, 33, 34], header=True)
        if c.items:
            doc.paragraph("得分变化的指标：")
            doc.table([["编号", f"{c.previous_year} 年度", f"{c.year} 年度", "变化"],
                       *[[x.id, num(x.previous), num(x.current), _signed(x.delta)] for x in c.items]], [40, 40, 40, 40], header=True)
        else:
            doc.paragraph("各指标得分与上一年度相同。")
    doc.heading(f"{_heading_number(n + 2)}、确认与报送")
    if r.unevaluated:
        doc.paragraph(pending(f"{len(r.unevaluated)} 个指标未评估：{'、'.join(r.unevaluated)}；全部评估前不能签发（第十二条）"))
    if r.unconfirmed:
        doc.paragraph(pending(f"{len(r.unconfirmed)} 个指标的事实尚未确认：{'、'.join(r.unconfirmed)}；全部确认前不能签发（第十二条）"))
    else:
        doc.paragraph("各指标的事实均已由本机构人员逐项确认（证据文件 provenance），本机构对自评结果和相关证明材料的真实性负责（第十二条）。")
    due = ctx.submission_due or pending(ctx.submission_basis or "报送期限无法计算")
    doc.paragraph(f"本自评结果及相关证明材料应于 {due} 前报送人民银行（{ctx.submission_basis}）。")
    doc.signature([ctx.institution, pending(SIGNOFF_DAY)])
    return doc.save(path, subject=f"{r.year} 年度考核评级自评报告", category="rating")


def _heading_number(n: int) -> str:
    numerals = "一二三四五六七八九十"
    return numerals[n - 1] if n <= 10 else f"十{numerals[n - 11]}"


def _grade_label(grade: str) -> str:
    return "0 分（第十六条）" if grade == "0" else f"{grade} 级"


def write_sheet(path: Path, ctx: ReportContext) -> Path:
    """The score sheet: values only (no formula), one row per item and deduction, then the parts and the total."""
    r = ctx.result
    book = SafeWorkbook(stamp=ctx.prepared_at)
    sheet = book.sheet("自评计分")
    sheet.column_widths(SHEET_WIDTHS)  # before the rows: each row's height is fitted to its text in these widths
    for column, title in enumerate(SHEET_COLUMNS, start=1):
        sheet.write(1, column, title, _HEAD)
    sheet.fit_row_height(1)
    row = 1
    parts = {p.id: p for p in ctx.model.parts}
    indicators = {i.id: i for i in ctx.model.indicators}
    for item in ctx.model.items:
        scored = next(s for s in r.items if s.id == item.id)
        indicator = indicators[item.indicator]
        lost = sum((d.points for d in scored.deductions), Decimal(0))
        deductions = scored.deductions or ()
        missing = r.unevaluated.get(item.id)
        first = True
        for d in deductions or (None,):
            row += 1
            cells: tuple[str | Decimal | None, ...] = (
                parts[indicator.part].title if first else None, f"{indicator.id} {indicator.title}" if first else None,
                item.id, item.title if first else None, scored.max if first else None, scored.points if first else None,
                (d.points if d else (lost if first else None)), d.rule if d else "",
                d.evidence if d else (_unevaluated_text(missing) if missing else ""))
            for column, value in enumerate(cells, start=1):
                sheet.write(row, column, value, _CELL)
            sheet.fit_row_height(row)  # wrapped 计分标准 and 证据 print whole, not cut at the cell's edge
            first = False
    summary = book.sheet("汇总")
    summary.column_widths([30, 10, 40])
    for column, title in enumerate(("评价项目", "满分", "得分"), start=1):
        summary.write(1, column, title, _HEAD)
    for i, part in enumerate(ctx.model.parts, start=2):
        summary.write(i, 1, part.title, _CELL)
        summary.write(i, 2, part.max, _CELL)
        summary.write(i, 3, r.parts[part.id], _CELL)
    tail = len(ctx.model.parts) + 2
    rows: list[tuple[str, str | Decimal]] = [("各项合计", r.total), ("考核计分", r.score), ("等级", r.grade),
                                              ("第十五条（下调一级）", "、".join(str(n) for n in r.downgraded_by) or "无"),
                                              ("第十六条（定为0分）", "、".join(str(n) for n in r.zeroed_by) or "无"),
                                              ("未评估的指标", "、".join(r.unevaluated) or "无"),
                                              ("未确认的指标", "、".join(r.unconfirmed) or "无")]
    for offset, (label, value) in enumerate(rows):
        summary.write(tail + offset, 1, label, _BOLD)
        summary.write(tail + offset, 3, value, _CELL)
    last = tail + len(rows) - 1
    for summary_row in range(1, last + 1):
        summary.fit_row_height(summary_row)
    summary.print_layout(last_row=last, last_column=3, repeat_rows=(1, 1))  # landscape, one page wide, like the score sheet
    sheet.freeze(2)
    sheet.print_layout(last_row=row, last_column=len(SHEET_COLUMNS), repeat_rows=(1, 1))
    return book.save(path)


def artifact_markdown(ctx: ReportContext) -> str:
    """The Prefect UI's artifact: the five parts against their maxima, the total and grade, what
    was applied and what waits for a person."""
    r = ctx.result
    lines = [f"# {markdown_text(report_title(r.year))}（草稿）", "",
             f"**{markdown_text(ctx.institution)}**：自评 **{num(r.score)}** 分，等级 **{markdown_text(_grade_label(r.grade))}**", "",
             "| 评价项目 | 满分 | 得分 | 失分 |", "|---|---:|---:|---:|"]
    for i, part in enumerate(ctx.model.parts):
        got = r.parts[part.id]
        lines.append(f"| {PART_NUMERALS[i]}、{markdown_text(part.title)} | {num(part.max)} | {num(got)} | {num(max(Decimal(0), part.max - got))} |")
    lines.append(f"| 合计 | {num(ctx.model.total)} | {num(r.score)} | {num(ctx.model.total - r.score)} |")
    lines.append("")
    if r.zeroed_by:
        lines.append(f"- 第十六条情形（{'、'.join(str(n) for n in r.zeroed_by)}）：考核计分定为 0 分")
    if r.downgraded_by:
        lines.append(f"- 第十五条情形（{'、'.join(str(n) for n in r.downgraded_by)}）：等级由 {r.grade_before_downgrade} 下调一级")
    for candidate in ctx.candidates:
        lines.append(f"- 待确认的第十五条（{candidate.condition}）情形（未计入）：{markdown_text(candidate.what)}")
    if r.unevaluated:
        lines.append(f"- **{len(r.unevaluated)} 个指标未评估**（全部评估前不能签发）：{'、'.join(r.unevaluated)}")
    if r.unconfirmed:
        lines.append(f"- **{len(r.unconfirmed)} 个指标尚未确认**（全部确认前不能签发）：{'、'.join(r.unconfirmed)}")
    if ctx.comparison is not None:
        c = ctx.comparison
        lines.append(f"- 与 {c.previous_year} 年度比较：{num(c.score.previous)} → {num(c.score.current)} 分（{_signed(c.score.delta)}），"
                     f"{markdown_text(_grade_label(c.previous_grade))} → {markdown_text(_grade_label(c.grade))}")
    elif ctx.comparison_note:
        lines.append(f"- {markdown_text(ctx.comparison_note)}")
    return "\n".join(lines) + "\n"
