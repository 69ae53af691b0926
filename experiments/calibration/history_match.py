"""Calibration of the census world by history matching in waves (issue 14).

Runs :func:`urbsim.analysis.history_matching.run_waves` with the census model as simulator
(``hm_runs.SweepSimulator``: one points sweep per wave, replications at every point) against
the targets of :mod:`urbsim.analysis.targets` up to ``--last-fit-year``, over the box of
``box.csv``. Writes into OUT:

* ``targets.csv``: every target with its role: ``fitted`` (year <= last fit year),
  ``held out`` (predicted, not fitted), ``initial state`` (2010: built into the world, checked),
  ``pending`` (the model does not output the column yet; named in ``missing``);
* ``waves.csv``: points, replications and the share of the box each wave left not ruled out;
* ``emulator_loo.csv``: per wave and fitted target, the leave-one-out standardized errors
  (share beyond 3, mean, sd) and whether the emulator passes;
* ``ensemble.csv``: the final not-ruled-out sample (``--final-sample`` parameter sets), the
  parameter sets the policy and sensitivity experiments run;
* ``parameters.csv``: each parameter's box, the ensemble's median and 5-95 % range, the share of
  the box range the ensemble spans, and any hard bound it reaches;
* ``fit.csv``: every usable target predicted over the ensemble (emulators of all waves' runs:
  mean, 95 % range with emulator and run-to-run uncertainty), the error of the ensemble mean,
  the error over the tolerance and whether it is within, and ``replication_sd``: the median
  run-to-run sd over the design points at the chosen scale (what the scale costs in noise).

A box bound reached by the ensemble that is not a hard limit stops the script (exit 1, the
message says which bound to widen in ``box.csv``). ``--estimate N`` only times N runs at the
chosen scale and prints the plan's expected wall time on this machine.

Usage: python experiments/calibration/history_match.py OUT [--last-fit-year 2015] [options]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from hm_runs import SweepSimulator

from urbsim.analysis.emulator import GPEmulator, run_variance, variance_emulator
from urbsim.analysis.history_matching import (
    BoxBoundError,
    EmptyNroyError,
    Plan,
    Result,
    Targets,
    rule_out_shares,
    run_waves,
)
from urbsim.analysis.targets import (
    Target,
    build_targets,
    missing_outputs,
    targets_table,
)
from urbsim.output.columns import NATIONAL, PLACES

HERE = Path(__file__).resolve().parent
FIRST_YEAR = 2010


def read_box(path: Path):  # -> urbsim.analysis.history_matching.Box
    """The parameter box of ``box.csv`` (parameter, low, high, hard_low, hard_high, why); each
    parameter's limits are its range in the scenario schema."""
    from urbsim.analysis.history_matching import Box
    from urbsim.sweep.spec import scenario_field

    df = pd.read_csv(path, comment="#")
    bounds = {r.parameter: (float(r.low), float(r.high)) for r in df.itertuples()}
    hard = {r.parameter: (bool(r.hard_low), bool(r.hard_high)) for r in df.itertuples()}
    limits = {}
    for name in bounds:
        field = scenario_field(name)
        limits[name] = (float(field.lower), float(field.upper))
    return Box.of(bounds, hard, limits)


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


def _pooled(sim: SweepSimulator) -> tuple[np.ndarray, np.ndarray]:
    x = np.concatenate([x for x, _ in sim.outputs])
    y = np.concatenate([y for _, y in sim.outputs])
    return x, y


def predict_all(sim: SweepSimulator, sample: np.ndarray, seed: int) -> pd.DataFrame:
    """Every usable target over the ensemble, from emulators of all waves' runs."""
    x, y = _pooled(sim)
    reps = np.full(x.shape[0], y.shape[1])
    rng = np.random.default_rng(seed)
    rows = []
    for k, t in enumerate(sim.usable):
        mean, var = y[:, :, k].mean(axis=1), y[:, :, k].var(axis=1, ddof=1)
        em = GPEmulator(sim.box.lo, sim.box.hi, seed=seed + k).fit(x, mean, var / reps)
        m, v_em = em.predict(sample)
        v_run = run_variance(variance_emulator(x, var, reps, sim.box.lo, sim.box.hi), sample)
        draws = m[:, None] + rng.normal(size=(m.shape[0], 20)) * np.sqrt(v_em + v_run)[:, None]
        lo, hi = np.quantile(draws, [0.025, 0.975])
        error = float(m.mean() - t.observed)
        rows.append(
            {"target": t.key, "year": t.year, "observed": t.observed, "predicted": m.mean(),
             "lo95": lo, "hi95": hi, "error": error, "tolerance": t.tolerance,
             "error_over_tolerance": error / t.tolerance,
             "within_tolerance": abs(error) <= t.tolerance,
             "replication_sd": float(np.sqrt(np.median(var)))}
        )  # fmt: skip
    return pd.DataFrame(rows)


def parameter_table(result: Result, box) -> pd.DataFrame:
    """The box and the ensemble's spread per parameter."""
    s = result.sample
    hits = {(h.name, h.side) for h in result.hard_hits}
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
            "at_hard_bound": [
                " ".join(side for side in ("low", "high") if (n, side) in hits) for n in box.names
            ],
        }
    )


