"""Calibration targets: official series 2010-2019 compared like with like with model outputs.

Every target is one official figure in one year, converted to the unit of the model output it
is compared with, with three spreads in that unit:

* ``tolerance``: the acceptance criterion of the calibration (issue 14: the ensemble mean within
  it);
* ``discrepancy_sd``: the stated *model discrepancy* of history matching, what the model cannot
  be expected to reproduce even at its best parameters (definitions that differ, mechanisms it
  lacks);
* ``observation_sd``: the error of the official figure itself (survey sampling, rounding, "more
  than" figures).

The official figures are the packaged copy of ``official_2010_2019.csv``
(``urbsim/data/official_2010_2019.csv``; sources per row, see ``urbsim/data/README.md``). No
observation after :data:`LAST_OBSERVED_YEAR` is read: a file holding a later year is refused.

**County level, like with like.** The model's places are county-level units, so a move between
townships of one county is invisible to it; the official floating series count persons living
away from their hukou *township*. The 2010 census county table counts each unit's in-migrants
by the place of hukou: the same county (for urban districts: any district of the same city), another
county of the province, another province (``urbsim/data/census_2010.parquet`` columns
``inmig_same_county``, ``inmig_other_county``, ``inmig_other_province``; the census README).
:class:`CensusScopes` takes their national sums; the county-level part of the persons living
away from their hukou township is ``(other county + other province) / all in-migrants``, and
the official series of persons separated from their hukou township (*renhu fenli*) times that
share is the county-level floating population the model's ``floating_population`` is compared
with. The share is held at its 2010 value (no later census before 2020 gives it), and moves
between districts of one city count as within-county in the census but between places in the
model: both are in the discrepancy. The census world starts from this definition: its 2010
floating residents are the county table's in-migrants from other counties and provinces (170.6
million, against the target's 261.39 x 0.6537 = 170.9 million; ``urbsim.world.census_households``),
and the census's within-county remainder of its 221 million is reported in the world's notes,
not simulated.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Final, Literal

import numpy as np
import pandas as pd

from urbsim.errors import UrbsimError

#: The last year of observation any target may use (later years are out-of-sample, issue 14).
LAST_OBSERVED_YEAR: Final[int] = 2019
#: The packaged official series (urbsim/data/).
OFFICIAL_FILE: Final[str] = "official_2010_2019.csv"
_OFFICIAL_COLUMNS: Final = ("indicator", "year", "value", "unit", "definition", "source_title")
#: Place column of inter-province in-migrants (stock, persons) compared with the census 2010
#: distribution across provinces.
PLACE_INTERPROVINCE_COLUMN: Final[str] = "inmigrants_other_province"

Kind = Literal[
    "column",
    "share",
    "index",
    "per_1000_natural",
    "period_sum",
    "period_rate",
    "rate",
    "ratio",
    "province_tvd",
]


class TargetDataError(UrbsimError):
    """An official-series or census file that cannot give the targets (missing columns, a year
    after :data:`LAST_OBSERVED_YEAR`, values that are not numbers)."""


# ---------------------------------------------------------------------------------------------
# Inputs: the official series and the census in-migrant scopes
# ---------------------------------------------------------------------------------------------
def official_path() -> Path:
    """The packaged official series, ``urbsim/data/official_2010_2019.csv``."""
    return Path(str(resources.files("urbsim") / "data" / OFFICIAL_FILE))


def read_official(path: str | Path | None = None) -> pd.DataFrame:
    """The official series: one row per indicator and year.

    Raises
    ------
    TargetDataError
        When a column is missing, a value or year is not a number, or a year is after
        :data:`LAST_OBSERVED_YEAR`.
    """
    path = Path(path) if path is not None else official_path()
    with path.open(encoding="utf-8", newline="") as fh:
        df = pd.DataFrame(list(csv.DictReader(fh)))
    missing = [c for c in _OFFICIAL_COLUMNS if c not in df.columns]
    if missing:
        raise TargetDataError(f"{path}: no column {missing}")
    try:
        df["year"] = df["year"].astype(int)
        df["value"] = df["value"].astype(float)
    except ValueError as exc:
        raise TargetDataError(f"{path}: a year or value is not a number ({exc})") from None
    late = df[df["year"] > LAST_OBSERVED_YEAR]
    if len(late):
        rows = ", ".join(f"{r.indicator} {r.year}" for r in late.itertuples())
        raise TargetDataError(
            f"{path}: observations after {LAST_OBSERVED_YEAR} may not be used ({rows})"
        )
    return df


@dataclass(frozen=True)
class CensusScopes:
    """National sums of the 2010 census in-migrants by place of hukou (persons).

    Attributes
    ----------
    same_county, other_county, other_province : float
        In-migrants whose hukou is in the same county (urban districts: the same city's
        districts), in another county of the province, in another province.
    """

    same_county: float
    other_county: float
    other_province: float

    @property
    def total(self) -> float:
        """All in-migrants (persons living away from their hukou township)."""
        return self.same_county + self.other_county + self.other_province

    @property
    def county_level_share(self) -> float:
        """Share of in-migrants whose hukou is in another county-level unit."""
        return (self.other_county + self.other_province) / self.total

    @property
    def intra_county_level_share(self) -> float:
        """Share of within-province in-migrants whose hukou is in another county."""
        return self.other_county / (self.same_county + self.other_county)

    @property
    def interprovince_share(self) -> float:
        """Share of county-level in-migrants whose hukou is in another province."""
        return self.other_province / (self.other_county + self.other_province)


def census_world_table() -> pd.DataFrame:
    """The packaged census world table (``urbsim/data/census_2010.parquet``)."""
    from urbsim.world.census_file import packaged_world_path

    return pd.read_parquet(packaged_world_path())


def census_scopes(world: pd.DataFrame | None = None) -> CensusScopes:
    """The national in-migrant sums of a census world table (default: the packaged one)."""
    world = census_world_table() if world is None else world
    cols = ("inmig_same_county", "inmig_other_county", "inmig_other_province")
    missing = [c for c in cols if c not in world.columns]
    if missing:
        raise TargetDataError(f"census world table has no column {missing}")
    sums = [float(world[c].sum()) for c in cols]
    if min(sums) <= 0.0:
        raise TargetDataError(f"census in-migrant sums must be positive, got {sums}")
    return CensusScopes(*sums)


def province_inmigrant_shares(world: pd.DataFrame | None = None) -> pd.Series:
    """Share of the 2010 inter-province in-migrants living in each province (index: the 2-digit
    province code, sorted; the shares sum to 1)."""
    world = census_world_table() if world is None else world
    by = world.groupby("province_code")["inmig_other_province"].sum().sort_index()
    return by / by.sum()


# ---------------------------------------------------------------------------------------------
# Targets
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Quantity:
    """The model output a target is compared with.

    Attributes
    ----------
    kind : str
        ``column``: the sum of ``columns`` less the sum of ``subtract`` in the year;
        ``share``: ``columns[0] / (columns[0] + columns[1])``; ``index``: the sum of
        ``columns`` in the year over their sum in ``base_year``; ``per_1000_natural``:
        ``1000 (births - deaths) / residents``; ``period_sum``: what ``column`` gives, summed
        over ``base_year`` ... year (each year once); ``period_rate``: ``columns[0]`` (a yearly
        flow) summed over ``base_year`` ... year over ``columns[1]`` (a stock) summed over
        ``base_year - 1`` ... ``year - 1``, the stocks at the start of those years (the mean
        yearly rate of the flow); ``rate``: ``columns[0]`` (a yearly flow) in the year over
        ``columns[1]`` (a stock) at the end of the year before; ``ratio``: ``columns[0] /
        columns[1]`` in the year (a part over its whole); ``province_tvd``: total variation
        distance between the provinces' shares of the place column ``columns[0]`` and the
        census 2010 shares.
    columns : tuple of str
        National columns read (place column for ``province_tvd``).
    base_year : int or None
        ``index``: the base year; ``period_sum`` and ``period_rate``: the first year summed;
        None for ``rate`` (the year and the one before) and ``ratio``.
    subtract : tuple of str
        ``column`` and ``period_sum``: national columns taken off the sum of ``columns`` (a
        part of them the official figure leaves out).
    """

    kind: Kind
    columns: tuple[str, ...]
    base_year: int | None = None
    subtract: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.subtract and self.kind not in ("column", "period_sum"):
            raise ValueError(f"subtract applies to column and period_sum, not {self.kind}")
        if self.kind == "period_rate" and (len(self.columns) != 2 or self.base_year is None):
            raise ValueError("period_rate needs a flow and a stock column and a base year")
        if self.kind == "rate" and (len(self.columns) != 2 or self.base_year is not None):
            raise ValueError("rate needs a flow and a stock column and no base year")
        if self.kind == "ratio" and (len(self.columns) != 2 or self.base_year is not None):
            raise ValueError("ratio needs two columns of the same year and no base year")

    @property
    def reads(self) -> tuple[str, ...]:
        """Every column the quantity reads."""
        return self.columns + self.subtract

    def describe(self) -> str:
        """The quantity as a short formula, for tables."""
        c, k = self.columns, self.kind
        summed = " + ".join(c) + "".join(f" - {x}" for x in self.subtract)
        if k == "share":
            return f"{c[0]} / ({c[0]} + {c[1]})"
        if k == "index":
            return f"({summed})[year] / ({summed})[{self.base_year}]"
        if k == "per_1000_natural":
            return "1000 * (births - deaths) / residents"
        if k == "period_sum":
            term = summed if len(self.reads) == 1 else f"({summed})"
            return f"sum of {term} over {self.base_year}..year"
        if k == "period_rate":
            b = self.base_year
            return f"sum of {c[0]} over {b}..year / sum of {c[1]} over {b - 1}..year-1"
        if k == "rate":
            return f"{c[0]}[year] / {c[1]}[year-1]"
        if k == "ratio":
            return f"{c[0]} / {c[1]}"
        if k == "province_tvd":
            return f"TVD of {c[0]} across provinces vs census 2010 shares"
        return summed


@dataclass(frozen=True)
class Target:
    """One official figure in one year, in the unit of its model quantity.

    Attributes
    ----------
    name : str
        Target family (``resident_urbanization`` ...).
    year : int
        Year of the figure (<= :data:`LAST_OBSERVED_YEAR`).
    observed : float
        The figure, converted to the model quantity's unit.
    quantity : Quantity
        What it is compared with.
    unit : str
        Unit of ``observed`` and the spreads.
    tolerance, discrepancy_sd, observation_sd : float
        Acceptance tolerance, model discrepancy and observation error (sd), in ``unit``.
    definition, comparison, source : str
        The official definition, how it is made comparable, where it is from.
    """

    name: str
    year: int
    observed: float
    quantity: Quantity
    unit: str
    tolerance: float
    discrepancy_sd: float
    observation_sd: float
    definition: str
    comparison: str
    source: str

    @property
    def key(self) -> str:
        """``name@year``: the target's name in tables."""
        return f"{self.name}@{self.year}"

    @property
    def metric_name(self) -> str:
        """``name_year``: a bare TOML key for sweep metrics."""
        return f"{self.name}_{self.year}"


