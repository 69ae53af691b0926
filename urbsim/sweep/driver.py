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
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from urbsim import resources
from urbsim.output import (
    OutputError,
    build_manifest,
    check_location,
    read_marker,
    tracked_files,
    write_marker,
)
from urbsim.progress import SweepUpdate, Verbosity, sweep_progress
from urbsim.scenario import LoadedScenario
from urbsim.scenario.schema import Scenario
from urbsim.sweep import store
from urbsim.sweep.design import (
    SweepDesign,
    build_design,
    check_unique_seeds,
    count_points,
    design_seed,
    problem_of,
    run_seeds,
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
#: Driver memory per run, counted by the memory guard: its row of the run table (seed, design
#: values and the command line of runs.parquet, built at the end) and its record.
_DRIVER_BYTES_PER_RUN: Final[int] = 2048
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

    def count(self, records: dict[int, RunRecord]) -> None:
        """Set the counts, the unfinished runs and the failures from the runs' records."""
        self.missing = [r for r in range(self.total) if r not in records]
        self.ok = sum(1 for rec in records.values() if rec.status == "ok")
        self.failed = len(records) - self.ok
        self.failures = [
            (r, _last_line(rec.error)) for r, rec in sorted(records.items()) if rec.status != "ok"
        ]


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


@dataclass(frozen=True)
class SweepPlan:
    """A validated sweep, its design and its run seeds: everything the driver holds.

    Attributes
    ----------
    sweep : SweepSpec
    design : SweepDesign
    seeds : numpy.ndarray
        Seed of every run, in run order.
    cwd : Path
        The folder the sweep was started from (run commands are relative to it).
    """

    sweep: SweepSpec
    design: SweepDesign
    seeds: np.ndarray
    cwd: Path

    @property
    def n_runs(self) -> int:
        """Runs in the sweep."""
        return len(self.seeds)

    @property
    def sweep_id(self) -> str:
        """The resolved sweep's sha256 (its identity in sweep.json and in every part)."""
        return self.sweep.resolved_sha256()

    def run_spec(self, run: int) -> RunSpec:
        """What a worker needs of one run."""
        reps = self.sweep.spec.replications
        point = run // reps
        overrides = tuple(self.design.overrides[point])
        return RunSpec(run, point, run % reps, int(self.seeds[run]), overrides)

    def run_table(self) -> pd.DataFrame:
        """The run table (see :func:`urbsim.sweep.design.run_table`) with each run's command."""
        sweep, design = self.sweep, self.design
        runs = run_table(sweep, design)
        runs["command"] = [
            run_command(sweep.base_path, [*sweep.overrides, *design.overrides[p]], int(s), self.cwd)
            for p, s in zip(runs["point"], runs["seed"], strict=True)
        ]
        return runs


def plan_sweep(path: str | Path, *, large: bool = False, check_memory: bool = True) -> SweepPlan:
    """Read a sweep file, count its runs, draw and validate its design, derive its seeds.

    The runs are counted from the file before the design is drawn: a sweep of more than
    :data:`urbsim.resources.MAX_RUNS` runs needs ``large``, and the driver's own memory for the
    run table is checked before it is built.

    Raises
    ------
    SweepError
        If the sweep file or a design point is invalid.
    ResourceError
        If the sweep is too large (``large`` not given) or its run table would not fit.
    """
    sweep = load_sweep(path)
    n_runs = count_points(sweep) * sweep.spec.replications
    resources.check_run_count(n_runs, str(sweep.source), large)
    if check_memory:
        resources.check_memory(
            n_runs * _DRIVER_BYTES_PER_RUN, f"{sweep.source}: the driver of {n_runs:,} runs"
        )
    design = build_design(sweep)
    seeds = run_seeds(sweep.spec.seed, design.points, sweep.spec.replications)
    check_unique_seeds(seeds, str(sweep.source))
    return SweepPlan(sweep, design, seeds, Path.cwd())


def _min_households_per_agent(plan: SweepPlan, base: Scenario) -> float:
    column = "world.households_per_agent"
    if column in plan.design.table.columns and plan.design.points:
        return float(plan.design.table[column].min())
    return base.world.households_per_agent


def check_resources(
    plan: SweepPlan, executor: ExecutorKind, n_workers: int, n_threads: int, local: bool
) -> str | None:
    """Refuse a sweep whose concurrent runs and run table exceed the available memory.

    ``local``: the runs execute on this machine (not on a remote Dask scheduler's workers,
    whose memory Dask manages). Returns the warning to print when workers x threads exceed the
    cores, else None.

    Raises
    ------
    ResourceError
        With the estimate, the limit and ``--ignore-memory-limit``.
    """
    driver = plan.n_runs * _DRIVER_BYTES_PER_RUN
    if not local:
        resources.check_memory(driver, f"the driver of {plan.n_runs:,} runs")
        return None
    base = _base_scenario(plan.sweep).scenario
    hpa = _min_households_per_agent(plan, base)
    agents = resources.run_agents(base.world.name, base.world.world_file, hpa)
    at_once = 1 if executor == "serial" else n_workers
    need = at_once * resources.run_bytes(agents) + driver
    resources.check_memory(
        need,
        f"{at_once} run(s) at once of up to {agents:,} household agents "
        f"(households_per_agent={hpa:g}) and the driver of {plan.n_runs:,} runs",
    )
    return resources.oversubscription_warning(at_once, n_threads)


def _base_scenario(sweep: SweepSpec) -> LoadedScenario:
    from urbsim.scenario.load import apply_overrides, validate

    data = apply_overrides(sweep.base_data, list(sweep.overrides))
    return validate(data, str(sweep.base_path), sweep.base_path.parent)


class _Batcher:
    """Runs per task: an initial estimate of a run's wall time, then the measured mean."""

    def __init__(self, estimate: float, n_workers: int, task_seconds: float) -> None:
        self.estimate = estimate
        self.n_workers = n_workers
        self.task_seconds = task_seconds
        self.total = 0.0
        self.count = 0

    def observe(self, wall_seconds: float) -> None:
        """Count one finished run's wall time."""
        self.total += wall_seconds
        self.count += 1

    def size(self, left: int) -> int:
        """Runs in the next task when ``left`` runs are still to hand out."""
        per_run = self.total / self.count if self.count else self.estimate
        want = math.ceil(self.task_seconds / max(per_run, 1e-6))
        # Keep enough tasks for every worker to stay busy to the end.
        spread = max(1, math.ceil(left / (4 * self.n_workers)))
        return max(1, min(want, spread, _MAX_BATCH))


def _task_stream(
    plan: SweepPlan, missing: list[int], batcher: _Batcher, base: dict[str, Any]
) -> Iterator[TaskSpec]:
    """Tasks of consecutive missing runs, made one at a time as the executor asks."""
    session = uuid.uuid4().hex[:8]
    digest = plan.sweep_id[:12]
    left = len(missing)
    for start, stop in _ranges(missing):
        i = start
        while i < stop:
            j = min(stop, i + batcher.size(left))
            key = f"urbsim-run-{digest}-{session}-{i:07d}-{j - 1:07d}"
            left -= j - i
            runs = tuple(plan.run_spec(r) for r in range(i, j))
            yield TaskSpec(key=key, runs=runs, **base)
            i = j


def _make_executor(
    kind: ExecutorKind,
    n_workers: int,
    n_threads: int,
    scheduler: str | None,
    start_method: str | None,
    say: Callable[[str], None],
) -> Any:
    if kind == "serial":
        return SerialExecutor(n_threads)
    if kind == "local":
        return PoolExecutor(n_workers, n_threads, start_method)
    if kind == "dask":
        return DaskExecutor(n_workers, n_threads, scheduler, log=say)
    raise ValueError(f"unknown executor {kind!r}")


def _scan(out: Path, plan: SweepPlan, say: Callable[[str], None]) -> dict[int, RunRecord]:
    """Records of the runs finished in ``out``'s parts (damaged parts removed, redone)."""
    parts_dir = out / store.PARTS_DIR
    store.clean_parts(parts_dir)

    def damaged(path: Path) -> None:
        say(f"{path}: damaged part (unreadable or failed checksum) removed; its runs run again")

    done = store.scan_parts(parts_dir, plan.n_runs, plan.sweep_id, verify=True, on_damaged=damaged)
    if done:
        left = plan.n_runs - len(done)
        say(f"resuming: {len(done)} of {plan.n_runs} runs finished, {left} to run")
    return {r: rec for r, (_, rec) in done.items()}


def _execute(
    plan: SweepPlan,
    out: Path,
    missing: list[int],
    records: dict[int, RunRecord],
    ex: Any,
    options: dict[str, Any],
    outcome: SweepOutcome,
    say: Callable[[str], None],
) -> None:
    """Run the missing runs on the (entered) executor; their records go into ``records``."""
    n_workers, n_threads = options["workers"], options["threads"]
    batcher = _Batcher(_initial_estimate(plan.sweep), n_workers, options["task_seconds"])
    for rec in records.values():
        batcher.observe(rec.wall_seconds)
    sweep = plan.sweep
    base = {
        "base_data": sweep.base_data,
        "source": str(sweep.base_path),
        "base_dir": str(sweep.base_path.parent),
        "overrides": sweep.overrides,
        "outputs": sweep.spec.outputs,
        "parts_dir": str(out / store.PARTS_DIR),
        "threads": n_threads,
        "sweep_id": plan.sweep_id,
    }
    failed0 = sum(1 for rec in records.values() if rec.status != "ok")
    with sweep_progress(
        plan.n_runs, len(records), failed0, options["progress"], verbosity=options["verbosity"]
    ) as update:

        def on_report(report: TaskReport) -> None:
            outcome.tasks += 1
            for rec in report.records:
                records[rec.run] = rec
                batcher.observe(rec.wall_seconds)
            bad = sum(rec.status != "ok" for rec in report.records)
            update(len(report.records) - bad, bad)

        kind = options["executor"]
        say(
            f"running {len(missing)} runs: executor {kind}, {n_workers} worker(s) x "
            f"{n_threads} thread(s)"
        )
        try:
            result = ex.run(_task_stream(plan, missing, batcher, base), on_report)
            outcome.infra_errors = result.errors
        except WorkersLost as exc:
            outcome.infra_errors.append(("pool", str(exc)))


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
    large: bool = False,
    ignore_memory_limit: bool = False,
    verbosity: Verbosity = Verbosity.NORMAL,
) -> SweepOutcome:
    """Run a sweep file into the folder ``out`` (default :func:`default_out`).

    Parameters
    ----------
    executor, workers, threads, scheduler
        ``"serial"`` (in this process), ``"local"`` (process pool, ``start_method``
        forkserver by default, else spawn) or ``"dask"`` (a ``LocalCluster``, or the workers
        of the scheduler at ``scheduler``); worker processes and Numba threads per worker, by
        default workers x threads = cores.
    resume, force
        Finish the sweep already in ``out`` (only runs no part holds are run), or delete it
        and start over.
    progress, log, verbosity
        A bar (True), none (False), a bar on a terminal else plain lines (None); ``log``
        receives one-line messages; ``QUIET`` shows no progress, ``VERBOSE`` plain lines.
    task_seconds, large, ignore_memory_limit
        Wanted wall time of a task (runs are batched up to it); allow more than
        :data:`urbsim.resources.MAX_RUNS` runs; run even when memory looks too short.

    Raises
    ------
    SweepError
        If the sweep file or a design point's scenario is invalid (nothing is written).
    OutputError
        If ``out`` cannot be used or written, or a part in it belongs to another sweep.
    ResourceError
        If the sweep is too large or would not fit in memory (nothing is written).
    """
    say = log or (lambda message: None)
    started = time.perf_counter()
    plan = plan_sweep(path, large=large, check_memory=not ignore_memory_limit)
    n_workers, n_threads = default_layout(executor, workers, threads)
    if not ignore_memory_limit:
        local = not (executor == "dask" and scheduler is not None)
        warning = check_resources(plan, executor, n_workers, n_threads, local)
        if warning:
            say(warning)
    out = (Path(out) if out is not None else default_out(plan.sweep.source)).resolve()
    options = dict(executor=executor, workers=n_workers, threads=n_threads)
    options |= dict(task_seconds=task_seconds, progress=progress, verbosity=verbosity)
    outcome = SweepOutcome(out=out, total=plan.n_runs)
    # The executor first: a Dask cluster is connected and its workers' package versions are
    # checked before anything is written.
    with _make_executor(executor, n_workers, n_threads, scheduler, start_method, say) as ex:
        with _disk(out):
            _prepare_dir(out, plan.sweep, resume, force)
            if (out / store.MANIFEST_FILE).is_file():
                say(f"{out}: the sweep is complete already")
                return _outcome_from_manifest(out, outcome, started)
            store.write_frame(plan.design.table, out / store.DESIGN_FILE)
            records = _scan(out, plan, say)
        missing = [r for r in range(plan.n_runs) if r not in records]
        if missing:
            _execute(plan, out, missing, records, ex, options, outcome, say)
    outcome.count(records)
    if outcome.missing:
        outcome.wall_seconds = time.perf_counter() - started
        return outcome
    with _disk(out):
        _finish(out, plan, records, outcome, options, started)
    return outcome


