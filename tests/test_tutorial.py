"""Issue 15: docs/tutorial.md is executed, block by block, so that it cannot rot.

Fenced blocks marked ```` ```toml file=NAME ```` are written to NAME; ```` ```bash tutorial ````
blocks run in bash (``-e``: every command must succeed) and ```` ```python tutorial ```` blocks
in a fresh interpreter, in document order, in an empty folder that holds only a copy of the
repository's ``scenarios/`` (the tutorial is written for the repository root). The run itself
is in ``tests/test_wheel.py`` (with the installed wheel); this module parses the blocks and
checks what the run shows.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = ROOT / "docs" / "tutorial.md"

_FENCE = re.compile(r"^```(\w+) (tutorial|file=(\S+))\n(.*?)^```$", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class Block:
    """One executable block of the tutorial."""

    kind: str  # "bash", "python" or "file"
    text: str
    name: str = ""


def blocks(path: Path = TUTORIAL) -> list[Block]:
    """The tutorial's executable blocks in document order."""
    out = []
    for match in _FENCE.finditer(path.read_text(encoding="utf-8")):
        lang, mark, name, text = match.groups()
        out.append(Block("file", text, name) if mark.startswith("file=") else Block(lang, text))
    return out


def run_tutorial(
    folder: Path, bin_dir: Path, python: str, env: dict[str, str] | None = None
) -> list[str]:
    """Run every block in ``folder`` with ``urbsim`` from ``bin_dir``; return their outputs.

    ``env`` (default: this process's environment) gets ``bin_dir`` in front of its ``PATH``.

    Raises
    ------
    AssertionError
        When a block fails, with its text and output.
    """
    base = dict(os.environ if env is None else env)
    env = {**base, "PATH": f"{bin_dir}{os.pathsep}{base.get('PATH', '')}"}
    outputs = []
    for block in blocks():
        if block.kind == "file":
            (folder / block.name).write_text(block.text, encoding="utf-8")
            continue
        args = ["bash", "-euo", "pipefail", "-c"] if block.kind == "bash" else [python, "-c"]
        proc = subprocess.run(
            [*args, block.text], cwd=folder, env=env, capture_output=True, text=True, check=False
        )
        output = proc.stdout + proc.stderr
        assert proc.returncode == 0, f"tutorial block failed:\n{block.text}\n---\n{output}"
        outputs.append(output)
    return outputs


def copy_scenarios(folder: Path) -> None:
    """The repository's scenarios/ (the tutorial extends scenarios/baseline.toml)."""
    shutil.copytree(ROOT / "scenarios", folder / "scenarios")


def test_the_tutorial_has_files_commands_and_python() -> None:
    kinds = [b.kind for b in blocks()]
    assert kinds.count("file") == 3
    assert kinds.count("bash") >= 3
    assert kinds.count("python") >= 3
    assert kinds[0] == "file"  # the scenario is written before anything runs it


def check_tutorial_outputs(folder: Path, outputs: list[str]) -> None:
    """What a reader of the tutorial sees, given the outputs of :func:`run_tutorial` in
    ``folder``. (The tutorial runs once, with the installed wheel, in
    ``tests/test_wheel.py``: the commands a user types, from a user's installation; running
    it again with the development install took another minute of the suite.)"""
    text = "\n".join(outputs)
    assert re.search(r"^OK my_policy [0-9a-f]{64}$", text, re.MULTILINE), text
    assert "hukou urbanization in 2035:" in text
    assert (folder / "results" / "my_policy" / "manifest.json").is_file()
    assert (folder / "results" / "my_sweep" / "results.parquet").is_file()
    # Rules for named places: checked, a wrong name refused, run on the census world.
    assert re.search(r"^OK my_cities [0-9a-f]{64}$", text, re.MULTILINE), text
    # Named at its position in the user's file, not in the list merged with china_census.toml.
    assert "timeline.2018.places[1].name: code 440100 is '广州市' in the census world" in text
    assert (folder / "results" / "my_cities" / "places.parquet").is_file()
    assert "4 runs: 4 ok, 0 failed" in text
