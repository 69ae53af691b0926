"""Finding 9 of issue 10: the experiments need no world built by hand, and ``urbsim reproduce``
stops at the first step that fails instead of running every later step on a broken state."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from urbsim.cli import app

#: End-to-end runs, sweeps or subprocesses: outside `make test-fast`.
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]

#: A world file with the columns the memory estimate reads and nothing else: the sweep plans,
#: then every run fails when it loads its world.
SCENARIO = """\
name = "no-world"
start_year = 2010
end_year = 2011
seed = 5

[world]
name = "census"
world_file = "../../bad_world.parquet"
households_per_agent = 200000.0
"""

SWEEP = """\
base = "scenario.toml"
seed = 11
replications = 1

[design]
kind = "grid"

[[design.parameters]]
name = "behaviour.move_base"
values = [0.1, 0.2]

[outputs]
national = ["urbanization_rate"]
"""

EXPERIMENT = """\
[[steps]]
kind = "sweep"
file = "sweep.toml"
out = "runs"

# Must not run: the sweep before it failed.
[[steps]]
kind = "script"
command = ["{python}", "-c", "open('{root}/after_failure', 'w').write('ran')"]
"""


def test_finding_9_experiments_need_no_world_prepared_by_hand() -> None:
    """finding 9: the census experiments ran every sweep without a world when the (no-op)
    world-building step did nothing. Their scenarios now read the census world packaged with
    urbsim: every base scenario of every experiment sweep resolves to a world that exists
    without any file built by hand, and no experiment has a world-building step left."""
    from urbsim.scenario import load_scenario
    from urbsim.sweep.spec import load_sweep
    from urbsim.world.census_file import packaged_world_path

    sweeps = sorted((REPO / "experiments").glob("*/**/*.toml"))
    # Sweep specs only: a step may also run a scenario of its own (verification's cases).
    sweeps = [
        p for p in sweeps if p.name != "experiment.toml" and "[design" in p.read_text("utf-8")
    ]
    assert sweeps
    census = 0
    for path in sweeps:
        base = load_scenario(load_sweep(path).base_path).scenario
        if base.world.name == "census":
            census += 1
            assert base.world.world_file is None, path
    assert census > 0  # the calibration and policy experiments run on the census world
    assert packaged_world_path().is_file()
    for exp in (REPO / "experiments").glob("*/experiment.toml"):
        assert "ensure_census_world" not in exp.read_text(encoding="utf-8"), exp


def test_finding_9_reproduce_stops_at_a_sweep_with_failed_runs(tmp_path: Path) -> None:
    """finding 9: a sweep whose runs failed is complete but wrong; reproduce used to go on
    with the next steps. Now it stops there with one error naming the step."""
    exp = tmp_path / "experiments" / "broken"
    exp.mkdir(parents=True)
    pd.DataFrame({"households": [1000], "residents": [3000], "family_persons": [2900]}).to_parquet(
        tmp_path / "bad_world.parquet"
    )
    (exp / "scenario.toml").write_text(SCENARIO)
    (exp / "sweep.toml").write_text(SWEEP)
    (exp / "experiment.toml").write_text(EXPERIMENT)
    result = CliRunner().invoke(app, ["reproduce", str(exp), "--update", "--executor", "serial"])
    assert result.exit_code == 1, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.output
    assert "step 1/2 (sweep sweep.toml -> runs): 2 of 2 runs failed; run 0:" in errors[0]
    assert "bad_world.parquet" in errors[0]
    assert not (tmp_path / "after_failure").exists()
    # Nothing replaced: the update wrote no results folder.
    assert not (tmp_path / "results" / "broken").exists()
