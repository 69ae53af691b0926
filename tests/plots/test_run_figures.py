"""urbsim.plots.run: all standard figures drawn, non-empty, fixed size, byte-identical when redrawn.

The tables come from :func:`fake_run.fake_tables` (shared with ``tests/test_cli.py``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fake_run import fake_tables

from urbsim.output import columns
from urbsim.plots import run, style
from urbsim.world.base import KINDS, REGIONS, SIZE_CLASSES

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    return fake_tables()


def test_fake_tables_follow_the_contract(tables: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    """The stand-in tables hold real output columns (urbsim/output/columns.py) with their
    dtypes, and the category names of the world, so the figure tests draw
    what a run writes; a renamed or retyped output column fails here."""
    national, places = tables
    for df, registry in ((national, columns.NATIONAL), (places, columns.PLACES)):
        dtypes = columns.by_name(registry)
        assert set(df.columns) <= set(dtypes), set(df.columns) - set(dtypes)
        for name in df.columns:
            expected = dtypes[name].dtype
            dtype = df[name].dtype
            text = pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_numeric_dtype(dtype)
            actual = "string" if text else str(dtype)
            assert actual == expected, name
    assert set(places["region"]) <= set(REGIONS)
    assert set(places["kind"]) <= set(KINDS)
    assert set(places["size_class"]) <= set(SIZE_CLASSES)


def test_draw_all_writes_every_figure(
    tmp_path: Path, tables: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    import matplotlib.image as mpimg
    import matplotlib.pyplot as plt

    paths = run.draw_all(*tables, tmp_path)
    assert [p.name for p in paths] == list(run.FIGURES)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(run.FIGURES)
    expected = (round(style.FIGSIZE[1] * style.DPI), round(style.FIGSIZE[0] * style.DPI))
    for path in paths:
        data = path.read_bytes()
        assert data.startswith(PNG_SIGNATURE)
        image = mpimg.imread(path)
        assert image.shape[:2] == expected, path.name
        # Not blank: a drawn figure inks a fair share of its pixels.
        inked = (image[..., :3] < 0.9).any(axis=-1).mean()
        assert 0.01 < inked < 0.9, path.name
    assert plt.get_fignums() == []  # every figure closed


@pytest.mark.slow
def test_figures_are_byte_identical_when_redrawn(
    tmp_path: Path, tables: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    run.draw_all(*tables, a)
    # Redraw from copies read in another order of operations: the bytes must not change.
    national, places = (df.copy() for df in tables)
    run.draw_all(national, places, b)
    for name in run.FIGURES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_service_gap_definition(tables: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    _, places = tables
    gaps = run.service_gap_by_size_class(places)
    assert list(gaps.columns) == ["year", "size_class", "gap_pct"]
    assert gaps["gap_pct"].between(0, 100).all()
    # Hand-computed for one class and year.
    sel = places[(places["year"] == 2010) & (places["size_class"] == "mega")]
    gap = np.clip(1 - sel["service_capacity"] / sel["service_demand"], 0, 1)
    expected = 100 * (gap * sel["urban_residents"]).sum() / sel["urban_residents"].sum()
    got = gaps[(gaps["year"] == 2010) & (gaps["size_class"] == "mega")]["gap_pct"].item()
    assert got == pytest.approx(expected)


def test_missing_column_is_a_clear_error(
    tmp_path: Path, tables: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    national, places = tables
    with pytest.raises(ValueError, match="hukou_urbanization_rate"):
        run.draw_urbanization(national.drop(columns="hukou_urbanization_rate"), tmp_path)
    with pytest.raises(ValueError, match="service_demand"):
        run.draw_service_gap(places.drop(columns="service_demand"), tmp_path)


def _zipf_table(years: tuple[int, ...] = (2010, 2020)) -> pd.DataFrame:
    """Places of 60 prefecture cities (one district each) with Pareto-like sizes, plus towns
    far below the Zipf threshold that neither the figure nor the indicator may use."""
    rng = np.random.default_rng(7)
    rows = []
    for t, year in enumerate(years):
        sizes = 0.3e6 * (1.0 + rng.pareto(1.1, size=60)) * (1.0 + 0.2 * t)
        sizes = np.append(sizes, [5e3, 8e3, 9e3])  # towns under 10,000
        for k, size in enumerate(sizes):
            code = 110100 + 100 * k
            rows.append((year, k, code, code // 10000, size))
    df = pd.DataFrame(
        rows, columns=["year", "place_id", "prefecture_code", "province_code", "urban_residents"]
    )
    df["kind"] = "urban district"
    df["size_class"] = "medium"
    df["lon"], df["lat"] = 110.0, 30.0
    df["service_capacity"], df["service_demand"] = 1.0, 1.0
    return df


def test_rank_size_figure_states_the_indicators_zipf_exponents(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The figure and the indicator use one estimator and one threshold (issue 15: the figure
    said slope 1.006 where the indicator said 1.27, and drew towns under 10,000)."""
    from matplotlib.collections import PathCollection

    from urbsim.analysis.indicators import ZIPF_MIN_SIZE, zipf_exponent

    places = _zipf_table()
    captured: dict[str, object] = {}
    real_save = run.save_figure

    def keep(fig, path, **kwargs):  # type: ignore[no-untyped-def]
        captured["legend"] = [t.get_text() for t in fig.legends[0].get_texts()]
        captured["points"] = sum(
            len(c.get_offsets()) for c in fig.axes[0].collections if isinstance(c, PathCollection)
        )
        return real_save(fig, path, **kwargs)

    monkeypatch.setattr(run, "save_figure", keep)
    run.draw_rank_size(places, tmp_path)
    z = zipf_exponent(places)
    expected = [
        f"{r.year}: {r.zipf_exponent:.2f} ± {r.zipf_se:.2f} ({r.cities})"
        for r in z.itertuples(index=False)
    ]
    assert captured["legend"] == expected
    # Only the cities of the fit are drawn: none under the threshold.
    assert captured["points"] == int(z["cities"].sum())
    assert (places["urban_residents"] < ZIPF_MIN_SIZE).sum() > 6
