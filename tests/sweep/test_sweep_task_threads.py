"""A task's runs use its thread count for Numba and BLAS alike, and leave both as they were."""

from __future__ import annotations

from pathlib import Path

import numba
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from urbsim.sweep import runs
from urbsim.sweep.spec import Outputs


def _blas_threads() -> list[int]:
    return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]


def _task(tmp_path: Path, threads: int) -> runs.TaskSpec:
    spec = runs.RunSpec(run=0, point=0, replication=0, seed=1, overrides=())
    return runs.TaskSpec(
        key="t",
        runs=(spec, spec),
        base_data={},
        source="",
        base_dir=str(tmp_path),
        overrides=(),
        outputs=Outputs(),
        parts_dir=str(tmp_path),
        threads=threads,
    )


def test_runs_of_a_task_use_its_threads_for_blas_and_numba(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not _blas_threads():
        pytest.fail("numpy's BLAS is not visible to threadpoolctl: the limit cannot be checked")
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("one Numba thread: a task's count and the caller's cannot differ")
    seen: list[tuple[int, list[int]]] = []

    def one_run(task: runs.TaskSpec, run: runs.RunSpec) -> tuple[None, runs.RunRecord]:
        seen.append((numba.get_num_threads(), _blas_threads()))
        return None, runs.RunRecord(run.run, "ok", None, 0.0)

    monkeypatch.setattr(runs, "_one_run", one_run)
    # The caller's counts (2 each) differ from the task's (1), so both limits are seen to act.
    try:
        with threadpool_limits(limits=2, user_api="blas"):
            numba.set_num_threads(2)
            before = _blas_threads()
            report = runs.execute_task(_task(tmp_path, threads=1))
            assert numba.get_num_threads() == 2
            assert _blas_threads() == before
    finally:
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    assert seen == [(1, [1] * len(before))] * 2
    assert [r.status for r in report.records] == ["ok", "ok"]
    assert Path(report.part).is_file()
