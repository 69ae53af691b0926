"""Helper of the analysis tests: households written row by row, field by field.

(A module of its own, not conftest.py: ``from conftest import`` would be ambiguous with
tests/conftest.py.)
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

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


def random_households(draw, n: int, places: int = 4) -> Households:  # type: ignore[no-untyped-def]
    """``n`` households drawn by a hypothesis ``draw`` (inside ``st.composite``): places and
    hukou places below ``places``, any hukou type, heads of 14-90, 0-6 persons with children's
    age bits the persons allow."""
    ints = st.lists(st.integers(0, places - 1), min_size=n, max_size=n)
    persons = draw(st.lists(st.integers(0, 6), min_size=n, max_size=n))
    kids = draw(st.lists(st.integers(0, (1 << 32) - 1), min_size=n, max_size=n))
    # Children are persons: keep the bits a household's persons allow.
    kids = [k if bin(k).count("1") <= p else 0 for k, p in zip(kids, persons, strict=True)]
    return households_of(
        place=draw(ints),
        hukou_place=draw(ints),
        hukou_type=draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)),
        head_age=draw(st.lists(st.integers(14, 90), min_size=n, max_size=n)),
        persons=persons,
        kids=kids,
    )
