"""Worker side of a sweep: run a batch of runs and write their rows as one Parquet part.

A task is a contiguous range of runs. Its worker builds each run's scenario from the base table,
the sweep's overrides, the run's design values and its seed (the same steps as
``urbsim run BASE --set ... --seed S``), simulates it, keeps the outputs the sweep asks for as
tidy rows, and writes them to ``parts/part-<first>-<last>.parquet`` through a temporary name
and a rename, so a part on disk is always complete. A run that raises is recorded with its
traceback and the task goes on. The part's Parquet metadata holds the record of every run in
it (status, error, wall time): the part alone says which runs are finished.
"""

from __future__ import annotations

import json
import os
import re
import time
import traceback
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from urbsim.analysis.indicators import zipf_exponent
from urbsim.sweep.spec import Outputs
from urbsim.world.base import SIZE_CLASSES

#: Schema of ``results.parquet`` and of every part, in column order.
RESULT_SCHEMA: Final[pa.Schema] = pa.schema(
    [
        ("run", pa.int64()),
        ("point", pa.int64()),
        ("replication", pa.int64()),
        ("kind", pa.string()),
        ("name", pa.string()),
        ("year", pa.int64()),
        ("place_id", pa.int64()),
        ("value", pa.float64()),
    ]
)
#: Parquet metadata key of a part's run records.
RECORDS_KEY: Final[bytes] = b"urbsim.runs"
#: Parquet metadata key of the identity of the sweep a part belongs to (the resolved sweep's
#: sha256): ``--resume`` refuses a part copied in from another sweep.
SWEEP_KEY: Final[bytes] = b"urbsim.sweep"
PART_RE: Final[re.Pattern[str]] = re.compile(r"^part-(\d{7})-(\d{7})\.parquet$")


def part_name(first: int, last: int) -> str:
    """File name of the part holding runs ``first`` to ``last`` (inclusive)."""
    return f"part-{first:07d}-{last:07d}.parquet"


@dataclass(frozen=True)
class RunSpec:
    """One run of a task."""

    run: int
    point: int
    replication: int
    seed: int
    overrides: tuple[str, ...]


@dataclass(frozen=True)
class TaskSpec:
    """A batch of consecutive runs, everything a worker needs (no file is read but the world).

    Attributes
    ----------
    key : str
        Unique key (it names the Dask task).
    runs : tuple of RunSpec
        Consecutive runs.
    base_data, source, base_dir
        The base scenario table (``extends`` merged), its path and folder.
    overrides : tuple of str
        The sweep's overrides, applied before each run's.
    outputs : Outputs
        What to keep.
    parts_dir : str
        Folder of the parts (absolute).
    threads : int
        Numba threads for the runs.
    sweep_id : str
        The resolved sweep's sha256, written into the part.
    retries : int
        How many times the task was resubmitted after its worker died (recorded per run).
    """

    key: str
    runs: tuple[RunSpec, ...]
    base_data: dict[str, Any]
    source: str
    base_dir: str
    overrides: tuple[str, ...]
    outputs: Outputs
    parts_dir: str
    threads: int
    sweep_id: str = ""
    retries: int = 0


@dataclass(frozen=True)
class RunRecord:
    """What happened to a run."""

    run: int
    status: str  # "ok" or "failed"
    error: str | None
    wall_seconds: float
    #: Times the run's task was resubmitted after its worker died (Dask).
    retries: int = 0


@dataclass(frozen=True)
class TaskReport:
    """A finished task: its part and its runs' records."""

    key: str
    part: str
    records: tuple[RunRecord, ...]


# ---------------------------------------------------------------------------------------------
# Outputs of one run as tidy rows
# ---------------------------------------------------------------------------------------------
def _cat(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0)


def tidy_outputs(
    national: pd.DataFrame, places: pd.DataFrame, outputs: Outputs, run: RunSpec
) -> pa.Table:
    """The rows a sweep keeps of one run: metrics, national series, place columns.

    Rows come in a fixed order: metrics in file order; national columns in file order, each
    over the years; place columns in file order, each by year then place id.
    """
    kinds: list[str] = []
    names: list[str] = []
    years: list[np.ndarray] = []
    place_ids: list[np.ndarray] = []
    values: list[np.ndarray] = []

    def add(kind: str, name: str, year: np.ndarray, place: np.ndarray, value: np.ndarray) -> None:
        kinds.extend([kind] * len(value))
        names.extend([name] * len(value))
        years.append(np.asarray(year, dtype=np.int64))
        place_ids.append(np.asarray(place, dtype=np.int64))
        values.append(np.asarray(value, dtype=np.float64))

    national = national.sort_values("year", kind="stable")
    by_year = national.set_index("year")
    none = np.array([-1], dtype=np.int64)
    for name, metric in outputs.metrics.items():
        if metric.column is not None:
            value = float(by_year.loc[metric.year, metric.column])
        else:
            value = float(
                zipf_exponent(places[places["year"] == metric.year])["zipf_exponent"].iloc[0]
            )
        add("metric", name, np.array([metric.year]), none, np.array([value]))
    nyears = national["year"].to_numpy()
    for col in outputs.national:
        add("national", col, nyears, np.full(len(nyears), -1), national[col].to_numpy())
    if outputs.places:
        kept = places[places["year"].isin(outputs.years)].sort_values(
            ["year", "place_id"], kind="stable"
        )
        for col in outputs.places:
            if col == "size_class_code":
                # The places table holds the class name; a sweep keeps numbers: the index
                # into SIZE_CLASSES (0 super-large ... 5 small).
                value = kept["size_class"].map({c: i for i, c in enumerate(SIZE_CLASSES)})
            else:
                value = kept[col]
            add("places", col, kept["year"].to_numpy(), kept["place_id"].to_numpy(), value)
    n = len(kinds)
    return pa.table(
        {
            "run": pa.array(np.full(n, run.run, dtype=np.int64)),
            "point": pa.array(np.full(n, run.point, dtype=np.int64)),
            "replication": pa.array(np.full(n, run.replication, dtype=np.int64)),
            "kind": pa.array(kinds, type=pa.string()),
            "name": pa.array(names, type=pa.string()),
            "year": pa.array(_cat(years).astype(np.int64)),
            "place_id": pa.array(_cat(place_ids).astype(np.int64)),
            "value": pa.array(_cat(values).astype(np.float64)),
        },
        schema=RESULT_SCHEMA,
    )


