"""Tasks of the incident-response procedure: thin wrappers around the pure rules and the store.

The alert and the watch's reminders are sent inside tasks (``alert_task`` with retries), and each
publishes what it sent in the run's ``notices`` artifact (tasks/notices.py).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactCollectionFilter, ArtifactCollectionFilterKey
from prefect.context import FlowRunContext
from prefect.runtime import flow_run
from prefect.settings import PREFECT_API_URL

from calendars.zone import SHANGHAI
from regflows.incident import alerts, closing, drafts, extensions, store
from notices.files import file_url
from regflows.incident.clock import obligation_choices
from regflows.incident.clock_view import STATE_LABEL, ShownClock, clock_current, clock_key, clock_table, due_label
from regflows.incident.declaration import record_declaration
from regflows.incident.documents import DOCUMENT_TITLES
from regflows.incident.form_link import update_form_link
from regflows.incident.grading import Grading
from regflows.incident.recompute import clock_rows
from notices.masking import mask_pii
from regflows.incident.form import SYSTEM_DECLARERS, IncidentForm
from regflows.incident.record import IncidentRecord, IncidentRecordError, check_against_profile, check_times
from regflows.incident.update import DuplicateDeclaration, IncidentFacts, UpdateOutcome, update_incident
from regflows.kit.forms import FormError, choice_code
from regflows.kit.documents import markdown_text
from regflows.profile import Profile
from regflows.store.models import Incident, Obligation, utcnow
from regflows.store.obligations import CLOSED_STATES
from notices.templates import ref_label
from tasks.notices import notices_published, sms_rate_limiter


@task(name="check-form 核对申报表")
def form_task(form: IncidentForm, declared_by: str, participants: list[str], profile: Profile) -> dict[str, Any]:
    """The form read as the strict record, or the Chinese problems naming each field (no traceback).

    Its first log line reads the times back in Beijing time, so whoever typed them sees at once
    which instants the clock counts from (issue 14, 1). Future times are refused here, as on the
    CLI and ``POST /incidents`` (issue 13, 8)."""
    logger = get_run_logger()
    logger.info(form.times_line())
    problems: list[str] = []
    people = profile.people_choices()
    declarer, ids, record = None, [], None
    try:
        declarer = choice_code(declared_by, {**people, **SYSTEM_DECLARERS}, "申报人")
    except FormError as exc:
        problems.append(str(exc))
    for person in participants:
        try:
            ids.append(choice_code(person, people, "演练参与人"))
        except FormError as exc:
            problems.append(str(exc))
    try:
        record = form.to_record(profile.unit_choices())
        check_against_profile(record, profile)
        check_times(record, utcnow(), profile.settings)
    except IncidentRecordError as exc:
        problems.extend(exc.problems)
    problems = [mask_pii(p) for p in problems]  # a message may quote what was typed
    if problems:
        logger.error("事件申报未登记，请更正后重新提交：\n%s", "\n".join(f"  - {p}" for p in problems))
    return {"record": None if problems else record, "declared_by": declarer, "participants": ids, "problems": problems}


#: A store that went away (PostgreSQL restarting: the load-and-faults run failed a declaration's run
#: on it) is retried: recording, the clock and the drafts are each safe to run again (the same run
#: finds its incident on record, the clock is recomputed, a draft is written once per version).
STORE_RETRIES: dict[str, Any] = {"retries": 2, "retry_delay_seconds": 15}


@task(name="record-incident 登记事件", **STORE_RETRIES)
def record_task(record: IncidentRecord, profile: Profile, actor: str, participants: list[str] | None = None) -> dict[str, Any]:
    """Grade and record the declaration, once. Already on record for this very run (``POST /incidents``
    recorded and alerted at once, under this run's idempotency key: regflows/incident/declaration.py),
    the run goes on with it."""
    unit = check_against_profile(record, profile)
    check_times(record, utcnow(), profile.settings)  # the form's path too (issue 13, 8)
    recorded = record_declaration(record, unit.code, actor, participants, _run_key())
    incident_id = recorded.incident_id
    if recorded.duplicate:  # a second declaration of it (issue 14, 2): refused before anything is written or sent
        refusal = DuplicateDeclaration(incident_id, update_form_link(incident_id, str(PREFECT_API_URL.value())))
        get_run_logger().error("%s", refusal)
        return {"refused": str(refusal), "incident_id": incident_id, "update_form": refusal.link}
    logger = get_run_logger()
    if recorded.created and recorded.typed_end:
        logger.warning("事件 %s：申报中的应急响应结束时间 %s 不予采用，结束时间由结束审批记录（CQ-PLAN 第四篇三）", incident_id, recorded.typed_end)
    grading = recorded.grading
    logger.info("%s 事件 %s：%s级（%s），%s", "登记" if recorded.created else "已登记", incident_id, grading["grade"], grading["warning_zh"],
                "；".join(grading["reasons"]))
    return {"incident_id": incident_id, "unit": unit.code, "unit_name": unit.name, "grading": grading, "created": recorded.created,
            "record": recorded.record}


def _run_key() -> str | None:
    """This run's idempotency key (the one ``POST /incidents`` recorded its incident with), else
    ``run:<flow run id>``: the incident a run recorded is then on record for that run, and the
    run started again after a crash (regflows/recovery.py) goes on with it instead of refusing
    it as a second declaration."""
    context = FlowRunContext.get()
    if context is None or context.flow_run is None:
        return None
    return context.flow_run.idempotency_key or f"run:{context.flow_run.id}"


@task(name="compute-clock 计算监管时限", **STORE_RETRIES)
def clock_task(incident_id: str, record: dict[str, Any], grading: dict[str, Any], profile: Profile) -> list[dict[str, Any]]:
    rows = clock_rows(incident_id, record, grading, profile, utcnow())
    publish_clock(incident_id, record, rows, profile)
    return [obligation_row(r) for r in rows]


def obligation_row(row: Obligation) -> dict[str, Any]:
    return {"id": row.code, "title": row.title, "clause": row.clause, "owner": row.owner_role, "state": row.state,
            "due": row.due_at.astimezone(SHANGHAI).isoformat() if row.due_at else None,
            "due_label": (row.detail or {}).get("due_label"), "every": row.every}


def publish_clock(incident_id: str, record: dict[str, Any], rows: list[Obligation], profile: Profile,
                  shown: ShownClock | None = None, *, watching: bool = False) -> bool:
    """The duty officer's view: every obligation as a line of a timeline, now marked. Who owns
    each is named as the profile names the role (零售业务处), never by its code (``division``):
    the profile is required (the update run called it without one: review 14, 9). ``watching``
    (the minute watch): published only when it says something else than ``shown``, the clock the
    UI shows now, or that one's time left is ``settings.clock_view_refresh_minutes`` old
    (regflows/incident/clock_view.py). Returns whether it was published."""
    now = utcnow()
    table = clock_table(rows, now, profile.role_label)
    if watching and clock_current(table, shown, now, profile.settings.clock_view_refresh_minutes):
        return False
    create_table_artifact(table, key=clock_key(incident_id), description=f"事件 {incident_id} 的监管时限（北京时间 {now.astimezone(SHANGHAI):%Y-%m-%d %H:%M} 计算）")
    lines = [f"# {'【演练】' if record.get('drill') else ''}{incident_id} {markdown_text(record['title'])}", "", f"**现在：{now.astimezone(SHANGHAI):%Y-%m-%d %H:%M}**", ""]
    shown_now = False
    for row in rows:
        if row.due_at and row.due_at > now and not shown_now:
            lines.append(f"- **—— 现在 {now.astimezone(SHANGHAI):%m-%d %H:%M} ——**")
            shown_now = True
        lines.append(f"- {STATE_LABEL.get(row.state, row.state)} `{due_label(row)}` {row.title}（{row.clause}，{profile.role_label(row.owner_role)}）")
    if not shown_now:
        lines.append(f"- **—— 现在 {now.astimezone(SHANGHAI):%m-%d %H:%M} ——**")
    create_markdown_artifact("\n".join(lines), key=f"incident-{incident_id.lower()}-timeline", description="事件时间线")
    return True


def response_roles(grading: dict[str, Any], profile: Profile | None = None) -> list[str]:
    """Who is told at declaration (regflows/incident/alerts.py ``alert_roles``): with CQ-PLAN (or
    no profile) the grading's ``alert_roles`` (rules/grading.yaml, CQ-PLAN 第四篇二 and CUSTINFO
    8.2); without it, the rules' ``without_plan`` roles and the end approver."""
    if profile is None:
        return list(Grading.model_validate(grading).alert_roles)
    return alerts.alert_roles(profile, grading)


