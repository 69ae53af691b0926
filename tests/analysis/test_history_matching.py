"""Emulators and history matching on toy simulators whose answers are known."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from urbsim.analysis.emulator import (
    INFLATION_MAX,
    GPEmulator,
    HeldOutCheck,
    held_out_check,
    loo_summary,
    run_variance,
    variance_emulator,
)
from urbsim.analysis.history_matching import (
    CUTOFF,
    SECOND_MAX_FROM,
    Box,
    BoxBoundError,
    EmptyNroyError,
    Plan,
    RatioPrior,
    Runs,
    Targets,
    Wave,
    box_hits,
    check_box,
    check_held_out,
    distinct_sets,
    emulator_precision,
    fit_wave,
    maximin_subset,
    not_ruled_out,
    profiles,
    rule_out_rank,
    rule_out_shares,
    run_errors,
    run_implausibility,
    run_waves,
    sample_nroy,
    wave_design,
)
from urbsim.sweep.executors import worker_pool

LO, HI = np.zeros(2), np.ones(2)


def _smooth(x: np.ndarray) -> np.ndarray:
    return np.sin(3.0 * x[:, 0]) + x[:, 1] ** 2


def test_emulator_recovers_a_known_function() -> None:
    x = Box.of({"a": (0, 1), "b": (0, 1)}).lhs(40, seed=1)
    em = GPEmulator(LO, HI, seed=0).fit(x, _smooth(x))
    test = np.random.default_rng(2).random((300, 2))
    mean, var = em.predict(test)
    assert np.max(np.abs(mean - _smooth(test))) < 0.05
    # Its uncertainty covers its errors: almost every error within 3 sd.
    assert np.mean(np.abs(mean - _smooth(test)) > 3 * np.sqrt(var) + 1e-6) < 0.05
    # At the design points it interpolates (no noise given) with almost no variance.
    m0, v0 = em.predict(x[:5])
    assert np.allclose(m0, _smooth(x[:5]), atol=1e-3) and np.all(v0 < 1e-4)


def test_emulator_uncertainty_depends_on_each_points_noise() -> None:
    x = Box.of({"a": (0, 1), "b": (0, 1)}).lhs(30, seed=3)
    noise = np.where(x[:, 0] < 0.5, 1e-6, 0.05)  # variance of each point's mean
    em = GPEmulator(LO, HI, seed=0).fit(x, _smooth(x), noise)
    _, var = em.predict(x)
    # The noisy half of the design is not interpolated: more uncertainty there.
    assert np.median(var[x[:, 0] >= 0.5]) > 10 * np.median(var[x[:, 0] < 0.5])


def test_loo_errors_flag_an_overconfident_emulator() -> None:
    x = Box.of({"a": (0, 1), "b": (0, 1)}).lhs(40, seed=4)
    y = np.sin(12.0 * x[:, 0]) + x[:, 1]
    good = GPEmulator(LO, HI, seed=0).fit(x, y)
    assert loo_summary(good.loo_standardized_errors()).valid
    # Far too smooth and too sure (amplitude 0.01, length 3 box widths, not fitted).
    bad = GPEmulator(LO, HI, fixed=(0.01, 3.0)).fit(x, y)
    summary = loo_summary(bad.loo_standardized_errors())
    assert not summary.valid and summary.share_beyond > 0.2


def test_loo_errors_match_refitting_without_each_point() -> None:
    """The closed form equals predicting each point from a GP fitted to the others (same
    kernel, same regression trend of the full fit)."""
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel

    x = Box.of({"a": (0, 1), "b": (0, 1)}).lhs(15, seed=5)
    y = _smooth(x)
    errors = GPEmulator(LO, HI, fixed=(1.0, 0.4)).fit(x, y).loo_standardized_errors()
    design = np.column_stack([np.ones(15), x])
    resid = y - design @ np.linalg.lstsq(design, y, rcond=None)[0]
    r = resid / resid.std()
    kernel = ConstantKernel(1.0) * RBF(np.full(2, 0.4))
    for i in (0, 7, 14):
        rest = np.delete(np.arange(15), i)
        gp = GaussianProcessRegressor(kernel, alpha=1e-8, optimizer=None).fit(x[rest], r[rest])
        mean, sd = gp.predict(x[i : i + 1], return_std=True)
        assert errors[i] == pytest.approx((r[i] - mean[0]) / np.sqrt(sd[0] ** 2 + 1e-8), rel=1e-4)


class _Constant:
    """An emulator stand-in that predicts one mean and one variance everywhere."""

    def __init__(self, mean: float, var: float) -> None:
        self.mean, self.var, self.y_range = mean, var, (-50.0, 50.0)

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = np.atleast_2d(x).shape[0]
        return np.full(n, self.mean), np.full(n, self.var)


def test_a_held_out_check_scales_the_emulator_variance_to_its_errors() -> None:
    # Emulator: mean 0, variance 1; run variance exp(log 2) = 2 over 2 replications = 1.
    em, var = _Constant(0.0, 1.0), _Constant(np.log(2.0), 0.0)
    x = np.zeros((10, 2))
    wrong = held_out_check(em, var, x, np.tile([3.0, -3.0], 5), np.full(10, 2))
    # Errors of 3 over sd sqrt(1 + 1): rms sqrt(4.5); 9 / (c + 1) = 1 at c = 8.
    assert wrong.points == 10 and wrong.rms == pytest.approx(np.sqrt(4.5))
    assert wrong.inflation == pytest.approx(8.0, rel=1e-5)
    # Errors the emulator's variance covers are left alone; so are too few points.
    assert held_out_check(em, var, x, np.tile([1.0, -1.0], 5), np.full(10, 2)).inflation == 1.0
    few = held_out_check(em, var, x[:5], np.full(5, 3.0), np.full(5, 2))
    assert few.inflation == 1.0 and few.rms == pytest.approx(np.sqrt(4.5))
    assert held_out_check(em, var, x[:0], np.zeros(0), np.zeros(0)).points == 0
    # Errors the run variance alone exceeds at any emulator variance: the largest factor.
    sure = held_out_check(_Constant(0.0, 0.0), var, x, np.full(10, 3.0), np.full(10, 2))
    assert sure.inflation == INFLATION_MAX


# ---------------------------------------------------------------------------------------------
# A toy simulator: two noisy outputs of two parameters, the truth known
# ---------------------------------------------------------------------------------------------
TRUTH = np.array([0.3, 0.6])
NOISE_SD = 0.01


def _toy_outputs(x: np.ndarray) -> np.ndarray:
    return np.stack([x[:, 0] + 0.5 * x[:, 1], x[:, 0] - x[:, 1] ** 2], axis=1)


def _toy(x: np.ndarray, reps: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    mean = _toy_outputs(np.atleast_2d(x))
    return mean[:, None, :] + rng.normal(0.0, NOISE_SD, (mean.shape[0], reps, mean.shape[1]))


TOY_TARGETS = Targets(
    ("y0", "y1"), _toy_outputs(TRUTH[None, :])[0], np.full(2, 0.02), np.full(2, 0.005)
)
BOX = Box.of({"a": (0.0, 1.0), "b": (0.0, 1.0)})


@pytest.mark.slow
def test_history_matching_keeps_the_truth_and_rules_out_the_wrong_region() -> None:
    plan = Plan((20, 15, 15), 3, candidates=600, final_sample=120, seed=1, batch=5000)
    result = run_waves(_toy, BOX, TOY_TARGETS, plan)
    assert len(result.waves) == 3
    assert not_ruled_out(result.waves, TRUTH[None, :])[0]
    # Observed y0 = 0.6, y1 = -0.06. Known wrong: (0.9, 0.9) gives y0 = 1.35; (0.9, 0.1) y0
    # = 0.95; (0.05, 0.05) y0 = 0.075; (0.6, 0.95) y1 = -0.3025, 12 sd away.
    wrong = np.array([[0.9, 0.9], [0.9, 0.1], [0.05, 0.05], [0.6, 0.95]])
    assert not not_ruled_out(result.waves, wrong).any()
    # Every wave shrinks the space (or keeps it): the shares are not increasing.
    assert result.nroy_share[-1] < 0.2
    assert all(
        b <= a + 0.02 for a, b in zip(result.nroy_share, result.nroy_share[1:], strict=False)
    )
    # The final sample: >= 100 sets, all not ruled out, around the truth.
    assert result.sample.shape == (120, 2)
    assert not_ruled_out(result.waves, result.sample).all()
    assert np.all(np.abs(np.median(result.sample, axis=0) - TRUTH) < 0.15)
    for wave in result.waves:
        assert all(s.valid for s in wave.loo)
    # Every wave but the last is checked on the later runs in its space.
    assert [bool(w.held_out) for w in result.waves] == [True, True, False]
    assert all(c.points > 0 for w in result.waves[:2] for c in w.held_out)
    # Later waves are drawn from the earlier waves' NROY space and spread over it.
    for k in (1, 2):
        # A wave's emulators are fitted to every run so far, its own design first.
        design = result.waves[k].runs.x[: result.wave_size[k]]
        assert not_ruled_out(result.waves[:k], design).all()
        assert np.ptp(design, axis=0).min() > 0.05


@pytest.mark.parametrize("training", ["all", "space"])
def test_each_wave_s_emulators_are_fitted_to_the_runs_the_plan_names(training: str) -> None:
    plan = Plan((12, 10, 10), 2, candidates=300, final_sample=20, seed=4, batch=4000,
                training=training)  # fmt: skip
    result = run_waves(_toy, BOX, TOY_TARGETS, plan)
    designs = [w.runs.x[:n] for w, n in zip(result.waves, result.wave_size, strict=True)]
    for k, wave in enumerate(result.waves):
        earlier = np.concatenate([d for d in designs[:k]]) if k else np.empty((0, 2))
        inside = not_ruled_out(result.waves[:k], earlier)
        fitted = wave.runs.x[result.wave_size[k] :]
        if training == "all":
            assert np.array_equal(fitted, earlier)
        else:
            assert np.array_equal(fitted, earlier[inside])
    # On this toy the waves' spaces leave earlier runs out: the two trainings differ.
    assert training == "space" or len(result.waves[2].runs.x) == 32


def test_the_runs_nearest_the_space_fit_the_hyperparameters() -> None:
    plan = Plan((12, 10, 10), 2, candidates=300, final_sample=20, seed=4, batch=4000,
                hyper_points=24)  # fmt: skip
    result = run_waves(_toy, BOX, TOY_TARGETS, plan)
    wave = result.waves[2]
    # 32 runs: the hyperparameters of the third wave come from the 24 of them the first two
    # waves find most plausible; the emulators are conditioned on all 32.
    assert wave.runs.x.shape[0] == 32
    distance = np.max([w.ruling_implausibility(wave.runs.x) for w in result.waves[:2]], axis=0)
    rows = np.sort(np.argsort(distance, kind="stable")[:24])
    again = fit_wave(wave.runs, TOY_TARGETS, BOX, seed=plan.seed + 2, restarts=0,
                     hyper_rows=rows)  # fmt: skip
    for em, twin in zip(wave.mean_emulators, again.mean_emulators, strict=True):
        np.testing.assert_array_equal(em._gp.kernel_.theta, twin._gp.kernel_.theta)
        assert em._gp.X_train_.shape[0] == 32
    # 22 runs, fewer than hyper_points: all of them fit the hyperparameters.
    first = fit_wave(result.waves[1].runs, TOY_TARGETS, BOX, seed=plan.seed + 1, restarts=0)
    for em, twin in zip(result.waves[1].mean_emulators, first.mean_emulators, strict=True):
        np.testing.assert_array_equal(em._gp.kernel_.theta, twin._gp.kernel_.theta)


def test_a_plan_names_known_training_runs_and_restarts() -> None:
    with pytest.raises(ValueError, match="training must be one of"):
        Plan((6, 6), 2, training="nearby")
    with pytest.raises(ValueError, match="restarts must be at least 0"):
        Plan((6, 6), 2, restarts=-1)
    with pytest.raises(ValueError, match="hyper_points must be at least 4"):
        Plan((6, 6), 2, hyper_points=3)
    assert Plan((6, 6), 2, restarts=3).fit_options(4)["restarts"] == 3


def test_the_cutoff_reaches_every_wave_and_every_stage_is_timed() -> None:
    # Points with both parameters in the box's hard corners: no bound is soft.
    hard = Box.of({"a": (0.0, 1.0), "b": (0.0, 1.0)}, {"a": (True, True), "b": (True, True)})
    plan = Plan((6, 6), 2, candidates=40, final_sample=30, seed=2, batch=2000, cutoff=1e9)
    result = run_waves(_toy, hard, TOY_TARGETS, plan)
    assert all(w.cutoff == 1e9 for w in result.waves)
    # Nothing is ruled out at such a cutoff: the far corner survives, the share is the box.
    assert not_ruled_out(result.waves, np.array([[1.0, 0.0]]))[0]
    assert result.nroy_share == [1.0, 1.0]
    assert [set(s) for s in result.seconds] == [{"design", "simulate", "emulate"}] * 3
    assert all(v >= 0.0 for s in result.seconds for v in s.values())
    with pytest.raises(ValueError, match="cutoff"):
        Plan((6, 6), 2, cutoff=0.0)


def test_a_wave_checked_on_later_runs_stops_ruling_out_where_it_erred() -> None:
    """A wave fitted to one simulator, the later runs of another whose first output is 0.3
    higher (an emulator confidently wrong): the check scales that emulator's variance until
    its errors are valid, and the truth of the second simulator is no longer ruled out."""

    def shifted(x: np.ndarray, reps: int, seed: int) -> np.ndarray:
        return _toy(x, reps, seed) + np.array([0.3, 0.0])

    targets = Targets(
        ("y0", "y1"), _toy_outputs(TRUTH[None, :])[0] + [0.3, 0.0], np.full(2, 0.02),
        np.full(2, 0.005),
    )  # fmt: skip
    x = BOX.lhs(25, seed=3)
    wave = fit_wave(Runs.of(x, _toy(x, 3, 5)), targets, BOX)
    assert not wave.not_ruled_out(TRUTH[None, :])[0]
    later = BOX.lhs(30, seed=4)
    history = [(0, wave.runs), (1, Runs.of(later, shifted(later, 3, 6)))]
    check_held_out([wave], history)
    first, second = wave.held_out
    assert first.points == second.points == 30
    # The second output's simulator did not change: its errors are those of a valid emulator.
    assert first.rms > 5 and first.inflation > 1000 and second.inflation == 1.0
    assert wave.not_ruled_out(TRUTH[None, :])[0]
    # Scaled, the emulator's errors at the later runs have a root mean square of 1.
    mean, v_em = wave.mean_emulators[0].predict(later)
    v_mean = run_variance(wave.var_emulators[0], later) / 3
    z = (history[1][1].mean[:, 0] - mean) / np.sqrt(first.inflation * v_em + v_mean)
    assert np.sqrt(np.mean(z**2)) == pytest.approx(1.0, abs=1e-4)
    # A second wave, fitted to those runs, is checked on the runs drawn after it only, and
    # of them only on those the first wave (as scaled) leaves in its space.
    again = fit_wave(history[1][1], targets, BOX)
    grid = np.stack(np.meshgrid(np.linspace(0, 1, 12), np.linspace(0, 1, 12)), -1).reshape(-1, 2)
    history.append((2, Runs.of(grid, shifted(grid, 3, 7))))
    check_held_out([wave, again], history)
    inside = int(not_ruled_out([wave], grid).sum())
    assert 0 < inside < grid.shape[0]
    assert again.held_out[0].points == inside
    assert wave.held_out[0].points == 30 + grid.shape[0]


@pytest.mark.parametrize("reps", [2, 3])
def test_the_run_variance_emulator_is_not_biased_by_the_log(reps: int) -> None:
    """The log of a sample variance underestimates the log variance (by a factor 0.28 at 2
    replications): the emulator removes the bias. Runs of variance 1 everywhere."""
    x = BOX.lhs(150, seed=8)
    estimates = []
    for seed in range(4):
        y = np.random.default_rng(seed).normal(0.0, 1.0, (150, reps))
        var = variance_emulator(x, y.var(axis=1, ddof=1), np.full(150, reps), LO, HI)
        estimates.append(np.mean(run_variance(var, BOX.lhs(50, seed=9))))
    # Their geometric mean within 30 % of 1 (uncorrected: about 0.3 at 2 replications, 0.6
    # at 3; one estimate has a log sd of about 0.2 at 2 replications).
    assert abs(np.mean(np.log(estimates))) < np.log(1.3), estimates


def test_a_held_out_check_refuses_values_that_are_not_finite() -> None:
    em, var = _Constant(0.0, float("nan")), _Constant(0.0, 0.0)
    with pytest.raises(ValueError, match="finite"):
        held_out_check(em, var, np.zeros((10, 2)), np.ones(10), np.full(10, 2))


def test_run_to_run_variance_enters_the_implausibility() -> None:
    x = BOX.lhs(25, seed=3)
    quiet = fit_wave(Runs.of(x, _toy(x, 4, 5)), TOY_TARGETS, BOX)
    loud_y = _toy(x, 4, 5)
    loud_y = loud_y.mean(axis=1, keepdims=True) + 20 * (loud_y - loud_y.mean(axis=1, keepdims=True))
    loud = fit_wave(Runs.of(x, loud_y), TOY_TARGETS, BOX)
    probe = np.array([[0.5, 0.2], [0.3, 0.6]])
    assert loud.implausibility(probe)[0].max() < quiet.implausibility(probe)[0].max()
    # The formula: |z - E f| / sqrt(emulator var + run var + discrepancy^2 + observation^2).
    for k in range(2):
        mean, v_em = loud.mean_emulators[k].predict(probe)
        v_run = run_variance(loud.var_emulators[k], probe)
        assert v_run[0] > 10 * v_em[0]  # the loud simulator's own spread dominates here
        total = v_em + v_run + 0.02**2 + 0.005**2
        expected = np.abs(TOY_TARGETS.observed[k] - mean) / np.sqrt(total)
        assert loud.implausibility(probe)[:, k] == pytest.approx(expected)


def test_a_point_on_a_soft_bound_is_refused_with_a_widened_box() -> None:
    # The truth at a = 0: the lower bound of a is reached.
    edge = Targets(("y0", "y1"), _toy_outputs(np.array([[0.0, 0.6]]))[0], np.full(2, 0.02),
                   np.full(2, 0.005))  # fmt: skip
    x = BOX.lhs(30, seed=6)
    wave = fit_wave(Runs.of(x, _toy(x, 3, 7)), edge, BOX)
    sample, _ = sample_nroy([wave], BOX, 200, np.random.default_rng(0))
    with pytest.raises(BoxBoundError, match=r"a: not ruled out up to its low bound 0; widen it"):
        check_box(sample, BOX)
    # The same bound declared a hard limit (a >= 0 by definition) is reported, not refused.
    hard = Box.of({"a": (0.0, 1.0), "b": (0.0, 1.0)}, {"a": (True, False)})
    hits = check_box(sample, hard)
    assert [(h.name, h.side, h.hard) for h in hits] == [("a", "low", True)]
    assert box_hits(np.array([[0.5, 0.5]]), BOX) == []
    # A widened bound stops at the parameter's limit; a bound on its limit is hard.
    limited = Box.of({"a": (0.2, 1.0), "b": (0.0, 1.0)}, limits={"a": (0.0, 5.0), "b": (0.0, 1.0)})
    hit = box_hits(np.array([[0.2, 0.5]]), limited)[0]
    assert (hit.name, hit.side, hit.suggested, hit.hard) == ("a", "low", 0.0, False)
    assert limited.hard_lo.tolist() == [False, True] and limited.hard_hi.tolist() == [False, True]


def test_copies_of_one_set_count_as_one_distinct_set() -> None:
    box = Box.of({"a": (0.0, 10.0), "b": (0.0, 1.0)})
    one = np.array([5.0, 0.5]) + np.random.default_rng(0).normal(0.0, 1e-4, (400, 2))
    assert distinct_sets(one, box) == 1
    # Apart by a hundredth of a range in one parameter is apart.
    assert distinct_sets(np.array([[5.0, 0.5], [5.1, 0.5], [5.0, 0.509]]), box) == 2
    grid = np.stack(np.meshgrid(np.linspace(0, 10, 10), np.linspace(0, 1, 10)), -1)
    spread = grid.reshape(-1, 2)
    assert distinct_sets(spread, box) == 100
    assert distinct_sets(np.concatenate([spread, spread]), box) == 100


def test_maximin_subset_spreads_points() -> None:
    pts = np.random.default_rng(0).random((500, 2))
    idx = maximin_subset(pts, 10, BOX)
    chosen = pts[idx]
    gaps = [np.min(np.linalg.norm(np.delete(chosen, i, 0) - chosen[i], axis=1)) for i in range(10)]
    random10 = pts[:10]
    rgaps = [np.min(np.linalg.norm(np.delete(random10, i, 0) - random10[i], axis=1))
             for i in range(10)]  # fmt: skip
    assert len(set(idx.tolist())) == 10 and min(gaps) > min(rgaps)


class _Ball:
    """A stand-in wave that rules out everything but a small disc of the unit square."""

    def __init__(self, centre: tuple[float, float], radius: float) -> None:
        self.centre, self.radius = np.asarray(centre), radius

    def not_ruled_out(self, x: np.ndarray) -> np.ndarray:
        return np.linalg.norm(np.atleast_2d(x) - self.centre, axis=1) < self.radius


def test_a_space_too_small_for_uniform_draws_is_sampled_from_earlier_nroy_points() -> None:
    ball = _Ball((0.3, 0.7), 0.01)  # a share 3e-4 of the box: 200 draws find nothing
    with pytest.raises(EmptyNroyError, match="all 200 parameter sets drawn are ruled out"):
        sample_nroy([ball], BOX, 50, np.random.default_rng(1), batch=100, max_batches=2)
    seeds = np.array([[0.9, 0.1], [0.301, 0.699]])  # the second inside the disc
    sample, share = sample_nroy(
        [ball], BOX, 50, np.random.default_rng(1), batch=100, max_batches=2, seeds=seeds
    )
    assert share == 0.0 and sample.shape == (50, 2)
    assert ball.not_ruled_out(sample).all()
    assert np.unique(sample, axis=0).shape[0] > 40  # spread around the seed, not copies
    with pytest.raises(EmptyNroyError, match="and all 1 earlier NROY points are ruled out"):
        sample_nroy(
            [ball], BOX, 50, np.random.default_rng(1), batch=100, max_batches=2, seeds=seeds[:1]
        )
    # Starts (sets already run) start the moves but are never drawn themselves.
    starts = np.array([[0.301, 0.699], [0.299, 0.701]])
    sample, _ = sample_nroy(
        [ball], BOX, 50, np.random.default_rng(1), batch=100, max_batches=2, starts=starts
    )
    assert sample.shape == (50, 2) and ball.not_ruled_out(sample).all()
    assert not any((sample == row).all(axis=1).any() for row in starts)
    match = "and all 1 earlier NROY points and all 1 sets already run are ruled out"
    with pytest.raises(EmptyNroyError, match=match):
        sample_nroy([ball], BOX, 50, np.random.default_rng(1), batch=100, max_batches=2,
                    seeds=seeds[:1], starts=seeds[:1])  # fmt: skip


@pytest.mark.slow  # starts worker processes
def test_emulators_fitted_in_worker_processes_are_the_serial_ones() -> None:
    x = BOX.lhs(20, seed=4)
    runs = Runs.of(x, _toy(x, 3, 9))
    serial = fit_wave(runs, TOY_TARGETS, BOX, seed=2)
    # The pool the calibration fits its emulators on (one BLAS thread per worker).
    with worker_pool(2, blas_threads=1) as pool:
        pooled = fit_wave(runs, TOY_TARGETS, BOX, seed=2, map_fn=pool.map)
    probe = BOX.lhs(50, seed=8)
    assert np.array_equal(serial.implausibility(probe), pooled.implausibility(probe))
    assert [s.errors.tolist() for s in serial.loo] == [s.errors.tolist() for s in pooled.loo]


# ---------------------------------------------------------------------------------------------
# More waves on a rule, the final sample verified by runs, profiles
# ---------------------------------------------------------------------------------------------
def _counting(sim):
    calls: list[tuple[int, int]] = []

    def simulate(x: np.ndarray, reps: int, seed: int) -> np.ndarray:
        calls.append((np.atleast_2d(x).shape[0], reps))
        return sim(x, reps, seed)

    return simulate, calls


def test_waves_go_on_until_their_points_are_plausible_on_their_runs() -> None:
    # A stop share no wave can reach: every allowed wave runs, the last with the last size.
    plan = Plan((12, 10), 2, candidates=200, final_sample=20, seed=3, batch=4000, max_waves=4,
                stop_share=1.0)  # fmt: skip
    simulate, calls = _counting(_toy)
    result = run_waves(simulate, BOX, TOY_TARGETS, plan)
    shares = result.run_plausible_share
    assert min(shares) < 1.0
    assert len(result.waves) == 4 and [c[0] for c in calls] == [12, 10, 10, 10]
    assert len(shares) == 4
    # A share every wave reaches: the planned waves only (never fewer).
    easy = Plan((12, 10), 2, candidates=200, final_sample=20, seed=3, batch=4000, max_waves=4,
                stop_share=1e-9)  # fmt: skip
    assert len(run_waves(_toy, BOX, TOY_TARGETS, easy).waves) == 2
    # The share is that of the wave's own points not ruled out by their runs (wave 1: all
    # of its emulator's points are its own).
    first = result.waves[0]
    own = first.runs
    imp = run_implausibility(first, own.x, own.mean, own.replications)
    assert shares[0] == pytest.approx(float(np.mean(imp < CUTOFF)))
    # Later waves (which keep earlier runs in their space) bring the share up on this toy.
    assert shares[-1] > shares[0]


def test_run_implausibility_is_the_distance_over_run_discrepancy_and_observation() -> None:
    x = BOX.lhs(25, seed=3)
    wave = fit_wave(Runs.of(x, _toy(x, 4, 5)), TOY_TARGETS, BOX)
    probe = np.array([[0.3, 0.6], [0.9, 0.9]])
    mean = _toy_outputs(probe)
    got = run_implausibility(wave, probe, mean, np.array([2, 2]))
    v = np.column_stack([run_variance(e, probe) for e in wave.var_emulators])
    expected = np.max(np.abs(TOY_TARGETS.observed - mean)
                      / np.sqrt(1.5 * v + 0.02**2 + 0.005**2), axis=1)  # fmt: skip
    assert got == pytest.approx(expected)
    assert got[0] < 1e-9 and got[1] > 10  # the truth itself, and a set far from it
    # A measured run variance replaces the emulated one.
    off = mean + np.array([0.1, 0.0])
    measured = run_implausibility(wave, probe, off, np.array([2, 2]), np.array([0.04, 1e-4]))
    assert measured[0] == pytest.approx(0.1 / np.sqrt(1.5 * 0.04 + 0.02**2 + 0.005**2))
    # The signed errors behind it: the model above the observation is positive.
    signed = run_errors(wave, probe, off, np.array([2, 2]), np.array([0.04, 1e-4]))
    assert signed[0, 0] == pytest.approx(0.1 / np.sqrt(1.5 * 0.04 + 0.02**2 + 0.005**2))
    below = run_errors(wave, probe, mean - np.array([0.0, 0.3]), np.array([2, 2]))
    assert below[0, 1] < -3 and below[0, 0] == pytest.approx(0.0, abs=1e-9)


def test_the_emulators_precision_on_later_runs_by_hand() -> None:
    """One target (observed 0, discrepancy sd 0.3, observation sd 0.4: base sd 0.5), an
    emulator of mean 0 and variance 0.09 everywhere, an emulated run variance 0.04; four sets
    whose two runs average 0, 1, 2 and 3, each pair 0.2 apart (measured run variance 0.02)."""
    targets = Targets(("t",), np.array([0.0]), np.array([0.3]), np.array([0.4]))
    x = np.zeros((4, 2))
    y = np.array([[[m - 0.1], [m + 0.1]] for m in (0.0, 1.0, 2.0, 3.0)])
    wave = Wave(Runs.of(x, y), targets, [_Constant(0.0, 0.09)], [_Constant(np.log(0.04), 0.0)])
    got = emulator_precision(wave, x, y)
    z = np.array([0.0, 1.0, 2.0, 3.0]) / np.sqrt(0.09 + 0.02 / 2)
    assert got["error_median_abs"][0] == pytest.approx(np.median(z))
    assert got["error_share_beyond_3"][0] == pytest.approx(0.75)  # 3.16, 6.32, 9.49
    assert got["emulator_sd_over_base"][0] == pytest.approx(0.3 / 0.5)
    assert got["run_sd_over_base"][0] == pytest.approx(np.sqrt(0.02) / 0.5)
    assert got["spread_over_base"][0] == pytest.approx(np.std([0.0, 1.0, 2.0, 3.0]) / 0.5)
    # The emulator keeps every set (implausibility 0); the runs put 2 and 3 beyond the cutoff:
    # 2 / sqrt(0.02 * 1.5 + 0.25) = 3.78.
    assert got["kept_but_ruled_out_by_runs"][0] == pytest.approx(0.5)
    # The wave's variance scaling from its held-out check enters the errors.
    wave.held_out = [HeldOutCheck(10, 2.0, 4.0)]
    scaled = emulator_precision(wave, x, y)
    assert scaled["emulator_sd_over_base"][0] == pytest.approx(0.6 / 0.5)
    assert scaled["error_share_beyond_3"][0] == pytest.approx(0.5)  # 3 / sqrt(0.37) = 4.93
    with pytest.raises(ValueError, match="r >= 2"):
        emulator_precision(wave, x, y[:, :1])


def test_a_verified_set_is_judged_with_the_run_variance_of_its_batch() -> None:
    """A wave whose variance emulator saw runs 100 times noisier than the verification runs
    (as a refocusing wave fitted elsewhere extrapolates): sets 0.15 from a target are still
    refused (but for the few whose shifted outputs meet the targets), judged with the variance
    their batch's runs show."""

    def loud(x: np.ndarray, reps: int, seed: int) -> np.ndarray:
        y = _toy(x, reps, seed)
        return y.mean(axis=1, keepdims=True) + 100 * (y - y.mean(axis=1, keepdims=True))

    def off(x: np.ndarray, reps: int, seed: int) -> np.ndarray:
        return _toy(x, reps, seed) + np.array([0.15, 0.0])

    plan = Plan((12,), 3, candidates=300, final_sample=200, seed=4, batch=4000,
                verify_points=40, verify_replications=2, refocus=False)  # fmt: skip
    result = run_waves(loud, BOX, TOY_TARGETS, plan, verify=off)
    ver = result.verification
    assert ver is not None and ver.x.shape[0] == 40
    # Emulated (noise sd about 1) every set would pass; measured (sd 0.01) few do.
    emulated = run_implausibility(result.waves[0], ver.x, ver.y.mean(axis=1), np.full(40, 2))
    assert np.all(emulated < CUTOFF) and ver.accepted.mean() < 0.2


