"""The census world packaged with urbsim: present, documented, and equal to a fresh build.

``urbsim/data/census_2010.parquet`` is what ``world.name = "census"`` reads without a
``world_file`` (``urbsim run china_census`` from an installed wheel). It must be the table that
``urbsim world build`` makes from the census county file, so that runs on it equal runs on a
world built locally: compared here with the session's build from ``../shared/data/census``.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from urbsim.model import UrbanizationModel
from urbsim.scenario import load_scenario
from urbsim.scenario.registry import scenario_dir
from urbsim.world.census import load_census_world, packaged_world_path, read_world_file

DATA_README = packaged_world_path().parent / "README.md"
#: Well under the 2 MiB budget of package data.
MAX_BYTES = 1 << 20
#: sha256 of the upstream county file (the census README's checksum).
XLSX_SHA256 = "fccd3f094d1c8b7e404c8453add123826c53bc44cb85c65f6406d8e61f3f5d0b"


def test_packaged_world_is_small_and_its_checksum_is_documented() -> None:
    raw = packaged_world_path().read_bytes()
    assert len(raw) < MAX_BYTES
    row = re.search(
        r"\| `census_2010\.parquet` \| 2,870 \| ([\d,]+) \| `([0-9a-f]{64})` \|",
        DATA_README.read_text(),
    )
    assert row is not None, "urbsim/data/README.md lacks the census_2010.parquet row"
    assert int(row[1].replace(",", "")) == len(raw)
    assert row[2] == hashlib.sha256(raw).hexdigest()


def test_packaged_world_names_its_source_and_no_local_path() -> None:
    _, report = read_world_file(packaged_world_path())
    assert report["xlsx_sha256"] == XLSX_SHA256
    # Built in the data folder: the report names the inputs, not a machine's folders.
    assert report["xlsx"] == "census_county_2010_v1.xlsx"
    assert report["centroids"] == "prefecture_centroids.csv"
    text = DATA_README.read_text()
    assert "Dong, Rui Du and Yu Liu" in text and "MIT License" in text


@pytest.mark.slow  # builds the census world from the county file
def test_packaged_world_equals_a_fresh_build(world_file: Path) -> None:
    packaged, report = read_world_file(packaged_world_path())
    fresh, fresh_report = read_world_file(world_file)
    pd.testing.assert_frame_equal(packaged, fresh, check_exact=True)
    skip = {"seconds", "xlsx", "centroids", "provinces"}
    assert {k: v for k, v in report.items() if k not in skip} == {
        k: v for k, v in fresh_report.items() if k not in skip
    }


@pytest.mark.slow  # builds the census world from the county file
def test_census_world_without_a_file_is_the_packaged_world(world_file: Path) -> None:
    a = load_census_world(None, 20000.0, seed=5)
    b = load_census_world(world_file, 20000.0, seed=5)
    for name in ("code", "lon", "lat", "residents", "urban_residents", "prefecture_code"):
        np.testing.assert_array_equal(getattr(a.places, name), getattr(b.places, name))
    for name, arr in a.households.as_dict().items():
        np.testing.assert_array_equal(arr, getattr(b.households, name), err_msg=name)


def test_china_census_reads_the_packaged_world() -> None:
    loaded = load_scenario(scenario_dir() / "china_census.toml")
    assert loaded.scenario.world.name == "census"
    assert loaded.scenario.world.world_file is None


def _tables(overrides: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    loaded = load_scenario(scenario_dir() / "china_census.toml", overrides=overrides)
    model = UrbanizationModel(loaded)
    for _ in range(3):
        model.step()
    return model.national_table(), model.places_table()


@pytest.mark.slow  # builds the census world from the county file
def test_runs_on_the_packaged_world_equal_runs_on_a_built_world(world_file: Path) -> None:
    """The simulated numbers do not depend on where the same world table comes from."""
    small = ["world.households_per_agent=20000.0"]
    nat_a, places_a = _tables(small)
    nat_b, places_b = _tables([*small, f'world.world_file="{world_file}"'])
    pd.testing.assert_frame_equal(nat_a, nat_b, check_exact=True)
    pd.testing.assert_frame_equal(places_a, places_b, check_exact=True)
