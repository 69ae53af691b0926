"""The two household engines give identical runs, household by household and year by year.

The Numba kernels (``engine = "numba"``) and the Mesa reference agents (``engine = "mesa"``) are
run side by side on the same scenario and world. After every year every household field must be
equal, and so must the year's counters, the points conversions and the quotas left; at the end the
national and places tables must be equal to the last bit.

Cases cover five policy timelines on the synthetic world (several sizes) and on hand-built tiny
worlds, each with three seeds:

* ``baseline``: ``scenarios/baseline.toml`` as it stands (2010-2024);
* ``points``: every size class runs a points scheme with small quotas (they bind), and the permit
  access schedule changes length along the timeline;
* ``open``: every city open, a big county-town budget, growth poles and renewal;
* ``moves``: very high move rates and network sampling, so that many logit choices and network
  draws happen;
* ``settle``: the settlement decision: land surrender (everywhere, in districts, nowhere),
  hukou-only benefits by class and year, a capped permit access, dispersed land values.

A mutation test changes one rule of the Mesa engine at a time and checks that the comparison
fails, so that a pass means something. Every run also checks that the return-migration state
moved: households left school-age children behind on leaving their hukou place, and at the end
no household at its hukou place counts years away or children left behind.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pandas.testing import assert_frame_equal

from urbsim import rng_py
from urbsim.constants_cache import ConstantsCache
from urbsim.engines import mesa_settlement, numba_engine
from urbsim.engines.mesa_engine import Household, MesaEngine, YearContext, bernoulli_draw
from urbsim.engines.numba_engine import NumbaEngine
from urbsim.households import FIELDS, NON_AGRICULTURAL, URBAN, Households
from urbsim.kernels import layout as L
from urbsim.model import UrbanizationModel
from urbsim.scenario import LoadedScenario, load_scenario, validate
from urbsim.state import AGE_GROUP_STARTS
from urbsim.world import World

#: End-to-end runs, sweeps or subprocesses: outside `make test-fast`.
pytestmark = pytest.mark.slow

BASELINE = Path(__file__).resolve().parents[2] / "scenarios" / "baseline.toml"

#: Counter names by ``C_*`` index, for messages.
COUNTERS = {getattr(L, name): name[2:].lower() for name in dir(L) if name.startswith("C_")}
SETTLEMENT_KEYS = ("super_large", "mega", "large_i", "large_ii", "medium", "small", "county_town")


# --- scenarios ------------------------------------------------------------------------------------
def _points(quotas: tuple[float, ...], min_years: tuple[int, ...]) -> dict[str, Any]:
    """Every size class (and county towns) on a points scheme."""
    return {
        key: {"rule": "points", "min_years": years, "quota_per_10k": quota}
        for key, quota, years in zip(SETTLEMENT_KEYS, quotas, min_years, strict=True)
    }


#: Points everywhere with small quotas (a few households a year in the largest cities, none in the
#: smallest), and a permit access schedule of one, two, six, one and then ten years.
POINTS: dict[str, Any] = {
    "name": "points-everywhere",
    "end_year": 2021,
    "policy": {
        "settlement": _points(
            (150.0, 200.0, 300.0, 400.0, 600.0, 800.0, 1000.0), (2, 2, 1, 1, 1, 0, 0)
        ),
        "permit": {"enabled": True, "min_residence_months": 12, "access": [0.5]},
    },
    "timeline": {
        "2012": {"permit": {"access": [0.45, 0.6]}},
        "2014": {
            "settlement": _points(
                (80.0, 120.0, 200.0, 300.0, 400.0, 500.0, 600.0), (3, 2, 2, 1, 1, 1, 0)
            ),
            "permit": {"min_residence_months": 0, "access": [0.4, 0.5, 0.6, 0.7, 0.8, 0.9]},
            "service_funding_base": "permanent",
        },
        "2016": {"permit": {"min_residence_months": 24, "access": [0.8]}},
        "2018": {
            "settlement": _points(
                (300.0, 400.0, 500.0, 600.0, 800.0, 1000.0, 2000.0), (1, 1, 0, 0, 0, 0, 0)
            ),
            "permit": {"enabled": False},
        },
        "2019": {
            "permit": {
                "enabled": True,
                "min_residence_months": 6,
                "access": [0.3, 0.35, 0.4, 0.5, 0.55, 0.6, 0.7, 0.8, 0.9, 1.0],
            }
        },
    },
}

_OPEN = {key: {"rule": "open", "min_years": 0} for key in SETTLEMENT_KEYS}
#: Conditional rules in 2010, then every city open, permits, a big county-town programme with many
#: pilots, strong growth poles and old-community renewal.
OPEN: dict[str, Any] = {
    "name": "open-everything",
    "end_year": 2021,
    "timeline": {
        "2012": {
            "settlement": _OPEN,
            "permit": {"enabled": True, "min_residence_months": 0, "access": [0.7, 0.9, 1.0]},
            "service_funding_base": "permanent",
        },
        "2013": {
            "county_town": {"budget": 5000.0, "pilot_counties": 600},
            "growth_poles": {"rule": "capitals_and_super_mega", "productivity_boost": 0.3},
            # Pilots named by province: every Hubei county town in, none of Sichuan's.
            "places": [
                {"code": 420000, "name": "Hubei", "county_town_pilot": True},
                {"code": 510000, "name": "四川省", "county_town_pilot": False},
            ],
        },
        "2016": {
            "renewal": {"households_per_year": 3e7, "subsidy_share": 0.8},
            "governance_efficiency": 1.5,
            "growth_poles": {"rule": "capitals", "productivity_boost": 0.5},
        },
    },
}

#: Most households consider moving every year and most candidates come from the network.
MOVES: dict[str, Any] = {
    "name": "high-moves",
    "end_year": 2020,
    "behaviour": {
        "move_base": 0.9,
        "network_sampling_share": 0.8,
        "move_tenure_decay": 0.01,
        # Urban-hukou households consider moving less often than rural ones, and households
        # away less often than at home (below 1, so the multiplier is not lost to propensities
        # above 1).
        "move_nonagricultural": 0.6,
        "move_away": 0.7,
        # ... the more so the more recently they arrived (a fading short of 1).
        "move_away_tenure_decay": 0.2,
        # Living outside the hukou province costs, staying included.
        "beta_outside_province": 1.5,
        # Moves across a province border lose pull year by year.
        "entry_across_trend": 0.3,
        # Destination constants fitted to the world's own migrants: every alternative but the
        # hukou place gets its place's, staying away included.
        "destination_constants": True,
        # Households away pay part of the moving cost (a return and a change of zone too).
        "moving_cost_away_share": 0.4,
        # A household's match with its place away (drawn per place and year for the others);
        # the start year's migrants' matches are drawn given that they are away.
        "place_match_sd": 1.2,
        # Jobs of households away end (they weigh a move; staying costs the search).
        "job_separation": 0.4,
        "candidates": 8,
        # At home the attachment grows less above 30 than away (stay_age below home_age).
        "home_age": 0.08,
        "stay_age": 0.01,
    },
    "policy": {
        "settlement": {"large_i": {"rule": "points", "min_years": 1, "quota_per_10k": 300.0}}
    },
    "timeline": {
        "2013": {"permit": {"enabled": True, "min_residence_months": 0, "access": [0.5, 0.7]}},
        "2016": {"settlement": {"medium": {"rule": "open", "min_years": 0}}},
    },
}

#: Rules of named places (synthetic world): Beijing's points scheme and a cap that binds (its
#: school, housing and quota channels), Shanghai's cap tightened in 2015, Guangdong conditional
#: but its first prefecture on points; permit rules by place (Guangdong's own schedule and
#: months, none in Beijing, Hubei's from 2013 while the national permits are off), governance,
#: county-town and renewal programmes of named units.
CAPS: dict[str, Any] = {
    "name": "population-caps",
    "end_year": 2020,
    "behaviour": {"move_base": 0.5, "child_service_weight": 2.0},
    "policy": {
        "permit": {"enabled": True, "min_residence_months": 0, "access": [0.5, 0.7]},
        "places": [
            {
                "code": 110000,
                "name": "Beijing",
                "permit": {"enabled": False},
                "settlement": {"rule": "points", "min_years": 1, "quota_per_10k": 200.0},
                "population_cap": {
                    "residents": 2.0e7,
                    "trigger": 0.5,
                    "school_access": 0.1,
                    "demolition": 0.05,
                },
            },
            {"code": 310000, "name": "上海市", "population_cap": {"residents": 2.6e7}},
            {
                "code": 440000,
                "name": "广东省",
                "settlement": {"rule": "conditional"},
                "permit": {"min_residence_months": 24, "access": [0.1, 0.3, 0.95]},
            },
            {
                "code": 440100,
                "name": "Guangdong P01",
                "settlement": {"rule": "points"},
                "governance_efficiency": 1.6,
            },
        ],
    },
    "timeline": {
        "2012": {"permit": {"enabled": False}},
        "2013": {
            "places": [
                {"code": 420000, "name": "Hubei", "permit": {"enabled": True}},
                {
                    "code": 440000,
                    "name": "广东省",
                    "permit": {"enabled": True},
                    "county_town_budget": 400.0,
                },
            ]
        },
        "2015": {
            "places": [
                {
                    "code": 310000,
                    "name": "上海市",
                    "population_cap": {"residents": 1.5e7},
                    "renewal_households": 2.0e6,
                },
                {"code": 440100, "name": "Guangdong P01", "settlement": {"quota_per_10k": 300.0}},
            ]
        },
    },
}

#: Points and conditional rules that local governments move each year, both ways (their
#: openness responds strongly to labour, population and fiscal signals; tightening allowed).
LOCAL: dict[str, Any] = {
    "name": "local-responses",
    "end_year": 2020,
    "policy": {
        "settlement": _points(
            (150.0, 200.0, 300.0, 400.0, 600.0, 800.0, 1000.0), (4, 4, 3, 3, 2, 2, 2)
        ),
        "local_response": {
            "enabled": True,
            "weight_labour": 50.0,
            "weight_population": 50.0,
            "weight_fiscal": 3.0,
            "weight_rivals": 0.9,
            "adjustment": 1.0,
            "max_change_years": 3,
            "quota_factor": 5.0,
            "allow_tightening": True,
        },
    },
    "timeline": {"2014": {"settlement": {"medium": {"rule": "conditional", "min_years": 3}}}},
}

#: The settlement decision in all its parts: land surrender everywhere, then in districts only,
#: then nowhere; hukou-only benefits that change by class and year; a permit access schedule
#: above its cap; dispersed land values by region; many applicants, a sharp logit; points
#: schemes (migrants only) next to conditional rules (migrants and locals).
SETTLE: dict[str, Any] = {
    "name": "settlement",
    "end_year": 2021,
    "behaviour": {
        "hukou_apply_rate": 0.6,
        "hukou_logit_scale": 0.7,
        "land_value": 1.2,
        "land_value_dispersion": 0.8,
        "land_region": [0.5, 1.0, 1.5, 2.5],
        # Settling in another province sheds the cost of living outside the hukou province.
        "beta_outside_province": 0.8,
    },
    "policy": {
        "land_surrender": "all",
        "settlement": {
            **{key: {"rule": "conditional", "min_years": 1} for key in SETTLEMENT_KEYS},
            "super_large": {"rule": "points", "min_years": 1, "quota_per_10k": 200.0},
            "mega": {"rule": "points", "min_years": 2, "quota_per_10k": 300.0},
        },
        "hukou_benefits": {
            "schooling": dict(
                zip(SETTLEMENT_KEYS, (0.9, 0.8, 0.6, 0.5, 0.3, 0.2, 0.1), strict=True)
            ),
            "home_purchase": dict(
                zip(SETTLEMENT_KEYS, (0.5, 0.4, 0.3, 0.0, 0.0, 0.0, 0.0), strict=True)
            ),
        },
        "permit": {"enabled": True, "min_residence_months": 0, "access": [0.6, 1.0]},
    },
    "timeline": {
        "2013": {"land_surrender": "districts", "permit": {"access_cap": 0.7}},
        "2015": {
            "land_surrender": "none",
            "settlement": {"medium": {"rule": "open", "min_years": 0}},
            "hukou_benefits": {"home_purchase": {"mega": 0.0, "large_i": 0.0}},
        },
        "2018": {"hukou_benefits": {"schooling": {"small": 0.0, "county_town": 0.0}}},
    },
}

SCENARIOS: dict[str, dict[str, Any]] = {
    "points": POINTS,
    "open": OPEN,
    "moves": MOVES,
    "caps": CAPS,
    "local": LOCAL,
    "settle": SETTLE,
}


@dataclass(frozen=True)
class Case:
    """One equivalence run: a policy timeline, a seed and a world.

    ``hpa`` sets the synthetic world's households per agent; ``tiny`` (keyword arguments of
    the ``tiny_world`` fixture's builder) replaces it with a hand-built world; ``quota_scale``
    multiplies every points quota of the scenario.
    """

    scenario: str
    seed: int
    hpa: float = 150000.0
    tiny: tuple[tuple[str, Any], ...] | None = None
    quota_scale: float = 1.0
    end_year: int | None = None

    @property
    def id(self) -> str:
        if self.tiny is None:
            world = f"synthetic-hpa{self.hpa:g}"
        else:
            tiny = dict(self.tiny)
            world = f"tiny-{tiny['n_places']}places-{tiny['n_households']}hh"
        end = "" if self.end_year is None else f"-to{self.end_year}"
        return f"{self.scenario}-seed{self.seed}-{world}{end}"

    def loaded(self, engine: str) -> LoadedScenario:
        """The case's scenario for ``engine``."""
        if self.scenario == "baseline":
            hpa = f"world.households_per_agent={self.hpa!r}"
            # The timeline's last change is in 2024; later years hold the 2024 policy.
            end = self.end_year or 2024
            return load_scenario(BASELINE, [hpa], seed=self.seed, end_year=end, engine=engine)
        data = {
            **_scale_quotas(SCENARIOS[self.scenario], self.quota_scale),
            "world": {"households_per_agent": self.hpa},
            "seed": self.seed,
            "engine": engine,
        }
        if self.end_year is not None:
            data["end_year"] = self.end_year
        return validate(data)

    def model(
        self,
        engine: str,
        tiny_world: Callable[..., World],
        constants_cache: ConstantsCache | None = None,
    ) -> UrbanizationModel:
        """A fresh model of the case (each engine gets its own world: the Numba engine writes
        the household arrays in place); ``tiny_world`` is the conftest builder;
        ``constants_cache`` where its destination constants are kept (none by default)."""
        world = None if self.tiny is None else tiny_world(**dict(self.tiny))
        return UrbanizationModel(self.loaded(engine), world=world, constants_cache=constants_cache)


