"""Project files: licence, citation, changelog, the version from git tags and a clean build."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.version import Version
from typer.testing import CliRunner

import urbsim
from urbsim.cli import app

ROOT = Path(__file__).resolve().parents[1]

#: What a build or install prints when something in the project is deprecated or wrong.
WARNING_LINE = re.compile(r"warn|deprecat", re.IGNORECASE)

_COMMITTER = {
    "GIT_AUTHOR_NAME": "test",
    "GIT_AUTHOR_EMAIL": "test@example.org",
    "GIT_COMMITTER_NAME": "test",
    "GIT_COMMITTER_EMAIL": "test@example.org",
}


def _pyproject() -> dict[str, Any]:
    with (ROOT / "pyproject.toml").open("rb") as f:
        return tomllib.load(f)


def _fallback_version() -> str:
    return str(_pyproject()["tool"]["setuptools_scm"]["fallback_version"])


def _clean_env() -> dict[str, str]:
    """The environment minus what would override or pollute a build of this tree.

    ``SETUPTOOLS_SCM_PRETEND_VERSION*`` would replace the version under test;
    ``PYTHONDONTWRITEBYTECODE`` (set on some machines) makes setuptools print "warning:
    byte-compiling is disabled", a message about the machine, not about the project.
    """
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("SETUPTOOLS_SCM_PRETEND_VERSION") and k != "PYTHONDONTWRITEBYTECODE"
    }
    return {**env, **_COMMITTER}


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, env=_clean_env(), check=True, capture_output=True)


def _commit_all(repo: Path, message: str) -> None:
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", message)


# ---------------------------------------------------------------------------------------------
# Licence, citation, changelog
# ---------------------------------------------------------------------------------------------
def test_the_licence_is_an_spdx_expression_with_its_file() -> None:
    project = _pyproject()["project"]
    assert project["license"] == "MIT"
    assert project["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License\n")
    assert "Copyright (c) 2026 the urbsim authors" in text
    # PEP 639: the SPDX expression replaces licence classifiers; setuptools refuses both.
    assert not [c for c in project["classifiers"] if c.startswith("License ::")]


def test_the_citation_file_cites_the_software_and_the_census_data() -> None:
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0"
    assert cff["type"] == "software"
    assert cff["title"].startswith("urbsim")
    assert cff["license"] == "MIT"
    assert cff["authors"] and cff["message"]
    (data,) = cff["references"]
    assert data["title"] == "Mapping Evolving Population Geography in China"
    assert [a["family-names"] for a in data["authors"]] == ["Dong", "Du", "Liu"]
    assert (data["year"], data["license"]) == (2022, "MIT")
    assert "National Bureau of Statistics" in data["notes"]


def test_the_changelog_keeps_an_unreleased_section_on_top() -> None:
    text = (ROOT / "CHANGELOG.md").read_text()
    versions = re.findall(r"^## \[([^\]]+)\]", text, flags=re.MULTILINE)
    assert versions[0] == "Unreleased"
    for version in versions[1:]:
        Version(version)  # each released section is a PEP 440 version
    for theme in (
        "Core model and engines",
        "Census world and calibration",
        "Sweeps and sensitivity",
        "Policy experiments",
    ):
        assert f"**{theme}**" in text


def test_the_readme_points_at_the_citation_and_licence_files() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "## Citing urbsim" in readme
    assert "[CITATION.cff](CITATION.cff)" in readme
    assert "[LICENSE](LICENSE)" in readme


# ---------------------------------------------------------------------------------------------
# Version
# ---------------------------------------------------------------------------------------------
def test_version_option_prints_the_package_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.output == f"urbsim {urbsim.__version__}\n"
    Version(urbsim.__version__)  # PEP 440, e.g. 0.2.0.dev33+g456fa743f


def _scm_version(root: Path) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "setuptools_scm"],
        cwd=root,
        env=_clean_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    assert not WARNING_LINE.search(proc.stderr), proc.stderr
    return proc.stdout.strip()


def test_the_version_comes_from_the_tag_else_from_the_fallback(tmp_path: Path) -> None:
    """No git metadata: the fallback itself; a history without tags: N commits past the fallback;
    a tag: exactly the tag (so tags win, and a submission without tags still has a version)."""
    repo = tmp_path / "src"
    repo.mkdir()
    shutil.copy2(ROOT / "pyproject.toml", repo / "pyproject.toml")
    fallback = Version(_fallback_version())
    assert fallback.is_devrelease and fallback.dev == 0

    assert _scm_version(repo) == str(fallback)
    _git(repo, "init", "-q")
    _commit_all(repo, "first")
    (repo / "NOTES").write_text("second\n")
    _commit_all(repo, "second")
    untagged = Version(_scm_version(repo))
    assert (untagged.base_version, untagged.dev) == (fallback.base_version, 2)
    assert untagged.local is not None and untagged.local.startswith("g")  # the commit
    _git(repo, "tag", "-a", "v1.4.2", "-m", "release 1.4.2")
    assert _scm_version(repo) == "1.4.2"


# ---------------------------------------------------------------------------------------------
# The wheel
# ---------------------------------------------------------------------------------------------
def _source_copy(dest: Path) -> Path:
    """Copy this tree's tracked and unignored files, except committed results, into ``dest``."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=False,
    )
    if listed.returncode != 0:
        pytest.skip("the wheel test copies the source tree that git tracks: not a git checkout")
    for rel in listed.stdout.decode().split("\0"):
        src = ROOT / rel
        if not rel or rel.startswith("results/") or not src.is_file():
            continue  # results are large and not in the wheel; deleted files are listed too
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest / rel)
    return dest


