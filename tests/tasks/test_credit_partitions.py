"""The local Dask cluster of a big month runs its partitions at a lower priority
(``settings.credit_partition_nice``; tasks/credit_partitions.py, regflows/priority.py)."""

from __future__ import annotations

import functools
import os
import sys

import pytest


@pytest.mark.prefect
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a nice value per thread is Linux's")
def test_the_partition_steps_run_lower_than_the_run_that_started_them(prefect_api: str, drain_prefect_workers) -> None:  # type: ignore[no-untyped-def]
    from prefect import flow

    from regflows.settings import Settings
    from tasks.credit_partitions import dask_mapper

    @flow(name="partition-priority-probe")
    def probe(nice: int) -> list[int]:
        with dask_mapper(Settings(credit_partition_workers=1, credit_partition_nice=nice)) as mapper:
            # the step asks its own thread's nice value (0: the calling thread), in the worker process
            return mapper(functools.partial(os.getpriority, os.PRIO_PROCESS), [0, 0])

    base = os.getpriority(os.PRIO_PROCESS, 0)
    assert probe(7) == [min(19, base + 7)] * 2
    assert probe(0) == [base] * 2  # 0: unchanged
    assert os.getpriority(os.PRIO_PROCESS, 0) == base  # the run's own process keeps its priority
    drain_prefect_workers()
