"""Issue 10, findings 1 and 3: urbsim replaces only folders it marked as its own and that git
does not track, and checks an output location before any simulation.

Each test names its finding. The command-line tests assert the contract of every user error:
exit code 2, one ``error:`` paragraph on stderr, no traceback, nothing written or replaced.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from click.testing import Result
from typer.testing import CliRunner

from urbsim.cli import app
from urbsim.output import (
    MARKER_FILE,
    OutputError,
    check_location,
    check_replaceable,
    read_marker,
    tracked_files,
    write_marker,
    write_run,
)

SCENARIO = """\
name = "tiny"
start_year = 2010
end_year = 2012
seed = 11

[world]
households_per_agent = 1000000.0
"""

SWEEP = """\
base = "scenario.toml"
seed = 3
replications = 1

[design]
kind = "grid"

[[design.parameters]]
name = "behaviour.move_base"
values = [0.1]

[outputs]
national = ["urbanization_rate"]

[outputs.metrics]
urb = { column = "urbanization_rate", year = 2012 }
"""

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def assert_user_error(result: Result, *fragments: str) -> None:
    """Exit 2, one ``error:`` paragraph naming ``fragments``, no traceback, no output."""
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert result.stdout == ""
    assert result.stderr.startswith("error: "), result.stderr
    assert "\n\n" not in result.stderr.strip(), result.stderr
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in result.stderr, (fragment, result.stderr)


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every path below ``folder`` with the bytes of the files."""
    return {
        str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None)
        for p in sorted(folder.rglob("*"))
    }


def git(repo: Path, *args: str) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.org",
    }
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


def committed_folder(repo: Path, rel: str, files: dict[str, str]) -> Path:
    """A git repository at ``repo`` with ``files`` committed under ``rel``."""
    repo.mkdir(parents=True, exist_ok=True)
    git(repo, "init", "-q")
    folder = repo / rel
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "results")
    return folder


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    path = tmp_path / "in" / "tiny.toml"
    path.parent.mkdir()
    path.write_text(SCENARIO)
    return path


