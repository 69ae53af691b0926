"""Mechanism diagnostics of the calibrated ensemble, 2010-2019: tables, figures, README.

Reads the finished history sweep ``RESULTS/history`` (``make_sweeps.py``: every set of the
calibrated ensemble x replications on the census world, 2010-2019) and writes into RESULTS,
with the functions of :mod:`urbsim.analysis.mechanisms`:

* ``decomposition.csv``: each year's urban growth, and the sum over 2011-2019, by source
  (natural increase, net migration into urban zones, in-situ reclassification): the ensemble
  mean in millions of persons and each source's share (mean and 2.5-97.5 % range over runs),
  next to the official series' natural share at the national natural growth rate (residual
  method);
* ``mobility.csv``: moves per year, the share crossing a province border, return migrants and
  their rate, households formed, the inter-province share of the floating persons (mean and
  range over runs; the period row from each run's sums over the years);
* ``age_profile.csv``: floating persons by their household head's age band in 2010 (the
  initial world), 2015 and 2019;
* ``mean_age.csv``: the mean age of the floating heads aged 15-59 each year (mean and range
  over runs) next to the migrant survey's mean age of the working-age migrants where it is
  published (the calibration's ``migrant_head_age`` targets, with their tolerance);
* ``summary.csv``: the quantities the README's text quotes;
* ``figures/decomposition.png``, ``figures/mobility.png``, ``figures/age_profile.png``,
  ``figures/mean_age.png``;
* ``README.md``: ``results_template.md`` with every placeholder filled from these tables
  (:mod:`urbsim.analysis.report`; a number or comparative word typed into the template stops
  the script).

Usage: python experiments/mechanisms/analyze.py RESULTS
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import seaborn as sns

from urbsim.analysis import mechanisms as mech
from urbsim.analysis.report import write_readme
from urbsim.analysis.targets import Target, build_targets, read_official
from urbsim.plots import figure_style, save_figure

HERE = Path(__file__).resolve().parent
FIRST_GROWTH_YEAR, LAST_YEAR = 2011, 2019
PERIOD = f"{FIRST_GROWTH_YEAR}-{LAST_YEAR}"
MILLION = 1e6
SHARES = tuple(f"share_{c}" for c in mech.COMPONENTS)
#: Counts of mobility.csv, in millions (households or persons per year), and its shares.
MOBILITY_COUNTS = {"moves": "moves_m", "return_migrants": "return_migrants_m",
                   "households_formed": "households_formed_m"}  # fmt: skip
MOBILITY_VALUES = ("moves_m", "province_share", "return_migrants_m", "return_rate",
                   "households_formed_m", "interprovince_floating_share")  # fmt: skip


def read_history(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The sweep's national table (one row per run and year) and places table (one row per
    run, year and place), wide."""
    table = pq.read_table(folder / "results.parquet").to_pandas()
    runs = pd.read_parquet(folder / "runs.parquet")
    failed = runs[runs["status"] != "ok"]
    if len(failed):
        raise SystemExit(f"{folder}: {len(failed)} runs failed; the diagnostics need all")
    nat = table[table["kind"] == "national"].pivot_table(
        index=["run", "year"], columns="name", values="value", aggfunc="first"
    )
    places = table[table["kind"] == "places"].pivot_table(
        index=["run", "year", "place_id"], columns="name", values="value", aggfunc="first"
    )
    return nat.reset_index(), places.reset_index()