def test_the_final_sample_is_verified_by_runs() -> None:
    plan = Plan((12, 10, 10), 3, candidates=300, final_sample=20, seed=4, batch=4000,
                verify_points=40, verify_replications=2)  # fmt: skip
    verify, calls = _counting(_toy)
    result = run_waves(_toy, BOX, TOY_TARGETS, plan, verify=verify)
    ver = result.verification
    assert calls == [(40, 2)] and ver is not None and ver.y.shape == (40, 2, 2)
    assert np.array_equal(result.sample, ver.x[ver.accepted])
    assert np.all(ver.implausibility[ver.accepted] < CUTOFF)
    assert np.all(ver.implausibility[~ver.accepted] >= CUTOFF)
    # What the runs say, recomputed: the accepted sets' run means are near the observations.
    means = ver.y[ver.accepted].mean(axis=1)
    assert np.all(np.abs(means - TOY_TARGETS.observed) < 3 * 0.05)
    assert set(result.seconds[-1]) == {"design", "simulate", "emulate"}


def _refusing(x: np.ndarray, reps: int, seed: int) -> np.ndarray:
    """The toy, refusing the second replication of every set with ``a`` above 0.32 (all its
    outputs NaN, as a run the model stopped before its first year): half the space around
    the truth (0.3, 0.6)."""
    y = _toy(x, reps, seed)
    y[np.atleast_2d(x)[:, 0] > 0.32, 1, :] = np.nan
    return y


