"""Public services of the places: entitlement by residence status and entitled demand."""

from __future__ import annotations

import numpy as np


def access_shares(access: np.ndarray, base_access: float, n_categories: int) -> np.ndarray:
    """Entitlement of each access category (full, base, permit by years), the permit schedule
    padded with its last value to ``n_categories`` columns."""
    permit = np.full(n_categories - 2, access[-1])
    permit[: min(access.shape[0], n_categories - 2)] = access[: n_categories - 2]
    return np.concatenate(([1.0, base_access], permit))


def entitled_demand(
    acc: np.ndarray, access: np.ndarray, base_access: float, hpa: float
) -> np.ndarray:
    """Persons weighted by their service entitlement, per place, from access-category counts."""
    shares = access_shares(access, base_access, acc.shape[1])
    return (acc * shares[None, :]).sum(axis=1) * hpa
