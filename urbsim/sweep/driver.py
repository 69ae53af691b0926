"""The sweep driver: plan the runs, hand tasks to an executor, assemble the results.

The driver holds the run table (one small row per run) and nothing else that grows with the
sweep: runs are written to Parquet parts by the workers, and the final tables are assembled by
streaming the parts. The parts on disk are the state of a sweep: ``resume=True`` reads them,
runs only the runs no part holds, and assembles.
"""

from __future__ import annotations

import json
import math
import os
import shlex
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from urbsim.output import (
    OutputError,
    build_manifest,
    check_location,
    read_marker,
    tracked_files,
    write_marker,
)
from urbsim.progress import SweepUpdate, Verbosity, sweep_progress
from urbsim.sweep import store
from urbsim.sweep.design import (
    SweepDesign,
    build_design,
    check_unique_seeds,
    design_seed,
    problem_of,
    run_table,
    sample_options,
)
from urbsim.sweep.executors import (
    DaskExecutor,
    ExecutorKind,
    PoolExecutor,
    SerialExecutor,
    WorkersLost,
    default_layout,
)
from urbsim.sweep.runs import RunRecord, RunSpec, TaskReport, TaskSpec
from urbsim.sweep.spec import SweepError, SweepSpec, load_sweep

#: Wanted wall time of a task: shorter tasks are batched so that scheduling overhead (a few ms
#: per task in a process pool, more on Dask) stays small next to the work.
TARGET_TASK_SECONDS: Final[float] = 0.1
#: Initial estimate of a run's wall time before any run has finished: a fixed cost (world
#: building, place agents) plus a cost per agent-year, measured on the development machine
#: (0.7 s at 20k agents, 1.0 s at 100k agents, 2.6 s at 1M agents for 2010-2035).
_FIXED_RUN_SECONDS: Final[float] = 0.3
_SECONDS_PER_AGENT_YEAR: Final[float] = 9e-8
#: Households the synthetic world's 1.33 billion residents form (for the agent estimate).
_WORLD_HOUSEHOLDS: Final[float] = 4.02e8
_MAX_BATCH: Final[int] = 64
#: Spawn key of the bootstrap stream of the sensitivity analysis.
_ANALYSIS_STREAM: Final[int] = 0xA5A5


@dataclass
class SweepOutcome:
    """What a sweep did.

    Attributes
    ----------
    out : Path
        The sweep folder.
    total, ok, failed : int
        Runs in the sweep, finished successfully, finished with an error.
    missing : list of int
        Runs not finished (interrupted, or lost with a worker): ``--resume`` runs them.
    infra_errors : list of (str, str)
        Tasks that failed outside their runs: key and message.
    failures : list of (int, str)
        Failed runs: run id and the last line of the error.
    complete : bool
        Every run is finished and the final tables are written.
    results_sha256 : str or None
        Data hash of ``results.parquet``.
    analysis_skipped : list of (str, str)
        Metrics whose sensitivity analysis was impossible, with the reason.
    wall_seconds : float
        Wall time of this call.
    tasks : int
        Tasks run by this call.
    """

    out: Path
    total: int
    ok: int = 0
    failed: int = 0
    missing: list[int] = field(default_factory=list)
    infra_errors: list[tuple[str, str]] = field(default_factory=list)
    failures: list[tuple[int, str]] = field(default_factory=list)
    complete: bool = False
    results_sha256: str | None = None
    analysis_skipped: list[tuple[str, str]] = field(default_factory=list)
    wall_seconds: float = 0.0
    tasks: int = 0


# ---------------------------------------------------------------------------------------------
# Planning
# ---------------------------------------------------------------------------------------------
def analysis_seed(sweep_seed: int) -> int:
    """Seed of the bootstrap of the sensitivity analysis, in ``[0, 2**32)``."""
    ss = np.random.SeedSequence(int(sweep_seed), spawn_key=(_ANALYSIS_STREAM,))
    return int(ss.generate_state(1, dtype=np.uint32)[0])


def run_command(base: Path, overrides: list[str], seed: int, cwd: Path) -> str:
    """The ``urbsim run`` command line that reproduces a run alone."""
    try:
        shown = os.path.relpath(base, cwd)
    except ValueError:  # another drive (Windows)
        shown = str(base)
    if shown.startswith(".." + os.sep + ".."):
        shown = str(base)
    parts = ["urbsim", "run", Path(shown).as_posix(), "--seed", str(seed)]
    for item in overrides:
        parts += ["--set", item]
    return shlex.join(parts)


