"""Global sensitivity analysis: design sampling and index estimation, a thin layer over SALib.

urbsim runs the model; this module only says *where* to run it (:func:`sample`) and, given the
outputs in the same row order, *how much* each parameter matters (:func:`analyze`). It adds to
SALib what a sweep needs: an immutable, validated :class:`Problem`; a seed that always reaches
SALib (``analyze`` of SALib's Sobol falls back to the global numpy state when the seed is 0);
checks that the outputs line up with the design (a reordered or truncated result table gives a
clear error instead of silently wrong indices); and a tidy :class:`pandas.DataFrame` result.

Row counts of the designs, with ``D`` parameters and ``n`` the requested size:

========  ====================================  ===============================================
method    rows                                  notes
========  ====================================  ===============================================
sobol     ``n * (2D + 2)``, or ``n * (D + 2)``  Saltelli scheme; ``n`` a power of two; the
          with ``calc_second_order=False``      short form gives S1 and ST but no S2
morris    ``(D + 1) * n``, or                   ``n`` one-at-a-time trajectories of ``D + 1``
          ``(D + 1) * optimal_trajectories``    points each on a ``num_levels`` grid
lhs       ``n``                                 Latin hypercube; no :func:`analyze` method
========  ====================================  ===============================================

:func:`sample_size` gives the same numbers without drawing the design.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any, Final, Literal

import numpy as np
import pandas as pd

SampleMethod = Literal["sobol", "morris", "lhs"]
AnalyzeMethod = Literal["sobol", "morris"]

#: Columns of the frame :func:`analyze` returns, in order.
INDEX_COLUMNS: Final[tuple[str, ...]] = ("parameter", "parameter_2", "index", "value", "conf")

#: Distributions SALib can scale a unit-hypercube design to, with the meaning and number of the
#: values each parameter's ``bounds`` entry holds.
DISTRIBUTIONS: Final[dict[str, tuple[str, ...]]] = {
    "unif": ("lower", "upper"),
    "logunif": ("lower", "upper"),
    "triang": ("lower", "upper", "peak as a share of the width, in [0, 1)"),
    "truncnorm": ("lower", "upper", "mean", "standard deviation"),
    "norm": ("mean", "standard deviation"),
    "lognorm": ("mean of ln x", "standard deviation of ln x"),
}
#: Distributions with a finite support. Morris designs put points on the edges of the unit
#: hypercube (levels 0 and 1), which the other distributions map to infinity.
_BOUNDED: Final[frozenset[str]] = frozenset({"unif", "logunif", "triang", "truncnorm"})

_SAMPLE_OPTIONS: Final[dict[str, frozenset[str]]] = {
    "sobol": frozenset({"calc_second_order", "scramble"}),
    "morris": frozenset({"num_levels", "optimal_trajectories", "local_optimization"}),
    "lhs": frozenset(),
}
_ANALYZE_OPTIONS: Final[dict[str, frozenset[str]]] = {
    "sobol": frozenset({"calc_second_order", "num_resamples", "conf_level"}),
    "morris": frozenset({"num_levels", "num_resamples", "conf_level", "scaled"}),
}
#: Bootstrap resamples for the confidence intervals. SALib's default of 100 leaves the interval
#: half-widths themselves noisy by about 7 %; 1000 brings that near 2 % at a negligible cost
#: next to the model runs.
DEFAULT_RESAMPLES: Final[int] = 1000
DEFAULT_CONF_LEVEL: Final[float] = 0.95
DEFAULT_NUM_LEVELS: Final[int] = 4


# ---------------------------------------------------------------------------------------------
# Problem
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Problem:
    """The parameters of a sensitivity analysis and their ranges or distributions.

    Parameters
    ----------
    names : list of str or tuple of str
        Parameter names, unique and non-empty (for urbsim sweeps: dotted scenario fields such
        as ``"behaviour.beta_income"``).
    bounds : list of tuple of float
        One entry per parameter. For the default uniform distribution ``(lower, upper)`` with
        ``lower < upper``; for other distributions the values listed in :data:`DISTRIBUTIONS`
        (e.g. ``(mean, sd)`` for ``"norm"``, ``(lower, upper, mean, sd)`` for ``"truncnorm"``).
    dists : list of str, optional
        One SALib distribution name per parameter (keys of :data:`DISTRIBUTIONS`); ``None``
        means uniform for all.

    Raises
    ------
    ValueError
        On any inconsistency, naming the parameter at fault.

    Notes
    -----
    The fields are stored as tuples so a problem is hashable and cannot change after the
    design was drawn from it.
    """

    names: list[str] | tuple[str, ...]
    bounds: list[tuple[float, float]] | tuple[tuple[float, ...], ...]
    dists: list[str] | tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        names = _as_sequence(self.names, "names")
        if not names:
            raise ValueError("problem has no parameters: names is empty")
        for name in names:
            if not isinstance(name, str) or not name.strip():
                raise ValueError(f"parameter names must be non-empty strings, got {name!r}")
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"duplicate parameter name(s): {', '.join(duplicates)}")

        bounds = _as_sequence(self.bounds, "bounds")
        if len(bounds) != len(names):
            raise ValueError(
                f"bounds has {len(bounds)} entries for {len(names)} parameters; give one per name"
            )
        if self.dists is None:
            dists = ("unif",) * len(names)
        else:
            dists = tuple(_as_sequence(self.dists, "dists"))
            if len(dists) != len(names):
                raise ValueError(
                    f"dists has {len(dists)} entries for {len(names)} parameters; "
                    "give one per name or none"
                )
        clean_bounds = tuple(
            _check_bounds(name, dist, entry)
            for name, dist, entry in zip(names, dists, bounds, strict=True)
        )
        object.__setattr__(self, "names", tuple(names))
        object.__setattr__(self, "bounds", clean_bounds)
        object.__setattr__(self, "dists", None if self.dists is None else dists)

    @property
    def num_vars(self) -> int:
        """Number of parameters ``D``."""
        return len(self.names)

    def to_salib(self) -> dict[str, Any]:
        """The problem as the dictionary SALib's functions take.

        Returns
        -------
        dict
            A fresh dictionary with fresh lists on every call: SALib adds keys (``groups``) to
            the dictionary it is given, which must not leak into this immutable problem.
        """
        out: dict[str, Any] = {
            "num_vars": self.num_vars,
            "names": list(self.names),
            "bounds": [list(b) for b in self.bounds],
        }
        if self.dists is not None:
            out["dists"] = list(self.dists)
        return out


def _as_sequence(value: Any, field: str) -> list[Any]:
    # A bare string would otherwise be read as a sequence of one-letter names.
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise ValueError(f"{field} must be a list or tuple, got {type(value).__name__}")
    return list(value)


def _check_bounds(name: str, dist: Any, entry: Any) -> tuple[float, ...]:
    if not isinstance(dist, str) or dist not in DISTRIBUTIONS:
        raise ValueError(
            f"parameter {name!r}: unknown distribution {dist!r}; "
            f"choose one of {', '.join(DISTRIBUTIONS)}"
        )
    meaning = DISTRIBUTIONS[dist]
    if isinstance(entry, str) or not isinstance(entry, list | tuple | np.ndarray):
        raise ValueError(f"parameter {name!r}: bounds must be a pair of numbers, got {entry!r}")
    if len(entry) != len(meaning):
        raise ValueError(
            f"parameter {name!r}: distribution {dist!r} takes {len(meaning)} values "
            f"({', '.join(meaning)}), got {len(entry)}"
        )
    try:
        values = tuple(float(v) for v in entry)
    except (TypeError, ValueError):
        raise ValueError(f"parameter {name!r}: bounds must be numbers, got {entry!r}") from None
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"parameter {name!r}: bounds must be finite, got {values}")
    if dist in {"unif", "logunif", "triang", "truncnorm"} and not values[0] < values[1]:
        raise ValueError(
            f"parameter {name!r}: lower bound {values[0]} must be below upper bound {values[1]}"
        )
    if dist == "logunif" and values[0] <= 0:
        raise ValueError(f"parameter {name!r}: log-uniform bounds must be positive, got {values}")
    if dist == "triang" and not 0.0 <= values[2] < 1.0:
        raise ValueError(f"parameter {name!r}: triangular peak share must be in [0, 1)")
    if dist in {"norm", "lognorm", "truncnorm"} and values[-1] <= 0:
        raise ValueError(f"parameter {name!r}: standard deviation must be positive")
    return values


# ---------------------------------------------------------------------------------------------
# Sampling
# ---------------------------------------------------------------------------------------------
def sample_size(problem: Problem, method: SampleMethod, n: int, **opts: Any) -> int:
    """Number of design points :func:`sample` returns for these arguments.

    Parameters
    ----------
    problem, method, n, **opts
        As for :func:`sample`.

    Returns
    -------
    int
        The row count (see the table in the module docstring).
    """
    _check_method(method, _SAMPLE_OPTIONS, "sample")
    _check_options(method, opts, _SAMPLE_OPTIONS)
    n = _check_count(n, "n")
    d = problem.num_vars
    if method == "sobol":
        return n * (2 * d + 2 if opts.get("calc_second_order", True) else d + 2)
    if method == "morris":
        return (d + 1) * (opts.get("optimal_trajectories") or n)
    return n


def sample(problem: Problem, method: SampleMethod, n: int, seed: int, **opts: Any) -> np.ndarray:
    """Draw a design: the parameter values at which to run the model.

    Parameters
    ----------
    problem : Problem
        Parameters and their ranges.
    method : {"sobol", "morris", "lhs"}
        ``"sobol"``: Saltelli's cross-sampling of a scrambled Sobol' sequence, for Sobol'
        indices; ``"morris"``: one-at-a-time trajectories on a grid, for Morris screening;
        ``"lhs"``: a Latin hypercube, for exploration or emulators.
    n : int
        sobol: base sample size, a power of two (Sobol' sequences balance only at powers of
        two); morris: number of trajectories (at least 2, to have a spread); lhs: rows.
    seed : int
        Non-negative seed; the same seed gives the same design.
    **opts
        sobol: ``calc_second_order`` (bool, default True; False gives S1 and ST only, with
        ``n * (D + 2)`` rows), ``scramble`` (bool, default True).
        morris: ``num_levels`` (even int, default 4), ``optimal_trajectories`` (int in
        ``[2, n]``: keep the best spread of that many of the ``n`` trajectories),
        ``local_optimization`` (bool, default True; False uses a brute-force search).

    Returns
    -------
    numpy.ndarray
        ``float64`` array of shape ``(rows, D)``, one design point per row, columns in the order
        of ``problem.names``. Rows: sobol ``n * (2D + 2)`` (or ``n * (D + 2)``), morris
        ``(D + 1) * n`` (or ``(D + 1) * optimal_trajectories``), lhs ``n``. Keep the row order:
        :func:`analyze` relies on it.

    Raises
    ------
    ValueError
        Unknown method or option, bad ``n`` or ``seed``, a Morris design over an unbounded
        distribution, or a design with non-finite values.
    """
    _check_method(method, _SAMPLE_OPTIONS, "sample")
    _check_options(method, opts, _SAMPLE_OPTIONS)
    n = _check_count(n, "n")
    seed = _check_seed(seed)
    draw = {"sobol": _sample_sobol, "morris": _sample_morris, "lhs": _sample_lhs}[method]
    X = np.ascontiguousarray(draw(problem, n, seed, opts), dtype=np.float64)
    if not np.isfinite(X).all():
        # Only possible with an unbounded distribution at a point of the unit cube's edge
        # (e.g. an unscrambled Sobol' sequence starts at 0, which "norm" maps to -inf).
        bad = [problem.names[j] for j in np.flatnonzero(~np.isfinite(X).all(axis=0))]
        raise ValueError(
            f"{method}: the design has infinite values for {', '.join(bad)}; "
            "use scramble=True or a bounded distribution"
        )
    return X


def _sample_sobol(problem: Problem, n: int, seed: int, opts: dict[str, Any]) -> np.ndarray:
    """Saltelli's cross-sampling of a scrambled Sobol' sequence (SALib)."""
    from SALib.sample import sobol as sobol_sample

    if n & (n - 1):
        raise ValueError(f"sobol: n must be a power of two (e.g. 256, 512, 1024), got {n}")
    return sobol_sample.sample(
        problem.to_salib(),
        n,
        calc_second_order=_check_bool(opts.get("calc_second_order", True), "calc_second_order"),
        scramble=_check_bool(opts.get("scramble", True), "scramble"),
        seed=seed,
    )


def _sample_morris(problem: Problem, n: int, seed: int, opts: dict[str, Any]) -> np.ndarray:
    """One-at-a-time trajectories on a grid (SALib), after checking the grid can be mapped."""
    from SALib.sample import morris as morris_sample

    unbounded = [
        name
        for name, dist in zip(problem.names, _dists(problem), strict=True)
        if dist not in _BOUNDED
    ]
    if unbounded:
        raise ValueError(
            "morris: the grid reaches the edges of each range, where these parameters' "
            f"distributions are infinite: {', '.join(unbounded)}; use unif, logunif, triang "
            "or truncnorm"
        )
    if n < 2:
        raise ValueError(f"morris: n (trajectories) must be at least 2, got {n}")
    num_levels = _check_levels(opts.get("num_levels", DEFAULT_NUM_LEVELS))
    optimal = opts.get("optimal_trajectories")
    if optimal is not None:
        optimal = _check_count(optimal, "optimal_trajectories")
        if not 2 <= optimal <= n:
            raise ValueError(
                f"morris: optimal_trajectories must be between 2 and n={n}, got {optimal}"
            )
    return morris_sample.sample(
        problem.to_salib(),
        n,
        num_levels=num_levels,
        optimal_trajectories=optimal,
        local_optimization=_check_bool(opts.get("local_optimization", True), "local_optimization"),
        seed=seed,
    )


def _sample_lhs(problem: Problem, n: int, seed: int, opts: dict[str, Any]) -> np.ndarray:
    """A Latin hypercube of ``n`` rows (SALib); no options."""
    from SALib.sample import latin

    return latin.sample(problem.to_salib(), n, seed=seed)


# ---------------------------------------------------------------------------------------------
# Analysis
# ---------------------------------------------------------------------------------------------
def analyze(
    problem: Problem,
    method: AnalyzeMethod,
    X: np.ndarray,
    Y: np.ndarray,
    seed: int,
    **opts: Any,
) -> pd.DataFrame:
    """Estimate sensitivity indices from a design and the model outputs at its points.

    Parameters
    ----------
    problem : Problem
        The problem the design was drawn from.
    method : {"sobol", "morris"}
        The method the design was drawn with.
    X : numpy.ndarray
        The design from :func:`sample`, shape ``(rows, D)``, rows in their original order.
    Y : numpy.ndarray
        One finite output per row of ``X`` (shape ``(rows,)`` or ``(rows, 1)``).
    seed : int
        Non-negative seed for the bootstrap; the same seed gives the same intervals.
    **opts
        ``conf_level`` (in (0, 1), default 0.95), ``num_resamples`` (bootstrap resamples,
        default 1000). sobol: ``calc_second_order`` (default True; must match the design).
        morris: ``num_levels`` (default 4; must match the design), ``scaled`` (default False:
        elementary effects per unit of the unit-cube step, i.e. in output units per full
        range of the parameter; True scales them by the parameter range as well).

    Returns
    -------
    pandas.DataFrame
        Tidy, columns ``parameter, parameter_2, index, value, conf``. sobol: one ``S1`` and
        one ``ST`` row per parameter, then one ``S2`` row per pair ``i < j`` (``parameter_2``
        holds the second parameter; None on the other rows). morris: ``mu``, ``mu_star``,
        ``sigma`` rows per parameter. ``conf`` is the half-width of the bootstrap interval at
        ``conf_level`` (value ± conf); for morris only ``mu_star`` has one, NaN elsewhere.

    Raises
    ------
    ValueError
        Unknown method or option; ``X`` or ``Y`` of the wrong shape, with non-finite values,
        or not laid out as a design of this method; constant ``Y``.
    """
    _check_method(method, _ANALYZE_OPTIONS, "analyze")
    _check_options(method, opts, _ANALYZE_OPTIONS)
    seed = _check_seed(seed)
    X, Y = _check_xy(problem, X, Y)
    conf_level = float(opts.get("conf_level", DEFAULT_CONF_LEVEL))
    if not 0.0 < conf_level < 1.0:
        raise ValueError(f"conf_level must be strictly between 0 and 1, got {conf_level}")
    num_resamples = _check_count(opts.get("num_resamples", DEFAULT_RESAMPLES), "num_resamples")
    if np.ptp(Y) == 0.0:
        raise ValueError(
            "Y is constant: the output does not vary, so there is nothing to apportion"
        )
    # A Generator, not the int: SALib's Sobol analysis tests `if seed:` and would use the
    # global numpy state for seed 0.
    bootstrap = {
        "num_resamples": num_resamples,
        "conf_level": conf_level,
        "seed": np.random.default_rng(seed),
    }
    estimate = _analyze_sobol if method == "sobol" else _analyze_morris
    out = pd.DataFrame(estimate(problem, X, Y, bootstrap, opts), columns=list(INDEX_COLUMNS))
    out["parameter_2"] = out["parameter_2"].astype(object)
    out["parameter_2"] = out["parameter_2"].where(out["parameter_2"].notna(), None)
    return out


#: A row of :func:`analyze`'s frame: parameter, parameter_2, index, value, conf.
_IndexRow = tuple[str, str | None, str, float, float]


def _analyze_sobol(
    problem: Problem,
    X: np.ndarray,
    Y: np.ndarray,
    bootstrap: dict[str, Any],
    opts: dict[str, Any],
) -> list[_IndexRow]:
    """Sobol' S1 and ST per parameter, then S2 per pair ``i < j`` (SALib)."""
    from SALib.analyze import sobol as sobol_analyze

    second = _check_bool(opts.get("calc_second_order", True), "calc_second_order")
    _check_saltelli_layout(X, second)
    res = sobol_analyze.analyze(problem.to_salib(), Y, calc_second_order=second, **bootstrap)
    names = list(problem.names)
    rows: list[_IndexRow] = []
    for key in ("S1", "ST"):
        rows += [
            (name, None, key, float(v), float(c))
            for name, v, c in zip(names, res[key], res[f"{key}_conf"], strict=True)
        ]
    if second:
        for i in range(len(names)):
            for j in range(i + 1, len(names)):
                s2, s2_conf = float(res["S2"][i, j]), float(res["S2_conf"][i, j])
                rows.append((names[i], names[j], "S2", s2, s2_conf))
    return rows


