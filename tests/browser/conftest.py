"""Fixtures of the browser tests: headless Debian chromium driven by Playwright, against a real
``regflows up`` (what ``make run`` runs) started once per session with the demo profile.

Chromium is the Debian package (/usr/bin/chromium, installed by ``make install``), never a
browser downloaded by ``playwright install``; the flags are the ones a machine without network
needs. The browser runs in the machine's default time zone (UTC on CI) on purpose: the forms
must not depend on the browser's zone (issue 14, 1), so the tests must not hide that by setting
Asia/Shanghai.

Screenshots go to ``build/screenshots/`` (ignored). ``make screenshots`` sets
``REGFLOWS_TOUR_DIR``: the screenshots named in ``TOUR`` are then also copied there (docs/tour/,
committed, embedded by docs/tour.md). Adding a screen to the tour is one line in ``TOUR``.

Fixtures: ``regflows_up`` (ui, api, ack_base, home, log), ``browser``, ``page``, ``screenshot``,
``run_deployment`` (start a deployment's run through the API and wait for its end), ``form``
(fill in a Prefect UI run form by its Chinese labels).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = REPO / "build" / "screenshots"

#: Screenshot name → caption: the screenshots ``make screenshots`` copies into docs/tour/ as
#: ``<name>.png`` (docs/tour.md embeds them with the caption). One line per screen.
TOUR: dict[str, str] = {
    "deployments": "部署列表：每个监管流程一个部署",
    "incident-form": "事件登记表单（incident-response 部署的运行表单）",
    "credit-stats-artifacts": "征信统计运行的产出物（Artifacts）",
    "review-page": "复核页面：从通知中的个人链接打开，可下载待复核的统计表",
    "incident-notices-artifact": "事件运行的通知清单（notices）：收件人、渠道、结果、尝试次数、是否确认",
    "incident-acknowledged": "值班人员从通知中的个人链接确认收到",
    "incident-update-run": "从更正表单更正事件事实后的重新定级（IV级 → III级）",
}

#: How long `regflows up` may take to be ready on a cold machine (demo data, first server start).
UP_TIMEOUT = 300.0


@dataclass(frozen=True)
class RegflowsUp:
    """A running ``regflows up``: where its UI, API and endpoint answer, and its home."""

    ui: str  # e.g. http://127.0.0.1:45123 (the Prefect UI; pages under /deployments, /runs/...)
    api: str  # e.g. http://127.0.0.1:45123/api
    ack_base: str  # the regflows endpoint (public_base_url): /ack/…, /incidents, review pages
    home: Path  # its REGFLOWS_HOME
    log: Path  # its stdout and stderr


def _deployment_names() -> set[str]:
    data = yaml.safe_load((REPO / "prefect.yaml").read_text(encoding="utf-8"))
    return {d["name"] for d in data["deployments"]}


def _stop(process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    """SIGTERM to regflows up (it stops the Prefect server it started), SIGKILL to its whole
    process group (the flow runs it spawned) after ``timeout``."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=10)


def _wait_served(process: subprocess.Popen[bytes], api: str, log: Path, names: set[str]) -> None:
    """Until every deployment of prefect.yaml is registered and READY (a runner polls for it)."""
    deadline = time.monotonic() + UP_TIMEOUT
    seen: set[str] = set()
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"regflows up 退出（{process.returncode}）：\n{log.read_text(errors='replace')[-3000:]}")
        try:
            r = httpx.post(f"{api}/deployments/filter", json={"limit": 200}, timeout=10)
            if r.status_code == 200:
                ready = {d["name"] for d in r.json() if d.get("status") == "READY"}
                seen = ready
                if names <= ready:
                    return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise RuntimeError(f"部署未全部就绪（已就绪 {sorted(seen)}），regflows up 日志：\n{log.read_text(errors='replace')[-3000:]}")


@pytest.fixture(scope="session")
def regflows_up(free_port_session: Callable[[], int]) -> Iterator[RegflowsUp]:
    """``regflows up`` with the demo profile in a private home, on free ports (the Prefect server
    and, through ``REGFLOWS_PUBLIC_BASE_URL``, the regflows endpoint); stopped at the end."""
    root = Path(tempfile.mkdtemp(prefix="regflows-browser-"))
    home = root / "home"
    prefect_port, ack_port = free_port_session(), free_port_session()
    ack_base = f"http://127.0.0.1:{ack_port}"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PREFECT_") and k not in ("REGFLOWS_DATABASE_URL", "REGFLOWS_ANCHOR_DIR", "REGFLOWS_PROFILE")}
    env.update(REGFLOWS_HOME=str(home), REGFLOWS_PUBLIC_BASE_URL=ack_base, PYTHONUNBUFFERED="1")
    log = root / "regflows-up.log"
    cmd = [str(Path(sys.executable).parent / "regflows"), "up", "--host", "127.0.0.1", "--port", str(prefect_port)]
    with log.open("wb") as handle:
        process = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)
    ui = f"http://127.0.0.1:{prefect_port}"
    try:
        _wait_served(process, f"{ui}/api", log, _deployment_names())
        yield RegflowsUp(ui=ui, api=f"{ui}/api", ack_base=ack_base, home=home, log=log)
    finally:
        _stop(process)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def free_port_session() -> Callable[[], int]:
    """``free_port`` for session fixtures (the root conftest's is function-scoped)."""
    import socket

    def pick() -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return int(s.getsockname()[1])

    return pick


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's chromium, headless, one per test module: Playwright's sync API keeps an event loop
    running on the main thread while it is open, and Prefect's sync-or-async calls
    (``flow.to_deployment``, ``State.result``) then hand coroutines to any other test that runs
    meanwhile; closing it with its module ends that. Each launch gets a fresh profile folder: Playwright creates a
    temporary --user-data-dir for every non-persistent launch and deletes it on close."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} 不存在：运行 make install（安装 Debian 软件包 chromium、fonts-noto-cjk）")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """A fresh context and page: a desktop viewport, Chinese locale, the machine's own time zone."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    context.set_default_timeout(30_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


#: Terminal state types of a flow run.
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


#: The answers Prefect's own client retries (``prefect.client.base``): the server says 503 for an
#: error a client may retry, such as its SQLite store busy while `regflows up` starts (seen once
#: in CI, at the session's first run).
_RETRIED = {429, 502, 503}


def _api(method: str, url: str, **kwargs: Any) -> httpx.Response:
    """One API call, retried as Prefect's client retries it (5 tries, backing off)."""
    for attempt in range(5):
        r = httpx.request(method, url, timeout=30, **kwargs)
        if r.status_code not in _RETRIED or attempt == 4:
            return r
        time.sleep(float(r.headers.get("Retry-After", 2 ** attempt)))
    raise AssertionError("unreachable")


