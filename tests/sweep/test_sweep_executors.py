"""The same sweep gives the same results.parquet whatever the executor, workers and threads."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from sweep_helpers import GRID, MORRIS, write_sweep

from urbsim.output import table_hash
from urbsim.sweep import run_seed, run_sweep
from urbsim.sweep.executors import local_cluster
from urbsim.sweep.store import streamed_hash

#: End-to-end runs, sweeps or subprocesses: outside `make test-fast`.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def grid(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sweep(tmp_path_factory.mktemp("grid"), GRID)


@pytest.fixture(scope="module")
def reference(grid: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """Hash and folder of the grid sweep run serially on one thread."""
    out = tmp_path_factory.mktemp("ref") / "sweep"
    outcome = run_sweep(grid, out, executor="serial", threads=1, progress=False)
    assert outcome.complete and outcome.ok == 8 and outcome.failed == 0
    return str(outcome.results_sha256), out


@pytest.fixture(scope="module")
def cluster() -> Iterator[object]:
    """One Dask LocalCluster on loopback (2 worker processes) for the module."""
    pytest.importorskip("distributed")
    with local_cluster(2) as c:
        yield c


def test_sweep_folder_content(reference: tuple[str, Path]) -> None:
    digest, out = reference
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        ".urbsim-output.json",
        "design.parquet",
        "manifest.json",
        "results.parquet",
        "runs.parquet",
        "summary.parquet",
        "sweep.json",
    ]
    results = pd.read_parquet(out / "results.parquet")
    assert table_hash(results) == digest == streamed_hash(out / "results.parquet")
    assert results.columns.tolist() == [
        "run",
        "point",
        "replication",
        "kind",
        "name",
        "year",
        "place_id",
        "value",
    ]
    assert results["run"].is_monotonic_increasing and set(results["run"]) == set(range(8))
    per_run = results.groupby("run").size()
    # 2 metrics + 2 national series x 3 years + urban residents of every place in 2012.
    assert (per_run == per_run.iloc[0]).all() and per_run.iloc[0] > 2 + 6 + 2000
    runs = pd.read_parquet(out / "runs.parquet")
    assert runs.columns.tolist() == [
        "run",
        "point",
        "replication",
        "seed",
        "behaviour.move_base",
        "timeline.2011.permit.min_residence_months",
        "status",
        "error",
        "wall_seconds",
        "command",
    ]
    assert runs["seed"].tolist() == [run_seed(11, p, r) for p in range(4) for r in range(2)]
    assert (runs["status"] == "ok").all() and runs["error"].isna().all()
    summary = pd.read_parquet(out / "summary.parquet")
    assert summary.columns.tolist() == ["run", "point", "replication", "metric", "year", "value"]
    assert len(summary) == 16
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["tables"]["results"]["sha256"] == digest
    assert manifest["runs"] == {"total": 8, "ok": 8, "failed": 0, "retried": 0}
    assert manifest["seeds"]["sweep"] == 11


def test_two_threads(grid: Path, reference: tuple[str, Path], tmp_path: Path) -> None:
    outcome = run_sweep(grid, tmp_path / "s", executor="serial", threads=2, progress=False)
    assert outcome.results_sha256 == reference[0]


def test_process_pool_forkserver(grid: Path, reference: tuple[str, Path], tmp_path: Path) -> None:
    outcome = run_sweep(
        grid, tmp_path / "s", executor="local", workers=2, threads=1, progress=False
    )
    assert outcome.results_sha256 == reference[0]
    assert outcome.tasks == 8


def test_process_pool_spawn_batched(
    grid: Path, reference: tuple[str, Path], tmp_path: Path
) -> None:
    # Long wanted tasks: runs are batched, at most a quarter of the runs left per task so that
    # the workers stay busy to the end: 2, 2, then 1, 1, 1, 1.
    outcome = run_sweep(
        grid,
        tmp_path / "s",
        executor="local",
        workers=1,
        threads=2,
        start_method="spawn",
        task_seconds=100.0,
        progress=False,
    )
    assert outcome.results_sha256 == reference[0], outcome
    assert outcome.tasks == 6


def test_dask_local_cluster(
    grid: Path, reference: tuple[str, Path], cluster: object, tmp_path: Path
) -> None:
    address = cluster.scheduler_address  # type: ignore[attr-defined]
    outcome = run_sweep(grid, tmp_path / "s", executor="dask", scheduler=address, progress=False)
    assert outcome.results_sha256 == reference[0]
    assert address.startswith("tcp://127.0.0.1:")


def test_dask_workers_have_malloc_trim_unset(cluster: object) -> None:
    from distributed import Client

    with Client(cluster) as client:
        env = client.run(lambda: os.environ.get("MALLOC_TRIM_THRESHOLD_"))
    assert len(env) == 2 and set(env.values()) == {None}


def test_morris_analysis(tmp_path: Path) -> None:
    path = write_sweep(tmp_path / "in", MORRIS)
    outcome = run_sweep(path, tmp_path / "m", executor="serial", progress=False)
    assert outcome.complete and outcome.analysis_skipped == []
    indices = pd.read_parquet(tmp_path / "m" / "indices.parquet")
    assert indices.columns.tolist() == [
        "metric",
        "parameter",
        "parameter_2",
        "index",
        "value",
        "conf",
    ]
    assert set(indices["metric"]) == {"urb", "gap"}
    assert set(indices["index"]) == {"mu", "mu_star", "sigma"}
    csv = pd.read_csv(tmp_path / "m" / "indices.csv")
    assert len(csv) == len(indices) == 12
    # The bootstrap is seeded: a second sweep gives the same indices.
    again = run_sweep(path, tmp_path / "m2", executor="serial", progress=False)
    assert again.results_sha256 == outcome.results_sha256
    assert table_hash(pd.read_parquet(tmp_path / "m2" / "indices.parquet")) == table_hash(indices)


def _environment_value(name: str) -> str | None:
    return os.environ.get(name)


@pytest.mark.parametrize("method", ["forkserver", "spawn"])
def test_workers_see_the_environment_of_when_their_pool_was_made(
    method: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A forkserver started by an earlier pool keeps the environment of that moment; workers of
    a later pool still see the driver's environment as it is when that pool is made (a cache
    folder set between two sweeps of one process reaches the second's runs)."""
    from urbsim.sweep.executors import worker_pool

    monkeypatch.setenv("URBSIM_TEST_VALUE", "first")
    monkeypatch.setenv("URBSIM_TEST_GONE", "here")
    with worker_pool(1, method) as pool:
        assert pool.submit(_environment_value, "URBSIM_TEST_VALUE").result() == "first"
    monkeypatch.setenv("URBSIM_TEST_VALUE", "second")
    monkeypatch.delenv("URBSIM_TEST_GONE")
    with worker_pool(1, method) as pool:
        assert pool.submit(_environment_value, "URBSIM_TEST_VALUE").result() == "second"
        assert pool.submit(_environment_value, "URBSIM_TEST_GONE").result() is None
