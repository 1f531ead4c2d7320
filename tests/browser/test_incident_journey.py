"""An incident's night in the UI after the declaration (issue 14, browser tests): the run page
shows its clock, timeline and notices artifacts; the on-call engineer opens the alert's link and
presses its button; the duty officer corrects the incident from the update form and sees the
re-grade. Every step is what a person does in the browser; the store is read only to check.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
import time

import httpx

from regflows.incident.update import update_form_url
from regflows.store.notices import latest_outbox

BEIJING = dt.timezone(dt.timedelta(hours=8))


def _incident(home, title: str) -> tuple[str, str, dict]:  # type: ignore[no-untyped-def]
    with sqlite3.connect(home / "regflows.db") as db:
        rows = [(i, g, json.loads(r)) for i, g, r in db.execute("select id, grade, record from incident")]
    [found] = [(i, g, r) for i, g, r in rows if r["title"] == title]
    return found


def _artifacts(api: str, run_id: str) -> dict[str, dict]:
    found = httpx.post(f"{api}/artifacts/filter", json={"artifacts": {"flow_run_id": {"any_": [run_id]}}}, timeout=30).json()
    return {a["key"]: a for a in found if a.get("key")}


def _wait_run(api: str, deployment_id: str, since: dt.datetime, timeout: float = 300) -> dict:
    """The deployment's first run created after ``since``, once final."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = httpx.post(f"{api}/flow_runs/filter", timeout=30,
                          json={"flow_runs": {"deployment_id": {"any_": [deployment_id]}}}).json()
        runs = [r for r in runs if dt.datetime.fromisoformat(r["created"]) >= since]
        if runs and runs[0]["state_type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
            return runs[0]
        time.sleep(1)
    raise AssertionError(f"incident-update 在 {timeout:.0f} 秒内没有结束的运行")


def test_run_page_artifacts_acknowledgement_and_correction(regflows_up, page, form, screenshot, run_deployment) -> None:  # type: ignore[no-untyped-def]
    now = dt.datetime.now(BEIJING).replace(second=0, microsecond=0)
    title = f"核心系统遭攻击（浏览器旅程 {now:%H%M%S}）"
    run = run_deployment("incident-response", {
        "incident": {"title": title, "discovered_at": f"{now - dt.timedelta(minutes=5):%Y-%m-%d %H:%M}",
                     "occurred_at": f"{now - dt.timedelta(minutes=30):%Y-%m-%d %H:%M}", "category": "网络攻击事件",
                     "system_name": "核心业务系统", "discovered_by": "安全运营中心"},
        "declared_by": "李明（li.ming）"})
    assert run["state_type"] == "COMPLETED", run["state"]
    incident_id, grade_before, _ = _incident(regflows_up.home, title)

    # 1. The run page lists its artifacts; the notices table says who was told, by which channel, with what outcome.
    artifacts = _artifacts(regflows_up.api, run["id"])
    assert "notices" in artifacts and f"incident-{incident_id.lower()}-clock" in artifacts, sorted(artifacts)
    page.goto(f"{regflows_up.ui}/runs/flow-run/{run['id']}")
    page.get_by_text("Artifacts", exact=True).first.click()
    page.get_by_text("notices").first.wait_for()
    page.get_by_text(f"incident-{incident_id.lower()}-clock").first.wait_for()
    screenshot(page, "incident-run-artifacts")
    page.goto(f"{regflows_up.ui}/artifacts/artifact/{artifacts['notices']['id']}")
    page.get_by_text("收件人").first.wait_for()
    page.get_by_text("李明（li.ming）").first.wait_for()
    page.get_by_text("已送达").first.wait_for()
    screenshot(page, "incident-notices-artifact")

    # 2. The alert's personal link, opened and acknowledged with its button.
    url = f"sqlite:///{regflows_up.home / 'regflows.db'}"
    alerts = [m for m in latest_outbox(200, url=url) if (incident_id in m.title or incident_id in m.body) and "/ack/" in m.body]
    assert alerts, f"no alert of {incident_id} with an acknowledgement link reached the outbox"
    link = re.search(r"(https?://\S+/ack/\S+)", alerts[-1].body)
    assert link, alerts[-1].body
    page.goto(link.group(1))
    page.get_by_role("button", name="确认收到").click()  # a real form POST: the browser sends its Origin
    page.get_by_text("已确认").first.wait_for()
    screenshot(page, "incident-acknowledged")
    page.goto(link.group(1))  # reopened: says who confirmed, no second button
    page.get_by_text("已确认").first.wait_for()
    assert page.get_by_role("button", name="确认收到").count() == 0

    # 3. The correction form, opened from the link a refused second declaration gives, re-grades.
    deployment = httpx.get(f"{regflows_up.api}/deployments/name/incident-update/incident-update", timeout=30).json()
    page.goto(update_form_url(regflows_up.ui, deployment["id"], incident_id))
    page.get_by_text("更正理由").first.wait_for()
    assert form.field(page, "事件编号").locator("input, textarea").first.input_value() == incident_id
    form.field(page, "更正理由").locator("input, textarea").first.fill("复核确认核心业务系统为重要信息系统且已被入侵")
    form.choose(page, "更正人", "李明（li.ming）")
    form.choose(page, "是否重要信息系统", "是")
    form.choose(page, "入侵与权限获取", "重要信息系统被入侵")
    screenshot(page, "incident-update-form", full_page=True)
    since = dt.datetime.now(dt.timezone.utc)
    page.get_by_role("button", name="Submit").click()
    update = _wait_run(regflows_up.api, deployment["id"], since)
    assert update["state_type"] == "COMPLETED", update["state"]
    _, grade_after, record = _incident(regflows_up.home, title)
    # NFRA 附件: an important system intruded is III (较大); the declaration without it graded IV.
    assert (grade_before, grade_after, record["important_system"]) == ("IV", "III", True)
    page.goto(f"{regflows_up.ui}/runs/flow-run/{update['id']}")
    page.get_by_text("IV级 → III级").first.wait_for()
    screenshot(page, "incident-update-run")
