"""The census world file: its columns, writing it safely, reading and validating it.

A world file is Parquet with one row per place and two metadata keys that mark it as urbsim's
(:data:`META_KIND` = ``world`` and :data:`META_SCHEMA`, the schema version), plus the build
report (:data:`META_REPORT`). :func:`write_world_file` refuses to replace anything that is not a
world file (in particular the build's own inputs) and writes atomically; :func:`read_world_file`
validates every column a run uses and returns the places in their canonical order (by code), so
that results do not depend on the row order of the file. ``docs/world_format.md`` documents the
format.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from urbsim.errors import UrbsimError
from urbsim.world.base import CHINA_BBOX, KINDS, PROVINCE_CODES, REGIONS

#: Version of the world file format; bump when columns or their meaning change.
SCHEMA_VERSION: Final[int] = 1
#: Parquet metadata keys: what urbsim wrote (``world``), the schema version, the build report.
META_KIND: Final[bytes] = b"urbsim_kind"
META_SCHEMA: Final[bytes] = b"urbsim_world_schema"
META_REPORT: Final[bytes] = b"urbsim_world_report"
KIND_WORLD: Final[bytes] = b"world"
#: File name of the census world packaged in ``urbsim/data/`` (:func:`packaged_world_path`).
PACKAGED_WORLD: Final[str] = "census_2010.parquet"

#: Columns of the world file and their dtypes (numpy), in file order (``docs/world_format.md``).
WORLD_COLUMNS: Final[dict[str, str]] = {
    "code": "int32",
    "name": "object",
    "province_code": "int16",
    "prefecture_code": "int32",
    "prefecture_name": "object",
    "kind": "uint8",
    "region": "uint8",
    "lon": "float64",
    "lat": "float64",
    "is_capital": "bool",
    "residents": "int64",
    "urban_residents": "int64",
    "rural_residents": "int64",
    "hukou_residents": "int64",
    "nonagri_hukou_pct": "float64",
    "households": "int64",
    "family_persons": "int64",
    "household_size": "float64",
    "inmig_same_county": "int64",
    "inmig_other_county": "int64",
    "inmig_other_province": "int64",
    "age_0_14_pct": "float64",
    "age_15_64_pct": "float64",
    "age_65_plus_pct": "float64",
    "schooling_years": "float64",
    "emp_primary_pct": "float64",
    "emp_secondary_pct": "float64",
    "emp_tertiary_pct": "float64",
    "longform_households": "int64",
    "renting_households": "float64",
    "renting_share": "float64",
    "prefecture_urban_residents": "int64",
    "size_class": "uint8",
    "unit_type": "object",
    "coord_source": "object",
    "source_row": "int32",
}
#: Counts that must be positive in every place: the synthesis divides by them.
POSITIVE_COLUMNS: Final[tuple[str, ...]] = (
    "residents",
    "hukou_residents",
    "households",
    "family_persons",
)
#: Counts that must not be negative.
COUNT_COLUMNS: Final[tuple[str, ...]] = (
    "urban_residents",
    "inmig_same_county",
    "inmig_other_county",
    "inmig_other_province",
)
#: Percentages the synthesis reads (each in [0, 100]).
PERCENT_COLUMNS: Final[tuple[str, ...]] = (
    "nonagri_hukou_pct",
    "age_0_14_pct",
    "age_15_64_pct",
    "age_65_plus_pct",
)
#: Offending rows quoted in an error message.
_SHOWN_ROWS: Final[int] = 5


class WorldFileError(UrbsimError, ValueError):
    """A world file that cannot be used (missing, unreadable, wrong schema, invalid values) or
    cannot be written; the message names the file and, for a value, the column, the first
    offending rows and the reason."""


# ==================================================================================================
# validation
# ==================================================================================================


def _rows_error(df: pd.DataFrame, where: str, column: str, bad: Any, reason: str) -> None:
    """Raise :class:`WorldFileError` for the rows where ``bad`` is true (if any).

    Rows are 1-based positions in the file; each is quoted with its place code.
    """
    idx = np.flatnonzero(np.asarray(bad, dtype=bool))
    if idx.size == 0:
        return
    codes = df["code"].to_numpy()
    shown = ", ".join(f"row {i + 1} (code {codes[i]})" for i in idx[:_SHOWN_ROWS])
    more = f" and {idx.size - _SHOWN_ROWS} more" if idx.size > _SHOWN_ROWS else ""
    raise WorldFileError(
        f"{where}: column {column!r}: {reason}: {idx.size} of {len(df)} rows, {shown}{more}"
    )


def _check_codes(df: pd.DataFrame, where: str) -> None:
    """Unique place codes, known province codes, codes inside their province and prefecture."""
    code = df["code"].to_numpy(dtype=np.float64)
    _rows_error(df, where, "code", df["code"].duplicated(keep=False), "duplicate place code")
    whole = np.isfinite(code) & (code == np.floor(code))
    in_range = whole & (code >= 110000) & (code <= 659999)
    _rows_error(df, where, "code", ~in_range, "not a 6-digit code of 2010")
    prov = df["province_code"].to_numpy(dtype=np.float64)
    known = sorted(PROVINCE_CODES)
    _rows_error(
        df,
        where,
        "province_code",
        ~np.isin(prov, known),
        f"unknown province code (the 31 provinces of the 2010 census: {known[0]}..{known[-1]})",
    )
    _rows_error(df, where, "province_code", code // 10000 != prov, "is not the code's first digits")
    pref = df["prefecture_code"].to_numpy(dtype=np.float64)
    _rows_error(
        df, where, "prefecture_code", pref // 10000 != prov, "lies outside the place's province"
    )


def _check_coordinates(df: pd.DataFrame, where: str) -> None:
    """Finite WGS84 coordinates inside China's bounding box (where ``world build`` puts them)."""
    lon_min, lon_max, lat_min, lat_max = CHINA_BBOX
    for col, lo, hi, world in (("lon", lon_min, lon_max, 180.0), ("lat", lat_min, lat_max, 90.0)):
        x = df[col].to_numpy(dtype=np.float64)
        finite = np.isfinite(x)
        _rows_error(df, where, col, ~finite, "not a finite number (NaN or infinite)")
        _rows_error(df, where, col, np.abs(x) > world, f"outside -{world:g}..{world:g} degrees")
        _rows_error(
            df, where, col, (x < lo) | (x > hi), f"outside China's box {lo:g}..{hi:g} degrees"
        )