@task(name="draft-reports 起草报告", **STORE_RETRIES)
def drafts_task(incident_id: str, record: dict[str, Any], grading: dict[str, Any], profile: Profile, unit_name: str,
                obligation_ids: list[str]) -> list[dict[str, Any]]:
    written = drafts.refresh(incident_id, record, grading, profile, unit_name, dict.fromkeys(obligation_ids, 0))
    logger = get_run_logger()
    for item in written:
        if item["missing"]:
            logger.error("草稿《%s》无法生成，缺少：%s", DOCUMENT_TITLES.get(item["kind"], item["kind"]), "、".join(item["missing"]))
        elif item["pending"]:
            logger.warning("草稿《%s》待补充：%s", DOCUMENT_TITLES.get(item["kind"], item["kind"]), "、".join(item["pending"]))
    publish_drafts(profile, incident_id, record, written)
    return written


def publish_drafts(profile: Profile, incident_id: str, record: dict[str, Any], written: list[dict[str, Any]]) -> None:
    """The drafts as a Markdown artifact, one signed download link per document (notices/files.py),
    instead of a server path the UI cuts off and nobody can open (issue 14, 4)."""
    if not written or flow_run.get_id() is None:  # outside a run (a direct call) there is no run page to show it on
        return
    validity = dt.timedelta(hours=profile.settings.file_link_hours)
    base = str(profile.public_base_url)
    drill = "【演练】" if record.get("drill") else ""
    lines = [f"# {drill}{incident_id} 报告草稿（待审核）", "",
             f"下载链接经签名，{profile.settings.file_link_hours:g} 小时内有效；服务器核对登记的 SHA-256 后才提供文件。", "",
             "| 文书 | 文件 | 待补充 | 缺少 |", "|---|---|---|---|"]
    for item in written:
        title = DOCUMENT_TITLES.get(item["kind"], item["kind"])
        link = file_url(base, item["path"], f"{incident_id} {title}（草稿）", sha256=item.get("sha256"), validity=validity) \
            if item["path"] else None
        cell = f"[{markdown_text(Path(item['path']).name)}]({link})" if link else ("未登记" if item["path"] else "未生成")
        lines.append(f"| {markdown_text(title)} | {cell} | {markdown_text('、'.join(item['pending']))} | "
                     f"{markdown_text('、'.join(item['missing']))} |")
    create_markdown_artifact("\n".join(lines), key=f"incident-{incident_id.lower()}-drafts", description="事件报告草稿（待审核），附下载链接")


