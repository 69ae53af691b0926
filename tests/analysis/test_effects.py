"""Policy-effect statistics on hand-computed cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from urbsim.analysis.effects import (
    Period,
    benjamini_hochberg,
    check_periods,
    flag_effects,
    paired_differences,
    period_totals,
    summarize_effects,
)


def test_benjamini_hochberg_by_hand() -> None:
    # m = 4, q = 0.05: sorted 0.01, 0.03, 0.04, 0.2 against 0.0125, 0.025, 0.0375, 0.05:
    # only rank 1 passes. Adjusted: rank 4: 0.2; rank 3: 4 * 0.04 / 3 = 0.05333; rank 2:
    # min(0.05333, 4 * 0.03 / 2 = 0.06); rank 1: min(0.05333, 4 * 0.01 = 0.04).
    reject, adjusted = benjamini_hochberg(np.array([0.01, 0.04, 0.03, 0.2]))
    assert reject.tolist() == [True, False, False, False]
    assert adjusted == pytest.approx([0.04, 0.16 / 3, 0.16 / 3, 0.2])
    # A later rank passing carries the earlier ones: sorted 0.02, 0.03 against 0.025, 0.05.
    assert benjamini_hochberg(np.array([0.03, 0.02]))[0].tolist() == [True, True]
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        benjamini_hochberg(np.array([1.5]))


def _runs(per_set: dict[int, list[float]], scenario: str = "policy") -> pd.DataFrame:
    rows = []
    for p, values in per_set.items():
        for r, v in enumerate(values):
            rows.append((scenario, p, r, "x", v))
            rows.append(("status_quo", p, r, "x", 10.0 * p + r))  # any reference
    return pd.DataFrame(rows, columns=["scenario", "parameter_set", "replication", "indicator",
                                       "value"])  # fmt: skip


def test_effect_intervals_and_variance_parts_by_hand() -> None:
    # Differences: set 0 -> 1, 3; set 1 -> 5, 7 (the policy adds them to the reference run).
    values = _runs({0: [0.0 + 1, 1.0 + 3], 1: [10.0 + 5, 11.0 + 7]})
    diffs = paired_differences(values, "status_quo")
    assert diffs.sort_values(["parameter_set", "replication"])["difference"].tolist() == [
        1.0, 3.0, 5.0, 7.0
    ]  # fmt: skip
    row = summarize_effects(diffs).iloc[0]
    # Set means 2 and 6: grand mean 4. MSW = mean(var(1, 3), var(5, 7)) = 2; MSB = 2 * var(2, 6)
    # = 16; parameter variance (16 - 2) / 2 = 7, stochastic 2.
    assert row["mean"] == 4.0
    assert row["var_stochastic"] == pytest.approx(2.0)
    assert row["var_parameter"] == pytest.approx(7.0)
    # 95 % interval of the mean: se = sd(2, 6) / sqrt(2) = 2, t(0.975, 1 df) = 12.706.
    half = stats.t.ppf(0.975, 1) * 2.0
    assert (row["ci_lo"], row["ci_hi"]) == pytest.approx((4.0 - half, 4.0 + half))
    # The effect's range covers parameters and chance: quantiles of 1, 3, 5, 7.
    assert (row["pi_lo"], row["pi_hi"]) == pytest.approx(np.quantile([1, 3, 5, 7], [0.025, 0.975]))
    assert row["p_value"] == pytest.approx(2 * stats.t.sf(4.0 / 2.0, 1))


def test_parameter_spread_shows_where_replication_noise_alone_would_not() -> None:
    # Every set agrees within replications (tiny noise) but sets disagree: parameter variance.
    values = _runs(
        {0: [0.0 + 1.0, 1.0 + 1.01], 1: [10.0 + 3.0, 11.0 + 3.01], 2: [20.0 - 1, 21.0 - 0.99]}
    )
    row = summarize_effects(paired_differences(values, "status_quo")).iloc[0]
    assert row["var_parameter"] > 1000 * row["var_stochastic"]
    assert row["pi_lo"] < 0 < row["pi_hi"]  # the sign is not certain over the ensemble
    flagged = flag_effects(summarize_effects(paired_differences(values, "status_quo")))
    assert not flagged["sign_certain"].iloc[0]


def test_a_run_without_its_reference_is_refused() -> None:
    values = _runs({0: [1.0, 2.0]})
    values = values[~((values["scenario"] == "status_quo") & (values["replication"] == 1))]
    with pytest.raises(ValueError, match=r"policy: run \(0, 1, x\) has no status_quo run"):
        paired_differences(values, "status_quo")


def test_flag_effects_controls_the_false_discovery_rate() -> None:
    summary = pd.DataFrame(
        {"scenario": list("abcd"), "indicator": "x", "p_value": [0.01, 0.04, 0.03, 0.2],
         "pi_lo": [0.1, -1.0, 0.2, -2.0], "pi_hi": [1.0, 1.0, 0.9, -0.5]}
    )  # fmt: skip
    out = flag_effects(summary)
    # Three of four p values are below 0.05; at FDR 5 % only the first is a discovery.
    assert out["discovery"].tolist() == [True, False, False, False]
    assert out["sign_certain"].tolist() == [True, False, True, True]


def test_periods_never_count_a_year_twice() -> None:
    with pytest.raises(ValueError, match=r"2014-2020 and 2020-2035 both count \[2020\]"):
        check_periods([Period("2014-2020", 2014, 2020), Period("2020-2035", 2020, 2035)])
    check_periods([Period("a", 2014, 2019), Period("b", 2020, 2035)])
    series = pd.DataFrame(
        {"scenario": ["s"] * 6, "year": [2014, 2015, 2016, 2017, 2018, 2019],
         "value": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]}
    )  # fmt: skip
    out = period_totals(series, [Period("early", 2014, 2016), Period("late", 2017, 2019)])
    assert out["value"].tolist() == [6.0, 15.0] and out["period"].tolist() == ["early", "late"]
    with pytest.raises(ValueError, match="not every year 2017-2020"):
        period_totals(series, [Period("late", 2017, 2020)])
