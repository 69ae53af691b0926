"""The ``return_migrants`` output of a run rises with the return terms of the destination choice
and with the return hazard, whose own returns ``hazard_return_migrants`` reports (small
synthetic world, same seed: common random numbers)."""

from __future__ import annotations

from collections.abc import Callable

import urbsim
from urbsim.scenario import LoadedScenario

NO_TERMS = {
    "home_age": 0.0,
    "stay_age": 0.0,
    "return_years_away": 0.0,
    "return_unemployed": 0.0,
    "return_left_behind": 0.0,
    "return_rate": 0.0,  # the choice's returns alone
}


def test_return_migrants_rise_with_the_return_terms(
    small_scenario: Callable[..., LoadedScenario],
) -> None:
    """Without the return terms some migrants go home; with an older head, a lost job and
    children left behind all favouring home (3 utils each), at least half as many again do
    (measured at seed 1: 34.0 million persons 2011-2016 without, 72.8 million with; 24.9 and
    64.2 million when the network where a household lives counted its own agent's copies as
    neighbours, 48.0 and 82.6 million when it left them out, 1.2 and 7.8 million when a
    return paid the distance cost), while the floating population stays of the same order."""
    strong = {**NO_TERMS, "home_age": 0.1, "stay_age": 0.1, "return_unemployed": 3.0,
              "return_left_behind": 3.0}  # fmt: skip
    runs = {
        name: urbsim.run(small_scenario(seed=1, behaviour=terms)).national
        for name, terms in (("without", NO_TERMS), ("with", strong))
    }
    without, with_terms = (runs[k]["return_migrants"].sum() for k in ("without", "with"))
    assert without > 0
    assert with_terms > 1.5 * without
    floating = runs["with"]["floating_population"].iloc[-1]
    assert floating > 0.8 * runs["without"]["floating_population"].iloc[-1]


def test_return_hazard_adds_its_own_returns(
    small_scenario: Callable[..., LoadedScenario],
) -> None:
    """Off, the hazard sends nobody home; at 10 % a year for the reference household it adds
    returns that ``hazard_return_migrants`` counts among ``return_migrants``: the run's
    returns rise by more than the hazard's own (the choice's returns are not displaced one for
    one) and by at least a few per cent of the floating population a year."""
    runs = {
        rate: urbsim.run(small_scenario(seed=1, behaviour={"return_rate": rate})).national
        for rate in (0.0, 0.1)
    }
    off, on = runs[0.0], runs[0.1]
    assert (off["hazard_return_migrants"] == 0).all()
    assert (on["hazard_return_migrants"] <= on["return_migrants"]).all()
    later = on["year"] > on["year"].min()
    rate = on["hazard_return_migrants"][later] / on["floating_population"].shift()[later]
    assert (rate > 0.02).all(), rate.to_list()
    assert on["return_migrants"].sum() > off["return_migrants"].sum()
