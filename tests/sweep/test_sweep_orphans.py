"""Workers die with their driver, whatever signal ends it (issue 10, finding 7)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sweep_helpers import GRID, write_sweep

psutil = pytest.importorskip("psutil")

#: Enough runs that the sweep is still running when it is killed.
MANY = GRID.replace("replications = 2", "replications = 40")


def _alive(procs: list[psutil.Process]) -> list[psutil.Process]:
    out = []
    for p in procs:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                out.append(p)
        except psutil.NoSuchProcess:
            pass
    return out


def _start(path: Path, out: Path, executor: str) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable,
        "-c",
        "from urbsim.cli import app; app(prog_name='urbsim')",
        "sweep",
        str(path),
        "--out",
        str(out),
        "--executor",
        executor,
        "--workers",
        "2",
    ]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait_for_workers(proc: subprocess.Popen[bytes], out: Path) -> list[psutil.Process]:
    """The driver's descendants once workers have written a part (so they are running)."""
    deadline = time.monotonic() + 180
    parts = out / "parts"
    while time.monotonic() < deadline and proc.poll() is None:
        if parts.is_dir() and any(parts.glob("part-*.parquet")):
            kids = psutil.Process(proc.pid).children(recursive=True)
            if len(kids) >= 2:
                return kids
        time.sleep(0.1)
    raise AssertionError("the sweep's workers did not start")


@pytest.mark.parametrize("executor", ["local", "dask"])
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_workers_die_with_their_driver(tmp_path: Path, executor: str, sig: signal.Signals) -> None:
    """finding 7: after SIGKILL or SIGTERM of a sweep driver no process it started (the
    forkserver, pool workers, Dask workers) is left running a few seconds later."""
    if executor == "dask":
        pytest.importorskip("distributed")
    path = write_sweep(tmp_path / "in", MANY)
    proc = _start(path, tmp_path / "out", executor)
    try:
        kids = _wait_for_workers(proc, tmp_path / "out")
        os.kill(proc.pid, sig)
        proc.wait(timeout=30)
        deadline = time.monotonic() + 10
        while _alive(kids) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = [(p.pid, " ".join(p.cmdline())[:80]) for p in _alive(kids)]
        assert not left, f"left running after {sig.name} of the driver: {left}"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for p in _alive(psutil.Process().children(recursive=True)):
            p.kill()
