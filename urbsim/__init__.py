"""urbsim: an agent-based simulator of population agglomeration under China's new-type
urbanization policies.

The public interface is small: run a scenario and read its tables, or check one.

>>> import urbsim                                                         # doctest: +SKIP
>>> out = urbsim.run("scenarios/baseline.toml", seed=3,
...                  overrides={"world.households_per_agent": 40000.0})  # doctest: +SKIP
>>> out.national, out.places, out.manifest                                # doctest: +SKIP
>>> urbsim.check_scenario("scenarios/baseline.toml").sha256               # doctest: +SKIP

For step-by-step control, build the Mesa model yourself:

>>> from urbsim import load_scenario, UrbanizationModel                  # doctest: +SKIP
>>> model = UrbanizationModel(load_scenario("scenarios/baseline.toml"))  # doctest: +SKIP
>>> model.run(); model.national_table()                                  # doctest: +SKIP

Every mistake urbsim detects in what it is given (a scenario, a world file, an output folder)
raises a subclass of :class:`UrbsimError` whose message names the file, field or flag and the
reason; a value of the wrong Python type raises :class:`TypeError`.

Nothing here does I/O, plotting or seeding at import time.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any


def _version() -> str:
    """The version setuptools-scm derived from git when this tree was built or installed.

    ``urbsim/_version.py`` is written at build (and editable install) time and sits next to the
    code that runs, so it is asked first; then the installed distribution's metadata; a source
    tree that was never built or installed reports ``0+unknown``.
    """
    try:
        from urbsim._version import __version__ as built
    except ImportError:
        pass
    else:
        return built
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("urbsim")
    except PackageNotFoundError:
        return "0+unknown"


__version__: str = _version()

__all__ = [
    "InputError",
    "LoadedScenario",
    "RunOutput",
    "ScenarioError",
    "UrbanizationModel",
    "UrbsimError",
    "__version__",
    "check_scenario",
    "load_scenario",
    "run",
    "validate",
]

_LAZY = {
    "LoadedScenario": "urbsim.scenario",
    "ScenarioError": "urbsim.scenario",
    "load_scenario": "urbsim.scenario",
    "validate": "urbsim.scenario",
    "UrbanizationModel": "urbsim.model",
    "UrbsimError": "urbsim.errors",
    "InputError": "urbsim.errors",
    "run": "urbsim.api",
    "RunOutput": "urbsim.api",
    "check_scenario": "urbsim.api",
}


def __getattr__(name: str) -> Any:
    # Lazy imports keep `import urbsim` light (no Numba compilation, no Mesa) for the CLI.
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'urbsim' has no attribute {name!r}")
