"""The census world: the 2010 census's county-level units as places, households synthesized.

Two steps, documented in ``docs/world_format.md``:

1. :func:`build_census_world_table` converts the upstream county file of the 6th census
   (``census_county_2010_v1.xlsx``) plus prefecture centroids into the *world table*, one row
   per place, and :func:`write_world_file` stores it as Parquet with a schema version
   (``urbsim world build``). Province totals of the table equal the census's province rows
   exactly; the build checks this.
2. :func:`load_census_world` reads a world file (by default the one packaged with urbsim,
   built from the same county file: :func:`packaged_world_path`) and synthesizes the 2010
   household agents for a scale and a seed (:mod:`urbsim.world.census_households`).

Nothing is read at import time.
"""

from __future__ import annotations

import hashlib
import math
import time
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from urbsim.world.base import (
    CHINA_BBOX,
    KINDS,
    REGIONS,
    SIZE_CLASSES,
    PlaceTable,
    World,
    check_scale_and_seed,
    prefecture_city_size,
    size_class_of,
)
from urbsim.world.census_file import (
    SCHEMA_VERSION,
    WORLD_COLUMNS,
    WorldFileError,
    check_world_output,
    packaged_world_path,
    read_world_file,
    write_world_file,
)
from urbsim.world.census_read import COLUMNS, CensusDataError, CensusRows, UnitRecord
from urbsim.world.census_read import read_census_rows as _read_census_rows
from urbsim.world.provinces import MUNICIPALITIES

__all__ = [
    "SCHEMA_VERSION",
    "WORLD_COLUMNS",
    "CensusDataError",
    "WorldFileError",
    "build_census_world_table",
    "check_world_output",
    "load_census_world",
    "packaged_world_path",
    "read_world_file",
    "write_world_file",
]

WORLD_NAME: Final[str] = "census"
#: Counts whose province sums must equal the census province rows exactly.
TOTAL_COLUMNS: Final[tuple[str, ...]] = (
    "residents",
    "urban_residents",
    "rural_residents",
    "hukou_residents",
    "households",
    "family_persons",
    "inmig_same_county",
    "inmig_other_county",
    "inmig_other_province",
)
#: Largest offset (degrees of latitude) of a unit from its prefecture centroid.
OFFSET_DEG: Final[float] = 0.3
#: Accepted range of centroids (lon min, lon max, lat min, lat max): China including the South
#: China Sea (三沙市 lies at 9.8 N). Place coordinates are then clipped to the main bounding box.
CENTROID_BBOX: Final[tuple[float, float, float, float]] = (73.0, 136.0, 3.0, 54.0)
#: Units whose kind their suffix does not give: 加格达奇 (加格达奇区, seat of 大兴安岭地区) has no
#: suffix; 神农架林区 is a county-level forestry area, not a district of a city (while 新林区 of
#: 大兴安岭地区, whose name also ends in 林区, is a district).
_KIND_BY_NAME: Final[dict[str, int]] = {"加格达奇": 0, "神农架林区": 1}
#: Name suffixes and kinds, checked in order (first match wins).
KIND_SUFFIXES: Final[tuple[tuple[str, int], ...]] = (
    ("特区", 1),  # 六枝特区, 万山特区: county-level special areas of Guizhou
    ("区", 0),  # 市辖区, incl. 矿区, 新区 and 平桂管理区
    ("县", 1),  # incl. 自治县
    ("旗", 1),  # incl. 自治旗
    ("行委", 1),  # Qinghai's administrative committees (芒崖, 冷湖, 大柴旦)
    ("群岛", 1),  # 西沙群岛
    ("市", 2),  # county-level city
)
_PREFECTURE_SUFFIXES: Final[tuple[str, ...]] = ("地区", "自治州", "盟", "市")


# ==================================================================================================
# world table
# ==================================================================================================


