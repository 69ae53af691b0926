"""Calibration maths: emulator, fit, history matching and profiles on known functions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from urbsim.analysis.calibration import (
    OFFICIAL_TARGETS,
    QuadraticEmulator,
    Target,
    fit_parameters,
    history_match,
    loss,
    profiles,
    target_values,
)

BOUNDS = [(0.0, 2.0), (10.0, 20.0)]
TRUTH = np.array([0.7, 13.0])
TARGETS = (Target("a", 2015, 0.0, 0.1, "test"), Target("b", 2015, 0.0, 0.1, "test"))


def _model(x: np.ndarray) -> np.ndarray:
    """Two outputs, both zero at TRUTH, quadratic with an interaction: the emulator is exact."""
    dx = x[:, 0] - TRUTH[0]
    dy = (x[:, 1] - TRUTH[1]) / 10.0
    return np.stack([dx + 0.5 * dy + 0.3 * dx * dy, dy - 0.2 * dx**2], axis=1)


@pytest.fixture(scope="module")
def emulator() -> QuadraticEmulator:
    rng = np.random.default_rng(1)
    lo = np.array([b[0] for b in BOUNDS])
    hi = np.array([b[1] for b in BOUNDS])
    x = lo + rng.random((60, 2)) * (hi - lo)
    return QuadraticEmulator(BOUNDS).fit(x, _model(x))


def test_emulator_is_exact_on_a_quadratic(emulator: QuadraticEmulator) -> None:
    x = np.array([[0.1, 11.0], [1.9, 19.5], [1.0, 15.0]])
    np.testing.assert_allclose(emulator.predict(x), _model(x), atol=1e-9)
    assert emulator.residual_sd is not None and np.all(emulator.residual_sd < 1e-9)
    assert emulator.r2 is not None and np.all(emulator.r2 > 0.999999)


def test_emulator_residual_sd_measures_noise() -> None:
    rng = np.random.default_rng(2)
    x = rng.random((4000, 2)) * [2.0, 10.0] + [0.0, 10.0]
    y = _model(x) + rng.normal(0.0, 0.05, size=(4000, 2))
    em = QuadraticEmulator(BOUNDS).fit(x, y)
    assert em.residual_sd is not None
    np.testing.assert_allclose(em.residual_sd, 0.05, rtol=0.05)


def test_fit_recovers_the_truth(emulator: QuadraticEmulator) -> None:
    fit = fit_parameters(emulator, TARGETS, n_starts=8, seed=3)
    np.testing.assert_allclose(fit.parameters, TRUTH, atol=1e-4)
    assert fit.loss < 1e-8


def test_fit_is_deterministic(emulator: QuadraticEmulator) -> None:
    a = fit_parameters(emulator, TARGETS, n_starts=4, seed=5)
    b = fit_parameters(emulator, TARGETS, n_starts=4, seed=5)
    assert np.array_equal(a.parameters, b.parameters)


def test_history_match_keeps_a_region_around_the_truth(emulator: QuadraticEmulator) -> None:
    kept = history_match(
        emulator, TARGETS, np.array([0.01, 0.01]), np.array([0.02, 0.02]), n=50_000, seed=1
    )
    assert len(kept) > 0
    assert (kept["implausibility"] < 3.0).all()
    # Output a moves 1 per unit of p0: |a| < 3 * sd (~0.067) bounds p0 near the truth.
    assert kept["p0"].between(TRUTH[0] - 0.2, TRUTH[0] + 0.2).all()
    assert kept["p1"].between(TRUTH[1] - 2.0, TRUTH[1] + 2.0).all()
    assert abs(kept["p0"].median() - TRUTH[0]) < 0.03


def test_history_match_rejects_everything_for_an_unreachable_target(
    emulator: QuadraticEmulator,
) -> None:
    far = (Target("a", 2015, 50.0, 0.1, "test"), TARGETS[1])
    kept = history_match(emulator, far, np.zeros(2), np.full(2, 0.01), n=10_000, seed=1)
    assert kept.empty


def test_profiles_have_their_minimum_at_the_truth(emulator: QuadraticEmulator) -> None:
    prof = profiles(emulator, TARGETS, TRUTH, points=21)
    assert set(prof.columns) == {"parameter", "value", "loss"}
    for i in range(2):
        p = prof[prof["parameter"] == i]
        best = p.loc[p["loss"].idxmin(), "value"]
        step = (BOUNDS[i][1] - BOUNDS[i][0]) / 20
        assert abs(best - TRUTH[i]) <= step


def test_loss_units() -> None:
    t = OFFICIAL_TARGETS[:2]
    vals = np.array([t[0].value + 0.01, t[1].value - 0.02])
    assert loss(vals, t) == pytest.approx(1.0 + 4.0)


def test_target_values_reads_the_national_table() -> None:
    national = pd.DataFrame({"year": [2012, 2015], "hukou_urbanization_rate": [0.35, 0.4]})
    got = target_values(national, OFFICIAL_TARGETS[:1])
    assert got == {"hukou_urbanization_rate@2012": 0.35}
    with pytest.raises(KeyError, match="urbanization_rate"):
        target_values(national, OFFICIAL_TARGETS[1:2])
    with pytest.raises(KeyError, match="year 2018"):
        target_values(national, (Target("hukou_urbanization_rate", 2018, 0.4, 0.01, "x"),))


@pytest.mark.parametrize(
    "bounds", [[(1.0, 1.0)], [(0.0, float("inf"))], []], ids=["empty", "inf", "none"]
)
def test_bad_bounds_raise(bounds: list[tuple[float, float]]) -> None:
    with pytest.raises(ValueError, match="bounds"):
        QuadraticEmulator(bounds)


def test_fit_needs_enough_rows() -> None:
    em = QuadraticEmulator(BOUNDS)
    with pytest.raises(ValueError, match="more than"):
        em.fit(np.zeros((3, 2)), np.zeros((3, 1)))
    with pytest.raises(RuntimeError, match="fit"):
        em.predict(np.zeros((1, 2)))
