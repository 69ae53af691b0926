"""Where the census world's 2010 migrants come from: a gravity model of the migrant stock.

The county file of the 2010 census gives, for every county-level unit, its in-migrants by scope
(same county, other counties of the province, other provinces) and its hukou population, hence
its out-migrants, but no origin-destination matrix. The synthesis therefore has to spread each
place's in-migrants over origins that fit both margins. An independence model (origin shares the
same for every destination, as the synthesis did before) sends Anhui's migrants to Guangdong in
the same proportion as to Shanghai and Guangxi's to Beijing as to Guangdong, so the migrant
networks that chain migration follows start from corridors that do not exist.

Here the stock follows a doubly constrained gravity model (Wilson 1967): migrants from place
``i`` living at place ``j`` in proportion to ``a_P(i) * o_i * f(d_ij)``, with ``o_i`` the out-
migrants of ``i``, ``f(d) = max(d, d_min)^-gamma`` and province factors ``a_P`` solved so that
every province sends its out-migrants while every place receives its census in-migrants. The
deterrence exponent ``gamma`` (:data:`STOCK_DISTANCE_ELASTICITY`) is estimated from the same
county file by :func:`estimate_stock_deterrence`: for a destination, the split of its census
in-migrants between other counties of its province and other provinces depends only on how its
potential origins are spread in distance (the destination's own attraction cancels), so the
split across the 2,857 units identifies ``gamma`` and the cost of the province border.
"""

from __future__ import annotations

from typing import Final, NamedTuple

import numpy as np
import pandas as pd

from urbsim.world.base import DISTRICT, EARTH_RADIUS_KM

#: Distance elasticity of the 2010 migrant stock, estimated from the census county file by
#: :func:`estimate_stock_deterrence` (profile least squares over the 2,857 units: 1.05, border
#: cost 1.9; the residual is flat between about 0.8 and 1.3). A test re-estimates it from the
#: packaged world.
STOCK_DISTANCE_ELASTICITY: Final[float] = 1.05
#: Distances below this count as this (km): about the radius of a county-level unit, as the
#: model's ``behaviour.distance_floor_km``.
STOCK_DISTANCE_FLOOR_KM: Final[float] = 15.0
#: Iterations of the province factors of the inter-province stock.
FACTOR_ITERATIONS: Final[int] = 200


class DeterrenceFit(NamedTuple):
    """Result of :func:`estimate_stock_deterrence`.

    Attributes
    ----------
    gamma : float
        Distance elasticity with the smallest weighted residual.
    border : float
        Log cost of the province border at that elasticity (flows across a border are
        ``exp(-border)`` times those within, at equal distance).
    rmse : float
        Weighted root mean squared residual of the log split at the optimum.
    profile : dict[float, float]
        Residual by elasticity tried.
    """

    gamma: float
    border: float
    rmse: float
    profile: dict[float, float]


def distance_km(lat_deg: np.ndarray, lon_deg: np.ndarray) -> np.ndarray:
    """Great-circle distances (km) between every pair of places, from degrees (haversine)."""
    lat = np.radians(np.asarray(lat_deg, dtype=np.float64))
    lon = np.radians(np.asarray(lon_deg, dtype=np.float64))
    cos = np.cos(lat)
    h = np.sin((lat[:, None] - lat[None, :]) / 2.0) ** 2 + np.outer(cos, cos) * (
        np.sin((lon[:, None] - lon[None, :]) / 2.0) ** 2
    )
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(h, 1.0)))


def deterrence(
    dist_km: np.ndarray,
    gamma: float = STOCK_DISTANCE_ELASTICITY,
    floor_km: float = STOCK_DISTANCE_FLOOR_KM,
) -> np.ndarray:
    """``(max(d, floor) / floor)^-gamma`` for every pair (1 at and below the floor)."""
    return (np.maximum(dist_km, floor_km) / floor_km) ** -gamma


def out_migrants(df: pd.DataFrame, gap: np.ndarray | None = None) -> np.ndarray:
    """Persons registered at each place who live elsewhere: hukou residents minus the residents
    who are not in-migrants from other counties or provinces (nor, given ``gap``, registered in
    another unit of the prefecture), at least zero."""
    home = (
        df["residents"].to_numpy(dtype=np.float64)
        - df["inmig_other_county"].to_numpy(dtype=np.float64)
        - df["inmig_other_province"].to_numpy(dtype=np.float64)
    )
    if gap is not None:
        home = home - gap
    return np.maximum(df["hukou_residents"].to_numpy(dtype=np.float64) - home, 0.0)


