"""Sweep files: strict validation with file, field and reason; designs; run seeds."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sweep_helpers import GRID, MORRIS, write_sweep

from urbsim.scenario import load_scenario
from urbsim.sweep import build_design, load_sweep, run_seed, run_table
from urbsim.sweep.driver import run_command
from urbsim.sweep.spec import (
    NATIONAL_COLUMNS,
    PLACE_COLUMNS,
    SweepError,
    scenario_field,
    toml_value,
)

#: name: (change to the GRID sweep, fragments of the field, fragments of the reason)
BAD: dict[str, tuple[tuple[str, str], str, str]] = {
    "unknown key": (
        ("replications = 2", "replications = 2\nreplicatoins = 3"),
        "replicatoins",
        "unknown key",
    ),
    "quoted number": (("seed = 11", 'seed = "11"'), "seed", "integer"),
    "bad parameter name": (
        ('"behaviour.move_base"', '"behaviour.move_bas"'),
        "design.parameters.0.name",
        "'move_bas' is not a field of behaviour",
    ),
    "non-numeric field": (
        ('"behaviour.move_base"', '"policy.service_funding_base"'),
        "design.parameters.0.name",
        "not a number",
    ),
    "seed as a parameter": (
        ('"behaviour.move_base"', '"seed"'),
        "design.parameters.0.name",
        "run seeds derive from the sweep's seed",
    ),
    "list field": (
        ('"behaviour.move_base"', '"behaviour.move_age"'),
        "design.parameters.0.name",
        "not a number",
    ),
    "value out of range": (
        ("values = [0.1, 0.3]", "values = [0.1, 1.5]"),
        "design.parameters.0.values.1",
        "outside behaviour.move_base's range [0, 1]",
    ),
    "float for an int field": (
        ("values = [0, 12]", "values = [0, 2.5]"),
        "design.parameters.1.values.1",
        "is an integer",
    ),
    "grid without values": (
        ("values = [0.1, 0.3]", "low = 0.1\nhigh = 0.3"),
        "design.parameters.0",
        "",
    ),
    "unknown national column": (
        ('national = ["urbanization_rate", "service_gap"]', 'national = ["urbanisation"]'),
        "outputs.national.0",
        "not a national column",
    ),
    "metric year outside the run": (
        ("year = 2012 }", "year = 2035 }"),
        "outputs.metrics.urb.year",
        "outside the run",
    ),
    "analysis of a grid": (
        ("[outputs]", '[analysis]\nmetrics = ["urb"]\n\n[outputs]'),
        "analysis",
        "sobol or morris",
    ),
    "missing base": (('base = "scenario.toml"', 'base = "nowhere.toml"'), "base", "file not found"),
    "bad set": (
        ("replications = 2", "replications = 2\n[set]\nbehaviour.move_bse = 0.1"),
        "set",
        "unknown key",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_invalid_sweeps_name_file_field_and_reason(tmp_path: Path, case: str) -> None:
    (old, new), field, reason = BAD[case]
    assert old in GRID
    path = write_sweep(tmp_path, GRID.replace(old, new, 1))
    with pytest.raises(SweepError) as info:
        load_sweep(path)
    message = str(info.value)
    assert str(path) in message
    assert field in message and reason in message, message


BAD_RANGES: dict[str, tuple[str, str, str]] = {
    "low above high": ("low = 0.07\nhigh = 0.21", "low = 0.3\nhigh = 0.2", "must be above low"),
    "bound outside the schema": ("low = 0.07\nhigh = 0.21", "low = -0.1\nhigh = 0.2", "outside"),
    "missing high": ("low = 0.07\nhigh = 0.21", "low = 0.07", "needs high"),
    "values in a morris design": ("low = 0.07\nhigh = 0.21", "values = [0.1]", "not values"),
    "unbounded dist for morris": (
        "low = 0.07\nhigh = 0.21",
        'dist = "norm"\nmean = 0.14\nsd = 0.02',
        "bounded distribution",
    ),
    "odd levels": ("levels = 4", "levels = 3", "even"),
}


@pytest.mark.parametrize("case", sorted(BAD_RANGES))
def test_invalid_ranges(tmp_path: Path, case: str) -> None:
    old, new, reason = BAD_RANGES[case]
    path = write_sweep(tmp_path, MORRIS.replace(old, new, 1))
    with pytest.raises(SweepError, match=reason):
        load_sweep(path)


def test_every_design_point_is_validated_before_anything_runs(tmp_path: Path) -> None:
    # end_year 2011 is a valid number, but the scenario's 2011 timeline is then... still inside;
    # start_year 2012 is not: end_year must be after start_year.
    text = GRID.replace('"behaviour.move_base"', '"start_year"').replace(
        "values = [0.1, 0.3]", "values = [2010, 2012]"
    )
    path = write_sweep(tmp_path, text)
    spec = load_sweep(path)
    with pytest.raises(SweepError, match=r"design point 2 \(start_year=2012.*end_year"):
        build_design(spec)
    assert not (tmp_path / "out").exists()


def test_scenario_fields() -> None:
    f = scenario_field("behaviour.move_base")
    assert not f.integer and f.admits(0.0) and f.admits(1.0) and not f.admits(1.01)
    f = scenario_field("timeline.2024.settlement.mega.min_years")
    assert f.integer and f.admits(0) and not f.admits(-1)
    assert scenario_field("world.households_per_agent").lower_open
    assert not scenario_field("demography.birth_rate.2030").integer
    for bad in ("behaviour", "timeline.x.permit.enabled", "policy.permit.enabled", "seedx"):
        with pytest.raises(ValueError):
            scenario_field(bad)


@given(st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(2**62), 2**62))
def test_toml_values_read_back_exactly(value: float | int) -> None:
    back = tomllib.loads(f"v = {toml_value(value)}")["v"]
    assert back == value and type(back) is type(value)


def test_run_seeds_are_stable_unique_and_spawn_equivalent() -> None:
    seeds = {run_seed(11, p, r) for p in range(200) for r in range(5)}
    assert len(seeds) == 1000
    assert all(0 <= s < 2**63 for s in seeds)
    assert run_seed(12, 0, 0) != run_seed(11, 0, 0)
    child = np.random.SeedSequence(11).spawn(4)[3].spawn(2)[1]
    assert run_seed(11, 3, 1) == int(child.generate_state(1, np.uint64)[0] >> np.uint64(1))


def test_run_seed_pinned() -> None:
    # A change of derivation would silently change the runs of every published sweep.
    assert run_seed(7, 1, 1) == 178759216615823961


def test_grid_design_and_run_table(tmp_path: Path) -> None:
    spec = load_sweep(write_sweep(tmp_path))
    design = build_design(spec)
    assert design.table.columns.tolist() == [
        "point",
        "behaviour.move_base",
        "timeline.2011.permit.min_residence_months",
    ]
    assert design.table["behaviour.move_base"].tolist() == [0.1, 0.1, 0.3, 0.3]
    assert design.table["timeline.2011.permit.min_residence_months"].tolist() == [0, 12, 0, 12]
    assert design.table["timeline.2011.permit.min_residence_months"].dtype == np.int64
    runs = run_table(spec, design)
    assert runs["run"].tolist() == list(range(8))
    assert runs["point"].tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    assert runs["replication"].tolist() == [0, 1] * 4
    assert runs["seed"].tolist() == [run_seed(11, p, r) for p in range(4) for r in range(2)]


def test_sampled_design_is_deterministic_and_rounds_int_fields(tmp_path: Path) -> None:
    text = MORRIS.replace('"behaviour.beta_income"', '"timeline.2011.permit.min_residence_months"')
    text = text.replace("low = 0.8\nhigh = 2.4", "low = 0\nhigh = 11")
    spec = load_sweep(write_sweep(tmp_path, text))
    a, b = build_design(spec), build_design(spec)
    assert a.table.equals(b.table)
    col = a.table["timeline.2011.permit.min_residence_months"]
    assert col.dtype == np.int64 and set(col) <= set(range(12))
    assert a.sampled is not None and a.sampled.shape == (6, 2)


def test_command_reproduces_the_run_scenario(tmp_path: Path) -> None:
    spec = load_sweep(write_sweep(tmp_path))
    design = build_design(spec)
    seed = run_seed(11, 3, 1)
    cmd = run_command(spec.base_path, [*spec.overrides, *design.overrides[3]], seed, tmp_path)
    assert cmd.startswith(f"urbsim run scenario.toml --seed {seed} --set ")
    args = cmd.split()
    sets = [args[i + 1] for i, a in enumerate(args) if a == "--set"]
    loaded = load_scenario(spec.base_path, overrides=sets, seed=seed)
    assert loaded.scenario.behaviour.move_base == 0.3
    assert loaded.policy(2012).permit.min_residence_months == 12
    assert loaded.scenario.seed == seed


def test_known_columns_match_a_real_run(small_scenario) -> None:
    from urbsim.runner import simulate

    result = simulate(small_scenario(end_year=2011))
    assert list(NATIONAL_COLUMNS) == [c for c in result.national.columns if c != "year"]
    numeric = result.places.select_dtypes("number").columns
    # size_class_code is derived from the size_class name column when a sweep keeps it.
    assert "size_class" in result.places.columns
    assert set(PLACE_COLUMNS) - {"size_class_code"} == set(numeric) - {
        "year",
        "place_id",
        "province_code",
        "prefecture_code",
        "lon",
        "lat",
    }
