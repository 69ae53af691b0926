"""The cache of fitted destination constants (urbsim/constants_cache.py): a hit gives the fitted
constants to the last bit without fitting, every input of the fit names the entry, and a
damaged, foreign or unwritable cache costs a fit, never a run."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from urbsim import constants_cache as C
from urbsim.dynamics import destination_constants as D
from urbsim.model import UrbanizationModel
from urbsim.runner import simulate


@pytest.fixture
def fits(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the fits (calls of fit_constants) made while the test runs."""
    calls: list[int] = []
    fit = D.fit_constants

    def counted(*args: Any, **kwargs: Any) -> tuple[np.ndarray, int]:
        calls.append(1)
        return fit(*args, **kwargs)

    monkeypatch.setattr(D, "fit_constants", counted)
    return calls


def _on(small_scenario: Any, seed: int = 3) -> Any:
    return small_scenario(seed=seed, end_year=2012, behaviour={"destination_constants": True})


def _inputs() -> tuple[np.ndarray, ...]:
    """Weights, provinces, origins and in-migrants of three places in two provinces, every
    place sending: the by-hand case of the constants' tests with a border."""
    weights = np.array([[0.0, 1.0, 0.5], [1.0, 0.0, 0.5], [0.4, 0.4, 0.0]])
    province = np.array([11, 11, 42])
    origins = np.array([3.0, 2.0, 1.0])
    in_migrants = np.array([[1.0, 1.5, 0.0], [0.5, 0.5, 2.5]])
    return weights, province, origins, in_migrants


def test_a_hit_gives_the_fitted_constants_to_the_last_bit_without_fitting(
    small_scenario: Any, tmp_path: Path, fits: list[int]
) -> None:
    """The first model fits and keeps its constants, the second (same scenario and seed)
    reads them; both are those of a model without a cache, bit for bit. Another seed (other
    households, so other networks and start migrants) fits its own."""
    cache = C.ConstantsCache(tmp_path)
    first = UrbanizationModel(_on(small_scenario), constants_cache=cache)
    assert len(fits) == 1 and len(list(tmp_path.glob("*" + C.SUFFIX))) == 1
    second = UrbanizationModel(_on(small_scenario), constants_cache=cache)
    assert len(fits) == 1
    bare = UrbanizationModel(_on(small_scenario))
    assert len(fits) == 2
    assert first.entry_constant.std() > 0.1
    np.testing.assert_array_equal(second.entry_constant, first.entry_constant)
    np.testing.assert_array_equal(bare.entry_constant, first.entry_constant)
    UrbanizationModel(_on(small_scenario, seed=4), constants_cache=cache)
    assert len(fits) == 3 and len(list(tmp_path.glob("*" + C.SUFFIX))) == 2


def test_a_run_reads_the_cache_the_environment_names_and_writes_the_same_tables(
    small_scenario: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fits: list[int]
) -> None:
    """simulate's default cache is the environment's: a second run of the same scenario fits
    nothing and its tables are those of a run with no cache; ``off`` turns it off."""
    monkeypatch.setenv(C.ENV_VAR, str(tmp_path))
    runs = [simulate(_on(small_scenario)) for _ in range(2)]
    assert len(fits) == 1
    assert len(list((tmp_path / "destination-constants").glob("*" + C.SUFFIX))) == 1
    monkeypatch.setenv(C.ENV_VAR, "off")
    runs.append(simulate(_on(small_scenario)))
    assert len(fits) == 2
    for run in runs[1:]:
        pd.testing.assert_frame_equal(run.national, runs[0].national, check_exact=True)
        pd.testing.assert_frame_equal(run.places, runs[0].places, check_exact=True)


