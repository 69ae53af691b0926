"""``urbsim reproduce``: rerun an experiment, compare its tables, and regenerate them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sweep_helpers import MORRIS, SCENARIO
from typer.testing import CliRunner

from urbsim.cli import app
from urbsim.sweep.reproduce import compare_tables

EXPERIMENT = """\
description = "tiny Morris screening"

[[steps]]
kind = "sweep"
file = "morris.toml"
out = "morris"

[[steps]]
kind = "plot-sweep"
dir = "morris"

[[steps]]
kind = "run"
scenario = "../../scenarios/tiny.toml"
out = "single"
seed = 3
set = ["behaviour.move_base=0.2"]

[[steps]]
kind = "script"
command = [
    "{python}",
    "-c",
    "import sys, pandas as p; p.DataFrame({'a': [1, 2]}).to_csv(sys.argv[1] + '/t.csv', index=0)",
    "{out}",
]
out = "script"
"""


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def committed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository root with experiments/tiny and its results committed by --update."""
    root = tmp_path_factory.mktemp("repo")
    (root / "scenarios").mkdir()
    (root / "scenarios" / "tiny.toml").write_text(SCENARIO)
    exp = root / "experiments" / "tiny"
    exp.mkdir(parents=True)
    (exp / "morris.toml").write_text(MORRIS.replace("scenario.toml", "../../scenarios/tiny.toml"))
    (exp / "experiment.toml").write_text(EXPERIMENT)
    code, out = _invoke("reproduce", str(exp), "--update", "--executor", "serial")
    assert code == 0, out
    return root


def test_update_writes_tables_figures_and_manifest(committed: Path) -> None:
    results = committed / "results" / "tiny"
    assert (results / "experiment.json").is_file()
    morris = results / "morris"
    for name in ("results.parquet", "runs.parquet", "indices.parquet", "indices.csv"):
        assert (morris / name).is_file(), name
    figures = sorted(p.name for p in (morris / "figures").glob("*.png"))
    assert "morris_urb.png" in figures and "outcome_gap.png" in figures
    assert not (morris / "parts").exists()
    assert (results / "single" / "national.parquet").is_file()
    assert pd.read_csv(results / "script" / "t.csv")["a"].tolist() == [1, 2]
    runs = pd.read_parquet(morris / "runs.parquet")
    # Commands name the base scenario from the repository root, wherever reproduce is called.
    assert runs["command"].str.startswith("urbsim run scenarios/tiny.toml --seed ").all()


def test_reproduce_matches(committed: Path) -> None:
    code, out = _invoke(
        "reproduce", str(committed / "experiments" / "tiny"), "--executor", "serial"
    )
    assert code == 0, out
    assert "9 of 9 tables match" in out


def test_reproduce_reports_per_column_differences(committed: Path, tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "repo"
    shutil.copytree(committed, root)
    morris = root / "results" / "tiny" / "morris"
    summary = pd.read_parquet(morris / "summary.parquet")
    summary.loc[[1, 3], "value"] += 0.25
    summary.to_parquet(morris / "summary.parquet")
    indices = pd.read_csv(morris / "indices.csv")
    indices.loc[0, "parameter"] = "tampered"
    indices.to_csv(morris / "indices.csv", index=False)
    (morris / "design.parquet").unlink()
    code, out = _invoke("reproduce", str(root / "experiments" / "tiny"), "--executor", "serial")
    assert code == 1
    assert "differ   morris/summary.parquet" in out
    assert "column value: 2 values differ, max abs diff 0.25" in out
    assert "column parameter: 1 values differ" in out
    assert "extra    morris/design.parquet" in out
    assert "6 of 9 tables match" in out


def test_compare_tables_shapes() -> None:
    a = pd.DataFrame({"x": [1.0, 2.0, float("nan")], "s": ["a", "b", "c"]})
    assert compare_tables("t", a, a.copy()).status == "match"
    b = a.copy()
    b["y"] = 1
    diff = compare_tables("t", a, b)
    assert diff.status == "differ" and "columns only in the rerun table: y" in diff.notes
    diff = compare_tables("t", a, a.iloc[:2])
    assert "rows: committed 3, rerun 2" in diff.notes
    c = a.copy()
    c.loc[2, "x"] = 5.0
    diff = compare_tables("t", a, c)
    assert [(d.column, d.differing, d.max_abs_diff) for d in diff.columns] == [("x", 1, None)]


def test_plot_sweep(committed: Path, tmp_path: Path) -> None:
    morris = committed / "results" / "tiny" / "morris"
    code, out = _invoke("plot-sweep", str(morris))
    assert code == 0 and "figures" in out
    assert (morris / "figures" / "morris_gap.png").is_file()
    (tmp_path / "x").mkdir()
    code, out = _invoke("plot-sweep", str(tmp_path / "x"))
    assert code == 2 and "not a finished sweep folder" in out


def test_reproduce_user_errors(committed: Path, tmp_path: Path) -> None:
    code, out = _invoke("reproduce", str(tmp_path))
    assert code == 2 and "experiment.toml" in out and "file not found" in out
    exp = tmp_path / "experiments" / "bad"
    exp.mkdir(parents=True)
    (exp / "experiment.toml").write_text(EXPERIMENT + "\n[extra]\nx = 1\n")
    code, out = _invoke("reproduce", str(exp))
    assert code == 2 and "invalid experiment" in out
    assert "extra" in out and "unknown key" in out
    (exp / "experiment.toml").write_text(EXPERIMENT)
    code, out = _invoke("reproduce", str(exp))
    assert code == 2 and "steps.0.file" in out and "file not found" in out
    (exp / "morris.toml").write_text(MORRIS)
    (exp / "scenario.toml").write_text(SCENARIO)
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "tiny.toml").write_text(SCENARIO)
    code, out = _invoke("reproduce", str(exp))
    assert code == 2 and "no committed tables" in out
