"""The policy results text is generated from the tables: no number or comparative word typed by
hand, every scenario covered, every stated mechanism pointing to its diagnostic table."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest

HERE = Path(__file__).resolve().parents[2] / "experiments" / "policy_directions"
TEMPLATE = HERE / "results_template.md"


@pytest.fixture(scope="module")
def analyze() -> ModuleType:
    sys.path.insert(0, str(HERE))
    spec = importlib.util.spec_from_file_location("urbsim_policy_analyze", HERE / "analyze.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _tables(analyze: ModuleType) -> dict[str, pd.DataFrame]:
    """Made-up tables with every row and column the analysis writes (values alternate in sign
    and discovery, so every word of every placeholder can be chosen)."""
    scenarios = list(analyze.SCENARIOS)
    rows = [(s, i) for s in scenarios for i in analyze.INDICATORS]
    outcomes = pd.DataFrame(rows, columns=["scenario", "indicator"]).assign(
        mean=1.5, lo95=1.0, hi95=2.0
    )
    effects = [*scenarios[1:], analyze.INTERACTION]
    effect_rows = [(s, i) for s in effects for i in analyze.INDICATORS]
    diff = pd.DataFrame(effect_rows, columns=["scenario", "indicator"])
    sign = (diff.index % 3 - 1).astype(float)
    diff = diff.assign(mean=sign, lo95=sign - 1, hi95=sign + 1, discovery=diff.index % 2 == 0)
    gap = pd.DataFrame({"scenario": scenarios, "size_class_code": 0, "mean": 1.0})
    design = pd.DataFrame(
        {"value": dict.fromkeys(["scenarios", "directions", "variants", "parameter_sets",
                                 "replications", "runs_per_scenario", "households_per_agent",
                                 "places", "agents_2020"], 4.0)}
    ).rename_axis("quantity")  # fmt: skip
    return analyze.keyed_tables(outcomes, diff, gap, design)


def _results_folder(tmp_path: Path, analyze: ModuleType) -> Path:
    for name in analyze.OUTPUTS:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x\n", encoding="utf-8")
    return tmp_path


def test_the_template_renders_from_the_tables_alone(tmp_path: Path, analyze: ModuleType) -> None:
    text = analyze.render_results(TEMPLATE, _tables(analyze), _results_folder(tmp_path, analyze))
    assert "{" not in text and "}" not in text


def test_every_scenario_and_the_interaction_are_in_the_text(analyze: ModuleType) -> None:
    template = TEMPLATE.read_text(encoding="utf-8")
    cited = set(re.findall(r"\{(?:num|effect):diff:(\w+)\.", template))
    assert cited == {*list(analyze.SCENARIOS)[1:], analyze.INTERACTION}
    assert {s for s in re.findall(r"\{num:out:(\w+)\.", template)} == {analyze.REFERENCE}


def test_every_mechanism_paragraph_points_to_the_diagnostics(analyze: ModuleType) -> None:
    template = TEMPLATE.read_text(encoding="utf-8")
    for paragraph in template.split("\n\n"):
        used = set(re.findall(r"\{(?:num|effect):diff:\w+\.(\w+)", paragraph))
        if used & set(analyze.MECHANISMS):
            assert "`mechanisms.csv`" in paragraph, paragraph[:80]


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("Direction 1 lowers the gap by {num:diff:d1_services.service_gap_pct:mean}.", "numbers"),
        ("Services lower the gap ({num:diff:d1_services.service_gap_pct:mean}).", "words"),
        ("Services {effect:diff:d1_services.service_gap_pct:a|b|c} it (`costs.csv`).", "files"),
        ("Services {effect:diff:d1_services.nope:a|b|c} it.", "no row"),
    ],
)
def test_typed_numbers_words_and_missing_tables_stop_the_analysis(
    tmp_path: Path, analyze: ModuleType, typed: str, reason: str
) -> None:
    template = tmp_path / "template.md"
    template.write_text(typed, encoding="utf-8")
    folder = _results_folder(tmp_path / "results", analyze)
    with pytest.raises(SystemExit, match=reason):
        analyze.render_results(template, _tables(analyze), folder)
