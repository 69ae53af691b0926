"""The standard figures of a run, drawn from its two output tables alone.

Every figure is a seaborn figure-level plot drawn and saved with the shared conventions of
:mod:`urbsim.plots.style` (fixed size and resolution, no software tag in the PNG metadata), so
the same tables give the same bytes and a redrawn figure can be checked against the one in a
run folder. Nothing is drawn at import time.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from urbsim.plots.style import (
    FIGSIZE,
    LEGEND_SHARE,
    PlotDataError,
    figure_style,
    integer_years,
    legend_right,
    plain_log_ticks,
    require_columns,
    save_figure,
)
from urbsim.world.base import SIZE_CLASSES

#: File names, in the order :func:`draw_all` draws them.
FIGURES: Final[tuple[str, ...]] = (
    "urbanization.png",
    "rank_size.png",
    "map.png",
    "service_gap.png",
)

_NATIONAL_COLUMNS: Final[tuple[str, ...]] = ("year", "urbanization_rate", "hukou_urbanization_rate")
_PLACES_COLUMNS: Final[tuple[str, ...]] = (
    "year",
    "place_id",
    "prefecture_code",
    "kind",
    "size_class",
    "lon",
    "lat",
    "urban_residents",
    "service_capacity",
    "service_demand",
)


# ---------------------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------------------
def draw_urbanization(national: pd.DataFrame, folder: Path) -> Path:
    """Resident and hukou urbanization rates over the years (``urbanization.png``)."""
    import seaborn as sns

    require_columns(national, _NATIONAL_COLUMNS, "national")
    labels = {"urbanization_rate": "Resident", "hukou_urbanization_rate": "Hukou"}
    long = national.melt(
        id_vars="year", value_vars=list(labels), var_name="measure", value_name="share"
    )
    long["measure"] = long["measure"].map(labels)
    long["share"] = long["share"].astype(float) * 100.0
    with figure_style():
        g = sns.relplot(
            data=long,
            x="year",
            y="share",
            hue="measure",
            style="measure",
            hue_order=list(labels.values()),
            style_order=list(labels.values()),
            kind="line",
            markers=True,
            dashes=False,
            height=FIGSIZE[1],
            aspect=FIGSIZE[0] / FIGSIZE[1],
        )
        g.set_axis_labels("Year", "Share of residents (%)")
        g.figure.suptitle(
            "Resident urbanization (urban residents) and hukou urbanization\n"
            "(residents with non-agricultural hukou)"
        )
        integer_years(g.ax)
        legend_right(g, "Urbanization")
        return save_figure(g.figure, Path(folder) / "urbanization.png")


def _prefecture_sizes(places: pd.DataFrame) -> pd.DataFrame:
    """Urban residents of each prefecture city's districts in the first and last year."""
    years = sorted({int(places["year"].min()), int(places["year"].max())})
    districts = places[(places["kind"] == "urban district") & places["year"].isin(years)]
    sizes = districts.groupby(["year", "prefecture_code"], as_index=False)["urban_residents"].sum()
    sizes = sizes[sizes["urban_residents"] > 0].copy()  # nothing to show at log 0
    sizes["millions"] = sizes["urban_residents"] / 1e6
    # Ties are broken by the code so that the ranks, and so the figure, never depend on the
    # sort algorithm.
    sizes = sizes.sort_values(
        ["year", "millions", "prefecture_code"], ascending=[True, False, True], kind="stable"
    )
    sizes["rank"] = sizes.groupby("year").cumcount() + 1
    return sizes


