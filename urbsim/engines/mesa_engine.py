"""The reference household engine: every household is a Mesa agent with readable methods.

This is the slow, obvious implementation that the Numba kernels are tested against, draw by
draw. It shares nothing with the kernels but the random-number key (through the plain-Python
twin :mod:`urbsim.rng_py`) and the year's inputs (:class:`urbsim.inputs.YearInputs`: parameters
read by name, ``ctx.par.move_base``, and the place values); every rule is written again here in
ordinary Python and ``math``. Like the Numba engine it never sees the model: it returns a
:class:`~urbsim.engines.base.StepResult` that the model applies. Where a floating-point result
could flip a choice, the arithmetic is written in the same order as in
:mod:`urbsim.kernels.household_step`.

A year runs in two phases, as in the kernels: every household decides on the state at the start
of the year (:meth:`Household.live_year`), then the moves apply together
(:meth:`Household.settle_move`), then points-scheme applicants are ranked against their
city's quota.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

import mesa
import numpy as np

from urbsim import rng_py
from urbsim.engines import mesa_settlement as settlement
from urbsim.engines.base import StepResult
from urbsim.inputs import ParamsRecord, PlaceRecord, YearInputs
from urbsim.kernels import layout as L
from urbsim.state import AGE_GROUP_STARTS, FIELDS, NON_AGRICULTURAL, RURAL, URBAN, Households
from urbsim.world.base import EARTH_RADIUS_KM as _EARTH_KM

_MAX_PERSONS = 15
#: The standard normal's probabilities at the midpoints between match levels.
_MATCH_BOUNDS = L.MATCH_BOUNDS.tolist()
_MAX_YEARS = 255
#: Head's age at which the age term of the attachment to the hukou place is zero.
_HOME_AGE_REFERENCE = 30.0
_RULES = {
    L.RULE_CLOSED: "closed",
    L.RULE_OPEN: "open",
    L.RULE_CONDITIONAL: "conditional",
    L.RULE_POINTS: "points",
}


@dataclass
class YearContext:
    """What a household can see of the world this year, as plain Python values.

    ``par`` is the year's :data:`urbsim.inputs.Params`; ``places`` the year's
    :data:`urbsim.inputs.PlaceInputs` with each array turned into a list (``places.employment[p]``);
    ``rule`` the settlement rule of each place by name.
    """

    key: int
    year: int
    par: ParamsRecord
    places: PlaceRecord
    rule: list[str]
    gravity: list[list[float]]
    migrants_from: dict[int, list[Household]]
    network: np.ndarray
    network_province: np.ndarray
    access: list[list[float]]  # permit access by place, then completed years
    fertility: list[list[float]]
    mortality: list[list[float]]
    leaving: list[float]
    sampling_correction: bool = True


#: What a household formed by a child who left home takes from its parents' household (as it
#: was when the child left, at the start of the year); ``years_here`` is capped by its age.
_INHERITED = (
    "place",
    "zone",
    "hukou_place",
    "hukou_type",
    "years_here",
    "years_away",
    "permit",
    "education",
    "land",
    "match",
)


def bernoulli_draw(u: float, q: float) -> tuple[bool, float]:
    """Whether an event of probability ``q`` happens on the uniform ``u``, and the uniform
    left for the next event: ``u / q`` after it happens, ``(u - q) / (1 - q)`` otherwise
    (both again uniform, whatever happened)."""
    if u < q:
        return True, u / q
    return False, (u - q) / (1.0 - q)


class Household(mesa.Agent):
    """A migrant (or would-be migrant) household.

    Attributes mirror :data:`urbsim.households.FIELDS` as plain Python integers; ``hh_id`` is the
    household's row, which keys its random draws.
    """

    def __init__(self, model: mesa.Model, hh_id: int, **fields: int) -> None:
        super().__init__(model)
        self.hh_id = hh_id
        self.place: int = fields["place"]
        self.zone: int = fields["zone"]
        self.hukou_place: int = fields["hukou_place"]
        self.hukou_type: int = fields["hukou_type"]
        self.years_here: int = fields["years_here"]
        self.permit: int = fields["permit"]
        self.head_age: int = fields["head_age"]
        self.education: int = fields["education"]
        # The children's ages, ascending (the arrays hold them as a bit mask).
        self.kid_ages: list[int] = [a for a in range(L.KID_AGES) if fields["kids"] >> a & 1]
        self.children: int = fields["children"]
        self.land: int = fields["land"]
        self.persons: int = fields["persons"]
        #: Completed years since it last left its hukou place (0 there), and whether its
        #: school-age children live at the hukou place while it is away.
        self.years_away: int = fields["years_away"]
        self.left_behind: int = fields["left_behind"]
        #: Its match with the place it lives at, away from the hukou place (a level of
        #: ``MATCH_STEP`` standard deviations; 0 there).
        self.match: int = fields["match"]
        #: Whether the head is without a job this year (urban zone, the employment draw).
        self.jobless = False
        #: Whether its job, away from the hukou place, ended this year (:meth:`job_ends`).
        self.job_ended = False
        self.next_place = self.place
        self.next_zone = self.zone
        self.points_applicant = False
        #: Ages (at the start of the year) of the children who left home this year, and the
        #: household's state they left (:meth:`leave_home`).
        self.leaving_ages: list[int] = []
        self.left_from: dict[str, int] = {}
        #: The head's age for this year's decisions (after deaths, before ageing).
        self.decision_age = self.head_age

    @property
    def kids(self) -> int:
        """The children's ages as the arrays' bit mask."""
        return sum(1 << a for a in self.kid_ages)

    # --- the year -----------------------------------------------------------------------------
    def live_year(self, ctx: YearContext, tally: dict[str, int]) -> None:
        """Decide this year's events on the state at the start of the year."""
        self.points_applicant = False
        self.job_ended = False
        self.leaving_ages = []
        self.next_place, self.next_zone = self.place, self.zone
        if self.persons == 0:
            return
        if not self.have_births_and_deaths(ctx, tally):
            self.left_behind = 0  # no child left: none left behind
            return
        u_employ, u_move = rng_py.uniform_pair(ctx.key, self.hh_id, L.DRAW_MOVE)
        self.jobless = self.zone == URBAN and not u_employ < ctx.places.employment[self.place]
        if self.place != self.hukou_place and self.hazard_sends_home(ctx):
            self.next_place, self.next_zone = self.home_alternative()
            self.leave_or_return(ctx)
            tally["hazard_return_migrants"] += self.persons
            return
        self.job_ended = self.job_ends(ctx)
        if self.job_ended:
            tally["job_ends"] += self.persons
        # A household whose job ended weighs a move for certain.
        propensity = 1.0 if self.job_ended else self.move_propensity(u_employ, ctx)
        if u_move < propensity:
            tally["considered"] += 1
            self.next_place, self.next_zone = self.choose_destination(ctx)
            if (self.next_place, self.next_zone) != (self.place, self.zone):
                self.leave_or_return(ctx)
                return
        self.stay(ctx, tally)

    def have_births_and_deaths(self, ctx: YearContext, tally: dict[str, int]) -> bool:
        """Deaths, succession, births, leaving home and ageing; False when the household
        dissolves. Each kind of event takes its own uniform, reused from event to event
        (:func:`bernoulli_draw`), in the order: adults, children by ascending age."""
        u_death, u_birth = rng_py.uniform_pair(ctx.key, self.hh_id, L.DRAW_DEMOGRAPHY)
        u_leave, _ = rng_py.uniform_pair(ctx.key, self.hh_id, L.DRAW_LEAVE_HOME)
        if not self.suffer_deaths(u_death, ctx, tally):
            return False
        self.give_births(u_birth, ctx, tally)
        self.leave_home(u_leave, ctx, tally)
        self.decision_age = self.head_age
        self.head_age = min(self.head_age + 1, L.MAX_AGE)
        self.kid_ages = [a + 1 for a in self.kid_ages]
        school = sum(1 for a in self.kid_ages if L.SCHOOL_FIRST <= a <= L.SCHOOL_LAST)
        self.children = min(school, L.MAX_SCHOOL_CHILDREN)
        if self.children == 0:
            self.left_behind = 0  # no school-age child left to be left behind
        return True

    def suffer_deaths(self, u: float, ctx: YearContext, tally: dict[str, int]) -> bool:
        """Every member dies with the probability of its age; the oldest child succeeds the
        last adult; False (and persons 0) when no one is left."""
        mortality = ctx.mortality[self.zone]
        adults = self.persons - len(self.kid_ages)
        survivors = 0
        for _ in range(adults):
            died, u = bernoulli_draw(u, mortality[self.head_age])
            survivors += not died
        kept = []
        for age in self.kid_ages:
            died, u = bernoulli_draw(u, mortality[age])
            if not died:
                kept.append(age)
        deaths = adults - survivors + len(self.kid_ages) - len(kept)
        self.kid_ages = kept
        self.persons -= deaths
        tally["deaths"] += deaths
        if self.zone == URBAN:
            tally["urban_deaths"] += deaths
        if survivors == 0 and not kept:
            tally["dissolved"] += 1
            self.children = 0
            return False
        if survivors == 0:
            self.head_age = self.kid_ages.pop()
        return True

    def give_births(self, u: float, ctx: YearContext, tally: dict[str, int]) -> None:
        """One woman at risk per two adults, with the fertility of the head's age."""
        women = (self.persons - len(self.kid_ages)) // 2
        f = ctx.fertility[self.zone][self.head_age] * ctx.places.fertility_factor[self.place]
        for _ in range(women):
            born, u = bernoulli_draw(u, f)
            if born and self.persons < L.MAX_PERSONS:
                age = 0
                while age in self.kid_ages:
                    age += 1
                self.kid_ages = sorted([*self.kid_ages, age])
                self.persons += 1
                tally["births"] += 1
                if self.zone == URBAN:
                    tally["urban_births"] += 1

    def leave_home(self, u: float, ctx: YearContext, tally: dict[str, int]) -> None:
        """Children of leaving age leave, youngest first; they form households after the
        year (:meth:`MesaEngine.form_households`)."""
        for age in self.kid_ages:
            if ctx.leaving[age] > 0.0:
                left, u = bernoulli_draw(u, ctx.leaving[age])
                if left:
                    self.leaving_ages.append(age)
        self.kid_ages = [a for a in self.kid_ages if a not in self.leaving_ages]
        self.persons -= len(self.leaving_ages)
        tally["left_home"] += len(self.leaving_ages)
        # What they take with them: the household's state now, at the start of the year.
        self.left_from = {name: getattr(self, name) for name in _INHERITED}

    def move_propensity(self, u_employ: float, ctx: YearContext) -> float:
        """Probability of considering a move this year."""
        b = ctx.par
        group = sum(1 for start in AGE_GROUP_STARTS if self.decision_age >= start)
        p = b.move_base * b.move_age[group] * math.exp(-b.move_tenure_decay * self.years_here)
        employed = True
        if self.zone == URBAN:
            employed = u_employ < ctx.places.employment[self.place]
        if not employed:
            p = p * b.move_unemployed
        if self.hukou_type == NON_AGRICULTURAL:
            p = p * b.move_nonagricultural
        if self.place != self.hukou_place:
            # The excess (or shortfall) of a migrant's propensity fades with the years here.
            away = b.move_away
            if b.move_away_tenure_decay != 0.0:
                fade = math.exp(-b.move_away_tenure_decay * self.years_here)
                away = 1.0 + (b.move_away - 1.0) * fade
            p = p * away
        return p

    def job_ends(self, ctx: YearContext) -> bool:
        """Whether the job ends this year (``job_separation``): away from the hukou place, in
        the urban zone, with a head under 60; no draw when the rate is 0."""
        rate = ctx.par.job_separation
        if rate == 0.0 or self.place == self.hukou_place or self.zone != URBAN:
            return False
        if self.decision_age >= 60:
            return False
        return rng_py.uniform(ctx.key, self.hh_id, L.DRAW_JOB_END) < rate

    def home_age_utility(self, ctx: YearContext) -> float:
        """Attachment to the hukou place that grows with the head's age, for a household
        away: ``home_age`` per year above 30 (negative below)."""
        return ctx.par.home_age * (self.decision_age - _HOME_AGE_REFERENCE)

    def stay_utility(self, ctx: YearContext) -> float:
        """The age part of the attachment to the hukou place for a household living there:
        ``home_age`` per year below 30 (negative), ``stay_age`` per year above."""
        years = self.decision_age - _HOME_AGE_REFERENCE
        if years < 0:
            return ctx.par.home_age * years
        return ctx.par.stay_age * years

    def return_utility(self, ctx: YearContext) -> float:
        """Utility of going back to the hukou place, for a household living away, beyond the
        constant attachment to it: the age term, minus the log of one plus the years away, a
        head without a job this year, school-age children left behind."""
        b = ctx.par
        v = self.home_age_utility(ctx)
        v -= b.return_years_away * math.log1p(self.years_away)
        v += b.return_unemployed * self.jobless
        v += b.return_left_behind * self.left_behind
        return v

    def hazard_sends_home(self, ctx: YearContext) -> bool:
        """Whether the return hazard sends this household (living away) home this year: a
        binary logit of log odds ``ln(return_rate / (1 - return_rate))`` plus the hazard's own
        terms (per year of the head's age above 30, minus per log of one plus the years away,
        a head without a job, school-age children left behind), on the second uniform of its
        leaving-home draw (which only a household leaving its hukou place uses otherwise)."""
        b = ctx.par
        rate = b.return_rate
        if rate <= 0.0:
            return False
        x = math.log(rate / (1.0 - rate))
        x += b.return_hazard_age * (self.decision_age - _HOME_AGE_REFERENCE)
        x -= b.return_hazard_years_away * math.log1p(self.years_away)
        x += b.return_hazard_unemployed * self.jobless
        x += b.return_hazard_left_behind * self.left_behind
        if x >= 0.0:
            p = 1.0 / (1.0 + math.exp(-x))
        else:
            e = math.exp(x)
            p = e / (1.0 + e)
        _, u = rng_py.uniform_pair(ctx.key, self.hh_id, L.DRAW_LEAVE_HOME)
        return u < p

    def home_alternative(self) -> tuple[int, int]:
        """The hukou place and the zone a return goes to: rural with agricultural hukou and
        land, urban otherwise."""
        has_land = self.hukou_type == 0 and self.land == 1
        return self.hukou_place, RURAL if has_land else URBAN

    def leave_or_return(self, ctx: YearContext) -> None:
        """Years away, children left behind and the match for the move decided this year:
        back home, nothing is away and there is no match; leaving home, the years away restart
        and the school-age children stay behind with the share of the household's hukou type
        (second uniform of its leaving-home draw); from one place away to another, one more
        year away; at a new place away, the match is this year's draw for it."""
        if self.next_place == self.hukou_place:
            self.match = 0
        elif self.next_place != self.place:
            self.match = self.match_draw(self.next_place, ctx)
        if self.next_place == self.hukou_place:
            self.years_away, self.left_behind = 0, 0
        elif self.place == self.hukou_place:
            self.years_away = 0
            _, u = rng_py.uniform_pair(ctx.key, self.hh_id, L.DRAW_LEAVE_HOME)
            b = ctx.par
            agricultural = self.hukou_type == 0
            share = b.left_behind_agricultural if agricultural else b.left_behind_nonagricultural
            self.left_behind = 1 if self.children > 0 and u < share else 0
        else:
            self.years_away = min(self.years_away + 1, _MAX_YEARS)

    def access_at(self, place: int, ctx: YearContext) -> float:
        """Share of public services this household would be entitled to at ``place``."""
        if place == self.hukou_place:
            return 1.0
        if place == self.place and self.permit == 1:
            schedule = ctx.access[place]  # the schedule of the place the permit is held at
            return schedule[min(self.years_here, len(schedule) - 1)]
        return ctx.par.service_base_access

    def utility(self, place: int, zone: int, ctx: YearContext, aggregate: bool = False) -> float:
        """Systematic utility of living in ``zone`` of ``place``; ``aggregate`` for an
        alternative that stands for a whole urban zone (the local and home towns, the
        candidates)."""
        b = ctx.par
        pl = ctx.places
        if zone == URBAN:
            v = b.beta_income * pl.log_income_urban[place]
            v -= b.beta_housing * pl.log_cost_urban[place]
            v += b.beta_amenity * pl.amenity[place]
        else:
            v = b.beta_income * pl.log_income_rural[place]
            v -= b.beta_housing * pl.log_cost_rural[place]
        # Children left behind go to school at the hukou place only.
        at_school = 0 if self.left_behind and place != self.hukou_place else self.children
        child_weight = b.child_service_weight * at_school
        if place != self.hukou_place:  # a population cap restricts non-hukou school access
            child_weight = child_weight * pl.school_access[place]
        child_factor = 1.0 + child_weight
        v += b.beta_service * self.access_at(place, ctx) * pl.quality[place] * child_factor
        if aggregate:
            v += b.beta_size * (pl.log_size[place] - math.log(b.size_reference))
        if place != self.hukou_place:
            # A return pays no distance or border cost and gets no destination constant; staying
            # away keeps the constant of its place (docs/ODD.md 7.13).
            if place != self.place:
                v -= self.distance_cost(place, ctx)
            across = pl.province[place] != pl.province[self.place]
            v += (pl.entry_across if across else pl.entry_within)[place]
        if place != self.place or zone != self.zone:
            away = self.place != self.hukou_place
            v -= b.moving_cost * (b.moving_cost_away_share if away else 1.0)
        # A cost of where one lives (examinations, insurance pool), not of the move: staying
        # outside the hukou province pays it too.
        v -= b.beta_outside_province * (pl.province[place] != pl.province[self.hukou_place])
        v += self.network_term(place, ctx)
        if place == self.hukou_place:
            v += b.home_preference
            if self.hukou_place != self.place:
                v += self.return_utility(ctx)
            else:
                v += self.stay_utility(ctx)
        elif b.place_match_sd != 0.0:
            level = self.match if place == self.place else self.match_draw(place, ctx)
            v += b.place_match_sd * (level * L.MATCH_STEP)
        if self.job_ended and (place, zone) == (self.place, self.zone):
            # Staying costs the search for work and housing that a move does.
            v -= b.moving_cost * b.moving_cost_away_share
        return v

    def match_draw(self, place: int, ctx: YearContext) -> int:
        """This year's draw of the household's match with ``place``: the level (of
        ``MATCH_STEP`` standard deviations) whose interval of the standard normal holds the
        quantile of its uniform."""
        u = rng_py.uniform(ctx.key, self.hh_id, L.DRAW_MATCH0 + place)
        return bisect.bisect_right(_MATCH_BOUNDS, u) + L.MATCH_MIN

    def distance_cost(self, place: int, ctx: YearContext) -> float:
        """Log distance above the floor, plus the province border."""
        b = ctx.par
        pl = ctx.places
        dy = pl.lat[place] - pl.lat[self.place]
        dx = (pl.lon[place] - pl.lon[self.place]) * pl.coslat[self.place]
        distance = _EARTH_KM * math.sqrt(dy * dy + dx * dx)
        floor = b.distance_floor_km
        cost = b.beta_distance * math.log(max(distance, floor) / floor)
        cost += b.beta_province * (pl.province[place] != pl.province[self.place])
        return cost

    def network_term(self, place: int, ctx: YearContext) -> float:
        """Chain migration: households from the same hukou place and hukou province there.
        Where the household lives away, the count holds its own agent: the other agents count,
        and its agent's other households at the share of its hukou place's agents living there
        (docs/ODD.md 7.13)."""
        b = ctx.par
        hpa = b.households_per_agent
        same_place = int(ctx.network[self.hukou_place, place])
        same_province = int(ctx.network_province[ctx.places.province[self.hukou_place], place])
        if place == self.place and self.place != self.hukou_place:
            others = max(same_place - 1, 0)
            n_origin = len(ctx.migrants_from.get(self.hukou_place, []))
            copies = max(hpa - 1.0, 0.0) * same_place / max(n_origin, 1)
            v = b.beta_network * math.log1p(others * hpa + copies)
            return v + b.beta_network_province * math.log1p(max(same_province - 1, 0) * hpa)
        v = b.beta_network * math.log1p(same_place * hpa)
        v += b.beta_network_province * math.log1p(same_province * hpa)
        return v

    def fixed_alternatives(self) -> tuple[list[tuple[int, int]], int]:
        """Stay, go home, the local town and, away from a rural home, the home town; and the
        index from which alternatives stand for a whole urban zone (the towns, when present,
        and every candidate after them)."""
        options = [(self.place, self.zone)]
        home = self.home_alternative()
        if home != options[0]:
            options.append(home)
        aggregate_from = len(options)
        if self.zone == RURAL and home != (self.place, URBAN):
            options.append((self.place, URBAN))
        if self.hukou_place != self.place and home[1] == RURAL:
            options.append((self.hukou_place, URBAN))
        return options, aggregate_from

    def candidate_draws(self, ctx: YearContext) -> list[int]:
        """The places of the ``candidates`` draws: from the migrant network of the hukou
        place, or from the gravity proposal of the current place."""
        b = ctx.par
        earlier = ctx.migrants_from.get(self.hukou_place, [])
        row = ctx.gravity[self.place]
        places = []
        for k in range(b.candidates):
            u_source, u_pick = rng_py.uniform_pair(ctx.key, self.hh_id, L.DRAW_CANDIDATE0 + k)
            if u_source < b.network_sampling_share and earlier:
                places.append(earlier[int(u_pick * len(earlier))].place)
            else:
                places.append(min(bisect.bisect_right(row, u_pick * row[-1]), len(row) - 1))
        return places

    def proposal_probability(self, place: int, ctx: YearContext) -> float:
        """Probability that one candidate draw proposes ``place`` (network or gravity)."""
        row = ctx.gravity[self.place]
        low = row[place - 1] if place > 0 else 0.0
        gravity = (row[place] - low) / row[-1]
        n_origin = len(ctx.migrants_from.get(self.hukou_place, []))
        if n_origin > 0:
            share = ctx.par.network_sampling_share
            there = int(ctx.network[self.hukou_place, place])
            return share * (there / n_origin) + (1.0 - share) * gravity
        return gravity

    def choice_set(self, ctx: YearContext) -> list[tuple[tuple[int, int], int]]:
        """Fixed alternatives (count 0), then each sampled place not among them in the order
        first drawn, with the number of draws that proposed it."""
        fixed, _ = self.fixed_alternatives()
        options: list[tuple[tuple[int, int], int]] = [(o, 0) for o in fixed]
        n_fixed = len(options)
        for place in self.candidate_draws(ctx):
            keys = [o for o, _ in options]
            if (place, URBAN) not in keys:
                options.append(((place, URBAN), 1))
            elif keys.index((place, URBAN)) >= n_fixed:
                k = keys.index((place, URBAN))
                options[k] = (options[k][0], options[k][1] + 1)
        return options

    def choose_destination(self, ctx: YearContext) -> tuple[int, int]:
        """Multinomial logit over the choice set, a sampled place weighted by its draws over
        ``candidates`` times its proposal probability, with this household's choice draw."""
        options = self.choice_set(ctx)
        _, aggregate_from = self.fixed_alternatives()
        utilities = [
            self.utility(place, zone, ctx, k >= aggregate_from)
            for k, ((place, zone), _) in enumerate(options)
        ]
        best = max(utilities)
        weights = []
        for ((place, _), draws), v in zip(options, utilities, strict=True):
            w = math.exp(v - best)
            if draws > 0 and ctx.sampling_correction:
                w = w * draws / (ctx.par.candidates * self.proposal_probability(place, ctx))
            weights.append(w)
        total = 0.0
        for w in weights:
            total += w
        target = rng_py.uniform(ctx.key, self.hh_id, L.DRAW_CHOICE) * total
        cumulative = 0.0
        for (option, _), w in zip(options, weights, strict=True):
            cumulative += w
            if target < cumulative:
                return option
        return options[-1][0]

    def stay(self, ctx: YearContext, tally: dict[str, int]) -> None:
        """A year at the same place: in-situ urbanization, residence permit, local hukou."""
        years = self.years_here
        self.years_here = min(years + 1, _MAX_YEARS)
        if self.place != self.hukou_place:
            self.years_away = min(self.years_away + 1, _MAX_YEARS)
        if self.zone == RURAL:
            self.be_reclassified(ctx, tally)
            return
        if self.hukou_place == self.place and self.hukou_type == NON_AGRICULTURAL:
            return
        u_permit, u_hukou = rng_py.uniform_pair(ctx.key, self.hh_id, L.DRAW_SETTLE)
        permit_before = self.permit
        self.obtain_permit(u_permit, years, ctx, tally)
        self.apply_for_hukou(u_hukou, years, permit_before, ctx, tally)

    def be_reclassified(self, ctx: YearContext, tally: dict[str, int]) -> None:
        """Rural land next to a growing town becomes urban; requisition converts the hukou."""
        u_insitu, u_requisition = rng_py.uniform_pair(ctx.key, self.hh_id, L.DRAW_INSITU)
        if u_insitu < ctx.places.insitu[self.place]:
            self.zone = URBAN
            self.next_zone = URBAN
            tally["insitu"] += self.persons
            if (
                self.hukou_type == 0
                and self.hukou_place == self.place
                and u_requisition < ctx.par.requisition_share
            ):
                self.hukou_type = NON_AGRICULTURAL
                self.land = 0
                tally["requisition"] += self.persons

    def obtain_permit(self, u: float, years: int, ctx: YearContext, tally: dict[str, int]) -> None:
        """Residence permit after the minimum residence, for households without local hukou."""
        if (
            ctx.places.permit_on[self.place] == 1
            and self.hukou_place != self.place
            and self.permit == 0
            and 12 * years + 6 >= ctx.places.permit_months[self.place]
            and u < ctx.par.permit_takeup
        ):
            self.permit = 1
            tally["permits"] += self.persons

    def apply_for_hukou(
        self, u: float, years: int, permit_before: int, ctx: YearContext, tally: dict[str, int]
    ) -> None:
        """Apply where the city's rule allows; settle with the logit probability of the net
        benefit (:mod:`urbsim.engines.mesa_settlement`)."""
        b = ctx.par
        if u >= b.hukou_apply_rate:
            return
        local = self.hukou_place == self.place
        if not settlement.may_apply(
            ctx.rule[self.place], local, years, ctx.places.min_years[self.place]
        ):
            return
        # Entitlement as it stood at the start of the year (a permit issued this year counts
        # from next year).
        permit_now, years_now = self.permit, self.years_here
        self.permit, self.years_here = permit_before, years
        access = self.access_at(self.place, ctx)
        self.permit, self.years_here = permit_now, years_now
        gain = settlement.benefit(
            access, self.place, self.hukou_place, self.children, local, b, ctx.places
        )
        loss = settlement.cost(
            self.hh_id, self.hukou_place, self.hukou_type, self.land, self.place, b, ctx.places
        )
        p = settlement.probability(gain - loss, b.hukou_logit_scale)
        if not rng_py.uniform(ctx.key, self.hh_id, L.DRAW_SETTLE_ACCEPT) < p:
            return
        if ctx.rule[self.place] == "points":
            self.points_applicant = True
            return
        self.take_local_hukou(ctx)
        tally["local_conversions" if local else "settled"] += self.persons

    def take_local_hukou(self, ctx: YearContext) -> None:
        """Transfer the hukou here as non-agricultural; the permit lapses, and the land rights
        where the policy makes their surrender a condition of settling."""
        surrender = ctx.places.surrender[self.place]
        self.hukou_place = self.place
        self.hukou_type = NON_AGRICULTURAL
        if surrender:
            self.land = 0
        self.permit = 0
        # At the hukou place now: no longer away.
        self.years_away, self.left_behind, self.match = 0, 0, 0

    def settle_move(self, tally: dict[str, int], province: list[int], flows: np.ndarray) -> None:
        """Apply the move decided this year (all households move together), counting it in
        ``tally`` and, when it changes place, in the province flows ``flows[origin,
        destination]`` (households, persons)."""
        if (self.next_place, self.next_zone) == (self.place, self.zone):
            return
        tally["moves"] += 1
        if self.job_ended:
            tally["job_end_movers"] += self.persons
        origin, destination = province[self.place], province[self.next_place]
        if destination != origin:
            tally["province_moves"] += 1
        if self.next_place == self.hukou_place:
            tally["returns"] += 1
            if self.place != self.hukou_place:
                tally["return_migrants"] += self.persons
        if self.next_zone == URBAN and self.zone == RURAL:
            tally["urban_in"] += self.persons
        elif self.next_zone == RURAL and self.zone == URBAN:
            tally["urban_out"] += self.persons
        if self.next_place != self.place:
            flows[origin, destination, L.F_HOUSEHOLDS] += 1
            flows[origin, destination, L.F_PERSONS] += self.persons
        self.place, self.zone = self.next_place, self.next_zone
        self.years_here = 0
        self.permit = 0

    def points(self, par: ParamsRecord) -> float:
        """Settlement points: education and years of residence."""
        return par.points_education * self.education + par.points_years * self.years_here


