"""The verification worklist's spreadsheet round trip (regflows/inspection/worklist.py)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from regflows.exit_codes import ExitCode
from regflows.inspection import records
from regflows.inspection.models import LINKS, Answer, InspectionInputError, Lead, Quarter
from regflows.inspection.worklist import (
    COLUMNS,
    META_SHEET,
    SHEET,
    export_run_worklist,
    export_worklist,
    import_worklist,
    worklist_signature,
)
from regflows.inspection.worklist_cli import worklist_app
from regflows.store import db
from regflows.store.models import AuditEntry

Q3 = Quarter(2026, 3)
EXPORTED = dt.datetime(2026, 10, 9, 2, 0, tzinfo=dt.UTC)
LATER = EXPORTED + dt.timedelta(days=1)


def _leads(second_owner: str | None = None) -> list[Lead]:
    return [
        Lead("flagged", "Q000002", "head", "li.ming", "=HYPERLINK(\"http://evil.example\",\"x\") 非工作时间查询",
             dt.datetime(2026, 8, 3, 15, 30, tzinfo=dt.UTC), ("非工作时间查询", "高频查询")),
        Lead("sampled", "Q000001", "branch-cq", second_owner, "抽查"),
    ]


#: The profile's people for the imports below (person_id → name); wang.fang owns the sampled lead.
PEOPLE = {"li.ming": "李明", "wang.fang": "王芳", "chen.jing": "陈静", "10023": "赵磊"}


def test_export_writes_one_row_per_lead_and_link_with_a_dropdown_and_a_very_hidden_run_sheet(tmp_path: Path) -> None:
    path = tmp_path / "worklist.xlsx"
    digest = export_worklist(path, "R1", Q3, EXPORTED, _leads(), {"li.ming": "李明"})
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == [SHEET, META_SHEET]
    sheet = book[SHEET]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == COLUMNS
    assert len(rows) == 1 + 2 * len(LINKS)
    assert [r[7] for r in rows[1:6]] == list(LINKS.values())
    first = rows[1]
    assert first[:7] == ("flagged:Q000002", "异常查询线索", "head", "李明（li.ming）",
                         "=HYPERLINK(\"http://evil.example\",\"x\") 非工作时间查询", "非工作时间查询、高频查询",
                         "2026-08-03 23:30")
    assert sheet["E2"].data_type == "s"  # text from data stays text, never a formula
    assert first[8:] == (None, None, None)
    assert rows[6][3] == "未指定" and rows[6][6] is None
    assert sheet.freeze_panes == "A2"
    (rule,) = sheet.data_validations.dataValidation
    assert rule.type == "list" and rule.formula1 == '"合规,违规,需整改"' and str(rule.sqref) == "I2:I11"
    meta = book[META_SHEET]
    assert meta.sheet_state == "veryHidden"
    facts = {r[0]: r[1] for r in meta.iter_rows(values_only=True)}
    text = "\n".join(f"{lead.lead_id}\t{link}" for lead in _leads() for link in LINKS)
    assert digest == hashlib.sha256(text.encode()).hexdigest()
    assert facts == {"run_id": "R1", "quarter": "2026Q3", "exported_at": "2026-10-09T02:00:00.000000Z",
                     "rows": "10", "sha256": digest,
                     "signature": worklist_signature("R1", "2026-10-09T02:00:00.000000Z", digest)}


def test_the_same_leads_and_time_give_the_same_bytes_and_other_leads_another_hash(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.xlsx", tmp_path / "b.xlsx", tmp_path / "c.xlsx"
    assert export_worklist(a, "R1", Q3, EXPORTED, _leads()) == export_worklist(b, "R1", Q3, EXPORTED, _leads())
    assert a.read_bytes() == b.read_bytes()
    assert export_worklist(c, "R1", Q3, EXPORTED, _leads()[:1]) != export_worklist(a, "R1", Q3, EXPORTED, _leads())


# -- import ----------------------------------------------------------------------------------


def _run(tmp_path: Path, store_url: str, run_id: str = "R1") -> Path:
    """A run recorded as the run's pipeline records it, and its worklist exported."""
    path = tmp_path / f"{run_id}.xlsx"
    digest = export_worklist(path, run_id, Q3, EXPORTED, _leads("10023"))
    records.save_run(run_id, Q3.label, 7, {"seed": 7}, _leads("10023"), digest, EXPORTED, url=store_url)
    return path


