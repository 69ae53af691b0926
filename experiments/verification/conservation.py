"""Verification case (c): conservation of persons over 25 years without births and deaths.

With births and deaths switched off, nothing in the model may create or destroy a person: moves,
returns, in-situ reclassification, settlement and (where the life course forms them) new
households only move persons between places, zones and households. The check runs the baseline
scenario on the synthetic world for 25 years (2010-2035) and requires, every year and exactly
(tolerance 0 persons):

* national residents and the registered population equal the start year's residents;
* every province's change of residents equals its net inflow in ``flows.parquet`` (persons
  moving in from other provinces minus persons moving out), so the flow table accounts for
  every person who crossed a border.

Writes into OUT: ``conservation.csv`` (per year: residents, registered population, their change
from the start, the largest province imbalance, moves) and ``conservation_verdict.csv``.

Usage: python experiments/verification/conservation.py OUT
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Final

import pandas as pd

import urbsim

#: The scenario and what the check changes in it.
SCENARIO: Final[str] = "baseline"
OVERRIDES: Final[dict[str, Any]] = {
    "end_year": 2035,
    "world.households_per_agent": 4000.0,  # about 100,000 agent households
    "demography.births_and_deaths": False,
}
#: Persons that may appear or vanish: none.
TOLERANCE: Final[float] = 0.0


def province_imbalance(places: pd.DataFrame, flows: pd.DataFrame) -> pd.Series:
    """Per year, the largest |change of a province's residents - its net inflow| (persons)."""
    residents = places.groupby(["year", "province_code"])["residents"].sum().unstack()
    change = residents.diff().iloc[1:]
    cross = flows[flows.origin_province_code != flows.destination_province_code]
    inflow = cross.groupby(["year", "destination_province_code"])["persons"].sum().unstack()
    outflow = cross.groupby(["year", "origin_province_code"])["persons"].sum().unstack()
    net = inflow.reindex_like(change).fillna(0.0) - outflow.reindex_like(change).fillna(0.0)
    return (change - net).abs().max(axis=1)


def run_case(overrides: dict[str, Any] | None = None, until: int | None = None) -> pd.DataFrame:
    """Per year: residents, registered population, their change from the start year, the
    largest province imbalance and the moves of the year (to ``until`` when given)."""
    run = urbsim.run(SCENARIO, overrides={**OVERRIDES, **(overrides or {})}, until=until)
    assert run.flows is not None
    nat = run.national.set_index("year")
    start = nat["residents"].iloc[0]
    out = pd.DataFrame(
        {
            "residents": nat["residents"],
            "registered_population": nat["registered_population"],
            "residents_change": nat["residents"] - start,
            "registered_change": nat["registered_population"] - start,
            "births": nat["births"],
            "deaths": nat["deaths"],
            "moves": nat["moves"],
            "province_moves": nat["province_moves"],
        }
    )
    imbalance = province_imbalance(run.places, run.flows)
    out["province_imbalance"] = imbalance.reindex(out.index).fillna(0.0)
    return out.reset_index()


def verdict(df: pd.DataFrame, tolerance: float = TOLERANCE) -> pd.DataFrame:
    """One row per rule checked: the largest deviation over the years against ``tolerance``."""
    rows = [
        ("residents equal the start year's", df["residents_change"].abs().max()),
        ("registered population equals the start year's", df["registered_change"].abs().max()),
        ("province change equals net inflow", df["province_imbalance"].max()),
        ("no births or deaths", (df["births"] + df["deaths"]).max()),
    ]
    out = pd.DataFrame(rows, columns=["rule", "largest_deviation"])
    out.insert(0, "years", f"{int(df.year.min())}-{int(df.year.max())}")
    out["tolerance"] = tolerance
    out["passed"] = out["largest_deviation"] <= tolerance
    # The check means something only if persons moved, across borders too.
    out["moves_total"] = float(df["moves"].sum())
    out["province_moves_total"] = float(df["province_moves"].sum())
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the case and write its tables (exit status 0 whether it passes or not)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    df = run_case()
    df.to_csv(args.out / "conservation.csv", index=False, float_format="%.10g")
    verdict(df).to_csv(args.out / "conservation_verdict.csv", index=False, float_format="%.10g")
    return 0


if __name__ == "__main__":
    sys.exit(main())
