"""The settlement policy fields: land surrender, hukou-only benefits by settlement class and
the permit access cap; their validation, their use in a timeline, their expansion to places,
and their effect on a run (required surrender lowers settlement of land-holding migrants)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from urbsim.dynamics.policy import expand_policy, land_surrender
from urbsim.model import UrbanizationModel
from urbsim.scenario import LoadedScenario
from urbsim.scenario.schema import SETTLEMENT_KEYS, Behaviour, Policy
from urbsim.state import AGRICULTURAL

# Four places: urban districts of a super-large (0), a mega (1) and a medium (4) city, and a
# county (kind 1) of the medium city's prefecture.
SIZE = np.array([0, 1, 4, 4], dtype=np.int8)
KIND = np.array([0, 0, 0, 1], dtype=np.uint8)
CAPITAL = np.zeros(4, dtype=bool)


def _by_class(*values: float) -> dict[str, float]:
    return dict(zip(SETTLEMENT_KEYS, values, strict=True))


# --- validation -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "table",
    [
        {"permit": {"access_cap": 1.0}},  # a permit may not equal a hukou
        {"permit": {"access_cap": -0.1}},
        {"land_surrender": "sometimes"},
        {"land_surrender": True},
        {"hukou_benefits": {"schooling": _by_class(0.1, 0.1, 0.1, 0.1, 0.1, 0.1, -0.1)}},
        {"hukou_benefits": {"home_purchase": _by_class(0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 25.0)}},
        {"hukou_benefits": {"home_purchase": {"super_large": 0.3}}},  # every class is needed
        {"hukou_benefits": {"pension": _by_class(*[0.1] * 7)}},
    ],
)
def test_policy_rejects_nonsense(table: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        Policy.model_validate(table)


@pytest.mark.parametrize(
    "table",
    [
        {"hukou_logit_scale": 0.0},
        {"land_value_dispersion": 1.0},  # the mean would be infinite
        {"land_region": [1.0, 1.0, 1.0]},
        {"land_region": [1.0, -0.5, 1.0, 1.0]},
    ],
)
def test_behaviour_rejects_nonsense(table: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        Behaviour.model_validate(table)


# --- expansion to places --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("rule", "expected"),
    [("none", [0, 0, 0, 0]), ("districts", [1, 1, 1, 0]), ("all", [1, 1, 1, 1])],
)
def test_land_surrender_by_rule(rule: str, expected: list[int]) -> None:
    np.testing.assert_array_equal(land_surrender(rule, KIND), expected)
    policy = Policy.model_validate({"land_surrender": rule})
    np.testing.assert_array_equal(expand_policy(policy, SIZE, KIND, CAPITAL).surrender, expected)


def test_hukou_benefits_come_from_the_settlement_class() -> None:
    policy = Policy.model_validate(
        {
            "hukou_benefits": {
                "schooling": _by_class(0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3),
                "home_purchase": _by_class(0.5, 0.4, 0.0, 0.0, 0.2, 0.0, 0.0),
                "social_insurance": _by_class(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7),
            }
        }
    )
    pa = expand_policy(policy, SIZE, KIND, CAPITAL)
    # Super-large, mega, medium district, county town (the county's own class).
    np.testing.assert_allclose(pa.hukou_benefit_child, [0.9, 0.8, 0.5, 0.3])
    np.testing.assert_allclose(pa.hukou_benefit, [0.6, 0.6, 0.7, 0.7])


def test_permit_access_is_capped_below_a_hukou() -> None:
    policy = Policy.model_validate({"permit": {"access": [0.5, 0.8, 0.95, 1.0], "access_cap": 0.9}})
    pa = expand_policy(policy, SIZE, KIND, CAPITAL)
    np.testing.assert_array_equal(pa.access, [[0.5, 0.8, 0.9, 0.9]] * len(SIZE))
    assert (pa.access < 1.0).all()


def test_the_fields_change_along_a_timeline(
    small_scenario: Callable[..., LoadedScenario],
) -> None:
    """Ordinary policy fields: a timeline year changes them from then on, and a partial table
    of benefits changes only the classes it names."""
    loaded = small_scenario(
        policy={"land_surrender": "districts"},
        timeline={
            "2013": {
                "land_surrender": "none",
                "permit": {"access_cap": 0.6},
                "hukou_benefits": {"home_purchase": {"mega": 0.9}},
            }
        },
    )
    before, after = loaded.policy(2012), loaded.policy(2013)
    assert (before.land_surrender, after.land_surrender) == ("districts", "none")
    assert after.permit.access_cap == 0.6
    assert after.hukou_benefits.home_purchase.mega == 0.9
    assert after.hukou_benefits.home_purchase.super_large == (
        before.hukou_benefits.home_purchase.super_large
    )


# --- effect on a run ------------------------------------------------------------------------------
_OPEN = {key: {"rule": "open", "min_years": 0} for key in SETTLEMENT_KEYS}


def _settled_shares(loaded: LoadedScenario) -> tuple[float, float]:
    """Shares of the floating agricultural households of 2010 with and without land rights
    that hold local hukou where they live at the end of the run."""
    model = UrbanizationModel(loaded)
    h = model.households
    floating = (h.persons > 0) & (h.place != h.hukou_place) & (h.hukou_type == AGRICULTURAL)
    landed, landless = floating & (h.land == 1), floating & (h.land == 0)
    model.run()
    end = model.households
    # Households formed during the run are appended: compare the households of 2010.
    n = landed.shape[0]
    local = (end.place[:n] == end.hukou_place[:n]) & (end.persons[:n] > 0)
    return float(local[landed].mean()), float(local[landless].mean())


@pytest.mark.slow
def test_required_land_surrender_lowers_settlement_of_landholders(
    small_scenario: Callable[..., LoadedScenario],
) -> None:
    """Every city open, a high application rate and land worth giving up: with surrender
    required land-holding migrants settle markedly less than without; landless migrants,
    who give up nothing, about as much."""
    shares = {}
    for rule in ("all", "none"):
        loaded = small_scenario(
            end_year=2014,
            behaviour={"hukou_apply_rate": 0.5, "land_value": 2.0, "hukou_premium": 0.5},
            policy={"land_surrender": rule, "settlement": _OPEN},
        )
        shares[rule] = _settled_shares(loaded)
    (landed_all, landless_all), (landed_none, landless_none) = shares["all"], shares["none"]
    assert landed_all < landed_none - 0.15, shares
    assert landless_all == pytest.approx(landless_none, abs=0.05), shares


def test_migrants_and_locals_add_up_to_the_conversions(
    small_scenario: Callable[..., LoadedScenario],
) -> None:
    """Every hukou conversion is a settled migrant or a local conversion (which includes the
    requisitions), and the points conversions are part of the settled migrants."""
    model = UrbanizationModel(small_scenario(end_year=2013, policy={"settlement": _OPEN}))
    model.run()
    nat = model.national_table().iloc[1:]
    np.testing.assert_allclose(
        nat["hukou_conversions"], nat["settled_migrants"] + nat["local_conversions"]
    )
    assert (nat["local_conversions"] >= nat["requisition_conversions"]).all()
    assert (nat["settled_migrants"] >= nat["points_conversions"]).all()
    assert nat["settled_migrants"].sum() > 0
    assert (nat["local_conversions"] > nat["requisition_conversions"]).any()
