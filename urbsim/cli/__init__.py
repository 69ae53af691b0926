"""The ``urbsim`` command line: :data:`app` is the Typer application.

One module per group of commands: :mod:`~urbsim.cli.app` (run, check, schema, plot),
:mod:`~urbsim.cli.sweep` (sweep, plot-sweep, reproduce), :mod:`~urbsim.cli.world` (world build);
:mod:`~urbsim.cli.errors` is the one error path every command goes through.
"""

from urbsim.cli.app import app

__all__ = ["app"]
