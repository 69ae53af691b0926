"""Issue 15: urbsim as an EMA Workbench model and under ``mesa.batch_run`` (tiny runs)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import urbsim
from urbsim.adapters.ema import SEED_OUTCOME, experiment_seed

TINY = """\
name = "tiny"
start_year = 2010
end_year = 2014
seed = 11

[world]
households_per_agent = 1000000.0
"""

OUTCOMES = {
    "urban_2013": ("urbanization_rate", 2013),
    "floating_2013": ("floating_population", 2013),
}


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    return path


@pytest.mark.slow
def test_four_experiments_with_one_recorded_seed_each(tiny: Path) -> None:
    ema = pytest.importorskip("ema_workbench")
    from urbsim.adapters.ema import ema_model

    model = ema_model(
        tiny,
        uncertainties=[ema.RealParameter("move", 0.05, 0.15, variable_name="behaviour.move_base")],
        levers=[ema.BooleanParameter("permits", variable_name="policy.permit.enabled")],
        outcomes=OUTCOMES,
        base_seed=7,
    )
    with ema.SequentialEvaluator(model) as evaluator:
        experiments, outcomes = evaluator.perform_experiments(scenarios=2, policies=2)
    assert len(experiments) == 4
    assert set(outcomes) == {*OUTCOMES, SEED_OUTCOME}
    seeds = [int(s) for s in outcomes[SEED_OUTCOME]]
    assert len(set(seeds)) == 4
    for i, row in experiments.iterrows():
        values = {"behaviour.move_base": row["move"], "policy.permit.enabled": row["permits"]}
        # The recorded seed is the one derived from the experiment, and rerunning the
        # experiment alone with it gives its outcome.
        assert seeds[i] == experiment_seed(7, values)
        if i == 0:
            alone = urbsim.run(tiny, seed=seeds[i], overrides=values, until=2013)
            national = alone.national.set_index("year")
            assert outcomes["urban_2013"][i] == national.at[2013, "urbanization_rate"]


def test_the_seed_depends_on_the_values_and_the_base_seed_only() -> None:
    a = experiment_seed(1, {"x.y": 0.5, "z": True})
    assert a == experiment_seed(1, {"z": True, "x.y": 0.5})
    assert a != experiment_seed(2, {"x.y": 0.5, "z": True})
    assert a != experiment_seed(1, {"x.y": 0.5000001, "z": True})
    assert 0 <= a < 2**63


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"outcomes": {"u": ("no_such_column", 2013)}}, "not a national column"),
        ({"outcomes": {"u": ("urbanization_rate", 2030)}}, "outside the run"),
        ({"outcomes": {"seed": ("urbanization_rate", 2013)}}, "identifier other than 'seed'"),
        ({"outcomes": {}}, "at least one"),
    ],
)
def test_bad_outcomes_are_user_errors(tiny: Path, kwargs: dict[str, object], fragment: str) -> None:
    pytest.importorskip("ema_workbench")
    from urbsim.adapters.ema import ema_model

    with pytest.raises(urbsim.UrbsimError, match=fragment):
        ema_model(tiny, **kwargs)  # type: ignore[arg-type]


def test_a_parameter_that_names_no_scenario_field_is_a_user_error(tiny: Path) -> None:
    ema = pytest.importorskip("ema_workbench")
    from urbsim.adapters.ema import ema_model

    typo = ema.RealParameter("move", 0.0, 1.0, variable_name="behaviour.move_bse")
    with pytest.raises(urbsim.ScenarioError, match=r"behaviour\.move_bse"):
        ema_model(tiny, uncertainties=[typo], outcomes=OUTCOMES)


def test_mesa_batch_run_runs_the_model_per_combination_and_seed(tiny: Path) -> None:
    from mesa.batchrunner import batch_run

    from urbsim.adapters.mesa_batch import BatchModel

    rows = batch_run(
        BatchModel,
        parameters={"scenario": str(tiny), "policy.permit.enabled": [False, True]},
        rng=[3, 4],
        max_steps=100,
        data_collection_period=1,
        display_progress=False,
    )
    df = pd.DataFrame(rows)
    assert len(df) == 4 * 5  # 2 combinations x 2 seeds x the years 2010-2014
    assert sorted(df["seed"].unique()) == [3, 4]
    assert df["year"].dtype.kind == "i"
    last = df[(df["seed"] == 3) & ~df["policy.permit.enabled"]].set_index("year")
    expected = urbsim.run(tiny, seed=3).national.set_index("year")
    assert last.at[2014, "urbanization_rate"] == expected.at[2014, "urbanization_rate"]
