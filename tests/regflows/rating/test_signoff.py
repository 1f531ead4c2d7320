"""The year's report signed off through the kit's approvals (regflows/rating/signoff.py; issue 16,
item 5): refused while any item is unconfirmed; otherwise submitted by one person, reviewed by the
compliance role, approved by the leadership, each through the personal link of a real notice sent
through Apprise to a local HTTP stand-in; the final copy without draft marks; then filed."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from calendars.zone import SHANGHAI
from notices.acks import acknowledge, make_token
from regflows import ledger
from regflows.cli import app
from regflows.exit_codes import ExitCode
from regflows.profile import Profile
from regflows.rating import pipeline, signoff
from regflows.rating.owed import SUBMISSION_CODE
from regflows.store import db, migrate
from regflows.store.models import AuditEntry, Obligation

BASE = "http://127.0.0.1:4201"
NOW = dt.datetime(2026, 1, 5, 9, 0, tzinfo=SHANGHAI)
REVIEW_1 = "rating:2025:r1:review:1"


@pytest.fixture
def world(home: Path, http: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, demo_with: Callable[..., Any]) -> tuple[Profile, Any]:
    """The demo profile (compliance: sun.li, he.min; leadership: zhou.qiang), everyone's messages to the stand-in."""
    migrate()
    profile = demo_with(tmp_path / "profile.yaml", http=http.base, ack=BASE)
    monkeypatch.setenv("REGFLOWS_PROFILE", str(tmp_path / "profile.yaml"))
    return profile, http


def _run(profile: Profile, tmp_path: Path, text: str) -> pipeline.Outcome:
    evidence = tmp_path / "evidence-2025.yaml"
    evidence.write_text(text, encoding="utf-8")
    return pipeline.run(2025, evidence, tmp_path / "out", profile, now=NOW)


def _full_link(http: Any, person: str) -> str:
    http.wait_for(f"/ok/{person}")
    message = next(m.json() for m in http.at(f"/ok/{person}") if "自评报告待" in m.json()["title"])["message"]
    return str(http.ack_link_in(message, BASE))


def _link(http: Any, person: str) -> str:
    return _full_link(http, person).rsplit("/", 1)[1]


def test_the_signoff_is_refused_while_an_item_is_unconfirmed(world: tuple[Profile, Any], tmp_path: Path,
                                                             confirmed_text: Callable[..., str], model: Any) -> None:
    profile, http = world
    provenance = {i.id: {"source": "自评工作组", "confirmed_by": "sun.li", "confirmed_at": "2026-01-12"} for i in model.items}
    provenance["8.1"] = {"source": "日核查记录"}  # gathered, nobody confirmed it yet
    outcome = _run(profile, tmp_path, confirmed_text(year=2025, provenance=provenance))
    assert outcome.result.unconfirmed == ("8.1",)
    with pytest.raises(signoff.SignoffError, match="1 个指标的事实尚未确认（8.1）"):
        signoff.submit(profile, 2025, "he.min")
    assert signoff.status(2025) is None and not http.at("/ok/")  # nothing bound, nobody asked
    refused = CliRunner().invoke(app, ["rating", "signoff", "2025", "--by", "he.min"])
    assert refused.exit_code == ExitCode.REFUSED and "尚未确认" in refused.stderr and "Traceback" not in refused.output


def test_the_signoff_is_refused_while_a_band_fact_is_unevaluated(world: tuple[Profile, Any], tmp_path: Path,
                                                                 confirmed_text: Callable[..., str]) -> None:
    """A band fact written null (未评估, as the template ships 5.1, 6.2, 6.3 and 7.3) takes no deduction: listed, marked
    未评估 in the report, and the sign-off waits for it as for an unconfirmed item."""
    profile, http = world
    outcome = _run(profile, tmp_path, confirmed_text({"7.3": {"data_quality_score": None}}, year=2025))
    assert dict(outcome.result.unevaluated) == {"7.3": ("data_quality_score",)} and not outcome.result.unconfirmed
    assert any("1 个指标未评估" in n and "7.3（data_quality_score）" in n for n in outcome.result.notes)
    assert outcome.summary["unevaluated"] == ["7.3"]
    text = "\n".join(c.text for t in docx.Document(str(outcome.files["report"])).tables for r in t.rows for c in r.cells)
    assert "未评估：data_quality_score 为 null" in text and "2（未评估）" in text
    with pytest.raises(signoff.SignoffError, match="1 个指标未评估（7.3（未评估）"):
        signoff.submit(profile, 2025, "he.min")
    assert signoff.status(2025) is None and not http.at("/ok/")


