"""Figures of a parameter sweep, drawn from its design, its summary table and its indices.

:func:`draw_sweep_figures` picks the figures that the data support:

* ``outcome_<metric>.png``: the metric against each swept parameter, one panel per parameter.
  A grid design gives a line through the mean over runs at each parameter value with a band
  holding 90 % of the runs (replications, and the other parameters' values); a sampled design
  (lhs, sobol, morris) gives every run as a point with a binned mean and the binned 5-95 %
  range.
* ``heatmap_<metric>.png``: for a full two-parameter grid, the mean over replications at each
  grid cell.
* ``sobol_<metric>.png`` (first-order and total indices) and ``sobol_s2_<metric>.png``
  (second-order indices of each pair), bars with their confidence intervals.
* ``morris_<metric>.png``: Morris mu* against sigma, one labelled point per parameter.

When the summary or the indices hold several years of a metric, the outcome figures show
each year in its own colour and the other figures are drawn once per year
(``..._<metric>_<year>.png``). Every figure uses the style and the byte-stable saving of
:mod:`urbsim.plots.style`: the same tables give the same PNG bytes. :func:`draw_figures` draws
them for a finished sweep folder (``urbsim plot-sweep``).

Units come from the ``spec`` argument when given, else from the scenario schema
(:func:`parameter_unit`) for parameters and from :data:`METRIC_UNITS` for the usual metrics.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
from pydantic import BaseModel

from urbsim.output.columns import metric_units
from urbsim.plots.style import (
    FIGSIZE,
    PlotDataError,
    figure_style,
    legend_right,
    require_columns,
    save_figure,
)

DESIGN_COLUMNS: Final[tuple[str, ...]] = ("point",)
SUMMARY_COLUMNS: Final[tuple[str, ...]] = ("run", "point", "replication", "metric", "year", "value")
INDICES_COLUMNS: Final[tuple[str, ...]] = (
    "metric",
    "parameter",
    "parameter_2",
    "index",
    "value",
    "conf",
)
SOBOL_INDICES: Final[tuple[str, ...]] = ("S1", "ST", "S2")
MORRIS_INDICES: Final[tuple[str, ...]] = ("mu", "mu_star", "sigma")

#: Units of the metrics a sweep usually keeps: every national column's unit
#: (:mod:`urbsim.output.columns`), and the sensitivity experiment's names for two of them. A
#: ``spec`` entry overrides these.
METRIC_UNITS: Final[dict[str, str]] = {
    **metric_units(),
    "resident_urbanization": metric_units()["urbanization_rate"],
    "hukou_urbanization": metric_units()["hukou_urbanization_rate"],
}

#: A parameter with at most this many distinct values, in a full factorial design, is a grid.
_MAX_GRID_LEVELS: Final[int] = 25
#: Bins of the running mean for sampled designs.
_BINS: Final[int] = 10
#: Heat-map cells are annotated with their value up to this many cells.
_MAX_ANNOTATED_CELLS: Final[int] = 100
_NO_UNIT: Final[frozenset[str]] = frozenset({"", "-"})


# ---------------------------------------------------------------------------------------------
# Units
# ---------------------------------------------------------------------------------------------
def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model a field holds, looking through Optional / unions / Annotated."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, typing.Annotated):
        for arg in typing.get_args(annotation):
            found = _model_in(arg)
            if found is not None:
                return found
    return None


def parameter_unit(dotted: str) -> str:
    """Unit of a scenario parameter given by its dotted name.

    Parameters
    ----------
    dotted : str
        A path into :class:`urbsim.scenario.schema.Scenario`, as used by ``--set`` and sweep
        files: ``"behaviour.beta_income"``, ``"policy.settlement.mega.min_years"``. Parts
        below a documented field (a region of a :class:`~urbsim.scenario.schema.ByRegion`, a
        year of a series, a list position) take that field's unit; ``timeline.<year>.<path>``
        takes the unit of ``policy.<path>``.

    Returns
    -------
    str
        The ``unit`` of the field's ``json_schema_extra`` (``"-"`` for unitless fields).

    Raises
    ------
    ValueError
        If the path names no field of the scenario, or no documented field on its way.
    """
    from urbsim.scenario.schema import Policy, Scenario

    parts = dotted.split(".")
    if any(not p for p in parts):
        raise ValueError(f"{dotted!r} is not a dotted parameter name")
    model: type[BaseModel] | None = Scenario
    if len(parts) >= 3 and parts[0] == "timeline":
        # Timeline entries are partial policy tables keyed by year.
        model, parts = Policy, parts[2:]
    unit: str | None = None
    for depth, part in enumerate(parts):
        if model is None:
            # Inside a dict or list field (a year series, an access schedule): the field's unit.
            break
        field = model.model_fields.get(part)
        if field is None:
            where = ".".join(parts[:depth]) or "the scenario"
            raise ValueError(f"{dotted!r}: {where} has no field {part!r}")
        extra = field.json_schema_extra
        if isinstance(extra, dict) and isinstance(extra.get("unit"), str):
            unit = str(extra["unit"])
        model = _model_in(field.annotation)
    if model is not None and unit is None:
        raise ValueError(f"{dotted!r} is a table of parameters, not a parameter")
    if unit is None:
        raise ValueError(f"{dotted!r} has no documented unit in the scenario schema")
    return unit


def _spec_units(spec: Mapping[str, Any] | None) -> dict[str, str]:
    if spec is None:
        return {}
    if not isinstance(spec, Mapping):
        raise PlotDataError(f"spec must be a mapping of column to unit, got {type(spec).__name__}")
    # Either {column: unit} or a sweep specification holding such a mapping under "units".
    units = spec.get("units", spec)
    if not isinstance(units, Mapping):
        raise PlotDataError("spec['units'] must be a mapping of column to unit")
    return {str(k): str(v) for k, v in units.items() if isinstance(v, str)}


def _with_unit(name: str, unit: str | None, sep: str = " ") -> str:
    return name if unit is None or unit in _NO_UNIT else f"{name}{sep}({unit})"


def _wrap_dotted(name: str, width: int = 24) -> str:
    """Break a long dotted name after dots so that lines keep to about ``width`` characters."""
    lines: list[str] = []
    for part in str(name).split("."):
        piece = part if not lines else "." + part
        if lines and len(lines[-1]) + len(piece) <= width:
            lines[-1] += piece
        elif lines:
            lines[-1] += "."
            lines.append(part)
        else:
            lines.append(part)
    return "\n".join(lines)


class _Units:
    """Unit lookup: the spec first, then the schema (parameters) or METRIC_UNITS (metrics)."""

    def __init__(self, spec: Mapping[str, Any] | None) -> None:
        self._spec = _spec_units(spec)

    def parameter(self, name: str) -> str | None:
        if name in self._spec:
            return self._spec[name]
        try:
            return parameter_unit(name)
        except ValueError:
            # A column that is not a scenario field (e.g. a derived design variable) is
            # labelled by its name alone rather than failing the whole set of figures.
            return None

    def metric(self, name: str) -> str | None:
        return self._spec.get(name, METRIC_UNITS.get(name))


# ---------------------------------------------------------------------------------------------
# Checks and shaping
# ---------------------------------------------------------------------------------------------
def _parameters(design: pd.DataFrame) -> list[str]:
    params = [c for c in design.columns if c != "point"]
    if not params:
        raise PlotDataError("design table has no parameter column besides 'point'")
    if design["point"].duplicated().any():
        raise PlotDataError("design table has duplicate points")
    not_numeric = [p for p in params if not pd.api.types.is_numeric_dtype(design[p])]
    if not_numeric:
        raise PlotDataError(f"design parameter(s) not numeric: {', '.join(not_numeric)}")
    return params


def _is_grid(design: pd.DataFrame, params: list[str]) -> bool:
    """A full factorial design over few levels per parameter, each combination once.

    Once: a Morris design on a small grid can visit every combination, but repeatedly and
    unevenly, and is better shown as a sampled design.
    """
    levels = [design[p].nunique() for p in params]
    if max(levels) > _MAX_GRID_LEVELS or len(design) < 2:
        return False
    combos = design[params].drop_duplicates()
    return len(combos) == len(design) == int(np.prod(levels))


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(text)).strip("_") or "metric"


def _runs(design: pd.DataFrame, summary: pd.DataFrame, params: list[str]) -> pd.DataFrame:
    unknown = sorted(set(summary["point"]) - set(design["point"]), key=str)
    if unknown:
        shown = ", ".join(map(str, unknown[:5])) + (", ..." if len(unknown) > 5 else "")
        raise PlotDataError(f"summary has point(s) missing from the design: {shown}")
    runs = summary.loc[:, list(SUMMARY_COLUMNS)].copy()
    runs["value"] = pd.to_numeric(runs["value"], errors="coerce").astype(float)
    # Failed runs carry no value; they are left out rather than drawn at zero.
    runs = runs[np.isfinite(runs["value"])]
    if runs.empty:
        raise PlotDataError("summary table has no finite value to draw")
    runs["year"] = runs["year"].astype(int)
    # A fixed row order: means then sum in the same order and points overlap in the same
    # order, so the bytes of a figure do not depend on how the tables were assembled.
    runs = runs.sort_values(["metric", "year", "point", "replication", "run"], kind="stable")
    return runs.merge(design[["point", *params]], on="point", how="left", validate="many_to_one")


def _long(runs: pd.DataFrame, params: list[str]) -> pd.DataFrame:
    """One row per run and parameter: the parameter's value in ``x``."""
    return runs.melt(
        id_vars=["run", "point", "replication", "metric", "year", "value"],
        value_vars=params,
        var_name="parameter",
        value_name="x",
    )