def test_every_input_of_the_fit_names_the_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Copies give the same name; one ulp of one weight, a province, an origin, an
    in-migrant, the place codes, a dtype, the fitting code or the arithmetic's libraries
    give another."""
    base = _inputs()
    key = C.fit_key(*base, None)
    assert C.fit_key(*(a.copy() for a in base), None) == key
    names = {key}
    for i in range(len(base)):
        changed = [a.copy() for a in base]
        flat = changed[i].reshape(-1)
        flat[-1] = np.nextafter(flat[-1], np.inf) if flat.dtype.kind == "f" else flat[-1] + 1
        names.add(C.fit_key(*changed, None))
    names.add(C.fit_key(*base, np.array([1, 2, 3])))
    names.add(C.fit_key(base[0], base[1].astype(np.int32), *base[2:], None))
    monkeypatch.setattr(C, "_arithmetic", lambda: b"another BLAS")
    names.add(C.fit_key(*base, None))
    monkeypatch.undo()
    monkeypatch.setattr(C, "FORMAT", C.FORMAT + 1)
    names.add(C.fit_key(*base, None))
    monkeypatch.undo()
    monkeypatch.setattr(D, "TOLERANCE", 1e-2)  # a setting changed for a while
    names.add(C.fit_key(*base, None))
    monkeypatch.undo()
    assert C.fit_key(*base, None) == key
    assert len(names) == 10


def test_inputs_or_arithmetic_that_cannot_name_an_entry_are_fitted_and_not_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fits: list[int]
) -> None:
    """Object arrays (whose bytes are pointers) name no entry; nor does a process where
    threadpoolctl sees no BLAS library (the fit's one-thread limit could not hold)."""
    cache = C.ConstantsCache(tmp_path)
    weights, province, origins, in_migrants = _inputs()
    assert C.fit_key(weights, province.astype(object), origins, in_migrants, None) is None
    monkeypatch.setattr(C, "threadpool_info", lambda: [])
    assert C.fit_key(weights, province, origins, in_migrants, None) is None
    for _ in range(2):
        cache.fit(weights.copy(), province, origins, in_migrants)
    assert len(fits) == 2 and not list(tmp_path.iterdir())


def test_the_fitting_code_names_the_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fitting module's functions as compiled are part of the name: other code never
    reads the constants of the code before it (its file is not read: it may change under a
    running sweep)."""
    C._code_digest.cache_clear()  # (another test may have computed it with the fit replaced)
    base = _inputs()
    key = C.fit_key(*base, None)

    def _split(e: np.ndarray, origin_province: np.ndarray, province: np.ndarray) -> Any:
        return None  # other code under the same name

    monkeypatch.setattr(D, "_split", _split)
    _split.__module__ = D.__name__
    C._code_digest.cache_clear()
    try:
        assert C.fit_key(*base, None) != key
    finally:
        monkeypatch.undo()
        C._code_digest.cache_clear()
    assert C.fit_key(*base, None) == key


def test_damaged_and_foreign_entries_are_fitted_again_and_replaced(
    tmp_path: Path, fits: list[int]
) -> None:
    """A truncated file, a pickle and an array of the wrong shape are not read: the fit
    runs and its constants replace them."""
    cache = C.ConstantsCache(tmp_path)
    weights, *rest = _inputs()
    expected = cache.fit(weights.copy(), *rest)
    (entry,) = tmp_path.glob("*" + C.SUFFIX)
    good = entry.read_bytes()
    header, _, data = good.partition(b"\n")
    flipped = bytearray(data)
    flipped[5] ^= 0x01  # one bit of the data: the digest no longer matches
    other_key = header.replace(entry.stem[:8].encode(), b"00000000")
    damaged = (
        good[: len(good) // 2],
        b"\x00" * len(good),
        b"\x80\x04\x95 a pickle",
        header + b"\n" + bytes(flipped),
        other_key + b"\n" + data,
        _npy(np.zeros((2, 3))),
    )
    for content in damaged:
        entry.write_bytes(content)
        before = len(fits)
        np.testing.assert_array_equal(cache.fit(weights.copy(), *rest), expected)
        assert len(fits) == before + 1
        assert entry.read_bytes() == good
    assert not list(tmp_path.glob(".*.tmp"))


def _npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


def test_a_folder_that_cannot_be_written_keeps_nothing_and_fails_nothing(
    tmp_path: Path, fits: list[int]
) -> None:
    """A folder under a file (given as a string, as a caller may) cannot be made: every
    call fits."""
    blocked = tmp_path / "a file"
    blocked.write_text("not a folder")
    cache = C.ConstantsCache(str(blocked / "constants"))  # type: ignore[arg-type]
    assert isinstance(cache.folder, Path)
    weights, *rest = _inputs()
    first = cache.fit(weights.copy(), *rest)
    np.testing.assert_array_equal(cache.fit(weights.copy(), *rest), first)
    assert len(fits) == 2


def test_errors_are_not_kept(tmp_path: Path) -> None:
    """Inputs the fit refuses are refused again, not read back as constants."""
    cache = C.ConstantsCache(tmp_path)
    weights, province, origins, in_migrants = _inputs()
    weights[0, 0] = 1.0  # a sender staying: refused
    for _ in range(2):
        with pytest.raises(ValueError, match="staying is no destination"):
            cache.fit(weights.copy(), province, origins, in_migrants)
    assert not list(tmp_path.iterdir())


def test_temporary_files_of_killed_writes_are_removed_when_old(tmp_path: Path) -> None:
    """A write's temporary file left by a killed run goes with the next write once it is
    older than STALE_SECONDS; a recent one (a write under way) stays, and so do files the
    cache does not write, however old."""
    key = "ab" * 32
    old, recent = tmp_path / f".{key}.1-0123abcd.tmp", tmp_path / f".{key}.2-4567ef89.tmp"
    foreign = [tmp_path / "notes.tmp", tmp_path / "mine.constants", tmp_path / f"{key}.npy"]
    for f in (old, recent, *foreign):
        f.write_bytes(b"partial")
    past = time.time() - C.STALE_SECONDS - 10
    for f in (old, *foreign):
        os.utime(f, (past, past))
    weights, *rest = _inputs()
    C.ConstantsCache(tmp_path, max_entries=0).fit(weights, *rest)
    assert not old.exists() and recent.exists()
    assert all(f.exists() for f in foreign)


def test_the_entries_last_used_are_kept(tmp_path: Path, fits: list[int]) -> None:
    """With room for two, a third entry drops the one used least recently: reading an entry
    counts as using it."""
    cache = C.ConstantsCache(tmp_path, max_entries=2)
    weights, province, origins, in_migrants = _inputs()
    variants = [origins * k for k in (1.0, 2.0, 3.0)]
    names = [C.fit_key(weights, province, o, in_migrants, None) for o in variants]
    for o in variants[:2]:
        cache.fit(weights.copy(), province, o, in_migrants)
    # The first entry is the older; reading it makes the second the one used least recently.
    past = 1_000_000_000
    os.utime(tmp_path / f"{names[0]}{C.SUFFIX}", ns=(past, past))
    os.utime(tmp_path / f"{names[1]}{C.SUFFIX}", ns=(past + 1, past + 1))
    cache.fit(weights.copy(), province, variants[0], in_migrants)  # a hit refreshes it
    assert len(fits) == 2
    cache.fit(weights.copy(), province, variants[2], in_migrants)
    kept = {p.stem for p in tmp_path.glob("*" + C.SUFFIX)}
    assert kept == {names[0], names[2]}


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({C.ENV_VAR: "off"}, None),
        ({C.ENV_VAR: " OFF "}, None),
        ({C.ENV_VAR: ""}, None),
        ({C.ENV_VAR: "0"}, None),
        ({C.ENV_VAR: "/data/cache", "XDG_CACHE_HOME": "/x"}, "/data/cache/destination-constants"),
        ({"XDG_CACHE_HOME": "/x"}, "/x/urbsim/destination-constants"),
        ({}, str(Path.home() / ".cache/urbsim/destination-constants")),
        ({"XDG_CACHE_HOME": ""}, str(Path.home() / ".cache/urbsim/destination-constants")),
    ],
)
def test_the_environment_names_the_folder_or_turns_the_cache_off(
    env: dict[str, str], expected: str | None
) -> None:
    folder = C.default_folder(env)
    assert (None if folder is None else str(folder)) == expected


def test_without_a_home_there_is_no_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_home() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(Path, "home", staticmethod(no_home))
    assert C.default_folder({}) is None
