"""DingTalk, WeCom bot, Feishu and Lark against a real local HTTP server that answers like the vendor.

Nothing mocks Apprise: each test starts an ``http.server`` in a thread, points the plugin at it
with ``?base=``, sends through ``apprise.Apprise().notify()`` and reads both the per-service
result and what arrived at the server.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import apprise
import pytest
from apprise import AppriseResultStatus
from apprise.manager_plugins import NotificationManager
from apprise.plugins.dingtalk import NotifyDingTalk
from apprise.plugins.feishu import NotifyFeishu
from apprise.plugins.base import NotifyBase
from apprise.plugins.lark import NotifyLark
from apprise.plugins.wecombot import NotifyWeComBot

from notices.plugins import failure_reason, install_plugins, vendor_error
from notices.plugins.vendor_checked import CheckedDingTalk, CheckedFeishu, CheckedLark, CheckedWeComBot

TEXT = "【演练】支付系统中断，请值班工程师确认"


# --------------------------------------------------------------------------- the stand-in vendor


@dataclass
class Answer:
    status: int = 200
    body: Any = None  # dict → JSON, str → as is
    delay: float = 0.0


@dataclass
class Arrived:
    path: str
    query: dict[str, list[str]]
    raw_query: str
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


@dataclass
class VendorStandIn:
    """Answers every POST with ``answer``, or ``by_token[t]`` when the path or query holds ``t``."""

    server: ThreadingHTTPServer
    answer: Answer = field(default_factory=Answer)
    by_token: dict[str, Answer] = field(default_factory=dict)
    arrived: list[Arrived] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def base_param(self) -> str:
        return urllib.parse.quote(self.base, safe="")

    def answer_for(self, path: str) -> Answer:
        for token, answer in self.by_token.items():
            if token in path:
                return answer
        return self.answer


def _handler(stand_in: VendorStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            parts = urllib.parse.urlsplit(self.path)
            stand_in.arrived.append(Arrived(parts.path, urllib.parse.parse_qs(parts.query), parts.query, body))
            answer = stand_in.answer_for(self.path)
            if answer.delay:
                stand_in.release.wait(answer.delay)
            payload = answer.body if isinstance(answer.body, str) else json.dumps(answer.body or {})
            data = payload.encode("utf-8")
            try:
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:  # the client gave up (timeout tests)
                pass

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def vendor() -> Iterator[VendorStandIn]:
    stand_in = VendorStandIn(server=None)  # type: ignore[arg-type]
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(stand_in))
    server.daemon_threads = True
    stand_in.server = server
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield stand_in
    stand_in.release.set()
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def plugins_installed() -> None:
    install_plugins()


# --------------------------------------------------------------------------- the four vendors


@dataclass(frozen=True)
class Vendor:
    scheme: str
    url: str  # with {token}
    path: str  # where the vendor expects the POST, with {token}
    ok: dict[str, Any]
    refusal: dict[str, Any]
    code_field: str
    text_of: Callable[[Any], str]
    builtin: type[NotifyBase]
    checked: type
    redirect_builtin: Callable[[Any, str, str], None]  # (plugin, base, token): point a built-in at base


def _set(attr: str, template: str) -> Callable[[Any, str, str], None]:
    def point(plugin: Any, base: str, token: str) -> None:
        setattr(plugin, attr, base + template.replace("{token}", token))

    return point


VENDORS = {
    "dingtalk": Vendor(
        "dingtalk", "dingtalk://{token}/", "/robot/send",
        ok={"errcode": 0, "errmsg": "ok"},
        refusal={"errcode": 310000, "errmsg": "description:机器人发送签名不匹配;solution:请确认签名和时间戳 \"都\" 在网址中"},
        code_field="errcode",
        text_of=lambda body: body["text"]["content"],
        builtin=NotifyDingTalk, checked=CheckedDingTalk,
        redirect_builtin=_set("notify_url", "/robot/send?access_token={token}"),
    ),
    "wecombot": Vendor(
        "wecombot", "wecombot://{token}", "/cgi-bin/webhook/send",
        ok={"errcode": 0, "errmsg": "ok"},
        refusal={"errcode": 45009, "errmsg": "api freq out of limit"},
        code_field="errcode",
        text_of=lambda body: body["text"]["content"],
        builtin=NotifyWeComBot, checked=CheckedWeComBot,
        redirect_builtin=_set("api_url", "/cgi-bin/webhook/send?key={token}"),  # built in __init__
    ),
    "feishu": Vendor(
        "feishu", "feishu://{token}", "/open-apis/bot/v2/hook/{token}/",
        ok={"StatusCode": 0, "StatusMessage": "success", "code": 0, "data": {}, "msg": "success"},
        refusal={"code": 19021, "data": {}, "msg": "sign match fail or timestamp is not within one hour"},
        code_field="code",
        text_of=lambda body: body["content"]["text"],
        builtin=NotifyFeishu, checked=CheckedFeishu,
        redirect_builtin=_set("notify_url", "/open-apis/bot/v2/hook/{token}/"),
    ),
    "lark": Vendor(
        "lark", "lark://{token}", "/open-apis/bot/v2/hook/{token}",
        ok={"code": 0, "data": {}, "msg": "success"},
        refusal={"code": 19024, "data": {}, "msg": "Key Words Not Found"},
        code_field="code",
        text_of=lambda body: body["content"]["text"],
        builtin=NotifyLark, checked=CheckedLark,
        redirect_builtin=_set("webhook_url", "/open-apis/bot/v2/hook/{token}"),  # built in __init__
    ),
}

vendors = pytest.mark.parametrize("v", list(VENDORS.values()), ids=list(VENDORS))


def checked_url(v: Vendor, stand_in: VendorStandIn, token: str = "tok1", extra: str = "") -> str:
    url = v.url.format(token=token)
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}base={stand_in.base_param}{extra}"


def send(url: str, **kwargs: Any) -> apprise.AppriseResult:
    sender = apprise.Apprise()
    assert sender.add(url), url
    return sender.notify(body=TEXT, title="值班通知", **kwargs)


# --------------------------------------------------------------------------- delivered or not


@vendors
def test_vendor_accepts_and_message_arrives(v: Vendor, vendor: VendorStandIn) -> None:
    vendor.answer = Answer(200, v.ok)
    result = send(checked_url(v, vendor))

    assert result.status == AppriseResultStatus.SUCCESS
    [service] = list(result)
    assert isinstance(apprise.Apprise.instantiate(checked_url(v, vendor)), v.checked)
    assert service.status == AppriseResultStatus.SUCCESS
    assert failure_reason(service) is None and vendor_error(service) is None
    [arrived] = vendor.arrived
    assert arrived.path == v.path.format(token="tok1")
    assert TEXT in v.text_of(arrived.json())


@vendors
def test_http_200_with_vendor_error_code_is_not_delivered(v: Vendor, vendor: VendorStandIn) -> None:
    vendor.answer = Answer(200, v.refusal)
    seen: list[str] = []
    result = send(checked_url(v, vendor), log_callback=lambda entry, _service: seen.append(entry.message))

    assert not result and result.status == AppriseResultStatus.FAILURE
    [service] = list(result)
    assert service.status == AppriseResultStatus.FAILURE
    assert len(vendor.arrived) == 1, "the message reached the vendor, which refused it"

    error = vendor_error(service)
    assert error is not None
    assert error.code == v.refusal[v.code_field]
    assert error.code_field == v.code_field
    assert error.message == v.refusal["errmsg" if v.code_field == "errcode" else "msg"]
    assert error.http_status == 200
    reason = failure_reason(service)
    assert reason is not None and f"{v.code_field}={v.refusal[v.code_field]}" in reason
    # the same line reaches a live log_callback, and it holds no token
    assert any(str(v.refusal[v.code_field]) in line for line in seen)
    assert not any("tok1" in line for line in seen)


@vendors
def test_http_500_is_not_delivered(v: Vendor, vendor: VendorStandIn) -> None:
    vendor.answer = Answer(500, "<html>internal error</html>")
    [service] = list(send(checked_url(v, vendor)))

    assert service.status == AppriseResultStatus.FAILURE
    assert "HTTP 500" in (failure_reason(service) or "")
    assert vendor_error(service) is None


@vendors
def test_vendor_error_on_http_error_keeps_the_vendor_code(v: Vendor, vendor: VendorStandIn) -> None:
    vendor.answer = Answer(400, v.refusal)
    [service] = list(send(checked_url(v, vendor)))

    error = vendor_error(service)
    assert service.status == AppriseResultStatus.FAILURE
    assert error is not None and error.code == v.refusal[v.code_field] and error.http_status == 400


@vendors
def test_slow_vendor_beyond_read_timeout_is_not_delivered(v: Vendor, vendor: VendorStandIn) -> None:
    vendor.answer = Answer(200, v.ok, delay=5)
    started = time.monotonic()
    [service] = list(send(checked_url(v, vendor, extra="&rto=1")))

    assert time.monotonic() - started < 4
    assert service.status == AppriseResultStatus.FAILURE
    assert "ReadTimeout" in (failure_reason(service) or "")


@vendors
def test_unrecognised_answer_fails_closed(v: Vendor, vendor: VendorStandIn) -> None:
    vendor.answer = Answer(200, "ok")
    [service] = list(send(checked_url(v, vendor)))

    assert service.status == AppriseResultStatus.FAILURE
    assert "not recognised" in (failure_reason(service) or "")


@vendors
def test_builtin_plugin_reports_success_on_a_refusal(v: Vendor, vendor: VendorStandIn) -> None:
    """The trap, proven on Apprise's own class: same server, same answer, opposite verdicts.

    The built-in posts to the vendor's fixed host, so the test points that very instance at the
    stand-in by setting the one URL attribute its send() uses; its send() code runs unchanged.
    """
    vendor.answer = Answer(200, v.refusal)
    parsed = v.builtin.parse_url(v.url.format(token="tok1"))
    assert parsed is not None
    builtin = v.builtin(**parsed)
    assert type(builtin) is v.builtin
    v.redirect_builtin(builtin, vendor.base, "tok1")
    builtin.request_rate_per_sec = 0  # Lark's built-in throttles twice per send (5.5 s); irrelevant here

    trusted = apprise.Apprise(builtin).notify(body=TEXT, title="值班通知")
    checked = send(checked_url(v, vendor))

    assert len(vendor.arrived) == 2 and all(a.path == v.path.format(token="tok1") for a in vendor.arrived)
    assert trusted.status == AppriseResultStatus.SUCCESS, "Apprise 2.0.1's built-in trusts HTTP 200"
    assert checked.status == AppriseResultStatus.FAILURE
    assert vendor_error(list(checked)[0]).code == v.refusal[v.code_field]  # type: ignore[union-attr]


def test_services_in_one_call_are_judged_separately(vendor: VendorStandIn) -> None:
    """Apprise sends these in its thread pool: each send sees only its own vendor answer."""
    vendor.by_token = {
        "good": Answer(200, {"errcode": 0, "errmsg": "ok"}, delay=0.3),
        "bad": Answer(200, {"errcode": 310000, "errmsg": "sign not match"}, delay=0.3),
    }
    sender = apprise.Apprise()
    for n in range(4):
        for kind in ("good", "bad"):
            assert sender.add(checked_url(VENDORS["dingtalk"], vendor, token=f"{kind}{n}"))
    started = time.monotonic()
    result = sender.notify(body=TEXT)

    assert time.monotonic() - started < 8 * 0.3, "sent in parallel"

    assert result.status == AppriseResultStatus.PARTIAL
    assert len(vendor.arrived) == 8
    for service in result:
        if "://g..." in service.url:  # the masked token of good0..good3
            assert service.status == AppriseResultStatus.SUCCESS, service.url
        else:
            assert vendor_error(service).code == 310000, service.url  # type: ignore[union-attr]
    assert result.success_count == 4 and result.failed_count == 4


# --------------------------------------------------------------------------- dialects and details


@pytest.mark.parametrize(
    ("answer", "delivered"),
    [
        ({"StatusCode": 0, "StatusMessage": "success"}, True),
        ({"StatusCode": 9499, "StatusMessage": "Bad Request"}, False),
        ({"code": 0, "msg": "success", "StatusCode": 0}, True),
        ({"code": 0, "msg": "success", "StatusCode": 1, "StatusMessage": "refused"}, False),
        ({"code": "0", "msg": "a string is not the documented answer"}, False),
        ({"data": {}}, False),
    ],
)
def test_feishu_answer_dialects(vendor: VendorStandIn, answer: dict[str, Any], delivered: bool) -> None:
    vendor.answer = Answer(200, answer)
    [service] = list(send(checked_url(VENDORS["feishu"], vendor)))
    assert (service.status == AppriseResultStatus.SUCCESS) is delivered, failure_reason(service)


def test_dingtalk_signature_reaches_the_server_encoded_once(vendor: VendorStandIn) -> None:
    secret = "SEC0123456789abcdef"
    vendor.answer = Answer(200, {"errcode": 0, "errmsg": "ok"})
    before = time.time() * 1000
    [service] = list(send(f"dingtalk://{secret}@tok1/?base={vendor.base_param}"))
    after = time.time() * 1000

    assert service.status == AppriseResultStatus.SUCCESS
    [arrived] = vendor.arrived
    [timestamp], [sign] = arrived.query["timestamp"], arrived.query["sign"]
    assert before - 1 <= int(timestamp) <= after + 1
    expected = base64.b64encode(
        hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    ).decode()
    assert sign == expected  # one URL decoding gives the base64 signature, as DingTalk specifies
    assert arrived.query["access_token"] == ["tok1"]
    assert TEXT in arrived.json()["text"]["content"]


def test_builtin_dingtalk_encodes_its_signature_twice(vendor: VendorStandIn) -> None:
    """Why CheckedDingTalk overrides get_signature(): documents Apprise 2.0.1's behaviour."""
    secret = "SEC0123456789abcdef"
    vendor.answer = Answer(200, {"errcode": 0, "errmsg": "ok"})
    builtin = NotifyDingTalk(**NotifyDingTalk.parse_url(f"dingtalk://{secret}@tok1/"))
    VENDORS["dingtalk"].redirect_builtin(builtin, vendor.base, "tok1")
    apprise.Apprise(builtin).notify(body=TEXT)

    [arrived] = vendor.arrived
    [sign] = arrived.query["sign"]
    assert "%" in sign and urllib.parse.unquote(sign).endswith("=")


