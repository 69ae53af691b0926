"""Counter-based draws for building a world: every draw keyed by (seed, agent, draw).

A world built from one sequential generator depends on the order in which its agents are drawn,
so it can only be built in one piece, holding every agent's temporaries at once. Keyed draws
(the generator of the kernels, :mod:`urbsim.rng`, with the world's own stream) are a pure
function of the seed, the agent's index in the world and the draw's number: the census world
is then built in chunks of whole places whose draws do not depend on the chunking or on the
threads that build them side by side, so its peak memory is the final household arrays plus one
chunk's temporaries per thread, at any scale.

The world's stream is the (seed, :data:`WORLD_YEAR`) key; the simulation's draws use the
calendar years and the land values their own slot (year 0), so none shares the world's key.
Each step of the synthesis has its own draw numbers (the ``D_*`` constants of
:mod:`urbsim.world.census_households`), below :data:`urbsim.rng.MAX_DRAWS`.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numba import njit

from urbsim.config import JIT
from urbsim.rng import MAX_DRAWS, make_year_key, uniform

#: Digest of the urbsim modules compiled into this module's Numba code. Numba's cache looks at
#: this file alone, so a change to them must change this file (tests/kernels/test_compiled_with.py).
COMPILED_WITH: Final = "08387aeb2d189bc7"

#: The "year" of the world's key: before any simulated year, and not the land-value slot
#: (:data:`urbsim.kernels.layout.LAND_YEAR`).
WORLD_YEAR: Final[int] = 1


@njit(**JIT)
def _uniforms(key: np.uint64, first: np.int64, n: np.int64, draw: np.uint64) -> np.ndarray:
    out = np.empty(n)
    for i in range(n):
        out[i] = uniform(key, np.uint64(first + i), draw)
    return out


@njit(**JIT)
def _uniform_grid(key: np.uint64, first: np.int64, n: np.int64, draw0: np.uint64, k: np.int64):
    out = np.empty((n, k))
    for i in range(n):
        for j in range(k):
            out[i, j] = uniform(key, np.uint64(first + i), draw0 + np.uint64(j))
    return out


class KeyedDraws:
    """The draws of a contiguous range of a world's agents (a chunk).

    Parameters
    ----------
    seed
        The world's seed (the scenario's).
    first
        Index in the world of the chunk's first agent.
    n
        Agents in the chunk.
    """

    def __init__(self, seed: int, first: int, n: int) -> None:
        if first < 0 or n < 0 or first + n >= 1 << 47:
            raise ValueError(f"agents {first}..{first + n} outside 0..2**47")
        self.key = make_year_key(seed, WORLD_YEAR)
        self.first = int(first)
        self.n = int(n)

    def _check(self, draw: int, k: int = 1) -> None:
        if draw < 0 or draw + k > MAX_DRAWS:
            raise ValueError(f"draws {draw}..{draw + k - 1} outside 0..{MAX_DRAWS - 1}")

    def uniform(self, draw: int) -> np.ndarray:
        """One uniform on [0, 1) per agent of the chunk for draw number ``draw``."""
        self._check(draw)
        return _uniforms(self.key, np.int64(self.first), np.int64(self.n), np.uint64(draw))

    def uniform_grid(self, draw: int, k: int) -> np.ndarray:
        """``(n, k)`` uniforms: draws ``draw .. draw + k - 1`` of every agent."""
        self._check(draw, k)
        return _uniform_grid(
            self.key, np.int64(self.first), np.int64(self.n), np.uint64(draw), np.int64(k)
        )

    def exponential(self, draw: int) -> np.ndarray:
        """One standard exponential per agent (``-log(1 - u)``, finite: ``u < 1``)."""
        return -np.log1p(-self.uniform(draw))


def poisson_from_uniform(lam: np.ndarray, u: np.ndarray, cap: int) -> np.ndarray:
    """Poisson(``lam``) draws by inversion of one uniform each, capped at ``cap``.

    Inversion needs one uniform per draw whatever ``lam`` (a keyed draw has one), and the
    values above ``cap`` are capped by the caller anyway (household sizes): the search stops
    there.
    """
    lam = np.ascontiguousarray(lam, dtype=np.float64)
    u = np.ascontiguousarray(u, dtype=np.float64)
    if lam.shape != u.shape or (lam < 0).any() or cap < 0:
        raise ValueError("lam and u must have the same shape, lam >= 0, cap >= 0")
    return _poisson(lam, u, np.int64(cap))


@njit(**JIT)
def _poisson(lam: np.ndarray, u: np.ndarray, cap: np.int64) -> np.ndarray:
    out = np.empty(lam.shape[0], dtype=np.int64)
    for i in range(lam.shape[0]):
        term = np.exp(-lam[i])
        cdf = term
        k = 0
        while u[i] >= cdf and k < cap:
            k += 1
            term *= lam[i] / k
            cdf += term
        out[i] = k
    return out


def geometric_from_uniform(p: float, u: np.ndarray) -> np.ndarray:
    """Geometric draws on 1, 2, ... (trials to the first success of probability ``p``) by
    inversion: ``1 + floor(log(1 - u) / log(1 - p))``."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be in (0, 1), got {p}")
    return 1 + np.floor(np.log1p(-u) / np.log1p(-p)).astype(np.int64)
