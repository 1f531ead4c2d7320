"""Review and sign-off of the monthly table (PBOC-102 附件2: 填表人、复核人、签发人, three people).

Requests go out through Apprise to a local HTTP server; people confirm through the real
acknowledgement endpoint (Starlette app, in process); the final .xlsx is read back.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import select
from typer.testing import CliRunner

from notices.acks import acknowledge, make_token
from regflows import ledger
from regflows.cli import app
from regflows.credit.models import Period
from regflows.credit.pipeline import run
from regflows.credit.signoff import SignoffError, advance, load, record_prepared, subject
from regflows.credit.table import DRAFT_MARK, read_table
from regflows.profile import Profile, ProfileError, load_profile
from regflows.store import db, migrate
from regflows.store.models import AuditEntry, Notice, Report

BASE = "http://127.0.0.1:4201"
PERIOD = Period(2025, 10)
LABEL = PERIOD.label


@pytest.fixture
def signoff_profile(build_profile: Callable[..., Profile]) -> Callable[..., Profile]:
    """A function that makes the sign-off institution: ``signoff_profile(http, tmp_path, monkeypatch, *, review=None, sign=None)``."""
    def signoff_profile(http: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, review: list[str] | None = None,
                        sign: list[str] | None = None) -> Profile:
        """t.p prepares; compliance = review role, leadership_group = sign-off role; written to a file
        because the acknowledgement endpoint loads the profile as `regflows up` would."""
        people = {pid: [("webhook", f"json://{http.base}/ok/{pid}")] for pid in ("t.p", "t.r", "t.s", "t.x")}
        roles = {"compliance": {"kind": "compliance", "name": "合规部", "members": review or ["t.p", "t.r"], "deputy": "li.ming"},
                 "leadership_group": {"kind": "leadership_group", "name": "网络安全领导小组", "members": sign or ["t.s"],
                                      "deputy": "li.ming"}}
        profile = build_profile(people, roles=roles, settings={"credit_preparer": "t.p"}, base_url=BASE)
        path = tmp_path / "profile.yaml"
        path.write_text(yaml.safe_dump(profile.model_dump(mode="json"), allow_unicode=True), encoding="utf-8")
        monkeypatch.setenv("REGFLOWS_PROFILE", str(path))
        return load_profile(path)
    return signoff_profile


@pytest.fixture
def prepare(row: Callable[..., dict[str, Any]], write_csv: Callable[..., Path]) -> Callable[..., dict[str, Path]]:
    """A function that runs the month and records it prepared by t.p: ``prepare(profile, tmp_path, abnormal=True)``."""
    def prepare(profile: Profile, tmp_path: Path, abnormal: bool = True) -> dict[str, Path]:
        migrate()
        rows = [row("q1", "2025-10-09 21:00:00" if abnormal else "2025-10-09 10:00:00", authorized_at="2025-10-01")]
        log = write_csv(tmp_path / f"log-{abnormal}.csv", rows)
        out = tmp_path / "out"
        outcome = run(log, PERIOD, profile, out, events={}, preparer=profile.person("t.p").name)
        record_prepared(profile, PERIOD, outcome.due, outcome.files, "t.p")
        return outcome.files
    return prepare


def _link(http: Any, person: str, count: int = 1) -> tuple[str, dict]:
    message = http.wait_for(f"/ok/{person}", count)[count - 1].json()
    return http.ack_link_in(message["message"], BASE), message


def _client():  # type: ignore[no-untyped-def]
    from starlette.testclient import TestClient

    from notices.ack_server import create_app

    return TestClient(create_app())


def _ledger_actions(label: str) -> list[str]:
    with db.session() as s:
        return [e.action for e in s.execute(select(AuditEntry).where(AuditEntry.subject == subject(label)).order_by(AuditEntry.seq)).scalars()]


def test_three_different_people_review_sign_and_only_then_the_table_is_final(home: Path, http, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                            monkeypatch: pytest.MonkeyPatch,
                                                                            prepare, signoff_profile) -> None:
    profile = signoff_profile(http, tmp_path, monkeypatch)
    files = prepare(profile, tmp_path)
    draft = read_table(files["xlsx"])
    assert draft["draft"] and draft["填表人"] == "测试t.p" and draft["复核人"] == "" and draft["signer"] == ""

    assert advance(profile, LABEL).stage == "review"
    link, message = _link(http, "t.r")
    assert message["title"].startswith("【待复核】征信信息安全情况统计表（2025年10月）")
    assert "异常查询 1" in message["message"] and files["xlsx"].name in message["message"]
    assert not http.at("/ok/t.p") and not http.at("/ok/t.s")  # the preparer is not asked to review
    assert advance(profile, LABEL).requests == [f"{subject(LABEL)}:r1:review:1"]  # waiting: nothing sent twice
    with pytest.raises(ValueError, match="尚未签发"):  # not final: it cannot be marked submitted
        from regflows.credit.deadline import submit
        submit(LABEL, "经征信系统报送", "t.p", people=profile.person_ids)

    client = _client()
    token_path = link.removeprefix(BASE)
    page = client.get(token_path)
    assert page.status_code == 200 and "确认（记录本人及时间）" in page.text and "异常查询 1" in page.text
    assert load(LABEL).stage == "review"  # viewing the page confirms nothing
    confirmed = client.post(token_path)
    assert confirmed.status_code == 200 and "已记录复核人 测试t.r" in confirmed.text

    state = load(LABEL)
    assert state.stage == "signoff" and state.reviewer and state.reviewer.person == "t.r"
    sign_link, sign_message = _link(http, "t.s")
    assert sign_message["title"].startswith("【待签发】") and "经 测试t.r 复核" in sign_message["message"]
    done = client.post(sign_link.removeprefix(BASE))
    assert done.status_code == 200 and "统计表已签发" in done.text

    state = load(LABEL)
    assert state.stage == "final" and state.signer and state.signer.person == "t.s" and state.final
    final = Path(state.final["xlsx"])
    table = read_table(final)
    summary = json.loads(files["summary"].read_text(encoding="utf-8"))
    assert not table["draft"] and (table["填表人"], table["复核人"], table["signer"]) == ("测试t.p", "测试t.r", "测试t.s")
    assert [r["abnormal_query"] for r in table["rows"]] == [r["abnormal_query"] for r in summary["rows"]] == [1]  # the branches of the demo report on their own
    assert DRAFT_MARK not in final.read_bytes().decode("latin-1")
    with db.session() as s:
        reports = {r.kind: r.sha256 for r in s.execute(select(Report).where(Report.subject == LABEL)).scalars()}
    from regflows.credit.signoff import sha256_of
    assert reports["xlsx-final"] == sha256_of(final) and reports["xlsx"] == sha256_of(files["xlsx"])
    actions = _ledger_actions(LABEL)
    assert actions.count("report.written") == 4  # the table, its figures, the flagged queries, summary.json
    assert [a for a in actions if a.startswith("credit_stats.")] == [
        "credit_stats.prepared", "credit_stats.reviewed", "credit_stats.signed", "credit_stats.final"]
    assert ledger.verify().ok
    owner = http.wait_for("/ok/t.r", 2)[1].json()  # the compliance role hears it may be filed
    assert "已签发待报送" in owner["title"]
    # signed long after the 2025-11 due day: overdue, and by how long (issue 14, 7: it said 即将到期)
    assert owner["title"].startswith("【时限已逾期】") and "即将到期" not in owner["title"] + owner["message"]
    assert "该时限已过（逾期 " in owner["message"] and " 天 " in owner["message"]

    runner = CliRunner()
    shown = runner.invoke(app, ["credit-stats", "status", LABEL])
    assert shown.exit_code == 0 and json.loads(shown.stdout)["stage_title"] == "已签发"
    ok = runner.invoke(app, ["credit-stats", "submit", LABEL, "--evidence", "经征信系统报送人民银行", "--by", "t.p"])
    assert ok.exit_code == 0, ok.output


def test_the_preparer_and_the_reviewer_are_never_asked_to_sign(home: Path, http, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                               monkeypatch: pytest.MonkeyPatch, prepare, signoff_profile) -> None:
    # t.r reviews and also sits in the sign-off role; t.p prepares and also sits there.
    profile = signoff_profile(http, tmp_path, monkeypatch, review=["t.p", "t.r"], sign=["t.p", "t.r", "t.s"])
    prepare(profile, tmp_path)
    advance(profile, LABEL)
    link, _ = _link(http, "t.r")
    acknowledge(link.rsplit("/", 1)[1])
    assert advance(profile, LABEL).stage == "signoff"
    http.wait_for("/ok/t.s")
    assert len(http.at("/ok/t.r")) == 1 and not http.at("/ok/t.p")


def test_nobody_left_to_review_is_an_error_naming_the_rule(home: Path, http, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                           monkeypatch: pytest.MonkeyPatch, prepare, signoff_profile) -> None:
    profile = signoff_profile(http, tmp_path, monkeypatch, review=["t.p"])
    prepare(profile, tmp_path)
    with pytest.raises(SignoffError, match="填表人、复核人、签发人为不同人员"):
        advance(profile, LABEL)
    assert not http.received


def test_a_confirmation_by_someone_not_eligible_is_refused_and_recorded_once(home: Path, http, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                             monkeypatch: pytest.MonkeyPatch,
                                                                             prepare, signoff_profile) -> None:
    profile = signoff_profile(http, tmp_path, monkeypatch)
    prepare(profile, tmp_path)
    state = advance(profile, LABEL)
    # A link bound to the preparer for the review request (as if roles had changed meanwhile).
    acknowledge(make_token(state.requests[0], "t.p"))
    assert advance(profile, LABEL).stage == "review"
    assert advance(profile, LABEL).reviewer is None
    assert _ledger_actions(LABEL).count("credit_stats.signoff_refused") == 1
    link, _ = _link(http, "t.r")
    acknowledge(link.rsplit("/", 1)[1])
    assert advance(profile, LABEL).reviewer.person == "t.r"  # type: ignore[union-attr]


def test_expired_links_are_sent_again(home: Path, http, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prepare, signoff_profile) -> None:  # type: ignore[no-untyped-def]
    profile = signoff_profile(http, tmp_path, monkeypatch)
    prepare(profile, tmp_path)
    advance(profile, LABEL)
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=profile.settings.credit_signoff_link_days)
    state = advance(profile, LABEL, now=later)
    assert state.requests == [f"{subject(LABEL)}:r1:review:1", f"{subject(LABEL)}:r1:review:2"]
    http.wait_for("/ok/t.r", 2)


def test_a_new_run_voids_earlier_approvals(home: Path, http, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
                                           prepare, signoff_profile) -> None:
    profile = signoff_profile(http, tmp_path, monkeypatch)
    prepare(profile, tmp_path)
    advance(profile, LABEL)
    old_link, _ = _link(http, "t.r")
    prepare(profile, tmp_path, abnormal=False)  # corrected data: revision 2
    acknowledge(old_link.rsplit("/", 1)[1])  # the reviewer confirms the old request
    state = advance(profile, LABEL)
    assert (state.revision, state.stage, state.reviewer) == (2, "review", None)
    assert state.requests[-1] == f"{subject(LABEL)}:r2:review:1"
    new_link, message = _link(http, "t.r", 2)
    assert "异常查询 0" in message["message"]


def test_a_byte_identical_rerun_keeps_the_review_and_a_changed_one_voids_it(home: Path, http, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                            monkeypatch: pytest.MonkeyPatch,
                                                                            prepare, signoff_profile) -> None:
    profile = signoff_profile(http, tmp_path, monkeypatch)
    files = prepare(profile, tmp_path)
    advance(profile, LABEL)
    acknowledge(_link(http, "t.r")[0].rsplit("/", 1)[1])
    assert advance(profile, LABEL).stage == "signoff"
    reviewed = files["summary"].read_bytes()

    prepare(profile, tmp_path)  # the same log again: the same figures, summary.json byte for byte
    assert files["summary"].read_bytes() == reviewed
    state = load(LABEL)
    assert (state.revision, state.stage, state.reviewer.person) == (1, "signoff", "t.r")  # type: ignore[union-attr]
    assert advance(profile, LABEL).requests == [f"{subject(LABEL)}:r1:review:1", f"{subject(LABEL)}:r1:signoff:1"]
    acknowledge(_link(http, "t.s")[0].rsplit("/", 1)[1])  # the sign-off link sent before the rerun still serves
    final = advance(profile, LABEL)
    assert final.stage == "final" and (final.reviewer.person, final.signer.person) == ("t.r", "t.s")  # type: ignore[union-attr]
    assert [a for a in _ledger_actions(LABEL) if a.startswith("credit_stats.")] == [
        "credit_stats.prepared", "credit_stats.reviewed", "credit_stats.prepared", "credit_stats.signed", "credit_stats.final"]
    with db.session() as s:
        rerun = [json.loads(e.payload) for e in s.execute(select(AuditEntry).where(AuditEntry.action == "credit_stats.prepared")
                                                          .order_by(AuditEntry.seq)).scalars()][1]
    assert rerun["unchanged"] is True and rerun["revision"] == 1

    _, warnings = record_prepared(profile, PERIOD, dt.date(2025, 11, 10), files, "t.p")  # the same files once more
    assert any("继续有效" in w for w in warnings) and load(LABEL).stage == "final"  # type: ignore[union-attr]
    prepare(profile, tmp_path, abnormal=False)  # other figures: a new revision, the final table no longer stands
    state = load(LABEL)
    assert (state.revision, state.stage, state.reviewer, state.signer) == (2, "review", None, None)  # type: ignore[union-attr]
    from regflows.credit.signoff import is_final
    assert not is_final(LABEL)


def test_a_sign_off_kept_in_the_obligation_row_is_taken_over(home: Path, http, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                             monkeypatch: pytest.MonkeyPatch, prepare, signoff_profile) -> None:
    """Months signed off before the approval table kept their state in Obligation.detail["signoff"]."""
    from sqlalchemy import delete

    from regflows.credit.signoff import is_final, month_obligation, open_labels, stage_of
    from regflows.kit import approvals
    from regflows.store.models import Approval

    profile = signoff_profile(http, tmp_path, monkeypatch)
    prepare(profile, tmp_path)
    advance(profile, LABEL)
    acknowledge(_link(http, "t.r")[0].rsplit("/", 1)[1])
    state = advance(profile, LABEL)
    assert state.stage == "signoff"
    with db.session() as s:  # as an older regflows left it
        s.execute(delete(Approval))
        month_obligation(s, LABEL).detail = {"signoff": state.to_dict()}  # type: ignore[union-attr]
    assert stage_of(LABEL) == "signoff" and not is_final(LABEL) and open_labels() == [LABEL]
    assert load(LABEL).reviewer.person == "t.r"  # type: ignore[union-attr]
    acknowledge(_link(http, "t.s")[0].rsplit("/", 1)[1])
    final = advance(profile, LABEL)
    assert final.stage == "final" and final.signer.person == "t.s" and is_final(LABEL)  # type: ignore[union-attr]
    assert approvals.get("credit-signoff", subject(LABEL)).stage == approvals.DONE  # type: ignore[union-attr]
    assert _ledger_actions(LABEL).count("credit_stats.reviewed") == 1 and open_labels() == []


def test_a_draft_changed_after_review_is_not_finalised(home: Path, http, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                       monkeypatch: pytest.MonkeyPatch, prepare, signoff_profile) -> None:
    profile = signoff_profile(http, tmp_path, monkeypatch)
    files = prepare(profile, tmp_path)
    advance(profile, LABEL)
    acknowledge(_link(http, "t.r")[0].rsplit("/", 1)[1])
    advance(profile, LABEL)
    summary = json.loads(files["summary"].read_text(encoding="utf-8"))
    summary["rows"][0]["abnormal_query"] = 0
    files["summary"].write_text(json.dumps(summary, ensure_ascii=False), encoding="utf-8")
    acknowledge(_link(http, "t.s")[0].rsplit("/", 1)[1])
    with pytest.raises(SignoffError, match="不一致"):
        advance(profile, LABEL)
    assert load(LABEL).stage == "signoff" and "credit_stats.final_refused" in _ledger_actions(LABEL)
    assert not list(files["xlsx"].parent.glob("*-final.xlsx"))
    with pytest.raises(SignoffError, match="不一致"):  # the watch tries again: refused again, signed once
        advance(profile, LABEL)
    assert _ledger_actions(LABEL).count("credit_stats.signed") == 1


def test_the_ack_endpoint_reports_a_failed_follow_up_and_keeps_the_confirmation(home: Path, http, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                                monkeypatch: pytest.MonkeyPatch,
                                                                                prepare, signoff_profile) -> None:
    profile = signoff_profile(http, tmp_path, monkeypatch)
    prepare(profile, tmp_path)
    advance(profile, LABEL)
    link, _ = _link(http, "t.r")
    monkeypatch.setenv("REGFLOWS_PROFILE", str(tmp_path / "missing.yaml"))  # the follow-up cannot load the profile
    answer = _client().post(link.removeprefix(BASE))
    assert answer.status_code == 200 and "后续处理未完成" in answer.text
    assert "missing.yaml" not in answer.text  # the details (a server path) go to the log and the ledger, not the page
    with db.session() as s:
        assert s.get(Notice, f"{subject(LABEL)}:r1:review:1").acked_by == "t.r"
        assert s.execute(select(AuditEntry).where(AuditEntry.action == "ack.follow_up_failed")).scalars().first() is not None
    assert advance(profile, LABEL).stage == "signoff"  # the watch's call picks it up


def test_profile_names_an_unknown_preparer_or_sign_off_role(tmp_path: Path) -> None:
    from regflows.profile import DEMO_PROFILE

    text = DEMO_PROFILE.read_text(encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("credit_preparer: he.min", "credit_preparer: nobody")
                   .replace("credit_signoff_role: leadership_group", "credit_signoff_role: board"), encoding="utf-8")
    with pytest.raises(ProfileError) as caught:
        load_profile(bad)
    message = str(caught.value)
    assert "credit_preparer" in message and "nobody" in message and "credit_signoff_role" in message and "board" in message


@pytest.mark.prefect
def test_the_watch_moves_sign_off_on_and_shows_it(prefect_api: str, home: Path, http, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                  monkeypatch: pytest.MonkeyPatch, artifact_texts, prepare, signoff_profile) -> None:
    from flows.credit_stats_watch import credit_stats_watch

    profile = signoff_profile(http, tmp_path, monkeypatch)
    prepare(profile, tmp_path)
    advance(profile, LABEL)
    acknowledge(_link(http, "t.r")[0].rsplit("/", 1)[1])  # confirmed while the endpoint was down
    watched = credit_stats_watch(return_state=True)
    assert load(LABEL).stage == "signoff"
    http.wait_for("/ok/t.s")
    # The sign-off request the watch's task sent is in the run's notices artifact.
    found = httpx.post(f"{prefect_api}/artifacts/filter", timeout=30, json={"artifacts": {
        "key": {"any_": ["notices"]}, "flow_run_id": {"any_": [str(watched.state_details.flow_run_id)]}}}).json()
    sent = [row for artifact in found for row in json.loads(artifact["data"])]
    assert any(row["收件人"].endswith("（t.s）") and row["结果"] == "已送达" and row["发送时是否已确认"] == "否" for row in sent), sent
    shown = "".join(artifact_texts(prefect_api, "credit-stats-signoff"))
    assert "待签发" in shown and "测试t.r" in shown

    # Nobody left to sign: the run fails (red in the UI) and says why.
    signoff_profile(http, tmp_path, monkeypatch, sign=["t.p", "t.r"])
    prepare(profile, tmp_path, abnormal=False)  # corrected figures: a new revision, reviewed again
    advance(profile, LABEL)
    request = [m.json() for m in http.at("/ok/t.r") if m.json()["title"].startswith("【待复核】")][-1]  # t.r also had the overdue alarm
    acknowledge(http.ack_link_in(request["message"], BASE).rsplit("/", 1)[1])
    state = credit_stats_watch(return_state=True)
    assert state.is_failed() and "签发" in str(state.result(raise_on_failure=False))


def test_a_run_needs_a_preparer_of_the_profile(tmp_path: Path, http, monkeypatch: pytest.MonkeyPatch, signoff_profile) -> None:  # type: ignore[no-untyped-def]
    from regflows.credit.signoff import resolve_preparer

    profile = signoff_profile(http, tmp_path, monkeypatch)
    assert resolve_preparer(profile, None) == "t.p" and resolve_preparer(profile, "t.r") == "t.r"
    with pytest.raises(SignoffError, match="nobody"):
        resolve_preparer(profile, "nobody")
    unset = profile.model_copy(update={"settings": profile.settings.model_copy(update={"credit_preparer": None})})
    with pytest.raises(SignoffError, match="credit_preparer"):
        resolve_preparer(unset, None)
