"""The rectification notice (整改通知书) sent to a department with a problem (CUSTINFO 10.2: the
quarterly spot check's problems are sent back with a notice and a time limit).

Written with the kit's official document (GB/T 9704 layout and fonts; reproducible bytes for the
same content and date) from the finding as the register holds it, so the time limit printed is
the rectification obligation's due day, never a second computation; recorded with its SHA-256
(``regflows.kit.reports``). It serves any finding (a patrol's too), the spot check's first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path

from calendars.zone import SHANGHAI
from regflows.inspection.owed import PROCEDURE
from regflows.inspection.rectification import SOURCES, FindingStatus, finding_status
from regflows.kit.documents import OfficialDocument
from regflows.kit.reports import record_report_in
from regflows.store import db

__all__ = ["DOCUMENTS", "KIND", "TITLE", "cite", "issue_notice", "write_notice"]

KIND = "rectification_notice"
TITLE = "整改通知书"


#: The documents behind the clause tags (docs/regulations.md), as a notice names them: a
#: department reads 《企业客户信息保护管理办法》, not "CUSTINFO" (review of issue 15, 15).
DOCUMENTS: dict[str, str] = {
    "CUSTINFO": "《企业客户信息保护管理办法》",
    "PBOC-102": "《中国人民银行关于进一步加强征信信息安全管理的通知》（银发〔2018〕102号）",
    "NFRA": "《银行业保险业网络安全管理办法》",
    "CQ-PLAN": "《重庆市地方金融监督管理局网络安全事件应急预案》",
    "TENPAY": "《个人金融信息安全事件管理规范》",
}


def cite(clause: str) -> str:
    """A clause as a notice cites it: the document's name, then the article (``CUSTINFO 10.2`` →
    《企业客户信息保护管理办法》10.2); a clause without a known tag stays as written."""
    tag, _, article = clause.strip().partition(" ")
    name = DOCUMENTS.get(tag)
    if name is None:
        return clause
    return f"{name}{article.strip()}"


def _date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def write_notice(status: FindingStatus, path: str | Path, *, institution: str, issuer: str = "合规部",
                 issued_at: dt.datetime | None = None, owner_name: str | None = None, unit_name: str | None = None) -> Path:
    """The notice of one finding as a .docx at ``path``; ``issued_at`` (aware) is its date,
    ``owner_name`` the owner's name as the profile gives it (the person id otherwise), ``unit_name``
    the addressee's name (a reporting unit's code is not how a notice is addressed)."""
    stamp = (issued_at or dt.datetime.now(SHANGHAI)).replace(microsecond=0)
    f = status.finding
    due = status.rectification["due"]
    if not due:
        raise ValueError(f"问题 {status.id} 没有整改期限，不能出具整改通知书")
    limit = dt.date.fromisoformat(due)
    doc = OfficialDocument(TITLE, stamp=stamp, header=f"{institution}　{TITLE}", subtitle=f"编号：{status.id}")
    doc.paragraph(f"{unit_name or f.unit}：", indent=False)
    source = SOURCES[f.source].split("（", 1)[0]  # its clause is the 依据 below, named once
    doc.paragraph(f"根据{source}，{_date(f.feedback)}反馈你部门（单位）存在以下问题，"
                  "请按本通知要求整改。")
    doc.heading("一、存在的问题")
    doc.table([("问题", f.title), ("依据", cite(f.clause)), ("情况说明", f.detail or "（无）"), ("整改责任人", f"{owner_name}（{f.owner}）" if owner_name else f.owner),
               ("所属季度", f.quarter)], (36, 120))
    doc.heading("二、整改要求")
    doc.paragraph(f"请于{_date(limit)}24时前完成整改（计算方式：{status.rectification['basis']}），"
                  f"并将整改情况及证明材料报{issuer}。整改完成后由{issuer}组织复查，复查通过后方可销号。")
    report = status.report
    if report.get("due"):
        doc.paragraph(f"整改情况须于{_date(dt.date.fromisoformat(report['due']))}24时前报送（{REPORT_NOTE}）。")
    else:
        doc.paragraph(f"整改情况报送期限自本季度自查报告签发之日起算 15 个工作日（{REPORT_NOTE}），届时另行通知。")
    doc.paragraph("逾期未完成整改的，将按本机构规定上报并纳入考核。")
    doc.signature([f"{institution}{issuer}", _date(stamp.astimezone(SHANGHAI).date())])
    return doc.save(path, subject=f"{f.unit} {f.title}", keywords=f"{TITLE} {f.clause} {status.id}", category=TITLE)


REPORT_NOTE = "PBOC-102 附件4 六（二）：接到整改反馈后的 15 个工作日内报送整改情况"


def issue_notice(finding_id: str, path: str | Path, *, institution: str, issuer: str = "合规部",
                 issued_at: dt.datetime | None = None, url: str | None = None, by: str = "system",
                 names: Mapping[str, str] | None = None, units: Mapping[str, str] | None = None) -> tuple[Path, str]:
    """Write the finding's notice and record it (report table and ledger, with its SHA-256);
    ``names`` are the profile's people's names by id, ``units`` its reporting units' by code."""
    status = finding_status(finding_id, url)
    written = write_notice(status, path, institution=institution, issuer=issuer, issued_at=issued_at,
                           owner_name=(names or {}).get(status.finding.owner), unit_name=(units or {}).get(status.finding.unit))
    with db.session(url) as s:
        digest = record_report_in(s, procedure=PROCEDURE, kind=KIND, subject=finding_id, path=written,
                                  action="inspection.notice_written", detail={"due": status.rectification["due"]}, actor=by)
    return written, digest
