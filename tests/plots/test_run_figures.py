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
