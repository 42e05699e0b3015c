"""Tests of trajectoire.meteo.sources: Météo-France hourly CSV, NOAA ISD-Lite, ERA5 NetCDF.

Every test writes its own small file in the real layout of the source (tmp_path): no file
of ../shared/data is needed (none of these formats is there).
"""

from __future__ import annotations

import gzip
import inspect

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from trajectoire.errors import (
    ConfigError,
    InputError,
    MissingVariableError,
    TrajectoireWarning,
    UnitsError,
)
from trajectoire.meteo.classes import met_classes
from trajectoire.meteo.readers import read_hourly
from trajectoire.meteo.sources import (
    METEO_FORMATS,
    MetSite,
    read_era5,
    read_isd_lite,
    read_meteo,
    read_meteo_france,
)
from trajectoire.meteo.stability import add_stability

KEY = "[inputs.meteo]"
T0 = pd.Timestamp("2021-01-01T00")
HOURS = pd.date_range(T0, periods=72, freq="h")  # three days
GAP = [10, 11, 12]  # 2021-01-01T10..T12 absent from the files

# ------------------------------------------------------------------ Météo-France
# The fields of H_descriptif_champs.csv, in file order; each is followed by its quality code
# Q<field> (the first six excepted), as in the real H_<dep>_<period>.csv.gz files.
MF_FIELDS = (
    "RR1 DRR1 FF DD FXY DXY HXY FXI DXI HXI FF2 DD2 FXI2 DXI2 HXI2 FXI3S DXI3S HFXI3S T TD "
    "TN HTN TX HTX DG T10 T20 T50 T100 TNSOL TN50 TCHAUSSEE DHUMEC U UN HUN UX HUX DHUMI40 "
    "DHUMI80 TSV PMER PSTAT PMERMIN GEOP N NBAS CL CM CH N1 C1 B1 N2 C2 B2 N3 C3 B3 N4 C4 B4 "
    "VV DVV200 WW W1 W2 SOL SOLNG TMER VVMER ETATMER DIRHOULE HVAGUE PVAGUE HNEIGEF NEIGETOT "
    "TSNEIGE TUBENEIGE HNEIGEFI3 HNEIGEFI1 ESNEIGE CHARGENEIGE GLO GLO2 DIR DIR2 DIF DIF2 UV "
    "UV2 UV_INDICE INFRAR INFRAR2 INS INS2 TLAGON TVEGETAUX ECOULEMENT"
).split()
MF_HEADER = ["NUM_POSTE", "NOM_USUEL", "LAT", "LON", "ALTI", "AAAAMMJJHH"] + [
    c for f in MF_FIELDS for c in (f, f"Q{f}")
]
STATIONS = {
    "59343001": ("LILLE-LESQUIN", "50.570000", "3.097500", "47"),
    "59183001": ("DUNKERQUE", "51.057667", "2.342500", "11"),
}


def mf_values(i: int) -> dict[str, str]:
    """The values of hour `i` (hand-checkable; see test_meteo_france_round_trip)."""
    return {
        "FF": f"{1.0 + (i % 7) * 0.5:.1f}",
        "DD": "360" if i == 0 else str(10 * (1 + i % 36)),
        "T": f"{5.2 + 0.1 * (i % 10):.1f}",
        "N": "9" if i == 20 else str(i % 9),
        "GLO": "90" if i == 12 + 24 else ("0" if i % 24 < 8 else "20"),
    }


def mf_line(code: str, t: pd.Timestamp, values: dict[str, str]) -> str:
    name, lat, lon, alt = STATIONS[code]
    row = dict.fromkeys(MF_HEADER, "")
    row |= {"NUM_POSTE": code, "NOM_USUEL": name, "LAT": lat, "LON": lon, "ALTI": alt}
    row["AAAAMMJJHH"] = f"{t:%Y%m%d%H}"
    for field, value in values.items():
        row[field] = value
        if f"Q{field}" in row and value != "":
            row[f"Q{field}"] = "1"
    return ";".join(row[c] for c in MF_HEADER)


