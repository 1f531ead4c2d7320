"""A run that refuses its input ends Failed with the Chinese reason, and no traceback in its logs.

Why this module (review of issue 14, 7): a flow that returns ``Failed(message=...)`` ends in that
state, but a deployment's run is started as ``python -m prefect.engine`` (a served deployment
registered by entrypoint, as ``regflows up`` does), and there Prefect 3.9 asks the run for its
result once it has ended (``run_flow`` in prefect/flow_engine.py): the returned Failed state is
raised again as ``FailedRun`` and logged to the run's logs as ``Engine execution exited with
unexpected exception`` with a ~40-line traceback, after the run has already ended the way we meant.
Nothing in Prefect turns that off, so :func:`refused` marks the message as a refusal and a filter
on the flow-run logger drops exactly that record for exactly that message. Any other exception,
or a ``FailedRun`` of any other message, is still logged with its traceback.

A task refuses by returning ``{"refused": message}`` (it never raises for a person's bad input: a
raised task logs its own traceback), and the flow returns ``refused(message)``.
"""

from __future__ import annotations

import logging
from typing import Any

from prefect.exceptions import FailedRun
from prefect.states import Failed

__all__ = ["refused"]

#: What Prefect's ``run_flow`` logs with the traceback (prefect/flow_engine.py, 3.9.1).
ENGINE_RECORD = "Engine execution exited with unexpected exception"
#: Prefect's flow-run logger, the one ``run_flow`` is given as its ``error_logger``.
FLOW_RUN_LOGGER = "prefect.flow_runs"


class _RefusalFilter(logging.Filter):
    """Drops the engine's traceback record of a run that ended with one of our refusals."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not (record.msg == ENGINE_RECORD and isinstance(error, FailedRun) and str(error) in self.messages)


_FILTER = _RefusalFilter()


def refused(message: str) -> Any:
    """The state a flow returns to refuse its input: Failed with ``message`` (Chinese, naming the
    field), its traceback kept out of the run's logs (see the module's docstring). Typed ``Any``:
    a flow returns it in place of its result."""
    _FILTER.messages.add(message)
    logger = logging.getLogger(FLOW_RUN_LOGGER)
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
    return Failed(message=message)