def wave_tables(
    result: Result, fitted: list[Target], points: tuple[int, ...], reps: int
) -> tuple[pd.DataFrame, ...]:
    """``waves.csv`` and ``emulator_loo.csv``."""
    waves = pd.DataFrame(
        {
            "wave": np.arange(1, len(result.waves) + 1),
            "points": list(points),
            "replications": reps,
            # The wave's runs and the earlier runs inside the space it was drawn from.
            "emulator_points": [w.runs.x.shape[0] for w in result.waves],
            # The share left by waves 1..k (measured when drawing wave k + 1 / the ensemble).
            "nroy_share_after": result.nroy_share,
        }
    )
    loo = pd.DataFrame(
        [
            {"wave": i + 1, "target": t.key, "share_beyond_3": s.share_beyond, "mean": s.mean,
             "sd": s.sd, "valid": s.valid}
            for i, w in enumerate(result.waves)
            for t, s in zip(fitted, w.loo, strict=True)
        ]
    )  # fmt: skip
    return waves, loo


def estimate(args: argparse.Namespace, box) -> int:
    """Time ``args.estimate`` runs at the chosen scale; print the plan's expected wall time."""
    import urbsim

    mid = dict(zip(box.names, (box.lo + box.hi) / 2, strict=True))
    seconds = []
    for seed in range(args.estimate):
        t0 = time.perf_counter()
        overrides = {"world.households_per_agent": args.households_per_agent, **mid}
        urbsim.run("china_census", seed=seed, overrides=overrides, until=2019)
        seconds.append(time.perf_counter() - t0)
    per_run = float(np.median(seconds[1:] if len(seconds) > 1 else seconds))
    runs = sum(args.points) * args.replications
    hours = runs * per_run / args.workers / 3600
    print(f"{per_run:.2f} s per run (median of {len(seconds)}, first excluded); "
          f"{runs} runs on {args.workers} workers: about {hours:.2f} h")  # fmt: skip
    return 0


def parse() -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", type=Path)
    p.add_argument("--box", type=Path, default=HERE / "box.csv")
    p.add_argument("--last-fit-year", type=int, default=2019)
    p.add_argument("--points", type=lambda s: tuple(int(v) for v in s.split(",")),
                   default=(90, 60, 60))  # fmt: skip
    p.add_argument("--replications", type=int, default=3)
    p.add_argument("--households-per-agent", type=float, default=4000.0)
    p.add_argument("--final-sample", type=int, default=200)
    p.add_argument("--candidates", type=int, default=3000)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seed", type=int, default=20261201)
    p.add_argument("--estimate", type=int, default=0, help="only time this many runs")
    p.add_argument("--only", default="", help="comma-separated target families (default all)")
    return p.parse_args()


def main() -> int:
    args = parse()
    box = read_box(args.box)
    table = roles(build_targets(), args.last_fit_year)
    by_key = {t.key: t for t in build_targets()}
    if args.only:
        # Families left out are recorded as such, so the tables say what was not fitted.
        table.loc[~table["name"].isin(args.only.split(",")), "role"] = "not used"
    usable = [by_key[k] for k in table.loc[table["role"].isin(["fitted", "held out"]), "target"]]
    fitted = [t for t in usable if t.year <= args.last_fit_year]
    if args.estimate:
        return estimate(args, box)
    args.out.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out / "targets.csv", index=False, float_format="%.6g")
    print(f"{len(fitted)} fitted targets, {len(usable) - len(fitted)} held out; pending: "
          f"{table.loc[table['role'] == 'pending', 'target'].tolist()}")  # fmt: skip
    sim = SweepSimulator(args.out, box, usable, fitted, args.households_per_agent, args.workers)
    targets = Targets(
        tuple(t.key for t in fitted),
        np.array([t.observed for t in fitted]),
        np.array([t.discrepancy_sd for t in fitted]),
        np.array([t.observation_sd for t in fitted]),
    )
    plan = Plan(args.points, args.replications, args.candidates, args.final_sample, args.seed)
    try:
        result = run_waves(sim, box, targets, plan)
    except BoxBoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except EmptyNroyError as exc:
        # Which targets no parameter set meets: the table to read before widening the box,
        # changing a discrepancy or the model.
        shares = pd.DataFrame(rule_out_shares(exc.waves, box, 20_000, args.seed))
        shares.to_csv(args.out / "ruled_out.csv", index=False, float_format="%.6g")
        print(f"error: {exc}; see {args.out / 'ruled_out.csv'}", file=sys.stderr)
        return 1
    write_results(args, result, sim, fitted, box)
    return 0


def write_results(args: argparse.Namespace, result: Result, sim, fitted, box) -> None:
    """Every table of the calibration into ``args.out``."""
    out, fmt = args.out, "%.6g"
    waves, loo = wave_tables(result, fitted, args.points, args.replications)
    waves.to_csv(out / "waves.csv", index=False, float_format=fmt)
    loo.to_csv(out / "emulator_loo.csv", index=False, float_format=fmt)
    ensemble = pd.DataFrame(result.sample, columns=list(box.names))
    ensemble.insert(0, "parameter_set", np.arange(len(ensemble)))
    ensemble["max_implausibility"] = np.max(
        [w.implausibility(result.sample).max(axis=1) for w in result.waves], axis=0
    )
    ensemble.to_csv(out / "ensemble.csv", index=False, float_format="%.8g")
    parameter_table(result, box).to_csv(out / "parameters.csv", index=False, float_format=fmt)
    fit = predict_all(sim, result.sample, args.seed)
    fit["role"] = np.where(fit["year"] <= args.last_fit_year, "fitted", "held out")
    fit.to_csv(out / "fit.csv", index=False, float_format=fmt)
    print(fit[["target", "observed", "predicted", "error_over_tolerance"]].to_string(index=False))


if __name__ == "__main__":
    sys.exit(main())
