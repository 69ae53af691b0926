"""Plain-Python twin of :mod:`urbsim.rng`, for the Mesa reference engine.

Same arithmetic, written with Python integers masked to 64 bits, so that it is an independent
implementation that tests can hold against the compiled one.
"""

from __future__ import annotations

_MASK = (1 << 64) - 1
_M1 = 0xBF58476D1CE4E5B9
_M2 = 0x94D049BB133111EB
_GAMMA = 0x9E3779B97F4A7C15


def _mix(z: int) -> int:
    z = ((z ^ (z >> 30)) * _M1) & _MASK
    z = ((z ^ (z >> 27)) * _M2) & _MASK
    return z ^ (z >> 31)


def year_key(seed: int, year: int) -> int:
    """Key of one (seed, year)."""
    return _mix((_mix(seed & _MASK) + year * _GAMMA) & _MASK)


def draw_bits(key: int, household: int, draw: int) -> int:
    """64 random bits for ``(key, household, draw)``."""
    counter = ((household << 16) | draw) & _MASK
    z = _mix(key ^ ((counter * _GAMMA) & _MASK))
    return _mix((z + key) & _MASK)


def uniform(key: int, household: int, draw: int) -> float:
    """One uniform on [0, 1) with 53 random bits."""
    return (draw_bits(key, household, draw) >> 11) * (1.0 / 9007199254740992.0)


def uniform_open(key: int, household: int, draw: int) -> float:
    """One uniform on the open interval (0, 1): the midpoint of the 53-bit cell of
    :func:`uniform`."""
    return ((draw_bits(key, household, draw) >> 11) + 0.5) * (1.0 / 9007199254740992.0)


def uniform_pair(key: int, household: int, draw: int) -> tuple[float, float]:
    """Two uniforms on [0, 1) with 32 random bits each, from one hash."""
    z = draw_bits(key, household, draw)
    return (z >> 32) * (1.0 / 4294967296.0), (z & 0xFFFFFFFF) * (1.0 / 4294967296.0)
