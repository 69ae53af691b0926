"""What the explorer page holds, without any user interface: levers, runs, exports.

Every lever is a scenario field written as a ``dotted.key=value`` override, exactly as
``urbsim run --set`` takes it, and a page run goes through :func:`urbsim.scenario.load_scenario`
and :func:`urbsim.runner.simulate` like the command line: there is no second implementation of
the model here. The export is a scenario file that ``extends`` the chosen file with the same
overrides, so ``urbsim run`` of it reproduces the page's run bit for bit.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import pandas as pd

from urbsim.errors import InputError, UrbsimError
from urbsim.scenario import LoadedScenario, ScenarioError, load_scenario

#: Settlement keys of the scenario, largest size class first, with the page's labels.
SETTLEMENT_CLASSES: Final[tuple[tuple[str, str], ...]] = (
    ("super_large", "super-large"),
    ("mega", "mega"),
    ("large_i", "large I"),
    ("large_ii", "large II"),
    ("medium", "medium"),
    ("small", "small"),
    ("county_town", "county town"),
)
#: Settlement rules a size class may have (the schema's ``SettlementRule.rule``).
RULES: Final[tuple[str, ...]] = ("closed", "open", "conditional", "points")

LeverKind = Literal["choice", "value"]


class RunStopped(UrbsimError):
    """The user pressed Stop: the run ended before its last year and shows nothing."""


@dataclass(frozen=True)
class Lever:
    """One control of the page: a scenario field, its label and how it is entered.

    Attributes
    ----------
    key : str
        Dotted field. Policy fields are relative to the policy (``settlement.mega.rule``) and
        get ``policy.`` or ``timeline.<year>.`` in front; the others are scenario fields.
    label : str
        Label shown on the page.
    kind : {"choice", "value"}
        ``choice``: one of ``choices`` (a TOML string); ``value``: free text read as a TOML
        value, like the right-hand side of ``--set``.
    choices : tuple of str
        The options of a ``choice`` lever.
    policy : bool
        Whether ``key`` is a policy field.
    """

    key: str
    label: str
    kind: LeverKind = "value"
    choices: tuple[str, ...] = ()
    policy: bool = True


def _levers() -> tuple[Lever, ...]:
    out: list[Lever] = []
    for key, label in SETTLEMENT_CLASSES:
        out.append(Lever(f"settlement.{key}.rule", f"Settlement rule: {label}", "choice", RULES))
        out.append(Lever(f"settlement.{key}.min_years", f"Years of residence: {label}"))
    for key in ("super_large", "mega"):
        out.append(Lever(f"settlement.{key}.quota_per_10k", f"Points quota per 10k: {key}"))
    out += [
        Lever("permit.enabled", "Residence permits", "choice", ("true", "false")),
        Lever("permit.access", "Permit access schedule"),
        Lever("permit.min_residence_months", "Permit after months of residence"),
        Lever("service_funding_base", "Funding base", "choice", ("registered", "permanent")),
        Lever("county_town.budget", "County-town budget (bn yuan/yr)"),
        Lever("county_town.priority", "County-town regional priority"),
        Lever("renewal.households_per_year", "Renewal: households per year"),
        Lever("governance_efficiency", "Governance efficiency"),
        Lever("world.households_per_agent", "Households per agent", policy=False),
        Lever("seed", "Seed", policy=False),
    ]
    return tuple(out)


#: Every lever of the page, in the order shown.
LEVERS: Final[tuple[Lever, ...]] = _levers()


def toml_value(value: Any) -> str:
    """``value`` as a TOML literal (the text a ``--set`` value or a scenario line takes).

    Parameters
    ----------
    value
        A bool, int, float, str, list or dict of those (as the scenario schema dumps them).
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        # repr: the shortest text that reads back as the same float, so no value drifts.
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"no TOML literal for {type(value).__name__}")


def _field(data: dict[str, Any], dotted: str) -> Any:
    node: Any = data
    for part in dotted.split("."):
        node = node[part]
    return node


def lever_text(lever: Lever, value: Any) -> str:
    """What the page shows for a lever: the bare option of a choice, else a TOML literal."""
    if lever.kind == "choice":
        return toml_value(value) if isinstance(value, bool) else str(value)
    return toml_value(value)


