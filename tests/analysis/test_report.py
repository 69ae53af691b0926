"""Results text from tables: placeholders, comparative words and typed numbers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from urbsim.analysis.report import (
    TemplateError,
    markdown_table,
    missing_files,
    render,
    render_results,
    typed_numbers,
    typed_words,
    write_readme,
)

TABLES = {
    "fit": pd.DataFrame(
        {"error": [0.0123, -0.5, 0.0001], "ok": [True, False, True]},
        index=pd.Index(["urb@2019", "hukou@2019", "tiny@2019"], name="target"),
    )
}


def test_placeholders_are_filled_from_the_tables() -> None:
    text = render(
        "error {num:fit:urb@2019:error:pct1} pp, {word:fit:hukou@2019:error:below|on|above} "
        "the target, {word:fit:tiny@2019:error:below|on|above} and "
        "{yesno:fit:hukou@2019:ok:outside|within}; {num:fit:hukou@2019:error}",
        TABLES,
    )
    assert text == "error 1.2 pp, below the target, above and outside; -0.5"


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ("{num:nope:urb@2019:error}", "no table 'nope'"),
        ("{num:fit:urb@2018:error}", "no row 'urb@2018'"),
        ("{num:fit:urb@2019:err}", "no column 'err'"),
        ("{word:fit:urb@2019:error:up|down}", "NEGATIVE|ZERO|POSITIVE"),
        # A colon inside the words used to cut the text there, silently.
        ("{yesno:fit:hukou@2019:ok:no|yes: it is}", "a ':' inside its words"),
    ],
)
def test_a_placeholder_that_cannot_be_filled_is_an_error(template: str, reason: str) -> None:
    with pytest.raises(TemplateError, match=reason):
        render(template, TABLES)


def test_typed_numbers_are_found_outside_placeholders() -> None:
    template = (
        "# Fit 2010-2019\n1. In 2019 the error is {num:fit:urb@2019:error} (`lhs.toml`, n = 90),\n"
        "about 2 % of the target, two thirds of 0.5 pp; v2 and x1 are names.\n"
    )
    assert typed_numbers(template) == ["90", "2", "0.5"]
    assert typed_numbers("Years 2014-2018 and {table:fit}, {lit:95 %} ranges.") == []
    assert render("the {lit:5-95 %} range", TABLES) == "the 5-95 % range"


def test_markdown_table() -> None:
    table = pd.DataFrame({"a": ["x"], "b": [0.123456]})
    assert markdown_table(table) == "| a | b |\n|---|---|\n| x | 0.1235 |"
    # A table keyed by a named index shows the key as its first column.
    keyed = render("{table:fit}", {"fit": TABLES["fit"].head(1)})
    assert keyed.splitlines()[0] == "| target | error | ok |"
    assert keyed.splitlines()[2] == "| urb@2019 | 0.0123 | True |"


EFFECTS = {
    "diff": pd.DataFrame(
        {
            "mean": [-0.8, 0.3, 0.4],
            "discovery": [True, True, False],
            "label": ["Direction 1", "Direction 2", "Direction 3"],
        },
        index=pd.Index(["d1.gap", "d2.gap", "d3.gap"], name="row"),
    )
}


def test_effect_words_follow_the_sign_only_of_a_discovery() -> None:
    template = "{effect:diff:ROW:lowers|does not clearly change|raises}"
    got = [render(template.replace("ROW", r), EFFECTS) for r in ("d1.gap", "d2.gap", "d3.gap")]
    # d3's mean is positive but not a discovery at the chosen false discovery rate.
    assert got == ["lowers", "raises", "does not clearly change"]
    assert render("{text:diff:d2.gap:label}", EFFECTS) == "Direction 2"
    with pytest.raises(TemplateError, match=r"NEGATIVE\|UNCLEAR\|POSITIVE"):
        render("{effect:diff:d1.gap:up|down}", EFFECTS)


def test_comparative_words_are_found_outside_placeholders() -> None:
    template = (
        "Direction 1 lowers hukou urbanization, the largest effect, about two thirds of it; "
        "people hardly follow. {effect:diff:d1.gap:lowers|keeps|raises} the gap "
        "(`lower_bound.csv`); {lit:the four directions} were run; growth poles are named."
    )
    assert typed_words(template) == ["lowers", "largest", "about", "two", "thirds", "hardly"]
    assert typed_words(render("{effect:diff:d1.gap:lowers|keeps|raises}", EFFECTS)) == ["lowers"]


def test_files_a_template_points_to_must_exist(tmp_path: Path) -> None:
    (tmp_path / "figures").mkdir()
    (tmp_path / "differences.csv").write_text("a\n1\n", encoding="utf-8")
    (tmp_path / "figures" / "effects.png").write_bytes(b"")
    template = (
        "See `differences.csv`, `figures/effects.png`, `mechanisms.csv`, "
        "`results/calibration/full/ensemble.csv` and `experiments/policy_directions/README.md`."
    )
    assert missing_files(template, tmp_path) == ["mechanisms.csv"]


def test_render_results_checks_the_template_file_before_filling_it(tmp_path: Path) -> None:
    tables = {"s": pd.DataFrame({"value": [0.25]}, index=["share"])}
    template = tmp_path / "template.md"
    results = tmp_path / "results"
    results.mkdir()
    template.write_text("A share {num:s:share:value:.2f} (`s.csv`).", encoding="utf-8")
    with pytest.raises(TemplateError, match=r"template\.md: points to files .*s\.csv"):
        render_results(template, tables, results)
    (results / "s.csv").write_text("quantity,value\nshare,0.25\n", encoding="utf-8")
    assert render_results(template, tables, results) == "A share 0.25 (`s.csv`)."
    # Without a results folder the files are not checked.
    assert render_results(template, tables) == "A share 0.25 (`s.csv`)."
    for text, reason in [
        ("A share of 0.25.", r"numbers \['0\.25'\]"),
        ("A larger share {num:s:share:value}.", r"comparative words \['larger'\]"),
        ("A share {num:s:nope:value}.", r"template\.md: .*nope"),
    ]:
        template.write_text(text, encoding="utf-8")
        with pytest.raises(TemplateError, match=reason):
            render_results(template, tables, results)


def test_write_readme_writes_the_filled_template_or_exits_with_one_line(tmp_path: Path) -> None:
    template = tmp_path / "template.md"
    template.write_text("Error {num:fit:urb@2019:error:.3f}.\n", encoding="utf-8")
    path = write_readme(template, TABLES, tmp_path)
    assert path == tmp_path / "README.md" and path.read_text("utf-8") == "Error 0.012.\n"
    template.write_text("Error 0.5 by hand.\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="typed by hand"):
        write_readme(template, TABLES, tmp_path / "other")
    assert not (tmp_path / "other" / "README.md").exists()
