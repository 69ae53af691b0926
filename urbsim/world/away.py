"""Where a household's family is in the first year: years away from the hukou place and school-age
children left behind there (the household fields ``years_away`` and ``left_behind``).

Both worlds (the census world and the synthetic one) apply the same rule, with two uniforms per
household drawn after every other household field (the synthetic world's generator) or keyed
(the census world), so that adding them changed no other field:

* **Years away.** The completed years since a floating household (living away from its hukou
  place) left it are those of a stock of migrants whose yearly inflow grew at a steady rate
  and who returned home at a steady hazard: geometric with ``1 - p`` = (1 - hazard) / (1 +
  growth), :data:`P_YEARS_AWAY`. The growth is that of the population away from its hukou
  township between the 2000 and 2010 censuses (:data:`AWAY_GROWTH`), the hazard the return
  rate of the rural migrants of 1998-2015 (:data:`AWAY_RETURN_HAZARD`, the ``return_rate``
  target's source). The worlds do not carry the census's time since leaving the hukou place
  per household, and the years at the current place cannot stand in for it: a migrant who
  moved on from an earlier destination has been away longer than at its place (those years,
  geometric with ``P_MIGRANT_YEARS``, put 18 % of the 2010 stock in its first year away, and
  a return burst in 2011 that no steady hazard gives). The two are joined comonotonically:
  the household's years here fix an interval of the uniform (its quantiles under
  ``P_MIGRANT_YEARS``), a second uniform places it within that interval, and the years away
  are the same quantile under ``P_YEARS_AWAY`` (so never fewer than the years here, the
  longest at their place the longest away). They end at the head's age less
  :data:`EARLIEST_LEAVING_AGE` (or at the years here, if those are more): without that end the
  comonotone join gives a capped ten years here at least 21 years away, and some young heads
  would have left at birth. A household at its hukou place has 0.
* **Children left behind.** A floating household with school-age children (6-14) has left them
  at its hukou place with the share of its hukou type, :data:`LEFT_BEHIND_SHARE_2010` (one
  uniform per household, drawn for every household so that the draws do not depend on the
  other fields). The children stay members of the household (its persons and ages); they do not
  use the schools where it lives (``docs/ODD.md``, "Return migration").
"""

from __future__ import annotations

from typing import Final

import numpy as np

from urbsim.world.base import MIGRANT_YEARS_CAP, P_MIGRANT_YEARS

#: Share of the school-age children of floating households left at the hukou place in 2010, by
#: hukou type (agricultural, non-agricultural). Agricultural: the All-China Women's Federation's
#: 2013 report on left-behind and migrant children (2010 census sample) counts 61.0 million rural
#: left-behind children and 28.8 million migrant children with agricultural hukou, 61.0 / 89.8
#: = 0.68 (children aged 0-17, with one or both parents away; applied here per household with
#: school-age children). Non-agricultural: assumed; calibrated in issue 14. The same values are
#: the defaults of ``behaviour.left_behind_agricultural`` and ``..._nonagricultural``, the
#: share of households leaving their hukou place later on.
LEFT_BEHIND_SHARE_2010: Final[tuple[float, float]] = (0.68, 0.3)
#: Largest value of ``years_away`` (a ``uint8``).
MAX_YEARS_AWAY: Final[int] = 255
#: Yearly growth of the population living away from its hukou township (for half a year or
#: more) from the 2000 census to the 2010 census: 261.39 million in 2010, 116.995 million or
#: 81.03 % more than in 2000 (NBS, communique of the 2010 census No. 1, 2011-04-28), 1.8103 **
#: (1 / 10) - 1 = 6.11 % a year. Both counts include the moves within a city's districts,
#: which the floating population leaves out; only the growth is used.
AWAY_GROWTH: Final[float] = 1.8103**0.1 - 1.0
#: Steady yearly return hazard of migrants: 22.3 % of the rural labourers who migrated in
#: 1998-2015 had returned by 2015, h = 0.031 for departures spread evenly over the 17 years
#: (Bai, Wang and Zhang 2018, Sustainability 10(11) 4153; the ``return_rate`` target).
AWAY_RETURN_HAZARD: Final[float] = 0.031
#: Parameter of the geometric completed years away of the 2010 stock: 1 - (1 - hazard) / (1 +
#: growth) = 0.0868 (mean 10.5 years; 8.7 % in their first year away, 23.9 % under three),
#: before the end at the head's age (:data:`EARLIEST_LEAVING_AGE`).
P_YEARS_AWAY: Final[float] = 1.0 - (1.0 - AWAY_RETURN_HAZARD) / (1.0 + AWAY_GROWTH)
#: Youngest age at which a head of a household away is taken to have left its hukou place:
#: 16, the lowest age the migrant worker monitoring survey counts (NBS).
EARLIEST_LEAVING_AGE: Final[int] = 16


