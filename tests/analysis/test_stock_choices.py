"""Where the floating stock would go on considering a move (urbsim.analysis.stock_choices)."""

from __future__ import annotations

import numpy as np
import pytest

from urbsim.analysis.choice_check import (
    example_case,
    full_logit_probabilities,
    sampled_choice_frequencies,
)
from urbsim.analysis.stock_choices import sample_floating, stock_choices


def test_the_full_logit_splits_into_home_stay_and_onward() -> None:
    """The choice check's movers (at place 0, hukou at place 5): home is both zones of place 5,
    staying place 0, onward the six other places; the three sum to one."""
    case = example_case(movers=20, candidates=4, head_age=50)
    rows = np.array([0, 3, 7])
    table = stock_choices(case.inputs, case.households, rows)
    alternatives, p = full_logit_probabilities(case.inputs, case.households, 0)
    place = np.array([a[0] for a in alternatives])
    assert table["home"].iloc[0] == pytest.approx(p[place == 5].sum(), rel=1e-12)
    assert table["stay"].iloc[0] == pytest.approx(p[place == 0].sum(), rel=1e-12)
    np.testing.assert_allclose(table[["home", "stay", "onward"]].sum(axis=1), 1.0, rtol=1e-12)
    assert (table["onward"] > 0.01).all()
    assert table["row"].tolist() == [0, 3, 7]
    assert set(table["age_band"]) == {"45_59"} and (table["head_age"] == 50).all()


def test_an_older_head_goes_home_more_under_an_attachment_growing_with_age() -> None:
    young = example_case(movers=2, candidates=4, head_age=30, behaviour={"home_age": 0.5})
    old = example_case(movers=2, candidates=4, head_age=60, behaviour={"home_age": 0.5})
    home_young = stock_choices(young.inputs, young.households, np.array([0]))["home"].iloc[0]
    home_old = stock_choices(old.inputs, old.households, np.array([0]))["home"].iloc[0]
    assert home_old > home_young + 0.5


def test_only_floating_households_are_weighed_and_sampled() -> None:
    case = example_case(movers=20, candidates=4, at_home=True)
    at_home = np.flatnonzero(case.households.place == case.households.hukou_place)
    with pytest.raises(ValueError, match="not floating"):
        stock_choices(case.inputs, case.households, at_home[:2])
    rows = sample_floating(case.households, 1000, seed=1)
    h = case.households
    assert (h.place[rows] != h.hukou_place[rows]).all() and (np.diff(rows) > 0).all()
    assert rows.size == int((h.place != h.hukou_place).sum())
    assert sample_floating(case.households, 5, seed=1).size == 5
    assert (sample_floating(h, 5, seed=1) == sample_floating(h, 5, seed=1)).all()


def test_the_split_predicts_where_the_models_movers_go() -> None:
    """The model's own choices (the Numba step with its sampled candidates, 500 movers x 40
    seeds, every household considering a move) go home, stay and move on in the proportions the
    diagnostic gives, within four binomial standard errors."""
    case = example_case(movers=500, candidates=20)
    table = stock_choices(case.inputs, case.households, np.array([0]))
    counts = sampled_choice_frequencies(case.inputs, case.households, case.members, range(40))
    total = sum(counts.values())
    share = {
        "home": sum(c for (j, _), c in counts.items() if j == 5) / total,
        "stay": sum(c for (j, _), c in counts.items() if j == 0) / total,
    }
    share["onward"] = 1.0 - share["home"] - share["stay"]
    for name, observed in share.items():
        p = float(table[name].iloc[0])
        assert abs(observed - p) < 4.0 * np.sqrt(p * (1.0 - p) / total), (name, observed, p)
