"""The owner's page per lead: ``GET/POST /inspection/<token>`` on the regflows endpoint.

The other way in to the verification worklist (issue 15, item 3), beside the spreadsheet
(:mod:`regflows.inspection.worklist`): each lead's owner gets a personal signed link (in the
reminder, or from the run) to a page that shows the lead and, for each link of PBOC-102 三（三）
(授权、审核、查询、使用、存储), the answer that counts and a form to give one (结论 + 证据说明).
A phone is enough: the page is the acknowledgement pages' plain, narrow layout.

The token is signed with the acknowledgement links' key and signature (:func:`notices.acks.sign`,
one mechanism for every link regflows issues), with a purpose of its own (``inspect``) so no
other kind of link can stand for it. It is stateless, as the download links are (nothing to
store per owner and lead): base64url of ``inspect␟<run>␟<lead>␟<person>␟<expiry>`` and the
signature. A forged, altered or expired link is refused; so is a genuine link of someone who is
not (or no longer) the lead's owner: only the owner answers for the lead, and the answer is
recorded as theirs (``answered_by``), source ``page``. The token is used as often as the owner
likes until it expires: answers are appended, the latest counts (records.py), and an answer equal
to the one that counts records nothing. GET only shows; only POST records, so link previews and
mail scanners never answer on anyone's behalf. Every refusal is counted like the endpoint's
others (:mod:`regflows.kit.refusals`), every answer is a ledger entry.

Mounted by the procedure's ``Procedure.routes`` (regflows/procedures.py), e.g.
``routes=lambda: __import__("regflows.inspection.pages", fromlist=["ROUTES"]).ROUTES``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hmac
import html
from dataclasses import dataclass
from urllib.parse import parse_qs

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from calendars.zone import SHANGHAI
from notices.ack_server import person_name
from notices.acks import fingerprint, sign
from notices.masking import mask_pii
from regflows import ledger
from regflows.inspection import records
from regflows.inspection.models import LEAD_KINDS, LINKS, OUTCOMES, Answer, InspectionInputError, Lead
from regflows.inspection.worklist import NEEDS_EVIDENCE
from regflows.kit.refusals import note_refusal
from regflows.store.models import utcnow

__all__ = ["ROUTES", "PageClaim", "PageRefused", "page_token", "page_url", "read_page_token", "record_page_answer"]

PURPOSE = "inspect"
SEP = "\x1f"
#: The longest evidence text a page takes (a note, not a document: documents go as files).
MAX_EVIDENCE = 2000
#: The longest form body read (the endpoint's guard limits bodies too; this is the page's own).
MAX_BODY = 64 * 1024  # 2,000 Chinese characters are 18 KiB url-encoded

PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:36em;margin:2em auto;padding:0 1em;line-height:1.6}}
button{{font-size:1.1em;padding:.5em 1.5em}} textarea{{width:100%;box-sizing:border-box;font-size:1em}}
fieldset{{margin:1em 0;border:1px solid #ccc;border-radius:6px}} label{{margin-right:1em;white-space:nowrap}}
dt{{color:#666}} dd{{margin:0 0 .5em 0}} .bad{{color:#b00}} .ok{{color:#070}} .small{{color:#666;font-size:.85em}}</style></head>
<body><h1>{title}</h1>{content}</body></html>"""


class PageRefused(ValueError):
    """Why a page link or an answer was refused (``reason`` for the ledger, the message for the person)."""

    def __init__(self, reason: str, status: int, message: str) -> None:
        self.reason, self.status = reason, status
        super().__init__(message)


@dataclass(frozen=True)
class PageClaim:
    run_id: str
    lead_id: str
    person_id: str
    expires: dt.datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def page_token(run_id: str, lead_id: str, person_id: str, validity: dt.timedelta, now: dt.datetime | None = None) -> str:
    """A token for ``person_id``'s page of ``lead_id`` in ``run_id``, until now + validity."""
    expires = int(((now or utcnow()) + validity).timestamp())
    parts = (PURPOSE, run_id, lead_id, person_id, str(expires))
    if any(SEP in p for p in parts):
        raise ValueError("页面链接的组成部分不能含分隔符")
    return f"{_b64(SEP.join(parts).encode('utf-8'))}.{sign(*parts)}"


def page_url(base_url: str, run_id: str, lead_id: str, person_id: str, validity: dt.timedelta,
             now: dt.datetime | None = None) -> str:
    """The owner's link to the lead's page (``settings.inspection_page_link_days`` is the usual validity)."""
    return f"{str(base_url).rstrip('/')}/inspection/{page_token(run_id, lead_id, person_id, validity, now)}"