@pytest.fixture
def no_simulation(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if the model is run: every refusal must come before it."""

    def simulate(*args: object, **kwargs: object) -> None:
        raise AssertionError("the simulation ran before the output folder was checked")

    monkeypatch.setattr("urbsim.runner.simulate", simulate)


# ---------------------------------------------------------------------------------------------
# Finding 1: nothing but a marked, untracked urbsim folder is replaced
# ---------------------------------------------------------------------------------------------
def test_finding_1_run_does_not_wipe_a_folder_with_a_manifest(
    tmp_path: Path, scenario: Path, no_simulation: None
) -> None:
    """finding 1: ``echo '{}' > DIR/manifest.json; echo x > DIR/src/thesis.tex; urbsim run
    ... --out DIR`` wiped DIR with exit 0."""
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    (project / "manifest.json").write_text("{}\n")
    (project / "src" / "thesis.tex").write_text("years of work\n")
    before = snapshot(tmp_path)
    result = CliRunner().invoke(app, ["run", str(scenario), "--out", str(project)])
    assert_user_error(result, str(project), "not an urbsim run folder", MARKER_FILE)
    assert snapshot(tmp_path) == before


@needs_git
@pytest.mark.parametrize("marked", [False, True], ids=["unmarked", "with-marker"])
def test_finding_1_run_does_not_wipe_a_committed_sweep_folder(
    tmp_path: Path, scenario: Path, no_simulation: None, marked: bool
) -> None:
    """finding 1: ``urbsim run ... --out results/sensitivity/morris`` wiped a committed sweep
    folder. Tracked files are refused even when the folder carries a valid marker."""
    files = {"manifest.json": "{}\n", "sweep.json": "{}\n", "results.parquet": "data"}
    if marked:
        files[MARKER_FILE] = json.dumps(
            {"created_by": "urbsim", "kind": "run", "identity": "", "urbsim_version": "0"}
        )
    morris = committed_folder(tmp_path / "repo", "results/sensitivity/morris", files)
    before = snapshot(tmp_path / "repo")
    result = CliRunner().invoke(app, ["run", str(scenario), "--out", str(morris)])
    assert_user_error(result, str(morris), "tracked by git", "reproduce --update")
    assert snapshot(tmp_path / "repo") == before


def test_finding_1_sweep_force_does_not_wipe_an_unmarked_folder(tmp_path: Path) -> None:
    """finding 1: ``sweep --force`` deleted any folder that held a ``sweep.json``."""
    sweep = _sweep_file(tmp_path)
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "sweep.json").write_text("{}\n")
    (folder / "thesis.tex").write_text("years of work\n")
    before = snapshot(tmp_path)
    result = CliRunner().invoke(
        app, ["sweep", str(sweep), "--out", str(folder), "--force", "--executor", "serial"]
    )
    assert_user_error(result, str(folder), "not an urbsim sweep folder")
    assert snapshot(tmp_path) == before


@needs_git
def test_finding_1_sweep_force_does_not_wipe_a_committed_sweep(tmp_path: Path) -> None:
    """finding 1: a committed sweep folder (tracked by git) is never deleted by ``--force``."""
    sweep = _sweep_file(tmp_path)
    marker = {"created_by": "urbsim", "kind": "sweep", "identity": "", "urbsim_version": "0"}
    files = {"sweep.json": "{}\n", MARKER_FILE: json.dumps(marker)}
    folder = committed_folder(tmp_path / "repo", "results/s", files)
    before = snapshot(tmp_path / "repo")
    result = CliRunner().invoke(
        app, ["sweep", str(sweep), "--out", str(folder), "--force", "--executor", "serial"]
    )
    assert_user_error(result, str(folder), "tracked by git")
    assert snapshot(tmp_path / "repo") == before


def test_finding_1_a_marked_sweep_is_replaced_with_force(tmp_path: Path) -> None:
    """finding 1: what urbsim wrote itself it may replace: a sweep folder carries the marker,
    and ``--force`` starts it over."""
    sweep = _sweep_file(tmp_path)
    out = tmp_path / "out"
    args = ["sweep", str(sweep), "--out", str(out), "--executor", "serial"]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    marker = read_marker(out)
    assert marker is not None and marker["kind"] == "sweep"
    assert marker["identity"] == json.loads((out / "sweep.json").read_text())["resolved_sha256"]
    (out / "stale.txt").write_text("left by the first sweep")
    second = CliRunner().invoke(app, [*args, "--force"])
    assert second.exit_code == 0, second.output
    assert not (out / "stale.txt").exists() and read_marker(out) == marker


def test_finding_1_plot_does_not_replace_figures_of_an_unmarked_folder(tmp_path: Path) -> None:
    """finding 1: ``urbsim plot DIR`` replaced ``DIR/figures`` of any folder holding the two
    tables; it now needs urbsim's run marker."""
    folder = tmp_path / "project"
    (folder / "figures").mkdir(parents=True)
    for name in ("national.parquet", "places.parquet"):
        pd.DataFrame({"year": [2010]}).to_parquet(folder / name)
    (folder / "figures" / "drawn_by_hand.svg").write_text("<svg/>")
    before = snapshot(tmp_path)
    result = CliRunner().invoke(app, ["plot", str(folder)])
    assert_user_error(result, str(folder), "not marked as an urbsim run folder")
    assert snapshot(tmp_path) == before


# --- the API ----------------------------------------------------------------------------------
def test_finding_1_marker_round_trip(tmp_path: Path) -> None:
    """finding 1: the marker says urbsim wrote the folder, its kind, version and identity."""
    write_marker(tmp_path, "run", "abc123")
    marker = read_marker(tmp_path)
    assert marker is not None
    assert marker["created_by"] == "urbsim" and marker["kind"] == "run"
    assert marker["identity"] == "abc123" and marker["urbsim_version"]
    # No timestamp: regenerating a committed folder leaves its marker unchanged.
    text = (tmp_path / MARKER_FILE).read_text()
    write_marker(tmp_path, "run", "abc123")
    assert (tmp_path / MARKER_FILE).read_text() == text
    assert sorted(p.name for p in tmp_path.iterdir()) == [MARKER_FILE]
    with pytest.raises(ValueError, match="unknown output kind"):
        write_marker(tmp_path, "thesis", "")


@pytest.mark.parametrize(
    "content",
    ["{}", "not json", '{"created_by": "someone", "kind": "run", "identity": ""}', "[1]", ""],
)
def test_finding_1_an_invalid_marker_is_no_marker(tmp_path: Path, content: str) -> None:
    """finding 1: only a marker written by urbsim counts."""
    (tmp_path / MARKER_FILE).write_text(content)
    assert read_marker(tmp_path) is None
    with pytest.raises(OutputError, match="marker is not valid"):
        check_replaceable(tmp_path, "run")


def test_finding_1_check_replaceable_rules(tmp_path: Path) -> None:
    """finding 1: absent and empty folders may be written; a marked folder of the same kind
    may be replaced; a file, a link, another kind or an unmarked folder may not."""
    check_replaceable(tmp_path / "absent" / "deeper", "run")
    (tmp_path / "empty").mkdir()
    check_replaceable(tmp_path / "empty", "run")
    run = tmp_path / "run"
    run.mkdir()
    (run / "national.parquet").write_bytes(b"x")
    write_marker(run, "run", "")
    check_replaceable(run, "run")
    with pytest.raises(OutputError, match="is an urbsim run folder, not a sweep folder"):
        check_replaceable(run, "sweep")
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="not a folder"):
        check_replaceable(tmp_path / "file", "run")
    (tmp_path / "link").symlink_to(run)
    with pytest.raises(OutputError, match="a link"):
        check_replaceable(tmp_path / "link", "run")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "manifest.json").write_text("{}")
    with pytest.raises(OutputError, match="not an urbsim run folder"):
        check_replaceable(tmp_path / "mine", "run")