def _year_suffix(year: Any, several: bool) -> str:
    return f"_{int(year)}" if several else ""


# ---------------------------------------------------------------------------------------------
# (a) Outcome against each parameter
# ---------------------------------------------------------------------------------------------
def _col_wrap(n: int) -> int | None:
    return None if n <= 3 else int(np.ceil(np.sqrt(n)))


def _label_panels(g: Any, units: _Units, ylabel: str, ncols: int) -> None:
    """Parameter name as panel title, its unit on the x axis, the metric on the left axes."""
    for name, ax in g.axes_dict.items():
        ax.set_title(_wrap_dotted(str(name), 28), fontsize="medium")
        unit = units.parameter(str(name))
        ax.set_xlabel(unit if unit is not None and unit not in _NO_UNIT else "unitless")
    for i, ax in enumerate(g.axes.flat):
        ax.set_ylabel(ylabel if i % ncols == 0 else "")


def _binned(data: pd.DataFrame) -> pd.DataFrame:
    """Mean and 5-95 % range of the value in bins of x, per parameter and year."""
    out = []
    for (param, year), grp in data.groupby(["parameter", "year"], sort=True):
        x = grp["x"].to_numpy(float)
        if np.unique(x).size <= _BINS:
            bins = pd.Series(x, index=grp.index, name="bin")
        else:
            # Equal-count bins: every bin mean rests on as many runs.
            bins = pd.qcut(grp["x"], _BINS, labels=False, duplicates="drop").rename("bin")
        stats = grp.groupby(bins).agg(
            x=("x", "mean"),
            mean=("value", "mean"),
            lo=("value", lambda v: float(np.quantile(v, 0.05))),
            hi=("value", lambda v: float(np.quantile(v, 0.95))),
        )
        stats["parameter"], stats["year"] = param, year
        out.append(stats.sort_values("x").reset_index(drop=True))
    return pd.concat(out, ignore_index=True)