Lookup = Callable[[str, int], float | None]


@dataclass(frozen=True)
class Family:
    """How official indicators become targets, one per year in ``years`` that has the data.

    ``convert(get, year)`` gives the figure in the model unit, or None when the indicators it
    needs are not published for that year (``get(indicator, year)`` is None then). The spreads
    are ``(absolute, relative)`` pairs in the model unit: absolute + relative x |observed|.
    """

    name: str
    quantity: Quantity
    unit: str
    years: tuple[int, int]
    convert: Callable[[Lookup, int], float | None]
    tolerance: tuple[float, float]
    discrepancy: tuple[float, float]
    observation: tuple[float, float]
    indicators: tuple[str, ...]
    comparison: str
    #: Where a figure that is not in the official series comes from (studies): its
    #: definition and source in the targets table.
    source: str | None = None


def _spread(pair: tuple[float, float], observed: float) -> float:
    return pair[0] + pair[1] * abs(observed)


def _scaled(indicator: str, factor: float) -> Callable[[Lookup, int], float | None]:
    def convert(get: Lookup, year: int) -> float | None:
        v = get(indicator, year)
        return None if v is None else v * factor

    return convert


def _county_floating(scopes: CensusScopes) -> Callable[[Lookup, int], float | None]:
    def convert(get: Lookup, year: int) -> float | None:
        v = get("pop_separated_from_hukou_NBS", year)
        if v is None:
            v = get("pop_separated_from_hukou_census2010", year)
        return None if v is None else v * 1e6 * scopes.county_level_share

    return convert


