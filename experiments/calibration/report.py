"""Calibration report: tables side by side, the README from a template, the fit figure.

Reads ``RESULTS/full`` (history matching on 2010-2019), ``RESULTS/out_of_sample`` (on 2010-2015
only, 2016-2019 predicted) and ``RESULTS/scale_noise.csv``, and writes into RESULTS:

* ``fit_in_and_out_of_sample.csv``: each target's official value, the in-sample error (full fit)
  and the out-of-sample error (2016-2019 held out), each over its tolerance;
* ``summary.csv``: counts and largest errors, the numbers the README's text quotes;
* ``README.md``: ``results_template.md`` with every placeholder filled from these tables
  (:mod:`urbsim.analysis.report`; a number typed into the template stops the script);
* ``figures/fit.png``: official values against the runs of both fits' ensembles (mean and
  2.5-97.5 % range), the held-out years shaded;
* ``figures/profiles.png``: the full fit's profile of every parameter (``full/profiles.csv``);
* ``external_checks.csv``: published behavioural quantities the fit does not target
  (``external_checks.csv`` of this folder) against what the ensemble's sets imply.

Usage: python experiments/calibration/report.py RESULTS
"""

from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from urbsim import load_scenario
from urbsim.analysis.history_matching import DESIGN_SOURCES, GIVEN_DESIGN
from urbsim.analysis.report import write_readme
from urbsim.plots import figure_style, save_figure
from urbsim.scenario.schema import Scenario

HERE = Path(__file__).resolve().parent
LAST_FIT_OOS = 2015


def side_by_side(full: pd.DataFrame, oos: pd.DataFrame) -> pd.DataFrame:
    """In-sample and out-of-sample errors of every target, in units of its tolerance."""
    a = full.set_index("target")[["year", "observed", "tolerance", "error"]]
    b = oos.set_index("target")[["error", "role"]].rename(
        columns={"error": "error_fit_to_2015", "role": "role_fit_to_2015"}
    )
    t = a.rename(columns={"error": "error_fit_to_2019"}).join(b, how="left")
    t["in_sample_over_tolerance"] = t["error_fit_to_2019"] / t["tolerance"]
    t["out_of_sample_over_tolerance"] = np.where(
        t["role_fit_to_2015"] == "held out", t["error_fit_to_2015"] / t["tolerance"], np.nan
    )
    return t.reset_index()


def summary(
    table: pd.DataFrame,
    full_waves: pd.DataFrame,
    ensemble: pd.DataFrame,
    parameters: pd.DataFrame,
    verification: pd.DataFrame,
    out_of_sample_refused: bool = False,
) -> pd.DataFrame:
    """The quantities the README text quotes, one row each (``quantity``, ``value``)."""
    ins = table["in_sample_over_tolerance"].abs()
    # Design waves, then the verification batches that refocused the emulators (if any).
    # (Tables written before refocusing existed have no `source`: design waves only.)
    source = (
        full_waves["source"] if "source" in full_waves else pd.Series("design", full_waves.index)
    )
    design = source.isin(DESIGN_SOURCES).to_numpy()
    oos = table["out_of_sample_over_tolerance"].abs().dropna()
    rows = {
        "targets": len(table),
        "in_sample_within": int((ins <= 1).sum()),
        "in_sample_worst": float(ins.max()),
        "held_out": len(oos),
        "out_of_sample_within": int((oos <= 1).sum()),
        "out_of_sample_worst": float(oos.max()) if len(oos) else np.nan,
        "waves": int(design.sum()),
        # The first waves given by the out-of-sample fit the full fit continues.
        "given_waves": int((source == GIVEN_DESIGN).sum()),
        "refocusing_waves": int((~design).sum()),
        "design_share": float(full_waves.loc[design, "nroy_share_after"].iloc[-1]),
        "final_share": float(full_waves["nroy_share_after"].iloc[-1]),
        "ensemble_sets": len(ensemble),
        "verified_sets": len(verification),
        # Design waves' and verification sets whose destination constants could not be fitted
        # (a refocusing wave's are its batch's, counted once); older tables have no column.
        "refused_sets": int(full_waves.loc[design].get("refused_sets", pd.Series(0)).sum())
        + int(verification.get("refused", pd.Series(False)).sum()),
        "verification_batches": int(verification["batch"].max()) if "batch" in verification else 1,
        "accepted_share": float(verification["accepted"].mean()),
        "last_wave_plausible": float(full_waves.loc[design, "run_plausible_share"].iloc[-1]),
        "parameters": len(parameters),
        "constrained": int(parameters["constrained"].sum()),
        # The out-of-sample fit's ensemble refused (out_of_sample/refused.txt says why): its
        # errors are then those of the sets it accepted, if any.
        "out_of_sample_refused": int(out_of_sample_refused),
    }
    return pd.DataFrame({"value": rows}).rename_axis("quantity")


