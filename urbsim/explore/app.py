"""The explorer page (Solara): levers on the left, the run's figures and the reference on the right.

Served by ``urbsim explore`` (``solara run urbsim.explore.app:Page``). The page state lives in
Solara reactive variables, one set per browser session; everything the page computes goes
through :mod:`urbsim.explore.state`, so the page itself only lays out and wires controls.
"""

from __future__ import annotations

import html
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pandas as pd
import solara
import solara.lab

from urbsim.cli.errors import error_paragraph
from urbsim.errors import UrbsimError
from urbsim.explore import state, views
from urbsim.scenario import LoadedScenario, load_scenario

#: Environment variable naming the folder of scenario files (``urbsim explore --scenarios``).
SCENARIOS_ENV: Final[str] = "URBSIM_EXPLORE_SCENARIOS"


@dataclass(frozen=True)
class PageRun:
    """A finished page run: what was run, its tables, figures and the national table's digest."""

    spec: state.RunSpec
    name: str
    national: pd.DataFrame
    images: dict[str, bytes]
    digest: str


def _scenario_folder() -> Path | None:
    """The folder ``urbsim explore`` was given, else ``scenarios/`` if there is one."""
    folder = Path(os.environ.get(SCENARIOS_ENV, "scenarios"))
    return folder if folder.is_dir() else None


# One set per browser session (Solara scopes reactive variables to the session).
scenario_name = solara.reactive("")
from_year = solara.reactive(0)
values: solara.Reactive[dict[str, str]] = solara.reactive({})
message = solara.reactive("")
progress = solara.reactive("")
current: solara.Reactive[PageRun | None] = solara.reactive(None)
reference: solara.Reactive[PageRun | None] = solara.reactive(None)
stopper: solara.Reactive[state.Stopper | None] = solara.reactive(None)


def _files() -> dict[str, Path]:
    return state.scenario_choices(_scenario_folder())


def _base(name: str) -> LoadedScenario | None:
    """The chosen scenario without overrides, or None (with the error shown) if it is invalid."""
    path = _files().get(name)
    if path is None:
        return None
    try:
        return load_scenario(path)
    except UrbsimError as exc:
        message.value = error_paragraph(exc)
        return None


def _choose(name: str, year: int | None = None) -> None:
    """Select a scenario (and the year the policy levers apply from); reset the levers."""
    scenario_name.value = name
    loaded = _base(name)
    if loaded is None:
        return
    year = state.default_from_year(loaded) if year is None else year
    from_year.value = state.policy_year(loaded, year)
    values.value = state.initial_values(loaded, from_year.value)


@solara.lab.task
def run_task(spec: state.RunSpec) -> None:
    """Run in a worker thread: progress and the result go to the reactive variables."""
    stop = state.Stopper()
    stopper.value = stop
    message.value = ""

    def on_year(done: int, total: int) -> None:
        progress.value = f"Running: year {done} of {total}"

    try:
        result = state.run_spec(spec, on_year, stop)
    except UrbsimError as exc:
        # The command line's paragraph: a refused lever value, or a Stop.
        message.value = error_paragraph(exc)
        progress.value = ""
        return
    progress.value = "Drawing the figures"
    images = views.run_images(result.national, result.places)
    current.value = PageRun(
        spec,
        result.loaded.scenario.name,
        result.national,
        images,
        state.national_digest(result.national),
    )
    progress.value = f"Done: {len(result.national)} years"


def _start() -> None:
    loaded = _base(scenario_name.value)
    if loaded is None:
        return
    overrides = state.overrides_for(loaded, from_year.value, values.value)
    spec = state.RunSpec(_files()[scenario_name.value], tuple(overrides))
    progress.value = "Starting (the first run compiles the model: about a minute)"
    run_task(spec)


def _stop() -> None:
    if stopper.value is not None:
        stopper.value.stop()


@solara.component
def Heading(text: str, tag: str = "h4") -> None:
    """A heading (plain HTML: Markdown would load its math renderer from a CDN)."""
    solara.HTML(tag=tag, unsafe_innerHTML=html.escape(text))


