"""``regflows incident declare | fulfil | waive | reopen | extend | update | close | status``: the operator's side of a case.

``declare`` starts the ``incident-response`` deployment on the Prefect server (so the run shows
in the UI like a form-triggered one); the others act on the store directly and are written to
the audit ledger, and the next ``incident-watch`` run picks the change up.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from calendars.zone import now_local, to_local
from regflows.exit_codes import ExitCode
from regflows.incident.cli import RecordFile, emit_json, fail, incident_app, parse_instant, read_record
from regflows.incident.record import IncidentRecordError, check_against_profile, check_times
from regflows.profile import ProfileError, load_profile, profile_path

# Imported inside the commands (lazy), measured: the incident store, closing, alerts and recompute
# load SQLAlchemy and Alembic (~0.9 s), the grading rules ~30 ms, Prefect ~2 s; this module is
# loaded by every `regflows` command (regflows/procedures.py mounts it).


def _exit_code(exc: BaseException) -> ExitCode:
    """A refusal by a rule (a waiver the rules do not allow, a closing or extension or release the
    approvals or the state refuse) exits 5; anything else the user typed wrong exits 2."""
    from regflows.incident.closing import CloseRefused
    from regflows.incident.extensions import ExtensionRefused
    from regflows.incident.warning_release import ReleaseRefused
    from regflows.kit.obligations import Refused

    refused = (CloseRefused, ExtensionRefused, ReleaseRefused, Refused)
    return ExitCode.REFUSED if isinstance(exc, refused) else ExitCode.USAGE


def _profile(path: Path | None):  # type: ignore[no-untyped-def]
    try:
        return load_profile(path or profile_path())
    except ProfileError as exc:
        fail(str(exc))


def _person(profile_file: Path | None, by: str, option: str = "--by") -> None:
    """Whoever answers for a change to the record must be one of the profile's people."""
    if by.strip() not in _profile(profile_file).person_ids:
        fail(f"{option} {by} 不在机构配置的人员（people）中")


ProfileOpt = Annotated[Path | None, typer.Option("--profile", help="机构配置 YAML（默认 REGFLOWS_PROFILE 或示范配置）")]


@incident_app.command("declare")
def declare_command(
    file: RecordFile,
    profile: ProfileOpt = None,
    participant: Annotated[list[str] | None, typer.Option("--participant", help="演练参与人（人员编号，可多次）")] = None,
) -> None:
    """在 Prefect 服务器上启动 incident-response 流程（记录先经校验）。"""
    record = read_record(file)
    loaded = _profile(profile)
    try:
        unit = check_against_profile(record, loaded)
        check_times(record, now_local(), loaded.settings)
    except ValueError as exc:
        fail(str(exc))
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from regflows import config
    from regflows.incident.closing import ignored_end_note
    from regflows.incident.form import SYSTEM_DECLARERS, form_from_record
    from regflows.incident.update import DuplicateDeclaration, existing_incident

    labels = loaded.people_choices()
    unknown = [p for p in participant or [] if p not in labels]
    if unknown:
        fail(f"--participant {'、'.join(unknown)} 不在机构配置的人员（people）中")

    api = config.prefect_api_url()
    try:  # before anything is started, written or sent (issue 14, 2)
        existing = existing_incident(record, unit.code)
    except config.StoreNotReady:  # no store on this machine: the run's own check refuses it (tasks/incident.py record_task)
        existing = None
    if existing:
        from regflows.incident.form_link import update_form_link

        refusal = DuplicateDeclaration(existing, update_form_link(existing, api))
        typer.echo(json.dumps({"refused": "duplicate", "incident": existing, "update_form": refusal.link}, ensure_ascii=False))
        fail(str(refusal), ExitCode.REFUSED)
    try:
        with temporary_settings(updates={PREFECT_API_URL: api}):
            run = run_deployment("incident-response/incident-response", timeout=0,
                                 parameters={"incident": form_from_record(record, loaded.unit_choices()).model_dump(mode="json"),
                                             "drill_participants": [labels[p] for p in participant or []],
                                             "declared_by": SYSTEM_DECLARERS["cli"]})
    except Exception as exc:  # no server, no deployment: say so plainly
        fail(f"无法在 {api} 启动 incident-response 部署（regflows up 是否在运行？）：{type(exc).__name__}: {exc}")
    note = ignored_end_note(record.response_ended_at.isoformat() if record.response_ended_at else None)
    if note:  # the form has no such field: said here, or the typed value would vanish silently
        typer.echo(f"注意：{note}", err=True)
    emit_json({"flow_run_id": str(run.id), "name": run.name, **({"warnings": [note]} if note else {})})


