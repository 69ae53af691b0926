"""Sweep files an experiment derives from the calibrated ensemble: written, or checked current.

The ``make_sweeps.py`` scripts of ``experiments/sensitivity`` and ``experiments/policy_directions``
take the same command line (:func:`sweep_file_parser`), start every sweep file with the same
settings (:func:`sweep_settings`) and, once they have the text of every file, write them
(``--write``) or tell which ones the ensemble no longer gives (``--check``) with
:func:`write_or_check`, so that an experiment never runs parameter sets the calibration does not
hold. The scripts run as scripts, not as a package: they put this folder on ``sys.path`` and
import from here.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from urbsim.sweep.spec import toml_value

ROOT = Path(__file__).resolve().parents[1]
#: The calibration's not-ruled-out ensemble, from which the sweeps are derived by default.
ENSEMBLE = ROOT / "results" / "calibration" / "full" / "ensemble.csv"


def sweep_file_parser(
    description: str, folder: Path, replications: int, households_per_agent: float
) -> argparse.ArgumentParser:
    """The command line the ``make_sweeps.py`` scripts share; each adds the size of its design.

    Parameters
    ----------
    description : str
        The script's description (the first line of its docstring).
    folder : Path
        Default of ``--folder``, where the sweep files are written or checked.
    replications : int
        Default of ``--replications``: replications of every parameter set.
    households_per_agent : float
        Default of ``--households-per-agent``: the scale of every run.

    Returns
    -------
    argparse.ArgumentParser
        Options ``ENSEMBLE_CSV`` (default :data:`ENSEMBLE`), ``--write`` or ``--check`` (one of
        them required), ``--replications``, ``--households-per-agent`` and ``--folder``.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("ensemble", type=Path, nargs="?", default=ENSEMBLE)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true")
    mode.add_argument("--check", action="store_true")
    parser.add_argument("--replications", type=int, default=replications)
    parser.add_argument("--households-per-agent", type=float, default=households_per_agent)
    parser.add_argument("--folder", type=Path, default=folder, help="where the sweeps are")
    return parser


def sweep_settings(
    scenario: str, folder: Path, seed: int, replications: int, households_per_agent: float
) -> list[str]:
    """The top-level settings of a sweep file over one policy scenario, as lines of TOML.

    Parameters
    ----------
    scenario : str
        Name of the base scenario in ``scenarios/policy/``.
    folder : Path
        Folder the sweep file is written into: the base scenario's path is relative to it.
    seed : int
        The sweep's seed, the same in every scenario of an experiment (common random numbers).
    replications : int
        Replications of every parameter set.
    households_per_agent : float
        The scale of every run.

    Returns
    -------
    list[str]
        The ``base``, ``seed``, ``replications`` and ``households_per_agent`` lines.
    """
    base = os.path.relpath(ROOT / "scenarios" / "policy" / f"{scenario}.toml", folder)
    return [
        f"base = {toml_value(base)}",
        f"seed = {seed}",
        f"replications = {replications}",
        f"households_per_agent = {toml_value(households_per_agent)}",
    ]


def points_design(ensemble: pd.DataFrame, parameters: list[str]) -> list[str]:
    """The ``[design]`` of a sweep over the rows of ``ensemble`` (a ``points`` design: one
    point per row, the listed parameters' values), as lines of TOML."""
    lines = ["", "[design]", 'kind = "points"']
    for p in parameters:
        values = ", ".join(repr(float(v)) for v in ensemble[p])
        lines += ["", "[[design.parameters]]", f"name = {toml_value(p)}", f"values = [{values}]"]
    return lines


def write_or_check(texts: Mapping[Path, str], write: bool, ensemble: Path) -> int:
    """Write every sweep file, or check that each one on disk holds its text.

    Parameters
    ----------
    texts : Mapping[Path, str]
        Each sweep file (in an existing folder) and the text the ensemble gives it.
    write : bool
        True: write every file (``--write``). False: only compare (``--check``).
    ensemble : Path
        The ensemble the texts come from, named in the message about stale files.

    Returns
    -------
    int
        The exit status of the script: 0 when written or all current, 1 when a file is missing
        or differs (their names are printed to stderr with the fix, rerunning with ``--write``).
    """
    stale = []
    for path, text in texts.items():
        if write:
            path.write_text(text, encoding="utf-8")
        elif not path.is_file() or path.read_text(encoding="utf-8") != text:
            stale.append(path.name)
    if stale:
        print(f"sweeps not from {ensemble}: {stale}; rerun with --write", file=sys.stderr)
        return 1
    return 0
