"""The annual rating self-assessment (PBOC-102 六; 附件3 第九条、第十条): on the first official
working day of January for the previous year (prefect.yaml: ``rating``), and from the UI for any
ended year; and ``rating-watch`` every working day (the sign-off's steps, the reminders).

The yearly run refuses a year the institution is not rated for (第九条: newly connected), reads
the year's evidence file (default ``$REGFLOWS_HOME/rating/evidence-YYYY.yaml``; last year's
beside it is compared when present), writes the report, the score sheet and summary.json
(published all or none) and the artifact of the five parts against their maxima. Thin: tasks only.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

from prefect import flow
from pydantic import Field

from calendars.zone import SHANGHAI
from regflows import config
from regflows.profile import load_profile, profile_path
from regflows.rating.schedule import previous_year
from tasks.rating import artifact_task, rated_year_task, reminders_task, run_task, signoff_task
from tasks.refusals import refused


def _evidence(year: int) -> Path:
    return config.home() / "rating" / f"evidence-{year}.yaml"


@flow(name="rating", log_prints=True)
def rating_self_assessment(
    year: Annotated[str, Field(title="评级年度", description="YYYY，如 2025；留空为上一年度（第九条）。")] = "",
    evidence: Annotated[str, Field(title="自评证据文件", description="服务器上的路径；留空为 $REGFLOWS_HOME/rating/evidence-YYYY.yaml（regflows rating template 写出、逐项填写并确认）。")] = "",
    last: Annotated[str, Field(title="上一年度自评证据文件", description="服务器上的路径，用于与上一年度比较；留空为 $REGFLOWS_HOME/rating/evidence-(YYYY-1).yaml（存在时）。")] = "",
    out_dir: Annotated[str, Field(title="输出目录", description="服务器上的路径；留空为 $REGFLOWS_HOME/reports/rating/YYYY。")] = "",
) -> dict:
    """年度考核评级自评：核对评级年度（当年新接入的不评级），按证据计分，写出自评报告（草稿）、自评计分表与 summary.json，发布五个评价项目的得分。"""
    profile = load_profile(profile_path())
    text = year.strip()
    if text and not (text.isdigit() and len(text) == 4):
        return refused(f"「评级年度」须为四位年份，实为 {year!r}")
    y = int(text) if text else previous_year()
    not_rated = rated_year_task(profile, y)
    if not_rated is not None:
        return refused(not_rated["refused"])
    evidence_path = Path(evidence) if evidence.strip() else _evidence(y)
    if not evidence_path.is_file():
        return refused(f"{y} 年度的自评证据文件 {evidence_path} 不存在：请先 regflows rating template --year {y} --out {evidence_path}，"
                       "逐项填写并确认后在界面重新运行（报送期限照常提醒）")
    default_last = _evidence(y - 1)
    last_path = Path(last) if last.strip() else (default_last if default_last.is_file() else None)
    out = Path(out_dir) if out_dir.strip() else config.home() / "reports" / "rating" / str(y)
    outcome = run_task(y, evidence_path, out, profile, last_path)
    if isinstance(outcome, dict):
        return refused(outcome["refused"])
    artifact_task(outcome)
    return {"year": y, "score": str(outcome.result.score), "grade": outcome.result.grade, "unconfirmed": list(outcome.result.unconfirmed),
            "files": {k: str(p) for k, p in outcome.files.items()}, "warnings": outcome.warnings}


@flow(name="rating-watch", log_prints=True)
def rating_watch(
    day: Annotated[str, Field(title="日期", description="YYYY-MM-DD（北京时间）；留空为现在。")] = "",
) -> dict[str, list[str]]:
    """每个工作日：推进已提交的自评报告复核与签发（过期链接重新发送，签发后定稿）；1 月 1 日起登记上一年度自评报送义务，
    逐工作日提醒报送期限与申述期限，逾期的上报合规部门与领导小组。"""
    profile = load_profile(profile_path())
    if day.strip():
        now = dt.datetime.combine(dt.date.fromisoformat(day.strip()), dt.time(9, 30), SHANGHAI)  # as the schedule runs it
    else:
        now = dt.datetime.now(SHANGHAI)
    return {"signoff": signoff_task(profile), "reminders": reminders_task(profile, now)}
