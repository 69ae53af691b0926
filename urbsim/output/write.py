"""Writing a run to disk: the Parquet tables, a manifest and the figures, all or nothing.

A run folder is built in a hidden temporary sibling and swapped into place only when everything
in it has been written, so a reader never sees a half-written run and a failed run never damages
the previous one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata
import json
import os
import platform
import shutil
import struct
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from urbsim.output.columns import FLOWS, NATIONAL, PLACES, Column, by_name, field_metadata
from urbsim.output.marker import OutputError, check_location, check_replaceable, write_marker
from urbsim.scenario import LoadedScenario

#: File names inside a run folder.
NATIONAL_FILE = "national.parquet"
PLACES_FILE = "places.parquet"
FLOWS_FILE = "flows.parquet"
MANIFEST_FILE = "manifest.json"
FIGURES_DIR = "figures"

#: Distributions whose versions go into the manifest (their output can change the results).
_VERSIONED = ("mesa", "numpy", "numba", "pandas", "pyarrow", "seaborn", "pydantic", "matplotlib")


# ---------------------------------------------------------------------------------------------
# Atomic folders
# ---------------------------------------------------------------------------------------------
def replace_dir(
    out_dir: Path,
    fill: Callable[[Path], None],
    *,
    start_from: Path | None = None,
    keep_failed: bool = False,
) -> Path:
    """Build a folder with ``fill`` in a temporary sibling, then swap it in for ``out_dir``.

    Parameters
    ----------
    out_dir
        The folder to create or replace.
    fill
        Writes the folder's content into the (existing, empty) folder it is given.
    start_from
        A temporary sibling left by an interrupted build (a killed process's): renamed to this
        process's temporary folder and given to ``fill`` with what it holds, instead of an
        empty folder. The caller checks that it is one and that its process is gone.
    keep_failed
        When ``fill`` raises an ``Exception``: leave the temporary folder where it is (to be
        inspected or continued) instead of removing it; ``out_dir`` is untouched either way.

    Returns
    -------
    Path
        ``out_dir``.

    Notes
    -----
    This replaces whatever is at ``out_dir``: callers decide first whether it may be replaced
    (:func:`urbsim.output.check_replaceable`). The temporary folder is a sibling so that the
    final renames stay on one file system and are atomic. The previous folder is renamed aside
    before the new one is renamed in, and deleted only after; between the two renames
    ``out_dir`` briefly does not exist (POSIX has no portable atomic exchange of two folders).
    Any exception, including ``KeyboardInterrupt``, removes the temporary folder (unless
    ``keep_failed`` and an ``Exception`` from ``fill``) and leaves the previous ``out_dir`` as
    it was.
    """
    out_dir = Path(out_dir)
    parent = out_dir.parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = parent / f".{out_dir.name}.tmp-{os.getpid()}"
    aside = parent / f".{out_dir.name}.old-{os.getpid()}"
    # Left over from a crashed run of a process that had the same id: not ours to keep.
    for stale in (tmp, aside):
        if stale.exists() and stale != start_from:
            shutil.rmtree(stale)
    if start_from is None:
        tmp.mkdir()
    elif start_from != tmp:
        Path(start_from).rename(tmp)
    try:
        fill(tmp)
    except Exception:
        if not keep_failed:
            shutil.rmtree(tmp, ignore_errors=True)
        raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    try:
        if out_dir.exists():
            out_dir.rename(aside)
            try:
                tmp.rename(out_dir)
            except BaseException:
                aside.rename(out_dir)
                raise
            shutil.rmtree(aside, ignore_errors=True)
        else:
            tmp.rename(out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


# ---------------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------------
def write_table(df: pd.DataFrame, path: Path, columns: Sequence[Column] = ()) -> None:
    """Write ``df`` as zstd-compressed Parquet without the pandas index.

    The bytes depend only on the frame, ``columns`` and the library versions: Parquet stores no
    timestamp, and the pandas schema metadata records dtypes and versions, nothing about the
    moment.

    Parameters
    ----------
    df
        The table.
    path
        File to write.
    columns
        Registry entries (:mod:`urbsim.output.columns`) of the table's columns: the unit and
        description of each column of ``df`` found there go into its Parquet field metadata
        (``pyarrow.parquet.read_schema(path).field(name).metadata``).
    """
    table = pa.Table.from_pandas(df, preserve_index=False)
    if columns:
        described = by_name(columns)
        schema = pa.schema(
            [
                f.with_metadata(field_metadata(described[f.name])) if f.name in described else f
                for f in table.schema
            ],
            metadata=table.schema.metadata,
        )
        table = table.cast(schema)
    pq.write_table(table, path, compression="zstd", write_statistics=True)


def canonical_dtype(s: pd.Series) -> str:
    """The dtype of a column as :func:`table_hash` records it (little-endian numpy code, or the
    name of a pandas extension type)."""
    dtype = s.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "biufcmM":
        return dtype.newbyteorder("<").str
    if pd.api.types.is_string_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype):
        # Python- and Arrow-backed strings, and object columns of strings, hold the same text;
        # which one a reader gets depends on pandas options, not on the data.
        inferred = pd.api.types.infer_dtype(s, skipna=True)
        if inferred in ("string", "empty"):
            return "string"
    return str(dtype)


def column_bytes(s: pd.Series) -> bytes:
    """A column's canonical bytes for :func:`table_hash` (little-endian values; strings as
    length-prefixed UTF-8), shared with the streamed hash of sweep results."""
    dtype = s.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "biufcmM":
        arr = np.ascontiguousarray(s.to_numpy(), dtype=dtype.newbyteorder("<"))
        if dtype.kind in "fc":
            # One bit pattern per value: NaNs have many, and -0.0 equals 0.0.
            arr = np.where(np.isnan(arr), np.nan, arr + 0.0).astype(arr.dtype)
        return arr.tobytes()
    parts: list[bytes] = []
    for value in s.to_numpy(dtype=object):
        if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
            parts.append(b"\xff")
        else:
            text = str(value).encode("utf-8")
            # A length prefix keeps ("ab", "c") apart from ("a", "bc").
            parts.append(b"\x00" + struct.pack("<Q", len(text)) + text)
    return b"".join(parts)


def table_hash(df: pd.DataFrame) -> str:
    """sha256 of a DataFrame's data: column names, dtypes, row count and values, in order.

    Independent of the file format and its metadata (and of the index, which the files do not
    store), so a table read back from Parquet hashes like the one written. Strings hash alike
    whatever their pandas storage; NaNs and signed zeros are canonicalized.

    Parameters
    ----------
    df
        The table.

    Returns
    -------
    str
        Hex digest.
    """
    h = hashlib.sha256()
    header = {
        "columns": [[str(name), canonical_dtype(df[name])] for name in df.columns],
        "rows": len(df),
    }
    h.update(json.dumps(header, separators=(",", ":"), ensure_ascii=True).encode())
    for i in range(df.shape[1]):
        data = column_bytes(df.iloc[:, i])
        h.update(struct.pack("<Q", len(data)))
        h.update(data)
    return h.hexdigest()


# ---------------------------------------------------------------------------------------------
# Manifest
# ---------------------------------------------------------------------------------------------
def _dist_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def urbsim_version() -> str:
    """The version of the running urbsim code: :data:`urbsim.__version__`.

    It comes from the git tag the package was built from (setuptools-scm), or from the fallback
    base version in ``pyproject.toml`` when the history had no tag; ``0+unknown`` for a source
    tree that was never built or installed.
    """
    import urbsim

    return str(urbsim.__version__)


#: Paths (relative to the top of the checkout) whose changes change what a run computes: the
#: package, the scenarios, the experiment definitions and the build metadata. Output folders
#: (``results/``, ``worlds/``) change while runs write into them, and tests, docs and benchmarks
#: do not enter a run, so none of those make the code dirty.
CODE_PATHS = ("urbsim", "scenarios", "experiments", "pyproject.toml")


def _git(args: list[str], cwd: Path) -> str | None:
    # GIT_OPTIONAL_LOCKS=0: `git status` must not take the index lock while others work in the
    # same tree.
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
    try:
        proc = subprocess.run(
            ["git", *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout if proc.returncode == 0 else None


def git_state(where: Path | None = None) -> dict[str, Any] | None:
    """Commit of the checkout holding the package, and whether its code differs from it.

    Parameters
    ----------
    where
        A folder inside the checkout; defaults to the folder holding the ``urbsim`` package.

    Returns
    -------
    dict or None
        ``{"commit": str, "dirty": bool | None, "code_paths": [...], "changed": [...]}``:
        ``dirty`` is true when a tracked file under :data:`CODE_PATHS` (listed as
        ``code_paths``) differs from the commit, ``changed`` names those files, and
        ``dirty`` is None when git could not tell. Untracked files and changes elsewhere
        (results, worlds, docs, tests) do not count. None when this is not a git checkout,
        it has no commit yet, the checkout does not track ``urbsim/__init__.py`` at its top
        (an installed package inside some other repository), or git is missing.
    """
    if where is None:
        where = Path(__file__).resolve().parent.parent
    commit = _git(["rev-parse", "HEAD"], where)
    # `:(top)` anchors each path at the top of the checkout, whatever folder `where` is.
    if commit is None or not _git(["ls-files", "--", ":(top)urbsim/__init__.py"], where):
        return None
    pathspecs = [f":(top){path}" for path in CODE_PATHS]
    # Staged and unstaged changes against HEAD, one plain path a line (no C-style quoting of
    # non-ASCII names); untracked files are not in a diff.
    diff = _git(
        ["-c", "core.quotePath=false", "diff", "--name-only", "HEAD", "--", *pathspecs], where
    )
    changed = [] if diff is None else diff.splitlines()
    return {
        "commit": commit.strip(),
        "dirty": None if diff is None else bool(changed),
        "code_paths": list(CODE_PATHS),
        "changed": changed,
    }


def build_manifest(
    loaded: LoadedScenario, seed: int, wall_seconds: float, notes: dict[str, str]
) -> dict[str, Any]:
    """Everything needed to tell how a run was made and to make it again.

    Parameters
    ----------
    loaded
        The scenario as run (overrides applied).
    seed
        Seed of the run.
    wall_seconds
        Wall time of the simulation.
    notes
        Free-form definitions from the runner (for example how the world was built).

    Returns
    -------
    dict
        JSON-serializable manifest.
    """
    return {
        "scenario_path": loaded.source,
        "scenario_sha256": loaded.sha256,
        "scenario": loaded.scenario.model_dump(mode="json"),
        "seed": int(seed),
        "urbsim_version": urbsim_version(),
        "git": git_state(),
        "versions": {
            "python": platform.python_version(),
            **{name: _dist_version(name) for name in _VERSIONED},
        },
        "platform": platform.platform(),
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "wall_seconds": float(wall_seconds),
        "notes": {str(k): str(v) for k, v in notes.items()},
    }


# ---------------------------------------------------------------------------------------------
# A run
# ---------------------------------------------------------------------------------------------
def write_run(
    out_dir: Path,
    national: pd.DataFrame,
    places: pd.DataFrame,
    manifest: dict[str, Any],
    figures: Callable[[Path], None] | None,
    flows: pd.DataFrame | None = None,
) -> Path:
    """Write a run folder atomically.

    The folder holds ``national.parquet``, ``places.parquet``, ``flows.parquet`` (when
    ``flows`` is given), ``manifest.json``, ``figures/`` and the marker of a run folder
    (:data:`urbsim.output.MARKER_FILE`, identity: the manifest's ``scenario_sha256``). The
    manifest written is ``manifest`` plus a ``tables`` entry with each table's row count and
    :func:`table_hash` (the caller's dict is not changed).

    Parameters
    ----------
    out_dir
        Folder to create, or to replace if it holds a previous run (see
        :func:`urbsim.output.check_replaceable`).
    national, places
        The output tables.
    manifest
        From :func:`build_manifest`.
    figures
        Draws the figures into the folder it is given; None for no figures.
    flows
        The province flow table (:data:`urbsim.output.columns.FLOWS`), or None for none.

    Returns
    -------
    Path
        ``out_dir``.

    Raises
    ------
    OutputError
        If ``out_dir`` exists and may not be replaced, or cannot be written (nothing is
        written).
    """
    check_location(out_dir)
    out_dir = Path(out_dir)
    check_replaceable(out_dir, "run")
    tables = {"national": national, "places": places}
    if flows is not None:
        tables["flows"] = flows
    full = {
        **manifest,
        "tables": {
            name: {"rows": len(df), "sha256": table_hash(df)} for name, df in tables.items()
        },
    }

    def fill(folder: Path) -> None:
        write_marker(folder, "run", str(manifest.get("scenario_sha256") or ""))
        write_table(national, folder / NATIONAL_FILE, NATIONAL)
        write_table(places, folder / PLACES_FILE, PLACES)
        if flows is not None:
            write_table(flows, folder / FLOWS_FILE, FLOWS)
        text = json.dumps(full, sort_keys=True, indent=2, ensure_ascii=False, default=str)
        (folder / MANIFEST_FILE).write_text(text + "\n", encoding="utf-8")
        fig_dir = folder / FIGURES_DIR
        fig_dir.mkdir()
        if figures is not None:
            figures(fig_dir)

    return replace_dir(out_dir, fill)


def read_run_tables(run_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The national and places tables of a run folder.

    Raises
    ------
    OutputError
        If the folder or either table is missing or unreadable.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise OutputError(f"{run_dir}: no such folder")
    missing = [n for n in (NATIONAL_FILE, PLACES_FILE) if not (run_dir / n).is_file()]
    if missing:
        raise OutputError(f"{run_dir}: missing {', '.join(missing)} (not a run folder?)")
    tables = []
    for name in (NATIONAL_FILE, PLACES_FILE):
        try:
            tables.append(pd.read_parquet(run_dir / name))
        except (pa.ArrowException, OSError) as exc:
            raise OutputError(f"{run_dir / name}: cannot read: {exc}") from None
    return tables[0], tables[1]


def read_flows(run_dir: Path) -> pd.DataFrame:
    """The province flow table of a run folder (:data:`urbsim.output.columns.FLOWS`).

    Raises
    ------
    OutputError
        If the folder has no readable ``flows.parquet`` (runs written before it existed have
        none).
    """
    path = Path(run_dir) / FLOWS_FILE
    if not path.is_file():
        raise OutputError(f"{run_dir}: no {FLOWS_FILE} (a run folder written before flows?)")
    try:
        return pd.read_parquet(path)
    except (pa.ArrowException, OSError) as exc:
        raise OutputError(f"{path}: cannot read: {exc}") from None
