"""The standard figures of a run, drawn from its two output tables alone.

Every figure is a seaborn figure-level plot saved at a fixed size and resolution, without the
software tag in the PNG metadata, so the same tables give the same bytes and a redrawn figure
can be checked against the one in a run folder. Nothing is drawn at import time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from urbsim.errors import UrbsimError
from urbsim.world.base import SIZE_CLASSES

#: Resolution of every figure (dots per inch).
DPI: Final[int] = 120
#: Size of every figure (inches): 1200 x 720 pixels at :data:`DPI`.
FIGSIZE: Final[tuple[float, float]] = (10.0, 6.0)
#: Width of the legend column at the right of every figure, as a share of the figure width.
_LEGEND_SHARE: Final[float] = 0.24

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


class PlotDataError(UrbsimError, ValueError):
    """Tables that cannot be drawn: a missing column, or nothing to show."""


# ---------------------------------------------------------------------------------------------
# Common set-up
# ---------------------------------------------------------------------------------------------
def _require(df: pd.DataFrame, columns: tuple[str, ...], table: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise PlotDataError(f"{table} table lacks column(s) {', '.join(missing)}")
    if df.empty:
        raise PlotDataError(f"{table} table is empty")


@contextmanager
def _style() -> Iterator[None]:
    """Matplotlib defaults plus a seaborn theme, whatever the user's matplotlibrc says."""
    import matplotlib as mpl
    import seaborn as sns

    # Files only: no display needed, and no window opened in an interactive session.
    mpl.use("Agg")
    with mpl.rc_context():
        mpl.style.use("default")
        with sns.axes_style("whitegrid"), sns.plotting_context("notebook"):
            yield


def _save(
    fig: Any,
    path: Path,
    legend_share: float = _LEGEND_SHARE,
    size: tuple[float, float] = FIGSIZE,
    bottom: float = 0.0,
) -> Path:
    """Lay out at a fixed size, keeping a right-hand column for the legend, and save.

    ``legend_share`` is the width of that column as a share of the figure (0 for figures
    whose only key sits beside the axes, such as a heat map's colour bar); ``bottom`` is the
    share kept free below the axes (for a legend placed there). Multi-panel figures pass a
    larger ``size`` (inches).
    """
    import matplotlib.pyplot as plt

    try:
        fig.set_size_inches(*size)
        fig.tight_layout(rect=(0.0, bottom, 1.0 - legend_share, 1.0))
        # No "Software" tag: it carries the Matplotlib version and would change the bytes
        # between otherwise identical figures.
        fig.savefig(path, dpi=DPI, metadata={"Software": None})
    finally:
        plt.close(fig)
    return path


def _legend_right(g: Any, title: str) -> None:
    """Put a FacetGrid's legend in the right-hand column, with a readable title."""
    legend = g.legend
    if legend is None:
        return
    legend.set_title(title)
    legend.set_loc("center left")
    legend.set_bbox_to_anchor((1.0 - _LEGEND_SHARE + 0.01, 0.5), transform=g.figure.transFigure)


def _integer_years(ax: Any) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _plain_log_ticks(ax: Any, axis: str) -> None:
    from matplotlib.ticker import LogFormatter

    class Plain(LogFormatter):
        """Matplotlib's choice of which log ticks to label, printed as plain numbers."""

        def __call__(self, x: float, pos: int | None = None) -> str:
            return f"{x:g}" if super().__call__(x, pos) else ""

    # "2" and "0.1" read faster than 2x10^0 and 1e-01; minor ticks are labelled only when the
    # axis spans few decades, as Matplotlib does by default.
    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_major_formatter(Plain())
    target.set_minor_formatter(Plain(labelOnlyBase=False, minor_thresholds=(2, 0.5)))


# ---------------------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------------------
def draw_urbanization(national: pd.DataFrame, folder: Path) -> Path:
    """Resident and hukou urbanization rates over the years (``urbanization.png``)."""
    import seaborn as sns

    _require(national, _NATIONAL_COLUMNS, "national")
    labels = {"urbanization_rate": "Resident", "hukou_urbanization_rate": "Hukou"}
    long = national.melt(
        id_vars="year", value_vars=list(labels), var_name="measure", value_name="share"
    )
    long["measure"] = long["measure"].map(labels)
    long["share"] = long["share"].astype(float) * 100.0
    with _style():
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
        _integer_years(g.ax)
        _legend_right(g, "Urbanization")
        return _save(g.figure, Path(folder) / "urbanization.png")


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

    _require(places, _PLACES_COLUMNS, "places")
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
    with _style():
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
        _plain_log_ticks(g.ax, "x")
        _plain_log_ticks(g.ax, "y")
        g.set_axis_labels(
            "Rank of prefecture city (log scale)",
            "Urban residents of districts (millions, log scale)",
        )
        g.figure.suptitle("Rank-size distribution of prefecture cities")
        _legend_right(g, "Year (log-log slope)")
        return _save(g.figure, Path(folder) / "rank_size.png")


