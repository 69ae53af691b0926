"""Year series of the scenario (keys are years) read at a year."""

from __future__ import annotations

import numpy as np


def interpolate(series: dict[str, float], year: int) -> float:
    """Value of a year series (keys are years) at ``year``: linear between keys, flat outside."""
    years = np.array(sorted(int(k) for k in series), dtype=np.float64)
    values = np.array([series[str(int(y))] for y in years], dtype=np.float64)
    return float(np.interp(float(year), years, values))
