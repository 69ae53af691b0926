"""The compiled mover weights against their NumPy reference (mover_utilities)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from urbsim.analysis.choice_check import example_case
from urbsim.dynamics import destination_constants as D
from urbsim.kernels.mover_weights import mover_weights


def _reference(case_inputs: Any, rows: np.ndarray) -> np.ndarray:
    v = D.mover_utilities(
        case_inputs.par, case_inputs.places, case_inputs.network, case_inputs.network_province
    )[rows]
    return np.exp(v - v.max(axis=1, keepdims=True))


@pytest.mark.parametrize(
    ("behaviour", "households_per_agent"),
    [
        (None, 1.0),
        ({"beta_network_province": 0.7, "beta_network": 1.3}, 1.0),
        ({"beta_distance": 0.4, "beta_province": 3.0, "distance_floor_km": 200.0}, 50.0),
    ],
)
def test_every_row_is_the_reference_s_to_the_last_digits(
    behaviour: dict[str, float] | None, households_per_agent: float
) -> None:
    """The small world of the choice check (8 places, 2 provinces, a network from place 5):
    every origin's weights equal exp(V - row max) of the NumPy utilities within a few units in
    the last place (the two use different exponentials and logarithms), zero on the diagonal."""
    case = example_case(movers=1, behaviour=behaviour, households_per_agent=households_per_agent)
    inputs = case.inputs
    rows = np.arange(inputs.places.lat.shape[0])
    got = D.sending_weights(
        inputs.par, inputs.places, inputs.network, inputs.network_province, np.ones(rows.size)
    )
    expected = _reference(inputs, rows)
    np.testing.assert_allclose(got, expected, rtol=1e-13, atol=0.0)
    assert np.all(np.diag(got) == 0.0) and np.all(got.max(axis=1) == 1.0)


def test_only_the_senders_rows_in_their_order() -> None:
    inputs = example_case(movers=1).inputs
    origins = np.zeros(inputs.places.lat.shape[0])
    origins[[5, 1, 6]] = [3.0, 1.0, 2.0]
    got = D.sending_weights(
        inputs.par, inputs.places, inputs.network, inputs.network_province, origins
    )
    np.testing.assert_allclose(got, _reference(inputs, np.array([1, 5, 6])), rtol=1e-13)


def _args(n: int = 3, provinces: int = 2) -> dict[str, Any]:
    return {
        "rows": np.arange(n),
        "attraction": np.zeros(n),
        "lat": np.linspace(0.4, 0.5, n),
        "lon": np.linspace(1.9, 2.0, n),
        "coslat": np.cos(np.linspace(0.4, 0.5, n)),
        "province": np.arange(n) % provinces,
        "network": np.zeros((n, n), dtype=np.int32),
        "network_province": np.zeros((provinces, n), dtype=np.int32),
        "beta_distance": 1.0,
        "floor_km": 50.0,
        "beta_province": 1.0,
        "beta_network": 1.0,
        "beta_network_province": 1.0,
        "households_per_agent": 1.0,
    }


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"lat": np.zeros(2)}, "expected n >= 2 places"),
        ({"network": np.zeros((3, 2), dtype=np.int32)}, "expected n >= 2 places"),
        ({"network_province": np.zeros((3, 3), dtype=np.int32)}, r"expected \(2, 3\)"),
        ({"rows": np.array([0, 3])}, r"must lie in 0\.\.2"),
        ({"province": np.array([0, -1, 1])}, "province indices"),
        ({"province": np.array([0.0, 1.5, 1.0])}, "province must be integer indices"),
        ({"rows": np.array([0.0, 1.0])}, "rows must be integer indices"),
    ],
)
def test_inconsistent_arrays_are_refused(change: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        mover_weights(**{**_args(), **change})