def _scale_quotas(table: Any, scale: float) -> Any:
    """``table`` with every ``quota_per_10k`` multiplied by ``scale``."""
    if isinstance(table, dict):
        return {
            k: v * scale if k == "quota_per_10k" else _scale_quotas(v, scale)
            for k, v in table.items()
        }
    return table


def _tiny(seed: int, n_places: int, n_households: int, hpa: float) -> tuple[tuple[str, Any], ...]:
    return (
        ("n_places", n_places),
        ("n_households", n_households),
        ("seed", seed),
        ("hpa", hpa),
        ("floating_share", 0.35),
        ("dissolved_share", 0.02),
    )


CASES: list[Case] = [
    Case("baseline", 1, hpa=40000.0),
    Case("baseline", 20101101, hpa=80000.0),
    Case("baseline", 7, hpa=150000.0),
    Case("baseline", 8, hpa=150000.0, end_year=2035),
    Case("baseline", 3, tiny=_tiny(3, 24, 1500, 20000.0)),
    Case("points", 2, hpa=60000.0),
    Case("points", 5, hpa=100000.0),
    Case("points", 9, hpa=150000.0),
    # A tiny world has at most six (large) prefectures: smaller quotas make them bind there too.
    Case("points", 4, tiny=_tiny(4, 18, 1500, 20000.0), quota_scale=0.2),
    Case("points", 6, tiny=_tiny(6, 40, 2500, 8000.0), quota_scale=0.1),
    Case("open", 11, hpa=60000.0),
    Case("open", 12, hpa=100000.0),
    Case("open", 13, hpa=150000.0),
    Case("open", 14, tiny=_tiny(14, 30, 2000, 15000.0)),
    Case("moves", 21, hpa=120000.0),
    Case("moves", 22, hpa=150000.0),
    Case("moves", 24, hpa=60000.0, end_year=2022),
    Case("moves", 23, tiny=_tiny(23, 24, 1200, 20000.0)),
    Case("caps", 31, hpa=60000.0),
    Case("caps", 32, hpa=150000.0),
    Case("local", 41, hpa=100000.0),
    Case("local", 42, tiny=_tiny(42, 24, 1500, 20000.0), quota_scale=0.2),
    Case("settle", 51, hpa=60000.0),
    Case("settle", 52, hpa=150000.0),
    Case("settle", 53, tiny=_tiny(53, 30, 2000, 15000.0)),
]


