"""The figure conventions every urbsim figure shares: size, style, legend column, saving.

Every figure is drawn inside :func:`figure_style` (Matplotlib defaults plus a seaborn theme,
whatever the user's matplotlibrc says) and written by :func:`save_figure` at a fixed size and
resolution, without the software tag in the PNG metadata, so the same tables give the same
bytes and a redrawn figure can be checked against the one in a run folder. The run figures
(:mod:`urbsim.plots.run`), the sweep figures (:mod:`urbsim.plots.sweep`) and the experiments'
figure scripts all use these helpers.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

import pandas as pd

from urbsim.errors import InputError, UrbsimError

#: Resolution of every figure (dots per inch).
DPI: Final[int] = 120
#: Size of every figure (inches): 1200 x 720 pixels at :data:`DPI`.
FIGSIZE: Final[tuple[float, float]] = (10.0, 6.0)
#: Width of the legend column at the right of every figure, as a share of the figure width.
LEGEND_SHARE: Final[float] = 0.24
#: File formats a figure can be written in (``formats=`` of the drawing functions).
FORMATS: Final[tuple[str, ...]] = ("png", "svg", "pdf")
#: Metadata left out of each format: the software version and the date would change the bytes
#: of otherwise identical figures.
_NO_STAMP: Final[dict[str, dict[str, None]]] = {
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": None},
    "pdf": {"CreationDate": None, "Creator": None, "Producer": None},
}


class PlotDataError(UrbsimError, ValueError):
    """Tables that cannot be drawn: a missing column, or nothing to show."""


def check_formats(formats: Sequence[str]) -> tuple[str, ...]:
    """Validate the ``formats`` argument of a drawing function.

    Parameters
    ----------
    formats : sequence of str
        File formats, each one of :data:`FORMATS` (``"png"``, ``"svg"``, ``"pdf"``).

    Returns
    -------
    tuple of str
        The formats, lower case, duplicates removed, in the order given.

    Raises
    ------
    InputError
        If ``formats`` is a plain string, empty, or names an unknown format.
    """
    if isinstance(formats, str) or not isinstance(formats, Sequence):
        raise InputError(f"formats must be a sequence such as ('png', 'svg'), got {formats!r}")
    out = tuple(dict.fromkeys(str(f).lower().lstrip(".") for f in formats))
    unknown = [f for f in out if f not in FORMATS]
    if not out or unknown:
        raise InputError(
            f"formats: unknown or no format {unknown or list(formats)}; "
            f"choose from {', '.join(FORMATS)}"
        )
    return out


def require_columns(df: Any, columns: tuple[str, ...], table: str) -> None:
    """Check that a table to draw is a non-empty data frame with the given columns.

    Parameters
    ----------
    df : pandas.DataFrame
        The table.
    columns : tuple of str
        Columns the figure reads.
    table : str
        The table's name in the error message (``"places"``, ``"summary"``).

    Raises
    ------
    PlotDataError
        If ``df`` is not a data frame, lacks a column, or has no row.
    """
    if not isinstance(df, pd.DataFrame):
        raise PlotDataError(f"{table} must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise PlotDataError(f"{table} table lacks column(s) {', '.join(missing)}")
    if df.empty:
        raise PlotDataError(f"{table} table is empty")


@contextmanager
def figure_style() -> Iterator[None]:
    """Draw with Matplotlib's defaults plus a seaborn theme, whatever the user's matplotlibrc says.

    Use as ``with figure_style(): ...`` around the drawing and the :func:`save_figure` call;
    the previous Matplotlib settings are restored on exit.
    """
    import matplotlib as mpl
    import seaborn as sns

    # Files only: no display needed, and no window opened in an interactive session.
    mpl.use("Agg")
    with mpl.rc_context():
        mpl.style.use("default")
        # SVG element ids are random unless salted: a fixed salt keeps SVG files byte-stable.
        mpl.rcParams["svg.hashsalt"] = "urbsim"
        with sns.axes_style("whitegrid"), sns.plotting_context("notebook"):
            yield


def save_figure(
    fig: Any,
    path: Path,
    legend_share: float = LEGEND_SHARE,
    size: tuple[float, float] = FIGSIZE,
    bottom: float = 0.0,
    formats: Sequence[str] | None = None,
) -> Path:
    """Lay out at a fixed size, keeping a right-hand column for the legend, save and close.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure; it is closed afterwards, even if saving fails.
    path : Path
        The PNG file to write.
    legend_share : float
        Width of the legend column as a share of the figure (0 for figures whose only key
        sits beside the axes, such as a heat map's colour bar).
    size : tuple of float
        Figure size in inches; multi-panel figures pass a larger one than :data:`FIGSIZE`.
    bottom : float
        Share of the figure kept free below the axes (for a legend placed there).
    formats : sequence of str, optional
        Write the figure once per format (:data:`FORMATS`), as ``path`` with the format's
        suffix; by default ``path`` alone, in the format its suffix names.

    Returns
    -------
    Path
        ``path``, or with ``formats`` the file of the first format.
    """
    import matplotlib.pyplot as plt

    path = Path(path)
    if formats is None:
        targets = [path]
    else:
        targets = [path.with_suffix(f".{fmt}") for fmt in check_formats(formats)]
    try:
        fig.set_size_inches(*size)
        fig.tight_layout(rect=(0.0, bottom, 1.0 - legend_share, 1.0))
        for target in targets:
            fmt = target.suffix.lstrip(".").lower()
            fig.savefig(target, dpi=DPI, metadata=_NO_STAMP.get(fmt))
    finally:
        plt.close(fig)
    return targets[0]


def legend_right(g: Any, title: str) -> None:
    """Put a seaborn grid's legend in the right-hand column kept by :func:`save_figure`.

    Parameters
    ----------
    g : seaborn.FacetGrid
        The grid; nothing happens when it has no legend.
    title : str
        The legend's title.
    """
    legend = g.legend
    if legend is None:
        return
    legend.set_title(title)
    legend.set_loc("center left")
    legend.set_bbox_to_anchor((1.0 - LEGEND_SHARE + 0.01, 0.5), transform=g.figure.transFigure)


#: Space a year's tick label needs on the axis, in font sizes: four digits of about 0.64 em
#: each and a gap of most of an em to the next label.
YEAR_LABEL_WIDTH: Final[float] = 3.4


def year_tick_intervals(length_points: float, font_points: float) -> int:
    """Most intervals between year ticks an axis can hold without their labels touching.

    Parameters
    ----------
    length_points : float
        Length of the axis, in points.
    font_points : float
        Font size of the tick labels, in points.

    Returns
    -------
    int
        The number of intervals (at least 1): ticks are at least ``YEAR_LABEL_WIDTH`` font
        sizes apart.
    """
    return max(1, int(length_points // (YEAR_LABEL_WIDTH * font_points)))


def integer_years(ax: Any) -> None:
    """Label the x axis (years) with whole years 1, 2, 5 or 10 apart, as many as fit.

    Matplotlib's automatic tick count assumes labels three font sizes wide; four-digit years
    are wider, so a long range on a narrow panel (a faceted figure, 2010-2035) got a label
    every year or three, and they overlapped. The count is worked out when the figure is drawn,
    from the axis' final length (after :func:`save_figure` sets the size and layout).
    """
    from matplotlib.ticker import MaxNLocator

    class Years(MaxNLocator):
        """Whole years at steps of 1, 2, 5 or 10, no more than fit side by side."""

        def __call__(self) -> Any:
            if self.axis is not None:
                axes = self.axis.axes
                length = axes.bbox.width / axes.figure.dpi * 72.0  # pixels to points
                font = self.axis.majorTicks[0].label1.get_fontsize()
                self.set_params(nbins=year_tick_intervals(length, font))
            return super().__call__()

    ax.xaxis.set_major_locator(Years(integer=True, steps=[1, 2, 5, 10], min_n_ticks=2))


def plain_log_ticks(ax: Any, axis: str) -> None:
    """Label a log-scale axis with plain numbers ("2", "0.1") instead of powers of ten.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The axes.
    axis : {"x", "y"}
        Which of its axes.
    """
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
