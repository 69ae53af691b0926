"""Comparing a rerun results folder with the committed one, on any machine.

Every file of the two folders is compared by its kind:

- **tables** (Parquet, CSV): integers, booleans, strings and counts must be equal; other
  floating-point values (means, rates, indices) may differ by :data:`DEFAULT_TOLERANCE`, the
  last-digit differences that another CPU's math library or SIMD width gives. Counts stored
  as floats are declared: the ``value`` rows of a sweep's ``results``/``summary`` tables whose
  name is in :data:`COUNT_NAMES`, and the float columns of that name in any table. The largest
  difference of every table is reported, also when it is within the tolerance.
- **manifests** (JSON): everything that determines the results (scenario, sweep file and
  experiment hashes, seeds, run counts, row counts) must be equal; timestamps, wall times,
  host, versions, executor and git state are not compared (nor wall times quoted in notes);
  absolute paths are compared relative to their checkout. The table hashes a committed
  manifest records must be those of the committed tables (a manifest edited by hand, or a
  table edited after it, is found).
- **figures** (PNG): decoded and compared pixel by pixel; a figure differs when the mean
  absolute difference of some :data:`FIGURE_TILE` x :data:`FIGURE_TILE` pixel tile exceeds
  :data:`FIGURE_TOLERANCE` (of full scale), which anti-aliasing noise never reaches and a
  changed mark, label or painted block always does.
- **text** (anything else: generated READMEs, fitted scenario fragments): equal line by line.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
import pandas as pd

from urbsim.output import table_hash

#: Folders never compared: a sweep's transient parts.
_SKIP_DIRS: Final[frozenset[str]] = frozenset({"parts"})
TABLE_SUFFIXES: Final[frozenset[str]] = frozenset({".parquet", ".csv"})
FIGURE_SUFFIXES: Final[frozenset[str]] = frozenset({".png"})
MANIFEST_SUFFIXES: Final[frozenset[str]] = frozenset({".json"})

#: Quantities that are counts of persons, agents, events or codes: the model records them as
#: float (agents times households per agent) but they are sums of integers, exact on any
#: machine, so they are compared exactly. A ``_<year>`` suffix (calibration metrics such as
#: ``floating_population_2010``) names the same count.
COUNT_NAMES: Final[frozenset[str]] = frozenset(
    {
        "agents",
        "births",
        "deaths",
        "floating_population",
        "floating_residents",
        "households",
        "hukou_conversions",
        "hukou_residents",
        "inmigrants_other_county",
        "inmigrants_other_province",
        "insitu_reclassified",
        "interprovince_floating_population",
        "intraprovince_floating_population",
        "migrants_head_15_29",
        "migrants_head_30_44",
        "migrants_head_45_59",
        "migrants_head_60_plus",
        "local_conversions",
        "moves",
        "moves_considered",
        "outmigrant_workers",
        "outmigrant_workers_interprovince",
        "floating_children",
        "floating_children_left_behind",
        "permit_holders",
        "permits_issued",
        "points_conversions",
        "province_moves",
        "registered_population",
        "requisition_conversions",
        "residents",
        "persons",
        "return_migrants",
        "hazard_return_migrants",
        "job_ends",
        "job_end_movers",
        "return_moves",
        "settled_migrants",
        "size_class_code",
        "urban_growth_migration",
        "urban_growth_natural",
        "urban_growth_reclassification",
        "urban_residents",
    }
)
#: Tidy sweep tables: file name -> the column naming the quantity in each row's ``value``.
TIDY_LABELS: Final[dict[str, str]] = {"results.parquet": "name", "summary.parquet": "metric"}
_YEAR_SUFFIX = re.compile(r"_\d{4}$")

#: Manifest keys that describe the machine or the moment, not the results.
VOLATILE_KEYS: Final[frozenset[str]] = frozenset(
    {"created_utc", "wall_seconds", "platform", "git", "versions", "urbsim_version", "executor"}
)
#: Recorded hashes checked against the files they describe (:func:`manifest_integrity`), not
#: across machines: a table within the tolerance has another data hash, and ``resolved``
#: (whose hash this is) holds absolute paths, compared relative to their checkout.
_HASHES_CHECKED_ELSEWHERE: Final[frozenset[str]] = frozenset(
    {"sha256", "sha256_compared", "resolved_sha256"}
)
_WALL_TIME = re.compile(r"\bin \d+(?:\.\d+)? s\b")
#: Figure comparison: tile size (pixels) and largest mean absolute difference of a tile.
FIGURE_TILE: Final[int] = 16
FIGURE_TOLERANCE: Final[float] = 0.02
#: Differences listed per manifest or text file (the rest are counted).
_SHOWN: Final[int] = 8


@dataclass(frozen=True)
class Tolerance:
    """How far a floating-point value may be from the committed one.

    ``|a - b| <= max(rel * max(|a|, |b|), abs)``: relative for ordinary values, absolute near
    zero (a difference of effects that is 1e-17 instead of 0).
    """

    rel: float = 1e-9
    abs: float = 1e-12

    def describe(self) -> str:
        """The rule, as printed after a comparison."""
        return (
            f"floats within {self.rel:g} relative ({self.abs:g} absolute near zero); integers, "
            "counts, strings, manifests and text exact; figures within "
            f"{FIGURE_TOLERANCE:g} mean difference per {FIGURE_TILE}x{FIGURE_TILE}-pixel tile"
        )


DEFAULT_TOLERANCE: Final[Tolerance] = Tolerance()


@dataclass
class ColumnDiff:
    """How one column differs.

    ``differing`` counts values beyond the tolerance (any difference where the column is
    exact); ``within`` counts float values that differ within it.
    """

    column: str
    differing: int
    max_abs_diff: float | None
    max_rel_diff: float | None = None
    within: int = 0


@dataclass
class FileDiff:
    """How a rerun file compares with the committed one."""

    path: str
    status: Literal["match", "differ", "missing", "extra"]
    kind: Literal["table", "manifest", "figure", "text"] = "table"
    committed_sha256: str | None = None
    rerun_sha256: str | None = None
    notes: list[str] = field(default_factory=list)
    columns: list[ColumnDiff] = field(default_factory=list)
    #: Largest difference of any compared float value (0.0 when identical).
    max_abs_diff: float | None = None
    max_rel_diff: float | None = None


def file_kind(rel: str) -> Literal["table", "manifest", "figure", "text"]:
    """How a results file is compared, by its suffix."""
    suffix = Path(rel).suffix.lower()
    if suffix in TABLE_SUFFIXES:
        return "table"
    if suffix in MANIFEST_SUFFIXES:
        return "manifest"
    if suffix in FIGURE_SUFFIXES:
        return "figure"
    return "text"


def find_files(folder: Path) -> list[str]:
    """Relative paths of the files under ``folder`` (sweep parts and hidden files aside)."""
    out: list[str] = []
    if not folder.is_dir():
        return out
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if not path.is_file() or _SKIP_DIRS & set(rel.parts):
            continue
        if not any(part.startswith(".") for part in rel.parts):
            out.append(rel.as_posix())
    return out


def find_tables(folder: Path) -> list[str]:
    """Relative paths of the Parquet and CSV files under ``folder`` (outside ``figures/``)."""
    return [
        rel
        for rel in find_files(folder)
        if file_kind(rel) == "table" and "figures" not in Path(rel).parts
    ]


def read_table(path: Path) -> pd.DataFrame:
    """A table file as a DataFrame."""
    if path.suffix == ".csv":
        return pd.read_csv(path)
    return pd.read_parquet(path)


def drop_columns(df: pd.DataFrame, ignore: Iterable[str]) -> pd.DataFrame:
    """``df`` without the columns of ``ignore`` it has."""
    return df.drop(columns=[c for c in ignore if c in df.columns])


def _columns(path: Path) -> list[str]:
    if path.suffix == ".csv":
        return list(pd.read_csv(path, nrows=0).columns)
    import pyarrow.parquet as pq

    return list(pq.read_schema(path).names)


@functools.lru_cache(maxsize=512)
def _cached_hash(path: str, mtime_ns: int, size: int, drop: tuple[str, ...]) -> str:
    return table_hash(drop_columns(read_table(Path(path)), drop))


def file_table_hash(path: Path, ignore: Iterable[str] = ()) -> str:
    """Data hash of a table file without the ``ignore`` columns it has.

    Cached by path, modification time and size: a comparison hashes each table once although
    the tables, their sweep's manifest and ``experiment.json`` all name it.
    """
    st = path.stat()
    present = set(_columns(path))
    drop = tuple(sorted(c for c in ignore if c in present))
    return _cached_hash(str(path.resolve()), st.st_mtime_ns, st.st_size, drop)


# ---------------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------------
def is_count_name(name: object) -> bool:
    """Whether a quantity's name (``residents``, ``floating_population_2010``) is a count."""
    return isinstance(name, str) and _YEAR_SUFFIX.sub("", name) in COUNT_NAMES


