"""The census world's migrant stock that the destination constants match."""

from __future__ import annotations

import numpy as np

from urbsim.world.census_file import packaged_world_path, read_world_file
from urbsim.world.census_households import MIN_ACROSS_SHARE, migrant_stock
from urbsim.world.census_origins import out_migrants


def test_in_and_out_migrants_add_up_in_every_province_with_some_sent_out() -> None:
    """The in-migrants are the county file's; the out-migrants total them; each province's
    places send its in-migrants from its other units and at least MIN_ACROSS_SHARE of their
    out-migrants elsewhere, so that every province sends more than it keeps (Beijing, where the
    file's out-migrants fall short of the in-migrants from its other units, included)."""
    df, _ = read_world_file(packaged_world_path())
    prov = np.unique(df["province_code"], return_inverse=True)[1]
    stock = migrant_stock(df, prov)
    np.testing.assert_array_equal(stock.in_migrants[0], df["inmig_other_county"])
    np.testing.assert_array_equal(stock.in_migrants[1], df["inmig_other_province"])
    assert np.isclose(stock.out_migrants.sum(), stock.in_migrants.sum(), rtol=1e-12)
    kept = np.bincount(prov, stock.in_migrants[0])
    sent = np.bincount(prov, stock.out_migrants)
    assert (sent > kept).all()
    beijing = np.unique(df["province_code"]).tolist().index(11)
    file_out = np.bincount(prov, out_migrants(df))
    assert file_out[beijing] < kept[beijing]  # the file's own out-migrants would not do
    # The smallest share sent elsewhere, rescaled to the in-migrants from other provinces.
    assert ((sent - kept) / file_out).min() > 0.5 * MIN_ACROSS_SHARE
