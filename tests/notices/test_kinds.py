"""The notice-kind registry (notices/kinds.py): a kind registered from outside the notices layer
renders from its own folder and gets its own acknowledgement page; the registry refuses what would
otherwise fail only when the notice is sent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from notices import kinds as registry
from notices.ack_server import create_app
from notices.acks import make_token
from notices.delivery import RetryPolicy
from notices.kinds import NoticeKind, UnknownNoticeKind, kind, kinds, register_kind
from notices.service import send_notice
from notices.templates import AckUrl, Line, NoticeContext, Ref, TemplateContextError, render
from regflows.store import db, migrate
from regflows.store.models import Notice

FAST = RetryPolicy(attempts=1, backoff_seconds=0.01, timeout_seconds=5)
BASE = "http://127.0.0.1:4201"


class InspectionContext(NoticeContext):
    """A kind a future procedure (say, the quarterly self-inspection) might register."""

    inspection_ref: Ref
    finding: Line
    ack_url: AckUrl | None = None


def _templates(folder: Path, name: str = "inspection_finding") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.full.j2").write_text(
        "{% block title %}【自查发现】{{ inspection_ref }}{% endblock %}\n"
        "{% block body %}发现：{{ finding }}\n{% if ack_url %}整改确认：{{ ack_url }}{% endif %}{% endblock %}\n",
        encoding="utf-8")
    (folder / f"{name}.sms.j2").write_text("【自查发现】{{ inspection_ref }}{{ '，确认：%s' % ack_url if ack_url else '' }}\n",
                                           encoding="utf-8")
    return folder


@pytest.fixture
def private_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test's kinds vanish with the test: the registry is a copy for its duration."""
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))


def test_a_kind_registered_from_outside_renders_and_gets_its_own_ack_page(
        home: Path, tmp_path: Path, http: Any, private_registry: None, build_profile) -> None:
    followed: list[str] = []

    def after_ack(notice_id: str) -> str:
        followed.append(notice_id)
        return "整改单已生成"

    register_kind(NoticeKind("inspection_finding", InspectionContext, _templates(tmp_path / "inspection"),
                             button="确认整改责任", shows_body=True, stops_escalation=False, after_ack=after_ack))
    context = {"inspection_ref": "SELF-2025Q3-07", "finding": "机房门禁日志未保留 6 个月"}
    full = render("inspection_finding", context)
    assert full.title == "【自查发现】SELF-2025Q3-07" and "机房门禁日志" in full.body
    assert render("inspection_finding", context, "sms").body == "【自查发现】SELF-2025Q3-07"
    with pytest.raises(TemplateContextError, match="finding"):
        render("inspection_finding", {"inspection_ref": "SELF-1"})  # its own model checks its context

    migrate()
    profile = build_profile({"t.a": [("webhook", f"json://{http.base}/ok/a")]},
                            roles={"on_call": {"kind": "on_call", "name": "测试值班", "members": ["t.a"]}}, base_url=BASE)
    send_notice(profile, "inspection_finding", context, ["on_call"], notice_id="inspection:SELF-2025Q3-07", requires_ack=True,
                policy=FAST)
    link = http.ack_link_in(http.wait_for("/ok/a")[0].json()["message"], BASE)
    client = TestClient(create_app())
    page = client.get(link.removeprefix(BASE))
    assert page.status_code == 200
    assert "确认整改责任" in page.text and "确认收到" not in page.text  # its own button
    assert "机房门禁日志未保留 6 个月" in page.text  # shown before the button: it asked for it
    done = client.post(link.removeprefix(BASE))
    assert done.status_code == 200 and "整改单已生成" in done.text
    assert "升级提醒停止" not in done.text  # it said confirming stops no escalation
    assert followed == ["inspection:SELF-2025Q3-07"]


def test_a_plain_kind_and_an_unregistered_one_get_a_receipt_page(home: Path, tmp_path: Path, private_registry: None) -> None:
    register_kind(NoticeKind("inspection_finding", InspectionContext, _templates(tmp_path / "inspection")))
    migrate()
    with db.session() as s:
        s.add(Notice(id="n-plain", kind="inspection_finding", subject="【自查发现】X", body="报送时限：2025-10-01 24:00"))
        s.add(Notice(id="n-gone", kind="retired_kind", subject="【旧通知】Y", body="报送时限：2025-10-01 24:00"))
    client = TestClient(create_app())
    for notice_id in ("n-plain", "n-gone"):
        token = make_token(notice_id, "t.a")
        page = client.get(f"/ack/{token}")
        # a receipt page too says what the notice is about and its deadlines, not only an id (issue 14, 7)
        assert page.status_code == 200 and "确认收到" in page.text and "报送时限：2025-10-01 24:00" in page.text
        done = client.post(f"/ack/{token}")
        assert done.status_code == 200 and "升级提醒停止" in done.text


def test_the_endpoint_serves_the_routes_it_is_given_and_no_others() -> None:
    async def ping(request: Any) -> PlainTextResponse:
        return PlainTextResponse("pong")

    assert TestClient(create_app([Route("/inspections/ping", ping)])).get("/inspections/ping").text == "pong"
    bare = TestClient(create_app())
    assert bare.get("/health").text == "ok"
    assert bare.post("/incidents", json={}).status_code == 404  # a procedure's route is the procedure's to mount


def test_registration_refuses_what_would_fail_when_sending(tmp_path: Path, private_registry: None) -> None:
    folder = _templates(tmp_path / "inspection")
    with pytest.raises(ValueError, match="无效"):
        register_kind(NoticeKind("inspection.finding", InspectionContext, folder))
    with pytest.raises(ValueError, match="missing_kind.full.j2"):
        register_kind(NoticeKind("missing_kind", InspectionContext, folder))
    first = register_kind(NoticeKind("inspection_finding", InspectionContext, folder))
    assert register_kind(NoticeKind("inspection_finding", InspectionContext, folder)) == first  # the same record again
    with pytest.raises(ValueError, match="已注册"):
        register_kind(NoticeKind("inspection_finding", InspectionContext, folder, button="同意"))
    with pytest.raises(ValueError, match="已注册"):
        register_kind(NoticeKind("test", InspectionContext, _templates(tmp_path / "other", "test")))  # nor a generic one
    assert kind("inspection_finding") is first and kinds()["inspection_finding"] is first


def test_an_unknown_kind_names_the_registered_ones() -> None:
    with pytest.raises(UnknownNoticeKind) as err:
        kind("no_such_kind")
    assert "no_such_kind" in str(err.value) and "deadline_reminder" in str(err.value)
    with pytest.raises(TemplateContextError, match="未知的通知类型"):
        render("no_such_kind", {})