def test_sets_the_simulator_refuses_are_ruled_out_and_left_out_of_the_emulators() -> None:
    """Refused sets are counted per wave, never fitted, never accepted (infinite
    implausibility); the truth is still found. A NaN in only some outputs of a run is an
    error, not a refusal."""
    plan = Plan((14, 10), 2, candidates=300, final_sample=20, seed=4, batch=4000,
                verify_points=40, verify_replications=2)  # fmt: skip
    lines: list[str] = []
    result = run_waves(_refusing, BOX, TOY_TARGETS, plan, report=lines.append)
    design = BOX.lhs(14, 4)
    assert result.refused[0] == int((design[:, 0] > 0.32).sum()) > 0
    assert "refused by the simulator" in lines[0]
    assert all(np.all(w.runs.x[:, 0] <= 0.32) for w in result.waves)
    assert result.waves[0].runs.x.shape[0] == 14 - result.refused[0]
    ver = result.verification
    assert ver is not None
    np.testing.assert_array_equal(ver.refused, ver.x[:, 0] > 0.32)
    assert 0 < ver.refused.sum() < 40
    assert np.all(np.isinf(ver.implausibility[ver.refused]))
    assert not ver.accepted[ver.refused].any()
    assert not_ruled_out(result.waves, TRUTH[None, :])[0]

    def partly_nan(x: np.ndarray, reps: int, seed: int) -> np.ndarray:
        y = _toy(x, reps, seed)
        y[0, 0, 0] = np.nan
        return y

    with pytest.raises(ValueError, match="wave 1: the simulator returned values that are not"):
        run_waves(partly_nan, BOX, TOY_TARGETS, plan)

    def refusing_all(x: np.ndarray, reps: int, seed: int) -> np.ndarray:
        return np.full((np.atleast_2d(x).shape[0], reps, 2), np.nan)

    with pytest.raises(ValueError, match="refused 14 of its 14 sets"):
        run_waves(refusing_all, BOX, TOY_TARGETS, plan)
    # A verification batch refused whole ends the verification with what it has: nothing.
    lines.clear()
    ended = run_waves(_toy, BOX, TOY_TARGETS, plan, verify=refusing_all, report=lines.append)
    assert ended.verification is not None and ended.verification.refused.all()
    assert ended.sample.shape[0] == 0
    assert lines[-1].endswith(
        "0 of 40 sets accepted on their own runs (0 in all); 40 refused by the simulator"
    )