def exact_rows(path: str, table: pd.DataFrame, column: str) -> np.ndarray | bool:
    """Which values of a float column must match exactly: all (True), none (False) or a mask.

    A column named after a count is exact; in a tidy sweep table the ``value`` of the rows
    naming a count is.
    """
    if is_count_name(column):
        return True
    label = TIDY_LABELS.get(Path(path).name)
    if column == "value" and label is not None and label in table.columns:
        return table[label].map(is_count_name).to_numpy(dtype=bool)
    return False


def _numeric_diff(
    col: str, x: np.ndarray, y: np.ndarray, exact: np.ndarray | bool, tol: Tolerance
) -> ColumnDiff | None:
    same = (x == y) | (np.isnan(x) & np.isnan(y))
    if same.all():
        return None
    with np.errstate(invalid="ignore"):
        gap = np.abs(x - y)
        scale = np.maximum(np.abs(x), np.abs(y))
        allowed = np.maximum(tol.rel * scale, tol.abs)
        beyond = ~same & (np.asarray(exact) | ~(gap <= allowed))
        rel = np.where(scale > 0, gap / np.where(scale > 0, scale, 1.0), np.inf)
    finite = ~same & np.isfinite(gap)
    return ColumnDiff(
        col,
        differing=int(beyond.sum()),
        max_abs_diff=float(gap[finite].max()) if finite.any() else None,
        max_rel_diff=float(rel[finite].max()) if finite.any() else None,
        within=int((~same & ~beyond).sum()),
    )


