"""The household-step kernel on small cases computed by hand: logit choice probabilities,
dissolved households, in-situ urbanization, permits, settlement rules, the points scheme, and the
input checks of the public wrappers."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from urbsim import rng_py
from urbsim.config import N_CHUNKS
from urbsim.dynamics.demography import VitalRates
from urbsim.households import FIELDS, Households
from urbsim.inputs import PARAM_FIELDS, PLACE_FIELDS, PlaceInputs, params_from
from urbsim.kernels import household_step as hs
from urbsim.kernels import layout as L
from urbsim.kernels.aggregate import aggregate, origin_index
from urbsim.kernels.household_step import AWAY_ROW, household_step, move_propensity
from urbsim.kernels.settlement import settle_points
from urbsim.rng import make_year_key

KEY = make_year_key(20101101, 2015)
#: Households per hand-built case: binomial standard errors of about 0.0015.
N = 100_000


# --- builders -------------------------------------------------------------------------------------
def make_households(n: int, **fields: Any) -> dict[str, np.ndarray]:
    """``n`` households; every field is a scalar (broadcast) or an array."""
    values: dict[str, Any] = {
        "place": 0,
        "zone": 1,
        "hukou_place": 0,
        "hukou_type": 1,
        "years_here": 5,
        "permit": 0,
        "head_age": 35,
        "education": 1,
        "kids": 0,
        "children": 0,
        "land": 0,
        "persons": 3,
        "years_away": 0,
        "left_behind": 0,
        "match": 0,
    }
    values.update(fields)
    if "children" in fields and "kids" not in fields:
        # School-age children aged 8, 9, ...: still of school age after the year's ageing.
        values["kids"] = ((1 << np.asarray(fields["children"])) - 1) << 8
    arrays = {k: np.broadcast_to(np.asarray(v), (n,)).copy() for k, v in values.items()}
    return Households(**arrays).as_dict()


def make_par(**values: Any) -> Any:
    """Behavioural parameters (:data:`urbsim.inputs.Params`), all zero except those given by
    name, a 50 km distance floor, a size reference of 1 person, one household per agent, one
    candidate and the urban-hukou and away move multipliers 1."""
    base: dict[str, Any] = {name: 0.0 for name in PARAM_FIELDS}
    base.update(
        move_age=[0.0] * 4,
        # Urban-hukou households as mobile as rural ones, and households away as those at
        # home, unless a test says otherwise.
        move_nonagricultural=1.0,
        move_away=1.0,
        # Households away pay the whole moving cost, as those at home.
        moving_cost_away_share=1.0,
        land_region=[0.0] * 4,
        distance_floor_km=50.0,
        size_reference=1.0,
        households_per_agent=1.0,
        candidates=1,
    )
    base.update(values)
    return params_from(base)


#: Place-value names of the hand-built cases (short) and their :data:`PLACE_FIELDS` names.
_PF_NAMES = {
    "loginc_urban": "log_income_urban",
    "loginc_rural": "log_income_rural",
    "logcost_urban": "log_cost_urban",
    "logcost_rural": "log_cost_rural",
}


def make_pf(lat: list[float], lon: list[float], **columns: Any) -> dict[str, np.ndarray]:
    """Float place values at the given coordinates (degrees); others by field name (or the
    short names of :data:`_PF_NAMES`)."""
    n = len(lat)
    pf = {name: np.zeros(n) for name, f in PLACE_FIELDS.items() if f.kind is np.float64}
    pf["log_income_urban"][:] = 10.0
    pf["log_income_rural"][:] = 9.0
    pf["log_cost_urban"][:] = 6.0
    pf["log_cost_rural"][:] = 5.0
    pf["quality"][:] = 1.0
    pf["employment"][:] = 1.0
    pf["school_access"][:] = 1.0
    pf["fertility_factor"][:] = 1.0
    pf["lat"][:] = np.radians(lat)
    pf["lon"][:] = np.radians(lon)
    pf["coslat"][:] = np.cos(np.radians(lat))
    for name, value in columns.items():
        pf[_PF_NAMES.get(name, name)][:] = value
    return pf


def make_pi(
    n: int,
    province: Any = 0,
    rule: Any = L.RULE_CLOSED,
    min_years: Any = 0,
    surrender: Any = 0,
    permit_on: Any = 0,
    permit_months: Any = 0,
) -> dict[str, np.ndarray]:
    """Integer place values: province, settlement rule, minimum years, whether settling
    requires giving up land rights, whether permits are issued and after how many months;
    one government each."""
    pi = {
        "province": province,
        "rule": rule,
        "min_years": min_years,
        "gov": np.arange(n),
        "surrender": surrender,
        "permit_on": permit_on,
        "permit_months": permit_months,
    }
    return {k: np.broadcast_to(np.asarray(v, dtype=np.int64), (n,)).copy() for k, v in pi.items()}


def make_places(pf: dict[str, np.ndarray], pi: dict[str, np.ndarray]) -> Any:
    """The :data:`urbsim.inputs.PlaceInputs` of float and integer place values."""
    return PlaceInputs(**pf, **pi)


def run_step(
    hh: dict[str, np.ndarray],
    pf: dict[str, np.ndarray],
    pi: dict[str, np.ndarray],
    par: Any,
    *,
    access: np.ndarray | None = None,
    grav: np.ndarray | None = None,
    start: np.ndarray | None = None,
    members: np.ndarray | None = None,
    net: np.ndarray | None = None,
    n_candidates: int = 1,
    n_chunks: int = N_CHUNKS,
    vital: VitalRates | None = None,
    leavers: np.ndarray | None = None,
    parents: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """One household step (no births, deaths or leaving home unless ``vital`` says so);
    returns the counters and the points applicants marked (1) per household."""
    n_places = pi["province"].shape[0]
    if access is None:
        access = np.array([0.5, 0.6, 0.7, 0.8])
    if access.ndim == 1:  # one schedule for every place
        access = np.tile(access, (n_places, 1))
    if grav is None:
        grav = np.cumsum(np.ones((n_places, n_places)), axis=1)
    grav = np.asarray(grav, dtype=np.float32)  # the dtype of gravity_rows (exact here)
    if start is None:
        start, members = origin_index(hh, n_places)
    if net is None:
        net = np.zeros((n_places, n_places), dtype=np.int32)
    par = par._replace(candidates=n_candidates)
    places = make_places(pf, pi)
    if leavers is None:
        leavers = np.zeros(hh["place"].shape[0], dtype=np.uint32)
    counts, applicants = household_step(
        KEY,
        hh,
        places,
        par,
        access,
        grav,
        start,
        members,
        net,
        n_chunks,
        vital=quiet_vital() if vital is None else vital,
        leavers=leavers,
        parents=parents,
    )
    # The applicants as a mark per household, for the tests' comparisons.
    flag = np.zeros(hh["place"].shape[0], dtype=np.uint8)
    flag[applicants] = 1
    return counts, flag


def quiet_vital(fertility: float = 0.0, mortality: float = 0.0, leaving: float = 0.0) -> VitalRates:
    """Schedules flat at the given probabilities (fertility at ages 15-49 only; leaving home
    at ages 18-30, certain at 31; everyone of the oldest age dies)."""
    ages = np.arange(L.MAX_AGE + 1)
    fert = np.where((ages >= 15) & (ages <= 49), fertility, 0.0)
    mort = np.full(ages.shape[0], mortality)
    mort[-1] = 1.0
    leave = np.where(np.arange(L.KID_AGES) >= 18, leaving, 0.0)
    leave[-1] = 1.0
    return VitalRates(np.stack([fert, fert]), np.stack([mort, mort]), leave)


def tolerance(p: float, n: int = N) -> float:
    """Five binomial standard errors (never flakes; a wrong formula is far outside)."""
    return 5.0 * math.sqrt(max(p * (1.0 - p), 1e-4) / n)


def softmax(v: list[float]) -> np.ndarray:
    e = np.exp(np.asarray(v) - max(v))
    return e / e.sum()


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The documented equirectangular distance at the first point's latitude (degrees in)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dx = math.radians(lon2 - lon1) * math.cos(p1)
    return 6371.0 * math.hypot(p2 - p1, dx)


def _always_move_par(**values: Any) -> Any:
    """Parameters under which every household considers moving (propensity 1 whatever the age,
    tenure or job)."""
    return make_par(**values, move_base=1.0, move_age=[1.0] * 4, move_unemployed=1.0)


BETAS = {
    "beta_income": 1.6,
    "beta_housing": 0.45,
    "beta_service": 1.2,
    "child_service_weight": 0.5,
    "beta_distance": 0.6,
    "beta_province": 0.9,
    "beta_outside_province": 0.7,
    "moving_cost": 0.8,
    "beta_network": 0.25,
    "beta_amenity": 0.5,
    "home_preference": 0.8,
    "service_base_access": 0.3,
    "households_per_agent": 10.0,
}


# --- the logit choice -----------------------------------------------------------------------------
def test_logit_rural_or_urban_zone_of_one_place() -> None:
    """One place; a rural household at home with land chooses between its rural zone (stay)
    and the urban zone of its place (the sampled candidate is the same alternative)."""
    b = BETAS
    pf = make_pf(
        [30.0],
        [114.0],
        loginc_urban=10.6,
        loginc_rural=10.6 + math.log(0.33),
        logcost_urban=6.0,
        logcost_rural=5.0,
        quality=0.7,
        amenity=0.4,
    )
    par = _always_move_par(**b)
    hh = make_households(N, zone=0, hukou_type=0, land=1, children=2)
    net = np.full((1, 1), 3, dtype=np.int32)
    counts, _ = run_step(hh, pf, make_pi(1), par, net=net, n_candidates=3)

    cf = 1.0 + b["child_service_weight"] * 2
    network = b["beta_network"] * math.log1p(3 * b["households_per_agent"])
    service = b["beta_service"] * 1.0 * 0.7 * cf  # at the hukou place access is 1
    v_rural = (
        b["beta_income"] * pf["log_income_rural"][0]
        - b["beta_housing"] * 5.0
        + service
        + network
        + b["home_preference"]
    )
    v_urban = (
        b["beta_income"] * 10.6
        - b["beta_housing"] * 6.0
        + b["beta_amenity"] * 0.4
        + service
        - b["moving_cost"]
        + network
        + b["home_preference"]
    )
    p = softmax([v_rural, v_urban])
    urban = float((hh["zone"] == 1).mean())
    assert abs(urban - p[1]) < tolerance(p[1])
    assert (hh["place"] == 0).all()
    assert counts[L.C_CONSIDERED] == N
    assert counts[L.C_MOVES] == int((hh["zone"] == 1).sum())
    assert counts[L.C_RETURNS] == counts[L.C_MOVES]  # the hukou place is the current place
    assert counts[L.C_PROVINCE_MOVES] == 0
    # Movers start afresh; stayers count one more year.
    moved = hh["zone"] == 1
    assert (hh["years_here"][moved] == 0).all()
    assert (hh["years_here"][~moved] == 6).all()


THREE_LAT = [30.0, 30.5, 31.0]
THREE_LON = [114.0, 115.0, 112.5]


def _three_places() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    pf = make_pf(
        THREE_LAT,
        THREE_LON,
        loginc_urban=[10.6, 11.2, 10.2],
        logcost_urban=[6.0, 6.4, 5.5],
        amenity=[0.3, 0.5, 0.1],
        quality=[0.8, 0.6, 0.9],
    )
    pi = make_pi(3, province=[0, 1, 1])
    net = np.zeros((3, 3), dtype=np.int32)
    net[2, 1] = 5
    return pf, pi, net


def _three_place_probabilities(
    pf: np.ndarray, b: dict[str, float] = BETAS, cost_share: float = 1.0
) -> np.ndarray:
    """Hand computation for a floating urban household at place 0 with hukou at place 2 (in
    another province), a permit and 2 completed years, one child: stay, move to 1, return to 2.
    Its child's school access away from home is the place's ``school_access``; it pays
    ``cost_share`` of the moving cost; staying gets place 0's within-province destination
    constant, the move to 1 (another province) place 1's across one, a return none."""
    access = [0.5, 0.6, 0.7, 0.8][2], b["service_base_access"], 1.0
    v = []
    for j in range(3):
        school = pf["school_access"][j] if j != 2 else 1.0
        cf = 1.0 + b["child_service_weight"] * 1 * school
        u = (
            b["beta_income"] * pf["log_income_urban"][j]
            - b["beta_housing"] * pf["log_cost_urban"][j]
            + b["beta_amenity"] * pf["amenity"][j]
            + b["beta_service"] * access[j] * pf["quality"][j] * cf
        )
        if j != 0:
            u -= b["moving_cost"] * cost_share
        if j == 0:  # living outside the hukou province (1), staying too
            u -= b["beta_outside_province"]
            u += pf["entry_within"][0]
        if j == 1:
            u += pf["entry_across"][1]
        if j == 1:  # a return (to 2) pays no distance or border cost
            d = distance_km(THREE_LAT[0], THREE_LON[0], THREE_LAT[j], THREE_LON[j])
            u -= b["beta_distance"] * math.log(max(d, 50.0) / 50.0) + b["beta_province"]
        if j == 2:
            u += b["home_preference"]
        if j == 1:
            u += b["beta_network"] * math.log1p(5 * b["households_per_agent"])
        v.append(u)
    return softmax(v)