def _toy3(x: np.ndarray, reps: int, seed: int) -> np.ndarray:
    """The toy, with a third parameter that no output depends on."""
    return _toy(np.atleast_2d(x)[:, :2], reps, seed)


def test_profiles_tell_constrained_parameters_from_free_ones() -> None:
    box3 = Box.of({"a": (0.0, 1.0), "b": (0.0, 1.0), "c": (0.0, 1.0)})
    x = box3.lhs(40, seed=2)
    wave = fit_wave(Runs.of(x, _toy3(x, 3, 3)), TOY_TARGETS, box3)
    sample, _ = sample_nroy([wave], box3, 150, np.random.default_rng(5))
    shapes = profiles([wave], box3, sample, points=9)
    assert [p.name for p in shapes] == ["a", "b", "c"]
    assert [p.constrained for p in shapes] == [True, True, False]
    c = shapes[2]
    assert c.grid.tolist() == np.linspace(0, 1, 9).tolist() and c.share.min() > 0.5
    # The free parameter spans its box: its bounds are reached, reported but not refused when
    # the profiles are given; refused when every parameter is taken as constrained.
    with pytest.raises(BoxBoundError, match=r"^c: not ruled out up to its low bound"):
        check_box(sample, box3)
    hits = check_box(sample, box3, constrained=[p.constrained for p in shapes])
    assert {(h.name, h.constrained) for h in hits} == {("c", False)}


