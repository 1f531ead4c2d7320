"""A quarter's self-inspection run end to end, in steps the Prefect tasks and the CLI share
(issue 15, items 1-4, 6 and the CLI contract).

Read the users file and the query logs (rows before the quarter are history for the checks),
run the user checks, flag the quarter's queries with the monthly rules (looked up in the kit's
registry: :mod:`regflows.kit.querylogs`, never imported from the statistics), draw the spot-check
sample of the unflagged ones, gather the quarter's events and incidents from the store, read the
vulnerability register, then write into the output folder, as one set or none
(:func:`regflows.kit.publish.publishing`): the worklist .xlsx, ``sample-manifest.json``, the
findings .xlsx, the report draft .docx and ``summary.json``; the run and its leads are recorded in
the store (:func:`regflows.inspection.records.save_run`) inside the same block, so a failed write
records nothing and a failed record publishes nothing.

The same data and seed give the same sample and the same manifest bytes (nothing run-specific
is in the manifest); the worklist, report and run id carry the run's time.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from calendars.official import CalendarError
from calendars.zone import SHANGHAI
from regflows.inspection import records
from regflows.inspection.checks import CHECK_IDS, CheckResult, Finding, QueryHistory, over_days_off, query_history, run_checks
from regflows.inspection.due import report_due
from regflows.inspection.leads import incident_leads, query_leads, quarter_rows, unowned
from regflows.inspection.models import LINKS, InspectionInputError, Lead, Quarter
from regflows.inspection.owed import filed_reports
from regflows.inspection.rectification import list_findings
from regflows.inspection.register_sheet import report_rows
from regflows.inspection.report import ReportContext, write_findings, write_report
from regflows.inspection.spot_records import spot_checks
from regflows.inspection.sample import MANIFEST_NAME, Sample, draw, manifest_bytes, population
from regflows.inspection.users import UsersFile, read_users
from regflows.inspection.vulns import VulnsFigures, figures, read_vulns
from regflows.inspection.units import InspectionReport, reports, user_units
from regflows.inspection.worklist import export_worklist
from regflows.kit.evidence import sha256_file
from regflows.kit.files import write_atomically
from regflows.kit.publish import publishing
from regflows.kit.reports import OnRecord, refuse_overwriting
from regflows.kit.querylogs import QueryLogError, query_log_source
from regflows.profile import Profile

__all__ = ["STEPS", "SUMMARY_KEYS", "Outcome", "coverage_warning", "file_names", "previous_quarter", "quarter_title", "redraft", "run",
           "summary_markdown", "unknown_users"]

#: The steps of :func:`run`, as a person watching a long run sees them.
STEPS = ("读取用户清单", "读取查询日志", "检查用户", "标记线索并抽样", "读取事件与漏洞台账", "写出文件并登记")
#: summary.json's keys, exactly the CLI contract's (issue 15, "CLI contract").
SUMMARY_KEYS = ("quarter", "leads", "population", "sampled", "seed", "population_sha256", "checks", "findings",
                "report_due", "reports")
#: Each entry of summary.json's ``reports`` (one per report the quarter owes: units.py).
REPORT_KEYS = ("unit", "name", "head_office", "addressee", "covers", "leads", "sampled", "checks", "findings", "report_due", "files")
_NUMERALS = "一二三四"
#: An Excel worksheet's rows (the worklist is one sheet).
EXCEL_MAX_ROWS = 1_048_576


def quarter_title(quarter: Quarter) -> str:
    return f"{quarter.year}年第{_NUMERALS[quarter.number - 1]}季度"


def report_file_names(quarter: Quarter, report: InspectionReport | None = None) -> dict[str, str]:
    """A report's two files: the head office's keep the quarter's names, a unit's add ``-<unit>``."""
    suffix = report.suffix if report is not None else ""
    return {"report": f"self-inspection-report-{quarter.label}{suffix}.docx", "findings": f"findings-{quarter.label}{suffix}.xlsx"}


def file_names(quarter: Quarter, units: Sequence[InspectionReport] = ()) -> dict[str, str]:
    """The files a run writes into its output folder: the head office's report and findings as
    ``report``/``findings``, each unit's that reports on its own as ``report-<unit>``/``findings-<unit>``."""
    label = quarter.label
    names = {"worklist": f"worklist-{label}.xlsx", "manifest": MANIFEST_NAME, **report_file_names(quarter)}
    for r in units:
        if not r.head_office:
            names.update({f"{k}-{r.unit.code}": v for k, v in report_file_names(quarter, r).items()})
    return {**names, "summary": "summary.json"}