# --- comparison -----------------------------------------------------------------------------------
def _row(households: Households, i: int) -> dict[str, int]:
    return {name: int(getattr(households, name)[i]) for name in FIELDS}


def first_difference(expected: Households, actual: Households, year: int) -> str | None:
    """Where two household states first differ (lowest household, then field order), or None.

    ``expected`` is the Numba engine's state, ``actual`` the Mesa engine's.
    """
    if len(expected) != len(actual):
        return f"year {year}: {len(expected)} households (numba) != {len(actual)} (mesa)"
    first: tuple[int, str] | None = None
    n_differ = np.zeros(len(expected), dtype=bool)
    for name in FIELDS:
        a, b = getattr(expected, name), getattr(actual, name)
        if a.dtype != b.dtype:
            return f"year {year}: field {name!r} has dtype {a.dtype} (numba) != {b.dtype} (mesa)"
        diff = a != b
        n_differ |= diff
        rows = np.flatnonzero(diff)
        if rows.size and (first is None or rows[0] < first[0]):
            first = (int(rows[0]), name)
    if first is None:
        return None
    i, name = first
    e, m = _row(expected, i), _row(actual, i)
    fields = [f for f in FIELDS if e[f] != m[f]]
    return (
        f"first difference: household {i}, year {year}, field {name!r}: "
        f"numba {e[name]} != mesa {m[name]} (fields differing for it: {fields}); "
        f"{int(n_differ.sum())} households differ in all.\n  numba: {e}\n  mesa:  {m}"
    )


def assert_same_households(numba: UrbanizationModel, mesa: UrbanizationModel) -> None:
    """Every household field equal (values and registry dtypes), naming the first difference."""
    year = mesa.year
    assert numba.year == year
    message = first_difference(numba.households, mesa.households, year) or ""
    assert len(numba.households) == len(mesa.households), message
    for name in FIELDS:
        np.testing.assert_array_equal(
            getattr(mesa.households, name),
            getattr(numba.households, name),
            err_msg=f"field {name!r}; {message}",
            strict=True,
        )
    assert not message, message


