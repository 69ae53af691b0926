"""Policy effects over a calibrated ensemble x replications, with common random numbers.

A policy experiment runs every scenario at each parameter set ``p`` of the calibrated ensemble
(the not-ruled-out sample of ``experiments/calibration``) with replications ``r``; run
``(p, r)`` of every scenario has the same seed (common random numbers), so the effect of a
scenario is the paired difference ``d[p, r] = y_scenario[p, r] - y_reference[p, r]``.

:func:`summarize_effects` reports for each scenario and indicator:

* ``mean``: the effect averaged over the ensemble and the replications;
* ``ci_lo, ci_hi``: the 95 % interval of that ensemble mean (Student t over the parameter
  sets' mean effects: the uncertainty of the estimate from a finite ensemble and replications);
* ``pi_lo, pi_hi``: the 2.5-97.5 % range of the effect itself over parameter sets and
  replications, what we do not know about the effect (parameter uncertainty) plus what the
  simulated world leaves to chance (stochastic uncertainty);
* ``var_parameter, var_stochastic``: the two parts of that spread, from the one-way random
  effects decomposition ``d[p, r] = mu + a_p + e_pr`` (balanced: ``var_stochastic`` the
  within-set mean square, ``var_parameter = max(0, (MSB - MSW) / R)``);
* ``p_value``: the t test of a zero ensemble-mean effect.

Many effects are tested at once, so :func:`flag_effects` controls the false discovery rate
(Benjamini and Hochberg 1995, *Journal of the Royal Statistical Society B* 57(1)) instead of
flagging every interval that excludes zero.

Flows summed over periods go through :func:`period_totals`, which refuses periods that share a
year (2020 in both "2014-2020" and "2020-2035" was counted twice) and periods with a missing
year.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

#: Columns identifying a run of a scenario in the tables of this module.
RUN_KEYS: tuple[str, str] = ("parameter_set", "replication")


@dataclass(frozen=True)
class Period:
    """Years ``start`` ... ``end``, both included."""

    label: str
    start: int
    end: int

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"period {self.label}: end {self.end} before start {self.start}")

    @property
    def years(self) -> range:
        """The years of the period."""
        return range(self.start, self.end + 1)


def check_periods(periods: Sequence[Period]) -> None:
    """Refuse periods that share a year.

    Raises
    ------
    ValueError
        Naming the two periods and the years they share.
    """
    for i, a in enumerate(periods):
        for b in periods[i + 1 :]:
            shared = sorted(set(a.years) & set(b.years))
            if shared:
                raise ValueError(
                    f"periods {a.label} and {b.label} both count {shared}: a year counted twice"
                )


def period_totals(
    series: pd.DataFrame, periods: Sequence[Period], value: str = "value"
) -> pd.DataFrame:
    """Sum of a yearly flow over each period, for every other key of the table.

    Parameters
    ----------
    series
        A ``year`` column, the ``value`` column and any key columns (scenario, parameter
        set, replication ...).
    periods
        Periods that share no year (:func:`check_periods`).

    Returns
    -------
    pandas.DataFrame
        The key columns, ``period`` and ``value``.

    Raises
    ------
    ValueError
        When periods overlap, or a period misses a year for some key.
    """
    check_periods(periods)
    keys = [c for c in series.columns if c not in ("year", value)]
    out = []
    for p in periods:
        part = series[series["year"].between(p.start, p.end)]
        g = part.groupby(keys, sort=True) if keys else part.groupby(lambda _: 0)
        counts = g["year"].nunique()
        if len(counts) == 0 or (counts != len(p.years)).any():
            raise ValueError(f"period {p.label}: not every year {p.start}-{p.end} is present")
        total = g[value].sum().rename("value").reset_index()
        if not keys:
            total = total.drop(columns="index")
        out.append(total.assign(period=p.label))
    return pd.concat(out, ignore_index=True)[[*keys, "period", "value"]]


def paired_differences(values: pd.DataFrame, reference: str, value: str = "value") -> pd.DataFrame:
    """Each scenario's run minus the reference scenario's run of the same parameter set and
    replication (common random numbers).

    Parameters
    ----------
    values
        Columns ``scenario``, ``parameter_set``, ``replication``, ``indicator`` and ``value``.

    Raises
    ------
    ValueError
        When a run has no reference run to pair with, or a key repeats.
    """
    keys = [*RUN_KEYS, "indicator"]
    if values.duplicated(["scenario", *keys]).any():
        raise ValueError("a scenario has two values for one run and indicator")
    ref = values[values["scenario"] == reference].set_index(keys)[value]
    others = values[values["scenario"] != reference]
    joined = others.join(ref.rename("reference"), on=keys)
    unpaired = joined["reference"].isna()
    if unpaired.any():
        row = joined[unpaired].iloc[0]
        raise ValueError(
            f"{row['scenario']}: run ({', '.join(str(row[k]) for k in keys)}) has no "
            f"{reference} run"
        )
    joined["difference"] = joined[value] - joined["reference"]
    return joined[["scenario", *keys, "difference"]].reset_index(drop=True)


def _components(d: pd.DataFrame) -> tuple[float, float, np.ndarray]:
    """Parameter and stochastic variance and the sets' mean effects (one-way random effects)."""
    by_set = d.groupby("parameter_set")["difference"]
    means = by_set.mean().to_numpy()
    reps = by_set.size().to_numpy()
    if np.unique(reps).shape[0] != 1:
        raise ValueError("every parameter set needs the same number of replications")
    r = int(reps[0])
    msw = float(by_set.var(ddof=1).mean()) if r > 1 else np.nan
    msb = r * float(np.var(means, ddof=1)) if means.shape[0] > 1 else np.nan
    var_param = max(0.0, (msb - msw) / r) if np.isfinite(msb) and np.isfinite(msw) else np.nan
    return var_param, msw, means


