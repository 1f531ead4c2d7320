"""Masking: personal numbers out of notices, secrets out of logs (notices/masking.py)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from notices.masking import find_pii, hide_personal_links, mask_pii, mask_url, redact

# ---------------------------------------------------------------------------------------------
# mask_pii: table
# ---------------------------------------------------------------------------------------------

MASKED = [
    # 18-digit ID: first 6, last 4
    ("身份证号110101199003071234。", "身份证号110101********1234。"),
    ("11010119900307123X", "110101********123X"),
    ("证件 11010119900307123x 已核验", "证件 110101********123x 已核验"),
    ("110101 19900307 123X", "110101********123X"),
    ("身份证１１０１０１１９９００３０７１２３Ｘ", "身份证１１０１０１********１２３Ｘ"),
    # old 15-digit ID
    ("旧证号 110101900307123", "旧证号 110101*****7123"),
    # bank cards, 16-19 digits, grouped by spaces or dashes
    ("卡号6222021234567890123", "卡号622202*********0123"),
    ("卡号 4111111111111111 到期", "卡号 411111******1111 到期"),
    ("6222 0212 3456 7890", "622202******7890"),
    ("6222-0212-3456-7890-123", "622202*********0123"),
    ("622202 1234567890123", "622202*********0123"),
    ("62220212345678901", "622202*******8901"),
    # mobiles: first 3, last 4, prefix kept
    ("手机13812345678", "手机138****5678"),
    ("联系人电话：+86 138 1234 5678。", "联系人电话：+86 138****5678。"),
    ("+86-138-1234-5678", "+86-138****5678"),
    ("8613812345678", "86138****5678"),
    ("0086 19912345678", "0086 199****5678"),
    ("（+86）13812345678", "（+86）138****5678"),
    ("**13812345678**", "**138****5678**"),
    ("电话13812345678.", "电话138****5678."),
    ("13812345678,13987654321", "138****5678,139****4321"),
    # landlines: area code and last 2
    ("座机 023-6789 1234", "座机 023-******34"),
    ("(023)67891234", "(023)******34"),
    ("0755-2345678", "0755-*****78"),
    ("010 62345678", "010 ******78"),
    ("02367891234", "023******34"),
    ("+86 23 6789 1234", "+86 23 ******34"),
]


@pytest.mark.parametrize(("text", "expected"), MASKED)
def test_masks(text: str, expected: str) -> None:
    assert mask_pii(text) == expected


NOT_MASKED = [
    "2025-10-01",
    "2025-10-01 09:30:00",
    "2025年10月1日 09:30",
    "20251001",
    "INC-20251001-0001",
    "incident:INC-20251001-0001:alert:esc:2",
    "金额 13812345678.50 元",
    "金额 1,381,234,567.00 元",
    "共 12345 条，涉及 987654 户",
    "时限 2025-10-09 24:00",
    "2025-10-01 2025-10-02",  # two dates are not a 16-digit card
    "12345678901234567890123",  # a 23-digit run holds no card, ID or mobile
    "13812345678901",  # 14 digits: not a mobile
    "a13812345678",  # inside an ASCII word (a hash, a token)
    "13812345678b",
    "哈希 0a13812345678ff0123456789abcdef",
    "123456789012345",  # 15 digits without an ID's date
    "0755-1234567",  # a local number never starts with 1
    "版本 3.13812345678",
    "138****5678",
]


@pytest.mark.parametrize("text", NOT_MASKED)
def test_leaves_ordinary_numbers(text: str) -> None:
    assert mask_pii(text) == text
    assert find_pii(text) == []


@pytest.mark.parametrize(("text", "expected"), MASKED)
def test_idempotent_on_table(text: str, expected: str) -> None:
    assert mask_pii(expected) == expected
    assert find_pii(expected) == []


def test_an_id_is_not_half_masked_as_a_card_nor_a_card_eaten_by_the_mobile_rule() -> None:
    assert find_pii("110101199003071234") == ["id_number"]
    assert find_pii("6222021381234567890") == ["bank_card"]  # 1381234567 inside: not a mobile
    assert mask_pii("6222021381234567890") == "622202*********7890"
    # 18 digits without an ID's structure: a card number, same mask
    assert find_pii("622202123456789012") == ["bank_card"]
    assert mask_pii("622202123456789012") == "622202********9012"


def test_find_pii_reports_kinds_once_in_order() -> None:
    text = "客户 110101199003071234 卡 6222021234567890123 手机 13812345678 又 13987654321 座机 023-6789 1234"
    assert find_pii(text) == ["id_number", "bank_card", "mobile", "landline"]
    assert find_pii("INC-20251001-0001 于 2025-10-01 09:30 发现") == []


# ---------------------------------------------------------------------------------------------
# mask_pii: properties
# ---------------------------------------------------------------------------------------------

CHINESE = "客户身份证号码卡银行手机联系电话投诉事件发生于系统中断已处理的张三李四王五请核实信息泄露涉及"
FILLER = st.text(alphabet=CHINESE + "，。：；（）、 ", min_size=1, max_size=12)
WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


@st.composite
def id_numbers(draw: st.DrawFn) -> str:
    """A valid 18-digit ID (GB 11643): region, birth date, sequence, check digit."""
    region = draw(st.integers(110000, 659999))
    born = draw(st.dates(dt.date(1930, 1, 1), dt.date(2020, 12, 31)))
    body = f"{region}{born:%Y%m%d}{draw(st.integers(0, 999)):03d}"
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, WEIGHTS)) % 11]
    return body + check


def _luhn_complete(partial: str) -> str:
    total = 0
    for i, d in enumerate(reversed(partial)):
        n = int(d) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return partial + str((10 - total % 10) % 10)


@st.composite
def card_numbers(draw: st.DrawFn) -> tuple[str, str]:
    """(digits, as written): a Luhn-valid 16-19 digit card, compact or grouped by four."""
    length = draw(st.integers(16, 19))
    prefix = draw(st.sampled_from(["62", "4", "5"]))
    rest = "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=length - 1 - len(prefix), max_size=length - 1 - len(prefix))))
    digits = _luhn_complete(prefix + rest)
    sep = draw(st.sampled_from(["", " ", "-"]))
    written = sep.join(digits[i : i + 4] for i in range(0, len(digits), 4)) if sep else digits
    return digits, written


@st.composite
def mobiles(draw: st.DrawFn) -> tuple[str, str]:
    digits = "1" + draw(st.sampled_from("3456789")) + f"{draw(st.integers(0, 999_999_999)):09d}"
    style = draw(st.sampled_from(["plain", "+86", "86", "space", "dash"]))
    written = {
        "plain": digits,
        "+86": "+86 " + digits,
        "86": "86" + digits,
        "space": f"{digits[:3]} {digits[3:7]} {digits[7:]}",
        "dash": f"{digits[:3]}-{digits[3:7]}-{digits[7:]}",
    }[style]
    return digits, written


ITEMS = st.one_of(id_numbers().map(lambda d: (d, d)), card_numbers(), mobiles())


@st.composite
def texts_with_pii(draw: st.DrawFn) -> tuple[str, list[str]]:
    items = draw(st.lists(ITEMS, min_size=1, max_size=5))
    parts = [draw(FILLER)]
    for _digits, written in items:
        parts += [written, draw(FILLER)]
    return "".join(parts), [d for d, _ in items]


@settings(max_examples=300, deadline=None)
@given(texts_with_pii())
def test_no_id_card_or_mobile_survives(case: tuple[str, list[str]]) -> None:
    text, digit_strings = case
    masked = mask_pii(text)
    compact = re.sub(r"[ \-+]", "", masked)
    for digits in digit_strings:
        assert digits not in compact
    assert not re.search(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])", masked)
    assert not re.search(r"(?<![0-9])[0-9]{16,19}(?![0-9])", compact)
    assert not re.search(r"1[3-9][0-9]{9}", compact)
    assert find_pii(masked) == []
    assert set(find_pii(text)) <= {"id_number", "bank_card", "mobile"}


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789 -+*.()Xx" + "客户号", max_size=60))
def test_idempotent_on_any_text(text: str) -> None:
    once = mask_pii(text)
    assert mask_pii(once) == once


ORDINARY = st.one_of(
    st.dates(dt.date(2000, 1, 1), dt.date(2030, 12, 31)).map(lambda d: d.isoformat()),
    st.datetimes(dt.datetime(2000, 1, 1), dt.datetime(2030, 12, 31)).map(lambda t: t.strftime("%Y-%m-%d %H:%M:%S")),
    st.integers(0, 9_999_999_999).map(str),
    st.decimals(0, 10**15, places=2, allow_nan=False, allow_infinity=False).map(str),
    st.dates(dt.date(2020, 1, 1), dt.date(2030, 12, 31)).flatmap(
        lambda d: st.integers(1, 9999).map(lambda n: f"INC-{d:%Y%m%d}-{n:04d}")
    ),
)


@example(parts=[("INC-20200101-0300", " "), ("2000000", "王话")])  # an id's tail is no area code (found by CI)
@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(ORDINARY, FILLER), min_size=1, max_size=6))
def test_ordinary_numbers_untouched(parts: list[tuple[str, str]]) -> None:
    text = "".join(number + filler for number, filler in parts)
    assert mask_pii(text) == text


# ---------------------------------------------------------------------------------------------
# mask_url
# ---------------------------------------------------------------------------------------------

URLS = [
    # password in userinfo
    ("mailtos://ops:hunter22@smtp.example.cn:587?to=a@example.cn", "mailtos://ops:****@smtp.example.cn:587?to=a@example.cn"),
    # placeholders are references, not secrets: they stay readable
    (
        "mailtos://{env:SMTP_USER}:{env:SMTP_PASSWORD}@smtp.example.cn?to=ops@example.cn",
        "mailtos://{env:SMTP_USER}:{env:SMTP_PASSWORD}@smtp.example.cn?to=ops@example.cn",
    ),
    ("dingtalk://{secret:dingtalk-oncall-token}/", "dingtalk://{secret:dingtalk-oncall-token}/"),
    ("json://gw.example.cn/sms?token={env:SMS_TOKEN}", "json://gw.example.cn/sms?token={env:SMS_TOKEN}"),
    # secret-ish query keys
    (
        "json://gw.example.cn:8080/sms?to=13812345678&token=abcd1234&apikey=k&sign=s&signature=x&pwd=p&keep=1",
        "json://gw.example.cn:8080/sms?to=138****5678&token=****&apikey=****&sign=****&signature=****&pwd=****&keep=1",
    ),
    ("jsons://gw.example.cn/hook?Access_Token=zz&app_secret=yy", "jsons://gw.example.cn/hook?Access_Token=****&app_secret=****"),
    # Apprise custom headers (+Name=value) are never masked by Apprise itself
    ("json://gw.example.cn/x?+Authorization=Bearer%20abc&+X-Trace=1", "json://gw.example.cn/x?+Authorization=****&+X-Trace=****"),
    # the path (and host) is the credential
    ("dingtalk://abcdef1234567890/", "dingtalk://abcd****/"),
    ("dingtalk://SECabc123@abcdef1234567890/13812345678?secret=xyz", "dingtalk://SECa****@abcd****/1381****?secret=****"),
    ("wecombot://0123456789abcdef", "wecombot://0123****"),
    ("feishu://abcdefgh-1234", "feishu://abcd****"),
    ("lark://abcdefgh1234", "lark://abcd****"),
    ("gotify://gotify.example.cn/AbCdEf123456", "gotify://gotify.example.cn/AbCd****"),
    ("gotifys://gotify.example.cn/sub/AbCdEf123456/", "gotifys://gotify.example.cn/sub/AbCd****/"),
    # ntfy: a token is masked, a topic name is not
    ("ntfys://tk_abcdefghijklmnop@ntfy.example.cn/regflows-oncall", "ntfys://tk_a****@ntfy.example.cn/regflows-oncall"),
    ("ntfy://ntfy.sh/regflows-oncall", "ntfy://ntfy.sh/regflows-oncall"),
    ("ntfy://ntfy.sh/x9Fq2LmZ7pQw4RtY", "ntfy://ntfy.sh/x9Fq****"),
    # json paths are not credentials
    ("json://127.0.0.1:8025/notify/oncall", "json://127.0.0.1:8025/notify/oncall"),
    ("outbox://li.ming/push", "outbox://li.ming/push"),
]


@pytest.mark.parametrize(("url", "expected"), URLS)
def test_mask_url(url: str, expected: str) -> None:
    assert mask_url(url) == expected
    assert mask_url(expected) == expected


@pytest.mark.parametrize("url", ["not a url", "", "://x", "http://[::1", "1http://x"])
def test_mask_url_unparseable(url: str) -> None:
    assert mask_url(url) == "<unparseable url>"


# ---------------------------------------------------------------------------------------------
# redact
# ---------------------------------------------------------------------------------------------


def test_redact_replaces_secrets_and_their_encoded_forms() -> None:
    secret = "s3cr/t k&y"
    text = f"raw {secret} | quoted s3cr%2Ft%20k%26y | plus s3cr%2Ft+k%26y | lower s3cr%2ft%20k%26y"
    assert redact(text, [secret]) == "raw **** | quoted **** | plus **** | lower ****"


def test_redact_longest_first_and_ignores_short_values() -> None:
    assert redact("token=abcdef123 and abcd", ["abcd", "abcdef123"]) == "token=**** and ****"
    assert redact("pin 123 and ab", ["123", "ab", "", None]) == "pin 123 and ab"  # type: ignore[list-item]
    assert redact("nothing here", []) == "nothing here"


def test_redact_one_pass() -> None:
    # A replacement is never re-scanned: a secret that looks like the mask does not cascade.
    assert redact("x *****y", ["*****y"]) == "x ****"


def test_personal_links_are_hidden_and_other_links_kept() -> None:
    text = ("请确认：http://127.0.0.1:4201/ack/Ab-12_x.Y）下载：https://rf.example.cn:8443/files/eyJ0.sig=\n"
            "核实 /inspection/T0k3n 与 https://rf.example.cn/health、https://www.nfra.gov.cn/cn/view/ack.html")
    hidden = hide_personal_links(text)
    assert hidden == ("请确认：（个人链接，已隐去））下载：（个人链接，已隐去）\n"
                      "核实 （个人链接，已隐去） 与 https://rf.example.cn/health、https://www.nfra.gov.cn/cn/view/ack.html")
