"""The default household engine: households as arrays, stepped by the Numba kernels."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from urbsim.kernels.aggregate import origin_index
from urbsim.kernels.household_step import household_step, settle_points
from urbsim.rng import make_year_key

if TYPE_CHECKING:
    from urbsim.model import UrbanizationModel


class NumbaEngine:
    """Steps the model's household arrays with :func:`household_step`.

    Parameters
    ----------
    model
        The model whose ``households`` arrays this engine advances.
    n_chunks
        Chunks of the parallel loop (results do not depend on it; tests vary it).
    """

    def __init__(self, model: UrbanizationModel, n_chunks: int | None = None) -> None:
        from urbsim.config import N_CHUNKS

        self.model = model
        self.n_chunks = N_CHUNKS if n_chunks is None else n_chunks
        self.flag = np.zeros(len(model.households), dtype=np.uint8)
        self._used_count_id = -1

    def step(self, year: int) -> tuple[np.ndarray, int]:
        """All household behaviour of ``year``; returns the counters and points conversions
        (persons)."""
        m = self.model
        hh = m.households.as_dict()
        key = make_year_key(m.spec.seed, year)
        pf, pi = m.place_inputs(year)
        if m.origin is not None and m.count_id != self._used_count_id:
            # The index of the count that closed last year describes the households as they
            # are now: only engine steps change them, and each is followed by a count.
            start, members = m.origin
            self._used_count_id = m.count_id
        else:
            start, members = origin_index(hh, m.n_places)
        counts = household_step(
            key,
            hh,
            pf,
            pi,
            m.behaviour_vector(),
            m.policy_arrays.access,
            m.gravity_cdf(),
            start,
            members,
            m.network,
            m.spec.behaviour.candidates,
            self.flag,
            self.n_chunks,
            m.network8,
        )
        b = m.spec.behaviour
        points = settle_points(
            key,
            hh,
            self.flag,
            m.gov_of_place,
            m.local_state.quota_left,
            m.hpa,
            b.points_education,
            b.points_years,
        )
        return counts, points