def decomposition_table(national: pd.DataFrame, official: pd.DataFrame) -> pd.DataFrame:
    """Urban growth by source per year and over the period (mean and range over runs), with
    the official series' natural share at the national rate where it exists."""
    d = mech.growth_decomposition(national, FIRST_GROWTH_YEAR, LAST_YEAR)
    d["key"] = np.where(d["period"] == "year", d["year"].astype(str), d["period"])
    for c in (*mech.COMPONENTS, "total"):
        d[f"{c}_m"] = d[c] / MILLION
    values = [f"{c}_m" for c in (*mech.COMPONENTS, "total")]
    out = d.groupby("key")[values].mean().join(mech.across_runs(d, ["key"], SHARES))
    off = official_shares(official)
    out["official_natural_share"] = off.set_index(off["year"].astype(str))["natural_share"]
    # The official share over its years: each year's share weighted by its urban growth over
    # the previous year's population (the population's own growth, under 0.6 % a year, is
    # left out of the weights).
    out.loc[PERIOD, "official_natural_share"] = mech.weighted_mean_share(
        off["natural_share"], off["urban_growth_share_of_population"]
    )
    # The years in order, the period last.
    return out.loc[[*sorted(k for k in out.index if k != PERIOD), PERIOD]].rename_axis("period")


def official_shares(official: pd.DataFrame) -> pd.DataFrame:
    """The official natural share of the years of the period that have one."""
    off = mech.official_natural_share(official)
    return off[off["year"].between(FIRST_GROWTH_YEAR, LAST_YEAR)]


def natural_share_official_years(national: pd.DataFrame, official: pd.DataFrame) -> pd.Series:
    """The model's natural share of urban growth over the years with an official share (each
    run's sums over those years): mean, ``lo`` and ``hi`` over runs."""
    years = official_shares(official)["year"].tolist()
    d = mech.growth_decomposition(national, FIRST_GROWTH_YEAR, LAST_YEAR)
    d = d[(d["period"] == "year") & d["year"].isin(years)]
    sums = d.groupby("run")[["natural", "total"]].sum()
    share = sums["natural"] / sums["total"].where(sums["total"] != 0)
    tail = 0.025
    return pd.Series(
        {"mean": share.mean(), "lo": share.quantile(tail), "hi": share.quantile(1 - tail),
         "years": float(len(years))}
    )  # fmt: skip


