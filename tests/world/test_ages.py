"""Ages of the initial households: heads spread within their age group, children of distinct ages
inside the head's window, the census 0-14 share met per place in expectation."""

from __future__ import annotations

import numpy as np
import pytest

from urbsim.kernels import layout as L
from urbsim.world import ages as A


def _bits(mask: int) -> list[int]:
    return [a for a in range(L.KID_AGES) if mask >> a & 1]


def test_head_ages_stay_in_their_group() -> None:
    rng = np.random.default_rng(1)
    group = np.repeat(np.arange(4), 5000)
    age = A.head_ages(rng, group, np.ones(group.shape[0], dtype=np.int64))
    for g, (lo, hi) in enumerate(((15, 29), (30, 44), (45, 59), (60, 99))):
        assert age[group == g].min() == lo and age[group == g].max() <= hi
    assert age[group == 1].max() == 44
    # 60+: 60 plus an exponential of mean 9 years (floored): mean about 60 + 8.5.
    assert age[group == 3].mean() == pytest.approx(68.5, abs=0.5)


def test_children_have_distinct_ages_in_the_window() -> None:
    rng = np.random.default_rng(2)
    n = 20000
    head = rng.integers(15, 90, n)
    n_kids = rng.integers(0, 6, n)
    kids = A.kid_masks(rng, head, n_kids, np.full(n, 2.0))
    for i in range(0, n, 97):
        ages = _bits(int(kids[i]))
        window = max(0, min(31, head[i] - 18) + 1)
        assert len(ages) == min(n_kids[i], window)
        assert all(a <= head[i] - 18 for a in ages)
    np.testing.assert_array_equal(A.school_children(np.array([0b111111 << 5], np.uint32)), [3])
    np.testing.assert_array_equal(A.school_children(np.array([(1 << 5) | (1 << 15)])), [0])


