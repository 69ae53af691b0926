"""Households with a life course through whole model years: persons are conserved when births
and deaths are switched off while households form, the yearly alignment meets the crude rates of
the scenario, and a growing number of households is counted, indexed and recorded correctly."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from pandas.testing import assert_frame_equal

from urbsim.kernels import aggregate as A
from urbsim.kernels import layout as L
from urbsim.kernels.demography import expected_events
from urbsim.model import UrbanizationModel
from urbsim.world import World


def _model(
    tiny_world: Callable[..., World], small_scenario: Callable[..., Any], **overrides: Any
) -> UrbanizationModel:
    world = tiny_world(n_places=8, n_households=400, seed=5)
    return UrbanizationModel(small_scenario(seed=5, **overrides), world=world)


def test_persons_are_conserved_without_births_and_deaths(
    tiny_world: Callable[..., World], small_scenario: Callable[..., Any]
) -> None:
    """25 years with births and deaths off: every year's persons equal the first year's, while
    young adults leave home and form households (the conservation check of issue 12)."""
    model = _model(
        tiny_world, small_scenario, end_year=2035, demography={"births_and_deaths": False}
    )
    start = int(model.households.persons.sum())
    n0 = len(model.households)
    formed = 0
    while model.year < model.end_year:
        model.step()
        assert int(model.households.persons.sum()) == start, model.year
        assert model.counters[L.C_BIRTHS] == model.counters[L.C_DEATHS] == 0
        formed += int(model.counters[L.C_FORMED])
    assert formed > 0.1 * n0
    assert len(model.households) == n0 + formed
    nat = model.national_table()
    assert (nat["residents"] == nat["residents"].iloc[0]).all()
    assert nat["households_formed"].iloc[1:].sum() == formed * model.hpa


def test_births_and_deaths_on_change_persons(
    tiny_world: Callable[..., World], small_scenario: Callable[..., Any]
) -> None:
    """The same world with births and deaths on: persons change by births minus deaths only."""
    model = _model(tiny_world, small_scenario, end_year=2020)
    before = int(model.households.persons.sum())
    births = deaths = 0
    while model.year < model.end_year:
        model.step()
        births += int(model.counters[L.C_BIRTHS])
        deaths += int(model.counters[L.C_DEATHS])
    assert births > 0 and deaths > 0
    assert int(model.households.persons.sum()) == before + births - deaths


def test_alignment_meets_the_crude_rates(
    tiny_world: Callable[..., World], small_scenario: Callable[..., Any]
) -> None:
    """Each year of the series, the aligned schedules expect the scenario's crude rates of the
    households at the start of the year; after the series the schedules stay as they were."""
    model = _model(tiny_world, small_scenario, end_year=2022)
    seen: list[tuple[Any, Any]] = []
    step = model.engine.step

    def spy(inputs: Any, households: Any) -> Any:
        seen.append((inputs, households.copy()))
        return step(inputs, households)

    model.engine.step = spy  # type: ignore[method-assign]
    model.run()
    dem = model.spec.demography
    for inputs, hh in seen:
        births, deaths, persons = expected_events(
            hh.zone,
            hh.place,
            hh.head_age,
            hh.kids,
            hh.persons,
            inputs.vital.fertility,
            inputs.vital.mortality,
            inputs.places.fertility_factor,
        )
        year = str(inputs.year)
        if year in dem.birth_rate:
            assert abs(births / persons - dem.birth_rate[year] / 1000.0) < 1e-12, year
            assert abs(deaths / persons - dem.death_rate[year] / 1000.0) < 1e-12, year
    last = seen[[i.year for i, _ in seen].index(2019)][0].vital
    for inputs, _ in seen:
        if inputs.year > 2019:
            np.testing.assert_array_equal(inputs.vital.fertility, last.fertility)
            np.testing.assert_array_equal(inputs.vital.mortality, last.mortality)


def test_counts_and_origin_index_follow_the_growing_households(
    tiny_world: Callable[..., World], small_scenario: Callable[..., Any]
) -> None:
    """After years of formation, the place counts and the origin index describe every
    household, the new ones included."""
    model = _model(tiny_world, small_scenario, end_year=2018)
    model.run()
    hh = model.households.as_dict()
    agg, _, _, net = A.aggregate(hh, model.n_places, model.policy_arrays.access.shape[1])
    persons = int(model.households.persons.sum())
    assert agg[:, A.A_RESIDENTS].sum() == persons
    assert model.counts[:, A.A_RESIDENTS].sum() == persons
    np.testing.assert_array_equal(model.network, net)
    start, members = model.origin
    floating = np.flatnonzero((hh["persons"] > 0) & (hh["place"] != hh["hukou_place"]))
    np.testing.assert_array_equal(np.sort(members), floating)
    assert start[-1] == floating.shape[0]
    assert members.max() >= 400  # some formed households are floating


def test_both_engines_form_the_same_households(
    tiny_world: Callable[..., World], small_scenario: Callable[..., Any]
) -> None:
    """Formation and dissolution in the reference engine equal the kernels', household by
    household, with births and deaths off (25 years) and on."""
    for dem in ({"births_and_deaths": False}, {}):
        models = [
            _model(tiny_world, small_scenario, end_year=2035, engine=e, demography=dem)
            for e in ("numba", "mesa")
        ]
        for m in models:
            m.run()
        numba, mesa = models
        assert len(numba.households) == len(mesa.households) > 400
        for name, arr in numba.households.as_dict().items():
            np.testing.assert_array_equal(getattr(mesa.households, name), arr, err_msg=name)
        assert_frame_equal(mesa.national_table(), numba.national_table(), check_exact=True)
