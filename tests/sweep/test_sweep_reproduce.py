"""``urbsim reproduce``: rerun an experiment, compare its tables, and regenerate them."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest
from sweep_helpers import MORRIS, SCENARIO
from typer.testing import CliRunner

from urbsim.cli import app
from urbsim.sweep.compare import FileDiff, compare_figures, compare_folders
from urbsim.sweep.reproduce import (
    SweepOptions,
    compare_tables,
    load_experiment,
    lock_warnings,
    run_steps,
    write_experiment_manifest,
)

#: End-to-end runs, sweeps or subprocesses: outside `make test-fast`.
pytestmark = pytest.mark.slow

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

# Generated text, as an experiment's results README.
[[steps]]
kind = "script"
command = [
    "{python}",
    "-c",
    "import sys; open(sys.argv[1] + '/README.md', 'w').write('# tiny\\\\nrows: 2\\\\nend\\\\n')",
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
    assert "10 of 10 tables match" in out


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
    assert "7 of 10 tables match" in out


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
    # An integer that becomes a float is another table, even with equal values.
    d = pd.DataFrame({"n": [1, 2]})
    diff = compare_tables("t", d, d.astype(float))
    assert diff.status == "differ" and "n: dtype int64 committed, float64 rerun" in diff.notes


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


# ---------------------------------------------------------------------------------------------
# Finding 8: the same results on another machine (float noise within a stated tolerance)
# ---------------------------------------------------------------------------------------------
def _noisy(x: pd.Series, rel: float = 1e-15) -> pd.Series:
    """Values moved by ``rel`` relative: the last-digit noise another CPU's libm gives."""
    return x + x.abs() * rel


def test_finding_8_float_noise_is_within_tolerance_and_reported() -> None:
    """finding 8: a derived float moved by 1e-15 relative matches, with its difference."""
    a = pd.DataFrame({"run": [0, 1, 2], "mean": [0.503, 1.2e6, 0.0], "s": ["a", "b", "c"]})
    b = a.copy()
    b["mean"] = _noisy(b["mean"])
    diff = compare_tables("outcomes.csv", a, b)
    assert diff.status == "match", diff
    assert diff.committed_sha256 != diff.rerun_sha256
    assert 0 < diff.max_abs_diff < 1e-8 and 5e-16 < diff.max_rel_diff < 2e-15
    assert [(c.column, c.differing, c.within) for c in diff.columns] == [("mean", 0, 2)]
    # Near zero the absolute floor applies: 1e-17 instead of 0 is noise.
    b.loc[2, "mean"] = 1e-17
    assert compare_tables("outcomes.csv", a, b).status == "match"
    # Beyond the tolerance: a real difference.
    b.loc[0, "mean"] = 0.503 * (1 + 1e-6)
    diff = compare_tables("outcomes.csv", a, b)
    assert diff.status == "differ" and diff.columns[0].differing == 1


def test_finding_8_counts_must_match_exactly() -> None:
    """finding 8: integers and counts stored as floats differ by 1 -> the tables differ,
    although 1 in 1.3e9 is below the float tolerance."""
    # Seeds reach 2**63: beyond float64's 53 bits, where a float comparison sees no change.
    ints = pd.DataFrame({"run": [0, 1], "seed": [7, 2**62 + 1]})
    off = ints.copy()
    off.loc[1, "seed"] += 1
    diff = compare_tables("runs.parquet", ints, off)
    assert diff.status == "differ"
    assert [(c.column, c.differing, c.max_abs_diff) for c in diff.columns] == [("seed", 1, 1.0)]

    national = pd.DataFrame({"year": [2010], "residents": [1.33e9], "urbanization_rate": [0.5]})
    off = national.copy()
    off["residents"] += 1.0
    diff = compare_tables("single/national.parquet", national, off)
    assert diff.status == "differ" and diff.columns[0].differing == 1

    # Tidy sweep tables: the rows naming a count are exact, the others tolerant.
    tidy = pd.DataFrame(
        {
            "metric": ["floating_population_2010", "urbanization_rate_2010"],
            "value": [2.2e8, 0.5],
        }
    )
    noisy = tidy.copy()
    noisy["value"] = _noisy(noisy["value"])
    diff = compare_tables("lhs/summary.parquet", tidy, noisy)
    assert diff.status == "differ" and (diff.columns[0].differing, diff.columns[0].within) == (1, 1)
    noisy.loc[0, "value"] = 2.2e8
    assert compare_tables("lhs/summary.parquet", tidy, noisy).status == "match"


