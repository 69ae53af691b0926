"""Age-specific fertility, mortality and leaving home, and their yearly alignment.

The schedules are built from the scenario's :class:`urbsim.scenario.schema.Demography`:

* **Fertility** (births per woman per year, ages 15-49): a gamma density of the given mean and
  standard deviation, evaluated at mid-year ages and normalized to sum to one, times the
  zone's total fertility (2010 census, urban and rural).
* **Mortality** (probability of dying within the year): the infant rate at age 0; at ages
  1 and over Gompertz-Makeham hazards ``A + B exp(c x)``, integrated over the year of age, with
  ``B`` solved by bisection so that life expectancy at birth equals the scenario's. The
  rural/urban ratio splits it between the zones around the 2010 urban share, so that the
  population-weighted hazard is the base schedule's. Everyone of :data:`layout.MAX_AGE` dies.
* **Leaving home**: zero below the leaving age, the leaving rate from it, one at age 31 (the
  oldest a resident child can be).

Each year the model scales fertility and mortality so that the expected births and deaths of
the households at the start of the year (:func:`urbsim.kernels.demography.expected_events`)
are the scenario's crude rates times the persons (:func:`alignment_scale`); after the last
year of a series the last scale is kept (a series that ends before the first year simulated
aligns that year to its last value: ``{2010 = 0.0}`` switches births or deaths off).
"""

from __future__ import annotations

import math
from typing import Final, NamedTuple

import numpy as np

from urbsim.kernels import layout as L
from urbsim.scenario.schema import Demography

#: Urban share of residents at the 2010 census (1 November), the weight that splits the
#: mortality schedule between the zones.
URBAN_SHARE_2010: Final[float] = 0.4968
#: Ages of childbearing.
FERTILE_FIRST: Final[int] = 15
FERTILE_LAST: Final[int] = 49
_AGES = np.arange(L.MAX_AGE + 1)


class VitalRates(NamedTuple):
    """A year's schedules as the household engines read them.

    Attributes
    ----------
    fertility : numpy.ndarray
        ``(2, MAX_AGE + 1)`` births per woman in the year, by zone (0 rural, 1 urban) and the
        head's age, before the place's regional multiplier.
    mortality : numpy.ndarray
        ``(2, MAX_AGE + 1)`` probability of dying in the year, by zone and age.
    leaving : numpy.ndarray
        ``(KID_AGES,)`` probability that a resident child of each age leaves home in the year.
    """

    fertility: np.ndarray
    mortality: np.ndarray
    leaving: np.ndarray


def fertility_shape(mean_age: float, sd_age: float) -> np.ndarray:
    """Share of lifetime births at each age (sums to one over 15-49, zero elsewhere): a gamma
    density with the given mean and standard deviation at mid-year ages ``x + 0.5``."""
    shape = (mean_age / sd_age) ** 2
    scale = sd_age**2 / mean_age
    x = _AGES + 0.5
    fertile = (_AGES >= FERTILE_FIRST) & (_AGES <= FERTILE_LAST)
    log_density = (shape - 1.0) * np.log(x) - x / scale
    out = np.where(fertile, np.exp(log_density - log_density[fertile].max()), 0.0)
    return out / out.sum()


def gompertz_makeham_q(makeham: float, level: float, slope: float, infant: float) -> np.ndarray:
    """Probability of dying within each year of age: ``infant`` at 0, then one minus the
    survival of the hazard ``makeham + level * exp(slope * x)`` over ``[x, x + 1)``; one at
    :data:`layout.MAX_AGE`."""
    x = _AGES.astype(np.float64)
    cumulative = makeham + level * np.exp(slope * x) * (math.exp(slope) - 1.0) / slope
    q = 1.0 - np.exp(-cumulative)
    q[0] = infant
    q[-1] = 1.0
    return q


def life_expectancy(q: np.ndarray) -> float:
    """Life expectancy at birth of the probabilities ``q`` (deaths at mid-year of age)."""
    alive = np.concatenate(([1.0], np.cumprod(1.0 - q)[:-1]))
    return float((alive * (1.0 - 0.5 * q)).sum())


def base_mortality(dem: Demography) -> np.ndarray:
    """Yearly probability of dying by age (national), with the Gompertz level solved (by
    bisection in its logarithm) so that life expectancy at birth is ``dem.life_expectancy``."""
    lo, hi = math.log(1e-9), math.log(1.0)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        q = gompertz_makeham_q(dem.makeham, math.exp(mid), dem.gompertz_slope, dem.infant_mortality)
        # Life expectancy falls as the level rises.
        if life_expectancy(q) > dem.life_expectancy:
            lo = mid
        else:
            hi = mid
    return gompertz_makeham_q(
        dem.makeham, math.exp(0.5 * (lo + hi)), dem.gompertz_slope, dem.infant_mortality
    )


def base_schedules(dem: Demography) -> VitalRates:
    """The schedules before alignment (scale one), by zone; all zero for births and deaths
    when ``dem.births_and_deaths`` is off."""
    shape = fertility_shape(dem.fertility_mean_age, dem.fertility_sd_age)
    fertility = np.stack([dem.tfr_rural * shape, dem.tfr_urban * shape])
    q = base_mortality(dem)
    urban = 1.0 / (URBAN_SHARE_2010 + (1.0 - URBAN_SHARE_2010) * dem.mortality_rural_ratio)
    mortality = np.stack([np.minimum(q * urban * dem.mortality_rural_ratio, 1.0), q * urban])
    mortality = np.minimum(mortality, 1.0)
    mortality[:, -1] = 1.0
    if not dem.births_and_deaths:
        fertility = np.zeros_like(fertility)
        mortality = np.zeros_like(mortality)
    leaving = np.where(np.arange(L.KID_AGES) >= dem.leave_home_age, dem.leave_home_rate, 0.0)
    leaving[-1] = 1.0
    return VitalRates(fertility, mortality, leaving)


def target_rate(series: dict[str, float], year: int, aligned: bool) -> float | None:
    """The crude rate (per person) of ``year``, linear between the years given, or ``None``
    after the last year once some year has been ``aligned`` (its factors are then kept). A
    series that ends before the first year simulated aligns that year to its last value."""
    years = sorted(int(k) for k in series)
    if aligned and year > years[-1]:
        return None
    return float(np.interp(year, years, [series[str(y)] for y in years])) / 1000.0


def alignment_scale(
    target: float | None, expected: float, persons: float, last: float | None
) -> float:
    """Factor on a schedule so that ``expected`` events become ``target * persons``; ``last``
    when there is no target or nothing at risk (1 before any alignment)."""
    if target is None or expected <= 0.0:
        return 1.0 if last is None else last
    return target * persons / expected


def scaled(base: VitalRates, birth_scale: float, death_scale: float) -> VitalRates:
    """The year's schedules: fertility and mortality times their factors, probabilities capped
    at one (at the oldest age, one unless mortality is scaled below its base; heads stay at
    that age)."""
    fertility = np.minimum(base.fertility * birth_scale, 1.0)
    mortality = np.minimum(base.mortality * death_scale, 1.0)
    return VitalRates(fertility, mortality, base.leaving)
