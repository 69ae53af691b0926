"""The settlement decision on cases computed by hand: the logit probability, the household land
values and their distribution, and the decision inside the household step (benefits, land
surrender, migrants and locals counted apart).

The kernel functions (:mod:`urbsim.kernels.settlement`) are checked against hand values and
against their plain-Python twins (:mod:`urbsim.engines.mesa_settlement`), bit for bit.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit
from scipy import stats

from urbsim.dynamics.demography import VitalRates
from urbsim.engines import mesa_settlement
from urbsim.households import Households
from urbsim.inputs import PARAM_FIELDS, PLACE_FIELDS, PlaceInputs, params_from
from urbsim.kernels import layout as L
from urbsim.kernels import settlement as S
from urbsim.kernels.aggregate import origin_index
from urbsim.kernels.household_step import household_step
from urbsim.rng import make_year_key

SEED = 20101101
N = 40_000


# The inlined kernel functions, called from Python through a compiled wrapper each.
@njit
def _probability(net: float, scale: float) -> float:
    return S.settle_probability(net, scale)


@njit
def _value_at(u: float, median: float, dispersion: float) -> float:
    return S.land_value_at(u, median, dispersion)


@njit
def _land_values(seed: int, n: int, median: float, dispersion: float) -> np.ndarray:
    out = np.empty(n)
    for i in range(n):
        out[i] = S.household_land_value(seed, i, median, dispersion)
    return out


def tolerance(p: float, n: int) -> float:
    """Five binomial standard errors."""
    return 5.0 * math.sqrt(max(p * (1.0 - p), 1e-4) / n)


def logistic(x: float) -> float:
    """The logistic function, written here independently of the code under test."""
    if x < -700.0:
        return 0.0
    return 1.0 / (1.0 + math.exp(-x))


# --- the logit probability ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("net", "scale", "expected"),
    [
        (0.0, 1.0, 0.5),
        (math.log(3.0), 1.0, 0.75),  # odds 3
        (-math.log(3.0), 1.0, 0.25),
        (-2.0 * math.log(3.0), 2.0, 0.25),  # the scale divides the net benefit
        (math.log(9.0), 0.5, 81.0 / 82.0),  # odds 9 ** 2
        (-1e6, 1.0, 0.0),  # no overflow for a hopeless hukou
        (1e6, 1e-3, 1.0),
    ],
)
def test_settle_probability_by_hand(net: float, scale: float, expected: float) -> None:
    assert _probability(net, scale) == pytest.approx(expected, rel=1e-12, abs=1e-300)
    assert mesa_settlement.probability(net, scale) == pytest.approx(expected, rel=1e-12)


@settings(max_examples=200, deadline=None)
@given(net=st.floats(-50.0, 50.0), scale=st.floats(0.01, 20.0))
def test_settle_probability_properties(net: float, scale: float) -> None:
    p = _probability(net, scale)
    assert 0.0 <= p <= 1.0
    assert p == mesa_settlement.probability(net, scale)  # the twins agree to the bit
    assert p + _probability(-net, scale) == pytest.approx(1.0, abs=1e-12)  # symmetric
    assert _probability(net + 0.1, scale) >= p  # increasing in the net benefit


# --- land values ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("u", "median", "dispersion", "expected"),
    [
        (0.5, 1.7, 0.5, 1.7),  # the median quantile gives the median
        (0.75, 2.0, 0.5, 2.0 * math.sqrt(3.0)),  # odds 3, square root
        (0.2, 1.0, 1.0, 0.25),  # odds 1/4
        (0.9, 3.0, 0.0, 3.0),  # no dispersion: everyone at the median
        (0.1, 0.0, 0.5, 0.0),  # no land value
    ],
)
def test_land_value_at_by_hand(u: float, median: float, dispersion: float, expected: float) -> None:
    assert _value_at(u, median, dispersion) == pytest.approx(expected, rel=1e-12)


def test_land_values_are_log_logistic_with_the_given_median() -> None:
    """The values of many households follow the log-logistic law: P(V <= v) =
    1 / (1 + (v / median) ** (-1 / s)) (Kolmogorov-Smirnov at the 0.1 % level)."""
    median, s = 1.3, 0.4
    values = _land_values(SEED, N, median, s)
    cdf = lambda v: 1.0 / (1.0 + (np.maximum(v, 1e-300) / median) ** (-1.0 / s))  # noqa: E731
    assert stats.kstest(values, cdf).pvalue > 1e-3
    assert np.median(values) == pytest.approx(median, rel=0.03)
    # The mean of a log-logistic with s < 1 is median * pi s / sin(pi s).
    assert values.mean() == pytest.approx(median * math.pi * s / math.sin(math.pi * s), rel=0.03)


def test_land_values_depend_on_seed_and_household_only() -> None:
    a = _land_values(SEED, 200, 1.0, 0.5)
    np.testing.assert_array_equal(a, _land_values(SEED, 200, 1.0, 0.5))
    assert not np.array_equal(a, _land_values(SEED + 1, 200, 1.0, 0.5))
    assert len(np.unique(a)) == 200
    twins = [mesa_settlement.land_value(SEED, i, 1.0, 0.5) for i in range(200)]
    np.testing.assert_array_equal(a, twins)


# --- the decision inside the household step -------------------------------------------------------
def _households(n: int, **fields: Any) -> dict[str, np.ndarray]:
    """Urban households at place 0, five years there, hukou at place 1 (agricultural, with
    land) unless given."""
    values: dict[str, Any] = dict(
        place=0,
        zone=1,
        hukou_place=1,
        hukou_type=0,
        years_here=5,
        permit=0,
        head_age=35,
        kids=0,
        education=1,
        children=0,
        land=1,
        persons=2,
        years_away=5,
        left_behind=0,
        match=0,
    )
    values.update(fields)
    arrays = {k: np.broadcast_to(np.asarray(v), (n,)).copy() for k, v in values.items()}
    return Households(**arrays).as_dict()


def _places(surrender: int, **floats: float) -> Any:
    """Two places: 0 open (surrender as given), 1 the hukou place (closed); quality 1."""
    columns: dict[str, np.ndarray] = {}
    for name, f in PLACE_FIELDS.items():
        columns[name] = np.zeros(2, dtype=f.kind)
    columns["quality"][:] = 1.0
    columns["employment"][:] = 1.0
    columns["lat"][:] = np.radians([30.0, 31.0])
    columns["lon"][:] = np.radians([114.0, 115.0])
    columns["coslat"][:] = np.cos(columns["lat"])
    columns["gov"][:] = [0, 1]
    columns["rule"][:] = [L.RULE_OPEN, L.RULE_CLOSED]
    columns["surrender"][:] = surrender
    for name, value in floats.items():
        columns[name][:] = value
    return PlaceInputs(**columns)


def _par(**values: Any) -> Any:
    """Everyone applies (nobody considers moving); all else zero unless given."""
    base: dict[str, Any] = dict.fromkeys(PARAM_FIELDS, 0.0)
    base.update(
        move_age=[0.0] * 4,
        land_region=[1.0] * 4,
        distance_floor_km=15.0,
        size_reference=1.0,
        households_per_agent=1.0,
        candidates=1,
        hukou_apply_rate=1.0,
        hukou_logit_scale=1.0,
        seed=SEED,
    )
    base.update(values)
    return params_from(base)


def _step(hh: dict[str, np.ndarray], places: Any, par: Any) -> np.ndarray:
    n = hh["place"].shape[0]
    start, members = origin_index(hh, 2)
    return household_step(
        make_year_key(SEED, 2016),
        hh,
        places,
        par,
        np.full((2, 1), 0.5),
        np.cumsum(np.ones((2, 2), dtype=np.float32), axis=1),
        start,
        members,
        np.zeros((2, 2), dtype=np.int32),
        vital=_NO_VITAL_EVENTS,
        leavers=np.zeros(n, dtype=np.uint32),
    ).counts


_LEAVING = np.zeros(L.KID_AGES)
_LEAVING[-1] = 1.0  # the engines require it; these households have no children
#: Nobody is born, dies or leaves home: the year is the settlement decision.
_NO_VITAL_EVENTS = VitalRates(np.zeros((2, L.MAX_AGE + 1)), np.zeros((2, L.MAX_AGE + 1)), _LEAVING)


def test_settlement_frequency_is_the_logit_of_the_net_benefit() -> None:
    """No land cost (surrender is no condition): net benefit = premium + household benefit +
    schooling per child = (ln 3 - 0.6) + 0.1 + 0.25 * 2 = ln 3, probability 0.75; with no
    children the schooling term drops (ln 3 - 0.5)."""
    par = _par(hukou_premium=math.log(3.0) - 0.6)
    places = _places(0, hukou_benefit=0.1, hukou_benefit_child=0.25)
    for children, net in ((2, math.log(3.0)), (0, math.log(3.0) - 0.5)):
        # Two children aged 8 and 10 (school age before and after the year's ageing).
        kids = (1 << 8 | 1 << 10) if children else 0
        hh = _households(N, children=children, kids=kids, persons=2 + children)
        counts = _step(hh, places, par)
        settled = hh["hukou_place"] == 0
        assert abs(settled.mean() - logistic(net)) < tolerance(logistic(net), N)
        assert counts[L.C_SETTLED] == int(hh["persons"][settled].sum())
        # Without surrender the land rights stay with the settled household.
        assert (hh["land"][settled] == 1).all() and (hh["hukou_type"][settled] == 1).all()


def test_the_logit_scale_sharpens_the_decision() -> None:
    """The same net benefit ln 3 at scale 0.5 gives odds 9: probability 0.9."""
    hh = _households(N)
    _step(hh, _places(0), _par(hukou_premium=math.log(3.0), hukou_logit_scale=0.5))
    assert abs((hh["hukou_place"] == 0).mean() - 0.9) < tolerance(0.9, N)


def test_required_land_surrender_lowers_settlement_of_landholders() -> None:
    """With surrender required each land-holding household settles with probability
    logistic(B - V_i), its own land value V_i (median 1, the region of its hukou place) given
    up, and keeps no land; without the condition with logistic(B). The landless are not
    affected."""
    b, median, s = 1.0, 1.0, 0.6
    par = _par(hukou_premium=b, land_value_dispersion=s)
    rates = {}
    for surrender in (0, 1):
        hh = _households(N, land=np.arange(N) % 2)
        _step(hh, _places(surrender, land_median=median), par)
        settled = hh["hukou_place"] == 0
        landed = np.arange(N) % 2 == 1
        rates[surrender] = settled[landed].mean()
        assert abs(settled[~landed].mean() - logistic(b)) < tolerance(logistic(b), N // 2)
        if surrender:
            assert not hh["land"][settled].any()
    expected = np.mean(
        [logistic(b - mesa_settlement.land_value(SEED, i, median, s)) for i in range(1, N, 2)]
    )
    assert abs(rates[1] - expected) < tolerance(expected, N // 2)
    assert abs(rates[0] - logistic(b)) < tolerance(logistic(b), N // 2)
    assert rates[1] < rates[0] - 0.1


def test_land_value_is_that_of_the_hukou_place() -> None:
    """The median is read at the hukou place (where the land is), not where the household
    lives: a huge median at place 1 stops every landholder, one at place 0 none."""
    par = _par(hukou_premium=2.0)
    for median, expected in (([0.0, 1e6], 0.0), ([1e6, 0.0], logistic(2.0))):
        places = _places(1)._replace(land_median=np.array(median))
        hh = _households(N)
        _step(hh, places, par)
        assert abs((hh["hukou_place"] == 0).mean() - expected) < tolerance(expected, N)


def test_locals_and_migrants_are_counted_apart() -> None:
    hh = _households(N, hukou_place=np.arange(N) % 2, land=0)
    counts = _step(hh, _places(0), _par(hukou_premium=1.0))
    converted = hh["hukou_type"] == 1
    local = np.arange(N) % 2 == 0
    assert counts[L.C_LOCAL_CONVERSIONS] == int(hh["persons"][converted & local].sum()) > 0
    assert counts[L.C_SETTLED] == int(hh["persons"][converted & ~local].sum()) > 0


def test_a_local_conversion_gains_none_of_the_benefits_of_a_local_hukou() -> None:
    """An agricultural household at its own hukou place already holds a local hukou: the
    premium, the hukou-only benefits and schooling per child add nothing to its decision, so
    it converts with probability logistic(0) = 1/2 (no land cost), while migrants beside it
    settle with logistic(premium + benefits + schooling)."""
    par = _par(hukou_premium=1.0)
    places = _places(0, hukou_benefit=0.5, hukou_benefit_child=0.5)
    local = np.arange(N) % 2 == 0
    hh = _households(
        N, hukou_place=np.where(local, 0, 1), land=0, children=1, kids=1 << 9, persons=3
    )
    _step(hh, places, par)
    converted = hh["hukou_type"] == 1
    assert abs(converted[local].mean() - 0.5) < tolerance(0.5, N // 2)
    migrant_p = logistic(1.0 + 0.5 + 0.5)
    assert abs(converted[~local].mean() - migrant_p) < tolerance(migrant_p, N // 2)


def test_a_migrant_from_another_province_also_sheds_the_cost_of_living_outside_it() -> None:
    """``beta_outside_province`` enters the benefit of a migrant whose hukou place lies in
    another province (the hukou takes the examinations and the insurance pool with it):
    logistic(premium + beta) across the border, logistic(premium) inside the province."""
    premium, beta = 0.3, 1.2
    par = _par(hukou_premium=premium, beta_outside_province=beta)
    for provinces, net in (([0, 0], premium), ([0, 1], premium + beta)):
        places = _places(0)._replace(province=np.array(provinces, dtype=np.int64))
        hh = _households(N)
        _step(hh, places, par)
        settled = (hh["hukou_place"] == 0).mean()
        assert abs(settled - logistic(net)) < tolerance(logistic(net), N), provinces