def test_finding_8_reproduce_passes_with_float_noise_fails_on_a_count(
    committed: Path, tmp_path: Path
) -> None:
    """finding 8: end to end. Committed floats 1e-15 relative away from the rerun's pass, and
    the largest difference is printed; a count off by one fails. Key packages installed at
    another version than requirements.lock are named on stderr, one line each."""
    root = tmp_path / "repo"
    shutil.copytree(committed, root)
    results = root / "results" / "tiny"
    path = results / "morris" / "summary.parquet"
    summary = pd.read_parquet(path)
    summary["value"] = _noisy(summary["value"])
    summary.to_parquet(path)
    _rehash(results, "morris/summary.parquet")
    (root / "requirements.lock").write_text("# test\nnumpy==0.0.1\npandas==0.0.2\nzzz==1\n")
    result = CliRunner().invoke(
        app, ["reproduce", str(root / "experiments" / "tiny"), "--executor", "serial"]
    )
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if "morris/summary.parquet" in x)
    assert re.search(r"^match +morris/summary.parquet +largest difference \S+ \(relative", line)
    assert "largest float difference in matching tables" in result.output
    assert "floats within 1e-09 relative" in result.output
    warnings = [x for x in result.stderr.splitlines() if x.startswith("warning:")]
    assert [w.split()[1] for w in warnings] == ["numpy", "pandas"]
    assert "requirements.lock has 0.0.1" in warnings[0]


def _rehash(results: Path, rel: str) -> None:
    """Record a table's new hash in the manifests, as if it had been committed so."""
    from urbsim.output import table_hash
    from urbsim.sweep.compare import read_table

    digest = table_hash(read_table(results / rel))
    exp = json.loads((results / "experiment.json").read_text())
    exp["tables"][rel]["sha256"] = exp["tables"][rel]["sha256_compared"] = digest
    (results / "experiment.json").write_text(json.dumps(exp))
    folder, name = (results / rel).parent, Path(rel).stem
    if (folder / "manifest.json").is_file():
        manifest = json.loads((folder / "manifest.json").read_text())
        manifest["tables"][name]["sha256"] = digest
        (folder / "manifest.json").write_text(json.dumps(manifest))


def test_lock_warnings(tmp_path: Path) -> None:
    assert lock_warnings(tmp_path) == []
    version = np.__version__
    (tmp_path / "requirements.lock").write_text(f"numpy=={version}\nMesa==0.1\n")
    lines = lock_warnings(tmp_path)
    assert len(lines) == 1 and lines[0].startswith("warning: mesa ")
    (tmp_path / "requirements.lock").write_text(
        f"# CPython 3.0.1 Linux x86_64.\nnumpy=={version}\n"
    )
    lines = lock_warnings(tmp_path)
    assert len(lines) == 1 and "was made with Python 3.0.1" in lines[0]


