"""The calibration's box: the current model's parameters, each range justified, every design
point of wave 1 a valid scenario, and no parameter "calibrated in issue 14" forgotten."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pipeline_helpers import calibration_module

from urbsim.scenario.schema import Behaviour, Demography, Economy, HousingMarket, LabourMarket
from urbsim.sweep.driver import plan_sweep

HERE = Path(__file__).resolve().parents[2] / "experiments" / "calibration"
BOX = HERE / "box.csv"
#: Scalar parameters whose source says they are calibrated but which the calibration leaves at
#: their defaults, and why (experiments/calibration/README.md, "Parameters").
LEFT_AT_DEFAULT = {
    "behaviour.move_tenure_decay": "shape of the move propensity; its level is move_base",
    "behaviour.distance_floor_km": "a numerical setting of the distance term",
    "behaviour.size_reference": "sets where the size term is zero: moves with beta_size",
    "behaviour.beta_housing": "no target measures housing costs",
    "behaviour.left_behind_nonagricultural": "no target measures left-behind children",
    "demography.fertility_mean_age": "births are aligned to the NBS crude birth rate",
    "demography.fertility_sd_age": "births are aligned to the NBS crude birth rate",
    "demography.gompertz_slope": "deaths are aligned to the NBS crude death rate",
    "demography.makeham": "deaths are aligned to the NBS crude death rate",
    "demography.mortality_rural_ratio": "deaths are aligned to the NBS crude death rate",
    "demography.leave_home_age": "no target measures household formation",
    "demography.leave_home_rate": "no target measures household formation",
    "demography.insitu_growth": "reclassification's level is insitu_base",
    "economy.job_adjustment": "no target measures unemployment",
    "economy.housing_supply_response": "no target measures housing stock or costs",
    "economy.labour.demand_elasticity": "no target measures wages or unemployment",
    "economy.labour.wage_adjustment": "no target measures wages or unemployment",
    "economy.labour.regional_demand_elasticity": "no target measures regional wages",
    "economy.housing.depreciation": "no target measures housing stock",
    "economy.housing.income_elasticity": "no target measures floor space or housing costs",
    "economy.service_budget_share": "no target measures services before 2020",
    "economy.land_price_2010": "net land income is price x land_net_share: one is enough",
    "economy.lgfv_interest_rate": "five debt targets: infrastructure_cost, land_net_share, "
    "borrowing_limit and amortization are already four debt parameters",
}


@pytest.fixture(scope="module")
def box_table() -> pd.DataFrame:
    return pd.read_csv(BOX, comment="#")


def test_every_range_holds_its_default_and_says_why(box_table: pd.DataFrame) -> None:
    assert box_table["parameter"].is_unique
    assert (box_table["low"] <= box_table["default"]).all()
    assert (box_table["default"] <= box_table["high"]).all()
    assert box_table["why"].str.len().min() > 40
    # Names are schema fields, bounds in range.
    box = calibration_module("history_match").read_box(BOX)
    assert box.names == tuple(box_table["parameter"])


def test_no_calibrated_parameter_is_forgotten(box_table: pd.DataFrame) -> None:
    calibrated = {
        f"{prefix}.{name}"
        for prefix, model in (("behaviour", Behaviour), ("demography", Demography),
                              ("economy", Economy), ("economy.labour", LabourMarket),
                              ("economy.housing", HousingMarket))
        for name, f in model.model_fields.items()
        if f.annotation in (float, int)
        and "calibrat" in str((f.json_schema_extra or {}).get("source", ""))  # type: ignore[union-attr]
    }  # fmt: skip
    in_box = set(box_table["parameter"])
    assert calibrated - in_box - set(LEFT_AT_DEFAULT) == set()
    assert set(LEFT_AT_DEFAULT) & in_box == set()


def test_the_wave_1_design_of_the_box_is_a_valid_sweep(tmp_path: Path) -> None:
    hm, runs = calibration_module("history_match"), calibration_module("hm_runs")
    box = hm.read_box(BOX)
    targets = [t for t in hm.build_targets() if t.name == "resident_urbanization"]
    x = box.lhs(box.dim + 2, seed=1)
    # The corners too: every bound of the box must give a scenario that validates.
    x = np.vstack([x, box.lo, box.hi])
    text = runs.sweep_text(tmp_path, box, x, 2, 1, 4000.0, targets)
    (tmp_path / "sweep.toml").write_text(text, encoding="utf-8")
    plan = plan_sweep(tmp_path / "sweep.toml", check_memory=False)
    assert plan.n_runs == 2 * x.shape[0]


def test_fixed_settings_reach_every_run_of_the_sweep(tmp_path: Path) -> None:
    hm, runs = calibration_module("history_match"), calibration_module("hm_runs")
    box = hm.read_box(BOX)
    targets = [t for t in hm.build_targets() if t.name == "resident_urbanization"]
    x = box.lhs(2, seed=1)
    fixed = {"behaviour.destination_constants": True}
    text = runs.sweep_text(tmp_path, box, x, 1, 1, 4000.0, targets, fixed)
    (tmp_path / "sweep.toml").write_text(text, encoding="utf-8")
    plan = plan_sweep(tmp_path / "sweep.toml", check_memory=False)
    assert "behaviour.destination_constants=true" in plan.sweep.overrides
    assert "[set]" not in runs.sweep_text(tmp_path, box, x, 1, 1, 4000.0, targets)


def test_external_checks_name_box_parameters_and_a_source(box_table: pd.DataFrame) -> None:
    checks = pd.read_csv(HERE / "external_checks.csv", comment="#")
    assert checks["check"].is_unique and (checks["published"] > 0).all()
    params = set(box_table["parameter"])
    assert set(checks["numerator"]) <= params and set(checks["denominator"]) <= params
    assert checks["source"].str.len().min() > 40


def test_external_check_quantiles_on_a_hand_computed_ensemble() -> None:
    report = calibration_module("report")
    checks = pd.DataFrame({"check": ["c"], "numerator": ["a"], "denominator": ["b"],
                           "published": [1.5], "meaning": ["m"]})  # fmt: skip
    # Ratios 1, 2, ..., 21: median 11, 5 % quantile 2, 95 % quantile 20 (linear interpolation).
    ensemble = pd.DataFrame({"a": np.arange(1.0, 22.0) * 2.0, "b": np.full(21, 2.0)})
    row = report.external_checks(checks, ensemble).iloc[0]
    assert (row["ensemble_median"], row["ensemble_q05"], row["ensemble_q95"]) == (11.0, 2.0, 20.0)
    assert not row["published_inside"]  # 1.5 < 2
    inside = report.external_checks(checks.assign(published=[3.0]), ensemble).iloc[0]
    assert inside["published_inside"] and not inside["prior_in_fit"]
    # A fit that judged it as a prior (its priors.csv names it) says so.
    used = report.external_checks(checks, ensemble, pd.DataFrame({"prior": ["c"]})).iloc[0]
    assert used["prior_in_fit"]


def test_priors_are_read_from_the_checks_with_a_prior_sd(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hm = calibration_module("history_match")
    box = hm.read_box(BOX)
    priors = hm.read_priors(HERE / "external_checks.csv", box)
    checks = pd.read_csv(HERE / "external_checks.csv", comment="#")
    assert [p.name for p in priors] == checks.loc[checks["prior_sd"].notna(), "check"].tolist()
    trade = next(p for p in priors if p.name == "income_distance_tradeoff")
    assert box.names[trade.numerator] == "behaviour.beta_distance"
    assert box.names[trade.denominator] == "behaviour.beta_income"
    assert (trade.observed, trade.sd) == (1.5, 0.375)
    # User mistakes: one error line naming the file, the row and the field; exit code 2.
    path = tmp_path / "checks.csv"
    mistakes = [
        (checks.assign(numerator=["behaviour.move_tenure_decay"]),
         "checks.csv: income_distance_tradeoff: numerator 'behaviour.move_tenure_decay' is not"),
        (checks.assign(prior_sd=[0.0]), "income_distance_tradeoff: prior_sd must be a finite"),
        (checks.assign(prior_sd=[np.inf]), "income_distance_tradeoff: prior_sd must be a finite"),
        (checks.assign(published=["many"]), "income_distance_tradeoff: published must be a"),
        (checks.drop(columns="prior_sd"), "checks.csv: no column prior_sd"),
    ]  # fmt: skip
    for table, message in mistakes:
        table.to_csv(path, index=False)
        with pytest.raises(SystemExit) as exit_info:
            hm.read_priors(path, box)
        err = capsys.readouterr().err
        assert exit_info.value.code == 2 and err.count("error:") == 1 and message in err, err
    with pytest.raises(SystemExit):
        hm.read_priors(tmp_path / "absent.csv", box)
    assert "absent.csv: cannot be read" in capsys.readouterr().err


def test_external_check_takes_a_parameter_the_fit_held_fixed_from_the_scenario() -> None:
    report = calibration_module("report")
    checks = pd.DataFrame({"check": ["c"], "numerator": ["behaviour.beta_distance"],
                           "denominator": ["behaviour.beta_income"], "published": [1.5],
                           "meaning": ["m"]})  # fmt: skip
    income = report.base_value("behaviour.beta_income")
    # The fit varied beta_distance only: the ratio divides by the scenario's beta_income.
    ensemble = pd.DataFrame({"behaviour.beta_distance": [1.0, 2.0, 3.0]})
    row = report.external_checks(checks, ensemble).iloc[0]
    assert row["ensemble_median"] == pytest.approx(2.0 / income)
    # Neither varied: every set has the scenario's ratio.
    fixed = report.external_checks(checks, pd.DataFrame({"x": [0.0, 1.0]})).iloc[0]
    ratio = report.base_value("behaviour.beta_distance") / income
    assert fixed["ensemble_q05"] == fixed["ensemble_q95"] == pytest.approx(ratio)


def test_run_profiles_judge_each_value_as_the_verification_judges_a_set() -> None:
    rp = calibration_module("run_profiles")
    box = rp.read_box(BOX)
    reference = (box.lo + box.hi) / 2
    x, labels = rp.profile_points(reference, box, 3)
    assert x.shape == (1 + 3 * box.dim, box.dim) and labels[0] == ("reference", labels[0][1])
    j = box.names.index("behaviour.beta_distance")
    row = 1 + 3 * j + 2
    assert labels[row] == ("behaviour.beta_distance", box.hi[j])
    assert x[row, j] == box.hi[j]
    assert np.array_equal(np.delete(x[row], j), np.delete(reference, j))
    # Two targets, two runs each: |mean - observed| / sqrt(sd_run^2 (1 + 1/2) + md^2 + obs^2).
    targets = pd.DataFrame(
        {
            "target": ["a@2011", "b@2011"],
            "observed": [1.0, 10.0],
            "discrepancy_sd": [0.3, 1.0],
            "observation_sd": [0.4, 0.0],
        }
    )
    fit = pd.DataFrame({"target": ["b@2011", "a@2011"], "replication_sd": [2.0, 0.0]})
    y = np.array([[[1.0, 10.0], [2.0, 16.0]]])  # one point: means 1.5 and 13
    prior = rp.RatioPrior("ratio", 0, 1, 1.5, 0.5)
    point = np.array([[3.0, 1.0]])  # ratio 3: implausibility 3
    table = rp.implausibility(y, point, targets, fit, (prior,))
    assert table.loc[0, "a@2011"] == pytest.approx(0.5 / 0.5)
    assert table.loc[0, "b@2011"] == pytest.approx(3.0 / np.sqrt(4.0 * 1.5 + 1.0))
    assert table.loc[0, "prior:ratio"] == pytest.approx(3.0)
    summary = rp.summarize(table, [("b", 0.5)], np.array([3.0, 1.0]), ("a", "b"))
    # The fit's own box and priors: from its parameters.csv and priors.csv.
    assert rp.fit_box(HERE).names == box.names  # no parameters.csv here: box.csv
    assert rp.fit_priors(HERE, box) == ()
    assert summary.loc[0, "worst"] == "prior:ratio" and not summary.loc[0, "plausible"]
    assert summary.loc[0, "reference_value"] == 1.0


@pytest.mark.slow
def test_a_rule_out_rank_beyond_the_targets_stops_the_fit_before_any_run(tmp_path: Path) -> None:
    out = tmp_path / "fit"
    command = [sys.executable, str(HERE / "history_match.py"), str(out), "--rule-out-rank", "99"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 2 and not out.exists()
    err = done.stderr.strip()
    assert err.startswith("error: --rule-out-rank: the rule-out rank must be in [1, ")
    assert err.endswith("got 99") and len(err.splitlines()) == 1


def _waves_table(fit: Path, sources: list[str]) -> None:
    """A finished fit's ``waves.csv`` (the column read_designs uses)."""
    pd.DataFrame({"wave": range(1, len(sources) + 1), "source": sources}).to_csv(
        fit / "waves.csv", index=False
    )


