"""Ordinary mistakes in the emission trends and the meteorology files: one clear line each.

A companion of ``test_bad_inputs.py`` (whose helpers it borrows) for the readers of
``[inputs] trends`` (``trajectoire.trajectory.trends``, ``...eurostat``) and ``[inputs]
meteo`` (``trajectoire.meteo.readers``, ``...sources``): each case writes one mistake a user
makes with a real file, and checks the one line (or warning) that names the file, the line
or hour, the value, what was expected and the key that fixes it. The Eurostat cases edit a
copy of the real extract ``shared/data/emission_trends/france_trends.csv`` under tmp_path
(skipped where it is absent); the meteorology cases write the real layouts themselves.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from test_bad_inputs import SAMPLE, _error_line, _meteo, _mini
from test_meteo_sources import HOURS, KEY, write_isd, write_mf
from trajectoire.cli import main
from trajectoire.errors import InputError, MissingVariableError, TrajectoireWarning, UnitsError
from trajectoire.meteo.readers import read_hourly
from trajectoire.meteo.sources import read_era5, read_meteo, read_meteo_france
from trajectoire.trajectory.eurostat import read_eurostat_air_emissions
from trajectoire.trajectory.trends import read_trends, series_of, validate_trends

TRENDS_KEY = "[inputs.trends]"
V2016 = "EUROSTAT_ENV_AIR_EMIS_SNAP2016"


# ------------------------------------------------------------------ Eurostat extract
@pytest.fixture
def extract(shared_data: Path) -> pd.DataFrame:
    """The real Eurostat extract as text, every cell as written."""
    path = shared_data / "emission_trends" / "france_trends.csv"
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _road_nox(table: pd.DataFrame, year: str = "2000") -> pd.Series:
    """The row of road transport NOx in `year` of the 2016 vintage."""
    return (
        (table["source_id"] == V2016)
        & (table["pollutant"] == "NOX")
        & (table["sector_code"] == "SE1_RD")
        & (table["year"] == year)
    )


def _read(table: pd.DataFrame, tmp_path: Path, **options: object) -> pd.DataFrame:
    path = tmp_path / "france_trends.csv"
    table.to_csv(path, index=False)
    return read_eurostat_air_emissions(path, vintage=V2016, config_key=TRENDS_KEY, **options)


@pytest.mark.parametrize("year", ["00", "3000"])
def test_eurostat_year_typo_is_named_with_its_line(extract, tmp_path, year):
    """A year written ``00`` (or ``3000``) used to be read as year 0: the series then had a
    gap of 1990 years, listed year by year, far from the file."""
    row = _road_nox(extract)
    line = int(np.flatnonzero(row.to_numpy())[0]) + 2
    extract.loc[row, "year"] = year
    with pytest.raises(InputError) as err:
        _read(extract, tmp_path)
    msg = str(err.value)
    for part in (f"france_trends.csv, line {line}, column 'year'", repr(year), "1900 to 2100"):
        assert part in msg, (part, msg)
    assert TRENDS_KEY in msg and "\n" not in msg


def test_eurostat_tsv_year_column_out_of_range(tmp_path):
    """The bulk TSV's header names its years: ``0200`` is not one (read before as year 200)."""
    tsv = tmp_path / "env_air_emis.tsv"
    tsv.write_text("unit,airpol,src_nfr,geo\\time\t2001 \t0200 \nTHS_T,NOX,NFR1A1A,FR\t2.5\t3\n")
    with pytest.raises(InputError, match=r"env_air_emis.tsv, line 1: column\(s\) \['0200'\]"):
        read_eurostat_air_emissions(tsv, config_key=TRENDS_KEY)


def test_eurostat_negative_value_is_named_with_its_line(extract, tmp_path):
    """A negative total used to be refused after the GNFR aggregation, without its line,
    its code or the key of the file."""
    row = _road_nox(extract)
    line = int(np.flatnonzero(row.to_numpy())[0]) + 2
    extract.loc[row, "value"] = "-512"
    with pytest.raises(InputError) as err:
        _read(extract, tmp_path)
    msg = str(err.value)
    assert msg.startswith("france_trends.csv, column 'value': 1 negative emission total(s)")
    assert f"'-512' (NOX SE1_RD 2000) at line {line}" in msg and TRENDS_KEY in msg


