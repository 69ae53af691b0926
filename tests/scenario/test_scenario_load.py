"""Loading scenarios: defaults, ``extends``, ``--set`` overrides, errors that name the file, the
dotted field and the reason, the policy timeline and the scenario hash."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from urbsim.scenario import LoadedScenario, Policy, Scenario, ScenarioError, load_scenario, validate
from urbsim.scenario.load import (
    apply_overrides,
    deep_merge,
    parse_override,
    unreached_timeline_years,
)

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "scenarios").rglob("*.toml"))
BASELINE = ROOT / "scenarios" / "baseline.toml"

SHORT = """\
name = "short"
start_year = 2010
end_year = 2016
seed = 5

[world]
households_per_agent = 40000.0
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(exc: pytest.ExceptionInfo[ScenarioError]) -> dict[str, str]:
    return dict(exc.value.problems)


def assert_error(
    exc: pytest.ExceptionInfo[ScenarioError], source: Path | str, field: str, *reason: str
) -> None:
    """The error names the file, the dotted field and the reason, in the message too."""
    err = exc.value
    assert err.source == str(source)
    fields = problems_of(exc)
    assert field in fields, fields
    for fragment in reason:
        assert fragment in fields[field], (fragment, fields[field])
    message = str(err)
    assert str(source) in message
    assert f"{field or '(top level)'}: " in message


