"""Command line: ``regflows rating template|score`` (issue 16, "CLI contract").

Mounted by regflows/cli.py through regflows/procedures.py. ``score`` prints the contract's JSON
on stdout with every score as a JSON number written from its exact decimal text (``json`` would
go through a binary float); the notes a person must see (the cap at 100, a downgrade, candidates
awaiting confirmation, unconfirmed items) go to stderr in Chinese. A malformed evidence file exits
2 naming the item and the line.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from regflows.exit_codes import ExitCode
from regflows.profile import Profile, ProfileError, load_profile, profile_path
from regflows.rating.jsontext import decimal_text, dumps

if TYPE_CHECKING:  # the gathering loads with the command, not with every regflows command
    from regflows.rating.gather import Gathering

__all__ = ["decimal_text", "dumps", "rating_app"]

rating_app = typer.Typer(help="征信合规与信息安全年度考核评级（PBOC-102 六、附件3）：自评证据模板、自评计分。", no_args_is_help=True)


def _fail(message: str, code: int) -> NoReturn:
    typer.echo(f"错误：{message}", err=True)
    raise typer.Exit(code)


@rating_app.command("template")
def template_command(
    year: Annotated[int, typer.Option("--year", help="评级年度（上一年度，如 2026）")],
    out: Annotated[Path, typer.Option("--out", help="写入的证据文件（YAML）")],
    force: Annotated[bool, typer.Option("--force", help="覆盖已有文件")] = False,
    profile: Annotated[Path | None, typer.Option("--profile", help="机构配置文件（默认 REGFLOWS_PROFILE 或示范配置）")] = None,
) -> None:
    """写出该年度的自评证据模板：48 个指标及其事实、含义与计分标准（中文注释），自动填入系统已有的事实（待确认）。"""
    import datetime as dt

    from calendars.zone import SHANGHAI
    from regflows.kit.files import write_atomically
    from regflows.rating.evidence import FIRST_YEAR, template
    from regflows.rating.model import load_model
    from regflows.rating.schedule import due_sentence, not_rated

    if year < FIRST_YEAR:
        _fail(f"--year 应为 {FIRST_YEAR} 年及以后（PBOC-102 附件3 自 2018 年施行），实为 {year}", ExitCode.USAGE)
    this_year = dt.datetime.now(SHANGHAI).year
    if year > this_year:  # 第九条: the rating period is a past calendar year
        _fail(f"--year {year} 尚未开始：考核评级期间为上一年度 1 月 1 日至 12 月 31 日（PBOC-102 附件3 第九条）", ExitCode.USAGE)
    loaded = _load_profile(profile)
    why = not_rated(loaded.institution, year)
    if why is not None:
        _fail(why, ExitCode.REFUSED)
    if out.exists() and not force:
        _fail(f"{out} 已存在：已填写的证据不会被覆盖（确需覆盖请加 --force）", ExitCode.USAGE)
    gathering, why_not = _gather(year)
    try:
        text = template(year, load_model(), gathering.gathered, gathering.candidates,
                        due_sentence(year, loaded.institution, loaded.settings))  # a local institution's own day (第十一条)
        write_atomically(out, text.encode("utf-8"))
    except OSError as exc:
        _fail(f"无法写入 {out}：{exc.strerror or exc}", ExitCode.USAGE)
    typer.echo(f"已写出 {year} 年度自评证据模板：{out}")
    if year == this_year:
        typer.echo(f"注意：{year} 年度尚未结束，事实可能还会变化；自评在次年 1 月进行（PBOC-102 附件3 第九条、第十条）。", err=True)
    # Never silent: what was filled in (unconfirmed), what was found, and what was not gathered (issue 16, item 3).
    if why_not:
        typer.echo(f"注意：未自动填入系统已有的事实（{why_not}），请逐项填写并确认。", err=True)
        return
    filled = "、".join(gathering.gathered) or "无"
    typer.echo(f"已自动填入（待确认）的指标：{filled}；其余指标请逐项填写；全部指标须确认后方可签发。", err=True)
    for note in gathering.notes:
        typer.echo(f"提示：{note}", err=True)
    if gathering.candidates:
        typer.echo(f"提示：发现 {len(gathering.candidates)} 项可能的第十五条情形，已列入 downgrade_candidates，"
                   "仅供确认，不计入评级；确认后请把项号写入 downgrade_conditions。", err=True)


def _load_profile(path: Path | None) -> Profile:
    try:
        return load_profile(path or profile_path())
    except ProfileError as exc:
        _fail(str(exc), ExitCode.USAGE)


def _gather(year: int) -> tuple[Gathering, str | None]:
    """The facts the store holds for ``year`` (regflows/rating/gather.py), or why none could be read."""
    import datetime as dt

    from regflows.config import StoreNotReady
    from regflows.kit.yearfacts import NoYearFacts, gather_year
    from regflows.rating.gather import Gathering, from_year_facts  # noqa: F811 (the runtime import of the name typed above)

    try:
        facts = gather_year(year)
    except (StoreNotReady, NoYearFacts) as exc:
        return Gathering(), str(exc)
    return from_year_facts(facts, dt.datetime.now(dt.timezone.utc)), None


@rating_app.command("score")
def score_command(
    file: Annotated[Path, typer.Argument(help="自评证据文件（YAML，regflows rating template 写出）")],
    profile: Annotated[Path | None, typer.Option("--profile", help="机构配置文件（默认 REGFLOWS_PROFILE 或示范配置）")] = None,
    last: Annotated[Path | None, typer.Option("--last", help="上一年度的自评证据文件：与上一年度比较（写在 stderr）")] = None,
) -> None:
    """按证据计分：各指标得分及每项扣分的依据与证据、五个评价项目得分、总分、等级、下调与定为 0 分的情形、未确认的指标；
    给出 --last 时在 stderr 写出与上一年度的比较（stdout 的 JSON 不变）。"""
    from regflows.rating.model import load_model
    from regflows.rating.schedule import RatingInputError
    from regflows.rating.scored import comparison_lines, score_with_last

    from regflows.rating.schedule import not_rated

    loaded = _load_profile(profile)
    model = load_model()
    try:
        result, comparison, _, _ = score_with_last(file, loaded, last, model)
    except RatingInputError as exc:
        _fail(str(exc), ExitCode.USAGE)
    why = not_rated(loaded.institution, result.year)
    if why is not None:  # 第九条: no score for a year that is not rated
        _fail(why, ExitCode.REFUSED)
    typer.echo(dumps(result.to_dict()))
    for note in result.notes:
        typer.echo(f"提示：{note}", err=True)
    # The contract's JSON has no place for the comparison (its keys are fixed): stderr, and the report.
    for line in comparison_lines(comparison, model) if comparison else ():
        typer.echo(line, err=True)
