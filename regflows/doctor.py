"""``regflows doctor``: check the set-up and say plainly what is wrong.

Every check reports, whether it passed or not, so an operator can see what was looked at:
the profile, the domain store and its schema, the audit ledger, the calendar coverage of the
days ahead, every notification channel's configuration (URL form, secrets resolvable), the
deployments file and the Prefect server.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import apprise
from prefect.blocks.system import Secret
from sqlalchemy.engine import make_url

from calendars.coverage import check_coverage
from calendars.official import CalendarError, default_calendar
from calendars.zone import SHANGHAI
from regflows import config, ledger
from regflows.deployments import DeploymentFileError, read_prefect_yaml, schedules_for
from regflows.procedures import PROCEDURES
from regflows.profile import PLACEHOLDER, ProfileError, load_profile
from regflows.server import is_healthy
from regflows.settings import Settings
from regflows.store import schema_status

OK, WARN, FAIL = "ok", "warn", "fail"


@dataclass(frozen=True)
class Check:
    area: str
    name: str
    status: str
    detail: str


def run_checks(profile_file: Path, today: dt.date | None = None) -> list[Check]:
    day = today or dt.datetime.now(SHANGHAI).date()
    checks: list[Check] = []
    profile = _check_profile(profile_file, checks)
    _check_store(checks)
    _check_calendar(day, profile, checks)
    if profile is not None:
        _check_channels(profile, checks)
    _check_deployments(checks, day)
    _check_prefect(checks)
    return checks


def _check_profile(path: Path, checks: list[Check]):  # type: ignore[no-untyped-def]
    try:
        profile = load_profile(path)
    except ProfileError as exc:
        for problem in exc.problems:
            checks.append(Check("配置", "机构配置", FAIL, problem))
        return None
    on = [tag for tag, enabled in profile.regimes.items() if enabled]
    checks.append(Check("配置", "机构配置", OK, f"{path}：{profile.institution.name}，适用 {', '.join(on)}"))
    for procedure in PROCEDURES:  # each procedure's own reading of the profile (e.g. PBOC-102 附件1)
        for warning in procedure.profile_warnings(profile):
            checks.append(Check("配置", procedure.title, WARN, warning))
    return profile


def _check_store(checks: list[Check]) -> None:
    url = config.database_url()
    shown = make_url(url).render_as_string(hide_password=True)
    try:
        current, head = schema_status(url)
    except Exception as exc:  # any driver error is the finding itself
        checks.append(Check("数据库", "连接", FAIL, f"{shown} 无法连接：{exc}"))
        return
    checks.append(Check("数据库", "连接", OK, shown))
    if current != head:
        checks.append(Check("数据库", "结构版本", FAIL, f"当前 {current or '空库'}，应为 {head}：请运行 regflows db upgrade"))
        return
    checks.append(Check("数据库", "结构版本", OK, f"已是最新（{head}）"))
    result = ledger.verify(url)
    status = OK if result.ok else FAIL
    checks.append(Check("数据库", "审计账本", status, result.summary()))


def _check_calendar(day: dt.date, profile, checks: list[Check]) -> None:  # type: ignore[no-untyped-def]
    try:
        cal = default_calendar()
    except CalendarError as exc:
        checks.append(Check("日历", "数据文件", FAIL, str(exc)))
        return
    checks.append(Check("日历", "已载入年份", OK, ", ".join(str(y) for y in cal.years)))
    settings = profile.settings if profile else Settings()  # without a profile: the settings' defaults
    horizon, warn_from = settings.calendar_horizon_days, settings.calendar_warn_from
    report = check_coverage(cal, day, horizon, warn_from)
    if not cal.covers(day.year):
        checks.append(Check("日历", "今日", FAIL, f"{day.year} 年数据缺失：今天的期限无法计算"))
    if report.ok:
        checks.append(Check("日历", f"覆盖 {day} 起 {horizon} 天", OK, "完整"))
    for warning in report.warnings:
        checks.append(Check("日历", f"覆盖 {day} 起 {horizon} 天", WARN, warning))


def _check_channels(profile, checks: list[Check]) -> None:  # type: ignore[no-untyped-def]
    for person in profile.people:
        for i, channel in enumerate(person.channels, start=1):
            name = f"{person.name}（{person.id}）渠道 {i} {channel.kind}"
            missing = [f"{kind}:{ref}（{why}）" for kind, ref in channel.secret_refs() if (why := _secret_problem(kind, ref))]
            if missing:
                checks.append(Check("通知渠道", name, FAIL, f"引用的密钥不可用：{', '.join(missing)}"))
                continue
            if channel.url.startswith("outbox://") or channel.kind == "outbox":  # the local outbox, whatever kind it stands in for
                ok = channel.url.startswith("outbox://") and len(channel.url) > len("outbox://")
                checks.append(Check("通知渠道", name, OK if ok else FAIL, "本地 outbox" if ok else "outbox 地址应为 outbox://名称"))
                continue
            probe = PLACEHOLDER.sub("x0secret", channel.url)
            plugin = apprise.Apprise.instantiate(probe, suppress_exceptions=True)
            if plugin is None:
                checks.append(Check("通知渠道", name, FAIL, "Apprise 无法识别该地址（协议或格式错误）"))
            else:
                checks.append(Check("通知渠道", name, OK, f"{type(plugin).__name__}，密钥已配置"))


def _secret_problem(kind: str, ref: str) -> str | None:
    """Why a referenced secret cannot be resolved now, or None when it can (value never shown)."""
    if kind == "env":
        return None if os.environ.get(ref) else "环境变量未设置"
    api = os.environ.get("PREFECT_API_URL")
    if not api or not is_healthy(api):
        return "Prefect 服务器未运行，无法读取 Secret 块"
    try:
        Secret.load(ref)
    except ValueError:
        return "Prefect 中没有该 Secret 块"
    return None


def _check_deployments(checks: list[Check], day: dt.date) -> None:
    path = config.prefect_yaml()
    try:
        specs = read_prefect_yaml(path)
    except (DeploymentFileError, ValueError) as exc:
        checks.append(Check("部署", "prefect.yaml", FAIL, str(exc)))
        return
    for spec in specs:
        entry = path.parent / spec.entrypoint.partition(":")[0]
        if not entry.exists():
            checks.append(Check("部署", spec.name, FAIL, f"入口文件不存在：{entry}"))
            continue
        choices = schedules_for(spec, day)
        ran_out = [c.description for c in choices if c.kind == "working_days" and c.prefect_schedule is None]
        if ran_out:
            checks.append(Check("部署", spec.name, FAIL, f"工作日排程已无可用日期：{'；'.join(ran_out)}"))
        else:
            desc = "；".join(
                c.description + (f"（数据至 {c.last_run_day}）" if c.last_run_day else "") for c in choices
            )
            checks.append(Check("部署", spec.name, OK, desc or "手动触发"))


def _check_prefect(checks: list[Check]) -> None:
    api = config.prefect_api_url()
    if is_healthy(api):
        checks.append(Check("Prefect", "服务器", OK, api))
    else:
        checks.append(Check("Prefect", "服务器", WARN, f"{api} 未运行（make run 会启动它）"))
