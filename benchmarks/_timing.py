"""Shared helpers of the benchmark scripts (not part of the package; never imported by tests).

* statistics of repeats (:func:`median`, :func:`summary`);
* memory: peak RSS of this process (:func:`peak_rss_bytes`) and net/peak Python allocations of
  one call under ``tracemalloc`` (:func:`traced`);
* a timed model (:func:`timed_model_class`): a subclass of
  :class:`urbsim.model.UrbanizationModel` that times the phases of :meth:`step` around the
  library's own methods, without changing them, and :func:`measure_run`, one timed run;
* workers in fresh subprocesses (:func:`run_worker`), so that Numba's cache, compilation and
  peak RSS can be controlled per measurement;
* machine information and JSON writing (:func:`machine_info`, :func:`write_json`).

``urbsim`` (and so Numba) is imported lazily: the parent process of a benchmark never compiles a
kernel, so the state of the Numba cache a worker sees is the one the parent set up.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"
RESULTS = Path(__file__).resolve().parent / "results"

#: Phases of a year timed by :func:`timed_model_class` (seconds per year).
PHASES = ("household", "shared", "count", "record", "step")


# --- statistics ---------------------------------------------------------------------------------
def median(values: Iterable[float]) -> float:
    """Median of the values (NaN when there are none)."""
    vals = [float(v) for v in values]
    return statistics.median(vals) if vals else float("nan")


def summary(values: Iterable[float]) -> dict[str, float | int]:
    """Median, minimum, maximum and count of the values."""
    vals = [float(v) for v in values]
    if not vals:
        return {"median": float("nan"), "min": float("nan"), "max": float("nan"), "n": 0}
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals), "n": len(vals)}


def ns_per(seconds: float, units: float) -> float:
    """Nanoseconds per unit (household-year) of ``seconds``."""
    return seconds / units * 1e9 if units else float("nan")


# --- memory -------------------------------------------------------------------------------------
def peak_rss_bytes() -> int:
    """Peak resident set size of this process so far (``ru_maxrss`` is KiB on Linux)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


def traced(fn: Callable[[], Any]) -> tuple[Any, int, int]:
    """``fn()`` under ``tracemalloc``: its result, the bytes it left allocated and its peak.

    Sees allocations through Python's allocators, numpy arrays included; memory that Numba
    kernels allocate themselves (NRT) is not seen.
    """
    gc.collect()
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    tracemalloc.reset_peak()
    before, _ = tracemalloc.get_traced_memory()
    try:
        result = fn()
        gc.collect()
        after, peak = tracemalloc.get_traced_memory()
    finally:
        if started:
            tracemalloc.stop()
    return result, after - before, peak - before


# --- the timed model ----------------------------------------------------------------------------
_TIMED: type | None = None


def timed_model_class() -> type:
    """``TimedModel(loaded, world=None, *, trace_engine=False)``: the model, with its phases timed.

    During :meth:`step` the wrapped phases write seconds into ``model.current``:
    ``household`` (the engine's ``step``: all household behaviour of the year), ``shared``
    (``_start_year_updates``: policy, places and governments), ``count`` (``_count``) and
    ``record`` (``_record``). The calls made while the model is built are not timed per year;
    building the engine is timed (``engine_build_s``) and, with ``trace_engine``, traced
    (``engine_traced = (retained_bytes, peak_bytes)``).
    """
    global _TIMED
    if _TIMED is not None:
        return _TIMED
    from urbsim.model import UrbanizationModel

    class TimedModel(UrbanizationModel):
        def __init__(self, loaded: Any, world: Any = None, *, trace_engine: bool = False) -> None:
            self._timing_on = False
            self._trace_engine = trace_engine
            self.current: dict[str, float] = {}
            self.engine_build_s = float("nan")
            self.engine_traced: tuple[int, int] | None = None
            super().__init__(loaded, world)
            inner = self.engine.step

            def timed_engine_step(*args: Any) -> Any:
                # The year's household rows and living households (rows of dissolved
                # households stay, at a small cost): per-year costs are divided by these.
                persons = args[1].as_dict()["persons"]
                self.current["rows"] = int(persons.shape[0])
                self.current["alive"] = int(np.count_nonzero(persons))
                t = time.perf_counter()
                out = inner(*args)
                self.current["household"] = time.perf_counter() - t
                return out

            self.engine.step = timed_engine_step
            self._timing_on = True

        def _make_engine(self, name: str) -> Any:
            def make() -> Any:
                return UrbanizationModel._make_engine(self, name)

            t = time.perf_counter()
            if self._trace_engine:
                engine, retained, peak = traced(make)
                self.engine_traced = (retained, peak)
            else:
                engine = make()
            self.engine_build_s = time.perf_counter() - t
            return engine

        def _start_year_updates(self, first: bool = False) -> None:
            if first or not self._timing_on:
                return super()._start_year_updates(first)
            t = time.perf_counter()
            super()._start_year_updates(first)
            self.current["shared"] = time.perf_counter() - t
            return None

        def _count(self) -> None:
            if not self._timing_on:
                return super()._count()
            t = time.perf_counter()
            super()._count()
            self.current["count"] = time.perf_counter() - t
            return None

        def _record(self) -> None:
            if not self._timing_on:
                return super()._record()
            t = time.perf_counter()
            super()._record()
            self.current["record"] = time.perf_counter() - t
            return None

    _TIMED = TimedModel
    return TimedModel


