"""Prefect tasks of the annual rating self-assessment (issue 16): the year's run and its artifact,
the sign-off's steps, the reminders. Thin wrappers around regflows/rating: logs and artifacts
live here, rules do not."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NONE

from notices.masking import mask_pii
from regflows.kit.obligations import Refused
from regflows.profile import Profile
from regflows.rating.schedule import RatingInputError
from regflows.rating.pipeline import Outcome, RatingRefused, run
from regflows.rating.schedule import not_rated
from regflows.store.db import migrate
from tasks.notices import notices_published, sms_rate_limiter


@task(name="check-rated-year 核对评级年度", cache_policy=NONE)
def rated_year_task(profile: Profile, year: int) -> dict[str, str] | None:
    """第九条: a year the institution was newly connected in (or not yet connected) is not rated:
    ``{"refused": message}`` in Chinese for the flow to fail with; None when the year is rated."""
    why = not_rated(profile.institution, year)
    if why is None:
        return None
    get_run_logger().error("%s", why)
    return {"refused": why}


@task(name="run-rating 年度自评：计分并写出报告与计分表", cache_policy=NONE)
def run_task(year: int, evidence: Path, out_dir: Path, profile: Profile, last: Path | None) -> Outcome | dict[str, str]:
    """Not retried (the run is recorded once). Bad input returns ``{"refused": message}`` in Chinese;
    nothing is published then (the kit's publish: all files or none)."""
    logger = get_run_logger()
    migrate()
    try:
        outcome = run(year, evidence, out_dir, profile, last=last, on_step=lambda name: logger.info("%s", name))
    except (RatingRefused, RatingInputError, Refused) as exc:
        message = mask_pii(f"年度自评未完成，未写出任何文件：{exc}")
        logger.error("%s", message)
        return {"refused": message}
    for w in outcome.warnings:  # never silent: unconfirmed items, pending candidates, the cap, the calendar
        logger.warning("%s", w)
    return outcome


@task(name="publish-rating 发布自评五个评价项目得分")
def artifact_task(outcome: Outcome) -> str | None:
    """The five parts against their maxima, the total and grade, what waits for a person, and the files."""
    files = "\n".join(f"- {key}：{path}" for key, path in outcome.files.items())
    artifact = create_markdown_artifact(outcome.artifact + "\n## 文件\n\n" + files + "\n", key="rating-self-assessment",
                                        description=f"{outcome.year} 年度考核评级自评")
    return str(artifact) if artifact is not None else None


@task(name="advance-rating-signoff 推进自评报告复核与签发", retries=1, retry_delay_seconds=5)
def signoff_task(profile: Profile) -> list[str]:
    """Each submitted year through review and approval (re-sending expired links), final once
    approved; the years that cannot go on are logged as errors with their reason: never silent."""
    from regflows.rating.signoff import SignoffError, advance, open_years

    logger = get_run_logger()
    migrate()
    limiter = sms_rate_limiter(profile)
    stuck: list[str] = []
    with notices_published():
        for year in open_years():
            try:
                view = advance(profile, year, before_send=limiter)
                logger.info("%d 年度自评报告：%s（第 %d 版）", year, view.stage_title, view.revision)
            except SignoffError as exc:
                logger.error("%s", exc)
                stuck.append(str(exc))
    return stuck


@task(name="remind-rating 自评报送与申述期限：提醒与逾期上报", retries=1, retry_delay_seconds=10)
def reminders_task(profile: Profile, now: dt.datetime) -> list[str]:
    """The previous year's self-assessment owed from 1 January; every reminder due at ``now``
    (each working day until the due day), raised once overdue (regflows/rating/reminders.py)."""
    from regflows.rating.reminders import remind

    migrate()
    with notices_published():
        sent = remind(profile, now, before_send=sms_rate_limiter(profile))
    if sent:
        get_run_logger().warning("已发送年度自评与申述期限提醒 %d 条：%s", len(sent), "；".join(sent))
    return sent