#: Tally keys of a year and the counter each one fills.
_COUNTERS = {
    "births": L.C_BIRTHS,
    "deaths": L.C_DEATHS,
    "moves": L.C_MOVES,
    "settled": L.C_SETTLED,
    "insitu": L.C_INSITU,
    "requisition": L.C_REQUISITION,
    "permits": L.C_PERMITS,
    "dissolved": L.C_DISSOLVED,
    "considered": L.C_CONSIDERED,
    "province_moves": L.C_PROVINCE_MOVES,
    "returns": L.C_RETURNS,
    "urban_births": L.C_URBAN_BIRTHS,
    "urban_deaths": L.C_URBAN_DEATHS,
    "urban_in": L.C_URBAN_IN,
    "urban_out": L.C_URBAN_OUT,
    "return_migrants": L.C_RETURN_MIGRANTS,
    "left_home": L.C_LEFT_HOME,
    "formed": L.C_FORMED,
    "local_conversions": L.C_LOCAL_CONVERSIONS,
    "hazard_return_migrants": L.C_HAZARD_RETURN_MIGRANTS,
    "job_ends": L.C_JOB_ENDS,
    "job_end_movers": L.C_JOB_END_MOVERS,
}


class MesaEngine:
    """Steps households as :class:`Household` agents of ``model`` (any Mesa model: the agents
    register there, so AgentSet operations work on them), and returns a mirror of their state
    as household arrays after each year.

    Parameters
    ----------
    model
        The Mesa model the agents belong to.
    households
        The households at the start of the run, one agent per row.
    sampling_correction
        False drops the importance-sampling correction of sampled alternatives: only for the
        test that shows what the correction does.
    """

    def __init__(
        self, model: mesa.Model, households: Households, sampling_correction: bool = True
    ) -> None:
        self.model = model
        self.sampling_correction = sampling_correction
        arrays = households.as_dict()
        columns = {name: arrays[name].tolist() for name in FIELDS}
        Household.create_agents(
            model, len(households), hh_id=list(range(len(households))), **columns
        )
        self.households = model.agents_by_type[Household]
        self.last_tally: dict[str, int] = {}
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "moves": lambda m: self.last_tally.get("moves", 0),
                "considered": lambda m: self.last_tally.get("considered", 0),
                "floating_households": lambda m: len(
                    self.households.select(lambda h: h.persons > 0 and h.place != h.hukou_place)
                ),
            }
        )

    def context(self, inputs: YearInputs) -> YearContext:
        """The year's inputs as plain Python values, and the earlier migrants by hukou place
        (grouped from the agents themselves, not taken from the model's count)."""
        floating = self.households.select(lambda h: h.persons > 0 and h.place != h.hukou_place)
        migrants_from = {
            int(origin): sorted(group, key=lambda h: h.hh_id)
            for origin, group in floating.groupby("hukou_place")
        }
        places = inputs.places
        return YearContext(
            key=rng_py.year_key(inputs.seed, inputs.year),
            year=inputs.year,
            par=inputs.par,
            places=type(places)(*(values.tolist() for values in places)),
            rule=[_RULES[r] for r in places.rule.tolist()],
            gravity=inputs.gravity_cdf.tolist(),
            migrants_from=migrants_from,
            network=inputs.network,
            network_province=inputs.network_province,
            access=inputs.access.tolist(),
            sampling_correction=self.sampling_correction,
            fertility=inputs.vital.fertility.tolist(),
            mortality=inputs.vital.mortality.tolist(),
            leaving=inputs.vital.leaving.tolist(),
        )

    def step(self, inputs: YearInputs, households: Households) -> StepResult:
        """All household behaviour of ``inputs.year``. The agents are this engine's state;
        ``households`` (last year's mirror) only has to match them in length."""
        if len(households) != len(self.households):
            raise ValueError(f"{len(households)} households given, {len(self.households)} agents")
        ctx = self.context(inputs)
        tally = dict.fromkeys(_COUNTERS, 0)
        self.households.do("live_year", ctx, tally)
        n_prov = max(ctx.places.province, default=0) + 1
        flows = np.zeros((n_prov, n_prov, L.N_FLOW), dtype=np.int64)
        self.households.do("settle_move", tally, ctx.places.province, flows)
        quota = inputs.quota.copy()
        settled = self.settle_points(ctx, quota)
        tally["formed"] = self.form_households()
        self.last_tally = tally
        self.datacollector.collect(self.model)
        counters = np.zeros(L.N_COUNT, dtype=np.int64)
        for name, index in _COUNTERS.items():
            counters[index] = tally[name]
        return StepResult(self.mirror(), counters, settled, quota, flows)

    def settle_points(self, ctx: YearContext, quota: list[float] | np.ndarray) -> int:
        """Rank points applicants per city and grant hukou within the quota (persons), which
        is reduced in place; returns the persons granted."""
        gov = ctx.places.gov
        applicants = self.households.select(lambda h: h.points_applicant)
        ranked = sorted(
            applicants,
            key=lambda h: (
                gov[h.place],
                -h.points(ctx.par),
                rng_py.uniform(ctx.key, h.hh_id, L.DRAW_POINTS),
                h.hh_id,
            ),
        )
        full: set[int] = set()
        granted = 0
        for h in ranked:
            h.points_applicant = False
            city = gov[h.place]
            if city in full:
                continue
            need = float(h.persons) * ctx.par.households_per_agent
            if quota[city] >= need:
                quota[city] -= need
                h.take_local_hukou(ctx)
                granted += h.persons
            else:
                full.add(city)
        return granted

    def form_households(self) -> int:
        """Households of those who left home this year, as new agents with the next ids.

        Parents in id order, their leavers youngest first: the first leaver of a place starts
        a household at the parents' place and zone, with their hukou, land rights, permit and
        the head's education, all as they were at the start of the year (when it left), and the
        next leaver of that place and zone joins it as the partner.
        Returns the households formed.
        """
        pending: dict[tuple[int, int], Household] = {}
        next_id = len(self.households)
        formed = 0
        for parent in sorted(self.households, key=lambda h: h.hh_id):
            for age in parent.leaving_ages:
                start = parent.left_from
                where = (start["place"], start["zone"])
                partner = pending.pop(where, None)
                if partner is not None:
                    partner.persons += 1
                    continue
                fields = dict.fromkeys(FIELDS, 0)
                fields.update({name: start[name] for name in _INHERITED})
                fields["head_age"] = age + 1
                fields["years_here"] = min(start["years_here"], age + 1)
                fields["years_away"] = min(start["years_away"], age + 1)
                fields["persons"] = 1
                pending[where] = Household(self.model, next_id + formed, **fields)
                formed += 1
            parent.leaving_ages = []
        return formed

    def mirror(self) -> Households:
        """The agents' state as household arrays (row = ``hh_id``)."""
        agents = sorted(self.households, key=lambda h: h.hh_id)
        return Households(
            **{
                name: np.fromiter(
                    (getattr(h, name) for h in agents), dtype=field.dtype, count=len(agents)
                )
                for name, field in FIELDS.items()
            }
        )
