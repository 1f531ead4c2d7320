"""Daily check of the credit query log (日核查, PBOC-102 二（四）) and the immediate report of
违规查询 (三（二）: 发生征信信息安全风险事件的，应立即上报).

Runs every working day at 08:00 (prefect.yaml: ``credit-daily-check``, a working-day schedule)
and checks every day since its last check, weekends and holidays included, each from that day's
log (``settings.credit_daily_log_pattern``): each 违规查询 goes to the compliance role at once
with an acknowledgement link, the 异常查询 leads as one digest. A day whose log is missing or
fails its checks stays unchecked, is raised in the digest (to be acknowledged) and fails the
run; the next run tries it again. The rules are the monthly table's, so the month agrees with
the sum of its days.

The flow only composes tasks (tasks/credit_daily.py); the profile is read by a plain call.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from typing import Annotated

from prefect import flow
from pydantic import Field

from calendars.zone import SHANGHAI
from regflows import config
from regflows.credit.daily import DailyCheckIncomplete
from regflows.profile import load_profile, profile_path
from tasks.credit_daily import check_day_task, digest_task, plan_task
from tasks.parameters import MASKING_HOOKS


@flow(name="credit-daily-check", log_prints=True, **MASKING_HOOKS)
def credit_daily_check(
    today: Annotated[str, Field(title="核查日", description="YYYY-MM-DD；留空为今天（北京时间）。核查上次核查以来的每一日。")] = "",
    out_dir: Annotated[str, Field(title="输出目录", description="服务器上的路径；留空为 $REGFLOWS_HOME/reports/credit-daily。")] = "",
) -> dict:
    """征信查询日核查：核查上次核查以来（含周末、节假日）每一日的查询日志；违规查询逐笔立即通知合规部门（须确认），
    异常查询线索汇总为日报；日志缺失或未通过检查的日期上报并在下次运行时补查。today 为 YYYY-MM-DD（默认今天），
    输出到 $REGFLOWS_HOME/reports/credit-daily。"""
    profile = load_profile(profile_path())
    day = dt.date.fromisoformat(today) if today else dt.datetime.now(SHANGHAI).date()
    home = config.home()
    users = home / "credit" / "users.csv"
    out = Path(out_dir) if out_dir else home / "reports" / "credit-daily"
    days = plan_task(profile, day)
    outcomes = [check_day_task(profile, d, home, users if users.exists() else None, out) for d in days]
    digest = digest_task(profile, outcomes)
    problems = [o.message for o in outcomes if o.state != "checked"]
    if problems:
        raise DailyCheckIncomplete("；".join(problems))
    return {"days": [o.day.isoformat() for o in outcomes], "unauthorized_query": sum(o.unauthorized for o in outcomes),
            "abnormal_query": sum(o.abnormal for o in outcomes), "digest": digest}