def _outcome_panels(
    data: pd.DataFrame, params: list[str], palette: dict[Any, Any], grid: bool
) -> Any:
    """One panel per parameter: mean line with a 90 % band (grid) or points and binned stats.

    Returns the seaborn grid; the caller labels it and adds the legend.
    """
    import seaborn as sns

    years = list(palette)
    common = {
        "data": data,
        "x": "x",
        "y": "value",
        "col": "parameter",
        "col_order": params,
        "col_wrap": _col_wrap(len(params)),
        "hue": "year",
        "hue_order": years,
        "palette": palette,
        "legend": False,
        "height": FIGSIZE[1],
        "aspect": FIGSIZE[0] / FIGSIZE[1],
        "facet_kws": {"sharex": False, "sharey": True},
    }
    if grid:
        return sns.relplot(
            kind="line",
            estimator="mean",
            errorbar=("pi", 90),
            marker="o",
            err_kws={"alpha": 0.2},
            **common,
        )
    # Transparent points: dense designs show as shade, not as a solid blot.
    alpha = float(np.clip(200.0 / max(len(data) / len(params), 1.0), 0.08, 0.6))
    g = sns.relplot(kind="scatter", s=10, alpha=alpha, linewidth=0, **common)
    binned = _binned(data)
    for name, ax in g.axes_dict.items():
        for year in years:
            part = binned[(binned["parameter"] == name) & (binned["year"] == year)]
            ax.fill_between(part["x"], part["lo"], part["hi"], color=palette[year], alpha=0.2)
            ax.plot(part["x"], part["mean"], color=palette[year], lw=2)
    return g


