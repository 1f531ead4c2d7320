"""Masking: personal financial information out of notices, secrets out of logs.

Two different leaks, two different tools:

- :func:`mask_pii` hides personal data (ID numbers, bank cards, mobile and landline numbers)
  in text that *will* be shown to people. A notice goes to phones, mail servers and chat
  vendors we do not control, and CUSTINFO/TENPAY treat a leaked ID number as an incident in
  itself, so a notice must never be the second leak. :func:`find_pii` answers the stricter
  question the SMS path asks: is there any such data at all (then refuse, do not mask).
- :func:`mask_url` and :func:`redact` hide credentials in text that goes to logs, artifacts and
  the audit ledger, which live much longer than a notice and are readable by more people.

The PII rules are deliberately conservative in one direction: over-masking a number costs a
reader a moment, under-masking is an incident. They are deliberately *not* applied to numbers
that only look long (dates, times, amounts with decimals, counts, ``INC-20251001-0001``):
a notice whose dates are starred out is useless in an emergency.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus, urlsplit

__all__ = ["PERSONAL_LINK_HIDDEN", "PII_KINDS", "find_pii", "hide_personal_links", "mask_pii", "mask_url", "redact"]

MASK = "****"

#: The kinds :func:`find_pii` reports, in the order the rules are tried.
PII_KINDS: tuple[str, ...] = ("id_number", "bank_card", "mobile", "landline")

# --------------------------------------------------------------------------------------------
# Personal data
# --------------------------------------------------------------------------------------------

#: People type full-width digits and separators in Chinese text. Matching runs on a copy where
#: they are mapped one-to-one to ASCII, so positions line up with the original text.
_FULLWIDTH = str.maketrans(
    {chr(0xFF10 + i): str(i) for i in range(10)}
    | {"Ｘ": "X", "ｘ": "x", "＋": "+", "－": "-", "（": "(", "）": ")", "　": " ", "．": "."}
)

# A match must not start or end inside a longer run of digits or an ASCII word (a hex hash, an
# ack token), nor be the integer part of a decimal amount. It must also not touch a run of four
# stars: every mask this module writes has at least four, so the digits left visible by a mask
# can never become part of a new match and masking twice changes nothing (idempotence). Markdown
# bold (``**13812345678**``) has only two and is still masked.
_L = r"(?<![0-9A-Za-z])(?<![0-9]\.)(?<!\*{4})"
_R = r"(?![0-9A-Za-z])(?!\.[0-9])(?!\*{4})"

_DATE8 = r"(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"
_DATE6 = r"[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"
_AREA = r"(?:10|2[0-9]|[3-9][0-9]{2})"  # 010, 02x, 0xxx without the leading 0
_LOCAL = r"[2-9][0-9]{2,3}[ -]?[0-9]{4}"  # 7 or 8 digits, optionally split 3/4-4

# One alternation, longest forms first, so that at any position the whole number is taken by
# the right rule: an 18-digit ID is never half-masked as a card, a card is never eaten by the
# mobile rule. The digit-run boundaries do the rest (a mobile inside a 20-digit run is not one).
_PII = re.compile(
    _L
    + r"(?:"
    # 18-digit ID, compact or grouped 6-8-4 with one consistent separator; any 17 digits + X.
    + r"(?P<id18>[0-9]{6}(?P<s1>[ -]?)[0-9]{8}(?P=s1)[0-9]{3}[0-9Xx])"
    # Bank card: 16-19 digits, compact, in groups of four (a short last group), or 6 + the rest.
    + r"|(?P<card>[0-9]{16,19}"
    + r"|[0-9]{4}(?P<s2>[ -])[0-9]{4}(?P=s2)[0-9]{4}(?P=s2)[0-9]{4}(?:(?P=s2)[0-9]{1,3})?"
    + r"|[0-9]{6}[ -][0-9]{10,13})"
    # Old 15-digit ID: only with a region code and a real YYMMDD (a bare 15-digit run is left).
    + r"|(?P<id15>[1-8][0-9]{5}" + _DATE6 + r"[0-9]{3})"
    # Mobile, with an optional +86 / 0086 / 86 prefix and 3-4-4 separators.
    + r"|(?P<mobile_prefix>\(?(?:\+|00)?86\)?[ -]?)?(?P<mobile>1[3-9][0-9](?:[ -]?[0-9]{4}){2})"
    # Landline with area code: (023)6789 1234, 023-67891234, 0755 1234567, +86 23 6789 1234.
    # Not right after "<digit>-": the tail of an id such as INC-20200101-0300 is no area code.
    + r"|(?<![0-9]-)(?P<land_area>\(0" + _AREA + r"\)[ -]?|0" + _AREA + r"[ -]?|(?:\+|00)86[ -]?" + _AREA + r"[ -])"
    + r"(?P<land_local>" + _LOCAL + r")"
    + r")"
    + _R
)
_ID18_STRUCTURED = re.compile(r"[1-8][0-9]{5}" + _DATE8 + r"[0-9]{3}[0-9Xx]")


def _keep(digits: str, head: int, tail: int) -> str:
    """Keep ``head`` and ``tail`` digits; the middle becomes stars (never fewer than four)."""
    return digits[:head] + "*" * max(4, len(digits) - head - tail) + digits[len(digits) - tail :]


def _classify(m: re.Match[str], text: str) -> tuple[str, str]:
    """The kind of a match and its masked text.

    ``m`` ran on the ASCII-normalised copy; what is kept visible (digits, a +86 prefix, an area
    code) is copied from the original ``text``, so full-width digits stay full-width.
    """

    def original(group: str) -> str:
        return text[m.start(group) : m.end(group)] if m.group(group) else ""

    def digits(group: str) -> str:
        return "".join(c for c, n in zip(original(group), m.group(group)) if n.isascii() and n.isalnum())

    if m.group("id18"):
        compact = m.group("id18").replace(" ", "").replace("-", "")
        # An 18-digit run is an ID when it has an ID's structure or an X check digit; otherwise
        # it is a card number (16-19 digits). The mask is the same, only the reported kind differs.
        kind = "id_number" if _ID18_STRUCTURED.fullmatch(compact) or compact[-1] in "Xx" else "bank_card"
        return kind, _keep(digits("id18"), 6, 4)
    if m.group("card"):
        return "bank_card", _keep(digits("card"), 6, 4)
    if m.group("id15"):
        return "id_number", _keep(digits("id15"), 6, 4)
    if m.group("mobile"):
        return "mobile", original("mobile_prefix") + _keep(digits("mobile"), 3, 4)
    return "landline", original("land_area") + _keep(digits("land_local"), 0, 2)


def _scan(text: str) -> list[tuple[int, int, str, str]]:
    """(start, end, kind, masked) for every personal number in ``text``."""
    normalised = text.translate(_FULLWIDTH)
    return [(m.start(), m.end(), *_classify(m, text)) for m in _PII.finditer(normalised)]


def mask_pii(text: str) -> str:
    """Mask ID numbers, bank cards, mobile and landline numbers; leave every other number alone.

    ID numbers and cards keep the first 6 and last 4 digits (enough to tell two customers'
    records apart in an incident, not enough to use), mobiles the first 3 and last 4, landlines
    the area code and the last 2. Idempotent: masking masked text changes nothing.
    """
    out, pos = [], 0
    for start, end, _kind, masked in _scan(text):
        out += [text[pos:start], masked]
        pos = end
    out.append(text[pos:])
    return "".join(out)


def find_pii(text: str) -> list[str]:
    """The kinds of personal number in ``text``, each once, in order of first appearance.

    Used where masking is not enough: an SMS is refused when this is not empty.
    """
    kinds: list[str] = []
    for _start, _end, kind, _masked in _scan(text):
        if kind not in kinds:
            kinds.append(kind)
    return kinds


#: What stands in for a personal link where a message is shown to others.
PERSONAL_LINK_HIDDEN = "（个人链接，已隐去）"
#: The endpoint's personal links: acknowledgement (notices/acks.py), download (notices/files.py),
#: a lead's page (regflows/inspection/pages.py). Each is a bearer credential: whoever holds it
#: acts as the person it was signed for.
_PERSONAL_LINK = re.compile(r"(?:[A-Za-z][A-Za-z0-9+.\-]*://[^\s/]+)?/(?:ack|files|inspection)/[A-Za-z0-9._~%+=/\-]+")


def hide_personal_links(text: str) -> str:
    """``text`` with every personal link replaced by :data:`PERSONAL_LINK_HIDDEN`: a message
    shown to anyone but its recipient (a run's artifact) must not hand them the recipient's link."""
    return _PERSONAL_LINK.sub(PERSONAL_LINK_HIDDEN, text)


# --------------------------------------------------------------------------------------------
# Secrets
# --------------------------------------------------------------------------------------------

#: A placeholder is a reference, not a secret: ``{env:SMTP_PASSWORD}`` stays readable in logs so
#: an operator can see which secret a channel uses.
_PLACEHOLDER = re.compile(r"\{(?:env|secret):[A-Za-z_][A-Za-z0-9_\-]*\}")
_SENTINEL = re.compile("\ue000([0-9]+)\ue001")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*$")

SECRET_QUERY_KEYS: frozenset[str] = frozenset(
    {"token", "secret", "key", "password", "pass", "pwd", "apikey", "api_key", "access_token", "sign", "signature"}
)
_SECRET_KEY_PARTS = ("token", "secret", "passw", "apikey", "api_key", "access_key", "private")
#: Schemes whose host and path *are* the credential (a webhook key): ``dingtalk://{token}/``.
_CREDENTIAL_HOST_SCHEMES = frozenset({"dingtalk", "wecombot", "feishu", "lark"})
#: Schemes whose last path segment is the application token: ``gotify://host/{token}``.
_TOKEN_LAST_SEGMENT_SCHEMES = frozenset({"gotify", "gotifys"})
#: Schemes where a token may appear (user or path) but topics are ordinary names.
_MAYBE_TOKEN_SCHEMES = frozenset({"ntfy", "ntfys"})


def _is_placeholder(value: str) -> bool:
    return bool(_SENTINEL.fullmatch(value))


def _keep4(value: str) -> str:
    """A credential with its first 4 characters left, enough to tell two channels apart."""
    if not value or _is_placeholder(value):
        return value
    return (value[:4] if len(value) > 4 else "") + MASK


def _secret_key(key: str) -> bool:
    k = key.lower()
    return k in SECRET_QUERY_KEYS or any(part in k for part in _SECRET_KEY_PARTS)


def _looks_like_token(value: str) -> bool:
    """An access token rather than a topic name: ntfy's ``tk_…`` or a long letters+digits string."""
    if value.startswith("tk_"):
        return True
    return (
        len(value) >= 16
        and re.fullmatch(r"[A-Za-z0-9_\-]+", value) is not None
        and re.search(r"[0-9]", value) is not None
        and re.search(r"[A-Za-z]", value) is not None
    )


def _mask_query(query: str) -> str:
    # Apprise ``+Name=value`` pairs become HTTP headers (Authorization, X-Api-Key…) and Apprise
    # itself never masks them, so every header value is hidden.
    parts = []
    for pair in query.split("&"):
        key, eq, value = pair.partition("=")
        if eq and value and not _is_placeholder(value) and (key.startswith("+") or _secret_key(key.lstrip("+-:"))):
            value = MASK
        parts.append(key + eq + value)
    return "&".join(parts)


def _mask_netloc(scheme: str, netloc: str) -> str:
    userinfo, at, hostport = netloc.rpartition("@")
    if at:
        user, colon, password = userinfo.partition(":")
        if password and not _is_placeholder(password):
            password = MASK
        if scheme in _CREDENTIAL_HOST_SCHEMES or (scheme in _MAYBE_TOKEN_SCHEMES and _looks_like_token(user)):
            user = _keep4(user)  # dingtalk://{secret}@{token}/, ntfy://{token}@host/topic
        userinfo = user + colon + password
    if scheme in _CREDENTIAL_HOST_SCHEMES and not hostport.startswith("["):
        host, colon, port = hostport.partition(":")
        hostport = _keep4(host) + colon + port
    return userinfo + at + hostport


def _mask_path(scheme: str, path: str) -> str:
    segments = path.split("/")
    if scheme in _CREDENTIAL_HOST_SCHEMES:
        segments = [_keep4(s) for s in segments]
    elif scheme in _TOKEN_LAST_SEGMENT_SCHEMES:
        last = max((i for i, s in enumerate(segments) if s), default=None)
        if last is not None:
            segments[last] = _keep4(segments[last])
    elif scheme in _MAYBE_TOKEN_SCHEMES:
        segments = [_keep4(s) if _looks_like_token(s) else s for s in segments]
    return "/".join(segments)


def mask_url(url: str) -> str:
    """An Apprise URL fit for a log line: passwords, tokens and webhook keys hidden.

    Placeholders (``{env:NAME}``, ``{secret:NAME}``) stay as they are: they are references, and
    seeing which one a channel uses is what an operator debugging a delivery needs. Webhook
    keys keep their first 4 characters so two channels can still be told apart. Personal numbers
    (an SMS gateway's ``?to=138…``) are masked too. Anything that is not a URL becomes
    ``<unparseable url>`` rather than being echoed: it may be a secret pasted in the wrong place.
    """
    try:
        found: list[str] = []

        def protect(m: re.Match[str]) -> str:
            found.append(m.group(0))
            return f"\ue000{len(found) - 1}\ue001"

        protected = _PLACEHOLDER.sub(protect, url)
        scheme, sep, _rest = protected.partition("://")
        if not sep or not _SCHEME.fullmatch(scheme):
            return "<unparseable url>"
        parts = urlsplit(protected)
        scheme = scheme.lower()
        out = f"{parts.scheme}://{_mask_netloc(scheme, parts.netloc)}{_mask_path(scheme, parts.path)}"
        if parts.query:
            out += "?" + _mask_query(parts.query)
        if parts.fragment:
            out += "#" + parts.fragment
    except (ValueError, TypeError, AttributeError):
        return "<unparseable url>"
    return mask_pii(_SENTINEL.sub(lambda m: found[int(m.group(1))], out))


def _encoded_forms(secret: str) -> set[str]:
    """The ways a secret shows up in a URL or a form body: raw, %-encoded (both hex cases), +-encoded."""
    forms = {secret, quote(secret, safe=""), quote(secret), quote_plus(secret)}
    forms |= {re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), f) for f in list(forms)}
    return forms


def redact(text: str, secrets: Iterable[str]) -> str:
    """Replace every occurrence of each known secret value (and its URL-encoded forms) with ``****``.

    For text we did not build ourselves (an exception message, a vendor's error body) where
    :func:`mask_url` cannot know the structure. Values shorter than 4 characters are ignored:
    redacting every ``1`` or ``ab`` would destroy the text and hide nothing. Longest first, in one
    pass, so a secret that contains another is replaced whole and no replacement is re-scanned.
    """
    forms: set[str] = set()
    for secret in secrets:
        if isinstance(secret, str) and len(secret) >= 4:
            forms |= {f for f in _encoded_forms(secret) if len(f) >= 4}
    if not forms:
        return text
    pattern = re.compile("|".join(re.escape(f) for f in sorted(forms, key=lambda f: (-len(f), f))))
    return pattern.sub(MASK, text)
