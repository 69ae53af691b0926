"""Calibration, step 2: fit the five parameters to the official targets from the wave-1 sweep.

Reads the Latin-hypercube sweep (``lhs.toml``), fits a cubic emulator of each target, minimises
the loss, history-matches for the uncertainty and computes the loss profiles
(:mod:`urbsim.analysis.calibration`). Writes into OUT:

* ``parameters.csv``: each parameter's range, fitted value and the median and 5-95% interval
  of the not-implausible sets;
* ``targets.csv``: each target's official value, the emulated value at the fit, the emulator's
  R^2 and residual standard deviation;
* ``profiles.csv``: the profile loss of each parameter;
* ``fitted.toml``: the fitted values as scenario tables.

The fitted values of the final wave (4 significant digits) must be those of
``scenarios/china_census.toml``, which the verification sweep runs: ``--write-scenario`` writes
them there; ``--check-scenario`` exits with status 1 when they differ, so that a stale scenario
is never verified.

Usage: python experiments/calibration/fit.py LHS_DIR OUT [--write-scenario | --check-scenario]
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd

from urbsim.analysis.calibration import (
    INITIAL_STATE,
    OFFICIAL_TARGETS,
    QuadraticEmulator,
    fit_parameters,
    history_match,
    profiles,
)
from urbsim.sweep.driver import load_sweep_dir

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "china_census.toml"
BEGIN = "# --- fitted by experiments/calibration: do not edit by hand (fit.py --write-scenario) ---"
END = "# --- end of fitted parameters ---"
#: Emulator degree: the targets bend (settlement thresholds, in-situ feedback), so cubic.
DEGREE = 3
#: Model discrepancy allowed in history matching, as a share of each target's loss scale
#: (half a percentage point for the rates).
DISCREPANCY = 0.5
SEED = 7


def significant(x: float, digits: int = 4) -> float:
    """``x`` rounded to ``digits`` significant digits (what the scenario file holds)."""
    return float(f"{x:.{digits - 1}e}")


def read_sweep(folder: Path) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, pd.DataFrame]:
    """Parameter names, bounds (k, 2), design values (n, k), target values (n, t), initial state."""
    tables = load_sweep_dir(folder)
    design, summary, runs = tables["design"], tables["summary"], tables["runs"]
    spec = tables["spec"]
    names = [c for c in design.columns if c != "point"]
    params = spec["parameters"]
    bounds = np.array([p["bounds"][:2] for p in params], dtype=np.float64)
    if [p["name"] for p in params] != names:
        raise SystemExit(f"{folder}: design columns {names} do not match the sweep's parameters")
    failed = runs[runs["status"] != "ok"]
    if len(failed):
        raise SystemExit(f"{folder}: {len(failed)} runs failed; rerun the sweep with --resume")
    wide = summary.pivot_table(index="run", columns="metric", values="value", aggfunc="first")
    wanted = [t.metric_name for t in (*OFFICIAL_TARGETS, *INITIAL_STATE)]
    missing = [m for m in wanted if m not in wide.columns]
    if missing:
        raise SystemExit(f"{folder}: the sweep keeps no metric {missing}")
    x = runs.set_index("run").loc[wide.index, names].to_numpy(dtype=np.float64)
    y = wide[[t.metric_name for t in OFFICIAL_TARGETS]].to_numpy(dtype=np.float64)
    initial = wide[[t.metric_name for t in INITIAL_STATE]]
    return names, bounds, x, y, initial


def fitted_block(names: list[str], values: np.ndarray) -> str:
    """The fitted values as TOML tables, between the markers."""
    tables: dict[str, list[str]] = {}
    for name, value in zip(names, values, strict=True):
        table, key = name.rsplit(".", 1)
        tables.setdefault(table, []).append(f"{key} = {significant(float(value))!r}")
    lines = [BEGIN]
    for table, entries in tables.items():
        lines += [f"[{table}]", *entries, ""]
    lines[-1] = END
    return "\n".join(lines) + "\n"


def scenario_values(names: list[str], path: Path = SCENARIO) -> list[float | None]:
    """The values the scenario file sets for ``names`` (None where it sets none)."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    out: list[float | None] = []
    for name in names:
        node = data
        for part in name.split("."):
            node = node.get(part, {}) if isinstance(node, dict) else {}
        out.append(float(node) if isinstance(node, int | float) else None)
    return out