def years_away_from(u: np.ndarray, years_here: np.ndarray, head_age: np.ndarray) -> np.ndarray:
    """Completed years away of floating households (module docstring), as ``int64``.

    Parameters
    ----------
    u
        One uniform on [0, 1) per household: its place within the interval of the uniform
        that its years here stand for.
    years_here
        Completed years at the current place, geometric with ``P_MIGRANT_YEARS`` (minus one)
        and capped at :data:`~urbsim.world.base.MIGRANT_YEARS_CAP`.
    head_age
        Age of the head: the years away are at most this less
        :data:`EARLIEST_LEAVING_AGE`, unless the years here are more.

    Returns
    -------
    numpy.ndarray
        ``int64`` years away, at least ``years_here`` and at most 255.
    """
    k = np.asarray(years_here, dtype=np.int64)
    u = np.asarray(u, dtype=np.float64)
    log_stay = np.log1p(-P_MIGRANT_YEARS)
    # log(1 - w) of the comonotone uniform w: the years here k < cap stand for
    # 1 - w in ((1 - p)^(k + 1), (1 - p)^k], the capped ones for (0, (1 - p)^cap].
    tail = np.where(k >= MIGRANT_YEARS_CAP, np.log1p(-u), np.log1p(-u * P_MIGRANT_YEARS))
    log_1mw = k * log_stay + tail
    years = np.floor(log_1mw / np.log1p(-P_YEARS_AWAY)).astype(np.int64)
    # At least the years here (exactly so in real numbers, as P_YEARS_AWAY < P_MIGRANT_YEARS;
    # the bound guards the last bit of the logarithms).
    years = np.maximum(years, k)
    limit = np.maximum(np.asarray(head_age, dtype=np.int64) - EARLIEST_LEAVING_AGE, k)
    return np.minimum(np.minimum(years, limit), MAX_YEARS_AWAY)


def initial_away(
    u: np.ndarray,
    u_years: np.ndarray,
    place: np.ndarray,
    hukou_place: np.ndarray,
    hukou_type: np.ndarray,
    years_here: np.ndarray,
    head_age: np.ndarray,
    children: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """``years_away`` and ``left_behind`` of the households of a new world (module docstring).

    Parameters
    ----------
    u
        One uniform on [0, 1) per household (the world's draw for the children left behind).
    u_years
        One uniform on [0, 1) per household (the world's draw for the years away).
    place, hukou_place
        Place of residence and hukou place of every household.
    hukou_type
        0 agricultural, 1 non-agricultural.
    years_here
        Completed years at the current place.
    head_age
        Age of the head.
    children
        School-age children in the household.

    Returns
    -------
    years_away, left_behind : numpy.ndarray
        ``uint8`` arrays, one entry per household.
    """
    away = np.asarray(place) != np.asarray(hukou_place)
    share = np.where(np.asarray(hukou_type) == 0, *LEFT_BEHIND_SHARE_2010)
    years = years_away_from(u_years, years_here, head_age)
    years_away = np.where(away, years, 0).astype(np.uint8)
    left_behind = (away & (np.asarray(children) > 0) & (u < share)).astype(np.uint8)
    return years_away, left_behind