@contextmanager
def _disk(out: Path) -> Iterator[None]:
    """Turn a failed write into the sweep folder (disk full, read-only, no permission) into an
    :class:`OutputError`: the folder stays resumable (parts are written through renames)."""
    try:
        yield
    except OSError as exc:
        where = exc.filename or out
        reason = exc.strerror or str(exc)
        raise OutputError(
            f"{where}: cannot write the sweep folder: {reason}; fix it and run the sweep again "
            "with --resume (finished runs are kept)"
        ) from None


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


def _runs_frame(plan: SweepPlan, records: dict[int, RunRecord]) -> pd.DataFrame:
    """runs.parquet: the run table with status, error (and retries), wall time, command."""
    table = plan.run_table()
    table["status"] = [records[r].status for r in table["run"]]
    table["error"] = pd.Series([_error_text(records[r]) for r in table["run"]], dtype=object)
    table["wall_seconds"] = [records[r].wall_seconds for r in table["run"]]
    cols = [c for c in table.columns if c != "command"] + ["command"]
    return table[cols]


def _error_text(rec: RunRecord) -> str | None:
    # Retries are recorded in the error column: a column of their own would change the
    # committed tables of every experiment (`error` is not compared by `urbsim reproduce`).
    if not rec.retries:
        return rec.error
    note = f"retried {rec.retries} time(s): the worker running it died"
    return note if rec.error is None else f"{note}\n{rec.error}"