def _fill(path: Path, out: Path, rows: dict[int, tuple[object, object, object]], edits: dict[str, object] | None = None) -> Path:
    """An owner filling in the workbook: 结论, 证据说明, 核实人 of the given rows (openpyxl, as
    any spreadsheet would save it), and any other cell edits."""
    book = openpyxl.load_workbook(path)
    sheet = book[SHEET]
    for row, (outcome, evidence, by) in rows.items():
        sheet.cell(row=row, column=9, value=outcome)
        sheet.cell(row=row, column=10, value=evidence)
        sheet.cell(row=row, column=11, value=by)
    for ref, value in (edits or {}).items():
        sheet[ref] = value
    book.save(out)
    return out


def test_a_filled_worklist_round_trips_and_reimporting_it_records_nothing(tmp_path: Path, store_url: str) -> None:
    path = _run(tmp_path, store_url)
    filled = _fill(path, tmp_path / "filled.xlsx", {2: ("合规", "已核对授权书", "li.ming"),
                                                     3: ("需整改", "审核记录缺签字", "li.ming"),
                                                     7: ("违规", "无授权查询", 10023)})
    result = import_worklist(filled, people=PEOPLE, url=store_url, now=LATER)
    assert [n for n, _ in result.recorded] == [2, 3, 7] and result.refused == [] and result.unchanged == []
    assert result.empty == 7 and result.run_id == "R1" and result.quarter == "2026Q3"
    sha = hashlib.sha256(filled.read_bytes()).hexdigest()
    assert result.sha256 == sha
    latest = records.latest_answers("R1", store_url)
    assert latest[("flagged:Q000002", "authorisation")] == Answer(
        "flagged:Q000002", "authorisation", "compliant", "已核对授权书", "li.ming", latest[("flagged:Q000002", "authorisation")].answered_at,
        "workbook", sha)
    assert latest[("flagged:Q000002", "review")].outcome == "rectify"
    assert latest[("sampled:Q000001", "authorisation")].answered_by == "10023"  # a number typed in a cell is its text
    again = import_worklist(filled, people=PEOPLE, url=store_url, now=LATER + dt.timedelta(hours=1))
    assert again.recorded == [] and again.unchanged == [2, 3, 7] and again.refused == []
    assert len(records.answers_of("R1", store_url)) == 3


def test_a_malformed_row_is_refused_with_its_row_and_column_and_the_others_are_kept(tmp_path: Path, store_url: str) -> None:
    path = _run(tmp_path, store_url)
    filled = _fill(path, tmp_path / "filled.xlsx", {
        2: ("合规", "", "li.ming"),  # compliant needs no evidence
        3: ("基本合规", "x", "li.ming"),  # not an outcome
        4: ("违规", "", "li.ming"),  # a violation without evidence
        5: ("合规", "已核对", None),  # no verifier
        6: (None, "只写了证据", "li.ming"),  # evidence without an outcome
        7: ("=IF(1,\"合规\",\"违规\")", "公式", "li.ming"),  # a formula is never read
        8: ("需整改", "=HYPERLINK(\"http://evil.example\")", "li.ming"),
        9: ("合规", "英文代码也接受", "10023"),
        10: ("#N/A", "", "li.ming"),  # an error value (openpyxl stores it as one, as Excel would)
    })
    result = import_worklist(filled, people=PEOPLE, url=store_url, now=LATER)
    assert [n for n, _ in result.recorded] == [2, 9]
    assert [(r.row, r.column) for r in result.refused] == [(3, "结论"), (4, "证据说明"), (5, "核实人"), (6, "结论"),
                                                           (7, "结论"), (8, "证据说明"), (10, "结论")]
    assert "错误值 #N/A" in result.refused[-1].reason
    assert "基本合规" in result.refused[0].reason and "公式" in result.refused[4].reason
    assert str(result.refused[0]).startswith("第 3 行「结论」：")
    assert {(a.lead_id, a.link) for a in records.answers_of("R1", store_url)} == {
        ("flagged:Q000002", "authorisation"), ("sampled:Q000001", "query")}
    # Fixed and imported again: the refused rows are recorded, the kept ones stay as they were.
    fixed = _fill(path, tmp_path / "fixed.xlsx", {2: ("合规", "", "li.ming"), 3: ("合规", "x", "li.ming"),
                                                   9: ("合规", "英文代码也接受", "10023")})
    second = import_worklist(fixed, people=PEOPLE, url=store_url, now=LATER)
    assert [n for n, _ in second.recorded] == [3] and second.unchanged == [2, 9] and second.refused == []


