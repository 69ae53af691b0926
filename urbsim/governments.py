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

from urbsim.dynamics.policy import expand_policy, select_pilots
from urbsim.scenario.schema import Policy
from urbsim.state import LocalState

if TYPE_CHECKING:
    from urbsim.model import UrbanizationModel


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
            self.policy,
            model.size_class,
            table.kind,
            table.is_capital,
            model.place_index,
            model.place_state.residents,
        )

    def select_pilots(self) -> np.ndarray:
        """County towns funded by the county-town programme
        (:func:`urbsim.dynamics.policy.select_pilots`)."""
        table = self.model.place_table
        return select_pilots(
            self.policy.county_town,
            table.region,
            table.kind,
            self.model.place_state.urban_residents,
            self.model.policy_arrays.pilot,
        )
