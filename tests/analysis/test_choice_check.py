"""The sampled destination choice against the full-choice-set logit (McFadden 1978).

On the 8-place world of :func:`urbsim.analysis.choice_check.example_case`, 20,000 choices
(500 identical movers times 40 seeds, 20 candidate draws each) of the real Numba household step
are compared with the logit over every alternative by Pearson's chi-square test at
significance ``ALPHA``. With the sampling correction the test passes; without it (each sampled
place weighted ``exp(V)``, size and distance counted twice) it fails by a wide margin. The
finite-sample bias of the corrected choice (a ratio estimate, O(1/K)) is below what 20,000
choices can detect at K = 20: measured over 500,000 choices it adds about 70 to the statistic,
about 3 at this sample size.
"""

from __future__ import annotations

import numpy as np
import pytest

from urbsim.analysis.choice_check import (
    ChoiceCase,
    example_case,
    full_logit_probabilities,
    goodness_of_fit,
    mean_full_logit_probabilities,
    sampled_choice_frequencies,
)
from urbsim.state import RURAL, URBAN

#: Significance of the goodness-of-fit test.
ALPHA = 0.01
SEEDS = range(40)


@pytest.fixture(scope="module")
def case():  # type: ignore[no-untyped-def]
    return example_case(movers=500, candidates=20)


def test_full_logit_covers_every_alternative_once(case) -> None:  # type: ignore[no-untyped-def]
    alternatives, p = full_logit_probabilities(case.inputs, case.households, 0)
    # Stay (urban zone of place 0), home (rural zone of place 5, land), the home town (urban
    # zone of place 5), every other urban zone.
    assert alternatives[:3] == [(0, URBAN), (5, RURAL), (5, URBAN)]
    assert sorted(alternatives[3:]) == [(j, URBAN) for j in (1, 2, 3, 4, 6, 7)]
    assert p.sum() == pytest.approx(1.0)
    # A case where the choice is not one-sided: stay and at least three places matter.
    assert (p > 0.01).sum() >= 4 and p.max() < 0.7


def test_sampled_choice_reproduces_the_full_logit(case) -> None:  # type: ignore[no-untyped-def]
    alternatives, p = full_logit_probabilities(case.inputs, case.households, 0)
    counts = sampled_choice_frequencies(case.inputs, case.households, case.members, SEEDS)
    assert sum(counts.values()) == 20_000
    _, _, p_value = goodness_of_fit(alternatives, p, counts)
    assert p_value > ALPHA


def test_uncorrected_sampling_fails_the_check(case) -> None:  # type: ignore[no-untyped-def]
    alternatives, p = full_logit_probabilities(case.inputs, case.households, 0)
    counts = sampled_choice_frequencies(
        case.inputs, case.households, case.members, SEEDS, correction=False
    )
    _, _, p_value = goodness_of_fit(alternatives, p, counts)
    assert p_value < ALPHA


@pytest.mark.parametrize("correction", [True, False])
def test_mesa_path_makes_the_same_choices(case, correction: bool) -> None:  # type: ignore[no-untyped-def]
    seeds = range(3)
    numba = sampled_choice_frequencies(
        case.inputs, case.households, case.members, seeds, correction=correction
    )
    mesa = sampled_choice_frequencies(
        case.inputs, case.households, case.members, seeds, "mesa", correction
    )
    assert mesa == numba


def test_goodness_of_fit_pools_rare_cells_and_rejects_unknown_choices() -> None:
    alternatives = [(0, 1), (1, 1), (2, 1)]
    p = np.array([0.5, 0.4999, 0.0001])
    statistic, dof, p_value = goodness_of_fit(alternatives, p, {(0, 1): 50, (1, 1): 50})
    assert dof == 1  # the third cell (expected 0.01) joins the second
    assert p_value > 0.5
    with pytest.raises(ValueError, match="outside the choice set"):
        goodness_of_fit(alternatives, p, {(3, 1): 1})
    assert statistic >= 0.0


def test_unknown_engine_is_rejected(case) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="engine"):
        sampled_choice_frequencies(case.inputs, case.households, case.members, [0], "gpu")