@task(name="alert-incident 通知事件", retries=2, retry_delay_seconds=5)
def alert_task(profile: Profile, incident_id: str, record: dict[str, Any], grading: dict[str, Any],
               drill_participants: list[str] | None = None) -> list[str]:
    """The incident alert to the response roles (or a drill's participants), with its next deadlines.

    Retried on an error: the notice id is stable (``incident:<id>:alert``) and each channel's
    delivery is claimed in the store, so a retry sends only what did not go out. Returns the
    people reached through no channel (their deputies were told).
    """
    with notices_published():
        outcome = alerts.send_alert(profile, incident_id, record, grading, store.obligations_of(incident_id),
                                    response_roles(grading, profile), drill_participants, before_send=sms_rate_limiter(profile))
    unreached = [p.recipient.person_id for p in outcome.unreached]
    if unreached:
        get_run_logger().error("事件通知未送达：%s（已上报替补）", "、".join(p.recipient.name for p in outcome.unreached))
    return unreached


@task(name="correct-incident 更正事件")
def update_task(profile: Profile, incident_id: str, facts: IncidentFacts, reason: str, by: str) -> dict[str, Any]:
    """One correction of the facts (regflows/incident/update.py): re-grade, store, recompute, alert
    the new level's roles, raise what is overdue; logged and published as old vs new.

    Not retried: a refusal is the person's to correct, and the alert is numbered per correction.
    A value that cannot be used returns ``{"refused": message}`` (nothing written): the flow fails
    with that Chinese message, without a traceback.
    """
    logger = get_run_logger()
    try:
        changes = facts.changes(store.load_incident(incident_id).record)
        with notices_published():
            outcome = update_incident(profile, incident_id, changes, reason=reason, by=by, before_send=sms_rate_limiter(profile))
    except (LookupError, ValueError) as exc:  # FormError, IncidentRecordError and UpdateRefused are ValueErrors
        logger.error("事件 %s 未更正：%s", incident_id, exc)
        return {"refused": f"事件 {incident_id} 未更正：{exc}"}
    logger.info("%s", outcome.log_line())
    if outcome.raised:
        logger.warning("事件 %s 更正后立即上报/提醒：%s", incident_id, outcome.raised_text())
    if outcome.unreached:
        names = {p.id: p.name for p in profile.people}
        logger.error("更正通知未送达：%s（已上报替补）", "、".join(names.get(p, p) for p in outcome.unreached))
    publish_update(outcome, reason, by, profile)
    publish_clock(incident_id, store.load_incident(incident_id).record, outcome.rows, profile)
    return outcome.summary()


