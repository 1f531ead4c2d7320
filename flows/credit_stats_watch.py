"""Hourly: move each month's table through review and sign-off, remind about it on working days
until it is marked submitted, and raise it when the due day has passed (PBOC-102 III(2), attachment 2).

The acknowledgement endpoint advances a sign-off the moment a link is used; this watch is the
fallback that needs no endpoint: it records confirmations the endpoint could not act on and
re-sends review or sign-off requests whose links expired. A month that cannot go on (nobody
eligible to sign, the draft changed after review) fails the run, so it shows red in the UI.
"""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact

from regflows.credit.deadline import remind
from regflows.credit.signoff import SignoffError, advance, open_labels, signoff_rows
from regflows.profile import load_profile, profile_path
from tasks.notices import sms_rate_limiter


@flow(name="credit-stats-watch")
def credit_stats_watch() -> list[str]:
    """推进统计表复核、签发；工作日提醒报送征信信息安全情况统计表，逾期未标记报送即上报。"""
    profile = load_profile(profile_path())
    logger = get_run_logger()
    limiter = sms_rate_limiter(profile)
    stuck: list[str] = []
    for label in open_labels():
        try:
            state = advance(profile, label, before_send=limiter)
            logger.info("统计表 %s：%s", label, state.stage_title)
        except SignoffError as exc:
            logger.error("%s", exc)
            stuck.append(str(exc))
    rows = signoff_rows()
    if rows:
        create_table_artifact(rows, key="credit-stats-signoff", description="征信信息安全情况统计表：填表、复核、签发与报送状态")
    sent = remind(profile, before_send=limiter)
    if sent:
        logger.warning("已发送统计表报送提醒：%s", ", ".join(sent))
    if stuck:
        raise SignoffError("；".join(stuck))
    return sent
