"""Reading the 2010 census county file (``census_county_2010_v1.xlsx``) into checked records.

The upstream spreadsheet (``leiii/census``; see ``docs/world_format.md``) has one header row with
Chinese column titles (some with embedded newlines) and then, per province: the province row
(code ``PP0000``), subtotal rows without a code (``市辖区`` = all urban districts of the
prefecture above, ``县`` = all its counties, ``省直辖县级行政区划`` = the province-administered
units), prefecture rows (``PPCC00``) and county-level rows (any other 6-digit code), plus blank
separator rows. This module finds the columns by their exact header text, classifies every row,
and turns the cells into numbers under explicit, per-column rules for empty cells. Anything else
(a missing column, a non-numeric cell, an empty cell where a number is required, a code that
does not parse, inconsistent counts) raises :class:`CensusDataError` naming the file, the
1-based spreadsheet row and the column. Nothing is read at import time.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from urbsim.errors import UrbsimError
from urbsim.world.base import PROVINCE_CODES

# Empty-cell rules of a column.
REQUIRED: Final[str] = "required"  # an empty cell is an error
EMPTY_IS_ZERO: Final[str] = "zero"  # the census prints no zero counts in this column
EMPTY_IS_MISSING: Final[str] = "missing"  # kept as NaN (not reported); never used for synthesis


@dataclass(frozen=True)
class Column:
    """A column of the census file the world needs.

    Attributes
    ----------
    field : str
        Name in the parsed records.
    header : str
        Exact header text in the spreadsheet (newlines included).
    integer : bool
        Whole numbers only (person and household counts): a fractional value is an error.
    empty : str
        What an empty cell means: :data:`REQUIRED`, :data:`EMPTY_IS_ZERO` or
        :data:`EMPTY_IS_MISSING`.
    """

    field: str
    header: str
    integer: bool
    empty: str


#: The columns read, in the order of ``docs/world_format.md``. Headers are the upstream texts.
COLUMNS: Final[tuple[Column, ...]] = (
    Column("residents", "合计", True, REQUIRED),
    Column("hukou_residents", "户籍人口", True, REQUIRED),
    Column("nonagri_hukou_pct", "非农业户口\n人口比重\n（%）", False, REQUIRED),
    Column("urban_residents", "城镇人口", True, REQUIRED),
    # The census leaves the rural cell of all-urban districts empty (its README: empty = 0).
    Column("rural_residents", "乡村人口", True, EMPTY_IS_ZERO),
    Column("households", "户数", True, REQUIRED),
    Column("family_persons", "人口数", True, REQUIRED),
    Column("household_size", "户规模\n（人/户）", False, REQUIRED),
    # In-migrant counts: empty in 20 Tibetan counties' same-county column and elsewhere where no
    # one moved in; the province rows equal the sums with empty = 0 (checked on the file).
    Column("inmig_same_county", "迁入人口（人）-本县（市）/\n本市市区", True, EMPTY_IS_ZERO),
    Column("inmig_other_county", "迁入人口（人）-本省其他县\n（市）、市区", True, EMPTY_IS_ZERO),
    Column("inmig_other_province", "迁入人口（人）-外省", True, EMPTY_IS_ZERO),
    Column("age_0_14_pct", "0-14岁（%）", False, REQUIRED),
    Column("age_15_64_pct", "15-64岁（%）", False, REQUIRED),
    Column("age_65_plus_pct", "65岁及以上（%）", False, REQUIRED),
    Column("schooling_years", "平均受教育年限（年）-合计", False, REQUIRED),
    # Sector shares are blank in a few rows; see :func:`_fill_sector_shares`.
    Column("emp_primary_pct", "第一产业（%）", False, EMPTY_IS_MISSING),
    Column("emp_secondary_pct", "第二产业（%）", False, EMPTY_IS_MISSING),
    Column("emp_tertiary_pct", "第三产业（%）", False, EMPTY_IS_MISSING),
    # Long-form (10 % sample) households and those of them renting their home.
    Column("longform_households", "长表数据-家庭户", True, REQUIRED),
    Column("renting_households", "住房来源-租赁", False, EMPTY_IS_ZERO),
)
NAME_HEADER: Final[str] = "地区"
CODE_HEADER: Final[str] = "区划代码"

#: Names of subtotal rows (no code): skipped, their figures are sums of the rows around them.
SUBTOTAL_NAMES: Final[frozenset[str]] = frozenset(
    {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}
)

#: Corrections of cells that are evidently misplaced in the upstream file, keyed by (name of
#: the row, field): (value in the file, corrected value, reason). Each is applied only if the
#: file holds exactly the stated value, and is listed in the build report.
CORRECTIONS: Final[dict[tuple[str, str], tuple[float | None, float, str]]] = {
    ("西沙群岛", "households"): (
        None,
        45.0,
        "households shifted into the rural column: 131 family persons / 2.91 per household = "
        "45, and Hainan's province row counts 45 more households and no more rural residents",
    ),
    ("西沙群岛", "rural_residents"): (45.0, 0.0, "see households (urban 444 = residents 444)"),
    ("遂昌县", "renting_households"): (
        5.54,
        554.0,
        "decimal shift: long-form households 6915 - own-built 5326 - bought 875 - other 160",
    ),
}

_BLANK = re.compile(r"^\s*$")
#: Rows searched for the header row.
_HEADER_SEARCH_ROWS: Final[int] = 30


class CensusDataError(UrbsimError, ValueError):
    """A problem in a census input file, located by file, 1-based row and column.

    Attributes
    ----------
    file : str
        The file.
    row : int or None
        1-based spreadsheet row (or CSV line), if the problem is in one row.
    column : str or None
        Column letter and header (or CSV column name), if the problem is in one column.
    reason : str
        What is wrong.
    """

    def __init__(
        self, file: str | Path, reason: str, row: int | None = None, column: str = ""
    ) -> None:
        self.file = str(file)
        self.row = row
        self.column = column or None
        self.reason = reason
        where = [self.file]
        if row is not None:
            where.append(f"row {row}")
        if column:
            where.append(f"column {column}")
        super().__init__(f"{': '.join([', '.join(where)])}: {reason}")


@dataclass
class UnitRecord:
    """One parsed unit row (province, prefecture or county-level unit)."""

    row: int
    name: str
    code: int | None
    values: dict[str, float]


@dataclass
class CensusRows:
    """The classified rows of the census file.

    Attributes
    ----------
    provinces : list[UnitRecord]
        Province rows (``PP0000``), in file order.
    prefectures : list[UnitRecord]
        Prefecture rows (``PPCC00``).
    units : list[UnitRecord]
        County-level rows with a code.
    uncoded : list[tuple[UnitRecord, int]]
        Rows with figures but no code that are not subtotals, with the code of the prefecture
        row above them (kept so that province totals hold).
    prefecture_places : list[UnitRecord]
        Prefecture rows without any county-level row (prefecture-level cities without county
        units in 2010, e.g. 东莞市): each is one place (kept so that province totals hold).
    skipped : dict[str, list[int]]
        Rows not used, by reason (``blank``, ``subtotal``, ``no data``), as spreadsheet rows.
    skipped_names : dict[str, list[str]]
        Names of the rows in ``skipped["no data"]``.
    corrections : list[str]
        Corrections applied (:data:`CORRECTIONS`).
    filled : dict[str, int]
        Empty cells of county-level and uncoded rows read as 0, per field.
    missing : dict[str, list[str]]
        Cells kept as missing (NaN), per field: names of the units.
    file : str
        The file read.
    """

    provinces: list[UnitRecord] = field(default_factory=list)
    prefectures: list[UnitRecord] = field(default_factory=list)
    units: list[UnitRecord] = field(default_factory=list)
    uncoded: list[tuple[UnitRecord, int]] = field(default_factory=list)
    prefecture_places: list[UnitRecord] = field(default_factory=list)
    skipped: dict[str, list[int]] = field(default_factory=dict)
    skipped_names: dict[str, list[str]] = field(default_factory=dict)
    corrections: list[str] = field(default_factory=list)
    filled: dict[str, int] = field(default_factory=dict)
    missing: dict[str, list[str]] = field(default_factory=dict)
    file: str = ""


def column_letter(index: int) -> str:
    """Spreadsheet letter of a 0-based column index (0 -> ``A``, 26 -> ``AA``)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and _BLANK.match(value) is not None)