def _floating_index(get: Lookup, year: int) -> float | None:
    """Persons away from their hukou township (NBS) over 2011's: the census's county-level
    share of them, the model's scope, is taken to stay as it was in 2010, so it cancels."""
    v, base = get("pop_separated_from_hukou_NBS", year), get("pop_separated_from_hukou_NBS", 2011)
    return None if v is None or base is None else v / base


def _worker_interprovince_share(get: Lookup, year: int, k: float) -> float | None:
    """Inter-provincial share of out-migrant workers, the intra-provincial ones cut to their
    cross-county part ``k`` (moves inside a county are invisible to the model)."""
    inter = get("migrant_workers_interprovincial", year)
    intra = get("migrant_workers_intraprovincial", year)
    share = get("migrant_workers_interprovincial_share_of_outmigrant", year)
    if inter is not None and intra is not None:
        s = inter / (inter + intra)
    elif share is not None:
        s = share / 100.0
    else:
        return None
    return s / (s + (1.0 - s) * k)


def _interprovince_share(scopes: CensusScopes) -> Callable[[Lookup, int], float | None]:
    # Workers leave their province more often than the persons who move with or without them
    # (census 2010: 50 % of county-level in-migrants against about 65 % of the workers), so the
    # level is the census's (all persons) and the workers' series gives only its change since
    # 2011, their first year with the split (taken as the census's November 2010).
    k = scopes.intra_county_level_share

    def convert(get: Lookup, year: int) -> float | None:
        if year == 2010:
            return scopes.interprovince_share
        s = _worker_interprovince_share(get, year, k)
        base = _worker_interprovince_share(get, 2011, k)
        return None if s is None or base is None else scopes.interprovince_share * s / base

    return convert


