"""The urbanization model: places, governments and households stepped once a year.

Step order of a year (the one place it is written down; ``docs/ODD.md`` follows it):

1. the central government puts the year's policy in force (settlement rules by the size class
   each city has at the start of the year, permits, funding base, programmes, growth poles);
2. places update productivity, the job base, wages, jobs and employment, housing cost and stock;
3. local governments decide their settlement openness and investment effort (when local
   responses are on), raise revenue, receive transfers and land income, borrow under their debt
   ceiling, run and build service capacity by type and fund programmes, and set the year's
   points quotas; the entitlement and capacity gaps and the service quality of each place
   follow;
4. households live their year (engine ``numba`` or ``mesa``, identical by construction): deaths,
   births, leaving home and ageing, moves, in-situ urbanization, residence permits, hukou; the
   young adults who left home form households, appended after the existing ones;
5. households are counted into places and the year is recorded.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import mesa
import numpy as np
import pandas as pd

from urbsim.constants_cache import ConstantsCache
from urbsim.dynamics import demography, economy, finance, indicators, labour
from urbsim.dynamics.destination_constants import (
    UnattainableShares,
    mover_utilities,
    sending_weights,
)
from urbsim.dynamics.series import interpolate
from urbsim.engines.base import HouseholdEngine
from urbsim.errors import InputError
from urbsim.governments import CentralGovernment, LocalGovernment
from urbsim.inputs import ParamsRecord, PlaceRecord, YearInputs, make_params, place_inputs
from urbsim.kernels import aggregate as A
from urbsim.kernels import gravity as G
from urbsim.kernels import layout as L
from urbsim.kernels.demography import expected_events
from urbsim.kernels.migrants import count_migrants
from urbsim.kernels.start_match import start_match
from urbsim.output import columns
from urbsim.places import Place, set_counts, size_classes
from urbsim.scenario import LoadedScenario
from urbsim.scenario.load import check_codes_in_world
from urbsim.scenario.places import PlaceIndex, index_from_columns
from urbsim.scenario.schema import MAX_ACCESS_YEARS
from urbsim.state import LocalState, PlaceState, PolicyArrays
from urbsim.world import KINDS, REGIONS, SIZE_CLASSES, World
from urbsim.world.away import AWAY_GROWTH
from urbsim.world.base import MigrantStock


def build_world(loaded: LoadedScenario) -> World:
    """The world a scenario names, with households drawn from the scenario's seed."""
    cfg = loaded.scenario.world
    if cfg.name == "china-synthetic":
        from urbsim.world.synthetic import build_synthetic_world

        return build_synthetic_world(cfg.households_per_agent, seed=loaded.scenario.seed)
    from urbsim.world.census import load_census_world

    return load_census_world(cfg.world_file, cfg.households_per_agent, seed=loaded.scenario.seed)


