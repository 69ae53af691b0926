"""Helpers of the sweep tests: a tiny scenario and sweep files written into a folder.

(A module of its own, not conftest.py: ``from conftest import`` would be ambiguous with
tests/conftest.py.)

Runs are kept tiny (about 2,000 agents, 2010-2012: a few tenths of a second each, mostly world
building) so that the executor, resume and reproduction tests stay fast.
"""

from __future__ import annotations

from pathlib import Path

SCENARIO = """\
name = "sweep-tiny"
start_year = 2010
end_year = 2012
seed = 5

[world]
households_per_agent = 200000.0

[timeline.2011.permit]
enabled = true
"""

GRID = """\
base = "scenario.toml"
seed = 11
replications = 2

[design]
kind = "grid"

[[design.parameters]]
name = "behaviour.move_base"
values = [0.1, 0.3]

[[design.parameters]]
name = "timeline.2011.permit.min_residence_months"
values = [0, 12]

[outputs]
national = ["urbanization_rate", "service_gap"]
places = ["urban_residents"]
years = [2012]

[outputs.metrics]
urb = { column = "urbanization_rate", year = 2012 }
zipf = { reducer = "zipf_exponent", year = 2012 }
"""

MORRIS = """\
base = "scenario.toml"
seed = 4
replications = 1

[design]
kind = "morris"
n = 2
levels = 4

[[design.parameters]]
name = "behaviour.move_base"
low = 0.07
high = 0.21

[[design.parameters]]
name = "behaviour.beta_income"
low = 0.8
high = 2.4

[outputs]
national = ["urbanization_rate"]

[outputs.metrics]
urb = { column = "urbanization_rate", year = 2012 }
gap = { column = "service_gap", year = 2012 }

[analysis]
metrics = ["urb", "gap"]
num_resamples = 50
"""


def write_sweep(folder: Path, text: str = GRID, name: str = "sweep.toml") -> Path:
    """Write the tiny scenario and a sweep file into ``folder``; return the sweep file."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "scenario.toml").write_text(SCENARIO, encoding="utf-8")
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path
