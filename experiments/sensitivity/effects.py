"""Morris indices of the policy effects: all directions minus the status quo, run by run.

The two Morris sweeps of ``make_sweeps.py`` share the design and every run's seed (common
random numbers), so run ``(point, replication)`` of the policy sweep differs from the same run
of the status quo only by the policy. The effect of a run is that difference for every metric;
the effect at a design point is the mean over its replications, and the Morris indices of the
effects (:func:`urbsim.sweep.driver.analyse`, the sweep's own analysis) say which parameters of
the calibrated ensemble the policy's effect depends on, next to those the levels depend on
(each sweep's ``indices.csv``).

Writes ``OUT/indices.csv`` (the Morris frame with ``metric`` first: mu, mu*, sigma and the
interval of mu* per metric and parameter), ``OUT/effects.csv`` (every run's effect) and
``OUT/figures/morris_effects.png`` (mu* of the effects by parameter).

Usage: python experiments/sensitivity/effects.py REFERENCE_DIR POLICY_DIR POLICY_SWEEP OUT
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pandas as pd
import seaborn as sns

from urbsim.plots import figure_style, save_figure
from urbsim.sweep.driver import analyse, plan_sweep

KEYS = ["point", "replication", "metric"]


def run_effects(reference: Path, policy: Path) -> pd.DataFrame:
    """Every run's metric in the policy sweep minus the same run in the reference sweep.

    Raises
    ------
    SystemExit
        When the runs do not pair: other seeds or parameters (not common random numbers), or a
        run missing from one sweep.
    """
    runs = [pd.read_parquet(d / "runs.parquet") for d in (reference, policy)]
    params = [c for c in runs[0].columns if "." in c]
    same = runs[0][["point", "replication", "seed", *params]].reset_index(drop=True)
    if not same.equals(runs[1][["point", "replication", "seed", *params]].reset_index(drop=True)):
        raise SystemExit(f"{reference} and {policy}: runs with other seeds or parameters")
    ref, pol = (pd.read_parquet(d / "summary.parquet") for d in (reference, policy))
    both = pol.merge(ref, on=KEYS, suffixes=("", "_reference"), validate="one_to_one")
    if len(both) != len(ref) or len(both) != len(pol):
        raise SystemExit(f"{reference} and {policy}: a run's metric is missing from one sweep")
    both["effect"] = both["value"] - both["value_reference"]
    return both[[*KEYS, "value_reference", "value", "effect"]]


def effect_indices(policy_sweep: Path, effects: pd.DataFrame) -> pd.DataFrame:
    """Morris indices of the effects, with the design of the policy sweep's file."""
    plan = plan_sweep(policy_sweep, check_memory=False)
    summary = effects[["point", "metric", "effect"]].rename(columns={"effect": "value"})
    indices, skipped = analyse(plan.sweep, plan.design, summary)
    for metric, reason in skipped:
        print(f"warning: effect on {metric} not analysed: {reason}", file=sys.stderr)
    if indices is None:
        raise SystemExit("no effect could be analysed")
    return indices


def draw(indices: pd.DataFrame, folder: Path) -> Path:
    """mu* of every effect by parameter, one panel per metric."""
    data = indices[indices["index"] == "mu_star"].copy()
    data["parameter"] = data["parameter"].str.split(".").str[-1]
    with figure_style():
        g = sns.catplot(data=data, x="value", y="parameter", col="metric", col_wrap=3,
                        kind="bar", sharex=False, height=3.6, aspect=1.1, color="C0")  # fmt: skip
        g.set_titles("effect on {col_name}")
        g.set_axis_labels("Morris mu* of the effect (metric's unit)", "Parameter")
        g.figure.suptitle(
            "Which calibrated parameters the effect of all directions (vs the status quo) "
            "depends on"
        )
        return save_figure(g.figure, folder / "morris_effects.png", size=(13.0, 9.0))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in ("reference", "policy", "policy_sweep", "out"):
        parser.add_argument(name, type=Path)
    args = parser.parse_args()
    effects = run_effects(args.reference, args.policy)
    indices = effect_indices(args.policy_sweep, effects)
    args.out.mkdir(parents=True, exist_ok=True)
    effects.to_csv(args.out / "effects.csv", index=False, float_format="%.8g")
    indices.to_csv(args.out / "indices.csv", index=False, float_format="%.8g")
    (args.out / "figures").mkdir(exist_ok=True)
    draw(indices, args.out / "figures")
    top = indices[indices["index"] == "mu_star"].sort_values("value", ascending=False)
    print(top.groupby("metric").head(3).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
