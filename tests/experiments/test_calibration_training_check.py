"""experiments/calibration/training_check.py: a wave's emulators fitted to its own runs or to
every run, judged at a later batch's runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "experiments" / "calibration" / "training_check.py"
sys.path.insert(0, str(SCRIPT.parent))

from training_check import COLUMNS, compare  # noqa: E402

from urbsim.analysis.history_matching import Box  # noqa: E402

BOX = Box.of({"a": (0.0, 1.0), "b": (0.0, 1.0)})


def _runs(x: np.ndarray, seed: int) -> np.ndarray:
    """Two replications of two outputs: a smooth one and a rugged one, with small noise."""
    rng = np.random.default_rng(seed)
    clean = np.column_stack([x[:, 0] + x[:, 1] ** 2, np.sin(12.0 * x[:, 0]) * x[:, 1]])
    return clean[:, None, :] + 0.01 * rng.normal(size=(x.shape[0], 2, 2))


def test_more_runs_predict_a_batch_better_and_the_metrics_are_those_defined() -> None:
    # The "wave": 12 runs in a corner; "all": those and 40 over the box; the batch: 30 sets.
    corner = 0.3 * BOX.lhs(12, seed=1)
    spread = BOX.lhs(40, seed=2)
    batch_x = BOX.lhs(30, seed=3)
    trainings = {
        "wave": (corner, _runs(corner, 4)),
        "all": (np.vstack([corner, spread]), np.vstack([_runs(corner, 4), _runs(spread, 5)])),
    }
    batch = (batch_x, _runs(batch_x, 6))
    base = np.array([0.05, 0.1])
    table = compare(trainings, batch, ["smooth", "rugged"], base, BOX)
    assert list(table.columns) == list(COLUMNS)
    assert table["runs"].tolist() == [12, 12, 52, 52] and (table["sets"] == 30).all()
    wave, every = (table[table["training"] == t].set_index("target") for t in ("wave", "all"))
    # Away from its corner the wave's emulator of the rugged output knows nothing.
    assert every.loc["rugged", "rmse_over_base"] < 0.5 * wave.loc["rugged", "rmse_over_base"]
    assert every.loc["rugged", "correlation"] > 0.9
    # The spread of the batch's run means over base, whatever the training.
    mean = batch[1].mean(axis=1)
    assert every["spread_over_base"].to_numpy() == pytest.approx(mean.std(axis=0) / base)
    assert (table["emulator_sd_over_base"] >= 0).all()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--wave", "0"), "--wave and --batch count from 1"),
        (("--wave", "2"), "not a finished sweep"),
    ],
)
def test_mistakes_exit_2_with_one_error_line(tmp_path: Path, args: tuple, message: str) -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path), *args], capture_output=True, text=True
    )
    err = done.stderr.strip()
    assert done.returncode == 2 and err.startswith("error: ") and message in err
    assert len(err.splitlines()) == 1
