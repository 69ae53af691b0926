"""experiments/calibration/scale_shift.py: how far the scale moves every target."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "experiments" / "calibration" / "scale_shift.py"
sys.path.insert(0, str(SCRIPT.parent))

from scale_shift import main, shift_table  # noqa: E402


def test_each_scale_is_measured_from_the_finest_in_error_sds() -> None:
    means = {
        4000.0: pd.Series({"a": 3.0, "b": 10.0}),
        100.0: pd.Series({"a": 1.5, "b": 10.5}),
        30.0: pd.Series({"a": 1.0, "b": 10.0}),
    }
    table = shift_table(means, pd.Series({"a": 0.5, "b": 2.0}))
    assert table["households_per_agent"].tolist() == [4000.0, 4000.0, 100.0, 100.0, 30.0, 30.0]
    assert table["shift"].tolist() == [2.0, 0.0, 0.5, 0.5, 0.0, 0.0]
    assert table["shift_over_error_sd"].tolist() == pytest.approx([4.0, 0.0, 1.0, 0.25, 0, 0])


def _probe(folder: Path, scale: float, seed: int, means: dict[str, float]) -> Path:
    (folder / "probe").mkdir(parents=True)
    (folder / "probe" / "sweep.toml").write_text(
        f"seed = {seed}\nreplications = 2\nhouseholds_per_agent = {scale}\n", encoding="utf-8"
    )
    pd.DataFrame({"target": list(means), "model_mean": list(means.values())}).to_csv(
        folder / "probe.csv", index=False
    )
    return folder


def test_probes_at_several_scales_are_compared_and_mistakes_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = "return_rate@2011"  # a target of urbsim.analysis.targets, error sd 0.005 * sqrt(2)
    coarse = _probe(tmp_path / "c", 4000.0, 1, {key: 0.05})
    fine = _probe(tmp_path / "f", 100.0, 1, {key: 0.04})
    out = tmp_path / "shift.csv"
    assert main([str(out), str(coarse), str(fine)]) == 0
    table = pd.read_csv(out)
    row = table[table["households_per_agent"] == 4000.0].iloc[0]
    assert row["shift_over_error_sd"] == pytest.approx(0.01 / (0.005 * 2**0.5), rel=1e-4)
    assert "1 of 1 targets shifted by 1 error sd or more" in capsys.readouterr().out
    for folders, message in [
        ([coarse, _probe(tmp_path / "s", 100.0, 2, {key: 0.04})], "another set, seed"),
        ([coarse, _probe(tmp_path / "d", 4000.0, 1, {key: 0.04})], "a second probe at 4000"),
        ([coarse, tmp_path / "missing"], "not a finished probe.py folder"),
        ([coarse], "usage"),
    ]:
        with pytest.raises(SystemExit) as stop:
            main([str(out), *map(str, folders)])
        assert stop.value.code == 2 and message in capsys.readouterr().err
