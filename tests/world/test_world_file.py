"""World files: validation on load (issue 10, findings 4 and 5), row order (finding 5).

The files are small hand-made world tables (eight places in three provinces) written with
:func:`urbsim.world.census.write_world_file`; a damaged copy is written with pyarrow keeping the
file's metadata, so only the damage differs.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from urbsim.model import UrbanizationModel
from urbsim.scenario import load_scenario
from urbsim.world.base import SIZE_CLASS_BOUNDS
from urbsim.world.census import (
    WORLD_COLUMNS,
    WorldFileError,
    load_census_world,
    read_world_file,
    write_world_file,
)

ROOT = Path(__file__).resolve().parents[2]

#: code, name, kind, prefecture code, lon, lat, residents of the hand-made places. 429004 lies in
#: the pseudo-prefecture 429000 of Hubei's province-administered units: it has no district.
_PLACES: tuple[tuple[int, str, int, int, float, float, int], ...] = (
    (110101, "东城区", 0, 110100, 116.42, 39.93, 900_000),
    (110228, "密云县", 1, 110100, 116.84, 40.37, 480_000),
    (420102, "江岸区", 0, 420100, 114.31, 30.60, 890_000),
    (420502, "西陵区", 0, 420500, 111.29, 30.70, 510_000),
    (420581, "宜都市", 2, 420500, 111.45, 30.39, 380_000),
    (429004, "仙桃市", 2, 429000, 113.45, 30.36, 1_170_000),
    (510104, "锦江区", 0, 510100, 104.08, 30.66, 690_000),
    (510121, "金堂县", 1, 510100, 104.41, 30.86, 720_000),
)
_REGION = {11: 0, 42: 1, 51: 2}


def world_table() -> pd.DataFrame:
    """A valid world table of :data:`_PLACES` (consistent counts, the model's size classes)."""
    rows = []
    for code, name, kind, pref, lon, lat, res in _PLACES:
        urban = res * (9 if kind == 0 else 4) // 10
        households = res * 3 // 10
        rows.append(
            {
                "code": code,
                "name": name,
                "province_code": code // 10000,
                "prefecture_code": pref,
                "prefecture_name": f"P{pref}",
                "kind": kind,
                "region": _REGION[code // 10000],
                "lon": lon,
                "lat": lat,
                "is_capital": pref % 10000 == 100,
                "residents": res,
                "urban_residents": urban,
                "rural_residents": res - urban,
                "hukou_residents": res * 95 // 100,
                "nonagri_hukou_pct": 40.0 if kind == 0 else 15.0,
                "households": households,
                "family_persons": res * 9 // 10,
                "household_size": (res * 9 // 10) / households,
                "inmig_same_county": res // 50,
                "inmig_other_county": res // 25,
                # Hubei, half the residents, takes fewer: the stock must be one that the
                # destination constants can give (a province cannot take more from the others
                # than they send out).
                "inmig_other_province": res // (40 if code // 10000 == 42 else 20),
                "age_0_14_pct": 16.0,
                "age_15_64_pct": 74.0,
                "age_65_plus_pct": 10.0,
                "schooling_years": 9.0,
                "emp_primary_pct": 30.0,
                "emp_secondary_pct": 30.0,
                "emp_tertiary_pct": 40.0,
                "longform_households": households // 10,
                "renting_households": households // 50,
                "renting_share": 0.2,
                "unit_type": "county-level unit",
                "coord_source": "prefecture centroid",
                "source_row": len(rows) + 2,
            }
        )
    df = pd.DataFrame(rows)
    # Size classes by hand (the rule itself is tested in test_size_class.py): districts' urban
    # residents, all units' for the prefecture without districts.
    district = df["urban_residents"].where(df["kind"] == 0, 0)
    city = district.groupby(df["prefecture_code"]).transform("sum")
    city = city.where(city > 0, df.groupby("prefecture_code")["urban_residents"].transform("sum"))
    df["prefecture_urban_residents"] = city
    df["size_class"] = [sum(c < b for b in SIZE_CLASS_BOUNDS) for c in city]
    return df[list(WORLD_COLUMNS)].astype(WORLD_COLUMNS)


@pytest.fixture
def world_path(tmp_path: Path) -> Path:
    """The hand-made world written as a world file."""
    return write_world_file(world_table(), tmp_path / "small_world.parquet", {"places": 8})


def _rewrite(src: Path, dst: Path, df: pd.DataFrame) -> Path:
    """``df`` written to ``dst`` with the metadata of the world file ``src``."""
    meta = pq.read_schema(src).metadata
    table = pa.Table.from_pandas(df, preserve_index=False)
    pq.write_table(table.replace_schema_metadata(meta), dst)
    return dst


def _damaged(world_path: Path, column: str, rows: list[int], value: object) -> Path:
    df = pq.read_table(world_path).to_pandas()
    if isinstance(value, float) and not np.isfinite(value):
        df[column] = df[column].astype(np.float64)
    elif isinstance(value, int) and value < 0:
        df[column] = df[column].astype(np.int64)  # as a hand-edited file might hold it
    df.loc[rows, column] = value
    return _rewrite(world_path, world_path.with_name("damaged.parquet"), df)


# ==================================================================================================
# validation on load
# ==================================================================================================


def test_hand_made_world_loads(world_path: Path) -> None:
    world = load_census_world(world_path, 50.0, seed=1)
    assert world.places.code.tolist() == sorted(p[0] for p in _PLACES)
    assert len(world.households) > 1000


def test_finding_4_all_nan_coordinates_fail_on_load_not_in_plotting(world_path: Path) -> None:
    """Finding 4: a world whose coordinates are all NaN crashed in plotting after the run."""
    bad = _damaged(world_path, "lon", list(range(len(_PLACES))), float("nan"))
    with pytest.raises(WorldFileError) as exc:
        load_census_world(bad, 50.0)
    msg = str(exc.value)
    assert "damaged.parquet" in msg and "column 'lon'" in msg
    assert "not a finite number" in msg and "8 of 8 rows" in msg
    assert "row 1 (code 110101)" in msg and "and 3 more" in msg


@pytest.mark.parametrize(
    ("column", "row", "value", "reason"),
    [
        ("lon", 2, float("nan"), "not a finite number"),
        ("lat", 4, 1000.0, "outside -90..90 degrees"),
        ("lon", 1, 200.0, "outside -180..180 degrees"),
        ("lat", 3, -33.9, "outside China's box"),
        ("province_code", 5, 71, "unknown province code"),
        ("households", 6, 0, "must be positive"),
        ("hukou_residents", 7, 0, "must be positive"),
        ("residents", 0, 0, "must be positive"),
        ("code", 3, 420102, "duplicate place code"),
        ("code", 2, float("nan"), "not a 6-digit code"),
        ("prefecture_code", 6, 110100, "lies outside the place's province"),
        ("kind", 1, -1, "not a kind code 0..2"),
        ("region", 5, 7, "not a region code 0..3"),
    ],
)
def test_finding_5_invalid_world_values_are_refused_with_column_rows_and_reason(
    world_path: Path, column: str, row: int, value: object, reason: str
) -> None:
    """Finding 5: NaN longitudes, latitude 1000, an unknown province code, zero households or
    zero hukou population (and duplicate codes) ran and gave different results."""
    bad = _damaged(world_path, column, [row], value)
    with pytest.raises(WorldFileError) as exc:
        load_census_world(bad, 50.0)
    msg = str(exc.value)
    assert msg.startswith(f"{bad}: column {column!r}: {reason}"), msg
    assert f"row {row + 1} (code " in msg


def test_a_world_file_error_is_a_user_error(world_path: Path) -> None:
    from urbsim.errors import UrbsimError

    bad = _damaged(world_path, "lat", [0], 1000.0)
    with pytest.raises(UrbsimError):
        read_world_file(bad)


# ==================================================================================================
# row order
# ==================================================================================================


def _run_tables(world_file: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    loaded = load_scenario(
        ROOT / "scenarios/china_census.toml",
        overrides=[
            "world.households_per_agent=50.0",
            f"world.world_file={json.dumps(str(world_file))}",
        ],
    )
    model = UrbanizationModel(loaded)
    for _ in range(4):
        model.step()
    return model.national_table(), model.places_table()


def test_finding_5_shuffled_world_file_gives_identical_world_and_tables(world_path: Path) -> None:
    """Finding 5: a world file with shuffled rows ran and gave different results."""
    df = pq.read_table(world_path).to_pandas()
    order = np.random.default_rng(3).permutation(len(df))
    assert (order != np.arange(len(df))).any()
    shuffled = _rewrite(world_path, world_path.with_name("shuffled.parquet"), df.iloc[order])
    a = load_census_world(world_path, 50.0, seed=4)
    b = load_census_world(shuffled, 50.0, seed=4)
    for name in ("code", "lon", "lat", "residents", "kind", "prefecture_code"):
        np.testing.assert_array_equal(getattr(a.places, name), getattr(b.places, name))
    for name, arr in a.households.as_dict().items():
        np.testing.assert_array_equal(arr, getattr(b.households, name), err_msg=name)
    nat_a, places_a = _run_tables(world_path)
    nat_b, places_b = _run_tables(shuffled)
    pd.testing.assert_frame_equal(nat_a, nat_b, check_exact=True)
    pd.testing.assert_frame_equal(places_a, places_b, check_exact=True)


def test_read_world_file_returns_places_by_code(world_path: Path) -> None:
    df = pq.read_table(world_path).to_pandas()
    reversed_file = _rewrite(world_path, world_path.with_name("rev.parquet"), df.iloc[::-1])
    back, _ = read_world_file(reversed_file)
    assert back["code"].is_monotonic_increasing
    pd.testing.assert_frame_equal(back, read_world_file(world_path)[0])


def test_finding_4_run_on_a_world_with_nan_coordinates_is_one_error_and_writes_nothing(
    world_path: Path, tmp_path: Path
) -> None:
    """Finding 4: ``urbsim run`` on a world whose coordinates are all NaN ran the whole
    simulation and then crashed in plotting with a traceback."""
    from typer.testing import CliRunner

    from urbsim.cli import app

    bad = _damaged(world_path, "lat", list(range(len(_PLACES))), float("nan"))
    out = tmp_path / "run"
    result = CliRunner().invoke(
        app,
        [
            "run",
            str(ROOT / "scenarios/china_census.toml"),
            "--out",
            str(out),
            "--set",
            f"world.world_file={json.dumps(str(bad))}",
            "--set",
            "world.households_per_agent=50.0",
        ],
    )
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "column 'lat': not a finite number" in result.output
    assert not out.exists()
