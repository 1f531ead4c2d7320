"""``GET /files/<token>`` on the regflows endpoint: signed, expiring links to recorded documents."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from notices.ack_server import create_app
from notices.files import file_token, file_url
from regflows.kit.refusals import RefusalLog
from regflows.kit.reports import record_report_in
from regflows.store import db, migrate
from regflows.store.models import AuditEntry, utcnow

BASE = "http://testserver"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def app_and_log(home: Path) -> tuple[TestClient, RefusalLog]:
    migrate()
    refusals = RefusalLog()
    return TestClient(create_app(refusals=refusals)), refusals  # the endpoint as `regflows up` serves it


@pytest.fixture
def recorded(home: Path, app_and_log: tuple[TestClient, RefusalLog]) -> Path:
    """A draft table written and recorded with its SHA-256, as the credit statistics do."""
    path = home / "reports" / "credit-stats-2025-10-YX0001.xlsx"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"PK\x03\x04 draft table bytes \x00\xff")
    with db.session() as s:
        record_report_in(s, procedure="credit-stats", kind="xlsx", subject="2025-10", path=path, action="report.written")
    return path


def entries(action: str) -> list[dict]:
    with db.session() as s:
        rows = s.execute(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)).scalars()
        return [json.loads(r.payload) for r in rows]


def _path_of(link: str) -> str:
    assert link.startswith(f"{BASE}/files/")
    return link[len(BASE):]


def test_a_good_link_returns_the_exact_bytes_with_type_and_chinese_name(app_and_log, recorded: Path) -> None:  # type: ignore[no-untyped-def]
    client, _ = app_and_log
    link = file_url(BASE, recorded, "征信信息安全情况统计表（2025年10月，草稿）")
    assert link is not None
    answer = client.get(_path_of(link))
    assert answer.status_code == 200
    assert answer.content == recorded.read_bytes()
    assert hashlib.sha256(answer.content).hexdigest() == answer.headers["x-content-sha256"]
    assert answer.headers["content-type"] == XLSX
    disposition = answer.headers["content-disposition"]
    assert disposition.startswith("attachment; filename=\"")
    assert "filename*=UTF-8''" + quote("征信信息安全情况统计表（2025年10月，草稿）.xlsx", safe="") in disposition
    # The endpoint's guard wraps the route like every other: no caching, no sniffing.
    assert answer.headers["cache-control"] == "no-store" and answer.headers["x-content-type-options"] == "nosniff"
    assert [e["sha256"] for e in entries("document.downloaded")] == [hashlib.sha256(answer.content).hexdigest()]


def test_a_file_changed_after_it_was_recorded_is_refused(app_and_log, recorded: Path) -> None:  # type: ignore[no-untyped-def]
    client, refusals = app_and_log
    link = file_url(BASE, recorded)
    assert link is not None
    recorded.write_bytes(b"PK\x03\x04 someone edited the figures")
    answer = client.get(_path_of(link))
    assert answer.status_code == 409
    assert "已被改动" in answer.text and "SHA-256" in answer.text and answer.headers["content-type"].startswith("text/html")
    assert b"someone edited" not in answer.content
    refusals.flush(force=True)  # the refusal is counted and summarised in the ledger like every other
    summaries = entries("endpoint.refusals")
    assert summaries and "file.refused:changed" in json.dumps(summaries[-1])


def test_expired_and_tampered_links_are_refused(app_and_log, recorded: Path) -> None:  # type: ignore[no-untyped-def]
    client, _ = app_and_log
    expired = file_url(BASE, recorded, now=utcnow() - dt.timedelta(hours=100), validity=dt.timedelta(hours=1))
    assert expired is not None
    answer = client.get(_path_of(expired))
    assert answer.status_code == 410 and "过期" in answer.text
    good = _path_of(file_url(BASE, recorded) or "")
    payload, _, signature = good.rsplit("/", 1)[1].partition(".")
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    assert client.get(f"/files/{payload}.{flipped}").status_code == 400
    # Another record id or a later expiry, signed with a guessed key, is refused the same way.
    with db.session() as s:
        other = recorded.with_name("other.docx")
        other.write_bytes(b"other")
        record_report_in(s, procedure="incident_response", kind="regulator_report", subject="INC-1", path=other, action="report.written")
    token = file_token(1, "x.xlsx")
    forged_payload = token.partition(".")[0]
    assert client.get(f"/files/{forged_payload}.{signature}").status_code == 400  # a signature of another claim
    assert "签名不符" in client.get(f"/files/{payload}.{flipped}").text


def test_nothing_but_a_recorded_document_can_be_reached(app_and_log, recorded: Path, home: Path) -> None:  # type: ignore[no-untyped-def]
    client, _ = app_and_log
    secret = home / "not-recorded.txt"
    secret.write_bytes(b"private: never served")
    assert file_url(BASE, secret) is None  # an unrecorded file gets no link at all
    for path in ("/files/..%2F..%2Fetc%2Fpasswd", "/files/../../etc/passwd", f"/files/{secret}", "/files/x.y",
                 "/files/" + "A" * 40 + "." + "B" * 16):
        answer = client.get(path)
        assert answer.status_code in (400, 404), path
        assert b"root:" not in answer.content and secret.read_bytes() not in answer.content
    # A token for a record id that does not exist (signed with the real key) names nothing.
    assert client.get(f"/files/{file_token(9999, 'x.xlsx')}").status_code == 404
