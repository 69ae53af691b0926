"""Determinism: the seed alone fixes a run, whatever the thread count or the chunking."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from urbsim.engines.numba_engine import NumbaEngine
from urbsim.model import UrbanizationModel
from urbsim.output import table_hash
from urbsim.scenario import LoadedScenario

#: End-to-end runs, sweeps or subprocesses: outside `make test-fast`.
pytestmark = pytest.mark.slow

#: Points schemes with large quotas in the big cities and permits from 2012, so that every
#: household rule (moves, in-situ, permits, conditional and points settlement, matches with
#: places) is exercised.
_POINTS = {"rule": "points", "min_years": 1, "quota_per_10k": 500.0}
SCENARIO: dict[str, Any] = {
    "name": "determinism",
    "world": {"households_per_agent": 40000.0},
    "end_year": 2014,
    "policy": {"settlement": {"super_large": _POINTS, "mega": _POINTS, "large_i": _POINTS}},
    "timeline": {"2012": {"permit": {"enabled": True}, "service_funding_base": "permanent"}},
    # Matches with places: the start matches' parallel kernel and the draws of the choice.
    "behaviour": {"place_match_sd": 1.0},
}


def _run(loaded: LoadedScenario, n_chunks: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    model = UrbanizationModel(loaded)
    if n_chunks is not None:
        model.engine = NumbaEngine(n_chunks=n_chunks)
    model.run()
    return model.national_table(), model.places_table()


@pytest.fixture(scope="module")
def reference(small_scenario: Callable[..., LoadedScenario]) -> tuple[pd.DataFrame, pd.DataFrame]:
    return _run(small_scenario(**{**SCENARIO, "seed": 11}))


def test_scenario_exercises_every_rule(reference: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    national = reference[0]
    for col in (
        "moves",
        "points_conversions",
        "settled_migrants",
        "permits_issued",
        "insitu_reclassified",
        "births",
        "deaths",
    ):
        assert national[col].iloc[1:].sum() > 0, col


def test_same_seed_gives_identical_tables(
    small_scenario: Callable[..., LoadedScenario],
    reference: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    national, places = _run(small_scenario(**{**SCENARIO, "seed": 11}))
    assert_frame_equal(national, reference[0], check_exact=True)
    assert_frame_equal(places, reference[1], check_exact=True)


def test_different_seeds_give_different_tables(
    small_scenario: Callable[..., LoadedScenario],
    reference: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    national, places = _run(small_scenario(**{**SCENARIO, "seed": 12}))
    assert not national.equals(reference[0])
    assert not places["residents"].equals(reference[1]["residents"])
    # Same shape and columns: only the draws differ.
    assert list(national.columns) == list(reference[0].columns)
    assert places.shape == reference[1].shape


@pytest.mark.parametrize("n_chunks", [1, 7, 64])
def test_chunk_count_does_not_change_results(
    small_scenario: Callable[..., LoadedScenario],
    reference: tuple[pd.DataFrame, pd.DataFrame],
    n_chunks: int,
) -> None:
    national, places = _run(small_scenario(**{**SCENARIO, "seed": 11}), n_chunks=n_chunks)
    assert_frame_equal(national, reference[0], check_exact=True)
    assert_frame_equal(places, reference[1], check_exact=True)


_CHILD = """
import json, sys
import numba
from urbsim.model import UrbanizationModel
from urbsim.output import table_hash
from urbsim.scenario import validate

model = UrbanizationModel(validate(json.loads(sys.argv[1])))
model.run()
with open(sys.argv[2], "w", encoding="utf-8") as out:
    json.dump({
        "threads": numba.config.NUMBA_NUM_THREADS,
        "national": table_hash(model.national_table()),
        "places": table_hash(model.places_table()),
    }, out)
"""


def _hashes_in_subprocess(threads: int, data: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    env = {**os.environ, "NUMBA_NUM_THREADS": str(threads)}
    out = tmp_path / f"hashes-{threads}.json"
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, json.dumps(data), str(out)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(out.read_text(encoding="utf-8"))


def test_thread_count_does_not_change_results(
    tmp_path: Path, reference: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    """NUMBA_NUM_THREADS is read at process start, so each count runs in its own process."""
    data = {**SCENARIO, "seed": 11}
    one = _hashes_in_subprocess(1, data, tmp_path)
    two = _hashes_in_subprocess(2, data, tmp_path)
    assert (one["threads"], two["threads"]) == (1, 2)
    assert one["national"] == two["national"]
    assert one["places"] == two["places"]
    # ... and both equal the run of this process.
    assert one["national"] == table_hash(reference[0])
    assert one["places"] == table_hash(reference[1])