def _kind_of(name: str) -> int | None:
    if name in _KIND_BY_NAME:
        return _KIND_BY_NAME[name]
    for suffix, kind in KIND_SUFFIXES:
        if name.endswith(suffix):
            return kind
    return None


def _short_name(name: str) -> str:
    for suffix in _PREFECTURE_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def _unit_offset(code: int, lat: float) -> tuple[float, float]:
    """Deterministic offset (dlon, dlat) of a unit from its centroid, from a hash of its code.

    Uniform in a disc of radius :data:`OFFSET_DEG` degrees; longitude is stretched by
    1/cos(lat) so the disc is round in km. The hash makes it independent of row order and seed.
    """
    digest = hashlib.sha256(f"urbsim-census-{code}".encode()).digest()
    u1 = int.from_bytes(digest[:8], "little") / 2.0**64
    u2 = int.from_bytes(digest[8:16], "little") / 2.0**64
    r = OFFSET_DEG * math.sqrt(u1)
    theta = 2.0 * math.pi * u2
    stretch = 1.0 / max(math.cos(math.radians(lat)), 0.3)
    return r * math.cos(theta) * stretch, r * math.sin(theta)


def _read_table_csv(path: Path, columns: tuple[str, ...], numeric: tuple[str, ...]) -> pd.DataFrame:
    """A CSV input with at least one data row, the named ``columns`` and numbers in ``numeric``.

    Errors name the file, the line (line 1 is the header, data row ``i`` is line ``i + 2``)
    and the column.
    """
    try:
        df = pd.read_csv(path, dtype={"city": str, "province": str, "region": str})
    except pd.errors.EmptyDataError:
        raise CensusDataError(path, "the file is empty (expected a CSV with a header)") from None
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise CensusDataError(path, f"cannot read as CSV: {exc}") from None
    for col in columns:
        if col not in df.columns:
            raise CensusDataError(path, f"column {col!r} missing (have {list(df.columns)})", 1)
    if len(df) == 0:
        raise CensusDataError(path, "no data rows, only a header", 1)
    for col in numeric:
        num = pd.to_numeric(df[col], errors="coerce")
        bad = np.flatnonzero(~np.isfinite(num.to_numpy(dtype=np.float64)))
        if bad.size:
            i = int(bad[0])
            raise CensusDataError(path, f"not a number: {df[col].iloc[i]!r}", i + 2, col)
        df[col] = num
    return df


def _check_codes_csv(path: Path, df: pd.DataFrame, col: str) -> None:
    """Codes of a CSV input are whole numbers and unique (a repeated code would silently win)."""
    code = df[col].to_numpy(dtype=np.float64)
    frac = np.flatnonzero(code != np.floor(code))
    if frac.size:
        i = int(frac[0])
        raise CensusDataError(path, f"code {df[col].iloc[i]!r} is not a whole number", i + 2, col)
    dup = df[col].duplicated(keep=False).to_numpy()
    if dup.any():
        lines = [int(i) + 2 for i in np.flatnonzero(dup)]
        first = lines[0]
        others = [ln for ln in lines[1:] if code[ln - 2] == code[first - 2]]
        raise CensusDataError(
            path,
            f"code {int(code[first - 2])} appears more than once (also row "
            f"{', '.join(map(str, others))}); each code must have one row",
            first,
            col,
        )


def _read_centroids(path: Path) -> pd.DataFrame:
    """Prefecture (and some unit) centroids: ``city_code``, ``city``, ``lon``, ``lat``."""
    df = _read_table_csv(path, ("city_code", "city", "lon", "lat"), ("city_code", "lon", "lat"))
    _check_codes_csv(path, df, "city_code")
    lon_min, lon_max, lat_min, lat_max = CENTROID_BBOX
    out = ~(df["lon"].between(lon_min, lon_max) & df["lat"].between(lat_min, lat_max))
    if out.any():
        i = int(np.flatnonzero(out.to_numpy())[0])
        raise CensusDataError(
            path, f"coordinates outside {CENTROID_BBOX} (lon, lat ranges)", i + 2, "lon/lat"
        )
    df["city_code"] = df["city_code"].astype(np.int64)
    return df