def load_baseline(hpa: float | None = None, engine: str = "numba") -> Any:
    """``scenarios/baseline.toml`` with ``world.households_per_agent`` and the engine set."""
    from urbsim.scenario import load_scenario

    overrides = [] if hpa is None else [f"world.households_per_agent={float(hpa)!r}"]
    return load_scenario(BASELINE, overrides, engine=engine)


def measure_run(
    loaded: Any,
    years: int | None = None,
    *,
    trace_engine: bool = False,
    keep_model: bool = False,
    progress: Callable[[int, float], None] | None = None,
) -> dict[str, Any]:
    """One timed run: build the world and the model, step ``years`` years (all when None), build
    the national and places tables.

    Returns the seconds of each part (``world_s``, ``init_s`` with ``engine_build_s`` inside it,
    ``steps_s``, ``tables_s`` and their sum ``run_s``), one dict of phase seconds per year
    (``years``), the household count, the household arrays' bytes, the national table
    (``national``) and, with ``keep_model``, the model. ``progress(year, seconds)`` is called
    after each year.
    """
    from urbsim.model import build_world

    cls = timed_model_class()
    t0 = time.perf_counter()
    world = build_world(loaded)
    t1 = time.perf_counter()
    peak_world = peak_rss_bytes()
    model = cls(loaded, world, trace_engine=trace_engine)
    # The model drops the start's household arrays once they grow; a name kept here would
    # hold them for the whole run and overstate the run's peak memory.
    del world
    t2 = time.perf_counter()
    peak_init = peak_rss_bytes()
    n_years = model.end_year - model.start_year if years is None else years
    if not 0 < n_years <= model.end_year - model.start_year:
        raise ValueError(f"years must be 1..{model.end_year - model.start_year}, got {n_years}")
    per_year = []
    for _ in range(n_years):
        model.current = {}
        t = time.perf_counter()
        model.step()
        step_s = time.perf_counter() - t
        per_year.append(
            {
                "year": int(model.year),
                **model.current,
                "step": step_s,
                "peak_rss_bytes": peak_rss_bytes(),
            }
        )
        if progress is not None:
            progress(int(model.year), step_s)
    t3 = time.perf_counter()
    national = model.national_table()
    model.places_table()
    t4 = time.perf_counter()
    out: dict[str, Any] = {
        "n_households": len(model.households),
        "n_places": int(model.n_places),
        "first_year": int(model.start_year),
        "last_year": int(model.year),
        "n_years": n_years,
        "world_s": t1 - t0,
        "init_s": t2 - t1,
        "engine_build_s": model.engine_build_s,
        "steps_s": t3 - t2,
        "tables_s": t4 - t3,
        "run_s": t4 - t0,
        "years": per_year,
        # The process's peak so far at the end of each phase (the year's in ``years``): where
        # the run's peak is reached.
        "peak_rss_after_world_bytes": peak_world,
        "peak_rss_after_init_bytes": peak_init,
        "household_arrays_bytes": int(model.households.nbytes),
        "engine_traced": model.engine_traced,
        "national": national,
    }
    if keep_model:
        out["model"] = model
    else:
        del model
        gc.collect()
    return out


def measure_state_memory(loaded: Any) -> dict[str, Any]:
    """Memory of the household state of a freshly built model (no year is simulated).

    ``household_arrays_bytes`` are the model's household arrays (the Numba engine's state; the
    Mesa engine keeps a mirror of them); ``engine_retained_bytes`` / ``engine_peak_bytes`` are
    what building the engine left allocated / allocated at most, under ``tracemalloc`` (the Mesa
    engine's agents; the Numba engine's per-household flag).
    """
    from urbsim.model import build_world

    cls = timed_model_class()
    world = build_world(loaded)
    model = cls(loaded, world, trace_engine=True)
    retained, peak = model.engine_traced
    out = {
        "n_households": len(model.households),
        "household_arrays_bytes": int(model.households.nbytes),
        "engine_retained_bytes": int(retained),
        "engine_peak_bytes": int(peak),
        "engine_build_traced_s": model.engine_build_s,
    }
    del model, world
    gc.collect()
    return out


def numba_runtime() -> dict[str, Any]:
    """Numba's thread count and threading layer in this process (after a parallel kernel ran)."""
    import numba

    try:
        layer = numba.threading_layer()
    except ValueError:
        layer = f"not yet chosen (requested: {numba.config.THREADING_LAYER})"
    return {
        "numba_threads": int(numba.get_num_threads()),
        "numba_config_threads": int(numba.config.NUMBA_NUM_THREADS),
        "numba_threading_layer": layer,
        "numba_cache_dir": os.environ.get("NUMBA_CACHE_DIR", "(default: __pycache__)"),
    }