def _write_wave(fit: Path, k: int, box: Any, x: np.ndarray, runs: Any, targets: Any) -> None:
    wave = fit / f"wave{k}"
    (wave / "runs").mkdir(parents=True)
    (wave / "sweep.toml").write_text(
        runs.sweep_text(wave, box, x, 2, 7, 4000.0, targets), encoding="utf-8"
    )


def test_a_continued_fit_reads_its_design_waves_exactly(tmp_path: Path) -> None:
    hm, runs = calibration_module("history_match"), calibration_module("hm_runs")
    box = hm.read_box(BOX)
    targets = [t for t in hm.build_targets() if t.name == "resident_urbanization"]
    designs = [box.lhs(box.dim + 2, seed=1), box.uniform(box.dim + 3, np.random.default_rng(2))]
    for k, x in enumerate([*designs, box.lhs(box.dim + 2, seed=3)], start=1):
        _write_wave(tmp_path, k, box, x, runs, targets)
    # Wave 3's folder is there, but the table lists two design waves and a refocusing one.
    _waves_table(tmp_path, ["design", "design", "verification batch 1"])
    read = hm.read_designs(tmp_path, box)
    assert len(read) == 2
    for got, x in zip(read, designs, strict=True):
        np.testing.assert_array_equal(got, x)  # written with repr: every digit back


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("other parameters", "its parameters are not those of the box"),
        ("outside the box", "points outside the box of --box"),
        ("no waves.csv", "not a finished fit"),
        ("no design wave", "lists no design wave"),
    ],
)
def test_continuing_a_fit_that_does_not_fit_the_box_is_a_user_error(
    tmp_path: Path, case: str, message: str
) -> None:
    hm, runs = calibration_module("history_match"), calibration_module("hm_runs")
    box = hm.read_box(BOX)
    targets = [t for t in hm.build_targets() if t.name == "resident_urbanization"]
    fit = tmp_path / "other"
    fit.mkdir()
    if case == "other parameters":
        names = dict(zip(box.names[:3], zip(box.lo, box.hi, strict=False), strict=False))
        fewer = hm.Box.of(names)
        _write_wave(fit, 1, fewer, fewer.lhs(6, seed=1), runs, targets)
    elif case == "outside the box":
        wide = hm.Box.of(
            dict(zip(box.names, zip(box.lo - 1, box.hi + 1, strict=True), strict=True))
        )
        _write_wave(fit, 1, wide, np.vstack([box.lo - 1, box.hi]), runs, targets)
    if case != "no waves.csv":
        _waves_table(fit, ["verification batch 1"] if case == "no design wave" else ["design"])
    out = tmp_path / "fit"
    command = [sys.executable, str(HERE / "history_match.py"), str(out),
               "--continue-from", str(fit)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 2 and not out.exists(), done.stderr
    err = done.stderr.strip()
    assert err.startswith("error: ") and message in err and len(err.splitlines()) == 1


def test_continuing_a_fit_and_reusing_another_is_a_user_error(tmp_path: Path) -> None:
    out = tmp_path / "fit"
    command = [sys.executable, str(HERE / "history_match.py"), str(out),
               "--continue-from", str(tmp_path), "--reuse", str(tmp_path)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 2 and not out.exists()
    assert done.stderr.strip() == (
        "error: --continue-from copies the runs of the fit it continues: not with --reuse"
    )


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--restarts", "-1"], "restarts must be at least 0"),
        (["--hyper-points", "2"], "hyper_points must be at least 4"),
        (["--seek-share", "2.0"], "seek_share must be in [0, 1]"),
    ],
)
def test_options_that_make_no_plan_are_a_user_error(
    tmp_path: Path, option: list[str], message: str
) -> None:
    out = tmp_path / "fit"
    command = [sys.executable, str(HERE / "history_match.py"), str(out), *option]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 2 and not out.exists(), done.stderr
    err = done.stderr.strip()
    assert err == f"error: the options do not make a plan: {message}, got {option[1]}"