def test_the_verifier_must_be_the_leads_owner_and_one_of_the_profiles_people(tmp_path: Path, store_url: str) -> None:
    """As on the page (pages.py): only the lead's owner answers for it; outcomes only as the dropdown offers them."""
    path = _run(tmp_path, store_url)
    filled = _fill(path, tmp_path / "filled.xlsx", {
        2: ("合规", "", "nobody-at-all"),  # no one of the profile
        3: ("合规", "", "10023"),  # one of the profile, but not this lead's owner (li.ming)
        4: ("compliant", "", "li.ming"),  # the internal code, not the Chinese outcome
        5: ("合规", "", "李明（li.ming）"),  # as the 负责人 column shows the owner
        7: ("violation", "x", "10023"),
        8: ("合规", "", "li.ming"),  # li.ming on the sampled lead, owned by 10023
    })
    result = import_worklist(filled, people=PEOPLE, url=store_url, now=LATER)
    assert [(n, a.answered_by) for n, a in result.recorded] == [(5, "li.ming")]
    assert [(r.row, r.column) for r in result.refused] == [(2, "核实人"), (3, "核实人"), (4, "结论"), (7, "结论"), (8, "核实人")]
    assert "nobody-at-all" in result.refused[0].reason and "不是机构配置中的人员" in result.refused[0].reason
    assert "不是该线索的负责人 李明（li.ming）" in result.refused[1].reason
    unowned = tmp_path / "unowned.xlsx"
    digest = export_worklist(unowned, "R2", Q3, EXPORTED, _leads())
    records.save_run("R2", Q3.label, 7, {"seed": 7}, _leads(), digest, EXPORTED, url=store_url)
    result = import_worklist(_fill(unowned, tmp_path / "u.xlsx", {7: ("合规", "", "10023")}), people=PEOPLE, url=store_url, now=LATER)
    assert result.recorded == [] and "未指定负责人" in result.refused[0].reason


def test_an_edited_export_time_or_a_missing_signature_refuses_the_whole_workbook(tmp_path: Path, store_url: str) -> None:
    """An export time moved to 2099 would let an old workbook override the owner's newer page answer."""
    path = _run(tmp_path, store_url)
    page = Answer("flagged:Q000002", "authorisation", "violation", "页面上答复", "li.ming", EXPORTED + dt.timedelta(minutes=5), "page")
    records.record_answers("R1", [page], store_url)
    for name, cell, value in (("later.xlsx", "B3", "2099-01-01T00:00:00.000000Z"), ("unsigned.xlsx", "B6", None),
                              ("resigned.xlsx", "B6", "AAAAAAAAAAAAAAAA")):
        filled = _fill(path, tmp_path / name, {2: ("合规", "", "li.ming"), 3: ("合规", "", "li.ming")})
        book = openpyxl.load_workbook(filled)
        book[META_SHEET][cell] = value
        book.save(filled)
        with pytest.raises(InspectionInputError, match="签名") as refused:
            import_worklist(filled, people=PEOPLE, url=store_url, now=LATER)
        assert "未登记任何结论" in str(refused.value)
    assert records.answers_of("R1", store_url) == [page]


