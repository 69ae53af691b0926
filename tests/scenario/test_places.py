"""Policies that name places (issue 13): addresses checked against the world, timeline entries
merged by code, and every mistake reported before anything runs, naming the file, the field and
the reason (by the loader and by ``urbsim check``: one ``error:`` paragraph, exit 2)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from urbsim.cli import app
from urbsim.scenario import ScenarioError, load_scenario
from urbsim.scenario.places import (
    COUNTY,
    PREFECTURE,
    PROVINCE,
    address_level,
    address_problem,
    index_from_columns,
    merge_places,
    world_place_index,
)
from urbsim.world import World

CENSUS = """\
name = "places"
start_year = 2010
end_year = 2020

[world]
name = "census"
households_per_agent = 40000.0
"""
PLACE = '[[policy.places]]\ncode = 110000\nname = "北京市"\n'
SYNTHETIC = CENSUS.replace('name = "census"', 'name = "china-synthetic"')


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenario.toml"
    path.write_text(text, encoding="utf-8")
    return path.resolve()


def problems_of(path: Path) -> list[tuple[str, str]]:
    with pytest.raises(ScenarioError) as exc:
        load_scenario(path)
    assert exc.value.source == str(path)
    return exc.value.problems


# ---------------------------------------------------------------------------------------------
# Addresses and the index
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("code", "level"),
    [(110000, PROVINCE), (440100, PREFECTURE), (429000, PREFECTURE), (440103, COUNTY)],
)
def test_the_code_says_what_it_addresses(code: int, level: int) -> None:
    assert address_level(code) == level


def test_a_hand_made_index_finds_units_and_checks_names() -> None:
    index = index_from_columns(
        [110101, 110102, 440103], ["东城区", "西城区", "荔湾区"], [110100, 110100, 440100],
        [11, 11, 44], {110100: "北京市"}, world="tiny",
    )  # fmt: skip
    assert index.places_of(110000).tolist() == [0, 1]
    assert index.places_of(440100).tolist() == [2]
    assert index.places_of(110102).tolist() == [1]
    assert index.places_of(310000) is None
    assert address_problem(110000, "Beijing", index) is None
    assert address_problem(110000, " 北京市 ", index) is None
    assert address_problem(110102, "西城区", index) is None
    field, reason = address_problem(440100, "深圳市", index)  # type: ignore[misc]
    # Guangzhou's name is not in the tiny index: derived from its place names.
    assert field == "name" and "not '深圳市'" in reason
    assert address_problem(120000, "天津市", index) == (
        "code",
        "no province has code 120000 in the tiny world",
    )


def test_the_census_index_has_the_real_names() -> None:
    index = world_place_index("census", None)
    assert len(index) == 2870
    for code, name in [(110000, "北京市"), (310000, "上海市"), (440100, "广州市")]:
        assert address_problem(code, name, index) is None
    assert address_problem(440300, "深圳市", index) is None
    assert address_problem(110105, "朝阳区", index) is None
    assert index.places_of(110000).size == 18  # Beijing's 16 districts and 2 counties


def test_merge_places_updates_by_code_and_appends_new_codes() -> None:
    current = [{"code": 1, "name": "a", "settlement": {"rule": "points", "min_years": 5}}]
    patch = [
        {"code": 1, "name": "a", "settlement": {"min_years": 3}},
        {"code": 2, "name": "b", "growth_pole": True},
    ]
    assert merge_places(current, patch) == [
        {"code": 1, "name": "a", "settlement": {"rule": "points", "min_years": 3}},
        {"code": 2, "name": "b", "growth_pole": True},
    ]
    assert current[0]["settlement"]["min_years"] == 5  # not modified


# ---------------------------------------------------------------------------------------------
# The timeline
# ---------------------------------------------------------------------------------------------
def test_timeline_entries_merge_into_the_places_in_force(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        CENSUS
        + """
[[policy.places]]
code = 110000
name = "北京市"
settlement = { rule = "points", min_years = 7 }

[[timeline.2016.places]]
code = 110000
name = "北京市"
settlement = { quota_per_10k = 4.3 }

[[timeline.2016.places]]
code = 440100
name = "广州市"
settlement = { rule = "points" }