def test_a_ratio_prior_is_judged_exactly() -> None:
    prior = RatioPrior("c_over_a", numerator=2, denominator=0, observed=1.0, sd=0.1)
    x = np.array([[0.3, 0.5, 0.3], [0.2, 0.5, 0.3], [0.0, 0.5, 0.3], [0.5, 0.5, 0.0]])
    assert prior.value(x).tolist() == pytest.approx([1.0, 1.5, np.inf, 0.0])
    assert prior.implausibility(x).tolist() == pytest.approx([0.0, 5.0, np.inf, 10.0])
    for bad in ({"observed": 1.0, "sd": 0.0}, {"observed": np.nan, "sd": 0.1}):
        with pytest.raises(ValueError, match="c_over_a"):
            RatioPrior("c_over_a", 2, 0, **bad)
    with pytest.raises(ValueError, match="two different"):
        RatioPrior("same", 1, 1, 1.0, 0.1)


def test_a_ratio_prior_narrows_a_parameter_the_outputs_leave_free() -> None:
    """The toy's outputs ignore c: without the prior the ensemble spans c's box; with a prior
    on c / a (published 1, sd 0.1) every wave rules out the sets whose ratio is more than
    three sds away, the verification judges it with the runs, and the tables name it."""
    box3 = Box.of({"a": (0.0, 1.0), "b": (0.0, 1.0), "c": (0.0, 1.0)})
    prior = RatioPrior("c_over_a", numerator=2, denominator=0, observed=1.0, sd=0.1)
    with_prior = Targets(TOY_TARGETS.names, TOY_TARGETS.observed, TOY_TARGETS.discrepancy_sd,
                         TOY_TARGETS.observation_sd, priors=(prior,))  # fmt: skip
    plan = Plan((12, 10), 2, candidates=300, final_sample=30, seed=4, batch=4000,
                verify_points=60, verify_replications=2)  # fmt: skip
    free = run_waves(_toy3, box3, TOY_TARGETS, plan)
    bound = run_waves(_toy3, box3, with_prior, plan)
    ratio_free = prior.value(free.sample)
    assert np.mean(np.abs(ratio_free - 1.0) >= CUTOFF * 0.1) > 0.3
    ratio = prior.value(bound.sample)
    assert bound.sample.shape[0] >= 10 and np.all(np.abs(ratio - 1.0) < CUTOFF * 0.1)
    # Every wave judges the prior, exactly: a set on the truth of a and b with c far off is
    # ruled out, the same set with c = a is not.
    assert not not_ruled_out(bound.waves, np.array([[0.3, 0.6, 0.9]]))[0]
    assert not_ruled_out(bound.waves, np.array([[0.3, 0.6, 0.3]]))[0]
    wave = bound.waves[-1]
    imp = wave.implausibility(np.array([[0.3, 0.6, 0.9]]))
    assert imp.shape == (1, 3) and imp[0, 2] == pytest.approx(20.0)
    # On runs too: the toy's exact outputs at the truth meet the targets, the ratio does not.
    got = run_implausibility(wave, np.array([[0.3, 0.6, 0.9]]),
                             _toy_outputs(TRUTH[None, :]), np.array([2]))  # fmt: skip
    assert got[0] == pytest.approx(20.0)
    shares = rule_out_shares(bound.waves, box3, 2000, seed=1)
    assert {r["target"] for r in shares} == {"y0", "y1", "c_over_a"}
    with pytest.raises(ValueError, match="beyond the box"):
        run_waves(_toy, BOX, with_prior, plan)


