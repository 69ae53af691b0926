"""The ``urbsim world`` commands: build the census world file.

Registered on the ``urbsim`` app by :mod:`urbsim.cli` (``urbsim world build``). A data problem in
an input file (a missing column, a non-numeric cell, a code that does not parse, province sums
that differ from the province rows) prints one ``error:`` paragraph naming the file, row and
column and exits with code 2 before anything is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

# User errors go through the one error path of the urbsim command.
from urbsim.cli.errors import ReportingGroup
from urbsim.cli.errors import fail as _fail

world_app = typer.Typer(
    cls=ReportingGroup,
    no_args_is_help=True,
    add_completion=False,
    help="Build world files (the 2010 census world).",
)


@world_app.command("build")
def build(
    census_xlsx: Annotated[
        Path,
        typer.Option(
            "--census-xlsx", help="census_county_2010_v1.xlsx of the leiii/census repository."
        ),
    ],
    centroids: Annotated[
        Path, typer.Option("--centroids", help="prefecture_centroids.csv (city_code, lon, lat).")
    ],
    out: Annotated[Path, typer.Option("--out", help="World file to write (Parquet).")],
    provinces: Annotated[
        Path | None,
        typer.Option(
            "--provinces",
            help="Province table (code, region, capital_lon, capital_lat) [default: "
            "provinces_2010.csv beside the centroids, else the embedded table].",
        ),
    ] = None,
) -> None:
    """Convert the census county file into a world file for scenarios with world "census".

    --out may only replace an existing urbsim world file, never one of the inputs or any other
    file; the file is written atomically (a temporary sibling renamed into place).
    """
    # Plain text above: the docstring is the command's help, which shows no reST markup.
    from urbsim.world.census import (
        build_census_world_table,
        check_world_output,
        provinces_input,
        write_world_file,
    )

    for label, path in (("--census-xlsx", census_xlsx), ("--centroids", centroids)):
        if not path.is_file():
            _fail(f"{path}: no such file ({label})")
    if provinces is not None and not provinces.is_file():
        _fail(f"{provinces}: no such file (--provinces)")
    inputs = {
        "--census-xlsx": census_xlsx,
        "--centroids": centroids,
        "--provinces": provinces_input(centroids, provinces),
    }
    try:
        # Checked before the build too, so a wrong --out fails at once and nothing is built.
        check_world_output(out, inputs)
        df, report = build_census_world_table(census_xlsx, centroids, provinces)
        write_world_file(df, out, report)
    except OSError as exc:
        _fail(f"{out}: cannot write: {exc}")

    typer.echo(_summary(out, report))


def _summary(out: Path, report: dict[str, Any]) -> str:
    """What ``world build`` wrote, from the build report."""
    nat = report["national"]
    kinds = ", ".join(f"{v:,} {k}" for k, v in report["kinds"].items())
    skipped = ", ".join(f"{v} {k}" for k, v in report["rows_skipped"].items())
    fallback = len(report["coordinate_fallback_units"])
    lines = [
        f"wrote {out}",
        f"places: {report['places']:,} ({kinds}) in {report['prefectures']} prefectures",
        "  "
        + ", ".join(f"{v:,} {k}" for k, v in report["unit_types"].items())
        + f"; rows skipped: {skipped}",
        f"coordinates: {fallback} units fell back to the province capital "
        f"({', '.join(f'{v} {k}' for k, v in report['coordinate_sources'].items())})",
        f"residents {nat['residents'] / 1e6:,.2f} M, urban {nat['urban_residents'] / 1e6:,.2f} M "
        f"({nat['urban_residents'] / nat['residents']:.2%}), hukou "
        f"{nat['hukou_residents'] / 1e6:,.2f} M, households {nat['households'] / 1e6:,.2f} M",
        f"in-migrants: same county {nat['inmig_same_county'] / 1e6:,.2f} M, other county "
        f"{nat['inmig_other_county'] / 1e6:,.2f} M, other province "
        f"{nat['inmig_other_province'] / 1e6:,.2f} M",
        "province totals equal the census province rows",
    ]
    if report["corrections"] or report["warnings"]:
        lines.append(
            f"{len(report['corrections'])} cell corrections and {len(report['warnings'])} "
            "warnings (in the file's build report)"
        )
    return "\n".join(lines)
