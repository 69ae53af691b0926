"""Residence-permit rules by place: the national ``policy.permit`` overridden by the
``permit`` of addressed places (``policy.places[].permit``), field by field.

A permit schedule gives the service access of a holder by completed years of residence, the
last value holding after. Every place's schedule is written as a row of one matrix, padded
with its last value to the longest schedule in force, so that the household engines and the
service accounts read the entitlement of ``years`` at place ``j`` as
``access[j, min(years, width - 1)]``, the same number the schedule itself gives.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from urbsim.scenario.places import ResolvedPlace, place_values
from urbsim.scenario.schema import Permit


@dataclass(frozen=True)
class PermitArrays:
    """The permit rules in force, one value (or row) per place.

    Attributes
    ----------
    enabled : numpy.ndarray
        bool: the place issues residence permits.
    months : numpy.ndarray
        int64: residence (months) required before a permit can be had.
    access : numpy.ndarray
        float64 ``(n_places, width)``: access of a holder by completed years, capped at
        ``access_cap`` and padded with its last value.
    """

    enabled: np.ndarray
    months: np.ndarray
    access: np.ndarray


def padded(schedule: Sequence[float], width: int, cap: float) -> np.ndarray:
    """A schedule capped at ``cap`` and padded with its last value to ``width`` years."""
    row = np.minimum(np.asarray(schedule, dtype=np.float64), cap)
    return np.concatenate([row, np.full(width - row.shape[0], row[-1])])


def permit_arrays(permit: Permit, resolved: Sequence[ResolvedPlace], n: int) -> PermitArrays:
    """Per-place permit rules: ``permit`` (the national rules), then the addressed places'
    ``permit`` fields, the most specific address last (:func:`urbsim.scenario.places.place_values`).

    Parameters
    ----------
    permit
        ``policy.permit``; its ``access_cap`` caps every schedule (a permit never gives what a
        local hukou gives).
    resolved
        The policy's place entries with their places, least specific first.
    n
        Number of places.
    """
    enabled = place_values(np.full(n, permit.enabled), resolved, lambda e: e.permit.enabled)
    months = place_values(
        np.full(n, permit.min_residence_months, dtype=np.int64),
        resolved,
        lambda e: e.permit.min_residence_months,
    )
    schedules = [permit.access] + [
        r.entry.permit.access for r in resolved if r.entry.permit.access is not None
    ]
    which = np.zeros(n, dtype=np.int64)
    k = 0
    for r in resolved:
        if r.entry.permit.access is not None:
            k += 1
            which[r.places] = k
    width = max(len(s) for s in schedules)
    table = np.stack([padded(s, width, permit.access_cap) for s in schedules])
    return PermitArrays(enabled=enabled, months=months, access=table[which])
