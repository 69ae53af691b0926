"""Resource guards: refuse a run or a sweep the machine cannot hold, before building anything.

A run's memory is dominated by its household agents, whose number is known before the world
is built: ``agents = world households / households_per_agent`` (the synthetic world's province
table, or the census world file's household and collective-quarter columns, read alone). The
estimate is compared with the memory this process may use (``MemAvailable`` of
``/proc/meminfo``, or less under a cgroup limit) and a request beyond it raises
:class:`~urbsim.errors.ResourceError` with the estimate, the limit and the flag that overrides
it. Sweeps are also limited in their number of runs (:data:`MAX_RUNS` without ``--large``).
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Final

from urbsim.errors import ResourceError

#: Peak resident memory of a run: a fixed part (interpreter, numpy, pandas, Numba's compiled
#: kernels, the place-level tables such as the 2,870 x 2,870 network and gravity matrices, the
#: census world's build) plus a part per household agent at the start, which covers the
#: households formed during the run (a 2010-2035 census run ends with about 1.48 rows per
#: starting agent, 20 bytes each, written into spare rows allocated with the world) and the
#: year's transient arrays. Measured with ``benchmarks/full_scale.py`` (peak RSS of the run's
#: process, census world 2010-2035, two threads; ``benchmarks/results/full_scale.json``, commit
#: f040cc2, 2026-12-07): 0.68 GB at 0.49 M agents (1,000 households per agent), 1.18 GB at
#: 4.9 M, 2.51 GB at 49.5 M and 16.81 GB at 494.8 M (one household per agent). The line
#: through the peaks at 100 and 1 households per agent: about 1.02 GB fixed and 31.9 bytes per
#: agent (through the last three, 0.98 GB and 32.0 bytes). Rounded up: 1,000 MiB + 34 bytes
#: per agent, 3-9 % above the peaks from 4.9 M agents up; 57 % above the smallest, whose fixed
#: part is smaller (a sweep of small runs is estimated on the safe side). The estimate before,
#: 640 MiB + 43 bytes (fitted on 2026-12-02 at 10 households per agent and above), was 31 %
#: above the full-scale peak and 25 % below the one at 100 households per agent.
FIXED_BYTES: Final[int] = 1000 * 1024**2
BYTES_PER_AGENT: Final[int] = 24
#: Of the bytes per starting agent, those for the households formed during the run (0.48 rows
#: per agent at 20 bytes, rounded up; counted apart so that the estimate says where the memory
#: goes).
GROWTH_BYTES_PER_AGENT: Final[int] = 10
#: Households of the synthetic world (its province table's ``households_2010``), for callers
#: that have no scenario at hand.
SYNTHETIC_HOUSEHOLDS: Final[float] = 4.02e8
#: Runs a sweep may have without ``--large``.
MAX_RUNS: Final[int] = 100_000
#: The flags that override the guards (named in the messages).
MEMORY_FLAG: Final[str] = "--ignore-memory-limit"
LARGE_FLAG: Final[str] = "--large"


def _gib(n: float) -> str:
    return f"{n / 1024**3:,.1f} GiB"


def world_households(world_name: str, world_file: str | Path | None) -> float:
    """Households (agents at ``households_per_agent = 1``) of a world, read cheaply.

    The synthetic world: its province table's 2010 households. The census world: the file's
    family households plus residents outside family households (collective quarters, one agent
    each), read as two columns of the Parquet file without building anything.

    Raises
    ------
    urbsim.world.census.WorldFileError
        If the census world file cannot be read.
    """
    if world_name == "china-synthetic":
        from urbsim.world.provinces import load_provinces

        return float(load_provinces()["households_2010"].sum())
    import pyarrow as pa
    import pyarrow.parquet as pq

    from urbsim.world.census import WorldFileError

    if world_file is None:
        from urbsim.world.census_file import packaged_world_path

        path = packaged_world_path()  # no file named: the census world packaged with urbsim
    else:
        path = Path(str(world_file))
    try:
        table = pq.read_table(path, columns=["households", "residents", "family_persons"])
    except (OSError, pa.ArrowException, KeyError) as exc:
        raise WorldFileError(f"{path}: cannot read as a world file: {exc}") from None
    df = table.to_pandas()
    collective = (df["residents"] - df["family_persons"]).clip(lower=0)
    return float(df["households"].sum() + collective.sum())


def run_agents(world_name: str, world_file: str | Path | None, households_per_agent: float) -> int:
    """Household agents a run will hold (about one per ``households_per_agent`` households)."""
    return math.ceil(world_households(world_name, world_file) / households_per_agent)


def run_bytes(agents: int) -> int:
    """Estimated peak resident memory of one run of ``agents`` household agents (at the start;
    the households formed during the run included)."""
    return FIXED_BYTES + (BYTES_PER_AGENT + GROWTH_BYTES_PER_AGENT) * int(agents)


def _cgroup_room() -> int | None:
    """Memory left under this process's cgroup limit (v2, else v1), None without a limit."""
    for limit_file, usage_file in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        (
            "/sys/fs/cgroup/memory/memory.limit_in_bytes",
            "/sys/fs/cgroup/memory/memory.usage_in_bytes",
        ),
    ):
        try:
            limit = Path(limit_file).read_text().strip()
            usage = int(Path(usage_file).read_text().strip())
        except (OSError, ValueError):
            continue
        # "max" (v2) or a huge number (v1: no limit set) mean unlimited.
        if limit == "max" or int(limit) >= 1 << 60:
            return None
        return max(0, int(limit) - usage)
    return None


