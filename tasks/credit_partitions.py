"""A big month's partitions over a Dask cluster, through Prefect's Dask task runner (issue 19,
item 4): each step of each partition (regflows/credit/partitions.py) is a Prefect task run of its
own, seen in the UI under the run that asked for it, executed by the cluster's workers.

The cluster is the institution's own when ``settings.credit_dask_address`` names its scheduler
(every worker must reach the log file and the spill folder at the same paths: a shared file
system), else a local one of ``settings.credit_partition_workers`` processes started for the run and
stopped after it. Counts are the same as one process's: the steps are pure functions of their
partition (``tests/flows/test_credit_stats.py``, the big month over a local cluster).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from prefect import task
from prefect.cache_policies import NONE
from prefect.utilities.annotations import unmapped

from regflows.settings import CreditSettings
from tasks.console import NICE_ENV, PRELOAD

T = TypeVar("T")
R = TypeVar("R")


@task(name="credit-partition-step 分区计算", cache_policy=NONE)
def partition_step_task(step: Callable[[Any], Any], item: Any) -> Any:
    """One step (scan, bucket, check) of one partition: ``step(item)``."""
    return step(item)


def dask_runner(settings: CreditSettings) -> Any:
    """Prefect's Dask task runner for the settings: the cluster at the address, or a local one
    (processes of one thread each: the steps hold the interpreter lock, and each process's memory
    is one partition's). The local workers share the run's console and outlive it as the run
    does, and run ``settings.credit_partition_nice`` lower (``preload``: tasks/console.py)."""
    from prefect_dask import DaskTaskRunner

    if settings.credit_dask_address:
        return DaskTaskRunner(address=settings.credit_dask_address)
    return DaskTaskRunner(cluster_kwargs={"n_workers": settings.credit_partition_workers, "threads_per_worker": 1,
                                          "processes": True, "dashboard_address": None, "preload": [PRELOAD],
                                          "env": {NICE_ENV: str(settings.credit_partition_nice)}})


@contextmanager
def dask_mapper(settings: CreditSettings) -> Iterator[Callable[[Callable[[T], R], Sequence[T]], list[R]]]:
    """A mapper for :func:`regflows.credit.partitions.run` that runs each step as a task on the
    cluster; the runner (and a local cluster) lives as long as the ``with`` block."""
    with dask_runner(settings) as runner:
        def mapper(step: Callable[[T], R], items: Sequence[T]) -> list[R]:
            futures = runner.map(partition_step_task, {"step": unmapped(step), "item": list(items)})
            return [f.result() for f in futures]

        yield mapper
