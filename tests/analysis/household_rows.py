"""Helper of the analysis tests: households written row by row, field by field.

(A module of its own, not conftest.py: ``from conftest import`` would be ambiguous with
tests/conftest.py.)
"""

from __future__ import annotations

import numpy as np

from urbsim.state import FIELDS, Households


def households_of(**fields: list[int]) -> Households:
    """Households with the given fields, one value per household; every other field zero and
    two persons each unless ``persons`` is given."""
    n = len(next(iter(fields.values())))
    arrays = {name: np.zeros(n, dtype=f.dtype) for name, f in FIELDS.items()}
    arrays["persons"][:] = 2
    for name, values in fields.items():
        arrays[name] = np.asarray(values, dtype=FIELDS[name].dtype)
    return Households(**arrays)
