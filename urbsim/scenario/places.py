"""Policies that name places: addresses of provinces, prefectures and county-level places.

A scenario's ``[[policy.places]]`` (and a timeline entry's ``places``) address units of the
world by their 6-digit administrative code, with the unit's name as a check:

* ``PP0000`` is a province (``110000`` Beijing: all its places);
* ``PPCC00`` is a prefecture (``440100`` Guangzhou: the places of that prefecture code);
* any other code is one county-level place (an urban district, county or county-level city).

Where addresses overlap, the most specific wins, field by field: county-level place (level 3),
then prefecture (2), then province (1), then the size-class rule (level 0, not an address). A
field an entry leaves out (``None``) does not override anything.

This module checks addresses against a :class:`PlaceIndex` (codes and names of a world, read
without building households), merges timeline entries into the places in force, and resolves
entries to place indices (:func:`resolve_places`) and per-place values (:func:`place_values`),
which :func:`urbsim.dynamics.policy.expand_policy` uses for every addressable field.
"""

from __future__ import annotations

import copy
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import numpy as np

from urbsim.scenario.schema import PlacePolicy
from urbsim.state import UnitAmounts

#: Address levels, least specific first; a higher level overrides a lower one.
SIZE_CLASS: Final[int] = 0
PROVINCE: Final[int] = 1
PREFECTURE: Final[int] = 2
COUNTY: Final[int] = 3
#: What each address level is called in messages and documentation.
LEVEL_NAMES: Final[dict[int, str]] = {
    PROVINCE: "province",
    PREFECTURE: "prefecture",
    COUNTY: "county-level place",
}


def address_level(code: int) -> int:
    """The level a 6-digit code addresses: :data:`PROVINCE` (``PP0000``), :data:`PREFECTURE`
    (``PPCC00``) or :data:`COUNTY` (any other)."""
    if code % 10_000 == 0:
        return PROVINCE
    if code % 100 == 0:
        return PREFECTURE
    return COUNTY


def normalise_name(name: str) -> str:
    """A name as compared: NFKC (full-width letters and digits folded) without outer spaces."""
    return unicodedata.normalize("NFKC", name).strip()


