"""The credit-stats flow against a real Prefect server: artifacts, records, notice; a failing check
publishes nothing but the failure report. Also the pure parts of the flow (period default, chart)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from regflows.credit import signoff
from regflows.credit.chart import history_markdown
from regflows.credit.models import Period, previous_period
from regflows.credit.table import read_table


def test_default_period_is_the_previous_month() -> None:
    assert previous_period(dt.date(2025, 10, 1)) == Period(2025, 9)
    assert previous_period(dt.date(2026, 1, 1)) == Period(2025, 12)


def test_chart_marks_missing_months_and_the_current_one() -> None:
    summary = {"rows": [{"abnormal_query": 2, "unauthorized_query": 1, "illegal_provision": 0, "improper_use": 0, "report_leak": 1}]}
    md = history_markdown(Period(2025, 9), {"2025-08": None, "2025-09": summary}, ["机构代码 ZZ9 不在配置中"])
    assert "| **2025-09** | 2 | 1 | 0 | 0 | 1 | " + "█" * 30 + " 4 |" in md and "| 2025-08 | 无记录" in md and "| — |" in md
    assert "ZZ9" in md


@pytest.mark.prefect
def test_flow_publishes_table_chart_records_and_notifies(prefect_api: str, home: Path, tmp_path: Path,
                                                         artifact_texts, row, write_csv) -> None:
    from sqlalchemy import select

    from flows.credit_stats import credit_stats
    from regflows.store.db import session
    from regflows.store.models import Obligation, OutboxMessage, Report

    aug = write_csv(tmp_path / "aug.csv", [row("a1", "2025-08-12 10:00:00", authorization_id="", authorized_at="")])
    state = credit_stats(period="2025-08", logs=str(aug), return_state=True)
    assert state.is_completed()
    sep = write_csv(tmp_path / "sep.csv", [row("s1", "2025-09-10 21:00:00"), row("s2", "2025-09-28 10:00:00")])
    result = credit_stats(period="2025-09", logs=str(sep))
    assert result["due"] == "2025-10-09"  # a local institution: the 6th, in the National Day holiday, rolled
    assert [t["unit"] for t in result["tables"]] == ["YX0001", "YX0101", "YX0201"]
    assert set(result["signoffs"]) == {"2025-09", "2025-09-YX0101", "2025-09-YX0201"}
    assert [r["abnormal_query"] for r in result["rows"]] == [1, 0, 0]
    out = home / "reports" / "credit-stats" / "2025-09"
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["rows"] == result["rows"]

    table = artifact_texts(prefect_api, "credit-stats-table")
    assert table and all("渝信示范银行总行" in t for t in table)
    trend = artifact_texts(prefect_api, "credit-stats-trend")
    text = next(t for t in trend if "2025年9月" in t)  # artifact versions come back in no set order
    assert "█" in text and "| 2025-08 | 0 | 1 |" in text  # the previous month from its stored summary

    assert result["signoff"] == "review"
    draft = read_table(out / "credit-stats-2025-09-YX0001.xlsx")
    assert draft["draft"] and draft["填表人"] == "何敏"  # the demo's settings.credit_preparer

    with session() as s:
        kinds = {r.kind for r in s.execute(select(Report).where(Report.subject == "2025-09")).scalars()}
        assert kinds == {"xlsx", "summary", "flagged", "overview"}
        ob = s.execute(select(Obligation).where(Obligation.subject == "credit-stats:2025-09")).scalar_one()
        assert ob.due_at == dt.datetime(2025, 10, 10, tzinfo=dt.timezone(dt.timedelta(hours=8)))
        units = s.execute(select(Obligation).where(Obligation.subject.like("credit-stats:2025-09-%"))).scalars().all()
        assert {o.subject for o in units} == {"credit-stats:2025-09-YX0101", "credit-stats:2025-09-YX0201"}
        assert signoff.load("2025-09").preparer.person == "he.min"  # type: ignore[union-attr]
        outbox = {(m.target.removeprefix("outbox://").split("/")[0], m.title) for m in s.execute(select(OutboxMessage)).scalars()}
    # The review request goes to the review role (合规部) less the preparer: 孙丽, not 何敏.
    asked = {person for person, title in outbox if title.startswith("【待复核】征信信息安全情况统计表（2025年9月）")}
    assert asked == {"sun.li"}


@pytest.mark.prefect
def test_flow_with_failing_check_publishes_only_the_failure(prefect_api: str, home: Path, tmp_path: Path,
                                                            artifact_texts, row, write_csv) -> None:
    from flows.credit_stats import credit_stats

    bad = write_csv(tmp_path / "bad.csv", [row("x", "2025-09-10 10:00:00", subject_id="110101199003071234")])
    out = tmp_path / "out"
    state = credit_stats(period="2025-09", logs=str(bad), out_dir=str(out), return_state=True)
    assert state.is_failed()
    # PBOC-102 三（二）（零报告制度; issue 12, point 13): the month's reports are owed all the same.
    from sqlalchemy import select

    from regflows.store.db import session
    from regflows.store.models import Obligation

    with session() as s:
        owed = {o.subject for o in s.execute(select(Obligation).where(Obligation.procedure == "credit-stats")).scalars()}
    assert owed == {"credit-stats:2025-09", "credit-stats:2025-09-YX0101", "credit-stats:2025-09-YX0201"}
    assert not (out / "summary.json").exists() and not list(out.glob("*.xlsx"))
    assert len(list(out.glob("failed-*/failing-rows-log-2025-09.csv"))) == 1  # the failed run's own folder
    failures = artifact_texts(prefect_api, "credit-stats-quality-log")
    text = "".join(failures)
    assert "疑似未脱敏" in text and "110101199003071234" not in text


@pytest.mark.prefect
def test_the_form_takes_the_unit_and_the_preparer_by_name_and_refuses_in_chinese(prefect_api: str, home: Path, tmp_path: Path,
                                                                                 row, write_csv, run_as_deployed) -> None:
    """Review of issue 14, 7 and 8: 「填表人」 refused 「何敏」 (wanted ``he.min``), 「报送单位代码」
    refused 「成都分行」 (wanted ``YX0101``), and a refusal read ``Flow run encountered an exception:
    SignoffError`` with a traceback in the run's logs."""
    from flows.credit_stats import credit_stats

    sep = write_csv(tmp_path / "sep.csv", [row("s1", "2025-09-10 21:00:00")])
    result = credit_stats(period="2025-09", logs=str(sep), unit="渝信示范银行成都分行（YX0101）", preparer="吴刚（wu.gang）",
                          notify=False)
    assert [t["unit"] for t in result["tables"]] == ["YX0101"]
    assert signoff.load("2025-09-YX0101").preparer.person == "wu.gang"  # type: ignore[union-attr]

    for parameters, said in (({"preparer": "钱多多（qian）"}, "填表人 钱多多（qian） 不是机构配置中的人员"),
                             ({"unit": "渝信示范银行重庆分行"}, "「报送单位」应为以下之一："),
                             ({"period": "2025-13"}, "统计期间应为 YYYY-MM")):
        ran = run_as_deployed(credit_stats, {"logs": str(sep), "notify": False, "period": "2025-09", **parameters})
        state, logs = ran["run"]["state"], ran["logs"]
        assert state["type"] == "FAILED" and state["message"].startswith("统计表未生成：") and said in state["message"], state
        assert not [m for m in logs if "Traceback" in m or "unexpected exception" in m or "encountered an exception" in m], logs


