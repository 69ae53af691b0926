"""urbsim: an agent-based simulator of population agglomeration under China's new-type
urbanization policies.

The public interface is small: load a scenario, build a model, run it, read its tables.

>>> from urbsim import load_scenario, UrbanizationModel          # doctest: +SKIP
>>> model = UrbanizationModel(load_scenario("scenarios/baseline.toml"))  # doctest: +SKIP
>>> model.run(); model.national_table()                          # doctest: +SKIP

Every mistake urbsim detects in what it is given (a scenario, a world file, an output folder)
raises a subclass of :class:`UrbsimError` whose message names the file, field or flag and the
reason; a value of the wrong Python type raises :class:`TypeError`.

Nothing here does I/O, plotting or seeding at import time.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

__all__ = [
    "LoadedScenario",
    "ScenarioError",
    "UrbanizationModel",
    "UrbsimError",
    "__version__",
    "load_scenario",
]

_LAZY = {
    "LoadedScenario": "urbsim.scenario",
    "ScenarioError": "urbsim.scenario",
    "load_scenario": "urbsim.scenario",
    "UrbanizationModel": "urbsim.model",
    "UrbsimError": "urbsim.errors",
}


def __getattr__(name: str) -> Any:
    # Lazy imports keep `import urbsim` light (no Numba compilation, no Mesa) for the CLI.
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'urbsim' has no attribute {name!r}")
