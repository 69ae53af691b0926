"""The ``urbsim explore`` command: serve the interactive explorer page (Solara) on loopback.

Registered on the ``urbsim`` app by :mod:`urbsim.cli.main`. The page is served by ``solara run``
in production mode (no reloader, so no stray child process) in a child process that this
command waits for; Ctrl-C or SIGTERM stops both.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from urbsim.cli.errors import fail


def solara_command(host: str, port: int) -> list[str]:
    """The ``solara run`` command line that serves the page.

    Parameters
    ----------
    host
        Address to listen on.
    port
        Port to listen on (0: a free port chosen by the server).
    """
    return [
        sys.executable,
        "-m",
        "solara",
        "run",
        "urbsim.explore.app:Page",
        "--host",
        host,
        "--port",
        str(port),
        "--production",
        "--no-open",
    ]


def explore(
    port: Annotated[int, typer.Option(help="Port to serve on.", min=0, max=65535)] = 8765,
    host: Annotated[
        str,
        typer.Option(help="Address to listen on; the default serves this machine only."),
    ] = "127.0.0.1",
    scenarios: Annotated[
        Path | None,
        typer.Option(
            help="Folder of scenario files the page offers besides the packaged ones "
            "[default: ./scenarios when there is one]."
        ),
    ] = None,
) -> None:
    """Serve the interactive explorer: levers, runs, figures, a reference run and the export."""
    if importlib.util.find_spec("solara") is None:
        fail("explore: the explorer needs Solara; install it with pip install 'urbsim[explore]'")
    env = dict(os.environ)
    if scenarios is not None:
        if not scenarios.is_dir():
            fail(f"--scenarios: not a folder: {scenarios.resolve()}")
        env["URBSIM_EXPLORE_SCENARIOS"] = str(scenarios.resolve())
    typer.echo(f"urbsim explorer on http://{host}:{port} (Ctrl-C stops it)")
    with subprocess.Popen(solara_command(host, port), env=env) as server:
        # Ending this command ends the server too: no orphaned server keeps the port.
        signal.signal(signal.SIGTERM, lambda *_: server.terminate())
        try:
            server.wait()
        except KeyboardInterrupt:
            server.terminate()
            server.wait()
    if server.returncode not in (0, -15):
        raise typer.Exit(server.returncode)
