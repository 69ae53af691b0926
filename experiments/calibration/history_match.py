"""Calibration of the census world by history matching in waves (issue 14).

Runs :func:`urbsim.analysis.history_matching.run_waves` with the census model as simulator
(``hm_runs.SweepSimulator``: one points sweep per wave, replications at every point) against
the targets of :mod:`urbsim.analysis.targets` up to ``--last-fit-year``, over the box of
``box.csv``. Writes into OUT:

* ``targets.csv``: every target with its role: ``fitted`` (year <= last fit year),
  ``held out`` (predicted, not fitted), ``initial state`` (2010: built into the world, checked),
  ``pending`` (the model does not output the column yet; named in ``missing``);
* ``waves.csv``: each wave's ``source`` (``design``, or the verification batch whose runs
  refocused the emulators), points, replications, the share of the box each wave left not
  ruled out and the share of each wave's design points not ruled out by their own runs (the
  waves go on past the planned ones, up to ``--max-waves``, until it reaches ``--stop-share``)
  and the sets the model refused (``refused_sets``: ruled out, left out of the emulators);
* ``emulator_loo.csv``: per wave and fitted target, the leave-one-out standardized errors
  (share beyond 3, mean, sd) and whether the emulator passes, and its check on the later runs
  inside its space (``held_out_points``, the root mean square of their standardized errors
  ``held_out_rms`` and the factor on the emulator's variance it led to,
  ``variance_inflation``; :func:`urbsim.analysis.history_matching.check_held_out`);
* ``run_errors.csv``: per wave and fitted target, the standardized errors of the sets the
  wave's emulators were fitted on, on their own runs (model minus observation, with the run
  variance the wave emulates there, as a wave's own plausible share is judged; share within
  the cutoff, 10 %, 50 % and 90 % quantiles): which targets rule the runs out, on which side;
* ``emulator_precision.csv``: per verification batch and fitted target, how the emulators
  of the wave the batch was drawn under did on its runs
  (:func:`urbsim.analysis.history_matching.emulator_precision`): their standardized errors
  (median absolute, share beyond 3: valid emulators give about 0.67 and 0.003), their sd, one
  run's sd and the spread of the sets' means, each over the target's discrepancy and
  observation sd together, and the share of sets the emulator keeps that their runs rule out
  (valid but imprecise emulators keep what runs rule out);
* ``verification.csv``: the NROY sets the model was run at after the waves, ``batch`` by
  batch of ``--verify-points`` (``verify/``, ``verify2/`` ..., ``--verify-replications``
  each), each set's largest implausibility on its own runs, whether it is accepted (not
  ruled out by them) and whether the model refused it (``refused``: its destination
  constants could not be fitted, :data:`hm_runs.REFUSED`; ruled out, implausibility ``inf``);
* ``ensemble.csv``: the accepted sets (at least ``--final-sample``), the parameter sets the
  policy and sensitivity experiments run, with the largest over the waves of the implausibility
  each wave rules out by (``max_implausibility``: the second largest over the targets from ten
  targets) and the largest on the set's own runs (``run_max_implausibility``);
* ``profiles.csv``: per parameter, the share of the ensemble left not ruled out when the
  parameter is moved across its box (:func:`urbsim.analysis.history_matching.profiles`);
* ``parameters.csv``: each parameter's box, the ensemble's median and 5-95 % range, the share of
  the box range the ensemble spans, whether the targets constrain it (its profile falls) and
  any bound it reaches;
* ``fit.csv``: every usable target from the accepted sets' verification runs: the ensemble
  mean, the 2.5-97.5 % range over those runs, the error of the mean and over the tolerance and
  whether it is within, ``replication_sd`` (the median run-to-run sd at the chosen scale: what
  the scale costs in noise) and ``ensemble_sd`` (the sd between the sets' means). Without
  verification (``--verify-points 0``) the model is run at the first ``--check-sets`` sets of
  the emulators' sample instead (``check/``, ``--check-replications`` each);
* ``timing.csv``: wall seconds of every stage (per wave: design, runs, emulators; the final
  sample; the check runs);
* ``priors.csv`` (with ``--priors``): each published ratio of two parameters that every wave
  judged with the targets (:class:`urbsim.analysis.history_matching.RatioPrior`), its sd and
  the ratio's 5, 50 and 95 % quantiles over the ensemble.

A box bound reached by the ensemble that is not a hard limit of a parameter the targets
constrain refuses the ensemble, and so do fewer accepted sets than ``--final-sample``: every
table is written, the ensemble as ``ensemble_refused.csv``, and the script exits 1 (the message
says which bound to widen in ``box.csv``). An empty not-ruled-out space stops it too and writes
``ruled_out.csv`` (which targets rule out what). ``--estimate N`` only times N runs and
one target's emulators at the chosen scale and prints the plan's expected time on this machine.

``--continue-from FIT`` starts from another fit's design waves (``FIT/wave1``, ``FIT/wave2``
...: their points are this fit's first waves, their finished runs copied, not rerun): the full
fit continues the out-of-sample fit that way, judging its runs on every target up to 2019,
then draws waves of its own (``run_waves``'s ``designs``). Its ``--max-waves`` counts them.

Usage: python experiments/calibration/history_match.py OUT [--last-fit-year 2015] [options]
"""