def test_eurostat_pollutant_kept_in_thousand_tonnes_is_converted(extract, tmp_path):
    """One pollutant's rows in THS_T, the others in ``t`` (the extract's spelling of T):
    each figure is read in its own unit, converted to tonnes; before, a misleading error
    ("several units for the same series") whose fix (``unit``) dropped the other
    pollutants."""
    expected = _read(extract.copy(), tmp_path)
    nox = (extract["source_id"] == V2016) & (extract["pollutant"] == "NOX")
    kt = pd.to_numeric(extract.loc[nox, "value"]) / 1000
    extract.loc[nox, "value"] = [repr(float(v)) for v in kt]
    extract.loc[nox, "unit"] = "THS_T"
    got = _read(extract, tmp_path)
    assert got.attrs["pairs"] == expected.attrs["pairs"]
    pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-12)


def test_eurostat_repeated_figures_in_both_units_still_read_in_tonnes(tmp_path):
    """The bulk download repeats each figure in T and THS_T: the T rows are read, as
    before, and a figure given in THS_T only is converted."""
    tsv = tmp_path / "env_air_emis.tsv"
    tsv.write_text(
        "unit,airpol,src_nfr,geo\\time\t2001 \t2000 \n"
        "T,NOX,NFR1A1A,FR\t2500\t3000\n"
        "THS_T,NOX,NFR1A1A,FR\t2.4\t2.9\n"  # rounded: must not be read
        "THS_T,NH3,NFR1A1A,FR\t0.5\t0.25\n"
    )
    t = read_eurostat_air_emissions(tsv)
    assert t.loc[t["pollutant"] == "NOx", "value"].tolist() == [3000.0, 2500.0]
    assert t.loc[t["pollutant"] == "NH3", "value"].tolist() == [250.0, 500.0]


# ------------------------------------------------------------------ tidy trends.csv
def _trends(tmp_path: Path, row: int, column: str, value: str) -> Path:
    table = pd.read_csv(SAMPLE / "trends.csv", dtype=str, keep_default_na=False)
    table.loc[row, column] = value
    path = tmp_path / "trends.csv"
    table.to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("value", "problem"),
    [("19", "a year outside the series' span"), ("2019Q1", "not a whole number")],
)
def test_trends_csv_year_typo_is_named_with_its_line(tmp_path, value, problem):
    """``19`` for 2019 used to be read as year 19; ``2019Q1`` was refused without its line."""
    path = _trends(tmp_path, 3, "year", value)
    with pytest.raises(InputError) as err:
        read_trends(path)
    msg = str(err.value)
    assert msg.startswith("trends.csv, column 'year': 1 row(s) with ")
    for part in (problem, f"(line 5; first: {value!r})", "[inputs] trends"):
        assert part in msg, (part, msg)


def test_trends_csv_empty_sector_is_named_with_its_line(tmp_path):
    """An empty sector cell was "unknown sector nan", without its line."""
    path = _trends(tmp_path, 3, "sector", "")
    with pytest.raises(InputError, match=r"column 'sector': 1 row\(s\) with an empty sector "):
        read_trends(path)
    with pytest.raises(InputError, match=r"\(line 5; first: an empty cell\).*\[inputs\] trends"):
        read_trends(path)


def test_a_gap_of_centuries_is_said_in_ranges():
    """A table built in memory with a year 19: the gap is said as runs of years, not as a
    list of 1970 years in one line."""
    table = validate_trends(
        pd.DataFrame({"sector": "F", "pollutant": "NOx", "year": [19, 1990, 1991], "value": 1.0})
    )
    with pytest.raises(InputError) as err:
        series_of(table, "F_RoadTransport", "NOx")
    msg = str(err.value)
    assert "year(s) [20..1989] missing between 19 and 1991" in msg and len(msg) < 400


@pytest.mark.filterwarnings("ignore::trajectoire.errors.TrajectoireWarning")  # small grid
def test_the_run_says_a_trend_year_typo_in_one_line(tmp_path, capsys):
    """Through the command: one line naming the file, the line, the year and the key."""
    cfg = _mini(tmp_path / "in")
    (tmp_path / "in" / "trends.csv").unlink()
    _trends(tmp_path / "in", 3, "year", "19")
    argv = ["run", str(cfg), "--out", str(tmp_path / "o.nc"), "-q", "--years", "2018:2018"]
    assert main(argv) == 2
    line = _error_line(capsys)
    for part in ("trends.csv, column 'year'", "line 5", "'19'", "[inputs] trends"):
        assert part in line, (part, line)


