"""Sweeps share fitted destination constants through the cache (urbsim/constants_cache.py):
the workers of a second scenario's sweep read what the first's kept."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sweep_helpers import GRID, SCENARIO, write_sweep

from urbsim import constants_cache as C
from urbsim.sweep import run_sweep

pytestmark = pytest.mark.slow

#: The tiny scenario with destination constants, at a scale whose households' migrants the
#: constants can be fitted to.
WITH_CONSTANTS = SCENARIO.replace("200000.0", "40000.0") + (
    "\n[behaviour]\ndestination_constants = true\n"
)
#: A policy from 2012 on: the constants, fitted at the start, are those of the status quo.
POLICY = "\n[timeline.2012.permit]\nenabled = false\n"


def test_a_second_scenario_s_workers_read_what_the_first_s_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two sweeps of the same points and seeds in process-pool workers that inherit
    URBSIM_CACHE_DIR: the second scenario's runs read the first's entries (the same files,
    their use time refreshed, none rewritten) and write the results they write without it."""
    sweeps = {}
    for name, text in (("status_quo", WITH_CONSTANTS), ("policy", WITH_CONSTANTS + POLICY)):
        sweeps[name] = write_sweep(tmp_path / name, GRID)
        (tmp_path / name / "scenario.toml").write_text(text, encoding="utf-8")
    folder = tmp_path / "cache" / "destination-constants"
    monkeypatch.setenv(C.ENV_VAR, str(tmp_path / "cache"))

    def sweep(name: str, out: str) -> str:
        outcome = run_sweep(
            sweeps[name], tmp_path / out, executor="local", workers=2, threads=1, progress=False
        )
        assert outcome.complete and outcome.failed == 0
        return str(outcome.results_sha256)

    sweep("status_quo", "out_status_quo")
    entries = sorted(folder.glob("*" + C.SUFFIX))
    assert len(entries) == 8  # a (point, replication) each: each has its own seed
    past = 1_000_000_000
    for e in entries:
        os.utime(e, ns=(past, past))
    inodes = {e.name: e.stat().st_ino for e in entries}
    cached = sweep("policy", "out_policy")
    assert sorted(folder.glob("*" + C.SUFFIX)) == entries
    assert all(e.stat().st_ino == inodes[e.name] for e in entries)  # read, not rewritten
    assert all(e.stat().st_mtime_ns > past for e in entries)  # and used
    monkeypatch.setenv(C.ENV_VAR, "off")
    assert sweep("policy", "out_policy_fitted") == cached