from __future__ import annotations

import argparse
import sys
import time
import tomllib
from pathlib import Path
from typing import NoReturn

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fit_cache import FitCache
from hm_runs import SweepSimulator

from urbsim.analysis.emulator import GPEmulator, HeldOutCheck, variance_emulator
from urbsim.analysis.history_matching import (
    CUTOFF,
    DESIGN_SOURCES,
    DISTINCT_RESOLUTION,
    PRECISION_COLUMNS,
    TRAINING,
    BoundHit,
    Box,
    BoxBoundError,
    EmptyNroyError,
    Plan,
    Profile,
    RatioPrior,
    Result,
    Targets,
    box_hits,
    check_box,
    distinct_sets,
    emulator_precision,
    profiles,
    refused_sets,
    rule_out_rank,
    rule_out_shares,
    run_errors,
    run_waves,
)
from urbsim.analysis.targets import (
    Target,
    build_targets,
    missing_outputs,
    targets_table,
)
from urbsim.output.columns import NATIONAL, PLACES
from urbsim.sweep.executors import worker_pool

HERE = Path(__file__).resolve().parent
FIRST_YEAR = 2010
#: Sets of the ensemble the profiles start from (random draws of it: the ensemble's order is
#: that of the NROY sample, itself shuffled).
PROFILE_SETS = 100
#: Values of each parameter's profile across its box (11 showed the narrow peaks of move_base
#: and hukou_apply_rate in the fit of 2026-12-02 at one value each; 21 at two or three).
PROFILE_POINTS = 21
#: The folder of OUT where each target's fitted emulators are kept until the fit ends
#: (fit_cache.py: a resumed fit reads them back).
FIT_CACHE = ".fits"


def read_box(path: Path) -> Box:
    """The parameter box of ``box.csv`` (parameter, low, high, hard_low, hard_high, why); each
    parameter's limits are its range in the scenario schema."""
    from urbsim.sweep.spec import scenario_field

    df = pd.read_csv(path, comment="#")
    bounds = {r.parameter: (float(r.low), float(r.high)) for r in df.itertuples()}
    hard = {r.parameter: (bool(r.hard_low), bool(r.hard_high)) for r in df.itertuples()}
    limits = {}
    for name in bounds:
        field = scenario_field(name)
        limits[name] = (float(field.lower), float(field.upper))
    return Box.of(bounds, hard, limits)


def design_columns(path: Path) -> dict[str, list]:
    """A sweep's design as written in its ``sweep.toml``: each parameter's values by name."""
    spec = tomllib.loads(path.read_text(encoding="utf-8"))
    return {p["name"]: p["values"] for p in spec["design"]["parameters"]}


def read_designs(fit: Path, box: Box) -> list[np.ndarray]:
    """The points of the design waves of the finished fit in ``fit`` (the rows of its
    ``waves.csv`` whose source is a design: ``wave1/sweep.toml``, ``wave2/sweep.toml`` ...), in
    the order of ``box``'s parameters; a user error (before anything is written) when the fit
    did not finish, or a wave varies other parameters or has points outside the box."""
    table = fit / "waves.csv"
    try:
        sources = pd.read_csv(table)["source"]
    except (OSError, KeyError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        _user_error(f"--continue-from {fit}: not a finished fit ({table}: {exc})")
    count = int(sources.isin(DESIGN_SOURCES).sum())
    designs: list[np.ndarray] = []
    for k in range(1, count + 1):
        path = fit / f"wave{k}" / "sweep.toml"
        try:
            columns = design_columns(path)
            if sorted(columns) != sorted(box.names):
                _user_error(
                    f"{path}: its parameters are not those of the box "
                    f"(differ in {sorted(set(columns) ^ set(box.names))})"
                )
            x = np.array([columns[n] for n in box.names], dtype=float).T
        except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
            _user_error(f"{path}: not a wave's design ({exc})")
        if not box.contains(x).all():
            _user_error(f"{path}: points outside the box of --box (was it widened since?)")
        designs.append(x)
    if not designs:
        _user_error(f"--continue-from {fit}: {table} lists no design wave")
    return designs


def read_priors(path: Path, box: Box) -> tuple[RatioPrior, ...]:
    """The rows of ``path`` (the layout of ``external_checks.csv``: check, numerator,
    denominator, published, prior_sd, ...) that have a ``prior_sd``, as priors of the fit on
    the parameters of ``box``.

    Raises
    ------
    SystemExit
        Code 2 after one ``error:`` line naming the file, the row and the field: a file or
        column missing, a prior on a parameter the box does not vary (it would constrain
        nothing), a published value or sd that is not a finite number (the sd positive).
    """
    try:
        df = pd.read_csv(path, comment="#")
    except (OSError, pd.errors.ParserError) as exc:
        _user_error(f"{path}: cannot be read ({exc})")
    missing = {"check", "numerator", "denominator", "published", "prior_sd"} - set(df)
    if missing:
        _user_error(f"{path}: no column {', '.join(sorted(missing))}")
    priors = []
    for r in df[df["prior_sd"].notna()].itertuples(index=False):
        for field in ("numerator", "denominator"):
            if getattr(r, field) not in box.names:
                _user_error(f"{path}: {r.check}: {field} {getattr(r, field)!r} is not a "
                            "parameter of the box (a prior on a fixed parameter constrains "
                            "nothing)")  # fmt: skip
        for field in ("published", "prior_sd"):
            value = pd.to_numeric(getattr(r, field), errors="coerce")
            if not np.isfinite(value) or (field == "prior_sd" and value <= 0):
                _user_error(f"{path}: {r.check}: {field} must be a finite number"
                            + (", positive" if field == "prior_sd" else ""))  # fmt: skip
        priors.append(RatioPrior(r.check, box.names.index(r.numerator),
                                 box.names.index(r.denominator), float(r.published),
                                 float(r.prior_sd)))  # fmt: skip
    return tuple(priors)


def _user_error(message: str) -> NoReturn:
    """One ``error:`` line and exit code 2 (a mistake in an input file, found before any run)."""
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)