# ------------------------------------------------------------------ hourly CSV
def _year_2018() -> pd.DataFrame:
    table = pd.read_csv(SAMPLE / "meteo.csv.gz")
    return table[table["time"].str.startswith("2018-")].reset_index(drop=True)


def _local_times(table: pd.DataFrame) -> pd.DataFrame:
    """The times as a French logger writes them: local (CET/CEST), without a zone."""
    utc = pd.to_datetime(table["time"], utc=True)
    return table.assign(time=utc.dt.tz_convert("Europe/Paris").dt.strftime("%Y-%m-%dT%H:%M"))


def test_hourly_csv_in_local_time_is_said_local(tmp_path):
    """The autumn clock change repeats 02:00: it was "duplicated hours 2018-10-28
    02:00:00. Keep one row per hour.", without the lines nor the cause."""
    path = tmp_path / "meteo.csv"
    _local_times(_year_2018()).to_csv(path, index=False)
    with pytest.raises(InputError) as err:
        read_hourly(path)
    msg = str(err.value)
    assert (
        "1 duplicated hour(s) (on several rows): 2018-10-28T02:00Z at line 7202, line 7203" in msg
    )
    assert "look local (CET/CEST), and must be UTC" in msg


def test_hourly_csv_repeated_hour_names_its_lines(tmp_path):
    table = _year_2018()
    path = tmp_path / "meteo.csv"
    pd.concat([table.iloc[:10], table.iloc[[9]], table.iloc[10:]]).to_csv(path, index=False)
    with pytest.raises(InputError) as err:
        read_hourly(path)
    msg = str(err.value)
    assert "2018-01-01T09:00Z at line 11, line 12" in msg and "a block pasted twice" in msg


@pytest.mark.filterwarnings("ignore::trajectoire.errors.TrajectoireWarning")  # small grid
def test_the_run_says_local_times_in_one_line(tmp_path, capsys):
    cfg = _mini(tmp_path / "in")
    _meteo(tmp_path / "in", _local_times)
    argv = ["run", str(cfg), "--out", str(tmp_path / "o.nc"), "-q", "--years", "2018:2018"]
    assert main(argv) == 2
    line = _error_line(capsys)
    for part in (
        "meteo.csv.gz",
        "34 duplicated hour(s) (on several rows)",
        "CET/CEST",
        "[inputs] meteo",
    ):
        assert part in line, (part, line)


def test_hourly_cloud_cover_in_percent_says_okta(tmp_path):
    table = _year_2018()
    path = tmp_path / "meteo.csv"
    table.assign(cloud_cover=table["cloud_cover"] * 12.5).to_csv(path, index=False)
    with pytest.raises(InputError, match=r"cloud_cover: .* outside \[0, 8\].*divide a percent"):
        read_hourly(path)


@pytest.mark.parametrize("damage", ["empty", "truncated"])
def test_hourly_netcdf_unreadable_is_one_line(tmp_path, damage):
    """An empty or truncated NetCDF file given to read_hourly was xarray's own error (a
    ValueError about its IO backends, or an HDF OSError) with a traceback."""
    path = tmp_path / "meteo.nc"
    if damage == "empty":
        path.write_bytes(b"")
    else:
        hours = pd.date_range("2021-01-01", periods=48, freq="h")
        xr.Dataset(
            {name: ("time", np.full(48, 3.0)) for name in ("wind_speed", "wind_direction")},
            coords={"time": hours},
        ).to_netcdf(path)
        raw = path.read_bytes()
        path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(InputError, match=r"meteo.nc: not a readable NetCDF file"):
        read_meteo(path, format="trajectoire", config_key=KEY)


@pytest.mark.parametrize("source", ["meteo-france", "isd-lite"])
def test_a_source_file_given_as_the_library_csv_names_its_format(tmp_path, source):
    """A Météo-France or ISD-Lite file read with the default format: the message listed
    the 200 columns of the Météo-France file (or an ISD-Lite record taken for a header),
    without the format to set."""
    if source == "meteo-france":
        path = write_mf(tmp_path / "H_59_2021.csv", stations=("59343001",))
    else:
        path = write_isd(tmp_path / "070150-99999-2021.gz")
    with pytest.raises(MissingVariableError) as err:
        read_meteo(path, format="trajectoire", config_key=KEY)
    msg = str(err.value)
    assert f"[inputs.meteo] format = '{source}'" in msg and len(msg) < 500


