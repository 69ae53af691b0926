"""``urbsim world build``: it never overwrites its inputs or a file that is not a world file
(issue 10, finding 2), and bad input files give one clear error (findings 4 and 5).

The inputs are a minimal census workbook (Beijing with two units) written with openpyxl and a
one-line centroids CSV, both in ``tmp_path``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from census_rows import HEADERS, census_row
from typer.testing import CliRunner

from urbsim.cli import app
from urbsim.world.census import (
    CensusDataError,
    WorldFileError,
    build_census_world_table,
    check_world_output,
    read_world_file,
    write_world_file,
)

#: End-to-end runs, sweeps or subprocesses: outside `make test-fast`.
pytestmark = pytest.mark.slow

CENTROIDS = "city_code,city,lon,lat\n110100,北京市,116.4,40.2\n"


@pytest.fixture
def inputs(tmp_path: Path) -> tuple[Path, Path]:
    """A valid workbook and centroids CSV."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADERS)
    for row in (
        census_row("北京市", 110000, 3000),
        census_row("东城区", 110101, 2000),
        census_row("密云县", 110228, 1000),
    ):
        ws.append(row)
    xlsx = tmp_path / "census.xlsx"
    wb.save(xlsx)
    cen = tmp_path / "centroids.csv"
    cen.write_text(CENTROIDS, encoding="utf-8")
    return xlsx, cen


def _cli(xlsx: Path, cen: Path, out: Path | str) -> tuple[int, str]:
    args = ["world", "build", "--census-xlsx", str(xlsx), "--centroids", str(cen)]
    result = CliRunner().invoke(app, [*args, "--out", str(out)])
    return result.exit_code, result.output


def _one_error(code: int, output: str) -> str:
    """The CLI failed with exit code 2 and exactly one ``error:`` line, no traceback."""
    assert code == 2, output
    assert "Traceback" not in output
    lines = [ln for ln in output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), output
    return lines[0]


# ==================================================================================================
# finding 2: --out never overwrites inputs or foreign files
# ==================================================================================================


@pytest.mark.parametrize("which", ["xlsx", "centroids"])
def test_finding_2_world_build_refuses_to_overwrite_its_inputs(
    inputs: tuple[Path, Path], which: str
) -> None:
    """Finding 2: ``world build --out X`` silently overwrote its own input xlsx."""
    xlsx, cen = inputs
    target = xlsx if which == "xlsx" else cen
    before = target.read_bytes()
    line = _one_error(*_cli(xlsx, cen, target))
    assert str(target) in line and "refusing to overwrite" in line and "input" in line
    assert target.read_bytes() == before


@pytest.mark.parametrize("link", ["symlink", "hardlink"])
def test_finding_2_an_input_reached_through_a_link_is_protected(
    inputs: tuple[Path, Path], tmp_path: Path, link: str
) -> None:
    """Finding 2: the same file under another name (a symbolic or a hard link) is an input."""
    xlsx, cen = inputs
    alias = tmp_path / "alias.parquet"
    (os.symlink if link == "symlink" else os.link)(cen, alias)
    line = _one_error(*_cli(xlsx, cen, alias))
    assert "is the input --centroids" in line
    assert cen.read_text(encoding="utf-8") == CENTROIDS


@pytest.mark.parametrize("content", ["text", "parquet"])
def test_finding_2_world_build_refuses_to_overwrite_a_file_that_is_not_a_world_file(
    inputs: tuple[Path, Path], tmp_path: Path, content: str
) -> None:
    """Finding 2: ``world build --out X`` silently overwrote any unrelated file."""
    xlsx, cen = inputs
    victim = tmp_path / "thesis.parquet"
    if content == "text":
        victim.write_text("my thesis\n", encoding="utf-8")
    else:
        import pyarrow as pa

        pq.write_table(pa.table({"x": [1, 2]}), victim)
    before = victim.read_bytes()
    line = _one_error(*_cli(xlsx, cen, victim))
    assert "is not an urbsim world file" in line and str(victim) in line
    assert victim.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["census.xlsx", "centroids.csv", "thesis.parquet"]
    )


def test_finding_2_write_world_file_api_refuses_the_inputs_named_in_the_report(
    inputs: tuple[Path, Path],
) -> None:
    """Finding 2, Python API: writing the table over the xlsx the report names is refused."""
    xlsx, cen = inputs
    df, report = build_census_world_table(xlsx, cen)
    before = xlsx.read_bytes()
    with pytest.raises(WorldFileError, match="is the input --census-xlsx"):
        write_world_file(df, xlsx, report)
    assert xlsx.read_bytes() == before


def test_an_existing_world_file_is_replaced_and_marked(
    inputs: tuple[Path, Path], tmp_path: Path
) -> None:
    xlsx, cen = inputs
    out = tmp_path / "worlds" / "w.parquet"
    for _ in range(2):  # the second build replaces the first
        code, output = _cli(xlsx, cen, out)
        assert code == 0, output
    meta = pq.read_schema(out).metadata
    assert meta[b"urbsim_kind"] == b"world" and meta[b"urbsim_world_schema"] == b"1"
    assert len(read_world_file(out)[0]) == 2
    assert [p.name for p in out.parent.iterdir()] == ["w.parquet"]  # no temporary file left


