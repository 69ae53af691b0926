"""Hand-made cases for urbsim.dynamics.policy: the policy in force per place and the pilots."""

from __future__ import annotations

import numpy as np
import places_helpers as P
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from urbsim.dynamics.policy import expand_policy, growth_poles, select_pilots, settlement_class
from urbsim.kernels.layout import RULE_CODES
from urbsim.places import COUNTY_TOWN
from urbsim.scenario.schema import SETTLEMENT_KEYS, CountyTown, Policy
from urbsim.state import PolicyArrays

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
    assert pa.funding_permanent
    np.testing.assert_array_equal(pa.efficiency, [1.5] * 4)
    np.testing.assert_array_equal(pa.pole, CAPITAL)
    # One schedule per place, the national one (capped at access_cap) everywhere.
    np.testing.assert_array_equal(pa.access, [[0.55, 0.65, 0.75, 0.85]] * 4)
    assert not pa.permit_on.any() and (pa.permit_months == 6).all()


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


# ---------------------------------------------------------------------------------------------
# Policies that name places (issue 13): precedence, inheritance, caps
# ---------------------------------------------------------------------------------------------
def _policy_with_places(places: list[dict[str, object]], **rest: object) -> Policy:
    return Policy.model_validate({"places": places, **rest})


def _expand(policy: Policy, residents: np.ndarray | None = None) -> PolicyArrays:
    return expand_policy(policy, P.SIZE, P.KIND, P.CAPITAL, P.small_index(), residents)


def test_place_rules_precede_city_over_prefecture_over_province_over_size_class() -> None:
    policy = _policy_with_places(
        [
            # Listed most specific first: the order in the file must not matter.
            {"code": 440105, "name": "海珠区", "settlement": {"min_years": 1}},
            {"code": 440100, "name": "广州市", "settlement": {"min_years": 4}},
            {"code": 440000, "name": "广东省", "settlement": {"min_years": 6}},
        ]
    )
    base = expand_policy(Policy(), P.SIZE, P.KIND, P.CAPITAL)
    pa = _expand(policy)
    # Beijing (not addressed) keeps its size class; Guangdong's county and Shenzhen take the
    # province; Guangzhou's districts the prefecture, except Haizhu which names itself.
    assert pa.min_years.tolist() == [*base.min_years[:2].tolist(), 4, 1, 6, 6]
    np.testing.assert_array_equal(pa.rule, base.rule)


def test_a_place_entry_overrides_only_the_fields_it_gives() -> None:
    policy = _policy_with_places(
        [
            {
                "code": 110000,
                "name": "北京市",
                "settlement": {"rule": "points", "quota_per_10k": 3.0},
            },
            {"code": 110102, "name": "西城区", "settlement": {"min_years": 9}},
        ],
        settlement={"super_large": {"rule": "conditional", "min_years": 7}},
    )
    pa = _expand(policy)
    assert pa.rule[:2].tolist() == [RULE_CODES["points"]] * 2
    assert pa.quota_per_10k[:2].tolist() == [3.0, 3.0]
    # Xicheng's years come from its own entry; Dongcheng keeps the size class's 7.
    assert pa.min_years[:2].tolist() == [7, 9]


def test_growth_pole_by_place_overrides_the_rule_but_never_makes_a_county_a_pole() -> None:
    policy = _policy_with_places(
        [
            {"code": 440000, "name": "Guangdong", "growth_pole": True},
            {"code": 440103, "name": "荔湾区", "growth_pole": False},
        ],
        growth_poles={"rule": "capitals"},
    )
    assert _expand(policy).pole.tolist() == [True, True, False, True, True, False]


def test_expand_policy_without_an_index_refuses_place_rules() -> None:
    policy = _policy_with_places([{"code": 110000, "name": "北京市"}])
    with pytest.raises(ValueError, match="place index"):
        expand_policy(policy, P.SIZE, P.KIND, P.CAPITAL)


def test_an_address_the_world_does_not_hold_applies_to_no_place() -> None:
    # Shanghai is not in the small world (a world of part of China): its rule acts nowhere.
    closed = {"rule": "closed", "min_years": 9, "quota_per_10k": 1.0}
    policy = _policy_with_places([{"code": 310000, "name": "上海市", "settlement": closed}])
    pa, base = _expand(policy), _expand(Policy())
    for name in ("rule", "min_years", "quota_per_10k"):
        np.testing.assert_array_equal(getattr(pa, name), getattr(base, name))


CAP = {"residents": 10e6, "trigger": 0.8, "quota_cut": 0.5, "school_access": 0.4}


def test_a_cap_measures_the_whole_unit_and_acts_on_each_of_its_places() -> None:
    policy = _policy_with_places(
        [{"code": 110000, "name": "北京市", "population_cap": CAP}],
        settlement={"super_large": {"rule": "points", "min_years": 5, "quota_per_10k": 4.0}},
    )
    # Beijing's 9 million residents: 90 % of the cap, half-way from the trigger (80 %).
    residents = np.array([4e6, 5e6, 1e6, 1e6, 1e6, 1e6])
    pa = _expand(policy, residents)
    np.testing.assert_allclose(pa.cap_pressure, [0.5, 0.5, 0, 0, 0, 0])
    np.testing.assert_allclose(pa.quota_per_10k[:2], [4.0 * 0.75] * 2)
    np.testing.assert_allclose(pa.school_access, [0.7, 0.7, 1, 1, 1, 1])
    np.testing.assert_allclose(pa.housing_supply_cut, [0.5, 0.5, 0, 0, 0, 0])
    np.testing.assert_allclose(pa.demolition, [0.005, 0.005, 0, 0, 0, 0])


