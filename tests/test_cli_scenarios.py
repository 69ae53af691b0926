"""``urbsim scenarios``, ``urbsim init`` and scenario names in ``urbsim run`` / ``check``."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from urbsim.cli import app
from urbsim.cli.scenarios import SCENARIO_FILE, SWEEP_FILE
from urbsim.scenario.registry import packaged_scenarios
from urbsim.sweep.spec import load_sweep


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def empty_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working folder, as a new user's: no scenarios/ beside it."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_scenarios_lists_every_packaged_name_with_its_description(runner: CliRunner) -> None:
    result = runner.invoke(app, ["scenarios"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    packaged = packaged_scenarios()
    assert len(lines) == len(packaged)
    for line, s in zip(lines, packaged, strict=True):
        name, description = line.split(maxsplit=1)
        assert (name, description) == (s.name, s.description)


@pytest.mark.parametrize("name", ["baseline", "china_census", "policy/d1_services"])
def test_check_by_name_equals_check_by_file(runner: CliRunner, empty_cwd: Path, name: str) -> None:
    by_name = runner.invoke(app, ["check", name])
    assert by_name.exit_code == 0, by_name.output
    path = next(s.path for s in packaged_scenarios() if s.name == name)
    by_file = runner.invoke(app, ["check", str(path)])
    assert by_name.stdout == by_file.stdout


@pytest.mark.parametrize("command", ["check", "run"])
def test_unknown_name_is_one_error_listing_the_names(
    runner: CliRunner, empty_cwd: Path, command: str
) -> None:
    result = runner.invoke(app, [command, "basline"])
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: basline: file not found")
    assert "baseline, china_census, policy/" in lines[0]
    assert list(empty_cwd.iterdir()) == []


@pytest.mark.slow
def test_run_by_name_from_an_empty_folder(runner: CliRunner, empty_cwd: Path) -> None:
    args = ["run", "baseline", "--set", "world.households_per_agent=1000000.0", "--out", "out"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    national = pd.read_parquet(empty_cwd / "out" / "national.parquet")
    assert national["year"].tolist() == list(range(2010, 2036))


def test_init_writes_a_scenario_and_sweep_that_check_and_load(
    runner: CliRunner, empty_cwd: Path
) -> None:
    result = runner.invoke(app, ["init", "mine"])
    assert result.exit_code == 0, result.output
    scenario, sweep = empty_cwd / "mine" / SCENARIO_FILE, empty_cwd / "mine" / SWEEP_FILE
    text = scenario.read_text()
    assert re.search(r'^extends = "china_census"$', text, re.MULTILINE)
    assert "urbsim run mine/scenario.toml" in text
    check = runner.invoke(app, ["check", str(scenario)])
    assert check.exit_code == 0, check.output
    assert check.stdout.startswith("OK my-policy ")
    spec = load_sweep(sweep)
    assert spec.base_path == scenario.resolve()
    assert len(spec.parameters) == 1


@pytest.mark.slow
def test_init_scenario_runs(runner: CliRunner, empty_cwd: Path) -> None:
    """The template runs as written (at a small scale): its timeline years are in the run."""
    assert runner.invoke(app, ["init", "."]).exit_code == 0
    result = runner.invoke(
        app,
        ["run", SCENARIO_FILE, "--set", "world.households_per_agent=100000.0", "--out", "out"],
    )
    assert result.exit_code == 0, result.output
    assert (empty_cwd / "out" / "manifest.json").is_file()


@pytest.mark.parametrize("existing", [SCENARIO_FILE, SWEEP_FILE])
def test_init_refuses_to_overwrite_and_writes_nothing(
    runner: CliRunner, empty_cwd: Path, existing: str
) -> None:
    (empty_cwd / existing).write_text("mine\n")
    result = runner.invoke(app, ["init", "."])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and "refusing to overwrite" in result.stderr
    assert sorted(p.name for p in empty_cwd.iterdir()) == [existing]
    assert (empty_cwd / existing).read_text() == "mine\n"


def test_init_into_a_file_is_an_error(runner: CliRunner, empty_cwd: Path) -> None:
    (empty_cwd / "file").write_text("x")
    result = runner.invoke(app, ["init", "file"])
    assert result.exit_code == 2
    assert "file: exists and is not a folder" in result.stderr