def _nice_sizes(top: float) -> list[float]:
    """Up to three round reference sizes (millions) not above ``top``, for the size key."""
    if top <= 0:
        return []
    exp = np.floor(np.log10(top))
    candidates = [m * 10.0**e for e in (exp - 1, exp) for m in (1.0, 2.0, 5.0)]
    picks = sorted({float(f"{c:.3g}") for c in candidates if c <= top})
    return picks[-3:]


def draw_map(places: pd.DataFrame, folder: Path) -> Path:
    """Places by location: urban residents in the last year and their growth (``map.png``).

    Colour is the growth of urban residents from the first to the last year, in %, on a
    diverging scale centred on the growth of the country's urban residents: red places gained
    a share of the urban population, blue ones lost it. The scale saturates at the 2nd and
    98th percentiles so that a few small places with huge rates do not wash out the rest.
    """
    import matplotlib as mpl
    import seaborn as sns
    from matplotlib.lines import Line2D

    _require(places, _PLACES_COLUMNS, "places")
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
    rates = data["growth"].dropna().to_numpy()
    low, high = np.percentile(rates, [2, 98]) if len(rates) else (national, national)
    spread = max(float(high) - float(low), 1.0)
    # TwoSlopeNorm needs vmin < vcenter < vmax strictly.
    norm = mpl.colors.TwoSlopeNorm(
        vcenter=national,
        vmin=min(float(low), national - 0.05 * spread),
        vmax=max(float(high), national + 0.05 * spread),
    )
    cmap = mpl.colormaps["RdBu_r"]
    top = max(float(data["millions"].max()), 1e-9)
    area = (4.0, 400.0)  # marker areas (points^2) for 0 and for the largest place
    size_norm = (0.0, top)

    with _style():
        has_growth = data["growth"].notna()
        g = sns.relplot(
            data=data[has_growth],
            x="lon",
            y="lat",
            hue="growth",
            palette=cmap,
            hue_norm=norm,
            size="millions",
            sizes=area,
            size_norm=size_norm,
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
                s=area[0] + (area[1] - area[0]) * rest["millions"] / top,
                c="0.6",
                edgecolors="0.3",
                linewidths=0.3,
            )
        # A degree of longitude is shorter than one of latitude by cos(latitude).
        mid_lat = float(np.clip(data["lat"].mean(), -80.0, 80.0))
        ax.set_aspect(1.0 / np.cos(np.deg2rad(mid_lat)), adjustable="datalim")
        g.set_axis_labels("Longitude (°E)", "Latitude (°N)")
        g.figure.suptitle(f"Urban residents {last} and their growth since {first}")

        bar = g.figure.colorbar(
            mpl.cm.ScalarMappable(norm=norm, cmap=cmap),
            ax=ax,
            extend="both",
            fraction=0.04,
            pad=0.02,
        )
        bar.set_label(
            f"Growth of urban residents {first}-{last} (%)\n"
            f"white = national growth ({national:+.0f} %)"
        )
        bar.ax.axhline(national, color="0.2", linewidth=0.8)

        handles = [
            Line2D(
                [],
                [],
                linestyle="",
                marker="o",
                markerfacecolor="0.7",
                markeredgecolor="0.3",
                markersize=float(np.sqrt(area[0] + (area[1] - area[0]) * v / top)),
                label=f"{v:g}",
            )
            for v in _nice_sizes(top)
        ]
        if (~has_growth).any():
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
            bbox_to_anchor=(1.0 - _LEGEND_SHARE + 0.01, 0.5),
            frameon=False,
            labelspacing=1.2,
        )
        return _save(g.figure, Path(folder) / "map.png")


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

    _require(places, _PLACES_COLUMNS, "places")
    gaps = service_gap_by_size_class(places)
    if gaps.empty:
        raise PlotDataError("places table has no urban residents to weight the service gap")
    # One colour per size class across all runs, whichever classes a run happens to have.
    palette = dict(zip(SIZE_CLASSES, sns.color_palette("viridis", len(SIZE_CLASSES)), strict=True))
    present = [c for c in SIZE_CLASSES if c in set(gaps["size_class"])]
    present += sorted(set(gaps["size_class"]) - set(SIZE_CLASSES))  # unknown: shown, greyed
    palette.update({c: (0.5, 0.5, 0.5) for c in present if c not in palette})
    with _style():
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
        _integer_years(g.ax)
        _legend_right(g, "City size class")
        return _save(g.figure, Path(folder) / "service_gap.png")


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


#: Public names of the figure conventions, for experiment figure scripts.
figure_style = _style
save_figure = _save