def _check_counts(df: pd.DataFrame, where: str) -> None:
    """Counts present and non-negative, the synthesis's divisors positive, and consistent."""
    for col in (*POSITIVE_COLUMNS, *COUNT_COLUMNS):
        x = df[col].to_numpy(dtype=np.float64)
        _rows_error(df, where, col, ~np.isfinite(x), "missing count")
        _rows_error(df, where, col, x < 0, "negative count")
    for col in POSITIVE_COLUMNS:
        _rows_error(df, where, col, df[col] <= 0, "must be positive")
    res = df["residents"]
    _rows_error(df, where, "urban_residents", df["urban_residents"] > res, "exceed residents")
    inmig = df["inmig_same_county"] + df["inmig_other_county"] + df["inmig_other_province"]
    _rows_error(df, where, "inmig_other_province", inmig > res, "in-migrants exceed residents")
    _rows_error(df, where, "family_persons", df["family_persons"] > res, "exceed residents")
    _rows_error(
        df, where, "households", df["households"] > df["family_persons"], "exceed family persons"
    )


def _check_shares(df: pd.DataFrame, where: str) -> None:
    """Percentages in [0, 100], schooling years non-negative, kind and region codes known."""
    for col in PERCENT_COLUMNS:
        x = df[col].to_numpy(dtype=np.float64)
        _rows_error(df, where, col, ~((x >= 0.0) & (x <= 100.0)), "missing or outside 0..100 %")
    years = df["schooling_years"].to_numpy(dtype=np.float64)
    _rows_error(df, where, "schooling_years", ~(years >= 0.0), "missing or negative")
    for col, names in (("kind", KINDS), ("region", REGIONS)):
        code = df[col].to_numpy(dtype=np.float64)
        valid = np.isin(code, np.arange(len(names)))
        _rows_error(df, where, col, ~valid, f"not a {col} code 0..{len(names) - 1}")


