"""Ordinary mistakes in the Python API of the station fusion, siting and the ERA5 reader
(probe 4): each is refused in one line naming the argument, the value and the fix, or said
in the result; valid input keeps its result."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from trajectoire.assess import choose_sites, choose_sites_from_output, fuse
from trajectoire.assess.fusion import Variogram, idw_interpolate, krige, kriging_weights
from trajectoire.assess.siting import siting_criterion
from trajectoire.errors import InputError, UnitsError
from trajectoire.meteo import read_era5

X = 700_050.0 + 100.0 * np.arange(4)
Y = 7_060_350.0 - 100.0 * np.arange(4)


def _one_line(err: pytest.ExceptionInfo[BaseException]) -> str:
    msg = str(err.value)
    assert "\n" not in msg, msg
    return msg


@pytest.fixture
def model() -> xr.DataArray:
    return xr.DataArray(
        np.full((4, 4), 20.0),
        dims=("y", "x"),
        coords={"y": Y, "x": X},
        attrs={"units": "ug m-3"},
    )


@pytest.fixture
def stations() -> pd.DataFrame:
    return pd.DataFrame(
        {"station_id": ["a", "b", "c"], "x": [X[0], X[3], X[0]], "y": [Y[0], Y[3], Y[3]]}
    )


@pytest.fixture
def obs() -> xr.DataArray:
    return xr.DataArray(
        [22.0, 18.0, 21.0],
        dims="station",
        coords={"station": ["a", "b", "c"]},
        attrs={"units": "ug m-3"},
    )


# ------------------------------------------------------------------------------ fusion
@pytest.mark.parametrize("method", ["idw", "kriging"])
def test_fuse_refuses_an_infinite_observation_in_every_method(model, obs, stations, method):
    """idw made every fused cell inf; kriging dropped the station silently."""
    bad = obs.copy(data=[22.0, np.inf, 21.0])
    vg = Variogram("exponential", 0.0, 1.0, 100.0)
    with pytest.raises(InputError) as err:
        fuse(model, bad, stations, method=method, variogram=vg)
    msg = _one_line(err)
    assert "infinite" in msg and "'b'" in msg and "inf" in msg


def test_idw_interpolate_refuses_inf_but_skips_nan():
    with pytest.raises(InputError) as err:
        idw_interpolate([0, 10], [0, 0], [1.0, np.inf], [5.0], [0.0])
    assert "infinite" in _one_line(err)
    assert idw_interpolate([0, 10], [0, 0], [1.0, np.nan], [5.0], [0.0]).tolist() == [1.0]


def test_fuse_idw_with_every_observation_nan_says_nothing_to_fuse(model, obs, stations):
    with pytest.raises(InputError) as err:
        fuse(model, obs * np.nan, stations, method="idw")
    msg = _one_line(err)
    assert "no observation to fuse" in msg and "NaN" in msg


def test_fuse_with_no_station_is_one_line(model, obs, stations):
    """Was: ValueError cannot reshape array of size 0."""
    with pytest.raises(InputError) as err:
        fuse(model, obs.isel(station=[]), stations, method="idw")
    msg = _one_line(err)
    assert "observed has no station" in msg


def test_fuse_names_a_station_on_a_nan_model_cell(model, obs, stations):
    masked = model.copy()
    masked[3, 3] = np.nan  # station b's cell
    ds = fuse(masked, obs, stations, method="idw", sampling="nearest")
    assert ds.attrs["stations_on_missing_model"] == "b"
    assert "stations_on_missing_model" not in fuse(model, obs, stations, method="idw").attrs


def test_fuse_duplicate_observed_id_blames_observed(model, obs, stations):
    """Was blamed on the stations table, ids shown as np.str_('a')."""
    dup = obs.assign_coords(station=["a", "b", "a"])
    with pytest.raises(InputError) as err:
        fuse(model, dup, stations, method="idw")
    msg = _one_line(err)
    assert "observed" in msg and "duplicated id(s) 'a'" in msg and "np.str_" not in msg


def test_fuse_duplicate_station_id_shows_plain_ids(model, obs, stations):
    """Rows were shown as np.int64(0) (a concatenated table's labels)."""
    table = pd.concat([stations, stations.iloc[:1]])
    with pytest.raises(InputError) as err:
        fuse(model, obs, table, method="idw")
    msg = _one_line(err)
    assert "stations" in msg and "'a' at rows 0, 0" in msg and "np." not in msg


def test_krige_with_a_model_name_says_to_fit_one():
    """Was: TypeError 'str' object is not callable."""
    with pytest.raises(InputError) as err:
        krige([0, 100], [0, 0], [1.0, 3.0], [0.0], [0.0], "exponential")  # type: ignore[arg-type]
    msg = _one_line(err)
    assert "variogram='exponential'" in msg and "fit_variogram" in msg
    with pytest.raises(InputError):
        kriging_weights([0, 100], [0, 0], [0.0], [0.0], "spherical")  # type: ignore[arg-type]


def test_variogram_range_as_text_is_one_line():
    with pytest.raises(InputError) as err:
        Variogram("exponential", 0.0, 1.0, "500")  # type: ignore[arg-type]
    msg = _one_line(err)
    assert "range" in msg and "'500'" in msg


@pytest.mark.parametrize("option", ["power", "radius"])
def test_fuse_power_or_radius_as_text_is_one_line(model, obs, stations, option):
    with pytest.raises(InputError) as err:
        fuse(model, obs, stations, method="idw", **{option: "2"})
    msg = _one_line(err)
    assert f"{option} must be" in msg and "'2'" in msg


def test_fuse_valid_cases_unchanged(model, obs, stations):
    ds = fuse(model, obs, stations, method="idw")
    assert float(ds.fused[0, 0]) == 22.0 and float(ds.fused[3, 3]) == 18.0
    ds = fuse(model, obs, stations, method="idw", power=np.int64(2), radius=np.float64(1e4))
    assert float(ds.fused[3, 0]) == 21.0
    est, _ = krige([0, 100], [0, 0], [1.0, 3.0], [50.0], [0.0], Variogram("exponential", 0, 1, 100))
    assert est.round(6).tolist() == [2.0]


# ------------------------------------------------------------------------------ siting
def _field() -> xr.DataArray:
    yy, xx = np.mgrid[0:8, 0:8]
    return xr.DataArray(
        (xx + 1.0) * (yy + 2.0),
        dims=("y", "x"),
        coords={
            "y": 6_600_050.0 + 100.0 * np.arange(8)[::-1],
            "x": 700_050.0 + 100.0 * np.arange(8),
        },
    )


def _output() -> xr.Dataset:
    c = _field()
    conc = xr.concat([c, c * 1.1], dim="year").expand_dims(pollutant=["NO2"], axis=1)
    return xr.Dataset({"concentration": conc.assign_coords(year=[2022, 2023])})


def test_choose_sites_concentration_as_numpy_is_one_line():
    with pytest.raises(InputError) as err:
        choose_sites(_field().values, 2)  # type: ignore[arg-type]
    msg = _one_line(err)
    assert "concentration" in msg and "xarray.DataArray" in msg and "ndarray" in msg


def test_choose_sites_population_as_numpy_is_one_line():
    c = _field()
    with pytest.raises(InputError) as err:
        choose_sites(c, 2, population=np.ones(c.shape))  # type: ignore[arg-type]
    msg = _one_line(err)
    assert "population" in msg and "xarray.DataArray" in msg


def test_choose_sites_refuses_sources_in_lon_lat():
    with pytest.raises(InputError) as err:
        choose_sites(_field(), 2, sources=[[3.0, 50.6]])
    msg = _one_line(err)
    assert "sources" in msg and "outside the grid" in msg and "lon/lat" in msg


def test_siting_criterion_x_y_of_different_lengths():
    c = _field()
    feats = c.expand_dims(feature=["c"])
    with pytest.raises(InputError) as err:
        siting_criterion(feats, xr.ones_like(c), [700_050.0, 700_150.0], [6_600_050.0])
    msg = _one_line(err)
    assert "x has 2" in msg and "y 1" in msg


def test_choose_sites_from_output_refuses_a_half_year():
    with pytest.raises(InputError) as err:
        choose_sites_from_output(_output(), 2023.5, 2, population=xr.ones_like(_field()))  # type: ignore[arg-type]
    msg = _one_line(err)
    assert "2023.5" in msg and "whole year" in msg


def test_choose_sites_from_output_refuses_negative_n_sources():
    with pytest.raises(InputError) as err:
        choose_sites_from_output(_output(), 2023, 2, n_sources=-1)
    msg = _one_line(err)
    assert "n_sources=-1" in msg


def test_choose_sites_from_output_population_as_numpy():
    with pytest.raises(InputError) as err:
        choose_sites_from_output(_output(), 2023, 2, population=np.ones((8, 8)))  # type: ignore[arg-type]
    msg = _one_line(err)
    assert "population" in msg and "xarray.DataArray" in msg


def test_choose_sites_from_output_of_a_dataset_cut_to_one_year():
    """Was: TypeError iteration over a 0-d array."""
    pop = xr.ones_like(_field())
    full = choose_sites_from_output(_output(), 2023, 2, population=pop)
    cut = choose_sites_from_output(_output().sel(year=2023), 2023, 2, population=pop)
    pd.testing.assert_frame_equal(full.new_sites, cut.new_sites)
    with pytest.raises(InputError) as err:
        choose_sites_from_output(_output().sel(year=2023), 2022, 2, population=pop)
    assert "year 2022 is not in the file" in _one_line(err)


# ------------------------------------------------------------------------------ ERA5
def _era5(tmp_path: Path, wind_units: str, speed: float) -> Path:
    hours = pd.date_range("2021-01-01", periods=48, freq="h")
    dims = ("valid_time", "latitude", "longitude")

    def field(value: float) -> np.ndarray:
        return np.full((48, 2, 2), value)

    data = {
        "u10": (dims, field(-0.6 * speed), {"units": wind_units}),
        "v10": (dims, field(-0.8 * speed), {"units": wind_units}),
        "t2m": (dims, field(280.0), {"units": "K"}),
        "tcc": (dims, field(0.5), {"units": "(0 - 1)"}),
    }
    coords = {"valid_time": hours, "latitude": [50.75, 50.5], "longitude": [3.0, 3.25]}
    path = tmp_path / "era5.nc"
    xr.Dataset(data, coords=coords).to_netcdf(path)
    return path


@pytest.mark.parametrize(
    ("units", "speed", "expected"),
    [("m s**-1", 5.0, 5.0), ("km h-1", 18.0, 5.0), ("knots", 10.0, 5.14444)],
)
def test_era5_wind_units_are_honoured(tmp_path, units, speed, expected):
    met = read_era5(_era5(tmp_path, units, speed), latitude=50.6, longitude=3.1)
    assert float(met["wind_speed"][0]) == pytest.approx(expected, rel=1e-9)


def test_era5_unknown_wind_units_are_refused(tmp_path):
    with pytest.raises(UnitsError) as err:
        read_era5(_era5(tmp_path, "furlongs per fortnight", 5.0), latitude=50.6, longitude=3.1)
    msg = _one_line(err)
    assert "'u10'" in msg and "furlongs per fortnight" in msg and "m s-1" in msg
