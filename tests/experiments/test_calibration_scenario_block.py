"""The calibrated scenario's block keeps the settings the calibration ran with."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "experiments" / "calibration" / "scenario_block.py"
sys.path.insert(0, str(SCRIPT.parent))

from scenario_block import BEGIN, END, block, kept_entries, write  # noqa: E402

OLD = f"""name = "x"

{BEGIN}
[behaviour]
move_base = 0.1
destination_constants = true
beta_size = 1.5

[demography]
insitu_base = 0.01
{END}
"""


def test_a_new_block_keeps_the_settings_and_replaces_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "scenario.toml"
    path.write_text(OLD, encoding="utf-8")
    fitted = {"behaviour.move_base": 0.25, "demography.insitu_base": 0.02}
    kept = kept_entries(list(fitted), path)
    assert kept == {"behaviour.destination_constants": True}
    write(block({**kept, **fitted}), path)
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    assert data == {
        "name": "x",
        "behaviour": {"destination_constants": True, "move_base": 0.25},
        "demography": {"insitu_base": 0.02},
    }
    # A parameter no longer fitted (beta_size, out of the box) is not kept with its old value.
    assert kept_entries(["behaviour.destination_constants"], path) == {}


def test_a_file_without_a_block_keeps_nothing(tmp_path: Path) -> None:
    path = tmp_path / "scenario.toml"
    path.write_text('name = "x"\n', encoding="utf-8")
    assert kept_entries(["behaviour.move_base"], path) == {}
