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


def test_engine_gets_the_index_of_the_last_count(
    small_scenario: Callable[..., LoadedScenario], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every year the model hands the engine the origin index of the count that closed the last
    year (the same arrays, no recount), and it equals an index built afresh from the households
    the engine receives."""
    model = UrbanizationModel(small_scenario(seed=4, end_year=2013))
    assert isinstance(model.engine, NumbaEngine)
    seen: list[tuple[np.ndarray, np.ndarray]] = []
    original = numba_engine.household_step

    def spy(key, hh, places, par, access, grav, start, members, *rest, **kw):  # type: ignore[no-untyped-def]
        seen.append((start, members))
        fresh_start, fresh_members = origin_index(hh, places.province.shape[0])
        np.testing.assert_array_equal(start, fresh_start)
        np.testing.assert_array_equal(members, fresh_members)
        return original(key, hh, places, par, access, grav, start, members, *rest, **kw)

    monkeypatch.setattr(numba_engine, "household_step", spy)
    while model.year < model.end_year:
        last = model.origin
        assert last is not None
        model.step()
        assert seen[-1][0] is last[0] and seen[-1][1] is last[1]
        assert model.origin is not None and model.origin[0] is not last[0]
    assert len(seen) == 3


def test_engine_does_not_import_the_model() -> None:
    """The engines depend on their inputs only: no module of ``urbsim.engines`` (nor the
    kernels) imports :mod:`urbsim.model`, even under ``TYPE_CHECKING``."""
    import ast
    from pathlib import Path

    import urbsim

    root = Path(urbsim.__file__).parent
    for path in [*root.joinpath("engines").glob("*.py"), *root.joinpath("kernels").glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                assert node.module != "urbsim.model", path
            elif isinstance(node, ast.Import):
                assert all(a.name != "urbsim.model" for a in node.names), path


def test_model_keeps_the_saturated_network(small_scenario: Callable[..., LoadedScenario]) -> None:
    model = UrbanizationModel(small_scenario(seed=5, end_year=2012))
    model.step()
    net, net8 = model.network, model.network8
    assert net8.dtype == np.uint8 and net8.shape == net.shape
    np.testing.assert_array_equal(net8, np.minimum(net, NET8_SATURATED))