[[timeline.2018.places]]
code = 110000
name = "北京市"
population_cap = { residents = 23.0e6 }
""",
    )
    loaded = load_scenario(path)
    assert [p.code for p in loaded.policy(2015).places] == [110000]
    beijing = loaded.policy(2016).places[0].settlement
    assert (beijing.rule, beijing.min_years, beijing.quota_per_10k) == ("points", 7, 4.3)
    assert [p.code for p in loaded.policy(2016).places] == [110000, 440100]
    assert loaded.policy(2017).places[0].population_cap is None
    cap = loaded.policy(2020).places[0].population_cap
    assert cap is not None and cap.residents == 23.0e6
    assert loaded.policy(2020).places[0].settlement.quota_per_10k == 4.3


# ---------------------------------------------------------------------------------------------
# Every mistake: the loader's problem and the CLI's one error paragraph
# ---------------------------------------------------------------------------------------------
BAD: dict[str, tuple[str, str, str]] = {
    "unknown province": (
        '[[policy.places]]\ncode = 710000\nname = "台湾省"\n',
        "policy.places[0].code",
        "no province has code 710000 in the census world",
    ),
    "unknown prefecture": (
        '[[policy.places]]\ncode = 119900\nname = "x"\n',
        "policy.places[0].code",
        "no prefecture has code 119900",
    ),
    "unknown county": (
        '[[timeline.2015.places]]\ncode = 110199\nname = "x"\n',
        "timeline.2015.places[0].code",
        "no county-level place has code 110199",
    ),
    "name mismatch": (
        '[[policy.places]]\ncode = 110000\nname = "上海市"\n',
        "policy.places[0].name",
        "code 110000 is '北京市' or 'Beijing' in the census world, not '上海市'",
    ),
    "prefecture name mismatch": (
        '[[timeline.2019.places]]\ncode = 440300\nname = "广州市"\n',
        "timeline.2019.places[0].name",
        "code 440300 is '深圳市' in the census world, not '广州市'",
    ),
    "code twice": (
        '[[policy.places]]\ncode = 110000\nname = "北京市"\n'
        '[[policy.places]]\ncode = 110000\nname = "北京市"\n',
        "policy.places[1].code",
        "code 110000 is addressed twice",
    ),
    "code twice in a year": (
        '[[timeline.2014.places]]\ncode = 110000\nname = "北京市"\n'
        '[[timeline.2014.places]]\ncode = 110000\nname = "北京市"\n',
        "timeline.2014.places[1].code",
        "code 110000 is addressed twice in 2014",
    ),
    "places not an array": (
        '[timeline.2014.places]\ncode = 110000\nname = "北京市"\n',
        "timeline.2014.places",
        "must be an array of tables: write [[timeline.2014.places]]",
    ),
    "bad rule": (
        '[[timeline.2014.places]]\ncode = 110000\nname = "北京市"\n'
        'settlement = { rule = "lottery" }\n',
        "timeline.2014.places[0].settlement.rule",
        "Input should be 'closed', 'open', 'conditional' or 'points'",
    ),
    "missing name": (
        "[[policy.places]]\ncode = 110000\n",
        "policy.places[0].name",
        "Field required",
    ),
    "code not six digits": (
        '[[policy.places]]\ncode = 11\nname = "北京市"\n',
        "policy.places[0].code",
        "greater than or equal to 100000",
    ),
    "misspelt field": (
        '[[policy.places]]\ncode = 110000\nname = "北京市"\nsettlment = {}\n',
        "policy.places[0].settlment",
        "unknown key (misspelt?)",
    ),
    "cap without residents": (
        '[[policy.places]]\ncode = 110000\nname = "北京市"\npopulation_cap = { trigger = 0.9 }\n',
        "policy.places[0].population_cap.residents",
        "Field required",
    ),
    "cap trigger of one": (
        '[[policy.places]]\ncode = 110000\nname = "北京市"\n'
        "population_cap = { residents = 2.3e7, trigger = 1.0 }\n",
        "policy.places[0].population_cap.trigger",
        "less than 1",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_each_mistake_names_the_file_the_field_and_the_reason(tmp_path: Path, case: str) -> None:
    text, field, reason = BAD[case]
    path = write(tmp_path, CENSUS + "\n" + text)
    problems = problems_of(path)
    assert len(problems) == 1, problems
    assert problems[0][0] == field
    assert reason in problems[0][1]


@pytest.mark.parametrize("case", list(BAD))
def test_urbsim_check_prints_one_error_paragraph_and_exits_2(tmp_path: Path, case: str) -> None:
    text, field, reason = BAD[case]
    path = write(tmp_path, CENSUS + "\n" + text)
    result = CliRunner().invoke(app, ["check", str(path)])
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    assert "\n\n" not in result.stderr.strip() and "Traceback" not in result.output
    assert f"{path}: {field}: " in result.stderr and reason in result.stderr


def test_the_synthetic_world_checks_its_own_names(tmp_path: Path) -> None:
    """The synthetic world has the real provinces but synthetic prefectures: Guangzhou's code
    there is Guangdong's first synthetic prefecture."""
    good = '[[policy.places]]\ncode = 440000\nname = "广东省"\n'
    load_scenario(write(tmp_path, SYNTHETIC + good))
    bad = '[[policy.places]]\ncode = 440100\nname = "广州市"\n'
    [(field, reason)] = problems_of(write(tmp_path, SYNTHETIC + bad))
    assert field == "policy.places[0].name"
    assert reason == "code 440100 is 'Guangdong P01' in the china-synthetic world, not '广州市'"


