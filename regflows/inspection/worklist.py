"""The verification worklist as a spreadsheet: exported with the run, imported filled in.

Why a workbook at all: the owners who verify the leads (PBOC-102 三（三）: 「与对应的信贷业务进行
逐笔核实，从授权、审核、查询、使用、存储各环节梳理」) work in spreadsheets; the signed page per lead
(:mod:`regflows.inspection.pages`) is the other way in. The format (issue 15,
item 3): one row per (lead, link), the owner fills 结论/证据说明/核实人, and a very hidden sheet
carries the run id and the SHA-256 of the (lead, link) cells, so an import attaches the file to
its quarter and detects an edited lead or link cell. The hidden sheet also carries a signature
over run_id|exported_at|sha256 (:func:`notices.acks.sign`, the endpoint's key, purpose
``worklist``): the export time decides whether a newer page answer wins (a row answered since the
export is refused), so an edited export time (e.g. 2099-01-01) would let an old workbook override
an owner's newer answer; without the key it cannot be re-signed, and a workbook whose signature
does not verify is refused whole.

Reading is as careful as writing: a cell is read as the text it shows, a formula is never
evaluated (and refused: an owner's answer is typed, not computed), and every bad row is refused
with its row number and column while the good rows are recorded.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import io
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from calendars.zone import SHANGHAI
from notices.acks import sign
from regflows import ledger
from regflows.inspection.models import LEAD_KINDS, LINKS, OUTCOMES, Answer, InspectionInputError, Lead, Quarter
from regflows.kit.documents import CellStyle, SafeWorkbook
from regflows.kit.reports import OnRecord, refuse_overwriting

__all__ = [
    "COLUMNS",
    "META_SHEET",
    "SHEET",
    "ImportResult",
    "RefusedRow",
    "export_run_worklist",
    "export_worklist",
    "import_worklist",
    "worklist_sha256",
    "worklist_signature",
]

SHEET = "核实清单"
META_SHEET = "_regflows"
#: The columns of the worklist sheet, in order. Owners fill the last three.
COLUMNS: tuple[str, ...] = ("线索编号", "类型", "单位", "负责人", "摘要", "命中规则", "发生时间（北京时间）",
                            "环节", "结论", "证据说明", "核实人")
_WIDTHS = (22, 14, 14, 14, 40, 24, 20, 8, 10, 40, 14)
COL_LEAD, COL_LINK, COL_OUTCOME, COL_EVIDENCE, COL_BY = 1, 8, 9, 10, 11
#: Outcomes that need evidence: a finding must say what was found (issue 15, item 5: every
#: finding traceable from lead to closure).
NEEDS_EVIDENCE = frozenset({"violation", "rectify"})

#: The most a worklist may unpack to: thousands of rows take a few MiB; a zip bomb is refused
#: before the spreadsheet reader inflates it.
MAX_UNPACKED = 200 * 2**20

_HEADER = CellStyle(bold=True, horizontal="center", vertical="center", wrap=True, border=True)
_CELL = CellStyle(vertical="top", wrap=True, border=True)


def worklist_sha256(pairs: Sequence[tuple[str, str]]) -> str:
    """SHA-256 (hex) of the (lead_id, link key) rows: one "lead_id\\tlink" line per row, joined by
    "\\n" with no trailing newline. Stored in the workbook and with the run."""
    text = "\n".join(f"{lead_id}\t{link}" for lead_id, link in pairs)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


#: The signature's purpose: no other kind of link or file signed with the same key stands for it.
SIGN_PURPOSE = "worklist"


def worklist_signature(run_id: str, exported_at: str, sha256: str) -> str:
    """The signature of a worklist's hidden facts (run id, export time as written, SHA-256)."""
    return sign(SIGN_PURPOSE, run_id, exported_at, sha256)