def validate_world_table(df: pd.DataFrame, where: str) -> None:
    """Check a world table before it is written or used.

    Parameters
    ----------
    df : pandas.DataFrame
        World table with the columns of :data:`WORLD_COLUMNS` (other columns are ignored).
    where : str
        The file, named in the messages.

    Raises
    ------
    WorldFileError
        On the first problem: a missing column, no places, a duplicate or malformed code, an
        unknown province code (the 31 mainland provinces of 2010), coordinates that are not
        finite or outside China's box (lon 73..135, lat 18..54), a count that is missing,
        negative or (residents, hukou residents, households, family persons) not positive,
        inconsistent counts, or shares out of range. The message names the column, the first
        offending rows (1-based, with their codes) and the reason.
    """
    missing = [c for c in WORLD_COLUMNS if c not in df.columns]
    if missing:
        raise WorldFileError(f"{where}: world table lacks columns {missing}")
    if len(df) == 0:
        raise WorldFileError(f"{where}: world table has no places")
    _check_codes(df, where)
    _check_coordinates(df, where)
    _check_counts(df, where)
    _check_shares(df, where)


def canonical_order(df: pd.DataFrame) -> pd.DataFrame:
    """The world table sorted by place code (unique), with a fresh 0-based index.

    ``urbsim world build`` writes places in this order, so reading a built file changes
    nothing; a file whose rows were reordered gives the same places, households and results.
    """
    return df.sort_values("code", kind="stable", ignore_index=True)


# ==================================================================================================
# writing
# ==================================================================================================


def is_world_file(path: str | Path) -> bool:
    """Whether ``path`` is a Parquet file that urbsim wrote as a world file.

    Only the Parquet footer is read; a file that is not Parquet, or Parquet without urbsim's
    world marker (:data:`META_KIND` or, in files of before the marker, :data:`META_SCHEMA`), is
    not a world file.
    """
    try:
        meta = pq.read_schema(path).metadata or {}
    except (pa.ArrowException, OSError, ValueError):
        return False
    return meta.get(META_KIND) == KIND_WORLD or (META_KIND not in meta and META_SCHEMA in meta)


def _same_file(a: Path, b: Path) -> bool:
    """Whether two paths name the same file (resolved paths, or the same inode: hard links)."""
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check_world_output(path: str | Path, inputs: Mapping[str, str | Path | None]) -> Path:
    """Check that a world file may be written to ``path``, before anything is built.

    Parameters
    ----------
    path : str or Path
        The world file to write.
    inputs : mapping of str to path
        The build's input files by label (e.g. ``{"--census-xlsx": ...}``); ``None`` entries are
        ignored.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    WorldFileError
        If the path is malformed, is (or links to) one of the inputs, exists and is not an
        urbsim world file (nothing else is ever replaced), or lies under something that is not
        a writable folder.
    """
    text = str(path)
    if "\0" in text:
        raise WorldFileError(f"{text!r}: a file name cannot contain a NUL character (--out)")
    path = Path(path)
    for label, src in inputs.items():
        if src is not None and _same_file(path, Path(src)):
            raise WorldFileError(
                f"{path}: is the input {label} of the build; refusing to overwrite it (--out)"
            )
    if path.is_dir():
        raise WorldFileError(f"{path}: exists and is a folder, not a world file (--out)")
    if path.exists() or path.is_symlink():
        if not is_world_file(path):
            raise WorldFileError(
                f"{path}: exists and is not an urbsim world file; refusing to overwrite it "
                "(remove it or choose another --out)"
            )
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise WorldFileError(f"{path}: {parent} is not a folder (--out)")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise WorldFileError(f"{path}: folder {parent} is not writable (--out)")
    return path


def _report_inputs(report: Mapping[str, Any]) -> dict[str, str | None]:
    """The input files a build report names (the xlsx, the centroids, a provinces file)."""
    inputs: dict[str, str | None] = {
        "--census-xlsx": report.get("xlsx"),
        "--centroids": report.get("centroids"),
    }
    provinces = report.get("provinces")
    if isinstance(provinces, str) and not provinces.startswith("embedded "):
        inputs["--provinces"] = provinces
    return inputs