@solara.component
def LeverInput(lever: state.Lever) -> None:
    """One lever: a select for a choice, a text field (read as TOML, like ``--set``) otherwise."""
    text = values.value.get(lever.key, "")

    def set_text(new: Any) -> None:
        values.value = {**values.value, lever.key: str(new)}

    if lever.kind == "choice":
        solara.Select(label=lever.label, value=text, values=list(lever.choices), on_value=set_text)
    else:
        solara.InputText(label=lever.label, value=text, on_value=set_text)


@solara.component
def Levers() -> None:
    """Scenario, year, every lever, and the Run / Stop / Save buttons."""
    files = _files()
    if not files:
        solara.Error(f"no scenario files (folder: {_scenario_folder()}; none packaged)")
        return
    if scenario_name.value not in files:
        _choose(next(iter(files)))
    solara.Select(label="Scenario", value=scenario_name.value, values=list(files), on_value=_choose)
    loaded = _base(scenario_name.value)
    if loaded is not None:
        sc = loaded.scenario
        solara.SliderInt(
            label="Policy levers apply from",
            value=from_year.value,
            min=sc.start_year,
            max=sc.end_year,
            on_value=lambda y: _choose(scenario_name.value, y),
            thumb_label="always",
            tick_labels="end_points",
        )
        later = state.later_timeline_years(loaded, from_year.value)
        if later:
            solara.Warning(f"the scenario's timeline entries of {later} override these levers")
    for lever in state.LEVERS:
        LeverInput(lever)
    with solara.Row():
        solara.Button("Run", on_click=_start, disabled=run_task.pending, color="primary")
        solara.Button("Stop", on_click=_stop, disabled=not run_task.pending)
        solara.Button(
            "Save as reference",
            on_click=lambda: reference.set(current.value),
            disabled=current.value is None,
        )


@solara.component
def RunFigures(run: PageRun, title: str) -> None:
    """The figures of one run, drawn by the ``urbsim run`` figure code."""
    Heading(f"{title}: {run.name}")
    for name, png in run.images.items():
        solara.Text(name, style={"font-weight": "bold"})
        solara.Image(png, width="100%")


@solara.component
def Comparison(run: PageRun, ref: PageRun | None) -> None:
    """Floating population and province moves of the run (and the reference), and the 2035
    differences."""
    tables = {"current": run.national}
    if ref is not None:
        tables["reference"] = ref.national
    solara.Text(
        "Floating population and moves between provinces (the run records no "
        "origin-destination flows yet, so the province corridors are shown as this national "
        "series)"
    )
    # Drawn once per pair of runs, not on every progress update of the page.
    figures = solara.use_memo(
        lambda: [views.series_figure(c, label, s, tables) for c, label, s in views.SERIES],
        dependencies=[run, ref],
    )
    with solara.Columns([1, 1]):
        for figure in figures:
            solara.FigureMatplotlib(figure)
    if ref is not None:
        diff = state.compare_runs(run.national, ref.national)
        Heading("Current minus reference")
        solara.DataFrame(diff.round(3), items_per_page=10)


@solara.component
def Export(run: PageRun) -> None:
    """The scenario of the shown run as TOML, and its national table with the digest."""
    toml = state.export_toml(run.spec)
    Heading("Export scenario")
    solara.FileDownload(toml, filename=f"{run.name}-explore.toml", label="Export scenario")
    solara.Preformatted(toml)
    solara.FileDownload(
        state.national_csv(run.national), filename="national.csv", label="National table (CSV)"
    )
    solara.Text(f"National table sha256: {run.digest}", classes=["national-digest"])


@solara.component
def Page() -> None:
    """The explorer page."""
    solara.Title("urbsim explorer")
    with solara.Sidebar():
        Levers()
    Heading("urbsim explorer", "h2")
    if progress.value:
        solara.Text(progress.value, classes=["run-progress"])
    if message.value:
        with solara.Div(classes=["run-error"]):
            solara.Preformatted(message.value)
    run, ref = current.value, reference.value
    if run is None:
        solara.Info("Set the levers and press Run.")
        return
    Comparison(run, ref)
    with solara.Columns([1, 1] if ref is not None else [1]):
        RunFigures(run, "Current run")
        if ref is not None:
            RunFigures(ref, "Reference")
    Export(run)
