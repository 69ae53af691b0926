"""Every step of the sensitivity experiment runs end to end at a tiny budget on the calibrated
census model over the ranges of an ensemble (experiments/sensitivity/tiny.py)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pipeline_helpers import run_tiny_over

#: Two Morris sweeps of 2010-2035 and their analysis: minutes.
pytestmark = pytest.mark.slow

#: A small ensemble in the layout history_match.py writes (two parameters of box.csv).
ENSEMBLE = pd.DataFrame(
    {
        "parameter_set": [0, 1, 2],
        "behaviour.move_base": [0.05, 0.12, 0.09],
        "behaviour.land_value": [0.4, 1.6, 1.0],
        "max_implausibility": [1.2, 2.5, 0.8],
    }
)


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_tiny_over("sensitivity", ENSEMBLE, tmp_path_factory.mktemp("sensitivity"))


def test_both_sweeps_run_over_the_ensemble_ranges(out: Path) -> None:
    for name in ("status_quo", "all_four"):
        sweep = tomllib.loads((out / "sweeps" / f"morris_{name}.toml").read_text("utf-8"))
        bounds = {p["name"]: (p["low"], p["high"]) for p in sweep["design"]["parameters"]}
        assert bounds == {p: (ENSEMBLE[p].min(), ENSEMBLE[p].max()) for p in bounds}
        assert set(bounds) == {"behaviour.move_base", "behaviour.land_value"}
        assert sweep["base"].endswith(f"scenarios/policy/{name}.toml")
        runs = pd.read_parquet(out / f"morris_{name}" / "runs.parquet")
        assert (runs["status"] == "ok").all()
        for p, (lo, hi) in bounds.items():
            assert runs[p].between(lo, hi).all()
    levels = pd.read_csv(out / "morris_status_quo" / "indices.csv")
    assert {"resident_urbanization_2019", "service_gap"} <= set(levels["metric"])
    assert (out / "morris_status_quo" / "figures").is_dir()


def test_effects_are_paired_run_by_run(out: Path) -> None:
    effects = pd.read_csv(out / "morris_effects" / "effects.csv")
    # The CSV keeps 6 significant digits, so the difference of two written levels is known to
    # about 1e-5 of the levels (a debt effect of 3.6e10 on levels of 4.0e13 is not known to
    # 1e-5 of itself).
    scale = np.maximum(effects["value"].abs(), effects["value_reference"].abs())
    diff = effects["value"] - effects["value_reference"]
    assert ((effects["effect"] - diff).abs() <= 1e-5 * scale + 1e-12).all()
    # Common random numbers: the policy starts in 2020, so 2019 levels do not differ.
    y2019 = effects[effects["metric"].str.endswith("_2019")]
    assert len(y2019) and np.allclose(y2019["effect"], 0.0)
    indices = pd.read_csv(out / "morris_effects" / "indices.csv")
    assert {"service_gap", "hukou_urbanization"} <= set(indices["metric"])
    assert (out / "morris_effects" / "figures" / "morris_effects.png").stat().st_size > 10_000
