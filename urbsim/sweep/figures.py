"""Figures of a finished sweep folder, drawn by :mod:`urbsim.sweep_plots` from its tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from urbsim.output import FIGURES_DIR, replace_dir


def _units(spec: dict[str, Any] | None) -> dict[str, str]:
    """Units of the sweep's metrics, from the national column each one reads."""
    from urbsim.sweep_plots import METRIC_UNITS

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
    """Draw a sweep's figures into ``<sweep_dir>/figures`` (replaced as a whole).

    Raises
    ------
    urbsim.output.OutputError
        If the folder is not a finished sweep.
    urbsim.plots.PlotDataError
        If the tables cannot be drawn.
    """
    from urbsim.sweep.driver import load_sweep_dir
    from urbsim.sweep_plots import draw_sweep_figures

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
                {"units": _units(tables["spec"])},
            )
        )

    target = Path(sweep_dir) / FIGURES_DIR
    replace_dir(target, fill)
    # Paths inside the final folder (fill saw the temporary one).
    return [target / p.name for p in written]
