"""Ordinary mistakes made through the Python API of the meteorology (hourly reading,
frequency tables, years), the plume helpers and the NO2 chemistry, found by probing them
(probe3): each used to pass silently with a wrong result or to end on a bare numpy, pandas
or xarray error. Each test fails on the code before its fix; the valid cases beside them
must keep their results.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from trajectoire import dispersion as disp
from trajectoire import meteo
from trajectoire.dispersion.chemistry import no2_attribution, no2_increment_ratio, nox_to_no2
from trajectoire.errors import InputError, UnitsError

LILLE: dict[str, Any] = {"latitude": 50.57, "longitude": 3.10}


def _one_line(err: pytest.ExceptionInfo[BaseException]) -> str:
    text = str(err.value)
    assert "\n" not in text, text
    return text


def _hours(n: int = 72, start: str = "2022-03-01") -> pd.DataFrame:
    """`n` hours of the library's hourly CSV columns, as ``pd.read_csv`` gives them."""
    rng = np.random.default_rng(7)
    return pd.DataFrame(
        {
            "time": pd.date_range(start, periods=n, freq="h").strftime("%Y-%m-%dT%H:%MZ"),
            "wind_speed": np.round(rng.uniform(0.2, 9.0, n), 1),
            "wind_direction": rng.integers(0, 36, n) * 10.0,
            "cloud_cover": rng.integers(0, 9, n).astype(float),
            "temperature": np.round(rng.uniform(275.0, 290.0, n), 1),
        }
    )


@pytest.fixture(scope="module")
def hourly_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("met") / "hourly.csv"
    _hours().to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def met(hourly_csv: Path) -> xr.Dataset:
    return meteo.add_stability(meteo.read_hourly(hourly_csv, **LILLE))


def _same_tables(a: xr.Dataset, b: xr.Dataset) -> None:
    for name in a.data_vars:
        np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=str(name))


# ------------------------------------------------------------------ met_classes
def test_met_classes_lower_case_stability_is_read_as_its_class(met: xr.Dataset) -> None:
    """'d' used to leave every hour out (all-zero tables, a warning of hours "without a
    stability class"); letters in any case and with blanks are the classes they name."""
    upper = meteo.met_classes(met)
    assert float(upper["valid_hours"].sum()) == met.sizes["time"]
    lower = met.copy()
    lower["stability"] = met["stability"].str.lower()
    _same_tables(upper, meteo.met_classes(lower))
    padded = met.copy()
    padded["stability"] = " " + met["stability"].astype(str) + " "
    _same_tables(upper, meteo.met_classes(padded))


def test_met_classes_unknown_stability_letter_is_an_error(met: xr.Dataset) -> None:
    bad = met.copy()
    bad["stability"] = met["stability"].where(np.arange(met.sizes["time"]) != 5, "x")
    with pytest.raises(InputError) as err:
        meteo.met_classes(bad)
    text = _one_line(err)
    assert "stability" in text and "'X'" in text and "'A'" in text


def test_met_classes_duplicated_hours_are_an_error(met: xr.Dataset) -> None:
    """The same hour twice used to be counted twice (valid_hours 8860 in a year)."""
    twice = xr.concat([met, met.isel(time=slice(0, 3))], "time")
    with pytest.raises(InputError) as err:
        meteo.met_classes(twice)
    text = _one_line(err)
    assert "3 time(s)" in text and "2022-03-01T00:00Z" in text and "once" in text


# ------------------------------------------------------------------ read_hourly
def test_read_hourly_accepts_a_dataframe(hourly_csv: Path) -> None:
    """A DataFrame used to be taken for a list of paths ("time: file not found")."""
    from_file = meteo.read_hourly(hourly_csv, **LILLE)
    frame = pd.read_csv(hourly_csv)
    for given in (frame, frame.set_index("time")):
        from_frame = meteo.read_hourly(given, **LILLE)
        np.testing.assert_array_equal(from_frame["time"].values, from_file["time"].values)
        _same_tables(from_file, from_frame)
    assert frame.columns.tolist()[0] == "time"  # the caller's frame is left as it was


def test_read_hourly_dataframe_mistakes_name_the_column_and_row(hourly_csv: Path) -> None:
    frame = pd.read_csv(hourly_csv)
    with pytest.raises(InputError) as err:
        meteo.read_hourly(frame.drop(columns="wind_speed"))
    text = _one_line(err)
    assert "DataFrame" in text and "'wind_speed'" in text
    text_cell = frame.astype({"wind_speed": object})
    text_cell.loc[4, "wind_speed"] = "calm"
    with pytest.raises(InputError) as err:
        meteo.read_hourly(text_cell)
    text = _one_line(err)
    assert "'wind_speed'" in text and "'calm'" in text and "row 4" in text


