"""Issue 10, findings 4 and 5 for scenario files and the loading API: files that are not UTF-8
text, runaway ``extends`` chains and nesting, wrong Python types, and timeline keys that are not
plain years. Each is a clear error naming the file and the key, never a traceback or a silently
different scenario."""

from __future__ import annotations

from pathlib import Path

import pytest

from urbsim.scenario import ScenarioError, load_scenario, validate
from urbsim.scenario.load import MAX_EXTENDS_DEPTH, MAX_NESTING
from urbsim.scenario.schema import timeline_key_problems

SHORT = """\
name = "short"
start_year = 2010
end_year = 2016
seed = 5

[world]
households_per_agent = 40000.0
"""
ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "scenarios" / "baseline.toml"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path.resolve()


def one_problem(exc: pytest.ExceptionInfo[ScenarioError], source: Path | str) -> tuple[str, str]:
    assert exc.value.source == str(source)
    assert len(exc.value.problems) == 1, exc.value.problems
    return exc.value.problems[0]


# ---------------------------------------------------------------------------------------------
# Finding 4: tracebacks instead of an error naming the file
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "content",
    [
        "name = 'caf\xe9'\n".encode("latin-1"),
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xd8",
        b"\xff\xfe" + "name = 'x'\n".encode("utf-16-le"),
    ],
    ids=["latin-1", "binary", "utf-16"],
)
def test_finding_4_a_file_that_is_not_utf8_text(tmp_path: Path, content: bytes) -> None:
    """finding 4: a non-UTF-8 or binary scenario file raised UnicodeDecodeError."""
    path = tmp_path / "bad.toml"
    path.write_bytes(content)
    with pytest.raises(ScenarioError) as exc:
        load_scenario(path)
    field, reason = one_problem(exc, path.resolve())
    assert field == "" and "not a UTF-8 text file" in reason


def test_a_byte_order_mark_is_not_an_error(tmp_path: Path) -> None:
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + SHORT.encode())
    assert load_scenario(path).scenario.name == "short"


def test_finding_4_a_folder_or_nul_in_the_scenario_path(tmp_path: Path) -> None:
    """finding 4: a folder is not a file; a NUL byte in the path raised ValueError."""
    with pytest.raises(ScenarioError, match="not a file"):
        load_scenario(tmp_path)
    with pytest.raises(ScenarioError, match="NUL byte"):
        load_scenario(str(tmp_path / "a\0b.toml"))
    text = SHORT.replace("[world]", '[world]\nname = "census"\nworld_file = "a\\u0000b"')
    path = write(tmp_path / "w.toml", text)
    with pytest.raises(ScenarioError) as exc:
        load_scenario(path)
    assert one_problem(exc, path) == ("world.world_file", "a file name cannot contain a NUL byte")


def test_finding_4_an_extends_chain_a_thousand_files_deep(tmp_path: Path) -> None:
    """finding 4: an ``extends`` chain ~1,000 deep ended in RecursionError."""
    for i in range(1000):
        write(tmp_path / f"s{i}.toml", f'extends = "s{i + 1}.toml"\n')
    write(tmp_path / "s1000.toml", SHORT)
    with pytest.raises(ScenarioError) as exc:
        load_scenario(tmp_path / "s0.toml")
    field, reason = one_problem(exc, (tmp_path / "s0.toml").resolve())
    assert field == "extends" and f"more than {MAX_EXTENDS_DEPTH} files" in reason
    # A chain within the limit still loads.
    write(tmp_path / f"s{1000 - MAX_EXTENDS_DEPTH}.toml", SHORT)
    start = tmp_path / f"s{1000 - 2 * MAX_EXTENDS_DEPTH + 1}.toml"
    assert load_scenario(start).scenario.name == "short"


@pytest.mark.parametrize(
    "text",
    [
        "a = " + "[" * 5000 + "]" * 5000 + "\n",
        "a = " + "[" * (MAX_NESTING + 5) + "]" * (MAX_NESTING + 5) + "\n",
        "a = " + "{b = " * 2000 + "1" + "}" * 2000 + "\n",
        "[" + ".".join(["t"] * 400) + "]\nx = 1\n",
    ],
    ids=["arrays-5000", "arrays-37", "inline-tables-2000", "dotted-table-400"],
)
def test_finding_4_deeply_nested_data(tmp_path: Path, text: str) -> None:
    """finding 4: deeply nested arrays ended in RecursionError (in the TOML reader, or later
    when the data is copied and merged)."""
    path = write(tmp_path / "deep.toml", text)
    with pytest.raises(ScenarioError) as exc:
        load_scenario(path)
    field, reason = one_problem(exc, path)
    assert field == "" and "nested too deeply" in reason


