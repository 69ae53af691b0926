"""One-at-a-time profiles by runs: each parameter moved across its box from the ensemble's most
plausible set, the model run at every value.

The profiles of ``history_match.py`` (``profiles.csv``) move each parameter from 100 sets of the
ensemble and ask every wave's emulators; the later waves' emulators were fitted in a small part of
the box and extrapolate away from it. These profiles run the model instead, from one set: each
parameter at ``--points`` values spanning its box, the others at the ensemble's most plausible set
(the smallest largest implausibility on its own runs), ``--replications`` runs each at the fit's
scale, over the box the fit used (its ``parameters.csv``). A value is judged much as the
verification judges a set: each fitted target's implausibility is the distance of the runs' mean
from the observation over the square root of the run-to-run variance (for one realization and for
the mean of the runs; here the ensemble's median ``replication_sd`` of ``fit.csv``, where the
verification emulates it at each set), the discrepancy and the observation error; the fit's priors
(its ``priors.csv``) are judged exactly. A parameter whose profile stays below the cutoff across
its box is not identified at that set by the targets (alone: a ridge along two parameters is not
seen one at a time).

Writes into OUT: ``profile_runs.csv`` (parameter, value, max_implausibility, worst, plausible; the
first row is the reference set itself) and ``figures/profile_runs.png``.

Usage: python experiments/calibration/run_profiles.py FIT OUT [--points 7] [--replications 2]
       FIT is a history-matching folder (``results/calibration/full``), refused or not.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import seaborn as sns

sys.path.insert(0, str(Path(__file__).resolve().parent))

from history_match import read_box

from urbsim.analysis.history_matching import CUTOFF, Box, RatioPrior, refused_sets
from urbsim.plots import figure_style, save_figure

HERE = Path(__file__).resolve().parent


def fit_box(fit: Path) -> Box:
    """The box the fit used (the bounds of its ``parameters.csv``), else ``box.csv``."""
    path = fit / "parameters.csv"
    if not path.is_file():
        return read_box(HERE / "box.csv")
    df = pd.read_csv(path, keep_default_na=False)
    return Box.of({r.parameter: (float(r.low), float(r.high)) for r in df.itertuples()})


def fit_priors(fit: Path, box: Box) -> tuple[RatioPrior, ...]:
    """The priors the fit judged (its ``priors.csv``; none without one)."""
    path = fit / "priors.csv"
    if not path.is_file():
        return ()
    index = box.names.index
    return tuple(
        RatioPrior(
            r.prior, index(r.numerator), index(r.denominator), float(r.published), float(r.sd)
        )
        for r in pd.read_csv(path).itertuples()
    )


def reference_set(fit: Path, box: Box) -> np.ndarray:
    """The most plausible set of the fit's ensemble (accepted or refused) on its own runs."""
    path = fit / "ensemble.csv"
    ensemble = pd.read_csv(path if path.is_file() else fit / "ensemble_refused.csv")
    row = ensemble.loc[ensemble["run_max_implausibility"].idxmin()]
    return row[list(box.names)].to_numpy(dtype=np.float64)


def profile_points(reference: np.ndarray, box: Box, points: int) -> tuple[np.ndarray, list]:
    """The reference set, then each parameter at ``points`` values of its box, the others at
    the reference; the (parameter, value) label of every row."""
    rows, labels = [reference], [("reference", np.nan)]
    for j, name in enumerate(box.names):
        for v in np.linspace(box.lo[j], box.hi[j], points):
            x = reference.copy()
            x[j] = v
            rows.append(x)
            labels.append((name, float(v)))
    return np.array(rows), labels


def implausibility(
    y: np.ndarray, x: np.ndarray, targets: pd.DataFrame, fit: pd.DataFrame,
    priors: tuple[RatioPrior, ...],
) -> pd.DataFrame:  # fmt: skip
    """Each row's implausibility per fitted target (columns in ``targets`` order) and per prior.

    ``y`` (n, r, k) holds the runs' values of the ``k`` rows of ``targets`` (target, observed,
    discrepancy_sd, observation_sd); ``fit`` gives each target's ``replication_sd``.
    """
    r = y.shape[1]
    run_sd = fit.set_index("target").loc[targets["target"], "replication_sd"].to_numpy()
    total = (
        run_sd**2 * (1.0 + 1.0 / r)
        + targets["discrepancy_sd"].to_numpy() ** 2
        + targets["observation_sd"].to_numpy() ** 2
    )
    imp = np.abs(y.mean(axis=1) - targets["observed"].to_numpy()) / np.sqrt(total)
    # A set the model refused (a run without values: hm_runs.REFUSED) is beyond any cutoff.
    imp[refused_sets(y)] = np.inf
    table = pd.DataFrame(imp, columns=targets["target"].tolist())
    for p in priors:
        table[f"prior:{p.name}"] = p.implausibility(x)
    return table