def _interprovincial_workers(get: Lookup, year: int) -> float | None:
    """Inter-provincial out-migrant workers (10,000 persons): their series, else the
    inter-provincial share times the out-migrant total."""
    inter = get("migrant_workers_interprovincial", year)
    share = get("migrant_workers_interprovincial_share_of_outmigrant", year)
    total = get("migrant_workers_outmigrant", year)
    if inter is None and share is not None and total is not None:
        inter = share / 100.0 * total
    return inter


def _county_level_workers(get: Lookup, year: int, k: float) -> float | None:
    """Out-migrant workers who left their county (in the published unit, 10,000 persons):
    the inter-provincial ones and the share ``k`` of the intra-provincial ones that crossed a
    county border (the census's share for in-migrants: the survey does not split them). Each
    part from its series, else from the inter-provincial share and the total."""
    total = get("migrant_workers_outmigrant", year)
    inter = _interprovincial_workers(get, year)
    intra = get("migrant_workers_intraprovincial", year)
    if intra is None and inter is not None and total is not None:
        intra = total - inter
    return None if inter is None or intra is None else inter + k * intra


def _interprovincial_workers_index(get: Lookup, year: int) -> float | None:
    """Inter-provincial out-migrant workers over 2011's: every one of them left their county,
    so the series needs no cross-county cut."""
    v, base = _interprovincial_workers(get, year), _interprovincial_workers(get, 2011)
    return None if v is None or base is None else v / base


def _workers_index(scopes: CensusScopes) -> Callable[[Lookup, int], float | None]:
    # The survey splits its workers by province from 2011 on: the index starts there.
    k = scopes.intra_county_level_share

    def convert(get: Lookup, year: int) -> float | None:
        v, base = _county_level_workers(get, year, k), _county_level_workers(get, 2011, k)
        return None if v is None or base is None else v / base

    return convert


def _literature(value: float) -> Callable[[Lookup, int], float | None]:
    """A figure from studies rather than the official series, the same in every year."""

    def convert(get: Lookup, year: int) -> float | None:
        return value

    return convert


def _literature_by_year(values: dict[int, float]) -> Callable[[Lookup, int], float | None]:
    """Figures from studies rather than the official series, for the years they give."""

    def convert(get: Lookup, year: int) -> float | None:
        return values.get(year)

    return convert


def _zero_in(years: tuple[int, ...]) -> Callable[[Lookup, int], float | None]:
    def convert(get: Lookup, year: int) -> float | None:
        return 0.0 if year in years else None

    return convert


def families(scopes: CensusScopes) -> tuple[Family, ...]:
    """The target families of issue 14 (spreads: assumed; stated in the calibration README)."""
    return (*_population_families(scopes), *_worker_families(scopes), *_flow_families(scopes))


_FLOATING: Final = ("interprovince_floating_population", "intraprovince_floating_population")


def _population_families(scopes: CensusScopes) -> tuple[Family, ...]:
    share, persons, floating = "share", "persons", _FLOATING
    return (
        Family("resident_urbanization", Quantity("column", ("urbanization_rate",)), share,
               (2011, 2019), _scaled("urbanization_rate_resident_original", 0.01),
               (0.01, 0.0), (0.005, 0.0), (0.003, 0.0),
               ("urbanization_rate_resident_original",),
               "Published year-end series (before the 2020 revision) vs urban residents over "
               "residents at the end of the model year."),
        Family("hukou_urbanization", Quantity("column", ("hukou_urbanization_rate",)), share,
               (2015, 2019), _scaled("urbanization_rate_hukou", 0.01),
               (0.01, 0.0), (0.005, 0.0), (0.003, 0.0), ("urbanization_rate_hukou",),
               "MPS share of urban (non-agricultural) hukou vs the model's non-agricultural "
               "hukou holders over the registered population."),
        Family("hukou_urbanization_pre2015", Quantity("column", ("hukou_urbanization_rate",)),
               share, (2012, 2014), _scaled("urbanization_rate_hukou", 0.01),
               (0.02, 0.0), (0.015, 0.0), (0.003, 0.0), ("urbanization_rate_hukou",),
               "As hukou_urbanization; the series jumps 4 pp from 2014 to 2015 when the "
               "agricultural / non-agricultural split was abolished: a wider discrepancy."),
        Family("county_floating_population", Quantity("column", ("floating_population",)),
               persons, (2010, 2019), _county_floating(scopes),
               (0.0, 0.15), (0.0, 0.075), (0.0, 0.03),
               ("pop_separated_from_hukou_NBS", "pop_separated_from_hukou_census2010"),
               "Persons away from their hukou township (NBS renhu fenli; census 2010) times "
               f"the census 2010 county-level share {scopes.county_level_share:.4f} vs "
               "persons living outside their hukou place (county)."),
        Family("county_floating_index",
               Quantity("index", ("floating_population",), 2011), "index 2011 = 1",
               (2014, 2019), _floating_index, (0.05, 0.0), (0.03, 0.0), (0.01, 0.0),
               ("pop_separated_from_hukou_NBS",),
               "Growth since 2011 of the persons away from their hukou township (NBS renhu "
               "fenli; the county-level share cancels if it stays at the census's) vs the "
               "model's floating persons over 2011's. The level's 15 % tolerance allows its "
               "definitional uncertainty; the growth is known far better, and with the "
               "out-migrant workers' index it says who the floating persons are: the workers "
               "rising to 2019, the floating population only to 2014 (1.10) and back to 1.03."),
        Family("interprovince_share", Quantity("share", floating), share, (2010, 2019),
               _interprovince_share(scopes), (0.05, 0.0), (0.03, 0.0), (0.01, 0.0),
               ("migrant_workers_interprovincial", "migrant_workers_intraprovincial",
                "migrant_workers_interprovincial_share_of_outmigrant"),
               "Census 2010 share of county-level in-migrants from other provinces "
               f"({scopes.interprovince_share:.4f}), moved after 2011 as the inter-provincial "
               "share of out-migrant workers (intra-provincial ones cut to the census's "
               f"cross-county part {scopes.intra_county_level_share:.4f}) moved, vs the "
               "model's inter-province share of floating persons."),
    )  # fmt: skip


