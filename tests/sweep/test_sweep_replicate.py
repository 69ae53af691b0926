"""Replicate designs (the base scenario alone, replicated) and runs stopped early (``until``)."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sweep_helpers import write_sweep

from urbsim.runner import simulate
from urbsim.scenario import load_scenario
from urbsim.sweep.driver import load_sweep_dir, run_sweep
from urbsim.sweep.spec import SweepError, load_sweep

REPLICATE = """\
base = "scenario.toml"
seed = 3
replications = 3

[design]
kind = "replicate"

[outputs]
national = ["urbanization_rate"]
until = 2011

[outputs.metrics]
urb = { column = "urbanization_rate", year = 2011 }
"""


def test_replicate_runs_the_base_scenario_with_derived_seeds(tmp_path: Path) -> None:
    path = write_sweep(tmp_path, REPLICATE)
    outcome = run_sweep(path, tmp_path / "out", executor="serial", progress=False)
    assert outcome.complete
    tables = load_sweep_dir(tmp_path / "out")
    runs = tables["runs"]
    assert runs["point"].tolist() == [0, 0, 0] and runs["replication"].tolist() == [0, 1, 2]
    assert runs["seed"].nunique() == 3
    results = pq.read_table(tmp_path / "out" / "results.parquet").to_pandas()
    national = results[results["kind"] == "national"]
    # until = 2011: the series stop there, and equal the same run made alone.
    assert sorted(national["year"].unique()) == [2010, 2011]
    seed = int(runs["seed"].iloc[1])
    alone = simulate(load_scenario(tmp_path / "scenario.toml", seed=seed)).national
    got = national[national["run"] == 1].sort_values("year")["value"].to_numpy()
    want = alone.set_index("year").loc[[2010, 2011], "urbanization_rate"].to_numpy()
    assert (got == want).all()
    summary = tables["summary"]
    assert summary["metric"].eq("urb").all() and len(summary) == 3


@pytest.mark.parametrize(
    ("text", "field", "reason"),
    [
        (
            REPLICATE.replace('kind = "replicate"', 'kind = "replicate"\nn = 4'),
            "design.n",
            "takes no n",
        ),
        (
            REPLICATE + '\n[[design.parameters]]\nname = "behaviour.move_base"\nvalues = [0.1]\n',
            "design.parameters",
            "sweeps no parameters",
        ),
        (REPLICATE.replace('kind = "replicate"', 'kind = "grid"'), "design.parameters", "needs"),
        (REPLICATE.replace("until = 2011", "until = 2030"), "outputs.until", "outside the run"),
        (
            REPLICATE.replace("year = 2011", "year = 2012"),
            "outputs.metrics.urb.year",
            "outside the run",
        ),
    ],
    ids=["replicate-n", "replicate-params", "grid-no-params", "until-late", "metric-after-until"],
)
def test_replicate_and_until_errors(tmp_path: Path, text: str, field: str, reason: str) -> None:
    path = write_sweep(tmp_path, text)
    with pytest.raises(SweepError) as err:
        load_sweep(path)
    assert any(f == field and reason in r for f, r in err.value.problems), err.value.problems