# ---------------------------------------------------------------------------------------------
# Tasks
# ---------------------------------------------------------------------------------------------
def scenario_for(task: TaskSpec, run: RunSpec):  # -> LoadedScenario
    """The validated scenario of a run, built as ``urbsim run BASE --set ... --seed S`` does."""
    from urbsim.scenario.load import apply_overrides, validate

    data = apply_overrides(task.base_data, [*task.overrides, *run.overrides])
    data["seed"] = run.seed
    return validate(data, task.source, Path(task.base_dir))


def _one_run(task: TaskSpec, run: RunSpec) -> tuple[pa.Table | None, RunRecord]:
    from urbsim.runner import simulate

    start = time.perf_counter()
    try:
        # The driver checked the memory of all concurrent runs before starting: a run alone
        # would see its siblings' memory as taken.
        scenario = scenario_for(task, run)
        result = simulate(scenario, until=task.outputs.until, check_memory=False)
        table = tidy_outputs(result.national, result.places, task.outputs, run)
    except Exception:
        # Any failure of a run is the run's result: record it and go on with the next.
        wall = time.perf_counter() - start
        return None, RunRecord(run.run, "failed", traceback.format_exc(), wall, task.retries)
    return table, RunRecord(run.run, "ok", None, time.perf_counter() - start, task.retries)


def write_part(
    tables: list[pa.Table], records: list[RunRecord], path: Path, sweep_id: str = ""
) -> None:
    """Write a part atomically: a temporary name in the same folder, then a rename.

    The metadata holds the run records and the sweep's identity; pages carry CRC checksums so
    that a part damaged on disk is found when it is read back.
    """
    table = pa.concat_tables(tables) if tables else RESULT_SCHEMA.empty_table()
    meta = {
        RECORDS_KEY: json.dumps([asdict(r) for r in records]).encode(),
        SWEEP_KEY: sweep_id.encode(),
    }
    table = table.replace_schema_metadata(meta)
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")
    try:
        pq.write_table(table, tmp, compression="zstd", write_page_checksum=True)
        # fsync before the rename: after a crash a part on disk is complete, not just named.
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def execute_task(task: TaskSpec) -> TaskReport:
    """Run a task's runs and write their part; return the records (small, for the driver).

    Sets the Numba thread count of the calling thread for the task's runs (Numba's count is
    per thread, so this is right in a process-pool worker and in a Dask worker thread alike)
    and limits the BLAS thread pools to the same count, restoring both after. The BLAS limit
    is per process: in a Dask worker with several task threads the tasks share it, and one
    that ends restores it under the others (their speed changes, not their results: the one
    BLAS-heavy step, the destination constants' fit, holds itself to one thread).
    """
    import numba
    from threadpoolctl import threadpool_limits

    threads = max(1, min(task.threads, numba.config.NUMBA_NUM_THREADS))
    previous = numba.get_num_threads()
    tables: list[pa.Table] = []
    records: list[RunRecord] = []
    try:
        numba.set_num_threads(threads)
        # OpenBLAS starts a thread per core in every worker: workers x cores threads that
        # spin for work on a machine the workers fill made a calibration wave's runs 2.2 times
        # slower (16 census runs, 2 workers on 2 cores: 209 s of run time against 96 s).
        with threadpool_limits(limits=threads, user_api="blas"):
            for run in task.runs:
                table, record = _one_run(task, run)
                if table is not None:
                    tables.append(table)
                records.append(record)
    finally:
        numba.set_num_threads(previous)
    path = Path(task.parts_dir) / part_name(task.runs[0].run, task.runs[-1].run)
    write_part(tables, records, path, task.sweep_id)
    return TaskReport(task.key, str(path), tuple(records))


def read_part_records(path: Path) -> list[RunRecord]:
    """The run records stored in a part's metadata."""
    return read_part_meta(path)[1]


def read_part_meta(path: Path) -> tuple[str | None, list[RunRecord]]:
    """The sweep identity (None when the part has none) and run records of a part.

    Raises
    ------
    OSError, KeyError, ValueError, TypeError, pyarrow.ArrowException
        If the part is not a readable Parquet file with urbsim's metadata.
    """
    meta = pq.read_schema(path).metadata or {}
    records = [RunRecord(**r) for r in json.loads(meta[RECORDS_KEY])]
    sweep = meta.get(SWEEP_KEY)
    return (sweep.decode() if sweep is not None else None), records


def verify_part(path: Path) -> None:
    """Read a part whole with page checksums verified (a damaged part raises)."""
    pq.read_table(path, schema=RESULT_SCHEMA, page_checksum_verification=True)
