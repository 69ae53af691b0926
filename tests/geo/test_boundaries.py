"""urbsim.geo: packaged outlines load, match their recorded checksums, and cover the worlds.

The census world's codes come from the ``built`` session fixture (tests/conftest.py; skipped
without the shared census files), the synthetic world's from its generator.
"""

from __future__ import annotations

import hashlib
import re
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
import pytest
import shapely

from urbsim.geo import (
    BoundaryCodeError,
    code_table,
    load_prefectures,
    load_provinces,
    prefecture_units,
    unmatched_codes,
)
from urbsim.world.provinces import load_provinces as load_province_table

DATA = resources.files("urbsim") / "data"


def test_prefecture_outlines_load_valid_and_unique() -> None:
    pref = load_prefectures()
    assert len(pref) == 369
    assert pref["code"].is_unique
    assert pref.crs.to_epsg() == 4326
    assert pref.is_valid.all() and not pref.is_empty.any()
    # Inside China's bounding box (lon/lat), Sansha reaching down to 4 degrees N.
    x0, y0, x1, y1 = pref.total_bounds
    assert 73 < x0 and x1 < 136 and 3 < y0 and y1 < 54
    # Simplified as one coverage: neighbours share their borders exactly, nothing overlaps.
    assert shapely.coverage_is_valid(pref.geometry.to_numpy())


def test_province_outlines_are_the_union_of_their_prefectures() -> None:
    pref, prov = load_prefectures(), load_provinces()
    assert len(prov) == 33 and prov["province_code"].is_unique
    assert set(prov["province_code"]) == set(pref["province_code"])
    # Areas in square degrees: only compared with each other.
    areas = pd.Series(shapely.area(pref.geometry.to_numpy())).groupby(pref["province_code"]).sum()
    got = pd.Series(shapely.area(prov.geometry.to_numpy()), index=prov["province_code"])
    assert np.allclose(got.sort_index(), areas.sort_index(), rtol=1e-9)
    # Every province of the embedded 2010 table (the synthetic world's) has an outline.
    assert set(load_province_table()["code"]) <= set(prov["province_code"])


@pytest.mark.parametrize("name", ["prefectures.parquet", "provinces.parquet"])
def test_packaged_files_are_small_and_match_the_readme_checksum(name: str) -> None:
    data = (DATA / name).read_bytes()
    assert len(data) < 1_000_000
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    row = re.search(rf"\| `{re.escape(name)}` \|.*\| `([0-9a-f]{{64}})` \|", readme)
    assert row is not None, f"no checksum row for {name} in urbsim/data/README.md"
    assert hashlib.sha256(data).hexdigest() == row.group(1)


def test_code_table_points_at_outlines_only() -> None:
    table = code_table()
    assert list(table.columns) == ["code_2010", "code_2020", "name", "note"]
    assert not table.duplicated(["code_2010", "code_2020"]).any()
    assert table["note"].str.len().gt(0).all()
    outlines = set(load_prefectures()["code"])
    assert set(table["code_2020"]) <= outlines
    # Every listed 2010 code is either gone by 2020 or keeps its own outline among its rows
    # (a prefecture a new unit was carved from).
    for code, rows in table.groupby("code_2010"):
        assert code not in outlines or code in set(rows["code_2020"]), code


@pytest.mark.slow
def test_every_census_prefecture_maps_to_an_outline(built: tuple[Any, dict]) -> None:
    df, _ = built
    codes = df["prefecture_code"].unique()
    assert len(codes) == 341
    assert unmatched_codes(codes) == []
    units = prefecture_units(codes)
    assert set(units["code_2010"]) == set(codes.tolist())
    # Only Hong Kong and Macao (not in the 2010 census) are left without a 2010 prefecture.
    assert set(load_prefectures()["code"]) - set(units["code_2020"]) == {810000, 820000}


def test_the_synthetic_worlds_prefectures_are_not_census_codes() -> None:
    """Its prefectures are generated: maps of it are drawn by province (see urbsim.plots.maps)."""
    from urbsim.world.synthetic import build_synthetic_world

    world = build_synthetic_world(households_per_agent=40000.0, seed=0)
    assert len(unmatched_codes(np.unique(world.places.prefecture_code))) > 0
    provinces = set(load_provinces()["province_code"])
    assert set(np.unique(world.places.province_code).tolist()) <= provinces


def test_splits_and_mergers_form_one_map_unit() -> None:
    units = prefecture_units([340100, 341400, 370100, 371200, 110100])
    unit = units.drop_duplicates("code_2010").set_index("code_2010")["unit"]
    # Chaohu was split among Hefei, Wuhu and Ma'anshan: all four are one unit.
    assert unit[341400] == unit[340100] == 340100
    assert set(units.loc[units["code_2010"] == 341400, "code_2020"]) == {340100, 340200, 340500}
    # Laiwu merged into Jinan.
    assert unit[371200] == unit[370100] == 370100
    assert unit[110100] == 110100


def test_unknown_code_is_a_clear_error() -> None:
    assert unmatched_codes([110100, 131200, 999900]) == [131200, 999900]
    with pytest.raises(BoundaryCodeError, match="131200"):
        prefecture_units([110100, 131200])
