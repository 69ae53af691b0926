"""Results text generated from tables: every number and comparative word comes from a table.

A template is Markdown with placeholders, each naming a table, a row and a column:

* ``{num:TABLE:ROW:COLUMN}`` or ``{num:TABLE:ROW:COLUMN:FORMAT}``: the value, formatted by a
  Python format spec (default ``.3g``; ``pct1`` multiplies by 100 and keeps one decimal);
* ``{word:TABLE:ROW:COLUMN:NEGATIVE|ZERO|POSITIVE}``: the word for the value's sign (zero when
  it rounds to 0 at the default format);
* ``{yesno:TABLE:ROW:COLUMN:NO|YES}``: a word for a boolean column;
* ``{effect:TABLE:ROW:NEGATIVE|UNCLEAR|POSITIVE}``: the word for an estimated effect, from the
  row's ``mean`` and ``discovery`` columns (:func:`urbsim.analysis.effects.flag_effects`):
  UNCLEAR unless the effect is a discovery, else the word for its sign;
* ``{text:TABLE:ROW:COLUMN}``: a text cell as it is (a label the analysis chose, such as the
  scenario with the largest effect);
* ``{table:TABLE}``: the whole table as a Markdown table (its columns as they are);
* ``{lit:TEXT}``: TEXT as it is: a fixed convention or a description of the design that is not
  a result (a quantile level, a cutoff, "the four directions"), marked so that
  :func:`typed_numbers` and :func:`typed_words` let it pass.

``ROW`` is the value of the table's key (its index, set by the caller). :func:`render` refuses
a placeholder it cannot fill; :func:`typed_numbers` finds numbers typed into the template
outside placeholders (years, ordinal list markers and numbers inside code spans are allowed)
and :func:`typed_words` the words that compare, quantify or judge (:data:`RESULT_WORDS`:
"lowers", "largest", "two thirds", "about", "barely" ...), so that no number and no
comparative word of a results README is written by hand; :func:`missing_files` finds the
tables and figures a template points to that the run did not write.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Final

import pandas as pd

from urbsim.errors import UrbsimError

_PLACEHOLDER: Final = re.compile(r"\{(num|word|yesno|effect|text|table|lit):([^{}]+)\}")
#: Numbers in prose: digits with optional decimals, not part of a word or identifier.
_NUMBER: Final = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*(?![\w])")
_YEAR: Final = re.compile(r"^(19|20)\d\d$")
#: Words that state a result (a comparison, a direction, a size, a degree of certainty) or a
#: number in letters: in a template they come from a placeholder (``word``, ``effect``,
#: ``yesno``, ``text``), or are marked ``{lit:...}`` when they describe the design.
RESULT_WORDS: Final[frozenset[str]] = frozenset(
    """
    more less fewer greater larger smaller higher lower bigger better worse stronger weaker
    most least fewest greatest largest smallest highest lowest biggest best worst strongest
    weakest increase increases increased decrease decreases decreased rise rises rose risen
    fall falls fell fallen grow grows grew shrink shrinks shrank widen widens widened narrow
    narrows narrowed raise raises raised lowers lowered reduce reduces reduced exceed exceeds
    exceeded above below double doubles doubled twice half halves halved third thirds quarter
    quarters barely hardly slight slightly about around approximately almost nearly roughly
    substantial substantially significant significantly considerable considerably markedly
    negligible little much unchanged similar equal one two three four five six seven eight
    nine ten eleven twelve twenty dozen hundred thousand
    """.split()
)
_WORD: Final = re.compile(r"[A-Za-z]+(?:['-][A-Za-z]+)*")
#: A file a template points to: a code span naming a table or figure of the results folder.
_FILE: Final = re.compile(r"`([\w./-]+\.(?:csv|png|parquet))`")


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
    if kind == "effect":
        return _effect(tables, parts, where)
    value = _cell(tables, parts, where)
    if kind == "text":
        return str(value)
    if kind == "num":
        return _format(float(value), parts[3] if len(parts) > 3 else ".3g")  # type: ignore[arg-type]
    if len(parts) > 4:
        # The words would be cut at the colon without a word of warning.
        raise TemplateError(f"{where}: a ':' inside its words (use another sign)")
    words = parts[3].split("|") if len(parts) > 3 else []
    if kind == "yesno":
        if len(words) != 2:
            raise TemplateError(f"{where}: needs NO|YES")
        return words[bool(value)]
    if len(words) != 3:
        raise TemplateError(f"{where}: needs NEGATIVE|ZERO|POSITIVE")
    x = float(_format(float(value), ".3g"))  # type: ignore[arg-type]
    return words[0] if x < 0 else words[2] if x > 0 else words[1]


def _effect(tables: Mapping[str, pd.DataFrame], parts: list[str], where: str) -> str:
    if len(parts) != 3 or len(parts[2].split("|")) != 3:
        raise TemplateError(f"{where}: needs TABLE:ROW:NEGATIVE|UNCLEAR|POSITIVE")
    words = parts[2].split("|")
    found = bool(_cell(tables, [*parts[:2], "discovery"], where))
    mean = float(_cell(tables, [*parts[:2], "mean"], where))  # type: ignore[arg-type]
    if not found or mean == 0.0:
        return words[1]
    return words[0] if mean < 0 else words[2]


def render(template: str, tables: Mapping[str, pd.DataFrame]) -> str:
    """The template with every placeholder filled from ``tables`` (indexed by row key).

    Raises
    ------
    TemplateError
        For the first placeholder that cannot be filled.
    """
    return _PLACEHOLDER.sub(lambda m: _fill(m.group(1), m.group(2), tables), template)


def render_results(
    template: Path, tables: Mapping[str, pd.DataFrame], results: Path | None = None
) -> str:
    """A results template file filled from the tables, after the checks every results text
    passes: nothing typed by hand, every file it names written.

    Parameters
    ----------
    template
        The template file (Markdown with placeholders).
    tables
        The tables its placeholders read, indexed by row key.
    results
        The results folder: when given, every table or figure the text names must be there.

    Raises
    ------
    TemplateError
        Naming the template: numbers or comparative words typed by hand
        (:func:`typed_numbers`, :func:`typed_words`), files the run did not write
        (:func:`missing_files`), or a placeholder that cannot be filled.
    """
    text = template.read_text(encoding="utf-8")
    typed, words = typed_numbers(text), typed_words(text)
    if typed or words:
        raise TemplateError(
            f"{template}: typed by hand (generate them from the tables): numbers {typed}, "
            f"comparative words {words}"
        )
    missing = missing_files(text, results) if results is not None else []
    if missing:
        raise TemplateError(f"{template}: points to files the run did not write: {missing}")
    try:
        return render(text, tables)
    except TemplateError as exc:
        raise TemplateError(f"{template}: {exc}") from None


def write_readme(template: Path, tables: Mapping[str, pd.DataFrame], results: Path) -> Path:
    """Write ``results/README.md`` from ``template`` (:func:`render_results`); its path.

    Raises
    ------
    SystemExit
        With the :class:`TemplateError`'s message: the experiments' analysis scripts call this
        last, and a template that cannot be filled ends them with that one line.
    """
    try:
        text = render_results(template, tables, results)
    except TemplateError as exc:
        raise SystemExit(str(exc)) from None
    path = results / "README.md"
    path.write_text(text, encoding="utf-8")
    return path


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


def _prose(template: str) -> str:
    """The template without placeholders and code spans (what a person typed as text)."""
    return re.sub(r"`[^`]*`", " ", _PLACEHOLDER.sub(" ", template))


def typed_words(template: str) -> list[str]:
    """Words of :data:`RESULT_WORDS` typed into a template's prose (not in a placeholder or a
    code span), in order: comparisons and quantities that must come from the tables."""
    return [
        w for w in (m.group(0) for m in _WORD.finditer(_prose(template)))
        if w.lower() in RESULT_WORDS
    ]  # fmt: skip


def missing_files(template: str, folder: Path) -> list[str]:
    """Tables and figures of the results folder the template names in code spans (``.csv``,
    ``.png``, ``.parquet``: a bare name or one under ``figures/``; other paths are files of the
    repository) that ``folder`` does not hold."""
    names = _FILE.findall(_PLACEHOLDER.sub(" ", template))
    ours = [n for n in names if "/" not in n or n.startswith("figures/")]
    return [name for name in ours if not (folder / name).is_file()]