def brief(table: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The columns of a table the README shows (the CSV keeps the ranges); a missing value is
    shown as a dash."""
    out = table[columns].astype(object)
    return out.where(table[columns].notna(), "-")


def mobility_table(national: pd.DataFrame) -> pd.DataFrame:
    """Moves, returns and the floating persons' inter-province share per year (mean and range
    over runs) and over the period (each run's sums over the years, their ratios)."""
    years = national[national["year"].between(FIRST_GROWTH_YEAR, LAST_YEAR)]
    sums = years.groupby("run", as_index=False)[list(mech.MOBILITY_COLUMNS)].sum()

    def table(frame: pd.DataFrame, by: str) -> pd.DataFrame:
        m = mech.mobility(frame)
        for c in MOBILITY_COUNTS:
            m[c] = m[c] / MILLION
        m = m.rename(columns=MOBILITY_COUNTS)
        m[by] = frame[by].astype(str).to_numpy()
        return mech.across_runs(m, [by], MOBILITY_VALUES)

    per_year = table(years, "year")
    # A period's counts are sums over its years: the mean per year divides by their number.
    period = table(sums.assign(year=PERIOD), "year")
    n_years = LAST_YEAR - FIRST_GROWTH_YEAR + 1
    for c in MOBILITY_COUNTS.values():
        period[[c, f"{c}_lo", f"{c}_hi"]] /= n_years
    return pd.concat([per_year, period]).rename_axis("period")


def age_table(places: pd.DataFrame) -> pd.DataFrame:
    """Migrant households by the head's age band per year kept (mean and range over runs)."""
    a = mech.age_profile(places)
    out = mech.across_runs(a, ["year", "band"], ["share"])
    return out.reset_index().assign(key=lambda t: t["year"].astype(str) + "_" + t["band"])


def survey_targets() -> list[Target]:
    """The migrant survey's mean age of the working-age migrants, as the calibration compares
    it with ``floating_head_mean_age`` (:func:`urbsim.analysis.targets.build_targets`)."""
    return [t for t in build_targets() if t.name == "migrant_head_age"]


def mean_age_table(national: pd.DataFrame) -> pd.DataFrame:
    """The floating heads' mean age per year (mean and range over runs), the survey's where
    published, the model's mean less it and whether that is within the target's tolerance."""
    out = mech.across_runs(national, ["year"], [mech.MEAN_AGE_COLUMN])
    out.index = out.index.astype(int)
    survey = {t.year: (t.observed, t.tolerance) for t in survey_targets()}
    out["survey"] = pd.Series({y: v for y, (v, _) in survey.items()}, dtype=float)
    out["model_minus_survey"] = out[mech.MEAN_AGE_COLUMN] - out["survey"]
    tolerance = pd.Series({y: tol for y, (_, tol) in survey.items()}, dtype=float)
    tolerance = tolerance.reindex(out.index)
    # Unknown (NaN), not outside, where the survey or the model has no value.
    out["within_tolerance"] = (out["model_minus_survey"].abs() <= tolerance).where(
        out["model_minus_survey"].notna()
    )
    return out


def official_ages(official: pd.DataFrame) -> pd.Series:
    """Mean age of the migrant workers by year (official)."""
    rows = official[official["indicator"] == "migrant_workers_mean_age"]
    return rows.set_index("year")["value"].astype(float)


def summary(
    tables: dict[str, pd.DataFrame], natural_official_years: pd.Series, official: pd.DataFrame
) -> pd.DataFrame:
    """The quantities the README's text quotes, one row each (``quantity``, ``value``)."""
    p = tables["decomposition"].loc[PERIOD]
    m = tables["mobility"].loc[PERIOD]
    a = tables["ages"]
    worker_age = official_ages(official)
    first_age_year, last_age_year = int(worker_age.index.min()), int(worker_age.index.max())
    years = sorted(a["year"].unique())
    old = {y: float(a.loc[[f"{y}_45_59", f"{y}_60_plus"], "share"].sum()) for y in years}
    rows = {"runs": float(p["runs"])}
    for c in mech.COMPONENTS:
        for suffix in ("", "_lo", "_hi"):
            rows[f"{c}_share{suffix}"] = float(p[f"share_{c}{suffix}"])
    official_share = float(p["official_natural_share"])
    rows |= {
        "official_years": float(natural_official_years["years"]),
        "official_natural_share": official_share,
        "natural_share_official_years": float(natural_official_years["mean"]),
        "natural_share_official_years_lo": float(natural_official_years["lo"]),
        "natural_share_official_years_hi": float(natural_official_years["hi"]),
        # > 0: the model's natural share (its mean over runs, over the official years) is the
        # official series' at the national rate or more.
        "natural_minus_official": float(
            natural_official_years["mean"] - p["official_natural_share"]
        ),
        # > 0: migration adds more urban residents than reclassification.
        "migration_minus_reclassification": float(p["migration_m"] - p["reclassification_m"]),
        "urban_growth_m": float(p["total_m"]),
        "moves_m": float(m["moves_m"]),
        "province_share": float(m["province_share"]),
        "return_migrants_m": float(m["return_migrants_m"]),
        "return_rate": float(m["return_rate"]),
        "households_formed_m": float(m["households_formed_m"]),
        "interprovince_floating_share": float(m["interprovince_floating_share"]),
        "age_first_year": float(years[0]),
        "age_last_year": float(years[-1]),
        "young_heads_first": 1.0 - old[years[0]],
        "young_heads_last": 1.0 - old[years[-1]],
        "older_heads_change": old[years[-1]] - old[years[0]],
        "worker_age_first_year": float(first_age_year),
        "worker_age_last_year": float(last_age_year),
        "worker_age_first": float(worker_age[first_age_year]),
        "worker_age_last": float(worker_age[last_age_year]),
        "worker_age_change": float(worker_age[last_age_year] - worker_age[first_age_year]),
        **mean_age_summary(tables["mean_age"]),
    }
    return pd.DataFrame({"value": rows}).rename_axis("quantity")


def mean_age_summary(table: pd.DataFrame) -> dict[str, float]:
    """The quantities of the mean-age paragraph: the model and the survey in the survey's first
    and last years, their changes between them, and the model in the last year run."""
    col = mech.MEAN_AGE_COLUMN
    years = table.index[table["survey"].notna()]
    first, last, end = int(years.min()), int(years.max()), int(table.index.max())
    rows = {"survey_first_year": float(first), "survey_last_year": float(last),
            "head_age_last_year": float(end)}  # fmt: skip
    for key, year in (("first", first), ("last", last)):
        rows[f"head_age_{key}"] = float(table.loc[year, col])
        rows[f"head_age_{key}_lo"] = float(table.loc[year, f"{col}_lo"])
        rows[f"head_age_{key}_hi"] = float(table.loc[year, f"{col}_hi"])
        rows[f"survey_age_{key}"] = float(table.loc[year, "survey"])
        within = table.loc[year, "within_tolerance"]
        # No model value (NaN) is not within the tolerance (bool(NaN) would say it is).
        rows[f"head_age_{key}_within"] = float(bool(within)) if pd.notna(within) else 0.0
    rows["head_age_change"] = rows["head_age_last"] - rows["head_age_first"]
    rows["survey_age_change"] = rows["survey_age_last"] - rows["survey_age_first"]
    # > 0: the model's heads aged faster between the survey's years than its migrants.
    rows["head_age_change_minus_survey"] = rows["head_age_change"] - rows["survey_age_change"]
    rows["head_age_end"] = float(table.loc[end, col])
    return rows


def draw_mean_age(national: pd.DataFrame, table: pd.DataFrame, folder: Path) -> Path:
    """The floating heads' mean age over the years (mean, 95 % range over runs) and the
    survey's mean age of the working-age migrants (``table``: :func:`mean_age_table`)."""
    col = mech.MEAN_AGE_COLUMN
    with figure_style():
        fig, ax = plt.subplots()
        sns.lineplot(data=national, x="year", y=col, errorbar=("pi", 95), marker="o", ax=ax,
                     label="model: floating heads aged 15-59")  # fmt: skip
        survey = table["survey"].dropna()
        ax.scatter(survey.index, survey.to_numpy(), color="black", marker="x", zorder=3,
                   label="migrant survey: working-age migrants")  # fmt: skip
        ax.set(xlabel="Year", ylabel="Mean age (years)",
               title="Mean age of the migrants, calibrated ensemble")  # fmt: skip
        ax.legend(loc="upper left")
        return save_figure(fig, folder / "mean_age.png", legend_share=0.0)


def draw_decomposition(national: pd.DataFrame, official: pd.DataFrame, folder: Path) -> Path:
    """Each source's share of the year's urban growth over runs (mean, 95 % range) and the
    official series' natural share at the national rate."""
    d = mech.growth_decomposition(national, FIRST_GROWTH_YEAR, LAST_YEAR)
    d = d[d["period"] == "year"].melt(
        id_vars=["run", "year"], value_vars=list(SHARES), var_name="source", value_name="share"
    )
    d["source"] = d["source"].str.removeprefix("share_")
    with figure_style():
        fig, ax = plt.subplots()
        sns.lineplot(data=d, x="year", y="share", hue="source", errorbar=("pi", 95),
                     marker="o", ax=ax)  # fmt: skip
        b = official_shares(official)
        ax.scatter(b["year"], b["natural_share"], color="k", marker="D", zorder=5,
                   label="official: natural\nat the national rate")  # fmt: skip
        ax.set(xlabel="Year", ylabel="Share of the year's urban growth",
               title="Sources of urban growth in the calibrated ensemble, 2011-2019")  # fmt: skip
        ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), title="Source")
        return save_figure(fig, folder / "decomposition.png")


