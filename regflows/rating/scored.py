"""The evidence files scored (issue 16, item 4): this year's file, and last year's beside it when
given, under the profile's settings, and the comparison said in words for stderr. Reads files;
no store, no documents (the ``score`` command stays light)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from regflows.kit.errors import RuleFileError
from regflows.profile import Profile
from regflows.rating.evidence import Evidence, read_evidence
from regflows.rating.model import RatingModel, load_model
from regflows.rating.schedule import RatingInputError
from regflows.rating.scoring import Comparison, RatingResult, compare, num, score

__all__ = ["comparison_lines", "score_with_last"]


def comparison_lines(c: Comparison, model: RatingModel) -> list[str]:
    """The comparison as a person reads it on stderr (Chinese, one fact a line)."""
    def signed(v: Any) -> str:
        return ("+" if v > 0 else "") + num(v)

    def grade(g: str) -> str:
        return "0 分" if g == "0" else f"{g} 级"

    titles = {p.id: p.title for p in model.parts}
    lines = [f"与 {c.previous_year} 年度比较：考核计分 {num(c.score.previous)} → {num(c.score.current)}（{signed(c.score.delta)}），"
             f"等级 {grade(c.previous_grade)} → {grade(c.grade)}"]
    lines += [f"  {titles.get(p.id, p.id)}：{num(p.previous)} → {num(p.current)}（{signed(p.delta)}）" for p in c.parts if p.delta]
    lines += [f"  指标 {i.id}：{num(i.previous)} → {num(i.current)}（{signed(i.delta)}）" for i in c.items]
    return lines


def score_with_last(evidence_path: Path, profile: Profile, last: Path | None = None,
                    model: RatingModel | None = None) -> tuple[RatingResult, Comparison | None, str | None, Evidence]:
    """Score the evidence (and last year's, when given) under the profile's settings: the result,
    the comparison (or None with why), and the evidence read. Bad files: :class:`RatingInputError`."""
    chosen = model or load_model()
    try:
        evidence = read_evidence(evidence_path, chosen, people=profile.person_ids)
    except RuleFileError as exc:
        raise RatingInputError(str(exc)) from None
    result = score(chosen, evidence, profile.settings)
    if last is None:
        return result, None, "未提供上一年度的自评证据（--last），不作比较。", evidence
    try:
        previous_evidence = read_evidence(last, chosen)  # last year's confirmers may have left: not checked against today's people
    except RuleFileError as exc:
        raise RatingInputError(f"上一年度的自评证据：{exc}") from None
    if previous_evidence.year != evidence.year - 1:
        raise RatingInputError(f"上一年度的自评证据 {last} 是 {previous_evidence.year} 年度的，应为 {evidence.year - 1} 年度")
    previous = score(chosen, previous_evidence, profile.settings)
    return result, compare(result, previous), None, evidence
