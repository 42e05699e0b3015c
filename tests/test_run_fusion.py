"""Fused maps as an optional output of a run (issue 16): ``[output] fusion = true``.

A constructed pipeline (the :class:`trajectoire.batch.runner.Pipeline` protocol, as
``fake_pipeline.py``) on a small grid: a "true" field, observed at a dozen stations, and a
model that misses it by a smooth bias (a plane). Residual kriging of observed minus model
must recover the bias, so the leave-one-out error after fusion is below the model's. The run
goes through the runner (assembly, atomic write, resume) and ``trajectoire info``.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from fake_pipeline import assert_same_content, write_config
from trajectoire.assess import fuse
from trajectoire.batch.runner import parts_dir_of, run
from trajectoire.cli import main
from trajectoire.config import load_config
from trajectoire.geo.grid import Grid

NY, NX = 30, 40
POLLUTANTS = ("NO2", "PM10")
YEARS = (2021, 2022, 2023)
#: (row, col) of the stations; the last one is off every other's column (no co-location)
CELLS = [(3, 4), (5, 30), (8, 15), (12, 36), (14, 8), (17, 22), (20, 2), (22, 33), (25, 12),
         (27, 27), (10, 25), (24, 5)]  # fmt: skip
FUSION = 'fusion = true\nfusion_method = "kriging"\nfusion_variogram = "exponential"\n'


class BiasedPipeline:
    """Truth = smooth hills; model = truth − (4 + 6 x/L) ug m-3; stations observe the truth.

    NO2 has all its stations; PM10 only three (below ``fusion_min_stations`` = 4). The
    bottom-right corner is masked (NaN), as cells beyond the buffer are in a real run.
    """

    def __init__(self, fail_year: int | None = None) -> None:
        self.fail_year = fail_year

    def prepare(self, config: Any) -> Any:
        return Grid.from_bounds(690_000, 7_050_000, 690_000 + NX * 100, 7_050_000 + NY * 100, 100)

    def years(self, ctx: Any) -> list[int]:
        return list(YEARS)

    @staticmethod
    def fields(grid: Grid, year: int) -> tuple[np.ndarray, np.ndarray]:
        """Truth and model ``(ny, nx)`` of a year."""
        c = grid.coords()
        x = (np.asarray(c["x"]) - 690_000) / (NX * 100)
        y = (np.asarray(c["y"]) - 7_050_000) / (NY * 100)
        xx, yy = np.meshgrid(x, y)
        truth = 25 + 8 * np.sin(3 * xx) * np.cos(2 * yy) + 0.5 * (2023 - year)
        model = truth - (4.0 + 6.0 * xx)
        model[-6:, -8:] = np.nan  # masked corner
        return truth, model

    def compute_year(self, grid: Grid, year: int) -> xr.Dataset:
        if year == self.fail_year:
            raise RuntimeError("killed")
        truth, model = self.fields(grid, year)
        rows, cols = np.array(CELLS).T
        conc = np.stack([model, model * 0.8])
        obs = np.stack([truth[rows, cols], truth[rows, cols] * 0.8], axis=-1)
        obs[3:, 1] = np.nan  # PM10: three stations only
        ids = [f"S{k:02d}" for k in range(len(CELLS))]
        coords = {"year": [year], "pollutant": list(POLLUTANTS), "station": ids}
        ds = xr.Dataset(coords={**coords, **grid.coords()})
        ds["concentration"] = (
            ("year", "pollutant", "y", "x"),
            conc[None].astype(np.float32),
            {"units": "ug m-3"},
        )
        ds["station_concentration"] = (
            ("year", "station", "pollutant"),
            conc[:, rows, cols].T[None],
            {"units": "ug m-3"},
        )
        ds["station_observation"] = (
            ("year", "station", "pollutant"),
            obs[None],
            {"units": "ug m-3"},
        )
        ds.attrs["crs"] = "EPSG:2154"
        return ds

    def static_variables(self, grid: Grid) -> xr.Dataset:
        c = grid.coords()
        rows, cols = np.array(CELLS).T
        ids = [f"S{k:02d}" for k in range(len(CELLS))]
        ds = xr.Dataset(coords={"station": ids, **c})
        ds["station_x"] = ("station", np.asarray(c["x"])[cols], {"units": "m"})
        ds["station_y"] = ("station", np.asarray(c["y"])[rows], {"units": "m"})
        ds.attrs["crs"] = "EPSG:2154"
        return ds

    def global_attributes(self, ctx: Any) -> dict[str, Any]:
        return {}


def _config(tmp, extra: str = FUSION):
    cfg = write_config(tmp, first_year=YEARS[0], last_year=YEARS[-1], map_years=(YEARS[-1],),
                       pollutants=POLLUTANTS, extra=f"\n[output]\n{extra}")  # fmt: skip
    text = cfg.read_text()
    for key in ("stations", "observations"):  # fusion needs them (the pipeline ignores them)
        (tmp / f"{key}.csv").write_text("unused\n")
        text = text.replace("[inputs]\n", f'[inputs]\n{key} = "{key}.csv"\n')
    cfg.write_text(text)
    return load_config(cfg)


@pytest.fixture(scope="module")
def output(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fusion")
    out = tmp / "out.nc"
    run(_config(tmp), out, pipeline=BiasedPipeline(), progress=False)
    with xr.open_dataset(out) as ds:
        yield out, ds.load()


def test_fused_variables_exist_masked_with_cf_attributes(output):
    _, ds = output
    fused = ds["concentration_fused"]
    assert fused.dims == ("year", "pollutant", "y", "x")
    assert fused.attrs["units"] == "ug m-3"
    assert fused.attrs["grid_mapping"] == "crs"
    assert fused.attrs["fusion_method"] == "kriging"
    no2 = fused.sel(pollutant="NO2")
    conc = ds["concentration"].sel(pollutant="NO2")
    np.testing.assert_array_equal(no2.isnull().values, conc.isnull().values)
    assert bool(fused.sel(pollutant="PM10").isnull().all())  # 3 stations < 4: not fused
    skill = ds["fusion_skill"]
    assert skill.dims == ("year", "pollutant", "stage", "statistic")
    assert bool(skill.sel(pollutant="PM10").isnull().all())
    assert (skill.sel(pollutant="NO2", statistic="n") == len(CELLS)).all()


def test_fused_map_is_the_kriging_of_the_residuals(output):
    """Independent check: ``fuse`` called directly on the written maps and observations."""
    _, ds = output
    stations = pd.DataFrame(
        {
            "station_id": ds["station"].values,
            "x": ds["station_x"].values,
            "y": ds["station_y"].values,
        }
    )
    for year in YEARS:
        model = ds["concentration"].sel(year=year, pollutant="NO2").astype(float)
        obs = ds["station_observation"].sel(year=year, pollutant="NO2")
        ref = fuse(model, obs, stations, method="kriging", sampling="nearest")["fused"]
        got = ds["concentration_fused"].sel(year=year, pollutant="NO2")
        np.testing.assert_allclose(got, ref, rtol=1e-6, atol=1e-4)
        # at the station cells (centres) the fused value is the observation
        rows, cols = np.array(CELLS).T
        np.testing.assert_allclose(got.values[rows, cols], obs.values, rtol=1e-5)
        before = np.abs(model.values[rows, cols] - obs.values)
        assert before.min() > 3.0  # the model misses every station by its bias


def test_leave_one_out_skill_improves_on_a_smooth_bias(output):
    _, ds = output
    skill = ds["fusion_skill"].sel(pollutant="NO2")
    rmse = skill.sel(statistic="rmse")
    assert (rmse.sel(stage="fused") < 0.5 * rmse.sel(stage="model")).all()
    bias = skill.sel(statistic="bias")
    assert (np.abs(bias.sel(stage="fused")) < np.abs(bias.sel(stage="model"))).all()
    # stage model is the model at the stations: the run's own evaluation
    np.testing.assert_allclose(
        rmse.sel(stage="model"), ds["evaluation"].sel(pollutant="NO2", statistic="rmse"), rtol=1e-5
    )


def test_info_mentions_the_fusion_skill(output, capsys):
    out, _ = output
    assert main(["info", str(out)]) == 0
    text = capsys.readouterr().out
    assert "fusion" in text
    line = next(ln for ln in text.splitlines() if ln.strip().startswith("NO2 ") and "LOO" in ln)
    assert "RMSE" in line and "->" in line


def test_resumed_run_fuses_the_same(tmp_path, caplog):
    """A run killed after two years, resumed: the same fused maps and skill."""
    cfg = _config(tmp_path)
    ref, out = tmp_path / "straight.nc", tmp_path / "out.nc"
    run(cfg, ref, pipeline=BiasedPipeline(), progress=False)
    with pytest.raises(RuntimeError, match="killed"):
        run(cfg, out, pipeline=BiasedPipeline(fail_year=YEARS[-1]), progress=False)
    assert parts_dir_of(out).is_dir() and not out.exists()
    with caplog.at_level(logging.INFO, logger="trajectoire"):
        run(cfg, out, pipeline=BiasedPipeline(), resume=True, progress=False)
    assert "resume: 2 of 3 year(s) already done" in caplog.text
    assert "PM10 not fused in 2021..2023" in caplog.text
    assert_same_content(ref, out)


def test_fusion_off_by_default_and_needs_observations(tmp_path):
    out = tmp_path / "out.nc"
    run(_config(tmp_path, extra=""), out, pipeline=BiasedPipeline(), progress=False)
    with xr.open_dataset(out) as ds:
        assert "concentration_fused" not in ds and "fusion_skill" not in ds
        assert "evaluation" in ds
    cfg = write_config(tmp_path / "bare", extra="\n[output]\nfusion = true\n")
    with pytest.raises(Exception, match=r"\[output\] fusion.*\[inputs\] stations and observations"):
        load_config(cfg)


# ------------------------------------------------ stations on masked cells (probe 15, #3)
#: a station in the masked corner (rows -6:, cols -8: of the grid)
MASKED_CELL = (27, 36)


class MaskedStationPipeline(BiasedPipeline):
    """BiasedPipeline with a 13th station in the masked corner: the written map is NaN
    there, but the run's ``station_concentration`` holds the model of its cell (as the
    real pipeline's receptor sums do)."""

    cells = [*CELLS, MASKED_CELL]

    def compute_year(self, grid: Grid, year: int) -> xr.Dataset:
        truth, model = self.fields(grid, year)
        full = truth - (4.0 + 6.0 * (np.asarray(grid.coords()["x"]) - 690_000) / (NX * 100))
        rows, cols = np.array(self.cells).T
        ids = [f"S{k:02d}" for k in range(len(self.cells))]
        coords = {"year": [year], "pollutant": ["NO2"], "station": ids}
        ds = xr.Dataset(coords={**coords, **grid.coords()})
        ds["concentration"] = (
            ("year", "pollutant", "y", "x"),
            model[None, None].astype(np.float32),
            {"units": "ug m-3"},
        )
        ds["station_concentration"] = (
            ("year", "station", "pollutant"),
            full[rows, cols][None, :, None],
            {"units": "ug m-3"},
        )
        ds["station_observation"] = (
            ("year", "station", "pollutant"),
            truth[rows, cols][None, :, None],
            {"units": "ug m-3"},
        )
        ds.attrs["crs"] = "EPSG:2154"
        return ds  # fmt: skip

    def static_variables(self, grid: Grid) -> xr.Dataset:
        c = grid.coords()
        rows, cols = np.array(self.cells).T
        ids = [f"S{k:02d}" for k in range(len(self.cells))]
        ds = xr.Dataset(coords={"station": ids, **c})
        ds["station_x"] = ("station", np.asarray(c["x"])[cols], {"units": "m"})
        ds["station_y"] = ("station", np.asarray(c["y"])[rows], {"units": "m"})
        ds.attrs["crs"] = "EPSG:2154"
        return ds


