"""The ``urbsim sweep``, ``urbsim plot-sweep`` and ``urbsim reproduce`` commands.

Registered on the ``urbsim`` app by :mod:`urbsim.cli`. Exit codes: 0 success; 1 a sweep with
failed or unfinished runs, or a reproduction whose tables differ; 2 a user error (invalid sweep
or experiment file, unusable output folder, bad option), reported as one ``error:`` paragraph
before anything is written; 130 interrupted by Ctrl-C (the sweep folder stays resumable).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

# User errors go through the one error path of the urbsim command (exit code 2).
from urbsim.cli.errors import fail as _fail
from urbsim.cli.options import QuietOption, VerboseOption, verbosity
from urbsim.progress import Verbosity

if TYPE_CHECKING:
    from urbsim.sweep.driver import SweepOutcome

#: Exit code of a sweep with failed or unfinished runs, or of tables that differ.
RUNS_FAILED = 1
#: Exit code after Ctrl-C (128 + SIGINT, the shell's convention).
INTERRUPTED = 130
#: Failed runs listed at the end of a sweep (the rest are in runs.parquet).
_SHOWN_FAILURES = 10


class ExecutorName(StrEnum):
    """Where the runs of a sweep execute."""

    local = "local"
    dask = "dask"
    serial = "serial"


def _say(message: str) -> None:
    typer.echo(message, err=True)


ExecutorOption = Annotated[
    ExecutorName,
    typer.Option(
        help="local: process pool (forkserver); dask: Dask distributed (LocalCluster, or "
        "--scheduler); serial: in this process."
    ),
]
WorkersOption = Annotated[
    int | None,
    typer.Option(min=1, help="Worker processes (default: cores / threads)."),
]
ThreadsOption = Annotated[
    int | None,
    typer.Option(min=1, help="Numba threads per worker (default: cores / workers)."),
]
SchedulerOption = Annotated[
    str | None,
    typer.Option(help="Address of a running Dask scheduler (with --executor dask)."),
]


def _check_executor(executor: ExecutorName, scheduler: str | None) -> None:
    if scheduler is not None and executor != ExecutorName.dask:
        _fail("--scheduler needs --executor dask")
    if executor == ExecutorName.dask:
        try:
            import distributed  # noqa: F401
        except ImportError:
            _fail("--executor dask needs the optional extra: pip install 'urbsim[dask]'")


def sweep(
    file: Annotated[Path, typer.Argument(help="Sweep file (TOML).")],
    out: Annotated[
        Path | None,
        typer.Option(help="Sweep folder (default: results/<sweep file's folder>/<its stem>)."),
    ] = None,
    executor: ExecutorOption = ExecutorName.local,
    workers: WorkersOption = None,
    threads: ThreadsOption = None,
    scheduler: SchedulerOption = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Finish the sweep in --out: run only what is missing.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Delete a sweep already in --out and start over.")
    ] = False,
    task_seconds: Annotated[
        float, typer.Option(min=0.0, help="Wanted wall time of a task; runs are batched to it.")
    ] = 0.1,
    large: Annotated[
        bool, typer.Option("--large", help="Allow a sweep of more than 100,000 runs.")
    ] = False,
    ignore_memory_limit: Annotated[
        bool,
        typer.Option(
            "--ignore-memory-limit",
            help="Run even when the concurrent runs' estimated memory exceeds the available.",
        ),
    ] = False,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Run a parameter sweep: every design point and replication, results streamed to disk."""
    level = verbosity(quiet, verbose)
    from urbsim.errors import UrbsimError
    from urbsim.sweep.driver import run_sweep

    _check_executor(executor, scheduler)
    if resume and force:
        _fail("--resume and --force exclude each other")
    try:
        outcome = run_sweep(
            file,
            out,
            executor=executor.value,  # type: ignore[arg-type]
            workers=workers,
            threads=threads,
            scheduler=scheduler,
            resume=resume,
            force=force,
            task_seconds=task_seconds,
            log=None if level == Verbosity.QUIET else _say,
            verbosity=level,
            large=large,
            ignore_memory_limit=ignore_memory_limit,
        )
    except UrbsimError as exc:
        # Sweep file, output folder, foreign part, resource limit, Dask worker versions.
        _fail(str(exc))
    except KeyboardInterrupt:
        where = f" --out {out}" if out is not None else ""
        _say(f"interrupted; finished runs are kept: urbsim sweep {file}{where} --resume")
        raise typer.Exit(INTERRUPTED) from None

    _report(outcome, file, level)


