"""Run output: atomic folders, deterministic Parquet, the manifest and table hashes."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from urbsim.output import (
    FLOWS_FILE,
    OutputError,
    build_manifest,
    git_state,
    read_flows,
    table_hash,
    write_run,
    write_table,
)
from urbsim.output.columns import FLOWS, UNIT_KEY
from urbsim.scenario import validate


def _tables(scale: float = 1.0) -> tuple[pd.DataFrame, pd.DataFrame]:
    national = pd.DataFrame(
        {
            "year": np.arange(2010, 2015, dtype=np.int64),
            "residents": scale * np.linspace(1.34e9, 1.37e9, 5),
            "urbanization_rate": np.linspace(0.50, 0.56, 5),
        }
    )
    places = pd.DataFrame(
        {
            "year": np.repeat(np.arange(2010, 2015, dtype=np.int64), 2),
            "place_id": np.tile(np.array([0, 1], dtype=np.int32), 5),
            "name": ["Dongcheng", "Yushu"] * 5,
            "urban_residents": scale * np.linspace(1e5, 2e6, 10),
        }
    )
    return national, places


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def _draw_one(folder: Path) -> None:
    (folder / "dummy.png").write_bytes(b"\x89PNG fake")


# ---------------------------------------------------------------------------------------------
# Atomic writing
# ---------------------------------------------------------------------------------------------
def test_write_run_writes_everything(tmp_path: Path) -> None:
    national, places = _tables()
    out = tmp_path / "runs" / "demo"
    seen: list[Path] = []

    def figures(folder: Path) -> None:
        seen.append(folder)
        _draw_one(folder)

    assert write_run(out, national, places, {"seed": 3}, figures) == out
    assert sorted(p.name for p in out.iterdir()) == [
        ".urbsim-output.json",
        "figures",
        "manifest.json",
        "national.parquet",
        "places.parquet",
    ]
    assert (out / "figures" / "dummy.png").is_file()
    # Drawn in the temporary folder, never in the final one.
    assert seen[0].parent.name.startswith(".demo.tmp-")
    pd.testing.assert_frame_equal(pd.read_parquet(out / "national.parquet"), national)
    pd.testing.assert_frame_equal(pd.read_parquet(out / "places.parquet"), places)
    text = (out / "manifest.json").read_text()
    manifest = json.loads(text)
    assert text == json.dumps(manifest, sort_keys=True, indent=2) + "\n"
    assert manifest["seed"] == 3
    assert manifest["tables"]["places"] == {"rows": 10, "sha256": table_hash(places)}
    assert [p.name for p in out.parent.iterdir()] == ["demo"]  # no temp left


def _flows() -> pd.DataFrame:
    codes = np.array([11, 44], dtype=np.int16)
    return pd.DataFrame(
        {
            "year": np.full(4, 2011, dtype=np.int64),
            "origin_province_code": np.repeat(codes, 2),
            "destination_province_code": np.tile(codes, 2),
            "households": np.array([0.0, 3000.0, 1000.0, 0.0]),
            "persons": np.array([0.0, 7000.0, 2000.0, 0.0]),
        }
    )


def test_write_run_writes_the_flow_table_with_the_others(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    flows = _flows()
    write_run(out, *_tables(), {"seed": 3}, None, flows)
    assert FLOWS_FILE in {p.name for p in out.iterdir()}
    pd.testing.assert_frame_equal(read_flows(out), flows, check_exact=True)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["tables"]["flows"] == {"rows": 4, "sha256": table_hash(flows)}
    schema = pq.read_schema(out / FLOWS_FILE)
    for col in FLOWS:
        assert schema.field(col.name).metadata[UNIT_KEY].decode() == col.unit
    # A run written without flows has none, and says so when asked.
    write_run(tmp_path / "old", *_tables(), {}, None)
    assert "flows" not in json.loads((tmp_path / "old" / "manifest.json").read_text())["tables"]
    with pytest.raises(OutputError, match=r"no flows\.parquet"):
        read_flows(tmp_path / "old")


def test_a_failed_run_leaves_no_flow_table(tmp_path: Path) -> None:
    def broken(folder: Path) -> None:
        raise RuntimeError("figure failed")

    with pytest.raises(RuntimeError):
        write_run(tmp_path / "demo", *_tables(), {}, broken, _flows())
    assert not (tmp_path / "demo").exists()
    assert list(tmp_path.iterdir()) == []


def test_parquet_bytes_are_deterministic(tmp_path: Path) -> None:
    national, places = _tables()
    write_run(tmp_path / "a", national, places, {}, None)
    write_run(tmp_path / "b", national.copy(), places.copy(), {}, None)
    for name in ("national.parquet", "places.parquet"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    metadata = pq.read_metadata(tmp_path / "a" / name)
    assert metadata.row_group(0).column(0).compression == "ZSTD"
    assert "__index_level_0__" not in metadata.schema.names


def test_write_run_replaces_a_previous_run(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    write_run(out, *_tables(), {"run": 1}, _draw_one)
    (out / "figures" / "stale.png").write_bytes(b"old")
    national, places = _tables(scale=2.0)
    write_run(out, national, places, {"run": 2}, None)
    assert json.loads((out / "manifest.json").read_text())["run"] == 2
    pd.testing.assert_frame_equal(pd.read_parquet(out / "places.parquet"), places)
    assert list((out / "figures").iterdir()) == []  # nothing of the old run survives
    assert [p.name for p in tmp_path.iterdir()] == ["demo"]


@pytest.mark.parametrize("error", [RuntimeError("figure failed"), KeyboardInterrupt()])
def test_failure_keeps_the_previous_run(tmp_path: Path, error: BaseException) -> None:
    out = tmp_path / "demo"
    write_run(out, *_tables(), {"run": 1}, _draw_one)
    before = _snapshot(out)

    def broken(folder: Path) -> None:
        _draw_one(folder)
        raise error

    with pytest.raises(type(error)):
        write_run(out, *_tables(scale=3.0), {"run": 2}, broken)
    assert _snapshot(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["demo"]


def test_failure_without_a_previous_run_leaves_nothing(tmp_path: Path) -> None:
    def broken(folder: Path) -> None:
        raise RuntimeError("figure failed")

    with pytest.raises(RuntimeError):
        write_run(tmp_path / "demo", *_tables(), {}, broken)
    assert list(tmp_path.iterdir()) == []


def test_failed_final_rename_restores_the_previous_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "demo"
    write_run(out, *_tables(), {"run": 1}, _draw_one)
    before = _snapshot(out)
    real_rename = Path.rename

    def rename(self: Path, target: Path) -> Path:
        if ".tmp-" in self.name:
            raise OSError("disk gone")
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", rename)
    with pytest.raises(OSError, match="disk gone"):
        write_run(out, *_tables(scale=2.0), {"run": 2}, None)
    monkeypatch.undo()
    assert _snapshot(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["demo"]


def test_refuses_to_replace_what_is_not_a_run(tmp_path: Path) -> None:
    precious = tmp_path / "home"
    precious.mkdir()
    (precious / "thesis.tex").write_text("years of work")
    with pytest.raises(OutputError, match="not an urbsim run folder"):
        write_run(precious, *_tables(), {}, None)
    assert (precious / "thesis.tex").read_text() == "years of work"
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(OutputError, match="not a folder"):
        write_run(a_file, *_tables(), {}, None)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "home"]
    empty = tmp_path / "empty"
    empty.mkdir()
    write_run(empty, *_tables(), {}, None)  # an empty folder may be filled
    assert (empty / "manifest.json").is_file()


# ---------------------------------------------------------------------------------------------
# Manifest
# ---------------------------------------------------------------------------------------------
def test_manifest_fields() -> None:
    loaded = validate(
        {"name": "demo", "start_year": 2010, "end_year": 2012, "seed": 7}, source="demo.toml"
    )
    manifest = build_manifest(loaded, 7, 12.5, {"world": "china-synthetic, 400 households"})
    json.dumps(manifest, allow_nan=False)  # plain JSON, no custom encoder needed
    assert manifest["scenario_path"] == "demo.toml"
    assert manifest["scenario_sha256"] == loaded.sha256
    assert manifest["scenario"] == loaded.scenario.model_dump(mode="json")
    assert manifest["seed"] == 7
    assert manifest["wall_seconds"] == 12.5
    assert manifest["notes"] == {"world": "china-synthetic, 400 households"}
    assert set(manifest["versions"]) >= {
        "python",
        "mesa",
        "numpy",
        "numba",
        "pandas",
        "pyarrow",
        "seaborn",
        "pydantic",
    }
    assert manifest["versions"]["numpy"] == np.__version__
    assert manifest["platform"]
    assert "urbsim_version" in manifest
    created = dt.datetime.fromisoformat(manifest["created_utc"])
    assert created.utcoffset() == dt.timedelta(0)
    git = manifest["git"]
    assert git is None or (
        re.fullmatch(r"[0-9a-f]{40}", git["commit"]) and git["dirty"] in (True, False, None)
    )


def test_git_state_is_none_outside_a_checkout_or_without_git(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    assert git_state(tmp_path) is None
    monkeypatch.setenv("PATH", str(tmp_path))  # no git executable here
    assert git_state() is None


# ---------------------------------------------------------------------------------------------
# Table hashes
# ---------------------------------------------------------------------------------------------
def test_table_hash_is_stable_and_survives_parquet(tmp_path: Path) -> None:
    _, places = _tables()
    digest = table_hash(places)
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert table_hash(places.copy()) == digest
    assert table_hash(places.set_axis(range(100, 110))) == digest  # index is not data
    write_table(places, tmp_path / "p.parquet")
    assert table_hash(pd.read_parquet(tmp_path / "p.parquet")) == digest
    as_object = places.astype({"name": object})
    assert table_hash(as_object) == digest  # string storage is not data


def test_table_hash_sees_every_change() -> None:
    _, places = _tables()
    digest = table_hash(places)
    changed = places.copy()
    changed.loc[3, "urban_residents"] = np.nextafter(changed.loc[3, "urban_residents"], 0)
    renamed = places.rename(columns={"name": "place_name"})
    narrowed = places.astype({"year": np.int32})
    reordered_rows = places.iloc[::-1].reset_index(drop=True)
    reordered_cols = places[places.columns[::-1]]
    text = places.copy()
    text.loc[0, "name"] = "Dongchen"
    variants = [changed, renamed, narrowed, reordered_rows, reordered_cols, text, places.head(9)]
    digests = {table_hash(v) for v in variants}
    assert digest not in digests
    assert len(digests) == len(variants)


def test_table_hash_canonicalizes_nan_and_negative_zero() -> None:
    quiet = np.array([np.nan, 0.0])
    payload = np.array([np.nan, -0.0])
    payload.view(np.uint64)[0] |= 1  # another NaN bit pattern
    assert table_hash(pd.DataFrame({"x": quiet})) == table_hash(pd.DataFrame({"x": payload}))
    assert table_hash(pd.DataFrame({"s": ["a", None]})) != table_hash(
        pd.DataFrame({"s": ["a", "None"]})
    )
    # A length prefix keeps neighbouring strings apart.
    assert table_hash(pd.DataFrame({"s": ["ab", "c"]})) != table_hash(
        pd.DataFrame({"s": ["a", "bc"]})
    )


@settings(max_examples=25, deadline=None)
@given(
    values=st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=0, max_size=20),
    names=st.lists(st.text(max_size=5), min_size=0, max_size=20),
)
def test_table_hash_round_trips_any_table(values: list[float], names: list[str]) -> None:
    import io

    n = min(len(values), len(names))
    df = pd.DataFrame({"v": np.array(values[:n], dtype=np.float64), "s": names[:n]})
    buffer = io.BytesIO()
    df.to_parquet(buffer, index=False)
    assert table_hash(pd.read_parquet(io.BytesIO(buffer.getvalue()))) == table_hash(df)
