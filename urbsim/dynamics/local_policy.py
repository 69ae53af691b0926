"""Local governments decide: settlement openness and service investment within the central
policy's bounds.

Each year, after places have updated wages and jobs and before the budgets are set, every
local government scores how much it wants more residents (:func:`openness`) from three
signals, each a documented parameter's weight times a quantity the model computes:

* its **labour market**: the growth of its mean urban wage over the national wage index's
  growth (wages rising faster than elsewhere mean workers are scarce) and its employment rate
  over the natural rate (a tight market);
* its **population change**: urban residents' growth below the national growth (a city losing
  ground to others competes for residents);
* its **fiscal room**: the share of its debt ceiling still unused over that of the other cities
  of its size class (a city that can borrow more than its rivals can afford the services new
  residents are entitled to), from the legislature's ceiling on;
* its **rivals**: the openness of the other governments of its size class last year (cities
  compete for residents and answer each other's moves: the 2017-2019 "talent wars").

The score moves a share ``adjustment`` of the way to its target each year and lies in [-1, 1].
A positive score lowers the residence years its settlement rule requires (at most
``max_change_years``, never below zero), raises its points quota (up to ``quota_factor`` times
the central quota) and its service investment effort; a negative score lowers the investment
effort, and tightens the rule only with ``allow_tightening`` (off by default: since the 2014
opinions the central requirements are maxima). Closed and open rules are left as they are,
and so are the rules of the settlement classes in ``fixed_classes`` (super-large and mega cities
by default: the 2014 opinions keep their population under strict central control; a timeline
that widens these bounds lets them move). The fiscal signal counts from the legislature's
ceiling on (2015). With ``policy.local_response.enabled`` false, the central rules apply
unchanged.
"""

from __future__ import annotations

import numpy as np

from urbsim.dynamics.policy import settlement_class
from urbsim.kernels.layout import RULE_CONDITIONAL, RULE_POINTS
from urbsim.places import size_classes
from urbsim.scenario.schema import SETTLEMENT_KEYS, LocalResponse
from urbsim.state import LocalState, PlaceState, PolicyArrays
from urbsim.world import PlaceTable


def weighted_mean(
    values: np.ndarray, weights: np.ndarray, gov: np.ndarray, n_gov: int
) -> np.ndarray:
    """Mean of ``values`` over each government's places weighted by ``weights`` (0 where the
    weights sum to 0)."""
    total = np.bincount(gov, weights=weights, minlength=n_gov)
    sums = np.bincount(gov, weights=values * weights, minlength=n_gov)
    return np.divide(sums, total, out=np.zeros(n_gov), where=total > 0)