@needs_git
def test_finding_1_tracked_files_and_allow_tracked(tmp_path: Path) -> None:
    """finding 1: files tracked by git block a replacement unless ``allow_tracked`` (used by
    ``reproduce --update``), which accepts an unmarked folder only if git holds every file."""
    folder = committed_folder(tmp_path / "repo", "results/exp", {"a.csv": "1", "sub/b.csv": "2"})
    assert sorted(tracked_files(folder)) == ["a.csv", "sub/b.csv"]
    assert tracked_files(folder / "a.csv") == ["a.csv"]
    assert tracked_files(tmp_path / "repo" / "absent") == []
    with pytest.raises(OutputError, match="holds 2 files tracked by git"):
        check_replaceable(folder, "experiment")
    check_replaceable(folder, "experiment", allow_tracked=True)
    (folder / "notes.txt").write_text("not committed")
    with pytest.raises(OutputError, match="not an urbsim experiment folder"):
        check_replaceable(folder, "experiment", allow_tracked=True)
    write_marker(folder, "experiment", "")
    check_replaceable(folder, "experiment", allow_tracked=True)
    with pytest.raises(OutputError, match="tracked by git"):
        check_replaceable(folder, "experiment")
    # Inside .git nothing can be told, so nothing may be replaced.
    (tmp_path / "repo" / ".git" / "x").mkdir()
    (tmp_path / "repo" / ".git" / "x" / "y").write_text("")
    with pytest.raises(OutputError, match="repository's own folder"):
        check_replaceable(tmp_path / "repo" / ".git" / "x", "run")


def test_finding_1_outside_a_repository_nothing_is_tracked(tmp_path: Path) -> None:
    """finding 1: no repository (or no git) means no tracked files."""
    (tmp_path / "f").write_text("x")
    assert tracked_files(tmp_path) == []


# ---------------------------------------------------------------------------------------------
# Finding 3: a bad output location is found before the simulation
# ---------------------------------------------------------------------------------------------
def _bad_outs(tmp_path: Path) -> dict[str, tuple[str, str]]:
    (tmp_path / "a_file").write_text("x")
    return {
        "sysfs": ("/sys/urbsim-out", "cannot write in /sys"),
        "under a file": (str(tmp_path / "a_file" / "out"), "a part of it is a file"),
        "the file itself": (str(tmp_path / "a_file"), "not a folder"),
        "name too long": (str(tmp_path / ("x" * 300)), "too long"),
    }


@pytest.mark.parametrize("case", ["sysfs", "under a file", "the file itself", "name too long"])
def test_finding_3_bad_out_is_refused_before_the_run(
    tmp_path: Path, scenario: Path, no_simulation: None, case: str
) -> None:
    """finding 3: ``--out /sys/x``, a path under a file, a NUL byte: found only after the whole
    simulation, with a traceback. Now one ``error:`` line, exit 2, before the model."""
    if case == "sysfs" and not Path("/sys/kernel").is_dir():
        pytest.skip("no sysfs here")
    out, fragment = _bad_outs(tmp_path)[case]
    before = snapshot(tmp_path)
    result = CliRunner().invoke(app, ["run", str(scenario), "--out", out])
    assert_user_error(result, fragment)
    assert snapshot(tmp_path) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_finding_3_unwritable_parent_is_refused_before_the_run(
    tmp_path: Path, scenario: Path, no_simulation: None
) -> None:
    """finding 3: an unwritable parent folder is found before the run."""
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        result = CliRunner().invoke(app, ["run", str(scenario), "--out", str(locked / "out")])
    finally:
        locked.chmod(0o700)
    assert_user_error(result, str(locked), "Permission denied")
    assert list(locked.iterdir()) == []


