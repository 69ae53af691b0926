"""Destination constants (Berry 1994): hand-computed cases, properties, the model's use."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from urbsim.analysis.choice_check import example_case, full_logit_probabilities
from urbsim.dynamics import destination_constants as D
from urbsim.errors import InputError
from urbsim.model import UrbanizationModel
from urbsim.scenario import load_scenario
from urbsim.state import URBAN

INF = math.inf
ROOT = Path(__file__).resolve().parents[2]


def _mean_inclusive_value(
    v: np.ndarray, province: np.ndarray, delta: np.ndarray, origins: np.ndarray
) -> float:
    across = province[:, None] != province[None, :]
    u = v + np.where(across, delta[1][None, :], delta[0][None, :])
    top = u.max(axis=1)
    return float(origins @ (top + np.log(np.exp(u - top[:, None]).sum(axis=1))) / origins.sum())


def test_three_equal_places_by_hand() -> None:
    """Three places alike in one province, one mover from each, place 0 to receive half of the
    in-migrants: with ``a, b, b`` the constants' exponentials, place 0 receives
    ``2a / (a + b)`` movers, so ``a = 3b``; the mean log-sum ``(ln 2b + 2 ln 4b) / 3`` equals
    ``ln 2`` (none without constants) at ``ln b = -(2/3) ln 2``. No mover comes from another
    province: those constants are 0."""
    v = np.array([[-INF, 0.0, 0.0], [0.0, -INF, 0.0], [0.0, 0.0, -INF]])
    m = np.array([[2.0, 1.0, 1.0], [0.0, 0.0, 0.0]])
    delta, iterations = D.berry_constants(v, np.zeros(3, dtype=int), np.ones(3), m)
    b = -2.0 / 3.0 * math.log(2.0)
    np.testing.assert_allclose(delta, [[math.log(3.0) + b, b, b], [0.0, 0.0, 0.0]], atol=1e-6)
    assert 1 <= iterations < D.MAX_ITERATIONS


def test_predicted_shares_by_hand() -> None:
    """Two movers from place 0 choose 1 (same province) or 2 (another) at odds e:1, one from
    place 1 goes to 0 or 2 at 1:1; place 2 sends nothing. A constant of 1 for movers from other
    provinces at place 2 makes the odds of 0's movers 1:1."""
    v = np.array([[-INF, 1.0, 0.0], [0.0, -INF, 0.0], [0.0, 0.0, -INF]])
    province = np.array([0, 0, 1])
    origins = np.array([2.0, 1.0, 0.0])
    shares = D.predicted_shares(v, province, np.zeros((2, 3)), origins)
    e = math.e
    expected = [[0.5 / 3, 2 * e / (e + 1) / 3, 0.0], [0.0, 0.0, (2 / (e + 1) + 0.5) / 3]]
    np.testing.assert_allclose(shares, expected)
    lifted = D.predicted_shares(v, province, np.array([[0, 0, 0], [0, 0, 1.0]]), origins)
    np.testing.assert_allclose(lifted[0, 1], 1 / 3)