# ------------------------------------------------------------------ Météo-France
def test_meteo_france_overlapping_files_name_both_files(tmp_path):
    """The ``previous`` and ``latest`` files of a département sharing hours: each hour is
    named with the file and line of its two rows."""
    write_mf(tmp_path / "H_59_previous.csv", stations=("59343001",))
    write_mf(tmp_path / "H_59_latest.csv", hours=HOURS[60:], stations=("59343001",))
    with pytest.raises(InputError) as err, pytest.warns(TrajectoireWarning):
        read_meteo_france(tmp_path, config_key=KEY)
    msg = str(err.value)
    assert "10 duplicated hour(s) (on several rows)" in msg
    assert "2021-01-03T12:00Z at H_59_latest.csv line 2, H_59_previous.csv line 59" in msg
    assert "files whose periods overlap" in msg and KEY in msg


def test_meteo_france_station_far_from_the_site_is_warned(tmp_path):
    """A file of another station (Ajaccio's position, 1056 km from Lille): its position was
    used silently (an INFO log line)."""
    path = write_mf(tmp_path / "H_20_2021.csv", stations=("59343001",))
    path.write_text(
        path.read_text().replace("50.570000", "41.918000").replace("3.097500", "8.792667")
    )
    with pytest.warns(TrajectoireWarning) as caught:
        ds = read_meteo_france(path, config_key=KEY, latitude=50.57, longitude=3.10)
    said = [str(w.message) for w in caught if " km from the site" in str(w.message)]
    assert len(said) == 1, [str(w.message) for w in caught]
    assert "the station lies at (41.9180, 8.7927), 1056 km from the site given" in said[0]
    assert f'set {KEY} station = "<NUM_POSTE>"' in said[0] and "[meteo] latitude" in said[0]
    assert ds.attrs["latitude"] == pytest.approx(41.918)


# ------------------------------------------------------------------ ERA5
def _era5(tmp_path: Path, **variables: tuple[str, np.ndarray, dict[str, str]]) -> Path:
    hours = pd.date_range("2021-01-01", periods=48, freq="h")
    lat, lon = np.array([50.75, 50.5]), np.array([3.0, 3.25])
    dims = ("valid_time", "latitude", "longitude")
    data = {
        name: (dims, np.broadcast_to(values[:, None, None], (48, 2, 2)).copy(), attrs)
        for name, (_, values, attrs) in variables.items()
    }
    path = tmp_path / "era5.nc"
    xr.Dataset(data, coords={"valid_time": hours, "latitude": lat, "longitude": lon}).to_netcdf(
        path
    )
    return path


def _era5_fields(t2m: np.ndarray) -> dict[str, tuple[str, np.ndarray, dict[str, str]]]:
    return {
        "u10": ("", np.full(48, -3.0), {"units": "m s**-1"}),
        "v10": ("", np.full(48, -4.0), {"units": "m s**-1"}),
        "t2m": ("", t2m, {"units": "K"}),
        "tcc": ("", np.full(48, 0.5), {"units": "(0 - 1)"}),
    }


def test_era5_with_none_of_its_variables_names_them(tmp_path):
    """Every variable renamed (``VAR_2T``...): it was "the files cannot be merged (Could not
    find any dimension coordinates...)" for two files, "found []" for one."""
    fields = {f"VAR_{k}": v for k, v in _era5_fields(np.full(48, 280.0)).items()}
    path = _era5(tmp_path, **fields)
    with pytest.raises(MissingVariableError) as err:
        read_era5(path, latitude=50.6, longitude=3.1, config_key=KEY)
    msg = str(err.value)
    assert "none of the ERA5 variables ['u10', 'v10', 't2m', 'tcc'" in msg
    assert "the file has VAR_t2m, VAR_tcc, VAR_u10, VAR_v10" in msg
    assert f'{KEY} columns.u10 = "<your variable>"' in msg


def test_era5_t2m_in_degc_said_kelvin_gives_the_right_fix(tmp_path):
    """t2m in degC under ``units = "K"``: the fix was "pass temperature_units='degC'", a
    keyword read_era5 does not take."""
    path = _era5(tmp_path, **_era5_fields(np.full(48, 6.5)))
    with pytest.raises(UnitsError) as err:
        read_era5(path, latitude=50.6, longitude=3.1, config_key=KEY)
    msg = str(err.value)
    assert "variable 't2m': median 6.5 cannot be kelvin" in msg
    assert "its units attribute says 'K', but the values are degC" in msg
    assert "temperature_units" not in msg and KEY in msg
