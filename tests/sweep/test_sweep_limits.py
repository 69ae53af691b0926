"""Sweeps that cannot be run as asked: runs outside the outputs' years, foreign parts, sizes
beyond the machine (issue 10, findings 4, 5 and 6)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sweep_helpers import GRID, write_sweep
from typer.testing import CliRunner

from urbsim import resources
from urbsim.cli import app
from urbsim.errors import ResourceError
from urbsim.output import OutputError
from urbsim.runner import simulate
from urbsim.scenario import load_scenario
from urbsim.sweep import driver, run_sweep
from urbsim.sweep.spec import SweepError

BASELINE = Path(__file__).resolve().parents[2] / "scenarios" / "baseline.toml"
SOBOL = 'kind = "sobol"\nn = 4'

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


# ---------------------------------------------------------------------------------------------
# finding 5: parts of another sweep
# ---------------------------------------------------------------------------------------------
def _unfinished(path: Path, out: Path, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Run a sweep but stop before the final tables: its parts stay in ``out/parts``.

    One run per task (``task_seconds=0``): the part boundaries then do not depend on how long
    the runs took, so two sweeps of the same size have parts of the same names.
    """
    with monkeypatch.context() as m:
        m.setattr(driver, "_finish", lambda *args, **kwargs: None)
        run_sweep(path, out, executor="serial", progress=False, task_seconds=0.0)
    return sorted((out / "parts").glob("part-*.parquet"))


