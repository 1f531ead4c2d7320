"""Who reports by the 6th, who by the 10th, and who files a table of their own (issue 12, point 11).

PBOC-102 三（二）: 「全国性接入机构的总行应于每月初10日内…；地方性接入机构和全国性接入机构的分支机构应于
每月初6日内将上月情况报所在地人民银行分支机构」; 附件1 lists the 21 national institutions; 附件3
第二十一条: every other access institution is local, and a PBoC branch supervises the branches of
other provinces' local institutions in its area.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from regflows.cli import app
from regflows.credit.models import Period
from regflows.credit.units import access_warnings, national_list, tables
from regflows.profile import DEMO_PROFILE, Profile, load_profile

OCT = Period(2025, 10)


def _profile(tmp_path: Path, **changes: Any) -> Path:
    """The demo profile with ``institution`` fields and ``units`` (the reporting_units list) replaced."""
    data = yaml.safe_load(DEMO_PROFILE.read_text(encoding="utf-8"))
    units = changes.pop("units", None)
    data["institution"].update(changes)
    if units is not None:
        data["reporting_units"] = units
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_annex_1_lists_21_national_institutions_by_their_usual_names() -> None:
    """PBOC-102 附件1 and 附件3 第二十一条 (「国家开发银行等 21 家」): the list, with full names matched."""
    listed = national_list()
    assert len(listed.institutions) == 21
    assert listed.match("上海浦东发展银行股份有限公司") == "浦发银行"
    assert listed.match("中国工商银行股份有限公司重庆市分行") == "中国工商银行"
    assert listed.match("中国农业发展银行") == "农业发展银行"
    assert listed.match("中国银行股份有限公司") == "中国银行"
    assert listed.match("渝信示范银行股份有限公司") is None  # a Chongqing bank: local
    assert listed.match("重庆农村商业银行股份有限公司") is None


def test_demo_bank_is_local_and_its_out_of_province_branches_file_their_own_tables() -> None:
    """三（二）: a local institution reports by the 6th; 第二十一条: its out-of-province branches come
    under their own PBoC branch (``reports_to_local_branch``), each with its own table."""
    profile = load_profile(DEMO_PROFILE)
    assert profile.institution.credit_access == "local" and access_warnings(profile) == []
    got = [(t.unit.code, t.covers, t.due_day, t.key(OCT)) for t in tables(profile)]
    assert got == [("YX0001", ("YX0001",), 6, "2025-10"), ("YX0101", ("YX0101",), 6, "2025-10-YX0101"),
                   ("YX0201", ("YX0201",), 6, "2025-10-YX0201")]


def test_national_head_office_by_the_10th_its_branches_by_the_6th_on_their_own(tmp_path: Path) -> None:
    """三（二）: the national head office by the 10th, each branch by the 6th to its local PBoC branch;
    a local institution's branches without the setting stay in the head office's table."""
    units = [{"code": "H1", "name": "中国工商银行总行", "region": "北京市", "head_office": True},
             {"code": "B1", "name": "中国工商银行重庆市分行", "region": "重庆市"},
             {"code": "B2", "name": "中国工商银行四川省分行", "region": "四川省", "credit_review_role": "retail_division"}]
    profile = load_profile(_profile(tmp_path, name="中国工商银行股份有限公司", credit_access="national_head_office", units=units))
    assert access_warnings(profile) == []
    got = {t.unit.code: (t.covers, t.due_day, t.review_role, t.signoff_role) for t in tables(profile)}
    assert got == {"H1": (("H1",), 10, "compliance", "leadership_group"), "B1": (("B1",), 6, "compliance", "leadership_group"),
                   "B2": (("B2",), 6, "retail_division", "leadership_group")}
    local = load_profile(_profile(tmp_path, units=[{**u, "reports_to_local_branch": None} for u in
                                                   yaml.safe_load(DEMO_PROFILE.read_text(encoding="utf-8"))["reporting_units"]]))
    only = tables(local)
    assert len(only) == 1 and only[0].covers == ("YX0001", "YX0101", "YX0201") and only[0].due_day == 6


def test_doctor_warns_when_a_bank_not_on_annex_1_calls_itself_national(home: Path, tmp_path: Path) -> None:
    """PBOC-102 附件1 / 附件3 第二十一条: ``national_head_office`` for a name not on the list is warned."""
    from regflows.store import migrate

    migrate()
    wrong = _profile(tmp_path, credit_access="national_head_office")
    out = CliRunner().invoke(app, ["doctor", "--profile", str(wrong), "--today", "2025-06-02"]).stdout
    assert "不在全国性接入机构名单（PBOC-102 附件1" in out and "渝信示范银行股份有限公司" in out
    demo = CliRunner().invoke(app, ["doctor", "--today", "2025-06-02"]).stdout
    assert "全国性接入机构名单" not in demo


def test_a_unit_role_that_does_not_exist_is_named(tmp_path: Path) -> None:
    from regflows.profile import ProfileError

    units = yaml.safe_load(DEMO_PROFILE.read_text(encoding="utf-8"))["reporting_units"]
    units[1]["credit_signoff_role"] = "no_such_role"
    with pytest.raises(ProfileError, match=r"reporting_units\[1\]\.credit_signoff_role：没有角色 no_such_role"):
        load_profile(_profile(tmp_path, units=units))


def test_run_writes_every_table_the_month_owes_or_one_unit(tmp_path: Path, home: Path, row, write_csv) -> None:
    """三（二）: one attachment-2 table per reporting unit that reports on its own, plus the head
    office's; ``summary.json`` lists them (file names relative to the output folder)."""
    log = write_csv(tmp_path / "log.csv", [row("q1", "2025-10-09 21:00:00", institution="YX0101", region="四川省",
                                               authorized_at="2025-10-01"),
                                           row("q2", "2025-10-09 22:00:00", authorized_at="2025-10-01")])  # the head office's
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["credit-stats", "run", "--logs", str(log), "--period", "2025-10", "--out", str(out)])
    assert r.exit_code == 0, r.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["tables"] == [
        {"unit": "YX0001", "due": "2025-11-06", "file": "credit-stats-2025-10-YX0001.xlsx"},
        {"unit": "YX0101", "due": "2025-11-06", "file": "credit-stats-2025-10-YX0101.xlsx"},
        {"unit": "YX0201", "due": "2025-11-06", "file": "credit-stats-2025-10-YX0201.xlsx"}]
    from regflows.credit.table import read_table

    chengdu = read_table(out / "credit-stats-2025-10-YX0101.xlsx")
    assert chengdu["unit"] == "渝信示范银行成都分行" and [r["abnormal_query"] for r in chengdu["rows"]] == [1]
    one = tmp_path / "one"
    r = CliRunner().invoke(app, ["credit-stats", "run", "--logs", str(log), "--period", "2025-10", "--out", str(one),
                                 "--unit", "YX0201"])
    assert r.exit_code == 0, r.output
    assert json.loads((one / "summary-YX0201.json").read_text(encoding="utf-8"))["tables"] == [
        {"unit": "YX0201", "due": "2025-11-06", "file": "credit-stats-2025-10-YX0201.xlsx"}]
    assert sorted(p.name for p in one.glob("*.xlsx")) == ["credit-stats-2025-10-YX0201.xlsx"]
    # into the folder of the whole month (from the outside review): the month's summary.json and
    # flagged list stay; the unit's own are beside them, with only its queries
    whole = (out / "summary.json").read_bytes()
    r = CliRunner().invoke(app, ["credit-stats", "run", "--logs", str(log), "--period", "2025-10", "--out", str(out),
                                 "--unit", "YX0101"])
    assert r.exit_code == 0, r.output
    assert (out / "summary.json").read_bytes() == whole
    everything = (out / "flagged-queries-2025-10.csv").read_text(encoding="utf-8-sig").splitlines()[1:]
    flagged = (out / "flagged-queries-2025-10-YX0101.csv").read_text(encoding="utf-8-sig").splitlines()[1:]
    assert len(flagged) == 1 and "YX0101" in flagged[0] and len(everything) > len(flagged)
    bad = CliRunner().invoke(app, ["credit-stats", "run", "--logs", str(log), "--period", "2025-10", "--out", str(one),
                                   "--unit", "ZZ9"])
    assert bad.exit_code == 2 and "ZZ9 不单独报送" in bad.stderr


