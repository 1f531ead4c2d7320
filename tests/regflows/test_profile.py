"""The institution profile: the demo validates; every kind of mistake names its field and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from regflows.profile import DEMO_PROFILE, ProfileError, clear_secret_problem, load_profile

DEMO_TEXT = DEMO_PROFILE.read_text(encoding="utf-8")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "profile.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


def test_demo_profile_is_valid() -> None:
    profile = load_profile(DEMO_PROFILE)
    # A Chongqing bank is not on PBOC-102 附件1's list of 21: a local access institution (附件3 第二十一条).
    assert profile.institution.credit_access == "local"
    assert profile.head_office.code == "YX0001"
    assert profile.roles["on_call"].chain() == ["li.ming", "wang.fang", "zhao.lei"]
    assert all(profile.regime_on(t) for t in ("NFRA", "PBOC-102")) and not profile.regime_on("TENPAY")


def test_role_label_names_a_role_key_or_kind_as_the_profile_does() -> None:
    """Issue 14 (7): Chinese texts showed role codes such as ``division``."""
    profile = load_profile(DEMO_PROFILE)
    assert profile.role_label("compliance") == "合规部"  # a key
    assert profile.role_label("division") == "零售业务处"  # a kind: its roles' names
    assert profile.role_label("nobody") == "nobody"  # unknown: the code, rather than nothing


def test_unknown_regime_is_named_with_its_line(tmp_path: Path) -> None:
    text = DEMO_TEXT.replace("  TENPAY: false", "  TENPAY: false\n  SAFE-2024: true")
    with pytest.raises(ProfileError) as err:
        load_profile(write(tmp_path, text))
    message = str(err.value)
    assert "SAFE-2024" in message and "未知的监管来源" in message
    assert f"profile.yaml 第 {line_of(text, 'SAFE-2024')} 行 regimes.SAFE-2024" in message


def test_missing_regime_is_refused(tmp_path: Path) -> None:
    text = DEMO_TEXT.replace("  CUSTINFO: true    # customer-information protection policy\n", "")
    with pytest.raises(ProfileError, match="缺少：CUSTINFO"):
        load_profile(write(tmp_path, text))


def test_person_without_any_contact_is_refused(tmp_path: Path) -> None:
    text = DEMO_TEXT.replace(
        """    channels:
      - {kind: email, url: "outbox://liu.yang/email"}""",
        "    channels: []",
    )
    with pytest.raises(ProfileError) as err:
        load_profile(write(tmp_path, text))
    assert "people[4].channels" in str(err.value)
    assert f" 第 {line_of(text, 'channels: []')} 行 " in str(err.value)


def test_role_member_without_a_person_entry_is_refused(tmp_path: Path) -> None:
    text = DEMO_TEXT.replace("members: [chen.jing]", "members: [chen.jing, qian.wu]")
    with pytest.raises(ProfileError) as err:
        load_profile(write(tmp_path, text))
    assert "qian.wu" in str(err.value) and "roles.retail_division.members[1]" in str(err.value)
    assert f" 第 {line_of(text, 'qian.wu')} 行 " in str(err.value)


def test_missing_required_role_and_field(tmp_path: Path) -> None:
    text = DEMO_TEXT.replace("    kind: compliance\n", "    kind: division\n").replace("  region: 重庆市\n", "", 1)
    with pytest.raises(ProfileError) as err:
        load_profile(write(tmp_path, text))
    message = str(err.value)
    assert "institution.region：缺少必填项" in message


def test_missing_role_kind(tmp_path: Path) -> None:
    text = DEMO_TEXT.replace("    kind: compliance\n", "    kind: division\n")
    with pytest.raises(ProfileError, match="缺少 kind: compliance"):
        load_profile(write(tmp_path, text))


def test_bad_yaml_names_the_line(tmp_path: Path) -> None:
    text = DEMO_TEXT.replace("  name: 渝信示范银行股份有限公司", "  name: [渝信示范银行股份有限公司")
    with pytest.raises(ProfileError) as err:
        load_profile(write(tmp_path, text))
    assert "YAML 语法错误" in str(err.value) and "profile.yaml 第 " in str(err.value)


def test_typo_in_field_name_is_refused(tmp_path: Path) -> None:
    text = DEMO_TEXT.replace("  cii_operator: true", "  cii_operater: true")
    with pytest.raises(ProfileError, match="cii_operater：未知字段"):
        load_profile(write(tmp_path, text))


def test_secrets_in_clear_are_refused(tmp_path: Path) -> None:
    text = DEMO_TEXT.replace(
        '{kind: sms, url: "outbox://sun.li/sms"}', '{kind: email, url: "mailtos://ops:Hunter2@smtp.example.cn?to=a@example.cn"}'
    )
    with pytest.raises(ProfileError, match="明文密码"):
        load_profile(write(tmp_path, text))
    assert clear_secret_problem("dingtalk://abcdef123/") is not None
    assert clear_secret_problem("json://gw.example.cn/sms?token=abc") is not None
    assert clear_secret_problem("dingtalk://{secret:ding-token}/") is None
    assert clear_secret_problem("mailtos://ops:{env:SMTP_PASSWORD}@smtp.example.cn?to=a@example.cn") is None


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="文件不存在"):
        load_profile(tmp_path / "nope.yaml")


def test_channel_kind_must_match_its_url(tmp_path: Path) -> None:
    text = DEMO_TEXT.replace('{kind: sms, url: "outbox://sun.li/sms"}', '{kind: sms, url: "mailto://127.0.0.1?to=a@example.cn"}')
    with pytest.raises(ProfileError) as err:
        load_profile(write(tmp_path, text))
    assert "kind: sms" in str(err.value) and f" 第 {line_of(text, 'mailto://127.0.0.1')} 行 " in str(err.value)


def test_cq_plan_needs_the_professional_service_provider(tmp_path: Path) -> None:
    """CQ-PLAN 第四篇三（四）: IV级响应结束由事件发生处室会同发展中心与专业服务机构决定: an institution
    that adopts CQ-PLAN names the provider's people, each decides through its own link."""
    text = DEMO_TEXT.replace("    kind: service_provider", "    kind: development_centre")
    with pytest.raises(ProfileError, match="service_provider"):
        load_profile(write(tmp_path, text))
    off = text.replace("  CQ-PLAN: true", "  CQ-PLAN: false")
    assert not load_profile(write(tmp_path, off)).regime_on("CQ-PLAN")


