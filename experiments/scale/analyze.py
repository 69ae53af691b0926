"""The scale study's tables, figures and README: from which scale each output is stable.

Reads ``RESULTS/runs/`` (``run_scales.py``: the calibrated census scenario at several scales x
the same seeds) and compares every scale with the finest one run:

* **national indicators** (:data:`INDICATORS`) in the report years: per scale the mean and
  standard deviation over seeds; the difference from the finest scale's mean in units of the
  replication noise of that difference, ``z = (mean_s - mean_f) / sqrt(sd_s^2/n_s +
  sd_f^2/n_f)`` (Welch's t); stable when ``|z|`` is within Student's two-sided ``ALPHA``
  critical value at the Welch-Satterthwaite degrees of freedom (NaN: not tested, where the
  indicator is missing);
* **province flows** (the households moving between each pair of provinces, summed over the
  run's years, as shares of all moves) and **prefecture growth** (each prefecture's residents
  at the end over the start, minus one): the root mean square over cells (pairs, prefectures)
  of the difference of means from the finest scale, over the root mean square of its
  replication noise (as above, cell by cell); with no effect of scale the ratio is near one;
  stable when it is at most ``RATIO_STABLE``.

An output is stable *from* a scale when it is stable at that scale and at every finer one
run. Writes ``national.csv``, ``vectors.csv``, ``stable_from.csv``, ``costs.csv``,
``summary.csv``, ``figures/national.png``, ``figures/prefecture_growth.png`` and ``README.md``
(``results_template.md`` filled from the tables: :mod:`urbsim.analysis.report`).

Usage: python experiments/scale/analyze.py RESULTS
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Final

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.ticker import MaxNLocator
from scipy.stats import t as student_t

from urbsim.analysis.report import write_readme
from urbsim.plots import figure_style, save_figure

HERE: Final = Path(__file__).resolve().parent
#: Two-sided level of the test of a national indicator's difference between scales (Welch's t).
ALPHA: Final = 0.05
#: Ratio of the RMS difference to the RMS replication noise up to which a vector output (province
#: flows, prefecture growth) counts as stable.
RATIO_STABLE: Final = 1.5
#: National indicators compared (computed by :func:`indicators`): name -> label.
INDICATORS: Final[dict[str, str]] = {
    "urbanization_rate": "resident urbanization (share)",
    "hukou_urbanization_rate": "hukou urbanization (share)",
    "floating_population_m": "floating population (million persons)",
    "interprovince_share": "inter-province share of the floating population",
    "moves_m": "moves (million households a year)",
    "province_move_share": "share of moves crossing a province border",
    "settled_migrants_m": "settled migrants (million persons a year)",
    "return_migrants_m": "return migrants (million persons a year)",
    "households_formed_m": "households formed (million a year)",
    "local_debt_t": "local government debt (trillion yuan)",
}
#: The vector outputs compared.
VECTOR_LABELS: Final[dict[str, str]] = {
    "province_flows": "moves between each pair of provinces over the run (shares)",
    "prefecture_growth": "growth of each prefecture's residents over the run",
}
MILLION: Final = 1e6


def indicators(national: pd.DataFrame) -> pd.DataFrame:
    """The compared indicators of one run, one row per year."""
    n = national
    floating = n["interprovince_floating_population"] + n["intraprovince_floating_population"]
    out = pd.DataFrame(
        {
            "year": n["year"],
            "urbanization_rate": n["urbanization_rate"],
            "hukou_urbanization_rate": n["hukou_urbanization_rate"],
            "floating_population_m": n["floating_population"] / MILLION,
            "interprovince_share": n["interprovince_floating_population"] / floating,
            "moves_m": n["moves"] / MILLION,
            "province_move_share": n["province_moves"] / n["moves"].where(n["moves"] > 0),
            "settled_migrants_m": n["settled_migrants"] / MILLION,
            "return_migrants_m": n["return_migrants"] / MILLION,
            "households_formed_m": n["households_formed"] / MILLION,
            "local_debt_t": n["local_debt"] / 1e12,
        }
    )
    return out


def read_runs(results: Path) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """The cost table of the runs and, stacked over runs with their scale and seed, the
    indicators per year, the province flows and the prefectures' residents."""
    runs = pd.read_csv(results / "runs" / "runs.csv")
    frames: dict[str, list[pd.DataFrame]] = {"national": [], "flows": [], "prefectures": []}
    for r in runs.itertuples():
        folder = results / "runs" / str(r.folder)
        keys = {"households_per_agent": float(r.households_per_agent), "seed": int(r.seed)}
        frames["national"].append(
            indicators(pd.read_parquet(folder / "national.parquet")).assign(**keys)
        )
        flows = pd.read_parquet(folder / "flows.parquet")
        pairs = flows.groupby(["origin_province_code", "destination_province_code"])[
            "households"
        ].sum()
        frames["flows"].append((pairs / pairs.sum()).rename("share").reset_index().assign(**keys))
        # Each prefecture's residents in the run's first and last year (run_scales.py).
        places = pd.read_parquet(folder / "prefectures.parquet")
        years = places["year"].agg(["min", "max"])
        pref = places.pivot_table(
            index="prefecture_code", columns="year", values="residents", aggfunc="sum"
        )
        growth = pref[years["max"]] / pref[years["min"]] - 1.0
        frames["prefectures"].append(growth.rename("growth").reset_index().assign(**keys))
    return runs, {k: pd.concat(v, ignore_index=True) for k, v in frames.items()}


