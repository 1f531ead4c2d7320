"""The regflows endpoint: what a signed link in an SMS, email or push opens, and the routes
procedures mount beside it.

GET shows the notice and a button; only POST acknowledges, so that link previews and mail
scanners, which fetch links on their own, never acknowledge on a person's behalf. Every refusal
(forged, altered, expired, replayed) is counted per client and minute and summarised into the
audit ledger (:mod:`regflows.kit.refusals`); :mod:`notices.guard` wraps every route with the
rate limit, body size limit, origin rule and security headers.

What the page says is the notice kind's registration (:mod:`notices.kinds`): the button, whether
the notice is shown above it (a decision is taken on what it said), whether confirming stops
escalation, and the follow-up to run after a confirmation. This module names no kind and no
procedure: a procedure's own routes (e.g. where a monitoring system declares an incident) are
passed in by the composition root that starts the endpoint (``regflows up``, ``regflows notices
serve-acks``), from regflows/procedures.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import html
import logging
import re
import threading
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from urllib.parse import urlsplit

import uvicorn
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

import notices.templates  # noqa: F401  (registers the generic kinds, which links of this endpoint acknowledge too)
from notices.acks import AckRefused, acknowledge, fingerprint, read_token
from calendars.zone import local_label
from notices.files import ROUTES as FILE_ROUTES
from notices.guard import EndpointGuard
from notices.kinds import NoticeKind, kinds
from notices.templates import ACK_LINK_PLACEHOLDER
from regflows import ledger
from regflows.kit.refusals import RefusalLog, note_refusal
from regflows.kit.uploads import ROUTES as UPLOAD_ROUTES
from regflows.store import db
from regflows.profile import load_profile, profile_path
from regflows.store.models import Acknowledgement, Notice

log = logging.getLogger("regflows.notices")

PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:36em;margin:2em auto;padding:0 1em;line-height:1.6}}
button{{font-size:1.2em;padding:.6em 2em}} .bad{{color:#b00}} .ok{{color:#070}}</style></head>
<body><h1>{title}</h1>{content}</body></html>"""
#: What the page shows of a notice: the record copy as sent, masked; the line that held the
#: recipients' own links is left out (the record copy has a placeholder there, not a link).
NOTICE = '<pre style="white-space:pre-wrap">{body}</pre>'
SMALL = '<p style="color:#666;font-size:.85em">{text}</p>'

#: How a notice of a kind this process has not registered is shown: as a plain receipt (the
#: defaults of a kind). Never a decision: without the registration the page cannot know it is one.
PLAIN = NoticeKind("unregistered", BaseModel, Path())


def kind_of(name: str) -> NoticeKind:
    """The registration of a stored notice's kind, or :data:`PLAIN` (logged: a composition root
    that starts the endpoint without a procedure's kinds is a mistake worth seeing)."""
    found = kinds().get(name)
    if found is None:
        log.warning("确认端点未注册通知类型 %r，按普通确认处理", name)
        return PLAIN
    return found


def run_after_ack(notice_kind: NoticeKind, notice_id: str) -> str:
    """Run the kind's follow-up; a failure is logged and ledgered and told to the person, never hidden."""
    if notice_kind.after_ack is None:
        return ""
    try:
        return str(notice_kind.after_ack(notice_id) or "")
    except Exception as exc:
        log.exception("确认后的后续处理失败：%s", notice_id)
        ledger.append("ack.follow_up_failed", notice_id, {"kind": notice_kind.name, "error": f"{type(exc).__name__}: {exc}"[:500]})
        # The details (paths, SQL) stay in the log and the ledger: whoever holds a link sees one line.
        return "您的确认已记录，但后续处理未完成，将由定时任务重试；如长时间无进展，请联系管理员。"