def scenario_files(folder: Path) -> list[Path]:
    """The scenario files under ``folder`` (``*.toml``, sorted); none if it is not a folder."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*.toml") if p.is_file())


def _packaged() -> list[tuple[str, Path]]:
    """Packaged scenarios (name, file) when this urbsim has the scenario registry."""
    try:
        registry = importlib.import_module("urbsim.scenario.registry")
    except ModuleNotFoundError:
        return []
    return [(item.name, Path(item.path)) for item in registry.packaged_scenarios()]


def scenario_choices(folder: Path | None) -> dict[str, Path]:
    """The scenarios the page offers, by the name shown: files under ``folder`` (by their
    path below it), then packaged scenarios (``packaged: NAME``) that are not among them.

    Parameters
    ----------
    folder
        Folder of scenario files, or None for packaged scenarios only.
    """
    out = (
        {}
        if folder is None
        else {p.relative_to(folder).as_posix(): p for p in scenario_files(folder)}
    )
    seen = {p.resolve() for p in out.values()}
    for name, path in _packaged():
        if path.resolve() not in seen:
            out[f"packaged: {name}"] = path
    return out


def policy_year(loaded: LoadedScenario, from_year: int) -> int:
    """``from_year`` limited to the run's years (the policy levers change from that year on)."""
    sc = loaded.scenario
    return min(max(from_year, sc.start_year), sc.end_year)


def initial_values(loaded: LoadedScenario, from_year: int) -> dict[str, str]:
    """Each lever's text as the scenario has it: the policy in force in ``from_year``.

    Parameters
    ----------
    loaded
        The chosen scenario, without overrides.
    from_year
        Year from which the policy levers apply.
    """
    policy = loaded.policy(policy_year(loaded, from_year)).model_dump(mode="json")
    scenario = loaded.scenario.model_dump(mode="json")
    return {
        lever.key: lever_text(lever, _field(policy if lever.policy else scenario, lever.key))
        for lever in LEVERS
    }


def override_value(lever: Lever, text: str) -> str:
    """The ``--set`` value of a lever's text: a choice becomes a TOML string (or bool)."""
    if lever.kind == "choice" and text not in ("true", "false"):
        return json.dumps(text)
    return text.strip()


def default_from_year(loaded: LoadedScenario) -> int:
    """The year the policy levers apply from unless the user picks another: the year after
    the scenario's last timeline entry (so no entry of the file overrides them later), or the
    first year for a scenario without a timeline."""
    sc = loaded.scenario
    years = [int(key) for key in sc.timeline]
    return policy_year(loaded, max(years) + 1) if years else sc.start_year


def later_timeline_years(loaded: LoadedScenario, from_year: int) -> list[int]:
    """Timeline years of the scenario after ``from_year``: their entries override the levers."""
    year = policy_year(loaded, from_year)
    return sorted(int(key) for key in loaded.scenario.timeline if int(key) > year)


def overrides_for(loaded: LoadedScenario, from_year: int, values: dict[str, str]) -> list[str]:
    """The ``--set`` overrides of the levers that differ from the scenario.

    Policy levers apply from ``from_year`` on: the scenario's ``policy`` when that is the
    first year, else ``timeline.<from_year>`` (merged into the policy in force, like any
    timeline entry). The seed is always written, so that an export names the run's seed.

    Parameters
    ----------
    loaded
        The chosen scenario, without overrides.
    from_year
        Year from which the policy levers apply.
    values
        Lever key to its text on the page.
    """
    year = policy_year(loaded, from_year)
    prefix = "policy." if year == loaded.scenario.start_year else f"timeline.{year}."
    initial = initial_values(loaded, year)
    out = []
    for lever in LEVERS:
        if lever.key == "seed":
            continue
        text = values.get(lever.key, initial[lever.key])
        if text.strip() == initial[lever.key]:
            continue
        key = prefix + lever.key if lever.policy else lever.key
        out.append(f"{key}={override_value(lever, text)}")
    out.append(f"seed={values.get('seed', initial['seed']).strip()}")
    return out


@dataclass(frozen=True)
class RunSpec:
    """What a page run is: the scenario file and the overrides of the levers."""

    path: Path
    overrides: tuple[str, ...]

    def load(self) -> LoadedScenario:
        """The scenario with the overrides, as ``urbsim run PATH --set ...`` loads it.

        Raises
        ------
        urbsim.errors.UrbsimError
            With the command line's message when a lever's value is refused.
        """
        try:
            return load_scenario(self.path, overrides=list(self.overrides))
        except ScenarioError as exc:
            if exc.source != "--set":
                raise
            # The command line's wording (urbsim.cli.main._load) for a malformed override.
            raise InputError(f"{exc}\n(overrides of {self.path.resolve()})") from None