@pytest.mark.parametrize("given", [5, None, {"time": "x"}])
def test_read_hourly_other_objects_say_what_it_reads(given: object) -> None:
    with pytest.raises(InputError) as err:
        meteo.read_hourly(given)  # type: ignore[arg-type]
    text = _one_line(err)
    assert "read_hourly: path" in text and "DataFrame" in text and "file path" in text


def test_read_hourly_of_a_dataset_points_at_validate_hourly(met: xr.Dataset) -> None:
    with pytest.raises(InputError) as err:
        meteo.read_hourly(met)  # type: ignore[arg-type]
    text = _one_line(err)
    assert "xarray Dataset" in text and "validate_hourly" in text


# ------------------------------------------------------------------ select_years
def test_select_years_takes_a_year_as_text(met: xr.Dataset) -> None:
    table = meteo.met_classes(met)
    one = meteo.select_years(table, 2022)
    assert "year" not in one.dims
    _same_tables(one, meteo.select_years(table, "2022"))
    _same_tables(meteo.select_years(table, [2022]), meteo.select_years(table, ["2022"]))
    _same_tables(one, meteo.select_years(table, np.int64(2022)))  # type: ignore[arg-type]


@pytest.mark.parametrize(("years", "shown"), [("2O22", "years='2O22'"), ([2022.5], "years[0]")])
def test_select_years_not_a_year_is_one_line(met: xr.Dataset, years: object, shown: str) -> None:
    table = meteo.met_classes(met)
    with pytest.raises(InputError) as err:
        meteo.select_years(table, years)  # type: ignore[arg-type]
    text = _one_line(err)
    assert shown in text and "whole year" in text


# ------------------------------------------------------------------ effective_height
def test_effective_height_valid_unchanged() -> None:
    assert float(disp.effective_height(50, 2, 15, 400.0, 283.0, 5, "D")) == pytest.approx(
        121.98432, abs=1e-4
    )


@pytest.mark.parametrize(
    ("exit_t", "ambient_t", "name"),
    [(127.0, 283.15, "exit_temperature"), (400.0, 10.0, "ambient_temperature")],
)
def test_effective_height_celsius_temperatures_are_refused(
    exit_t: float, ambient_t: float, name: str
) -> None:
    """127 degC and 10 degC used to give 197 m instead of 122 m."""
    with pytest.raises(InputError) as err:
        disp.effective_height(50, 2, 15, exit_t, ambient_t, 5, "D")
    text = _one_line(err)
    assert name in text and "150 K" in text and "add 273.15" in text


# ------------------------------------------------------------------ line_source
LINE: dict[str, Any] = {
    "u": 2.0,
    "wind_direction": 180.0,
    "stability": "D",
    "sigma": "briggs-rural",
}


def test_line_source_valid_unchanged() -> None:
    c = disp.line_source(1e-3, (-5000.0, 0.0), (5000.0, 0.0), 0.0, 100.0, 0.0, **LINE)
    assert float(c) * 1e6 == pytest.approx(71.3, abs=0.01)
    start: Any = np.array([-5000.0, 0.0])
    same = disp.line_source(1e-3, start, [5000, 0], 0.0, 100.0, 0.0, **LINE)  # type: ignore[arg-type]
    assert float(same) == float(c)


@pytest.mark.parametrize("start", [(np.nan, 0.0), (0.0, np.inf)])
def test_line_source_non_finite_end_point_is_refused(start: tuple[float, float]) -> None:
    """A NaN coordinate used to give a concentration of 0."""
    with pytest.raises(InputError) as err:
        disp.line_source(1e-3, start, (5000.0, 0.0), 0.0, 100.0, 0.0, **LINE)
    text = _one_line(err)
    assert text.startswith("start=") and "finite" in text


@pytest.mark.parametrize(
    ("key", "value", "shown"),
    [
        ("u", np.array([3.0, 4.0]), "one wind speed"),
        ("stability", ["D", "E"], "one class letter"),
        ("wind_direction", [90.0, 180.0], "one direction"),
    ],
)
def test_line_source_several_values_of_a_scalar_argument(
    key: str, value: object, shown: str
) -> None:
    """u=np.array([3., 4.]) used to end on a TypeError from float()."""
    with pytest.raises(InputError) as err:
        disp.line_source(1e-3, (-5000.0, 0.0), (5000.0, 0.0), 0.0, 100.0, **(LINE | {key: value}))
    text = _one_line(err)
    assert text.startswith(f"{key}: got 2 values") and shown in text


# ------------------------------------------------------------------ NO2 chemistry
def test_nox_to_no2_valid_unchanged() -> None:
    assert float(nox_to_no2(100.0)) == pytest.approx(103 * 100 / 230 + 0.5, rel=1e-15)
    listed = nox_to_no2([100.0], [103, 130, 0.005])  # type: ignore[arg-type]
    np.testing.assert_array_equal(listed, nox_to_no2([100.0]))