def _check_three_place_choice(
    hh: dict[str, np.ndarray], counts: np.ndarray, p: np.ndarray, sl: slice
) -> None:
    place = hh["place"][sl]
    assert (hh["zone"][sl] == 1).all()
    for j in range(3):
        share = float((place == j).mean())
        assert abs(share - p[j]) < tolerance(p[j]), (j, share, p[j])
    moved_back = int((place == 2).sum())
    assert counts[L.C_RETURNS] == moved_back
    # Places 1 and 2 both lie in another province than place 0.
    assert counts[L.C_PROVINCE_MOVES] == int((place != 0).sum())


def test_logit_three_places_by_gravity_sampling() -> None:
    """Stay, the sampled candidate (gravity from place 0 puts all weight on place 1, so both
    draws propose it: weight 2 exp(V) / (2 * 1)) and return home."""
    pf, pi, net = _three_places()
    par = _always_move_par(**BETAS)
    hh = make_households(
        N, place=0, hukou_place=2, hukou_type=0, land=0, permit=1, years_here=2, children=1
    )
    grav = np.array([[0.0, 1.0, 1.0], [1.0, 1.0, 2.0], [1.0, 2.0, 2.0]])
    counts, _ = run_step(hh, pf, pi, par, grav=grav, net=net, n_candidates=2)
    p = _three_place_probabilities(pf)
    assert 0.1 < p.min() and p.max() < 0.6  # a case that exercises every term
    _check_three_place_choice(hh, counts, p, slice(None))
    assert counts[L.C_MOVES] == int((hh["place"] != 0).sum())