def assert_same_year(numba: UrbanizationModel, mesa: UrbanizationModel) -> None:
    """The households, the year's counters, points conversions and quotas left are equal."""
    assert_same_households(numba, mesa)
    year = mesa.year
    differ = [COUNTERS[k] for k in np.flatnonzero(numba.counters != mesa.counters)]
    np.testing.assert_array_equal(
        mesa.counters, numba.counters, err_msg=f"year {year}: counters {differ} differ", strict=True
    )
    assert mesa.points_conversions == numba.points_conversions, f"year {year}: points conversions"
    np.testing.assert_array_equal(
        mesa.flows, numba.flows, err_msg=f"year {year}: province flows differ", strict=True
    )
    np.testing.assert_array_equal(
        mesa.local_state.quota_left,
        numba.local_state.quota_left,
        err_msg=f"year {year}: quota left",
        strict=True,
    )


def run_side_by_side(
    case: Case, tiny_world: Callable[..., World], years: int | None = None
) -> tuple[UrbanizationModel, UrbanizationModel, np.ndarray, int]:
    """Step both engines year by year, comparing after every year; returns (numba, mesa), the
    counters summed over the run and the households that left children behind on leaving
    their hukou place (flag set during a year)."""
    # The destination constants are the model's, not the engine's (fitted from the start-year
    # migrants and the parameters, before either engine steps): the Mesa model reads the Numba
    # model's fit from a cache of the run's own (half the time of the cases that use them).
    with tempfile.TemporaryDirectory() as folder:
        cache = ConstantsCache(Path(folder))
        numba = case.model("numba", tiny_world, cache)
        mesa = case.model("mesa", tiny_world, cache)
    assert isinstance(numba.engine, NumbaEngine)
    assert isinstance(mesa.engine, MesaEngine)
    assert len(numba.households) == len(mesa.households) > 0
    assert_same_households(numba, mesa)
    end = numba.end_year if years is None else numba.start_year + years
    totals = np.zeros(L.N_COUNT, dtype=np.int64)
    left_behind = 0
    while numba.year < end:
        before = numba.households.left_behind.copy()
        numba.step()
        mesa.step()
        assert_same_year(numba, mesa)
        totals += numba.counters
        after = numba.households.left_behind[: before.shape[0]]
        left_behind += int(((after == 1) & (before == 0)).sum())
    return numba, mesa, totals, left_behind


@contextmanager
def points_spy(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[int, int]]]:
    """Record (applicants, households granted) of each points settlement of the Numba engine.

    The wrapper only observes: it calls the engine's own ``settle_points`` unchanged.
    """
    record: list[tuple[int, int]] = []
    original = numba_engine.settle_points

    def spy(key: Any, hh: dict[str, np.ndarray], idx: np.ndarray, *args: Any) -> int:
        persons = original(key, hh, idx, *args)
        granted = (hh["hukou_place"][idx] == hh["place"][idx]) & (
            hh["hukou_type"][idx] == NON_AGRICULTURAL
        )
        record.append((idx.size, int(granted.sum())))
        return persons

    monkeypatch.setattr(numba_engine, "settle_points", spy)
    yield record


# --- the equivalence runs -------------------------------------------------------------------------
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_engines_identical_every_year(
    case: Case, tiny_world: Callable[..., World], monkeypatch: pytest.MonkeyPatch
) -> None:
    with points_spy(monkeypatch) as points:
        numba, mesa, totals, left_behind = run_side_by_side(case, tiny_world)
    assert numba.year - numba.start_year >= 10
    assert_frame_equal(mesa.national_table(), numba.national_table(), check_exact=True)
    assert_frame_equal(mesa.places_table(), numba.places_table(), check_exact=True)
    assert_frame_equal(mesa.flows_table(), numba.flows_table(), check_exact=True)

    # The run exercised the rules it is meant to compare.
    national = numba.national_table().iloc[1:]
    for column in (
        "moves",
        "moves_considered",
        "births",
        "deaths",
        "settled_migrants",
        "households_formed",
    ):
        assert national[column].sum() > 0, column
    assert numba.flows_table()["households"].sum() > 0
    for counter in (L.C_DISSOLVED, L.C_LEFT_HOME, L.C_URBAN_BIRTHS, L.C_URBAN_DEATHS):
        assert totals[counter] > 0, COUNTERS[counter]
    assert national["return_moves"].sum() > 0 or case.tiny is not None
    # The return hazard (default return_rate) sent households home besides the move decisions.
    assert national["hazard_return_migrants"].sum() > 0 or case.tiny is not None
    # Return migration: children were left behind on leaving home; the state is consistent.
    hh = numba.households
    assert left_behind > 0
    at_home = hh.place == hh.hukou_place
    assert (hh.years_away[at_home] == 0).all() and (hh.left_behind[at_home] == 0).all()
    assert (hh.match[at_home] == 0).all()
    assert (hh.children[hh.left_behind == 1] > 0).all()
    assert (hh.years_away[~at_home & (hh.persons > 0)] > 0).any()
    if case.scenario != "open":
        assert national["insitu_reclassified"].sum() > 0
    if case.scenario in ("baseline", "points", "open"):
        assert national["permits_issued"].sum() > 0
    if case.scenario == "points":
        # Quotas bind: some years grant part of the applicants, not all of them.
        assert sum(g for _, g in points) > 0
        assert any(0 < g < a for a, g in points), points
    if case.scenario == "open":
        assert numba.central.pilots.size > 0 and numba.policy_arrays.pole.any()
        province = numba.place_table.province_code[numba.central.pilots]
        assert (province == 42).any() and not (province == 51).any()
    if case.scenario == "caps":
        # The caps bind (Beijing in full, Shanghai from 2015) and their school channel acts.
        pa = numba.policy_arrays
        assert pa.cap_pressure.max() == 1.0 and pa.school_access.min() < 0.2
        assert pa.demolition.max() > 0 and (pa.rule == L.RULE_POINTS).any()
        # Permits by place: issued in Guangdong and Hubei only after 2012, on their schedules.
        assert national["permits_issued"].loc[national["year"] >= 2013].sum() > 0
        province = numba.place_table.province_code
        assert set(province[pa.permit_on].tolist()) == {42, 44}
        assert (pa.access[province == 44, -1] == 0.85).all()  # capped at access_cap
        assert pa.county_town_budget.governed.sum() > 0 and pa.efficiency.max() == 1.6
    if case.scenario == "settle":
        assert national["local_conversions"].sum() > national["requisition_conversions"].sum()
        assert national["points_conversions"].sum() > 0 or case.tiny is not None
    if case.scenario == "moves":
        share = national["moves_considered"] / (national["agents"] * numba.hpa)
        assert share.min() > 0.3
        assert national["moves"].sum() > 0.1 * national["moves_considered"].sum()
        # Network sampling needs earlier migrants from the same hukou place.
        assert (national["floating_population"] > 0).all()
        # Jobs end, and some of those households move (job_separation 0.4).
        assert national["job_end_movers"].sum() <= national["job_ends"].sum()
        assert national["job_end_movers"].sum() > 0 or case.tiny is not None


