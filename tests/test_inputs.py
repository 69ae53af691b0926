"""The engines' input records: generated from the schema, typed, checked, and safe in Numba's
on-disk cache."""

from __future__ import annotations

import pickle
import subprocess
import sys
import textwrap
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from urbsim import inputs
from urbsim.inputs import (
    CONTEXT_FIELDS,
    PARAM_FIELDS,
    PLACE_FIELDS,
    InputField,
    Params,
    PlaceInputs,
    check_place_inputs,
    make_params,
    params_from,
)
from urbsim.model import UrbanizationModel
from urbsim.scenario import LoadedScenario
from urbsim.scenario.schema import Behaviour

CONTEXT = {
    "households_per_agent": 400.0,
    "requisition_share": 0.3,
    "service_base_access": 0.4,
    "seed": 20101101,
}


def test_every_behaviour_field_is_a_parameter_in_schema_order() -> None:
    """The record is the schema's behaviour fields (in order), then the context entries: a new
    schema field needs no other declaration to reach the kernels."""
    names = list(Behaviour.model_fields)
    assert list(Params._fields) == [*names, *(f.name for f in CONTEXT_FIELDS)]
    for name, info in Behaviour.model_fields.items():
        extra = info.json_schema_extra
        assert isinstance(extra, dict)
        assert PARAM_FIELDS[name].unit == extra["unit"]
        assert PARAM_FIELDS[name].source == extra["source"]


def test_parameters_keep_their_types() -> None:
    """Integers stay integers and flags booleans (they used to travel as floats); the age
    profile is a read-only float64 array; a float field given an integer becomes a float."""
    behaviour = Behaviour(move_base=1, candidates=7)
    par = make_params(behaviour, **CONTEXT)
    assert type(par.candidates) is int and par.candidates == 7
    assert type(par.move_base) is float and par.move_base == 1.0
    assert type(par.households_per_agent) is float
    for name in ("move_age", "land_region"):
        arr = getattr(par, name)
        assert arr.dtype == np.float64 and not arr.flags.writeable
        np.testing.assert_array_equal(arr, getattr(behaviour, name))
    for name in Behaviour.model_fields:
        if name not in ("move_age", "land_region"):
            assert getattr(par, name) == getattr(behaviour, name), name


def test_list_parameters_must_be_lists() -> None:
    """A number where a list belongs is refused: it would enter the kernels as a 0-d array, a
    type of its own that compiles every kernel again."""
    values = make_params(Behaviour(), **CONTEXT)._asdict()
    for name in ("move_age", "land_region"):
        with pytest.raises(ValueError, match=f"{name}' must be a list"):
            params_from({**values, name: 1.0})
        with pytest.raises(ValueError, match=f"{name}' must be a list"):
            params_from({**values, name: [[1.0] * 4]})


def test_params_need_every_field_and_no_other() -> None:
    values = make_params(Behaviour(), **CONTEXT)._asdict()
    with pytest.raises(ValueError, match="missing \\['candidates'\\]"):
        params_from({k: v for k, v in values.items() if k != "candidates"})
    with pytest.raises(ValueError, match="unknown \\['trial'\\]"):
        params_from({**values, "trial": 1.0})


def test_record_type_names_follow_the_fields() -> None:
    """The type name carries a digest of the field names and kinds, so Numba's cache (which
    keys compiled code by the record type) cannot reuse code compiled for another layout."""
    a = InputField("a", float, "-", "test")
    b = InputField("b", float, "-", "test")
    names = {
        inputs._record_type("Trial", fields).__name__
        for fields in ([a, b], [b, a], [a], [a, InputField("b", int, "-", "test")])
    }
    assert len(names) == 4
    assert Params.__name__.startswith("Params_") and Params.__module__ == "urbsim.inputs"
    assert pickle.loads(pickle.dumps(Params)) is Params


def test_stale_record_names_resolve_to_a_stand_in() -> None:
    """A cache index written for an older layout names a type that no longer exists: it loads
    as an empty stand-in (the same object each time, so the index can be written back), not
    an error and not the current record."""
    stale = inputs.Params_000000000000
    assert stale is inputs.Params_000000000000
    assert stale is not Params and stale._fields == ()
    assert pickle.loads(pickle.dumps(stale)) is stale
    with pytest.raises(AttributeError):
        inputs.Nothing_000000000000  # noqa: B018


