"""The output column registry (urbsim/output/columns.py) and everything generated from it.

A run's tables have exactly the registered columns, in order and with the declared dtypes; the
Parquet files carry each column's unit and description; the sweep's column lists and metric
units come from the registry; docs/outputs.md, the README's outputs table and the national
indicators of docs/ODD.md section 7.17 list the registered columns.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pandas as pd
import pyarrow.parquet as pq
import pytest

from urbsim.output import columns as C
from urbsim.output import write_table
from urbsim.runner import RunResult, simulate

ROOT = Path(__file__).resolve().parents[2]
FIX = "run `.venv/bin/python docs/gen_outputs.py`"


def dtype_of(series: pd.Series) -> str:
    """The registry dtype of a column's data (``string`` for text of any pandas storage)."""
    if pd.api.types.is_string_dtype(series.dtype) and not pd.api.types.is_numeric_dtype(
        series.dtype
    ):
        return "string"
    return str(series.dtype)


@pytest.fixture(scope="module")
def gen() -> ModuleType:
    path = ROOT / "docs" / "gen_outputs.py"
    spec = importlib.util.spec_from_file_location("urbsim_docs_gen_outputs", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def run(small_scenario) -> RunResult:
    return simulate(small_scenario(end_year=2011))


@pytest.mark.parametrize(
    "registry", [C.NATIONAL, C.PLACES, C.FLOWS], ids=["national", "places", "flows"]
)
def test_registry_entries_are_complete_and_unique(registry: tuple[C.Column, ...]) -> None:
    names = C.names(registry)
    assert len(set(names)) == len(names), "a column is registered twice"
    assert names[0] == "year"
    for col in registry:
        assert col.unit.strip() and col.description.strip(), col.name
        assert col.description.endswith("."), col.name


def test_unknown_dtype_is_refused() -> None:
    with pytest.raises(ValueError, match="dtype"):
        C.Column("x", "float32", "-", "X.")


@pytest.mark.parametrize(
    ("table", "registry"), [("national", C.NATIONAL), ("places", C.PLACES), ("flows", C.FLOWS)]
)
def test_run_tables_have_exactly_the_registered_columns(
    run: RunResult, table: str, registry: tuple[C.Column, ...]
) -> None:
    df = getattr(run, table)
    assert list(df.columns) == C.names(registry)
    for col in registry:
        assert dtype_of(df[col.name]) == col.dtype, col.name


def test_a_recorded_column_missing_from_the_registry_is_an_error(small_scenario) -> None:
    from urbsim.model import UrbanizationModel

    model = UrbanizationModel(small_scenario(end_year=2011))
    model._national_rows[0]["unregistered"] = 1.0
    with pytest.raises(ValueError, match=r"not registered \['unregistered'\]"):
        model.national_table()


def test_order_columns_reorders_and_names_what_is_missing() -> None:
    registry = (C.Column("year", "int64", "year", "Y."), C.Column("a", "float64", "-", "A."))
    df = pd.DataFrame({"a": [1.0], "year": [2010]})
    assert list(C.order_columns(df, registry, "t").columns) == ["year", "a"]
    with pytest.raises(ValueError, match=r"not recorded \['a'\]"):
        C.order_columns(df[["year"]], registry, "t")


def test_parquet_files_carry_units_and_descriptions(run: RunResult, tmp_path: Path) -> None:
    for df, registry in ((run.national, C.NATIONAL), (run.places, C.PLACES)):
        path = tmp_path / "t.parquet"
        write_table(df, path, registry)
        schema = pq.read_schema(path)
        for col in registry:
            meta = schema.field(col.name).metadata
            assert meta[C.UNIT_KEY].decode() == col.unit, col.name
            assert meta[C.DESCRIPTION_KEY].decode() == col.description, col.name
        # The data read back are the data written.
        pd.testing.assert_frame_equal(pd.read_parquet(path), df, check_exact=True)


def test_sweep_lists_and_units_come_from_the_registry() -> None:
    from urbsim.plots.sweep import METRIC_UNITS
    from urbsim.sweep.spec import NATIONAL_COLUMNS, PLACE_COLUMNS

    assert list(NATIONAL_COLUMNS) == C.names(C.NATIONAL)[1:]
    numeric = [c.name for c in C.PLACES if c.dtype == "float64" and not c.static]
    assert list(PLACE_COLUMNS) == [*numeric, "size_class_code"]
    assert "lon" not in PLACE_COLUMNS and "wage" in PLACE_COLUMNS
    for col in C.NATIONAL[1:]:
        assert METRIC_UNITS[col.name] == col.unit, col.name
    assert METRIC_UNITS["hukou_urbanization"] == METRIC_UNITS["hukou_urbanization_rate"]


def test_generated_documents_are_current(gen: ModuleType) -> None:
    for path, content in gen.render().items():
        assert path.read_text(encoding="utf-8") == content, (
            f"{path.relative_to(ROOT)} differs from what docs/gen_outputs.py generates; {FIX}"
        )


def test_generated_documents_list_every_column(gen: ModuleType) -> None:
    page = gen.outputs_page()
    block = gen.readme_block()
    for registry in (C.NATIONAL, C.PLACES, C.FLOWS):
        listed = ", ".join(C.names(registry))
        assert f"`{listed}`" in block
        for col in registry:
            assert f"| `{col.name}` | {col.dtype} | {col.unit} |" in page, col.name


def test_a_stale_readme_table_is_detected(gen: ModuleType, monkeypatch) -> None:
    """The check compares with the registry: a registry change makes the files stale."""
    extra = C.Column("extra_column", "float64", "persons", "An extra column.")
    monkeypatch.setattr(
        gen, "TABLES", ((*gen.TABLES[0][:2], (*C.NATIONAL, extra)), *gen.TABLES[1:])
    )
    stale = [p for p, text in gen.render().items() if p.read_text(encoding="utf-8") != text]
    assert sorted(p.name for p in stale) == ["README.md", "outputs.md"]
    assert gen.main(["--check"]) == 1


def test_odd_defines_every_national_column() -> None:
    odd = (ROOT / "docs" / "ODD.md").read_text(encoding="utf-8")
    section = odd.split("### 7.17", 1)[1].split("\n## ", 1)[0]
    missing = [c.name for c in C.NATIONAL[1:] if f"`{c.name}`" not in section]
    assert not missing, f"docs/ODD.md section 7.17 does not define {missing}"