def test_logit_away_keeps_its_place_constant_and_pays_a_share_of_the_moving_cost() -> None:
    """The same choice with destination constants and a household away paying a fifth of the
    moving cost: staying gets place 0's within-province constant (+1.0; without it the stay
    would lose a third of its probability), the move to 1 place 1's across one (-0.4; its
    within one, +2, and the return's, -3, must not count)."""
    pf, pi, net = _three_places()
    pf["entry_within"][:] = [1.0, 2.0, 0.5]
    pf["entry_across"][:] = [0.7, -0.4, -3.0]
    b = {**BETAS, "moving_cost": 2.0}
    par = _always_move_par(**b, moving_cost_away_share=0.2)
    hh = make_households(
        N, place=0, hukou_place=2, hukou_type=0, land=0, permit=1, years_here=2, children=1
    )
    grav = np.array([[0.0, 1.0, 1.0], [1.0, 1.0, 2.0], [1.0, 2.0, 2.0]])
    counts, _ = run_step(hh, pf, pi, par, grav=grav, net=net, n_candidates=2)
    p = _three_place_probabilities(pf, b, cost_share=0.2)
    no_stay_constant = _three_place_probabilities(
        {**pf, "entry_within": np.array([0.0, 2.0, 0.5])}, b, cost_share=0.2
    )
    full_cost = _three_place_probabilities(pf, b)
    assert p[0] - no_stay_constant[0] > 2 * tolerance(p[0])
    assert full_cost[0] - p[0] > 2 * tolerance(p[0])
    _check_three_place_choice(hh, counts, p, slice(None))


def test_logit_a_household_away_in_the_rural_zone_keeps_its_place_constant_in_either_zone() -> None:
    """A household away in the rural zone of place 0 (hukou: the urban zone of place 1, in
    another province) chooses between staying, the urban zone of its place (a change of zone:
    a fourth of the moving cost, and place 0's within constant as staying) and going home (a
    fourth of the cost, no constant); with two places the candidates propose only these."""
    pf = make_pf([30.0, 31.0], [114.0, 116.0], loginc_urban=[10.5, 10.2], loginc_rural=9.8)
    pf["entry_within"][:] = [1.2, 0.3]
    pf["entry_across"][:] = [-0.5, 2.0]
    b = {"beta_income": 1.0, "moving_cost": 2.0, "home_preference": 0.5}
    par = _always_move_par(**b, moving_cost_away_share=0.25)
    hh = make_households(N, place=0, zone=0, hukou_place=1, hukou_type=1, land=0)
    grav = np.array([[1.0, 2.0], [1.0, 2.0]])
    net = np.zeros((2, 2), dtype=np.int32)
    run_step(hh, pf, make_pi(2, province=[0, 1]), par, grav=grav, net=net, n_candidates=2)
    cost = 2.0 * 0.25
    v = [
        9.8 + 1.2,  # stay: the rural zone of place 0 with its within constant
        10.5 + 1.2 - cost,  # the urban zone of place 0: the same constant, part of the cost
        10.2 - cost + 0.5,  # home: no constant, part of the cost, the home preference
    ]
    p = softmax(v)
    chosen = [
        ((hh["place"] == 0) & (hh["zone"] == 0)).mean(),
        ((hh["place"] == 0) & (hh["zone"] == 1)).mean(),
        (hh["place"] == 1).mean(),
    ]
    for share, expected in zip(chosen, p, strict=True):
        assert abs(share - expected) < tolerance(expected), (chosen, p)
    # The rule broken either way would be far outside: the constant on the stay only, or the
    # whole cost on the change of zone.
    assert abs(softmax([v[0], v[1] - 1.2, v[2]])[1] - p[1]) > 5 * tolerance(p[1])
    assert abs(softmax([v[0], v[1] - 1.5, v[2]])[1] - p[1]) > 5 * tolerance(p[1])


def test_logit_school_access_of_a_population_cap_weighs_on_non_hukou_children() -> None:
    """A cap's school channel: children count for less where they are not registered (places 0
    and 1), never at the hukou place (2, whose factor must be ignored)."""
    pf, pi, net = _three_places()
    pf["school_access"][:] = [0.0, 0.1, 0.0]
    par = _always_move_par(**BETAS)
    hh = make_households(
        N, place=0, hukou_place=2, hukou_type=0, land=0, permit=1, years_here=2, children=1
    )
    grav = np.array([[0.0, 1.0, 1.0], [1.0, 1.0, 2.0], [1.0, 2.0, 2.0]])
    counts, _ = run_step(hh, pf, pi, par, grav=grav, net=net, n_candidates=2)
    p = _three_place_probabilities(pf)
    unrestricted = _three_place_probabilities({**pf, "school_access": np.ones(3)})
    # The restriction shows: a kernel that ignored it would fail the check below.
    assert p[2] - unrestricted[2] > 2 * tolerance(p[2])
    _check_three_place_choice(hh, counts, p, slice(None))


def test_logit_three_places_by_network_sampling() -> None:
    """Same choice set when candidates come from the network: the earlier migrants of origin 2
    in the origin index (households 0-4) all live at place 1, so all four draws propose it
    (weight 4 exp(V) / (4 * 1)), and gravity would only propose the stay place."""
    pf, pi, net = _three_places()
    par = _always_move_par(**BETAS, network_sampling_share=1.0)
    hh = make_households(
        N + 5, place=0, hukou_place=2, hukou_type=0, land=0, permit=1, years_here=2, children=1
    )
    hh["place"][:5] = 1  # the anchor migrants; excluded from the frequencies below
    start = np.array([0, 0, 0, 5], dtype=np.int64)
    members = np.arange(5, dtype=np.int64)
    grav = np.array([[1.0, 1.0, 1.0], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0]])
    run_step(hh, pf, pi, par, grav=grav, start=start, members=members, net=net, n_candidates=4)
    p = _three_place_probabilities(pf)
    place = hh["place"][5:]
    for j in range(3):
        share = float((place == j).mean())
        assert abs(share - p[j]) < tolerance(p[j])


def test_no_one_considers_moving_at_zero_propensity() -> None:
    pf, pi, net = _three_places()
    hh = make_households(1000, place=0, hukou_place=2, hukou_type=0)
    before = {k: v.copy() for k, v in hh.items()}
    counts, _ = run_step(hh, pf, pi, make_par(**BETAS), net=net)
    assert counts[L.C_CONSIDERED] == 0
    assert counts[L.C_MOVES] == 0
    np.testing.assert_array_equal(hh["place"], before["place"])
    np.testing.assert_array_equal(hh["years_here"], before["years_here"] + 1)


def test_move_propensity_formula() -> None:
    par = make_par(move_base=0.14, move_tenure_decay=0.04, move_age=[1.6, 1.0, 0.55, 0.2])
    table = move_propensity(par)
    assert table.shape == (5, 256)
    for age, years in [(0, 0), (1, 3), (2, 10), (3, 255)]:
        expected = 0.14 * [1.6, 1.0, 0.55, 0.2][age] * math.exp(-0.04 * years)
        assert table[age, years] == pytest.approx(expected, rel=1e-15)


def test_propensity_cache_tells_apart_every_parameter_of_the_table() -> None:
    # A key missing a parameter would hand a run the table of an earlier one in the process.
    base = {"move_base": 0.14, "move_tenure_decay": 0.04, "move_away": 2.0,
            "move_away_tenure_decay": 0.3, "move_age": [1.6, 1.0, 0.55, 0.2]}  # fmt: skip
    first = hs.cached_propensity(make_par(**base)).copy()
    for name, value in (("move_base", 0.2), ("move_tenure_decay", 0.1), ("move_away", 3.0),
                        ("move_away_tenure_decay", 0.6)):  # fmt: skip
        other = hs.cached_propensity(make_par(**{**base, name: value}))
        assert not np.array_equal(other, first), name
        np.testing.assert_array_equal(other, move_propensity(make_par(**{**base, name: value})))
    np.testing.assert_array_equal(hs.cached_propensity(make_par(**base)), first)