def _beijing(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def _utc_iso(value: dt.datetime) -> str:
    if value.tzinfo is None:
        raise InspectionInputError("导出时间须带时区")
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def export_worklist(path: Path, run_id: str, quarter: Quarter, exported_at: dt.datetime,
                    leads: Sequence[Lead], owners: Mapping[str, str] | None = None, *,
                    answers: Mapping[tuple[str, str], Answer] | None = None) -> str:
    """Write the worklist .xlsx at ``path``; return its SHA-256 (store it with the run: save_run).

    ``owners`` maps an owner's person_id to the name shown in 负责人 (``姓名（person_id）``);
    without it, or for a person it does not name, the person_id alone is shown. A lead without
    an owner shows 「未指定」 (the run raises it). ``exported_at`` (timezone-aware) is both the
    file's stamp (same leads, same time: same bytes) and the time an import compares newer page
    answers with. ``answers`` (the answers that count, by lead and link) fills 结论/证据说明/核实人
    of a copy exported again later (:func:`export_run_worklist`); the run's first export has only the
    answers carried from the quarter's previous run (records.carry_over).
    """
    stamp = _utc_iso(exported_at)
    pairs = [(lead.lead_id, link) for lead in leads for link in LINKS]
    digest = worklist_sha256(pairs)
    names = owners or {}
    book = SafeWorkbook(stamp=exported_at)
    sheet = book.sheet(SHEET)
    for column, title in enumerate(COLUMNS, start=1):
        sheet.write(1, column, title, _HEADER)
    row = 1
    for lead in leads:
        if lead.kind not in LEAD_KINDS:
            raise InspectionInputError(f"线索 {lead.lead_id} 的类型 {lead.kind!r} 不在 {sorted(LEAD_KINDS)} 之中")
        if lead.owner is None:
            owner = "未指定"
        elif lead.owner in names and names[lead.owner] != lead.owner:
            owner = f"{names[lead.owner]}（{lead.owner}）"
        else:
            owner = lead.owner
        fixed = (lead.lead_id, LEAD_KINDS[lead.kind], lead.unit, owner, lead.summary, "、".join(lead.rules),
                 _beijing(lead.occurred_at))
        for link, link_zh in LINKS.items():
            row += 1
            given = (answers or {}).get((lead.lead_id, link))
            filled = (OUTCOMES.get(given.outcome, given.outcome), given.evidence, given.answered_by) if given else ("", "", "")
            for column, value in enumerate((*fixed, link_zh, *filled), start=1):
                sheet.write(row, column, value or None, _CELL)
    sheet.column_widths(_WIDTHS)
    sheet.freeze(2, 1)
    sheet.dropdown(2, max(row, 2), COL_OUTCOME, list(OUTCOMES.values()), title="结论",
                   prompt="请选择：" + "、".join(OUTCOMES.values()), error="结论只能是：" + "、".join(OUTCOMES.values()))
    sheet.print_layout(last_row=max(row, 1), last_column=len(COLUMNS), repeat_rows=(1, 1))
    meta = book.sheet(META_SHEET)
    for index, (key, value) in enumerate((("run_id", run_id), ("quarter", quarter.label), ("exported_at", stamp),
                                          ("rows", str(len(pairs))), ("sha256", digest),
                                          ("signature", worklist_signature(run_id, stamp, digest))), start=1):
        meta.write(index, 1, key)
        meta.write(index, 2, value)
    meta.hide(very=True)
    book.save(path)
    return digest


def export_run_worklist(path: Path, run_id: str, *, owners: Mapping[str, str] | None = None,
                        now: dt.datetime | None = None, url: str | None = None) -> str:
    """Export a recorded run's worklist again, now, with the answers that count filled in.

    Why: a lost copy, or a row refused because it was answered since the export (the owner
    corrects it on this fresh copy, whose export time is now). The (lead, link) rows are the
    run's, so the hash is the one recorded with the run; anything else is refused."""
    from regflows.inspection import records

    run = records.run_of(run_id, url)
    if run is None:
        raise InspectionInputError(f"自查运行 {run_id} 未登记")
    try:  # never over a document on record, the run's own worklist included (review of issue 15, defect 4)
        refuse_overwriting(path, url)
    except OnRecord as exc:
        raise InspectionInputError(str(exc)) from None
    leads = records.leads_of(run_id, url)
    if worklist_sha256([(lead.lead_id, link) for lead in leads for link in LINKS]) != run.worklist_sha256:
        raise InspectionInputError(f"自查运行 {run_id} 登记的线索与其导出的核实清单不符（哈希不同），不能重新导出")
    return export_worklist(path, run_id, Quarter.parse(run.quarter), (now or dt.datetime.now(dt.UTC)).replace(microsecond=0),
                           leads, owners, answers=records.latest_answers(run_id, url))


@dataclass(frozen=True)
class RefusedRow:
    """One worklist row that was not recorded: its row number, the column at fault, and why."""

    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"第 {self.row} 行「{self.column}」：{self.reason}"


@dataclass
class ImportResult:
    """What an import did: the answers recorded, the rows already recorded identically, the rows
    refused (each with its row number and column), and the rows left empty."""

    run_id: str
    quarter: str
    sha256: str  # the file's SHA-256, recorded with every answer from it
    recorded: list[tuple[int, Answer]] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)
    refused: list[RefusedRow] = field(default_factory=list)
    empty: int = 0

    @property
    def partly_refused(self) -> bool:
        return bool(self.refused)

    def lines(self) -> list[str]:
        """The result in Chinese, for the command line and the run's artifact."""
        head = (f"核实清单已导入自查运行 {self.run_id}（{self.quarter}）：登记 {len(self.recorded)} 行，"
                f"与已登记结论相同 {len(self.unchanged)} 行，被拒绝 {len(self.refused)} 行，未填写 {self.empty} 行")
        return [head, *(f"  拒绝 {r}" for r in self.refused)]


