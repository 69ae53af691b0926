"""Indicators from the places table: city sizes, Zipf exponent, regions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from urbsim.analysis.indicators import (
    ZIPF_MIN_SIZE,
    gabaix_ibragimov,
    prefecture_city_sizes,
    residents_by_region,
    zipf_exponent,
    zipf_sample,
)


def _places(sizes: list[float], year: int = 2020) -> pd.DataFrame:
    """One prefecture city of two districts per size, plus a county that must be ignored."""
    rows = []
    for k, size in enumerate(sizes):
        code = 110100 + 100 * k
        for half in (0.4, 0.6):
            rows.append((year, "urban district", code, size * half, "east"))
        rows.append((year, "county", code, 5e6, "west"))
    df = pd.DataFrame(
        rows, columns=["year", "kind", "prefecture_code", "urban_residents", "region"]
    )
    df["residents"] = df["urban_residents"] * 2.0
    return df


def test_city_sizes_sum_districts_only() -> None:
    sizes = prefecture_city_sizes(_places([3e6, 1e6]))
    assert sizes["urban_residents"].tolist() == pytest.approx([3e6, 1e6])


def test_exact_zipf_law_gives_exponent_one() -> None:
    # size_r = S / (r - 1/2): the shifted rank regression recovers alpha = 1 exactly.
    sizes = [20e6 / (r - 0.5) for r in range(1, 31)]
    z = zipf_exponent(_places(sizes), min_size=0.0)
    assert z["zipf_exponent"].iloc[0] == pytest.approx(1.0, abs=1e-12)
    assert z["cities"].iloc[0] == 30


def test_concentration_lowers_the_exponent() -> None:
    flat = [20e6 / (r - 0.5) ** 1.3 for r in range(1, 31)]
    steep = [20e6 / (r - 0.5) ** 0.8 for r in range(1, 31)]
    a = zipf_exponent(_places(flat), min_size=0.0)["zipf_exponent"].iloc[0]
    b = zipf_exponent(_places(steep), min_size=0.0)["zipf_exponent"].iloc[0]
    assert a == pytest.approx(1 / 1.3) and b == pytest.approx(1 / 0.8)


def test_zipf_needs_three_cities_above_the_threshold() -> None:
    z = zipf_exponent(_places([3e6, 2e6, 0.1e6]))
    assert np.isnan(z["zipf_exponent"].iloc[0]) and z["cities"].iloc[0] == 2


def test_residents_by_region_in_region_order() -> None:
    out = residents_by_region(_places([3e6, 1e6]))
    assert out["region"].astype(str).tolist() == ["east", "west"]
    assert out["residents"].sum() == pytest.approx(2 * (4e6 + 10e6))


def test_missing_columns_raise() -> None:
    with pytest.raises(ValueError, match="lacks columns"):
        residents_by_region(pd.DataFrame({"year": [2020]}))


# --- the one Zipf estimator: Gabaix-Ibragimov rank-1/2 regression -----------------------------
@pytest.mark.parametrize("zeta", [0.8, 1.0, 1.5])
def test_gabaix_ibragimov_recovers_a_known_pareto_exponent(zeta: float) -> None:
    """Many Pareto samples of exponent zeta: the mean estimate is within 0.02 of the truth and
    the stated standard error zeta * sqrt(2/n) covers the truth about 95 % of the time.

    (The plain log-rank regression, without the 1/2 shift, is biased by 0.03 to 0.06 here.)"""
    rng = np.random.default_rng(20110101)
    n, draws = 200, 400
    fits = [gabaix_ibragimov(1.0 + rng.pareto(zeta, size=n), min_size=1.0) for _ in range(draws)]
    estimates = np.array([f.zeta for f in fits])
    errors = np.array([f.se for f in fits])
    assert all(f.n == n for f in fits)
    assert abs(estimates.mean() - zeta) < 0.02
    assert errors == pytest.approx(estimates * np.sqrt(2.0 / n))
    covered = np.mean(np.abs(estimates - zeta) < 1.96 * errors)
    assert 0.88 < covered < 0.99


def test_gabaix_ibragimov_threshold_and_too_few() -> None:
    sizes = [20e6 / (r - 0.5) for r in range(1, 41)]
    fit = gabaix_ibragimov(sizes, min_size=1e6)
    assert fit.n == sum(s >= 1e6 for s in sizes)
    assert fit.zeta == pytest.approx(1.0, abs=1e-12)
    assert fit.intercept == pytest.approx(np.log(20e6))
    empty = gabaix_ibragimov([3e6, 2e6, 0.1e6], min_size=1e6)
    assert empty.n == 2 and np.isnan(empty.zeta) and np.isnan(empty.se)


def test_zipf_exponent_reports_the_gi_standard_error() -> None:
    sizes = [20e6 / (r - 0.5) ** 1.25 for r in range(1, 51)]
    z = zipf_exponent(_places(sizes), min_size=0.0)
    assert list(z.columns) == ["year", "zipf_exponent", "zipf_se", "cities"]
    zeta = z["zipf_exponent"].iloc[0]
    assert z["zipf_se"].iloc[0] == pytest.approx(zeta * np.sqrt(2.0 / 50))


def test_zipf_sample_ranks_the_cities_above_the_threshold() -> None:
    sample = zipf_sample(_places([1e6, 3e6, 0.2e6, 2e6]))
    assert sample["urban_residents"].tolist() == pytest.approx([3e6, 2e6, 1e6])
    assert sample["rank"].tolist() == [1, 2, 3]
    assert ZIPF_MIN_SIZE == 0.5e6  # the documented threshold of indicator and figure
