"""The model description (docs/ODD.md) stays true to the code.

* Every leaf field of the scenario schema appears in the parameter table with its current unit
  and default, and the table lists no field the schema lacks.
* The generated tables of docs/ODD.md and docs/parameters.md equal what docs/gen_parameters.py
  produces now (nobody edited them by hand, nobody forgot to regenerate them).
* Every household field, place and government state variable and every step of the documented
  step orders (urbsim/model.py, urbsim/kernels/household_step.py) appears in docs/ODD.md.

The schema is walked here independently of the generator (by the values of a default
``Scenario``), so a kind of field the generator skipped would still be caught.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import re
import sys
import typing
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from pydantic import BaseModel

import urbsim.kernels.household_step as household_step
import urbsim.model
from urbsim.households import FIELDS
from urbsim.scenario.schema import Scenario
from urbsim.state import LocalState, PlaceState
from urbsim.world.base import PlaceTable

ROOT = Path(__file__).resolve().parents[1]
ODD = ROOT / "docs" / "ODD.md"
PARAMETERS = ROOT / "docs" / "parameters.md"
FIX = "regenerate the table with `.venv/bin/python docs/gen_parameters.py`"


def _load_generator() -> ModuleType:
    path = ROOT / "docs" / "gen_parameters.py"
    spec = importlib.util.spec_from_file_location("urbsim_docs_gen_parameters", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses resolve their module through sys.modules while the module executes
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def gen() -> ModuleType:
    return _load_generator()


@pytest.fixture(scope="module")
def odd_text() -> str:
    assert ODD.is_file(), f"{ODD} is missing"
    return ODD.read_text(encoding="utf-8")


def _leaves(model: BaseModel, prefix: str = "", unit: str = "") -> list[tuple[str, str, Any]]:
    """(dotted path, unit, default value) of every leaf field; units inherit from the field
    that holds a nested model when the leaf has none of its own."""
    out = []
    for name, info in type(model).model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        own_unit = str(extra.get("unit", unit))
        value = getattr(model, name)
        entry = _entry_model(info.annotation)
        if isinstance(value, BaseModel):
            out += _leaves(value, f"{prefix}{name}.", own_unit)
        elif entry is not None:  # an array of tables: the fields of one entry
            out += _entry_leaves(entry, f"{prefix}{name}[].")
        else:
            out.append((f"{prefix}{name}", own_unit, value))
    return out


def _entry_model(annotation: Any, container: Any = list) -> type[BaseModel] | None:
    """``Model`` of ``list[Model]`` (or of ``Model | None`` with ``container=None``)."""
    args = typing.get_args(annotation)
    if container is list and typing.get_origin(annotation) is not list:
        return None
    if container is None and type(None) not in args:
        return None
    models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
    return models[0] if len(models) == 1 else None


def _entry_leaves(model: type[BaseModel], prefix: str) -> list[tuple[str, str, Any]]:
    """Leaves of an entry model (a class: required fields have no default, shown "required");
    optional tables (``Model | None``) are walked through."""
    out = []
    for name, info in model.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        unit = str(extra.get("unit", ""))
        nested = _entry_model(info.annotation, None)
        if info.default_factory is not None:
            out += _leaves(info.default_factory(), f"{prefix}{name}.")  # type: ignore[call-arg]
        elif nested is not None:
            out += _entry_leaves(nested, f"{prefix}{name}.")
        else:
            value = REQUIRED if info.is_required() else info.default
            out.append((f"{prefix}{name}", unit, value))
    return out


#: The default of a required field of an array-of-tables entry.
REQUIRED = object()


def _split_row(line: str) -> list[str]:
    """Cells of a Markdown table row (pipes escaped as ``\\|`` stay inside their cell)."""
    inner = line.strip()[1:-1]
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", inner)]


def _table_rows(text: str, gen: ModuleType) -> dict[str, list[str]]:
    """Rows of the generated parameter table by dotted path (cells after the path)."""
    block = gen.extract_block(text)
    assert block, f"docs/ODD.md has no {gen.START} ... {gen.END} block; {FIX}"
    rows: dict[str, list[str]] = {}
    for line in block.splitlines():
        m = re.match(r"\| `([^`]+)` \|", line)
        if m:
            rows[m.group(1)] = _split_row(line)[1:]
    return rows


def test_every_scenario_field_is_in_the_parameter_table(gen: ModuleType, odd_text: str) -> None:
    rows = _table_rows(odd_text, gen)
    columns = list(gen.COLUMNS)
    unit_col, default_col = columns.index("unit") - 1, columns.index("default") - 1
    leaves = _leaves(Scenario())
    assert len(leaves) > 100  # the walk found the nested models
    missing, wrong = [], []
    for path, unit, value in leaves:
        if path not in rows:
            missing.append(path)
            continue
        cells = rows[path]
        expected_default = "`required`" if value is REQUIRED else f"`{gen.format_value(value)}`"
        if cells[unit_col] != (unit or "–"):
            wrong.append(f"{path}: unit {cells[unit_col]!r} in the doc, {unit!r} in the schema")
        if cells[default_col] != expected_default:
            wrong.append(
                f"{path}: default {cells[default_col]} in the doc, {expected_default} in the schema"
            )
    stale = sorted(set(rows) - {p for p, _, _ in leaves})
    problems = []
    if missing:
        problems.append("fields missing from docs/ODD.md: " + ", ".join(missing))
    if wrong:
        problems.append("out of date in docs/ODD.md: " + "; ".join(wrong))
    if stale:
        problems.append("docs/ODD.md lists fields the schema does not have: " + ", ".join(stale))
    assert not problems, "\n".join(problems) + f"\n-> {FIX}"


@pytest.mark.parametrize("path", [ODD, PARAMETERS], ids=["ODD.md", "parameters.md"])
def test_generated_table_is_current(gen: ModuleType, path: Path) -> None:
    assert path.is_file(), f"{path.relative_to(ROOT)} is missing; {FIX}"
    current = gen.extract_block(path.read_text(encoding="utf-8"))
    expected = gen.table()
    assert current == expected, (
        f"the parameter table in {path.relative_to(ROOT)} differs from what "
        f"docs/gen_parameters.py generates (edited by hand, or the schema changed); {FIX}"
    )


def test_generator_output_is_deterministic(gen: ModuleType) -> None:
    first = gen.render()
    assert gen.render() == first
    assert gen.extract_block(first[gen.ODD]) == gen.table()


def test_calibrated_parameters_exist(gen: ModuleType) -> None:
    paths = {p for p, _, _ in _leaves(Scenario())}
    unknown = sorted(set(gen.CALIBRATED) - paths)
    assert not unknown, f"CALIBRATED in docs/gen_parameters.py names unknown fields: {unknown}"
    assert 3 <= len(gen.CALIBRATED) <= 5


def test_format_value_examples(gen: ModuleType) -> None:
    assert gen.format_value(0.14) == "0.14"
    assert gen.format_value(1.0 / 15.0) == "0.0666667"
    assert gen.format_value([1.6, 1.0]) == "[1.6, 1.0]"
    assert gen.format_value({"2010": 0.09}) == "{2010: 0.09}"
    assert gen.format_value(None) == "none"
    assert gen.format_value(False) == "false"
    assert gen.format_value("open") == '"open"'
    assert gen.format_number(2**63) == "2^63"


def test_replace_block_needs_markers(gen: ModuleType) -> None:
    with pytest.raises(ValueError, match="markers"):
        gen.replace_block("no markers here", "x", "doc")
    text = f"a\n{gen.START}\nold\n{gen.END}\nb"
    assert gen.replace_block(text, "NEW", "doc") == "a\nNEW\nb"


def _names_missing(names: list[str], text: str) -> list[str]:
    return [n for n in names if f"`{n}`" not in text]


def test_household_fields_are_documented(odd_text: str) -> None:
    missing = _names_missing(list(FIELDS), odd_text)
    assert not missing, (
        f"household fields of urbsim/households.py FIELDS missing from docs/ODD.md section 2.1: "
        f"{missing}; add a row for each"
    )


def test_place_and_government_state_is_documented(odd_text: str) -> None:
    groups = {
        "PlaceState (urbsim/places.py), section 2.2": [
            f.name for f in dataclasses.fields(PlaceState)
        ],
        "PlaceTable (urbsim/world/base.py), section 2.2": [
            f.name for f in dataclasses.fields(PlaceTable)
        ],
        "LocalState (urbsim/governments.py), section 2.3": [
            f.name for f in dataclasses.fields(LocalState)
        ],
    }
    problems = [
        f"{where}: {missing}"
        for where, names in groups.items()
        if (missing := _names_missing(names, odd_text))
    ]
    assert not problems, "state variables missing from docs/ODD.md:\n" + "\n".join(problems)


def _numbered_steps(doc: str | None, heading: str) -> list[str]:
    """The items of the numbered list that follows ``heading`` in a docstring."""
    assert doc, "module has no docstring"
    after = doc.split(heading, 1)
    assert len(after) == 2, f"docstring no longer contains {heading!r}"
    steps: list[str] = []
    for line in after[1].splitlines():
        m = re.match(r"^(\d+)\. (.*)$", line)
        if m:
            steps.append(m.group(2))
        elif steps and line.startswith("   ") and line.strip():
            steps[-1] += " " + line.strip()
        elif steps and not line.strip():
            break
    assert steps, f"no numbered steps after {heading!r}"
    return steps


def _normalize(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize(
    ("module", "heading"),
    [
        (urbsim.model, "Step order of a year"),
        (household_step, "Order of a household's year"),
    ],
    ids=["model", "household_step"],
)
def test_step_order_is_documented(odd_text: str, module: ModuleType, heading: str) -> None:
    steps = _numbered_steps(module.__doc__, heading)
    text = _normalize(odd_text)
    position = 0
    for number, step in enumerate(steps, 1):
        found = text.find(_normalize(step), position)
        assert found >= 0, (
            f"step {number} of the step order in {module.__name__} is missing from docs/ODD.md "
            f"section 3 (or out of order): {step!r}; copy the docstring's list into section 3 "
            "and update the submodels it changes"
        )
        position = found
