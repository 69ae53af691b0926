"""One parameter set against every target: run it and say which targets it misses, and how.

Usage::

    python experiments/calibration/probe.py OUT [--from CSV [--row N]] [--set NAME=VALUE ...]
        [--fix NAME=VALUE ...] [--replications 2] [--households-per-agent 1000] [--seed 1]
        [--workers 2] [--returns] [--worker-flows] [--destinations] [--destination-constants]

With ``--destination-constants`` every run of the set sets ``behaviour.destination_constants``
(docs/ODD.md 7.13), which the scenario leaves off. ``--fix NAME=VALUE`` sets a scenario field
outside the box in every run (``VALUE`` a TOML value, as ``urbsim run --set``): a probe of what
a parameter the calibration leaves at its default would do, such as ``--fix
behaviour.move_tenure_decay=0.2``.

The set is every parameter of ``box.csv`` at its value in ``scenarios/china_census.toml``,
then the row ``N`` (0-based) of ``CSV`` (any table with the box's parameter columns: a fit's
``ensemble.csv`` or ``verification.csv``, a wave's ``runs/design.parquet`` as CSV), then each
``--set`` (a parameter of the box; values outside the box are allowed, within the schema's
limits). It runs as a points sweep in ``OUT/probe`` (2010-2019 at the calibration's scale,
the same runs for the same set, seed and scale: a finished sweep there is read, not rerun) and
writes ``OUT/probe.csv``: for every usable target its observation, the mean and sd of the
replications and the standardized error of their mean (model minus observation over the
discrepancy, the observation error and the run-to-run variance of one realization and of the
mean, as :func:`urbsim.analysis.history_matching.run_errors` with the measured variance), and
whether it is within the cutoff 3. It prints the targets outside it.

With ``--returns`` it also runs the set once more (seed ``--seed``, the same scale), year by
year to 2019, and writes ``OUT/returns.csv``: each year's households away from their hukou
place at its start by the head's age band, the years since they left and the years at the
place, how many returned home and how many took local hukou in the year, and the return
hazard of each cell (:func:`urbsim.analysis.returns.return_cells`); and
``OUT/returns_by_cohort.csv``: the same years' persons away and returned of the households
away since 2010 and of those who left later, by the head's age and the years at the place
(:func:`urbsim.analysis.returns.cohort_returns`), with the year's national ``return_migrants``
and the part of them the return hazard sent home (``hazard_return_migrants``; the others
returned by their move decision). It
prints each year's return rate; the rates the first year's cells would give that year's
persons away, by the head's age and years away and by the head's age and years at the place
(the part of the change that is who is away: young heads, recent leavers, recent arrivals,
not how often each kind returns); the share returned by the hazard; each cohort's rate; and
the shares of the persons away in their first year, and first three years, at the place.

With ``--worker-flows`` the same run (one run serves every option) writes
``OUT/worker_flows.csv``: each year's out-migrant workers (what the out-migrant workers index
reads) by the head's age band, the working-age persons at home who could leave, and the flows
that change the count: left home, returned, took local hukou, dissolved, changed inside the
households (ageing), formed (:func:`urbsim.analysis.worker_flows.worker_flows`), and of those
who left home the workers who went to another province (``left_far``). It prints the yearly
national flows in millions, the departure rates of the young and middle-aged pools and the
share of the leavers who went to another province. It also writes ``OUT/floating.csv``, who
the floating persons are each year (the national ``floating_population``,
``outmigrant_workers``, ``floating_children`` and ``floating_children_left_behind``), and
prints it with the growth since 2010 of the children living away (those of floating households
less the school-age ones left at the hukou place) next to the official migrant children's
(:data:`MIGRANT_CHILDREN_MILLIONS`). And ``OUT/floating_by_hukou.csv``: each year's floating
persons by hukou type and the flows that change them
(:func:`urbsim.analysis.floating_flows.floating_by_hukou`), printed in millions, with the
yearly turnover of all floating persons (left home, moved on from one place away to another,
returned, settled, in per cent of those at the start of the year: the arrivals behind the
recent arrivals of the survey).

With ``--destinations`` the same run writes ``OUT/destinations.csv``: each year's floating
persons in every province whose hukou is in another province (the stock whose distribution the
``interprovince_distribution`` target compares with the census) and the flows that change it:
arrived from their hukou place or onward from elsewhere, formed, changed inside the households,
returned home, took local hukou, dissolved, left
(:func:`urbsim.analysis.destinations.destination_flows`); and ``OUT/corridors.csv``: by hukou
and destination province the inter-province migrants at the start and those who left home for
another province over the run. It prints the provinces whose share changed most with their
flows and the total variation between the first and the last year's distributions, then for
the provinces that sent most people away how far their leavers' destinations are from their
stock's (:func:`urbsim.analysis.destinations.corridor_concentration`). And, with no sampling,
``OUT/start_choices.csv``: for the eight provinces with most migrants in other provinces at the
start, up to ten households of each living at home with agricultural hukou and a head under
30, their logit over the full choice set under the start year's places
(:func:`urbsim.analysis.destinations.full_logit_destinations`): the probabilities of moving, of
moving to another province and of each destination province, printed against the origin's
stock; and ``OUT/constants.csv``: by province, where the start year's movers would go by the
observed terms alone and with the set's destination constants (those the run would set with
``behaviour.destination_constants``), against the in-migrants, and the mean constants
(:func:`urbsim.analysis.destinations.constants_by_province`).

With ``--stock-choices`` a run of its own writes ``OUT/stock_choices.csv``: for 1,000 floating
households of the start year's stock and of the stock at the end of 2011, 2013, 2016 and 2019
(drawn with the seed and the year; each weighed with that year's places), the logit over the
full choice set split into going home,
staying and moving on (:func:`urbsim.analysis.stock_choices.stock_choices`), with the head's age
and the years away and here; it prints each year's means, the share that would go home almost
surely, and going home by the head's age band: whether the start year's stock is where the
model's households would choose to be.

What a modeller asks of a set that history matching ruled out or left out: which targets rule
it out, on which side, and what moving one parameter does (the "probes" of the calibration
README run this way). Mistakes in the command (an unknown parameter, a value the schema
refuses, a row the table does not have) stop it before any run with one ``error:`` line and
exit code 2.
"""

