"""The model's state as plain data: households, places, local governments and the policy in force.

Each is a set of numpy arrays, one per attribute, with no behaviour beyond construction: the
yearly updates are functions over these arrays, the Mesa agents (:class:`urbsim.places.Place`,
:class:`urbsim.governments.LocalGovernment`) are views of their rows, and the household engines
read and write :class:`Households`. Nothing here imports another urbsim module, so every layer
can import it.

Households are a struct of arrays: :data:`FIELDS` is the one registry of household fields and
their dtypes, with their meaning, so that memory per household is known
(:func:`bytes_per_household`) and every field is documented once. Place indices are ``int16`` (a
world has at most 32,767 places).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Final

import numpy as np

#: Public-service types, each with ``{type}_users``, ``{type}_demand`` and ``{type}_capacity``
#: arrays in :class:`PlaceState`.
SERVICE_TYPES: Final[tuple[str, ...]] = ("education", "health", "elderly")
#: Zone codes.
RURAL: Final[int] = 0
URBAN: Final[int] = 1
#: Hukou type codes.
AGRICULTURAL: Final[int] = 0
NON_AGRICULTURAL: Final[int] = 1
#: Age groups of the household head (the move propensity's ``move_age`` is by group).
AGE_GROUPS: Final[tuple[str, ...]] = ("15-29", "30-44", "45-59", "60+")
#: First age of each group after the first (a head under 15, heading a household after the
#: death of its last adult, counts in the first).
AGE_GROUP_STARTS: Final[tuple[int, ...]] = (30, 45, 60)
#: Education levels of the household head.
EDUCATION_LEVELS: Final[tuple[str, ...]] = (
    "primary or less",
    "junior secondary",
    "senior secondary",
    "tertiary",
)


@dataclass(frozen=True)
class Field:
    """One household attribute: its dtype and what it means."""

    dtype: np.dtype
    doc: str


FIELDS: Final[dict[str, Field]] = {
    "place": Field(np.dtype(np.int16), "index of the place where the household lives"),
    "zone": Field(np.dtype(np.uint8), "zone of residence: 0 rural, 1 urban"),
    "hukou_place": Field(np.dtype(np.int16), "index of the place where the hukou is registered"),
    "hukou_type": Field(np.dtype(np.uint8), "hukou type: 0 agricultural, 1 non-agricultural"),
    "years_here": Field(np.dtype(np.uint8), "completed years at the current place (capped 255)"),
    "permit": Field(np.dtype(np.uint8), "1 if the household holds a residence permit here"),
    "head_age": Field(
        np.dtype(np.uint8), "age of the head in completed years (0-100); other adults alike"
    ),
    "education": Field(np.dtype(np.uint8), "education of the head, index into EDUCATION_LEVELS"),
    "kids": Field(
        np.dtype(np.uint32), "resident children of the head: bit a set for a child aged a (0-31)"
    ),
    "children": Field(
        np.dtype(np.uint8), "school-age children (aged 6-14) in the household, at most 3"
    ),
    "land": Field(np.dtype(np.uint8), "1 if the household holds rural land-contract rights"),
    "persons": Field(np.dtype(np.uint8), "persons in the household; 0 once it has dissolved"),
    "years_away": Field(
        np.dtype(np.uint8),
        "completed years since the household last left its hukou place (0 while it lives "
        "there; capped 255)",
    ),
    "left_behind": Field(
        np.dtype(np.uint8),
        "1 while the household lives away from its hukou place and its school-age children "
        "live there (left behind with grandparents)",
    ),
    "match": Field(
        np.dtype(np.int8),
        "the household's match with the place it lives at while away from its hukou place: "
        "a standard-normal level in steps of 1/16 (urbsim.kernels.layout.MATCH_STEP) drawn "
        "when it arrived (or, for the start year's migrants, at the start); 0 at the hukou "
        "place",
    ),
}


#: Capacity of the household buffers, as a multiple of the rows needed, when
#: :meth:`Households.append` must move them: a 2010-2035 census run grows its rows by about
#: half (4.95 to 7.33 million at 100 households per agent), so the move at the first append
#: is the only one of most runs.
GROWTH: Final[float] = 1.6


def bytes_per_household() -> int:
    """Bytes of household state per household."""
    return sum(f.dtype.itemsize for f in FIELDS.values())


@dataclass
class _Buffers:
    """The buffers behind households that grow by :meth:`Households.append`, and the rows of
    them written so far (only the households of the latest rows may append in place)."""

    arrays: dict[str, np.ndarray]
    rows: int

    @property
    def capacity(self) -> int:
        return int(self.arrays["place"].shape[0])


class Households:
    """Households stored as one array per field of :data:`FIELDS`.

    Each array may be a view of the first rows of a longer buffer: :meth:`append` writes the
    households formed in a year into the spare rows in place, so that growing the arrays does
    not hold them twice (a concatenation would, at the peak of every year). Spare rows are
    allocated but never written until used, so the operating system does not back them with
    memory (large numpy buffers are mapped lazily).

    Parameters
    ----------
    **arrays
        One 1-D array per field, all of the same length; each is converted to the field's dtype.
    """

    __slots__ = (*FIELDS, "_buffers")

    place: np.ndarray
    zone: np.ndarray
    hukou_place: np.ndarray
    hukou_type: np.ndarray
    years_here: np.ndarray
    permit: np.ndarray
    head_age: np.ndarray
    education: np.ndarray
    kids: np.ndarray
    children: np.ndarray
    land: np.ndarray
    persons: np.ndarray
    years_away: np.ndarray
    left_behind: np.ndarray
    match: np.ndarray
    _buffers: _Buffers | None

    def __init__(self, **arrays: np.ndarray) -> None:
        missing = set(FIELDS) - set(arrays)
        extra = set(arrays) - set(FIELDS)
        if missing or extra:
            raise ValueError(
                f"household fields: missing {sorted(missing)}, unknown {sorted(extra)}"
            )
        n = None
        for name, field in FIELDS.items():
            arr = np.ascontiguousarray(arrays[name], dtype=field.dtype)
            if arr.ndim != 1:
                raise ValueError(f"household field {name!r} must be 1-D")
            if n is None:
                n = arr.shape[0]
            elif arr.shape[0] != n:
                raise ValueError(f"household field {name!r} has {arr.shape[0]} rows, expected {n}")
            object.__setattr__(self, name, arr)
        object.__setattr__(self, "_buffers", None)

    def __len__(self) -> int:
        return int(self.place.shape[0])

    @classmethod
    def in_buffers(cls, buffers: dict[str, np.ndarray], rows: int) -> Households:
        """Households that are the first ``rows`` rows of ``buffers`` (one 1-D array per field,
        of the field's dtype, all of one length): :meth:`append` fills the rest in place.

        A world builder that allocates its arrays with room for the run's growth uses this, so
        that no append has to move them (the first move would hold the state twice). The
        households take the buffers over: make one Households per set of buffers (two would
        each append into the same spare rows).
        """
        lengths = {b.shape[0] for b in buffers.values()}
        if set(buffers) != set(FIELDS) or len(lengths) != 1 or not 0 <= rows <= min(lengths):
            raise ValueError("buffers must give every field, all of one length >= rows")
        for name, field in FIELDS.items():
            if buffers[name].dtype != field.dtype or buffers[name].ndim != 1:
                raise ValueError(f"buffer {name!r} must be 1-D {field.dtype}")
        out = cls(**{name: buffers[name][:rows] for name in FIELDS})
        object.__setattr__(out, "_buffers", _Buffers(dict(buffers), rows))
        return out

    @property
    def capacity(self) -> int:
        """Rows of the buffers behind the arrays: an :meth:`append` to the latest households
        of the buffers stays in place up to these."""
        return len(self) if self._buffers is None else self._buffers.capacity

    def age_group(self) -> np.ndarray:
        """Age group of each head, index into :data:`AGE_GROUPS`."""
        return np.searchsorted(np.asarray(AGE_GROUP_STARTS), self.head_age, side="right")

    def append(self, new: dict[str, np.ndarray]) -> Households:
        """These households followed by ``new`` (one array per field).

        The result's arrays are views of buffers with room to grow. When these households
        are the buffers' latest rows and there is room, ``new`` is written after them in place:
        the result then *shares* its first ``len(self)`` rows with these households (a write
        through either shows in both; use the result and drop ``self``, as the engines do).
        Otherwise every field moves to a buffer of :data:`GROWTH` times the rows needed, and
        the result is independent of ``self``. A second append to the same households is
        never written in place (its rows would overwrite the first's new rows).
        """
        n = len(self)
        k = int(np.asarray(new["place"]).shape[0])
        for name in FIELDS:
            if np.asarray(new[name]).shape != (k,):
                raise ValueError(f"new household field {name!r} must have {k} rows")
        spare = self._buffers
        in_place = (
            spare is not None
            and spare.rows == n
            and n + k <= spare.capacity
            # A field replaced after the last append is not its buffer's first rows.
            and all(getattr(self, f).base is spare.arrays[f] for f in FIELDS)
        )
        if not in_place:
            cap = max(n + k, int(GROWTH * (n + k)))
            arrays = {}
            for name, field in FIELDS.items():
                buf = np.empty(cap, dtype=field.dtype)
                buf[:n] = getattr(self, name)
                arrays[name] = buf
            spare = _Buffers(arrays, n)
        assert spare is not None
        for name, field in FIELDS.items():
            spare.arrays[name][n : n + k] = np.asarray(new[name]).astype(field.dtype, copy=False)
        spare.rows = n + k
        out = Households(**{name: spare.arrays[name][: n + k] for name in FIELDS})
        object.__setattr__(out, "_buffers", spare)
        return out

    @property
    def nbytes(self) -> int:
        """Bytes held by all household arrays."""
        return sum(getattr(self, name).nbytes for name in FIELDS)

    def copy(self) -> Households:
        """A deep copy."""
        return Households(**{name: getattr(self, name).copy() for name in FIELDS})

    def as_dict(self) -> dict[str, np.ndarray]:
        """The arrays by field name (views, not copies)."""
        return {name: getattr(self, name) for name in FIELDS}


@dataclass
class PlaceState:
    """Mutable state of all places, one float64 array per attribute (persons are real persons).

    Attributes
    ----------
    residents, urban_residents, hukou_residents, registered_population, floating_residents,
    permit_holders, nonagri_registered : persons
        Counts from the households (scaled by households per agent).
    urban_households : households
        Real households living in the urban zone.
    wage : yuan/year
        Urban wage.
    productivity : yuan/year
        Wage at which firms offer exactly their job base (region, demand path, size, poles).
    labour_force, job_base : workers, jobs
        Urban labour force; jobs firms offer at the productivity wage.
    employment : share
        Probability that an urban-zone worker has a job (filled jobs over labour force).
    jobs, programme_jobs : jobs
        Filled urban jobs, and the jobs created by the county-town programme.
    housing_stock : persons housed at reference density
    housing_built : persons housed at reference density, built in the year (land sold)
    housing_cost : yuan/m2/year
    education_users, health_users, elderly_users : persons
        Urban residents each service type serves (school-age children; everyone; persons of
        households headed by someone 60+).
    education_demand, health_demand, elderly_demand : entitled persons
        Users weighted by their entitlement (hukou holders 1, others their access share).
    education_capacity, health_capacity, elderly_capacity : places
        Capacity stock of each type (built, depreciated, closed when it cannot be run).
    service_capacity : places, effective capacity of all types (renewal and programme included)
    programme_capacity : entitled persons served by county-town investment (depreciates)
    renewal_factor : multiplier of service capacity from old-community renewal
    service_demand : entitled persons, all types
    entitlement_gap : share of users' needs that their status does not entitle
    capacity_gap : share of users' needs entitled but beyond the capacity
    quality : entitled demand served (all types), at most 1
    amenity : amenity index of the urban zone
    urban_growth : share per year, urban residents' growth over the last year
    infrastructure_served : persons, the most urban residents the place's infrastructure
        investment has been reckoned for (a high-water mark; the start year's urban residents
        at first)
    renewed_households : households renovated so far
    spending : yuan/year, service spending
    """

    residents: np.ndarray
    urban_residents: np.ndarray
    hukou_residents: np.ndarray
    registered_population: np.ndarray
    floating_residents: np.ndarray
    permit_holders: np.ndarray
    nonagri_registered: np.ndarray
    urban_households: np.ndarray
    wage: np.ndarray
    productivity: np.ndarray
    labour_force: np.ndarray
    job_base: np.ndarray
    employment: np.ndarray
    jobs: np.ndarray
    programme_jobs: np.ndarray
    housing_stock: np.ndarray
    housing_built: np.ndarray
    housing_cost: np.ndarray
    education_users: np.ndarray
    health_users: np.ndarray
    elderly_users: np.ndarray
    education_demand: np.ndarray
    health_demand: np.ndarray
    elderly_demand: np.ndarray
    education_capacity: np.ndarray
    health_capacity: np.ndarray
    elderly_capacity: np.ndarray
    service_capacity: np.ndarray
    programme_capacity: np.ndarray
    renewal_factor: np.ndarray
    service_demand: np.ndarray
    entitlement_gap: np.ndarray
    capacity_gap: np.ndarray
    quality: np.ndarray
    amenity: np.ndarray
    urban_growth: np.ndarray
    infrastructure_served: np.ndarray
    renewed_households: np.ndarray
    spending: np.ndarray

    @classmethod
    def zeros(cls, n: int) -> PlaceState:
        """All attributes zero, except multipliers that start at one."""
        state = cls(**{f.name: np.zeros(n) for f in fields(cls)})
        state.renewal_factor.fill(1.0)
        state.employment.fill(1.0)
        state.quality.fill(1.0)
        return state


@dataclass
class LocalState:
    """Public finance of the local governments, one float64 array per attribute.

    Flows are yuan/year, stocks yuan. The accounts close (:mod:`urbsim.dynamics.finance`)::

        revenue + transfers + land_revenue + borrowing + arrears + reserves (before)
            = compensation + service_budget + other_spending + renewal_cost + governance_cost
              + debt_service
              + infrastructure + service_investment + programme_bonds + repayment
              + reserves (after)

    Attributes
    ----------
    revenue, transfers : yuan/year
        Local (tax) revenue and central transfers: the general budget.
    land_revenue, compensation : yuan/year
        Gross land-transfer revenue and its part paid out as compensation and land development.
    service_budget, other_spending : yuan/year
        The general budget's spending on public services and on everything else.
    interest, debt_service : yuan/year
        Interest due, and interest plus amortization due.
    renewal_cost : yuan/year
        Local share of old-community renewal.
    governance_cost : yuan/year
        Local cost of governance efficiency above 1 (``policy.governance_cost``).
    arrears : yuan/year
        Obligations no budget could pay, rolled into the debt (0 unless debt service exceeds
        all income).
    fund : yuan/year
        Net land income and reserves left for investment after obligations.
    infrastructure, service_investment : yuan/year
        Investment in urban infrastructure for new residents and in service capacity.
    programme_bonds : yuan/year
        Special bonds issued for the county-town programme (spent on it; part of borrowing).
    borrowing, repayment : yuan/year
        New debt (programme bonds included), and debt repaid early from a fund surplus.
    debt, debt_ceiling, reserves : yuan
        Outstanding debt at the end of the year, the ceiling on it, unspent fund.
    quota_left : persons
        Persons that may still settle under the points scheme this year.
    openness : score in [-1, 1]
        How much the government wants more residents (:mod:`urbsim.dynamics.local_policy`).
    mean_wage : yuan/year
        Mean urban wage of its places when it last decided (0 before the first decision).
    """

    revenue: np.ndarray
    transfers: np.ndarray
    land_revenue: np.ndarray
    compensation: np.ndarray
    service_budget: np.ndarray
    other_spending: np.ndarray
    interest: np.ndarray
    debt_service: np.ndarray
    renewal_cost: np.ndarray
    governance_cost: np.ndarray
    arrears: np.ndarray
    fund: np.ndarray
    infrastructure: np.ndarray
    service_investment: np.ndarray
    programme_bonds: np.ndarray
    borrowing: np.ndarray
    repayment: np.ndarray
    debt: np.ndarray
    debt_ceiling: np.ndarray
    reserves: np.ndarray
    quota_left: np.ndarray
    openness: np.ndarray
    mean_wage: np.ndarray

    @classmethod
    def zeros(cls, n: int) -> LocalState:
        """All zero."""
        return cls(**{f.name: np.zeros(n) for f in fields(cls)})


@dataclass(frozen=True)
class UnitAmounts:
    """Amounts (budgets, quantities) that addressed units give themselves, and the places each
    amount governs: a place is governed by the most specific entry that gives the field, so a
    province's amount is shared by its places that no prefecture or county-level entry of the
    same field governs.

    Attributes
    ----------
    unit : numpy.ndarray
        Per place: the index into ``amount`` that governs it, or -1 (the national rule holds).
    amount : numpy.ndarray
        Per governing entry: its amount (float64, the field's unit).
    """

    unit: np.ndarray
    amount: np.ndarray

    @classmethod
    def none(cls, n: int) -> UnitAmounts:
        """No addressed amount: the national rule holds at all ``n`` places."""
        return cls(np.full(n, -1, dtype=np.int64), np.zeros(0))

    @property
    def governed(self) -> np.ndarray:
        """Per place: whether an addressed unit's amount replaces the national rule there."""
        return self.unit >= 0

    def split(self, weight: np.ndarray) -> np.ndarray:
        """Each governed place's share of its unit's amount, in proportion to ``weight`` among
        the places the amount governs (0 where the weights of a unit sum to 0, and at places
        no amount governs)."""
        out = np.zeros(self.unit.shape[0])
        hit = self.governed
        if not hit.any():
            return out
        unit = self.unit[hit]
        w = np.asarray(weight, dtype=np.float64)[hit]
        total = np.bincount(unit, weights=w, minlength=self.amount.shape[0])[unit]
        out[hit] = np.divide(self.amount[unit] * w, total, out=np.zeros_like(w), where=total > 0)
        return out


@dataclass
class PolicyArrays:
    """The policy in force, expanded to one value per place where it varies by place."""

    rule: np.ndarray  # int64, settlement rule code per place
    min_years: np.ndarray  # int64, years of residence required per place
    quota_per_10k: np.ndarray  # float64, points quota per place's city (persons / 10k / year)
    permit_on: np.ndarray  # bool per place, residence permits issued
    permit_months: np.ndarray  # int64 per place, residence (months) a permit requires
    # float64 (places, years): permit access by completed years at each place (capped below a
    # hukou's; each row padded with its last value to the longest schedule in force)
    access: np.ndarray
    surrender: np.ndarray  # int64 per place, 1 where settling requires giving up land rights
    hukou_benefit: np.ndarray  # float64 per place, utils of hukou-only benefits per household
    hukou_benefit_child: np.ndarray  # float64 per place, utils of hukou-only schooling per child
    funding_permanent: bool
    efficiency: np.ndarray  # float64 per place, service delivered per unit of service budget
    pole: np.ndarray  # bool per place
    # Population caps (policy.places[].population_cap), per place; no cap: 0, 0, 0, 1.
    cap_pressure: np.ndarray  # float64, enforcement of the cap in [0, 1]
    housing_supply_cut: np.ndarray  # float64, share of the year's new housing supply withheld
    demolition: np.ndarray  # float64, share of the housing stock demolished this year (1/year)
    school_access: np.ndarray  # float64, factor on school access of non-hukou children
    # County-town pilots named by place (policy.places[].county_town_pilot), per place:
    # 1 named a pilot, 0 excluded, NaN chosen by priority.
    pilot: np.ndarray
    # Programmes of addressed units (policy.places[].county_town_budget, .renewal_households):
    # the amount of each unit (billion yuan/year; households/year) and the places it governs.
    county_town_budget: UnitAmounts
    renewal_households: UnitAmounts
    # bool per place: its government relaxed the central settlement rule this year (fewer
    # years or a larger quota: urbsim.dynamics.local_policy); False as the timeline sets it.
    relaxed: np.ndarray
