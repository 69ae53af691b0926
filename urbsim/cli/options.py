"""Options shared by several ``urbsim`` commands: ``--quiet`` and ``--verbose``."""

from __future__ import annotations

from typing import Annotated

import typer

from urbsim.cli.errors import fail
from urbsim.progress import Verbosity

QuietOption = Annotated[
    bool,
    typer.Option("--quiet", "-q", help="Print only errors and the final summary line."),
]
VerboseOption = Annotated[
    bool,
    typer.Option(
        "--verbose", "-v", help="Print a progress line for every year or batch, on a terminal too."
    ),
]


def verbosity(quiet: bool, verbose: bool) -> Verbosity:
    """The :class:`~urbsim.progress.Verbosity` that ``--quiet`` / ``--verbose`` ask for."""
    if quiet and verbose:
        fail("--quiet and --verbose exclude each other")
    if quiet:
        return Verbosity.QUIET
    return Verbosity.VERBOSE if verbose else Verbosity.NORMAL
