"""Policy directions: tables and figures from the scenario sweeps.

Every scenario of ``scenarios/policy/`` ran as a points sweep over the calibrated ensemble
(``make_sweeps.py``: the same parameter sets, replications and sweep seed in every scenario), so
run ``(parameter set p, replication r)`` of every scenario has the same parameters and seed:
runs are identical up to 2019 and differ only by the policy from 2020 (common random numbers).
Differences from the status quo are taken run by run; :mod:`urbsim.analysis.effects` gives
their intervals with parameter and stochastic uncertainty and controls the false discovery
rate over all the differences. Flows are summed over periods that share no year
(:data:`PERIODS`).

Writes into OUT:

* ``outcomes.csv``: per scenario and indicator, the mean and the 2.5-97.5 % range over the
  ensemble and replications (2035 values; flows and spending summed over :data:`PERIODS`);
* ``differences.csv``: the effects relative to the status quo
  (:func:`urbsim.analysis.effects.summarize_effects`: mean, interval of the mean, range of the
  effect, parameter and stochastic variance, p value) with the Benjamini-Hochberg q value and
  whether the effect is a discovery at a 5 % false discovery rate (``excludes_zero``);
* ``trajectories.csv``: yearly mean and 90% range of the national series, 2015-2035;
* ``service_gap_by_size_class.csv``: public-service needs not served in 2035 by city size
  class (mean and 2.5-97.5 % range; weighted by service users);
* ``gaps_by_size_class.csv``: the same split into the entitlement gap (needs the users' status
  does not entitle) and the capacity gap (entitled needs beyond capacity), column ``gap``;
* ``residents_by_region.csv``: residents by NBS region in 2035, and the change vs the status quo;
* ``place_shift.parquet``: each place's 2035 residents relative to the status quo (mean over
  replications), for the map;
* ``mechanisms.csv``: the effects on the diagnostics the results text cites for each stated
  mechanism (:data:`MECHANISMS`: conversions at home and through points schemes, permit
  holders, moves, returns, urban growth by migration and by reclassification, the entitlement
  and capacity gaps by size class), and the row ``interaction`` of ``differences.csv``: all
  directions together minus the sum of the directions alone, run by run;
* ``design.csv``: what was run (scenarios, parameter sets, replications, scale, places,
  agents), the numbers the text's design section quotes;
* ``figures/``: trajectories, 2035 effects, service gap by size class, map of the shifts;
* ``README.md``: ``results_template.md`` filled from these tables; the script stops when the
  template holds a number or a comparative word typed by hand (:mod:`urbsim.analysis.report`)
  or points to a table or figure the run did not write.

Usage: python experiments/policy_directions/analyze.py RESULTS_DIR
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Final

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from urbsim.analysis.effects import (
    Period,
    check_periods,
    flag_effects,
    paired_differences,
    summarize_effects,
)
from urbsim.analysis.indicators import zipf_exponent
from urbsim.analysis.report import TemplateError
from urbsim.analysis.report import render_results as render_template
from urbsim.model import build_world
from urbsim.scenario import load_scenario
from urbsim.scenario.schema import SETTLEMENT_KEYS
from urbsim.sweep.driver import load_sweep_dir
from urbsim.world.base import KINDS, REGIONS, SIZE_CLASSES

ROOT = Path(__file__).resolve().parents[2]
#: Scenario files (in scenarios/policy/) and their labels, in the order of the tables.
SCENARIOS: Final[dict[str, str]] = {
    "status_quo": "Status quo (2019 policy held)",
    "d1_services": "1. Services to permanent residents",
    "d2_county_towns": "2. County towns",
    "d3_renewal": "3. Old-community renewal",
    "d4_governance": "4. Community governance",
    "all_four": "All four directions",
    "v_megacity_points": "Variant: megacity points relaxed",
    "v_registered_funding": "Variant: all four, funded by registered pop.",
    "v_county_no_priority": "Variant: county towns, no eastern priority",
    "v_county_half_budget": "Variant: county towns, half budget",
}
#: Every file :func:`main` writes into the results folder (what the results text may cite).
OUTPUTS: Final[tuple[str, ...]] = (
    "outcomes.csv", "differences.csv", "trajectories.csv", "service_gap_by_size_class.csv",
    "gaps_by_size_class.csv", "residents_by_region.csv", "place_shift.parquet", "mechanisms.csv",
    "design.csv", "figures/trajectories.png", "figures/effects_2035.png",
    "figures/service_gap_by_size_class.png", "figures/map_shift.png", "README.md",
)  # fmt: skip
#: The status quo every difference is taken from.
REFERENCE: Final[str] = "status_quo"
FIRST_POLICY_YEAR: Final[int] = 2020
LAST_YEAR: Final[int] = 2035
#: Periods of the summed flows: no year in two of them (2020 once, in the policy period).
PERIODS: Final[dict[str, Period]] = {
    "2014_2019": Period("2014-2019", 2014, 2019),
    "2020_2035": Period("2020-2035", FIRST_POLICY_YEAR, LAST_YEAR),
}
check_periods(list(PERIODS.values()))
#: Keys of a run: the ensemble's parameter set and the replication.
RUN: Final[list[str]] = ["parameter_set", "replication"]
#: The service gaps of the national and places tables (``service_gap`` is the sum of the other
#: two).
GAPS: Final[tuple[str, ...]] = ("service_gap", "entitlement_gap", "capacity_gap")
#: City size classes as the national columns name them (``entitlement_gap_<key>``).
SIZE_KEYS: Final[tuple[str, ...]] = SETTLEMENT_KEYS[: len(SIZE_CLASSES)]
#: Diagnostics of the mechanisms the results text states (``mechanisms.csv``): name -> (national
#: column, label, unit, factor); flows summed over 2020-2035, stocks in 2035.
MECHANISMS: Final[dict[str, tuple[str, str, str, float]]] = {
    "local_conversions_2020_2035_m": ("local_conversions", "Locals taking urban hukou at home "
                                      "2020-2035", "million persons", 1e-6),
    "points_conversions_2020_2035_m": ("points_conversions", "Settled through points schemes "
                                       "2020-2035", "million persons", 1e-6),
    "permit_holders_2035_m": ("permit_holders", "Residence-permit holders 2035",
                              "million persons", 1e-6),
    "moves_2020_2035_m": ("moves", "Household moves 2020-2035", "million households", 1e-6),
    "return_migrants_2020_2035_m": ("return_migrants", "Return migrants 2020-2035",
                                    "million persons", 1e-6),
    "urban_growth_migration_2020_2035_m": ("urban_growth_migration", "Urban growth by "
                                           "migration 2020-2035", "million persons", 1e-6),
    "urban_growth_reclassification_2020_2035_m": ("urban_growth_reclassification", "Urban "
                                                  "growth by reclassification 2020-2035",
                                                  "million persons", 1e-6),
    **{f"entitlement_gap_{c}_pct": (f"entitlement_gap_{c}", f"Service needs not entitled, "
                                    f"{c} cities 2035", "%", 100.0) for c in SIZE_KEYS},
    **{f"capacity_gap_{c}_pct": (f"capacity_gap_{c}", f"Entitled needs beyond capacity, {c} "
                                 "cities 2035", "%", 100.0) for c in SIZE_KEYS},
}  # fmt: skip
#: The directions whose effects, summed, the package is compared with (``interaction``:
#: all_four minus their sum, run by run).
DIRECTIONS: Final[tuple[str, ...]] = ("d1_services", "d2_county_towns", "d3_renewal",
                                      "d4_governance")  # fmt: skip
INTERACTION: Final[str] = "interaction"
#: Effects on the settlement and the two service gaps, kept with the diagnostics.
GAP_INDICATORS: Final[tuple[str, ...]] = ("settled_2020_2035_m", "entitlement_gap_pct",
                                          "capacity_gap_pct")  # fmt: skip
#: Indicators of the outcome tables: name -> (label, unit).
INDICATORS: Final[dict[str, tuple[str, str]]] = {
    "urbanization_pct": ("Resident urbanization 2035", "%"),
    "hukou_urbanization_pct": ("Hukou urbanization 2035", "%"),
    "urbanization_gap_pp": ("Gap resident - hukou 2035", "pp"),
    "settled_2020_2035_m": ("Migrants settled 2020-2035", "million persons"),
    "settled_2014_2019_m": ("Migrants settled 2014-2019", "million persons"),
    "service_gap_pct": ("Public-service needs not served 2035", "%"),
    "entitlement_gap_pct": ("Service needs not entitled (status) 2035", "%"),
    "capacity_gap_pct": ("Entitled service needs beyond capacity 2035", "%"),
    "county_town_share_pct": ("Urban residents in county towns 2035", "%"),
    "floating_m": ("Floating population 2035", "million persons"),
    "zipf_exponent": ("Zipf exponent of prefecture cities 2035", "-"),
    "public_spending_2020_2035_tn": ("Public spending 2020-2035", "trillion yuan"),
    "local_debt_2035_tn": ("Local government debt 2035", "trillion yuan"),
    **{f"residents_{r}_m": (f"Residents {r} 2035", "million persons") for r in REGIONS},
    **{k: (label, unit) for k, (_, label, unit, _) in MECHANISMS.items()},
}


def _read(folder: Path, kind: str) -> pd.DataFrame:
    table = pq.read_table(folder / "results.parquet", filters=[("kind", "=", kind)])
    df = table.to_pandas().rename(columns={"point": "parameter_set"})
    return df[[*RUN, "name", "year", "place_id", "value"]]


def load_scenario_runs(results: Path, name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A scenario's national series (run x year, one column per series) and its place values
    (run, year, place_id, one column per place column); a run is (parameter_set, replication)."""
    folder = results / "runs" / name
    if not (folder / "manifest.json").is_file():
        raise SystemExit(f"{folder}: no finished sweep (run the experiment's sweeps first)")
    nat = _read(folder, "national").pivot_table(
        index=[*RUN, "year"], columns="name", values="value", aggfunc="first"
    )
    places = _read(folder, "places").pivot_table(
        index=[*RUN, "year", "place_id"], columns="name", values="value", aggfunc="first"
    )
    return nat.reset_index(), places.reset_index()


