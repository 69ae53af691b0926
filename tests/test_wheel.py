"""Issue 15: the built wheel, installed alone in a fresh virtual environment, runs from an empty
folder: ``urbsim --version``, the packaged scenarios by name, and the tutorial's commands.

How the environment is made, and why: ``python -m venv`` (no system site-packages, so nothing of
the test environment leaks in) and ``pip install <wheel>``, which resolves the wheel's declared
dependencies from the package index (or pip's cache, where ``make setup`` already put them).
This is what a user does, so a dependency missing from ``pyproject.toml`` fails here, with
one difference: ``--no-compile``. pip byte-compiles every module of every dependency by
default, most of which a run never imports; without it the install took 47 s instead of 132 s
(25 s of CPU instead of 78 s, 2026-12-02, the machine busy with other jobs), and the modules a
run imports are compiled when first imported (10 s of CPU, once: the runs here may write
bytecode). ``pip --isolated`` ignores the machine's pip configuration, whose extra index
locations make pip print warnings that are not the project's.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_project import WARNING_LINE, _clean_env, _source_copy
from test_tutorial import check_tutorial_outputs, copy_scenarios, run_tutorial

#: Households per agent of the runs here: about 10,000 agents, seconds per run.
SMALL = "world.households_per_agent=40000.0"


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"{' '.join(args)}:\n{output}"
    return output


def _no_warnings(output: str) -> None:
    warnings = [line for line in output.splitlines() if WARNING_LINE.search(line)]
    assert warnings == [], "\n".join(warnings)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A fresh venv with only the wheel built from this tree (and its dependencies)."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = _source_copy(tmp / "src")
    env = _clean_env()
    build = [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", "dist", "."]
    _no_warnings(_run(build, src, env))
    (wheel,) = (src / "dist").glob("urbsim-*.whl")
    venv = tmp / "venv"
    # sys.executable is the test venv's Python; a venv made from it starts from the base
    # interpreter's standard library only.
    _run([sys.executable, "-m", "venv", str(venv)], tmp, env)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "--isolated", "--disable-pip-version-check"]
    _no_warnings(_run([*pip, "install", "--quiet", "--no-compile", str(wheel)], tmp, env))
    run_env = {k: v for k, v in env.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    run_env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return venv, run_env


def _empty_dir(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    return folder


def _has_packaged_scenarios(venv: Path, env: dict[str, str], cwd: Path) -> bool:
    """Whether this urbsim resolves scenario names (``urbsim scenarios`` exists)."""
    proc = subprocess.run(
        [str(venv / "bin" / "urbsim"), "scenarios"], cwd=cwd, env=env, capture_output=True
    )
    return proc.returncode == 0


@pytest.mark.slow
def test_version_from_an_empty_folder(
    installed: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    venv, env = installed
    out = _run([str(venv / "bin" / "urbsim"), "--version"], _empty_dir(tmp_path, "e"), env)
    assert re.fullmatch(r"urbsim \S+\n", out), out


@pytest.mark.slow
@pytest.mark.parametrize("name", ["baseline", "china_census"])
def test_packaged_scenarios_run_by_name(
    installed: tuple[Path, dict[str, str]], tmp_path: Path, name: str
) -> None:
    venv, env = installed
    cwd = _empty_dir(tmp_path, "e")
    if not _has_packaged_scenarios(venv, env, cwd):
        pytest.skip("this urbsim packages no scenarios yet (`urbsim scenarios` is no command)")
    urbsim = str(venv / "bin" / "urbsim")
    _run([urbsim, "run", name, "--set", SMALL, "--out", "out1", "--quiet"], cwd, env)
    assert (cwd / "out1" / "manifest.json").is_file()
    assert (cwd / "out1" / "national.parquet").is_file()


@pytest.mark.slow
def test_the_tutorial_runs_with_the_installed_wheel(
    installed: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    venv, env = installed
    cwd = _empty_dir(tmp_path, "e")
    copy_scenarios(cwd)  # the tutorial works in a folder that holds scenarios/
    outputs = run_tutorial(cwd, venv / "bin", str(venv / "bin" / "python"), env)
    check_tutorial_outputs(cwd, outputs)