def test_a_failed_write_leaves_the_old_world_file_intact(
    inputs: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    xlsx, cen = inputs
    df, report = build_census_world_table(xlsx, cen)
    out = write_world_file(df, tmp_path / "w.parquet", report)
    before = out.read_bytes()

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(pq, "write_table", broken)
    with pytest.raises(OSError, match="disk full"):
        write_world_file(df, out, report)
    assert out.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]


@pytest.mark.parametrize("out", ["dir", "under_file"])
def test_bad_out_paths_fail_before_building(
    inputs: tuple[Path, Path], tmp_path: Path, out: str
) -> None:
    xlsx, cen = inputs
    target = {
        "dir": str(tmp_path),
        "under_file": str(cen / "w.parquet"),
    }[out]
    line = _one_error(*_cli(xlsx, cen, target))
    assert "(--out)" in line


def test_a_nul_in_the_out_path_is_a_world_file_error(tmp_path: Path) -> None:
    with pytest.raises(WorldFileError, match="NUL"):
        check_world_output(str(tmp_path / "w\0.parquet"), {})


# ==================================================================================================
# findings 4 and 5: bad input files
# ==================================================================================================


def _truncated(xlsx: Path) -> bytes:
    return xlsx.read_bytes()[: xlsx.stat().st_size // 2]


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("empty", "the file is empty"),
        ("truncated", "cannot read as an xlsx workbook"),
        ("text", "cannot read as an xlsx workbook"),
    ],
)
def test_finding_4_empty_truncated_or_non_xlsx_workbook_is_one_clear_error(
    inputs: tuple[Path, Path], tmp_path: Path, kind: str, reason: str
) -> None:
    """Finding 4: ``world build`` on an empty, truncated or non-xlsx file gave a traceback."""
    xlsx, cen = inputs
    bad = tmp_path / f"{kind}.xlsx"
    bad.write_bytes({"empty": b"", "truncated": _truncated(xlsx), "text": b"a,b\n1,2\n"}[kind])
    with pytest.raises(CensusDataError, match=reason) as exc:
        build_census_world_table(bad, cen)
    assert exc.value.file == str(bad)
    line = _one_error(*_cli(bad, cen, tmp_path / "w.parquet"))
    assert str(bad) in line and reason in line
    assert not (tmp_path / "w.parquet").exists()


def test_finding_4_a_workbook_with_a_corrupt_sheet_is_one_clear_error(
    inputs: tuple[Path, Path], tmp_path: Path
) -> None:
    """Finding 4: a truncated sheet inside an intact zip (XML cut off) is reported too."""
    import zipfile

    xlsx, cen = inputs
    bad = tmp_path / "corrupt.xlsx"
    with zipfile.ZipFile(xlsx) as src, zipfile.ZipFile(bad, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            dst.writestr(name, data[: len(data) // 2] if "worksheets/sheet" in name else data)
    with pytest.raises(CensusDataError, match=r"corrupt\.xlsx: .*(truncated or corrupt|cannot)"):
        build_census_world_table(bad, cen)


@pytest.mark.parametrize(
    ("text", "row", "reason"),
    [
        ("", None, "the file is empty"),
        ("city_code,city,lon,lat\n", 1, "no data rows, only a header"),
        (CENTROIDS + "110100,北京,116.5,40.0\n", 2, "code 110100 appears more than once"),
    ],
    ids=["empty", "header-only", "duplicated-code"],
)
def test_finding_4_and_5_bad_centroids_csv_is_one_clear_error(
    inputs: tuple[Path, Path], tmp_path: Path, text: str, row: int | None, reason: str
) -> None:
    """Finding 4: an empty centroids CSV gave a traceback. Finding 5: a centroids CSV with only
    a header or with duplicated codes was accepted."""
    xlsx, _ = inputs
    cen = tmp_path / "bad_centroids.csv"
    cen.write_text(text, encoding="utf-8")
    with pytest.raises(CensusDataError, match=reason) as exc:
        build_census_world_table(xlsx, cen)
    assert exc.value.file == str(cen) and exc.value.row == row
    line = _one_error(*_cli(xlsx, cen, tmp_path / "w.parquet"))
    assert str(cen) in line and reason in line


def test_finding_5_duplicated_province_codes_are_refused(
    inputs: tuple[Path, Path], tmp_path: Path
) -> None:
    """Finding 5 (province table): a repeated province code would silently pick one row."""
    xlsx, cen = inputs
    prov = tmp_path / "provinces.csv"
    prov.write_text(
        "code,region,capital_lon,capital_lat\n11,east,116.4,39.9\n11,west,100.0,30.0\n",
        encoding="utf-8",
    )
    with pytest.raises(CensusDataError, match=r"row 2, column code: code 11 appears more than"):
        build_census_world_table(xlsx, cen, prov)
