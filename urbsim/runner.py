"""Running a scenario: build the model, step it to the end, return its tables."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from urbsim.constants_cache import ConstantsCache
from urbsim.model import UrbanizationModel
from urbsim.scenario import LoadedScenario


@dataclass
class RunResult:
    """Tables of a finished run.

    Attributes
    ----------
    national : pandas.DataFrame
        One row per year.
    places : pandas.DataFrame
        One row per place and year.
    loaded : LoadedScenario
        The scenario that was run.
    wall_seconds : float
        Wall time of the run, world building included.
    notes : dict[str, str]
        Definitions and sources of the world (for the manifest).
    flows : pandas.DataFrame or None
        Moves between places by province pair and year (:data:`urbsim.output.columns.FLOWS`).
    """

    national: pd.DataFrame
    places: pd.DataFrame
    loaded: LoadedScenario
    wall_seconds: float
    notes: dict[str, str] = field(default_factory=dict)
    flows: pd.DataFrame | None = None


def simulate(
    loaded: LoadedScenario,
    progress: Callable[[int, int, int], None] | None = None,
    until: int | None = None,
    notice: Callable[[str], None] | None = None,
    check_memory: bool = True,
    constants_cache: ConstantsCache | None = None,
) -> RunResult:
    """Run a scenario from its start year to its end year (or to ``until``).

    Parameters
    ----------
    loaded
        A validated scenario.
    progress
        Called as ``progress(years_done, years_total, households)`` after each year.
    until
        Stop after this year instead of the scenario's end year; the years simulated are the
        same as in the full run.
    notice
        Receives, before the run, the memory estimate of a large run
        (:func:`urbsim.resources.memory_notice`) and :data:`urbsim.progress.COMPILE_MESSAGE`
        when it will compile the Numba kernels (the first on a machine: otherwise the first
        year seems to hang).
    check_memory
        Refuse, before the world is built, a run whose agents would not fit in the available
        memory (:func:`urbsim.resources.check_run_memory`); False skips the check.
    constants_cache
        Where fitted destination constants are looked up and kept; by default the one the
        environment names (:meth:`urbsim.constants_cache.ConstantsCache.from_environment`),
        ``ConstantsCache(None)`` for none. The tables are the same either way.

    Raises
    ------
    urbsim.errors.ResourceError
        If ``check_memory`` and the run's estimated memory exceeds the available memory.
    """
    start = time.perf_counter()
    if check_memory:
        from urbsim.resources import check_run_memory

        world = loaded.scenario.world
        check_run_memory(world.name, world.world_file, world.households_per_agent)
    if notice is not None:
        from urbsim.progress import COMPILE_MESSAGE, kernels_cached
        from urbsim.resources import memory_notice

        world = loaded.scenario.world
        line = memory_notice(world.name, world.world_file, world.households_per_agent)
        if line is not None:
            notice(line)

        if kernels_cached() is False:
            notice(COMPILE_MESSAGE)
    cache = constants_cache if constants_cache is not None else ConstantsCache.from_environment()
    model = UrbanizationModel(loaded, constants_cache=cache)
    model.run(progress, until)
    notes = {k: str(v) for k, v in model.world.notes.items()}
    notes["households_per_agent"] = str(model.hpa)
    notes["agents"] = str(len(model.households))
    return RunResult(
        model.national_table(),
        model.places_table(),
        loaded,
        time.perf_counter() - start,
        notes,
        model.flows_table(),
    )