def write_mf(path, hours=HOURS, *, stations=("59183001", "59343001"), edit=None, header=None):
    """A département file: both stations, sorted by station then hour, the gap in Lille."""
    lines = [";".join(header or MF_HEADER)]
    for code in stations:
        for i, t in enumerate(hours):
            if code == "59343001" and i in GAP:
                continue
            values = mf_values(i)
            if edit is not None:
                values = edit(code, i, values)
            lines.append(mf_line(code, t, values))
    text = "\n".join(lines) + "\n"
    if str(path).endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode("utf-8")))
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_meteo_france_round_trip(tmp_path):
    path = write_mf(tmp_path / "H_59_previous-2020-2022.csv.gz")
    with pytest.warns(TrajectoireWarning) as caught:
        ds = read_meteo_france(path, station=59343001, latitude=50.0, longitude=3.0)
    messages = " | ".join(str(w.message) for w in caught)
    assert "3 missing hour(s) in 1 gap(s)" in messages
    assert "column 'N': 1 hour(s) coded [9]" in messages
    assert ds.sizes["time"] == 72
    assert ds.attrs["missing_hours"] == 3
    assert ds.attrs["missing_periods"] == "2021-01-01T10..2021-01-01T12"
    assert int(ds["wind_speed"].isnull().sum()) == 3
    # the station's position is the file's, not the one given
    assert ds.attrs["latitude"] == 50.57 and ds.attrs["longitude"] == 3.0975
    assert ds.attrs["station"] == "59343001" and ds.attrs["station_name"] == "LILLE-LESQUIN"
    assert ds.attrs["altitude"] == 47.0
    first = ds.isel(time=0)
    assert float(first["wind_direction"]) == 0.0  # DD 360 (north) -> 0
    assert float(first["wind_speed"]) == 1.0
    assert float(first["temperature"]) == pytest.approx(5.2 + 273.15)
    assert float(first["cloud_cover"]) == 0.0
    assert np.isnan(float(ds["cloud_cover"].sel(time="2021-01-01T20")))  # N = 9: sky invisible
    assert float(ds["cloud_cover"].sel(time="2021-01-01T21")) == 21 % 9
    # GLO 90 J cm-2 in the hour = 90e4 J m-2 / 3600 s = 250 W m-2
    assert float(ds["solar_radiation"].sel(time="2021-01-02T12")) == pytest.approx(250.0)
    assert float(ds["wind_direction"].sel(time="2021-01-01T05")) == 60.0
    for name, units in (("wind_speed", "m s-1"), ("temperature", "K"), ("cloud_cover", "okta")):
        assert ds[name].attrs["units"] == units


def test_meteo_france_files_list_folder_and_plain_csv(tmp_path):
    write_mf(tmp_path / "H_59_previous-2020-2022.csv", HOURS[:36])
    write_mf(tmp_path / "H_59_latest-2023-2024.csv.gz", HOURS[36:])
    (tmp_path / "README.txt").write_text("not a meteorology file")
    with pytest.warns(TrajectoireWarning):
        ds = read_meteo_france(tmp_path, station="59183001")
    assert ds.sizes["time"] == 72 and ds.attrs["missing_hours"] == 0
    assert ds.attrs["latitude"] == pytest.approx(51.057667)
    with pytest.warns(TrajectoireWarning):
        one = read_meteo_france(
            [tmp_path / "H_59_latest-2023-2024.csv.gz", tmp_path / "H_59_previous-2020-2022.csv"],
            station="59183001",
        )
    np.testing.assert_array_equal(one["wind_speed"], ds["wind_speed"])


def test_meteo_france_one_station_file_needs_no_station(tmp_path):
    path = write_mf(tmp_path / "H_59.csv", stations=("59183001",))
    with pytest.warns(TrajectoireWarning, match="coded"):
        ds = read_meteo_france(path)
    assert ds.attrs["station"] == "59183001" and ds.attrs["missing_hours"] == 0


