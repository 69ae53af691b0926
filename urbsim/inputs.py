"""What the household engines read of a year: one frozen bundle, built from declared fields.

Both engines decide a year on the same inputs, and only on them:

* :data:`Params` is the record of behavioural parameters. Its fields are generated, at import,
  from the fields of :class:`urbsim.scenario.schema.Behaviour` (name, type, unit and source are
  declared there, once) followed by the few context entries of :data:`CONTEXT_FIELDS` that come
  from elsewhere (the world's scale, demography, the policy in force). Floats stay floats,
  integers integers, flags booleans, and lists (the age profile) become float64 arrays. A new
  behavioural parameter is one entry in the schema; the kernels and the reference engine read
  it as ``par.name``.
* :data:`PlaceInputs` holds one array per place value the households decide on, declared in
  :data:`PLACE_FIELDS` (name, dtype, unit, meaning) and computed by :func:`place_inputs`.
* :class:`YearInputs` bundles them with the access schedule, the gravity weights, the migrant
  network and origin index of the last count, and the points quotas of the year.

Both records are :func:`~collections.namedtuple` types, which Numba passes into compiled
kernels as typed structs: a field is read at compile-time known position, as fast as a
constant column index was. Their type names carry a digest of their fields (``Params_1a2b..``),
so that Numba's on-disk cache never reuses code compiled for another layout of the same record
(see :func:`__getattr__`).
"""

from __future__ import annotations

import hashlib
from collections import namedtuple
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, get_args, get_origin

import numpy as np

from urbsim.dynamics.demography import VitalRates
from urbsim.scenario.schema import Behaviour, Scenario


@dataclass(frozen=True)
class InputField:
    """One field of an input record: its Python (or numpy) type, unit and origin or meaning."""

    name: str
    kind: type
    unit: str
    source: str


def _behaviour_fields() -> list[InputField]:
    """One record field per field of the :class:`Behaviour` schema, in schema order."""
    out = []
    for name, info in Behaviour.model_fields.items():
        kind = info.annotation
        if get_origin(kind) is list and get_args(kind) == (float,):
            kind = np.ndarray
        if kind not in (float, int, bool, np.ndarray):
            raise TypeError(f"Behaviour.{name}: type {info.annotation} cannot enter a kernel")
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        out.append(InputField(name, kind, str(extra.get("unit", "")), str(extra.get("source"))))
    return out


#: Entries of :data:`Params` that are not behaviour fields: the caller of :func:`make_params`
#: gives them by name (the world's scale may differ from the scenario's for a world passed in).
CONTEXT_FIELDS: Final[tuple[InputField, ...]] = (
    InputField("households_per_agent", float, "households/agent", "the world"),
    InputField("requisition_share", float, "share", "scenario demography.requisition_share"),
    InputField("service_base_access", float, "share", "scenario economy.service_base_access"),
    InputField("seed", int, "-", "scenario seed: keys the draws that do not change by year"),
)

#: Every field of :data:`Params`, by name.
PARAM_FIELDS: Final[dict[str, InputField]] = {
    f.name: f for f in (*_behaviour_fields(), *CONTEXT_FIELDS)
}

#: Per-place values of a year, one array per field; ``source`` says what each one means.
PLACE_FIELDS: Final[dict[str, InputField]] = {
    f.name: f
    for f in (
        InputField("log_income_urban", np.float64, "log(yuan/year)", "log(wage * employment)"),
        InputField("log_income_rural", np.float64, "log(yuan/year)", "log(rural-zone income)"),
        InputField("log_cost_urban", np.float64, "log(yuan/m2/year)", "log(housing cost)"),
        InputField("log_cost_rural", np.float64, "log(yuan/m2/year)", "log(rural housing cost)"),
        InputField("quality", np.float64, "share", "service capacity / entitled demand, <= 1"),
        InputField("amenity", np.float64, "amenity units", "amenity index of the urban zone"),
        InputField("log_size", np.float64, "log(persons)", "log(max(urban residents, 1))"),
        InputField("employment", np.float64, "share", "probability an urban head has a job"),
        InputField("fertility_factor", np.float64, "multiplier", "regional fertility multiplier"),
        InputField("insitu", np.float64, "share", "rural households reclassified urban"),
        InputField(
            "school_access",
            np.float64,
            "multiplier",
            "school access of non-hukou children (a population cap's school channel)",
        ),
        InputField("lat", np.float64, "radians", "latitude"),
        InputField("lon", np.float64, "radians", "longitude"),
        InputField("coslat", np.float64, "-", "cos(latitude)"),
        InputField("province", np.int64, "index", "province, 0..n_provinces-1"),
        InputField("rule", np.int64, "code", "settlement rule (urbsim.kernels.layout.RULE_*)"),
        InputField("min_years", np.int64, "years", "residence the settlement rule requires"),
        InputField("gov", np.int64, "index", "local government (prefecture)"),
        InputField("surrender", np.int64, "0/1", "settling here requires giving up land rights"),
        InputField("permit_on", np.int64, "0/1", "policy in force: permit.enabled here"),
        InputField(
            "permit_months", np.int64, "months", "policy in force: permit.min_residence_months"
        ),
        InputField("hukou_benefit", np.float64, "util", "hukou-only benefits per household"),
        InputField("hukou_benefit_child", np.float64, "util", "hukou-only schooling per child"),
        InputField("land_median", np.float64, "util", "median land value, hukou here"),
        InputField(
            "entry_within",
            np.float64,
            "util",
            "destination constant of movers from the province (dynamics.destination_constants)",
        ),
        InputField(
            "entry_across",
            np.float64,
            "util",
            "destination constant of movers from other provinces",
        ),
    )
}


