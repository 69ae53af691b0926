"""Every step of the policy experiment runs end to end at a tiny budget over an ensemble, and
the results text is generated from its tables (experiments/policy_directions/tiny.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pipeline_helpers import run_tiny_over

#: Ten scenarios of 2010-2035 and their analysis: minutes.
pytestmark = pytest.mark.slow

ENSEMBLE = pd.DataFrame(
    {
        "parameter_set": [0, 1],
        "behaviour.move_base": [0.05, 0.12],
        "behaviour.land_value": [0.4, 1.6],
        "max_implausibility": [1.2, 2.5],
    }
)


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_tiny_over("policy_directions", ENSEMBLE, tmp_path_factory.mktemp("policy"))


def _half_unit_of_six_digits(value: float) -> float:
    """Largest error of ``value`` written with ``%.6g`` (analyze.py's tables)."""
    if value == 0:
        return 0.0
    return 0.5 * 10.0 ** (np.floor(np.log10(abs(value))) - 5)


def test_the_readme_is_generated_and_cites_only_written_files(out: Path) -> None:
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert "{" not in readme and "## What each scenario changes" in readme
    for name in ("mechanisms.csv", "design.csv", "differences.csv", "figures/effects_2035.png"):
        assert (out / name).is_file()


def test_effects_are_paired_and_the_interaction_is_the_package_minus_its_parts(
    out: Path,
) -> None:
    diff = pd.read_csv(out / "differences.csv").set_index(["scenario", "indicator"])
    design = pd.read_csv(out / "design.csv").set_index("quantity")["value"]
    assert design["parameter_sets"] == 2 and design["replications"] == 2
    # Means are linear: the interaction's mean is the package's minus the directions', to the
    # rounding of the file's six significant digits (half a unit of the last digit per value).
    parts = ["d1_services", "d2_county_towns", "d3_renewal", "d4_governance"]
    for indicator in ("service_gap_pct", "hukou_urbanization_pct"):
        values = [diff.loc[(p, indicator), "mean"] for p in [*parts, "all_four", "interaction"]]
        rounding = sum(_half_unit_of_six_digits(v) for v in values)
        summed = sum(values[: len(parts)])
        assert abs(values[-1] - (values[-2] - summed)) <= rounding, (indicator, values)
        if indicator == "service_gap_pct":
            # The identity has content: the package moves the gap far beyond the rounding.
            assert abs(values[-2]) > 1e3 * rounding, values
    # Common random numbers: runs agree until 2019, so 2014-2019 settlement does not differ.
    assert np.allclose(diff.xs("settled_2014_2019_m", level="indicator")["mean"], 0.0)
    mechanisms = pd.read_csv(out / "mechanisms.csv")
    assert {"moves_2020_2035_m", "capacity_gap_small_pct"} <= set(mechanisms["indicator"])