def test_a_station_on_a_masked_cell_informs_the_fused_map(tmp_path, caplog, capsys):
    """A station beyond the buffer (NaN on the written map) was silently left out of the
    fusion, though its station_concentration holds its model value: fusion_skill counted 12
    stations where evaluation counted 13. Now its residual enters the fusion (it informs the
    unmasked cells near it), both tables count 13, the map stays masked, the log says so."""
    cfg = write_config(tmp_path, first_year=2023, last_year=2023, map_years=(2023,),
                       pollutants=("NO2",), extra=f"\n[output]\n{FUSION}")  # fmt: skip
    text = cfg.read_text()
    for key in ("stations", "observations"):
        (tmp_path / f"{key}.csv").write_text("unused\n")
        text = text.replace("[inputs]\n", f'[inputs]\n{key} = "{key}.csv"\n')
    cfg.write_text(text)
    out = tmp_path / "out.nc"
    with caplog.at_level(logging.INFO, logger="trajectoire"):
        run(load_config(cfg), out, pipeline=MaskedStationPipeline(), progress=False)
    with xr.open_dataset(out) as ds:
        ds = ds.load()
    n_eval = float(ds["evaluation"].sel(year=2023, pollutant="NO2", statistic="n"))
    skill = ds["fusion_skill"].sel(year=2023, pollutant="NO2", statistic="n")
    assert n_eval == 13 and float(skill.sel(stage="model")) == 13
    assert "1 station(s) on cells masked beyond the buffer (S12)" in caplog.text
    np.testing.assert_allclose(  # the same stations: the same model stage as evaluation
        float(ds["fusion_skill"].sel(year=2023, pollutant="NO2", stage="model",
                                     statistic="rmse")),
        float(ds["evaluation"].sel(year=2023, pollutant="NO2", statistic="rmse")), rtol=1e-5,
    )  # fmt: skip
    conc = ds["concentration"].sel(year=2023, pollutant="NO2").astype(float)
    got = ds["concentration_fused"].sel(year=2023, pollutant="NO2")
    np.testing.assert_array_equal(got.isnull().values, conc.isnull().values)  # still masked
    # reference: fuse on the map whose masked station cell holds its station_concentration
    stations = pd.DataFrame({"station_id": ds["station"].values, "x": ds["station_x"].values,
                             "y": ds["station_y"].values})  # fmt: skip
    obs = ds["station_observation"].sel(year=2023, pollutant="NO2")
    filled = conc.copy()
    filled[MASKED_CELL] = float(ds["station_concentration"].sel(year=2023, pollutant="NO2",
                                                                station="S12"))  # fmt: skip
    ref = fuse(filled, obs, stations, method="kriging", sampling="nearest")["fused"]
    np.testing.assert_allclose(got, ref.where(conc.notnull()), rtol=1e-5, atol=1e-4)
    # without S12 the unmasked cells near it differ: the station informs them
    alone = fuse(conc, obs.drop_sel(station="S12"),
                 stations[stations.station_id != "S12"], method="kriging",
                 sampling="nearest")["fused"]  # fmt: skip
    near = (slice(20, 24), slice(30, 40))
    assert float(np.nanmax(np.abs(got[near] - alone[near]))) > 0.1
    assert main(["info", str(out)]) == 0
    said = capsys.readouterr().out
    assert "fusion_skill over 13 station(s)" in said and "FAC2 over 13 of 13" in said
