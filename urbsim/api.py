"""The Python entry point: :func:`run` a scenario and get its tables and manifest back.

>>> import urbsim                                                          # doctest: +SKIP
>>> out = urbsim.run("scenarios/baseline.toml", seed=7,
...                  overrides={"world.households_per_agent": 40000.0})  # doctest: +SKIP
>>> out.national[["year", "urbanization_rate"]].tail(3)                    # doctest: +SKIP

:func:`run` writes nothing: the command ``urbsim run`` is :func:`run` plus the run folder
(tables, manifest, figures). Wrong Python types raise :class:`TypeError`; a scenario, an override
or an ``until`` that cannot be run raises a :class:`~urbsim.errors.UrbsimError` naming the file,
field and reason, before any simulation.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from urbsim.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

    from urbsim.scenario import LoadedScenario


@dataclass(frozen=True)
class RunOutput:
    """What a run produced.

    Attributes
    ----------
    national : pandas.DataFrame
        One row per year (columns: ``docs/outputs.md``).
    places : pandas.DataFrame
        One row per place and year.
    manifest : dict
        How the run was made (scenario as run, seed, versions, git state, wall time), the same
        dictionary ``urbsim run`` writes to ``manifest.json``.
    loaded : LoadedScenario
        The scenario as run (seed and overrides applied).
    flows : pandas.DataFrame or None
        Moves between places by province of origin and destination, one row per province pair
        and simulated year.
    """

    national: pd.DataFrame
    places: pd.DataFrame
    manifest: dict[str, Any]
    loaded: LoadedScenario
    flows: pd.DataFrame | None = None


def scenario_path(name_or_path: str | os.PathLike[str]) -> Path:
    """The scenario file a path or a packaged scenario's name stands for.

    An existing file always wins; otherwise the name of a scenario packaged with urbsim
    (``"baseline"``) is looked up, where this version of urbsim packages scenarios.

    Raises
    ------
    TypeError
        If the argument is not a str or path.
    """
    if not isinstance(name_or_path, str | os.PathLike):
        raise TypeError(f"a scenario must be a file path or a name, got {type(name_or_path)}")
    try:
        from urbsim.scenario.registry import resolve_scenario  # type: ignore[import-not-found]
    except ImportError:
        # An urbsim without packaged scenarios: only paths; the loader reports a missing file.
        return Path(name_or_path)
    return Path(resolve_scenario(name_or_path))


def _set_dotted(data: dict[str, Any], key: str, value: Any) -> None:
    """Set ``data[a][b][c] = value`` for ``key == "a.b.c"`` (tables are created as needed)."""
    from urbsim.scenario import ScenarioError

    parts = key.split(".")
    if not key or any(not p for p in parts):
        raise ScenarioError("overrides", [(key, "expected a dotted key such as 'policy.x.y'")])
    node = data
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ScenarioError("overrides", [(key, f"{part!r} is not a table")])
        node = child
    node[parts[-1]] = value


def _check_arguments(seed: object, overrides: object, until: object) -> None:
    """TypeError for arguments of the wrong Python type (bool is not an int here)."""
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise TypeError(f"seed must be an int or None, got {type(seed).__name__}: {seed!r:.80}")
    if until is not None and (isinstance(until, bool) or not isinstance(until, int)):
        raise TypeError(f"until must be an int (a year) or None, got {type(until).__name__}")
    if overrides is not None:
        if not isinstance(overrides, Mapping):
            raise TypeError(
                "overrides must be a dict {'dotted.key': value}, "
                f"got {type(overrides).__name__}: {overrides!r:.80}"
            )
        for key in overrides:
            if not isinstance(key, str):
                raise TypeError(f"override keys must be dotted strings, got {key!r:.80}")


def check_scenario(
    scenario: str | os.PathLike[str] | LoadedScenario,
    seed: int | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> LoadedScenario:
    """Validate a scenario as :func:`run` would simulate it (nothing is run); ``urbsim check``.

    Parameters
    ----------
    scenario, seed, overrides
        As for :func:`run`.

    Raises
    ------
    TypeError
        If an argument is of the wrong type.
    urbsim.errors.UrbsimError
        If the scenario cannot be found or is invalid, or an override makes it invalid.
    """
    from urbsim.scenario import LoadedScenario, load_scenario, validate

    _check_arguments(seed, overrides, None)
    if isinstance(scenario, LoadedScenario):
        loaded = scenario
    elif isinstance(scenario, str | os.PathLike):
        loaded = load_scenario(scenario_path(scenario))
    else:
        raise TypeError(
            "scenario must be a file path, a packaged scenario's name or a LoadedScenario, "
            f"got {type(scenario).__name__}"
        )
    if seed is None and not overrides:
        return loaded
    # Overrides are applied to the resolved scenario (extends merged, world file absolute)
    # and validated again, so that an override is checked like a field of the file.
    data = loaded.scenario.model_dump(mode="json")
    for key, value in (overrides or {}).items():
        _set_dotted(data, key, value)
    if seed is not None:
        data["seed"] = seed
    return validate(data, f"{loaded.source} (with overrides)")


def run(
    scenario: str | os.PathLike[str] | LoadedScenario,
    seed: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    until: int | None = None,
    *,
    progress: Callable[[int, int, int], None] | None = None,
) -> RunOutput:
    """Run a scenario and return its tables and manifest (nothing is written to disk).

    Parameters
    ----------
    scenario
        A scenario file, the name of a packaged scenario (where urbsim packages scenarios), or
        a :class:`~urbsim.scenario.LoadedScenario` (from :func:`urbsim.load_scenario`).
    seed
        Seed of the run; None keeps the scenario's.
    overrides
        Scenario fields to set, as ``{"dotted.key": value}`` with Python values, for example
        ``{"policy.permit.enabled": True, "world.households_per_agent": 40000.0}``.
    until
        Stop after this year (the years simulated are those of the full run).
    progress
        Called as ``progress(years_done, years_total, households)`` after each year.

    Returns
    -------
    RunOutput

    Raises
    ------
    TypeError
        If an argument is of the wrong type.
    urbsim.errors.UrbsimError
        If the scenario cannot be found or is invalid, an override makes it invalid, ``until``
        is outside the run, or the world file cannot be read.
    """
    from urbsim.output import build_manifest
    from urbsim.runner import simulate

    _check_arguments(seed, overrides, until)
    loaded = check_scenario(scenario, seed, overrides)
    spec = loaded.scenario
    if until is not None and not spec.start_year < until <= spec.end_year:
        raise InputError(f"until={until}: outside the run ({spec.start_year + 1}-{spec.end_year})")
    result = simulate(loaded, progress=progress, until=until)
    manifest = build_manifest(result.loaded, spec.seed, result.wall_seconds, result.notes)
    if until is not None:
        manifest["until"] = until
    return RunOutput(result.national, result.places, manifest, result.loaded, result.flows)