@pytest.mark.parametrize("name", ["H_59.csv", "H_59.csv.gz"])
def test_meteo_france_reads_a_header_after_a_utf8_byte_order_mark(tmp_path, name):
    """A BOM before NUM_POSTE was read as part of the column name (probe E #5)."""
    plain = write_mf(tmp_path / name, stations=("59183001",))
    data = gzip.decompress(plain.read_bytes()) if name.endswith(".gz") else plain.read_bytes()
    data = b"\xef\xbb\xbf" + data
    plain.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    with pytest.warns(TrajectoireWarning, match="coded"):
        ds = read_meteo_france(plain)
    assert ds.attrs["station"] == "59183001" and ds.sizes["time"] == 72
    assert float(ds["wind_speed"].isel(time=0)) == 1.0


def test_meteo_france_station_choice_errors(tmp_path):
    path = write_mf(tmp_path / "H_59.csv")
    with pytest.raises(InputError) as err:
        read_meteo_france(path, config_key=KEY)
    msg = str(err.value)
    assert str(path) in msg and "2 stations" in msg and "59343001 LILLE-LESQUIN" in msg
    assert f"set {KEY} station" in msg
    with pytest.raises(InputError) as err:
        read_meteo_france(path, station="59999001", config_key=KEY)
    msg = str(err.value)
    assert str(path) in msg and "'59999001'" in msg and "NUM_POSTE" in msg and KEY in msg
    assert "59183001 DUNKERQUE" in msg


def test_meteo_france_missing_column(tmp_path):
    header = [("NEBUL" if c == "N" else c) for c in MF_HEADER]
    path = write_mf(tmp_path / "H_59.csv", header=header)
    with pytest.raises(MissingVariableError) as err:
        read_meteo_france(path, station="59343001", config_key=KEY)
    msg = str(err.value)
    assert str(path) in msg and "'N'" in msg and "total cloud cover" in msg
    assert f'{KEY} columns.cloud_cover = "<your column>"' in msg
    assert "\n" not in msg
    # the mapping reads it
    with pytest.warns(TrajectoireWarning):
        ds = read_meteo_france(path, station="59343001", columns={"cloud_cover": "NEBUL"})
    assert float(ds["cloud_cover"].isel(time=1)) == 1.0
    with pytest.raises(ConfigError, match=r"unknown name\(s\) \['clouds'\].*cloud_cover"):
        read_meteo_france(path, station="59343001", columns={"clouds": "NEBUL"}, config_key=KEY)


def test_meteo_france_temperature_in_kelvin(tmp_path):
    def kelvin(code, i, values):
        return values | {"T": f"{float(values['T']) + 273.15:.2f}"}

    path = write_mf(tmp_path / "H_59.csv", edit=kelvin)
    with pytest.raises(UnitsError) as err:
        read_meteo_france(path, station="59343001", config_key=KEY)
    msg = str(err.value)
    assert str(path) in msg and "column 'T'" in msg and "degC" in msg and "kelvin" in msg
    assert KEY in msg


def test_meteo_france_temperature_code_named_with_its_line(tmp_path):
    """T = 999.9 (a missing-value code) became 1273.05 K: the median check missed it
    (probe E #2)."""

    def code(code, i, values):
        return values | {"T": "999.9"} if (code, i) == ("59343001", 4) else values

    path = write_mf(tmp_path / "H_59.csv", edit=code)
    with pytest.warns(TrajectoireWarning, match="coded"), pytest.raises(InputError) as err:
        read_meteo_france(path, station="59343001", config_key=KEY)
    msg = str(err.value)
    # header line 1, 72 Dunkerque lines, Lille's hour 4 on line 78
    assert "column 'T'" in msg and "999.9 degC at line 78 (2021-01-01T04:00Z)" in msg
    assert "999.9 is a missing-value code" in msg and KEY in msg


