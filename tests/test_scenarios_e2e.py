"""Every scenario file (``scenarios/**/*.toml``) runs end to end at small scale.

The scenarios run over their whole horizon: the loader rejects timeline years after
``end_year``, so a scenario with a policy timeline cannot be cut to ``start_year + 3`` by an
override, and at about 10,000 agents a 25-year run takes about a second anyway (and exercises
every timeline change). Scenarios on the census world run on the world built from the shared
census files (the ``world_file`` fixture), and are skipped where those files are absent.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from urbsim.model import UrbanizationModel
from urbsim.scenario import load_scenario
from urbsim.scenario.load import read_toml, unreached_timeline_years

#: End-to-end runs, sweeps or subprocesses: outside `make test-fast`.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((ROOT / "scenarios").rglob("*.toml"))
IDS = [str(p.relative_to(ROOT / "scenarios").with_suffix("")) for p in SCENARIOS]
SMALL = ["world.households_per_agent=40000.0"]


def _small(path: Path, request: pytest.FixtureRequest) -> list[str]:
    """Overrides for a small run; census-world scenarios get the session's census world file."""
    world = read_toml(path.resolve(), ()).get("world", {})
    if world.get("name") != "census":
        return list(SMALL)
    world_file = request.getfixturevalue("world_file")
    return [*SMALL, f'world.world_file="{world_file}"']


def test_scenarios_exist() -> None:
    assert SCENARIOS, "no scenarios/*.toml"


@pytest.mark.parametrize("path", SCENARIOS, ids=IDS)
def test_scenario_runs_end_to_end(path: Path, request: pytest.FixtureRequest) -> None:
    loaded = load_scenario(path, overrides=_small(path, request))
    s = loaded.scenario
    model = UrbanizationModel(loaded)
    model.run()
    assert model.year == s.end_year
    years = list(range(s.start_year, s.end_year + 1))

    nat = model.national_table()
    assert nat["year"].tolist() == years
    assert np.isfinite(nat.select_dtypes("number").to_numpy()).all()
    for col in ("urbanization_rate", "hukou_urbanization_rate", "service_gap"):
        assert nat[col].between(0.0, 1.0).all(), col
    assert (nat["residents"] > 0).all()
    assert (nat["floating_population"] >= 0).all() and (nat["hukou_conversions"] >= 0).all()

    places = model.places_table()
    assert len(places) == len(years) * model.n_places
    assert np.isfinite(places.select_dtypes("number").to_numpy()).all()
    assert (places["urban_residents"] <= places["residents"]).all()
    np.testing.assert_allclose(
        places.groupby("year")["residents"].sum().to_numpy(), nat["residents"].to_numpy()
    )


@pytest.mark.parametrize("path", SCENARIOS, ids=IDS)
def test_scenario_short_run_when_its_timeline_allows(
    path: Path, request: pytest.FixtureRequest
) -> None:
    """``end_year = start_year + 3`` by override, as a quick check would set it: the run stops
    there, and the timeline entries after that year are listed as not reached."""
    small = _small(path, request)
    full = load_scenario(path, overrides=small).scenario
    short_end = full.start_year + 3
    overrides = [*small, f"end_year={short_end}"]
    late = sorted(int(k) for k in full.timeline if k.isdigit() and int(k) > short_end)
    short = load_scenario(path, overrides=overrides)
    assert unreached_timeline_years(short.scenario) == late
    model = UrbanizationModel(short)
    model.run()
    nat = model.national_table()
    assert len(nat) == 4
    assert np.isfinite(nat.select_dtypes("number").to_numpy()).all()
