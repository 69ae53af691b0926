"""Invariants of one household step, for random tiny worlds and random parameters: persons are
conserved up to births, deaths and those who leave home, fields (ages included) stay in range and
keep their dtypes, hukou is only granted to eligible applicants and within quotas, and the result
does not depend on chunking."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from urbsim.households import FIELDS, Households
from urbsim.kernels import aggregate as A
from urbsim.kernels import layout as L
from urbsim.kernels.household_step import household_step
from urbsim.kernels.settlement import settle_points
from urbsim.model import UrbanizationModel
from urbsim.rng import make_year_key
from urbsim.world import World

WORLDS = {
    "seed": st.integers(0, 2**32 - 1),
    "n_places": st.integers(1, 20),
    "n_households": st.integers(0, 400),
    "dissolved": st.sampled_from([0.0, 0.05]),
    "year": st.integers(2011, 2035),
    "n_candidates": st.integers(1, 8),
    "move_base": st.sampled_from([None, 0.0, 1.0]),
}


def _step(
    hh: Households, k: dict[str, Any], key: np.uint64, n_chunks: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    leavers = np.zeros(len(hh), dtype=np.uint32)
    counts, applicants = household_step(
        key,
        hh.as_dict(),
        k["places"],
        k["par"],
        k["access"],
        k["grav_cdf"],
        k["origin_start"],
        k["origin_members"],
        k["net"],
        n_chunks,
        vital=k["vital"],
        leavers=leavers,
    )
    return counts, applicants, leavers


def _popcount(x: np.ndarray) -> np.ndarray:
    bits = np.unpackbits(x.astype("<u4").view(np.uint8).reshape(-1, 4), axis=1)
    return bits.sum(axis=1).astype(np.int64)


def _ints(hh: Households) -> dict[str, np.ndarray]:
    return {name: getattr(hh, name).astype(np.int64) for name in FIELDS}


@settings(max_examples=25, deadline=None)
@given(**WORLDS)
def test_household_step_invariants(
    tiny_world: Callable[..., World],
    kernel_inputs: Callable[..., dict[str, Any]],
    seed: int,
    n_places: int,
    n_households: int,
    dissolved: float,
    year: int,
    n_candidates: int,
    move_base: float | None,
) -> None:
    world = tiny_world(
        n_places=n_places, n_households=n_households, seed=seed, dissolved_share=dissolved
    )
    overrides = {} if move_base is None else {"move_base": move_base}
    k = kernel_inputs(world, seed, candidates=n_candidates, **overrides)
    key = make_year_key(seed, year)
    places, par = k["places"], k["par"]
    before = world.households.copy()

    # -- the same result for any number of chunks --------------------------------------------------
    runs = {}
    for n_chunks in (1, 3, 64):
        hh = before.copy()
        runs[n_chunks] = (hh, *_step(hh, k, key, n_chunks))
    hh, counts, applicants, leavers = runs[64]
    for other in (1, 3):
        hh_o, counts_o, applicants_o, leavers_o = runs[other]
        np.testing.assert_array_equal(counts_o, counts)
        np.testing.assert_array_equal(applicants_o, applicants)
        np.testing.assert_array_equal(leavers_o, leavers)
        for name in FIELDS:
            np.testing.assert_array_equal(getattr(hh_o, name), getattr(hh, name), err_msg=name)
    # The applicants marked per household, for the checks below.
    flag = np.zeros(len(hh), dtype=np.uint8)
    flag[applicants] = 1

    # -- dtypes and ranges -------------------------------------------------------------------------
    for name, field in FIELDS.items():
        assert getattr(hh, name).dtype == field.dtype, name
        assert getattr(hh, name).shape == (n_households,)
    b, a = _ints(before), _ints(hh)
    assert ((a["persons"] >= 0) & (a["persons"] <= 15)).all()
    for name in ("place", "hukou_place"):
        assert ((a[name] >= 0) & (a[name] < n_places)).all()
    for name in ("zone", "hukou_type", "permit", "land"):
        assert np.isin(a[name], (0, 1)).all()
    np.testing.assert_array_equal(a["education"], b["education"])

    # -- ages: everyone a year older, children follow their ages, a head for every household ------
    alive = a["persons"] > 0
    n_kids = _popcount(hh.kids)
    assert (a["head_age"] <= L.MAX_AGE).all()
    assert (n_kids[alive] < a["persons"][alive]).all()  # the head is not a child
    assert not hh.kids[~alive].any()
    school = np.minimum(_popcount(hh.kids & np.uint32(L.SCHOOL_MASK)), L.MAX_SCHOOL_CHILDREN)
    np.testing.assert_array_equal(a["children"][alive], school[alive])
    lived = alive & (b["persons"] > 0)
    aged = a["head_age"] == np.minimum(b["head_age"] + 1, L.MAX_AGE)
    # A head that is not a year older is a child who took over from the last adult.
    assert (a["head_age"][lived & ~aged] <= L.KID_AGES).all()
    older = (before.kids.astype(np.int64) << 1) & 0xFFFFFFFF
    assert not (leavers.astype(np.int64) & ~before.kids.astype(np.int64)).any()
    newborn = _popcount((hh.kids.astype(np.int64) & ~older).astype(np.uint32))
    assert newborn.sum() <= counts[L.C_BIRTHS]
    assert not (hh.kids & np.uint32(1)).any()  # a newborn is one at the end of the year
    # Land rights with non-agricultural hukou: only after settling where surrender is no condition.
    kept = a["land"].astype(bool) & (a["hukou_type"] == 1)
    kept &= ~(b["land"].astype(bool) & (b["hukou_type"] == 1))
    assert (places.surrender[a["place"][kept]] == 0).all()
    assert (a["hukou_place"][kept] == a["place"][kept]).all()
    assert not ((a["permit"] == 1) & (a["place"] == a["hukou_place"])).any()
    # Points applicants: increasing indices of migrants who stayed at a points place.
    assert applicants.dtype == np.int64 and (np.diff(applicants) > 0).all()
    assert (places.rule[a["place"][applicants]] == L.RULE_POINTS).all()
    assert (a["hukou_place"][applicants] != a["place"][applicants]).all()

    # -- persons: moves conserve them; births, deaths and leaving home are the only changes --------
    left = counts[L.C_LEFT_HOME]
    assert left == int(_popcount(leavers).sum())
    change = a["persons"].sum() - b["persons"].sum()
    assert change == counts[L.C_BIRTHS] - counts[L.C_DEATHS] - left
    assert counts[L.C_URBAN_BIRTHS] <= counts[L.C_BIRTHS]
    assert counts[L.C_URBAN_DEATHS] <= counts[L.C_DEATHS]
    if not (b["zone"] == 1).any():
        assert counts[L.C_URBAN_BIRTHS] == counts[L.C_URBAN_DEATHS] == 0
    if (b["zone"] == 1).all():
        assert counts[L.C_URBAN_BIRTHS] == counts[L.C_BIRTHS]
    gone = (b["persons"] > 0) & (a["persons"] == 0)
    assert counts[L.C_DISSOLVED] == int(gone.sum())
    assert counts[L.C_DEATHS] >= int(b["persons"][gone].sum())
    empty = b["persons"] == 0
    life = ("persons", "kids", "children", "head_age", "left_behind")
    for name in FIELDS:
        # The dissolved lose their members and nothing else.
        same = empty if name in life else empty | gone
        np.testing.assert_array_equal(a[name][same], b[name][same], err_msg=name)
    assert not flag[empty | gone].any() and not leavers[empty | gone].any()
    # Return migration: nothing is away at the hukou place; only school-age children are left
    # behind; a year away or at home counts once (a move away restarts the count).
    home = a["place"] == a["hukou_place"]
    assert not a["years_away"][home].any() and not a["left_behind"][home].any()
    assert (a["children"][a["left_behind"] == 1] > 0).all()
    assert (a["years_away"] <= np.minimum(b["years_away"] + 1, 255)).all()

    # -- moves and in-situ reclassification --------------------------------------------------------
    moved = (a["place"] != b["place"]) | ((a["zone"] != b["zone"]) & (a["years_here"] == 0))
    insitu = ~moved & (b["zone"] == 0) & (a["zone"] == 1)
    assert counts[L.C_MOVES] == int(moved.sum())
    # A move is considered, or it is a return from away that the return hazard decided.
    back = moved & (b["place"] != b["hukou_place"]) & (a["place"] == b["hukou_place"])
    assert counts[L.C_CONSIDERED] + int(back.sum()) >= counts[L.C_MOVES]
    assert 0 <= counts[L.C_HAZARD_RETURN_MIGRANTS] <= counts[L.C_RETURN_MIGRANTS]
    # Those whose household moved after its job ended are among those whose job ended; no job
    # ends at the rate 0.
    assert 0 <= counts[L.C_JOB_END_MOVERS] <= counts[L.C_JOB_ENDS]
    if par.job_separation == 0.0:
        assert counts[L.C_JOB_ENDS] == 0
    assert counts[L.C_RETURNS] == int((moved & (a["place"] == b["hukou_place"])).sum())
    prov = places.province
    assert counts[L.C_PROVINCE_MOVES] == int((moved & (prov[a["place"]] != prov[b["place"]])).sum())
    for name in ("hukou_place", "hukou_type", "land"):
        np.testing.assert_array_equal(a[name][moved], b[name][moved])
    assert (a["years_here"][moved] == 0).all()
    assert (a["permit"][moved] == 0).all()
    assert not flag[moved].any()
    # Only a return to a rural hukou place with land ends in a rural zone.
    to_rural = moved & (a["zone"] == 0)
    assert (a["place"][to_rural] == b["hukou_place"][to_rural]).all()
    assert (b["hukou_type"][to_rural] == 0).all() and (b["land"][to_rural] == 1).all()
    assert counts[L.C_INSITU] == int(a["persons"][insitu].sum())
    assert not ((b["zone"] == 1) & (a["zone"] == 0) & ~moved).any()  # stayers never de-urbanize

    # -- hukou: conversions only for eligible applicants, never at closed places -------------------
    rule = places.rule[b["place"]]
    min_years = places.min_years[b["place"]]
    changed = (a["hukou_place"] != b["hukou_place"]) | (a["hukou_type"] != b["hukou_type"])
    applicant = (
        (a["persons"] > 0)
        & (b["zone"] == 1)
        & ~moved
        & ~((b["hukou_place"] == b["place"]) & (b["hukou_type"] == 1))
        & (rule != L.RULE_CLOSED)
        & ((rule == L.RULE_OPEN) | (b["years_here"] >= min_years))
    )
    conv = changed & (b["zone"] == 1)
    assert not (conv & ~(applicant & (rule != L.RULE_POINTS))).any()
    assert not (conv & (rule == L.RULE_CLOSED)).any()
    local = b["hukou_place"] == b["place"]
    assert not (conv & local & (rule == L.RULE_POINTS)).any()  # points schemes rank migrants
    assert counts[L.C_SETTLED] == int(a["persons"][conv & ~local].sum())
    assert counts[L.C_LOCAL_CONVERSIONS] == int(a["persons"][conv & local].sum())
    assert counts[L.C_SETTLED] + counts[L.C_LOCAL_CONVERSIONS] <= int(
        a["persons"][applicant & (rule != L.RULE_POINTS)].sum()
    )
    assert (a["hukou_place"][conv] == b["place"][conv]).all()
    assert (a["hukou_type"][conv] == 1).all()
    assert (a["permit"][conv] == 0).all()
    # Land rights are given up on settling exactly where surrender is a condition.
    surrender = places.surrender[b["place"]] == 1
    assert (a["land"][conv & surrender] == 0).all()
    np.testing.assert_array_equal(a["land"][conv & ~surrender], b["land"][conv & ~surrender])
    if par.hukou_apply_rate == 0.0:
        assert not conv.any() and not flag.any()
    # Points applicants are flagged, not converted.
    flagged = flag == 1
    assert not (flagged & ~(applicant & (rule == L.RULE_POINTS))).any()
    assert not (flagged & changed).any()
    # Requisition: local agricultural households reclassified in place, land given up.
    req = changed & (b["zone"] == 0)
    assert not (req & ~insitu).any()
    assert (b["hukou_place"][req] == b["place"][req]).all()
    assert (b["hukou_type"][req] == 0).all() and (a["hukou_type"][req] == 1).all()
    assert (a["hukou_place"][req] == b["hukou_place"][req]).all()
    assert counts[L.C_REQUISITION] == int(a["persons"][req].sum())
    # Permits only while they are issued.
    new_permit = (a["permit"] == 1) & (b["permit"] == 0)
    if not k["places"].permit_on.any():
        assert not new_permit.any() and counts[L.C_PERMITS] == 0
    assert counts[L.C_PERMITS] >= int(a["persons"][new_permit].sum())

    # -- place counts ------------------------------------------------------------------------------
    agg, acc_all, acc_urban, net = A.aggregate(hh.as_dict(), n_places, k["access"].shape[1])
    assert (agg >= 0).all() and (acc_all >= 0).all() and (acc_urban >= 0).all()
    assert (net >= 0).all()
    assert agg[:, A.A_RESIDENTS].sum() == agg[:, A.A_REGISTERED].sum() == a["persons"].sum()

    # -- points settlement within quotas -----------------------------------------------------------
    rng = np.random.default_rng(seed)
    gov = k["gov_of_place"]
    quota0 = rng.uniform(0.0, 30.0, k["n_gov"]) * world.households_per_agent
    quota = quota0.copy()
    hpa = world.households_per_agent
    assert par.households_per_agent == hpa
    granted = settle_points(key, hh.as_dict(), applicants, gov, quota, par, places.surrender)
    won = (hh.hukou_place.astype(np.int64) != a["hukou_place"]) | (
        hh.hukou_type.astype(np.int64) != a["hukou_type"]
    )
    assert not (won & ~np.isin(np.arange(len(hh)), applicants)).any()
    assert not (won & (rule == L.RULE_CLOSED)).any()
    assert granted == int(a["persons"][won].sum())
    used = np.bincount(gov[a["place"][won]], weights=a["persons"][won] * hpa, minlength=k["n_gov"])
    assert (used <= quota0 + 1e-6).all()
    assert (quota >= -1e-9).all()
    np.testing.assert_allclose(quota, quota0 - used, atol=1e-6)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_places=st.integers(1, 12))
def test_model_years_conserve_persons(
    tiny_world: Callable[..., World], small_scenario: Callable[..., Any], seed: int, n_places: int
) -> None:
    """Through whole model years on a tiny world: residents change by births minus deaths (those
    who leave home stay residents), households grow by those formed and every recorded rate
    stays in [0, 1]."""
    world = tiny_world(n_places=n_places, n_households=300, seed=seed)
    loaded = small_scenario(seed=seed, end_year=2013)
    model = UrbanizationModel(loaded, world=world)
    model.run()
    nat = model.national_table()
    change = np.diff(nat["residents"].to_numpy())
    np.testing.assert_allclose(change, (nat["births"] - nat["deaths"]).to_numpy()[1:])
    grown = np.diff(nat["agents"].to_numpy()) * world.households_per_agent
    np.testing.assert_allclose(grown, nat["households_formed"].to_numpy()[1:])
    for col in ("urbanization_rate", "hukou_urbanization_rate", "service_gap"):
        assert nat[col].between(0.0, 1.0).all(), col
    assert (nat[["floating_population", "permit_holders", "hukou_conversions"]] >= 0).all().all()
