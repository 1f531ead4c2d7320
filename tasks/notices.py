"""Prefect tasks around the notices layer: the SMS rate limit, the run's ``notices`` artifact,
the outbox artifact, and the acknowledgement watch.

Every notice to people is sent inside a task with retries (the delivery engine's claims make a
retried send safe: nothing delivered is sent again; the watches resume from the store, so their
retries are safe too), and every task that sends publishes what it sent in the run's ``notices``
table artifact: who, through which channel, the outcome, the attempts, and whether it was
acknowledged.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from prefect import get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate, GlobalConcurrencyLimitUpdate
from prefect.context import SettingsContext
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound
from prefect.runtime import flow_run
from prefect.settings import PREFECT_API_URL

from calendars.zone import local_label
from notices.delivery import DELIVERED, NoticeOutcome
from notices.escalation import run_escalations
from notices.masking import hide_personal_links
from notices.service import collecting, send_notice
from notices.templates import ref_label
from regflows.profile import Profile
from regflows.store.notices import AckState, ack_states, sent_texts, settled_times

SMS_LIMIT = "regflows-sms"
NOTICES_ARTIFACT = "notices"
#: The column says what it is: whether the notice was acknowledged when the run published it. An
#: artifact cannot change after the run (issue 14, 13); the state now is in `regflows incident
#: status` (acknowledgements) and on the acknowledgement page itself.
ACKED_AT_SEND = "发送时是否已确认"
OUTCOME_ZH = {"delivered": "已送达", "failed": "失败", "unknown": "未知（待人工核实）", "in_flight": "发送中"}


def ensure_sms_limit(per_minute: float) -> None:
    """Create the global rate limit for SMS once per server (a decaying limit: per_minute slots per minute)."""
    _ensure_sms_limit(per_minute, str(PREFECT_API_URL.value()))


@functools.cache
def _ensure_sms_limit(per_minute: float, api_url: str) -> None:
    """Create the limit, or bring an existing one to the profile's rate: a limit left by an earlier
    setting (or created by another process with another profile) would otherwise hold forever."""
    limit = max(1, int(per_minute))
    decay = per_minute / 60.0
    with get_client(sync_client=True) as client:
        try:
            current = client.read_global_concurrency_limit_by_name(SMS_LIMIT)
        except ObjectNotFound:
            try:
                client.create_global_concurrency_limit(
                    GlobalConcurrencyLimitCreate(name=SMS_LIMIT, limit=limit, slot_decay_per_second=decay)
                )
                return
            except ObjectAlreadyExists:  # created meanwhile by another run: update it below
                pass
            current = client.read_global_concurrency_limit_by_name(SMS_LIMIT)
        if current.limit != limit or abs((current.slot_decay_per_second or 0.0) - decay) > 1e-9:
            client.update_global_concurrency_limit(
                SMS_LIMIT, GlobalConcurrencyLimitUpdate(limit=limit, slot_decay_per_second=decay)
            )


def sms_rate_limiter(profile: Profile) -> Callable[[str], None]:
    """A before_send hook: every SMS takes a slot of the global rate limit, on this run's server.

    The hook runs in the delivery engine's pool threads. Prefect's settings live in a context
    variable, which a pool thread does not inherit: there, ``prefect.concurrency.sync.rate_limit``
    would find no API URL under ``temporary_settings`` and start an ephemeral server (or, with
    ephemeral mode off, fail). It also keeps one client per limit name for the whole process,
    bound to whichever server was current when it was first used. So the settings are captured
    here, in the calling thread, and each slot is taken through a client made from them.
    """
    ensure_sms_limit(profile.settings.sms_per_minute)
    captured = SettingsContext.get()
    assert captured is not None  # Prefect always has a global settings context

    def before_send(channel_kind: str) -> None:
        if channel_kind == "sms":
            take_rate_limit_slot(captured, SMS_LIMIT)

    return before_send


def take_rate_limit_slot(settings: SettingsContext, name: str, timeout: float = 600.0) -> None:
    """Wait until one slot of the decaying limit ``name`` is granted (what Prefect's ``rate_limit``
    does), through a client for the server of ``settings``, in any thread."""
    deadline = time.monotonic() + timeout
    # A fresh context object per call: one object cannot be entered by two threads at once.
    with SettingsContext(profile=settings.profile, settings=settings.settings), get_client(sync_client=True) as client:
        while True:
            try:
                client.increment_concurrency_slots(names=[name], slots=1, mode="rate_limit")
                return
            except httpx.HTTPStatusError as exc:
                if exc.response.status_code != httpx.codes.LOCKED or time.monotonic() >= deadline:
                    raise
                time.sleep(float(exc.response.headers.get("Retry-After", "1")))


# -- the run's notices artifact ------------------------------------------------------------

#: flow run id → notice id → its rows: the latest version of a run's artifact lists every notice
#: the run sent so far, and a retried task replaces its notice's rows instead of repeating them.
_run_tables: dict[str, dict[str, list[dict[str, Any]]]] = {}
_run_tables_lock = threading.Lock()


def _acknowledged(state: AckState | None, person_id: str) -> str:
    if state is None or not state.requires_ack:
        return "无需确认"
    at = state.by_person.get(person_id)
    if at is not None:
        return f"是（{at.isoformat(timespec='seconds')}）"
    return f"否（{state.acked_by} 已确认）" if state.acked_by else "否"


def notice_rows(outcome: NoticeOutcome, acks: dict[str, AckState]) -> list[dict[str, Any]]:
    """One row per channel tried: who, channel, outcome, attempts, acknowledged."""
    state = acks.get(outcome.notice_id)
    return [
        {"通知": outcome.notice_id, "收件人": f"{person.recipient.name}（{person.recipient.person_id}）",
         "渠道": f"{c.channel_index + 1} {c.kind}", "地址（已脱敏）": c.target,
         "结果": OUTCOME_ZH.get(c.state, c.state) + ("（此前已送达）" if c.already and c.state == DELIVERED else ""),
         "尝试次数": c.attempts, "错误": c.error or "",
         ACKED_AT_SEND: _acknowledged(state, person.recipient.person_id)}
        for person in outcome.persons for c in person.channels
    ]


def publish_notices(outcomes: list[NoticeOutcome]) -> list[dict[str, Any]]:
    """Add ``outcomes`` to the run's ``notices`` table artifact; returns their rows."""
    if not outcomes:
        return []
    acks = ack_states(o.notice_id for o in outcomes)
    rows = {o.notice_id: notice_rows(o, acks) for o in outcomes}
    with _run_tables_lock:
        table = _run_tables.setdefault(flow_run.get_id() or "", {})
        table.update(rows)
        everything = [row for notice in table.values() for row in notice]
        count = len(table)
    create_table_artifact(everything, key=NOTICES_ARTIFACT,
                          description=f"本次运行发出的通知：{count} 条，{len(everything)} 个渠道投递（收件人、渠道、结果、尝试次数）；"
                                      f"「{ACKED_AT_SEND}」是发送时的状态，此后的确认不会更新本表：当前确认情况请用 "
                                      "regflows incident status 事件编号 查看（acknowledgements），或由收件人打开其确认链接查看")
    return [row for notice in rows.values() for row in notice]


