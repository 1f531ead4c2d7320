"""A progress bar over a run's named steps, on stderr, for every procedure's CLI (the monthly
statistics, the quarter's self-inspection): long work shows where it is, its stdout stays the JSON.
A step made of many parts (the partitions of a big month) shows a second bar under the first.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

__all__ = ["StepBar", "step_progress"]


class StepBar:
    """``bar(name)`` completes the step before and shows ``name``; ``bar.part(label, done, total)``
    shows how far the current step's parts are (a second bar, made at its first call)."""

    def __init__(self, progress: Any, title: str, steps: Sequence[str]) -> None:
        self._bar = progress
        self._task = progress.add_task(title, total=len(steps))
        self._parts: Any = None
        self.started: list[str] = []

    def __call__(self, name: str) -> None:
        if self.started:
            self._bar.advance(self._task)
        self.started.append(name)
        self._bar.update(self._task, description=name)

    def part(self, label: str, done: int, total: int) -> None:
        if self._parts is None:
            self._parts = self._bar.add_task(label, total=total)
        self._bar.update(self._parts, description=f"  {label}", completed=done, total=total)

    def finish(self, steps: int) -> None:
        self._bar.update(self._task, completed=steps, description="完成")


@contextmanager
def step_progress(title: str, steps: Sequence[str]) -> Iterator[StepBar]:
    """Yields a :class:`StepBar` over ``steps`` (on stderr)."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=Console(stderr=True), transient=False) as progress:
        bar = StepBar(progress, title, steps)
        yield bar
        if len(bar.started) == len(steps):  # every step began and the work returned: done
            bar.finish(len(steps))
