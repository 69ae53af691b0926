"""Labour market of the places: productivity, labour demand, wages, jobs and employment.

Shared by both household engines (the place values they decide on come from here); tested
directly in ``tests/dynamics``. The rule of a year, per place (``L`` labour force, ``u``
natural unemployment, ``eta`` the labour demand elasticity):

1. productivity ``A`` (:func:`productivity`): the region's 2010 wage times the national wage
   index, the region's demand path (:func:`regional_demand_index`), urban size to the
   agglomeration elasticity, the growth-pole boost or spillover;
2. job base ``K`` (:func:`update_job_base`): jobs firms offer at wage ``A``; it moves a share
   ``job_adjustment`` of the way to ``L (1 - u)`` plus programme jobs each year (firms follow
   workers with a lag);
3. wage (:func:`adjust_wages`): the market-clearing wage ``w* = A (K / (L (1 - u)))**(1/eta)``
   makes demand ``K (A / w)**eta`` equal the labour force at natural unemployment; the wage,
   indexed to national wage growth, closes a share ``wage_adjustment`` of its log gap to ``w*``.
   More workers than jobs lower the wage; a fall in demand lowers it slowly;
4. filled jobs and employment (:func:`filled_jobs`): the short side of demand at that wage and
   ``L (1 - u)``, so unemployment exceeds its natural rate where the wage stays above ``w*``.
"""

from __future__ import annotations

import numpy as np

from urbsim.dynamics.series import interpolate
from urbsim.places import distances_km
from urbsim.scenario.schema import Economy
from urbsim.state import PlaceState

#: Urban residents of the place whose wage is ``economy.wage_2010`` (the reference size).
_REFERENCE_SIZE = 1e6
#: Bounds of the job base over the labour supply in the clearing wage: a place of a few agents
#: can see its labour force double or vanish in a year, which is no labour market, and the
#: power 1/eta would turn that into a wage of a tenth or ten times its productivity.
_RATIO_BOUNDS = (0.5, 2.0)


def regional_demand_index(
    eco: Economy, weights: np.ndarray, start_year: int, year: int
) -> np.ndarray:
    """Each region's output relative to the regions' weighted mean, cumulated from the start
    year to ``year`` (1 in the start year), in the order of :data:`urbsim.world.REGIONS`.

    Parameters
    ----------
    eco
        The economy (``eco.labour.regional_growth``: real growth by region and year).
    weights
        Weight of each region in the mean (urban residents of the start year).
    start_year, year
        The index is 1 in ``start_year`` and grows by each later year's relative growth.
    """
    series = eco.labour.regional_growth.as_tuple()
    w = np.asarray(weights, dtype=np.float64)
    w = w / w.sum() if w.sum() > 0 else np.full(len(series), 1.0 / len(series))
    index = np.ones(len(series))
    for y in range(start_year + 1, year + 1):
        growth = np.array([interpolate(s, y) for s in series])
        index *= (1.0 + growth) / (1.0 + float(w @ growth))
    return index


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


def productivity(
    urban: np.ndarray,
    region: np.ndarray,
    pole: np.ndarray,
    spillover: np.ndarray,
    eco: Economy,
    pole_boost: float,
    wage_index: float,
    demand: np.ndarray,
) -> np.ndarray:
    """Productivity wage of each place (yuan/year): :func:`place_wages` times the region's
    demand index (``demand``, by region) to ``labour.regional_demand_elasticity``."""
    wage = place_wages(urban, region, pole, spillover, eco, pole_boost, wage_index)
    return wage * demand[region] ** eco.labour.regional_demand_elasticity


def update_job_base(ps: PlaceState, eco: Economy, first: bool) -> None:
    """The labour force from urban residents, then the job base: the labour force at natural
    unemployment plus programme jobs in the first year, a share ``job_adjustment`` of the gap
    to it closed after."""
    ps.labour_force[:] = eco.workers_per_person * ps.urban_residents
    target = ps.labour_force * (1.0 - eco.natural_unemployment) + ps.programme_jobs
    if first:
        ps.job_base[:] = target
    else:
        ps.job_base += eco.job_adjustment * (target - ps.job_base)


def clearing_wage(
    productivity: np.ndarray, job_base: np.ndarray, supply: np.ndarray, elasticity: float
) -> np.ndarray:
    """Wage at which labour demand ``job_base * (productivity / w) ** elasticity`` equals
    ``supply`` (the labour force at natural unemployment); the productivity wage where either
    is zero (an empty place pays what its firms would). The ratio of job base to supply is
    bounded to [0.5, 2] (``_RATIO_BOUNDS``)."""
    ok = (supply > 0) & (job_base > 0)
    ratio = np.divide(job_base, supply, out=np.ones(supply.shape[0]), where=ok)
    return productivity * np.clip(ratio, *_RATIO_BOUNDS) ** (1.0 / elasticity)


def adjust_wages(
    wage: np.ndarray, target: np.ndarray, index_growth: float, speed: float
) -> np.ndarray:
    """Last year's wage indexed to national wage growth, moved ``speed`` of the log gap to the
    clearing wage: ``w**(1-speed) * target**speed`` with ``w`` the indexed wage."""
    indexed = wage * index_growth
    return indexed ** (1.0 - speed) * target**speed


def filled_jobs(
    job_base: np.ndarray,
    productivity: np.ndarray,
    wage: np.ndarray,
    supply: np.ndarray,
    elasticity: float,
) -> np.ndarray:
    """Jobs filled at the wage: the short side of labour demand ``job_base * (productivity /
    wage) ** elasticity`` and the labour force at natural unemployment ``supply``."""
    demand = job_base * (productivity / wage) ** elasticity
    return np.minimum(demand, supply)


def employment_rate(
    jobs: np.ndarray, labour: np.ndarray, natural_unemployment: float
) -> np.ndarray:
    """Probability that an urban worker has a job: filled jobs over the labour force, at most
    1 (``1 - natural_unemployment`` where there is no labour force)."""
    return np.where(
        labour > 0,
        np.minimum(1.0, jobs / np.maximum(labour, 1.0)),
        1.0 - natural_unemployment,
    )


def update_labour(
    ps: PlaceState, eco: Economy, productivity_wage: np.ndarray, index_growth: float, first: bool
) -> None:
    """The year's labour market (module docstring): job base, wage, filled jobs, employment.

    Parameters
    ----------
    ps
        Place state; ``urban_residents`` and ``programme_jobs`` are read, ``productivity``,
        ``labour_force``, ``job_base``, ``wage``, ``jobs`` and ``employment`` written.
    productivity_wage
        :func:`productivity` of the year.
    index_growth
        National wage index of the year over last year's (1 in the first year).
    first
        The first year: the wage is the clearing wage.
    """
    lm = eco.labour
    ps.productivity[:] = productivity_wage
    update_job_base(ps, eco, first)
    supply = ps.labour_force * (1.0 - eco.natural_unemployment)
    target = clearing_wage(productivity_wage, ps.job_base, supply, lm.demand_elasticity)
    if first:
        ps.wage[:] = target
    else:
        ps.wage[:] = adjust_wages(ps.wage, target, index_growth, lm.wage_adjustment)
    # Programme jobs are taken up beyond natural unemployment, up to the whole labour force.
    takers = np.minimum(supply + ps.programme_jobs, ps.labour_force)
    ps.jobs[:] = filled_jobs(ps.job_base, productivity_wage, ps.wage, takers, lm.demand_elasticity)
    ps.employment[:] = employment_rate(ps.jobs, ps.labour_force, eco.natural_unemployment)
