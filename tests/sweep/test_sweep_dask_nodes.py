"""Dask on several machines: same package versions on every worker, bounded retries of runs
whose worker died, the dashboard address (issue 10, "Dask on more than one machine")."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sweep_helpers import GRID, write_sweep
from typer.testing import CliRunner

from urbsim.cli import app
from urbsim.sweep import run_sweep
from urbsim.sweep.executors import (
    DaskExecutor,
    WorkerEnvironmentError,
    package_versions,
    version_mismatches,
)

#: End-to-end runs, sweeps or subprocesses: outside `make test-fast`.
pytestmark = pytest.mark.slow

pytest.importorskip("distributed")
psutil = pytest.importorskip("psutil")


class _Client:
    """Stands for a distributed.Client whose workers report the given versions."""

    def __init__(self, versions: dict[str, dict[str, str | None]]) -> None:
        self.versions = versions

    def run(self, func: Any) -> dict[str, dict[str, str | None]]:
        return self.versions


def test_workers_with_other_package_versions_are_refused() -> None:
    mine = package_versions()
    assert mine["urbsim"] and mine["numpy"] and mine["python"]
    other = dict(mine, numpy="0.0.1")
    ex = DaskExecutor(2, 1, scheduler="tcp://node1:8786")
    ex._client = _Client({"tcp://node2:4000": mine, "tcp://node3:4000": other})
    with pytest.raises(WorkerEnvironmentError) as info:
        ex.check_versions()
    message = str(info.value)
    assert f"tcp://node3:4000: numpy 0.0.1 (driver: {mine['numpy']})" in message
    assert "node2" not in message and "tcp://node1:8786" in message
    ex._client = _Client({"tcp://node2:4000": mine})
    ex.check_versions()  # the same versions pass
    assert version_mismatches(mine, {"w": {"python": mine["python"]}})  # a package missing


def test_cli_reports_a_version_mismatch_as_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: DaskExecutor) -> None:
        raise WorkerEnvironmentError("dask workers at tcp://x run other package versions")

    monkeypatch.setattr(DaskExecutor, "check_versions", refuse)
    path = write_sweep(tmp_path / "in", GRID)
    args = ["sweep", str(path), "--out", str(tmp_path / "out"), "--executor", "dask"]
    result = CliRunner().invoke(app, [*args, "--workers", "1"])
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: dask workers at tcp://x")


def _spawned_workers() -> list[psutil.Process]:
    return [p for p in psutil.Process().children(recursive=True) if "spawn_main" in _cmdline(p)]


def _cmdline(p: psutil.Process) -> str:
    """The process's command line, empty for one that has ended (a zombie not yet reaped by
    the test process, whose other children come and go)."""
    try:
        return " ".join(p.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied):  # ZombieProcess is a NoSuchProcess
        return ""


def test_a_run_whose_worker_died_is_retried_and_recorded(tmp_path: Path) -> None:
    """A Dask worker killed mid-sweep: its tasks are resubmitted (at most twice), the sweep
    completes with the uninterrupted results and runs.parquet records the retries."""
    path = write_sweep(tmp_path / "in", GRID.replace("replications = 2", "replications = 6"))
    reference = run_sweep(path, tmp_path / "ref", executor="serial", progress=False)
    out = tmp_path / "out"
    messages: list[str] = []
    result: dict[str, Any] = {}

    def sweep() -> None:
        result["outcome"] = run_sweep(
            path, out, executor="dask", workers=1, progress=False, log=messages.append
        )

    thread = threading.Thread(target=sweep)
    before = {p.pid for p in _spawned_workers()}
    thread.start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list((out / "parts").glob("part-*.parquet")):
        time.sleep(0.05)
    workers = [p for p in _spawned_workers() if p.pid not in before]
    assert workers, "no dask worker process found"
    for p in workers:
        p.kill()
    thread.join(timeout=300)
    outcome = result["outcome"]
    assert outcome.complete and outcome.ok == 24
    assert outcome.results_sha256 == reference.results_sha256
    assert any(m.startswith("dask dashboard: http") for m in messages)
    assert any("its worker died" in m and "retry 1" in m for m in messages), messages
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["runs"]["retried"] >= 1
    runs = pd.read_parquet(out / "runs.parquet")
    retried = runs["error"].fillna("").str.startswith("retried 1 time(s)")
    assert retried.sum() == manifest["runs"]["retried"]
    assert (runs["status"] == "ok").all()