def draw_rank_size(places: pd.DataFrame, folder: Path) -> Path:
    """Rank-size plot of prefecture cities in the first and last year (``rank_size.png``).

    A city is the sum of the urban residents of the prefecture's urban districts. The legend
    gives each year's least-squares slope of log size on log rank (-1 is Zipf's law).
    """
    import seaborn as sns

    require_columns(places, _PLACES_COLUMNS, "places")
    sizes = _prefecture_sizes(places)
    if sizes.empty:
        raise PlotDataError("places table has no urban district with urban residents")
    labels: dict[int, str] = {}
    for year, group in sizes.groupby("year"):
        if len(group) >= 2:
            slope = np.polyfit(np.log(group["rank"]), np.log(group["millions"]), 1)[0]
            labels[int(year)] = f"{int(year)} (slope {slope:.2f})"
        else:
            labels[int(year)] = str(int(year))
    sizes["year_label"] = sizes["year"].astype(int).map(labels)
    order = [labels[y] for y in sorted(labels)]
    with figure_style():
        g = sns.relplot(
            data=sizes,
            x="rank",
            y="millions",
            hue="year_label",
            hue_order=order,
            style="year_label",
            style_order=order,
            kind="scatter",
            s=60,
            palette=sns.color_palette("deep", len(order)),
            height=FIGSIZE[1],
            aspect=FIGSIZE[0] / FIGSIZE[1],
        )
        g.set(xscale="log", yscale="log")
        plain_log_ticks(g.ax, "x")
        plain_log_ticks(g.ax, "y")
        g.set_axis_labels(
            "Rank of prefecture city (log scale)",
            "Urban residents of districts (millions, log scale)",
        )
        g.figure.suptitle("Rank-size distribution of prefecture cities")
        legend_right(g, "Year (log-log slope)")
        return save_figure(g.figure, Path(folder) / "rank_size.png")


def _nice_sizes(top: float) -> list[float]:
    """Up to three round reference sizes (millions) not above ``top``, for the size key."""
    if top <= 0:
        return []
    exp = np.floor(np.log10(top))
    candidates = [m * 10.0**e for e in (exp - 1, exp) for m in (1.0, 2.0, 5.0)]
    picks = sorted({float(f"{c:.3g}") for c in candidates if c <= top})
    return picks[-3:]


#: Marker areas (points^2) of the map for a place without urban residents and for the largest.
_MAP_AREA: Final[tuple[float, float]] = (4.0, 400.0)


def _map_table(places: pd.DataFrame) -> tuple[pd.DataFrame, int, int, float]:
    """The places of the map in drawing order, the first and last year, the national growth.

    The frame holds one row per place of the last year: ``place_id``, ``lon``, ``lat``,
    ``urban_residents``, ``growth`` (% since the first year; NaN for places without urban
    residents then) and ``millions``. The national growth (%) is that of the country's urban
    residents, the centre of the colour scale.
    """
    first, last = int(places["year"].min()), int(places["year"].max())
    start = places.loc[places["year"] == first].set_index("place_id")["urban_residents"]
    end = places.loc[places["year"] == last].set_index("place_id")
    data = end[["lon", "lat", "urban_residents"]].copy()
    base = start.reindex(data.index)
    with np.errstate(divide="ignore", invalid="ignore"):
        growth = (data["urban_residents"] / base - 1.0) * 100.0
    # Places with no urban residents at the start have no growth rate: drawn grey, not hidden.
    data["growth"] = growth.where(base > 0)
    data["millions"] = data["urban_residents"] / 1e6
    # Big bubbles first so that small places stay visible on top of them; ties by id so that
    # the drawing order never depends on the sort algorithm.
    data = data.reset_index().sort_values(
        ["millions", "place_id"], ascending=[False, True], kind="stable"
    )
    start_total = float(start.sum())
    national = (
        (float(end["urban_residents"].sum()) / start_total - 1.0) * 100.0
        if start_total > 0
        else 0.0
    )
    return data, first, last, national


def _growth_norm(growth: pd.Series, national: float) -> Any:
    """Diverging colour scale centred on the national growth, saturating at the 2-98th pct."""
    import matplotlib as mpl

    rates = growth.dropna().to_numpy()
    low, high = np.percentile(rates, [2, 98]) if len(rates) else (national, national)
    spread = max(float(high) - float(low), 1.0)
    # TwoSlopeNorm needs vmin < vcenter < vmax strictly.
    return mpl.colors.TwoSlopeNorm(
        vcenter=national,
        vmin=min(float(low), national - 0.05 * spread),
        vmax=max(float(high), national + 0.05 * spread),
    )


