"""Fan-out with evidence: send one notice to every recipient, prove each delivery, never twice.

How a notice travels:

- All recipients at once (a thread pool). An *urgent* notice (an incident, a deadline about to
  be missed) goes to all of a person's channels at once; a *routine* one goes to the first
  channel and falls down the list only when it fails.
- Each (notice, person, channel) has an idempotency key, *claimed* in the store before sending
  and *settled* right after. A retried task finds the key: delivered → not sent again; failed →
  tried again; still ``sending`` from a process that died → marked ``unknown`` for a person to
  settle, never silently retried (the one window no system closes: the server accepted, we died
  before writing it down). The claims and settlements of all workers are group-committed: one
  transaction for all that wait (``_Writer``), each worker going on once its own is committed.
- Each try goes through a fresh Apprise object (one object throttles repeated sends to the same
  service by ~5 s), in this layer's pool of ``SENDERS`` threads rather than Apprise's own 6, and
  is judged by Apprise 2's per-service result. Failures are retried with
  exponential backoff; every try is a ``delivery_attempt`` row and an audit-ledger entry, with the
  target masked and every resolved secret redacted.
- A person not reached through any channel is raised to their role's deputy.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import re
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from notices.masking import mask_url, redact
from notices.routing import Recipient
from notices.secrets import SecretMissing, resolve_url
from regflows import config, ledger
from regflows.profile import Channel
from regflows.store import db
from regflows.store.models import Delivery, DeliveryAttempt, utcnow

log = logging.getLogger("regflows.notices")


#: Every secret value this process resolved for a channel URL, redacted from library log lines.
_known_secrets: set[str] = set()


class _LibraryLogGuard(logging.Filter):
    """Apprise and urllib3 log URLs and tokens (DEBUG lines print full webhook URLs; a bad token
    is echoed in a WARNING): mask every URL and redact every resolved secret they log."""

    URL = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]+")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = redact(self.URL.sub(lambda m: mask_url(m.group(0)), message), list(_known_secrets))
        if masked != message:
            record.msg, record.args = masked, None
        return True


for _name in ("apprise", "urllib3.connectionpool"):
    _logger = logging.getLogger(_name)
    if not any(isinstance(f, _LibraryLogGuard) for f in _logger.filters):
        _logger.addFilter(_LibraryLogGuard())
logging.getLogger("apprise").setLevel(logging.INFO)


DELIVERED, FAILED, UNKNOWN, SENDING, IN_FLIGHT = "delivered", "failed", "unknown", "sending", "in_flight"
#: Who holds a claim: host and process. A claim of a dead process on this host is stale at once.
PROCESS_TAG = f"{socket.gethostname()}:{os.getpid()}"
_in_flight: set[str] = set()
_in_flight_lock = threading.Lock()


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3  # tries per channel before falling back
    backoff_seconds: float = 1.0  # doubles after each failed try
    timeout_seconds: float = 20.0  # cap on one Apprise call
    claim_lease_seconds: float = 300.0  # a claim older than this is treated as abandoned
    #: Waits between tries to write down an outcome the store refused (its database restarting):
    #: the outcome is known here, and lost only if the store stays away longer (~75 s in all).
    settle_waits: tuple[float, ...] = (1, 2, 4, 8, 15, 15, 15, 15)


@dataclass(frozen=True)
class Message:
    title: str
    body: str


@dataclass
class ChannelOutcome:
    person_id: str
    channel_index: int
    kind: str
    target: str  # masked
    state: str  # delivered | failed | unknown | in_flight
    attempts: int = 0
    error: str | None = None
    already: bool = False  # settled by an earlier run: nothing was sent this time


@dataclass
class PersonOutcome:
    recipient: Recipient
    channels: list[ChannelOutcome] = field(default_factory=list)

    @property
    def delivered(self) -> bool:
        return any(c.state == DELIVERED for c in self.channels)

    @property
    def held_elsewhere(self) -> bool:
        """A channel of this person is being sent by another worker that claimed it a moment ago
        (two processes sending the same notice at once): that claim's holder settles it, falls
        down the list and raises to the deputy if it fails; a holder that dies leaves a claim the
        next send marks ``unknown`` and raises. Not unreached here, or the deputy would be told
        of a delivery that is on its way."""
        return not self.delivered and any(c.state == IN_FLIGHT for c in self.channels)


@dataclass
class NoticeOutcome:
    notice_id: str
    persons: list[PersonOutcome]

    @property
    def deliveries(self) -> list[ChannelOutcome]:
        return [c for p in self.persons for c in p.channels]

    @property
    def unreached(self) -> list[PersonOutcome]:
        return [p for p in self.persons if not p.delivered and not p.held_elsewhere]


#: Sends one message through one resolved URL; returns (delivered, reason if not).
Transport = Callable[[str, Message, float], tuple[bool, str | None]]


#: How many Apprise calls this process runs at once (see ``apprise_transport``).
SENDERS = 64
_senders: dict[int, ThreadPoolExecutor] = {}
_senders_lock = threading.Lock()


def _sender_pool() -> ThreadPoolExecutor:
    """The process-wide pool the Apprise calls run in. Process-wide, as Apprise's own: a send
    that hangs past its cap keeps its thread until its socket times out, and never leaks one
    more thread per call. One per process id: a forked child has none of its parent's threads."""
    with _senders_lock:
        pid = os.getpid()
        if pid not in _senders:
            _senders[pid] = ThreadPoolExecutor(max_workers=SENDERS, thread_name_prefix="notice-send")
        return _senders[pid]


