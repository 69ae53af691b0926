"""The policy in force, expanded to places, and the choice of the county-town pilots.

:class:`urbsim.governments.CentralGovernment` calls these each year; they read only their
arguments, so they can be tested on a few hand-made places.
"""

from __future__ import annotations

import numpy as np

from urbsim.dynamics.permits import permit_arrays
from urbsim.dynamics.population_control import cap_arrays
from urbsim.kernels.layout import RULE_CODES
from urbsim.places import COUNTY_TOWN
from urbsim.scenario.places import (
    PlaceIndex,
    ResolvedPlace,
    place_values,
    resolve_places,
    unit_amounts,
)
from urbsim.scenario.schema import SETTLEMENT_KEYS, CountyTown, Policy
from urbsim.state import PolicyArrays
from urbsim.world.base import DISTRICT as _DISTRICT

#: Size classes whose urban districts are poles under the ``super_mega`` rules: super-large (0)
#: and mega (1), in the order of :data:`urbsim.world.SIZE_CLASSES`.
_SUPER_MEGA_MAX_CLASS = 1


def settlement_class(size_class: np.ndarray, kind: np.ndarray) -> np.ndarray:
    """Row of the settlement table for each place: its city's size class, or county town."""
    return np.where(kind == _DISTRICT, size_class, COUNTY_TOWN).astype(np.int64)


def growth_poles(
    rule: str, size_class: np.ndarray, kind: np.ndarray, is_capital: np.ndarray
) -> np.ndarray:
    """Which places are growth poles under ``policy.growth_poles.rule``: the urban districts
    of capital prefectures, of super-large and mega cities, or both (bool per place)."""
    district = kind == _DISTRICT
    super_mega = size_class <= _SUPER_MEGA_MAX_CLASS
    if rule == "none":
        return np.zeros(kind.shape[0], dtype=np.bool_)
    if rule == "capitals":
        return district & is_capital
    if rule == "super_mega":
        return district & super_mega
    return district & (is_capital | super_mega)


def land_surrender(rule: str, kind: np.ndarray) -> np.ndarray:
    """1 where settling requires giving up land rights under ``policy.land_surrender``: in
    urban districts (cities with districts) under ``districts``, everywhere under ``all``."""
    if rule == "none":
        return np.zeros(kind.shape[0], dtype=np.int64)
    if rule == "districts":
        return (kind == _DISTRICT).astype(np.int64)
    return np.ones(kind.shape[0], dtype=np.int64)