def test_young_weights_meet_the_expected_share() -> None:
    """Two places with the same households, one wanting more young children than the other:
    the solved weights give the wanted expected counts (with-replacement expectation), and the
    draw comes close to them."""
    rng = np.random.default_rng(3)
    n = 40000
    place = np.repeat([0, 1], n // 2)
    head = rng.integers(35, 65, n)
    n_kids = rng.integers(0, 4, n)
    # Ages 0-14 and 15-31 in each window 0 .. min(31, head - 18).
    last = np.minimum(head - 18, 31)
    young = np.clip(np.minimum(last, 14) + 1, 0, None)
    old = np.maximum(last + 1, 0) - young
    k = n_kids.astype(float)
    # Targets: 40 % and 60 % of the children.
    target = np.array([0.4, 0.6]) * np.bincount(place, weights=k)
    w = A.young_weights(place, n_kids, head, target)
    share = w[place] * young / (w[place] * young + old)
    expected = np.bincount(place, weights=k * np.nan_to_num(share))
    np.testing.assert_allclose(expected, target, rtol=1e-6)
    assert w[1] > w[0]
    kids = A.kid_masks(rng, head, n_kids, w[place])
    drawn = np.array(
        [[sum(1 for a in _bits(int(m)) if a <= 14) for m in kids[place == j]] for j in (0, 1)],
        dtype=object,
    )
    got = np.array([sum(d) for d in drawn]) / np.bincount(place, weights=k)
    assert np.abs(got - [0.4, 0.6]).max() < 0.05


def test_household_ages_of_one_person_agents_have_no_children() -> None:
    rng = np.random.default_rng(4)
    persons = np.array([1, 1, 2, 5, 5])
    group = np.array([0, 3, 1, 1, 3])
    age, kids, children = A.household_ages(rng, np.zeros(5, int), persons, group, np.array([1.0]))
    assert 15 <= age[0] <= 29 and age[1] >= 60 and 30 <= age[2] <= 44
    assert kids[0] == kids[1] == kids[2] == 0
    assert [len(_bits(int(m))) for m in kids[3:]] == [3, 3]
    assert (children <= 3).all()


def test_head_ages_from_uniforms_follow_the_groups() -> None:
    """The keyed twin of head_ages: uniform years within 15-29, 30-44, 45-59; 60 plus an
    exponential of mean OLD_HEAD_MEAN_YEARS, floored and capped at 99."""
    from urbsim.world.ages import OLD_HEAD_MEAN_YEARS, head_ages_from

    n = 100_000
    u = np.random.default_rng(2).random(4 * n)
    group = np.repeat(np.arange(4), n)
    age = head_ages_from(u, group, np.ones(group.shape[0], dtype=np.int64))
    for g, (lo, hi) in enumerate(((15, 29), (30, 44), (45, 59))):
        part = age[group == g]
        assert part.min() == lo and part.max() == hi
        assert np.bincount(part - lo).min() > 0.9 * n / (hi - lo + 1)
    old = age[group == 3] - 60
    assert old.min() == 0 and old.max() <= 39
    # The floor G of an exponential of mean m has P(G >= k) = exp(-k / m); capped at 39 its
    # mean is the sum of those for k = 1..39. Five standard errors (sd below m).
    expected = np.exp(-np.arange(1, 40) / OLD_HEAD_MEAN_YEARS).sum()
    assert abs(old.mean() - expected) < 5 * OLD_HEAD_MEAN_YEARS / np.sqrt(n)


def test_grouped_young_weights_are_the_agent_by_agent_ones() -> None:
    """The census world's bisection over counts by (place, window, children) gives the weights
    of the agent-by-agent one (up to the bisection's resolution), heads too young for children
    and places without children included."""
    rng = np.random.default_rng(7)
    n, places = 50_000, 40
    place = np.sort(rng.integers(0, places - 1, n))  # the last place has no agents
    head = rng.integers(15, 99, n)
    # Heads under 18 with children too: their window is empty, whatever their children.
    kids = rng.integers(0, 6, n)
    target = np.bincount(place, weights=0.3 * kids * (head >= 18), minlength=places)
    a = A.young_weights(place, kids, head, target)
    b = A.young_weights_grouped(place, kids, head, target)
    np.testing.assert_allclose(b, a, rtol=1e-9)
    # A target out of reach moves the weight to the end of the bracket, in both.
    high = A.young_weights_grouped(place, kids, head, target * 100)
    assert (high[:-1] > 1e4).all()


def test_keyed_kid_masks_are_the_smallest_keys_of_keyed_exponentials() -> None:
    """The census world's children: drawing each window age's key where it is needed gives the
    masks of the rule applied to a full grid of the same keyed exponentials."""
    from urbsim.world.keyed import KeyedDraws

    rng = np.random.default_rng(3)
    n, first, draw0 = 5000, 123_456, 100
    head = rng.integers(15, 99, n)
    kids = rng.integers(0, 7, n)
    weight = rng.uniform(0.2, 5.0, n)
    draws = KeyedDraws(9, first, n)
    got = A.kid_masks_keyed(draws.key, first, head, kids, weight, draw0)
    keys = -np.log1p(-draws.uniform_grid(draw0, L.KID_AGES))
    lo, hi = A._windows(head.astype(np.int64))
    expected = A._smallest_keys(keys, lo, hi, kids.astype(np.int64), weight)
    np.testing.assert_array_equal(got, expected)
    assert (got[kids == 0] == 0).all() and got.any()


@pytest.mark.parametrize("keyed", [False, True])
def test_a_head_with_a_partner_is_of_marriage_age(keyed: bool) -> None:
    """Households of two or more persons (a head and a partner of the head's age) have heads of
    at least PARTNER_MIN_AGE, spread uniformly over 20-29 in the first group; one-person agents
    keep 15-29; nothing else depends on the persons (the keyed draws, exactly)."""
    n = 60_000
    rng = np.random.default_rng(5)
    group = np.repeat(np.arange(4), n)
    persons = np.tile(np.array([1, 2, 3, 6]), n)
    if keyed:
        u = rng.random(group.shape[0])
        age = A.head_ages_from(u, group, persons)
    else:
        age = A.head_ages(rng, group, persons)
    first = group == 0
    alone, partnered = age[first & (persons == 1)], age[first & (persons >= 2)]
    assert alone.min() == 15 and alone.max() == 29
    assert partnered.min() == A.PARTNER_MIN_AGE == 20 and partnered.max() == 29
    counts = np.bincount(partnered - 20, minlength=10)
    assert counts.min() > 0.9 * partnered.size / 10
    for g, lo in ((1, 30), (2, 45), (3, 60)):
        assert age[group == g].min() == lo
    if keyed:
        # The same uniforms with every agent alone: only the partnered heads of 15-29 change.
        again = A.head_ages_from(u, group, np.ones_like(persons))
        same = ~(first & (persons >= 2))
        np.testing.assert_array_equal(again[same], age[same])
