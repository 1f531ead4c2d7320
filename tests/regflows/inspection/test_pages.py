"""The owner's page per lead (regflows/inspection/pages.py) on the endpoint as `regflows up` serves it."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from notices.ack_server import create_app
from regflows.inspection import records
from regflows.inspection.models import Answer, Lead, Quarter
from regflows.inspection.pages import ROUTES, page_token, page_url, read_page_token
from regflows.inspection.worklist import SHEET, export_worklist, import_worklist
from regflows.kit.refusals import RefusalLog
from regflows.store import db
from regflows.store.models import AuditEntry

BASE = "http://testserver"
DAY = dt.timedelta(days=1)
EXPORTED = dt.datetime(2026, 10, 9, 2, 0, tzinfo=dt.UTC)


def _leads() -> list[Lead]:
    return [Lead("flagged", "Q000002", "head", "li.ming", "<script>alert(1)</script> 非工作时间查询",
                 dt.datetime(2026, 8, 3, 15, 30, tzinfo=dt.UTC), ("非工作时间查询",)),
            Lead("sampled", "Q000001", "branch-cq", "wang.fang", "抽查")]


@pytest.fixture
def client(store_url: str) -> tuple[TestClient, RefusalLog]:
    records.save_run("R1", "2026Q3", 7, {}, _leads(), "ab" * 32, EXPORTED, url=store_url)
    refusals = RefusalLog()
    return TestClient(create_app(ROUTES, refusals=refusals)), refusals


def _path(lead_id: str = "flagged:Q000002", person: str = "li.ming", validity: dt.timedelta = DAY,
          now: dt.datetime | None = None) -> str:
    link = page_url(BASE, "R1", lead_id, person, validity, now)
    assert link.startswith(f"{BASE}/inspection/")
    return link[len(BASE):]


def _ledger(action: str, url: str) -> list[dict[str, object]]:
    with db.session(url) as s:
        rows = s.execute(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)).scalars()
        return [json.loads(r.payload) for r in rows]


def test_the_owner_sees_the_lead_and_a_form_per_link_in_chinese(client: tuple[TestClient, RefusalLog]) -> None:
    app, _ = client
    page = app.get(_path())
    assert page.status_code == 200
    text = page.text
    assert '<html lang="zh-CN">' in text and 'name="viewport"' in text
    assert "flagged:Q000002" in text and "异常查询线索" in text and "2026-08-03 23:30" in text and "2026Q3" in text
    assert "&lt;script&gt;" in text and "<script>" not in text  # data shown as text
    assert text.count('<form method="post">') == 5 and text.count("尚未答复") == 5
    for zh in ("授权", "审核", "查询", "使用", "存储"):
        assert f"提交「{zh}」结论" in text


def test_a_page_answer_is_recorded_as_the_owners_and_shown(client: tuple[TestClient, RefusalLog], store_url: str) -> None:
    app, _ = client
    path = _path()
    answered = app.post(path, data={"link": "review", "outcome": "rectify", "evidence": "审核记录缺少复核人签字"})
    assert answered.status_code == 200 and "已记录「审核」环节的结论：需整改" in answered.text
    assert "当前结论：需整改（李明，" in answered.text and "已答复 1/5" in answered.text  # names from the profile
    assert "核实人：李明" in answered.text
    (given,) = records.answers_of("R1", store_url)
    assert (given.lead_id, given.link, given.outcome, given.evidence, given.answered_by, given.source, given.source_sha256) == (
        "flagged:Q000002", "review", "rectify", "审核记录缺少复核人签字", "li.ming", "page", None)
    again = app.post(path, data={"link": "review", "outcome": "rectify", "evidence": "审核记录缺少复核人签字"})
    assert "未重复记录" in again.text and len(records.answers_of("R1", store_url)) == 1
    changed = app.post(path, data={"link": "review", "outcome": "compliant", "evidence": ""})
    assert changed.status_code == 200
    assert records.latest_answers("R1", store_url)[("flagged:Q000002", "review")].outcome == "compliant"
    assert [p["outcome"] for p in _ledger("inspection.page_answered", store_url)] == ["rectify", "compliant"]
    # Free text: an ID number typed as evidence is masked before the store keeps it (issue 14, 3).
    app.post(path, data={"link": "use", "outcome": "rectify", "evidence": "查询对象 110101199003074514 无授权"})
    assert records.latest_answers("R1", store_url)[("flagged:Q000002", "use")].evidence == "查询对象 110101********4514 无授权"


@pytest.mark.parametrize(("form", "said"), [
    ({"link": "review", "outcome": "violation", "evidence": " "}, "须填写证据说明"),
    ({"link": "review", "outcome": "基本合规", "evidence": "x"}, "请选择结论"),
    ({"link": "review", "evidence": "x"}, "请选择结论"),
    ({"link": "review", "outcome": "rectify", "evidence": "长" * 2001}, "不能超过 2000 字"),
    ({"link": "elsewhere", "outcome": "compliant"}, "环节无效"),
])
def test_an_invalid_answer_is_refused_with_the_field_and_nothing_is_recorded(client: tuple[TestClient, RefusalLog], store_url: str,
                                                                             form: dict[str, str], said: str) -> None:
    app, _ = client
    answered = app.post(_path(), data=form)
    assert answered.status_code == 422 and said in answered.text
    assert records.answers_of("R1", store_url) == []


def test_forged_altered_expired_and_other_peoples_links_are_refused(client: tuple[TestClient, RefusalLog], store_url: str) -> None:
    app, refusals = client
    genuine = _path()[len("/inspection/"):]
    payload, _, signature = genuine.partition(".")
    other_lead = base64.urlsafe_b64encode(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).replace(b"Q000002", b"Q000001")).rstrip(b"=").decode()
    cases = {
        "garbage": ("/inspection/not-a-token", 400, "格式无效"),
        "altered": (f"/inspection/{other_lead}.{signature}", 400, "签名不符"),
        "expired": (_path(validity=dt.timedelta(hours=1), now=dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)), 410, "已于"),
        # a genuine link, signed for someone who is not the lead's owner
        "not_owner": (_path(person="wang.fang"), 403, "不是此线索负责人的链接"),
        "unknown": (_path(lead_id="flagged:Q404"), 404, "线索不存在"),
    }
    for name, (path, status, said) in cases.items():
        for answer in (app.get(path), app.post(path, data={"link": "review", "outcome": "compliant"})):
            assert answer.status_code == status, name
            assert said in answer.text and "<form" not in answer.text, name
    assert records.answers_of("R1", store_url) == []
    # every refusal counted by the endpoint (summarised into the ledger per minute)
    refusals.flush(force=True)
    (summary,) = _ledger("endpoint.refusals", store_url)
    assert "inspection.page_refused" in json.dumps(summary, ensure_ascii=False)


def test_a_file_link_or_an_ack_signature_cannot_stand_for_a_page_token() -> None:
    token = page_token("R1", "flagged:Q000002", "li.ming", DAY)
    claim = read_page_token(token)
    assert (claim.run_id, claim.lead_id, claim.person_id) == ("R1", "flagged:Q000002", "li.ming")
    from notices.files import file_token

    with pytest.raises(ValueError, match="格式无效"):
        read_page_token(file_token(1, "x.xlsx"))


def test_a_page_answer_after_the_export_refuses_that_workbook_row(store_url: str, tmp_path: Path) -> None:
    """The page and the workbook meet: the owner answered on the page after the export, so the
    (older) workbook's row for that link is refused, and the other rows are recorded."""
    exported = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    path = tmp_path / "R2.xlsx"
    digest = export_worklist(path, "R2", Quarter(2026, 3), exported, _leads())
    records.save_run("R2", "2026Q3", 7, {}, _leads(), digest, exported, url=store_url)
    app = TestClient(create_app(ROUTES))
    link = page_url(BASE, "R2", "sampled:Q000001", "wang.fang", DAY)[len(BASE):]
    assert app.post(link, data={"link": "query", "outcome": "violation", "evidence": "无授权"}).status_code == 200
    book = openpyxl.load_workbook(path)
    for row in (8, 9):  # sampled:Q000001 审核, 查询
        book[SHEET].cell(row=row, column=9, value="合规")
        book[SHEET].cell(row=row, column=11, value="wang.fang")
    book.save(tmp_path / "filled.xlsx")
    result = import_worklist(tmp_path / "filled.xlsx", url=store_url)
    assert [n for n, _ in result.recorded] == [8]
    assert [(r.row, r.column) for r in result.refused] == [(9, "结论")] and "核实页面" in result.refused[0].reason
    counted = records.latest_answers("R2", store_url)[("sampled:Q000001", "query")]
    assert counted == Answer("sampled:Q000001", "query", "violation", "无授权", "wang.fang", counted.answered_at, "page")