def test_a_code_neither_the_world_nor_the_census_holds_is_refused_when_the_model_is_built(
    tmp_path: Path, tiny_world: Callable[..., World]
) -> None:
    from urbsim.model import UrbanizationModel

    # 110118 is a synthetic county of Beijing (the census has no such code): valid for the
    # scenario's own world, unknown to the tiny hand-built world the model is given.
    text = SYNTHETIC + '[[policy.places]]\ncode = 110118\nname = "Beijing P01 C02"\n'
    loaded = load_scenario(write(tmp_path, text))
    world = tiny_world(n_places=6, n_households=50, seed=1)
    assert 110118 not in world.places.code
    with pytest.raises(ScenarioError) as exc:
        UrbanizationModel(loaded, world)
    reason = (
        f"no county-level place has code 110118 in the {world.name} world "
        "or in the census world of 2010"
    )
    assert exc.value.problems == [("policy.places[0].code", reason)]


def test_a_unit_of_china_outside_the_world_applies_to_no_place(
    tmp_path: Path, tiny_world: Callable[..., World]
) -> None:
    """A scenario written for China runs on a world of part of it: Shanghai's cap (Shanghai
    is not in the tiny world) is checked against the census and acts nowhere."""
    from urbsim.model import UrbanizationModel

    cap = "population_cap = { residents = 1.0, trigger = 0.0, school_access = 0.0 }\n"
    text = CENSUS + '[[policy.places]]\ncode = 310000\nname = "上海市"\n' + cap
    world = tiny_world(n_places=6, n_households=50, seed=1)
    assert not (world.places.province_code == 31).any()
    model = UrbanizationModel(load_scenario(write(tmp_path, text)), world)
    assert model.policy_arrays.cap_pressure.max() == 0.0
    assert model.policy_arrays.school_access.min() == 1.0
    # A wrong name is still wrong, for a unit outside the world too.
    bad = text.replace("上海市", "北京市")
    [(field, reason)] = problems_of(write(tmp_path, bad))
    assert field == "policy.places[0].name" and "code 310000 is '上海市'" in reason


def test_urbsim_schema_documents_the_place_fields() -> None:
    result = CliRunner().invoke(app, ["schema"])
    assert result.exit_code == 0, result.output
    defs = json.loads(result.stdout)["$defs"]
    assert defs["Policy"]["properties"]["places"]["items"] == {"$ref": "#/$defs/PlacePolicy"}
    cap = defs["PopulationCap"]["properties"]
    assert cap["residents"]["unit"] == "persons"
    assert "Beijing 23 million" in cap["residents"]["source"]
    assert defs["PlacePolicy"]["properties"]["code"]["maximum"] == 999_999


def test_a_world_file_that_cannot_be_read_is_named_when_addresses_need_it(tmp_path: Path) -> None:
    (tmp_path / "empty.parquet").write_bytes(b"")
    text = CENSUS.replace("[world]\n", '[world]\nworld_file = "empty.parquet"\n')
    [(field, reason)] = problems_of(write(tmp_path, text + PLACE))
    assert field == "world.world_file" and "cannot read as a world file" in reason
    # Without place addresses nothing is read at check time (the run reports the file).
    load_scenario(write(tmp_path, text))


def test_a_scenario_that_extends_another_merges_its_places_by_code(tmp_path: Path) -> None:
    """A child naming a place in the same year as its parent updates that place's entry and
    keeps the parent's other fields and places (it does not replace the parent's list)."""
    parent = tmp_path / "parent.toml"
    parent.write_text(
        CENSUS
        + '[[timeline.2017.places]]\ncode = 110000\nname = "北京市"\n'
        + 'settlement = { rule = "points", min_years = 7 }\n'
        + '[[timeline.2017.places]]\ncode = 440100\nname = "广州市"\ngrowth_pole = true\n',
        encoding="utf-8",
    )
    child = write(
        tmp_path,
        'extends = "parent.toml"\n[[timeline.2017.places]]\ncode = 110000\nname = "北京市"\n'
        "population_cap = { residents = 2.3e7 }\n",
    )
    places = {p.code: p for p in load_scenario(child).policy(2017).places}
    assert set(places) == {110000, 440100}
    assert places[110000].settlement.min_years == 7
    assert places[110000].population_cap is not None and places[440100].growth_pole