@pytest.mark.slow
def test_resume_refuses_a_part_of_another_sweep(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """finding 5: a part copied in from another sweep (same run range, other seed) is refused
    by --resume, naming the part; it was silently assembled into the results."""
    mine = write_sweep(tmp_path / "a", GRID)
    other = write_sweep(tmp_path / "b", GRID.replace("seed = 11", "seed = 12"))
    parts = _unfinished(mine, tmp_path / "out", monkeypatch)
    foreign = _unfinished(other, tmp_path / "other", monkeypatch)
    assert [p.name for p in parts] == [p.name for p in foreign]
    shutil.copy(foreign[1], parts[1])

    with pytest.raises(OutputError) as info:
        run_sweep(mine, tmp_path / "out", executor="serial", progress=False, resume=True)
    assert str(parts[1]) in str(info.value) and "part of another sweep" in str(info.value)

    args = ["sweep", str(mine), "--out", str(tmp_path / "out"), "--resume"]
    result = CliRunner().invoke(app, [*args, "--executor", "serial"])
    assert result.exit_code == 2 and result.output.startswith("error: ")
    assert parts[1].name in result.output
    assert not (tmp_path / "out" / "results.parquet").exists()


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_a_damaged_part_is_redone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    """finding 5 (faults): a truncated or corrupted part is found on --resume, removed and its
    runs run again; the results equal an uninterrupted sweep's."""
    path = write_sweep(tmp_path / "in", GRID)
    reference = run_sweep(path, tmp_path / "ref", executor="serial", progress=False)
    parts = _unfinished(path, tmp_path / "out", monkeypatch)
    data = bytearray(parts[2].read_bytes())
    if damage == "truncate":
        parts[2].write_bytes(bytes(data[: len(data) // 2]))
    else:
        data[len(data) // 3] ^= 0xFF  # inside the data pages: only the page checksum sees it
        parts[2].write_bytes(bytes(data))
    messages: list[str] = []
    resumed = run_sweep(
        path, tmp_path / "out", executor="serial", progress=False, resume=True, log=messages.append
    )
    assert resumed.complete and resumed.tasks == 1
    assert any(parts[2].name in m and "damaged part" in m for m in messages)
    assert resumed.results_sha256 == reference.results_sha256


# ---------------------------------------------------------------------------------------------
# finding 6: limits
# ---------------------------------------------------------------------------------------------
@pytest.fixture
def eight_gib(monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine with 8 GiB available, whatever this one has."""
    monkeypatch.setattr(resources, "available_memory", lambda: 8 * 1024**3)


def test_a_run_beyond_memory_is_refused_before_the_world_is_built(
    eight_gib: None, tmp_path: Path
) -> None:
    """finding 6: households_per_agent=1 (402 million agents) is refused with the estimate,
    the limit and the override flag, before anything is built or written (finding 6's run, at
    2, ended in MemoryError; under the refitted estimate 2 fits in 8 GiB, 7.3 GiB)."""
    loaded = load_scenario(BASELINE, overrides=["world.households_per_agent=1"])
    with pytest.raises(ResourceError) as info:
        simulate(loaded)
    message = str(info.value)
    assert "401,934,196 household agents" in message
    need = resources.run_bytes(401_934_196) / 1024**3
    assert f"{need:,.1f} GiB" in message and "8.0 GiB available" in message
    assert "--ignore-memory-limit" in message

    out = tmp_path / "run"
    args = ["run", str(BASELINE), "--set", "world.households_per_agent=1", "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and result.output.startswith("error: ")
    assert "--ignore-memory-limit" in result.output and not out.exists()


def test_a_large_run_announces_its_memory_estimate(eight_gib: None) -> None:
    """issue 17: the estimate the guard checks is printed before a large run starts (through
    the run's notice), and small runs say nothing."""
    line = resources.memory_notice("china-synthetic", None, 10.0)
    agents = resources.run_agents("china-synthetic", None, 10.0)
    assert line == (
        f"memory: about {resources.run_bytes(agents) / 1024**3:,.1f} GiB estimated for "
        f"{agents:,} household agents; 8.0 GiB available"
    )
    assert resources.memory_notice("china-synthetic", None, 4000.0) is None
    # Nor the default scale of the synthetic baseline (1.0 million agents).
    assert resources.memory_notice("china-synthetic", None, 400.0) is None
    notes: list[str] = []
    loaded = load_scenario(BASELINE, overrides=["world.households_per_agent=1"])
    with pytest.raises(ResourceError):
        simulate(loaded, notice=notes.append)
    # Refused before anything is announced: the refusal names the estimate.
    assert notes == []


def test_census_world_agents_are_counted_from_the_file(tmp_path: Path) -> None:
    """finding 6: the census world's agents come from its household and collective columns."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    df = pd.DataFrame(
        {"households": [100, 300], "residents": [350, 1000], "family_persons": [300, 1000]}
    )
    path = tmp_path / "world.parquet"
    pq.write_table(pa.Table.from_pandas(df), path)
    assert resources.world_households("census", path) == 450.0
    assert resources.run_agents("census", path, 10.0) == 45
    assert resources.run_agents("china-synthetic", None, 400.0) == pytest.approx(1.005e6, 1e-3)


LHS_HUGE = (
    GRID.replace('kind = "grid"', 'kind = "lhs"\nn = 1_000_000_000')
    .replace("values = [0.1, 0.3]", "low = 0.1\nhigh = 0.3")
    .replace("values = [0, 12]", "low = 0\nhigh = 12")
)
GRID_HUGE = GRID.replace(
    "values = [0.1, 0.3]", f"values = {[i / 10_000 for i in range(10_000)]}"
).replace("replications = 2", "replications = 5_000")


@pytest.mark.parametrize("text", [LHS_HUGE, GRID_HUGE], ids=["lhs n=1e9", "grid 1e8 runs"])
def test_a_huge_sweep_needs_large_and_fits_in_memory(
    eight_gib: None, tmp_path: Path, text: str
) -> None:
    """finding 6: a sweep of 1e8 / 2e9 runs is refused from its run count before any design
    point is drawn (it was drawn whole: MemoryError, a driver growing without bound); with
    --large the driver's own memory is still checked."""
    path = write_sweep(tmp_path / "in", text)
    out = tmp_path / "out"
    with pytest.raises(ResourceError, match=r"runs, more than 100,000.*--large"):
        run_sweep(path, out, executor="serial", progress=False)
    with pytest.raises(ResourceError, match=r"the driver of .* runs needs about"):
        run_sweep(path, out, executor="serial", progress=False, large=True)
    result = CliRunner().invoke(app, ["sweep", str(path), "--out", str(out)])
    assert result.exit_code == 2 and "--large" in result.output
    assert not out.exists()


def test_design_points_are_counted_without_drawing(tmp_path: Path) -> None:
    """finding 6: the run count used by the size guard equals the design actually drawn."""
    from sweep_helpers import MORRIS

    from urbsim.sweep import build_design, load_sweep
    from urbsim.sweep.design import count_points

    sobol = MORRIS.replace('kind = "morris"\nn = 2\nlevels = 4', SOBOL)
    for i, text in enumerate((GRID, MORRIS, sobol)):
        path = write_sweep(tmp_path / str(i), text)
        sweep = load_sweep(path)
        assert count_points(sweep) == build_design(sweep, check=False).points


def test_concurrent_runs_beyond_memory_and_oversubscription(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """finding 6: workers x per-run estimate is checked before a sweep starts; more workers
    than cores is one warning line on stderr."""
    monkeypatch.setattr(resources, "available_memory", lambda: 1024**3)
    path = write_sweep(tmp_path / "in", GRID)
    out = tmp_path / "out"
    with pytest.raises(ResourceError, match=r"4 run\(s\) at once .*--ignore-memory-limit"):
        run_sweep(path, out, executor="local", workers=4, progress=False)
    assert not out.exists()

    monkeypatch.setattr(resources, "available_memory", lambda: None)
    monkeypatch.setattr(resources, "cores", lambda: 2)
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "mine.txt").write_text("x")
    args = ["sweep", str(path), "--out", str(tmp_path / "taken"), "--workers", "6"]
    result = CliRunner().invoke(app, args)
    # The folder is refused after the warning: nothing runs.
    assert result.exit_code == 2
    warnings = [line for line in result.output.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "6 worker(s) x 1 thread(s) on 2 core(s)" in warnings[0]
