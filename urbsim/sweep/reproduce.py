"""Rerunning an experiment and comparing its tables with the committed ones.

An experiment is a folder ``experiments/<name>/`` with an ``experiment.toml`` that lists the
steps producing ``results/<name>/``: sweeps, sweep figures, scenario runs and scripts, in order.
:func:`reproduce` runs the steps into a temporary folder and compares every table (Parquet and
CSV files, outside ``figures/``) with the committed one by data hash
(:func:`urbsim.output.table_hash`), describing per column how tables that differ differ.
With ``update=True`` the steps run into a temporary sibling of ``results/<name>/`` that then
replaces it: the one command that regenerates an experiment's committed results.

Steps run with the repository root as working directory (the folder holding ``experiments/``),
so the commands recorded in the tables are the same wherever ``urbsim reproduce`` is called
from.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Final, Literal

import numpy as np
import pandas as pd
from pydantic import Field, ValidationError

from urbsim.output import OutputError, replace_dir, table_hash
from urbsim.progress import Verbosity
from urbsim.scenario.load import _problems as _pydantic_problems
from urbsim.scenario.schema import Strict
from urbsim.sweep.spec import SweepError

EXPERIMENT_FILE: Final[str] = "experiment.toml"
#: Written into the results folder: the experiment's hash, its steps and every table's hash.
EXPERIMENT_MANIFEST: Final[str] = "experiment.json"
#: Folders whose files are never compared: figures (PNG) and a sweep's transient parts.
_SKIP_DIRS: Final[frozenset[str]] = frozenset({"figures", "parts"})
_TABLE_SUFFIXES: Final[frozenset[str]] = frozenset({".parquet", ".csv"})


# ---------------------------------------------------------------------------------------------
# experiment.toml
# ---------------------------------------------------------------------------------------------
class ExperimentError(SweepError):
    """An experiment file that cannot be run, with the file, the dotted field and the reason."""

    what = "experiment"


class SweepStep(Strict):
    """Run a sweep file into ``<results>/<out>``."""

    kind: Literal["sweep"]
    file: str = Field(min_length=1, description="Sweep file, relative to the experiment folder.")
    out: str = Field(min_length=1, description="Folder inside the results folder.")


class PlotSweepStep(Strict):
    """Draw a sweep's figures into ``<results>/<dir>/figures``."""

    kind: Literal["plot-sweep"]
    dir: str = Field(min_length=1, description="Sweep folder inside the results folder.")


class RunStep(Strict):
    """Run a scenario (``urbsim run``) into ``<results>/<out>``."""

    kind: Literal["run"]
    scenario: str = Field(min_length=1, description="Scenario, relative to the experiment folder.")
    out: str = Field(min_length=1)
    seed: int | None = Field(None, ge=0, lt=2**63)
    set: list[str] = Field(default_factory=list, description="--set overrides.")


class ScriptStep(Strict):
    """Run a command; ``{python}``, ``{results}``, ``{out}``, ``{experiment}`` and ``{root}`` in
    its arguments are replaced by the interpreter, the results folder being written, the
    step's output folder, the experiment folder and the repository root."""

    kind: Literal["script"]
    command: list[str] = Field(min_length=1)
    out: str = Field(".", min_length=1)


Step = Annotated[SweepStep | PlotSweepStep | RunStep | ScriptStep, Field(discriminator="kind")]


class Experiment(Strict):
    """An ``experiment.toml``."""

    name: str | None = Field(None, min_length=1, description="Default: the folder's name.")
    description: str = ""
    results: str | None = Field(
        None,
        description="Results folder relative to the repository root (default results/<name>).",
    )
    ignore_columns: list[str] = Field(
        default_factory=lambda: ["wall_seconds", "error"],
        description="Columns not compared (wall times; tracebacks that name local paths).",
    )
    steps: list[Step] = Field(min_length=1)


@dataclass(frozen=True)
class LoadedExperiment:
    """A validated experiment with its paths resolved."""

    folder: Path
    file: Path
    sha256: str
    spec: Experiment
    name: str
    root: Path
    results: Path


