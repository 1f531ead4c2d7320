"""The command line as scripts and operators use it: plain values, clear errors, exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from regflows.cli import app
from regflows.profile import DEMO_PROFILE

REGFLOWS = str(Path(sys.executable).parent / "regflows")
runner = CliRunner()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["is-working-day", "2025-10-08"], "false"),
        (["is-working-day", "2025-09-28"], "true"),
        (["next-working-day", "2025-09-30"], "2025-10-09"),
        (["previous-working-day", "2025-10-09"], "2025-09-30"),
        (["roll-forward", "2025-10-01"], "2025-10-09"),
        (["add-working-days", "2025-10-09", "--", "-1"], "2025-09-30"),
        (["nth-working-day", "2025", "10", "1"], "2025-10-09"),
        (["nth-working-day", "2025", "10", "--", "-1"], "2025-10-31"),
        (["count-working-days", "2025-01-01", "2025-12-31"], "248"),
    ],
)
def test_calendar_answers_one_value_per_line(args: list[str], expected: str) -> None:
    result = runner.invoke(app, ["calendar", *args])
    assert result.exit_code == 0, result.output
    assert result.stdout == expected + "\n"


def test_years_lists_every_covered_year_with_its_notice() -> None:
    result = runner.invoke(app, ["calendar", "years"])
    lines = result.stdout.splitlines()
    assert [line.split("\t")[0] for line in lines] == [str(y) for y in range(2020, 2027)]
    assert "国办发明电〔2025〕7号" in lines[-1]


def test_missing_year_exits_non_zero_naming_the_year() -> None:
    """A real process, as a script would call it."""
    done = subprocess.run([REGFLOWS, "calendar", "is-working-day", "2027-01-04"], capture_output=True, text=True)
    assert done.returncode != 0 and done.stdout == ""
    assert "2027" in done.stderr and "import-notice" in done.stderr


def test_bad_dates_are_refused() -> None:
    for bad in ("2025-13-01", "2025/10/01", "20251001"):
        result = runner.invoke(app, ["calendar", "is-working-day", bad])
        assert result.exit_code == 2 and "YYYY-MM-DD" in result.stderr
    reversed_range = runner.invoke(app, ["calendar", "count-working-days", "2025-10-02", "2025-10-01"])
    assert reversed_range.exit_code == 2 and "晚于" in reversed_range.stderr


def test_doctor_reports_every_check_on_the_demo(home: Path) -> None:
    from regflows.store import migrate

    migrate()
    result = runner.invoke(app, ["doctor", "--today", "2025-06-02"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    for area in ("[配置]", "[数据库]", "[日历]", "[通知渠道]", "[部署]", "[Prefect]"):
        assert area in out
    assert "审计账本完整" in out and "渝信示范银行" in out
    from regflows.profile import load_profile

    channels = sum(len(p.channels) for p in load_profile(DEMO_PROFILE).people)
    assert out.count("[通知渠道]") == channels  # every channel of every person
    assert "0 项错误" in out


def test_doctor_names_what_is_wrong(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = DEMO_PROFILE.read_text(encoding="utf-8").replace(
        '{kind: outbox, url: "outbox://sun.li/sms"}',
        '{kind: email, url: "mailtos://ops:{env:REGFLOWS_TEST_SMTP_PW}@smtp.example.cn?to=a@example.cn"}',
    )
    profile = tmp_path / "p.yaml"
    profile.write_text(text, encoding="utf-8")
    monkeypatch.delenv("REGFLOWS_TEST_SMTP_PW", raising=False)
    result = runner.invoke(app, ["doctor", "--profile", str(profile), "--today", "2027-03-01"])
    assert result.exit_code == 1
    out = result.stdout
    assert "env:REGFLOWS_TEST_SMTP_PW（环境变量未设置）" in out
    assert "regflows db upgrade" in out  # the store was never migrated
    assert "2027 年数据缺失" in out
    monkeypatch.setenv("REGFLOWS_TEST_SMTP_PW", "s3cret-value")
    again = runner.invoke(app, ["doctor", "--profile", str(profile), "--today", "2025-06-02"])
    assert "s3cret-value" not in again.stdout
    assert "孙丽（sun.li）渠道 2 email：NotifyEmail，密钥已配置" in again.stdout


def test_profile_check_command(tmp_path: Path) -> None:
    ok = runner.invoke(app, ["profile", "check", str(DEMO_PROFILE)])
    assert ok.exit_code == 0 and "有效" in ok.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("institution: [\n", encoding="utf-8")
    result = runner.invoke(app, ["profile", "check", str(bad)])
    assert result.exit_code == 2 and "bad.yaml 第 " in result.stderr


def test_every_command_has_help() -> None:
    for args in (["--help"], ["calendar", "--help"], ["audit", "--help"], ["up", "--help"], ["doctor", "--help"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0 and "Usage" in result.stdout


def test_declare_reaches_the_server_regflows_up_starts_when_prefect_api_url_is_unset(
        home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An operator's second terminal has no PREFECT_API_URL: declare must go to regflows' own
    server (the default address), never start a temporary Prefect server of its own."""
    import json
    import socket

    from regflows import config

    with socket.socket() as s:  # a port where nothing answers
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(config, "PREFECT_PORT", port)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    record = {"title": "核心系统中断", "occurred_at": "2025-09-30T09:00:00+08:00", "discovered_at": "2025-09-30T09:10:00+08:00",
              "discovered_by": "监控中心", "system_name": "核心业务系统", "category": "other"}
    (tmp_path / "inc.json").write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(app, ["incident", "declare", str(tmp_path / "inc.json"), "--profile", str(DEMO_PROFILE)])
    assert result.exit_code != 0
    assert f"http://127.0.0.1:{port}/api" in result.output and "regflows up" in result.output


def test_a_store_never_migrated_is_one_chinese_line_naming_the_fix(tmp_path: Path) -> None:
    env = {**__import__("os").environ, "REGFLOWS_HOME": str(tmp_path), "REGFLOWS_DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}"}
    done = subprocess.run([sys.executable, "-c", "from regflows.cli import main; main()", "credit-stats", "status", "2026-10"],
                          capture_output=True, text=True, env=env)
    assert done.returncode == 2
    assert done.stderr.startswith("错误：业务数据库") and "regflows db upgrade" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(("content", "words"), [
    ("[" * 100_000 + "]" * 100_000, "JSON 嵌套过深"),
    ('{"title": ' + "9" * 5000 + "}", "JSON 数字过长"),
])
def test_a_malformed_json_file_is_a_clear_error_not_a_traceback(tmp_path: Path, content: str, words: str) -> None:
    """Issue 13, item 6: the CLI reads JSON as the endpoint does (regflows/kit/rulefiles.py)."""
    path = tmp_path / "record.json"
    path.write_text(content, encoding="utf-8")
    result = runner.invoke(app, ["incident", "grade", str(path)])
    assert result.exit_code == 2 and words in result.output and "Traceback" not in result.output
