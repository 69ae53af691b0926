"""The calibrated scenario's parameters: the ensemble's most plausible set, in the scenario file.

Projections and policy experiments run the whole not-ruled-out ensemble
(``results/calibration/full/ensemble.csv``); ``scenarios/china_census.toml`` (``make demo``,
the tutorial) needs one parameter set: the ensemble member with the smallest largest
implausibility, rounded to 4 significant digits, between the markers of the file.
``--write`` writes it there; ``--check`` exits with status 1 when the file holds other values,
so that a stale scenario is never run as the calibrated one; ``--block FILE`` only writes the
block into FILE (the experiment's step: ``urbsim reproduce --update`` replaces nothing outside
``results/calibration``, so the scenario file is written by hand afterwards with ``--write``).
``--scenario`` names another scenario file to write or check. The settings of :data:`KEPT`
(``behaviour.destination_constants``: not fitted, but the calibration's runs read it from the
file) stay in the new block; any other entry not in the ensemble is dropped.

Usage: python experiments/calibration/scenario_block.py ENSEMBLE_CSV
       (--write | --check | --block FILE) [--scenario FILE]
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from pathlib import Path
from typing import Any

import pandas as pd

from urbsim.analysis.history_matching import ENSEMBLE_NOT_PARAMETERS
from urbsim.sweep.spec import toml_value

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "china_census.toml"
#: Start of the block (the older marker named fit.py: any text after the prefix is replaced).
PREFIX = "# --- fitted by experiments/calibration: do not edit by hand"
BEGIN = PREFIX + " (scenario_block.py --write) ---"
END = "# --- end of fitted parameters ---"
#: The block in a scenario file.
BLOCK = re.compile(re.escape(PREFIX) + r".*?" + re.escape(END) + r"\n", re.DOTALL)


def significant(x: float, digits: int = 4) -> float:
    """``x`` rounded to ``digits`` significant digits (what the scenario file holds)."""
    return float(f"{x:.{digits - 1}e}")


def most_plausible(ensemble: pd.DataFrame) -> dict[str, float]:
    """The parameter set with the smallest largest implausibility, rounded: on its own runs
    when the ensemble was verified by runs, else the emulators'."""
    column = (
        "run_max_implausibility" if "run_max_implausibility" in ensemble else "max_implausibility"
    )
    row = ensemble.loc[ensemble[column].idxmin()]
    return {k: significant(float(v)) for k, v in row.items() if k not in ENSEMBLE_NOT_PARAMETERS}


#: Settings of the fitted block that are not fitted: a new block keeps them (the calibration's
#: runs read them from the scenario file). Any other entry not in the ensemble is dropped, so a
#: parameter taken out of the box does not keep its old fitted value.
KEPT: tuple[str, ...] = ("behaviour.destination_constants",)


def kept_entries(fitted: list[str], path: Path = SCENARIO) -> dict[str, Any]:
    """The entries of :data:`KEPT` that the file's block sets and ``fitted`` does not. The block
    holds the file's only ``[behaviour]`` table, so a new block must carry them."""
    found = BLOCK.search(path.read_text(encoding="utf-8"))
    if found is None:
        return {}
    data = tomllib.loads(found.group(0))
    flat = {f"{t}.{k}": v for t, table in data.items() for k, v in table.items()}
    return {name: flat[name] for name in KEPT if name in flat and name not in fitted}


def block(values: dict[str, Any]) -> str:
    """The values as TOML tables between the markers."""
    tables: dict[str, list[str]] = {}
    for name, value in values.items():
        table, key = name.rsplit(".", 1)
        tables.setdefault(table, []).append(f"{key} = {toml_value(value)}")
    lines = [BEGIN]
    for table, entries in tables.items():
        lines += [f"[{table}]", *entries, ""]
    lines[-1] = END
    return "\n".join(lines) + "\n"


def scenario_values(names: list[str], path: Path = SCENARIO) -> dict[str, float | None]:
    """The values the scenario file sets for ``names`` (None where it sets none)."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    out: dict[str, float | None] = {}
    for name in names:
        node: object = data
        for part in name.split("."):
            node = node.get(part, {}) if isinstance(node, dict) else {}
        out[name] = float(node) if isinstance(node, int | float) else None
    return out


def write(text: str, path: Path = SCENARIO) -> None:
    """Replace the fitted block of the scenario file (or append it)."""
    old = path.read_text(encoding="utf-8")
    new = BLOCK.sub(lambda _: text, old) if BLOCK.search(old) else old + "\n" + text
    path.write_text(new, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ensemble", type=Path)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true")
    mode.add_argument("--check", action="store_true")
    mode.add_argument("--block", type=Path, help="write the block into this file only")
    parser.add_argument("--scenario", type=Path, default=SCENARIO)
    args = parser.parse_args()
    values = most_plausible(pd.read_csv(args.ensemble))
    entries = {**kept_entries(list(values), args.scenario), **values}
    if args.block is not None:
        args.block.write_text(block(entries), encoding="utf-8")
        return 0
    if args.write:
        write(block(entries), args.scenario)
        print(f"wrote {values} into {args.scenario}")
        return 0
    if scenario_values(list(values), args.scenario) != values:
        print(
            f"{args.scenario} does not hold the ensemble's most plausible set {values}: rerun "
            "with --write",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