def _apprise_send(url: str, message: Message) -> tuple[bool, str | None]:
    import apprise

    from notices.plugins import failure_reason, install_plugins

    install_plugins()
    # No Apprise deadline (service_timeout=0, timeout=0): any deadline makes Apprise run the call
    # in its process-wide pool of min(32, cores + 4) threads (6 on 2 cores), which bounded a
    # fan-out to 6 sends at once; the cap is kept by ``apprise_transport`` instead.
    sender = apprise.Apprise(asset=apprise.AppriseAsset(service_timeout=0))
    if not sender.add(url):
        return False, "Apprise 无法识别该地址"
    entries = list(sender.notify(body=message.body, title=message.title))
    if not entries:
        return False, "Apprise 未执行任何发送"
    reasons = [reason for entry in entries if (reason := failure_reason(entry)) is not None]
    if not reasons:
        return True, None
    return False, "；".join(reasons)


def apprise_transport(url: str, message: Message, timeout: float) -> tuple[bool, str | None]:
    """One Apprise call through a fresh object, judged by its per-service result, capped at
    ``timeout`` seconds (queueing for a sender included)."""
    # lazy: Apprise and our plugins cost ~0.3 s (measured), paid otherwise by every process that
    # loads the notices layer without sending (`regflows credit-stats status`, `notices settle`).
    future = _sender_pool().submit(_apprise_send, url, message)
    try:
        return future.result(timeout=timeout if timeout > 0 else None)
    except FutureTimeout:
        if future.cancel():
            return False, f"等待发送超过 {timeout:g} 秒，未发出"
        return False, f"发送超过 {timeout:g} 秒未得到答复（TIMEOUT）"


def idempotency_key(notice_id: str, person_id: str, channel_index: int, channel: Channel) -> str:
    raw = f"{notice_id}\x1f{person_id}\x1f{channel_index}\x1f{channel.url}"
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _pid_alive(tag: str) -> bool:
    host, _, pid = tag.rpartition(":")
    if host != socket.gethostname():
        return True  # cannot tell: rely on the lease
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, ValueError):
        return False
    except PermissionError:
        return True
    return True


def _abandoned(delivery: Delivery, key: str, policy: RetryPolicy, now: dt.datetime) -> bool:
    if delivery.claimed_by == PROCESS_TAG:
        with _in_flight_lock:
            return key not in _in_flight
    if delivery.claimed_by and not _pid_alive(delivery.claimed_by):
        return True
    claimed = delivery.claimed_at or delivery.created_at
    return (now - claimed).total_seconds() > policy.claim_lease_seconds


@dataclass(frozen=True)
class Claim:
    state: str  # "go" to send, or delivered / unknown / in_flight
    delivery_id: int
    attempts: int
    error: str | None = None



