"""One year of households as the yearly diagnostics read it: the arrays before and after a step.

A step keeps every household's row (households formed in the year are appended; dissolved
ones keep a row with no persons), so the first rows of the arrays after the year are the
households of the arrays before it. :mod:`urbsim.analysis.returns`,
:mod:`urbsim.analysis.worker_flows`, :mod:`urbsim.analysis.floating_flows` and
:mod:`urbsim.analysis.destinations` compare them row by row.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from urbsim.state import Households


def paired_rows(before: Households, after: Households) -> int:
    """The number of rows ``before`` and ``after`` share.

    Parameters
    ----------
    before, after
        The households at the start and at the end of a year.

    Returns
    -------
    int
        ``len(before)``: the rows of ``after`` from that on are households formed in the year.

    Raises
    ------
    ValueError
        When ``after`` has fewer rows than ``before`` (not the same households a year on).
    """
    n = len(before)
    if len(after) < n:
        raise ValueError(f"after has {len(after)} rows, fewer than before's {n}")
    return n


class Exits(NamedTuple):
    """Why households counted at the start of a year are not counted at its end (boolean masks
    over the rows of the start, disjoint; their union is the households that left the count)."""

    #: No persons left at the end.
    dissolved: np.ndarray
    #: Holding another hukou place at the end (took local hukou).
    settled: np.ndarray
    #: Living at the start's hukou place again, hukou unchanged.
    returned: np.ndarray
    #: Any other reason (the count's other conditions, such as another hukou type).
    other: np.ndarray


def exits(
    before: Households, after: Households, counted_before: np.ndarray, counted_after: np.ndarray
) -> Exits:
    """Split the households that leave a count in a year by why they left.

    Parameters
    ----------
    before, after
        The households at the start and at the end of a year.
    counted_before, counted_after
        Masks of the households in the count (such as the floating households of one hukou
        type) over the rows of ``before`` and of ``after``.

    Returns
    -------
    Exits
        Masks over the rows of ``before``; the tests are applied in the order of its fields.

    Raises
    ------
    ValueError
        When ``after`` has fewer rows than ``before``.
    """
    n = paired_rows(before, after)
    left = counted_before & ~counted_after[:n]
    alive = after.persons[:n] > 0
    settled = left & alive & (after.hukou_place[:n] != before.hukou_place)
    returned = left & alive & ~settled & (after.place[:n] == before.hukou_place)
    return Exits(left & ~alive, settled, returned, left & alive & ~settled & ~returned)
