"""Sweep files: strict schema, parameter checks against the scenario schema, resolution.

A sweep file is TOML validated like a scenario (pydantic, unknown keys and type coercion are
errors): the base scenario, overrides applied to it, the sweep seed, the number of
replications, the design, the outputs to keep and the sensitivity analysis. Everything that can
be wrong with a sweep (a misspelt key, a parameter that is not a numeric scenario field, bounds
outside the field's range, a design point whose scenario does not validate) is found here,
before anything runs, and reported as :class:`SweepError` naming the file, the dotted field and
the reason.
"""

from __future__ import annotations

import hashlib
import json
import math
import tomllib
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import annotated_types
from pydantic import BaseModel, Field, ValidationError, model_validator

from urbsim.output.columns import NATIONAL, PLACES
from urbsim.scenario import ScenarioError

# The sweep reads its base scenario exactly as `urbsim run` does (``extends`` merged, then
# ``--set`` overrides applied), so that every run can be reproduced alone from the command line;
# these private helpers are that code path.
from urbsim.scenario.load import apply_overrides, read_toml, validate, validation_problems
from urbsim.scenario.schema import Policy, Scenario, Strict

#: Columns of the national table (one row per year) a sweep may keep: every registered national
#: column but the year (:data:`urbsim.output.columns.NATIONAL`).
NATIONAL_COLUMNS: Final[tuple[str, ...]] = tuple(c.name for c in NATIONAL if c.name != "year")
#: Numeric columns of the places table (one row per place and year) a sweep may keep: the
#: registered numeric columns that change from year to year, and ``size_class_code``, the index
#: of the ``size_class`` name in :data:`urbsim.world.SIZE_CLASSES` (sweep results hold numbers).
PLACE_COLUMNS: Final[tuple[str, ...]] = (
    *(c.name for c in PLACES if c.dtype == "float64" and not c.static),
    "size_class_code",
)
#: Named reducers a metric may use instead of a national column (see :mod:`urbsim.sweep.runs`).
REDUCERS: Final[tuple[str, ...]] = ("zipf_exponent",)
#: Distributions of continuous design parameters (SALib's names) and the spec fields each takes.
DIST_FIELDS: Final[dict[str, tuple[str, ...]]] = {
    "unif": ("low", "high"),
    "logunif": ("low", "high"),
    "triang": ("low", "high", "peak"),
    "truncnorm": ("low", "high", "mean", "sd"),
    "norm": ("mean", "sd"),
    "lognorm": ("mean", "sd"),
}
#: Design points whose failing scenario validation is reported in full (the rest are counted).
_MAX_POINT_ERRORS = 5


class SweepError(ScenarioError):
    """A sweep that cannot be run, with the file, the dotted field and the reason."""

    #: What the file is, for the first line of the message.
    what = "sweep"

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        super().__init__(source, problems)
        lines = [f"{source}: {field or '(top level)'}: {reason}" for field, reason in problems]
        self.args = (f"invalid {self.what}\n" + "\n".join(lines),)


# ---------------------------------------------------------------------------------------------
# Schema of sweep files
# ---------------------------------------------------------------------------------------------
class Parameter(Strict):
    """A swept scenario field: listed values (grid) or a distribution (lhs, sobol, morris)."""

    name: str = Field(
        min_length=1,
        description="Dotted scenario field, e.g. behaviour.move_base or "
        "timeline.2020.county_town.budget; must be a number (float or int) in the schema.",
    )
    values: list[float | int] | None = Field(
        None,
        min_length=1,
        description="Grid values (grid designs), or the parameter's value at each design point "
        "(points designs: point i takes the i-th value of every parameter).",
    )
    dist: Literal["unif", "logunif", "triang", "truncnorm", "norm", "lognorm"] = Field(
        "unif", description="Distribution (SALib's names) for lhs, sobol and morris designs."
    )
    low: float | None = Field(None, description="Lower bound (unif, logunif, triang, truncnorm).")
    high: float | None = Field(None, description="Upper bound (unif, logunif, triang, truncnorm).")
    peak: float | None = Field(
        None, ge=0, lt=1, description="triang: mode as a share of [low, high]."
    )
    mean: float | None = Field(None, description="norm, truncnorm: mean; lognorm: mean of ln x.")
    sd: float | None = Field(None, gt=0, description="norm, truncnorm: sd; lognorm: sd of ln x.")