def test_finding_4_deeply_nested_overrides(tmp_path: Path) -> None:
    """finding 4: ``--set`` values and keys nest no deeper than a file may."""
    path = write(tmp_path / "s.toml", SHORT)
    for item in ["a=" + "[" * 5000 + "]" * 5000, ".".join(["a"] * 1000) + "=1"]:
        with pytest.raises(ScenarioError) as exc:
            load_scenario(path, overrides=[item])
        assert exc.value.source == "--set" and "nested too deeply" in str(exc.value)
    nested: object = 1
    for _ in range(2000):
        nested = [nested]
    with pytest.raises(ScenarioError, match="nested too deeply"):
        validate({"description": nested})


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [("seed=3", "got str"), (["seed=3", 3], r"overrides\[1\] .* got int"), (b"seed=3", "bytes")],
)
def test_finding_4_overrides_of_the_wrong_type(overrides: object, fragment: str) -> None:
    """finding 4: ``load_scenario(p, overrides="seed=3")`` read each character as an override
    and ``overrides=[3]`` raised AttributeError; a wrong Python type is a TypeError."""
    with pytest.raises(TypeError, match=fragment):
        load_scenario(BASELINE, overrides=overrides)  # type: ignore[arg-type]


def test_finding_4_other_wrong_types() -> None:
    """finding 4: a path or a scenario table of the wrong type is a TypeError."""
    with pytest.raises(TypeError, match="path must be a str or a path"):
        load_scenario(3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="must be a dict, got list"):
        validate([("seed", 3)])  # type: ignore[arg-type]
    # Bad values (not types) stay ScenarioErrors.
    with pytest.raises(ScenarioError, match=r"expected dotted\.key=value"):
        load_scenario(BASELINE, overrides=["seed"])
    with pytest.raises(ScenarioError, match="seed"):
        load_scenario(BASELINE, seed="three")


def test_finding_4_top_level_errors_do_not_print_the_whole_scenario(tmp_path: Path) -> None:
    """A whole-scenario check (end before start) names the reason without echoing every
    field of the scenario into the message."""
    path = write(tmp_path / "s.toml", SHORT.replace("end_year = 2016", "end_year = 2010"))
    with pytest.raises(ScenarioError) as exc:
        load_scenario(path)
    assert "households_per_agent" not in str(exc.value)


# ---------------------------------------------------------------------------------------------
# Findings 4 and 5: timeline keys are plain years
# ---------------------------------------------------------------------------------------------
def timeline(*keys: str) -> str:
    return SHORT + "".join(f'\n[timeline."{k}".permit]\nenabled = true\n' for k in keys)


@pytest.mark.parametrize(
    ("key", "year"),
    [("²⁰¹²", 2012), ("２０１２", 2012), ("02012", 2012), (" 2013", 2013), ("٢٠١٢", 2012)],
)
def test_finding_4_5_timeline_keys_that_are_not_plain_years(
    tmp_path: Path, key: str, year: int
) -> None:
    """finding 4: ``"²⁰¹²"`` raised ValueError in int(); finding 5: ``"02012"`` and full-width
    digits were accepted. Each is now an error naming the file and the key."""
    path = write(tmp_path / "t.toml", timeline(key))
    with pytest.raises(ScenarioError) as exc:
        load_scenario(path)
    field, reason = one_problem(exc, path)
    assert key in field and "four plain digits" in reason and f"write {year}" in reason
    assert key in str(exc.value) and str(path) in str(exc.value)


@pytest.mark.parametrize("twin", ["02012", "２０１２", "2012 "])
def test_finding_5_the_same_year_twice(tmp_path: Path, twin: str) -> None:
    """finding 5: ``"2012"`` and ``"02012"`` are different TOML keys for one year: one silently
    overwrote the other. Now both keys are named as duplicates."""
    path = write(tmp_path / "t.toml", timeline("2012", twin))
    with pytest.raises(ScenarioError) as exc:
        load_scenario(path)
    field, reason = one_problem(exc, path)
    assert twin in field and "duplicate" in reason and "'2012'" in reason


def test_finding_5_duplicates_among_malformed_keys_are_named() -> None:
    problems = dict(timeline_key_problems(["02012", "２０１２", "2013", "next"]))
    assert set(problems) == {"02012", "２０１２", "next"}
    assert "duplicate: '02012'" in problems["２０１２"]
    assert "duplicate" not in problems["02012"] and "write" not in problems["next"]


def test_plain_years_are_still_timeline_keys(tmp_path: Path) -> None:
    path = write(tmp_path / "t.toml", timeline("2012", "2014"))
    loaded = load_scenario(path)
    assert not loaded.policy(2011).permit.enabled and loaded.policy(2012).permit.enabled
    assert timeline_key_problems(["2012", "1999", "9999"]) == []
