"""The calibration's simulator (experiments/calibration/hm_runs.py): a run whose destination
constants cannot be fitted rules its set out; any other failed run stops the calibration."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pipeline_helpers import calibration_module

from urbsim.dynamics import destination_constants
from urbsim.dynamics.destination_constants import NOT_CONVERGED, UnattainableShares
from urbsim.errors import InputError
from urbsim.model import UrbanizationModel
from urbsim.sweep.driver import SweepOutcome

HERE = Path(__file__).resolve().parents[2] / "experiments" / "calibration"


@pytest.fixture(scope="module")
def runs() -> ModuleType:
    return calibration_module("hm_runs")


def test_the_refusal_is_the_model_s_error_for_constants_that_do_not_converge(
    runs: ModuleType, small_scenario: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The marker is in what the model says when the solver stops short, and not in what it
    says of a stock no constants can give (that is the world's, the same for every set: the
    calibration must stop)."""

    def stops_short(*args: Any, **kwargs: Any) -> None:
        raise ValueError(f"{NOT_CONVERGED} in 2000 evaluations (largest log error 1.00e-01)")

    def unattainable(*args: Any, **kwargs: Any) -> None:
        raise UnattainableShares("no constants can give the in-migrants asked: province 42")

    for solver, refused in ((stops_short, True), (unattainable, False)):
        monkeypatch.setattr(destination_constants, "fit_constants", solver)
        with pytest.raises(InputError) as exc:
            UrbanizationModel(small_scenario(behaviour={"destination_constants": True}))
        assert (runs.REFUSED in str(exc.value)) is refused


def test_run_values_are_nan_for_runs_without_tables(
    runs: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three runs, run 1 failed: its row is NaN, the others in run order."""
    pd.DataFrame({"run": [0, 1, 2]}).to_parquet(tmp_path / "runs.parquet")
    pd.DataFrame(
        {
            "kind": ["national"] * 2,
            "run": [0, 2],
            "year": [2011, 2011],
            "place_id": [-1, -1],
            "name": ["x", "x"],
            "value": [10.0, 30.0],
        }
    ).to_parquet(tmp_path / "results.parquet")
    monkeypatch.setattr(runs, "model_values", lambda t, national, p, q: national["x"].to_numpy())
    values = runs.run_values(tmp_path, ["x"], None)
    np.testing.assert_array_equal(values, [[10.0], [np.nan], [30.0]])


def _simulator(
    runs: ModuleType,
    tmp_path: Path,
    failures: list[tuple[int, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[object, object]:
    """A simulator whose sweep of 4 runs (2 sets, 2 replications) failed as ``failures``."""
    hm = calibration_module("history_match")
    box = hm.read_box(HERE / "box.csv")
    targets = [t for t in hm.build_targets() if t.name == "resident_urbanization"][:1]
    outcome = SweepOutcome(tmp_path, total=4, ok=4 - len(failures), failed=len(failures))
    outcome.failures = failures
    failed = np.isin(np.arange(4), [r for r, _ in failures])[:, None]
    monkeypatch.setattr(runs, "run_sweep", lambda *a, **k: outcome)
    monkeypatch.setattr(runs, "run_values", lambda *a: np.where(failed, np.nan, 1.0))
    return runs.SweepSimulator(tmp_path, box, targets, targets, 1000.0, 1), box


def test_a_set_whose_constants_cannot_be_fitted_gives_nan_runs(
    runs: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    line = f"urbsim.errors.InputError: {runs.REFUSED} in 2000 evaluations (largest log error 0.1)"
    sim, box = _simulator(runs, tmp_path, [(3, line)], monkeypatch)
    y = sim.run(box.lhs(2, seed=1), 2, 1, "wave1")
    assert y.shape == (2, 2, 1)
    assert np.isnan(y[1, 1]).all() and np.isfinite(y[0]).all() and np.isfinite(y[1, 0]).all()


def test_any_other_failed_run_stops_the_calibration_naming_it(
    runs: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused = f"InputError: {runs.REFUSED} in 2000 evaluations"
    failures = [(0, refused), (2, "ZeroDivisionError: division")]
    sim, box = _simulator(runs, tmp_path, failures, monkeypatch)
    with pytest.raises(SystemExit, match="1 runs failed, 0 did not finish; run 2: ZeroDivision"):
        sim.run(box.lhs(2, seed=1), 2, 1, "wave1")