def _analysis(
    out: Path,
    plan: SweepPlan,
    summary: pd.DataFrame,
    tables: dict[str, Any],
    outcome: SweepOutcome,
) -> dict[str, Any] | None:
    """Sensitivity indices into ``out`` (when asked for); the manifest's analysis section."""
    sweep = plan.sweep
    if sweep.spec.analysis is None:
        return None
    indices, skipped = analyse(sweep, plan.design, summary)
    outcome.analysis_skipped = skipped
    if indices is not None:
        store.write_frame(indices, out / store.INDICES_FILE)
        with store.atomic_path(out / store.INDICES_CSV) as tmp:
            indices.to_csv(tmp, index=False, float_format="%.17g")
        tables["indices"] = store.hash_frame(indices)
    return {
        "method": sweep.spec.design.kind,
        "seed": analysis_seed(sweep.spec.seed),
        "output_at_point": "mean over the point's successful replications",
        "skipped": [{"metric": m, "reason": r} for m, r in skipped],
    }


def _finish(
    out: Path,
    plan: SweepPlan,
    records: dict[int, RunRecord],
    outcome: SweepOutcome,
    options: dict[str, Any],
    started: float,
) -> None:
    """Assemble the final tables and the manifest, then remove the parts."""
    sweep, design = plan.sweep, plan.design
    parts_dir = out / store.PARTS_DIR
    done = store.scan_parts(parts_dir, plan.n_runs, plan.sweep_id)
    parts = sorted({p for p, _ in done.values()})  # names sort in run order
    rows = store.assemble(parts, out / store.RESULTS_FILE)
    results_hash = store.streamed_hash(out / store.RESULTS_FILE)
    summary = store.filter_metrics(parts)
    store.write_frame(summary, out / store.SUMMARY_FILE)
    table = _runs_frame(plan, records)
    store.write_frame(table, out / store.RUNS_FILE)
    tables = {
        "results": {"rows": rows, "sha256": results_hash},
        "runs": store.hash_frame(table),
        "summary": store.hash_frame(summary),
        "design": store.hash_frame(design.table),
    }
    analysis = _analysis(out, plan, summary, tables, outcome)
    wall = time.perf_counter() - started
    env = build_manifest(_base_scenario(sweep), sweep.spec.seed, wall, {})
    manifest = {
        "kind": "urbsim sweep",
        "sweep_path": str(sweep.source),
        "sweep_sha256": sweep.file_sha256,
        "resolved_sha256": plan.sweep_id,
        "resolved": sweep.resolved(),
        "base_scenario_path": str(sweep.base_path),
        "seeds": {
            "sweep": sweep.spec.seed,
            "design": design_seed(sweep.spec.seed) if design.sampled is not None else None,
            "run": "SeedSequence(sweep, spawn_key=(point, replication))"
            ".generate_state(1, uint64)[0] >> 1",
        },
        "runs": {
            "total": plan.n_runs,
            "ok": outcome.ok,
            "failed": outcome.failed,
            "retried": sum(1 for rec in records.values() if rec.retries),
        },
        "analysis": analysis,
        "executor": {k: options[k] for k in ("workers", "threads")} | {"kind": options["executor"]},
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
    "SweepPlan",
    "analyse",
    "check_resources",
    "default_out",
    "load_sweep_dir",
    "plan_sweep",
    "run_command",
    "run_sweep",
]
