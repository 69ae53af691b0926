"""Issue 15: the Python API, ``urbsim.run`` / ``urbsim.check_scenario`` / ``urbsim.validate``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import urbsim
from urbsim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"

TINY = """\
name = "tiny"
start_year = 2010
end_year = 2013
seed = 11

[world]
households_per_agent = 1000000.0
"""


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    return path


def test_the_public_names_are_exported() -> None:
    for name in urbsim.__all__:
        assert getattr(urbsim, name) is not None
    assert issubclass(urbsim.ScenarioError, urbsim.UrbsimError)
    assert urbsim.validate({"name": "x"}).scenario.name == "x"


def test_run_returns_the_tables_and_the_manifest_and_writes_nothing(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    before = sorted(tmp_path.iterdir())
    out = urbsim.run(str(tiny), seed=5)
    assert isinstance(out, urbsim.RunOutput)
    assert list(out.national["year"]) == [2010, 2011, 2012, 2013]
    assert isinstance(out.places, pd.DataFrame) and len(out.places) > 0
    assert out.manifest["seed"] == 5 and out.manifest["scenario"]["seed"] == 5
    assert out.loaded.scenario.seed == 5
    assert sorted(tmp_path.iterdir()) == before


def test_run_is_the_cli_run(tiny: Path) -> None:
    """The same scenario and seed give the tables `urbsim run` computes (simulate)."""
    from urbsim.runner import simulate

    loaded = load_scenario(tiny, seed=4)
    expected = simulate(loaded)
    got = urbsim.run(tiny, seed=4)
    pd.testing.assert_frame_equal(got.national, expected.national)
    pd.testing.assert_frame_equal(got.places, expected.places)


def test_overrides_are_dotted_keys_with_python_values(tiny: Path) -> None:
    over = {"policy.permit.enabled": True, "world.households_per_agent": 2000000.0}
    loaded = urbsim.check_scenario(tiny, overrides=over)
    assert loaded.scenario.policy.permit.enabled is True
    assert loaded.scenario.world.households_per_agent == 2000000.0
    # The same as the command line's --set.
    cli = load_scenario(
        tiny, ["policy.permit.enabled=true", "world.households_per_agent=2000000.0"]
    )
    assert loaded.sha256 == cli.sha256


def test_a_loaded_scenario_is_accepted(tiny: Path) -> None:
    loaded = load_scenario(tiny)
    assert urbsim.check_scenario(loaded) is loaded
    assert urbsim.check_scenario(loaded, seed=9).scenario.seed == 9


def test_until_stops_early_with_the_same_years(tiny: Path) -> None:
    full = urbsim.run(tiny)
    part = urbsim.run(tiny, until=2012)
    assert list(part.national["year"]) == [2010, 2011, 2012]
    pd.testing.assert_frame_equal(part.national, full.national.iloc[:3])
    assert part.manifest["until"] == 2012


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"scenario": 3}, "scenario must be"),
        ({"scenario": {"name": "x"}}, "scenario must be"),
        ({"seed": "3"}, "seed must be an int"),
        ({"seed": True}, "seed must be an int"),
        ({"seed": 1.5}, "seed must be an int"),
        ({"overrides": ["policy.permit.enabled=true"]}, "overrides must be a dict"),
        ({"overrides": {1: 2}}, "override keys"),
        ({"until": "2012"}, "until must be an int"),
    ],
)
def test_wrong_argument_types_raise_type_errors(
    tiny: Path, kwargs: dict[str, object], fragment: str
) -> None:
    args = {"scenario": tiny, **kwargs}
    with pytest.raises(TypeError, match=fragment):
        urbsim.run(**args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"overrides": {"behaviour.move_bse": 0.1}}, "behaviour.move_bse"),
        ({"overrides": {"end_year": "soon"}}, "end_year"),
        ({"overrides": {"name.x": 1}}, "'name' is not a table"),
        ({"overrides": {"a..b": 1}}, "dotted key"),
        ({"seed": -1}, "seed"),
        ({"until": 2020}, "until=2020"),
        ({"scenario": "no/such/file.toml"}, "file.toml"),
    ],
)
def test_bad_values_raise_urbsim_errors_before_running(
    tiny: Path, kwargs: dict[str, object], fragment: str
) -> None:
    args = {"scenario": tiny, **kwargs}
    with pytest.raises(urbsim.UrbsimError, match=fragment.replace(".", r"\.")):
        urbsim.run(**args)  # type: ignore[arg-type]


def test_a_path_of_the_repository_scenarios_works() -> None:
    loaded = urbsim.check_scenario(BASELINE, overrides={"world.households_per_agent": 40000.0})
    assert loaded.scenario.name == "baseline"