def test_by_stands_in_for_an_empty_verifier(tmp_path: Path, store_url: str) -> None:
    path = _run(tmp_path, store_url)
    filled = _fill(path, tmp_path / "filled.xlsx", {2: ("合规", "", None), 7: ("合规", "", "赵磊")})
    result = import_worklist(filled, by="li.ming", people=PEOPLE, url=store_url, now=LATER)
    assert [a.answered_by for _, a in result.recorded] == ["li.ming", "10023"]  # a name only one person has: its id


def test_a_newer_page_answer_refuses_that_row_only(tmp_path: Path, store_url: str) -> None:
    path = _run(tmp_path, store_url)
    page = Answer("flagged:Q000002", "query", "violation", "页面上答复", "li.ming", EXPORTED + dt.timedelta(minutes=5), "page")
    older = Answer("flagged:Q000002", "use", "violation", "导出前的答复", "li.ming", EXPORTED - dt.timedelta(minutes=5), "page")
    records.record_answers("R1", [page, older], store_url)
    filled = _fill(path, tmp_path / "filled.xlsx", {4: ("合规", "", "li.ming"), 5: ("合规", "", "li.ming"),
                                                     6: ("合规", "", "li.ming")})
    result = import_worklist(filled, people=PEOPLE, url=store_url, now=LATER)
    assert [n for n, _ in result.recorded] == [5, 6]  # the answer before the export is replaced
    (refused,) = result.refused
    assert (refused.row, refused.column) == (4, "结论") and "核实页面" in refused.reason and "li.ming" in refused.reason
    assert records.latest_answers("R1", store_url)[("flagged:Q000002", "query")] == page
    # The same answer as the page's is no conflict: unchanged.
    same = _fill(path, tmp_path / "same.xlsx", {4: ("违规", "页面上答复", "li.ming")})
    assert import_worklist(same, people=PEOPLE, url=store_url, now=LATER).unchanged == [4]


def test_the_same_verifier_may_correct_a_workbook_answer_after_the_export(tmp_path: Path, store_url: str) -> None:
    path = _run(tmp_path, store_url)
    import_worklist(_fill(path, tmp_path / "a.xlsx", {2: ("合规", "", "li.ming")}), people=PEOPLE, url=store_url, now=LATER)
    fixed = import_worklist(_fill(path, tmp_path / "b.xlsx", {2: ("需整改", "补正", "li.ming")}), people=PEOPLE, url=store_url,
                            now=LATER + dt.timedelta(hours=1))
    assert [n for n, _ in fixed.recorded] == [2]
    other = import_worklist(_fill(path, tmp_path / "c.xlsx", {2: ("合规", "", "wang.fang")}), people=PEOPLE, url=store_url,
                            now=LATER + dt.timedelta(hours=2))
    assert other.recorded == [] and [(r.row, r.column) for r in other.refused] == [(2, "核实人")]  # not the owner
    assert [a.outcome for a in records.answers_of("R1", store_url)] == ["compliant", "rectify"]


def test_sorted_rows_are_accepted(tmp_path: Path, store_url: str) -> None:
    path = _run(tmp_path, store_url)
    book = openpyxl.load_workbook(path)
    sheet = book[SHEET]
    values = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    values.reverse()  # sorted descending in the spreadsheet
    for r, row_values in enumerate(values, start=2):
        for c, value in enumerate(row_values, start=1):
            sheet.cell(row=r, column=c, value=value)
    sheet.cell(row=2, column=9, value="合规")
    sheet.cell(row=2, column=11, value="10023")
    book.save(tmp_path / "sorted.xlsx")
    result = import_worklist(tmp_path / "sorted.xlsx", people=PEOPLE, url=store_url, now=LATER)
    assert [(a.lead_id, a.link) for _, a in result.recorded] == [("sampled:Q000001", "storage")]


