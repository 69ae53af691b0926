"""The household's match with a place (urbsim.kernels.place_match, docs/ODD.md 7.13): its
levels, the start year's matches, and the match in the choice and after it, on hand-computed
cases."""

from __future__ import annotations

import bisect
import math
from statistics import NormalDist

import numpy as np
import pytest
from scipy import stats
from test_household_step_kernel import (
    KEY,
    N,
    _always_move_par,
    make_households,
    make_pf,
    make_pi,
    run_step,
    softmax,
    tolerance,
)

from urbsim import rng_py
from urbsim.analysis.choice_check import example_case, full_logit_probabilities
from urbsim.engines import mesa_engine
from urbsim.kernels import layout as L
from urbsim.kernels.place_match import match_draw, match_level
from urbsim.kernels.start_match import start_match
from urbsim.state import RURAL, URBAN


def _level(u: float) -> int:
    """The documented level of a uniform: the normal quantile rounded to a step of 1/16."""
    z = NormalDist().inv_cdf(u)
    return min(max(round(z / L.MATCH_STEP), L.MATCH_MIN), L.MATCH_MAX)


def test_levels_round_the_normal_quantile_to_a_sixteenth() -> None:
    rng = np.random.default_rng(7)
    for u in [0.5, 0.3, 0.9, 0.999, 1e-6, *rng.uniform(0.001, 0.999, 200)]:
        assert match_level(float(u)) == _level(float(u)), u
    assert match_level(0.0) == L.MATCH_MIN
    assert match_level(1.0 - 2.0**-53) == L.MATCH_MAX
    # A uniform on a bound belongs to the level above it, in both engines.
    for b in L.MATCH_BOUNDS[::17]:
        assert match_level(float(b)) == bisect.bisect_right(L.MATCH_BOUNDS.tolist(), b) - 128


def test_the_written_bounds_are_the_normal_probabilities() -> None:
    """The bounds written out in urbsim.kernels.match_bounds are the standard normal's
    probabilities at the midpoints between levels, to a few ulps of this machine's."""
    expected = [NormalDist().cdf((k + 0.5) * L.MATCH_STEP) for k in range(L.MATCH_MIN, L.MATCH_MAX)]
    np.testing.assert_allclose(L.MATCH_BOUNDS, expected, rtol=1e-14, atol=0.0)
    assert (np.diff(L.MATCH_BOUNDS) > 0).all() and L.MATCH_BOUNDS.shape == (255,)


def test_levels_of_uniform_draws_are_standard_normal() -> None:
    u = np.random.default_rng(3).uniform(size=200_000)
    z = np.array([match_level(float(x)) for x in u]) * L.MATCH_STEP
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1.0) < 0.01
    # Level 16 holds the quantiles from 15.5 / 16 standard deviations.
    assert abs(np.mean(z >= 1.0) - (1.0 - NormalDist().cdf(15.5 / 16))) < 0.003


def test_the_reference_engine_draws_the_same_levels() -> None:
    key = rng_py.year_key(11, 2013)

    class _Agent:
        hh_id = 0

    agent = _Agent()
    ctx = type("Ctx", (), {"key": key})()
    for h in range(300):
        agent.hh_id = h
        for j in (0, 5, 2999):
            mesa_level = mesa_engine.Household.match_draw(agent, j, ctx)  # type: ignore[arg-type]
            assert mesa_level == match_draw(np.uint64(key), np.uint64(h), j)


def _start(case, seed: int = 3, growth: float = 0.2, **kw):  # type: ignore[no-untyped-def]
    inp = case.inputs
    return start_match(
        case.households.as_dict(), inp.places, inp.par, inp.access, inp.network,
        inp.network_province, inp.origin_start, inp.origin_members, inp.gravity_cdf,
        inp.gravity_guide, seed, growth, **kw,
    )  # fmt: skip