def _outcome_legend(g: Any, palette: dict[Any, Any], grid: bool) -> None:
    """Key of the outcome figure (run points, mean, band; years when there are several)."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    several = len(palette) > 1
    handles: list[Any] = []
    if not grid:
        handles.append(Line2D([], [], marker="o", ls="", color="grey", alpha=0.6, label="one run"))
    handles += [
        Line2D([], [], color="grey", lw=2, label="mean" + ("" if grid else " in bin")),
        Patch(color="grey", alpha=0.25, label="90 % of runs" if grid else "5-95 % of runs in bin"),
    ]
    if several:
        handles += [Line2D([], [], color=c, lw=2, label=str(y)) for y, c in palette.items()]
    g.add_legend(legend_data={h.get_label(): h for h in handles})
    legend_right(g, "Runs" + (" / year" if several else ""))


def _outcome_title(metric: str, years: list[Any], n_params: int, grid: bool) -> str:
    """Title of the outcome figure: what is drawn, for which year, and what the spread mixes."""
    what = "grid" if grid else "sampled design"
    when = "" if len(years) > 1 else f" in {years[0]}"
    title = f"{metric}{when} against each swept parameter ({what})"
    if n_params > 1:
        # Say what the spread mixes: the marginal view pools the other parameters too.
        title += "\nspread over replications and the other parameters' values"
    return title


def _draw_outcome(
    runs: pd.DataFrame,
    params: list[str],
    metric: str,
    grid: bool,
    units: _Units,
    folder: Path,
) -> Path:
    """``outcome_<metric>.png``: the metric against each swept parameter, one panel each."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    data = _long(runs[runs["metric"] == metric], params)
    years = sorted(data["year"].unique())
    palette = dict(zip(years, sns.color_palette("deep", len(years)), strict=True))
    ylabel = _with_unit(metric, units.metric(metric), sep="\n")
    ncols = _col_wrap(len(params)) or len(params)
    with figure_style():
        g = _outcome_panels(data, params, palette, grid)
        _label_panels(g, units, ylabel, ncols)
        _outcome_legend(g, palette, grid)
        g.figure.suptitle(_outcome_title(metric, years, len(params), grid))
        plt.setp(g.axes.flat, xmargin=0.03)
        # Larger with many panels, so that each keeps a readable size.
        nrows = int(np.ceil(len(params) / ncols))
        size = (max(FIGSIZE[0], 3.4 * ncols + 2.5), max(FIGSIZE[1], 2.9 * nrows + 1.2))
        return save_figure(g.figure, folder / f"outcome_{_slug(metric)}.png", size=size)


# ---------------------------------------------------------------------------------------------
# (b) Heat map of a two-parameter grid
# ---------------------------------------------------------------------------------------------
def _tick(v: float) -> str:
    return f"{v:.4g}"


