"""A progress bar over a run's named steps, on stderr, for every procedure's CLI (the monthly
statistics, the quarter's self-inspection): long work shows where it is, its stdout stays the JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

__all__ = ["step_progress"]


@contextmanager
def step_progress(title: str, steps: Sequence[str]) -> Iterator[Callable[[str], None]]:
    """Yields ``on_step(name)``: each call completes the step before and shows ``name``."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task(title, total=len(steps))
        started: list[str] = []

        def on_step(name: str) -> None:
            if started:
                bar.advance(task)
            started.append(name)
            bar.update(task, description=name)

        yield on_step
        if len(started) == len(steps):  # every step began and the work returned: done
            bar.update(task, completed=len(steps), description="完成")
