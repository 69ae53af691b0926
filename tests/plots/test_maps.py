"""urbsim.plots.maps and the run's map: choropleth on the packaged outlines, by map unit.

Tables come from :func:`fake_run.fake_tables` (real 2010 prefecture codes) or are built here.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
import pytest
from fake_run import fake_tables

from urbsim.errors import InputError
from urbsim.plots import maps, run
from urbsim.plots.style import figure_style


def _two_year_places(codes_and_urban: list[tuple[int, float, float]]) -> pd.DataFrame:
    """One place per (prefecture code, urban residents 2010, 2020)."""
    rows = []
    for pid, (code, start, end) in enumerate(codes_and_urban):
        for year, urban in ((2010, start), (2020, end)):
            rows.append((year, pid, code, code // 10000, urban))
    return pd.DataFrame(
        rows, columns=["year", "place_id", "prefecture_code", "province_code", "urban_residents"]
    )


def test_map_level_follows_the_codes() -> None:
    _, places = fake_tables()
    assert maps.map_level(places) == "prefecture"
    # A generated code (Hebei's 12th prefecture: Hebei has 11) sends the map to provinces.
    synthetic = _two_year_places([(130100, 1.0, 2.0), (131200, 1.0, 2.0)])
    assert maps.map_level(synthetic) == "province"


def test_growth_of_a_split_prefecture_is_that_of_its_unit() -> None:
    places = _two_year_places(
        [(340100, 2.0e6, 3.0e6), (341400, 1.0e6, 1.0e6), (110100, 10.0e6, 9.0e6)]
    )
    growth, first, last, national = maps.map_values(places, "prefecture")
    assert (first, last) == (2010, 2020)
    # Chaohu (341400) went to Hefei, Wuhu and Ma'anshan: the unit grew from 3 to 4 million.
    for code in (340100, 340200, 340500):
        assert growth[code] == pytest.approx(100.0 / 3.0)
    assert growth[110100] == pytest.approx(-10.0)
    assert national == pytest.approx((13.0 / 13.0 - 1.0) * 100.0)
    by_province = maps.map_values(places, "province")[0]
    assert by_province[34] == pytest.approx(100.0 / 3.0)


def test_choropleth_draws_filled_outlines_borders_and_the_grey_key() -> None:
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection, PatchCollection

    _, places = fake_tables()
    growth = maps.map_values(places, "prefecture")[0]
    with figure_style():
        fig = maps.draw_choropleth(
            growth,
            "prefecture",
            cmap=mpl.colormaps["RdBu_r"],
            norm=mpl.colors.Normalize(-50, 50),
            label="Growth (%)",
            title="test",
            marks={"China": 10.0},
        )
    try:
        ax = fig.axes[0]
        patches = [c for c in ax.collections if isinstance(c, PatchCollection)]
        # Coloured outlines and grey ones: every one of the 369 outlines is drawn.
        assert sum(len(c.get_paths()) for c in patches) >= 369
        assert any(isinstance(c, LineCollection) for c in ax.collections)  # province borders
        # Projected (metres, Albers centred on 105 E), not lon/lat degrees.
        assert ax.get_xlim()[1] - ax.get_xlim()[0] > 1e6
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert "province border" in labels
        assert any("without data" in t for t in labels)
    finally:
        plt.close(fig)


@pytest.mark.slow
def test_map_is_written_in_every_requested_format_with_stable_bytes(tmp_path: Path) -> None:
    _, places = fake_tables()
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    first = run.draw_map(places, a, formats=("png", "svg", "pdf"))
    assert first == a / "map.png"
    run.draw_map(places.copy(), b, formats=("png", "svg", "pdf"))
    signatures = {"png": b"\x89PNG", "svg": b"<?xml", "pdf": b"%PDF"}
    for fmt, head in signatures.items():
        data = (a / f"map.{fmt}").read_bytes()
        assert data.startswith(head), fmt
        assert data == (b / f"map.{fmt}").read_bytes(), fmt


def test_draw_all_writes_each_format_and_rejects_unknown_ones(tmp_path: Path) -> None:
    national, places = fake_tables()
    with pytest.raises(InputError, match="jpeg"):
        run.draw_all(national, places, tmp_path, formats=("png", "jpeg"))
    with pytest.raises(InputError, match="sequence"):
        run.draw_all(national, places, tmp_path, formats="svg")
    assert list(tmp_path.iterdir()) == []  # checked before anything is drawn
    written = run.draw_all(national, places, tmp_path, formats=("svg",))
    assert [p.name for p in written] == [Path(n).with_suffix(".svg").name for n in run.FIGURES]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in written)


def test_growth_scale_is_symmetric_about_zero() -> None:
    norm = run._growth_norm(pd.Series([-5.0, 10.0, 40.0, np.nan]))
    assert norm.vmin == -norm.vmax and norm(0.0) == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("vmax", "extend"),
    [(250.0, "max"), (40.0, "both")],
)
def test_colour_bar_stops_at_the_lowest_possible_value(vmax: float, extend: str) -> None:
    """A growth cannot be below -100 %: a symmetric scale of +-250 % gets a bar from -100 %
    (nothing lies beyond that end); a scale of +-40 % keeps both ends open."""
    import matplotlib.pyplot as plt

    with figure_style():
        fig, ax = plt.subplots()
        try:
            norm = mpl.colors.Normalize(-vmax, vmax)
            bar = maps.colour_bar(fig, ax, mpl.colormaps["RdBu_r"], norm, "g (%)", lowest=-100.0)
            fig.canvas.draw()
            assert bar.boundaries[0] == pytest.approx(max(-vmax, -100.0))
            assert bar.boundaries[-1] == pytest.approx(vmax)
            assert bar.extend == extend
            assert min(bar.get_ticks()) >= -100.0
            # Round ticks, not the boundaries' odd values.
            assert all(float(t) % 10 == 0 for t in bar.get_ticks())
            # The colours stay those of the symmetric scale: 0 is the middle colour.
            assert norm(0.0) == pytest.approx(0.5)
        finally:
            plt.close(fig)


def test_map_key_says_taiwan_has_no_outline() -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    try:
        maps.map_legend(ax, any_grey=False, level="province")
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert labels == ["province border", "Taiwan: no outline in the data"]
    finally:
        plt.close(fig)


def test_percent_change_by_outline_sums_over_the_unit() -> None:
    frame = pd.DataFrame(
        {
            "prefecture_code": [340100, 341400, 110100, 110100],
            "province_code": [34, 34, 11, 11],
            "change": [30.0, 10.0, -5.0, 0.0],
            "reference": [200.0, 100.0, 50.0, 50.0],
        }
    )
    pct = maps.percent_change_by_outline(frame, "prefecture", "change", "reference")
    # Hefei and Chaohu (split among Hefei, Wuhu, Ma'anshan) are one unit: 40 of 300.
    for code in (340100, 340200, 340500):
        assert pct[code] == pytest.approx(100.0 * 40.0 / 300.0)
    assert pct[110100] == pytest.approx(-5.0)
    by_province = maps.percent_change_by_outline(frame, "province", "change", "reference")
    assert by_province.to_dict() == pytest.approx({11: -5.0, 34: 100.0 * 40.0 / 300.0})
    frame["reference"] = 0.0
    assert maps.percent_change_by_outline(frame, "province", "change", "reference").isna().all()
