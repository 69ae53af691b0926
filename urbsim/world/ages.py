"""Ages of the 2010 household agents: the head's age in years and the children's ages.

Both worlds draw the head's age group as before (the census world tilted by each place's 65+
share), then:

* **Head's age.** Spread within the group: uniform over 15-29, 30-44 and 45-59; 60 plus a
  whole number of years, exponential with mean :data:`OLD_HEAD_MEAN_YEARS` (capped at 99). A
  household of two or more persons has a partner at the head's age, so its head is at least
  :data:`PARTNER_MIN_AGE` (its 15-29 group spreads over 20-29); a one-person agent (a head alone,
  or a resident of collective quarters) can be 15.
* **Children.** A household of one person is the head alone; of two or more, the head, a
  partner and ``persons - 2`` children, whose ages are distinct years from 0 to
  ``head_age - 18`` (and at most 31). Children of an older head include grandchildren (the
  three-generation households of the census, whose left-behind children live with their
  grandparents): the model knows one generation of children per household. Members that do
  not fit in the window (a young head with many members) are further adults of the head's
  age.
* **The census 0-14 share.** Ages within the window are drawn without replacement with weight
  ``w`` on ages 0-14 and 1 on ages 15-31; ``w`` is solved per place (bisection in ``log w``)
  so that the expected children aged 0-14 equal the place's 0-14 share of its agent persons
  (the census world) or the national share (the synthetic world). The expectation counts each
  child as an independent draw from the window (the draw itself is without replacement), and
  the share is out of reach where the windows allow too few or too many young children; the
  achieved share is in the world's statistics.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numba import njit

from urbsim.config import JIT, JIT_INLINE
from urbsim.kernels import layout as L
from urbsim.rng import uniform

#: Digest of the urbsim modules compiled into this module's Numba code. Numba's cache looks at
#: this file alone, so a change to them must change this file (tests/kernels/test_compiled_with.py).
COMPILED_WITH: Final = "2f791f29d2c718a5"

#: Mean years above 60 of a head in the 60+ group (exponential; assumed).
OLD_HEAD_MEAN_YEARS: Final[float] = 9.0
#: A child is at least this much younger than the head.
MIN_PARENT_GAP: Final[int] = 18
#: Youngest head of a household of two or more persons (years): such a household is a head and
#: a partner of the same age, and 20 is the lowest legal age of marriage (women; 22 for men:
#: Marriage Law of the People's Republic of China, 1980, article 6). Drawn uniformly over
#: 15-29, the heads of the 15-29 group were 15-17 one time in five: the census world of 2010
#: had 25.3 million households of 61.6 million persons headed by someone of 15-17, most of them
#: with a partner of that age.
PARTNER_MIN_AGE: Final[int] = 20
#: Ages a resident child can have (the bits of ``kids``), school age and the cap of
#: ``children``: the kernels' constants.
KID_AGES: Final[int] = L.KID_AGES
SCHOOL_FIRST: Final[int] = L.SCHOOL_FIRST
SCHOOL_LAST: Final[int] = L.SCHOOL_LAST
MAX_SCHOOL_CHILDREN: Final[int] = L.MAX_SCHOOL_CHILDREN
_GROUP_RANGES: Final[tuple[tuple[int, int], ...]] = ((15, 29), (30, 44), (45, 59))
_CHUNK: Final[int] = 65536


def _lowest_ages(group: np.ndarray, persons: np.ndarray) -> np.ndarray:
    """First age of each head's range: its group's, and :data:`PARTNER_MIN_AGE` for a head of
    the first group with a partner (two or more persons)."""
    lows = np.array([lo for lo, _ in _GROUP_RANGES] + [60], dtype=np.int64)
    first = lows[np.minimum(group, len(_GROUP_RANGES))]
    partnered = (group == 0) & (np.asarray(persons) >= 2)
    return np.where(partnered, max(PARTNER_MIN_AGE, _GROUP_RANGES[0][0]), first)


def head_ages(rng: np.random.Generator, group: np.ndarray, persons: np.ndarray) -> np.ndarray:
    """Age in years of each head, spread within its age group (see the module docstring), from
    a sequential generator (the synthetic world); ``persons`` of each agent."""
    age = np.empty(group.shape[0], dtype=np.int64)
    low = _lowest_ages(group, persons)
    for g, (_, hi) in enumerate(_GROUP_RANGES):
        mask = group == g
        age[mask] = rng.integers(low[mask], hi + 1)
    old = group >= len(_GROUP_RANGES)
    extra = np.floor(rng.exponential(OLD_HEAD_MEAN_YEARS, int(old.sum())))
    age[old] = 60 + np.minimum(extra, 39).astype(np.int64)
    return age


def head_ages_from(u: np.ndarray, group: np.ndarray, persons: np.ndarray) -> np.ndarray:
    """Age in years of each head from one uniform ``u`` per head (keyed draws, the census
    world): the same distributions as :func:`head_ages`, by inversion."""
    age = np.empty(group.shape[0], dtype=np.int64)
    low = _lowest_ages(group, persons)
    for g, (_, hi) in enumerate(_GROUP_RANGES):
        mask = group == g
        lo = low[mask]
        age[mask] = lo + np.floor(u[mask] * (hi - lo + 1)).astype(np.int64)
    old = group >= len(_GROUP_RANGES)
    extra = np.floor(-OLD_HEAD_MEAN_YEARS * np.log1p(-u[old]))
    age[old] = 60 + np.minimum(extra, 39).astype(np.int64)
    return age


def _windows(head_age: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and last possible age of a child of each head (last < first: none)."""
    lo = np.zeros_like(head_age)
    hi = np.minimum(head_age - MIN_PARENT_GAP, KID_AGES - 1)
    return lo, hi