from __future__ import annotations

import argparse
import functools
import sys
import tomllib
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from history_match import read_box, roles  # noqa: E402
from hm_runs import LAST_YEAR, SCENARIO, SweepSimulator, sweep_text  # noqa: E402

from urbsim.analysis.destinations import (  # noqa: E402
    constants_by_province,
    corridor_concentration,
    destination_flows,
    full_logit_destinations,
    leaving_corridors,
    share_changes,
    stock_corridors,
)
from urbsim.analysis.floating_flows import floating_by_hukou  # noqa: E402
from urbsim.analysis.history_matching import CUTOFF  # noqa: E402
from urbsim.analysis.returns import (  # noqa: E402
    cohort_returns,
    composition_rate,
    return_cells,
)
from urbsim.analysis.stock_choices import sample_floating, stock_choices  # noqa: E402
from urbsim.analysis.targets import build_targets  # noqa: E402
from urbsim.analysis.worker_flows import left_far, worker_flows  # noqa: E402
from urbsim.model import UrbanizationModel  # noqa: E402
from urbsim.scenario import load_scenario  # noqa: E402
from urbsim.state import AGRICULTURAL  # noqa: E402
from urbsim.sweep.spec import toml_value  # noqa: E402


def _user_error(message: str) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)


def _is_set(name: str, items: list[str]) -> bool:
    """Whether one of the ``--set NAME=VALUE`` items sets ``name``."""
    return any(item.partition("=")[0] == name for item in items)


def fixed_fields(args: argparse.Namespace, names: tuple[str, ...]) -> dict[str, Any]:
    """The ``--fix NAME=VALUE`` fields (scenario fields outside the box) with their values,
    and ``behaviour.destination_constants`` with ``--destination-constants``."""
    fixed: dict[str, Any] = {}
    if args.destination_constants:
        fixed["behaviour.destination_constants"] = True
    for item in args.fix:
        name, sep, text = item.partition("=")
        if not sep or not name:
            _user_error(f"--fix {item}: expected NAME=VALUE")
        if name in names:
            _user_error(f"--fix {item}: {name!r} is a parameter of the box (use --set)")
        if name in ("seed", "world.households_per_agent") or name in fixed:
            _user_error(f"--fix {item}: {name!r} is set by this script's own options")
        try:
            fixed[name] = tomllib.loads(f"v = {text}")["v"]
        except tomllib.TOMLDecodeError:
            _user_error(f"--fix {item}: {text!r} is not a TOML value")
    return fixed