def _marker_area(millions: Any, top: float) -> Any:
    """Marker area (points^2) of places of ``millions`` urban residents, the largest ``top``."""
    return _MAP_AREA[0] + (_MAP_AREA[1] - _MAP_AREA[0]) * millions / top


def _scatter_places(data: pd.DataFrame, norm: Any, cmap: Any, top: float) -> Any:
    """The map's bubbles (coloured by growth, grey without one) on lon-lat axes; the grid."""
    import seaborn as sns

    has_growth = data["growth"].notna()
    g = sns.relplot(
        data=data[has_growth],
        x="lon",
        y="lat",
        hue="growth",
        palette=cmap,
        hue_norm=norm,
        size="millions",
        sizes=_MAP_AREA,
        size_norm=(0.0, top),
        kind="scatter",
        alpha=0.8,
        edgecolor="0.3",
        linewidth=0.3,
        legend=False,
        height=FIGSIZE[1],
        aspect=FIGSIZE[0] / FIGSIZE[1],
    )
    ax = g.ax
    if (~has_growth).any():
        rest = data[~has_growth]
        ax.scatter(
            rest["lon"],
            rest["lat"],
            s=_marker_area(rest["millions"], top),
            c="0.6",
            edgecolors="0.3",
            linewidths=0.3,
        )
    # A degree of longitude is shorter than one of latitude by cos(latitude).
    mid_lat = float(np.clip(data["lat"].mean(), -80.0, 80.0))
    ax.set_aspect(1.0 / np.cos(np.deg2rad(mid_lat)), adjustable="datalim")
    return g


def _growth_colorbar(g: Any, norm: Any, cmap: Any, first: int, last: int, national: float) -> None:
    """The growth colour bar beside the map, with the national growth marked."""
    import matplotlib as mpl

    bar = g.figure.colorbar(
        mpl.cm.ScalarMappable(norm=norm, cmap=cmap),
        ax=g.ax,
        extend="both",
        fraction=0.04,
        pad=0.02,
    )
    bar.set_label(
        f"Growth of urban residents {first}-{last} (%)\nwhite = national growth ({national:+.0f} %)"
    )
    bar.ax.axhline(national, color="0.2", linewidth=0.8)


def _size_legend(g: Any, top: float, last: int, any_grey: bool) -> None:
    """Key of bubble sizes (round sizes in millions) and of the grey places, right column."""
    from matplotlib.lines import Line2D

    handles = [
        Line2D(
            [],
            [],
            linestyle="",
            marker="o",
            markerfacecolor="0.7",
            markeredgecolor="0.3",
            markersize=float(np.sqrt(_marker_area(v, top))),
            label=f"{v:g}",
        )
        for v in _nice_sizes(top)
    ]
    if any_grey:
        handles.append(
            Line2D(
                [],
                [],
                linestyle="",
                marker="o",
                markerfacecolor="0.6",
                markeredgecolor="0.3",
                markersize=5,
                label="no urban residents\nin first year",
            )
        )
    g.figure.legend(
        handles=handles,
        title=f"Urban residents {last}\n(millions)",
        loc="center left",
        bbox_to_anchor=(1.0 - LEGEND_SHARE + 0.01, 0.5),
        frameon=False,
        labelspacing=1.2,
    )


def draw_map(places: pd.DataFrame, folder: Path) -> Path:
    """Places by location: urban residents in the last year and their growth (``map.png``).

    Colour is the growth of urban residents from the first to the last year, in %, on a
    diverging scale centred on the growth of the country's urban residents: red places gained
    a share of the urban population, blue ones lost it. The scale saturates at the 2nd and
    98th percentiles so that a few small places with huge rates do not wash out the rest.
    """
    import matplotlib as mpl

    require_columns(places, _PLACES_COLUMNS, "places")
    data, first, last, national = _map_table(places)
    norm = _growth_norm(data["growth"], national)
    cmap = mpl.colormaps["RdBu_r"]
    top = max(float(data["millions"].max()), 1e-9)
    with figure_style():
        g = _scatter_places(data, norm, cmap, top)
        g.set_axis_labels("Longitude (°E)", "Latitude (°N)")
        g.figure.suptitle(f"Urban residents {last} and their growth since {first}")
        _growth_colorbar(g, norm, cmap, first, last, national)
        _size_legend(g, top, last, bool(data["growth"].isna().any()))
        return save_figure(g.figure, Path(folder) / "map.png")


