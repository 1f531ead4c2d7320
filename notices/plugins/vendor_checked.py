"""DingTalk, WeCom bot, Feishu and Lark, delivered only when the vendor says so.

Why this module exists: Apprise 2.0.1's ``dingtalk://``, ``wecombot://``, ``feishu://`` and
``lark://`` plugins look only at the HTTP status. These vendors answer HTTP 200 for most refusals
(bad signature, missing keyword, rate limit, disabled bot) and put the verdict in the JSON body:
DingTalk and WeCom ``{"errcode": 310000, "errmsg": "..."}``, Feishu and Lark
``{"code": 19021, "msg": "..."}`` (older endpoints ``{"StatusCode": 0, ...}``); 0 means accepted.
A regulator asks who was told what; "Apprise said yes" is not an answer when the vendor said no.

How: each plugin here subclasses the built-in one and overrides the minimum. The built-in
``send()`` is one monolithic function that builds the payload, posts it with the module-level
``requests.post`` and discards the answer. We keep that code and run a copy of the very same
function whose global name ``requests`` is bound to a tap (:class:`_RequestsTap`) instead of the
module. Apprise's own modules are never modified; the built-in plugins keep working unchanged for
anyone who does not install ours. The tap forwards to ``requests`` and hands the response (or
the exception) to the ``send()`` that is running in the same thread and context (a
``ContextVar``: Apprise sends from a thread pool, each send gets its own slot). Our ``send()`` then
judges the vendor's answer and fails closed: without an answer it saw and understood, nothing
counts as delivered.

The reason for every failure is logged on the plugin's logger at WARNING, in one fixed form::

    DingTalk not delivered: vendor answered errcode=310000 errmsg="sign not match" (HTTP 200)

Apprise 2.0.1 captures WARNING lines per service attempt (``NotifyResult.logs()``); its result
objects have no reason field. :func:`vendor_error` reads the vendor's code back from a result.

``?base=`` (all four schemes): replaces the vendor's scheme, host and port (and may add a path
prefix) in every request, e.g. ``dingtalk://TOKEN/?base=http%3A%2F%2F127.0.0.1%3A8080``. For tests
against a local server, and for institutions whose outbound traffic must go through an internal
reverse proxy. The rest of the vendor's path and query (token, timestamp, sign) is kept.
"""

from __future__ import annotations

import functools
import json
import re
import types
import urllib.parse
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, ClassVar

import requests
from apprise.exception import AppriseImproperlyConfigured
from apprise.plugins.dingtalk import NotifyDingTalk
from apprise.plugins.feishu import NotifyFeishu
from apprise.plugins.lark import NotifyLark
from apprise.plugins.wecombot import NotifyWeComBot
from apprise.result import NotifyResult

__all__ = [
    "CHECKED_PLUGINS",
    "CheckedDingTalk",
    "CheckedFeishu",
    "CheckedLark",
    "CheckedWeComBot",
    "VendorError",
    "vendor_error",
]


# --------------------------------------------------------------------------- the vendor's verdict


@dataclass(frozen=True)
class Verdict:
    """What the vendor's JSON answer says, in the vendor's own field names."""

    accepted: bool
    code_field: str
    code: Any
    message_field: str
    message: Any


