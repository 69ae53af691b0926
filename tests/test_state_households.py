"""Household arrays (urbsim.state.Households): growth by append without holding them twice."""

from __future__ import annotations

import numpy as np
import pytest

from urbsim.state import FIELDS, GROWTH, Households, bytes_per_household


def _households(n: int, start: int = 0) -> dict[str, np.ndarray]:
    return {name: (np.arange(start, start + n) % 100).astype(f.dtype) for name, f in FIELDS.items()}


def _equal(h: Households, arrays: dict[str, np.ndarray]) -> bool:
    return all(np.array_equal(getattr(h, k), arrays[k]) for k in FIELDS)


def test_state_is_at_most_24_bytes_per_household() -> None:
    """Issue 17's budget of household state."""
    assert bytes_per_household() <= 24


def test_append_is_the_concatenation() -> None:
    a, b, c = _households(10), _households(3, 10), _households(0, 13)
    h = Households(**a).append(b).append(c)
    assert _equal(h, {k: np.concatenate([a[k], b[k], c[k]]) for k in FIELDS})
    assert all(getattr(h, k).dtype == f.dtype for k, f in FIELDS.items())


def test_append_grows_in_place_and_leaves_the_earlier_households_unchanged() -> None:
    a = _households(100)
    h0 = Households(**a)
    h1 = h0.append(_households(10, 100))
    assert h1.capacity == int(GROWTH * 110)  # moved once, with room
    h2 = h1.append(_households(20, 110))
    assert h2.capacity == h1.capacity  # written into the spare rows
    assert np.shares_memory(h1.place, h2.place)
    assert len(h1) == 110 and _equal(
        h1, {k: np.concatenate([a[k], _households(10, 100)[k]]) for k in FIELDS}
    )
    assert _equal(h0, a)


def test_appending_twice_to_the_same_households_gives_independent_results() -> None:
    """The second append must not write over the rows of the first."""
    h1 = Households(**_households(10)).append(_households(2, 10))
    x = h1.append(_households(3, 50))
    y = h1.append(_households(3, 70))
    assert np.array_equal(x.place[-3:], _households(3, 50)["place"])
    assert np.array_equal(y.place[-3:], _households(3, 70)["place"])
    assert not np.shares_memory(x.place, y.place)


def test_a_replaced_field_is_not_written_behind_its_back() -> None:
    h1 = Households(**_households(10)).append(_households(2, 10))
    h1.place = h1.place.copy()  # no longer a view of the buffer
    h2 = h1.append(_households(1, 12))
    assert np.array_equal(h2.place, np.concatenate([h1.place, _households(1, 12)["place"]]))


def test_append_rejects_ragged_new_households() -> None:
    new = _households(3)
    new["zone"] = new["zone"][:2]
    with pytest.raises(ValueError, match="zone"):
        Households(**_households(4)).append(new)


def test_spare_rows_are_not_resident_memory() -> None:
    """The spare rows cost address space, not memory: a large append's buffers are not backed
    until written (Linux maps large allocations lazily)."""
    psutil = pytest.importorskip("psutil")
    proc = psutil.Process()
    n = 20_000_000
    h = Households(**{k: np.zeros(n, dtype=f.dtype) for k, f in FIELDS.items()})
    before = proc.memory_info().rss
    grown = h.append({k: np.zeros(1, dtype=f.dtype) for k, f in FIELDS.items()})
    del h
    added = proc.memory_info().rss - before
    # The move copies n rows (bytes_per_household() each, 20) and frees nothing yet (h's arrays
    # are freed after); the 0.6 n spare rows would add 12 bytes per row if they were resident.
    assert grown.capacity > 1.5 * n
    assert added < n * (bytes_per_household() + 4)


def test_households_in_buffers_append_without_moving() -> None:
    """A world built with room (the census world's GROWTH spare rows) never moves its arrays
    on append; wrong buffers are refused."""
    cap = 20
    buffers = {k: np.zeros(cap, dtype=f.dtype) for k, f in FIELDS.items()}
    h = Households.in_buffers(buffers, 8)
    assert len(h) == 8 and h.capacity == cap
    grown = h.append(_households(12, 8))
    assert grown.capacity == cap and np.shares_memory(grown.kids, buffers["kids"])
    assert np.array_equal(grown.place[8:], _households(12, 8)["place"])
    with pytest.raises(ValueError, match="one length"):
        Households.in_buffers(buffers, cap + 1)
    with pytest.raises(ValueError, match="kids"):
        Households.in_buffers({**buffers, "kids": np.zeros(cap, dtype=np.int64)}, 3)
