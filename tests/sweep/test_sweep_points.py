"""Points designs: listed parameter sets (a calibrated ensemble, a history-matching wave)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sweep_helpers import SCENARIO

from urbsim.sweep.design import build_design, count_points, run_table
from urbsim.sweep.spec import SweepError, load_sweep

POINTS = """\
base = "scenario.toml"
seed = 11
replications = 2

[design]
kind = "points"

[[design.parameters]]
name = "behaviour.move_base"
values = [0.1, 0.3, 0.1]

[[design.parameters]]
name = "behaviour.land_value"
values = [0.5, 0.5, 0.9]

[outputs]
national = ["urbanization_rate"]
"""


def _write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "scenario.toml").write_text(SCENARIO)
    path = tmp_path / "sweep.toml"
    path.write_text(text)
    return path


def test_points_run_the_listed_sets_in_order(tmp_path: Path) -> None:
    sweep = load_sweep(_write(tmp_path, POINTS))
    assert count_points(sweep) == 3
    design = build_design(sweep)
    # Point i takes the i-th value of every parameter (not every combination).
    assert design.table["behaviour.move_base"].tolist() == [0.1, 0.3, 0.1]
    assert design.table["behaviour.land_value"].tolist() == [0.5, 0.5, 0.9]
    assert design.overrides[2] == ["behaviour.move_base=0.1", "behaviour.land_value=0.9"]
    runs = run_table(sweep, design)
    assert len(runs) == 6 and runs["seed"].is_unique


def test_points_changing_a_value_changes_the_sweep_hash(tmp_path: Path) -> None:
    first = load_sweep(_write(tmp_path, POINTS)).resolved_sha256()
    second = load_sweep(_write(tmp_path, POINTS.replace("0.5, 0.5, 0.9", "0.5, 0.6, 0.9")))
    assert first != second.resolved_sha256()


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (POINTS.replace("[0.5, 0.5, 0.9]", "[0.5, 0.9]"), "one value per point; got \\[2, 3\\]"),
        (POINTS.replace("[0.1, 0.3, 0.1]", "[0.1, 0.3, -1.0]"), "-1.0 is outside"),
        (POINTS.replace('kind = "points"', 'kind = "points"\nn = 3'), "takes no n"),
        (POINTS.replace("values = [0.1, 0.3, 0.1]", "low = 0.1\nhigh = 0.3"), "needs values"),
    ],
)
def test_points_refused_before_anything_runs(tmp_path: Path, text: str, reason: str) -> None:
    with pytest.raises(SweepError, match=reason):
        load_sweep(_write(tmp_path, text))
