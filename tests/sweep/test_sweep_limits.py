"""Sweeps that cannot be run as asked: runs outside the outputs' years, foreign parts, sizes
beyond the machine (issue 10, findings 4, 5 and 6)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sweep_helpers import GRID, write_sweep
from typer.testing import CliRunner

from urbsim.cli import app
from urbsim.sweep import run_sweep
from urbsim.sweep.spec import SweepError

END_YEAR_GRID = GRID.replace(
    'name = "behaviour.move_base"\nvalues = [0.1, 0.3]',
    'name = "end_year"\nvalues = [2011, 2012]',
).replace("years = [2012]", "years = [2011]")


def test_end_year_grid_with_metric_outside_a_run_is_refused_when_planned(tmp_path: Path) -> None:
    """finding 4: a grid over end_year whose metric year (2012) falls outside the runs ending
    in 2011 is an error naming the design point and the metric, before anything runs (it was a
    bare KeyError in the worker)."""
    path = write_sweep(tmp_path / "in", END_YEAR_GRID)
    out = tmp_path / "out"
    with pytest.raises(SweepError) as info:
        run_sweep(path, out, executor="serial", progress=False)
    message = str(info.value)
    assert "design point 0 (end_year=2011" in message
    assert "outputs.metrics.urb.year: 2012 is outside the run (2010-2011)" in message
    assert not out.exists()

    result = CliRunner().invoke(app, ["sweep", str(path), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: ") and "Traceback" not in result.output
    assert not out.exists()
