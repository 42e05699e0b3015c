"""Ordinary mistakes in the gridded and area inventories, the land use, the roads, the
regional background and the species file: each gets one clear line naming the file, where,
the value, what was expected and the configuration key that fixes it (never a traceback, a
silent drop or a silently wrong result).

The cases call the readers directly where that is enough (with the ``what`` and
``config_key`` a run gives them), and the command line where the configuration key matters.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import xarray as xr
from affine import Affine
from shapely.geometry import LineString

from test_bad_inputs import SAMPLE, _edit_config, _error_line, _mini
from trajectoire.cli import main
from trajectoire.dispersion.background import (
    RegionalBackground,
    read_background,
    read_background_field,
)
from trajectoire.errors import GridError, InputError, TrajectoireWarning, UnitsError
from trajectoire.geo.grid import Grid
from trajectoire.inventory.gridded import read_cams_reg, read_emep_gridded
from trajectoire.inventory.readers import read_area_totals, read_gridded, read_landuse, read_roads
from trajectoire.species import read_species


def from_origin(west: float, north: float, xsize: float, ysize: float) -> Affine:
    """rasterio's from_origin, without its deprecated ``*`` of two transforms."""
    return Affine(xsize, 0.0, west, 0.0, -ysize, north)


GRIDDED = {"what": "g ([inputs] gridded)", "config_key": "[inputs] gridded"}
LAT = np.round(50.025 + 0.05 * np.arange(20), 4)
LON = np.round(2.05 + 0.1 * np.arange(12), 4)


def _tif(
    path: Path,
    data: np.ndarray,
    *,
    crs: str | None = "EPSG:2154",
    transform: Any = None,
    units: str | None = "t yr-1",
    dtype: str = "float32",
) -> Path:
    data = np.asarray(data)[None]
    with rasterio.open(
        path, "w", driver="GTiff", width=data.shape[2], height=data.shape[1], count=1,
        dtype=dtype, crs=crs, transform=transform or from_origin(660000, 6930000, 1000, 1000),
    ) as dst:  # fmt: skip
        dst.write(data.astype(dtype))
        if units:
            dst.update_tags(units=units)
    return path


def _one_line(exc: pytest.ExceptionInfo[BaseException]) -> str:
    text = str(exc.value)
    assert "\n" not in text, text
    return text


# ---------------------------------------------------------------------------- read_gridded
def test_a_netcdf_with_lon_before_lat_is_read_as_lat_lon(tmp_path: Path) -> None:
    """A variable stored (lon, lat) was a crash (or, on a square grid, silently transposed)."""
    da = xr.DataArray(
        np.arange(240.0).reshape(20, 12), dims=("lat", "lon"),
        coords={"lat": LAT, "lon": LON}, attrs={"units": "t yr-1"},
    )  # fmt: skip
    da.to_dataset(name="emission").to_netcdf(tmp_path / "a.nc")
    da.T.to_dataset(name="emission").to_netcdf(tmp_path / "b.nc")
    square = da.isel(lat=slice(0, 12))
    square.to_dataset(name="emission").to_netcdf(tmp_path / "c.nc")
    square.T.to_dataset(name="emission").to_netcdf(tmp_path / "d.nc")
    kw = {"sector": "B_Industry", "pollutant": "NOx"}
    a, b = (read_gridded(tmp_path / n, **kw) for n in ("a.nc", "b.nc"))
    c, d = (read_gridded(tmp_path / n, **kw) for n in ("c.nc", "d.nc"))
    np.testing.assert_array_equal(a.values, b.values)
    np.testing.assert_array_equal(c.values, d.values)


def test_a_file_that_is_not_netcdf_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "g.nc").write_text("not a netcdf file")
    with pytest.raises(InputError) as exc:
        read_gridded(tmp_path / "g.nc", sector="B", pollutant="NOx", **GRIDDED)
    assert "could not read" in _one_line(exc) and "as NetCDF" in str(exc.value)


def test_metres_labelled_in_degrees_are_an_error(tmp_path: Path) -> None:
    path = _tif(tmp_path / "g.tif", np.ones((10, 12)), crs="EPSG:4326")
    with pytest.raises(GridError) as exc:
        read_gridded(path, sector="B", pollutant="NOx", **GRIDDED)
    assert "beyond ±180/±90" in _one_line(exc) and "EPSG:4326" in str(exc.value)