def export_toml(spec: RunSpec) -> str:
    """A scenario file that reproduces ``spec``: ``extends`` the file, then the overrides.

    Written with dotted keys (``timeline.2025.settlement.mega.rule = "open"``) at the top
    level, which TOML merges into the tables of the extended file exactly as ``--set`` does.
    """
    lines = [
        "# Exported by `urbsim explore`: the scenario of the run shown on the page.",
        "# Check it with `urbsim check FILE`; `urbsim run FILE` reproduces the run bit for bit.",
        f"extends = {json.dumps(str(spec.path.resolve()), ensure_ascii=False)}",
    ]
    for item in spec.overrides:
        key, _, value = item.partition("=")
        lines.append(f"{key.strip()} = {value.strip()}")
    return "\n".join(lines) + "\n"


def national_csv(national: pd.DataFrame) -> str:
    """The national table as CSV text, every float written with all its digits."""
    return national.to_csv(index=False, float_format=None, lineterminator="\n")


def national_digest(national: pd.DataFrame) -> str:
    """sha256 of :func:`national_csv`: equal digests mean bit-identical tables."""
    return hashlib.sha256(national_csv(national).encode()).hexdigest()


#: Series compared between the current run and the saved reference (column, label, scale).
COMPARED: Final[tuple[tuple[str, str, float], ...]] = (
    ("urbanization_rate", "Resident urbanization (%)", 100.0),
    ("hukou_urbanization_rate", "Hukou urbanization (%)", 100.0),
    ("floating_population", "Floating population (M)", 1e-6),
    ("service_gap", "Service needs not served (%)", 100.0),
    ("entitlement_gap", "Entitlement gap (%)", 100.0),
    ("capacity_gap", "Capacity gap (%)", 100.0),
    ("county_town_share", "County-town share (%)", 100.0),
    ("province_moves", "Moves between provinces (M)", 1e-6),
)


def compare_runs(current: pd.DataFrame, reference: pd.DataFrame, year: int = 2035) -> pd.DataFrame:
    """The compared series of two national tables in ``year`` and their difference.

    ``year`` falls back to the last year both runs have when one ends earlier.

    Returns
    -------
    pandas.DataFrame
        Columns ``measure``, ``current``, ``reference`` and ``difference`` (current minus
        reference), in the units of the labels.
    """
    common = sorted(set(current["year"]) & set(reference["year"]))
    if not common:
        raise UrbsimError("the current run and the reference have no year in common")
    at = year if year in common else common[-1]
    cur = current.set_index("year").loc[at]
    ref = reference.set_index("year").loc[at]
    rows = []
    for column, label, scale in COMPARED:
        a, b = float(cur[column]) * scale, float(ref[column]) * scale
        rows.append(
            {"measure": f"{label}, {at}", "current": a, "reference": b, "difference": a - b}
        )
    return pd.DataFrame(rows)


@dataclass
class Stopper:
    """A Stop button for a run in another thread: the progress callback raises when set."""

    event: threading.Event = field(default_factory=threading.Event)

    def stop(self) -> None:
        """Ask the run to end after the year it is simulating."""
        self.event.set()

    def reset(self) -> None:
        """Clear a previous Stop before a new run."""
        self.event.clear()


def run_spec(
    spec: RunSpec,
    progress: Callable[[int, int], None] | None = None,
    stopper: Stopper | None = None,
) -> Any:
    """Load and simulate ``spec`` on the command line's code path.

    Parameters
    ----------
    spec
        Scenario file and overrides.
    progress
        Called as ``progress(years_done, years_total)`` after each year.
    stopper
        When its event is set, the run raises :class:`RunStopped` after the current year.

    Returns
    -------
    urbsim.runner.RunResult
        The run's tables.

    Raises
    ------
    urbsim.errors.UrbsimError
        A refused lever value (the command line's message) or :class:`RunStopped`.
    """
    from urbsim.runner import simulate

    loaded = spec.load()

    def on_year(done: int, total: int, households: int) -> None:
        if progress is not None:
            progress(done, total)
        if stopper is not None and stopper.event.is_set():
            raise RunStopped(f"stopped after {done} of {total} years")

    return simulate(loaded, progress=on_year)


def describe_overrides(overrides: Sequence[str]) -> str:
    """The overrides as ``--set`` flags, for showing the command that reproduces a run."""
    return " ".join(f"--set '{item}'" for item in overrides)