# ---------------------------------------------------------------------------------------------
# Where a mistake is reported when places merge over ``extends``
# ---------------------------------------------------------------------------------------------
PARENT = (
    CENSUS
    + '[[policy.places]]\ncode = 440100\nname = "广州市"\n'
    + '[[policy.places]]\ncode = 440300\nname = "深圳市"\n'
    + '[[timeline.2017.places]]\ncode = 310000\nname = "上海市"\n'
)


def _family(tmp_path: Path, parent: str, child: str) -> tuple[Path, Path]:
    (tmp_path / "parent.toml").write_text(parent, encoding="utf-8")
    return (tmp_path / "parent.toml").resolve(), write(
        tmp_path, 'extends = "parent.toml"\n' + child
    )


@pytest.mark.parametrize(
    ("child", "field"),
    [
        # A code written twice in the child's list (merging would fold the two entries).
        (PLACE + '[[policy.places]]\ncode = 110000\nname = "Beijing"\n', None),
        # The child's second entry is the merged list's fourth (the parent's two come first).
        (PLACE + '[[policy.places]]\ncode = 310000\nname = "北京市"\n', "policy.places[1].name"),
        (
            '[[timeline.2017.places]]\ncode = 110000\nname = "上海市"\n',
            "timeline.2017.places[0].name",
        ),
        # The child renames an entry of its parent: the name is the child's, at its position.
        (
            '[[timeline.2017.places]]\ncode = 310000\nname = "北京市"\n',
            "timeline.2017.places[0].name",
        ),
    ],
)
def test_a_place_mistake_is_reported_at_its_position_in_the_file_that_wrote_it(
    tmp_path: Path, child: str, field: str | None
) -> None:
    _, path = _family(tmp_path, PARENT, child)
    if field is None:  # a code written twice in one file is refused as before
        assert problems_of(path) == [("policy.places[1].code", "code 110000 is addressed twice")]
        return
    with pytest.raises(ScenarioError) as exc:
        load_scenario(path)
    assert exc.value.problems == [(field, exc.value.problems[0][1])]
    assert exc.value.files == [str(path)]
    assert f"{path}: {field}: code " in str(exc.value)


def test_a_mistake_of_the_extended_file_is_reported_in_that_file(tmp_path: Path) -> None:
    parent, path = _family(tmp_path, PARENT.replace('name = "深圳市"', 'name = "广州市"'), PLACE)
    with pytest.raises(ScenarioError) as exc:
        load_scenario(path)
    [(field, reason)] = exc.value.problems
    assert (field, exc.value.files) == ("policy.places[1].name", [str(parent)])
    assert reason == "code 440300 is '深圳市' in the census world, not '广州市'"


def test_a_field_the_child_does_not_write_is_reported_in_the_parent(tmp_path: Path) -> None:
    """The child updates Shanghai's settlement; the wrong population cap is the parent's."""
    bad_cap = PARENT + "population_cap = { residents = 2.5e7, trigger = 1.5 }\n"
    child = (
        '[[timeline.2017.places]]\ncode = 310000\nname = "上海市"\nsettlement = { rule = "open" }\n'
    )
    parent, path = _family(tmp_path, bad_cap, PLACE + child)
    with pytest.raises(ScenarioError) as exc:
        load_scenario(path)
    [(field, _)] = exc.value.problems
    assert (field, exc.value.files) == (
        "timeline.2017.places[0].population_cap.trigger",
        [str(parent)],
    )


def test_urbsim_check_names_the_users_file_and_entry_on_one_error_line(tmp_path: Path) -> None:
    child = PLACE + '[[policy.places]]\ncode = 310000\nname = "北京市"\n'
    _, path = _family(tmp_path, PARENT, child)
    result = CliRunner().invoke(app, ["check", str(path)])
    assert result.exit_code == 2, result.output
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1 and "Traceback" not in result.output
    expected = "policy.places[1].name: code 310000 is '上海市' or 'Shanghai' in the census world"
    assert f"{path}: {expected}" in result.stderr
