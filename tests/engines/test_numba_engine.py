"""The Numba engine's use of what the count of the previous year prepared: the origin index and
the one-byte network copy."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from urbsim.engines import numba_engine
from urbsim.engines.numba_engine import NumbaEngine
from urbsim.kernels.aggregate import NET8_SATURATED, origin_index
from urbsim.model import UrbanizationModel
from urbsim.scenario import LoadedScenario


def test_engine_uses_the_index_of_the_last_count_once(
    small_scenario: Callable[..., LoadedScenario], monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a count the engine takes the model's index (equal to a fresh one); stepped again
    without a count (the households have changed since), it rebuilds the index."""
    model = UrbanizationModel(small_scenario(seed=4, end_year=2013))
    assert isinstance(model.engine, NumbaEngine)
    seen: list[tuple[np.ndarray, np.ndarray]] = []
    original = numba_engine.household_step

    def spy(key, hh, pf, pi, par, access, grav, start, members, *rest):  # type: ignore[no-untyped-def]
        seen.append((start, members))
        fresh_start, fresh_members = origin_index(hh, pf.shape[0])
        np.testing.assert_array_equal(start, fresh_start)
        np.testing.assert_array_equal(members, fresh_members)
        return original(key, hh, pf, pi, par, access, grav, start, members, *rest)

    monkeypatch.setattr(numba_engine, "household_step", spy)
    initial = model.origin
    assert initial is not None
    model.step()  # uses the index of the initial count
    assert seen[-1][0] is initial[0] and seen[-1][1] is initial[1]
    last = model.origin
    assert last is not None and last[0] is not initial[0]
    model.engine.step(model.year + 1)  # the index of the count that closed the year
    assert seen[-1][0] is last[0]
    model.engine.step(model.year + 1)  # no count since: rebuilt (and checked), not reused
    assert seen[-1][0] is not last[0]


def test_model_keeps_the_saturated_network(small_scenario: Callable[..., LoadedScenario]) -> None:
    model = UrbanizationModel(small_scenario(seed=5, end_year=2012))
    model.step()
    net, net8 = model.network, model.network8
    assert net8.dtype == np.uint8 and net8.shape == net.shape
    np.testing.assert_array_equal(net8, np.minimum(net, NET8_SATURATED))
