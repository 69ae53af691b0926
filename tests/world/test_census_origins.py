"""The gravity model of the census world's 2010 migrant stock (urbsim.world.census_origins)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from urbsim.world.census_file import packaged_world_path, read_world_file
from urbsim.world.census_origins import (
    STOCK_DISTANCE_ELASTICITY,
    deterrence,
    distance_km,
    estimate_stock_deterrence,
    inter_province_weights,
)


def _line_world() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Six places on a line 100 km apart, provinces 0 0 1 1 2 2."""
    lat = np.zeros(6)
    lon = np.arange(6) * 100.0 / (6371.0 * np.pi / 180.0)
    prov = np.array([0, 0, 1, 1, 2, 2])
    return lat, lon, prov, deterrence(distance_km(lat, lon))


def test_distance_and_deterrence() -> None:
    lat, lon, _, f = _line_world()
    d = distance_km(lat, lon)
    assert d[0, 5] == pytest.approx(500.0, rel=1e-9) and d[3, 3] == 0.0
    np.testing.assert_allclose(d, d.T)
    assert f[0, 0] == 1.0 and f[0, 1] == pytest.approx((100.0 / 15.0) ** -STOCK_DISTANCE_ELASTICITY)


def test_inter_province_weights_meet_the_margins_and_decay_with_distance() -> None:
    _, _, prov, f = _line_world()
    o = np.array([3.0, 1.0, 2.0, 2.0, 0.5, 4.0])
    m3 = np.array([1.0, 2.0, 4.0, 1.0, 3.0, 1.5])
    w = inter_province_weights(prov, o, m3, f, np.ones(6))
    same = prov[:, None] == prov[None, :]
    assert (w[same] == 0.0).all() and (w[~same] > 0.0).all()
    # Expected origins of every destination's in-migrants, summed by origin province: each
    # province sends its out-migrants (rescaled to the in-migrant total).
    flows = w / w.sum(axis=0)[None, :] * m3[None, :]
    sent = np.bincount(prov, weights=flows.sum(axis=1))
    want = np.bincount(prov, weights=o) * m3.sum() / o.sum()
    np.testing.assert_allclose(sent, want, rtol=1e-6)
    # Between two origins of one province with equal out-migrants, the nearer sends more.
    o_eq = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    w_eq = inter_province_weights(prov, o_eq, m3, f, np.ones(6))
    assert w_eq[3, 0] < w_eq[2, 0]  # place 2 is nearer to place 0 than place 3 is


def test_inter_province_weights_fall_back_where_no_origin_reaches() -> None:
    _, _, prov, f = _line_world()
    o = np.array([0.0, 0.0, 2.0, 2.0, 0.0, 0.0])  # only province 1 sends migrants
    w = inter_province_weights(prov, o, np.ones(6), f, np.full(6, 7.0))
    # Province 1's places have no origin outside it: the fallback, other provinces only.
    np.testing.assert_array_equal(w[:, 2], [7.0, 7.0, 0.0, 0.0, 7.0, 7.0])
    assert (w[2:4, 0] > 0).all() and (w[[0, 1, 4, 5], 0] == 0).all()


@pytest.mark.slow
def test_stock_elasticity_is_the_estimate_from_the_packaged_census_world() -> None:
    """The constant the synthesis uses is what the estimator finds on the census county file,
    and the fit has an interior optimum (the split identifies the elasticity)."""
    df, _ = read_world_file(packaged_world_path())
    fit = estimate_stock_deterrence(df, np.round(np.arange(0.5, 2.01, 0.05), 2))
    assert abs(fit.gamma - STOCK_DISTANCE_ELASTICITY) <= 0.1
    assert 0.5 < fit.gamma < 2.0 and fit.profile[0.5] > fit.rmse < fit.profile[2.0]
    assert 1.0 < fit.border < 3.0


def test_estimator_recovers_a_known_elasticity() -> None:
    """On a world whose in-migrant splits follow the model exactly, the estimator returns the
    elasticity and border cost they were made with."""
    rng = np.random.default_rng(3)
    n = 60
    lat = rng.uniform(25.0, 40.0, n)
    lon = rng.uniform(105.0, 120.0, n)
    prov = np.repeat(np.arange(6), 10) + 11
    o = rng.uniform(1e3, 1e5, n)
    f = o[:, None] * deterrence(distance_km(lat, lon), 1.4)
    np.fill_diagonal(f, 0.0)
    same = prov[:, None] == prov[None, :]
    within = np.where(same, f, 0.0).sum(axis=0)
    across = np.where(same, 0.0, f).sum(axis=0) * np.exp(-1.5)
    scale = rng.uniform(1e4, 1e5, n) / (within + across)
    df = pd.DataFrame(
        {
            "lat": lat,
            "lon": lon,
            "province_code": prov,
            "prefecture_code": np.arange(n) * 100,
            "kind": np.ones(n, dtype=int),
            "inmig_other_county": within * scale,
            "inmig_other_province": across * scale,
            "residents": np.full(n, 1e6),
            "hukou_residents": 1e6 + o - (within + across) * scale,
        }
    )
    fit = estimate_stock_deterrence(df)
    assert fit.gamma == pytest.approx(1.4) and fit.border == pytest.approx(1.5, abs=1e-6)