@pytest.mark.parametrize("move_away", [0.1, 0.7, 3.037168802726379])
def test_away_multiplier_fades_with_the_years_here(move_away: float) -> None:
    # Without the decay the row is move_away itself, bit for bit (1 + (m - 1) is not, for
    # some m below 1): the rule before the decay.
    still = move_propensity(make_par(move_away=move_away, move_away_tenure_decay=0.0))
    assert (still[AWAY_ROW] == move_away).all()
    table = move_propensity(make_par(move_away=move_away, move_away_tenure_decay=0.5))
    row = table[AWAY_ROW]
    assert row[0] == pytest.approx(move_away, rel=1e-14)
    # By hand: at 2 years, 1 + (m - 1) e^-1; after many years, the rate of households at home.
    assert row[2] == pytest.approx(1.0 + (move_away - 1.0) * math.exp(-1.0), rel=1e-15)
    assert row[255] == pytest.approx(1.0, rel=1e-12)
    # Towards 1 from either side, never past it.
    assert (np.diff(row) >= 0).all() if move_away < 1 else (np.diff(row) <= 0).all()


def test_consider_moving_frequency_with_unemployment() -> None:
    """Urban heads: P(consider) = base * age * exp(-decay * years) * (unemployed multiplier
    when the employment draw fails)."""
    pf = make_pf([30.0], [114.0], employment=0.6)
    par = make_par(
        move_base=0.1, move_tenure_decay=0.1, move_unemployed=3.0, move_age=[1.0, 2.0, 1.0, 1.0]
    )
    hh = make_households(N, head_age=np.arange(N) % 15 + 30, years_here=4)
    counts, _ = run_step(hh, pf, make_pi(1), par)
    pm = 0.1 * 2.0 * math.exp(-0.4)
    expected = 0.6 * pm + 0.4 * pm * 3.0
    assert abs(counts[L.C_CONSIDERED] / N - expected) < tolerance(expected)


def test_urban_hukou_households_consider_moving_at_their_multiplier() -> None:
    """Rural heads (employed: the multiplier of job loss does not apply) consider moving at
    base * age * exp(-decay * years); urban-hukou heads at that times move_nonagricultural."""
    pf = make_pf([30.0], [114.0], employment=1.0)
    par = make_par(
        move_base=0.2, move_tenure_decay=0.1, move_age=[1.0, 1.0, 1.0, 1.0],
        move_nonagricultural=0.25,
    )  # fmt: skip
    pm = 0.2 * math.exp(-0.4)
    for hukou_type, expected in ((0, pm), (1, 0.25 * pm)):
        hh = make_households(N, head_age=35, years_here=4, hukou_type=hukou_type)
        counts, _ = run_step(hh, pf, make_pi(1), par)
        assert abs(counts[L.C_CONSIDERED] / N - expected) < tolerance(expected)


def test_households_away_consider_moving_at_their_multiplier() -> None:
    """Employed rural-hukou heads at their hukou place consider moving at
    base * age * exp(-decay * years); those living away (hukou place 1, no return hazard) at
    that times move_away, and urban-hukou heads away at that times both multipliers."""
    pf = make_pf([30.0, 31.0], [114.0, 115.0], employment=1.0)
    par = make_par(
        move_base=0.1, move_tenure_decay=0.1, move_age=[1.0, 1.0, 1.0, 1.0],
        move_nonagricultural=0.5, move_away=3.0,
    )  # fmt: skip
    pm = 0.1 * math.exp(-0.2)
    for home, hukou_type, expected in ((0, 0, pm), (1, 0, 3.0 * pm), (1, 1, 1.5 * pm)):
        hh = make_households(
            N, place=0, head_age=35, years_here=2, hukou_place=home, hukou_type=hukou_type
        )
        counts, _ = run_step(hh, pf, make_pi(2), par)
        assert abs(counts[L.C_CONSIDERED] / N - expected) < tolerance(expected)


@pytest.mark.parametrize(
    ("home", "zone", "age", "ends"),
    [(1, 1, 35, True), (1, 1, 59, True), (0, 1, 35, False), (1, 0, 35, False), (1, 1, 60, False)],
)
def test_a_job_that_ends_makes_a_household_away_consider_moving(
    home: int, zone: int, age: int, ends: bool
) -> None:
    """With ``job_separation`` 0.3 (docs/ODD.md 7.11) a household away from its hukou place
    (place 1), in the urban zone (1) with a head under 60, considers moving if its job ends or
    its own draw says so: with probability 1 - 0.7 (1 - pm); at home, in the rural zone or with
    a head of 60, at pm = 0.1. Each job ends on the household's own draw of the year, the same
    in the reference's generator; the step counts the persons whose job ended and those of them
    whose household moved."""
    pf = make_pf([30.0, 31.0], [114.0, 115.0], employment=1.0)
    par = make_par(move_base=0.1, move_tenure_decay=0.0, move_age=[1.0, 1.0, 1.0, 1.0],
                   job_separation=0.3)  # fmt: skip
    hh = make_households(N, place=0, zone=zone, head_age=age, years_here=2, hukou_place=home)
    counts, _ = run_step(hh, pf, make_pi(2), par)
    expected = 1.0 - 0.7 * 0.9 if ends else 0.1
    assert abs(counts[L.C_CONSIDERED] / N - expected) < tolerance(expected)
    if ends:
        ended = [rng_py.uniform(int(KEY), i, L.DRAW_JOB_END) < 0.3 for i in range(N)]
        assert 0.25 < np.mean(ended) < 0.35
        assert all(hs.job_ends(KEY, i, 0, zone, home, age, par) == e for i, e in enumerate(ended))
        # Counted: the persons whose job ended, and those of them whose household moved.
        persons, ended = hh["persons"].astype(np.int64), np.array(ended)
        assert counts[L.C_JOB_ENDS] == persons[ended].sum()
        moved = (hh["place"] != 0) | (hh["zone"] != zone)
        assert 0 < counts[L.C_JOB_END_MOVERS] == persons[ended & moved].sum()
    else:
        assert counts[L.C_JOB_ENDS] == counts[L.C_JOB_END_MOVERS] == 0


# --- dissolved households ----------------------------------------------------------------------
def test_dissolved_households_are_skipped() -> None:
    pf = make_pf([30.0, 31.0], [114.0, 115.0], insitu=1.0)
    hh = make_households(500, persons=0, zone=0, hukou_place=1)
    before = {k: v.copy() for k, v in hh.items()}
    par = _always_move_par(**BETAS)
    vital = quiet_vital(fertility=0.5, mortality=0.5, leaving=0.5)
    counts, flag = run_step(hh, pf, make_pi(2, rule=L.RULE_OPEN), par, vital=vital)
    assert not counts.any()
    assert not flag.any()
    for k in hh:
        np.testing.assert_array_equal(hh[k], before[k])