# --- defaults ----------------------------------------------------------------------------------
def test_defaults_validate() -> None:
    loaded = validate({})
    assert isinstance(loaded, LoadedScenario)
    s = loaded.scenario
    assert s == Scenario()
    assert (s.start_year, s.end_year, s.world.name) == (2010, 2035, "china-synthetic")
    assert sorted(loaded.policies) == list(range(2010, 2036))
    assert all(p == s.policy for p in loaded.policies.values())
    assert loaded.source == "<dict>"
    # The hash is of the canonical JSON of the resolved scenario (sorted keys, no spaces).
    canonical = json.dumps(s.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    assert loaded.sha256 == hashlib.sha256(canonical.encode()).hexdigest()


def test_empty_file_validates_to_defaults(tmp_path: Path) -> None:
    loaded = load_scenario(write(tmp_path, "empty.toml", ""))
    assert loaded.scenario == Scenario()
    assert loaded.source == str((tmp_path / "empty.toml").resolve())


def test_scenario_is_frozen() -> None:
    s = validate({}).scenario
    with pytest.raises(Exception, match="frozen"):
        s.seed = 3  # type: ignore[misc]


# --- extends -----------------------------------------------------------------------------------
def test_extends_merges_tables_key_by_key(tmp_path: Path) -> None:
    write(
        tmp_path,
        "base.toml",
        SHORT
        + """
[behaviour]
move_base = 0.2
beta_income = 2.0

[policy.permit]
enabled = true
access = [0.5, 0.6]

[timeline.2012.permit]
min_residence_months = 12
""",
    )
    child = write(
        tmp_path,
        "child.toml",
        """\
extends = "base.toml"
name = "child"

[behaviour]
beta_income = 1.0

[policy.permit]
access = [0.9]

[timeline.2014.settlement]
small = { rule = "open", min_years = 0 }
""",
    )
    s = load_scenario(child).scenario
    assert s.name == "child"
    assert (s.seed, s.end_year, s.world.households_per_agent) == (5, 2016, 40000.0)
    assert s.behaviour.move_base == 0.2  # from the parent
    assert s.behaviour.beta_income == 1.0  # the child wins
    assert s.policy.permit.enabled is True  # tables merge key by key
    assert s.policy.permit.access == [0.9]  # lists replace
    assert set(s.timeline) == {"2012", "2014"}


def test_extends_chain_with_relative_paths(tmp_path: Path) -> None:
    write(tmp_path, "common/root.toml", SHORT + "\n[behaviour]\nmove_base = 0.3\n")
    write(tmp_path, "common/mid.toml", 'extends = "root.toml"\n[behaviour]\nmoving_cost = 1.5\n')
    leaf = write(tmp_path, "runs/leaf.toml", 'extends = "../common/mid.toml"\nseed = 9\n')
    s = load_scenario(leaf).scenario
    assert (s.behaviour.move_base, s.behaviour.moving_cost, s.seed) == (0.3, 1.5, 9)
    assert s.name == "short"


def test_extends_the_baseline(tmp_path: Path) -> None:
    shutil.copy(BASELINE, tmp_path / "baseline.toml")
    variant = write(
        tmp_path,
        "variant.toml",
        'extends = "baseline.toml"\nname = "variant"\n[timeline.2016.permit]\nenabled = false\n',
    )
    loaded = load_scenario(variant)
    assert loaded.scenario.name == "variant"
    assert loaded.policy(2016).permit.enabled is False
    assert loaded.policy(2016).permit.min_residence_months == 6  # the rest of 2016 kept
    assert loaded.policy(2016).service_funding_base == "permanent"


@pytest.mark.parametrize("n", [1, 2, 3])
def test_cycle_in_extends_is_an_error(tmp_path: Path, n: int) -> None:
    names = [f"s{i}.toml" for i in range(n)]
    for i, name in enumerate(names):
        write(tmp_path, name, f'extends = "{names[(i + 1) % n]}"\n')
    start = (tmp_path / names[0]).resolve()
    with pytest.raises(ScenarioError) as exc:
        load_scenario(start)
    assert_error(exc, start, "extends", "cycle")


def test_missing_parent_names_the_child(tmp_path: Path) -> None:
    child = write(tmp_path, "child.toml", 'extends = "nowhere.toml"\n').resolve()
    with pytest.raises(ScenarioError) as exc:
        load_scenario(child)
    assert_error(exc, child, "extends", "file not found", "nowhere.toml")


def test_extends_must_be_a_string(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.toml", "extends = 3\n").resolve()
    with pytest.raises(ScenarioError) as exc:
        load_scenario(path)
    assert_error(exc, path, "extends", "must be a file name")


# --- overrides -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("item", "keys", "value"),
    [
        ("seed=3", ["seed"], 3),
        ("behaviour.move_base=0.25", ["behaviour", "move_base"], 0.25),
        ("policy.permit.enabled=true", ["policy", "permit", "enabled"], True),
        ("behaviour.move_age=[1.0, 1.0, 0.5, 0.2]", ["behaviour", "move_age"], [1, 1, 0.5, 0.2]),
        ('name="quoted name"', ["name"], "quoted name"),
        ("name=bare words", ["name"], "bare words"),
        ("engine=numba", ["engine"], "numba"),
        (" world.name = census ", ["world", "name"], "census"),
        (
            "policy.settlement.small={ rule = 'open' }",
            ["policy", "settlement", "small"],
            {"rule": "open"},
        ),
    ],
)
def test_parse_override(item: str, keys: list[str], value: object) -> None:
    got_keys, got_value = parse_override(item)
    assert got_keys == keys
    assert got_value == value
    assert type(got_value) is type(value) or isinstance(value, list)


@pytest.mark.parametrize("item", ["policy.permit.enabled", "=3", "a..b=1", ".a=1", "a.=1"])
def test_malformed_override(item: str) -> None:
    with pytest.raises(ScenarioError) as exc:
        parse_override(item)
    assert_error(exc, "--set", item, "expected dotted.key=value")


def test_override_into_a_value_that_is_not_a_table() -> None:
    with pytest.raises(ScenarioError) as exc:
        apply_overrides({"name": "x"}, ["name.first=1"])
    assert_error(exc, "--set", "name.first=1", "'name' is not a table")


def test_overrides_apply_after_extends_and_fields_last(tmp_path: Path) -> None:
    write(tmp_path, "base.toml", SHORT + "\n[behaviour]\nmove_base = 0.2\n")
    child = write(tmp_path, "child.toml", 'extends = "base.toml"\n[behaviour]\nmove_base = 0.3\n')
    loaded = load_scenario(
        child,
        overrides=[
            "behaviour.move_base=0.4",
            "policy.permit.enabled=true",
            "name=my run",
            "seed=8",
        ],
        seed=10,
        end_year=None,  # None means "not given"
    )
    s = loaded.scenario
    assert s.behaviour.move_base == 0.4
    assert s.policy.permit.enabled is True
    assert s.name == "my run"
    assert s.seed == 10
    assert s.end_year == 2016


def test_override_with_a_value_of_the_wrong_type(tmp_path: Path) -> None:
    path = write(tmp_path, "s.toml", SHORT).resolve()
    with pytest.raises(ScenarioError) as exc:
        load_scenario(path, overrides=["policy.permit.enabled=yes"])
    assert_error(exc, path, "policy.permit.enabled", "boolean", "'yes'")


def test_overrides_do_not_touch_the_input() -> None:
    data = {"behaviour": {"move_base": 0.1}}
    out = apply_overrides(data, ["behaviour.move_base=0.2"])
    assert data == {"behaviour": {"move_base": 0.1}}
    assert out == {"behaviour": {"move_base": 0.2}}
    base = {"a": {"b": 1, "c": [1]}}
    merged = deep_merge(base, {"a": {"c": [2]}, "d": 1})
    assert merged == {"a": {"b": 1, "c": [2]}, "d": 1}
    assert base == {"a": {"b": 1, "c": [1]}}


# --- errors carry file, dotted path and reason ---------------------------------------------------
BAD_FILES = {
    "typo": (SHORT + "\n[behaviour]\nmove_bse = 0.1\n", "behaviour.move_bse", ["unknown key"]),
    "typo in a table": (
        SHORT + "\n[policy.permits]\nenabled = true\n",
        "policy.permits",
        ["unknown key"],
    ),
    "wrong type": (
        SHORT.replace("end_year = 2016", 'end_year = "2016"'),
        "end_year",
        ["integer", "'2016'"],
    ),
    "quoted number": (
        SHORT.replace("40000.0", '"40000.0"'),
        "world.households_per_agent",
        ["number", "'40000.0'"],
    ),
    "out of range": (
        SHORT + "\n[behaviour]\nmove_base = 1.5\n",
        "behaviour.move_base",
        ["less than or equal to 1", "1.5"],
    ),
    "negative years": (
        SHORT + "\n[policy.settlement]\nsmall = { rule = 'open', min_years = -1 }\n",
        "policy.settlement.small.min_years",
        ["greater than or equal"],
    ),
    "bad rule": (
        SHORT + "\n[policy.settlement]\nsmall = { rule = 'lottery' }\n",
        "policy.settlement.small.rule",
        ["lottery"],
    ),
    "shares": (
        SHORT + "\n[policy.county_town]\nshare_jobs = 0.5\n",
        "policy.county_town",
        ["must be 1"],
    ),
    "years": (
        SHORT.replace("end_year = 2016", "end_year = 2010"),
        "",
        ["end_year (2010) must be after start_year (2010)"],
    ),
    "series key": (
        SHORT + "\n[demography.birth_rate]\nsoon = 10.0\n",
        "demography",
        ["not a year"],
    ),
    "timeline start year": (
        SHORT + "\n[timeline.2010.permit]\nenabled = true\n",
        "timeline.2010",
        ["outside the run", "after start_year (2010)"],
    ),
    "timeline before the start": (
        SHORT + "\n[timeline.2005.permit]\nenabled = true\n",
        "timeline.2005",
        ["outside the run"],
    ),
    # Entries after end_year are not reached, but still checked: a mistake in the file is one
    # whatever the length of the run.
    "timeline typo after the end": (
        SHORT + "\n[timeline.2020.permit]\nenabld = true\n",
        "timeline.2020.permit.enabld",
        ["unknown key"],
    ),
    "timeline value after the end": (
        SHORT + "\n[timeline.2030.permit]\naccess = [1.5]\n",
        "timeline.2030.permit",
        ["access shares must be in [0, 1]"],
    ),
    "timeline key after the end": (
        SHORT + "\n[timeline.02020.permit]\nenabled = true\n",
        "timeline.02020",
        ["must be years", "write 2020"],
    ),
    "timeline key": (
        SHORT + "\n[timeline.next.permit]\nenabled = true\n",
        "timeline.next",
        ["must be years"],
    ),
    "timeline value": (
        SHORT + "\n[timeline.2012.permit]\nmin_residence_months = -6\n",
        "timeline.2012.permit.min_residence_months",
        ["greater than or equal"],
    ),
    "timeline type": (
        SHORT + "\n[timeline.2013]\nservice_funding_base = 'everyone'\n",
        "timeline.2013.service_funding_base",
        ["everyone"],
    ),
    "timeline typo": (
        SHORT + "\n[timeline.2012.permit]\nenabld = true\n",
        "timeline.2012.permit.enabld",
        ["unknown key"],
    ),
    "timeline validator": (
        SHORT + "\n[timeline.2012.permit]\naccess = [1.5]\n",
        "timeline.2012.permit",
        ["access shares must be in [0, 1]"],
    ),
    "world name": (SHORT.replace("[world]", '[world]\nname = "mars"'), "world.name", ["'mars'"]),
    "synthetic with file": (
        SHORT.replace("[world]", '[world]\nworld_file = "w.parquet"'),
        "world",
        ["takes no world_file"],
    ),
    "census file missing": (
        SHORT.replace("[world]", '[world]\nname = "census"\nworld_file = "no.parquet"'),
        "world.world_file",
        ["file not found", "no.parquet"],
    ),
    "not toml": ("name = \n", "", ["not valid TOML"]),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_errors_name_file_field_and_reason(tmp_path: Path, case: str) -> None:
    text, field, reason = BAD_FILES[case]
    path = write(tmp_path, "bad.toml", text).resolve()
    with pytest.raises(ScenarioError) as exc:
        load_scenario(path)
    assert_error(exc, path, field, *reason)


def test_missing_file(tmp_path: Path) -> None:
    path = (tmp_path / "absent.toml").resolve()
    with pytest.raises(ScenarioError) as exc:
        load_scenario(path)
    assert_error(exc, path, "", "file not found")


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    text = SHORT + "\n[behaviour]\nmove_bse = 0.1\nmove_base = 2.0\ncandidates = 0\n"
    path = write(tmp_path, "bad.toml", text).resolve()
    with pytest.raises(ScenarioError) as exc:
        load_scenario(path)
    assert {"behaviour.move_bse", "behaviour.move_base", "behaviour.candidates"} <= set(
        problems_of(exc)
    )


def test_census_world_file_is_relative_to_the_scenario(tmp_path: Path) -> None:
    write(tmp_path, "data/world.parquet", "not really parquet")
    path = write(
        tmp_path,
        "runs/s.toml",
        SHORT.replace("[world]", '[world]\nname = "census"\nworld_file = "../data/world.parquet"'),
    )
    loaded = load_scenario(path)
    assert loaded.scenario.world.world_file == str((tmp_path / "data/world.parquet").resolve())


def test_census_world_without_a_file_is_the_packaged_world(tmp_path: Path) -> None:
    """``world.name = "census"`` alone names the census world packaged with urbsim."""
    path = write(tmp_path, "s.toml", SHORT.replace("[world]", '[world]\nname = "census"'))
    assert load_scenario(path).scenario.world.world_file is None


def test_validate_reports_its_source() -> None:
    with pytest.raises(ScenarioError) as exc:
        validate({"behaviour": {"move_bse": 1}}, source="from-a-test")
    assert_error(exc, "from-a-test", "behaviour.move_bse", "unknown key")
    assert isinstance(exc.value, ValueError)


# --- the policy timeline -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def baseline() -> LoadedScenario:
    return load_scenario(BASELINE)


def test_baseline_2019_change_in_force_from_2019_to_2035(baseline: LoadedScenario) -> None:
    for year in range(2010, 2036):
        policy = baseline.policy(year)
        assert isinstance(policy, Policy)
        large_ii = policy.settlement.large_ii
        poles = policy.growth_poles.rule
        if year < 2014:
            assert (large_ii.rule, large_ii.min_years) == ("points", 3), year
        elif year < 2019:
            assert (large_ii.rule, large_ii.min_years) == ("conditional", 3), year
        else:
            assert (large_ii.rule, large_ii.min_years) == ("open", 0), year
        assert poles == ("none" if year < 2019 else "capitals_and_super_mega"), year


def test_baseline_timeline_year_by_year(baseline: LoadedScenario) -> None:
    p = baseline.policy
    assert [p(y).permit.enabled for y in (2010, 2015, 2016, 2035)] == [False, False, True, True]
    assert p(2015).service_funding_base == "registered"
    assert p(2016).service_funding_base == "permanent"
    # A patch that changes one key of a rule keeps the others.
    assert p(2018).settlement.super_large.quota_per_10k == 4.8
    assert p(2019).settlement.super_large.quota_per_10k == 4.3
    assert p(2023).settlement.super_large.quota_per_10k == 4.3
    assert p(2024).settlement.super_large.quota_per_10k == 6.0
    assert p(2024).settlement.super_large.min_years == 5
    assert [p(y).settlement.small.rule for y in (2013, 2014)] == ["conditional", "open"]
    assert [p(y).renewal.households_per_year for y in (2019, 2020, 2021, 2022, 2035)] == [
        0.0,
        7.36e6,
        9.65e6,
        8.76e6,
        8.76e6,
    ]
    # Partial programme tables keep the defaults of the keys they do not set.
    assert p(2020).county_town.budget == 100.0
    assert p(2020).county_town.share_services == 0.4
    assert p(2019).county_town.budget == 0.0
    with pytest.raises(KeyError):
        p(2036)
    with pytest.raises(KeyError):
        p(2009)


def test_timeline_entries_after_end_year_are_not_reached() -> None:
    """A run stopped early (``--set end_year=2013``) keeps its timeline: later entries are
    validated but never in force, and are listed as unreached."""
    timeline = {
        "2012": {"permit": {"enabled": True}},
        "2014": {"permit": {"min_residence_months": 12}},
        "2020": {"service_funding_base": "permanent"},
    }
    short = validate({"end_year": 2013, "timeline": timeline})
    full = validate({"end_year": 2020, "timeline": timeline})
    assert sorted(short.policies) == list(range(2010, 2014))
    assert all(short.policy(y) == full.policy(y) for y in range(2010, 2014))
    assert short.policy(2013).permit.min_residence_months == 6
    assert unreached_timeline_years(short.scenario) == [2014, 2020]
    assert unreached_timeline_years(full.scenario) == []
    # An entry in the last year is reached.
    assert unreached_timeline_years(
        validate({"end_year": 2014, "timeline": timeline}).scenario
    ) == [2020]


def test_timeline_patches_accumulate() -> None:
    loaded = validate(
        {
            "end_year": 2016,
            "timeline": {
                "2012": {"permit": {"enabled": True, "access": [0.4]}},
                "2014": {"permit": {"min_residence_months": 12}},
            },
        }
    )
    p = loaded.policy
    assert (p(2011).permit.enabled, p(2012).permit.enabled) == (False, True)
    assert p(2013).permit.access == [0.4]
    assert p(2014).permit.access == [0.4]
    assert (p(2013).permit.min_residence_months, p(2014).permit.min_residence_months) == (6, 12)
    assert p(2016) == p(2014)


# --- the scenario hash -------------------------------------------------------------------------
def test_hash_is_stable(tmp_path: Path, baseline: LoadedScenario) -> None:
    assert load_scenario(BASELINE).sha256 == baseline.sha256
    # The same scenario elsewhere, or with keys in another order, hashes the same.
    copy = tmp_path / "copy.toml"
    shutil.copy(BASELINE, copy)
    assert load_scenario(copy).sha256 == baseline.sha256
    a = validate({"seed": 3, "behaviour": {"move_base": 0.2, "beta_income": 1.0}})
    b = validate({"behaviour": {"beta_income": 1.0, "move_base": 0.2}, "seed": 3})
    assert a.sha256 == b.sha256
    # Spelling a default out does not change the scenario.
    assert validate({"seed": Scenario().seed}).sha256 == validate({}).sha256


@pytest.mark.parametrize(
    "override",
    [
        "seed=1",
        "end_year=2034",
        "name=other",
        "description=other",
        "behaviour.move_base=0.15",
        "world.households_per_agent=401.0",
        "policy.permit.access=[0.5, 0.65, 0.75, 0.85]",
        "timeline.2030.permit.enabled=false",
    ],
)
def test_hash_is_sensitive(baseline: LoadedScenario, override: str) -> None:
    assert load_scenario(BASELINE, overrides=[override]).sha256 != baseline.sha256


# --- the scenario files ------------------------------------------------------------------------
def test_there_are_scenario_files() -> None:
    assert BASELINE in SCENARIOS


@pytest.mark.parametrize(
    "path", SCENARIOS, ids=[str(p.relative_to(ROOT / "scenarios")) for p in SCENARIOS]
)
def test_every_scenario_file_validates(path: Path) -> None:
    # Validation only. The census scenarios use the census world packaged with urbsim, whose
    # codes and names their rules of named places are checked against.
    loaded = load_scenario(path)
    s = loaded.scenario
    assert sorted(loaded.policies) == list(range(s.start_year, s.end_year + 1))


# --- known gaps --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "series",
    [{}, {"soon": 0.05}, {"2010": float("nan")}, {"2010": -5.0}],
    ids=["empty", "not-a-year", "nan", "below-minus-one"],
)
def test_wage_growth_series_is_checked(series: dict[str, float]) -> None:
    with pytest.raises(ScenarioError) as exc:
        validate({"economy": {"wage_growth": series}})
    assert any(field.startswith("economy") for field, _ in exc.value.problems)


def test_relative_world_file_is_relative_to_the_file_that_names_it(tmp_path: Path) -> None:
    (tmp_path / "worlds").mkdir()
    world = tmp_path / "worlds" / "w.parquet"
    world.write_bytes(b"")
    (tmp_path / "scen").mkdir()
    (tmp_path / "scen" / "sub").mkdir()
    (tmp_path / "scen" / "parent.toml").write_text(
        '[world]\nname = "census"\nworld_file = "../worlds/w.parquet"\n'
    )
    child = tmp_path / "scen" / "sub" / "child.toml"
    child.write_text('extends = "../parent.toml"\nname = "child"\n')
    loaded = load_scenario(child)
    assert Path(loaded.scenario.world.world_file) == world.resolve()
