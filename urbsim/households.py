"""Households: the registry of household fields and the struct of arrays that holds them.

They live in :mod:`urbsim.state` with the rest of the model's state; this module keeps the names
where world builders, engines and users have always imported them.
"""

from __future__ import annotations

from urbsim.state import (
    AGE_GROUPS,
    AGRICULTURAL,
    EDUCATION_LEVELS,
    FIELDS,
    NON_AGRICULTURAL,
    RURAL,
    URBAN,
    Field,
    Households,
    bytes_per_household,
)

__all__ = [
    "AGE_GROUPS",
    "AGRICULTURAL",
    "EDUCATION_LEVELS",
    "FIELDS",
    "NON_AGRICULTURAL",
    "RURAL",
    "URBAN",
    "Field",
    "Households",
    "bytes_per_household",
]