def test_finding_3_nul_byte_in_an_output_path(tmp_path: Path) -> None:
    """finding 3: a NUL byte in an output path (the command line's option parser refuses it;
    the API and files naming folders do not) is an OutputError, not a ValueError after the run.
    """
    with pytest.raises(OutputError, match="NUL byte"):
        check_location(tmp_path / "a\0b")
    with pytest.raises(OutputError, match="NUL byte"):
        write_run(tmp_path / "a\0b", pd.DataFrame({"year": [2010]}), pd.DataFrame(), {}, None)
    assert list(tmp_path.iterdir()) == []


def test_finding_3_check_location_creates_the_parent_and_leaves_no_probe(tmp_path: Path) -> None:
    """finding 3: the parent is created and the write probe removed; the folder itself is not
    created (the run creates it atomically)."""
    out = tmp_path / "a" / "b" / "run"
    check_location(out)
    assert (tmp_path / "a" / "b").is_dir() and not out.exists()
    assert list((tmp_path / "a" / "b").iterdir()) == []
    out.mkdir()
    check_location(out)
    assert list(out.iterdir()) == []


def test_finding_3_plot_refuses_figures_that_are_a_file(tmp_path: Path) -> None:
    """finding 3: ``urbsim plot DIR`` where ``DIR/figures`` is a file moved the file aside to a
    hidden name and exited 0."""
    run = tmp_path / "run"
    write_run(run, pd.DataFrame({"year": [2010]}), pd.DataFrame({"year": [2010]}), {}, None)
    shutil.rmtree(run / "figures")
    (run / "figures").write_text("a file of mine")
    before = snapshot(tmp_path)
    result = CliRunner().invoke(app, ["plot", str(run)])
    assert_user_error(result, "figures", "not a folder")
    assert snapshot(tmp_path) == before


def _sweep_file(tmp_path: Path) -> Path:
    sweep = tmp_path / "in" / "sweep.toml"
    sweep.parent.mkdir(exist_ok=True)
    (sweep.parent / "scenario.toml").write_text(SCENARIO)
    sweep.write_text(SWEEP)
    return sweep


@needs_git
def test_finding_1_resume_writes_nothing_into_committed_results(tmp_path: Path) -> None:
    """finding 1: ``--resume`` of a finished committed sweep writes nothing; of an unfinished
    one (its files tracked by git) it is refused instead of writing into the checkout."""
    sweep = _sweep_file(tmp_path)
    repo = tmp_path / "repo"
    out = repo / "results" / "s"
    args = ["sweep", str(sweep), "--out", str(out), "--executor", "serial", "--resume"]
    assert CliRunner().invoke(app, args).exit_code == 0
    (out / MARKER_FILE).unlink()  # committed before markers existed
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "results")
    before = snapshot(repo)
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 0, done.output
    assert "complete already" in done.stderr
    assert snapshot(repo) == before
    git(repo, "rm", "-q", "results/s/manifest.json")
    git(repo, "commit", "-q", "-m", "unfinished")
    before = snapshot(repo)
    result = CliRunner().invoke(app, args)
    assert_user_error(result, str(out), "tracked by git")
    assert snapshot(repo) == before


def test_finding_1_an_unmarked_unfinished_sweep_is_still_resumable(tmp_path: Path) -> None:
    """finding 1 (migration): a sweep folder interrupted before markers existed resumes (it
    holds the same sweep.json) and is marked then."""
    sweep = _sweep_file(tmp_path)
    out = tmp_path / "s"
    args = ["sweep", str(sweep), "--out", str(out), "--executor", "serial"]
    assert CliRunner().invoke(app, args).exit_code == 0
    (out / MARKER_FILE).unlink()
    (out / "manifest.json").unlink()
    result = CliRunner().invoke(app, [*args, "--resume"])
    assert result.exit_code == 0, result.output
    assert (out / "manifest.json").is_file()
    marker = read_marker(out)
    assert marker is not None and marker["kind"] == "sweep"