def expand_policy(
    policy: Policy,
    size_class: np.ndarray,
    kind: np.ndarray,
    is_capital: np.ndarray,
    index: PlaceIndex | None = None,
    residents: np.ndarray | None = None,
) -> PolicyArrays:
    """Per-place arrays of a :class:`Policy`, given each place's current size class.

    Settlement rules come from each place's size class, then from ``policy.places``: a
    province's entry overrides the size class, a prefecture's the province, a county-level
    place's the prefecture, field by field (:mod:`urbsim.scenario.places`); so do the permit
    rules (:mod:`urbsim.dynamics.permits`), the governance efficiency and the programme
    budgets of addressed units, over the national values. Population caps
    are measured on ``residents`` and scale the points quota down (the housing and school
    channels are the arrays ``housing_supply_cut``, ``demolition`` and ``school_access``).

    Parameters
    ----------
    policy
        The policy in force.
    size_class, kind, is_capital
        Per place: size class of its city this year, kind code, capital prefecture.
    index
        Codes of the places (:class:`PlaceIndex`); needed when ``policy.places`` is not empty.
    residents
        Residents per place (persons) at the start of the year; needed when a cap is in force.

    Raises
    ------
    ValueError
        If ``policy.places`` is not empty and ``index`` is missing.
    """
    n = size_class.shape[0]
    resolved = _resolve(policy, index)
    rules = [getattr(policy.settlement, key) for key in SETTLEMENT_KEYS]
    row = settlement_class(size_class, kind)
    rule_code = np.array([RULE_CODES[r.rule] for r in rules], dtype=np.int64)
    years = np.array([r.min_years for r in rules], dtype=np.int64)
    quota = np.array([r.quota_per_10k for r in rules], dtype=np.float64)

    def by_place(base: np.ndarray, field: str) -> np.ndarray:
        return place_values(base, resolved, lambda e: getattr(e.settlement, field))

    pole = growth_poles(policy.growth_poles.rule, size_class, kind, is_capital)
    pole = place_values(pole, resolved, lambda e: e.growth_pole) & (kind == _DISTRICT)
    caps = cap_arrays(resolved, residents, n)
    # A permit never gives what a local hukou gives: every schedule is capped.
    permits = permit_arrays(policy.permit, resolved, n)
    benefits = policy.hukou_benefits
    per_household = np.add(benefits.home_purchase.as_tuple(), benefits.social_insurance.as_tuple())
    return PolicyArrays(
        rule=_rule_codes(rule_code[row], resolved),
        min_years=by_place(years[row], "min_years"),
        quota_per_10k=by_place(quota[row], "quota_per_10k") * caps.quota_factor,
        permit_on=permits.enabled,
        permit_months=permits.months,
        access=permits.access,
        surrender=land_surrender(policy.land_surrender, kind),
        hukou_benefit=per_household[row],
        hukou_benefit_child=np.asarray(benefits.schooling.as_tuple(), dtype=np.float64)[row],
        funding_permanent=policy.service_funding_base == "permanent",
        efficiency=place_values(
            np.full(n, policy.governance_efficiency), resolved, lambda e: e.governance_efficiency
        ),
        pole=pole,
        cap_pressure=caps.pressure,
        housing_supply_cut=caps.housing_supply_cut,
        demolition=caps.demolition,
        school_access=caps.school_access,
        pilot=place_values(np.full(n, np.nan), resolved, lambda e: e.county_town_pilot),
        county_town_budget=unit_amounts(n, resolved, lambda e: e.county_town_budget),
        renewal_households=unit_amounts(n, resolved, lambda e: e.renewal_households),
        relaxed=np.zeros(n, dtype=np.bool_),
    )


def _resolve(policy: Policy, index: PlaceIndex | None) -> list[ResolvedPlace]:
    """The policy's place entries with their places, or a ValueError saying what is missing."""
    if not policy.places:
        return []
    if index is None:
        raise ValueError("policy.places addresses places: expand_policy needs the place index")
    return resolve_places(policy.places, index)


def _rule_codes(by_class: np.ndarray, resolved: list[ResolvedPlace]) -> np.ndarray:
    """Rule codes per place: the size-class codes, overridden by the addressed rules."""
    out = by_class.copy()
    for r in resolved:
        if r.entry.settlement.rule is not None:
            out[r.places] = RULE_CODES[r.entry.settlement.rule]
    return out


def select_pilots(
    ct: CountyTown,
    region: np.ndarray,
    kind: np.ndarray,
    urban_residents: np.ndarray,
    named: np.ndarray | None = None,
) -> np.ndarray:
    """County towns funded by the county-town programme: the ``ct.pilot_counties`` with the
    highest priority weight times urban residents, ties broken by place index (sorted place
    indices).

    ``named`` (per place, from ``policy.places[].county_town_pilot``: 1 named, 0 excluded,
    NaN by priority) puts the named county towns first, all of them even beyond
    ``pilot_counties``, and keeps the excluded ones out; the other slots go by priority.
    """
    weight = np.asarray(ct.priority.as_tuple())[region] * urban_residents
    county = kind != _DISTRICT
    if named is None:
        named = np.full(kind.shape[0], np.nan)
    forced = np.flatnonzero(county & (named == 1.0))
    eligible = np.flatnonzero(county & (weight > 0) & np.isnan(named))
    order = eligible[np.lexsort((eligible, -weight[eligible]))]
    return np.sort(np.concatenate([forced, order[: max(ct.pilot_counties - forced.size, 0)]]))