def prior_table(priors: tuple[RatioPrior, ...], box: Box, sample: np.ndarray) -> pd.DataFrame:
    """``priors.csv``: each prior, its sd and the range of the ratio over the ensemble."""
    rows = []
    for p in priors:
        ratio = p.value(sample) if sample.shape[0] else np.full(1, np.nan)
        rows.append({
            "prior": p.name, "numerator": box.names[p.numerator],
            "denominator": box.names[p.denominator], "published": p.observed, "sd": p.sd,
            "ensemble_q05": float(np.quantile(ratio, 0.05)),
            "ensemble_median": float(np.median(ratio)),
            "ensemble_q95": float(np.quantile(ratio, 0.95)),
        })  # fmt: skip
    return pd.DataFrame(rows)


def roles(targets: tuple[Target, ...], last_fit_year: int) -> pd.DataFrame:
    """``targets.csv``: each target's role and the columns it misses, if any."""
    national = [c.name for c in NATIONAL]
    places = [c.name for c in PLACES]
    missing = missing_outputs(targets, national, places)
    table = targets_table(targets)
    role = np.where(table["year"] <= last_fit_year, "fitted", "held out")
    role = np.where(table["year"] == FIRST_YEAR, "initial state", role)
    table["role"] = np.where(table["target"].isin(list(missing)), "pending", role)
    table["missing"] = table["target"].map(lambda k: " ".join(missing.get(k, [])))
    return table


def check_fit(
    sim: SweepSimulator, sample: np.ndarray, sets: int, reps: int, seed: int
) -> pd.DataFrame:
    """Every usable target from runs of the model at the first ``sets`` parameter sets of the
    ensemble (random draws of the NROY space, so a random subsample), ``reps`` replications
    each: the fit is the simulator's, not the emulators'. A set the model refuses (its
    destination constants not fitted, :data:`hm_runs.REFUSED`) is left out, and said so."""
    x = sample[: min(sets, sample.shape[0])]
    y = sim.run(x, reps, seed, "check")
    refused = refused_sets(y)
    if refused.all():
        raise SystemExit(f"check: the model refused all {x.shape[0]} sets")
    if refused.any():
        print(f"check: the model refused {refused.sum()} of {x.shape[0]} sets; left out of fit.csv")
    return fit_table(sim, y[~refused])


def fit_table(sim: SweepSimulator, y: np.ndarray) -> pd.DataFrame:
    """``fit.csv`` from every usable target's values in runs of ensemble sets (sets, r, k).

    Columns: the official value, the mean over those runs (``predicted``), the 2.5-97.5 %
    range over the runs (parameter and run-to-run uncertainty together), the error of the mean
    and over the tolerance, ``replication_sd`` (the median over the sets of the sd between
    their replications: what the scale costs in noise) and ``ensemble_sd`` (the sd of the
    sets' means: what the parameters left open do).
    """
    rows = []
    sets, reps = y.shape[0], y.shape[1]
    for k, t in enumerate(sim.usable):
        v = y[:, :, k]
        predicted = float(v.mean())
        lo, hi = np.quantile(v, [0.025, 0.975])
        error = predicted - t.observed
        rep_sd = float(np.sqrt(np.median(v.var(axis=1, ddof=1)))) if reps > 1 else np.nan
        rows.append(
            {"target": t.key, "year": t.year, "observed": t.observed, "predicted": predicted,
             "lo95": lo, "hi95": hi, "error": error, "tolerance": t.tolerance,
             "error_over_tolerance": error / t.tolerance,
             "within_tolerance": abs(error) <= t.tolerance, "replication_sd": rep_sd,
             "ensemble_sd": float(v.mean(axis=1).std(ddof=1)) if sets > 1 else np.nan}
        )  # fmt: skip
    return pd.DataFrame(rows)


