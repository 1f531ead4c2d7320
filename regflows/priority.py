"""Scheduling priority: batch work yields the cores to what people wait for.

On a machine shared by everything (``regflows up``, or a small production set-up), a burst of
flow-run processes or a big month's partition processes can hold both cores for minutes, and the
endpoint's immediate alert, the Prefect API and the watches' reminders wait behind them (the
load-and-faults run, README "Production"). A higher nice value for the batch work keeps the
latency-bound parts first without capping anyone: an idle machine still gives the batch work
everything.

On Linux a nice value belongs to a thread (``setpriority`` on the thread id; ``os.nice`` too) and
is inherited by the threads and processes that thread creates afterwards. So lowering the
current thread lowers exactly what it starts from now on, and what was started before keeps its
priority. Elsewhere nothing is changed, rather than lowering a whole process that may also serve
people.
"""

from __future__ import annotations

import os
import sys
import threading

__all__ = ["lower_process_priority", "lower_thread_priority"]


def lower_thread_priority(niceness: int) -> int | None:
    """Raise this thread's nice value by ``niceness`` (capped at 19); the new value, or None where
    nothing changed (``niceness`` 0, or not Linux). A nice value cannot be lowered back without
    privileges: call it in the thread whose later children should yield, once."""
    if niceness <= 0 or not sys.platform.startswith("linux"):
        return None
    tid = threading.get_native_id()
    value = min(19, os.getpriority(os.PRIO_PROCESS, tid) + niceness)
    os.setpriority(os.PRIO_PROCESS, tid, value)
    return value


def lower_process_priority(niceness: int) -> int | None:
    """:func:`lower_thread_priority` for every thread of this process (``/proc/self/task``), for a
    process that is batch work as a whole (a local Dask worker of a big month: its loop, its
    executor threads, whichever thread starts the next); the new value of the calling thread."""
    if niceness <= 0 or not sys.platform.startswith("linux"):
        return None
    base = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    value = min(19, base + niceness)
    for tid in os.listdir("/proc/self/task"):
        try:
            os.setpriority(os.PRIO_PROCESS, int(tid), max(value, os.getpriority(os.PRIO_PROCESS, int(tid))))
        except ProcessLookupError:  # a thread that ended meanwhile
            continue
    return value