def test_base_parameter_round_trips_and_is_validated(vendor: VendorStandIn) -> None:
    plugin = apprise.Apprise.instantiate(f"wecombot://key1/?base={vendor.base_param}%2Fproxy%2Fwecom%2F")
    assert isinstance(plugin, CheckedWeComBot)
    assert str(plugin.base) == f"{vendor.base}/proxy/wecom"
    again = apprise.Apprise.instantiate(plugin.url())
    assert isinstance(again, CheckedWeComBot) and str(again.base) == str(plugin.base)
    assert plugin.url_id != apprise.Apprise.instantiate("wecombot://key1/").url_id

    vendor.answer = Answer(200, {"errcode": 0, "errmsg": "ok"})
    assert apprise.Apprise(plugin).notify(body=TEXT)
    [arrived] = vendor.arrived
    assert arrived.path == "/proxy/wecom/cgi-bin/webhook/send" and arrived.query["key"] == ["key1"]

    for bad in (
        "ftp%3A%2F%2Fhost", "http%3A%2F%2Fuser%3Apw%40host", "http%3A%2F%2Fhost%2F%3Fa%3D1", "nohost",
        "http%3A%2F%2F%5Bbad", "http%3A%2F%2Fhost%3A99999",
    ):
        assert apprise.Apprise.instantiate(f"dingtalk://tok1/?base={bad}") is None, bad