def test_lone_coarse_agent_meets_its_copies_as_the_full_logit_says() -> None:
    """A lone mover whose agent stands for 100 households: at the place where it lives, its
    agent's 99 other households count at the share of its hukou place's agents living there
    (docs/ODD.md 7.13), which doubles the probability of staying here. The sampled choice of
    the kernel reproduces that logit and rejects the logit without the copies, which is the
    same household at one household per agent (its network otherwise equal: 300 and 200
    households at places 2 and 6)."""
    coarse = example_case(movers=1, candidates=20, households_per_agent=100.0)
    fine = example_case(movers=1, candidates=20, households_per_agent=1.0)
    alternatives, p = full_logit_probabilities(coarse.inputs, coarse.households, 0)
    same, without_copies = full_logit_probabilities(fine.inputs, fine.households, 0)
    assert same == alternatives
    assert p[0] > 1.5 * without_copies[0]  # staying: (0, URBAN)
    counts = sampled_choice_frequencies(
        coarse.inputs, coarse.households, coarse.members, range(4000)
    )
    assert goodness_of_fit(alternatives, p, counts)[2] > ALPHA
    assert goodness_of_fit(alternatives, without_copies, counts)[2] < ALPHA


def test_example_case_refuses_unknown_behaviour_and_scales_that_change_the_network() -> None:
    with pytest.raises(ValueError, match="not behaviour parameters"):
        example_case(movers=1, behaviour={"beta_nework": 1.0})
    for scale in (0.0, 3.0, 400.0):
        with pytest.raises(ValueError, match="must divide 100"):
            example_case(movers=1, households_per_agent=scale)


def test_movers_at_home_meet_the_attachment_of_those_who_stay() -> None:
    """Heads of 55 at their hukou place with ``stay_age`` 0 and ``home_age`` 0.1: the age part
    of their attachment is zero (docs/ODD.md 7.13), 2.5 utilities less at every alternative at
    home than with one slope; the kernel's choices reproduce the first logit and reject the
    second."""
    behaviour = {"home_age": 0.1, "stay_age": 0.0, "home_preference": 0.0}
    case = example_case(candidates=20, at_home=True, head_age=55, behaviour=behaviour)
    one_slope = example_case(
        candidates=20, at_home=True, head_age=55, behaviour={**behaviour, "stay_age": 0.1}
    )
    alternatives, p = full_logit_probabilities(case.inputs, case.households, 0)
    same, p_one_slope = full_logit_probabilities(one_slope.inputs, one_slope.households, 0)
    assert same == alternatives and alternatives[0] == (5, RURAL)
    counts = sampled_choice_frequencies(case.inputs, case.households, case.members, SEEDS)
    assert goodness_of_fit(alternatives, p, counts)[2] > ALPHA
    assert goodness_of_fit(alternatives, p_one_slope, counts)[2] < ALPHA


#: Destination constants of the example's 8 places (util) for movers from the same province and
#: from the other: the home place 5 has them too, which a return must not get; staying at the
#: current place 0 gets its within-province one (0.7).
CONSTANTS = (
    (0.7, 1.5, -2.0, 2.5, 0.5, 3.0, -1.0, 1.0),
    (-1.0, 0.5, 2.0, -1.5, 1.0, -3.0, 2.5, 0.0),
)


def test_destination_constants_enter_the_sampled_choice_as_the_full_logit_says() -> None:
    """With constants per place and scope (docs/ODD.md 7.13: in the utility of every
    alternative but the hukou place, by whether it lies in the current place's province;
    staying, within), the kernel's choices reproduce the full logit with the constants and
    reject the logit without them; the hukou place's constants change nothing (a return does
    not get them), the other places' shift their odds against staying by the one of their
    scope less the current place's within one."""
    case = example_case(candidates=20, entry_constant=CONSTANTS)
    plain = example_case(candidates=20)
    alternatives, p = full_logit_probabilities(case.inputs, case.households, 0)
    same, p_plain = full_logit_probabilities(plain.inputs, plain.households, 0)
    assert same == alternatives
    province = case.inputs.places.province
    odds = (p / p[0]) / (p_plain / p_plain[0])  # against staying at place 0
    stay = CONSTANTS[0][0]
    expected = [
        np.exp((0.0 if j == 5 else CONSTANTS[int(province[j] != province[0])][j]) - stay)
        for j, _ in alternatives
    ]
    assert len(set(province[[j for j, _ in alternatives]])) == 2  # both scopes are exercised
    np.testing.assert_allclose(odds, expected, rtol=1e-12)
    counts = sampled_choice_frequencies(case.inputs, case.households, case.members, SEEDS)
    assert goodness_of_fit(alternatives, p, counts)[2] > ALPHA
    assert goodness_of_fit(alternatives, p_plain, counts)[2] < ALPHA
    mesa = sampled_choice_frequencies(case.inputs, case.households, case.members, range(3), "mesa")
    assert mesa == sampled_choice_frequencies(case.inputs, case.households, case.members, range(3))


