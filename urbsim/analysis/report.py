"""Results text generated from tables: every number and comparative word comes from a table.

A template is Markdown with placeholders, each naming a table, a row and a column:

* ``{num:TABLE:ROW:COLUMN}`` or ``{num:TABLE:ROW:COLUMN:FORMAT}``: the value, formatted by a
  Python format spec (default ``.3g``; ``pct1`` multiplies by 100 and keeps one decimal);
* ``{word:TABLE:ROW:COLUMN:NEGATIVE|ZERO|POSITIVE}``: the word for the value's sign (zero when
  it rounds to 0 at the default format);
* ``{yesno:TABLE:ROW:COLUMN:NO|YES}``: a word for a boolean column;
* ``{table:TABLE}``: the whole table as a Markdown table (its columns as they are);
* ``{lit:TEXT}``: TEXT as it is: a fixed convention that is not a result (a quantile level,
  a cutoff), marked so that :func:`typed_numbers` lets it pass.

``ROW`` is the value of the table's key (its index, set by the caller). :func:`render` refuses
a placeholder it cannot fill, and :func:`typed_numbers` finds numbers typed into the template
outside placeholders (years, ordinal list markers and numbers inside code spans are allowed),
so that no number of a results README is written by hand.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

import pandas as pd

from urbsim.errors import UrbsimError

_PLACEHOLDER: Final = re.compile(r"\{(num|word|yesno|table|lit):([^{}]+)\}")
#: Numbers in prose: digits with optional decimals, not part of a word or identifier.
_NUMBER: Final = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*(?![\w])")
_YEAR: Final = re.compile(r"^(19|20)\d\d$")


class TemplateError(UrbsimError):
    """A placeholder names a table, row or column that does not exist, or is malformed."""


def _format(value: float, spec: str) -> str:
    if spec == "pct1":
        return f"{100.0 * value:.1f}"
    text = format(value, spec)
    # -0.0 printed as 0: a sign that is not there would be a typed word.
    return text[1:] if text.startswith("-") and float(text) == 0.0 else text


def _cell(tables: Mapping[str, pd.DataFrame], parts: list[str], where: str) -> object:
    if len(parts) < 3:
        raise TemplateError(f"{where}: needs TABLE:ROW:COLUMN")
    name, row, column = parts[:3]
    if name not in tables:
        raise TemplateError(f"{where}: no table {name!r}")
    table = tables[name]
    if column not in table.columns:
        raise TemplateError(f"{where}: table {name!r} has no column {column!r}")
    keys = {str(k): k for k in table.index}
    if row not in keys:
        raise TemplateError(f"{where}: table {name!r} has no row {row!r}")
    return table.at[keys[row], column]


def _fill(kind: str, body: str, tables: Mapping[str, pd.DataFrame]) -> str:
    where = "{" + kind + ":" + body + "}"
    if kind == "lit":
        return body
    parts = body.split(":")
    if kind == "table":
        if parts[0] not in tables:
            raise TemplateError(f"{where}: no table {parts[0]!r}")
        table = tables[parts[0]]
        # A named index is the rows' key (target, parameter ...): shown as the first column.
        return markdown_table(table.reset_index() if table.index.name else table)
    value = _cell(tables, parts, where)
    if kind == "num":
        return _format(float(value), parts[3] if len(parts) > 3 else ".3g")  # type: ignore[arg-type]
    words = parts[3].split("|") if len(parts) > 3 else []
    if kind == "yesno":
        if len(words) != 2:
            raise TemplateError(f"{where}: needs NO|YES")
        return words[bool(value)]
    if len(words) != 3:
        raise TemplateError(f"{where}: needs NEGATIVE|ZERO|POSITIVE")
    x = float(_format(float(value), ".3g"))  # type: ignore[arg-type]
    return words[0] if x < 0 else words[2] if x > 0 else words[1]


def render(template: str, tables: Mapping[str, pd.DataFrame]) -> str:
    """The template with every placeholder filled from ``tables`` (indexed by row key).

    Raises
    ------
    TemplateError
        For the first placeholder that cannot be filled.
    """
    return _PLACEHOLDER.sub(lambda m: _fill(m.group(1), m.group(2), tables), template)


def markdown_table(table: pd.DataFrame, float_format: str = ".4g") -> str:
    """A DataFrame as a Markdown table (index dropped), floats formatted by ``float_format``."""

    def cell(v: object) -> str:
        return _format(v, float_format) if isinstance(v, float) else str(v)

    head = "| " + " | ".join(str(c) for c in table.columns) + " |"
    rule = "|" + "|".join("---" for _ in table.columns) + "|"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in table.itertuples(False)]
    return "\n".join([head, rule, *body])


def typed_numbers(template: str) -> list[str]:
    """Numbers typed into a template's prose: not in a placeholder, not in a code span, not a
    year (19xx, 20xx) and not a list item's number ("1." at the start of a line)."""
    text = _PLACEHOLDER.sub(" ", template)
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"(?m)^\s*\d+\.\s", " ", text)
    found = []
    for m in _NUMBER.finditer(text):
        token = m.group(0)
        if not _YEAR.match(token):
            found.append(token)
    return found