def publish_update(outcome: UpdateOutcome, reason: str, by: str, profile: Profile) -> None:
    """Old vs new, for whoever opens the run: grade, the facts changed, every obligation before and after."""
    create_markdown_artifact(update_markdown(outcome, reason, by, profile), key=f"incident-{outcome.incident_id.lower()}-update",
                             description="事件更正：原级别与义务对比")


def update_markdown(outcome: UpdateOutcome, reason: str, by: str, profile: Profile) -> str:
    """The update artifact's text: facts in Chinese (:func:`regflows.incident.update.fact_text`, never a
    Python dict), the person by name, obligations by title (review 14, 10)."""
    from regflows.incident.record import FIELD_TITLES
    from regflows.incident.update import fact_text

    def shown(name: str, value: Any) -> str:
        return markdown_text(fact_text(name, value))

    person = next((p.name for p in profile.people if p.id == by), by)
    before = {o["id"]: o for o in outcome.obligations_before}
    after = {o["id"]: o for o in outcome.obligations_after}
    lines = [f"# 事件 {outcome.incident_id} 的更正", "", f"- 级别：{outcome.grade_before}级 → **{outcome.grade_after}级**",
             f"- 理由：{markdown_text(reason)}（{markdown_text(person)}）",
             f"- 通知：{'已通知新级别的相关部门（【更正】）' if outcome.alerted else '级别与应履行义务未变，未另行通知'}", "",
             "| 事实 | 原值 | 新值 |", "|---|---|---|"]
    lines += [f"| {FIELD_TITLES.get(k, k)} | {shown(k, v['from'])} | {shown(k, v['to'])} |" for k, v in outcome.changes.items()]
    lines += ["", "| 义务 | 原状态 | 原时限 | 新状态 | 新时限 |", "|---|---|---|---|---|"]
    for code in dict.fromkeys([*after, *before]):
        old, new = before.get(code), after.get(code)
        title = markdown_text((new or old or {}).get("title") or code)
        lines.append(f"| {title} | {STATE_LABEL.get(old['state'], old['state']) if old else '（无）'} | {(old or {}).get('due_label') or ''} "
                     f"| {STATE_LABEL.get(new['state'], new['state']) if new else '（不再适用）'} | {(new or {}).get('due_label') or ''} |")
    return "\n".join(lines)


