"""Figures of the policy-direction experiment (called by analyze.py with its tables).

* ``trajectories.png``: national series 2015-2035 per scenario, mean and 5-95% band;
* ``effects_2035.png``: 2035 outcomes relative to the status quo, mean and paired 95% interval;
* ``service_gap_by_size_class.png``: public-service needs not served (entitlement plus
  capacity gap), 2035;
* ``map_shift.png``: where residents live in 2035 relative to the status quo.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.ticker import MultipleLocator

from urbsim.plots import figure_style, save_figure
from urbsim.world.base import SIZE_CLASSES

#: The scenarios of the trajectory, size-class and map figures (the variants are in the
#: effects figure only, to keep the others readable).
MAIN = ["status_quo", "d1_services", "d2_county_towns", "d3_renewal", "d4_governance", "all_four"]
SERIES = {
    "urbanization_rate": "Resident urbanization (%)",
    "hukou_urbanization_rate": "Hukou urbanization (%)",
    "service_gap": "Public-service needs not served (%)",
    "county_town_share": "Urban residents in county towns (%)",
}
EFFECTS = {
    "urbanization_pct": "Resident urbanization (pp)",
    "hukou_urbanization_pct": "Hukou urbanization (pp)",
    "urbanization_gap_pp": "Gap resident - hukou (pp)",
    "settled_2020_2035_m": "Migrants settled 2020-35 (million)",
    "service_gap_pct": "Service needs not served (pp)",
    "county_town_share_pct": "Urban residents in county towns (pp)",
    "zipf_exponent": "Zipf exponent (-)",
    "public_spending_2020_2035_tn": "Public spending 2020-35 (trillion yuan)",
}


def _palette(labels: list[str]) -> dict[str, tuple[float, float, float]]:
    return dict(zip(labels, sns.color_palette("deep", len(labels)), strict=True))


def draw_trajectories(traj: pd.DataFrame, folder: Path) -> Path:
    """National series per scenario: mean line and 5-95% band over replications."""
    data = traj[traj["scenario"].isin(MAIN) & traj["series"].isin(SERIES)].copy()
    data["panel"] = data["series"].map(SERIES)
    labels = [data.loc[data["scenario"] == s, "label"].iloc[0] for s in MAIN]
    palette = _palette(labels)

    def band(data: pd.DataFrame, color: object = None, label: str | None = None) -> None:
        ax = plt.gca()
        for lab, g in data.groupby("label", sort=False):
            ax.fill_between(g["year"], g["q05"], g["q95"], color=palette[lab], alpha=0.18, lw=0)
            ax.plot(g["year"], g["mean"], color=palette[lab], lw=1.6, label=lab)

    with figure_style():
        g = sns.FacetGrid(
            data,
            col="panel",
            col_order=list(SERIES.values()),
            col_wrap=2,
            sharey=False,
            height=3.4,
            aspect=1.5,
        )
        g.map_dataframe(band)
        for ax in g.axes.flat:
            ax.axvline(2019.5, color="0.5", lw=0.8, ls=":")
            ax.xaxis.set_major_locator(MultipleLocator(5))
        g.set_titles("{col_name}")
        g.set_axis_labels("Year", "Percent (%)")
        handles = [plt.Line2D([], [], color=palette[lab], lw=2) for lab in labels]
        g.figure.legend(handles, labels, loc="lower center", ncol=3, frameon=False, fontsize=9)
        g.figure.suptitle(
            "National outcomes by policy direction from 2020: mean and 5-95% range of replications"
        )
        return save_figure(
            g.figure, folder / "trajectories.png", legend_share=0.0, size=(12.0, 8.5), bottom=0.1
        )


def draw_effects(differences: pd.DataFrame, folder: Path) -> Path:
    """2035 outcomes minus the status quo, mean and paired 95% interval, per scenario."""
    data = differences[differences["indicator"].isin(EFFECTS)].copy()
    data["panel"] = data["indicator"].map(EFFECTS)
    order = list(dict.fromkeys(data["label"]))

    def dots(data: pd.DataFrame, color: object = None, label: str | None = None) -> None:
        ax = plt.gca()
        y = data["label"].map({lab: i for i, lab in enumerate(order)}).to_numpy()
        x = data["mean"].to_numpy()
        err = np.vstack([x - data["lo95"].to_numpy(), data["hi95"].to_numpy() - x])
        significant = data["excludes_zero"].to_numpy(dtype=bool)
        for mask, c in ((significant, "C3"), (~significant, "0.45")):
            if mask.any():
                ax.errorbar(
                    x[mask],
                    y[mask],
                    xerr=err[:, mask],
                    fmt="o",
                    ms=4,
                    color=c,
                    ecolor=c,
                    elinewidth=1.4,
                    capsize=2,
                )
        ax.axvline(0.0, color="0.3", lw=0.8)
        ax.set_yticks(range(len(order)), order)
        ax.set_ylim(len(order) - 0.5, -0.5)

    with figure_style():
        g = sns.FacetGrid(
            data,
            col="panel",
            col_order=list(EFFECTS.values()),
            col_wrap=4,
            sharex=False,
            height=3.3,
            aspect=0.95,
        )
        g.map_dataframe(dots)
        g.set_titles("{col_name}", size=9)
        g.set_axis_labels("Difference from status quo", "")
        g.figure.suptitle(
            "2035 outcomes relative to the status quo: mean and 2.5-97.5 % range of paired "
            "runs; red: a discovery at a 5 % false discovery rate"
        )
        return save_figure(
            g.figure, folder / "effects_2035.png", legend_share=0.0, size=(16.0, 9.0)
        )


def draw_service_gap(gap_reps: pd.DataFrame, folder: Path) -> Path:
    """Service gap by city size class in 2035 per scenario (bars: mean, whiskers: 95% CI)."""
    from analyze import SCENARIOS

    data = gap_reps[gap_reps["scenario"].isin(MAIN)].copy()
    data["label"] = data["scenario"].map(SCENARIOS)
    order = [c for c in SIZE_CLASSES if c in set(data["size_class"])]
    hue_order = [SCENARIOS[s] for s in MAIN]
    with figure_style():
        g = sns.catplot(
            data=data,
            x="size_class",
            y="gap_pct",
            hue="label",
            order=order,
            hue_order=hue_order,
            kind="bar",
            errorbar=("ci", 95),
            seed=0,
            palette=_palette(hue_order),
            height=4.2,
            aspect=2.0,
        )
        g.set_axis_labels(
            "City size class (2014 standard; county towns by their prefecture)",
            "Service needs not served (%, weighted by users)",
        )
        g.figure.suptitle("Service gap by city size class in 2035")
        g.legend.set_title("Scenario")
        return save_figure(
            g.figure, folder / "service_gap_by_size_class.png", legend_share=0.3, size=(13.0, 6.0)
        )


def draw_map(shift: pd.DataFrame, folder: Path) -> Path:
    """Residents in 2035 relative to the status quo, by prefecture on its outline (percent
    change of the prefecture's residents, mean of replications), one map per direction."""
    import matplotlib as mpl
    from analyze import SCENARIOS

    from urbsim.plots.maps import (
        colour_bar,
        draw_panel,
        map_legend,
        map_level,
        percent_change_by_outline,
    )

    data = shift[shift["scenario"].isin(MAIN)]
    level = map_level(data)
    shown = [s for s in MAIN if s != "status_quo"]
    values = {
        s: percent_change_by_outline(
            data[data["scenario"] == s], level, "residents_change", "reference_residents"
        )
        for s in shown
    }
    changes = np.abs(pd.concat(values.values()).dropna().to_numpy())
    # The 99th percentile: a few small units with large changes would wash out the rest.
    lim = float(np.quantile(changes, 0.99)) if changes.size else 0.0
    norm = mpl.colors.Normalize(vmin=-(lim or 1.0), vmax=lim or 1.0)
    cmap = mpl.colormaps["RdBu_r"]
    with figure_style():
        fig, axes = plt.subplots(2, 3)
        grey = False
        for ax, name in zip(axes.flat, shown, strict=False):
            grey |= draw_panel(ax, values[name], level, cmap=cmap, norm=norm)
            ax.set_title(SCENARIOS[name], fontsize="small")
        key = axes.flat[len(shown)]
        key.set_axis_off()
        map_legend(key, grey, level)
        colour_bar(
            fig,
            key,
            cmap,
            norm,
            f"Residents in 2035 vs status quo\n(% of the {level}'s residents)",
            lowest=-100.0,
            cax=key.inset_axes((0.05, 0.62, 0.9, 0.07)),
        )
        fig.suptitle(
            f"Where residents live in 2035 relative to the status quo, by {level} "
            "(mean of replications)"
        )
        return save_figure(fig, folder / "map_shift.png", legend_share=0.0, size=(14.0, 8.0))


def draw_all(
    traj: pd.DataFrame,
    differences: pd.DataFrame,
    gap_reps: pd.DataFrame,
    shift: pd.DataFrame,
    folder: Path,
) -> list[Path]:
    """Every figure of the experiment into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    return [
        draw_trajectories(traj, folder),
        draw_effects(differences, folder),
        draw_service_gap(gap_reps, folder),
        draw_map(shift, folder),
    ]