def available_memory() -> int | None:
    """Bytes this process may still allocate: ``MemAvailable``, or less under a cgroup limit.

    None when neither is known (not Linux): the guards then do not refuse anything.
    """
    found: list[int] = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                found.append(int(line.split()[1]) * 1024)
                break
    except (OSError, ValueError, IndexError):
        pass
    room = _cgroup_room()
    if room is not None:
        found.append(room)
    return min(found) if found else None


def check_memory(need: int, what: str, flag: str = MEMORY_FLAG) -> None:
    """Refuse ``need`` bytes when they exceed the available memory.

    Parameters
    ----------
    need
        Estimated peak bytes.
    what
        What needs them, for the message (e.g. ``"a run of 201,000,000 agents"``).
    flag
        The flag that overrides the guard.

    Raises
    ------
    ResourceError
        With the estimate, the limit and the flag.
    """
    limit = available_memory()
    if limit is not None and need > limit:
        raise ResourceError(
            f"{what} needs about {_gib(need)} of memory, more than the {_gib(limit)} available "
            f"(MemAvailable / cgroup limit); estimate {_gib(FIXED_BYTES)} + "
            f"{BYTES_PER_AGENT + GROWTH_BYTES_PER_AGENT} bytes per household agent; raise "
            f"households_per_agent, use fewer workers, or pass {flag} to try anyway"
        )


def check_run_memory(
    world_name: str,
    world_file: str | Path | None,
    households_per_agent: float,
    workers: int = 1,
    flag: str = MEMORY_FLAG,
) -> int:
    """Refuse runs whose agents would not fit in memory; return the per-run estimate in bytes.

    ``workers`` runs at once need ``workers`` times one run's memory.

    Raises
    ------
    ResourceError
        If ``workers`` runs need more than the available memory.
    """
    agents = run_agents(world_name, world_file, households_per_agent)
    per_run = run_bytes(agents)
    what = f"a run of {agents:,} household agents (households_per_agent={households_per_agent:g})"
    if workers > 1:
        what = f"{workers} workers running {what[2:]} each"
    check_memory(per_run * workers, what, flag)
    return per_run


#: Runs estimated to need at least this much memory are announced before they start: from
#: about 32 million household agents (10-15 households per agent), not the default scales
#: (baseline's 1.0 million agents, china_census's 0.5 million).
ANNOUNCE_BYTES: Final[int] = 2 * 1024**3


def memory_notice(world_name: str, world_file: str | Path | None, hpa: float) -> str | None:
    """The line announcing a large run's memory estimate (what the guard checks), or None for a
    run under :data:`ANNOUNCE_BYTES`: a user starting a long run sees what it will take."""
    agents = run_agents(world_name, world_file, hpa)
    need = run_bytes(agents)
    if need < ANNOUNCE_BYTES:
        return None
    limit = available_memory()
    room = "" if limit is None else f"; {_gib(limit)} available"
    return f"memory: about {_gib(need)} estimated for {agents:,} household agents{room}"


def check_run_count(runs: int, source: str, large: bool) -> None:
    """Refuse a sweep of more than :data:`MAX_RUNS` runs unless ``large``.

    Raises
    ------
    ResourceError
        Naming the sweep file, the number of runs, the limit and the flag.
    """
    if runs > MAX_RUNS and not large:
        raise ResourceError(
            f"{source}: the sweep has {runs:,} runs, more than {MAX_RUNS:,}; check design.n, "
            f"the grid values and replications, or pass {LARGE_FLAG} to run it"
        )


def cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def oversubscription_warning(workers: int, threads: int) -> str | None:
    """A one-line warning when workers x threads exceed the cores, else None."""
    n = cores()
    if workers * threads > n:
        return (
            f"warning: {workers} worker(s) x {threads} thread(s) on {n} core(s): runs will "
            "compete for the cores and each worker holds its own run in memory"
        )
    return None