def test_a_pair_without_in_migrants_gets_a_millionth_of_them() -> None:
    """Nobody from its province lives at place 2: a millionth of the movers from there arrive
    (open to them, not closed for good)."""
    rng = np.random.default_rng(3)
    v = rng.normal(0.0, 2.0, (5, 5))
    np.fill_diagonal(v, -INF)
    # Three provinces: with two, every place's arrivals from the other come from one province,
    # and a millionth more at place 2 could not be sent (ACCEPTABLE covers that).
    province = np.array([0, 0, 0, 1, 2])
    flows = rng.uniform(1.0, 2.0, (5, 5))
    np.fill_diagonal(flows, 0.0)
    flows[[0, 1], 2] = 0.0
    across = province[:, None] != province[None, :]
    m = np.stack([np.where(across, 0.0, flows).sum(0), np.where(across, flows, 0.0).sum(0)])
    assert m[0, 2] == 0.0
    delta, _ = D.berry_constants(v, province, flows.sum(axis=1), m)
    floored = m.copy()
    floored[0, 2] = D.ZERO_SHARE * m.sum()  # places 3 and 4 have no other place in province
    np.testing.assert_allclose(
        D.predicted_shares(v, province, delta, flows.sum(axis=1)), floored / floored.sum()
    )


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(3, 12),
    seed=st.integers(0, 2**32 - 1),
    spread=st.floats(0.0, 8.0),
    provinces=st.sampled_from([1, 3, 4]),
)
def test_constants_reproduce_the_shares_keep_the_inclusive_value_and_absorb_destination_terms(
    n: int, seed: int, spread: float, provinces: int
) -> None:
    """For any utilities: the movers arrive in proportion to the in-migrants of each scope,
    their mean log-sum is that without constants, and a term of the destination alone added to
    the utilities comes out of the constants (the choice probabilities are the same)."""
    rng = np.random.default_rng(seed)
    v = rng.normal(0.0, spread, (n, n))
    np.fill_diagonal(v, -INF)
    # Every province with two places or more, and one or three or more provinces: with two, or a
    # province of one place, what some places receive from other provinces is exactly what one
    # province sends, and the contraction crawls (the census world has 31 provinces of many).
    provinces = provinces if n >= 2 * provinces else 1
    province = rng.permutation(np.arange(n) % provinces)
    # Shares the places can produce: the arrivals of some flows from ``origins`` (a place
    # cannot receive more than the others send).
    flows = rng.uniform(0.1, 1.0, (n, n)) ** 2
    np.fill_diagonal(flows, 0.0)
    origins = rng.uniform(0.5, 10.0, n)
    flows *= (origins / flows.sum(axis=1))[:, None]
    across = province[:, None] != province[None, :]
    m = np.stack(
        [np.where(across, 0.0, flows).sum(axis=0), np.where(across, flows, 0.0).sum(axis=0)]
    )
    delta, _ = D.berry_constants(v, province, origins, m)
    np.testing.assert_allclose(
        D.predicted_shares(v, province, delta, origins),
        m / m.sum(),
        rtol=2 * D.ACCEPTABLE,
        atol=1e-12,
    )
    assert _mean_inclusive_value(v, province, delta, origins) == pytest.approx(
        _mean_inclusive_value(v, province, np.zeros((2, n)), origins), abs=1e-9
    )
    term = rng.normal(0.0, 3.0, n)
    shifted, _ = D.berry_constants(v + term[None, :], province, origins, m)
    np.testing.assert_allclose(
        D.predicted_shares(v + term[None, :], province, shifted, origins),
        D.predicted_shares(v, province, delta, origins),
        rtol=4 * D.ACCEPTABLE,
        atol=1e-12,
    )


def _problem(seed: int, n: int = 12, provinces: int = 3) -> tuple[np.ndarray, ...]:
    """Random utilities, provinces, out-migrants and the exp(V - row max) of the senders."""
    rng = np.random.default_rng(seed)
    v = rng.normal(0.0, 2.0, (n, n))
    np.fill_diagonal(v, -INF)
    province = rng.permutation(np.arange(n) % provinces)
    origins = rng.uniform(0.5, 10.0, n)
    e = np.exp(v - v.max(axis=1, keepdims=True))
    return v, province, origins, e


def _dense_scopes(e: np.ndarray, province: np.ndarray) -> np.ndarray:
    """``(2, n, n)``: ``e`` within the origin's province (0) and outside it (1)."""
    same = province[:, None] == province[None, :]
    return np.stack([np.where(same, e, 0.0), np.where(same, 0.0, e)])


def test_the_split_sums_are_those_of_the_dense_scopes() -> None:
    """Kept apart as the across matrix and one block per province, the sums the solution
    takes each step are those of the two dense scope matrices (rows: the sending places only,
    so that a row taken for a column would show)."""
    _, province, origins, e = _problem(5)
    sending = np.flatnonzero(np.arange(e.shape[0]) % 4 != 1)
    e, origins = e[sending], origins[sending]
    same = province[sending][:, None] == province[None, :]
    dense = np.stack([np.where(same, e, 0.0), np.where(same, 0.0, e)])
    split = D._split(e.copy(), province[sending], province)
    rng = np.random.default_rng(6)
    w = rng.uniform(0.1, 3.0, (2, e.shape[1]))
    np.testing.assert_allclose(D._log_sum_terms(split, w), dense[0] @ w[0] + dense[1] @ w[1])
    np.testing.assert_allclose(
        D._arrivals(split, origins), np.stack([origins @ dense[0], origins @ dense[1]])
    )


