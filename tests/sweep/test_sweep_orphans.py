"""Workers die with their driver, whatever signal ends it (issue 10, finding 7)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sweep_helpers import GRID, write_sweep

#: End-to-end runs, sweeps or subprocesses: outside `make test-fast`.
pytestmark = pytest.mark.slow

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


def _wait_for_forkserver(proc: subprocess.Popen[bytes]) -> list[psutil.Process]:
    """The driver's descendants as soon as its forkserver process exists (still starting)."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and proc.poll() is None:
        kids = psutil.Process(proc.pid).children(recursive=True)
        if any("multiprocessing.forkserver" in " ".join(p.cmdline()) for p in kids):
            return kids
        time.sleep(0.01)
    raise AssertionError("the sweep's forkserver did not start")


def _started_by(driver: int) -> list[psutil.Process]:
    """Processes that inherited the driver's pid in their environment (the forkserver and
    every process it forked, including those forked after the snapshot of the driver's
    children)."""
    found = []
    for p in psutil.process_iter():
        try:
            if p.environ().get("URBSIM_SWEEP_DRIVER_PID") == str(driver):
                found.append(p)
        except (psutil.Error, OSError):
            pass
    return found


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
        _kill_and_check(proc, kids, sig)
    finally:
        _clean_up(proc)


def _clean_up(proc: subprocess.Popen[bytes]) -> None:
    """End a driver the test did not kill, and whatever it started that is still running.

    Only the driver's own processes: this test process's other children (multiprocessing's
    resource tracker of the pytest worker) belong to later tests, which would warn that the
    tracker "died unexpectedly" if it were killed here.
    """
    started = _started_by(proc.pid)
    if proc.poll() is None:
        with contextlib.suppress(psutil.NoSuchProcess):
            started += psutil.Process(proc.pid).children(recursive=True)
        proc.kill()
        proc.wait()
    for p in _alive(started):
        with contextlib.suppress(psutil.NoSuchProcess):
            p.kill()


def _kill_and_check(proc: subprocess.Popen[bytes], kids: list, sig: signal.Signals) -> None:
    os.kill(proc.pid, sig)
    proc.wait(timeout=30)
    deadline = time.monotonic() + 10
    while _alive(kids + _started_by(proc.pid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [(p.pid, " ".join(p.cmdline())[:80]) for p in _alive(kids + _started_by(proc.pid))]
    assert not left, f"left running after {sig.name} of the driver: {left}"


def test_pool_dies_with_a_driver_killed_while_starting(tmp_path: Path) -> None:
    """finding 7: a driver SIGKILLed while its forkserver is still importing (a fork request
    queued) leaves neither the forkserver nor a half-started worker behind; they used to
    keep each other alive for ever."""
    path = write_sweep(tmp_path / "in", MANY)
    for attempt in range(3):
        proc = _start(path, tmp_path / f"out{attempt}", "local")
        try:
            kids = _wait_for_forkserver(proc)
            time.sleep(0.3 * attempt)  # the forkserver importing, then forking workers
            _kill_and_check(proc, kids, signal.SIGKILL)
        finally:
            _clean_up(proc)


#: A driver that keeps a `worker_pool` busy (the calibration's emulator pool is one) and says
#: when its workers run.
POOL_DRIVER = """
import sys, time
from urbsim.sweep.executors import worker_pool

with worker_pool(2, blas_threads=1) as pool:
    futures = [pool.submit(time.sleep, 600) for _ in range(4)]
    time.sleep(1.0)
    print("ready", flush=True)
    futures[0].result()
"""


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_worker_pool_dies_with_its_driver(tmp_path: Path, sig: signal.Signals) -> None:
    """Any pool started by `worker_pool` (the calibration's emulator fits, not only sweeps):
    its forkserver and workers end with a killed driver. A plain ProcessPoolExecutor on
    forkserver left both running for good (found 2026-12-02)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", POOL_DRIVER], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"ready"
        kids = psutil.Process(proc.pid).children(recursive=True)
        assert len(kids) >= 3, "the forkserver and two workers should run"
        _kill_and_check(proc, kids, sig)
    finally:
        _clean_up(proc)


#: An experiment whose one script step writes its process id and then sleeps.
SLEEPING_STEP = """\
[[steps]]
kind = "script"
command = ["{python}", "-c", "import os, sys, time; \
open(sys.argv[1], 'w').write(str(os.getpid())); time.sleep(120)", "{root}/step.pid"]
"""


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_a_script_step_dies_with_its_reproduce_driver(tmp_path: Path, sig: signal.Signals) -> None:
    """A script step of ``urbsim reproduce`` (the calibration's history matching) ends with
    the driver that started it, as sweep workers do: it used to run on, re-parented to init."""
    exp = tmp_path / "experiments" / "sleepy"
    exp.mkdir(parents=True)
    (exp / "experiment.toml").write_text(SLEEPING_STEP)
    cmd = [sys.executable, "-c", "from urbsim.cli import app; app(prog_name='urbsim')",
           "reproduce", str(exp), "--update"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        pid_file = tmp_path / "step.pid"
        deadline = time.monotonic() + 120
        while not (pid_file.is_file() and pid_file.read_text()) and time.monotonic() < deadline:
            assert proc.poll() is None, "the driver ended before its step started"
            time.sleep(0.05)
        step = psutil.Process(int(pid_file.read_text()))
        assert step.ppid() == proc.pid
        _kill_and_check(proc, [step], sig)
    finally:
        _clean_up(proc)


def test_the_parent_death_hook_starts_a_child_of_its_parent_only() -> None:
    """The ``preexec_fn`` of script steps: a child of the process named runs; one whose parent
    is another process (the one named has died and the child was re-parented) exits at once,
    code 1, before the command runs."""
    from urbsim.sweep.executors import parent_death_hook

    cmd = [sys.executable, "-c", "print('ran')"]
    ok = subprocess.run(cmd, capture_output=True, text=True,
                        preexec_fn=parent_death_hook(os.getpid()))  # fmt: skip
    assert ok.returncode == 0 and ok.stdout == "ran\n"
    gone = subprocess.run(cmd, capture_output=True, text=True,
                          preexec_fn=parent_death_hook(os.getpid() + 1))  # fmt: skip
    assert gone.returncode == 1 and gone.stdout == ""
