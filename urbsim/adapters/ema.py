"""urbsim as an EMA Workbench model (``pip install 'urbsim[ema]'``).

:func:`ema_model` builds an :class:`ema_workbench.Model` whose uncertainties and levers are
scenario fields and whose outcomes are national columns in given years::

    from ema_workbench import RealParameter, BooleanParameter, SequentialEvaluator
    from urbsim.adapters.ema import ema_model

    model = ema_model(
        "scenarios/baseline.toml",
        uncertainties=[RealParameter("move_base", 0.05, 0.15,
                                     variable_name="behaviour.move_base")],
        levers=[BooleanParameter("permits", variable_name="policy.permit.enabled")],
        outcomes={"urban_2030": ("urbanization_rate", 2030),
                  "hukou_2030": ("hukou_urbanization_rate", 2030)},
        overrides={"world.households_per_agent": 4000.0},
    )
    with SequentialEvaluator(model) as evaluator:
        experiments, outcomes = evaluator.perform_experiments(scenarios=20, policies=2)

A parameter's ``variable_name`` (its name when not given) is the dotted scenario field it sets;
EMA names must be Python identifiers, scenario fields are dotted, hence the two.

**Seeds.** Every experiment runs with its own seed, recorded as the outcome ``seed``
(``outcomes["seed"]``), so that any experiment can be rerun alone with
``urbsim.run(scenario, seed=..., overrides=...)``. The seed is
``SeedSequence(base_seed, spawn_key=<the experiment's key>)`` where the key is derived from the
experiment's values (the sha256 of their canonical JSON), not from EMA's experiment counter:
EMA numbers samples with process-wide counters, so the same design would get other numbers in
a second call or another process. The same experiment therefore always gets the same seed, with
any evaluator, in any order; different experiments get independent streams. For replications,
repeat the design with other ``base_seed`` values (or use ``urbsim sweep``, whose sweep files
have replications built in).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from urbsim.errors import InputError

if TYPE_CHECKING:
    from ema_workbench import Model
    from ema_workbench.em_framework.parameters import Parameter

    from urbsim.scenario import LoadedScenario

#: Name of the outcome that records each experiment's seed.
SEED_OUTCOME: Final[str] = "seed"


def experiment_seed(base_seed: int, values: Mapping[str, Any]) -> int:
    """The seed of the experiment that sets ``values`` (``{dotted.key: value}``).

    ``SeedSequence(base_seed, spawn_key=(w0, ..., w7))``, the ``w`` being the eight 32-bit words
    of the sha256 of the values' canonical JSON; its first 64-bit word shifted right by one
    (scenario seeds are below 2**63), as :func:`urbsim.sweep.design.run_seed` does.
    """
    canonical = json.dumps(
        {k: _plain(v) for k, v in values.items()}, sort_keys=True, separators=(",", ":")
    )
    digest = hashlib.sha256(canonical.encode()).digest()
    words = tuple(int.from_bytes(digest[i : i + 4], "little") for i in range(0, 32, 4))
    ss = np.random.SeedSequence(int(base_seed), spawn_key=words)
    return int(ss.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value it holds (the scenario schema wants Python types)."""
    return value.item() if isinstance(value, np.generic) else value


class UrbsimFunction:
    """The callable an EMA ``Model`` runs: one urbsim run per experiment.

    A class rather than a closure so that EMA's multiprocessing evaluator can pickle it.

    Parameters
    ----------
    loaded
        The base scenario (fixed overrides applied).
    outcomes
        ``{outcome name: (national column, year)}``.
    base_seed
        Entropy of the experiments' seeds (:func:`experiment_seed`).
    """

    def __init__(
        self, loaded: LoadedScenario, outcomes: Mapping[str, tuple[str, int]], base_seed: int
    ) -> None:
        self.loaded = loaded
        self.outcomes = dict(outcomes)
        self.base_seed = int(base_seed)
        last = max(year for _, year in self.outcomes.values())
        # Stop after the last year an outcome reads: later years change none of them.
        self.until = None if last == loaded.scenario.end_year else last

    def __call__(self, **values: Any) -> dict[str, float | int]:
        """Run the experiment that sets ``values`` (dotted scenario fields) and read outcomes."""
        from urbsim.api import run

        fields = {key: _plain(value) for key, value in values.items()}
        seed = experiment_seed(self.base_seed, fields)
        out = run(self.loaded, seed=seed, overrides=fields, until=self.until)
        national = out.national.set_index("year")
        result: dict[str, float | int] = {
            name: float(national.at[year, column]) for name, (column, year) in self.outcomes.items()
        }
        result[SEED_OUTCOME] = seed
        return result


