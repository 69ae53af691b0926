"""How far a history-matching fit got: every finished sweep of its folder judged on its own runs.

Usage::

    python experiments/calibration/wave_summary.py FIT [--csv OUT.csv] [--top 6]

``FIT`` is a fit's folder as ``history_match.py`` writes it (``results/calibration/full``, or the
temporary folder of an update that is still running or was stopped): its sweeps ``wave1``,
``wave2`` ... and the verification batches ``verify``, ``verify2`` ..., each read when it has
finished (its ``runs/manifest.json`` is written last). Every point is judged as ``probe.py``
judges one set: per target the mean of its replications less the observation, over the square
root of the measured variance of one run and of that mean, the discrepancy and the observation
error (:func:`probe.probe_table`). For each sweep it prints the points, the smallest and the
median largest absolute error, the fewest targets beyond the cutoff 3, the share of points
plausible (every target within 3), the best point (smallest largest error) with its worst
targets, and the targets that most often rule points out. ``--csv`` writes per sweep and target
the share of points within the cutoff and the quartiles of the errors.

A finished fit writes ``run_errors.csv`` with errors of the same kind (its run variance
emulated rather than measured); this script is for a fit that has not finished, or was stopped,
and for comparing fits. A folder without a finished sweep is a mistake: one ``error:`` line,
exit code 2.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import NoReturn

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from history_match import roles  # noqa: E402
from hm_runs import province_of_places, run_values  # noqa: E402
from probe import probe_table  # noqa: E402

from urbsim.analysis.history_matching import CUTOFF, refused_sets  # noqa: E402
from urbsim.analysis.targets import build_targets  # noqa: E402
from urbsim.sweep import store  # noqa: E402

#: Sweep folders of a fit, in the order the fit makes them.
_SWEEP = re.compile(r"^(wave|verify)(\d*)$")


def finished_sweeps(fit: Path) -> list[Path]:
    """The fit's finished sweep folders: waves by number, then verification batches."""
    found = []
    for folder in fit.iterdir() if fit.is_dir() else ():
        match = _SWEEP.match(folder.name)
        if match and (folder / "runs" / store.MANIFEST_FILE).is_file():
            kind = 0 if match[1] == "wave" else 1
            found.append(((kind, int(match[2] or 1)), folder))
    return [folder for _, folder in sorted(found)]


def judged(targets: list, usable: list, last_fit_year: int) -> np.ndarray:
    """Which of the ``usable`` targets are judged: those fitted up to ``last_fit_year`` (the
    out-of-sample fit's progress is judged on 2010-2015, as its waves judge it)."""
    fitted = set(roles(targets, last_fit_year).query("role == 'fitted'")["target"])
    return np.array([t.key in fitted for t in usable], dtype=bool)


def point_errors(values: np.ndarray, targets: list) -> np.ndarray:
    """Signed standardized errors (points, targets) of every point's replications
    ``values`` (points, replications, targets), as :func:`probe.probe_table` judges one."""
    return np.stack([probe_table(targets, v)["error"].to_numpy() for v in values])


def sweep_rows(name: str, errors: np.ndarray, keys: list[str]) -> pd.DataFrame:
    """Per target: the share of the sweep's points within the cutoff and the error quartiles."""
    q25, q50, q75 = np.quantile(errors, [0.25, 0.5, 0.75], axis=0)
    return pd.DataFrame(
        {
            "sweep": name,
            "target": keys,
            "points": errors.shape[0],
            "within_cutoff": (np.abs(errors) < CUTOFF).mean(axis=0),
            "error_q25": q25,
            "error_median": q50,
            "error_q75": q75,
        }
    )


def describe(
    name: str,
    errors: np.ndarray,
    keys: list[str],
    top: int,
    index: np.ndarray | None = None,
    refused: int = 0,
) -> str:
    """The printed lines of one sweep; ``index`` numbers the points of ``errors`` in the sweep
    (all of them if not given), ``refused`` the points the model refused, left out."""
    index = np.arange(errors.shape[0]) if index is None else index
    size = np.abs(errors)
    largest = size.max(axis=1)
    off = (size >= CUTOFF).sum(axis=1)
    best = int(np.argmin(largest))
    worst = np.argsort(-size[best])[:top]
    share = (size >= CUTOFF).mean(axis=0)
    often = np.argsort(-share, kind="stable")[:top]
    return "\n".join(
        [
            f"{name}: {errors.shape[0]} points; smallest largest |error| {largest.min():.2f}, "
            f"median {np.median(largest):.2f}; fewest targets outside {CUTOFF:g}: {off.min()} "
            f"(median {np.median(off):.0f}); plausible {np.mean(largest < CUTOFF):.1%}"
            + (f"; {refused} more refused by the model (left out)" if refused else ""),
            f"  best point {index[best]}: "
            + ", ".join(f"{keys[k]} {errors[best, k]:+.1f}" for k in worst),
            "  most often outside: "
            + ", ".join(
                f"{keys[k]} {share[k]:.0%} (median {np.median(errors[:, k]):+.1f})" for k in often
            ),
        ]
    )


def _user_error(message: str) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)


def main() -> int:
    """Judge every finished sweep of the fit; print the summary; write ``--csv``."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("fit", type=Path)
    p.add_argument("--csv", type=Path, default=None)
    p.add_argument("--top", type=int, default=6)
    p.add_argument(
        "--last-fit-year",
        type=int,
        default=2019,
        help="judge the targets fitted up to this year only (2015: the out-of-sample fit)",
    )
    args = p.parse_args()
    if args.top < 1:
        _user_error("--top must be at least 1")
    sweeps = finished_sweeps(args.fit)
    if not sweeps:
        _user_error(f"{args.fit}: no finished sweep (wave1/runs/{store.MANIFEST_FILE} ...)")
    targets = build_targets()
    role = roles(targets, 2019).set_index("target")["role"]
    usable = [t for t in targets if role[t.key] in ("fitted", "held out")]
    mask = judged(targets, usable, args.last_fit_year)
    keys = [t.key for t, m in zip(usable, mask, strict=True) if m]
    province_of = province_of_places()
    tables = []
    for folder in sweeps:
        values = run_values(folder / "runs", usable, province_of)[:, mask]
        runs = pd.read_parquet(folder / "runs" / "runs.parquet", columns=["replication"])
        reps = int(runs["replication"].max()) + 1
        values = values.reshape(-1, reps, values.shape[1])
        # A set the model refused (runs without values, hm_runs.REFUSED) has no errors.
        kept = np.flatnonzero(~refused_sets(values))
        errors = point_errors(values[kept], [t for t, m in zip(usable, mask, strict=True) if m])
        refused = values.shape[0] - kept.size
        print(describe(folder.name, errors, keys, args.top, kept, refused))
        tables.append(sweep_rows(folder.name, errors, keys))
    if args.csv is not None:
        pd.concat(tables, ignore_index=True).to_csv(args.csv, index=False, float_format="%.6g")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
