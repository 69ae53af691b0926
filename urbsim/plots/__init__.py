"""Figures, drawn from output tables alone: byte-stable PNGs in one shared style.

* :mod:`urbsim.plots.style`: the conventions every figure shares (size, theme, legend column,
  saving without a version tag), public for the experiments' figure scripts.
* :mod:`urbsim.plots.run`: the standard figures of a run (``urbsim run``, ``urbsim plot``).
* :mod:`urbsim.plots.sweep`: the figures of a parameter sweep (``urbsim plot-sweep``).

The names below are those the command line and the experiments use. Nothing is drawn, and
neither Matplotlib nor seaborn is imported, at import time.
"""

from urbsim.plots.run import FIGURES, draw_all
from urbsim.plots.style import DPI, FIGSIZE, PlotDataError, figure_style, save_figure
from urbsim.plots.sweep import draw_sweep_figures, parameter_unit

__all__ = [
    "DPI",
    "FIGSIZE",
    "FIGURES",
    "PlotDataError",
    "draw_all",
    "draw_sweep_figures",
    "figure_style",
    "parameter_unit",
    "save_figure",
]