def default_out(sweep_file: Path) -> Path:
    """``results/<folder of the sweep file>/<its stem>``, e.g. results/sensitivity/morris."""
    return Path("results") / sweep_file.resolve().parent.name / sweep_file.stem


def _initial_estimate(sweep: SweepSpec) -> float:
    data = sweep.base_data
    world = data.get("world", {})
    hpa = float(world.get("households_per_agent", 400.0))
    if sweep.spec.households_per_agent is not None:
        hpa = sweep.spec.households_per_agent
    years = int(data.get("end_year", 2035)) - int(data.get("start_year", 2010))
    return _FIXED_RUN_SECONDS + _SECONDS_PER_AGENT_YEAR * (_WORLD_HOUSEHOLDS / hpa) * years


def _ranges(missing: list[int]) -> list[tuple[int, int]]:
    """Sorted run ids as half-open ranges of consecutive ids."""
    out: list[tuple[int, int]] = []
    for r in missing:
        if out and out[-1][1] == r:
            out[-1] = (out[-1][0], r + 1)
        else:
            out.append((r, r + 1))
    return out


# ---------------------------------------------------------------------------------------------
# Progress
# ---------------------------------------------------------------------------------------------
# One implementation for runs and sweeps: a bar on a terminal, plain lines in logs.
ProgressUpdate = SweepUpdate


# ---------------------------------------------------------------------------------------------
# The sweep
# ---------------------------------------------------------------------------------------------
def _prepare_dir(out: Path, sweep: SweepSpec, resume: bool, force: bool) -> None:
    """Make ``out`` ready for the sweep: check it can be written, and that only a sweep folder
    urbsim wrote is deleted (``force``) or resumed; then mark it and write ``sweep.json``.

    Nothing is written into a finished sweep that is resumed (it may be committed results).
    """
    digest = sweep.resolved_sha256()
    check_location(out)
    if out.is_dir() and any(out.iterdir()):
        if force:
            store.remove_tree(out)  # refuses anything but a marked, untracked sweep folder
        elif not store.is_sweep_dir(out):
            raise OutputError(f"{out}: exists and is not a sweep folder; refusing to use it")
        elif not resume:
            raise OutputError(
                f"{out}: holds a sweep already; pass --resume to finish it or --force to start over"
            )
        else:
            found = store.read_sweep_json(out).get("resolved_sha256")
            if found != digest:
                raise OutputError(
                    f"{out}: holds a different sweep (resolved hash {str(found)[:12]}, this "
                    f"one {digest[:12]}); use another --out or --force"
                )
            if (out / store.MANIFEST_FILE).is_file():
                return  # finished: the caller reports it and writes nothing
            _check_resumable(out)
    # The marker and sweep.json first: a folder holding parts always says which sweep they
    # belong to, and that urbsim may replace it.
    out.mkdir(parents=True, exist_ok=True)
    if read_marker(out) is None:
        write_marker(out, "sweep", digest)
    if not store.is_sweep_dir(out):
        store.write_json(
            {
                "sweep_path": str(sweep.source),
                "sweep_sha256": sweep.file_sha256,
                "resolved_sha256": digest,
                "resolved": sweep.resolved(),
            },
            out / store.SWEEP_FILE,
        )
    (out / store.PARTS_DIR).mkdir(exist_ok=True)


def _check_resumable(out: Path) -> None:
    """An unfinished sweep folder may be resumed if urbsim marked it, or (written before
    markers) if git tracks none of its files; resuming writes into it."""
    marker = read_marker(out)
    if marker is not None and marker["kind"] != "sweep":
        raise OutputError(f"{out}: is an urbsim {marker['kind']} folder, not a sweep folder")
    tracked = tracked_files(out)
    if tracked:
        raise OutputError(
            f"{out}: holds {len(tracked)} files tracked by git ({tracked[0]}, ...); refusing to "
            "write into it; resume into a copy outside the repository's tracked files"
        )