@task(name="find-open-incidents 查找未结束事件", retries=2, retry_delay_seconds=5)
def open_incidents_task() -> list[str]:
    """The ids of the incidents not yet closed (a read: retried safely)."""
    return [incident.id for incident in store.open_incidents()]


#: Keys read in one request: the API's default page (PREFECT_API_DEFAULT_LIMIT).
_KEYS_PER_READ = 200


@task(name="read-shown-clocks 读取界面上的时限表")
def shown_clocks_task(incident_ids: list[str]) -> dict[str, ShownClock]:
    """The clock table the UI shows now for each incident (its latest ``incident-…-clock``
    artifact), read in one request per 200 incidents, so that the watch republishes only a clock
    that changed (regflows/incident/clock_view.py). Reading is a saving only: when it fails, every
    clock is published as before, and the run says so."""
    keys = {clock_key(i): i for i in incident_ids}
    shown: dict[str, ShownClock] = {}
    try:
        with get_client(sync_client=True) as client:
            names = list(keys)
            for start in range(0, len(names), _KEYS_PER_READ):
                page = names[start:start + _KEYS_PER_READ]
                found = client.read_latest_artifacts(limit=len(page), artifact_filter=ArtifactCollectionFilter(
                    key=ArtifactCollectionFilterKey(any_=page)))
                for artifact in found:
                    table = _table_data(artifact.data)
                    if artifact.key in keys and table is not None and artifact.updated is not None:
                        at = artifact.updated if artifact.updated.tzinfo else artifact.updated.replace(tzinfo=dt.timezone.utc)
                        shown[keys[artifact.key]] = ShownClock(table=table, at=at)
    except Exception as exc:  # noqa: BLE001 - any failure of an optional read: publish all, say so
        get_run_logger().warning("读取界面上的事件时限表失败（%s）：本次重新发布全部时限表", type(exc).__name__)
        return {}
    return shown


def _table_data(data: Any) -> list[dict[str, Any]] | None:
    """A table artifact's rows as stored (Prefect keeps them as a JSON string); anything else: None."""
    try:
        rows = json.loads(data) if isinstance(data, str) else data
    except ValueError:
        return None
    return rows if isinstance(rows, list) and all(isinstance(r, dict) for r in rows) else None


@task(name="fulfil-obligation 登记义务履行")
def fulfil_task(incident_id: str, obligation: str, evidence: str, by: str, people: list[str], reference: str | None = None,
                file: str | None = None) -> dict[str, Any]:
    """One fulfilment through the kit's one path (the file checked and hashed, the ledger entry).

    Not retried: a refusal (unknown obligation, missing file) is the person's to correct, and a
    recurring obligation records every fulfilment, so a retry after a commit would record it twice.
    A refusal returns ``{"refused": message}`` (nothing written): the flow fails with that Chinese
    message, without a traceback (tasks/refusals.py).
    """
    try:
        obligation = choice_code(obligation, obligation_choices(), "义务")  # the form's choice by its Chinese title, or the code
        # The form runs on the server: its file must be in the evidence areas (issue 14, 14).
        row = store.fulfil(incident_id, obligation, evidence=evidence, by=by, people=people, reference=reference, file=file,
                           server=True)
    except (LookupError, ValueError) as exc:  # IncidentNotFound; FormError, Refused, WaiverRefused, EvidenceError are ValueErrors
        return _refusal(f"义务未登记履行：{exc}")
    recorded = row.evidence["history"][-1]
    return {"incident": incident_id, "obligation": row.code, "fulfilled_at": recorded["at"], "by": by,
            **({"file_sha256": recorded["file"]["sha256"]} if "file" in recorded else {})}


