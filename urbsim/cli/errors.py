"""The one error path of the ``urbsim`` command.

Every command (``run``, ``sweep``, ``world build``, ...) runs inside :class:`ReportingGroup`,
which turns any :class:`urbsim.errors.UrbsimError` into one ``error:`` paragraph on stderr and
exit code :data:`USER_ERROR`. Commands therefore just raise: a user mistake found anywhere
below them (scenario, world file, sweep file, output folder) is reported the same way. Any
other exception is a bug in urbsim and keeps its traceback.
"""

from __future__ import annotations

from typing import Any, Final, NoReturn

import typer
from typer.core import TyperGroup

from urbsim.errors import InputError, UrbsimError

#: Exit code of every user error (the code Click uses for usage errors).
USER_ERROR: Final[int] = 2


def error_paragraph(exc: BaseException) -> str:
    """``error: <message>`` as one paragraph (blank lines of the message are dropped)."""
    lines = [line.rstrip() for line in str(exc).splitlines() if line.strip()]
    return "error: " + ("\n".join(lines) if lines else type(exc).__name__)


def fail(message: str) -> NoReturn:
    """Report a mistake in the command line itself (a flag, an argument) and stop.

    Raises
    ------
    InputError
        Always; :class:`ReportingGroup` prints it.
    """
    raise InputError(message)


class ReportingGroup(TyperGroup):
    """A command group that reports user errors of its commands as one ``error:`` paragraph."""

    def invoke(self, ctx: typer.Context) -> Any:
        """Run the command; a :class:`UrbsimError` becomes an ``error:`` paragraph, exit 2."""
        try:
            return super().invoke(ctx)
        except UrbsimError as exc:
            typer.echo(error_paragraph(exc), err=True)
            raise typer.Exit(USER_ERROR) from None