def _analyze_morris(
    problem: Problem,
    X: np.ndarray,
    Y: np.ndarray,
    bootstrap: dict[str, Any],
    opts: dict[str, Any],
) -> list[_IndexRow]:
    """Morris mu, mu* (with its bootstrap interval) and sigma per parameter (SALib)."""
    from SALib.analyze import morris as morris_analyze

    num_levels = _check_levels(opts.get("num_levels", DEFAULT_NUM_LEVELS))
    _check_morris_layout(X)
    res = morris_analyze.analyze(
        problem.to_salib(),
        X,
        Y,
        scaled=_check_bool(opts.get("scaled", False), "scaled"),
        num_levels=num_levels,
        **bootstrap,
    )
    names = list(problem.names)
    rows: list[_IndexRow] = []
    for key in ("mu", "mu_star", "sigma"):
        confs = res["mu_star_conf"] if key == "mu_star" else [math.nan] * len(names)
        rows += [
            (name, None, key, float(v), float(c))
            for name, v, c in zip(names, res[key], confs, strict=True)
        ]
    return rows


# ---------------------------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------------------------
def _dists(problem: Problem) -> tuple[str, ...]:
    return tuple(problem.dists) if problem.dists is not None else ("unif",) * problem.num_vars


def _check_method(method: Any, table: dict[str, frozenset[str]], what: str) -> None:
    if method not in table:
        raise ValueError(f"{what}: unknown method {method!r}; choose one of {', '.join(table)}")


