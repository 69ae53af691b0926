"""How far the scale moves every target: probes of one set at several scales, each against the
finest.

Usage::

    python experiments/calibration/scale_shift.py OUT PROBE_DIR [PROBE_DIR ...]

Each ``PROBE_DIR`` is the folder of a ``probe.py`` run of the same parameter set and seed at
some ``--households-per-agent`` (read from its ``probe/sweep.toml``). Writes ``OUT`` (a CSV):
per target and scale, the mean of the replications, its shift from the finest scale's mean,
and that shift over the error the fit allows the target (``shift_over_error_sd``: the root of
its discrepancy and observation variances, the units of an implausibility); prints, per scale,
how many targets move by 1 or more and the largest shifts. The calibration runs at one scale:
this says whether the model it fits is the model at a finer one.

Mistakes (a folder without ``probe.csv``, probes of different sets or seeds, two probes at one
scale) stop it with one ``error:`` line and exit code 2.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path
from typing import NoReturn

import numpy as np
import pandas as pd

from urbsim.analysis.targets import build_targets


def _user_error(message: str) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)


def read_probe(folder: Path) -> tuple[float, str, pd.Series]:
    """A probe's scale, what identifies its set and seed (the sweep file without its scale),
    and its targets' means."""
    sweep, table = folder / "probe" / "sweep.toml", folder / "probe.csv"
    if not sweep.is_file() or not table.is_file():
        _user_error(f"{folder}: not a finished probe.py folder (no probe.csv or probe/sweep.toml)")
    text = sweep.read_text(encoding="utf-8")
    scale = float(tomllib.loads(text)["households_per_agent"])
    same = "\n".join(line for line in text.splitlines() if "households_per_agent" not in line)
    return scale, same, pd.read_csv(table).set_index("target")["model_mean"]


def shift_table(means: dict[float, pd.Series], error_sd: pd.Series) -> pd.DataFrame:
    """Per target and scale: ``mean``, ``shift`` from the finest scale's mean and
    ``shift_over_error_sd`` (over ``error_sd``, per target)."""
    finest = min(means)
    rows = []
    for scale in sorted(means, reverse=True):
        shift = means[scale] - means[finest]
        rows.append(
            pd.DataFrame(
                {
                    "target": shift.index,
                    "households_per_agent": scale,
                    "mean": means[scale].to_numpy(),
                    "shift": shift.to_numpy(),
                    "shift_over_error_sd": (shift / error_sd.reindex(shift.index)).to_numpy(),
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def main(argv: list[str]) -> int:
    """Read the probes, write the table, print the summary."""
    if len(argv) < 3:
        _user_error("usage: scale_shift.py OUT PROBE_DIR PROBE_DIR [...]")
    out, folders = Path(argv[0]), [Path(a) for a in argv[1:]]
    means: dict[float, pd.Series] = {}
    first_set = None
    for folder in folders:
        scale, same, mean = read_probe(folder)
        if first_set is None:
            first_set = same
        elif same != first_set:
            _user_error(f"{folder}: a probe of another set, seed or replications")
        if scale in means:
            _user_error(f"{folder}: a second probe at {scale:g} households per agent")
        means[scale] = mean
    targets = {t.key: np.hypot(t.discrepancy_sd, t.observation_sd) for t in build_targets()}
    table = shift_table(means, pd.Series(targets))
    table.to_csv(out, index=False, float_format="%.6g")
    finest = min(means)
    for scale, rows in table.groupby("households_per_agent", sort=False):
        if scale == finest:
            continue
        size = rows["shift_over_error_sd"].abs()
        worst = rows.loc[size.nlargest(3).index]
        named = ", ".join(f"{r.target} {r.shift_over_error_sd:+.2f}" for r in worst.itertuples())
        print(f"{scale:g} against {finest:g} households per agent: {int((size >= 1).sum())} of "
              f"{len(rows)} targets shifted by 1 error sd or more (median {size.median():.2f}); "
              f"largest {named}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
