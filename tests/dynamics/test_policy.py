"""Hand-made cases for urbsim.dynamics.policy: the policy in force per place and the pilots."""

from __future__ import annotations

import numpy as np
import pytest

from urbsim.dynamics.policy import expand_policy, growth_poles, select_pilots, settlement_class
from urbsim.kernels.layout import RULE_CODES
from urbsim.places import COUNTY_TOWN
from urbsim.scenario.schema import CountyTown, Policy

# Four places: urban districts of a super-large (0), a mega (1) and a medium (4) city, and a
# county of the medium city's prefecture (kind 1); the first is in a capital prefecture.
SIZE = np.array([0, 1, 4, 4], dtype=np.int8)
KIND = np.array([0, 0, 0, 1], dtype=np.uint8)
CAPITAL = np.array([True, False, False, False])


def test_settlement_class_is_the_size_class_for_districts_and_county_town_otherwise() -> None:
    np.testing.assert_array_equal(settlement_class(SIZE, KIND), [0, 1, 4, COUNTY_TOWN])


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("none", [False, False, False, False]),
        ("capitals", [True, False, False, False]),
        ("super_mega", [True, True, False, False]),
        ("capitals_and_super_mega", [True, True, False, False]),
    ],
)
def test_growth_poles_by_rule(rule: str, expected: list[bool]) -> None:
    np.testing.assert_array_equal(growth_poles(rule, SIZE, KIND, CAPITAL), expected)


def test_growth_poles_capitals_and_super_mega_is_the_union() -> None:
    # A capital medium city: a pole under "capitals", not under "super_mega", so the union
    # rule must take it from the capitals side.
    capital = np.array([False, False, True, True])
    assert growth_poles("capitals_and_super_mega", SIZE, KIND, capital).tolist() == [
        True,
        True,
        True,
        False,  # a county is never a pole
    ]


def test_expand_policy_takes_each_place_rule_from_its_settlement_class() -> None:
    policy = Policy.model_validate(
        {
            "settlement": {
                "super_large": {"rule": "points", "min_years": 7, "quota_per_10k": 4.8},
                "mega": {"rule": "conditional", "min_years": 5},
                "medium": {"rule": "open", "min_years": 0},
                "county_town": {"rule": "closed", "min_years": 0},
            },
            "service_funding_base": "permanent",
            "governance_efficiency": 1.5,
            "growth_poles": {"rule": "capitals"},
        }
    )
    pa = expand_policy(policy, SIZE, KIND, CAPITAL)
    codes = [RULE_CODES[r] for r in ("points", "conditional", "open", "closed")]
    np.testing.assert_array_equal(pa.rule, codes)
    np.testing.assert_array_equal(pa.min_years, [7, 5, 0, 0])
    np.testing.assert_array_equal(pa.quota_per_10k, [4.8, 0.0, 0.0, 0.0])
    assert pa.funding_permanent and pa.efficiency == 1.5
    np.testing.assert_array_equal(pa.pole, CAPITAL)
    np.testing.assert_array_equal(pa.access, policy.permit.access)


def test_pilots_are_the_highest_priority_county_towns_ties_by_index() -> None:
    ct = CountyTown.model_validate(
        {
            "pilot_counties": 2,
            "priority": {"east": 1.0, "central": 0.5, "west": 0.5, "northeast": 0.0},
        }
    )
    region = np.array([0, 0, 1, 1, 3, 0])
    kind = np.array([0, 1, 1, 2, 1, 1])
    urban = np.array([9e6, 1000.0, 4000.0, 2000.0, 1e6, 1000.0])
    # weights: place 0 is a district (excluded), 1: 1000, 2: 0.5 * 4000 = 2000, 3: 1000,
    # 4: northeast priority 0 (excluded), 5: 1000. Highest: 2 (2000), then the tie of 1, 3 and 5
    # at 1000 broken by index: 1.
    np.testing.assert_array_equal(select_pilots(ct, region, kind, urban), [1, 2])
    # More pilots than eligible county towns: all four eligible, sorted.
    many = ct.model_copy(update={"pilot_counties": 10})
    np.testing.assert_array_equal(select_pilots(many, region, kind, urban), [1, 2, 3, 5])