# ---------------------------------------------------------------------------------------------
# Finding 10: manifests, generated text and figures are compared too
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def rerun(committed: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny experiment rerun into a folder of its own: what reproduce compares with."""
    exp = load_experiment(committed / "experiments" / "tiny")
    out = tmp_path_factory.mktemp("rerun")
    run_steps(exp, out, SweepOptions("serial"), lambda message: None)
    write_experiment_manifest(exp, out)
    return out


def _copy_results(committed: Path, tmp_path: Path) -> Path:
    out = tmp_path / "results"
    shutil.copytree(committed / "results" / "tiny", out)
    return out


def _compare(results: Path, rerun: Path, committed: Path) -> dict[str, FileDiff]:
    diffs = compare_folders(results, rerun, ignore=["wall_seconds", "error"], root=committed)
    return {d.path: d for d in diffs}


def _edit_json(path: Path, edit: object) -> None:
    data = json.loads(path.read_text())
    edit(data)  # type: ignore[operator]
    path.write_text(json.dumps(data, indent=2))


def test_finding_10_unchanged_results_match_every_file(
    committed: Path, rerun: Path, tmp_path: Path
) -> None:
    """Timestamps, wall times, versions and the executor differ between the two folders;
    everything else matches, figures included."""
    diffs = _compare(_copy_results(committed, tmp_path), rerun, committed)
    assert {d.status for d in diffs.values()} == {"match"}, [
        d for d in diffs.values() if d.status != "match"
    ]
    kinds = {d.kind for d in diffs.values()}
    assert kinds == {"table", "manifest", "figure", "text"}
    assert {"morris/manifest.json", "morris/sweep.json", "experiment.json"} <= set(diffs)


def test_finding_10_edited_manifests_are_found(
    committed: Path, rerun: Path, tmp_path: Path
) -> None:
    """finding 10: a manifest's seed, a sweep.json hash, a recorded table hash and the
    experiment's hash, edited by hand, each make their file differ."""
    results = _copy_results(committed, tmp_path)

    def seed(d: dict) -> None:
        d["seeds"]["sweep"] += 1

    def sweep_hash(d: dict) -> None:
        d["sweep_sha256"] = "0" * 64

    def table(d: dict) -> None:
        d["tables"]["summary"]["sha256"] = "1" * 64

    _edit_json(results / "morris" / "manifest.json", seed)
    _edit_json(results / "morris" / "manifest.json", table)
    _edit_json(results / "morris" / "sweep.json", sweep_hash)
    _edit_json(results / "experiment.json", lambda d: d.update(experiment_sha256="2" * 64))
    diffs = _compare(results, rerun, committed)
    bad = {path: d.notes for path, d in diffs.items() if d.status != "match"}
    assert set(bad) == {"morris/manifest.json", "morris/sweep.json", "experiment.json"}
    assert any(
        n.startswith("seeds.sweep: committed 5, rerun 4") for n in bad["morris/manifest.json"]
    )
    assert (
        "committed tables.summary.sha256 is not the hash of summary.parquet"
        in (bad["morris/manifest.json"])
    )
    assert any(n.startswith("sweep_sha256: committed") for n in bad["morris/sweep.json"])
    assert any(n.startswith("experiment_sha256:") for n in bad["experiment.json"])


def test_finding_10_edited_readme_and_figure_are_found(
    committed: Path, rerun: Path, tmp_path: Path
) -> None:
    """finding 10: a line of the generated README and a block painted into a figure."""
    results = _copy_results(committed, tmp_path)
    readme = results / "script" / "README.md"
    readme.write_text(readme.read_text().replace("rows: 2", "rows: 3"))
    figure = results / "morris" / "figures" / "morris_urb.png"
    image = mpimg.imread(figure)
    image[40:72, 60:92, :3] = [1.0, 0.0, 0.0]
    mpimg.imsave(figure, image)
    diffs = _compare(results, rerun, committed)
    bad = {path: d for path, d in diffs.items() if d.status != "match"}
    assert set(bad) == {"script/README.md", "morris/figures/morris_urb.png"}
    assert bad["script/README.md"].notes == ["line 2: committed 'rows: 3', rerun 'rows: 2'"]
    note = bad["morris/figures/morris_urb.png"].notes[0]
    assert "tile mean difference" in note and "tolerance 0.02" in note


def test_figures_tolerate_antialiasing_noise(committed: Path, tmp_path: Path) -> None:
    """A few pixels off by a shade (anti-aliasing of a value 1e-15 away) is the same figure."""
    figure = committed / "results" / "tiny" / "morris" / "figures" / "morris_urb.png"
    image = mpimg.imread(figure)
    image[10:14, 10:14, :3] = np.clip(image[10:14, 10:14, :3] - 3 / 255, 0, 1)
    mpimg.imsave(tmp_path / "noisy.png", image)
    diff = compare_figures("f.png", figure, tmp_path / "noisy.png")
    assert diff.status == "match" and 0 < diff.max_abs_diff < 0.02


def test_finding_10_reproduce_names_edited_files(committed: Path, tmp_path: Path) -> None:
    """finding 10, end to end in another checkout: the old reproduce compared tables only and
    printed nothing about these files."""
    root = tmp_path / "repo"
    shutil.copytree(committed, root)
    results = root / "results" / "tiny"
    _edit_json(results / "morris" / "manifest.json", lambda d: d["seeds"].update(sweep=99))
    readme = results / "script" / "README.md"
    readme.write_text(readme.read_text() + "edited\n")
    code, out = _invoke("reproduce", str(root / "experiments" / "tiny"), "--executor", "serial")
    assert code == 1, out
    assert "differ   morris/manifest.json" in out and "seeds.sweep: committed 99, rerun 4" in out
    assert "differ   script/README.md" in out
    # Paths recorded in the other checkout's manifests compare relative to it.
    assert re.search(r"^match +morris/sweep.json", out, re.MULTILINE)
    assert "10 of 10 tables match" in out
