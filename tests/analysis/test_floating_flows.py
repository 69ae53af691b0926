"""Flows of floating persons by hukou type, on the households of the worker-flow tests (whose
fate is known by hand), and the accounting identity on random households."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from test_worker_flows import AFTER, BEFORE, _years

from urbsim.analysis.floating_flows import FLOWS, HUKOU_TYPES, TURNOVER, floating_by_hukou


def test_each_household_is_one_flow_of_its_hukou_type() -> None:
    # Agricultural: 0 (3 persons) returns, 1 (2) takes local hukou, 2 (3) stays away, 3 (1)
    # leaves home, 5 (2) dissolves, 6 (2) becomes non-agricultural while away, 8 (1) is formed
    # away. Non-agricultural: 4 (2) leaves home, 6 (2) enters from the other type.
    table = floating_by_hukou(BEFORE, AFTER).set_index("hukou_type")
    assert table.index.tolist() == list(HUKOU_TYPES)
    assert list(table.columns) == [*FLOWS, *TURNOVER]
    assert table.loc["agricultural"].tolist() == [12, 1, 0, 3, 2, 2, 2, 0, 1, 5, 0]
    assert table.loc["non_agricultural"].tolist() == [0, 2, 2, 0, 0, 0, 0, 0, 0, 4, 0]


def test_moving_on_is_turnover_not_a_flow_in_or_out() -> None:
    """Household 2 (3 persons, agricultural, away at place 2) moves on to place 5: 3 persons
    moved on, and every flow in or out is that of the case above."""
    after = AFTER.copy()
    after.place[2] = 5
    table = floating_by_hukou(BEFORE, after).set_index("hukou_type")
    assert table.loc["agricultural", "moved_on"] == 3
    assert table.loc["non_agricultural", "moved_on"] == 0
    same = floating_by_hukou(BEFORE, AFTER).set_index("hukou_type")
    for flow in FLOWS:
        assert table[flow].tolist() == same[flow].tolist(), flow


def test_fewer_rows_after_than_before_is_refused() -> None:
    with pytest.raises(ValueError, match="fewer than"):
        floating_by_hukou(AFTER, BEFORE)


@settings(max_examples=200, deadline=None)
@given(_years())
def test_the_flows_add_up_to_the_floating_persons_at_the_end(year) -> None:  # type: ignore[no-untyped-def]
    before, after = year
    table = floating_by_hukou(before, after)
    into = table[["floating_start", "left_home", "other_entry", "within", "formed"]].sum(axis=1)
    out = table[["returned", "settled", "dissolved", "other_exit"]].sum(axis=1)
    np.testing.assert_array_equal(table["floating_end"], into - out)
    floating = (after.persons > 0) & (after.place != after.hukou_place)
    assert table["floating_end"].sum() == after.persons[floating].astype(np.int64).sum()
    for flow in (*FLOWS, *TURNOVER):
        if flow != "within":
            assert (table[flow] >= 0).all()
    # Those who moved on were floating at both ends: no more than the end's floating persons.
    assert (table["moved_on"] <= table["floating_end"]).all()