def _run_deployment(up: RegflowsUp, name: str, parameters: dict[str, Any] | None = None, timeout: float = 300) -> dict[str, Any]:
    """Start a run of deployment ``name`` through the API (what the UI's form submits) and return
    the flow run once it is final (polled: the run is served by the `regflows up` process)."""
    r = _api("GET", f"{up.api}/deployments/name/{name}/{name}")
    r.raise_for_status()
    r = _api("POST", f"{up.api}/deployments/{r.json()['id']}/create_flow_run", json={"parameters": parameters or {}})
    if r.is_error:  # a parameter the deployment's schema refuses: say which
        raise AssertionError(f"{name} 的运行未创建（{r.status_code}）：{r.text}")
    run_id = r.json()["id"]
    deadline = time.monotonic() + timeout
    run: dict[str, Any] = {}
    while time.monotonic() < deadline:
        run = _api("GET", f"{up.api}/flow_runs/{run_id}").json()
        if run["state_type"] in FINAL:
            return run
        time.sleep(1)
    raise AssertionError(f"{name} 运行 {run_id} 在 {timeout:.0f} 秒内未结束：{run.get('state_type')}")


@pytest.fixture
def run_deployment(regflows_up: RegflowsUp) -> Callable[..., dict[str, Any]]:
    """A function that runs a deployment of the session's `regflows up` and waits for the end:
    ``run_deployment(name, parameters=None, timeout=300)`` → the flow run (API JSON)."""
    return lambda name, parameters=None, timeout=300: _run_deployment(regflows_up, name, parameters, timeout)


def _screenshot(page, name: str, full_page: bool = False) -> Path:  # type: ignore[no-untyped-def]
    """Save ``build/screenshots/<name>.png``; also into $REGFLOWS_TOUR_DIR when ``name`` is in TOUR."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    tour = os.environ.get("REGFLOWS_TOUR_DIR")
    if tour and name in TOUR:
        Path(tour).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, Path(tour) / path.name)
    return path


@pytest.fixture
def screenshot() -> Callable[..., Path]:
    """A function that saves a screenshot: ``screenshot(page, name, full_page=False)`` → its path
    (``build/screenshots/<name>.png``; copied into docs/tour/ by ``make screenshots`` if in TOUR)."""
    return _screenshot


class PrefectForm:
    """A Prefect UI run form, found by the Chinese labels regflows gives its fields."""

    @staticmethod
    def field(page, title: str):  # type: ignore[no-untyped-def]
        """The body of the field labelled ``title`` (a required label, or ``title (Optional)``)."""
        return page.locator(
            "xpath=//div[contains(concat(' ', normalize-space(@class), ' '), ' p-label ')]"
            f"[./div[contains(@class, 'p-label__header')]//label[normalize-space(.)='{title}' or starts-with(normalize-space(.), '{title} ')]]"
            "/div[contains(@class, 'p-label__body')]"
        ).first

    def type(self, page, title: str, text: str) -> None:  # type: ignore[no-untyped-def]
        self.field(page, title).locator("textarea, input").first.fill(text)

    def choose(self, page, title: str, option: str) -> None:  # type: ignore[no-untyped-def]
        """Prefect's select: its options open in a pop-over attached to the page's body."""
        button = self.field(page, title).locator(".p-select-button").first
        button.scroll_into_view_if_needed()
        button.click()
        choice = page.locator("[role=option], .p-select-option").filter(has_text=option).first
        try:
            choice.wait_for(timeout=3000)
        except Exception:  # noqa: BLE001  (a click does not always open it; the keyboard does)
            button.press("ArrowDown")
        choice.click()


@pytest.fixture
def form() -> PrefectForm:
    """``form.type(page, 标签, 文本)``, ``form.choose(page, 标签, 选项)``, ``form.field(page, 标签)``."""
    return PrefectForm()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test of this folder is a browser test (``-m browser`` / ``-m 'not browser'``)."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)