def _parse_code(value: Any) -> int | None:
    """A 6-digit administrative code from a cell, or None if it does not parse."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        code = value
    elif isinstance(value, float):
        if not value.is_integer():
            return None
        code = int(value)
    elif isinstance(value, str) and re.fullmatch(r"\s*\d{6}\s*", value):
        code = int(value)
    else:
        return None
    if not 110000 <= code <= 659999 or code // 10000 not in PROVINCE_CODES:
        return None
    return code


def _number(value: Any) -> float | None:
    """A finite number from a cell (numbers or numeric text), None if it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        x = float(value)
    elif isinstance(value, str):
        try:
            x = float(value.strip().replace(",", ""))
        except ValueError:
            return None
    else:
        return None
    return x if math.isfinite(x) else None


def _find_header(rows: list[tuple[Any, ...]], path: Path) -> tuple[int, dict[str, int]]:
    """0-based index of the header row and the column index of every header needed."""
    for i, row in enumerate(rows[:_HEADER_SEARCH_ROWS]):
        cells = [c if isinstance(c, str) else None for c in row]
        if NAME_HEADER in cells and CODE_HEADER in cells:
            index: dict[str, int] = {}
            for header in (NAME_HEADER, CODE_HEADER, *(c.header for c in COLUMNS)):
                hits = [j for j, c in enumerate(cells) if c == header]
                if not hits:
                    raise CensusDataError(
                        path, f"column {header!r} not found in the header row", row=i + 1
                    )
                if len(hits) > 1:
                    letters = ", ".join(column_letter(j) for j in hits)
                    raise CensusDataError(
                        path, f"column {header!r} appears more than once ({letters})", row=i + 1
                    )
                index[header] = hits[0]
            return i, index
    raise CensusDataError(
        path,
        f"no header row with {NAME_HEADER!r} and {CODE_HEADER!r} in the first "
        f"{_HEADER_SEARCH_ROWS} rows",
    )