def report_years(national: pd.DataFrame) -> list[int]:
    """The years compared: 2019 (the calibration's last) when the runs reach it, and the last."""
    last = int(national["year"].max())
    return sorted({min(2019, last), last})


def compare_scalars(national: pd.DataFrame, finest: float) -> pd.DataFrame:
    """Mean and sd over seeds per indicator, year and scale, and the difference from the finest
    scale in units of its replication noise."""
    years = report_years(national)
    long = national[national["year"].isin(years)].melt(
        id_vars=["households_per_agent", "seed", "year"],
        value_vars=list(INDICATORS),
        var_name="indicator",
    )
    g = long.groupby(["indicator", "year", "households_per_agent"])["value"]
    stats = g.agg(mean="mean", sd="std", n="count").reset_index()
    ref = stats[stats["households_per_agent"] == finest].set_index(["indicator", "year"])
    key = pd.MultiIndex.from_frame(stats[["indicator", "year"]])
    mean_f = ref["mean"].reindex(key).to_numpy()
    noise = np.sqrt(
        stats["sd"] ** 2 / stats["n"] + (ref["sd"] ** 2 / ref["n"]).reindex(key).to_numpy()
    )
    stats["difference"] = stats["mean"] - mean_f
    stats["relative_difference"] = stats["difference"] / np.abs(mean_f)
    stats["noise"] = noise
    # Welch's t: with a few seeds a scale's standard error is itself uncertain, so the critical
    # value is Student's at the Welch-Satterthwaite degrees of freedom, not the normal 1.96.
    a = stats["sd"] ** 2 / stats["n"]
    b = (ref["sd"] ** 2 / ref["n"]).reindex(key).to_numpy()
    n_f = ref["n"].reindex(key).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        dof = (a + b) ** 2 / (a**2 / (stats["n"] - 1) + b**2 / (n_f - 1))
        z = np.where(
            noise > 0, stats["difference"] / noise, np.where(stats["difference"] == 0, 0.0, np.inf)
        )
    stats["dof"] = dof
    stats["critical"] = student_t.ppf(1.0 - ALPHA / 2.0, dof.where(dof > 0))
    stats["z"] = z
    # Not tested (NaN) where the indicator is missing in a run (no moves: no share of them);
    # an exact tie of two noiseless means is stable at any critical value.
    tested = stats["difference"].notna() & ((noise > 0) | (stats["difference"] == 0))
    stable = (np.abs(stats["z"]) <= stats["critical"]) | (stats["difference"] == 0)
    stats["stable"] = stable.where(tested, np.nan)
    stats.loc[tested & ~(noise > 0), "stable"] = stats.loc[tested & ~(noise > 0), "difference"] == 0
    stats["key"] = (
        stats["indicator"]
        + "_"
        + stats["year"].astype(str)
        + "_"
        + stats["households_per_agent"].map("{:g}".format)
    )
    return stats.set_index("key")