@incident_app.command("fulfil")
def fulfil_command(
    incident_id: Annotated[str, typer.Argument(help="事件编号，如 INC-20251001-0A1B2C")],
    obligation: Annotated[str, typer.Argument(help="义务编号，如 regulator_initial_report")],
    by: Annotated[str, typer.Option(help="履行人（人员编号）")],
    evidence: Annotated[str | None, typer.Option(help="证据：发送了什么、发给谁")] = None,
    reference: Annotated[str | None, typer.Option(help="文号或回执编号")] = None,
    file: Annotated[Path | None, typer.Option(help="证据文件（记录其 SHA-256 与大小）")] = None,
    waive: Annotated[bool, typer.Option("--waive", help="不履行而豁免（仅限规则允许豁免的义务，须同时写 --reason），同 waive 命令")] = False,
    reason: Annotated[str | None, typer.Option(help="豁免理由（与 --waive 一起使用）")] = None,
    profile: ProfileOpt = None,
) -> None:
    """登记义务已履行（附证据），或以 --waive --reason 豁免；停止该义务的提醒，写入审计账本。"""
    from regflows.incident import store

    people = _profile(profile).person_ids
    if waive:
        if evidence or reference or file:
            fail("--waive 与 --evidence/--reference/--file 不能同时使用：豁免不是履行")
        _waive(incident_id, obligation, reason or "", by, people)
        return
    if reason:
        fail("--reason 只与 --waive 一起使用；履行请写 --evidence")
    if evidence is None:
        fail("缺少 --evidence（证据：发送了什么、发给谁）；不履行而豁免时写 --waive --reason …")
    try:
        row = store.fulfil(incident_id, obligation, evidence=evidence, by=by, people=people, reference=reference, file=file,
                           field_names={"evidence": "--evidence", "by": "--by", "file": "--file"})
    except (LookupError, ValueError) as exc:
        fail(str(exc), _exit_code(exc))
    recorded = row.evidence["history"][-1]
    emit_json({"incident": incident_id, "obligation": row.code, "fulfilled_at": to_local(row.fulfilled_at).isoformat() if row.fulfilled_at else None, "by": by,
               **({"file_sha256": recorded["file"]["sha256"]} if "file" in recorded else {})})


@incident_app.command("waive")
def waive_command(
    incident_id: Annotated[str, typer.Argument(help="事件编号，如 INC-20251001-0A1B2C")],
    obligation: Annotated[str, typer.Argument(help="义务编号（仅限规则文件中写明 waivable 的义务）")],
    reason: Annotated[str, typer.Option(help="豁免理由：为何符合规则允许豁免的情形（必填，记入时间线与审计账本）")],
    by: Annotated[str, typer.Option(help="决定人（机构配置中的人员编号）")],
    profile: ProfileOpt = None,
) -> None:
    """豁免一项义务（仅限规则允许豁免的，须写明理由）；停止该义务的提醒，写入时间线与审计账本。"""

    _waive(incident_id, obligation, reason, by, _profile(profile).person_ids)


def _waive(incident_id: str, obligation: str, reason: str, by: str, people: frozenset[str]) -> None:
    from regflows.incident import store

    try:
        row = store.waive(incident_id, obligation, reason=reason, by=by, people=people,
                          field_names={"reason": "--reason", "by": "--by"})
    except (LookupError, ValueError) as exc:
        fail(str(exc), _exit_code(exc))
    emit_json({"incident": incident_id, "obligation": row.code, "state": row.state, **row.evidence["waiver"]})


@incident_app.command("reopen")
def reopen_command(
    incident_id: Annotated[str, typer.Argument(help="事件编号")],
    obligation: Annotated[str, typer.Argument(help="已豁免的义务编号，如 subject_notification")],
    reason: Annotated[str, typer.Option(help="重新打开的理由，如 人民银行分支机构认为可能造成危害，要求通知个人（必填）")],
    by: Annotated[str, typer.Option(help="登记人（人员编号）")],
    profile: ProfileOpt = None,
) -> None:
    """重新打开已豁免的义务（TENPAY 第五条：人民银行分支机构要求通知个人时）；自此“立即”到期，写入时间线与审计账本。"""
    from regflows.incident import store

    people = _profile(profile).person_ids
    try:
        row = store.reopen(incident_id, obligation, reason=reason, by=by, people=people,
                           field_names={"reason": "--reason", "by": "--by"})
    except (LookupError, ValueError) as exc:
        fail(str(exc), _exit_code(exc))
    reopened = {k: v for k, v in row.evidence["reopened"].items() if k != "waiver"}
    emit_json({"incident": incident_id, "obligation": row.code, "state": row.state, **reopened})


