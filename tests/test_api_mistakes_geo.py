"""Ordinary user mistakes with Grid, regrid and Regridder: one-line errors, valid cases kept."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from trajectoire import Grid, GridError, InputError, Regridder, regrid


@pytest.fixture
def src() -> Grid:
    return Grid.from_bounds(700_000, 7_000_000, 702_000, 7_002_000, 500)


@pytest.fixture
def da(src: Grid) -> xr.DataArray:
    return src.to_dataarray(np.arange(16.0).reshape(4, 4), attrs={"units": "t yr-1"})


def one_line(exc: pytest.ExceptionInfo[BaseException]) -> str:
    text = str(exc.value)
    assert "\n" not in text
    return text


# ---------------------------------------------------------------- 1. no overlap at all
def test_regrid_onto_a_target_that_does_not_overlap_is_an_error(da: xr.DataArray) -> None:
    far = Grid.from_bounds(800_000, 7_100_000, 802_000, 7_102_000, 250)
    with pytest.raises(GridError) as exc:
        regrid(da, far)
    msg = one_line(exc)
    for part in (
        "do not overlap",
        "nothing would be transferred",
        "(700000, 7000000, 702000, 7002000) in EPSG:2154",
        "(800000, 7100000, 802000, 7102000) in EPSG:2154",
        "Check the target's bounds and crs",
    ):
        assert part in msg
    with pytest.raises(GridError, match="do not overlap"):
        regrid(da, far, extensive=False)
    with pytest.raises(GridError, match="do not overlap"):
        Regridder(da, far)(da)
    with pytest.raises(GridError, match="do not overlap"):
        Regridder(da, far).apply_array(da.values)


def test_no_overlap_across_crs_names_the_source_in_the_target_crs(da: xr.DataArray) -> None:
    far = Grid.from_bounds(10.0, 40.0, 11.0, 41.0, 0.1, crs="EPSG:4326")
    with pytest.raises(GridError) as exc:
        regrid(da, far)
    msg = one_line(exc)
    assert "in EPSG:2154" in msg and "in EPSG:4326" in msg and "in the target CRS" in msg


def test_no_overlap_with_only_zeros_is_all_zero(da: xr.DataArray) -> None:
    far = Grid.from_bounds(800_000, 7_100_000, 802_000, 7_102_000, 250)
    out = regrid(da * 0.0, far)
    assert out.shape == (8, 8) and float(out.sum()) == 0.0
    # a plan built from a Grid alone is not an error either: only applying it is
    Regridder(Grid.from_bounds(700_000, 7_000_000, 702_000, 7_002_000, 500), far)


def test_crop_is_silent_and_logged_at_debug(
    da: xr.DataArray, caplog: pytest.LogCaptureFixture
) -> None:
    half = Grid.from_bounds(701_000, 7_000_000, 703_000, 7_002_000, 250)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with caplog.at_level(logging.DEBUG, logger="trajectoire.geo.regridding"):
            out = regrid(da, half)
    np.testing.assert_allclose(float(out.sum()), float(da[:, 2:].sum()), rtol=1e-12)
    assert "50% of the source grid's area" in caplog.text
    assert set(out.attrs) == {"units", "crs"}  # nothing added that would reach an output


# ---------------------------------------------------------------- 2. coordinates vs CRS
def test_degrees_labelled_lambert93_is_an_error(src: Grid) -> None:
    deg = xr.DataArray(
        np.ones((4, 4)),
        dims=("y", "x"),
        coords={"y": 50.0875 - np.arange(4) * 0.025, "x": 3.0125 + np.arange(4) * 0.025},
        attrs={"crs": "EPSG:2154", "units": "t yr-1"},
    )
    with pytest.raises(GridError) as exc:
        regrid(deg, src)
    msg = one_line(exc)
    for part in ("x 3 to 3.1", "y 50 to 50.1", "CRS EPSG:2154", "look like degrees"):
        assert part in msg
    assert "attrs['crs']" in msg and "'EPSG:4326'" in msg
    with pytest.raises(GridError, match="look like degrees"):
        Regridder(deg, src)


def test_metres_under_lon_lat_dims_without_crs_is_an_error(da: xr.DataArray, src: Grid) -> None:
    m = xr.DataArray(
        np.ones((4, 4)), dims=("lat", "lon"), coords={"lat": da.y.values, "lon": da.x.values}
    )
    with pytest.raises(GridError) as exc:
        regrid(m, src)
    msg = one_line(exc)
    for part in (
        "x 700000 to 702000",
        "EPSG:4326 assumed",
        "[-180, 360] x [-90, 90]",
        "look like metres of a projected CRS",
        "attrs['crs']",
    ):
        assert part in msg
    # the same field with its CRS is fine
    out = regrid(m.assign_attrs(crs="EPSG:2154"), src)
    np.testing.assert_allclose(np.asarray(out), 1.0)


def test_lon_lat_source_in_degrees_still_regrids() -> None:
    ll = xr.DataArray(
        np.ones((4, 4)),
        dims=("lat", "lon"),
        coords={"lat": 50.5 + np.arange(4) * 0.01, "lon": 3.0 + np.arange(4) * 0.02},
    )
    target = Grid.from_bounds(2.99, 50.495, 3.07, 50.535, 500, bounds_crs="EPSG:4326")
    out = regrid(ll, target)
    np.testing.assert_allclose(float(out.sum()), 16.0, rtol=1e-6)


# ---------------------------------------------------------------- 3. geographic bounds
def test_metres_with_a_geographic_crs_is_an_error() -> None:
    with pytest.raises(GridError) as exc:
        Grid.from_bounds(700_000, 7_050_000, 710_000, 7_060_000, 100, crs="EPSG:4326")
    msg = one_line(exc)
    for part in ("Grid.from_bounds", "700000", "EPSG:4326", "[-180, 360] x [-90, 90]", "metres"):
        assert part in msg
    assert "EPSG:2154" in msg


@pytest.mark.parametrize(
    "bounds",
    [(-180, -90, 180, 90), (-0.125, -90.125, 359.875, 90.125), (2.9, 50.5, 3.3, 50.8)],
)
def test_degree_bounds_with_a_geographic_crs_are_kept(
    bounds: tuple[float, float, float, float],
) -> None:
    x0, y0, x1, y1 = bounds
    res = 0.25 if x0 < 0 else 0.1
    g = Grid.from_bounds(x0, y0, x1, y1, res, crs="EPSG:4326", snap=False)
    assert g.crs.to_epsg() == 4326


# ---------------------------------------------------------------- 4. dask chunks on x/y
def test_dask_source_chunked_along_x_and_y_stays_lazy(da: xr.DataArray) -> None:
    pytest.importorskip("dask")
    half = Grid.from_bounds(701_000, 7_000_000, 703_000, 7_002_000, 250)
    stacked = xr.concat([da, 2 * da, 3 * da], dim="time").assign_coords(time=[1, 2, 3])
    lazy = regrid(stacked.chunk({"x": 2, "y": 3, "time": 1}), half)
    assert lazy.chunks is not None
    assert lazy.chunksizes["time"] == (1, 1, 1)
    np.testing.assert_array_equal(lazy.values, regrid(stacked, half).values)
    ds_lazy = regrid(xr.Dataset({"e": da.chunk({"x": 2})}, attrs={"crs": "EPSG:2154"}), half)
    assert ds_lazy["e"].chunks is not None
    np.testing.assert_array_equal(ds_lazy["e"].values, regrid(da, half).values)


# ---------------------------------------------------------------- 5. plan files
def test_to_netcdf_into_a_missing_directory(da: xr.DataArray, tmp_path: Path) -> None:
    plan = Regridder(da, Grid.from_bounds(700_000, 7_000_000, 702_000, 7_002_000, 250))
    with pytest.raises(InputError) as exc:
        plan.to_netcdf(tmp_path / "nodir" / "w.nc")
    msg = one_line(exc)
    assert "Regridder.to_netcdf" in msg and str(tmp_path / "nodir") in msg
    assert "does not exist" in msg
    with pytest.raises(InputError, match="is a directory"):
        plan.to_netcdf(tmp_path)
    plan.to_netcdf(tmp_path / "w.nc")
    again = Regridder.from_netcdf(tmp_path / "w.nc")
    np.testing.assert_array_equal(again(da).values, plan(da).values)


def test_from_netcdf_on_a_missing_or_text_file(tmp_path: Path) -> None:
    with pytest.raises(InputError) as exc:
        Regridder.from_netcdf(tmp_path / "missing.nc")
    msg = one_line(exc)
    assert "missing.nc" in msg and "not found" in msg and "Regridder.to_netcdf" in msg
    text = tmp_path / "notes.nc"
    text.write_text("not a netcdf file\n")
    with pytest.raises(InputError) as exc:
        Regridder.from_netcdf(text)
    msg = one_line(exc)
    assert "notes.nc" in msg and "cannot be read as NetCDF" in msg
    assert "Regridder.to_netcdf" in msg
    other = tmp_path / "other.nc"
    xr.Dataset({"a": ("x", [1.0])}).to_netcdf(other)
    with pytest.raises(InputError, match=r"other.nc.*not a trajectoire regridding file"):
        Regridder.from_netcdf(other)


# ---------------------------------------------------------------- 6. resolution, counts
@pytest.mark.parametrize(
    ("resolution", "words"),
    [
        ((100, 100, 100), "not 3 values"),
        ([[100.0]], "2-D array"),
        ("abc", "as a number"),
        (None, "None is not a number"),
        ((100, "x"), "'x' is not a number"),
        (True, "resolution=True"),
    ],
)
def test_bad_resolution(resolution: object, words: str) -> None:
    with pytest.raises(GridError) as exc:
        Grid.from_bounds(700_000, 7_050_000, 710_000, 7_060_000, resolution)  # type: ignore[arg-type]
    msg = one_line(exc)
    assert "resolution=" in msg and words in msg and "pair (dx, dy)" in msg


@pytest.mark.parametrize(
    ("resolution", "cells"),
    [
        (100, (100, 100)),
        (100.0, (100, 100)),
        (np.float64(100), (100, 100)),
        ((100, 200), (50, 100)),
        ([100, 200], (50, 100)),
        (np.array([100.0, 200.0]), (50, 100)),
        ((100,), (100, 100)),
        (np.array(100.0), (100, 100)),
    ],
)
def test_good_resolution(resolution: object, cells: tuple[int, int]) -> None:
    g = Grid.from_bounds(700_000, 7_050_000, 710_000, 7_060_000, resolution)  # type: ignore[arg-type]
    assert g.shape == cells


def test_non_positive_resolution_message_kept() -> None:
    with pytest.raises(GridError, match=r"resolution must be a finite number > 0, got -100.0"):
        Grid.from_bounds(700_000, 7_050_000, 710_000, 7_060_000, -100)


@pytest.mark.parametrize("nx", [10.5, "10", True, None])
def test_grid_constructor_needs_whole_counts(nx: object) -> None:
    with pytest.raises(GridError) as exc:
        Grid(700_000.0, 7_000_000.0, 100.0, 100.0, nx, 10, "EPSG:2154")  # type: ignore[arg-type]
    msg = one_line(exc)
    assert f"nx={nx!r}" in msg and "whole number of columns" in msg and "from_bounds" in msg


def test_grid_constructor_takes_integral_counts() -> None:
    g = Grid(700_000.0, 7_000_000.0, 100.0, 100.0, 10.0, np.int64(5), "EPSG:2154")  # type: ignore[arg-type]
    assert g.shape == (5, 10) and type(g.nx) is int
    assert np.arange(g.nx).dtype.kind == "i"
