"""备注 (PBOC-102 附件2 注2: 「在备注中描述违规事件的详细情况」; issue 12, point 12): a row with a
non-zero count says what lies behind it, rules and counts for the query columns, incident
references for the event columns; a zero row says nothing."""

from __future__ import annotations

from pathlib import Path

from regflows.credit.events import EventRef
from regflows.credit.models import Period
from regflows.credit.pipeline import run
from regflows.credit.table import read_table
from regflows.profile import DEMO_PROFILE, load_profile

SEP = Period(2025, 9)


def test_each_non_zero_row_describes_its_rules_and_incidents(tmp_path: Path, home: Path, row, write_csv) -> None:
    """附件2 注2: rules hit with their counts; incident references in the event columns."""
    log = write_csv(tmp_path / "log.csv", [
        row("q1", "2025-09-10 21:00:00"),  # off hours: 异常查询
        row("q2", "2025-09-11 22:00:00"),  # off hours
        row("q3", "2025-09-12 10:00:00", authorization_id="", authorized_at=""),  # no authorization: 违规查询
        row("q4", "2025-09-12 10:00:00", institution="YX0101", region="四川省"),  # clean
    ])
    events = [EventRef("INC-20250915-ABC123", "YX0001", ("illegal_provision", "report_leak"), "2025-09"),
              EventRef("INC-20250920-DEF456", "YX0001", ("report_leak",), "2025-09")]
    outcome = run(log, SEP, load_profile(DEMO_PROFILE), tmp_path / "out", events=events)
    head = outcome.tables[0].rows[0]
    assert head.counts["report_leak"] == 2 and head.counts["illegal_provision"] == 1
    assert "违规查询 1 笔：未取得授权 1" in head.remark
    assert "异常查询 2 笔：非工作时间 2" in head.remark
    assert "非法提供 1 笔：事件 INC-20250915-ABC123" in head.remark
    assert "信用报告泄漏 2 笔：事件 INC-20250915-ABC123、INC-20250920-DEF456" in head.remark
    chengdu = outcome.tables[1].rows[0]
    assert chengdu.institution == "YX0101" and chengdu.remark == ""  # all zero: nothing to describe
    back = read_table(outcome.tables[0].files["xlsx"])
    assert back["rows"][0]["remark"] == head.remark
    assert back["group"] == "风险事件类型"


def test_an_unknown_code_says_so_besides_its_findings(tmp_path: Path, home: Path, row, write_csv) -> None:
    log = write_csv(tmp_path / "log.csv", [row("q1", "2025-09-10 21:00:00", institution="ZZ9", region="西藏自治区")])
    outcome = run(log, SEP, load_profile(DEMO_PROFILE), tmp_path / "out", events=[])
    unknown = next(r for r in outcome.tables[0].rows if r.institution == "ZZ9")
    assert unknown.remark.startswith("机构代码 ZZ9 未在机构配置中；异常查询 1 笔")
