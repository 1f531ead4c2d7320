"""Prefect tasks around the notices layer: SMS rate limit, artifacts, the acknowledgement watch."""

from __future__ import annotations

import functools
from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import create_table_artifact

from notices.delivery import NoticeOutcome
from regflows.profile import Profile

SMS_LIMIT = "regflows-sms"


def ensure_sms_limit(per_minute: float) -> None:
    """Create the global rate limit for SMS once per server (a decaying limit: per_minute slots per minute)."""
    from prefect.settings import PREFECT_API_URL

    _ensure_sms_limit(per_minute, str(PREFECT_API_URL.value()))


@functools.cache
def _ensure_sms_limit(per_minute: float, api_url: str) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(SMS_LIMIT)
        except ObjectNotFound:
            limit = max(1, int(per_minute))
            client.create_global_concurrency_limit(
                GlobalConcurrencyLimitCreate(name=SMS_LIMIT, limit=limit, slot_decay_per_second=per_minute / 60.0)
            )


def sms_rate_limiter(profile: Profile):  # type: ignore[no-untyped-def]
    """A before_send hook: every SMS takes a slot of the global rate limit."""
    from prefect.concurrency.sync import rate_limit

    ensure_sms_limit(profile.settings.sms_per_minute)

    def before_send(channel_kind: str) -> None:
        if channel_kind == "sms":
            rate_limit(SMS_LIMIT, occupy=1)

    return before_send


def outcome_rows(outcome: NoticeOutcome) -> list[dict[str, Any]]:
    return [
        {"收件人": c.person_id, "渠道": f"{c.channel_index + 1} {c.kind}", "地址（已脱敏）": c.target, "结果": c.state,
         "尝试次数": c.attempts, "错误": c.error or ""}
        for c in outcome.deliveries
    ]


@task(name="发送通知", retries=2, retry_delay_seconds=10)
def send_notice_task(profile: Profile, kind: str, context: dict[str, Any], roles: list[str], **options: Any) -> dict[str, Any]:
    """Send through the delivery engine; a retried task re-sends nothing already delivered."""
    from notices.service import send_notice

    logger = get_run_logger()
    outcome = send_notice(profile, kind, context, roles, before_send=sms_rate_limiter(profile), **options)
    create_table_artifact(outcome_rows(outcome), key=f"notice-{kind.replace('_', '-')}", description=f"通知 {outcome.notice_id} 投递记录")
    if any(c.kind == "outbox" for c in outcome.deliveries):
        publish_outbox()
    for person in outcome.unreached:
        logger.error("未能送达 %s（%s）", person.recipient.name, person.recipient.person_id)
    return {"notice_id": outcome.notice_id, "deliveries": outcome_rows(outcome)}


def publish_outbox(limit: int = 50) -> None:
    """The embedded default channel, visible in the UI: the latest outbox messages as a table."""
    from sqlalchemy import select

    from regflows.store import db
    from regflows.store.models import OutboxMessage

    with db.session() as s:
        rows = s.execute(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)).scalars().all()
        table = [{"时间": m.at.isoformat(timespec="seconds"), "收件地址": m.target, "标题": m.title, "正文": m.body[:500]} for m in rows]
    if table:
        create_table_artifact(table, key="outbox", description=f"本地 outbox 最新 {len(table)} 条通知（示范配置的默认渠道）")


@task(name="确认与升级检查")
def escalation_task(profile: Profile) -> list[dict[str, Any]]:
    from notices.escalation import run_escalations

    actions = run_escalations(profile, before_send=sms_rate_limiter(profile))
    logger = get_run_logger()
    for action in actions:
        logger.warning("通知 %s：%s %s", action.notice_id, action.kind, action.person_id or "")
    return [action.__dict__ for action in actions]
