"""The manifest's version and git state: dirty on the code, not on what runs write."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from packaging.version import Version

import urbsim
from urbsim.output import build_manifest, git_state
from urbsim.output.write import CODE_PATHS, urbsim_version
from urbsim.scenario import validate

_COMMITTER = {
    "GIT_AUTHOR_NAME": "test",
    "GIT_AUTHOR_EMAIL": "test@example.org",
    "GIT_COMMITTER_NAME": "test",
    "GIT_COMMITTER_EMAIL": "test@example.org",
}


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


@pytest.fixture
def checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A committed repository laid out like urbsim's: code, scenarios, results, docs."""
    for name, value in _COMMITTER.items():
        monkeypatch.setenv(name, value)
    files = {
        "urbsim/__init__.py": '"""urbsim."""\n',
        "urbsim/model.py": "RATE = 0.1\n",
        "scenarios/baseline.toml": 'name = "baseline"\n',
        "experiments/policy/experiment.toml": 'name = "policy"\n',
        "pyproject.toml": '[project]\nname = "urbsim"\n',
        "results/demo/manifest.json": "{}\n",
        "results/demo/national.parquet": "table\n",
        "docs/odd.md": "# ODD\n",
        "tests/test_model.py": "def test(): pass\n",
        "README.md": "# urbsim\n",
    }
    repo = tmp_path / "repo"
    for rel, text in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "first")
    return repo


def test_a_fresh_checkout_is_clean(checkout: Path) -> None:
    state = git_state(checkout)
    assert state is not None
    assert state["dirty"] is False
    assert state["changed"] == []
    assert state["code_paths"] == list(CODE_PATHS)


def test_results_docs_tests_and_untracked_files_leave_the_code_clean(checkout: Path) -> None:
    """Issue 15: every committed manifest said dirty because runs modify results/ as they write."""
    (checkout / "results/demo/manifest.json").write_text('{"seed": 7}\n')
    (checkout / "results/demo/national.parquet").unlink()
    (checkout / "docs/odd.md").write_text("# ODD, revised\n")
    (checkout / "tests/test_model.py").write_text("def test(): assert True\n")
    (checkout / "README.md").write_text("# urbsim, revised\n")
    (checkout / "urbsim/scratch.py").write_text("x = 1\n")  # untracked: imported by nothing
    state = git_state(checkout)
    assert state is not None
    assert state["dirty"] is False
    assert state["changed"] == []


@pytest.mark.parametrize(
    "rel", ["urbsim/model.py", "scenarios/baseline.toml", "experiments/policy/experiment.toml"]
)
def test_a_modified_code_file_makes_it_dirty_and_is_named(checkout: Path, rel: str) -> None:
    (checkout / "results/demo/manifest.json").write_text('{"seed": 7}\n')
    (checkout / rel).write_text((checkout / rel).read_text() + "# edited\n")
    state = git_state(checkout)
    assert state is not None
    assert state["dirty"] is True
    assert state["changed"] == [rel]


def test_staged_and_deleted_code_files_count(checkout: Path) -> None:
    (checkout / "pyproject.toml").write_text('[project]\nname = "urbsim2"\n')
    _git(checkout, "add", "pyproject.toml")
    (checkout / "urbsim/model.py").unlink()
    state = git_state(checkout)
    assert state is not None
    assert state["dirty"] is True
    assert sorted(state["changed"]) == ["pyproject.toml", "urbsim/model.py"]


def test_the_answer_does_not_depend_on_the_folder_asked_from(checkout: Path) -> None:
    (checkout / "urbsim/model.py").write_text("RATE = 0.2\n")
    from_top = git_state(checkout)
    from_results = git_state(checkout / "results/demo")
    assert from_top is not None and from_top == from_results
    assert from_top["changed"] == ["urbsim/model.py"]


def test_a_repository_that_does_not_hold_the_package_is_not_its_checkout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """urbsim installed into a virtualenv inside another project's repository: no git state."""
    for name, value in _COMMITTER.items():
        monkeypatch.setenv(name, value)
    repo = tmp_path / "other"
    (repo / "src").mkdir(parents=True)
    (repo / "src/app.py").write_text("x = 1\n")
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "first")
    assert git_state(repo / "src") is None


def test_the_manifest_names_the_version_and_the_code_state() -> None:
    loaded = validate(
        {"name": "demo", "start_year": 2010, "end_year": 2012, "seed": 7}, source="demo.toml"
    )
    manifest = build_manifest(loaded, 7, 1.0, {})
    assert manifest["urbsim_version"] == urbsim_version() == urbsim.__version__
    Version(manifest["urbsim_version"])  # a PEP 440 version, not a placeholder
    git = manifest["git"]
    if git is not None:  # a checkout (None when the package is installed from a wheel)
        assert git["code_paths"] == list(CODE_PATHS)
        assert git["dirty"] in (None, bool(git["changed"]))