def _draw_heatmap(
    runs: pd.DataFrame,
    params: list[str],
    metric: str,
    year: int,
    several: bool,
    units: _Units,
    folder: Path,
) -> Path:
    import seaborn as sns

    px, py = params
    cells = (
        runs[(runs["metric"] == metric) & (runs["year"] == year)]
        .groupby([px, py], as_index=False)
        .agg(mean=("value", "mean"), n=("value", "size"))
    )
    table = cells.pivot(index=py, columns=px, values="mean").sort_index().sort_index(axis=1)
    unit_label = _with_unit(metric, units.metric(metric), sep="\n")
    annotate = table.size <= _MAX_ANNOTATED_CELLS

    def heat(data: pd.DataFrame, **_: Any) -> None:
        import matplotlib.pyplot as plt

        ax = plt.gca()
        sns.heatmap(
            table,
            ax=ax,
            cmap="viridis",
            annot=annotate,
            fmt=".3g",
            linewidths=0.5,
            cbar_kws={"label": unit_label},
            xticklabels=[_tick(v) for v in table.columns],
            yticklabels=[_tick(v) for v in table.index],
        )
        # Low values at the bottom, as on any other axis.
        ax.invert_yaxis()
        ax.tick_params(axis="y", labelrotation=0)

    with figure_style():
        g = sns.FacetGrid(cells, height=FIGSIZE[1], aspect=FIGSIZE[0] / FIGSIZE[1])
        g.map_dataframe(heat)
        g.set_axis_labels(_with_unit(px, units.parameter(px)), _with_unit(py, units.parameter(py)))
        reps = int(cells["n"].min()), int(cells["n"].max())
        rep_text = f"{reps[0]}" if reps[0] == reps[1] else f"{reps[0]}-{reps[1]}"
        g.figure.suptitle(f"{metric} in {year}: mean over {rep_text} replication(s) per grid cell")
        # The colour bar is the key: no legend column.
        name = f"heatmap_{_slug(metric)}{_year_suffix(year, several)}.png"
        return save_figure(g.figure, folder / name, legend_share=0.0)


# ---------------------------------------------------------------------------------------------
# (c) Sobol indices
# ---------------------------------------------------------------------------------------------
def _draw_interval_bars(
    rows: pd.DataFrame,
    category: str,
    order: list[str],
    hue_order: list[str],
    labels: dict[str, str],
    title: str,
    path: Path,
) -> Path:
    """Horizontal bars with the precomputed half-widths ``conf`` drawn as intervals."""
    import seaborn as sns

    rows = rows.assign(kind=rows["index"].map(labels))
    kinds = [labels[h] for h in hue_order if h in set(rows["index"])]
    palette = dict(zip([labels[h] for h in hue_order], sns.color_palette("deep"), strict=False))
    with figure_style():
        g = sns.catplot(
            data=rows,
            y=category,
            x="value",
            hue="kind",
            order=order,
            hue_order=kinds,
            palette={k: palette[k] for k in kinds},
            kind="bar",
            orient="h",
            errorbar=None,
            height=FIGSIZE[1],
            aspect=FIGSIZE[0] / FIGSIZE[1],
        )
        ax = g.ax
        # Seaborn dodges hue levels evenly across 0.8 of each category's slot; the intervals
        # are placed at the same centres.
        width = 0.8 / len(kinds)
        position = {c: i for i, c in enumerate(order)}
        for k, kind in enumerate(kinds):
            part = rows[rows["kind"] == kind]
            centres = [position[c] - 0.4 + width * (k + 0.5) for c in part[category]]
            ax.errorbar(
                part["value"],
                centres,
                xerr=part["conf"].fillna(0.0).to_numpy(float),
                fmt="none",
                ecolor="black",
                elinewidth=1.2,
                capsize=3,
            )
        ax.axvline(0.0, color="black", lw=0.8)
        ax.set_xlabel("Index (share of output variance, unitless); whiskers: confidence interval")
        ax.set_ylabel("")
        g.figure.suptitle(title)
        legend_right(g, "Index")
        # Taller with many bars (second-order pairs take two label lines each).
        lines = sum(1 + str(c).count("\n") for c in order)
        height = max(FIGSIZE[1], 1.5 + 0.3 * lines)
        return save_figure(g.figure, path, size=(FIGSIZE[0], height))


def _conf_text(indices: pd.DataFrame) -> str:
    level = indices.attrs.get("conf_level")
    return f"{float(level) * 100:g} % " if level is not None else ""


def _draw_sobol(idx: pd.DataFrame, metric: str, suffix: str, when: str, folder: Path) -> list[Path]:
    paths = []
    first = idx[idx["index"].isin(["S1", "ST"])]
    conf = _conf_text(idx)
    if not first.empty:
        order = list(dict.fromkeys(first["parameter"]))
        paths.append(
            _draw_interval_bars(
                first,
                "parameter",
                order,
                ["S1", "ST"],
                {"S1": "first order (S1)", "ST": "total (ST)"},
                f"Sobol' indices of {metric}{when}, with {conf}confidence intervals",
                folder / f"sobol_{_slug(metric)}{suffix}.png",
            )
        )
    second = idx[idx["index"] == "S2"].copy()
    if not second.empty:
        second["pair"] = second["parameter"] + " ×\n" + second["parameter_2"].astype(str)
        paths.append(
            _draw_interval_bars(
                second,
                "pair",
                list(dict.fromkeys(second["pair"])),
                ["S2"],
                {"S2": "second order (S2)"},
                f"Second-order Sobol' indices of {metric}{when}, with {conf}confidence intervals",
                folder / f"sobol_s2_{_slug(metric)}{suffix}.png",
            )
        )
    return paths