def test_without_cq_plan_the_end_approver_must_be_a_role(tmp_path: Path) -> None:
    """Without CQ-PLAN, settings.incident_end_approval_role approves the end of a response: it must exist."""
    text = DEMO_TEXT.replace("  CQ-PLAN: true", "  CQ-PLAN: false").replace(
        "  credit_preparer: he.min", "  credit_preparer: he.min\n  incident_end_approval_role: board")
    with pytest.raises(ProfileError, match="incident_end_approval_role.*没有角色 board"):
        load_profile(write(tmp_path, text))


def test_public_base_url_can_be_overridden_by_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo on another port (the browser tests' own `regflows up`): same profile, other links."""
    assert str(load_profile(DEMO_PROFILE).public_base_url) == "http://127.0.0.1:4201/"
    monkeypatch.setenv("REGFLOWS_PUBLIC_BASE_URL", "http://127.0.0.1:45123")
    assert str(load_profile(DEMO_PROFILE).public_base_url) == "http://127.0.0.1:45123/"
    monkeypatch.setenv("REGFLOWS_PUBLIC_BASE_URL", "not a url")
    with pytest.raises(ProfileError, match="REGFLOWS_PUBLIC_BASE_URL"):
        load_profile(DEMO_PROFILE)


def test_a_units_inspection_owner_must_be_one_of_the_people(tmp_path: Path) -> None:
    """PBOC-102 三（三）: a unit's leads go to its owner; an owner nobody can reach is refused at load."""
    assert {u.code: u.inspection_owner for u in load_profile(DEMO_PROFILE).reporting_units} == {
        "YX0001": "he.min", "YX0101": "chen.jing", "YX0201": "chen.jing"}
    text = DEMO_TEXT.replace("inspection_owner: he.min}", "inspection_owner: nobody}")
    with pytest.raises(ProfileError) as err:
        load_profile(write(tmp_path, text))
    assert "inspection_owner" in str(err.value) and "未定义的人员 nobody" in str(err.value)
    assert f" 第 {line_of(text, 'inspection_owner: nobody')} 行 " in str(err.value)