# --- in-situ urbanization and permits -------------------------------------------------------------
def test_insitu_reclassification_and_requisition() -> None:
    pf = make_pf([30.0, 31.0], [114.0, 115.0], insitu=0.3)
    n = N
    home = np.where(np.arange(n) % 2 == 0, 0, 1)  # half local, half from place 1
    hh = make_households(n, zone=0, hukou_type=0, land=1, hukou_place=home)
    counts, _ = run_step(hh, pf, make_pi(2), make_par(requisition_share=0.5))
    urban = hh["zone"] == 1
    assert abs(urban.mean() - 0.3) < tolerance(0.3)
    assert counts[L.C_INSITU] == int(hh["persons"][urban].sum())
    converted = hh["hukou_type"] == 1
    assert not (converted & (home == 1)).any()  # requisition only for local households
    assert not (converted & ~urban).any()
    local_urban = urban & (home == 0)
    assert abs(converted[local_urban].mean() - 0.5) < tolerance(0.5, int(local_urban.sum()))
    assert (hh["land"][converted] == 0).all()
    assert counts[L.C_REQUISITION] == int(hh["persons"][converted].sum())
    assert (hh["hukou_place"] == home).all()


@pytest.mark.parametrize(("months", "min_years"), [(6, 0), (24, 2), (36, 3)])
def test_permit_eligibility(months: int, min_years: int) -> None:
    """Floating urban households get a permit once 12 * years + 6 reaches the months required;
    locals and holders never get another."""
    pf = make_pf([30.0, 31.0], [114.0, 115.0])
    years = np.arange(1000) % 6
    hh = make_households(1000, hukou_place=1, hukou_type=0, years_here=years)
    hh["hukou_place"][:100] = 0  # locals with agricultural hukou: no permit
    hh["permit"][100:200] = 1  # holders already
    par = make_par(permit_takeup=1.0)
    counts, _ = run_step(hh, pf, make_pi(2, permit_on=1, permit_months=months), par)
    eligible = np.zeros(1000, dtype=bool)
    eligible[200:] = years[200:] >= min_years
    got = hh["permit"] == 1
    np.testing.assert_array_equal(got[200:], eligible[200:])
    assert not got[:100].any()
    assert got[100:200].all()
    assert counts[L.C_PERMITS] == int(hh["persons"][eligible].sum())


def test_no_permits_while_permits_are_off() -> None:
    pf = make_pf([30.0, 31.0], [114.0, 115.0])
    hh = make_households(1000, hukou_place=1, hukou_type=0, years_here=5)
    counts, _ = run_step(hh, pf, make_pi(2), make_par(permit_takeup=1.0))
    assert counts[L.C_PERMITS] == 0
    assert not hh["permit"].any()


def test_permits_follow_the_rules_of_the_place_lived_in() -> None:
    """Issue 13: place 0 issues permits after 6 months, place 1 after 36, place 2 none; every
    household has lived 2 years where it is (30 months at mid-year)."""
    pf = make_pf([30.0, 31.0, 32.0, 33.0], [114.0, 115.0, 116.0, 117.0])
    hh = make_households(3000, place=np.arange(3000) % 3, hukou_place=3, years_here=2)
    pi = make_pi(4, permit_on=[1, 1, 0, 0], permit_months=[6, 36, 0, 0])
    run_step(hh, pf, pi, make_par(permit_takeup=1.0))
    got = hh["permit"] == 1
    assert got[hh["place"] == 0].all()
    assert not got[hh["place"] != 0].any()


def test_a_permit_holder_is_entitled_by_the_schedule_of_the_place_it_holds_it_at() -> None:
    """Issue 13: the access of a permit holder is its place's row of the schedules (place 0's
    [0.5, 0.6, 0.7, 0.8]: 0.7 after 2 years), whatever the other places' rows say."""
    pf, pi, net = _three_places()
    par = _always_move_par(**BETAS)
    hh = make_households(
        N, place=0, hukou_place=2, hukou_type=0, land=0, permit=1, years_here=2, children=1
    )
    grav = np.array([[0.0, 1.0, 1.0], [1.0, 1.0, 2.0], [1.0, 2.0, 2.0]])
    access = np.array([[0.5, 0.6, 0.7, 0.8], [0.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0]])
    counts, _ = run_step(hh, pf, pi, par, access=access, grav=grav, net=net, n_candidates=2)
    _check_three_place_choice(hh, counts, _three_place_probabilities(pf), slice(None))


