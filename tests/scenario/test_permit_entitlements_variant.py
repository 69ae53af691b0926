"""The permit-entitlement variant acts where it should: the entitlement gap falls in every size
class, and the capacity gap shows whether the capacity built for the old entitlement binds."""

from __future__ import annotations

from pathlib import Path

import pytest

import urbsim
from urbsim.analysis.services import gaps_by_size_class

ROOT = Path(__file__).resolve().parents[2]
VARIANT = ROOT / "scenarios" / "policy" / "v_permit_entitlements.toml"
# Coarse, so the two runs take seconds; both use the same seed, so they share every draw until
# the variant's policy starts in 2020.
SCALE = {"world.households_per_agent": 8000}


@pytest.fixture(scope="module")
def gaps() -> dict[str, object]:
    base = urbsim.run("china_census", until=2021, overrides=SCALE)
    variant = urbsim.run(str(VARIANT), until=2021, overrides=SCALE)
    return {
        "base": gaps_by_size_class(base.places).set_index(["year", "size_class"]),
        "variant": gaps_by_size_class(variant.places).set_index(["year", "size_class"]),
    }


@pytest.mark.slow
def test_nothing_differs_before_the_policy(gaps: dict) -> None:
    before = gaps["base"].loc[2019]
    assert (gaps["variant"].loc[2019] == before).all().all()


@pytest.mark.slow
def test_the_entitlement_gap_falls_in_every_size_class(gaps: dict) -> None:
    base = gaps["base"].loc[2021, "entitlement_gap_pct"]
    variant = gaps["variant"].loc[2021, "entitlement_gap_pct"]
    # A permit entitling in full from the first year closes a visible part of the gap.
    assert (variant < base - 0.1).all(), (base, variant)


@pytest.mark.slow
def test_capacity_then_binds_somewhere_but_not_everywhere_alike(gaps: dict) -> None:
    base = gaps["base"].loc[2021, "capacity_gap_pct"]
    variant = gaps["variant"].loc[2021, "capacity_gap_pct"]
    # The newly entitled use services from the same capacity, so the capacity gap does not
    # fall, but for the households the entitlement moves: the small cities' gap was
    # 0.003 percentage points lower in the variant (1.503 against 1.506 %) once the network
    # counted a household's own copies at its origin's share (2026-12-04).
    assert (variant >= base - 0.01).all(), (base, variant)
    assert (variant > base).any()