# --- mutations: the comparison must catch a change of any single rule -----------------------------
def _utility_without_province(
    self: Household, place: int, zone: int, ctx: YearContext, aggregate: bool = False
) -> float:
    """The logit utility with the province-border term dropped."""
    v = _ORIGINAL["utility"](self, place, zone, ctx, aggregate)
    if place != self.place and ctx.places.province[place] != ctx.places.province[self.place]:
        v += ctx.par.beta_province
    return v


def _utility_without_own_match(
    self: Household, place: int, zone: int, ctx: YearContext, aggregate: bool = False
) -> float:
    """The logit utility without the household's match with the place it lives at away."""
    v = _ORIGINAL["utility"](self, place, zone, ctx, aggregate)
    if place == self.place != self.hukou_place and ctx.par.place_match_sd != 0.0:
        v -= ctx.par.place_match_sd * (self.match * L.MATCH_STEP)
    return v


def _staying_free_after_a_job_ends(
    self: Household, place: int, zone: int, ctx: YearContext, aggregate: bool = False
) -> float:
    """The logit utility in which staying costs nothing when the household's job ended."""
    v = _ORIGINAL["utility"](self, place, zone, ctx, aggregate)
    if self.job_ended and (place, zone) == (self.place, self.zone):
        v += ctx.par.moving_cost * ctx.par.moving_cost_away_share
    return v


def _jobs_end_at_any_age(self: Household, ctx: YearContext) -> bool:
    """Jobs of heads aged 60 or more end too."""
    age = self.decision_age
    self.decision_age = min(age, 59)
    try:
        return _ORIGINAL["job_ends"](self, ctx)
    finally:
        self.decision_age = age


def _match_kept_on_moving_on(self: Household, ctx: YearContext) -> None:
    """A move away keeps the old match instead of the new place's draw."""
    before = self.match
    _ORIGINAL["leave_or_return"](self, ctx)
    if self.next_place != self.hukou_place:
        self.match = before


def _utility_without_outside_province(
    self: Household, place: int, zone: int, ctx: YearContext, aggregate: bool = False
) -> float:
    """The logit utility without the cost of living outside the hukou province."""
    v = _ORIGINAL["utility"](self, place, zone, ctx, aggregate)
    if ctx.places.province[place] != ctx.places.province[self.hukou_place]:
        v += ctx.par.beta_outside_province
    return v


def _proposal_without_network(self: Household, place: int, ctx: YearContext) -> float:
    """The sampling correction as if every candidate came from the gravity proposal."""
    row = ctx.gravity[self.place]
    low = row[place - 1] if place > 0 else 0.0
    return (row[place] - low) / row[-1]


def _network_of_hukou_place_only(self: Household, place: int, ctx: YearContext) -> float:
    """The network term without the migrants from the same hukou province."""
    count = int(ctx.network[self.hukou_place, place])
    return ctx.par.beta_network * math.log1p(count * ctx.par.households_per_agent)


def _network_counting_the_household_itself(self: Household, place: int, ctx: YearContext) -> float:
    """The network term of the count as it is, the household's own agent included where it
    lives away (the rule before 2026-12-04)."""
    b = ctx.par
    same_place = int(ctx.network[self.hukou_place, place])
    same_province = int(ctx.network_province[ctx.places.province[self.hukou_place], place])
    v = b.beta_network * math.log1p(same_place * b.households_per_agent)
    return v + b.beta_network_province * math.log1p(same_province * b.households_per_agent)


def _network_of_the_other_agents_only(self: Household, place: int, ctx: YearContext) -> float:
    """The network term where the household lives away without its agent's other households
    (the rule of commit eb72a3b): the other agents only."""
    b = ctx.par
    own = int(place == self.place and self.place != self.hukou_place)
    same_place = max(int(ctx.network[self.hukou_place, place]) - own, 0)
    province = int(ctx.network_province[ctx.places.province[self.hukou_place], place])
    v = b.beta_network * math.log1p(same_place * b.households_per_agent)
    return v + b.beta_network_province * math.log1p(max(province - own, 0) * b.households_per_agent)


def _propensity(
    self: Household,
    u_employ: float,
    ctx: YearContext,
    age: int,
    by_hukou_type: bool = True,
    away: bool = True,
    fading: bool = True,
) -> float:
    """The move propensity on the head's age ``age``, with or without the urban-hukou and the
    away multipliers and the away multiplier's fading with the years here (the reference's
    ``move_propensity`` with every flag as given: its mutants below change one)."""
    b = ctx.par
    group = sum(1 for start in AGE_GROUP_STARTS if age >= start)
    p = b.move_base * b.move_age[group] * math.exp(-b.move_tenure_decay * self.years_here)
    if self.zone == URBAN and not u_employ < ctx.places.employment[self.place]:
        p = p * b.move_unemployed
    if by_hukou_type and self.hukou_type == NON_AGRICULTURAL:
        p = p * b.move_nonagricultural
    if away and self.place != self.hukou_place:
        multiplier = b.move_away
        if fading and b.move_away_tenure_decay != 0.0:
            fade = math.exp(-b.move_away_tenure_decay * self.years_here)
            multiplier = 1.0 + (b.move_away - 1.0) * fade
        p = p * multiplier
    return p


def _propensity_after_ageing(self: Household, u_employ: float, ctx: YearContext) -> float:
    """The move propensity evaluated on the head's age after this year's ageing."""
    return _propensity(self, u_employ, ctx, self.head_age)


def _propensity_same_for_both_hukou_types(
    self: Household, u_employ: float, ctx: YearContext
) -> float:
    """The move propensity without the urban-hukou multiplier."""
    return _propensity(self, u_employ, ctx, self.decision_age, by_hukou_type=False)


def _propensity_same_away_and_home(self: Household, u_employ: float, ctx: YearContext) -> float:
    """The move propensity without the multiplier of households away from their hukou place."""
    return _propensity(self, u_employ, ctx, self.decision_age, away=False)