def service_gap_by_size_class(places: pd.DataFrame) -> pd.DataFrame:
    """Urban-resident-weighted service gap per size class and year, in %.

    A place's gap is its ``service_gap`` column (the share of its urban residents without full
    service access: entitlement times quality, as in the national table). Tables without that
    column fall back to ``1 - service_capacity / service_demand`` clipped to [0, 1].

    Returns
    -------
    pandas.DataFrame
        Columns ``year``, ``size_class`` and ``gap_pct``; size classes without urban residents
        in a year are left out.
    """
    if "service_gap" in places.columns:
        gap = places["service_gap"].astype(float).to_numpy()
    else:
        demand = places["service_demand"].astype(float).to_numpy()
        capacity = places["service_capacity"].astype(float).to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            gap = np.where(demand > 0, 1.0 - capacity / demand, 0.0)
    weight = places["urban_residents"].astype(float).to_numpy()
    frame = pd.DataFrame(
        {
            "year": places["year"].to_numpy(),
            "size_class": places["size_class"].astype(str).to_numpy(),
            "weighted": np.clip(np.nan_to_num(gap, nan=0.0), 0.0, 1.0) * weight,
            "weight": weight,
        }
    )
    sums = frame.groupby(["year", "size_class"], as_index=False)[["weighted", "weight"]].sum()
    sums = sums[sums["weight"] > 0]
    sums["gap_pct"] = sums["weighted"] / sums["weight"] * 100.0
    return sums[["year", "size_class", "gap_pct"]].reset_index(drop=True)


def draw_service_gap(places: pd.DataFrame, folder: Path) -> Path:
    """Service gap by city size class over the years (``service_gap.png``)."""
    import seaborn as sns

    require_columns(places, _PLACES_COLUMNS, "places")
    gaps = service_gap_by_size_class(places)
    if gaps.empty:
        raise PlotDataError("places table has no urban residents to weight the service gap")
    # One colour per size class across all runs, whichever classes a run happens to have.
    palette = dict(zip(SIZE_CLASSES, sns.color_palette("viridis", len(SIZE_CLASSES)), strict=True))
    present = [c for c in SIZE_CLASSES if c in set(gaps["size_class"])]
    present += sorted(set(gaps["size_class"]) - set(SIZE_CLASSES))  # unknown: shown, greyed
    palette.update({c: (0.5, 0.5, 0.5) for c in present if c not in palette})
    with figure_style():
        g = sns.relplot(
            data=gaps,
            x="year",
            y="gap_pct",
            hue="size_class",
            hue_order=present,
            palette={c: palette[c] for c in present},
            kind="line",
            marker="o",
            height=FIGSIZE[1],
            aspect=FIGSIZE[0] / FIGSIZE[1],
        )
        g.set_axis_labels("Year", "Urban residents without full access (%)")
        g.figure.suptitle(
            "Public-service gap by city size class\n(entitlement x service quality, weighted by "
            "urban residents)"
        )
        integer_years(g.ax)
        legend_right(g, "City size class")
        return save_figure(g.figure, Path(folder) / "service_gap.png")


def draw_all(national: pd.DataFrame, places: pd.DataFrame, folder: Path) -> list[Path]:
    """Draw every standard figure into ``folder``.

    Parameters
    ----------
    national
        National table (one row per year).
    places
        Places table (one row per place and year).
    folder
        Existing folder to write the PNG files into.

    Returns
    -------
    list of Path
        The files written, in the order of :data:`FIGURES`.
    """
    folder = Path(folder)
    drawers: list[Callable[[], Path]] = [
        lambda: draw_urbanization(national, folder),
        lambda: draw_rank_size(places, folder),
        lambda: draw_map(places, folder),
        lambda: draw_service_gap(places, folder),
    ]
    return [draw() for draw in drawers]