def test_meteo_france_bad_cells_name_the_file_line(tmp_path):
    def text(code, i, values):
        return values | {"FF": "3,5 m/s"} if (code, i) == ("59343001", 4) else values

    path = write_mf(tmp_path / "H_59.csv", edit=text)
    with pytest.raises(InputError) as err:
        read_meteo_france(path, station="59343001", config_key=KEY)
    msg = str(err.value)
    # header line 1, then 72 Dunkerque lines, then Lille's hours 0..3 on lines 74..77
    assert "column 'FF'" in msg and "'3,5 m/s' at line 78" in msg and KEY in msg
    lines = path.read_text().splitlines()
    assert lines[77].split(";")[5] == "2021010104"

    def direction(code, i, values):
        return values | {"DD": "990"} if (code, i) == ("59343001", 30) else values

    path = write_mf(tmp_path / "H_59.csv", edit=direction)
    with pytest.raises(InputError, match=r"column 'DD'.*2021-01-02T06 \(e.g. 990.0\)"):
        read_meteo_france(path, station="59343001", config_key=KEY)


def test_meteo_france_station_without_cloud_cover(tmp_path):
    def automatic(code, i, values):
        return values | {"N": ""}

    path = write_mf(tmp_path / "H_59.csv", edit=automatic)
    with pytest.raises(InputError) as err:
        read_meteo_france(path, station="59343001", config_key=KEY)
    msg = str(err.value)
    assert str(path) in msg and "column 'N'" in msg and "no value" in msg and KEY in msg


# ------------------------------------------------------------------ ISD-Lite
def isd_line(t, temp, wd, ws, sky, dew=-9999, slp=10132, p1=0, p6=-9999):
    return (
        f"{t.year:4d} {t.month:02d} {t.day:02d} {t.hour:02d}"
        f"{temp:6d}{dew:6d}{slp:6d}{wd:6d}{ws:6d}{sky:6d}{p1:6d}{p6:6d}"
    )


def isd_record(i):
    """Hour `i`: temperature 5.2 degC + 0.1 i (x 10), direction 360 at 0, speed 3.5 m/s..."""
    sky = 9 if i == 20 else (-9999 if i == 21 else i % 9)
    return {"temp": 52 + i, "wd": 360 if i == 0 else 10 * (1 + i % 36), "ws": 35 + i, "sky": sky}


def write_isd(path, hours=HOURS, *, gap=GAP, edit=None):
    lines = []
    for i, t in enumerate(hours):
        if i in gap:
            continue
        rec = isd_record(i)
        if edit is not None:
            rec = edit(i, rec)
        lines.append(rec if isinstance(rec, str) else isd_line(t, **rec))
    text = "\n".join(lines) + "\n"
    if str(path).endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode("ascii")))
    else:
        path.write_text(text)
    return path


def test_isd_lite_round_trip(tmp_path):
    path = write_isd(tmp_path / "070150-99999-2021.gz")
    assert path.read_bytes()[:2] == b"\x1f\x8b"
    with pytest.warns(TrajectoireWarning) as caught:
        ds = read_isd_lite(path, latitude=50.57, longitude=3.098)
    messages = " | ".join(str(w.message) for w in caught)
    assert "3 missing hour(s)" in messages and "1 hour(s) coded [9]" in messages
    assert ds.sizes["time"] == 72 and ds.attrs["missing_hours"] == 3
    assert ds.attrs["missing_periods"] == "2021-01-01T10..2021-01-01T12"
    assert ds.attrs["station"] == "070150-99999" and ds.attrs["latitude"] == 50.57
    first = ds.isel(time=0)
    assert float(first["temperature"]) == pytest.approx(5.2 + 273.15)  # 52 = 5.2 degC
    assert float(first["wind_speed"]) == pytest.approx(3.5)  # 35 = 3.5 m/s
    assert float(first["wind_direction"]) == 0.0  # 360 = north
    assert float(ds["wind_speed"].sel(time="2021-01-02T00")) == pytest.approx(5.9)
    cloud = ds["cloud_cover"].sel(time=["2021-01-01T19", "2021-01-01T20", "2021-01-01T21"])
    np.testing.assert_array_equal(cloud, [1.0, np.nan, np.nan])  # 19 % 9; code 9; -9999
    assert "solar_radiation" not in ds