def _summary(d: pd.DataFrame, level: float) -> dict[str, float]:
    var_param, var_stoch, means = _components(d)
    # The t test on the sets' means is exact for the balanced random-effects model; with one
    # parameter set, the replications are the sample.
    sample = means if means.shape[0] > 1 else d["difference"].to_numpy()
    n = sample.shape[0]
    mean = float(d["difference"].mean())
    se = float(sample.std(ddof=1) / np.sqrt(n)) if n > 1 else np.nan
    tq = float(stats.t.ppf(0.5 + level / 2, n - 1)) if n > 1 else np.nan
    if n > 1 and se > 0:
        p_value = float(2 * stats.t.sf(abs(mean) / se, n - 1))
    else:
        p_value = 1.0 if mean == 0 else 0.0
    lo, hi = np.quantile(d["difference"].to_numpy(), [0.5 - level / 2, 0.5 + level / 2])
    return {
        "mean": mean,
        "ci_lo": mean - tq * se,
        "ci_hi": mean + tq * se,
        "pi_lo": float(lo),
        "pi_hi": float(hi),
        "var_parameter": var_param,
        "var_stochastic": var_stoch,
        "p_value": p_value,
        "parameter_sets": float(means.shape[0]),
        "replications": float(d.groupby("parameter_set").size().iloc[0]),
    }


def summarize_effects(differences: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """One row per scenario and indicator: the effect, its intervals and variance parts.

    ``differences`` is the table of :func:`paired_differences`.
    """
    rows = []
    for (scenario, indicator), d in differences.groupby(["scenario", "indicator"], sort=False):
        rows.append({"scenario": scenario, "indicator": indicator, **_summary(d, level)})
    return pd.DataFrame(rows)


def benjamini_hochberg(p_values: np.ndarray, q: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Discoveries at false discovery rate ``q`` and the BH-adjusted p values.

    The ``k`` smallest p values are discoveries, ``k`` the largest rank with
    ``p_(k) <= k q / m``; the adjusted p value of rank ``i`` is ``min_{j >= i} m p_(j) / j``
    (capped at 1).
    """
    p = np.asarray(p_values, dtype=np.float64)
    m = p.shape[0]
    if m == 0:
        return np.zeros(0, dtype=bool), np.zeros(0)
    if np.any((p < 0) | (p > 1)) or not np.all(np.isfinite(p)):
        raise ValueError("p values must lie in [0, 1]")
    order = np.argsort(p, kind="stable")
    ranked = p[order] * m / np.arange(1, m + 1)
    adjusted_sorted = np.minimum(np.minimum.accumulate(ranked[::-1])[::-1], 1.0)
    adjusted = np.empty(m)
    adjusted[order] = adjusted_sorted
    passed = np.flatnonzero(p[order] <= q * np.arange(1, m + 1) / m)
    reject = np.zeros(m, dtype=bool)
    if passed.shape[0]:
        reject[order[: passed[-1] + 1]] = True
    return reject, adjusted


def flag_effects(summary: pd.DataFrame, q: float = 0.05) -> pd.DataFrame:
    """``summary`` with ``q_value`` (BH-adjusted p) and ``discovery`` (at FDR ``q``) over all
    its rows, and ``sign_certain``: the whole effect range (parameters and chance) on one side
    of zero."""
    reject, adjusted = benjamini_hochberg(summary["p_value"].to_numpy(), q)
    return summary.assign(
        q_value=adjusted,
        discovery=reject,
        sign_certain=(summary["pi_lo"] > 0) | (summary["pi_hi"] < 0),
    )
