"""The ``urbsim explore`` command line: loopback by default, clean refusals."""

from __future__ import annotations

import sys
from pathlib import Path

from typer.testing import CliRunner

from urbsim.cli import app
from urbsim.cli.explore import solara_command


def test_server_command_serves_the_page_in_production_mode() -> None:
    cmd = solara_command("127.0.0.1", 8765)
    assert cmd[:5] == [sys.executable, "-m", "solara", "run", "urbsim.explore.app:Page"]
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1"
    assert cmd[cmd.index("--port") + 1] == "8765"
    # No reloader (it would fork a server the command does not wait for) and no browser.
    assert "--production" in cmd and "--no-open" in cmd


def test_default_host_is_loopback() -> None:
    result = CliRunner().invoke(app, ["explore", "--help"])
    assert result.exit_code == 0
    assert "127.0.0.1" in result.output


def test_missing_scenario_folder_is_refused(tmp_path: Path) -> None:
    missing = tmp_path / "nothing"
    result = CliRunner().invoke(app, ["explore", "--scenarios", str(missing)])
    assert result.exit_code == 2
    assert "--scenarios: not a folder" in result.stderr
    assert not missing.exists()