def parameter_set(
    args: argparse.Namespace, names: tuple[str, ...], fixed: dict[str, Any] | None = None
) -> pd.Series:
    """The box's parameters: the scenario's values, then the row of ``--from``, then ``--set``;
    checked with the ``fixed`` fields (:func:`fixed_fields`) against the scenario's schema."""
    scenario = load_scenario(SCENARIO).scenario
    values = pd.Series({n: float(functools.reduce(getattr, n.split("."), scenario)) for n in names})
    if args.from_table is not None:
        try:
            table = pd.read_csv(args.from_table, comment="#")
        except (OSError, ValueError) as exc:  # pandas' parser and empty-file errors
            _user_error(f"{args.from_table}: cannot be read ({exc})")
        if not 0 <= args.row < len(table):
            _user_error(f"{args.from_table}: no row {args.row} (it has {len(table)})")
        given = [n for n in names if n in table.columns]
        if not given:
            _user_error(f"{args.from_table}: no column is a parameter of the box")
        row = pd.to_numeric(table.iloc[args.row][given], errors="coerce")
        if row.isna().any():
            bad = ", ".join(row.index[row.isna()])
            _user_error(f"{args.from_table}: row {args.row}: not a number in {bad}")
        values[given] = row.astype(float)
        missing = [n for n in names if n not in given and not _is_set(n, args.set)]
        if missing:
            # Tables of fits made before a parameter joined the box lack its column.
            print(f"note: {args.from_table} has no column for {', '.join(missing)}: the "
                  "scenario's value is used (set it with --set)", file=sys.stderr)  # fmt: skip
    for item in args.set:
        name, _, text = item.partition("=")
        if name not in names:
            _user_error(f"--set {item}: {name!r} is not a parameter of the box")
        try:
            values[name] = float(text)
        except ValueError:
            _user_error(f"--set {item}: {text!r} is not a number")
    # The schema's limits (the scale's too), checked here rather than by a failed run.
    scenario_values = [f"{n}={v!r}" for n, v in values.items()]
    scenario_values.append(f"world.households_per_agent={float(args.households_per_agent)!r}")
    scenario_values += [f"{n}={toml_value(v)}" for n, v in (fixed or {}).items()]
    try:
        load_scenario(SCENARIO, scenario_values)
    except Exception as exc:  # the loader's own message names the field and the reason
        lines = str(exc).strip().splitlines() or [type(exc).__name__]
        _user_error(f"the set is not a valid scenario: {lines[-1]}")
    return values


def probe_table(targets: list, values: np.ndarray, cutoff: float = CUTOFF) -> pd.DataFrame:
    """Per target: the observation, the replications' mean and sd, the standardized error
    of the mean (measured run variance) and whether it is within ``cutoff``.

    Parameters
    ----------
    targets
        The targets (:class:`urbsim.analysis.targets.Target`), in the order of ``values``.
    values
        The targets' values in every replication (replications, targets).
    """
    r = values.shape[0]
    mean = values.mean(axis=0)
    var = values.var(axis=0, ddof=1)
    observed = np.array([t.observed for t in targets])
    sd = np.array([t.discrepancy_sd for t in targets])
    obs = np.array([t.observation_sd for t in targets])
    error = (mean - observed) / np.sqrt(var * (1.0 + 1.0 / r) + sd**2 + obs**2)
    return pd.DataFrame(
        {
            "target": [t.key for t in targets],
            "observed": observed,
            "model_mean": mean,
            "model_sd": np.sqrt(var),
            "error": error,
            "within_cutoff": np.abs(error) < cutoff,
        }
    )


def scenario_overrides(
    values: pd.Series, households_per_agent: float, seed: int, fixed: dict[str, Any]
) -> list[str]:
    """``--set`` overrides of one run of the set: its values, the scale, the seed and ``fixed``."""
    overrides = [f"{n}={v!r}" for n, v in values.items()]
    overrides += [f"{n}={toml_value(v)}" for n, v in fixed.items()]
    return [*overrides, f"world.households_per_agent={households_per_agent!r}", f"seed={seed}"]


