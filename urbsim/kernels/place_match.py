"""The match of a household with a place (docs/ODD.md 7.13): its levels, its utility, and this
year's draws.

A household away from its hukou place carries a match with the place it lives at (the household
field ``match``, levels of :data:`urbsim.kernels.layout.MATCH_STEP` standard deviations): a
standard-normal draw of that place's value to it, beyond what the other terms of the utility
give, drawn when it chose to move there and weighted by ``behaviour.place_match_sd`` in the
utility of staying (Kennan and Walker 2011, "The effect of expected income on individual
migration decisions", Econometrica 79(1), keep such a location match). Each place it considers
moving to comes with this year's draw for that place, so that those who move are those whose
draw was high: among the movers to a place the logit selects the draws by the weight
``exp(sd * z)``, which turns the standard normal into the normal of mean ``sd`` (for a
destination chosen with a small probability: the exponential tilt of a normal density).

The start year's migrants are already away by choices the run never made; their matches are
drawn by :mod:`urbsim.kernels.start_match`.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numba import njit

from urbsim.config import JIT_INLINE
from urbsim.inputs import ParamsRecord
from urbsim.kernels import layout as L
from urbsim.rng import uniform

#: Digest of the urbsim modules compiled into this module's Numba code. Numba's cache looks at
#: this file alone, so a change to them must change this file (tests/kernels/test_compiled_with.py).
COMPILED_WITH: Final = "a0dddd91c2ad3005"


@njit(**JIT_INLINE)
def match_level(u: float) -> int:
    """The match level (:data:`urbsim.kernels.layout.MATCH_STEP` standard deviations) of the
    uniform ``u``: the level whose interval of the normal distribution holds its quantile."""
    return np.int64(np.searchsorted(L.MATCH_BOUNDS, u, side="right")) + L.MATCH_MIN


@njit(**JIT_INLINE)
def match_draw(key: np.uint64, h: np.uint64, j: int) -> int:
    """This year's draw of household ``h``'s match with place ``j`` (a level), for a place it
    does not live at: it becomes the household's ``match`` if it moves there."""
    return match_level(uniform(key, h, np.uint64(L.DRAW_MATCH0 + j)))


@njit(**JIT_INLINE)
def match_term(level: int, par: ParamsRecord) -> float:
    """Utility of a match ``level`` with a place other than the hukou place:
    ``place_match_sd`` times the level's standard deviations."""
    return par.place_match_sd * (level * L.MATCH_STEP)