@task(name="waive-obligation 豁免事件义务")
def waive_task(incident_id: str, obligation: str, reason: str, by: str, people: list[str]) -> dict[str, Any]:
    """One waiver through the kit (regflows/kit/obligations.py: only where the rule file allows it).

    Not retried: a refusal (no rule allows it, no reason) is the person's to correct; it returns
    ``{"refused": message}`` (nothing written) for the flow to fail with, without a traceback.
    """
    try:
        obligation = choice_code(obligation, obligation_choices(), "义务")  # the form's choice by its Chinese title, or the code
        row = store.waive(incident_id, obligation, reason=reason, by=by, people=people)
    except (LookupError, ValueError) as exc:  # IncidentNotFound; FormError, WaiverRefused, EvidenceError are ValueErrors
        return _refusal(f"义务未豁免：{exc}")
    return {"incident": incident_id, "obligation": row.code, "state": row.state, **row.evidence["waiver"]}


def _refusal(message: str) -> dict[str, Any]:
    """A person's input refused: logged as the run's error (masked: it may quote what was typed) and
    returned for the flow to fail with."""
    message = mask_pii(message)
    get_run_logger().error("%s", message)
    return {"refused": message}


@task(name="watch-incident 检查事件时限", retries=1, retry_delay_seconds=5)
def watch_incident(profile: Profile, incident_id: str, shown: ShownClock | None = None) -> dict[str, Any]:
    """One incident, once a minute: take waiting extension approvals (TENPAY 13), recompute its clock,
    remind, draft reports that became due, close; republish its clock if it changed (``shown``:
    the clock the UI shows now, from :func:`shown_clocks_task`)."""
    incident = store.load_incident(incident_id)
    with notices_published():  # a request whose links expired is sent again
        for code in extensions.advance(profile, incident_id):
            get_run_logger().warning("事件 %s 的义务 %s 已经管理层书面批准另定期限", incident_id, code)
    rows = clock_rows(incident_id, incident.record, incident.grading, profile, utcnow())
    stuck = None
    with notices_published():
        sent = alerts.remind(profile, incident, rows, before_send=sms_rate_limiter(profile))
        drafted = draft_new_reports(profile, incident, rows)
        try:
            approvers = closing.try_close(profile, incident_id)
        except closing.CloseRefused as exc:  # nobody left to approve: raised by the flow, after the other incidents
            approvers, stuck = None, str(exc)
            get_run_logger().error("%s", exc)
    published = publish_clock(incident_id, incident.record, store.obligations_of(incident_id), profile, shown, watching=True)
    if sent:
        get_run_logger().warning("事件 %s 已发送提醒：%s", incident_id, "；".join(ref_label(s) for s in sent))
    return {"incident": incident_id, "reminders": sent, "drafted": drafted, "closed_by": approvers, "stuck": stuck,
            "clock_published": published}


def draft_new_reports(profile: Profile, incident: Incident, rows: list[Obligation]) -> list[str]:
    """The drafts that became writable or out of date: the summary report once handling ended (NFRA 48),
    the investigation report once the response ended (CQ-PLAN 第五篇), the next progress report after
    each one filed (NFRA 45), and any draft again when the record or the grade changed since; only
    for obligations still owed (neither fulfilled nor waived). An incident with no draft yet gets
    its first ones here only ``settings.first_drafts_wait_minutes`` after it was recorded (its run
    failed or never started)."""
    owed = {r.code: len((r.evidence or {}).get("history", [])) for r in rows if r.state not in CLOSED_STATES}
    unit = next((u for u in profile.reporting_units if u.code == incident.reporting_unit), profile.head_office)
    # The first drafts are the declaration's run's (drafts_task): a burst of declarations made
    # the watch render them too, ~0.5 s of CPU each, and its ticks took minutes (the
    # load-and-faults run); it writes them only if the run has not after the setting's minutes.
    first = utcnow() - incident.created_at >= dt.timedelta(minutes=profile.settings.first_drafts_wait_minutes)
    written = drafts.refresh(incident.id, incident.record, incident.grading, profile, unit.name, owed, first=first)
    publish_drafts(profile, incident.id, incident.record, written)
    return [w["kind"] for w in written if w["path"]]