def test_place_inputs_of_a_model_are_checked_and_typed(
    small_scenario: Callable[..., LoadedScenario],
) -> None:
    model = UrbanizationModel(small_scenario(seed=3, end_year=2012))
    model.step()
    year = model.year_inputs()
    assert year.year == model.year and year.seed == model.spec.seed
    places = year.places
    assert isinstance(places, PlaceInputs)
    assert check_place_inputs(places) == model.n_places
    ps = model.place_state
    np.testing.assert_array_equal(places.log_income_urban, np.log(ps.wage * ps.employment))
    np.testing.assert_array_equal(places.quality, np.minimum(ps.quality, 1.0))
    np.testing.assert_array_equal(places.gov, model.gov_of_place)
    np.testing.assert_array_equal(places.rule, model.policy_arrays.rule)
    assert year.par.households_per_agent == model.hpa
    # The engines get a copy of the quotas: settling cannot touch the model's budgets.
    assert year.quota is not model.local_state.quota_left
    np.testing.assert_array_equal(year.quota, model.local_state.quota_left)


@pytest.mark.parametrize(
    "change",
    [
        {"death": np.zeros(2)},
        {"rule": np.zeros(3)},
        {"quality": np.zeros((3, 1))},
        {"lat": [0.0, 0.0, 0.0]},
    ],
)
def test_check_place_inputs_rejects_bad_fields(change: dict[str, Any]) -> None:
    good = PlaceInputs(*(np.zeros(3, f.kind) for f in PLACE_FIELDS.values()))
    assert check_place_inputs(good) == 3
    with pytest.raises(ValueError):
        check_place_inputs(good._replace(**change))
    with pytest.raises(ValueError, match="PlaceInputs record"):
        check_place_inputs(tuple(good))


_CACHE_RUN = textwrap.dedent(
    """
    import numpy as np
    from urbsim.dynamics.demography import VitalRates
    from urbsim.inputs import PARAM_FIELDS, PLACE_FIELDS, PlaceInputs, params_from
    from urbsim.kernels.household_step import _step, household_step
    from urbsim.state import Households

    n = 50
    one = np.ones(n, dtype=np.int64)
    hh = Households(place=one * 0, zone=one, hukou_place=one * 0, hukou_type=0 * one,
                    years_here=one, permit=0 * one, head_age=30 * one, education=one, kids=0 * one,
                    children=0 * one, land=0 * one, persons=2 * one, years_away=0 * one,
                    left_behind=0 * one, match=0 * one).as_dict()
    places = PlaceInputs(*(np.ones(1) if f.kind is np.float64 else np.zeros(1, f.kind)
                           for f in PLACE_FIELDS.values()))
    values = dict.fromkeys(PARAM_FIELDS, 0.5)
    values.update(move_age=[1.0] * 4, land_region=[0.5] * 4, candidates=2)
    leave = np.zeros(32); leave[-1] = 1.0
    vital = VitalRates(np.zeros((2, 101)), np.zeros((2, 101)), leave)
    household_step(np.uint64(1), hh, places, params_from(values), np.array([[0.5]]),
                   np.ones((1, 1), dtype=np.float32), np.zeros(2, dtype=np.int64),
                   np.zeros(0, dtype=np.int64),
                   np.zeros((1, 1), dtype=np.int32),
                   vital=vital, leavers=np.zeros(n, dtype=np.uint32))
    print("stats", _step.stats.cache_hits.total(), _step.stats.cache_misses.total())
    """
)


@pytest.mark.slow
def test_a_second_process_loads_the_kernel_from_numba_cache() -> None:
    """The record types survive Numba's on-disk cache: a second process loads the compiled
    household step instead of compiling it again."""
    outs = []
    for _ in range(2):
        proc = subprocess.run(
            [sys.executable, "-c", _CACHE_RUN],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        outs.append(proc.stdout.split("stats")[-1].split())
    hits, misses = (int(x) for x in outs[1])
    assert hits >= 1 and misses == 0, outs