def test_a_seeking_design_puts_its_share_among_the_most_plausible_candidates() -> None:
    x = BOX.lhs(30, seed=6)
    wave = fit_wave(Runs.of(x, _toy(x, 3, 7)), TOY_TARGETS, BOX)
    candidates, _ = sample_nroy([wave], BOX, 400, np.random.default_rng(2))
    worst = wave.implausibility(candidates).max(axis=1)
    best_quarter = np.sort(worst)[99]  # the 100 most plausible of 400 candidates
    design = wave_design([wave], candidates, 12, BOX, 0.5, seed=1)
    assert design.shape == (12, 2) and np.unique(design, axis=0).shape[0] == 12
    d_worst = wave.implausibility(design).max(axis=1)
    assert np.sum(d_worst <= best_quarter) >= 6
    # Without seeking: the plain spread over all candidates.
    plain = wave_design([wave], candidates, 12, BOX, 0.0, seed=1)
    assert np.array_equal(plain, candidates[maximin_subset(candidates, 12, BOX, 1)])
    assert np.sum(wave.implausibility(plain).max(axis=1) <= best_quarter) < 6
    with pytest.raises(ValueError, match="seek_share"):
        Plan((6, 6), 2, seek_share=1.5)


def test_verification_goes_on_in_batches_until_enough_sets_are_accepted() -> None:
    plan = Plan((12, 10, 10), 3, candidates=300, final_sample=30, seed=4, batch=4000,
                verify_points=20, verify_replications=2, verify_batches=4)  # fmt: skip
    verify, calls = _counting(_toy)
    result = run_waves(_toy, BOX, TOY_TARGETS, plan, verify=verify)
    ver = result.verification
    assert ver is not None and all(c == (20, 2) for c in calls)
    per_batch = ver.accepted.reshape(len(calls), 20).sum(axis=1)
    # It stopped at the first batch that brought the accepted sets to 30, or after four.
    assert per_batch.sum() >= 30 or len(calls) == 4
    assert per_batch[:-1].sum() < 30
    assert len(calls) >= 2  # 20 sets cannot give 30
    assert np.array_equal(result.sample, ver.x[ver.accepted])
    assert np.unique(ver.x, axis=0).shape[0] == ver.x.shape[0]  # fresh sets in every batch
    with pytest.raises(ValueError, match="verify_batches"):
        Plan((6, 6), 2, verify_batches=0)


def _rugged_outputs(x: np.ndarray) -> np.ndarray:
    x = np.atleast_2d(x)
    return np.column_stack([np.sin(9 * x[:, 0]) * np.cos(5 * x[:, 1]), x[:, 1] ** 2 - x[:, 0]])


