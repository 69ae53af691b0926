"""experiments/calibration/probe.py: one parameter set against every target."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pipeline_helpers import TargetStub

from urbsim.analysis.destinations import stock_end
from urbsim.analysis.worker_flows import workers_end

PROBE = Path(__file__).resolve().parents[2] / "experiments" / "calibration" / "probe.py"
sys.path.insert(0, str(PROBE.parent))

from probe import probe_table  # noqa: E402


def test_the_error_is_the_mean_off_over_discrepancy_observation_and_run_variance() -> None:
    targets = [TargetStub("a@2011", 1.0, 0.3, 0.4), TargetStub("b@2011", 10.0, 1.0, 0.0)]
    values = np.array([[1.0, 14.0], [3.0, 16.0]])  # means 2 and 15, sample variances 2 and 2
    table = probe_table(targets, values)
    # (2 - 1) / sqrt(2 * 1.5 + 0.09 + 0.16); (15 - 10) / sqrt(3 + 1).
    assert table["error"].to_numpy() == pytest.approx([1 / np.sqrt(3.25), 2.5])
    assert table["model_sd"].to_numpy() == pytest.approx([np.sqrt(2), np.sqrt(2)])
    assert table["within_cutoff"].tolist() == [True, True]
    far = probe_table(targets, values - np.array([0.0, 20.0]))
    assert far["error"].iloc[1] == pytest.approx(-7.5) and not far["within_cutoff"].iloc[1]


def _probe(out: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(PROBE), str(out), *arguments]
    return subprocess.run(command, capture_output=True, text=True, check=False)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("arguments", "reason"),
    [
        (["--set", "behaviour.not_a_parameter=1"], "is not a parameter of the box"),
        (["--set", "behaviour.move_base=high"], "is not a number"),
        (["--set", "behaviour.move_base=2"], "not a valid scenario"),
        (["--replications", "1"], "at least 2"),
        (["--households-per-agent", "0"], "households_per_agent"),
        (["--box", "/dev/null"], "not a box file"),
        (["--fix", "behaviour.move_base=0.2"], "is a parameter of the box (use --set)"),
        (["--fix", "behaviour.move_tenure_decay"], "expected NAME=VALUE"),
        (["--fix", "behaviour.move_tenure_decay=high"], "is not a TOML value"),
        (["--fix", "behaviour.move_tenure_decay=9"], "not a valid scenario"),
        (["--fix", "behaviour.no_such_field=1"], "not a valid scenario"),
        (["--fix", "seed=3"], "set by this script's own options"),
    ],
)
def test_a_mistake_stops_it_before_any_run(
    tmp_path: Path, arguments: list[str], reason: str
) -> None:
    done = _probe(tmp_path / "out", *arguments)
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and reason in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_a_row_the_table_does_not_have_is_refused(tmp_path: Path) -> None:
    table = tmp_path / "sets.csv"
    pd.DataFrame({"behaviour.move_base": [0.1]}).to_csv(table, index=False)
    done = _probe(tmp_path / "out", "--from", str(table), "--row", "1")
    assert done.returncode == 2 and "no row 1 (it has 1)" in done.stderr
    pd.DataFrame({"behaviour.move_base": ["high"]}).to_csv(table, index=False)
    done = _probe(tmp_path / "out", "--from", str(table))
    assert done.returncode == 2 and "row 0: not a number in behaviour.move_base" in done.stderr


@pytest.mark.slow
def test_a_set_is_run_and_every_usable_target_judged(tmp_path: Path) -> None:
    table = tmp_path / "sets.csv"
    pd.DataFrame({"behaviour.move_base": [0.1, 0.3], "other": [1, 2]}).to_csv(table, index=False)
    out = tmp_path / "out"
    fix = ("--fix", "behaviour.move_tenure_decay=0.3")
    done = _probe(out, "--from", str(table), "--row", "1", "--set", "behaviour.home_age=0.5",
                  *fix, "--households-per-agent", "400000", "--workers", "1")  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    # A field outside the box is set in every run of the sweep.
    assert '"behaviour.move_tenure_decay" = 0.3' in (out / "probe" / "sweep.toml").read_text()
    # The table's missing parameters are named (not those --set gives).
    note = next(line for line in done.stderr.splitlines() if line.startswith("note: "))
    assert "behaviour.stay_age" in note and "behaviour.home_age" not in note
    params = pd.read_csv(out / "parameters.csv").set_index("parameter")["value"]
    assert params["behaviour.move_base"] == 0.3 and params["behaviour.home_age"] == 0.5
    probe = pd.read_csv(out / "probe.csv")
    assert probe["target"].is_unique and len(probe) > 40
    assert np.isfinite(probe["model_mean"]).all() and (probe["model_sd"] >= 0).all()
    off = int((~probe["within_cutoff"]).sum())
    assert done.stdout.startswith(f"{off} of {len(probe)} targets outside 3")
    # The same probe again reads its runs; another seed in the same folder is refused.
    again = _probe(out, "--from", str(table), "--row", "1", "--set", "behaviour.home_age=0.5",
                   *fix, "--households-per-agent", "400000", "--workers", "1")  # fmt: skip
    assert again.returncode == 0 and again.stdout == done.stdout
    unfixed = _probe(out, "--from", str(table), "--row", "1", "--set", "behaviour.home_age=0.5",
                     "--households-per-agent", "400000", "--workers", "1")  # fmt: skip
    assert unfixed.returncode == 2 and "holds the probe of another set" in unfixed.stderr
    other = _probe(out, "--seed", "2", "--households-per-agent", "400000")
    assert other.returncode == 2 and "holds the probe of another set" in other.stderr
    assert pd.read_csv(out / "probe.csv").equals(probe)


@pytest.mark.slow
def test_returns_worker_flows_and_destinations_say_who_returns_leaves_and_where(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    done = _probe(out, "--households-per-agent", "400000", "--workers", "1", "--returns",
                  "--worker-flows", "--destinations")  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    returns = pd.read_csv(out / "returns.csv", dtype={"away_band": str})
    assert list(returns["year"].unique()) == list(range(2011, 2020))
    assert (returns.groupby("year").size() == 60).all()  # 4 ages x 5 years away x 3 here
    assert (returns["households_returned"] + returns["households_settled"]
            <= returns["households_away"]).all()  # fmt: skip
    assert returns["households_away"].sum() > 0 and returns["households_returned"].sum() > 0
    lines = done.stdout.splitlines()
    header = lines.index(next(line for line in lines if line.startswith("year  return rate")))
    years = [line.split()[0] for line in lines[header + 1 : header + 10]]
    assert years == [str(y) for y in range(2011, 2020)]
    # The first year at its own rates gives its own return rate, on either cells; in it
    # every household away is of the first year's stock.
    first = lines[header + 1].split()
    assert first[1] == first[2] == first[3] == first[5]
    cohorts = pd.read_csv(out / "returns_by_cohort.csv", dtype={"here_band": str})
    assert (cohorts.groupby("year").size() == 24).all()  # 2 cohorts x 4 ages x 3 years here
    by_year = cohorts.groupby("year")[["persons_away", "persons_returned"]].sum()
    cells = returns.groupby("year")[["persons_away", "persons_returned"]].sum()
    assert np.allclose(by_year, cells)  # the same persons away and returned, split otherwise
    later = cohorts[cohorts["cohort"] == "later_leavers"].groupby("year")["persons_away"].sum()
    assert later[2011] == 0 and later.iloc[-1] > 0
    # The national counts of each year, on each of its rows: the hazard's part of the
    # returns, some of them in some year; the printed share is theirs.
    national = cohorts.groupby("year")[["return_migrants", "hazard_return_migrants"]]
    assert (national.nunique() == 1).all().all()
    national = national.first()
    assert (national["hazard_return_migrants"] >= 0).all()
    assert (national["hazard_return_migrants"] <= national["return_migrants"]).all()
    assert national["hazard_return_migrants"].sum() > 0
    shares = [line.split()[4] for line in lines[header + 1 : header + 10]]
    expected = national["hazard_return_migrants"] / national["return_migrants"]
    assert shares == [f"{v:.1%}" for v in expected]
    # One run serves both: the workers at the end of a year are those at the start of the next.
    flows = pd.read_csv(out / "worker_flows.csv")
    assert (flows.groupby("year").size() == 4).all()
    ends = [workers_end(bands) for _, bands in flows.groupby("year")]
    starts = flows.groupby("year")["workers_start"].sum().tolist()
    assert ends[:-1] == starts[1:] and sum(starts) > 0
    assert flows["left_home"].sum() > 0
    assert (flows["left_far"] <= flows["left_home"]).all()
    assert any(line.startswith("year  workers_start") for line in lines)
    # Who the floating persons are: the same run's national columns, 2010 to 2019; the
    # children among them, and the left behind among those.
    floating = pd.read_csv(out / "floating.csv")
    assert floating["year"].tolist() == list(range(2010, 2020))
    assert (floating["floating_children"] < floating["floating_population"]).all()
    assert (floating["floating_children_left_behind"] <= floating["floating_children"]).all()
    assert floating["floating_children"].min() > 0
    assert any(line.startswith("year  floating  workers  children") for line in lines)
    # By hukou type: the floating persons at the end of a year start the next, and together
    # they are the national floating population (agent persons times the scale).
    by_type = pd.read_csv(out / "floating_by_hukou.csv")
    assert (by_type.groupby("year").size() == 2).all()
    ends = by_type.groupby("year")["floating_end"].sum()
    starts = by_type.groupby("year")["floating_start"].sum()
    assert ends.iloc[:-1].tolist() == starts.iloc[1:].tolist()
    national = floating.set_index("year")["floating_population"].loc[ends.index]
    np.testing.assert_allclose(ends.to_numpy() * 400000.0, national.to_numpy(), rtol=1e-5)
    assert any(line.startswith("year  floating (million)") for line in lines)
    # Onward moves: floating at both ends, no more than those at the end.
    assert (by_type["moved_on"] <= by_type["floating_end"]).all()
    assert by_type["moved_on"].sum() > 0
    assert any(line.startswith("year  % of the floating at the start") for line in lines)
    # Each province's inter-province migrants at the end of a year start the next.
    places = pd.read_csv(out / "destinations.csv")
    assert places["province_code"].nunique() == 31
    assert (places.groupby("year").size() == 31).all()
    ends = places.assign(end=stock_end(places)).pivot(index="year", columns="province_code",
                                                      values="end")  # fmt: skip
    starts = places.pivot(index="year", columns="province_code", values="stock_start")
    assert (ends.iloc[:-1].to_numpy() == starts.iloc[1:].to_numpy()).all()
    assert places["arrived_from_home"].sum() > 0 and starts.to_numpy().sum() > 0
    assert any(line.startswith("inter-province migrants by province") for line in lines)
    # The corridors: the start's stock by hukou and destination province is the destinations'
    # first stock; those who left home for another province are their arrivals from home.
    corridors = pd.read_csv(out / "corridors.csv")
    assert (corridors["origin_code"] != corridors["destination_code"]).all()
    first = places[places["year"] == 2011].set_index("province_code")["stock_start"]
    by_destination = corridors.groupby("destination_code")["stock_start"].sum()
    assert by_destination.reindex(first.index, fill_value=0).equals(first)
    arrived = places.groupby("province_code")["arrived_from_home"].sum()
    left = corridors.groupby("destination_code")["left_home"].sum()
    assert left.reindex(arrived.index, fill_value=0).equals(arrived)
    assert any(line.startswith("left home for another province") for line in lines)
    # The young at home of the provinces with most migrants away, under the full logit: each
    # origin's destination probabilities add up to its probability of going far.
    choices = pd.read_csv(out / "start_choices.csv")
    assert 0 < choices["origin_code"].nunique() <= 8
    for _, rows in choices.groupby("origin_code"):
        # (six digits in the file)
        assert rows["probability"].sum() == pytest.approx(rows["far"].iloc[0], abs=1e-4)
        assert (rows["far"] <= rows["move"]).all() and (rows["move"] <= 1.0).all()
    assert any(line.startswith("young at home, full logit") for line in lines)
    # With the set's destination constants the start year's movers would arrive where the
    # in-migrants live, province by province.
    constants = pd.read_csv(out / "constants.csv")
    assert len(constants) == 31
    shares = ["in_migrant_share", "share_without_constants", "share_with_constants"]
    assert constants[shares].sum().round(4).eq(1.0).all()
    for prefix in ("", "across_"):
        np.testing.assert_allclose(
            constants[f"{prefix}share_with_constants"],
            constants[f"{prefix}in_migrant_share"],
            atol=1e-5,
        )
    assert (constants["share_without_constants"] - constants["in_migrant_share"]).abs().max() > 0.01
    assert any(line.startswith("destination constants: where") for line in lines)


@pytest.mark.slow
def test_stock_choices_say_where_the_floating_stock_would_go(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = _probe(out, "--households-per-agent", "400000", "--workers", "1", "--stock-choices")
    assert done.returncode == 0, done.stderr[-3000:]
    table = pd.read_csv(out / "stock_choices.csv")
    assert sorted(table["year"].unique()) == [2010, 2011, 2013, 2016, 2019]
    assert np.allclose(table[["home", "stay", "onward"]].sum(axis=1), 1.0)
    assert (table.groupby("year").size() > 0).all()
    lines = done.stdout.splitlines()
    header = lines.index(next(line for line in lines if line.startswith("year   home   stay")))
    assert [line.split()[0] for line in lines[header + 1 : header + 6]] == [
        "2010", "2011", "2013", "2016", "2019"
    ]  # fmt: skip
