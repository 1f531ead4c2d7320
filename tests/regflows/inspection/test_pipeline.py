"""A quarter's self-inspection run end to end (regflows/inspection/pipeline.py) on generated data:
2025Q3 from the credit statistics' demo generator, the demo users file (one planted user per
check) and a small vulnerability register."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import docx
import openpyxl
import pandas as pd
import pytest
import yaml

from calendars.zone import SHANGHAI
from regflows.inspection import pipeline, records
from regflows.inspection.checks import CHECK_IDS, QueryHistory, check_rules, over_days_off
from regflows.inspection.demo import PLANTED
from regflows.inspection.models import InspectionInputError, Quarter
from regflows.inspection.report import FINDINGS_COLUMNS, SECTIONS
from regflows.inspection.sample import MANIFEST_NAME, population, redraw
from regflows.inspection.units import reports
from regflows.kit import querylogs
from regflows.profile import DEMO_PROFILE, Profile, load_profile
from regflows.store.db import session
from regflows.store.models import Incident, InspectionRun, Report

Q = Quarter.parse("2025Q3")


@pytest.fixture
def profile() -> Profile:
    return load_profile(DEMO_PROFILE)


def run(data: Any, out: Path, profile: Profile, seed: int | None = 11, logs: list[Path] | None = None, **kw: Any) -> pipeline.Outcome:
    return pipeline.run(Q, logs or data.logs, data.users, out, profile, vulns=data.vulns, seed=seed, **kw)


def quarter_ids(logs: list[Path]) -> set[str]:
    frames = [pd.read_csv(p, dtype=str) for p in logs]
    frame = pd.concat(frames)
    day = frame["queried_at"].str[:10]
    return set(frame["query_id"][(day >= "2025-07-01") & (day <= "2025-09-30")])


def test_a_quarter_runs_end_to_end_and_summary_json_follows_the_contract(home: Path, tmp_path: Path, quarter_data: Any,
                                                                         profile: Profile) -> None:
    steps: list[str] = []
    outcome = run(quarter_data, tmp_path / "out", profile, on_step=steps.append)
    assert steps == list(pipeline.STEPS)
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary == outcome.summary
    assert tuple(summary) == pipeline.SUMMARY_KEYS
    assert list(summary["checks"]) == list(CHECK_IDS)
    assert summary["quarter"] == "2025Q3" and summary["seed"] == 11
    # 15 working days after 2025-09-30: National Day 10-01..08 off, Saturday 10-11 a make-up working day
    assert summary["report_due"] == "2025-10-28"
    # every planted user trips its check; the planted users trip nothing else
    for user_id, check in PLANTED.items():
        tripped = {c for c, r in outcome.results.items() for f in r.findings if f.user_id == user_id}
        assert tripped == {check}, (user_id, tripped)
    assert summary["findings"] == sum(len(r.findings) for r in outcome.results.values()) >= len(PLANTED)
    # the population is the quarter's queries minus the flagged ones; the flagged ones are the leads
    flagged = [lead for lead in outcome.leads if lead.kind == "flagged"]
    assert flagged and all(lead.rules for lead in flagged)
    ids = quarter_ids(quarter_data.logs)
    assert summary["population"] == len(ids) - len(flagged)
    assert summary["leads"] == len(flagged)  # no incidents in this store
    assert summary["sampled"] == 30 == len([lead for lead in outcome.leads if lead.kind == "sampled"])
    assert summary["population_sha256"] == outcome.sample.population_sha256
    # every lead has its unit's owner (the demo profile names one per unit)
    owners = {u.code: u.inspection_owner for u in profile.reporting_units}
    assert all(lead.owner == owners[lead.unit] for lead in outcome.leads)
    # recorded with its leads, in the worklist's order
    saved = records.run_of(outcome.run_id)
    assert saved is not None and saved.worklist_sha256 == outcome.worklist_sha256 and saved.manifest == outcome.sample.manifest()
    assert [lead.lead_id for lead in records.leads_of(outcome.run_id)] == [lead.lead_id for lead in outcome.leads]
    # the run's files and each report's (the demo's two branches report to their local PBoC branch)
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if not p.name.startswith(".")) == sorted(
        pipeline.file_names(Q, reports(profile)).values())
    assert len(pipeline.file_names(Q, reports(profile))) == len(pipeline.file_names(Q)) + 4
    # every document on record with the SHA-256 of the published bytes: a branch's under <run id>/<unit>
    with session() as s:
        recorded = {r.kind: (Path(r.path), r.sha256) for r in s.query(Report).filter(Report.subject == outcome.run_id)}
        for unit in ("YX0101", "YX0201"):
            recorded |= {f"{r.kind}-{unit}": (Path(r.path), r.sha256)
                         for r in s.query(Report).filter(Report.subject == records.document_subject(outcome.run_id, unit))}
    assert set(recorded) == set(pipeline.file_names(Q, reports(profile)))
    for kind, (path, digest) in recorded.items():
        assert path == outcome.files[kind].absolute() and hashlib.sha256(path.read_bytes()).hexdigest() == digest


def test_the_same_data_and_seed_give_the_same_sample_and_manifest_bytes(home: Path, tmp_path: Path, quarter_data: Any,
                                                                        profile: Profile) -> None:
    first = run(quarter_data, tmp_path / "a", profile, seed=2**40 + 3)
    second = run(quarter_data, tmp_path / "b", profile, seed=2**40 + 3)
    assert first.run_id != second.run_id  # two runs, each recorded
    one, two = (tmp_path / "a" / MANIFEST_NAME).read_bytes(), (tmp_path / "b" / MANIFEST_NAME).read_bytes()
    assert one == two
    assert first.sample.ids == second.sample.ids
    # an auditor redraws the sample from the manifest and the quarter's unflagged queries alone
    flagged = [lead.ref for lead in first.leads if lead.kind == "flagged"]
    pop = population(quarter_ids(quarter_data.logs), flagged)
    assert redraw(json.loads(one), pop) == list(first.sample.ids)
    other = run(quarter_data, tmp_path / "c", profile, seed=2**40 + 4)
    assert other.sample.ids != first.sample.ids and other.sample.population_sha256 == first.sample.population_sha256


def test_without_a_seed_one_is_drawn_and_recorded(home: Path, tmp_path: Path, quarter_data: Any, profile: Profile) -> None:
    outcome = run(quarter_data, tmp_path / "out", profile, seed=None)
    manifest = json.loads((tmp_path / "out" / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert manifest["seed"] == outcome.summary["seed"] == outcome.sample.seed
    assert isinstance(manifest["seed"], int) and outcome.sample.seed_drawn


def test_a_changed_population_changes_its_hash(home: Path, tmp_path: Path, quarter_data: Any, profile: Profile,
                                               copy_logs: Any) -> None:
    base = run(quarter_data, tmp_path / "a", profile)
    sampled = {lead.ref for lead in base.leads if lead.kind != "flagged"}
    flagged = {lead.ref for lead in base.leads if lead.kind == "flagged"}

    def drop_one(frame: pd.DataFrame) -> pd.DataFrame:
        # a plain query: its subject queried once, by the regular user (not a heavy day's): dropping it
        # changes no other query's flags
        once = frame["subject_id"].map(frame["subject_id"].value_counts()) == 1
        plain = frame[once & (frame["user_id"] == "U000000") & frame["queried_at"].str.startswith("2025-09")]
        victim = next(q for q in plain["query_id"] if q not in flagged and q not in sampled)
        return frame[frame["query_id"] != victim]

    changed = run(quarter_data, tmp_path / "b", profile, logs=copy_logs(drop_one))
    assert changed.summary["population"] == base.summary["population"] - 1
    assert changed.summary["population_sha256"] != base.summary["population_sha256"]


def test_a_failed_write_publishes_nothing_and_records_nothing(home: Path, tmp_path: Path, quarter_data: Any,
                                                              profile: Profile, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    good = run(quarter_data, out, profile)
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file() and not p.name.startswith(".")}

    def broken(path: Path, ctx: Any) -> Path:
        raise OSError("磁盘已满（测试）")

    monkeypatch.setattr(pipeline, "write_report", broken)  # after the worklist, manifest and findings are written
    with pytest.raises(OSError, match="磁盘已满"):
        run(quarter_data, out, profile, seed=99)
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file() and not p.name.startswith(".")}
    assert after == before  # the last good set, whole
    kept = [p for p in out.iterdir() if p.name.startswith("failed-")]
    assert len(kept) == 1 and (kept[0] / MANIFEST_NAME).exists()  # the failed run's files kept aside
    with session() as s:
        assert [r.id for r in s.query(InspectionRun).all()] == [good.run_id]  # nothing recorded for it


def test_a_failed_record_publishes_nothing(home: Path, tmp_path: Path, quarter_data: Any, profile: Profile,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(*args: Any, **kw: Any) -> None:
        raise InspectionInputError("登记失败（测试）")

    monkeypatch.setattr(records, "save_run", refused)
    with pytest.raises(InspectionInputError, match="登记失败"):
        run(quarter_data, tmp_path / "out", profile)
    assert not (tmp_path / "out" / "summary.json").exists()


def test_the_report_opens_and_holds_every_section(home: Path, tmp_path: Path, quarter_data: Any, profile: Profile) -> None:
    outcome = run(quarter_data, tmp_path / "out", profile)
    document = docx.Document(str(outcome.files["report"]))
    headings = [p.text for p in document.paragraphs if p.style is not None and p.style.name.startswith("Heading")]
    assert [h for h in headings if h in SECTIONS] == list(SECTIONS)
    text = "\n".join(p.text for p in document.paragraphs) + "\n".join(
        c.text for t in document.tables for row in t.rows for c in row.cells)
    assert outcome.sample.population_sha256 in text and str(outcome.sample.seed) in text
    assert "2025-10-28" in text and "草稿" in text
    assert all(f"{name}环节" in headings for name in ("授权", "审核", "查询", "使用", "存储"))
    assert "逾期" in text and "V1" in text  # V1 open past its due day at the quarter's end


def test_the_findings_workbook_reads_back(home: Path, tmp_path: Path, quarter_data: Any, profile: Profile) -> None:
    outcome = run(quarter_data, tmp_path / "out", profile)
    book = openpyxl.load_workbook(outcome.files["findings"])
    rows = list(book["问题清单"].iter_rows(values_only=True))
    assert rows[0] == FINDINGS_COLUMNS
    title = {c: check_rules().rule(c).title for c in CHECK_IDS}
    found = {(r[1], r[3]) for r in rows[1:]}
    assert {(title[check], user) for user, check in PLANTED.items()} <= found
    assert len(rows) - 1 == outcome.summary["findings"]
    assert all(r[2] and "附件3" in r[2] for r in rows[1:])  # each finding with its clause
    # people read titles, never check ids (review of issue 15, item 15)
    assert not any(c in str(cell) for r in rows for cell in r for c in CHECK_IDS)
    results = {r[0]: r[2] for r in book["检查结果"].iter_rows(min_row=2, values_only=True)}
    assert results == {title[c]: n if n is not None else "未判断" for c, n in outcome.summary["checks"].items()}


def test_checks_the_data_cannot_decide_are_null_and_raised(home: Path, tmp_path: Path, quarter_data: Any,
                                                          profile: Profile) -> None:
    outcome = run(quarter_data, tmp_path / "out", profile, logs=quarter_data.logs[3:])  # the quarter only: no six months
    assert outcome.summary["checks"]["low_volume_not_suspended"] is None
    [warning] = [w for w in outcome.warnings if check_rules().rule("low_volume_not_suspended").title in w]
    assert "未判断" in warning and warning.count("未判断") == 1 and "low_volume_not_suspended" not in warning
    assert outcome.summary["findings"] == sum(n for n in outcome.summary["checks"].values() if n is not None)



def test_a_users_file_without_formal_employee_leaves_only_that_check_undecided(home: Path, tmp_path: Path, quarter_data: Any,
                                                                             profile: Profile) -> None:
    """Review of issue 15, defect 2: the monthly rules' reader refused the whole run (缺少列 formal_employee)."""
    frame = pd.read_csv(quarter_data.users, dtype=str, keep_default_na=False).drop(columns=["formal_employee"])
    users = tmp_path / "users.csv"
    frame.to_csv(users, index=False)
    outcome = pipeline.run(Q, quarter_data.logs, users, tmp_path / "out", profile, vulns=quarter_data.vulns, seed=11)
    checks = outcome.summary["checks"]
    assert checks["non_formal_user"] is None and "formal_employee" in (outcome.results["non_formal_user"].not_evaluated or "")
    assert checks["shared_roles"] is not None and outcome.summary["leads"] > 0
    assert any("formal_employee" in w and "非正式员工" in w and "异常查询" in w for w in outcome.warnings), outcome.warnings


