"""Readers and data quality: malformed files give clear errors naming the row and field, and a
failing check publishes nothing (issue 7, check 1)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from regflows.credit.io import read_log, read_users
from regflows.credit.models import CreditInputError, Period
from regflows.credit.pipeline import QualityFailure, read_inputs, run
from regflows.profile import load_profile

REPO = Path(__file__).resolve().parents[3]
SEP = Period(2025, 9)


def test_missing_column_names_the_column(tmp_path: Path, log_columns, row, write_csv) -> None:
    path = write_csv(tmp_path / "log.csv", [row("a", "2025-09-10 10:00:00")], columns=[c for c in log_columns if c != "subject_type"])
    with pytest.raises(CreditInputError, match="缺少列 subject_type"):
        read_log(path)


@pytest.mark.parametrize("content", [b"", b"\n"])
def test_empty_file_is_an_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "log.csv"
    path.write_bytes(content)
    with pytest.raises(CreditInputError):
        read_log(path)


def test_unreadable_parquet_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "log.parquet"
    path.write_bytes(b"not a parquet file at all")
    with pytest.raises(CreditInputError, match="无法读取"):
        read_log(path)


def test_header_only_is_a_valid_zero_month(tmp_path: Path, write_csv) -> None:
    table = read_log(write_csv(tmp_path / "log.csv", []))
    assert len(table.frame) == 0 and "queried_at" in table.frame.columns


def test_gbk_csv_is_read(tmp_path: Path, row, write_csv) -> None:
    path = write_csv(tmp_path / "log.csv", [row("a", "2025-09-10 10:00:00", region="四川省")], encoding="gbk")
    assert read_log(path).frame.loc[0, "region"] == "四川省"


def test_parquet_and_xlsx_read_the_same(tmp_path: Path, row, write_csv) -> None:
    rows = [row("a", "2025-09-10 10:00:00"), row("b", "2025-09-11T02:00:00Z", authorization_expires="2025-12-31")]
    csv_frame = read_log(write_csv(tmp_path / "log.csv", rows)).frame
    raw = pd.DataFrame(rows)
    raw.to_excel(tmp_path / "log.xlsx", index=False)
    typed = raw.assign(queried_at=pd.to_datetime(["2025-09-10 10:00:00", "2025-09-11 10:00:00"]),
                       authorized_at=pd.to_datetime(raw["authorized_at"]))
    typed.to_parquet(tmp_path / "log.parquet", index=False)
    for name in ("log.xlsx", "log.parquet"):
        frame = read_log(tmp_path / name).frame
        assert list(frame["queried_at"]) == list(csv_frame["queried_at"]), name
        assert list(frame["authorized_at"]) == list(csv_frame["authorized_at"]), name
    assert str(csv_frame.loc[1, "queried_at"]) == "2025-09-11 10:00:00+08:00"


def test_users_reader_normalises_yes_no(tmp_path: Path, write_csv) -> None:
    path = write_csv(tmp_path / "u.csv", [{"user_id": "a", "status": "Active", "formal_employee": "是"}],
                     columns=["user_id", "status", "formal_employee"])
    frame = read_users(path).frame
    assert (frame.loc[0, "status"], frame.loc[0, "formal_employee"]) == ("active", "true")


# -- great-expectations suites ------------------------------------------------------------------
def test_gx_fingerprint_constant_still_exists_and_is_used() -> None:
    """Guard for the private HASH_THRESHOLD (regflows/credit/quality.py): fails when an upgrade moves it."""
    from great_expectations.execution_engine import pandas_execution_engine as engine

    assert isinstance(engine.HASH_THRESHOLD, (int, float))
    source = inspect.getsource(engine.PandasExecutionEngine.get_batch_data_and_markers)
    assert "HASH_THRESHOLD" in source and "hash_pandas_dataframe" in source


def test_gx_keeps_no_column_of_metrics_after_a_validation(tmp_path: Path) -> None:
    """Issue 18, goal 1: GX's execution engine cached every per-row metric it computed (lengths,
    flags) for the context's life, and GX keeps the last context: ~100 MB per million rows held
    while a partition's rules ran. After the suite, nothing of the frame's length is left but
    the frame's own columns (fails without regflows/credit/quality.py's _forget_metrics and
    _forget_context, or if an upgrade moves ``_metric_cache``)."""
    import gc

    import numpy as np
    from great_expectations.execution_engine.execution_engine import ExecutionEngine

    from regflows.credit.demo import generate
    from regflows.credit.quality import check_log
    from regflows.credit.settings import thresholds

    assert "_metric_cache" in inspect.getsource(ExecutionEngine.__init__)
    generate(12_345, 1, SEP).frame.to_parquet(tmp_path / "log.parquet", index=False)
    frame = read_log(tmp_path / "log.parquet").frame
    n = len(frame)
    report = check_log(frame, SEP, thresholds(), 1)
    assert report.success
    gc.collect()
    own = {id(frame[c].array) for c in frame.columns}
    left = [o for o in gc.get_objects()
            if (isinstance(o, pd.Series) and len(o) == n and id(o.array) not in own)
            or (isinstance(o, np.ndarray) and o.shape == (n,))]
    assert left == []


def test_gx_validates_without_loading_the_statistics_and_charts_it_does_not_use(write_csv: Callable[..., Path],
                                                                                 tmp_path: Path) -> None:
    """scipy.stats and altair stay stand-ins through a whole suite (issue 18: 35 % of GX's import);
    the first use loads the real module. In a fresh interpreter: this one may have them already."""
    import os
    import subprocess
    import sys

    log = write_csv(tmp_path / "log.csv", [])
    code = f"""
import sys
from regflows.credit.io import read_log
from regflows.credit.models import Period
from regflows.credit.quality import check_log
from regflows.credit.settings import thresholds
report = check_log(read_log({str(log)!r}).frame, Period(2025, 9), thresholds())
kinds = [type(sys.modules[m]).__name__ for m in ("scipy.stats", "altair")]
from scipy import stats
print(report.success, kinds, stats.norm.cdf(0), type(sys.modules["scipy.stats"]).__name__)
"""
    root = str(Path(__file__).resolve().parents[3])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split("\n")[-2] == "True ['_Deferred', '_Deferred'] 0.5 module"


@pytest.fixture
def quality_failure(write_csv: Callable[..., Path]) -> Callable[..., QualityFailure]:
    """A function: the QualityFailure a run over these rows raises, having published nothing."""
    def quality_failure(tmp_path: Path, rows: list[dict], users: list[dict] | None = None) -> QualityFailure:
        log = write_csv(tmp_path / "log.csv", rows)
        users_path = None
        if users is not None:
            users_path = write_csv(tmp_path / "users.csv", users, columns=list(users[0]))
        out = tmp_path / "out"
        with pytest.raises(QualityFailure) as info:
            run(log, SEP, load_profile(REPO / "profiles" / "demo.yaml"), out, users=users_path, events={})
        assert not (out / "summary.json").exists() and not list(out.glob("*.xlsx"))  # nothing published
        return info.value
    return quality_failure


def _problems(failure: QualityFailure) -> set[tuple[int, str, str]]:
    return {(int(r["行号"]), r["字段"], r["问题"]) for rep in failure.reports for _, r in rep.failures.iterrows()}


def test_log_suite_lists_failing_rows_and_writes_them(tmp_path: Path, quality_failure, row) -> None:
    failure = quality_failure(tmp_path, [
        row("ok", "2025-09-10 10:00:00"),
        row("bad-date", "2025-13-45 10:00:00"),
        row("raw-id", "2025-09-10 10:00:00", subject_id="11010119900307123X"),
        row("dup", "2025-09-10 10:00:00"),
        row("dup", "2025-09-10 11:00:00", subject_id="h:x"),
        row("late", "2025-10-01 00:00:00"),
        row("kind", "2025-09-10 10:00:00", subject_type="alien", reason_code="99"),
        row("auth", "2025-09-10 10:00:00", authorized_at="yesterday"),
    ])
    problems = _problems(failure)
    assert (3, "queried_at", "日期时间无法解析") in problems and (3, "queried_at", "必填值为空") not in problems
    values = {(int(r["行号"]), r["字段"]): r["值"] for rep in failure.reports for _, r in rep.failures.iterrows()}
    assert values[(3, "queried_at")] == "2025-13-45 10:00:00" and values[(9, "authorized_at")] == "yesterday"
    assert (4, "subject_id", "疑似未脱敏的18位身份证号（应为脱敏或哈希值）") in problems
    assert {(5, "query_id", "编号重复"), (6, "query_id", "编号重复")} <= problems
    assert (7, "queried_at", "查询时间晚于统计期末") in problems
    assert (8, "subject_type", "取值不在允许范围内") in problems
    assert not any(col == "reason_code" for _, col, _ in problems)  # an unlisted code is a finding (test_rules.py)
    assert (9, "authorized_at", "日期无法解析") in problems
    assert not any(line == 2 for line, _, _ in problems)
    files = {f.name: f for f in failure.files}
    rows_file = files["failing-rows-log-2025-09.csv"].read_text(encoding="utf-8-sig")
    assert "11010119900307123X" not in rows_file and "110*************3X" in rows_file  # masked
    assert "11010119900307123X" not in str(failure)
    assert "行号" in files["quality-failures-log-2025-09.csv"].read_text(encoding="utf-8-sig")


def test_an_unlisted_reason_code_does_not_stop_the_table(tmp_path: Path, row, write_csv) -> None:
    """PBOC-102 附件3 9.1 (issue 12, point 15): a 查询原因 code outside the agreed set is a lead
    (异常查询, rule ``reason_not_agreed``) kept for the quarterly self-inspection, not a data-quality
    failure; before, the suite refused the whole month."""
    rows = [row("p-ok", "2025-09-10 10:00:00", reason_code="01"),
            row("p-unlisted", "2025-09-10 10:00:00", reason_code="99")]
    out = tmp_path / "out"
    outcome = run(write_csv(tmp_path / "log.csv", rows), SEP, load_profile(REPO / "profiles" / "demo.yaml"), out, events={})
    assert outcome.rows[0].counts["abnormal_query"] == 1
    flagged = pd.read_csv(outcome.files["flagged"], dtype=str, encoding="utf-8-sig")
    assert list(flagged["查询编号"]) == ["p-unlisted"] and list(flagged["规则"]) == ["reason_not_agreed"]


def test_an_empty_reason_code_is_still_a_quality_failure(tmp_path: Path, quality_failure, row) -> None:
    """PBOC-102 附件3 8.3: the purpose of every query is registered; an empty one is missing data."""
    failure = quality_failure(tmp_path, [row("ok", "2025-09-10 10:00:00"), row("empty", "2025-09-10 10:00:00", reason_code="")])
    assert (3, "reason_code", "必填值为空") in _problems(failure)


def test_no_authorization_is_not_a_quality_failure(tmp_path: Path, row, write_csv) -> None:
    outcome = run(write_csv(tmp_path / "log.csv", [row("a", "2025-09-10 10:00:00", authorization_id="", authorized_at="")]),
                  SEP, load_profile(REPO / "profiles" / "demo.yaml"), tmp_path / "out", events={})
    assert outcome.rows[0].counts["unauthorized_query"] == 1


def test_users_suite(tmp_path: Path, quality_failure, row) -> None:
    failure = quality_failure(tmp_path, [row("a", "2025-09-10 10:00:00")], users=[
        {"user_id": "u1", "status": "retired", "formal_employee": "maybe", "status_since": "soon"},
        {"user_id": "u1", "status": "active", "formal_employee": "true", "status_since": ""},
    ])
    problems = _problems(failure)
    assert {(2, "status", "取值不在允许范围内"), (2, "formal_employee", "取值不在允许范围内"),
            (2, "status_since", "日期无法解析"), (3, "user_id", "编号重复")} <= problems


def test_inputs_keep_pyarrow_strings(tmp_path: Path, row, write_csv) -> None:
    inputs = read_inputs(write_csv(tmp_path / "log.csv", [row("a", "2025-09-10 10:00:00")]))
    assert inputs.log.frame["subject_id"].dtype.storage == "pyarrow"


def test_parquet_log_strings_are_trimmed_blanked_and_in_one_chunk(tmp_path: Path, log_columns, row, write_csv) -> None:
    """The reader strips only when a value may need it: padded values (ASCII or ideographic
    spaces) are still trimmed, empty ones become missing, and each column is one pyarrow chunk."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [row(f"q{i}", "2025-09-10 10:00:00") for i in range(6)]
    rows[1]["subject_id"], rows[2]["region"], rows[3]["user_id"] = " h:q1", "重庆市\u3000", "u1\t"
    rows[4]["authorization_id"] = ""
    table = pa.table({c: [r[c] or None if c in ("authorized_at", "authorization_expires") else r[c] for r in rows]
                      for c in log_columns})
    path = tmp_path / "log.parquet"
    pq.write_table(table, path, row_group_size=2)  # several chunks per column
    frame = read_log(path).frame
    assert frame.loc[1, "subject_id"] == "h:q1" and frame.loc[2, "region"] == "重庆市" and frame.loc[3, "user_id"] == "u1"
    assert pd.isna(frame.loc[4, "authorization_id"]) and frame.loc[5, "authorization_id"] == "A-q5"
    assert frame.loc[0, "query_id"] == "q0"
    assert all(frame[c].array._pa_array.num_chunks == 1 for c in ("query_id", "subject_id", "region", "user_id"))
    clean = read_log(write_csv(tmp_path / "clean.csv", [row("a", "2025-09-10 10:00:00")])).frame
    assert clean.loc[0, "subject_id"] == "h:a"


def test_day_month_orders_and_free_text_dates_are_refused_with_their_rows(tmp_path: Path, quality_failure, row) -> None:
    """Issue 13 (3): a guess moves rows between months silently. ``05/10/2025`` must not become
    10 May, ``13/10/2025`` must not be read day-first, ``Oct 15`` must not become year 1: each is a
    failing row, named, and nothing is published."""
    failure = quality_failure(tmp_path, [
        row("ok", "2025-09-10 10:00:00"),
        row("dm", "05/09/2025 12:00:00"),
        row("dfirst", "13/09/2025"),
        row("words", "Sep 15"),
        row("loose", "2025-9-5 10:00"),
        row("basic", "20250915 100000"),
        row("date-only", "2025-09-15"),  # 00:00 would count as an off-hours query
    ])
    problems = _problems(failure)
    assert {(line, "queried_at", "日期时间无法解析") for line in range(3, 9)} <= problems
    assert not any(line == 2 for line, _, _ in problems)


def test_sub_second_timestamps_are_read(tmp_path: Path, row, write_csv) -> None:
    """Issue 13 (3): database exports carry microseconds or nanoseconds; they are read (to the
    millisecond), with or without an offset, not a crash."""
    log = write_csv(tmp_path / "log.csv", [
        row("ns", "2025-09-10 10:00:00.123456789"),
        row("us", "2025-09-10T02:00:00.123456Z"),
        row("ns-off", "2025-09-10 10:00:00.999999999+08:00"),
    ])
    frame = read_log(log).frame
    assert not frame["_bad_queried_at"].any()
    assert [str(t) for t in frame["queried_at"]] == [
        "2025-09-10 10:00:00.123000+08:00", "2025-09-10 10:00:00.123000+08:00", "2025-09-10 10:00:00.999000+08:00"]


def test_one_declared_time_format_per_file(tmp_path: Path, row, write_csv) -> None:
    """Issue 13 (3): a file in another layout is read when its one format is declared (setting
    ``credit_log_time_format``); values in any other layout are still bad."""
    log = write_csv(tmp_path / "log.csv", [row("a", "10/09/2025 10:00:00"), row("b", "2025-09-10 10:00:00")])
    frame = read_log(log, "%d/%m/%Y %H:%M:%S").frame
    assert str(frame["queried_at"][0]) == "2025-09-10 10:00:00+08:00"
    assert frame["_bad_queried_at"].tolist() == [False, True]


def test_a_repeated_column_name_is_refused_naming_it(tmp_path: Path, log_columns, row, write_csv) -> None:
    """Issue 13 (10): pandas renames a second ``queried_at`` to ``queried_at.1`` and the run would
    silently use the first; the file is refused with the repeated name."""
    path = tmp_path / "log.csv"
    write_csv(path, [row("q1", "2025-09-10 10:00:00")], columns=[*log_columns, "queried_at"])
    with pytest.raises(CreditInputError, match="列名重复：queried_at"):
        read_log(path)
    frame = pd.DataFrame([row("q1", "2025-09-10 10:00:00")])
    frame.columns = [*frame.columns[:-1], "user_id"]  # the last column repeats user_id
    frame.to_excel(tmp_path / "log.xlsx", index=False)
    with pytest.raises(CreditInputError, match="列名重复：user_id"):
        read_log(tmp_path / "log.xlsx")


def test_a_failed_rerun_leaves_the_last_good_set_and_keeps_its_failures_apart(tmp_path: Path, row, write_csv) -> None:
    """Issue 13 (2): a rerun that fails its checks publishes nothing: the earlier tables,
    summary.json and flagged list stay as they were, and its failure files are in failed-<timestamp>/."""
    profile = load_profile(REPO / "profiles" / "demo.yaml")
    out = tmp_path / "out"
    good = write_csv(tmp_path / "good.csv", [row("q1", "2025-09-10 22:00:00")])
    run(good, SEP, profile, out, events={})
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert "summary.json" in before and any(n.endswith(".xlsx") for n in before)
    bad = write_csv(tmp_path / "bad.csv", [row("q1", "2025-09-10 10:00:00"), row("q1", "2025-09-11 10:00:00")])
    with pytest.raises(QualityFailure) as info:
        run(bad, SEP, profile, out, events={})
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    assert all(f.parent.name.startswith("failed-") and f.parent.parent == out and f.exists() for f in info.value.files)


def test_an_overlong_text_field_is_a_failing_row_shown_clipped(tmp_path: Path, quality_failure, row) -> None:
    """Issue 13 (10): a 5 MB institution code landed in summary.json and was cut silently in the
    .xlsx. Text fields are bounded: the row is named, the value shown clipped, nothing published."""
    huge = "X" * 5_000_000
    failure = quality_failure(tmp_path, [row("ok", "2025-09-10 10:00:00"), row("big", "2025-09-10 11:00:00", institution=huge)])
    problems = _problems(failure)
    assert (3, "institution", "文本过长（超过 200 个字符）") in problems
    shown = [r["值"] for rep in failure.reports for _, r in rep.failures.iterrows() if r["字段"] == "institution"]
    assert shown and all(len(v) < 200 and "共 5000000 个字符" in v for v in shown)
    assert all(f.stat().st_size < 100_000 for f in failure.files)
