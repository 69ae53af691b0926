"""Rerunning an experiment and comparing its results with the committed ones.

An experiment is a folder ``experiments/<name>/`` with an ``experiment.toml`` that lists the
steps producing ``results/<name>/``: sweeps, sweep figures, scenario runs and scripts, in order.
:func:`reproduce` runs the steps into a temporary folder, stopping at the first step that fails
(a sweep with failed runs, a script exiting non-zero), and compares every file with the
committed one (:mod:`urbsim.sweep.compare`): tables exactly for integers, counts and strings and
within a stated tolerance for other floats, manifests on what determines the results,
generated text line by line, figures by their pixels. With ``update=True`` the steps run into a
temporary sibling of ``results/<name>/`` that then replaces it: the one command that
regenerates an experiment's committed results.

Steps run with the repository root as working directory (the folder holding ``experiments/``),
so the commands recorded in the tables are the same wherever ``urbsim reproduce`` is called
from. The exact versions of the packages behind the committed results are in the root's
``requirements.lock``; :func:`lock_warnings` names the key packages installed at another
version.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Final, Literal

from pydantic import Field, ValidationError

from urbsim.output import (
    OutputError,
    check_replaceable,
    read_marker,
    replace_dir,
    table_hash,
    write_marker,
)
from urbsim.scenario.load import validation_problems
from urbsim.scenario.schema import Strict
from urbsim.sweep.compare import (
    DEFAULT_TOLERANCE,
    ColumnDiff,
    FileDiff,
    Tolerance,
    compare_folders,
    compare_tables,
    drop_columns,
    find_tables,
    format_diffs,
    read_table,
    summary_lines,
)
from urbsim.sweep.spec import SweepError

EXPERIMENT_FILE: Final[str] = "experiment.toml"
#: Written into the results folder: the experiment's hash, its steps and every table's hash.
EXPERIMENT_MANIFEST: Final[str] = "experiment.json"
#: Inside a build folder: the steps finished so far (removed when the last one is done).
PROGRESS_FILE: Final[str] = ".urbsim-steps.json"
#: Exact versions of every installed distribution behind the committed results (repo root).
LOCK_FILE: Final[str] = "requirements.lock"
#: Distributions whose version can change a result's last digits or a figure's pixels: a
#: difference from the lock is a warning when reproducing.
KEY_PACKAGES: Final[tuple[str, ...]] = (
    "numpy",
    "pandas",
    "pyarrow",
    "numba",
    "llvmlite",
    "scipy",
    "SALib",
    "mesa",
    "matplotlib",
    "seaborn",
    "pydantic",
)


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
        raise ExperimentError(str(file), validation_problems(exc)) from None
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
    """A step did not produce its outputs: a sweep with failed or unfinished runs, a command
    exiting non-zero. The message names the step; the steps after it are not run."""


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
    resume: bool = False,
) -> None:
    """Run every step of an experiment, writing into ``target``; stop at the first failure.

    After each step it is recorded in ``target/.urbsim-steps.json`` (removed when the last
    step is done) with a hash of the experiment folder's files: a build of ``target`` that was
    killed is continued by calling this again on the same folder, which keeps the steps
    recorded as finished (all of them run again if a file of the experiment folder changed
    since, a script or ``box.csv``), resumes the sweep steps (their finished runs are read
    back; a sweep whose file changed is refused by the sweep driver) and runs a script step
    that was interrupted again from its start (the calibration's scripts resume their own
    sweeps). ``resume`` resumes sweeps in ``target`` even without a record.

    Raises
    ------
    StepFailed
        When a step fails (the message names it and why).
    """
    target.mkdir(parents=True, exist_ok=True)
    n = len(exp.spec.steps)
    files = _folder_hash(exp.folder)
    done = finished_steps(target, files)
    resuming = bool(done) or resume
    # Recorded before the first step: a build killed in it can only be continued by this code
    # (its partial sweeps hold this code's runs).
    code = code_identity()
    _write_progress(target, done, files, code)
    with contextlib.chdir(exp.root):
        for i, step in enumerate(exp.spec.steps):
            name = f"step {i + 1}/{n} ({_describe(step)})"
            if i < len(done) and done[i] == _step_key(step):
                log(f"{name}: finished before the interruption, kept")
                continue
            # A recorded step that no longer matches: it and everything after it run again.
            del done[i:]
            log(name)
            if isinstance(step, SweepStep):
                _run_sweep_step(exp, step, target, options, log, name, resuming)
            elif isinstance(step, PlotSweepStep):
                from urbsim.plots.sweep import draw_figures

                draw_figures(target / step.dir)
            elif isinstance(step, RunStep):
                _call(_run_command(exp, step, target), exp.root, name)
            else:
                subs = {
                    "python": sys.executable,
                    "results": str(target),
                    "out": str(target / step.out),
                    "experiment": str(exp.folder),
                    "root": str(exp.root),
                }
                (target / step.out).mkdir(parents=True, exist_ok=True)
                _call([_substitute(arg, subs) for arg in step.command], exp.root, name)
            done.append(_step_key(step))
            _write_progress(target, done, files, code)
    # The record of finished steps is the build's, not a result.
    (target / PROGRESS_FILE).unlink(missing_ok=True)


def _step_key(step: Any) -> str:
    # Every field of the step: a step edited in any way since the interruption runs again.
    return json.dumps(step.model_dump(mode="json"), sort_keys=True)


def _folder_hash(folder: Path) -> str:
    """sha256 over the names and bytes of every file under ``folder`` (caches left out)."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _read_progress(target: Path) -> dict[str, Any]:
    """The record of an interrupted build of ``target`` ({} when missing or unreadable)."""
    try:
        data = json.loads((target / PROGRESS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def finished_steps(target: Path, files: str | None = None) -> list[str]:
    """The steps an interrupted build of ``target`` finished, in order (each as the JSON of
    its fields); empty when it has no record, an unreadable one, or (given ``files``, the
    experiment folder's hash now) one made with other experiment files."""
    data = _read_progress(target)
    if files is not None and data.get("files") != files:
        return []
    steps = data.get("finished")
    return [s for s in steps if isinstance(s, str)] if isinstance(steps, list) else []


def code_identity() -> str:
    """What code this urbsim runs: the commit of its git checkout (with a hash of the changed
    code files when they differ from it), else the installed version.

    An editable install keeps the version of its installation whatever is checked out since,
    so the commit is read from git at each call.
    """
    from urbsim import __version__
    from urbsim.output.write import git_state

    state = git_state()
    if state is None:
        return f"version {__version__}"
    if not state["dirty"]:
        return f"commit {state['commit']}" + ("" if state["dirty"] is False else " (unknown)")
    root = Path(__file__).resolve().parents[2]
    h = hashlib.sha256()
    for rel in sorted(state["changed"]):
        h.update(rel.encode() + b"\0")
        path = root / rel
        h.update(path.read_bytes() if path.is_file() else b"(deleted)")
    return f"commit {state['commit']} with changes {h.hexdigest()[:16]}"


def recorded_code(target: Path) -> str | None:
    """The code identity (:func:`code_identity`) an interrupted build of ``target`` ran,
    or None when it has no readable record of it."""
    code = _read_progress(target).get("code")
    return code if isinstance(code, str) else None


def _write_progress(target: Path, done: list[str], files: str, code: str) -> None:
    # Written whole, then renamed: a kill between two steps leaves the old record or the new.
    tmp = target / f"{PROGRESS_FILE}.tmp"
    record = {"files": files, "code": code, "finished": done}
    tmp.write_text(json.dumps(record, indent=2), encoding="utf-8")
    tmp.replace(target / PROGRESS_FILE)


def _run_sweep_step(
    exp: LoadedExperiment,
    step: SweepStep,
    target: Path,
    options: SweepOptions,
    log: Callable[[str], None],
    name: str,
    resume: bool = False,
) -> None:
    from urbsim.sweep.driver import run_sweep

    outcome = run_sweep(
        exp.folder / step.file,
        target / step.out,
        executor=options.executor,  # type: ignore[arg-type]
        workers=options.workers,
        threads=options.threads,
        scheduler=options.scheduler,
        resume=resume,
        force=not resume,
        log=log,
    )
    if outcome.missing:
        raise StepFailed(f"{name}: {len(outcome.missing)} of {outcome.total} runs did not finish")
    # A sweep with failed runs is complete (its folder records them) but is not the
    # experiment: the steps after it would analyse the wrong tables.
    if outcome.failed or not outcome.complete:
        first = f"; run {outcome.failures[0][0]}: {outcome.failures[0][1]}" * bool(outcome.failures)
        raise StepFailed(f"{name}: {outcome.failed} of {outcome.total} runs failed{first}")


def _run_command(exp: LoadedExperiment, step: RunStep, target: Path) -> list[str]:
    cmd = [
        sys.executable,
        "-m",
        "urbsim",
        "run",
        str(Path(os.path.relpath(exp.folder / step.scenario, exp.root))),
        "--out",
        str(target / step.out),
    ]
    if step.seed is not None:
        cmd += ["--seed", str(step.seed)]
    for item in step.set:
        cmd += ["--set", item]
    return cmd


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


def _call(cmd: list[str], cwd: Path, name: str) -> None:
    # The command's own output (an ``error:`` line) goes to the terminal as it is written.
    # The step dies with this driver whatever ends it, as sweep workers do: a calibration
    # script left running after its driver was killed kept both cores busy for an hour
    # (its own worker pools die with it in turn).
    from urbsim.sweep.executors import parent_death_hook

    proc = subprocess.run(cmd, cwd=cwd, check=False, preexec_fn=parent_death_hook(os.getpid()))
    if proc.returncode != 0:
        raise StepFailed(f"{name}: exited with code {proc.returncode}")


# ---------------------------------------------------------------------------------------------
# The command
# ---------------------------------------------------------------------------------------------
def write_experiment_manifest(exp: LoadedExperiment, folder: Path) -> None:
    """Write ``experiment.json`` into a results folder: the experiment's hash and steps and
    every table's row count and data hash (compared by :func:`urbsim.sweep.compare`)."""
    from urbsim.output.write import git_state, urbsim_version

    tables = {}
    for rel in find_tables(folder):
        df = read_table(folder / rel)
        tables[rel] = {
            "rows": len(df),
            "sha256": table_hash(df),
            "sha256_compared": table_hash(drop_columns(df, exp.spec.ignore_columns)),
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


#: The lock file's header line naming the interpreter (written by ``make lock``).
_LOCK_PYTHON = re.compile(r"^# CPython (\d+\.\d+\.\d+)\b", re.MULTILINE)
_LOCK_LINE = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^\s;#]+)")


def read_lock(path: Path) -> dict[str, str]:
    """``name==version`` lines of a lock file, by normalized name (comments and options aside)."""
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        m = _LOCK_LINE.match(line)
        if m:
            pins[_normalize(m.group(1))] = m.group(2)
    return pins


def _normalize(name: str) -> str:
    # PEP 503: Mesa, mesa and me_sa name the same distribution.
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_warnings(root: Path) -> list[str]:
    """One line per key package installed at another version than ``<root>/requirements.lock``,
    and one when the Python version differs from the one its header names.

    Nothing when the repository has no lock file or a key package is not pinned in it.
    """
    lock = root / LOCK_FILE
    if not lock.is_file():
        return []
    pins = read_lock(lock)
    lines = []
    made_with = _LOCK_PYTHON.search(lock.read_text(encoding="utf-8"))
    if made_with and made_with.group(1) != platform.python_version():
        lines.append(
            f"warning: Python {platform.python_version()} is running, {LOCK_FILE} was made with "
            f"Python {made_with.group(1)} (results may differ)"
        )
    for name in KEY_PACKAGES:
        wanted = pins.get(_normalize(name))
        if wanted is None:
            continue
        try:
            found = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found = "not installed"
        if found != wanted:
            lines.append(
                f"warning: {name} {found} is installed, {LOCK_FILE} has {wanted} (results may "
                f"differ; pip install -r {LOCK_FILE} -e . installs the locked versions)"
            )
    return lines


def interrupted_updates(exp: LoadedExperiment) -> list[Path]:
    """Temporary folders of updates of ``exp`` whose process is gone, newest first.

    ``urbsim reproduce --update`` builds ``results/.<name>.tmp-<pid>`` and deletes it on any
    error it sees; a process killed from outside (a closed session, the OOM killer) leaves it.
    Only a folder marked by an update of the same experiment file (the marker's identity is
    its sha256) whose process no longer runs is listed.
    """
    # The sweep workers' liveness check (a zombie, dead but not reaped, counts as gone).
    from urbsim.sweep.executors import process_exists

    found = []
    for folder in exp.results.parent.glob(f".{exp.results.name}.tmp-*"):
        pid = folder.name.rpartition("-")[2]
        marker = read_marker(folder)
        if not folder.is_dir() or not pid.isdigit() or marker is None:
            continue
        if marker.get("kind") != "experiment" or marker.get("identity") != exp.sha256:
            continue
        if process_exists(int(pid)):
            continue
        found.append(folder)
    return sorted(found, key=lambda f: f.stat().st_mtime, reverse=True)


def _update(
    exp: LoadedExperiment,
    options: SweepOptions,
    log: Callable[[str], None],
    resume: bool,
    keep: bool = False,
) -> None:
    """Run the steps into a marked temporary folder that then replaces ``results/<name>/``
    (with ``resume``, the newest interrupted one: :func:`interrupted_updates`); with ``keep``,
    a failed step leaves that folder in place."""
    # results/<name>/ is committed on purpose: --update is the one command that may replace
    # tracked files, and only in the experiment's own results folder.
    check_replaceable(exp.results, "experiment", allow_tracked=True)
    start = None
    if resume:
        found = interrupted_updates(exp)
        if not found:
            raise OutputError(
                f"{exp.results.parent}: no interrupted update of {exp.name} to resume (a "
                f"folder .{exp.results.name}.tmp-<pid> of this experiment file whose process "
                "is gone); run without --resume"
            )
        start = found[0]
        made_by, now = recorded_code(start), code_identity()
        if made_by != now:
            # Its finished runs and waves come from other code: continuing would mix two models
            # in one result (the record is written before the first step).
            raise OutputError(
                f"{start}: made by urbsim at {made_by or 'an unrecorded code state'}, this is "
                f"{now}; its runs would mix with this code's. Run --update without --resume "
                "(or check out that code to continue)"
            )
        kept = len(finished_steps(start, _folder_hash(exp.folder)))
        log(f"resuming {start} ({kept} of {len(exp.spec.steps)} steps finished)")

    def fill(tmp: Path) -> None:
        write_marker(tmp, "experiment", exp.sha256)
        # A long update may be killed from outside; the folder is what --resume continues.
        log(f"writing into {tmp} (if this process is killed, --update --resume continues it)")
        try:
            run_steps(exp, tmp, options, log, resume=resume)
            write_experiment_manifest(exp, tmp)
        except Exception:
            # replace_dir keeps the folder on exactly these errors (not on an interrupt): an
            # hour of runs whose last step failed (a refused fit) is what the user reads next.
            if keep:
                log(f"the unfinished update is kept in {tmp}: read it, or continue it with "
                    "--update --resume once the cause is fixed outside the code")  # fmt: skip
            raise

    replace_dir(exp.results, fill, start_from=start, keep_failed=keep)
    log(f"updated {exp.results}")


def reproduce(
    folder: str | Path,
    *,
    update: bool = False,
    resume: bool = False,
    keep: bool = False,
    options: SweepOptions | None = None,
    log: Callable[[str], None] = print,
    warn: Callable[[str], None] | None = None,
    tolerance: Tolerance = DEFAULT_TOLERANCE,
) -> tuple[bool, list[FileDiff]]:
    """Rerun an experiment and compare (or, with ``update``, replace) its committed results.

    Parameters
    ----------
    folder
        The experiment folder (or its ``experiment.toml``).
    update
        Regenerate the committed results in place instead of comparing.
    resume
        With ``update``: continue the newest update of this experiment that was killed, in
        its temporary folder (:func:`interrupted_updates`, :func:`run_steps`).
    keep
        Keep the rerun's temporary folder (its path is logged); with ``update``, keep it only
        when a step fails (:func:`interrupted_updates` then finds it for ``resume``).
    options
        How sweep steps run.
    log, warn
        Progress messages; warnings (key packages not at their locked version), by default
        to ``log``.
    tolerance
        For floating-point values that are not counts (:mod:`urbsim.sweep.compare`).

    Returns
    -------
    ok : bool
        Every file matches (always True after an update).
    diffs : list of FileDiff
        The comparison, one entry per file (empty after an update).

    Raises
    ------
    ExperimentError
        The experiment file is invalid.
    SweepError
        A sweep file of the experiment is invalid.
    StepFailed
        A step failed; the steps after it did not run.
    OutputError
        There is nothing committed to compare with.
    """
    exp = load_experiment(folder)
    options = options or SweepOptions()
    for line in lock_warnings(exp.root):
        (warn or log)(line)
    if resume and not update:
        raise OutputError("--resume continues an interrupted --update; pass both")
    if update:
        _update(exp, options, log, resume, keep)
        return True, []
    if not find_tables(exp.results):
        raise OutputError(
            f"{exp.results}: no committed tables to compare with; create them with "
            f"urbsim reproduce {os.path.relpath(exp.folder)} --update"
        )
    tmp = Path(tempfile.mkdtemp(prefix=f"urbsim-reproduce-{exp.name}-"))
    try:
        run_steps(exp, tmp, options, log)
        write_experiment_manifest(exp, tmp)
        diffs = compare_folders(
            exp.results, tmp, ignore=exp.spec.ignore_columns, root=exp.root, tolerance=tolerance
        )
    finally:
        if keep:
            log(f"rerun kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return all(d.status == "match" for d in diffs), diffs


__all__ = [
    "DEFAULT_TOLERANCE",
    "EXPERIMENT_FILE",
    "KEY_PACKAGES",
    "LOCK_FILE",
    "ColumnDiff",
    "Experiment",
    "ExperimentError",
    "FileDiff",
    "StepFailed",
    "SweepOptions",
    "Tolerance",
    "compare_tables",
    "finished_steps",
    "format_diffs",
    "interrupted_updates",
    "load_experiment",
    "lock_warnings",
    "reproduce",
    "run_steps",
    "summary_lines",
    "write_experiment_manifest",
]