# --- workers in fresh subprocesses --------------------------------------------------------------
def run_worker(
    script: Path, spec: dict[str, Any], env: dict[str, str] | None = None
) -> dict[str, Any]:
    """Run ``script --worker SPEC`` in a fresh interpreter and return the JSON it wrote.

    The worker writes its result to ``spec["out"]`` (set here); ``process_wall_s`` (interpreter
    start to exit, as seen from here) is added. ``env`` entries are added to this environment.
    """
    with tempfile.TemporaryDirectory(prefix="urbsim-bench-") as tmp:
        out = Path(tmp) / "result.json"
        spec = {**spec, "out": str(out)}
        full_env = {**os.environ, **(env or {})}
        load_before = load_average()
        t = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, str(script), "--worker", json.dumps(spec)],
            env=full_env,
            cwd=ROOT,
            check=False,
        )
        wall = time.perf_counter() - t
        if proc.returncode != 0:
            raise RuntimeError(f"benchmark worker failed ({proc.returncode}): {spec}")
        result = json.loads(out.read_text())
    result["process_wall_s"] = wall
    # On a shared machine the load says how far the times can be trusted: record it per run.
    result["load_average_before"] = load_before
    result["load_average_after"] = load_average()
    return result


def load_average() -> list[float] | None:
    """The 1-, 5- and 15-minute load averages of the machine (None where unknown)."""
    return list(os.getloadavg()) if hasattr(os, "getloadavg") else None


def load_summary(runs: list[dict[str, Any]], cpus: int | None) -> dict[str, Any]:
    """The load the runs saw: the 1-minute load average before and after each run, its
    largest value, and whether the machine was busier than the runs themselves can make it
    (more than ``cpus`` runnable threads: the benchmark's own threads are at most ``cpus``).
    """
    pairs = [(r.get("load_average_before"), r.get("load_average_after")) for r in runs]
    ones = [x[0] for pair in pairs for x in pair if x]
    peak = max(ones) if ones else None
    return {
        "one_minute_before_after_each_run": [
            [None if x is None else x[0] for x in pair] for pair in pairs
        ],
        "one_minute_max": peak,
        "busy": None if peak is None or cpus is None else peak > cpus,
    }


def write_worker_result(spec: dict[str, Any], result: dict[str, Any]) -> None:
    """Write a worker's result where :func:`run_worker` expects it."""
    Path(spec["out"]).write_text(json.dumps(result, default=_json_default))


# --- machine information and output -------------------------------------------------------------
def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def machine_info() -> dict[str, Any]:
    """CPU, cores, Numba threading settings, versions and the git commit of this checkout.

    The threading layer actually used is known only in a process that ran a parallel kernel;
    the benchmark scripts fill it in from their workers (:func:`numba_runtime`).
    """
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = None
    import numba  # cheap: imports, compiles nothing

    status = _git("status", "--porcelain", "--untracked-files=no")
    return {
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpus_available": affinity,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": {
            name: _version(name)
            for name in ("urbsim", "numba", "numpy", "mesa", "pandas", "llvmlite")
        },
        "numba_config_threads": int(numba.config.NUMBA_NUM_THREADS),
        "numba_threading_layer_requested": str(numba.config.THREADING_LAYER),
        "env": {
            k: os.environ[k]
            for k in ("NUMBA_NUM_THREADS", "NUMBA_THREADING_LAYER", "OMP_NUM_THREADS")
            if k in os.environ
        },
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": None if status is None else bool(status),
        "load_average_at_start": load_average(),
        "timestamp_utc": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "item"):  # numpy scalars
        return obj.item()
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serializable: {type(obj).__name__}")


def write_json(path: Path, payload: dict[str, Any]) -> Path:
    """Write ``payload`` as indented JSON (creating the folder); returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, default=_json_default) + "\n")
    return path


def write_results(
    name: str,
    quick: bool,
    fields: dict[str, Any],
    load_before: list[float] | None,
    out: Path | None = None,
) -> Path:
    """Write benchmark ``name``'s figures with the machine and the load average before and
    after them, to ``out`` or ``benchmarks/results/<name>.json`` (``<name>_quick.json`` for a
    smoke run); returns the path."""
    payload = {
        "benchmark": name,
        "quick": quick,
        **fields,
        "machine": machine_info(),
        "load_average_before": load_before,
        "load_average_after": load_average(),
    }
    default = (
        Path(__file__).resolve().parent / "results" / f"{name}{'_quick' if quick else ''}.json"
    )
    return write_json(out or default, payload)


def set_overrides(row: Any) -> list[str]:
    """``--set`` overrides of a parameter-set row (a pandas Series with a ``name`` column, as in
    ``experiments/calibration/probe_sets*.csv``)."""
    return [f"{k}={float(v)!r}" for k, v in row.drop("name").items()]


def table(rows: list[list[str]], header: list[str]) -> str:
    """A plain text table, right-aligned except the first column."""
    cells = [header, *rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = []
    for k, r in enumerate(cells):
        parts = [r[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True)
        ]
        lines.append("  ".join(parts))
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def fmt(value: float | None, digits: int = 1) -> str:
    """A number for a table ('-' for missing)."""
    if value is None or value != value:
        return "-"
    return f"{value:,.{digits}f}"