def test_isd_lite_folder_of_years(tmp_path):
    write_isd(
        tmp_path / "070150-99999-2020.gz",
        pd.date_range("2020-12-31T00", periods=24, freq="h"),
        gap=[],
    )
    write_isd(tmp_path / "070150-99999-2021", HOURS[:24], gap=[])
    with pytest.warns(TrajectoireWarning, match="coded"):
        ds = read_isd_lite(tmp_path)
    assert ds.sizes["time"] == 48 and ds.attrs["missing_hours"] == 0
    write_isd(tmp_path / "070100-99999-2021.gz", HOURS[:24], gap=[])
    with pytest.raises(InputError, match=r"2 stations.*set \[inputs.meteo\] station"):
        read_isd_lite(tmp_path, config_key=KEY)
    with pytest.raises(InputError) as err:
        read_isd_lite(tmp_path, station="071490-99999", config_key=KEY)
    assert "071490-99999" in str(err.value) and "070100-99999" in str(err.value)
    assert KEY in str(err.value)
    with pytest.warns(TrajectoireWarning, match="coded"):
        dk = read_isd_lite(tmp_path, station="070100-99999")
    assert dk.sizes["time"] == 24


def test_isd_lite_bad_inputs(tmp_path):
    def kelvin(i, rec):
        return rec | {"temp": rec["temp"] + 2732}  # 283.5 K x 10

    path = write_isd(tmp_path / "070150-99999-2021.gz", edit=kelvin)
    with pytest.raises(UnitsError) as err:
        read_isd_lite(path, config_key=KEY)
    msg = str(err.value)
    assert str(path) in msg and "field 5 (air temperature [degC x 10])" in msg and KEY in msg

    def short(i, rec):  # a record without its last field
        return isd_line(HOURS[i], **rec)[:-6] if i == 5 else rec

    path = write_isd(tmp_path / "070150-99999-2021.gz", edit=short)
    with pytest.raises(InputError) as err:
        read_isd_lite(path, config_key=KEY)
    msg = str(err.value)
    assert str(path) in msg and "line 6" in msg and "11 field(s)" in msg and KEY in msg

    def no_wind(i, rec):
        return rec | {"ws": -9999}

    path = write_isd(tmp_path / "070150-99999-2021.gz", edit=no_wind)
    with pytest.raises(InputError, match=r"field 9 \(wind speed.*no value.*\[inputs.meteo\]"):
        read_isd_lite(path, config_key=KEY)
    with pytest.raises(InputError, match=r"not found.*\[inputs.meteo\]"):
        read_isd_lite(tmp_path / "070150-99999-1999.gz", config_key=KEY)