# ---------------------------------------------------------------------------------------------
# (d) Morris mu*-sigma
# ---------------------------------------------------------------------------------------------
def _morris_points(idx: pd.DataFrame, metric: str) -> pd.DataFrame:
    """One row per parameter: ``mu_star``, ``sigma``, ``conf`` of mu* and ``rank`` by mu*."""
    wide = idx.pivot_table(index="parameter", columns="index", values="value", sort=False)
    missing = [k for k in ("mu_star", "sigma") if k not in wide.columns]
    if missing:
        raise PlotDataError(f"Morris indices of {metric} lack {', '.join(missing)}")
    conf = idx[idx["index"] == "mu_star"].set_index("parameter")["conf"]
    pts = wide.reset_index()[["parameter", "mu_star", "sigma"]]
    pts["conf"] = pts["parameter"].map(conf).fillna(0.0).astype(float)
    # Ranked by mu*: the legend reads as the screening result.
    pts = pts.sort_values(["mu_star", "parameter"], ascending=[False, True], kind="stable")
    pts["rank"] = np.arange(1, len(pts) + 1)
    return pts


def _morris_guides(ax: Any, pts: pd.DataFrame) -> tuple[float, float]:
    """Whiskers of mu*, the sigma = mu* diagonal and the axis limits; returns the limits."""
    ax.errorbar(pts["mu_star"], pts["sigma"], xerr=pts["conf"], fmt="none", ecolor="grey", lw=1)
    xmax = float(max((pts["mu_star"] + pts["conf"]).max(), 1e-12)) * 1.1
    ymax = float(max(pts["sigma"].max(), 1e-12)) * 1.15
    # sigma = mu*: above it the effects change sign or size a lot over the range.
    end = min(xmax, ymax)
    ax.plot([0, end], [0, end], ls="--", color="grey", lw=1)
    ax.annotate(
        "σ = μ*",
        (end, end),
        xytext=(4, -12) if end == ymax else (-4, 4),
        textcoords="offset points",
        ha="left" if end == ymax else "right",
        color="grey",
        fontsize="small",
    )
    ax.set_xlim(0, xmax)
    ax.set_ylim(0, ymax)
    return xmax, ymax


def _morris_rank_labels(g: Any, pts: pd.DataFrame, xmax: float, ymax: float) -> None:
    """Rank numbers next to the points, matched by the legend entries "<rank>. <name>".

    Short labels that do not collide the way dotted names would. Points closer than 4 % of
    the axes to an already-labelled one get their number further up so the numbers stay apart.
    """
    placed: list[tuple[float, float, int]] = []
    for _, row in pts.iterrows():
        fx, fy = row["mu_star"] / xmax, row["sigma"] / ymax
        near = sum(1 for px_, py_, _ in placed if abs(px_ - fx) < 0.04 and abs(py_ - fy) < 0.04)
        placed.append((fx, fy, int(row["rank"])))
        g.ax.annotate(
            str(row["rank"]),
            (row["mu_star"], row["sigma"]),
            xytext=(5, 4 + 11 * near),
            textcoords="offset points",
            fontsize="small",
        )
    labels = {
        # The legend column is about 20 characters wide at this font size.
        p: f"{r}. {_wrap_dotted(p, 24)}".replace("\n", "\n    ")
        for p, r in zip(pts["parameter"], pts["rank"], strict=True)
    }
    if g.legend is not None:
        for text in g.legend.texts:
            text.set_text(labels.get(text.get_text(), text.get_text()))
            text.set_fontsize("small")


