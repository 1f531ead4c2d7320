"""Is every credential in a channel URL a reference? Judged by what Apprise will actually use.

A channel URL in the profile may name its secrets only as ``{env:NAME}`` or ``{secret:NAME}``
(resolved at send time, :mod:`notices.secrets`). Reading the URL with ``urlsplit`` is not
enough: Apprise takes credentials from places a generic parser does not see as such
(``mailtos://host?user=ops;pass=…``, ``jsons://host?+Authorization=…`` becoming an HTTP header,
``ntfys://tk_…@host`` becoming a bearer token, ``sns://KEY/SECRET/region/…`` and
``msg91://template@authkey/…`` with the keys in the host and path). So the URL is parsed with the
Apprise plugin's own ``parse_url`` after every placeholder has been replaced by an inert
sentinel, and each credential-bearing value Apprise would use must be exactly one sentinel:

- every token or argument the plugin marks ``private`` (its own list of secrets), any whose name
  says it is a credential (``token``, ``secret``, ``key``, ``password``…: some plugins forget the
  mark, e.g. plivo's and smseagle's ``token``), and the URL's password;
- every HTTP header (``+Name=value``) but a few harmless ones (:data:`PLAIN_HEADERS`);
- every payload (``:name=``), GET parameter (``-name=``) or query argument whose name says it is
  a credential.

A value that is a placeholder plus literal text (``{env:A}xyz``) is not wholly a reference and is
refused. Messages name the token, never its value.

Apprise is imported only for a URL that needs it: a profile of ``outbox://`` channels (the demo)
does not pay the ~0.8 s of loading Apprise's plugins.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote_plus, urlsplit

__all__ = ["PLACEHOLDER", "PLAIN_HEADERS", "clear_secret_problem"]

PLACEHOLDER = re.compile(r"\{(env|secret):([A-Za-z_][A-Za-z0-9_\-]*)\}")
#: A name that says its value is a credential (query arguments, payload and parameter names, and
#: the names of a plugin's tokens when the plugin did not mark them private).
CREDENTIAL_NAME = re.compile(
    r"token|secret|passw|^pass$|pwd|apikey|api_key|authkey|auth_key|access_key|(^|[_-])key($|[_-])|^key|"
    r"^sign|signature|(^|_)sid$|cookie|credential|private",
    re.IGNORECASE,
)
#: Headers that carry no credential and may be written literally; any other ``+Header=`` value
#: (Authorization, X-Api-Key, a gateway's own key header…) must be a reference.
PLAIN_HEADERS = frozenset({"accept", "accept-language", "accept-charset", "accept-encoding", "content-type",
                           "content-language", "user-agent", "cache-control", "x-request-id"})
#: Schemes that are regflows' own and hold no credential: ``outbox://person/name``.
NO_CREDENTIAL_SCHEMES = frozenset({"outbox"})
#: The sentinel a placeholder becomes for parsing: lower-case letters and digits only, so no
#: plugin's parser splits, lower-cases or unquotes it into something else.
_SENTINEL = "regflowsref{}x"
_SENTINEL_RE = re.compile(r"regflowsref[0-9]+x")
_ADVICE = "请改为 {env:变量名} 或 {secret:Secret块名} 引用（整个值都须是引用）"
#: Chinese names of the usual credentials, for the message.
_TITLES = {"password": "密码", "token": "令牌", "secret": "密钥", "apikey": "API 密钥", "key": "密钥",
           "authkey": "认证密钥", "auth_token": "认证令牌", "account_sid": "账户 SID",
           "access_key_id": "访问密钥 ID", "secret_access_key": "访问密钥", "template": "模板编号"}


def _named(name: str) -> str:
    title = _TITLES.get(name.lower())
    return f"{name}（{title}）" if title else name


def _is_reference(value: str) -> bool:
    return bool(_SENTINEL_RE.fullmatch(value))


def _literal(value: Any) -> bool:
    """Whether a value Apprise would use holds anything that is not wholly a reference."""
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value) and not _is_reference(value)
    if isinstance(value, (list, tuple, set)):
        return any(_literal(v) for v in value)
    return False  # booleans, numbers, modes: not credentials


def _credential_keys(plugin: Any) -> set[str]:
    """The parse_url result keys that hold credentials for this plugin."""
    keys = {"password"}
    tokens: dict[str, dict[str, Any]] = dict(getattr(plugin, "template_tokens", {}) or {})
    args: dict[str, dict[str, Any]] = dict(getattr(plugin, "template_args", {}) or {})
    for name, spec in tokens.items():
        if spec.get("private") or CREDENTIAL_NAME.search(name):
            keys.add(name)
    for name, spec in args.items():
        target = spec.get("alias_of")
        private = spec.get("private") or (isinstance(target, str) and tokens.get(target, {}).get("private"))
        if private or CREDENTIAL_NAME.search(name):
            keys.add(name)
            if isinstance(target, str):
                keys.add(target)
    return keys


def _plugin_for(scheme: str) -> Any | None:
    """The Apprise plugin class registered for ``scheme`` in this process, or None."""
    from apprise.manager_plugins import NotificationManager  # lazy: see the module docstring

    try:
        return NotificationManager()[scheme]
    except KeyError:
        return None


def _query_problem(query: str) -> str | None:
    """A credential-named query argument (``&`` or ``;`` separated, as Apprise splits them)
    whose value is literal, whatever the plugin does with it: it sits in the profile all the same."""
    for pair in re.split(r"[&;]", query):
        key, _, value = pair.partition("=")
        key = unquote_plus(key)
        if CREDENTIAL_NAME.search(key.lstrip("+-:")) and _literal(unquote_plus(value)):
            return f"URL 参数 {key} 为明文密钥：{_ADVICE}"
    return None


def clear_secret_problem(url: str) -> str | None:
    """Why a channel URL holds a credential that is not a reference, or None.

    The message names the token (``password（密码）``, a header, a parameter), never its value.
    """
    counter = iter(range(1_000_000))
    probe = PLACEHOLDER.sub(lambda _m: _SENTINEL.format(next(counter)), url)
    try:
        parts = urlsplit(probe)
    except ValueError:
        return "URL 无法解析（格式错误）"
    scheme = parts.scheme.lower()
    if not scheme or "://" not in probe:
        return "URL 缺少协议前缀（如 mailto://、json://）"
    if parts.password and _literal(parts.password):
        return f"URL 中含明文密码：{_ADVICE}"
    problem = _query_problem(parts.query)
    if problem or scheme in NO_CREDENTIAL_SCHEMES:
        return problem
    plugin = _plugin_for(scheme)
    if plugin is None:
        return f"Apprise 不支持 {scheme}:// 地址，无法判断其中的密钥"
    try:
        results = plugin.parse_url(probe)
    except Exception:  # noqa: BLE001 - a plugin's parser failing on a malformed URL is a malformed URL
        results = None
    if not results:
        return f"Apprise 无法解析该 {scheme}:// 地址（格式错误）"
    for key in sorted(_credential_keys(plugin)):
        if _literal(results.get(key)):
            return f"{_named(key)}为明文：{_ADVICE}"
    for name, value in (results.get("headers") or {}).items():
        if str(name).lower() not in PLAIN_HEADERS and _literal(value):
            return f"HTTP 头 {name}（+{name}=）为明文，可能含凭据：{_ADVICE}"
    for field, sign in (("payload", ":"), ("params", "-")):
        for name, value in (results.get(field) or {}).items():
            if CREDENTIAL_NAME.search(str(name)) and _literal(value):
                return f"参数 {sign}{name} 为明文密钥：{_ADVICE}"
    return None