def signals(
    ps: PlaceState, gs: LocalState, gov: np.ndarray, n_gov: int, natural_unemployment: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labour, population and fiscal signals of each government; records its mean wage.

    Returns
    -------
    labour, population, fiscal : numpy.ndarray
        Wage growth over the national wage growth plus the employment rate over its natural
        rate (shares); urban growth over the national urban growth (share per year); unused
        share of the debt ceiling (0 without a ceiling).
    """
    urban = ps.urban_residents
    wage = weighted_mean(ps.wage, urban, gov, n_gov)
    known = gs.mean_wage > 0
    change = np.divide(wage, gs.mean_wage, out=np.ones(n_gov), where=known)
    grown = np.bincount(gov, weights=urban, minlength=n_gov)
    national_change = np.average(change, weights=grown) if grown.sum() > 0 else 1.0
    employment = weighted_mean(ps.employment, urban, gov, n_gov)
    labour = np.where(known, change - national_change, 0.0) + (
        employment - (1.0 - natural_unemployment)
    )
    gs.mean_wage[:] = wage
    before = np.divide(urban, 1.0 + ps.urban_growth, out=np.zeros_like(urban), where=urban > 0)
    base = np.bincount(gov, weights=before, minlength=n_gov)
    growth = np.divide(grown - base, base, out=np.zeros(n_gov), where=base > 0)
    national = (grown.sum() - base.sum()) / base.sum() if base.sum() > 0 else 0.0
    fiscal = np.divide(
        gs.debt_ceiling - gs.debt, gs.debt_ceiling, out=np.zeros(n_gov), where=gs.debt_ceiling > 0
    )
    return labour, growth - national, np.clip(fiscal, 0.0, 1.0)


def openness(
    gs: LocalState,
    labour: np.ndarray,
    population: np.ndarray,
    fiscal: np.ndarray,
    rivals: np.ndarray,
    lr: LocalResponse,
) -> None:
    """Move each government's openness score a share ``lr.adjustment`` towards its target
    ``weight_labour * labour - weight_population * population + weight_fiscal * fiscal +
    weight_rivals * rivals``, clipped to [-1, 1]."""
    target = (
        lr.weight_labour * labour
        - lr.weight_population * population
        + lr.weight_fiscal * fiscal
        + lr.weight_rivals * rivals
    )
    target = np.clip(target, -1.0, 1.0)
    gs.openness[:] = gs.openness + lr.adjustment * (target - gs.openness)


def government_classes(
    table: PlaceTable, ps: PlaceState, gov: np.ndarray, n_gov: int
) -> np.ndarray:
    """Size class of each government's city this year (:func:`urbsim.places.size_classes`)."""
    out = np.zeros(n_gov, dtype=np.int64)
    out[gov] = size_classes(table, ps.urban_residents, gov, n_gov)
    return out


def class_mean(
    values: np.ndarray, weight: np.ndarray, size: np.ndarray, exclude_self: bool
) -> np.ndarray:
    """For each government, the mean of ``values`` over the governments of its size class
    weighted by ``weight`` (urban residents), itself left out with ``exclude_self``; 0 where
    the weights sum to 0."""
    n_class = int(size.max()) + 1 if size.size else 0
    total_w = np.bincount(size, weights=weight, minlength=n_class)[size]
    total = np.bincount(size, weights=values * weight, minlength=n_class)[size]
    if exclude_self:
        total_w = total_w - weight
        total = total - values * weight
    return np.divide(total, total_w, out=np.zeros_like(values), where=total_w > 0)


def apply_openness(
    pa: PolicyArrays,
    gs: LocalState,
    gov: np.ndarray,
    lr: LocalResponse,
    movable: np.ndarray | None = None,
) -> None:
    """Each place's residence years and points quota under its government's openness score
    ``o``: years ``max(0, central - round(o * max_change_years))`` and quota ``central *
    quota_factor ** o`` (only ``o >= 0`` counts unless ``allow_tightening``); conditional and
    points rules only. ``pa.relaxed`` records the places whose years fell or quota rose."""
    score = gs.openness[gov]
    if not lr.allow_tightening:
        score = np.maximum(score, 0.0)
    cut = np.rint(score * lr.max_change_years).astype(np.int64)
    adjustable = (pa.rule == RULE_CONDITIONAL) | (pa.rule == RULE_POINTS)
    if movable is not None:
        adjustable &= movable
    years = np.where(adjustable, np.maximum(pa.min_years - cut, 0), pa.min_years)
    points = adjustable & (pa.rule == RULE_POINTS)
    quota = np.where(points, pa.quota_per_10k * lr.quota_factor**score, pa.quota_per_10k)
    pa.relaxed[:] = (years < pa.min_years) | (quota > pa.quota_per_10k)
    pa.min_years[:] = years
    pa.quota_per_10k[:] = quota


def movable_places(
    table: PlaceTable, ps: PlaceState, gov: np.ndarray, n_gov: int, lr: LocalResponse
) -> np.ndarray:
    """Places whose settlement class (size class of their city at the start of the year, or
    county town) is not in ``lr.fixed_classes``: the central policy keeps those rules."""
    size = size_classes(table, ps.urban_residents, gov, n_gov)
    row = settlement_class(size, table.kind)
    fixed = [SETTLEMENT_KEYS.index(key) for key in lr.fixed_classes]
    return ~np.isin(row, fixed)


def investment_effort(gs: LocalState, lr: LocalResponse) -> np.ndarray:
    """Multiplier of ``economy.investment_share`` for each government: ``1 + openness *
    investment_response``, never negative."""
    return np.clip(1.0 + gs.openness * lr.investment_response, 0.0, None)


def respond(
    ps: PlaceState,
    gs: LocalState,
    pa: PolicyArrays,
    table: PlaceTable,
    gov: np.ndarray,
    n_gov: int,
    lr: LocalResponse,
    natural_unemployment: float,
    statutory: bool,
    first: bool,
) -> np.ndarray:
    """The year's local decisions: signals, openness, the settlement rules of each place.

    The fiscal signal is a government's unused share of its ceiling over the mean of its size
    class, the rivals' signal the last openness of the other governments of its size class
    (:func:`class_mean`, urban residents weighted). ``statutory`` says whether the
    legislature's debt ceiling is in force: before it the fiscal signal is neutral (0: the
    LGFV limit is the model's stand-in for bank credit, not a ceiling the government steers
    by).

    Returns
    -------
    numpy.ndarray
        Investment effort of each government (1 when the response is off or in the first
        year, which only records the wages the next year's signal compares with).
    """
    if not lr.enabled:
        return np.ones(n_gov)
    labour, population, fiscal = signals(ps, gs, gov, n_gov, natural_unemployment)
    if first:
        return np.ones(n_gov)
    size = government_classes(table, ps, gov, n_gov)
    urban = np.bincount(gov, weights=ps.urban_residents, minlength=n_gov)
    rivals = class_mean(gs.openness, urban, size, exclude_self=True)
    # Room counts against the rivals' room: a ceiling that binds everywhere is no signal.
    room = fiscal - class_mean(fiscal, urban, size, exclude_self=False)
    openness(gs, labour, population, room if statutory else np.zeros(n_gov), rivals, lr)
    apply_openness(pa, gs, gov, lr, movable_places(table, ps, gov, n_gov, lr))
    return investment_effort(gs, lr)
