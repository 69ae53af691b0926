"""Issue 10, finding 4: one error path. Every command reports a user mistake as one ``error:``
paragraph with exit code 2 (never a traceback), and the Python API raises a TypeError for a
wrong Python type."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_output_safety import SCENARIO, assert_user_error, snapshot
from typer.testing import CliRunner

from urbsim.cli import app
from urbsim.cli.errors import error_paragraph
from urbsim.errors import InputError, ResourceError, UrbsimError


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    return folder


def _bad_scenarios(folder: Path) -> dict[str, Path]:
    """Scenario files that made ``urbsim run`` and ``check`` end in a traceback."""
    (folder / "latin1.toml").write_bytes("name = 'caf\xe9'\n".encode("latin-1"))
    (folder / "binary.toml").write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff\xd8")
    (folder / "superscript.toml").write_text(
        SCENARIO + '\n[timeline."²⁰¹²".permit]\nenabled = true\n', encoding="utf-8"
    )
    for i in range(1000):
        (folder / f"e{i}.toml").write_text(f'extends = "e{i + 1}.toml"\n')
    (folder / "e1000.toml").write_text(SCENARIO)
    (folder / "nested.toml").write_text("a = " + "[" * 5000 + "]" * 5000 + "\n")
    return {
        "latin1": folder / "latin1.toml",
        "binary": folder / "binary.toml",
        "superscript": folder / "superscript.toml",
        "extends": folder / "e0.toml",
        "nested": folder / "nested.toml",
    }


@pytest.mark.parametrize("command", ["check", "run"])
@pytest.mark.parametrize("case", ["latin1", "binary", "superscript", "extends", "nested"])
def test_finding_4_bad_scenario_files_give_one_error(
    tmp_path: Path, inputs: Path, command: str, case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """finding 4: a non-UTF-8 or binary file, a timeline key ``"²⁰¹²"``, an ``extends`` chain
    1,000 deep and deeply nested arrays gave tracebacks (exit 1)."""
    path = _bad_scenarios(inputs)[case]
    monkeypatch.chdir(tmp_path)
    before = snapshot(tmp_path)
    args = [command, str(path)] + (["--out", str(tmp_path / "out")] if command == "run" else [])
    result = CliRunner().invoke(app, args)
    assert_user_error(result, path.name)
    assert snapshot(tmp_path) == before


def _touch(folder: Path, *names: str) -> list[str]:
    for name in names:
        (folder / name).write_text("x")
    return [str(folder / name) for name in names]


#: command -> (function the command calls, made to raise; arguments after the command).
COMMANDS = {
    "check": ("urbsim.cli.main.load_scenario", ["check", "{in}/s.toml"]),
    "run": ("urbsim.runner.simulate", ["run", "{in}/s.toml", "--out", "{tmp}/out"]),
    "plot": ("urbsim.output.read_run_tables", ["plot", "{tmp}"]),
    "sweep": ("urbsim.sweep.driver.run_sweep", ["sweep", "{in}/s.toml", "--out", "{tmp}/o"]),
    "plot-sweep": ("urbsim.plots.sweep.draw_figures", ["plot-sweep", "{tmp}"]),
    "reproduce": ("urbsim.sweep.reproduce.reproduce", ["reproduce", "{in}"]),
    "world build": (
        "urbsim.world.census.build_census_world_table",
        [
            *("world", "build", "--census-xlsx", "{in}/c.xlsx"),
            *("--centroids", "{in}/p.csv", "--out", "{tmp}/w.parquet"),
        ],
    ),
}


@pytest.mark.parametrize("error", [ResourceError, InputError, UrbsimError])
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_finding_4_every_command_reports_any_user_error(
    tmp_path: Path,
    inputs: Path,
    monkeypatch: pytest.MonkeyPatch,
    command: str,
    error: type[UrbsimError],
) -> None:
    """finding 4: each command caught only the errors it knew of, so a user error raised
    deeper (a resource limit, say) ended in a traceback. One error path catches them all."""
    target, template = COMMANDS[command]
    (inputs / "s.toml").write_text(SCENARIO)
    _touch(inputs, "c.xlsx", "p.csv")

    def raise_it(*args: object, **kwargs: object) -> None:
        raise error("needs 12.0 GB, the limit is 4.0 GB\n\n(pass --max-memory to override)")

    monkeypatch.setattr(target, raise_it)
    args = [a.replace("{in}", str(inputs)).replace("{tmp}", str(tmp_path)) for a in template]
    result = CliRunner().invoke(app, args)
    assert_user_error(result, "needs 12.0 GB", "--max-memory")


def test_error_paragraph_drops_blank_lines() -> None:
    assert error_paragraph(InputError("a\n\n  \nb\n")) == "error: a\nb"
    assert error_paragraph(InputError("")) == "error: InputError"


def test_a_bug_keeps_its_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only user errors are reported as ``error:``; anything else is a bug and propagates."""
    (tmp_path / "s.toml").write_text(SCENARIO)

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("bug")

    monkeypatch.setattr("urbsim.cli.main.load_scenario", broken)
    result = CliRunner().invoke(app, ["check", str(tmp_path / "s.toml")])
    assert result.exit_code == 1 and isinstance(result.exception, KeyError)


def test_finding_4_model_of_a_dict_is_a_type_error() -> None:
    """finding 4: ``UrbanizationModel(dict)`` raised AttributeError deep inside."""
    from urbsim import UrbanizationModel
    from urbsim.scenario import validate

    with pytest.raises(TypeError, match=r"needs a LoadedScenario .* got dict"):
        UrbanizationModel({"seed": 3})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="got Scenario"):
        UrbanizationModel(validate({}).scenario)  # type: ignore[arg-type]