#: What the official settlement figures count, in the model's terms. The agricultural transfer
#: population (nongye zhuanyi renkou) is every rural-hukou person living and working in towns,
#: whether they came from another county or from a village of their own: in a county-level
#: model the latter are locals, so their conversions (``local_conversions``) belong with the
#: migrants' (``settled_migrants``). Conversions by land requisition are a separate channel,
#: not settlement, and are left out.
_SETTLED_COLUMNS = ("settled_migrants", "local_conversions")
#: The cumulative figure of 2018 ("more than 90 million") counts from the 18th Party Congress
#: (November 2012), the context its source gives (the file's definition): model years 2013-2018.
_SETTLED_PERIOD = Quantity("period_sum", _SETTLED_COLUMNS, 2013, ("requisition_conversions",))
_SETTLED_YEAR = Quantity("column", _SETTLED_COLUMNS, subtract=("requisition_conversions",))
_SETTLED_SCOPE = (
    "The official count takes in rural-hukou residents of towns from their own county, who "
    "are locals of a county-level model: the model counts migrants granted local hukou and "
    "locals converted under the settlement rules, not conversions by land requisition "
    "(migrants with non-agricultural hukou, whom the official figure leaves out, are in the "
    "model's count: the discrepancy)."
)


def _worker_families(scopes: CensusScopes) -> tuple[Family, ...]:
    """The migrant worker survey's out-migrant workers: all of them, and those who left their
    province."""
    return (
        Family("outmigrant_workers_index", Quantity("index", ("outmigrant_workers",), 2011),
               "index 2011 = 1", (2012, 2019), _workers_index(scopes),
               (0.05, 0.0), (0.03, 0.0), (0.01, 0.0),
               ("migrant_workers_outmigrant", "migrant_workers_interprovincial",
                "migrant_workers_intraprovincial",
                "migrant_workers_interprovincial_share_of_outmigrant"),
               "Growth since 2011 of the out-migrant workers (rural-hukou workers outside their "
               "home township) who left their county: the inter-provincial ones and the "
               f"census's cross-county share {scopes.intra_county_level_share:.4f} of the "
               "intra-provincial ones (moves inside a county are invisible to the model; 2011 "
               "is the survey's first year with the split), vs growth of the model's "
               "out-migrant workers (persons aged 16-64 of floating households with "
               "agricultural hukou; outmigrant_workers). The census share held at 2010's and "
               "workers counted by employment rather than age: the discrepancy."),
        Family("interprovince_workers_index",
               Quantity("index", ("outmigrant_workers_interprovince",), 2011),
               "index 2011 = 1", (2012, 2019), _interprovincial_workers_index,
               (0.05, 0.0), (0.03, 0.0), (0.01, 0.0),
               ("migrant_workers_interprovincial",
                "migrant_workers_interprovincial_share_of_outmigrant",
                "migrant_workers_outmigrant"),
               "Growth since 2011 of the inter-provincial out-migrant workers (rural-hukou "
               "workers outside their home province; 2015 from the inter-provincial share and "
               "the total) vs growth of the model's out-migrant workers living in another "
               "province than their hukou place (outmigrant_workers_interprovince). The "
               "inter-province share of the floating persons (interprovince_share) leaves "
               "the level free within its tolerance: a stock that only drains, with nobody "
               "newly crossing a border, meets it for years; this one does not. Workers "
               "counted by age rather than employment: the discrepancy, as the total's."),
    )  # fmt: skip


