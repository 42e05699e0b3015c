"""Hourly observations: instants parsed to UTC, and annual means with the data-capture rule.

docs/evaluation.md told users to read ``observations_hourly.csv`` with
``observations_from_table`` (and the pipeline's log sends them there for hourly values), but
the call failed (no ``year`` column), and with ``time="time"`` the times stayed text, sorted
as strings: ``...T00:00:00Z`` and ``...T01:00:00+01:00``, one instant, were two times
(probe 18, F3). The times are now instants in UTC, and ``annual_means`` turns hourly values
into annual means with the 90 % data capture of Directive 2008/50/EC (Annex XI section A,
Annex I section A), counted over every hour of the calendar year (8760, 8784).
"""

from __future__ import annotations

import calendar
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from trajectoire import InputError
from trajectoire.assess.stations import observations_from_table
from trajectoire.tables import read_table

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample" / "observations_hourly.csv"


def annual_means(*args, **kwargs):
    """The function under test, imported at call time (so the tests of
    observations_from_table run, and fail one by one, against a version without it)."""
    from trajectoire.assess.stations import annual_means as function

    return function(*args, **kwargs)


def table(times, values=None, stations="S1"):
    n = len(times)
    return pd.DataFrame(
        {
            "station_id": stations if isinstance(stations, list) else [stations] * n,
            "time": times,
            "pollutant": "NO2",
            "value": values if values is not None else np.arange(1.0, n + 1),
        }
    )


def hourly(year, values, stations=("S1",), **attrs):
    """A (time, station) DataArray over every hour of `year`."""
    times = pd.date_range(f"{year}-01-01", f"{year}-12-31T23:00", freq="h")
    data = np.asarray(values, dtype=float).reshape(times.size, len(stations))
    return xr.DataArray(
        data,
        dims=("time", "station"),
        coords={"time": times, "station": list(stations)},
        attrs={"units": "ug m-3", **attrs},
        name="observed",
    )


def one_line(info) -> str:
    message = str(info.value)
    assert "\n" not in message
    return message


# ---------------------------------------------------------------- instants, parsed to UTC
def test_offsets_are_honoured_and_times_stored_as_naive_utc():
    t = table(
        [
            "2023-01-01T00:00:00Z",
            "2023-01-01T02:00:00+01:00",  # 01:00 UTC, local winter time with its offset
            "2023-01-01T00:00:00-02:00",  # 02:00 UTC
            "2023-01-01T03:00:00+00:00",
        ]
    )
    o = observations_from_table(t, pollutant="NO2", time="time")
    assert o.dims == ("time", "station")
    assert o["time"].dtype == np.dtype("datetime64[ns]")
    expected = pd.date_range("2023-01-01T00:00", periods=4, freq="h").to_numpy("datetime64[ns]")
    np.testing.assert_array_equal(o["time"].values, expected)
    assert o.sel(station="S1").values.tolist() == [1.0, 2.0, 3.0, 4.0]
    assert o["time"].attrs["timezone"] == "UTC"
    assert o.attrs["units"] == "ug m-3"


def test_times_without_a_zone_are_taken_as_utc():
    o = observations_from_table(table(["2023-06-01T12:00:00", "2023-06-01 13:00"]), time="time")
    np.testing.assert_array_equal(
        o["time"].values,
        np.array(["2023-06-01T12:00", "2023-06-01T13:00"], dtype="datetime64[ns]"),
    )


def test_times_already_parsed_are_accepted_and_converted():
    aware = pd.to_datetime(["2023-01-01T01:00", "2023-07-01T02:00"]).tz_localize("Europe/Paris")
    o = observations_from_table(table(list(aware)), time="time")
    np.testing.assert_array_equal(
        o["time"].values, np.array(["2023-01-01T00:00", "2023-07-01T00:00"], "datetime64[ns]")
    )
    naive = observations_from_table(table(pd.to_datetime(["2023-01-01T05:00"])), time="time")
    assert naive["time"].values[0] == np.datetime64("2023-01-01T05:00", "ns")


