"""``urbsim reproduce --update --resume``: an update killed from outside (a closed session) is
continued in its temporary folder, its finished steps kept, instead of started again."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from urbsim.cli import app
from urbsim.output import read_marker, write_marker
from urbsim.sweep.reproduce import (
    PROGRESS_FILE,
    StepFailed,
    SweepOptions,
    code_identity,
    finished_steps,
    interrupted_updates,
    load_experiment,
    run_steps,
)

#: Subprocesses and the CLI: outside `make test-fast`.
pytestmark = pytest.mark.slow

#: Two script steps: the first counts its runs in {root}/count; the second fails while
#: {root}/fail exists (the interruption), else writes its output.
EXPERIMENT = """\
[[steps]]
kind = "script"
command = ["{python}", "-c", "import sys, pathlib; c = pathlib.Path(sys.argv[1]) / 'count'; \
c.write_text(str(int(c.read_text()) + 1) if c.exists() else '1'); \
(pathlib.Path(sys.argv[2]) / 'a.txt').write_text('a')", "{root}", "{out}"]
out = "first"

[[steps]]
kind = "script"
command = ["{python}", "-c", "import sys, pathlib; \
sys.exit(1) if (pathlib.Path(sys.argv[1]) / 'fail').exists() else \
(pathlib.Path(sys.argv[2]) / 'b.txt').write_text('b')", "{root}", "{out}"]
out = "second"
"""


def _dead_pid() -> int:
    """The id of a process that has exited (not reused this soon on a quiet machine)."""
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    return int(proc.stdout)


@pytest.fixture
def killed(tmp_path: Path) -> tuple[Path, Path]:
    """A repository root whose update of experiments/two was killed in step 2: its temporary
    folder, marked, with step 1 recorded as finished. Returns (root, that folder)."""
    exp = tmp_path / "experiments" / "two"
    exp.mkdir(parents=True)
    (exp / "experiment.toml").write_text(EXPERIMENT)
    loaded = load_experiment(exp)
    tmp = tmp_path / "results" / f".two.tmp-{_dead_pid()}"
    tmp.mkdir(parents=True)
    write_marker(tmp, "experiment", loaded.sha256)
    (tmp_path / "fail").write_text("")
    with pytest.raises(StepFailed, match="step 2/2"):
        run_steps(loaded, tmp, SweepOptions(), lambda line: None)
    (tmp_path / "fail").unlink()
    return tmp_path, tmp


def test_a_killed_update_is_resumed_from_its_finished_steps(killed: tuple[Path, Path]) -> None:
    root, tmp = killed
    assert len(finished_steps(tmp)) == 1 and '"out": "first"' in finished_steps(tmp)[0]
    assert (tmp / "first" / "a.txt").is_file()
    assert (root / "count").read_text() == "1"
    result = CliRunner().invoke(app, ["reproduce", str(root / "experiments" / "two"),
                                      "--update", "--resume"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "resuming" in result.output and "1 of 2 steps finished" in result.output
    assert "finished before the interruption, kept" in result.output
    assert f"writing into {tmp.with_name('.two.tmp-')}" in result.output
    # Step 1 did not run again; step 2 did; the folder became the results, whole.
    assert (root / "count").read_text() == "1"
    results = root / "results" / "two"
    assert (results / "first" / "a.txt").read_text() == "a"
    assert (results / "second" / "b.txt").read_text() == "b"
    assert not (results / PROGRESS_FILE).exists()
    assert (results / "experiment.json").is_file()
    assert read_marker(results) is not None
    assert not tmp.exists()
    assert not list((root / "results").glob(".two.*"))


def test_resume_ignores_other_experiments_and_live_processes(killed: tuple[Path, Path]) -> None:
    root, tmp = killed
    exp = load_experiment(root / "experiments" / "two")
    assert interrupted_updates(exp) == [tmp]
    # Another experiment file (another identity): not this update's folder.
    (root / "experiments" / "two" / "experiment.toml").write_text(EXPERIMENT + "\n")
    assert interrupted_updates(load_experiment(root / "experiments" / "two")) == []
    (root / "experiments" / "two" / "experiment.toml").write_text(EXPERIMENT)
    # A folder whose process still runs (this one): never taken over.
    live = tmp.rename(tmp.with_name(".two.tmp-1"))
    assert interrupted_updates(exp) == []
    live.rename(tmp)


def test_a_changed_step_and_those_after_it_run_again(killed: tuple[Path, Path]) -> None:
    root, tmp = killed
    record = json.loads((tmp / PROGRESS_FILE).read_text())
    (tmp / PROGRESS_FILE).write_text(json.dumps({**record, "finished": ["{}"]}))
    result = CliRunner().invoke(app, ["reproduce", str(root / "experiments" / "two"),
                                      "--update", "--resume"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (root / "count").read_text() == "2"


def test_a_changed_experiment_file_reruns_every_step(killed: tuple[Path, Path]) -> None:
    """A script of the experiment folder edited since the interruption: the record is not
    trusted, every step runs again."""
    root, _ = killed
    (root / "experiments" / "two" / "helper.py").write_text("# new\n")
    result = CliRunner().invoke(app, ["reproduce", str(root / "experiments" / "two"),
                                      "--update", "--resume"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "0 of 2 steps finished" in result.output
    assert (root / "count").read_text() == "2"


def test_resume_errors(tmp_path: Path) -> None:
    exp = tmp_path / "experiments" / "two"
    exp.mkdir(parents=True)
    (exp / "experiment.toml").write_text(EXPERIMENT)
    runner = CliRunner()
    result = runner.invoke(app, ["reproduce", str(exp), "--resume"])
    assert result.exit_code == 2
    assert result.output.count("error:") == 1 and "pass both" in result.output
    result = runner.invoke(app, ["reproduce", str(exp), "--update", "--resume"])
    assert result.exit_code == 2
    assert result.output.count("error:") == 1 and "no interrupted update of two" in result.output
    assert not (tmp_path / "results" / "two").exists()


def test_an_update_made_by_other_code_is_not_resumed(killed: tuple[Path, Path]) -> None:
    """The record names the code the killed update ran (written before its first step); other
    code would mix its runs with the record's in one result: one error line, exit 2, the
    folder left as it was."""
    root, tmp = killed
    record = json.loads((tmp / PROGRESS_FILE).read_text())
    assert record["code"] == code_identity()
    (tmp / PROGRESS_FILE).write_text(json.dumps({**record, "code": "commit 0123abcd"}))
    result = CliRunner().invoke(app, ["reproduce", str(root / "experiments" / "two"),
                                      "--update", "--resume"])  # fmt: skip
    assert result.exit_code == 2, result.output
    assert result.output.count("error:") == 1
    assert "made by urbsim at commit 0123abcd" in result.output
    assert "without --resume" in result.output
    assert (tmp / "first" / "a.txt").exists() and (root / "count").read_text() == "1"
    assert not (root / "results" / "two").exists()


@pytest.mark.parametrize("keep", [False, True], ids=["removed", "kept"])
def test_a_failed_update_is_kept_with_keep(tmp_path: Path, keep: bool) -> None:
    """A step that fails ends the update with exit 1 and the committed results untouched;
    without --keep its temporary folder is removed, with it the folder stays (named in the
    output) with the finished step recorded, and --update --resume continues it."""
    exp = tmp_path / "experiments" / "two"
    exp.mkdir(parents=True)
    (exp / "experiment.toml").write_text(EXPERIMENT)
    (tmp_path / "fail").write_text("")
    args = ["reproduce", str(exp), "--update", *(["--keep"] if keep else [])]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1, result.output
    assert result.output.count("error:") == 1 and "step 2/2" in result.output
    assert not (tmp_path / "results" / "two").exists()
    left = list((tmp_path / "results").glob(".two.tmp-*"))
    if not keep:
        assert left == [] and "kept in" not in result.output
        return
    (tmp,) = left
    assert f"the unfinished update is kept in {tmp}" in result.output
    assert len(finished_steps(tmp)) == 1 and (tmp / "first" / "a.txt").is_file()
    (tmp_path / "fail").unlink()
    # The CLI runner's process is this one (alive): resume looks for a dead one's folder.
    dead = tmp.rename(tmp.with_name(f".two.tmp-{_dead_pid()}"))
    result = CliRunner().invoke(app, ["reproduce", str(exp), "--update", "--resume"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "count").read_text() == "1"  # step 1 kept, not run again
    assert (tmp_path / "results" / "two" / "second" / "b.txt").read_text() == "b"
    assert not dead.exists()