@pytest.mark.parametrize("pass_rows", [1, 3, 64])
def test_one_pass_gives_the_terms_and_arrivals_of_two(
    monkeypatch: pytest.MonkeyPatch, pass_rows: int
) -> None:
    """The evaluation that reads the across matrix once, by blocks of rows (one row, blocks
    that do not divide the rows, one block), gives the log-sum terms and the arrivals over
    them of the two separate products."""
    monkeypatch.setattr(D, "_PASS_ROWS", pass_rows)
    _, province, origins, e = _problem(7, n=13)
    sending = np.flatnonzero(np.arange(e.shape[0]) % 5 != 2)
    e, origins = e[sending], origins[sending]
    split = D._split(e.copy(), province[sending], province)
    w = np.random.default_rng(8).uniform(0.1, 3.0, (2, e.shape[1]))
    terms, arrivals = D._terms_and_arrivals(split, w, origins)
    expected = D._log_sum_terms(split, w)
    np.testing.assert_allclose(terms, expected, rtol=1e-14)
    np.testing.assert_allclose(arrivals, D._arrivals(split, origins / expected), rtol=1e-13)


def test_a_newton_stage_that_runs_out_hands_back_to_berry_and_starts_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With the Newton stage cut to two evaluations, the solution alternates: Berry's step
    to the handover, Newton, Berry to a tenth of the handover (or of the error), Newton again,
    ... at most _NEWTON_STAGES Newton stages, the last with every evaluation left, as every
    Berry stage has (it stops where it crawls); it ends at the constants of the uncut schedule
    (to the tolerance's consequence)."""
    v, province, origins, _ = _problem(3, n=24, provinces=3)
    m = np.random.default_rng(4).uniform(0.5, 2.0, (2, 24))
    full, _ = D.berry_constants(v, province, origins, m)
    stages: list[tuple[str, float, int, float]] = []
    root = D._accelerated_root

    def recorded(step, x, tolerance, budget, patience=D.MEMORY, **kw):  # type: ignore[no-untyped-def]
        found = root(step, x, tolerance, budget, patience, **kw)
        stages.append((step.__name__, tolerance, budget, found[2]))
        return found

    monkeypatch.setattr(D, "_accelerated_root", recorded)
    monkeypatch.setattr(D, "_NEWTON_BUDGET", 2)
    cut, _ = D.berry_constants(v, province, origins, m)
    names = [stage[0] for stage in stages]
    assert names[: 2 * D._NEWTON_STAGES] == ["berry", "newton"] * D._NEWTON_STAGES
    assert all(name == "berry" for name in names[2 * D._NEWTON_STAGES :])
    newton = [budget for name, _, budget, _ in stages if name == "newton"]
    assert all(budget == 2 for budget in newton[:-1]) and newton[-1] > 2
    assert all(stages[k][2] > 2 for k in range(2, 2 * D._NEWTON_STAGES, 2))
    # Each Berry stage goes to a tenth of the last handover (raised to the error where Berry's
    # stage stopped short of it), or of the point's error if the Newton stage between gained
    # nothing.
    assert stages[0][1] == D.HANDOVER
    for k in range(2, 2 * D._NEWTON_STAGES, 2):
        handover = max(stages[k - 2][1], stages[k - 2][3])
        assert stages[k][1] in (
            pytest.approx(handover / 10),
            pytest.approx(min(handover, stages[k - 2][3]) / 10),
        )
    np.testing.assert_allclose(cut, full, atol=1e-5)


@pytest.mark.parametrize(
    ("fall", "crawl", "stops_at"),
    [(1.0, D._BERRY_CRAWL, 2 * D._WINDOW), (0.9975, D._BERRY_CRAWL, None), (1.0, 0.0, None)],
)
def test_a_berry_stage_stops_where_it_crawls_not_where_it_is_slow(
    fall: float, crawl: float, stops_at: int | None
) -> None:
    """With ``crawl`` the accelerated step stops once its best error has not fallen below that
    share of the best a window before (checked every _WINDOW evaluations, from the second):
    an error stuck at 2.8e-4 (as at a calibration set of 2026-12-06) stops at the second
    window; one that falls by 0.9975 an evaluation (0.61 a window, the slowest a Berry stage
    reached its handover at) goes on to the budget, as every error does without ``crawl``."""
    calls = [0]

    def step(x: np.ndarray) -> tuple[np.ndarray, float]:
        calls[0] += 1
        return np.zeros_like(x), 0.3 * fall ** calls[0]

    budget = 3 * D._WINDOW
    _, iterations, _ = D._accelerated_root(step, np.zeros(2), 1e-12, budget, crawl=crawl)
    assert iterations == (budget if stops_at is None else stops_at)


def test_a_newton_point_is_judged_by_its_gap_as_berry_s_is(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Newton stage that stops short keeps its point when its gap (Berry's error there) is
    smaller, although the Newton error, which counts the step too, is larger: the next Berry
    stage starts from it. Stub steps on the difference d of two constants (their level is
    free): Berry's step takes 1 % of d, Newton's half, and Newton's error is 10 |d|."""
    monkeypatch.setattr(D, "MAX_ITERATIONS", 200)
    monkeypatch.setattr(D, "_NEWTON_STAGES", 2)
    monkeypatch.setattr(D, "_NEWTON_BUDGET", 2)
    seen: list[float] = []

    def berry(x: np.ndarray) -> tuple[np.ndarray, float]:
        d = float(x[0] - x[1])
        seen.append(d)
        return np.array([-0.01 * d, 0.0]), abs(d)

    def newton(x: np.ndarray) -> tuple[np.ndarray, float]:
        d = float(x[0] - x[1])
        return np.array([-0.5 * d, 0.0]), 10.0 * abs(d)

    _, iterations, error = D._staged_root(berry, newton, np.array([0.2, 0.0]))
    # Berry at 0.2 (within the handover), Newton to 0.1 (its error 1.0), Berry's gap there,
    # then Berry's stage from 0.1, not from 0.2.
    assert seen[:3] == [pytest.approx(0.2), pytest.approx(0.1), pytest.approx(0.1)]
    assert error < 1e-7 and iterations < 200


def test_the_stages_keep_an_acceptable_point_when_the_evaluations_run_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A Newton stage that reaches an acceptable error with the last evaluations allowed
    ends the solution there, with that error (no stage after it starts on no evaluations)."""
    monkeypatch.setattr(D, "MAX_ITERATIONS", 10)
    berry = lambda x: (np.full_like(x, 0.1), 0.1)  # noqa: E731 (stub steps)
    newton = lambda x: (np.zeros_like(x), 5e-5)  # noqa: E731
    _, iterations, error = D._staged_root(berry, newton, np.zeros(3))
    assert iterations == 10
    assert error == 5e-5


def test_no_newton_evaluations_is_berry_s_step_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the Newton stage given no evaluations, the solution is one run of Berry's
    accelerated step to the handover and one on to the tolerance, no stage between."""
    v, province, origins, _ = _problem(3, n=24, provinces=3)
    m = np.random.default_rng(4).uniform(0.5, 2.0, (2, 24))
    calls: list[str] = []
    root = D._accelerated_root

    def recorded(step, x, tolerance, budget, patience=D.MEMORY, **kw):  # type: ignore[no-untyped-def]
        calls.append(step.__name__)
        return root(step, x, tolerance, budget, patience, **kw)

    monkeypatch.setattr(D, "_accelerated_root", recorded)
    monkeypatch.setattr(D, "_NEWTON_BUDGET", 0)
    D.berry_constants(v, province, origins, m)
    assert calls == ["berry", "berry"]


def test_the_within_province_step_solves_the_dense_hessian_s_blocks() -> None:
    """At any point the step at a province's places for its own movers solves the Hessian of
    the dual restricted to them (built here from every mover's choice probabilities), damped;
    at the other pairs it is Berry's step."""
    _, province, origins, e = _problem(7)
    n = e.shape[0]
    rng = np.random.default_rng(8)
    x = rng.normal(0.0, 1.0, (2, n))
    w = np.exp(x)
    dense = _dense_scopes(e, province)
    total = origins.sum()
    # Every mover's choice probabilities over the 2n (scope, place) pairs.
    p = np.concatenate([dense[0] * w[0], dense[1] * w[1]], axis=1)
    p /= p.sum(axis=1, keepdims=True)
    shares = (origins / total) @ p
    hessian = np.diag(shares) - (p * (origins / total)[:, None]).T @ p
    gap = rng.normal(0.0, 0.1, (2, n))
    split = D._split(e.copy(), province, province)
    terms = D._log_sum_terms(split, w)
    step = D._within_newton_step(split.blocks, origins, shares.reshape(2, n), terms, w, gap)
    np.testing.assert_allclose(step[1], gap[1])
    for k in np.unique(province):
        at = np.flatnonzero(province == k)
        damped = hessian[np.ix_(at, at)] + D._DAMPING * np.diag(shares[at])
        expected = np.linalg.solve(damped, shares[at] * gap[0, at])
        np.testing.assert_allclose(step[0, at], expected, rtol=1e-9, atol=1e-12)


def test_the_start_meets_every_province_s_totals_of_each_scope() -> None:
    """The province-by-scope constants the solution starts from send each province's and
    scope's share of the movers (to a thousandth), whatever the places' shares inside it."""
    v, province, origins, e = _problem(9, n=15)
    rng = np.random.default_rng(10)
    # Shares the movers can produce: those of some constants of each place and scope.
    share = D.predicted_shares(v, province, rng.normal(0.0, 2.0, (2, 15)), origins)
    offsets = D._province_offsets(D._split(e.copy(), province, province), origins, share, province)
    got = D.predicted_shares(v, province, offsets, origins)
    for k in np.unique(province):
        at = province == k
        np.testing.assert_allclose(got[:, at].sum(axis=1), share[:, at].sum(axis=1), rtol=2e-3)


def test_shares_a_closed_province_cannot_reach_are_an_error_and_the_utilities_are_kept() -> None:
    """Movers of province 0's two places can only go to each other (all else minus infinity),
    yet the in-migrants ask half of them to leave the province: counts that flows could give
    (the check before the solution passes them), utilities that cannot. A ValueError,
    whatever stage meets it first; the caller's utilities are not changed."""
    rng = np.random.default_rng(11)
    province = np.array([0, 0, 1, 1, 2, 2])
    v = rng.normal(0.0, 1.0, (6, 6))
    v[:2, 2:] = -INF
    np.fill_diagonal(v, -INF)
    kept = v.copy()
    origins = np.array([1.0, 1.0, 2.0, 2.0, 2.0, 2.0])
    m = np.array([[0.5, 0.5, 1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 1.5, 1.0, 1.5, 1.0]])
    assert D._unattainable(origins, m, province, np.arange(3), np.arange(6)) is None
    with pytest.raises(ValueError, match="did not converge"):
        D.berry_constants(v, province, origins, m)
    np.testing.assert_array_equal(v, kept)


#: Out-migrants of the places of provinces 11, 42 and 51 (a tenth of them each for province
#: 11, three fifths for 42), in-migrants that flows could give (sent 1, 3 and 2 across), and
#: counts that break one bound each: province 11's place 110 asks more from its province than
#: place 111 has; province 42 keeps more movers than it has; province 42 asks 3.5 from the
#: others, who send out 1 + 2.
_PROVINCE = np.array([11, 11, 42, 42, 42, 51])
_ORIGINS = np.array([1.0, 1.0, 2.0, 2.0, 2.0, 2.0])
_STOCKS = {
    "attainable": ([[0.5, 0.5, 1, 1, 1, 0], [1, 1, 1, 0.5, 0.5, 2]], None),
    "place": ([[1.2, 0.3, 1, 1, 1, 0], [1, 1, 1, 0.5, 0.5, 2]], "place 110 .province 11."),
    "within": ([[0.5, 0.5, 2.1, 2.1, 2.1, 0], [1, 1, 0, 0, 0, 1]], "42: in-migrants from the"),
    "across": ([[0.5, 0.5, 1, 1, 1, 0], [0.5, 0.5, 2.5, 0.5, 0.5, 2]], "province 42: .* other"),
}


@pytest.mark.parametrize("case", list(_STOCKS))
def test_in_migrants_no_constants_can_give_are_refused_before_any_iteration(
    case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each bound of :func:`D._unattainable` is named with the province's code (and the
    place's), before a single evaluation of the shares (the solver is never called); counts
    within the bounds go to the solver."""
    v = np.random.default_rng(5).normal(0.0, 1.0, (6, 6))
    np.fill_diagonal(v, -INF)
    m, named = _STOCKS[case]
    calls: list[int] = []
    monkeypatch.setattr(D, "_solve", lambda *a: calls.append(1) or (np.zeros(a[3].sum()), 0))
    places = np.array([110, 111, 420, 421, 422, 510])
    if named is None:
        D.berry_constants(v, _PROVINCE, _ORIGINS, np.array(m, dtype=float), places=places)
        assert calls
        return
    with pytest.raises(D.UnattainableShares, match=named) as exc:
        D.berry_constants(v, _PROVINCE, _ORIGINS, np.array(m, dtype=float), places=places)
    assert isinstance(exc.value, ValueError)  # callers that catch ValueError still do
    assert not calls


def test_province_codes_need_not_be_indices() -> None:
    """Provinces given by their codes (sparse, any integers) give the constants of their
    ranks."""
    v, province, origins, _ = _problem(12)
    rng = np.random.default_rng(13)
    m = D.predicted_shares(v, province, rng.normal(0.0, 1.0, (2, 12)), origins) * 100.0
    by_rank, _ = D.berry_constants(v, province, origins, m)
    by_code, _ = D.berry_constants(v, np.array([11, 42, 51])[province], origins, m)
    np.testing.assert_allclose(by_code, by_rank)


@pytest.mark.slow
def _hand_1_census_model() -> UrbanizationModel:
    """The census world at 2,000 households per agent (seed 1) with the calibration probe's
    set ``hand_1`` (strong distance and network terms)."""
    sets = pd.read_csv(ROOT / "experiments/calibration/probe_sets.csv", comment="#")
    row = sets.set_index("name").loc["hand_1"]
    overrides = [f"{k}={float(v)!r}" for k, v in row.items()]
    overrides += ["world.households_per_agent=2000.0", "seed=1"]
    return UrbanizationModel(load_scenario(ROOT / "scenarios/china_census.toml", overrides))


def test_the_within_province_stage_is_what_makes_the_census_world_fast(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On the census world, at a calibration probe's set (``hand_1``, strong distance and
    network terms), the constants come in under half the evaluations Berry's accelerated
    step alone takes after the same start, and are the same to the tolerance's consequence
    (1e-4 util)."""
    model = _hand_1_census_model()
    args = (model.mover_utilities(), model.province_of_place)
    stock = model.start_migrants
    fast, evaluations = D.berry_constants(*args, stock.out_migrants, stock.in_migrants)
    monkeypatch.setattr(D, "_NEWTON_BUDGET", 0)
    plain, plain_evaluations = D.berry_constants(*args, stock.out_migrants, stock.in_migrants)
    assert evaluations < 0.5 * plain_evaluations
    np.testing.assert_allclose(fast, plain, atol=1e-4)


def test_the_constants_do_not_follow_the_blas_thread_count() -> None:
    """On the census world (the products are large enough for OpenBLAS to split them among
    threads, which changed the constants' last bits before the fit was held to one thread),
    the constants are the same to the last bit under one and two BLAS threads."""
    from threadpoolctl import threadpool_info, threadpool_limits

    if not any(pool["user_api"] == "blas" for pool in threadpool_info()):
        pytest.fail("numpy's BLAS is not visible to threadpoolctl: the limit cannot be checked")
    model = _hand_1_census_model()
    args = (model.mover_utilities(), model.province_of_place)
    stock = model.start_migrants
    fits = []
    for threads in (1, 2):
        with threadpool_limits(limits=threads, user_api="blas"):
            fits.append(D.berry_constants(*args, stock.out_migrants, stock.in_migrants))
    np.testing.assert_array_equal(fits[0][0], fits[1][0])
    assert fits[0][1] == fits[1][1]


_ONE = np.zeros(2, dtype=int)


@pytest.mark.parametrize(
    ("utilities", "province", "origins", "in_migrants", "match"),
    [
        (np.zeros((3, 2)), _ONE, np.ones(2), np.ones((2, 2)), "expected"),
        (np.zeros((2, 2)), _ONE, np.ones(2), np.ones(2), "expected"),
        (np.zeros((2, 2)), _ONE, np.array([1.0, -1.0]), np.ones((2, 2)), "origins must be"),
        (np.zeros((2, 2)), _ONE, np.ones(2), np.zeros((2, 2)), "in_migrants must be"),
        (np.full((2, 2), -INF), _ONE, np.ones(2), np.ones((2, 2)), "no destination"),
        # One province: nobody comes from another, yet the in-migrants say some did.
        (np.array([[-INF, 0.0], [0.0, -INF]]), _ONE, np.ones(2), np.ones((2, 2)), "can reach"),
        # Only place 0 sends, and it cannot reach itself.
        (
            np.array([[-INF, 0.0], [0.0, -INF]]),
            _ONE,
            np.array([1.0, 0.0]),
            np.array([[1.0, 1.0], [0.0, 0.0]]),
            "can reach",
        ),
    ],
)
def test_bad_inputs_are_refused(
    utilities: np.ndarray,
    province: np.ndarray,
    origins: np.ndarray,
    in_migrants: np.ndarray,
    match: str,
) -> None:
    with pytest.raises(ValueError, match=match):
        D.berry_constants(utilities, province, origins, in_migrants)


def test_no_convergence_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(D, "MAX_ITERATIONS", 1)
    v = np.array([[-INF, 0.0, 1.0], [0.0, -INF, 2.0], [3.0, 0.0, -INF]])
    m = np.array([[1.0, 1.5, 1.0], [0.0, 0.0, 0.0]])
    monkeypatch.setattr(D, "ACCEPTABLE", 1e-12)
    with pytest.raises(ValueError, match="did not converge in 1 evaluations"):
        D.berry_constants(v, np.zeros(3, dtype=int), np.ones(3), m)


@pytest.mark.parametrize("outside", [0.0, 1.3])
def test_mover_utilities_are_the_full_logit_s_up_to_terms_every_destination_shares(
    outside: float,
) -> None:
    """The movers of the choice check's world at their hukou place 5 (no school-age children
    count: the case's places give non-hukou children no school access): their full-logit
    utility of every other place is the row of :func:`mover_utilities` less the moving cost
    (docs/ODD.md 7.13), and the choice probabilities among other places agree; with a cost of
    living outside the hukou province too (for them, on the places across the border)."""
    behaviour = {"beta_network_province": 0.7, "beta_outside_province": outside}
    case = example_case(movers=1, at_home=True, behaviour=behaviour)
    alternatives, p = full_logit_probabilities(case.inputs, case.households, 0)
    v = D.mover_utilities(
        case.inputs.par, case.inputs.places, case.inputs.network, case.inputs.network_province
    )
    others = [(k, j) for k, (j, z) in enumerate(alternatives) if j != 5 and z == URBAN]
    row = np.array([v[5, j] for _, j in others])
    q = np.array([p[k] for k, _ in others])
    np.testing.assert_allclose(q / q.sum(), np.exp(row - row.max()) / np.exp(row - row.max()).sum())
    assert v[5, 5] == -INF


def _model(small_scenario: Any, on: bool) -> UrbanizationModel:
    return UrbanizationModel(small_scenario(end_year=2011, behaviour={"destination_constants": on}))


def test_the_model_sets_them_at_the_start_from_its_households_migrants(small_scenario: Any) -> None:
    """On the synthetic world (no source migrant stock) the constants reproduce where its
    households' migrants live, from the province and from others (the pairs without any share
    a millionth); without the switch they are zero and the inputs carry zeros."""
    model = _model(small_scenario, True)
    hh, n, province = model.households, model.n_places, model.province_of_place
    away = hh.place != hh.hukou_place
    across = province[hh.place[away]] != province[hh.hukou_place[away]]
    persons = hh.persons[away].astype(float)
    m = np.stack(
        [
            np.bincount(hh.place[away], persons * ~across, n),
            np.bincount(hh.place[away], persons * across, n),
        ]
    )
    origins = np.bincount(hh.hukou_place[away], persons, n)
    shares = D.predicted_shares(model.mover_utilities(), province, model.entry_constant, origins)
    held = m > 0  # the pairs without any share a millionth between them
    np.testing.assert_allclose(shares[held], m[held] / m.sum(), rtol=2 * D.ACCEPTABLE)
    assert 0 < shares[~held].sum() < 2 * D.ZERO_SHARE
    assert model.entry_constant.std() > 0.1
    places = model.year_inputs().places
    np.testing.assert_array_equal(places.entry_within, model.entry_constant[0])
    np.testing.assert_array_equal(places.entry_across, model.entry_constant[1])
    off = _model(small_scenario, False)
    assert not off.entry_constant.any()
    assert not off.year_inputs().places.entry_within.any()


def test_the_model_s_constants_are_those_of_its_utilities(small_scenario: Any) -> None:
    """The model fits on the compiled weights of the senders (sending_weights): its constants
    send the movers where berry_constants' on the whole NumPy matrix of mover_utilities do,
    to the solution's tolerance (the weights differ in the last digits; the constants alone
    can differ more, by a province's level where its movers hardly leave it)."""
    model = _model(small_scenario, True)
    stock = model.start_migrants
    province = model.place_table.province_code
    v = model.mover_utilities()
    reference, _ = D.berry_constants(v, province, stock.out_migrants, stock.in_migrants)
    shares = [
        D.predicted_shares(v, province, c, stock.out_migrants)
        for c in (model.entry_constant, reference)
    ]
    np.testing.assert_allclose(shares[0], shares[1], rtol=2 * D.ACCEPTABLE, atol=1e-12)
    with pytest.raises(ValueError, match="a row per sender"):
        D.fit_constants(
            np.ones((1, model.n_places)), province, stock.out_migrants, stock.in_migrants
        )
    staying = np.ones((int((stock.out_migrants > 0).sum()), model.n_places))
    with pytest.raises(ValueError, match="staying is no destination"):
        D.fit_constants(staying, province, stock.out_migrants, stock.in_migrants)
    np.testing.assert_array_equal(model.fit_destination_constants(), model.entry_constant)


def test_the_start_migrants_are_counted_before_the_first_step(small_scenario: Any) -> None:
    model = _model(small_scenario, False)
    model.step()
    with pytest.raises(RuntimeError, match="before the first step"):
        _ = model.start_migrants


def test_constants_that_cannot_be_fitted_are_the_scenario_s_error(
    small_scenario: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One message naming the setting (the command line prints it as one ``error:`` line)."""
    monkeypatch.setattr(D, "MAX_ITERATIONS", 1)
    monkeypatch.setattr(D, "ACCEPTABLE", 1e-12)
    with pytest.raises(InputError, match=r"^behaviour\.destination_constants: .*did not converge"):
        _model(small_scenario, True)


@pytest.mark.slow
def test_the_across_constants_fall_by_the_trend_each_year(small_scenario: Any) -> None:
    """``entry_across_trend`` lowers the constant of movers from other provinces by its value
    per year since the start (the fitted constants and the within scope stay; without
    constants it lowers zeros) up to its last year, and fewer moves cross a province border
    in a year than without it."""
    trend = 0.4
    base = UrbanizationModel(
        small_scenario(end_year=2012, behaviour={"destination_constants": True})
    )
    model = UrbanizationModel(
        small_scenario(
            end_year=2012,
            behaviour={"destination_constants": True, "entry_across_trend": trend},
        )
    )
    np.testing.assert_array_equal(model.entry_constant, base.entry_constant)
    model.year = model.start_year + 3
    places = model.year_inputs().places
    np.testing.assert_array_equal(places.entry_within, model.entry_constant[0])
    np.testing.assert_allclose(places.entry_across, model.entry_constant[1] - 3 * trend)
    # Without destination constants the trend applies to zero constants.
    bare = UrbanizationModel(small_scenario(end_year=2012, behaviour={"entry_across_trend": trend}))
    bare.year = bare.start_year + 2
    bare_places = bare.year_inputs().places
    assert not bare_places.entry_within.any()
    np.testing.assert_allclose(bare_places.entry_across, -2 * trend)
    # After the trend's last year the constants stay where that year left them.
    held = UrbanizationModel(
        small_scenario(
            end_year=2012,
            behaviour={"entry_across_trend": trend, "entry_across_trend_end": 2011},
        )
    )
    held.year = held.start_year + 5
    np.testing.assert_allclose(held.year_inputs().places.entry_across, -(2011 - 2010) * trend)
    steep = UrbanizationModel(
        small_scenario(
            end_year=2012,
            behaviour={"destination_constants": True, "entry_across_trend": 2.0, "move_base": 0.5},
        )
    )
    flat = UrbanizationModel(
        small_scenario(end_year=2012, behaviour={"destination_constants": True, "move_base": 0.5})
    )
    for m in (steep, flat):
        m.step()
        m.step()
    crossing = [m.national_table()["province_moves"].iloc[-1] for m in (steep, flat)]
    assert crossing[0] < 0.8 * crossing[1]