#: A signed download link of notices/files.py inside a notice's (escaped) text.
FILE_LINK = re.compile(r"https?://[!-~]+?/files/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


def with_file_links(escaped: str) -> str:
    """The notice's text with each signed file link made a link people can click: the document
    they are asked to decide on opens from the page itself (issue 14, 4)."""
    return FILE_LINK.sub(lambda m: f'<a href="{m.group(0)}" download>下载文件</a>', escaped)


def _page(title: str, content: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(PAGE.format(title=html.escape(title), content=content), status_code=status)


def _stored(notice_id: str) -> tuple[str, str, str]:
    """The stored notice's title, kind and body (the record copy, as sent, masked)."""
    with db.session() as s:
        notice = s.get(Notice, notice_id)
        if notice is None:
            return notice_id, "", ""
        return notice.subject, notice.kind, notice.body or ""


def _used(token_id: str) -> Acknowledgement | None:
    """The confirmation this link already gave, if any (each link confirms once)."""
    with db.session() as s:
        used = s.query(Acknowledgement).filter_by(token_id=token_id).one_or_none()
        if used is not None:
            s.expunge(used)
        return used


def _acked_by_anyone(notice_id: str) -> tuple[str, dt.datetime] | None:
    """Who confirmed the notice first, and when (through any link, or the CLI)."""
    with db.session() as s:
        notice = s.get(Notice, notice_id)
        if notice is None or notice.acked_at is None or not notice.acked_by:
            return None
        return notice.acked_by, notice.acked_at


_PROFILE_CACHE: dict[tuple[str, int], dict[str, str]] = {}


def person_name(person_id: str) -> str:
    """The person's name in the profile in use (a page is read by people, who know names, not
    ids); the id itself when the profile cannot be read or does not know the person. The names
    are read once per version of the profile file: a large profile takes seconds to load."""
    path = profile_path()
    try:
        key = (str(path), path.stat().st_mtime_ns)
        if key not in _PROFILE_CACHE:
            _PROFILE_CACHE.clear()
            _PROFILE_CACHE[key] = {p.id: p.name for p in load_profile(path).people}
        return _PROFILE_CACHE[key].get(person_id, person_id)
    except Exception:  # the page still answers; the id is what the ledger holds
        log.warning("确认页面未能从机构配置读取人员姓名：%s", person_id, exc_info=True)
        return person_id


def _when(at: dt.datetime) -> str:
    return local_label(at if at.tzinfo else at.replace(tzinfo=dt.timezone.utc))  # the store's times are UTC


def _notice_shown(title: str, body: str, notice_id: str) -> str:
    """What the notice is about, as sent: its title and its text (deadlines included), never only
    an internal id (issue 14, 7); the id stays, small, for whoever asks for help."""
    lines = [line for line in body.splitlines() if ACK_LINK_PLACEHOLDER not in line]
    text = "\n".join(lines).strip()
    shown = NOTICE.format(body=with_file_links(html.escape(text))) if text else ""
    return f"<p>通知：{html.escape(title)}</p>{shown}"


def _id_line(notice_id: str) -> str:
    return SMALL.format(text=f"通知编号：{html.escape(notice_id)}")


def _already(title: str, body: str, notice_id: str, used: Acknowledgement, status: int = 200) -> HTMLResponse:
    """A link used before: who confirmed and when, and no second button (reopened from the
    history, or pressed again: not an error the person has to decode)."""
    said = (f'<p class="ok">此链接已由 {html.escape(person_name(used.person_id))} 于 {_when(used.at)} 确认，'
            "无需再次操作。</p>")
    return _page("已确认", said + _notice_shown(title, body, notice_id) + _id_line(notice_id), status)


def _superseded(notice_kind: NoticeKind, notice_id: str) -> str | None:
    """The newer notice that replaced this one (its kind says: a 【更正】 alert), or None."""
    if notice_kind.superseded_by is None:
        return None
    return notice_kind.superseded_by(notice_id)


def _replaced(title: str, newer: str, status: int = 410) -> HTMLResponse:
    """A link of a notice replaced by a newer one: the newer notice as sent, no button (review 14, 14:
    an old 【更正】II级 link stayed acknowledgeable with stale content after the incident was lowered)."""
    new_title, _, new_body = _stored(newer)
    said = (f"<p class=\"bad\">通知「{html.escape(title)}」已被更正后的通知取代，内容已过时，无需也不能再确认；"
            "请以下面更正后的通知为准（您会收到其本人确认链接）。</p>")
    return _page("通知已更正", said + _notice_shown(new_title, new_body, newer) + _id_line(newer), status)


async def show(request: Request) -> Response:
    token = request.path_params["token"]
    try:
        claim = read_token(token)
    except AckRefused as refused:
        note_refusal(request, "ack.refused", f"{refused.reason} (link-view)", fingerprint(token))
        return _page("链接无效", f'<p class="bad">{html.escape(str(refused))}</p>', 400)
    title, kind_name, body = _stored(claim.notice_id)
    notice_kind = kind_of(kind_name)
    used = _used(claim.token_id)
    if used is not None:  # no second button: the page says what was recorded, by whom and when
        return _already(title, body, claim.notice_id, used)
    newer = await run_in_threadpool(_superseded, notice_kind, claim.notice_id)
    if newer is not None:
        return _replaced(title, newer)
    # What the notice is about and its deadlines: the record copy, as sent, masked (a decision is
    # taken on what it said; a receipt confirms what was received).
    earlier = _acked_by_anyone(claim.notice_id) if notice_kind.stops_escalation else None
    note = (f"<p>该通知已由 {html.escape(person_name(earlier[0]))} 于 {_when(earlier[1])} 确认；"
            "您仍可确认本人已收到。</p>") if earlier else ""
    form = (
        f"{_notice_shown(title, body, claim.notice_id)}{note}"
        f'<form method="post"><button type="submit">{html.escape(notice_kind.button)}</button></form>'
        f"{_id_line(claim.notice_id)}"
    )
    return _page(title if notice_kind.shows_body else "确认收到通知", form)


async def confirm(request: Request) -> Response:
    token = request.path_params["token"]
    try:
        early = read_token(token)
    except AckRefused:
        early = None  # refused below, by acknowledge, the one place a refusal is recorded
    if early is not None and _used(early.token_id) is None:
        title, kind_name, _ = _stored(early.notice_id)
        newer = await run_in_threadpool(_superseded, kind_of(kind_name), early.notice_id)
        if newer is not None:
            note_refusal(request, "ack.refused", "superseded", fingerprint(token))
            return _replaced(title, newer)
    try:
        claim = acknowledge(token, via="link",
                            on_refused=lambda r: note_refusal(request, "ack.refused", r.reason, fingerprint(token)))
    except AckRefused as refused:
        if refused.reason == "replayed":  # pressed again (a page from the history): say what was recorded
            used = _used(token.partition(".")[0])
            if used is not None:
                title, _, body = _stored(used.notice_id)
                return _already(title, body, used.notice_id, used, 409)
        return _page("未能确认", f'<p class="bad">{html.escape(str(refused))}</p>', 409 if refused.reason == "replayed" else 400)
    title, kind_name, _ = _stored(claim.notice_id)
    notice_kind = kind_of(kind_name)
    follow_up = await run_in_threadpool(run_after_ack, notice_kind, claim.notice_id)
    extra = f"<p>{with_file_links(html.escape(follow_up))}</p>" if follow_up else ""
    done = "，升级提醒停止" if notice_kind.stops_escalation else ""
    used = _used(claim.token_id)
    when = f" {_when(used.at)}" if used is not None else ""
    return _page("已确认", f'<p class="ok">已记录 {html.escape(person_name(claim.person_id))}{when} 对通知「{html.escape(title)}」'
                          f"的确认{done}。</p>{extra}{_id_line(claim.notice_id)}")


async def health(request: Request) -> Response:
    return PlainTextResponse("ok")


#: What every endpoint serves, whichever procedures run: the links, a health check, the
#: evidence uploads a form names (regflows/kit/uploads.py) and the signed download links of
#: recorded documents (notices/files.py).
CORE_ROUTES: tuple[BaseRoute, ...] = (
    Route("/ack/{token}", show, methods=["GET"]),
    Route("/ack/{token}", confirm, methods=["POST"]),
    Route("/health", health),
    *UPLOAD_ROUTES,
    *FILE_ROUTES,
)


#: How often the refusal counts of ended minutes are written to the ledger (and at shutdown).
FLUSH_EVERY_SECONDS = 10.0


async def _flush(refusals: RefusalLog, force: bool = False) -> None:
    try:
        await run_in_threadpool(refusals.flush, force)
    except Exception:  # the counts stay in memory for the next try; the failure is in the log
        log.exception("拒绝请求的汇总未能写入审计账本，将重试")


def create_app(routes: Sequence[BaseRoute] = (), public_base_url: str | None = None,
               refusals: RefusalLog | None = None) -> Starlette:
    """The endpoint: :data:`CORE_ROUTES` and the procedures' ``routes`` (regflows/procedures.py),
    behind :class:`notices.guard.EndpointGuard`. ``public_base_url`` (the profile's) is the
    origin a browser's POST must come from."""
    counts = refusals or RefusalLog()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async def every_few_seconds() -> None:
            while True:
                await asyncio.sleep(FLUSH_EVERY_SECONDS)
                await _flush(counts)

        task = asyncio.create_task(every_few_seconds())
        try:
            yield
        finally:
            task.cancel()
            await _flush(counts, force=True)

    app = Starlette(routes=[*CORE_ROUTES, *routes], lifespan=lifespan,
                    middleware=[Middleware(EndpointGuard, refusals=counts, public_base_url=public_base_url)])
    app.state.refusals = counts
    return app


def bind_address(public_base_url: str) -> tuple[str, int]:
    parts = urlsplit(str(public_base_url))
    return parts.hostname or "127.0.0.1", parts.port or (443 if parts.scheme == "https" else 80)


def serve_in_thread(host: str, port: int, routes: Sequence[BaseRoute] = (), public_base_url: str | None = None) -> uvicorn.Server:
    """Run the endpoint beside `regflows up`; returns the uvicorn server (set should_exit to stop)."""
    server = uvicorn.Server(uvicorn.Config(create_app(routes, public_base_url), host=host, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="ack-endpoint", daemon=True)
    thread.start()
    return server
