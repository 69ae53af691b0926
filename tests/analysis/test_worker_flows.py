"""Flows of out-migrant workers, on households whose fate is known by hand, and the accounting
identity on random households against the kernel's count (the continuity of the flows over the
years of a real run is tested with probe.py, tests/experiments/test_calibration_probe.py)."""

from __future__ import annotations

import numpy as np
import pytest
from household_rows import households_of, random_households
from hypothesis import given, settings
from hypothesis import strategies as st

from urbsim.analysis.worker_flows import FLOWS, left_far, worker_flows, workers_end
from urbsim.kernels.migrants import HEAD_AGE_BANDS, M_WORKERS, count_migrants

#: 0 away, head 30 with a child of 8 (2 workers), returns; 1 away, head 25, takes local hukou;
#: 2 away, head 64 with a child of 20 (3 workers), the head turns 65 (1 worker left); 3 at
#: home, head 20, leaves; 4 at home with non-agricultural hukou, leaves (never counted); 5 away,
#: head 50, dissolves; 6 away, head 35, becomes non-agricultural while away; 7 at home, head
#: 40 with children of 10 and 17 (3 of working age), stays. Appended: 8 formed away, 9 formed
#: at home.
BEFORE = households_of(
    place=[1, 1, 2, 0, 0, 3, 4, 0],
    hukou_place=[0, 0, 0, 0, 0, 0, 0, 0],
    hukou_type=[0, 0, 0, 0, 1, 0, 0, 0],
    head_age=[30, 25, 64, 20, 40, 50, 35, 40],
    persons=[3, 2, 3, 1, 2, 2, 2, 4],
    kids=[1 << 8, 0, 1 << 20, 0, 0, 0, 0, (1 << 10) | (1 << 17)],
)
AFTER = households_of(
    place=[0, 1, 2, 5, 6, 3, 4, 0, 7, 0],
    hukou_place=[0, 1, 0, 0, 0, 0, 0, 0, 0, 0],
    hukou_type=[0, 0, 0, 0, 1, 0, 1, 0, 0, 0],
    head_age=[31, 26, 65, 21, 41, 51, 36, 41, 18, 19],
    persons=[3, 2, 3, 1, 2, 0, 2, 4, 1, 1],
    kids=[1 << 9, 0, 1 << 21, 0, 0, 0, 0, (1 << 11) | (1 << 18), 0, 0],
)


def _band(table, band: str):  # type: ignore[no-untyped-def]
    return table.set_index("age_band").loc[band]


def test_each_household_is_one_flow_of_its_band() -> None:
    table = worker_flows(BEFORE, AFTER)
    assert table["age_band"].tolist() == list(HEAD_AGE_BANDS)
    assert list(table.columns) == ["age_band", *FLOWS, "departure_rate"]
    young = _band(table, "15_29")  # 1 settles, 3 leaves home, 8 is formed away
    assert young[list(FLOWS)].tolist() == [2, 1, 1, 0, 2, 0, 0, 0, 1]
    assert young["departure_rate"] == 1.0
    middle = _band(table, "30_44")  # 0 returns, 6 changes hukou type, 7 is the pool
    assert middle[list(FLOWS)].tolist() == [4, 3, 0, 2, 0, 0, 2, 0, 0]
    assert middle["departure_rate"] == 0.0
    assert _band(table, "45_59")[list(FLOWS)].tolist() == [2, 0, 0, 0, 0, 2, 0, 0, 0]
    old = _band(table, "60_plus")  # the head of 64 turns 65: only the child of 21 counts
    assert old[list(FLOWS)].tolist() == [3, 0, 0, 0, 0, 0, 0, -2, 0]
    assert np.isnan(old["departure_rate"])
    assert workers_end(table) == 3  # households 2, 3 and 8, one worker each


def test_left_far_counts_those_leaving_home_for_another_province() -> None:
    # Places 5 (where household 3, head 20, goes) and 7 (household 8, formed away) lie in
    # another province than their hukou place 0; 6 (the non-agricultural leaver) does too but
    # is never counted.
    province = np.array([0, 0, 0, 0, 0, 1, 1, 1])
    assert left_far(BEFORE, AFTER, province).tolist() == [1, 0, 0, 0]
    assert left_far(BEFORE, AFTER, np.zeros(8, dtype=np.int64)).tolist() == [0, 0, 0, 0]
    with pytest.raises(ValueError, match="fewer than"):
        left_far(AFTER, BEFORE, province)


def test_fewer_rows_after_than_before_is_refused() -> None:
    with pytest.raises(ValueError, match="fewer than"):
        worker_flows(AFTER, BEFORE)


@st.composite
def _years(draw):  # type: ignore[no-untyped-def]
    n = draw(st.integers(1, 12))
    return random_households(draw, n), random_households(draw, n + draw(st.integers(0, 4)))


@settings(max_examples=200, deadline=None)
@given(_years())
def test_the_flows_add_up_to_the_workers_at_the_end(year) -> None:  # type: ignore[no-untyped-def]
    before, after = year
    table = worker_flows(before, after)
    counted = count_migrants(after.as_dict(), np.zeros(4, dtype=np.int64), 4)
    assert workers_end(table) == counted[:, M_WORKERS].sum()
    start = count_migrants(before.as_dict(), np.zeros(4, dtype=np.int64), 4)
    assert table["workers_start"].sum() == start[:, M_WORKERS].sum()
    for exit_ in ("returned", "settled", "dissolved", "other_exit", "left_home", "formed"):
        assert (table[exit_] >= 0).all()
