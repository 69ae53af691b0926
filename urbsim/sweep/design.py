"""Design points and run seeds of a sweep.

Runs are numbered in *run order*: ``run = point * replications + replication``. Every run's
seed derives from the sweep seed, the design point and the replication alone, so a run can be
reproduced without the rest of the sweep, and adding replications or points never changes the
seeds of the others.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd

from urbsim.sweep.spec import SweepError, SweepSpec, check_points, format_value, toml_value

#: Spawn key of the design's own random stream (SALib's sampling seed): design points and
#: replications use two-element spawn keys, so this one-element key can never collide with them.
_DESIGN_STREAM: Final[int] = 0x5EED


def run_seed(sweep_seed: int, point: int, replication: int) -> int:
    """The scenario seed of one run.

    ``SeedSequence(sweep_seed, spawn_key=(point, replication))`` is the sequence that
    ``SeedSequence(sweep_seed).spawn(points)[point].spawn(replications)[replication]`` gives
    (numpy's spawn appends the child's index to the spawn key); its first 64-bit word, shifted
    right by one, is the seed (scenario seeds are below 2**63).

    Parameters
    ----------
    sweep_seed
        Seed of the sweep (>= 0).
    point, replication
        Indices of the design point and the replication (>= 0).

    Returns
    -------
    int
        A seed in ``[0, 2**63)``.
    """
    ss = np.random.SeedSequence(int(sweep_seed), spawn_key=(int(point), int(replication)))
    return int(ss.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def design_seed(sweep_seed: int) -> int:
    """Seed of the sampling of a sweep's design (lhs, sobol, morris), in ``[0, 2**32)``."""
    ss = np.random.SeedSequence(int(sweep_seed), spawn_key=(_DESIGN_STREAM,))
    return int(ss.generate_state(1, dtype=np.uint32)[0])


@dataclass(frozen=True)
class SweepDesign:
    """The design of a sweep.

    Attributes
    ----------
    table : pandas.DataFrame
        Column ``point`` then one column per parameter (dotted names) with the values the
        runs use (integers rounded for int fields).
    sampled : numpy.ndarray or None
        The design as drawn (before rounding), rows = points; what the sensitivity analysis
        takes. None for grids.
    overrides : list of list of str
        Per point, the ``name=value`` overrides.
    """

    table: pd.DataFrame
    sampled: np.ndarray | None
    overrides: list[list[str]]

    @property
    def points(self) -> int:
        """Number of design points."""
        return len(self.table)


def problem_of(sweep: SweepSpec):  # -> urbsim.analysis.sensitivity.Problem
    """The :class:`urbsim.analysis.sensitivity.Problem` of a sweep's continuous design."""
    from urbsim.analysis.sensitivity import Problem

    return Problem(
        names=sweep.names,
        bounds=[p.bounds for p in sweep.parameters],  # type: ignore[misc]
        dists=[p.dist for p in sweep.parameters],
    )


def sample_options(sweep: SweepSpec) -> dict[str, object]:
    """Options of :func:`urbsim.analysis.sensitivity.sample` (and ``analyze``) for a design."""
    d = sweep.spec.design
    if d.kind == "sobol":
        return {"calc_second_order": d.second_order}
    if d.kind == "morris":
        opts: dict[str, object] = {"num_levels": d.levels}
        if d.optimal_trajectories is not None:
            opts["optimal_trajectories"] = d.optimal_trajectories
        return opts
    return {}


def count_points(sweep: SweepSpec) -> int:
    """Design points of a sweep, counted from the file without drawing the design.

    Grids: the product of the value counts; lhs, sobol and morris: the row count of
    :func:`urbsim.analysis.sensitivity.sample_size`; replicate: one. Counted before anything is
    drawn so that a design too large for the machine is refused at once.
    """
    d = sweep.spec.design
    if d.kind == "replicate":
        return 1
    if d.kind == "grid":
        return math.prod(len(p.values) for p in sweep.parameters)  # type: ignore[arg-type]
    if d.kind == "points":
        return len(sweep.parameters[0].values)  # type: ignore[arg-type]
    from urbsim.analysis.sensitivity import sample_size

    opts = sample_options(sweep)
    return sample_size(problem_of(sweep), d.kind, int(d.n), **opts)  # type: ignore[arg-type]


