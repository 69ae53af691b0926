"""Progress of runs and sweeps: a bar on a terminal, plain flushed lines in logs and pipes.

On a terminal (stderr is a TTY) a rich bar redraws in place. Anywhere else (a batch job's log,
a pipe, CI) redraws would fill the log with control characters, and no output at all leaves a
long run looking hung, so a plain line is printed instead: one per year for runs of up to
:data:`MAX_PLAIN_LINES` years (every N years for longer ones), one per finished batch for sweeps,
each with the elapsed time and flushed at once.

The level of detail is a :class:`Verbosity`: ``QUIET`` shows nothing, ``NORMAL`` the above,
``VERBOSE`` a plain line for every year or batch, on a terminal too.

Nothing here imports Numba, pandas or rich at import time: ``urbsim --help`` must start fast.
"""

from __future__ import annotations

import math
import pickle
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import IntEnum
from typing import Final

#: ``progress(year_done, years_total, households)``, as :func:`urbsim.runner.simulate` calls it.
ProgressCallback = Callable[[int, int, int], None]
#: ``update(ok, failed)``: runs that a finished batch of a sweep completed.
SweepUpdate = Callable[[int, int], None]

#: Most plain progress lines a run prints at the normal verbosity (a 25-year run prints 25).
MAX_PLAIN_LINES: Final[int] = 25

#: Printed before the first run on a machine, when the Numba kernels are not in the cache yet.
#: The time is measured: `make demo` from a fresh clone ran 120 s against 8 s with the kernels
#: cached (2-core machine, 2026-12-02).
COMPILE_MESSAGE: Final[str] = (
    "compiling kernels (first run only, about 2 minutes; cached afterwards)..."
)


class Verbosity(IntEnum):
    """How much the ``urbsim`` commands print besides errors and the final summary."""

    QUIET = 0
    NORMAL = 1
    VERBOSE = 2


def _elapsed(seconds: float) -> str:
    """``h:mm:ss`` as rich's elapsed column shows it."""
    whole = int(seconds)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def say(message: str) -> None:
    """Print one line to stderr and flush it (progress and notices, never results)."""
    print(message, file=sys.stderr, flush=True)


class RunProgress:
    """The progress callback of one run; :meth:`note` prints a message without breaking a bar.

    Call it as ``progress(year_done, years_total, households)`` after each simulated year.
    """

    def __init__(self, every: int, first_year: int | None) -> None:
        self.every = every
        self.first_year = first_year
        self.start = time.perf_counter()
        self.household_years = 0.0

    def _rate(self, households: int) -> str:
        self.household_years += households
        elapsed = time.perf_counter() - self.start
        # Household-years per second since the start: steadier than the last year's rate.
        return f"{self.household_years / elapsed:,.0f} households/s" if elapsed > 0 else ""

    def __call__(self, year_done: int, total: int, households: int) -> None:
        rate = self._rate(households)
        if self.every and (year_done % self.every == 0 or year_done == total):
            year = "" if self.first_year is None else f"{self.first_year + year_done}: "
            elapsed = _elapsed(time.perf_counter() - self.start)
            say(f"{year}{year_done}/{total} years, {rate}, elapsed {elapsed}")

    def note(self, message: str) -> None:
        """Print a message (for example :data:`COMPILE_MESSAGE`) on its own line."""
        if self.every:
            say(message)


class _BarProgress(RunProgress):
    """A :class:`RunProgress` drawn as a rich bar."""

    def __init__(self, bar: object, task: object) -> None:
        super().__init__(0, None)
        self.bar, self.task = bar, task

    def __call__(self, year_done: int, total: int, households: int) -> None:
        rate = self._rate(households)
        self.bar.update(self.task, completed=year_done, total=total, rate=rate)  # type: ignore[attr-defined]

    def note(self, message: str) -> None:
        self.bar.console.print(message, markup=False, highlight=False)  # type: ignore[attr-defined]


def _bar_columns(*columns: object) -> tuple[object, ...]:
    from rich.progress import BarColumn, MofNCompleteColumn, TimeElapsedColumn

    first, *rest = columns
    return (first, BarColumn(), MofNCompleteColumn(), *rest, TimeElapsedColumn())


