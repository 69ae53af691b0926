"""Issue 15: progress in logs (plain lines), --quiet / --verbose, and the compile notice."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from urbsim import progress as P
from urbsim.cli import app

ROOT = Path(__file__).resolve().parents[2]

TINY = """\
name = "tiny"
start_year = 2010
end_year = 2013
seed = 11

[world]
households_per_agent = 1000000.0
"""

LINE = re.compile(r"^(\d{4}: )?\d+/\d+ years, [\d,]+ households/s, elapsed \d+:\d\d:\d\d$")


def test_a_run_off_a_terminal_prints_one_plain_line_per_year(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with P.year_progress(3, first_year=2010) as progress:  # stderr is captured: no terminal
        for year in range(1, 4):
            progress(year, 3, 1000)
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(":")[0] for line in lines] == ["2011", "2012", "2013"]
    assert all(LINE.match(line) for line in lines), lines


def test_a_long_run_prints_at_most_the_plain_line_limit(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with P.year_progress(190) as progress:
        for year in range(1, 191):
            progress(year, 190, 10)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) <= P.MAX_PLAIN_LINES + 1
    assert lines[-1].startswith("190/190 years")


@pytest.mark.parametrize(
    ("verbosity", "enabled", "expected"),
    [(P.Verbosity.QUIET, None, 0), (P.Verbosity.VERBOSE, True, 60), (P.Verbosity.NORMAL, False, 0)],
)
def test_verbosity_sets_the_number_of_lines(
    capsys: pytest.CaptureFixture[str], verbosity: P.Verbosity, enabled: bool, expected: int
) -> None:
    """Verbose prints every year even where a bar would be drawn; quiet prints nothing."""
    with P.year_progress(60, enabled, verbosity=verbosity) as progress:
        progress.note("a note")
        for year in range(1, 61):
            progress(year, 60, 10)
    lines = capsys.readouterr().err.splitlines()
    assert len([line for line in lines if "years" in line]) == expected
    assert ("a note" in lines) == (expected > 0)


def test_a_sweep_off_a_terminal_prints_a_line_per_batch(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with P.sweep_progress(10, 2, 1) as update:
        update(3, 0)
        update(4, 1)
    lines = capsys.readouterr().err.splitlines()
    assert [line.rsplit(",", 1)[0] for line in lines] == [
        "runs 5/10, 1 failed",
        "runs 10/10, 2 failed",
    ]
    assert all(re.search(r"elapsed \d+:\d\d:\d\d$", line) for line in lines)


def test_the_sweep_bar_when_enabled(capsys: pytest.CaptureFixture[str]) -> None:
    with P.sweep_progress(4, 0, 0, enabled=True) as update:
        update(4, 0)
    assert "4/4" in capsys.readouterr().err


def test_run_quiet_prints_only_the_output_path(tmp_path: Path) -> None:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["run", str(path), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(out.resolve()) or result.stdout.strip() == str(out)
    assert result.stderr == ""


def test_run_prints_year_lines_and_the_summary(tmp_path: Path) -> None:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    result = CliRunner().invoke(app, ["run", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    years = [line for line in result.stderr.splitlines() if LINE.match(line)]
    assert [line[:4] for line in years] == ["2011", "2012", "2013"]
    assert "Resident urbanization" in result.stdout


def test_simulate_announces_compilation_only_when_the_cache_is_cold(
    monkeypatch: pytest.MonkeyPatch, small_scenario: object
) -> None:
    from urbsim.runner import simulate

    loaded = small_scenario(end_year=2011)  # type: ignore[operator]
    for cached, expected in ((False, [P.COMPILE_MESSAGE]), (True, []), (None, [])):
        notes: list[str] = []
        monkeypatch.setattr(P, "kernels_cached", lambda c=cached: c)
        simulate(loaded, notice=notes.append)
        assert notes == expected


def _kernels_cached_in(cache_dir: Path | None) -> str:
    env = dict(os.environ)
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = str(cache_dir)
    code = "from urbsim.progress import kernels_cached; print(kernels_cached())"
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_an_empty_numba_cache_is_seen_as_cold(tmp_path: Path) -> None:
    assert _kernels_cached_in(tmp_path) == "False"


def test_after_a_run_the_cache_is_warm(small_scenario: object) -> None:
    from urbsim.runner import simulate

    simulate(small_scenario(end_year=2011))  # type: ignore[operator]
    assert _kernels_cached_in(None) == "True"


SWEEP = """\
base = "tiny.toml"
seed = 5
replications = 1

[design]
kind = "grid"

[[design.parameters]]
name = "behaviour.move_base"
values = [0.1, 0.2]

[outputs]
national = ["urbanization_rate"]
years = [2013]
"""


@pytest.mark.parametrize("quiet", [False, True])
def test_sweep_progress_lines_and_quiet(tmp_path: Path, quiet: bool) -> None:
    (tmp_path / "tiny.toml").write_text(TINY)
    (tmp_path / "s.toml").write_text(SWEEP)
    args = ["sweep", str(tmp_path / "s.toml"), "--out", str(tmp_path / "out")]
    args += ["--executor", "serial", *(["--quiet"] if quiet else [])]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "2 runs: 2 ok, 0 failed" in result.stdout
    if quiet:
        assert result.stderr == ""
    else:
        assert re.search(r"^runs 2/2, 0 failed, elapsed \d+:\d\d:\d\d$", result.stderr, re.M)