def _rugged(x: np.ndarray, reps: int, seed: int) -> np.ndarray:
    """A toy one wave of eight points cannot emulate well: most of its NROY space is not
    plausible on runs."""
    rng = np.random.default_rng(seed)
    mean = _rugged_outputs(x)
    return mean[:, None, :] + rng.normal(0.0, 0.02, (mean.shape[0], reps, 2))


RUGGED_TARGETS = Targets(
    ("y0", "y1"), _rugged_outputs(TRUTH[None, :])[0], np.full(2, 0.02), np.full(2, 0.005)
)


def test_a_verification_batch_with_too_few_accepted_refocuses_the_emulators() -> None:
    accepted = {True: 0, False: 0}
    seeds: dict[bool, list[int]] = {True: [], False: []}
    for refocus in (True, False):
        for seed in (0, 1):
            plan = Plan((8,), 2, candidates=300, final_sample=40, seed=seed, batch=4000,
                        verify_points=30, verify_replications=2, verify_batches=4,
                        refocus=refocus)  # fmt: skip
            verify, calls = _counting(_rugged)

            def seeded(x: np.ndarray, reps: int, s: int, _v=verify, _r=refocus) -> np.ndarray:
                seeds[_r].append(s)
                return _v(x, reps, s)

            result = run_waves(_rugged, BOX, RUGGED_TARGETS, plan, verify=seeded)
            ver = result.verification
            assert ver is not None
            accepted[refocus] += int(ver.accepted.sum())
            n = len(result.waves)
            assert len(result.nroy_share) == len(result.run_plausible_share) == n
            assert len(result.wave_source) == len(result.wave_size) == n
            assert len(result.seconds) == n + 1
            if not refocus:
                assert result.wave_source == ["design"] and len(calls) == 4
                # The design wave is checked on every set of the four batches.
                assert all(c.points == 120 for c in result.waves[0].held_out)
                continue
            # Every wave is checked on the sets drawn after it, the last on the last batch (those
            # the earlier waves, as scaled at the end, leave in its space).
            last = ver.x[-30:]
            assert (
                result.waves[-1].held_out[0].points == not_ruled_out(result.waves[:-1], last).sum()
            )
            assert all(w.held_out and w.held_out[0].points > 0 for w in result.waves)
            # Every batch but the last became a wave, in order, of the batch's sets.
            assert result.wave_source == ["design"] + [
                f"verification batch {b}" for b in range(1, len(calls))
            ]
            assert result.wave_size == [8] + [30] * (len(calls) - 1)
            for b in range(1, len(calls)):
                batch = ver.x[30 * b : 30 * (b + 1)]
                # Drawn from the space the refocusing waves left (as the waves were scaled when
                # it was drawn: the later batches' checks scale them again, and a wave found
                # overconfident gives space back, so the shares need not shrink).
                assert np.mean(not_ruled_out(result.waves[: b + 1], batch)) >= 0.9
                # The wave's plausible share: its batch judged on its runs, the run variance
                # measured on the batch.
                y = ver.y[30 * (b - 1) : 30 * b]
                before = run_implausibility(
                    result.waves[b - 1], ver.x[30 * (b - 1) : 30 * b], y.mean(axis=1),
                    np.full(30, 2), y.var(axis=1, ddof=1).mean(axis=0),
                )  # fmt: skip
                assert result.run_plausible_share[b] == pytest.approx(np.mean(before < CUTOFF))
            # Every set judged on its own runs, the run variance measured on its batch (the
            # mean of its sets' sample variances); none run twice.
            for b in range(len(calls)):
                rows = slice(30 * b, 30 * (b + 1))
                judged = run_implausibility(
                    result.waves[b], ver.x[rows], ver.y[rows].mean(axis=1), np.full(30, 2),
                    ver.y[rows].var(axis=1, ddof=1).mean(axis=0),
                )  # fmt: skip
                assert np.array_equal(ver.implausibility[rows], judged)
            assert np.array_equal(result.sample, ver.x[ver.accepted])
            assert np.unique(ver.x, axis=0).shape[0] == ver.x.shape[0]
            # A refocusing wave is fitted on a spread subset of its batch (8 sets: the last
            # planned wave's size) and the earlier runs left in its space.
            for b in range(1, len(calls)):
                own = result.waves[b].runs.x[:8]
                batch = ver.x[30 * (b - 1) : 30 * b]
                assert all((batch == row).all(axis=1).any() for row in own)
    # The batches' seeds do not depend on the waves refocusing adds (after one design wave:
    # the plan's seed plus 2000, 3000 ...).
    expected = [seed + 1000 * k for seed in (0, 1) for k in (2, 3, 4, 5)]
    assert seeds[True] == seeds[False] == expected
    # Refocusing on the runs finds several times the plausible sets in the same batches.
    assert accepted[True] >= 2 * max(accepted[False], 1)


def test_a_refocusing_wave_that_leaves_no_space_ends_the_verification_with_its_sets() -> None:
    # The model's runs miss every target by 5 (the emulators of the design wave do not know):
    # the wave refitted on them rules out the whole box. Batches of 8 sets: fewer than a
    # held-out check scales a variance from, so the design wave stays as it was fitted (with
    # more, the check would find it useless and stop it ruling anything out). The refocusing
    # wave is fitted to the runs of its space (training "space"): fitted to the design's runs
    # too, which come from another model here, it would average the two.
    plan = Plan((8,), 2, candidates=300, final_sample=40, seed=0, batch=4000,
                verify_points=8, verify_replications=2, verify_batches=4,
                training="space")  # fmt: skip
    verify, calls = _counting(lambda x, r, s: _toy(x, r, s) + 5.0)
    lines: list[str] = []
    result = run_waves(_toy, BOX, TOY_TARGETS, plan, verify=verify, report=lines.append)
    assert calls == [(8, 2)]
    assert result.wave_source == ["design", "verification batch 1"]
    assert result.nroy_share[-1] == 0.0 and len(result.nroy_share) == 2
    assert len(result.seconds) == 3
    assert result.verification is not None and result.verification.x.shape == (8, 2)
    assert not result.verification.accepted.any() and result.sample.shape == (0, 2)
    assert lines[-1].startswith("verification stops: the space of wave 2 is empty")


def test_verification_stops_refocusing_once_enough_sets_are_accepted() -> None:
    # The smooth toy accepts most sets of the first batch: no refocusing wave is fitted.
    plan = Plan((12, 10, 10), 3, candidates=300, final_sample=20, seed=4, batch=4000,
                verify_points=40, verify_replications=2, verify_batches=4)  # fmt: skip
    result = run_waves(_toy, BOX, TOY_TARGETS, plan)
    assert result.wave_source == ["design"] * 3 and result.wave_size == [12, 10, 10]
    assert result.verification is not None and result.verification.x.shape[0] == 40
    assert result.sample.shape[0] >= 20


