"""urbsim under ``mesa.batch_run``: :class:`BatchModel`, parameters as dotted scenario fields.

``mesa.batch_run(model_cls, parameters, ...)`` calls ``model_cls(**one_combination)``, steps
the model while ``model.running``, and reads ``model.datacollector``.
:class:`~urbsim.model.UrbanizationModel` takes a validated scenario instead of keyword
parameters and keeps its own tables, so :class:`BatchModel` adds the three missing pieces::

    from mesa.batchrunner import batch_run
    from urbsim.adapters.mesa_batch import BatchModel

    rows = batch_run(
        BatchModel,
        parameters={
            "scenario": "scenarios/baseline.toml",
            "world.households_per_agent": 40000.0,
            "policy.permit.enabled": [False, True],
        },
        rng=[1, 2],            # one seed per replication: passed as BatchModel(seed=...)
        max_steps=100,         # years; a run stops at the scenario's end year anyway
        data_collection_period=1,
        display_progress=False,
    )
    # rows: one dict per run and year, with the parameters, "year" and every national column.

Limits, honestly: ``batch_run`` forces the ``spawn`` start method for all later
multiprocessing in the process; its ``Step`` counts years from 0 (``year`` is the calendar
year); with ``rng=None`` (its default) every run uses the scenario's own seed, so pass seeds
through ``rng``. For large designs, resumable output and sensitivity analysis, ``urbsim
sweep`` is the better tool.
"""

from __future__ import annotations

import os
from typing import Any

import mesa

from urbsim.model import UrbanizationModel
from urbsim.output.columns import NATIONAL, names
from urbsim.scenario import LoadedScenario


class BatchModel(UrbanizationModel):
    """An :class:`~urbsim.model.UrbanizationModel` built from keyword parameters.

    Parameters
    ----------
    scenario
        A scenario file, a packaged scenario's name or a LoadedScenario.
    seed
        Seed of the run (``mesa.batch_run`` passes its ``rng`` values here); None keeps the
        scenario's seed.
    **fields
        Scenario fields to set, by dotted key (``**{"policy.permit.enabled": True}``).

    Attributes
    ----------
    datacollector : mesa.DataCollector
        ``year`` and every national column, collected at the start and after each year.
    """

    def __init__(
        self,
        scenario: str | os.PathLike[str] | LoadedScenario,
        seed: int | None = None,
        **fields: Any,
    ) -> None:
        from urbsim.api import check_scenario

        super().__init__(check_scenario(scenario, seed=seed, overrides=fields))
        self._row: tuple[int, dict[str, Any]] | None = None
        reporters = {c: _reporter(c) for c in names(NATIONAL)}
        self.datacollector = mesa.DataCollector(model_reporters=reporters)
        self.running = self.year < self.end_year
        self.datacollector.collect(self)

    def last_row(self) -> dict[str, Any]:
        """The national row of the last year simulated (computed once per year)."""
        if self._row is None or self._row[0] != self.year:
            # Records, not iloc: a row as a Series would turn every integer column to float.
            self._row = (self.year, self.national_table().to_dict("records")[-1])
        return self._row[1]

    def step(self) -> None:
        """One year, then collect the national row and stop at the end year."""
        super().step()
        self.datacollector.collect(self)
        self.running = self.year < self.end_year


def _reporter(column: str) -> Any:
    """A model reporter reading ``column`` of the last national row."""

    def report(model: BatchModel) -> Any:
        return model.last_row()[column]

    return report
