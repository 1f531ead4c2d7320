"""A flow run outlives its console (issue 19, item 6: the load-and-faults run's month, still
``Running`` 18 minutes after its worker was killed).

A process worker starts each flow run with its standard output and error piped to itself. When the
worker dies (SIGKILL, a crash, a restart of its service) the run goes on, but its console is a pipe
nobody reads: the next write fails with ``BrokenPipeError``. Prefect's console handler prints
through rich, whose ``Console.on_broken_pipe`` then points standard output at ``/dev/null`` and
raises ``SystemExit`` in whichever thread logged, past ``logging.Handler.emit``'s ``except
Exception``. In a big month's run that thread is Dask's event loop (the local cluster's scheduler
and nannies log there): the loop ends, and every call into the cluster (a step's result, the
cluster's start or close) waits for it forever. In the main thread the same exit crashes the run;
in a Dask worker process it kills the worker (the nanny starts another, which dies at its first
line). The run's logs still reach Prefect's API (its own handler), so losing the console loses
nothing an operator needs.

:func:`outlive_the_console` makes every Prefect console handler of the process fall silent
instead: the lost standard stream is pointed at ``/dev/null`` (so that other writers, and
processes started afterwards that inherit it, write nowhere instead of failing) and nothing is
raised. ``tasks/__init__.py`` calls it in every process that imports a task (each flow run's), and
the local Dask cluster's workers when they start (this module is their ``preload``, Dask calls
:func:`dask_setup`: ``tasks/credit_partitions.py``).
"""

from __future__ import annotations

import logging
import os
import select
import sys
from typing import Any

#: The module Dask imports in each worker process it starts (``preload``).
PRELOAD = __name__


def outlive_the_console() -> None:
    """Make the Prefect console handlers of this process survive a lost console (module docstring).
    Idempotent. Prefect's logging is set up first if it is not yet (a Dask worker process sets it
    up at its first task run otherwise: with fresh handlers, unprotected); it is set up once per
    process, later set-ups only adjust those handlers."""
    from prefect.logging.configuration import ensure_logging_setup
    from prefect.logging.handlers import PrefectConsoleHandler

    ensure_logging_setup()

    loggers: list[Any] = [logging.getLogger()]
    loggers += [lg for lg in logging.Logger.manager.loggerDict.values() if isinstance(lg, logging.Logger)]
    for logger in loggers:
        for handler in logger.handlers:
            console = getattr(handler, "console", None)
            if isinstance(handler, PrefectConsoleHandler) and console is not None:
                console.on_broken_pipe = lambda console=console: _console_lost(console)


def _console_lost(console: Any) -> None:
    """Instead of rich's ``SystemExit``: no more console output, the lost streams to ``/dev/null``."""
    console.quiet = True
    fds = {fd for fd in (sys.__stdout__, sys.__stderr__, getattr(console, "file", None)) if fd is not None}
    for stream in fds:
        try:
            fd = stream.fileno()
        except (OSError, ValueError):
            continue
        if _reader_gone(fd):
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, fd)
            finally:
                os.close(devnull)


def _reader_gone(fd: int) -> bool:
    """Whether ``fd`` is a pipe (or socket) whose reading end is closed: poll says POLLERR."""
    if not hasattr(select, "poll"):  # not Linux or macOS: rich's own choice, for the streams it named
        return True
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    return any(event & (select.POLLERR | select.POLLHUP) for _, event in poller.poll(0))


#: The environment variable the local cluster's nannies give their workers: how much lower the
#: worker process runs (``settings.credit_partition_nice``, tasks/credit_partitions.py).
NICE_ENV = "REGFLOWS_PARTITION_NICE"


def dask_setup(worker: Any) -> None:
    """Dask's preload hook, in each worker process of the local cluster as it starts: the console
    (above), and the process's priority (regflows/priority.py: a big month is batch work and
    yields the cores to the endpoint, the API and the watches)."""
    from regflows.priority import lower_process_priority

    outlive_the_console()
    lower_process_priority(int(os.environ.get(NICE_ENV) or 0))


__all__ = ["NICE_ENV", "PRELOAD", "dask_setup", "outlive_the_console"]
