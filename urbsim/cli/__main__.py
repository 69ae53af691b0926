"""``python -m urbsim.cli``: the command-line interface (same as the ``urbsim`` command)."""

from urbsim.cli import app

app(prog_name="urbsim")