def test_degrees_labelled_in_metres_are_an_error(tmp_path: Path) -> None:
    path = _tif(tmp_path / "g.tif", np.ones((10, 12)), transform=from_origin(2.0, 51.0, 0.1, 0.1))
    with pytest.raises(GridError) as exc:
        read_gridded(path, sector="B", pollutant="NOx", **GRIDDED)
    assert "degrees of longitude/latitude" in _one_line(exc)


def test_an_undeclared_nodata_marker_is_named(tmp_path: Path) -> None:
    data = np.ones((10, 12))
    data[:3, :3] = -9999
    path = _tif(tmp_path / "g.tif", data)
    with pytest.raises(InputError) as exc:
        read_gridded(path, sector="B", pollutant="NOx", **GRIDDED)
    line = _one_line(exc)
    assert "9 negative" in line and "-a_nodata -9999" in line
    assert "[inputs.gridded] fill_value = 0.0" in line


def test_a_grid_of_zeros_is_warned(tmp_path: Path) -> None:
    path = _tif(tmp_path / "g.tif", np.zeros((10, 12)))
    with pytest.warns(TrajectoireWarning, match="every cell of the grid is 0"):
        read_gridded(path, sector="B", pollutant="NOx", **GRIDDED)


def test_irregular_coordinates_name_the_file(tmp_path: Path) -> None:
    lon = np.r_[LON[:6], LON[6:] + 0.05]
    da = xr.DataArray(np.ones((20, 12)), dims=("lat", "lon"), coords={"lat": LAT, "lon": lon})
    da.attrs["units"] = "t yr-1"
    da.to_dataset(name="emission").to_netcdf(tmp_path / "g.nc")
    with pytest.raises(GridError, match=r"^g \(\[inputs\] gridded\): coordinate 'x'"):
        read_gridded(tmp_path / "g.nc", sector="B", pollutant="NOx", **GRIDDED)


def _run_gridded(tmp_path: Path, path: Path, options: str) -> str:
    cfg = _mini(tmp_path / "in")
    _edit_config(
        tmp_path / "in",
        r'^background = "background.csv"',
        f'background = "background.csv"\ngridded = {{ path = "{path.name}"{options} }}',
    )
    out = tmp_path / "out.nc"
    assert main(["run", str(cfg), "--out", str(out), "-q", "--years", "2018:2018"]) == 2
    assert not out.exists()
    return ""


@pytest.mark.parametrize(
    ("units", "crs", "nan", "expect"),
    [
        (None, "EPSG:2154", False, "Set [inputs.gridded] unit = 't yr-1'"),
        ("t yr-1", None, False, "Set [inputs.gridded] crs = 'EPSG:2154'"),
        ("t yr-1", "EPSG:2154", True, "set [inputs.gridded] fill_value = 0.0"),
    ],
    ids=["no units", "no CRS", "a NaN cell"],
)
def test_a_run_names_the_option_that_fixes_the_raster(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    units: str | None,
    crs: str | None,
    nan: bool,
    expect: str,
) -> None:
    data = np.ones((10, 12))
    if nan:
        data[2, 2] = np.nan
    (tmp_path / "in").mkdir()
    path = _tif(tmp_path / "in" / "g.tif", data, crs=crs, units=units)
    _run_gridded(tmp_path, path, ', sector = "B_Industry", pollutant = "NOx"')
    line = _error_line(capsys)
    assert "g.tif ([inputs] gridded)" in line and expect in line, line


# ---------------------------------------------------------------------------- CAMS-REG, EMEP
def _cams(path: Path, *, time: list[int] | None = None, lat: Any = LAT) -> Path:
    ds = xr.Dataset()
    for s in ("A_PublicPower", "F_RoadTransport"):
        d = xr.DataArray(
            np.ones((20, 12)), dims=("lat", "lon"), coords={"lat": lat, "lon": LON},
            attrs={"units": "kg"},
        )  # fmt: skip
        ds[s] = d.expand_dims(time=time) if time else d
    ds.attrs["species"] = "nox"
    ds.to_netcdf(path)
    return path