def test_without_base_the_vendor_host_is_used() -> None:
    """No base: our plugin leaves the built-in's fixed vendor address alone."""
    plugin = apprise.Apprise.instantiate("dingtalk://tok1/")
    assert isinstance(plugin, CheckedDingTalk) and plugin.base is None
    assert plugin.notify_url.startswith("https://oapi.dingtalk.com/")
    assert "base=" not in plugin.url()


def test_lark_sends_without_the_builtin_double_throttle(vendor: VendorStandIn) -> None:
    vendor.answer = Answer(200, {"code": 0, "msg": "success"})
    started = time.monotonic()
    [service] = list(send(checked_url(VENDORS["lark"], vendor)))
    assert service.status == AppriseResultStatus.SUCCESS
    assert time.monotonic() - started < 3  # Apprise 2.0.1's Lark alone sleeps 5.5 s per first send


def test_install_is_idempotent_and_replaces_the_builtins() -> None:
    registry = NotificationManager()
    first = install_plugins()
    second = install_plugins()
    assert first == second
    for scheme, v in VENDORS.items():
        assert registry[scheme] is v.checked
        assert first[scheme] is v.checked
    assert "outbox" in first


def test_refusal_is_logged_at_warning_on_the_apprise_logger(vendor: VendorStandIn, caplog: pytest.LogCaptureFixture) -> None:
    vendor.answer = Answer(200, {"errcode": 93000, "errmsg": "invalid webhook url"})
    with caplog.at_level(logging.WARNING, logger="apprise"):
        send(checked_url(VENDORS["wecombot"], vendor))
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert 'WeCom Bot not delivered: vendor answered errcode=93000 errmsg="invalid webhook url" (HTTP 200)' in lines
