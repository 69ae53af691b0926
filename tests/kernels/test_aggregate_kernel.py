"""Counting households into places, the network and the origin index, against plain pandas."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from urbsim.households import FIELDS
from urbsim.kernels import aggregate as A
from urbsim.world import World


def _frame(world: World) -> pd.DataFrame:
    df = pd.DataFrame({k: v.astype(np.int64) for k, v in world.households.as_dict().items()})
    return df[df["persons"] > 0]


def _by(df: pd.DataFrame, key: str, mask: pd.Series | None, n: int, count: bool = False):
    sel = df if mask is None else df[mask]
    if count:
        s = sel.groupby(key).size()
    else:
        s = sel.groupby(key)["persons"].sum()
    return s.reindex(range(n), fill_value=0).to_numpy(dtype=np.int64)


def _expected_counts(df: pd.DataFrame, n: int) -> np.ndarray:
    local = df["place"] == df["hukou_place"]
    floating = ~local
    urban = df["zone"] == 1
    nonagri = df["hukou_type"] == 1
    out = np.zeros((n, A.N_A), dtype=np.int64)
    out[:, A.A_RESIDENTS] = _by(df, "place", None, n)
    out[:, A.A_URBAN] = _by(df, "place", urban, n)
    out[:, A.A_HUKOU_RESIDENTS] = _by(df, "place", local, n)
    out[:, A.A_REGISTERED] = _by(df, "hukou_place", None, n)
    out[:, A.A_NONAGRI_REGISTERED] = _by(df, "hukou_place", nonagri, n)
    out[:, A.A_FLOATING] = _by(df, "place", floating, n)
    out[:, A.A_PERMIT] = _by(df, "place", floating & (df["permit"] == 1), n)
    out[:, A.A_HOUSEHOLDS] = _by(df, "place", None, n, count=True)
    out[:, A.A_URBAN_HOUSEHOLDS] = _by(df, "place", urban, n, count=True)
    out[:, A.A_URBAN_FLOATING] = _by(df, "place", urban & floating, n)
    out[:, A.A_NONAGRI_RESIDENTS] = _by(df, "place", nonagri, n)
    return out


def _expected_access(df: pd.DataFrame, n: int, n_access: int, urban_only: bool) -> np.ndarray:
    sel = df[df["zone"] == 1] if urban_only else df
    local = sel["place"] == sel["hukou_place"]
    cat = np.where(
        local,
        A.ACC_FULL,
        np.where(
            sel["permit"] == 1,
            A.ACC_PERMIT0 + np.minimum(sel["years_here"], n_access - 1),
            A.ACC_BASE,
        ),
    )
    out = np.zeros((n, 2 + n_access), dtype=np.int64)
    np.add.at(out, (sel["place"].to_numpy(), cat), sel["persons"].to_numpy())
    return out


def _expected_net(df: pd.DataFrame, n: int) -> np.ndarray:
    fl = df[df["place"] != df["hukou_place"]]
    out = np.zeros((n, n), dtype=np.int64)
    np.add.at(out, (fl["hukou_place"].to_numpy(), fl["place"].to_numpy()), 1)
    return out


def _check(world: World, n_access: int) -> None:
    n = len(world.places)
    df = _frame(world)
    counts, acc_all, acc_urban, net = A.aggregate(world.households.as_dict(), n, n_access)
    assert counts.dtype == np.int64
    assert acc_all.dtype == np.int64
    assert net.dtype == np.int32
    assert counts.shape == (n, A.N_A)
    assert acc_all.shape == acc_urban.shape == (n, 2 + n_access)
    np.testing.assert_array_equal(counts, _expected_counts(df, n))
    np.testing.assert_array_equal(acc_all, _expected_access(df, n, n_access, False))
    np.testing.assert_array_equal(acc_urban, _expected_access(df, n, n_access, True))
    np.testing.assert_array_equal(net, _expected_net(df, n))
    # Consistency of the columns among themselves.
    total = int(df["persons"].sum())
    assert counts[:, A.A_RESIDENTS].sum() == counts[:, A.A_REGISTERED].sum() == total
    np.testing.assert_array_equal(
        counts[:, A.A_RESIDENTS], counts[:, A.A_HUKOU_RESIDENTS] + counts[:, A.A_FLOATING]
    )
    np.testing.assert_array_equal(acc_all.sum(axis=1), counts[:, A.A_RESIDENTS])
    np.testing.assert_array_equal(acc_urban.sum(axis=1), counts[:, A.A_URBAN])
    assert net.sum() == int((df["place"] != df["hukou_place"]).sum())


@pytest.mark.parametrize(("seed", "n_access"), [(0, 1), (1, 4), (2, 30)])
def test_aggregate_matches_groupby(
    tiny_world: Callable[..., World], seed: int, n_access: int
) -> None:
    _check(tiny_world(n_places=15, n_households=3000, seed=seed, dissolved_share=0.05), n_access)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_places=st.integers(1, 25),
    n_households=st.integers(0, 400),
    n_access=st.integers(1, 6),
    dissolved=st.sampled_from([0.0, 0.1, 1.0]),
)
def test_aggregate_matches_groupby_random_worlds(
    tiny_world: Callable[..., World],
    seed: int,
    n_places: int,
    n_households: int,
    n_access: int,
    dissolved: float,
) -> None:
    world = tiny_world(
        n_places=n_places, n_households=n_households, seed=seed, dissolved_share=dissolved
    )
    _check(world, n_access)


def test_aggregate_reuses_a_network_buffer(tiny_world: Callable[..., World]) -> None:
    world = tiny_world(n_places=6, n_households=500, seed=3)
    hh = world.households.as_dict()
    buffer = np.full((6, 6), 99, dtype=np.int32)
    _, _, _, net = A.aggregate(hh, 6, 2, buffer)
    assert net is buffer
    np.testing.assert_array_equal(net, _expected_net(_frame(world), 6))
    # A buffer of the wrong shape is replaced, not written.
    small = np.full((2, 2), 7, dtype=np.int32)
    _, _, _, net2 = A.aggregate(hh, 6, 2, small)
    assert net2 is not small
    assert (small == 7).all()
    np.testing.assert_array_equal(net2, net)


def test_aggregate_of_no_households() -> None:
    empty = {name: np.zeros(0, dtype=f.dtype) for name, f in FIELDS.items()}
    counts, acc_all, acc_urban, net = A.aggregate(empty, 3, 2)
    assert not counts.any() and not acc_all.any() and not acc_urban.any() and not net.any()
    start, members = A.origin_index(empty, 3)
    np.testing.assert_array_equal(start, np.zeros(4))
    assert members.shape == (0,)


def _expected_origin(world: World) -> tuple[np.ndarray, list[np.ndarray]]:
    hh = world.households
    n = len(world.places)
    floating = (hh.persons > 0) & (hh.place != hh.hukou_place)
    groups = [np.flatnonzero(floating & (hh.hukou_place == o)) for o in range(n)]
    start = np.concatenate([[0], np.cumsum([g.shape[0] for g in groups])])
    return start, groups


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_places=st.integers(1, 25),
    n_households=st.integers(0, 400),
)
def test_origin_index_groups_floating_households_by_hukou_place(
    tiny_world: Callable[..., World], seed: int, n_places: int, n_households: int
) -> None:
    world = tiny_world(n_places=n_places, n_households=n_households, seed=seed, dissolved_share=0.1)
    start, members = A.origin_index(world.households.as_dict(), n_places)
    exp_start, groups = _expected_origin(world)
    assert start.dtype == np.int64 and members.dtype == np.int32
    np.testing.assert_array_equal(start, exp_start)
    for o in range(n_places):
        got = members[start[o] : start[o + 1]]
        np.testing.assert_array_equal(got, groups[o])  # ascending household index
        assert (np.diff(got) > 0).all()
    assert members.shape == (start[-1],)


def test_origin_index_lists_only_live_floating_households(
    tiny_world: Callable[..., World],
) -> None:
    """Locals and dissolved households never enter the index."""
    world = tiny_world(n_places=5, n_households=300, seed=9, dissolved_share=0.2)
    hh = world.households.as_dict()
    start, members = A.origin_index(hh, 5)
    assert (hh["persons"][members] > 0).all()
    assert (hh["place"][members] != hh["hukou_place"][members]).all()
    # The origin of every member is the group it is listed in.
    origin = np.repeat(np.arange(5), np.diff(start))
    np.testing.assert_array_equal(hh["hukou_place"][members], origin)


def test_origin_index_refuses_more_rows_than_int32_members_index() -> None:
    """The members are ``int32``: more household rows than they can index are refused by
    name, not wrapped around."""
    A._check_member_rows(A.MEMBER_ROWS)
    with pytest.raises(ValueError, match="origin index lists at most 2,147,483,648"):
        A._check_member_rows(A.MEMBER_ROWS + 1)


# --- the one-pass count: origin index, network and its one-byte copy ------------------------------
@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_places=st.integers(1, 25),
    n_households=st.integers(0, 400),
    n_access=st.integers(1, 6),
)
def test_count_households_agrees_with_aggregate_and_origin_index(
    tiny_world: Callable[..., World], seed: int, n_places: int, n_households: int, n_access: int
) -> None:
    world = tiny_world(n_places=n_places, n_households=n_households, seed=seed, dissolved_share=0.1)
    hh = world.households.as_dict()
    c = A.count_households(hh, n_places, n_access)
    for got, expected in zip(c[:4], A.aggregate(hh, n_places, n_access), strict=True):
        np.testing.assert_array_equal(got, expected, strict=True)
    start, members = A.origin_index(hh, n_places)
    np.testing.assert_array_equal(c.origin_start, start, strict=True)
    np.testing.assert_array_equal(c.origin_members, members, strict=True)
    assert c.net8.dtype == np.uint8
    np.testing.assert_array_equal(c.net8, np.minimum(c.net, A.NET8_SATURATED))


def test_saturated_network_keeps_counts_below_255_and_marks_the_rest() -> None:
    net = np.array([[0, 1, 254], [255, 256, 70000]], dtype=np.int32)
    out = A.saturate(net)
    np.testing.assert_array_equal(out, [[0, 1, 254], [255, 255, 255]])
    assert out.dtype == np.uint8
    buffer = np.zeros((2, 3), dtype=np.uint8)
    assert A.saturate(net, buffer) is buffer


@pytest.mark.parametrize("n_chunks", [1, 3, 4, 64])
def test_partial_counts_do_not_depend_on_the_chunks(
    tiny_world: Callable[..., World], n_chunks: int
) -> None:
    """The counting kernels split households into chunks with partial counts: any split gives
    the same counts and the same origin index (ascending household index in each origin)."""
    world = tiny_world(n_places=12, n_households=2000, seed=5, dissolved_share=0.05)
    hh = world.households.as_dict()
    n, n_access = 12, 5
    counts = np.zeros((n, A.N_A), dtype=np.int64)
    acc_all = np.zeros((n, 2 + n_access), dtype=np.int64)
    acc_urban = np.zeros((n, 2 + n_access), dtype=np.int64)
    per_origin = np.zeros((n_chunks, n), dtype=np.int64)
    A._aggregate(
        hh["place"],
        hh["zone"],
        hh["hukou_place"],
        hh["hukou_type"],
        hh["years_here"],
        hh["permit"],
        hh["persons"],
        n_access,
        counts,
        acc_all,
        acc_urban,
        per_origin,
    )
    start, members = A._origin_fill(hh["place"], hh["hukou_place"], hh["persons"], per_origin)
    expected = A.count_households(hh, n, n_access)
    np.testing.assert_array_equal(counts, expected.counts)
    np.testing.assert_array_equal(acc_all, expected.acc_all)
    np.testing.assert_array_equal(acc_urban, expected.acc_urban)
    np.testing.assert_array_equal(start, expected.origin_start)
    np.testing.assert_array_equal(members, expected.origin_members)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_places=st.integers(2, 25),
    n_households=st.integers(0, 400),
    n_provinces=st.integers(1, 5),
)
def test_province_network_counts_fellow_provincials_in_other_provinces_only(
    tiny_world: Callable[..., World], seed: int, n_places: int, n_households: int, n_provinces: int
) -> None:
    """The provincial network of a destination is the floating households from the hukou
    province living there when it lies in another province, zero inside the hukou province."""
    world = tiny_world(n_places=n_places, n_households=n_households, seed=seed, dissolved_share=0.1)
    province = np.random.default_rng(seed).integers(0, n_provinces, n_places)
    province[0] = n_provinces - 1  # every index up to the largest has a row
    start, members = A.origin_index(world.households.as_dict(), n_places)
    got = A.province_network(start, world.households.place[members], province)
    df = _frame(world)
    df = df[df["place"] != df["hukou_place"]]
    hp, cp = province[df["hukou_place"]], df["place"].to_numpy()
    away = hp != province[cp]
    want = np.zeros((n_provinces, n_places), dtype=np.int64)
    np.add.at(want, (hp[away], cp[away]), 1)
    np.testing.assert_array_equal(got, want)