def yearly_tables(
    values: pd.Series, households_per_agent: float, seed: int, fixed: dict[str, Any]
) -> dict[str, pd.DataFrame]:
    """One run of the set, year by year to :data:`hm_runs.LAST_YEAR`: ``returns``, every year's
    :func:`urbsim.analysis.returns.return_cells`; ``returns_by_cohort``, every year's
    :func:`urbsim.analysis.returns.cohort_returns` with the year's national
    ``return_migrants`` and ``hazard_return_migrants`` (agent persons) on each of its rows;
    ``worker_flows``,
    :func:`urbsim.analysis.worker_flows.worker_flows` with
    :func:`urbsim.analysis.worker_flows.left_far` as ``left_far``; ``destinations``,
    :func:`urbsim.analysis.destinations.destination_flows` by ``province_code`` (each with a
    ``year`` column first); ``corridors``, by hukou and destination province code the stock at
    the start (:func:`urbsim.analysis.destinations.stock_corridors`) and those who left home
    for another province over the run (:func:`urbsim.analysis.destinations.leaving_corridors`
    summed), corridors with either only; ``fixed`` as :func:`scenario_overrides`."""
    overrides = scenario_overrides(values, float(households_per_agent), seed, fixed)
    model = UrbanizationModel(load_scenario(SCENARIO, overrides))
    province, codes = model.province_of_place, model.province_codes
    frames: dict[str, list[pd.DataFrame]] = {
        "returns": [],
        "returns_by_cohort": [],
        "worker_flows": [],
        "destinations": [],
        "floating_by_hukou": [],
    }
    stock = stock_corridors(model.households, province)
    leaving = np.zeros_like(stock)
    away_since_start = None
    while model.year < LAST_YEAR:
        # A copy: a step may write the arrays in place.
        before = model.households.copy()
        model.step()
        after, year = model.households, model.year
        frames["returns"].append(return_cells(before, after).assign(year=year))
        cohorts, away_since_start = cohort_returns(before, after, away_since_start)
        # Which returns the hazard made is counted by the step (national counters), not per
        # household: the year's two national counts, in agent persons, on each of its rows.
        # Both count the persons of a returning household at the same moment (after the
        # year's births and deaths), the household arrays' ``persons_returned`` at the start.
        national = model.national_table().iloc[-1]
        for column in ("return_migrants", "hazard_return_migrants"):
            cohorts[column] = national[column] / model.hpa
        frames["returns_by_cohort"].append(cohorts.assign(year=year))
        far = left_far(before, after, province)
        frames["worker_flows"].append(worker_flows(before, after).assign(left_far=far, year=year))
        frames["floating_by_hukou"].append(floating_by_hukou(before, after).assign(year=year))
        table = destination_flows(before, after, province)
        table.insert(0, "province_code", codes[table.pop("province")])
        frames["destinations"].append(table.assign(year=year))
        leaving += leaving_corridors(before, after, province)
    tables = {k: pd.concat(v, ignore_index=True) for k, v in frames.items()}
    tables = {k: t[["year", *t.columns[:-1]]] for k, t in tables.items()}
    tables["floating"] = model.national_table()[["year", *FLOATING_COLUMNS]]
    origin, destination = np.nonzero((stock > 0) | (leaving > 0))
    tables["corridors"] = pd.DataFrame(
        {
            "origin_code": codes[origin],
            "destination_code": codes[destination],
            "stock_start": stock[origin, destination],
            "left_home": leaving[origin, destination],
        }
    )
    return tables


def print_returns(table: pd.DataFrame, cohorts: pd.DataFrame) -> None:
    """Each year's return rate (persons returned over persons away), the rates the first
    year's cells would give (:func:`urbsim.analysis.returns.composition_rate`), the share of
    the national return migrants whom the return hazard sent home, the return rates of the
    households away since the first year and of the later leavers, the share of the
    households away headed by someone under 30, and the shares of the persons away in their
    first year at the place and under three years there."""
    first = table[table["year"] == table["year"].min()]
    print("year  return rate  at first year's rates: age x years away  age x years here  "
          "by hazard  stock of 2010  later leavers  heads under 30  first year here  "
          "under 3 years here")  # fmt: skip
    for (year, cells), (_, rows) in zip(table.groupby("year"), cohorts.groupby("year"),
                                        strict=True):  # fmt: skip
        away = cells["households_away"].sum()
        persons, returned = cells["persons_away"].sum(), cells["persons_returned"].sum()
        young = cells.loc[cells["age_band"] == "15_29", "households_away"].sum() / away
        by = rows.groupby("cohort")[["persons_away", "persons_returned"]].sum()
        rate = by["persons_returned"] / by["persons_away"].where(by["persons_away"] > 0)
        national = rows.iloc[0]
        hazard = (
            national["hazard_return_migrants"] / national["return_migrants"]
            if national["return_migrants"] > 0
            else float("nan")
        )
        here = rows.groupby("here_band")["persons_away"].sum() / persons
        new, recent = here["0"], here["0"] + here["1_2"]
        by_away = composition_rate(first, cells, ("age_band", "away_band"))
        by_here = composition_rate(first, cells, ("age_band", "here_band"))
        print(f"{year}  {returned / persons:11.2%}  {by_away:36.2%}  {by_here:16.2%}  "
              f"{hazard:9.1%}  {rate['first_year_stock']:13.2%}  {rate['later_leavers']:13.2%}  "
              f"{young:14.1%}  {new:15.1%}  {recent:18.1%}")  # fmt: skip