def _is_zero(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value == 0


def errcode_verdict(answer: Any) -> Verdict | None:
    """DingTalk and WeCom: ``{"errcode": 0, "errmsg": "ok"}``; anything but 0 is a refusal."""
    if not isinstance(answer, dict) or "errcode" not in answer:
        return None
    code = answer["errcode"]
    return Verdict(_is_zero(code), "errcode", code, "errmsg", answer.get("errmsg"))


def feishu_verdict(answer: Any) -> Verdict | None:
    """Feishu and Lark: ``{"code": 0, "msg": "success"}``, older endpoints ``{"StatusCode": 0}``.

    Current answers often carry both; every code present must be 0.
    """
    if not isinstance(answer, dict):
        return None
    code = Verdict(_is_zero(answer.get("code")), "code", answer.get("code"), "msg", answer.get("msg"))
    status = Verdict(
        _is_zero(answer.get("StatusCode")), "StatusCode", answer.get("StatusCode"),
        "StatusMessage", answer.get("StatusMessage"),
    )
    present = [v for v in (code, status) if v.code_field in answer]
    refused = [v for v in present if not v.accepted]
    chosen = refused or present
    return chosen[0] if chosen else None


# --------------------------------------------------------------------------- the tap


@dataclass
class _Base:
    """The parsed ``?base=`` value: where requests go instead of the vendor's host."""

    scheme: str
    netloc: str
    path: str  # prefix without trailing slash, may be ""

    @classmethod
    def parse(cls, value: str | None) -> _Base | None:
        if not value:
            return None
        try:
            parts = urllib.parse.urlsplit(value.strip())
            parts.port  # noqa: B018 (validates the port)
        except ValueError as exc:
            raise AppriseImproperlyConfigured("base= is not a valid URL") from exc
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise AppriseImproperlyConfigured("base= must be an http(s) URL with a host")
        if parts.username or parts.password or parts.query or parts.fragment:
            raise AppriseImproperlyConfigured("base= takes scheme, host, port and path only (no credentials or query)")
        return cls(parts.scheme, parts.netloc, parts.path.rstrip("/"))

    def __str__(self) -> str:
        return f"{self.scheme}://{self.netloc}{self.path}"

    def apply(self, url: str) -> str:
        parts = urllib.parse.urlsplit(url)
        return urllib.parse.urlunsplit((self.scheme, self.netloc, self.path + parts.path, parts.query, parts.fragment))


@dataclass
class _Exchange:
    """One ``send()``'s view of its HTTP exchange with the vendor."""

    base: _Base | None
    response: requests.Response | None = None
    error: requests.RequestException | None = None
    throttled: bool = False


_current: ContextVar[_Exchange | None] = ContextVar("regflows_vendor_exchange", default=None)


class _RequestsTap:
    """Stands in for the ``requests`` module inside our copies of the built-in ``send()``.

    Everything but ``post`` is the real module (``requests.codes``, ``RequestException``...).
    Outside one of our sends (no exchange in the context) it is a plain pass-through.
    """

    def __getattr__(self, name: str) -> Any:
        return getattr(requests, name)

    def post(self, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        exchange = _current.get()
        if exchange is None:
            return requests.post(url, *args, **kwargs)
        if exchange.base is not None:
            url = exchange.base.apply(url)
        try:
            response = requests.post(url, *args, **kwargs)
        except requests.RequestException as exc:
            exchange.error = exc
            raise
        exchange.response = response
        return response


_TAP = _RequestsTap()


def _tapped(function: Callable[..., Any]) -> Callable[..., Any]:
    """The same function, with ``requests`` in its globals bound to the tap.

    Refuses a function that does not use the global ``requests``: if an Apprise upgrade moves
    the HTTP call elsewhere, importing this module fails loudly instead of checking nothing.
    """
    if "requests" not in function.__code__.co_names or function.__globals__.get("requests") is not requests:
        raise RuntimeError(
            f"{function.__qualname__} no longer posts through the module-level requests; "
            "regflows' vendor check (notices/plugins/vendor_checked.py) must be reviewed"
        )
    rebound = types.FunctionType(
        function.__code__,
        {**function.__globals__, "requests": _TAP},
        function.__name__,
        function.__defaults__,
        function.__closure__,
    )
    rebound.__kwdefaults__ = function.__kwdefaults__
    return functools.update_wrapper(rebound, function)


# --------------------------------------------------------------------------- the plugins


class _VendorChecked:
    """Mixin placed before a built-in plugin: vendor-checked ``send()``, ``base=`` support."""

    #: The built-in send() rebound to the tap; set by each concrete class.
    _builtin_send: ClassVar[Callable[..., bool]]
    #: Reads the vendor's JSON answer.
    _verdict: ClassVar[Callable[[Any], Verdict | None]]

    service_name: str
    logger: Any

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.template_args = {  # type: ignore[attr-defined]
            **cls.template_args,  # type: ignore[attr-defined]
            "base": {"name": "Base URL (scheme://host:port, replaces the vendor host)", "type": "string"},
        }

    def __init__(self, *args: Any, base: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]
        self.base = _Base.parse(base)

    @classmethod
    def parse_url(cls, url: str) -> dict[str, Any] | None:
        results = super().parse_url(url)  # type: ignore[misc]
        if results and results.get("qsd", {}).get("base"):
            results["base"] = urllib.parse.unquote(results["qsd"]["base"])
        return results

    def url_parameters(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        params = super().url_parameters(*args, **kwargs)  # type: ignore[misc]
        if self.base is not None:
            params["base"] = str(self.base)
        return params

    @property
    def url_identifier(self) -> Any:
        identifier = super().url_identifier  # type: ignore[misc]
        return (*identifier, str(self.base)) if self.base is not None else identifier

    def throttle(self, *args: Any, **kwargs: Any) -> None:
        """Throttle once per send: Lark's built-in send throttles twice and sleeps 5.5 s each time."""
        exchange = _current.get()
        if exchange is not None:
            if exchange.throttled:
                return
            exchange.throttled = True
        super().throttle(*args, **kwargs)  # type: ignore[misc]

    def send(self, *args: Any, **kwargs: Any) -> bool:
        exchange = _Exchange(self.base)
        token = _current.set(exchange)
        try:
            sent = self._builtin_send(*args, **kwargs)
        finally:
            _current.reset(token)
        reason = self._judge(bool(sent), exchange)
        if reason is None:
            return True
        self.logger.warning("%s not delivered: %s", self.service_name, reason)
        return False

    def _judge(self, sent: bool, exchange: _Exchange) -> str | None:
        """None when the vendor accepted the message, else why not (no secrets in it)."""
        if exchange.error is not None:
            return f"request failed: {type(exchange.error).__name__}"
        response = exchange.response
        if response is None:
            # The built-in refused before posting (it logged why), or Apprise changed how it posts.
            return "no request was made" if not sent else "no vendor answer was seen"
        try:
            verdict = type(self)._verdict(response.json())
        except ValueError:
            verdict = None
        status = response.status_code
        if verdict is not None and not verdict.accepted:
            return (
                f"vendor answered {verdict.code_field}={json.dumps(verdict.code, ensure_ascii=False)} "
                f"{verdict.message_field}={json.dumps(verdict.message, ensure_ascii=False)} (HTTP {status})"
            )
        if status != requests.codes.ok:
            return f"HTTP {status}"
        if verdict is None:
            snippet = " ".join(response.text[:200].split())
            return f"vendor answer not recognised (HTTP {status}): {snippet!r}"
        return None if sent else "the built-in plugin reported a failure"


class CheckedDingTalk(_VendorChecked, NotifyDingTalk):
    """``dingtalk://[secret@]token/[phone...]`` checked against ``errcode``."""

    _builtin_send = _tapped(NotifyDingTalk.send)
    _verdict = staticmethod(errcode_verdict)

    def get_signature(self) -> tuple[str, str]:
        """Hand ``requests`` the raw base64 signature so it is URL-encoded exactly once.

        Apprise 2.0.1 quotes the signature itself and then passes it in ``params=``, which quotes
        it again (``%2B`` becomes ``%252B``; every signature ends in ``=``, so every one is
        affected). DingTalk's documentation asks for one encoding, and another client that encoded
        twice was answered ``310000 sign not match`` (github.com/wowiwj/ding-notice/issues/11);
        not measured against DingTalk from here. Unquoting is a no-op should Apprise stop quoting.
        """
        timestamp, signature = super().get_signature()
        return timestamp, urllib.parse.unquote(signature)


class CheckedWeComBot(_VendorChecked, NotifyWeComBot):
    """``wecombot://key`` checked against ``errcode``."""

    _builtin_send = _tapped(NotifyWeComBot.send)
    _verdict = staticmethod(errcode_verdict)


class CheckedFeishu(_VendorChecked, NotifyFeishu):
    """``feishu://token`` checked against ``code`` / ``StatusCode``."""

    _builtin_send = _tapped(NotifyFeishu.send)
    _verdict = staticmethod(feishu_verdict)


class CheckedLark(_VendorChecked, NotifyLark):
    """``lark://token`` checked against ``code`` / ``StatusCode``."""

    _builtin_send = _tapped(NotifyLark.send)
    _verdict = staticmethod(feishu_verdict)


CHECKED_PLUGINS: tuple[type[Any], ...] = (CheckedDingTalk, CheckedWeComBot, CheckedFeishu, CheckedLark)


# --------------------------------------------------------------------------- reading it back


@dataclass(frozen=True)
class VendorError:
    """A vendor's refusal as read back from a service result."""

    service: str
    code: Any  # e.g. 310000
    message: Any  # the vendor's errmsg / msg
    http_status: int
    code_field: str  # errcode | code | StatusCode


_VENDOR_LINE = re.compile(
    r"^(?P<service>.+?) not delivered: vendor answered (?P<field>\w+)=(?P<code>-?\d+|\"(?:[^\"\\]|\\.)*\"|\S+) "
    r"\w+=(?P<message>\"(?:[^\"\\]|\\.)*\"|null|\S+) \(HTTP (?P<http>\d+)\)$"
)


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def vendor_error(result: NotifyResult | Iterable[Any]) -> VendorError | None:
    """The vendor's refusal recorded in one service's result (its last one), if any.

    Accepts a ``NotifyResult`` or any iterable of captured log entries. Needs the capture level
    at WARNING or finer (Apprise's default) and the ``apprise`` logger not silenced above WARNING.
    """
    entries = result.logs() if isinstance(result, NotifyResult) else result
    found: VendorError | None = None
    for entry in entries:
        match = _VENDOR_LINE.match(getattr(entry, "message", str(entry)))
        if match:
            found = VendorError(
                service=match["service"],
                code=_loads(match["code"]),
                message=_loads(match["message"]),
                http_status=int(match["http"]),
                code_field=match["field"],
            )
    return found
