"""The settlement (hukou) decision as Numba functions: who applies, who takes local hukou, and
the points schemes' annual quotas.

A household that stays a year in the urban zone of a place where its hukou is not local and
non-agricultural may apply (probability ``hukou_apply_rate``) if the place's rule lets it (not
closed; ``min_years`` of residence unless open; points schemes rank migrants only). An applicant
takes local hukou with the logit probability

    P = 1 / (1 + exp(-(B - C) / hukou_logit_scale))

of a random-utility choice between settling and not (the difference of two Gumbel errors of
scale ``hukou_logit_scale`` is logistic of that scale). The benefit ``B`` is what a local hukou
adds to what the household has now: the share of public services it lacks (one minus its
access, the permit access capped below a hukou's) times their quality and the child weight, the
non-service premium, and the benefits only a local hukou gives in the place's size class
(schooling and exam eligibility per school-age child, home purchase where restricted, social
insurance). An agricultural household applying at its own hukou place (a local conversion)
already has all of these: its benefit is zero, and it converts only by the logit's noise net
of the land it would give up. The cost ``C`` is the value of the land rights the household
would give up, and counts only where the policy in force makes surrender a condition of
settling (``surrender``) and the household holds agricultural hukou with land.

Land values are not stored. A household's value is a keyed draw that does not change with the
year: the key of the fixed year slot :data:`urbsim.kernels.layout.LAND_YEAR`, the household's
row and :data:`~urbsim.kernels.layout.DRAW_LAND_VALUE`, turned into a log-logistic value with
the median of its hukou place's region (``pl.land_median``) and shape ``land_value_dispersion``.
Household rows are stable (new households are appended), so each keeps its value for the run.

Everything here is inlined into the household step (``JIT_INLINE``) except the points
settlement, which runs once a year after the step. Numba's on-disk cache keys the step on the
source of ``household_step.py`` only: after editing this module in a checkout, clear the cache
(``find urbsim -name '*.nb[ic]' -delete``) or the step keeps the old code (an installed
version replaces every file, so users never meet this). The reference engine implements the same
rules in :mod:`urbsim.engines.mesa_settlement`.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
from numba import njit

from urbsim.config import JIT, JIT_INLINE
from urbsim.inputs import ParamsRecord, PlaceRecord
from urbsim.kernels import layout as L
from urbsim.kernels.checks import check_increasing_indices
from urbsim.rng import uniform, uniform_open, year_key

#: Digest of the urbsim modules compiled into this module's Numba code. Numba's cache looks at
#: this file alone, so a change to them must change this file (tests/kernels/test_compiled_with.py).
COMPILED_WITH: Final = "800452c7e9ce66ef"

_AGRI = 0
_NONAGRI = 1


@njit(**JIT_INLINE)
def settle_probability(net_benefit: float, scale: float) -> float:
    """Logit probability of settling, ``1 / (1 + exp(-net_benefit / scale))``.

    Written in the form that never overflows: for a negative argument the exponential of the
    argument itself is taken (``e / (1 + e)``), so a very unattractive hukou gives 0, not an
    overflow.
    """
    x = net_benefit / scale
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


@njit(**JIT_INLINE)
def land_value_at(u: float, median: float, dispersion: float) -> float:
    """Log-logistic value with median ``median`` and shape ``dispersion`` at the quantile
    ``u`` in (0, 1): ``median * (u / (1 - u)) ** dispersion``, as ``exp`` of a log-odds."""
    return median * math.exp(dispersion * (math.log(u) - math.log1p(-u)))


@njit(**JIT_INLINE)
def household_land_value(seed: int, i: int, median: float, dispersion: float) -> float:
    """The land value of household ``i`` (utils): its own quantile, the same every year."""
    key = year_key(np.uint64(seed), np.uint64(L.LAND_YEAR))
    u = uniform_open(key, np.uint64(i), np.uint64(L.DRAW_LAND_VALUE))
    return land_value_at(u, median, dispersion)


@njit(**JIT_INLINE)
def settlement_benefit(
    acc: float,
    cur: int,
    home: int,
    children: int,
    local: bool,
    pl: PlaceRecord,
    par: ParamsRecord,
) -> float:
    """Utility a local hukou at ``cur`` adds for a household whose service access there is
    ``acc``, whose hukou place is ``home`` and which has ``children`` school-age children;
    nothing for a ``local`` household (an agricultural local converting), which already holds
    a local hukou: full access, the children's schooling and exams, home purchase and local
    social insurance, and the premium of a local hukou are its own already. A migrant from
    another province also sheds the cost of living outside its hukou province
    (``beta_outside_province``): the hukou moves the examinations and the insurance pool with
    it, which is what that cost stands for."""
    if local:
        return 0.0
    b = (
        par.beta_service
        * (1.0 - acc)
        * pl.quality[cur]
        * (1.0 + par.child_service_weight * children)
    )
    b += par.hukou_premium
    b += pl.hukou_benefit[cur]
    b += pl.hukou_benefit_child[cur] * children
    # Without a branch: adding ``beta * 0.0 = +0.0`` leaves ``b`` unchanged to the bit.
    b += par.beta_outside_province * (pl.province[cur] != pl.province[home])
    return b


@njit(**JIT_INLINE)
def settlement_cost(
    i: int, home: int, ht: int, has_land: int, cur: int, pl: PlaceRecord, par: ParamsRecord
) -> float:
    """Utility given up by settling at ``cur``: the household's land value where surrender is
    a condition and it holds agricultural hukou with land rights, else nothing."""
    if ht != _AGRI or has_land == 0 or pl.surrender[cur] == 0:
        return 0.0
    return household_land_value(par.seed, i, pl.land_median[home], par.land_value_dispersion)


@njit(**JIT_INLINE)
def eligible(rule: int, local: bool, years: int, min_years: int) -> bool:
    """Whether the place's rule lets an applicant with ``years`` of residence apply: never
    where closed; after ``min_years`` unless open; points schemes rank migrants only (a local
    agricultural household at a points place converts only by requisition)."""
    if rule == L.RULE_CLOSED or (rule == L.RULE_POINTS and local):
        return False
    return rule == L.RULE_OPEN or years >= min_years


@njit(**JIT_INLINE)
def apply_for_hukou(
    key: np.uint64,
    i: int,
    cur: int,
    yrs: int,
    acc: float,
    hukou_place: np.ndarray,
    hukou_type: np.ndarray,
    permit: np.ndarray,
    children: np.ndarray,
    land: np.ndarray,
    persons: np.ndarray,
    pl: PlaceRecord,
    par: ParamsRecord,
    points: tuple[np.ndarray, np.ndarray],
    counts: np.ndarray,
) -> None:
    """The decision of an applicant (the caller has drawn that it applies this year): the
    rule's eligibility, then the logit draw; under a points rule the household is listed for
    :func:`settle_points` (appended to ``points``: a list and a one-element array holding its
    length), otherwise it takes local hukou at once. ``acc`` is its service access at the
    start of the year."""
    home = np.int64(hukou_place[i])
    ht = np.int64(hukou_type[i])
    rule = pl.rule[cur]
    local = home == cur
    if not eligible(rule, local, yrs, pl.min_years[cur]):
        return
    c = np.int64(children[i])
    net = settlement_benefit(acc, cur, home, c, local, pl, par) - settlement_cost(
        i, home, ht, np.int64(land[i]), cur, pl, par
    )
    p = settle_probability(net, par.hukou_logit_scale)
    if not uniform(key, np.uint64(i), np.uint64(L.DRAW_SETTLE_ACCEPT)) < p:
        return
    if rule == L.RULE_POINTS:
        applied, n_applied = points
        applied[n_applied[0]] = i
        n_applied[0] += 1
        return
    take_local_hukou(i, cur, hukou_place, hukou_type, land, permit, pl.surrender[cur])
    if local:
        counts[L.C_LOCAL_CONVERSIONS] += persons[i]
    else:
        counts[L.C_SETTLED] += persons[i]


@njit(**JIT_INLINE)
def take_local_hukou(
    i: int,
    cur: int,
    hukou_place: np.ndarray,
    hukou_type: np.ndarray,
    land: np.ndarray,
    permit: np.ndarray,
    surrender: int,
) -> None:
    """Register household ``i`` at ``cur`` with non-agricultural hukou; the permit lapses, and
    the land rights too where surrender is a condition of settling."""
    hukou_place[i] = cur
    hukou_type[i] = _NONAGRI
    if surrender != 0:
        land[i] = 0
    permit[i] = 0


# --- points schemes ------------------------------------------------------------------------------
def settle_points(
    key: np.uint64,
    households: dict[str, np.ndarray],
    applicants: np.ndarray,
    gov_of_place: np.ndarray,
    quota_left: np.ndarray,
    par: ParamsRecord,
    surrender: np.ndarray,
) -> int:
    """Grant local hukou to points-scheme applicants in rank order, within each city's quota.

    ``applicants`` are the households that drew to settle under a points rule this year
    (:func:`apply_for_hukou`; increasing row indices, as the household step returns them).
    Those of one local government are ranked by points (education and years of residence),
    ties broken by a keyed draw, then by household index. They are granted in rank order while
    the quota (real persons) covers the household; the first that does not fit ends that
    city's granting for the year. ``quota_left`` is reduced in place. ``par`` gives the points
    per education level and per year, and the households per agent; ``surrender`` (per place)
    whether land rights are given up on settling.

    Returns
    -------
    int
        Persons in the households granted.
    """
    idx = check_increasing_indices(applicants, households["place"].shape[0], "applicants")
    if idx.size == 0:
        return 0
    place = households["place"]
    gov = gov_of_place[place[idx]]
    score = par.points_education * households["education"][idx].astype(
        np.float64
    ) + par.points_years * households["years_here"][idx].astype(np.float64)
    tie = _tie_draws(key, idx.astype(np.uint64))
    order = np.lexsort((idx, tie, -score, gov))
    granted = _grant_in_order(
        idx[order],
        gov[order],
        quota_left,
        par.households_per_agent,
        place,
        households["hukou_place"],
        households["hukou_type"],
        households["land"],
        households["permit"],
        households["persons"],
        surrender,
    )
    return granted


@njit(**JIT)
def _grant_in_order(
    ranked: np.ndarray,
    gov: np.ndarray,
    quota_left: np.ndarray,
    hpa: float,
    place: np.ndarray,
    hukou_place: np.ndarray,
    hukou_type: np.ndarray,
    land: np.ndarray,
    permit: np.ndarray,
    persons: np.ndarray,
    surrender: np.ndarray,
) -> int:
    """Grant ranked applicants while their city's quota covers them (see :func:`settle_points`);
    a loop over a few thousand applicants, compiled since it runs every year."""
    granted = 0
    closed = np.zeros(quota_left.shape[0], dtype=np.bool_)
    for k in range(ranked.shape[0]):
        i = ranked[k]
        g = gov[k]
        if closed[g]:
            continue
        need = float(persons[i]) * hpa
        if quota_left[g] >= need:
            quota_left[g] -= need
            cur = np.int64(place[i])
            take_local_hukou(i, cur, hukou_place, hukou_type, land, permit, surrender[cur])
            granted += np.int64(persons[i])
        else:
            closed[g] = True
    return granted


@njit(**JIT)
def _tie_draws(key: np.uint64, idx: np.ndarray) -> np.ndarray:
    out = np.empty(idx.shape[0], dtype=np.float64)
    for k in range(idx.shape[0]):
        out[k] = uniform(key, idx[k], np.uint64(L.DRAW_POINTS))
    return out
