"""experiments/calibration/fit_cache.py: a resumed fit reads its emulators back, to the bit."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "experiments" / "calibration"))

import fit_cache
from fit_cache import FitCache

from urbsim.analysis.history_matching import fit_target

CALLS: list[int] = []


def _square(job: tuple[int, np.ndarray]) -> np.ndarray:
    CALLS.append(job[0])
    return job[1] ** 2


def test_a_second_call_reads_every_result_back_and_a_changed_job_is_computed(
    tmp_path: Path,
) -> None:
    CALLS.clear()
    jobs = [(k, np.arange(3.0) + k) for k in range(4)]
    first = FitCache(tmp_path / "fits")(_square, jobs)
    assert CALLS == [0, 1, 2, 3]
    again = FitCache(tmp_path / "fits")
    second = again(_square, jobs)
    assert CALLS == [0, 1, 2, 3] and (again.read, again.computed) == (4, 0)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    changed = [*jobs[:2], (2, np.arange(3.0) + 2.5), jobs[3]]
    third = again(_square, changed)
    assert CALLS == [0, 1, 2, 3, 2]
    np.testing.assert_array_equal(third[2], (np.arange(3.0) + 2.5) ** 2)
    np.testing.assert_array_equal(third[3], first[3])  # order kept around the computed one


def test_a_torn_write_is_not_read_and_other_code_does_not_match(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    CALLS.clear()
    cache = FitCache(tmp_path)
    job = (7, np.ones(2))
    # What a kill during a write leaves: a temporary file, never the result's name.
    tmp_path.joinpath(f".{cache.key(_square, job)}.pkl.1-0badf00d.tmp").write_bytes(b"\x80torn")
    cache(_square, [job])
    assert CALLS == [7]
    code = tmp_path / "code.py"
    code.write_text("a = 1\n")
    monkeypatch.setattr(fit_cache, "_CODE", (code,))
    before = FitCache(tmp_path).key(_square, job)
    code.write_text("a = 2\n")
    assert FitCache(tmp_path).key(_square, job) != before


def test_emulators_read_back_predict_what_a_refit_predicts_to_the_bit(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    x = rng.uniform(0.0, 1.0, (24, 3))
    mean = np.sin(3.0 * x[:, 0]) + x[:, 1] ** 2
    var = rng.uniform(0.01, 0.05, 24)
    jobs = [
        (x, mean + k, var, np.full(24, 2), np.zeros(3), np.ones(3), k, 1, None) for k in range(2)
    ]
    fitted = FitCache(tmp_path)(fit_target, jobs)
    cache = FitCache(tmp_path)
    read = cache(fit_target, jobs)
    assert cache.read == 2
    at = rng.uniform(0.0, 1.0, (50, 3))
    for (em, var_em, loo), (em2, var_em2, loo2) in zip(fitted, read, strict=True):
        for a, b in zip(em.predict(at), em2.predict(at), strict=True):
            np.testing.assert_array_equal(a, b)
        for a, b in zip(var_em.predict(at), var_em2.predict(at), strict=True):
            np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(loo.errors, loo2.errors)
        assert (loo.share_beyond, loo.valid) == (loo2.share_beyond, loo2.valid)
    refit = [fit_target(job) for job in jobs]
    for (em, *_), (em2, *_) in zip(refit, read, strict=True):
        for a, b in zip(em.predict(at), em2.predict(at), strict=True):
            np.testing.assert_array_equal(a, b)


def test_remove_deletes_the_folder(tmp_path: Path) -> None:
    cache = FitCache(tmp_path / "fits")
    cache(_square, [(1, np.ones(1))])
    assert (tmp_path / "fits").is_dir()
    cache.remove()
    assert not (tmp_path / "fits").exists()


def test_remove_keeps_what_the_cache_did_not_write(tmp_path: Path) -> None:
    cache = FitCache(tmp_path)
    cache(_square, [(1, np.ones(1)), (2, np.ones(1))])
    torn = tmp_path / f".{cache.key(_square, (3, np.ones(1)))}.pkl.1-0badf00d.tmp"
    torn.write_bytes(b"\x80torn")
    mine = tmp_path / "notes.txt"
    mine.write_text("the user's\n")
    cache.remove()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