@incident_app.command("extend")
def extend_command(
    incident_id: Annotated[str, typer.Argument(help="事件编号")],
    obligation: Annotated[str, typer.Argument(help="义务编号（仅限规则文件中写明 extendable 的义务，如 pfi_response_steps）")],
    until: Annotated[str, typer.Option(help="申请另定的期限（ISO 8601，带偏移）")],
    reason: Annotated[str, typer.Option(help="理由（必填，随审批请求发给管理层）")],
    by: Annotated[str, typer.Option(help="申请人（人员编号）；不能批准自己的申请")],
    profile: ProfileOpt = None,
) -> None:
    """申请公司管理层书面批准另定期限（TENPAY 第十三条）：向管理层成员发送个人审批链接；批准后按新期限计算。"""
    from regflows.incident.extensions import ExtensionRefused, request_extension

    loaded = _profile(profile)
    at = parse_instant(until, "--until")
    try:
        approval = request_extension(loaded, incident_id, obligation, at, reason, by)
    except (ExtensionRefused, LookupError) as exc:
        fail(str(exc), _exit_code(exc))
    emit_json({"incident": incident_id, "obligation": obligation, "until": at.isoformat(), "requested_by": by,
               "approval_role": loaded.settings.extension_approval_role, "stage": approval.stage,
               "revision": approval.revision})


@incident_app.command("update")
def update_command(
    incident_id: Annotated[str, typer.Argument(help="事件编号")],
    by: Annotated[str, typer.Option(help="操作人（人员编号）")],
    confirmed_at: Annotated[str | None, typer.Option(help="个人金融信息事件确认时间（ISO 8601，带偏移）")] = None,
    recovered_at: Annotated[str | None, typer.Option(help="事件恢复时间（关基专项审计自此“立即”，NFRA 第六十一条）")] = None,
    handling_ended_at: Annotated[str | None, typer.Option(help="事件处置结束时间")] = None,
    response_ended_at: Annotated[str | None, typer.Option(help="不可手工填写：应急响应结束时间由结束审批记录（regflows incident close）")] = None,
    important_system: Annotated[bool | None, typer.Option("--important/--not-important",
                                                          help="更正：是否重要信息系统（NFRA 附件 停机条款）")] = None,
    record: Annotated[Path | None, typer.Option(help="更正后的完整事件记录 JSON（多项事实有误时）")] = None,
    reason: Annotated[str, typer.Option(help="更正理由（记入时间线与审计账本）")] = "记录后续时间点",
    profile: ProfileOpt = None,
) -> None:
    """更正事件事实或记录后续时间点：重新定级、重算时限；级别或应履行义务变化时通知新级别的相关部门，已逾期的立即上报。"""
    _person(profile, by)
    if response_ended_at:  # CQ-PLAN 第四篇三、第五篇: the end is the approved decision, its 30 days start there
        fail("应急响应结束时间不能手工填写：它是结束应急响应的最后一项批准的时间（CQ-PLAN 第四篇三），"
             "调查评估报告的 30 日期限自此起算（CQ-PLAN 第五篇）；请用 regflows incident close ID --proposed-by P 发起结束审批")

    changes: dict[str, object] = read_record(record).model_dump(mode="json") if record else {}
    changes.update({name: parse_instant(value, f"--{name.replace('_', '-')}").isoformat()
                    for name, value in (("confirmed_at", confirmed_at), ("recovered_at", recovered_at),
                                        ("handling_ended_at", handling_ended_at)) if value})
    if important_system is not None:
        changes["important_system"] = important_system
    if not changes:
        fail("没有要记录的时间点或要更正的事实")
    outcome = _update(profile, incident_id, changes, reason, by, force_regrade=False)
    emit_json({"incident": incident_id, "updated": {k: v["to"] for k, v in outcome["changes"].items()}, **outcome})


def _update(profile: Path | None, incident_id: str, changes: dict[str, object], reason: str, by: str, *,
            force_regrade: bool) -> dict:  # type: ignore[type-arg]
    """The one correction path (regflows/incident/update.py); a refusal exits with its code."""
    from regflows.incident.update import UpdateRefused, update_incident

    loaded = _profile(profile)
    try:
        outcome = update_incident(loaded, incident_id, dict(changes), reason=reason, by=by.strip(), force_regrade=force_regrade)
    except UpdateRefused as exc:
        fail(str(exc), ExitCode.REFUSED)
    except (LookupError, IncidentRecordError, ValueError) as exc:
        fail(str(exc))
    summary = outcome.summary()
    summary["obligations"] = [{"id": r.code, "state": r.state, "due": to_local(r.due_at).isoformat() if r.due_at else None}
                              for r in outcome.rows]
    return summary