class _Writer:
    """Group commit of the engines' store work in this process, per store: the workers queue
    their claims, settlements and reads, one thread runs all that are waiting in one
    transaction, and each worker goes on only once its part is committed (a claim before its
    send, a settlement and its ledger entry before the outcome is reported). A batch that fails
    as a whole (two processes claiming one key: a unique-key or lock conflict) is rolled back
    and its parts run again one transaction each, so one part's conflict is its own error only.
    SQLite serialises writers: one transaction per batch instead of one per write is the gain."""

    MAX_BATCH = 64
    IDLE_SECONDS = 2.0

    def __init__(self, url: str | None) -> None:
        self.url = url
        self._pending: list[tuple[tuple, Callable[[Session], Any], Future]] = []
        self._cond = threading.Condition()
        self._running = False

    def run(self, order: tuple, op: Callable[[Session], Any]) -> Any:
        future: Future = Future()
        with self._cond:
            self._pending.append((order, op, future))
            if self._running:
                self._cond.notify()
            else:
                self._running = True
                threading.Thread(target=self._loop, name="notice-store-writer", daemon=True).start()
        return future.result()

    def _loop(self) -> None:
        while True:
            with self._cond:
                if not self._pending:
                    self._cond.wait(timeout=self.IDLE_SECONDS)
                if not self._pending:
                    self._running = False
                    return
                batch, self._pending = self._pending[:self.MAX_BATCH], self._pending[self.MAX_BATCH:]
            # One order for every process (reads, claims by key, settlements by row): two
            # batches on PostgreSQL take their row locks in the same order.
            self._write(sorted(batch, key=lambda item: item[0]))

    def _write(self, batch: list[tuple[tuple, Callable[[Session], Any], Future]]) -> None:
        if len(batch) > 1:
            try:
                with db.session(self.url) as s:
                    results = [op(s) for _, op, _ in batch]
            except Exception:  # noqa: BLE001 - each part again on its own, below
                pass
            else:
                for (_, _, future), result in zip(batch, results):
                    future.set_result(result)
                return
        for _, op, future in batch:
            try:
                with db.session(self.url) as s:
                    result = op(s)
            except BaseException as exc:  # noqa: BLE001 - handed to the worker that asked
                future.set_exception(exc)
            else:
                future.set_result(result)


_writers: dict[tuple[int, str], _Writer] = {}
_writers_lock = threading.Lock()


def _writer(url: str | None) -> _Writer:
    resolved = url or config.database_url()
    with _writers_lock:
        key = (os.getpid(), resolved)
        if key not in _writers:
            _writers[key] = _Writer(resolved)
        return _writers[key]