def run_sweep(
    path: str | Path,
    out: str | Path | None = None,
    *,
    executor: ExecutorKind = "local",
    workers: int | None = None,
    threads: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    force: bool = False,
    progress: bool | None = None,
    task_seconds: float = TARGET_TASK_SECONDS,
    start_method: str | None = None,
    log: Callable[[str], None] | None = None,
    verbosity: Verbosity = Verbosity.NORMAL,
) -> SweepOutcome:
    """Run a sweep file into a folder.

    Parameters
    ----------
    path
        The sweep file.
    out
        The sweep folder; default :func:`default_out`.
    executor
        ``"serial"`` (in this process), ``"local"`` (process pool) or ``"dask"``.
    workers, threads
        Worker processes and Numba threads per worker; by default workers x threads = cores.
    scheduler
        Address of a Dask scheduler (``executor="dask"``); None starts a ``LocalCluster``.
    resume
        Finish the sweep already in ``out``: only runs no part holds are run.
    force
        Delete a sweep folder already at ``out`` and start over.
    progress
        True: a progress bar; False: none; None: a bar on a terminal, else a plain line per
        finished batch.
    task_seconds
        Wanted wall time of a task (runs are batched up to it).
    start_method
        Start method of the process pool (``forkserver`` by default, else ``spawn``).
    log
        Receives one-line messages (None: silent).
    verbosity
        ``QUIET``: no progress; ``VERBOSE``: a plain line per batch, on a terminal too.

    Returns
    -------
    SweepOutcome

    Raises
    ------
    SweepError
        If the sweep file or a design point's scenario is invalid (nothing is written).
    OutputError
        If ``out`` cannot be used.
    """
    say = log or (lambda message: None)
    started = time.perf_counter()
    cwd = Path.cwd()
    sweep = load_sweep(path)
    design = build_design(sweep)
    runs = run_table(sweep, design)
    check_unique_seeds(runs, str(sweep.source))
    reps = sweep.spec.replications
    runs["command"] = [
        run_command(sweep.base_path, [*sweep.overrides, *design.overrides[p]], int(s), cwd)
        for p, s in zip(runs["point"], runs["seed"], strict=True)
    ]
    out = Path(out) if out is not None else default_out(sweep.source)
    out = out.resolve()
    _prepare_dir(out, sweep, resume, force)
    n_runs = len(runs)
    outcome = SweepOutcome(out=out, total=n_runs)

    if (out / store.MANIFEST_FILE).is_file():
        say(f"{out}: the sweep is complete already")
        return _outcome_from_manifest(out, outcome, started)

    store.write_frame(design.table, out / store.DESIGN_FILE)
    parts_dir = out / store.PARTS_DIR
    store.clean_parts(parts_dir)
    done = store.scan_parts(parts_dir, n_runs)
    missing = [r for r in range(n_runs) if r not in done]
    n_workers, n_threads = default_layout(executor, workers, threads)
    if done:
        say(f"resuming: {len(done)} of {n_runs} runs finished, {len(missing)} to run")

    # Per-run wall time for batching: an estimate, then the mean of the runs measured so far.
    timing = {"sum": 0.0, "n": 0, "estimate": _initial_estimate(sweep)}
    for _, rec in done.values():
        timing["sum"] += rec.wall_seconds
        timing["n"] += 1
    session = uuid.uuid4().hex[:8]
    digest = sweep.resolved_sha256()[:12]
    task_base = {
        "base_data": sweep.base_data,
        "source": str(sweep.base_path),
        "base_dir": str(sweep.base_path.parent),
        "overrides": sweep.overrides,
        "outputs": sweep.spec.outputs,
        "parts_dir": str(parts_dir),
        "threads": n_threads,
    }
    seeds = runs["seed"].to_numpy()
    point_overrides = [tuple(o) for o in design.overrides]

    def batch_size(left: int) -> int:
        per_run = timing["sum"] / timing["n"] if timing["n"] else timing["estimate"]
        want = math.ceil(task_seconds / max(per_run, 1e-6))
        # Keep enough tasks for every worker to stay busy to the end.
        spread = max(1, math.ceil(left / (4 * n_workers)))
        return max(1, min(want, spread, _MAX_BATCH))

    def tasks() -> Iterator[TaskSpec]:
        left = len(missing)
        for start, stop in _ranges(missing):
            i = start
            while i < stop:
                j = min(stop, i + batch_size(left))
                specs = tuple(
                    RunSpec(r, r // reps, r % reps, int(seeds[r]), point_overrides[r // reps])
                    for r in range(i, j)
                )
                key = f"urbsim-run-{digest}-{session}-{i:07d}-{j - 1:07d}"
                left -= j - i
                yield TaskSpec(key=key, runs=specs, **task_base)
                i = j

    records: dict[int, RunRecord] = {r: rec for r, (_, rec) in done.items()}
    failed0 = sum(1 for rec in records.values() if rec.status != "ok")

    with sweep_progress(n_runs, len(records), failed0, progress, verbosity=verbosity) as update:

        def on_report(report: TaskReport) -> None:
            outcome.tasks += 1
            bad = 0
            for rec in report.records:
                records[rec.run] = rec
                timing["sum"] += rec.wall_seconds
                timing["n"] += 1
                bad += rec.status != "ok"
            update(len(report.records) - bad, bad)

        if missing:
            say(
                f"running {len(missing)} runs: executor {executor}, {n_workers} worker(s) x "
                f"{n_threads} thread(s)"
            )
            ex: Any
            if executor == "serial":
                ex = SerialExecutor(n_threads)
            elif executor == "local":
                ex = PoolExecutor(n_workers, n_threads, start_method)
            elif executor == "dask":
                ex = DaskExecutor(n_workers, n_threads, scheduler)
            else:
                raise ValueError(f"unknown executor {executor!r}")
            try:
                with ex:
                    result = ex.run(tasks(), on_report)
                outcome.infra_errors = result.errors
            except WorkersLost as exc:
                outcome.infra_errors.append(("pool", str(exc)))

    outcome.missing = [r for r in range(n_runs) if r not in records]
    outcome.ok = sum(1 for rec in records.values() if rec.status == "ok")
    outcome.failed = sum(1 for rec in records.values() if rec.status != "ok")
    outcome.failures = [
        (r, _last_line(rec.error)) for r, rec in sorted(records.items()) if rec.status != "ok"
    ]
    if outcome.missing:
        outcome.wall_seconds = time.perf_counter() - started
        return outcome

    _finish(out, sweep, design, runs, records, outcome, executor, n_workers, n_threads, started)
    return outcome


def _last_line(error: str | None) -> str:
    lines = [line for line in (error or "").strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _outcome_from_manifest(out: Path, outcome: SweepOutcome, started: float) -> SweepOutcome:
    manifest = json.loads((out / store.MANIFEST_FILE).read_text(encoding="utf-8"))
    runs = pd.read_parquet(out / store.RUNS_FILE)
    outcome.ok = int((runs["status"] == "ok").sum())
    outcome.failed = int((runs["status"] != "ok").sum())
    outcome.failures = [
        (int(r), _last_line(e))
        for r, s, e in zip(runs["run"], runs["status"], runs["error"], strict=True)
        if s != "ok"
    ]
    outcome.complete = True
    outcome.results_sha256 = manifest["tables"]["results"]["sha256"]
    outcome.wall_seconds = time.perf_counter() - started
    return outcome


def analyse(
    sweep: SweepSpec, design: SweepDesign, summary: pd.DataFrame
) -> tuple[pd.DataFrame | None, list[tuple[str, str]]]:
    """Sensitivity indices of the analysed metrics.

    The output at a design point is the mean of the metric over the point's successful
    replications. A metric whose analysis is impossible (a point with no successful run, an
    output that does not vary) is skipped with the reason.

    Returns
    -------
    indices : pandas.DataFrame or None
        :func:`urbsim.analysis.sensitivity.analyze`'s frame with a ``metric`` column first.
    skipped : list of (str, str)
        Metric and reason.
    """
    from urbsim.analysis.sensitivity import analyze

    spec = sweep.spec
    assert spec.analysis is not None and design.sampled is not None
    method = spec.design.kind
    opts = {k: v for k, v in sample_options(sweep).items() if k != "optimal_trajectories"}
    problem = problem_of(sweep)
    frames = []
    skipped: list[tuple[str, str]] = []
    for metric in spec.analysis.metrics:
        rows = summary[summary["metric"] == metric]
        y = rows.groupby("point")["value"].mean().reindex(range(design.points))
        try:
            df = analyze(
                problem,
                method,  # type: ignore[arg-type]
                design.sampled,
                y.to_numpy(dtype=np.float64),
                seed=analysis_seed(spec.seed),
                num_resamples=spec.analysis.num_resamples,
                conf_level=spec.analysis.conf_level,
                **opts,
            )
        except ValueError as exc:
            skipped.append((metric, str(exc)))
            continue
        df.insert(0, "metric", metric)
        frames.append(df)
    if not frames:
        return None, skipped
    return pd.concat(frames, ignore_index=True), skipped


def _finish(
    out: Path,
    sweep: SweepSpec,
    design: SweepDesign,
    runs: pd.DataFrame,
    records: dict[int, RunRecord],
    outcome: SweepOutcome,
    executor: str,
    n_workers: int,
    n_threads: int,
    started: float,
) -> None:
    """Assemble the final tables and the manifest, then remove the parts."""
    from urbsim.scenario.load import apply_overrides, validate

    parts_dir = out / store.PARTS_DIR
    done = store.scan_parts(parts_dir, len(runs))
    parts = sorted({p for p, _ in done.values()})  # names sort in run order
    rows = store.assemble(parts, out / store.RESULTS_FILE)
    results_hash = store.streamed_hash(out / store.RESULTS_FILE)
    summary = store.filter_metrics(parts)
    store.write_frame(summary, out / store.SUMMARY_FILE)

    table = runs.copy()
    table["status"] = [records[r].status for r in table["run"]]
    table["error"] = pd.Series([records[r].error for r in table["run"]], dtype=object)
    table["wall_seconds"] = [records[r].wall_seconds for r in table["run"]]
    cols = [c for c in table.columns if c != "command"] + ["command"]
    table = table[cols]
    store.write_frame(table, out / store.RUNS_FILE)

    tables = {
        "results": {"rows": rows, "sha256": results_hash},
        "runs": store.hash_frame(table),
        "summary": store.hash_frame(summary),
        "design": store.hash_frame(design.table),
    }
    analysis: dict[str, Any] | None = None
    if sweep.spec.analysis is not None:
        indices, skipped = analyse(sweep, design, summary)
        outcome.analysis_skipped = skipped
        if indices is not None:
            store.write_frame(indices, out / store.INDICES_FILE)
            with store.atomic_path(out / store.INDICES_CSV) as tmp:
                indices.to_csv(tmp, index=False, float_format="%.17g")
            tables["indices"] = store.hash_frame(indices)
        analysis = {
            "method": sweep.spec.design.kind,
            "seed": analysis_seed(sweep.spec.seed),
            "output_at_point": "mean over the point's successful replications",
            "skipped": [{"metric": m, "reason": r} for m, r in skipped],
        }

    base = validate(
        apply_overrides(sweep.base_data, list(sweep.overrides)),
        str(sweep.base_path),
        sweep.base_path.parent,
    )
    wall = time.perf_counter() - started
    env = build_manifest(base, sweep.spec.seed, wall, {})
    manifest = {
        "kind": "urbsim sweep",
        "sweep_path": str(sweep.source),
        "sweep_sha256": sweep.file_sha256,
        "resolved_sha256": sweep.resolved_sha256(),
        "resolved": sweep.resolved(),
        "base_scenario_path": str(sweep.base_path),
        "seeds": {
            "sweep": sweep.spec.seed,
            "design": design_seed(sweep.spec.seed) if design.sampled is not None else None,
            "run": "SeedSequence(sweep, spawn_key=(point, replication))"
            ".generate_state(1, uint64)[0] >> 1",
        },
        "runs": {"total": len(runs), "ok": outcome.ok, "failed": outcome.failed},
        "analysis": analysis,
        "executor": {"kind": executor, "workers": n_workers, "threads": n_threads},
        "tables": tables,
        **{k: env[k] for k in ("urbsim_version", "git", "versions", "platform", "created_utc")},
        "wall_seconds": wall,
    }
    # Written last: a manifest says the sweep folder is complete.
    store.write_json(manifest, out / store.MANIFEST_FILE)
    shutil.rmtree(parts_dir, ignore_errors=True)
    outcome.complete = True
    outcome.results_sha256 = results_hash
    outcome.wall_seconds = wall


def load_sweep_dir(out: Path) -> dict[str, Any]:
    """The tables of a finished sweep folder, for figures and checks.

    Returns
    -------
    dict
        ``design``, ``summary``, ``runs`` and ``indices`` (None when not analysed) DataFrames,
        and ``spec`` (the resolved sweep).

    Raises
    ------
    OutputError
        If the folder is not a complete sweep folder.
    """
    out = Path(out)
    if not out.is_dir():
        raise OutputError(f"{out}: no such folder")
    if not (out / store.MANIFEST_FILE).is_file() or not store.is_sweep_dir(out):
        raise OutputError(f"{out}: not a finished sweep folder (no {store.MANIFEST_FILE})")
    manifest = json.loads((out / store.MANIFEST_FILE).read_text(encoding="utf-8"))
    tables: dict[str, Any] = {"spec": manifest.get("resolved"), "manifest": manifest}
    for key, name in (
        ("design", store.DESIGN_FILE),
        ("summary", store.SUMMARY_FILE),
        ("runs", store.RUNS_FILE),
    ):
        try:
            tables[key] = pd.read_parquet(out / name)
        except (OSError, ValueError) as exc:
            raise OutputError(f"{out / name}: cannot read: {exc}") from None
    indices = out / store.INDICES_FILE
    tables["indices"] = pd.read_parquet(indices) if indices.is_file() else None
    return tables


__all__ = [
    "SweepError",
    "SweepOutcome",
    "analyse",
    "default_out",
    "load_sweep_dir",
    "run_command",
    "run_sweep",
]
