"""Channel URLs: every credential Apprise would use is a reference, judged by Apprise's own parser
(issue 13, item 5); the refusal names the person and channel in Chinese, never the secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from regflows.profile import DEMO_PROFILE, ProfileError, clear_secret_problem, load_profile

REFUSED = {
    "password in the query, ';'-separated": "mailtos://smtp.example.cn?user=ops;pass=Secret9",
    "an Authorization header": "jsons://gw.example.cn/x?+Authorization=Bearer%20Secret9",
    "an ntfy token as the user": "ntfys://tk_Secret9@ntfy.example.cn/alerts",
    "a placeholder and a literal password elsewhere": "mailtos://{env:SMTP_USER}:{env:SMTP_PASSWORD}@smtp.example.cn?pass=Secret9",
    "a placeholder with literal text around it": "mailtos://ops:{env:SMTP_PASSWORD}Secret9@smtp.example.cn",
    "dingtalk with a placeholder token and a literal secret": "dingtalk://{secret:ding-token}/?secret=Secret9",
    "sns keys in the host and path": "sns://AKIASecret9/Secret9/cn-north-1/+8613812345678",
    "sns access key a reference, secret key literal": "sns://{env:AWS_KEY}/Secret9/cn-north-1/+8613812345678",
    "msg91 auth key in the host": "msg91://{env:MSG91_TEMPLATE}@Secret9/13812345678",
    "plivo token Apprise does not mark private": "plivo://ops@Secret9/10086/13812345678",
    "a payload key": "jsons://gw.example.cn/sms?:apikey=Secret9",
    "a GET parameter": "jsons://gw.example.cn/sms?-access_token=Secret9",
    "a gateway key header": "jsons://gw.example.cn/sms?+X-Api-Key=Secret9&+Content-Type=application/json",
}

ACCEPTED = {
    "ntfy token as a reference": "ntfys://{env:NTFY_TOKEN}@ntfy.example.cn/alerts",
    "smtp password as a reference": "mailtos://ops:{env:SMTP_PASSWORD}@smtp.example.cn?to=a@example.cn",
    "header as a reference, a plain header literal": "jsons://gw.example.cn/x?+Authorization={secret:gw-auth}&+Content-Type=application/json",
    "sns keys as references": "sns://{env:AWS_KEY}/{secret:aws-secret}/cn-north-1/+8613812345678",
    "msg91 all references": "msg91://{env:MSG91_TEMPLATE}@{secret:msg91-key}/13812345678",
    "dingtalk token and secret as references": "dingtalk://{secret:ding-secret}@{secret:ding-token}/",
    "a webhook without credentials": "json://127.0.0.1:8025/notify/oncall",
    "the local outbox": "outbox://li.ming/sms",
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_a_literal_credential_is_refused(case: str) -> None:
    problem = clear_secret_problem(REFUSED[case])
    assert problem is not None, case
    assert "Secret9" not in problem and "{env:变量名}" in problem


@pytest.mark.parametrize("case", list(ACCEPTED))
def test_references_pass(case: str) -> None:
    assert clear_secret_problem(ACCEPTED[case]) is None


def test_the_profile_names_person_and_channel_never_the_secret(tmp_path: Path) -> None:
    text = DEMO_PROFILE.read_text(encoding="utf-8").replace(
        '{kind: sms, url: "outbox://sun.li/sms"}', '{kind: ntfy, url: "ntfys://tk_Secret9@ntfy.example.cn/alerts"}')
    path = tmp_path / "profile.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ProfileError) as err:
        load_profile(path)
    message = str(err.value)
    line = next(i for i, row in enumerate(text.splitlines(), start=1) if "tk_Secret9" in row)
    index = [p["id"] for p in load_profile(DEMO_PROFILE).model_dump()["people"]].index("sun.li")
    assert f"第 {line} 行" in message and f"people[{index}].channels[1].url" in message
    assert "人员 sun.li（" in message and "第 2 个联系渠道" in message and "token（令牌）为明文" in message
    assert "Secret9" not in message


def test_a_profile_with_referenced_ntfy_token_loads(tmp_path: Path) -> None:
    text = DEMO_PROFILE.read_text(encoding="utf-8").replace(
        '{kind: sms, url: "outbox://sun.li/sms"}', '{kind: ntfy, url: "ntfys://{env:NTFY_TOKEN}@ntfy.example.cn/alerts"}')
    path = tmp_path / "profile.yaml"
    path.write_text(text, encoding="utf-8")
    assert load_profile(path).person("sun.li").channels[1].kind == "ntfy"
