"""tasks/refusals.py without a server: the engine's traceback record of a refusal is dropped, and
only that one (review of issue 14, 7; the served-deployment path is tested in tests/flows)."""

from __future__ import annotations

import logging

import pytest
from prefect.exceptions import FailedRun

from tasks.refusals import ENGINE_RECORD, FLOW_RUN_LOGGER, refused


def _logged(caplog: pytest.LogCaptureFixture, message: str, error: BaseException) -> list[str]:
    caplog.clear()
    try:
        raise error
    except BaseException:
        logging.getLogger(FLOW_RUN_LOGGER).error(message, exc_info=True)
    return [r.getMessage() for r in caplog.records]


def test_only_the_engine_record_of_a_refusal_is_dropped(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger=FLOW_RUN_LOGGER)
    state = refused("义务未豁免：义务“通知用户”没有规则允许豁免")
    assert state.is_failed() and state.message == "义务未豁免：义务“通知用户”没有规则允许豁免"
    assert _logged(caplog, ENGINE_RECORD, FailedRun(state.message)) == []
    # Another run's failure, another exception, or another record: still logged with its traceback.
    assert _logged(caplog, ENGINE_RECORD, FailedRun("磁盘已满")) == [ENGINE_RECORD]
    assert _logged(caplog, ENGINE_RECORD, ValueError(state.message)) == [ENGINE_RECORD]
    assert _logged(caplog, "Finished in state Failed", FailedRun(state.message)) == ["Finished in state Failed"]
