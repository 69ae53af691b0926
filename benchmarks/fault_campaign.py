"""Fault campaign: kill, corrupt, fill and lock sweeps; every case must end well.

A tiny grid sweep (12 runs of a 2010-2012 world at 200,000 households per agent) is run through
the command line (``python -m urbsim sweep``), as a user would, and hurt in every way issue 10
lists. Each case must end either in a clear error (exit code 1 or 2, an ``error:`` or ``task
... did not finish`` line, no traceback) or, after ``--resume``, in a ``results.parquet`` whose
data hash equals an uninterrupted serial run's. Any other end (a traceback, a different hash, a
process left running) is counted as a failure of urbsim.

Cases, per executor (``local`` process pool and ``dask`` LocalCluster, 2 workers each):

* **driver kills**: the driver is killed (SIGKILL, every third kill SIGTERM) at a uniformly
  random time in the first run's wall time; after every second kill the sweep is resumed to
  the end and its hash compared. After each kill, no process the driver started may remain
  after 10 s.
* **worker kills**: once the first part is written, one worker process is SIGKILLed. The
  process pool then stops (exit 1, resumable) and is resumed; Dask resubmits the lost tasks
  and finishes by itself. Either way the hash is compared.

Once (process pool): a killed sweep's parts are truncated and corrupted (``--resume`` removes
and reruns them); a part of another sweep is copied in (``--resume`` refuses it, naming it);
the output folder is on a 40 KiB tmpfs, full before the sweep ends (a clear error, then
resumed after the disk is grown); the output folder is remounted read-only (a clear error,
then resumed read-write). The mounts need root; without them those cases are skipped with
the reason.

    nice -n 10 .venv/bin/python benchmarks/fault_campaign.py            # about 10 minutes
    .venv/bin/python benchmarks/fault_campaign.py --kills 3 --quick     # smoke test

Writes ``benchmarks/results/fault_campaign.json`` (``fault_campaign_quick.json``).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _timing import machine_info, table, write_json

RESULTS = Path(__file__).resolve().parent / "results"

SCENARIO = """\
name = "fault-tiny"
start_year = 2010
end_year = 2012
seed = 5

[world]
households_per_agent = 200000.0

[timeline.2011.permit]
enabled = true
"""

SWEEP = """\
base = "scenario.toml"
seed = {seed}
replications = 3

[design]
kind = "grid"

[[design.parameters]]
name = "behaviour.move_base"
values = [0.1, 0.3]

[[design.parameters]]
name = "timeline.2011.permit.min_residence_months"
values = [0, 12]

[outputs]
national = ["urbanization_rate", "service_gap"]
places = ["urban_residents"]
years = [2012]