def _read_provinces(path: Path | None) -> tuple[pd.DataFrame, str]:
    """Province code, region and capital coordinates, from ``path`` or the embedded table."""
    if path is None:
        from urbsim.world.provinces import load_provinces

        df = load_provinces()
        source = "embedded urbsim/data/provinces_2010.csv"
    else:
        numeric = ("code", "capital_lon", "capital_lat")
        df = _read_table_csv(path, ("code", "region", *numeric[1:]), numeric)
        _check_codes_csv(path, df, "code")
        source = str(path)
        bad_region = ~df["region"].isin(REGIONS)
        if bad_region.any():
            i = int(np.flatnonzero(bad_region.to_numpy())[0])
            raise CensusDataError(path, f"unknown region {df['region'].iloc[i]!r}", i + 2, "region")
    df = df.copy()
    df["code"] = df["code"].astype(np.int64)
    return df.set_index("code"), source


def _records_frame(rows: CensusRows) -> tuple[pd.DataFrame, list[str]]:
    """One row per place from the parsed census rows (codes, kinds, raw values)."""
    used: set[int] = {r.code for r in rows.units if r.code is not None}
    used |= {r.code for r in rows.prefecture_places if r.code is not None}
    records: list[dict[str, Any]] = []
    synthetic_codes: list[str] = []

    def add(rec: UnitRecord, code: int, unit_type: str, kind: int) -> None:
        records.append(
            {
                "code": code,
                "name": rec.name,
                "unit_type": unit_type,
                "kind": kind,
                "source_row": rec.row,
                **rec.values,
            }
        )

    for rec in rows.units:
        assert rec.code is not None
        kind = _kind_of(rec.name)
        if kind is None:
            raise CensusDataError(
                rows.file, f"cannot classify {rec.name!r} by its name", rec.row, "地区"
            )
        add(rec, rec.code, "county-level unit", kind)
    for rec in rows.prefecture_places:
        assert rec.code is not None
        # A prefecture-level city without county units is its own city proper: a district.
        add(rec, rec.code, "prefecture-level city without county units", 0)
    for rec, pref in rows.uncoded:
        kind = _kind_of(rec.name)
        if kind is None:
            raise CensusDataError(
                rows.file, f"cannot classify {rec.name!r} by its name", rec.row, "地区"
            )
        code = next(pref + k for k in range(99, 0, -1) if pref + k not in used)
        used.add(code)
        synthetic_codes.append(f"{rec.name} (row {rec.row}) -> {code}")
        add(rec, code, "unit without a code", kind)
    return pd.DataFrame.from_records(records), synthetic_codes


def provinces_input(centroids_path: str | Path, provinces_path: str | Path | None) -> Path | None:
    """The province table a build reads: ``provinces_path``, else ``provinces_2010.csv`` beside
    the centroids if present, else ``None`` (the embedded table)."""
    if provinces_path is not None:
        return Path(provinces_path)
    sibling = Path(centroids_path).parent / "provinces_2010.csv"
    return sibling if sibling.is_file() else None