@contextmanager
def notices_published() -> Iterator[list[NoticeOutcome]]:
    """Around domain code that sends notices inside a task: publish whatever it sent, even when
    it then fails (a notice that went out is shown whatever happens next)."""
    with collecting() as sent:
        try:
            yield sent
        finally:
            publish_notices(sent)
            if any(c.target.startswith("outbox://") for o in sent for c in o.deliveries):  # an outbox stands in for any kind
                publish_outbox(sent)


@task(name="send-notice 发送通知", retries=2, retry_delay_seconds=10)
def send_notice_task(profile: Profile, kind: str, context: dict[str, Any], roles: list[str], **options: Any) -> dict[str, Any]:
    """Send through the delivery engine; a retried task re-sends nothing already delivered."""
    logger = get_run_logger()
    with notices_published():
        outcome = send_notice(profile, kind, context, roles, before_send=sms_rate_limiter(profile), **options)
    for person in outcome.unreached:
        logger.error("未能送达 %s（%s）", person.recipient.name, person.recipient.person_id)
    return {"notice_id": outcome.notice_id, "deliveries": notice_rows(outcome, ack_states([outcome.notice_id]))}


#: flow run id → notice id → its outbox rows (as ``_run_tables``, for the ``outbox`` artifact).
_run_outboxes: dict[str, dict[str, list[dict[str, Any]]]] = {}