def test_each_table_has_its_own_obligation_sign_off_roles_status_and_submit(home: Path, tmp_path: Path, row, write_csv,
                                                                          build_profile) -> None:
    """三（二） and 附件2: each table its own deadline and its own 复核人/签发人 (the unit's roles,
    defaulting to the institution's); ``status``/``submit --unit`` (default the head office)."""
    from sqlalchemy import select

    from regflows.credit.pipeline import run
    from regflows.credit.signoff import policy, record_prepared
    from regflows.store import db, migrate
    from regflows.store.models import Obligation

    migrate()
    profile: Profile = build_profile({})
    data = profile.model_dump(mode="json")
    data["reporting_units"][1]["credit_review_role"] = "retail_division"
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    profile = load_profile(path)
    log = write_csv(tmp_path / "log.csv", [row("q1", "2025-10-09 10:00:00", authorized_at="2025-10-01")])
    outcome = run(log, OCT, profile, tmp_path / "out", events=[], preparer="何敏")
    for t in outcome.tables:
        record_prepared(profile, OCT, t.due, t.files, "he.min", unit=t.unit)
    with db.session() as s:
        rows = {r.subject: (r.due_at, r.title) for r in s.execute(select(Obligation)).scalars()}
    bj = dt.timezone(dt.timedelta(hours=8))
    assert set(rows) == {"credit-stats:2025-10", "credit-stats:2025-10-YX0101", "credit-stats:2025-10-YX0201"}
    assert all(due == dt.datetime(2025, 11, 7, tzinfo=bj) for due, _ in rows.values())
    assert "渝信示范银行成都分行" in rows["credit-stats:2025-10-YX0101"][1]
    assert [s.roles for s in policy(profile, None, "2025-10-YX0101").steps] == [("retail_division",), ("leadership_group",)]
    assert [s.roles for s in policy(profile, None, "2025-10-YX0201").steps] == [("compliance",), ("leadership_group",)]
    runner = CliRunner()
    st = runner.invoke(app, ["credit-stats", "status", "2025-10", "--unit", "YX0101", "--profile", str(path)])
    assert st.exit_code == 0, st.output
    assert json.loads(st.stdout)["label"] == "2025-10-YX0101" and json.loads(st.stdout)["unit"] == "YX0101"
    head = json.loads(runner.invoke(app, ["credit-stats", "status", "2025-10", "--profile", str(path)]).stdout)
    assert (head["label"], head["unit"]) == ("2025-10", "YX0001")
    sub = runner.invoke(app, ["credit-stats", "submit", "2025-10", "--unit", "YX0101", "--evidence", "报人民银行成都分行",
                              "--by", "he.min", "--profile", str(path)])
    assert sub.exit_code == 5 and "2025-10-YX0101 的统计表尚未签发" in sub.stderr