def _run_quiet(args: list[str], cwd: Path) -> str:
    """Run a build or install step; fail on an error or on any warning it prints."""
    proc = subprocess.run(
        args, cwd=cwd, env=_clean_env(), capture_output=True, text=True, check=False
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    warnings = [line for line in output.splitlines() if WARNING_LINE.search(line)]
    assert warnings == [], "\n".join(warnings)
    return output


@pytest.mark.slow
def test_the_wheel_builds_and_installs_without_warnings(tmp_path: Path) -> None:
    """Issue 15: `project.license` as a TOML table made setuptools print a deprecation warning.

    The build runs without isolation (the test extra installs setuptools and setuptools-scm) so
    that it needs no network; the copy is tagged so that the tag's version must reach the wheel.
    """
    src = _source_copy(tmp_path / "src")
    _git(src, "init", "-q")
    _commit_all(src, "copy")
    _git(src, "tag", "-a", "v1.4.2", "-m", "release 1.4.2")
    dist = tmp_path / "dist"
    _run_quiet(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist), "."],
        src,
    )
    (wheel,) = dist.glob("*.whl")
    assert wheel.name == "urbsim-1.4.2-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as zf:
        metadata = zf.read("urbsim-1.4.2.dist-info/METADATA").decode()
        assert "urbsim-1.4.2.dist-info/licenses/LICENSE" in zf.namelist()
        version_file = zf.read("urbsim/_version.py").decode()
    assert "\nVersion: 1.4.2\n" in metadata
    assert "\nLicense-Expression: MIT\n" in metadata
    assert "\nLicense-File: LICENSE\n" in metadata
    assert "'1.4.2'" in version_file

    # Install the wheel alone (its dependencies are this environment's business); --isolated
    # ignores the machine's pip configuration, which may name package indexes that do not exist.
    target = tmp_path / "site"
    _run_quiet(
        [sys.executable, "-m", "pip", "--isolated", "install", "--no-deps", "--no-index",
         "--no-compile", "--target", str(target), str(wheel)],
        tmp_path,
    )  # fmt: skip
    assert (target / "urbsim-1.4.2.dist-info").is_dir()
    assert (target / "urbsim" / "_version.py").is_file()
