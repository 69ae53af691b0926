"""Return migration in the household-step kernel, on hand-built cases: the return utility's
terms (head age, years away, a head without a job, children left behind), the years away and
children left behind after a move or a settlement, and the return migrants counted.

The cases isolate the return decision: every household considers moving, every utility term but
the attachment to the hukou place and the return terms is zero, and each current place's gravity
row proposes only that place, so the choice set is {stay, return} and the return probability is
``1 / (1 + exp(-(home_preference + return term)))``. Frequencies over ``N`` households are held
to it within five binomial standard errors (at most 0.008 here); each term's case is chosen so
that the probability without the term lies more than two such tolerances away, so dropping the
term from the kernel fails its test (shown by doing it: see the module's ``_TERM_CASES``).

The return hazard (a household away goes home before its move decision) is tested the same way
with nobody considering moving (``move_base`` 0): each of its own terms in log odds
(``_HAZARD_CASES``), their sum, that the return utility's terms do not enter, the counters and
state of the returners, and saturation without overflow.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from urbsim.dynamics.demography import VitalRates
from urbsim.households import FIELDS, Households, bytes_per_household
from urbsim.inputs import PARAM_FIELDS, PLACE_FIELDS, PlaceInputs, params_from
from urbsim.kernels import layout as L
from urbsim.kernels.aggregate import origin_index
from urbsim.kernels.gravity import distance_km
from urbsim.kernels.household_step import household_step
from urbsim.rng import make_year_key
from urbsim.scenario.schema import Behaviour

KEY = make_year_key(20101101, 2016)
#: Households per case: five binomial standard errors are at most 0.008.
N = 100_000
#: Places: 0 and 2 where the households live (nobody has a job at 0, everybody at 2), 1 their
#: hukou place.
JOBLESS, HOME, EMPLOYED = 0, 1, 2


def tolerance(p: float, n: int = N) -> float:
    """Five binomial standard errors of a frequency over ``n`` draws."""
    return 5.0 * math.sqrt(max(p * (1.0 - p), 1e-4) / n)


def logistic(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def households(n: int, **fields: Any) -> dict[str, np.ndarray]:
    """``n`` urban households at place 2 with agricultural hukou at place 1 and no land (their
    home alternative is place 1's urban zone), head 30, two years away; fields override."""
    values: dict[str, Any] = {
        "place": EMPLOYED,
        "zone": 1,
        "hukou_place": HOME,
        "hukou_type": 0,
        "years_here": 2,
        "permit": 0,
        "head_age": 30,
        "education": 1,
        "kids": 0,
        "children": 0,
        "land": 0,
        "persons": 2,
        "years_away": 2,
        "left_behind": 0,
        "match": 0,
    }
    values.update(fields)
    if "children" in fields:
        # School-age children aged 8, 9, ...: still of school age after the year's ageing.
        values["kids"] = ((1 << np.asarray(fields["children"])) - 1) << 8
        values["persons"] = 2 + np.asarray(fields["children"])
    arrays = {k: np.broadcast_to(np.asarray(v), (n,)).copy() for k, v in values.items()}
    return Households(**arrays).as_dict()


def params(**values: Any) -> Any:
    """Every household considers moving; all utility terms zero except those given."""
    base: dict[str, Any] = dict.fromkeys(PARAM_FIELDS, 0.0)
    base.update(
        move_base=1.0,
        move_age=[1.0] * 4,
        move_unemployed=1.0,
        move_nonagricultural=1.0,
        move_away=1.0,
        distance_floor_km=50.0,
        size_reference=1.0,
        households_per_agent=1.0,
        candidates=1,
        land_region=[1.0] * 4,
        hukou_logit_scale=1.0,
    )
    base.update(values)
    return params_from(base)


def places(**columns: Any) -> Any:
    """Three places (one province, one government each); employment 0 at place 0, 1 elsewhere."""
    n = 3
    values: dict[str, Any] = {
        name: np.zeros(n) for name, f in PLACE_FIELDS.items() if f.kind is np.float64
    }
    values.update(
        quality=np.ones(n),
        employment=np.array([0.0, 1.0, 1.0]),
        school_access=np.ones(n),
        fertility_factor=np.ones(n),
        lat=np.radians([30.0, 30.5, 31.0]),
        lon=np.radians([114.0, 115.0, 112.5]),
    )
    values["coslat"] = np.cos(values["lat"])
    ints = {
        "province": 0,
        "rule": L.RULE_CLOSED,
        "min_years": 0,
        "surrender": 0,
        "permit_on": 0,
        "permit_months": 0,
    }
    values.update({k: np.full(n, v, dtype=np.int64) for k, v in ints.items()})
    values["gov"] = np.arange(n, dtype=np.int64)
    values.update(columns)
    return PlaceInputs(**values)


def own_place_gravity(n: int = 3) -> np.ndarray:
    """Gravity rows (cumulative) that propose only the household's current place."""
    return np.where(np.arange(n)[None, :] >= np.arange(n)[:, None], 1.0, 0.0)


def step(hh: dict[str, np.ndarray], par: Any, pl: Any = None, grav: Any = None) -> np.ndarray:
    """One household step without births, deaths or leaving home; returns the counters."""
    pl = places() if pl is None else pl
    n_places = pl.quality.shape[0]
    grav = own_place_gravity(n_places) if grav is None else grav
    grav = np.asarray(grav, dtype=np.float32)  # the dtype of gravity_rows (exact here)
    start, members = origin_index(hh, n_places)
    ages = L.MAX_AGE + 1
    mortality = np.zeros((2, ages))
    mortality[:, -1] = 1.0
    leave = np.zeros(L.KID_AGES)
    leave[-1] = 1.0
    n = hh["place"].shape[0]
    return household_step(
        KEY,
        hh,
        pl,
        par,
        np.full((n_places, 1), 0.5),
        grav,
        start,
        members,
        np.zeros((n_places, n_places), dtype=np.int32),
        vital=VitalRates(np.zeros((2, ages)), mortality, leave),
        leavers=np.zeros(n, dtype=np.uint32),
    ).counts


def returned(hh: dict[str, np.ndarray]) -> float:
    return float((hh["place"] == HOME).mean())


# --- the return utility, term by term --------------------------------------------------------
HOME_PREFERENCE = 0.2
#: Gravity rows that propose place 2 from the hukou place 1 (and each place itself otherwise).
FROM_HOME_TO_2 = np.array([[1.0, 1.0, 1.0], [0.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
#: (term, the households' fields, the parameter, its value, the term's utility).
_TERM_CASES = [
    ("age", {"head_age": 60}, "home_age", 0.04, 0.04 * (60 - 30)),
    ("age-below-30", {"head_age": 18}, "home_age", 0.08, 0.08 * (18 - 30)),
    ("years-away", {"years_away": 12}, "return_years_away", 0.5, -0.5 * math.log1p(12)),
    ("unemployed", {"place": JOBLESS}, "return_unemployed", 1.2, 1.2),
    ("left-behind", {"children": 1, "left_behind": 1}, "return_left_behind", 1.0, 1.0),
]


@pytest.mark.parametrize(
    ("fields", "name", "value", "term"),
    [c[1:] for c in _TERM_CASES],
    ids=[c[0] for c in _TERM_CASES],
)
def test_return_probability_has_the_term(
    fields: dict[str, int], name: str, value: float, term: float
) -> None:
    # Years away: 2 unless the case sets them (their term is zero without return_years_away).
    hh = households(N, **fields)
    step(hh, params(home_preference=HOME_PREFERENCE, **{name: value}))
    p = logistic(HOME_PREFERENCE + term)
    p_without = logistic(HOME_PREFERENCE)
    assert abs(p - p_without) > 2 * tolerance(p)  # the case can tell the term from its absence
    assert abs(returned(hh) - p) < tolerance(p), (returned(hh), p, p_without)


def test_return_terms_apply_only_away_from_the_hukou_place() -> None:
    """A household at its hukou place leaving for place 2 (probability 1/2 with every term
    zero there): the terms of a return would make it stay, but they are not its to have."""
    hh = households(N, place=HOME, hukou_place=HOME, years_away=0, head_age=70, children=1)
    big = {"return_years_away": 5.0, "return_unemployed": 5.0, "return_left_behind": 5.0}
    step(hh, params(**big), grav=FROM_HOME_TO_2)
    left = float((hh["place"] == EMPLOYED).mean())
    assert abs(left - 0.5) < tolerance(0.5)


@pytest.mark.parametrize(("age", "slope"), [(60, 0.04), (18, 0.08)], ids=["old", "young"])
def test_age_attachment_applies_at_home_too(age: int, slope: float) -> None:
    """The attachment by age at home (Sjaastad 1962): with ``home_age`` 0.08 and
    ``stay_age`` 0.04, a young head leaves more than with no age term, at ``home_age`` per year
    below 30, and an old head stays more, at ``stay_age`` per year above 30 (``home_age`` is
    the slope away), by the logit of ``home_preference + slope * (age - 30)`` against a
    departure with every term zero."""
    hh = households(N, place=HOME, hukou_place=HOME, years_away=0, head_age=age)
    par = params(home_preference=HOME_PREFERENCE, home_age=0.08, stay_age=0.04)
    step(hh, par, grav=FROM_HOME_TO_2)
    left = float((hh["place"] == EMPLOYED).mean())
    q = logistic(-(HOME_PREFERENCE + slope * (age - 30)))
    assert abs(q - logistic(-HOME_PREFERENCE)) > 2 * tolerance(q)  # tells the term apart
    assert abs(left - q) < tolerance(q), (left, q)


def test_a_return_pays_no_distance_or_border_cost_a_departure_does() -> None:
    """Distance deters what migrants do not know and the social distance to strangers, which
    a return home does not meet (docs/ODD.md 7.12): only the attachment decides it here."""
    pl = places(province=np.array([0, 1, 0], dtype=np.int64))  # home in another province
    par = params(home_preference=HOME_PREFERENCE, beta_distance=1.0, beta_province=2.0)
    d = distance_km(pl.lat[EMPLOYED], pl.lon[EMPLOYED], pl.coslat[EMPLOYED], pl.lat[HOME],
                    pl.lon[HOME])  # fmt: skip
    cost = 1.0 * math.log(d / 50.0) + 2.0
    hh = households(N)
    step(hh, par, pl)
    p = logistic(HOME_PREFERENCE)
    assert abs(p - logistic(HOME_PREFERENCE - cost)) > 2 * tolerance(p)
    assert abs(returned(hh) - p) < tolerance(p)
    # Leaving home for place 2 pays them (and gives up the attachment).
    hh = households(N, place=HOME, hukou_place=HOME, years_away=0)
    step(hh, par, pl, FROM_HOME_TO_2)
    d = distance_km(pl.lat[HOME], pl.lon[HOME], pl.coslat[HOME], pl.lat[EMPLOYED],
                    pl.lon[EMPLOYED])  # fmt: skip
    q = logistic(-(1.0 * math.log(d / 50.0) + 2.0) - HOME_PREFERENCE)
    assert abs(float((hh["place"] == EMPLOYED).mean()) - q) < tolerance(q)


def test_old_jobless_head_with_children_left_behind_returns_more_than_young_employed() -> None:
    """With the default behaviour's return terms, a head of 55 without a job whose children
    were left behind returns more often than a head of 25 with a job and no children, both
    three years away; each frequency matches its logit probability, and the gap exceeds the
    sum of the two tolerances."""
    b = Behaviour()
    terms = {
        name: getattr(b, name)
        for name in ("home_age", "return_years_away", "return_unemployed", "return_left_behind")
    }
    par = params(home_preference=b.home_preference, **terms)
    old = households(N, place=JOBLESS, head_age=55, years_away=3, children=1, left_behind=1)
    young = households(N, place=EMPLOYED, head_age=25, years_away=3)
    step(old, par)
    step(young, par)
    base = b.home_preference - b.return_years_away * math.log1p(3)
    p_old = logistic(base + b.home_age * 25 + b.return_unemployed + b.return_left_behind)
    p_young = logistic(base - b.home_age * 5)
    assert abs(returned(old) - p_old) < tolerance(p_old)
    assert abs(returned(young) - p_young) < tolerance(p_young)
    assert returned(old) - returned(young) > tolerance(p_old) + tolerance(p_young)


def test_return_migrants_counter_rises_with_the_return_terms() -> None:
    """The ``C_RETURN_MIGRANTS`` counter (persons moving back to their hukou place) counts the
    returns and rises when the return terms favour going home."""
    fields = {"place": JOBLESS, "head_age": 50, "children": 1, "left_behind": 1}
    without = households(N, **fields)
    with_terms = households(N, **fields)
    counts_without = step(without, params())
    counts_with = step(
        with_terms, params(home_age=0.02, return_unemployed=0.5, return_left_behind=0.5)
    )
    persons = int(without["persons"][0])
    for hh, counts in ((without, counts_without), (with_terms, counts_with)):
        assert counts[L.C_RETURN_MIGRANTS] == persons * int((hh["place"] == HOME).sum())
        assert counts[L.C_RETURNS] == int((hh["place"] == HOME).sum())
    p = logistic(0.02 * 20 + 0.5 + 0.5)
    assert counts_with[L.C_RETURN_MIGRANTS] / persons / N > 0.5 + tolerance(0.5) + tolerance(p)


# --- years away and children left behind after the year ---------------------------------------
def test_return_and_staying_away_update_the_family_state() -> None:
    """Returners are home: no years away, no children left behind; households that stay away
    count one more year (capped at 255) and keep their children where they are."""
    n = 20_000
    years = np.where(np.arange(n) % 2 == 0, 4, 255)
    hh = households(n, years_away=years, children=1, left_behind=1)
    step(hh, params(home_preference=0.0))
    back = hh["place"] == HOME
    assert 0.45 < back.mean() < 0.55
    assert (hh["years_away"][back] == 0).all() and (hh["left_behind"][back] == 0).all()
    assert (hh["years_away"][~back] == np.minimum(years[~back] + 1, 255)).all()
    assert (hh["left_behind"][~back] == 1).all()


def test_moving_between_two_places_away_counts_one_more_year_away() -> None:
    hh = households(N, years_away=7, children=1, left_behind=1)
    grav = np.array([[1.0, 1.0, 1.0], [0.0, 1.0, 1.0], [1.0, 1.0, 1.0]])  # from 2: propose 0
    step(hh, params(home_preference=-0.0), grav=grav)
    moved = hh["place"] == JOBLESS
    assert moved.mean() > 0.2
    assert (hh["years_away"][moved] == 8).all() and (hh["left_behind"][moved] == 1).all()


@pytest.mark.parametrize(("hukou_type", "share"), [(0, 0.6), (1, 0.25)])
def test_leaving_the_hukou_place_leaves_children_behind_with_the_share_of_the_hukou_type(
    hukou_type: int, share: float
) -> None:
    """Households leaving their hukou place (to place 2, half of them) leave their school-age
    children there with the share of their hukou type; without school-age children nothing is
    left behind; their years away restart at 0."""
    children = np.where(np.arange(N) % 4 == 0, 0, 1)
    hh = households(N, place=HOME, hukou_type=hukou_type, years_away=0, children=children)
    grav = np.array([[1.0, 1.0, 1.0], [0.0, 0.0, 1.0], [0.0, 0.0, 1.0]])  # from 1: propose 2
    other = 0.9 if hukou_type == 1 else 0.05  # the other type's share must not be used
    names = ("left_behind_agricultural", "left_behind_nonagricultural")
    par = params(**{names[hukou_type]: share, names[1 - hukou_type]: other})
    step(hh, par, grav=grav)
    left = hh["place"] == EMPLOYED
    assert abs(left.mean() - 0.5) < tolerance(0.5)
    with_kids = left & (hh["children"] > 0)
    measured = float(hh["left_behind"][with_kids].mean())
    assert abs(measured - share) < tolerance(share, int(with_kids.sum()))
    assert (hh["left_behind"][left & (hh["children"] == 0)] == 0).all()
    assert (hh["left_behind"][~left] == 0).all()
    assert (hh["years_away"] == 0).all()


def test_settling_away_ends_the_years_away() -> None:
    """Under an open rule, half the applicants settle (net benefit 0): they are at their hukou
    place now, with no years away, no children left behind and no match with a place away; the
    others count one more year and keep their match."""
    hh = households(N, years_away=6, children=1, left_behind=1, land=1, match=-9)
    par = params(move_base=0.0, hukou_apply_rate=1.0)
    step(hh, par, pl=places(rule=np.full(3, L.RULE_OPEN, dtype=np.int64)))
    settled = hh["hukou_place"] == EMPLOYED
    assert abs(settled.mean() - 0.5) < tolerance(0.5)
    assert (hh["years_away"][settled] == 0).all() and (hh["left_behind"][settled] == 0).all()
    assert (hh["years_away"][~settled] == 7).all() and (hh["left_behind"][~settled] == 1).all()
    assert (hh["match"][settled] == 0).all() and (hh["match"][~settled] == -9).all()


def test_children_ageing_out_of_school_are_no_longer_left_behind() -> None:
    """A left-behind child of 14 turns 15 this year: no school-age child is left behind."""
    hh = households(1000, children=1, left_behind=1)
    hh["kids"][:] = 1 << 14
    step(hh, params(move_base=0.0))
    assert (hh["children"] == 0).all() and (hh["left_behind"] == 0).all()


def test_household_state_stays_within_24_bytes() -> None:
    """The two fields of return migration are one byte each; the whole state fits the issue's
    budget of 24 bytes per household."""
    assert FIELDS["years_away"].dtype == np.uint8 and FIELDS["left_behind"].dtype == np.uint8
    assert bytes_per_household() <= 24


# --- the return hazard ------------------------------------------------------------------------
#: The hazard at the reference household (head 30, first year away, a job, no children left
#: behind): odds 1/9, a binary logit of constant ln(1/9).
RATE = 0.1
#: (term, the households' fields, the parameter, its value, the term's log odds), on households
#: two years away unless the case sets the years (their term is zero without its parameter).
_HAZARD_CASES = [
    ("age", {"head_age": 55}, "return_hazard_age", 0.05, 0.05 * (55 - 30)),
    ("age-below-30", {"head_age": 20}, "return_hazard_age", 0.1, 0.1 * (20 - 30)),
    ("years-away", {"years_away": 9}, "return_hazard_years_away", 0.6, -0.6 * math.log1p(9)),
    ("unemployed", {"place": JOBLESS}, "return_hazard_unemployed", 1.5, 1.5),
    ("left-behind", {"children": 1, "left_behind": 1}, "return_hazard_left_behind", 1.2, 1.2),
]


@pytest.mark.parametrize(
    ("fields", "name", "value", "term"),
    [c[1:] for c in _HAZARD_CASES],
    ids=[c[0] for c in _HAZARD_CASES],
)
def test_return_hazard_has_its_terms(
    fields: dict[str, int], name: str, value: float, term: float
) -> None:
    """Nobody considers moving (``move_base`` 0), so only the hazard sends households home:
    with probability ``1 / (1 + exp(-(ln(rate / (1 - rate)) + term)))``; each case's term
    changes it by more than two tolerances, so a hazard without the term fails."""
    hh = households(N, **fields)
    par = params(move_base=0.0, return_rate=RATE, **{name: value})
    counts = step(hh, par)
    base = math.log(RATE / (1.0 - RATE))
    p = logistic(base + term)
    assert abs(p - RATE) > 2 * tolerance(p)
    assert abs(returned(hh) - p) < tolerance(p), (returned(hh), p)
    assert counts[L.C_CONSIDERED] == 0


def test_return_hazard_adds_its_terms_and_ignores_the_return_utility() -> None:
    """A head of 50 without a job, nine years away, children left behind: the log odds of the
    reference household plus each hazard term (0.04 x 20 - 0.3 ln 10 + 0.7 + 0.4). The return
    utility's own terms, large here as a calibration may set them for the move decision
    (``home_age`` 1, ``return_years_away`` 2, ``return_unemployed`` 10,
    ``return_left_behind`` 8), do not enter: the
    hazard has terms of its own since they sent half the migrants home in a year."""
    hh = households(N, head_age=50, place=JOBLESS, years_away=9, children=1, left_behind=1)
    utility = {"home_age": 1.0, "return_years_away": 2.0, "return_unemployed": 10.0,
               "return_left_behind": 8.0}  # fmt: skip
    hazard = {"return_hazard_age": 0.04, "return_hazard_years_away": 0.3,
              "return_hazard_unemployed": 0.7, "return_hazard_left_behind": 0.4}  # fmt: skip
    step(hh, params(move_base=0.0, return_rate=RATE, **utility, **hazard))
    base = math.log(RATE / (1.0 - RATE))
    p = logistic(base + 0.04 * 20 - 0.3 * math.log1p(9) + 0.7 + 0.4)
    assert abs(p - RATE) > 2 * tolerance(p)
    assert abs(returned(hh) - p) < tolerance(p), (returned(hh), p)


def test_return_hazard_counts_and_resets_the_returners() -> None:
    """Every return of the hazard is a move home counted in the return migrants and in the
    hazard's own counter, to the home alternative's zone (rural for a household with land,
    urban without), with no years there, no permit, nothing away."""
    n = 20_000
    land = (np.arange(n) % 2).astype(np.uint8)
    hh = households(n, land=land, permit=1, years_here=5, years_away=5, children=1,
                    left_behind=1)  # fmt: skip
    counts = step(hh, params(move_base=0.0, return_rate=0.3))
    back = hh["place"] == HOME
    persons = int(hh["persons"][0])
    assert abs(back.mean() - 0.3) < tolerance(0.3)
    assert counts[L.C_HAZARD_RETURN_MIGRANTS] == counts[L.C_RETURN_MIGRANTS]
    assert counts[L.C_RETURN_MIGRANTS] == persons * int(back.sum())
    assert counts[L.C_RETURNS] == counts[L.C_MOVES] == int(back.sum())
    assert (hh["zone"][back] == 1 - hh["land"][back]).all()
    for field in ("years_here", "permit", "years_away", "left_behind"):
        assert (hh[field][back] == 0).all(), field
    assert (hh["years_away"][~back] == 6).all() and (hh["permit"][~back] == 1).all()


def test_return_hazard_spares_households_at_home_and_is_off_at_rate_zero() -> None:
    """At its hukou place a household has nowhere to return to; at ``return_rate`` 0 a
    household away goes home only by its move decision (none here: nobody considers)."""
    at_home = households(N, place=HOME, hukou_place=HOME, years_away=0)
    counts = step(at_home, params(move_base=0.0, return_rate=0.5))
    assert counts[L.C_MOVES] == 0 and (at_home["place"] == HOME).all()
    away = households(N, head_age=59, place=JOBLESS, children=1, left_behind=1)
    terms = {"return_hazard_age": 0.5, "return_hazard_unemployed": 5.0,
             "return_hazard_left_behind": 5.0}  # fmt: skip
    counts = step(away, params(move_base=0.0, return_rate=0.0, **terms))
    assert counts[L.C_MOVES] == 0 and returned(away) == 0.0


def test_return_hazard_saturates_without_overflow() -> None:
    """Log odds beyond the range of ``exp`` (ln(1/9) + 0.5 x 69 + 700 = 732.3, where
    ``exp`` overflows above 709.8) give a hazard of 1, not NaN: every household goes home.
    The schema caps the terms lower; the kernel must not depend on it."""
    hh = households(1000, head_age=99, place=JOBLESS, children=1, left_behind=1)
    par = params(move_base=0.0, return_rate=0.1, return_hazard_age=0.5,
                 return_hazard_unemployed=700.0)  # fmt: skip
    step(hh, par)
    assert returned(hh) == 1.0
