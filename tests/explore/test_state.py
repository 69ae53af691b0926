"""The explorer's page state: levers as ``--set`` overrides, the export, runs and comparisons."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from urbsim.cli import app
from urbsim.cli.errors import error_paragraph
from urbsim.errors import UrbsimError
from urbsim.explore import state
from urbsim.scenario import load_scenario

REPO = Path(__file__).resolve().parents[2]
BASELINE = REPO / "scenarios" / "baseline.toml"


@pytest.fixture(scope="module")
def baseline():
    return load_scenario(BASELINE)


def test_levers_start_at_the_policy_in_force_after_the_last_timeline_entry(baseline) -> None:
    year = state.default_from_year(baseline)
    assert year == 2025
    values = state.initial_values(baseline, year)
    # The 2024 entry's mega rule, not the 2010 one.
    assert values["settlement.mega.rule"] == "points"
    assert values["settlement.mega.quota_per_10k"] == "15.0"
    assert values["service_funding_base"] == "permanent"
    assert values["world.households_per_agent"] == "400.0"
    assert state.later_timeline_years(baseline, year) == []
    assert state.later_timeline_years(baseline, 2020) == [2021, 2022, 2024]


def test_unchanged_levers_give_only_the_seed(baseline) -> None:
    values = state.initial_values(baseline, 2025)
    assert state.overrides_for(baseline, 2025, values) == ["seed=20101101"]


def test_changed_levers_become_set_overrides(baseline) -> None:
    values = state.initial_values(baseline, 2025)
    values |= {
        "settlement.mega.rule": "open",
        "county_town.budget": "250.0",
        "world.households_per_agent": "40000.0",
        "permit.enabled": "false",
        "seed": "7",
    }
    assert state.overrides_for(baseline, 2025, values) == [
        'timeline.2025.settlement.mega.rule="open"',
        "timeline.2025.permit.enabled=false",
        "timeline.2025.county_town.budget=250.0",
        "world.households_per_agent=40000.0",
        "seed=7",
    ]
    # From the first year the levers change the scenario's policy itself.
    first = state.initial_values(baseline, 2010)
    first["governance_efficiency"] = "2.0"
    assert state.overrides_for(baseline, 2010, first)[0] == "policy.governance_efficiency=2.0"


def test_export_resolves_to_the_same_scenario_as_the_overrides(baseline, tmp_path: Path) -> None:
    values = state.initial_values(baseline, 2025)
    values |= {"settlement.small.rule": "points", "permit.access": "[0.5, 0.9]", "seed": "3"}
    spec = state.RunSpec(BASELINE, tuple(state.overrides_for(baseline, 2025, values)))
    text = state.export_toml(spec)
    tomllib.loads(text)  # valid TOML
    export = tmp_path / "export.toml"
    export.write_text(text)
    assert load_scenario(export).sha256 == spec.load().sha256
    result = CliRunner().invoke(app, ["check", str(export)])
    assert result.exit_code == 0, result.output
    assert spec.load().sha256 in result.output


def test_invalid_lever_is_refused_with_the_cli_message(baseline) -> None:
    values = state.initial_values(baseline, 2025) | {"governance_efficiency": "-1"}
    overrides = state.overrides_for(baseline, 2025, values)
    with pytest.raises(UrbsimError) as page_error:
        state.RunSpec(BASELINE, tuple(overrides)).load()
    sets = [arg for item in overrides for arg in ("--set", item)]
    cli = CliRunner().invoke(app, ["check", str(BASELINE), *sets])
    assert cli.exit_code == 2
    assert error_paragraph(page_error.value) == cli.stderr.strip()
    assert "timeline.2025.governance_efficiency" in cli.stderr


def test_toml_value_round_trips() -> None:
    value = {"a": [0.1, 1e-05, 3], "b": 'x"y', "c": True, "d": 7360000.0}
    assert tomllib.loads(f"v = {state.toml_value(value)}")["v"] == value


def _national(**columns: list[float]) -> pd.DataFrame:
    frame = pd.DataFrame({"year": [2034, 2035]})
    for column, _, _ in state.COMPARED:
        frame[column] = columns.get(column, [0.0, 0.0])
    return frame


def test_compare_runs_gives_2035_differences() -> None:
    current = _national(urbanization_rate=[0.6, 0.7], floating_population=[1e6, 3e6])
    reference = _national(urbanization_rate=[0.6, 0.65], floating_population=[1e6, 1e6])
    diff = state.compare_runs(current, reference).set_index("measure")["difference"]
    assert diff["Resident urbanization (%), 2035"] == pytest.approx(5.0)
    assert diff["Floating population (M), 2035"] == pytest.approx(2.0)
    shorter = _national().iloc[:1]
    assert state.compare_runs(current, shorter)["measure"].iloc[0].endswith("2034")


def test_digest_sees_the_last_bit() -> None:
    a = _national(urbanization_rate=[0.6, 0.7])
    b = a.copy()
    b.loc[1, "urbanization_rate"] = 0.7 + 1e-16 * 1.2  # next float
    assert b.loc[1, "urbanization_rate"] != 0.7
    assert state.national_digest(a) != state.national_digest(b)


def test_stop_ends_a_run_after_the_current_year(monkeypatch) -> None:
    import urbsim.runner

    calls: list[tuple[int, int]] = []

    def fake_simulate(loaded, progress=None, until=None):
        for year in range(1, 4):
            progress(year, 3, 100)
        return "finished"

    monkeypatch.setattr(urbsim.runner, "simulate", fake_simulate)
    stopper = state.Stopper()
    spec = state.RunSpec(BASELINE, ())

    def on_year(done: int, total: int) -> None:
        calls.append((done, total))
        if done == 2:
            stopper.stop()

    with pytest.raises(state.RunStopped, match="stopped after 2 of 3 years"):
        state.run_spec(spec, on_year, stopper)
    assert calls == [(1, 3), (2, 3)]
    stopper.reset()
    assert state.run_spec(spec, None, stopper) == "finished"


def test_scenario_choices_list_files_then_packaged_ones(tmp_path: Path, monkeypatch) -> None:
    import sys
    import types

    (tmp_path / "policy").mkdir()
    mine = tmp_path / "policy" / "mine.toml"
    mine.write_text('name = "mine"\n')
    packaged = tmp_path / "pkg.toml"
    packaged.write_text('name = "pkg"\n')
    registry = types.ModuleType("urbsim.scenario.registry")
    item = types.SimpleNamespace
    registry.packaged_scenarios = lambda: [  # type: ignore[attr-defined]
        item(name="pkg", path=packaged),
        item(name="policy/mine", path=mine),  # the same file as a listed one: shown once
    ]
    monkeypatch.setitem(sys.modules, "urbsim.scenario.registry", registry)
    assert state.scenario_choices(tmp_path / "policy") == {
        "mine.toml": mine,
        "packaged: pkg": packaged,
    }
    assert state.scenario_choices(None) == {
        "packaged: pkg": packaged,
        "packaged: policy/mine": mine,
    }