@pytest.mark.parametrize("edit", [{"A2": "flagged:Q999999"}, {"H3": "授权"}, {"A12": "flagged:Q000002", "H12": "授权"}])
def test_an_edited_lead_or_link_cell_is_a_hash_mismatch_and_nothing_is_recorded(tmp_path: Path, store_url: str,
                                                                                  edit: dict[str, object]) -> None:
    path = _run(tmp_path, store_url)
    filled = _fill(path, tmp_path / "filled.xlsx", {3: ("合规", "", "li.ming")}, edit)
    with pytest.raises(InspectionInputError, match="哈希不符"):
        import_worklist(filled, people=PEOPLE, url=store_url, now=LATER)
    assert records.answers_of("R1", store_url) == []


def test_a_deleted_row_is_a_hash_mismatch(tmp_path: Path, store_url: str) -> None:
    path = _run(tmp_path, store_url)
    book = openpyxl.load_workbook(path)
    book[SHEET].delete_rows(11)
    book.save(tmp_path / "short.xlsx")
    with pytest.raises(InspectionInputError, match="哈希不符"):
        import_worklist(tmp_path / "short.xlsx", people=PEOPLE, url=store_url, now=LATER)


def test_file_level_errors_are_chinese_and_record_nothing(tmp_path: Path, store_url: str) -> None:
    path = _run(tmp_path, store_url)
    damaged = tmp_path / "damaged.xlsx"
    damaged.write_bytes(path.read_bytes()[:2000])
    not_xlsx = tmp_path / "list.xlsx"
    not_xlsx.write_text("线索编号,环节\n", encoding="utf-8")
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("xl/worksheets/sheet1.xml", b"\0" * (201 * 2**20))
    not_a_book = tmp_path / "zip.xlsx"
    with zipfile.ZipFile(not_a_book, "w") as package:
        package.writestr("readme.txt", "hello")
    for bad, why in ((damaged, "不是有效的 .xlsx 文件或文件已损坏"), (not_xlsx, "不是有效的 .xlsx 文件或文件已损坏"),
                     (not_a_book, "不是有效的 .xlsx 文件或文件已损坏"), (bomb, "超过上限 200 MiB"),
                     (tmp_path / "absent.xlsx", "无法读取文件")):
        with pytest.raises(InspectionInputError, match=why) as caught:
            import_worklist(bad, people=PEOPLE, url=store_url)
        error = caught.value  # one Chinese line: no chained library traceback behind it
        assert "未登记任何结论" in str(error) and error.__cause__ is None and (error.__suppress_context__ or error.__context__ is None)

    book = openpyxl.load_workbook(path)
    del book[META_SHEET]
    book.save(tmp_path / "no-meta.xlsx")
    with pytest.raises(InspectionInputError, match="缺少隐藏工作表「_regflows」"):
        import_worklist(tmp_path / "no-meta.xlsx", people=PEOPLE, url=store_url)

    unknown = tmp_path / "unknown.xlsx"
    export_worklist(unknown, "R-unknown", Q3, EXPORTED, _leads())
    with pytest.raises(InspectionInputError, match="自查运行 R-unknown 未登记"):
        import_worklist(unknown, people=PEOPLE, url=store_url)

    other = tmp_path / "other.xlsx"
    export_worklist(other, "R1", Q3, EXPORTED, _leads()[:1])  # a worklist claiming R1 with other leads
    with pytest.raises(InspectionInputError, match="与自查运行 R1 导出时登记的不符"):
        import_worklist(other, people=PEOPLE, url=store_url)

    book = openpyxl.load_workbook(path)
    book[META_SHEET]["B5"] = "0" * 64
    book.save(tmp_path / "meta-edited.xlsx")
    with pytest.raises(InspectionInputError, match="签名不符"):
        import_worklist(tmp_path / "meta-edited.xlsx", people=PEOPLE, url=store_url)

    book = openpyxl.load_workbook(path)
    book[SHEET]["I1"] = "意见"
    book.save(tmp_path / "header.xlsx")
    with pytest.raises(InspectionInputError, match="表头"):
        import_worklist(tmp_path / "header.xlsx", people=PEOPLE, url=store_url)
    assert records.answers_of("R1", store_url) == []


