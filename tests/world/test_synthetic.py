"""Tests of the embedded default world ``china-synthetic`` and its province table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from urbsim.households import FIELDS, NON_AGRICULTURAL, URBAN
from urbsim.world.base import FLOATING_TARGET, KINDS, NONAGRI_TARGET, REGIONS, SIZE_CLASSES, World
from urbsim.world.provinces import PROVINCE_COLUMNS, load_provinces
from urbsim.world.synthetic import (
    _apportion,
    build_synthetic_world,
    prefecture_city_sizes,
    size_class_counts,
)

HPA = 400.0
PLACE_COLUMNS = (
    "code",
    "name",
    "province_code",
    "prefecture_code",
    "region",
    "kind",
    "lon",
    "lat",
    "is_capital",
    "residents",
    "urban_residents",
)


@pytest.fixture(scope="module")
def provinces() -> pd.DataFrame:
    return load_provinces()


@pytest.fixture(scope="module")
def world() -> World:
    return build_synthetic_world(HPA, seed=0)


@pytest.fixture(scope="module")
def world_seed1() -> World:
    return build_synthetic_world(HPA, seed=1)


def _weights(w: World) -> np.ndarray:
    return w.households.persons.astype(np.float64) * w.households_per_agent


# --- province table ----------------------------------------------------------------------------


def test_province_table(provinces: pd.DataFrame) -> None:
    assert tuple(provinces.columns) == PROVINCE_COLUMNS
    assert len(provinces) == 31
    assert provinces["code"].is_unique
    assert int(provinces["county_units"].sum()) == 2857
    assert set(provinces["region"]) == set(REGIONS)
    assert int(provinces.loc[provinces["code"] == 44, "residents_2010"].iloc[0]) == 104320459
    assert provinces["inmigrants_other_province_2010"].sum() == pytest.approx(85.88e6, rel=1e-3)


def test_load_provinces_returns_fresh_copy() -> None:
    a = load_provinces()
    a.loc[0, "residents_2010"] = -1
    assert load_provinces().loc[0, "residents_2010"] > 0


# --- places --------------------------------------------------------------------------------------


def test_place_counts_and_codes(world: World) -> None:
    pl = world.places
    assert world.name == "china-synthetic"
    assert len(pl) == 2857
    assert np.unique(pl.code).shape[0] == len(pl)
    assert np.unique(pl.province_code).shape[0] == 31
    kinds = np.bincount(pl.kind, minlength=len(KINDS))
    for got, expected in zip(kinds, (853, 1634, 370), strict=True):
        assert abs(got - expected) <= 0.03 * expected
    # 333 prefecture-level units plus the four municipalities
    assert abs(np.unique(pl.prefecture_code).shape[0] - 337) <= 10
    # PPCCXX codes
    assert np.array_equal(pl.code // 10000, pl.province_code)
    assert np.array_equal(pl.code // 100 * 100, pl.prefecture_code)
    assert (pl.code % 100 >= 1).all()
    assert np.array_equal(pl.is_capital, pl.prefecture_code % 10000 == 100)
    names = pl.name.tolist()
    assert len(set(names)) == len(names)
    assert all(n.isascii() for n in names)
    assert pl.region.max() < len(REGIONS)


def test_places_inside_china(world: World) -> None:
    pl = world.places
    assert ((pl.lon >= 73.0) & (pl.lon <= 135.0)).all()
    assert ((pl.lat >= 18.0) & (pl.lat <= 54.0)).all()


def test_capital_prefecture_at_capital(world: World, provinces: pd.DataFrame) -> None:
    pl = world.places
    for row in provinces.itertuples():
        core = pl.code == row.code * 10000 + 101  # first district of prefecture 01
        assert pl.lon[core][0] == pytest.approx(row.capital_lon)
        assert pl.lat[core][0] == pytest.approx(row.capital_lat)


def test_geometry_independent_of_seed(world: World, world_seed1: World) -> None:
    for col in PLACE_COLUMNS:
        assert np.array_equal(getattr(world.places, col), getattr(world_seed1.places, col)), col


def test_province_sums_equal_table(world: World, provinces: pd.DataFrame) -> None:
    pl = world.places
    res = pd.Series(pl.residents).groupby(pl.province_code).sum()
    urb = pd.Series(pl.urban_residents).groupby(pl.province_code).sum()
    table = provinces.set_index("code")
    assert np.abs(res - table["residents_2010"]).max() < 1.0
    assert np.abs(urb - table["urban_2010"]).max() < 1.0
    assert (pl.urban_residents >= 0).all()
    assert (pl.urban_residents <= pl.residents).all()


def test_district_and_county_urban_shares(world: World) -> None:
    pl = world.places
    share = pl.urban_residents / pl.residents
    assert share[pl.kind == 0].min() >= 0.69
    assert np.median(share[pl.kind == 1]) < 0.4
    assert np.median(share[pl.kind == 2]) > np.median(share[pl.kind == 1])


def test_size_classes_china_like(world: World) -> None:
    counts = size_class_counts(world.places)
    assert counts.sum() == np.unique(world.places.prefecture_code).shape[0]
    assert len(counts) == len(SIZE_CLASSES)
    assert 2 <= counts[0] <= 6  # super-large: Shanghai, Beijing, ...
    assert 5 <= counts[0] + counts[1] <= 20  # a handful above 5 million
    assert 30 <= counts[3] <= 150  # dozens of large II cities
    assert counts[4] + counts[5] >= 150  # many medium and small
    sizes = prefecture_city_sizes(world.places)
    assert sizes.idxmax() == 310100  # Shanghai is the largest city


# --- households ----------------------------------------------------------------------------------


def test_household_dtypes_and_ranges(world: World) -> None:
    hh = world.households
    for name, field in FIELDS.items():
        assert getattr(hh, name).dtype == field.dtype, name
    n_places = len(world.places)
    assert ((hh.place >= 0) & (hh.place < n_places)).all()
    assert ((hh.hukou_place >= 0) & (hh.hukou_place < n_places)).all()
    assert (hh.persons >= 1).all() and (hh.persons <= 10).all()
    assert (hh.zone <= 1).all() and (hh.hukou_type <= 1).all()
    assert (hh.age_group() <= 3).all() and (hh.education <= 3).all() and (hh.children <= 3).all()
    assert (hh.children <= hh.persons - 1).all()
    assert (hh.permit == 0).all()
    assert (hh.land[hh.hukou_type == NON_AGRICULTURAL] == 0).all()
    assert (np.bincount(hh.place, minlength=n_places) > 0).all()  # every place has agents


def test_agents_per_province(world: World, provinces: pd.DataFrame) -> None:
    pc = world.places.province_code[world.households.place]
    agents = pd.Series(1, index=pc).groupby(level=0).sum()
    expected = (provinces.set_index("code")["households_2010"] / HPA).round()
    assert (agents - expected).abs().max() <= 1


def test_agent_residents_match_table(world: World, provinces: pd.DataFrame) -> None:
    pc = world.places.province_code[world.households.place]
    implied = pd.Series(_weights(world)).groupby(pc).sum()
    rel = implied / provinces.set_index("code")["residents_2010"] - 1.0
    assert rel.abs().max() < 0.02


def test_national_targets(world: World, provinces: pd.DataFrame) -> None:
    """Achieved national figures at 400 households per agent (printed with ``-s``)."""
    hh = world.households
    w = _weights(world)
    residents = w.sum()
    urbanization = w[hh.zone == URBAN].sum() / residents
    nonagri = w[hh.hukou_type == NON_AGRICULTURAL].sum() / residents
    floating = hh.hukou_place != hh.place
    pc = world.places.province_code
    inter = floating & (pc[hh.hukou_place] != pc[hh.place])
    print(
        f"\nagents {len(hh)}, residents {residents / 1e6:.2f}M, urbanization {urbanization:.4f}, "
        f"non-agri hukou {nonagri:.4f}, floating {w[floating].sum() / 1e6:.1f}M, "
        f"inter-province {w[inter].sum() / 1e6:.1f}M"
    )
    assert residents == pytest.approx(provinces["residents_2010"].sum(), rel=0.01)
    table_urbanization = provinces["urban_2010"].sum() / provinces["residents_2010"].sum()
    assert table_urbanization == pytest.approx(0.503, abs=0.001)
    assert abs(urbanization - 0.503) < 0.005
    assert abs(nonagri - NONAGRI_TARGET) < 0.003
    assert w[floating].sum() == pytest.approx(FLOATING_TARGET, rel=0.05)
    assert w[inter].sum() == pytest.approx(85.9e6, rel=0.05)


def test_migrants(world: World) -> None:
    hh = world.households
    pc = world.places.province_code
    floating = hh.hukou_place != hh.place
    assert (hh.zone[floating] == URBAN).all()
    # inter-province migrants come from provinces with out-migration, never from their own
    inter = floating & (pc[hh.hukou_place] != pc[hh.place])
    assert not (pc[hh.hukou_place[inter]] == 11).any()  # Beijing has no net out-migration
    # migrants are younger and recent
    assert hh.head_age[floating].mean() < hh.head_age[~floating].mean()
    assert hh.years_here[floating].max() <= 10
    assert hh.years_here[~floating].min() >= 5
    assert 3.0 < hh.years_here[floating].mean() < 5.0


def test_education_and_nonagri_pattern(world: World) -> None:
    hh = world.households
    w = _weights(world)
    edu = np.bincount(hh.education, weights=w, minlength=4) / w.sum()
    assert np.allclose(edu, (0.35, 0.42, 0.15, 0.08), atol=0.03)
    urban_local = (hh.zone == URBAN) & (hh.hukou_place == hh.place)
    rural = hh.zone != URBAN
    assert hh.hukou_type[urban_local].mean() > 0.5 > hh.hukou_type[rural].mean()


def test_notes(world: World) -> None:
    for key in ("source", "urban_definition", "nonagri_hukou", "floating_population", "achieved"):
        assert key in world.notes
    assert "50.3%" in world.notes["urban_definition"]
    assert "34.17%" in world.notes["nonagri_hukou"]
    assert "factor 1.2" in world.notes["nonagri_hukou"]
    assert "221" in world.notes["floating_population"]


def test_determinism(world: World, world_seed1: World) -> None:
    again = build_synthetic_world(HPA, seed=0)
    for name in FIELDS:
        assert np.array_equal(getattr(again.households, name), getattr(world.households, name))
    assert any(
        len(world.households) != len(world_seed1.households)
        or not np.array_equal(getattr(world.households, n), getattr(world_seed1.households, n))
        for n in FIELDS
    )


def test_default_scale_size() -> None:
    # Build speed is measured by benchmarks/, not asserted here.
    w = build_synthetic_world()
    assert 0.9e6 < len(w.households) < 1.1e6


def test_coarse_scale(provinces: pd.DataFrame) -> None:
    w = build_synthetic_world(40000.0, seed=2)
    assert 9000 < len(w.households) < 11000
    pc = np.unique(w.places.province_code[w.households.place])
    assert set(pc) == set(provinces["code"])
    assert w.households_per_agent == 40000.0


@pytest.mark.parametrize("hpa", [0, -1.0, float("nan"), float("inf"), "400", None, True])
def test_bad_households_per_agent(hpa: object) -> None:
    with pytest.raises(ValueError, match="households_per_agent"):
        build_synthetic_world(hpa)  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", [-1, 1.5, "0", None, True])
def test_bad_seed(seed: object) -> None:
    with pytest.raises(ValueError, match="seed"):
        build_synthetic_world(HPA, seed=seed)  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(
    weights=st.lists(st.floats(0.0, 1e6), min_size=1, max_size=40),
    extra=st.integers(0, 500),
    minimum=st.integers(0, 2),
)
def test_apportion_exact(weights: list[float], extra: int, minimum: int) -> None:
    total = minimum * len(weights) + extra
    parts = _apportion(total, np.asarray(weights), minimum)
    assert parts.sum() == total
    assert (parts >= minimum).all()
    w = np.asarray(weights)
    if minimum == 0 and w.sum() > 0:
        quota = total * w / w.sum()
        assert (np.abs(parts - quota) < 1.0).all()