def _propensity_away_not_fading(self: Household, u_employ: float, ctx: YearContext) -> float:
    """The move propensity with the away multiplier the same at every year here."""
    return _propensity(self, u_employ, ctx, self.decision_age, fading=False)


def _propensity_scaled(self: Household, u_employ: float, ctx: YearContext) -> float:
    """The move propensity off by a factor 1.001.

    A factor of 1.0000001 would flip a household's decision about once in ten million
    household-years (when its draw falls between the two propensities): no affordable run can
    see it. At 1.001 the high-move case flips a decision in its first year.
    """
    return _ORIGINAL["move_propensity"](self, u_employ, ctx) * 1.001


def _permit_without_half_year(
    self: Household, u: float, years: int, ctx: YearContext, tally: dict[str, int]
) -> None:
    """The permit rule counting completed years only (no six months' grace)."""
    if (
        ctx.places.permit_on[self.place] == 1
        and self.hukou_place != self.place
        and self.permit == 0
        and 12 * years >= ctx.places.permit_months[self.place]
        and u < ctx.par.permit_takeup
    ):
        self.permit = 1
        tally["permits"] += self.persons


def _access_of_hukou_place_schedule(self: Household, place: int, ctx: YearContext) -> float:
    """A permit holder entitled by the schedule of its hukou place, not of where it lives."""
    if place == self.place and self.permit == 1 and place != self.hukou_place:
        schedule = ctx.access[self.hukou_place]
        return schedule[min(self.years_here, len(schedule) - 1)]
    return _ORIGINAL["access_at"](self, place, ctx)


def _hukou_min_years_strict(
    self: Household,
    u: float,
    years: int,
    permit_before: int,
    ctx: YearContext,
    tally: dict[str, int],
) -> None:
    """The hukou rule asking for one year more than the city's minimum residence."""
    if ctx.rule[self.place] != "open" and years == ctx.places.min_years[self.place]:
        return
    _ORIGINAL["apply_for_hukou"](self, u, years, permit_before, ctx, tally)


def _insitu_keeps_land(self: Household, ctx: YearContext, tally: dict[str, int]) -> None:
    """In-situ reclassification where requisition leaves the land rights in place."""
    land = self.land
    _ORIGINAL["be_reclassified"](self, ctx, tally)
    self.land = land


def _points_reversed_ties(self: MesaEngine, ctx: YearContext, quota: np.ndarray) -> int:
    """Points settlement with ties between equal points broken by descending household index
    instead of the keyed draw (then ascending index)."""
    gov = ctx.places.gov
    applicants = self.households.select(lambda h: h.points_applicant)
    ranked = sorted(applicants, key=lambda h: (gov[h.place], -h.points(ctx.par), -h.hh_id))
    full: set[int] = set()
    granted = 0
    for h in ranked:
        h.points_applicant = False
        city = gov[h.place]
        if city in full:
            continue
        need = float(h.persons) * ctx.par.households_per_agent
        if quota[city] >= need:
            quota[city] -= need
            h.take_local_hukou(ctx)
            granted += h.persons
        else:
            full.add(city)
    return granted


def _flows_transposed(
    self: Household, tally: dict[str, int], province: list[int], flows: np.ndarray
) -> None:
    """The move recorded with origin and destination province swapped in the flow matrix."""
    transposed = flows.transpose(1, 0, 2)
    _ORIGINAL["settle_move"](self, tally, province, transposed)


def _returns_include_locals(
    self: Household, tally: dict[str, int], province: list[int], flows: np.ndarray
) -> None:
    """Return migrants counted also for locals changing zone at their hukou place."""
    if self.next_place == self.hukou_place == self.place and self.next_zone != self.zone:
        tally["return_migrants"] += self.persons
    _ORIGINAL["settle_move"](self, tally, province, flows)


def _probability_wider(net_benefit: float, scale: float) -> float:
    """The settlement logit at a scale 1 % wider."""
    return _ORIGINAL["probability"](net_benefit, scale * 1.01)


def _benefit_inside_the_province(
    access: float,
    place: int,
    hukou_place: int,
    children: int,
    local: bool,
    par: Any,
    pl: Any,
) -> float:
    """The benefit of a local hukou as if every migrant's hukou were in the place's province
    (no cost of living outside it shed)."""
    return _ORIGINAL["benefit"](access, place, place, children, local, par, pl)


def _cost_always_surrender(
    household: int,
    hukou_place: int,
    hukou_type: int,
    land: int,
    place: int,
    par: Any,
    pl: Any,
) -> float:
    """The land cost counted whether or not the policy makes surrender a condition."""
    if hukou_type != 0 or land == 0:
        return 0.0
    return mesa_settlement.land_value(
        par.seed, household, pl.land_median[hukou_place], par.land_value_dispersion
    )


def _cost_at_current_place(
    household: int,
    hukou_place: int,
    hukou_type: int,
    land: int,
    place: int,
    par: Any,
    pl: Any,
) -> float:
    """The land value with the median of the place where the household lives, not of its hukou
    place (where the land is)."""
    return _ORIGINAL["cost"](household, place, hukou_type, land, place, par, pl)


def _deaths_children_first(
    self: Household, u: float, ctx: YearContext, tally: dict[str, int]
) -> bool:
    """Deaths with the children's draws before the adults' (the order of the draw chain)."""
    adults = self.persons - len(self.kid_ages)
    kids = list(self.kid_ages)
    mortality = ctx.mortality[self.zone]
    kept = []
    for age in kids:
        died, u = bernoulli_draw(u, mortality[age])
        if not died:
            kept.append(age)
    survivors = 0
    for _ in range(adults):
        died, u = bernoulli_draw(u, mortality[self.head_age])
        survivors += not died
    deaths = adults - survivors + len(kids) - len(kept)
    self.kid_ages = kept
    self.persons -= deaths
    tally["deaths"] += deaths
    if self.zone == URBAN:
        tally["urban_deaths"] += deaths
    if survivors == 0 and not kept:
        tally["dissolved"] += 1
        self.children = 0
        return False
    if survivors == 0:
        self.head_age = self.kid_ages.pop()
    return True


def _births_one_per_household(
    self: Household, u: float, ctx: YearContext, tally: dict[str, int]
) -> None:
    """Births with at most one woman at risk per household."""
    persons = self.persons
    self.persons = min(self.persons, len(self.kid_ages) + 3)
    extra = persons - self.persons
    _ORIGINAL["give_births"](self, u, ctx, tally)
    self.persons += extra