def write_world_file(df: pd.DataFrame, path: str | Path, report: dict[str, Any]) -> Path:
    """Write a world table as Parquet, atomically, with urbsim's marker and the build report.

    The file is written to a temporary sibling and renamed into place, so an existing world
    file is never half-replaced; nothing but a world file is ever replaced
    (:func:`check_world_output`, with the inputs the report names).

    Parameters
    ----------
    df : pandas.DataFrame
        From :func:`urbsim.world.census.build_census_world_table`.
    path : str or Path
        Target file; parent folders are created.
    report : dict
        Build report (stored as JSON in the file metadata).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    WorldFileError
        If the table is invalid (:func:`validate_world_table`) or the path may not be written.
    OSError
        If writing fails (the temporary file is removed).
    """
    path = check_world_output(path, _report_inputs(report))
    validate_world_table(df, str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(df[list(WORLD_COLUMNS)], preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[META_KIND] = KIND_WORLD
    meta[META_SCHEMA] = str(SCHEMA_VERSION).encode()
    meta[META_REPORT] = json.dumps(report, ensure_ascii=False, sort_keys=True).encode()
    table = table.replace_schema_metadata(meta)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        pq.write_table(table, tmp, compression="zstd")
        # On disk before the rename, so a crash cannot leave an empty file under the name.
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


# ==================================================================================================
# reading
# ==================================================================================================


def packaged_world_path() -> Path:
    """The census world packaged with urbsim (``urbsim/data/census_2010.parquet``).

    Built with ``urbsim world build`` from the census county file and the prefecture centroids
    (``urbsim/data/README.md`` gives the command, the source, its licence and the file's
    sha256); a scenario with ``world.name = "census"`` and no ``world_file`` reads it.

    Returns
    -------
    Path
        The file (a real file: urbsim is never installed zipped).
    """
    return Path(str(resources.files("urbsim") / "data" / PACKAGED_WORLD))


def read_world_file(path: str | Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read and validate a world file.

    Parameters
    ----------
    path : str or Path
        A file written by :func:`write_world_file` (``urbsim world build``).

    Returns
    -------
    (pandas.DataFrame, dict)
        The world table with the dtypes of :data:`WORLD_COLUMNS`, in canonical order (by code,
        :func:`canonical_order`), and the build report.

    Raises
    ------
    WorldFileError
        If the file is missing or unreadable, has another schema version, lacks a column or
        holds invalid values (:func:`validate_world_table`); the message names the file.
    """
    path = Path(path)
    if not path.is_file():
        raise WorldFileError(f"{path}: no such world file (build it with `urbsim world build`)")
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise WorldFileError(f"{path}: cannot read as Parquet: {exc}") from None
    meta = table.schema.metadata or {}
    version = meta.get(META_SCHEMA)
    if version is None:
        raise WorldFileError(f"{path}: not an urbsim world file (no schema version)")
    if version != str(SCHEMA_VERSION).encode():
        raise WorldFileError(
            f"{path}: world file schema version {version.decode(errors='replace')}, this urbsim "
            f"reads version {SCHEMA_VERSION}; rebuild it with `urbsim world build`"
        )
    df = table.to_pandas()
    missing = [c for c in WORLD_COLUMNS if c not in df.columns]
    if missing:
        raise WorldFileError(f"{path}: missing columns {missing}")
    for col, dtype in WORLD_COLUMNS.items():
        if dtype != "object" and not pd.api.types.is_numeric_dtype(df[col]):
            raise WorldFileError(f"{path}: column {col!r} holds {df[col].dtype}, not numbers")
    # Validate before the cast: a NaN in an integer column is reported by column and row.
    validate_world_table(df, str(path))
    try:
        df = df[list(WORLD_COLUMNS)].astype(WORLD_COLUMNS)
    except (TypeError, ValueError) as exc:
        raise WorldFileError(f"{path}: columns of the wrong type: {exc}") from None
    try:
        report = json.loads(meta.get(META_REPORT, b"{}"))
    except ValueError:
        report = {}
    return canonical_order(df), report