def draw_mobility(national: pd.DataFrame, folder: Path) -> Path:
    """Moves, their shares and return migrants per year over runs (mean, 95 % range)."""
    m = mech.mobility(national)
    m = m[m["year"].between(FIRST_GROWTH_YEAR, LAST_YEAR)].copy()
    m["moves"] /= MILLION
    m["return_migrants"] /= MILLION
    labels = {
        "moves": "Moves (million households per year)",
        "return_migrants": "Return migrants (million persons per year)",
        "province_share": "Share of moves crossing a province border",
        "return_rate": "Return migrants per floating person",
    }
    long = m.melt(id_vars=["run", "year"], value_vars=list(labels), var_name="measure")
    long["measure"] = long["measure"].map(labels)
    with figure_style():
        g = sns.relplot(data=long, x="year", y="value", col="measure", col_wrap=2, kind="line",
                        errorbar=("pi", 95), marker="o", facet_kws={"sharey": False},
                        height=3.0, aspect=1.4)  # fmt: skip
        g.set_titles("{col_name}", size=9)
        g.set_axis_labels("Year", "Value (unit in the panel title)")
        g.figure.suptitle("Moves and returns in the calibrated ensemble, 2011-2019 "
                          "(mean and 2.5-97.5 % range over runs)")  # fmt: skip
        return save_figure(g.figure, folder / "mobility.png", legend_share=0.0, size=(11.0, 7.0))