@dataclass(frozen=True)
class PlaceIndex:
    """Codes and names of a world's places, and where each addressable unit is.

    Attributes
    ----------
    code, prefecture_code, province_code : numpy.ndarray
        Per place: its 6-digit code, its prefecture's 6-digit code, its 2-digit province code.
    name : numpy.ndarray
        Per place: its name (object array of str).
    prefecture_names : Mapping[int, str]
        Name of each prefecture code (a prefecture missing here takes no name check beyond
        its places' prefix; see :func:`index_from_columns`).
    province_names : Mapping[int, tuple[str, ...]]
        Accepted names of each 2-digit province code (Chinese and English).
    world : str
        Name of the world, for messages.
    """

    code: np.ndarray
    name: np.ndarray
    prefecture_code: np.ndarray
    province_code: np.ndarray
    prefecture_names: Mapping[int, str]
    province_names: Mapping[int, tuple[str, ...]]
    world: str = "the"
    _members: dict[int, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    def __len__(self) -> int:
        return int(self.code.shape[0])

    def places_of(self, code: int) -> np.ndarray | None:
        """Sorted indices of the places a code addresses, or None if the world has no such unit."""
        if code not in self._members:
            level = address_level(code)
            if level == PROVINCE:
                hit = self.province_code == code // 10_000
            elif level == PREFECTURE:
                hit = self.prefecture_code == code
            else:
                hit = self.code == code
            self._members[code] = np.flatnonzero(hit).astype(np.int64)
        members = self._members[code]
        return members if members.size else None

    def names_of(self, code: int) -> tuple[str, ...]:
        """Names a code may be given by (empty if the world has no such unit)."""
        level = address_level(code)
        if level == PROVINCE:
            return self.province_names.get(code // 10_000, ())
        if level == PREFECTURE:
            name = self.prefecture_names.get(code)
            return (name,) if name is not None else ()
        hit = np.flatnonzero(self.code == code)
        return (str(self.name[hit[0]]),) if hit.size else ()


def index_from_columns(
    code: Any,
    name: Any,
    prefecture_code: Any,
    province_code: Any,
    prefecture_names: Mapping[int, str] | None = None,
    world: str = "the",
) -> PlaceIndex:
    """A :class:`PlaceIndex` from per-place columns (a world file's, a PlaceTable's, or a
    hand-made world's).

    Prefecture names not given are taken from the names of the prefecture's places: the
    synthetic world names its places ``"<province> Pkk Dnn"``, so its prefecture ``kk`` is
    ``"<province> Pkk"``. Province names are the packaged tables' Chinese and English names.
    """
    code = np.asarray(code, dtype=np.int64)
    name = np.asarray(name, dtype=object)
    prefecture_code = np.asarray(prefecture_code, dtype=np.int64)
    names = dict(prefecture_names or {})
    for pref, place_name in zip(prefecture_code.tolist(), name.tolist(), strict=True):
        if pref not in names:
            names[pref] = str(place_name).rsplit(" ", 1)[0]
    return PlaceIndex(
        code=code,
        name=name,
        prefecture_code=prefecture_code,
        province_code=np.asarray(province_code, dtype=np.int64),
        prefecture_names=names,
        province_names=province_names(),
        world=world,
    )


@lru_cache(maxsize=1)
def province_names() -> dict[int, tuple[str, ...]]:
    """Accepted names of each province code: the Chinese name of the packaged province outlines
    (``北京市``) and the English name of the 2010 province table (``Beijing``)."""
    import pyarrow.parquet as pq

    from urbsim.world.provinces import load_provinces

    data = Path(__file__).resolve().parents[1] / "data" / "provinces.parquet"
    chinese = pq.read_table(data, columns=["province_code", "province"]).to_pydict()
    out: dict[int, list[str]] = {}
    for code, name in zip(chinese["province_code"], chinese["province"], strict=True):
        out.setdefault(int(code), []).append(str(name))
    for row in load_provinces().itertuples(index=False):
        out.setdefault(int(row.code), []).append(str(row.province))
    return {code: tuple(names) for code, names in out.items()}


def world_place_index(world_name: str, world_file: str | None) -> PlaceIndex:
    """The :class:`PlaceIndex` of a scenario's world, read without building households.

    Raises
    ------
    urbsim.world.census.WorldFileError
        If the census world file cannot be read.
    """
    if world_name == "china-synthetic":
        return _synthetic_index()
    from urbsim.world.census_file import packaged_world_path

    path = Path(world_file) if world_file is not None else packaged_world_path()
    return _census_index(str(path.resolve()), path.stat().st_mtime_ns)


def census_reference() -> PlaceIndex:
    """The index of the census world packaged with urbsim: China's county-level units of the
    2010 census, their prefectures and provinces, with their names."""
    return world_place_index("census", None)


@lru_cache(maxsize=1)
def _synthetic_index() -> PlaceIndex:
    from urbsim.world.synthetic import synthetic_place_table

    t = synthetic_place_table()
    return index_from_columns(
        t.code, t.name, t.prefecture_code, t.province_code, world="china-synthetic"
    )


@lru_cache(maxsize=4)
def _census_index(path: str, mtime_ns: int) -> PlaceIndex:
    """The index of a census world file (``mtime_ns`` keys the cache: a rebuilt file is read
    again)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from urbsim.world.census import WorldFileError

    columns = ["code", "name", "prefecture_code", "prefecture_name", "province_code"]
    try:
        df = pq.read_table(path, columns=columns).to_pandas()
    except (OSError, pa.ArrowException, KeyError) as exc:
        raise WorldFileError(f"{path}: cannot read as a world file: {exc}") from None
    codes, names = df["prefecture_code"].astype(int), df["prefecture_name"].astype(str)
    pref = dict(zip(codes, names, strict=True))
    return index_from_columns(
        df["code"], df["name"], df["prefecture_code"], df["province_code"], pref, "census"
    )


# ---------------------------------------------------------------------------------------------
# Checking addresses
# ---------------------------------------------------------------------------------------------
def address_problem(
    code: int, name: str, index: PlaceIndex, reference: PlaceIndex | None = None
) -> tuple[str, str] | None:
    """Why ``(code, name)`` does not address a unit, or None if it does.

    A code the world holds must carry the world's name for it. A code the world does not hold
    is accepted if ``reference`` (the census world packaged with urbsim: China's units of 2010)
    holds it under that name: the rule then applies to no place of this world, so a scenario
    written for China runs on a world file of part of it. Otherwise the code is unknown.

    Returns
    -------
    tuple of (str, str) or None
        ``("code", reason)`` for an unknown code, ``("name", reason)`` for a wrong name.
    """
    if index.places_of(code) is not None:
        return _name_problem(code, name, index)
    if reference is not None and reference.places_of(code) is not None:
        return _name_problem(code, name, reference)
    reason = f"no {LEVEL_NAMES[address_level(code)]} has code {code} in the {index.world} world"
    if reference is not None and reference is not index:
        reason += f" or in the {reference.world} world of 2010"
    return "code", reason


def _name_problem(code: int, name: str, index: PlaceIndex) -> tuple[str, str] | None:
    names = index.names_of(code)
    if normalise_name(name) in {normalise_name(n) for n in names}:
        return None
    expected = " or ".join(repr(n) for n in names) or "unnamed"
    return "name", f"code {code} is {expected} in the {index.world} world, not {name!r}"


def address_problems(
    entries: Sequence[tuple[str, int, str]],
    index: PlaceIndex,
    reference: PlaceIndex | None = None,
) -> list[tuple[str, str]]:
    """(field, reason) for each ``(where, code, name)`` that does not address a unit
    (:func:`address_problem`); the field is ``where.code`` or ``where.name``."""
    out = []
    for where, code, name in entries:
        problem = address_problem(code, name, index, reference)
        if problem is not None:
            out.append((f"{where}.{problem[0]}", problem[1]))
    return out


# ---------------------------------------------------------------------------------------------
# Timeline merge
# ---------------------------------------------------------------------------------------------
def merge_places(
    current: list[dict[str, Any]], patch: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The places in force after a timeline entry: an entry with a code already addressed
    updates it field by field (tables merge key by key); a new code is added at the end."""
    out = copy.deepcopy(current)
    position = {entry["code"]: i for i, entry in enumerate(out)}
    for entry in patch:
        i = position.get(entry["code"])
        if i is None:
            position[entry["code"]] = len(out)
            out.append(copy.deepcopy(entry))
        else:
            out[i] = _merge_tables(out[i], entry)
    return out


def _merge_tables(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge_tables(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


# ---------------------------------------------------------------------------------------------
# Resolution to places
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ResolvedPlace:
    """One entry of ``policy.places`` with the level it addresses and its places."""

    entry: PlacePolicy
    level: int
    places: np.ndarray


def resolve_places(entries: Sequence[PlacePolicy], index: PlaceIndex) -> list[ResolvedPlace]:
    """The entries with their places, least specific first (so that applying them in order
    lets the most specific win). An entry whose unit the world does not hold (a unit of China
    outside a world of part of it: :func:`address_problem` has accepted it) has no places and
    is left out."""
    out = []
    for entry in entries:
        places = index.places_of(entry.code)
        if places is None:
            continue
        out.append(ResolvedPlace(entry, address_level(entry.code), places))
    out.sort(key=lambda r: r.level)  # stable: same-level addresses are disjoint
    return out


def place_values(
    base: np.ndarray, resolved: Sequence[ResolvedPlace], value: Callable[[PlacePolicy], Any]
) -> np.ndarray:
    """Per-place values of one field: ``base`` (the size-class or national value) overridden
    by every resolved entry whose ``value(entry)`` is not None, most specific last.

    Parameters
    ----------
    base
        One value per place, before any address.
    resolved
        From :func:`resolve_places` (sorted least specific first).
    value
        The field of an entry, e.g. ``lambda e: e.settlement.min_years``.

    Returns
    -------
    numpy.ndarray
        A new array of ``base``'s dtype.
    """
    out = np.array(base, copy=True)
    for r in resolved:
        v = value(r.entry)
        if v is not None:
            out[r.places] = v
    return out


def unit_amounts(
    n: int, resolved: Sequence[ResolvedPlace], value: Callable[[PlacePolicy], Any]
) -> UnitAmounts:
    """The :class:`UnitAmounts` of one field over ``n`` places: every resolved entry whose
    ``value(entry)`` is not None governs its places, most specific last (as
    :func:`place_values`)."""
    unit = np.full(n, -1, dtype=np.int64)
    amounts: list[float] = []
    for r in resolved:
        v = value(r.entry)
        if v is not None:
            unit[r.places] = len(amounts)
            amounts.append(float(v))
    return UnitAmounts(unit, np.asarray(amounts, dtype=np.float64))
