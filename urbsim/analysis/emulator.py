"""Gaussian-process emulators of a stochastic simulator, with leave-one-out validation.

One :class:`GPEmulator` emulates one output: a linear regression in the inputs (scaled to the
unit box) plus a zero-mean Gaussian process on its residuals (scikit-learn's
``GaussianProcessRegressor``, a constant times an anisotropic squared-exponential kernel, the
hyperparameters fitted by maximum likelihood with :func:`fit_kernel`: scikit-learn's criterion
and optimizer, a gradient computed without its (n, n, d) array). Each design point is the mean
of ``r`` replications of the stochastic simulator; its noise, the replications' variance over
``r``, is added to that point's diagonal (``alpha``), so the emulator does not interpolate the
noise and its uncertainty differs from point to point. The emulator's variance at a new point is the
posterior variance of the mean output there (without the simulator's own run-to-run variance,
which :func:`variance_emulator` emulates separately, in log variance).

:meth:`GPEmulator.loo_standardized_errors` gives the leave-one-out standardized errors with the
fitted hyperparameters in closed form (Rasmussen and Williams 2006, *Gaussian Processes for
Machine Learning*, section 5.4.2); Bastos and O'Hagan (2009, "Diagnostics for Gaussian process
emulators", *Technometrics* 51(4)) use such errors: for a valid emulator they are about
standard normal, and many beyond 3 show an emulator overconfident or wrong there.
:func:`held_out_check` computes the same errors at runs the emulator was not fitted to (the
check leave-one-out cannot make where the design never went) and the factor on the emulator's
variance that makes them valid.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
from scipy.linalg import cho_solve, cholesky
from scipy.linalg.lapack import dpotri
from scipy.optimize import brentq, minimize
from scipy.special import digamma, polygamma
from scipy.stats import chi2
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel

#: Floor of the per-point nugget, as a share of the output variance: keeps the kernel matrix
#: positive definite when replications agree exactly (a deterministic output).
NUGGET_FLOOR: Final[float] = 1e-8
#: Bounds of the kernel's amplitude (standardized residuals) and of its length scales (unit box).
AMPLITUDE_BOUNDS: Final[tuple[float, float]] = (1e-3, 1e3)
LENGTH_SCALE_BOUNDS: Final[tuple[float, float]] = (1e-2, 1e2)


def log_marginal_likelihood(
    theta: np.ndarray, u: np.ndarray, y: np.ndarray, alpha: np.ndarray
) -> tuple[float, np.ndarray]:
    """Log marginal likelihood of a zero-mean GP with kernel ``amplitude * exp(-0.5 * sum_k
    (u_k - u'_k)**2 / l_k**2)`` plus ``alpha`` on the diagonal, and its gradient in
    ``theta = log([amplitude, l_1, ..., l_d])``: the quantity scikit-learn's
    ``GaussianProcessRegressor`` maximizes for ``ConstantKernel * RBF`` (Rasmussen and Williams
    2006, eq. 5.8-5.9).

    scikit-learn forms the gradient from an (n, n, d) array of kernel derivatives; here each
    length scale's term ``0.5 * sum_ij W_ij (s_ik - s_jk)**2``, with ``W = (a a' - K^-1) * K_f``
    and ``s = u / l``, is ``sum_i s_ik**2 (W 1)_i - sum_i s_ik (W s)_ik`` (W is symmetric): two
    matrix products instead, several times faster at the design sizes of a calibration (hundreds
    of runs in tens of inputs), and the same function (the test compares both).

    Returns ``(-inf, zeros)`` where the kernel matrix is not positive definite, as scikit-learn
    does.
    """
    theta = np.asarray(theta, dtype=np.float64)
    amplitude = np.exp(theta[0])
    s = u / np.exp(theta[1:])
    sq = np.einsum("ij,ij->i", s, s)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2.0 * (s @ s.T), 0.0)
    kf = amplitude * np.exp(-0.5 * d2)
    k = kf.copy()
    k[np.diag_indices_from(k)] += alpha
    try:
        chol = cholesky(k, lower=True, check_finite=False)
    except np.linalg.LinAlgError:
        return -np.inf, np.zeros_like(theta)
    a = cho_solve((chol, True), y, check_finite=False)
    n = y.shape[0]
    value = -0.5 * float(y @ a) - float(np.log(np.diag(chol)).sum()) - 0.5 * n * np.log(2 * np.pi)
    inverse, info = dpotri(chol, lower=1)
    if info:
        return -np.inf, np.zeros_like(theta)
    # dpotri fills the lower triangle only.
    k_inv = np.tril(inverse) + np.tril(inverse, -1).T
    w = (np.outer(a, a) - k_inv) * kf
    grad = np.empty_like(theta)
    grad[0] = 0.5 * w.sum()
    grad[1:] = (s * s).T @ w.sum(axis=1) - np.einsum("ik,ik->k", s, w @ s)
    return value, grad


def fit_kernel(
    u: np.ndarray,
    y: np.ndarray,
    alpha: np.ndarray,
    start: np.ndarray,
    restarts: int,
    seed: int,
) -> np.ndarray:
    """The ``theta`` (log amplitude, log length scales) of largest marginal likelihood:
    L-BFGS-B within :data:`AMPLITUDE_BOUNDS` and :data:`LENGTH_SCALE_BOUNDS` from ``start`` and
    from ``restarts`` further starts drawn uniformly in the log bounds (``seed``), as
    scikit-learn's optimizer does, with :func:`log_marginal_likelihood`."""
    d = u.shape[1]
    bounds = np.log(np.array([AMPLITUDE_BOUNDS] + [LENGTH_SCALE_BOUNDS] * d))
    rng = np.random.default_rng(seed)
    starts = [np.asarray(start, dtype=np.float64)]
    starts += [rng.uniform(bounds[:, 0], bounds[:, 1]) for _ in range(restarts)]

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        value, grad = log_marginal_likelihood(theta, u, y, alpha)
        return -value, -grad

    best: tuple[float, np.ndarray] | None = None
    for theta0 in starts:
        found = minimize(objective, theta0, method="L-BFGS-B", jac=True, bounds=bounds)
        if best is None or found.fun < best[0]:
            best = (float(found.fun), np.clip(found.x, bounds[:, 0], bounds[:, 1]))
    assert best is not None
    return best[1]


@dataclass(frozen=True)
class LooSummary:
    """Leave-one-out standardized errors of an emulator and whether they look valid.

    Attributes
    ----------
    errors : numpy.ndarray
        One standardized error per design point.
    share_beyond : float
        Share of errors with ``|e| > limit``.
    mean, sd : float
        Mean and standard deviation of the errors (about 0 and 1 when valid).
    valid : bool
        ``share_beyond <= max_share`` and ``sd <= max_sd``.
    """

    errors: np.ndarray
    share_beyond: float
    mean: float
    sd: float
    valid: bool


class GPEmulator:
    """Emulator of one output of a stochastic simulator on a box of inputs.

    Parameters
    ----------
    lo, hi
        The box the inputs are scaled by (each input to ``[0, 1]``).
    seed
        Seed of the optimizer's random restarts.
    restarts
        Random restarts of the hyperparameter optimization besides its default start
        (amplitude 1, length scales 0.5).
    fixed
        ``(amplitude, length_scale)`` of the kernel (in units of the standardized residuals and
        of the unit box) to use as they are instead of fitting them (for instance those of an
        earlier wave); None fits them.
    """

    def __init__(
        self,
        lo: np.ndarray,
        hi: np.ndarray,
        seed: int = 0,
        restarts: int = 2,
        fixed: tuple[float, float] | None = None,
    ) -> None:
        self.lo = np.asarray(lo, dtype=np.float64)
        self.hi = np.asarray(hi, dtype=np.float64)
        if self.lo.ndim != 1 or self.lo.shape != self.hi.shape or np.any(self.hi <= self.lo):
            raise ValueError(f"need lo < hi of one shape, got {self.lo} and {self.hi}")
        self.seed = seed
        self.restarts = restarts
        self.fixed = fixed
        self._gp: GaussianProcessRegressor | None = None

    def _unit(self, x: np.ndarray) -> np.ndarray:
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        if x.shape[1] != self.lo.shape[0]:
            raise ValueError(f"inputs have {x.shape[1]} columns, the box {self.lo.shape[0]}")
        return (x - self.lo) / (self.hi - self.lo)

    def _trend(self, u: np.ndarray) -> np.ndarray:
        return np.column_stack([np.ones(u.shape[0]), u]) @ self._beta

    def fit(
        self,
        x: np.ndarray,
        y: np.ndarray,
        noise_var: np.ndarray | None = None,
        hyper_rows: np.ndarray | None = None,
    ) -> GPEmulator:
        """Fit to design points ``x`` (n, d), their mean outputs ``y`` (n,) and the variance of
        each mean (n,; the replications' variance over their number; zeros when None).

        ``hyper_rows`` (indices into the points; None: all) are the points whose likelihood
        fits the kernel's hyperparameters; the trend and the process are then fitted to every
        point. A fit costs about the cube of its points for every step of the optimizer, and
        the posterior one cube only: with many points far from where the emulator is used, the
        nearest fit the hyperparameters (:func:`urbsim.analysis.history_matching.fit_wave`).

        Raises
        ------
        ValueError
            When shapes disagree, values are not finite, there are fewer than d + 2 points (or
            ``hyper_rows``), or a row is out of range.
        """
        u = self._unit(x)
        y = np.asarray(y, dtype=np.float64).ravel()
        nv = np.zeros_like(y) if noise_var is None else np.asarray(noise_var, float).ravel()
        if not (u.shape[0] == y.shape[0] == nv.shape[0]):
            raise ValueError(f"x {u.shape}, y {y.shape} and noise {nv.shape} do not match")
        if u.shape[0] < u.shape[1] + 2:
            raise ValueError(f"need at least {u.shape[1] + 2} points, got {u.shape[0]}")
        if not (np.isfinite(u).all() and np.isfinite(y).all() and np.isfinite(nv).all()):
            raise ValueError("x, y and noise must be finite")
        rows = np.arange(u.shape[0]) if hyper_rows is None else np.asarray(hyper_rows)
        if rows.ndim != 1 or rows.shape[0] < u.shape[1] + 2:
            raise ValueError(f"need at least {u.shape[1] + 2} rows for the hyperparameters")
        if rows.min() < 0 or rows.max() >= u.shape[0]:
            raise ValueError(f"hyper_rows must index the {u.shape[0]} points")
        self.y_range = (float(y.min()), float(y.max()))
        design = np.column_stack([np.ones(u.shape[0]), u])
        self._beta, *_ = np.linalg.lstsq(design, y, rcond=None)
        resid = y - design @ self._beta
        self._scale = float(resid.std()) or float(np.abs(y).mean()) or 1.0
        d = u.shape[1]
        amplitude, length = (1.0, 0.5) if self.fixed is None else self.fixed
        kernel = ConstantKernel(amplitude, AMPLITUDE_BOUNDS) * RBF(
            np.full(d, length), LENGTH_SCALE_BOUNDS
        )
        alpha = np.maximum(nv / self._scale**2, NUGGET_FLOOR)
        z = resid / self._scale
        if self.fixed is None:
            # The hyperparameters by maximum likelihood (fit_kernel: scikit-learn's criterion,
            # a faster gradient), then scikit-learn's regressor at them.
            theta = fit_kernel(
                u[rows], z[rows], alpha[rows], kernel.theta, self.restarts, self.seed
            )
            kernel = kernel.clone_with_theta(theta)
        self._gp = GaussianProcessRegressor(kernel, alpha=alpha, optimizer=None).fit(u, z)
        return self

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Emulated mean output and its variance (the emulator's uncertainty) at ``x``."""
        if self._gp is None:
            raise RuntimeError("fit the emulator first")
        u = self._unit(x)
        mean, sd = self._gp.predict(u, return_std=True)
        return self._trend(u) + mean * self._scale, (sd * self._scale) ** 2

    def loo_standardized_errors(self) -> np.ndarray:
        """Leave-one-out standardized errors at the design points (fitted hyperparameters).

        With ``K`` the kernel matrix plus the nuggets and ``a = K^-1 y``, the prediction of
        point i from the others misses by ``a_i / [K^-1]_ii`` with variance ``1 / [K^-1]_ii``
        (Rasmussen and Williams 2006, eq. 5.12), so the standardized error is
        ``a_i / sqrt([K^-1]_ii)``. The regression trend is kept from the full fit.
        """
        if self._gp is None:
            raise RuntimeError("fit the emulator first")
        gp = self._gp
        identity = np.eye(gp.L_.shape[0])
        l_inv = np.linalg.solve(gp.L_, identity)
        k_inv_diag = np.sum(l_inv**2, axis=0)
        return gp.alpha_.ravel() / np.sqrt(k_inv_diag)


def loo_summary(
    errors: np.ndarray, limit: float = 3.0, max_share: float = 0.05, max_sd: float = 2.0
) -> LooSummary:
    """Summarize leave-one-out standardized errors; ``valid`` unless too many are beyond
    ``limit`` or their spread is far above 1 (an overconfident emulator)."""
    e = np.asarray(errors, dtype=np.float64)
    share = float(np.mean(np.abs(e) > limit))
    sd = float(e.std(ddof=1)) if e.shape[0] > 1 else 0.0
    return LooSummary(e, share, float(e.mean()), sd, share <= max_share and sd <= max_sd)


def variance_emulator(
    x: np.ndarray,
    run_var: np.ndarray,
    replications: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    restarts: int = 2,
    hyper_rows: np.ndarray | None = None,
) -> GPEmulator:
    """Emulator of the log of a simulator's run-to-run variance.

    ``run_var`` (n,) is each design point's sample variance over its ``replications`` (n,).
    With ``nu = r - 1`` degrees of freedom, ``s^2 = sigma^2 chi2_nu / nu`` for normal runs, so
    ``log s^2`` has mean ``log sigma^2 + digamma(nu / 2) + log(2 / nu)`` and variance
    ``trigamma(nu / 2)``: the log of a sample variance underestimates the log variance (by a
    factor ``exp(-1.27) = 0.28`` at 2 replications, 0.56 at 3). The emulator is fitted to the
    log sample variances less that bias, with that variance as each point's noise, so
    :func:`run_variance` returns the variance, not its geometric mean over the samples.
    """
    r = np.asarray(replications, dtype=np.float64)
    if np.any(r < 2):
        raise ValueError("a variance needs at least 2 replications per point")
    floor = max(float(np.max(run_var)) * 1e-12, 1e-300)
    log_var = np.log(np.maximum(np.asarray(run_var, dtype=np.float64), floor))
    half = (r - 1.0) / 2.0
    bias = digamma(half) - np.log(half)
    em = GPEmulator(lo, hi, restarts=restarts)
    return em.fit(x, log_var - bias, polygamma(1, half), hyper_rows)


#: How far (in log variance) a run-to-run variance may be extrapolated beyond the design's.
LOG_VARIANCE_MARGIN: Final[float] = 3.0


def run_variance(emulator: GPEmulator, x: np.ndarray) -> np.ndarray:
    """The run-to-run variance at ``x`` from a :func:`variance_emulator`: ``exp`` of the
    emulated log variance (its median), kept within a factor ``e**3`` of the smallest and
    largest variance of the design points, so that no extrapolation far from them explodes."""
    mean, _ = emulator.predict(x)
    lo, hi = emulator.y_range
    return np.exp(np.clip(mean, lo - LOG_VARIANCE_MARGIN, hi + LOG_VARIANCE_MARGIN))


#: Fewest held-out runs from which an emulator's variance is scaled (fewer: reported only).
HELD_OUT_MIN: Final[int] = 10
#: Significance of the held-out check: the emulator's variance is scaled only when the sum of
#: the squared standardized errors exceeds this upper quantile of chi-squared with one degree of
#: freedom per point (what a valid emulator would give), not for a noisy root mean square above 1.
HELD_OUT_LEVEL: Final[float] = 0.05
#: Largest factor on an emulator's variance: beyond it the emulator rules out next to nothing.
INFLATION_MAX: Final[float] = 1e6


@dataclass(frozen=True)
class HeldOutCheck:
    """An emulator checked on simulator runs it was not fitted to.

    Attributes
    ----------
    points : int
        Held-out design points (each the mean of its replications).
    rms : float
        Root mean square of their standardized errors with the emulator as fitted (about 1
        for a valid emulator; NaN without points).
    inflation : float
        Factor on the emulator's variance that brings that root mean square to 1; 1 when the
        errors are consistent with a valid emulator at :data:`HELD_OUT_LEVEL` or there are fewer
        than :data:`HELD_OUT_MIN` points; at most :data:`INFLATION_MAX` (then the root mean
        square stays above 1: the errors are the run variance's, or the emulator is useless).
    """

    points: int
    rms: float
    inflation: float


def held_out_check(
    emulator: GPEmulator,
    var_emulator: GPEmulator,
    x: np.ndarray,
    mean: np.ndarray,
    replications: np.ndarray,
    min_points: int = HELD_OUT_MIN,
) -> HeldOutCheck:
    """Standardized errors of ``emulator`` at runs it was not fitted to, and the factor on its
    variance that makes them valid.

    At held-out point ``i`` with mean output ``m_i`` of ``r_i`` runs, the error
    ``m_i - E[f(x_i)]`` has variance ``V_em(x_i) + V_run(x_i) / r_i`` when the emulator is
    valid (Bastos and O'Hagan 2009 check emulators on such points: their leave-one-out errors
    cannot see where the design never went), and the sum of the ``n`` squared standardized
    errors is chi-squared with ``n`` degrees of freedom. When it exceeds that distribution's
    upper :data:`HELD_OUT_LEVEL` quantile, the factor ``c > 1`` on ``V_em`` that brings their
    root mean square to 1 is returned (the run variance is the simulator's, emulated where it
    was measured: only the emulator's own uncertainty is scaled); history matching then rules
    out with the scaled variance.

    Raises
    ------
    ValueError
        When an output, a prediction or a variance is not finite.
    """
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    n = x.shape[0]
    if n == 0:
        return HeldOutCheck(0, float("nan"), 1.0)
    mu, v_em = emulator.predict(x)
    v_mean = run_variance(var_emulator, x) / np.asarray(replications, dtype=np.float64)
    err2 = (np.asarray(mean, dtype=np.float64) - mu) ** 2
    if not (np.isfinite(err2).all() and np.isfinite(v_em).all() and np.isfinite(v_mean).all()):
        raise ValueError("held-out outputs, predictions and variances must be finite")

    def excess(log_c: float) -> float:
        return float(np.mean(err2 / (np.exp(log_c) * v_em + v_mean))) - 1.0

    rms = float(np.sqrt(excess(0.0) + 1.0))
    if n < min_points or n * rms**2 <= chi2.isf(HELD_OUT_LEVEL, n):
        return HeldOutCheck(n, rms, 1.0)
    top = float(np.log(INFLATION_MAX))
    if excess(top) >= 0.0:
        return HeldOutCheck(n, rms, INFLATION_MAX)
    return HeldOutCheck(n, rms, float(np.exp(brentq(excess, 0.0, top, xtol=1e-6))))
