"""Why households leave a yearly count, on the worker-flow tests' households (whose fate is
known by hand), and that the reasons partition the leavers on random households."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from test_worker_flows import AFTER, BEFORE, _years

from urbsim.analysis.household_years import exits, paired_rows


def _away(households):  # type: ignore[no-untyped-def]
    return (households.persons > 0) & (households.place != households.hukou_place)


def test_each_leaver_has_the_reason_known_by_hand() -> None:
    # Away at the start: 0 returns home, 1 takes local hukou, 2 stays away, 5 dissolves, 6
    # stays away (another hukou type is no exit from this count). Away and agricultural: 6
    # leaves that count for another reason.
    out = exits(BEFORE, AFTER, _away(BEFORE), _away(AFTER))
    assert np.flatnonzero(out.returned).tolist() == [0]
    assert np.flatnonzero(out.settled).tolist() == [1]
    assert np.flatnonzero(out.dissolved).tolist() == [5]
    assert not out.other.any()
    agricultural = exits(
        BEFORE,
        AFTER,
        _away(BEFORE) & (BEFORE.hukou_type == 0),
        _away(AFTER) & (AFTER.hukou_type == 0),
    )
    assert np.flatnonzero(agricultural.other).tolist() == [6]
    assert np.flatnonzero(agricultural.returned).tolist() == [0]


def test_fewer_rows_after_than_before_is_refused() -> None:
    with pytest.raises(ValueError, match="fewer than"):
        paired_rows(AFTER, BEFORE)
    with pytest.raises(ValueError, match="fewer than"):
        exits(AFTER, BEFORE, _away(AFTER), _away(BEFORE))


@settings(max_examples=200, deadline=None)
@given(_years())
def test_the_reasons_partition_the_households_that_left_the_count(year) -> None:  # type: ignore[no-untyped-def]
    before, after = year
    c0, c1 = _away(before), _away(after)
    out = exits(before, after, c0, c1)
    reasons = np.stack(out).astype(np.int64)
    assert (reasons.sum(axis=0) <= 1).all()
    np.testing.assert_array_equal(reasons.sum(axis=0) == 1, c0 & ~c1[: len(before)])