def compare_vector(
    frame: pd.DataFrame, cells: list[str], value: str, finest: float
) -> pd.DataFrame:
    """Per scale: RMS over cells of the difference of means from the finest scale, RMS of its
    replication noise, their ratio."""
    g = frame.groupby([*cells, "households_per_agent"])[value]
    stats = g.agg(mean="mean", var="var", n="count").reset_index()
    wide = stats.pivot_table(
        index=cells, columns="households_per_agent", values=["mean", "var", "n"]
    )
    wide = wide.fillna({"mean": 0.0, "var": 0.0})
    rows = []
    for scale in sorted(stats["households_per_agent"].unique(), reverse=True):
        diff = wide["mean"][scale] - wide["mean"][finest]
        noise2 = wide["var"][scale] / wide["n"][scale] + wide["var"][finest] / wide["n"][finest]
        rms_diff = float(np.sqrt(np.mean(diff**2)))
        rms_noise = float(np.sqrt(np.mean(noise2.fillna(0.0))))
        ratio = rms_diff / rms_noise if rms_noise > 0 else (0.0 if rms_diff == 0 else np.inf)
        rows.append(
            {
                "households_per_agent": scale,
                "cells": len(diff),
                "rms_difference": rms_diff,
                "rms_noise": rms_noise,
                "ratio": ratio,
                "stable": ratio <= RATIO_STABLE,
            }
        )
    return pd.DataFrame(rows)