def _leave_home_a_year_later(
    self: Household, u: float, ctx: YearContext, tally: dict[str, int]
) -> None:
    """Leaving home with the schedule shifted by one year of age."""
    shifted = [0.0, *ctx.leaving[:-1]]
    shifted[-1] = 1.0
    original = ctx.leaving
    ctx.leaving = shifted
    try:
        _ORIGINAL["leave_home"](self, u, ctx, tally)
    finally:
        ctx.leaving = original


def _formation_without_partners(self: MesaEngine) -> int:
    """Household formation where every leaver stays single."""
    formed = 0
    next_id = len(self.households)
    for parent in sorted(self.households, key=lambda h: h.hh_id):
        for age in parent.leaving_ages:
            fields = dict.fromkeys(FIELDS, 0)
            fields.update(parent.left_from)
            fields.update(
                head_age=age + 1, years_here=min(fields["years_here"], age + 1), persons=1
            )
            Household(self.model, next_id + formed, **fields)
            formed += 1
        parent.leaving_ages = []
    return formed


def _return_on_age_after_ageing(self: Household, ctx: YearContext) -> float:
    """The return utility on the head's age after this year's ageing."""
    age = self.decision_age
    self.decision_age = self.head_age
    try:
        return _ORIGINAL["return_utility"](self, ctx)
    finally:
        self.decision_age = age


def _no_age_attachment_at_home(self: Household, ctx: YearContext) -> float:
    """No attachment by age for households at home (the rule before 2026-12-03)."""
    return 0.0


def _one_slope_at_home(self: Household, ctx: YearContext) -> float:
    """At home, ``home_age`` at every age, ``stay_age`` unused (the rule before 2026-12-04)."""
    return _ORIGINAL["home_age_utility"](self, ctx)


def _return_without_years_away(self: Household, ctx: YearContext) -> float:
    """The return utility without the fall with the years away."""
    years = self.years_away
    self.years_away = 0
    try:
        return _ORIGINAL["return_utility"](self, ctx)
    finally:
        self.years_away = years


def _return_without_job_loss(self: Household, ctx: YearContext) -> float:
    """The return utility as if every head had a job."""
    jobless = self.jobless
    self.jobless = False
    try:
        return _ORIGINAL["return_utility"](self, ctx)
    finally:
        self.jobless = jobless


def _return_without_children(self: Household, ctx: YearContext) -> float:
    """The return utility without the children left behind."""
    return _ORIGINAL["return_utility"](self, ctx) - ctx.par.return_left_behind * self.left_behind


def _left_behind_on_first_uniform(self: Household, ctx: YearContext) -> None:
    """Children left behind decided on the first uniform of the leaving-home pair."""
    _ORIGINAL["leave_or_return"](self, ctx)
    if self.place == self.hukou_place != self.next_place:
        u, _ = rng_py.uniform_pair(ctx.key, self.hh_id, L.DRAW_LEAVE_HOME)
        b = ctx.par
        agricultural = self.hukou_type == 0
        share = b.left_behind_agricultural if agricultural else b.left_behind_nonagricultural
        self.left_behind = 1 if self.children > 0 and u < share else 0


def _hazard_without_terms(self: Household, ctx: YearContext) -> bool:
    """The return hazard at ``return_rate`` for every household away, whatever its age,
    years away, job or children."""
    _, u = rng_py.uniform_pair(ctx.key, self.hh_id, L.DRAW_LEAVE_HOME)
    return u < ctx.par.return_rate


def _hazard_on_first_uniform(self: Household, ctx: YearContext) -> bool:
    """The return hazard decided on the first uniform of the leaving-home pair (the one
    children leaving home use)."""
    b = ctx.par
    x = math.log(b.return_rate / (1.0 - b.return_rate))
    x += b.return_hazard_age * (self.decision_age - 30.0)
    x -= b.return_hazard_years_away * math.log1p(self.years_away)
    x += b.return_hazard_unemployed * self.jobless
    x += b.return_hazard_left_behind * self.left_behind
    u, _ = rng_py.uniform_pair(ctx.key, self.hh_id, L.DRAW_LEAVE_HOME)
    return u < 1.0 / (1.0 + math.exp(-x))


def _stay_without_year_away(self: Household, ctx: YearContext, tally: dict[str, int]) -> None:
    """A year at the same place that does not count as a year away."""
    years = self.years_away
    _ORIGINAL["stay"](self, ctx, tally)
    if self.hukou_place != self.place:
        self.years_away = years


def _left_behind_children_at_school_away(
    self: Household, place: int, zone: int, ctx: YearContext, aggregate: bool = False
) -> float:
    """The logit utility counting left-behind children at school where the household would
    live (the return term kept)."""
    left = self.left_behind
    v = _ORIGINAL["utility"](self, place, zone, ctx, aggregate)
    if left and place != self.hukou_place:
        self.left_behind = 0
        try:
            v = _ORIGINAL["utility"](self, place, zone, ctx, aggregate)
        finally:
            self.left_behind = left
    return v


def _formation_without_years_away(self: MesaEngine) -> int:
    """Household formation where the new households have never been away."""
    first = len(self.households)
    formed = _ORIGINAL["form_households"](self)
    for h in self.households:
        if h.hh_id >= first:
            h.years_away = 0
    return formed


_ORIGINAL: dict[str, Callable[..., Any]] = {
    "settle_move": Household.settle_move,
    "probability": mesa_settlement.probability,
    "cost": mesa_settlement.cost,
    "benefit": mesa_settlement.benefit,
    "utility": Household.utility,
    "access_at": Household.access_at,
    "move_propensity": Household.move_propensity,
    "job_ends": Household.job_ends,
    "apply_for_hukou": Household.apply_for_hukou,
    "be_reclassified": Household.be_reclassified,
    "give_births": Household.give_births,
    "leave_home": Household.leave_home,
    "return_utility": Household.return_utility,
    "home_age_utility": Household.home_age_utility,
    "stay_utility": Household.stay_utility,
    "leave_or_return": Household.leave_or_return,
    "stay": Household.stay,
    "form_households": MesaEngine.form_households,
}

