"""The incident-response form filled in the Prefect UI as a duty officer does (issue 14, 1): the
browser in the machine's zone (UTC on CI), the times typed as Beijing wall-clock time; the stored
record says +08:00 and the 2-hour and 24-hour reports are due from the typed Beijing instants."""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
import time

import httpx

BEIJING = dt.timezone(dt.timedelta(hours=8))


def test_the_incident_form_reads_beijing_time_in_a_utc_browser(regflows_up, page, form, screenshot) -> None:  # type: ignore[no-untyped-def]
    now = dt.datetime.now(BEIJING).replace(second=0, microsecond=0)
    discovered, occurred = now - dt.timedelta(minutes=10), now - dt.timedelta(minutes=40)
    title = f"网银系统被入侵（浏览器测试 {now:%H%M}）"

    deployment = httpx.get(f"{regflows_up.api}/deployments/name/incident-response/incident-response", timeout=30).json()
    page.goto(f"{regflows_up.ui}/deployments/deployment/{deployment['id']}/run")
    page.get_by_text("发现时间（北京时间）").first.wait_for()
    form.type(page, "事件标题", title)
    form.type(page, "发现时间（北京时间）", f"{discovered:%Y-%m-%d %H:%M}")
    form.type(page, "发生时间（北京时间）", f"{occurred:%Y-%m-%d %H:%M}")
    form.choose(page, "事件分类", "网络攻击事件")
    form.type(page, "系统名称", "网上银行系统")
    form.type(page, "发现人", "值班工程师")
    form.field(page, "是否重要信息系统").locator(".p-toggle").first.click()
    form.choose(page, "入侵与权限获取", "重要信息系统被入侵")
    form.choose(page, "申报人", "李明（li.ming）")
    screenshot(page, "incident-form-filled", full_page=True)
    page.get_by_role("button", name="Submit").click()
    page.wait_for_url(re.compile(r"/deployments/deployment/[0-9a-f-]+(\?.*)?$"))  # the UI goes back to the deployment
    runs: list = []
    for _ in range(60):
        runs = [r for r in httpx.post(f"{regflows_up.api}/flow_runs/filter", timeout=30, json={
            "flow_runs": {"deployment_id": {"any_": [deployment["id"]]}}}).json()
            if r["parameters"].get("incident", {}).get("discovered_at") == f"{discovered:%Y-%m-%d %H:%M}"]
        if runs:
            break
        time.sleep(1)
    [run] = runs
    run_id = run["id"]

    deadline = time.monotonic() + 300
    while (run := httpx.get(f"{regflows_up.api}/flow_runs/{run_id}", timeout=30).json())["state_type"] not in (
            "COMPLETED", "FAILED", "CRASHED", "CANCELLED") and time.monotonic() < deadline:
        time.sleep(1)
    assert run["state_type"] == "COMPLETED", run["state"]
    page.goto(f"{regflows_up.ui}/runs/flow-run/{run_id}")
    page.get_by_text("收到事件申报").first.wait_for()
    screenshot(page, "incident-form-run")
    # What the UI stored is the text as typed; the record is Beijing time with its offset.
    assert run["parameters"]["incident"]["discovered_at"] == f"{discovered:%Y-%m-%d %H:%M}"
    with sqlite3.connect(regflows_up.home / "regflows.db") as db:
        rows = [(i, json.loads(r)) for i, r in db.execute("select id, record from incident")]
        [(incident_id, record)] = [(i, r) for i, r in rows if r["title"] == title]
        due = dict(db.execute("select code, due_at from obligation where subject = ?", (incident_id,)).fetchall())
    assert record["discovered_at"] == discovered.isoformat() and record["discovered_at"].endswith("+08:00")
    assert record["occurred_at"] == occurred.isoformat()

    def instant(text: str) -> dt.datetime:
        value = dt.datetime.fromisoformat(text)
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)  # the store keeps UTC

    assert instant(due["regulator_initial_report"]) == discovered + dt.timedelta(hours=2)  # NFRA 第四十五条
    assert instant(due["regulator_written_report"]) == occurred + dt.timedelta(hours=24)
    logs = httpx.post(f"{regflows_up.api}/logs/filter", json={"logs": {"flow_run_id": {"any_": [run_id]}}}, timeout=30).json()
    assert any(f"发现时间 {discovered:%Y-%m-%d %H:%M}（北京时间）" in m["message"] for m in logs)
