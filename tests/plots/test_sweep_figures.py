"""urbsim.plots.sweep: which figures a sweep's tables give, byte-stable PNGs, units, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from urbsim.analysis.sensitivity import Problem, analyze, sample
from urbsim.plots import PlotDataError
from urbsim.plots.sweep import _Units, draw_sweep_figures, parameter_unit

#: End-to-end runs, sweeps or subprocesses: outside `make test-fast`.
pytestmark = pytest.mark.slow

PNG = b"\x89PNG\r\n\x1a\n"
P1, P2, P3 = "behaviour.beta_income", "behaviour.move_base", "policy.settlement.mega.min_years"


def _design(values: dict[str, np.ndarray]) -> pd.DataFrame:
    design = pd.DataFrame(values)
    design.insert(0, "point", np.arange(len(design)))
    return design


def _summary(
    design: pd.DataFrame,
    reps: int,
    metrics: tuple[str, ...] = ("resident_urbanization",),
    years: tuple[int, ...] = (2035,),
) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    base = 0.5 + 0.05 * design.get(P1, 1.0) + 0.3 * design.get(P2, 0.1) - 0.01 * design.get(P3, 3)
    frames = []
    for rep in range(reps):
        for year in years:
            for k, metric in enumerate(metrics):
                frames.append(
                    pd.DataFrame(
                        {
                            "run": design["point"] * reps + rep,
                            "point": design["point"],
                            "replication": rep,
                            "metric": metric,
                            "year": year,
                            "value": (1 - 2 * k) * base
                            + 0.001 * (year - 2035)
                            + rng.normal(0.0, 0.01, len(design)),
                        }
                    )
                )
    return pd.concat(frames, ignore_index=True)


def _grid(*levels: list[float]) -> pd.DataFrame:
    names = [P1, P2, P3][: len(levels)]
    mesh = np.meshgrid(*levels, indexing="ij")
    return _design({n: m.ravel() for n, m in zip(names, mesh, strict=True)})


def _names(paths: list[Path]) -> list[str]:
    return [p.name for p in paths]


def _check_pngs(paths: list[Path], folder: Path) -> None:
    for p in paths:
        assert p.parent == folder and p.is_file()
        assert p.read_bytes()[:8] == PNG
        assert len(p.read_bytes()) > 10_000  # something was drawn


def test_one_parameter_grid_over_two_years(tmp_path: Path) -> None:
    design = _grid([0.5, 1.0, 2.0, 3.0])
    summary = _summary(
        design, 4, metrics=("resident_urbanization", "service_gap"), years=(2025, 2035)
    )
    paths = draw_sweep_figures(design, summary, None, tmp_path)
    # One outcome figure per metric; no heat map (one parameter), no index figure.
    assert _names(paths) == ["outcome_resident_urbanization.png", "outcome_service_gap.png"]
    _check_pngs(paths, tmp_path)


def test_two_parameter_grid_adds_heat_maps_and_is_byte_stable(tmp_path: Path) -> None:
    design = _grid([0.5, 1.0, 2.0], [0.05, 0.1])
    summary = _summary(design, 3, metrics=("resident_urbanization", "service_gap"))
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    paths = draw_sweep_figures(design, summary, None, first)
    assert _names(paths) == [
        "outcome_resident_urbanization.png",
        "outcome_service_gap.png",
        "heatmap_resident_urbanization.png",
        "heatmap_service_gap.png",
    ]
    _check_pngs(paths, first)
    # Same tables, given in another row order: same figures, byte for byte (the list follows
    # the metrics' order of first appearance in the summary).
    shuffled = summary.sample(frac=1.0, random_state=1)
    assert shuffled["metric"].iloc[0] == "service_gap"
    again = draw_sweep_figures(design.iloc[::-1].reset_index(drop=True), shuffled, None, second)
    assert sorted(_names(again)) == sorted(_names(paths))
    for a in paths:
        assert a.read_bytes() == (second / a.name).read_bytes(), a.name


def test_heat_maps_per_year_and_only_for_two_parameter_grids(tmp_path: Path) -> None:
    two = _grid([0.5, 1.0], [0.05, 0.1])
    paths = draw_sweep_figures(two, _summary(two, 2, years=(2030, 2035)), None, tmp_path)
    assert _names(paths) == [
        "outcome_resident_urbanization.png",
        "heatmap_resident_urbanization_2030.png",
        "heatmap_resident_urbanization_2035.png",
    ]
    three = _grid([0.5, 1.0], [0.05, 0.1], [1.0, 3.0])
    assert _names(draw_sweep_figures(three, _summary(three, 2), None, tmp_path)) == [
        "outcome_resident_urbanization.png"
    ]
    # Two parameters that do not form a full grid (one cell missing): no heat map.
    partial = two.iloc[:-1]
    summary = _summary(partial, 2)
    assert _names(draw_sweep_figures(partial, summary, None, tmp_path)) == [
        "outcome_resident_urbanization.png"
    ]


def test_lhs_design_draws_outcomes_only(tmp_path: Path) -> None:
    problem = Problem([P1, P2], [(0.5, 3.0), (0.05, 0.3)])
    design = _design(dict(zip(problem.names, sample(problem, "lhs", 60, seed=1).T, strict=True)))
    summary = _summary(design, 2)
    summary.loc[3, "value"] = np.nan  # a failed run: left out, not drawn at zero
    paths = draw_sweep_figures(design, summary, None, tmp_path)
    assert _names(paths) == ["outcome_resident_urbanization.png"]
    _check_pngs(paths, tmp_path)


@pytest.fixture(scope="module")
def indices() -> dict[str, tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]]:
    problem = Problem([P1, P2, P3], [(0.5, 3.0), (0.05, 0.3), (1.0, 8.0)])
    out = {}
    for method, n in (("sobol", 32), ("morris", 8)):
        X = sample(problem, method, n, seed=2)
        design = _design(dict(zip(problem.names, X.T, strict=True)))
        summary = _summary(design, 1, metrics=("resident_urbanization", "service_gap"))
        frames = []
        for metric, grp in summary.groupby("metric", sort=False):
            y = grp.sort_values("point")["value"].to_numpy() + X[:, 0] * X[:, 1]
            res = analyze(problem, method, X, y, seed=1, num_resamples=100)
            frames.append(res.assign(metric=metric))
        out[method] = (design, summary, pd.concat(frames, ignore_index=True))
    return out


def test_sobol_and_morris_index_figures(tmp_path: Path, indices) -> None:
    design, summary, idx = indices["sobol"]
    idx.attrs["conf_level"] = 0.95
    paths = draw_sweep_figures(design, summary, idx, tmp_path)
    assert _names(paths) == [
        "outcome_resident_urbanization.png",
        "outcome_service_gap.png",
        "sobol_resident_urbanization.png",
        "sobol_s2_resident_urbanization.png",
        "sobol_service_gap.png",
        "sobol_s2_service_gap.png",
    ]
    _check_pngs(paths, tmp_path)
    # First and total order only: no S2 figure.
    only = idx[(idx["index"] != "S2") & (idx["metric"] == "service_gap")]
    sub = tmp_path / "s1"
    sub.mkdir()
    gap = summary[summary["metric"] == "service_gap"]
    assert _names(draw_sweep_figures(design, gap, only, sub)) == [
        "outcome_service_gap.png",
        "sobol_service_gap.png",
    ]

    design, summary, idx = indices["morris"]
    sub = tmp_path / "morris"
    sub.mkdir()
    paths = draw_sweep_figures(design, summary, idx, sub)
    assert _names(paths)[2:] == ["morris_resident_urbanization.png", "morris_service_gap.png"]
    _check_pngs(paths, sub)
    again = tmp_path / "morris2"
    again.mkdir()
    gap = summary["metric"] == "service_gap"
    redrawn = draw_sweep_figures(design, summary[gap], idx[idx["metric"] == "service_gap"], again)
    assert _names(redrawn) == ["outcome_service_gap.png", "morris_service_gap.png"]
    for b in redrawn:
        assert (sub / b.name).read_bytes() == b.read_bytes(), b.name


def test_indices_per_year(tmp_path: Path, indices) -> None:
    design, summary, idx = indices["morris"]
    idx = idx[idx["metric"] == "service_gap"]
    two_years = pd.concat([idx.assign(year=2030), idx.assign(year=2035)], ignore_index=True)
    paths = draw_sweep_figures(
        design, summary[summary["metric"] == "service_gap"], two_years, tmp_path
    )
    assert _names(paths) == [
        "outcome_service_gap.png",
        "morris_service_gap_2030.png",
        "morris_service_gap_2035.png",
    ]


def test_parameter_unit_walks_the_scenario_schema() -> None:
    assert parameter_unit("behaviour.beta_income") == "util per log(yuan)"
    assert parameter_unit("behaviour.move_base") == "1/year"
    assert parameter_unit(P3) == "years"
    assert parameter_unit("world.households_per_agent") == "households/agent"
    # Below a documented field: a region, a year of a series, a list position.
    assert parameter_unit("economy.wage_2010.east") == "yuan/year"
    assert parameter_unit("demography.birth_rate.2020") == "per 1000 persons per year"
    assert parameter_unit("policy.permit.access.0") == "share"
    assert parameter_unit("timeline.2020.settlement.mega.min_years") == "years"
    with pytest.raises(ValueError, match="no field 'nope'"):
        parameter_unit("behaviour.nope")
    with pytest.raises(ValueError, match="table of parameters"):
        parameter_unit("policy.settlement")
    with pytest.raises(ValueError, match="dotted"):
        parameter_unit("behaviour..beta_income")


def test_units_from_spec_first() -> None:
    units = _Units({"behaviour.beta_income": "custom", "resident_urbanization": "%"})
    assert units.parameter("behaviour.beta_income") == "custom"
    assert units.parameter("behaviour.move_base") == "1/year"
    assert units.metric("resident_urbanization") == "%"
    assert units.metric("service_gap") == "share of service users"  # from the column registry
    assert units.parameter("not.a.field") is None
    assert _Units({"units": {"x": "km"}, "name": 3}).parameter("x") == "km"
    with pytest.raises(PlotDataError, match="mapping"):
        _Units(["x"])  # type: ignore[arg-type]


def test_bad_frames_raise(tmp_path: Path, indices) -> None:
    design = _grid([0.5, 1.0])
    summary = _summary(design, 2)
    with pytest.raises(PlotDataError, match=r"design table lacks column.*point"):
        draw_sweep_figures(design.drop(columns="point"), summary, None, tmp_path)
    with pytest.raises(PlotDataError, match=r"summary table lacks column.*metric"):
        draw_sweep_figures(design, summary.drop(columns="metric"), None, tmp_path)
    with pytest.raises(PlotDataError, match="summary table is empty"):
        draw_sweep_figures(design, summary.iloc[:0], None, tmp_path)
    with pytest.raises(PlotDataError, match="no parameter column"):
        draw_sweep_figures(design[["point"]], summary, None, tmp_path)
    with pytest.raises(PlotDataError, match="duplicate points"):
        draw_sweep_figures(pd.concat([design, design]), summary, None, tmp_path)
    with pytest.raises(PlotDataError, match="not numeric"):
        draw_sweep_figures(design.assign(**{P1: ["a", "b"]}), summary, None, tmp_path)
    with pytest.raises(PlotDataError, match="missing from the design: 1"):
        draw_sweep_figures(design.iloc[:1], summary, None, tmp_path)
    with pytest.raises(PlotDataError, match="no finite value"):
        draw_sweep_figures(design, summary.assign(value=np.nan), None, tmp_path)
    with pytest.raises(PlotDataError, match="not a folder"):
        draw_sweep_figures(design, summary, None, tmp_path / "missing")
    with pytest.raises(PlotDataError, match="must be a pandas DataFrame"):
        draw_sweep_figures(design, summary.to_dict(), None, tmp_path)  # type: ignore[arg-type]

    _, _, idx = indices["sobol"]
    with pytest.raises(PlotDataError, match=r"indices table lacks column.*metric"):
        draw_sweep_figures(design, summary, idx.drop(columns="metric"), tmp_path)
    with pytest.raises(PlotDataError, match=r"unknown index name.*S3"):
        draw_sweep_figures(design, summary, idx.replace({"index": {"S2": "S3"}}), tmp_path)
    no_pair = idx.copy()
    no_pair["parameter_2"] = None
    with pytest.raises(PlotDataError, match="without parameter_2"):
        draw_sweep_figures(design, summary, no_pair, tmp_path)
    _, _, morris = indices["morris"]
    with pytest.raises(PlotDataError, match="lack sigma"):
        draw_sweep_figures(design, summary, morris[morris["index"] != "sigma"], tmp_path)


def test_sobol_intervals_sit_on_their_bars(tmp_path: Path, monkeypatch) -> None:
    """The precomputed intervals are drawn by hand: each must be centred on its own bar."""
    import urbsim.plots.sweep as sweep_plots

    seen: list[tuple[list, list]] = []

    # Stands in for save_figure: look, do not write.
    def inspect(fig, path, legend_share=None, size=None):
        import matplotlib.pyplot as plt

        ax = fig.axes[0]
        bars = [
            (round(p.get_y() + p.get_height() / 2, 6), round(p.get_width(), 9))
            for p in ax.patches
            if p.get_width() != 0
        ]
        whiskers = [
            (round(y0, 6), round((x0 + x1) / 2, 9))
            for coll in ax.collections
            for (x0, y0), (x1, y1) in getattr(coll, "get_segments", list)()
            if y0 == y1
        ]
        seen.append((sorted(bars), sorted(whiskers)))
        plt.close(fig)
        return path

    monkeypatch.setattr(sweep_plots, "save_figure", inspect)
    idx = pd.DataFrame(
        {
            "metric": "m",
            "parameter": ["a", "b", "c", "a", "b", "c"],
            "parameter_2": None,
            "index": ["S1"] * 3 + ["ST"] * 3,
            "value": [0.1, 0.2, 0.3, 0.15, -0.05, 0.5],
            "conf": [0.05, 0.02, 0.1, 0.03, 0.04, 0.2],
        }
    )
    sweep_plots._draw_sobol(idx, "m", "", "", tmp_path)
    bars, whiskers = seen[0]
    assert len(bars) == 6
    assert bars == whiskers


def test_grid_detection() -> None:
    from urbsim.plots.sweep import _is_grid

    params = [P1, P2]
    assert _is_grid(_grid([0.5, 1.0, 2.0], [0.05, 0.1]), params)
    assert not _is_grid(_grid([0.5, 1.0, 2.0], [0.05, 0.1]).iloc[:-1], params)
    # A Morris design on a 4-level grid visits the cells repeatedly: not a grid.
    problem = Problem(params, [(0.5, 3.0), (0.05, 0.3)])
    morris = _design(dict(zip(params, sample(problem, "morris", 30, seed=1).T, strict=True)))
    assert morris[P1].nunique() == 4
    assert not _is_grid(morris, params)
    lhs = _design(dict(zip(params, sample(problem, "lhs", 30, seed=1).T, strict=True)))
    assert not _is_grid(lhs, params)
