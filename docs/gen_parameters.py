"""Generate the parameter tables of ``docs/ODD.md`` and ``docs/parameters.md`` from the schema.

Every leaf field of :class:`urbsim.scenario.schema.Scenario` (walked recursively, dotted paths
such as ``behaviour.beta_income`` or ``policy.settlement.mega.rule``) becomes one row: unit,
default, allowed range or values, source, whether the calibration fits it, and description.
Units and sources come from each field's ``json_schema_extra``; a field without them (the
regions of a ``ByRegion``, say) inherits them from the field that holds it.

Usage (from the project root)::

    .venv/bin/python docs/gen_parameters.py          # rewrite the tables in place
    .venv/bin/python docs/gen_parameters.py --check  # exit 1 if a table is out of date

The table sits between the markers ``<!-- parameters:start -->`` and
``<!-- parameters:end -->``; text outside the markers is left alone. The output depends only on
the schema and the constants below, so running the script twice changes nothing.
"""

from __future__ import annotations

import csv
import functools
import sys
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import annotated_types as at
from pydantic import BaseModel
from pydantic.fields import FieldInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from a checkout without installing
    sys.path.insert(0, str(ROOT))
if str(ROOT / "docs") not in sys.path:  # docgen, the helpers shared by the generators
    sys.path.insert(0, str(ROOT / "docs"))

from docgen import replace_marked, write_or_check  # noqa: E402

from urbsim.scenario.schema import SETTLEMENT_KEYS, Scenario  # noqa: E402
from urbsim.world.base import SIZE_CLASS_BOUNDS, SIZE_CLASSES  # noqa: E402

ODD = ROOT / "docs" / "ODD.md"
PARAMETERS = ROOT / "docs" / "parameters.md"
START = "<!-- parameters:start -->"
END = "<!-- parameters:end -->"
REGENERATE = ".venv/bin/python docs/gen_parameters.py"

#: The calibration's box (experiments/calibration/history_match.py): the parameters history
#: matching fits, each over its range.
BOX = ROOT / "experiments" / "calibration" / "box.csv"
#: The "calibrated?" column of a parameter outside the box and the fitted block.
NOT_FITTED = "no"
#: What the column adds for a parameter of the fitted block of scenarios/china_census.toml.
FITTED = "the first fit's value (issue 4) in scenarios/china_census.toml"
#: Parameters of the fitted block of scenarios/china_census.toml (written by the first
#: calibration, issue 4; experiments/calibration/scenario_block.py writes it anew): the move
#: propensity, in-situ reclassification, hukou application rate, value of rural land rights
#: and permit uptake (the defaults here are those of the embedded synthetic world).
CALIBRATED: dict[str, str] = {
    "behaviour.move_base": FITTED,
    "demography.insitu_base": FITTED,
    "behaviour.hukou_apply_rate": FITTED,
    "behaviour.land_value": FITTED,
    "behaviour.permit_takeup": FITTED,
}


@functools.cache
def box_ranges() -> dict[str, tuple[float, float]]:
    """The box's range of every parameter history matching fits (``box.csv``)."""
    with BOX.open(newline="", encoding="utf-8") as f:
        rows = csv.DictReader(line for line in f if not line.startswith("#"))
        return {r["parameter"]: (float(r["low"]), float(r["high"])) for r in rows}


def calibrated(path: str) -> str:
    """The "calibrated?" column of ``path``: its range in the box, the fitted block."""
    parts = []
    if path in box_ranges():
        low, high = box_ranges()[path]
        parts.append(
            f"history-matched over [{format_value(low)}, {format_value(high)}] "
            "(experiments/calibration/box.csv)"
        )
    if path in CALIBRATED:
        parts.append(CALIBRATED[path])
    return "; ".join(parts) or NOT_FITTED


#: Section headings of the table, by first component of the dotted path (top-level leaves go
#: under "run").
SECTIONS: dict[str, str] = {
    "run": "Run",
    "world": "World",
    "behaviour": "Household behaviour",
    "demography": "Demography",
    "economy": "Economy, public services and public finance",
    "policy": "Policy (in force in the start year; the timeline changes it)",
}

COLUMNS = ("parameter", "unit", "default", "range / values", "source", "calibrated?", "description")


@dataclass(frozen=True)
class Param:
    """One leaf field of the scenario, as it appears in the table."""

    path: str
    unit: str
    default: str
    values: str
    source: str
    calibrated: str
    description: str