@functools.cache
def _census_scenario() -> Scenario:
    """``scenarios/china_census.toml``, validated once per process."""
    return load_scenario(HERE.parents[1] / "scenarios" / "china_census.toml").scenario


def base_value(parameter: str) -> float:
    """``parameter`` (``section.field``) in ``scenarios/china_census.toml``: the value every run
    of the fit used when the box does not vary it."""
    scenario = _census_scenario()
    section, field = parameter.split(".")
    return float(getattr(getattr(scenario, section), field))


def external_checks(
    checks: pd.DataFrame, ensemble: pd.DataFrame, priors: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Each published quantity (a ratio of two parameters) against its distribution over the
    ensemble's sets: median, 5 and 95 % quantiles, and whether the published value lies
    inside that range (``published_inside``). A parameter the fit did not vary (not a column
    of ``ensemble``) enters at its value in the census scenario, as in the runs.
    ``prior_in_fit`` says whether the fit judged the quantity as a prior (a row of its
    ``priors.csv``, None when it had none): a check then, not an independent one."""
    used = set() if priors is None else set(priors["prior"])

    def values(parameter: str) -> pd.Series | float:
        return ensemble[parameter] if parameter in ensemble else base_value(parameter)

    rows = []
    for c in checks.itertuples(index=False):
        ratio = values(c.numerator) / values(c.denominator)
        ratio = pd.Series(ratio, index=ensemble.index, dtype=float)
        lo, mid, hi = ratio.quantile([0.05, 0.5, 0.95])
        rows.append({
            "check": c.check,
            "published": float(c.published),
            "ensemble_median": float(mid),
            "ensemble_q05": float(lo),
            "ensemble_q95": float(hi),
            "published_inside": bool(lo <= c.published <= hi),
            "prior_in_fit": c.check in used,
            "meaning": c.meaning,
        })  # fmt: skip
    return pd.DataFrame(rows)


def draw_profiles(profiles: pd.DataFrame, parameters: pd.DataFrame, folder: Path) -> Path:
    """Every parameter's profile: the share of the ensemble not ruled out when the parameter
    alone is set to each value of its box; flat when the targets do not constrain it."""
    constrained = parameters.set_index("parameter")["constrained"]
    data = profiles.assign(
        constrained=profiles["parameter"].map(constrained).map({True: "yes", False: "no"}),
        parameter=profiles["parameter"].str.split(".").str[1],
    )
    with figure_style():
        g = sns.FacetGrid(
            data,
            col="parameter",
            hue="constrained",
            hue_order=["yes", "no"],
            col_wrap=6,
            sharex=False,
            height=1.9,
            aspect=1.3,
            ylim=(0, 1.05),
        )
        g.map_dataframe(sns.lineplot, x="value", y="share_not_ruled_out", marker="o", ms=3)
        g.set_titles("{col_name}", size=8)
        g.set_axis_labels("", "Share not ruled out")
        g.figure.supxlabel("Parameter value (its unit in box.csv; each panel spans its box)")
        g.add_legend(title="Constrained")
        g.figure.suptitle(
            "Profiles of the fit to 2010-2019: share of the ensemble left not ruled out with one "
            "parameter moved across its box"
        )
        return save_figure(g.figure, folder / "profiles.png", size=(15.0, 10.0))


def draw_fit(full: pd.DataFrame, oos: pd.DataFrame, folder: Path) -> Path:
    """Official values (points) and both fits' 95 % ranges by target family and year."""
    data = pd.concat([full.assign(fit="fitted to 2019"), oos.assign(fit="fitted to 2015")])
    data["family"] = data["target"].str.split("@").str[0]
    with figure_style():
        g = sns.FacetGrid(data, col="family", col_wrap=3, sharey=False, height=2.8, aspect=1.4)

        def panel(*_: object, data: pd.DataFrame, **__: object) -> None:
            d, ax = data, plt.gca()
            if d["year"].max() > LAST_FIT_OOS:
                ax.axvspan(LAST_FIT_OOS + 0.5, d["year"].max() + 0.5, color="0.9", lw=0)
            for (fit, part), color in zip(d.groupby("fit"), ("C0", "C1"), strict=False):
                part = part.sort_values("year")
                ax.fill_between(part["year"], part["lo95"], part["hi95"], alpha=0.25, color=color)
                ax.plot(part["year"], part["predicted"], color=color, lw=1.2, marker="o",
                        ms=3, label=fit)  # fmt: skip
            first = d.drop_duplicates("year")
            ax.scatter(first["year"], first["observed"], color="k", s=12, zorder=5,
                       label="official")  # fmt: skip

        g.map_dataframe(panel)
        g.set_titles("{col_name}")
        g.set_axis_labels("Year", "Value (target's unit)")
        g.add_legend()
        g.figure.suptitle(
            "Official values and runs of each fit's ensemble (mean and 2.5-97.5 % range); grey: "
            "years held out of the 2010-2015 fit"
        )
        return save_figure(g.figure, folder / "fit.png", size=(13.0, 9.0))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path)
    args = parser.parse_args()
    res = args.results
    full = pd.read_csv(res / "full" / "fit.csv")
    # A refused out-of-sample ensemble without any accepted set has no fit.csv: no errors.
    oos_fit = res / "out_of_sample" / "fit.csv"
    oos = (
        pd.read_csv(oos_fit)
        if oos_fit.is_file()
        else pd.DataFrame({"target": [], "error": [], "role": []})
    )
    oos_refused = (res / "out_of_sample" / "refused.txt").is_file()
    table = side_by_side(full, oos)
    table.to_csv(res / "fit_in_and_out_of_sample.csv", index=False, float_format="%.6g")
    waves = pd.read_csv(res / "full" / "waves.csv")
    ensemble = pd.read_csv(res / "full" / "ensemble.csv")
    parameters = pd.read_csv(res / "full" / "parameters.csv", keep_default_na=False)
    verification = pd.read_csv(res / "full" / "verification.csv")
    summ = summary(table, waves, ensemble, parameters, verification, oos_refused)
    priors = res / "full" / "priors.csv"
    checks = external_checks(
        pd.read_csv(HERE / "external_checks.csv", comment="#"),
        ensemble,
        pd.read_csv(priors) if priors.is_file() else None,
    )
    checks.to_csv(res / "external_checks.csv", index=False, float_format="%.6g")
    summ.to_csv(res / "summary.csv", float_format="%.6g")
    tables = {
        "summary": summ,
        "fit": table.set_index("target"),
        "parameters": parameters.set_index("parameter"),
        "waves": waves.set_index("wave"),
        "noise": pd.read_csv(res / "scale_noise.csv").set_index("target"),
        "loo": pd.read_csv(res / "full" / "emulator_loo.csv"),
        "timing": pd.read_csv(res / "full" / "timing.csv"),
        "timing_out_of_sample": pd.read_csv(res / "out_of_sample" / "timing.csv"),
        "checks": checks.set_index("check"),
    }
    (res / "figures").mkdir(exist_ok=True)
    draw_fit(full, oos, res / "figures")
    draw_profiles(pd.read_csv(res / "full" / "profiles.csv"), parameters, res / "figures")
    write_readme(HERE / "results_template.md", tables, res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