def test_the_import_command_exits_6_with_the_refused_rows_listed_and_2_for_a_damaged_file(tmp_path: Path, store_url: str) -> None:
    path = _run(tmp_path, store_url)
    runner = CliRunner()
    partly = _fill(path, tmp_path / "partly.xlsx", {2: ("合规", "", "li.ming"), 3: ("违规", "", "li.ming")})
    answer = runner.invoke(worklist_app, ["import", str(partly)])
    assert answer.exit_code == ExitCode.PARTIAL
    assert "登记 1 行" in answer.stdout and "第 3 行「证据说明」" in answer.stderr
    good = _fill(path, tmp_path / "good.xlsx", {2: ("合规", "", None)})
    answer = runner.invoke(worklist_app, ["import", str(good), "--by", "li.ming"])
    assert answer.exit_code == ExitCode.DONE and "与已登记结论相同 1 行" in answer.stdout
    damaged = tmp_path / "damaged.xlsx"
    damaged.write_bytes(b"not a workbook")
    answer = runner.invoke(worklist_app, ["import", str(damaged)])
    assert answer.exit_code == ExitCode.USAGE and "错误：核实清单 damaged.xlsx 无法导入" in answer.stderr
    assert "Traceback" not in answer.output and isinstance(answer.exception, SystemExit)
    with db.session(store_url) as s:
        rows = s.execute(select(AuditEntry).where(AuditEntry.action == "inspection.worklist_imported")
                         .order_by(AuditEntry.seq)).scalars()
        payloads = [json.loads(r.payload) for r in rows]
    assert [(p["recorded"], len(p["refused"])) for p in payloads] == [(1, 1), (0, 0)]


