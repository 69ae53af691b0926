"""A run can stop early: ``--set end_year=...`` before the scenario's last timeline entry runs
to that year, says on stderr which entries it does not reach, and still refuses a malformed
timeline."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from urbsim.cli import app

SCENARIO = """\
name = "early"
start_year = 2010
end_year = 2016
seed = 3

[world]
households_per_agent = 1000000.0

[timeline.2012.permit]
enabled = true

[timeline.2014]
service_funding_base = "permanent"

[timeline.2016.permit]
min_residence_months = 12
"""


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    path = tmp_path / "early.toml"
    path.write_text(SCENARIO)
    return path


def test_run_stops_at_end_year_and_notes_the_entries_it_does_not_reach(
    scenario: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["run", str(scenario), "--set", "end_year=2013", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    notes = [line for line in result.stderr.splitlines() if line.startswith("note:")]
    assert notes == [
        f"note: {scenario}: timeline entries after end_year 2013 are not reached (2014, 2016)"
    ]
    assert "error" not in result.stderr
    national = pd.read_parquet(out / "national.parquet")
    assert national["year"].tolist() == [2010, 2011, 2012, 2013]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["scenario"]["end_year"] == 2013


def test_check_notes_unreached_entries_and_quiet_run_does_not(
    scenario: Path, tmp_path: Path
) -> None:
    runner = CliRunner()
    check = runner.invoke(app, ["check", str(scenario), "--set", "end_year=2015"])
    assert check.exit_code == 0, check.output
    assert check.stdout.startswith("OK early ")
    assert "not reached (2016)" in check.stderr
    # The full run reaches every entry: no note.
    full = runner.invoke(app, ["check", str(scenario)])
    assert full.exit_code == 0 and "note:" not in full.stderr
    quiet = runner.invoke(
        app,
        ["run", str(scenario), "--set", "end_year=2012", "--quiet", "--out", str(tmp_path / "q")],
    )
    assert quiet.exit_code == 0, quiet.output
    assert quiet.stderr == ""


def test_the_census_scenario_can_stop_in_2019() -> None:
    """The case that was refused: china_census has timeline entries after 2019."""
    result = CliRunner().invoke(app, ["check", "china_census", "--set", "end_year=2019"])
    assert result.exit_code == 0, result.output
    assert "timeline entries after end_year 2019 are not reached (2020" in result.stderr


@pytest.mark.parametrize(
    ("sets", "fragment"),
    [
        (["timeline.02015.permit.enabled=true"], "timeline.02015"),
        (["timeline.2015.permit.enabld=true"], "timeline.2015.permit.enabld"),
        (["timeline.2010.permit.enabled=true"], "outside the run"),
    ],
)
def test_a_malformed_timeline_is_refused_even_after_end_year(
    scenario: Path, sets: list[str], fragment: str
) -> None:
    args = ["check", str(scenario), "--set", "end_year=2013"]
    for item in sets:
        args += ["--set", item]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ") and fragment in result.stderr
