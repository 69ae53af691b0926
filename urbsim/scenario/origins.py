"""Where a place entry was written: the file and position a problem of ``policy.places`` or
``timeline.<year>.places`` is reported at.

``extends`` merges the place entries of a scenario and of the files it extends by code
(:func:`urbsim.scenario.places.merge_places`), so an entry's position in the merged list is
not where its author wrote it: the parent's entries come first, and an entry the child updates
keeps the parent's position. The loader validates the merged table; on a problem it asks this
module for the file and the position, in that file's list, of the entry the problem is about,
and reports ``policy.places[2].name`` in the file that wrote the entry's ``name``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

#: A field of a place entry as the loader names it: ``policy.places.2.name`` (pydantic's
#: location) or ``policy.places[2].name`` (already located); ``list`` is the list's path.
PLACE_FIELD: Final = re.compile(
    r"^(?P<list>policy\.places|timeline\.(?P<year>[^.\[]+)\.places)"
    r"(?:\.(?P<dot>\d+)|\[(?P<bracket>\d+)\])(?P<rest>\..*)?$"
)


@dataclass(frozen=True)
class Located:
    """A problem with the file it is reported in.

    Attributes
    ----------
    file : str
        The file that wrote the entry (or the field) the problem is about.
    field : str
        Dotted field with the entry's position in that file's list: ``policy.places[0].name``.
    reason : str
        Why it is wrong.
    """

    file: str
    field: str
    reason: str


def place_field(list_path: str, index: int, rest: str = "") -> str:
    """The name of field ``rest`` (``".name"``, or empty for the whole entry) of entry
    ``index`` of the list at ``list_path``: ``policy.places[2].name``."""
    return f"{list_path}[{index}]{rest}"


def _list_at(data: Mapping[str, Any], year: str | None) -> list[Any] | None:
    """The place list of a scenario table: ``policy.places`` (``year`` None) or
    ``timeline.<year>.places``; None where the table has none."""
    node: Any = data.get("policy") if year is None else (data.get("timeline") or {}).get(year)
    if not isinstance(node, dict):
        return None
    entries = node.get("places")
    return entries if isinstance(entries, list) else None


def _origin(
    chain: Sequence[tuple[str, Mapping[str, Any]]], year: str | None, code: Any, key: str | None
) -> tuple[str, int] | None:
    """The most derived file of ``chain`` whose list holds an entry of ``code`` that writes
    ``key`` (the entry's top-level field the problem is about), with its position; failing
    that, the most derived file whose list holds the code at all."""
    fallback = None
    for file, data in chain:
        for i, entry in enumerate(_list_at(data, year) or []):
            if not isinstance(entry, dict) or entry.get("code") != code:
                continue
            if key is None or key in entry:
                return file, i
            fallback = fallback or (file, i)
    return fallback


def _replaced_list(
    chain: Sequence[tuple[str, Mapping[str, Any]]], year: str | None, index: int
) -> str | None:
    """The file whose list stands as it was written, if it holds ``index``: the most derived
    one that has the list. (A list that is not all entries with integer codes replaces its
    parent's instead of merging, and a code written twice in one list survives only in a list
    that nothing merged into.)"""
    for file, data in chain:
        entries = _list_at(data, year)
        if entries is not None:
            return file if index < len(entries) else None
    return None


def locate(
    field: str,
    reason: str,
    merged: Mapping[str, Any],
    chain: Sequence[tuple[str, Mapping[str, Any]]],
    source: str,
) -> Located:
    """Where to report one problem of the merged scenario table ``merged``.

    Parameters
    ----------
    field, reason
        The problem as the loader found it (positions counted in the merged lists).
    merged
        The scenario table after ``extends`` and overrides.
    chain
        ``(file, table)`` of each file as written, most derived first (the file loaded, then
        the one it extends...); empty for a table that did not come from files.
    source
        Where a problem is reported when no file of ``chain`` wrote the entry (the file
        loaded, or ``"<dict>"``).

    Returns
    -------
    Located
        The file that wrote the entry and its position there; a field that is not a place
        entry's is returned as it stands, reported in ``source``.
    """
    match = PLACE_FIELD.match(field)
    if match is None:
        return Located(source, field, reason)
    year, rest = match["year"], match["rest"] or ""
    index = int(match["dot"] if match["dot"] is not None else match["bracket"])
    entries = _list_at(merged, year) or []
    code = entries[index].get("code") if index < len(entries) else None
    key = rest[1:].split(".", 1)[0] or None
    found = None
    codes = [e.get("code") for e in entries if isinstance(e, dict)]
    if isinstance(code, int) and not isinstance(code, bool) and codes.count(code) == 1:
        found = _origin(chain, year, code, key)
    elif (file := _replaced_list(chain, year, index)) is not None:
        found = (file, index)
    if found is None:
        return Located(source, place_field(match["list"], index, rest), reason)
    return Located(found[0], place_field(match["list"], found[1], rest), reason)


def duplicate_codes(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """A code written twice in one place list of one file: ``(field, reason)`` of the second
    entry. Checked on each file as written, because merging over ``extends`` would silently
    fold the two entries into one."""
    lists = [("policy.places", None, "")]
    timeline = data.get("timeline")
    if isinstance(timeline, dict):
        lists += [(f"timeline.{year}.places", year, f" in {year}") for year in timeline]
    problems = []
    for where, year, when in lists:
        seen: set[int] = set()
        for i, entry in enumerate(_list_at(data, year) or []):
            code = entry.get("code") if isinstance(entry, dict) else None
            if not isinstance(code, int) or isinstance(code, bool):
                continue
            if code in seen:
                field = place_field(where, i, ".code")
                problems.append((field, f"code {code} is addressed twice{when}"))
            seen.add(code)
    return problems