def test_a_worklist_saved_again_by_libreoffice_still_imports(tmp_path: Path, store_url: str) -> None:
    """A real spreadsheet rewrites the package (shared strings, its own styles, the hidden sheet
    only "hidden"): the run id, the hash and the answers still come through."""
    soffice = shutil.which("soffice")
    assert soffice, "soffice is not installed (Debian: libreoffice-calc; make install)"
    path = _run(tmp_path, store_url)
    filled = _fill(path, tmp_path / "filled.xlsx", {2: ("合规", "", "li.ming"), 8: ("违规", "=未授权查询", 10023),
                                                     9: ("需整改", "授权书已过期", 10023)})
    out = tmp_path / "lo"
    subprocess.run([soffice, f"-env:UserInstallation={(tmp_path / 'lo-profile').as_uri()}", "--headless",
                    "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(out), str(filled)],
                   check=True, capture_output=True, timeout=180)
    resaved = out / "filled.xlsx"
    assert resaved.read_bytes() != filled.read_bytes()
    result = import_worklist(resaved, people=PEOPLE, url=store_url, now=LATER)
    assert [(n, a.lead_id, a.link, a.outcome, a.evidence, a.answered_by) for n, a in result.recorded] == [
        (2, "flagged:Q000002", "authorisation", "compliant", "", "li.ming"),
        (9, "sampled:Q000001", "query", "rectify", "授权书已过期", "10023")]
    assert [(r.row, r.column) for r in result.refused] == [(8, "证据说明")]  # still a formula: never read


def test_a_row_refused_for_a_newer_answer_is_corrected_on_a_copy_exported_again(tmp_path: Path, store_url: str) -> None:
    path = _run(tmp_path, store_url)
    page = Answer("flagged:Q000002", "query", "violation", "页面上答复", "li.ming", EXPORTED + dt.timedelta(minutes=5), "page")
    records.record_answers("R1", [page], store_url)
    stale = _fill(path, tmp_path / "stale.xlsx", {4: ("合规", "", "li.ming")})
    assert [r.row for r in import_worklist(stale, people=PEOPLE, url=store_url, now=LATER).refused] == [4]

    again = tmp_path / "again.xlsx"
    digest = export_run_worklist(again, "R1", owners={"li.ming": "李明"}, now=LATER, url=store_url)
    run = records.run_of("R1", store_url)
    assert run is not None and digest == run.worklist_sha256
    book = openpyxl.load_workbook(again)
    assert [c.value for c in book[SHEET][4]][3:] == ["李明（li.ming）", book[SHEET]["E4"].value, "非工作时间查询、高频查询",
                                                     "2026-08-03 23:30", "查询", "违规", "页面上答复", "li.ming"]
    assert {r[0]: r[1] for r in book[META_SHEET].iter_rows(values_only=True)}["exported_at"] == "2026-10-10T02:00:00.000000Z"
    assert import_worklist(again, people=PEOPLE, url=store_url, now=LATER).unchanged == [4]  # the answers so far, as they are
    fixed = _fill(again, tmp_path / "fixed.xlsx", {4: ("合规", "", "li.ming")})
    result = import_worklist(fixed, people=PEOPLE, url=store_url, now=LATER + dt.timedelta(hours=1))
    assert [n for n, _ in result.recorded] == [4] and result.refused == [] and result.unchanged == []
    latest = records.latest_answers("R1", store_url)[("flagged:Q000002", "query")]
    assert (latest.answered_by, latest.outcome, latest.source) == ("li.ming", "compliant", "workbook")


def test_exporting_again_refuses_an_unknown_run_or_leads_that_are_not_the_exported_ones(tmp_path: Path, store_url: str) -> None:
    with pytest.raises(InspectionInputError, match="R404 未登记"):
        export_run_worklist(tmp_path / "x.xlsx", "R404", url=store_url)
    records.save_run("R9", Q3.label, 7, {}, _leads(), "ab" * 32, EXPORTED, url=store_url)
    with pytest.raises(InspectionInputError, match="哈希不同"):
        export_run_worklist(tmp_path / "x.xlsx", "R9", url=store_url)
    assert not (tmp_path / "x.xlsx").exists()


def test_the_worklist_command_exports_a_fresh_copy(tmp_path: Path, store_url: str) -> None:
    _run(tmp_path, store_url)
    out = tmp_path / "copy.xlsx"
    answer = CliRunner().invoke(worklist_app, ["worklist", "R1", "--out", str(out)])
    assert answer.exit_code == ExitCode.DONE, answer.output
    assert "已导出自查运行 R1 的核实清单" in answer.stdout and out.is_file()
    assert import_worklist(out, people=PEOPLE, url=store_url).empty == 10
    for args, said in ((["worklist", "R1", "--out", str(tmp_path / "copy.csv")], "应以 .xlsx 结尾"),
                       (["worklist", "R404", "--out", str(out)], "R404 未登记")):
        answer = CliRunner().invoke(worklist_app, args)
        assert answer.exit_code == ExitCode.USAGE and said in answer.stderr


def test_a_quarter_without_leads_exports_an_empty_worklist_that_imports_to_nothing(tmp_path: Path, store_url: str) -> None:
    path = tmp_path / "empty.xlsx"
    digest = export_worklist(path, "R0", Q3, EXPORTED, [])
    assert digest == hashlib.sha256(b"").hexdigest()
    records.save_run("R0", Q3.label, 7, {}, [], digest, EXPORTED, url=store_url)
    result = import_worklist(path, people=PEOPLE, url=store_url)
    assert (result.recorded, result.unchanged, result.refused, result.empty) == ([], [], [], 0)
    assert [r for r in openpyxl.load_workbook(path)[SHEET].iter_rows(values_only=True)] == [COLUMNS]