def print_floating_by_hukou(table: pd.DataFrame, households_per_agent: float) -> None:
    """The floating persons of each hukou type at the end of every year (millions), and how
    many left home in the year; then the turnover of all floating persons: the year's
    arrivals at a place away from home (left home, moved on), returns and settlements, in
    per cent of the floating persons at the start of the year."""
    scale = households_per_agent / 1e6
    print("year  floating (million): agricultural  non-agricultural   left home: agr.  non-agr.")
    for year, rows in table.groupby("year"):
        r = rows.set_index("hukou_type") * 1.0
        end, left = r["floating_end"] * scale, r["left_home"] * scale
        print(f"{year}  {end['agricultural']:31.2f}  {end['non_agricultural']:16.2f}  "
              f"{left['agricultural']:15.2f}  {left['non_agricultural']:8.2f}")  # fmt: skip
    print("year  % of the floating at the start: left home  moved on  returned  settled")
    totals = table.groupby("year")[["floating_start", "left_home", "moved_on", "returned",
                                    "settled"]].sum()  # fmt: skip
    for year, t in totals.iterrows():
        rate = 100.0 * t / max(t["floating_start"], 1)
        print(f"{year}  {rate['left_home']:39.2f}  {rate['moved_on']:8.2f}  "
              f"{rate['returned']:8.2f}  {rate['settled']:7.2f}")  # fmt: skip


#: National columns of ``floating.csv``: who the floating persons are, year by year.
FLOATING_COLUMNS: tuple[str, ...] = (
    "floating_population",
    "outmigrant_workers",
    "floating_children",
    "floating_children_left_behind",
)
#: Migrant children (persons under 18 living away from their hukou township), millions: the
#: 2010 census (All-China Women's Federation 2013, research report on rural left-behind and
#: urban-rural migrant children) and the 2015 1 % sample survey (UNICEF, NBS and UNFPA 2017,
#: "Population status of children in China in 2015: facts and figures").
MIGRANT_CHILDREN_MILLIONS: dict[int, float] = {2010: 35.81, 2015: 34.26}


def print_floating(table: pd.DataFrame) -> None:
    """Each year's floating persons, out-migrant workers and children of floating households
    (millions), the school-age children left at the hukou place among them, the children
    living with their household (the official migrant children's definition: children away
    from their hukou place, not those left there) and their growth since the first year next to
    the official migrant children's (which count moves inside a county too: growth, not levels,
    compares)."""
    present = table["floating_children"] - table["floating_children_left_behind"]
    low, high = sorted(MIGRANT_CHILDREN_MILLIONS)
    official = MIGRANT_CHILDREN_MILLIONS[high] / MIGRANT_CHILDREN_MILLIONS[low]
    print(f"year  floating  workers  children  left behind  living away  index living away "
          f"(official {low}-{high}: {official:.3f})")  # fmt: skip
    for row, away in zip(table.itertuples(), present, strict=True):
        print(f"{row.year}  {row.floating_population / 1e6:8.1f}  "
              f"{row.outmigrant_workers / 1e6:7.1f}  {row.floating_children / 1e6:8.1f}  "
              f"{row.floating_children_left_behind / 1e6:11.1f}  {away / 1e6:11.1f}  "
              f"{away / present.iloc[0]:17.3f}")  # fmt: skip


def print_worker_flows(table: pd.DataFrame, households_per_agent: float) -> None:
    """Each year's national out-migrant workers at the start and every flow that changed them
    (millions of persons; they add up to the next year's workers), the yearly departure
    rates of the working-age persons at home in households headed by someone aged 15-29 and
    30-44, and the share of the workers who left home (heads of every age) that went to another
    province."""
    columns = ("workers_start", "left_home", "returned", "settled", "dissolved", "other_exit",
               "within", "formed")  # fmt: skip
    print("year  " + "  ".join(f"{c:>13}" for c in columns)
          + "  leave 15-29  leave 30-44  went far")  # fmt: skip
    for year, bands in table.groupby("year"):
        total = bands[list(columns)].sum() * households_per_agent / 1e6
        rate = bands.set_index("age_band")["departure_rate"]
        far = bands["left_far"].sum() / max(bands["left_home"].sum(), 1)
        cells = "  ".join(f"{total[c]:13.2f}" for c in columns)
        print(f"{year}  {cells}  {rate['15_29']:11.2%}  {rate['30_44']:11.2%}  {far:8.1%}")


def start_model(
    values: pd.Series, households_per_agent: float, seed: int, fixed: dict[str, Any]
) -> UrbanizationModel:
    """A model of the set at its start year, of its own: the year's inputs are built before any
    step, which the yearly run of the same set must not see."""
    overrides = scenario_overrides(values, float(households_per_agent), seed, fixed)
    return UrbanizationModel(load_scenario(SCENARIO, overrides))