@pytest.mark.prefect
def test_a_big_month_runs_its_partitions_over_a_dask_cluster_with_the_same_counts(
        prefect_api: str, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 19, item 4: a month above ``credit_partition_rows`` is checked and counted partition
    by partition over a local Dask cluster (two worker processes), each step a task run of its
    own; its table and flagged queries are the one-process run's."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    from flows.credit_stats import credit_stats
    from regflows.credit.demo import generate

    log = tmp_path / "sep.parquet"
    pq.write_table(pa.Table.from_pandas(generate(12_000, 4, Period(2025, 9)).frame, preserve_index=False), log,
                   row_group_size=2_000)
    demo = (Path(__file__).resolve().parents[2] / "profiles" / "demo.yaml").read_text(encoding="utf-8")
    runs = {}
    for name, rows in (("whole", 0), ("dask", 5_000)):
        profile = tmp_path / f"{name}.yaml"
        profile.write_text(demo.replace("\nsettings:\n", f"\nsettings:\n  credit_partition_rows: {rows}\n  credit_partition_workers: 2\n", 1),
                           encoding="utf-8")
        monkeypatch.setenv("REGFLOWS_PROFILE", str(profile))
        state = credit_stats(period="2025-09", logs=str(log), out_dir=str(tmp_path / name), notify=False, return_state=True)
        assert state.is_completed(), state
        runs[name] = (state.result(), state.state_details.flow_run_id)
    assert runs["dask"][0]["rows"] == runs["whole"][0]["rows"]
    assert sum(r["abnormal_query"] + r["unauthorized_query"] for r in runs["dask"][0]["rows"]) > 100
    flagged = {n: (tmp_path / n / "flagged-queries-2025-09.csv").read_bytes() for n in runs}
    assert flagged["dask"] == flagged["whole"]
    with get_client(sync_client=True) as client:
        steps = {n: [t for t in client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])))
                     if t.name.startswith("credit-partition-step")] for n, (_, run_id) in runs.items()}
    # 3 slices (2 row groups each): scan 3, buckets 3 x 3, check 3
    assert len(steps["dask"]) == 15 and all(t.state is not None and t.state.is_completed() for t in steps["dask"])
    assert steps["whole"] == []


