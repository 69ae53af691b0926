"""What a household engine is: a function of a year's inputs and the households.

An engine never sees the model. The model hands it a :class:`~urbsim.inputs.YearInputs` and the
households; the engine lives the year and returns a :class:`StepResult`, which the model applies
(households, counters, the points quotas left).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from urbsim.inputs import YearInputs
from urbsim.state import Households


@dataclass(frozen=True)
class StepResult:
    """What a year of household behaviour produced.

    Attributes
    ----------
    households : Households
        The households at the end of the year (the Numba engine returns the arrays it was
        given, updated in place; the reference engine a fresh mirror of its agents).
    counters : numpy.ndarray
        Counters of the year, indexed by the ``C_*`` constants of :mod:`urbsim.kernels.layout`.
    settled : int
        Persons granted local hukou under the points scheme.
    quota_left : numpy.ndarray
        Points quota (persons) left per local government after settlement.
    flows : numpy.ndarray
        int64 ``(provinces, provinces, N_FLOW)``: the year's moves between places by province
        index of the place left and of the place chosen, as agent households
        (``flows[..., F_HOUSEHOLDS]``) and persons (``F_PERSONS``, :mod:`urbsim.kernels.layout`);
        ``provinces`` is one more than the largest province index of the places.
    """

    households: Households
    counters: np.ndarray
    settled: int
    quota_left: np.ndarray
    flows: np.ndarray


class HouseholdEngine(Protocol):
    """A household engine: ``numba`` (:class:`~urbsim.engines.numba_engine.NumbaEngine`) or
    the Mesa reference (:class:`~urbsim.engines.mesa_engine.MesaEngine`)."""

    def step(self, inputs: YearInputs, households: Households) -> StepResult:
        """Live one year of every household."""
        ...