class Design(Strict):
    """Which points of the parameter space to run."""

    kind: Literal["grid", "points", "lhs", "sobol", "morris", "replicate"] = Field(
        description="grid: every combination of listed values; points: the listed points "
        "(the i-th value of every parameter, e.g. a calibrated ensemble); lhs: Latin hypercube; "
        "sobol: Saltelli design for Sobol indices; morris: Morris trajectories; replicate: "
        "the base scenario alone (one point, no parameters), run `replications` times."
    )
    n: int | None = Field(
        None,
        ge=1,
        description="lhs: points; sobol: base sample (a power of two); morris: trajectories.",
    )
    levels: int = Field(4, ge=2, description="morris: grid levels (even).")
    optimal_trajectories: int | None = Field(
        None, ge=2, description="morris: keep the best-spread this many of the n trajectories."
    )
    second_order: bool = Field(True, description="sobol: also estimate second-order indices.")
    parameters: list[Parameter] = Field(
        default_factory=list, description="Swept parameters (none for replicate designs)."
    )


class Metric(Strict):
    """A scalar summary of a run: a national column in a year, or a named reducer."""

    column: str | None = Field(None, description="National-table column.")
    reducer: Literal["zipf_exponent"] | None = Field(
        None,
        description="zipf_exponent: rank-size exponent of prefecture cities in the year "
        "(urbsim.analysis.indicators.zipf_exponent: cities of at least 0.5 million urban "
        "residents, Gabaix-Ibragimov rank - 1/2 regression).",
    )
    year: int

    @model_validator(mode="after")
    def _one_source(self) -> Metric:
        if (self.column is None) == (self.reducer is None):
            raise ValueError("give exactly one of column or reducer")
        return self


class Outputs(Strict):
    """What each run keeps."""

    national: list[str] = Field(
        default_factory=lambda: ["urbanization_rate", "hukou_urbanization_rate", "service_gap"],
        description="National columns kept as yearly series.",
    )
    places: list[str] = Field(default_factory=list, description="Place columns kept at `years`.")
    years: list[int] = Field(default_factory=list, description="Years at which places are kept.")
    metrics: dict[str, Metric] = Field(default_factory=dict, description="Summary metrics.")
    until: int | None = Field(
        None,
        description="Stop every run after this year instead of the scenario's end year (the "
        "years run are the same as in the full run); national series then end there.",
    )


class Analysis(Strict):
    """Sensitivity indices computed after the runs (sobol and morris designs)."""

    metrics: list[str] = Field(min_length=1, description="Names of metrics to analyse.")
    num_resamples: int = Field(1000, ge=10, description="Bootstrap resamples for intervals.")
    conf_level: float = Field(0.95, gt=0, lt=1, description="Confidence level of the intervals.")


class SweepFile(Strict):
    """A sweep file."""

    base: str = Field(min_length=1, description="Base scenario, relative to the sweep file.")
    set: dict[str, Any] = Field(
        default_factory=dict,
        description="Overrides of the base scenario: dotted keys (or nested tables) to values, "
        "applied like `urbsim run --set`.",
    )
    seed: int = Field(ge=0, lt=2**63, description="Sweep seed: every run seed derives from it.")
    replications: int = Field(1, ge=1, le=100_000)
    households_per_agent: float | None = Field(
        None, gt=0, le=1e7, description="Shortcut for set world.households_per_agent."
    )
    engine: Literal["numba", "mesa"] | None = Field(None, description="Shortcut for set engine.")
    design: Design
    outputs: Outputs = Field(default_factory=Outputs)
    analysis: Analysis | None = None


# ---------------------------------------------------------------------------------------------
# Scenario fields
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FieldSpec:
    """A numeric scenario field a sweep may set.

    Attributes
    ----------
    name : str
        Dotted name.
    integer : bool
        The field is an int (continuous design values are rounded to the nearest integer).
    lower, upper : float
        Bounds allowed by the schema (infinite when there is none).
    lower_open, upper_open : bool
        The bound itself is excluded (``gt`` / ``lt``).
    """

    name: str
    integer: bool
    lower: float = -math.inf
    upper: float = math.inf
    lower_open: bool = False
    upper_open: bool = False

    def admits(self, value: float) -> bool:
        """Whether ``value`` is within the schema's bounds."""
        lo_ok = value > self.lower if self.lower_open else value >= self.lower
        hi_ok = value < self.upper if self.upper_open else value <= self.upper
        return lo_ok and hi_ok

    def describe(self) -> str:
        """The bounds as an interval."""
        lo = "(" if self.lower_open else "["
        hi = ")" if self.upper_open else "]"
        return f"{lo}{self.lower:g}, {self.upper:g}{hi}"


