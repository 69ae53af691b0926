"""Sampling helpers shared by the world builders (synthetic and census).

All functions are pure: randomness comes only from the ``numpy.random.Generator`` passed in, so
a world built from one seed is reproducible. They were first written for the synthetic world
(:mod:`urbsim.world.synthetic`); its results do not change by their move here.
"""

from __future__ import annotations

import numpy as np


def apportion(total: int, weights: np.ndarray, minimum: int = 0) -> np.ndarray:
    """Split ``total`` integer units in proportion to ``weights`` by largest remainder.

    Every part gets at least ``minimum``: parts whose proportional quota falls below it are fixed
    at the minimum and the rest is re-apportioned among the others, so large parts stay close to
    their quota. Ties of the remainders go to the lower index (deterministic).

    Parameters
    ----------
    total : int
        Units to split.
    weights : numpy.ndarray
        Non-negative weights; non-finite or non-positive weights count as 0. If all are 0 the
        units are spread evenly.
    minimum : int, default 0
        Smallest part.

    Returns
    -------
    numpy.ndarray
        ``int64`` parts summing to ``total``.

    Raises
    ------
    ValueError
        If ``total`` is smaller than ``minimum`` times the number of parts.
    """
    w = np.asarray(weights, dtype=np.float64)
    n = w.shape[0]
    if total < minimum * n:
        raise ValueError(f"cannot give {n} parts at least {minimum} out of {total}")
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    w = np.where(np.isfinite(w) & (w > 0.0), w, 0.0)
    if w.sum() <= 0.0:
        w = np.ones(n)
    fixed = np.zeros(n, dtype=bool)
    while True:
        free_total = total - minimum * int(fixed.sum())
        free_w = np.where(fixed, 0.0, w)
        if free_w.sum() <= 0.0:  # only zero-weight parts are left: spread evenly
            free_w = np.where(fixed, 0.0, 1.0)
        quota = free_total * free_w / free_w.sum()
        newly = ~fixed & (quota < minimum)
        if not newly.any():
            break
        fixed |= newly
    parts = np.where(fixed, minimum, np.floor(quota)).astype(np.int64)
    left = total - int(parts.sum())
    if left > 0:
        frac = np.where(fixed, -1.0, quota - np.floor(quota))
        order = np.argsort(-frac, kind="stable")
        parts[order[:left]] += 1
    return parts


def draw_categorical(rng: np.random.Generator, probs: tuple[float, ...], n: int) -> np.ndarray:
    """``n`` draws from ``range(len(probs))`` with the given probabilities (inverse CDF)."""
    cum = np.cumsum(probs)
    cum /= cum[-1]
    return np.minimum(np.searchsorted(cum, rng.random(n), side="right"), len(probs) - 1)


def draw_weighted(rng: np.random.Generator, weights: np.ndarray, n: int) -> np.ndarray:
    """``n`` indices drawn with replacement in proportion to non-negative ``weights`` (inverse CDF).

    The result is clipped to the last index of positive weight: ``u * total`` can round up to
    ``total`` and must not select a zero-weight item (e.g. the migrant's own province).
    """
    cdf = np.cumsum(weights, dtype=np.float64)
    last = int(np.flatnonzero(weights > 0.0)[-1])
    return np.minimum(np.searchsorted(cdf, rng.random(n) * cdf[-1], side="right"), last)


def weighted_order(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """A random order of ``range(len(weights))``: weighted sampling without replacement.

    Sorting by ``Exp(1) / w`` (Efraimidis-Spirakis) gives the order in which a sequential
    weighted draw without replacement would pick the items, so a prefix of the order is a
    weighted sample of that size; agents in heavy places come early but never twice.
    """
    keys = rng.exponential(size=weights.shape[0]) / weights
    return np.argsort(keys, kind="stable")


def take_persons(order: np.ndarray, persons: np.ndarray, target: float) -> int:
    """Length of the prefix of ``order`` whose persons sum is closest to ``target``."""
    if target <= 0.0 or order.shape[0] == 0:
        return 0
    cs = np.cumsum(persons[order], dtype=np.float64)
    # cs[k] is the first cumulative sum reaching the target: take k or k + 1 agents.
    k = int(np.searchsorted(cs, target))
    if k >= cs.shape[0]:
        return int(cs.shape[0])
    below = cs[k - 1] if k > 0 else 0.0
    return k + 1 if cs[k] - target < target - below else k


def nonagri_probabilities(totals: np.ndarray, target: np.ndarray, base: np.ndarray) -> np.ndarray:
    """Probability of non-agricultural hukou per (hukou unit, group).

    ``totals[q, g]`` are registered persons of hukou unit ``q`` (a province or a place) in group
    ``g`` (0 urban-zone locals, 1 rural-zone locals, 2 migrants) and ``target[q]`` the
    non-agricultural persons wanted. Rural locals and migrants get the fixed low probabilities
    ``base[1:]`` (``base[0]`` is ignored) and urban locals the rest; if urban locals cannot take
    it all (probability would exceed 1), the other two groups are raised toward 1 by a common
    fraction so the target still holds.

    Returns
    -------
    numpy.ndarray
        Probabilities of the same shape as ``totals``, in [0, 1].
    """
    p = np.zeros_like(totals)
    base = np.array([0.0, float(base[1]), float(base[2])])
    for q in range(totals.shape[0]):
        t = totals[q]
        fixed = float((base * t).sum())
        need = target[q] - fixed
        if need < 0.0:  # the fixed groups already exceed the target: scale them down
            p[q] = base * (target[q] / fixed if fixed > 0 else 0.0)
        elif t[0] > 0.0 and need <= t[0]:
            p[q] = base
            p[q, 0] = need / t[0]
        else:
            p[q] = base
            p[q, 0] = 1.0
            room = float(((1.0 - base) * t)[1:].sum())
            lam = min(1.0, (need - t[0]) / room) if room > 0 else 0.0
            p[q, 1:] = base[1:] + lam * (1.0 - base[1:])
    return np.clip(p, 0.0, 1.0)
