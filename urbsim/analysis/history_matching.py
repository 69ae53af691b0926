"""History matching in waves (Craig et al. 1997; Vernon, Goldstein and Bower 2010; for
stochastic simulators Andrianakis et al. 2015, PLoS Computational Biology 11(1): e1003968).

A parameter set ``x`` is *implausible* for target ``k`` when

``I_k(x) = |z_k - E[f_k(x)]| / sqrt(V_em,k(x) + V_run,k(x) + V_md,k + V_obs,k)``

exceeds a cutoff (3, Pukelsheim's three-sigma rule): ``E[f_k(x)]`` and ``V_em,k(x)`` are the
emulator's mean and variance (:class:`urbsim.analysis.emulator.GPEmulator`), ``V_run,k(x)`` the
simulator's run-to-run variance at ``x`` (emulated in log variance: the observed world is one
realization), ``V_md,k`` the stated model discrepancy and ``V_obs,k`` the observation error of
the target. ``x`` is ruled out when its largest implausibility over the targets exceeds the
cutoff, or with many targets its second largest (:func:`rule_out_rank`: one emulator that
extrapolates badly then cannot rule out space alone; hmer's default from ten targets); what is
left is the *not-ruled-out* (NROY) space. Published estimates of behavioural
quantities that are functions of the parameters (:class:`RatioPrior`) are judged the same way,
exactly: a set whose ratio lies more than the cutoff times its sd from the estimate is ruled out
by every wave (knowledge of the inputs, like the box, but of a combination of parameters that
the outputs leave free).

Each wave runs the simulator at design points spread over the previous wave's NROY space
(:func:`sample_nroy` then :func:`maximin_subset`: never a hand-made box), with replications at
every point, fits emulators to them (:func:`fit_wave`) and keeps the points not ruled out by
every wave so far. Waves go on past the planned minimum until most of a wave's own design
points are plausible on their runs (:func:`run_implausibility`: the emulators' not-ruled-out
space is then mostly space the simulator itself does not rule out) or a maximum is reached.
The final NROY sample can be *verified*: the simulator is run at each set and only the sets
whose own runs meet every target are kept (the ensemble then rests on runs, not emulators).
:func:`profiles` says which parameters the targets constrain; :func:`check_box` refuses an
ensemble that reaches a bound of the box that is not a hard limit of a parameter the targets
constrain: the box must be widened first. :func:`run_waves` chains the waves for any simulator
(a toy function in the tests, the model in ``experiments/calibration``).

Nothing here does I/O; every draw comes from a ``numpy`` generator seeded by the caller (the
wall clock is read only to report how long each stage took).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
from scipy.stats import qmc

from urbsim.analysis.emulator import (
    GPEmulator,
    HeldOutCheck,
    LooSummary,
    held_out_check,
    loo_summary,
    run_variance,
    variance_emulator,
)
from urbsim.errors import UrbsimError

#: Pukelsheim's (1994) three-sigma rule: any unimodal distribution has at least 95 % of its mass
#: within three standard deviations.
CUTOFF: Final[float] = 3.0
#: Targets from which a wave rules a point out on its second-largest implausibility rather
#: than its largest (the default of ``nth_implausible`` in the R package hmer, Iskauskas et al.
#: 2024): with many emulators, one that extrapolates badly would otherwise rule out space the
#: simulator fits in.
SECOND_MAX_FROM: Final[int] = 10
#: A sample reaching within this share of the range of a bound "sits on" the bound.
BOUND_MARGIN: Final[float] = 0.02
#: Columns of a calibration's ``ensemble.csv`` that are not parameters (the set's number, its
#: largest implausibility by the emulators and on its own verification runs).
ENSEMBLE_NOT_PARAMETERS: Final[tuple[str, ...]] = (
    "parameter_set",
    "max_implausibility",
    "run_max_implausibility",
)

#: A simulator: design points (n, d) and a replication count r -> outputs (n, r, k).
Simulator = Callable[[np.ndarray, int, int], np.ndarray]
#: ``map`` or a process pool's ``map``: how the targets' emulators of a wave are fitted.
Mapper = Callable[..., Iterable[Any]]
#: What fits one target's emulators: design, mean and variance per point, replications, box
#: bounds, the seed of the mean emulator's optimizer, its random restarts and the rows whose
#: likelihood fits the hyperparameters (None: all).
_TargetJob = tuple[
    np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, int, int,
    np.ndarray | None,
]  # fmt: skip
#: Which runs a wave's emulators are fitted to (:attr:`Plan.training`).
TRAINING: Final[tuple[str, ...]] = ("all", "space")


class BoxBoundError(UrbsimError):
    """The not-ruled-out space reaches a bound of the box that is not a hard limit: a fit there
    could lie outside the box. Widen the box (the message suggests how) and rerun."""


class EmptyNroyError(UrbsimError):
    """Every parameter set tried is ruled out: the targets, discrepancies or the box are wrong.

    ``waves`` holds the waves fitted so far (for :func:`rule_out_shares`) when known.
    """

    def __init__(self, message: str, waves: list[Wave] | None = None) -> None:
        super().__init__(message)
        self.waves = waves or []


@dataclass(frozen=True)
class Box:
    """The parameter box: names, bounds and which bounds are hard limits of the parameter.

    A hard bound is one no value may cross (a probability's 0 or 1, a non-negative weight's 0):
    an NROY space against it is a finding, not a reason to widen. ``limit_lo, limit_hi`` are
    the values a parameter can take at all (the scenario schema's range; infinite by default):
    a widened bound never crosses them, and a bound on its limit is hard.
    """

    names: tuple[str, ...]
    lo: np.ndarray
    hi: np.ndarray
    hard_lo: np.ndarray
    hard_hi: np.ndarray
    limit_lo: np.ndarray
    limit_hi: np.ndarray

    @classmethod
    def of(
        cls,
        bounds: dict[str, tuple[float, float]],
        hard: dict[str, tuple[bool, bool]] | None = None,
        limits: dict[str, tuple[float, float]] | None = None,
    ) -> Box:
        """A box from ``{name: (low, high)}``, optionally ``{name: (hard_low, hard_high)}`` and
        ``{name: (lowest, highest value allowed)}``."""
        names = tuple(bounds)
        lo = np.array([bounds[n][0] for n in names], dtype=np.float64)
        hi = np.array([bounds[n][1] for n in names], dtype=np.float64)
        if not names or np.any(hi <= lo) or not np.all(np.isfinite(lo) & np.isfinite(hi)):
            raise ValueError(f"bounds must be finite (low, high) with low < high: {bounds}")
        hard, limits = hard or {}, limits or {}
        llo = np.array([limits.get(n, (-np.inf, np.inf))[0] for n in names], dtype=np.float64)
        lhi = np.array([limits.get(n, (-np.inf, np.inf))[1] for n in names], dtype=np.float64)
        if np.any(lo < llo) or np.any(hi > lhi):
            raise ValueError(f"bounds {bounds} outside the parameters' limits {limits}")
        hlo = np.array([hard.get(n, (False, False))[0] for n in names]) | (lo <= llo)
        hhi = np.array([hard.get(n, (False, False))[1] for n in names]) | (hi >= lhi)
        return cls(names, lo, hi, hlo, hhi, llo, lhi)

    @property
    def dim(self) -> int:
        """Number of parameters."""
        return len(self.names)

    def uniform(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` points drawn uniformly in the box."""
        return self.lo + rng.random((n, self.dim)) * (self.hi - self.lo)

    def contains(self, x: np.ndarray) -> np.ndarray:
        """Whether each point (row) of ``x`` lies in the box, bounds included."""
        return np.all((x >= self.lo) & (x <= self.hi), axis=-1)

    def lhs(self, n: int, seed: int) -> np.ndarray:
        """A Latin hypercube of ``n`` points in the box (scipy, optimized for spread)."""
        u = qmc.LatinHypercube(d=self.dim, seed=seed, optimization="random-cd").random(n)
        return self.lo + u * (self.hi - self.lo)


@dataclass(frozen=True)
class RatioPrior:
    """A published estimate of the ratio of two parameters, judged exactly at every set.

    Micro-econometric studies estimate some behavioural quantities the aggregate targets pin
    only weakly, such as how much more income a migrant needs to go further (the ratio of the
    utility per log distance to the utility per log income). A set is implausible for the
    prior when ``|x[numerator] / x[denominator] - observed| / sd`` exceeds the cutoff, the
    same rule as for a target (no emulator: the ratio is known at every set). ``sd`` holds the
    estimate's uncertainty and the difference between the study's specification and the
    model's. A zero denominator gives an infinite ratio (ruled out).
    """

    name: str
    numerator: int
    denominator: int
    observed: float
    sd: float

    def __post_init__(self) -> None:
        if not (np.isfinite(self.observed) and np.isfinite(self.sd) and self.sd > 0):
            raise ValueError(f"prior {self.name}: observed must be finite and sd positive")
        if min(self.numerator, self.denominator) < 0 or self.numerator == self.denominator:
            raise ValueError(f"prior {self.name}: two different parameter columns are needed")

    def value(self, x: np.ndarray) -> np.ndarray:
        """The ratio at every set (n,); infinite where the denominator is 0."""
        x = np.atleast_2d(x)
        num, den = x[:, self.numerator], x[:, self.denominator]
        safe = np.where(den == 0.0, 1.0, den)
        return np.where(den == 0.0, np.inf, num / safe)

    def implausibility(self, x: np.ndarray) -> np.ndarray:
        """Implausibility of the ratio at every set (n,)."""
        return np.abs(self.value(x) - self.observed) / self.sd


@dataclass(frozen=True)
class Targets:
    """What history matching compares the outputs with, one entry per output column, and the
    priors on the parameters themselves (:class:`RatioPrior`), judged with them by every wave."""

    names: tuple[str, ...]
    observed: np.ndarray
    discrepancy_sd: np.ndarray
    observation_sd: np.ndarray
    priors: tuple[RatioPrior, ...] = ()

    def __post_init__(self) -> None:
        k = len(self.names)
        for a in (self.observed, self.discrepancy_sd, self.observation_sd):
            if np.shape(a) != (k,):
                raise ValueError(f"every target array needs {k} entries")

    def prior_implausibility(self, x: np.ndarray) -> np.ndarray:
        """Implausibility of every prior at every set (n, number of priors)."""
        x = np.atleast_2d(x)
        return np.column_stack(
            [p.implausibility(x) for p in self.priors] or [np.empty((x.shape[0], 0))]
        )


@dataclass(frozen=True)
class Runs:
    """Simulator runs summarized by design point.

    Attributes
    ----------
    x : numpy.ndarray
        Design points (n, d).
    mean, var : numpy.ndarray
        Mean and sample variance (ddof 1) over the replications (n, k).
    replications : numpy.ndarray
        Replications per point (n,).
    """

    x: np.ndarray
    mean: np.ndarray
    var: np.ndarray
    replications: np.ndarray

    @classmethod
    def of(cls, x: np.ndarray, y: np.ndarray) -> Runs:
        """From design points (n, d) and outputs (n, r, k) with r >= 2 replications."""
        y = np.asarray(y, dtype=np.float64)
        if y.ndim != 3 or y.shape[1] < 2 or y.shape[0] != np.shape(x)[0]:
            raise ValueError(f"outputs must be (points, replications >= 2, targets): {y.shape}")
        reps = np.full(y.shape[0], y.shape[1])
        return cls(np.asarray(x, float), y.mean(axis=1), y.var(axis=1, ddof=1), reps)


@dataclass
class Wave:
    """One wave: its runs, emulators and the implausibility they define.

    Attributes
    ----------
    runs : Runs
    targets : Targets
    mean_emulators, var_emulators : list of GPEmulator
        Per target: of the mean output and of the log run-to-run variance.
    cutoff : float
    rank : int
        How many targets beyond the cutoff rule a point out: 1 rules it out on its largest
        implausibility, 2 on its second largest (:func:`rule_out_rank`); the priors, exact,
        rule out alone.
    loo : list of LooSummary
        Per target: the mean emulator's leave-one-out check.
    held_out : list of HeldOutCheck
        Per target: the mean emulator checked on the later runs inside the wave's space
        (:func:`check_held_out`; empty until there are any). Its ``inflation`` scales the
        emulator's variance in the implausibility.
    """

    runs: Runs
    targets: Targets
    mean_emulators: list[GPEmulator]
    var_emulators: list[GPEmulator]
    cutoff: float = CUTOFF
    rank: int = 1
    loo: list[LooSummary] = field(default_factory=list)
    held_out: list[HeldOutCheck] = field(default_factory=list)

    def __post_init__(self) -> None:
        k = len(self.mean_emulators)
        if not 1 <= self.rank <= max(k, 1):
            raise ValueError(f"a wave of {k} targets needs a rank in [1, {max(k, 1)}]: {self.rank}")

    def target_implausibility(self, k: int, x: np.ndarray) -> np.ndarray:
        """Implausibility of target ``k`` at every point (n,)."""
        t = self.targets
        mean, v_em = self.mean_emulators[k].predict(x)
        if self.held_out:
            v_em = v_em * self.held_out[k].inflation
        v_run = run_variance(self.var_emulators[k], x)
        total = v_em + v_run + t.discrepancy_sd[k] ** 2 + t.observation_sd[k] ** 2
        return np.abs(t.observed[k] - mean) / np.sqrt(total)

    def implausibility(self, x: np.ndarray) -> np.ndarray:
        """Implausibility of every target at every point, then of every prior (n, k + priors)."""
        x = np.atleast_2d(x)
        emulated = [self.target_implausibility(k, x) for k in range(len(self.mean_emulators))]
        return np.column_stack([*emulated, self.targets.prior_implausibility(x)])

    def ruling_implausibility(self, x: np.ndarray) -> np.ndarray:
        """The implausibility that rules each point out or not (n,): the ``rank``-th largest
        of the targets', or the largest prior's if that is larger."""
        # A NaN (an emulator that failed at the point) counts as beyond any cutoff.
        imp = np.nan_to_num(self.implausibility(x), nan=np.inf)
        k = len(self.mean_emulators)
        targets = -np.sort(-imp[:, :k], axis=1)[:, self.rank - 1] if k else np.zeros(len(imp))
        return np.max(np.column_stack([targets, imp[:, k:]]), axis=1)

    def not_ruled_out(self, x: np.ndarray) -> np.ndarray:
        """Points with fewer than ``rank`` targets at or beyond the cutoff and every prior
        below it (the priors first, then the targets in turn, each on the points the earlier
        ones left: the same answer as :meth:`ruling_implausibility`, fewer emulator
        evaluations)."""
        x = np.atleast_2d(x)
        keep = np.all(self.targets.prior_implausibility(x) < self.cutoff, axis=1)
        beyond = np.zeros(x.shape[0], dtype=np.int64)
        for k in range(len(self.mean_emulators)):
            idx = np.flatnonzero(keep)
            if idx.shape[0] == 0:
                break
            beyond[idx] += ~(self.target_implausibility(k, x[idx]) < self.cutoff)
            keep[idx] = beyond[idx] < self.rank
        return keep


def rule_out_rank(n_targets: int, requested: int | None = None) -> int:
    """How many targets beyond the cutoff rule a point out (:attr:`Wave.rank`): ``requested``,
    or by default 1 below :data:`SECOND_MAX_FROM` targets and 2 from it.

    Raises
    ------
    ValueError
        If ``requested`` is below 1 or above the number of targets.
    """
    if requested is None:
        return 1 if n_targets < SECOND_MAX_FROM else 2
    if not 1 <= requested <= max(n_targets, 1):
        raise ValueError(f"the rule-out rank must be in [1, {n_targets}], got {requested}")
    return requested


def fit_wave(
    runs: Runs,
    targets: Targets,
    box: Box,
    seed: int = 0,
    cutoff: float = CUTOFF,
    map_fn: Mapper = map,
    rank: int = 1,
    restarts: int = 2,
    hyper_rows: np.ndarray | None = None,
) -> Wave:
    """Emulators of every target's mean and run-to-run variance, and their LOO check; points
    with ``rank`` targets whose implausibility reaches ``cutoff`` are ruled out (1: the
    largest; :func:`rule_out_rank`). ``restarts``: random restarts of each emulator's
    hyperparameter optimization besides its default start; ``hyper_rows``: the runs whose
    likelihood fits the hyperparameters, None for all (:meth:`GPEmulator.fit`).

    ``map_fn`` fits the targets (each independent of the others, with its own seed): a
    process pool's ``map`` fits them in parallel with the same result as the built-in ``map``.
    """
    jobs = [
        (runs.x, runs.mean[:, k], runs.var[:, k], runs.replications, box.lo, box.hi, seed + k,
         restarts, hyper_rows)
        for k in range(len(targets.names))
    ]  # fmt: skip
    fitted = list(map_fn(fit_target, jobs))
    means = [f[0] for f in fitted]
    variances = [f[1] for f in fitted]
    loo = [f[2] for f in fitted]
    return Wave(runs, targets, means, variances, cutoff=cutoff, rank=rank, loo=loo)


def fit_target(job: _TargetJob) -> tuple[GPEmulator, GPEmulator, LooSummary]:
    """One target's mean emulator, run-to-run variance emulator and the mean emulator's
    leave-one-out check (a module-level function: process pools pickle it by name)."""
    x, mean, var, replications, lo, hi, seed, restarts, rows = job
    em = GPEmulator(lo, hi, seed=seed, restarts=restarts).fit(x, mean, var / replications, rows)
    return (
        em,
        variance_emulator(x, var, replications, lo, hi, restarts=restarts, hyper_rows=rows),
        loo_summary(em.loo_standardized_errors()),
    )


def check_held_out(waves: Sequence[Wave], history: Sequence[tuple[int, Runs]]) -> None:
    """Check every wave's emulators on the runs made after it inside its space and scale
    their variance by what the check finds (:func:`urbsim.analysis.emulator.held_out_check`).

    ``history`` holds every batch of runs with the number of waves there were when its sets
    were drawn (a design wave ``j``'s own runs: ``j``; a verification batch: all the waves so
    far). The runs drawn after wave ``j`` existed that no wave before ``j`` rules out lie where
    wave ``j``'s emulators are used, and none of them was fitted by them: they come from the
    NROY space, exactly where an overconfident emulator errs unseen (a set it wrongly rules out
    is never run; one it wrongly keeps is). Waves are checked in order, each within the space
    the earlier, already scaled, leave.
    """
    for j, wave in enumerate(waves):
        later = [r for drawn_after, r in history if drawn_after > j]
        if not later:
            continue
        x = np.concatenate([r.x for r in later])
        inside = not_ruled_out(waves[:j], x)
        mean = np.concatenate([r.mean for r in later])[inside]
        reps = np.concatenate([r.replications for r in later])[inside]
        wave.held_out = [
            held_out_check(em, var, x[inside], mean[:, k], reps)
            for k, (em, var) in enumerate(zip(wave.mean_emulators, wave.var_emulators, strict=True))
        ]


def not_ruled_out(waves: Sequence[Wave], x: np.ndarray) -> np.ndarray:
    """Points not ruled out by any of the waves."""
    keep = np.ones(np.atleast_2d(x).shape[0], dtype=bool)
    for w in waves:
        idx = np.flatnonzero(keep)
        if idx.shape[0]:
            keep[idx] = w.not_ruled_out(np.atleast_2d(x)[idx])
    return keep


def sample_nroy(
    waves: Sequence[Wave],
    box: Box,
    n: int,
    rng: np.random.Generator,
    batch: int = 20_000,
    max_batches: int = 20,
    seeds: np.ndarray | None = None,
    starts: np.ndarray | None = None,
) -> tuple[np.ndarray, float]:
    """``n`` points of the NROY space of ``waves``, and the share of the box it fills.

    Uniform draws in the box are kept when no wave rules them out. When the space is too
    small for that to find ``n`` points, the points found are moved by Gaussian steps (a tenth
    of their spread) and each moved point kept when it is still not ruled out, until there are
    ``n``: the sample then covers the space around what was found, and the reported share
    is the acceptance rate of the uniform draws. After several waves in many dimensions the
    space can be too small for any uniform draw to land in it; the moves then start from the
    ``seeds`` that no wave rules out (points of an earlier NROY sample, such as the last
    wave's candidates and design: Andrianakis et al. 2015 draw each wave from the previous
    NROY sample), and when none is left from the ``starts`` no wave rules out, which only
    start moves and are never returned themselves (sets the simulator has already been run
    at, that must not be drawn again).

    Raises
    ------
    EmptyNroyError
        When no uniform draw is kept and no seed or start is left.
    """
    kept: list[np.ndarray] = []
    tried = found = 0
    for _ in range(max_batches):
        x = box.uniform(batch, rng)
        ok = not_ruled_out(waves, x)
        kept.append(x[ok])
        tried, found = tried + batch, found + int(ok.sum())
        if found >= 4 * n:
            break
    share = found / tried
    pool = np.concatenate(kept)
    if pool.shape[0] == 0 and seeds is not None and seeds.shape[0]:
        pool = seeds[not_ruled_out(waves, seeds)]
    origin = np.empty((0, box.dim))
    if pool.shape[0] == 0 and starts is not None and starts.shape[0]:
        origin = starts[not_ruled_out(waves, starts)]
    if pool.shape[0] == 0 and origin.shape[0] == 0:
        searched = "".join(
            f" and all {a.shape[0]} {what}"
            for a, what in ((seeds, "earlier NROY points"), (starts, "sets already run"))
            if a is not None
        )
        raise EmptyNroyError(f"all {tried} parameter sets drawn{searched} are ruled out")
    while pool.shape[0] < n:
        base = np.concatenate([origin, pool]) if origin.shape[0] else pool
        step = 0.1 * np.maximum(base.std(axis=0), 1e-3 * (box.hi - box.lo))
        moved = base + rng.normal(0.0, 1.0, base.shape) * step
        inside = box.contains(moved)
        moved = moved[inside]
        pool = np.concatenate([pool, moved[not_ruled_out(waves, moved)]])
    return pool[rng.permutation(pool.shape[0])[:n]], share


#: ``source`` in a fit's waves of a design wave given by the fit it continues
#: (:func:`run_waves`'s ``designs``), and of every design wave (the others are verification
#: batches that refocused the emulators).
GIVEN_DESIGN: Final[str] = "given design"
DESIGN_SOURCES: Final[tuple[str, ...]] = ("design", GIVEN_DESIGN)

#: Two sets closer than this share of every parameter's range count as one (:func:`distinct_sets`).
DISTINCT_RESOLUTION: Final[float] = 0.01


def distinct_sets(sample: np.ndarray, box: Box, resolution: float = DISTINCT_RESOLUTION) -> int:
    """How many of ``sample``'s sets differ from each other by at least ``resolution`` of some
    parameter's range (greedy, in order: a set counts when it is that far from every set
    counted before it). An ensemble of copies of one set counts 1: the sample of a space that
    shrank to a point, moved in tiny steps (:func:`sample_nroy`), which says nothing of the
    parameters' uncertainty."""
    u = (np.atleast_2d(sample) - box.lo) / (box.hi - box.lo)
    kept: list[np.ndarray] = []
    for row in u:
        if not kept or np.min(np.max(np.abs(np.asarray(kept) - row), axis=1)) >= resolution:
            kept.append(row)
    return len(kept)


def maximin_subset(points: np.ndarray, n: int, box: Box, seed: int = 0) -> np.ndarray:
    """Indices of ``n`` well-spread points among ``points`` (greedy farthest point, in the
    unit-scaled box, from a random first point)."""
    if n > points.shape[0]:
        raise ValueError(f"cannot choose {n} of {points.shape[0]} points")
    u = (points - box.lo) / (box.hi - box.lo)
    chosen = [int(np.random.default_rng(seed).integers(points.shape[0]))]
    dist = np.linalg.norm(u - u[chosen[0]], axis=1)
    for _ in range(n - 1):
        nxt = int(np.argmax(dist))
        chosen.append(nxt)
        dist = np.minimum(dist, np.linalg.norm(u - u[nxt], axis=1))
    return np.array(chosen)


#: A parameter is *constrained* by the targets when its profile falls below this share of its
#: highest value somewhere in the box (part of its range is ruled out whatever the others are).
PROFILE_DROP: Final[float] = 0.5


@dataclass(frozen=True)
class Profile:
    """How much of the NROY space survives when one parameter is moved across its box.

    ``share[g]`` is the share of a reference NROY sample still not ruled out after setting
    the parameter to ``grid[g]`` in every set (the others kept): flat when the targets do not
    constrain the parameter, falling where they rule its values out.
    """

    name: str
    grid: np.ndarray
    share: np.ndarray

    @property
    def constrained(self) -> bool:
        """The share falls below :data:`PROFILE_DROP` of its highest value somewhere."""
        top = float(self.share.max())
        return top == 0.0 or float(self.share.min()) < PROFILE_DROP * top


def profiles(
    waves: Sequence[Wave], box: Box, reference: np.ndarray, points: int = 11
) -> list[Profile]:
    """:class:`Profile` of every parameter on ``points`` values spanning the box, from the
    ``reference`` NROY sets (the final sample)."""
    ref = np.atleast_2d(reference)
    out = []
    for j, name in enumerate(box.names):
        grid = np.linspace(box.lo[j], box.hi[j], points)
        share = np.empty(points)
        for g, v in enumerate(grid):
            moved = ref.copy()
            moved[:, j] = v
            share[g] = float(np.mean(not_ruled_out(waves, moved)))
        out.append(Profile(name, grid, share))
    return out


#: Share of a wave's candidates, the most plausible by the emulators, that
#: :func:`wave_design` spreads the seeking part of a design over.
SEEK_POOL: Final[float] = 0.25


def wave_design(
    waves: Sequence[Wave], candidates: np.ndarray, n: int, box: Box, seek_share: float, seed: int
) -> np.ndarray:
    """``n`` design points among NROY ``candidates``: ``round(seek_share * n)`` spread
    (:func:`maximin_subset`) over the :data:`SEEK_POOL` of candidates with the smallest
    ruling implausibility (:meth:`Wave.ruling_implausibility`) by the latest wave (where the
    simulator most likely fits: what the ``seek`` option of ``generate_new_design`` in the R
    package hmer does, Iskauskas et al. 2024), the others spread over all the candidates
    (where the space still has to be mapped, its boundary included).

    A design spread over the whole NROY space alone puts most points near its boundary, where
    runs are rarely plausible; seeking fills the interior the ensemble is drawn from.
    """
    seek = round(seek_share * n)
    if seek == 0:
        return candidates[maximin_subset(candidates, n, box, seed)]
    worst = waves[-1].ruling_implausibility(candidates)
    pool = max(seek, int(np.ceil(SEEK_POOL * candidates.shape[0])))
    best = np.argsort(worst, kind="stable")[:pool]
    chosen = best[maximin_subset(candidates[best], seek, box, seed)]
    rest = np.setdiff1d(np.arange(candidates.shape[0]), chosen)
    if n > seek:
        chosen = np.concatenate(
            [chosen, rest[maximin_subset(candidates[rest], n - seek, box, seed + 1)]]
        )
    return candidates[chosen]


@dataclass(frozen=True)
class BoundHit:
    """A parameter whose NROY sample reaches a bound of the box.

    ``constrained`` is False for a parameter the targets do not constrain (a flat
    :class:`Profile`): its sample spans the box, which is then its prior range.
    """

    name: str
    side: str
    bound: float
    hard: bool
    suggested: float
    constrained: bool = True


def box_hits(
    sample: np.ndarray,
    box: Box,
    margin: float = BOUND_MARGIN,
    constrained: Sequence[bool] | None = None,
) -> list[BoundHit]:
    """Bounds of the box the sample reaches (within ``margin`` of the range), with a widened
    bound to use instead (half the range further out, never past the parameter's limit)."""
    width = box.hi - box.lo
    known = [True] * box.dim if constrained is None else list(constrained)
    hits = []
    for j, name in enumerate(box.names):
        if sample[:, j].min() <= box.lo[j] + margin * width[j]:
            wider = max(box.lo[j] - 0.5 * width[j], box.limit_lo[j])
            hits.append(BoundHit(name, "low", float(box.lo[j]), bool(box.hard_lo[j]),
                                 float(wider), known[j]))  # fmt: skip
        if sample[:, j].max() >= box.hi[j] - margin * width[j]:
            wider = min(box.hi[j] + 0.5 * width[j], box.limit_hi[j])
            hits.append(BoundHit(name, "high", float(box.hi[j]), bool(box.hard_hi[j]),
                                 float(wider), known[j]))  # fmt: skip
    return hits


def check_box(
    sample: np.ndarray,
    box: Box,
    margin: float = BOUND_MARGIN,
    constrained: Sequence[bool] | None = None,
) -> list[BoundHit]:
    """Refuse an NROY sample that reaches a soft bound of a parameter the targets constrain
    (``constrained``, one flag per parameter from :func:`profiles`; None: every parameter);
    return the bounds it reaches without refusal (hard ones, and any of a parameter the
    targets leave unconstrained, whose box is then its prior range).

    Raises
    ------
    BoxBoundError
        Naming each soft bound reached and a widened bound to use instead.
    """
    hits = box_hits(sample, box, margin, constrained)
    soft = [h for h in hits if not h.hard and h.constrained]
    if soft:
        lines = [
            f"{h.name}: not ruled out up to its {h.side} bound {h.bound:g}; widen it "
            f"(e.g. to {h.suggested:g}) and rerun"
            for h in soft
        ]
        raise BoxBoundError("\n".join(lines))
    return hits


@dataclass(frozen=True)
class Plan:
    """How many waves, points and replications, and the samples drawn between waves.

    Attributes
    ----------
    points : tuple of int
        Design points of each wave (at least three waves for issue 14).
    replications : int
        Replications per design point (>= 2: the run-to-run variance is estimated from them).
    candidates : int
        NROY points drawn before each later wave, among which its design is spread.
    final_sample : int
        Size of the final NROY sample (the ensemble experiments use).
    seed : int
    batch : int
        Uniform draws per batch of :func:`sample_nroy`.
    cutoff : float
        Implausibility cutoff of every wave (:data:`CUTOFF`; a larger one rules out less, for
        smoke runs of the machinery only).
    max_waves : int
        Waves at most: after the ``len(points)`` planned ones, waves of ``points[-1]`` points
        go on until ``stop_share`` of a wave's design points are plausible on their own runs
        (0: exactly the planned waves).
    stop_share : float
        Share of a wave's design points not ruled out by their own runs that ends the waves.
    verify_points : int
        NROY sets the simulator is run at after the waves (``verify_replications`` each); only
        those whose runs are not ruled out form the final sample (0: no verification, the
        final sample is ``final_sample`` NROY sets of the emulators).
    verify_replications : int
    verify_batches : int
        Batches of ``verify_points`` fresh NROY sets at most: verification goes on until
        ``final_sample`` sets are accepted or the batches are spent.
    refocus : bool
        After a verification batch that leaves fewer than ``final_sample`` sets accepted (and
        before the next), its runs become a further wave (refocusing, Vernon et al. 2010):
        emulators refitted on ``points[-1]`` of its sets spread over it (:func:`maximin_subset`)
        and the earlier runs in its space, the next batch drawn from the narrower space (never
        a set already run). Each verified set is judged on its own runs, with the run-to-run
        variance measured on its batch. The ensemble then pools sets drawn from nested
        spaces, the later ones narrower: its spread is that of the sets the runs accept, not a
        uniform sample of one space.
    seek_share : float
        Share of each later wave's points spread over the candidates the emulators find most
        plausible (the quarter with the smallest ruling implausibility), the rest over all
        candidates (:func:`wave_design`).
    rule_out_rank : int or None
        How many targets beyond the cutoff rule a point out by the emulators
        (:func:`rule_out_rank`; None: 1 below :data:`SECOND_MAX_FROM` targets, else 2). Runs
        are judged on every target whatever it is: a verified set, and a design point
        plausible on its own runs, meet them all.
    training : {"all", "space"}
        The runs each wave's emulators are fitted to: every run so far ("all"), or the wave's
        own runs and the earlier ones inside the space it was drawn from ("space", Vernon et
        al. 2010). A wave's space keeps its emulators local; but later waves have few runs
        for many inputs, and emulators fitted to them alone hardly predict within their own
        space. The runs outside still inform the regression and the length scales near it
        (in the thirty-third calibration, 36 inputs: at the first verification batch, a root
        mean square error 0.4-0.7 times the one of the wave's space alone, with valid
        standardized errors; ``experiments/calibration/JOURNAL.md``, 2026-12-06 17:15).
    restarts : int
        Random restarts of each emulator's hyperparameter optimization besides the default
        start (:func:`urbsim.analysis.emulator.fit_kernel`). On the thirty-third
        calibration's runs, two restarts found the same optimum as none, at four times the cost.
    hyper_points : int
        With ``training`` "all", at most this many runs fit the emulators' hyperparameters:
        those nearest the wave's space (smallest largest ruling implausibility under the
        earlier waves); the emulators are then conditioned on every run. The optimizer's cost
        grows with the cube of its runs, the conditioning's once. On the thirty-third
        calibration's wave 5, hyperparameters from the 550 nearest of 737 runs predicted
        almost as well as from all (root mean square error 2-16 % larger, median absolute
        standardized error 0.8-1.0), from the 400 nearest overconfidently (1.2-1.3).
    """

    points: tuple[int, ...]
    replications: int
    candidates: int = 2000
    final_sample: int = 200
    seed: int = 0
    batch: int = 20_000
    cutoff: float = CUTOFF
    max_waves: int = 0
    stop_share: float = 0.5
    verify_points: int = 0
    verify_replications: int = 2
    verify_batches: int = 1
    seek_share: float = 0.0
    refocus: bool = True
    rule_out_rank: int | None = None
    training: str = "all"
    restarts: int = 0
    hyper_points: int = 800

    def __post_init__(self) -> None:
        if not self.cutoff > 0:
            raise ValueError(f"the implausibility cutoff must be positive, got {self.cutoff}")
        if self.replications < 2:
            raise ValueError("history matching needs >= 2 replications per point")
        if any(p < 4 for p in self.points) or not self.points:
            raise ValueError(f"every wave needs at least 4 points, got {self.points}")
        if any(p > self.candidates for p in self.points[1:]):
            raise ValueError("a later wave cannot have more points than candidates")
        if not 0.0 <= self.seek_share <= 1.0:
            raise ValueError(f"seek_share must be in [0, 1], got {self.seek_share}")
        if not 0.0 < self.stop_share <= 1.0:
            raise ValueError(f"stop_share must be in (0, 1], got {self.stop_share}")
        if self.verify_batches < 1:
            raise ValueError(f"verify_batches must be at least 1, got {self.verify_batches}")
        if self.verify_points and self.verify_replications < 2:
            raise ValueError("verification needs >= 2 replications per set")
        if self.rule_out_rank is not None and self.rule_out_rank < 1:
            raise ValueError(f"rule_out_rank must be at least 1, got {self.rule_out_rank}")
        if self.training not in TRAINING:
            raise ValueError(f"training must be one of {TRAINING}, got {self.training!r}")
        if self.restarts < 0:
            raise ValueError(f"restarts must be at least 0, got {self.restarts}")
        if self.hyper_points < 4:
            raise ValueError(f"hyper_points must be at least 4, got {self.hyper_points}")

    def fit_options(self, n_targets: int) -> dict[str, Any]:
        """The cutoff, rule-out rank and optimizer restarts of every wave fitted for
        ``n_targets`` targets."""
        rank = rule_out_rank(n_targets, self.rule_out_rank)
        return {"cutoff": self.cutoff, "rank": rank, "restarts": self.restarts}

    @property
    def waves_at_most(self) -> int:
        """The largest number of waves the plan runs."""
        return max(len(self.points), self.max_waves)

    def wave_points(self, i: int) -> int:
        """Design points of wave ``i`` (from 0): the planned ones, then the last repeated."""
        return self.points[min(i, len(self.points) - 1)]


@dataclass
class Result:
    """The waves, the share of the box each left not ruled out, and the final NROY sample.

    ``seconds`` holds the wall time of each stage: one dict per wave (``design``: drawing its
    points from the earlier waves' NROY space; ``simulate``: the simulator; ``emulate``:
    fitting and checking its emulators) and a last one (``design``: the final sample;
    ``simulate``: its verification runs), what the budget of a calibration is planned from.
    """

    waves: list[Wave]
    nroy_share: list[float]
    sample: np.ndarray
    seconds: list[dict[str, float]] = field(default_factory=list)
    #: Per wave: the share of its design points not ruled out by their own runs (a refocusing
    #: wave: of its batch's sets, judged by the wave they were drawn under).
    run_plausible_share: list[float] = field(default_factory=list)
    #: Per wave: where its runs came from, ``"design"``, ``"given design"`` (:func:`run_waves`'s
    #: ``designs``) or ``"verification batch <b>"``
    #: (a refocusing wave, :attr:`Plan.refocus`).
    wave_source: list[str] = field(default_factory=list)
    #: Per wave: the sets its runs were made at (a refocusing wave: the batch's).
    wave_size: list[int] = field(default_factory=list)
    #: Per wave: the sets of ``wave_size`` the simulator refused (:func:`_simulated`), ruled
    #: out and left out of the emulators.
    refused: list[int] = field(default_factory=list)
    #: The verification runs of the final NROY sample (None without verification).
    verification: Verification | None = None
    #: Per wave: the share of its sets not ruled out by the earlier waves (1 for a wave drawn
    #: from their space; less for a given design, :func:`run_waves`).
    design_in_space: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class Verification:
    """The simulator run at the final NROY sample.

    Attributes
    ----------
    x : numpy.ndarray
        The NROY sets run (n, d).
    y : numpy.ndarray
        Their outputs (n, r, k).
    implausibility : numpy.ndarray
        Each set's largest implausibility on its own runs (:func:`run_implausibility`).
    accepted : numpy.ndarray
        Sets whose runs are not ruled out (n,): the final sample.
    refused : numpy.ndarray
        Sets the simulator refused (n,; :func:`_simulated`): their outputs NaN, their
        implausibility infinite.
    """

    x: np.ndarray
    y: np.ndarray
    implausibility: np.ndarray
    accepted: np.ndarray
    refused: np.ndarray


def run_waves(
    simulate: Simulator,
    box: Box,
    targets: Targets,
    plan: Plan,
    map_fn: Mapper = map,
    verify: Simulator | None = None,
    report: Callable[[str], None] | None = None,
    designs: Sequence[np.ndarray] = (),
) -> Result:
    """History matching in waves: at least ``len(plan.points)``, at most
    ``plan.waves_at_most`` (see :class:`Plan` for the rule that ends them).

    Wave 1 runs a Latin hypercube of the box; each later wave spreads its points
    (:func:`maximin_subset`) over a sample of the NROY space of all earlier waves
    (:func:`sample_nroy`). ``simulate(x, r, seed)`` returns outputs (n, r, k) in the order of
    ``targets.names``; ``map_fn`` fits each wave's emulators (:func:`fit_wave`). With
    ``plan.verify_points`` the final NROY sets are run by ``verify`` (default ``simulate``)
    and only those their runs do not rule out are kept; a batch that leaves too few accepted
    becomes a further wave (:attr:`Plan.refocus`). ``report`` receives a line after
    each wave and after the verification (progress for a long calibration).

    ``designs`` are the points of the first waves, given instead of drawn: those of a fit of
    fewer targets (the out-of-sample fit, targets up to 2015, at the same rule-out rank),
    whose runs the simulator can then read back instead of running them again. More targets
    rule out more at the same rank, so this fit's not-ruled-out space lies roughly within
    that fit's; only roughly, since the emulators of the common targets differ (fitted with
    other seeds, and from wave 2 on to the earlier runs inside each fit's own space). A given
    design was spread over that fit's space, not this one's: only its points inside this fit's
    space inform this fit there (their share is ``design_in_space`` of :class:`Result`, and
    each given wave's emulators are fitted to all its runs, the ones outside too), so the
    waves drawn after them refocus on this fit's space. The given waves' shares of the box
    are measured under this fit's waves, and the last sample is where the first drawn wave
    starts. Vernon et al. (2010) add outputs in later waves in the same way.

    The final sample is returned as it is: :func:`check_box` (with :func:`profiles`) is the
    caller's, who can keep a refused sample for inspection.

    Raises
    ------
    EmptyNroyError
        When a wave rules out everything.
    ValueError
        Before any run, when ``plan.rule_out_rank`` exceeds the number of targets, or a given
        design has other columns than the box's or points outside it.
    """
    plan.fit_options(len(targets.names))
    given = [np.asarray(x, dtype=float) for x in designs]
    for i, x in enumerate(given):
        if x.ndim != 2 or x.shape[1] != box.dim:
            raise ValueError(f"design of wave {i + 1}: shape {x.shape}, not (points, {box.dim})")
        if not box.contains(x).all():
            raise ValueError(f"design of wave {i + 1}: points outside the box")
    rng = np.random.default_rng(plan.seed)
    waves: list[Wave] = []
    try:
        return _waves(
            simulate, box, targets, plan, rng, waves, map_fn, verify or simulate, report, given
        )
    except EmptyNroyError as exc:
        raise EmptyNroyError(str(exc), waves) from None


def _waves(
    simulate: Simulator,
    box: Box,
    targets: Targets,
    plan: Plan,
    rng: np.random.Generator,
    waves: list[Wave],
    map_fn: Mapper,
    verify: Simulator,
    report: Callable[[str], None] | None,
    given: Sequence[np.ndarray] = (),
) -> Result:
    say = report or (lambda _: None)
    if any(max(p.numerator, p.denominator) >= box.dim for p in targets.priors):
        raise ValueError(f"a prior names a parameter column beyond the box's {box.dim}")
    if min(plan.points) < box.dim + 2:
        raise ValueError(f"every wave needs at least {box.dim + 2} points for {box.dim} parameters")
    shares: list[float] = []
    plausible: list[float] = []
    refused: list[int] = []
    runs: list[Runs] = []
    tried: list[np.ndarray] = []  # every wave's sets, the refused too
    inside: list[float] = []  # every wave's share of sets inside the earlier waves' space
    # Every batch of runs with the number of waves when its sets were drawn (check_held_out).
    history: list[tuple[int, Runs]] = []
    seconds: list[dict[str, float]] = []
    # The last NROY sample drawn: where the next one starts when no uniform draw is kept.
    seeds: np.ndarray | None = None
    for i in range(plan.waves_at_most):
        clock = {"start": time.perf_counter()}
        x, seeds = _design(i, given, waves, tried, seeds, box, plan, rng, shares)
        clock["design"] = time.perf_counter()
        inside.append(float(not_ruled_out(waves, x).mean()) if waves else 1.0)
        tried.append(x)
        ran, out = _wave_runs(simulate, x, plan, i, box.dim + 2)
        clock["simulate"] = time.perf_counter()
        refused.append(out)
        runs.append(ran)
        history.append((i, runs[-1]))
        check_held_out(waves, history)
        space, rows = _training_runs(runs, waves, plan)
        options = {**plan.fit_options(len(targets.names)), "hyper_rows": rows}
        wave = fit_wave(space, targets, box, seed=plan.seed + i, map_fn=map_fn, **options)
        waves.append(wave)
        clock["emulate"] = time.perf_counter()
        seconds.append(_elapsed(clock))
        mine = runs[-1]
        # A refused set is not plausible: the share is of all the wave's sets.
        plausible.append(
            float(np.sum(run_implausibility(wave, mine.x, mine.mean, mine.replications)
                         < plan.cutoff)) / x.shape[0]
        )  # fmt: skip
        say(_wave_line(i, x.shape[0], i < len(given), shares, inside, refused, plausible, seconds))
        if i + 1 >= len(plan.points) and plausible[-1] >= plan.stop_share:
            break
    sources = [GIVEN_DESIGN if i < len(given) else "design" for i in range(len(waves))]
    points = [r.x.shape[0] + n for r, n in zip(runs, refused, strict=True)]
    start = time.perf_counter()
    size = plan.verify_points or plan.final_sample
    # No set a wave ran (or the simulator refused) is drawn again.
    seeds = _without(seeds, np.concatenate(tried))
    sample, share = sample_nroy(waves, box, size, rng, plan.batch, seeds=seeds)
    drawn = time.perf_counter() - start
    if not plan.verify_points:
        shares.append(share)
        seconds.append({"design": drawn, "simulate": 0.0, "emulate": 0.0})
        return Result(
            waves, shares, sample, seconds, plausible, sources, points, refused, None, inside
        )
    state = _Refocus(
        waves, runs, history, shares, plausible, seconds, sources, points, refused, targets,
        map_fn,
    )  # fmt: skip
    verification = _verify(verify, box, plan, sample, share, drawn, rng, seeds, state, say)
    sample = verification.x[verification.accepted]
    # A refocusing wave's sets were drawn from the earlier waves' space.
    inside += [1.0] * (len(waves) - len(inside))
    return Result(
        waves, shares, sample, seconds, plausible, sources, points, refused, verification, inside
    )


def _design(
    i: int,
    given: Sequence[np.ndarray],
    waves: list[Wave],
    tried: list[np.ndarray],
    seeds: np.ndarray | None,
    box: Box,
    plan: Plan,
    rng: np.random.Generator,
    shares: list[float],
) -> tuple[np.ndarray, np.ndarray | None]:
    """Wave ``i``'s (from 0) sets, given or drawn (:func:`run_waves`), and the last NROY sample
    (where the next draw starts); from wave 2 on, the share of the box the earlier waves leave
    is appended to ``shares``."""
    if i < len(given):
        if i:
            # The given wave's space under this fit's waves: its share, and the sample where
            # the next drawn wave starts.
            seeds, share = sample_nroy(
                waves, box, plan.candidates, rng, plan.batch,
                seeds=_without(seeds, np.concatenate(tried)),
            )  # fmt: skip
            shares.append(share)
        return given[i], seeds
    if i == 0:
        return box.lhs(plan.wave_points(0), plan.seed), seeds
    return _next_design(waves, np.concatenate(tried), seeds, box, plan, rng, i, shares)


def _wave_line(
    i: int,
    points: int,
    given: bool,
    shares: list[float],
    inside: list[float],
    refused: list[int],
    plausible: list[float],
    seconds: list[dict[str, float]],
) -> str:
    """The progress line of wave ``i`` (from 0), just run."""
    where = ""
    if i:
        space = f"a space of {shares[-1]:.3g} of the box"
        where = f", {inside[-1]:.0%} of them in {space}" if given else f" from {space}"
    return (
        f"wave {i + 1}: {points} points"
        + (" given" if given else "")
        + where
        + (f", {refused[-1]} refused by the simulator" if refused[-1] else "")
        + f"; {plausible[-1]:.0%} of them plausible on their own runs; "
        + ", ".join(f"{k} {v:.0f} s" for k, v in seconds[-1].items())
    )


def _next_design(
    waves: list[Wave],
    done: np.ndarray,
    seeds: np.ndarray | None,
    box: Box,
    plan: Plan,
    rng: np.random.Generator,
    i: int,
    shares: list[float],
) -> tuple[np.ndarray, np.ndarray]:
    """Design wave ``i`` (from 1) from the NROY space of ``waves`` (its share appended to
    ``shares``), none of the sets ``done`` again, and the candidates drawn (where the next
    draw starts)."""
    # No set already run is drawn again (a repeat would be no check of a wave).
    candidates, share = sample_nroy(
        waves, box, plan.candidates, rng, plan.batch, seeds=_without(seeds, done)
    )
    shares.append(share)
    x = wave_design(waves, candidates, plan.wave_points(i), box, plan.seek_share, plan.seed + i)
    return x, candidates


def _wave_runs(
    simulate: Simulator, x: np.ndarray, plan: Plan, i: int, needed: int
) -> tuple[Runs, int]:
    """Design wave ``i``'s (from 0) runs at ``x`` less the sets the simulator refused, and
    how many it refused; a ValueError when fewer than ``needed`` are left to fit."""
    y, out = _simulated(simulate, x, plan.replications, plan.seed + 1000 * (i + 1), f"wave {i + 1}")
    if x.shape[0] - out.sum() < needed:
        raise ValueError(
            f"wave {i + 1}: the simulator refused {out.sum()} of its {x.shape[0]} sets; "
            f"the emulators need at least {needed}"
        )
    return Runs.of(x[~out], y[~out]), int(out.sum())


@dataclass
class _Refocus:
    """What the verification extends when a batch becomes a wave: the lists of :class:`Result`
    (one entry per wave; ``seconds`` one more at the end), the runs (those each wave was fitted
    to first; every batch, for :func:`check_held_out`) and the emulators' fit."""

    waves: list[Wave]
    runs: list[Runs]
    history: list[tuple[int, Runs]]
    shares: list[float]
    plausible: list[float]
    seconds: list[dict[str, float]]
    sources: list[str]
    points: list[int]
    refused: list[int]
    targets: Targets
    map_fn: Mapper

    def add_wave(
        self,
        batch: Verification,
        b: int,
        box: Box,
        plan: Plan,
        share: float,
        clock: dict[str, float],
    ) -> None:
        """Refocus: the runs of verification batch ``b`` (from 0; a spread subset of its sets,
        to bound the emulators' cost) and the earlier runs in its space fit a further wave;
        ``share`` is the space the batch was drawn from, ``clock`` its drawing and runs."""
        t0 = time.perf_counter()
        waves, size = self.waves, batch.x.shape[0]
        ran = np.flatnonzero(~batch.refused)
        keep = ran[
            maximin_subset(batch.x[ran], min(plan.points[-1], ran.size), box,
                           plan.seed + len(waves))
        ]  # fmt: skip
        self.runs.append(Runs.of(batch.x[keep], batch.y[keep]))
        space, rows = _training_runs(self.runs, waves, plan)
        wave = fit_wave(
            space, self.targets, box, seed=plan.seed + len(waves), hyper_rows=rows,
            map_fn=self.map_fn, **plan.fit_options(len(self.targets.names)),
        )  # fmt: skip
        waves.append(wave)
        self.shares.append(share)
        self.plausible.append(int(batch.accepted.sum()) / size)
        self.sources.append(f"verification batch {b + 1}")
        self.points.append(size)
        self.refused.append(int(batch.refused.sum()))
        self.seconds.append({**clock, "emulate": time.perf_counter() - t0})


def _verify(
    verify: Simulator,
    box: Box,
    plan: Plan,
    sample: np.ndarray,
    share: float,
    drawn: float,
    rng: np.random.Generator,
    seeds: np.ndarray | None,
    state: _Refocus,
    say: Callable[[str], None],
) -> Verification:
    """Run the simulator at ``sample`` (the first batch of NROY sets, drawn from a space of
    ``share`` of the box in ``drawn`` seconds) and at fresh batches until
    ``plan.final_sample`` sets are accepted or ``plan.verify_batches`` are run, refocusing
    between batches (:attr:`Plan.refocus`); the verification of every set run.

    Each set is judged on its own runs against the targets and priors, with the run-to-run
    variance measured on its batch (:func:`_judged`).
    A refocusing wave that leaves no space ends the batches with the sets verified so far, and
    so does a batch the simulator refused whole (no runs to refocus by).
    """
    waves = state.waves
    parts: list[Verification] = []
    size, reps = sample.shape[0], plan.verify_replications
    # Seeds of the batches follow those of the design waves, whatever waves refocusing adds.
    first_seed = plan.seed + 1000 * (len(waves) + 1)
    drawn_all = simulated_all = 0.0
    for b in range(plan.verify_batches):
        if b:
            t0 = time.perf_counter()
            run = np.concatenate([v.x for v in parts])
            try:
                # The sets already run only start moves: none is drawn twice.
                sample, now_share = sample_nroy(
                    waves, box, size, rng, plan.batch, seeds=_without(seeds, run), starts=run
                )
            except EmptyNroyError as exc:
                state.shares.append(0.0)
                say(f"verification stops: the space of wave {len(waves)} is empty ({exc})")
                break
            drawn = time.perf_counter() - t0
            if plan.refocus:
                share = now_share  # else every batch comes from the waves' space: the first's
        t0 = time.perf_counter()
        y, out = _simulated(verify, sample, reps, first_seed + 1000 * b, "verification")
        simulated = time.perf_counter() - t0
        drawn_all, simulated_all = drawn_all + drawn, simulated_all + simulated
        parts.append(_batch(sample, y, out, plan.cutoff, state))
        now = int(parts[-1].accepted.sum())
        accepted = sum(int(v.accepted.sum()) for v in parts)
        say(f"verification batch {b + 1}: {now} of {size} sets accepted on their own runs "
            f"({accepted} in all)"
            + (f"; {out.sum()} refused by the simulator" if out.any() else ""))  # fmt: skip
        if accepted >= plan.final_sample or b + 1 == plan.verify_batches or out.all():
            # A batch the simulator refused whole has no runs to refocus by: the end.
            state.shares.append(share)
            break
        if not plan.refocus:
            continue
        state.add_wave(parts[-1], b, box, plan, share, {"design": drawn, "simulate": simulated})
        drawn_all = simulated_all = 0.0
        say(f"wave {len(waves)}: the runs of verification batch {b + 1} refocus the emulators "
            f"({state.seconds[-1]['emulate']:.0f} s)")  # fmt: skip
    # The last batch (all batches without refocusing): what it cost.
    state.seconds.append({"design": drawn_all, "simulate": simulated_all, "emulate": 0.0})
    return Verification(
        np.concatenate([v.x for v in parts]),
        np.concatenate([v.y for v in parts]),
        np.concatenate([v.implausibility for v in parts]),
        np.concatenate([v.accepted for v in parts]),
        np.concatenate([v.refused for v in parts]),
    )


def _batch(
    x: np.ndarray, y: np.ndarray, out: np.ndarray, cutoff: float, state: _Refocus
) -> Verification:
    """A verification batch's sets ``x``, judged on their runs ``y`` by the newest wave; the
    refused (``out``) beyond any cutoff. Its runs then check every wave (before anything
    more is drawn or judged by them: the next batch, the ensemble's profiles and bounds)."""
    imp = np.full(x.shape[0], np.inf)
    if not out.all():
        imp[~out] = _judged(state.waves[-1], x[~out], y[~out])
        state.history.append((len(state.waves), Runs.of(x[~out], y[~out])))
        check_held_out(state.waves, state.history)
    return Verification(x, y, imp, imp < cutoff, out)


def _without(points: np.ndarray | None, run: np.ndarray) -> np.ndarray | None:
    """``points`` less the rows that are in ``run``."""
    if points is None:
        return None
    done = {row.tobytes() for row in np.ascontiguousarray(run)}
    return points[[row.tobytes() not in done for row in np.ascontiguousarray(points)]]


def _judged(wave: Wave, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Each set's largest implausibility on its own runs ``y`` (n, r, k) against ``wave``'s
    targets and priors, with the run-to-run variance measured on the batch: the mean of the
    sets' sample variances (unbiased, ``n (r - 1)`` degrees of freedom), not emulated. A
    refocusing wave's variance emulator is fitted where its batch lay, and the next batch can
    lie elsewhere: one calibration accepted 381 of 400 sets 4 run-measured sds from a target,
    the variance emulator extrapolated to about 20 times the measured variance there."""
    measured = y.var(axis=1, ddof=1).mean(axis=0)
    return run_implausibility(wave, x, y.mean(axis=1), np.full(x.shape[0], y.shape[1]), measured)


def refused_sets(y: np.ndarray) -> np.ndarray:
    """The parameter sets (n,) among runs ``y`` (n, replications, targets) that the simulator
    refused: some replication without any value (all NaN). One such run rules its set out,
    whatever its other replications gave (see :func:`run_waves`)."""
    return np.isnan(y).all(axis=2).any(axis=1)


def _simulated(
    simulate: Simulator, x: np.ndarray, reps: int, seed: int, what: str
) -> tuple[np.ndarray, np.ndarray]:
    """The simulator's outputs at ``x`` (n, r, k) and the sets it refused (n,).

    A run whose outputs are all NaN is one the simulator refused: the model did not start at
    that set (on the census world: its destination constants were not found within the
    solver's budget, as where they must be extreme), so the set is ruled out, whatever its
    other replications gave, and no emulator is fitted to it. Any other value that is not
    finite is an error.
    """
    y = np.asarray(simulate(x, reps, seed), dtype=float)
    if y.ndim != 3 or y.shape[:2] != (np.shape(x)[0], reps):
        raise ValueError(f"{what}: outputs must be (points, {reps} replications, targets)")
    refused = refused_sets(y)
    if not np.all(np.isfinite(y[~np.isnan(y).all(axis=2)])):
        raise ValueError(f"{what}: the simulator returned values that are not finite")
    return y, refused


def run_errors(
    wave: Wave,
    x: np.ndarray,
    mean: np.ndarray,
    replications: np.ndarray,
    run_var: np.ndarray | None = None,
) -> np.ndarray:
    """Each point's signed standardized error on every target on its own runs (n, k): the
    mean of its ``replications`` runs less the observation, over the square root of the
    run-to-run variance of one realization and of that mean, the discrepancy and the
    observation error (positive: the model above the observation). No emulator variance: the
    simulator has been run there. The run-to-run variance is ``run_var`` (per target (k,), or
    per point and target) when given, else emulated at ``x`` by the wave (a smooth estimate,
    not the sample variance of two or three runs; right where the wave's runs lie, an
    extrapolation elsewhere)."""
    t = wave.targets
    r = np.asarray(replications, dtype=np.float64)[:, None]
    if run_var is None:
        v_run = np.column_stack([run_variance(v, x) for v in wave.var_emulators])
    else:
        v_run = np.broadcast_to(
            np.asarray(run_var, dtype=np.float64), (x.shape[0], t.observed.shape[0])
        )
    total = v_run * (1.0 + 1.0 / r) + t.discrepancy_sd**2 + t.observation_sd**2
    return (np.asarray(mean, dtype=np.float64) - t.observed) / np.sqrt(total)


def run_implausibility(
    wave: Wave,
    x: np.ndarray,
    mean: np.ndarray,
    replications: np.ndarray,
    run_var: np.ndarray | None = None,
) -> np.ndarray:
    """Each point's largest implausibility on its own runs (n,): the largest absolute
    :func:`run_errors` and prior implausibility."""
    runs = np.abs(run_errors(wave, x, mean, replications, run_var))
    return np.max(np.column_stack([runs, wave.targets.prior_implausibility(x)]), axis=1)


#: Columns of :func:`emulator_precision`, per target.
PRECISION_COLUMNS: Final[tuple[str, ...]] = (
    "error_median_abs",
    "error_share_beyond_3",
    "emulator_sd_over_base",
    "run_sd_over_base",
    "spread_over_base",
    "kept_but_ruled_out_by_runs",
)


def emulator_precision(wave: Wave, x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """How well ``wave``'s emulators predicted runs made after it, and whether they were
    precise enough to rule out what the runs rule out: per target (each value ``(k,)``).

    ``x`` (n, d) are sets drawn from the wave's space and ``y`` (n, r, k') their runs (r >= 2
    replications; the first ``k`` outputs are the wave's targets). With ``base`` the target's
    discrepancy and observation sd together:

    * ``error_median_abs``, ``error_share_beyond_3``: the standardized errors ``(mean of the
      runs - emulated) / sqrt(emulator var + run var / r)`` (the emulator's variance scaled as
      the wave scales it, the run variance measured on the sets): about 0.67 and 0.003 for a
      valid emulator;
    * ``emulator_sd_over_base``: the median emulator sd over ``base``: a valid emulator that
      is many times ``base`` cannot rule out sets the runs rule out;
    * ``run_sd_over_base``: one run's sd over ``base`` (the noise no emulator can remove);
    * ``spread_over_base``: the sd of the sets' run means over ``base`` (how much the wave's
      space still varies in the target);
    * ``kept_but_ruled_out_by_runs``: the share of sets the emulator keeps on this target
      (implausibility below the cutoff) that their runs put beyond it.
    """
    x = np.atleast_2d(x)
    k = len(wave.mean_emulators)
    y = np.asarray(y, dtype=float)[:, :, :k]
    if y.ndim != 3 or y.shape[0] != x.shape[0] or y.shape[1] < 2:
        raise ValueError(f"runs {y.shape}: expected ({x.shape[0]}, r >= 2, {k})")
    t = wave.targets
    reps = y.shape[1]
    mean = y.mean(axis=1)
    measured = y.var(axis=1, ddof=1).mean(axis=0)
    base = np.sqrt(t.discrepancy_sd**2 + t.observation_sd**2)
    runs = np.abs(run_errors(wave, x, mean, np.full(x.shape[0], reps), measured))
    out: dict[str, np.ndarray] = {name: np.zeros(k) for name in PRECISION_COLUMNS}
    for j in range(k):
        emulated, v_em = wave.mean_emulators[j].predict(x)
        if wave.held_out:
            v_em = v_em * wave.held_out[j].inflation
        z = (mean[:, j] - emulated) / np.sqrt(v_em + measured[j] / reps)
        kept = wave.target_implausibility(j, x) < wave.cutoff
        out["error_median_abs"][j] = np.median(np.abs(z))
        out["error_share_beyond_3"][j] = np.mean(np.abs(z) > 3)
        out["emulator_sd_over_base"][j] = np.median(np.sqrt(v_em)) / base[j]
        out["run_sd_over_base"][j] = np.sqrt(measured[j]) / base[j]
        out["spread_over_base"][j] = mean[:, j].std() / base[j]
        out["kept_but_ruled_out_by_runs"][j] = np.mean(kept & (runs[:, j] >= wave.cutoff))
    return out


def _elapsed(clock: dict[str, float]) -> dict[str, float]:
    """Seconds of each stage from the times its end was read (in stage order)."""
    names = list(clock)
    return {b: clock[b] - clock[a] for a, b in itertools.pairwise(names)}


def _training_runs(
    runs: list[Runs], waves: list[Wave], plan: Plan
) -> tuple[Runs, np.ndarray | None]:
    """The runs the newest wave's emulators are fitted to (:attr:`Plan.training`): every run,
    or the newest wave's runs and the earlier runs inside the space it was drawn from (not
    ruled out by the earlier waves); and the rows that fit their hyperparameters (None: all;
    :attr:`Plan.hyper_points`)."""
    parts = [runs[-1]]
    for r in runs[:-1]:
        if plan.training == "all" or not waves:
            keep = np.ones(r.x.shape[0], dtype=bool)
        else:
            keep = not_ruled_out(waves, r.x)
        parts.append(Runs(r.x[keep], r.mean[keep], r.var[keep], r.replications[keep]))
    training = Runs(
        np.concatenate([p.x for p in parts]),
        np.concatenate([p.mean for p in parts]),
        np.concatenate([p.var for p in parts]),
        np.concatenate([p.replications for p in parts]),
    )
    n = training.x.shape[0]
    if plan.training != "all" or n <= plan.hyper_points or not waves:
        return training, None
    # Nearest the space first: the largest of the earlier waves' ruling implausibilities.
    distance = np.max([w.ruling_implausibility(training.x) for w in waves], axis=0)
    return training, np.sort(np.argsort(distance, kind="stable")[: plan.hyper_points])


def rule_out_shares(waves: Sequence[Wave], box: Box, n: int, seed: int = 0) -> list[dict]:
    """Per wave and target, over ``n`` uniform draws in the box: the share at or beyond the
    cutoff on the target (what it alone rules out at rank 1; at rank 2 a set needs two such
    targets) and its smallest implausibility (which targets no parameter set can meet)."""
    x = box.uniform(n, np.random.default_rng(seed))
    rows = []
    for i, w in enumerate(waves):
        imp = w.implausibility(x)
        for k, name in enumerate(w.targets.names + tuple(p.name for p in w.targets.priors)):
            ruled = float(np.mean(imp[:, k] >= w.cutoff))
            rows.append(
                {"wave": i + 1, "target": name, "share_ruled_out": ruled,
                 "min_implausibility": float(imp[:, k].min())}
            )  # fmt: skip
    return rows
