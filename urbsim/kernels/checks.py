"""Input checks shared by the public kernel wrappers.

The kernels index arrays without bounds checks (that is what makes them fast), so a wrapper must
reject anything that would send them out of bounds before they run.
"""

from __future__ import annotations

import numpy as np

from urbsim.state import FIELDS


def check_households(households: dict[str, np.ndarray], n_places: int) -> int:
    """Check household arrays: every field, 1-D, one length, registry dtype, valid places.

    Returns
    -------
    int
        Number of households.
    """
    missing = [name for name in FIELDS if name not in households]
    if missing:
        raise ValueError(f"household arrays missing: {missing}")
    n = None
    for name, field in FIELDS.items():
        arr = households[name]
        if not isinstance(arr, np.ndarray) or arr.ndim != 1:
            raise ValueError(f"household field {name!r} must be a 1-D numpy array")
        if arr.dtype != field.dtype:
            raise ValueError(
                f"household field {name!r} has dtype {arr.dtype}, expected {field.dtype}"
            )
        if n is None:
            n = arr.shape[0]
        elif arr.shape[0] != n:
            raise ValueError(f"household field {name!r} has {arr.shape[0]} rows, expected {n}")
    for name in ("place", "hukou_place"):
        arr = households[name]
        if arr.size and (int(arr.min()) < 0 or int(arr.max()) >= n_places):
            raise ValueError(f"household {name} indices must be in [0, {n_places})")
    return int(n or 0)


def check_increasing_indices(indices: np.ndarray, n: int, name: str) -> np.ndarray:
    """Check that ``indices`` are household rows a kernel may visit in order: a 1-D ``int64``
    array, strictly increasing, each in ``[0, n)``; ``name`` names it in the error.

    Returns
    -------
    numpy.ndarray
        ``indices`` (as an array).

    Raises
    ------
    ValueError
        If the array is of another shape or type, out of range, unsorted or repeats a row.
    """
    idx = np.asarray(indices)
    if idx.ndim != 1 or idx.dtype != np.int64:
        raise ValueError(f"{name} must be a 1-D int64 array of household indices")
    if idx.size and (idx[0] < 0 or idx[-1] >= n or (np.diff(idx) <= 0).any()):
        raise ValueError(f"{name} must be increasing household indices")
    return idx