def _check_options(method: str, opts: dict[str, Any], table: dict[str, frozenset[str]]) -> None:
    unknown = sorted(set(opts) - table[method])
    if unknown:
        allowed = ", ".join(sorted(table[method])) or "none"
        raise ValueError(f"{method}: unknown option(s) {', '.join(unknown)}; allowed: {allowed}")


def _check_count(value: Any, field: str) -> int:
    # bool is an Integral too; True is not a sample size.
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{field} must be a positive integer, got {value!r}")
    return int(value)


def _check_seed(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"seed must be a non-negative integer, got {value!r}")
    return int(value)


def _check_bool(value: Any, field: str) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise ValueError(f"{field} must be true or false, got {value!r}")
    return bool(value)


def _check_levels(value: Any) -> int:
    levels = _check_count(value, "num_levels")
    if levels < 2 or levels % 2:
        raise ValueError(f"morris: num_levels must be an even integer >= 2, got {levels}")
    return levels


def _check_xy(problem: Problem, X: Any, Y: Any) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != problem.num_vars:
        raise ValueError(
            f"X must have shape (rows, {problem.num_vars}) for parameters "
            f"{', '.join(problem.names)}; got {X.shape}"
        )
    if Y.ndim == 2 and Y.shape[1] == 1:
        Y = Y[:, 0]
    if Y.ndim != 1:
        raise ValueError(f"Y must hold one output per design point, shape (rows,); got {Y.shape}")
    if len(Y) != len(X):
        raise ValueError(f"Y has {len(Y)} values for {len(X)} design points; they must match")
    if not np.isfinite(X).all():
        raise ValueError("X has non-finite values")
    bad = np.flatnonzero(~np.isfinite(Y))
    if bad.size:
        shown = ", ".join(str(i) for i in bad[:5]) + (", ..." if bad.size > 5 else "")
        raise ValueError(
            f"Y has {bad.size} non-finite value(s) (rows {shown}); failed runs must be rerun or "
            "the analysis cannot apportion the variance"
        )
    return np.ascontiguousarray(X), np.ascontiguousarray(Y)


