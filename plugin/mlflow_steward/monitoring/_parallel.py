"""Columns in parallel (threads: numpy's sorting, searching and counting release the GIL) and a
progress bar that appears only when the work has already taken a few seconds."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: Cells (rows x columns) from which columns are profiled in parallel threads.
PARALLEL_CELLS = 2_000_000
#: Seconds of work after which the progress bar is shown.
PROGRESS_AFTER_S = 3.0
_CPUS = os.cpu_count() or 1


class LateProgress:
    """A rich progress bar on stderr, started only once ``delay`` seconds have passed (terminal only)."""

    def __init__(self, label: str, total: int, *, enabled: bool, delay: float = PROGRESS_AFTER_S) -> None:
        self.label, self.total, self.enabled, self.delay = label, total, enabled, delay
        self.started = time.monotonic()
        self.done = 0
        self._bar = None
        self._task = None

    def advance(self) -> None:
        self.done += 1
        if not self.enabled:
            return
        if self._bar is None and time.monotonic() - self.started >= self.delay and self.done < self.total:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            console = Console(stderr=True)
            if not console.is_terminal:
                self.enabled = False
                return
            self._bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), console=console, transient=True)  # fmt: skip
            self._bar.start()
            self._task = self._bar.add_task(self.label, total=self.total, completed=self.done)
        elif self._bar is not None:
            self._bar.update(self._task, completed=self.done)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()


def map_columns(
    work: Callable[[T], R],
    items: Sequence[T],
    *,
    cells: int,
    n_jobs: int | None = None,
    progress: bool = True,
    label: str = "profiling columns",
) -> list[R]:
    """``[work(item) for item in items]``, in threads when the input is large; results in input order."""
    threads = min(len(items), n_jobs or _CPUS)
    bar = LateProgress(label, len(items), enabled=progress)
    try:
        if threads <= 1 or cells < PARALLEL_CELLS:
            results = []
            for item in items:
                results.append(work(item))
                bar.advance()
            return results
        out: list[R | None] = [None] * len(items)
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="steward-profile") as pool:
            futures = {pool.submit(work, item): i for i, item in enumerate(items)}
            for future in as_completed(futures):
                out[futures[future]] = future.result()
                bar.advance()
        return out  # type: ignore[return-value]
    finally:
        bar.close()
