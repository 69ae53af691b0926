"""Labour market of the places: wages, jobs and the employment rate.

Shared by both household engines (the place values they decide on come from here); tested
directly in ``tests/dynamics``.
"""

from __future__ import annotations

import numpy as np

from urbsim.places import distances_km
from urbsim.scenario.schema import Economy
from urbsim.state import PlaceState

#: Urban residents of the place whose wage is ``economy.wage_2010`` (the reference size).
_REFERENCE_SIZE = 1e6


def pole_spillover(
    lat: np.ndarray, lon: np.ndarray, pole: np.ndarray, strength: float, radius_km: float
) -> np.ndarray:
    """Wage multiplier from the nearest growth pole: 1 + strength * (1 - d / radius), d < radius.

    Places that are themselves poles get no spillover (they get the pole boost instead).
    """
    out = np.ones(lat.shape[0])
    idx = np.flatnonzero(pole)
    if idx.size == 0 or strength == 0.0:
        return out
    d = distances_km(lat, lon, lat[idx], lon[idx]).min(axis=1)
    gain = strength * np.clip(1.0 - d / radius_km, 0.0, None)
    return np.where(pole, 1.0, 1.0 + gain)


def place_wages(
    urban: np.ndarray,
    region: np.ndarray,
    pole: np.ndarray,
    spillover: np.ndarray,
    eco: Economy,
    pole_boost: float,
    wage_index: float,
) -> np.ndarray:
    """Urban wage of each place (yuan/year).

    ``wage_2010`` of the place's region times the wage index, times urban residents (floored at
    ``economy.wage_floor_residents``) in millions to the agglomeration elasticity, times the
    pole boost in pole places and the spillover multiplier elsewhere.
    """
    base = np.asarray(eco.wage_2010.as_tuple())[region]
    size = np.maximum(urban, eco.wage_floor_residents) / _REFERENCE_SIZE
    wage = base * wage_index * size**eco.agglomeration_elasticity
    wage = wage * np.where(pole, 1.0 + pole_boost, 1.0)
    return wage * spillover


def employment_rate(
    jobs: np.ndarray, labour: np.ndarray, natural_unemployment: float
) -> np.ndarray:
    """Probability that an urban worker has a job: jobs over labour force, at most 1
    (``1 - natural_unemployment`` where there is no labour force)."""
    return np.where(
        labour > 0,
        np.minimum(1.0, jobs / np.maximum(labour, 1.0)),
        1.0 - natural_unemployment,
    )


def update_jobs(ps: PlaceState, eco: Economy, first: bool) -> None:
    """Jobs move towards the labour force at natural unemployment plus programme jobs (set to
    it in the first year, a share ``job_adjustment`` of the gap closed after); employment
    follows."""
    labour = eco.workers_per_person * ps.urban_residents
    target = labour * (1.0 - eco.natural_unemployment) + ps.programme_jobs
    if first:
        ps.jobs[:] = target
    else:
        ps.jobs += eco.job_adjustment * (target - ps.jobs)
    ps.employment[:] = employment_rate(ps.jobs, labour, eco.natural_unemployment)