def inter_province_weights(
    prov: np.ndarray,
    o_inter: np.ndarray,
    m3: np.ndarray,
    deter: np.ndarray,
    fallback: np.ndarray,
) -> np.ndarray:
    """Origin weights of the in-migrants from other provinces, one column per destination place.

    Parameters
    ----------
    prov : numpy.ndarray
        Province index of every place (0 .. n_prov - 1).
    o_inter : numpy.ndarray
        Out-migrants of every place to other provinces (persons).
    m3 : numpy.ndarray
        In-migrants of every place from other provinces (persons).
    deter : numpy.ndarray
        ``(n, n)`` deterrence between places (:func:`deterrence`).
    fallback : numpy.ndarray
        Positive weight of every place as an origin for a destination that no province with
        out-migrants can reach (a uniform column in effect; never met on the census world).

    Returns
    -------
    numpy.ndarray
        ``(n, n)`` weights ``a_P(i) * o_i * f_ij`` for origins ``i`` outside the destination's
        province, zero inside it. With the province factors ``a`` the expected out-migrants of
        each province, summed over destinations weighted by ``m3``, equal its ``o_inter``
        rescaled to the national in-migrant total.
    """
    n_prov = int(prov.max()) + 1
    member = np.zeros((n_prov, prov.shape[0]))
    member[prov, np.arange(prov.shape[0])] = o_inter
    grav = member @ deter  # (province of origin, destination place)
    grav[prov, np.arange(prov.shape[0])] = 0.0  # no origin in the destination's own province
    rows = np.bincount(prov, weights=o_inter, minlength=n_prov)
    rows = rows * (m3.sum() / rows.sum()) if rows.sum() > 0 else rows
    a = (rows > 0).astype(np.float64)
    for _ in range(FACTOR_ITERATIONS):
        col = a @ grav
        share = np.divide(grav * a[:, None], col[None, :], out=np.zeros_like(grav), where=col > 0)
        sent = share @ m3
        a = np.divide(a * rows, sent, out=np.zeros_like(a), where=sent > 0)
    weights = (a[prov] * o_inter)[:, None] * deter
    weights[prov[:, None] == prov[None, :]] = 0.0
    empty = weights.sum(axis=0) <= 0
    if empty.any():
        other = prov[:, None] != prov[None, empty]
        weights[:, empty] = other * fallback[:, None]
    return weights


def estimate_stock_deterrence(df: pd.DataFrame, gammas: np.ndarray | None = None) -> DeterrenceFit:
    """Estimate the distance elasticity and border cost of the 2010 migrant stock.

    For each place ``j`` with in-migrants of both scopes, the log ratio of its in-migrants from
    other provinces to those from other counties of its province is fitted by

        ln(m3_j / m2_j) = -border + ln( sum_{i outside P(j)} o_i f(d_ij)
                                        / sum_{i in P(j), i not j} o_i f(d_ij) ),

    ``o_i`` the out-migrants of place ``i`` and ``f(d) = max(d, 15 km)^-gamma``: the
    destination's own attraction cancels in the ratio. Origins that the census counts as the
    same county of ``j`` (other urban districts of the same prefecture, when ``j`` is a
    district) are left out of the denominator. Weights ``sqrt(m2 + m3)``; ``border`` is the
    weighted mean residual at each ``gamma`` (profile least squares).

    Parameters
    ----------
    df : pandas.DataFrame
        World table (:data:`urbsim.world.census.WORLD_COLUMNS`).
    gammas : numpy.ndarray, optional
        Elasticities to try; default 0.25 to 2.5 by 0.05.

    Returns
    -------
    DeterrenceFit
    """
    if gammas is None:
        gammas = np.round(np.arange(0.25, 2.5001, 0.05), 2)
    m2 = df["inmig_other_county"].to_numpy(dtype=np.float64)
    m3 = df["inmig_other_province"].to_numpy(dtype=np.float64)
    o = out_migrants(df)
    prov = df["province_code"].to_numpy()
    pref = df["prefecture_code"].to_numpy()
    district = df["kind"].to_numpy() == DISTRICT
    same_prov = prov[:, None] == prov[None, :]
    same_unit = np.eye(len(df), dtype=bool) | (
        district[:, None] & district[None, :] & (pref[:, None] == pref[None, :])
    )
    ok = (m2 > 0) & (m3 > 0)
    y = np.log(m3[ok] / m2[ok])
    w = np.sqrt(m2 + m3)[ok]
    dist = distance_km(df["lat"].to_numpy(), df["lon"].to_numpy())
    profile: dict[float, tuple[float, float]] = {}
    for g in gammas:
        f = o[:, None] * deterrence(dist, float(g))
        f[same_unit] = 0.0
        across = np.where(same_prov, 0.0, f).sum(axis=0)[ok]
        within = np.where(same_prov, f, 0.0).sum(axis=0)[ok]
        # A place with no origin in its province (none but itself) cannot split its migrants.
        valid = (within > 0) & (across > 0)
        resid = y[valid] - np.log(across[valid] / within[valid])
        border = -float(np.average(resid, weights=w[valid]))
        rmse = float(np.sqrt(np.average((resid + border) ** 2, weights=w[valid])))
        profile[float(g)] = (rmse, border)
    best = min(profile, key=lambda g: profile[g][0])
    return DeterrenceFit(
        gamma=best,
        border=profile[best][1],
        rmse=profile[best][0],
        profile={g: v[0] for g, v in profile.items()},
    )