def static_places(scenario: Path) -> pd.DataFrame:
    """Static attributes of the places of a scenario's world, by place_id."""
    loaded = load_scenario(scenario, ["world.households_per_agent=1000000.0"])
    t = build_world(loaded).places
    return pd.DataFrame(
        {
            "place_id": np.arange(len(t)),
            "code": t.code,
            "name": t.name.astype(str),
            "prefecture_code": t.prefecture_code,
            "province_code": t.province_code,
            "region": np.asarray(REGIONS, dtype=object)[t.region],
            "kind": np.asarray(KINDS, dtype=object)[t.kind],
            "lon": t.lon,
            "lat": t.lat,
        }
    )


def _period_sum(n: pd.DataFrame, column: str, key: str) -> float:
    """A flow summed over one of :data:`PERIODS` (every year present, each once)."""
    years = list(PERIODS[key].years)
    missing = [y for y in years if y not in n.index]
    if missing:
        raise SystemExit(f"{column}: the run has no year {missing}")
    return float(n.loc[years, column].sum())


def _run_row(n: pd.DataFrame, p: pd.DataFrame) -> dict[str, float]:
    """The indicators of one run: its national series by year and its 2035 places."""
    last = n.loc[LAST_YEAR]
    row = {
        "urbanization_pct": 100 * last["urbanization_rate"],
        "hukou_urbanization_pct": 100 * last["hukou_urbanization_rate"],
        "urbanization_gap_pp": 100 * (last["urbanization_rate"] - last["hukou_urbanization_rate"]),
        "settled_2020_2035_m": _period_sum(n, "settled_migrants", "2020_2035") / 1e6,
        "settled_2014_2019_m": _period_sum(n, "settled_migrants", "2014_2019") / 1e6,
        "service_gap_pct": 100 * last["service_gap"],
        "entitlement_gap_pct": 100 * last["entitlement_gap"],
        "capacity_gap_pct": 100 * last["capacity_gap"],
        "county_town_share_pct": 100 * last["county_town_share"],
        "floating_m": last["floating_population"] / 1e6,
        "zipf_exponent": float(zipf_exponent(p)["zipf_exponent"].iloc[0]),
        "public_spending_2020_2035_tn": _period_sum(n, "public_spending", "2020_2035") / 1e12,
        "local_debt_2035_tn": last["local_debt"] / 1e12,
    }
    for name, (column, _, _, factor) in MECHANISMS.items():
        flow = name.endswith("_2020_2035_m")
        row[name] = factor * (_period_sum(n, column, "2020_2035") if flow else last[column])
    by_region = p.groupby("region")["residents"].sum()
    for r in REGIONS:
        row[f"residents_{r}_m"] = float(by_region.get(r, 0.0)) / 1e6
    return row


