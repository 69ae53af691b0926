"""Issue 15: help texts that render as written, and a fast ``urbsim --help``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from urbsim.cli import app

ROOT = Path(__file__).resolve().parents[2]


def _commands() -> list[list[str]]:
    """Every command path of the ``urbsim`` app (``[]`` is the app itself)."""
    group = typer.main.get_command(app)
    paths: list[list[str]] = [[]]

    def walk(cmd: object, prefix: list[str]) -> None:
        # A group has sub-commands (Typer's group class need not derive from click's).
        for name, sub in getattr(cmd, "commands", {}).items():
            paths.append([*prefix, name])
            walk(sub, [*prefix, name])

    walk(group, [])
    return paths


@pytest.mark.parametrize("command", _commands(), ids=lambda c: " ".join(c) or "urbsim")
def test_help_shows_no_markup_and_no_type_placeholders_for_flags(command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "Usage:" in text
    # reST markup of docstrings, and the "<bool>" metavar Typer gave to flags such as --version.
    for fragment in ("``", ":class:", ":func:", ":mod:", "<bool>"):
        assert fragment not in text, f"{fragment!r} in the help of {command}:\n{text}"


def test_run_help_keeps_its_default_in_brackets() -> None:
    """Rich markup read ``[default: results/<scenario name>]`` as a tag and dropped it."""
    result = CliRunner().invoke(app, ["run", "--help"], terminal_width=100)
    assert "[default: results/<scenario name>]" in " ".join(result.stdout.split())
    assert "--quiet" in result.stdout and "--verbose" in result.stdout


def test_top_level_help_lists_version_as_a_flag() -> None:
    result = CliRunner().invoke(app, ["--help"], terminal_width=100)
    (line,) = [line for line in result.stdout.splitlines() if "--version" in line]
    assert line.split()[:2] == ["--version", "Print"]


@pytest.mark.parametrize("command", [["run"], ["sweep"], ["reproduce"]])
def test_quiet_and_verbose_exclude_each_other(command: list[str], tmp_path: Path) -> None:
    path = tmp_path / "x.toml"
    path.write_text('name = "x"\n')
    result = CliRunner().invoke(app, [*command, str(path), "--quiet", "--verbose"])
    assert result.exit_code == 2, result.output
    assert "error: --quiet and --verbose exclude each other" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.toml"]


def test_help_imports_no_heavy_module() -> None:
    """``urbsim --help`` starts without Numba, pandas, matplotlib, geopandas, Mesa or rich.

    (pydantic is imported: the command module loads the scenario schema at start-up, ~0.1 s.)
    """
    code = (
        "import sys\n"
        "from urbsim.cli import app\n"
        "try:\n"
        "    app(['--help'], prog_name='urbsim')\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('numba', 'pandas', 'matplotlib', 'geopandas', 'rich', 'mesa')\n"
        "print('LOADED', *[m for m in heavy if m in sys.modules])\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    (line,) = [line for line in proc.stdout.splitlines() if line.startswith("LOADED")]
    assert line.split() == ["LOADED"], proc.stdout