def test_incidents_and_events_of_the_quarter_are_leads_drills_are_not(home: Path, tmp_path: Path, quarter_data: Any,
                                                                      profile: Profile) -> None:
    from regflows.store import migrate

    migrate()

    def incident(id_: str, at: dt.datetime, unit: str = "YX0101", event: str | None = None, drill: bool = False) -> Incident:
        return Incident(id=id_, reporting_unit=unit, title=f"事件 {id_}", category="other", grade="IV", occurred_at=at,
                        discovered_at=at, drill=drill, credit_info_event=event, record={})

    inside = dt.datetime(2025, 8, 3, 10, tzinfo=SHANGHAI)
    with session() as s:
        s.add_all([incident("INC-EVENT", inside, event="report_leak"), incident("INC-PLAIN", inside, unit="YX0001"),
                   incident("INC-DRILL", inside, event="improper_use", drill=True),
                   incident("INC-BEFORE", dt.datetime(2025, 6, 30, 23, tzinfo=SHANGHAI)),
                   incident("INC-UNKNOWN-UNIT", inside, unit="ZZ9999")])
    outcome = run(quarter_data, tmp_path / "out", profile)
    by_ref = {lead.ref: lead for lead in outcome.leads if lead.kind in ("event", "incident")}
    assert set(by_ref) == {"INC-EVENT", "INC-PLAIN", "INC-UNKNOWN-UNIT"}
    assert by_ref["INC-EVENT"].kind == "event" and "信用报告泄漏" in by_ref["INC-EVENT"].summary
    assert by_ref["INC-EVENT"].owner == "chen.jing" and by_ref["INC-PLAIN"].owner == "he.min"
    # a lead with no owner is raised, never silent
    assert by_ref["INC-UNKNOWN-UNIT"].owner is None
    assert any("ZZ9999" in w and "没有核实负责人" in w for w in outcome.warnings)
    assert outcome.summary["leads"] == len([lead for lead in outcome.leads if lead.kind != "sampled"])


