"""The standard figures: all drawn, non-empty, fixed size and byte-identical when redrawn.

:func:`fake_tables` builds small but plausible output tables (6 places x 5 years) shaped like
the runner's; ``tests/test_cli.py`` imports it too.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from urbsim import plots
from urbsim.output import columns
from urbsim.world.base import KINDS, REGIONS, SIZE_CLASSES

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

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


@pytest.fixture
def tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    return fake_tables()


def test_fake_tables_follow_the_contract(tables: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    """The stand-in tables hold real output columns (urbsim/output/columns.py) with their
    dtypes, and the category names of the world, so the figure tests draw
    what a run writes; a renamed or retyped output column fails here."""
    national, places = tables
    for df, registry in ((national, columns.NATIONAL), (places, columns.PLACES)):
        dtypes = columns.by_name(registry)
        assert set(df.columns) <= set(dtypes), set(df.columns) - set(dtypes)
        for name in df.columns:
            expected = dtypes[name].dtype
            dtype = df[name].dtype
            text = pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_numeric_dtype(dtype)
            actual = "string" if text else str(dtype)
            assert actual == expected, name
    assert set(places["region"]) <= set(REGIONS)
    assert set(places["kind"]) <= set(KINDS)
    assert set(places["size_class"]) <= set(SIZE_CLASSES)


def test_draw_all_writes_every_figure(
    tmp_path: Path, tables: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    import matplotlib.image as mpimg
    import matplotlib.pyplot as plt

    paths = plots.draw_all(*tables, tmp_path)
    assert [p.name for p in paths] == list(plots.FIGURES)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(plots.FIGURES)
    expected = (round(plots.FIGSIZE[1] * plots.DPI), round(plots.FIGSIZE[0] * plots.DPI))
    for path in paths:
        data = path.read_bytes()
        assert data.startswith(PNG_SIGNATURE)
        image = mpimg.imread(path)
        assert image.shape[:2] == expected, path.name
        # Not blank: a drawn figure inks a fair share of its pixels.
        inked = (image[..., :3] < 0.9).any(axis=-1).mean()
        assert 0.01 < inked < 0.9, path.name
    assert plt.get_fignums() == []  # every figure closed


def test_figures_are_byte_identical_when_redrawn(
    tmp_path: Path, tables: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    plots.draw_all(*tables, a)
    # Redraw from copies read in another order of operations: the bytes must not change.
    national, places = (df.copy() for df in tables)
    plots.draw_all(national, places, b)
    for name in plots.FIGURES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_service_gap_definition(tables: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    _, places = tables
    gaps = plots.service_gap_by_size_class(places)
    assert list(gaps.columns) == ["year", "size_class", "gap_pct"]
    assert gaps["gap_pct"].between(0, 100).all()
    # Hand-computed for one class and year.
    sel = places[(places["year"] == 2010) & (places["size_class"] == "mega")]
    gap = np.clip(1 - sel["service_capacity"] / sel["service_demand"], 0, 1)
    expected = 100 * (gap * sel["urban_residents"]).sum() / sel["urban_residents"].sum()
    got = gaps[(gaps["year"] == 2010) & (gaps["size_class"] == "mega")]["gap_pct"].item()
    assert got == pytest.approx(expected)


def test_missing_column_is_a_clear_error(
    tmp_path: Path, tables: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    national, places = tables
    with pytest.raises(ValueError, match="hukou_urbanization_rate"):
        plots.draw_urbanization(national.drop(columns="hukou_urbanization_rate"), tmp_path)
    with pytest.raises(ValueError, match="service_demand"):
        plots.draw_service_gap(places.drop(columns="service_demand"), tmp_path)