def _study_families() -> tuple[Family, ...]:
    """The targets from studies and the migrant survey rather than the official series: the
    return rate, the recent arrivals, the migrants' mean age."""
    return (
        Family("return_rate", Quantity("rate", ("return_migrants", "floating_population")),
               "persons per floating person per year", (2011, 2015), _literature(0.03),
               (0.015, 0.0), (0.005, 0.0), (0.005, 0.0), (),
               "Yearly return migration to the home county per migrant: 22.3 % of the rural "
               "labourers who migrated in 1998-2015 had returned by 2015, about 3 % a year for "
               "migrants who left evenly over the 17 years (1 - (1 - exp(-17 h)) / (17 h) = "
               "0.223 gives h = 0.031); an estimate of some 5.6 million out-migrant workers "
               "returning for good each year on age alone, 3.5 % of the 158.6 million of 2011. "
               "Model: persons moving back to their hukou place from elsewhere in the year, "
               "over the floating persons at its start, each year of 2011-2015: the studies "
               "give a steady hazard over many years, not a burst of the first year that a "
               "period mean would let through (the calibration runs of 2026-12-03 returned "
               "12-25 % of the 2010 migrants in 2011 and under 1 % by 2019). Discrepancy and "
               "observation error 0.005 each: a model without returns is 4.2 of their sd away "
               "(implausible beyond 3), rates of about 0.9-5.1 % are not.",
               source="Bai, Wang and Zhang (2018), How long do return migrants stay in their "
               "home counties?, Sustainability 10(11) 4153 (CCAP panel of 100 villages in five "
               "provinces); Qi (2013), Renkou Xuekan (Population Journal) 2013(5) 41-47 (the "
               "estimate from the 2011 migrant worker survey)"),
        Family("recent_arrival_share",
               Quantity("ratio", ("floating_recent_arrivals", "floating_population")), "share",
               (2014, 2014), _literature(0.45), (0.1, 0.0), (0.05, 0.0), (0.03, 0.0), (),
               "Share of the floating population in its current place for under three years: "
               "55 % of the migrants of the national migrant dynamic monitoring survey behind "
               "the 2015 report (about the end of 2014) had lived three years or more where "
               "they lived. Model: floating persons (hukou at "
               "another county-level place) whose household has been at its place for under "
               "three completed years (years_here), over the floating persons, at the end of "
               "2014. The survey counts persons aged 15-59 away from their hukou county for "
               "a month or more and their time since arriving; the model counts every member "
               "at the household's years at the place (a move within the place's zones "
               "restarts them): discrepancy 0.05, observation error 0.03. The migrants' "
               "turnover, which the stocks alone leave free (the twenty-second calibration "
               "fitted them with 11-13 % of recent arrivals).",
               source="National Health and Family Planning Commission (2015), Report on "
               "China's Migrant Population Development 2015 (summary reported by Xinhua, "
               "2015-11-12: '55 percent of the floating people spent more than 3 years in "
               "the places where they currently lived')"),
        Family("migrant_head_age", Quantity("column", ("floating_head_mean_age",)), "years",
               (2011, 2013), _literature_by_year({2011: 33.1, 2013: 33.7}),
               (1.0, 0.0), (0.8, 0.0), (0.3, 0.0), (),
               "Mean age of the working-age migrants of the migrant dynamic monitoring survey "
               "(one migrant aged 15-59 interviewed per household, in May): 33.1 years in "
               "2011, 33.7 in 2013. Model: mean age of the heads aged 15-59 of floating "
               "households, one per household, at the end of the year. The respondent is the "
               "head or another adult of the household (a partner, a grown child), and the "
               "survey's May precedes the model's year end by about half a year, in which "
               "the migrants' mean age rose some 0.15 years: discrepancy 0.8 years, "
               "observation error 0.3. The age mix of the floating heads of the census "
               "world (docs/ODD.md 5.2) has no published source of its own; this checks its "
               "mean and how fast the stock ages, which the return and move rates by age and "
               "the entry of the young set.",
               source="National Health and Family Planning Commission (2014), Report on "
               "China's Migrant Population Development 2014 (summary in the China Population "
               "Research Center's journal, 2015 no. 1: mean age of the working-age migrants "
               "33.1 years in 2011 and 33.7 in 2013)"),
    )  # fmt: skip


