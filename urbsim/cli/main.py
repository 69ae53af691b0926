"""The ``urbsim`` command: run scenarios, check them, print the schema, redraw figures.

User errors (a bad scenario, a missing file, a malformed ``--set``, an output folder that may
not be replaced or written) print one ``error:`` paragraph to stderr and exit with code 2
before anything is written: every command raises an :class:`urbsim.errors.UrbsimError` and
:class:`urbsim.cli_errors.ReportingGroup` reports it. Any other exception is a bug and keeps
its traceback.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from urbsim.cli.errors import ReportingGroup, fail
from urbsim.cli.options import QuietOption, VerboseOption, verbosity
from urbsim.errors import InputError
from urbsim.progress import Verbosity
from urbsim.scenario import LoadedScenario, Scenario, ScenarioError, load_scenario
from urbsim.scenario.load import unreached_timeline_years
from urbsim.scenario.registry import resolve_scenario

if TYPE_CHECKING:
    import pandas as pd

app = typer.Typer(
    cls=ReportingGroup,
    no_args_is_help=True,
    add_completion=False,
    # Plain Click help: rich markup would eat "[default: ...]" in help texts, and importing
    # rich's help formatter costs more start-up time than the rest of `urbsim --help`.
    rich_markup_mode=None,
    # Click wraps help at 80 columns and cuts command summaries short; use wider terminals.
    context_settings={"max_content_width": 100},
    help="Agent-based simulation of population agglomeration under China's urbanization policies.",
)


class Engine(StrEnum):
    """Household engine."""

    numba = "numba"
    mesa = "mesa"


SCENARIO_HELP = (
    "Scenario file (TOML), or the name of a packaged scenario (baseline, china_census, "
    "policy/d1_services, ...: see `urbsim scenarios`); an existing file wins."
)

SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        metavar="KEY=VALUE",
        help="Override a scenario field, e.g. --set policy.permit.enabled=true "
        "(value read as TOML; repeatable).",
    ),
]


def _load(path: Path, sets: list[str] | None, **fields: object) -> LoadedScenario:
    """Load the scenario ``path`` names (a file, else a packaged scenario's name)."""
    path = resolve_scenario(path)
    try:
        return load_scenario(path, overrides=sets, **fields)
    except ScenarioError as exc:
        if exc.source != "--set":
            raise
        # A malformed override is not in the file, but say which scenario it was for.
        raise InputError(f"{exc}\n(overrides of {path.resolve()})") from None


def _note_unreached(loaded: LoadedScenario) -> None:
    """Say on stderr which timeline entries a run that ends early does not reach (a note, not
    an error: ``--set end_year=2019`` is how a run is stopped early)."""
    years = unreached_timeline_years(loaded.scenario)
    if years:
        listed = ", ".join(str(y) for y in years)
        typer.echo(
            f"note: {loaded.source}: timeline entries after end_year "
            f"{loaded.scenario.end_year} are not reached ({listed})",
            err=True,
        )


def _print_version(value: bool) -> None:
    if value:
        from urbsim import __version__

        typer.echo(f"urbsim {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print the version (from the git tag the package was built from) and exit.",
        ),
    ] = False,
) -> None:
    # Only global options live here; the commands do the work.
    pass