def test_times_are_sorted_chronologically_not_as_text():
    # as text: 18Z < 20Z < "2023-01-02T00+05"; as instants: 18Z, 19Z (the +05:00 one), 20Z
    t = table(
        ["2023-01-01T20:00:00Z", "2023-01-02T00:00:00+05:00", "2023-01-01T18:00:00Z"],
        values=[20.0, 19.0, 18.0],
    )
    o = observations_from_table(t, time="time")
    assert o.values.ravel().tolist() == [18.0, 19.0, 20.0]
    assert (np.diff(o["time"].values) == np.timedelta64(1, "h")).all()


@pytest.mark.parametrize(
    "second", ["2023-01-01T00:00:00+00:00", "2023-01-01T01:00:00+01:00", "2022-12-31T19:00-05:00"]
)
def test_one_instant_spelled_twice_is_a_duplicate_named(second):
    t = table(["2023-01-01T00:00:00Z", second, "2023-01-01T00:00:00Z"], stations=["S1", "S1", "S2"])
    with pytest.raises(InputError) as info:
        observations_from_table(t, time="time", what="obs.csv")
    message = one_line(info)
    assert message.startswith("obs.csv: 1 (station_id, time) pair(s) on several rows")
    assert "station 'S1' at 2023-01-01T00:00:00Z" in message
    assert "row 0 ('2023-01-01T00:00:00Z')" in message and f"row 1 ({second!r})" in message
    assert "'S2'" not in message  # S2 at the same instant is another station
    assert "UTC" in message


def test_duplicate_names_file_lines_with_lines():
    text = (
        "station_id,time,pollutant,value\n"
        "FR1,2023-03-01T10:00:00Z,NO2,10\n"
        "FR1,2023-03-01T11:00:00Z,NO2,11\n"
        "FR1,2023-03-01T11:00:00+01:00,NO2,12\n"
    )
    t = read_table(io.StringIO(text), what="obs.csv", dtype={"station_id": str})
    with pytest.raises(InputError) as info:
        observations_from_table(t, time="time", what="obs.csv", lines=True)
    message = one_line(info)
    assert "line 2 ('2023-03-01T10:00:00Z'), line 4 ('2023-03-01T11:00:00+01:00')" in message


def test_local_times_repeated_at_the_autumn_clock_change_are_said_local():
    t = table(["2023-10-29T01:00", "2023-10-29T02:00", "2023-10-29T02:00", "2023-10-29T03:00"])
    with pytest.raises(InputError) as info:
        observations_from_table(t, time="time")
    message = one_line(info)
    assert "clocks" in message and "+01:00" in message


@pytest.mark.parametrize(
    ("bad", "shown"),
    [
        ("03/04/2023 10:00", "'03/04/2023 10:00'"),
        ("2023-02-30T00:00:00Z", "'2023-02-30T00:00:00Z'"),
        ("noon", "'noon'"),
        ("", "(empty)"),
    ],
)
def test_a_time_that_is_not_iso_8601_is_one_line_naming_file_line_column_and_text(bad, shown):
    text = (
        "station_id,time,pollutant,value\n"
        "FR1,2023-01-01T00:00:00Z,NO2,10\n"
        "FR1,2023-01-01T01:00:00Z,NO2,11\n"
        f"FR1,{bad},NO2,12\n"
    )
    t = read_table(io.StringIO(text), what="obs.csv", dtype={"station_id": str})
    with pytest.raises(InputError) as info:
        observations_from_table(t, time="time", what="obs.csv", lines=True)
    message = one_line(info)
    assert message.startswith("obs.csv, column 'time': 1 time(s) not read")
    assert f"{shown} at line 4" in message
    assert "ISO 8601, e.g. 2023-01-01T00:00:00Z" in message


def test_bad_times_are_named_by_row_label_without_lines():
    t = table(["2023-01-01T00:00Z", "x", "y"]).set_axis(["a", "b", "c"])
    with pytest.raises(InputError) as info:
        observations_from_table(t, time="time")
    message = one_line(info)
    assert "2 time(s) not read: 'x' at row 'b'; 'y' at row 'c'" in message


