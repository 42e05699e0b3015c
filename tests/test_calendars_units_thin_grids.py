"""Probe 11 findings on units, meteorology, the plume and regrid: cftime time axes (F6),
sources one cell thick (F7), the Greek mu and the French dot notation (F8), 0..360
longitudes (F9), masked Obukhov lengths (F10), dates and booleans given as numbers (F13)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from trajectoire import Grid, GridError, InputError
from trajectoire.dispersion import gaussian_plume
from trajectoire.meteo import (
    add_stability,
    met_classes,
    read_era5,
    read_hourly,
    stability_class,
    turner_class,
)
from trajectoire.meteo.stability import solar_elevation
from trajectoire.regrid import Regridder, regrid
from trajectoire.units import convert, normalise_units, unit_is_intensive, unit_kind


# ---------------------------------------------------------------- F6: cftime calendars
def _hours(n: int = 48) -> pd.DataFrame:
    rng = np.random.default_rng(11)
    return pd.DataFrame(
        {
            "time": pd.date_range("1990-01-01", periods=n, freq="h").strftime("%Y-%m-%dT%H:%M"),
            "wind_speed": rng.uniform(1.0, 8.0, n),
            "wind_direction": rng.choice(np.arange(0.0, 360.0, 10.0), n),
            "cloud_cover": rng.integers(0, 9, n).astype(float),
            "temperature": rng.uniform(270.0, 290.0, n),
        }
    )


@pytest.fixture(scope="module")
def met() -> xr.Dataset:
    return add_stability(read_hourly(_hours(), latitude=50.6, longitude=3.1))


def _cftime(ds: xr.Dataset, calendar: str) -> xr.Dataset:
    times = xr.date_range(
        "1990-01-01", periods=ds.sizes["time"], freq="h", calendar=calendar, use_cftime=True
    )
    return ds.assign_coords(time=times)


@pytest.mark.parametrize("calendar", ["noleap", "360_day"])
def test_meteo_functions_refuse_cftime_in_one_line(met: xr.Dataset, calendar: str) -> None:
    cf = _cftime(met, calendar)
    times = cf["time"].values
    calls = {
        "met_classes: ds['time']": lambda: met_classes(cf),
        "add_stability: ds['time']": lambda: add_stability(cf.drop_vars("stability")),
        "turner_class: time": lambda: turner_class([3.0], [2.0], times[:1], 50.6, 3.1),
        "solar_elevation: time": lambda: solar_elevation(times, 50.6, 3.1),
    }
    for name, call in calls.items():
        with pytest.raises(InputError) as err:
            call()
        text = str(err.value)
        assert text.startswith(name), text
        assert f"{calendar!r} calendar" in text and "not supported" in text
        assert 'convert_calendar("standard", align_on="date")' in text
        assert "\n" not in text


@pytest.mark.parametrize("calendar", ["noleap", "360_day"])
def test_suggested_calendar_conversion_works(met: xr.Dataset, calendar: str) -> None:
    converted = _cftime(met, calendar).convert_calendar("standard", align_on="date")
    table = met_classes(converted)
    assert float(table["frequency"].sum()) == pytest.approx(1.0)
    again = add_stability(converted.drop_vars("stability"))
    assert again["stability"].values.tolist() == met["stability"].values.tolist()


def test_read_hourly_refuses_a_cftime_netcdf(met: xr.Dataset, tmp_path) -> None:
    path = tmp_path / "noleap.nc"
    _cftime(met.drop_vars(["stability", "solar_elevation"]), "noleap").to_netcdf(path)
    with pytest.raises(InputError, match=r"noleap.nc: variable 'time': cftime dates in the "):
        read_hourly(path, latitude=50.6, longitude=3.1)


def test_read_era5_refuses_a_cftime_file(tmp_path) -> None:
    n = 24
    times = xr.date_range("1990-01-01", periods=n, freq="h", calendar="360_day", use_cftime=True)
    shape = (n, 1, 1)
    ds = xr.Dataset(
        {
            "u10": (("valid_time", "latitude", "longitude"), np.full(shape, 2.0)),
            "v10": (("valid_time", "latitude", "longitude"), np.full(shape, 1.0)),
            "t2m": (("valid_time", "latitude", "longitude"), np.full(shape, 280.0)),
            "tcc": (("valid_time", "latitude", "longitude"), np.full(shape, 0.5)),
        },
        coords={"valid_time": times, "latitude": [50.5], "longitude": [3.0]},
    )
    for name, units in (("u10", "m s**-1"), ("v10", "m s**-1"), ("t2m", "K"), ("tcc", "1")):
        ds[name].attrs["units"] = units
    path = tmp_path / "era5.nc"
    ds.to_netcdf(path)
    with pytest.raises(InputError, match=r"'360_day' calendar.*convert the file first"):
        read_era5(path, latitude=50.5, longitude=3.0)


def test_read_hourly_dataframe_of_360_day_dates_says_calendar() -> None:
    frame = _hours(24 * 62)
    frame["time"] = np.asarray(
        xr.date_range("1990-01-01", periods=len(frame), freq="h", calendar="360_day")
    )
    with pytest.raises(InputError, match=r"column 'time': cftime dates in the '360_day'"):
        read_hourly(frame)


# ---------------------------------------------------------------- F7: one cell thick
STRIP = Grid.from_bounds(700_000, 7_050_000, 702_000, 7_050_200, 200)  # 1 x 10
FINE = Grid.from_bounds(700_000, 7_050_000, 702_000, 7_050_200, 100)


def test_regrid_one_row_made_by_to_dataarray() -> None:
    da = STRIP.to_dataarray(np.arange(10.0)[None, :], attrs={"units": "t yr-1"})
    out = regrid(da, FINE)
    assert out.shape == (2, 20)
    assert float(out.sum()) == pytest.approx(45.0)
    np.testing.assert_allclose(out.values[0, ::2] * 4, np.arange(10.0))


@pytest.mark.parametrize("cut", [{"y": [3]}, {"x": [4]}, {"y": [3], "x": [4]}])
def test_regrid_a_cut_one_cell_thick_conserves_mass(cut: dict[str, list[int]]) -> None:
    g = Grid.from_bounds(700_000, 7_050_000, 702_000, 7_052_000, 200)
    full = g.to_dataarray(np.arange(100.0).reshape(10, 10), attrs={"units": "t yr-1"})
    part = full.isel(cut)
    out = regrid(part, Grid.from_bounds(699_000, 7_049_000, 703_000, 7_053_000, 50))
    assert float(out.sum()) == pytest.approx(float(part.sum()))


def test_regrid_one_row_with_a_rioxarray_geotransform() -> None:
    ref = xr.DataArray(
        0, attrs={"crs_wkt": STRIP.crs.to_wkt(), "GeoTransform": "700000 200 0 7050200 0 -200"}
    )
    da = xr.DataArray(
        np.ones((1, 10)), dims=("y", "x"), coords={"y": STRIP.y, "x": STRIP.x, "spatial_ref": ref}
    )
    assert float(regrid(da, FINE).sum()) == pytest.approx(10.0)


def test_regrid_one_row_without_cell_size_says_how_to_give_it() -> None:
    bare = xr.DataArray(
        np.ones((1, 10)),
        dims=("y", "x"),
        coords={"y": STRIP.y, "x": STRIP.x},
        attrs={"crs": "EPSG:2154"},
    )
    with pytest.raises(GridError) as err:
        regrid(bare, FINE)
    text = str(err.value)
    assert text.startswith("regrid: the source is one cell thick (y=[7050100.0])")
    assert "source['y'].attrs['resolution']" in text and "Regridder(Grid.from_bounds(" in text
    assert "Grid.from_coords" not in text
    # the way out it gives works
    assert float(Regridder(STRIP, FINE)(bare).sum()) == pytest.approx(10.0)
    given = bare.copy()
    given["y"].attrs["resolution"] = 200.0
    assert float(regrid(given, FINE).sum()) == pytest.approx(10.0)


# ---------------------------------------------------------------- F8: units spellings
@pytest.mark.parametrize(
    ("units", "kind", "canonical"),
    [
        ("\u03bcg/m3", "concentration", "ug m-3"),  # Greek mu
        ("\u03bcg m-3", "concentration", "ug m-3"),
        ("\u00b5g.m-3", "concentration", "ug m-3"),  # micro sign, French dot notation
        ("ug.m-3", "concentration", "ug m-3"),
        ("\u03bcg.m\u207b\u00b3", "concentration", "ug m-3"),
        ("mg.m-3", "concentration", "mg m-3"),
        ("kg.an-1", "emission_rate", "kg yr-1"),
        ("t.an-1", "emission_rate", "t yr-1"),
        ("g.s-1", "emission_rate", "g s-1"),
        ("\u00b5mol mol-1", "mixing_ratio", "umol mol-1"),
    ],
)
def test_units_greek_mu_and_dot_notation(units: str, kind: str, canonical: str) -> None:
    assert normalise_units(units, kind) == canonical
    assert unit_kind(units) == kind
    assert float(convert(1.0, units, canonical, kind)) == 1.0


def test_units_dot_in_numbers_is_not_a_product() -> None:
    assert unit_kind("1.5") is None
    assert unit_kind("1e-9") == "mixing_ratio"
    assert unit_is_intensive("kg.m-2.s-1") is True
    assert normalise_units("T.YR-1", "emission_rate") == "t yr-1"


# ---------------------------------------------------------------- F9: 0..360 longitudes
def _lonlat_source() -> xr.DataArray:
    lon = np.arange(-1.05, -0.70, 0.1)
    lat = np.arange(50.85, 50.40, -0.1)
    return xr.DataArray(
        np.arange(lat.size * lon.size, dtype=float).reshape(lat.size, lon.size),
        dims=("lat", "lon"),
        coords={"lat": lat, "lon": lon},
        attrs={"crs": "EPSG:4326", "units": "t yr-1"},
    )


@pytest.mark.parametrize(
    "target",
    [
        Grid.from_bounds(380_000, 7_020_000, 440_000, 7_080_000, 1000),  # polygon path
        Grid.from_bounds(-1.2, 50.3, -0.6, 50.9, 0.05, crs="EPSG:4326"),  # separable path
    ],
)
def test_regrid_longitudes_0_360_west_of_greenwich(target: Grid) -> None:
    src = _lonlat_source()
    expected = regrid(src, target)
    got = regrid(src.assign_coords(lon=src["lon"] % 360), target)
    assert float(expected.sum()) > 0
    np.testing.assert_allclose(got.values, expected.values, rtol=1e-9, atol=1e-9)


def test_regrid_global_0_360_source_onto_a_target_across_greenwich() -> None:
    lon = np.arange(0.125, 360.0, 0.25)
    lat = np.arange(51.875, 49.0, -0.25)
    src = xr.DataArray(
        np.ones((lat.size, lon.size)),
        dims=("lat", "lon"),
        coords={"lat": lat, "lon": lon},
        attrs={"crs": "EPSG:4326", "units": "t yr-1"},
    )
    target = Grid.from_bounds(-1.0, 50.0, 1.0, 51.0, 0.25, crs="EPSG:4326")
    assert float(regrid(src, target).sum()) == pytest.approx(32.0)


# ---------------------------------------------------------------- F10: masked Obukhov
def test_stability_class_masked_in_masked_out() -> None:
    lo = np.ma.masked_array([-5.0, 9.969209968386869e36, 50.0], mask=[False, True, False])
    out = stability_class(lo, 0.1)
    assert np.ma.isMaskedArray(out)
    assert np.ma.getmaskarray(out).tolist() == [False, True, False]
    assert out.compressed().tolist() == ["A", "E"]
    z0 = np.ma.masked_array([0.1, -1.0], mask=[False, True])  # masked entries not checked
    both = stability_class(np.array([[-5.0], [50.0]]), z0)
    assert np.ma.getmaskarray(both).tolist() == [[False, True], [False, True]]
    plain = stability_class([-5.0, 50.0], 0.1)
    assert not np.ma.isMaskedArray(plain) and plain.tolist() == ["A", "E"]


# ---------------------------------------------------------------- F13: not numbers
@pytest.mark.parametrize(
    ("q", "x", "named", "what"),
    [
        (1.0, np.datetime64("2020-01-01"), "gaussian_plume: x", "dates"),
        (1.0, pd.Series(pd.to_datetime(["2020-01-01"])), "gaussian_plume: x", "dates"),
        (1.0, np.timedelta64(500, "s"), "gaussian_plume: x", "durations"),
        (True, 500.0, "gaussian_plume: q", "booleans"),
        (np.array([True, False]), 500.0, "gaussian_plume: q", "booleans"),
        (1.0, [500.0, True], "gaussian_plume: x", "booleans"),
    ],
)
def test_gaussian_plume_refuses_dates_and_booleans(q, x, named: str, what: str) -> None:
    with pytest.raises(InputError, match=rf"^{named}: got {what} \(e\.g\. "):
        gaussian_plume(q, x, 0.0, 0.0, u=3.0, stability="D", h=0.0)


def test_gaussian_plume_still_takes_ints_and_float32() -> None:
    ref = gaussian_plume(1.0, 1000.0, 0.0, 0.0, u=3.0, stability="D", h=0.0)
    assert float(gaussian_plume(1, 1000, 0, 0, u=3, stability="D", h=0)) == float(ref)
    as_f32 = gaussian_plume(np.float32(1), np.float32(1000), 0, 0, u=3, stability="D", h=0)
    assert float(as_f32) == float(ref)
