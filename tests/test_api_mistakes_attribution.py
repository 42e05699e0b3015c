"""Ordinary user mistakes in the attribution helpers and the hourly mode: one-line errors
that name the argument, the value and the fix; valid input unchanged."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from trajectoire.attribution import (
    Origins,
    background_of_year,
    decompose_change,
    footprint,
    origin_layers,
    shapley_values,
    source_receptor_matrix,
    territory_background,
)
from trajectoire.dispersion import hourly_at_receptors
from trajectoire.errors import InputError, MissingVariableError, UnitsError


def _one_line(err: pytest.ExceptionInfo[BaseException], *words: str) -> None:
    text = str(err.value)
    assert "\n" not in text, text
    for w in words:
        assert w in text, (w, text)


# ------------------------------------------------------------------ Shapley split
def _c(e: int, m: int, b: int) -> np.ndarray:
    return np.array([10.0, 20.0]) * (1 + e) + 2.0 * m + b


def test_decompose_change_valid_adds_up() -> None:
    eff = decompose_change(_c)
    assert set(eff) == {"emission", "meteorology", "background", "total"}
    np.testing.assert_allclose(
        eff["emission"] + eff["meteorology"] + eff["background"], eff["total"]
    )


def test_decompose_change_repeated_factor() -> None:
    with pytest.raises(InputError) as err:
        decompose_change(_c, factors=("e", "e", "b"))
    _one_line(err, "factors", "'e'", "distinct")


def test_decompose_change_factors_as_one_string() -> None:
    with pytest.raises(InputError) as err:
        decompose_change(_c, factors="emb")
    _one_line(err, "factors='emb'", "three names")


def test_decompose_change_shapes_differ() -> None:
    with pytest.raises(InputError) as err:
        decompose_change(lambda e, m, b: np.ones(3) if e else np.ones(2))
    _one_line(err, "concentration(1, 0, 0)", "(3,)", "(2,)", "shape")


def test_decompose_change_not_numbers_or_not_callable() -> None:
    with pytest.raises(InputError) as err:
        decompose_change(lambda e, m, b: "x")
    _one_line(err, "returned 'x'", "numbers")
    with pytest.raises(InputError) as err:
        decompose_change(np.ones(3))  # type: ignore[arg-type]
    _one_line(err, "not callable", "concentration(e, m, b)")


def test_shapley_values_duplicate_players() -> None:
    with pytest.raises(InputError) as err:
        shapley_values(["a", "a"], len)
    _one_line(err, "players", "'a'", "distinct")


def test_shapley_values_bare_string() -> None:
    with pytest.raises(InputError) as err:
        shapley_values("emission", len)
    _one_line(err, "players='emission'", "list of names")


def test_shapley_values_valid() -> None:
    phi = shapley_values(
        ["a", "b"], lambda s: (2.0 if "a" in s else 1.0) * (3.0 if "b" in s else 1.0)
    )
    assert float(phi["a"] + phi["b"]) == 5.0


# ------------------------------------------------------------------ source-receptor matrix
def _contribution() -> xr.DataArray:
    return xr.DataArray(
        np.ones((2, 3, 3)),
        dims=("sector", "receptor", "origin"),
        coords={"sector": ["a", "b"], "receptor": list("xyz"), "origin": list("xyz")},
    )


def test_source_receptor_matrix_valid() -> None:
    out = source_receptor_matrix(_contribution())
    assert out.dims == ("receptor", "origin") and float(out.sum()) == 18.0


def test_source_receptor_matrix_on_dataset() -> None:
    ds = xr.Dataset({"territory_contribution": _contribution(), "other": _contribution()})
    with pytest.raises(InputError) as err:
        source_receptor_matrix(ds)  # type: ignore[arg-type]
    _one_line(err, "Dataset", "ds['territory_contribution']")


def test_source_receptor_matrix_on_numpy() -> None:
    with pytest.raises(InputError) as err:
        source_receptor_matrix(np.ones((3, 3)))  # type: ignore[arg-type]
    _one_line(err, "ndarray", "DataArray")


# ------------------------------------------------------------------ background of a year
def _bg() -> xr.DataArray:
    return xr.DataArray(
        [[4.0, 2.0], [3.0, 1.5]],
        dims=("year", "pollutant"),
        coords={"year": [2019, 2020], "pollutant": ["NOx", "PM10"]},
    )


#: receptors, unused with a scalar background
_RECEPTORS: list[Any] = [None]


def _no_local() -> np.ndarray:
    """The local part, unused without a regional field."""
    return np.zeros(0)


def test_background_of_year_valid_and_lenient_spellings() -> None:
    assert background_of_year(_bg(), None, 2019, "NOx", _no_local) == {"NOx": 4.0}
    year: Any = "2020"  # a year read from text
    assert background_of_year(_bg(), None, year, "nox", _no_local) == {"NOx": 3.0}
    got = territory_background(_bg(), None, 2019, "nox", _RECEPTORS * 2, _no_local)
    assert got.tolist() == [4.0, 4.0]


def test_background_of_year_missing_year() -> None:
    with pytest.raises(MissingVariableError) as err:
        background_of_year(_bg(), None, 2021, "NOx", _no_local)
    _one_line(err, "year 2021", "2019, 2020")
    with pytest.raises(MissingVariableError) as err:
        territory_background(_bg(), None, 2022, "NOx", _RECEPTORS, _no_local)
    _one_line(err, "year 2022")


def test_background_of_year_missing_pollutant() -> None:
    with pytest.raises(MissingVariableError) as err:
        background_of_year(_bg(), None, 2019, "PM2.5", _no_local)
    _one_line(err, "'PM2.5'", "'NOx'", "'PM10'")
    with pytest.raises(MissingVariableError) as err:
        background_of_year(_bg(), None, 2019, "NOx", _no_local, with_no2=True)
    _one_line(err, "'NO2'", "with_no2")


def test_background_of_year_one_year_selection() -> None:
    with pytest.raises(InputError) as err:
        background_of_year(_bg().sel(year=2019), None, 2019, "NOx", _no_local)
    _one_line(err, "(year, pollutant)", "dims")


def test_territory_background_receptors_not_a_sequence() -> None:
    with pytest.raises(InputError) as err:
        territory_background(_bg(), None, 2019, "NOx", 2, _no_local)  # type: ignore[arg-type]
    _one_line(err, "receptors=2", "sequence of Receptor")


# ------------------------------------------------------------------ footprint
def test_footprint_valid() -> None:
    row: Any = np.int64(2)  # a numpy integer is a cell index too
    out = footprint(np.ones((3, 3)), np.ones((5, 5)), row, 1)
    assert out.shape == (5, 5) and float(out.sum()) == 9.0


def test_footprint_float_row() -> None:
    with pytest.raises(InputError) as err:
        footprint(np.ones((3, 3)), np.ones((5, 5)), 5.5, 1)  # type: ignore[arg-type]
    _one_line(err, "row=5.5", "integer")


def test_footprint_1d_emission() -> None:
    with pytest.raises(InputError) as err:
        footprint(np.ones((3, 3)), np.ones(5), 1, 1)
    _one_line(err, "emission", "(5,)", "ny, nx")


# ------------------------------------------------------------------ origin layers
def test_origin_layers_valid() -> None:
    f = np.stack([np.full((3, 4), 0.25), np.full((3, 4), 0.75)])
    idx, fr = origin_layers(f)
    assert idx.shape == (2, 3, 4) and np.allclose(fr.sum(0), 1.0)
    assert Origins.from_fractions(f).count == 2


@pytest.mark.parametrize("value", [np.nan, -0.5, 1.5])
def test_origin_layers_bad_share(value: float) -> None:
    f = np.stack([np.full((3, 4), 0.5), np.full((3, 4), 0.5)])
    f[0, 1, 2] = value
    with pytest.raises(InputError) as err:
        origin_layers(f)
    _one_line(err, "fractions[0, 1, 2]", "[0, 1]")


def test_origins_shares_do_not_sum_to_one() -> None:
    with pytest.raises(InputError) as err:
        Origins.from_fractions(np.full((2, 3, 3), 0.9))
    _one_line(err, "sum to 1.8", "sum to 1")


# ------------------------------------------------------------------ hourly mode
_STACK: dict[str, Any] = dict(
    x=[701000.0],
    y=[7061000.0],
    stack_height=[30.0],
    stack_diameter=[1.0],
    exit_temperature=[400.0],
    exit_velocity=[10.0],
)
_AT: dict[str, Any] = dict(emission=[10.0], receptors_x=[701200.0], receptors_y=[7061000.0])


def _met(n: int = 48) -> xr.Dataset:
    rng = np.random.default_rng(3)
    t = pd.date_range("2022-01-01", periods=n, freq="h")
    return xr.Dataset(
        {
            "wind_speed": ("time", 2.0 + 3.0 * rng.random(n), {"units": "m s-1"}),
            "wind_direction": ("time", 200.0 + 100.0 * rng.random(n), {"units": "degree"}),
            "temperature": ("time", 275.0 + 5.0 * rng.random(n), {"units": "K"}),
            "stability": ("time", np.array(["D"] * n)),
        },
        coords={"time": t},
    )


def test_hourly_valid() -> None:
    r = hourly_at_receptors(_met(), **_AT, **_STACK)
    assert r.shape == (48, 1) and float(r.max()) > 0


@pytest.mark.parametrize("bad", ["G", "DE", "7"])
def test_hourly_unknown_stability_class_is_refused(bad: str) -> None:
    """An hour of class 'G' was left out without a word (its concentration NaN, one more
    missing hour), where met_classes and gaussian_plume refuse the same class."""
    met = _met()
    stab = met["stability"].values.astype(object)
    stab[7] = bad
    with pytest.raises(InputError) as err:
        hourly_at_receptors(met.assign(stability=("time", stab.astype(str))), **_AT, **_STACK)
    _one_line(err, "stability", repr(bad.upper()))


def test_hourly_stability_letters_as_met_classes_reads_them() -> None:
    """'d' and ' D' are class D (they were hours left out); NaN or '' a missing hour."""
    met = _met()
    base = hourly_at_receptors(met, **_AT, **_STACK)
    stab = met["stability"].values.astype(object)
    stab[3], stab[4], stab[5], stab[6] = "d", " D ", np.nan, ""
    r = hourly_at_receptors(met.assign(stability=("time", stab)), **_AT, **_STACK)
    np.testing.assert_array_equal(r.values[[3, 4]], base.values[[3, 4]])
    assert np.isnan(r.values[[5, 6]]).all() and r.attrs["missing_hours"] == 2


def test_hourly_counts_hours_absent_from_the_time_axis() -> None:
    """A met Dataset with a gap in its time axis gave missing_hours = 0: the hours not
    there were not counted anywhere (the CSV reader fills and counts them)."""
    met = _met()
    assert hourly_at_receptors(met, **_AT, **_STACK).attrs["absent_hours"] == 0
    gappy = met.drop_isel(time=[10, 11, 12, 30])
    r = hourly_at_receptors(gappy, **_AT, **_STACK)
    assert r.attrs["absent_hours"] == 4 and r.attrs["missing_hours"] == 0
    assert r.sizes["time"] == 44


def test_hourly_temperature_in_celsius() -> None:
    met = _met()
    with pytest.raises(UnitsError) as err:
        hourly_at_receptors(met.assign(temperature=met.temperature - 273.15), **_AT, **_STACK)
    _one_line(err, "temperature", "273.15")
    celsius = (met.temperature - 273.15).assign_attrs(units="degC")
    with pytest.raises(UnitsError) as err:
        hourly_at_receptors(met.assign(temperature=celsius), **_AT, **_STACK)
    _one_line(err, "'degC'", "273.15")


def test_hourly_wind_in_kmh_units() -> None:
    met = _met()
    kmh = (met.wind_speed * 3.6).assign_attrs(units="km/h")
    with pytest.raises(UnitsError) as err:
        hourly_at_receptors(met.assign(wind_speed=kmh), **_AT, **_STACK)
    _one_line(err, "wind_speed", "'km/h'", "m s-1")


def test_hourly_direction_in_radians() -> None:
    met = _met()
    rad = np.deg2rad(met.wind_direction)
    with pytest.raises(UnitsError) as err:
        hourly_at_receptors(met.assign(wind_direction=rad), **_AT, **_STACK)
    _one_line(err, "wind_direction", "radians", "180/pi")
    with pytest.raises(UnitsError) as err:
        hourly_at_receptors(
            met.assign(wind_direction=rad.assign_attrs(units="rad")), **_AT, **_STACK
        )
    _one_line(err, "'rad'", "180/pi")


def test_hourly_few_small_directions_are_degrees() -> None:
    """A few hours of a northerly wind (0-6 degrees) are not taken for radians."""
    met = _met(12)
    met["wind_direction"][:] = np.linspace(1.0, 6.0, 12)
    r = hourly_at_receptors(met, **_AT, **_STACK)
    assert r.shape == (12, 1)


def test_hourly_stack_in_lonlat() -> None:
    with pytest.raises(InputError) as err:
        hourly_at_receptors(_met(), **_AT, **{**_STACK, "x": [3.1], "y": [50.6]})
    _one_line(err, "stack 0", "x=3.1", "km from the receptors", "lon/lat")
