"""The emulator's marginal likelihood and its optimizer against scikit-learn's."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel

from urbsim.analysis.emulator import GPEmulator, fit_kernel, log_marginal_likelihood


def _problem(n: int, d: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    u = rng.uniform(size=(n, d))
    y = np.sin(3.0 * u[:, 0]) + u[:, 1] ** 2 + 0.1 * rng.normal(size=n)
    return u, y, rng.uniform(0.01, 0.1, n)


def _sklearn(u: np.ndarray, y: np.ndarray, alpha: np.ndarray) -> GaussianProcessRegressor:
    kernel = ConstantKernel(1.0, (1e-3, 1e3)) * RBF(np.full(u.shape[1], 0.5), (1e-2, 1e2))
    return GaussianProcessRegressor(kernel, alpha=alpha, optimizer=None).fit(u, y)


@pytest.mark.parametrize(("n", "d"), [(30, 2), (120, 12)])
def test_the_likelihood_and_its_gradient_are_scikit_learns(n: int, d: int) -> None:
    u, y, alpha = _problem(n, d, seed=n)
    gp = _sklearn(u, y, alpha)
    rng = np.random.default_rng(d)
    for _ in range(5):
        theta = rng.uniform(np.log([0.1] + [0.05] * d), np.log([10.0] + [5.0] * d))
        want, want_grad = gp.log_marginal_likelihood(theta, eval_gradient=True)
        got, grad = log_marginal_likelihood(theta, u, y, alpha)
        assert got == pytest.approx(want, rel=1e-10)
        np.testing.assert_allclose(grad, want_grad, rtol=1e-8, atol=1e-8 * np.abs(want_grad).max())


def test_a_kernel_matrix_that_is_not_positive_definite_has_no_likelihood() -> None:
    u = np.zeros((3, 2))  # three equal points and no nugget: a singular matrix
    value, grad = log_marginal_likelihood(np.zeros(3), u, np.array([1.0, 2.0, 3.0]), np.zeros(3))
    assert value == -np.inf and not grad.any()


# scikit-learn's optimizer warns of a length scale at its bound (an input the output ignores).
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_the_optimum_is_at_least_as_likely_as_scikit_learns() -> None:
    u, y, alpha = _problem(60, 3, seed=7)
    kernel = ConstantKernel(1.0, (1e-3, 1e3)) * RBF(np.full(3, 0.5), (1e-2, 1e2))
    theirs = GaussianProcessRegressor(kernel, alpha=alpha, n_restarts_optimizer=2, random_state=0)
    theirs.fit(u, y)
    theta = fit_kernel(u, y, alpha, kernel.theta, restarts=2, seed=0)
    ours, _ = log_marginal_likelihood(theta, u, y, alpha)
    assert ours >= theirs.log_marginal_likelihood_value_ - 1e-6
    bounds = np.log([[1e-3, 1e3]] + [[1e-2, 1e2]] * 3)
    assert np.all((theta >= bounds[:, 0]) & (theta <= bounds[:, 1]))


def test_restarts_never_end_below_the_default_start() -> None:
    u, y, alpha = _problem(40, 4, seed=3)
    start = np.log([1.0] + [0.5] * 4)
    alone, _ = log_marginal_likelihood(fit_kernel(u, y, alpha, start, 0, seed=1), u, y, alpha)
    more, _ = log_marginal_likelihood(fit_kernel(u, y, alpha, start, 3, seed=1), u, y, alpha)
    assert more >= alone - 1e-9


def test_the_emulator_keeps_the_fitted_kernel() -> None:
    u, y, _ = _problem(50, 3, seed=11)
    em = GPEmulator(np.zeros(3), np.ones(3), seed=0, restarts=1).fit(u, y)
    again = GPEmulator(np.zeros(3), np.ones(3), seed=0, restarts=1).fit(u, y)
    # Deterministic: the same seed, the same hyperparameters and predictions to the bit.
    np.testing.assert_array_equal(em._gp.kernel_.theta, again._gp.kernel_.theta)
    probe = np.random.default_rng(0).uniform(size=(20, 3))
    np.testing.assert_array_equal(em.predict(probe)[0], again.predict(probe)[0])


def test_hyperparameters_from_some_rows_and_the_process_conditioned_on_all() -> None:
    u, _, _ = _problem(60, 3, seed=5)
    y = np.sin(3.0 * u[:, 0]) + u[:, 1] ** 2  # smooth: length scales well inside their bounds
    lo, hi = np.zeros(3), np.ones(3)
    whole = GPEmulator(lo, hi, seed=0, restarts=0).fit(u, y)
    same = GPEmulator(lo, hi, seed=0, restarts=0).fit(u, y, hyper_rows=np.arange(60))
    np.testing.assert_array_equal(whole._gp.kernel_.theta, same._gp.kernel_.theta)
    rows = np.arange(0, 60, 2)
    part = GPEmulator(lo, hi, seed=0, restarts=0).fit(u, y, hyper_rows=rows)
    # Its hyperparameters are the likelihood optimum of those rows' standardized residuals
    # (the trend and its scale fitted to every point) ...
    design = np.column_stack([np.ones(60), u])
    resid = y - design @ np.linalg.lstsq(design, y, rcond=None)[0]
    z, alpha = resid / resid.std(), np.full(60, 1e-8)
    theta = fit_kernel(u[rows], z[rows], alpha[rows], np.log([1.0, 0.5, 0.5, 0.5]), 0, 0)
    np.testing.assert_allclose(part._gp.kernel_.theta, theta, rtol=1e-12)
    assert np.all(theta[1:] > np.log(0.05))
    # ... and the process interpolates every point, the rows left out too.
    mean, var = part.predict(u[1::2])
    np.testing.assert_allclose(mean, y[1::2], atol=1e-3)
    assert np.all(var < 1e-4)


@pytest.mark.parametrize(
    ("rows", "message"),
    [(np.arange(3), "at least 5 rows"), (np.array([0, 1, 2, 3, 60]), "must index the 60")],
)
def test_hyperparameter_rows_must_be_enough_points_of_the_design(
    rows: np.ndarray, message: str
) -> None:
    u, y, _ = _problem(60, 3, seed=5)
    with pytest.raises(ValueError, match=message):
        GPEmulator(np.zeros(3), np.ones(3)).fit(u, y, hyper_rows=rows)
