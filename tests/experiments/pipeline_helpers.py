"""Helpers of the experiment tests: an experiment's ``tiny.py`` run end to end into a folder,
and a stand-in for a calibration target.

(A module of its own, not conftest.py: ``from conftest import`` would be ambiguous with
tests/conftest.py.)
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest


@dataclass(frozen=True)
class TargetStub:
    """The fields of :class:`urbsim.analysis.targets.Target` that judging a run reads."""

    key: str
    observed: float
    discrepancy_sd: float
    observation_sd: float


EXPERIMENTS = Path(__file__).resolve().parents[2] / "experiments"
#: Characters of a failed run's stderr shown in the failure (the tail: where the error is).
TAIL = 3000


def calibration_module(name: str) -> ModuleType:
    """``experiments/calibration/<name>.py`` imported (its folder on the path, as when the
    scripts import each other)."""
    here = EXPERIMENTS / "calibration"
    sys.path.insert(0, str(here))
    spec = importlib.util.spec_from_file_location(f"urbsim_calibration_{name}", here / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def run_tiny(experiment: str, *arguments: str | Path) -> None:
    """Run ``experiments/<experiment>/tiny.py`` with ``arguments``; fail the test if it fails.

    Parameters
    ----------
    experiment : str
        The experiment's folder name in ``experiments/``.
    *arguments : str | Path
        The command line of its ``tiny.py``.
    """
    command = [sys.executable, str(EXPERIMENTS / experiment / "tiny.py"), *map(str, arguments)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.fail(f"{experiment}/tiny.py exited {done.returncode}:\n{done.stderr[-TAIL:]}")


def run_tiny_over(experiment: str, ensemble: pd.DataFrame, folder: Path) -> Path:
    """Write ``ensemble`` as ``folder/ensemble.csv`` and run the experiment's ``tiny.py`` over
    it into ``folder``.

    Parameters
    ----------
    experiment : str
        The experiment's folder name in ``experiments/`` (its ``tiny.py`` takes
        ``ENSEMBLE_CSV OUT``).
    ensemble : pandas.DataFrame
        An ensemble in the layout ``experiments/calibration/history_match.py`` writes.
    folder : Path
        The results folder of the tiny run.

    Returns
    -------
    Path
        ``folder``, holding everything the run wrote.
    """
    ensemble.to_csv(folder / "ensemble.csv", index=False)
    run_tiny(experiment, folder / "ensemble.csv", folder)
    return folder
