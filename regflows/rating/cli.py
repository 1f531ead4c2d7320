"""Command line: ``regflows rating template|score`` (issue 16, "CLI contract").

Mounted by regflows/cli.py through regflows/procedures.py. ``score`` prints the contract's JSON
on stdout with every score as a JSON number written from its exact decimal text (``json`` would
go through a binary float); the notes a person must see (the cap at 100, a downgrade, candidates
awaiting confirmation, unconfirmed items) go to stderr in Chinese. A malformed evidence file exits
2 naming the item and the line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer

from regflows.exit_codes import ExitCode
from regflows.profile import ProfileError, load_profile, profile_path
from regflows.rating.jsontext import decimal_text, dumps

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
) -> None:
    """写出该年度的自评证据模板：48 个指标及其事实、含义与计分标准（中文注释）。"""
    from regflows.kit.files import write_atomically
    from regflows.rating.evidence import FIRST_YEAR, template
    from regflows.rating.model import load_model

    if year < FIRST_YEAR:
        _fail(f"--year 应为 {FIRST_YEAR} 年及以后（PBOC-102 附件3 自 2018 年施行），实为 {year}", ExitCode.USAGE)
    if out.exists() and not force:
        _fail(f"{out} 已存在：已填写的证据不会被覆盖（确需覆盖请加 --force）", ExitCode.USAGE)
    try:
        write_atomically(out, template(year, load_model()).encode("utf-8"))
    except OSError as exc:
        _fail(f"无法写入 {out}：{exc.strerror or exc}", ExitCode.USAGE)
    typer.echo(f"已写出 {year} 年度自评证据模板：{out}")
    # Never silent: the facts regflows holds are not gathered into the template yet (issue 16, item 3).
    typer.echo("注意：尚未自动填入系统已有的事实（月报报送、事件报告、自查核实的违规、整改、用户检查），请逐项填写并确认。", err=True)


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

    try:
        loaded = load_profile(profile or profile_path())
    except ProfileError as exc:
        _fail(str(exc), ExitCode.USAGE)
    model = load_model()
    try:
        result, comparison, _, _ = score_with_last(file, loaded, last, model)
    except RatingInputError as exc:
        _fail(str(exc), ExitCode.USAGE)
    typer.echo(dumps(result.to_dict()))
    for note in result.notes:
        typer.echo(f"提示：{note}", err=True)
    # The contract's JSON has no place for the comparison (its keys are fixed): stderr, and the report.
    for line in comparison_lines(comparison, model) if comparison else ():
        typer.echo(line, err=True)