class DeliveryEngine:
    """Sends notices with claims, retries, fallback and evidence. One per send call."""

    def __init__(
        self,
        url: str | None = None,
        policy: RetryPolicy | None = None,
        transport: Transport = apprise_transport,
        before_send: Callable[[str], None] | None = None,
        max_workers: int = 32,
    ) -> None:
        self.url = url
        self.policy = policy or RetryPolicy()
        self.transport = transport
        self.before_send = before_send
        self.max_workers = max_workers

    # -- claims ------------------------------------------------------------------------------
    def _claim(self, notice_id: str, recipient: Recipient, index: int, channel: Channel, key: str, target: str) -> Claim:
        def claim(s: Session) -> Claim:
            now = utcnow()
            q = select(Delivery).where(Delivery.idempotency_key == key).execution_options(populate_existing=True)
            if s.bind.dialect.name == "postgresql":
                q = q.with_for_update()
            row = s.execute(q).scalar_one_or_none()
            if row is None:
                row = Delivery(
                    notice_id=notice_id, person_id=recipient.person_id, channel_index=index, channel_kind=channel.kind,
                    target_masked=target, idempotency_key=key, state=SENDING, attempts=0,
                    claimed_by=PROCESS_TAG, claimed_at=now,
                )
                s.add(row)
                s.flush()
                return Claim("go", row.id, 0)
            if row.state == DELIVERED:
                return Claim(DELIVERED, row.id, row.attempts, row.last_error)
            if row.state == UNKNOWN:
                return Claim(UNKNOWN, row.id, row.attempts, row.last_error)
            if row.state == SENDING:
                if not _abandoned(row, key, self.policy, now):
                    return Claim(IN_FLIGHT, row.id, row.attempts)
                reason = "上次发送在提交服务器与记录结果之间中断，是否送达未知：请人工核实后处理"
                row.state, row.last_error, row.settled_at = UNKNOWN, reason, now
                s.add(DeliveryAttempt(delivery_id=row.id, at=now, outcome=UNKNOWN, error=reason))
                ledger.append_in(s, "notice.delivery", notice_id, self._evidence(recipient, index, channel, target, UNKNOWN, reason, row.attempts))
                return Claim(UNKNOWN, row.id, row.attempts, reason)
            row.state, row.claimed_by, row.claimed_at = SENDING, PROCESS_TAG, now  # failed → try again
            s.flush()
            return Claim("go", row.id, row.attempts)

        try:
            result: Claim = _writer(self.url).run((1, key), claim)
            return result
        except IntegrityError:
            return Claim(IN_FLIGHT, -1, 0)  # another worker claimed the same key a moment ago

    def _settle(self, claim_id: int, notice_id: str, recipient: Recipient, index: int, channel: Channel, target: str,
                state: str, error: str | None, elapsed_ms: int) -> int:
        """Write down the outcome of a send. The store may be away at that moment (PostgreSQL
        restarting: the load-and-faults run left ten delivered notices ``sending``, for a
        person to settle): the write is tried again while ``settle_waits`` last. A try whose
        commit went through unanswered is not written twice: the row then no longer says
        ``sending``."""
        retrying = False

        def settle(s: Session) -> int:
            now = utcnow()
            row = s.get(Delivery, claim_id, populate_existing=True)
            assert row is not None  # our own claim, committed before the send
            if retrying and row.state == state and row.state != SENDING:
                return row.attempts  # an earlier try was committed after all
            row.attempts += 1
            row.state, row.last_error = state, error
            if state == DELIVERED:
                row.settled_at = now
            s.add(DeliveryAttempt(delivery_id=row.id, at=now, outcome=state, error=error, elapsed_ms=elapsed_ms))
            ledger.append_in(s, "notice.delivery", notice_id, self._evidence(recipient, index, channel, target, state, error, row.attempts))
            return row.attempts

        waits = list(self.policy.settle_waits)
        while True:
            try:
                attempts: int = _writer(self.url).run((2, claim_id), settle)
                return attempts
            except IntegrityError:
                raise
            except DBAPIError as exc:  # the database went away (connection refused or dropped)
                if not waits:
                    raise
                wait = waits.pop(0)
                log.warning("通知 %s 发往 %s 的结果（%s）暂未能记录（%s），%g 秒后重试", notice_id, recipient.person_id, state,
                            type(exc.orig).__name__ if exc.orig is not None else type(exc).__name__, wait)
                retrying = True
                time.sleep(wait)

    @staticmethod
    def _evidence(recipient: Recipient, index: int, channel: Channel, target: str, state: str, error: str | None, attempt: int) -> dict:
        return {"person": recipient.person_id, "channel": index, "kind": channel.kind, "target": target,
                "outcome": state, "error": error, "attempt": attempt}

    def _settled_state(self, key: str) -> tuple[str, int, str | None] | None:
        """A delivered or unknown key needs no rate-limit slot: answer it without claiming."""
        def look(s: Session) -> tuple[str, int, str | None] | None:
            row = s.execute(select(Delivery).where(Delivery.idempotency_key == key)
                            .execution_options(populate_existing=True)).scalar_one_or_none()
            if row is not None and row.state in (DELIVERED, UNKNOWN):
                return row.state, row.attempts, row.last_error
            return None

        settled: tuple[str, int, str | None] | None = _writer(self.url).run((0, key), look)
        return settled

    # -- one channel -------------------------------------------------------------------------
    def deliver(self, notice_id: str, recipient: Recipient, index: int, message: Message) -> ChannelOutcome:
        """Claim, send with retries and backoff, settle; never send twice to the same channel."""
        channel = recipient.channels[index]
        target = mask_url(channel.url)
        key = idempotency_key(notice_id, recipient.person_id, index, channel)
        outcome = ChannelOutcome(recipient.person_id, index, channel.kind, target, FAILED)
        try:
            resolved = resolve_url(channel.url)
        except SecretMissing as exc:
            claim = self._claim(notice_id, recipient, index, channel, key, target)
            if claim.state == "go":
                outcome.attempts = self._settle(claim.delivery_id, notice_id, recipient, index, channel, target, FAILED, str(exc), 0)
            outcome.error = str(exc)
            log.error("通知 %s 无法发往 %s 的渠道 %s：%s", notice_id, recipient.person_id, target, exc)
            return outcome
        secrets = resolved.secrets
        _known_secrets.update(secrets)
        delay = self.policy.backoff_seconds
        for attempt in range(self.policy.attempts):
            settled = self._settled_state(key)
            if settled is not None:
                outcome.state, outcome.attempts, outcome.error = settled
                outcome.already = outcome.state == DELIVERED
                return outcome
            # Waiting for the SMS rate limit happens *before* the claim: a process killed while it
            # waits leaves no claim behind, and the retry simply sends.
            if self.before_send:
                self.before_send(channel.kind)
            claim = self._claim(notice_id, recipient, index, channel, key, target)
            if claim.state != "go":
                outcome.state, outcome.attempts, outcome.error = claim.state, claim.attempts, claim.error
                outcome.already = claim.state == DELIVERED
                return outcome
            with _in_flight_lock:
                _in_flight.add(key)
            try:
                started = time.monotonic()
                try:
                    ok, reason = self.transport(resolved.url, message, self.policy.timeout_seconds)
                except Exception as exc:  # a plugin bug is a failed delivery, not a lost notice
                    ok, reason = False, f"{type(exc).__name__}: {exc}"
                elapsed = int((time.monotonic() - started) * 1000)
                error = None if ok else redact(reason or "未知错误", secrets)
                outcome.attempts = self._settle(claim.delivery_id, notice_id, recipient, index, channel, target,
                                                DELIVERED if ok else FAILED, error, elapsed)
            finally:
                with _in_flight_lock:
                    _in_flight.discard(key)
            if ok:
                outcome.state, outcome.error = DELIVERED, None
                return outcome
            outcome.error = error
            log.warning("通知 %s 发往 %s 渠道 %s 第 %d 次失败：%s", notice_id, recipient.person_id, target, attempt + 1, error)
            if attempt + 1 < self.policy.attempts:
                time.sleep(delay)
                delay *= 2
        return outcome

    # -- one notice to many ------------------------------------------------------------------
    def fan_out(self, notice_id: str, recipients: list[Recipient], message_for: Callable[[Recipient, Channel], Message],
                urgent: bool) -> NoticeOutcome:
        persons = {r.person_id: PersonOutcome(r) for r in recipients}
        lock = threading.Lock()

        def record(outcome: ChannelOutcome) -> None:
            with lock:
                persons[outcome.person_id].channels.append(outcome)

        def one(recipient: Recipient, index: int) -> None:
            record(self.deliver(notice_id, recipient, index, message_for(recipient, recipient.channels[index])))

        def down_the_list(recipient: Recipient) -> None:
            for index in range(len(recipient.channels)):
                outcome = self.deliver(notice_id, recipient, index, message_for(recipient, recipient.channels[index]))
                record(outcome)
                if outcome.state in (DELIVERED, IN_FLIGHT):
                    return

        with ThreadPoolExecutor(max_workers=max(1, self.max_workers), thread_name_prefix="notice") as pool:
            if urgent:
                futures = [pool.submit(one, r, i) for r in recipients for i in range(len(r.channels))]
            else:
                futures = [pool.submit(down_the_list, r) for r in recipients]
            for future in futures:
                future.result()
        for p in persons.values():
            p.channels.sort(key=lambda c: c.channel_index)
        return NoticeOutcome(notice_id, [persons[r.person_id] for r in recipients])


class NotUnknown(LookupError):
    """The delivery does not exist or is not waiting for a person's verdict."""


def settle_unknown(delivery_id: int, outcome: str, by: str, url: str | None = None) -> None:
    """Record a person's verdict on a delivery whose outcome is ``unknown`` (the one window the
    engine cannot close itself), with its ledger entry in the same transaction."""
    with db.session(url) as s:
        row = s.get(Delivery, delivery_id)
        if row is None or row.state != UNKNOWN:
            raise NotUnknown(f"投递 {delivery_id} 不存在或状态不是 unknown")
        row.state, row.settled_at, row.settled_by = outcome, utcnow(), by
        ledger.append_in(s, "notice.settled", row.notice_id, {"delivery": delivery_id, "outcome": outcome, "by": by})