#: (rule, class patched, method, replacement, case on which it is checked).
MUTATIONS = [
    ("logit-utility", Household, "utility", _utility_without_province, Case("moves", 31)),
    ("place-match-stay", Household, "utility", _utility_without_own_match, Case("moves", 62)),
    ("job-end-stay", Household, "utility", _staying_free_after_a_job_ends, Case("moves", 64)),
    ("job-end-age", Household, "job_ends", _jobs_end_at_any_age, Case("moves", 65)),
    (
        "place-match-on-moving",
        Household,
        "leave_or_return",
        _match_kept_on_moving_on,
        Case("moves", 63),
    ),
    (
        "logit-outside-province",
        Household,
        "utility",
        _utility_without_outside_province,
        Case("moves", 61),
    ),
    (
        "sampling-correction",
        Household,
        "proposal_probability",
        _proposal_without_network,
        Case("moves", 38),
    ),
    (
        "province-network",
        Household,
        "network_term",
        _network_of_hukou_place_only,
        Case("moves", 39),
    ),
    (
        "network-without-own-agent",
        Household,
        "network_term",
        _network_counting_the_household_itself,
        Case("moves", 40),
    ),
    (
        "network-copies-of-own-agent",
        Household,
        "network_term",
        _network_of_the_other_agents_only,
        Case("moves", 41),
    ),
    (
        "move-propensity-age",
        Household,
        "move_propensity",
        _propensity_after_ageing,
        Case("open", 32),
    ),
    ("move-propensity-scale", Household, "move_propensity", _propensity_scaled, Case("moves", 33)),
    (
        "move-propensity-hukou-type",
        Household,
        "move_propensity",
        _propensity_same_for_both_hukou_types,
        Case("moves", 59),
    ),
    (
        "move-propensity-away",
        Household,
        "move_propensity",
        _propensity_same_away_and_home,
        Case("moves", 60),
    ),
    (
        "move-propensity-away-fading",
        Household,
        "move_propensity",
        _propensity_away_not_fading,
        Case("moves", 61),
    ),
    ("permit-rule", Household, "obtain_permit", _permit_without_half_year, Case("baseline", 34)),
    (
        "permit-schedule-by-place",
        Household,
        "access_at",
        _access_of_hukou_place_schedule,
        Case("caps", 47, hpa=60000.0),
    ),
    ("hukou-rule", Household, "apply_for_hukou", _hukou_min_years_strict, Case("baseline", 35)),
    ("insitu-rule", Household, "be_reclassified", _insitu_keeps_land, Case("open", 36)),
    ("points-tie-break", MesaEngine, "settle_points", _points_reversed_ties, Case("points", 37)),
    ("move-flows", Household, "settle_move", _flows_transposed, Case("moves", 38)),
    ("return-migrants", Household, "settle_move", _returns_include_locals, Case("moves", 39)),
    ("settle-logit", mesa_settlement, "probability", _probability_wider, Case("settle", 44)),
    ("land-surrender", mesa_settlement, "cost", _cost_always_surrender, Case("settle", 45)),
    (
        "settle-outside-province",
        mesa_settlement,
        "benefit",
        _benefit_inside_the_province,
        Case("settle", 47),
    ),
    ("land-region", mesa_settlement, "cost", _cost_at_current_place, Case("settle", 46)),
    ("death-order", Household, "suffer_deaths", _deaths_children_first, Case("baseline", 40)),
    ("births-per-couple", Household, "give_births", _births_one_per_household, Case("open", 41)),
    ("leaving-age", Household, "leave_home", _leave_home_a_year_later, Case("moves", 42)),
    (
        "formation-partners",
        MesaEngine,
        "form_households",
        _formation_without_partners,
        Case("baseline", 43),
    ),
    ("return-age", Household, "return_utility", _return_on_age_after_ageing, Case("moves", 47)),
    ("home-age-at-home", Household, "stay_utility", _no_age_attachment_at_home, Case("moves", 55)),
    ("stay-age", Household, "stay_utility", _one_slope_at_home, Case("moves", 56)),
    (
        "return-years-away",
        Household,
        "return_utility",
        _return_without_years_away,
        Case("moves", 48),
    ),
    ("return-job-loss", Household, "return_utility", _return_without_job_loss, Case("moves", 49)),
    (
        "return-left-behind",
        Household,
        "return_utility",
        _return_without_children,
        Case("moves", 50),
    ),
    (
        "left-behind-draw",
        Household,
        "leave_or_return",
        _left_behind_on_first_uniform,
        Case("moves", 51),
    ),
    (
        "return-hazard-terms",
        Household,
        "hazard_sends_home",
        _hazard_without_terms,
        Case("moves", 57),
    ),
    (
        "return-hazard-draw",
        Household,
        "hazard_sends_home",
        _hazard_on_first_uniform,
        Case("moves", 58),
    ),
    ("years-away-count", Household, "stay", _stay_without_year_away, Case("baseline", 52)),
    (
        "left-behind-school",
        Household,
        "utility",
        _left_behind_children_at_school_away,
        Case("caps", 53),
    ),
    (
        "formation-years-away",
        MesaEngine,
        "form_households",
        _formation_without_years_away,
        Case("baseline", 54),
    ),
]


#: What the comparison says when it fails: the first differing household, year and field, the
#: year's counters (a rule can change a count before any household's end-of-year state, for
#: example a household that considers moving and stays), the province flows, or the number of
#: households (a rule of household formation).
DETECTED = (
    r"first difference: household \d+, year \d+, field '\w+'|year \d+: counters \['\w+"
    r"|year \d+: province flows differ"
    r"|year \d+: \d+ households \(numba\) != \d+ \(mesa\)"
)


@pytest.mark.parametrize(
    ("rule", "owner", "method", "replacement", "case"), MUTATIONS, ids=[m[0] for m in MUTATIONS]
)
def test_comparison_detects_a_changed_rule(
    rule: str,
    owner: Any,
    method: str,
    replacement: Callable[..., Any],
    case: Case,
    tiny_world: Callable[..., World],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(owner, method, replacement)
    with pytest.raises(AssertionError, match=DETECTED):
        run_side_by_side(case, tiny_world, years=10)


def test_first_difference_names_household_year_and_field(
    tiny_world: Callable[..., World],
) -> None:
    world = tiny_world(n_places=5, n_households=50, seed=1)
    a = world.households
    b = a.copy()
    assert first_difference(a, b, 2015) is None
    b.permit[30] ^= 1
    b.place[41] = (b.place[41] + 1) % 5
    b.zone[30] ^= 1
    message = first_difference(a, b, 2015)
    assert message is not None
    assert message.startswith("first difference: household 30, year 2015, field 'zone'")
    assert "['zone', 'permit']" in message and "2 households differ" in message