def _draw_morris(
    idx: pd.DataFrame, metric: str, suffix: str, when: str, units: _Units, folder: Path
) -> Path:
    """``morris_<metric>[_<year>].png``: mu* against sigma, points numbered by rank of mu*."""
    import seaborn as sns

    pts = _morris_points(idx, metric)
    order = pts["parameter"].tolist()
    unit = units.metric(metric)
    unit_text = f" ({unit})" if unit is not None and unit not in _NO_UNIT else ""
    with figure_style():
        g = sns.relplot(
            data=pts,
            x="mu_star",
            y="sigma",
            hue="parameter",
            hue_order=order,
            style="parameter",
            style_order=order,
            palette=sns.color_palette("tab10" if len(order) <= 10 else "husl", len(order)),
            kind="scatter",
            s=90,
            height=FIGSIZE[1],
            aspect=FIGSIZE[0] / FIGSIZE[1],
        )
        xmax, ymax = _morris_guides(g.ax, pts)
        _morris_rank_labels(g, pts, xmax, ymax)
        g.set_axis_labels(
            f"μ*: mean absolute elementary effect{unit_text}",
            f"σ: std. of elementary effects{unit_text}",
        )
        g.figure.suptitle(
            f"Morris screening of {metric}{when}\n(whiskers: {_conf_text(idx)}confidence interval "
            "of μ*; above the dashed line, non-linear or interacting)"
        )
        legend_right(g, "Parameter (by μ*)")
        # Taller than the other figures: up to a dozen two-line legend entries beside the axes.
        path = folder / f"morris_{_slug(metric)}{suffix}.png"
        return save_figure(g.figure, path, legend_share=0.3, size=(12.0, 8.0))


# ---------------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------------
def _check_indices(indices: pd.DataFrame) -> pd.DataFrame:
    require_columns(indices, INDICES_COLUMNS, "indices")
    known = set(SOBOL_INDICES) | set(MORRIS_INDICES)
    unknown = sorted(set(indices["index"].astype(str)) - known)
    if unknown:
        raise PlotDataError(
            f"indices table has unknown index name(s) {', '.join(unknown)}; "
            f"expected {', '.join(sorted(known))}"
        )
    s2 = indices["index"] == "S2"
    if indices.loc[s2, "parameter_2"].isna().any():
        raise PlotDataError("indices table has S2 rows without parameter_2")
    out = indices.copy()
    out["value"] = pd.to_numeric(out["value"], errors="coerce").astype(float)
    out["conf"] = pd.to_numeric(out["conf"], errors="coerce").astype(float)
    return out


def _draw_heatmaps(
    runs: pd.DataFrame, params: list[str], metrics: list[str], units: _Units, folder: Path
) -> list[Path]:
    """Heat maps of a two-parameter grid: one per metric and year."""
    paths: list[Path] = []
    for metric in metrics:
        years = sorted(runs.loc[runs["metric"] == metric, "year"].unique())
        paths += [
            _draw_heatmap(runs, params, metric, y, len(years) > 1, units, folder) for y in years
        ]
    return paths


def _draw_index_figures(indices: pd.DataFrame, units: _Units, folder: Path) -> list[Path]:
    """Sobol' bars and Morris scatters: one set per metric (and per year, when given)."""
    idx = _check_indices(indices)
    has_year = "year" in idx.columns
    paths: list[Path] = []
    for metric in dict.fromkeys(idx["metric"]):
        sub = idx[idx["metric"] == metric]
        years = sorted(sub["year"].unique()) if has_year else [None]
        for year in years:
            part = sub if year is None else sub[sub["year"] == year]
            suffix = "" if year is None else _year_suffix(year, len(years) > 1)
            when = "" if year is None else f" in {int(year)}"
            sobol = part[part["index"].isin(SOBOL_INDICES)]
            if not sobol.empty:
                paths += _draw_sobol(sobol, metric, suffix, when, folder)
            morris = part[part["index"].isin(MORRIS_INDICES)]
            if not morris.empty:
                paths.append(_draw_morris(morris, metric, suffix, when, units, folder))
    return paths


