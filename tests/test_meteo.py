"""Tests of trajectoire.meteo: sun, Turner and Golder classes, readers, frequency tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import given
from hypothesis import strategies as st

from trajectoire import meteo as tm
from trajectoire.errors import InputError, MissingVariableError, TrajectoireWarning, UnitsError
from trajectoire.meteo import stability as tm_stability

LILLE = (50.57, 3.10)


def hourly_frame(n=48, start="2021-03-01", seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "time": pd.date_range(start, periods=n, freq="h").strftime("%Y-%m-%dT%H:%MZ"),
            "wind_speed": rng.uniform(0.2, 9.0, n),
            "wind_direction": rng.uniform(0, 359.9, n),
            "cloud_cover": rng.integers(0, 9, n),
            "temperature": rng.uniform(275, 295, n),
        }
    )


def synth(n=2000, seed=0, calm=True, start="2021-01-01"):
    rng = np.random.default_rng(seed)
    u = rng.gamma(2.0, 1.5, n) + (0.0 if calm else 1.0)
    return xr.Dataset(
        {
            "wind_speed": ("time", u),
            "wind_direction": ("time", rng.uniform(0, 360, n) % 360),
            "stability": ("time", np.array(list("ABCDEF"))[rng.integers(0, 6, n)]),
        },
        coords={"time": pd.date_range(start, periods=n, freq="h")},
    )


# ------------------------------------------------------------------ sun
@pytest.mark.reference
def test_solar_elevation_solstices_at_lille():
    """Noon elevation 90 - lat +- 23.44 degrees (solar noon near 11:47 UTC at 3.1 E)."""
    summer = np.array(["2021-06-21T11:48"], dtype="datetime64[m]")
    winter = np.array(["2021-12-21T11:46"], dtype="datetime64[m]")
    assert tm.solar_elevation(summer, *LILLE)[0] == pytest.approx(90 - 50.57 + 23.44, abs=0.4)
    assert tm.solar_elevation(winter, *LILLE)[0] == pytest.approx(90 - 50.57 - 23.44, abs=0.4)
    night = np.array(["2021-12-21T23:00"], dtype="datetime64[m]")
    assert tm.solar_elevation(night, *LILLE)[0] < -50


def test_solar_elevation_accepts_timezone_aware_times():
    t = pd.DatetimeIndex(["2021-06-21T13:48"]).tz_localize("Europe/Paris")
    assert tm.solar_elevation(t, *LILLE)[0] == pytest.approx(62.87, abs=0.4)


# ------------------------------------------------------------------ Turner
@pytest.mark.reference
def test_turner_class_table_cases():
    """Cases of EPA-454/R-99-005 Table 6-7 (Turner 1964)."""
    day = "2021-06-21T11:48"  # elevation 63: insolation class 4
    evening_winter = "2021-12-21T11:46"  # elevation 16: insolation class 2
    night = "2021-06-21T23:00"
    cases = [
        (day, 1.0, 0, "A"),  # NRI 4, u < 0.8
        (day, 2.5, 0, "A"),  # NRI 4, 1.9-2.8 -> 1
        (day, 3.5, 0, "B"),  # NRI 4, 3.4-3.8 -> 2
        (day, 7.0, 0, "C"),  # NRI 4, >= 6 -> 3
        (day, 2.5, 6, "B"),  # broken, ceiling 7000-16000 ft assumed: NRI 3 -> 2 (B)
        (day, 3.0, 8, "D"),  # overcast, low ceiling assumed: NRI 0
        (evening_winter, 2.5, 0, "C"),  # NRI 2, 1.9-2.8 -> 3
        (night, 1.0, 0, "F"),  # NRI -2, u < 0.8 -> G, merged into F
        (night, 2.5, 2, "F"),  # NRI -2, 1.9-2.8 -> 6
        (night, 2.5, 6, "E"),  # NRI -1, 1.9-2.8 -> 5
        (night, 4.0, 6, "D"),  # NRI -1, 3.9-4.8 -> 4
        (night, 6.5, 0, "D"),  # NRI -2, >= 6 -> 4
    ]
    t = np.array([c[0] for c in cases], dtype="datetime64[m]")
    got = tm.turner_class([c[1] for c in cases], [c[2] for c in cases], t, *LILLE)
    assert got.tolist() == [c[3] for c in cases]


@pytest.mark.reference
def test_turner_class_speed_rows_are_the_half_knot_edges_of_the_knot_classes():
    """EPA-454/R-99-005 Table 6-7 gives the rows in whole knots (0-1, 2-3, 4-5, 6, 7, 8-9,
    10, 11, >= 12) and in m/s (0-0.7, 0.8-1.8, ..., >= 6.0, the half-knot edges on a 0.1 m/s
    grid). The first edge was 0.75 m/s, not 1.5 kt = 0.772 m/s (probe E #6)."""
    day = np.datetime64("2021-06-21T11:48", "m")  # NRI 4 under a clear sky: rows A A A B B B C C C
    row_class = dict(enumerate("AAABBBCCC"))
    knot = 1852.0 / 3600.0
    knot_rows = [0, 0, 1, 1, 2, 2, 3, 4, 5, 5, 6, 7, 8, 8, 8]  # 0..14 kt
    ms_rows = [(0.0, 0.7), (0.8, 1.8), (1.9, 2.8), (2.9, 3.3), (3.4, 3.8), (3.9, 4.8),
               (4.9, 5.4), (5.5, 5.9), (6.0, 9.0)]  # fmt: skip
    speeds = [k * knot for k in range(15)]
    want = [row_class[r] for r in knot_rows]
    for row, (lo, hi) in enumerate(ms_rows):
        grid = np.round(np.arange(lo, hi + 0.05, 0.1), 1).tolist()
        speeds += grid
        want += [row_class[row]] * len(grid)
    # continuous speeds on either side of 1.5 kt (0.772) and 5.5 kt (2.829 m/s)
    speeds += [0.76, 0.77, 0.78, 2.82, 2.84]
    want += ["A", "A", "A", "A", "B"]
    t = np.full(len(speeds), day)
    got = tm.turner_class(speeds, np.zeros(len(speeds)), t, *LILLE)
    assert got.tolist() == want
    # NRI 3 (mid-April noon): rows 0 and 1 differ (A, B) on either side of 0.772 m/s
    april = np.full(2, np.datetime64("2021-04-15T11:48", "m"))
    assert tm.turner_class([0.77, 0.78], [0, 0], april, *LILLE).tolist() == ["A", "B"]


def test_turner_class_night_includes_hour_after_sunrise():
    # sunrise in Lille on 21 June is near 03:45 UTC: 04:00 is still "night" for Turner
    t = np.array(["2021-06-21T04:00", "2021-06-21T06:00"], dtype="datetime64[m]")
    assert tm.turner_class([1.0, 1.0], [0, 0], t, *LILLE).tolist() == ["F", "B"]


def test_turner_class_ceiling_height_is_used():
    t = np.array(["2021-06-21T11:48"] * 2, dtype="datetime64[m]")
    got = tm.turner_class([2.5, 2.5], [8, 8], t, *LILLE, ceiling_height=[600.0, 6000.0])
    assert got.tolist() == ["D", "B"]  # low overcast: NRI 0; high overcast: 4 - 1 = 3


def test_turner_class_missing_inputs_give_empty():
    t = np.array(["2021-06-21T11:48"] * 2, dtype="datetime64[m]")
    assert tm.turner_class([np.nan, 2.0], [0, np.nan], t, *LILLE).tolist() == ["", ""]


def test_turner_class_bad_inputs():
    t = np.array(["2021-06-21T11:48"], dtype="datetime64[m]")
    with pytest.raises(InputError, match="wind_speed"):
        tm.turner_class([-1.0], [0], t, *LILLE)
    with pytest.raises(InputError, match="cloud_cover"):
        tm.turner_class([1.0], [9], t, *LILLE)


# ------------------------------------------------------------------ Golder
@pytest.mark.reference
def test_stability_class_golder_lines():
    """On each Golder line the class is that line's class (z0 = 0.1 m and 0.01 m)."""
    for z0 in (0.01, 0.1, 0.5):
        inv_l = tm_stability._GOLDER_A + tm_stability._GOLDER_B * np.log10(z0)
        lengths = np.where(inv_l == 0, np.inf, 1.0 / np.where(inv_l == 0, 1, inv_l))
        assert tm.stability_class(lengths, z0).tolist() == list("ABCDEF")


def test_stability_class_broadcasts_and_extremes():
    got = tm.stability_class(np.array([[-1.0], [1.0]]), np.array([0.05, 2.0]))
    assert got.shape == (2, 2)
    assert got[0].tolist() == ["A", "A"] and got[1].tolist() == ["F", "F"]
    assert tm.stability_class(-np.inf, 0.1).item() == "D"
    assert tm.stability_class(1e6, 0.1).item() == "D"


def test_stability_class_bad_input():
    with pytest.raises(InputError, match="obukhov_length"):
        tm.stability_class([np.nan], 0.1)
    with pytest.raises(InputError, match="obukhov_length"):
        tm.stability_class([0.0], 0.1)
    with pytest.raises(InputError, match="roughness_length"):
        tm.stability_class([10.0], 0.0)


# ------------------------------------------------------------------ wind, mixing height
def test_wind_at_height_power_law():
    assert tm.wind_at_height(3.0, 100.0, "F")[()] == pytest.approx(3.0 * 10**0.55)
    assert tm.wind_at_height(3.0, 100.0, "A", urban=True)[()] == pytest.approx(3.0 * 10**0.15)
    np.testing.assert_allclose(tm.wind_at_height([2.0, 4.0], 10.0, ["B", "E"]), [2.0, 4.0])


def test_wind_at_height_bad_input():
    with pytest.raises(InputError, match="negative"):
        tm.wind_at_height(-1.0, 20.0, "D")
    with pytest.raises(InputError, match="unknown stability"):
        tm.wind_at_height(1.0, 20.0, "G")
    with pytest.raises(InputError, match="heights"):
        tm.wind_at_height(1.0, 0.0, "D")


def test_default_mixing_height():
    assert tm.default_mixing_height("C")[()] == 1000.0
    assert np.isinf(tm.default_mixing_height("E"))


# ------------------------------------------------------------------ reading
def test_read_hourly_csv_and_gz(tmp_path):
    frame = hourly_frame()
    frame.to_csv(tmp_path / "m.csv", index=False)
    frame.to_csv(tmp_path / "m.csv.gz", index=False)
    a = tm.read_hourly(tmp_path / "m.csv", latitude=LILLE[0], longitude=LILLE[1])
    b = tm.read_hourly(tmp_path / "m.csv.gz", latitude=LILLE[0], longitude=LILLE[1])
    xr.testing.assert_identical(a.drop_attrs(), b.drop_attrs())
    assert a.sizes["time"] == 48
    assert a["wind_speed"].attrs["units"] == "m s-1"
    assert a.attrs["missing_hours"] == 0
    assert a.attrs["latitude"] == LILLE[0]


def test_read_hourly_celsius(tmp_path):
    frame = hourly_frame()
    frame["temperature"] -= 273.15
    frame.to_csv(tmp_path / "m.csv", index=False)
    with pytest.raises(UnitsError, match="degC"):
        tm.read_hourly(tmp_path / "m.csv")
    ds = tm.read_hourly(tmp_path / "m.csv", temperature_units="degC")
    assert float(ds["temperature"].min()) > 270
    with pytest.raises(UnitsError, match="expected 'K'"):
        tm.read_hourly(tmp_path / "m.csv", temperature_units="F")


def test_read_hourly_temperature_codes_and_units_named_as_written(tmp_path):
    """9999 in a kelvin file was kept as 9999 K, kelvin read as degC became ~553 K, and -9999
    degC was quoted converted, as -9725.85 (probe E #2)."""
    frame = hourly_frame()
    frame.loc[3, "temperature"] = 9999
    frame.to_csv(tmp_path / "k.csv", index=False)
    with pytest.raises(InputError) as err:
        tm.read_hourly(tmp_path / "k.csv")
    msg = str(err.value)
    assert "k.csv, column 'temperature': 1 value(s) outside" in msg
    assert "180 to 340 K: 9999 K at line 5 (2021-03-01T03:00Z)" in msg
    assert "9999 is a missing-value code" in msg and "leave those cells empty" in msg
    assert "\n" not in msg
    celsius = hourly_frame()
    celsius["temperature"] -= 273.15
    celsius.loc[[2, 7], "temperature"] = [-9999.0, 999.9]
    celsius.to_csv(tmp_path / "c.csv", index=False)
    with pytest.raises(InputError) as err:
        tm.read_hourly(tmp_path / "c.csv", temperature_units="degC")
    msg = str(err.value)
    assert "-93.15 to 66.85 degC: -9999 degC at line 4" in msg and "999.9 degC at line 9" in msg
    assert "-9725.85" not in msg and "-9999, 999.9 are missing-value codes" in msg
    # kelvin read as degC: the units, not ~553 K
    with pytest.raises(UnitsError, match=r"median 2\d\d\.\d cannot be an air temperature in degC"):
        tm.read_hourly(_write(tmp_path, hourly_frame()), temperature_units="degC")
    # a value out of range that is no code: checked, not called a code
    cold = hourly_frame()
    cold.loc[1, "temperature"] = 150.0
    with pytest.raises(InputError, match=r"150 K at line 3 .*Check the values and their units"):
        tm.read_hourly(_write(tmp_path, cold))


def _write(tmp_path, frame, name="w.csv"):
    frame.to_csv(tmp_path / name, index=False)
    return tmp_path / name


def test_read_hourly_missing_hours_counted_and_reported(tmp_path):
    frame = hourly_frame().drop(index=[5, 6, 7, 30])
    frame.to_csv(tmp_path / "m.csv", index=False)
    with pytest.warns(TrajectoireWarning, match="4 missing hour"):
        ds = tm.read_hourly(tmp_path / "m.csv")
    assert ds.sizes["time"] == 48
    assert ds.attrs["missing_hours"] == 4
    assert "2021-03-01T05..2021-03-01T07" in ds.attrs["missing_periods"]
    assert int(ds["wind_speed"].isnull().sum()) == 4
    with pytest.raises(InputError, match="4 missing hour"):
        tm.read_hourly(tmp_path / "m.csv", missing="raise")


@pytest.mark.parametrize(
    ("column", "value", "match"),
    [
        ("wind_speed", -1.0, "wind_speed.*outside"),
        ("wind_direction", 360.0, "wind_direction.*modulo 360"),
        ("wind_direction", -5.0, "wind_direction"),
        ("cloud_cover", 9, "cloud_cover"),
    ],
)
def test_read_hourly_bad_values(tmp_path, column, value, match):
    frame = hourly_frame()
    frame.loc[3, column] = value
    frame.to_csv(tmp_path / "m.csv", index=False)
    with pytest.raises(InputError, match=match):
        tm.read_hourly(tmp_path / "m.csv")


def test_read_hourly_range_errors_name_the_hour_once_as_utc(tmp_path):
    """The hours were written "2021-03-01T03:00Z UTC", UTC twice (probe E, cosmetic)."""
    frame = hourly_frame()
    frame.loc[3, "wind_speed"] = -1.0
    frame.to_csv(tmp_path / "m.csv", index=False)
    with pytest.raises(InputError) as err:
        tm.read_hourly(tmp_path / "m.csv")
    msg = str(err.value)
    assert "(at 2021-03-01T03:00Z; e.g. -1.0)" in msg and "UTC" not in msg


def test_read_hourly_bad_times_and_columns(tmp_path):
    frame = hourly_frame()
    dup = pd.concat([frame, frame.iloc[[2]]])
    dup.to_csv(tmp_path / "d.csv", index=False)
    with pytest.raises(InputError, match="duplicated"):
        tm.read_hourly(tmp_path / "d.csv")
    off = frame.copy()
    off.loc[1, "time"] = "2021-03-01T01:30Z"
    off.to_csv(tmp_path / "o.csv", index=False)
    with pytest.raises(InputError, match="not on the hour"):
        tm.read_hourly(tmp_path / "o.csv")
    frame.drop(columns="cloud_cover").to_csv(tmp_path / "c.csv", index=False)
    with pytest.raises(MissingVariableError, match="cloud_cover"):
        tm.read_hourly(tmp_path / "c.csv")
    with pytest.raises(InputError, match="not found"):
        tm.read_hourly(tmp_path / "nope.csv")


def _times_file(tmp_path, times, name="t.csv"):
    rows = "".join(f"{t},3,90,4,280\n" for t in times)
    (tmp_path / name).write_text("time,wind_speed,wind_direction,cloud_cover,temperature\n" + rows)
    return tmp_path / name


@pytest.mark.parametrize(
    "times",
    [
        ["2021-03-28T00:00:00Z", "2021-03-28T01:00Z", "2021-03-28T02:00:00Z"],
        ["2021-03-28", "2021-03-28T01:00", "2021-03-28T02:00"],
        ["2021-03-28T01:00+01:00", "2021-03-28T01:00Z", "2021-03-28T03:00+01:00"],
        ["2021-03-28 00:00:00", "20210328T01", "2021-03-28T02:00:00.000"],
    ],
)
def test_read_hourly_reads_every_iso_8601_spelling(tmp_path, times):
    """A file mixing ISO 8601 spellings was refused as "not dates": pandas guessed one
    format from the first row (probe E #3)."""
    ds = tm.read_hourly(_times_file(tmp_path, times))
    assert (
        ds["time"].values.tolist()
        == pd.date_range("2021-03-28", periods=3, freq="h").values.tolist()
    )


def test_read_hourly_refuses_other_times_naming_the_cell_and_the_form(tmp_path):
    """Compact integers were read as nanoseconds since 1970, dd/mm/yyyy guessed as
    mm/dd, naive times among zoned ones called "not dates" (probe E #3)."""
    with pytest.raises(InputError) as err:
        tm.read_hourly(_times_file(tmp_path, ["2021032800", "2021032801"]))
    msg = str(err.value)
    assert "column 'time': numbers, not dates ('2021032800' at line 2" in msg
    assert "like 2021-01-01T00:00Z" in msg and "read_meteo_france" in msg and "1970" not in msg
    with pytest.raises(InputError) as err:
        tm.read_hourly(_times_file(tmp_path, ["03/04/2021 00:00", "03/04/2021 01:00"]))
    msg = str(err.value)
    assert "2 value(s) are not ISO 8601 dates ('03/04/2021 00:00' at line 2" in msg
    assert "day/month orders" in msg
    with pytest.raises(InputError) as err:
        tm.read_hourly(_times_file(tmp_path, ["2021-03-28T00:00", "2021-03-28T01:00Z", ""]))
    msg = str(err.value)
    assert "1 value(s) are not ISO 8601 dates (an empty cell at line 4)" in msg
    times = ["2021-03-28T00:00", "2021-03-28T01:00+00:00", "2021-03-28T02:00Z"]
    with pytest.raises(InputError) as err:
        tm.read_hourly(_times_file(tmp_path, times))
    msg = str(err.value)
    assert "1 time(s) without a zone (e.g. '2021-03-28T00:00' at line 2) among 2 with one" in msg
    assert "not dates" not in msg and "\n" not in msg


def test_read_hourly_gridded_netcdf(tmp_path):
    t = pd.date_range("2021-01-01", periods=24, freq="h")
    lat = np.array([51.0, 50.5, 50.0])
    lon = np.array([2.5, 3.0, 3.5])
    shape = (24, 3, 3)
    u = np.full(shape, -3.0)  # wind from the east
    v = np.zeros(shape)
    ds = xr.Dataset(
        {
            "u10": (("valid_time", "latitude", "longitude"), u),
            "v10": (("valid_time", "latitude", "longitude"), v),
            "tcc": (("valid_time", "latitude", "longitude"), np.full(shape, 0.5)),
            "t2m": (("valid_time", "latitude", "longitude"), np.full(shape, 280.0), {"units": "K"}),
            "blh": (("valid_time", "latitude", "longitude"), np.full(shape, 700.0)),
        },
        coords={"valid_time": t, "latitude": lat, "longitude": lon},
    )
    ds.to_netcdf(tmp_path / "era5.nc")
    with pytest.raises(InputError, match="latitude"):
        tm.read_hourly(tmp_path / "era5.nc")
    met = tm.read_hourly(tmp_path / "era5.nc", latitude=50.57, longitude=3.1)
    np.testing.assert_allclose(met["wind_speed"], 3.0)
    np.testing.assert_allclose(met["wind_direction"], 90.0)
    np.testing.assert_allclose(met["cloud_cover"], 4.0)
    np.testing.assert_allclose(met["mixing_height"], 700.0)


def test_read_hourly_refuses_era5_cloud_cover_in_percent_like_read_era5(tmp_path):
    """tcc in percent was clipped to 8 okta every hour; read_era5 refused it (probe E #1)."""
    t = pd.date_range("2020-01-01", periods=24, freq="h")
    ds = xr.Dataset(
        {
            "u10": ("valid_time", np.full(24, 2.0)),
            "v10": ("valid_time", np.full(24, 1.0)),
            "t2m": ("valid_time", np.full(24, 280.0), {"units": "K"}),
            "tcc": ("valid_time", np.linspace(0.0, 97.5, 24), {"units": "%"}),
        },
        coords={"valid_time": t},
    )
    ds.to_netcdf(tmp_path / "pct.nc")
    with pytest.raises(
        UnitsError, match=r"pct\.nc, variable 'tcc': values up to 97\.5 \(units '%'\)"
    ):
        tm.read_hourly(tmp_path / "pct.nc")
    # packing noise just out of [0, 1] is clipped, not refused
    ds["tcc"] = ("valid_time", np.r_[-1e-4, 1.0 + 1e-4, np.full(22, 0.5)], {"units": "(0 - 1)"})
    ds.to_netcdf(tmp_path / "noise.nc")
    met = tm.read_hourly(tmp_path / "noise.nc")
    assert met["cloud_cover"].values[:3].tolist() == [0.0, 8.0, 4.0]


# ------------------------------------------------------------------ add_stability
def test_add_stability_turner_and_obukhov(tmp_path):
    frame = hourly_frame()
    frame["obukhov_length"] = np.where(np.arange(48) % 2, -20.0, 40.0)
    frame.to_csv(tmp_path / "m.csv", index=False)
    ds = tm.read_hourly(tmp_path / "m.csv", latitude=LILLE[0], longitude=LILLE[1],
                        roughness_length=0.1)  # fmt: skip
    turner = tm.add_stability(ds)
    assert set(turner["stability"].values.tolist()) <= set("ABCDEF")
    assert "solar_elevation" in turner
    golder = tm.add_stability(ds, method="obukhov")
    assert golder["stability"].values[:2].tolist() == ["E", "B"]
    with pytest.raises(InputError, match="method"):
        tm.add_stability(ds, method="sonic")
    no_pos = ds.copy()
    no_pos.attrs = {}
    with pytest.raises(MissingVariableError, match="latitude"):
        tm.add_stability(no_pos)
    with pytest.raises(MissingVariableError, match="roughness_length"):
        tm.add_stability(no_pos, method="obukhov")


# ------------------------------------------------------------------ urban stable hours
def test_urban_stability_maps_e_and_f_to_d_and_nothing_else():
    """The mapping is exact: E, F -> D; A..D and "" (no class) unchanged (issue 14)."""
    got = tm.urban_stability(np.array([["A", "B", "C"], ["D", "E", "F"], ["", "e", " f"]]))
    assert got.tolist() == [["A", "B", "C"], ["D", "D", "D"], ["", "D", "D"]]
    assert tm.urban_stability("F").tolist() == "D"
    with pytest.raises(InputError, match=r"unknown stability class\(es\) \['G'\]"):
        tm.urban_stability(["A", "G"])
    with pytest.raises(InputError, match="dtype"):
        tm.urban_stability([4, 5])


def test_add_stability_urban_adjustment_off_by_default(tmp_path):
    frame = hourly_frame(n=24 * 20)
    frame.to_csv(tmp_path / "m.csv", index=False)
    ds = tm.read_hourly(tmp_path / "m.csv", latitude=LILLE[0], longitude=LILLE[1])
    rural = tm.add_stability(ds)
    default = tm.add_stability(ds, urban_stable_adjustment=False)
    xr.testing.assert_identical(rural["stability"], default["stability"])
    assert {"E", "F"} <= set(rural["stability"].values.tolist())
    urban = tm.add_stability(ds, urban_stable_adjustment=True)
    r, u = rural["stability"].values, urban["stability"].values
    assert not {"E", "F"} & set(u.tolist())
    np.testing.assert_array_equal(u, np.where(np.isin(r, ["E", "F"]), "D", r))
    assert "urban" in urban["stability"].attrs["long_name"]
    assert "urban_stable_adjustment=True" in urban.attrs["history"]


def test_met_classes_urban_adjustment_moves_stable_hours_into_d():
    """Frequencies still sum to 1; D gains exactly the E and F hours; no hour is lost."""
    met = synth(calm=True)
    urban = met.assign(stability=("time", tm.urban_stability(met["stability"].values)))
    before = tm.met_classes(met)
    after = tm.met_classes(urban)
    per_class = ("direction", "speed")
    np.testing.assert_allclose(after["frequency"].sum(("direction", "speed", "stability")), 1.0)
    f0 = before["frequency"].sum(per_class)
    f1 = after["frequency"].sum(per_class)
    np.testing.assert_allclose(f1.sel(stability=["E", "F"]), 0.0)
    np.testing.assert_allclose(
        f1.sel(stability="D"), f0.sel(stability=["D", "E", "F"]).sum("stability"), rtol=1e-12
    )
    xr.testing.assert_allclose(f1.sel(stability=list("ABC")), f0.sel(stability=list("ABC")))
    xr.testing.assert_identical(after["valid_hours"], before["valid_hours"])
    xr.testing.assert_identical(after["calm_fraction"], before["calm_fraction"])
    # empty E, F classes keep the defaults of their class (no lid)
    assert np.isinf(after["mixing_height"].sel(stability="F")).all()


# ------------------------------------------------------------------ frequency tables
def test_met_classes_frequencies_and_inverse_speed():
    met = synth(calm=False)
    table = tm.met_classes(met, n_directions=16)
    assert table["frequency"].dims == ("year", "direction", "speed", "stability")
    np.testing.assert_allclose(table["frequency"].sum(("direction", "speed", "stability")), 1.0)
    assert float(table["calm_fraction"].item()) == 0.0
    # mean of 1/u of one class computed by hand
    u = met["wind_speed"].values
    d = met["wind_direction"].values
    sec = np.floor(((d + 11.25) % 360) / 22.5).astype(int) % 16
    sel = (sec == 4) & (u >= 3.09) & (u < 5.14) & (met["stability"].values == "D")
    got = table["inverse_wind_speed"].isel(year=0, direction=4, speed=2).sel(stability="D")
    assert float(got) == pytest.approx(np.mean(1 / u[sel]), rel=1e-12)
    freq = table["frequency"].isel(year=0, direction=4, speed=2).sel(stability="D")
    assert float(freq) == pytest.approx(sel.sum() / u.size, rel=1e-12)
    assert int(table["valid_hours"].item()) == 2000
    assert int(table["missing_hours"].item()) == 8760 - 2000


def test_met_classes_calms_counted_kept_and_spread():
    met = synth(calm=True)
    table = tm.met_classes(met, calm_threshold=1.0, n_directions=16)
    u = met["wind_speed"].values
    assert float(table["calm_fraction"].item()) == pytest.approx((u < 1.0).mean(), rel=1e-12)
    np.testing.assert_allclose(table["frequency"].sum(("direction", "speed", "stability")), 1.0)
    # lowest class, stability D: calms spread like the non-calm hours of that class
    stab = met["stability"].values
    d = np.floor(((met["wind_direction"].values + 11.25) % 360) / 22.5).astype(int) % 16
    low = (u >= 1.0) & (u < 1.54) & (stab == "D")
    dist = np.bincount(d[low], minlength=16) / low.sum()
    n_calm = ((u < 1.0) & (stab == "D")).sum()
    want = (np.bincount(d[low], minlength=16) + n_calm * dist) / u.size
    got = table["frequency"].isel(year=0, speed=0).sel(stability="D").values
    np.testing.assert_allclose(got, want, rtol=1e-12)
    # the calm hours carry 1/u = 1/threshold
    inv = table["inverse_wind_speed"].isel(year=0, speed=0).sel(stability="D").values
    cnt = want * u.size
    seen = cnt > 0
    want_inv = (np.bincount(d[low], 1 / u[low], 16) + n_calm * dist / 1.0)[seen] / cnt[seen]
    np.testing.assert_allclose(inv[seen], want_inv, rtol=1e-12)


def test_met_classes_calm_without_direction_is_a_calm():
    """A calm with a blank direction was dropped as missing, and calm_fraction fell to 0
    here (probe E #7); its direction is never used (calms are spread)."""
    t = pd.date_range("2019-01-01", periods=10, freq="h")
    met = xr.Dataset(
        {
            "wind_speed": ("time", [0.0] * 5 + [3.0] * 5),
            "wind_direction": ("time", [np.nan] * 5 + [270.0] * 5),
            "stability": ("time", ["D"] * 10),
        },
        coords={"time": t},
    )
    coded = met.copy()
    coded["wind_direction"] = ("time", [0.0] * 5 + [270.0] * 5)
    blank = tm.met_classes(met)  # no warning: no hour is missing (pytest turns them to errors)
    xr.testing.assert_identical(blank.drop_attrs(), tm.met_classes(coded).drop_attrs())
    assert blank["calm_fraction"].values.tolist() == [0.5]
    assert blank["valid_hours"].values.tolist() == [10.0]
    # a hour that is not calm still needs its direction
    moving = met.copy()
    moving["wind_direction"] = ("time", [0.0] * 5 + [np.nan] + [270.0] * 4)
    with pytest.warns(TrajectoireWarning, match="1 hour"):
        table = tm.met_classes(moving)
    assert table["valid_hours"].values.tolist() == [9.0]


def test_met_classes_per_year_and_missing_hours():
    met = synth(n=24 * 40, start="2020-12-11")
    met["wind_speed"][5] = np.nan
    with pytest.warns(TrajectoireWarning, match="1 hour"):
        table = tm.met_classes(met)
    assert table["year"].values.tolist() == [2020, 2021]
    np.testing.assert_allclose(table["frequency"].sum(("direction", "speed", "stability")), 1.0)
    assert int(table["valid_hours"].sel(year=2020)) == 21 * 24 - 1
    assert int(table["missing_hours"].sel(year=2020)) == 8784 - (21 * 24 - 1)


def test_met_classes_bad_input():
    met = synth(n=100)
    with pytest.raises(MissingVariableError, match="add_stability"):
        tm.met_classes(met.drop_vars("stability"))
    bad = met.copy()
    bad["stability"] = bad["stability"].copy(data=np.where(np.arange(100) == 3, "Q", "D"))
    with pytest.raises(InputError, match="unknown stability"):
        tm.met_classes(bad)
    neg = met.copy()
    neg["wind_speed"] = -neg["wind_speed"]
    with pytest.raises(InputError, match="wind_speed"):
        tm.met_classes(neg)
    with pytest.raises(InputError, match="speed_edges"):
        tm.met_classes(met, speed_edges=[1.0, 2.0])
    with pytest.raises(InputError, match="calm_threshold"):
        tm.met_classes(met, calm_threshold=0.0)


def test_read_hourly_folder_and_list_of_years(tmp_path):
    a = hourly_frame(n=24, start="2020-12-31")
    b = hourly_frame(n=24, start="2021-01-01T02:00", seed=1)  # 2 hours missing between files
    a.to_csv(tmp_path / "hourly_2020.csv", index=False)
    b.to_csv(tmp_path / "hourly_2021.csv", index=False)
    with pytest.warns(TrajectoireWarning, match="2 missing hour"):
        ds = tm.read_hourly(tmp_path)
    assert ds.sizes["time"] == 50
    with pytest.warns(TrajectoireWarning, match="2 missing hour"):
        same = tm.read_hourly([tmp_path / "hourly_2021.csv", tmp_path / "hourly_2020.csv"])
    xr.testing.assert_equal(ds, same)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no hourly"):
        tm.read_hourly(tmp_path / "empty")
    with pytest.raises(InputError, match="empty list"):
        tm.read_hourly([])


def test_read_hourly_gaps_listed_per_run_and_warning_points_at_the_caller(tmp_path):
    frame = hourly_frame().drop(index=[3, 10, 11, 12, 40])
    frame.to_csv(tmp_path / "m.csv", index=False)
    with pytest.warns(TrajectoireWarning, match="5 missing hour.*3 gap") as caught:
        ds = tm.read_hourly(tmp_path / "m.csv")
    assert caught[0].filename == __file__
    assert ds.attrs["missing_periods"] == (
        "2021-03-01T03; 2021-03-01T10..2021-03-01T12; 2021-03-02T16"
    )


# ------------------------------------------------------------------ public helpers
def test_stability_index_and_hourly_mixing_height():
    assert tm.stability_index(np.array([" a", "D", "f"])).tolist() == [0, 3, 5]
    with pytest.raises(InputError, match="unknown stability"):
        tm.stability_index(["G"])
    ds = xr.Dataset({"mixing_height": ("time", [450.0, np.nan, np.inf, np.nan])})
    got = tm.hourly_mixing_height(ds, [3, 1, 0, 5])
    assert got.tolist() == [450.0, 1200.0, 1500.0, np.inf]
    assert tm.hourly_mixing_height(xr.Dataset(), [2, 4]).tolist() == [1000.0, np.inf]


# ------------------------------------------------------------------ calms: the spreading rules
def spread_by_hand(met, calm_threshold=1.0, nd=16):
    """Frequencies of the lowest speed class (year 0) by the documented rule, class by class."""
    u = met["wind_speed"].values
    stab = met["stability"].values
    d = np.floor(((met["wind_direction"].values + 180.0 / nd) % 360) / (360.0 / nd)).astype(int)
    d = d % nd
    moving = u >= calm_threshold
    low = moving & (u < 1.54)
    want = np.zeros((nd, 6))
    for c, letter in enumerate("ABCDEF"):
        lowest = np.bincount(d[low & (stab == letter)], minlength=nd).astype(float)
        every = np.bincount(d[moving & (stab == letter)], minlength=nd).astype(float)
        dist = lowest if lowest.sum() else every if every.sum() else np.ones(nd)
        n_calm = (~moving & (stab == letter)).sum()
        want[:, c] = lowest + n_calm * dist / dist.sum()
    return want / u.size


def test_met_classes_calms_fall_back_on_all_speeds_then_uniform():
    met = synth(n=600, seed=3, calm=False)
    u = met["wind_speed"].values.copy()
    stab = met["stability"].values.copy()
    stab[:40] = "E"  # E: calms and no lowest-class hour -> spread like all speeds of E
    u[:20] = 0.3
    u[20:40] = 6.0
    stab[40:60] = "F"  # F: only calms -> uniform spread
    u[40:60] = 0.2
    stab[60:] = np.where(np.isin(stab[60:], ["E", "F"]), "C", stab[60:])
    u[60:] = np.maximum(u[60:], 1.6)
    met["wind_speed"] = ("time", u)
    met["stability"] = ("time", stab)
    table = tm.met_classes(met, n_directions=16)
    got = table["frequency"].isel(year=0, speed=0).values
    np.testing.assert_allclose(got, spread_by_hand(met), rtol=1e-12, atol=0)
    np.testing.assert_allclose(got[:, 5], 20 / 600 / 16, rtol=1e-12)


def test_met_classes_only_calms_and_their_mixing_height():
    met = synth(n=200, seed=4)
    met["wind_speed"] = met["wind_speed"] * 0.0 + 0.2
    met["mixing_height"] = ("time", np.where(np.arange(200) % 2, 600.0, np.nan))
    table = tm.met_classes(met)
    assert float(table["calm_fraction"].item()) == 1.0
    low = table.isel(year=0, speed=0)
    np.testing.assert_allclose(low["frequency"].sum(), 1.0)
    np.testing.assert_allclose(low["inverse_wind_speed"], 1.0 / tm.CALM_THRESHOLD)  # u = threshold
    # mean over the calms of the class: observed 600 m, else the default (inf for E, F: left out)
    stab = met["stability"].values
    zi = np.where(np.arange(200) % 2, 600.0, tm.default_mixing_height(stab))
    want = [np.mean(zi[(stab == c) & np.isfinite(zi)]) for c in "ABCDEF"]
    np.testing.assert_allclose(low["mixing_height"], np.broadcast_to(want, (36, 6)), rtol=1e-12)
    assert float(table["frequency"].isel(year=0, speed=slice(1, None)).sum()) == 0.0


def test_met_classes_leap_years_and_warning_points_at_the_caller():
    met = xr.concat([synth(n=48, start="1900-03-01"), synth(n=48, start="2000-03-01")], "time")
    met["wind_speed"][0] = np.nan
    with pytest.warns(TrajectoireWarning, match="1 hour") as caught:
        table = tm.met_classes(met)
    assert caught[0].filename == __file__
    assert table["missing_hours"].values.tolist() == [8760.0 - 47, 8784.0 - 48]


# ------------------------------------------------------------------ directions: reporting resolution
def reported(n_per_direction=3, step=10.0, stability="D", speed=4.0, start="2021-01-01"):
    """Every direction of a `step`-degree report grid, `n_per_direction` hours each."""
    d = np.repeat(np.arange(0.0, 360.0, step), n_per_direction)
    return xr.Dataset(
        {
            "wind_speed": ("time", np.full(d.size, speed)),
            "wind_direction": ("time", d),
            "stability": ("time", np.full(d.size, stability)),
        },
        coords={"time": pd.date_range(start, periods=d.size, freq="h")},
    )


def sector_frequency(table):
    return table["frequency"].isel(year=0).sum(("speed", "stability")).values


def test_detect_direction_resolution():
    assert tm.detect_direction_resolution([350.0, 0.0, 10.0, np.nan]) == 10.0
    assert tm.detect_direction_resolution([355.0, 5.0, 10.0]) == 5.0
    assert tm.detect_direction_resolution([1.0, 2.0, 359.0]) == 1.0
    assert tm.detect_direction_resolution([12.3, 270.0]) == 0.0
    assert tm.detect_direction_resolution([np.nan]) == 0.0


def test_met_classes_ten_degree_reports_weighted_by_sector_width():
    """16 sectors of 22.5° hold 3 or 2 of the 10° reports: shares by overlap remove the bias."""
    met = reported()
    old = sector_frequency(tm.met_classes(met, n_directions=16, direction_resolution=0))
    # the bias of issue 14: N holds 350, 0, 10 (3 reports), NNE 20, 30 (2)
    assert old[0] == pytest.approx(3 / 36) and old[1] == pytest.approx(2 / 36)
    table = tm.met_classes(met, n_directions=16)
    assert table.attrs["direction_resolution"] == 10.0
    assert float(table["frequency"].sum()) == pytest.approx(1.0, rel=1e-14)
    np.testing.assert_allclose(sector_frequency(table), 1 / 16, rtol=1e-12)
    # one 10° report shared by overlap: 0 -> N only; 10 -> [5, 15] is 6.25/10 in N
    one = tm.met_classes(met.isel(time=[3]), n_directions=16)  # the hour reported at 10
    np.testing.assert_allclose(sector_frequency(one)[:2], [0.625, 0.375], rtol=1e-12)
    # 36 sectors of 10°: each report wholly in its own sector, with or without shares
    np.testing.assert_array_equal(
        tm.met_classes(met)["frequency"].values,
        tm.met_classes(met, direction_resolution=0)["frequency"].values,
    )
    np.testing.assert_allclose(sector_frequency(tm.met_classes(met)), 1 / 36, rtol=1e-12)


@pytest.mark.parametrize("n_directions", [8, 12, 16, 36, 72])
def test_met_classes_uniform_year_gives_equal_sectors(n_directions):
    step = 360.0 / 8640  # 8640 hours evenly around the circle: no sector is favoured
    met = reported(n_per_direction=1, step=step)
    exact = tm.met_classes(met, n_directions=n_directions)
    assert exact.attrs["direction_resolution"] == 0.0
    np.testing.assert_allclose(sector_frequency(exact), 1 / n_directions, rtol=1e-12)
    tens = tm.met_classes(reported(n_per_direction=24), n_directions=n_directions)
    np.testing.assert_allclose(sector_frequency(tens), 1 / n_directions, rtol=1e-12)
    np.testing.assert_allclose(tens["frequency"].sum(), 1.0, rtol=1e-14)


def test_met_classes_resolution_0_and_16_sectors_reproduce_the_old_table():
    """Rounded reports, calms and all: the hand binning of the 16-sector table (before 0.2)."""
    met = synth(n=3000, seed=7)
    met["wind_direction"] = ("time", np.round(met["wind_direction"].values / 10.0) * 10 % 360)
    table = tm.met_classes(met, n_directions=16, direction_resolution=0, calm_threshold=1.0)
    got = table["frequency"].isel(year=0, speed=0).values
    np.testing.assert_allclose(got, spread_by_hand(met), rtol=1e-12, atol=0)
    u, stab = met["wind_speed"].values, met["stability"].values
    d = np.floor(((met["wind_direction"].values + 11.25) % 360) / 22.5).astype(int) % 16
    sel = (d == 5) & (u >= 3.09) & (u < 5.14) & (stab == "C")
    cell = table.isel(year=0, direction=5, speed=2).sel(stability="C")
    assert float(cell["frequency"]) == sel.sum() / u.size
    assert float(cell["inverse_wind_speed"]) == pytest.approx(np.mean(1 / u[sel]), rel=1e-12)


def test_met_classes_shares_weight_the_class_means():
    """1/u and mixing height of a sector: means over its hours weighted by their shares."""
    met = reported(n_per_direction=1).isel(time=[0, 1])  # reports at 0 and 10
    met["wind_speed"] = ("time", [2.0, 2.5])  # one speed class
    met["mixing_height"] = ("time", [400.0, 900.0])
    table = tm.met_classes(met, n_directions=16).isel(year=0, direction=0, speed=1)
    w = np.array([1.0, 0.625])  # shares of sector N
    d = table.sel(stability="D")
    assert float(d["frequency"]) == pytest.approx(w.sum() / 2, rel=1e-12)
    assert float(d["inverse_wind_speed"]) == pytest.approx((w @ [1 / 2, 1 / 2.5]) / w.sum())
    assert float(d["mixing_height"]) == pytest.approx((w @ [400.0, 900.0]) / w.sum())


def test_met_classes_bad_direction_resolution():
    met = synth(n=50)
    for bad in ("fine", -1.0, 360.0, np.nan):
        with pytest.raises(InputError, match="direction_resolution"):
            tm.met_classes(met, direction_resolution=bad)


@given(
    n_directions=st.sampled_from([4, 8, 16, 36]),
    resolution=st.sampled_from([0.0, 10.0, 22.5]),
    turns=st.integers(-40, 40),
    seed=st.integers(0, 2**16),
)
def test_met_classes_rotation_by_whole_sectors_rotates_the_table(
    n_directions, resolution, turns, seed
):
    met = synth(n=300, seed=seed)
    if resolution:
        met["wind_direction"] = ("time", np.round(met["wind_direction"].values / 10) * 10 % 360)
    width = 360.0 / n_directions
    turned = met.copy()
    turned["wind_direction"] = (met["wind_direction"] + turns * width) % 360.0
    a = tm.met_classes(met, n_directions=n_directions, direction_resolution=resolution)
    b = tm.met_classes(turned, n_directions=n_directions, direction_resolution=resolution)
    for name in ("frequency", "inverse_wind_speed", "mixing_height"):
        want = a[name].roll(direction=turns).values
        np.testing.assert_allclose(b[name].values, want, rtol=1e-9, atol=1e-15)


# ------------------------------------------------------------------ years of a run
def test_select_years_returns_the_asked_years():
    table = tm.met_classes(synth(n=24 * 40, start="2020-12-11"))
    got = tm.select_years(table, [2021])
    assert got["year"].values.tolist() == [2021]
    xr.testing.assert_identical(got, table.sel(year=[2021]))
    assert "year" not in tm.select_years(table, 2020)["frequency"].dims
    assert tm.select_years(table, np.array([2020, 2021])).sizes["year"] == 2


def test_select_years_names_the_missing_years_and_the_fix():
    table = tm.met_classes(synth(n=24 * 40, start="2020-12-11"))
    with pytest.raises(InputError) as err:
        tm.select_years(table, [2019, 2020, 2021, 2022], what="data/meteo.csv.gz")
    msg = str(err.value)
    assert msg.startswith("data/meteo.csv.gz: no meteorology for years [2019, 2022]")
    assert "it holds 2020..2021" in msg and "the run asks 2019..2022" in msg
    assert "Add those years" in msg and "[run] first_year/last_year" in msg
    with pytest.raises(InputError, match=r"meteorology: .*\[2023\] \(it holds 2020..2021\)"):
        tm.select_years(table, 2023)
    with pytest.raises(MissingVariableError, match="year"):
        tm.select_years(table.isel(year=0, drop=True), [2020])
