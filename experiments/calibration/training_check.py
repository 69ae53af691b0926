"""Which runs should a wave's emulators be fitted to? A check on a fit's own sweeps.

Usage::

    python experiments/calibration/training_check.py FIT --wave K --batch B
        [--last-fit-year 2015] [--targets KEY,KEY] [--csv OUT.csv]

``FIT`` is a fit's folder as ``history_match.py`` writes it (finished, running or stopped): its
sweeps ``wave1`` ... ``waveK`` and the verification batch ``verify`` (B = 1) or ``verifyB``, the
sets drawn after wave K. For every judged target the mean emulator
(:class:`urbsim.analysis.emulator.GPEmulator`, one optimizer start, as ``history_match.py``
fits them) is fitted twice:

- ``wave``: to wave K's own runs (what ``--training space`` fits, less the few earlier runs
  that lie inside wave K's space);
- ``all``: to the runs of waves 1 to K (``--training all``);

and each is judged at the batch's sets against the mean of their own runs: the root mean square
error, the emulator's median sd and the spread of the run means, each over the target's
discrepancy and observation sd together (``base``); the correlation of the emulated and the run
means; and the median absolute standardized error (0.67 for a valid emulator: the error over
the emulator's sd and that of the run mean, measured on the batch). The check of the
thirty-fourth calibration's change to ``--training all`` (JOURNAL.md, 2026-12-06 17:15) is this
script on the thirty-third calibration's out-of-sample fit with ``--wave 5 --batch 1``.

A folder without those sweeps finished, or a target that is not judged, is a mistake: one
``error:`` line, exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import NoReturn

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from history_match import design_columns, read_box, roles  # noqa: E402
from hm_runs import province_of_places, run_values  # noqa: E402
from wave_summary import judged  # noqa: E402

from urbsim.analysis.emulator import GPEmulator  # noqa: E402
from urbsim.analysis.history_matching import Box, refused_sets  # noqa: E402
from urbsim.analysis.targets import build_targets  # noqa: E402
from urbsim.sweep import store  # noqa: E402

#: The columns of the comparison, per training and target.
COLUMNS = (
    "training",
    "target",
    "runs",
    "sets",
    "rmse_over_base",
    "emulator_sd_over_base",
    "spread_over_base",
    "correlation",
    "z_median_abs",
)


def sweep_points(folder: Path, box: Box) -> np.ndarray:
    """The sweep's design points (points, parameters) in the order of ``box``."""
    columns = design_columns(folder / "sweep.toml")
    return np.array([columns[n] for n in box.names], dtype=float).T


def sweep_runs(
    folder: Path, box: Box, usable: list, mask: np.ndarray, province_of: pd.Series
) -> tuple[np.ndarray, np.ndarray]:
    """The sweep's sets the model did not refuse (sets, parameters) and their runs' values of
    the judged targets (sets, replications, targets)."""
    values = run_values(folder / "runs", usable, province_of)[:, mask]
    runs = pd.read_parquet(folder / "runs" / "runs.parquet", columns=["replication"])
    values = values.reshape(-1, int(runs["replication"].max()) + 1, values.shape[1])
    kept = ~refused_sets(values)
    return sweep_points(folder, box)[kept], values[kept]


def compare(
    trainings: dict[str, tuple[np.ndarray, np.ndarray]],
    batch: tuple[np.ndarray, np.ndarray],
    keys: list[str],
    base: np.ndarray,
    box: Box,
) -> pd.DataFrame:
    """Per training (its sets and run values) and target: the mean emulator fitted to it,
    judged at the ``batch``'s sets against their run means (:data:`COLUMNS`)."""
    bx, by = batch
    mean = by.mean(axis=1)
    # The variance of a set's run mean, measured on the batch (one run's over the replications).
    mean_var = by.var(axis=1, ddof=1).mean(axis=0) / by.shape[1]
    rows = []
    for label, (x, y) in trainings.items():
        noise = y.var(axis=1, ddof=1) / y.shape[1]
        for k, key in enumerate(keys):
            em = GPEmulator(box.lo, box.hi, seed=k, restarts=0).fit(x, y.mean(axis=1)[:, k],
                                                                   noise[:, k])  # fmt: skip
            mu, var = em.predict(bx)
            err = mean[:, k] - mu
            corr = np.corrcoef(mean[:, k], mu)[0, 1] if np.ptp(mu) and np.ptp(mean[:, k]) else 0.0
            rows.append({
                "training": label, "target": key, "runs": x.shape[0], "sets": bx.shape[0],
                "rmse_over_base": float(np.sqrt(np.mean(err**2)) / base[k]),
                "emulator_sd_over_base": float(np.median(np.sqrt(var)) / base[k]),
                "spread_over_base": float(mean[:, k].std() / base[k]),
                "correlation": float(corr),
                "z_median_abs": float(np.median(np.abs(err) / np.sqrt(var + mean_var[k]))),
            })  # fmt: skip
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _user_error(message: str) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)


def _sweep(fit: Path, name: str) -> Path:
    folder = fit / name
    if not (folder / "runs" / store.MANIFEST_FILE).is_file():
        _user_error(f"{folder}: not a finished sweep (no runs/{store.MANIFEST_FILE})")
    return folder


def main() -> int:
    """Fit both trainings' emulators, print the comparison, write ``--csv``."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("fit", type=Path)
    p.add_argument("--wave", type=int, required=True, help="the wave whose emulators are fitted")
    p.add_argument("--batch", type=int, default=1, help="the verification batch drawn after it")
    p.add_argument("--last-fit-year", type=int, default=2019)
    p.add_argument("--targets", default=None, help="comma-separated target keys (default: all)")
    p.add_argument("--box", type=Path, default=HERE / "box.csv")
    p.add_argument("--csv", type=Path, default=None)
    args = p.parse_args()
    if args.wave < 1 or args.batch < 1:
        _user_error("--wave and --batch count from 1")
    waves = [_sweep(args.fit, f"wave{k}") for k in range(1, args.wave + 1)]
    batch_folder = _sweep(args.fit, "verify" if args.batch == 1 else f"verify{args.batch}")
    box = read_box(args.box)
    targets = build_targets()
    role = roles(targets, 2019).set_index("target")["role"]
    usable = [t for t in targets if role[t.key] in ("fitted", "held out")]
    mask = judged(targets, usable, args.last_fit_year)
    chosen = [t for t, m in zip(usable, mask, strict=True) if m]
    keys = [t.key for t in chosen]
    if args.targets:
        wanted = args.targets.split(",")
        unknown = sorted(set(wanted) - set(keys))
        if unknown:
            _user_error(f"--targets: not judged up to {args.last_fit_year}: {', '.join(unknown)}")
        mask = mask & np.array([t.key in wanted for t in usable])
        chosen = [t for t in chosen if t.key in wanted]
        keys = [t.key for t in chosen]
    province_of = province_of_places()
    runs = [sweep_runs(w, box, usable, mask, province_of) for w in waves]
    trainings = {
        "wave": runs[-1],
        "all": (np.concatenate([r[0] for r in runs]), np.concatenate([r[1] for r in runs])),
    }
    batch = sweep_runs(batch_folder, box, usable, mask, province_of)
    base = np.array([np.hypot(t.discrepancy_sd, t.observation_sd) for t in chosen])
    table = compare(trainings, batch, keys, base, box)
    with pd.option_context("display.width", 200, "display.max_rows", None):
        print(table.round(3).to_string(index=False))
    if args.csv is not None:
        table.to_csv(args.csv, index=False, float_format="%.6g")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