def timing_table(result: Result, sim: SweepSimulator) -> pd.DataFrame:
    """Wall seconds of every stage: per wave the design, the runs and the emulators, then the
    final sample and the check runs (``history_match.py`` plans the budget from them)."""
    rows = []
    for i, sec in enumerate(result.seconds):
        wave = str(i + 1) if i < len(result.waves) else "final"
        rows += [{"wave": wave, "stage": stage, "seconds": v} for stage, v in sec.items()]
    rows.append({"wave": "check", "stage": "simulate", "seconds": sim.seconds.get("check", 0.0)})
    return pd.DataFrame(rows)


def parameter_table(
    sample: np.ndarray, box: Box, shapes: list[Profile], hits: list[BoundHit]
) -> pd.DataFrame:
    """The box, the ensemble's spread, whether the targets constrain the parameter (its
    profile falls) and the bounds the ensemble reaches, per parameter: ``hard`` (a limit of
    the parameter), ``prior`` (a soft bound of a parameter the targets do not constrain: the
    box is its prior range) or ``soft`` (refused: widen the box)."""
    s = sample
    kind = {(h.name, h.side): "hard" if h.hard else "prior" if not h.constrained else "soft"
            for h in hits}  # fmt: skip
    return pd.DataFrame(
        {
            "parameter": box.names,
            "low": box.lo,
            "high": box.hi,
            "median": np.median(s, axis=0),
            "q05": np.quantile(s, 0.05, axis=0),
            "q95": np.quantile(s, 0.95, axis=0),
            "share_of_range": (np.quantile(s, 0.95, axis=0) - np.quantile(s, 0.05, axis=0))
            / (box.hi - box.lo),
            "constrained": [p.constrained for p in shapes],
            "profile_min": [float(p.share.min()) for p in shapes],
            "profile_max": [float(p.share.max()) for p in shapes],
            "at_bound": [
                " ".join(f"{side}:{kind[n, side]}" for side in ("low", "high") if (n, side) in kind)
                for n in box.names
            ],
        }
    )


def profile_table(shapes: list[Profile]) -> pd.DataFrame:
    """``profiles.csv``: each parameter's profile, one row per value."""
    return pd.DataFrame(
        [{"parameter": p.name, "value": v, "share_not_ruled_out": s}
         for p in shapes for v, s in zip(p.grid, p.share, strict=True)]
    )  # fmt: skip


def wave_tables(result: Result, fitted: list[Target], plan: Plan) -> tuple[pd.DataFrame, ...]:
    """``waves.csv`` and ``emulator_loo.csv``."""
    waves = pd.DataFrame(
        {
            "wave": np.arange(1, len(result.waves) + 1),
            # A design wave, or a verification batch that refocused the emulators.
            "source": result.wave_source,
            # The sets run (a refocusing wave: its batch; `points` of the last planned wave of
            # them are in its emulators).
            "points": result.wave_size,
            "replications": [
                plan.replications if src in DESIGN_SOURCES else plan.verify_replications
                for src in result.wave_source
            ],
            # The share of the wave's sets inside the earlier waves' space: 1 for a drawn wave,
            # less for one given by the fit continued (--continue-from).
            "design_in_space": result.design_in_space,
            # The wave's runs and the earlier runs inside the space it was drawn from.
            "emulator_points": [w.runs.x.shape[0] for w in result.waves],
            # The share left by waves 1..k (measured when drawing wave k + 1 / the ensemble).
            "nroy_share_after": result.nroy_share,
            # The wave's own design points not ruled out by their runs (what ends the design
            # waves); a refocusing wave: its batch's sets, judged by the wave they came from.
            "run_plausible_share": result.run_plausible_share,
            # Sets the model refused (destination constants not fitted): ruled out, not fitted.
            "refused_sets": result.refused,
        }
    )
    # The check on later runs (none for the last wave): how many, the root mean square of
    # their standardized errors, the factor on the emulator's variance it led to.
    unchecked = HeldOutCheck(0, float("nan"), 1.0)
    loo = pd.DataFrame(
        [
            {"wave": i + 1, "target": t.key, "share_beyond_3": s.share_beyond, "mean": s.mean,
             "sd": s.sd, "valid": s.valid, "held_out_points": h.points,
             "held_out_rms": h.rms, "variance_inflation": h.inflation}
            for i, w in enumerate(result.waves)
            for t, s, h in zip(fitted, w.loo, w.held_out or [unchecked] * len(fitted),
                               strict=True)
        ]
    )  # fmt: skip
    return waves, loo