def _file_error(path: Path, why: str) -> InspectionInputError:
    return InspectionInputError(f"核实清单 {path.name} 无法导入：{why}；未登记任何结论")


def _text(cell: Any, row: int, column: str, refused: list[RefusedRow]) -> str | None:
    """The text a cell shows, never a computed value: a formula or an error value is refused for
    its row (None), because an owner's answer is typed, and a formula read as a value would be
    whatever the last spreadsheet to save the file computed (or nothing: openpyxl has no cache)."""
    value = cell.value
    if value is None:
        return ""
    if cell.data_type == "f" or not isinstance(value, (str, int, float, dt.datetime, dt.date, dt.time)):
        refused.append(RefusedRow(row, column, "单元格是公式，不予读取；请直接填写文字"))
        return None
    if cell.data_type == "e":
        refused.append(RefusedRow(row, column, f"单元格是错误值 {value}，请直接填写文字"))
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    return str(value).strip()


def _meta(book: Any, path: Path) -> dict[str, str]:
    if META_SHEET not in book.sheetnames:
        raise _file_error(path, f"缺少隐藏工作表「{META_SHEET}」（不是本系统导出的核实清单，或另存时丢失了）")
    facts: dict[str, str] = {}
    for key, value, *_ in book[META_SHEET].iter_rows(min_col=1, max_col=2, values_only=True):
        if isinstance(key, str) and value is not None:
            facts[key.strip()] = str(value).strip()
    missing = [k for k in ("run_id", "quarter", "exported_at", "rows", "sha256") if not facts.get(k)]
    if missing:
        raise _file_error(path, f"隐藏工作表「{META_SHEET}」缺少 {'、'.join(missing)}")
    if not facts.get("signature"):
        raise _file_error(path, f"隐藏工作表「{META_SHEET}」缺少签名（不是本系统导出的核实清单，或导出于签名启用之前：请用 "
                                "self-inspection worklist 重新导出）")
    if not hmac.compare_digest(facts["signature"], worklist_signature(facts["run_id"], facts["exported_at"], facts["sha256"])):
        raise _file_error(path, f"隐藏工作表「{META_SHEET}」的签名不符：运行编号、导出时间或哈希被改动（或签名密钥已更换）")
    return facts