def _check_fields(loaded: LoadedScenario, parameters: Sequence[Parameter]) -> None:
    """Each parameter's variable name must be a field of the scenario (typos fail here)."""
    from urbsim.scenario import ScenarioError

    data = loaded.scenario.model_dump(mode="json")
    problems = []
    for parameter in parameters:
        for key in parameter.variable_name:
            node: Any = data
            for part in key.split("."):
                node = node.get(part, KeyError) if isinstance(node, dict) else KeyError
            if node is KeyError:
                problems.append((key, f"parameter {parameter.name!r}: not a scenario field"))
    if problems:
        raise ScenarioError(loaded.source, problems)


def _check_outcomes(loaded: LoadedScenario, outcomes: Mapping[str, tuple[str, int]]) -> None:
    from urbsim.output.columns import NATIONAL, names

    if not outcomes:
        raise InputError("outcomes: give at least one {name: (national column, year)}")
    known = names(NATIONAL)
    first, last = loaded.scenario.start_year, loaded.scenario.end_year
    for name, spec in outcomes.items():
        if not isinstance(spec, tuple | list) or len(spec) != 2:
            raise TypeError(f"outcomes[{name!r}] must be (national column, year), got {spec!r}")
        column, year = spec
        if name == SEED_OUTCOME or not str(name).isidentifier():
            raise InputError(f"outcomes: {name!r} must be a Python identifier other than 'seed'")
        if column not in known:
            raise InputError(f"outcomes[{name!r}]: {column!r} is not a national column")
        if not first <= int(year) <= last:
            raise InputError(f"outcomes[{name!r}]: year {year} is outside the run ({first}-{last})")


def ema_model(
    scenario: str | os.PathLike[str] | LoadedScenario,
    *,
    uncertainties: Sequence[Parameter] = (),
    levers: Sequence[Parameter] = (),
    outcomes: Mapping[str, tuple[str, int]],
    overrides: Mapping[str, Any] | None = None,
    base_seed: int = 0,
    name: str = "urbsim",
) -> Model:
    """An EMA Workbench model that runs ``scenario`` once per experiment.

    Parameters
    ----------
    scenario
        A scenario file, a packaged scenario's name or a LoadedScenario (as :func:`urbsim.run`).
    uncertainties, levers
        EMA parameters; each one's ``variable_name`` is the dotted scenario field it sets.
    outcomes
        ``{outcome name: (national column, year)}``, e.g. ``{"urban_2030":
        ("urbanization_rate", 2030)}``; the outcome ``seed`` is added.
    overrides
        Scenario fields fixed for every experiment (``{"dotted.key": value}``), e.g. a smaller
        ``world.households_per_agent``.
    base_seed
        Entropy of the experiments' seeds (see the module docstring).
    name
        The EMA model's name (a Python identifier).

    Returns
    -------
    ema_workbench.Model

    Raises
    ------
    urbsim.errors.UrbsimError
        If the scenario or an override is invalid, a parameter names no scenario field, or an
        outcome names no national column or a year outside the run.
    urbsim.errors.InputError
        If ema_workbench is not installed (``pip install 'urbsim[ema]'``).
    """
    try:
        from ema_workbench import Model, ScalarOutcome
    except ImportError:
        raise InputError(
            "the EMA Workbench adapter needs ema_workbench: pip install 'urbsim[ema]'"
        ) from None
    from urbsim.api import check_scenario

    loaded = check_scenario(scenario, overrides=overrides)
    _check_fields(loaded, [*uncertainties, *levers])
    _check_outcomes(loaded, outcomes)
    model = Model(name, function=UrbsimFunction(loaded, outcomes, base_seed))
    model.uncertainties = list(uncertainties)
    model.levers = list(levers)
    model.outcomes = [ScalarOutcome(n) for n in outcomes] + [ScalarOutcome(SEED_OUTCOME)]
    return model