def start_choices(
    model: UrbanizationModel, seed: int, origins: list[int], per_origin: int = 10
) -> pd.DataFrame:
    """Where the utility sends the young at home, without sampling: for each province code of
    ``origins``, up to ``per_origin`` households of it (drawn with ``seed``) living at their
    hukou place with agricultural hukou and a head under 30, their full-logit choice under the
    start year's places of ``model`` (before its first step;
    :func:`urbsim.analysis.destinations.full_logit_destinations`).

    Returns
    -------
    pandas.DataFrame
        One row per origin and destination province code: ``households`` averaged, ``move``
        and ``far`` (mean probabilities of moving, and of moving to another province), and
        ``probability`` (of the destination province).
    """
    inputs, h = model.year_inputs(), model.households
    province, codes = model.province_of_place, model.province_codes
    young = (h.persons > 0) & (h.place == h.hukou_place) & (h.head_age < 30)
    young &= h.hukou_type == AGRICULTURAL
    rng = np.random.default_rng(seed)
    frames = []
    for code in origins:
        rows = np.flatnonzero(young & (codes[province[h.place]] == code))
        if rows.size == 0:
            continue
        rows = np.sort(rng.permutation(rows)[:per_origin])
        move, far, destinations = full_logit_destinations(inputs, h, rows, province)
        frames.append(pd.DataFrame({"origin_code": code, "destination_code": codes,
                                    "households": rows.size, "move": move, "far": far,
                                    "probability": destinations}))  # fmt: skip
    columns = ["origin_code", "destination_code", "households", "move", "far", "probability"]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


#: Years whose floating stock ``--stock-choices`` weighs (those after the start year that the
#: run reaches).
STOCK_CHOICE_YEARS = (2011, 2013, 2016, 2019)


def yearly_stock_choices(model: UrbanizationModel, seed: int, size: int = 1000) -> pd.DataFrame:
    """Where the floating stock of ``model``'s start year and the stock at the end of later
    years would go on considering a move (:func:`urbsim.analysis.stock_choices.stock_choices`):
    ``size`` floating households drawn with ``seed`` each year, weighed with that year's inputs
    (places, parameters, the count after its step), in a run of its own."""
    frames = []
    while True:
        if model.year == model.start_year or model.year in STOCK_CHOICE_YEARS:
            rows = sample_floating(model.households, size, seed + model.year)
            table = stock_choices(model.year_inputs(), model.households, rows)
            frames.append(table.assign(year=model.year))
        if model.year >= min(LAST_YEAR, max(STOCK_CHOICE_YEARS)):
            break
        model.step()
    table = pd.concat(frames, ignore_index=True)
    return table[["year", *table.columns[:-1]]]


def print_stock_choices(table: pd.DataFrame) -> None:
    """Each year's mean probabilities of going home, staying and moving on, the share of the
    households that would go home almost surely, and the mean of going home by age band."""
    bands = table.pivot_table(index="year", columns="age_band", values="home", aggfunc="mean")
    print("year   home   stay  onward  home > 0.95  | home by head's age: "
          + "  ".join(f"{c:>7}" for c in bands.columns))  # fmt: skip
    for year, rows in table.groupby("year"):
        band = "  ".join(f"{v:7.3f}" for v in bands.loc[year])
        print(f"{year}  {rows.home.mean():.3f}  {rows.stay.mean():.3f}  {rows.onward.mean():.3f}"
              f"  {(rows.home > 0.95).mean():11.1%}  |                      {band}")  # fmt: skip


def start_constants(model: UrbanizationModel) -> pd.DataFrame:
    """The destination constants of the set by province, before the first step of ``model``:
    those its run set (``behaviour.destination_constants``) or, where it set none, those it
    would set (:func:`urbsim.analysis.destinations.constants_by_province`)."""
    utilities = model.mover_utilities()
    constants = model.entry_constant
    if not model.spec.behaviour.destination_constants:
        constants = model.fit_destination_constants()
    return constants_by_province(
        utilities, constants, model.start_migrants, model.province_of_place, model.province_codes
    )


def print_constants(table: pd.DataFrame, top: int = 8) -> None:
    """Print :func:`start_constants`'s provinces with the ``top`` largest in-migrant shares and
    the inter-province share of the arrivals in all."""
    print("destination constants: where the start year's movers would go, by province "
          "(largest in-migrant shares; all arrivals, and those from other provinces)")  # fmt: skip
    print("province  in-migrants  observed terms  with constants  "
          "from other provinces: in-migrants  observed terms  with constants")  # fmt: skip
    for r in table.head(top).itertuples():
        print(f"{r.province_code:>8}  {r.in_migrant_share:11.1%}  "
              f"{r.share_without_constants:14.1%}  {r.share_with_constants:14.1%}  "
              f"{r.across_in_migrant_share:33.1%}  {r.across_share_without_constants:14.1%}  "
              f"{r.across_share_with_constants:14.1%}")  # fmt: skip
    print(f"from other provinces, all provinces: in-migrants "
          f"{table['across_in_migrant_share'].sum():.1%}, observed terms "
          f"{table['across_share_without_constants'].sum():.1%}, with constants "
          f"{table['across_share_with_constants'].sum():.1%}")  # fmt: skip