def _unwrap_optional(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def scenario_field(name: str) -> FieldSpec:
    """Find a numeric field of the scenario schema by its dotted name.

    ``timeline.<year>.<policy field>`` names a field of :class:`~urbsim.scenario.Policy` set
    from that year on; ``<table>.<key>`` into a year series (``demography.birth_rate.2030``)
    names one entry of it.

    Raises
    ------
    ValueError
        If the name is not a field of the schema, or the field is not a number.
    """
    keys = name.split(".")
    if any(not k for k in keys):
        raise ValueError("not a dotted field name")
    model: Any = Scenario
    info: Any = None
    annotation: Any = None
    i = 0
    while i < len(keys):
        key = keys[i]
        where = ".".join(keys[:i]) or "the scenario"
        if isinstance(model, type) and issubclass(model, BaseModel):
            if key not in model.model_fields:
                raise ValueError(f"{key!r} is not a field of {where}")
            info = model.model_fields[key]
            annotation = _unwrap_optional(info.annotation)
            if model is Scenario and key == "timeline":
                # timeline.<year>.<policy field>: a partial Policy merged in from that year.
                if i + 1 >= len(keys) or not keys[i + 1].isdigit():
                    raise ValueError("timeline fields are timeline.<year>.<policy field>")
                model, i = Policy, i + 2
                continue
        elif typing.get_origin(model) is dict:
            annotation = _unwrap_optional(typing.get_args(model)[1])
            info = None
        else:
            raise ValueError(f"{where} is not a table")
        model = annotation
        i += 1
    if model is bool or model not in (float, int):
        shown = getattr(model, "__name__", str(model))
        raise ValueError(f"field is not a number (it is {shown})")
    spec = FieldSpec(name, integer=model is int)
    for m in getattr(info, "metadata", []) if info is not None else []:
        if isinstance(m, annotated_types.Ge):
            spec = _with(spec, lower=float(m.ge), lower_open=False)
        elif isinstance(m, annotated_types.Gt):
            spec = _with(spec, lower=float(m.gt), lower_open=True)
        elif isinstance(m, annotated_types.Le):
            spec = _with(spec, upper=float(m.le), upper_open=False)
        elif isinstance(m, annotated_types.Lt):
            spec = _with(spec, upper=float(m.lt), upper_open=True)
    return spec


def _with(spec: FieldSpec, **changes: Any) -> FieldSpec:
    return FieldSpec(**{**spec.__dict__, **changes})


# ---------------------------------------------------------------------------------------------
# Overrides
# ---------------------------------------------------------------------------------------------
def toml_value(value: Any) -> str:
    """A value as TOML text that ``--set`` reads back to exactly the same value.

    Raises
    ------
    ValueError
        For values TOML cannot hold (NaN, infinity, None, other types).
    """
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int):
        text = str(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value} cannot be written as a TOML value")
        # repr is the shortest text that reads back to the same double.
        text = repr(value)
    elif isinstance(value, str):
        text = json.dumps(value, ensure_ascii=True)
    elif isinstance(value, list):
        text = "[" + ", ".join(toml_value(v) for v in value) + "]"
    elif isinstance(value, dict):
        text = "{" + ", ".join(f"{json.dumps(str(k))} = {toml_value(v)}" for k, v in value.items())
        text += "}"
    else:
        raise ValueError(f"{value!r} ({type(value).__name__}) cannot be written as a TOML value")
    back = tomllib.loads(f"v = {text}")["v"]
    if back != value or type(back) is not type(value):
        raise ValueError(f"{value!r} does not survive a round trip through TOML")
    return text


def flatten_overrides(table: dict[str, Any], prefix: str = "") -> list[str]:
    """Nested ``{a: {b: 1}}`` or dotted ``{"a.b": 1}`` tables as ``["a.b=1"]`` overrides."""
    out: list[str] = []
    for key, value in table.items():
        dotted = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict) and value:
            out.extend(flatten_overrides(value, dotted))
        else:
            out.append(f"{dotted}={toml_value(value)}")
    return out