def run_error_table(result: Result, fitted: list[Target]) -> pd.DataFrame:
    """``run_errors.csv``: per wave and fitted target, the standardized errors of the sets its
    emulators were fitted on, on their own runs (:func:`run_errors`): which targets rule out
    the runs, and on which side the model misses."""
    rows = []
    for i, w in enumerate(result.waves):
        z = run_errors(w, w.runs.x, w.runs.mean, w.runs.replications)
        for k, t in enumerate(fitted):
            q10, q50, q90 = np.quantile(z[:, k], [0.1, 0.5, 0.9])
            rows.append(
                {"wave": i + 1, "target": t.key, "points": z.shape[0],
                 "within_cutoff": float(np.mean(np.abs(z[:, k]) < w.cutoff)),
                 "error_q10": q10, "error_median": q50, "error_q90": q90}
            )  # fmt: skip
    return pd.DataFrame(rows)


def precision_table(result: Result, fitted: list[Target], batch_size: int) -> pd.DataFrame:
    """``emulator_precision.csv``: per verification batch and fitted target, how well the
    emulators of the wave the batch was drawn under predicted its runs
    (:func:`urbsim.analysis.history_matching.emulator_precision`): whether they were valid
    there, and precise enough to rule out what the runs rule out."""
    ver = result.verification
    if ver is None:
        return pd.DataFrame(columns=["batch", "wave", "target", "sets", *PRECISION_COLUMNS])
    # Batch b (from 1) was drawn under the design waves and the b - 1 refocusing waves before it.
    designed = sum(src in DESIGN_SOURCES for src in result.wave_source)
    rows = []
    for b in range(int(np.ceil(ver.x.shape[0] / batch_size))):
        rows_b = np.arange(b * batch_size, min((b + 1) * batch_size, ver.x.shape[0]))
        rows_b = rows_b[~ver.refused[rows_b]]
        wave = designed + b - 1
        if rows_b.size == 0 or wave >= len(result.waves):
            continue
        got = emulator_precision(result.waves[wave], ver.x[rows_b], ver.y[rows_b])
        for k, t in enumerate(fitted):
            rows.append({"batch": b + 1, "wave": wave + 1, "target": t.key, "sets": rows_b.size,
                         **{c: got[c][k] for c in PRECISION_COLUMNS}})  # fmt: skip
    return pd.DataFrame(rows)


def estimate(args: argparse.Namespace, box: Box, n_targets: int) -> int:
    """Time ``args.estimate`` runs at the chosen scale and one wave's emulators; print the
    plan's expected wall time on this machine (runs on ``args.workers`` workers, emulators in
    this process)."""
    import urbsim

    mid = dict(zip(box.names, (box.lo + box.hi) / 2, strict=True))
    cpu = []
    for seed in range(args.estimate):
        t0 = time.process_time()
        overrides = {"world.households_per_agent": args.households_per_agent, **mid}
        urbsim.run("china_census", seed=seed, overrides=overrides, until=2019)
        cpu.append(time.process_time() - t0)
    per_run = float(np.median(cpu[1:] if len(cpu) > 1 else cpu))
    plan = make_plan(args)
    waves = plan.waves_at_most
    design = sum(plan.wave_points(i) for i in range(waves)) * args.replications
    final = (
        args.verify_points * args.verify_replications * args.verify_batches
        if args.verify_points
        else args.check_sets * args.check_replications
    )
    # Refocusing: every verification batch but the last can become a wave like a later one.
    refocus = args.verify_batches - 1 if args.verify_points and not args.no_refocus else 0
    # Emulators are fitted on the workers too, each wave's on its training runs: every run so
    # far (--training all), or its points and the earlier runs left in its space (measured:
    # about as many again).
    sizes = [plan.wave_points(i) for i in range(waves + refocus)]
    if plan.training == "all":
        sizes = list(np.cumsum(sizes))
    else:
        sizes = sizes[:1] + [2 * n for n in sizes[1:]]
    emulate = n_targets * emulators_seconds(box, sizes, args.seed, plan.restarts) / args.workers
    hours = ((design + final) * per_run / args.workers + emulate) / 3600
    print(f"{per_run:.2f} s of CPU per run (median of {len(cpu)}, the first excluded); "
          f"at most {waves} waves: {design + final} runs on {args.workers} workers and "
          f"{n_targets} x {waves + refocus} emulator pairs ({emulate / 60:.1f} min): at most about "
          f"{hours:.2f} h")  # fmt: skip
    return 0


def make_plan(args: argparse.Namespace) -> Plan:
    """The history-matching plan of the command line (a user error when its options do not
    make one)."""
    try:
        return _plan(args)
    except ValueError as exc:
        _user_error(f"the options do not make a plan: {exc}")


def _plan(args: argparse.Namespace) -> Plan:
    return Plan(
        args.points,
        args.replications,
        args.candidates,
        args.final_sample,
        args.seed,
        cutoff=args.cutoff,
        max_waves=args.max_waves,
        stop_share=args.stop_share,
        verify_points=args.verify_points,
        verify_replications=args.verify_replications,
        verify_batches=args.verify_batches,
        seek_share=args.seek_share,
        refocus=not args.no_refocus,
        rule_out_rank=args.rule_out_rank,
        training=args.training,
        restarts=args.restarts,
        hyper_points=args.hyper_points,
    )