def read_page_token(token: str, now: dt.datetime | None = None) -> PageClaim:
    """The claim of a genuine, unexpired token; :class:`PageRefused` otherwise."""
    payload, dot, signature = token.partition(".")
    try:
        parts = _unb64(payload).decode("utf-8").split(SEP) if dot and payload and signature else []
    except (binascii.Error, ValueError):
        parts = []
    if len(parts) != 5 or parts[0] != PURPOSE or not parts[4].isdigit() or not all(parts[1:4]):
        raise PageRefused("forged", 400, "核实链接格式无效")
    if not hmac.compare_digest(signature, sign(*parts)):
        raise PageRefused("altered", 400, "核实链接签名不符（伪造或被篡改）")
    expires = dt.datetime.fromtimestamp(int(parts[4]), tz=dt.UTC)
    if (now or utcnow()) >= expires:
        when = expires.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
        raise PageRefused("expired", 410, f"核实链接已于 {when}（北京时间）过期，请等待下一次提醒中的新链接或联系自查牵头部门")
    return PageClaim(parts[1], parts[2], parts[3], expires)


def _lead_of(claim: PageClaim, url: str | None = None) -> Lead:
    """The claimed lead, only for its owner: a genuine link of anyone else opens nothing."""
    lead = next((lead for lead in records.leads_of(claim.run_id, url) if lead.lead_id == claim.lead_id), None)
    if lead is None:
        raise PageRefused("unknown", 404, "核实链接对应的线索不存在（自查运行或线索未登记）")
    if lead.owner != claim.person_id:
        raise PageRefused("not_owner", 403, "该链接不是此线索负责人的链接：只有线索负责人可以在此页面答复")
    return lead


def record_page_answer(claim: PageClaim, link: str, outcome: str, evidence: str, now: dt.datetime | None = None,
                       url: str | None = None) -> tuple[Answer, bool]:
    """Validate and record the owner's answer for one link; (the answer, whether it was recorded:
    False when it equals the answer that counts). :class:`PageRefused` (422) names the field; (409)
    the run was superseded by a re-run of its quarter, named (records.refuse_superseded)."""
    _lead_of(claim, url)
    try:
        records.refuse_superseded(claim.run_id, "在此页面答复", url)
    except InspectionInputError as exc:
        raise PageRefused("superseded", 409, str(exc)) from None
    if link not in LINKS:
        raise PageRefused("invalid", 422, f"环节无效：应为{'、'.join(LINKS.values())}之一")
    if outcome not in OUTCOMES:
        raise PageRefused("invalid", 422, f"「{LINKS[link]}」环节：请选择结论（{'、'.join(OUTCOMES.values())}）")
    evidence = evidence.strip()
    if outcome in NEEDS_EVIDENCE and not evidence:
        raise PageRefused("invalid", 422, f"「{LINKS[link]}」环节：结论为「{OUTCOMES[outcome]}」须填写证据说明（发现了什么、依据何在）")
    if len(evidence) > MAX_EVIDENCE:
        raise PageRefused("invalid", 422, f"「{LINKS[link]}」环节：证据说明不能超过 {MAX_EVIDENCE} 字（文件请另行提交）")
    evidence = mask_pii(evidence)  # free text: no ID or phone number kept in the store (CUSTINFO)
    answer = Answer(lead_id=claim.lead_id, link=link, outcome=outcome, evidence=evidence, answered_by=claim.person_id,
                    answered_at=now or utcnow(), source="page")
    counted = records.latest_answers(claim.run_id, url).get((claim.lead_id, link))
    if counted is not None and (counted.outcome, counted.evidence, counted.answered_by) == (outcome, evidence, claim.person_id):
        return counted, False
    records.record_answers(claim.run_id, [answer], url)
    ledger.append("inspection.page_answered", claim.run_id,
                  {"lead": claim.lead_id, "link": link, "outcome": outcome}, actor=claim.person_id, url=url)
    return answer, True


