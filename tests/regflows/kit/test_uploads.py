"""``POST /uploads`` on the regflows endpoint: a file for a form that cannot upload one."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from notices.ack_server import create_app
from regflows import ledger
from regflows.kit.evidence import check_file
from regflows.kit.uploads import UploadRefused, safe_name, store_upload
from regflows.store import migrate

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def client(home: Path, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    migrate()
    monkeypatch.setenv("REGFLOWS_INGEST_TOKEN", TOKEN)
    return TestClient(create_app())  # the endpoint as `regflows up` serves it


def test_an_upload_is_stored_under_its_hash_and_answers_the_path_for_the_form(client: TestClient, home: Path) -> None:
    data = "报送回执 R-2025-001".encode()
    answer = client.post("/uploads", params={"name": "回执.pdf"}, content=data, headers=AUTH)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    digest = hashlib.sha256(data).hexdigest()
    assert body["sha256"] == digest and body["size"] == len(data) and body["name"] == "回执.pdf"
    assert Path(body["path"]) == home / "uploads" / digest / "回执.pdf" and Path(body["path"]).read_bytes() == data
    assert check_file(body["path"]).sha256 == digest  # what fulfil records for the pasted path
    again = client.post("/uploads", params={"name": "回执.pdf"}, content=data, headers=AUTH)
    assert again.json()["path"] == body["path"]  # the same bytes land in one place
    assert ledger.verify().ok


def test_no_token_a_wrong_token_path_tricks_and_oversize_are_refused(client: TestClient, home: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    assert client.post("/uploads", params={"name": "a.pdf"}, content=b"x").status_code == 401
    assert client.post("/uploads", params={"name": "a.pdf"}, content=b"x", headers={"Authorization": "Bearer nope"}).status_code == 401
    for name in ("../../etc/passwd", "a/b.pdf", "..", ".hidden", "C:\\x.pdf", "a\x00.pdf", ""):
        refused = client.post("/uploads", params={"name": name}, content=b"x", headers=AUTH)
        assert refused.status_code == 400 and "文件名（name）" in refused.json()["error"], name
    assert client.post("/uploads", params={"name": "empty.pdf"}, content=b"", headers=AUTH).status_code == 400
    monkeypatch.setenv("REGFLOWS_UPLOAD_MAX_BYTES", "10")
    big = client.post("/uploads", params={"name": "big.pdf"}, content=b"x" * 11, headers=AUTH)
    assert big.status_code == 413 and "过大" in big.json()["error"]
    chunked = client.post("/uploads", params={"name": "big.pdf"}, content=iter([b"x" * 6, b"x" * 6]), headers=AUTH)
    assert chunked.status_code == 413  # no Content-Length: counted while reading
    assert not (home / "uploads").exists() or not any((home / "uploads").iterdir())
    monkeypatch.delenv("REGFLOWS_INGEST_TOKEN")
    assert client.post("/uploads", params={"name": "a.pdf"}, content=b"x", headers=AUTH).status_code == 503


def test_store_upload_refuses_names_with_paths(tmp_path: Path) -> None:
    assert safe_name("2025年第三季度 自查报告.docx") == "2025年第三季度 自查报告.docx"
    with pytest.raises(UploadRefused, match="路径"):
        store_upload(b"x", "../x.pdf", home=tmp_path)
    stored = store_upload(b"x", "x.pdf", home=tmp_path)
    assert stored.path.parent.parent == tmp_path / "uploads" and stored.sha256 == hashlib.sha256(b"x").hexdigest()


def test_evidence_is_owner_only_and_the_bearer_scheme_is_case_insensitive(client: TestClient, home: Path) -> None:
    answer = client.post("/uploads", params={"name": "回执.pdf"}, content=b"%PDF-1.4", headers={"Authorization": f"bearer {TOKEN}"})
    assert answer.status_code == 201, answer.text  # RFC 7235 2.1: the scheme is case-insensitive
    stored = Path(answer.json()["path"])
    assert stored.stat().st_mode & 0o777 == 0o600  # evidence may hold personal data
    assert [p.stat().st_mode & 0o777 for p in (stored.parent, stored.parent.parent)] == [0o700, 0o700]  # and so may its name
    assert client.post("/uploads", params={"name": "a.pdf"}, content=b"x", headers={"Authorization": f"Basic {TOKEN}"}).status_code == 401
    assert client.post("/uploads", params={"name": "a.pdf"}, content=b"x", headers={"Authorization": TOKEN}).status_code == 401