def _people() -> dict[str, str]:
    """person_id → name from the profile in use (REGFLOWS_PROFILE or the demo's)."""
    from regflows.profile import ProfileError, load_profile, profile_path

    try:
        return {p.id: p.name for p in load_profile(profile_path()).people}
    except (ProfileError, OSError) as exc:
        raise InspectionInputError(f"未能读取机构配置（{exc}），无法核对核实人；未登记任何结论") from None


def _verifier(text: str, people: Mapping[str, str]) -> str | None:
    """The person_id a 核实人 cell names: the id, 「姓名（id）」 as the 负责人 column shows it, or a
    name only one person of the profile has; None when it names no one of the profile."""
    if text in people:
        return text
    if text.endswith(("）", ")")) and ("（" in text or "(" in text):
        inner = text[:-1].replace("(", "（").rpartition("（")[2].strip()
        if inner in people:
            return inner
    named = [pid for pid, name in people.items() if name == text]
    return named[0] if len(named) == 1 else None


def import_worklist(path: Path, by: str | None = None, *, url: str | None = None,
                    now: dt.datetime | None = None, people: Mapping[str, str] | None = None) -> ImportResult:
    """Validate a filled-in worklist and record its valid rows (source ``workbook``).

    The file as a whole must be the run's worklist: readable as .xlsx, its hidden sheet naming a
    recorded run whose worklist SHA-256 it carries, and its (线索编号, 环节) cells hashing to the
    same value (rows sorted in the spreadsheet are accepted; an edited, added or deleted lead or
    link is not). Otherwise :class:`InspectionInputError` (Chinese, nothing recorded).

    Then every row on its own: empty rows are left unanswered; a row with a bad 结论, without
    核实人 (``by``, the person importing, stands in when given), without 证据说明 for a
    违规/需整改, with a formula, or whose (lead, link) has been answered by someone else since
    the export (e.g. on the owner's page) is refused with its row number and column; so is a
    row whose 核实人 is not one of the profile's ``people`` (person_id → name; the profile in use
    when not given) or not the lead's owner: only the owner answers for a lead, as on the page
    (pages.py), and 结论 is one of 合规/违规/需整改 as the dropdown offers (not the internal
    codes). A row equal
    to the answer that counts is unchanged (importing the same file twice records nothing new);
    the rest are recorded in one transaction, each with the file's SHA-256.
    """
    import openpyxl  # the reader only: openpyxl's writer is never used here (SafeWorkbook writes)

    from regflows.inspection import records

    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _file_error(path, f"无法读取文件（{exc.strerror or type(exc).__name__}）") from None
    file_sha = hashlib.sha256(data).hexdigest()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            unpacked = sum(entry.file_size for entry in package.infolist())
    except (zipfile.BadZipFile, ValueError):
        raise _file_error(path, "不是有效的 .xlsx 文件或文件已损坏（不是 zip 包）") from None
    if unpacked > MAX_UNPACKED:
        raise _file_error(path, f"解压后 {unpacked // 2**20} MiB，超过上限 {MAX_UNPACKED // 2**20} MiB（不像核实清单）")
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), data_only=False)
    except Exception as exc:  # noqa: BLE001  (zip, XML, openpyxl: whatever it is, the file is not a usable .xlsx)
        raise _file_error(path, f"不是有效的 .xlsx 文件或文件已损坏（{type(exc).__name__}）") from None
    facts = _meta(book, path)
    staff = _people() if people is None else people
    try:
        exported_at = dt.datetime.fromisoformat(facts["exported_at"].replace("Z", "+00:00"))
        if exported_at.tzinfo is None:
            raise ValueError
    except ValueError:
        raise _file_error(path, f"隐藏工作表的导出时间 {facts['exported_at']!r} 无效") from None
    run_id = facts["run_id"]
    run = records.run_of(run_id, url)
    if run is None:
        raise _file_error(path, f"自查运行 {run_id} 未登记（清单不属于本系统已登记的任何季度）")
    if run.worklist_sha256 != facts["sha256"]:
        raise _file_error(path, f"清单的哈希与自查运行 {run_id} 导出时登记的不符（不是该运行导出的清单）")
    try:  # a superseded run's answers would count nowhere (review of issue 15, defect 1)
        records.refuse_superseded(run_id, "导入核实清单", url)
    except InspectionInputError as exc:
        raise _file_error(path, str(exc)) from None
    if SHEET not in book.sheetnames:
        raise _file_error(path, f"缺少工作表「{SHEET}」")
    sheet = book[SHEET]
    header = [(_text(c, 1, "表头", []) or "") for c in next(sheet.iter_rows(min_row=1, max_row=1), ())]
    if tuple(header[:len(COLUMNS)]) != COLUMNS:
        raise _file_error(path, f"工作表「{SHEET}」的表头应为 {'|'.join(COLUMNS)}（列不能增删或移动）")

    leads = {lead.lead_id: lead for lead in records.leads_of(run_id, url)}
    order = {(lead_id, link): i for i, (lead_id, link) in
             enumerate((lead_id, link) for lead_id in leads for link in LINKS)}
    link_keys = {zh: key for key, zh in LINKS.items()}
    outcome_keys = {zh: key for key, zh in OUTCOMES.items()}
    refused: list[RefusedRow] = []
    rows: list[tuple[int, str, str, Any]] = []  # row number, lead id, link text, the row's cells
    for cells in sheet.iter_rows(min_row=2, max_col=len(COLUMNS)):
        number = cells[0].row
        if all(c.value is None or (isinstance(c.value, str) and not c.value.strip()) for c in cells):
            continue  # a row left blank below the table (formatting, a deleted row's remains)
        lead_id = _text(cells[COL_LEAD - 1], number, COLUMNS[COL_LEAD - 1], refused) or ""
        link_zh = _text(cells[COL_LINK - 1], number, COLUMNS[COL_LINK - 1], refused) or ""
        rows.append((number, lead_id, link_zh, cells))
    pairs = [(lead_id, link_keys.get(link_zh, link_zh)) for _, lead_id, link_zh, _ in rows]
    intact = worklist_sha256(pairs) == facts["sha256"] or (
        worklist_sha256(sorted(pairs, key=lambda p: order.get(p, len(order)))) == facts["sha256"]
        and len(pairs) == len(set(pairs)))
    if not intact or str(len(pairs)) != facts["rows"]:
        raise _file_error(path, f"「{COLUMNS[COL_LEAD - 1]}」或「{COLUMNS[COL_LINK - 1]}」列与导出时不符"
                                "（单元格被改动，或行被增删）：哈希不符；请在导出的清单上只填写结论、证据说明、核实人")

    latest = records.latest_answers(run_id, url)
    at = now or dt.datetime.now(dt.UTC)
    result = ImportResult(run_id=run_id, quarter=facts["quarter"], sha256=file_sha)
    for number, lead_id, link_zh, cells in rows:
        mine: list[RefusedRow] = []
        outcome_zh = _text(cells[COL_OUTCOME - 1], number, COLUMNS[COL_OUTCOME - 1], mine)
        evidence = _text(cells[COL_EVIDENCE - 1], number, COLUMNS[COL_EVIDENCE - 1], mine)
        verifier = _text(cells[COL_BY - 1], number, COLUMNS[COL_BY - 1], mine)
        if mine:
            result.refused.extend(mine)
            continue
        assert outcome_zh is not None and evidence is not None and verifier is not None
        link = link_keys.get(link_zh)
        if lead_id not in leads:
            result.refused.append(RefusedRow(number, COLUMNS[COL_LEAD - 1], f"线索 {lead_id} 不在自查运行 {run_id} 中"))
            continue
        if link is None:
            result.refused.append(RefusedRow(number, COLUMNS[COL_LINK - 1], f"环节「{link_zh}」不是{'、'.join(LINKS.values())}之一"))
            continue
        if not outcome_zh and not evidence and not verifier:
            result.empty += 1
            continue
        outcome = outcome_keys.get(outcome_zh)
        if outcome is None:
            why = "未填结论" if not outcome_zh else f"「{outcome_zh}」不是可选的结论"
            result.refused.append(RefusedRow(number, COLUMNS[COL_OUTCOME - 1], f"{why}（应为{'、'.join(OUTCOMES.values())}之一）"))
            continue
        typed = verifier or (by or "")
        if not typed:
            result.refused.append(RefusedRow(number, COLUMNS[COL_BY - 1], "有结论而未填核实人（person_id）"))
            continue
        resolved = _verifier(typed, staff)
        if resolved is None:
            result.refused.append(RefusedRow(number, COLUMNS[COL_BY - 1], f"核实人「{typed}」不是机构配置中的人员（应填 person_id）"))
            continue
        owner = leads[lead_id].owner
        if owner is None:
            result.refused.append(RefusedRow(number, COLUMNS[COL_BY - 1],
                                             f"线索 {lead_id} 未指定负责人，无人可以核实；请先在机构配置中为单位 {leads[lead_id].unit} "
                                             "填写 inspection_owner"))
            continue
        if resolved != owner:
            result.refused.append(RefusedRow(number, COLUMNS[COL_BY - 1],
                                             f"核实人 {staff.get(resolved, resolved)}（{resolved}）不是该线索的负责人 "
                                             f"{staff.get(owner, owner)}（{owner}）：只有线索负责人可以核实并答复（与核实页面相同）"))
            continue
        verifier = resolved
        if outcome in NEEDS_EVIDENCE and not evidence:
            result.refused.append(RefusedRow(number, COLUMNS[COL_EVIDENCE - 1],
                                             f"结论为「{OUTCOMES[outcome]}」须填写证据说明（发现了什么、依据何在）"))
            continue
        counted = latest.get((lead_id, link))
        if counted is not None and (counted.outcome, counted.evidence, counted.answered_by) == (outcome, evidence, verifier):
            result.unchanged.append(number)
            continue
        if counted is not None and _newer(counted.answered_at, exported_at) and not (
                counted.source == "workbook" and counted.answered_by == verifier):
            source = "核实页面" if counted.source == "page" else "另一份核实清单"
            result.refused.append(RefusedRow(
                number, COLUMNS[COL_OUTCOME - 1],
                f"该环节在清单导出（{_beijing(exported_at)}）之后已由 {counted.answered_by} 于 {_beijing(counted.answered_at)}"
                f"通过{source}答复为「{OUTCOMES.get(counted.outcome, counted.outcome)}」，以较新的答复为准；如需更改，请在核实页面修改或重新导出清单"))
            continue
        result.recorded.append((number, Answer(lead_id=lead_id, link=link, outcome=outcome, evidence=evidence,
                                               answered_by=verifier, answered_at=at, source="workbook",
                                               source_sha256=file_sha)))
    if result.recorded:
        records.record_answers(run_id, [a for _, a in result.recorded], url)
    result.refused.sort(key=lambda r: r.row)
    # Never silent: every import is on the audit trail, refused rows included.
    ledger.append("inspection.worklist_imported", run_id,
                  {"file": path.name, "sha256": file_sha, "recorded": len(result.recorded), "unchanged": len(result.unchanged),
                   "refused": [str(r) for r in result.refused][:200], "empty": result.empty},
                  actor=by or "system", url=url)
    return result


def _newer(answered_at: dt.datetime, exported_at: dt.datetime) -> bool:
    """Whether an answer came after the export (the store gives naive UTC on SQLite)."""
    if answered_at.tzinfo is None:
        answered_at = answered_at.replace(tzinfo=dt.UTC)
    return answered_at > exported_at