# --- settlement rules -----------------------------------------------------------------------------
def _applicants(n: int = 2000) -> dict[str, np.ndarray]:
    """Floating urban households at place 0 (hukou at 1), agricultural hukou, years 0-5;
    the first half without land (they gain from local hukou), the second with land."""
    years = np.arange(n) % 6
    land = (np.arange(n) >= n // 2).astype(np.uint8)
    return make_households(
        n, hukou_place=1, hukou_type=0, years_here=years, land=land, persons=1 + np.arange(n) % 5
    )


#: Settlement gains beta_service * (1 - 0.3) * 1 + 0.3 = 1.14 > 0 for the landless; with a land
#: value of exactly 5 (no dispersion) given up, the landed would lose 3.86. A logit scale of 1e-3
#: makes the decision the deterministic threshold (the scale -> 0 limit of the logit): the
#: probabilities are 1 - exp(-1140) and exp(-3860), 1 and 0 in floating point.
SETTLE = {
    "hukou_apply_rate": 1.0,
    "beta_service": 1.2,
    "service_base_access": 0.3,
    "hukou_premium": 0.3,
    "land_value": 5.0,
    "hukou_logit_scale": 1e-3,
}


def _settle(rule: int, min_years: int) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    pf = make_pf([30.0, 31.0], [114.0, 115.0], land_median=5.0)
    hh = _applicants()
    pi = make_pi(2, rule=[rule, L.RULE_OPEN], min_years=min_years, surrender=1)
    counts, flag = run_step(hh, pf, pi, make_par(**SETTLE))
    return hh, counts, flag


def test_closed_rule_grants_nothing() -> None:
    hh, counts, flag = _settle(L.RULE_CLOSED, 0)
    assert counts[L.C_SETTLED] == 0
    assert not flag.any()
    assert (hh["hukou_place"] == 1).all()
    assert (hh["hukou_type"] == 0).all()


def test_open_rule_converts_every_applicant_who_gains() -> None:
    hh, counts, flag = _settle(L.RULE_OPEN, 4)  # min_years is ignored by the open rule
    gains = np.arange(2000) < 1000
    converted = hh["hukou_place"] == 0
    np.testing.assert_array_equal(converted, gains)
    assert (hh["hukou_type"][converted] == 1).all()
    assert (hh["land"][converted] == 0).all()
    assert (hh["permit"][converted] == 0).all()
    assert (hh["hukou_type"][~converted] == 0).all()
    assert counts[L.C_SETTLED] == int(hh["persons"][converted].sum())
    assert counts[L.C_LOCAL_CONVERSIONS] == 0
    assert not flag.any()


def test_conditional_rule_requires_min_years() -> None:
    hh, counts, flag = _settle(L.RULE_CONDITIONAL, 3)
    years = np.arange(2000) % 6
    expected = (np.arange(2000) < 1000) & (years >= 3)
    np.testing.assert_array_equal(hh["hukou_place"] == 0, expected)
    assert counts[L.C_SETTLED] == int(hh["persons"][expected].sum())
    assert not flag.any()


def test_points_rule_flags_instead_of_converting() -> None:
    hh, counts, flag = _settle(L.RULE_POINTS, 2)
    years = np.arange(2000) % 6
    expected = (np.arange(2000) < 1000) & (years >= 2)
    np.testing.assert_array_equal(flag == 1, expected)
    assert counts[L.C_SETTLED] == 0
    assert (hh["hukou_place"] == 1).all()


def test_application_rate_and_local_agricultural_households() -> None:
    """Half apply; local agricultural-hukou households may convert their type in place, and
    are counted as local conversions, not as settled migrants. A local hukou adds nothing to a
    local (it has one), so an applicant without land converts with probability 1/2 whatever
    the premium: a quarter of them in all."""
    pf = make_pf([30.0], [114.0])
    hh = make_households(N, hukou_type=0, land=0)
    par = make_par(**{**SETTLE, "hukou_apply_rate": 0.5})
    counts, _ = run_step(hh, pf, make_pi(1, rule=L.RULE_OPEN), par)
    converted = hh["hukou_type"] == 1
    assert abs(converted.mean() - 0.25) < tolerance(0.25)
    assert counts[L.C_LOCAL_CONVERSIONS] == int(hh["persons"][converted].sum()) > 0
    assert counts[L.C_SETTLED] == 0
    assert (hh["hukou_place"] == 0).all()


def test_local_agricultural_households_do_not_enter_points_schemes() -> None:
    pf = make_pf([30.0], [114.0])
    hh = make_households(1000, hukou_type=0, land=0)
    counts, flag = run_step(hh, pf, make_pi(1, rule=L.RULE_POINTS), make_par(**SETTLE))
    assert counts[L.C_LOCAL_CONVERSIONS] == counts[L.C_SETTLED] == 0
    assert not flag.any()
    assert (hh["hukou_type"] == 0).all()


def test_local_non_agricultural_households_do_not_apply() -> None:
    pf = make_pf([30.0], [114.0])
    hh = make_households(1000, hukou_type=1)
    counts, flag = run_step(hh, pf, make_pi(1, rule=L.RULE_OPEN), make_par(**SETTLE))
    assert counts[L.C_SETTLED] == counts[L.C_LOCAL_CONVERSIONS] == 0
    assert not flag.any()


# --- settle_points --------------------------------------------------------------------------------
def _points_households(
    education: list[int], years: list[int], persons: list[int], place: list[int] | None = None
) -> dict[str, np.ndarray]:
    n = len(education)
    return make_households(
        n,
        place=place if place is not None else 0,
        hukou_place=5,
        hukou_type=0,
        land=1,
        permit=1,
        education=education,
        years_here=years,
        persons=persons,
    )


#: Settling requires giving up land rights at every place of the points cases.
SURRENDER = np.ones(8, dtype=np.int64)


def _points_par(hpa: float, education: float, years: float) -> Any:
    """Parameters of a points settlement: households per agent, points per level and year."""
    return make_par(households_per_agent=hpa, points_education=education, points_years=years)


def test_settle_points_ranks_by_points() -> None:
    edu = [0, 3, 1, 2, 3, 0]
    yrs = [9, 1, 4, 2, 5, 0]  # points 10*edu + 3*yrs: 27, 33, 22, 26, 45, 0
    hh = _points_households(edu, yrs, [1] * 6)
    applicants = np.arange(6)
    quota = np.array([3.0])
    granted = settle_points(
        KEY,
        hh,
        applicants,
        np.zeros(6, dtype=np.int64),
        quota,
        _points_par(1.0, 10.0, 3.0),
        SURRENDER,
    )
    assert granted == 3
    np.testing.assert_array_equal(hh["hukou_place"] == 0, [True, True, False, False, True, False])
    won = hh["hukou_place"] == 0
    assert (hh["hukou_type"][won] == 1).all()
    assert (hh["land"][won] == 0).all()
    assert (hh["permit"][won] == 0).all()
    assert (hh["hukou_type"][~won] == 0).all()
    assert quota[0] == 0.0


def test_settle_points_stops_at_first_household_that_does_not_fit() -> None:
    hh = _points_households([3, 2, 1], [0, 0, 0], [2, 5, 1])
    quota = np.array([3.0])
    granted = settle_points(
        KEY,
        hh,
        np.arange(3),
        np.zeros(1, dtype=np.int64),
        quota,
        _points_par(1.0, 10.0, 3.0),
        SURRENDER,
    )
    assert granted == 2
    np.testing.assert_array_equal(hh["hukou_place"], [0, 5, 5])  # the third would have fitted
    assert quota[0] == 1.0


def test_settle_points_quota_is_in_real_persons() -> None:
    hh = _points_households([3, 2], [0, 0], [2, 1])
    quota = np.array([250.0])
    granted = settle_points(
        KEY,
        hh,
        np.arange(2),
        np.zeros(1, dtype=np.int64),
        quota,
        _points_par(100.0, 10.0, 3.0),
        SURRENDER,
    )
    assert granted == 2  # agent persons; 200 real persons
    assert quota[0] == 50.0
    np.testing.assert_array_equal(hh["hukou_place"], [0, 5])


def test_settle_points_quotas_per_city_and_unflagged_households() -> None:
    hh = _points_households([1, 2, 3, 1, 2, 3, 3], [0] * 7, [1] * 7, place=[0, 0, 0, 1, 1, 1, 0])
    applicants = np.arange(6)  # the last household did not apply
    gov = np.array([0, 1], dtype=np.int64)
    quota = np.array([2.0, 0.5])
    granted = settle_points(KEY, hh, applicants, gov, quota, _points_par(1.0, 10.0, 3.0), SURRENDER)
    assert granted == 2
    np.testing.assert_array_equal(hh["hukou_place"], [5, 0, 0, 5, 5, 5, 5])
    np.testing.assert_array_equal(quota, [0.0, 0.5])


def test_settle_points_breaks_ties_by_keyed_draw() -> None:
    n = 50
    hh = _points_households([2] * n, [3] * n, [1] * n)
    quota = np.array([5.0])
    settle_points(
        KEY,
        hh,
        np.arange(n),
        np.zeros(1, dtype=np.int64),
        quota,
        _points_par(1.0, 10.0, 3.0),
        SURRENDER,
    )
    draws = np.array([rng_py.uniform(int(KEY), i, L.DRAW_POINTS) for i in range(n)])
    expected = np.zeros(n, dtype=bool)
    expected[np.argsort(draws, kind="stable")[:5]] = True
    np.testing.assert_array_equal(hh["hukou_place"] == 0, expected)


def test_settle_points_without_applicants() -> None:
    hh = _points_households([1], [1], [1])
    quota = np.array([10.0])
    assert (
        settle_points(
            KEY,
            hh,
            np.zeros(0, dtype=np.int64),
            np.zeros(1, dtype=np.int64),
            quota,
            _points_par(1.0, 1.0, 1.0),
            SURRENDER,
        )
        == 0
    )
    assert quota[0] == 10.0


@pytest.mark.parametrize(
    "applicants",
    [
        np.array([1, 0]),  # not increasing
        np.array([0, 0]),  # repeated
        np.array([-1]),
        np.array([3]),  # beyond the three households
        np.array([0, 1], dtype=np.int32),  # not the household step's int64
        np.zeros((1, 1), dtype=np.int64),
    ],
)
def test_settle_points_rejects_applicants_that_are_not_increasing_indices(
    applicants: np.ndarray,
) -> None:
    hh = _points_households([1, 2, 3], [0, 0, 0], [1, 1, 1])
    quota = np.array([10.0])
    with pytest.raises(ValueError, match="applicants"):
        settle_points(
            KEY, hh, applicants, np.zeros(1, dtype=np.int64), quota, _points_par(1.0, 1.0, 1.0),
            SURRENDER,
        )  # fmt: skip
    assert quota[0] == 10.0
    assert (hh["hukou_place"] == 5).all()


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 300),
    n_gov=st.integers(1, 4),
    hpa=st.sampled_from([1.0, 7.5, 400.0]),
)
def test_settle_points_never_exceeds_quota(seed: int, n: int, n_gov: int, hpa: float) -> None:
    rng = np.random.default_rng(seed)
    place = rng.integers(0, n_gov, n)
    hh = _points_households(
        list(rng.integers(0, 4, n)),
        list(rng.integers(0, 30, n)),
        list(rng.integers(1, 9, n)),
        place=list(place),
    )
    applied = rng.random(n) < 0.7
    quota0 = rng.uniform(0.0, 40.0, n_gov) * hpa
    quota = quota0.copy()
    gov = np.arange(n_gov, dtype=np.int64)
    edu, yrs = hh["education"].astype(float), hh["years_here"].astype(float)
    granted = settle_points(
        KEY, hh, np.flatnonzero(applied), gov, quota, _points_par(hpa, 10.0, 3.0), SURRENDER
    )
    won = hh["hukou_place"] != 5
    assert not (won & ~applied).any()
    assert granted == int(hh["persons"][won].sum())
    for g in range(n_gov):
        mine = won & (place == g)
        used = float(hh["persons"][mine].sum()) * hpa
        assert used <= quota0[g] + 1e-9
        assert quota[g] == pytest.approx(quota0[g] - used)
        assert quota[g] >= 0.0
        # Winners of a city outrank (or tie with) every applicant of that city left out.
        score = 10.0 * edu + 3.0 * yrs
        losers = applied & (place == g) & ~won
        if mine.any() and losers.any():
            assert score[mine].min() >= score[losers].max()