def test_three_people_sign_off_and_the_final_copy_has_no_draft_marks_then_it_is_filed(world: tuple[Profile, Any], tmp_path: Path,
                                                                                      confirmed_text: Callable[..., str]) -> None:
    profile, http = world
    outcome = _run(profile, tmp_path, confirmed_text({"8.1": {"unauthorized_queries": 1}}, year=2025))
    runner = CliRunner()
    filing = ["rating", "submit", "2025", "--evidence", "书面报送人民银行重庆营管部", "--by", "sun.li"]
    early = runner.invoke(app, filing)
    assert early.exit_code == ExitCode.REFUSED and "尚未提交签发" in early.stderr

    view, warnings = signoff.submit(profile, 2025, "he.min")
    assert (view.stage, view.revision, view.requests, warnings) == ("review", 1, [REVIEW_1], [])
    digests = {k: hashlib.sha256(p.read_bytes()).hexdigest() for k, p in outcome.files.items()}
    assert view.content_sha256 == signoff.content_sha256(digests)
    review = _link(http, "sun.li")
    acknowledge(make_token(REVIEW_1, "he.min"))  # the maker's own confirmation does not count
    assert signoff.advance(profile, 2025).stage == "review"
    acknowledge(review)
    assert signoff.advance(profile, 2025).stage == "approve"
    assert runner.invoke(app, filing).exit_code == ExitCode.REFUSED  # reviewed is not final
    # the last step through the acknowledgement endpoint: the kind's after_ack makes it final at once
    from starlette.testclient import TestClient

    from notices.ack_server import create_app

    answer = TestClient(create_app()).post(_full_link(http, "zhou.qiang").removeprefix(BASE))
    assert answer.status_code == 200 and "2025 年度自评报告已签发定稿" in answer.text, answer.text
    done = signoff.advance(profile, 2025)
    assert done.stage == "final" and done.final is not None and done.approver is not None
    signed_on = dt.datetime.fromisoformat(done.approver.at).astimezone(SHANGHAI).date()

    final = docx.Document(done.final["report"]["path"])
    headers = [p.text for sec in final.sections for p in (*sec.header.paragraphs, *sec.footer.paragraphs)]
    text = "\n".join([p.text for p in final.paragraphs] + headers)
    assert "草稿" not in text and "待补充" not in text and final.core_properties.content_status == "定稿"
    assert f"{signed_on.year}年{signed_on.month}月{signed_on.day}日（孙丽 复核、周强 签发）" in text
    assert Path(done.final["sheet"]["path"]).read_bytes() == outcome.files["sheet"].read_bytes()

    filed = runner.invoke(app, filing)
    assert filed.exit_code == ExitCode.DONE, filed.output
    files = json.loads(filed.stdout)["files"]
    assert files["report"] == {"path": done.final["report"]["path"], "sha256": done.final["report"]["sha256"]}
    with db.session() as s:
        row = s.execute(select(Obligation).where(Obligation.subject == "rating:2025", Obligation.code == SUBMISSION_CODE)).scalar_one()
        actions = [e.action for e in s.execute(select(AuditEntry).where(AuditEntry.subject == "rating:2025")).scalars()]
    assert row.state == "fulfilled" and row.detail["filed"] == files and row.detail["final"]["approver"] == "zhou.qiang"
    assert actions.index("rating.report_reviewed") < actions.index("rating.report_approved") < actions.index("rating.report_final")
    assert "rating.signoff_refused" in actions and "rating.self_assessment_filed" in actions
    assert ledger.verify().ok
    status = runner.invoke(app, ["rating", "signoff-status", "2025"])
    assert json.loads(status.stdout)["stage"] == "final"


def test_a_new_run_with_other_content_voids_the_approvals(world: tuple[Profile, Any], tmp_path: Path,
                                                          confirmed_text: Callable[..., str]) -> None:
    profile, http = world
    _run(profile, tmp_path, confirmed_text(year=2025))
    signoff.submit(profile, 2025, "he.min")
    acknowledge(_link(http, "sun.li"))
    assert signoff.advance(profile, 2025).stage == "approve"
    _run(profile, tmp_path, confirmed_text({"3.2": {"late_audit_reports": 1}}, year=2025))
    view, warnings = signoff.submit(profile, 2025, "he.min")
    assert (view.stage, view.revision) == ("review", 2) and "作废" in warnings[0]
