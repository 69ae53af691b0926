"""One year of households as the yearly diagnostics read it: the arrays before and after a step.

A step keeps every household's row (households formed in the year are appended; dissolved
ones keep a row with no persons), so the first rows of the arrays after the year are the
households of the arrays before it. :mod:`urbsim.analysis.returns`,
:mod:`urbsim.analysis.worker_flows` and :mod:`urbsim.analysis.destinations` compare them row
by row.
"""

from __future__ import annotations

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