def _beijing(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def _e(text: object) -> str:
    return html.escape(str(text))


def _lead_html(lead: Lead, quarter: str) -> str:
    rows = [("季度", quarter), ("线索编号", lead.lead_id), ("类型", LEAD_KINDS.get(lead.kind, lead.kind)), ("单位", lead.unit),
            ("摘要", lead.summary)]
    if lead.rules:
        rows.append(("命中规则", "、".join(lead.rules)))
    if lead.occurred_at:
        rows.append(("发生时间（北京时间）", _beijing(lead.occurred_at)))
    return "<dl>" + "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in rows) + "</dl>"


def _form_html(link: str, counted: Answer | None, draft: dict[str, str] | None, error: str | None) -> str:
    chosen = (draft or {}).get("outcome") or (counted.outcome if counted else "")
    evidence = (draft or {}).get("evidence", counted.evidence if counted else "")
    now_line = (f'<p class="ok">当前结论：{_e(OUTCOMES.get(counted.outcome, counted.outcome))}'
                f'（{_e(person_name(counted.answered_by))}，{_beijing(counted.answered_at)}，{"页面" if counted.source == "page" else "清单"}）</p>'
                if counted else '<p class="bad">尚未答复</p>')
    radios = "".join(f'<label><input type="radio" name="outcome" value="{key}"{" checked" if key == chosen else ""}> {_e(zh)}</label>'
                     for key, zh in OUTCOMES.items())
    problem = f'<p class="bad">{_e(error)}</p>' if error else ""
    return (f'<fieldset id="{link}"><legend>{_e(LINKS[link])}</legend>{now_line}{problem}'
            f'<form method="post"><input type="hidden" name="link" value="{link}"><p>{radios}</p>'
            f'<p><textarea name="evidence" rows="3" maxlength="{MAX_EVIDENCE}" placeholder="证据说明（违规、需整改时必填）">'
            f'{_e(evidence)}</textarea></p><button type="submit">提交「{_e(LINKS[link])}」结论</button></form></fieldset>')


def _page(title: str, content: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(PAGE.format(title=_e(title), content=content), status_code=status)


def _refused(request: Request, token: str, refused: PageRefused) -> HTMLResponse:
    if refused.reason != "invalid":
        note_refusal(request, "inspection.page_refused", refused.reason, fingerprint(token))
    title = "链接已过期" if refused.reason == "expired" else "无法打开核实页面"
    return _page(title, f'<p class="bad">{_e(refused)}</p>', refused.status)


def _render(claim: PageClaim, message: str = "", form_link: str | None = None, draft: dict[str, str] | None = None,
            error: str | None = None, status: int = 200) -> HTMLResponse:
    lead = _lead_of(claim)
    run = records.run_of(claim.run_id)
    latest = records.latest_answers(claim.run_id)
    forms = "".join(_form_html(link, latest.get((lead.lead_id, link)), draft if link == form_link else None,
                               error if link == form_link else None) for link in LINKS)
    answered = sum((lead.lead_id, link) in latest for link in LINKS)
    head = (f"<p>请逐一核实以下线索在授权、审核、查询、使用、存储各环节的情况（PBOC-102 三（三））并提交结论；"
            f"已答复 {answered}/{len(LINKS)} 个环节。可多次修改，以最后一次提交为准。</p>")
    note = f"<p class=\"{'bad' if error else 'ok'}\">{_e(message)}</p>" if message else ""
    newer = records.newer_run(claim.run_id)
    if newer is not None:  # the old page says so before anyone types an answer it would refuse
        note += (f'<p class="bad">本次自查运行 {_e(claim.run_id)} 已被同季度较新的运行 {_e(newer)} 取代：此页面不再接受答复，'
                 f"请使用新运行的核实清单或提醒中的新链接（相同线索的结论已带入新运行）</p>")
    small = f'<p class="small">核实人：{_e(person_name(claim.person_id))}；链接有效至 {_beijing(claim.expires)}（北京时间）</p>'
    return _page("自查线索核实", note + _lead_html(lead, run.quarter if run else "") + head + forms + small, status)


async def show(request: Request) -> Response:
    token = request.path_params["token"]
    try:
        claim = read_page_token(token)
        return await run_in_threadpool(_render, claim)
    except PageRefused as refused:
        return _refused(request, token, refused)


async def answer(request: Request) -> Response:
    token = request.path_params["token"]
    try:
        claim = read_page_token(token)
    except PageRefused as refused:
        return _refused(request, token, refused)
    body = await request.body()
    if len(body) > MAX_BODY:
        return _page("无法提交", '<p class="bad">提交内容过长</p>', 413)
    try:
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=10).items()}
    except (UnicodeDecodeError, ValueError):
        return _page("无法提交", '<p class="bad">提交内容无法识别</p>', 400)
    link, outcome, evidence = form.get("link", ""), form.get("outcome", ""), form.get("evidence", "")
    try:
        given, recorded = await run_in_threadpool(record_page_answer, claim, link, outcome, evidence)
    except PageRefused as refused:
        if refused.reason not in ("invalid", "superseded") or link not in LINKS:
            return _refused(request, token, refused)
        return await run_in_threadpool(_render, claim, f"未提交：{refused}", link, {"outcome": outcome, "evidence": evidence},
                                       str(refused), refused.status)
    said = (f"已记录「{LINKS[link]}」环节的结论：{OUTCOMES[given.outcome]}（{_beijing(given.answered_at)}）" if recorded
            else f"「{LINKS[link]}」环节的结论与已登记的相同，未重复记录")
    try:
        return await run_in_threadpool(_render, claim, said)
    except PageRefused as refused:  # the lead went away between the answer and the page: say so
        return _refused(request, token, refused)


ROUTES: tuple[Route, ...] = (
    Route("/inspection/{token}", show, methods=["GET"]),
    Route("/inspection/{token}", answer, methods=["POST"]),
)
