"""Calibration against official statistics: targets, an emulator, the fit and its uncertainty.

urbsim runs the model (a sweep over a Latin hypercube of the free parameters); this module turns
the runs into a fit, in four steps that need no further model runs:

1. :class:`QuadraticEmulator` fits each target's simulated value as a polynomial (degree 2 by
   default) in the parameters scaled to the unit box, by least squares. Its residual standard
   deviation is the emulator's own uncertainty.
2. :func:`fit_parameters` minimises the weighted squared distance between emulated and official
   values (:func:`loss`) from several starts (bounded L-BFGS-B).
3. :func:`history_match` gives the uncertainty of the fit: it draws parameter sets uniformly from
   the box and keeps those whose emulated targets are all *not implausible* (Craig et al. 1997;
   Vernon et al. 2010): ``|f_k(theta) - z_k| / sqrt(emulator var + replication var + discrepancy
   var) < 3`` for every target ``k``. The kept sets' quantiles are the parameters' intervals.
4. :func:`profiles` minimises the loss over the other parameters at each value of one parameter,
   so a flat profile shows a parameter the targets do not identify.

All functions are deterministic for a given seed; none does I/O.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd
from scipy.optimize import minimize


@dataclass(frozen=True)
class Target:
    """One official figure the model should reproduce.

    Attributes
    ----------
    metric : str
        Column of the national table.
    year : int
        Year of the figure.
    value : float
        Official value, in the column's unit (rates as fractions, counts in persons).
    scale : float
        Distance counted as one unit of loss (1 percentage point for rates).
    source : str
        Where the figure comes from.
    """

    metric: str
    year: int
    value: float
    scale: float
    source: str

    @property
    def key(self) -> str:
        """``metric@year``: the target's name in tables."""
        return f"{self.metric}@{self.year}"

    @property
    def metric_name(self) -> str:
        """``metric_year``: the target's metric name in a sweep file (a bare TOML key)."""
        return f"{self.metric}_{self.year}"


_NBS: Final = "NBS Statistical Communiqué / China Statistical Yearbook"
_HUKOU: Final = "NBS / Ministry of Public Security, hukou urbanization rate"

#: The official national targets of the calibration (issue 4).
OFFICIAL_TARGETS: Final[tuple[Target, ...]] = (
    Target("hukou_urbanization_rate", 2012, 0.3533, 0.01, _HUKOU),
    Target("urbanization_rate", 2015, 0.5610, 0.01, _NBS),
    Target("hukou_urbanization_rate", 2015, 0.3990, 0.01, _HUKOU),
    Target("urbanization_rate", 2018, 0.5958, 0.01, _NBS),
    Target("hukou_urbanization_rate", 2018, 0.4337, 0.01, _HUKOU),
    Target("permits_issued", 2016, 28.9e6, 2.89e6, "NDRC: 28.9 million residence permits, 2016"),
)

#: Figures of the initial state: reproduced by construction of the world, checked, not fitted.
INITIAL_STATE: Final[tuple[Target, ...]] = (
    Target("urbanization_rate", 2010, 0.4968, 0.01, "6th census 2010"),
    Target("hukou_urbanization_rate", 2010, 0.3417, 0.01, _HUKOU),
    Target("floating_population", 2010, 221e6, 22.1e6, "6th census 2010: ~221 million"),
)


def target_values(national: pd.DataFrame, targets: Sequence[Target]) -> dict[str, float]:
    """The simulated value of each target in one run's national table.

    Raises
    ------
    KeyError
        When a target's column or year is missing from the table.
    """
    by_year = national.set_index("year")
    out: dict[str, float] = {}
    for t in targets:
        if t.metric not in by_year.columns:
            raise KeyError(f"national table has no column {t.metric!r} (target {t.key})")
        if t.year not in by_year.index:
            raise KeyError(f"national table has no year {t.year} (target {t.key})")
        out[t.key] = float(by_year.at[t.year, t.metric])
    return out


def loss(values: np.ndarray, targets: Sequence[Target]) -> np.ndarray:
    """Sum over targets of the squared distance in units of each target's scale.

    Parameters
    ----------
    values
        Simulated or emulated values, shape ``(..., len(targets))`` in the targets' order.
    """
    z = np.array([t.value for t in targets])
    s = np.array([t.scale for t in targets])
    return np.sum(((np.asarray(values, dtype=np.float64) - z) / s) ** 2, axis=-1)