def write_scenario(block: str, path: Path = SCENARIO) -> None:
    """Replace the fitted block of the scenario file (or append it)."""
    text = path.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END) + r"\n", re.DOTALL)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text + "\n" + block
    path.write_text(text, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lhs", type=Path, help="folder of the finished lhs.toml sweep")
    parser.add_argument("out", type=Path, help="folder for the fit tables")
    parser.add_argument("--write-scenario", action="store_true")
    parser.add_argument(
        "--check-scenario",
        action="store_true",
        help="exit 1 unless the scenario holds the fitted values (the final wave)",
    )
    args = parser.parse_args()

    names, bounds, x, y, initial = read_sweep(args.lhs)
    emulator = QuadraticEmulator([tuple(b) for b in bounds], degree=DEGREE).fit(x, y)
    loss_sim = (
        (y - [t.value for t in OFFICIAL_TARGETS]) / [t.scale for t in OFFICIAL_TARGETS]
    ) ** 2
    best_runs = x[np.argsort(loss_sim.sum(axis=1), kind="stable")[:8]]
    fit = fit_parameters(emulator, OFFICIAL_TARGETS, starts=best_runs, n_starts=32, seed=SEED)
    assert emulator.residual_sd is not None and emulator.r2 is not None
    discrepancy = DISCREPANCY * np.array([t.scale for t in OFFICIAL_TARGETS])
    kept = history_match(
        emulator, OFFICIAL_TARGETS, np.zeros(len(OFFICIAL_TARGETS)), discrepancy, seed=SEED
    )
    prof = profiles(emulator, OFFICIAL_TARGETS, fit.parameters, points=41)

    args.out.mkdir(parents=True, exist_ok=True)
    params = pd.DataFrame(
        {
            "parameter": names,
            "low": bounds[:, 0],
            "high": bounds[:, 1],
            "fitted": [significant(v) for v in fit.parameters],
            "plausible_median": [kept[f"p{i}"].median() for i in range(len(names))],
            "plausible_q05": [kept[f"p{i}"].quantile(0.05) for i in range(len(names))],
            "plausible_q95": [kept[f"p{i}"].quantile(0.95) for i in range(len(names))],
            "plausible_sets": len(kept),
        }
    )
    params.to_csv(args.out / "parameters.csv", index=False, float_format="%.6g")
    targets = pd.DataFrame(
        {
            "target": [t.metric_name for t in OFFICIAL_TARGETS],
            "metric": [t.metric for t in OFFICIAL_TARGETS],
            "year": [t.year for t in OFFICIAL_TARGETS],
            "official": [t.value for t in OFFICIAL_TARGETS],
            "emulated_at_fit": fit.emulated,
            "emulator_r2": emulator.r2,
            "emulator_residual_sd": emulator.residual_sd,
            "source": [t.source for t in OFFICIAL_TARGETS],
        }
    )
    targets.to_csv(args.out / "targets.csv", index=False, float_format="%.6g")
    prof["parameter"] = [names[i] for i in prof["parameter"]]
    prof.to_csv(args.out / "profiles.csv", index=False, float_format="%.6g")
    block = fitted_block(names, fit.parameters)
    (args.out / "fitted.toml").write_text(block, encoding="utf-8")

    print(f"emulator: degree {DEGREE}, {len(x)} runs, R^2 {np.round(emulator.r2, 3).tolist()}")
    print(f"fit: loss {fit.loss:.3f}; {len(kept)} not-implausible sets of 200,000")
    print(params[["parameter", "fitted", "plausible_q05", "plausible_q95"]].to_string(index=False))
    print("initial state (mean over runs):", initial.mean().round(4).to_dict())

    rounded = [significant(v) for v in fit.parameters]
    if args.write_scenario:
        write_scenario(block)
        print(f"wrote the fitted parameters into {SCENARIO.relative_to(ROOT)}")
    elif args.check_scenario and scenario_values(names) != rounded:
        print(
            f"{SCENARIO.relative_to(ROOT)} does not hold the fitted values {rounded}: "
            "rerun with --write-scenario",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
