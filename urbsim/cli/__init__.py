"""The ``urbsim`` command line: :data:`app` is the Typer application.

One module per group of commands: :mod:`~urbsim.cli.main` (run, check, schema, plot),
:mod:`~urbsim.cli.sweep` (sweep, plot-sweep, reproduce), :mod:`~urbsim.cli.world` (world build);
:mod:`~urbsim.cli.errors` is the one error path every command goes through.
"""

from urbsim.cli.main import app

__all__ = ["app"]