# ------------------------------------------------------------------ ERA5
def era5_files(tmp_path, *, hours=HOURS, gap=GAP, drop=(), tcc=0.5):
    """The two files the CDS writes for a request of instant and accumulated variables."""
    t = hours.delete(gap)
    lat = np.array([51.0, 50.75, 50.5])
    lon = np.array([2.75, 3.0, 3.25])
    shape = (t.size, lat.size, lon.size)
    dims = ("valid_time", "latitude", "longitude")
    coords = {
        "valid_time": t,
        "latitude": lat,
        "longitude": lon,
        "number": 0,
        "expver": ("valid_time", ["0001"] * t.size),
    }
    instant = xr.Dataset(
        {
            "u10": (dims, np.full(shape, -3.0), {"units": "m s**-1"}),
            "v10": (dims, np.full(shape, -4.0), {"units": "m s**-1"}),
            "t2m": (dims, np.full(shape, 280.0), {"units": "K"}),
            "tcc": (dims, np.full(shape, tcc), {"units": "(0 - 1)"}),
            "blh": (dims, np.full(shape, 700.0), {"units": "m"}),
        },
        coords=coords,
    )
    instant["t2m"][:, 1, 1] = 281.5  # the grid point of Lille
    instant = instant.drop_vars(list(drop))
    ssrd = np.zeros(shape)
    ssrd[t.hour == 12] = 1.8e6  # J m-2 in the hour ending at 12:00 = 500 W m-2
    ssrd[t.hour == 2] = -0.125  # packing noise at night, read as 0
    accum = xr.Dataset(
        {"ssrd": (dims, ssrd, {"units": "J m**-2"})},
        coords=coords,
    )
    a = tmp_path / "data_stream-oper_stepType-instant.nc"
    b = tmp_path / "data_stream-oper_stepType-accum.nc"
    instant.to_netcdf(a)
    accum.to_netcdf(b)
    return [a, b]


def test_era5_round_trip(tmp_path):
    files = era5_files(tmp_path)
    with pytest.warns(TrajectoireWarning, match="3 missing hour"):
        ds = read_era5(files, latitude=50.63, longitude=3.06)
    assert ds.sizes["time"] == 72 and ds.attrs["missing_hours"] == 3
    assert ds.attrs["missing_periods"] == "2021-01-01T10..2021-01-01T12"
    assert ds.attrs["grid_latitude"] == 50.75 and ds.attrs["grid_longitude"] == 3.0
    assert ds.attrs["latitude"] == 50.63
    first = ds.isel(time=0)
    assert float(first["wind_speed"]) == pytest.approx(5.0)  # hypot(3, 4)
    # u = -3 (towards the west), v = -4 (towards the south): from the north-east
    assert float(first["wind_direction"]) == pytest.approx(np.degrees(np.arctan2(3.0, 4.0)))
    assert float(first["cloud_cover"]) == 4.0  # 0.5 x 8 okta
    assert float(first["temperature"]) == 281.5  # the nearest grid point
    assert float(first["mixing_height"]) == 700.0
    assert float(ds["solar_radiation"].sel(time="2021-01-02T12")) == pytest.approx(500.0)
    assert float(ds["solar_radiation"].sel(time="2021-01-02T13")) == 0.0
    assert float(ds["solar_radiation"].sel(time="2021-01-02T02")) == 0.0
    # read_hourly reads the same variables in one file, ssrd included (one path)
    with xr.open_dataset(files[0]) as a, xr.open_dataset(files[1]) as b:
        xr.merge([a, b], compat="no_conflicts", join="outer").to_netcdf(tmp_path / "one.nc")
    with pytest.warns(TrajectoireWarning):
        alone = read_hourly(tmp_path / "one.nc", latitude=50.63, longitude=3.06)
    for name in ("wind_speed", "wind_direction", "cloud_cover", "temperature", "solar_radiation"):
        np.testing.assert_allclose(alone[name], ds[name])


def test_era5_folder_and_longitudes_0_360(tmp_path):
    files = era5_files(tmp_path, gap=[])
    for f in files:  # the same grid written on 0-360 longitudes, the site west of Greenwich
        with xr.open_dataset(f) as d:
            d = d.load()
        d = d.assign_coords(longitude=[359.75, 0.0, 0.25])
        f.unlink()
        d.to_netcdf(f)
    ds = read_era5(tmp_path, latitude=50.75, longitude=-0.2)
    assert ds.attrs["grid_longitude"] == 359.75 and ds.attrs["missing_hours"] == 0


