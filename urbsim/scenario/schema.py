"""Strict scenario schema: every parameter with its unit, default and source, in one place.

A scenario file is TOML validated by :class:`Scenario`. Models forbid unknown keys and coerce no
types, so a misspelt key or a quoted number fails before anything runs. Each field's
``json_schema_extra`` carries ``unit`` and ``source``; ``urbsim schema`` prints them, and
``docs/gen_parameters.py`` generates the parameter tables of ``docs/ODD.md`` (appendix A) and
``docs/parameters.md`` from them (``tests/test_docs.py`` fails until they are regenerated).

Utility weights (``beta_*``) are in utils: the scale of the logit's Gumbel error, so a weight of
1 on a log quantity means a 1 % rise moves the odds of that alternative by about 1 %.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

#: Settlement-rule keys in the order of :data:`urbsim.world.SIZE_CLASSES`, then county towns.
SETTLEMENT_KEYS: tuple[str, ...] = (
    "super_large",
    "mega",
    "large_i",
    "large_ii",
    "medium",
    "small",
    "county_town",
)
#: Longest permit access schedule (years) a scenario may give.
MAX_ACCESS_YEARS = 30
REGION_KEYS: tuple[str, ...] = ("east", "central", "west", "northeast")


def P(default: Any, unit: str, source: str, description: str, **constraints: Any) -> Any:
    """A documented parameter: default, unit, source and description, with bounds."""
    return Field(
        default,
        description=description,
        json_schema_extra={"unit": unit, "source": source},
        **constraints,
    )


class Strict(BaseModel):
    """Base of every scenario model: unknown keys and type coercion are errors."""

    model_config = ConfigDict(
        extra="forbid", strict=True, validate_default=True, frozen=True, allow_inf_nan=False
    )


class ByRegion(Strict):
    """One value per NBS region."""

    east: float = Field(ge=0)
    central: float = Field(ge=0)
    west: float = Field(ge=0)
    northeast: float = Field(ge=0)

    def as_tuple(self) -> tuple[float, float, float, float]:
        """Values in the order of :data:`urbsim.world.REGIONS`."""
        return (self.east, self.central, self.west, self.northeast)


def _by_region(e: float, c: float, w: float, ne: float) -> Any:
    return lambda: ByRegion(east=e, central=c, west=w, northeast=ne)


# ---------------------------------------------------------------------------------------------
# World and run
# ---------------------------------------------------------------------------------------------
class WorldConfig(Strict):
    """Which world the run starts from."""

    name: Literal["china-synthetic", "census"] = P(
        "china-synthetic",
        "-",
        "urbsim",
        "World to build: the embedded synthetic China, or the "
        "2010 census world (the packaged one, or world_file).",
    )
    households_per_agent: float = P(
        400.0,
        "households/agent",
        "urbsim",
        "Real households each agent stands for (1 = full scale, about 400 million).",
        gt=0,
        le=1e7,
    )
    world_file: str | None = P(
        None,
        "path",
        "user",
        "World file built by `urbsim world build` (census world only; none: the census "
        "world packaged with urbsim); relative paths are relative to the scenario file.",
    )

    @model_validator(mode="after")
    def _file_matches_world(self) -> WorldConfig:
        if self.name == "china-synthetic" and self.world_file is not None:
            raise ValueError("world 'china-synthetic' is embedded and takes no world_file")
        return self


# ---------------------------------------------------------------------------------------------
# Household behaviour
# ---------------------------------------------------------------------------------------------
class Behaviour(Strict):
    """Household decisions: whether to consider moving, where to go, permits and hukou."""

    move_base: float = P(
        0.14,
        "1/year",
        "calibrated; order of magnitude from CMDS annual move rates",
        "Annual probability that an employed household head aged 30-44 who arrived this year "
        "considers moving.",
        ge=0,
        le=1,
    )
    move_age: list[float] = P(
        [1.6, 1.0, 0.55, 0.2],
        "multiplier",
        "age profile of internal migration (census 2010)",
        "Multiplier of move_base by age group of the head (15-29, 30-44, 45-59, 60+).",
        min_length=4,
        max_length=4,
    )
    move_tenure_decay: float = P(
        0.04,
        "1/year",
        "calibrated",
        "Decay of the propensity to consider moving per completed "
        "year at the current place: move_base * exp(-decay * years_here).",
        ge=0,
        le=5,
    )
    move_unemployed: float = P(
        2.5,
        "multiplier",
        "Harris-Todaro job search",
        "Multiplier for heads without a job this year.",
        ge=1,
        le=50,
    )
    move_nonagricultural: float = P(
        1.0,
        "multiplier",
        "calibrated (issue 14): the out-migrant workers rising 2011-2019 while the floating "
        "population grows 10 % to 2014 and falls back to +3 % by 2019",
        "Multiplier of the propensity to consider moving for households with non-agricultural "
        "(urban) hukou, after the job-loss multiplier; 1 moves them as readily as rural-hukou "
        "households.",
        ge=0,
        le=5,
    )
    move_away: float = P(
        1.0,
        "multiplier",
        "calibrated (issue 14): the migrants' turnover (recent arrivals 2014); direction: "
        "those who have moved move on or back more often than others move at all (DaVanzo "
        "1983, Review of Economics and Statistics 65(4); China's rural migrants: Knight and "
        "Yueh 2004, Journal of Comparative Economics 32(4))",
        "Multiplier of the propensity to consider moving for households living away from "
        "their hukou place, after the hukou-type multiplier; 1 moves them as readily as "
        "households at home. Its difference from 1 fades with the years at the current place "
        "at the rate move_away_tenure_decay.",
        ge=0,
        le=20,
    )
    move_away_tenure_decay: float = P(
        0.0,
        "1/year",
        "direction: a migrant is most likely to move on or back soon after arriving, and the "
        "longer at a place the less (the duration of residence: Morrison 1967, 'Duration of "
        "residence and prospective migration', Demography 4(2); repeat and return migration "
        "soon after a move: DaVanzo 1983, Review of Economics and Statistics 65(4)); value "
        "assumed (0: the multiplier does not fade, the rule before 2026-12-07); calibrated in "
        "issue 14",
        "Rate at which the away multiplier's difference from 1 fades with the completed years "
        "at the current place: a household away considers moving with the multiplier "
        "1 + (move_away - 1) * exp(-decay * years_here) (move_away itself when the decay is "
        "0), so recent arrivals move on or back at move_away's rate and long-settled migrants "
        "at the rate of households at home.",
        ge=0,
        le=5,
    )
    candidates: int = P(
        6,
        "places",
        "choice-set sampling (McFadden 1978)",
        "Destinations sampled into each "
        "mover's choice set, besides staying, returning home and the urban zones of the "
        "current place and of the hukou place.",
        ge=1,
        le=32,
    )
    network_sampling_share: float = P(
        0.35,
        "share",
        "assumed; calibrated in issue 14",
        "Share of candidate draws taken from the "
        "places where earlier migrants from the same hukou place live; the rest are drawn by "
        "the gravity proposal from the current place. The choice corrects for both (it only "
        "sets which places are sampled, not their choice probabilities).",
        ge=0,
        le=1,
    )
    gravity_size_exponent: float = P(
        1.0,
        "-",
        "proposal only; set to beta_size so that it matches the size term of the utility",
        "Exponent a of urban residents in the gravity proposal U_j^a * max(d_ij, d_min)^-gamma "
        "that candidates are drawn from.",
        ge=0,
        le=3,
    )
    gravity_distance_exponent: float = P(
        1.2,
        "-",
        "proposal only; set to beta_distance so that it matches the distance term",
        "Exponent gamma of distance in the gravity proposal.",
        ge=0,
        le=4,
    )
    distance_floor_km: float = P(
        15.0,
        "km",
        "assumed (about the radius of a county-level unit); calibrated in issue 14",
        "Distance floor d_min: distances below it count as d_min in the proposal and the "
        "utility (log distance is unbounded near zero).",
        ge=1,
        le=500,
    )
    beta_income: float = P(
        1.6,
        "util per log(yuan)",
        "calibrated",
        "Weight of log expected income (wage times employment probability).",
        ge=0,
        le=20,
    )
    beta_housing: float = P(
        0.45,
        "util per log(yuan/m2/year)",
        "calibrated",
        "Weight of log housing cost (a cost: enters negatively).",
        ge=0,
        le=20,
    )
    beta_service: float = P(
        1.2, "util", "calibrated", "Weight of public-service access times quality.", ge=0, le=20
    )
    child_service_weight: float = P(
        0.5,
        "multiplier per child",
        "urbsim",
        "Service weight rises by this much per school-age child.",
        ge=0,
        le=5,
    )
    beta_distance: float = P(
        1.2,
        "util per log(km)",
        "assumed; calibrated in issue 14 (the distance elasticity of migration flows, given "
        "destination size)",
        "Deterrence of log distance from the current place: -beta_distance * ln(max(d, "
        "d_min) / d_min); a return to the hukou place is exempt.",
        ge=0,
        le=20,
    )
    beta_province: float = P(
        0.9,
        "util",
        "assumed; calibrated in issue 14",
        "Cost of crossing a province border (not on a return to the hukou place).",
        ge=0,
        le=20,
    )
    beta_outside_province: float = P(
        0.0,
        "util",
        "calibrated (issue 14): the inter-provincial migrant workers flat 2011-2019 while "
        "the out-migrant workers rise (NBS migrant worker monitoring survey reports), with "
        "the migrants' turnover; direction: what only the hukou province gives, the college "
        "entrance examination (taken in the hukou province; State Council General Office "
        "Guobanfa [2012] No. 46 left the conditions for taking it elsewhere to the provinces) "
        "and social insurance pooled by province",
        "Disutility of living outside the hukou province, for every alternative there "
        "(staying included): unlike the border cost, paid where one lives, not on the move, "
        "so a migrant away from its province is drawn back towards it. For a household at "
        "its hukou place it adds to the border cost; a migrant from another province who "
        "settles sheds it (it enters the benefit of a local hukou).",
        ge=0,
        le=20,
    )
    beta_size: float = P(
        1.0,
        "util per log(persons)",
        "McFadden (1978): an aggregate of equally attractive elemental alternatives has the "
        "log of their number added to its utility (coefficient 1 if they are independent)",
        "Weight of the log of a destination's urban residents in the utility of the "
        "alternatives that stand for a whole urban zone (the local and home towns and the "
        "candidates).",
        ge=0,
        le=3,
    )
    size_reference: float = P(
        100000.0,
        "persons",
        "assumed; calibrated in issue 14",
        "Urban residents at which the size term is zero: the size of the elemental "
        "alternative the stay and return alternatives stand for.",
        gt=0,
        le=1e9,
    )
    moving_cost: float = P(
        0.8,
        "util",
        "calibrated",
        "Fixed cost of moving away from the current place and zone.",
        ge=0,
        le=20,
    )
    moving_cost_away_share: float = P(
        1.0,
        "share",
        "calibrated (issue 14, since 2026-12-07); direction: a migrant has little "
        "location-specific capital where it lives away from home (no land, house or family "
        "there), so onward and return moves cost it less than leaving home (DaVanzo 1983, "
        "Review of Economics and Statistics 65(4); China's rural migrants change jobs and "
        "cities often: Knight and Yueh 2004, Journal of Comparative Economics 32(4))",
        "Share of moving_cost that a household living away from its hukou place pays for a "
        "move (onward, home, or to the other zone of its place); 1 charges it as much as "
        "leaving home.",
        ge=0,
        le=1,
    )
    job_separation: float = P(
        0.0,
        "1/year",
        "form: China's migrant workers hold short jobs and often change city when a job ends "
        "(Knight and Yueh 2004, 'Job mobility of residents and migrants in urban China', "
        "Journal of Comparative Economics 32(4); Wang and Wu 2010, 'Migrant workers in the "
        "urban labour market of Shenzhen, China', Environment and Planning A 42(6)); scale: "
        "a job lasted 2.2 years on average, 1.5 for those born after 1980 (Tsinghua "
        "University and Gzhong.cn report, Shanghai Daily 2012-02-27), 27.3 months in a survey "
        "of six provinces (Cao and Zhao, 'The characteristics and determinants of migrants' "
        "employment stability', Human Geography), a yearly hazard of about 0.36-0.49; value "
        "calibrated (issue 14, in the box since 2026-12-07); the default 0 is the model "
        "before it",
        "Yearly probability that the job of a household away from its hukou place, living in "
        "the urban zone with a head under 60, ends: that year it weighs a move for certain, "
        "and staying where it is costs the search for work and housing as a move does "
        "(moving_cost times moving_cost_away_share), so that it chooses among the places as "
        "one about to move; it keeps its years at the place if it stays (docs/ODD.md 7.11, 7.13). "
        "0: no job ends (the model until then).",
        ge=0,
        le=1,
    )
    place_match_sd: float = P(
        0.0,
        "util per standard deviation",
        "form: a persistent match of household and place drawn when the household chooses "
        "the place, as the location match of Kennan and Walker (2011), 'The effect of "
        "expected income on individual migration decisions', Econometrica 79(1); value "
        "calibrated (issue 14, in the box since the fortieth calibration of 2026-12-07); the "
        "default 0 (no match) is the model before it",
        "Standard deviation of the household's match with a place away from its hukou place: "
        "each place it considers comes with a standard-normal draw of the year, and the draw "
        "of the place it moves to stays with it there (the household field match), so that a "
        "migrant who moved on a high draw keeps it instead of reconsidering on a fresh one; the "
        "start year's migrants get draws from their distribution given that they are away "
        "(docs/ODD.md 5, 7.13). 0: no match (the model until then).",
        ge=0,
        le=4,
    )
    beta_network: float = P(
        0.25,
        "util per log(1+households)",
        "assumed; calibrated in issue 14",
        "Weight of the log number of households (agents times households_per_agent) from the "
        "same hukou place living at the destination; at the place where a household lives away, "
        "the other agents, and its own agent's other households at the share of its hukou "
        "place's agents living there (not as neighbours: they are copies only because agents "
        "are coarse; docs/ODD.md 7.13).",
        ge=0,
        le=10,
    )
    beta_network_province: float = P(
        0.15,
        "util per log(1+households)",
        "assumed; calibrated in issue 14",
        "Weight of the log number of floating households from the same hukou province living "
        "at the destination when it lies in another province (chain migration at the scale of "
        "provincial corridors; zero inside the hukou province; where the household lives "
        "away, the other agents).",
        ge=0,
        le=10,
    )
    entry_across_trend: float = P(
        0.0,
        "util per year",
        "calibrated (issue 14), a reduced form: the inter-provincial out-migrant workers were "
        "74.7 million in 2011 and 75.1 million in 2019 while the intra-provincial grew from "
        "83.9 to 99.2 million (NBS migrant worker monitoring survey reports), as industry and "
        "wages grew faster in the inland provinces than on the coast, which the model's "
        "regional wages (one national growth rate) do not carry",
        "Yearly fall, from the start year, of the destination constant of movers arriving "
        "from another province (the across scope of destination_constants, applied with or "
        "without them): in year t a move to a place in another province than the current "
        "one has its utility lowered by entry_across_trend * (t - start year); returns home "
        "are not affected. Negative values raise it.",
        ge=-2,
        le=2,
    )
    entry_across_trend_end: int = P(
        2019,
        "year",
        "the last year of the official series that history matching fits "
        "(urbsim/data/official_2010_2019.csv): a reduced form is not carried beyond the years "
        "it was fitted to",
        "Last year in which entry_across_trend lowers the constants further; later years keep "
        "that year's constants (a projection holds the inland catch-up of 2010-2019 where it "
        "had come, not going on with it).",
        ge=1900,
        le=2200,
    )
    destination_constants: bool = P(
        False,
        "-",
        "Berry (1994), 'Estimating discrete-choice models of product differentiation', RAND "
        "Journal of Economics 25(2): constants that match observed shares; the shares are the "
        "start year's in-migrants by place (the 2010 census on the census world)",
        "Give every place two constants in the utility of movers arriving from another place "
        "(not on a return home): for movers from its province and from others, found at the "
        "start of the run so that movers leaving each place in proportion to its out-migrants "
        "would arrive at every place from its province and from others in proportion to its "
        "in-migrants of each kind, at the run's own parameters; their common level keeps the "
        "movers' mean inclusive value (urbsim.dynamics.destination_constants, docs/ODD.md "
        "7.13).",
    )
    beta_amenity: float = P(
        0.5, "util per amenity unit", "urbsim", "Weight of the place's amenity index.", ge=0, le=10
    )
    home_preference: float = P(
        0.8,
        "util",
        "return-migration literature; calibrated in issue 14",
        "Attachment to the hukou place: the constant of every alternative there. Up to 60, "
        "the range of the migrant-network term beta_network * ln(1 + m n) (up to about 5 "
        "times 12) that it is weighed against in a return.",
        ge=0,
        le=60,
    )
    home_age: float = P(
        0.03,
        "util per year of head age above 30",
        "life course of migration: the gain from a move is collected over the years of work "
        "left, so the propensity to leave falls and the pull of home rises with age "
        "(Sjaastad 1962, 'The costs and returns of human migration', Journal of Political "
        "Economy 70(5)); returnees are older than migrants who stay away (Zhao 2002, 'Causes "
        "and consequences of return migration: recent evidence from China', Journal of "
        "Comparative Economics 30(2)); value assumed; calibrated in issue 14",
        "Attachment to the hukou place per year of the head's age above 30 (negative below "
        "30), added to every alternative there: for a household away (returning) at every "
        "age, for a household at home (staying) below 30; above 30 at home stay_age applies.",
        ge=0,
        le=5,
    )
    stay_age: float = P(
        0.03,
        "util per year of head age above 30",
        "the propensity of rural adults to migrate falls with age (Zhao 1999, 'Leaving the "
        "countryside: rural-to-urban migration decisions in China', American Economic Review "
        "89(2)); value assumed, the default equal to home_age's (one slope at home and away, "
        "the rule before 2026-12-04); to be calibrated in issue 14",
        "Growth with the head's age above 30 of the attachment to the hukou place for a "
        "household living there (staying): stay_age * (age - 30) added to every alternative "
        "there; below 30, home_age applies as for households away. Separate from home_age so "
        "that the young leaving, the middle-aged still leaving and the old returning are "
        "not one slope.",
        ge=0,
        le=5,
    )
    return_years_away: float = P(
        0.3,
        "util per log(1 + years)",
        "direction: return hazards are highest in the first years away (return-migration "
        "literature); value assumed; calibrated in issue 14",
        "Fall of the utility of returning to the hukou place with the log of one plus the "
        "completed years away: the longer away, the less likely to return.",
        ge=0,
        le=10,
    )
    return_unemployed: float = P(
        0.5,
        "util",
        "direction: failure in the urban labour market is a main reason to return (Wang and "
        "Fan 2006, 'Success or failure: selectivity and reasons of return migration in "
        "Sichuan and Anhui, China', Environment and Planning A 38); value assumed; "
        "calibrated in issue 14",
        "Utility of returning to the hukou place for a household in the urban zone whose head "
        "has no job this year (the employment draw of the move decision).",
        ge=0,
        le=20,
    )
    return_left_behind: float = P(
        0.8,
        "util",
        "direction: family reasons are a main reason to return (Wang and Fan 2006, 'Success "
        "or failure: selectivity and reasons of return migration in Sichuan and Anhui, "
        "China', Environment and Planning A 38); value assumed; calibrated in issue 14",
        "Utility of returning to the hukou place for a household whose school-age children "
        "were left behind there.",
        ge=0,
        le=20,
    )
    return_rate: float = P(
        0.03,
        "1/year",
        "22.3 % of the rural labourers who migrated in 1998-2015 had returned to their home "
        "county by 2015, about 3 % a year (Bai, Wang and Zhang 2018, 'How long do return "
        "migrants stay in their home counties?', Sustainability 10(11) 4153); hazards highest "
        "in the first years away (Dustmann and Gorlach 2016, 'The economics of temporary "
        "migration', Journal of Economic Literature 54(1)); calibrated in issue 14",
        "Return hazard of a household living away from its hukou place, besides the returns "
        "its move decision chooses: the yearly probability of going home of a head of 30 in "
        "the first year away, with a job and no children left behind. Other households' odds "
        "are these odds times exp of the hazard's own terms (return_hazard_age, "
        "return_hazard_years_away, return_hazard_unemployed, return_hazard_left_behind; "
        "docs/ODD.md). "
        "0 switches the hazard off.",
        ge=0,
        le=0.5,
    )
    return_hazard_age: float = P(
        0.03,
        "log odds per year of head age above 30",
        "direction: returnees are older than those who stay away (Zhao 2002, 'Causes and "
        "consequences of return migration: recent evidence from China', Journal of "
        "Comparative Economics 30(2)); value assumed (odds 1.8 times higher at 50 than at "
        "30); calibrated in issue 14",
        "Log odds of the return hazard per year of the head's age above 30 (negative below it).",
        ge=0,
        le=0.5,
    )
    return_hazard_years_away: float = P(
        0.5,
        "log odds per log(1 + years)",
        "direction: return hazards are highest in the first years away (Dustmann and "
        "Gorlach 2016, 'The economics of temporary migration', Journal of Economic "
        "Literature 54(1)); value assumed (odds 2.4 times lower in the sixth year away than in "
        "the first, halved by the fourth); calibrated in issue 14",
        "Fall of the log odds of the return hazard with the log of one plus the completed "
        "years away from the hukou place.",
        ge=0,
        le=5,
    )
    return_hazard_unemployed: float = P(
        1.0,
        "log odds",
        "direction: failure in the urban labour market is a main reason to return (Wang and "
        "Fan 2006, 'Success or failure: selectivity and reasons of return migration in "
        "Sichuan and Anhui, China', Environment and Planning A 38); value assumed (odds 2.7 "
        "times higher); calibrated in issue 14",
        "Log odds of the return hazard added for a household in the urban zone whose head "
        "has no job this year (the employment draw of the move decision).",
        ge=0,
        le=10,
    )
    return_hazard_left_behind: float = P(
        0.5,
        "log odds",
        "direction: family needs are a main reason to return (Wang and Fan 2006, 'Success or "
        "failure: selectivity and reasons of return migration in Sichuan and Anhui, China', "
        "Environment and Planning A 38); value assumed (odds 1.6 times higher); calibrated "
        "in issue 14",
        "Log odds of the return hazard added for a household whose school-age children were "
        "left behind at its hukou place.",
        ge=0,
        le=10,
    )
    left_behind_agricultural: float = P(
        0.68,
        "share",
        "All-China Women's Federation (2013), research report on rural left-behind and "
        "urban-rural migrant children (2010 census sample): 61.0 million rural left-behind "
        "children and 28.8 million migrant children with agricultural hukou, 61.0 / 89.8",
        "Probability that a household with agricultural hukou leaving its hukou place with "
        "school-age children leaves them there.",
        ge=0,
        le=1,
    )
    left_behind_nonagricultural: float = P(
        0.3,
        "share",
        "assumed; calibrated in issue 14 (below the agricultural share: urban families "
        "move with their children more often)",
        "Probability that a household with non-agricultural hukou leaving its hukou place "
        "with school-age children leaves them there.",
        ge=0,
        le=1,
    )
    permit_takeup: float = P(
        0.14,
        "1/year",
        "28.9 million permits issued in 2016 (NDRC)",
        "Annual probability that an eligible household applies for a residence permit.",
        ge=0,
        le=1,
    )
    hukou_apply_rate: float = P(
        0.2,
        "1/year",
        "calibrated",
        "Annual probability that an eligible household considers applying for local hukou.",
        ge=0,
        le=1,
    )
    hukou_logit_scale: float = P(
        1.0,
        "util",
        "random utility (McFadden 1974): the difference of two Gumbel errors of scale s is "
        "logistic of scale s; 1 = the error scale of the destination choice",
        "Scale of the settlement logit: an applicant takes local hukou with probability "
        "1 / (1 + exp(-(benefit - cost) / scale)).",
        gt=0,
        le=20,
    )
    land_value: float = P(
        1.1,
        "util",
        "calibrated; value of rural land-contract rights",
        "Median utility of the rural land rights of an agricultural-hukou household (region "
        "multiplier 1), given up on settling where surrender is a condition.",
        ge=0,
        le=20,
    )
    land_region: list[float] = P(
        [0.8, 1.0, 0.9, 1.8],
        "multiplier",
        "assumed; calibrated in issue 14 (northeast farms are several times larger per rural "
        "person, the east's smallest but dearest per mu)",
        "Multiplier of land_value by the region of the household's hukou place (east, "
        "central, west, northeast): land per rural person times its value per unit.",
        min_length=4,
        max_length=4,
    )
    land_value_dispersion: float = P(
        0.5,
        "-",
        "assumed; calibrated in issue 14",
        "Shape s of the log-logistic land value of a household within its region: value = "
        "median * (u / (1 - u)) ** s for the household's own quantile u (s < 1 keeps the mean "
        "finite: median * pi s / sin(pi s)).",
        ge=0,
        le=0.9,
    )
    hukou_premium: float = P(
        0.3,
        "util",
        "urbsim",
        "Value of a local hukou besides services and the policy benefits of "
        "policy.hukou_benefits (status, social networks).",
        ge=0,
        le=20,
    )
    points_education: float = P(
        10.0,
        "points per level",
        "Beijing/Shanghai points schemes",
        "Settlement points per education level of the head.",
        ge=0,
        le=100,
    )
    points_years: float = P(
        3.0,
        "points per year",
        "Beijing/Shanghai points schemes",
        "Settlement points per year of residence (and social insurance).",
        ge=0,
        le=100,
    )

    @model_validator(mode="after")
    def _positive_multipliers(self) -> Behaviour:
        if any(m < 0 for m in self.move_age):
            raise ValueError("move_age multipliers must be >= 0")
        if any(not 0 <= m <= 20 for m in self.land_region):
            raise ValueError("land_region multipliers must be in [0, 20]")
        return self


# ---------------------------------------------------------------------------------------------
# Population change besides moves
# ---------------------------------------------------------------------------------------------
YearSeries = dict[str, float]


class Demography(Strict):
    """Births, deaths, leaving home, and in-situ urbanization (see docs/ODD.md, "Demography").

    Rates are age-specific: a fertility schedule (a gamma-shaped curve over ages 15-49 scaled to
    the 2010 census total fertility of the urban and rural zone) and a mortality schedule (an
    infant rate, then Gompertz-Makeham hazards whose Gompertz level is solved so that life
    expectancy at birth equals the 2010 census's). Each year the model scales both so that the
    expected national crude rates equal ``birth_rate`` and ``death_rate`` (alignment); after the
    last year given, the scale factors of that year are kept (age-specific rates held constant).
    """

    births_and_deaths: bool = P(
        True,
        "-",
        "model switch",
        "Births and deaths happen. Off: persons change only by household formation and "
        "dissolution, which conserve them (the conservation check of issue 12).",
    )
    birth_rate: YearSeries = P(
        {
            "2010": 11.90,
            "2011": 11.93,
            "2012": 12.10,
            "2015": 12.07,
            "2016": 12.95,
            "2017": 12.43,
            "2018": 10.94,
            "2019": 10.48,
        },
        "per 1000 persons per year",
        "NBS original releases, ../shared/data/targets/official_2010_2019.csv (2013-2014 "
        "interpolated)",
        "National crude birth rate the fertility schedule is aligned to each year, linearly "
        "interpolated between the years given; after the last year the age-specific rates of "
        "that year are kept.",
    )
    death_rate: YearSeries = P(
        {
            "2010": 7.11,
            "2011": 7.14,
            "2012": 7.15,
            "2015": 7.11,
            "2016": 7.09,
            "2017": 7.11,
            "2018": 7.13,
            "2019": 7.14,
        },
        "per 1000 persons per year",
        "NBS original releases, ../shared/data/targets/official_2010_2019.csv (2013-2014 "
        "interpolated)",
        "National crude death rate the mortality schedule is aligned to each year, linearly "
        "interpolated; after the last year the age-specific rates of that year are kept.",
    )
    birth_region: ByRegion = P(
        _by_region(0.95, 1.05, 1.15, 0.6)(),
        "multiplier",
        "NBS provincial birth rates 2010",
        "Regional multiplier of age-specific fertility (the national level is aligned).",
    )
    tfr_urban: float = P(
        0.99,
        "births per woman",
        "2010 census total fertility: city 0.88, town 1.15 (Population Census Office of the "
        "State Council and NBS 2012, Tabulation on the 2010 Population Census of the People's "
        "Republic of China), weighted by city and town residents (404 and 266 million)",
        "Total fertility of the urban zone before alignment (sets the urban/rural ratio).",
        gt=0,
        le=8,
    )
    tfr_rural: float = P(
        1.44,
        "births per woman",
        "2010 census total fertility, rural (same tabulation)",
        "Total fertility of the rural zone before alignment.",
        gt=0,
        le=8,
    )
    fertility_mean_age: float = P(
        28.0,
        "years",
        "assumed; calibrated in issue 14",
        "Mean age of the gamma-shaped fertility schedule (ages 15-49).",
        ge=18,
        le=40,
    )
    fertility_sd_age: float = P(
        5.0,
        "years",
        "assumed; calibrated in issue 14",
        "Standard deviation of the gamma-shaped fertility schedule.",
        ge=1,
        le=12,
    )
    life_expectancy: float = P(
        74.83,
        "years",
        "2010 census life expectancy at birth (NBS 2012 release on the 6th census)",
        "Life expectancy at birth of the base mortality schedule (the Gompertz level is "
        "solved to give it).",
        ge=40,
        le=95,
    )
    infant_mortality: float = P(
        0.0131,
        "deaths per live birth",
        "infant mortality 13.1 per 1000 in 2010 (Ministry of Health, China Health Statistics "
        "Yearbook 2011)",
        "Probability of dying before age 1 in the base schedule.",
        ge=0,
        le=0.3,
    )
    gompertz_slope: float = P(
        0.09,
        "1/year",
        "assumed; calibrated in issue 14",
        "Rate at which adult mortality rises with age (Gompertz c).",
        gt=0.02,
        le=0.2,
    )
    makeham: float = P(
        0.0005,
        "1/year",
        "assumed; calibrated in issue 14",
        "Age-independent hazard of the Gompertz-Makeham schedule (ages 1 and over).",
        ge=0,
        le=0.01,
    )
    mortality_rural_ratio: float = P(
        1.3,
        "ratio",
        "assumed; calibrated in issue 14",
        "Rural-zone over urban-zone mortality at every age (the national level is aligned).",
        ge=0.5,
        le=3,
    )
    leave_home_age: int = P(
        18,
        "years",
        "assumed; calibrated in issue 14",
        "Youngest age at which a child leaves the parents' household to form one.",
        ge=14,
        le=30,
    )
    leave_home_rate: float = P(
        0.15,
        "1/year",
        "assumed; calibrated in issue 14",
        "Yearly probability that a child of leave_home_age or older leaves home (children "
        "still at home at 31 leave that year).",
        ge=0,
        le=1,
    )
    insitu_base: float = P(
        0.002,
        "1/year",
        "calibrated; in-situ urbanization share of urban growth (Chan 2014)",
        "Share of a place's rural-zone households reclassified as urban each year.",
        ge=0,
        le=1,
    )
    insitu_growth: float = P(
        0.2,
        "share per unit urban growth rate",
        "calibrated",
        "Extra reclassification per unit "
        "of the place's urban growth rate last year (rural land next to a growing town).",
        ge=0,
        le=50,
    )
    requisition_share: float = P(
        0.6,
        "share",
        "land-requisition hukou conversions (Chan 2014)",
        "Share of reclassified "
        "agricultural-hukou local households converted to non-agricultural hukou (they lose "
        "their land rights).",
        ge=0,
        le=1,
    )

    @model_validator(mode="after")
    def _series(self) -> Demography:
        for name in ("birth_rate", "death_rate"):
            series = getattr(self, name)
            if not series:
                raise ValueError(f"{name} needs at least one year")
            for key, value in series.items():
                if not key.isdigit() or not 1900 <= int(key) <= 2200:
                    raise ValueError(f"{name}: key {key!r} is not a year")
                if not 0 <= value <= 100:
                    raise ValueError(f"{name}[{key}] = {value} is outside [0, 100] per 1000")
        return self


# ---------------------------------------------------------------------------------------------
# Places and governments
# ---------------------------------------------------------------------------------------------
def _year_series_problems(name: str, series: dict[str, float], low: float, high: float) -> None:
    """Raise ValueError unless ``series`` has at least one key, every key a year and every
    value in ``[low, high]``."""
    if not series:
        raise ValueError(f"{name} needs at least one year")
    for key, value in series.items():
        if not key.isdigit() or not 1900 <= int(key) <= 2200:
            raise ValueError(f"{name}: key {key!r} is not a year")
        if not low <= value <= high:
            raise ValueError(f"{name}[{key}] = {value} is outside [{low}, {high}]")


#: Real GDP growth by region 2010-2019 (share per year): means of the provinces' real growth
#: as their statistical communiqués reported it (rounded, within about 0.5 pp), 2019 as the
#: national 2019 communiqué gives it by region. Only the regions' differences from their mean
#: are used; from 2020 on no regional difference is assumed (not an observation).
_REGIONAL_GROWTH: dict[str, dict[str, float]] = {
    "east": {
        "2010": 0.124,
        "2011": 0.104,
        "2012": 0.093,
        "2013": 0.091,
        "2014": 0.082,
        "2015": 0.080,
        "2016": 0.075,
        "2017": 0.071,
        "2018": 0.067,
        "2019": 0.062,
        "2020": 0.05,
    },
    "central": {
        "2010": 0.140,
        "2011": 0.125,
        "2012": 0.109,
        "2013": 0.097,
        "2014": 0.089,
        "2015": 0.082,
        "2016": 0.080,
        "2017": 0.078,
        "2018": 0.078,
        "2019": 0.073,
        "2020": 0.05,
    },
    "west": {
        "2010": 0.142,
        "2011": 0.140,
        "2012": 0.125,
        "2013": 0.107,
        "2014": 0.094,
        "2015": 0.087,
        "2016": 0.083,
        "2017": 0.075,
        "2018": 0.073,
        "2019": 0.067,
        "2020": 0.05,
    },
    "northeast": {
        "2010": 0.136,
        "2011": 0.125,
        "2012": 0.101,
        "2013": 0.084,
        "2014": 0.059,
        "2015": 0.046,
        "2016": 0.027,
        "2017": 0.053,
        "2018": 0.051,
        "2019": 0.045,
        "2020": 0.05,
    },
}


class RegionSeries(Strict):
    """One year series per NBS region (keys are years, values interpolated linearly); a region
    left out keeps its default path."""

    east: YearSeries = Field(default_factory=lambda: dict(_REGIONAL_GROWTH["east"]))
    central: YearSeries = Field(default_factory=lambda: dict(_REGIONAL_GROWTH["central"]))
    west: YearSeries = Field(default_factory=lambda: dict(_REGIONAL_GROWTH["west"]))
    northeast: YearSeries = Field(default_factory=lambda: dict(_REGIONAL_GROWTH["northeast"]))

    def as_tuple(self) -> tuple[YearSeries, YearSeries, YearSeries, YearSeries]:
        """Series in the order of :data:`urbsim.world.REGIONS`."""
        return (self.east, self.central, self.west, self.northeast)

    @model_validator(mode="after")
    def _growth_rates(self) -> RegionSeries:
        for key in REGION_KEYS:
            _year_series_problems(key, getattr(self, key), -0.5, 1.0)
        return self


class LabourMarket(Strict):
    """Labour demand, wage adjustment and the regional demand path."""

    demand_elasticity: float = P(
        0.6,
        "-",
        "assumed within the range of own-wage labour demand elasticities surveyed by "
        "Hamermesh 1993 (Labor Demand, Princeton University Press); calibrated in issue 14",
        "Elasticity of labour demand to the wage (its absolute value): jobs offered at wage w "
        "are job_base * (productivity / w) ** demand_elasticity.",
        gt=0.05,
        le=5,
    )
    wage_adjustment: float = P(
        0.3,
        "1/year",
        "assumed; calibrated in issue 14",
        "Share of the log gap between the market-clearing wage and last year's wage (indexed to "
        "national wage growth) closed each year; below 1, unemployment persists where demand "
        "falls.",
        ge=0,
        le=1,
    )
    regional_demand_elasticity: float = P(
        0.5,
        "-",
        "assumed (NE relative wages fell about half as fast as its relative output 2013-2019); "
        "calibrated in issue 14",
        "Elasticity of a place's productivity to its region's output relative to the national "
        "mean since the start year.",
        ge=0,
        le=3,
    )
    regional_growth: RegionSeries = P(
        RegionSeries(),
        "1/year",
        "NBS: provincial statistical communiqués 2010-2019 (real GDP growth, region means of "
        "provinces, rounded); 2019: national Statistical Communiqué 2019 by region (east 6.2, "
        "central 7.3, west 6.7, northeast 4.5 %); 2020 on: no regional difference assumed",
        "Real output growth by region and year; the demand shifter of each region is its "
        "cumulated growth over the urban-resident-weighted mean of the regions.",
    )


class SizeValues(Strict):
    """One value per city size class (:data:`urbsim.world.SIZE_CLASSES`)."""

    super_large: float = Field(ge=0)
    mega: float = Field(ge=0)
    large_i: float = Field(ge=0)
    large_ii: float = Field(ge=0)
    medium: float = Field(ge=0)
    small: float = Field(ge=0)

    def as_tuple(self) -> tuple[float, ...]:
        """Values in the order of :data:`urbsim.world.SIZE_CLASSES`."""
        return (self.super_large, self.mega, self.large_i, self.large_ii, self.medium, self.small)


class HousingMarket(Strict):
    """Housing supply by city size and the loss of old stock."""

    supply_by_size: SizeValues = P(
        SizeValues(super_large=0.15, mega=0.3, large_i=0.6, large_ii=1.0, medium=1.3, small=1.6),
        "multiplier",
        "assumed (construction-land quotas favour small cities and hold back the largest: "
        "National New-type Urbanization Plan 2014-2020); calibrated in issue 14",
        "Multiplier of housing_supply_response by the city's size class.",
    )
    depreciation: float = P(
        0.015,
        "1/year",
        "assumed (demolition and loss of old stock); calibrated in issue 14",
        "Share of the housing stock lost each year; builders replace it where crowding holds, "
        "so the stock shrinks where residents leave.",
        ge=0,
        le=0.5,
    )
    land_quota: SizeValues = P(
        SizeValues(
            super_large=0.0, mega=0.005, large_i=0.015, large_ii=0.02, medium=0.03, small=0.035
        ),
        "1/year",
        "assumed (construction-land quotas were allocated towards small and medium cities and "
        "held back in the largest: National New-type Urbanization Plan 2014-2020 on the "
        "control of megacities' land; the housing destocking the December 2015 Central "
        "Economic Work Conference asked of third- and fourth-tier cities); calibrated in "
        "issue 14",
        "Housing built each year on the construction land the quota lets local governments "
        "sell, as a share of the stock, whatever the crowding (on top of replacing "
        "depreciation and of the market response).",
    )
    income_elasticity: float = P(
        0.3,
        "-",
        "assumed (floor space per urban resident grows, more slowly than real income); "
        "calibrated in issue 14",
        "Elasticity of the floor space each urban resident wants to the real wage index: "
        "housing demand is urban residents times wage_index ** income_elasticity.",
        ge=0,
        le=3,
    )
    market_floor: float = P(
        20_000.0,
        "persons",
        "assumed (as economy.wage_floor_residents: a county seat is a housing market even "
        "where the census counts few urban residents)",
        "Urban residents below which a place's housing demand is computed as if it had this "
        "many, so that a place whose urban zone starts almost empty does not see its crowding "
        "explode when residents are reclassified into it.",
        gt=0,
        le=1e7,
    )


class ServiceType(Strict):
    """Cost and life of one kind of public-service capacity (yuan of 2010, scaled by the wage
    index); each service type below gives its own defaults and sources."""

    operating_cost: float
    building_cost: float
    depreciation: float


#: Source of the building costs and service lives of every type.
_BUILDING = "assumed (two years of running cost); calibrated in issue 14"
_LIFE = "assumed (a 20-year life of buildings and equipment); calibrated in issue 14"


class Education(ServiceType):
    """School places for the school-age children of urban households."""

    operating_cost: float = P(
        4500.0,
        "yuan/place/year",
        "budgetary spending per pupil 2010, about 4,000 (primary) to 5,200 (junior secondary) "
        "yuan (MoE, NBS and MoF announcement on 2010 education spending)",
        "Running one school place for a year.",
        gt=0,
    )
    building_cost: float = P(9000.0, "yuan/place", _BUILDING, "Building one school place.", ge=0)
    depreciation: float = P(
        0.05, "1/year", _LIFE, "Share of school places lost each year.", ge=0, le=1
    )


class Health(ServiceType):
    """Health-care places for every urban resident."""

    operating_cost: float = P(
        430.0,
        "yuan/place/year",
        "government health expenditure 2010, 573 billion yuan (China Health Statistical "
        "Yearbook), per resident",
        "Running health care for one resident for a year.",
        gt=0,
    )
    building_cost: float = P(860.0, "yuan/place", _BUILDING, "Building one health place.", ge=0)
    depreciation: float = P(
        0.05, "1/year", _LIFE, "Share of health places lost each year.", ge=0, le=1
    )


class Elderly(ServiceType):
    """Social-security and elderly-care places for the persons of urban households headed by
    someone 60 or older."""

    operating_cost: float = P(
        2000.0,
        "yuan/place/year",
        "assumed (social-security services and elderly care, pensions excluded); calibrated in "
        "issue 14",
        "Running one elderly-care place for a year.",
        gt=0,
    )
    building_cost: float = P(
        4000.0, "yuan/place", _BUILDING, "Building one elderly-care place.", ge=0
    )
    depreciation: float = P(
        0.05, "1/year", _LIFE, "Share of elderly-care places lost each year.", ge=0, le=1
    )


class Services(Strict):
    """Public-service capacity by type. A type's users are the urban residents it serves;
    hukou holders are entitled in full, others by their access share."""

    education: Education = Field(default_factory=Education)
    health: Health = Field(default_factory=Health)
    elderly: Elderly = Field(default_factory=Elderly)


class Economy(Strict):
    """Wages, jobs, housing, public services and public finance."""

    wage_2010: ByRegion = P(
        _by_region(41000.0, 31000.0, 33000.0, 30000.0)(),
        "yuan/year",
        "NBS average wage of urban units 2010 by province, region means",
        "Urban wage of a place of 1 million urban residents in 2010.",
    )
    wage_growth: YearSeries = P(
        {"2010": 0.09, "2015": 0.07, "2020": 0.05, "2025": 0.045, "2035": 0.035},
        "1/year",
        "NBS real wage growth; 2025+ assumed",
        "Real wage growth by year, interpolated.",
    )
    agglomeration_elasticity: float = P(
        0.06,
        "-",
        "Combes & Gobillon 2015; Au & Henderson 2006 for China",
        "Elasticity of the wage to urban residents.",
        ge=0,
        le=0.5,
    )
    wage_floor_residents: float = P(
        20_000.0,
        "persons",
        "assumption",
        "Urban residents below which a place's wage is computed as if it had this many "
        "(a county town of a few thousand people still pays a regional wage).",
        gt=0,
    )
    pole_spillover: float = P(
        0.04,
        "-",
        "urbsim",
        "Wage gain of a place next to a growth pole, falling linearly to 0 at pole_radius_km.",
        ge=0,
        le=1,
    )
    pole_radius_km: float = P(
        150.0,
        "km",
        "metropolitan-area radius",
        "Reach of a growth pole's spillover.",
        gt=0,
        le=2000,
    )
    rural_income_ratio: float = P(
        0.33,
        "ratio",
        "NBS 2010 rural/urban income per capita (5,919 / 19,109 yuan)",
        "Income in a rural zone relative to the place's urban wage.",
        gt=0,
        le=1,
    )
    workers_per_person: float = P(
        0.55,
        "workers/person",
        "census 2010 employment ratio",
        "Labour force per resident.",
        gt=0,
        le=1,
    )
    natural_unemployment: float = P(
        0.05,
        "share",
        "registered urban unemployment ~4.1%, surveyed ~5%",
        "Unemployment when jobs match the labour force.",
        ge=0,
        le=0.5,
    )
    job_adjustment: float = P(
        0.5,
        "1/year",
        "assumed: with it the census scenario's urban unemployment is 5.1 % in 2019 (NBS "
        "surveyed urban unemployment about 5 % in 2018-2019; 0.25 gave a 7.4 % peak in 2014); "
        "calibrated in issue 14",
        "Share of the gap between the job base (jobs firms offer at the productivity wage) and "
        "the labour force at natural unemployment (plus programme jobs) closed each year.",
        ge=0,
        le=1,
    )
    housing_cost_2010: float = P(
        360.0,
        "yuan/m2/year",
        "2010 urban rents",
        "Annual rent of a place at reference density.",
        gt=0,
    )
    housing_elasticity: float = P(
        1.2,
        "-",
        "urbsim",
        "Elasticity of housing cost to residents over housing stock.",
        ge=0,
        le=10,
    )
    housing_supply_response: float = P(
        0.2,
        "1/year",
        "assumed (China's elastic housing supply outside the largest cities); calibrated in "
        "issue 14",
        "Stock growth (beyond replacing depreciation and the land quota) per unit of crowding "
        "(housing demand over stock) above 1, before the size-class multiplier "
        "(economy.housing.supply_by_size).",
        ge=0,
        le=1,
    )
    service_cost: float = P(
        2500.0,
        "yuan/person/year",
        "local public-service spending per resident, 2010",
        "Operating cost of one unit of service capacity (one fully entitled person).",
        gt=0,
    )
    service_base_access: float = P(
        0.3,
        "share",
        "urbsim",
        "Service access of residents without local hukou or permit "
        "(emergency care, basic schooling in practice).",
        ge=0,
        le=1,
    )
    local_tax_rate: float = P(
        0.34,
        "share of wage bill",
        "Ministry of Finance 2010 final accounts: local general budget revenue 4.06 trillion "
        "yuan, over the census world's 2010 urban wage bill (11.9 trillion yuan)",
        "Local revenue raised per yuan of urban wages.",
        ge=0,
        le=1,
    )
    transfer_per_person: float = P(
        2240.0,
        "yuan/person/year",
        "Ministry of Finance 2010 final accounts: central tax rebates and transfers to local "
        "governments 3.23 trillion yuan, over the census world's 2010 registered population "
        "weighted by transfer_region",
        "Central transfer per person of the funding base.",
        ge=0,
    )
    transfer_region: ByRegion = P(
        _by_region(0.6, 1.2, 1.5, 1.2)(),
        "multiplier",
        "equalization transfers favour the west",
        "Regional multiplier of central transfers.",
    )
    service_budget_share: float = P(
        0.17,
        "share",
        "assumed; calibrated in issue 14 (set so the 2010 service budget, about 1.1 trillion "
        "yuan, is what it was before revenue and transfers were raised to their official "
        "2010 magnitudes)",
        "Share of the general budget left after obligations that is spent on the public "
        "services the model follows (urban residents' education, health, social security).",
        ge=0,
        le=1,
    )
    borrowing_limit: float = P(
        2.0,
        "years of revenue",
        "assumed; calibrated in issue 14 (bank credit to LGFVs against fiscal and land income)",
        "Before debt_swap_year: local debt (LGFV borrowing) may not exceed this multiple of "
        "revenue, transfers and net land income.",
        ge=0,
        le=20,
    )
    interest_rate: float = P(
        0.035,
        "1/year",
        "assumed: yields of local government bonds, about 3-4 % in 2015-2019",
        "Interest on local government bonds (on all local debt once the swap is complete).",
        ge=0,
        le=0.5,
    )
    investment_share: float = P(
        0.5,
        "share",
        "urbsim",
        "Share of a service shortfall that a local government tries to "
        "close each year by investing (borrowing where revenue falls short).",
        ge=0,
        le=1,
    )
    amortization: float = P(
        0.03,
        "1/year",
        "assumed; calibrated in issue 14 (most maturing principal was rolled over: LGFV loans "
        "before 2015, refinancing bonds after)",
        "Share of local debt repaid from own resources each year besides interest (debt "
        "service is interest plus this share of the debt).",
        ge=0,
        le=1,
    )
    programme_depreciation: float = P(
        0.10,
        "1/year",
        "assumption: a service life of about ten years",
        "Share of the service capacity built by the county-town programme lost each year.",
        ge=0,
        le=1,
    )
    labour: LabourMarket = Field(default_factory=LabourMarket)
    housing: HousingMarket = Field(default_factory=HousingMarket)
    services: Services = Field(default_factory=Services)

    # --- public finance: land, debt and the 2015 debt swap (urbsim/dynamics/finance.py) ---
    land_per_urban_resident: float = P(
        100.0,
        "m2/person",
        "GB 50137-2011 (Code for classification of urban land use and planning standards of "
        "development land): 65-115 m2 of urban construction land per person",
        "Urban construction land sold for each person the year's new housing houses at 2010 "
        "floor space (housing_built: the land quota, the market response and the replacement "
        "of depreciated stock).",
        ge=0,
        le=1000,
    )
    land_price_2010: float = P(
        850.0,
        "yuan/m2",
        "assumed; calibrated in issue 14 (set so that the census scenario's land revenue is "
        "of the order of the Ministry of Finance's land-transfer income 2010-2019: 2.9 "
        "trillion yuan in 2010, 4.3 in 2014, 7.3 in 2019; docs/ODD.md 7.18)",
        "Gross price of transferred land at a place whose housing cost is housing_cost_2010 "
        "(scaled like the place's housing cost).",
        ge=0,
        le=100_000,
    )
    land_net_share: float = P(
        0.25,
        "share",
        "assumed; calibrated in issue 14 (compensation, resettlement and land development take "
        "most of land-transfer spending in the Ministry of Finance's fund accounts)",
        "Share of gross land-transfer revenue left after compensation and land development.",
        ge=0,
        le=1,
    )
    infrastructure_cost: float = P(
        100_000.0,
        "yuan/person (2010 prices)",
        "assumed; calibrated in issue 14 to the official debt balance 2014-2019",
        "Public investment in urban infrastructure per new urban resident (scaled by the wage "
        "index), paid from net land income, then by borrowing.",
        ge=0,
        le=10_000_000,
    )
    initial_debt_ratio: float = P(
        0.9,
        "years of revenue and transfers",
        "National Audit Office 2011 audit of local government debt: 6.71 trillion yuan at "
        "end-2010 for which local governments bear repayment responsibility (10.72 with "
        "guarantees), over 2010 local revenue (4.06) and central transfers (3.23 trillion)",
        "Debt of each local government in the start year, relative to its revenue and transfers.",
        ge=0,
        le=20,
    )
    lgfv_interest_rate: float = P(
        0.07,
        "1/year",
        "assumed; calibrated in issue 14 (bank loans and LGFV bonds before the 2015 swap, "
        "above the 3-4 % of local government bonds)",
        "Interest on local debt before it is swapped into bonds.",
        ge=0,
        le=0.5,
    )
    debt_swap_year: int = P(
        2015,
        "year",
        "Budget Law as amended in 2014 (in force 1 January 2015) and State Council Opinions "
        "on strengthening local government debt management (Guofa [2014] No. 43)",
        "First year of the legislature's debt ceiling: the LGFV debt stock is recognised as "
        "government debt and swapped into bonds from this year on.",
        ge=1900,
        le=2200,
    )
    debt_swap_years: int = P(
        4,
        "years",
        "2015-2018 swap-bond programme of the Ministry of Finance",
        "Years over which the recognised stock is swapped into bonds (its average interest rate "
        "falls linearly to interest_rate).",
        ge=1,
        le=50,
    )
    debt_ceiling: YearSeries = P(
        {"2015": 16.0, "2016": 17.2, "2017": 18.8, "2018": 21.0, "2019": 24.08},
        "trillion yuan",
        "NPC-approved ceilings on local government debt (../shared/data/targets: 16.0, 17.2, "
        "18.8, 21.0 for 2015-2018; 24.08 for 2019 from the 2019 budget report)",
        "National ceiling on local government debt from debt_swap_year, interpolated between "
        "keys and grown with real wage growth after the last; empty: no ceiling but the LGFV "
        "limit.",
    )

    @model_validator(mode="after")
    def _wage_growth(self) -> Economy:
        if not self.wage_growth:
            raise ValueError("wage_growth needs at least one year")
        for key, value in self.wage_growth.items():
            if not key.isdigit() or not 1900 <= int(key) <= 2200:
                raise ValueError(f"wage_growth: key {key!r} is not a year")
            if not -0.5 <= value <= 1.0:
                raise ValueError(f"wage_growth[{key}] = {value} is outside [-0.5, 1]")
        for key, value in self.debt_ceiling.items():
            if not key.isdigit() or not 1900 <= int(key) <= 2200:
                raise ValueError(f"debt_ceiling: key {key!r} is not a year")
            if not 0.0 <= value <= 10_000.0:
                raise ValueError(f"debt_ceiling[{key}] = {value} is outside [0, 10000]")
        return self


# ---------------------------------------------------------------------------------------------
# Policy
# ---------------------------------------------------------------------------------------------
class SettlementRule(Strict):
    """How a city grants local hukou to residents from elsewhere."""

    rule: Literal["closed", "open", "conditional", "points"] = P(
        "conditional",
        "-",
        "2014 hukou-reform opinion",
        "closed: no transfers; open: anyone "
        "resident may settle; conditional: after min_years of residence and social insurance; "
        "points: after min_years, ranked by points, up to an annual quota.",
    )
    min_years: int = P(3, "years", "2014 opinion", "Years of residence required.", ge=0, le=50)
    quota_per_10k: float = P(
        0.0,
        "persons per 10,000 registered residents per year",
        "Beijing: ~6,000 of ~100,000 applicants a year in 2018-2019",
        "Annual points quota (points rule only).",
        ge=0,
        le=10_000,
    )


def _rule(rule: str, years: int = 0, quota: float = 0.0) -> Any:
    return lambda: SettlementRule(rule=rule, min_years=years, quota_per_10k=quota)  # type: ignore[arg-type]


class Settlement(Strict):
    """Settlement rule per city size class (2014 standard) and for county towns."""

    super_large: SettlementRule = Field(default_factory=_rule("points", 7, 4.8))
    mega: SettlementRule = Field(default_factory=_rule("points", 5, 8.0))
    large_i: SettlementRule = Field(default_factory=_rule("conditional", 5))
    large_ii: SettlementRule = Field(default_factory=_rule("conditional", 3))
    medium: SettlementRule = Field(default_factory=_rule("conditional", 2))
    small: SettlementRule = Field(default_factory=_rule("conditional", 1))
    county_town: SettlementRule = Field(default_factory=_rule("conditional", 1))


class Permit(Strict):
    """Residence permits and the services they give access to."""

    enabled: bool = P(
        False,
        "-",
        "2016 Interim Regulations on Residence Permits",
        "Whether residence permits are issued.",
    )
    min_residence_months: int = P(
        6,
        "months",
        "2016 regulations",
        "Residence required before a permit can be had.",
        ge=0,
        le=240,
    )
    access: list[float] = P(
        [0.55, 0.65, 0.75, 0.85],
        "share",
        "2016 regulations: services grow with residence",
        "Service access of a permit holder by completed years of residence (last value holds "
        "after).",
        min_length=1,
        max_length=MAX_ACCESS_YEARS,
    )
    access_cap: float = P(
        0.85,
        "share",
        "2016 regulations: a permit gives listed basic services, not all that a local hukou "
        "gives; value assumed, calibrated in issue 14",
        "Most service access a permit gives, below a local hukou's (1): every entry of access "
        "is capped at it.",
        ge=0,
        lt=1,
    )

    @model_validator(mode="after")
    def _access_range(self) -> Permit:
        if any(not 0 <= a <= 1 for a in self.access):
            raise ValueError("access shares must be in [0, 1]")
        return self


class ByClass(Strict):
    """One value per settlement class: the city size classes of 2014, then county towns."""

    super_large: float = Field(ge=0, le=20)
    mega: float = Field(ge=0, le=20)
    large_i: float = Field(ge=0, le=20)
    large_ii: float = Field(ge=0, le=20)
    medium: float = Field(ge=0, le=20)
    small: float = Field(ge=0, le=20)
    county_town: float = Field(ge=0, le=20)

    def as_tuple(self) -> tuple[float, ...]:
        """Values in the order of :data:`SETTLEMENT_KEYS`."""
        return tuple(getattr(self, key) for key in SETTLEMENT_KEYS)


def _by_class(*values: float) -> Any:
    return lambda: ByClass(**dict(zip(SETTLEMENT_KEYS, values, strict=True)))


class HukouBenefits(Strict):
    """Benefits only a local hukou gives (a residence permit does not), by settlement class.

    They enter the benefit side of the settlement decision. Values are utilities (assumed;
    calibrated in issue 14); which classes have them, and when, is policy history (see
    scenarios/baseline.toml).
    """

    schooling: ByClass = P(
        _by_class(0.6, 0.5, 0.3, 0.2, 0.1, 0.1, 0.1)(),
        "util per school-age child",
        "assumed; calibrated in issue 14 (the 2012 opinions let migrant children sit entrance "
        "exams where they live, on conditions strictest in the largest cities)",
        "Children's schooling and exam eligibility (senior-secondary and university entrance "
        "exams are taken at the hukou place).",
    )
    home_purchase: ByClass = P(
        _by_class(0.3, 0.3, 0.0, 0.0, 0.0, 0.0, 0.0)(),
        "util",
        "assumed; calibrated in issue 14 (purchase restrictions kept after 2014 in the "
        "largest cities only)",
        "Eligibility to buy a home where purchases by non-local households are restricted.",
    )
    social_insurance: ByClass = P(
        _by_class(0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1)(),
        "util",
        "assumed; calibrated in issue 14",
        "Local social insurance and pension entitlements not portable with a permit.",
    )


class CountyTown(Strict):
    """County-town programme: carrying capacity of county towns (2020 onward)."""

    budget: float = P(
        0.0,
        "billion yuan/year",
        "2020 county-town programme",
        "Central budget of the programme.",
        ge=0,
        le=100_000,
    )
    priority: ByRegion = P(
        _by_region(1.0, 0.8, 0.6, 0.5)(),
        "weight",
        "east first, then centre, west and northeast",
        "Regional priority weights of the allocation.",
    )
    pilot_counties: int = P(
        120,
        "counties",
        "2020: 120 pilot counties",
        "Number of county towns funded (highest priority times urban residents).",
        ge=0,
    )
    share_services: float = P(
        0.4, "share", "17 construction tasks", "Budget share raising service capacity.", ge=0, le=1
    )
    share_amenity: float = P(
        0.3,
        "share",
        "17 construction tasks",
        "Budget share raising infrastructure amenity.",
        ge=0,
        le=1,
    )
    share_jobs: float = P(
        0.3, "share", "industry platforms", "Budget share creating jobs.", ge=0, le=1
    )
    cost_per_job: float = P(
        400_000.0,
        "yuan/job",
        "industrial-park investment per job",
        "Investment per job created.",
        gt=0,
    )
    cost_per_amenity: float = P(
        2000.0,
        "yuan per person per amenity unit",
        "urbsim",
        "Investment raising amenity by 1 for one urban resident.",
        gt=0,
    )
    bond_share: float = P(
        0.5,
        "share",
        "assumed; calibrated in issue 14 (county-town projects were financed largely by local "
        "special bonds from 2020)",
        "Share of each pilot's programme money raised as special bonds by its local government "
        "(within its debt ceiling; the central budget pays the rest).",
        ge=0,
        le=1,
    )

    @model_validator(mode="after")
    def _shares(self) -> CountyTown:
        total = self.share_services + self.share_amenity + self.share_jobs
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"share_services + share_amenity + share_jobs must be 1, got {total}")
        return self


class Renewal(Strict):
    """Old-community renewal with fiscal subsidies (2020 onward)."""

    households_per_year: float = P(
        0.0,
        "households/year",
        "MOHURD: 7.36 million (2020), 9.65 (2021), 8.76 (2022)",
        "Households in renovated old communities per year.",
        ge=0,
    )
    cost_per_household: float = P(
        40_000.0, "yuan/household", "MOHURD average", "Renovation cost per household.", gt=0
    )
    subsidy_share: float = P(
        0.5,
        "share",
        "central and provincial subsidies",
        "Share of the cost paid by higher-level subsidies (the rest by local budgets).",
        ge=0,
        le=1,
    )
    amenity_effect: float = P(
        0.5,
        "amenity units per renovated share",
        "urbsim",
        "Amenity gain of a place when all its urban households are renovated.",
        ge=0,
        le=10,
    )
    service_effect: float = P(
        0.2,
        "capacity share per renovated share",
        "elderly care, markets, parking",
        "Service-capacity gain when all urban households are renovated.",
        ge=0,
        le=10,
    )


class GrowthPoles(Strict):
    """Central cities and key agglomerations designated as growth poles."""

    rule: Literal["none", "capitals", "super_mega", "capitals_and_super_mega"] = P(
        "none", "-", "2019 guidance on metropolitan areas", "Which prefecture cities are poles."
    )
    productivity_boost: float = P(0.05, "share", "urbsim", "Wage gain in a pole city.", ge=0, le=1)


class LocalResponse(Strict):
    """Local governments' own settlement openness and service investment
    (:mod:`urbsim.dynamics.local_policy`), within the central rules."""

    enabled: bool = P(
        False,
        "-",
        "urbsim",
        "Whether local governments adjust their settlement rules and investment each year; "
        "off: the central rules of the timeline apply unchanged.",
    )
    weight_labour: float = P(
        5.0,
        "1/share",
        "assumed; calibrated in issue 14",
        "Weight of the labour signal (wage growth over national plus employment over its "
        "natural rate) in the openness target.",
        ge=0,
        le=1000,
    )
    weight_population: float = P(
        10.0,
        "1/(share/year)",
        "assumed; calibrated in issue 14",
        "Weight of urban growth over national urban growth (a lagging city opens up).",
        ge=0,
        le=1000,
    )
    weight_fiscal: float = P(
        1.0,
        "1/share",
        "assumed; calibrated in issue 14",
        "Weight of the unused share of the debt ceiling, over the mean of the governments of "
        "the same size class, in the openness target.",
        ge=0,
        le=1000,
    )
    weight_rivals: float = P(
        0.8,
        "-",
        "assumed; calibrated in issue 14 (local officials are promoted on their performance "
        "relative to their peers: Li and Zhou 2005, Journal of Public Economics)",
        "Weight of the last openness of the other governments of the same size class (urban "
        "residents weighted) in the openness target: a city answers its rivals' moves.",
        ge=0,
        le=1,
    )
    adjustment: float = P(
        0.5,
        "1/year",
        "assumed; calibrated in issue 14",
        "Share of the gap between openness and its target closed each year.",
        ge=0,
        le=1,
    )
    max_change_years: int = P(
        3,
        "years",
        "assumed: the 2017-2019 'talent' policies cut residence and social-insurance "
        "requirements by a few years",
        "Residence years a fully open government (openness 1) removes from the central rule.",
        ge=0,
        le=50,
    )
    quota_factor: float = P(
        3.0,
        "multiplier",
        "assumed; calibrated in issue 14",
        "Points quota of a fully open government relative to the central quota.",
        ge=1,
        le=100,
    )
    allow_tightening: bool = P(
        False,
        "-",
        "2014 opinions: central requirements are maxima",
        "Whether a negative openness may raise residence years and cut quotas.",
    )
    investment_response: float = P(
        0.5,
        "-",
        "assumed; calibrated in issue 14",
        "Change of the service investment effort per unit of openness (effort 1 + openness "
        "times this, never negative).",
        ge=0,
        le=10,
    )
    fixed_classes: list[str] = P(
        ["super_large", "mega"],
        "-",
        "2014 Opinions on further reforming the hukou system: strictly control the population "
        "of mega cities",
        "Settlement classes whose rules local governments may not change (keys of "
        "policy.settlement).",
    )

    @model_validator(mode="after")
    def _known_classes(self) -> LocalResponse:
        unknown = [k for k in self.fixed_classes if k not in SETTLEMENT_KEYS]
        if unknown:
            raise ValueError(f"fixed_classes: unknown settlement classes {unknown}")
        return self


class PlaceSettlement(Strict):
    """The settlement rule of an addressed place: each field given replaces the value the place
    would otherwise get (from a less specific address, or its size class); a field left out
    keeps it."""

    rule: Literal["closed", "open", "conditional", "points"] | None = P(
        None,
        "-",
        "city and provincial hukou rules",
        "Settlement rule of the addressed places (as in policy.settlement); none: inherited.",
    )
    min_years: int | None = P(
        None, "years", "city rules", "Years of residence required; none: inherited.", ge=0, le=50
    )
    quota_per_10k: float | None = P(
        None,
        "persons per 10,000 registered residents per year",
        "city points schemes",
        "Annual points quota (points rule only); none: inherited.",
        ge=0,
        le=10_000,
    )


class PlacePermit(Strict):
    """The residence-permit schedule of an addressed place: each field given replaces the
    national value of ``policy.permit`` (or a less specific address's); a field left out keeps
    it. The national ``access_cap`` caps every schedule."""

    enabled: bool | None = P(
        None,
        "-",
        "city and provincial residence-permit rules (Guangdong from 2010, Shanghai from 2013) "
        "before the 2016 national regulations",
        "Whether the addressed places issue residence permits; none: inherited.",
    )
    min_residence_months: int | None = P(
        None,
        "months",
        "city permit rules",
        "Residence required before a permit can be had at the addressed places; none: inherited.",
        ge=0,
        le=240,
    )
    access: list[float] | None = P(
        None,
        "share",
        "city permit rules",
        "Service access of a permit holder at the addressed places by completed years of "
        "residence (last value holds after); none: inherited.",
        min_length=1,
        max_length=MAX_ACCESS_YEARS,
    )

    @model_validator(mode="after")
    def _access_range(self) -> PlacePermit:
        if self.access is not None and any(not 0 <= a <= 1 for a in self.access):
            raise ValueError("access shares must be in [0, 1]")
        return self


class PopulationCap(Strict):
    """A ceiling on the resident population of an addressed unit (a province-level
    municipality, a prefecture or a county-level place: its places' residents summed), enforced
    with a pressure that rises from 0 at ``trigger`` times the cap to 1 at the cap and above."""

    residents: float = P(
        ...,
        "persons",
        "city master plans: Beijing 23 million from 2020 (2016-2035 plan, approved 2017); "
        "Shanghai 25 million by 2035 (2017-2035 plan, approved 2017)",
        "Resident population the plan caps.",
        gt=0,
        le=1e9,
    )
    trigger: float = P(
        0.9,
        "share of the cap",
        "assumed; calibrated in issue 14",
        "Residents (as a share of the cap) at which enforcement starts; it is full at the cap.",
        ge=0,
        lt=1,
    )
    housing_supply_cut: float = P(
        1.0,
        "share",
        "assumed; calibrated in issue 14",
        "Share of the year's new housing supply withheld at full enforcement (land supply for "
        "housing cut).",
        ge=0,
        le=1,
    )
    demolition: float = P(
        0.01,
        "1/year",
        "assumed; calibrated in issue 14",
        "Share of the housing stock demolished per year at full enforcement (the clearing of "
        "unlicensed buildings and group rentals).",
        ge=0,
        le=0.5,
    )
    school_access: float = P(
        0.5,
        "multiplier",
        "assumed; calibrated in issue 14",
        "Factor on the school access of non-hukou children at full enforcement (admission "
        "documents required of non-hukou parents); 1: no restriction.",
        ge=0,
        le=1,
    )
    quota_cut: float = P(
        0.5,
        "share",
        "assumed; calibrated in issue 14",
        "Share of the points quota withheld at full enforcement.",
        ge=0,
        le=1,
    )


class PlacePolicy(Strict):
    """Policy of one addressed unit: a province (code ``PP0000``), a prefecture (``PPCC00``)
    or a county-level place (any other 6-digit code), named as in the world. Where addresses
    overlap, the most specific wins field by field: county-level place, then prefecture, then
    province, then the size-class rule of ``policy.settlement``."""

    code: int = P(
        ...,
        "-",
        "administrative division code (GB/T 2260) of the 2010 census",
        "6-digit code of the province, prefecture or county-level place addressed.",
        ge=100_000,
        le=999_999,
    )
    name: str = P(
        ...,
        "-",
        "the world's place table",
        "Name of the addressed unit as the world holds it (checked against the code), e.g. "
        "北京市 for 110000.",
        min_length=1,
    )
    settlement: PlaceSettlement = Field(default_factory=PlaceSettlement)
    growth_pole: bool | None = P(
        None,
        "-",
        "2019 guidance on metropolitan areas",
        "Whether the addressed urban districts are growth poles, whatever "
        "policy.growth_poles.rule says (counties never are); none: inherited.",
    )
    county_town_pilot: bool | None = P(
        None,
        "-",
        "2020 county-town programme: pilots named by the provinces",
        "true: the addressed county towns (counties and county-level cities) are pilots of the "
        "county-town programme whatever their priority (they count towards pilot_counties); "
        "false: they are never pilots; none: chosen by policy.county_town's priority.",
    )
    population_cap: PopulationCap | None = P(
        None,
        "-",
        "city master plans",
        "Ceiling on the unit's residents and how it is enforced; none: no cap.",
    )
    permit: PlacePermit = Field(default_factory=PlacePermit)
    county_town_budget: float | None = P(
        None,
        "billion yuan/year",
        "provincial county-town programmes",
        "Budget of the addressed unit's own county-town programme: split over its county towns "
        "(counties and county-level cities not excluded by county_town_pilot = false) by "
        "policy.county_town.priority times urban residents, spent as the national programme's "
        "money, in place of what the national programme gives them; none: inherited.",
        ge=0,
        le=100_000,
    )
    renewal_households: float | None = P(
        None,
        "households/year",
        "provincial and city renewal plans",
        "Urban households the addressed unit renovates per year (old-community renewal), split "
        "over its places by households not yet renovated, in place of their share of "
        "policy.renewal.households_per_year; none: inherited.",
        ge=0,
        le=1e9,
    )
    governance_efficiency: float | None = P(
        None,
        "multiplier",
        "urbsim",
        "Service delivered per unit of service budget at the addressed places "
        "(policy.governance_efficiency there); none: inherited.",
        gt=0,
        le=10,
    )


class Policy(Strict):
    """Policy in force in a year. The timeline changes fields of it from given years on."""

    settlement: Settlement = Field(default_factory=Settlement)
    land_surrender: Literal["none", "districts", "all"] = P(
        "none",
        "-",
        "State Council 2014 opinions on further reforming the hukou system (Guofa 2014 No. 25): "
        "surrender of land rights may not be a condition of settling; Rural Land Contract Law "
        "(2002) art. 26 required it on moving to a city with districts (amended 2018)",
        "Where settling requires giving up rural land-contract rights: nowhere; in urban "
        "districts (cities with districts, not county towns); everywhere.",
    )
    hukou_benefits: HukouBenefits = Field(default_factory=HukouBenefits)
    permit: Permit = Field(default_factory=Permit)
    service_funding_base: Literal["registered", "permanent"] = P(
        "registered",
        "-",
        "2016: 'money follows people'",
        "Population by which central "
        "transfers fund local services: registered (hukou) or permanent (resident).",
    )
    county_town: CountyTown = Field(default_factory=CountyTown)
    renewal: Renewal = Field(default_factory=Renewal)
    governance_efficiency: float = P(
        1.0,
        "multiplier",
        "urbsim",
        "Service delivered per unit of service budget (community-based governance).",
        gt=0,
        le=10,
    )
    governance_cost: float = P(
        20.0,
        "yuan per urban resident per year per unit of efficiency (2010 prices)",
        "assumed; calibrated in issue 14 (community workers and grid management)",
        "Local cost of governance_efficiency above 1: this times (efficiency - 1) times urban "
        "residents, scaled by the wage index, paid by the local budget each year.",
        ge=0,
        le=100_000,
    )
    growth_poles: GrowthPoles = Field(default_factory=GrowthPoles)
    local_response: LocalResponse = Field(default_factory=LocalResponse)
    places: list[PlacePolicy] = P(
        [],
        "-",
        "scenario",
        "Rules of named provinces, prefectures and county-level places "
        "([[policy.places]]); a timeline entry's places merge into these by code.",
    )

    @field_validator("places")
    @classmethod
    def _places_once(cls, places: list[PlacePolicy]) -> list[PlacePolicy]:
        seen: set[int] = set()
        for entry in places:
            if entry.code in seen:
                raise ValueError(f"code {entry.code} is addressed twice")
            seen.add(entry.code)
        return places


# ---------------------------------------------------------------------------------------------
# Timeline keys
# ---------------------------------------------------------------------------------------------
#: A timeline key: a year in four plain ASCII digits, no sign, space or leading zero. TOML
#: keys are strings, so "2012", "02012" and "２０１２" would be three different keys for the
#: same year, and one would silently overwrite the other.
TIMELINE_KEY = re.compile(r"[1-9][0-9]{3}")


def _year_it_means(key: str) -> int | None:
    """The year a malformed key was probably meant to be (full-width or superscript digits,
    leading zeros, spaces), or None."""
    # NFKC turns full-width and superscript digits into ASCII; int() reads other scripts'
    # decimal digits (Arabic-Indic, Devanagari, ...).
    text = unicodedata.normalize("NFKC", key).strip()
    if text.isdecimal():
        return int(text)
    return None


def timeline_key_problems(keys: Iterable[str]) -> list[tuple[str, str]]:
    """Timeline keys that are not plain years, with the reason.

    Parameters
    ----------
    keys
        The keys of a scenario's ``timeline`` table.

    Returns
    -------
    list of (key, reason)
        One entry per malformed key, naming the year it seems to mean; a key that means the
        same year as another key says so.
    """
    keys = list(keys)
    plain = {int(k): k for k in keys if TIMELINE_KEY.fullmatch(k)}
    problems: list[tuple[str, str]] = []
    seen: dict[int, str] = {}
    for key in keys:
        if TIMELINE_KEY.fullmatch(key):
            continue
        year = _year_it_means(key)
        reason = f"timeline keys must be years in four plain digits, like 2020 (got {key!r})"
        if year is not None:
            twin = plain.get(year, seen.get(year))
            reason += f"; write {year}"
            if twin is not None:
                reason += f" (duplicate: {twin!r} is year {year} too; one would replace the other)"
            seen.setdefault(year, key)
        problems.append((key, reason))
    return problems


# ---------------------------------------------------------------------------------------------
# The scenario
# ---------------------------------------------------------------------------------------------
class Scenario(Strict):
    """A whole scenario: world, years, seed, behaviour and policy with its timeline."""

    name: str = P("unnamed", "-", "user", "Short name of the scenario.", min_length=1)
    description: str = P("", "-", "user", "What the scenario represents.")
    world: WorldConfig = Field(default_factory=WorldConfig)
    start_year: int = P(
        2010, "year", "census 2010", "First year (initial state).", ge=2010, le=2100
    )
    end_year: int = P(2035, "year", "2035 targets", "Last year simulated.", ge=2010, le=2200)
    seed: int = P(
        20101101, "-", "user", "Seed of the run: the only source of randomness.", ge=0, lt=2**63
    )
    engine: Literal["numba", "mesa"] = P(
        "numba", "-", "urbsim", "Household engine: Numba kernels (fast) or Mesa agents (reference)."
    )
    behaviour: Behaviour = Field(default_factory=Behaviour)
    demography: Demography = Field(default_factory=Demography)
    economy: Economy = Field(default_factory=Economy)
    policy: Policy = Field(default_factory=Policy)
    timeline: dict[str, dict[str, Any]] = P(
        {},
        "-",
        "scenario",
        "Policy changes by year: each key is a year, each value a partial "
        "policy table merged into the policy in force from that year on.",
    )

    @model_validator(mode="after")
    def _years(self) -> Scenario:
        if self.end_year <= self.start_year:
            raise ValueError(
                f"end_year ({self.end_year}) must be after start_year ({self.start_year})"
            )
        return self