@app.command()
def run(
    scenario: Annotated[Path, typer.Argument(metavar="SCENARIO", help=SCENARIO_HELP)],
    out: Annotated[
        Path | None, typer.Option("--out", help="Output folder [default: results/<scenario name>].")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed (overrides the scenario's).")] = None,
    sets: SetOption = None,
    engine: Annotated[
        Engine | None, typer.Option(help="Household engine (overrides the scenario's).")
    ] = None,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
    ignore_memory_limit: Annotated[
        bool,
        typer.Option(
            "--ignore-memory-limit",
            help="Run even when the run's estimated memory exceeds the available memory.",
        ),
    ] = False,
) -> None:
    """Run a scenario and write its tables, manifest and figures."""
    level = verbosity(quiet, verbose)
    from urbsim.output import build_manifest, check_location, check_replaceable, write_run

    # A packaged scenario's name becomes its file, which the messages below then name.
    scenario = resolve_scenario(scenario)
    loaded = _load(scenario, sets, seed=seed, engine=None if engine is None else engine.value)
    if level != Verbosity.QUIET:
        _note_unreached(loaded)
    name = loaded.scenario.name
    if out is None:
        if name in (".", "..") or "/" in name or "\\" in name:
            fail(f"{scenario.resolve()}: name: {name!r} cannot be a folder name; pass --out")
        out = Path("results") / name
    # Before the run, not after: a long run must not end in a refusal to write.
    check_location(out)
    check_replaceable(out, "run")

    # Imported here so that `schema` and `check` start fast and work without the model.
    from urbsim import plots
    from urbsim.errors import ResourceError
    from urbsim.progress import year_progress
    from urbsim.runner import simulate
    from urbsim.world.census import WorldFileError

    first, years = loaded.scenario.start_year, loaded.scenario.end_year - loaded.scenario.start_year
    try:
        with year_progress(years, verbosity=level, first_year=first) as progress:
            result = simulate(
                loaded,
                progress=progress,
                notice=progress.note,
                check_memory=not ignore_memory_limit,
            )
    except ResourceError as exc:
        fail(f"{scenario.resolve()}: {exc}")
    except WorldFileError as exc:
        # A world file that is corrupt or of another format version: the user's file.
        fail(f"{scenario.resolve()}: world.world_file: {exc}")

    manifest = build_manifest(
        result.loaded, result.loaded.scenario.seed, result.wall_seconds, result.notes
    )
    path = write_run(
        out,
        result.national,
        result.places,
        manifest,
        lambda folder: plots.draw_all(result.national, result.places, folder),
        result.flows,
    )
    if level == Verbosity.QUIET:
        typer.echo(str(path))
    else:
        _summary(result.national, result.wall_seconds, path, name)


def _summary(national: pd.DataFrame, wall_seconds: float, path: Path, name: str) -> None:
    """Final-year rates, wall time and where the output went."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    last = national.sort_values("year").iloc[-1]
    # Text, not str: rich would read "[...]" in a name or path as markup.
    table = Table(title=Text(f"{name}: {int(last['year'])}"), show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_row("Resident urbanization", f"{100 * float(last['urbanization_rate']):.1f} %")
    table.add_row("Hukou urbanization", f"{100 * float(last['hukou_urbanization_rate']):.1f} %")
    table.add_row("Floating population", f"{float(last['floating_population']) / 1e6:,.1f} M")
    table.add_row("Wall time", f"{wall_seconds:,.1f} s")
    table.add_row("Output", Text(str(path)))
    Console(highlight=False).print(table)


@app.command(short_help="Validate a scenario; print its name and hash.")
def check(
    file: Annotated[Path, typer.Argument(metavar="SCENARIO", help=SCENARIO_HELP)],
    sets: SetOption = None,
) -> None:
    """Validate a scenario; print its name and the hash of the resolved scenario."""
    loaded = _load(file, sets)
    _note_unreached(loaded)
    typer.echo(f"OK {loaded.scenario.name} {loaded.sha256}")


@app.command(short_help="Print the JSON Schema of scenario files.")
def schema() -> None:
    """Print the JSON Schema of scenario files (with units and sources)."""
    typer.echo(json.dumps(Scenario.model_json_schema(), indent=2, ensure_ascii=False))


@app.command()
def plot(
    run_dir: Annotated[Path, typer.Argument(metavar="DIR", help="A run folder.")],
) -> None:
    """Redraw a run folder's figures from its two tables."""
    from urbsim import plots
    from urbsim.output import (
        FIGURES_DIR,
        check_location,
        check_subfolder_replaceable,
        read_run_tables,
        replace_dir,
    )

    national, places = read_run_tables(run_dir)
    target = run_dir / FIGURES_DIR
    check_location(target)
    check_subfolder_replaceable(run_dir, FIGURES_DIR, "run")
    written: list[Path] = []
    try:
        replace_dir(target, lambda folder: written.extend(plots.draw_all(national, places, folder)))
    except plots.PlotDataError as exc:
        # Tables that lack a column the figures need: a file problem, not a bug.
        fail(f"{run_dir}: {exc}")
    typer.echo(f"wrote {len(written)} figures to {target}")


# Sweeps, their figures and experiment reproduction live in their own module.
from urbsim.cli.sweep import plot_sweep, reproduce, sweep  # noqa: E402

# Short summaries: Click cuts longer ones to the width of an 80-column terminal.
app.command(short_help="Run a parameter sweep, results streamed to disk.")(sweep)
app.command("plot-sweep")(plot_sweep)
app.command(short_help="Rerun an experiment and compare with its committed tables.")(reproduce)

# The packaged scenarios and `urbsim init` live in their own module.
from urbsim.cli.scenarios import init, scenarios  # noqa: E402

app.command(short_help="List the packaged scenarios (names for run and extends).")(scenarios)
app.command(short_help="Write an editable scenario and a sweep template.")(init)

# World files (the census world) live in their own module.
from urbsim.cli.world import world_app  # noqa: E402

app.add_typer(world_app, name="world")

# The interactive explorer (Solara page) lives in its own module.
from urbsim.cli.explore import explore  # noqa: E402

app.command(short_help="Serve the interactive explorer on loopback.")(explore)