# --- input checks of the public wrappers ----------------------------------------------------------
def _valid_inputs(n: int = 10, n_places: int = 3) -> dict[str, Any]:
    hh = make_households(n, place=np.arange(n) % n_places, hukou_place=0)
    return {
        "key": KEY,
        "households": hh,
        "places": make_places(make_pf([30.0] * n_places, [114.0] * n_places), make_pi(n_places)),
        "par": make_par(candidates=2),
        "access": np.full((n_places, 1), 0.5),
        "grav_cdf": np.cumsum(np.ones((n_places, n_places), dtype=np.float32), axis=1),
        "origin_start": np.zeros(n_places + 1, dtype=np.int64),
        "origin_members": np.zeros(0, dtype=np.int64),
        "net": np.zeros((n_places, n_places), dtype=np.int32),
        "vital": quiet_vital(),
        "leavers": np.zeros(n, dtype=np.uint32),
    }


def test_valid_inputs_are_accepted() -> None:
    counts, applicants = household_step(**_valid_inputs())
    assert counts.shape == (L.N_COUNT,)
    assert counts.dtype == np.int64
    assert applicants.shape == (0,)
    assert applicants.dtype == np.int64


def _places_with(**fields: Any) -> Any:
    return _valid_inputs()["places"]._replace(**fields)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("places", tuple(_valid_inputs()["places"])),  # a plain tuple, not the record
        ("places", _places_with(fertility_factor=np.zeros(2))),
        ("leavers", np.zeros(9, dtype=np.uint32)),
        ("leavers", np.zeros(10, dtype=np.uint8)),
        ("vital", quiet_vital()._replace(leaving=np.zeros(L.KID_AGES))),  # no one leaves at 31
        ("vital", quiet_vital()._replace(mortality=np.ones((2, 5)))),
        ("vital", quiet_vital(fertility=1.5)),
        ("places", _places_with(quality=np.zeros((3, 1)))),
        ("places", _places_with(rule=np.zeros(3))),  # float codes
        ("places", _places_with(lat=[0.0, 0.0, 0.0])),
        ("par", np.zeros(31)),  # the old parameter vector
        ("par", make_par(candidates=0)),
        ("net", np.zeros((3, 2), dtype=np.int32)),
        ("origin_start", np.zeros(3, dtype=np.int64)),
        ("parents", np.array([3, 2])),
        ("access", np.zeros((3, 0))),
        ("access", np.zeros((2, 2))),
        ("access", np.array([0.5, 0.6, 0.7])),  # the old layout: one schedule for all places
        ("grav_cdf", np.ones((1, 4))),
        ("grav_cdf", np.ones((1, 3))),  # the old layout: one row per province
        ("grav_cdf", np.cumsum(np.ones((3, 3)), axis=1)),  # float64: a second compilation
        ("netp", np.zeros((1, 2), dtype=np.int32)),
        ("guide", np.zeros((2, 65), dtype=np.uint16)),
        ("n_chunks", 0),
    ],
)
def test_household_step_rejects_wrong_shapes(name: str, value: Any) -> None:
    inputs = _valid_inputs()
    inputs[name] = value
    with pytest.raises(ValueError):
        household_step(**inputs)


def test_household_step_rejects_household_arrays_of_unequal_length() -> None:
    inputs = _valid_inputs()
    hh = inputs["households"]
    for name in FIELDS:
        if name != "place":
            hh[name] = np.concatenate([hh[name], hh[name]])
    with pytest.raises(ValueError):
        household_step(**inputs)


def test_aggregate_rejects_bad_sizes_and_indices() -> None:
    hh = make_households(10, place=np.arange(10) % 3)
    with pytest.raises(ValueError):
        aggregate(hh, 0, 1)
    with pytest.raises(ValueError):
        aggregate(hh, 3, 0)
    with pytest.raises(ValueError):
        aggregate(hh, 2, 1)  # place 2 is out of range
    bad = make_households(10, place=0, hukou_place=np.arange(10) % 4)
    with pytest.raises(ValueError):
        aggregate(bad, 3, 1)
    neg = make_households(10, place=0, hukou_place=0)
    neg["place"][3] = -1
    with pytest.raises(ValueError):
        aggregate(neg, 3, 1)


def test_aggregate_rejects_household_arrays_of_unequal_length() -> None:
    hh = make_households(10, place=np.arange(10) % 3)
    hh["place"] = hh["place"][:5].copy()
    with pytest.raises(ValueError):
        aggregate(hh, 3, 1)


def test_origin_index_rejects_household_arrays_of_unequal_length() -> None:
    hh = make_households(10, place=np.arange(10) % 3, hukou_place=1)
    hh["place"] = hh["place"][:5].copy()
    with pytest.raises(ValueError):
        origin_index(hh, 3)


_OUT_OF_RANGE = {
    "origin_index_hukou_place": """
        hh = make(20, place=0, hukou_place=7)  # hukou place 7 of a 3-place world
        origin_index(hh, 3)
    """,
    "household_step_place": """
        hh = make(20, place=9, hukou_place=0)  # place 9 of a 3-place world
        household_step(KEY, hh, places, par, access, grav, start, members, net)
    """,
    "household_step_netp_rows": """
        hh = make(20, place=2, hukou_place=2)
        places = places._replace(province=np.array([0, 1, 2]))  # three provinces, one row
        netp = np.zeros((1, 3), dtype=np.int32)
        household_step(KEY, hh, places, par, access, grav, start, members, net, netp=netp)
    """,
}