def _report(outcome: SweepOutcome, file: Path, level: Verbosity) -> None:
    """Print a finished (or interrupted) sweep's failures and status; exit 1 unless all ran."""
    shown = len(outcome.failures) if level == Verbosity.VERBOSE else _SHOWN_FAILURES
    for run, line in outcome.failures[:shown]:
        _say(f"run {run} failed: {line}")
    if len(outcome.failures) > shown:
        _say(f"... {len(outcome.failures) - shown} more failed runs")
    for key, message in outcome.infra_errors:
        _say(f"task {key} did not finish: {message}")
    for metric, reason in outcome.analysis_skipped:
        if level != Verbosity.QUIET:
            _say(f"analysis of {metric} skipped: {reason}")
    status = f"{outcome.ok} ok, {outcome.failed} failed"
    if outcome.missing:
        status += f", {len(outcome.missing)} unfinished"
    typer.echo(f"{outcome.out}: {outcome.total} runs: {status} ({outcome.wall_seconds:,.1f} s)")
    if not outcome.complete:
        typer.echo(f"resume with: urbsim sweep {file} --out {outcome.out} --resume")
        raise typer.Exit(RUNS_FAILED)
    typer.echo(f"results.parquet sha256 {outcome.results_sha256}")
    if outcome.failed:
        typer.echo("failed runs: see the status and error columns of runs.parquet")
        raise typer.Exit(RUNS_FAILED)


def plot_sweep(
    sweep_dir: Annotated[Path, typer.Argument(metavar="DIR", help="A finished sweep folder.")],
) -> None:
    """Draw a sweep's figures into DIR/figures from its tables."""
    from urbsim.output import OutputError
    from urbsim.plots import PlotDataError
    from urbsim.plots.sweep import draw_figures

    try:
        written = draw_figures(sweep_dir)
    except (OutputError, PlotDataError) as exc:
        _fail(f"{sweep_dir}: {exc}" if isinstance(exc, PlotDataError) else str(exc))
    typer.echo(f"wrote {len(written)} figures to {sweep_dir / 'figures'}")


def reproduce(
    experiment: Annotated[
        Path, typer.Argument(help="Experiment folder (with experiment.toml), e.g. experiments/x.")
    ],
    update: Annotated[
        bool,
        typer.Option("--update", help="Regenerate the committed results in place instead."),
    ] = False,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="With --update: continue the last update of this experiment that was killed, "
            "keeping its finished steps and runs.",
        ),
    ] = False,
    keep: Annotated[
        bool,
        typer.Option(
            "--keep",
            help="Keep the rerun's temporary folder; with --update, keep it when a step fails "
            "(to read it, or to continue it with --update --resume).",
        ),
    ] = False,
    executor: ExecutorOption = ExecutorName.local,
    workers: WorkersOption = None,
    threads: ThreadsOption = None,
    scheduler: SchedulerOption = None,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Rerun an experiment and compare its results with results/<name>/ (exit 0 only if equal).

    Integers, counts, strings, manifests and generated text must be equal; other floats may
    differ by 1e-9 relative (1e-12 absolute near zero); figures are compared by their pixels.
    Stops at the first step that fails (exit 1).
    """
    from urbsim.errors import UrbsimError
    from urbsim.plots import PlotDataError
    from urbsim.sweep.reproduce import StepFailed, SweepOptions, format_diffs, summary_lines
    from urbsim.sweep.reproduce import reproduce as run_reproduce

    level = verbosity(quiet, verbose)
    _check_executor(executor, scheduler)
    options = SweepOptions(executor.value, workers, threads, scheduler, int(level))
    log = (lambda message: None) if level == Verbosity.QUIET else _say
    try:
        ok, diffs = run_reproduce(
            experiment,
            update=update,
            resume=resume,
            keep=keep,
            options=options,
            log=log,
            warn=lambda line: typer.echo(line, err=True),
        )
    except (StepFailed, PlotDataError) as exc:
        # Not a user error (exit 2): the experiment ran and a step failed; later steps did not.
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(RUNS_FAILED) from None
    except UrbsimError as exc:
        # An invalid experiment or sweep file, an unusable folder, a resource limit.
        _fail(str(exc))
    except KeyboardInterrupt:
        _say("interrupted")
        raise typer.Exit(INTERRUPTED) from None
    if update:
        return
    for line in format_diffs(diffs):
        # --quiet: only what differs, then the summary.
        if level != Verbosity.QUIET or not line.lstrip().startswith("match"):
            typer.echo(line)
    for line in summary_lines(diffs):
        typer.echo(line)
    if not ok:
        raise typer.Exit(RUNS_FAILED)
