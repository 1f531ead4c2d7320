"""``outbox://``: Apprise writes the message into the domain store, and says so only once it is there."""

from __future__ import annotations

from pathlib import Path

import apprise
import pytest
from apprise import AppriseResultStatus
from sqlalchemy import select

from notices.plugins import failure_reason, install_plugins
from notices.plugins.outbox import NotifyOutbox
from regflows.store import db, migrate
from regflows.store.models import OutboxMessage

TITLE = "【演练】重要信息系统中断"
BODY = "支付系统于 10:02 中断，请在 30 分钟内确认。客户姓名：张三（不应出现在错误信息里）"


@pytest.fixture(autouse=True)
def plugins_installed() -> None:
    install_plugins()


def rows(url: str | None = None) -> list[OutboxMessage]:
    with db.session(url) as s:
        return list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_one_outbox_url_writes_one_row(store_url: str) -> None:
    sender = apprise.Apprise()
    assert sender.add("outbox://li.ming/push")
    result = sender.notify(body=BODY, title=TITLE)

    assert result.status == AppriseResultStatus.SUCCESS
    [service] = list(result)
    assert service.url.startswith("outbox://li.ming/push/")
    assert failure_reason(service) is None
    [row] = rows(store_url)
    assert (row.target, row.title, row.body) == ("outbox://li.ming/push", TITLE, BODY)
    assert row.at.tzinfo is not None


def test_several_outbox_urls_in_one_notify_write_one_row_each(store_url: str) -> None:
    urls = ["outbox://li.ming/push", "outbox://li.ming/sms", "outbox://wang.fang/email", "outbox://zhao.lei/push"]
    sender = apprise.Apprise()
    for url in urls:
        assert sender.add(url)
    result = sender.notify(body=BODY, title=TITLE)

    assert result.status == AppriseResultStatus.SUCCESS and len(result) == len(urls)
    stored = rows(store_url)
    assert sorted(r.target for r in stored) == sorted(urls)
    assert {(r.title, r.body) for r in stored} == {(TITLE, BODY)}


def test_target_never_keeps_credentials_and_long_titles_fit(store_url: str) -> None:
    sender = apprise.Apprise()
    assert sender.add("outbox://someone:hunter2@sun.li/email")
    result = sender.notify(body=BODY, title="标" * 400)

    assert result.status == AppriseResultStatus.SUCCESS
    [row] = rows(store_url)
    assert row.target == "outbox://sun.li/email"
    assert "hunter2" not in list(result)[0].url
    assert len(row.title) == 300 and row.title.endswith("…")  # String(300): PostgreSQL refuses longer
    assert row.body == "标" * 400 + "\n\n" + BODY  # nothing of the title is lost


def test_the_store_is_read_at_send_time(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A plugin object made earlier still writes to the store the environment names when it sends."""
    plugin = apprise.Apprise.instantiate("outbox://chen.jing/email")
    assert isinstance(plugin, NotifyOutbox)
    other = f"sqlite:///{tmp_path / 'other' / 'regflows.db'}"
    migrate(other)
    monkeypatch.setenv("REGFLOWS_DATABASE_URL", other)

    assert apprise.Apprise(plugin).notify(body=BODY, title=TITLE)
    assert [r.target for r in rows(other)] == ["outbox://chen.jing/email"]


def test_a_store_that_cannot_be_created_fails_the_service(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("REGFLOWS_DATABASE_URL", f"sqlite:///{blocker / 'sub' / 'regflows.db'}")

    sender = apprise.Apprise()
    assert sender.add("outbox://li.ming/push")
    result = sender.notify(body=BODY, title=TITLE)

    assert not result and result.status == AppriseResultStatus.FAILURE
    [service] = list(result)
    reason = failure_reason(service)
    assert reason is not None and reason.startswith("outbox://li.ming/push not delivered: store failed:")


def test_a_store_without_migrations_fails_the_service_without_leaking_the_message(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "regflows.db").touch()  # a database file without the schema (a missing one: "db upgrade")
    monkeypatch.setenv("REGFLOWS_DATABASE_URL", f"sqlite:///{tmp_path / 'empty' / 'regflows.db'}")

    sender = apprise.Apprise()
    assert sender.add("outbox://li.ming/push")
    assert sender.add("outbox://wang.fang/push")
    result = sender.notify(body=BODY, title=TITLE)

    assert result.status == AppriseResultStatus.FAILURE and result.failed_count == 2
    for service in result:
        reason = failure_reason(service) or ""
        assert "no such table: outbox_message" in reason
        assert "张三" not in reason and "INSERT" not in reason


def test_a_database_password_is_masked_in_the_reason(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = "postgresql://regflows:s3cret-pw@127.0.0.1:1/regflows"  # nothing listens on port 1
    monkeypatch.setenv("REGFLOWS_DATABASE_URL", url)

    [service] = list(apprise.Apprise("outbox://li.ming/push").notify(body=BODY, title=TITLE))

    reason = failure_reason(service) or ""
    assert service.status == AppriseResultStatus.FAILURE and "store failed" in reason
    assert "s3cret-pw" not in reason


def test_an_outbox_url_needs_a_person() -> None:
    assert apprise.Apprise.instantiate("outbox://") is None
    assert isinstance(apprise.Apprise.instantiate("outbox://li.ming"), NotifyOutbox)


def test_the_demo_s_sms_outbox_gets_the_sms_form(home: Path) -> None:
    """Issue 14 (7): the demo's SMS outboxes received the full body. An outbox stands in for its
    channel's kind, so what lands in ``outbox://…/sms`` is the SMS form (no personal data, short)."""
    from notices.routing import person_as_recipient
    from notices.service import send_notice
    from notices.templates import render
    from regflows.profile import DEMO_PROFILE, load_profile
    from regflows.store import migrate

    migrate()
    profile = load_profile(DEMO_PROFILE)
    context = {"institution": profile.institution.name, "sent_at": "2025-10-01T09:00:00+08:00"}
    send_notice(profile, "test", context, to=[person_as_recipient(profile, "sun.li", "compliance")], urgent=True,
                raise_to_deputy=False)
    by_target = {r.target: r for r in rows()}
    sms, email = by_target["outbox://sun.li/sms"], by_target["outbox://sun.li/email"]
    assert sms.body.strip() == render("test", context, "sms").body.strip() and len(sms.body) <= 140
    assert email.body.strip() == render("test", context, "full").body.strip() and email.body != sms.body
