"""The world contract and what every world shares.

A world builder (the embedded synthetic world, the census world) returns a :class:`World`. Place
indices run from 0 to ``n_places - 1`` in the order of the table; households refer to places by
that index. Numbers of people in a :class:`PlaceTable` are real persons (not agents).

This module is the one home of the constants both builders and the model use (kinds, regions,
province codes, the Earth's radius, China's bounding box, the 2010 targets and the shares of the
household draws) and of the single prefecture size-class rule (:func:`prefecture_city_size`,
:func:`size_class_of`), which the world builders and the yearly model update all call.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Final, NamedTuple

import numpy as np

from urbsim.errors import InputError
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
#: Code of the urban-district kind in :data:`KINDS` (the units that make up a city proper).
DISTRICT: Final[int] = 0

#: Province codes (first two digits of a place code) of mainland China's 31 provincial units in
#: the 2010 census.
PROVINCE_CODES: Final[frozenset[int]] = frozenset(
    {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50}
    | {51, 52, 53, 54, 61, 62, 63, 64, 65}
)
#: Mean Earth radius (km) of every great-circle distance.
EARTH_RADIUS_KM: Final[float] = 6371.0
#: Rough bounding box of mainland China (lon min, lon max, lat min, lat max): place coordinates
#: of the built worlds are clipped to it.
CHINA_BBOX: Final[tuple[float, float, float, float]] = (73.0, 135.0, 18.0, 54.0)

# --- Targets of the 2010 census (both worlds calibrate to them) ---------------------------------
#: National non-agricultural hukou share of the registered population we calibrate to.
NONAGRI_TARGET: Final[float] = 0.3417
#: Floating population (living outside the township of hukou for 6+ months, excluding moves
#: within a city's districts), 6th census.
FLOATING_TARGET: Final[float] = 221.0e6

# --- Shares of the household draws (both worlds) ------------------------------------------------
#: Probability of non-agricultural hukou for rural-zone locals and for migrants; urban-zone
#: locals take the rest of the target.
P_NONAGRI_RURAL_LOCAL: Final[float] = 0.03
P_NONAGRI_MIGRANT: Final[float] = 0.17
#: Probability that an agricultural-hukou household holds land-contract rights.
P_LAND_AGRI: Final[float] = 0.95
#: Age group of the head (15-29, 30-44, 45-59, 60+).
AGE_LOCAL: Final[tuple[float, ...]] = (0.20, 0.33, 0.28, 0.19)
AGE_MIGRANT: Final[tuple[float, ...]] = (0.40, 0.40, 0.15, 0.05)
#: Share of residents aged 0-14 at the 2010 census (communique No. 1: 16.60 %).
SHARE_0_14_2010: Final[float] = 0.1660
#: Years here of migrants: geometric, capped at 10 (mean about 3.9): 44.9 % under three years,
#: the share the migrant survey behind the NHFPC's 2015 report gives (55 % three years or more
#: in their current place; no 2010 table of the time at the place is at county level). The
#: ``recent_arrival_share`` target compares the simulated 2014 with it.
P_MIGRANT_YEARS: Final[float] = 0.18
#: Largest years here a world gives a migrant (the geometric draws above are capped).
MIGRANT_YEARS_CAP: Final[int] = 10
#: Largest household (persons per agent).
MAX_PERSONS: Final[int] = 10


def check_scale_and_seed(households_per_agent: object, seed: object) -> tuple[float, int]:
    """The arguments every world builder takes, checked.

    Returns
    -------
    (float, int)
        ``households_per_agent`` as a float and ``seed`` as an int.

    Raises
    ------
    urbsim.errors.InputError
        If ``households_per_agent`` is not a positive finite number or ``seed`` is not a
        non-negative integer.
    """
    if isinstance(households_per_agent, bool) or not isinstance(households_per_agent, numbers.Real):
        raise InputError(f"households_per_agent must be a number, got {households_per_agent!r}")
    hpa = float(households_per_agent)
    if not (math.isfinite(hpa) and hpa > 0.0):
        raise InputError(f"households_per_agent must be positive and finite, got {hpa!r}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise InputError(f"seed must be a non-negative integer, got {seed!r}")
    return hpa, int(seed)


def prefecture_city_size(
    kind: np.ndarray, urban_residents: np.ndarray, prefecture_index: np.ndarray, n_prefectures: int
) -> np.ndarray:
    """Urban residents of each prefecture city, the figure its size class is read from.

    The 2014 standard classes a city by the urban residents of its urban districts (the city
    proper). A prefecture without urban districts (e.g. the province-administered units PP9000
    of the census world) is classed by the urban residents of all its places.

    Parameters
    ----------
    kind : numpy.ndarray
        Kind code of each place (index into :data:`KINDS`).
    urban_residents : numpy.ndarray
        Urban residents of each place (persons).
    prefecture_index : numpy.ndarray
        Prefecture of each place, ``0 .. n_prefectures - 1``.
    n_prefectures : int
        Number of prefectures.

    Returns
    -------
    numpy.ndarray
        ``float64`` persons, one per prefecture.
    """
    district = np.asarray(kind) == DISTRICT
    urban = np.asarray(urban_residents, dtype=np.float64)
    urban_d = np.bincount(
        prefecture_index, weights=np.where(district, urban, 0.0), minlength=n_prefectures
    )
    has_d = (
        np.bincount(prefecture_index, weights=district.astype(float), minlength=n_prefectures) > 0
    )
    urban_all = np.bincount(prefecture_index, weights=urban, minlength=n_prefectures)
    return np.where(has_d, urban_d, urban_all)


def size_class_of(city_size: np.ndarray) -> np.ndarray:
    """Size class (index into :data:`SIZE_CLASSES`) of cities of the given urban residents.

    A city belongs to the first class whose lower bound (:data:`SIZE_CLASS_BOUNDS`) it reaches;
    the classes run largest first and the last bound is 0, so every non-negative size has one.

    Returns
    -------
    numpy.ndarray
        ``int8`` class codes, the shape of ``city_size``.
    """
    bounds = np.asarray(SIZE_CLASS_BOUNDS)
    size = np.asarray(city_size, dtype=np.float64)
    return np.argmax(size[..., None] >= bounds, axis=-1).astype(np.int8)


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


class MigrantStock(NamedTuple):
    """Persons who live in one county-level unit and are registered in another, by place.

    Attributes
    ----------
    in_migrants : numpy.ndarray
        ``(2, n)`` float64 persons living at each place and registered at another place of its
        province (row 0) or of another province (row 1).
    out_migrants : numpy.ndarray
        float64 persons registered at each place and living at another.
    """

    in_migrants: np.ndarray
    out_migrants: np.ndarray


@dataclass(frozen=True)
class World:
    """Places and households of one world (the start year's; a model keeps its ``world``'s
    households equal to its current ones, so that the start's arrays are not held twice).

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
    migrant_stock : MigrantStock or None
        The start year's migrants of each place as the source gives them (the census world's
        county file); None where the households are the only source (the synthetic world).
    """

    name: str
    places: PlaceTable
    households: Households
    households_per_agent: float
    notes: dict[str, str] = field(default_factory=dict)
    migrant_stock: MigrantStock | None = None
