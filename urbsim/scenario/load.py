"""Reading scenario files: ``extends``, ``--set`` overrides, validation and the policy timeline.

Everything that can be wrong with a scenario is found here, before a world is built: the error
names the file, the dotted field and the reason.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from pydantic import ValidationError

from urbsim.errors import UrbsimError
from urbsim.scenario.origins import duplicate_codes, locate, place_field
from urbsim.scenario.places import (
    PlaceIndex,
    address_problem,
    address_problems,
    census_reference,
    merge_places,
    world_place_index,
)
from urbsim.scenario.registry import packaged_path
from urbsim.scenario.schema import (
    TIMELINE_KEY,
    PlacePolicy,
    Policy,
    Scenario,
    timeline_key_problems,
)

#: Longest ``extends`` chain: real scenarios use two or three levels, and a chain of a
#: thousand files would exhaust Python's recursion limit.
MAX_EXTENDS_DEPTH: Final[int] = 32
#: Deepest nesting of tables and arrays in a scenario (real ones nest five levels): deeper data
#: would exhaust Python's recursion limit in copying, merging and validation.
MAX_NESTING: Final[int] = 32


class ScenarioError(UrbsimError, ValueError):
    """A scenario that cannot be run, with the file, the dotted field and the reason.

    ``files``, when given, names the file of each problem (a place entry written in a file
    that the scenario extends is reported there); otherwise every problem is ``source``'s.
    """

    def __init__(
        self,
        source: str,
        problems: list[tuple[str, str]],
        files: Sequence[str] | None = None,
    ) -> None:
        self.source = source
        self.problems = problems
        self.files = list(files) if files is not None else [source] * len(problems)
        lines = [
            f"{file}: {field or '(top level)'}: {reason}"
            for file, (field, reason) in zip(self.files, problems, strict=True)
        ]
        super().__init__("invalid scenario\n" + "\n".join(lines))


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario with its resolved policy for every year.

    Attributes
    ----------
    scenario : Scenario
        The validated scenario (``extends`` and overrides applied).
    source : str
        Path of the file it came from (or ``"<dict>"``).
    policies : dict[int, Policy]
        Policy in force in each year from ``start_year`` to ``end_year``.
    sha256 : str
        Hash of the canonical JSON of the resolved scenario.
    """

    scenario: Scenario
    source: str
    policies: dict[int, Policy]
    sha256: str

    def policy(self, year: int) -> Policy:
        """Policy in force in ``year``."""
        return self.policies[year]


