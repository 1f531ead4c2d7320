"""The quarter's self-inspection report draft (.docx) and findings workbook (.xlsx) (issue 15, item 6).

PBOC-102 三（三） asks for a written report of the quarterly 自查自纠; its sections follow what the
inspection did: scope, method, the sample and its manifest (so a reader can redraw it), findings
by link (授权、审核、查询、使用、存储; the owners' answers, as far as recorded, and the automatic checks
of the users, 附件3 5.1-5.7), the vulnerability analysis (NFRA 23) and the rectification plan and
status (附件4 六（二）). It is a draft (草稿 marks) until signed off through the kit's approvals; what
the run cannot know yet (the owners' answers, the rectification dates that count from the
sign-off) is printed as 待补充 with its reason, never left out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from regflows.inspection.checks import CheckResult
from regflows.inspection.models import LEAD_KINDS, LINKS, OUTCOMES, Answer, Lead
from regflows.inspection.sample import Sample
from regflows.inspection.vulns import VulnsFigures, chart_rows, mean_sentence
from regflows.inspection.spot_check import AREAS
from regflows.kit.documents import DRAFT_MARK, CellStyle, OfficialDocument, SafeWorkbook, pending

if TYPE_CHECKING:
    from regflows.inspection.spot_records import SpotCheck

__all__ = ["FINDINGS_COLUMNS", "NO_SPOT_CHECK", "RECTIFICATION_PENDING", "REGISTER_COLUMNS", "SECTIONS", "SIGNOFF_DAY",
           "SPOT_CHECK_COLUMNS", "SPOT_CHECK_HEADING", "ReportContext", "write_findings", "write_report"]

#: The report's section headings, in order (tests open the .docx and look for each).
SECTIONS: tuple[str, ...] = ("一、自查范围", "二、自查方法", "三、抽查样本及其清单", "四、发现的问题（按环节）",
                             "五、漏洞处置情况分析", "六、整改计划与整改情况")
DRAFT_NOTICE = DRAFT_MARK + "：本报告由 regflows 根据本季度自查数据生成，须经审批签发后方可报送。"
#: The draft's two elements the sign-off fills in (regflows/inspection/signoff.py, the kit's final_copy).
SIGNOFF_DAY = "签发日期"
#: The columns of the register's table in section 六.
REGISTER_COLUMNS = ("问题", "来源", "责任单位", "整改责任人", "整改期限", "整改状态")
#: Section 四's subsection on what the quarterly spot check of the business departments covered (CUSTINFO 10.2).
SPOT_CHECK_HEADING = "业务部门合规抽查（CUSTINFO 10.2）"
SPOT_CHECK_COLUMNS = ("业务部门", "抽查领域", "抽查日期", "抽查人", "结果")
#: Never silent: a quarter without a recorded spot check says so.
NO_SPOT_CHECK = "本季度未登记业务部门合规抽查（CUSTINFO 10.2 要求每季度对业务部门的收集告知、权限管理、销毁流程开展合规抽查）"
RECTIFICATION_PENDING = "整改登记与整改进度于报告签发后登记，签发稿中补充各项问题的整改期限与状态"
#: People read the check's title, never its id (review of issue 15, item 15).
FINDINGS_COLUMNS: tuple[str, ...] = ("序号", "检查项", "依据条款", "用户", "用户清单行号", "问题说明")
#: 附件4 六（二）: the rectification report within 15 working days of the feedback; the register
#: (regflows/inspection/rectification.py) sets each finding's own due day.
RECTIFY_WORKING_DAYS = 15
_HEAD = CellStyle(bold=True, border=True, horizontal="center", vertical="center", wrap=True)
_CELL = CellStyle(border=True, vertical="top", wrap=True)


@dataclass
class ReportContext:
    """Everything the report says, gathered by the run (:mod:`.pipeline`)."""

    institution: str
    quarter_label: str  # 2025Q3
    quarter_title: str  # 2025年第三季度
    first_day: dt.date
    last_day: dt.date
    run_id: str
    prepared_at: dt.datetime
    logs: Sequence[str]
    users_file: str
    rules_title: str
    results: Mapping[str, CheckResult]
    leads: Sequence[Lead]
    sample: Sample
    manifest_sha256: str
    report_due: str | None  # the due day's label, or None when the calendar cannot say
    report_due_basis: str
    vulns: VulnsFigures | None = None
    vulns_file: str | None = None
    answers: Mapping[tuple[str, str], Answer] = field(default_factory=dict)
    warnings: Sequence[str] = ()
    #: person_id → name (the profile's people), so the report names people, not ids.
    people: Mapping[str, str] = field(default_factory=dict)
    #: The quarter's rectification register as it stands when the report is (re)drafted, one row per
    #: finding: 问题, 来源, 责任单位, 整改责任人, 整改期限, 整改状态 (regflows/inspection/register_sheet.py).
    register: Sequence[Sequence[str]] = ()
    #: unit code → name (the profile's reporting units), kept with the run for a redraft.
    units: Mapping[str, str] = field(default_factory=dict)
    #: Whose report this is (regflows/inspection/units.py; PBOC-102 三（三） after 三（二）'s route):
    #: the head office's holds every unit not reporting on its own, a unit's only its own data.
    unit: str = ""
    unit_name: str = ""
    head_office: bool = True
    addressee: str = ""
    covers: Sequence[str] = ()
    #: The head office's report: summary.json's ``reports`` entries of the units reporting on their
    #: own, printed as a summary when ``others_summarised`` (``inspection_head_office_summary``).
    others: Sequence[Mapping[str, Any]] = ()
    others_summarised: bool = True
    #: The quarter's spot check as covered when the report is (re)drafted (regflows/inspection/spot_records.py).
    spot_checks: Sequence[SpotCheck] = ()

    @property
    def reporter(self) -> str:
        """Who reports: the institution (head office), or the unit that reports on its own."""
        return self.institution if self.head_office or not self.unit_name else self.unit_name

    @property
    def findings(self) -> int:
        return sum(len(r.findings) for r in self.results.values())


def _counts(leads: Sequence[Lead]) -> dict[str, int]:
    return {k: sum(1 for lead in leads if lead.kind == k) for k in LEAD_KINDS}


def _result_text(r: CheckResult) -> str:
    if r.count is None:
        return f"未判断：{r.not_evaluated}"
    return f"{r.count} 项问题" + (f"（只判断了一部分：{r.partial}）" if r.partial else "")


def _lead_name(lead: Lead | None, lead_id: str) -> str:
    """A lead as people read it: its kind in Chinese and its reference (never ``flagged:Q…``)."""
    if lead is None:
        return lead_id.split(":", 1)[-1]
    return f"{LEAD_KINDS.get(lead.kind, lead.kind)} {lead.ref}"


def write_report(path: Path, ctx: ReportContext) -> Path:
    """The report draft at ``path`` (same context, same bytes)."""
    doc = OfficialDocument(f"{ctx.quarter_title}征信合规与信息安全自查自纠报告", stamp=ctx.prepared_at,
                           subtitle=ctx.reporter, header=f"{ctx.reporter}　{ctx.quarter_label} 自查自纠报告",
                           draft=DRAFT_MARK, draft_notice=DRAFT_NOTICE, page_numbers="page_of_total")
    counts = _counts(ctx.leads)
    # 一 scope
    doc.heading(SECTIONS[0])
    doc.paragraph(f"依据《中国人民银行关于进一步加强征信信息安全管理的通知》（银发〔2018〕102号）三（三），{'本机构' if ctx.head_office else '本单位'}对 "
                  f"{ctx.first_day} 至 {ctx.last_day} 的征信查询与征信信息安全情况开展自查自纠。范围包括：月度监测标记的异常查询与违规查询线索 "
                  f"{counts['flagged']} 条，本季度征信信息安全事件 {counts['event']} 起、其他安全事件 {counts['incident']} 起，"
                  f"未被标记查询的抽查样本 {counts['sampled']} 笔，以及征信系统用户（附件3 5.1-5.7）和漏洞处置情况（NFRA 23）。")
    doc.table([["项目", "内容"], ["查询日志", "；".join(ctx.logs)], ["用户清单", ctx.users_file],
               ["漏洞台账", ctx.vulns_file or pending("未提供漏洞台账")], ["运行编号", ctx.run_id],
               *([["报送对象", ctx.addressee]] if ctx.addressee else []),
               *([["本报告范围", "、".join(ctx.units.get(c, c) for c in ctx.covers)]] if ctx.covers else [])],
              [40, 120], header=True)
    if ctx.addressee:
        doc.paragraph(f"本报告按征信信息安全事件的报告流程（PBOC-102 三（三）、三（二））报送{ctx.addressee}"
                      + ("；单独报送的单位的线索、抽查、用户与问题不在本报告中。" if ctx.others else "。"))
    if ctx.others:
        names = "、".join(str(o["name"]) for o in ctx.others)
        if ctx.others_summarised:
            doc.paragraph(f"{names}单独编制自查报告并报送所在地人民银行分支机构，明细见其报告；概况如下：")
            doc.table([["单位", "报送对象", "线索", "抽查", "用户检查问题", "报告截止日"],
                       *[[str(o["name"]), str(o["addressee"]), str(o["leads"]), str(o["sampled"]), str(o["findings"]),
                          str(o["report_due"] or "无法确定")] for o in ctx.others]],
                      [34, 44, 16, 16, 22, 28], header=True)
        else:
            doc.paragraph(f"{names}单独编制自查报告并报送所在地人民银行分支机构，其自查情况不在本报告中。")
    # 二 method
    doc.heading(SECTIONS[1])
    doc.paragraph(f"线索按{ctx.rules_title}标记；每条线索由所在单位的核实负责人从"
                  f"{'、'.join(LINKS.values())}各环节逐笔核实，逐环节记录结论（{'、'.join(OUTCOMES.values())}）与证据。")
    doc.paragraph("用户管理按附件3 5.1-5.7 的阈值自动检查，每一用户每一检查项的不符合为一项问题；数据不足以判断的检查项注明“未判断”及原因，"
                  "不计为零。")
    # 三 sample
    s = ctx.sample
    doc.heading(SECTIONS[2])
    doc.paragraph("抽样采用简单随机抽样（不放回），随机种子与算法均记录在 sample-manifest.json 中，任何人可用相同数据重新抽出同一样本。")
    doc.table([["项目", "内容"], ["总体", f"本季度未被标记的查询 {s.population_size} 笔"],
               ["总体 SHA-256", s.population_sha256], ["随机种子", str(s.seed)],
               ["样本量", f"{s.size} 笔"], ["样本量规则", s.size_rule],
               ["抽样清单", f"sample-manifest.json（SHA-256 {ctx.manifest_sha256}）"],
               *([["日志覆盖", f"{s.coverage_note}：未覆盖日期的查询不在总体中"]] if s.coverage_note else []),
               *([["本报告的样本", f"全机构样本中查询属于本报告范围的 {counts['sampled']} 笔（样本按查询所属单位分属各报告）"]]
                 if ctx.others or not ctx.head_office else [])],
              [40, 120], header=True)
    # 四 findings by link
    doc.heading(SECTIONS[3])
    by_id = {lead.lead_id: lead for lead in ctx.leads}
    for key, name in LINKS.items():
        doc.heading(f"{name}环节", 2)
        answers = [a for (lead, link), a in sorted(ctx.answers.items()) if link == key]
        bad = [a for a in answers if a.outcome != "compliant"]
        answered = {a.lead_id for a in answers}
        # leads and sampled queries counted apart (review of issue 15, item 15)
        open_leads = sum(1 for lead in ctx.leads if lead.kind != "sampled" and lead.lead_id not in answered)
        open_sampled = sum(1 for lead in ctx.leads if lead.kind == "sampled" and lead.lead_id not in answered)
        text = f"已核实 {len(answers)} 条（线索与抽查），其中{OUTCOMES['violation']}或{OUTCOMES['rectify']} {len(bad)} 条。"
        waiting = "、".join(part for part in (f"{open_leads} 条线索" if open_leads else "",
                                              f"{open_sampled} 笔抽查" if open_sampled else "") if part)
        if waiting:
            text += pending(f"尚有{waiting}待负责人核实")
        doc.paragraph(text)
        for a in bad:
            doc.paragraph(f"{_lead_name(by_id.get(a.lead_id), a.lead_id)}：{OUTCOMES[a.outcome]}，{a.evidence}"
                          f"（核实人 {ctx.people.get(a.answered_by, a.answered_by)}）")
    doc.heading("用户管理自动检查（附件3 5.1-5.7）", 2)
    rows = [["检查项", "依据条款", "结果"]]
    for r in ctx.results.values():
        rows.append([r.title, r.clause, _result_text(r)])
    doc.table(rows, [55, 50, 55], header=True, label_column=False)
    doc.paragraph(f"共 {ctx.findings} 项问题，逐项列于问题清单（.xlsx）。")
    _spot_checks(doc, ctx)
    # 五 vulnerabilities
    doc.heading(SECTIONS[4])
    if ctx.vulns is None:
        doc.paragraph(pending("未提供漏洞台账（--vulns），本季度漏洞处置情况未分析"))
    else:
        v = ctx.vulns
        mean = mean_sentence(v)
        doc.paragraph(f"台账共 {v.total} 个漏洞，本季度新发现 {v.found_in_quarter} 个、修复 {v.fixed_in_quarter} 个；"
                      f"季末未修复 {v.open} 个，其中逾期 {len(v.overdue)} 个；逾期修复 {len(v.fixed_late)} 个。{mean}")
        doc.table([["等级", "季末未修复"], *[list(r) for r in chart_rows(v)]], [40, 120], header=True)
        if v.overdue:
            doc.paragraph(f"逾期未修复：{'、'.join(v.overdue)}。")
    # 六 rectification
    doc.heading(SECTIONS[5])
    doc.paragraph(f"每项问题由所在单位负责人整改，整改期限由负责人确定，默认自反馈之日起 {RECTIFY_WORKING_DAYS} 个工作日"
                  "（附件4 六（二））；整改须附证据并经复查方可关闭。")
    due = ctx.report_due or pending(ctx.report_due_basis)
    doc.paragraph(f"本报告应于 {due} 前按征信信息安全事件的报告流程报送（PBOC-102 三（三）；{ctx.report_due_basis}）。")
    if ctx.register:
        doc.paragraph(f"截至 {ctx.prepared_at:%Y-%m-%d %H:%M}（北京时间），本季度问题整改台账共 {len(ctx.register)} 项"
                      "（含用户检查、线索核实、业务部门抽查与人民银行检查反馈的问题）：")
        doc.table([list(REGISTER_COLUMNS), *[list(row) for row in ctx.register]], [46, 30, 22, 20, 18, 24], header=True)
    doc.paragraph(pending(RECTIFICATION_PENDING))
    for w in ctx.warnings:
        doc.paragraph(f"提示：{w}")
    doc.signature([ctx.reporter, pending(SIGNOFF_DAY)])
    return doc.save(path, subject=f"{ctx.quarter_label} 自查自纠报告", category="self-inspection")


def _spot_checks(doc: OfficialDocument, ctx: ReportContext) -> None:
    """Section 四's subsection: each department × area spot-checked (CUSTINFO 10.2), with its day,
    person and result; the areas no record covers; a plain statement when nothing was recorded."""
    doc.heading(SPOT_CHECK_HEADING, 2)
    if not ctx.spot_checks:
        doc.paragraph(NO_SPOT_CHECK + "。")
        return
    departments = sorted({c.department for c in ctx.spot_checks})
    doc.paragraph(f"本季度对 {len(departments)} 个业务部门的收集告知、权限管理、销毁流程开展合规抽查，"
                  f"共 {len(ctx.spot_checks)} 项；发现的问题均已下发整改通知书并列入整改台账：")
    rows = [list(SPOT_CHECK_COLUMNS)]
    for c in ctx.spot_checks:
        result = f"发现问题：{'、'.join(c.findings)}" if c.findings else "未发现问题"
        rows.append([ctx.units.get(c.department, c.department), AREAS[c.area],
                     c.checked_on.isoformat() if c.checked_on else "未登记（据整改台账）",
                     ctx.people.get(c.by, c.by) if c.by else "未登记", result])
    doc.table(rows, [36, 24, 26, 22, 52], header=True, label_column=False)
    missing = [name for code, name in AREAS.items() if code not in {c.area for c in ctx.spot_checks}]
    if missing:
        doc.paragraph(f"本季度未登记对{'、'.join(missing)}领域的抽查。")


def write_findings(path: Path, ctx: ReportContext) -> Path:
    """The findings workbook: one row per user and check (问题清单) and every check's result (检查结果)."""
    book = SafeWorkbook(stamp=ctx.prepared_at)
    sheet = book.sheet("问题清单")
    for column, title in enumerate(FINDINGS_COLUMNS, start=1):
        sheet.write(1, column, title, _HEAD)
    row = 1
    for r in ctx.results.values():
        for f in r.findings:
            row += 1
            values: tuple[str | int, ...] = (row - 1, f.title, f.clause, f.user_id, f.line, f.detail)
            for column, value in enumerate(values, start=1):
                sheet.write(row, column, value, _CELL)
    sheet.column_widths([6, 30, 30, 16, 8, 56])
    sheet.fit_row_heights(1, row)  # clauses and details printed whole, not cut to one line (review of issue 15, defect 3)
    sheet.print_layout(last_row=max(row, 1), last_column=len(FINDINGS_COLUMNS), repeat_rows=(1, 1))
    results = book.sheet("检查结果")
    for column, title in enumerate(("检查项", "依据条款", "问题数", "说明"), start=1):
        results.write(1, column, title, _HEAD)
    for i, r in enumerate(ctx.results.values(), start=2):
        note = f"未判断：{r.not_evaluated}" if r.not_evaluated else (f"只判断了一部分：{r.partial}" if r.partial else "")
        cells: tuple[str | int, ...] = (r.title, r.clause, "未判断" if r.count is None else r.count, note)
        for column, value in enumerate(cells, start=1):
            results.write(i, column, value, _CELL)
    results.column_widths([30, 30, 8, 56])
    results.fit_row_heights(1, len(ctx.results) + 1)
    results.print_layout(last_row=len(ctx.results) + 1, last_column=4, repeat_rows=(1, 1))
    return book.save(path)