[outputs.metrics]
urb = {{ column = "urbanization_rate", year = 2012 }}
"""

HASH_RE = re.compile(r"results\.parquet sha256 ([0-9a-f]{64})")


@dataclass
class Ended:
    """How one invocation of the sweep command ended."""

    code: int
    out: str
    err: str

    @property
    def traceback(self) -> bool:
        return "Traceback" in self.err or "Traceback" in self.out

    @property
    def digest(self) -> str | None:
        m = HASH_RE.search(self.out)
        return m.group(1) if m else None

    @property
    def clear_error(self) -> bool:
        lines = self.err.splitlines()
        said = any(x.startswith("error: ") or "did not finish" in x for x in lines)
        return self.code in (1, 2) and said and not self.traceback


@dataclass
class Tally:
    """Counts of one executor (or of the one-off cases)."""

    kills_driver: int = 0
    kills_worker: int = 0
    finished_before_kill: int = 0
    resumes: int = 0
    identical: int = 0
    clear_errors: int = 0
    different: int = 0
    tracebacks: int = 0
    orphans: int = 0
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class Campaign:
    """Runs sweeps by the command line and checks how they end."""

    def __init__(self, root: Path, workers: int, seed: int) -> None:
        self.root = root
        self.workers = workers
        self.rng = random.Random(seed)
        self.sweep = self._write("sweep", SWEEP.format(seed=11))
        self.other = self._write("other", SWEEP.format(seed=12))
        self.count = 0

    def _write(self, name: str, text: str) -> Path:
        folder = self.root / name
        folder.mkdir(parents=True)
        (folder / "scenario.toml").write_text(SCENARIO, encoding="utf-8")
        path = folder / "sweep.toml"
        path.write_text(text, encoding="utf-8")
        return path

    def folder(self, label: str) -> Path:
        self.count += 1
        return self.root / f"{label}-{self.count:03d}"

    def command(self, out: Path, executor: str, resume: bool, sweep: Path | None = None) -> list:
        cmd = [sys.executable, "-m", "urbsim", "sweep", str(sweep or self.sweep)]
        cmd += ["--out", str(out), "--executor", executor]
        if executor != "serial":
            cmd += ["--workers", str(self.workers), "--threads", "1"]
        return cmd + (["--resume"] if resume else [])

    def start(self, out: Path, executor: str, sweep: Path | None = None) -> subprocess.Popen:
        resume = out.exists()
        return subprocess.Popen(
            self.command(out, executor, resume, sweep),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def run(self, out: Path, executor: str, sweep: Path | None = None) -> Ended:
        proc = self.start(out, executor, sweep)
        stdout, stderr = proc.communicate(timeout=900)
        return Ended(proc.returncode, stdout, stderr)


def _alive(procs: list[psutil.Process]) -> list[psutil.Process]:
    left = []
    for p in procs:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                left.append(p)
        except psutil.NoSuchProcess:
            pass
    return left


def _kill_driver(proc: subprocess.Popen, sig: signal.Signals) -> list[psutil.Process]:
    """Kill the driver; return the processes it had started that are alive 10 s later."""
    try:
        kids = psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        kids = []
    proc.send_signal(sig)
    try:
        # The pipes close when every process holding them (the driver's children) is gone.
        proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        pass  # counted below as orphans
    deadline = time.monotonic() + 10
    while _alive(kids) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = _alive(kids)
    for p in left:  # do not let one failure spoil the next cases
        p.kill()
    proc.communicate()
    return left


def _judge(ended: Ended, reference: str, tally: Tally, what: str) -> None:
    if ended.traceback:
        tally.tracebacks += 1
        tally.notes.append(f"{what}: traceback: {ended.err[-400:]}")
    elif ended.code == 0 and ended.digest == reference:
        tally.identical += 1
    elif ended.clear_error:
        tally.clear_errors += 1
    else:
        tally.different += 1
        tally.notes.append(f"{what}: exit {ended.code}, hash {ended.digest}: {ended.err[-400:]}")


def _finish(c: Campaign, out: Path, executor: str, reference: str, tally: Tally) -> None:
    """Resume a sweep to its end and compare (a worker that dies meanwhile is resumed again)."""
    for _ in range(3):
        ended = c.run(out, executor)
        tally.resumes += 1
        if ended.code != 1 or not ended.clear_error:
            break
    _judge(ended, reference, tally, f"resume of {out.name}")


def _first_part(out: Path, proc: subprocess.Popen, timeout: float = 300) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        parts = out / "parts"
        if parts.is_dir() and any(parts.glob("part-*.parquet")):
            return True
        time.sleep(0.05)
    return False


def driver_kills(c: Campaign, executor: str, kills: int, span: float, ref: str, t: Tally) -> None:
    """Kill the driver at random times; resume after every second kill and compare."""
    out = c.folder(f"{executor}-driver")
    since_resume = 0
    while t.kills_driver < kills:
        proc = c.start(out, executor)
        delay = c.rng.uniform(0.0, span)
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            sig = signal.SIGTERM if t.kills_driver % 3 == 2 else signal.SIGKILL
            t.orphans += len(_kill_driver(proc, sig))
            t.kills_driver += 1
            since_resume += 1
            if since_resume == 2:
                _finish(c, out, executor, ref, t)
                out, since_resume = c.folder(f"{executor}-driver"), 0
            continue
        stdout, stderr = proc.communicate()
        t.finished_before_kill += 1
        _judge(Ended(proc.returncode, stdout, stderr), ref, t, f"{out.name} unkilled")
        out, since_resume = c.folder(f"{executor}-driver"), 0


def _workers(driver: psutil.Process) -> list[psutil.Process]:
    """The driver's worker processes: the forkserver's children (process pool), or the
    processes the Dask nannies spawned."""
    try:
        procs = driver.children(recursive=True)
        pool = [p for p in procs if p.ppid() != driver.pid]
        spawned = [p for p in procs if "spawn_main" in " ".join(p.cmdline())]
    except psutil.NoSuchProcess:
        return []
    return pool or spawned


def worker_kills(c: Campaign, executor: str, kills: int, ref: str, t: Tally) -> None:
    """SIGKILL one worker once the first part exists, then resume (pool) or wait (Dask)."""
    while t.kills_worker < kills:
        out = c.folder(f"{executor}-worker")
        proc = c.start(out, executor)
        if not _first_part(out, proc):
            proc.communicate()
            t.finished_before_kill += 1
            continue
        workers = _workers(psutil.Process(proc.pid))
        if not workers:
            proc.communicate()
            t.finished_before_kill += 1
            continue
        c.rng.choice(workers).kill()
        t.kills_worker += 1
        stdout, stderr = proc.communicate(timeout=900)
        ended = Ended(proc.returncode, stdout, stderr)
        if ended.code == 1 and ended.clear_error:
            _finish(c, out, executor, ref, t)
        else:
            _judge(ended, ref, t, f"{out.name} after a worker kill")


def _killed_folder(c: Campaign, sweep: Path | None = None, parts: int = 3) -> Path:
    """A sweep folder whose driver was SIGKILLed once ``parts`` parts existed."""
    out = c.folder("killed")
    proc = c.start(out, "local", sweep)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        if len(list((out / "parts").glob("part-*.parquet"))) >= parts:
            break
        time.sleep(0.05)
    _kill_driver(proc, signal.SIGKILL)
    return out


def damaged_parts(c: Campaign, ref: str, t: Tally) -> None:
    """Truncate one part and flip a byte inside another; --resume must redo both."""
    out = _killed_folder(c)
    parts = sorted((out / "parts").glob("part-*.parquet"))
    if len(parts) < 2:
        t.skipped.append("damaged parts: the sweep finished fewer than 2 parts before the kill")
        return
    data = parts[0].read_bytes()
    parts[0].write_bytes(data[: len(data) // 2])
    flipped = bytearray(parts[1].read_bytes())
    flipped[len(flipped) // 3] ^= 0xFF
    parts[1].write_bytes(bytes(flipped))
    ended = c.run(out, "local")
    t.resumes += 1
    _judge(ended, ref, t, "damaged parts")
    if ended.err.count("damaged part") != 2:
        t.notes.append(f"damaged parts: expected 2 'damaged part' lines: {ended.err[-400:]}")


def foreign_part(c: Campaign, ref: str, t: Tally) -> None:
    """A part of another sweep copied in: --resume must refuse it with its name."""
    mine = _killed_folder(c)
    other = _killed_folder(c, c.other)
    theirs = sorted((other / "parts").glob("part-*.parquet"))
    if not theirs:
        t.skipped.append("foreign part: the other sweep wrote no part before the kill")
        return
    target = mine / "parts" / theirs[0].name
    shutil.copy(theirs[0], target)
    ended = c.run(mine, "local")
    t.resumes += 1
    _judge(ended, ref, t, "foreign part")
    if ended.code != 2 or target.name not in ended.err:
        t.notes.append(f"foreign part: not refused by name: {ended.err[-400:]}")


def _mount(point: Path, options: str) -> str | None:
    point.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)],
        capture_output=True,
        text=True,
        check=False,
    )
    return None if proc.returncode == 0 else (proc.stderr.strip() or f"exit {proc.returncode}")


def _remount(point: Path, options: str) -> bool:
    cmd = ["mount", "-o", f"remount,{options}", str(point)]
    return subprocess.run(cmd, capture_output=True, check=False).returncode == 0


def full_disk(c: Campaign, ref: str, t: Tally) -> None:
    """The sweep folder on a 40 KiB tmpfs: a clear error; then the disk grows and it resumes."""
    point = c.folder("disk")
    reason = _mount(point, "size=40k")
    if reason is not None:
        t.skipped.append(f"full disk: cannot mount a tmpfs ({reason})")
        return
    try:
        out = point / "sweep"
        ended = c.run(out, "local")
        _judge(ended, ref, t, "full disk")
        if ended.code == 0:
            t.notes.append("full disk: the sweep fitted in 40 KiB; the disk was not filled")
        if not _remount(point, "size=64m"):
            t.skipped.append("full disk: cannot grow the tmpfs to resume")
            return
        _finish(c, out, "local", ref, t)
    finally:
        subprocess.run(["umount", str(point)], check=False)


def read_only(c: Campaign, ref: str, t: Tally) -> None:
    """A killed sweep's folder remounted read-only: --resume is a clear error; read-write, it
    resumes. A new sweep into a read-only folder is a clear error too."""
    point = c.folder("ro")
    reason = _mount(point, "size=64m")
    if reason is not None:
        t.skipped.append(f"read-only: cannot mount a tmpfs ({reason})")
        return
    try:
        out = point / "sweep"
        proc = c.start(out, "local")
        _first_part(out, proc)
        _kill_driver(proc, signal.SIGKILL)
        t.kills_driver += 1
        if not _remount(point, "ro"):
            t.skipped.append("read-only: cannot remount read-only")
            return
        for target in (out, point / "new"):
            ended = c.run(target, "local")
            _judge(ended, ref, t, f"read-only {target.name}")
            if ended.code == 0:
                t.notes.append(f"read-only {target.name}: wrote to a read-only folder?")
        _remount(point, "rw")
        _finish(c, out, "local", ref, t)
    finally:
        subprocess.run(["umount", str(point)], check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=16, help="driver kills per executor")
    parser.add_argument("--worker-kills", type=int, default=5, help="worker kills per executor")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--executors", nargs="+", default=["local", "dask"])
    parser.add_argument("--quick", action="store_true", help="write *_quick.json")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    started = time.perf_counter()
    info = machine_info()
    with tempfile.TemporaryDirectory(prefix="urbsim-faults-") as tmp:
        c = Campaign(Path(tmp), args.workers, args.seed)
        ref_run = c.run(c.folder("reference"), "serial")
        reference = ref_run.digest
        if ref_run.code != 0 or reference is None:
            raise SystemExit(f"the uninterrupted sweep failed: {ref_run.err}")
        tallies: dict[str, Tally] = {}
        spans: dict[str, float] = {}
        for executor in args.executors:
            t = tallies[executor] = Tally()
            t0 = time.perf_counter()
            _judge(c.run(c.folder(f"{executor}-clean"), executor), reference, t, "clean")
            spans[executor] = time.perf_counter() - t0
            driver_kills(c, executor, args.kills, spans[executor], reference, t)
            worker_kills(c, executor, args.worker_kills, reference, t)
            print(f"{executor}: {t}", flush=True)
        once = tallies["files and disks"] = Tally()
        for case in (damaged_parts, foreign_part, full_disk, read_only):
            case(c, reference, once)
        print(f"files and disks: {once}", flush=True)
    report(args, info, reference, tallies, spans, time.perf_counter() - started)


def report(
    args: argparse.Namespace,
    info: dict[str, Any],
    reference: str,
    tallies: dict[str, Tally],
    spans: dict[str, float],
    wall: float,
) -> None:
    fields = ["kills_driver", "kills_worker", "resumes", "identical", "clear_errors"]
    bad = ["different", "tracebacks", "orphans"]
    rows = [[name] + [str(getattr(t, f)) for f in fields + bad] for name, t in tallies.items()]
    print(table(rows, ["case", *fields, *bad]))
    total_bad = sum(getattr(t, f) for t in tallies.values() for f in bad)
    payload = {
        "machine": info,
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "reference_results_sha256": reference,
        "clean_run_seconds": spans,
        "tallies": {name: vars(t) for name, t in tallies.items()},
        "totals": {f: sum(getattr(t, f) for t in tallies.values()) for f in fields + bad},
        "all_cases_ended_well": total_bad == 0,
        "wall_seconds": wall,
    }
    name = "fault_campaign_quick.json" if args.quick else "fault_campaign.json"
    path = write_json(args.out or RESULTS / name, payload)
    print(f"wrote {path} ({wall:,.0f} s); all cases ended well: {total_bad == 0}")
    if total_bad:
        raise SystemExit(1)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
