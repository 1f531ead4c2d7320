"""Progress of the verification worklist and whom to remind (regflows/inspection/progress.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from calendars.official import YearNotCovered, default_calendar
from notices.kinds import NoticeKind
from regflows.inspection import records
from regflows.inspection.models import LINKS, Answer, Lead
from regflows.inspection.progress import owners_to_remind, progress, progress_of, progress_table

AT = dt.datetime(2026, 10, 9, 2, 0, tzinfo=dt.UTC)


def _leads() -> list[Lead]:
    return [Lead("flagged", "Q1", "head", "li.ming", "a"), Lead("flagged", "Q2", "head", "wang.fang", "b"),
            Lead("sampled", "Q3", "head", "li.ming", "c"), Lead("event", "E1", "branch", None, "d")]


def _answer(lead_id: str, link: str) -> Answer:
    return Answer(lead_id, link, "compliant", "", "li.ming", AT, "page")


def _latest() -> dict[tuple[str, str], Answer]:
    done = {("flagged:Q1", link): _answer("flagged:Q1", link) for link in LINKS}  # Q1: every link
    return {**done, ("sampled:Q3", "query"): _answer("sampled:Q3", "query")}


def test_progress_counts_links_per_owner_and_lists_the_open_leads() -> None:
    rows = progress(_leads(), _latest())
    assert [(r.owner, r.leads, r.answered, r.unanswered, r.open_leads) for r in rows] == [
        ("li.ming", 2, 6, 4, ("sampled:Q3",)),
        ("wang.fang", 1, 0, 5, ("flagged:Q2",)),
        (None, 1, 0, 5, ("event:E1",)),
    ]
    table = progress_table(rows, {"li.ming": "李明"})
    assert table[0] == {"负责人": "李明（li.ming）", "线索": 2, "已答复环节": 6, "未答复环节": 4, "未完成线索": 1, "状态": "未完成"}
    assert table[2]["负责人"] == "未指定"
    assert table[-1] == {"负责人": "合计", "线索": 4, "已答复环节": 6, "未答复环节": 14, "未完成线索": 3, "状态": "未完成"}


def test_an_owner_with_every_link_answered_is_done_and_not_reminded() -> None:
    latest = {**_latest(), **{("sampled:Q3", link): _answer("sampled:Q3", link) for link in LINKS}}
    rows = progress(_leads(), latest)
    assert rows[0].done and rows[0].open_leads == ()
    reminders = owners_to_remind(rows, dt.date(2026, 10, 9), default_calendar())
    assert [r.owner for r in reminders.owners] == ["wang.fang"] and reminders.unowned == ("event:E1",)


@pytest.mark.parametrize(("day", "working"), [
    (dt.date(2026, 10, 9), True),  # Friday
    (dt.date(2026, 10, 10), True),  # Saturday, a make-up working day for 国庆节
    (dt.date(2026, 10, 5), False),  # Monday inside the 国庆节 holiday
    (dt.date(2026, 10, 11), False),  # Sunday
])
def test_owners_are_reminded_on_official_working_days_only(day: dt.date, working: bool) -> None:
    reminders = owners_to_remind(progress(_leads(), _latest()), day, default_calendar())
    assert reminders.working_day is working
    assert [r.owner for r in reminders.owners] == (["li.ming", "wang.fang"] if working else [])
    assert reminders.unowned == ("event:E1",)  # raised whatever the day


def test_a_year_without_calendar_data_is_an_error_not_a_guess() -> None:
    with pytest.raises(YearNotCovered):
        owners_to_remind(progress(_leads(), {}), dt.date(2099, 1, 5), default_calendar())


def test_progress_of_a_recorded_run(store_url: str) -> None:
    records.save_run("R1", "2026Q3", 1, {}, _leads(), None, AT, url=store_url)
    records.record_answers("R1", [_answer("flagged:Q2", "use")], store_url)
    rows = progress_of("R1", store_url)
    assert [(r.owner, r.answered) for r in rows] == [("li.ming", 0), ("wang.fang", 1), (None, 0)]


@pytest.fixture
def reminder_kind(monkeypatch: pytest.MonkeyPatch) -> NoticeKind:
    """The reminder's kind, registered for this test only: until the procedure's entry in
    regflows/procedures.py lists it, a kind left registered would fail the registry's checks
    (tests/regflows/test_procedures.py, tests/notices/test_templates.py) later in the session."""
    from notices import kinds as registry

    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    from regflows.inspection.worklist_notices import WORKLIST_REMINDER  # first import registers into the copy

    return registry.register_kind(WORKLIST_REMINDER)


def test_the_reminder_lists_the_open_leads_with_their_page_links_in_both_forms(reminder_kind: NoticeKind) -> None:
    from notices.masking import find_pii
    from notices.templates import SMS_MAX_CHARS, render, sms_length
    from regflows.inspection.pages import page_url
    from regflows.inspection.worklist_notices import WORKLIST_REMINDER, reminder_context

    leads = [*_leads(), *(Lead("sampled", f"S{i:03d}", "head", "li.ming", f"抽查 {i}") for i in range(25))]
    latest = _latest()
    row = progress(leads, latest)[0]
    links = {lead_id: page_url("https://regflows.example.cn", "R1", lead_id, "li.ming", dt.timedelta(days=21))
             for lead_id in row.open_leads if lead_id != "sampled:S001"}
    context = reminder_context("2026Q3", "李明", row, leads, latest, links, due_label="2026-10-30 17:00",
                               worklist="自查核实清单-2026Q3.xlsx")
    full = render(WORKLIST_REMINDER.name, context)
    assert full.title == "【征信自查核实提醒】2026Q3 您有 26 条线索待核实（self-inspection:2026Q3）"
    assert "李明" in full.body and "2026-10-30 17:00" in full.body and "另有 6 条" in full.body
    assert f"sampled:Q3 c（待答复：授权、审核、使用、存储）核实页面：{links['sampled:Q3']}" in full.body  # the link intact
    assert "sampled:S001 抽查 1（待答复：授权、审核、查询、使用、存储）核实页面链接未生成" in full.body
    assert full.body.count("核实页面：https://") == 19
    sms = render(WORKLIST_REMINDER.name, context, "sms")
    assert "26 条线索待核实" in sms.body and "李明" not in sms.body and "https://" not in sms.body
    assert sms_length(sms.body) <= SMS_MAX_CHARS and find_pii(sms.body) == []


def test_owners_are_reminded_with_working_page_links_once_a_day(store_url: str, reminder_kind: NoticeKind) -> None:
    from sqlalchemy import select
    from starlette.testclient import TestClient

    from notices.ack_server import create_app
    from regflows.inspection.pages import ROUTES
    from regflows.inspection.worklist_notices import remind_owners
    from regflows.profile import load_profile
    from regflows.store import db
    from regflows.store.models import AuditEntry, Notice, OutboxMessage

    profile = load_profile(Path(__file__).resolve().parents[3] / "profiles" / "demo.yaml")
    leads = [*_leads(), Lead("flagged", "Q9", "head", "nobody.x", "e")]
    records.save_run("R1", "2026Q3", 1, {}, leads, None, AT, url=store_url)
    records.record_answers("R1", list(_latest().values()), store_url)

    holiday = remind_owners(profile, "R1", dt.date(2026, 10, 5), url=store_url)
    assert holiday.sent == () and not holiday.reminders.working_day

    now = dt.datetime.now(dt.UTC)
    first = remind_owners(profile, "R1", dt.date(2026, 10, 9), due_label="2026-10-23 17:00", now=now, url=store_url)
    assert first.sent == ("self-inspection:R1:remind:2026-10-09:li.ming", "self-inspection:R1:remind:2026-10-09:wang.fang")
    assert first.unknown_owners == ("nobody.x",) and first.reminders.unowned == ("event:E1",)
    with db.session(store_url) as s:
        notice = s.get(Notice, first.sent[0])
        assert notice is not None and notice.kind == "inspection_worklist_reminder" and not notice.requires_ack
        assert "李明" in notice.body and "sampled:Q3 c（待答复：授权、审核、使用、存储）" in notice.body
        pushed = [m for m in s.execute(select(OutboxMessage)).scalars() if m.target.startswith("outbox://li.ming/push")]
        (message,) = pushed
        unreminded = [e.payload for e in s.execute(select(AuditEntry).where(AuditEntry.action == "inspection.worklist_unreminded")).scalars()]
    assert len(unreminded) == 2 and '"nobody.x"' in unreminded[1] and '"event:E1"' in unreminded[1]
    link = next(w for w in message.body.split() if "/inspection/" in w).split("核实页面：")[-1]
    page = TestClient(create_app(ROUTES)).get(link[link.index("/inspection/"):])
    assert page.status_code == 200 and "sampled:Q3" in page.text  # the link in the reminder opens the owner's page

    again = remind_owners(profile, "R1", dt.date(2026, 10, 9), now=now, url=store_url)
    assert again.sent == first.sent
    with db.session(store_url) as s:
        assert len([m for m in s.execute(select(OutboxMessage)).scalars() if m.target.startswith("outbox://li.ming/push")]) == 1
