"""Permit schedules, governance and programme budgets of named places (issue 13): expanded
with the precedence of settlement rules (county-level place, prefecture, province, national),
and each acting on exactly the places it addresses. Hand-computed cases on the six places of
:mod:`places_helpers`."""

from __future__ import annotations

import numpy as np
import places_helpers as P
import pytest
from dynamics_helpers import by_region, govs, places

from urbsim.dynamics import economy as E
from urbsim.dynamics.permits import padded
from urbsim.dynamics.policy import expand_policy
from urbsim.dynamics.programmes import county_town_money, renewal_done
from urbsim.scenario.schema import CountyTown, Policy, Renewal
from urbsim.state import PolicyArrays, UnitAmounts

NATIONAL = [0.55, 0.65, 0.75, 0.85]  # the default schedule (capped at 0.85)


def _expand(places_: list[dict[str, object]], **rest: object) -> PolicyArrays:
    policy = Policy.model_validate({"places": places_, **rest})
    return expand_policy(policy, P.SIZE, P.KIND, P.CAPITAL, P.small_index())


# ---------------------------------------------------------------------------------------------
# Permit rules by place
# ---------------------------------------------------------------------------------------------
def test_permit_rules_by_place_follow_the_precedence_of_settlement_rules() -> None:
    pa = _expand(
        [
            {"code": 440300, "name": "深圳市", "permit": {"access": [0.2, 0.95]}},
            {
                "code": 440000,
                "name": "广东省",
                "permit": {"enabled": True, "min_residence_months": 24, "access": [0.3]},
            },
            {"code": 441821, "name": "佛冈县", "permit": {"enabled": False}},
        ],
        permit={"enabled": False},
    )
    # Beijing: national (off, 6 months); Guangdong: on after 24 months, except the county.
    assert pa.permit_on.tolist() == [False, False, True, True, True, False]
    assert pa.permit_months.tolist() == [6, 6, 24, 24, 24, 24]
    # Rows padded with their last value to the longest schedule (4 years); Shenzhen's own
    # schedule is capped at access_cap (0.85).
    np.testing.assert_array_equal(pa.access[0], NATIONAL)
    np.testing.assert_array_equal(pa.access[2], [0.3] * 4)
    np.testing.assert_array_equal(pa.access[4], [0.2, 0.85, 0.85, 0.85])
    np.testing.assert_array_equal(pa.access[5], [0.3] * 4)


def test_a_place_permit_schedule_changes_exactly_that_place() -> None:
    national = _expand([])
    pa = _expand(
        [
            {
                "code": 440105,
                "name": "海珠区",
                "permit": {"enabled": True, "min_residence_months": 12, "access": [0.1] * 4},
            }
        ],
        permit={"enabled": False},
    )
    other = np.arange(6) != 3
    for name in ("permit_on", "permit_months", "access"):
        np.testing.assert_array_equal(getattr(pa, name)[other], getattr(national, name)[other])
    assert (pa.permit_on[3], pa.permit_months[3]) == (True, 12)
    np.testing.assert_array_equal(pa.access[3], [0.1] * 4)


def test_a_longer_schedule_pads_the_others_without_changing_what_they_give() -> None:
    pa = _expand([{"code": 110000, "name": "北京市", "permit": {"access": [0.1] * 6}}])
    assert pa.access.shape == (6, 6)
    np.testing.assert_array_equal(pa.access[2], padded(NATIONAL, 6, 0.85))
    np.testing.assert_array_equal(pa.access[2], [*NATIONAL, 0.85, 0.85])


def test_place_permit_access_outside_zero_one_is_refused() -> None:
    with pytest.raises(ValueError, match=r"access shares must be in \[0, 1\]"):
        _expand([{"code": 110000, "name": "北京市", "permit": {"access": [0.5, 1.2]}}])


# ---------------------------------------------------------------------------------------------
# Governance and programme budgets by place
# ---------------------------------------------------------------------------------------------
def test_governance_efficiency_by_place_overrides_the_national_value() -> None:
    pa = _expand(
        [
            {"code": 440000, "name": "Guangdong", "governance_efficiency": 1.2},
            {"code": 440300, "name": "深圳市", "governance_efficiency": 1.5},
        ],
        governance_efficiency=1.05,
    )
    np.testing.assert_array_equal(pa.efficiency, [1.05, 1.05, 1.2, 1.2, 1.5, 1.2])