def draw_sweep_figures(
    design: pd.DataFrame,
    summary: pd.DataFrame,
    indices: pd.DataFrame | None,
    folder: Path,
    spec: Mapping[str, Any] | None = None,
) -> list[Path]:
    """Draw the figures a sweep's tables support into ``folder``.

    Parameters
    ----------
    design : pandas.DataFrame
        One row per design point: ``point`` and one numeric column per swept parameter
        (dotted scenario names such as ``behaviour.beta_income``).
    summary : pandas.DataFrame
        Tidy outcomes, columns ``run, point, replication, metric, year, value``. Rows with a
        missing value (failed runs) are left out.
    indices : pandas.DataFrame or None
        Output of :func:`urbsim.analysis.sensitivity.analyze` with a ``metric`` column (and
        optionally a ``year`` column); Sobol' and Morris rows may both be present. ``indices.attrs
        ["conf_level"]``, when set, is printed in the titles.
    folder : Path
        Existing folder for the PNG files.
    spec : mapping, optional
        Units by column (parameter or metric): ``{"behaviour.beta_income": "util per log
        yuan"}``, or a mapping holding such a table under ``"units"``. Columns not given take
        their unit from the scenario schema (parameters) or :data:`METRIC_UNITS` (metrics).

    Returns
    -------
    list of Path
        The files written: outcome figures per metric, then heat maps (two-parameter grids),
        Sobol' bars, Morris scatters, each in order of first appearance of the metric.

    Raises
    ------
    PlotDataError
        A table lacks a column, is empty, or does not match the others.
    """
    require_columns(design, DESIGN_COLUMNS, "design")
    require_columns(summary, SUMMARY_COLUMNS, "summary")
    folder = Path(folder)
    if not folder.is_dir():
        raise PlotDataError(f"{folder} is not a folder")
    params = _parameters(design)
    units = _Units(spec)
    runs = _runs(design, summary, params)
    grid = _is_grid(design, params)
    metrics = list(dict.fromkeys(summary["metric"]))
    metrics = [m for m in metrics if m in set(runs["metric"])]

    paths = [_draw_outcome(runs, params, m, grid, units, folder) for m in metrics]
    if grid and len(params) == 2:
        paths += _draw_heatmaps(runs, params, metrics, units, folder)
    if indices is not None:
        paths += _draw_index_figures(indices, units, folder)
    return paths


# ---------------------------------------------------------------------------------------------
# A finished sweep folder
# ---------------------------------------------------------------------------------------------
def _sweep_metric_units(spec: Mapping[str, Any] | None) -> dict[str, str]:
    """Units of a sweep file's metrics, from the national column each one reads."""
    out: dict[str, str] = {}
    metrics = ((spec or {}).get("sweep") or {}).get("outputs", {}).get("metrics", {})
    for name, metric in metrics.items():
        column = metric.get("column")
        if metric.get("reducer") == "zipf_exponent":
            out[name] = "-"
        elif column in METRIC_UNITS:
            out[name] = METRIC_UNITS[column]
    return out


def draw_figures(sweep_dir: Path) -> list[Path]:
    """Draw a finished sweep folder's figures into ``<sweep_dir>/figures`` (replaced as a whole).

    The figures are those of :func:`draw_sweep_figures` for the folder's design, summary
    (failed runs left out) and indices, with the metrics' units taken from the sweep file.

    Parameters
    ----------
    sweep_dir : Path
        A folder written by ``urbsim sweep``.

    Returns
    -------
    list of Path
        The files written, inside ``<sweep_dir>/figures``.

    Raises
    ------
    urbsim.output.OutputError
        If the folder is not a finished sweep.
    PlotDataError
        If the tables cannot be drawn.
    """
    # Imported on use: drawing from tables needs neither the sweep machinery nor the writer.
    from urbsim.output import FIGURES_DIR, replace_dir
    from urbsim.sweep.driver import load_sweep_dir

    tables = load_sweep_dir(sweep_dir)
    summary = tables["summary"]
    summary = summary[summary["value"].notna()]
    written: list[Path] = []

    def fill(folder: Path) -> None:
        written.extend(
            draw_sweep_figures(
                tables["design"],
                summary,
                tables["indices"],
                folder,
                {"units": _sweep_metric_units(tables["spec"])},
            )
        )

    target = Path(sweep_dir) / FIGURES_DIR
    replace_dir(target, fill)
    # Paths inside the final folder (fill saw the temporary one).
    return [target / p.name for p in written]


__all__ = ["METRIC_UNITS", "draw_figures", "draw_sweep_figures", "parameter_unit"]
