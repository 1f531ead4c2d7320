"""The command line as scripts and operators use it: plain values, clear errors, exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from calendars.notice_import import parse_notice
from calendars.official import DATA_DIR, WorkingDayCalendar, load_year_file
from regflows.cli import app
from regflows.exit_codes import ExitCode
from regflows.profile import DEMO_PROFILE

REGFLOWS = str(Path(sys.executable).parent / "regflows")
runner = CliRunner()
NOTICES = Path(__file__).resolve().parents[1] / "calendars" / "fixtures" / "notices"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["is-working-day", "2025-10-08"], "false"),
        (["is-working-day", "2025-09-28"], "true"),
        (["next-working-day", "2025-09-30"], "2025-10-09"),
        (["previous-working-day", "2025-10-09"], "2025-09-30"),
        (["roll-forward", "2025-10-01"], "2025-10-09"),
        (["add-working-days", "2025-10-09", "--", "-1"], "2025-09-30"),
        (["add-working-days", "2025-10-09", "-1"], "2025-09-30"),
        (["nth-working-day", "2025", "10", "1"], "2025-10-09"),
        (["nth-working-day", "2025", "10", "--", "-1"], "2025-10-31"),
        (["nth-working-day", "2025", "9", "-1"], "2025-09-30"),
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


def test_negative_counts_work_as_typed_in_a_real_process() -> None:
    """Click reads ``-1`` as an option unless told otherwise; a user types it as a number."""
    for args, expected in ((["add-working-days", "2025-10-09", "-1"], "2025-09-30\n"),
                           (["nth-working-day", "2025", "9", "-1"], "2025-09-30\n"),
                           (["add-working-days", "2025-10-09", "-3"], "2025-09-28\n")):
        done = subprocess.run([REGFLOWS, "calendar", *args], capture_output=True, text=True)
        assert (done.returncode, done.stdout) == (0, expected), done.stderr
    unknown = runner.invoke(app, ["calendar", "add-working-days", "2025-10-09", "--bogus"])
    assert unknown.exit_code == ExitCode.USAGE


def _calendar_of(*years: int) -> WorkingDayCalendar:
    """The shipped year files of ``years``, or a year imported from its notice in the test data."""
    arrangements = []
    for year in years:
        path = DATA_DIR / f"{year}.yaml"
        if path.exists():
            arrangements.append(load_year_file(path))
        else:
            arrangements.append(parse_notice((NOTICES / f"{year}-1.txt").read_text("utf-8"), url="https://www.gov.cn/"))
    return WorkingDayCalendar(arrangements)


def test_a_missing_year_exits_with_the_calendar_code(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("regflows.cli.default_calendar", lambda: _calendar_of(2025, 2026))
    result = runner.invoke(app, ["calendar", "is-working-day", "2027-01-04"])
    assert result.exit_code == ExitCode.NO_CALENDAR and result.stdout == ""
    assert "2027" in result.stderr


@pytest.mark.parametrize(
    ("args", "printed", "named"),
    [
        (["roll-forward", "2026-12-26"], "2026-12-28", "2026-12-26、2026-12-27、2026-12-28"),
        (["is-working-day", "2026-12-31"], "true", "2026-12-31"),
        (["previous-working-day", "2026-12-31"], "2026-12-30", "2026-12-30"),
        (["count-working-days", "2026-12-01", "2026-12-31"], "23", "2026-12-25..2026-12-31"),
        (["nth-working-day", "2026", "12", "-1"], "2026-12-31", "2026-12-31"),
    ],
)
def test_provisional_december_answers_are_printed_said_and_exit_4(
    monkeypatch: pytest.MonkeyPatch, args: list[str], printed: str, named: str
) -> None:
    """Without 2027's notice the last days of 2026 may still change: the answer is printed, stderr
    says it is provisional (暂定) naming the days, and the exit code is the provisional one."""
    monkeypatch.setattr("regflows.cli.default_calendar", lambda: _calendar_of(2025, 2026))
    result = runner.invoke(app, ["calendar", *args])
    assert result.exit_code == ExitCode.PROVISIONAL, result.output
    assert result.stdout == printed + "\n"
    assert "暂定" in result.stderr and named in result.stderr and "2027" in result.stderr


def test_answers_that_do_not_rest_on_provisional_days_stay_definite(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("regflows.cli.default_calendar", lambda: _calendar_of(2025, 2026))
    for args in (["is-working-day", "2026-12-24"], ["add-working-days", "2026-12-21", "3"], ["nth-working-day", "2026", "12", "1"]):
        result = runner.invoke(app, ["calendar", *args])
        assert result.exit_code == ExitCode.DONE and result.stderr == "", args


def test_replaying_2018_without_the_2019_notice_gives_no_wrong_definite_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    """The 2019 notice made 2018-12-29 (Saturday) a working day and 2018-12-31 (Monday) a
    holiday: a calendar of 2018 alone answers both wrongly, so it must say they are provisional."""
    monkeypatch.setattr("regflows.cli.default_calendar", lambda: _calendar_of(2018))
    for day, provisional_answer in (("2018-12-29", "false"), ("2018-12-31", "true")):
        result = runner.invoke(app, ["calendar", "is-working-day", day])
        assert (result.exit_code, result.stdout) == (ExitCode.PROVISIONAL, provisional_answer + "\n")
        assert "暂定" in result.stderr and day in result.stderr
    monkeypatch.setattr("regflows.cli.default_calendar", lambda: _calendar_of(2018, 2019))
    for day, answer in (("2018-12-29", "true"), ("2018-12-31", "false")):
        result = runner.invoke(app, ["calendar", "is-working-day", day])
        assert (result.exit_code, result.stdout, result.stderr) == (ExitCode.DONE, answer + "\n", "")


def test_import_notice_exit_codes(tmp_path: Path) -> None:
    """A notice that imports: 0 and the year file; an amending notice without its year file: 3
    (no calendar data for the year it needs); a notice that does not balance: 2, naming the item."""
    def run(name: str, text: str | None = None) -> subprocess.CompletedProcess[str]:
        path = tmp_path / name
        path.write_text(text if text is not None else (NOTICES / name).read_text("utf-8"), encoding="utf-8")
        return subprocess.run([REGFLOWS, "calendar", "import-notice", str(path), "--url", "https://www.gov.cn/x",
                               "--output-dir", str(tmp_path)], capture_output=True, text=True)

    assert run("2019-2.txt").returncode == ExitCode.NO_CALENDAR
    assert run("2019-1.txt").returncode == ExitCode.DONE
    adjusted = run("2019-2.txt")
    assert adjusted.returncode == ExitCode.DONE, adjusted.stderr
    assert "国办发明电〔2019〕3号" in (tmp_path / "2019.yaml").read_text("utf-8")
    garbled = run("2025-1.txt", (NOTICES / "2025-1.txt").read_text("utf-8").replace("1月26日（周日）、2月8日（周六）上班。", ""))
    assert garbled.returncode == ExitCode.USAGE and "二、春节" in garbled.stderr and "不平衡" in garbled.stderr
    assert not (tmp_path / "2025.yaml").exists()


def test_schedules_cut_short_by_a_missing_year_exit_with_the_calendar_code(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("regflows.cli.default_calendar", lambda: _calendar_of(2025, 2026))
    assert runner.invoke(app, ["calendar", "schedules", "--start", "2025-06-02"]).exit_code == ExitCode.DONE
    short = runner.invoke(app, ["calendar", "schedules", "--start", "2026-12-28"])
    assert short.exit_code == ExitCode.NO_CALENDAR and "2027" in short.stderr
    assert short.stdout  # what is known is printed all the same


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
        '{kind: sms, url: "outbox://sun.li/sms"}',
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
    assert not (tmp_path / "new.db").exists()  # issue 13 (10): looking does not create an empty store


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


@pytest.mark.parametrize(("text", "words"), [("2026-02-30", "没有这一天：2026-02-30"), ("2026-2-3", "日期格式应为 YYYY-MM-DD")])
def test_a_date_that_does_not_exist_is_not_called_a_format_error(text: str, words: str) -> None:
    """From the outside review: 2026-02-30 has the right shape; the day does not exist."""
    result = CliRunner().invoke(app, ["calendar", "is-working-day", text])
    assert result.exit_code == ExitCode.USAGE and words in result.output


def test_no_help_line_is_cut_with_an_ellipsis() -> None:
    """Issue 14 (7): `regflows --help` cut Chinese lines with "…" (rich wraps at spaces only).
    Every group's and command's help, as the CLI runner prints it (80 columns, not a terminal)."""
    from typing import Any

    from typer.main import get_command

    root = get_command(app)
    paths: list[list[str]] = []

    def walk(command: Any, path: list[str]) -> None:  # typer's own (vendored) click classes
        paths.append(path)
        if hasattr(command, "commands"):
            for name, sub in command.commands.items():
                walk(sub, [*path, name])

    walk(root, [])
    runner = CliRunner()
    cut = {}
    for path in paths:
        shown = runner.invoke(app, [*path, "--help"], terminal_width=80)
        assert shown.exit_code == 0, (path, shown.output)
        lines = [line for line in shown.output.splitlines() if "…" in line]
        if lines:
            cut[" ".join(path) or "regflows"] = lines
    assert len(paths) > 40 and cut == {}


def test_serve_acks_says_where_it_listens_and_warns_without_the_ingest_token(monkeypatch: pytest.MonkeyPatch) -> None:
    """uvicorn at "warning" is silent once it listens; the endpoint says so itself, and that
    declarations will be refused while REGFLOWS_INGEST_TOKEN is unset."""
    import uvicorn

    started: list[tuple[str, int]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, host, port, **_: started.append((host, port)))
    monkeypatch.delenv("REGFLOWS_INGEST_TOKEN", raising=False)
    result = runner.invoke(app, ["notices", "serve-acks", "--port", "4311"])
    assert result.exit_code == 0 and started == [("127.0.0.1", 4311)]
    assert "监听 127.0.0.1:4311" in result.stdout and "未配置 REGFLOWS_INGEST_TOKEN" in result.stderr
    monkeypatch.setenv("REGFLOWS_INGEST_TOKEN", "t")
    assert "REGFLOWS_INGEST_TOKEN" not in runner.invoke(app, ["notices", "serve-acks"]).stderr
