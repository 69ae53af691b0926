"""``docs/build_centroids.py`` reproduces the centroid file the census world is built from.

``../shared/data/census/prefecture_centroids.csv`` came without a stated derivation; the script
derives it from the prefecture outlines (``../shared/data/boundaries/prefectures.csv``): the
centroid of each unit's outline with its holes filled, rounded to 4 decimals. The stated
tolerance is zero: every value and the file's bytes are reproduced.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import shapely

from docs.build_centroids import centroids, filled, main

ROOT = Path(__file__).resolve().parents[2]
OUTLINES = ROOT.parent / "shared/data/boundaries/prefectures.csv"
CENTROIDS = ROOT.parent / "shared/data/census/prefecture_centroids.csv"
needs_data = pytest.mark.skipif(
    not (OUTLINES.is_file() and CENTROIDS.is_file()),
    reason=f"boundary or census data not found beside the checkout ({OUTLINES.parent.parent})",
)


def test_filled_outline_drops_holes_and_keeps_every_part() -> None:
    hole = [(0.5, 0.5), (0.5, 1.5), (1.5, 1.5), (1.5, 0.5)]
    square = shapely.Polygon([(0, 0), (4, 0), (4, 4), (0, 4)], holes=[hole])
    other = shapely.box(10, 0, 12, 2)
    out = filled(shapely.MultiPolygon([square, other]))
    assert out.area == pytest.approx(16 + 4)
    assert all(len(part.interiors) == 0 for part in out.geoms)
    # The hole (off-centre) would pull the centroid right if it were left out.
    assert shapely.centroid(filled(square)).x == pytest.approx(2.0)
    assert shapely.centroid(square).x > 2.0


@needs_data
def test_centroids_reproduce_the_shared_file_exactly(tmp_path: Path) -> None:
    expected = pd.read_csv(CENTROIDS)
    derived = centroids(pd.read_csv(OUTLINES))
    pd.testing.assert_frame_equal(derived, expected, check_exact=True)
    out = tmp_path / "prefecture_centroids.csv"
    main([str(OUTLINES), str(out)])
    assert out.read_bytes() == CENTROIDS.read_bytes()