def _record_type(name: str, fields: Iterable[InputField]) -> type:
    """A namedtuple type of the fields, named ``{name}_{digest of the names and kinds}`` and
    registered in this module (so that pickles, Numba's cache index among them, find it)."""
    fields = list(fields)
    spec = ";".join(f"{f.name}:{getattr(f.kind, '__name__', f.kind)}" for f in fields)
    digest = hashlib.sha256(spec.encode()).hexdigest()[:12]
    cls = namedtuple(f"{name}_{digest}", [f.name for f in fields], module=__name__)  # type: ignore[misc]
    cls.__doc__ = f"Input record {name}: fields {', '.join(f.name for f in fields)}."
    globals()[cls.__name__] = cls
    return cls


#: The record of behavioural parameters (one field per entry of :data:`PARAM_FIELDS`).
Params: Final[type] = _record_type("Params", PARAM_FIELDS.values())
#: The per-place values of a year (one array per entry of :data:`PLACE_FIELDS`).
PlaceInputs: Final[type] = _record_type("PlaceInputs", PLACE_FIELDS.values())


#: Annotations of the records (their types are generated, so a checker cannot name them).
type ParamsRecord = tuple[Any, ...]
type PlaceRecord = tuple[Any, ...]


def __getattr__(name: str) -> Any:
    # Numba's on-disk cache index names the record types of the signatures it holds. After the
    # fields change, an old index names a type that no longer exists: answer with an empty
    # stand-in (kept, so that the index can be written back) that equals no current type, so
    # the kernels compile afresh instead of failing or reading a field at a stale position.
    if name.startswith(("Params_", "PlaceInputs_")):
        stale = namedtuple(name, (), module=__name__)  # type: ignore[misc]
        globals()[name] = stale
        return stale
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _cast(field: InputField, value: Any) -> Any:
    if field.kind is np.ndarray:
        # A list enters the kernels as a read-only float64 array (Numba's parallel loops
        # cannot take a record that holds a tuple).
        arr = np.array(value, dtype=np.float64)
        if arr.ndim != 1:
            # A scalar would make a 0-d array: a different Numba type, so every kernel taking
            # the record would compile again (about 100 s for the household step).
            raise ValueError(f"parameter {field.name!r} must be a list of numbers, got {value!r}")
        arr.flags.writeable = False
        return arr
    return field.kind(value)


def params_from(values: Mapping[str, Any]) -> ParamsRecord:
    """A :data:`Params` record from a value for every field, each cast to its declared type
    (so that the kernels always see the same types and compile once)."""
    missing = [name for name in PARAM_FIELDS if name not in values]
    extra = [name for name in values if name not in PARAM_FIELDS]
    if missing or extra:
        raise ValueError(f"parameter record: missing {missing}, unknown {extra}")
    return Params(**{name: _cast(f, values[name]) for name, f in PARAM_FIELDS.items()})


def make_params(behaviour: Behaviour, **context: Any) -> ParamsRecord:
    """The record of a year: every behaviour field, and the :data:`CONTEXT_FIELDS` by name."""
    return params_from({**behaviour.model_dump(), **context})


def check_place_inputs(places: PlaceRecord) -> int:
    """Check a :data:`PlaceInputs`: every field a 1-D array of its dtype, one length.

    Returns
    -------
    int
        Number of places.
    """
    if not isinstance(places, PlaceInputs):
        raise ValueError(f"place inputs must be a PlaceInputs record, got {type(places).__name__}")
    n = None
    for name, field in PLACE_FIELDS.items():
        arr = getattr(places, name)
        if not isinstance(arr, np.ndarray) or arr.ndim != 1 or arr.dtype != field.kind:
            raise ValueError(f"place input {name!r} must be a 1-D {np.dtype(field.kind)} array")
        if n is None:
            n = arr.shape[0]
        elif arr.shape[0] != n:
            raise ValueError(f"place input {name!r} has {arr.shape[0]} rows, expected {n}")
    return int(n or 0)


