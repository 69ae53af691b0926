"""Packaged scenarios by name: listing, resolution, ``extends`` by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from urbsim.errors import UrbsimError
from urbsim.scenario import ScenarioError, load_scenario
from urbsim.scenario.registry import (
    UnknownScenarioError,
    packaged_path,
    packaged_scenarios,
    resolve_scenario,
    scenario_dir,
)

ROOT = Path(__file__).resolve().parents[2]
NAMES = {"baseline", "china_census", "policy/status_quo", "policy/d1_services", "policy/all_four"}


def test_packaged_scenarios_are_the_repository_scenarios() -> None:
    """The repository's scenarios/ is a link to the package's folder: one set of files."""
    assert (ROOT / "scenarios").resolve() == scenario_dir().resolve()
    found = {s.name for s in packaged_scenarios()}
    files = {
        p.relative_to(ROOT / "scenarios").with_suffix("").as_posix()
        for p in (ROOT / "scenarios").rglob("*.toml")
    }
    assert found == files and NAMES <= found


def test_every_packaged_scenario_has_a_one_line_description() -> None:
    for s in packaged_scenarios():
        assert s.description and "\n" not in s.description, s.name
        assert s.path.is_file()


@pytest.mark.parametrize("name", ["baseline", "baseline.toml", "policy/d1_services"])
def test_names_resolve_to_packaged_files(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # an empty folder: no file of that name
    path = resolve_scenario(name)
    assert path == scenario_dir() / f"{name.removesuffix('.toml')}.toml"
    assert load_scenario(path).scenario.name


def test_an_existing_file_wins_over_a_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("baseline").write_text('name = "mine"\n')
    assert resolve_scenario("baseline") == Path("baseline")


def test_unknown_name_lists_the_packaged_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UnknownScenarioError) as info:
        resolve_scenario("basline")
    message = str(info.value)
    assert isinstance(info.value, UrbsimError)
    assert "basline: file not found" in message and "\n" not in message
    assert all(name in message for name in NAMES)


@pytest.mark.parametrize("name", ["../baseline", "/baseline", "scenarios/baseline", "policy"])
def test_only_listed_names_match(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A path outside the listed names never reaches into (or out of) the packaged folder."""
    monkeypatch.chdir(tmp_path)
    assert packaged_path(name) is None
    with pytest.raises(UnknownScenarioError):
        resolve_scenario(name)


def test_resolve_rejects_non_paths() -> None:
    with pytest.raises(TypeError, match="file path or a name"):
        resolve_scenario(3)  # type: ignore[arg-type]


def test_extends_by_name_equals_the_packaged_scenario(tmp_path: Path) -> None:
    mine = tmp_path / "mine.toml"
    mine.write_text('extends = "baseline"\n')
    packaged = load_scenario(scenario_dir() / "baseline.toml")
    assert load_scenario(mine).sha256 == packaged.sha256


def test_extends_nested_name_and_its_relative_parents(tmp_path: Path) -> None:
    """A packaged scenario extended by name keeps its own relative ``extends`` chain."""
    mine = tmp_path / "mine.toml"
    mine.write_text('extends = "policy/d1_services"\n')
    packaged = load_scenario(scenario_dir() / "policy" / "d1_services.toml")
    assert load_scenario(mine).sha256 == packaged.sha256


def test_extends_a_relative_file_wins_over_the_name(tmp_path: Path) -> None:
    (tmp_path / "baseline.toml").write_text('name = "local"\nend_year = 2012\n')
    mine = tmp_path / "mine.toml"
    mine.write_text('extends = "baseline.toml"\n')
    assert load_scenario(mine).scenario.name == "local"


def test_extends_unknown_name_is_file_not_found(tmp_path: Path) -> None:
    mine = tmp_path / "mine.toml"
    mine.write_text('extends = "basline"\n')
    with pytest.raises(ScenarioError, match=r"extends: file not found: .*basline"):
        load_scenario(mine)
