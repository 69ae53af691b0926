"""The ``urbsim scenarios`` and ``urbsim init`` commands: the packaged scenarios, and a start.

``urbsim scenarios`` lists the scenarios packaged with urbsim (names that ``urbsim run`` and
``extends`` accept). ``urbsim init DIR`` writes an editable scenario that extends the calibrated
census scenario by name, and a sweep over it, both commented; it never replaces a file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Final

import typer

from urbsim.errors import UrbsimError

#: The files ``urbsim init`` writes, by name.
SCENARIO_FILE: Final[str] = "scenario.toml"
SWEEP_FILE: Final[str] = "sweep.toml"

SCENARIO_TEMPLATE: Final[str] = """\
# My policy scenario: the calibrated census scenario with changes from 2026.
#
# Run it:       urbsim run {dir}/scenario.toml
# Check it:     urbsim check {dir}/scenario.toml
# All fields:   urbsim schema (units, defaults and sources), or docs/parameters.md
#
# `extends` names a scenario packaged with urbsim (`urbsim scenarios` lists them) or a file
# relative to this one; the fields below replace the ones it sets. china_census runs the 2,870
# county-level places of the 2010 census under the policy history 2010-2024, held after 2024.
extends = "china_census"
name = "my-policy"
description = "The calibrated census scenario with my policy changes from 2026."

[world]
# Real households per agent: 1000 is the calibration's scale (about 0.5 million agents, a few
# minutes); 4000 runs four times faster with noisier small places.
households_per_agent = 4000.0

# --- The main levers, as changes in a timeline year (from that year on) ---------------------
# Settlement (hukou transfer) rules per city size class: super_large, mega, large_i, large_ii,
# medium, small, county_town. rule = "closed" | "open" | "conditional" (after min_years) |
# "points" (after min_years, up to quota_per_10k transfers per 10,000 registered per year).
[timeline.2026.settlement]
mega        = {{ rule = "points", min_years = 3, quota_per_10k = 15.0 }}
large_i     = {{ rule = "open", min_years = 0 }}

# Residence permits: service access of a permit holder by completed years of residence.
[timeline.2026.permit]
access = [0.7, 0.8, 0.9, 1.0]

# Central transfers for public services by "registered" or "permanent" (resident) population.
# [timeline.2026]
# service_funding_base = "permanent"
# governance_efficiency = 1.05      # local governments' efficiency (1 = as in 2010-2024)

# County-town programme (billion yuan a year, funded pilot county towns, regional priority).
# [timeline.2026.county_town]
# budget = 100.0
# pilot_counties = 120

# Old-community renewal (households a year, share paid by higher-level subsidies).
# [timeline.2026.renewal]
# households_per_year = 8.76e6
# subsidy_share = 0.5
"""

SWEEP_TEMPLATE: Final[str] = """\
# A sweep over my scenario: replications with common random numbers, or a grid of one lever.
#
# Run it:   urbsim sweep {dir}/sweep.toml --out results/my-sweep
# Options:  urbsim sweep --help (workers, Dask, --resume)
base = "scenario.toml"        # relative to this file
seed = 20260101               # every run's seed derives from this one
replications = 2              # runs per design point

[design]
# grid: every listed value; lhs, sobol, morris: sampled designs; replicate: the base alone.
kind = "grid"

[[design.parameters]]
name = "timeline.2026.permit.min_residence_months"
values = [0, 6, 12]

[outputs]
national = ["urbanization_rate", "hukou_urbanization_rate", "floating_population"]

[outputs.metrics]
urbanization_rate_2035 = {{ column = "urbanization_rate", year = 2035 }}
hukou_urbanization_rate_2035 = {{ column = "hukou_urbanization_rate", year = 2035 }}
"""


class InitError(UrbsimError, FileExistsError):
    """``urbsim init`` would replace a file, or cannot write into the folder."""


def scenarios() -> None:
    """List the scenarios packaged with urbsim (names for `urbsim run NAME` and `extends`)."""
    from urbsim.scenario.registry import packaged_scenarios

    found = packaged_scenarios()
    width = max(len(s.name) for s in found)
    for s in found:
        typer.echo(f"{s.name:<{width}}  {s.description}")


def write_templates(folder: Path) -> list[Path]:
    """Write the scenario and sweep templates into ``folder`` (created if needed).

    Parameters
    ----------
    folder : Path
        Target folder; it may exist, but must not hold either file.

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    InitError
        If a file would be replaced or the folder cannot be created or written; nothing is
        written then.
    """
    targets = {folder / SCENARIO_FILE: SCENARIO_TEMPLATE, folder / SWEEP_FILE: SWEEP_TEMPLATE}
    existing = [str(p) for p in targets if p.exists() or p.is_symlink()]
    if existing:
        shown = ", ".join(existing)
        raise InitError(f"{shown}: exists; refusing to overwrite (choose another DIR)")
    if folder.exists() and not folder.is_dir():
        raise InitError(f"{folder}: exists and is not a folder")
    written: list[Path] = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for path, template in targets.items():
            # "x": never replace a file that appeared since the check above.
            with path.open("x", encoding="utf-8") as fh:
                written.append(path)
                fh.write(template.format(dir=folder.as_posix()))
    except OSError as exc:
        for path in written:  # only what this call created: all or nothing
            path.unlink(missing_ok=True)
        raise InitError(f"{folder}: cannot write: {exc.strerror or exc}") from None
    return written


def init(
    folder: Annotated[
        Path, typer.Argument(metavar="DIR", help="Folder for scenario.toml and sweep.toml.")
    ],
) -> None:
    """Write an editable scenario and a sweep template into DIR (never replaces a file)."""
    for path in write_templates(folder):
        typer.echo(f"wrote {path}")
    typer.echo(f"next: urbsim run {folder.as_posix()}/{SCENARIO_FILE}")