def _column_diff(
    path: str, col: str, committed: pd.DataFrame, rerun: pd.DataFrame, tol: Tolerance
) -> ColumnDiff | None:
    a, b = committed[col], rerun[col]
    numeric = pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b)
    if numeric and not (pd.api.types.is_bool_dtype(a) or pd.api.types.is_bool_dtype(b)):
        if pd.api.types.is_float_dtype(a) and pd.api.types.is_float_dtype(b):
            x = a.to_numpy(dtype=np.float64, na_value=np.nan)
            y = b.to_numpy(dtype=np.float64, na_value=np.nan)
            return _numeric_diff(col, x, y, exact_rows(path, committed, col), tol)
        # Integers compare as integers: seeds reach 2**63, beyond float64's 53 bits.
        both_na = (a.isna() & b.isna()).to_numpy(dtype=bool)
        unequal = (a.astype(object) != b.astype(object)).to_numpy(dtype=bool) & ~both_na
        if not unequal.any():
            return None
        pairs = zip(
            a.to_numpy(dtype=object)[unequal], b.to_numpy(dtype=object)[unequal], strict=True
        )
        gaps = [abs(int(u) - int(v)) for u, v in pairs if not (pd.isna(u) or pd.isna(v))]
        return ColumnDiff(col, int(unequal.sum()), float(max(gaps)) if gaps else None)
    xs = a.astype(object).where(a.notna(), None).to_numpy()
    ys = b.astype(object).where(b.notna(), None).to_numpy()
    n = int(sum(1 for u, v in zip(xs, ys, strict=True) if u != v))
    return ColumnDiff(col, n, None) if n else None


def _shape_notes(committed: pd.DataFrame, rerun: pd.DataFrame) -> list[str]:
    """Differences of columns, dtypes and rows (each one makes the tables differ)."""
    notes = []
    only_c = [c for c in committed.columns if c not in rerun.columns]
    only_r = [c for c in rerun.columns if c not in committed.columns]
    if only_c:
        notes.append(f"columns only in the committed table: {', '.join(map(str, only_c))}")
    if only_r:
        notes.append(f"columns only in the rerun table: {', '.join(map(str, only_r))}")
    if len(committed) != len(rerun):
        notes.append(f"rows: committed {len(committed)}, rerun {len(rerun)}")
        return notes
    common = [c for c in committed.columns if c in rerun.columns]
    if common != [c for c in rerun.columns if c in common]:
        notes.append("columns are in a different order")
    for col in common:
        a, b = committed[col].dtype, rerun[col].dtype
        # A string column read back as object or as str is the same data.
        if str(a) != str(b) and not (_is_text(committed[col]) and _is_text(rerun[col])):
            notes.append(f"{col}: dtype {a} committed, {b} rerun")
    return notes


