"""The census world: converter, world file, household synthesis, CLI and a scenario run.

Tests on the real census file read it from ``../shared/data/census/`` beside the checkout and
skip when it is absent; the xlsx is parsed once per session. Error cases use small workbooks
written with openpyxl into ``tmp_path``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from census_rows import HEADERS, census_row
from typer.testing import CliRunner

from urbsim.cli import app
from urbsim.model import UrbanizationModel
from urbsim.places import size_classes
from urbsim.scenario import load_scenario
from urbsim.world.away import EARLIEST_LEAVING_AGE, P_YEARS_AWAY
from urbsim.world.base import CHINA_BBOX, FLOATING_TARGET, KINDS, MAX_PERSONS, NONAGRI_TARGET
from urbsim.world.census import (
    SCHEMA_VERSION,
    WORLD_COLUMNS,
    CensusDataError,
    WorldFileError,
    build_census_world_table,
    load_census_world,
    place_table,
    read_world_file,
)
from urbsim.world.census_households import (
    EDU_YEARS,
    OTHER_COUNTY,
    OTHER_PROVINCE,
    SAME_COUNTY,
    Synthesis,
    synthesize_households,
)
from urbsim.world.census_read import COLUMNS

#: End-to-end runs, sweeps or subprocesses: outside `make test-fast`.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared/data/census"
XLSX = DATA / "census_county_2010_v1.xlsx"
CENTROIDS = DATA / "prefecture_centroids.csv"
PROVINCES = DATA / "provinces_2010.csv"
needs_data = pytest.mark.skipif(
    not (XLSX.is_file() and CENTROIDS.is_file() and PROVINCES.is_file()),
    reason=f"census data not found in {DATA} (see README 'Census world')",
)
#: Coarse scale of the synthesis tests (about 250,000 agents).
HPA = 2000.0


# ==================================================================================================
# fixtures
# ==================================================================================================


# ``built`` (the converted census table and report) and ``world_file`` (it written as a world
# file) are session fixtures of tests/conftest.py: the end-to-end scenario tests use them too.


@pytest.fixture(scope="session")
def synth(world_file: Path):
    df, _ = read_world_file(world_file)
    return df, synthesize_households(df, HPA, 11)


# ==================================================================================================
# converter on the real file
# ==================================================================================================


@needs_data
def test_province_totals_equal_the_census_province_rows(built) -> None:
    df, _ = built
    prov = pd.read_csv(PROVINCES).set_index("code")
    sums = df.groupby("province_code")[
        ["residents", "urban_residents", "hukou_residents", "households", "inmig_other_province"]
    ].sum()
    assert sorted(sums.index) == sorted(prov.index)
    pairs = {
        "residents": "resident_2010",
        "urban_residents": "urban_2010",
        "hukou_residents": "hukou_2010",
        "households": "households_2010",
        "inmig_other_province": "inmig_other_prov_2010",
    }
    for ours, theirs in pairs.items():
        assert (sums[ours] == prov.loc[sums.index, theirs]).all(), ours
    assert int(df["residents"].sum()) == 1_332_810_869


@needs_data
def test_rows_are_classified(built) -> None:
    df, report = built
    assert report["rows_skipped"] == {"blank": 30, "subtotal": 16, "no data": 3}
    assert report["province_rows"] == 31 and report["prefecture_rows"] == 333
    assert report["unit_types"] == {
        "county-level unit": 2857,
        "prefecture-level city without county units": 4,
        "unit without a code": 9,
    }
    assert report["kinds"] == {"urban district": 864, "county": 1639, "county-level city": 367}
    assert len(df) == 2870 and df["code"].is_unique
    by_code = df.set_index("code")
    expect = {
        110101: ("东城区", 0, 110100, True),
        110228: ("密云县", 1, 110100, True),  # a municipality is one prefecture
        429021: ("神农架林区", 1, 429000, False),  # forestry area: county
        610103: ("碑林区", 0, 610100, True),  # ends in 林区 too, but a district of Xi'an
        140109: ("万柏林区", 0, 140100, True),  # a district of Taiyuan
        520203: ("六枝特区", 1, 520200, False),  # special area: county
        130981: ("泊头市", 2, 130900, False),  # 巿 (U+5DFF) in the file
        150726: ("新巴尔虎左旗", 1, 150700, False),
        441900: ("东莞市", 0, 441900, False),  # prefecture-level city without county units
        232799: ("加格达奇", 0, 232700, False),  # uncoded unit, synthetic code
        440103: ("荔湾区", 0, 440100, True),
    }
    for code, (name, kind, pref, capital) in expect.items():
        row = by_code.loc[code]
        assert (row["name"], row["kind"], row["prefecture_code"], row["is_capital"]) == (
            name,
            kind,
            pref,
            capital,
        ), code
    assert report["synthetic_codes"][0] == "加格达奇 (row 802) -> 232799"
    assert set(report["empty_cells_read_as_zero"]) <= {
        "rural_residents",
        "inmig_same_county",
        "renting_households",
        "emp_secondary_pct",
    }
    assert len(report["corrections"]) == 3
    assert report["xlsx_sha256"].startswith("fccd3f09") and report["xlsx_sha256"].endswith("f5d0b")


@needs_data
def test_coordinates_are_in_china_and_fallbacks_reported(built) -> None:
    df, report = built
    lon_min, lon_max, lat_min, lat_max = CHINA_BBOX
    assert df["lon"].between(lon_min, lon_max).all() and df["lat"].between(lat_min, lat_max).all()
    assert sum(report["coordinate_sources"].values()) == len(df)
    assert report["coordinate_sources"]["province capital"] == len(
        report["coordinate_fallback_units"]
    )
    assert len(report["coordinate_fallback_units"]) <= 10  # 巢湖 and 莱芜 no longer exist
    # Units of one prefecture stay near its centroid (offset <= 0.3 deg, stretched in lon).
    # (Province-administered units, PP90xx, sit on their own centroids instead.)
    near = df[df["coord_source"] != "unit centroid"]
    spread = near.groupby("prefecture_code")["lat"].agg(lambda s: s.max() - s.min())
    assert spread.max() <= 0.6 + 1e-9


@needs_data
def test_size_classes_follow_the_model_rule(built) -> None:
    df, report = built
    places = place_table(df)
    _, pref_idx = np.unique(places.prefecture_code, return_inverse=True)
    model_cls = size_classes(places, places.urban_residents, pref_idx, int(pref_idx.max()) + 1)
    assert (model_cls == df["size_class"].to_numpy()).all()
    by_code = df.set_index("code")
    assert by_code.loc[110101, "size_class"] == 0  # Beijing: super-large
    assert sum(report["prefecture_size_classes"].values()) == df["prefecture_code"].nunique()


# ==================================================================================================
# world file
# ==================================================================================================


@needs_data
def test_world_file_round_trip_and_schema_checks(built, world_file: Path, tmp_path: Path) -> None:
    df, _ = built
    back, report = read_world_file(world_file)
    pd.testing.assert_frame_equal(back, df[list(WORLD_COLUMNS)].reset_index(drop=True))
    assert report["places"] == len(df)
    meta = pq.read_schema(world_file).metadata
    assert meta[b"urbsim_world_schema"] == str(SCHEMA_VERSION).encode()
    assert meta[b"urbsim_kind"] == b"world"

    table = pq.read_table(world_file)
    old = tmp_path / "old.parquet"
    pq.write_table(table.replace_schema_metadata({b"urbsim_world_schema": b"0"}), old)
    with pytest.raises(WorldFileError, match=r"old\.parquet.*schema version 0"):
        read_world_file(old)
    lacking = tmp_path / "lacking.parquet"
    pq.write_table(table.drop_columns(["hukou_residents"]), lacking)
    with pytest.raises(WorldFileError, match=r"lacking\.parquet.*hukou_residents"):
        read_world_file(lacking)
    with pytest.raises(WorldFileError, match="no such world file"):
        read_world_file(tmp_path / "none.parquet")


# ==================================================================================================
# households
# ==================================================================================================


def _per_place(values: np.ndarray, place: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(place, weights=values, minlength=n)


@needs_data
def test_households_match_the_places_within_sampling_error(synth) -> None:
    df, s = synth
    hh, n = s.households, len(df)
    persons = hh.persons.astype(np.float64)
    place = hh.place.astype(np.int64)
    w = persons * HPA
    # Residents: persons are set per place, up to rounding of agents (one agent's persons).
    res = _per_place(w, place, n)
    assert np.abs(res - df["residents"]).max() <= 2 * HPA
    # Urban residents: a prefix of the place's agents, off by at most one agent's persons.
    urban = _per_place(w * (hh.zone == 1), place, n)
    assert np.abs(urban - df["urban_residents"]).max() <= (MAX_PERSONS + 2) * HPA
    # In-migrants by origin scope: consecutive prefixes, each boundary off by <= 1 agent.
    for scopes, col in (
        ((OTHER_PROVINCE,), "inmig_other_province"),
        ((OTHER_COUNTY,), "inmig_other_county"),
        ((SAME_COUNTY,), "inmig_same_county"),
    ):
        got = _per_place(w * np.isin(s.scope, scopes), place, n)
        assert np.abs(got - df[col]).max() <= (2 * MAX_PERSONS + 2) * HPA, col
        assert got.sum() == pytest.approx(df[col].sum(), rel=0.02), col
    # Family households and their size.
    fam = ~s.collective
    agents_f = _per_place(fam.astype(float), place, n)
    assert agents_f.sum() * HPA == pytest.approx(df["households"].sum(), rel=1e-4)
    assert np.abs(agents_f - df["households"] / HPA).max() <= 1.5
    big = agents_f >= 200
    size = _per_place(persons * fam, place, n)[big] / agents_f[big]
    assert np.abs(size - df["household_size"].to_numpy()[big]).max() < 0.02
    # Hukou residents: registered persons by hukou place (flows balanced by IPF).
    reg = _per_place(w, hh.hukou_place.astype(np.int64), n)
    hk = df["hukou_residents"].to_numpy(dtype=float)
    assert reg.sum() == pytest.approx(hk.sum(), rel=0.01)
    by_prov = (
        pd.Series(reg).groupby(df["province_code"]).sum()
        / pd.Series(hk).groupby(df["province_code"]).sum()
    )
    assert by_prov.between(0.97, 1.03).all()
    large = hk >= 500 * HPA
    assert np.median(np.abs(reg[large] / hk[large] - 1.0)) < 0.04


@needs_data
def test_origins_scopes_and_national_targets(synth) -> None:
    df, s = synth
    hh = s.households
    prov = df["province_code"].to_numpy()
    place, home = hh.place.astype(np.int64), hh.hukou_place.astype(np.int64)
    inter = s.scope == OTHER_PROVINCE
    intra = s.scope == OTHER_COUNTY
    assert (prov[home[inter]] != prov[place[inter]]).all()
    assert (prov[home[intra]] == prov[place[intra]]).all() and (home[intra] != place[intra]).all()
    local = ~(inter | intra)
    assert (home[local] == place[local]).all()

    w = hh.persons.astype(np.float64) * HPA
    nonagri = w[hh.hukou_type == 1].sum() / w.sum()
    assert abs(nonagri - NONAGRI_TARGET) < 0.003
    # County level: the floating residents are the census's in-migrants from other counties
    # and provinces; the rest of the 221 million (moves inside a county) is reported apart.
    floating = w[home != place].sum()
    county_level = df["inmig_other_county"].sum() + df["inmig_other_province"].sum()
    assert floating == pytest.approx(county_level, rel=0.01)
    assert s.stats["floating_within_county"] == pytest.approx(FLOATING_TARGET - floating)
    assert s.stats["floating_inter"] == pytest.approx(df["inmig_other_province"].sum(), rel=0.03)
    # Only agricultural hukou holders hold land rights.
    assert not (hh.land[hh.hukou_type == 1]).any()


@needs_data
def test_inter_province_origins_follow_distance(synth) -> None:
    """The origins of the 2010 inter-province migrants decay with distance: neighbouring
    provinces weigh more among a destination's migrants than among a far one's (the 2010
    census's corridors Anhui -> Shanghai, Guangxi -> Guangdong), which an origin mix common to
    all destinations (no distance) would not give."""
    df, s = synth
    hh = s.households
    prov = df["province_code"].to_numpy()
    inter = s.scope == OTHER_PROVINCE
    w = hh.persons[inter].astype(np.float64)
    table = pd.crosstab(
        prov[hh.hukou_place[inter]], prov[hh.place[inter]], values=w, aggfunc="sum"
    ).fillna(0.0)
    share = table / table.sum(axis=0)
    assert share.at[34, 31] > 1.5 * share.at[34, 44]  # Anhui: Shanghai against Guangdong
    assert share.at[45, 44] > 2.0 * share.at[45, 11]  # Guangxi: Guangdong against Beijing
    assert share.at[13, 11] > 2.0 * share.at[13, 44]  # Hebei: Beijing against Guangdong


@needs_data
def test_years_away_of_the_floating_are_those_of_a_steady_stock(synth) -> None:
    """The census world's floating households (urbsim.world.away): years away at least their
    years here and at most the head's age less 16 (or the years here), 0 at home; their share
    in the first year away is the steady stock's 8.7 % less what the end at the head's age
    moves (within 1.5 points; it was 18 % when the years here stood in), and the years away
    are not the years here."""
    _, s = synth
    hh = s.households
    away = hh.place != hh.hukou_place
    years, here = hh.years_away[away].astype(int), hh.years_here[away].astype(int)
    assert (hh.years_away[~away] == 0).all()
    assert (years >= here).all()
    assert (years <= np.maximum(hh.head_age[away].astype(int) - EARLIEST_LEAVING_AGE, here)).all()
    assert abs((years == 0).mean() - P_YEARS_AWAY) < 0.015
    assert (years > here).mean() > 0.5


@needs_data
def test_age_children_and_schooling_follow_the_places(synth) -> None:
    df, s = synth
    hh, n = s.households, len(df)
    place = hh.place.astype(np.int64)
    persons = hh.persons.astype(np.float64)
    agents = np.bincount(place, minlength=n).astype(float)
    big = agents >= 300
    # Children 0-14 over all persons: the census 0-14 share (ages weighted per place).
    young = sum((hh.kids >> np.uint32(a)) & np.uint32(1) for a in range(15)).astype(float)
    kids = np.bincount(place, weights=young, minlength=n)
    share = kids / np.bincount(place, weights=persons, minlength=n)
    target = df["age_0_14_pct"].to_numpy() / 100.0
    assert np.median(np.abs(share - target)[big]) < 0.015
    national = kids.sum() / persons.sum()
    assert national == pytest.approx(np.average(target, weights=df["residents"]), abs=0.01)
    # Mean years of schooling of the heads: census mean, within 5 standard errors.
    years = np.asarray(EDU_YEARS)[hh.education]
    mean = np.bincount(place, weights=years, minlength=n) / agents
    var = np.bincount(place, weights=years**2, minlength=n) / agents - mean**2
    goal = df["schooling_years"].to_numpy()
    inside = big & (goal > EDU_YEARS[0]) & (goal < EDU_YEARS[-1])
    z = (mean - goal)[inside] / np.sqrt(var[inside] / agents[inside])
    assert np.abs(z).max() < 5.0 and abs(z.mean()) < 0.3
    # Old heads where the population is old.
    old = np.bincount(place, weights=(hh.age_group() == 3).astype(float), minlength=n) / agents
    assert np.corrcoef(old[big], df["age_65_plus_pct"][big])[0, 1] > 0.5


@needs_data
def test_load_census_world_is_deterministic(world_file: Path) -> None:
    a = load_census_world(world_file, 20000.0, seed=5)
    b = load_census_world(world_file, 20000.0, seed=5)
    c = load_census_world(world_file, 20000.0, seed=6)
    assert a.name == "census" and len(a.places) == 2870
    for name, arr in a.households.as_dict().items():
        np.testing.assert_array_equal(arr, getattr(b.households, name), err_msg=name)
    assert any(
        not np.array_equal(arr, getattr(c.households, k))
        for k, arr in a.households.as_dict().items()
        if getattr(c.households, k).shape == arr.shape
    ) or len(a.households) != len(c.households)
    assert "34.17%" in a.notes["nonagri_hukou"] and "221" in a.notes["floating_population"]
    assert "county level" in a.notes["floating_population"]
    with pytest.raises(ValueError, match="households_per_agent"):
        load_census_world(world_file, 0.0)
    with pytest.raises(ValueError, match="seed"):
        load_census_world(world_file, 400.0, seed=-1)


def test_origin_tables_made_once_give_the_world_made_without_them(world_file: Path) -> None:
    """The in-migrants' origin tables are made once per world table and process: a world built
    with them kept is the one built from scratch, and another table gets its own."""
    from urbsim.world import census_households as ch

    ch._ORIGIN_TABLES.clear()
    cold = load_census_world(world_file, 20000.0, seed=3)
    assert len(ch._ORIGIN_TABLES) == 1
    kept = next(iter(ch._ORIGIN_TABLES.values()))
    warm = load_census_world(world_file, 20000.0, seed=3)
    assert next(iter(ch._ORIGIN_TABLES.values())) is kept and len(ch._ORIGIN_TABLES) == 1
    for name, arr in cold.households.as_dict().items():
        np.testing.assert_array_equal(arr, getattr(warm.households, name), err_msg=name)
    # The draws from the kept tables are those of the direct draw from the weights.
    df, _ = read_world_file(world_file)
    _, prov = np.unique(df["province_code"].to_numpy(), return_inverse=True)
    tables = ch._origin_tables(df, prov)
    dest = np.flatnonzero(df["inmig_other_province"].to_numpy() > 0)[:50]
    weights = ch.inter_province_weights(
        tables.prov, tables.o_inter, tables.m3, tables.deter, tables.rural + 1.0
    )
    direct = ch._ColumnDraws.of(weights).draw(np.random.default_rng(4).random(dest.shape[0]), dest)
    np.testing.assert_array_equal(tables.inter().draw(np.random.default_rng(4).random(50), dest),
                                  direct)  # fmt: skip
    # Another table (one place's in-migrants changed) has tables of its own; two are kept.
    other = df.copy()
    other.loc[other.index[0], "inmig_other_county"] += 1.0
    assert ch._origin_tables(other, prov) is not tables and len(ch._ORIGIN_TABLES) == 2
    assert ch._origin_tables(df, prov) is tables


def test_the_world_does_not_depend_on_the_chunks(world_file: Path) -> None:
    """Keyed draws: chunks of a few places, of one place each or the whole world give the same
    households, scopes and statistics (issue 17: the build holds one chunk at a time)."""
    df, _ = read_world_file(world_file)
    whole = synthesize_households(df, 20000.0, 9, threads=1)
    assert whole.stats["agents"] > 20_000  # several chunks of 1000 and 7919 agents
    for size in (1, 1000, 7919):
        part = synthesize_households(df, 20000.0, 9, chunk_agents=size, threads=1)
        _assert_same_world(whole, part)
        assert part.stats == pytest.approx(whole.stats, rel=1e-12)
    # Another seed, another world; a chunk size below one agent is refused.
    other = synthesize_households(df, 20000.0, 10)
    assert not np.array_equal(other.households.head_age, whole.households.head_age)
    with pytest.raises(ValueError, match="chunk_agents"):
        synthesize_households(df, 20000.0, 9, chunk_agents=0)


def _assert_same_world(a: Synthesis, b: Synthesis) -> None:
    for name, arr in a.households.as_dict().items():
        np.testing.assert_array_equal(arr, getattr(b.households, name), err_msg=name)
    np.testing.assert_array_equal(a.scope, b.scope)
    np.testing.assert_array_equal(a.collective, b.collective)


def test_the_world_does_not_depend_on_the_threads(world_file: Path) -> None:
    """Chunks built side by side on threads (issue 17: the world build's wall at full scale)
    give the world of one thread to the bit, statistics included: the chunks' totals are
    summed in the chunks' order. More threads than chunks are fine; none is refused."""
    df, _ = read_world_file(world_file)
    for size in (1000, 7919):
        serial = synthesize_households(df, 20000.0, 9, chunk_agents=size, threads=1)
        for threads in (2, 3, 64):
            built = synthesize_households(df, 20000.0, 9, chunk_agents=size, threads=threads)
            _assert_same_world(serial, built)
            assert built.stats == serial.stats
    with pytest.raises(ValueError, match="threads"):
        synthesize_households(df, 20000.0, 9, threads=0)


@needs_data
def test_finding_5_shuffled_census_world_file_gives_the_same_world(
    world_file: Path, tmp_path: Path
) -> None:
    """Finding 5 on the real census world: rows in another order, the same places and agents."""
    table = pq.read_table(world_file)
    order = np.random.default_rng(8).permutation(table.num_rows)
    shuffled = tmp_path / "shuffled.parquet"
    pq.write_table(table.take(order), shuffled)
    a = load_census_world(world_file, 20000.0, seed=2)
    b = load_census_world(shuffled, 20000.0, seed=2)
    np.testing.assert_array_equal(a.places.code, b.places.code)
    np.testing.assert_array_equal(a.places.lon, b.places.lon)
    for name, arr in a.households.as_dict().items():
        np.testing.assert_array_equal(arr, getattr(b.households, name), err_msg=name)


@needs_data
def test_census_scenario_runs(world_file: Path) -> None:
    loaded = load_scenario(
        ROOT / "scenarios/china_census.toml",
        overrides=[
            "world.households_per_agent=40000.0",
            f"world.world_file={json.dumps(str(world_file))}",
        ],
    )
    model = UrbanizationModel(loaded)
    for _ in range(3):
        model.step()
    nat = model.national_table()
    assert nat["year"].tolist() == [2010, 2011, 2012, 2013]
    first = nat.iloc[0]
    assert first["urbanization_rate"] == pytest.approx(0.5027, abs=0.01)
    assert first["hukou_urbanization_rate"] == pytest.approx(NONAGRI_TARGET, abs=0.02)
    assert np.isfinite(nat.select_dtypes("number").to_numpy()).all()
    assert model.world.name == "census" and model.n_places == 2870


# ==================================================================================================
# error cases on small workbooks
# ==================================================================================================


def _workbook(path: Path, rows: list[list], headers: list[str] | None = None) -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(headers or HEADERS)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def _small_inputs(tmp_path: Path, rows: list[list] | None = None, **kw) -> tuple[Path, Path]:
    rows = rows or [
        census_row("北京市", 110000, 3000),
        ["市辖区", None, *([None] * len(COLUMNS))],
        census_row("  东城区", 110101, 2000),
        [None] * len(HEADERS),
        census_row("  密云县", 110228, 1000),
    ]
    xlsx = _workbook(tmp_path / "small.xlsx", rows, **kw)
    cen = tmp_path / "cen.csv"
    cen.write_text("city_code,city,lon,lat\n110100,北京市,116.4,40.2\n", encoding="utf-8")
    return xlsx, cen


def test_small_workbook_builds(tmp_path: Path) -> None:
    xlsx, cen = _small_inputs(tmp_path)
    df, report = build_census_world_table(xlsx, cen)
    assert df["code"].tolist() == [110101, 110228]
    assert [KINDS[k] for k in df["kind"]] == ["urban district", "county"]
    assert report["rows_skipped"] == {"blank": 1, "subtotal": 1, "no data": 0}
    assert report["coordinate_fallback_units"] == []


def test_missing_column_is_named(tmp_path: Path) -> None:
    headers = [h for h in HEADERS if h != "户籍人口"]
    rows = [
        r[: HEADERS.index("户籍人口")] + r[HEADERS.index("户籍人口") + 1 :]
        for r in (census_row("北京市", 110000), census_row("东城区", 110101))
    ]
    xlsx, cen = _small_inputs(tmp_path, rows, headers=headers)
    with pytest.raises(CensusDataError, match=r"small\.xlsx, row 1: column '户籍人口' not found"):
        build_census_world_table(xlsx, cen)


def test_non_numeric_cell_is_named(tmp_path: Path) -> None:
    bad = census_row("  东城区", 110101, 2000)
    bad[HEADERS.index("城镇人口")] = "n/a"
    rows = [census_row("北京市", 110000, 3000), bad, census_row("  密云县", 110228, 1000)]
    xlsx, cen = _small_inputs(tmp_path, rows)
    letter = chr(ord("A") + HEADERS.index("城镇人口"))
    with pytest.raises(CensusDataError) as exc:
        build_census_world_table(xlsx, cen)
    msg = str(exc.value)
    assert "small.xlsx" in msg and "row 3" in msg and f"column {letter} ('城镇人口')" in msg
    assert "not a number: 'n/a'" in msg and exc.value.row == 3


def test_empty_required_cell_is_an_error_not_a_zero(tmp_path: Path) -> None:
    bad = census_row("  东城区", 110101, 2000)
    bad[HEADERS.index("户数")] = None
    xlsx, cen = _small_inputs(tmp_path, [census_row("北京市", 110000, 3000), bad])
    with pytest.raises(CensusDataError, match=r"row 3, column .*'户数'.*empty cell"):
        build_census_world_table(xlsx, cen)


@pytest.mark.parametrize("code", ["11O101", 990101, 1101011, 110101.5])
def test_bad_code_is_named(tmp_path: Path, code: object) -> None:
    rows = [census_row("北京市", 110000, 3000), census_row("  东城区", code, 2000)]
    xlsx, cen = _small_inputs(tmp_path, rows)
    with pytest.raises(CensusDataError, match=r"small\.xlsx, row 3, column B \('区划代码'\)"):
        build_census_world_table(xlsx, cen)


def test_province_sum_mismatch_is_an_error(tmp_path: Path) -> None:
    rows = [
        census_row("北京市", 110000, 3001),
        census_row("  东城区", 110101, 2000),
        census_row("  密云县", 110228, 1000),
    ]
    xlsx, cen = _small_inputs(tmp_path, rows)
    with pytest.raises(CensusDataError, match=r"row 2, .*province 北京市: the places add up"):
        build_census_world_table(xlsx, cen)


def test_cli_world_build(tmp_path: Path) -> None:
    xlsx, cen = _small_inputs(tmp_path)
    out = tmp_path / "worlds" / "w.parquet"
    runner = CliRunner()
    args = ["world", "build", "--census-xlsx", str(xlsx), "--centroids", str(cen)]
    result = runner.invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "places: 2 (1 urban district, 1 county, 0 county-level city)" in result.output
    assert "0 units fell back to the province capital" in result.output
    df, _ = read_world_file(out)
    assert len(df) == 2

    bad = census_row("  东城区", 110101, 2000)
    bad[HEADERS.index("合计")] = "x"
    xlsx2, _ = _small_inputs(tmp_path, [census_row("北京市", 110000, 3000), bad])
    result = runner.invoke(app, [*args[:3], str(xlsx2), *args[4:], "--out", str(out)])
    assert result.exit_code == 2
    assert "error:" in result.output and "row 3" in result.output and "合计" in result.output
    result = runner.invoke(app, [*args[:3], str(tmp_path / "nope.xlsx"), *args[4:], "--out", "x"])
    assert result.exit_code == 2 and "no such file" in result.output


def test_unclassifiable_name_is_named(tmp_path: Path) -> None:
    rows = [
        census_row("北京市", 110000, 3000),
        census_row("  东城", 110101, 2000),
        census_row("  密云县", 110228, 1000),
    ]
    xlsx, cen = _small_inputs(tmp_path, rows)
    with pytest.raises(CensusDataError, match=r"small\.xlsx, row 3, column 地区: cannot classify"):
        build_census_world_table(xlsx, cen)
