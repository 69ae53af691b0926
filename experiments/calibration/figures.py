"""Calibration, step 4: the verification table and the figures.

Reads the verification sweep (``verify.toml``: the fitted scenario, 10 replications), the fit
tables of ``fit.py`` and the wave-1 sweep, and writes into OUT:

* ``verification.csv``: each target's official value and the mean, standard deviation, minimum
  and maximum over the replications, the error of the mean and whether it is within the
  tolerance (1 percentage point for the rates, 10% for the permits);
* ``figures/fit.png``: simulated series (mean and the range of the replications) against the
  official figures;
* ``figures/profiles.png``: the profile loss of each parameter, with the wave-1 runs.

Usage: python experiments/calibration/figures.py VERIFY_DIR FIT_DIR LHS_DIR OUT
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import seaborn as sns

from urbsim.analysis.calibration import INITIAL_STATE, OFFICIAL_TARGETS
from urbsim.plots import figure_style, save_figure
from urbsim.plots.sweep import parameter_unit
from urbsim.sweep.driver import load_sweep_dir

#: Official series drawn with the fit besides the targets (NBS; hukou rate from the MPS / NBS).
SERIES_LABELS = {
    "urbanization_rate": "Resident urbanization",
    "hukou_urbanization_rate": "Hukou urbanization",
}


def verification(summary: pd.DataFrame) -> pd.DataFrame:
    """Each target over the replications of the verification sweep."""
    rows = []
    for t in (*INITIAL_STATE, *OFFICIAL_TARGETS):
        v = summary[summary["metric"] == t.metric_name]["value"]
        if v.empty:
            raise SystemExit(f"verification sweep keeps no metric {t.metric_name}")
        mean = float(v.mean())
        tolerance = t.scale  # 1 pp for the rates, 10% of the official value for counts
        rows.append(
            {
                "target": t.metric_name,
                "kind": "initial state" if t in INITIAL_STATE else "fitted target",
                "official": t.value,
                "mean": mean,
                "sd": float(v.std(ddof=1)) if len(v) > 1 else 0.0,
                "min": float(v.min()),
                "max": float(v.max()),
                "replications": len(v),
                "error_of_mean": mean - t.value,
                "tolerance": tolerance,
                "within_tolerance": abs(mean - t.value) <= tolerance,
            }
        )
    return pd.DataFrame(rows)


def national_series(sweep_dir: Path) -> pd.DataFrame:
    """The national series a sweep kept: ``run, name, year, value``."""
    table = pq.read_table(sweep_dir / "results.parquet", filters=[("kind", "=", "national")])
    return table.to_pandas()[["run", "name", "year", "value"]]


def draw_fit(national: pd.DataFrame, folder: Path) -> Path:
    """Simulated urbanization series (mean, replication range) against the official targets."""
    series = national[national["name"].isin(SERIES_LABELS)].copy()
    series["series"] = series["name"].map(SERIES_LABELS)
    series["percent"] = series["value"] * 100.0
    official = pd.DataFrame(
        [
            {"series": SERIES_LABELS[t.metric], "year": t.year, "percent": t.value * 100.0}
            for t in (*INITIAL_STATE, *OFFICIAL_TARGETS)
            if t.metric in SERIES_LABELS
        ]
    )
    order = list(SERIES_LABELS.values())
    with figure_style():
        g = sns.relplot(
            data=series,
            x="year",
            y="percent",
            hue="series",
            hue_order=order,
            kind="line",
            errorbar=("pi", 100),
            estimator="mean",
            height=4.5,
            aspect=1.6,
        )
        ax = g.ax
        palette = dict(zip(order, sns.color_palette("deep", len(order)), strict=True))
        for name, group in official.groupby("series", sort=False):
            ax.scatter(
                group["year"],
                group["percent"],
                marker="D",
                s=46,
                color=palette[name],
                edgecolor="black",
                zorder=5,
                label=f"{name}, official",
            )
        ax.set_xlabel("Year")
        ax.set_ylabel("Share of residents / registered population (%)")
        g.figure.suptitle(
            "Calibrated census world: simulated mean and range of 10 replications (lines, bands)"
            " vs official figures (diamonds)",
            fontsize=10,
        )
        handles, labels = ax.get_legend_handles_labels()
        if g.legend is not None:
            g.legend.remove()
        ax.legend(handles, labels, loc="upper left", frameon=True, fontsize=8)
        return save_figure(g.figure, folder / "fit.png", legend_share=0.0)


def draw_profiles(
    profiles: pd.DataFrame, params: pd.DataFrame, lhs_loss: pd.DataFrame, folder: Path
) -> Path:
    """Profile loss per parameter (line) over the wave-1 runs' loss (points)."""
    frame = profiles.assign(source="profile (emulator)")
    with figure_style():
        g = sns.relplot(
            data=frame,
            x="value",
            y="loss",
            col="parameter",
            col_wrap=3,
            kind="line",
            color="C0",
            facet_kws={"sharex": False, "sharey": True},
            height=3.0,
            aspect=1.2,
        )
        fitted = params.set_index("parameter")
        for name, ax in g.axes_dict.items():
            pts = lhs_loss[lhs_loss["parameter"] == name]
            ax.scatter(
                pts["value"],
                pts["loss"],
                s=6,
                color="0.6",
                zorder=1,
                label="calibration run (wave 2)",
            )
            row = fitted.loc[name]
            ax.axvspan(
                row["plausible_q05"],
                row["plausible_q95"],
                color="C2",
                alpha=0.15,
                label="not implausible (5-95%)",
            )
            ax.axvline(row["fitted"], color="C3", lw=1.2, label="fitted")
            ax.set_yscale("symlog", linthresh=1.0)
            ax.set_xlabel(f"{name} ({parameter_unit(name)})")
        g.set_titles("{col_name}")
        g.set_ylabels("Loss (sum of (error / tolerance)²)")
        g.figure.suptitle(
            "Profile loss of each fitted parameter (others re-optimised on the emulator); "
            "a flat profile is a weakly identified parameter"
        )
        handles, labels = next(iter(g.axes_dict.values())).get_legend_handles_labels()
        g.figure.legend(handles, labels, loc="lower right", fontsize=8, frameon=True)
        return save_figure(g.figure, folder / "profiles.png", legend_share=0.0, size=(13.0, 8.0))