def _is_text(s: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(s) or s.dtype == object


def compare_tables(
    path: str,
    committed: pd.DataFrame,
    rerun: pd.DataFrame,
    tolerance: Tolerance = DEFAULT_TOLERANCE,
) -> FileDiff:
    """Compare two tables: equal data hashes, else column by column within the tolerance.

    The tables match when they have the same columns, dtypes and rows and every value is equal
    (integers, counts, strings) or within ``tolerance`` (other floats).
    """
    h1, h2 = table_hash(committed), table_hash(rerun)
    diff = FileDiff(path, "match", "table", h1, h2, max_abs_diff=0.0, max_rel_diff=0.0)
    if h1 == h2:
        return diff
    diff.notes = _shape_notes(committed, rerun)
    if len(committed) != len(rerun):
        diff.status = "differ"
        return diff
    for col in [c for c in committed.columns if c in rerun.columns]:
        cd = _column_diff(path, col, committed, rerun, tolerance)
        if cd is not None:
            diff.columns.append(cd)
    gaps = [(c.max_abs_diff, c.max_rel_diff) for c in diff.columns if c.max_abs_diff is not None]
    if gaps:
        diff.max_abs_diff = max(g[0] for g in gaps)
        diff.max_rel_diff = max(g[1] or 0.0 for g in gaps)
    if diff.notes or any(c.differing for c in diff.columns):
        diff.status = "differ"
    elif not diff.columns:
        diff.notes.append("same values, different storage")
    return diff


# ---------------------------------------------------------------------------------------------
# Manifests
# ---------------------------------------------------------------------------------------------
def _projection(value: Any) -> Any:
    """A manifest without what differs between machines or moments (see the module doc)."""
    if isinstance(value, dict):
        return {
            key: _projection(item)
            for key, item in value.items()
            if key not in VOLATILE_KEYS and key not in _HASHES_CHECKED_ELSEWHERE
        }
    if isinstance(value, list):
        return [_projection(item) for item in value]
    if isinstance(value, str):
        # Wall times written into notes ("built in 1.23 s").
        return _WALL_TIME.sub("in <seconds> s", value)
    return value


def _same_leaf(a: Any, b: Any, root: str) -> bool:
    """Equal values, or paths equal relative to their checkouts (``<root>/x`` and ``.../x``)."""
    if a == b and type(a) is type(b):
        return True
    if isinstance(a, str) and isinstance(b, str) and b.startswith(root):
        rel = b[len(root) :]
        return Path(a).is_absolute() and a.endswith("/" + rel)
    return False


def _deep_diff(a: Any, b: Any, where: str, root: str, out: list[str]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            name = f"{where}.{key}" if where else str(key)
            if key not in b:
                out.append(f"{name}: only in the committed file")
            elif key not in a:
                out.append(f"{name}: only in the rerun file")
            else:
                _deep_diff(a[key], b[key], name, root, out)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (u, v) in enumerate(zip(a, b, strict=True)):
            _deep_diff(u, v, f"{where}.{i}", root, out)
    elif not _same_leaf(a, b, root):
        out.append(f"{where or '(top)'}: committed {_short(a)}, rerun {_short(b)}")


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def _resolved_hash(resolved: Any) -> str:
    # As urbsim.sweep.spec.SweepSpec.resolved_sha256 computes it.
    text = json.dumps(resolved, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def manifest_integrity(data: dict[str, Any], folder: Path) -> list[str]:
    """Whether a manifest's recorded hashes are those of what it describes.

    Checks ``resolved_sha256`` against ``resolved`` and every ``tables`` entry (keyed by a
    path relative to ``folder``, or by a sweep table's stem) against the table's data hash.
    """
    problems = []
    if "resolved_sha256" in data and "resolved" in data:
        if _resolved_hash(data["resolved"]) != data["resolved_sha256"]:
            problems.append("resolved_sha256 is not the hash of resolved")
    tables = data.get("tables")
    for key, entry in (tables or {}).items() if isinstance(tables, dict) else []:
        path = folder / key if (folder / key).is_file() else folder / f"{key}.parquet"
        if not isinstance(entry, dict) or "sha256" not in entry:
            continue
        if not path.is_file():
            problems.append(f"tables.{key}: {path.name} is not in the folder")
        elif file_table_hash(path) != entry["sha256"]:
            problems.append(f"tables.{key}.sha256 is not the hash of {path.name}")
    return problems


def compare_manifests(path: str, committed: Path, rerun: Path, rerun_root: Path) -> FileDiff:
    """Compare two JSON manifests on what determines the results (see the module doc)."""
    diff = FileDiff(path, "match", "manifest")
    try:
        a = json.loads(committed.read_text(encoding="utf-8"))
        b = json.loads(rerun.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        diff.status = "differ"
        diff.notes.append(f"not valid JSON: {exc}")
        return diff
    notes = []
    if isinstance(a, dict):
        notes += [f"committed {p}" for p in manifest_integrity(a, committed.parent)]
    _deep_diff(_projection(a), _projection(b), "", str(rerun_root) + "/", notes)
    if notes:
        diff.status = "differ"
        diff.notes = notes[:_SHOWN] + ([f"and {len(notes) - _SHOWN} more"] * (len(notes) > _SHOWN))
    return diff


# ---------------------------------------------------------------------------------------------
# Text and figures
# ---------------------------------------------------------------------------------------------
def compare_text(path: str, committed: Path, rerun: Path) -> FileDiff:
    """Compare two generated text files line by line."""
    diff = FileDiff(path, "match", "text")
    a, b = committed.read_bytes(), rerun.read_bytes()
    if a == b:
        return diff
    diff.status = "differ"
    la = a.decode("utf-8", "replace").splitlines()
    lb = b.decode("utf-8", "replace").splitlines()
    changed = [i for i in range(max(len(la), len(lb))) if la[i : i + 1] != lb[i : i + 1]]
    if len(la) != len(lb):
        diff.notes.append(f"lines: committed {len(la)}, rerun {len(lb)}")
    for i in changed[:_SHOWN]:
        was = la[i] if i < len(la) else "(none)"
        now = lb[i] if i < len(lb) else "(none)"
        diff.notes.append(f"line {i + 1}: committed {was[:100]!r}, rerun {now[:100]!r}")
    if len(changed) > _SHOWN:
        diff.notes.append(f"and {len(changed) - _SHOWN} more lines")
    if not changed:
        diff.notes.append("same lines, different line endings or final newline")
    return diff


def _tile_means(d: np.ndarray, tile: int) -> np.ndarray:
    """Mean of ``d`` over tiles of ``tile`` x ``tile`` pixels (edge tiles padded with 0)."""
    h, w = d.shape
    ph, pw = -h % tile, -w % tile
    padded = np.pad(d, ((0, ph), (0, pw)))
    return padded.reshape((h + ph) // tile, tile, (w + pw) // tile, tile).mean(axis=(1, 3))


def _rgba(image: np.ndarray) -> np.ndarray:
    """A decoded PNG as float RGBA in [0, 1], whatever its mode (grey, RGB, 8 or 16 bit)."""
    image = image.astype(np.float64)
    if image.max(initial=0.0) > 1.0:
        image = image / 255.0
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    if image.shape[-1] == 3:
        image = np.concatenate([image, np.ones((*image.shape[:2], 1))], axis=-1)
    return image


def compare_figures(path: str, committed: Path, rerun: Path) -> FileDiff:
    """Compare two PNG figures by their decoded pixels (see :data:`FIGURE_TOLERANCE`)."""
    import matplotlib.image as mpimg

    diff = FileDiff(path, "match", "figure")
    if committed.read_bytes() == rerun.read_bytes():
        diff.max_abs_diff = 0.0
        return diff
    try:
        a, b = _rgba(mpimg.imread(committed)), _rgba(mpimg.imread(rerun))
    except (OSError, ValueError, SyntaxError) as exc:
        diff.status = "differ"
        diff.notes.append(f"cannot decode: {exc}")
        return diff
    if a.shape != b.shape:
        diff.status = "differ"
        diff.notes.append(
            f"size: committed {a.shape[1]}x{a.shape[0]}, rerun {b.shape[1]}x{b.shape[0]}"
        )
        return diff
    d = np.abs(a - b).max(axis=-1)
    tiles = _tile_means(d, FIGURE_TILE)
    worst = float(tiles.max(initial=0.0))
    diff.max_abs_diff = worst
    row, col = np.unravel_index(int(tiles.argmax()), tiles.shape)
    where = f"at pixel ({col * FIGURE_TILE}, {row * FIGURE_TILE})"
    pixels = int((d > 0).sum())
    if worst > FIGURE_TOLERANCE:
        diff.status = "differ"
        diff.notes.append(
            f"{pixels} pixels differ; largest {FIGURE_TILE}x{FIGURE_TILE}-tile mean difference "
            f"{worst:.3g} {where} (tolerance {FIGURE_TOLERANCE:g})"
        )
    return diff


# ---------------------------------------------------------------------------------------------
# Folders
# ---------------------------------------------------------------------------------------------
def compare_file(
    rel: str,
    committed: Path,
    rerun: Path,
    *,
    ignore: Iterable[str],
    root: Path,
    tolerance: Tolerance = DEFAULT_TOLERANCE,
) -> FileDiff:
    """Compare one file present in both folders, by its kind."""
    kind = file_kind(rel)
    a, b = committed / rel, rerun / rel
    if kind == "table":
        h1, h2 = file_table_hash(a, ignore), file_table_hash(b, ignore)
        if h1 == h2:
            return FileDiff(rel, "match", "table", h1, h2, max_abs_diff=0.0, max_rel_diff=0.0)
        t1, t2 = drop_columns(read_table(a), ignore), drop_columns(read_table(b), ignore)
        return compare_tables(rel, t1, t2, tolerance)
    if kind == "manifest":
        return compare_manifests(rel, a, b, root)
    if kind == "figure":
        return compare_figures(rel, a, b)
    return compare_text(rel, a, b)


def compare_folders(
    committed: Path,
    rerun: Path,
    *,
    ignore: Iterable[str] = (),
    root: Path,
    tolerance: Tolerance = DEFAULT_TOLERANCE,
) -> list[FileDiff]:
    """Compare every file of two results folders (tables, manifests, figures, text).

    Parameters
    ----------
    committed, rerun
        The committed results folder and the rerun's.
    ignore
        Table columns not compared (wall times; tracebacks that name local paths).
    root
        The checkout the rerun ran in (its manifests' absolute paths are relative to it).
    tolerance
        For floating-point table values.
    """
    a, b = set(find_files(committed)), set(find_files(rerun))
    ignore = list(ignore)
    out: list[FileDiff] = []
    for rel in sorted(a | b):
        kind = file_kind(rel)
        if rel not in b:
            out.append(FileDiff(rel, "missing", kind, notes=["not produced by the rerun"]))
        elif rel not in a:
            out.append(FileDiff(rel, "extra", kind, notes=["produced by the rerun, not committed"]))
        else:
            out.append(
                compare_file(rel, committed, rerun, ignore=ignore, root=root, tolerance=tolerance)
            )
    return out


def _gap(d: FileDiff) -> str:
    if d.kind == "figure":
        return "" if d.max_abs_diff is None else f"largest tile difference {d.max_abs_diff:.3g}"
    if d.kind != "table" or d.max_abs_diff is None:
        return ""
    if d.max_abs_diff == 0.0:
        return "identical"
    return f"largest difference {d.max_abs_diff:.3g} (relative {d.max_rel_diff:.3g})"


def format_diffs(diffs: list[FileDiff]) -> list[str]:
    """Lines describing a comparison: one per file, and the details of those that differ."""
    lines = []
    for d in diffs:
        gap = _gap(d)
        head = f"{d.status:<8} {d.path}" + (f"  {gap}" if gap else "")
        lines.append(head)
        if d.status == "match":
            continue
        if d.status == "differ" and d.kind == "table":
            was, now = str(d.committed_sha256)[:16], str(d.rerun_sha256)[:16]
            lines.append(f"         data hash committed {was}, rerun {now}")
        lines.extend(f"         {note}" for note in d.notes)
        for c in d.columns:
            if not c.differing:
                continue
            gaps = "" if c.max_abs_diff is None else f", max abs diff {c.max_abs_diff:.6g}"
            lines.append(f"         column {c.column}: {c.differing} values differ{gaps}")
    return lines


def summary_lines(diffs: list[FileDiff], tolerance: Tolerance = DEFAULT_TOLERANCE) -> list[str]:
    """The closing lines: tables and other files matched, the largest difference, the rule."""
    tables = [d for d in diffs if d.kind == "table"]
    others = [d for d in diffs if d.kind != "table"]
    gaps = [d.max_abs_diff for d in tables if d.status == "match" and d.max_abs_diff is not None]
    rels = [d.max_rel_diff for d in tables if d.status == "match" and d.max_rel_diff is not None]
    n_t = sum(d.status == "match" for d in tables)
    n_o = sum(d.status == "match" for d in others)
    largest = max(gaps, default=0.0)
    return [
        f"{n_t} of {len(tables)} tables match, {n_o} of {len(others)} other files match "
        f"(manifests, figures, text); largest float difference in matching tables "
        f"{largest:.3g} (relative {max(rels, default=0.0):.3g})",
        f"tolerance: {tolerance.describe()}",
    ]