def test_living_outside_the_hukou_province_enters_the_sampled_choice_as_the_full_logit_says() -> (
    None
):
    """With ``beta_outside_province`` every alternative outside the movers' hukou province
    (place 5's), staying at place 0 included, pays it: against staying, the odds of the
    alternatives in the hukou province rise by ``exp(beta)`` and the others' stay the same;
    the kernel's choices reproduce that logit and reject the one without the term."""
    beta = 1.5
    case = example_case(candidates=20, behaviour={"beta_outside_province": beta})
    plain = example_case(candidates=20)
    alternatives, p = full_logit_probabilities(case.inputs, case.households, 0)
    same, p_plain = full_logit_probabilities(plain.inputs, plain.households, 0)
    assert same == alternatives
    province = case.inputs.places.province
    odds = (p / p[0]) / (p_plain / p_plain[0])
    expected = [np.exp(beta) if province[j] == province[5] else 1.0 for j, _ in alternatives]
    assert province[0] != province[5] and 1.0 in expected[1:]  # both kinds are exercised
    np.testing.assert_allclose(odds, expected, rtol=1e-12)
    counts = sampled_choice_frequencies(case.inputs, case.households, case.members, SEEDS)
    assert goodness_of_fit(alternatives, p, counts)[2] > ALPHA
    assert goodness_of_fit(alternatives, p_plain, counts)[2] < ALPHA


def _odds_against_staying(
    case: ChoiceCase, other: ChoiceCase
) -> tuple[list[tuple[int, int]], np.ndarray, np.ndarray, np.ndarray]:
    """The full logits of household 0 in ``case`` and in ``other`` (the same choice set,
    staying in the urban zone of place 0 first) and how much likelier each alternative is
    against staying in the first than in the second."""
    alternatives, p = full_logit_probabilities(case.inputs, case.households, 0)
    same, p_other = full_logit_probabilities(other.inputs, other.households, 0)
    assert same == alternatives and alternatives[0] == (0, URBAN)
    return alternatives, p, p_other, (p / p[0]) / (p_other / p_other[0])


def _check_kernel_follows(
    case: ChoiceCase, alternatives: list[tuple[int, int]], p: np.ndarray, wrong: np.ndarray
) -> None:
    """The kernel's choices in ``case`` fit the probabilities ``p`` and reject ``wrong``; the
    reference engine makes the same choices as the kernel."""
    counts = sampled_choice_frequencies(case.inputs, case.households, case.members, SEEDS)
    assert goodness_of_fit(alternatives, p, counts)[2] > ALPHA
    assert goodness_of_fit(alternatives, wrong, counts)[2] < ALPHA
    mesa = sampled_choice_frequencies(case.inputs, case.households, case.members, range(3), "mesa")
    assert mesa == sampled_choice_frequencies(case.inputs, case.households, case.members, range(3))


def test_a_household_away_pays_its_share_of_the_moving_cost() -> None:
    """Movers away from home paying a tenth of a moving cost of 3 (docs/ODD.md 7.13): every
    move, a return included, is e^2.7 times likelier against staying than at the whole cost;
    the kernel's choices reproduce the first logit and reject the second."""
    behaviour = {"moving_cost": 3.0}
    case = example_case(candidates=20, behaviour={**behaviour, "moving_cost_away_share": 0.1})
    whole = example_case(candidates=20, behaviour=behaviour)
    alternatives, p, p_whole, odds = _odds_against_staying(case, whole)
    moved = np.array([j != 0 for j, _ in alternatives])
    np.testing.assert_allclose(odds[moved], np.exp(2.7), rtol=1e-12)
    _check_kernel_follows(case, alternatives, p, p_whole)


