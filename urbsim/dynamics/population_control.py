"""Population caps of the largest cities, turned into per-place enforcement each year.

Beijing's 2016-2035 master plan (approved 2017) caps its residents at 23 million from 2020 and
Shanghai's 2017-2035 plan at 25 million by 2035. A cap (:class:`PopulationCap`) acts on the
residents of the unit it addresses (all places of a province-level municipality, a prefecture or
one county-level place) through the channels the cities used: less land for new housing and the
demolition of unlicensed buildings, school admission of non-hukou children, and smaller points
quotas. Enforcement is a pressure in [0, 1] that rises linearly from ``trigger`` times the cap to
the cap, read from the residents counted at the start of the year, so it tightens as the city
approaches its ceiling and relaxes if it falls back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from urbsim.scenario.places import ResolvedPlace
from urbsim.scenario.schema import PopulationCap


def cap_pressure(cap: PopulationCap, residents: float) -> float:
    """Enforcement of a cap given the unit's residents: 0 below ``trigger * cap``, 1 at the cap
    and above, linear in between."""
    share = residents / cap.residents
    return float(np.clip((share - cap.trigger) / (1.0 - cap.trigger), 0.0, 1.0))


@dataclass(frozen=True)
class CapArrays:
    """Per-place effect of the caps in force (places under no cap: 0, 0, 0, 1, 1)."""

    pressure: np.ndarray  # enforcement in [0, 1]
    housing_supply_cut: np.ndarray  # share of new housing supply withheld
    demolition: np.ndarray  # share of housing stock demolished (1/year)
    school_access: np.ndarray  # factor on non-hukou children's school access
    quota_factor: np.ndarray  # factor on the points quota


def cap_arrays(
    resolved: Sequence[ResolvedPlace], residents: np.ndarray | None, n: int
) -> CapArrays:
    """The caps of ``resolved`` entries as per-place arrays.

    A cap is measured on the residents of the whole unit it addresses and applied to each of its
    places; where caps overlap the most specific address wins (as for every place field).

    Parameters
    ----------
    resolved
        Entries of ``policy.places`` with their places (:func:`resolve_places`).
    residents
        Residents per place (persons) at the start of the year; required if any cap is in force.
    n
        Number of places.
    """
    pressure = np.zeros(n)
    housing_cut = np.zeros(n)
    demolition = np.zeros(n)
    school = np.ones(n)
    quota = np.ones(n)
    # Least specific first, so a more specific cap overwrites its places.
    for r in resolved:
        cap = r.entry.population_cap
        if cap is None:
            continue
        if residents is None:
            raise ValueError("a population cap is in force: residents per place are needed")
        p = cap_pressure(cap, float(residents[r.places].sum()))
        pressure[r.places] = p
        housing_cut[r.places] = cap.housing_supply_cut * p
        demolition[r.places] = cap.demolition * p
        school[r.places] = 1.0 - (1.0 - cap.school_access) * p
        quota[r.places] = 1.0 - cap.quota_cut * p
    return CapArrays(pressure, housing_cut, demolition, school, quota)
