"""Governments: the central government applies the policy timeline; local governments (one per
prefecture) set settlement rules, run budgets, borrow and invest.

As with places, state lives in arrays (:class:`LocalState`, :class:`PolicyArrays`) and the Mesa
agents are thin views, so the yearly work is vectorized.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

import mesa
import numpy as np

from urbsim.scenario.schema import Policy

if TYPE_CHECKING:
    from urbsim.model import UrbanizationModel


@dataclass
class PolicyArrays:
    """The policy in force, expanded to one value per place where it varies by place."""

    rule: np.ndarray  # int64, settlement rule code per place
    min_years: np.ndarray  # int64, years of residence required per place
    quota_per_10k: np.ndarray  # float64, points quota per place's city (persons / 10k / year)
    permit_on: bool
    permit_months: int
    access: np.ndarray  # float64, permit access by completed years
    funding_permanent: bool
    efficiency: float
    pole: np.ndarray  # bool per place


@dataclass
class LocalState:
    """Public finance of the local governments, one float64 array per attribute (yuan/year
    unless said otherwise)."""

    revenue: np.ndarray
    transfers: np.ndarray
    service_budget: np.ndarray
    borrowing: np.ndarray
    debt: np.ndarray  # yuan
    interest: np.ndarray
    renewal_cost: np.ndarray
    quota_left: np.ndarray  # persons that may still settle under the points scheme this year

    @classmethod
    def zeros(cls, n: int) -> LocalState:
        """All zero."""
        return cls(**{f.name: np.zeros(n) for f in fields(cls)})


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
        # Imported here: urbsim.dynamics.policy builds this module's PolicyArrays.
        from urbsim.dynamics.policy import expand_policy

        model = self.model
        self.policy = model.loaded.policy(year)
        table = model.place_table
        model.policy_arrays = expand_policy(
            self.policy, model.size_class, table.kind, table.is_capital
        )

    def select_pilots(self) -> np.ndarray:
        """County towns funded by the county-town programme
        (:func:`urbsim.dynamics.policy.select_pilots`)."""
        from urbsim.dynamics.policy import select_pilots

        table = self.model.place_table
        return select_pilots(
            self.policy.county_town,
            table.region,
            table.kind,
            self.model.place_state.urban_residents,
        )
