"""The ``job_ends`` and ``job_end_movers`` outputs of a run (docs/ODD.md 7.11, 7.17): none
without ``job_separation``; with it, a share of the floating persons a year, of whom those who
moved are a part, and more moves in all (small synthetic world, same seed: common random
numbers)."""

from __future__ import annotations

from collections.abc import Callable

import urbsim
from urbsim.scenario import LoadedScenario


def test_jobs_that_end_are_counted_and_add_moves(
    small_scenario: Callable[..., LoadedScenario],
) -> None:
    """Off, no job ends; at 0.3 a year the persons whose job ended are a share of the floating
    persons at the start of the year below 0.3 (only those in the urban zone with a head under
    60 are at risk) and well above nothing, those of them who moved are at most as many, and
    the run makes more moves."""
    runs = {
        rate: urbsim.run(small_scenario(seed=1, behaviour={"job_separation": rate})).national
        for rate in (0.0, 0.3)
    }
    off, on = runs[0.0], runs[0.3]
    assert (off["job_ends"] == 0).all() and (off["job_end_movers"] == 0).all()
    later = on["year"] > on["year"].min()
    share = on["job_ends"][later] / on["floating_population"].shift()[later]
    assert ((share > 0.05) & (share < 0.3)).all(), share.to_list()
    assert (on["job_end_movers"] <= on["job_ends"]).all()
    assert on["job_end_movers"][later].sum() > 0
    assert on["moves"].sum() > off["moves"].sum()
