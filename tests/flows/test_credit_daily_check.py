"""The credit-daily-check flow against a real Prefect server (PBOC-102 二（四） 日核查, 三（二） 立即上报)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.mark.prefect
def test_flow_checks_each_day_once_raises_violations_and_fails_on_a_missing_log(prefect_api: str, home: Path,
                                                                                artifact_texts, row, write_csv) -> None:
    """Monday 2025-10-13 checks Sunday 10-12 (nothing on record yet); Wednesday checks 10-13 and
    10-14, one of them without a log: the run fails (red), the digest names the missing day, and
    the next run checks only that day."""
    from sqlalchemy import select

    from flows.credit_daily_check import credit_daily_check
    from regflows.store.db import session
    from regflows.store.models import Notice, OutboxMessage

    folder = home / "credit" / "daily"
    folder.mkdir(parents=True)
    write_csv(folder / "query-log-2025-10-12.csv", [row("sun1", "2025-10-12 10:00:00", authorization_id="", authorized_at="")])
    result = credit_daily_check(today="2025-10-13")
    assert result["days"] == ["2025-10-12"] and result["unauthorized_query"] == 1 and result["abnormal_query"] == 0
    assert artifact_texts(prefect_api, "credit-daily-check")
    write_csv(folder / "query-log-2025-10-13.csv", [row("mon1", "2025-10-13 19:30:00")])
    state = credit_daily_check(today="2025-10-15", return_state=True)
    assert state.is_failed()
    with session() as s:
        kinds = [n.kind for n in s.execute(select(Notice).order_by(Notice.created_at)).scalars()]
        assert kinds.count("credit_violation") == 1 and kinds.count("credit_daily_digest") == 2
        digest = s.get(Notice, "credit-daily:digest:2025-10-13.2025-10-14")
        assert digest.requires_ack and "2025-10-14 的查询日志不存在" in digest.body and "工作时间以外" in digest.body
        titles = {m.title for m in s.execute(select(OutboxMessage)).scalars()}
        assert any(t.startswith("【征信违规查询】2025-10-12 YX0001 查询 sun1") for t in titles)
    write_csv(folder / "query-log-2025-10-14.csv", [row("tue1", "2025-10-14 10:00:00")])
    assert credit_daily_check(today="2025-10-15")["days"] == ["2025-10-14"]