def _stock_density(
    sd: float, growth: float, d: float, hazard: float = 0.0, consider: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """The levels and the documented density of the start matches of a household with the
    return hazard ``hazard`` that those it keeps follow by considering a move with probability
    ``consider`` and leaving with weight ``exp(d)`` against staying."""
    grid = np.arange(L.MATCH_MIN, L.MATCH_MAX + 1) * L.MATCH_STEP
    movers = np.exp(-0.5 * (grid - sd) ** 2)
    leave = (1.0 - hazard) * consider / (1.0 + np.exp(sd * grid - d))
    stock = movers / (growth + hazard + leave)
    return grid, stock / stock.sum()


def test_without_a_match_the_start_levels_are_standard_normal_and_none_at_home() -> None:
    case = example_case(movers=20_000, candidates=4, at_home=False)
    level = _start(case)
    assert level.dtype == np.int8
    away = case.households.place != case.households.hukou_place
    assert (level[~away] == 0).all() and away.all()
    z = level * L.MATCH_STEP
    assert abs(z.mean()) < 0.03 and abs(z.std() - 1.0) < 0.03
    home = example_case(movers=2_000, candidates=4, at_home=True, behaviour={"place_match_sd": 2.0})
    at_home = home.households.place == home.households.hukou_place
    assert (_start(home)[at_home] == 0).all()


@pytest.mark.parametrize(
    ("home_preference", "hazard", "consider"), [(0.0, 0.0, 1.0), (8.0, 0.0, 1.0), (4.0, 0.1, 0.3)]
)
def test_start_levels_follow_the_stocks_distribution_given_being_away(
    home_preference: float, hazard: float, consider: float
) -> None:
    """20,000 identical movers of the choice check's world, each considering a move every
    year (propensity 1, no return hazard) or with a flat return hazard of 0.1 and those it
    keeps considering a move with probability 0.3, far places deterred so that only home
    (either zone) competes with staying, and ``exp(D)`` the logit weight of home against
    staying (read off the full logit): their start levels have the density ``phi(x - sd) /
    (growth + r + (1 - r) p / (1 + exp(sd x - D)))`` on the levels, against which a chi-square
    test at 1 % passes; it fails against the movers' normal of mean ``sd`` when home pulls
    (``D`` > 0), and against the density that forgets the hazard."""
    sd, growth = 1.5, 0.2
    behaviour = {
        "place_match_sd": sd,
        "home_preference": home_preference,
        "beta_distance": 30.0,
        # A hazard flat in age, years away and family, and a propensity below 1.
        "return_rate": hazard,
        "return_hazard_age": 0.0,
        "return_hazard_years_away": 0.0,
        "return_hazard_left_behind": 0.0,
        "move_base": consider,
    }
    case = example_case(movers=20_000, candidates=4, behaviour=behaviour)
    alternatives, p = full_logit_probabilities(case.inputs, case.households, 0)
    assert alternatives[:3] == [(0, URBAN), (5, RURAL), (5, URBAN)]
    assert p[3:].sum() < 1e-9  # the other places: out of reach
    d = math.log((p[1] + p[2]) / p[0])  # home: either zone
    x = _start(case, growth=growth)[case.members] * L.MATCH_STEP
    grid, stock = _stock_density(sd, growth, d, hazard, consider)
    _, movers = _stock_density(sd, 1e9, d)  # growth dominating: no selection by leaving
    edges = np.array([-np.inf, 0.0, 0.75, 1.25, 1.75, 2.25, 3.0, 4.0, np.inf])
    observed = np.histogram(x, edges)[0]

    def p_value(weights: np.ndarray) -> float:
        cells = np.histogram(grid, edges, weights=weights)[0] * x.size
        return float(stats.chisquare(observed, cells).pvalue)

    assert p_value(stock) > 0.01
    if d > 0.0:
        assert p_value(movers) < 0.01 and x.mean() > sd
    if hazard > 0.0:
        assert p_value(_stock_density(sd, growth, d, 0.0, consider)[1]) < 0.01


def test_the_places_to_move_on_to_count_in_the_start_levels() -> None:
    """The same movers with the places in reach: the weight of moving on (the full logit's,
    each other place with the mean weight ``exp(sd**2 / 2)`` of a fresh match) adds to that of
    going home, and the start levels' mean is the density's with both, within the noise of the
    sampled estimate (32 draws per household); with home alone it would be lower."""
    sd, growth = 1.5, 0.2
    case = example_case(movers=20_000, candidates=4, behaviour={"place_match_sd": sd})
    # The weights without matches: the same world (the movers are in the network) without sd.
    plain = example_case(movers=20_000, candidates=4)
    alternatives, p = full_logit_probabilities(plain.inputs, plain.households, 0)
    place = np.array([a[0] for a in alternatives])
    home, stay = p[place == 5].sum(), p[place == 0].sum()
    onward = p[(place != 5) & (place != 0)].sum()
    assert onward > 0.2
    d_all = math.log((home + onward * math.exp(0.5 * sd * sd)) / stay)
    x = _start(case, growth=growth)[case.members] * L.MATCH_STEP
    grid, with_onward = _stock_density(sd, growth, d_all)
    _, home_only = _stock_density(sd, growth, math.log(home / stay))
    assert abs(x.mean() - (grid * with_onward).sum()) < 0.03
    assert (grid * with_onward).sum() - (grid * home_only).sum() > 0.1


def test_start_match_is_keyed_by_the_seed_and_checks_its_input() -> None:
    case = example_case(movers=500, candidates=4, behaviour={"place_match_sd": 1.0})
    assert (_start(case, seed=5) == _start(case, seed=5)).all()
    assert (_start(case, seed=5) == _start(case, seed=5, n_chunks=7)).all()
    assert (_start(case, seed=6) != _start(case, seed=5)).any()
    with pytest.raises(ValueError, match="growth"):
        _start(case, growth=-0.1)
    with pytest.raises(ValueError, match="n_chunks"):
        _start(case, n_chunks=0)


def _level_of(h: int, j: int) -> int:
    """The kernel's draw for household ``h`` and place ``j`` this year, by the documented rule
    (the reference engine's twin generator)."""
    u = rng_py.uniform(int(KEY), h, L.DRAW_MATCH0 + j)
    return bisect.bisect_right(L.MATCH_BOUNDS.tolist(), u) + L.MATCH_MIN


def test_a_household_away_weighs_its_own_match_against_going_home() -> None:
    """Two places: a household away at place 0 with its match (levels from -32 to 32, i.e.
    -2 to +2 standard deviations) chooses between staying and going home (place 1); with two
    places the candidates propose only these. sd 0.8: staying gains 0.8 per standard
    deviation, and those who stay keep their match, those who go home have none."""
    pf = make_pf([30.0, 31.0], [114.0, 116.0], loginc_urban=[10.0, 9.6])
    par = _always_move_par(beta_income=1.0, home_preference=0.3, place_match_sd=0.8)
    level = (np.arange(N) % 65) - 32
    hh = make_households(N, place=0, hukou_place=1, hukou_type=1, match=level)
    grav = np.array([[1.0, 2.0], [1.0, 2.0]])
    run_step(hh, pf, make_pi(2), par, grav=grav, n_candidates=2)
    stay = hh["place"] == 0
    for m in (-32, 0, 32):
        rows = level == m
        p = softmax([10.0 + 0.8 * m / 16.0, 9.6 + 0.3])[0]
        assert abs(stay[rows].mean() - p) < tolerance(p, int(rows.sum())), m
    assert (hh["match"][stay] == level[stay]).all()
    assert (hh["match"][~stay] == 0).all()
    # Without the match the stay would be as likely at every level: far outside.
    low, high = stay[level == -32].mean(), stay[level == 32].mean()
    assert high - low > 0.5


def test_a_place_considered_comes_with_this_years_draw_which_movers_keep() -> None:
    """Three places: a household away at place 0 (hukou: place 2) with its match 0 chooses
    among staying, home and place 1, which every candidate draw proposes (so the choice is the
    full logit). Staying comes with its match (+0.75 standard deviations), place 1 with the
    household's draw of the year: each household's probability is the logit with its own
    draw, those who move to place 1 keep that draw as their match, those who stay their own,
    those who go home none, and the movers' draws are above the average."""
    pf = make_pf([30.0, 30.5, 31.0], [114.0, 114.5, 116.0], loginc_urban=[10.0, 9.0, 9.0])
    sd = 1.5
    par = _always_move_par(beta_income=1.0, home_preference=0.5, place_match_sd=sd)
    hh = make_households(N, place=0, hukou_place=2, hukou_type=1, match=12)
    grav = np.array([[0.0, 1.0, 1.0], [1.0, 1.0, 2.0], [1.0, 2.0, 2.0]])
    run_step(hh, pf, make_pi(3), par, grav=grav, n_candidates=2)
    drawn = np.array([_level_of(h, 1) for h in range(N)])
    v1 = 9.0 + sd * drawn * L.MATCH_STEP
    e0, e2 = math.exp(10.0 + sd * 0.75), math.exp(9.5)
    p1 = np.exp(v1) / (e0 + e2 + np.exp(v1))
    moved = hh["place"] == 1
    assert abs(moved.mean() - p1.mean()) < tolerance(float(p1.mean()))
    # Without the draw the move would be far rarer (the logit's mean over a spread of draws).
    p_flat = math.exp(9.0) / (e0 + e2 + math.exp(9.0))
    assert 0.01 < (hh["place"] == 0).mean() and 0.01 < (hh["place"] == 2).mean()
    assert p1.mean() - p_flat > 10 * tolerance(p_flat)
    assert (hh["match"][moved] == drawn[moved]).all()
    assert drawn[moved].mean() * L.MATCH_STEP > 0.5
    assert (hh["match"][hh["place"] == 2] == 0).all()
    assert (hh["match"][hh["place"] == 0] == 12).all()


def test_the_match_ends_with_a_return_by_the_hazard() -> None:
    """The return hazard sends every household home: none keeps a match."""
    pf = make_pf([30.0, 31.0], [114.0, 116.0])
    par = _always_move_par(return_rate=0.999999, place_match_sd=1.0)
    hh = make_households(1000, place=0, hukou_place=1, hukou_type=1, match=20)
    run_step(hh, pf, make_pi(2), par, n_candidates=2)
    assert (hh["place"] == 1).all() and (hh["match"] == 0).all()