def load_experiment(folder: str | Path) -> LoadedExperiment:
    """Read and check ``<folder>/experiment.toml``.

    Raises
    ------
    ExperimentError
        When the file is missing, not TOML or invalid, or names a file that does not exist.
    """
    folder = Path(folder).resolve()
    file = folder / EXPERIMENT_FILE if folder.is_dir() else folder
    if file.name != EXPERIMENT_FILE and file.suffix == ".toml":
        folder = file.parent
    if not file.is_file():
        raise ExperimentError(str(file), [("", "file not found (an experiment folder needs one)")])
    raw = file.read_bytes()
    try:
        data = tomllib.loads(raw.decode("utf-8"))
        spec = Experiment.model_validate(data)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ExperimentError(str(file), [("", f"not valid TOML: {exc}")]) from None
    except ValidationError as exc:
        raise ExperimentError(str(file), _pydantic_problems(exc)) from None
    folder = file.parent
    # experiments/<name>/experiment.toml: the root holds experiments/.
    root = folder.parent.parent
    name = spec.name or folder.name
    results = (root / (spec.results or f"results/{name}")).resolve()
    problems: list[tuple[str, str]] = []
    outs: list[str] = []
    for i, step in enumerate(spec.steps):
        if isinstance(step, SweepStep):
            if not (folder / step.file).is_file():
                problems.append((f"steps.{i}.file", f"file not found: {folder / step.file}"))
            outs.append(step.out)
        elif isinstance(step, RunStep):
            if not (folder / step.scenario).is_file():
                problems.append(
                    (f"steps.{i}.scenario", f"file not found: {folder / step.scenario}")
                )
            outs.append(step.out)
        elif isinstance(step, PlotSweepStep) and step.dir not in outs:
            problems.append((f"steps.{i}.dir", f"{step.dir!r} is not the out of an earlier sweep"))
        for key in ("out", "dir"):
            value = getattr(step, key, None)
            if value is not None and (Path(value).is_absolute() or ".." in Path(value).parts):
                problems.append((f"steps.{i}.{key}", "must be a folder inside the results folder"))
    if problems:
        raise ExperimentError(str(file), problems)
    return LoadedExperiment(
        folder, file, hashlib.sha256(raw).hexdigest(), spec, name, root, results
    )


# ---------------------------------------------------------------------------------------------
# Running the steps
# ---------------------------------------------------------------------------------------------
class StepFailed(RuntimeError):
    """A step did not produce its outputs."""


@dataclass(frozen=True)
class SweepOptions:
    """How sweep steps run (never changes their results)."""

    executor: str = "local"
    workers: int | None = None
    threads: int | None = None
    scheduler: str | None = None
    #: A :class:`urbsim.progress.Verbosity` value: progress lines of the sweep steps.
    verbosity: int = 1


def run_steps(
    exp: LoadedExperiment,
    target: Path,
    options: SweepOptions,
    log: Callable[[str], None],
) -> None:
    """Run every step of an experiment, writing into ``target``.

    Raises
    ------
    StepFailed
        When a step fails (the message names it).
    """
    from urbsim.sweep.driver import run_sweep

    target.mkdir(parents=True, exist_ok=True)
    with contextlib.chdir(exp.root):
        for i, step in enumerate(exp.spec.steps):
            log(f"step {i + 1}/{len(exp.spec.steps)}: {_describe(step)}")
            if isinstance(step, SweepStep):
                outcome = run_sweep(
                    exp.folder / step.file,
                    target / step.out,
                    executor=options.executor,  # type: ignore[arg-type]
                    workers=options.workers,
                    threads=options.threads,
                    scheduler=options.scheduler,
                    force=True,
                    log=log,
                    verbosity=Verbosity(options.verbosity),
                )
                if not outcome.complete:
                    raise StepFailed(
                        f"step {i + 1} ({step.file}): {len(outcome.missing)} runs did not finish"
                    )
            elif isinstance(step, PlotSweepStep):
                from urbsim.plots.sweep import draw_figures

                draw_figures(target / step.dir)
            elif isinstance(step, RunStep):
                cmd = [
                    sys.executable,
                    "-c",
                    "from urbsim.cli import app; app(prog_name='urbsim')",
                    "run",
                    str(Path(os.path.relpath(exp.folder / step.scenario, exp.root))),
                    "--out",
                    str(target / step.out),
                ]
                if step.seed is not None:
                    cmd += ["--seed", str(step.seed)]
                for item in step.set:
                    cmd += ["--set", item]
                _call(cmd, exp.root, i)
            else:
                subs = {
                    "python": sys.executable,
                    "results": str(target),
                    "out": str(target / step.out),
                    "experiment": str(exp.folder),
                    "root": str(exp.root),
                }
                (target / step.out).mkdir(parents=True, exist_ok=True)
                _call([_substitute(arg, subs) for arg in step.command], exp.root, i)