def _where(index: dict[str, int], header: str) -> str:
    return f"{column_letter(index[header])} ({header!r})"


def _values(
    row: tuple[Any, ...],
    rownum: int,
    name: str,
    index: dict[str, int],
    path: Path,
    out: CensusRows,
    count_fills: bool,
) -> dict[str, float]:
    """The numeric cells of one unit row under the rules of :data:`COLUMNS`."""
    values: dict[str, float] = {}
    for col in COLUMNS:
        j = index[col.header]
        raw = row[j] if j < len(row) else None
        fix = CORRECTIONS.get((name, col.field))
        if fix is not None and (raw == fix[0] or (fix[0] is None and _is_blank(raw))):
            out.corrections.append(
                f"row {rownum} {name} {col.field}: {raw!r} -> {fix[1]:g} ({fix[2]})"
            )
            raw = fix[1]
        if _is_blank(raw):
            if col.empty == REQUIRED:
                raise CensusDataError(
                    path, "empty cell; a number is required", rownum, _where(index, col.header)
                )
            if col.empty == EMPTY_IS_ZERO:
                values[col.field] = 0.0
                if count_fills:
                    out.filled[col.field] = out.filled.get(col.field, 0) + 1
            else:
                values[col.field] = math.nan
            continue
        x = _number(raw)
        if x is None:
            raise CensusDataError(path, f"not a number: {raw!r}", rownum, _where(index, col.header))
        if x < 0.0:
            raise CensusDataError(path, f"negative value {x:g}", rownum, _where(index, col.header))
        if col.integer and not x.is_integer():
            raise CensusDataError(
                path, f"{x:g} is not a whole number (a count)", rownum, _where(index, col.header)
            )
        values[col.field] = x
    return values


def _fill_sector_shares(rec: UnitRecord, out: CensusRows) -> None:
    """Blank sector shares: 0 if the other two add up to 100 %, else missing (NaN).

    The census leaves zero shares blank (e.g. no secondary-sector workers in a Tibetan county);
    when two or three shares are blank the split is unknown and they stay missing.
    """
    keys = ("emp_primary_pct", "emp_secondary_pct", "emp_tertiary_pct")
    vals = [rec.values[k] for k in keys]
    blank = [k for k, v in zip(keys, vals, strict=True) if math.isnan(v)]
    if len(blank) == 1 and abs(sum(v for v in vals if not math.isnan(v)) - 100.0) <= 0.05:
        rec.values[blank[0]] = 0.0
        out.filled[blank[0]] = out.filled.get(blank[0], 0) + 1
        return
    for k in blank:
        out.missing.setdefault(k, []).append(rec.name)