def format_value(value: float, integer: bool) -> Any:
    """A design value as the Python number the scenario field takes."""
    if integer:
        # round() of a float is an int: halves go to the even neighbour (numpy does the same).
        return round(value)
    return float(value)


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ParameterInfo:
    """A validated design parameter."""

    name: str
    field: FieldSpec
    values: tuple[float | int, ...] | None
    dist: str
    bounds: tuple[float, ...] | None


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep file, with its base scenario read and merged.

    Attributes
    ----------
    source : Path
        The sweep file (absolute).
    spec : SweepFile
        The validated file.
    file_sha256 : str
        sha256 of the file's bytes.
    base_path : Path
        The base scenario (absolute).
    base_data : dict
        The base scenario table with ``extends`` merged, before any override.
    overrides : tuple of str
        ``dotted.key=value`` overrides from ``set``, ``households_per_agent`` and ``engine``,
        applied to every run before the design values.
    parameters : tuple of ParameterInfo
        The design parameters in file order.
    """

    source: Path
    spec: SweepFile
    file_sha256: str
    base_path: Path
    base_data: dict[str, Any]
    overrides: tuple[str, ...]
    parameters: tuple[ParameterInfo, ...]

    @property
    def names(self) -> list[str]:
        """Parameter names in file order."""
        return [p.name for p in self.parameters]

    def resolved(self) -> dict[str, Any]:
        """JSON-serializable description of everything that determines the runs."""
        return {
            "sweep": self.spec.model_dump(mode="json"),
            "base_scenario": self.base_data,
            "overrides": list(self.overrides),
            "parameters": [
                {
                    "name": p.name,
                    "integer": p.field.integer,
                    "values": None if p.values is None else list(p.values),
                    "dist": p.dist,
                    "bounds": None if p.bounds is None else list(p.bounds),
                }
                for p in self.parameters
            ],
        }

    def resolved_sha256(self) -> str:
        """sha256 of :meth:`resolved` as canonical JSON: two sweeps with the same hash run the
        same scenarios with the same seeds."""
        text = json.dumps(self.resolved(), sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode()).hexdigest()


def _check_parameter(
    i: int, p: Parameter, kind: str, problems: list[tuple[str, str]]
) -> ParameterInfo | None:
    where = f"design.parameters.{i}"
    if p.name == "seed":
        problems.append(
            (f"{where}.name", "run seeds derive from the sweep's seed; use replications")
        )
        return None
    try:
        field = scenario_field(p.name)
    except ValueError as exc:
        problems.append((f"{where}.name", f"{p.name!r}: {exc}"))
        return None
    given = {k for k in ("low", "high", "peak", "mean", "sd") if getattr(p, k) is not None}
    if kind in ("grid", "points"):
        if p.values is None:
            problems.append((f"{where}.values", f"a {kind} design needs values"))
            return None
        if given or "dist" in p.model_fields_set:
            problems.append((where, f"a {kind} parameter takes values only, no distribution"))
            return None
        ok = True
        for j, v in enumerate(p.values):
            if field.integer and (isinstance(v, float) and not v.is_integer()):
                problems.append((f"{where}.values.{j}", f"{p.name} is an integer, got {v}"))
                ok = False
            elif not field.admits(float(v)):
                problems.append(
                    (f"{where}.values.{j}", f"{v} is outside {p.name}'s range {field.describe()}")
                )
                ok = False
        # Points may share a parameter's value (a grid's values would make repeated points).
        if kind == "grid" and len(set(p.values)) != len(p.values):
            problems.append((f"{where}.values", "values repeat"))
            ok = False
        if not ok:
            return None
        values = tuple(format_value(float(v), field.integer) for v in p.values)
        return ParameterInfo(p.name, field, values, kind, None)
    if p.values is not None:
        problems.append((f"{where}.values", f"a {kind} design takes a distribution, not values"))
        return None
    needed = DIST_FIELDS[p.dist]
    missing = [k for k in needed if getattr(p, k) is None and not (k == "peak")]
    extra = sorted(given - set(needed))
    if missing:
        problems.append((where, f"dist {p.dist!r} needs {', '.join(missing)}"))
    if extra:
        problems.append((where, f"dist {p.dist!r} takes no {', '.join(extra)}"))
    if missing or extra:
        return None
    ok = True
    if "low" in needed:
        lo, hi = float(p.low), float(p.high)  # type: ignore[arg-type]
        if not lo < hi:
            problems.append((f"{where}.high", f"high ({hi}) must be above low ({lo})"))
            ok = False
        if p.dist == "logunif" and lo <= 0:
            problems.append((f"{where}.low", "logunif needs low > 0"))
            ok = False
        for key, v in (("low", lo), ("high", hi)):
            if not field.admits(v):
                problems.append(
                    (f"{where}.{key}", f"{v} is outside {p.name}'s range {field.describe()}")
                )
                ok = False
    if not ok:
        return None
    bounds: tuple[float, ...]
    if p.dist in ("unif", "logunif"):
        bounds = (float(p.low), float(p.high))  # type: ignore[arg-type]
    elif p.dist == "triang":
        bounds = (float(p.low), float(p.high), 0.5 if p.peak is None else float(p.peak))  # type: ignore[arg-type]
    elif p.dist == "truncnorm":
        bounds = (float(p.low), float(p.high), float(p.mean), float(p.sd))  # type: ignore[arg-type]
    else:
        bounds = (float(p.mean), float(p.sd))  # type: ignore[arg-type]
    return ParameterInfo(p.name, field, None, p.dist, bounds)


def _check_design(spec: SweepFile, problems: list[tuple[str, str]]) -> list[ParameterInfo]:
    d = spec.design
    infos = []
    names = [p.name for p in d.parameters]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(("design.parameters", f"{name} is listed twice"))
    for i, p in enumerate(d.parameters):
        info = _check_parameter(i, p, d.kind, problems)
        if info is not None:
            infos.append(info)
    if d.kind == "replicate":
        if d.parameters:
            problems.append(("design.parameters", "a replicate design sweeps no parameters"))
        for key in ("n", "optimal_trajectories"):
            if getattr(d, key) is not None:
                problems.append((f"design.{key}", "a replicate design takes no " + key))
    elif not d.parameters:
        problems.append(("design.parameters", f"a {d.kind} design needs parameters"))
    if d.kind in ("grid", "points", "replicate"):
        if d.kind in ("grid", "points"):
            for key in ("n", "optimal_trajectories"):
                if getattr(d, key) is not None:
                    problems.append((f"design.{key}", f"a {d.kind} design takes no " + key))
        lengths = {len(p.values) for p in d.parameters if p.values is not None}
        if d.kind == "points" and len(lengths) > 1:
            problems.append(
                (
                    "design.parameters",
                    "every parameter of a points design needs "
                    f"one value per point; got {sorted(lengths)} values",
                )
            )
    else:
        if d.n is None:
            problems.append(("design.n", f"a {d.kind} design needs n"))
        if d.kind == "sobol" and d.n is not None and d.n & (d.n - 1):
            problems.append(("design.n", f"sobol needs a power of two (e.g. 64, 128), got {d.n}"))
        if d.kind == "morris":
            if d.levels % 2:
                problems.append(("design.levels", f"morris needs an even number, got {d.levels}"))
            if d.n is not None and d.n < 2:
                problems.append(("design.n", "morris needs at least 2 trajectories"))
            ot = d.optimal_trajectories
            if ot is not None and d.n is not None and ot > d.n:
                problems.append(("design.optimal_trajectories", f"must be at most n ({d.n})"))
            for i, p in enumerate(d.parameters):
                if p.dist in ("norm", "lognorm"):
                    problems.append(
                        (
                            f"design.parameters.{i}.dist",
                            "morris reaches the ends of each range; use a bounded distribution",
                        )
                    )
        elif d.optimal_trajectories is not None:
            problems.append(("design.optimal_trajectories", "only for morris designs"))
    for key, kind in (("levels", "morris"), ("second_order", "sobol")):
        if key in d.model_fields_set and d.kind != kind:
            problems.append((f"design.{key}", f"only for {kind} designs"))
    return infos


def year_problems(out: Outputs, start_year: int, end_year: int) -> list[tuple[str, str]]:
    """Output years (``until``, place years, metric years) outside a run of the given span.

    Checked against the base scenario when the file is read, and against every design point's
    own span by :func:`check_points` (a sweep over ``start_year`` or ``end_year`` moves it).
    """
    problems: list[tuple[str, str]] = []
    if out.until is not None and not start_year < out.until <= end_year:
        span = f"{start_year + 1}-{end_year}"
        problems.append(("outputs.until", f"{out.until} is outside the run ({span})"))
    last = end_year if out.until is None or out.until > end_year else out.until
    years = range(start_year, last + 1)
    span = f"{start_year}-{last}"
    for i, year in enumerate(out.years):
        if year not in years:
            problems.append((f"outputs.years.{i}", f"{year} is outside the run ({span})"))
    for name, metric in out.metrics.items():
        if metric.year not in years:
            problems.append(
                (f"outputs.metrics.{name}.year", f"{metric.year} is outside the run ({span})")
            )
    return problems


def _check_outputs(spec: SweepFile, base: Scenario, problems: list[tuple[str, str]]) -> None:
    out = spec.outputs
    problems.extend(year_problems(out, base.start_year, base.end_year))
    for i, col in enumerate(out.national):
        if col not in NATIONAL_COLUMNS:
            problems.append((f"outputs.national.{i}", f"{col!r} is not a national column"))
    for i, col in enumerate(out.places):
        if col not in PLACE_COLUMNS:
            problems.append((f"outputs.places.{i}", f"{col!r} is not a numeric place column"))
    if out.places and not out.years:
        problems.append(("outputs.years", "places are kept only at listed years; list some"))
    for key, col in (("national", out.national), ("places", out.places), ("years", out.years)):
        dup = sorted({str(c) for c in col if col.count(c) > 1})
        if dup:
            problems.append((f"outputs.{key}", f"listed twice: {', '.join(dup)}"))
    for name, metric in out.metrics.items():
        if metric.column is not None and metric.column not in NATIONAL_COLUMNS:
            problems.append(
                (f"outputs.metrics.{name}.column", f"{metric.column!r} is not a national column")
            )
    if spec.analysis is not None:
        if spec.design.kind not in ("sobol", "morris"):
            kind = spec.design.kind
            problems.append(("analysis", f"needs a sobol or morris design, not {kind}"))
        for i, name in enumerate(spec.analysis.metrics):
            if name not in out.metrics:
                problems.append((f"analysis.metrics.{i}", f"{name!r} is not in outputs.metrics"))


def load_sweep(path: str | Path) -> SweepSpec:
    """Read and check a sweep file and its base scenario.

    Parameters
    ----------
    path
        The sweep file (TOML).

    Returns
    -------
    SweepSpec

    Raises
    ------
    SweepError
        When the file is missing, not TOML, not a valid sweep, or its base scenario (with the
        overrides) is not valid. Design points are checked by
        :func:`urbsim.sweep.design.build_design`.
    """
    path = Path(path).resolve()
    src = str(path)
    if not path.is_file():
        raise SweepError(src, [("", "file not found")])
    raw = path.read_bytes()
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SweepError(src, [("", f"not valid TOML: {exc}")]) from None
    try:
        spec = SweepFile.model_validate(data)
    except ValidationError as exc:
        raise SweepError(src, validation_problems(exc)) from None

    problems: list[tuple[str, str]] = []
    base_path = (path.parent / spec.base).resolve()
    try:
        base_data = read_toml(base_path, ())
    except ScenarioError as exc:
        raise SweepError(src, [("base", str(exc))]) from None
    try:
        overrides = flatten_overrides(spec.set)
    except ValueError as exc:
        raise SweepError(src, [("set", str(exc))]) from None
    if spec.households_per_agent is not None:
        overrides.append(f"world.households_per_agent={toml_value(spec.households_per_agent)}")
    if spec.engine is not None:
        overrides.append(f"engine={toml_value(spec.engine)}")
    try:
        merged = apply_overrides(base_data, overrides)
        base = validate(merged, str(base_path), base_path.parent).scenario
    except ScenarioError as exc:
        raise SweepError(src, [("set" if spec.set else "base", str(exc))]) from None

    params = _check_design(spec, problems)
    _check_outputs(spec, base, problems)
    if problems:
        raise SweepError(src, problems)
    return SweepSpec(
        source=path,
        spec=spec,
        file_sha256=hashlib.sha256(raw).hexdigest(),
        base_path=base_path,
        base_data=base_data,
        overrides=tuple(overrides),
        parameters=tuple(params),
    )


def check_points(sweep: SweepSpec, point_overrides: list[list[str]]) -> None:
    """Validate the scenario of every design point before anything runs.

    Raises
    ------
    SweepError
        Naming the first failing points, the scenario field and the reason.
    """
    problems: list[tuple[str, str]] = []
    failing = 0
    base_dir = sweep.base_path.parent
    for point, extra in enumerate(point_overrides):
        try:
            data = apply_overrides(sweep.base_data, [*sweep.overrides, *extra])
            scenario = validate(data, str(sweep.base_path), base_dir).scenario
            found = year_problems(sweep.spec.outputs, scenario.start_year, scenario.end_year)
        except ScenarioError as exc:
            found = exc.problems
        if found:
            failing += 1
            if failing <= _MAX_POINT_ERRORS:
                values = ", ".join(extra)
                for field, reason in found:
                    problems.append((f"design point {point} ({values})", f"{field}: {reason}"))
    if failing > _MAX_POINT_ERRORS:
        problems.append(("design", f"... {failing} design points in all fail validation"))
    if problems:
        raise SweepError(str(sweep.source), problems)