def test_a_unit_without_an_owner_is_raised(home: Path, tmp_path: Path, quarter_data: Any) -> None:
    raw = yaml.safe_load(DEMO_PROFILE.read_text(encoding="utf-8"))
    for unit in raw["reporting_units"]:
        if unit["code"] == "YX0201":
            del unit["inspection_owner"]
    path = tmp_path / "profile.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    outcome = run(quarter_data, tmp_path / "out", load_profile(path))
    unowned = [lead for lead in outcome.leads if lead.owner is None]
    assert unowned and {lead.unit for lead in unowned} == {"YX0201"}
    [warning] = [w for w in outcome.warnings if "YX0201" in w]
    assert f"{len(unowned)} 条线索没有核实负责人" in warning
    assert "指定核实负责人（inspection_owner）" in warning and "reporting_units 中为" not in warning  # the setting in parentheses at most


def test_a_quarter_not_over_is_refused(home: Path, tmp_path: Path, quarter_data: Any, profile: Profile) -> None:
    with pytest.raises(InspectionInputError, match="尚未结束"):
        run(quarter_data, tmp_path / "out", profile, now=dt.datetime(2025, 9, 30, 23, tzinfo=SHANGHAI))
    assert not (tmp_path / "out").exists()


def test_a_log_row_without_its_time_is_refused_by_line(home: Path, tmp_path: Path, quarter_data: Any, profile: Profile,
                                                      copy_logs: Any) -> None:
    def spoil(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[4, "queried_at"] = "05/09/2025 10:00"
        return frame

    logs = copy_logs(spoil)
    with pytest.raises(InspectionInputError, match=r"第 6 行.*queried_at"):
        run(quarter_data, tmp_path / "out", profile, logs=logs)


def test_a_repeated_query_id_in_the_quarter_is_refused(home: Path, tmp_path: Path, quarter_data: Any, profile: Profile,
                                                      copy_logs: Any) -> None:
    def repeat(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[7, "query_id"] = frame.loc[6, "query_id"]
        return frame

    with pytest.raises(InspectionInputError, match="重复的 query_id"):
        run(quarter_data, tmp_path / "out", profile, logs=copy_logs(repeat))


def test_without_a_registered_log_source_the_run_says_what_to_import(home: Path, tmp_path: Path, quarter_data: Any,
                                                                    profile: Profile, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(querylogs, "_SOURCE", [])
    with pytest.raises(querylogs.NoQueryLogSource, match="regflows.credit"):
        run(quarter_data, tmp_path / "out", profile)
    assert not (tmp_path / "out").exists()


def test_previous_quarter() -> None:
    assert pipeline.previous_quarter(dt.date(2026, 1, 4)) == Quarter(2025, 4)
    assert pipeline.previous_quarter(dt.date(2026, 4, 1)) == Quarter(2026, 1)
    assert pipeline.previous_quarter(dt.date(2026, 12, 31)) == Quarter(2026, 3)


def test_summary_markdown_names_every_check_and_the_warnings(home: Path, tmp_path: Path, quarter_data: Any,
                                                            profile: Profile) -> None:
    outcome = run(quarter_data, tmp_path / "out", profile, logs=quarter_data.logs[3:])
    text = pipeline.summary_markdown(outcome)
    assert all(r.title in text for r in outcome.results.values())
    assert "未判断" in text and "漏洞处置情况" in text and "## 警告" in text


def test_the_report_and_findings_print_as_people_will_read_them(home: Path, tmp_path: Path, quarter_data: Any,
                                                               profile: Profile, printed: Any) -> None:
    """LibreOffice prints the report on A4 with every section and the findings sheet with its clauses."""
    outcome = run(quarter_data, tmp_path / "out", profile)
    report = printed(outcome.files["report"])
    assert report.size == pytest.approx((595.3, 841.9), abs=1)  # A4 portrait
    text = "".join("".join(page.split()) for page in report.texts)
    assert all(section in text for section in SECTIONS)
    assert outcome.sample.population_sha256 in text and "草稿" in text
    findings = printed(outcome.files["findings"])
    flat = "".join("".join(page.split()) for page in findings.texts)
    assert "X-SHARED" in flat and "附件3" in flat


def test_without_next_years_calendar_the_due_day_is_null_and_raised(home: Path, tmp_path: Path, profile: Profile) -> None:
    """2026Q4's report falls due in January 2027, whose State Council notice is not loaded: the run
    publishes, ``report_due`` is null (never a guess), and the run says why."""
    import regflows.credit  # noqa: F401  (registers the query-log source)
    from regflows.credit.demo import generate
    from regflows.credit.models import Period
    from regflows.inspection.demo import users_csv

    q4 = Quarter.parse("2026Q4")
    logs, users = [], set()
    for i, month in enumerate(("2026-10", "2026-11", "2026-12")):
        frame = generate(120, 7 + i, Period.parse(month)).frame
        frame["query_id"] = f"{month}-" + frame["query_id"].astype(str)
        frame.to_csv(tmp_path / f"{month}.csv", index=False)
        logs.append(tmp_path / f"{month}.csv")
        users |= set(frame["user_id"])
    (tmp_path / "users.csv").write_text(users_csv(sorted(users), q4), encoding="utf-8")
    outcome = pipeline.run(q4, logs, tmp_path / "users.csv", tmp_path / "out", profile, seed=3,
                           now=dt.datetime(2027, 1, 5, 9, tzinfo=SHANGHAI))
    assert outcome.calendar_missing and outcome.summary["report_due"] is None
    assert json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))["report_due"] is None
    assert any("报告截止日无法确定" in w and "2027" in w for w in outcome.warnings)


def test_a_worklist_beyond_excels_rows_is_refused_before_anything_is_written(home: Path, tmp_path: Path, quarter_data: Any,
                                                                            profile: Profile,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline, "EXCEL_MAX_ROWS", 200)  # the data's leads x 5 links exceed it
    with pytest.raises(InspectionInputError, match="超过 Excel 工作表上限 200 行.*inspection_sample_percent"):
        run(quarter_data, tmp_path / "out", profile)
    assert not (tmp_path / "out").exists()


def test_the_report_is_redrafted_with_the_owners_answers(home: Path, tmp_path: Path, quarter_data: Any, profile: Profile) -> None:
    from typer.testing import CliRunner

    from regflows.cli import app
    from regflows.inspection.models import LINKS, Answer

    # one report for the whole bank (no branch reports on its own): every lead and finding in it
    profile = profile.model_copy(update={"reporting_units": [u.model_copy(update={"reports_to_local_branch": False})
                                                             for u in profile.reporting_units]})

    outcome = run(quarter_data, tmp_path / "out", profile)
    first = outcome.leads[0].lead_id
    at = dt.datetime(2025, 10, 10, 2, tzinfo=dt.timezone.utc)
    answers = [Answer(first, link, "compliant", "已核对授权书", "chen.jing", at, "page") for link in LINKS if link != "storage"]
    answers.append(Answer(first, "storage", "violation", "征信报告存放于共享盘，超出制度规定", "chen.jing", at, "page"))
    records.record_answers(outcome.run_id, answers)
    from regflows.inspection.rectification import new_finding, open_rectification

    patrol = new_finding(quarter="2025Q3", source="patrol", title="查询授权书留存不全", clause="PBOC-102 三（三）", unit="YX0101",
                         owner="chen.jing", feedback="2025-09-01")
    open_rectification(patrol)
    result = CliRunner().invoke(app, ["self-inspection", "redraft", outcome.run_id, "--out", str(tmp_path / "r2.docx")])
    assert result.exit_code == 0, result.output
    document = docx.Document(str(tmp_path / "r2.docx"))
    text = "\n".join(p.text for p in document.paragraphs) + "\n".join(
        c.text for t in document.tables for row in t.rows for c in row.cells)
    # the lead by its kind and reference, the person by name (review of issue 15, item 15)
    lead = outcome.leads[0]
    assert f"异常查询线索 {lead.ref}：违规，征信报告存放于共享盘，超出制度规定（核实人 陈静）" in text
    assert first not in text and "chen.jing" not in text
    assert "已核实 1 条（线索与抽查），其中违规或需整改 1 条" in text  # the storage link
    # leads and sampled queries counted apart
    n_leads = sum(1 for x in outcome.leads if x.kind != "sampled")
    assert f"尚有{n_leads - 1} 条线索、{outcome.sample.size} 笔抽查待负责人核实" in text
    assert outcome.sample.population_sha256 in text and "2025-10-28" in text and "V1" in text  # as the run found it
    # section 六 lists the register as it stands: the patrol's finding with its unit and owner by name, due day and state
    register = [[c.text for c in row.cells] for t in document.tables for row in t.rows if row.cells[0].text == "查询授权书留存不全"]
    assert register == [["查询授权书留存不全", "人民银行检查反馈", "渝信示范银行成都分行", "陈静", "2025-09-22", "已逾期"]], register
    assert "本季度问题整改台账共 1 项" in text
    first_draft = docx.Document(str(outcome.files["report"]))
    assert [p.text for p in first_draft.paragraphs if p.style is not None and p.style.name.startswith("Heading")] == [
        p.text for p in document.paragraphs if p.style is not None and p.style.name.startswith("Heading")]
    with session() as s:
        kinds = [r.kind for r in s.query(Report).filter(Report.subject == outcome.run_id)]
    assert "report-redraft" in kinds
    unknown = CliRunner().invoke(app, ["self-inspection", "redraft", "nope", "--out", str(tmp_path / "x.docx")])
    assert unknown.exit_code == 2 and "未登记" in unknown.stderr


def test_logs_that_do_not_cover_the_quarter_raise_a_warning_naming_the_days(home: Path, tmp_path: Path, quarter_data: Any,
                                                                           profile: Profile) -> None:
    """Review of issue 15, item 2: the September log alone covers 09-01..09-30 (its real first and last
    queries), not the quarter; the run says so in its warnings, the report and the manifest, and no
    idle user is flagged on a day the logs do not cover."""
    full = run(quarter_data, tmp_path / "full", profile)
    assert not any("查询日志只覆盖" in w for w in full.warnings)
    frame = pd.read_csv(quarter_data.logs[-1], dtype=str)
    real = sorted(frame["queried_at"].str[:10])
    # the days off right around them count as covered (checks.over_days_off), no working day does
    widened = over_days_off(QueryHistory(dt.date.fromisoformat(real[0]), {}, dt.date.fromisoformat(real[-1])))
    days = [str(widened.first_day), str(widened.last_day)]
    assert days[0] > "2025-07-01" and days[-1] >= real[-1]
    outcome = run(quarter_data, tmp_path / "out", profile, logs=quarter_data.logs[-1:])
    [warning] = [w for w in outcome.warnings if "查询日志只覆盖" in w]
    assert f"{days[0]} 至 {days[-1]}" in warning and "线索与抽查样本只来自日志覆盖的日期" in warning
    manifest = json.loads((tmp_path / "out" / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert days[0] in manifest["population"]["logs_cover"]
    document = docx.Document(str(outcome.files["report"]))
    assert any("查询日志只覆盖" in p.text for p in document.paragraphs)
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    assert any(f"查询日志只覆盖 {days[0]} 至 {days[-1]}" in c and "未覆盖日期的查询不在总体中" in c for c in cells)  # section 三
    assert all(str(dt.date(2025, 8, 1)) not in f.detail for f in outcome.results["idle_not_locked"].findings)
    assert outcome.summary["checks"]["centralised_out_of_range"] is None  # needs the whole quarter


def test_users_in_the_logs_but_not_in_the_users_file_are_listed(home: Path, tmp_path: Path, quarter_data: Any,
                                                                profile: Profile, copy_logs: Any) -> None:
    """Review of issue 15, item 10: the checks never saw them; the run says how many and which."""
    ghosts = [f"GHOST-{i:02d}" for i in range(12)]

    def haunt(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[: len(ghosts) - 1, "user_id"] = ghosts
        return frame

    outcome = run(quarter_data, tmp_path / "out", profile, logs=copy_logs(haunt))
    [warning] = [w for w in outcome.warnings if "不在用户清单" in w]
    assert "有 12 个用户不在用户清单 users.csv 中" in warning and "（" + "、".join(ghosts[:10]) + " 等）" in warning
    document = docx.Document(str(outcome.files["report"]))
    assert any("不在用户清单" in p.text for p in document.paragraphs)
    assert not any("不在用户清单" in w for w in run(quarter_data, tmp_path / "full", profile).warnings)


def test_a_missing_log_file_is_refused_in_chinese(home: Path, tmp_path: Path, quarter_data: Any, profile: Profile) -> None:
    with pytest.raises(InspectionInputError) as caught:
        run(quarter_data, tmp_path / "out", profile, logs=[tmp_path / "absent.csv"])
    assert str(caught.value) == f"查询日志 {tmp_path / 'absent.csv'} 不存在"


def test_warnings_and_report_show_no_codes(home: Path, tmp_path: Path, quarter_data: Any, profile: Profile) -> None:
    """Review of issue 15, item 15: check ids and setting names are not what people read."""
    outcome = run(quarter_data, tmp_path / "out", profile, logs=quarter_data.logs[3:])
    document = docx.Document(str(outcome.files["report"]))
    text = "\n".join(p.text for p in document.paragraphs) + "\n".join(
        c.text for t in document.tables for row in t.rows for c in row.cells)
    for shown in [*outcome.warnings, text]:
        assert not any(c in shown for c in CHECK_IDS) and "inspection_sample" not in shown
        assert "未判断，未判断" not in shown and "，未判断" not in shown


def test_a_column_some_checks_need_absent_leaves_those_null_and_the_run_goes_on(home: Path, tmp_path: Path,
                                                                               quarter_data: Any, profile: Profile) -> None:
    """Review of issue 15, item 11: without password_reused the run does not abort; without
    direct_user and changed_at filing_late still finds the admin filed late and says what it skipped."""
    frame = pd.read_csv(quarter_data.users, dtype=str, keep_default_na=False)
    users = tmp_path / "users.csv"
    frame.drop(columns=["password_reused", "direct_user", "changed_at"]).to_csv(users, index=False)
    outcome = pipeline.run(Q, quarter_data.logs, users, tmp_path / "out", profile, vulns=quarter_data.vulns, seed=11)
    assert outcome.summary["checks"]["password_policy"] is None
    assert outcome.results["password_policy"].not_evaluated == "用户文件缺少 password_reused 列"
    filing = outcome.results["filing_late"]
    assert filing.count is not None and "X-ADMIN" in {f.user_id for f in filing.findings} and filing.partial
    document = docx.Document(str(outcome.files["report"]))
    text = "\n".join(c.text for t in document.tables for row in t.rows for c in row.cells)
    assert "未判断：用户文件缺少 password_reused 列" in text and "只判断了一部分" in text
    assert any("只判断了一部分" in w for w in outcome.warnings)


def test_a_rerun_carries_the_owners_answers_and_the_superseded_run_takes_no_more(home: Path, tmp_path: Path, quarter_data: Any,
                                                                                profile: Profile) -> None:
    """Review of issue 15, defect 1: a re-run with the same data started from zero (report 四 已核实 0,
    progress 0, owners reminded again) while the old run still took answers and imports."""
    from sqlalchemy import select

    from regflows.inspection.models import LINKS, Answer
    from regflows.inspection.pages import PageClaim, PageRefused, _render, record_page_answer
    from regflows.inspection.progress import progress_of
    from regflows.inspection.worklist import export_run_worklist, import_worklist
    from regflows.store.models import AuditEntry

    first = run(quarter_data, tmp_path / "a", profile, now=dt.datetime(2025, 10, 9, 9, tzinfo=SHANGHAI))
    lead = first.leads[0]
    assert lead.owner is not None
    at = dt.datetime(2025, 10, 10, 2, tzinfo=dt.timezone.utc)
    given = [Answer(lead.lead_id, link, "compliant", "已核对授权书", lead.owner, at, "page") for link in LINKS if link != "storage"]
    given.append(Answer(lead.lead_id, "storage", "violation", "征信报告存放于共享盘", lead.owner, at, "page"))
    records.record_answers(first.run_id, given)
    export_run_worklist(tmp_path / "old.xlsx", first.run_id)

    second = run(quarter_data, tmp_path / "b", profile, now=dt.datetime(2025, 10, 11, 9, tzinfo=SHANGHAI))
    assert [x.lead_id for x in second.leads] == [x.lead_id for x in first.leads]
    carried = records.latest_answers(second.run_id)
    assert set(carried) == {(lead.lead_id, link) for link in LINKS}
    assert all(a.source == "carried" and a.carried_from == first.run_id and a.answered_by == lead.owner for a in carried.values())
    assert carried[(lead.lead_id, "storage")].outcome == "violation"
    assert any(first.run_id in w and "5 个环节" in w for w in second.warnings)
    assert sum(r.answered for r in progress_of(second.run_id)) == len(LINKS)
    sheet = openpyxl.load_workbook(second.files["worklist"]).worksheets[0]
    assert sum(1 for row in sheet.iter_rows(values_only=True) if row[0] == lead.lead_id and row[8] in ("合规", "违规")) == len(LINKS)
    text = "\n".join(p.text for p in docx.Document(str(second.files["report"])).paragraphs)
    assert "已核实 1 条（线索与抽查），其中违规或需整改 1 条" in text
    with session() as s:
        entry = s.execute(select(AuditEntry).where(AuditEntry.action == "inspection.answers_carried")).scalars().all()
    assert [json.loads(e.payload)["from"] for e in entry] == [first.run_id] and entry[0].subject == second.run_id

    # the superseded run says which run replaced it and takes nothing more
    with pytest.raises(InspectionInputError, match=second.run_id):
        import_worklist(tmp_path / "old.xlsx", by=lead.owner, people={p.id: p.name for p in profile.people})
    claim = PageClaim(first.run_id, lead.lead_id, lead.owner, dt.datetime(2099, 1, 1, tzinfo=dt.timezone.utc))
    with pytest.raises(PageRefused, match=second.run_id) as refused:
        record_page_answer(claim, "use", "rectify", "复印件未登记")
    assert refused.value.status == 409
    page = bytes(_render(claim).body).decode("utf-8")  # the old page says so before anyone types
    assert "不再接受答复" in page and second.run_id in page
    assert len(records.answers_of(first.run_id)) == len(LINKS)

    # a third run keeps the origin: the run the answers were given on
    third = run(quarter_data, tmp_path / "c", profile, now=dt.datetime(2025, 10, 12, 9, tzinfo=SHANGHAI))
    assert {a.carried_from for a in records.latest_answers(third.run_id).values()} == {first.run_id}


def test_the_findings_workbook_prints_every_sheet_landscape_with_rows_tall_enough(home: Path, tmp_path: Path, quarter_data: Any,
                                                                                 profile: Profile, printed: Any) -> None:
    """Review of issue 15, defect 3: rows one line high cut clauses and details; 检查结果 had no page setup."""
    outcome = run(quarter_data, tmp_path / "out", profile)
    book = openpyxl.load_workbook(outcome.files["findings"])
    for sheet in book.worksheets:
        assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.fitToWidth == 1, sheet.title
        assert sheet.print_title_rows, sheet.title
        assert all(sheet.row_dimensions[r].height for r in range(2, sheet.max_row + 1)), sheet.title
    result = printed(outcome.files["findings"])
    assert result.size[0] > result.size[1]
    flat = "".join("".join(page.split()) for page in result.texts)
    details = ["".join(str(row[5]).split()) for row in book["问题清单"].iter_rows(min_row=2, values_only=True)]
    clauses = ["".join(str(row[1]).split()) for row in book["检查结果"].iter_rows(min_row=2, values_only=True)]
    assert details and clauses
    # each printed to its end (a row one line high cuts its wrapped cells: their last line is missing)
    assert [d for d in details + clauses if d[-3:] not in flat] == []


def test_out_never_overwrites_a_file_on_record(home: Path, tmp_path: Path, quarter_data: Any, profile: Profile) -> None:
    """Review of issue 15, defect 4: redraft and finding export --out over the run's own files replaced
    them silently (their recorded SHA-256 no longer matched)."""
    from typer.testing import CliRunner

    from regflows.cli import app

    outcome = run(quarter_data, tmp_path / "out", profile)
    before = {key: hashlib.sha256(p.read_bytes()).hexdigest() for key, p in outcome.files.items()}
    runner = CliRunner()
    attempts = [["self-inspection", "redraft", outcome.run_id, "--out", str(outcome.files["report"])],
                ["self-inspection", "finding", "export", "--quarter", Q.label, "--out", str(outcome.files["worklist"])],
                ["self-inspection", "worklist", outcome.run_id, "--out", str(outcome.files["worklist"])],
                ["self-inspection", "finding", "export", "--quarter", Q.label, "--out", str(outcome.files["findings"])]]
    for args in attempts:
        result = runner.invoke(app, args)
        assert result.exit_code == 2 and "已登记的文件" in result.stderr and "Traceback" not in result.output, (args, result.output)
    assert {key: hashlib.sha256(p.read_bytes()).hexdigest() for key, p in outcome.files.items()} == before
    fresh = runner.invoke(app, ["self-inspection", "redraft", outcome.run_id, "--out", str(tmp_path / "r2.docx")])
    assert fresh.exit_code == 0, fresh.output
    again = runner.invoke(app, ["self-inspection", "redraft", outcome.run_id, "--out", str(tmp_path / "r2.docx")])
    assert again.exit_code == 2 and "report-redraft" in again.stderr  # a redraft on record is kept too