def outbox_rows(outcomes: list[NoticeOutcome]) -> dict[str, list[dict[str, Any]]]:
    """This run's own outbox messages, by notice: what it delivered to an ``outbox://`` address
    itself (not what an earlier run had delivered), each with its personal links hidden.

    Built from the run's outcomes and the notices as recorded, never from the outbox table: that
    holds the whole institution's messages, with each recipient's acknowledgement link, and a
    link shown on another run's page is a sign-off anyone can make in that person's name
    (issue 14, 2).
    """
    texts = sent_texts(o.notice_id for o in outcomes)
    settled = settled_times(o.notice_id for o in outcomes)
    rows: dict[str, list[dict[str, Any]]] = {}
    for outcome in outcomes:
        text = texts.get(outcome.notice_id)
        for person in outcome.persons:
            for c in person.channels:
                if not c.target.startswith("outbox://") or c.state != DELIVERED or c.already:
                    continue
                at = settled.get((outcome.notice_id, person.recipient.person_id, c.channel_index))
                body = (text.sms if c.kind == "sms" and text.sms else text.body) if text else ""
                rows.setdefault(outcome.notice_id, []).append({
                    "时间": local_label(at) if at else "", "通知": ref_label(outcome.notice_id),
                    "收件人": f"{person.recipient.name}（{person.recipient.person_id}）", "收件地址": c.target,
                    "标题": hide_personal_links(text.subject) if text else "", "正文": hide_personal_links(body)[:500]})
    return rows


def publish_outbox(outcomes: list[NoticeOutcome]) -> None:
    """The embedded default channel, visible in the UI: the messages *this run* put in the local
    outbox (:func:`outbox_rows`), as a table; each recipient reads their own with their link in
    ``regflows notices outbox``."""
    rows = outbox_rows(outcomes)
    if not rows:
        return
    with _run_tables_lock:
        table = _run_outboxes.setdefault(flow_run.get_id() or "", {})
        table.update(rows)
        everything = [row for notice in table.values() for row in notice]
    create_table_artifact(everything, key="outbox",
                          description=f"本次运行发往本地 outbox 的通知：{len(everything)} 条（示范配置的默认渠道）；"
                                      "个人确认、下载与核实链接已隐去，收件人请在自己的通知中打开")


#: What an escalation step did, as the run's log says it (notices/escalation.py ``Action.kind``).
ESCALATION_ACTIONS = {"escalate": "无人确认，已升级通知", "chain_exhausted": "升级链已用尽，已通知替补", "renotify": "已确认未办结，再次提醒"}


@task(name="check-escalation 确认与升级检查", retries=1, retry_delay_seconds=5)
def escalation_task(profile: Profile) -> list[dict[str, Any]]:
    with notices_published():
        actions = run_escalations(profile, before_send=sms_rate_limiter(profile))
    logger = get_run_logger()
    for action in actions:
        who = profile.person(action.person_id).name if action.person_id in profile.person_ids else (action.person_id or "")
        logger.warning("通知 %s：%s %s", ref_label(action.notice_id), ESCALATION_ACTIONS.get(action.kind, action.kind), who)
    return [action.__dict__ for action in actions]
