"""The scenarios packaged with urbsim, by name.

The package carries its scenario files (``urbsim/scenarios/``; the repository's ``scenarios/``
folder is a link to it), so that an installed urbsim runs them from any folder:
``urbsim run baseline``, ``urbsim run policy/d1_services``. A scenario's *name* is its path
below that folder without ``.toml``. A file that exists always wins over a name, so
``urbsim run baseline`` in a folder holding a file ``baseline`` runs that file.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Final

from urbsim.errors import UrbsimError

#: Suffix of scenario files; a name may be given with or without it.
SUFFIX: Final[str] = ".toml"


class UnknownScenarioError(UrbsimError, FileNotFoundError):
    """A scenario argument that is neither an existing file nor a packaged scenario's name."""


@dataclass(frozen=True)
class PackagedScenario:
    """One scenario file of the package.

    Attributes
    ----------
    name : str
        Path below the packaged scenario folder without ``.toml`` (``"policy/d1_services"``).
    path : Path
        The file.
    description : str
        Its ``description`` field (empty when it has none; ``extends`` is not followed).
    """

    name: str
    path: Path
    description: str


def scenario_dir() -> Path:
    """The folder of the packaged scenario files (a real folder: urbsim is never zipped)."""
    return Path(str(resources.files("urbsim") / "scenarios"))


def _description(path: Path) -> str:
    """The file's own ``description`` (first line), or ``""``."""
    with path.open("rb") as fh:
        text = tomllib.load(fh).get("description", "")
    return text.splitlines()[0] if isinstance(text, str) and text else ""


def _packaged_files() -> dict[str, Path]:
    """Packaged scenario files by name, top-level files first, then by path."""
    root = scenario_dir()
    paths = sorted(root.rglob(f"*{SUFFIX}"), key=lambda p: (len(p.relative_to(root).parts), p))
    return {p.relative_to(root).with_suffix("").as_posix(): p for p in paths}


def packaged_scenarios() -> list[PackagedScenario]:
    """Every packaged scenario, sorted by name (top-level files before sub-folders).

    Returns
    -------
    list of PackagedScenario
    """
    return [PackagedScenario(n, p, _description(p)) for n, p in _packaged_files().items()]


def packaged_path(name: str) -> Path | None:
    """The packaged file of scenario ``name`` (with or without ``.toml``), or None.

    Only names of :func:`packaged_scenarios` match: ``..`` or absolute paths never leave the
    packaged folder.
    """
    return _packaged_files().get(name.removesuffix(SUFFIX))


def resolve_scenario(arg: str | os.PathLike[str]) -> Path:
    """The scenario file an argument names: an existing file, else a packaged scenario.

    Parameters
    ----------
    arg : str or path
        A file path, or the name of a packaged scenario (``"baseline"``, ``"china_census"``,
        ``"policy/d1_services"``; ``.toml`` may be added).

    Returns
    -------
    Path
        ``arg`` itself when it exists (a folder too: the loader reports it as not a file), else
        the packaged file.

    Raises
    ------
    TypeError
        If ``arg`` is not a str or path.
    UnknownScenarioError
        If ``arg`` is neither: the message lists the packaged names.
    """
    if not isinstance(arg, str | os.PathLike):
        raise TypeError(f"a scenario must be a file path or a name, got {type(arg).__name__}")
    path = Path(arg)
    text = os.fspath(arg)
    if "\0" in text or path.exists():
        return path  # the loader reports a NUL byte, a folder or an unreadable file
    found = packaged_path(text)
    if found is not None:
        return found
    names = ", ".join(_packaged_files())
    raise UnknownScenarioError(
        f"{text}: file not found, and not the name of a packaged scenario "
        f"(`urbsim scenarios` lists them: {names})"
    )
