"""Ordinary mistakes made through the Python API of the numeric helpers (units, stability
classes, the Gaussian plume), found by probing them (probe2): each used to pass silently
with a wrong result or to end on a bare numpy/pandas error. Each test fails on the code
before its fix; the valid cases beside them must keep their results.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from trajectoire import units
from trajectoire.dispersion import gaussian_plume
from trajectoire.dispersion.plume import dispersion_coefficients, effective_height, line_source
from trajectoire.errors import InputError, UnitsError
from trajectoire.meteo import stability_class, turner_class

LILLE = (50.57, 3.10)


# ------------------------------------------------------------------ units
def test_mixing_ratio_factor_valid_conditions_unchanged() -> None:
    assert units.mixing_ratio_factor("ppb", 46.0055) == pytest.approx(1.9125, abs=1e-4)
    explicit = units.mixing_ratio_factor("ppb", 46.0, temperature=273.15, pressure=101_325.0)
    assert explicit == pytest.approx(46.0 * 101_325.0 / (8.314462618 * 273.15) * 1e-3)
    warm = units.mixing_ratio_factor("ppm", 28.0, temperature=np.array([280.0, 300.0]))
    assert np.shape(warm) == (2,)


def test_mixing_ratio_factor_celsius_temperature_is_an_error() -> None:
    with pytest.raises(UnitsError) as err:
        units.mixing_ratio_factor("ppb", 46.0, temperature=20.0)
    text = str(err.value)
    assert "temperature=20.0" in text and "kelvin" in text and "add 273.15" in text
    assert "\n" not in text


@pytest.mark.parametrize("temperature", [0.0, -5.0, 1000.0, np.nan, np.array([293.0, 25.0])])
def test_mixing_ratio_factor_implausible_temperature(temperature: object) -> None:
    with pytest.raises(UnitsError, match=r"temperature=.*expected 150 to 350 K"):
        units.mixing_ratio_factor("ppb", 46.0, temperature=temperature)  # type: ignore[arg-type]


def test_mixing_ratio_factor_hpa_pressure_is_an_error() -> None:
    with pytest.raises(UnitsError) as err:
        units.mixing_ratio_factor("ppb", 46.0, pressure=1013.25)
    text = str(err.value)
    assert "pressure=1013.25" in text and "pascals" in text and "hPa" in text
    assert "multiply by 100" in text
    with pytest.raises(UnitsError, match=r"kPa: multiply by 1000"):
        units.mixing_ratio_factor("ppb", 46.0, pressure=101.325)
    with pytest.raises(UnitsError, match=r"pressure=1000000.0 .*give the air pressure in pascals"):
        units.mixing_ratio_factor("ppb", 46.0, pressure=1e6)


def test_mixing_ratio_factor_text_temperature_names_it() -> None:
    with pytest.raises(InputError, match=r"temperature: 'warm' \(str\) is not a number"):
        units.mixing_ratio_factor("ppb", 46.0, temperature="warm")  # type: ignore[arg-type]


def test_convert_kind_typo_lists_the_kinds() -> None:
    with pytest.raises(InputError) as err:
        units.convert([1.0], "mg m-3", "ug m-3", "concentraton")
    text = str(err.value)
    assert "kind='concentraton'" in text and "did you mean 'concentration'?" in text
    assert "emission_rate" in text and not isinstance(err.value, KeyError)
    with pytest.raises(InputError, match=r"kind=\['x'\]: not a kind of quantity"):
        units.convert([1.0], "mg m-3", "ug m-3", ["x"])  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"kind='mass'"):
        units.normalise_units("kg/yr", "mass")


def test_convert_text_values_names_the_argument() -> None:
    with pytest.raises(InputError, match=r"convert: values: 'abc' \(str\) is not a number"):
        units.convert("abc", "mg m-3", "ug m-3", "concentration")
    with pytest.raises(InputError, match=r"values of no2: 'b' \(str\) at position 1"):
        units.convert([1.0, "b"], "mg m-3", "ug m-3", "concentration", what="no2")


def test_convert_valid_unchanged() -> None:
    assert units.convert([1.0, 2.0], "mg m-3", "ug m-3", "concentration").tolist() == [
        1000.0,
        2000.0,
    ]
    assert units.convert(["1", "2"], "g/s", "g s-1", "emission_rate").tolist() == [1.0, 2.0]


# ------------------------------------------------------------------ turner_class
def _day(tz: str | None = None) -> pd.DatetimeIndex:
    return pd.date_range("2024-03-21", periods=24, freq="h", tz=tz)


def test_turner_class_timezone_aware_times_are_converted_to_utc() -> None:
    utc_naive = _day().to_numpy()
    expected = turner_class(np.full(24, 2.0), np.zeros(24), utc_naive, *LILLE)
    paris = _day("UTC").tz_convert("Europe/Paris")  # the same instants, local clock
    got = turner_class(np.full(24, 2.0), np.zeros(24), paris, *LILLE)
    assert got.tolist() == expected.tolist()
    series = pd.Series(_day("UTC"))
    assert turner_class(np.full(24, 2.0), np.zeros(24), series, *LILLE).tolist() == (
        expected.tolist()
    )
    # Paris wall-clock times read as UTC would shift sunrise and sunset by an hour
    wall = _day("Europe/Paris").tz_localize(None).to_numpy()
    assert turner_class(np.full(24, 2.0), np.zeros(24), wall, *LILLE).tolist() != (
        turner_class(np.full(24, 2.0), np.zeros(24), _day("Europe/Paris"), *LILLE).tolist()
    )


def test_turner_class_iso_strings_and_naive_times_stay_utc() -> None:
    t = np.array(["2024-06-21T12:00", "2024-06-21T00:00"], dtype="datetime64[m]")
    assert turner_class([2.0, 2.0], [0, 0], t, *LILLE).tolist() == ["A", "F"]
    text = ["2024-06-21T12:00", "2024-06-21T00:00"]
    assert turner_class([2.0, 2.0], [0, 0], text, *LILLE).tolist() == ["A", "F"]
    assert turner_class([2.0], [0], ["2024-06-21T02:00+02:00"], *LILLE).tolist() == ["F"]
    assert turner_class([], [], [], *LILLE).tolist() == []


@pytest.mark.parametrize("times", [[1.5e9], np.array([1_718_971_200]), pd.Series([1.7e9]), [True]])
def test_turner_class_numeric_times_are_an_error(times: object) -> None:
    with pytest.raises(InputError) as err:
        turner_class([2.0], [0], times, *LILLE)
    text = str(err.value)
    assert text.startswith("time: got numbers") and "datetime" in text
    assert "unit='s'" in text


def test_turner_class_unparseable_time_names_it() -> None:
    with pytest.raises(InputError) as err:
        turner_class([2.0, 2.0], [0, 0], ["2024-06-21T12:00", "yesterday"], *LILLE)
    text = str(err.value)
    assert text.startswith("time: 'yesterday' at position 1 is not a date")
    assert "ISO 8601" in text and "\n" not in text


def test_turner_class_shape_mismatch_names_the_arguments() -> None:
    t = np.array(["2024-06-21T12:00", "2024-06-21T00:00"], dtype="datetime64[m]")
    with pytest.raises(InputError) as err:
        turner_class([2.0, 2.0, 2.0], [0, 0, 0], t, *LILLE)
    text = str(err.value)
    assert "wind_speed (3,)" in text and "time (2,)" in text
    with pytest.raises(InputError, match=r"ceiling_height \(3,\)"):
        turner_class([2.0, 2.0], [8, 8], t, *LILLE, ceiling_height=[100.0, 200.0, 300.0])


@pytest.mark.parametrize(
    ("latitude", "longitude", "pattern"),
    [
        (np.nan, 3.1, r"latitude=nan: expected degrees north in \[-90, 90\]"),
        (95.0, 3.1, r"latitude=95.0: expected degrees north in \[-90, 90\]"),
        (50.6, 400.0, r"longitude=400.0: expected degrees east in \[-180, 360\]"),
        (50.6, np.inf, r"longitude=inf"),
        ("north", 3.1, r"latitude: 'north' \(str\) is not a number"),
    ],
)
def test_turner_class_position_out_of_range(
    latitude: object, longitude: object, pattern: str
) -> None:
    t = np.array(["2024-06-21T12:00"], dtype="datetime64[m]")
    with pytest.raises(InputError, match=pattern):
        turner_class([2.0], [0], t, latitude, longitude)  # type: ignore[arg-type]


def test_turner_class_negative_ceiling_is_an_error() -> None:
    t = np.array(["2024-06-21T12:00", "2024-06-21T13:00"], dtype="datetime64[m]")
    with pytest.raises(InputError) as err:
        turner_class([2.5, 2.5], [8, 8], t, *LILLE, ceiling_height=[600.0, -100.0])
    text = str(err.value)
    assert text.startswith("ceiling_height: 1 negative value(s) (e.g. -100.0)")
    assert "NaN where unknown" in text
    # valid ceilings (0 and NaN included) keep their classes
    got = turner_class([2.5, 2.5], [8, 8], t, *LILLE, ceiling_height=[0.0, np.nan])
    assert got.tolist() == ["D", "D"]


def test_turner_class_text_wind_names_it_and_nat_time_is_missing() -> None:
    t = np.array(["2024-06-21T12:00"], dtype="datetime64[m]")
    with pytest.raises(InputError, match=r"wind_speed: 'calm' \(str\) at position 0"):
        turner_class(["calm"], [0], t, *LILLE)
    nat = np.array(["2024-06-21T12:00", "NaT"], dtype="datetime64[m]")
    assert turner_class([2.0, 2.0], [0, 0], nat, *LILLE).tolist() == ["A", ""]


def test_stability_class_text_names_the_argument() -> None:
    with pytest.raises(InputError, match=r"^obukhov_length: 'abc' \(str\) is not a number"):
        stability_class("abc", 0.1)
    with pytest.raises(InputError, match=r"^roughness_length: 'x' \(str\) is not a number"):
        stability_class(10, "x")
    with pytest.raises(InputError, match=r"^obukhov_length: 'b' \(str\) at position 1"):
        stability_class(np.array(["-5", "b"]), 0.1)
    assert stability_class([-5.0, np.inf, 10.0], 0.1).tolist() == ["A", "D", "F"]


# ------------------------------------------------------------------ gaussian_plume
BASE: dict[str, Any] = {"u": 3.0, "stability": "D", "h": 10.0}


def test_gaussian_plume_valid_results_unchanged() -> None:
    c = gaussian_plume(1.0, 1000.0, 0.0, 0.0, u=3.0, stability="D", h=0.0)
    assert round(float(c) * 1e6, 3) == 36.657
    assert type(c) is np.ndarray
    arr = gaussian_plume(1.0, [100.0, 200.0], 0.0, 0.0, **BASE)
    assert type(arr) is np.ndarray and arr.shape == (2,)


def test_gaussian_plume_masked_in_masked_out() -> None:
    plain = gaussian_plume(1.0, np.array([100.0, 200.0, 300.0]), 0.0, 0.0, **BASE)
    x = np.ma.masked_array([100.0, 1e20, 300.0], mask=[False, True, False])
    got = gaussian_plume(1.0, x, 0.0, 0.0, **BASE)
    assert isinstance(got, np.ma.MaskedArray)
    assert got.mask.tolist() == [False, True, False]
    assert got.compressed().tolist() == plain[[0, 2]].tolist()
    # NaN under the mask (netCDF4 with set_auto_mask) is not checked
    nan_x = np.ma.masked_invalid([100.0, np.nan, 300.0])
    assert gaussian_plume(1.0, nan_x, 0.0, 0.0, **BASE).mask.tolist() == [False, True, False]
    # a masked wind of 0 or a masked lid of -9999 is not refused; the mask broadcasts
    u = np.ma.masked_array([3.0, 0.0], mask=[False, True])
    got_u = gaussian_plume(1.0, [[100.0], [200.0]], 0.0, 0.0, u=u, stability="D", h=10.0)
    assert got_u.shape == (2, 2) and got_u.mask.tolist() == [[False, True], [False, True]]
    lid = np.ma.masked_array([500.0, -9999.0], mask=[False, True])
    got_lid = gaussian_plume(1.0, [100.0, 200.0], 0.0, 0.0, **BASE, mixing_height=lid)
    assert got_lid.mask.tolist() == [False, True]
    # a masked array without masked values: same values, masked type
    whole = gaussian_plume(1.0, np.ma.masked_array([100.0, 200.0, 300.0]), 0.0, 0.0, **BASE)
    assert not whole.mask.any() and whole.data.tolist() == plain.tolist()
    # unmasked NaN inside a masked array is still an error
    with pytest.raises(InputError, match=r"x: 1 NaN"):
        gaussian_plume(1.0, np.ma.masked_array([100.0, np.nan]), 0.0, 0.0, **BASE)


def test_the_other_plume_functions_masked_in_masked_out() -> None:
    """dispersion_coefficients, effective_height and line_source computed a masked array's
    fill values (1e20 m downwind, -9999 K) as data: a masked value was either refused as if
    it were one or returned as a number; now, as gaussian_plume, masked in, masked out."""
    x = np.ma.masked_array([100.0, 1e20, 3000.0], mask=[False, True, False])
    plain_sy, plain_sz = dispersion_coefficients(np.array([100.0, 3000.0]), "D")
    sy, sz = dispersion_coefficients(x, "D")
    assert isinstance(sy, np.ma.MaskedArray) and isinstance(sz, np.ma.MaskedArray)
    assert sy.mask.tolist() == sz.mask.tolist() == [False, True, False]
    assert sy.compressed().tolist() == plain_sy.tolist()
    assert sz.compressed().tolist() == plain_sz.tolist()
    letters = np.ma.masked_array(["D", "?", "F"], mask=[False, True, False])
    assert dispersion_coefficients(1000.0, letters)[0].mask.tolist() == [False, True, False]

    plain_h = effective_height(50.0, 2.0, 15.0, [400.0, 420.0], 283.0, 5.0, "D")
    t_exit = np.ma.masked_array([400.0, -9999.0, 420.0], mask=[False, True, False])
    h = effective_height(50.0, 2.0, 15.0, t_exit, 283.0, 5.0, "D")
    assert h.mask.tolist() == [False, True, False]
    assert h.compressed().tolist() == plain_h.tolist()
    u_stack = np.ma.masked_invalid([5.0, np.nan])
    assert effective_height(50.0, 2.0, 15.0, 400.0, 283.0, u_stack, "D").mask.tolist() == [
        False,
        True,
    ]

    kw: dict[str, Any] = {"u": 2.0, "wind_direction": 180.0, "stability": "D"}
    plain_c = line_source(1e-3, (-500.0, 0.0), (500.0, 0.0), [0.0, 10.0], [50.0, 80.0], **kw)
    rx = np.ma.masked_array([0.0, 1e20, 10.0], mask=[False, True, False])
    ry = np.ma.masked_array([50.0, np.nan, 80.0], mask=[False, True, False])
    c = line_source(1e-3, (-500.0, 0.0), (500.0, 0.0), rx, ry, **kw)
    assert c.mask.tolist() == [False, True, False]
    assert c.compressed().tolist() == plain_c.tolist()
    # unmasked values are still checked
    with pytest.raises(InputError, match="receptors_x"):
        line_source(1e-3, (-500.0, 0.0), (500.0, 0.0), np.ma.masked_array([np.nan]), 0.0, **kw)


@pytest.mark.parametrize("sigma", [["pgt"], None, 2, ("pgt",)])
def test_gaussian_plume_sigma_not_a_name(sigma: object) -> None:
    with pytest.raises(InputError) as err:
        gaussian_plume(1.0, 1000.0, 0.0, 0.0, **BASE, sigma=sigma)  # type: ignore[arg-type]
    text = str(err.value)
    assert text.startswith(f"sigma={sigma!r} is a {type(sigma).__name__}")
    assert "'briggs-rural'" in text and "'pgt'" in text


def test_gaussian_plume_sigma_typo_suggests() -> None:
    with pytest.raises(InputError, match=r"sigma='briggs_rural' \(did you mean 'briggs-rural'"):
        gaussian_plume(1.0, 1000.0, 0.0, 0.0, **BASE, sigma="briggs_rural")
    pgt = gaussian_plume(1.0, 1000.0, 0.0, 0.0, **BASE, sigma=np.str_("pgt"))
    assert float(pgt) == float(gaussian_plume(1.0, 1000.0, 0.0, 0.0, **BASE, sigma="pgt"))


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"x": "abc"}, r"^x: 'abc' \(str\) is not a number"),
        ({"x": [1000.0, "far"]}, r"^x: 'far' \(str\) at position 1 is not a number"),
        ({"q": "lots"}, r"^q: 'lots' \(str\)"),
        ({"y": {"a": 1}}, r"^y: \{'a': 1\} \(dict\) is not a number"),
        ({"z": "ground"}, r"^z: 'ground'"),
        ({"u": "3 m/s"}, r"^u: '3 m/s'"),
        ({"u": 3 + 0j}, r"^u: \(3\+0j\) \(complex\) is not a number.*Give real numbers"),
        ({"h": "tall"}, r"^h: 'tall'"),
        ({"mixing_height": "high"}, r"^mixing_height: 'high' \(str\)"),
    ],
)
def test_gaussian_plume_text_names_the_argument(kwargs: dict[str, object], pattern: str) -> None:
    args: dict[str, Any] = {"q": 1.0, "x": 1000.0, "y": 0.0, "z": 0.0, **BASE, **kwargs}
    with pytest.raises(InputError, match=pattern):
        gaussian_plume(**args)
