"""The world contract: a table of places plus the households living in them.

A world builder (the embedded synthetic world, the census world) returns a :class:`World`. Place
indices run from 0 to ``n_places - 1`` in the order of the table; households refer to places by
that index. Numbers of people in a :class:`PlaceTable` are real persons (not agents).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import numpy as np

from urbsim.households import Households

#: Region codes (NBS regions), index = code.
REGIONS: Final[tuple[str, ...]] = ("east", "central", "west", "northeast")
#: Kinds of county-level unit, index = code.
KINDS: Final[tuple[str, ...]] = ("urban district", "county", "county-level city")
#: City size classes of the 2014 State Council standard, by urban residents of the prefecture
#: city's districts, index = code (largest first).
SIZE_CLASSES: Final[tuple[str, ...]] = (
    "super-large",
    "mega",
    "large I",
    "large II",
    "medium",
    "small",
)
#: Lower bounds (urban residents) of the size classes above, in the same order.
SIZE_CLASS_BOUNDS: Final[tuple[float, ...]] = (10e6, 5e6, 3e6, 1e6, 0.5e6, 0.0)

_PLACE_COLUMNS: Final[dict[str, np.dtype]] = {
    "code": np.dtype(np.int32),
    "name": np.dtype(object),
    "province_code": np.dtype(np.int16),
    "prefecture_code": np.dtype(np.int32),
    "region": np.dtype(np.uint8),
    "kind": np.dtype(np.uint8),
    "lon": np.dtype(np.float64),
    "lat": np.dtype(np.float64),
    "is_capital": np.dtype(np.bool_),
    "residents": np.dtype(np.float64),
    "urban_residents": np.dtype(np.float64),
}


@dataclass(frozen=True)
class PlaceTable:
    """Static description of the places (county-level units), one entry per place.

    Attributes
    ----------
    code : int32
        6-digit administrative code of the county-level unit.
    name : object (str)
        Name of the unit.
    province_code : int16
        2-digit province code.
    prefecture_code : int32
        6-digit code of the prefecture-level unit (``PPCC00``).
    region : uint8
        Index into :data:`REGIONS`.
    kind : uint8
        Index into :data:`KINDS`.
    lon, lat : float64
        Coordinates in WGS84 degrees.
    is_capital : bool
        True for places in the prefecture of the provincial capital.
    residents, urban_residents : float64
        Resident and urban resident persons in the start year, as the source gives them.
    """

    code: np.ndarray
    name: np.ndarray
    province_code: np.ndarray
    prefecture_code: np.ndarray
    region: np.ndarray
    kind: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    is_capital: np.ndarray
    residents: np.ndarray
    urban_residents: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.code)
        for col, dtype in _PLACE_COLUMNS.items():
            arr = np.asarray(getattr(self, col), dtype=dtype)
            if arr.shape != (n,):
                raise ValueError(f"place column {col!r} has shape {arr.shape}, expected ({n},)")
            object.__setattr__(self, col, arr)
        if n > np.iinfo(np.int16).max:
            raise ValueError(f"a world holds at most 32767 places, got {n}")

    def __len__(self) -> int:
        return int(self.code.shape[0])


@dataclass(frozen=True)
class World:
    """Places and households of one world at the start year.

    Attributes
    ----------
    name : str
        World name as in the scenario (``"china-synthetic"``, ``"census"``).
    places : PlaceTable
        The places.
    households : Households
        The household agents.
    households_per_agent : float
        Real households that each agent stands for.
    notes : dict[str, str]
        Definitions and sources the world uses (written into the run manifest).
    """

    name: str
    places: PlaceTable
    households: Households
    households_per_agent: float
    notes: dict[str, str] = field(default_factory=dict)