def test_nox_to_no2_none_is_refused() -> None:
    """None used to give NaN."""
    with pytest.raises(InputError) as err:
        nox_to_no2(None)  # type: ignore[arg-type]
    text = _one_line(err)
    assert "nox" in text and "None" in text


@pytest.mark.parametrize("method", [(1, 2), ("a", 1, 2), "romberg"])
def test_nox_to_no2_bad_method_lists_the_methods(method: object) -> None:
    with pytest.raises(InputError) as err:
        nox_to_no2(100.0, method=method)  # type: ignore[arg-type]
    text = _one_line(err)
    assert "method" in text and "romberg1996" in text and "(A, B, C)" in text


def test_nox_to_no2_negative_names_the_count_and_value() -> None:
    with pytest.raises(InputError) as err:
        nox_to_no2([-5.0, 10.0])
    text = _one_line(err)
    assert "1 negative" in text and "-5.0" in text and ">= 0" in text


def test_nox_to_no2_infinite_is_refused() -> None:
    """An infinite NOx gave NaN with numpy's RuntimeWarning (inf / inf)."""
    with pytest.raises(InputError) as err:
        nox_to_no2([10.0, np.inf, -np.inf])
    text = _one_line(err)
    assert "2 infinite" in text and "inf" in text and "finite" in text


def test_nox_to_no2_keeps_a_dataarray_and_reads_its_units() -> None:
    """A DataArray came back as a plain array (its coordinates lost) and its units were not
    read: NOx in mg m-3 gave NO2 on the ug m-3 curve."""
    nox = xr.DataArray(
        [10.0, 100.0, np.nan],
        dims="station",
        coords={"station": ["FR1", "FR2", "FR3"]},
        attrs={"units": "ug m-3", "long_name": "NOx"},
        name="nox",
    )
    no2 = nox_to_no2(nox)
    assert isinstance(no2, xr.DataArray) and no2.name == "NO2"
    assert no2["station"].values.tolist() == ["FR1", "FR2", "FR3"]
    assert no2.attrs == {"units": "ug m-3"}
    np.testing.assert_array_equal(no2.values, nox_to_no2(nox.values))
    in_mg = nox_to_no2((nox / 1000.0).assign_attrs(units="mg m-3"))
    np.testing.assert_allclose(in_mg.values, no2.values, rtol=1e-12)
    with pytest.raises(UnitsError) as err:
        nox_to_no2(nox.assign_attrs(units="ppb"))
    text = _one_line(err)
    assert "'ppb' are a mixing ratio" in text and "mixing_ratio_factor" in text


PARTS = np.array([[10.0, 5.0], [5.0, 2.5]])


def test_no2_attribution_valid_unchanged() -> None:
    total, parts = no2_attribution(25.0, 10.0, PARTS)
    expected = 10.0 + (nox_to_no2(25.0 + PARTS.sum(0)) - nox_to_no2(25.0))
    np.testing.assert_array_equal(total, expected)
    np.testing.assert_allclose(parts.sum(0) + 10.0, total, rtol=1e-12)
    # the same NO2 as NOx (a map made with a ratio of 1) is no mistake
    no2_attribution(np.array([25.0, 10.0]), np.array([10.0, 10.0 * (1 + 1e-12)]), PARTS)
    no2_increment_ratio(20.0, 20.0, np.array([5.0]))


def test_no2_attribution_no2_background_above_nox_is_refused() -> None:
    """NO2 background 25 above NOx background 10 used to give NO2 34.3 above NOx 25."""
    with pytest.raises(InputError) as err:
        no2_attribution(10.0, 25.0, PARTS)
    text = _one_line(err)
    assert "no2_background 25 > nox_background 10" in text and "swapped" in text
    with pytest.raises(InputError, match=r"in 1 of 2 cells"):
        no2_attribution(np.array([30.0, 10.0]), np.array([20.0, 12.0]), PARTS)


def test_no2_attribution_bad_axis_is_one_line() -> None:
    with pytest.raises(InputError) as err:
        no2_attribution(25.0, 10.0, PARTS, axis=3)
    text = _one_line(err)
    assert "axis=3" in text and "nox_parts of shape (2, 2)" in text


def test_no2_attribution_shape_mismatch_is_one_line() -> None:
    with pytest.raises(InputError) as err:
        no2_attribution(np.full((2, 2), 25.0), 10.0, np.ones((3, 3)))
    text = _one_line(err)
    assert "nox_background (2, 2)" in text and "nox_parts (3,)" in text


def test_no2_attribution_negative_background_names_it() -> None:
    with pytest.raises(InputError) as err:
        no2_attribution(-1.0, -2.0, PARTS)
    text = _one_line(err)
    assert "no2_attribution: nox_background" in text and ">= 0" in text