def _substitute(arg: str, subs: dict[str, str]) -> str:
    # Plain replacement, not str.format: other braces (a dict in `python -c`) stay as they are.
    for key, value in subs.items():
        arg = arg.replace("{" + key + "}", value)
    return arg


def _describe(step: Any) -> str:
    if isinstance(step, SweepStep):
        return f"sweep {step.file} -> {step.out}"
    if isinstance(step, PlotSweepStep):
        return f"plot-sweep {step.dir}"
    if isinstance(step, RunStep):
        return f"run {step.scenario} -> {step.out}"
    return "script " + " ".join(step.command)


def _call(cmd: list[str], cwd: Path, i: int) -> None:
    proc = subprocess.run(cmd, cwd=cwd, check=False)
    if proc.returncode != 0:
        raise StepFailed(f"step {i + 1}: {' '.join(cmd)} exited with {proc.returncode}")


# ---------------------------------------------------------------------------------------------
# Comparing tables
# ---------------------------------------------------------------------------------------------
def find_tables(folder: Path) -> list[str]:
    """Relative paths of the Parquet and CSV files under ``folder`` (figures and parts aside)."""
    out = []
    if not folder.is_dir():
        return out
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if path.is_file() and path.suffix in _TABLE_SUFFIXES and not _SKIP_DIRS & set(rel.parts):
            if not any(part.startswith(".") for part in rel.parts):
                out.append(rel.as_posix())
    return out


def read_table(path: Path) -> pd.DataFrame:
    """A table file as a DataFrame."""
    if path.suffix == ".csv":
        return pd.read_csv(path)
    return pd.read_parquet(path)


@dataclass
class ColumnDiff:
    """How one column differs."""

    column: str
    differing: int
    max_abs_diff: float | None


@dataclass
class TableDiff:
    """How a rerun table compares with the committed one."""

    path: str
    status: Literal["match", "differ", "missing", "extra"]
    committed_sha256: str | None = None
    rerun_sha256: str | None = None
    notes: list[str] = field(default_factory=list)
    columns: list[ColumnDiff] = field(default_factory=list)


def _dropped(df: pd.DataFrame, ignore: list[str]) -> pd.DataFrame:
    return df.drop(columns=[c for c in ignore if c in df.columns])


def compare_tables(path: str, committed: pd.DataFrame, rerun: pd.DataFrame) -> TableDiff:
    """Compare two tables by data hash and, when they differ, column by column."""
    h1, h2 = table_hash(committed), table_hash(rerun)
    diff = TableDiff(path, "match" if h1 == h2 else "differ", h1, h2)
    if h1 == h2:
        return diff
    only_c = [c for c in committed.columns if c not in rerun.columns]
    only_r = [c for c in rerun.columns if c not in committed.columns]
    if only_c:
        diff.notes.append(f"columns only in the committed table: {', '.join(map(str, only_c))}")
    if only_r:
        diff.notes.append(f"columns only in the rerun table: {', '.join(map(str, only_r))}")
    if len(committed) != len(rerun):
        diff.notes.append(f"rows: committed {len(committed)}, rerun {len(rerun)}")
        return diff
    common = [c for c in committed.columns if c in rerun.columns]
    if [c for c in committed.columns if c in common] != [c for c in rerun.columns if c in common]:
        diff.notes.append("columns are in a different order")
    for col in common:
        a, b = committed[col], rerun[col]
        if str(a.dtype) != str(b.dtype):
            diff.notes.append(f"{col}: dtype {a.dtype} committed, {b.dtype} rerun")
        if pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b):
            x = a.to_numpy(dtype=np.float64, na_value=np.nan)
            y = b.to_numpy(dtype=np.float64, na_value=np.nan)
            same = (x == y) | (np.isnan(x) & np.isnan(y))
            n = int((~same).sum())
            if n:
                with np.errstate(invalid="ignore"):
                    gap = np.abs(x - y)[~same]
                finite = gap[np.isfinite(gap)]
                biggest = float(finite.max()) if finite.size else None
                diff.columns.append(ColumnDiff(col, n, biggest))
        else:
            xs = a.astype(object).where(a.notna(), None).to_numpy()
            ys = b.astype(object).where(b.notna(), None).to_numpy()
            n = int(sum(1 for u, v in zip(xs, ys, strict=True) if u != v))
            if n:
                diff.columns.append(ColumnDiff(col, n, None))
    if not diff.columns and not diff.notes:
        diff.notes.append("same values, different dtypes or column order")
    return diff