def stable_from(flags: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """The coarsest scale from which an output is stable at that scale and every finer one (the
    finest scale when it is stable at no coarser one; NaN when it was not tested there)."""
    rows = []
    for key, g in flags.groupby(by):
        g = g.sort_values("households_per_agent")  # finest first
        coarsest = np.nan
        for scale, ok in zip(g["households_per_agent"], g["stable"], strict=True):
            if pd.isna(ok) or not ok:
                break
            coarsest = scale
        names = key if isinstance(key, tuple) else (key,)
        rows.append({**dict(zip(by, names, strict=True)), "stable_from": coarsest})
    return pd.DataFrame(rows)


def draw_national(national: pd.DataFrame, folder: Path) -> Path:
    """Resident urbanization and the floating population by scale (mean and range over seeds)."""
    long = national.melt(
        id_vars=["households_per_agent", "seed", "year"],
        value_vars=["urbanization_rate", "floating_population_m"],
        var_name="indicator",
    )
    long["indicator"] = long["indicator"].map(INDICATORS)
    long["scale"] = long["households_per_agent"].map("{:g} households per agent".format)
    with figure_style():
        g = sns.relplot(
            data=long,
            x="year",
            y="value",
            hue="scale",
            col="indicator",
            kind="line",
            errorbar=("pi", 100),
            facet_kws={"sharey": False},
            height=3.4,
            aspect=1.3,
        )
        g.set_titles("{col_name}", size=9)
        g.set_axis_labels("Year", "Value (unit in the panel title)")
        for ax in g.axes.flat:
            # Every fifth year or so: 26 years of four-digit labels overlap otherwise.
            ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
        g.figure.suptitle("National indicators by scale (mean and range over seeds)")
        return save_figure(g.figure, folder / "national.png", size=(11.0, 4.2))


def draw_prefectures(prefectures: pd.DataFrame, finest: float, folder: Path) -> Path:
    """Each prefecture's growth at every coarser scale against the finest (means over seeds)."""
    mean = prefectures.groupby(["prefecture_code", "households_per_agent"])["growth"].mean()
    wide = mean.unstack("households_per_agent")
    long = (
        wide.drop(columns=finest)
        .melt(ignore_index=False, var_name="households_per_agent", value_name="coarse")
        .join(wide[finest].rename("fine"))
    )
    long["scale"] = long["households_per_agent"].map("{:g} households per agent".format)
    with figure_style():
        fig, ax = plt.subplots()
        sns.scatterplot(data=long, x="fine", y="coarse", hue="scale", s=12, ax=ax)
        lo, hi = (
            float(np.nanmin(long[["fine", "coarse"]])),
            float(np.nanmax(long[["fine", "coarse"]])),
        )
        ax.plot([lo, hi], [lo, hi], color="k", lw=0.8, label="equal")
        ax.set(
            xlabel=f"Growth of residents at {finest:g} households per agent (share)",
            ylabel="Growth of residents at the coarser scale (share)",
            title="Prefecture growth over the run by scale (mean over seeds)",
        )
        ax.legend(loc="upper left", title="Scale")
        return save_figure(fig, folder / "prefecture_growth.png")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path)
    res = parser.parse_args().results
    runs, data = read_runs(res)
    finest = float(runs["households_per_agent"].min())
    national = compare_scalars(data["national"], finest)
    flows = compare_vector(
        data["flows"], ["origin_province_code", "destination_province_code"], "share", finest
    ).assign(output="province_flows")
    prefs = compare_vector(data["prefectures"], ["prefecture_code"], "growth", finest).assign(
        output="prefecture_growth"
    )
    vectors = pd.concat([flows, prefs], ignore_index=True)
    vectors["key"] = vectors["output"] + "_" + vectors["households_per_agent"].map("{:g}".format)
    vectors = vectors.set_index("key")
    national["output"] = national["indicator"] + "_" + national["year"].astype(str)
    flags = pd.concat(
        [
            national.reset_index(drop=True)[["output", "households_per_agent", "stable"]],
            vectors.reset_index(drop=True)[["output", "households_per_agent", "stable"]],
        ]
    )
    stable = stable_from(flags, ["output"]).set_index("output")
    labels = {f"{k}_{y}": f"{v}, {y}" for k, v in INDICATORS.items() for y in national["year"]}
    labels |= VECTOR_LABELS
    stable.insert(0, "description", stable.index.map(labels))
    stable["stable_from"] = stable["stable_from"].map(lambda s: "-" if pd.isna(s) else f"{s:g}")
    costs = (
        runs.groupby("households_per_agent")
        .agg(
            runs=("seed", "count"),
            wall_s=("wall_s", "median"),
            peak_rss_gb=("peak_rss_bytes", lambda b: float(b.max()) / 1e9),
            rows_at_end=("rows_at_end", "median"),
        )
        .sort_index(ascending=False)
    )
    costs.index = costs.index.map("{:g}".format)
    scales = sorted(runs["households_per_agent"].unique(), reverse=True)
    summary = pd.DataFrame(
        {
            "value": {
                "finest": finest,
                "coarsest": float(max(scales)),
                "scales": float(len(scales)),
                "seeds": float(runs.groupby("households_per_agent")["seed"].count().min()),
                "first_year": float(data["national"]["year"].min()),
                "last_year": float(data["national"]["year"].max()),
                "outputs": float(len(stable)),
                # Stable from the coarsest scale: there and at every finer one.
                "stable_at_coarsest": float((stable["stable_from"] == f"{max(scales):g}").sum()),
                "alpha": ALPHA,
                "ratio_stable": RATIO_STABLE,
            }
        }
    ).rename_axis("quantity")
    res_national = national.drop(columns=["output"])
    res_national.to_csv(res / "national.csv", float_format="%.6g")
    vectors.to_csv(res / "vectors.csv", float_format="%.6g")
    stable.to_csv(res / "stable_from.csv")
    costs.to_csv(res / "costs.csv", float_format="%.6g")
    summary.to_csv(res / "summary.csv", float_format="%.6g")
    figures = res / "figures"
    figures.mkdir(exist_ok=True)
    draw_national(data["national"], figures)
    draw_prefectures(data["prefectures"], finest, figures)
    for table in (res_national, vectors):
        table["households_per_agent"] = table["households_per_agent"].map("{:g}".format)
    tables = {
        "summary": summary,
        "stable": stable,
        # The wall times and peaks depend on the machine and its load: costs.csv keeps them,
        # outside the comparison of ``urbsim reproduce`` (experiment.toml), and the text does
        # not quote them, since generated text must reproduce exactly.
        "costs": costs[["runs", "rows_at_end"]],
        "vectors": vectors[
            ["output", "households_per_agent", "rms_difference", "rms_noise", "ratio", "stable"]
        ],
        "national": res_national[
            [
                "indicator",
                "year",
                "households_per_agent",
                "mean",
                "sd",
                "relative_difference",
                "z",
                "critical",
                "stable",
            ]
        ],
    }
    write_readme(HERE / "results_template.md", tables, res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
