"""Choropleth maps of China: values per prefecture (or province) on the packaged outlines.

A map is drawn on an Albers equal-area projection (:data:`urbsim.geo.ALBERS_CHINA`), with
province borders over the prefecture fills, outlines without a value in light grey (and said so
in the legend), and the South China Sea islands in an inset so that the main map is not
stretched down to 4 degrees N. Values are computed per *map unit*
(:func:`urbsim.geo.prefecture_units`): 2010 prefectures joined with the 2020 outlines they split
into or merged with.

:func:`map_values` turns a places table into values per outline; :func:`draw_choropleth`
draws any value per outline, so that experiment figures can reuse it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final, Literal

import numpy as np
import pandas as pd

from urbsim.geo import (
    ALBERS_CHINA,
    load_prefectures,
    load_provinces,
    prefecture_units,
    unmatched_codes,
)
from urbsim.plots.style import PlotDataError

if TYPE_CHECKING:
    import geopandas as gpd

#: Map levels: prefecture units (2010 codes on 2020 outlines) or provinces.
Level = Literal["prefecture", "province"]
#: Fill of outlines without a value, and the border colours.
NO_DATA_GREY: Final[str] = "0.85"
_PREFECTURE_EDGE: Final[tuple[str, float]] = ("white", 0.25)
_PROVINCE_EDGE: Final[tuple[str, float]] = ("0.2", 0.7)
#: South of this latitude (degrees N) outlines appear only in the South China Sea inset.
_INSET_BELOW_LAT: Final[float] = 17.0


def map_level(places: pd.DataFrame) -> Level:
    """The finest level a places table can be mapped at.

    Prefecture level when every ``prefecture_code`` of the table is a 2010 census prefecture
    (it has an outline, or a row in the 2010 -> 2020 code table), as in the census world.
    Otherwise province level: the synthetic world's prefectures are generated, and their codes
    (``PP0100``, ``PP0200``, ... numbered per province) are not those of real prefectures.
    """
    codes = places["prefecture_code"].astype(np.int64).unique()
    return "province" if unmatched_codes(codes) else "prefecture"


def _unit_keys(places: pd.DataFrame, level: Level) -> tuple[pd.Series, pd.DataFrame | None]:
    """The map unit of each row of ``places``, and at prefecture level the unit of each outline.

    Units are 2-digit province codes at province level and :func:`urbsim.geo.prefecture_units`
    labels (2020 codes) at prefecture level.
    """
    if level == "province":
        return places["province_code"].astype(np.int64), None
    codes = places["prefecture_code"].astype(np.int64)
    units = prefecture_units(codes.unique())
    unit_of = units.drop_duplicates("code_2010").set_index("code_2010")["unit"]
    return codes.map(unit_of), units


def map_values(places: pd.DataFrame, level: Level) -> tuple[pd.Series, int, int, float]:
    """Growth of urban residents per outline from the first to the last year of a run.

    The growth is that of the whole map unit an outline belongs to (a 2010 prefecture, or the
    group joined by a split or merger), so every outline of a unit shows the same value.

    Parameters
    ----------
    places
        Places table (``year``, ``prefecture_code``, ``province_code``, ``urban_residents``).
    level
        ``"prefecture"`` or ``"province"`` (see :func:`map_level`).

    Returns
    -------
    tuple
        Growth in % per outline (index: 2020 prefecture code, or the 2-digit province code;
        NaN for units without urban residents in the first year), the first and the last
        year, and the country's growth in %.
    """
    first, last = int(places["year"].min()), int(places["year"].max())
    ends = places[places["year"].isin([first, last])]
    keys, units = _unit_keys(ends, level)
    totals = (
        ends.assign(unit=keys.to_numpy())
        .groupby(["unit", "year"])["urban_residents"]
        .sum()
        .unstack("year")
        .reindex(columns=[first, last], fill_value=0.0)
    )
    start, end = totals[first].astype(float), totals[last].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        growth = ((end / start - 1.0) * 100.0).where(start > 0)
    national = (end.sum() / start.sum() - 1.0) * 100.0 if start.sum() > 0 else float("nan")
    return _on_outlines(growth, units), first, last, float(national)


def _on_outlines(per_unit: pd.Series, units: pd.DataFrame | None) -> pd.Series:
    """Values per map unit as values per outline (each outline of a unit shows its value)."""
    if units is None:  # province level: the units are the outlines
        return per_unit
    outline_unit = units.drop_duplicates("code_2020").set_index("code_2020")["unit"]
    return outline_unit.map(per_unit).rename_axis("code")


def percent_change_by_outline(
    frame: pd.DataFrame, level: Level, change: str, reference: str
) -> pd.Series:
    """A change relative to a reference, summed over each map unit, in %, per outline.

    Parameters
    ----------
    frame
        One row per place: ``prefecture_code``, ``province_code`` and the two columns.
    level
        ``"prefecture"`` or ``"province"`` (see :func:`map_level`).
    change, reference
        Columns summed over the places of a unit: the value is ``100 * change / reference``
        (NaN where the unit's reference is not positive).

    Returns
    -------
    pandas.Series
        Indexed like :func:`map_values`' growth, for :func:`draw_panel`.
    """
    keys, units = _unit_keys(frame, level)
    sums = frame.assign(unit=keys.to_numpy()).groupby("unit")[[change, reference]].sum()
    ref = sums[reference].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_unit = (100.0 * sums[change].astype(float) / ref).where(ref > 0)
    return _on_outlines(per_unit, units)


def _shapes(level: Level, values: pd.Series) -> gpd.GeoDataFrame:
    """Outlines of the level with a ``value`` column (NaN where none is given), projected."""
    if level == "province":
        shapes = load_provinces()
        shapes["value"] = shapes["province_code"].astype(np.int64).map(values)
    else:
        shapes = load_prefectures()
        shapes["value"] = shapes["code"].astype(np.int64).map(values)
    return shapes.to_crs(ALBERS_CHINA)


def _draw_layers(
    ax: Any, shapes: gpd.GeoDataFrame, borders: gpd.GeoDataFrame, cmap: Any, norm: Any
) -> None:
    """Fills (grey without a value), prefecture edges and province borders on one axes."""
    has = shapes["value"].notna()
    edge, width = _PREFECTURE_EDGE
    if has.any():
        shapes[has].plot(
            ax=ax, column="value", cmap=cmap, norm=norm, edgecolor=edge, linewidth=width
        )
    if (~has).any():
        shapes[~has].plot(ax=ax, color=NO_DATA_GREY, edgecolor=edge, linewidth=width)
    borders.boundary.plot(ax=ax, color=_PROVINCE_EDGE[0], linewidth=_PROVINCE_EDGE[1])
    ax.set_aspect("equal")
    ax.set_axis_off()


def _extents(shapes: gpd.GeoDataFrame) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Projected (xmin, xmax, ymin, ymax) of the main map and of the South China Sea inset."""
    import shapely

    lonlat = shapes.to_crs("EPSG:4326")
    north = lonlat.clip_by_rect(70.0, _INSET_BELOW_LAT, 140.0, 60.0)
    south = lonlat.clip_by_rect(105.0, 0.0, 125.0, _INSET_BELOW_LAT + 2.0)
    boxes = []
    for part in (north, south):
        geom = part.set_crs("EPSG:4326", allow_override=True).to_crs(ALBERS_CHINA)
        x0, y0, x1, y1 = shapely.total_bounds(geom.to_numpy())
        pad = 0.02 * max(x1 - x0, y1 - y0)
        boxes.append((x0 - pad, x1 + pad, y0 - pad, y1 + pad))
    return boxes[0], boxes[1]


def map_legend(ax: Any, any_grey: bool, level: Level) -> None:
    """Key of the province borders, of the grey outlines without a value, and of what the
    outlines leave out (Taiwan, which the boundary data set does not have)."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles: list[Any] = [
        Line2D(
            [], [], color=_PROVINCE_EDGE[0], linewidth=_PROVINCE_EDGE[1], label="province border"
        )
    ]
    if any_grey:
        what = "prefecture" if level == "prefecture" else "province"
        handles.append(
            Patch(facecolor=NO_DATA_GREY, edgecolor="0.6", label=f"{what} without data in this run")
        )
    # Said on the map rather than left to a docstring: a map of China without Taiwan would
    # otherwise read as a statement about it.
    handles.append(Line2D([], [], linestyle="none", label="Taiwan: no outline in the data"))
    ax.legend(handles=handles, loc="lower left", frameon=False, fontsize="small")


def colour_bar(
    fig: Any,
    ax: Any,
    cmap: Any,
    norm: Any,
    label: str,
    lowest: float | None = None,
    cax: Any = None,
) -> Any:
    """The colour bar of a map, beside ``ax`` or in the axes ``cax`` when given (several maps
    sharing ``norm`` put it in an axes of its own; a horizontal ``cax`` gives a horizontal bar).

    The bar is cut at ``lowest``, the lowest value the quantity can take: a scale symmetric
    about 0 keeps a loss and a gain of the same size equally deep, but a bar reaching below
    what the quantity can take (a growth under -100 %) would show values that cannot occur.
    """
    import matplotlib as mpl

    low = norm.vmin if lowest is None else max(norm.vmin, lowest)
    below = lowest is None or norm.vmin > lowest  # values under the bar's end can occur
    edges = np.linspace(low, norm.vmax, 257)
    where: dict[str, Any] = {"ax": ax, "shrink": 0.8}
    if cax is not None:
        box = cax.get_position()
        horizontal = box.width > box.height
        where = {"cax": cax, "orientation": "horizontal" if horizontal else "vertical"}
    bar = fig.colorbar(
        mpl.cm.ScalarMappable(norm=norm, cmap=cmap),
        **where,
        extend="both" if below else "max",
        boundaries=edges,
        values=(edges[:-1] + edges[1:]) / 2.0,
        # Round ticks (the default with boundaries would label some of the 257 edges).
        ticks=mpl.ticker.MaxNLocator(nbins=8, steps=[1, 2, 2.5, 5, 10]),
    )
    bar.set_label(label)
    return bar


def draw_panel(ax: Any, values: pd.Series, level: Level, *, cmap: Any, norm: Any) -> bool:
    """Draw one value per outline into ``ax``, with the South China Sea inset.

    Parameters
    ----------
    ax
        Matplotlib axes.
    values, level, cmap, norm
        As for :func:`draw_choropleth`.

    Returns
    -------
    bool
        Whether some outline has no value (drawn grey), for :func:`map_legend`.
    """
    if not values.notna().any():
        raise PlotDataError("no map unit has a value to draw")
    shapes = _shapes(level, values)
    borders = load_provinces().to_crs(ALBERS_CHINA)
    _draw_layers(ax, shapes, borders, cmap, norm)
    main, south = _extents(shapes)
    # Room for the inset in the open sea at the bottom right, clear of the coast.
    ax.set_xlim(main[0], main[1] + 0.12 * (main[1] - main[0]))
    ax.set_ylim(*main[2:])
    inset = ax.inset_axes((0.85, 0.0, 0.15, 0.3))
    _draw_layers(inset, shapes, borders, cmap, norm)
    inset.set_xlim(*south[:2])
    inset.set_ylim(*south[2:])
    # A framed box without ticks or the projection's axis labels.
    inset.set_axis_on()
    inset.set_xticks([])
    inset.set_yticks([])
    inset.set_xlabel("")
    inset.set_ylabel("")
    inset.set_facecolor("white")
    inset.set_title("South China Sea", fontsize="x-small")
    return bool(shapes["value"].isna().any())


def draw_choropleth(
    values: pd.Series,
    level: Level,
    *,
    cmap: Any,
    norm: Any,
    label: str,
    title: str,
    marks: dict[str, float] | None = None,
    lowest: float | None = None,
) -> Any:
    """Draw one value per map unit on China's outlines; return the figure (not saved).

    Parameters
    ----------
    values
        Value per outline: indexed by 2020 prefecture code at prefecture level (see
        :func:`map_values`), by 2-digit province code at province level. Outlines without a
        value are grey.
    level
        ``"prefecture"`` or ``"province"``.
    cmap, norm
        Matplotlib colour map and normalisation of the values.
    label
        Colour-bar label, with units.
    title
        Figure title.
    marks
        Values to mark on the colour bar with a line and a name (e.g. the national value).
    lowest
        The lowest value the quantity can take (-100 for a growth in %): the colour bar does
        not reach below it, even where a symmetric ``norm`` would.

    Returns
    -------
    matplotlib.figure.Figure
        The figure, for :func:`urbsim.plots.style.save_figure`.
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    any_grey = draw_panel(ax, values, level, cmap=cmap, norm=norm)
    bar = colour_bar(fig, ax, cmap, norm, label, lowest)
    for name, value in (marks or {}).items():
        # Beyond the bar's ends a mark sits at the end it lies past.
        low = norm.vmin if lowest is None else max(norm.vmin, lowest)
        shown = float(np.clip(value, low, norm.vmax))
        bar.ax.axhline(shown, color="0.1", linewidth=1.2)
        bar.ax.text(
            -0.15,
            shown,
            name,
            transform=bar.ax.get_yaxis_transform(),
            ha="right",
            va="center",
            fontsize="x-small",
        )
    map_legend(ax, any_grey, level)
    fig.suptitle(title)
    return fig
