"""Flows of the provinces' inter-province migrant stocks, on households whose fate is known by
hand, and the accounting identity on random households against the kernel's count (the
continuity of the flows over the years of a real run is tested with probe.py,
tests/experiments/test_calibration_probe.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from household_rows import households_of, random_households
from hypothesis import given, settings
from hypothesis import strategies as st

from urbsim.analysis.choice_check import example_case, full_logit_probabilities
from urbsim.analysis.destinations import (
    FLOWS,
    corridor_concentration,
    destination_flows,
    destination_stock,
    full_logit_destinations,
    leaving_corridors,
    share_changes,
    stock_corridors,
    stock_end,
)
from urbsim.kernels.migrants import M_OTHER_PROVINCE, count_migrants

#: Province of places 0-5.
PROVINCE = np.array([0, 0, 1, 1, 2, 2])
#: 0 hukou 0 at 2, a birth; 1 at home 0, leaves for 4; 2 hukou 0 at 3, moves on to 5; 3 hukou
#: 2 at 0, returns home; 4 hukou 2 at 4, takes local hukou; 5 hukou 4 at 1, dissolves; 6 hukou
#: 0 at 1 (its own province), moves to 3; 7 hukou 0 at 2, moves to 1 (its own province, not
#: home); 8 hukou 0 at 2, moves to 3 (the same province); 9 hukou 0 at 2, moves to 4 and
#: takes hukou at 5 (settled, not left: the exits go by the first that applies); 10 hukou 0 at
#: 3, moves to 0 with its hukou now at 1 (settled, not returned). Appended: 11 formed at 4
#: with hukou 0, 12 formed at its hukou place 2.
BEFORE = households_of(
    place=[2, 0, 3, 0, 4, 1, 1, 2, 2, 2, 3],
    hukou_place=[0, 0, 0, 2, 2, 4, 0, 0, 0, 0, 0],
    hukou_type=[0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0],
    persons=[3, 2, 2, 3, 2, 1, 2, 2, 2, 2, 1],
)
AFTER = households_of(
    place=[2, 4, 5, 2, 4, 1, 3, 1, 3, 4, 0, 4, 2],
    hukou_place=[0, 0, 0, 2, 4, 4, 0, 0, 0, 5, 1, 0, 2],
    hukou_type=[0, 0, 1, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0],
    persons=[4, 2, 2, 3, 2, 0, 2, 2, 2, 2, 1, 1, 1],
)


def test_each_household_is_one_flow_of_its_province() -> None:
    table = destination_flows(BEFORE, AFTER, PROVINCE)
    assert list(table.columns) == ["province", *FLOWS]
    rows = table.set_index("province")[list(FLOWS)]
    # stock, from home, onward, formed, within, returned, settled, dissolved, left
    assert rows.loc[0].tolist() == [4, 0, 0, 0, 0, 3, 0, 1, 0]
    assert rows.loc[1].tolist() == [12, 0, 2, 0, 1, 0, 3, 0, 4]
    assert rows.loc[2].tolist() == [2, 2, 2, 1, 0, 0, 2, 0, 0]
    assert stock_end(table).tolist() == [0, 8, 5]
    assert destination_stock(AFTER, PROVINCE).tolist() == [0, 8, 5]


def test_fewer_rows_after_than_before_is_refused() -> None:
    with pytest.raises(ValueError, match="fewer than"):
        destination_flows(AFTER, BEFORE, PROVINCE)


def test_share_changes_sum_the_years_and_compare_the_first_and_last_stock() -> None:
    year = destination_flows(BEFORE, AFTER, PROVINCE)
    flows = pd.concat([year.assign(year=2011), year.assign(year=2012)], ignore_index=True)
    table = share_changes(flows).set_index("province")
    # By the size of the change: +5/13 - 2/18, -4/18, 8/13 - 12/18.
    assert table.index.tolist() == [2, 0, 1]
    np.testing.assert_allclose(table["share_start"], np.array([2, 4, 12]) / 18)
    np.testing.assert_allclose(table["share_end"], np.array([5, 0, 8]) / 13)
    assert table.loc[1, "left"] == 8 and table.loc[2, "arrived_from_home"] == 4
    assert table.loc[0, "stock_start"] == 4 and table.loc[2, "stock_end"] == 5


@st.composite
def _years(draw):  # type: ignore[no-untyped-def]
    n = draw(st.integers(1, 12))
    before = random_households(draw, n, places=6)
    return before, random_households(draw, n + draw(st.integers(0, 4)), places=6)


@settings(max_examples=200, deadline=None)
@given(_years())
def test_the_flows_add_up_to_the_kernels_count_at_the_end(year) -> None:  # type: ignore[no-untyped-def]
    before, after = year
    table = destination_flows(before, after, PROVINCE)

    def counted(households):  # type: ignore[no-untyped-def]
        places = count_migrants(households.as_dict(), PROVINCE, 6)[:, M_OTHER_PROVINCE]
        return np.bincount(PROVINCE, places, 3).astype(np.int64)

    assert table["stock_start"].tolist() == counted(before).tolist()
    assert stock_end(table).tolist() == counted(after).tolist()
    assert stock_corridors(before, PROVINCE).sum(axis=0).tolist() == counted(before).tolist()
    leaving = leaving_corridors(before, after, PROVINCE)
    assert leaving.sum(axis=0).tolist() == table["arrived_from_home"].tolist()
    assert (table[list(FLOWS[:4]) + list(FLOWS[5:])] >= 0).all().all()


def test_corridors_of_the_stock_and_of_those_leaving_home() -> None:
    stock = stock_corridors(BEFORE, PROVINCE)
    # Rows hukou province, columns where they live: 0, 2, 7-10 from 0 in 1; 3 from 1 in 0; 4
    # from 1 in 2; 5 from 2 in 0.
    assert stock.tolist() == [[0, 12, 0], [3, 0, 2], [1, 0, 0]]
    assert stock.sum(axis=0).tolist() == destination_stock(BEFORE, PROVINCE).tolist()
    leaving = leaving_corridors(BEFORE, AFTER, PROVINCE)
    assert leaving.tolist() == [[0, 0, 2], [0, 0, 0], [0, 0, 0]]  # household 1, from 0 to 2
    table = corridor_concentration(stock, leaving).set_index("province")
    assert table.loc[0, ["stock", "leaving", "top"]].tolist() == [12, 2, 2]
    assert table.loc[0, ["top_leaving", "top_stock", "variation"]].tolist() == [1.0, 0.0, 1.0]
    assert table.loc[1, "top"] == -1 and np.isnan(table.loc[1, "variation"])
    # Leavers spread as the stock: no variation.
    same = corridor_concentration(stock, stock * 2).set_index("province")
    np.testing.assert_allclose(same["variation"].to_numpy(), 0.0)
    with pytest.raises(ValueError, match="fewer than"):
        leaving_corridors(AFTER, BEFORE, PROVINCE)


def test_full_logit_destinations_sum_the_full_logit_by_province() -> None:
    case = example_case(movers=3)
    province = case.inputs.places.province.astype(np.int64)
    move, far, by_province = full_logit_destinations(
        case.inputs, case.households, case.members, province
    )
    # The movers are identical: the mean is one mover's full logit, summed by province.
    alternatives, p = full_logit_probabilities(case.inputs, case.households, 0)
    place = np.array([a[0] for a in alternatives])
    current = case.households.place[0]
    assert move == pytest.approx(p[place != current].sum())
    across = province[place] != province[current]
    assert far == pytest.approx(p[across].sum())
    assert by_province.sum() == pytest.approx(far) and by_province[province[current]] == 0.0
    assert 0.0 < far < move < 1.0
    # Households at home: a higher border cost keeps more of their moves in their province
    # (away, a return home, which pays no border cost, would cross it).
    shares = []
    for beta in (0.0, 3.0):
        home = example_case(movers=3, at_home=True, behaviour={"beta_province": beta})
        m, f, _ = full_logit_destinations(home.inputs, home.households, home.members, province)
        shares.append(f / m)
    assert shares[1] < shares[0]
    with pytest.raises(ValueError, match="empty"):
        full_logit_destinations(case.inputs, case.households, np.array([], dtype=int), province)
