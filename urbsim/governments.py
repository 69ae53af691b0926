"""Governments: the central government applies the policy timeline; local governments (one per
prefecture) set settlement rules, run budgets, borrow and invest.

As with places, state lives in arrays (:class:`LocalState`, :class:`PolicyArrays`) and the Mesa
agents are thin views, so the yearly work is vectorized.
"""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING

import mesa
import numpy as np

from urbsim.kernels.layout import RULE_CODES
from urbsim.places import COUNTY_TOWN
from urbsim.scenario.schema import SETTLEMENT_KEYS, Policy
from urbsim.state import LocalState, PolicyArrays

if TYPE_CHECKING:
    from urbsim.model import UrbanizationModel

_DISTRICT = 0
#: Capital stock created by the county-town programme wears out at this rate.
PROGRAMME_DEPRECIATION = 0.10
#: Share of local debt repaid each year (besides interest).
AMORTIZATION = 0.10


def settlement_class(size_class: np.ndarray, kind: np.ndarray) -> np.ndarray:
    """Row of the settlement table for each place: its city's size class, or county town."""
    return np.where(kind == _DISTRICT, size_class, COUNTY_TOWN).astype(np.int64)


def expand_policy(
    policy: Policy, size_class: np.ndarray, kind: np.ndarray, is_capital: np.ndarray
) -> PolicyArrays:
    """Per-place arrays of a :class:`Policy`, given each place's current size class."""
    rules = [getattr(policy.settlement, key) for key in SETTLEMENT_KEYS]
    row = settlement_class(size_class, kind)
    rule_code = np.array([RULE_CODES[r.rule] for r in rules], dtype=np.int64)
    years = np.array([r.min_years for r in rules], dtype=np.int64)
    quota = np.array([r.quota_per_10k for r in rules], dtype=np.float64)
    poles = policy.growth_poles.rule
    district = kind == _DISTRICT
    super_mega = size_class <= 1  # super-large (0) or mega (1)
    if poles == "none":
        pole = np.zeros(kind.shape[0], dtype=np.bool_)
    elif poles == "capitals":
        pole = district & is_capital
    elif poles == "super_mega":
        pole = district & super_mega
    else:
        pole = district & (is_capital | super_mega)
    return PolicyArrays(
        rule=rule_code[row],
        min_years=years[row],
        quota_per_10k=quota[row],
        permit_on=policy.permit.enabled,
        permit_months=policy.permit.min_residence_months,
        access=np.asarray(policy.permit.access, dtype=np.float64),
        funding_permanent=policy.service_funding_base == "permanent",
        efficiency=policy.governance_efficiency,
        pole=pole,
    )


def _gov_property(name: str) -> property:
    def get(self: LocalGovernment) -> float:
        return float(getattr(self.model.local_state, name)[self.gov_id])

    return property(get, doc=f"{name} of this local government (see LocalState)")


class LocalGovernment(mesa.Agent):
    """Government of one prefecture-level city; attributes are views into the model's arrays."""

    model: UrbanizationModel

    def __init__(self, model: UrbanizationModel, gov_id: int, prefecture_code: int) -> None:
        super().__init__(model)
        self.gov_id = int(gov_id)
        self.prefecture_code = int(prefecture_code)

    @property
    def places(self) -> mesa.agent.AgentSet:
        """The places this government runs."""
        return self.model.places.select(
            lambda p: self.model.gov_of_place[p.place_id] == self.gov_id
        )

    def __repr__(self) -> str:
        return f"LocalGovernment({self.prefecture_code})"


for _f in fields(LocalState):
    setattr(LocalGovernment, _f.name, _gov_property(_f.name))


class CentralGovernment(mesa.Agent):
    """The central government: applies the policy timeline and funds national programmes."""

    model: UrbanizationModel

    def __init__(self, model: UrbanizationModel) -> None:
        super().__init__(model)
        self.policy: Policy = model.loaded.policy(model.start_year)
        self.programme_spending = 0.0
        self.renewal_subsidy = 0.0
        self.pilots: np.ndarray = np.zeros(0, dtype=np.int64)

    def apply_policy(self, year: int) -> None:
        """Put the policy in force in ``year`` and expand it to the places."""
        model = self.model
        self.policy = model.loaded.policy(year)
        table = model.place_table
        model.policy_arrays = expand_policy(
            self.policy, model.size_class, table.kind, table.is_capital
        )

    def select_pilots(self) -> np.ndarray:
        """County towns funded by the county-town programme: the highest priority weight times
        urban residents, ties broken by place index."""
        ct = self.policy.county_town
        table = self.model.place_table
        weight = np.asarray(ct.priority.as_tuple())[table.region] * (
            self.model.place_state.urban_residents
        )
        eligible = np.flatnonzero((table.kind != _DISTRICT) & (weight > 0))
        order = eligible[np.lexsort((eligible, -weight[eligible]))]
        return np.sort(order[: ct.pilot_counties])