def place_inputs(
    spec: Scenario,
    year: int,
    state: Any,
    policy: Any,
    geography: Mapping[str, np.ndarray],
    mean_wage_2010: float,
    entry_constant: np.ndarray | None = None,
) -> PlaceRecord:
    """Per-place values the households of ``year`` decide on.

    Parameters
    ----------
    spec
        The scenario.
    year
        The year being lived.
    state
        The :class:`urbsim.state.PlaceState` at the start of the year.
    policy
        The :class:`urbsim.state.PolicyArrays` in force.
    geography
        ``lat``, ``lon`` (radians), ``region``, ``province`` and ``gov`` indices per place.
    mean_wage_2010
        National mean urban wage of 2010 (yuan/year), the reference of rural housing costs.
    entry_constant
        ``(2, n)`` destination constants of every place for movers from its province (row 0)
        and from others (row 1) (util; set at the start of a run when
        ``behaviour.destination_constants``); None: zero.
    """
    eco, dem = spec.economy, spec.demography
    entry = (
        np.zeros((2, len(state.wage)))
        if entry_constant is None
        else np.asarray(entry_constant, dtype=np.float64)
    )
    return PlaceInputs(
        log_income_urban=np.log(state.wage * state.employment),
        log_income_rural=np.log(eco.rural_income_ratio * state.wage),
        log_cost_urban=np.log(state.housing_cost),
        # Rural housing costs the same share of income as urban housing at reference density.
        log_cost_rural=np.log(
            eco.housing_cost_2010 * eco.rural_income_ratio * state.wage / mean_wage_2010
        ),
        quality=np.minimum(state.quality, 1.0),
        amenity=state.amenity.astype(np.float64, copy=True),
        log_size=np.log(np.maximum(state.urban_residents, 1.0)),
        employment=state.employment.astype(np.float64, copy=True),
        fertility_factor=np.asarray(dem.birth_region.as_tuple(), dtype=np.float64)[
            geography["region"]
        ],
        school_access=policy.school_access.astype(np.float64, copy=True),
        insitu=np.clip(
            dem.insitu_base + dem.insitu_growth * np.clip(state.urban_growth, 0.0, None), 0.0, 1.0
        ),
        lat=geography["lat"],
        lon=geography["lon"],
        coslat=np.cos(geography["lat"]),
        province=geography["province"].astype(np.int64),
        rule=policy.rule.astype(np.int64),
        min_years=policy.min_years.astype(np.int64),
        gov=geography["gov"].astype(np.int64),
        surrender=policy.surrender.astype(np.int64),
        permit_on=policy.permit_on.astype(np.int64),
        permit_months=policy.permit_months.astype(np.int64),
        hukou_benefit=policy.hukou_benefit.astype(np.float64),
        hukou_benefit_child=policy.hukou_benefit_child.astype(np.float64),
        # Land lies at the hukou place: its region sets the median of the land value.
        land_median=spec.behaviour.land_value
        * np.asarray(spec.behaviour.land_region, dtype=np.float64)[geography["region"]],
        entry_within=entry[0].copy(),
        entry_across=entry[1].copy(),
    )


@dataclass(frozen=True)
class YearInputs:
    """Everything a household engine reads to step a year; engines write none of it.

    Attributes
    ----------
    year : int
        The year being lived.
    seed : int
        The scenario seed; with ``year`` it keys every random draw.
    par : Params
        Behavioural parameters (:data:`Params`).
    places : PlaceInputs
        Per-place values (:data:`PlaceInputs`).
    access : numpy.ndarray
        Service access of a permit holder by place and completed years of residence
        (``(n_places, width)``, each row padded with its last value).
    gravity_cdf, gravity_guide : numpy.ndarray
        Cumulative gravity proposal weights, one ``float32`` row per place of origin
        (:func:`urbsim.kernels.gravity.gravity_rows`), and their guide tables.
    network, network8 : numpy.ndarray
        Floating agent households by (hukou place, current place) at the last count, exact
        (``int32``) and saturated at 255 (``uint8``).
    network_province : numpy.ndarray
        Floating agent households by (hukou province, current place) at the last count
        (``int32``).
    origin_start, origin_members : numpy.ndarray
        Floating households grouped by hukou place at the last count
        (:func:`urbsim.kernels.aggregate.origin_index`); they describe the households as the
        engine receives them, since each year's step is followed by a count.
    quota : numpy.ndarray
        Persons who may settle under the points scheme this year, per local government.
    vital : VitalRates
        The year's aligned fertility, mortality and leaving-home schedules.
    """

    year: int
    seed: int
    par: ParamsRecord
    places: PlaceRecord
    access: np.ndarray
    gravity_cdf: np.ndarray
    gravity_guide: np.ndarray
    network: np.ndarray
    network8: np.ndarray
    network_province: np.ndarray
    origin_start: np.ndarray
    origin_members: np.ndarray
    quota: np.ndarray
    vital: VitalRates