def test_numbers_in_a_time_column_are_refused_not_read_as_epochs():
    with pytest.raises(InputError) as info:
        observations_from_table(table([2023, 2024]), time="time")
    message = one_line(info)
    assert "numbers, not times" in message and "time='year'" in message


def test_times_with_and_without_a_zone_in_one_table_are_refused():
    with pytest.raises(InputError) as info:
        observations_from_table(
            table(["2023-01-01T00:00:00", "2023-01-01T02:00+01:00"]), time="time"
        )
    message = one_line(info)
    assert "without a zone" in message and "'2023-01-01T00:00:00' at row 0" in message


def test_the_year_path_is_unchanged():
    t = pd.DataFrame(
        {
            "station_id": ["a", "a", "b"],
            "year": [2020, 2019, 2020],
            "pollutant": "NO2",
            "value": [1.0, 2.0, 3.0],
        }
    )
    o = observations_from_table(t)
    assert o.dims == ("year", "station") and o["year"].values.tolist() == [2019, 2020]
    np.testing.assert_array_equal(o.values, [[2.0, np.nan], [1.0, 3.0]])
    assert "timezone" not in o["year"].attrs
    with pytest.raises(InputError) as info:
        observations_from_table(pd.concat([t, t.iloc[:1]], ignore_index=True))
    assert str(info.value) == (
        "observations: duplicated (station_id, year) rows 0, 3; keep one value per station and time."
    )


