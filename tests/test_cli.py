"""The ``urbsim`` command: schema, check, plot and run, and how user errors are reported."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fake_run import fake_tables
from typer.testing import CliRunner

from urbsim import plots
from urbsim.cli import app
from urbsim.output import write_run
from urbsim.progress import year_progress

GOOD = """\
name = "tiny"
start_year = 2010
end_year = 2013
seed = 11

[world]
households_per_agent = 1000000.0
"""

#: (file content, extra arguments, fragments the error must contain besides the file name).
BAD: dict[str, tuple[str, list[str], list[str]]] = {
    "typo": (GOOD + "\n[behaviour]\nmove_bse = 0.1\n", [], ["behaviour.move_bse", "unknown key"]),
    "wrong type": (
        GOOD.replace("end_year = 2013", 'end_year = "2013"'),
        [],
        ["end_year", "integer"],
    ),
    "timeline year": (
        GOOD + "\n[timeline.2010.permit]\nenabled = true\n",
        [],
        ["timeline.2010", "outside the run"],
    ),
    "timeline typo after the end": (
        GOOD + "\n[timeline.2020.permit]\nenabld = true\n",
        [],
        ["timeline.2020.permit.enabld", "unknown key"],
    ),
    "world name": (GOOD.replace("[world]", '[world]\nname = "mars"'), [], ["world.name", "mars"]),
    "missing file": ("", [], ["file not found"]),
    "malformed set": (
        GOOD,
        ["--set", "policy.permit.enabled"],
        ["--set", "policy.permit.enabled", "expected dotted.key=value"],
    ),
    "bad set value": (
        GOOD,
        ["--set", "policy.permit.enabled=yes"],
        ["policy.permit.enabled", "yes"],
    ),
}


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def _listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_schema_prints_json_schema(runner: CliRunner) -> None:
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0, result.output
    schema = json.loads(result.stdout)
    assert {"world", "policy", "timeline", "seed"} <= set(schema["properties"])
    assert schema["$defs"]["Behaviour"]["properties"]["move_base"]["unit"] == "1/year"


def test_check_good_file(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "tiny.toml"
    path.write_text(GOOD)
    result = runner.invoke(app, ["check", str(path)])
    assert result.exit_code == 0, result.output
    assert re.fullmatch(r"OK tiny [0-9a-f]{64}\n", result.stdout)
    # An override changes the resolved scenario, so its hash.
    other = runner.invoke(app, ["check", str(path), "--set", "behaviour.move_base=0.05"])
    assert other.exit_code == 0, other.output
    assert other.stdout != result.stdout


@pytest.mark.parametrize("command", ["check", "run"])
@pytest.mark.parametrize("case", list(BAD))
def test_user_errors_exit_2_and_write_nothing(
    runner: CliRunner,
    tmp_path: Path,
    case: str,
    command: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    content, extra, fragments = BAD[case]
    path = tmp_path / "scenario.toml"
    if case == "missing file":
        path = tmp_path / "absent.toml"
    else:
        path.write_text(content)
    monkeypatch.chdir(tmp_path)  # the default output folder would be under here
    before = _listing(tmp_path)
    args = [command, str(path), *extra]
    if command == "run":
        args += ["--out", str(tmp_path / "out")]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    assert "\n\n" not in result.stderr.strip()  # one paragraph
    assert "Traceback" not in result.output
    for fragment in [path.name, *fragments]:
        assert fragment in result.stderr, (fragment, result.stderr)
    assert _listing(tmp_path) == before


def test_run_refuses_an_output_folder_that_is_not_a_run(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "tiny.toml"
    path.write_text(GOOD)
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    result = runner.invoke(app, ["run", str(path), "--out", str(precious)])
    assert result.exit_code == 2, result.output
    assert "not an urbsim run folder" in result.stderr
    assert _listing(precious) == ["notes.txt"]


def test_run_with_a_corrupt_world_file_fails_cleanly(runner: CliRunner, tmp_path: Path) -> None:
    world = tmp_path / "census.parquet"
    world.write_bytes(b"not parquet at all")
    path = tmp_path / "census.toml"
    path.write_text(
        'name = "c"\nend_year = 2012\n[world]\nname = "census"\n'
        'world_file = "census.parquet"\nhouseholds_per_agent = 40000.0\n'
    )
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(path), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "world.world_file" in result.stderr and "census.parquet" in result.stderr
    assert "Traceback" not in result.output and not out.exists()


def test_run_refuses_a_name_that_is_a_path(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "tiny.toml"
    path.write_text(GOOD.replace('"tiny"', '"../escape"'))
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["run", str(path)])
    assert result.exit_code == 2, result.output
    assert "--out" in result.stderr
    assert _listing(tmp_path) == ["tiny.toml"]


@pytest.mark.slow
def test_plot_redraws_the_figures_from_the_tables(runner: CliRunner, tmp_path: Path) -> None:
    national, places = fake_tables()
    run_dir = tmp_path / "run"
    write_run(
        run_dir, national, places, {}, lambda folder: plots.draw_all(national, places, folder)
    )
    original = {name: (run_dir / "figures" / name).read_bytes() for name in plots.FIGURES}
    (run_dir / "figures" / "urbanization.png").unlink()
    (run_dir / "figures" / "stale.png").write_bytes(b"old")

    result = runner.invoke(app, ["plot", str(run_dir)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (run_dir / "figures").iterdir()) == sorted(plots.FIGURES)
    # Tables read back from Parquet draw the same bytes as the tables in memory.
    for name, data in original.items():
        assert (run_dir / "figures" / name).read_bytes() == data, name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


@pytest.mark.parametrize("exists", [True, False])
def test_plot_without_tables_fails_cleanly(runner: CliRunner, tmp_path: Path, exists: bool) -> None:
    run_dir = tmp_path / "empty"
    if exists:
        run_dir.mkdir()
    result = runner.invoke(app, ["plot", str(run_dir)])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ")
    assert str(run_dir) in result.stderr
    assert "Traceback" not in result.output
    assert _listing(tmp_path) == (["empty"] if exists else [])


def test_plot_with_a_broken_table_fails_cleanly(runner: CliRunner, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    write_run(run_dir, *fake_tables(), {}, None)
    (run_dir / "places.parquet").write_bytes(b"not parquet")
    result = runner.invoke(app, ["plot", str(run_dir)])
    assert result.exit_code == 2, result.output
    assert "places.parquet: cannot read" in result.stderr
    assert "Traceback" not in result.output


def test_plot_with_a_column_missing_fails_cleanly(runner: CliRunner, tmp_path: Path) -> None:
    national, places = fake_tables()
    run_dir = tmp_path / "run"
    write_run(run_dir, national.drop(columns="hukou_urbanization_rate"), places, {}, None)
    result = runner.invoke(app, ["plot", str(run_dir)])
    assert result.exit_code == 2, result.output
    assert "hukou_urbanization_rate" in result.stderr
    assert list((run_dir / "figures").iterdir()) == []


def test_run_writes_a_run_folder(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("urbsim.runner")
    path = tmp_path / "tiny.toml"
    path.write_text(GOOD)
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["run", str(path), "--seed", "5"])
    assert result.exit_code == 0, result.output
    out = tmp_path / "results" / "tiny"
    assert {p.name for p in out.iterdir()} == {
        ".urbsim-output.json",
        "figures",
        "flows.parquet",
        "manifest.json",
        "national.parquet",
        "places.parquet",
    }
    assert sorted(p.name for p in (out / "figures").iterdir()) == sorted(plots.FIGURES)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 5
    assert manifest["scenario"]["seed"] == 5
    assert str(out) in result.stdout or "results/tiny" in result.stdout


def test_progress_bar_when_enabled(capsys: pytest.CaptureFixture[str]) -> None:
    with year_progress(2, enabled=True) as progress:
        progress(1, 2, 5000)
        progress(2, 2, 5000)
    err = capsys.readouterr().err
    assert "2/2" in err
    assert "households/s" in err