def print_start_choices(table: pd.DataFrame, corridors: pd.DataFrame) -> None:
    """Per origin: the young's probabilities of moving and of going far, and the destination
    province with most of the far probability against its share of the origin's stock."""
    stock = corridors.groupby(["origin_code", "destination_code"])["stock_start"].sum()
    print("young at home, full logit at the start: origin  move  far of move  top destination"
          "  share of far  share of stock")  # fmt: skip
    for code, rows in table.groupby("origin_code", sort=False):
        best = rows.loc[rows["probability"].idxmax()]
        move, far = rows["move"].iloc[0], rows["far"].iloc[0]
        of_stock = stock.get((code, best["destination_code"]), 0) / stock.loc[code].sum()
        share = best["probability"] / far if far > 0 else float("nan")
        of_move = far / move if move > 0 else float("nan")
        print(f"{code:6d}  {move:6.1%}  {of_move:11.1%}  {int(best['destination_code']):15d}"
              f"  {share:12.1%}  {of_stock:14.1%}")  # fmt: skip


def print_corridors(table: pd.DataFrame, households_per_agent: float, top: int = 8) -> None:
    """For the provinces that sent most people from home to other provinces over the run: how
    many, where most of them went and what share of the province's 2010 stock lives there, and
    the total variation between the leavers' and the stock's destinations
    (:func:`urbsim.analysis.destinations.corridor_concentration`), then its mean over the
    provinces weighted by their leavers."""
    codes = np.union1d(table["origin_code"], table["destination_code"])
    index = {c: k for k, c in enumerate(codes)}
    shape = (len(codes), len(codes))
    o = table["origin_code"].map(index).to_numpy()
    d = table["destination_code"].map(index).to_numpy()
    stock, leaving = np.zeros(shape, dtype=np.int64), np.zeros(shape, dtype=np.int64)
    stock[o, d], leaving[o, d] = table["stock_start"], table["left_home"]
    rows = corridor_concentration(stock, leaving)
    rows = rows.sort_values("leaving", ascending=False, kind="stable")
    total = rows["leaving"].sum()
    weighted = (rows["variation"] * rows["leaving"]).sum() / total if total > 0 else np.nan
    million = total * households_per_agent / 1e6
    print(f"left home for another province: {million:.2f} million; destinations against "
          f"their province's stock: total variation {weighted:.3f}")  # fmt: skip
    print("origin  left home (M)  top destination  share of leavers  share of stock  variation")
    for row in rows.head(top).itertuples():
        if row.leaving == 0:
            break
        print(f"{codes[row.province]:6d}  {row.leaving * households_per_agent / 1e6:13.2f}  "
              f"{codes[row.top]:15d}  {row.top_leaving:16.1%}  {row.top_stock:14.1%}  "
              f"{row.variation:9.3f}")  # fmt: skip


def print_destinations(table: pd.DataFrame, households_per_agent: float, top: int = 8) -> None:
    """The provinces whose share of the inter-province migrants changed most over the run
    (:func:`urbsim.analysis.destinations.share_changes`), with the flows that changed their
    stock (millions of persons, summed over the years), and the total variation distance
    between the first and the last year's distributions."""
    changes = share_changes(table.rename(columns={"province_code": "province"}))
    scale = households_per_agent / 1e6
    tvd = changes["change"].abs().sum() / 2
    print(f"inter-province migrants by province, {table['year'].min() - 1} to "
          f"{table['year'].max()}: total variation {tvd:.3f}")  # fmt: skip
    flows = ("arrived_from_home", "arrived_onward", "returned", "settled", "left")
    print("province  share start  share end  change (pp)  " + "  ".join(f"{f:>17}" for f in flows))
    for row in changes.head(top).itertuples():
        cells = "  ".join(f"{getattr(row, f) * scale:17.2f}" for f in flows)
        print(f"{row.province:8d}  {row.share_start:11.1%}  {row.share_end:9.1%}  "
              f"{100 * row.change:+11.1f}  {cells}")  # fmt: skip


