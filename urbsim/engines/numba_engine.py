"""The default household engine: households as arrays, stepped by the Numba kernels."""

from __future__ import annotations

import numpy as np

from urbsim.config import N_CHUNKS
from urbsim.engines.base import StepResult
from urbsim.inputs import YearInputs
from urbsim.kernels import layout as L
from urbsim.kernels.demography import (
    FORMATION_FIELDS,
    formed_households,
    households_that_may_leave,
)
from urbsim.kernels.household_step import household_step
from urbsim.kernels.layout import N_FLOW
from urbsim.kernels.settlement import settle_points
from urbsim.rng import make_year_key
from urbsim.state import Households


class NumbaEngine:
    """Steps household arrays with :func:`household_step`, settles the points scheme, then
    appends the households formed by those who left home.

    Parameters
    ----------
    n_chunks
        Chunks of the parallel loop (results do not depend on it; tests vary it).
    """

    def __init__(self, n_chunks: int | None = None) -> None:
        self.n_chunks = N_CHUNKS if n_chunks is None else n_chunks

    def step(self, inputs: YearInputs, households: Households) -> StepResult:
        """All household behaviour of ``inputs.year``; ``households`` are updated in place, and
        the result holds them followed by the households formed this year (written into spare
        rows of the same buffers where there is room, :meth:`Households.append`)."""
        hh = households.as_dict()
        key = make_year_key(inputs.seed, inputs.year)
        n_prov = int(inputs.places.province.max()) + 1 if len(inputs.places.province) else 1
        flows = np.zeros((n_prov, n_prov, N_FLOW), dtype=np.int64)
        # Only the households whose leaving draw of the year may give a leaver are listed
        # (about a fifth of those with a child of leaving age): the kernel writes the leavers
        # of those only (one entry per listed household, not per household), and what leavers
        # take with them is their start-of-year state, of the fields a formed household is
        # made from (a copy of every household would double the state's memory).
        parents = households_that_may_leave(
            key, hh["kids"], hh["persons"], inputs.vital.leaving, self.n_chunks
        )
        leavers = np.zeros(parents.shape[0], dtype=np.uint32)
        start = {name: hh[name][parents] for name in FORMATION_FIELDS}
        counts, applicants = household_step(
            key,
            hh,
            inputs.places,
            inputs.par,
            inputs.access,
            inputs.gravity_cdf,
            inputs.origin_start,
            inputs.origin_members,
            inputs.network,
            self.n_chunks,
            inputs.network8,
            flows,
            netp=inputs.network_province,
            guide=inputs.gravity_guide,
            vital=inputs.vital,
            leavers=leavers,
            parents=parents,
        )
        quota = inputs.quota.copy()
        settled = settle_points(
            key, hh, applicants, inputs.places.gov, quota, inputs.par, inputs.places.surrender
        )
        # Applicants granted local hukou are no longer away from their hukou place.
        granted = applicants[hh["hukou_place"][applicants] == hh["place"][applicants]]
        hh["years_away"][granted] = 0
        hh["left_behind"][granted] = 0
        hh["match"][granted] = 0
        # Those who left home form households at the end of the year, appended in order, with
        # their parents' state at the start of the year (when they left).
        new = formed_households(start, leavers, inputs.places.gov.shape[0])
        # Every person who left home is in a formed household; a leaver of an unlisted
        # household (one households_that_may_leave ruled out) would be counted but missing.
        formed = int(new["persons"].sum(dtype=np.int64))
        if formed != counts[L.C_LEFT_HOME]:
            raise RuntimeError(
                f"{formed} persons formed households but {counts[L.C_LEFT_HOME]} left home: a "
                "household not listed as one that may have a leaver had one"
            )
        counts[L.C_FORMED] = new["persons"].shape[0]
        if counts[L.C_FORMED]:
            households = households.append(new)
        return StepResult(households, counts, settled, quota, flows)