def _flow_families(scopes: CensusScopes) -> tuple[Family, ...]:
    persons = "persons"
    return (
        *_study_families(),
        Family("permits_issued", Quantity("column", ("permits_issued",)), "persons per year",
               (2016, 2019), _scaled("residence_permits_issued", 1e6),
               (0.0, 0.2), (0.0, 0.1), (0.0, 0.05), ("residence_permits_issued",),
               "Residence permits issued in the year ('more than') vs persons in households "
               "issued a permit in the model year."),
        Family("settled_2013_2018", _SETTLED_PERIOD, persons, (2018, 2018),
               _scaled("agri_migrants_settled_cumulative_to_year", 1e6),
               (0.0, 0.25), (0.0, 0.15), (0.0, 0.1),
               ("agri_migrants_settled_cumulative_to_year",),
               "Agricultural transfer population settled in towns, cumulative since the 18th "
               "Party Congress (November 2012; 'more than') vs persons granted urban hukou under "
               f"the settlement rules, summed 2013-2018. {_SETTLED_SCOPE}"),
        Family("settled_in_year", _SETTLED_YEAR, "persons per year",
               (2018, 2018), _scaled("rural_migrants_granted_urban_hukou", 1e6),
               (0.0, 0.25), (0.0, 0.15), (0.0, 0.05), ("rural_migrants_granted_urban_hukou",),
               "Rural migrants granted urban hukou in the year ('nearly') vs persons granted "
               f"urban hukou under the settlement rules in the model year. {_SETTLED_SCOPE}"),
        Family("natural_growth", Quantity("per_1000_natural", ("births", "deaths", "residents")),
               "per 1000", (2011, 2019), _scaled("natural_growth_rate", 1.0),
               (1.0, 0.0), (0.5, 0.0), (0.3, 0.0), ("natural_growth_rate",),
               "Crude natural growth rate (original NBS release) vs model births minus deaths "
               "over residents."),
        Family("local_debt", Quantity("column", ("local_debt",)), "yuan", (2014, 2019),
               _scaled("local_gov_debt_balance", 1e12), (0.0, 0.25), (0.0, 0.1), (0.0, 0.02),
               ("local_gov_debt_balance",),
               "MoF year-end statutory local government debt balance vs the model's "
               "outstanding local government debt."),
        Family("interprovince_distribution",
               Quantity("province_tvd", (PLACE_INTERPROVINCE_COLUMN,)), "TVD", (2015, 2019),
               _zero_in((2015, 2019)), (0.10, 0.0), (0.05, 0.0), (0.0, 0.0), (),
               "Total variation distance between the provinces' shares of inter-province "
               "in-migrants in the model and in the 2010 census (0 = the same distribution); "
               "the discrepancy allows the real distribution to have moved since 2010."),
    )  # fmt: skip


def build_targets(
    official: pd.DataFrame | None = None, scopes: CensusScopes | None = None
) -> tuple[Target, ...]:
    """Every target: each family in each of its years that has the official data.

    Parameters
    ----------
    official
        The official series (default: :func:`read_official` of the packaged file).
    scopes
        The census in-migrant sums (default: :func:`census_scopes` of the packaged world).
    """
    official = read_official() if official is None else official
    scopes = census_scopes() if scopes is None else scopes
    table = {(r.indicator, int(r.year)): r for r in official.itertuples(index=False)}

    def get(indicator: str, year: int) -> float | None:
        row = table.get((indicator, year))
        return None if row is None else float(row.value)

    out: list[Target] = []
    for fam in families(scopes):
        for year in range(fam.years[0], fam.years[1] + 1):
            value = fam.convert(get, year)
            if value is None:
                continue
            rows = [table[(i, year)] for i in fam.indicators if (i, year) in table]
            out.append(
                Target(
                    name=fam.name,
                    year=year,
                    observed=float(value),
                    quantity=fam.quantity,
                    unit=fam.unit,
                    tolerance=_spread(fam.tolerance, value),
                    discrepancy_sd=_spread(fam.discrepancy, value),
                    observation_sd=_spread(fam.observation, value),
                    definition="; ".join(str(r.definition) for r in rows) or fam.comparison,
                    comparison=fam.comparison,
                    source=(
                        fam.source or "; ".join(str(r.source_title) for r in rows) or "census 2010"
                    ),
                )
            )
    return tuple(out)


def targets_table(targets: Sequence[Target]) -> pd.DataFrame:
    """One row per target: what it is, its value, spreads, model quantity and source."""
    return pd.DataFrame(
        {
            "target": [t.key for t in targets],
            "name": [t.name for t in targets],
            "year": [t.year for t in targets],
            "observed": [t.observed for t in targets],
            "unit": [t.unit for t in targets],
            "tolerance": [t.tolerance for t in targets],
            "discrepancy_sd": [t.discrepancy_sd for t in targets],
            "observation_sd": [t.observation_sd for t in targets],
            "model_quantity": [t.quantity.describe() for t in targets],
            "comparison": [t.comparison for t in targets],
            "source": [t.source for t in targets],
        }
    )


def split_years(targets: Sequence[Target], last_fit_year: int) -> tuple[tuple[Target, ...], ...]:
    """``(fitted, held_out)``: targets up to ``last_fit_year`` and those after it."""
    fitted = tuple(t for t in targets if t.year <= last_fit_year)
    return fitted, tuple(t for t in targets if t.year > last_fit_year)


def missing_outputs(
    targets: Sequence[Target], national: Sequence[str], places: Sequence[str] = ()
) -> dict[str, list[str]]:
    """Targets whose model quantity reads a column the model does not output.

    Returns
    -------
    dict
        Target key -> the missing columns (empty when every target can be computed).
    """
    out: dict[str, list[str]] = {}
    for t in targets:
        have = places if t.quantity.kind == "province_tvd" else national
        missing = [c for c in t.quantity.reads if c not in have]
        if missing:
            out[t.key] = missing
    return out


