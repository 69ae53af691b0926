"""A sweep folder on disk: its parts, its tables and its manifest.

Layout of ``DIR``::

    .urbsim-output.json  marker: an urbsim sweep folder, the resolved sweep's hash (first)
    sweep.json         resolved sweep and its hash (written next; ``--resume`` checks it)
    design.parquet     point and the value of each parameter
    parts/             one Parquet part per finished task (removed once results are assembled)
    runs.parquet       one row per run: seed, design values, status, error, wall time, command
    results.parquet    tidy rows of every successful run, in run order
    summary.parquet    the metric rows: run, point, replication, metric, year, value
    indices.parquet    sensitivity indices per metric (and indices.csv), when analysed
    manifest.json      hashes, seeds, versions, git commit (written last: the sweep is complete)

Every file is written to a temporary name in the same folder and renamed into place.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from urbsim.output import OutputError, check_replaceable, table_hash, write_table

# The same canonical bytes as urbsim.output.table_hash, so that the streamed hash of a table
# that does not fit in memory equals the hash of the table loaded whole.
from urbsim.output.write import canonical_dtype, column_bytes
from urbsim.sweep.runs import PART_RE, RESULT_SCHEMA, RunRecord, read_part_meta, verify_part

SWEEP_FILE: Final[str] = "sweep.json"
DESIGN_FILE: Final[str] = "design.parquet"
PARTS_DIR: Final[str] = "parts"
RUNS_FILE: Final[str] = "runs.parquet"
RESULTS_FILE: Final[str] = "results.parquet"
SUMMARY_FILE: Final[str] = "summary.parquet"
INDICES_FILE: Final[str] = "indices.parquet"
INDICES_CSV: Final[str] = "indices.csv"
MANIFEST_FILE: Final[str] = "manifest.json"
#: Rows per batch when streaming results.parquet.
_BATCH_ROWS: Final[int] = 1 << 18


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path next to ``path``, renamed to ``path`` when the block ends cleanly."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_json(data: dict[str, Any], path: Path) -> None:
    """Write JSON atomically (sorted keys, indented)."""
    with atomic_path(path) as tmp:
        text = json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False, default=str)
        tmp.write_text(text + "\n", encoding="utf-8")


def write_frame(df: pd.DataFrame, path: Path) -> None:
    """Write a DataFrame as zstd Parquet atomically."""
    with atomic_path(path) as tmp:
        write_table(df, tmp)


def is_sweep_dir(path: Path) -> bool:
    """Whether ``path`` looks like a sweep folder (it has ``sweep.json``), for reading it.

    Committed sweep folders written before output markers have no marker, so reading goes by
    ``sweep.json``; whether a folder may be *replaced* is :func:`check_replaceable`'s call.
    """
    return (path / SWEEP_FILE).is_file()


def read_sweep_json(path: Path) -> dict[str, Any]:
    """The ``sweep.json`` of a sweep folder."""
    try:
        return json.loads((path / SWEEP_FILE).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise OutputError(f"{path / SWEEP_FILE}: cannot read: {exc}") from None


def clean_parts(parts_dir: Path) -> None:
    """Remove temporary files left by tasks that were killed while writing."""
    if parts_dir.is_dir():
        for tmp in parts_dir.glob(".*.tmp"):
            tmp.unlink(missing_ok=True)


class ForeignPartError(OutputError):
    """A part in ``parts/`` that belongs to another sweep (copied in by hand)."""


def _part_records(path: Path, sweep_id: str | None, verify: bool) -> list[RunRecord] | None:
    """A part's records, or None when the part is damaged (unreadable, failed checksum).

    Raises
    ------
    ForeignPartError
        If the part carries another sweep's identity, or none.
    """
    try:
        found, records = read_part_meta(path)
        if verify:
            verify_part(path)
    except (OSError, KeyError, ValueError, TypeError, pa.ArrowException):
        return None
    if sweep_id is not None and found != sweep_id:
        whose = f"sweep {found[:12]}" if found else "no sweep identity"
        raise ForeignPartError(
            f"{path}: part of another sweep ({whose}; this sweep is {sweep_id[:12]}); "
            "remove it and resume"
        )
    return records


def scan_parts(
    parts_dir: Path,
    n_runs: int,
    sweep_id: str | None = None,
    *,
    verify: bool = False,
    on_damaged: Callable[[Path], None] | None = None,
) -> dict[int, tuple[Path, RunRecord]]:
    """The finished runs: run id to (part, record), from the parts on disk.

    A damaged part (truncated, not Parquet, a failed page checksum when ``verify``) is deleted
    and reported to ``on_damaged``: its runs count as unfinished and are run again. urbsim
    writes parts through a rename, so only damage after the fact produces one.

    Raises
    ------
    ForeignPartError
        If a part belongs to another sweep than ``sweep_id`` (when given).
    OutputError
        If a part names runs outside the sweep or overlaps another part (never written by
        urbsim: the folder was changed by hand).
    """
    done: dict[int, tuple[Path, RunRecord]] = {}
    if not parts_dir.is_dir():
        return done
    for path in sorted(parts_dir.iterdir()):
        m = PART_RE.match(path.name)
        if m is None:
            continue
        first, last = int(m.group(1)), int(m.group(2))
        records = _part_records(path, sweep_id, verify)
        if records is None:
            path.unlink(missing_ok=True)
            if on_damaged is not None:
                on_damaged(path)
            continue
        ids = [r.run for r in records]
        if ids != list(range(first, last + 1)) or last >= n_runs:
            raise OutputError(f"{path}: its runs do not match its name; delete it and resume")
        for r in records:
            if r.run in done:
                raise OutputError(
                    f"{path}: run {r.run} is also in {done[r.run][0].name}; delete one and resume"
                )
            done[r.run] = (path, r)
    return done


#: Rows gathered before a row group of ``results.parquet`` is written: one group per part
#: would make a sweep of many small runs mostly metadata (1,792 runs of 4 metrics: 3 MB).
ROW_GROUP_ROWS: Final[int] = 1 << 20


def assemble(parts: list[Path], out: Path) -> int:
    """Concatenate parts (given in run order) into one Parquet file, holding at most about
    :data:`ROW_GROUP_ROWS` rows (plus one part) in memory. Returns the number of rows."""
    rows = 0
    pending: list[pa.Table] = []
    pending_rows = 0
    with atomic_path(out) as tmp:
        with pq.ParquetWriter(tmp, RESULT_SCHEMA, compression="zstd") as writer:
            for part in parts:
                table = pq.read_table(part, schema=RESULT_SCHEMA).replace_schema_metadata(None)
                rows += table.num_rows
                pending.append(table)
                pending_rows += table.num_rows
                if pending_rows >= ROW_GROUP_ROWS:
                    writer.write_table(pa.concat_tables(pending), row_group_size=ROW_GROUP_ROWS)
                    pending, pending_rows = [], 0
            if pending:
                writer.write_table(pa.concat_tables(pending), row_group_size=ROW_GROUP_ROWS)
    return rows


def streamed_hash(path: Path) -> str:
    """:func:`urbsim.output.table_hash` of a Parquet file as pandas reads it, computed column
    by column in batches so that memory stays flat whatever the file's size."""
    pf = pq.ParquetFile(path)
    names = pf.schema_arrow.names
    h = hashlib.sha256()

    def batches(name: str) -> Iterator[pd.Series]:
        for batch in pf.iter_batches(batch_size=_BATCH_ROWS, columns=[name]):
            yield batch.to_pandas()[name]

    # dtype as pandas gives it, from an empty read of the schema.
    empty = pf.schema_arrow.empty_table().to_pandas()
    header = {
        "columns": [[str(n), canonical_dtype(empty[n])] for n in names],
        "rows": pf.metadata.num_rows,
    }
    h.update(json.dumps(header, separators=(",", ":"), ensure_ascii=True).encode())
    for name in names:
        length = sum(len(column_bytes(s)) for s in batches(name))
        h.update(struct.pack("<Q", length))
        for s in batches(name):
            h.update(column_bytes(s))
    return h.hexdigest()


def filter_metrics(parts: list[Path]) -> pd.DataFrame:
    """The metric rows of the parts: ``run, point, replication, metric, year, value``."""
    frames = []
    for part in parts:
        t = pq.read_table(part, filters=[("kind", "=", "metric")], schema=RESULT_SCHEMA)
        frames.append(t.replace_schema_metadata(None).to_pandas())
    cols = ["run", "point", "replication", "name", "year", "value"]
    if not frames:
        df = RESULT_SCHEMA.empty_table().to_pandas()[cols]
    else:
        df = pd.concat(frames, ignore_index=True)[cols]
    return df.rename(columns={"name": "metric"}).reset_index(drop=True)


def hash_frame(df: pd.DataFrame) -> dict[str, Any]:
    """Row count and data hash of a table, for the manifest."""
    return {"rows": len(df), "sha256": table_hash(df)}


def remove_tree(path: Path) -> None:
    """Delete a sweep folder that urbsim wrote (and nothing else).

    Raises
    ------
    OutputError
        If ``path`` is not a sweep folder carrying urbsim's marker, or holds files tracked by
        git (:func:`urbsim.output.check_replaceable`).
    """
    check_replaceable(path, "sweep")
    shutil.rmtree(path)
