"""The settlement (hukou) decision of the reference engine, in plain Python.

The same rules as :mod:`urbsim.kernels.settlement`, written again for reading (and so that
tests can hold the two against each other): whether a household may apply, what a local hukou
is worth to it, what settling costs it, and the logit probability that it settles. The
functions take plain values and :data:`urbsim.inputs.Params` / place lists; the
:class:`~urbsim.engines.mesa_engine.Household` agent calls them from ``apply_for_hukou``.

The rule, in words (``docs/ODD.md`` has it with its sources):

* an applicant may settle where the place's rule is not closed, after the rule's minimum years
  of residence unless it is open; points schemes rank migrants only;
* benefit = beta_service x (1 - service access now) x quality x (1 + child weight x children)
  + hukou premium + the place's hukou-only benefits (per household, and schooling per child);
  zero for an agricultural local converting at its own hukou place, which has them already;
* cost = the household's land value where the policy makes surrender a condition and the
  household holds agricultural hukou with land rights, else 0;
* the household settles if its logit draw falls below 1 / (1 + exp(-(benefit - cost) / scale)).

A household's land value is its own: a log-logistic quantile drawn once from the run's seed
with the fixed year slot, so it is the same every year without being stored.
"""

from __future__ import annotations

import math

from urbsim import rng_py
from urbsim.inputs import ParamsRecord, PlaceRecord
from urbsim.kernels import layout as L

#: Hukou type of a household that holds agricultural hukou.
AGRICULTURAL = 0


def may_apply(rule: str, local: bool, years: int, min_years: int) -> bool:
    """Whether a household with ``years`` completed years at a place with ``rule`` may settle
    there; ``local`` when its hukou is already there (an agricultural local converting)."""
    if rule == "closed":
        return False
    if rule == "points" and local:
        # Points schemes rank residents with hukou elsewhere; locals convert by requisition.
        return False
    return rule == "open" or years >= min_years


def benefit(
    access: float,
    place: int,
    hukou_place: int,
    children: int,
    local: bool,
    par: ParamsRecord,
    pl: PlaceRecord,
) -> float:
    """Utility that a local hukou at ``place`` adds for a household with service ``access``
    there now, its hukou at ``hukou_place`` and ``children`` school-age children; nothing for
    a ``local`` household, whose hukou is there already (its services, schooling, home
    purchase, insurance and premium). A migrant from another province also sheds the cost of
    living outside its hukou province."""
    if local:
        return 0.0
    service = (
        par.beta_service
        * (1.0 - access)
        * pl.quality[place]
        * (1.0 + par.child_service_weight * children)
    )
    across = pl.province[place] != pl.province[hukou_place]
    return (
        service
        + par.hukou_premium
        + pl.hukou_benefit[place]
        + pl.hukou_benefit_child[place] * children
        + par.beta_outside_province * across
    )


def land_value(seed: int, household: int, median: float, dispersion: float) -> float:
    """The household's land value (utils): log-logistic with ``median`` and shape
    ``dispersion`` at the household's own quantile, drawn with the year-independent key."""
    key = rng_py.year_key(seed, L.LAND_YEAR)
    u = rng_py.uniform_open(key, household, L.DRAW_LAND_VALUE)
    log_odds = math.log(u) - math.log1p(-u)
    return median * math.exp(dispersion * log_odds)


def cost(
    household: int,
    hukou_place: int,
    hukou_type: int,
    land: int,
    place: int,
    par: ParamsRecord,
    pl: PlaceRecord,
) -> float:
    """Utility given up by settling at ``place``: the land value, only where surrender is a
    condition there and the household has agricultural hukou with land rights."""
    if hukou_type != AGRICULTURAL or land == 0 or pl.surrender[place] == 0:
        return 0.0
    return land_value(par.seed, household, pl.land_median[hukou_place], par.land_value_dispersion)


def probability(net_benefit: float, scale: float) -> float:
    """Logit probability of settling for a net benefit (utils) at the logit ``scale``."""
    x = net_benefit / scale
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    # exp(-x) would overflow for a very unattractive hukou; this form gives 0 instead.
    e = math.exp(x)
    return e / (1.0 + e)
