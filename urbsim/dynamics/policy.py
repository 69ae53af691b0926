"""The policy in force, expanded to places, and the choice of the county-town pilots.

:class:`urbsim.governments.CentralGovernment` calls these each year; they read only their
arguments, so they can be tested on a few hand-made places.
"""

from __future__ import annotations

import numpy as np

from urbsim.kernels.layout import RULE_CODES
from urbsim.places import COUNTY_TOWN
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


def expand_policy(
    policy: Policy, size_class: np.ndarray, kind: np.ndarray, is_capital: np.ndarray
) -> PolicyArrays:
    """Per-place arrays of a :class:`Policy`, given each place's current size class."""
    rules = [getattr(policy.settlement, key) for key in SETTLEMENT_KEYS]
    row = settlement_class(size_class, kind)
    rule_code = np.array([RULE_CODES[r.rule] for r in rules], dtype=np.int64)
    years = np.array([r.min_years for r in rules], dtype=np.int64)
    quota = np.array([r.quota_per_10k for r in rules], dtype=np.float64)
    return PolicyArrays(
        rule=rule_code[row],
        min_years=years[row],
        quota_per_10k=quota[row],
        permit_on=policy.permit.enabled,
        permit_months=policy.permit.min_residence_months,
        access=np.asarray(policy.permit.access, dtype=np.float64),
        funding_permanent=policy.service_funding_base == "permanent",
        efficiency=policy.governance_efficiency,
        pole=growth_poles(policy.growth_poles.rule, size_class, kind, is_capital),
    )


def select_pilots(
    ct: CountyTown, region: np.ndarray, kind: np.ndarray, urban_residents: np.ndarray
) -> np.ndarray:
    """County towns funded by the county-town programme: the ``ct.pilot_counties`` with the
    highest priority weight times urban residents, ties broken by place index (sorted place
    indices)."""
    weight = np.asarray(ct.priority.as_tuple())[region] * urban_residents
    eligible = np.flatnonzero((kind != _DISTRICT) & (weight > 0))
    order = eligible[np.lexsort((eligible, -weight[eligible]))]
    return np.sort(order[: ct.pilot_counties])