def emulator_seconds(box: Box, n: int, seed: int, restarts: int = 0) -> float:
    """CPU seconds of one target's emulators (mean and log variance) on ``n`` points of the
    box, fitted to a smooth made-up output (the cost depends on the sizes, not the values)."""
    rng = np.random.default_rng(seed)
    x = box.lo + rng.random((n, box.dim)) * (box.hi - box.lo)
    u = (x - box.lo) / (box.hi - box.lo)
    y = np.sin(3.0 * u[:, 0]) + u[:, 1 % box.dim] ** 2 + 0.05 * rng.normal(size=n)
    t0 = time.process_time()
    GPEmulator(box.lo, box.hi, seed=seed, restarts=restarts).fit(x, y, np.full(n, 0.05**2 / 3))
    variance_emulator(x, np.exp(y), np.full(n, 3), box.lo, box.hi, restarts=restarts)
    return time.process_time() - t0


def emulators_seconds(box: Box, sizes: list[int], seed: int, restarts: int) -> float:
    """CPU seconds of one target's emulators over waves fitted to ``sizes`` runs: measured at
    the smallest and the largest size, a power law in the size between them (a fit costs
    about the cube of its points, less while they are few)."""
    small, large = min(sizes), max(sizes)
    cost_small = emulator_seconds(box, small, seed, restarts)
    if large == small:
        return cost_small * len(sizes)
    cost_large = emulator_seconds(box, large, seed, restarts)
    power = np.log(max(cost_large, 1e-9) / max(cost_small, 1e-9)) / np.log(large / small)
    return float(sum(cost_small * (n / small) ** power for n in sizes))


def parse() -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", type=Path)
    p.add_argument("--box", type=Path, default=HERE / "box.csv")
    p.add_argument("--last-fit-year", type=int, default=2019)
    p.add_argument("--points", type=lambda s: tuple(int(v) for v in s.split(",")),
                   default=(260, 120, 120))  # fmt: skip
    p.add_argument("--replications", type=int, default=3)
    p.add_argument(
        "--max-waves", type=int, default=6, help="waves at most (the planned ones at least)"
    )
    p.add_argument(
        "--stop-share",
        type=float,
        default=0.5,
        help="share of a wave's design points plausible on their own runs that ends the waves",
    )
    p.add_argument(
        "--verify-points", type=int, default=400, help="NROY sets run after the waves (0: none)"
    )
    p.add_argument("--verify-replications", type=int, default=2)
    p.add_argument(
        "--verify-batches",
        type=int,
        default=3,
        help="batches of --verify-points sets at most, until --final-sample are accepted",
    )
    p.add_argument(
        "--no-refocus",
        action="store_true",
        help="draw every verification batch from the waves' space (by default a batch that "
        "leaves too few sets accepted becomes a further wave before the next)",
    )
    p.add_argument(
        "--seek-share",
        type=float,
        default=0.5,
        help="share of a later wave's points among its most plausible candidates",
    )
    p.add_argument(
        "--rule-out-rank",
        type=int,
        default=None,
        help="targets beyond the cutoff that rule a set out by the emulators (default: 1 below "
        "10 targets, else 2; runs are always judged on every target)",
    )
    p.add_argument(
        "--training",
        choices=TRAINING,
        default="all",
        help="the runs each wave's emulators are fitted to: every run so far (all) or the "
        "wave's and the earlier ones inside its space (space)",
    )
    p.add_argument(
        "--restarts",
        type=int,
        default=0,
        help="random restarts of each emulator's hyperparameter optimization",
    )
    p.add_argument(
        "--hyper-points",
        type=int,
        default=800,
        help="with --training all, the runs nearest a wave's space that fit its emulators' "
        "hyperparameters (the emulators are conditioned on every run)",
    )
    p.add_argument("--households-per-agent", type=float, default=1000.0)
    p.add_argument(
        "--final-sample", type=int, default=100, help="the ensemble's size (at least, verified)"
    )
    p.add_argument(
        "--check-sets",
        type=int,
        default=40,
        help="without verification: ensemble sets the model is run at for fit.csv",
    )
    p.add_argument("--check-replications", type=int, default=2)
    p.add_argument("--candidates", type=int, default=3000)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seed", type=int, default=20261201)
    p.add_argument(
        "--cutoff",
        type=float,
        default=CUTOFF,
        help="implausibility cutoff (3); larger only for smoke runs of the machinery",
    )
    p.add_argument("--estimate", type=int, default=0, help="only time this many runs")
    p.add_argument(
        "--reuse",
        type=Path,
        default=None,
        help="another fit's folder whose finished waves with the same sweep are copied",
    )
    p.add_argument(
        "--continue-from",
        type=Path,
        default=None,
        help="another finished fit's folder whose design waves are this fit's first (their "
        "runs copied from it, as --reuse does; not with --reuse)",
    )
    p.add_argument(
        "--allow-refused",
        action="store_true",
        help="exit 0 when the ensemble is refused (its tables written, ensemble_refused.csv, "
        "refused.txt saying why): for a fit another continues, which needs its waves only",
    )
    p.add_argument("--only", default="", help="comma-separated target families (default all)")
    p.add_argument(
        "--priors",
        type=Path,
        default=None,
        help="published ratios of parameters judged with the targets: the rows of this file "
        "(the layout of external_checks.csv) that have a prior_sd",
    )
    return p.parse_args()


