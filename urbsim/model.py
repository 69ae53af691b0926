"""The urbanization model: places, governments and households stepped once a year.

Step order of a year (the one place it is written down; ``docs/ODD.md`` follows it):

1. the central government puts the year's policy in force (settlement rules by the size class
   each city has at the start of the year, permits, funding base, programmes, growth poles);
2. places update wages, jobs and employment, housing cost and stock;
3. local governments raise revenue, receive transfers, borrow, fund services and programmes, and
   set the year's points quotas; the service quality of each place follows;
4. households live their year (engine ``numba`` or ``mesa``, identical by construction): births
   and deaths, moves, in-situ urbanization, residence permits, hukou;
5. households are counted into places and the year is recorded.
"""

from __future__ import annotations

from typing import Any

import mesa
import numpy as np
import pandas as pd

from urbsim import economy
from urbsim.governments import CentralGovernment, LocalGovernment, LocalState, PolicyArrays
from urbsim.kernels import aggregate as A
from urbsim.kernels import layout as L
from urbsim.places import Place, PlaceState, distances_km, size_classes
from urbsim.scenario import LoadedScenario
from urbsim.scenario.schema import MAX_ACCESS_YEARS
from urbsim.world import KINDS, REGIONS, SIZE_CLASSES, World

_DISTRICT = 0


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

    Attributes
    ----------
    year : int
        The last year simulated (the start year before the first step).
    places : mesa.agent.AgentSet
        The :class:`~urbsim.places.Place` agents.
    households : urbsim.households.Households
        Household arrays (the Numba engine's state; the Mesa engine mirrors its agents here).
    """

    def __init__(self, loaded: LoadedScenario, world: World | None = None) -> None:
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
        self.place_table = self.world.places
        self.households = self.world.households
        self.hpa = float(self.world.households_per_agent)
        table = self.place_table
        n = len(table)
        self.n_places = n
        prefs, self.gov_of_place = np.unique(table.prefecture_code, return_inverse=True)
        self.gov_of_place = self.gov_of_place.astype(np.int64)
        self.n_gov = len(prefs)
        _, self.province_of_place = np.unique(table.province_code, return_inverse=True)
        self.province_of_place = self.province_of_place.astype(np.int64)
        self.lat = np.radians(table.lat)
        self.lon = np.radians(table.lon)
        self._prov_lat = np.radians(
            np.bincount(self.province_of_place, weights=table.lat)
            / np.bincount(self.province_of_place)
        )
        self._prov_lon = np.radians(
            np.bincount(self.province_of_place, weights=table.lon)
            / np.bincount(self.province_of_place)
        )

        self.place_state = PlaceState.zeros(n)
        self.local_state = LocalState.zeros(self.n_gov)
        Place.create_agents(self, n, place_id=list(range(n)))
        self.places = self.agents_by_type[Place]
        LocalGovernment.create_agents(
            self,
            self.n_gov,
            gov_id=list(range(self.n_gov)),
            prefecture_code=[int(c) for c in prefs],
        )
        self.central = CentralGovernment(self)
        self.size_class = np.zeros(n, dtype=np.int8)
        self.policy_arrays: PolicyArrays
        self.wage_index = 1.0
        base = np.asarray(scenario.economy.wage_2010.as_tuple())[table.region]
        self._mean_wage_2010 = float(
            np.average(base, weights=np.maximum(table.urban_residents, 1.0))
        )
        self._net: np.ndarray | None = None
        self._net8: np.ndarray | None = None
        #: Floating households grouped by hukou place at the last count (``origin_start``,
        #: ``origin_members`` of :func:`urbsim.kernels.aggregate.origin_index`), and how many
        #: counts have been made: the Numba engine reuses the index of a count it has not used.
        self.origin: tuple[np.ndarray, np.ndarray] | None = None
        self.count_id = 0
        self._gravity_decay: np.ndarray | None = None
        self._spillover_cache: tuple[bytes, np.ndarray] | None = None
        self.counters = np.zeros(L.N_COUNT, dtype=np.int64)
        self.points_conversions = 0
        self._national_rows: list[dict[str, float]] = []
        self._place_frames: list[dict[str, np.ndarray]] = []

        self._count()
        self._prev_urban = self.place_state.urban_residents.copy()
        self._start_year_updates(first=True)
        self._record()
        self.engine = self._make_engine(scenario.engine)

    # --- helpers ----------------------------------------------------------------------------
    def _make_engine(self, name: str) -> Any:
        if name == "numba":
            from urbsim.engines.numba_engine import NumbaEngine

            return NumbaEngine(self)
        from urbsim.engines.mesa_engine import MesaEngine

        return MesaEngine(self)

    def _count(self) -> None:
        """Count households into places (step 5)."""
        # Count permit holders by years up to the longest schedule a scenario may give, so a
        # timeline that lengthens the schedule needs no recount.
        access_len = MAX_ACCESS_YEARS
        c = A.count_households(
            self.households.as_dict(), self.n_places, access_len, self._net, self._net8
        )
        self.counts, self.acc_all, self.acc_urban = c.counts, c.acc_all, c.acc_urban
        self._net, self._net8 = c.net, c.net8
        self.origin = (c.origin_start, c.origin_members)
        self.count_id += 1
        self.place_state.set_counts(self.counts, self.hpa)

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
        if not first:
            self.wage_index *= 1.0 + economy.interpolate(eco.wage_growth, year)
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
        )
        prog, subsidy = economy.update_governments(
            ps,
            self.local_state,
            self.place_table,
            eco,
            self.policy_arrays,
            policy,
            self.counts,
            self.acc_urban,
            self.hpa,
            self.wage_index,
            self.gov_of_place,
            self.n_gov,
            self.central.pilots,
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
        self.counters, self.points_conversions = self.engine.step(self.year)
        self._count()
        self._record()

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
    def behaviour_vector(self) -> np.ndarray:
        """Behavioural parameters in the layout the kernels read."""
        b = self.spec.behaviour
        d = self.spec.demography
        pa = self.policy_arrays
        par = np.zeros(L.N_PAR)
        par[L.P_MOVE_BASE] = b.move_base
        par[L.P_MOVE_AGE0 : L.P_MOVE_AGE0 + 4] = b.move_age
        par[L.P_TENURE_DECAY] = b.move_tenure_decay
        par[L.P_MOVE_UNEMPLOYED] = b.move_unemployed
        par[L.P_NETWORK_SHARE] = b.network_sampling_share
        par[L.P_D0] = b.distance_scale_km
        par[L.P_BETA_INCOME] = b.beta_income
        par[L.P_BETA_HOUSING] = b.beta_housing
        par[L.P_BETA_SERVICE] = b.beta_service
        par[L.P_CHILD_WEIGHT] = b.child_service_weight
        par[L.P_BETA_DISTANCE] = b.beta_distance
        par[L.P_BETA_PROVINCE] = b.beta_province
        par[L.P_MOVING_COST] = b.moving_cost
        par[L.P_BETA_NETWORK] = b.beta_network
        par[L.P_BETA_AMENITY] = b.beta_amenity
        par[L.P_HOME_PREFERENCE] = b.home_preference
        par[L.P_PERMIT_TAKEUP] = b.permit_takeup
        par[L.P_HUKOU_APPLY] = b.hukou_apply_rate
        par[L.P_LAND_VALUE] = b.land_value
        par[L.P_HUKOU_PREMIUM] = b.hukou_premium
        par[L.P_HPA] = self.hpa
        par[L.P_AGEING] = d.ageing_rate
        par[L.P_REQUISITION] = d.requisition_share
        par[L.P_PERMIT_ON] = 1.0 if pa.permit_on else 0.0
        par[L.P_PERMIT_MONTHS] = float(pa.permit_months)
        par[L.P_BASE_ACCESS] = self.spec.economy.service_base_access
        par[L.P_POINTS_EDUCATION] = b.points_education
        par[L.P_POINTS_YEARS] = b.points_years
        return par

    def place_inputs(self, year: int) -> tuple[np.ndarray, np.ndarray]:
        """Per-place values the households of ``year`` decide on (float and int matrices)."""
        ps = self.place_state
        eco = self.spec.economy
        dem = self.spec.demography
        table = self.place_table
        n = self.n_places
        pf = np.zeros((n, L.N_PF))
        rural_income = eco.rural_income_ratio * ps.wage
        pf[:, L.PF_LOGINC_URBAN] = np.log(ps.wage * ps.employment)
        pf[:, L.PF_LOGINC_RURAL] = np.log(rural_income)
        pf[:, L.PF_LOGCOST_URBAN] = np.log(ps.housing_cost)
        # Rural housing costs the same share of income as urban housing at reference density.
        rural_cost = eco.housing_cost_2010 * eco.rural_income_ratio * ps.wage / self._mean_wage_2010
        pf[:, L.PF_LOGCOST_RURAL] = np.log(rural_cost)
        pf[:, L.PF_QUALITY] = np.minimum(ps.quality, 1.0)
        pf[:, L.PF_AMENITY] = ps.amenity
        pf[:, L.PF_EMPLOY] = ps.employment
        birth = economy.interpolate(dem.birth_rate, year) / 1000.0
        birth = birth * np.asarray(dem.birth_region.as_tuple())[table.region]
        pf[:, L.PF_BIRTH_URBAN] = birth * dem.birth_urban
        pf[:, L.PF_BIRTH_RURAL] = birth * (2.0 - dem.birth_urban)
        pf[:, L.PF_DEATH] = economy.interpolate(dem.death_rate, year) / 1000.0
        pf[:, L.PF_INSITU] = np.clip(
            dem.insitu_base + dem.insitu_growth * np.clip(ps.urban_growth, 0.0, None), 0.0, 1.0
        )
        pf[:, L.PF_LAT] = self.lat
        pf[:, L.PF_LON] = self.lon
        pf[:, L.PF_COSLAT] = np.cos(self.lat)
        pi = np.zeros((n, L.N_PI), dtype=np.int64)
        pi[:, L.PI_PROVINCE] = self.province_of_place
        pi[:, L.PI_RULE] = self.policy_arrays.rule
        pi[:, L.PI_MIN_YEARS] = self.policy_arrays.min_years
        pi[:, L.PI_GOV] = self.gov_of_place
        return pf, pi

    def _pole_spillover(self) -> np.ndarray:
        """Wage multiplier from growth poles, recomputed only when the set of poles changes
        (a places-by-poles distance matrix costs more than the rest of the year's updates)."""
        pole = self.policy_arrays.pole
        key = pole.tobytes()
        if self._spillover_cache is None or self._spillover_cache[0] != key:
            eco = self.spec.economy
            value = economy.pole_spillover(
                self.lat, self.lon, pole, eco.pole_spillover, eco.pole_radius_km
            )
            self._spillover_cache = (key, value)
        return self._spillover_cache[1]

    def gravity_cdf(self) -> np.ndarray:
        """Cumulative gravity weights of every place, one row per province of origin."""
        b = self.spec.behaviour
        if self._gravity_decay is None:
            # Geometry and exponents are fixed for the run: compute the distance decay once.
            d = distances_km(self._prov_lat, self._prov_lon, self.lat, self.lon)
            self._gravity_decay = (1.0 + d / b.distance_scale_km) ** (-b.gravity_distance_exponent)
        size = np.maximum(self.place_state.urban_residents, 1.0) ** b.gravity_size_exponent
        return np.cumsum(size[None, :] * self._gravity_decay, axis=1)

    # --- recording ----------------------------------------------------------------------------
    def _record(self) -> None:
        ps = self.place_state
        row: dict[str, float] = {"year": self.year}
        row.update(
            economy.national_row(
                self.counts,
                self.acc_urban,
                ps,
                self.local_state,
                self.place_table,
                self.policy_arrays,
                self.spec.economy.service_base_access,
                self.hpa,
            )
        )
        c = self.counters
        hpa = self.hpa
        row["hukou_conversions"] = float(
            (c[L.C_CONVERSIONS] + c[L.C_REQUISITION] + self.points_conversions) * hpa
        )
        row["settled_migrants"] = float((c[L.C_CONVERSIONS] + self.points_conversions) * hpa)
        row["points_conversions"] = float(self.points_conversions * hpa)
        row["requisition_conversions"] = float(c[L.C_REQUISITION] * hpa)
        row["insitu_reclassified"] = float(c[L.C_INSITU] * hpa)
        row["births"] = float(c[L.C_BIRTHS] * hpa)
        row["deaths"] = float(c[L.C_DEATHS] * hpa)
        row["moves"] = float(c[L.C_MOVES] * hpa)
        row["moves_considered"] = float(c[L.C_CONSIDERED] * hpa)
        row["province_moves"] = float(c[L.C_PROVINCE_MOVES] * hpa)
        row["return_moves"] = float(c[L.C_RETURNS] * hpa)
        row["permits_issued"] = float(c[L.C_PERMITS] * hpa)
        row["public_spending"] = float(
            ps.spending.sum()
            + self.central.programme_spending
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
                "service_gap": economy.place_service_gap(
                    economy.served_persons(
                        self.acc_urban,
                        ps.quality,
                        self.policy_arrays.access,
                        self.spec.economy.service_base_access,
                        self.hpa,
                    ),
                    ps.urban_residents,
                ),
                "employment_rate": ps.employment.copy(),
                "amenity": ps.amenity.copy(),
                "size_class_code": self.size_class.copy(),
            }
        )

    def national_table(self) -> pd.DataFrame:
        """One row per year recorded so far."""
        df = pd.DataFrame(self._national_rows)
        df["year"] = df["year"].astype(np.int64)
        first = [
            "year",
            "residents",
            "urban_residents",
            "urbanization_rate",
            "hukou_urbanization_rate",
            "floating_population",
            "hukou_conversions",
            "permit_holders",
            "service_gap",
        ]
        return df[first + [c for c in df.columns if c not in first]]

    def places_table(self) -> pd.DataFrame:
        """One row per place and year recorded so far."""
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
            "size_class": None,
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
        return df