def _check_unit(rec: UnitRecord, index: dict[str, int], path: Path) -> None:
    """Consistency of one row's counts; the error names the column to look at."""
    v = rec.values
    if v["urban_residents"] + v["rural_residents"] != v["residents"]:
        raise CensusDataError(
            path,
            f"urban {v['urban_residents']:.0f} + rural {v['rural_residents']:.0f} != residents "
            f"{v['residents']:.0f}",
            rec.row,
            _where(index, "乡村人口"),
        )
    inmig = v["inmig_same_county"] + v["inmig_other_county"] + v["inmig_other_province"]
    if inmig > v["residents"]:
        raise CensusDataError(
            path,
            f"in-migrants {inmig:.0f} exceed residents {v['residents']:.0f}",
            rec.row,
            _where(index, "迁入人口（人）-外省"),
        )
    if v["residents"] <= 0 or v["hukou_residents"] <= 0:
        raise CensusDataError(
            path, "residents and hukou residents must be positive", rec.row, _where(index, "合计")
        )
    if v["family_persons"] > v["residents"]:
        raise CensusDataError(
            path,
            f"family-household persons {v['family_persons']:.0f} exceed residents",
            rec.row,
            _where(index, "人口数"),
        )
    if v["households"] > v["family_persons"] or (v["households"] == 0) != (
        v["family_persons"] == 0
    ):
        raise CensusDataError(
            path,
            f"households {v['households']:.0f} inconsistent with family-household persons "
            f"{v['family_persons']:.0f}",
            rec.row,
            _where(index, "户数"),
        )
    for key, header in (
        ("nonagri_hukou_pct", COLUMNS[2].header),
        ("age_0_14_pct", "0-14岁（%）"),
        ("age_15_64_pct", "15-64岁（%）"),
        ("age_65_plus_pct", "65岁及以上（%）"),
    ):
        if v[key] > 100.0:
            raise CensusDataError(
                path, f"percentage {v[key]:g} > 100", rec.row, _where(index, header)
            )