def main() -> int:
    args = parse()
    # One BLAS thread for the emulators: their matrices (a few hundred rows) gain nothing from
    # more, and on a shared machine idle BLAS threads spin (measured on this project's 2-core
    # machine under load: a GP fit of 200 points in 20 dimensions took 36 s of wall time with
    # the default threads, 4 s with one). The runs are worker processes with one thread each.
    with threadpool_limits(limits=1):
        return calibrate(args)


def calibrate(args: argparse.Namespace) -> int:
    """The waves, the ensemble and the tables (or the time estimate of ``--estimate``)."""
    box = read_box(args.box)
    # Read before anything is built or written: a mistake in the file stops the fit at once.
    priors = read_priors(args.priors, box) if args.priors else ()
    targets_all = build_targets()
    table = roles(targets_all, args.last_fit_year)
    by_key = {t.key: t for t in targets_all}
    if args.only:
        # Families left out are recorded as such, so the tables say what was not fitted.
        table.loc[~table["name"].isin(args.only.split(",")), "role"] = "not used"
    usable = [by_key[k] for k in table.loc[table["role"].isin(["fitted", "held out"]), "target"]]
    fitted = [t for t in usable if t.year <= args.last_fit_year]
    try:
        rule_out_rank(len(fitted), args.rule_out_rank)
    except ValueError as exc:
        _user_error(f"--rule-out-rank: {exc}")
    make_plan(args)  # a mistake in the options stops the fit before anything runs
    if args.estimate:
        return estimate(args, box, len(fitted))
    if args.reuse and args.continue_from:
        _user_error("--continue-from copies the runs of the fit it continues: not with --reuse")
    designs = read_designs(args.continue_from, box) if args.continue_from else []
    reuse = args.reuse or args.continue_from
    args.out.mkdir(parents=True, exist_ok=True)
    # A priors.csv of an earlier fit into this folder would say this one judged them.
    (args.out / "priors.csv").unlink(missing_ok=True)
    table.to_csv(args.out / "targets.csv", index=False, float_format="%.6g")
    print(f"{len(fitted)} fitted targets, {len(usable) - len(fitted)} held out; pending: "
          f"{table.loc[table['role'] == 'pending', 'target'].tolist()}")  # fmt: skip
    sim = SweepSimulator(
        args.out, box, usable, fitted, args.households_per_agent, args.workers, reuse
    )
    observed = Targets(
        tuple(t.key for t in fitted),
        np.array([t.observed for t in fitted]),
        np.array([t.discrepancy_sd for t in fitted]),
        np.array([t.observation_sd for t in fitted]),
        priors,
    )
    plan = make_plan(args)
    # Each target's fit is kept until the fit ends, so that a resumed one (after a kill) reads
    # the emulators back instead of fitting every wave again (fit_cache.py).
    fits = FitCache(args.out / FIT_CACHE)
    try:
        # The targets' emulators of a wave are independent: fitted on the sweep's worker count
        # of processes (one BLAS thread each, as here), the same emulators in less wall time;
        # the pool's workers die with this driver, as the sweep's do.
        with worker_pool(args.workers, blas_threads=1) as pool:
            fits.map_fn = pool.map
            verify = sim.named("verify")
            if designs:
                _say(f"the first {len(designs)} waves are those of {args.continue_from}")
            result = run_waves(
                sim, box, observed, plan, map_fn=fits, verify=verify, report=_say, designs=designs
            )
            if fits.read:
                _say(f"{fits.read} targets' emulators read back from {FIT_CACHE}/, "
                     f"{fits.computed} fitted")  # fmt: skip
    except EmptyNroyError as exc:
        fits.remove()
        # Which targets no parameter set meets: the table to read before widening the box,
        # changing a discrepancy or the model.
        shares = pd.DataFrame(rule_out_shares(exc.waves, box, 20_000, args.seed))
        shares.to_csv(args.out / "ruled_out.csv", index=False, float_format="%.6g")
        print(f"error: {exc}; see {args.out / 'ruled_out.csv'}", file=sys.stderr)
        return 1
    code = write_results(args, plan, result, sim, fitted, box)
    # The tables are written (or the ensemble refused with them): nothing is left to resume.
    fits.remove()
    return code


def _say(line: str) -> None:
    """Progress of the waves, flushed at once (the calibration runs for an hour or more)."""
    print(line, flush=True)


