"""Results text from tables: placeholders, comparative words and typed numbers."""

from __future__ import annotations

import pandas as pd
import pytest

from urbsim.analysis.report import TemplateError, markdown_table, render, typed_numbers

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
