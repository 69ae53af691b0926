"""Reading scenario files: ``extends``, ``--set`` overrides, validation and the policy timeline.

Everything that can be wrong with a scenario is found here, before a world is built: the error
names the file, the dotted field and the reason.
"""

from __future__ import annotations

import copy
import hashlib
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from urbsim.errors import UrbsimError
from urbsim.scenario.schema import Policy, Scenario


class ScenarioError(UrbsimError, ValueError):
    """A scenario that cannot be run, with the file, the dotted field and the reason."""

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        self.source = source
        self.problems = problems
        lines = [f"{source}: {field or '(top level)'}: {reason}" for field, reason in problems]
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
    """``base`` updated by ``patch``: tables merge key by key, any other value replaces."""
    out = copy.deepcopy(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _read_toml(path: Path, chain: tuple[Path, ...]) -> dict[str, Any]:
    """The file's table with its ``extends`` chain merged underneath."""
    if path in chain:
        cycle = " -> ".join(str(p) for p in (*chain, path))
        raise ScenarioError(str(chain[0]), [("extends", f"cycle: {cycle}")])
    if not path.is_file():
        where = str(chain[-1]) if chain else str(path)
        field = "extends" if chain else ""
        raise ScenarioError(where, [(field, f"file not found: {path}")])
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(str(path), [("", f"not valid TOML: {exc}")]) from None
    # A relative world file is relative to the file that names it, not to a scenario that
    # extends that file from another folder.
    world = data.get("world")
    if isinstance(world, dict) and isinstance(world.get("world_file"), str):
        if not Path(world["world_file"]).is_absolute():
            world["world_file"] = str((path.parent / world["world_file"]).resolve())
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise ScenarioError(str(path), [("extends", "must be a file name (string)")])
    base = _read_toml((path.parent / parent).resolve(), (*chain, path))
    return deep_merge(base, data)


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
    return key.split("."), value


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """``data`` with each ``dotted.key=value`` set."""
    out = copy.deepcopy(data)
    for item in overrides:
        keys, value = parse_override(item)
        node = out
        for key in keys[:-1]:
            child = node.setdefault(key, {})
            if not isinstance(child, dict):
                raise ScenarioError("--set", [(item, f"{key!r} is not a table")])
            node = child
        node[keys[-1]] = value
    return out


def _problems(exc: ValidationError, prefix: str = "") -> list[tuple[str, str]]:
    out = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        field = ".".join(p for p in (prefix, loc) if p)
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key (misspelt?)"
        elif "input" in err and err["type"] not in ("missing",):
            msg = f"{msg} (got {err['input']!r})"
        out.append((field, msg))
    return out


def resolve_policies(scenario: Scenario, source: str) -> dict[int, Policy]:
    """Policy in force in each year, from the scenario's policy and its timeline."""
    problems: list[tuple[str, str]] = []
    changes: dict[int, dict[str, Any]] = {}
    for key, patch in scenario.timeline.items():
        if not key.isdigit():
            problems.append((f"timeline.{key}", "timeline keys must be years"))
            continue
        year = int(key)
        if not scenario.start_year < year <= scenario.end_year:
            problems.append(
                (
                    f"timeline.{key}",
                    f"year {year} is outside the run "
                    f"({scenario.start_year + 1}-{scenario.end_year})",
                )
            )
            continue
        changes[year] = patch
    if problems:
        raise ScenarioError(source, problems)
    current = scenario.policy.model_dump()
    policies: dict[int, Policy] = {}
    policy = scenario.policy
    for year in range(scenario.start_year, scenario.end_year + 1):
        if year in changes:
            current = deep_merge(current, changes[year])
            try:
                policy = Policy.model_validate(current)
            except ValidationError as exc:
                # Name the timeline entry that introduced the problem.
                raise ScenarioError(source, _problems(exc, f"timeline.{year}")) from None
            current = policy.model_dump()
        policies[year] = policy
    return policies


def scenario_hash(scenario: Scenario) -> str:
    """sha256 of the canonical JSON of a resolved scenario."""
    canonical = json.dumps(
        scenario.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=True
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def validate(
    data: dict[str, Any], source: str = "<dict>", base_dir: Path | None = None
) -> LoadedScenario:
    """Validate a scenario table (``extends`` already merged) and resolve its timeline."""
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(source, _problems(exc)) from None
    wf = scenario.world.world_file
    if wf is not None and base_dir is not None and not Path(wf).is_absolute():
        world = scenario.world.model_copy(update={"world_file": str((base_dir / wf).resolve())})
        scenario = scenario.model_copy(update={"world": world})
    policies = resolve_policies(scenario, source)
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
    ScenarioError
        When the file is missing, not TOML, or not a valid scenario.
    """
    path = Path(path).resolve()
    data = _read_toml(path, ())
    data = apply_overrides(data, list(overrides or []))
    data.update({k: v for k, v in fields.items() if v is not None})
    loaded = validate(data, str(path), path.parent)
    wf = loaded.scenario.world.world_file
    if wf is not None and not Path(wf).is_file():
        raise ScenarioError(str(path), [("world.world_file", f"file not found: {wf}")])
    return loaded