def build_census_world_table(
    xlsx_path: str | Path,
    centroids_path: str | Path,
    provinces_path: str | Path | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Convert the census county file to the world table.

    Parameters
    ----------
    xlsx_path : str or Path
        ``census_county_2010_v1.xlsx`` of ``leiii/census``.
    centroids_path : str or Path
        ``prefecture_centroids.csv`` (``city_code, city, lon, lat``; 2020 codes).
    provinces_path : str or Path, optional
        Province table with ``code, region, capital_lon, capital_lat`` (``provinces_2010.csv``).
        Default: ``provinces_2010.csv`` beside the centroids if present, else the embedded table.

    Returns
    -------
    (pandas.DataFrame, dict)
        The world table (columns :data:`WORLD_COLUMNS`, one row per place, ordered by code) and
        a JSON-serializable report: rows skipped by reason, kinds, synthetic codes, corrections,
        empty cells read as 0, missing values, coordinate sources and national totals.

    Raises
    ------
    CensusDataError
        On any data problem (see :func:`urbsim.world.census_read.read_census_rows`), an
        unclassifiable name, or province sums that differ from the province rows.
    """
    t0 = time.perf_counter()
    xlsx_path, centroids_path = Path(xlsx_path), Path(centroids_path)
    provinces_path = provinces_input(centroids_path, provinces_path)
    prov, prov_source = _read_provinces(provinces_path)
    cen = _read_centroids(centroids_path)
    rows = _read_census_rows(xlsx_path)
    df, synthetic_codes = _records_frame(rows)
    _add_admin_columns(df, rows, prov, provinces_path)
    fallback_units = _add_coordinates(df, cen, prov, rows)
    warnings = _add_derived_columns(df)
    df = df.sort_values("code", ignore_index=True)
    df = df[list(WORLD_COLUMNS)].astype(WORLD_COLUMNS)
    _check_totals(df, rows, xlsx_path)
    report: dict[str, Any] = {
        "xlsx": str(xlsx_path),
        "xlsx_sha256": _sha256(xlsx_path),
        "centroids": str(centroids_path),
        "provinces": prov_source,
        **_table_report(df, rows),
        "synthetic_codes": synthetic_codes,
        "warnings": warnings,
        "coordinate_fallback_units": fallback_units,
        "seconds": round(time.perf_counter() - t0, 2),
    }
    return df, report


def _add_admin_columns(
    df: pd.DataFrame, rows: CensusRows, prov: pd.DataFrame, provinces_path: Path | None
) -> None:
    """Province, prefecture (code and name), region and capital flag of every place."""
    df["province_code"] = (df["code"] // 10000).astype(np.int16)
    missing_prov = sorted(set(df["province_code"].tolist()) - set(prov.index.tolist()))
    if missing_prov:
        raise CensusDataError(
            provinces_path or "provinces table", f"no row for provinces {missing_prov}"
        )
    pref = df["code"] // 100 * 100
    # A municipality is one prefecture-level city: its 市辖区 (PP01) and 县 (PP02) blocks too.
    muni = df["province_code"].isin(list(MUNICIPALITIES))
    pref = pref.where(~muni, df["province_code"].astype(np.int64) * 10000 + 100)
    df["prefecture_code"] = pref.astype(np.int32)
    pref_names = {r.code: r.name for r in rows.prefectures}
    prov_names = {r.code // 10000: r.name for r in rows.provinces if r.code is not None}
    df["prefecture_name"] = [
        prov_names[int(p) // 10000]
        if int(p) // 10000 in MUNICIPALITIES
        else pref_names.get(int(p), "省直辖县级行政区划")
        for p in df["prefecture_code"]
    ]
    region_of = {name: i for i, name in enumerate(REGIONS)}
    df["region"] = [region_of[prov.at[int(p), "region"]] for p in df["province_code"]]
    # Provincial capitals have the prefecture code PP0100 (石家庄 130100 ... 乌鲁木齐 650100).
    df["is_capital"] = df["prefecture_code"] == df["province_code"].astype(np.int64) * 10000 + 100


def _add_coordinates(
    df: pd.DataFrame, cen: pd.DataFrame, prov: pd.DataFrame, rows: CensusRows
) -> list[str]:
    """``lon``, ``lat`` and ``coord_source`` of every place; returns the units that fell back
    to their province capital (rules in ``docs/world_format.md``)."""
    cen_xy = {
        int(c): (float(x), float(y))
        for c, x, y in cen[["city_code", "lon", "lat"]].itertuples(index=False)
    }
    cen_by_name: dict[tuple[int, str], int] = {}
    for c, name in cen[["city_code", "city"]].itertuples(index=False):
        cen_by_name.setdefault((int(c) // 10000, _short_name(str(name))), int(c))
    pref_names = {r.code: r.name for r in rows.prefectures}
    lon = np.empty(len(df))
    lat = np.empty(len(df))
    source: list[str] = []
    fallback_units: list[str] = []
    lon_min, lon_max, lat_min, lat_max = CHINA_BBOX
    for i, (code, pcode, prov_code, name) in enumerate(
        df[["code", "prefecture_code", "province_code", "name"]].itertuples(index=False)
    ):
        code, pcode, prov_code = int(code), int(pcode), int(prov_code)
        if code % 100 != 0 and code in cen_xy:  # province-administered units have their own
            lon[i], lat[i] = cen_xy[code]
            source.append("unit centroid")
            continue
        if pcode in cen_xy:
            x, y = cen_xy[pcode]
            source.append("prefecture centroid")
        else:
            key = (prov_code, _short_name(pref_names.get(pcode, "")))
            if key[1] and key in cen_by_name:
                x, y = cen_xy[cen_by_name[key]]
                source.append("prefecture centroid by name")
            else:
                x = float(prov.at[prov_code, "capital_lon"])
                y = float(prov.at[prov_code, "capital_lat"])
                source.append("province capital")
                fallback_units.append(f"{code} {name}")
        dx, dy = _unit_offset(code, y)
        lon[i] = min(max(x + dx, lon_min), lon_max)
        lat[i] = min(max(y + dy, lat_min), lat_max)
    df["lon"], df["lat"], df["coord_source"] = lon, lat, source
    return fallback_units


def _add_derived_columns(df: pd.DataFrame) -> list[str]:
    """Household size, renting share and the prefecture's size class; returns the warnings
    (household sizes and age shares that do not add up)."""
    # Household size from the two counts: the 户规模 column is rounded to 0.01 and holds one
    # evident error (南漳县 0.147917 instead of 3.33); rows off by more than 0.01 are reported.
    derived = df["family_persons"] / df["households"].where(df["households"] > 0)
    off = (derived - df["household_size"]).abs() > 0.01
    warnings = [
        f"row {r} {nm}: 户规模 {hs:g}, family persons / households {d:.4f} (used)"
        for r, nm, hs, d in zip(
            df["source_row"][off],
            df["name"][off],
            df["household_size"][off],
            derived[off],
            strict=True,
        )
    ]
    df["household_size"] = derived.fillna(0.0)
    age_sum = df[["age_0_14_pct", "age_15_64_pct", "age_65_plus_pct"]].sum(axis=1)
    age_off = (age_sum - 100.0).abs() > 0.1
    warnings += [
        f"row {r} {nm}: age shares add up to {a:.2f} %"
        for r, nm, a in zip(
            df["source_row"][age_off], df["name"][age_off], age_sum[age_off], strict=True
        )
    ]
    df["renting_share"] = np.where(
        df["longform_households"] > 0, df["renting_households"] / df["longform_households"], np.nan
    )
    # The model's size-class rule (urbsim.world.base), applied to the census's urban residents.
    _, pref = np.unique(df["prefecture_code"].to_numpy(), return_inverse=True)
    city = prefecture_city_size(
        df["kind"].to_numpy(), df["urban_residents"].to_numpy(), pref, int(pref.max()) + 1
    )
    df["prefecture_urban_residents"] = city[pref].astype(np.int64)
    df["size_class"] = size_class_of(city)[pref].astype(np.uint8)
    return warnings


def _table_report(df: pd.DataFrame, rows: CensusRows) -> dict[str, Any]:
    """The parts of the build report that describe the table and the rows read."""
    classes = df.drop_duplicates("prefecture_code")["size_class"].value_counts()
    unit_types = df["unit_type"].value_counts().sort_index()
    sources = df["coord_source"].value_counts().sort_index()
    return {
        "places": len(df),
        "unit_types": {str(k): int(v) for k, v in unit_types.items()},
        "kinds": {KINDS[k]: int((df["kind"] == k).sum()) for k in range(len(KINDS))},
        "prefectures": int(df["prefecture_code"].nunique()),
        "prefecture_size_classes": {
            SIZE_CLASSES[k]: int(classes.get(k, 0)) for k in range(len(SIZE_CLASSES))
        },
        "rows_skipped": {k: len(v) for k, v in rows.skipped.items()},
        "rows_skipped_no_data": rows.skipped_names.get("no data", []),
        "province_rows": len(rows.provinces),
        "prefecture_rows": len(rows.prefectures),
        "corrections": rows.corrections,
        "empty_cells_read_as_zero": dict(sorted(rows.filled.items())),
        "missing_values": {k: v for k, v in sorted(rows.missing.items())},
        "coordinate_sources": {str(k): int(v) for k, v in sources.items()},
        "national": {c: int(df[c].sum()) for c in TOTAL_COLUMNS},
    }


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _check_totals(df: pd.DataFrame, rows: CensusRows, path: Path) -> None:
    """Province sums of the table equal the census province rows, column by column."""
    sums = df.groupby("province_code")[list(TOTAL_COLUMNS)].sum()
    for rec in rows.provinces:
        assert rec.code is not None
        p = rec.code // 10000
        for col in TOTAL_COLUMNS:
            got = int(sums.at[p, col]) if p in sums.index else 0
            want = int(rec.values[col])
            if got != want:
                header = next(c.header for c in COLUMNS if c.field == col)
                raise CensusDataError(
                    path,
                    f"province {rec.name}: the places add up to {got}, the province row says "
                    f"{want}",
                    rec.row,
                    repr(header),
                )


# ==================================================================================================
# world file
# ==================================================================================================


# ==================================================================================================
# world
# ==================================================================================================


def place_table(df: pd.DataFrame) -> PlaceTable:
    """The :class:`PlaceTable` of a world table."""
    return PlaceTable(
        code=df["code"].to_numpy(),
        name=df["name"].to_numpy(dtype=object),
        province_code=df["province_code"].to_numpy(),
        prefecture_code=df["prefecture_code"].to_numpy(),
        region=df["region"].to_numpy(),
        kind=df["kind"].to_numpy(),
        lon=df["lon"].to_numpy(),
        lat=df["lat"].to_numpy(),
        is_capital=df["is_capital"].to_numpy(),
        residents=df["residents"].to_numpy(dtype=np.float64),
        urban_residents=df["urban_residents"].to_numpy(dtype=np.float64),
    )


def load_census_world(
    path: str | Path | None, households_per_agent: float = 400.0, seed: int = 0
) -> World:
    """Read a census world file and synthesize its 2010 households.

    Parameters
    ----------
    path : str or Path or None
        World file (``urbsim world build``); None reads the packaged census world
        (:func:`urbsim.world.census_file.packaged_world_path`).
    households_per_agent : float, default 400.0
        Real households each agent stands for (positive, finite).
    seed : int, default 0
        Non-negative seed of all household draws (keyed by seed, agent and draw number,
        :mod:`urbsim.world.keyed`).

    Returns
    -------
    World
        ``name="census"``; places in canonical order (by code, whatever the order of the
        file's rows), households as described in
        :func:`urbsim.world.census_households.synthesize_households`; ``notes`` give sources,
        definitions and achieved national figures.

    Raises
    ------
    WorldFileError
        If the file is missing or invalid (:func:`urbsim.world.census_file.read_world_file`
        names the column, the first offending rows and the reason).
    urbsim.errors.InputError
        If ``households_per_agent`` or ``seed`` is invalid (a ``ValueError`` too).
    """
    from urbsim.world.census_households import migrant_stock, synthesize_households

    if path is None:
        path = packaged_world_path()
    hpa, seed = check_scale_and_seed(households_per_agent, seed)
    t0 = time.perf_counter()
    df, report = read_world_file(path)
    places = place_table(df)
    synth = synthesize_households(df, hpa, seed)
    return World(
        name=WORLD_NAME,
        places=places,
        households=synth.households,
        households_per_agent=hpa,
        notes=_census_notes(df, report, synth.stats, hpa, Path(path), t0),
        migrant_stock=migrant_stock(df, np.unique(df["province_code"], return_inverse=True)[1]),
    )


def _census_notes(
    df: pd.DataFrame,
    report: dict[str, Any],
    s: dict[str, float],
    hpa: float,
    path: Path,
    t0: float,
) -> dict[str, str]:
    """Sources, definitions and achieved national figures of a census world (its notes)."""
    residents = float(df["residents"].sum())
    kinds = np.bincount(df["kind"], minlength=len(KINDS)).tolist()
    kind_counts = dict(zip(KINDS, kinds, strict=True))
    return {
        "source": (
            "6th national population census 2010, county-level file census_county_2010_v1.xlsx "
            "of the leiii/census repository (Lei Dong, Rui Du and Yu Liu, 'Mapping Evolving "
            "Population Geography in China', working paper 2022, MIT licence), sha256 "
            f"{report.get('xlsx_sha256', 'unknown')}; world file {path.name}, schema "
            f"{SCHEMA_VERSION}. Format and rules: docs/world_format.md."
        ),
        "places": (
            f"{len(df)} places: {int((df['unit_type'] == 'county-level unit').sum())} county-level "
            "units with a code, plus the prefecture-level cities without county units and the "
            "uncoded units the census lists, so that province totals equal the census province "
            f"rows; kinds {kind_counts}"
            f"; {df['prefecture_code'].nunique()} prefectures."
        ),
        "urban_definition": (
            f"Urban residents are the census's urban (cheng zhen) residents: "
            f"{residents / 1e6:,.1f} million residents in the 31 provinces, "
            f"{df['urban_residents'].sum() / residents:.2%} urban."
        ),
        "nonagri_hukou": (
            "The census's non-agricultural hukou share of each place's residents (national "
            f"{s['census_nonagri_share']:.2%} weighted by residents; the province shares weighted "
            "by hukou population give the often quoted 28.4%) is multiplied by one common "
            f"factor {s['nonagri_factor']:.4f} (capped at 100 % per place) so that the national "
            f"non-agricultural share is {s['nonagri_target']:.2%}, the official 2010 hukou "
            f"urbanization. Achieved: {s['nonagri_share']:.2%}."
        ),
        "floating_population": (
            f"Floating residents (hukou_place != place), at county level: in-migrants from other "
            f"provinces ({s['census_inmig_other_province'] / 1e6:.1f} M) and from other counties "
            f"of the province ({s['census_inmig_other_county'] / 1e6:.1f} M). Achieved: "
            f"{s['floating'] / 1e6:.1f} M, of which {s['floating_inter'] / 1e6:.1f} M from other "
            "provinces. The census's 221 million floating population also counts persons living "
            "away from their hukou township inside their own county, which a world of "
            f"county-level places cannot see: {s['floating_within_county'] / 1e6:.1f} M, "
            "reported here and not simulated (they are residents with local hukou). The model's "
            "floating_population is compared with the county-level series of "
            "urbsim.analysis.targets (county_floating_population)."
        ),
        "households": (
            "Family households follow the census household counts and sizes; residents outside "
            "family households (collective quarters) are one-person households. Hukou places "
            "of in-migrants are drawn from the places' out-migration (registered minus "
            "registered residents at home) by a doubly constrained gravity model whose distance "
            "elasticity is estimated from the same county file (urbsim.world.census_origins)."
        ),
        "achieved": (
            f"{int(s['agents'])} agents x {hpa:g} households; agent-implied residents "
            f"{s['residents'] / 1e6:,.1f} million, urbanization {s['urbanization']:.2%}, "
            f"non-agricultural hukou {s['nonagri_share']:.2%}; built in "
            f"{time.perf_counter() - t0:.2f} s."
        ),
    }
