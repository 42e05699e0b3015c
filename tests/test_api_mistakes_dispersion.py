"""Ordinary user mistakes in the Python API of the dispersion modules: one line each.

Each mistake here used to give a silent wrong result or a deep traceback (probe 4,
section 4); the valid neighbours of each call still work.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from test_stack_keywords import synthetic_met
from trajectoire import dispersion as disp
from trajectoire import meteo as tm
from trajectoire.dispersion import DispersionSettings, dry_deposition, remove_local_part
from trajectoire.dispersion.background import read_background
from trajectoire.errors import InputError, UnitsError
from trajectoire.grid import Grid


def one_line(exc: pytest.ExceptionInfo[BaseException], *words: str) -> None:
    text = str(exc.value)
    assert "\n" not in text, text
    for word in words:
        assert word in text, (word, text)


# ------------------------------------------------------------------ DispersionSettings
@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"deposition_velocity": {"NOx": -0.001}}, ("deposition_velocity", "-0.001", ">= 0")),
        ({"deposition_velocity": {"NOx": float("nan")}}, ("deposition_velocity", "nan")),
        ({"deposition_velocity": {"NOX2": 0.001}}, ("'NOX2'", "did you mean 'NO2'")),
        ({"decay_rate": {"NOx": -1.0}}, ("decay_rate", "-1.0", ">= 0")),
        ({"radius": -1.0}, ("radius=-1.0", "> 0")),
        ({"sigma": "foo"}, ("sigma='foo'", "briggs-urban")),
        ({"precision": "half"}, ("precision='half'", "'single'")),
    ],
)
def test_bad_dispersion_settings_are_one_line(kwargs, words):
    with pytest.raises(InputError) as exc:
        DispersionSettings(**kwargs)
    one_line(exc, "DispersionSettings", *words)


def test_a_lower_case_pollutant_key_is_normalised():
    s = DispersionSettings(deposition_velocity={"nox": 0.001}, decay_rate={"pm2_5": 1e-6})
    assert s.deposition_velocity == {"NOx": 0.001}
    assert s.removal("NOx") == (0.0, 0.001)
    assert s.removal("PM2.5") == (1e-6, 0.0)


def test_canonical_settings_are_kept_as_given():
    table = {"NH3": 0.01, "SO2": 0.008}
    s = DispersionSettings(deposition_velocity=table, sigma="pgt", precision="single")
    assert s.deposition_velocity is table


# ------------------------------------------------------------------------ dry_deposition
CONC = xr.DataArray(
    np.ones((2, 3, 3)),
    dims=("pollutant", "y", "x"),
    coords={"pollutant": ["NOx", "PM10"]},
    attrs={"units": "ug m-3"},
)
SETTINGS = DispersionSettings(deposition_velocity={"NOx": 0.001})


def test_dry_deposition_converts_the_units_attribute():
    ug = dry_deposition(CONC, SETTINGS)
    mg = dry_deposition(CONC.assign_attrs(units="mg m-3"), SETTINGS)
    bare = dry_deposition(CONC.copy().assign_attrs({}), SETTINGS)  # no units: ug m-3
    bare.attrs.clear()
    np.testing.assert_allclose(mg.values, 1000.0 * ug.values, rtol=1e-15)
    assert np.array_equal(bare.values, ug.values)
    assert mg.attrs["units"] == "ug m-2 yr-1"


def test_dry_deposition_refuses_a_unit_that_is_not_a_mass_concentration():
    with pytest.raises(UnitsError) as exc:
        dry_deposition(CONC.assign_attrs(units="t yr-1"), SETTINGS)
    one_line(exc, "dry_deposition", "'t yr-1'")


def test_dry_deposition_with_a_dict_or_an_array_is_one_line():
    with pytest.raises(InputError) as exc:
        dry_deposition(CONC, {"NOx": 0.001})  # type: ignore[arg-type]
    one_line(exc, "settings is a dict", "DispersionSettings(")
    with pytest.raises(InputError) as exc:
        dry_deposition(CONC.values, SETTINGS)  # type: ignore[arg-type]
    one_line(exc, "concentration is a ndarray", "DataArray")


# ---------------------------------------------------------------------- remove_local_part
FINE = Grid.from_bounds(700_000, 7_000_000, 704_000, 7_004_000, 100)
COARSE = Grid.from_bounds(700_000, 7_000_000, 704_000, 7_004_000, 2000)


def _pair(local_units: str = "ug m-3", regional_units: str = "ug m-3"):
    local = FINE.to_dataarray(np.full(FINE.shape, 5.0), attrs={"units": local_units})
    reg = COARSE.to_dataarray(np.full(COARSE.shape, 20.0), attrs={"units": regional_units})
    return reg, local


def test_remove_local_part_converts_the_local_units():
    reg, local = _pair()
    np.testing.assert_allclose(remove_local_part(reg, local).values, 15.0, rtol=1e-14)
    reg, local = _pair(local_units="mg m-3")
    local = local / 1000.0
    local.attrs["units"] = "mg m-3"
    np.testing.assert_allclose(remove_local_part(reg, local).values, 15.0, rtol=1e-12)


def test_remove_local_part_refuses_a_regional_field_in_ppb():
    reg, local = _pair(regional_units="ppb")
    with pytest.raises(UnitsError) as exc:
        remove_local_part(reg, local)
    one_line(exc, "regional", "'ppb'")


def test_remove_local_part_refuses_other_years():
    reg, local = _pair()
    with pytest.raises(InputError) as exc:
        remove_local_part(reg.expand_dims(year=[2022]), local.expand_dims(year=[2023]))
    one_line(exc, "year", "2022", "2023")
    same = remove_local_part(reg.expand_dims(year=[2022]), local.expand_dims(year=[2022]))
    np.testing.assert_allclose(same.values, 15.0, rtol=1e-14)


# ------------------------------------------------------------------------ read_background
def test_read_background_refuses_a_pollutant_missing_for_a_year(tmp_path):
    path = tmp_path / "bg.csv"
    path.write_text("year,pollutant,value\n2022,NO2,10\n2023,NO2,11\n2023,PM10,15\n")
    with pytest.raises(InputError) as exc:
        read_background(path)
    one_line(exc, "bg.csv", "(2022, 'PM10')")
    path.write_text("year,pollutant,value\n2022,NO2,10\n2023,NO2,11\n")
    assert read_background(path).shape == (2, 1)


def test_read_background_of_a_dataframe_is_one_line():
    df = pd.DataFrame({"year": [2022], "pollutant": ["NO2"], "value": [10.0]})
    with pytest.raises(InputError) as exc:
        read_background(df)  # type: ignore[arg-type]
    one_line(exc, "DataFrame", "to_csv")


# -------------------------------------------------------------------------- fft_convolve
def test_fft_convolve_refuses_nan_cells():
    field = np.where(np.eye(10) > 0, np.nan, 1.0)
    with pytest.raises(InputError) as exc:
        disp.fft_convolve(field, np.ones((3, 3)))
    one_line(exc, "field", "10 NaN", "(0, 0)")
    with pytest.raises(InputError) as exc:
        disp.fft_convolve(np.ones((10, 10)), np.full((3, 3), np.inf))
    one_line(exc, "kernel", "9 NaN")
    assert float(disp.fft_convolve(np.ones((10, 10)), np.ones((3, 3))).sum()) == pytest.approx(784)


# ------------------------------------------------------------ stacks and annual kernels
X0, Y0 = 700_000.0, 7_060_000.0
GRID = Grid.from_bounds(X0, Y0, X0 + 2000.0, Y0 + 2000.0, 200.0)
STACK = {
    "x": [X0 + 1000.0],
    "y": [Y0 + 1000.0],
    "stack_height": [30.0],
    "stack_diameter": [1.0],
    "exit_temperature": [400.0],
    "exit_velocity": [10.0],
}


@pytest.fixture(scope="module")
def table() -> xr.Dataset:
    return tm.met_classes(synthetic_met(seed=4, n=300)).isel(year=0)


def _psa(table, radius=1000.0, **more):
    return disp.point_sources_annual(table, weights=[10.0], grid=GRID, radius=radius,
                                     **{**STACK, **more})  # fmt: skip


def test_point_sources_annual_still_works(table):
    assert _psa(table).max() > 0


@pytest.mark.parametrize(
    ("more", "words"),
    [
        ({"exit_temperature": [127.0]}, ("exit_temperature", "127.0", "add 273.15")),
        ({"ambient_temperature": 10.0}, ("ambient_temperature", "10.0", "add 273.15")),
        ({"x": [900_000.0]}, ("no stack", "900000.0", "CRS")),
        ({"x": [3.1], "y": [50.6]}, ("no stack", "3.1", "lon/lat")),
        ({"radius": 50.0}, ("radius=50.0", "cell size")),
    ],
)
def test_point_sources_annual_mistakes_are_one_line(table, more, words):
    with pytest.raises(InputError) as exc:
        _psa(table, **more)
    one_line(exc, *words)


def test_stack_footprints_negative_node_spacing_is_one_line(table):
    with pytest.raises(InputError) as exc:
        disp.stack_footprints(table, grid=GRID, radius=1000.0, node_spacing=-5.0, **STACK)
    one_line(exc, "node_spacing=-5.0", "> 0")
    assert len(disp.stack_footprints(table, grid=GRID, radius=1000.0, **STACK)) == 1


def test_annual_kernel_with_two_cell_sizes_is_one_line(table):
    with pytest.raises(InputError) as exc:
        disp.annual_kernel(table, resolution=(100.0, 200.0), radius=500.0)  # type: ignore[arg-type]
    one_line(exc, "resolution=(100.0, 200.0)", "square")
    assert disp.annual_kernel(table, resolution=100.0, radius=500.0).shape == (11, 11)