# ------------------------------------------------------------------------- annual means
def test_annual_means_equal_a_pandas_groupby_by_hand_with_capture():
    rng = np.random.default_rng(7)
    times = pd.date_range("2023-01-01", "2024-12-31T23:00", freq="h")
    rows = []
    for station, missing in (("S1", 0.02), ("S2", 0.3)):  # S2: 70 % capture
        keep = rng.random(times.size) > missing
        value = rng.lognormal(3, 0.5, times.size)
        value[rng.random(times.size) < 0.01] = np.nan  # some rows present, but empty
        rows.append(
            pd.DataFrame({"station_id": station, "time": times[keep], "value": value[keep]})
        )
    df = pd.concat(rows, ignore_index=True).assign(pollutant="NO2")
    df["time"] = df["time"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    got = annual_means(observations_from_table(df, time="time"))

    parsed = pd.to_datetime(df["time"], utc=True)
    hand = df.assign(year=parsed.dt.year).groupby(["year", "station_id"])["value"]
    mean, count = hand.mean(), hand.count()
    for (year, station), m in mean.items():
        hours = 8784 if calendar.isleap(year) else 8760
        capture = count[(year, station)] / hours
        cell = got.sel(year=year, station=station)
        assert float(cell["data_capture"]) == pytest.approx(capture, rel=1e-15)
        assert int(cell["valid_hours"]) == count[(year, station)]
        if capture >= 0.9:
            assert float(cell) == pytest.approx(m, rel=1e-12)
        else:
            assert np.isnan(float(cell))
    assert np.isfinite(got.sel(station="S1")).all() and np.isnan(got.sel(station="S2")).all()
    assert got["year"].values.tolist() == [2023, 2024]


@pytest.mark.parametrize(
    ("year", "valid", "counts"),
    [
        (2023, 7884, True),  # 0.9 x 8760 exactly
        (2023, 7883, False),  # one hour short
        (2024, 7906, True),  # leap year: 0.9 x 8784 = 7905.6, so 7906
        (2024, 7905, False),
    ],
)
def test_capture_threshold_at_its_edge(year, valid, counts):
    hours = 8784 if calendar.isleap(year) else 8760
    values = np.full(hours, 30.0)
    values[valid:] = np.nan
    values[0] = 60.0  # a mean other than the fill
    out = annual_means(hourly(year, values))
    cell = out.sel(year=year, station="S1")
    assert float(cell["data_capture"]) == valid / hours
    assert int(cell["valid_hours"]) == valid
    if counts:
        assert float(cell) == pytest.approx((60.0 + 30.0 * (valid - 1)) / valid, rel=1e-14)
    else:
        assert np.isnan(float(cell))


def test_absent_hours_count_as_missing_not_only_nan_ones():
    """The denominator is the hours of the year, not the rows given: a file that simply
    lacks 877 hours (7883 rows) is below 90 %."""
    full = hourly(2023, np.full(8760, 20.0))
    assert np.isnan(float(annual_means(full.isel(time=slice(877, None))).squeeze()))
    assert float(annual_means(full.isel(time=slice(876, None))).squeeze()) == 20.0


def test_leap_year_counts_8784_hours():
    out = annual_means(hourly(2024, np.full(8784, 10.0)))
    assert float(out["data_capture"].squeeze()) == 1.0
    assert int(out["valid_hours"].squeeze()) == 8784
    # 8760 valid hours are a full ordinary year, but 99.73 % of a leap year
    part = annual_means(hourly(2024, np.full(8784, 10.0)).isel(time=slice(24, None)))
    assert float(part["data_capture"].squeeze()) == 8760 / 8784


def test_min_capture_is_the_users_to_change():
    values = np.full(8760, 5.0)
    values[: int(8760 * 0.2)] = np.nan  # 80 % capture
    data = hourly(2023, values)
    assert np.isnan(float(annual_means(data).squeeze()))
    lower = annual_means(data, min_capture=0.75)
    assert float(lower.squeeze()) == 5.0 and lower.attrs["min_data_capture"] == 0.75
    assert annual_means(data).attrs["min_data_capture"] == 0.9


def test_default_is_the_directives_90_per_cent():
    from trajectoire.assess.stations import ANNUAL_MIN_CAPTURE

    assert ANNUAL_MIN_CAPTURE == 0.9


def test_stamp_end_puts_the_midnight_of_new_year_in_the_old_year():
    times = pd.date_range("2023-01-01T01:00", "2024-01-01T00:00", freq="h")  # hour ending
    data = xr.DataArray(
        np.full((times.size, 1), 7.0),
        dims=("time", "station"),
        coords={"time": times, "station": ["S1"]},
    )
    end = annual_means(data, stamp="end")
    assert end["year"].values.tolist() == [2023] and float(end.squeeze()) == 7.0
    start = annual_means(data)  # read as hour beginning: 8759 hours of 2023, 1 of 2024
    assert start["year"].values.tolist() == [2023, 2024]
    assert start["valid_hours"].values.ravel().tolist() == [8759, 1]


def test_attributes_and_other_dims_are_kept():
    times = pd.date_range("2023-01-01", "2023-12-31T23:00", freq="h")
    data = xr.DataArray(
        np.ones((times.size, 2, 2)),
        dims=("time", "station", "pollutant"),
        coords={"time": times, "station": ["a", "b"], "pollutant": ["NO2", "PM10"]},
        attrs={"units": "ug m-3", "long_name": "observed concentration", "pollutant": "NO2"},
        name="observed",
    )
    out = annual_means(data)
    assert out.dims == ("year", "station", "pollutant") and out.name == "observed"
    assert out.attrs["units"] == "ug m-3" and out.attrs["pollutant"] == "NO2"
    assert out.attrs["long_name"] == "annual mean of observed concentration"
    assert out["data_capture"].dims == ("year", "station", "pollutant")
    assert out["data_capture"].attrs["units"] == "1"


@pytest.mark.parametrize(
    ("call", "needle"),
    [
        (lambda d: annual_means(d.values), "got ndarray"),
        (lambda d: annual_means(d.to_dataset()), "xarray.Dataset"),
        (lambda d: annual_means(d.rename(time="year")), "already annual"),
        (
            lambda d: annual_means(d.assign_coords(time=d["time"].dt.strftime("%Y-%m-%dT%H:%MZ"))),
            "not datetime64",
        ),
        (lambda d: annual_means(d, min_capture=90), "min_capture=0.9 for 90 %"),
        (lambda d: annual_means(d, min_capture=0), "fraction in (0, 1]"),
        (lambda d: annual_means(d, min_capture="0.9"), "fraction in (0, 1]"),
        (lambda d: annual_means(d, min_capture=float("nan")), "fraction in (0, 1]"),
        (lambda d: annual_means(d, stamp="middle"), "stamp='middle'"),
        (lambda d: annual_means(xr.concat([d, d.isel(time=[0])], "time")), "more than once"),
        (
            lambda d: annual_means(d.assign_coords(time=d["time"] + np.timedelta64(30, "m"))),
            "not on the hour",
        ),
        (lambda d: annual_means(d.isel(time=slice(None, None, 24))), "not hourly"),
    ],
)
def test_annual_means_mistakes_are_one_clear_line(call, needle):
    data = hourly(2023, np.full(8760, 1.0))
    with pytest.raises(InputError) as info:
        call(data)
    message = one_line(info)
    assert message.startswith("annual_means:") and needle in message


@settings(max_examples=40, deadline=None)
@given(
    year=st.integers(1996, 2031),
    missing=st.integers(0, 3000),
    min_capture=st.floats(0.05, 1.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_annual_mean_is_the_mean_of_the_valid_hours_when_capture_is_met(
    year, missing, min_capture, seed
):
    rng = np.random.default_rng(seed)
    hours = 8784 if calendar.isleap(year) else 8760
    values = rng.gamma(2.0, 15.0, hours)
    values[rng.choice(hours, size=min(missing, hours), replace=False)] = np.nan
    out = annual_means(hourly(year, values), min_capture=min_capture)
    valid = int(np.isfinite(values).sum())
    capture = valid / hours
    assert float(out["data_capture"].squeeze()) == pytest.approx(capture, rel=1e-15)
    got = float(out.squeeze())
    if capture >= min_capture * (1 + 1e-12):
        assert got == pytest.approx(np.nanmean(values), rel=1e-12)
    elif capture < min_capture * (1 - 1e-12):
        assert np.isnan(got)


# ------------------------------------------------------------------- the sample, end to end
def test_sample_hourly_file_end_to_end():
    t = pd.read_csv(SAMPLE, dtype={"station_id": str})
    obs = observations_from_table(t, pollutant="NO2", time="time")
    assert obs.dims == ("time", "station") and obs.sizes["time"] == 8760
    assert obs["time"].values[0] == np.datetime64("2023-01-01T00:00", "ns")
    assert obs["time"].values[-1] == np.datetime64("2023-12-31T23:00", "ns")
    annual = annual_means(obs)
    assert annual.dims == ("year", "station") and annual["year"].values.tolist() == [2023]
    no2 = t[t["pollutant"] == "NO2"].groupby("station_id")["value"]
    hand_mean, hand_count = no2.mean(), no2.count()
    for station in annual["station"].values:
        cell = annual.sel(year=2023, station=station)
        assert float(cell) == pytest.approx(hand_mean[station], rel=1e-12)
        assert float(cell["data_capture"]) == pytest.approx(hand_count[station] / 8760, rel=1e-15)
        assert 0.97 < float(cell["data_capture"]) < 0.99

    # the documented route into the evaluation: annual means against the run's station values
    from trajectoire.assess import evaluate, mqi

    stations = [*annual["station"].values.tolist(), "ABSENT"]
    model = xr.DataArray(
        [[20.0, 15.0, 30.0, 22.0, 10.0]],
        dims=("year", "station"),
        coords={"year": [2023], "station": stations},
        attrs={"units": "ug m-3"},
    )
    observed = annual.reindex(year=model["year"], station=model["station"])
    stats = evaluate(model, observed, dim="station")
    assert int(stats["n"].squeeze()) == 4 and int(stats["n_dropped_nan"].squeeze()) == 1
    assert float(stats["mean_observed"].squeeze()) == pytest.approx(hand_mean.mean(), rel=1e-12)
    q = mqi(model, observed, pollutant="NO2", kind="annual")
    assert int(np.isfinite(q["mqi"]).sum()) == 4
