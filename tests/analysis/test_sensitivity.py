"""urbsim.analysis.sensitivity: designs, estimators against analytic indices, determinism, bad
inputs."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from urbsim.analysis.sensitivity import INDEX_COLUMNS, Problem, analyze, sample, sample_size

A, B = 7.0, 0.1
ISHIGAMI = Problem(["x1", "x2", "x3"], [(-math.pi, math.pi)] * 3)


def ishigami(X: np.ndarray, a: float = A, b: float = B) -> np.ndarray:
    return np.sin(X[:, 0]) + a * np.sin(X[:, 1]) ** 2 + b * X[:, 2] ** 4 * np.sin(X[:, 0])


def ishigami_indices(a: float = A, b: float = B) -> dict[str, float]:
    """Analytic Sobol' indices of the Ishigami function, x_i ~ U(-pi, pi).

    With E[sin^2] = 1/2, E[sin^4] = 3/8, E[x^4] = pi^4/5 and E[x^8] = pi^8/9:
    V1 = (1 + b pi^4/5)^2 / 2, V2 = a^2/8, V13 = b^2 pi^8 (1/18 - 1/50), others 0.
    """
    pi4, pi8 = math.pi**4, math.pi**8
    v1 = 0.5 * (1.0 + b * pi4 / 5.0) ** 2
    v2 = a**2 / 8.0
    v13 = b**2 * pi8 * (1.0 / 18.0 - 1.0 / 50.0)
    v = v1 + v2 + v13
    return {
        "S1:x1": v1 / v,
        "S1:x2": v2 / v,
        "S1:x3": 0.0,
        "ST:x1": (v1 + v13) / v,
        "ST:x2": v2 / v,
        "ST:x3": v13 / v,
        "S2:x1:x2": 0.0,
        "S2:x1:x3": v13 / v,
        "S2:x2:x3": 0.0,
    }


def _key(row: pd.Series) -> str:
    parts = [row["index"], row["parameter"]]
    if row["parameter_2"] is not None:
        parts.append(row["parameter_2"])
    return ":".join(parts)


def test_analytic_ishigami_values_match_the_literature() -> None:
    # Guards the formulas above against typos: the commonly quoted values for a=7, b=0.1.
    exact = ishigami_indices()
    quoted = {
        "S1:x1": 0.3139,
        "S1:x2": 0.4424,
        "ST:x1": 0.5576,
        "ST:x3": 0.2437,
        "S2:x1:x3": 0.2437,
    }
    for key, value in quoted.items():
        assert exact[key] == pytest.approx(value, abs=1e-4)


@pytest.fixture(scope="module")
def sobol_ishigami() -> tuple[np.ndarray, pd.DataFrame]:
    X = sample(ISHIGAMI, "sobol", 2048, seed=11)
    return X, analyze(ISHIGAMI, "sobol", X, ishigami(X), seed=5)


def test_sobol_recovers_ishigami_indices(sobol_ishigami: tuple[np.ndarray, pd.DataFrame]) -> None:
    X, res = sobol_ishigami
    assert X.shape == (2048 * (2 * 3 + 2), 3)
    assert list(res.columns) == list(INDEX_COLUMNS)
    assert res["index"].tolist() == ["S1"] * 3 + ["ST"] * 3 + ["S2"] * 3
    assert res.loc[res["index"] != "S2", "parameter_2"].isna().all()
    exact = ishigami_indices()
    assert {_key(r) for _, r in res.iterrows()} == set(exact)
    # At n = 2048 the 95 % bootstrap half-widths are about 0.02-0.06 for S1/ST and 0.04-0.07
    # for S2; tolerances of about one half-width for S1/ST, and the analytic value inside the
    # interval widened by 2 (>99.9 % coverage if the intervals are honest).
    for _, row in res.iterrows():
        truth = exact[_key(row)]
        tol = 0.05 if row["index"] in {"S1", "ST"} else 0.1
        assert abs(row["value"] - truth) < tol, (_key(row), row["value"], truth)
        assert 0.0 < row["conf"] < 0.1
        assert abs(row["value"] - truth) < 2.0 * row["conf"], (_key(row), row["conf"])


def test_sobol_first_and_total_only() -> None:
    X = sample(ISHIGAMI, "sobol", 1024, seed=2, calc_second_order=False)
    assert X.shape == (1024 * (3 + 2), 3)
    assert sample_size(ISHIGAMI, "sobol", 1024, calc_second_order=False) == len(X)
    res = analyze(ISHIGAMI, "sobol", X, ishigami(X), seed=1, calc_second_order=False)
    assert set(res["index"]) == {"S1", "ST"}
    # The ordering the sweep will screen on: x1 has the largest total effect, x3 the smallest
    # first-order one.
    st = res[res["index"] == "ST"].set_index("parameter")["value"]
    s1 = res[res["index"] == "S1"].set_index("parameter")["value"]
    assert st.idxmax() == "x1"
    assert s1.idxmin() == "x3"
    # The S2 design needs calc_second_order on both sides; a mismatch is caught.
    with pytest.raises(ValueError, match=r"Saltelli|multiple"):
        analyze(ISHIGAMI, "sobol", X, ishigami(X), seed=1)


def test_morris_linear_function_is_exact() -> None:
    """For y = sum c_i x_i every elementary effect of x_i is c_i times its range."""
    coef = np.array([3.0, -2.0, 0.5, 0.0])
    lows, highs = np.array([0.0, 1.0, -2.0, 0.0]), np.array([1.0, 3.0, 2.0, 10.0])
    problem = Problem(["a", "b", "c", "d"], list(zip(lows, highs, strict=True)))
    X = sample(problem, "morris", 20, seed=3)
    assert X.shape == (20 * 5, 4)
    res = analyze(problem, "morris", X, X @ coef + 1.0, seed=3)
    assert res["index"].tolist() == ["mu"] * 4 + ["mu_star"] * 4 + ["sigma"] * 4
    by = {k: g.set_index("parameter")["value"] for k, g in res.groupby("index")}
    effect = coef * (highs - lows)
    np.testing.assert_allclose(by["mu"][list(problem.names)], effect, atol=1e-9)
    np.testing.assert_allclose(by["mu_star"][list(problem.names)], np.abs(effect), atol=1e-9)
    np.testing.assert_allclose(by["sigma"][list(problem.names)], 0.0, atol=1e-9)
    assert res.loc[res["index"] != "mu_star", "conf"].isna().all()
    assert (res.loc[res["index"] == "mu_star", "conf"] >= 0.0).all()


def _morris_grid_moments(num_levels: int = 4) -> dict[str, tuple[float, float]]:
    """Exact mean |EE| and mean EE of Ishigami over every Morris step on the grid.

    A Morris step moves x_i from level u to u + delta (delta = p / (2 (p - 1))) while the
    other coordinates sit on the p grid levels; over random trajectories each such step is
    equally likely, so mu* and mu converge to these enumerated means.
    """
    levels = np.arange(num_levels) / (num_levels - 1)
    delta = num_levels / (2 * (num_levels - 1))
    starts = levels[levels + delta <= 1.0 + 1e-12]
    out = {}
    for i, name in enumerate(ISHIGAMI.names):
        effects = []
        for u in starts:
            for others in itertools.product(levels, repeat=2):
                lo = np.insert(np.array(others), i, u)
                hi = np.insert(np.array(others), i, u + delta)
                x = -math.pi + 2 * math.pi * np.vstack([lo, hi])
                y = ishigami(x)
                effects.append((y[1] - y[0]) / delta)
        eff = np.array(effects)
        out[name] = (float(np.abs(eff).mean()), float(eff.mean()))
    return out


def test_morris_on_ishigami_matches_enumerated_elementary_effects() -> None:
    X = sample(ISHIGAMI, "morris", 400, seed=8)
    res = analyze(ISHIGAMI, "morris", X, ishigami(X), seed=8)
    mu_star = res[res["index"] == "mu_star"].set_index("parameter")
    mu = res[res["index"] == "mu"].set_index("parameter")["value"]
    exact = _morris_grid_moments()
    for name, (abs_mean, mean) in exact.items():
        # 400 trajectories: mu* within twice its bootstrap half-width (about 0.6 here).
        half = max(mu_star.loc[name, "conf"], 1e-9)
        assert abs(mu_star.loc[name, "value"] - abs_mean) < 2 * half + 1e-9, name
        assert abs(mu.loc[name] - mean) < 1.5, name
    # On the 4-level grid every x2 step moves sin^2 between 0 and 3/4: |EE| = a * 9/8 exactly.
    assert exact["x2"][0] == pytest.approx(A * 9 / 8)
    assert mu_star.loc["x2", "value"] == pytest.approx(A * 9 / 8)
    # x3 acts only through its interaction with x1, so its mean effect is near zero while its
    # mu* is not: the screening signature of a pure interaction.
    assert abs(mu.loc["x3"]) < 0.2 * mu_star.loc["x3", "value"]


def test_morris_optimal_trajectories_and_levels() -> None:
    X = sample(ISHIGAMI, "morris", 30, seed=1, optimal_trajectories=6, num_levels=6)
    assert X.shape == (6 * 4, 3)
    assert sample_size(ISHIGAMI, "morris", 30, optimal_trajectories=6) == len(X)
    res = analyze(ISHIGAMI, "morris", X, ishigami(X), seed=1, num_levels=6)
    assert len(res) == 9


def test_lhs_is_a_latin_hypercube() -> None:
    problem = Problem(["a", "b"], [(0.0, 1.0), (10.0, 20.0)])
    X = sample(problem, "lhs", 50, seed=4)
    assert X.shape == (50, 2)
    assert sample_size(problem, "lhs", 50) == 50
    # One point in each of the 50 equal strata of every column.
    strata_a = np.floor(X[:, 0] * 50).astype(int)
    strata_b = np.floor((X[:, 1] - 10.0) / 10.0 * 50).astype(int)
    assert sorted(strata_a) == list(range(50))
    assert sorted(strata_b) == list(range(50))


def test_same_seed_same_design_and_indices() -> None:
    for method, n in (("sobol", 64), ("morris", 10), ("lhs", 20)):
        a = sample(ISHIGAMI, method, n, seed=0)
        assert np.array_equal(a, sample(ISHIGAMI, method, n, seed=0)), method
        assert not np.array_equal(a, sample(ISHIGAMI, method, n, seed=1)), method
    for method, n in (("sobol", 64), ("morris", 10)):
        X = sample(ISHIGAMI, method, n, seed=3)
        Y = ishigami(X)
        # Seed 0 included: SALib's own Sobol analysis treats it as "no seed".
        first = analyze(ISHIGAMI, method, X, Y, seed=0, num_resamples=200)
        again = analyze(ISHIGAMI, method, X, Y, seed=0, num_resamples=200)
        pd.testing.assert_frame_equal(first, again)
        other = analyze(ISHIGAMI, method, X, Y, seed=9, num_resamples=200)
        assert not np.allclose(first["conf"].fillna(0), other["conf"].fillna(0)), method
        # Only the bootstrap depends on the seed, not the point estimates.
        np.testing.assert_array_equal(first["value"], other["value"])


def test_confidence_level_widens_intervals() -> None:
    X = sample(ISHIGAMI, "sobol", 256, seed=3)
    Y = ishigami(X)
    narrow = analyze(ISHIGAMI, "sobol", X, Y, seed=1, conf_level=0.5)
    wide = analyze(ISHIGAMI, "sobol", X, Y, seed=1, conf_level=0.99)
    assert (wide["conf"] > narrow["conf"]).all()


def test_non_uniform_distributions() -> None:
    problem = Problem(
        ["n", "t", "l"],
        [(5.0, 2.0), (0.0, 1.0, 0.5, 0.2), (1.0, 100.0)],
        ["norm", "truncnorm", "logunif"],
    )
    X = sample(problem, "sobol", 1024, seed=1, calc_second_order=False)
    assert np.isfinite(X).all()
    assert X[:, 0].mean() == pytest.approx(5.0, abs=0.1)
    assert X[:, 1].min() >= 0.0 and X[:, 1].max() <= 1.0
    assert np.median(X[:, 2]) == pytest.approx(10.0, rel=0.1)
    with pytest.raises(ValueError, match="infinite"):
        sample(problem, "morris", 10, seed=1)
    # A bounded-only problem is fine for Morris.
    sample(Problem(["t"], [(0.0, 1.0, 0.5)], ["triang"]), "morris", 4, seed=1)


def test_problem_is_immutable_and_salib_cannot_alter_it() -> None:
    problem = Problem(["a", "b"], [[0, 1], [2, 3]])
    assert problem.names == ("a", "b")
    assert problem.bounds == ((0.0, 1.0), (2.0, 3.0))
    d = problem.to_salib()
    assert d == {"num_vars": 2, "names": ["a", "b"], "bounds": [[0.0, 1.0], [2.0, 3.0]]}
    d["groups"] = ["g", "g"]
    d["names"].append("c")
    assert "groups" not in problem.to_salib() and problem.num_vars == 2
    assert hash(problem) == hash(Problem(("a", "b"), ((0.0, 1.0), (2.0, 3.0))))


@pytest.mark.parametrize(
    ("names", "bounds", "dists", "message"),
    [
        ([], [], None, "no parameters"),
        ("ab", [(0, 1)], None, "list or tuple"),
        (["a", "a"], [(0, 1), (0, 1)], None, "duplicate"),
        (["a", ""], [(0, 1), (0, 1)], None, "non-empty"),
        (["a", "b"], [(0, 1)], None, "1 entries for 2"),
        (["a"], [(1, 0)], None, "below upper"),
        (["a"], [(0, 1, 2)], None, "takes 2 values"),
        (["a"], [(0, math.inf)], None, "finite"),
        (["a"], [("x", 1)], None, "numbers"),
        (["a"], [(0, 1)], ["gamma"], "unknown distribution"),
        (["a"], [(0, 1)], ["unif", "unif"], "dists has 2"),
        (["a"], [(0, 1)], ["norm"], None),
        (["a"], [(0, 0)], ["norm"], "standard deviation"),
        (["a"], [(0, 1)], ["logunif"], "positive"),
        (["a"], [(0, 1, 1.0)], ["triang"], "peak"),
    ],
)
def test_bad_problems_raise(names, bounds, dists, message) -> None:
    if message is None:
        Problem(names, bounds, dists)  # valid control case
        return
    with pytest.raises(ValueError, match=message):
        Problem(names, bounds, dists)


def test_bad_sampling_arguments_raise() -> None:
    with pytest.raises(ValueError, match="power of two"):
        sample(ISHIGAMI, "sobol", 100, seed=1)
    with pytest.raises(ValueError, match="unknown method"):
        sample(ISHIGAMI, "fast", 64, seed=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown option"):
        sample(ISHIGAMI, "lhs", 64, seed=1, scramble=True)
    with pytest.raises(ValueError, match="positive integer"):
        sample(ISHIGAMI, "lhs", 0, seed=1)
    with pytest.raises(ValueError, match="positive integer"):
        sample(ISHIGAMI, "lhs", 2.5, seed=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="seed"):
        sample(ISHIGAMI, "lhs", 8, seed=-1)
    with pytest.raises(ValueError, match="num_levels"):
        sample(ISHIGAMI, "morris", 8, seed=1, num_levels=5)
    with pytest.raises(ValueError, match="optimal_trajectories"):
        sample(ISHIGAMI, "morris", 8, seed=1, optimal_trajectories=9)
    with pytest.raises(ValueError, match="at least 2"):
        sample(ISHIGAMI, "morris", 1, seed=1)
    with pytest.raises(ValueError, match="true or false"):
        sample(ISHIGAMI, "sobol", 8, seed=1, calc_second_order="yes")


def test_bad_analysis_inputs_raise() -> None:
    X = sample(ISHIGAMI, "sobol", 16, seed=1)
    Y = ishigami(X)
    with pytest.raises(ValueError, match="values for"):
        analyze(ISHIGAMI, "sobol", X, Y[:-1], seed=1)
    with pytest.raises(ValueError, match="shape"):
        analyze(ISHIGAMI, "sobol", X[:, :2], Y, seed=1)
    with pytest.raises(ValueError, match="one output per design point"):
        analyze(ISHIGAMI, "sobol", X, np.c_[Y, Y], seed=1)
    bad = Y.copy()
    bad[[3, 7]] = [np.nan, np.inf]
    with pytest.raises(ValueError, match=r"2 non-finite value.*rows 3, 7"):
        analyze(ISHIGAMI, "sobol", X, bad, seed=1)
    with pytest.raises(ValueError, match="constant"):
        analyze(ISHIGAMI, "sobol", X, np.ones(len(X)), seed=1)
    with pytest.raises(ValueError, match="unknown method"):
        analyze(ISHIGAMI, "lhs", X, Y, seed=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="conf_level"):
        analyze(ISHIGAMI, "sobol", X, Y, seed=1, conf_level=1.5)
    with pytest.raises(ValueError, match="multiple of 8"):
        analyze(ISHIGAMI, "sobol", X[:-1], Y[:-1], seed=1)
    # Rows shuffled (e.g. results gathered in completion order): caught, not mis-analysed.
    perm = np.random.default_rng(0).permutation(len(X))
    with pytest.raises(ValueError, match="original row order"):
        analyze(ISHIGAMI, "sobol", X[perm], Y[perm], seed=1)
    # (rows, 1) outputs are accepted, and a rounded design keeps its layout.
    analyze(ISHIGAMI, "sobol", np.round(X, 6), Y[:, None], seed=1, num_resamples=50)

    Xm = sample(ISHIGAMI, "morris", 6, seed=1)
    Ym = ishigami(Xm)
    with pytest.raises(ValueError, match="multiple of D"):
        analyze(ISHIGAMI, "morris", Xm[:-1], Ym[:-1], seed=1)
    perm = np.random.default_rng(0).permutation(len(Xm))
    with pytest.raises(ValueError, match="original row order"):
        analyze(ISHIGAMI, "morris", Xm[perm], Ym[perm], seed=1)
    with pytest.raises(ValueError, match="unknown option"):
        analyze(ISHIGAMI, "morris", Xm, Ym, seed=1, calc_second_order=True)