def write_results(
    args: argparse.Namespace,
    plan: Plan,
    result: Result,
    sim: SweepSimulator,
    fitted: list[Target],
    box: Box,
) -> int:
    """Every table of the calibration into ``args.out``; 1 (and the ensemble written as
    ``ensemble_refused.csv``) when the ensemble is refused: too few accepted sets, too few of
    them distinct (:func:`urbsim.analysis.history_matching.distinct_sets`), or a soft bound of a
    parameter the targets constrain reached."""
    out, fmt = args.out, "%.6g"
    waves, loo = wave_tables(result, fitted, plan)
    waves.to_csv(out / "waves.csv", index=False, float_format=fmt)
    loo.to_csv(out / "emulator_loo.csv", index=False, float_format=fmt)
    run_error_table(result, fitted).to_csv(out / "run_errors.csv", index=False, float_format=fmt)
    ver = result.verification
    if ver is not None:
        table = pd.DataFrame(ver.x, columns=list(box.names))
        table.insert(0, "batch", np.arange(len(table)) // args.verify_points + 1)
        table["run_max_implausibility"] = ver.implausibility
        table["accepted"] = ver.accepted
        table["refused"] = ver.refused
        table.to_csv(out / "verification.csv", index=False, float_format="%.8g")
        precision = precision_table(result, fitted, args.verify_points)
        precision.to_csv(out / "emulator_precision.csv", index=False, float_format=fmt)
    sample = result.sample
    # The profiles from the ensemble (or, when no set was accepted, from every set verified);
    # at most PROFILE_SETS of them: each set is moved to PROFILE_POINTS values of each
    # parameter and emulated by every wave.
    reference = sample if sample.shape[0] else (ver.x if ver is not None else sample)
    shapes = profiles(result.waves, box, reference[:PROFILE_SETS], points=PROFILE_POINTS)
    profile_table(shapes).to_csv(out / "profiles.csv", index=False, float_format=fmt)
    constrained = [p.constrained for p in shapes]
    problems = []
    if sample.shape[0] < args.final_sample:
        problems.append(
            f"{sample.shape[0]} parameter sets accepted, fewer than --final-sample "
            f"{args.final_sample}: more waves or more verified sets are needed"
        )
    distinct = distinct_sets(sample, box) if sample.shape[0] else 0
    if sample.shape[0] >= args.final_sample > distinct:
        problems.append(
            f"{distinct} distinct parameter sets (apart by {DISTINCT_RESOLUTION:.0%} of a "
            f"parameter's range) among the {sample.shape[0]} accepted, fewer than "
            f"--final-sample {args.final_sample}: the space shrank to a few points; the "
            "ensemble says nothing of the parameters' uncertainty"
        )
    hits: list[BoundHit] = []
    if sample.shape[0]:
        hits = box_hits(sample, box, constrained=constrained)
        try:
            check_box(sample, box, constrained=constrained)
        except BoxBoundError as exc:
            problems.append(str(exc))
    ensemble = pd.DataFrame(sample, columns=list(box.names))
    ensemble.insert(0, "parameter_set", np.arange(len(ensemble)))
    # By the waves' emulators, each on the implausibility it rules out by (its rank's).
    ensemble["max_implausibility"] = (
        np.max([w.ruling_implausibility(sample) for w in result.waves], axis=0)
        if sample.shape[0]
        else []
    )
    if ver is not None:
        ensemble["run_max_implausibility"] = ver.implausibility[ver.accepted]
    name = "ensemble_refused.csv" if problems else "ensemble.csv"
    ensemble.to_csv(out / name, index=False, float_format="%.8g")
    if sample.shape[0]:
        table = parameter_table(sample, box, shapes, hits)
        table.to_csv(out / "parameters.csv", index=False, float_format=fmt)
    if ver is not None:
        y = sim.named_outputs["verify"][1][ver.accepted]
        fit = fit_table(sim, y) if y.shape[0] else None
    else:
        fit = check_fit(sim, sample, args.check_sets, args.check_replications, args.seed)
    if fit is not None:
        fit["role"] = np.where(fit["year"] <= args.last_fit_year, "fitted", "held out")
        fit.to_csv(out / "fit.csv", index=False, float_format=fmt)
        columns = ["target", "observed", "predicted", "error_over_tolerance"]
        print(fit[columns].to_string(index=False))
    timing_table(result, sim).to_csv(out / "timing.csv", index=False, float_format="%.1f")
    priors = result.waves[0].targets.priors
    if priors:
        prior_table(priors, box, sample).to_csv(out / "priors.csv", index=False, float_format=fmt)
    refusal = out / "refused.txt"
    refusal.unlink(missing_ok=True)
    if problems:
        print(f"error: the ensemble is refused ({out / name}):", file=sys.stderr)
        print("\n".join(problems), file=sys.stderr)
        if args.allow_refused:
            # The report states it (report.py reads this file).
            refusal.write_text("\n".join(problems) + "\n", encoding="utf-8")
            return 0
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