def indicators(nat: pd.DataFrame, places: pd.DataFrame, static: pd.DataFrame) -> pd.DataFrame:
    """One row per run (parameter set, replication), one column per indicator."""
    rows = []
    last_places = places[places["year"] == LAST_YEAR]
    for run, n in nat.groupby(RUN, sort=True):
        n = n.set_index("year")
        p = last_places[(last_places[RUN[0]] == run[0]) & (last_places[RUN[1]] == run[1])]
        p = p.merge(static, on="place_id", how="left", validate="one_to_one").assign(year=LAST_YEAR)
        # The places' gaps, weighted by their service users, must give the national ones: a
        # check on the tables.
        for col in GAPS:
            place_sum = float((p[col] * p["service_users"]).sum())
            national = n.loc[LAST_YEAR, col] * p["service_users"].sum()
            if not np.isclose(place_sum, national, rtol=1e-6, atol=1.0):
                raise SystemExit(f"run {run}: place {col} does not add up to national")
        rows.append({RUN[0]: run[0], RUN[1]: run[1], **_run_row(n, p)})
    return pd.DataFrame(rows)


def _long(per_run: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """``scenario, parameter_set, replication, indicator, value`` of every run."""
    parts = [
        df.melt(id_vars=RUN, var_name="indicator", value_name="value").assign(scenario=name)
        for name, df in per_run.items()
    ]
    return pd.concat(parts, ignore_index=True)


def summarise(per_run: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Outcome table (mean and 2.5-97.5 % range over ensemble x replications) and the effects
    relative to the status quo (urbsim.analysis.effects, BH over all of them)."""
    values = _long(per_run)
    labels = {k: v for k, v in INDICATORS.items()}
    out = (
        values.groupby(["scenario", "indicator"], sort=False)["value"]
        .agg(mean="mean", lo95=lambda v: v.quantile(0.025), hi95=lambda v: v.quantile(0.975))
        .reset_index()
    )
    paired = paired_differences(values, REFERENCE)
    diffs = summarize_effects(pd.concat([paired, interaction(paired)], ignore_index=True))
    diff = flag_effects(diffs).assign(lo95=lambda d: d["pi_lo"], hi95=lambda d: d["pi_hi"])
    diff["excludes_zero"] = diff["discovery"]
    labels_of = {**SCENARIOS, INTERACTION: "All four minus the sum of the four alone"}
    for table in (out, diff):
        table.insert(1, "label", table["scenario"].map(labels_of))
        table["indicator_label"] = table["indicator"].map(lambda k: labels[k][0])
        table["unit"] = table["indicator"].map(lambda k: labels[k][1])
    return out, diff


def interaction(paired: pd.DataFrame) -> pd.DataFrame:
    """All four directions together minus the sum of the four alone, run by run (common random
    numbers): negative where the package does less than the sum of its parts."""
    keys = [*RUN, "indicator"]
    wide = paired.pivot_table(index=keys, columns="scenario", values="difference")
    missing = [s for s in ("all_four", *DIRECTIONS) if s not in wide.columns]
    if missing:
        raise SystemExit(f"no runs of {missing}: the interaction needs every direction")
    diff = wide["all_four"] - wide[list(DIRECTIONS)].sum(axis=1)
    return diff.rename("difference").reset_index().assign(scenario=INTERACTION)


def trajectories(nats: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Yearly mean and 5-95% range over replications of the main national series."""
    series = {
        "urbanization_rate": 100.0,
        "hukou_urbanization_rate": 100.0,
        "service_gap": 100.0,
        "county_town_share": 100.0,
        "settled_migrants": 1e-6,
        "local_debt": 1e-12,
    }
    rows = []
    for name, nat in nats.items():
        nat = nat[nat["year"] >= 2015]
        for col, factor in series.items():
            g = nat.groupby("year")[col]
            for year, v in g:
                x = v.to_numpy() * factor
                rows.append(
                    (name, SCENARIOS[name], col, int(year), x.mean(), *np.quantile(x, [0.05, 0.95]))
                )
    return pd.DataFrame(rows, columns=["scenario", "label", "series", "year", "mean", "q05", "q95"])


def gap_by_size_class(
    places: dict[str, pd.DataFrame], static: pd.DataFrame, column: str = "service_gap"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A service gap (``column``: % of the service users' needs) by size class in 2035,
    weighted by service users: per run and summary (mean and 2.5-97.5 % range over the
    ensemble and replications)."""
    rows = []
    for name, p in places.items():
        p = p[p["year"] == LAST_YEAR].merge(static, on="place_id")
        p = p.assign(weighted=p[column] * p["service_users"])
        g = p.groupby([*RUN, "size_class_code"], as_index=False)[
            ["weighted", "service_users"]
        ].sum()
        g = g[g["service_users"] > 0]
        g["gap_pct"] = 100 * g["weighted"] / g["service_users"]
        g["scenario"] = name
        rows.append(g)
    per_run = pd.concat(rows, ignore_index=True)
    per_run["size_class"] = np.asarray(SIZE_CLASSES, dtype=object)[
        per_run["size_class_code"].astype(int)
    ]
    out = []
    for (name, code), g in per_run.groupby(["scenario", "size_class_code"], sort=False):
        lo, hi = g["gap_pct"].quantile([0.025, 0.975])
        out.append((name, SCENARIOS[name], SIZE_CLASSES[int(code)], int(code),
                    g["gap_pct"].mean(), lo, hi))  # fmt: skip
    summary = pd.DataFrame(
        out, columns=["scenario", "label", "size_class", "size_class_code", "mean", "lo95", "hi95"]
    )
    order = {n: i for i, n in enumerate(SCENARIOS)}
    summary = summary.sort_values(
        ["scenario", "size_class_code"], key=lambda s: s.map(order) if s.name == "scenario" else s
    )
    return per_run, summary.reset_index(drop=True)


def place_shift(places: dict[str, pd.DataFrame], static: pd.DataFrame) -> pd.DataFrame:
    """Mean 2035 residents of each place relative to the status quo, per scenario."""
    ref = places[REFERENCE]
    ref = ref[ref["year"] == LAST_YEAR].groupby("place_id")["residents"].mean()
    rows = []
    for name, p in places.items():
        if name == REFERENCE:
            continue
        m = p[p["year"] == LAST_YEAR].groupby("place_id")["residents"].mean()
        rows.append(
            pd.DataFrame(
                {
                    "scenario": name,
                    "place_id": m.index,
                    "reference_residents": ref.reindex(m.index).to_numpy(),
                    "residents_change": (m - ref).to_numpy(),
                    "residents_change_pct": (100 * (m - ref) / ref.where(ref > 0)).to_numpy(),
                }
            )
        )
    out = pd.concat(rows, ignore_index=True).merge(static, on="place_id")
    return out[
        [
            "scenario",
            "place_id",
            "code",
            "name",
            "prefecture_code",
            "province_code",
            "region",
            "kind",
            "lon",
            "lat",
            "reference_residents",
            "residents_change",
            "residents_change_pct",
        ]
    ]


def design_table(
    per_run: dict[str, pd.DataFrame],
    nats: dict[str, pd.DataFrame],
    results: Path,
    static: pd.DataFrame,
) -> pd.DataFrame:
    """``design.csv``: what was run (the numbers the text's "What was run" quotes)."""
    ref = per_run[REFERENCE]
    sweep = load_sweep_dir(results / "runs" / REFERENCE)["spec"]["sweep"]
    start = nats[REFERENCE]
    rows = {
        "scenarios": len(SCENARIOS),
        "directions": len(DIRECTIONS),
        "variants": sum(name.startswith("v_") for name in SCENARIOS),
        "parameter_sets": ref["parameter_set"].nunique(),
        "replications": ref.groupby("parameter_set").size().iloc[0],
        "runs_per_scenario": len(ref),
        "households_per_agent": float(sweep["households_per_agent"]),
        "places": len(static),
        "agents_2020": float(start.loc[start["year"] == FIRST_POLICY_YEAR, "agents"].mean()),
    }  # fmt: skip
    return pd.DataFrame({"value": rows}).rename_axis("quantity")


def render_results(
    template: Path, tables: dict[str, pd.DataFrame], results: Path | None = None
) -> str:
    """The results template filled from the tables (:func:`urbsim.analysis.report.render`).

    ``tables`` are ``out`` (outcomes) and ``diff`` (differences) keyed ``SCENARIO.INDICATOR``
    (e.g. ``{num:diff:d1_services.urbanization_pct:mean:+.2f}``), ``gap`` keyed
    ``SCENARIO.SIZE_CLASS_CODE`` and ``design`` keyed by quantity.

    Raises
    ------
    SystemExit
        When the template holds a number or a comparative word typed by hand, a placeholder
        names a row or column the tables do not have, or (given ``results``) the text points to
        a table or figure the run did not write.
    """
    try:
        return render_template(template, tables, results)
    except TemplateError as exc:
        raise SystemExit(str(exc)) from None


def keyed_tables(
    outcomes: pd.DataFrame, differences: pd.DataFrame, gap: pd.DataFrame, design: pd.DataFrame
) -> dict[str, pd.DataFrame]:
    """The tables of :func:`render_results`, keyed by their rows' names."""

    def keyed(df: pd.DataFrame, key: str) -> pd.DataFrame:
        return df.set_index(df["scenario"] + "." + df[key].astype(str))

    return {
        "out": keyed(outcomes, "indicator"),
        "diff": keyed(differences, "indicator"),
        "gap": keyed(gap, "size_class_code"),
        "design": design,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path)
    args = parser.parse_args()
    from figures import draw_all  # the experiment's figure script, beside this file

    static = static_places(ROOT / "scenarios" / "policy" / f"{REFERENCE}.toml")
    nats, places, per_run = {}, {}, {}
    for name in SCENARIOS:
        nats[name], places[name] = load_scenario_runs(args.results, name)
        per_run[name] = indicators(nats[name], places[name], static)
    outcomes, differences = summarise(per_run)
    traj = trajectories(nats)
    gap_runs, gap = gap_by_size_class(places, static)
    parts = [
        gap_by_size_class(places, static, col)[1].assign(gap=col)
        for col in ("entitlement_gap", "capacity_gap")
    ]
    shift = place_shift(places, static)
    region = outcomes[outcomes["indicator"].str.startswith("residents_")]

    out = args.results
    fmt = "%.6g"
    outcomes.to_csv(out / "outcomes.csv", index=False, float_format=fmt)
    differences.to_csv(out / "differences.csv", index=False, float_format=fmt)
    traj.to_csv(out / "trajectories.csv", index=False, float_format=fmt)
    gap.to_csv(out / "service_gap_by_size_class.csv", index=False, float_format=fmt)
    pd.concat(parts, ignore_index=True).to_csv(
        out / "gaps_by_size_class.csv", index=False, float_format=fmt
    )
    region.to_csv(out / "residents_by_region.csv", index=False, float_format=fmt)
    shift.to_parquet(out / "place_shift.parquet", index=False)
    mechanisms = differences[differences["indicator"].isin([*MECHANISMS, *GAP_INDICATORS])]
    mechanisms.to_csv(out / "mechanisms.csv", index=False, float_format=fmt)
    design = design_table(per_run, nats, args.results, static)
    design.to_csv(out / "design.csv", float_format=fmt)
    draw_all(traj, differences, gap_runs, shift, out / "figures")
    template = Path(__file__).resolve().parent / "results_template.md"
    tables = keyed_tables(outcomes, differences, gap, design)
    (out / "README.md").write_text(render_results(template, tables, out), encoding="utf-8")

    show = differences[differences["indicator"].isin(list(INDICATORS)[:8])]
    cols = ["scenario", "indicator", "mean", "lo95", "hi95", "q_value", "discovery"]
    print(show[cols].to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