def compare_folders(committed: Path, rerun: Path, ignore: list[str]) -> list[TableDiff]:
    """Compare every table of two results folders."""
    a, b = set(find_tables(committed)), set(find_tables(rerun))
    out: list[TableDiff] = []
    for rel in sorted(a | b):
        if rel not in b:
            out.append(TableDiff(rel, "missing", notes=["not produced by the rerun"]))
        elif rel not in a:
            out.append(TableDiff(rel, "extra", notes=["produced by the rerun, not committed"]))
        else:
            t1 = _dropped(read_table(committed / rel), ignore)
            t2 = _dropped(read_table(rerun / rel), ignore)
            out.append(compare_tables(rel, t1, t2))
    return out


def format_diffs(diffs: list[TableDiff]) -> list[str]:
    """Lines describing a comparison."""
    lines = []
    for d in diffs:
        if d.status == "match":
            lines.append(f"match    {d.path}  {d.committed_sha256[:16]}")  # type: ignore[index]
            continue
        lines.append(f"{d.status:<8} {d.path}")
        if d.status == "differ":
            was, now = str(d.committed_sha256)[:16], str(d.rerun_sha256)[:16]
            lines.append(f"         committed {was}, rerun {now}")
        lines.extend(f"         {note}" for note in d.notes)
        for c in d.columns:
            gap = "" if c.max_abs_diff is None else f", max abs diff {c.max_abs_diff:.6g}"
            lines.append(f"         column {c.column}: {c.differing} values differ{gap}")
    return lines


# ---------------------------------------------------------------------------------------------
# The command
# ---------------------------------------------------------------------------------------------
def _write_manifest(exp: LoadedExperiment, folder: Path) -> None:
    from urbsim.output.write import git_state, urbsim_version

    tables = {}
    for rel in find_tables(folder):
        df = read_table(folder / rel)
        tables[rel] = {
            "rows": len(df),
            "sha256": table_hash(df),
            "sha256_compared": table_hash(_dropped(df, exp.spec.ignore_columns)),
        }
    manifest = {
        "experiment": exp.name,
        "experiment_sha256": exp.sha256,
        "spec": exp.spec.model_dump(mode="json"),
        "reproduce": f"urbsim reproduce {os.path.relpath(exp.folder, exp.root)}",
        "urbsim_version": urbsim_version(),
        "git": git_state(),
        "tables": tables,
    }
    text = json.dumps(manifest, sort_keys=True, indent=2, ensure_ascii=False)
    (folder / EXPERIMENT_MANIFEST).write_text(text + "\n", encoding="utf-8")


def reproduce(
    folder: str | Path,
    *,
    update: bool = False,
    keep: bool = False,
    options: SweepOptions | None = None,
    log: Callable[[str], None] = print,
) -> tuple[bool, list[TableDiff]]:
    """Rerun an experiment and compare (or, with ``update``, replace) its committed tables.

    Returns
    -------
    ok : bool
        Every table matches (always True after an update).
    diffs : list of TableDiff
        The comparison, one entry per table (empty after an update).

    Raises
    ------
    ExperimentError
        The experiment file is invalid.
    SweepError
        A sweep file of the experiment is invalid.
    StepFailed
        A step failed.
    OutputError
        There is nothing committed to compare with.
    """
    exp = load_experiment(folder)
    options = options or SweepOptions()
    if update:

        def fill(tmp: Path) -> None:
            run_steps(exp, tmp, options, log)
            _write_manifest(exp, tmp)

        replace_dir(exp.results, fill)
        log(f"updated {exp.results}")
        return True, []
    if not find_tables(exp.results):
        raise OutputError(
            f"{exp.results}: no committed tables to compare with; create them with "
            f"urbsim reproduce {os.path.relpath(exp.folder)} --update"
        )
    tmp = Path(tempfile.mkdtemp(prefix=f"urbsim-reproduce-{exp.name}-"))
    try:
        run_steps(exp, tmp, options, log)
        diffs = compare_folders(exp.results, tmp, exp.spec.ignore_columns)
    finally:
        if keep:
            log(f"rerun kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return all(d.status == "match" for d in diffs), diffs
