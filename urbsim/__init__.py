"""urbsim: an agent-based simulator of population agglomeration under China's new-type
urbanization policies.

The public interface is small: load a scenario, build a model, run it, read its tables.

>>> from urbsim import load_scenario, UrbanizationModel          # doctest: +SKIP
>>> model = UrbanizationModel(load_scenario("scenarios/baseline.toml"))  # doctest: +SKIP
>>> model.run(); model.national_table()                          # doctest: +SKIP

Nothing here does I/O, plotting or seeding at import time.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

__all__ = ["LoadedScenario", "ScenarioError", "UrbanizationModel", "__version__", "load_scenario"]

_LAZY = {
    "LoadedScenario": "urbsim.scenario",
    "ScenarioError": "urbsim.scenario",
    "load_scenario": "urbsim.scenario",
    "UrbanizationModel": "urbsim.model",
}


def __getattr__(name: str) -> Any:
    # Lazy imports keep `import urbsim` light (no Numba compilation, no Mesa) for the CLI.
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'urbsim' has no attribute {name!r}")