def read_census_rows(path: str | Path) -> CensusRows:
    """Read and classify the rows of the census county file.

    Parameters
    ----------
    path : str or Path
        ``census_county_2010_v1.xlsx`` (first worksheet).

    Returns
    -------
    CensusRows
        Province, prefecture, county-level and uncoded rows with their numbers, and what was
        skipped, filled or corrected.

    Raises
    ------
    CensusDataError
        If the file cannot be read, a needed column is missing, a code does not parse, a cell
        is not a number or is empty where a number is required, or a row's counts are
        inconsistent; the message names the file, the 1-based row and the column.
    """
    path = Path(path)
    rows = _sheet_rows(path)
    header_i, index = _find_header(rows, path)
    out = CensusRows(skipped={"blank": [], "subtotal": [], "no data": []}, file=str(path))
    out.skipped_names["no data"] = []
    last_prefecture: int | None = None
    for i in range(header_i + 1, len(rows)):
        last_prefecture = _read_row(rows[i], i + 1, index, path, out, last_prefecture)
    _check_structure(out, path, index)
    with_units = {rec.code // 100 * 100 for rec in out.units if rec.code is not None}
    for rec in out.prefectures:
        if rec.code not in with_units:
            _fill_sector_shares(rec, out)
            _check_unit(rec, index, path)
            out.prefecture_places.append(rec)
    return out


def _sheet_rows(path: Path) -> list[tuple[Any, ...]]:
    """The cell values of the first worksheet, row by row.

    An empty, truncated or corrupt file, or one that is not an xlsx workbook, raises
    :class:`CensusDataError` (openpyxl reports these as zip, XML or key errors).
    """
    import zipfile
    import zlib
    from xml.etree.ElementTree import ParseError

    import openpyxl  # imported here: only world building needs it
    from openpyxl.utils.exceptions import InvalidFileException

    unreadable = (
        OSError,
        EOFError,
        InvalidFileException,
        zipfile.BadZipFile,
        zlib.error,
        ParseError,
        KeyError,
        ValueError,
        TypeError,
        IndexError,
    )
    if path.is_file() and path.stat().st_size == 0:
        raise CensusDataError(path, "the file is empty (expected an xlsx workbook)")
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except unreadable as exc:
        raise CensusDataError(
            path, f"cannot read as an xlsx workbook ({type(exc).__name__}: {exc})"
        ) from None
    if not wb.worksheets:
        wb.close()
        raise CensusDataError(path, "the workbook has no worksheet")
    try:
        return list(wb.worksheets[0].iter_rows(values_only=True))
    except unreadable as exc:
        raise CensusDataError(
            path, f"the workbook is truncated or corrupt ({type(exc).__name__}: {exc})"
        ) from None
    finally:
        wb.close()


def _read_row(
    row: tuple[Any, ...],
    rownum: int,
    index: dict[str, int],
    path: Path,
    out: CensusRows,
    last_prefecture: int | None,
) -> int | None:
    """Classify one spreadsheet row into ``out``; returns the prefecture the next rows are in."""
    if all(_is_blank(c) for c in row):
        out.skipped["blank"].append(rownum)
        return last_prefecture
    name_j, code_j = index[NAME_HEADER], index[CODE_HEADER]
    raw_name = row[name_j] if name_j < len(row) else None
    raw_code = row[code_j] if code_j < len(row) else None
    name = "" if raw_name is None else str(raw_name).strip()
    # 21 county-level cities end in U+5DFF (巿) instead of U+5E02 (市): one character.
    name = name[:-1] + "市" if name.endswith("巿") else name
    if _is_blank(raw_code):
        _read_uncoded(row, rownum, name, index, path, out, last_prefecture)
        return last_prefecture
    code = _parse_code(raw_code)
    if code is None:
        raise CensusDataError(
            path,
            f"code {raw_code!r} does not parse (expected a 6-digit code of a province "
            "of mainland China)",
            rownum,
            _where(index, CODE_HEADER),
        )
    if not name:
        raise CensusDataError(path, "empty name", rownum, _where(index, NAME_HEADER))
    is_unit = code % 100 != 0
    rec = UnitRecord(rownum, name, code, _values(row, rownum, name, index, path, out, is_unit))
    if code % 10000 == 0:
        out.provinces.append(rec)
        return None
    if code % 100 == 0:
        out.prefectures.append(rec)
        return code
    _fill_sector_shares(rec, out)
    _check_unit(rec, index, path)
    out.units.append(rec)
    return last_prefecture


def _read_uncoded(
    row: tuple[Any, ...],
    rownum: int,
    name: str,
    index: dict[str, int],
    path: Path,
    out: CensusRows,
    last_prefecture: int | None,
) -> None:
    """A row without a code: a subtotal, a named row without figures, or an uncoded unit."""
    if name in SUBTOTAL_NAMES:
        out.skipped["subtotal"].append(rownum)
        return
    data_cols = [index[c.header] for c in COLUMNS]
    if all(_is_blank(row[j]) if j < len(row) else True for j in data_cols):
        # Named rows without figures (南沙群岛, a watermark line): nothing to keep.
        out.skipped["no data"].append(rownum)
        out.skipped_names["no data"].append(name)
        return
    if not name:
        raise CensusDataError(
            path,
            "row has figures but neither a name nor a code",
            rownum,
            _where(index, CODE_HEADER),
        )
    if last_prefecture is None:
        raise CensusDataError(
            path,
            f"unit {name!r} without a code before any prefecture row",
            rownum,
            _where(index, CODE_HEADER),
        )
    rec = UnitRecord(rownum, name, None, _values(row, rownum, name, index, path, out, True))
    _fill_sector_shares(rec, out)
    _check_unit(rec, index, path)
    out.uncoded.append((rec, last_prefecture))


def _check_structure(out: CensusRows, path: Path, index: dict[str, int]) -> None:
    """Codes are unique and every unit lies in a province that has a row."""
    seen: dict[int, int] = {}
    for rec in (*out.provinces, *out.prefectures, *out.units):
        assert rec.code is not None
        if rec.code in seen:
            raise CensusDataError(
                path,
                f"code {rec.code} repeats row {seen[rec.code]}",
                rec.row,
                _where(index, CODE_HEADER),
            )
        seen[rec.code] = rec.row
    provinces = {rec.code // 10000 for rec in out.provinces if rec.code is not None}
    for rec in (*out.prefectures, *out.units):
        assert rec.code is not None
        if rec.code // 10000 not in provinces:
            raise CensusDataError(
                path,
                f"code {rec.code}: no province row {rec.code // 10000 * 10000}",
                rec.row,
                _where(index, CODE_HEADER),
            )
    if not out.units:
        raise CensusDataError(path, "no county-level rows")