# ---------------------------------------------------------------------------------------------
# Model side
# ---------------------------------------------------------------------------------------------
def total_variation(shares: pd.Series, reference: pd.Series) -> float:
    """Half the L1 distance between two distributions over the same index (0 ... 1)."""
    a = shares.reindex(reference.index.union(shares.index), fill_value=0.0)
    b = reference.reindex(a.index, fill_value=0.0)
    return 0.5 * float(np.abs(a / a.sum() - b / b.sum()).sum())


def model_value(
    target: Target,
    national: pd.DataFrame,
    places: pd.DataFrame | None = None,
    province_of: pd.Series | None = None,
    census_shares: pd.Series | None = None,
) -> float:
    """The model's value of one target in one run.

    Parameters
    ----------
    national
        The run's national table (a ``year`` column and the national columns).
    places
        Long place values ``year, place_id, name, value`` (what a sweep keeps), for
        ``province_tvd`` targets only.
    province_of
        Province code by place id (``province_tvd``).
    census_shares
        :func:`province_inmigrant_shares` (``province_tvd``; default: the packaged world's).

    Returns
    -------
    float
        The value; NaN where the quantity is undefined in the run: a ratio whose denominator
        is 0 (a run left without floating persons has no inter-province share), a
        distribution over provinces of no one.
    """
    return _value(target, national.set_index("year"), places, province_of, census_shares)


def _value(
    target: Target,
    n: pd.DataFrame,
    places: pd.DataFrame | None,
    province_of: pd.Series | None,
    census_shares: pd.Series | None,
) -> float:
    """:func:`model_value` with the national table indexed by year (done once per run)."""
    q = target.quantity
    if q.kind == "province_tvd":
        if places is None or province_of is None:
            raise ValueError(f"{target.key}: needs the places values and the provinces")
        rows = places[(places["name"] == q.columns[0]) & (places["year"] == target.year)]
        by = rows.groupby(rows["place_id"].map(province_of))["value"].sum()
        ref = province_inmigrant_shares() if census_shares is None else census_shares
        return total_variation(by, ref) if by.sum() > 0 else np.nan
    y = target.year
    if q.kind == "column":
        return _net(n, [y], q)
    if q.kind == "share":
        a, b = float(n.at[y, q.columns[0]]), float(n.at[y, q.columns[1]])
        return _divide(a, a + b)
    if q.kind == "ratio":
        return _divide(float(n.at[y, q.columns[0]]), float(n.at[y, q.columns[1]]))
    if q.kind == "index":
        cols = list(q.columns)
        return _divide(float(n.loc[y, cols].sum()), float(n.loc[q.base_year, cols].sum()))
    if q.kind == "per_1000_natural":
        natural = float(n.at[y, "births"] - n.at[y, "deaths"])
        return 1000.0 * _divide(natural, float(n.at[y, "residents"]))
    if q.kind in ("period_rate", "rate"):
        base = y if q.kind == "rate" else q.base_year
        assert base is not None  # checked by Quantity
        if y < base:
            raise ValueError(f"{target.key}: the period starts in {base}, after the year")
        flow = _net(n, list(range(base, y + 1)), Quantity("column", q.columns[:1]))
        stock = _net(n, list(range(base - 1, y)), Quantity("column", q.columns[1:]))
        return _divide(flow, stock)
    # period_sum: each year of base_year..year exactly once; a missing year is an error, not 0.
    years = list(range(int(q.base_year or y), y + 1))
    absent = [k for k in years if k not in n.index]
    if absent:
        raise KeyError(f"{target.key}: the national table has no year {absent}")
    return _net(n, years, q)


def _divide(a: float, b: float) -> float:
    """``a / b``, NaN where ``b`` is 0 (the quantity is undefined in the run)."""
    return a / b if b != 0.0 else np.nan


def _net(n: pd.DataFrame, years: list[int], q: Quantity) -> float:
    """The sum over ``years`` of ``q.columns`` less ``q.subtract`` (national table by year)."""
    rows = n.index.get_indexer(years)
    if np.any(rows < 0):
        absent = [y for y, r in zip(years, rows, strict=True) if r < 0]
        raise KeyError(f"the national table has no year {absent}")
    value = float(n[list(q.columns)].to_numpy()[rows].sum())
    if q.subtract:
        value -= float(n[list(q.subtract)].to_numpy()[rows].sum())
    return value


def model_values(
    targets: Sequence[Target],
    national: pd.DataFrame,
    places: pd.DataFrame | None = None,
    province_of: pd.Series | None = None,
) -> np.ndarray:
    """:func:`model_value` of every target, in order."""
    shares = (
        province_inmigrant_shares()
        if any(t.quantity.kind == "province_tvd" for t in targets)
        else None
    )
    n = national.set_index("year")
    return np.array([_value(t, n, places, province_of, shares) for t in targets], dtype=float)