def test_a_household_whose_job_ended_pays_the_moving_cost_to_stay() -> None:
    """Movers away whose job ended (``job_separation`` 1; docs/ODD.md 7.11, 7.13) pay for
    staying what a move costs them, a moving cost of 3 at the away share 0.5: every move is
    e^1.5 times likelier against staying than when no job ends; the kernel's choices reproduce
    the first logit and reject the second, and a head of 60 keeps his job."""
    behaviour = {"moving_cost": 3.0, "moving_cost_away_share": 0.5}
    case = example_case(candidates=20, behaviour={**behaviour, "job_separation": 1.0})
    kept = example_case(candidates=20, behaviour=behaviour)
    alternatives, p, p_kept, odds = _odds_against_staying(case, kept)
    np.testing.assert_allclose(odds[1:], np.exp(1.5), rtol=1e-12)
    _check_kernel_follows(case, alternatives, p, p_kept)
    old = example_case(candidates=20, head_age=60, behaviour={**behaviour, "job_separation": 1.0})
    old_kept = example_case(candidates=20, head_age=60, behaviour=behaviour)
    old_alternatives, p_old = full_logit_probabilities(old.inputs, old.households, 0)
    _, p_old_kept = full_logit_probabilities(old_kept.inputs, old_kept.households, 0)
    np.testing.assert_array_equal(p_old, p_old_kept)
    # The kernel keeps his job too: its choices reject the logit in which staying paid.
    paid = p_old * np.where(np.arange(p_old.size) == 0, np.exp(-1.5), 1.0)
    _check_kernel_follows(old, old_alternatives, p_old, paid / paid.sum())


def test_jobs_that_end_at_random_make_the_choice_a_mixture_of_logits() -> None:
    """With ``job_separation`` 0.5 each mover's job ends on its own draw of the year: the
    choices follow the mean over movers and seeds of their full logits, not the logit in which
    every job ends nor the one in which none does."""
    behaviour = {"moving_cost": 3.0, "moving_cost_away_share": 0.5}
    case = example_case(candidates=20, behaviour={**behaviour, "job_separation": 0.5})
    alternatives, p = mean_full_logit_probabilities(
        case.inputs, case.households, case.members, SEEDS
    )
    every = example_case(candidates=20, behaviour={**behaviour, "job_separation": 1.0})
    none = example_case(candidates=20, behaviour=behaviour)
    _, p_every = full_logit_probabilities(every.inputs, every.households, 0)
    _, p_none = full_logit_probabilities(none.inputs, none.households, 0)
    counts = sampled_choice_frequencies(case.inputs, case.households, case.members, SEEDS)
    assert goodness_of_fit(alternatives, p, counts)[2] > ALPHA
    assert goodness_of_fit(alternatives, p_every, counts)[2] < ALPHA
    assert goodness_of_fit(alternatives, p_none, counts)[2] < ALPHA
    mesa = sampled_choice_frequencies(case.inputs, case.households, case.members, range(3), "mesa")
    assert mesa == sampled_choice_frequencies(case.inputs, case.households, case.members, range(3))


def test_matches_with_places_make_the_choice_a_mixture_of_logits() -> None:
    """Movers away with a match of +1 standard deviation with their place and sd 1.2
    (docs/ODD.md 7.13): each mover's choice is the full logit with its own draws of the year
    for the other places, so the choices follow the mean of those logits over movers and seeds,
    and not the logit without the matches (nor a logit that forgets the own match)."""
    behaviour = {"place_match_sd": 1.2}
    case = example_case(candidates=20, behaviour=behaviour)
    case.households.match[case.members] = 16
    alternatives, p = mean_full_logit_probabilities(
        case.inputs, case.households, case.members, SEEDS
    )
    plain = example_case(candidates=20)
    same, p_plain = full_logit_probabilities(plain.inputs, plain.households, 0)
    assert same == alternatives
    forgetful = example_case(candidates=20, behaviour=behaviour)
    _, p_forgetful = mean_full_logit_probabilities(
        forgetful.inputs, forgetful.households, forgetful.members, SEEDS
    )
    counts = sampled_choice_frequencies(case.inputs, case.households, case.members, SEEDS)
    assert goodness_of_fit(alternatives, p, counts)[2] > ALPHA
    assert goodness_of_fit(alternatives, p_plain, counts)[2] < ALPHA
    assert goodness_of_fit(alternatives, p_forgetful, counts)[2] < ALPHA
    mesa = sampled_choice_frequencies(case.inputs, case.households, case.members, range(3), "mesa")
    assert mesa == sampled_choice_frequencies(case.inputs, case.households, case.members, range(3))


def test_mean_full_logit_needs_members_alike() -> None:
    case = example_case(movers=2, candidates=4)
    with pytest.raises(ValueError, match="no members"):
        mean_full_logit_probabilities(case.inputs, case.households, case.members, [])
    case.households.place[1] = 3
    with pytest.raises(ValueError, match="same choice set"):
        mean_full_logit_probabilities(case.inputs, case.households, case.members, [0])