def run_seeds(sweep_seed: int, points: int, replications: int) -> np.ndarray:
    """Seeds of every run in run order (int64): :func:`run_seed` of each (point, replication)."""
    n = points * replications
    return np.fromiter(
        (run_seed(sweep_seed, r // replications, r % replications) for r in range(n)),
        dtype=np.int64,
        count=n,
    )


def build_design(sweep: SweepSpec, check: bool = True) -> SweepDesign:
    """Draw the design points of a sweep and validate the scenario of each.

    Grids take every combination of the listed values, the first parameter varying slowest;
    points designs take the listed points (the i-th value of every parameter) in order.
    lhs, sobol and morris designs come from :func:`urbsim.analysis.sensitivity.sample` with the seed
    :func:`design_seed`; int fields are rounded to the nearest integer.

    Raises
    ------
    SweepError
        If the sampler rejects the design or a point's scenario does not validate.
    """
    params = sweep.parameters
    d = sweep.spec.design
    sampled: np.ndarray | None = None
    if d.kind == "replicate":
        values = []
    elif d.kind == "grid":
        rows = list(itertools.product(*(p.values for p in params)))  # type: ignore[arg-type]
        values = [[row[j] for row in rows] for j in range(len(params))]
    elif d.kind == "points":
        values = [list(p.values) for p in params]  # type: ignore[arg-type]
    else:
        from urbsim.analysis.sensitivity import sample

        try:
            sampled = sample(
                problem_of(sweep),
                d.kind,  # type: ignore[arg-type]
                int(d.n),  # type: ignore[arg-type]
                seed=design_seed(sweep.spec.seed),
                **sample_options(sweep),
            )
        except ValueError as exc:
            raise SweepError(str(sweep.source), [("design", str(exc))]) from None
        values = [
            [format_value(float(x), p.field.integer) for x in sampled[:, j]]
            for j, p in enumerate(params)
        ]
    # A replicate design is the one point of the base scenario.
    n_points = len(values[0]) if values else (1 if d.kind == "replicate" else 0)
    table = pd.DataFrame({"point": np.arange(n_points, dtype=np.int64)})
    for p, col in zip(params, values, strict=True):
        table[p.name] = np.asarray(col, dtype=np.int64 if p.field.integer else np.float64)
    overrides = [
        [f"{p.name}={toml_value(col[i])}" for p, col in zip(params, values, strict=True)]
        for i in range(n_points)
    ]
    if check:
        check_points(sweep, overrides)
    return SweepDesign(table, sampled, overrides)


def run_table(sweep: SweepSpec, design: SweepDesign) -> pd.DataFrame:
    """One row per run in run order: ``run, point, replication, seed`` and the design values."""
    reps = sweep.spec.replications
    n = design.points * reps
    run = np.arange(n, dtype=np.int64)
    point = run // reps
    replication = run % reps
    seeds = run_seeds(sweep.spec.seed, design.points, reps)
    out = pd.DataFrame({"run": run, "point": point, "replication": replication, "seed": seeds})
    values = design.table.drop(columns="point").iloc[point].reset_index(drop=True)
    return pd.concat([out, values], axis=1)


def check_unique_seeds(runs: pd.DataFrame | np.ndarray, source: str) -> None:
    """Refuse a sweep whose runs would share a seed (astronomically unlikely, but checked).

    ``runs`` is the run table or the array of seeds.
    """
    seeds = runs["seed"].to_numpy() if isinstance(runs, pd.DataFrame) else np.asarray(runs)
    if len(np.unique(seeds)) != len(seeds):
        raise SweepError(source, [("seed", "two runs derive the same seed; choose another")])