def test_cams_messages_name_the_options_table(tmp_path: Path) -> None:
    path = _cams(tmp_path / "c.nc", time=[2017, 2018, 2019])
    with pytest.raises(InputError) as exc:
        read_cams_reg(path, **GRIDDED)
    assert "set [inputs.gridded] year = 2019" in _one_line(exc)


def test_cams_not_netcdf_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "c.nc").write_text("hello")
    with pytest.raises(InputError) as exc:
        read_cams_reg(tmp_path / "c.nc", **GRIDDED)
    assert "not a readable NetCDF file" in _one_line(exc)


def test_cams_bbox_written_latitude_first_is_said(tmp_path: Path) -> None:
    with pytest.raises(InputError) as exc:
        read_cams_reg(_cams(tmp_path / "c.nc"), bbox=[50.0, 2.0, 51.0, 3.0], **GRIDDED)
    assert "[2, 50, 3, 51] if it was written latitude first" in _one_line(exc)


def test_cams_latitudes_in_metres_are_an_error(tmp_path: Path) -> None:
    with pytest.raises(GridError, match=r"beyond ±180/±90"):
        read_cams_reg(_cams(tmp_path / "c.nc", lat=LAT * 1e5), **GRIDDED)


def _emep(path: Path, rows: list[tuple[Any, ...]]) -> Path:
    head = "# Format: ISO2;YEAR;SECTOR;POLLUTANT;LONGITUDE;LATITUDE;UNIT;EMISSION\n"
    path.write_text(head + "".join(f"FR;2019;{';'.join(map(str, r))};Mg;1.0\n" for r in rows))
    return path


ROWS = [("F_RoadTransport", "NOx", 3.05, 50.55), ("F_RoadTransport", "NOx", 3.15, 50.55)]


def test_emep_longitude_and_latitude_swapped(tmp_path: Path) -> None:
    """A bbox around the domain left no row: an empty inventory, or 'see the warnings'
    with no warning."""
    path = _emep(tmp_path / "e.txt", [(s, p, y, x) for s, p, x, y in ROWS])
    with pytest.raises(InputError) as exc:
        read_emep_gridded(path, bbox=[1.5, 49.8, 4.5, 51.2], **GRIDDED)
    assert "no row inside the bbox" in _one_line(exc) and "look swapped" in str(exc.value)


def test_emep_rows_given_twice_are_an_error(tmp_path: Path) -> None:
    with pytest.raises(InputError) as exc:
        read_emep_gridded(_emep(tmp_path / "e.txt", ROWS + ROWS[:1]), **GRIDDED)
    line = _one_line(exc)
    assert "given more than once" in line and "line 2 of" in line and "line 4 of" in line
    assert "FR 2019 F_ROADTRANSPORT NOX 3.05 50.55" in line


def test_emep_latitude_beyond_90_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(GridError, match=r"beyond ±180/±90"):
        read_emep_gridded(_emep(tmp_path / "e.txt", [("F", "NOx", 3.05, 95.05)]), **GRIDDED)


# ---------------------------------------------------------------------------- land use
LANDUSE = {"what": "landuse.tif ([inputs] landuse)", "config_key": "[inputs] landuse"}


def _landuse(path: Path, edit: Any, **kw: Any) -> Path:
    with rasterio.open(SAMPLE / "landuse.tif") as src:
        data, profile = src.read(1), src.profile
    return _tif(
        path, edit(data), crs=kw.get("crs", "EPSG:2154"), transform=profile["transform"],
        units=None, dtype=kw.get("dtype", "uint8"),
    )  # fmt: skip


def test_landuse_codes_not_whole_are_an_error(tmp_path: Path) -> None:
    """An averaged raster (codes 1.4) was read as class 1, silently."""
    path = _landuse(tmp_path / "lu.tif", lambda d: d + 0.4, dtype="float32")
    with pytest.raises(InputError) as exc:
        read_landuse(path, **LANDUSE)
    assert "not whole numbers (1.4," in _one_line(exc) and "gdalwarp -r near" in str(exc.value)


def test_landuse_metres_labelled_in_degrees(tmp_path: Path) -> None:
    path = _landuse(tmp_path / "lu.tif", lambda d: d, crs="EPSG:4326")
    with pytest.raises(GridError, match=r"landuse.tif \(\[inputs\] landuse\): its CRS"):
        read_landuse(path, **LANDUSE)


