"""Station files as GeoPackages and as CSV with lon/lat or another CRS (issue 12)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely

from trajectoire.assess.stations import read_stations
from trajectoire.errors import ConfigError, InputError, MissingVariableError

KEY = "[inputs.stations]"
LONLAT = {"FR11025": (3.0898, 50.6289), "FR10004": (2.3730, 51.0433), "FR18055": (2.4772, 49.2589)}


def _l93(lon: float, lat: float) -> tuple[float, float]:
    t = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:2154", always_xy=True)
    x, y = t.transform(lon, lat)
    return float(x), float(y)


def _lonlat_csv(tmp_path: Path) -> Path:
    rows = "".join(
        f"{k};Station {k};0{i};{lo};{la}\n" for i, (k, (lo, la)) in enumerate(LONLAT.items())
    )
    path = tmp_path / "stations_lonlat.csv"
    path.write_bytes(("code_station;nom_station;dep;lon;lat\n" + rows).encode("cp1252"))
    return path


def _gpkg(tmp_path: Path, crs: str = "EPSG:2154") -> Path:
    pts = [shapely.Point(*_l93(*v)) for v in LONLAT.values()]
    gdf = gpd.GeoDataFrame({"code_station": list(LONLAT), "nom_station": ["a", "b", "c"]},
                           geometry=pts, crs="EPSG:2154").to_crs(crs)  # fmt: skip
    path = tmp_path / "stations.gpkg"
    gdf.to_file(path, layer="stations")
    return path


def test_csv_lonlat_to_lambert93(tmp_path: Path) -> None:
    st = read_stations(
        _lonlat_csv(tmp_path), columns={"station_id": "code_station"}, config_key=KEY
    )
    assert st["station_id"].tolist() == list(LONLAT)
    for (_, row), v in zip(st.iterrows(), LONLAT.values(), strict=True):
        assert (row["x"], row["y"]) == pytest.approx(_l93(*v), abs=1e-6)
    assert st["nom_station"].tolist()[0] == "Station FR11025"
    assert st.attrs["crs"] == "EPSG:2154"


def test_csv_other_crs(tmp_path: Path) -> None:
    """x/y in Web Mercator, said with crs, transformed to Lambert-93 (or to to_crs)."""
    t = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    lines = ["id,x,y"] + [
        f"{k},{x},{y}" for k, (x, y) in ((k, t.transform(*v)) for k, v in LONLAT.items())
    ]
    path = tmp_path / "merc.csv"
    path.write_text("\n".join(lines) + "\n")
    st = read_stations(path, columns={"station_id": "id"}, crs="EPSG:3857")
    np.testing.assert_allclose(
        st[["x", "y"]].to_numpy(), [_l93(*v) for v in LONLAT.values()], atol=1e-3
    )
    wgs = read_stations(path, columns={"station_id": "id"}, crs="EPSG:3857", to_crs="EPSG:4326")
    np.testing.assert_allclose(wgs[["x", "y"]].to_numpy(), list(LONLAT.values()), atol=1e-9)


def test_gpkg_points_any_crs(tmp_path: Path) -> None:
    for crs in ("EPSG:2154", "EPSG:4326"):
        st = read_stations(_gpkg(tmp_path, crs), columns={"station_id": "code_station"})
        assert "geometry" not in st.columns and st["station_id"].tolist() == list(LONLAT)
        np.testing.assert_allclose(
            st[["x", "y"]].to_numpy(), [_l93(*v) for v in LONLAT.values()], atol=1e-3
        )


def test_today_stations_csv_unchanged(tmp_path: Path) -> None:
    """x/y without a CRS stated are taken as they are (the grid's CRS), as before."""
    path = tmp_path / "stations.csv"
    path.write_text("station_id,name,x,y\nS1,a,100,200\nS2,b,300.5,400\n")
    st = read_stations(path)
    assert st[["x", "y"]].to_numpy().tolist() == [[100.0, 200.0], [300.5, 400.0]]
    assert "crs" not in st.attrs


def test_bad_inputs_name_file_field_and_key(tmp_path: Path) -> None:
    lonlat = _lonlat_csv(tmp_path)
    # degrees given as Lambert-93
    bad = tmp_path / "deg.csv"
    bad.write_text("station_id,x,y\nFR11025,3.0898,50.6289\n")
    with pytest.raises(
        InputError,
        match=r"deg.csv, columns 'x'/'y'.*FR11025 \(3.0898, 50.6289\).*look like degrees.*\[inputs.stations\] crs",
    ):
        read_stations(bad, crs="EPSG:2154", config_key=KEY)
    # metres given as degrees
    metres = tmp_path / "m.csv"
    metres.write_text("station_id,x,y\nFR11025,706365,7059105\n")
    with pytest.raises(
        InputError, match=r"m.csv.*FR11025.*look like metres.*\[inputs.stations\] crs"
    ):
        read_stations(metres, crs="EPSG:4326", config_key=KEY)
    # Lambert-93 values said to be in another projected CRS: far outside Lambert-93's area
    with pytest.raises(
        InputError, match=r"m.csv: station\(s\) FR11025.*outside the area of EPSG:2154"
    ):
        read_stations(metres, crs="EPSG:3395", config_key=KEY)
    # missing id column: says the columns key
    with pytest.raises(
        MissingVariableError, match=r"stations_lonlat.csv: missing column\(s\) \['station_id'\]"
    ):
        read_stations(lonlat, config_key=KEY)
    with pytest.raises(
        MissingVariableError,
        match=r"no column 'code' \(columns.station_id\).*\[inputs.stations\] columns.station_id",
    ):
        read_stations(lonlat, columns={"station_id": "code"}, config_key=KEY)
    with pytest.raises(ConfigError, match=r"unknown key\(s\) \['code'\].*'station_id'"):
        read_stations(lonlat, columns={"code": "code_station"}, config_key=KEY)
    # a GeoPackage of polygons, or with two layers
    poly = tmp_path / "poly.gpkg"
    gpd.GeoDataFrame(
        {"station_id": ["a"]}, geometry=[shapely.box(0, 0, 1, 1)], crs="EPSG:2154"
    ).to_file(poly)
    with pytest.raises(InputError, match=r"poly.gpkg: geometries must be points"):
        read_stations(poly, config_key=KEY)
    two = _gpkg(tmp_path)
    gpd.read_file(two).to_file(two, layer="other")
    with pytest.raises(InputError, match=r'several layers.*\[inputs.stations\] layer = "stations"'):
        read_stations(two, columns={"station_id": "code_station"}, config_key=KEY)
    assert len(read_stations(two, layer="stations", columns={"station_id": "code_station"})) == 3
    with pytest.raises(InputError, match=r"missing.gpkg: file not found.*\[inputs.stations\]"):
        read_stations(tmp_path / "missing.gpkg", config_key=KEY)


@pytest.mark.parametrize("crs", ["EPSG:99999", "EPSG:4326x"])
def test_invalid_crs_is_one_line_naming_key_and_value(tmp_path: Path, crs: str) -> None:
    """With lon/lat columns an invalid crs was ignored (the run exited 0)."""
    metres = tmp_path / "m.csv"
    metres.write_text("station_id,x,y\nFR11025,706365,7059105\n")
    for path in (_lonlat_csv(tmp_path), metres, _gpkg(tmp_path)):
        with pytest.raises(ConfigError) as info:
            read_stations(path, columns={"station_id": "code_station"} if path != metres else None,
                          crs=crs, config_key=KEY)  # fmt: skip
        text = str(info.value)
        assert f"{path.name}: [inputs.stations] crs = {crs!r} is not a CRS pyproj knows" in text
        assert "\n" not in text


def test_crs_with_lonlat_columns_is_used_or_refused(tmp_path: Path) -> None:
    lonlat = _lonlat_csv(tmp_path)
    ids = {"station_id": "code_station"}
    with pytest.raises(ConfigError, match=r"crs = 'EPSG:2154' is a projected CRS.*'lon'/'lat'"):
        read_stations(lonlat, columns=ids, crs="EPSG:2154", config_key=KEY)
    etrs = read_stations(lonlat, columns=ids, crs="EPSG:4258")  # ETRS89: within a metre
    np.testing.assert_allclose(
        etrs[["x", "y"]].to_numpy(), [_l93(*v) for v in LONLAT.values()], atol=1.0
    )
    # a vector file's own CRS is used: another one stated is refused, the same one taken
    with pytest.raises(ConfigError, match=r"crs = 'EPSG:3857', but the points are in"):
        read_stations(_gpkg(tmp_path), columns=ids, crs="EPSG:3857", config_key=KEY)
    assert len(read_stations(_gpkg(tmp_path), columns=ids, crs="EPSG:2154")) == 3


def test_lonlat_messages_name_the_files_columns_units_and_lines(tmp_path: Path) -> None:
    """Empty lon/lat spoke of 'x'/'y' [m] in the CRS of the grid, duplicated codes of column
    'station_id' without lines."""
    path = tmp_path / "st.csv"
    ids = {"station_id": "code_station"}
    path.write_text("code_station,lon,lat\nFR1,3.1,50.1\nFR2,3.2,\n")
    with pytest.raises(InputError) as info:
        read_stations(path, columns=ids, config_key=KEY)
    text = str(info.value)
    assert "st.csv, columns 'lon'/'lat': empty or non-finite coordinates" in text
    assert "FR2 (line 3: lon=3.2, lat=nan)" in text and "in degrees" in text
    assert "CRS of the grid" not in text and "'x'" not in text
    path.write_text("code_station,lon,lat\nFR1,3.1,50.1\nFR2,3.2,abc\n")
    with pytest.raises(InputError, match=r"column 'lat': not a number: 'abc' at line 3.*degrees"):
        read_stations(path, columns=ids, config_key=KEY)
    path.write_text("code_station,lon,lat\nFR1,3.1,50.1\nFR2,3.2,50\nFR1,3.3,50.2\n")
    with pytest.raises(
        InputError,
        match=r"st.csv, column 'code_station': duplicated id\(s\) \('FR1' at lines 2, 4\)",
    ):
        read_stations(path, columns=ids, config_key=KEY)


@pytest.mark.requires_shared
def test_real_stations_csv_and_gpkg(shared_data: Path) -> None:
    d = shared_data / "stations"
    cols = {"station_id": "code_station"}
    csv = read_stations(d / "stations_hdf_lcsqa2021_rtelga.csv", columns=cols, config_key=KEY)
    gpkg = read_stations(d / "stations_hdf_lcsqa2021_rtelga.gpkg", columns=cols, config_key=KEY)
    assert len(csv) == len(gpkg) == 44
    assert csv["station_id"].tolist() == gpkg["station_id"].tolist()
    # lon/lat transformed here against the file's own Lambert-93 columns (rounded to 0.1 m)
    np.testing.assert_allclose(csv["x"], csv["x_l93"], atol=0.06)
    np.testing.assert_allclose(csv["y"], csv["y_l93"], atol=0.06)
    np.testing.assert_allclose(gpkg[["x", "y"]].to_numpy(), csv[["x", "y"]].to_numpy(), atol=0.06)
    mel = set(csv.loc[csv["territoire"] == "MEL", "station_id"])
    assert {"FR11025", "FR11016"} <= mel and isinstance(csv, pd.DataFrame)


def test_a_missing_column_lists_the_files_own_columns_and_the_key(tmp_path: Path) -> None:
    """A station file without ``station_id``: the message lists the columns the file has
    (not the x, y made from its lon/lat) and the ``columns`` mapping that names it."""
    lonlat = _lonlat_csv(tmp_path)
    with pytest.raises(MissingVariableError) as info:
        read_stations(lonlat, config_key=KEY)
    assert str(info.value) == (
        f"{lonlat}: missing column(s) ['station_id']; the file has the columns "
        "['code_station', 'nom_station', 'dep', 'lon', 'lat'], expected station_id and x, y "
        "[m] (or lon, lat [degrees]). Name them with [inputs.stations] columns = { station_id "
        '= "<column>" }, or rename them.'
    )
    no_y = tmp_path / "no_y.csv"
    no_y.write_text("code,x\nA,700000\n")
    with pytest.raises(MissingVariableError, match=r"columns=\{'station_id': '<column>', 'y'"):
        read_stations(no_y)
    with pytest.raises(
        MissingVariableError,
        match=r"the file has the columns \['code_station', 'nom_station'\], expected",
    ):
        read_stations(_gpkg(tmp_path), config_key=KEY)


# ------------------------------------------------------------- ids made only of digits
SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


def _run_observations(tmp_path: Path, prefix: str, caplog: pytest.LogCaptureFixture) -> Any:
    """The run's observations (``_stations`` then ``_observations``) of a copy of the sample
    whose station ids have ``FR`` replaced by `prefix` in both files."""
    from trajectoire.batch.pipeline import _observations, _stations
    from trajectoire.config import load_config
    from trajectoire.geo.grid import Grid

    for name in SAMPLE.iterdir():
        if name.name in ("stations.csv", "observations_annual.csv"):
            (tmp_path / name.name).write_text(name.read_text().replace("FR", prefix))
        elif name.name == "config.toml":  # a copy: the files are found beside it
            (tmp_path / name.name).write_text(name.read_text())
        else:
            (tmp_path / name.name).symlink_to(name)
    config = load_config(tmp_path / "config.toml")
    grid = Grid.from_bounds(690_000, 7_040_000, 730_000, 7_080_000, 1000)
    stations = _stations(config, grid)
    caplog.clear()  # the stations outside the small grid are warned about
    with caplog.at_level("WARNING", logger="trajectoire"):
        return stations, _observations(config, stations, ["NO2"])


@pytest.mark.parametrize("prefix", ["9", "0"])
def test_run_matches_station_ids_made_of_digits(
    tmp_path: Path, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Ids such as ``911025`` (read as a number, they matched no station and every
    observation was dropped) and ``011025`` (read as a number, it lost its zero and the
    observations were refused) are read as text in both files and keep their values."""
    stations, obs = _run_observations(tmp_path, prefix, caplog)
    assert stations["station_id"].iloc[0] == f"{prefix}11025"
    assert list(obs["station"].values) == stations["station_id"].tolist()
    sample = pd.read_csv(SAMPLE / "observations_annual.csv")
    no2 = sample[(sample.pollutant == "NO2") & (sample.station_id == "FR11025")]
    got = obs.sel(station=f"{prefix}11025", pollutant="NO2").to_series().dropna()
    assert got.to_dict() == dict(zip(no2.year, no2.value, strict=True))
    assert int(obs.notnull().sum()) > 100
    assert not caplog.records


def test_observations_from_table_reads_station_ids_as_text() -> None:
    """A table read without a text type for ``station_id`` (``911025`` as an integer,
    ``911034.0`` as a float) gives the ids as text, which match the stations' ids."""
    from trajectoire.assess.stations import observations_from_table

    t = pd.DataFrame({"station_id": [911025, 911034.0], "year": 2020, "value": [30.0, 20.0]})
    obs = observations_from_table(t)
    assert list(obs["station"].values) == ["911025", "911034"]
    assert obs.sel(station="911025").values.tolist() == [30.0]
    with pytest.raises(InputError, match=r"column 'station_id': no id at rows 1;"):
        observations_from_table(t.assign(station_id=["a", None]))


def test_run_warns_when_no_observation_is_at_a_station_of_the_grid(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Every observation left out (here: a grid that holds no station) is a warning that
    says why, not an INFO line counting 0 values."""
    from trajectoire.batch.pipeline import _observations, _stations
    from trajectoire.config import load_config
    from trajectoire.geo.grid import Grid

    for name in SAMPLE.iterdir():
        if name.name == "config.toml":
            (tmp_path / name.name).write_text(name.read_text())
        else:
            (tmp_path / name.name).symlink_to(name)
    config = load_config(tmp_path / "config.toml")
    grid = Grid.from_bounds(600_000, 6_900_000, 610_000, 6_910_000, 1000)  # far from all
    with caplog.at_level("WARNING", logger="trajectoire"):
        stations = _stations(config, grid)
        assert stations.empty
        caplog.clear()
        _observations(config, stations, ["NO2"])
    (record,) = caplog.records
    # the stations are all off the grid: said as such (it was said as years of the run,
    # with an empty list of the stations inside)
    assert "none of its stations (FR06003" in record.getMessage()
    assert "lies inside the grid of the run" in record.getMessage()
    assert "FR11025" in record.getMessage()