def _settlement_context() -> dict[str, str]:
    """What each entry of ``policy.settlement`` applies to, from the size-class bounds."""
    out: dict[str, str] = {}
    for i, key in enumerate(SETTLEMENT_KEYS):
        if i >= len(SIZE_CLASSES):
            out[key] = "County towns (urban zones of counties and county-level cities)"
            continue
        lo = SIZE_CLASS_BOUNDS[i]
        hi = SIZE_CLASS_BOUNDS[i - 1] if i > 0 else None
        span = f"{lo / 1e6:g}–{hi / 1e6:g} million" if hi else f"{lo / 1e6:g} million or more"
        if lo == 0.0:
            span = f"under {hi / 1e6:g} million" if hi else "any size"
        out[key] = (
            f"Urban districts of {SIZE_CLASSES[i]} cities ({span} urban residents in the "
            "prefecture's districts)"
        )
    return out


_CONTEXT = {f"policy.settlement.{k}": v for k, v in _settlement_context().items()}


# ---------------------------------------------------------------------------------------------
# formatting
# ---------------------------------------------------------------------------------------------
def format_number(value: float | int) -> str:
    """A number as the table prints it: integers plainly, floats with up to 6 significant
    digits (``repr`` when that is as short, so 0.14 stays 0.14)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        if value >= 2**31 and value & (value - 1) == 0:
            return f"2^{value.bit_length() - 1}"
        return str(value)
    text = repr(float(value))
    if len(text) > 10:
        text = f"{value:.6g}"
    return text


def format_value(value: Any) -> str:
    """A default value as the table prints it (TOML-like, deterministic)."""
    if value is None:
        return "none"
    if isinstance(value, bool | int | float):
        return format_number(value)
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{" + ", ".join(f"{k}: {format_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, BaseModel):
        return format_value(value.model_dump())
    raise TypeError(f"cannot format a default of type {type(value).__name__}")


def format_values(info: FieldInfo) -> str:
    """Allowed range or values of a field, from its annotation and constraints."""
    annotation = info.annotation
    args = typing.get_args(annotation)
    if len(args) == 2 and type(None) in args:  # "X | None": none means inherited
        annotation = next(a for a in args if a is not type(None))
        args = typing.get_args(annotation)
    if typing.get_origin(annotation) is typing.Literal:
        return ", ".join(f'"{a}"' for a in args)
    if annotation is bool:
        return "true, false"
    lo = hi = None
    lo_open = hi_open = False
    min_len = max_len = None
    for m in info.metadata:
        if isinstance(m, at.Ge):
            lo = m.ge
        elif isinstance(m, at.Gt):
            lo, lo_open = m.gt, True
        elif isinstance(m, at.Le):
            hi = m.le
        elif isinstance(m, at.Lt):
            hi, hi_open = m.lt, True
        elif isinstance(m, at.MinLen):
            min_len = m.min_length
        elif isinstance(m, at.MaxLen):
            max_len = m.max_length
    parts = []
    if info.annotation is str and min_len:
        return "non-empty" if min_len == 1 else f"at least {min_len} characters"
    if lo is not None and hi is not None:
        left = "(" if lo_open else "["
        right = ")" if hi_open else "]"
        parts.append(f"{left}{format_number(lo)}, {format_number(hi)}{right}")
    elif lo is not None:
        parts.append(f"{'>' if lo_open else '≥'} {format_number(lo)}")
    elif hi is not None:
        parts.append(f"{'<' if hi_open else '≤'} {format_number(hi)}")
    if min_len is not None or max_len is not None:
        if min_len == max_len:
            parts.append(f"{min_len} values")
        else:
            parts.append(f"{min_len or 0}–{max_len if max_len is not None else '…'} values")
    return "; ".join(parts) if parts else "–"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


# ---------------------------------------------------------------------------------------------
# the walk
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Inherited:
    unit: str = ""
    source: str = ""
    description: str = ""


def walk(
    model: BaseModel, prefix: str = "", inherited: _Inherited = _Inherited()
) -> Iterator[Param]:
    """Every leaf field of ``model`` (an instance holding the defaults), depth first in
    declaration order. ``inherited`` carries the unit, source and description of the field that
    holds ``model``, for leaves that have none of their own."""
    context = _CONTEXT.get(prefix.rstrip("."))
    for name, info in type(model).model_fields.items():
        path = f"{prefix}{name}"
        value = getattr(model, name)
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        unit = str(extra.get("unit", inherited.unit))
        source = str(extra.get("source", inherited.source))
        if info.description:
            description = f"{context}: {info.description}" if context else info.description
        elif inherited.description:
            description = f"{inherited.description.rstrip('.')}: {name}."
        else:
            description = ""
        if isinstance(value, BaseModel):
            yield from walk(value, f"{path}.", _Inherited(unit, source, description))
            continue
        item = _model_in(info.annotation, list)
        if item is not None:  # an array of tables ([[policy.places]]): its fields, per entry
            yield from walk_entries(item, f"{path}[].")
            continue
        yield Param(
            path=path,
            unit=unit or "–",
            default=format_value(value),
            values=format_values(info),
            source=source or "–",
            calibrated=calibrated(path),
            description=description or "–",
        )


def _model_in(annotation: Any, container: type | None) -> type[BaseModel] | None:
    """The model class of ``list[Model]`` (``container=list``) or ``Model | None``
    (``container=None``), else None."""
    args = typing.get_args(annotation)
    if container is list and typing.get_origin(annotation) is not list:
        return None
    if container is None and type(None) not in args:
        return None
    models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
    return models[0] if len(models) == 1 else None


def walk_entries(model: type[BaseModel], prefix: str) -> Iterator[Param]:
    """Every leaf field of an entry of an array of tables (a model class: entries have no
    defaults of their own), descending into tables that may be left out (``Model | None``)."""
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        nested = _model_in(info.annotation, None)
        if info.default_factory is not None:
            default = info.default_factory()  # type: ignore[call-arg]
            if isinstance(default, BaseModel):
                yield from walk(default, f"{path}.")
                continue
        if nested is not None:
            yield from walk_entries(nested, f"{path}.")
            continue
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        required = info.is_required()
        yield Param(
            path=path,
            unit=str(extra.get("unit", "–")),
            default="required" if required else format_value(info.default),
            values=format_values(info),
            source=str(extra.get("source", "–")),
            calibrated=calibrated(path),
            description=info.description or "–",
        )


def parameters() -> list[Param]:
    """All leaf parameters of the default scenario."""
    return list(walk(Scenario()))


def _section(path: str) -> str:
    head = path.split(".", 1)[0]
    return head if "." in path and head in SECTIONS else "run"


def table() -> str:
    """The generated block, markers included."""
    params = parameters()
    lines = [
        START,
        "<!-- Generated by docs/gen_parameters.py from urbsim/scenario/schema.py: do not edit by "
        f"hand; run `{REGENERATE}`. -->",
        "",
        f"{len(params)} parameters. Defaults are those of the schema (a scenario file overrides "
        "them; `scenarios/baseline.toml` sets the policy history: docs/ODD.md, section 6).",
    ]
    for key, heading in SECTIONS.items():
        rows = [p for p in params if _section(p.path) == key]
        if not rows:
            continue
        lines += ["", f"#### {heading}", ""]
        lines.append("| " + " | ".join(COLUMNS) + " |")
        lines.append("|" + "---|" * len(COLUMNS))
        for p in rows:
            cells = (
                f"`{p.path}`",
                p.unit,
                f"`{p.default}`",
                p.values,
                p.source,
                p.calibrated,
                p.description,
            )
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    unknown = (set(CALIBRATED) | set(box_ranges())) - {p.path for p in params}
    if unknown:
        raise ValueError(
            f"CALIBRATED or {BOX.name} name fields the schema does not have: {sorted(unknown)}"
        )
    lines += ["", END]
    return "\n".join(lines)


def replace_block(text: str, block: str, name: str) -> str:
    """``text`` with the part between the markers (inclusive) replaced by ``block``."""
    return replace_marked(text, block, name, START, END)


def extract_block(text: str) -> str:
    """The part of ``text`` between the markers, inclusive ("" if absent)."""
    start = text.find(START)
    end = text.find(END)
    if start < 0 or end < start:
        return ""
    return text[start : end + len(END)]


PARAMETERS_HEADER = f"""# urbsim parameters

Every scenario parameter with its unit, default, allowed range, source and calibration status,
generated from `urbsim/scenario/schema.py` by `docs/gen_parameters.py` (after changing the
schema, run `{REGENERATE}`). The same table is appendix A of the model description,
[`docs/ODD.md`](ODD.md), whose section 7 gives the equation each parameter enters.
`urbsim schema` prints the same information as JSON Schema.

"""


def render() -> dict[Path, str]:
    """New contents of the documents that carry the table."""
    block = table()
    odd = replace_block(ODD.read_text(encoding="utf-8"), block, str(ODD))
    return {ODD: odd, PARAMETERS: PARAMETERS_HEADER + block + "\n"}


def main(argv: list[str] | None = None) -> int:
    """Rewrite the tables, or with ``--check`` report whether they are current."""
    return write_or_check(
        argv,
        __doc__.split("\n\n")[0],
        render,
        ROOT,
        REGENERATE,
        lambda n: f"{len(parameters())} parameters; rewrote {n} file(s)",
    )


if __name__ == "__main__":
    raise SystemExit(main())