def test_landuse_without_crs_names_the_key(tmp_path: Path) -> None:
    path = _landuse(tmp_path / "lu.tif", lambda d: d, crs=None)
    with pytest.raises(InputError, match=r"Set \[inputs.landuse\] crs = 'EPSG:2154'"):
        read_landuse(path, **LANDUSE)


# ---------------------------------------------------------------------------- roads
ROADS = {"what": "roads.gpkg ([inputs] roads)", "config_key": "[inputs] roads"}
FACTORS = SAMPLE / "road_emission_factors.csv"


def _roads(path: Path, edit: Any) -> Path:
    edit(gpd.read_file(SAMPLE / "roads.gpkg")).to_file(path, driver="GPKG")
    return path


def _set(col: str, value: Any) -> Any:
    def edit(g: Any) -> Any:
        g[col] = g[col].astype(object)
        g.loc[3, col] = value
        return g

    return edit


def test_roads_traffic_as_text_is_one_line(tmp_path: Path, capsys: Any) -> None:
    cfg = _mini(tmp_path / "in")
    (tmp_path / "in" / "roads.gpkg").unlink()
    _roads(tmp_path / "in" / "roads.gpkg", _set("aadt", "12 000"))
    assert (
        main(["run", str(cfg), "--out", str(tmp_path / "o.nc"), "-q", "--years", "2018:2018"]) == 2
    )
    line = _error_line(capsys)
    assert "roads.gpkg" in line and "'aadt'" in line and "'12 000'" in line and "A1-00004" in line


def test_roads_of_zero_length_are_an_error(tmp_path: Path) -> None:
    def flat(g: Any) -> Any:
        x, y = g.geometry.iloc[2].coords[0]
        g.loc[2, "geometry"] = LineString([(x, y), (x, y)])
        return g

    with pytest.raises(InputError) as exc:
        read_roads(_roads(tmp_path / "r.gpkg", flat), emission_factors=FACTORS, **ROADS)
    assert "zero length (road_id A1-00003)" in _one_line(exc)


def test_roads_of_an_unknown_category_are_named(tmp_path: Path) -> None:
    path = _roads(tmp_path / "r.gpkg", _set("category", "residential"))
    with pytest.raises(InputError) as exc:
        read_roads(path, emission_factors=FACTORS, **ROADS)
    line = _one_line(exc)
    assert "'residential' at road_id A1-00004" in line and "[inputs] road_emission_factors" in line