def file_key(kind: str, unit: str | None) -> str:
    """``report`` / ``report-YX0101``: a report's file in :func:`file_names`."""
    return kind if unit is None else f"{kind}-{unit}"


def _share(results: dict[str, CheckResult], holds: Callable[[str], bool], units: dict[str, str], head: str) -> dict[str, CheckResult]:
    """The checks of one report's users: each result with only the findings of its users."""
    return {c: dataclasses.replace(r, findings=tuple(f for f in r.findings if holds(units.get(f.user_id, head))))
            for c, r in results.items()}


@dataclass
class Outcome:
    """What a successful run produced."""

    run_id: str
    quarter: Quarter
    summary: dict[str, Any]
    sample: Sample
    results: dict[str, CheckResult]
    leads: list[Lead]
    vulns: VulnsFigures | None
    report_due_basis: str
    worklist_sha256: str
    files: dict[str, Path] = field(default_factory=dict)
    #: Raised to people (CLI stderr, the flow's log and artifact): unowned leads, undecided checks,
    #: an undetermined due day, an earlier run cut off while writing.
    warnings: list[str] = field(default_factory=list)
    calendar_missing: bool = False


def _run_id(quarter: Quarter, now: dt.datetime) -> str:
    return f"{quarter.label}-{now.astimezone(SHANGHAI):%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"


