"""Finding 9 of issue 10: the census-world step builds the world, and ``urbsim reproduce`` stops
at the first step that fails instead of running every later step on a broken state."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from urbsim.cli import app

REPO = Path(__file__).resolve().parents[2]
ENSURE = REPO / "experiments" / "ensure_census_world.py"
CENSUS = REPO.parent / "shared" / "data" / "census"

#: A world file that is not Parquet: every run of a sweep on it fails when it loads its world.
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


def _ensure(tmp_path: Path, data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "URBSIM_CENSUS_DATA": str(data)}
    return subprocess.run(
        [sys.executable, str(ENSURE), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
    )


@pytest.mark.skipif(not (CENSUS / "census_county_2010_v1.xlsx").is_file(), reason="no census data")
def test_finding_9_ensure_census_world_builds_the_missing_world(tmp_path: Path) -> None:
    """finding 9: the old script called ``python -m urbsim.cli`` (a no-op) and exited 0
    without a world; now the world file exists afterwards."""
    world = tmp_path / "worlds" / "census.parquet"
    proc = _ensure(tmp_path, CENSUS, "--out", str(world))
    assert proc.returncode == 0, proc.stderr
    assert world.is_file() and world.stat().st_size > 0
    assert f"wrote {world}" in proc.stdout
    # Present: nothing rebuilt.
    before = world.stat().st_mtime_ns
    proc = _ensure(tmp_path, CENSUS, "--out", str(world))
    assert proc.returncode == 0 and "census world present" in proc.stdout
    assert world.stat().st_mtime_ns == before


def test_finding_9_ensure_census_world_one_error_line(tmp_path: Path) -> None:
    """finding 9: without the census files, or with files the builder rejects, the script
    exits non-zero with one ``error:`` line and leaves no world file."""
    world = tmp_path / "w.parquet"
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = _ensure(tmp_path, empty, "--out", str(world))
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert proc.returncode == 2 and len(errors) == 1, proc.stderr
    assert "census_county_2010_v1.xlsx" in errors[0] and "URBSIM_CENSUS_DATA" in errors[0]
    assert not world.exists()

    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "census_county_2010_v1.xlsx").write_bytes(b"not a spreadsheet")
    (bad / "prefecture_centroids.csv").write_text("city_code,lon,lat\n1100,116.4,39.9\n")
    proc = _ensure(tmp_path, bad, "--out", str(world))
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert proc.returncode == 2 and len(errors) == 1, proc.stderr
    assert proc.stderr.strip() == errors[0]
    assert "urbsim world build exited with" in errors[0]
    assert not world.exists()


def test_finding_9_reproduce_stops_at_a_sweep_with_failed_runs(tmp_path: Path) -> None:
    """finding 9: a sweep whose runs failed is complete but wrong; reproduce used to go on
    with the next steps. Now it stops there with one error naming the step."""
    (tmp_path / "bad_world.parquet").write_bytes(b"not parquet")
    exp = tmp_path / "experiments" / "broken"
    exp.mkdir(parents=True)
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