def test_era5_bad_inputs(tmp_path):
    files = era5_files(tmp_path, gap=[], drop=["u10"])
    with pytest.raises(MissingVariableError) as err:
        read_era5(files[0], latitude=50.6, longitude=3.1, config_key=KEY)
    msg = str(err.value)
    assert str(files[0]) in msg and "'u10'" in msg and "10m_u_component_of_wind" in msg
    assert f"{KEY} columns.u10" in msg
    files = era5_files(tmp_path, gap=[], tcc=50.0)
    with pytest.raises(UnitsError) as err:
        read_era5(files, latitude=50.6, longitude=3.1, config_key=KEY)
    msg = str(err.value)
    assert str(files[0]) in msg and "'tcc'" in msg and "fraction 0-1" in msg and KEY in msg
    files = era5_files(tmp_path, gap=[])
    with pytest.raises(InputError, match=r"latitude 48.*outside the grid.*\[inputs.meteo\]"):
        read_era5(files, latitude=48.0, longitude=3.0, config_key=KEY)
    with pytest.raises(InputError, match="site position"):
        read_era5(files, config_key=KEY)
    with pytest.raises(ConfigError, match=r"\['u'\].*u10"):
        read_era5(files, latitude=50.6, longitude=3.1, columns={"u": "u10"})


# ------------------------------------------------------------------ dispatch
def test_read_meteo_dispatch(tmp_path):
    assert set(METEO_FORMATS) == {"trajectoire", "meteo-france", "isd-lite", "era5"}
    path = write_mf(tmp_path / "H_59.csv", stations=("59183001",))
    with pytest.warns(TrajectoireWarning):
        a = read_meteo(path, format="meteo-france", config_key=KEY, missing="warn")
    with pytest.warns(TrajectoireWarning):
        b = read_meteo_france(path)
    xr.testing.assert_identical(a.drop_attrs(), b.drop_attrs())
    with pytest.raises(ConfigError, match=r"\[inputs.meteo\] format = 'meteofrance'.*'era5'"):
        read_meteo(path, format="meteofrance", config_key=KEY)
    with pytest.raises(ConfigError, match=r"\['stations'\].*'meteo-france'.*'station'"):
        read_meteo(path, format="meteo-france", stations="59183001", config_key=KEY)
    # the library's own CSV through read_hourly, with the configuration key in its errors
    frame = pd.DataFrame(
        {
            "time": HOURS[:5].strftime("%Y-%m-%dT%H:%MZ"),
            "wind_speed": 2.0,
            "wind_direction": 180.0,
            "cloud_cover": 4,
            "temperature": 5.0,
        }
    )
    frame.to_csv(tmp_path / "m.csv", index=False)
    with pytest.raises(UnitsError, match=r"temperature.*The input is named by \[inputs.meteo\]"):
        read_meteo(tmp_path / "m.csv", config_key=KEY)
    ds = read_meteo(tmp_path / "m.csv", config_key=KEY, temperature_units="degC")
    assert float(ds["temperature"][0]) == pytest.approx(278.15)


@pytest.mark.filterwarnings("ignore::trajectoire.errors.TrajectoireWarning")
def test_sources_feed_stability_and_classes(tmp_path):
    """Each reader's dataset goes through add_stability and met_classes."""
    mf = read_meteo_france(write_mf(tmp_path / "H_59.csv"), station="59343001")
    isd = read_isd_lite(write_isd(tmp_path / "070150-99999-2021.gz"), latitude=50.57, longitude=3.1)
    era5 = read_era5(era5_files(tmp_path), latitude=50.6, longitude=3.1)
    for ds in (mf, isd, era5):
        met = met_classes(add_stability(ds))
        assert met["frequency"].sum().item() == pytest.approx(1.0)
        assert int(met["valid_hours"].sum()) > 60