_RUN_AND_RECORD = '''
import sys
from pathlib import Path

if __name__ == "__main__":  # the local cluster's worker processes are spawned: they import this file again
    from flows.credit_stats import credit_stats

    state = credit_stats(period="2025-09", logs=sys.argv[1], out_dir=sys.argv[2], notify=False, return_state=True)
    Path(sys.argv[3]).write_text(state.type.value, encoding="utf-8")
'''


@pytest.mark.prefect
def test_a_big_month_over_dask_outlives_its_console(prefect_api: str, home: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 19, item 6: a process worker killed while its big month ran left the run's console a
    pipe nobody reads; rich's console handler then raised SystemExit in Dask's event-loop thread,
    and the run waited for the dead loop forever (``Running`` 18 minutes on). The run here is a
    process of its own whose output is such a pipe, closed as its local cluster starts: it must
    complete, and soon (tasks/console.py)."""
    import os
    import signal
    import subprocess
    import sys
    import threading

    import pyarrow as pa
    import pyarrow.parquet as pq

    from regflows.credit.demo import generate

    root = Path(__file__).resolve().parents[2]
    log = tmp_path / "sep.parquet"
    pq.write_table(pa.Table.from_pandas(generate(12_000, 4, Period(2025, 9)).frame, preserve_index=False), log,
                   row_group_size=2_000)
    demo = (root / "profiles" / "demo.yaml").read_text(encoding="utf-8")
    profile = tmp_path / "dask.yaml"
    profile.write_text(demo.replace("\nsettings:\n", "\nsettings:\n  credit_partition_rows: 5000\n  credit_partition_workers: 2\n", 1),
                       encoding="utf-8")
    script, outcome = tmp_path / "run_month.py", tmp_path / "outcome.txt"
    script.write_text(_RUN_AND_RECORD, encoding="utf-8")
    env = dict(os.environ, PREFECT_API_URL=prefect_api, REGFLOWS_PROFILE=str(profile), PYTHONPATH=str(root))
    run = subprocess.Popen([sys.executable, str(script), str(log), str(tmp_path / "out"), str(outcome)], cwd=root, env=env,
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    watchdog = threading.Timer(120, lambda: os.killpg(run.pid, signal.SIGKILL))  # the run, its cluster's processes
    watchdog.start()
    try:
        assert run.stdout is not None
        seen = []
        for line in run.stdout:  # the console, until the cluster starts: then its reader is gone, as a killed worker's
            seen.append(line)
            if b"Creating a new Dask cluster" in line:
                break
        else:
            pytest.fail(b"".join(seen[-30:]).decode(errors="replace"))
        run.stdout.close()
        try:
            run.wait(timeout=90)
        except subprocess.TimeoutExpired:
            pytest.fail("the month's run did not end within 90 s of losing its console (hung)")
    finally:
        watchdog.cancel()
        try:
            os.killpg(run.pid, signal.SIGKILL)  # whatever of the run is left (its group: started for it alone)
        except ProcessLookupError:
            pass
    assert outcome.read_text(encoding="utf-8") == "COMPLETED"
    assert (tmp_path / "out" / "flagged-queries-2025-09.csv").exists()
