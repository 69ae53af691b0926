"""Year axes: whole years at round steps, as many as fit without their labels overlapping."""

from __future__ import annotations

import itertools

import matplotlib.pyplot as plt
import numpy as np
import pytest

from urbsim.plots.style import figure_style, integer_years, year_tick_intervals


def _labels(years: np.ndarray, width: float) -> list[tuple[float, float, str]]:
    """Drawn tick labels of a year axis ``width`` inches wide: (left, right, text)."""
    with figure_style():
        fig, ax = plt.subplots(figsize=(width, 3.0))
        try:
            ax.plot(years, np.arange(len(years)), marker="o")
            integer_years(ax)
            fig.tight_layout()
            fig.canvas.draw()
            renderer = fig.canvas.get_renderer()
            lo, hi = ax.get_xlim()
            out = []
            for tick, label in zip(ax.get_xticks(), ax.get_xticklabels(), strict=True):
                if lo <= tick <= hi and label.get_text():
                    box = label.get_window_extent(renderer)
                    out.append((box.x0, box.x1, label.get_text()))
            return out
        finally:
            plt.close(fig)


@pytest.mark.parametrize("width", [3.0, 4.0, 6.0, 10.0])
@pytest.mark.parametrize("span", [(2010, 2035), (2010, 2050), (2015, 2035), (1990, 2100)])
def test_year_labels_do_not_overlap(width: float, span: tuple[int, int]) -> None:
    labels = _labels(np.arange(span[0], span[1] + 1), width)
    assert len(labels) >= 2
    for (_, right, _), (left, _, _) in itertools.pairwise(labels):
        assert left > right, labels  # a gap between neighbours
    years = [int(text.replace("\u2212", "-")) for _, _, text in labels]
    steps = set(np.diff(years))
    assert len(steps) == 1 and steps <= {1, 2, 5, 10, 20, 50, 100}, years


def test_short_ranges_label_every_year() -> None:
    labels = _labels(np.arange(2010, 2014), 4.0)
    assert [text for _, _, text in labels] == ["2010", "2011", "2012", "2013"]


def test_tick_intervals_follow_the_axis_length() -> None:
    assert year_tick_intervals(240.0, 11.0) == 6  # 240 pt / (3.4 x 11 pt)
    assert year_tick_intervals(10.0, 11.0) == 1  # never none
    assert year_tick_intervals(480.0, 11.0) == 2 * year_tick_intervals(240.0, 11.0)