def parse() -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", type=Path)
    p.add_argument("--box", type=Path, default=HERE / "box.csv")
    p.add_argument("--from", dest="from_table", type=Path, default=None)
    p.add_argument("--row", type=int, default=0)
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument(
        "--fix",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a scenario field outside the box, in every run (VALUE in TOML)",
    )
    p.add_argument("--replications", type=int, default=2)
    p.add_argument("--households-per-agent", type=float, default=1000.0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--returns", action="store_true", help="also write returns.csv (one run)")
    p.add_argument(
        "--worker-flows",
        action="store_true",
        help="also write worker_flows.csv and floating.csv (one run)",
    )
    p.add_argument(
        "--destinations",
        action="store_true",
        help="also write destinations.csv, corridors.csv, start_choices.csv and constants.csv "
        "(one run)",
    )
    p.add_argument(
        "--stock-choices",
        action="store_true",
        help="also write stock_choices.csv (a run of its own)",
    )
    p.add_argument(
        "--destination-constants",
        action="store_true",
        help="run with behaviour.destination_constants (the scenario's value otherwise)",
    )
    args = p.parse_args()
    if args.replications < 2:
        _user_error("--replications must be at least 2 (the run variance is measured)")
    return args


def main() -> int:
    """Run the set; write ``probe.csv``; print the targets it misses."""
    args = parse()
    try:
        box = read_box(args.box)
    except (OSError, ValueError, KeyError, AttributeError) as exc:
        _user_error(f"{args.box}: not a box file ({exc})")
    fixed = fixed_fields(args, box.names)
    values = parameter_set(args, box.names, fixed)
    # Every target the fit could use (fitted or held out: not initial states, not pending).
    targets = build_targets()
    role = roles(targets, 2019).set_index("target")["role"]
    usable = [t for t in targets if role[t.key] in ("fitted", "held out")]
    x = values.to_numpy()[None, :]
    folder = args.out / "probe"
    text = sweep_text(folder, box, x, args.replications, args.seed, args.households_per_agent,
                      usable, fixed)  # fmt: skip
    old = folder / "sweep.toml"
    if old.is_file() and old.read_text(encoding="utf-8") != text:
        _user_error(f"{args.out}: holds the probe of another set, seed, scale or replications "
                    "(choose another folder)")  # fmt: skip
    args.out.mkdir(parents=True, exist_ok=True)
    sim = SweepSimulator(args.out, box, usable, usable, args.households_per_agent, args.workers,
                         fixed=fixed)  # fmt: skip
    y = sim.run(x, args.replications, args.seed, "probe")[0]
    table = probe_table(usable, y)
    table.to_csv(args.out / "probe.csv", index=False, float_format="%.6g")
    values.rename("value").to_csv(args.out / "parameters.csv", index_label="parameter")
    off = table[~table["within_cutoff"]]
    worst = float(np.abs(table["error"]).max())
    print(f"{len(off)} of {len(table)} targets outside {CUTOFF:g} (largest |error| {worst:.2f})")
    for row in off.itertuples():
        print(f"  {row.target}: model {row.model_mean:.4g}, observed {row.observed:.4g}, "
              f"error {row.error:+.1f}")  # fmt: skip
    if args.returns or args.worker_flows or args.destinations:
        tables = yearly_tables(values, args.households_per_agent, args.seed, fixed)
        if args.returns:
            tables["returns"].to_csv(args.out / "returns.csv", index=False, float_format="%.6g")
            by_cohort = tables["returns_by_cohort"]
            by_cohort.to_csv(args.out / "returns_by_cohort.csv", index=False, float_format="%.6g")
            print_returns(tables["returns"], by_cohort)
        if args.worker_flows:
            flows = tables["worker_flows"]
            flows.to_csv(args.out / "worker_flows.csv", index=False, float_format="%.6g")
            print_worker_flows(flows, args.households_per_agent)
            floating = tables["floating"]
            floating.to_csv(args.out / "floating.csv", index=False, float_format="%.6g")
            print_floating(floating)
            by_type = tables["floating_by_hukou"]
            by_type.to_csv(args.out / "floating_by_hukou.csv", index=False, float_format="%.6g")
            print_floating_by_hukou(by_type, args.households_per_agent)
        if args.destinations:
            for name in ("destinations", "corridors"):
                tables[name].to_csv(args.out / f"{name}.csv", index=False, float_format="%.6g")
            print_destinations(tables["destinations"], args.households_per_agent)
            corridors = tables["corridors"]
            print_corridors(corridors, args.households_per_agent)
            # The provinces with the most migrants in other provinces at the start.
            sent = corridors.groupby("origin_code")["stock_start"].sum().nlargest(8)
            model = start_model(values, args.households_per_agent, args.seed, fixed)
            choices = start_choices(model, args.seed, list(sent.index))
            choices.to_csv(args.out / "start_choices.csv", index=False, float_format="%.6g")
            print_start_choices(choices, tables["corridors"])
            constants = start_constants(model)
            constants.to_csv(args.out / "constants.csv", index=False, float_format="%.6g")
            print_constants(constants)
    if args.stock_choices:
        model = start_model(values, args.households_per_agent, args.seed, fixed)
        choices = yearly_stock_choices(model, args.seed)
        choices.to_csv(args.out / "stock_choices.csv", index=False, float_format="%.6g")
        print_stock_choices(choices)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