class UrbanizationModel(mesa.Model):
    """China's county-level places, their governments and households, one step per year.

    Parameters
    ----------
    loaded
        A validated scenario (:func:`urbsim.scenario.load_scenario`).
    world
        The starting world; built from the scenario when omitted.
    constants_cache
        Where the destination constants, when the scenario uses them, are looked up before
        they are fitted, and kept after (:mod:`urbsim.constants_cache`); none by default.
        Either way they are the same to the last bit.

    Attributes
    ----------
    year : int
        The last year simulated (the start year before the first step).
    places : mesa.agent.AgentSet
        The :class:`~urbsim.places.Place` agents.
    households : urbsim.households.Households
        Household arrays (the Numba engine's state; the Mesa engine mirrors its agents here).
    """

    #: Alignment factors of fertility and mortality in the last year aligned (none before the
    #: first year; kept after the last year of the scenario's crude-rate series).
    birth_scale: float | None = None
    death_scale: float | None = None

    def __init__(
        self,
        loaded: LoadedScenario,
        world: World | None = None,
        constants_cache: ConstantsCache | None = None,
    ) -> None:
        if not isinstance(loaded, LoadedScenario):
            # A dict or a Scenario would fail later with an obscure AttributeError.
            raise TypeError(
                "UrbanizationModel needs a LoadedScenario (from urbsim.load_scenario(path) or "
                f"urbsim.scenario.validate(table)), got {type(loaded).__name__}"
            )
        scenario = loaded.scenario
        super().__init__(rng=np.random.default_rng(scenario.seed))
        self.loaded = loaded
        self.spec = scenario
        self.start_year = scenario.start_year
        self.end_year = scenario.end_year
        self.year = scenario.start_year
        self.world = world if world is not None else build_world(loaded)
        #: Where fitted destination constants are kept and looked up (none by default).
        self.constants_cache = (
            constants_cache if constants_cache is not None else ConstantsCache(None)
        )
        self.place_table = self.world.places
        self.households = self.world.households
        self.hpa = float(self.world.households_per_agent)
        table = self.place_table
        n = len(table)
        self.n_places = n
        prefs, self.gov_of_place = np.unique(table.prefecture_code, return_inverse=True)
        self.gov_of_place = self.gov_of_place.astype(np.int64)
        self.n_gov = len(prefs)
        self.place_index = self._place_index(loaded)
        self.province_codes, province = np.unique(table.province_code, return_inverse=True)
        self.province_of_place = province.astype(np.int64)
        self.lat = np.radians(table.lat)
        self.lon = np.radians(table.lon)

        self.place_state = PlaceState.zeros(n)
        self.local_state = LocalState.zeros(self.n_gov)
        self._create_agents(prefs)
        self.size_class = np.zeros(n, dtype=np.int8)
        self.policy_arrays: PolicyArrays
        self.wage_index = 1.0
        base = np.asarray(scenario.economy.wage_2010.as_tuple())[table.region]
        self._mean_wage_2010 = float(
            np.average(base, weights=np.maximum(table.urban_residents, 1.0))
        )
        #: Urban residents of each region at the start: the weights of the regional demand path.
        self._region_weights = np.bincount(
            table.region, weights=table.urban_residents, minlength=len(REGIONS)
        )
        self._net: np.ndarray | None = None
        self._net8: np.ndarray | None = None
        #: Floating households grouped by hukou place at the last count (``origin_start``,
        #: ``origin_members`` of :func:`urbsim.kernels.aggregate.origin_index`): every engine
        #: step is followed by a count, so it describes the households the engine receives.
        self.origin: tuple[np.ndarray, np.ndarray] | None = None
        #: Floating agent households by (hukou province, current place) at the last count.
        self.network_province = np.zeros((0, n), dtype=np.int32)
        self._gravity_decay: np.ndarray | None = None
        self._spillover_cache: tuple[bytes, np.ndarray] | None = None
        self.counters = np.zeros(L.N_COUNT, dtype=np.int64)
        self.flows = np.zeros((0, 0, L.N_FLOW), dtype=np.int64)  # the last year's (StepResult)
        self._flow_frames: list[pd.DataFrame] = []
        self.points_conversions = 0
        self._national_rows: list[dict[str, float]] = []
        self._place_frames: list[dict[str, np.ndarray]] = []

        self._count()
        self._prev_urban = self.place_state.urban_residents.copy()
        # The start year's towns have the infrastructure of the urban residents they have.
        self.place_state.infrastructure_served[:] = self.place_state.urban_residents
        self._start_year_updates(first=True)
        #: Destination constants (util) for movers from the province (row 0) and others (1).
        self.entry_constant = self._destination_constants()
        self._start_matches()
        self._record()
        self.engine = self._make_engine(scenario.engine)

    # --- helpers ----------------------------------------------------------------------------
    def _start_matches(self) -> None:
        """The start year's migrants' matches with their places, given their being away
        (:mod:`urbsim.kernels.start_match`), on the start year's places and count."""
        assert self.origin is not None
        self.households.match[:] = start_match(
            self.households.as_dict(),
            self._year_places(self.entry_of_year()),
            self._year_params(),
            self.policy_arrays.access,
            self.network,
            self.network_province,
            *self.origin,
            *self.gravity_proposal(),
            self.spec.seed,
            AWAY_GROWTH,
        )

    def _create_agents(self, prefectures: np.ndarray) -> None:
        """The Mesa agents backed by the state arrays: a place per place, a local government
        per prefecture (``prefectures``: their codes) and the central government."""
        Place.create_agents(self, self.n_places, place_id=list(range(self.n_places)))
        self.places = self.agents_by_type[Place]
        LocalGovernment.create_agents(
            self,
            self.n_gov,
            gov_id=list(range(self.n_gov)),
            prefecture_code=[int(c) for c in prefectures],
        )
        self.central = CentralGovernment(self)

    def _place_index(self, loaded: LoadedScenario) -> PlaceIndex:
        """Codes of the places, for the policies that name provinces, prefectures and places;
        a code that neither this world nor the census of 2010 holds is a ScenarioError."""
        t = self.place_table
        index = index_from_columns(
            t.code, t.name, t.prefecture_code, t.province_code, world=self.world.name
        )
        check_codes_in_world(loaded, index)
        return index

    def _make_engine(self, name: str) -> HouseholdEngine:
        if name == "numba":
            from urbsim.engines.numba_engine import NumbaEngine

            return NumbaEngine()
        from urbsim.engines.mesa_engine import MesaEngine

        return MesaEngine(self, self.households)

    def _count(self) -> None:
        """Count households into places (step 5)."""
        # Count permit holders by years up to the longest schedule a scenario may give, so a
        # timeline that lengthens the schedule needs no recount.
        access_len = MAX_ACCESS_YEARS
        # The last count's origin index is the year's input, used by now: dropped before the
        # new one is built, so the two are never held together (the count is the run's peak).
        self.origin = None
        c = A.count_households(
            self.households.as_dict(), self.n_places, access_len, self._net, self._net8
        )
        self.counts, self.acc_all, self.acc_urban = c.counts, c.acc_all, c.acc_urban
        children, elderly = A.count_service_users(
            self.households.as_dict(), self.n_places, access_len
        )
        #: Urban users of each service type by place and access category (agents).
        self.service_users = {"education": children, "health": c.acc_urban, "elderly": elderly}
        self._net, self._net8 = c.net, c.net8
        self.origin = (c.origin_start, c.origin_members)
        self.network_province = A.province_network(
            c.origin_start, self.households.place[c.origin_members], self.province_of_place
        )
        set_counts(self.place_state, self.counts, self.hpa)
        self.migrants = count_migrants(
            self.households.as_dict(), self.province_of_place, self.n_places
        )

    @property
    def network(self) -> np.ndarray:
        """Floating agent households by (hukou place, current place) at the last count."""
        assert self._net is not None
        return self._net

    @property
    def network8(self) -> np.ndarray:
        """:attr:`network` saturated at 255, as ``uint8`` (what the Numba kernel looks up)."""
        assert self._net8 is not None
        return self._net8

    def _start_year_updates(self, first: bool = False) -> None:
        """Steps 1-3 of a year."""
        year = self.year if first else self.year + 1
        ps = self.place_state
        eco = self.spec.economy
        index_growth = 1.0
        if not first:
            index_growth = 1.0 + interpolate(eco.wage_growth, year)
            self.wage_index *= index_growth
            prev = np.maximum(self._prev_urban, 1.0)
            ps.urban_growth[:] = (ps.urban_residents - self._prev_urban) / prev
            self._prev_urban = ps.urban_residents.copy()
        self.size_class = size_classes(
            self.place_table, ps.urban_residents, self.gov_of_place, self.n_gov
        )
        self.central.apply_policy(year)
        policy = self.central.policy
        if policy.county_town.budget > 0 and self.central.pilots.size == 0:
            self.central.pilots = self.central.select_pilots()
        economy.update_places(
            ps,
            self.place_table,
            eco,
            self.policy_arrays,
            policy,
            self.wage_index,
            self._mean_wage_2010,
            self._pole_spillover(),
            first,
            demand=labour.regional_demand_index(eco, self._region_weights, self.start_year, year),
            index_growth=index_growth,
            size_class=self.size_class,
        )
        prog, subsidy = economy.update_governments(
            ps,
            self.local_state,
            self.place_table,
            eco,
            self.policy_arrays,
            policy,
            self.service_users,
            self.hpa,
            self.wage_index,
            self.gov_of_place,
            self.n_gov,
            self.central.pilots,
            year,
            first=first,
        )
        self.central.programme_spending = prog
        self.central.renewal_subsidy = subsidy

    # --- the yearly step --------------------------------------------------------------------
    def step(self) -> None:
        """Advance the model by one year."""
        if self.year >= self.end_year:
            raise RuntimeError(f"the run ends in {self.end_year}")
        self._start_year_updates()
        self.year += 1
        result = self.engine.step(self.year_inputs(), self.households)
        self.households = result.households
        if self.world.households is not self.households:
            # The world describes the start but must not keep the start's arrays alive once the
            # households have grown into new buffers (the state would be held twice).
            self.world = dataclasses.replace(self.world, households=self.households)
        self.local_state.quota_left[:] = result.quota_left
        self.counters, self.points_conversions = result.counters, result.settled
        self.flows = result.flows
        self._count()
        self._record()
        self._flow_frames.append(
            indicators.flows_frame(self.year, self.flows, self.province_codes, self.hpa)
        )

    def run(self, progress: Any = None, until: int | None = None) -> None:
        """Step to the end year, or to ``until`` when given (an earlier stop of the same run).

        ``progress(years_done, years_total, households)`` is called after each year if given.
        Stopping early changes nothing in the years simulated: a sweep that keeps outputs up to
        2018 only can stop there and get the same numbers as the full run.
        """
        last = self.end_year if until is None else until
        if not self.year <= last <= self.end_year:
            raise ValueError(f"until={until} is outside the run ({self.year}-{self.end_year})")
        total = last - self.start_year
        while self.year < last:
            self.step()
            if progress is not None:
                progress(self.year - self.start_year, total, len(self.households))

    # --- inputs for the household engines -----------------------------------------------------
    def _year_params(self) -> ParamsRecord:
        """The :data:`urbsim.inputs.Params` record of the run."""
        spec = self.spec
        return make_params(
            spec.behaviour,
            households_per_agent=self.hpa,
            requisition_share=spec.demography.requisition_share,
            service_base_access=spec.economy.service_base_access,
            seed=spec.seed,
        )

    def _year_places(self, entry_constant: np.ndarray) -> PlaceRecord:
        """The :data:`urbsim.inputs.PlaceInputs` of :attr:`year`."""
        geography = {
            "lat": self.lat,
            "lon": self.lon,
            "region": self.place_table.region,
            "province": self.province_of_place,
            "gov": self.gov_of_place,
        }
        return place_inputs(
            self.spec,
            self.year,
            self.place_state,
            self.policy_arrays,
            geography,
            self._mean_wage_2010,
            entry_constant,
        )

    @functools.cached_property
    def start_migrants(self) -> MigrantStock:
        """The start year's in- and out-migrants of every place that the destination constants
        match: the world's where it has them, else those of the households (persons). Counted
        when first read (a run without constants never needs them), which must be before the
        first step.

        Raises
        ------
        RuntimeError
            When first read after the first step.
        """
        if self.world.migrant_stock is not None:
            return self.world.migrant_stock
        if self.year != self.start_year:
            raise RuntimeError("the start year's migrants are counted before the first step")
        hh, n = self.households, self.n_places
        away = hh.place != hh.hukou_place
        place, hukou = hh.place[away], hh.hukou_place[away]
        persons = hh.persons[away].astype(np.float64)
        across = self.province_of_place[place] != self.province_of_place[hukou]
        return MigrantStock(
            in_migrants=np.stack(
                [np.bincount(place, persons * ~across, n), np.bincount(place, persons * across, n)]
            ),
            out_migrants=np.bincount(hukou, persons, n),
        )

    def mover_utilities(self) -> np.ndarray:
        """Utility of every destination for a mover at its hukou place, by the observed terms
        under :attr:`year`'s places and the last count's network
        (:func:`urbsim.dynamics.destination_constants.mover_utilities`; ``(n, n)``)."""
        return mover_utilities(
            self._year_params(),
            self._year_places(np.zeros((2, self.n_places))),
            self.network,
            self.network_province,
        )

    def fit_destination_constants(self) -> np.ndarray:
        """The destination constants this model's parameters and start-year migrants give
        (:mod:`urbsim.dynamics.destination_constants`), whether or not the scenario uses
        them: ``(2, n)`` util, fitted on the compiled weights of the places that send
        (:func:`~urbsim.dynamics.destination_constants.sending_weights`).

        Raises
        ------
        urbsim.dynamics.destination_constants.UnattainableShares
            When the start-year stock is out of any constants' reach.
        ValueError
            When the solution does not converge at these parameters.
        """
        return self.constants_cache.fit(*self.constants_inputs())

    def constants_inputs(
        self,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The arguments of :func:`~urbsim.dynamics.destination_constants.fit_constants` for
        this model: the senders' weights, the places' province codes, the start year's out-
        and in-migrants, the places' codes (as :meth:`fit_destination_constants` fits them)."""
        stock = self.start_migrants
        weights = sending_weights(
            self._year_params(),
            self._year_places(np.zeros((2, self.n_places))),
            self.network,
            self.network_province,
            stock.out_migrants,
        )
        t = self.place_table
        return weights, t.province_code, stock.out_migrants, stock.in_migrants, t.code

    def _destination_constants(self) -> np.ndarray:
        """Each place's destination constants (:meth:`fit_destination_constants`), zero
        unless the scenario sets them.

        Raises
        ------
        urbsim.errors.InputError
            When the contraction does not converge at the scenario's parameters.
        """
        if not self.spec.behaviour.destination_constants:
            return np.zeros((2, self.n_places))
        try:
            return self.fit_destination_constants()
        except UnattainableShares as exc:
            # The world's migrant stock, not the parameters, is out of the logit's reach.
            raise InputError(
                f"behaviour.destination_constants: world {self.world.name!r}: {exc}; run "
                "without destination constants or with a world whose migrants add up"
            ) from exc
        except ValueError as exc:
            # The scenario's parameters ask for what cannot be fitted: the user's to change.
            raise InputError(
                f"behaviour.destination_constants: {exc}; run with other parameters or without "
                "destination constants"
            ) from exc

    def entry_of_year(self) -> np.ndarray:
        """The destination constants in force in :attr:`year`: those fitted at the start, the
        across scope (row 1) less ``behaviour.entry_across_trend`` per year since the start
        year, up to ``behaviour.entry_across_trend_end`` (docs/ODD.md 7.13, "Destination
        constants").

        Returns
        -------
        numpy.ndarray
            ``(2, n_places)`` float64, within (row 0) and across (row 1) scopes.
        """
        b = self.spec.behaviour
        years = max(min(self.year, b.entry_across_trend_end) - self.start_year, 0)
        entry = self.entry_constant.copy()
        entry[1] -= b.entry_across_trend * years
        return entry

    def year_inputs(self) -> YearInputs:
        """What the household engines read to live :attr:`year` (the policy, places and
        budgets of the year are in force; the last count describes the households)."""
        assert self.origin is not None
        spec = self.spec
        pa = self.policy_arrays
        par = self._year_params()
        places = self._year_places(self.entry_of_year())
        cdf, guide = self.gravity_proposal()
        return YearInputs(
            year=self.year,
            seed=spec.seed,
            par=par,
            places=places,
            access=pa.access,
            gravity_cdf=cdf,
            gravity_guide=guide,
            network=self.network,
            network8=self.network8,
            network_province=self.network_province,
            origin_start=self.origin[0],
            origin_members=self.origin[1],
            quota=self.local_state.quota_left.copy(),
            vital=self.vital_rates(places.fertility_factor),
        )

    @functools.cached_property
    def vital_base(self) -> demography.VitalRates:
        """The scenario's schedules before alignment (:mod:`urbsim.dynamics.demography`)."""
        return demography.base_schedules(self.spec.demography)

    def vital_rates(self, fertility_factor: np.ndarray) -> demography.VitalRates:
        """The schedules of :attr:`year`, aligned so that the households at the start of the
        year expect the scenario's crude birth and death rates (see
        :mod:`urbsim.dynamics.demography`); the factors are kept in :attr:`birth_scale` and
        :attr:`death_scale`."""
        dem = self.spec.demography
        base = self.vital_base
        hh = self.households
        births, deaths, persons = expected_events(
            hh.zone,
            hh.place,
            hh.head_age,
            hh.kids,
            hh.persons,
            base.fertility,
            base.mortality,
            fertility_factor,
        )
        aligned = self.birth_scale is not None
        self.birth_scale = demography.alignment_scale(
            demography.target_rate(dem.birth_rate, self.year, aligned),
            births,
            persons,
            self.birth_scale,
        )
        self.death_scale = demography.alignment_scale(
            demography.target_rate(dem.death_rate, self.year, aligned),
            deaths,
            persons,
            self.death_scale,
        )
        return demography.scaled(base, self.birth_scale, self.death_scale)

    def _pole_spillover(self) -> np.ndarray:
        """Wage multiplier from growth poles, recomputed only when the set of poles changes
        (a places-by-poles distance matrix costs more than the rest of the year's updates)."""
        pole = self.policy_arrays.pole
        key = pole.tobytes()
        if self._spillover_cache is None or self._spillover_cache[0] != key:
            eco = self.spec.economy
            value = labour.pole_spillover(
                self.lat, self.lon, pole, eco.pole_spillover, eco.pole_radius_km
            )
            self._spillover_cache = (key, value)
        return self._spillover_cache[1]

    def gravity_proposal(self) -> tuple[np.ndarray, np.ndarray]:
        """The year's gravity proposal of candidate places: cumulative weights, one ``float32``
        row per place of origin (:func:`urbsim.kernels.gravity.gravity_rows`), and their guide
        tables. The distance part is fixed for the run and computed once; the sizes are the
        urban residents at the start of the year."""
        b = self.spec.behaviour
        if self._gravity_decay is None:
            self._gravity_decay = G.distance_decay(
                self.lat, self.lon, b.distance_floor_km, b.gravity_distance_exponent
            )
        size = np.maximum(self.place_state.urban_residents, 1.0) ** b.gravity_size_exponent
        cdf = G.gravity_rows(self._gravity_decay, size)
        buckets = G.guide_buckets(len(self.households), self.n_places)
        return cdf, G.gravity_guide(cdf, buckets)

    # --- recording ----------------------------------------------------------------------------
    def _record(self) -> None:
        ps = self.place_state
        row: dict[str, float] = {"year": self.year}
        row.update(
            indicators.national_row(
                self.counts, ps, self.local_state, self.place_table, self.hpa, self.size_class
            )
        )
        row.update(finance.national_finance(self.local_state))
        c = self.counters
        hpa = self.hpa
        settled = c[L.C_SETTLED] + self.points_conversions
        local = c[L.C_LOCAL_CONVERSIONS] + c[L.C_REQUISITION]
        row["hukou_conversions"] = float((settled + local) * hpa)
        row["settled_migrants"] = float(settled * hpa)
        row["local_conversions"] = float(local * hpa)
        row["points_conversions"] = float(self.points_conversions * hpa)
        row["requisition_conversions"] = float(c[L.C_REQUISITION] * hpa)
        row["insitu_reclassified"] = float(c[L.C_INSITU] * hpa)
        row["births"] = float(c[L.C_BIRTHS] * hpa)
        row["households_formed"] = float(c[L.C_FORMED] * hpa)
        row["deaths"] = float(c[L.C_DEATHS] * hpa)
        row["moves"] = float(c[L.C_MOVES] * hpa)
        row["moves_considered"] = float(c[L.C_CONSIDERED] * hpa)
        row["province_moves"] = float(c[L.C_PROVINCE_MOVES] * hpa)
        row["return_moves"] = float(c[L.C_RETURNS] * hpa)
        row["permits_issued"] = float(c[L.C_PERMITS] * hpa)
        row.update(indicators.migration_row(c, self.migrants, hpa))
        row["public_spending"] = float(
            ps.spending.sum()
            + self.central.programme_spending
            + self.local_state.programme_bonds.sum()
            + self.central.renewal_subsidy
            + self.local_state.renewal_cost.sum()
        )
        row["agents"] = float(len(self.households))
        self._national_rows.append(row)
        self._place_frames.append(
            {
                "residents": ps.residents.copy(),
                "urban_residents": ps.urban_residents.copy(),
                "hukou_residents": ps.hukou_residents.copy(),
                "registered_population": ps.registered_population.copy(),
                "floating_residents": ps.floating_residents.copy(),
                "permit_holders": ps.permit_holders.copy(),
                "wage": ps.wage.copy(),
                "housing_cost": ps.housing_cost.copy(),
                "service_capacity": ps.service_capacity.copy(),
                "service_demand": ps.service_demand.copy(),
                "service_users": ps.education_users + ps.health_users + ps.elderly_users,
                "service_gap": ps.entitlement_gap + ps.capacity_gap,
                "entitlement_gap": ps.entitlement_gap.copy(),
                "capacity_gap": ps.capacity_gap.copy(),
                "employment_rate": ps.employment.copy(),
                "amenity": ps.amenity.copy(),
                "settlement_min_years": np.where(
                    self.policy_arrays.rule == L.RULE_OPEN, 0, self.policy_arrays.min_years
                ).astype(np.float64),
                "points_quota": np.where(
                    self.policy_arrays.rule == L.RULE_POINTS, self.policy_arrays.quota_per_10k, 0.0
                ),
                "openness": self.local_state.openness[self.gov_of_place],
                "settlement_relaxed": self.policy_arrays.relaxed.astype(np.float64),
                **indicators.place_migrants(self.migrants, hpa),
                "size_class_code": self.size_class.copy(),
            }
        )

    def national_table(self) -> pd.DataFrame:
        """One row per year recorded so far, columns as :data:`urbsim.output.columns.NATIONAL`."""
        df = pd.DataFrame(self._national_rows)
        df["year"] = df["year"].astype(np.int64)
        return columns.order_columns(df, columns.NATIONAL, "national")

    def flows_table(self) -> pd.DataFrame:
        """Moves between places by province of origin and destination, one row per province
        pair and simulated year, columns as :data:`urbsim.output.columns.FLOWS`."""
        if not self._flow_frames:
            return indicators.flows_frame(
                self.year, np.zeros((0, 0, L.N_FLOW), dtype=np.int64), self.province_codes, 1.0
            )
        df = pd.concat(self._flow_frames, ignore_index=True)
        return columns.order_columns(df, columns.FLOWS, "flows")

    def places_table(self) -> pd.DataFrame:
        """One row per place and year recorded so far, columns as
        :data:`urbsim.output.columns.PLACES`."""
        t = self.place_table
        n = self.n_places
        years = range(self.start_year, self.start_year + len(self._place_frames))
        static = {
            "place_id": np.arange(n, dtype=np.int32),
            "name": t.name.astype(str),
            "province_code": t.province_code.astype(np.int16),
            "prefecture_code": t.prefecture_code.astype(np.int32),
            "region": np.asarray(REGIONS, dtype=object)[t.region],
            "kind": np.asarray(KINDS, dtype=object)[t.kind],
            "lon": t.lon,
            "lat": t.lat,
        }
        frames = []
        for year, rec in zip(years, self._place_frames, strict=True):
            cols: dict[str, Any] = {"year": np.full(n, year, dtype=np.int64)}
            cols.update(static)
            code = rec["size_class_code"]
            cols["size_class"] = np.asarray(SIZE_CLASSES, dtype=object)[code]
            cols.update({k: v for k, v in rec.items() if k != "size_class_code"})
            frames.append(pd.DataFrame(cols))
        df = pd.concat(frames, ignore_index=True)
        for col in ("name", "region", "kind", "size_class"):
            df[col] = df[col].astype(str)
        return columns.order_columns(df, columns.PLACES, "places")