@incident_app.command("close")
def close_command(
    incident_id: Annotated[str, typer.Argument(help="事件编号")],
    proposed_by: Annotated[str, typer.Option(help="提议人（人员编号）")],
    profile: ProfileOpt = None,
) -> None:
    """发起结束应急响应：按级别依次向有权决定的各方发送本人审批链接（CQ-PLAN 第四篇三）；最后一项批准即为结束时间。"""
    from regflows.incident.closing import CloseRefused, request_close

    try:
        roles = request_close(_profile(profile), incident_id, proposed_by)
    except (CloseRefused, LookupError) as exc:
        fail(str(exc), _exit_code(exc))
    emit_json({"incident": incident_id, "approval_requested_from": roles})


@incident_app.command("release-warning")
def release_warning_command(
    incident_id: Annotated[str, typer.Argument(help="事件编号")],
    by: Annotated[str, typer.Option(help="决定解除预警的人员（红、橙：应急工作组成员；黄、蓝：事件发生处室成员）")],
    consented_by: Annotated[str | None, typer.Option(help="黄色预警：同意解除的应急工作组成员")] = None,
    note: Annotated[str | None, typer.Option(help="说明（如解除依据的研判结论）")] = None,
    profile: ProfileOpt = None,
) -> None:
    """解除预警（CQ-PLAN 第三篇五）：记录决定人与同意人，写入时间线与审计账本。"""
    from regflows.incident.warning_release import ReleaseRefused, release_warning

    try:
        emit_json(release_warning(_profile(profile), incident_id, by.strip(), consented_by, note))
    except (ReleaseRefused, LookupError) as exc:
        fail(str(exc), _exit_code(exc))


@incident_app.command("status")
def status_command(incident_id: Annotated[str, typer.Argument(help="事件编号")]) -> None:
    """事件状态、各项义务与时间线。"""
    from regflows.incident import store
    from regflows.store.notices import acks_of

    try:
        incident = store.load_incident(incident_id)
    except LookupError as exc:
        fail(str(exc))
    emit_json({
        "incident": incident.id, "title": incident.title, "grade": incident.grade, "state": incident.state, "drill": incident.drill,
        "obligations": [{"id": o.code, "due": to_local(o.due_at).isoformat() if o.due_at else None, "state": o.state,
                         "source": o.clause, "fulfilled_by": o.fulfilled_by,
                         **({"waivable": o.detail["waivable"]} if (o.detail or {}).get("waivable") else {}),
                         **({"waiver": o.evidence["waiver"]} if (o.evidence or {}).get("waiver") else {}),
                         **({"reopened": o.evidence["reopened"]} if (o.evidence or {}).get("reopened") else {}),
                         **({"withdrawn": o.evidence["withdrawn"]} if (o.evidence or {}).get("withdrawn") else {}),
                         **({"addressee": o.detail["addressee"]} if (o.detail or {}).get("addressee") else {})}
                        for o in store.obligations_of(incident_id)],
        "timeline": [{"at": to_local(e.at).isoformat(), "kind": e.kind, "actor": e.actor, "detail": json.loads(json.dumps(e.detail, default=str))}
                     for e in store.timeline(incident_id)],
        # As of now: a run's notices artifact says only whether it was acknowledged when sent.
        "acknowledgements": [{"notice": a.notice_id, "title": a.title, "sent_at": to_local(a.sent_at).isoformat(),
                              "acknowledged": {p: to_local(at).isoformat() for p, at in a.by_person.items()} or "未确认"}
                             for a in acks_of(incident_id, f"incident:{incident_id}:")],
    })


@incident_app.command("regrade")
def regrade_command(
    incident_id: Annotated[str, typer.Argument(help="事件编号")],
    reason: Annotated[str, typer.Option(help="重新定级理由（必填，记入时间线与审计账本）")],
    by: Annotated[str, typer.Option(help="决定人（人员编号）")],
    assessed_grade: Annotated[str | None, typer.Option(help="综合研判级别 I/II/III/IV（只能调高）")] = None,
    record: Annotated[Path | None, typer.Option(help="更正后的完整事件记录 JSON（事实有误时）")] = None,
    profile: ProfileOpt = None,
) -> None:
    """重新定级：记录理由；时限仍自发现时起算，级别或义务变化时通知新级别的相关部门，已逾期的义务立即上报。"""
    _person(profile, by)
    changes: dict[str, object] = read_record(record).model_dump(mode="json") if record else {}
    if assessed_grade:
        changes.update(assessed_grade=assessed_grade, assessed_reason=reason)
    emit_json(_update(profile, incident_id, changes, reason, by, force_regrade=True))
