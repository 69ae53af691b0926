"""Counter-based random numbers keyed by (seed, year, household, draw).

A draw is a pure function of its key, so results do not depend on the number of threads, on how
households are split into chunks, or on the order in which households are visited. The mixer is
the SplitMix64 finaliser (Steele, Lea & Flood 2014), applied twice with the (seed, year) key.

Two implementations exist on purpose: the ``@njit`` functions used by the kernels and their plain
Python twins in :mod:`urbsim.rng_py` used by the Mesa reference engine. Tests check that they give
the same bits.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numba import njit

from urbsim.config import JIT

#: Digest of the urbsim modules compiled into this module's Numba code. Numba's cache looks at
#: this file alone, so a change to them must change this file (tests/kernels/test_compiled_with.py).
COMPILED_WITH: Final = "aec7f058f1712add"

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S32 = np.uint64(32)
_S16 = np.uint64(16)
_S11 = np.uint64(11)
_LOW32 = np.uint64(0xFFFFFFFF)
_INV32 = 1.0 / 4294967296.0
_INV53 = 1.0 / 9007199254740992.0

#: Draw slots per household and year. Draw indices must stay below this.
MAX_DRAWS = 1 << 16


@njit(**JIT)
def _mix(z: np.uint64) -> np.uint64:
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(**JIT)
def year_key(seed: np.uint64, year: np.uint64) -> np.uint64:
    """Key of one (seed, year): every draw of that year is keyed by it."""
    return _mix(_mix(seed) + year * _GAMMA)


@njit(**JIT)
def draw_bits(key: np.uint64, household: np.uint64, draw: np.uint64) -> np.uint64:
    """64 random bits for ``(key, household, draw)``."""
    counter = (household << _S16) | draw
    z = _mix(key ^ (counter * _GAMMA))
    return _mix(z + key)


@njit(**JIT)
def uniform(key: np.uint64, household: np.uint64, draw: np.uint64) -> float:
    """One uniform on [0, 1) with 53 random bits."""
    return float(draw_bits(key, household, draw) >> _S11) * _INV53


@njit(**JIT)
def uniform_open(key: np.uint64, household: np.uint64, draw: np.uint64) -> float:
    """One uniform on the open interval (0, 1): the midpoint of the 53-bit cell of
    :func:`uniform`, for transforms (log-odds, logarithms) that are infinite at 0."""
    return (float(draw_bits(key, household, draw) >> _S11) + 0.5) * _INV53


@njit(**JIT)
def pair_from_bits(z: np.uint64) -> tuple[float, float]:
    """The two uniforms of :func:`uniform_pair` from its 64 bits (high half, low half).

    Lets a kernel hash a block of households in one loop the compiler can vectorize, then use
    the bits; the uniforms are the same as those of :func:`uniform_pair`.
    """
    return float(z >> _S32) * _INV32, float(z & _LOW32) * _INV32


@njit(**JIT)
def uniform_pair(key: np.uint64, household: np.uint64, draw: np.uint64) -> tuple[float, float]:
    """Two independent uniforms on [0, 1) with 32 random bits each, from one hash."""
    return pair_from_bits(draw_bits(key, household, draw))


def make_year_key(seed: int, year: int) -> np.uint64:
    """Public wrapper: check the inputs and return the (seed, year) key."""
    if not 0 <= seed < 2**64:
        raise ValueError(f"seed must be in [0, 2**64), got {seed}")
    if not 0 <= year < 100_000:
        raise ValueError(f"year must be in [0, 100000), got {year}")
    return np.uint64(year_key(np.uint64(seed), np.uint64(year)))