def deep_merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """``base`` updated by ``patch``: tables merge key by key, arrays of place entries
    (``places``) merge by code, any other value replaces. So a scenario that extends another
    and names a place in the same table (``[[timeline.2017.places]]``) updates that place's
    entry rather than dropping the other places of the parent."""
    out = copy.deepcopy(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        elif key == "places" and _place_entries(value) and _place_entries(out.get(key)):
            out[key] = merge_places(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _place_entries(value: Any) -> bool:
    """Whether ``value`` is an array of tables that each have an integer ``code`` (anything
    else is replaced as it stands and reported by validation)."""
    return isinstance(value, list) and all(
        isinstance(e, dict) and isinstance(e.get("code"), int) for e in value
    )


def _dotted(*parts: object) -> str:
    """A dotted field name; a part that would be ambiguous or unprintable is quoted."""
    out = []
    for part in parts:
        text = str(part)
        plain = text and text.isprintable() and not any(c in text for c in " .\"'")
        out.append(text if plain else repr(text))
    return ".".join(out)


def _too_deep(data: Any, limit: int = MAX_NESTING) -> str | None:
    """The dotted path at which ``data`` nests deeper than ``limit``, or None (iterative, so
    that data too deep for recursion is measured too)."""
    stack: list[tuple[Any, tuple[object, ...]]] = [(data, ())]
    while stack:
        node, where = stack.pop()
        if len(where) > limit:
            shown = _dotted(*where[:4])
            return f"{shown}... (more than {limit} levels of tables and arrays)"
        if isinstance(node, dict):
            stack.extend((v, (*where, k)) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((v, (*where, i)) for i, v in enumerate(node))
    return None


def _parse_file(path: Path) -> dict[str, Any]:
    """The TOML table of one file (no ``extends``), or a ScenarioError naming the file."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(str(path), [("", f"cannot read: {exc.strerror or exc}")]) from None
    try:
        # utf-8-sig: a byte-order mark (Windows editors write one) is not part of the text.
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        reason = f"not a UTF-8 text file (byte {exc.start} is {raw[exc.start : exc.start + 1]!r})"
        raise ScenarioError(str(path), [("", reason)]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(str(path), [("", f"not valid TOML: {exc}")]) from None
    except RecursionError:
        reason = "arrays or tables nested too deeply to read"
        raise ScenarioError(str(path), [("", reason)]) from None
    deep = _too_deep(data)
    if deep is not None:
        raise ScenarioError(str(path), [("", f"nested too deeply at {deep}")])
    return data


def read_toml(path: Path, chain: tuple[Path, ...]) -> dict[str, Any]:
    """The file's table with its ``extends`` chain merged underneath."""
    if path in chain:
        cycle = " -> ".join(str(p) for p in (*chain, path))
        raise ScenarioError(str(chain[0]), [("extends", f"cycle: {cycle}")])
    if len(chain) >= MAX_EXTENDS_DEPTH:
        reason = f"chain of more than {MAX_EXTENDS_DEPTH} files (reached {path})"
        raise ScenarioError(str(chain[0]), [("extends", reason)])
    if not path.is_file():
        where = str(chain[-1]) if chain else str(path)
        field = "extends" if chain else ""
        what = "not a file" if path.exists() else "file not found"
        raise ScenarioError(where, [(field, f"{what}: {path}")])
    data = _parse_file(path)
    twice = duplicate_codes(data)
    if twice:
        raise ScenarioError(str(path), twice)
    # A relative world file is relative to the file that names it, not to a scenario that
    # extends that file from another folder.
    world = data.get("world")
    if isinstance(world, dict) and isinstance(world.get("world_file"), str):
        if "\0" in world["world_file"]:
            reason = "a file name cannot contain a NUL byte"
            raise ScenarioError(str(path), [("world.world_file", reason)])
        if not Path(world["world_file"]).is_absolute():
            world["world_file"] = str((path.parent / world["world_file"]).resolve())
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str) or not parent or "\0" in parent:
        raise ScenarioError(str(path), [("extends", "must be a file name (string)")])
    base = read_toml(_parent_path(path, parent), (*chain, path))
    return deep_merge(base, data)


def _parent_path(path: Path, parent: str) -> Path:
    """The file ``extends = parent`` names in ``path``: relative to ``path``'s folder, else the
    packaged scenario of that name (``extends = "baseline"``), else the missing relative path
    (reported as not found)."""
    relative = (path.parent / parent).resolve()
    if relative.exists():
        return relative
    packaged = packaged_path(parent)
    return relative if packaged is None else packaged.resolve()


def extends_chain(path: Path) -> list[tuple[str, dict[str, Any]]]:
    """Each file of ``path``'s ``extends`` chain as written, ``path`` first: ``(file, table)``.

    Read again only to say where a problem was written (:func:`locate_problems`): the chain
    has been read once without error, so a file that can no longer be read ends it.
    """
    out: list[tuple[str, dict[str, Any]]] = []
    seen: set[Path] = set()
    while path not in seen and len(out) < MAX_EXTENDS_DEPTH:
        seen.add(path)
        try:
            data = _parse_file(path)
        except ScenarioError:
            break
        out.append((str(path), data))
        parent = data.get("extends")
        if not isinstance(parent, str) or not parent or "\0" in parent:
            break
        path = _parent_path(path, parent)
    return out


def locate_problems(
    exc: ScenarioError,
    merged: Mapping[str, Any],
    chain: Sequence[tuple[str, Mapping[str, Any]]],
) -> ScenarioError:
    """``exc`` with each place entry's problem reported in the file that wrote the entry, at
    its position in that file's list (:func:`urbsim.scenario.origins.locate`), rather than at
    its position in the list merged over ``extends``."""
    located = [locate(f, r, merged, chain, exc.source) for f, r in exc.problems]
    problems = [(p.field, p.reason) for p in located]
    return ScenarioError(exc.source, problems, [p.file for p in located])


def parse_override(item: str) -> tuple[list[str], Any]:
    """Split ``dotted.key=value``; the value is read as TOML, else taken as a bare string."""
    key, sep, raw = item.partition("=")
    key = key.strip()
    if not sep or not key or any(not part for part in key.split(".")):
        raise ScenarioError("--set", [(item, "expected dotted.key=value")])
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    except RecursionError:
        value = None  # reported below, like any value nested too deeply
    keys = key.split(".")
    if value is None or len(keys) > MAX_NESTING or _too_deep(value) is not None:
        raise ScenarioError("--set", [(item[:80], "nested too deeply")])
    return keys, value


def _check_overrides(overrides: object) -> list[str]:
    """``overrides`` as a list of strings; a wrong Python type is a TypeError."""
    if overrides is None:
        return []
    if isinstance(overrides, str | bytes) or not isinstance(overrides, list | tuple):
        raise TypeError(
            "overrides must be a list of 'dotted.key=value' strings, "
            f"got {type(overrides).__name__}: {overrides!r:.80}"
        )
    for i, item in enumerate(overrides):
        if not isinstance(item, str):
            raise TypeError(
                f"overrides[{i}] must be a 'dotted.key=value' string, "
                f"got {type(item).__name__}: {item!r:.80}"
            )
    return list(overrides)


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """``data`` with each ``dotted.key=value`` set."""
    out = copy.deepcopy(data)
    for item in _check_overrides(overrides):
        keys, value = parse_override(item)
        node = out
        for key in keys[:-1]:
            child = node.setdefault(key, {})
            if not isinstance(child, dict):
                raise ScenarioError("--set", [(item, f"{key!r} is not a table")])
            node = child
        node[keys[-1]] = value
    return out


def validation_problems(exc: ValidationError, prefix: str = "") -> list[tuple[str, str]]:
    """(dotted field, reason) of every error of a pydantic validation, fields under ``prefix``
    (shared by the scenario, sweep and experiment loaders so their messages read alike)."""
    out = []
    for err in exc.errors():
        field = ".".join(p for p in (prefix, _dotted(*err["loc"])) if p)
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key (misspelt?)"
        elif err["loc"] and "input" in err and err["type"] not in ("missing",):
            # Not for a whole-scenario check (empty loc): its input is the whole scenario.
            msg = f"{msg} (got {err['input']!r:.200})"
        out.append((field, msg))
    return out


def resolve_policies(scenario: Scenario, source: str) -> dict[int, Policy]:
    """Policy in force in each year, from the scenario's policy and its timeline.

    Timeline entries after ``end_year`` are checked like the others (a mistake in the file is
    one whatever the run's length) but never reached: a run can stop early, for example with
    ``--set end_year=2019``, without editing its timeline (:func:`unreached_timeline_years`
    lists them). Entries in or before ``start_year`` are refused: the start year's policy is
    ``policy`` itself.
    """
    malformed = dict(timeline_key_problems(scenario.timeline))
    problems = [(_dotted("timeline", key), reason) for key, reason in malformed.items()]
    changes: dict[int, dict[str, Any]] = {}
    for key, patch in scenario.timeline.items():
        if key in malformed:
            continue
        year = int(key)
        if year <= scenario.start_year:
            problems.append(
                (
                    _dotted("timeline", key),
                    f"year {year} is outside the run: timeline entries take effect after "
                    f"start_year ({scenario.start_year}), whose policy is [policy] itself",
                )
            )
            continue
        changes[year] = patch
    for year, patch in changes.items():
        problems.extend(_timeline_places_problems(year, patch))
    if problems:
        raise ScenarioError(source, problems)
    current = scenario.policy.model_dump()
    policies: dict[int, Policy] = {}
    policy = scenario.policy
    last = max([scenario.end_year, *changes])
    for year in range(scenario.start_year, last + 1):
        if year in changes:
            current = _apply_patch(current, changes[year])
            try:
                policy = Policy.model_validate(current)
            except ValidationError as exc:
                # Name the timeline entry that introduced the problem.
                raise ScenarioError(source, validation_problems(exc, f"timeline.{year}")) from None
            current = policy.model_dump()
        if year <= scenario.end_year:
            policies[year] = policy
    return policies


def unreached_timeline_years(scenario: Scenario) -> list[int]:
    """Years of the timeline entries after ``end_year``, in order: a run stopped early
    never reaches them (their contents are still validated)."""
    years = (int(k) for k in scenario.timeline if TIMELINE_KEY.fullmatch(k))
    return sorted(y for y in years if y > scenario.end_year)


def _timeline_places_problems(year: int, patch: dict[str, Any]) -> list[tuple[str, str]]:
    """Problems of a timeline entry's ``places``: each entry is checked on its own (so the
    error names its position in the file) before it is merged by code."""
    if "places" not in patch:
        return []
    where = _dotted("timeline", year, "places")
    entries = patch["places"]
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        return [(where, f"must be an array of tables: write [[{where}]] (got {entries!r:.80})")]
    problems = []
    for i, entry in enumerate(entries):
        try:
            PlacePolicy.model_validate(entry)
        except ValidationError as exc:
            problems.extend(validation_problems(exc, place_field(where, i)))
    codes = [e.get("code") for e in entries]
    for i, code in enumerate(codes):
        if code in codes[:i]:
            field = place_field(where, i, ".code")
            problems.append((field, f"code {code} is addressed twice in {year}"))
    return problems


def _apply_patch(current: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """The policy table after a timeline entry: tables merge key by key, and ``places`` merge
    by code (:func:`urbsim.scenario.places.merge_places`) rather than replacing the list."""
    rest = {k: v for k, v in patch.items() if k != "places"}
    out = deep_merge(current, rest)
    if "places" in patch:
        out["places"] = merge_places(current.get("places", []), patch["places"])
    return out


def place_addresses(scenario: Scenario) -> list[tuple[str, int, str]]:
    """Every place address of a scenario as (field, code, name): the base policy's
    ``places`` and each timeline entry's (entries already validated)."""
    policy = scenario.policy.places
    out = [(place_field("policy.places", i), e.code, e.name) for i, e in enumerate(policy)]
    for key, patch in scenario.timeline.items():
        where = _dotted("timeline", key, "places")
        for i, entry in enumerate(patch.get("places", [])):
            out.append((place_field(where, i), entry["code"], entry["name"]))
    return out


def check_place_addresses(scenario: Scenario, source: str) -> None:
    """Raise a ScenarioError naming each place address whose code the scenario's world does
    not have, or whose name is not the world's name for that code. A scenario without place
    addresses reads nothing; a census world file that does not exist is left to the caller
    (``load_scenario`` reports it)."""
    addresses = place_addresses(scenario)
    if not addresses:
        return
    world = scenario.world
    if world.world_file is not None and not Path(world.world_file).is_file():
        return
    try:
        index = world_place_index(world.name, world.world_file)
    except UrbsimError as exc:  # a world file that cannot be read: its addresses cannot be checked
        raise ScenarioError(source, [("world.world_file", str(exc))]) from None
    problems = address_problems(addresses, index, census_reference())
    if problems:
        raise ScenarioError(source, problems)


def check_codes_in_world(loaded: LoadedScenario, index: PlaceIndex) -> None:
    """Raise a ScenarioError naming each place address whose code neither ``index`` (the world
    a model is built on, which may not be the scenario's own) nor the census of 2010 holds.
    Names were checked against the scenario's world when it was loaded."""
    addresses = place_addresses(loaded.scenario)
    if not addresses:
        return
    reference = census_reference()
    problems = [
        (f"{where}.code", problem[1])
        for where, code, name in addresses
        if (problem := address_problem(code, name, index, reference)) is not None
        and problem[0] == "code"
    ]
    if problems:
        exc = ScenarioError(loaded.source, problems)
        source = Path(loaded.source)
        chain = extends_chain(source) if source.is_file() else []
        raise locate_problems(exc, loaded.scenario.model_dump(), chain)


def scenario_hash(scenario: Scenario) -> str:
    """sha256 of the canonical JSON of a resolved scenario."""
    canonical = json.dumps(
        scenario.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=True
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def validate(
    data: dict[str, Any], source: str = "<dict>", base_dir: Path | None = None
) -> LoadedScenario:
    """Validate a scenario table (``extends`` already merged) and resolve its timeline.

    Raises
    ------
    TypeError
        If ``data`` is not a dict.
    ScenarioError
        If it is not a valid scenario.
    """
    if not isinstance(data, dict):
        raise TypeError(f"a scenario table must be a dict, got {type(data).__name__}")
    try:
        return _validate(data, source, base_dir)
    except ScenarioError as exc:
        raise locate_problems(exc, data, ()) from None


def _validate(data: dict[str, Any], source: str, base_dir: Path | None) -> LoadedScenario:
    """:func:`validate` with the place entries' problems at their merged positions."""
    deep = _too_deep(data)
    if deep is not None:
        raise ScenarioError(source, [("", f"nested too deeply at {deep}")])
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(source, validation_problems(exc)) from None
    wf = scenario.world.world_file
    if wf is not None and base_dir is not None and not Path(wf).is_absolute():
        world = scenario.world.model_copy(update={"world_file": str((base_dir / wf).resolve())})
        scenario = scenario.model_copy(update={"world": world})
    policies = resolve_policies(scenario, source)
    check_place_addresses(scenario, source)
    return LoadedScenario(scenario, source, policies, scenario_hash(scenario))


def load_scenario(
    path: str | Path, overrides: list[str] | None = None, **fields: Any
) -> LoadedScenario:
    """Read, merge, override and validate a scenario file.

    Parameters
    ----------
    path
        The TOML file.
    overrides
        ``dotted.key=value`` strings, applied after ``extends``.
    **fields
        Top-level fields to set (for example ``seed=3``), applied last.

    Raises
    ------
    TypeError
        If ``path`` is not a str or path, or ``overrides`` is not a list of strings.
    ScenarioError
        When the file is missing, unreadable, not UTF-8 TOML, or not a valid scenario, or an
        override is malformed.
    """
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"path must be a str or a path, got {type(path).__name__}")
    overrides = _check_overrides(overrides)
    if "\0" in os.fsdecode(path):
        raise ScenarioError(
            repr(os.fsdecode(path)), [("", "a file name cannot contain a NUL byte")]
        )
    path = Path(path).resolve()
    data = read_toml(path, ())
    data = apply_overrides(data, overrides)
    data.update({k: v for k, v in fields.items() if v is not None})
    try:
        loaded = validate(data, str(path), path.parent)
    except ScenarioError as exc:
        raise locate_problems(exc, data, extends_chain(path)) from None
    wf = loaded.scenario.world.world_file
    if wf is not None and not Path(wf).is_file():
        raise ScenarioError(str(path), [("world.world_file", f"file not found: {wf}")])
    return loaded