def _young_old(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ages 0-14 and 15-31 in each window."""
    size = np.maximum(hi - lo + 1, 0)
    young = np.clip(np.minimum(hi, 14) - lo + 1, 0, None)
    return young, size - young


def young_weights(
    place: np.ndarray, n_kids: np.ndarray, head_age: np.ndarray, target: np.ndarray
) -> np.ndarray:
    """Weight of ages 0-14 per place so that the expected children aged 0-14 per place equal
    ``target`` (clipped to what the windows allow)."""
    young, old = _young_old(*_windows(head_age))
    # asarray, not astype: no copy of an array that already has the dtype (the world's build
    # holds every agent's arrays at once, so each copy is a few bytes per agent of its peak).
    return _bisect_weights(
        np.asarray(place, dtype=np.int64),
        np.asarray(n_kids, dtype=np.float64),
        np.asarray(young, dtype=np.float64),
        np.asarray(old, dtype=np.float64),
        np.asarray(target, dtype=np.float64),
    )


def young_weights_grouped(
    place: np.ndarray, n_kids: np.ndarray, head_age: np.ndarray, target: np.ndarray
) -> np.ndarray:
    """:func:`young_weights` from counts of agents by (place, window, children) instead of
    the agents themselves: the expectation depends on an agent only through its window (the
    head's age up to 49) and its number of children, so the bisection runs over a table of at
    most 32 x (children + 1) cells per place, whatever the number of agents (the census world;
    the sums run in another order than :func:`young_weights`', so the weights can differ in
    the last bits)."""
    n_places = target.shape[0]
    last = np.clip(np.minimum(np.asarray(head_age, dtype=np.int64) - MIN_PARENT_GAP,
                              KID_AGES - 1), -1, KID_AGES - 1)  # fmt: skip
    k = np.asarray(n_kids, dtype=np.int64)
    n_k = int(k.max()) + 1 if k.shape[0] else 1
    cell = (np.asarray(place, dtype=np.int64) * (KID_AGES + 1) + last + 1) * n_k + k
    counts = np.bincount(cell, minlength=n_places * (KID_AGES + 1) * n_k).astype(np.float64)
    counts = counts.reshape(n_places, KID_AGES + 1, n_k)
    his = np.arange(-1, KID_AGES)
    young, old = _young_old(np.zeros_like(his), his)
    return _bisect_grouped(
        counts, young.astype(np.float64), old.astype(np.float64), np.asarray(target, np.float64)
    )


@njit(**JIT)
def _bisect_grouped(
    counts: np.ndarray, young: np.ndarray, old: np.ndarray, target: np.ndarray
) -> np.ndarray:
    """:func:`_bisect_weights` over ``counts[place, window, children]``."""
    n_places, n_windows, n_k = counts.shape
    lo = np.full(n_places, -12.0)
    hi = np.full(n_places, 12.0)
    for j in range(n_places):
        for _ in range(40):
            w = np.exp(0.5 * (lo[j] + hi[j]))
            expected = 0.0
            for a in range(n_windows):
                total = w * young[a] + old[a]
                if total <= 0.0:
                    continue
                share = w * young[a] / total
                for k in range(1, n_k):
                    expected += counts[j, a, k] * k * share
            if expected < target[j]:
                lo[j] = 0.5 * (lo[j] + hi[j])
            else:
                hi[j] = 0.5 * (lo[j] + hi[j])
    return np.exp(0.5 * (lo + hi))


@njit(**JIT)
def _bisect_weights(
    place: np.ndarray, k: np.ndarray, young: np.ndarray, old: np.ndarray, target: np.ndarray
) -> np.ndarray:
    """Bisection in ``log w`` per place, all places at once (the expectation is increasing in
    ``w``); 40 halvings of [-12, 12] leave an error of 2e-11 in ``log w``."""
    n_places = target.shape[0]
    lo = np.full(n_places, -12.0)
    hi = np.full(n_places, 12.0)
    expected = np.zeros(n_places)
    for _ in range(40):
        w = np.exp(0.5 * (lo + hi))
        expected[:] = 0.0
        for i in range(place.shape[0]):
            total = w[place[i]] * young[i] + old[i]
            if k[i] > 0.0 and total > 0.0:
                expected[place[i]] += k[i] * w[place[i]] * young[i] / total
        for j in range(n_places):
            if expected[j] < target[j]:
                lo[j] = 0.5 * (lo[j] + hi[j])
            else:
                hi[j] = 0.5 * (lo[j] + hi[j])
    return np.exp(0.5 * (lo + hi))


def kid_masks(
    rng: np.random.Generator, head_age: np.ndarray, n_kids: np.ndarray, weight: np.ndarray
) -> np.ndarray:
    """Bit masks of distinct child ages (``uint32``): ``n_kids`` ages from each head's window
    (fewer when the window is smaller), drawn without replacement with ``weight`` on ages 0-14
    (Efraimidis-Spirakis keys: the smallest ``exponential / weight``), in chunks of
    households."""
    lo, hi = _windows(head_age)
    out = np.zeros(head_age.shape[0], dtype=np.uint32)
    for s in range(0, head_age.shape[0], _CHUNK):
        e = min(s + _CHUNK, head_age.shape[0])
        keys = rng.exponential(size=(e - s, KID_AGES))
        out[s:e] = _smallest_keys(
            keys,
            lo[s:e].astype(np.int64),
            hi[s:e].astype(np.int64),
            n_kids[s:e].astype(np.int64),
            weight[s:e].astype(np.float64),
        )
    return out


@njit(**JIT)
def _smallest_keys(
    keys: np.ndarray, lo: np.ndarray, hi: np.ndarray, n: np.ndarray, weight: np.ndarray
) -> np.ndarray:
    """Per row, the mask of the ``n`` ages in ``[lo, hi]`` of smallest ``key / w(age)``."""
    out = np.zeros(keys.shape[0], dtype=np.uint32)
    row = np.empty(KID_AGES)
    for r in range(keys.shape[0]):
        for a in range(lo[r], hi[r] + 1):
            row[a] = keys[r, a] / weight[r] if a <= 14 else keys[r, a]
        out[r] = _smallest_mask(row, lo[r], hi[r], n[r])
    return out


@njit(**JIT_INLINE)
def _smallest_mask(row: np.ndarray, lo: int, hi: int, n: int) -> int:
    """The mask of the ``n`` ages in ``[lo, hi]`` whose (weighted) keys ``row`` are smallest
    (fewer when the window is smaller)."""
    mask = 0
    for _ in range(n):
        best = -1
        best_key = np.inf
        for a in range(lo, hi + 1):
            if (mask >> a) & 1:
                continue
            if row[a] < best_key:
                best_key = row[a]
                best = a
        if best < 0:
            break
        mask |= 1 << best
    return mask


def kid_masks_keyed(
    key: np.uint64,
    first: int,
    head_age: np.ndarray,
    n_kids: np.ndarray,
    weight: np.ndarray,
    draw0: int,
) -> np.ndarray:
    """:func:`kid_masks` with each key drawn where it is needed: the exponential key
    of age ``a`` of agent ``first + i`` is keyed by draw ``draw0 + a`` (:mod:`urbsim.rng`), and
    only the ages in the window of an agent with children are drawn (the census world)."""
    lo, hi = _windows(np.asarray(head_age, dtype=np.int64))
    return _smallest_keyed(
        np.uint64(key),
        np.int64(first),
        lo,
        hi,
        np.asarray(n_kids, dtype=np.int64),
        np.asarray(weight, dtype=np.float64),
        np.uint64(draw0),
    )


@njit(**JIT)
def _smallest_keyed(
    key: np.uint64,
    first: np.int64,
    lo: np.ndarray,
    hi: np.ndarray,
    n: np.ndarray,
    weight: np.ndarray,
    draw0: np.uint64,
) -> np.ndarray:
    out = np.zeros(lo.shape[0], dtype=np.uint32)
    keys = np.empty(KID_AGES)
    for r in range(lo.shape[0]):
        if n[r] <= 0 or hi[r] < lo[r]:
            continue
        agent = np.uint64(first + r)
        for a in range(lo[r], hi[r] + 1):
            e = -np.log1p(-uniform(key, agent, draw0 + np.uint64(a)))
            keys[a] = e / weight[r] if a <= 14 else e
        out[r] = _smallest_mask(keys, lo[r], hi[r], n[r])
    return out


def school_children(kids: np.ndarray) -> np.ndarray:
    """Children aged 6-14 in each mask, at most 3 (the ``children`` field)."""
    count = np.zeros(kids.shape[0], dtype=np.int64)
    for a in range(SCHOOL_FIRST, SCHOOL_LAST + 1):
        count += (kids >> np.uint32(a)) & np.uint32(1)
    return np.minimum(count, MAX_SCHOOL_CHILDREN)


def household_ages(
    rng: np.random.Generator,
    place: np.ndarray,
    persons: np.ndarray,
    group: np.ndarray,
    young_target: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Head's age, children's age mask and school-age children of every agent.

    Parameters
    ----------
    rng
        The world's generator.
    place, persons
        Place index and persons of every agent (a collective-quarters agent has one person).
    group
        The head's age group (index into :data:`urbsim.state.AGE_GROUPS`).
    young_target
        Persons aged 0-14 wanted per place (agent persons).

    Returns
    -------
    tuple of numpy.ndarray
        ``head_age`` (years), ``kids`` (bit masks) and ``children`` (school-age, at most 3).
    """
    age = head_ages(rng, group, persons)
    n_kids = np.where(persons >= 2, persons - 2, 0)
    weight = young_weights(place, n_kids, age, young_target)
    kids = kid_masks(rng, age, n_kids, weight[place])
    return age, kids, school_children(kids)


def young_children(kids: np.ndarray) -> np.ndarray:
    """Children aged 0-14 in each mask."""
    young = np.zeros(kids.shape[0], dtype=np.int64)
    for a in range(15):
        young += (kids >> np.uint32(a)) & np.uint32(1)
    return young


def young_share(persons: np.ndarray, kids: np.ndarray) -> float:
    """Share of persons who are children aged 0-14."""
    return float(young_children(kids).sum() / max(int(persons.sum()), 1))