def test_roads_without_crs(tmp_path: Path) -> None:
    """The crs option gives a file without one its CRS; without it, the key is named."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # GDAL: no CRS written
        path = _roads(tmp_path / "r.gpkg", lambda g: g.set_crs(None, allow_override=True))
    with pytest.raises(InputError, match=r"Set \[inputs.roads\] crs = \"EPSG:2154\""):
        read_roads(path, emission_factors=FACTORS, **ROADS)
    got = read_roads(path, emission_factors=FACTORS, crs="EPSG:2154", **ROADS)
    ref = read_roads(SAMPLE / "roads.gpkg", emission_factors=FACTORS)
    assert got.crs == ref.crs and np.array_equal(got["NOx"], ref["NOx"])


def test_roads_metres_labelled_in_degrees(tmp_path: Path) -> None:
    path = _roads(tmp_path / "r.gpkg", lambda g: g.set_crs("EPSG:4326", allow_override=True))
    with pytest.raises(GridError, match=r"beyond ±180/±90"):
        read_roads(path, emission_factors=FACTORS, **ROADS)


# ---------------------------------------------------------------------------- area totals
def test_area_totals_of_several_years(tmp_path: Path) -> None:
    table = pd.read_csv(SAMPLE / "area_emissions.csv")
    pd.concat([table.assign(year=2018), table.assign(year=2019)]).to_csv(
        tmp_path / "a.csv", index=False
    )
    with pytest.raises(InputError) as exc:
        read_area_totals(tmp_path / "a.csv", what="a.csv ([inputs] area_emissions)")
    line = _one_line(exc)
    assert "column 'year': 2 years '2018' (first at line 2), '2019'" in line
    assert "reference_year" in line


# ---------------------------------------------------------------------------- background
def _background(tmp_path: Path, row: int, column: str, value: Any) -> Path:
    table = pd.read_csv(SAMPLE / "background.csv")
    table[column] = table[column].astype(object)
    table.loc[row, column] = value
    table.to_csv(tmp_path / "background.csv", index=False)
    return tmp_path / "background.csv"


@pytest.mark.parametrize("year", [2018.5, 18])
def test_background_year_not_a_year(tmp_path: Path, year: float) -> None:
    """2018.5 was read as 2018 (a misleading repeat), 18 as the year 18 (silently)."""
    with pytest.raises(InputError) as exc:
        read_background(_background(tmp_path, 3, "year", year))
    assert f"column 'year': {year:g} at line 5" in _one_line(exc)


def test_background_empty_units_cell(tmp_path: Path) -> None:
    with pytest.raises(UnitsError) as exc:
        read_background(_background(tmp_path, 3, "units", None))
    assert "column 'units': empty at line 5" in _one_line(exc)


FIELD = {"what": "bg.nc ([inputs] background)", "config_key": "[inputs] background"}
GRID = Grid.from_bounds(650000, 6895000, 703000, 6934000, 1000, "EPSG:2154")


def _field(path: Path, values: np.ndarray) -> Path:
    lat = np.round(48.0 + 0.15 * np.arange(25), 4)
    lon = np.round(1.5 + 0.1 * np.arange(40), 4)
    time = pd.date_range("2018-01-01", periods=12, freq="MS")
    xr.DataArray(
        values, dims=("time", "lat", "lon"), coords={"time": time, "lat": lat, "lon": lon},
        attrs={"units": "ug m-3"},
    ).to_dataset(name="no2").to_netcdf(path)  # fmt: skip
    return path


def test_background_field_gaps_are_located(tmp_path: Path) -> None:
    values = np.full((12, 25, 40), 10.0)
    values[:, 8:11, 15:18] = np.nan
    field = read_background_field(
        _field(tmp_path / "bg.nc", values), variables={"NO2": "no2"}, **FIELD
    )
    with pytest.raises(InputError) as exc:
        RegionalBackground(field, GRID)
    line = _one_line(exc)
    assert "6 missing value(s)" in line and "NO2 2018 at y=" in line
    assert "[inputs.background] path" in line


def test_background_field_negative_means(tmp_path: Path) -> None:
    values = np.full((12, 25, 40), 10.0)
    values[:, 9, 16] = -2.0
    with pytest.raises(InputError) as exc:
        read_background_field(_field(tmp_path / "bg.nc", values), variables={"NO2": "no2"}, **FIELD)
    assert "1 negative annual mean(s), down to -2" in _one_line(exc)


def test_background_field_not_netcdf_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "bg.nc").write_text("hello")
    with pytest.raises(InputError) as exc:
        read_background_field(tmp_path / "bg.nc", variables={"NO2": "no2"}, **FIELD)
    assert "cannot read as NetCDF" in _one_line(exc)


# ---------------------------------------------------------------------------- species
@pytest.mark.parametrize(
    ("text", "expect"),
    [
        (
            '[species.PFOS]\nname = "PFOS"\nunit_family = "mass"\n'
            '[species.pfos]\nname = "pfos"\nunit_family = "mass"\n',
            "species 'pfos': defined twice, as [species.PFOS] and [species.pfos]",
        ),
        (
            "[species.NOx]\nmolar_mass = 46.0\n[species.nox]\nmolar_mass = 30.0\n",
            "species 'nox': defined twice, as [species.NOx] and [species.nox]",
        ),
        ('[species.""]\nname = "PFOS"\nunit_family = "mass"\n', "species '': an empty id"),
    ],
    ids=["new species twice by case", "built-in species twice", "empty id"],
)
def test_species_defined_twice_or_without_id(tmp_path: Path, text: str, expect: str) -> None:
    """The second table won (or hid the first) silently."""
    (tmp_path / "sp.toml").write_text(text)
    with pytest.raises(InputError) as exc:
        read_species(tmp_path / "sp.toml", what="sp.toml ([species] file)")
    assert expect in _one_line(exc)
