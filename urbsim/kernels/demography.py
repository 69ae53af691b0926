"""A household's demographic year, as inlined Numba functions, and household formation.

A household is a head, the adults who live with the head (a partner and other adults, all
taken to be of the head's age), and the head's resident children by single year of age: bit
``a`` of ``kids`` is a child aged ``a`` (0-31). ``persons`` counts all of them, so the adults
are ``persons - popcount(kids)``. In one year (pass 1 of the household step, before the move
decision; see ``docs/ODD.md``, "Demography"):

1. deaths: every adult, then every child in ascending age, dies with the probability of its
   age and zone (:func:`_event` chains the draws, so several deaths are possible);
2. a household with no adult left is headed by its oldest child, or dissolves when no one is
   left (``persons`` 0);
3. births: one woman at risk per two adults (couples), each with the fertility of the head's
   age; a newborn takes the youngest free age slot (age 0 unless a second birth this year);
4. leaving home: every child of leaving age leaves with the year's probability of its age
   (certainly at 31); leavers are returned as a bit mask per household and become households
   of their own after the year (:func:`plan_formation`);
5. ageing: the head and every child one year older; ``children`` (school-age children, ages
   6-14, at most 3) follows the children's ages.

Most households have no death, birth or leaver in a year: a quick test on each draw
(:func:`_surely_none`, exact by the union bound) skips those chains, whose household-dependent
loops cost more in mispredicted branches than the rest of the year; the results are the
chains' own (``tests/kernels/test_demography_quick.py``).

Every rule is written again, independently, in the reference engine
(:mod:`urbsim.engines.mesa_engine`) with the same arithmetic in the same order.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numba import njit, prange

from urbsim.config import JIT, JIT_INLINE, JIT_PARALLEL
from urbsim.kernels import layout as L
from urbsim.rng import draw_bits, pair_from_bits
from urbsim.state import FIELDS

#: Digest of the urbsim modules compiled into this module's Numba code. Numba's cache looks at
#: this file alone, so a change to them must change this file (tests/kernels/test_compiled_with.py).
COMPILED_WITH: Final = "2c11f8a7595e5b3c"

_URBAN = 1
_LOW32 = 0xFFFFFFFF
#: Margin of the quick tests below: uniforms are multiples of 2**-32, and the chained draws of
#: :func:`_event` round by far less than this, so a uniform this far beyond the union bound
#: misses every event of the chain whatever the rounding.
_QUICK_MARGIN = 2.0**-30


@njit(**JIT_INLINE)
def popcount(x: int) -> int:
    """Set bits of a non-negative integer below 2**32 (SWAR count)."""
    x = x - ((x >> 1) & 0x55555555)
    x = (x & 0x33333333) + ((x >> 2) & 0x33333333)
    x = (x + (x >> 4)) & 0x0F0F0F0F
    return ((x * 0x01010101) & _LOW32) >> 24


@njit(**JIT_INLINE)
def lowest_bit(x: int) -> int:
    """Index of the lowest set bit of ``x > 0``."""
    return popcount((x & -x) - 1)


@njit(**JIT_INLINE)
def highest_bit(x: int) -> int:
    """Index of the highest set bit of ``x > 0``."""
    b = 0
    while x > 1:
        x >>= 1
        b += 1
    return b


@njit(**JIT_INLINE)
def _event(u: float, q: float) -> tuple[bool, float]:
    """One Bernoulli(``q``) event from the uniform ``u``, and a fresh uniform for the next.

    After a hit ``u / q`` and after a miss ``(u - q) / (1 - q)`` are again uniform and
    independent of the outcome, so one draw decides any number of independent events (each
    costs a few of its 32 bits; a household's year uses far fewer than it has).
    """
    if u < q:
        return True, u / q
    return False, (u - q) / (1.0 - q)


@njit(**JIT_INLINE)
def school_children(kids: int) -> int:
    """Children aged 6-14 in the bit mask ``kids``, at most :data:`layout.MAX_SCHOOL_CHILDREN`."""
    c = popcount(kids & L.SCHOOL_MASK)
    return c if c < L.MAX_SCHOOL_CHILDREN else L.MAX_SCHOOL_CHILDREN


@njit(**JIT_INLINE)
def _deaths(
    u: float, adults: int, k: int, q_adult: float, mortality: np.ndarray
) -> tuple[int, int]:
    """Adults (at the head's age) then children in ascending age die, on one chained draw;
    returns the adults left and the children's mask left."""
    left = adults
    for _ in range(adults):
        hit, u = _event(u, q_adult)
        if hit:
            left -= 1
    m = k
    while m != 0:
        b = lowest_bit(m)
        m &= m - 1
        hit, u = _event(u, mortality[b])
        if hit:
            k &= ~(np.int64(1) << b)
    return left, k


@njit(**JIT_INLINE)
def _births(u: float, women: int, f: float, k: int, p: int) -> tuple[int, int]:
    """Each woman at risk gives birth with probability ``f`` (one chained draw), while the
    household is below the largest size; a newborn takes the youngest free age. Returns the
    children's mask and the births."""
    born = 0
    for _ in range(women):
        hit, u = _event(u, f)
        if hit and p + born < L.MAX_PERSONS:
            k |= np.int64(1) << lowest_bit(~k & _LOW32)
            born += 1
    return k, born


@njit(**JIT_INLINE)
def _leavers(u: float, k: int, leaving: np.ndarray) -> int:
    """Mask of the children who leave home, in ascending age on one chained draw."""
    left = 0
    m = k
    while m != 0:
        b = lowest_bit(m)
        m &= m - 1
        if leaving[b] > 0.0:
            hit, u = _event(u, leaving[b])
            if hit:
                left |= np.int64(1) << b
    return left


@njit(**JIT)
def quick_bounds(mortality: np.ndarray, leaving: np.ndarray) -> tuple[np.ndarray, int]:
    """What the quick tests of :func:`live_demography` need of the year's schedules: the
    highest child mortality of each zone and the bit mask of the ages that may leave home."""
    kid_max = np.zeros(mortality.shape[0])
    for z in range(mortality.shape[0]):
        for b in range(L.KID_AGES):
            kid_max[z] = max(kid_max[z], mortality[z, b])
    mask = 0
    for b in range(L.KID_AGES):
        if leaving[b] > 0.0:
            mask |= np.int64(1) << b
    return kid_max, mask


@njit(**JIT_INLINE)
def _surely_none(u: float, bound: float) -> bool:
    """True when the chained draw ``u`` misses every event of a chain whose probabilities sum
    to at most ``bound``.

    After misses the chain's uniform only grows relative to the probabilities left (a miss
    maps ``u >= q`` to ``(u - q) / (1 - q) >= u - q``), so ``u >= sum q`` misses them all: by
    the union bound the test never claims a miss the chain would not find, and households that
    fail it run the chain itself. Results are those of the chain, at a fraction of its cost
    (its loops have household-dependent lengths, so their branches are mispredicted).
    """
    return u >= bound + _QUICK_MARGIN


@njit(**JIT_INLINE)
def live_demography(
    i: int,
    u_death: float,
    u_birth: float,
    u_leave: float,
    z: int,
    factor: float,
    head_age: np.ndarray,
    kids: np.ndarray,
    children: np.ndarray,
    persons: np.ndarray,
    fertility: np.ndarray,
    mortality: np.ndarray,
    leaving: np.ndarray,
    kid_max: np.ndarray,
    leave_mask: int,
    leavers: np.ndarray,
    slot: int,
    row: np.ndarray,
) -> int:
    """The demographic year of household ``i`` (module docstring), in place; ``kid_max`` and
    ``leave_mask`` from :func:`quick_bounds`; leavers' ages to ``leavers[slot]`` (unless -1).

    Returns the head's age at which the household makes this year's other decisions (after
    deaths and succession, before ageing), or -1 when the household dissolved.
    """
    p = np.int64(persons[i])
    a = np.int64(head_age[i])
    k = np.int64(kids[i])
    # 1. Deaths (most households have none: a quick test first, see _surely_none).
    n_kids = popcount(k)
    q_adult = mortality[z, a]
    if not _surely_none(u_death, (p - n_kids) * q_adult + n_kids * kid_max[z]):
        adults, k_left = _deaths(u_death, p - n_kids, k, q_adult, mortality[z])
        died = p - adults - popcount(k_left)
        k = k_left
        p -= died
        row[L.C_DEATHS] += died
        row[L.C_URBAN_DEATHS] += died * (z == _URBAN)
    else:
        adults = p - n_kids
    # 2. Succession by the oldest child, or dissolution.
    if adults == 0:
        if k == 0:
            persons[i] = 0
            kids[i] = 0
            children[i] = 0
            if slot >= 0:
                leavers[slot] = 0
            row[L.C_DISSOLVED] += 1
            return -1
        a = highest_bit(k)
        k &= ~(np.int64(1) << a)
        adults = 1
    # 3. Births: one woman at risk per couple, at the head's age.
    women = adults // 2
    f = fertility[z, a] * factor
    if not _surely_none(u_birth, women * f):
        k, born = _births(u_birth, women, f, k, p)
        p += born
        row[L.C_BIRTHS] += born
        row[L.C_URBAN_BIRTHS] += born * (z == _URBAN)
    # 4. Leaving home (only children of the ages that may leave enter the chain).
    left = 0
    if k & leave_mask:
        left = _leavers(u_leave, k, leaving)
        n_left = popcount(left)
        k &= ~left
        row[L.C_LEFT_HOME] += n_left
    else:
        n_left = 0
    if slot >= 0:
        leavers[slot] = left
    # 5. Ageing (a child of 31 has left: the shift drops nothing).
    persons[i] = p - n_left
    head_age[i] = a + 1 if a < L.MAX_AGE else L.MAX_AGE
    k = (k << 1) & _LOW32
    kids[i] = k
    children[i] = school_children(k)
    return a


@njit(**JIT)
def plan_formation(
    leavers: np.ndarray, place: np.ndarray, zone: np.ndarray, n_places: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The households formed by this year's leavers, in a deterministic order.

    Leavers are taken in household order, and within a household in ascending age. The first
    leaver of a place and zone starts a new household; the next leaver of the same place and
    zone joins it as the partner; the one after starts another, and so on (the last leaver of a
    place and zone in a year may stay single). Pairing within a zone keeps every leaver in the
    zone where it was counted. Returns, per new household in creation order (the order it is
    appended), the index of the first leaver's parents' household, the head's age (the first
    leaver's age at the end of the year) and its persons (1 or 2).
    """
    total = 0
    for i in range(leavers.shape[0]):
        total += popcount(np.int64(leavers[i]))
    parent = np.empty(total, dtype=np.int64)
    age = np.empty(total, dtype=np.int64)
    size = np.empty(total, dtype=np.int64)
    pending = np.full(2 * n_places, -1, dtype=np.int64)  # by place and zone
    n_new = 0
    for i in range(leavers.shape[0]):
        m = np.int64(leavers[i])
        while m != 0:
            b = lowest_bit(m)
            m &= m - 1
            j = 2 * np.int64(place[i]) + np.int64(zone[i])
            if pending[j] >= 0:
                size[pending[j]] += 1
                pending[j] = -1
            else:
                parent[n_new] = i
                age[n_new] = b + 1
                size[n_new] = 1
                pending[j] = n_new
                n_new += 1
    return parent[:n_new], age[:n_new], size[:n_new]


@njit(**JIT_INLINE)
def _may_leave(k: int, u_leave: float, leaving: np.ndarray, mask: int, filled: int) -> bool:
    """Whether a household whose children at the start of the year are ``k`` may have a
    leaver on its leaving draw ``u_leave`` (:func:`live_demography`'s step 4); never False
    when it has one.

    Deaths and succession only take children away, and each child's event in the chain has
    the probability of its age, so ``u_leave`` beyond the sum over the start's children of
    leaving age misses them all (the union bound of :func:`_surely_none`). A birth takes the
    youngest free age, a leaving age only when every younger age is taken (``filled``, the
    mask of the ages below the youngest leaving age): such a household is listed whatever its
    draw (none can be under the schema's ages and household size).
    """
    if k & filled == filled:
        return True
    m = k & mask
    if m == 0:
        return False
    bound = 0.0
    while m != 0:
        b = lowest_bit(m)
        m &= m - 1
        bound += leaving[b]
    return not _surely_none(u_leave, bound)


@njit(**JIT_PARALLEL)
def households_that_may_leave(
    key: np.uint64, kids: np.ndarray, persons: np.ndarray, leaving: np.ndarray, n_chunks: int
) -> np.ndarray:
    """Increasing ``int64`` indices of the households that may have a child leave home this
    year (:func:`_may_leave` on the year's leaving draw of each, the draw
    :func:`urbsim.kernels.household_step.household_step` uses), a superset of those that do.

    About a quarter of the households have a child of leaving age and a fifth of those have a
    leaver in a year: the engine copies the start-of-year state of the listed households only
    (:data:`FORMATION_FIELDS`), so this list, not the age test alone, sets that copy's size.
    One pass over fixed chunks, each listing its households from its own first index in a
    scratch array of every household (allocated here, not by numpy, so that only the pages
    written become resident: see ``movers`` in the household step), then the chunks' lists
    joined: the same list whatever the threads. Each draw is hashed once (two passes, one to
    count and one to write, hash them twice: the list and its copy took 1.6 times as long).
    """
    n = kids.shape[0]
    mask = 0
    for b in range(L.KID_AGES):
        if leaving[b] > 0.0:
            mask |= np.int64(1) << b
    if mask == 0:
        return np.empty(0, dtype=np.int64)
    filled = (np.int64(1) << lowest_bit(mask)) - 1
    draw = np.uint64(L.DRAW_LEAVE_HOME)
    found = np.empty(n, dtype=np.int64)
    per_chunk = np.zeros(n_chunks + 1, dtype=np.int64)
    for c in prange(n_chunks):
        lo = c * n // n_chunks
        j = lo
        for i in range(lo, (c + 1) * n // n_chunks):
            k = np.int64(kids[i])
            if persons[i] == 0 or (k & mask == 0 and k & filled != filled):
                continue
            u, _ = pair_from_bits(draw_bits(key, np.uint64(i), draw))
            if _may_leave(k, u, leaving, mask, filled):
                found[j] = i
                j += 1
        per_chunk[c + 1] = j - lo
    offsets = np.cumsum(per_chunk)
    out = np.empty(offsets[n_chunks], dtype=np.int64)
    for c in prange(n_chunks):
        lo = c * n // n_chunks
        for t in range(per_chunk[c + 1]):
            out[offsets[c] + t] = found[lo + t]
    return out


#: The parents' fields a formed household is made from (:func:`formed_households`): the
#: engine keeps the start-of-year state of these only.
FORMATION_FIELDS: Final[tuple[str, ...]] = (
    "place",
    "zone",
    "hukou_place",
    "hukou_type",
    "permit",
    "education",
    "land",
    "years_here",
    "years_away",
    "match",
)


def formed_households(
    households: dict[str, np.ndarray], leavers: np.ndarray, n_places: int
) -> dict[str, np.ndarray]:
    """Field arrays of the households formed by ``leavers`` (:func:`plan_formation`).

    ``households`` are the parents' households as they were when the children left, at the
    start of the year (the engine keeps a copy of their :data:`FORMATION_FIELDS`; other fields
    are not read): a leaver stays where it was counted, so the urban population changes only
    through births, deaths, moves and reclassification. A new household lives at its first
    leaver's parents' place and zone, with their hukou place and type, land-contract rights,
    residence permit, the head's education and the match with the place; its years at the place
    and its years away from
    the hukou place are the parents' (each at most the head's age); it has no children (so none
    left behind). Any other field starts at zero.
    """
    parent, age, size = plan_formation(leavers, households["place"], households["zone"], n_places)
    out: dict[str, np.ndarray] = {}
    for name, field in FIELDS.items():
        if name in FORMATION_FIELDS:
            out[name] = households[name][parent]
        else:
            out[name] = np.zeros(parent.shape[0], dtype=field.dtype)
    for name in ("years_here", "years_away"):
        out[name] = np.minimum(households[name][parent], age).astype(FIELDS[name].dtype)
    out["head_age"] = age.astype(FIELDS["head_age"].dtype)
    out["persons"] = size.astype(FIELDS["persons"].dtype)
    return out


@njit(**JIT)
def expected_events(
    zone: np.ndarray,
    place: np.ndarray,
    head_age: np.ndarray,
    kids: np.ndarray,
    persons: np.ndarray,
    fertility: np.ndarray,
    mortality: np.ndarray,
    factor: np.ndarray,
) -> tuple[float, float, float]:
    """Expected births and deaths of a year under the given schedules, and the persons.

    What :func:`live_demography` would produce on average, to first order: deaths of every
    adult and child at their ages' probabilities, births of one woman per couple of the
    adults at the start of the year (deaths during the year are ignored, a relative error of
    the order of the death probability).
    """
    births = 0.0
    deaths = 0.0
    total = 0.0
    for i in range(persons.shape[0]):
        p = np.int64(persons[i])
        if p == 0:
            continue
        z = np.int64(zone[i])
        a = np.int64(head_age[i])
        k = np.int64(kids[i])
        adults = p - popcount(k)
        total += p
        deaths += adults * mortality[z, a]
        m = k
        while m != 0:
            b = lowest_bit(m)
            m &= m - 1
            deaths += mortality[z, b]
        births += (adults // 2) * fertility[z, a] * factor[place[i]]
    return births, deaths, total
