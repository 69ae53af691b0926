"""The explorer's figures: the run figures of ``urbsim run`` and the run-vs-reference series."""

from __future__ import annotations

import tempfile
from pathlib import Path

from fake_run import fake_tables

from urbsim.explore import views
from urbsim.plots.run import draw_urbanization


def test_run_images_are_the_urbsim_run_figures() -> None:
    national, places = fake_tables()
    images = views.run_images(national, places)
    assert list(images) == [title for title, _, _ in views.RUN_FIGURES]
    assert all(png.startswith(b"\x89PNG") for png in images.values())
    # Byte for byte the figure `urbsim run` writes from the same table.
    with tempfile.TemporaryDirectory() as tmp:
        written = draw_urbanization(national, Path(tmp)).read_bytes()
    assert images["Resident vs hukou urbanization"] == written


def test_series_figure_has_a_line_per_run() -> None:
    national, _ = fake_tables()
    other = national.assign(floating_population=national["floating_population"] * 2)
    column, label, scale = views.SERIES[0]
    fig = views.series_figure(column, label, scale, {"current": national, "reference": other})
    ax = fig.axes[0]
    assert ax.get_ylabel() == label
    assert len(ax.get_lines()) >= 2
    top = max(max(line.get_ydata()) for line in ax.get_lines() if len(line.get_ydata()))
    assert top == float(other[column].max()) * scale