def test_a_unit_amount_governs_the_places_no_more_specific_entry_governs() -> None:
    pa = _expand(
        [
            {"code": 440000, "name": "广东省", "renewal_households": 900.0},
            {"code": 440100, "name": "广州市", "renewal_households": 100.0},
            {"code": 441821, "name": "佛冈县", "county_town_budget": 2.0},
        ]
    )
    # Entries least specific first: Guangdong (0) then Guangzhou (1).
    assert pa.renewal_households.unit.tolist() == [-1, -1, 1, 1, 0, 0]
    np.testing.assert_array_equal(pa.renewal_households.amount, [900.0, 100.0])
    assert pa.county_town_budget.unit.tolist() == [-1, -1, -1, -1, -1, 0]
    # Split by weight among the places an amount governs: Guangzhou's 100 over its two
    # districts 1:3; Guangdong's 900 over Shenzhen and the county 1:2.
    weight = np.array([5.0, 5.0, 1.0, 3.0, 1.0, 2.0])
    np.testing.assert_allclose(
        pa.renewal_households.split(weight), [0.0, 0.0, 25.0, 75.0, 300.0, 600.0]
    )


def test_renewal_of_a_named_unit_changes_exactly_its_places() -> None:
    left = np.array([100.0, 300.0, 200.0, 400.0])
    local = UnitAmounts(np.array([-1, -1, 0, 0]), np.array([150.0]))
    national = renewal_done(left, 200.0, UnitAmounts.none(4))
    # National: 200 of 1,000 left, a fifth of each place's households left.
    np.testing.assert_allclose(national, [20.0, 60.0, 40.0, 80.0])
    done = renewal_done(left, 200.0, local)
    # The unit renovates its 150 over its places by households left (200:400): 50 and 100.
    np.testing.assert_allclose(done, [20.0, 60.0, 50.0, 100.0])
    # A unit never renovates more than it has left; without a national programme the other
    # places renovate nothing.
    big = UnitAmounts(np.array([-1, -1, 0, 0]), np.array([1e6]))
    np.testing.assert_allclose(renewal_done(left, 0.0, big), [0.0, 0.0, 200.0, 400.0])


def test_renew_communities_with_a_named_unit_leaves_the_other_places_as_they_were() -> None:
    def run(local: UnitAmounts | None) -> tuple[np.ndarray, np.ndarray, float]:
        ps = places(3, urban_households=[100.0, 300.0, 200.0])
        gs = govs(2)
        rn = Renewal(households_per_year=60.0, cost_per_household=1000.0, subsidy_share=0.5)
        subsidy = E.renew_communities(ps, gs, rn, np.array([0, 0, 1]), 2, local)
        return ps.renewed_households, gs.renewal_cost, subsidy

    base = run(None)
    named = run(UnitAmounts(np.array([-1, -1, 0]), np.array([100.0])))
    # National: 60 of 600 left, a tenth each: [10, 30, 20]; the unit does 100 at place 2.
    np.testing.assert_allclose(base[0], [10.0, 30.0, 20.0])
    np.testing.assert_allclose(named[0], [10.0, 30.0, 100.0])
    # Government 0's cost is unchanged; government 1 pays half of 100 households' cost.
    np.testing.assert_allclose(named[1], [base[1][0], 50_000.0])
    assert named[2] == pytest.approx(0.5 * 1000.0 * 140.0)


def test_a_named_county_town_budget_replaces_the_national_money_of_its_places_only() -> None:
    ct = CountyTown(budget=0.004, priority=by_region(1.0, 0.8, 0.5, 0.5))
    region = np.array([0, 0, 0, 2, 2])
    kind = np.array([1, 1, 0, 1, 1])  # place 2 is an urban district
    urban = np.array([3000.0, 1000.0, 5000.0, 2000.0, 2000.0])
    pilot = np.array([np.nan, np.nan, np.nan, np.nan, 0.0])  # place 4 excluded
    national = np.array([3e6, 1e6, 0.0, 0.0, 0.0])  # the national split over pilots 0 and 1
    local = UnitAmounts(np.array([-1, -1, 0, 0, 0]), np.array([0.001]))  # 1 million yuan
    money = county_town_money(national, ct, local, region, kind, urban, pilot)
    # The unit's million goes to its only eligible county town (place 3: the district is not a
    # county town, place 4 is excluded); places 0 and 1 keep the national money.
    np.testing.assert_allclose(money, [3e6, 1e6, 0.0, 1e6, 0.0])
    assert county_town_money(national, ct, UnitAmounts.none(5), region, kind, urban, pilot) is (
        national
    )


def test_fund_programme_spends_money_by_place_at_each_place_efficiency() -> None:
    ps = places(3, urban_residents=[1000.0, 1000.0, 1000.0])
    ct = CountyTown(share_services=1.0, share_amenity=0.0, share_jobs=0.0)
    money = np.array([0.0, 2000.0, 4000.0])
    spent = E.fund_programme(
        ps, ct, np.zeros(0, dtype=np.int64), np.zeros(3, dtype=np.int64), 100.0,
        np.array([1.0, 1.0, 1.5]), 1.0, money,
    )  # fmt: skip
    assert spent == 6000.0
    # capacity += money * efficiency / unit cost: 2000 / 100 and 4000 * 1.5 / 100
    np.testing.assert_allclose(ps.programme_capacity, [0.0, 20.0, 60.0])
