"""Rows of a minimal census workbook, shared by the world-building tests."""

from __future__ import annotations

from urbsim.world.census_read import CODE_HEADER, COLUMNS, NAME_HEADER

#: Header row of a minimal workbook: name, code and every column read.
HEADERS = [NAME_HEADER, CODE_HEADER, *(c.header for c in COLUMNS)]


def census_row(name: str, code: int | str | None, residents: int = 1000) -> list:
    """A consistent census row (a province row when ``code`` is PP0000)."""
    values = {
        "residents": residents,
        "hukou_residents": residents,
        "nonagri_hukou_pct": 40.0,
        "urban_residents": residents // 2,
        "rural_residents": residents - residents // 2,
        "households": residents // 4,
        "family_persons": residents * 9 // 10,
        "household_size": round((residents * 9 // 10) / (residents // 4), 2),
        "inmig_same_county": residents // 100,
        "inmig_other_county": residents // 50,
        "inmig_other_province": residents // 20,
        "age_0_14_pct": 15.0,
        "age_15_64_pct": 75.0,
        "age_65_plus_pct": 10.0,
        "schooling_years": 9.5,
        "emp_primary_pct": 30.0,
        "emp_secondary_pct": 30.0,
        "emp_tertiary_pct": 40.0,
        "longform_households": residents // 40,
        "renting_households": 5,
    }
    return [name, code, *(values[c.field] for c in COLUMNS)]