def _check_saltelli_layout(X: np.ndarray, second: bool) -> None:
    """Check the rows form Saltelli blocks: A, A with one column from B (per column), [B with
    one column from A], B. Values are compared exactly: the blocks copy values, so any
    elementwise transformation of the design (rounding, a Parquet round trip) keeps them equal,
    while reordered or dropped rows do not."""
    d = X.shape[1]
    k = 2 * d + 2 if second else d + 2
    if len(X) % k:
        raise ValueError(
            f"sobol: {len(X)} rows is not a multiple of {k} (= {'2D + 2' if second else 'D + 2'}); "
            "check calc_second_order matches the design and no runs are missing"
        )
    A, B = X[0::k], X[k - 1 :: k]
    for j in range(d):
        expected = A.copy()
        expected[:, j] = B[:, j]
        ok = np.array_equal(X[1 + j :: k], expected)
        if ok and second:
            expected = B.copy()
            expected[:, j] = A[:, j]
            ok = np.array_equal(X[1 + d + j :: k], expected)
        if not ok:
            raise ValueError(
                "sobol: X is not a Saltelli design in its original row order (or was drawn with "
                "a different calc_second_order); analyze the rows in the order sample() gave them"
            )


def _check_morris_layout(X: np.ndarray) -> None:
    """Check the rows form trajectories of D + 1 points that each move one parameter."""
    d = X.shape[1]
    if len(X) % (d + 1):
        raise ValueError(
            f"morris: {len(X)} rows is not a multiple of D + 1 = {d + 1}; check no runs are missing"
        )
    if len(X) < 2 * (d + 1):
        raise ValueError("morris: at least 2 trajectories are needed")
    steps = np.diff(X.reshape(-1, d + 1, d), axis=1) != 0.0
    if not (steps.sum(axis=2) == 1).all() or not (steps.sum(axis=1) == 1).all():
        raise ValueError(
            "morris: X is not a Morris design in its original row order (each trajectory must "
            "move every parameter exactly once); analyze the rows in the order sample() gave them"
        )
