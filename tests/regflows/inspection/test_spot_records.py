"""What the quarterly spot check of the business departments covered (CUSTINFO 10.2;
regflows/inspection/spot_records.py): each department × area checked, problems or not, its result
derived from the rectification register, the CLI, and the report's subsection."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import docx
import pytest
from sqlalchemy import inspect, select
from typer.testing import CliRunner

from calendars.zone import SHANGHAI
from regflows.cli import app
from regflows.inspection import pipeline
from regflows.inspection.models import InspectionInputError, Quarter
from regflows.inspection.rectification import open_rectification
from regflows.inspection.report import NO_SPOT_CHECK, SECTIONS, SPOT_CHECK_COLUMNS, SPOT_CHECK_HEADING
from regflows.inspection.spot_check import spot_check_finding
from regflows.inspection.spot_records import record_spot_check, spot_checks
from regflows.profile import DEMO_PROFILE, Profile, load_profile
from regflows.store import db, migrate
from regflows.store.models import AuditEntry, InspectionSpotCheck

PEOPLE = {"chen.jing", "sun.li", "he.min", "zhou.qiang"}
TODAY = dt.date(2026, 11, 27)
Q3 = Quarter.parse("2026Q3")


@pytest.fixture
def store(home: Path) -> Path:
    migrate()
    return home


def record(**over: Any) -> Any:
    facts: dict[str, Any] = {"quarter": "2026Q3", "department": "零售业务处", "area": "权限管理", "by": "sun.li",
                             "checked_on": "2026-09-28", "note": "抽查 20 个用户", "people": PEOPLE, "today": TODAY}
    return record_spot_check(**{**facts, **over})


def test_the_migration_creates_the_table(store: Path) -> None:
    with db.session() as s:
        assert "inspection_spot_check" in inspect(s.get_bind()).get_table_names()


def test_a_check_without_a_problem_is_covered_ok_and_one_with_findings_lists_them(store: Path) -> None:
    check, created = record()
    assert created and (check.result, check.area, check.findings) == ("ok", "access", ())
    assert record()[1] is False  # the same check again changes nothing
    record(area="销毁流程", checked_on=dt.date(2026, 9, 29), note="")
    problem = open_rectification(spot_check_finding(quarter="2026Q3", department="零售业务处", area="销毁流程",
                                                    problem="纸质资料未经审批销毁", owner="chen.jing", found_on="2026-09-29"))
    # a problem in an area with no record: covered too, its day and person unknown (never invented)
    other = open_rectification(spot_check_finding(quarter="2026Q3", department="公司业务部", area="收集告知",
                                                  problem="未告知查询用途", owner="chen.jing", found_on="2026-09-30"))
    covered = {(c.department, c.area): c for c in spot_checks(Q3)}
    assert covered[("零售业务处", "access")].result == "ok"
    assert covered[("零售业务处", "destruction")].findings == (problem.finding_id,)
    assert covered[("零售业务处", "destruction")].result == "problems"
    assert (covered[("公司业务部", "collection")].checked_on, covered[("公司业务部", "collection")].by) == (None, None)
    assert covered[("公司业务部", "collection")].findings == (other.finding_id,)
    assert spot_checks(Quarter.parse("2026Q2")) == []
    with db.session() as s:
        entries = list(s.execute(select(AuditEntry).where(AuditEntry.action == "inspection.spot_check_recorded")).scalars())
        assert len(entries) == 2 and entries[0].actor == "sun.li"


@pytest.mark.parametrize(("change", "message"), [
    ({"area": "档案"}, "抽查领域（area）只能是"),
    ({"checked_on": "2026-12-01"}, "抽查日期（checked_on） 2026-12-01 晚于今天 2026-11-27"),
    ({"checked_on": "2026-10-03"}, "是法定节假日（国庆节），不是工作日"),
    ({"checked_on": "2026-06-30"}, "早于 2026Q3 的第一天"),
    ({"checked_on": "28/09/2026"}, "应写作 YYYY-MM-DD"),
    ({"by": "nobody.x"}, "抽查人（by） nobody.x 不在机构配置的人员"),
    ({"quarter": "2026Q5"}, "季度（quarter）"),
    ({"department": " "}, "业务部门（department）不能为空"),
])
def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(store: Path, change: dict[str, Any], message: str) -> None:
    with pytest.raises(InspectionInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        record(**change)
    with db.session() as s:
        assert list(s.execute(select(InspectionSpotCheck)).scalars()) == []


RECORD = ["self-inspection", "spot-check", "record", "--quarter", "2026Q3", "--department", "零售业务处", "--area", "收集告知",
          "--by", "sun.li", "--checked-on", "2026-09-28", "--note", "抽查 10 份授权书"]


def test_cli_record_and_list(store: Path) -> None:
    runner = CliRunner()
    done = runner.invoke(app, RECORD)
    assert done.exit_code == 0, done.output
    out = json.loads(done.stdout)
    assert (out["created"], out["area"], out["area_name"], out["result"]) == (True, "collection", "收集告知", "ok")
    listed = runner.invoke(app, ["self-inspection", "spot-check", "list", "--quarter", "2026Q3"])
    assert listed.exit_code == 0, listed.output
    assert [(c["department"], c["area"], c["checked_on"], c["by"], c["result"]) for c in json.loads(listed.stdout)] == [
        ("零售业务处", "collection", "2026-09-28", "sun.li", "ok")]


@pytest.mark.parametrize(("change", "code", "message"), [
    ({"--area": "档案"}, 2, "抽查领域（--area）只能是"),
    ({"--checked-on": "2099-12-01"}, 2, "抽查日期（--checked-on） 2099-12-01 晚于今天"),
    ({"--by": "nobody.x"}, 2, "抽查人（--by） nobody.x 不在机构配置的人员"),
    ({"--quarter": "2026-3"}, 2, "季度（--quarter）"),
    ({"--checked-on": "2026-10-03"}, 2, "抽查日期（--checked-on） 2026-10-03 是法定节假日（国庆节）"),
])
def test_cli_bad_input_names_the_option(store: Path, change: dict[str, str], code: int, message: str) -> None:
    args = list(RECORD)
    for option, value in change.items():
        args[args.index(option) + 1] = value
    result = CliRunner().invoke(app, args)
    assert result.exit_code == code, result.output
    assert message in result.stderr and "Traceback" not in result.output
    bad_list = CliRunner().invoke(app, ["self-inspection", "spot-check", "list", "--quarter", "Q3"])
    assert bad_list.exit_code == 2 and "--quarter：季度应写作 YYYYQn" in bad_list.stderr


def _subsection(path: Path) -> tuple[list[str], list[list[str]]]:
    """The report's headings, and the rows of the table right after the spot-check heading's paragraphs."""
    document = docx.Document(str(path))
    headings = [p.text for p in document.paragraphs if p.style is not None and p.style.name.startswith("Heading")]
    tables = [[c.text for c in row.cells] for t in document.tables for row in t.rows if tuple(c.text for c in t.rows[0].cells) == SPOT_CHECK_COLUMNS]
    return headings, tables


def test_the_report_states_the_spot_checks_coverage_and_says_so_when_none(home: Path, tmp_path: Path, quarter_data: Any) -> None:
    profile: Profile = load_profile(DEMO_PROFILE)
    profile = profile.model_copy(update={"reporting_units": [u.model_copy(update={"reports_to_local_branch": False})
                                                             for u in profile.reporting_units]})
    q = Quarter.parse("2025Q3")
    outcome = pipeline.run(q, quarter_data.logs, quarter_data.users, tmp_path / "out", profile, vulns=quarter_data.vulns, seed=11)
    headings, rows = _subsection(outcome.files["report"])
    assert [h for h in headings if h in SECTIONS] == list(SECTIONS)  # the numbered sections unchanged
    assert SPOT_CHECK_HEADING in headings and rows == []
    text = "\n".join(p.text for p in docx.Document(str(outcome.files["report"])).paragraphs)
    assert NO_SPOT_CHECK in text  # never silent
    people = {p.id for p in profile.people}
    record_spot_check(quarter=q, department="零售业务处", area="权限管理", by="sun.li", checked_on="2025-09-10", people=people,
                      today=dt.date(2025, 10, 9))
    problem = open_rectification(spot_check_finding(quarter=q, department="零售业务处", area="销毁流程",
                                                    problem="纸质资料未经审批销毁", owner="chen.jing", found_on="2025-09-11"))
    record_spot_check(quarter=q, department="零售业务处", area="销毁流程", by="sun.li", checked_on="2025-09-11", people=people,
                      today=dt.date(2025, 10, 9))
    redrafted = pipeline.redraft(outcome.run_id, tmp_path / "r2.docx", now=dt.datetime(2025, 10, 20, 10, tzinfo=SHANGHAI))
    headings, rows = _subsection(redrafted)
    assert [h for h in headings if h in SECTIONS] == list(SECTIONS)
    assert rows[1:] == [["零售业务处", "权限管理", "2025-09-10", "孙丽", "未发现问题"],
                        ["零售业务处", "销毁流程", "2025-09-11", "孙丽", f"发现问题：{problem.finding_id}"]], rows
    text = "\n".join(p.text for p in docx.Document(str(redrafted)).paragraphs)
    assert NO_SPOT_CHECK not in text and "本季度未登记对收集告知领域的抽查" in text