def lhs_losses(lhs: dict[str, pd.DataFrame], names: list[str]) -> pd.DataFrame:
    """Each wave-1 run's loss, in long form by parameter (for the profile figure)."""
    summary = lhs["summary"]
    wide = summary.pivot_table(index="run", columns="metric", values="value", aggfunc="first")
    z = np.array([t.value for t in OFFICIAL_TARGETS])
    s = np.array([t.scale for t in OFFICIAL_TARGETS])
    y = wide[[t.metric_name for t in OFFICIAL_TARGETS]].to_numpy()
    loss = (((y - z) / s) ** 2).sum(axis=1)
    runs = lhs["runs"].set_index("run").loc[wide.index]
    return pd.concat(
        [pd.DataFrame({"parameter": n, "value": runs[n].to_numpy(), "loss": loss}) for n in names]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in ("verify", "fit", "lhs", "out"):
        parser.add_argument(name, type=Path)
    args = parser.parse_args()
    verify = load_sweep_dir(args.verify)
    table = verification(verify["summary"])
    args.out.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out / "verification.csv", index=False, float_format="%.6g")
    figures = args.out / "figures"
    figures.mkdir(exist_ok=True)
    draw_fit(national_series(args.verify), figures)
    params = pd.read_csv(args.fit / "parameters.csv")
    profiles = pd.read_csv(args.fit / "profiles.csv")
    lhs = load_sweep_dir(args.lhs)
    draw_profiles(profiles, params, lhs_losses(lhs, params["parameter"].tolist()), figures)
    print(table[["target", "official", "mean", "sd", "within_tolerance"]].to_string(index=False))
    return 0 if table["within_tolerance"].all() else 1


if __name__ == "__main__":
    sys.exit(main())
