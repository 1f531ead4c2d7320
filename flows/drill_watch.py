"""The drills' watch (issue 17, items 1-2): every day, the year's owed drills written and reminded from
the profile's month in each period; a period that ended without its drill raised; submitted plans
moved through their approval. Thin: tasks only.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import Field
from prefect import flow

from calendars.zone import SHANGHAI
from regflows.profile import load_profile, profile_path
from tasks.drills import drill_reminders_task, plan_approvals_task


@flow(name="drill-watch", log_prints=True)
def drill_watch(
    day: Annotated[str, Field(title="日期", description="YYYY-MM-DD（北京时间，按当日 09:15 计）；留空为现在。")] = "",
) -> dict[str, list[str]]:
    """每日登记本年度应开展的演练与应急预案评估，自演练计划月份起每月第一个工作日提醒，期末最后一个工作日再提醒；
    期满仍未登记举行的上报组织演练的角色、领导小组与合规部门（须确认，未确认则升级）；推进已提交的演练方案审核与批准（过期链接重发）。"""
    profile = load_profile(profile_path())
    if day.strip():
        now = dt.datetime.combine(dt.date.fromisoformat(day.strip()), dt.time(9, 15), SHANGHAI)
    else:
        now = dt.datetime.now(SHANGHAI)
    return {"reminders": drill_reminders_task(profile, now), "plans": plan_approvals_task(profile)}
