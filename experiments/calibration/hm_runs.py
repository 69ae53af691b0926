"""The census model as a simulator for history matching: one points sweep per wave.

:class:`SweepSimulator` is the ``simulate(x, r, seed)`` of
:func:`urbsim.analysis.history_matching.run_waves`: it writes the wave's design points as a
points sweep (``<folder>/waveK/sweep.toml``, run 2010-2019 on the census world at the chosen
scale, ``r`` replications each), runs it with ``urbsim.sweep.driver.run_sweep`` (resumable: a
wave already finished in the folder is read, not rerun) and computes every target's model
value per run (:func:`urbsim.analysis.targets.model_values`). It returns the fitted targets'
values and keeps every usable target's values (held-out years included) in ``outputs``;
:meth:`SweepSimulator.run` runs any other set of points the same way (the check runs of the
ensemble).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from urbsim.analysis.history_matching import Box
from urbsim.analysis.targets import Target, model_values
from urbsim.dynamics.destination_constants import NOT_CONVERGED
from urbsim.sweep.driver import run_sweep
from urbsim.sweep.spec import toml_value

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "china_census.toml"
#: The targets end in 2019: runs stop there (the years run are those of the full run).
LAST_YEAR = 2019
#: The last line of a run's error when its set's destination constants were not found:
#: such a run gives NaN values (:meth:`SweepSimulator.run`), the set is ruled out.
REFUSED = f"behaviour.destination_constants: {NOT_CONVERGED}"


def province_of_places(households_per_agent: float = 1e6) -> pd.Series:
    """Province code by place id of the census world (static: built once, coarse scale)."""
    from urbsim.model import build_world
    from urbsim.scenario import load_scenario

    loaded = load_scenario(SCENARIO, [f"world.households_per_agent={households_per_agent!r}"])
    return pd.Series(np.asarray(build_world(loaded).places.province_code, dtype=np.int64))


def needed_columns(targets: Sequence[Target]) -> tuple[list[str], list[str], list[int]]:
    """National columns, place columns and place years the targets read."""
    national: list[str] = []
    places: list[str] = []
    years: list[int] = []
    for t in targets:
        if t.quantity.kind == "province_tvd":
            places += [c for c in t.quantity.reads if c not in places]
            years += [t.year] if t.year not in years else []
        elif t.quantity.kind == "per_1000_natural":
            national += [c for c in ("births", "deaths", "residents") if c not in national]
        else:
            national += [c for c in t.quantity.reads if c not in national]
    return national, places, sorted(years)


def sweep_text(
    folder: Path,
    box: Box,
    x: np.ndarray,
    reps: int,
    seed: int,
    hpa: float,
    targets: Sequence[Target],
    fixed: Mapping[str, Any] | None = None,
) -> str:
    """A points sweep of the design ``x`` keeping what the targets read; ``fixed`` sets other
    scenario fields of every run (dotted names)."""
    national, places, years = needed_columns(targets)
    base = os.path.relpath(SCENARIO, folder)
    lines = [
        "# Written by experiments/calibration/history_match.py: one wave's design points.",
        f"base = {toml_value(base)}",
        f"seed = {seed}",
        f"replications = {reps}",
        f"households_per_agent = {toml_value(float(hpa))}",
        "",
    ]
    if fixed:
        lines += ["[set]", *(f"{toml_value(k)} = {toml_value(v)}" for k, v in fixed.items()), ""]
    lines += ["[design]", 'kind = "points"']
    for j, name in enumerate(box.names):
        values = ", ".join(repr(float(v)) for v in x[:, j])
        lines += ["", "[[design.parameters]]", f"name = {toml_value(name)}", f"values = [{values}]"]
    lines += ["", "[outputs]", f"national = {toml_value(national)}", f"until = {LAST_YEAR}"]
    if places:
        lines += [f"places = {toml_value(places)}", f"years = {toml_value(years)}"]
    return "\n".join(lines) + "\n"


def run_values(out: Path, targets: Sequence[Target], province_of: pd.Series | None) -> np.ndarray:
    """Every target's value in every run of a finished sweep folder, in run order (runs, k);
    NaN for a run without tables (one that failed) and, in every target, for a run where some
    target is undefined (:func:`urbsim.analysis.targets.model_value`: a share of a stock the
    run emptied, such as the inter-province share of a run left without floating persons).
    History matching refuses such a set (:func:`urbsim.analysis.history_matching.refused_sets`):
    a run with nothing to compare is not a run near the observations."""
    table = pq.read_table(out / "results.parquet", filters=[("kind", "in", ["national", "places"])])
    df = table.to_pandas()
    nat = df[df["kind"] == "national"].pivot_table(
        index=["run", "year"], columns="name", values="value", aggfunc="first"
    )
    places = df[df["kind"] == "places"][["run", "year", "place_id", "name", "value"]]
    by_run = dict(tuple(places.groupby("run", sort=False)))
    rows = np.full((pq.read_metadata(out / "runs.parquet").num_rows, len(targets)), np.nan)
    for run, national in nat.groupby(level="run", sort=True):
        national = national.reset_index(level="run", drop=True).reset_index()
        values = model_values(targets, national, by_run.get(run), province_of)
        rows[run] = values if np.isfinite(values).all() else np.nan
    return rows


class SweepSimulator:
    """``simulate(x, r, seed)`` by points sweeps in ``folder/wave1``, ``folder/wave2`` ...

    Parameters
    ----------
    folder
        Where the waves' sweeps are written.
    box
        The parameter box (names in design order).
    usable
        Every target the model can give (fitted and held out); ``fitted`` their subset that
        history matching uses (the simulator returns these, in order).
    hpa
        Households per agent of the runs.
    workers
        Worker processes of each sweep (one Numba thread each).
    reuse
        Another calibration's folder: a sweep finished there with the same ``sweep.toml`` text
        (the same points, seeds, scale and outputs: the same runs, since the same seed gives
        the same tables) is copied instead of run: the full fit continuing the out-of-sample
        fit (``history_match.py --continue-from``) copies all its design waves this way.
    fixed
        Other scenario fields every run sets (dotted names to values), for example
        ``{"behaviour.destination_constants": True}``.
    """

    def __init__(
        self,
        folder: Path,
        box: Box,
        usable: Sequence[Target],
        fitted: Sequence[Target],
        hpa: float,
        workers: int,
        reuse: Path | None = None,
        fixed: Mapping[str, Any] | None = None,
    ) -> None:
        self.folder, self.box, self.hpa, self.workers = folder, box, hpa, workers
        self.reuse = reuse
        self.fixed = dict(fixed or {})
        self.usable = list(usable)
        self.fitted_index = [self.usable.index(t) for t in fitted]
        needs_places = any(t.quantity.kind == "province_tvd" for t in self.usable)
        self.province_of = province_of_places() if needs_places else None
        #: Per wave: design points (n, d) and every usable target's values (n, r, k_all).
        self.outputs: list[tuple[np.ndarray, np.ndarray]] = []
        #: The same for the runs of :meth:`named` simulators, by name.
        self.named_outputs: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        #: Wall seconds of each sweep (runs, reading their values), by folder name.
        self.seconds: dict[str, float] = {}

    def __call__(self, x: np.ndarray, reps: int, seed: int) -> np.ndarray:
        """Run the next wave; the fitted targets' values (n, r, k)."""
        y = self.run(x, reps, seed, f"wave{len(self.outputs) + 1}")
        self.outputs.append((x, y))
        return y[:, :, self.fitted_index]

    def _copy_reusable(self, name: str, text: str, runs: Path) -> None:
        """Copy ``reuse/name/runs`` into ``runs`` when that sweep is finished and its
        ``sweep.toml`` is ``text`` (``run_sweep`` then checks its resolved hash and reads it)."""
        if self.reuse is None or runs.exists():
            return
        other = self.reuse / name
        finished = (other / "runs" / "manifest.json").is_file()
        toml = other / "sweep.toml"
        if not (finished and toml.is_file()):
            return
        if toml.read_text(encoding="utf-8") != text:
            # Hours of runs may follow: say why they are not copied.
            print(f"{other}: another sweep (points, seeds, scale or outputs), run anew", flush=True)
            return
        # Under another name first: a copy cut short by a kill is not taken for finished runs.
        part = runs.with_name(f".{runs.name}.copy")
        shutil.rmtree(part, ignore_errors=True)
        shutil.copytree(other / "runs", part)
        part.rename(runs)
        print(f"{other}: the same sweep, its runs copied", flush=True)

    def named(self, name: str) -> Callable[[np.ndarray, int, int], np.ndarray]:
        """A ``simulate(x, r, seed)`` running its points as the sweep ``folder/name``, its
        later calls as ``folder/name2``, ``folder/name3`` ... (the verification's batches):
        the fitted targets' values, every usable target's of all calls kept, in call order,
        in ``named_outputs[name]``."""
        calls = [0]

        def simulate(x: np.ndarray, reps: int, seed: int) -> np.ndarray:
            calls[0] += 1
            y = self.run(x, reps, seed, name if calls[0] == 1 else f"{name}{calls[0]}")
            if name in self.named_outputs:
                old_x, old_y = self.named_outputs[name]
                self.named_outputs[name] = (np.concatenate([old_x, x]), np.concatenate([old_y, y]))
            else:
                self.named_outputs[name] = (x, y)
            return y[:, :, self.fitted_index]

        return simulate

    def run(self, x: np.ndarray, reps: int, seed: int, name: str) -> np.ndarray:
        """Run the points ``x`` with ``reps`` replications as the sweep ``folder/name``;
        every usable target's values (n, r, k_all). A finished sweep there is read, not rerun.

        A run whose destination constants were not found within the solver's budget (the
        model's one error naming them, :data:`REFUSED`) gives NaN values: history matching
        rules the set out (:func:`urbsim.analysis.history_matching._simulated`).

        Raises
        ------
        SystemExit
            When a run did not finish or failed otherwise.
        """
        self.seconds.setdefault(name, 0.0)
        start = time.perf_counter()
        folder = self.folder / name
        folder.mkdir(parents=True, exist_ok=True)
        sweep = folder / "sweep.toml"
        text = sweep_text(folder, self.box, x, reps, seed, self.hpa, self.usable, self.fixed)
        sweep.write_text(text, encoding="utf-8")
        self._copy_reusable(name, text, folder / "runs")
        outcome = run_sweep(sweep, folder / "runs", workers=self.workers, threads=1, resume=True)
        other = [(r, line) for r, line in outcome.failures if REFUSED not in line]
        if other or outcome.missing:
            first = f"; run {other[0][0]}: {other[0][1]}" if other else ""
            raise SystemExit(
                f"{folder}: {len(other)} runs failed, {len(outcome.missing)} did not finish" + first
            )
        values = run_values(folder / "runs", self.usable, self.province_of)
        self.seconds[name] += time.perf_counter() - start
        return values.reshape(x.shape[0], reps, len(self.usable))