@pytest.mark.filterwarnings("ignore::trajectoire.errors.TrajectoireWarning")
def test_sources_pass_the_site_keywords_and_warn_at_the_caller(tmp_path):
    """The keywords every reader passes on reach the dataset, each to its own attribute; the
    warnings (the gap, the coded cloud cover) name the caller's line, not the library's;
    missing="raise" raises."""
    readers = {
        "meteo-france": (read_meteo_france, write_mf(tmp_path / "H_59.csv"), {}),
        "isd-lite": (read_isd_lite, write_isd(tmp_path / "070150-99999-2021.gz"), {}),
        "era5": (read_era5, era5_files(tmp_path), {"latitude": 50.6, "longitude": 3.1}),
    }
    for name, (read, path, site) in readers.items():
        kw = {"station": "59343001"} if name == "meteo-france" else site
        with pytest.warns(TrajectoireWarning) as caught:
            ds = read(path, roughness_length=0.7, anemometer_height=12.0, **kw)
        assert ds.attrs["roughness_length"] == 0.7, name
        assert ds.attrs["anemometer_height"] == 12.0, name
        assert sum("3 missing hour" in str(w.message) for w in caught) == 1, name
        assert {w.filename for w in caught} == {__file__}, name
        with pytest.raises(InputError, match="missing hour"):
            read(path, missing="raise", **kw)


@pytest.mark.filterwarnings("ignore::trajectoire.errors.TrajectoireWarning")
def test_readers_take_the_keywords_of_their_old_signatures(tmp_path):
    """The readers take the site and provenance keywords as **options (MetSite): every
    keyword of the old signatures, given by name, reaches the dataset and the messages as
    before; the signature still lists them with the old defaults; a misspelt keyword is one
    TypeError naming it (and the close keyword); read_meteo lists the options as before."""
    old = {
        "what": None,
        "config_key": None,
        "latitude": None,
        "longitude": None,
        "roughness_length": None,
        "anemometer_height": 10.0,
        "missing": "warn",
    }
    readers = {
        read_meteo_france: ["station", "columns"],
        read_isd_lite: ["station"],
        read_era5: ["columns"],
    }
    for read, own in readers.items():
        params = inspect.signature(read).parameters
        assert list(params) == ["path", *own, *old], read.__name__
        assert {k: params[k].default for k in old} == old, read.__name__
    assert list(MetSite.__annotations__) == list(old)
    path = era5_files(tmp_path)
    ds = read_era5(
        path,
        columns=None,
        what="era5 files",
        config_key=KEY,
        latitude=50.6,
        longitude=3.1,
        roughness_length=0.7,
        anemometer_height=12.0,
        missing="warn",
    )
    assert ds.attrs["latitude"] == 50.6 and ds.attrs["longitude"] == 3.1
    assert ds.attrs["roughness_length"] == 0.7 and ds.attrs["anemometer_height"] == 12.0
    assert "read_era5('era5 files', latitude=50.6, longitude=3.1)" in ds.attrs["history"]
    with pytest.raises(InputError, match=r"^era5 files: .*missing hour.*named by \[inputs.meteo\]"):
        read_era5(
            path, what="era5 files", config_key=KEY, latitude=50.6, longitude=3.1, missing="raise"
        )
    mf = write_mf(tmp_path / "H_59.csv", stations=("59183001",))
    for read, file, kw in (
        (read_meteo_france, mf, {}),
        (read_isd_lite, write_isd(tmp_path / "070150-99999-2021.gz"), {}),
        (read_era5, path, {"latitude": 50.6, "longitude": 3.1}),
    ):
        name = read.__name__
        with pytest.raises(
            TypeError,
            match=rf"^{name}\(\) got an unexpected keyword argument 'anemometer_heigth' "
            r"\(did you mean 'anemometer_height'\?\); .*MetSite$",
        ):
            read(file, anemometer_heigth=12.0, **kw)  # type: ignore[call-arg]
    with pytest.raises(
        ConfigError,
        match=r"\['height'\] are not read by format 'isd-lite'; its options are \['station', "
        r"'latitude', 'longitude', 'roughness_length', 'anemometer_height', 'missing'\]",
    ):
        read_meteo(mf, format="isd-lite", height=2.0)
