"""The input checks shared by the kernels' public wrappers (urbsim/kernels/checks.py)."""

from __future__ import annotations

import numpy as np
import pytest

from urbsim.kernels.checks import check_increasing_indices


@pytest.mark.parametrize(
    "indices", [np.array([], dtype=np.int64), np.array([0]), np.array([0, 3, 4]), [1, 2]]
)
def test_increasing_indices_within_the_rows_pass_as_an_array(indices: object) -> None:
    out = check_increasing_indices(indices, 5, "rows")
    assert isinstance(out, np.ndarray) and out.dtype == np.int64
    np.testing.assert_array_equal(out, np.asarray(indices))


@pytest.mark.parametrize(
    ("indices", "reason"),
    [
        (np.array([0, 1], dtype=np.int32), "1-D int64 array"),
        (np.array([[0, 1]]), "1-D int64 array"),
        (np.array([0.0, 1.0]), "1-D int64 array"),
        (np.array([-1, 2]), "increasing household indices"),
        (np.array([1, 5]), "increasing household indices"),
        (np.array([2, 1]), "increasing household indices"),
        (np.array([1, 1]), "increasing household indices"),
    ],
)
def test_other_indices_are_refused_by_name(indices: np.ndarray, reason: str) -> None:
    with pytest.raises(ValueError, match=f"^rows must be .*{reason}"):
        check_increasing_indices(indices, 5, "rows")
