"""Where the floating households would go if they weighed a move: home, stay or on.

The yearly returns and onward moves of the floating population are the product of how often
its households consider a move (7.11) and where the logit then sends them (7.13). This module
measures the second part without sampling: for a sample of floating households, the logit over
the full choice set (:func:`urbsim.analysis.choice_check.full_logit_probabilities`, each as if it
considered a move this year, employed; staying costs it the moving cost if this year's draw ended
its job, ``behaviour.job_separation``, as in the model) split into going home (either zone of the
hukou place),
staying (either zone of the current place) and moving on (any other place). Measured on the
start year's stock and on later years' of the same run, it shows whether the stock the world
starts with is where the model's households would choose to be: a stock that would mostly go
home on considering a move empties in a burst of returns in the first years (docs/ODD.md 5,
"Matches with places"; the calibration journal, 2026-12-07).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from urbsim.analysis.choice_check import full_logit_probabilities
from urbsim.inputs import YearInputs
from urbsim.state import Households

#: Upper ends of the head's age bands (years; the last band is open).
AGE_BANDS = ((29, "15_29"), (44, "30_44"), (59, "45_59"), (200, "60_plus"))


def stock_choices(inputs: YearInputs, households: Households, rows: np.ndarray) -> pd.DataFrame:
    """The full-logit choice of each floating household of ``rows``, split three ways.

    Parameters
    ----------
    inputs
        A year's inputs of the household engines (``UrbanizationModel.year_inputs``).
    households
        The households the inputs' network counts.
    rows
        Floating households (living away from their hukou place, ``persons`` > 0).

    Returns
    -------
    pandas.DataFrame
        One row per household: ``row``, ``head_age``, ``age_band``, ``years_away``,
        ``years_here``, and the probabilities ``home``, ``stay`` and ``onward`` (summing to 1).

    Raises
    ------
    ValueError
        When a row is not a floating household.
    """
    rows = np.asarray(rows, dtype=np.int64)
    h = households
    floating = (h.persons[rows] > 0) & (h.place[rows] != h.hukou_place[rows])
    if not floating.all():
        raise ValueError(f"rows {rows[~floating][:5].tolist()} are not floating households")
    out = []
    for i in rows.tolist():
        alternatives, p = full_logit_probabilities(inputs, h, i)
        place = np.array([a[0] for a in alternatives])
        home = float(p[place == h.hukou_place[i]].sum())
        stay = float(p[place == h.place[i]].sum())
        out.append((i, home, stay, max(1.0 - home - stay, 0.0)))
    table = pd.DataFrame(out, columns=["row", "home", "stay", "onward"])
    age = h.head_age[rows].astype(np.int64)
    bands = np.searchsorted([upper for upper, _ in AGE_BANDS], age)
    table.insert(1, "head_age", age)
    table.insert(2, "age_band", np.array([name for _, name in AGE_BANDS])[bands])
    table.insert(3, "years_away", h.years_away[rows].astype(np.int64))
    table.insert(4, "years_here", h.years_here[rows].astype(np.int64))
    return table


def sample_floating(households: Households, size: int, seed: int) -> np.ndarray:
    """Up to ``size`` floating households drawn without replacement (increasing rows)."""
    h = households
    floating = np.flatnonzero((h.persons > 0) & (h.place != h.hukou_place))
    rng = np.random.default_rng(seed)
    return np.sort(rng.permutation(floating)[:size])