_PRELUDE = """
import numpy as np
from urbsim.households import Households
from urbsim.inputs import PARAM_FIELDS, PLACE_FIELDS, PlaceInputs, params_from
from urbsim.kernels.aggregate import origin_index
from urbsim.kernels.household_step import household_step as _household_step
from urbsim.rng import make_year_key
from urbsim.dynamics.demography import VitalRates

def household_step(*args, **kw):
    ages = np.arange(101)
    zero = np.zeros((2, 101))
    leave = np.zeros(32); leave[-1] = 1.0
    vital = VitalRates(zero, zero, leave)
    leavers = np.zeros(args[1]["place"].shape[0], dtype=np.uint32)
    return _household_step(*args, vital=vital, leavers=leavers, **kw)

def make(n, place, hukou_place):
    one = np.ones(n, dtype=np.int64)
    return Households(place=one * place, zone=one, hukou_place=one * hukou_place,
                      hukou_type=0 * one, years_here=one, permit=0 * one, head_age=40 * one,
                      education=one, kids=0 * one, children=0 * one, land=0 * one,
                      persons=2 * one, years_away=0 * one, left_behind=0 * one,
                      match=0 * one).as_dict()

KEY = make_year_key(1, 2011)
places = PlaceInputs(*(np.zeros(3, f.kind) for f in PLACE_FIELDS.values()))
places = places._replace(quality=np.ones(3), employment=np.ones(3))
values = dict.fromkeys(PARAM_FIELDS, 0.0)
values.update(distance_floor_km=50.0, size_reference=1.0, move_base=1.0, move_age=[1.0] * 4,
              land_region=[0.0] * 4,
              move_unemployed=1.0, households_per_agent=1.0, candidates=2)
par = params_from(values)
access = np.full((3, 1), 0.5); grav = np.cumsum(np.ones((3, 3), dtype=np.float32), axis=1)
start = np.zeros(4, dtype=np.int64); members = np.zeros(0, dtype=np.int64)
net = np.zeros((3, 3), dtype=np.int32)
try:
{body}
except ValueError:
    print("REJECTED")
"""


@pytest.mark.parametrize("case", sorted(_OUT_OF_RANGE))
def test_out_of_range_indices_are_rejected(case: str) -> None:
    """Run in a subprocess: the unchecked call may crash the interpreter."""
    body = textwrap.indent(textwrap.dedent(_OUT_OF_RANGE[case]).strip(), "    ")
    proc = subprocess.run(
        [sys.executable, "-c", _PRELUDE.format(body=body)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, f"crashed with {proc.returncode}: {proc.stderr[-500:]}"
    assert "REJECTED" in proc.stdout


# --- gravity sampling through guide tables --------------------------------------------------------
def _first_above(row: np.ndarray, u: float) -> int:
    """The sampling rule without a guide: the first index whose cumulative weight exceeds
    ``u * total`` (the last index when none does), as ``bisect_right`` finds it."""
    import bisect

    return min(bisect.bisect_right(row.tolist(), u * float(row[-1])), row.shape[0] - 1)


@settings(max_examples=60, deadline=None)
@given(
    weights=st.lists(
        st.one_of(st.just(0.0), st.floats(1e-9, 1e6, allow_nan=False)), min_size=1, max_size=60
    ),
    n_buckets=st.sampled_from([1, 2, 8, 64, 8192]),
    us=st.lists(st.floats(0.0, 1.0, exclude_max=True), min_size=1, max_size=30),
)
def test_guided_gravity_sampling_equals_the_full_search(
    weights: list[float], n_buckets: int, us: list[float]
) -> None:
    """Same index as a search over the whole row for any draw, at bucket edges too, with
    zero weights (flat stretches of the cumulative row) and all-zero rows."""
    from urbsim.kernels.gravity import gravity_guide, sample_gravity

    row = np.cumsum(np.asarray(weights)).astype(np.float32)
    guide = gravity_guide(row[None, :], n_buckets)
    edges = [b / n_buckets for b in range(n_buckets)][:50]
    for u in us + edges + [np.nextafter(e, 0.0) for e in edges[1:]]:
        assert sample_gravity(row[None, :], guide, 0, u) == _first_above(row, u), u


@settings(max_examples=60, deadline=None)
@given(
    weights=st.lists(
        st.one_of(st.just(0.0), st.floats(1e-9, 1e6, allow_nan=False)), min_size=1, max_size=80
    ),
    rows=st.integers(1, 3),
    n_buckets=st.sampled_from([1, 2, 4, 16, 64, 1024]),
)
def test_guide_by_searches_equals_the_guide_by_sweeps(
    weights: list[float], rows: int, n_buckets: int
) -> None:
    """The binary search per bucket edge (few buckets) fills the table the sweep of the row
    fills, entry for entry, flat stretches and all-zero rows included."""
    from urbsim.kernels.gravity import _fill_guide

    base = np.cumsum(np.asarray(weights))
    cdf = np.stack([base * (r + 1) for r in range(rows)]).astype(np.float32)
    if rows > 1:
        cdf[-1] = 0.0
    swept = np.empty((rows, n_buckets + 1), dtype=np.uint16)
    searched = np.empty_like(swept)
    _fill_guide(cdf, swept, False)
    _fill_guide(cdf, searched, True)
    np.testing.assert_array_equal(searched, swept)


def test_guide_buckets_follow_the_draws_per_row() -> None:
    """About one bucket per expected gravity draw of a row, a power of two, within the
    memory bound and the largest table; one bucket (a search of the whole row) when a row
    expects under two draws."""
    from urbsim.kernels.gravity import GUIDE_BUCKETS, _searches_cheaper, guide_buckets

    assert guide_buckets(500_000, 2870) == 64  # 0.25 * 500,000 / 2,870 = 43.6 draws a row
    assert guide_buckets(495_000, 2870) == 64
    assert guide_buckets(10_000, 2870) == 1
    assert guide_buckets(0, 2870) == 1
    assert guide_buckets(50_000_000, 2870) == 512  # all rows within GUIDE_BYTES
    assert guide_buckets(10**9, 1) == GUIDE_BUCKETS
    for n, rows in ((1, 1), (3000, 20), (12_345, 7), (10**7, 300)):
        b = guide_buckets(n, rows)
        assert b >= 1 and b & (b - 1) == 0
    # Searching pays below about n / log2(n) buckets.
    assert _searches_cheaper(2870, 64) and not _searches_cheaper(2870, 512)


def test_gravity_guide_needs_a_power_of_two() -> None:
    from urbsim.kernels.gravity import gravity_guide

    with pytest.raises(ValueError, match="power of two"):
        gravity_guide(np.ones((1, 3)), 3)


@pytest.mark.parametrize("n_buckets", [1, 256, 8192])
def test_household_step_does_not_depend_on_the_guide_buckets(
    tiny_world: Any, kernel_inputs: Any, monkeypatch: pytest.MonkeyPatch, n_buckets: int
) -> None:
    """The guide tables only speed up the gravity draws: any bucket count gives the same year,
    many movers and gravity candidates included."""
    from urbsim.kernels import household_step as hs

    world = tiny_world(n_places=20, n_households=3000, seed=8)
    k = kernel_inputs(world, 8, candidates=6, move_base=1.0, network_sampling_share=0.3)
    args = [k[name] for name in ("places", "par", "access", "grav_cdf")]
    rest = [k["origin_start"], k["origin_members"], k["net"]]

    def run(buckets: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        monkeypatch.setattr(hs, "guide_buckets", lambda n, rows: buckets)
        hh = {name: arr.copy() for name, arr in world.households.as_dict().items()}
        leavers = np.zeros(len(world.households), dtype=np.uint32)
        counts, _ = household_step(KEY, hh, *args, *rest, vital=k["vital"], leavers=leavers)
        return counts, hh

    reference = run(2)
    counts, hh = run(n_buckets)
    assert reference[0][L.C_MOVES] > 100
    np.testing.assert_array_equal(counts, reference[0])
    for name in FIELDS:
        np.testing.assert_array_equal(hh[name], reference[1][name])
