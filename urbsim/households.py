"""Households as a struct of arrays: the one registry of household fields and their dtypes.

Every household attribute is one numpy array of a compact dtype; :data:`FIELDS` names them, with
their meaning, so that memory per household is known (:func:`bytes_per_household`) and every
field is documented once. Place indices are ``int16`` (a world has at most 32,767 places).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

#: Zone codes.
RURAL: Final[int] = 0
URBAN: Final[int] = 1
#: Hukou type codes.
AGRICULTURAL: Final[int] = 0
NON_AGRICULTURAL: Final[int] = 1
#: Age groups of the household head.
AGE_GROUPS: Final[tuple[str, ...]] = ("15-29", "30-44", "45-59", "60+")
#: Education levels of the household head.
EDUCATION_LEVELS: Final[tuple[str, ...]] = (
    "primary or less",
    "junior secondary",
    "senior secondary",
    "tertiary",
)


@dataclass(frozen=True)
class Field:
    """One household attribute: its dtype and what it means."""

    dtype: np.dtype
    doc: str


FIELDS: Final[dict[str, Field]] = {
    "place": Field(np.dtype(np.int16), "index of the place where the household lives"),
    "zone": Field(np.dtype(np.uint8), "zone of residence: 0 rural, 1 urban"),
    "hukou_place": Field(np.dtype(np.int16), "index of the place where the hukou is registered"),
    "hukou_type": Field(np.dtype(np.uint8), "hukou type: 0 agricultural, 1 non-agricultural"),
    "years_here": Field(np.dtype(np.uint8), "completed years at the current place (capped 255)"),
    "permit": Field(np.dtype(np.uint8), "1 if the household holds a residence permit here"),
    "age_group": Field(np.dtype(np.uint8), "age group of the head, index into AGE_GROUPS"),
    "education": Field(np.dtype(np.uint8), "education of the head, index into EDUCATION_LEVELS"),
    "children": Field(np.dtype(np.uint8), "school-age children in the household (0-3)"),
    "land": Field(np.dtype(np.uint8), "1 if the household holds rural land-contract rights"),
    "persons": Field(np.dtype(np.uint8), "persons in the household; 0 once it has dissolved"),
}


def bytes_per_household() -> int:
    """Bytes of household state per household."""
    return sum(f.dtype.itemsize for f in FIELDS.values())


class Households:
    """Households stored as one array per field of :data:`FIELDS`.

    Parameters
    ----------
    **arrays
        One 1-D array per field, all of the same length; each is converted to the field's dtype.
    """

    __slots__ = tuple(FIELDS)

    place: np.ndarray
    zone: np.ndarray
    hukou_place: np.ndarray
    hukou_type: np.ndarray
    years_here: np.ndarray
    permit: np.ndarray
    age_group: np.ndarray
    education: np.ndarray
    children: np.ndarray
    land: np.ndarray
    persons: np.ndarray

    def __init__(self, **arrays: np.ndarray) -> None:
        missing = set(FIELDS) - set(arrays)
        extra = set(arrays) - set(FIELDS)
        if missing or extra:
            raise ValueError(
                f"household fields: missing {sorted(missing)}, unknown {sorted(extra)}"
            )
        n = None
        for name, field in FIELDS.items():
            arr = np.ascontiguousarray(arrays[name], dtype=field.dtype)
            if arr.ndim != 1:
                raise ValueError(f"household field {name!r} must be 1-D")
            if n is None:
                n = arr.shape[0]
            elif arr.shape[0] != n:
                raise ValueError(f"household field {name!r} has {arr.shape[0]} rows, expected {n}")
            object.__setattr__(self, name, arr)

    def __len__(self) -> int:
        return int(self.place.shape[0])

    @property
    def nbytes(self) -> int:
        """Bytes held by all household arrays."""
        return sum(getattr(self, name).nbytes for name in FIELDS)

    def copy(self) -> Households:
        """A deep copy."""
        return Households(**{name: getattr(self, name).copy() for name in FIELDS})

    def as_dict(self) -> dict[str, np.ndarray]:
        """The arrays by field name (views, not copies)."""
        return {name: getattr(self, name) for name in FIELDS}