def run(quarter: Quarter, logs: Sequence[Path], users: Path, out_dir: Path, profile: Profile, *,
        vulns: Path | None = None, seed: int | None = None, database_url: str | None = None,
        now: dt.datetime | None = None, on_step: Callable[[str], None] | None = None) -> Outcome:
    """Run the quarter and publish its files; ``on_step`` hears each of :data:`STEPS` as it starts.

    Raises :class:`InspectionInputError` (a bad file, row or quarter, in Chinese),
    :class:`regflows.kit.querylogs.NoQueryLogSource` when no procedure registered the logs.
    """
    step = on_step or (lambda _name: None)
    settings = profile.settings
    now = (now or dt.datetime.now(SHANGHAI)).astimezone(SHANGHAI)
    if quarter.last_day >= now.date():
        raise InspectionInputError(f"{quarter.label} 尚未结束（季末 {quarter.last_day}）：自查在季度结束后进行")
    step(STEPS[0])
    users_file = read_users(users)
    register = read_vulns(vulns) if vulns is not None else None  # a bad register stops the run before the long work
    step(STEPS[1])
    for log in logs:  # the log reader's own error would pass the OS's English text through
        if not Path(log).is_file():
            raise InspectionInputError(f"查询日志 {log} {'是一个文件夹，不是文件' if Path(log).is_dir() else '不存在'}")
    source = query_log_source()
    try:
        frame = source.read(list(logs), settings)
    except QueryLogError as exc:
        raise InspectionInputError(str(exc)) from exc
    step(STEPS[2])
    history = over_days_off(query_history(frame))
    results = run_checks(users_file, history, quarter, settings)
    step(STEPS[3])
    rows = quarter_rows(frame, quarter)
    coverage = coverage_warning(history, quarter)
    try:
        flagged = source.flag(frame, quarter.first_day, quarter.last_day, settings, users)
    except QueryLogError as exc:
        raise InspectionInputError(str(exc)) from exc
    pop = population(rows["query_id"].astype(str), flagged["query_id"].astype(str))
    sample = draw(quarter, pop, settings, seed, flagged=flagged["query_id"].astype(str),
                  coverage_note=f"查询日志只覆盖 {history.coverage()}，未覆盖整个季度" if coverage else None)
    step(STEPS[4])
    queries = query_leads(rows, flagged, sample.ids, profile)
    flagged_leads = [lead for lead in queries if lead.kind == "flagged"]
    sampled_leads = [lead for lead in queries if lead.kind == "sampled"]
    leads = flagged_leads + incident_leads(quarter, profile, database_url) + sampled_leads
    figures_ = figures(register, quarter) if register is not None else None
    rows_needed = len(leads) * len(LINKS) + 1  # the worklist: one row per lead and link, and its header
    if rows_needed > EXCEL_MAX_ROWS:
        raise InspectionInputError(
            f"核实清单需要 {rows_needed} 行（{len(leads)} 条线索 × {len(LINKS)} 个环节），超过 Excel 工作表上限 {EXCEL_MAX_ROWS} 行："
            f"其中抽查 {len(sampled_leads)} 笔，请调低机构配置中的抽查比例（inspection_sample_percent，现为 {settings.inspection_sample_percent:g}%）")

    warnings = [coverage] if coverage else []
    warnings += unknown_users(rows, users_file)
    warnings += unowned(leads, profile)
    warnings += [f"检查项「{r.title}」未判断：{r.not_evaluated}" for r in results.values() if r.count is None]
    warnings += [f"检查项「{r.title}」只判断了一部分：{r.partial}" for r in results.values() if r.partial]
    if "formal_employee" not in users_file.columns:  # the monthly rules ran without it (credit's logsource.flag)
        warnings.append(f"用户清单 {Path(users).name} 无 formal_employee 列：异常查询规则中「非正式员工查询」一项未适用，"
                        "本季度线索不含非正式员工的查询（附件3 5.7 检查亦未判断）")
    if figures_ is None:
        warnings.append("未提供漏洞台账（--vulns）：本季度漏洞处置情况（NFRA 23）未分析")
    try:
        deadline = report_due(quarter, settings)
        due: str | None = deadline.last_day.isoformat() if deadline.last_day else None
        basis = deadline.basis
        if deadline.provisional:
            warnings.append(f"报告截止日 {due} 为暂定（{basis}）")
        calendar_missing = False
    except CalendarError as exc:
        due, basis, calendar_missing = None, f"报告截止日无法确定：{exc}", True
        warnings.append(basis)

    all_reports = reports(profile)
    head_code = profile.head_office.code
    pairs = frame.groupby(["user_id", "unit"]).size() if len(frame) else {}
    units = user_units(((u.user_id, u.unit) for u in users_file.users),
                       {(str(u), str(n)): int(c) for (u, n), c in pairs.items()}, head_code)
    names = file_names(quarter, all_reports)
    unit_names = {u.code: u.name for u in profile.reporting_units}
    strangers = sorted({u.unit for u in users_file.users if u.unit and u.unit not in unit_names})
    if strangers:  # never silent: their users are checked in the head office's report
        warnings.append(f"用户清单 unit 列中的单位 {'、'.join(strangers)} 不在机构配置的报送单位（reporting_units）中："
                        "其用户的检查结果计入总部的报告")
    shares: list[tuple[InspectionReport, list[Lead], dict[str, CheckResult], dict[str, Any]]] = []
    for r in all_reports:
        r_leads = [lead for lead in leads if r.holds(lead.unit)]
        r_results = _share(results, r.holds, units, head_code)
        r_checks = {c: r_results[c].count for c in CHECK_IDS}
        shares.append((r, r_leads, r_results, {
            "unit": r.unit.code, "name": r.unit.name, "head_office": r.head_office, "addressee": r.addressee,
            "covers": list(r.covers), "leads": sum(1 for lead in r_leads if lead.kind != "sampled"),
            "sampled": sum(1 for lead in r_leads if lead.kind == "sampled"), "checks": r_checks,
            "findings": sum(n for n in r_checks.values() if n is not None), "report_due": due,
            "files": report_file_names(quarter, r)}))

    # A re-run starts from the quarter's previous run (review of issue 15, defect 1): the answers to
    # identical (lead, link) pairs come along, carried with their origin; a filed quarter is warned.
    previous = records.latest_run_id(quarter.label, database_url)
    carried = records.carry_over(previous, leads, database_url)
    notes: dict[str, Any] = {}
    if previous is not None:
        warnings.append(f"{quarter.label} 此前已有自查运行 {previous}：本次运行取代它（其核实清单、核实页面与签发不再接受），"
                        f"相同线索的 {len(carried)} 个环节结论已带入本次运行（标明来源）")
    filed = filed_reports(quarter, database_url)
    if filed:
        when = "、".join(f"{subject}（{at.astimezone(SHANGHAI):%Y-%m-%d %H:%M}）" for subject, at in sorted(filed.items()))
        warnings.append(f"{quarter.label} 的自查报告已报送：{when}；本次重新运行不改变已报送的报告，"
                        "如有更正，须重新签发并按原报告流程重新报送（PBOC-102 三（三））")
        notes["inspection.filed_quarter_rerun"] = {"filed": {k: v.isoformat() for k, v in sorted(filed.items())}, "previous": previous}
    answers = {(a.lead_id, a.link): a for a in carried}

    checks = {c: results[c].count for c in CHECK_IDS}
    summary = {"quarter": quarter.label, "leads": len(leads) - len(sampled_leads), "population": sample.population_size,
               "sampled": sample.size, "seed": sample.seed, "population_sha256": sample.population_sha256,
               "checks": checks, "findings": sum(n for n in checks.values() if n is not None), "report_due": due,
               "reports": [entry for *_, entry in shares]}
    manifest = sample.manifest()
    manifest_data = manifest_bytes(manifest)
    run_id = _run_id(quarter, now)
    owners = {p.id: p.name for p in profile.people}
    contexts: list[tuple[InspectionReport, ReportContext]] = []
    covered = spot_checks(quarter, database_url)  # CUSTINFO 10.2: what the quarter's spot check covered
    for r, r_leads, r_results, _entry in shares:
        others = [e for *_, e in shares if not e["head_office"]] if r.head_office else []
        contexts.append((r, ReportContext(
            institution=profile.institution.name, quarter_label=quarter.label, quarter_title=quarter_title(quarter),
            first_day=quarter.first_day, last_day=quarter.last_day, run_id=run_id, prepared_at=now.replace(microsecond=0),
            logs=[Path(p).name for p in logs], users_file=Path(users).name, rules_title=source.title, results=r_results,
            leads=r_leads, sample=sample, manifest_sha256=hashlib.sha256(manifest_data).hexdigest(), report_due=due,
            report_due_basis=basis, vulns=figures_,
            vulns_file=Path(vulns).name if vulns is not None else None, warnings=warnings, people=owners,
            units=unit_names, unit=r.unit.code, unit_name=r.unit.name, head_office=r.head_office, addressee=r.addressee,
            covers=tuple(r.covers), others=tuple(others), others_summarised=settings.inspection_head_office_summary,
            answers={key: a for key, a in answers.items() if key[0] in {lead.lead_id for lead in r_leads}},
            spot_checks=[c for c in covered if r.holds(c.department)])))

    step(STEPS[5])
    with publishing(out_dir) as stage:
        worklist_sha = export_worklist(stage.path / names["worklist"], run_id, quarter, now, leads, owners, answers=answers)
        write_atomically(stage.path / names["manifest"], manifest_data)
        for r, ctx in contexts:
            write_findings(stage.path / names[file_key("findings", r.code)], ctx)
            write_report(stage.path / names[file_key("report", r.code)], ctx)
        write_atomically(stage.path / names["summary"],
                         (json.dumps(summary, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
        # each document on record with its SHA-256 where it will be published (the same bytes): a
        # unit's report and findings under ``<run id>/<unit>`` (records.document_subject)
        documents = {key: (Path(out_dir).absolute() / name, sha256_file(stage.path / name)[0]) for key, name in names.items()}
        by_unit = {r.unit.code: {kind: documents.pop(file_key(kind, r.unit.code)) for kind in ("report", "findings")}
                   for r, _ in contexts if not r.head_office}
        head_ctx = contexts[0][1]
        records.save_run(run_id, quarter.label, sample.seed, manifest, leads, worklist_sha, now, files=documents,
                         unit_files=by_unit, carried=carried, previous=previous, notes=notes,
                         summary={**summary, "run_id": run_id, "warnings": warnings,
                                  "not_evaluated": {r.check: r.not_evaluated for r in results.values() if r.count is None},
                                  "vulnerabilities": figures_.as_dict() if figures_ else None,
                                  "files": dict(names), "report": _report_facts(head_ctx),
                                  "unit_reports": {r.unit.code: _report_facts(ctx) for r, ctx in contexts if not r.head_office}},
                         url=database_url)
    warnings += [f"此前一次运行在写出文件时中断，其未发布的文件已保存在 {kept}" for kept in stage.recovered]
    files = {key: stage.final(stage.path / name) for key, name in names.items()}
    return Outcome(run_id=run_id, quarter=quarter, summary=summary, sample=sample, results=results, leads=leads,
                   vulns=figures_, report_due_basis=basis, worklist_sha256=worklist_sha, files=files, warnings=warnings,
                   calendar_missing=calendar_missing)


def coverage_warning(history: QueryHistory, quarter: Quarter) -> str | None:
    """Chinese, when the logs do not cover the whole quarter (they start after its first day or end
    before its last): the leads and the sample then come from the days covered only, and the checks
    that need the whole quarter are not evaluated (review of issue 15, item 2). None when they do."""
    if history.covers(quarter.first_day, quarter.last_day):
        return None
    return (f"查询日志只覆盖 {history.coverage()}，未覆盖 {quarter.label}（{quarter.first_day} 至 {quarter.last_day}）全季度："
            "线索与抽查样本只来自日志覆盖的日期，未覆盖日期的查询未核实、未抽样；需要全季度日志的用户检查未判断")


def unknown_users(rows: Any, users: UsersFile, shown: int = 10) -> list[str]:
    """Chinese, when users query in the quarter's logs but are not in the users file: the checks
    never saw them (review of issue 15, item 10); their count and the first ``shown`` ids."""
    listed = {u.user_id for u in users.users}
    missing = sorted({str(u) for u in rows["user_id"]} - listed) if len(rows) else []
    if not missing:
        return []
    more = " 等" if len(missing) > shown else ""
    return [f"本季度查询日志中有 {len(missing)} 个用户不在用户清单 {Path(users.source).name} 中（{'、'.join(missing[:shown])}{more}），"
            "未对其做用户检查：请核实用户清单是否完整"]


def _report_facts(ctx: ReportContext) -> dict[str, Any]:
    """What the report says that the store does not hold elsewhere: each check's result with its
    findings, the inputs' names, the due day; so the report can be drafted again (:func:`redraft`)."""
    return {"institution": ctx.institution, "logs": list(ctx.logs), "users_file": ctx.users_file, "rules_title": ctx.rules_title,
            "vulns_file": ctx.vulns_file, "manifest_sha256": ctx.manifest_sha256, "report_due": ctx.report_due,
            "report_due_basis": ctx.report_due_basis, "warnings": list(ctx.warnings), "people": dict(ctx.people), "units": dict(ctx.units),
            "unit": ctx.unit, "unit_name": ctx.unit_name, "head_office": ctx.head_office, "addressee": ctx.addressee,
            "covers": list(ctx.covers), "others": [dict(o) for o in ctx.others], "others_summarised": ctx.others_summarised,
            "results": [{"check": r.check, "title": r.title, "clause": r.clause, "not_evaluated": r.not_evaluated,
                         "partial": r.partial,
                         "findings": [dataclasses.asdict(f) for f in r.findings]} for r in ctx.results.values()]}


def redraft(run_id: str, path: Path, *, now: dt.datetime | None = None, url: str | None = None, unit: str | None = None) -> Path:
    """The run's report (the head office's, or ``unit``'s own) drafted again with the owners'
    answers recorded since (section 四, findings by link), everything else as the run found it;
    written at ``path`` and recorded with its SHA-256 (kind ``report-redraft``). A run recorded
    before its facts were kept is refused; so is a unit without its own report in that run, and a
    ``path`` that holds a document on record."""
    run_row = records.run_of(run_id, url)
    if run_row is None:
        raise InspectionInputError(f"自查运行 {run_id} 未登记")
    try:  # never over a document on record: its recorded SHA-256 would no longer match (review of issue 15, defect 4)
        refuse_overwriting(path, url)
    except OnRecord as exc:
        raise InspectionInputError(str(exc)) from None
    kept = run_row.summary or {}
    head = (kept.get("report") or {}).get("unit")
    if unit is None or unit == head:
        facts, unit = kept.get("report"), None
    else:
        facts = (kept.get("unit_reports") or {}).get(unit)
        if facts is None:
            own = "、".join(kept.get("unit_reports") or {}) or "无"
            raise InspectionInputError(f"自查运行 {run_id} 中报送单位 {unit} 没有单独的自查报告（单独报送的单位：{own}）")
    if not facts:
        raise InspectionInputError(f"自查运行 {run_id} 未保存报告所需的数据，无法重新起草：请重新运行该季度")
    quarter = Quarter.parse(run_row.quarter)
    m = run_row.manifest
    flagged = m["population"].get("flagged") or {}
    sample = Sample(quarter.label, int(m["population"]["size"]), str(m["population"]["sha256"]), int(m["seed"]), False,
                    int(m["sample_size"]), str(m["size_rule"]), tuple(m["sampled"]), flagged.get("count"),
                    flagged.get("sha256"), m["population"].get("logs_cover"))
    results = {r["check"]: CheckResult(r["check"], r["title"], r["clause"], tuple(Finding(**f) for f in r["findings"]),
                                       r["not_evaluated"], r.get("partial")) for r in facts["results"]}
    vulns = (run_row.summary or {}).get("vulnerabilities")
    stamp = (now or dt.datetime.now(SHANGHAI)).astimezone(SHANGHAI).replace(microsecond=0)
    held = [lead for lead in records.leads_of(run_id, url) if _holds(facts, lead.unit)]  # and only their answers
    ctx = ReportContext(
        institution=facts["institution"], quarter_label=quarter.label, quarter_title=quarter_title(quarter),
        first_day=quarter.first_day, last_day=quarter.last_day, run_id=run_id, prepared_at=stamp, logs=facts["logs"],
        users_file=facts["users_file"], rules_title=facts["rules_title"], results=results,
        leads=held,
        sample=sample, manifest_sha256=facts["manifest_sha256"], report_due=facts["report_due"],
        report_due_basis=facts["report_due_basis"], vulns=VulnsFigures.from_dict(vulns) if vulns else None,
        vulns_file=facts["vulns_file"], warnings=facts["warnings"],
        answers={key: a for key, a in records.latest_answers(run_id, url).items() if key[0] in {lead.lead_id for lead in held}},
        people=facts.get("people") or {}, units=facts.get("units") or {},
        register=report_rows([f for f in list_findings(quarter, url) if _holds(facts, f.finding.unit)],
                             names=facts.get("people") or {}, units=facts.get("units") or {}, today=stamp.date()),
        unit=facts.get("unit") or "", unit_name=facts.get("unit_name") or "", head_office=facts.get("head_office", True),
        addressee=facts.get("addressee") or "", covers=tuple(facts.get("covers") or ()), others=tuple(facts.get("others") or ()),
        others_summarised=facts.get("others_summarised", True),
        spot_checks=[c for c in spot_checks(quarter, url) if _holds(facts, c.department)])
    written = write_report(path, ctx)
    records.record_document(run_id, "report-redraft", written.absolute(), sha256_file(written)[0], url=url, unit=unit)
    return written


def _holds(facts: dict[str, Any], unit: str) -> bool:
    """Whether a report's kept facts hold ``unit``'s data (as :meth:`InspectionReport.holds`; a run
    recorded before units: everything)."""
    if "head_office" not in facts:
        return True
    if facts["head_office"]:
        return unit not in {o["unit"] for o in facts.get("others") or []}
    return bool(unit == facts.get("unit"))


def previous_quarter(today: dt.date | None = None) -> Quarter:
    """The quarter before today's (Beijing): what the run on the first working day after it inspects."""
    day = today or dt.datetime.now(SHANGHAI).date()
    number = (day.month - 1) // 3 + 1
    return Quarter(day.year - 1, 4) if number == 1 else Quarter(day.year, number - 1)


def summary_markdown(outcome: Outcome) -> str:
    """The run as people read it in the UI: the counts, every check (未判断 with its reason), the
    vulnerability chart and the warnings (Chinese; no personal data: counts and ids of checks)."""
    from regflows.inspection.vulns import chart_markdown
    from regflows.kit.documents import markdown_text

    s = outcome.summary
    lines = [f"# {quarter_title(outcome.quarter)}征信合规与信息安全自查（{markdown_text(outcome.run_id)}）", "",
             "| 项目 | 数值 |", "|---|---|", f"| 线索（不含抽查） | {s['leads']} |", f"| 未标记查询（抽样总体） | {s['population']} |",
             f"| 抽查样本 | {s['sampled']} |", f"| 随机种子 | {s['seed']} |", f"| 总体 SHA-256 | `{s['population_sha256']}` |",
             f"| 用户检查问题 | {s['findings']} |", f"| 报告截止日 | {s['report_due'] or '无法确定'} |", "",
             "## 用户检查（附件3 5.1-5.7）", "", "| 检查项 | 条款 | 结果 |", "|---|---|---|"]
    for r in outcome.results.values():
        result = f"未判断：{markdown_text(r.not_evaluated)}" if r.count is None else f"{r.count} 项问题"
        if r.partial:
            result += f"（只判断了一部分：{markdown_text(r.partial)}）"
        lines.append(f"| {markdown_text(r.title)} | {markdown_text(r.clause)} | {result} |")
    if len(s.get("reports") or []) > 1:  # PBOC-102 三（三）'s route: the head office's and each unit's own report
        lines += ["", "## 各报送单位的自查报告", "", "| 单位 | 报送对象 | 线索 | 抽查 | 用户检查问题 |", "|---|---|---|---|---|"]
        lines += [f"| {markdown_text(r['name'])}（{markdown_text(r['unit'])}） | {markdown_text(r['addressee'])} | {r['leads']} | "
                  f"{r['sampled']} | {r['findings']} |" for r in s["reports"]]
    if outcome.vulns is not None:
        lines += ["", chart_markdown(outcome.vulns)]
    if outcome.warnings:
        lines += ["", "## 警告", *[f"- {markdown_text(w)}" for w in outcome.warnings]]
    return "\n".join(lines) + "\n"