def _check_bounds(bounds: Sequence[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray]:
    lo = np.array([b[0] for b in bounds], dtype=np.float64)
    hi = np.array([b[1] for b in bounds], dtype=np.float64)
    if lo.shape[0] == 0 or np.any(~np.isfinite(lo)) or np.any(~np.isfinite(hi)) or np.any(hi <= lo):
        raise ValueError(f"bounds must be finite (low, high) pairs with low < high, got {bounds}")
    return lo, hi


class QuadraticEmulator:
    """Least-squares polynomial emulator of several outputs in the unit-scaled parameters.

    Parameters
    ----------
    bounds
        ``(low, high)`` of each parameter; inputs are scaled to ``[0, 1]`` by them.
    degree
        Polynomial degree (all monomials up to it, interactions included).
    """

    def __init__(self, bounds: Sequence[tuple[float, float]], degree: int = 2) -> None:
        if degree < 1:
            raise ValueError(f"degree must be >= 1, got {degree}")
        self.lo, self.hi = _check_bounds(bounds)
        self.degree = degree
        d = self.lo.shape[0]
        self._terms = [
            combo
            for k in range(degree + 1)
            for combo in itertools.combinations_with_replacement(range(d), k)
        ]
        self.coef: np.ndarray | None = None
        self.residual_sd: np.ndarray | None = None
        self.r2: np.ndarray | None = None

    @property
    def n_terms(self) -> int:
        """Number of monomials (columns of the design matrix)."""
        return len(self._terms)

    def scale(self, x: np.ndarray) -> np.ndarray:
        """Parameters mapped to the unit box."""
        return (np.asarray(x, dtype=np.float64) - self.lo) / (self.hi - self.lo)

    def unscale(self, u: np.ndarray) -> np.ndarray:
        """Unit-box points mapped back to parameter values."""
        return self.lo + np.asarray(u, dtype=np.float64) * (self.hi - self.lo)

    def _features(self, u: np.ndarray) -> np.ndarray:
        u = np.atleast_2d(u)
        cols = [np.prod(u[:, list(t)], axis=1) if t else np.ones(u.shape[0]) for t in self._terms]
        return np.stack(cols, axis=1)

    def fit(self, x: np.ndarray, y: np.ndarray) -> QuadraticEmulator:
        """Fit to parameter rows ``x`` (n, d) and outputs ``y`` (n, k).

        Raises
        ------
        ValueError
            When shapes disagree, values are not finite, or there are fewer rows than terms.
        """
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        y = np.asarray(y, dtype=np.float64)
        y = y[:, None] if y.ndim == 1 else y
        if x.shape[1] != self.lo.shape[0] or x.shape[0] != y.shape[0]:
            raise ValueError(f"x {x.shape} and y {y.shape} do not match {self.lo.shape[0]} params")
        if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
            raise ValueError("x and y must be finite")
        if x.shape[0] <= self.n_terms:
            raise ValueError(f"need more than {self.n_terms} rows to fit, got {x.shape[0]}")
        f = self._features(self.scale(x))
        coef, *_ = np.linalg.lstsq(f, y, rcond=None)
        resid = y - f @ coef
        dof = x.shape[0] - self.n_terms
        self.coef = coef
        self.residual_sd = np.sqrt(np.sum(resid**2, axis=0) / dof)
        total = np.sum((y - y.mean(axis=0)) ** 2, axis=0)
        self.r2 = 1.0 - np.sum(resid**2, axis=0) / np.where(total > 0, total, 1.0)
        return self

    def predict(self, x: np.ndarray, scaled: bool = False) -> np.ndarray:
        """Emulated outputs at parameter rows ``x`` (or unit-box rows when ``scaled``)."""
        if self.coef is None:
            raise RuntimeError("fit the emulator first")
        u = np.asarray(x, dtype=np.float64) if scaled else self.scale(x)
        return self._features(u) @ self.coef


@dataclass(frozen=True)
class Fit:
    """Result of :func:`fit_parameters`."""

    parameters: np.ndarray
    loss: float
    emulated: np.ndarray


def fit_parameters(
    emulator: QuadraticEmulator,
    targets: Sequence[Target],
    starts: np.ndarray | None = None,
    n_starts: int = 32,
    seed: int = 0,
) -> Fit:
    """Parameters minimising :func:`loss` of the emulated targets inside the bounds.

    Parameters
    ----------
    emulator
        A fitted emulator whose outputs are the targets, in order.
    targets
        The targets.
    starts
        Extra starting points (parameter values), e.g. the best simulated design points.
    n_starts
        Random starting points drawn uniformly in the box besides ``starts``.
    seed
        Seed of the random starts.
    """
    rng = np.random.default_rng(seed)
    d = emulator.lo.shape[0]
    u0 = [rng.random(d) for _ in range(n_starts)]
    if starts is not None:
        u0 += list(np.clip(emulator.scale(np.atleast_2d(starts)), 0.0, 1.0))

    def objective(u: np.ndarray) -> float:
        return float(loss(emulator.predict(u[None, :], scaled=True)[0], targets))

    best = None
    for u in u0:
        res = minimize(objective, u, method="L-BFGS-B", bounds=[(0.0, 1.0)] * d)
        if best is None or res.fun < best.fun:
            best = res
    assert best is not None
    theta = emulator.unscale(best.x)
    return Fit(theta, float(best.fun), emulator.predict(theta[None, :])[0])


def history_match(
    emulator: QuadraticEmulator,
    targets: Sequence[Target],
    replication_sd: np.ndarray,
    discrepancy_sd: np.ndarray,
    n: int = 200_000,
    cutoff: float = 3.0,
    seed: int = 0,
) -> pd.DataFrame:
    """Parameter sets (uniform in the box) whose emulated targets are all not implausible.

    Returns
    -------
    pandas.DataFrame
        One row per kept set: the parameters (columns ``p0..``) and ``implausibility`` (the
        largest over targets). Empty when nothing is plausible.
    """
    if emulator.residual_sd is None:
        raise RuntimeError("fit the emulator first")
    rng = np.random.default_rng(seed)
    d = emulator.lo.shape[0]
    u = rng.random((n, d))
    pred = emulator.predict(u, scaled=True)
    z = np.array([t.value for t in targets])
    var = (
        emulator.residual_sd**2 + np.asarray(replication_sd) ** 2 + np.asarray(discrepancy_sd) ** 2
    )
    imp = np.max(np.abs(pred - z) / np.sqrt(var), axis=1)
    keep = imp < cutoff
    out = pd.DataFrame(emulator.unscale(u[keep]), columns=[f"p{i}" for i in range(d)])
    out["implausibility"] = imp[keep]
    return out


def profiles(
    emulator: QuadraticEmulator,
    targets: Sequence[Target],
    at: np.ndarray,
    points: int = 41,
) -> pd.DataFrame:
    """Profile loss: for each parameter on a grid, the loss minimised over the others.

    Parameters
    ----------
    at
        The fitted parameters: the start of each inner minimisation.
    points
        Grid points per parameter.

    Returns
    -------
    pandas.DataFrame
        Columns ``parameter`` (index), ``value``, ``loss``.
    """
    d = emulator.lo.shape[0]
    u_best = np.clip(emulator.scale(at), 0.0, 1.0)
    rows = []
    for i in range(d):
        others = [j for j in range(d) if j != i]
        start = u_best[others]
        for g in np.linspace(0.0, 1.0, points):

            def objective(
                v: np.ndarray, g: float = g, i: int = i, others: list[int] = others
            ) -> float:
                u = np.empty(d)
                u[i] = g
                u[others] = v
                return float(loss(emulator.predict(u[None, :], scaled=True)[0], targets))

            if others:
                res = minimize(objective, start, method="L-BFGS-B", bounds=[(0.0, 1.0)] * (d - 1))
                value, start = float(res.fun), res.x
            else:
                value = objective(np.empty(0))
            rows.append((i, float(emulator.unscale(np.eye(d)[i] * g)[i]), value))
    return pd.DataFrame(rows, columns=["parameter", "value", "loss"])
