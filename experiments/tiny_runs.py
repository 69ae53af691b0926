"""The command line and the runner of every experiment's ``tiny.py``: its steps, each timed.

The tiny scripts (``experiments/<name>/tiny.py``) run an experiment's steps at a budget small
enough for a test. They run as scripts, not as a package: they put this folder on ``sys.path``
and import from here.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

#: Characters of a failed step's stdout and stderr shown (the tail: where the error is).
TAIL = 3000


def tiny_parser(
    description: str, inputs: Sequence[str], households_per_agent: float
) -> argparse.ArgumentParser:
    """The command line the tiny scripts share; each adds the size of its design.

    Parameters
    ----------
    description : str
        The script's description (the first line of its docstring).
    inputs : Sequence[str]
        Names of the input files the script reads, positional arguments before ``out``.
    households_per_agent : float
        Default of ``--households-per-agent``: the scale of every run.

    Returns
    -------
    argparse.ArgumentParser
        The ``inputs`` and ``out`` (the results folder) as paths, and
        ``--households-per-agent``.
    """
    parser = argparse.ArgumentParser(description=description)
    for name in (*inputs, "out"):
        parser.add_argument(name, type=Path)
    parser.add_argument("--households-per-agent", type=float, default=households_per_agent)
    return parser


def run_timed_steps(steps: Iterable[tuple[str, list[str]]], out: Path) -> pd.DataFrame:
    """Run each step's command in turn and write the wall time of each to ``stage_seconds.csv``.

    Parameters
    ----------
    steps : Iterable[tuple[str, list[str]]]
        (name, command) of every step, in the order they must run (a step reads what the ones
        before it wrote).
    out : Path
        Folder receiving ``stage_seconds.csv`` (an existing folder).

    Returns
    -------
    pandas.DataFrame
        One row per step: ``step`` (its name) and ``seconds`` (its wall time), also printed.

    Raises
    ------
    SystemExit
        When a step exits with a non-zero status: the tails of its output are printed to stderr
        and no ``stage_seconds.csv`` is written (a failed run has no budget to extrapolate).
    """
    rows = []
    for name, command in steps:
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        rows.append({"step": name, "seconds": time.perf_counter() - start})
        if done.returncode != 0:
            print(done.stdout[-TAIL:], done.stderr[-TAIL:], sep="\n", file=sys.stderr)
            raise SystemExit(f"step {name} failed (exit {done.returncode})")
    table = pd.DataFrame(rows)
    table.to_csv(out / "stage_seconds.csv", index=False, float_format="%.1f")
    print(table.to_string(index=False))
    return table
