"""The output columns of a run, each declared once: name, dtype, unit and description.

The model orders its ``national`` and ``places`` tables by these registries
(:func:`order_columns`), the writer stores each column's unit and description in the Parquet
field metadata (:func:`field_metadata`), the sweep's column lists and metric units are read from
here, and ``docs/gen_outputs.py`` generates ``docs/outputs.md`` and the README's outputs table
from here (``tests/output/test_columns.py`` fails when a table, a list or a document drifts).

Adding an output column: one entry below, in output order, and the line of the model that
records it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import pandas as pd

from urbsim.world.base import SIZE_CLASSES

#: Keys of a Parquet field's metadata holding the unit and the description.
UNIT_KEY: Final[bytes] = b"unit"
DESCRIPTION_KEY: Final[bytes] = b"description"
#: The dtypes a column may declare: numpy dtype names, or "string" for text.
DTYPES: Final[frozenset[str]] = frozenset({"int16", "int32", "int64", "float64", "string"})


@dataclass(frozen=True)
class Column:
    """One output column.

    Attributes
    ----------
    name : str
        Column name.
    dtype : str
        ``int16``, ``int32``, ``int64``, ``float64`` or ``string``.
    unit : str
        Unit (``-`` for identifiers and unitless values).
    description : str
        What the column holds, one sentence, plain text.
    static : bool
        The column describes the place (identifiers, codes, coordinates) and does not change
        from year to year; only ``places`` columns are static.
    """

    name: str
    dtype: str
    unit: str
    description: str
    static: bool = False

    def __post_init__(self) -> None:
        if self.dtype not in DTYPES:
            raise ValueError(f"column {self.name!r}: dtype {self.dtype!r} is not one of {DTYPES}")


def _persons(name: str, description: str) -> Column:
    return Column(name, "float64", "persons", description)


def _flow(name: str, unit: str, description: str) -> Column:
    return Column(name, "float64", unit, description)


def size_class_column(prefix: str, size_class: str) -> str:
    """Name of a national column of one size class: ``capacity_gap`` and ``"large I"`` give
    ``capacity_gap_large_i``."""
    return f"{prefix}_{size_class.lower().replace('-', '_').replace(' ', '_')}"


def _gap_columns() -> tuple[Column, ...]:
    """The entitlement and capacity gaps of each size class, then the capacity gap of each
    service type (national columns)."""
    out = []
    for sc in SIZE_CLASSES:
        for gap, what in (("entitlement_gap", "not entitled"), ("capacity_gap", "beyond capacity")):
            out.append(
                Column(
                    size_class_column(gap, sc),
                    "float64",
                    "share of service users",
                    f"Service needs {what} in places of {sc} cities (weighted by users).",
                )
            )
    for kind, users in SERVICE_USERS.items():
        out.append(
            Column(
                f"capacity_gap_{kind}",
                "float64",
                f"share of {kind} users",
                f"Entitled {kind} needs beyond the capacity, over its users ({users}).",
            )
        )
    return tuple(out)


#: Users of each service type, as the column descriptions name them.
SERVICE_USERS: Final[dict[str, str]] = {
    "education": "school-age children",
    "health": "urban residents",
    "elderly": "persons of households headed by someone 60+",
}

#: Columns of ``national.parquet``, one row per year, in output order.
NATIONAL: Final[tuple[Column, ...]] = (
    Column("year", "int64", "year", "Year; the start year is the initial state."),
    _persons("residents", "Residents."),
    _persons("urban_residents", "Residents of urban zones."),
    Column(
        "urbanization_rate",
        "float64",
        "share of residents",
        "Resident urbanization: urban residents over residents.",
    ),
    Column(
        "hukou_urbanization_rate",
        "float64",
        "share of registered population",
        "Hukou urbanization: non-agricultural hukou holders over the registered population.",
    ),
    _persons("floating_population", "Persons living away from their hukou place."),
    _flow(
        "hukou_conversions",
        "persons per year",
        "Persons granted local or non-agricultural hukou in the year: settled_migrants plus "
        "local_conversions.",
    ),
    _persons("permit_holders", "Persons holding a residence permit."),
    Column(
        "service_gap",
        "float64",
        "share of service users",
        "Public-service needs not served, all types (education: school-age children; health: "
        "urban residents; elderly care: persons of households headed by someone 60+): "
        "entitlement_gap plus capacity_gap.",
    ),
    Column(
        "entitlement_gap",
        "float64",
        "share of service users",
        "Public-service needs, all types, that the users' status does not entitle (users "
        "without local hukou, by their missing access share).",
    ),
    Column(
        "capacity_gap",
        "float64",
        "share of service users",
        "Public-service needs, all types, that are entitled but beyond the capacity.",
    ),
    *_gap_columns(),
    _persons("registered_population", "Persons by hukou place (equals residents)."),
    _persons("nonagri_hukou_population", "Non-agricultural hukou holders."),
    _persons("urban_floating_population", "Floating persons living in urban zones."),
    Column(
        "county_town_share",
        "float64",
        "share of urban residents",
        "Urban residents of counties and county-level cities over urban residents.",
    ),
    Column("households", "float64", "households", "Real households."),
    Column(
        "local_debt",
        "float64",
        "yuan",
        "Outstanding debt of all local governments at the end of the year (LGFV debt before "
        "the 2015 swap, statutory debt after).",
    ),
    Column(
        "local_debt_ceiling",
        "float64",
        "yuan",
        "Sum of the local governments' debt ceilings: the LGFV borrowing limit before the swap "
        "year, the legislature's national ceiling after.",
    ),
    _flow("local_revenue", "yuan per year", "Local (tax) revenue of all local governments."),
    _flow(
        "central_transfers",
        "yuan per year",
        "Central transfers to local governments (by registered or resident population).",
    ),
    _flow(
        "land_revenue",
        "yuan per year",
        "Gross land-transfer revenue (the construction land of the year's new housing at land "
        "prices that follow housing costs), before compensation.",
    ),
    _flow("local_borrowing", "yuan per year", "New borrowing of all local governments."),
    _flow(
        "debt_service",
        "yuan per year",
        "Interest and amortization due on local debt.",
    ),
    _flow(
        "infrastructure_investment",
        "yuan per year",
        "Local investment in urban infrastructure for new urban residents.",
    ),
    _flow(
        "settled_migrants",
        "persons per year",
        "Migrants (living away from their hukou place) granted local hukou where they live, "
        "under open and conditional rules and points schemes.",
    ),
    _flow(
        "local_conversions",
        "persons per year",
        "Residents of their own hukou place converted from agricultural to non-agricultural "
        "hukou: under the settlement rules, and by land requisition "
        "(requisition_conversions).",
    ),
    _flow(
        "points_conversions",
        "persons per year",
        "Migrants granted hukou under points schemes (part of settled_migrants).",
    ),
    _flow(
        "requisition_conversions",
        "persons per year",
        "Locals converted to non-agricultural hukou by land requisition (part of "
        "local_conversions).",
    ),
    _flow(
        "insitu_reclassified",
        "persons per year",
        "Persons reclassified from rural to urban where they live.",
    ),
    _flow("births", "persons per year", "Births."),
    _flow("deaths", "persons per year", "Deaths."),
    _flow(
        "households_formed",
        "households per year",
        "Households formed by young adults leaving their parents' household (a couple of "
        "leavers of the same place forms one).",
    ),
    _flow("moves", "households per year", "Households that changed place or zone."),
    _flow("moves_considered", "households per year", "Households that considered moving."),
    _flow("province_moves", "households per year", "Moves across a province border (households)."),
    _flow("return_moves", "households per year", "Moves to the hukou place (households)."),
    _flow(
        "permits_issued",
        "persons per year",
        "Persons in households issued a residence permit in the year.",
    ),
    _flow(
        "public_spending",
        "yuan per year",
        "Local service spending, county-town programme spending, central renewal subsidies and "
        "local renewal costs.",
    ),
    Column(
        "agents",
        "float64",
        "agent households",
        "Agent households in the arrays, dissolved ones included.",
    ),
    _persons(
        "interprovince_floating_population",
        "Floating persons whose hukou place is in another province than the place they live in.",
    ),
    _persons(
        "intraprovince_floating_population",
        "Floating persons whose hukou place is another county-level place of the same province "
        "(cross-county, within the province).",
    ),
    _persons(
        "outmigrant_workers",
        "Floating persons of working age (16-64) with agricultural hukou: the model's "
        "out-migrant workers (NBS waichu nongmingong, at county level; no employment status "
        "by person).",
    ),
    _persons(
        "outmigrant_workers_interprovince",
        "Those of outmigrant_workers whose hukou place is in another province than where they "
        "live (NBS kuasheng liudong, the inter-provincial out-migrant workers).",
    ),
    _persons(
        "floating_recent_arrivals",
        "Floating persons (hukou at another county-level place) whose household has lived at "
        "its current place for under three completed years: the recent arrivals, whose share "
        "of the floating population measures the migrants' turnover.",
    ),
    _persons(
        "floating_children",
        "Persons under 18 of floating households (the migrant children, liudong ertong, at "
        "county level): their resident children of those ages, and all their persons when "
        "the head is under 18. Includes floating_children_left_behind.",
    ),
    _persons(
        "floating_children_left_behind",
        "School-age children (6-14, all of them: the household field children caps at 3) of "
        "floating households whose children were left at the hukou place (left_behind): they "
        "live and go to school there, yet are counted here, "
        "in the floating population and in the place's residents with their household "
        "(docs/ODD.md 2.1).",
    ),
    Column(
        "floating_head_mean_age",
        "float64",
        "years",
        "Mean age of the heads aged 15-59 of floating households, one per household (the "
        "migrant dynamic monitoring survey's analogue: one migrant aged 15-59 interviewed per "
        "household); NaN when there is none.",
    ),
    _flow(
        "return_migrants",
        "persons per year",
        "Persons in households that moved from elsewhere back to their hukou place.",
    ),
    _flow(
        "hazard_return_migrants",
        "persons per year",
        "Those of return_migrants whose household went home under the return hazard "
        "(behaviour.return_rate) rather than by its move decision.",
    ),
    _flow(
        "job_ends",
        "persons per year",
        "Persons in households away from their hukou place whose job ended in the year "
        "(behaviour.job_separation; urban zone, head under 60): they weighed a move, and "
        "staying cost them what a move does.",
    ),
    _flow(
        "job_end_movers",
        "persons per year",
        "Those of job_ends whose household moved in the year, onward or home (it lives in the "
        "urban zone, whose choice set has no rural zone of its own place); the rest stayed.",
    ),
    _flow(
        "urban_growth_natural",
        "persons per year",
        "Natural increase of urban residents: births minus deaths in urban-zone households.",
    ),
    _flow(
        "urban_growth_migration",
        "persons per year",
        "Net migration into urban zones: persons moving from a rural into an urban zone minus "
        "persons moving from an urban into a rural zone.",
    ),
    _flow(
        "urban_growth_reclassification",
        "persons per year",
        "Persons reclassified rural to urban in place (equals insitu_reclassified); the three "
        "urban_growth columns add up exactly to the change of urban_residents from the year "
        "before.",
    ),
)

#: Columns of ``places.parquet``, one row per place and year, in output order.
PLACES: Final[tuple[Column, ...]] = (
    Column("year", "int64", "year", "Year; the start year is the initial state."),
    Column("place_id", "int32", "-", "Index of the place (0 … places − 1).", static=True),
    Column("name", "string", "-", "Name of the county-level unit.", static=True),
    Column("province_code", "int16", "-", "2-digit province code.", static=True),
    Column(
        "prefecture_code", "int32", "-", "6-digit code of the prefecture-level unit.", static=True
    ),
    Column("region", "string", "-", "NBS region: east, central, west or northeast.", static=True),
    Column(
        "kind",
        "string",
        "-",
        "Kind of unit: urban district, county or county-level city.",
        static=True,
    ),
    Column(
        "size_class",
        "string",
        "-",
        "Size class of the place's prefecture city in force during the year, from its urban "
        "residents at the start of the year (super-large … small).",
    ),
    Column("lon", "float64", "degrees east", "Longitude (WGS84).", static=True),
    Column("lat", "float64", "degrees north", "Latitude (WGS84).", static=True),
    _persons("residents", "Residents of the place."),
    _persons("urban_residents", "Residents of the place's urban zone."),
    _persons("hukou_residents", "Residents whose hukou is at the place."),
    _persons("registered_population", "Persons with hukou at the place, wherever they live."),
    _persons("floating_residents", "Residents with hukou elsewhere."),
    _persons("permit_holders", "Floating residents holding a residence permit here."),
    Column("wage", "float64", "yuan per year", "Urban wage."),
    Column("housing_cost", "float64", "yuan per m² per year", "Urban housing cost (rent)."),
    _persons(
        "service_capacity",
        "Places of the public services, all types (stock times renewal, plus programme capacity).",
    ),
    _persons(
        "service_demand",
        "Service users of all types weighted by their entitlement (local hukou 1, permit "
        "holders their access share, others the base share).",
    ),
    _persons(
        "service_users",
        "Urban users of the public services, summed over types (school-age children, every "
        "resident, persons of households headed by someone 60+).",
    ),
    Column(
        "service_gap",
        "float64",
        "share of service users",
        "Service needs not served, all types: entitlement_gap plus capacity_gap (0 without users).",
    ),
    Column(
        "entitlement_gap",
        "float64",
        "share of service users",
        "Service needs, all types, that the users' status does not entitle (0 without users).",
    ),
    Column(
        "capacity_gap",
        "float64",
        "share of service users",
        "Service needs, all types, entitled but beyond the capacity (0 without users).",
    ),
    Column(
        "employment_rate",
        "float64",
        "share",
        "Probability that an urban-zone worker has a job (filled jobs over labour force).",
    ),
    Column("amenity", "float64", "amenity units", "Amenity index of the urban zone."),
    Column(
        "settlement_min_years",
        "float64",
        "years",
        "Years of residence the place's settlement rule requires in the year, after its "
        "government's own decision (0 under an open rule).",
    ),
    Column(
        "points_quota",
        "float64",
        "persons per 10,000 registered per year",
        "Points quota of the place in the year, after its government's own decision (0 unless "
        "the rule is points).",
    ),
    Column(
        "openness",
        "float64",
        "score in [-1, 1]",
        "Openness of the place's government to new residents (0 without local responses).",
    ),
    Column(
        "settlement_relaxed",
        "float64",
        "0/1",
        "1 where the place's government relaxed the central settlement rule in the year (fewer "
        "residence years or a larger points quota than the timeline's rule), else 0.",
    ),
    _persons(
        "inmigrants_other_province",
        "Residents whose hukou place is in another province (the 2010 census's in-migrants from "
        "other provinces).",
    ),
    _persons(
        "inmigrants_other_county",
        "Residents whose hukou place is another county-level place of the same province (the "
        "2010 census's in-migrants from other counties of the province).",
    ),
    _persons(
        "migrants_head_15_29",
        "Floating residents in households whose head is 15-29 years old.",
    ),
    _persons(
        "migrants_head_30_44",
        "Floating residents in households whose head is 30-44 years old.",
    ),
    _persons(
        "migrants_head_45_59",
        "Floating residents in households whose head is 45-59 years old.",
    ),
    _persons(
        "migrants_head_60_plus",
        "Floating residents in households whose head is 60 years old or older.",
    ),
)

#: Columns of ``flows.parquet``: moves between places by province of the place left and of the
#: place chosen, one row per pair of provinces (diagonal included) and simulated year.
FLOWS: Final[tuple[Column, ...]] = (
    Column("year", "int64", "year", "Year of the household step that made the moves."),
    Column("origin_province_code", "int16", "-", "2-digit code of the province left."),
    Column("destination_province_code", "int16", "-", "2-digit code of the province chosen."),
    _flow(
        "households",
        "households per year",
        "Households that moved from a place of the origin province to another place of the "
        "destination province (a change of zone within a place is not counted).",
    ),
    _flow("persons", "persons per year", "Persons in those households."),
)


def names(columns: Sequence[Column]) -> list[str]:
    """Column names in output order."""
    return [c.name for c in columns]


def by_name(columns: Sequence[Column]) -> dict[str, Column]:
    """The columns keyed by name."""
    return {c.name: c for c in columns}


def order_columns(df: pd.DataFrame, columns: Sequence[Column], table: str) -> pd.DataFrame:
    """``df`` with its columns in registry order.

    Raises
    ------
    ValueError
        If ``df`` has a column the registry lacks or lacks one it has (a bug in the model or
        the registry: every output column is declared here once).
    """
    expected = names(columns)
    extra = [c for c in df.columns if c not in expected]
    missing = [c for c in expected if c not in df.columns]
    if extra or missing:
        raise ValueError(
            f"{table} table and urbsim/output/columns.py disagree: not registered {extra}, "
            f"not recorded {missing}"
        )
    return df[expected]


def field_metadata(column: Column) -> dict[bytes, bytes]:
    """Parquet field metadata of a column: its unit and description, UTF-8."""
    return {UNIT_KEY: column.unit.encode(), DESCRIPTION_KEY: column.description.encode()}


def metric_units() -> dict[str, str]:
    """Unit of every national column but ``year`` (what a sweep metric reads)."""
    return {c.name: c.unit for c in NATIONAL if c.name != "year"}