def draw_ages(places: pd.DataFrame, folder: Path) -> Path:
    """Floating persons by their household head's age band in each year kept (mean, 95 %
    range)."""
    a = mech.age_profile(places)
    a["year"] = a["year"].astype(str)
    a["band"] = a["band"].str.replace("_plus", " and over").str.replace("_", "-")
    with figure_style():
        fig, ax = plt.subplots()
        sns.barplot(data=a, x="band", y="share", hue="year", errorbar=("pi", 95), ax=ax)
        ax.set(xlabel="Age band of the household head (years)",
               ylabel="Share of floating persons",
               title="Floating persons by the head's age, calibrated ensemble")  # fmt: skip
        ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), title="Year")
        return save_figure(fig, folder / "age_profile.png")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path)
    args = parser.parse_args()
    res = args.results
    national, places = read_history(res / "history")
    official = read_official()
    tables = {
        "decomposition": decomposition_table(national, official),
        "mobility": mobility_table(national),
        "ages": age_table(places).set_index("key"),
        "mean_age": mean_age_table(national),
    }
    tables["summary"] = summary(tables, natural_share_official_years(national, official), official)
    shares = ["natural_m", "migration_m", "reclassification_m", "total_m", *SHARES,
              "official_natural_share"]  # fmt: skip
    tables["decomposition_brief"] = brief(tables["decomposition"], shares)
    tables["mobility_brief"] = brief(tables["mobility"], list(MOBILITY_VALUES))
    tables["ages_brief"] = (
        tables["ages"]
        .pivot_table(index="band", columns="year", values="share")
        .add_prefix("share_")
    )
    col = mech.MEAN_AGE_COLUMN
    tables["mean_age_brief"] = brief(tables["mean_age"], [col, f"{col}_lo", f"{col}_hi", "survey"])
    for name, file in (("decomposition", "decomposition.csv"), ("mobility", "mobility.csv"),
                       ("ages", "age_profile.csv"), ("mean_age", "mean_age.csv"),
                       ("summary", "summary.csv")):  # fmt: skip
        tables[name].to_csv(res / file, float_format="%.6g")
    figures = res / "figures"
    figures.mkdir(exist_ok=True)
    draw_decomposition(national, official, figures)
    draw_mobility(national, figures)
    draw_ages(places, figures)
    draw_mean_age(national, tables["mean_age"], figures)
    write_readme(HERE / "results_template.md", tables, res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
