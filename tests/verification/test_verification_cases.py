"""The verification cases of experiments/verification pass, and fail when their rule is broken.

Each case is run through the functions of its script (smaller where that keeps the test short),
once as the model stands and once with the rule it verifies broken by a monkeypatch: a check
that cannot fail would verify nothing.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import pytest

from urbsim import load_scenario
from urbsim.engines.numba_engine import NumbaEngine

#: Several simulated decades each: outside `make test-fast`.
pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parents[2] / "experiments" / "verification"


def _script(name: str) -> ModuleType:
    path = HERE / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"urbsim_verification_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def ht() -> ModuleType:
    return _script("harris_todaro")


@pytest.fixture(scope="module")
def logit() -> ModuleType:
    return _script("logit_check")


@pytest.fixture(scope="module")
def conservation() -> ModuleType:
    return _script("conservation")


def _ht_verdict(ht: ModuleType) -> pd.DataFrame:
    loaded = load_scenario(ht.SCENARIO)
    df = ht.trajectories(loaded, ht.two_place_world(agents=8000))
    return ht.verdict(df, loaded.scenario.behaviour.beta_income)


def test_harris_todaro_limit_holds(ht: ModuleType) -> None:
    verdict = _ht_verdict(ht)
    assert list(verdict["urban_zone"]) == ["city", "village town"]
    assert verdict["passed"].all(), verdict
    # The city did absorb migrants: its employment fell from 0.95 to near the predicted 1/3.
    city = verdict.set_index("urban_zone").loc["city"]
    assert abs(city["employment_rate"] - 1 / 3) < 0.02


def test_harris_todaro_check_fails_when_migrants_ignore_unemployment(
    ht: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Broken rule: urban utility from the wage alone, not the wage times the employment rate."""
    import urbsim.model

    original = urbsim.model.place_inputs

    def wage_only(*args: Any, **kwargs: Any) -> Any:
        record = original(*args, **kwargs)
        return record._replace(log_income_urban=record.log_income_urban - np.log(record.employment))

    monkeypatch.setattr(urbsim.model, "place_inputs", wage_only)
    verdict = _ht_verdict(ht)
    assert not verdict["passed"].any(), verdict


def _logit_verdict(logit: ModuleType) -> pd.DataFrame:
    """Case (b) on the Numba engine alone (the Mesa path's agreement is tested in
    tests/analysis/test_choice_check.py), at the experiment's size."""
    from urbsim.analysis.choice_check import example_case

    case = example_case(movers=logit.MOVERS, candidates=logit.CANDIDATES)
    return logit.verdict(logit.choice_counts(case, engines=("numba",))).set_index(
        "sampling_correction"
    )


def test_logit_check_passes_and_rejects_the_uncorrected_choice(logit: ModuleType) -> None:
    verdict = _logit_verdict(logit)
    assert verdict["passed"].all(), verdict
    assert verdict.loc["on", "outcome"] == "not rejected"
    assert verdict.loc["off (broken rule)", "outcome"] == "rejected"
    assert (verdict["choices"] == logit.MOVERS * len(logit.SEEDS)).all()


@pytest.mark.parametrize("forced", [False, True])
def test_logit_check_fails_when_the_correction_switch_is_broken(
    logit: ModuleType, monkeypatch: pytest.MonkeyPatch, forced: bool
) -> None:
    """Broken rule: the kernel ignores the correction switch. Forced off, the check rejects the
    choice it should accept; forced on, the power check sees no difference and fails."""
    original = logit.sampled_choice_frequencies

    def fixed(*args: Any) -> Any:
        return original(*args[:5], forced)

    monkeypatch.setattr(logit, "sampled_choice_frequencies", fixed)
    verdict = _logit_verdict(logit)
    broken = "on" if not forced else "off (broken rule)"
    assert not verdict.loc[broken, "passed"], verdict
    assert verdict.drop(index=broken)["passed"].all(), verdict


def test_conservation_holds(conservation: ModuleType) -> None:
    df = conservation.run_case({"world.households_per_agent": 40000.0}, until=2020)
    verdict = conservation.verdict(df)
    assert verdict["passed"].all(), verdict
    assert verdict["moves_total"].iloc[0] > 0 and verdict["province_moves_total"].iloc[0] > 0


def test_conservation_check_fails_when_a_move_loses_a_person(
    conservation: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Broken rule: a household that changes place arrives one person short."""
    original = NumbaEngine.step

    def leaky(self: NumbaEngine, inputs: Any, households: Any) -> Any:
        before = households.place.copy()
        result = original(self, inputs, households)
        after = result.households
        n = before.shape[0]  # households formed this year are appended after the others
        moved = (after.place[:n] != before) & (after.persons[:n] > 1)
        after.persons[:n][moved] -= 1
        return result

    monkeypatch.setattr(NumbaEngine, "step", leaky)
    df = conservation.run_case({"world.households_per_agent": 40000.0}, until=2015)
    verdict = conservation.verdict(df).set_index("rule")
    assert not verdict.loc["residents equal the start year's", "passed"]
    assert not verdict.loc["province change equals net inflow", "passed"]


def test_conservation_check_fails_with_births(conservation: ModuleType) -> None:
    """Broken switch: births and deaths left on."""
    overrides = {"world.households_per_agent": 40000.0, "demography.births_and_deaths": True}
    verdict = conservation.verdict(conservation.run_case(overrides, until=2013)).set_index("rule")
    assert not verdict.loc["residents equal the start year's", "passed"]
    assert not verdict.loc["no births or deaths", "passed"]


def test_report_states_every_verdict(tmp_path: Path) -> None:
    report = _script("report")
    ok = pd.DataFrame({"rule": ["a"], "largest_deviation": [0.0], "passed": [True]})
    bad = pd.DataFrame({"urban_zone": ["city"], "gap": [0.3], "passed": [False]})
    ok.to_csv(tmp_path / "conservation_verdict.csv", index=False)
    bad.to_csv(tmp_path / "harris_todaro_verdict.csv", index=False)
    text = report.render(tmp_path)
    assert "| (a) Two-place Harris-Todaro limit | FAIL |" in text
    assert "| (c) Conservation of persons without births and deaths | pass |" in text
    assert "| (b) Sampled choice against the full-choice-set logit | not run |" in text
    assert "| city | 0.3 | **FAIL** |" in text
    # Case (b): its verdict, then its per-alternative detail table.
    logit = pd.DataFrame({"engine": ["numba"], "p_value": [1e-20], "passed": [True]})
    logit.to_csv(tmp_path / "logit_check_verdict.csv", index=False)
    text = report.render(tmp_path)
    assert "| (b) Sampled choice against the full-choice-set logit | pass |" in text
    assert "| numba | 1e-20 | pass |" in text
    assert "Detail table `logit_check.csv` is missing." in text
    pd.DataFrame({"alternative": ["place 0 urban"], "numba_corrected": [7]}).to_csv(
        tmp_path / "logit_check.csv", index=False
    )
    assert "| place 0 urban | 7 |" in report.render(tmp_path)
