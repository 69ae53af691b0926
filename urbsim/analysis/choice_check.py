"""Does the sampled destination choice reproduce the full-choice-set logit?

A mover chooses among a few fixed alternatives and ``K`` sampled candidates, each sampled place
weighted by its draws over ``K`` times its proposal probability (:mod:`urbsim.kernels.choice`).
This module computes, for one household of a small world, the probabilities of the logit over
*every* alternative (:func:`full_logit_probabilities`, written afresh with numpy from
``docs/ODD.md`` section 7.13) and the frequencies with which the model's own code paths choose
each alternative (:func:`sampled_choice_frequencies`: the Numba household step or the Mesa
reference engine, over many seeds and identical households), and compares the two with a
chi-square goodness-of-fit test (:func:`goodness_of_fit`). :func:`example_case` builds the
small world of the check (8 places in 2 provinces, a migrant network, a floating household).

The sampled choice equals the full logit in expectation of its weights, not exactly: the
probability of an alternative is a ratio whose denominator is estimated from ``K`` draws, and
the ratio's bias falls as ``1/K``. The example case uses enough candidates for that bias to stay
below what the test can detect at its sample size.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

import mesa
import numpy as np
from scipy import stats

from urbsim import rng_py
from urbsim.dynamics.demography import VitalRates
from urbsim.inputs import PARAM_FIELDS, PLACE_FIELDS, PlaceInputs, YearInputs, params_from
from urbsim.kernels import aggregate as A
from urbsim.kernels import gravity as G
from urbsim.kernels import layout as L
from urbsim.kernels.household_step import household_step
from urbsim.rng import make_year_key
from urbsim.state import FIELDS, RURAL, URBAN, Households
from urbsim.world.base import EARTH_RADIUS_KM

#: An alternative: (place, zone).
Alternative = tuple[int, int]


@dataclass(frozen=True)
class ChoiceCase:
    """A small world for the check: the year's inputs, the households (they define the migrant
    network) and the rows of the identical households whose choices are counted."""

    inputs: YearInputs
    households: Households
    members: np.ndarray


def _fixed_alternatives(hh: dict[str, int]) -> tuple[list[Alternative], int]:
    """Stay, return home, local town, home town (the documented rules), and where aggregates
    start."""
    options = [(hh["place"], hh["zone"])]
    home = (hh["hukou_place"], RURAL if hh["hukou_type"] == 0 and hh["land"] == 1 else URBAN)
    if home != options[0]:
        options.append(home)
    aggregate_from = len(options)
    if hh["zone"] == RURAL and home != (hh["place"], URBAN):
        options.append((hh["place"], URBAN))
    if hh["hukou_place"] != hh["place"] and home[1] == RURAL:
        options.append((hh["hukou_place"], URBAN))
    return options, aggregate_from


def _row(households: Households, i: int) -> dict[str, int]:
    return {name: int(getattr(households, name)[i]) for name in FIELDS}


def full_logit_probabilities(
    inputs: YearInputs, households: Households, i: int
) -> tuple[list[Alternative], np.ndarray]:
    """The logit over the full choice set of household ``i``: its fixed alternatives, then the
    urban zone of every other place in place order.

    Parameters
    ----------
    inputs
        The year's inputs (parameters, place values, the network of the last count).
    households
        The households; row ``i`` is the mover.
    i
        The mover's row.

    Returns
    -------
    alternatives : list of (place, zone)
    probabilities : numpy.ndarray
        Choice probability of each alternative (sums to 1).
    """
    hh = _row(households, i)
    fixed, aggregate_from = _fixed_alternatives(hh)
    n = inputs.places.quality.shape[0]
    others = [(j, URBAN) for j in range(n) if (j, URBAN) not in fixed]
    alternatives = fixed + others
    place = np.array([a[0] for a in alternatives])
    zone = np.array([a[1] for a in alternatives])
    aggregate = np.arange(len(alternatives)) >= aggregate_from
    v = _utilities(inputs, hh, place, zone, aggregate)
    v += _match_utilities(inputs, hh, i, place)
    v -= np.where((place == hh["place"]) & (zone == hh["zone"]), _job_end_cost(inputs, hh, i), 0.0)
    w = np.exp(v - v.max())
    return alternatives, w / w.sum()


def mean_full_logit_probabilities(
    inputs: YearInputs, households: Households, members: np.ndarray, seeds: Iterable[int]
) -> tuple[list[Alternative], np.ndarray]:
    """The full logit's probabilities averaged over the ``members`` (households alike but for
    their rows) and the ``seeds``: what :func:`sampled_choice_frequencies` should find over
    the same members and seeds when the households' matches with places (drawn per household,
    place and year; docs/ODD.md 7.13) make each one's probabilities its own.

    Returns
    -------
    alternatives : list of (place, zone)
        Those of the first member (every member must have the same).
    probabilities : numpy.ndarray
    """
    alternatives: list[Alternative] | None = None
    total: np.ndarray | None = None
    count = 0
    for seed in seeds:
        year_inputs = replace(inputs, seed=int(seed))
        for i in np.asarray(members).tolist():
            alt, p = full_logit_probabilities(year_inputs, households, int(i))
            if alternatives is None:
                alternatives, total = alt, np.zeros_like(p)
            elif alt != alternatives:
                raise ValueError("the members must have the same choice set")
            total += p
            count += 1
    if alternatives is None or total is None:
        raise ValueError("no members or no seeds")
    return alternatives, total / count


def _match_utilities(inputs: YearInputs, hh: dict[str, int], i: int, j: np.ndarray) -> np.ndarray:
    """The match term of each alternative's place (docs/ODD.md 7.13): at the place where the
    household lives away, its own match; at any other place but the hukou place, the level of
    this year's draw (seed and year of ``inputs``, the household's row ``i``); none at home."""
    sd = inputs.par.place_match_sd
    if sd == 0.0:
        return np.zeros(j.shape[0])
    key = rng_py.year_key(inputs.seed, inputs.year)
    u = np.array([rng_py.uniform(key, i, L.DRAW_MATCH0 + int(p)) for p in j])
    drawn = np.searchsorted(L.MATCH_BOUNDS, u, side="right") + L.MATCH_MIN
    level = np.where(j == hh["place"], hh["match"], drawn)
    return np.where(j == hh["hukou_place"], 0.0, sd * (level * L.MATCH_STEP))


def _job_end_cost(inputs: YearInputs, hh: dict[str, int], i: int) -> float:
    """What staying costs household ``i`` this year for the end of its job (docs/ODD.md 7.11,
    7.13): the moving cost of a household away if its job ended (away, in the urban zone, a
    head under 60, this year's draw below ``job_separation``), else 0."""
    b = inputs.par
    away = hh["place"] != hh["hukou_place"]
    if b.job_separation == 0.0 or not away or hh["zone"] != URBAN or hh["head_age"] >= 60:
        return 0.0
    key = rng_py.year_key(inputs.seed, inputs.year)
    if rng_py.uniform(key, i, L.DRAW_JOB_END) >= b.job_separation:
        return 0.0
    return b.moving_cost * b.moving_cost_away_share


def _utilities(
    inputs: YearInputs, hh: dict[str, int], j: np.ndarray, zj: np.ndarray, aggregate: np.ndarray
) -> np.ndarray:
    """Systematic utilities of alternatives ``(j, zj)`` for household ``hh`` (docs/ODD.md 7.13),
    vectorized over the alternatives."""
    b, pl = inputs.par, inputs.places
    cur, home = hh["place"], hh["hukou_place"]
    urban = zj == URBAN
    v = np.where(
        urban,
        b.beta_income * pl.log_income_urban[j]
        - b.beta_housing * pl.log_cost_urban[j]
        + b.beta_amenity * pl.amenity[j],
        b.beta_income * pl.log_income_rural[j] - b.beta_housing * pl.log_cost_rural[j],
    )
    permit_access = inputs.access[cur, min(hh["years_here"], inputs.access.shape[1] - 1)]
    acc = np.where(
        j == home,
        1.0,
        np.where((j == cur) & (hh["permit"] == 1), permit_access, b.service_base_access),
    )
    school = np.where(j == home, 1.0, pl.school_access[j])
    # Children left behind go to school at the hukou place only.
    at_school = np.where((j == home) | (hh["left_behind"] == 0), hh["children"], 0)
    v += b.beta_service * acc * pl.quality[j] * (1.0 + b.child_service_weight * at_school * school)
    v += np.where(aggregate, b.beta_size * (pl.log_size[j] - math.log(b.size_reference)), 0.0)
    dy = pl.lat[j] - pl.lat[cur]
    dx = (pl.lon[j] - pl.lon[cur]) * pl.coslat[cur]
    d = EARTH_RADIUS_KM * np.sqrt(dy * dy + dx * dx)
    floor = b.distance_floor_km
    cost = b.beta_distance * np.log(np.maximum(d, floor) / floor)
    cost += b.beta_province * (pl.province[j] != pl.province[cur])
    v -= np.where((j != cur) & (j != home), cost, 0.0)
    entry = np.where(pl.province[j] != pl.province[cur], pl.entry_across[j], pl.entry_within[j])
    v += np.where(j != home, entry, 0.0)
    move_cost = b.moving_cost * (b.moving_cost_away_share if cur != home else 1.0)
    v -= np.where((j != cur) | (zj != hh["zone"]), move_cost, 0.0)
    v -= b.beta_outside_province * (pl.province[j] != pl.province[home])
    hpa = b.households_per_agent
    # Living away, the household's agent is in the count where it lives: the other agents
    # count, and its agent's other households at the share of its hukou place's agents there.
    own_agent = (j == cur) & (home != cur)
    counted = inputs.network[home, j]
    same_place = np.maximum(counted - own_agent, 0)
    same_province = np.maximum(inputs.network_province[pl.province[home], j] - own_agent, 0)
    n_origin = max(int(inputs.origin_start[home + 1] - inputs.origin_start[home]), 1)
    copies = np.where(own_agent, max(hpa - 1.0, 0.0) * counted / n_origin, 0.0)
    v += b.beta_network * np.log1p(same_place * hpa + copies)
    v += b.beta_network_province * np.log1p(same_province * hpa)
    v += np.where(j == home, b.home_preference, 0.0)
    # The attachment growing with age (above 30 at home, stay_age); away, the return terms
    # too (the check's places employ everyone, so no unemployment term).
    years = hh["head_age"] - 30.0
    if home != cur:
        own = b.home_age * years
        own -= b.return_years_away * math.log1p(hh["years_away"])
        own += b.return_left_behind * hh["left_behind"]
    else:  # staying: the slope above 30 is stay_age
        own = (b.home_age if years < 0 else b.stay_age) * years
    v += np.where(j == home, own, 0.0)
    return v


def sampled_choice_frequencies(
    inputs: YearInputs,
    households: Households,
    members: np.ndarray,
    seeds: Iterable[int],
    engine: str = "numba",
    correction: bool = True,
) -> dict[Alternative, int]:
    """How often the model's own code chooses each alternative: one year of every household
    with each seed (the year of ``inputs``), counting where the ``members`` end up.

    The inputs must make every household consider moving and change nothing else before the
    choice (as :func:`example_case` does: propensity 1, no births or deaths, no return hazard;
    a ``behaviour`` that sets ``return_rate`` above 0 sends some home before their choice).

    Parameters
    ----------
    inputs, households
        The case (households are copied, never changed).
    members
        Rows whose choices are counted.
    seeds
        Scenario seeds, one year each.
    engine
        ``"numba"`` (:func:`urbsim.kernels.household_step.household_step`) or ``"mesa"``
        (:class:`urbsim.engines.mesa_engine.MesaEngine`).
    correction
        False drops the sampling correction (to show that the check detects its absence).

    Returns
    -------
    dict
        Number of choices of each (place, zone) reached.
    """
    if engine not in ("numba", "mesa"):
        raise ValueError(f"engine must be 'numba' or 'mesa', got {engine!r}")
    counts: dict[Alternative, int] = {}
    for seed in seeds:
        year_inputs = replace(inputs, seed=int(seed))
        after = _one_year(year_inputs, households.copy(), engine, correction)
        chosen = zip(after.place[members].tolist(), after.zone[members].tolist(), strict=True)
        for alternative in chosen:
            counts[alternative] = counts.get(alternative, 0) + 1
    return counts


def _one_year(
    inputs: YearInputs, households: Households, engine: str, correction: bool
) -> Households:
    if engine == "mesa":
        from urbsim.engines.mesa_engine import MesaEngine

        mesa_engine = MesaEngine(mesa.Model(), households, sampling_correction=correction)
        return mesa_engine.step(inputs, households).households
    household_step(
        make_year_key(inputs.seed, inputs.year),
        households.as_dict(),
        inputs.places,
        inputs.par,
        inputs.access,
        inputs.gravity_cdf,
        inputs.origin_start,
        inputs.origin_members,
        inputs.network,
        net8=inputs.network8,
        netp=inputs.network_province,
        guide=inputs.gravity_guide,
        sampling_correction=correction,
        vital=inputs.vital,
        leavers=np.zeros(len(households), dtype=np.uint32),
    )
    return households


def goodness_of_fit(
    alternatives: list[Alternative],
    probabilities: np.ndarray,
    counts: dict[Alternative, int],
    min_expected: float = 5.0,
) -> tuple[float, int, float]:
    """Pearson's chi-square test of observed choice counts against probabilities.

    Alternatives expected fewer than ``min_expected`` times are pooled into one cell (the
    chi-square approximation needs a few expected counts per cell), which joins the rarest
    other cell if it is still below ``min_expected``; a choice outside ``alternatives`` raises.

    Returns
    -------
    statistic, degrees_of_freedom, p_value
    """
    unknown = set(counts) - set(alternatives)
    if unknown:
        raise ValueError(f"choices outside the choice set: {sorted(unknown)}")
    total = sum(counts.values())
    observed = np.array([counts.get(a, 0) for a in alternatives], dtype=np.float64)
    expected = np.asarray(probabilities, dtype=np.float64) * total
    small = expected < min_expected
    if small.any() and not small.all():
        pooled_o, pooled_e = observed[small].sum(), expected[small].sum()
        observed, expected = observed[~small], expected[~small]
        if pooled_e >= min_expected:
            observed = np.append(observed, pooled_o)
            expected = np.append(expected, pooled_e)
        else:  # still too rare for a cell of its own: joins the rarest remaining cell
            k = int(np.argmin(expected))
            observed[k] += pooled_o
            expected[k] += pooled_e
    statistic = float(((observed - expected) ** 2 / expected).sum())
    dof = observed.shape[0] - 1
    return statistic, dof, float(stats.chi2.sf(statistic, dof))


#: Places of :func:`example_case`: latitude, longitude (degrees), urban residents, province.
_EXAMPLE_PLACES = (
    (30.6, 104.1, 2.0e5, 0),
    (30.2, 105.0, 8.0e4, 0),
    (29.6, 106.5, 3.0e6, 0),
    (31.3, 103.2, 3.0e4, 0),
    (23.1, 113.3, 4.0e6, 1),
    (26.6, 106.7, 6.0e4, 1),
    (22.8, 114.0, 1.5e6, 1),
    (28.2, 113.0, 2.5e5, 1),
)


def example_case(
    movers: int = 500,
    candidates: int = 12,
    network_sampling_share: float = 0.3,
    households_per_agent: float = 1.0,
    behaviour: Mapping[str, float] | None = None,
    at_home: bool = False,
    head_age: int = 35,
    entry_constant: tuple[Iterable[float], Iterable[float]] | None = None,
) -> ChoiceCase:
    """The small world of the check: 8 places in 2 provinces (sizes from 30 thousand to 4
    million urban residents, 100 to 1,400 km apart), and ``movers`` identical floating
    households at place 0 whose hukou and land are at place 5 (another province), with 300
    earlier migrants from place 5 at place 2 and 200 at place 6 (the network). Every household
    considers moving; nothing else happens before the choice. The gravity proposal differs on
    purpose from the utility's size and distance terms, so that uncorrected sampling is biased.

    With ``households_per_agent`` above one, every agent stands for that many households: the
    earlier migrants are ``300 / households_per_agent`` and ``200 / households_per_agent``
    agents (so it must divide 100: the network is the same 300 and 200 households at every
    scale), the movers ``movers`` agents. A lone mover (``movers=1``)
    then meets the copies of its own agent in the network where it lives (docs/ODD.md 7.13:
    ``(m - 1) n / N_h``), which a case at one household per agent never exercises.
    ``behaviour`` sets other behaviour parameters (for example a larger ``beta_network``).
    With ``at_home`` the movers live at their hukou place 5 instead, in its rural zone with
    their land (the attachment of those who stay, 7.13); ``head_age`` is the movers' head's age.
    ``entry_constant`` gives the places' destination constants (util, one per place) for
    movers from the same province and from another (zero without).
    """
    lat, lon, size, province = (np.array(c) for c in zip(*_EXAMPLE_PLACES, strict=True))
    n = lat.shape[0]
    entry = (np.zeros(n), np.zeros(n)) if entry_constant is None else entry_constant
    if not households_per_agent > 0 or 100 % households_per_agent:
        raise ValueError(f"households_per_agent must divide 100, got {households_per_agent}")
    earlier = [round(k / households_per_agent) for k in (300, 200)]
    place = np.concatenate([np.zeros(movers), np.full(earlier[0], 2), np.full(earlier[1], 6)])
    zone = np.ones_like(place)
    age = np.full_like(place, 35)  # 30-44
    age[:movers] = head_age
    if at_home:
        place[:movers], zone[:movers] = 5, RURAL
    households = Households(
        **{name: np.zeros(place.shape[0]) for name in FIELDS}
        | {
            "place": place,
            "zone": zone,
            "hukou_place": np.full_like(place, 5),
            "land": np.ones_like(place),
            "years_here": np.full_like(place, 2),
            "children": np.ones_like(place),
            "persons": np.full_like(place, 3),
            "head_age": age,
            "kids": np.full_like(place, 1 << 8),  # one child aged 8: school age
        }
    )
    par = _example_params(candidates, network_sampling_share, households_per_agent, behaviour)
    places = _example_places(lat, lon, size, province, entry)
    return ChoiceCase(
        _example_inputs(places, par, households), households, np.arange(movers, dtype=np.int64)
    )


def _example_places(
    lat: np.ndarray,
    lon: np.ndarray,
    size: np.ndarray,
    province: np.ndarray,
    entry: tuple[Iterable[float], Iterable[float]],
) -> PlaceInputs:
    """The example's places: incomes, costs, quality and amenity drawn once (seed 1978)."""
    n = lat.shape[0]
    rng = np.random.default_rng(1978)
    return PlaceInputs(
        **{name: np.zeros(n) for name, f in PLACE_FIELDS.items() if f.kind is np.float64}
        | {
            "log_income_urban": np.log(rng.uniform(30e3, 60e3, n)),
            "log_income_rural": np.log(rng.uniform(10e3, 20e3, n)),
            "log_cost_urban": np.log(rng.uniform(20.0, 60.0, n)),
            "log_cost_rural": np.log(rng.uniform(5.0, 15.0, n)),
            "quality": rng.uniform(0.5, 1.0, n),
            "amenity": rng.uniform(0.0, 1.0, n),
            "employment": np.ones(n),
            "log_size": np.log(size),
            "lat": np.radians(lat),
            "lon": np.radians(lon),
            "coslat": np.cos(np.radians(lat)),
            "entry_within": np.asarray(list(entry[0]), dtype=np.float64),
            "entry_across": np.asarray(list(entry[1]), dtype=np.float64),
        },
        province=province.astype(np.int64),
        rule=np.zeros(n, dtype=np.int64),
        min_years=np.zeros(n, dtype=np.int64),
        gov=np.arange(n, dtype=np.int64),
        surrender=np.zeros(n, dtype=np.int64),
        permit_on=np.zeros(n, dtype=np.int64),
        permit_months=np.full(n, 6, dtype=np.int64),
    )


def _example_params(
    candidates: int, share: float, hpa: float, behaviour: Mapping[str, float] | None
) -> tuple[object, ...]:
    """Default behaviour, except: every household considers moving (and no return hazard
    sends one home before its choice), the proposal's exponents differ from the utility's, and
    ``behaviour``'s values."""
    from urbsim.scenario.schema import Behaviour

    values = Behaviour().model_dump() | {
        "move_base": 1.0,
        "move_age": [1.0] * 4,
        "move_unemployed": 1.0,
        "move_nonagricultural": 1.0,
        "move_away": 1.0,
        "move_tenure_decay": 0.0,
        "return_rate": 0.0,
        "candidates": candidates,
        "network_sampling_share": share,
        "size_reference": 1.0e4,
        "gravity_size_exponent": 1.0,
        "gravity_distance_exponent": 1.2,
        "households_per_agent": float(hpa),
        "requisition_share": 0.0,
        "service_base_access": 0.3,
        "seed": 0,
    }
    unknown = set(behaviour or {}) - set(values)
    if unknown:
        raise ValueError(f"not behaviour parameters of the case: {sorted(unknown)}")
    values |= dict(behaviour or {})
    assert set(values) == set(PARAM_FIELDS)
    return params_from(values)


def _example_inputs(places: PlaceInputs, par: tuple[object, ...], hh: Households) -> YearInputs:
    n = places.quality.shape[0]
    access = np.tile([0.5, 0.6, 0.7], (n, 1))
    c = A.count_households(hh.as_dict(), n, access.shape[1])
    size = np.exp(places.log_size) ** par.gravity_size_exponent
    decay = G.distance_decay(
        places.lat, places.lon, par.distance_floor_km, par.gravity_distance_exponent
    )
    cdf = G.gravity_rows(decay, size)
    return YearInputs(
        year=2011,
        seed=0,
        par=par,
        places=places,
        access=access,
        gravity_cdf=cdf,
        gravity_guide=G.gravity_guide(cdf, 64),
        network=c.net,
        network8=c.net8,
        network_province=A.province_network(
            c.origin_start, hh.place[c.origin_members], places.province
        ),
        origin_start=c.origin_start,
        origin_members=c.origin_members,
        quota=np.zeros(n),
        vital=_no_vital_events(),
    )


def _no_vital_events() -> VitalRates:
    """Schedules under which nobody is born or dies and no child under 31 leaves home: the
    year is the choice."""
    zero = np.zeros((2, L.MAX_AGE + 1))
    leaving = np.zeros(L.KID_AGES)
    leaving[-1] = 1.0  # the engines require it; the example's only child is 8
    return VitalRates(zero, zero, leaving)