def test_a_cap_reached_is_enforced_in_full_and_none_is_enforced_below_the_trigger() -> None:
    policy = _policy_with_places([{"code": 440300, "name": "深圳市", "population_cap": CAP}])
    over = _expand(policy, np.array([0, 0, 0, 0, 12e6, 0.0]))
    under = _expand(policy, np.array([0, 0, 0, 0, 7.9e6, 0.0]))
    assert over.cap_pressure[4] == 1.0 and over.school_access[4] == pytest.approx(0.4)
    assert under.cap_pressure.max() == 0.0 and under.school_access.min() == 1.0


def test_a_cap_in_force_needs_the_residents() -> None:
    policy = _policy_with_places([{"code": 440300, "name": "深圳市", "population_cap": CAP}])
    with pytest.raises(ValueError, match="residents"):
        _expand(policy)


_RULES = st.builds(
    dict,
    rule=st.sampled_from(["closed", "open", "conditional", "points"]),
    min_years=st.integers(0, 50),
    quota_per_10k=st.floats(0, 10_000, allow_nan=False),
)


@settings(max_examples=60, deadline=None)
@given(rule=_RULES, split=st.lists(st.booleans(), min_size=4, max_size=4))
def test_addresses_covering_every_place_equal_the_size_class_form(
    rule: dict[str, object], split: list[bool]
) -> None:
    """One rule given to every size class, or to addresses that cover every place (each
    prefecture by itself or through its province, chosen at random), expands the same."""
    by_class = Policy.model_validate({"settlement": dict.fromkeys(SETTLEMENT_KEYS, rule)})
    prefectures = {110100: "北京市", 440100: "广州市", 440300: "深圳市", 441800: "清远市"}
    places: list[dict[str, object]] = [
        {"code": 110000, "name": "北京市", "settlement": rule},
        {"code": 440000, "name": "广东省", "settlement": rule},
    ]
    for chosen, (code, name) in zip(split, prefectures.items(), strict=True):
        if chosen:
            places.append({"code": code, "name": name, "settlement": rule})
    by_place = _policy_with_places(places, settlement={"mega": {"rule": "closed"}})
    a = expand_policy(by_class, P.SIZE, P.KIND, P.CAPITAL)
    b = _expand(by_place)
    for name in ("rule", "min_years", "quota_per_10k"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


def test_named_county_town_pilots_come_first_and_excluded_ones_never() -> None:
    ct = CountyTown.model_validate({"pilot_counties": 2})
    region = np.zeros(6, dtype=np.int64)
    kind = np.array([0, 1, 1, 1, 1, 1])
    urban = np.array([9e6, 5e5, 4e5, 3e5, 2e5, 1e5])
    # By priority alone: the two largest county towns, 1 and 2.
    np.testing.assert_array_equal(select_pilots(ct, region, kind, urban), [1, 2])
    named = np.array([1.0, np.nan, 0.0, np.nan, np.nan, 1.0])
    # 5 is named (it takes a slot), 2 is excluded, 1 fills the other slot; a district (0) is
    # never a pilot even when named.
    np.testing.assert_array_equal(select_pilots(ct, region, kind, urban, named), [1, 5])
    three_named = np.array([np.nan, 1.0, 1.0, 1.0, np.nan, np.nan])
    np.testing.assert_array_equal(select_pilots(ct, region, kind, urban, three_named), [1, 2, 3])


def test_county_town_pilots_by_place_expand_by_precedence() -> None:
    policy = _policy_with_places(
        [
            {"code": 440000, "name": "广东省", "county_town_pilot": False},
            {"code": 441821, "name": "佛冈县", "county_town_pilot": True},
        ]
    )
    pilot = _expand(policy).pilot
    assert np.isnan(pilot[:2]).all() and pilot[2:].tolist() == [0.0, 0.0, 0.0, 1.0]


def test_every_prefecture_of_the_census_world_addressed_equals_the_size_class_form() -> None:
    """At full size (2,870 places, 341 prefectures addressed one by one) the expansion gives
    what the size-class form gives, and a cap on every province is measured per province."""
    from urbsim.scenario.places import census_reference

    index = census_reference()
    n = len(index)
    rng = np.random.default_rng(3)
    size = rng.integers(0, 6, n).astype(np.int8)
    kind = np.where(rng.uniform(size=n) < 0.3, 0, 1).astype(np.uint8)
    capital = np.zeros(n, dtype=np.bool_)
    rule = {"rule": "points", "min_years": 4, "quota_per_10k": 7.5}
    by_class = Policy.model_validate({"settlement": dict.fromkeys(SETTLEMENT_KEYS, rule)})
    prefectures = sorted(set(index.prefecture_code.tolist()))
    places = [{"code": c, "name": index.names_of(c)[0], "settlement": rule} for c in prefectures]
    by_place = Policy.model_validate({"places": places})
    a = expand_policy(by_class, size, kind, capital)
    b = expand_policy(by_place, size, kind, capital, index)
    for name in ("rule", "min_years", "quota_per_10k"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    provinces = sorted({c // 10_000 * 10_000 for c in prefectures})
    caps = [
        {"code": c, "name": index.names_of(c)[0], "population_cap": {"residents": 1e6}}
        for c in provinces
    ]
    residents = np.full(n, 1e4)
    cap_policy = Policy.model_validate({"places": caps})
    capped = expand_policy(cap_policy, size, kind, capital, index, residents)
    per_province = np.bincount(index.province_code, weights=residents)[index.province_code]
    expected = np.clip((per_province / 1e6 - 0.9) / 0.1, 0.0, 1.0)
    np.testing.assert_allclose(capped.cap_pressure, expected, rtol=1e-12)
