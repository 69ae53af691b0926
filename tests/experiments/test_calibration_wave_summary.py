"""experiments/calibration/wave_summary.py: every finished sweep of a fit judged on its runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from pipeline_helpers import TargetStub

SCRIPT = Path(__file__).resolve().parents[2] / "experiments" / "calibration" / "wave_summary.py"
sys.path.insert(0, str(SCRIPT.parent))

from wave_summary import describe, finished_sweeps, judged, point_errors, sweep_rows  # noqa: E402

TARGETS = [TargetStub("a", 0.0, 0.6, 0.8), TargetStub("b", 10.0, 1.0, 0.0)]


def test_points_are_judged_on_their_own_replications() -> None:
    # Point 0: replications 1 and 3 of a (mean 2, variance 2), 10 and 10 of b.
    values = np.array([[[1.0, 10.0], [3.0, 10.0]], [[8.0, 14.0], [8.0, 14.0]]])
    errors = point_errors(values, TARGETS)
    # a: 2 / sqrt(2 * 1.5 + 0.36 + 0.64) = 1; b: 0; point 1: 8 / 1 and 4 / 1.
    assert errors == pytest.approx(np.array([[1.0, 0.0], [8.0, 4.0]]))
    rows = sweep_rows("wave2", errors, ["a", "b"])
    assert rows["within_cutoff"].tolist() == [0.5, 0.5]
    assert rows["error_median"].tolist() == pytest.approx([4.5, 2.0])
    text = describe("wave2", errors, ["a", "b"], top=1).splitlines()
    assert text[0].startswith("wave2: 2 points; smallest largest |error| 1.00, median 4.50")
    assert "fewest targets outside 3: 0 (median 1); plausible 50.0%" in text[0]
    assert text[1] == "  best point 0: a +1.0"
    assert text[2] == "  most often outside: a 50% (median +4.5)"
    # The same two points as points 1 and 3 of a sweep whose points 0 and 2 were refused.
    text = describe("wave2", errors, ["a", "b"], 1, np.array([1, 3]), refused=2).splitlines()
    assert text[0].endswith("plausible 50.0%; 2 more refused by the model (left out)")
    assert text[1] == "  best point 1: a +1.0"


def test_only_finished_sweeps_count_waves_first(tmp_path: Path) -> None:
    for name, done in (("verify2", True), ("wave10", True), ("wave2", True), ("verify", True),
                       ("wave1", True), ("wave3", False), ("lhs", True)):  # fmt: skip
        (tmp_path / name / "runs").mkdir(parents=True)
        if done:
            (tmp_path / name / "runs" / "manifest.json").write_text("{}", encoding="utf-8")
    names = [f.name for f in finished_sweeps(tmp_path)]
    assert names == ["wave1", "wave2", "wave10", "verify", "verify2"]
    assert finished_sweeps(tmp_path / "missing") == []


@pytest.mark.parametrize(
    ("args", "message"),
    [((), "no finished sweep"), (("--top", "0"), "--top must be at least 1")],
)
def test_mistakes_exit_2_with_one_error_line(tmp_path: Path, args: tuple, message: str) -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path), *args], capture_output=True, text=True
    )
    assert done.returncode == 2 and message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_the_out_of_sample_fit_is_judged_on_its_fitted_years_only() -> None:
    from urbsim.analysis.targets import build_targets

    targets = build_targets()
    usable = [t for t in targets if t.year > 2010]
    for year in (2015, 2019):
        mask = judged(targets, usable, year)
        years = np.array([t.year for t in usable])
        # Every target of 2011..year the model outputs is judged, none after it.
        assert not mask[years > year].any() and mask[years <= year].mean() > 0.9
