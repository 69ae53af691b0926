"""The explorer's figures: the run figures of :mod:`urbsim.plots` and two run-versus-reference
series, drawn once per run (the page shows the stored images; redrawing a choropleth on every
page update would make the page sluggish)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import pandas as pd

from urbsim.plots.run import draw_map, draw_service_gap, draw_urbanization
from urbsim.plots.style import FIGSIZE, figure_style, integer_years

#: The run figures the page shows, by title, with the :mod:`urbsim.plots` function drawing each
#: and the table it reads.
RUN_FIGURES: Final[tuple[tuple[str, Callable[..., Path], str], ...]] = (
    ("Resident vs hukou urbanization", draw_urbanization, "national"),
    ("Service gap by size class", draw_service_gap, "places"),
    ("Growth of urban residents (map)", draw_map, "places"),
)

#: National series drawn for the current run and the reference: (column, axis label, scale).
SERIES: Final[tuple[tuple[str, str, float], ...]] = (
    ("floating_population", "Floating population (million)", 1e-6),
    ("province_moves", "Moves between provinces per year (million)", 1e-6),
)


def run_images(national: pd.DataFrame, places: pd.DataFrame) -> dict[str, bytes]:
    """PNG bytes of each figure of :data:`RUN_FIGURES`, drawn by the ``urbsim run`` code.

    Parameters
    ----------
    national, places
        The run's tables.
    """
    tables = {"national": national, "places": places}
    out: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory(prefix="urbsim-explore-") as tmp:
        for title, draw, table in RUN_FIGURES:
            out[title] = Path(draw(tables[table], Path(tmp))).read_bytes()
    return out


def series_figure(column: str, label: str, scale: float, runs: dict[str, pd.DataFrame]) -> Any:
    """A line per run of one national series (current and, when saved, the reference).

    Parameters
    ----------
    column
        Column of the national table.
    label
        Axis label, with units.
    scale
        Factor from the column's unit to the label's.
    runs
        Run name to national table.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (not saved; the page shows it).
    """
    import matplotlib.pyplot as plt
    import seaborn as sns

    frames = [
        pd.DataFrame({"year": t["year"], "value": t[column].astype(float) * scale, "run": name})
        for name, t in runs.items()
    ]
    data = pd.concat(frames, ignore_index=True)
    with figure_style():
        fig, ax = plt.subplots(figsize=(FIGSIZE[0] * 0.6, FIGSIZE[1] * 0.6))
        sns.lineplot(data=data, x="year", y="value", hue="run", style="run", markers=True, ax=ax)
        ax.set_xlabel("Year")
        ax.set_ylabel(label)
        integer_years(ax)
        fig.tight_layout()
    # Detached from pyplot so that figures of many page updates are not kept alive by it.
    plt.close(fig)
    return fig
