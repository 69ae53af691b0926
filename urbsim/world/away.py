"""Where a household's family is in the first year: years away from the hukou place and school-age
children left behind there (the household fields ``years_away`` and ``left_behind``).

Both worlds (the census world and the synthetic one) apply the same rule, with one uniform per
household drawn after every other household field (the synthetic world's generator) or keyed
(the census world), so that adding it changed neither:

* **Years away.** A floating household (living away from its hukou place) is taken to have come
  straight from its hukou place, so its completed years away are its completed years at the
  current place (the census asks the time since leaving the hukou place, which the worlds do not
  carry per household); a household at its hukou place has 0.
* **Children left behind.** A floating household with school-age children (6-14) has left them
  at its hukou place with the share of its hukou type, :data:`LEFT_BEHIND_SHARE_2010` (one
  uniform per household, drawn for every household so that the draws do not depend on the
  other fields). The children stay members of the household (its persons and ages); they do not
  use the schools where it lives (``docs/ODD.md``, "Return migration").
"""

from __future__ import annotations

from typing import Final

import numpy as np

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


def initial_away(
    u: np.ndarray,
    place: np.ndarray,
    hukou_place: np.ndarray,
    hukou_type: np.ndarray,
    years_here: np.ndarray,
    children: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """``years_away`` and ``left_behind`` of the households of a new world (module docstring).

    Parameters
    ----------
    u
        One uniform on [0, 1) per household (the world's draw for this rule).
    place, hukou_place
        Place of residence and hukou place of every household.
    hukou_type
        0 agricultural, 1 non-agricultural.
    years_here
        Completed years at the current place.
    children
        School-age children in the household.

    Returns
    -------
    years_away, left_behind : numpy.ndarray
        ``uint8`` arrays, one entry per household.
    """
    away = np.asarray(place) != np.asarray(hukou_place)
    share = np.where(np.asarray(hukou_type) == 0, *LEFT_BEHIND_SHARE_2010)
    years = np.minimum(np.asarray(years_here, dtype=np.int64), MAX_YEARS_AWAY)
    years_away = np.where(away, years, 0).astype(np.uint8)
    left_behind = (away & (np.asarray(children) > 0) & (u < share)).astype(np.uint8)
    return years_away, left_behind