@contextmanager
def year_progress(
    total_years: int,
    enabled: bool | None = None,
    *,
    verbosity: Verbosity = Verbosity.NORMAL,
    first_year: int | None = None,
) -> Iterator[RunProgress]:
    """A progress callback for the duration of a run.

    Parameters
    ----------
    total_years
        Years the run will simulate (the bar's length until a callback says otherwise).
    enabled
        True: a bar; False: nothing; None: a bar when stderr is a terminal, plain lines
        otherwise.
    verbosity
        ``QUIET`` shows nothing; ``VERBOSE`` prints a plain line every year, on a terminal too.
    first_year
        The start year, so that plain lines name the calendar year.

    Yields
    ------
    RunProgress
        ``callback(year_done, total, households)``: call after each simulated year with the
        number of years done, the total and the current number of households.
    """
    if enabled is False or verbosity == Verbosity.QUIET:
        yield RunProgress(0, None)
        return
    bar = sys.stderr.isatty() if enabled is None else True
    if verbosity == Verbosity.VERBOSE or not bar:
        every = 1 if verbosity == Verbosity.VERBOSE else math.ceil(total_years / MAX_PLAIN_LINES)
        yield RunProgress(max(1, every), first_year)
        return

    from rich.console import Console
    from rich.progress import Progress, TextColumn, TimeRemainingColumn

    columns = _bar_columns(
        TextColumn("[progress.description]{task.description}"),
        TextColumn("{task.fields[rate]}"),
    )
    with Progress(*columns, TimeRemainingColumn(), console=Console(stderr=True)) as bar_:
        yield _BarProgress(bar_, bar_.add_task("years", total=total_years, rate=""))


@contextmanager
def sweep_progress(
    total: int,
    done: int,
    failed: int,
    enabled: bool | None = None,
    *,
    verbosity: Verbosity = Verbosity.NORMAL,
) -> Iterator[SweepUpdate]:
    """Progress of a sweep: runs done, failures and time elapsed.

    Parameters
    ----------
    total, done, failed
        Runs in the sweep, runs finished before (a resumed sweep) and how many of them failed.
    enabled, verbosity
        As for :func:`year_progress`; plain lines come one per finished batch.

    Yields
    ------
    callable
        ``update(ok, failed)``: call with the number of runs a batch finished.
    """
    counts = {"done": done, "failed": failed}
    if enabled is False or verbosity == Verbosity.QUIET:
        yield lambda ok, bad: None
        return
    bar = sys.stderr.isatty() if enabled is None else True
    if verbosity == Verbosity.VERBOSE or not bar:
        start = time.perf_counter()

        def line(ok: int, bad: int) -> None:
            counts["done"] += ok + bad
            counts["failed"] += bad
            elapsed = _elapsed(time.perf_counter() - start)
            say(f"runs {counts['done']}/{total}, {counts['failed']} failed, elapsed {elapsed}")

        yield line
        return

    from rich.console import Console
    from rich.progress import Progress, TextColumn, TimeRemainingColumn

    columns = _bar_columns(TextColumn("runs"), TextColumn("{task.fields[failed]} failed"))
    with Progress(
        *columns, TextColumn("left"), TimeRemainingColumn(), console=Console(stderr=True)
    ) as bar_:
        task = bar_.add_task("runs", total=total, completed=done, failed=failed)

        def update(ok: int, bad: int) -> None:
            counts["failed"] += bad
            bar_.update(task, advance=ok + bad, failed=counts["failed"])

        yield update


# ---------------------------------------------------------------------------------------------
# Is this the first run (kernels to compile)?
# ---------------------------------------------------------------------------------------------
#: The kernels whose compilation makes the first run slow, called from Python on every run
#: (helpers inlined into them have no cache entry of their own, and some kernels serve only
#: other engines or tests, so "every dispatcher is cached" would never be true).
_ENTRY_KERNELS: Final[tuple[tuple[str, str], ...]] = (
    ("urbsim.kernels.household_step", "_step"),
    ("urbsim.kernels.settlement", "_grant_in_order"),
    ("urbsim.kernels.aggregate", "_aggregate"),
)


def kernels_cached() -> bool | None:
    """Whether Numba's on-disk cache holds the run's main kernels (True), not yet (False), or
    cannot be inspected (None: caching off, or a Numba whose cache layout differs).

    Reads the cache index of each kernel, as Numba does before compiling: an index that is
    missing, or written by another Numba version or for another version of the source, is
    empty. Imports Numba and the kernels (about a second) but compiles nothing.
    """
    from importlib import import_module

    try:
        for module, name in _ENTRY_KERNELS:
            dispatcher = getattr(import_module(module), name)
            # Numba's private cache API: guarded, since only a notice depends on it.
            if not dispatcher._cache._cache_file._load_index():
                return False
    except (AttributeError, OSError, ValueError, EOFError, pickle.UnpicklingError):
        return None
    return True