def test_many_targets_rule_out_on_the_second_largest_implausibility() -> None:
    assert rule_out_rank(SECOND_MAX_FROM - 1) == 1
    assert rule_out_rank(SECOND_MAX_FROM) == 2 and rule_out_rank(61) == 2
    assert rule_out_rank(61, 1) == 1 and rule_out_rank(61, 3) == 3
    for bad in (0, 62):
        with pytest.raises(ValueError, match="rule-out rank"):
            rule_out_rank(61, bad)
    with pytest.raises(ValueError, match="rule_out_rank"):
        Plan(points=(20, 10, 10), replications=2, rule_out_rank=0)


def test_rank_two_keeps_a_point_that_one_target_alone_rules_out() -> None:
    x = BOX.lhs(30, seed=4)
    strict = fit_wave(Runs.of(x, _toy(x, 3, 6)), TOY_TARGETS, BOX)
    lenient = fit_wave(Runs.of(x, _toy(x, 3, 6)), TOY_TARGETS, BOX, rank=2)
    probe = BOX.uniform(4000, np.random.default_rng(2))
    imp = strict.implausibility(probe)
    beyond = (imp >= CUTOFF).sum(axis=1)
    assert np.array_equal(strict.not_ruled_out(probe), beyond == 0)
    assert np.array_equal(lenient.not_ruled_out(probe), beyond < 2)
    # The sequential rule and the ruling implausibility agree, and a point beyond the cutoff
    # on exactly one target is kept by rank 2 only.
    assert np.array_equal(
        lenient.not_ruled_out(probe), lenient.ruling_implausibility(probe) < CUTOFF
    )
    assert np.array_equal(strict.ruling_implausibility(probe), imp.max(axis=1))
    one = beyond == 1
    assert one.any() and lenient.not_ruled_out(probe)[one].all()
    assert not strict.not_ruled_out(probe)[one].any()


def test_a_prior_rules_out_alone_and_a_nan_counts_as_beyond_at_any_rank() -> None:
    x = BOX.lhs(30, seed=4)
    prior = RatioPrior("b_over_a", numerator=1, denominator=0, observed=1.0, sd=0.1)
    targets = Targets(TOY_TARGETS.names, TOY_TARGETS.observed, TOY_TARGETS.discrepancy_sd,
                      TOY_TARGETS.observation_sd, (prior,))  # fmt: skip
    wave = fit_wave(Runs.of(x, _toy(x, 3, 6)), targets, BOX, rank=2)
    probe = BOX.uniform(3000, np.random.default_rng(5))
    off_prior = targets.prior_implausibility(probe)[:, 0] >= CUTOFF
    assert off_prior.any() and not wave.not_ruled_out(probe)[off_prior].any()
    assert (wave.ruling_implausibility(probe)[off_prior] >= CUTOFF).all()
    # An emulator that gives NaN somewhere: beyond the cutoff there, whatever the rank.
    nan_at = probe[:, 0] < 0.5
    real = wave.target_implausibility

    def failing(k: int, pts: np.ndarray) -> np.ndarray:
        out = real(k, pts)
        return np.where(pts[:, 0] < 0.5, np.nan, out)

    wave.target_implausibility = failing  # type: ignore[method-assign]
    assert not wave.not_ruled_out(probe)[nan_at].any()
    assert np.isinf(wave.ruling_implausibility(probe)[nan_at]).all()
    assert np.array_equal(wave.not_ruled_out(probe), wave.ruling_implausibility(probe) < CUTOFF)


@pytest.mark.slow
def test_the_waves_use_the_plans_rank_and_refuse_one_beyond_the_targets_before_any_run() -> None:
    plan = Plan(points=(20, 10), replications=2, candidates=300, final_sample=20, seed=3,
                rule_out_rank=2)  # fmt: skip
    result = run_waves(_toy, BOX, TOY_TARGETS, plan)
    assert [w.rank for w in result.waves] == [2] * len(result.waves)
    calls = []

    def counted(x: np.ndarray, reps: int, seed: int) -> np.ndarray:
        calls.append(x.shape[0])
        return _toy(x, reps, seed)

    with pytest.raises(ValueError, match="rule-out rank"):
        run_waves(counted, BOX, TOY_TARGETS, dataclasses.replace(plan, rule_out_rank=3))
    assert calls == []
    with pytest.raises(ValueError, match="needs a rank"):
        dataclasses.replace(result.waves[0], rank=3)


def test_a_fit_continuing_one_of_fewer_targets_runs_its_designs_then_its_own() -> None:
    # Fit A judges y0 alone; fit B both outputs, its first two waves A's designs.
    only_y0 = Targets(("y0",), TOY_TARGETS.observed[:1], np.full(1, 0.02), np.full(1, 0.005))

    designs: list[np.ndarray] = []

    def toy_y0(x: np.ndarray, reps: int, seed: int) -> np.ndarray:
        designs.append(x.copy())
        return _toy(x, reps, seed)[:, :, :1]

    plan = Plan((12, 10), 2, candidates=300, final_sample=40, seed=4, batch=4000)
    first = run_waves(toy_y0, BOX, only_y0, plan)
    assert [d.shape[0] for d in designs] == [12, 10]
    calls: list[tuple[np.ndarray, int]] = []

    def recorded(x: np.ndarray, reps: int, seed: int) -> np.ndarray:
        calls.append((x.copy(), seed))
        return _toy(x, reps, seed)

    longer = dataclasses.replace(plan, max_waves=3, stop_share=1.0)
    second = run_waves(recorded, BOX, TOY_TARGETS, longer, designs=designs)
    # The given designs run first, with the seeds A ran them with (the same runs), then a wave
    # drawn from B's own space.
    assert len(calls) == 3
    for k in (0, 1):
        np.testing.assert_array_equal(calls[k][0], designs[k])
        assert calls[k][1] == plan.seed + 1000 * (k + 1)
    assert not_ruled_out(second.waves[:2], calls[2][0]).all()
    # Each given wave's share is measured under B's waves: no more than A's (y1 rules out
    # more). (0.5, 0.2) meets y0 (0.6) exactly and misses y1 (0.46 against -0.06, 25 sd):
    # inside A's space, outside B's; the truth is in both.
    assert len(second.nroy_share) == len(first.nroy_share) + 1
    assert second.nroy_share[0] <= first.nroy_share[0] + 0.02
    y0_only = np.array([[0.5, 0.2]])
    assert not_ruled_out(first.waves, y0_only)[0]
    assert not not_ruled_out(second.waves, y0_only)[0]
    assert not_ruled_out(second.waves, TRUTH[None, :])[0]


def test_a_given_design_outside_the_box_stops_the_fit_before_any_run() -> None:
    plan = Plan((6, 6), 2, candidates=40, final_sample=10, seed=2, batch=2000)
    ran: list[int] = []

    def counted(x: np.ndarray, reps: int, seed: int) -> np.ndarray:
        ran.append(x.shape[0])
        return _toy(x, reps, seed)

    with pytest.raises(ValueError, match="wave 1: points outside the box"):
        run_waves(counted, BOX, TOY_TARGETS, plan, designs=[np.full((6, 2), 1.5)])
    with pytest.raises(ValueError, match=r"wave 2: shape \(6, 3\)"):
        run_waves(counted, BOX, TOY_TARGETS, plan, designs=[np.full((6, 2), 0.5), np.ones((6, 3))])
    assert ran == []