def summarize(
    table: pd.DataFrame, labels: list, reference: np.ndarray, names: tuple[str, ...]
) -> pd.DataFrame:
    """``profile_runs.csv``: per row the parameter moved, its value and its value at the
    reference set, the largest implausibility, the target or prior behind it and whether it is
    below the cutoff; ``worst`` is ``refused`` where the model refused the set (every target
    infinite)."""
    refused = np.isinf(table.loc[:, ~table.columns.str.startswith("prior:")]).all(axis=1)
    worst = table.idxmax(axis=1).where(~refused, "refused")
    largest = table.max(axis=1)
    at = dict(zip(names, reference, strict=True))
    return pd.DataFrame({
        "parameter": [a for a, _ in labels],
        "value": [b for _, b in labels],
        "reference_value": [at.get(a, np.nan) for a, _ in labels],
        "max_implausibility": largest.to_numpy(),
        "worst": worst.to_numpy(),
        "plausible": (largest < CUTOFF).to_numpy(),
    })  # fmt: skip


def draw(profile: pd.DataFrame, folder: Path) -> Path:
    """Largest implausibility against each parameter's value, the cutoff and the reference
    set's value marked."""
    data = profile[profile["parameter"] != "reference"].assign(
        parameter=lambda d: d["parameter"].str.split(".").str[1],
        # A refused set has no value to draw: a gap in its parameter's line.
        max_implausibility=lambda d: d["max_implausibility"].replace(np.inf, np.nan),
    )
    with figure_style():
        g = sns.FacetGrid(data, col="parameter", col_wrap=6, sharex=False, height=1.9, aspect=1.3)
        g.map_dataframe(sns.lineplot, x="value", y="max_implausibility", marker="o", ms=3)
        at = data.groupby("parameter", sort=False)["reference_value"].first()
        for ax, name in zip(g.axes.flat, g.col_names, strict=False):
            ax.set_yscale("log")
            ax.axhline(CUTOFF, color="C3", lw=0.8, ls="--")
            ax.axvline(at[name], color="0.5", lw=0.8, ls=":")
        g.set_titles("{col_name}", size=8)
        g.set_axis_labels("", "")
        g.figure.supylabel("Largest implausibility over the targets and priors (log scale)")
        g.figure.supxlabel("Parameter value (its unit in box.csv; each panel spans its box)")
        g.figure.suptitle(
            "Profiles by runs: the largest implausibility with one parameter moved across its "
            "box from the most plausible set\n"
            f"(dashed: the cutoff {CUTOFF:g}; dotted: the set's own value)"
        )
        return save_figure(g.figure, folder / "profile_runs.png", size=(15.0, 10.0))


def main() -> int:
    from hm_runs import SweepSimulator

    from urbsim.analysis.targets import build_targets

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("fit", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("--points", type=int, default=7)
    p.add_argument("--replications", type=int, default=2)
    p.add_argument("--households-per-agent", type=float, default=1000.0)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seed", type=int, default=20261203)
    args = p.parse_args()
    box = fit_box(args.fit)
    priors = fit_priors(args.fit, box)
    targets = pd.read_csv(args.fit / "targets.csv").query("role == 'fitted'")
    by_key = {t.key: t for t in build_targets()}
    fitted = [by_key[k] for k in targets["target"]]
    reference = reference_set(args.fit, box)
    x, labels = profile_points(reference, box, args.points)
    args.out.mkdir(parents=True, exist_ok=True)
    sim = SweepSimulator(args.out, box, fitted, fitted, args.households_per_agent, args.workers)
    y = sim.run(x, args.replications, args.seed, "profile_runs")
    table = implausibility(y, x, targets, pd.read_csv(args.fit / "fit.csv"), priors)
    profile = summarize(table, labels, reference, box.names)
    profile.to_csv(args.out / "profile_runs.csv", index=False, float_format="%.6g")
    (args.out / "figures").mkdir(exist_ok=True)
    draw(profile, args.out / "figures")
    print(profile.to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
