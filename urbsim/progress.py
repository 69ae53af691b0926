"""A progress bar for runs: years done and households simulated per second, on terminals only."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

#: ``progress(year_done, years_total, households)``, as :func:`urbsim.runner.simulate` calls it.
ProgressCallback = Callable[[int, int, int], None]


def _silent(year_done: int, total: int, households: int) -> None:
    """Progress callback that shows nothing."""


@contextmanager
def year_progress(total_years: int, enabled: bool | None = None) -> Iterator[ProgressCallback]:
    """A progress callback for the duration of a run.

    Parameters
    ----------
    total_years
        Years the run will simulate (the bar's length until a callback says otherwise).
    enabled
        Show the bar; None shows it only when stderr is a terminal, so that logs and pipes
        are not filled with redraws.

    Yields
    ------
    callable
        ``callback(year_done, total, households)``: call after each simulated year with the
        number of years done, the total and the current number of households.
    """
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        yield _silent
        return

    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task("years", total=total_years, rate="")
        start = time.perf_counter()
        household_years = 0.0

        def update(year_done: int, total: int, households: int) -> None:
            nonlocal household_years
            household_years += households
            elapsed = time.perf_counter() - start
            # Household-years per second since the start: steadier than the last year's rate.
            rate = f"{household_years / elapsed:,.0f} households/s" if elapsed > 0 else ""
            bar.update(task, completed=year_done, total=total, rate=rate)

        yield update
