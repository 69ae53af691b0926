"""Small but plausible output tables of a run, shaped like the runner's, for tests that draw
or write them (tests/plots, tests/test_cli.py): 6 places x 5 years by default.

A plain module at the top of ``tests/`` (on the path through the root conftest), so that test
folders can share it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

_PLACES = pd.DataFrame(
    {
        "place_id": [0, 1, 2, 3, 4, 5],
        "name": ["Dongcheng", "Haidian", "Minhang", "Wuhou", "Jianyang", "Yushu"],
        "province_code": [11, 11, 31, 51, 51, 63],
        "prefecture_code": [110100, 110100, 310100, 510100, 510100, 632700],
        "region": ["east", "east", "east", "west", "west", "west"],
        "kind": [
            "urban district",
            "urban district",
            "urban district",
            "urban district",
            "county-level city",
            "county",
        ],
        "size_class": ["super-large", "super-large", "super-large", "mega", "mega", "small"],
        "lon": [116.42, 116.30, 121.38, 104.04, 104.55, 97.01],
        "lat": [39.93, 39.96, 31.11, 30.64, 30.39, 33.00],
        "residents0": [0.92e6, 3.3e6, 2.4e6, 0.76e6, 1.4e6, 0.38e6],
        "urban0": [0.92e6, 3.2e6, 2.2e6, 0.74e6, 0.45e6, 0.09e6],
        "growth": [-0.01, 0.025, 0.03, 0.04, 0.02, 0.005],
    }
)


def fake_tables(years: int = 5, start: int = 2010) -> tuple[pd.DataFrame, pd.DataFrame]:
    """National and places tables with the output contract's columns and plausible values."""
    rows = []
    for t in range(years):
        for p in _PLACES.itertuples(index=False):
            urban = p.urban0 * (1.0 + p.growth) ** t
            residents = max(p.residents0 * (1.0 + p.growth / 2) ** t, urban)
            registered = residents * (0.8 if p.kind == "urban district" else 1.05)
            floating = max(residents - registered, 0.0) + 0.05 * residents
            demand = residents
            rows.append(
                {
                    "year": start + t,
                    "place_id": p.place_id,
                    "name": p.name,
                    "province_code": p.province_code,
                    "prefecture_code": p.prefecture_code,
                    "region": p.region,
                    "kind": p.kind,
                    "size_class": p.size_class,
                    "lon": p.lon,
                    "lat": p.lat,
                    "residents": residents,
                    "urban_residents": urban,
                    "hukou_residents": residents - floating,
                    "registered_population": registered,
                    "floating_residents": floating,
                    "permit_holders": 0.1 * t * floating,
                    "wage": 40000.0 * 1.07**t,
                    "housing_cost": 360.0 * 1.05**t,
                    "service_capacity": demand * (0.75 + 0.04 * t + 0.02 * p.place_id),
                    "service_demand": demand,
                }
            )
    places = pd.DataFrame(rows)
    places["year"] = places["year"].astype(np.int64)
    places["place_id"] = places["place_id"].astype(np.int32)
    places["province_code"] = places["province_code"].astype(np.int16)
    places["prefecture_code"] = places["prefecture_code"].astype(np.int32)

    agg = (
        places.groupby("year")
        .agg(
            residents=("residents", "sum"),
            urban_residents=("urban_residents", "sum"),
            floating_population=("floating_residents", "sum"),
            permit_holders=("permit_holders", "sum"),
            registered_population=("registered_population", "sum"),
            capacity=("service_capacity", "sum"),
            demand=("service_demand", "sum"),
        )
        .reset_index()
    )
    national = pd.DataFrame(
        {
            "year": agg["year"].astype(np.int64),
            "residents": agg["residents"],
            "urban_residents": agg["urban_residents"],
            "urbanization_rate": agg["urban_residents"] / agg["residents"],
            "hukou_urbanization_rate": 0.7 * agg["urban_residents"] / agg["residents"]
            + 0.01 * np.arange(years),
            "floating_population": agg["floating_population"],
            "hukou_conversions": 1e4 * (1 + np.arange(years, dtype=float)),
            "permit_holders": agg["permit_holders"],
            "service_gap": 1.0 - agg["capacity"] / agg["demand"],
            "registered_population": agg["registered_population"],
            "births": 0.012 * agg["residents"],
            "deaths": 0.007 * agg["residents"],
            "moves": 0.03 * agg["residents"],
            "public_spending": 2500.0 * agg["capacity"],
            "local_debt": 1e9 * (1 + np.arange(years, dtype=float)),
            "county_town_share": np.full(years, 0.25),
        }
    )
    return national, places
