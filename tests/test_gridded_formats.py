"""CAMS-REG NetCDF and EMEP/CEIP gridded text files, read as read_gridded returns (issue 12)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from trajectoire import Grid
from trajectoire.errors import ConfigError, InputError, MissingVariableError, UnitsError
from trajectoire.inventory.build import build_inventory
from trajectoire.inventory.gridded import read_cams_reg, read_emep_gridded

#: the synthetic gridded files of these tests cover part of the run's grid on purpose
PART_OF_GRID = pytest.mark.filterwarnings(
    "ignore:.*of the run's grid.*:trajectoire.errors.TrajectoireWarning"
)

KEY = "[inputs.gridded]"
# 0.1 x 0.05 degree cells around Lille (CAMS-REG grid)
LON = np.round(np.arange(2.75, 3.30, 0.1), 6)  # 6 centres 2.75 .. 3.25
LAT = np.round(np.arange(50.525, 50.80, 0.05), 6)  # 6 centres 50.525 .. 50.775


def _eccad_file(tmp_path: Path, pollutant: str = "nox", units: str = "kg") -> Path:
    """One file per pollutant, one variable per GNFR sector, dims (time, lat, lon)."""
    rng = np.random.default_rng(0)
    sectors = ["A_PublicPower", "C_OtherStationaryComb", "D_Fugitives", "F_RoadTransport"]
    data = {
        s: (("time", "lat", "lon"), rng.uniform(0, 1000, (2, LAT.size, LON.size)), {"units": units})
        for s in sectors
    }
    data["SumAllSectors"] = (
        ("time", "lat", "lon"), sum(v[1] for v in data.values()), {"units": units}
    )  # fmt: skip
    ds = xr.Dataset(
        data,
        coords={"time": np.array(["2019-01-01", "2020-01-01"], dtype="datetime64[ns]"),
                "lat": LAT, "lon": LON},
    )  # fmt: skip
    path = tmp_path / f"CAMS-REG-ANT_EUR_0.05x0.1_anthro_{pollutant}_v5.1_yearly.nc"
    ds.to_netcdf(path)
    return path


def _sector_dim_file(tmp_path: Path) -> Path:
    """One variable per pollutant with a sector dim (labels A..L, F1..F4)."""
    secs = ["A", "B", "F1", "F2", "K"]
    ds = xr.Dataset(
        {
            "emis_nox": (("sector", "lat", "lon"), np.ones((5, LAT.size, LON.size)), {"units": "Mg"}),
            "emis_pm2_5": (("sector", "lat", "lon"), np.full((5, LAT.size, LON.size), 2.0), {"units": "Mg"}),
            "emis_co": (("sector", "lat", "lon"), np.ones((5, LAT.size, LON.size)), {"units": "Mg"}),
        },
        coords={"sector": secs, "lat": LAT[::-1], "lon": LON},
    )  # fmt: skip
    path = tmp_path / "cams_sector_dim.nc"
    ds.to_netcdf(path)
    return path


def _tno_file(tmp_path: Path) -> Path:
    """TNO source list: sources on dim 'source' with 1-based cell and category indices."""
    lon_i = np.array([1, 1, 3, 6, 6])
    lat_i = np.array([1, 1, 2, 6, 6])
    cat = np.array([1, 6, 9, 3, 15])  # A, F1, F4, C, L
    ds = xr.Dataset(
        {
            "longitude_index": ("source", lon_i),
            "latitude_index": ("source", lat_i),
            "emission_category_index": ("source", cat),
            "source_type_index": ("source", np.array([1, 1, 1, 2, 1])),
            "longitude_source": ("source", LON[lon_i - 1]),
            "latitude_source": ("source", LAT[lat_i - 1]),
            "nox": ("source", np.array([1000.0, 2000.0, 3000.0, 4000.0, 5000.0]), {"units": "kg/year"}),
        },
        coords={"longitude": LON, "latitude": LAT},
    )  # fmt: skip
    path = tmp_path / "CAMS-REG-v8_1_emissions_year2019.nc"
    ds.to_netcdf(path)
    return path


EMEP = """# Format: ISO2;YEAR;SECTOR;POLLUTANT;LONGITUDE;LATITUDE;UNIT;EMISSION
# Created: test
FR;2021;A_PublicPower;NOx;2.95;50.55;Mg;10.5
FR;2021;A_PublicPower;NOx;3.05;50.65;Mg;1.25
BE;2021;A_PublicPower;NOx;3.05;50.65;Mg;0.75
FR;2021;F_RoadTransport;NOx;3.15;50.75;Mg;100
FR;2021;F_RoadTransport;PM2_5;3.15;50.75;Mg;7
FR;2021;F_RoadTransport;CO;3.15;50.75;Mg;70
FR;2021;P_IntShipping;NOx;2.45;51.05;Mg;50
FR;2021;C_OtherStationaryComb;SOx;3.25;50.55;Mg;2
"""


def _emep_file(
    tmp_path: Path, text: str = EMEP, name: str = "NOx_A_PublicPower_2023_GRID_2021.txt"
) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="ascii")
    return path


def _covering_grid(lon: tuple[float, float], lat: tuple[float, float]) -> Grid:
    """A Lambert-93 grid that holds the whole lon/lat box (with a margin)."""
    import pyproj

    t = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:2154", always_xy=True)
    xs, ys = t.transform([lon[0], lon[0], lon[1], lon[1]], [lat[0], lat[1], lat[0], lat[1]])
    return Grid.from_bounds(
        min(xs) - 20_000, min(ys) - 20_000, max(xs) + 20_000, max(ys) + 20_000, 2000, snap=True
    )


# ------------------------------------------------------------------------ CAMS-REG
@PART_OF_GRID
def test_cams_eccad_layout(tmp_path: Path) -> None:
    path = _eccad_file(tmp_path)
    da = read_cams_reg(path, year=2020, config_key=KEY)
    assert da.dims == ("sector", "pollutant", "y", "x") and da.attrs["units"] == "t yr-1"
    assert da.attrs["crs"] == "EPSG:4326"
    assert da["sector"].values.tolist() == [
        "A_PublicPower", "C_OtherStationaryComb", "D_Fugitive", "F_RoadTransport"
    ]  # fmt: skip
    assert da["pollutant"].values.tolist() == ["NOx"]
    with xr.open_dataset(path) as ds:
        expected = float(ds["SumAllSectors"].isel(time=1).sum()) * 1e-3  # kg -> t
    assert float(da.sum()) == pytest.approx(expected)
    # the total is conserved on a Lambert-93 grid covering the whole file
    grid = _covering_grid((2.7, 3.3), (50.5, 50.8))
    inv = build_inventory(grid, reference_year=2020, gridded=da)
    assert float(inv["emission"].sum()) == pytest.approx(expected, rel=1e-9)


def test_cams_bbox_crops_first(tmp_path: Path) -> None:
    path = _eccad_file(tmp_path)
    full = read_cams_reg(path, year=2019)
    box = read_cams_reg(path, year=2019, bbox=[2.9, 50.6, 3.1, 50.7])
    # cells overlapping the box: centres 2.95, 3.05 (and 2.85/3.15 touch only the edges)
    assert box.sizes["x"] == 2 and box.sizes["y"] == 2
    sub = full.sel(x=[2.95, 3.05], y=[50.625, 50.675])
    np.testing.assert_allclose(np.sort(box.values.ravel()), np.sort(sub.values.ravel()))
    with pytest.raises(InputError, match=r"bbox.*holds no cell"):
        read_cams_reg(path, year=2019, bbox=[10, 40, 11, 41])
    with pytest.raises(ConfigError, match=r"bbox must be.*\[inputs.gridded\] bbox"):
        read_cams_reg(path, year=2019, bbox=[3.1, 50.6, 2.9, 50.7], config_key=KEY)


def test_cams_sector_dim_layout_and_flux_units(tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match=r"emis_co \(pollutant not modelled\)"):
        da = read_cams_reg(_sector_dim_file(tmp_path))
    assert da["sector"].values.tolist() == [
        "A_PublicPower",
        "B_Industry",
        "F_RoadTransport",
        "K_AgriLivestock",
    ]
    n = LAT.size * LON.size
    assert float(da.sel(sector="F_RoadTransport", pollutant="NOx").sum()) == pytest.approx(2 * n)
    assert float(da.sel(pollutant="PM2.5").sum()) == pytest.approx(2.0 * 5 * n)
    # fluxes kg m-2 s-1: times the cell area on the sphere and the seconds of a year
    flux = _eccad_file(tmp_path, units="kg m-2 s-1")
    got = read_cams_reg(flux, year=2019, pollutants=["NOx"])
    with xr.open_dataset(flux) as ds:
        v = ds["A_PublicPower"].isel(time=0).values
    r = 6_371_000.0
    band = np.sin(np.radians(LAT + 0.025)) - np.sin(np.radians(LAT - 0.025))
    area = (r**2 * np.radians(0.1) * band)[:, None]
    expected = float((v * area).sum()) * 365.25 * 86400 * 1e-3
    assert float(got.sel(sector="A_PublicPower").sum()) == pytest.approx(expected, rel=1e-9)


@PART_OF_GRID
def test_cams_tno_source_list(tmp_path: Path) -> None:
    da = read_cams_reg(_tno_file(tmp_path))
    assert float(da.sum()) == pytest.approx(15.0)  # kg/year -> t yr-1
    road = da.sel(sector="F_RoadTransport", pollutant="NOx")
    assert float(road.sum()) == pytest.approx(5.0)  # F1 + F4
    assert float(road.sel(x=LON[0], y=LAT[0])) == pytest.approx(2.0)
    box = read_cams_reg(_tno_file(tmp_path), bbox=[2.7, 50.5, 2.8, 50.55])
    # a box of one cell: its neighbour is read too (a grid has two cells along each axis)
    assert box.sizes["x"] == 2 and float(box.sum()) == pytest.approx(3.0)
    grid = _covering_grid((2.7, 3.3), (50.5, 50.8))
    inv = build_inventory(grid, reference_year=2019, gridded=da)
    assert float(inv["emission"].sum()) == pytest.approx(15.0, rel=1e-9)


def test_cams_bad_inputs(tmp_path: Path) -> None:
    path = _eccad_file(tmp_path)
    with pytest.raises(InputError, match=r"several years \[2019, 2020\].*\[inputs.gridded\] year"):
        read_cams_reg(path, config_key=KEY)
    with pytest.raises(InputError, match=r"no year 2005.*\[inputs.gridded\] year"):
        read_cams_reg(path, year=2005, config_key=KEY)
    bad_units = _eccad_file(tmp_path, pollutant="so2", units="ug m-3")
    with pytest.raises(
        UnitsError, match=r"anthro_so2.*A_PublicPower.*'ug m-3'.*\[inputs.gridded\] unit"
    ):
        read_cams_reg(bad_units, year=2019, config_key=KEY)
    anonymous = tmp_path / "cams.nc"
    xr.open_dataset(path).to_netcdf(anonymous)
    with pytest.raises(
        MissingVariableError,
        match=r'cams.nc: cannot tell the pollutant.*\[inputs.gridded\] pollutant = "NOx"',
    ):
        read_cams_reg(anonymous, year=2019, config_key=KEY)
    assert float(read_cams_reg(anonymous, year=2019, pollutant="NOx").sum()) > 0
    with pytest.raises(InputError, match=r"file not found.*\[inputs.gridded\] path"):
        read_cams_reg(tmp_path / "missing.nc", config_key=KEY)
    xyz = tmp_path / "xy.nc"
    xr.Dataset({"nox": (("y", "x"), np.ones((2, 2)))}).to_netcdf(xyz)
    with pytest.raises(MissingVariableError, match=r"xy.nc: no lon/lat dims"):
        read_cams_reg(xyz)
    with pytest.raises(ConfigError, match=r"not a GNFR id.*\[inputs.gridded\] sector_mapping"):
        read_cams_reg(path, year=2019, sector_mapping={"D_Fugitives": "Leaks"}, config_key=KEY)


@PART_OF_GRID
# ------------------------------------------------------------------------ EMEP/CEIP
def test_emep_round_trip(tmp_path: Path) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        da = read_emep_gridded(_emep_file(tmp_path), config_key=KEY)
    messages = " | ".join(str(w.message) for w in caught)
    assert "P_IntShipping (50 t yr-1)" in messages and "CO (70 t yr-1)" in messages
    assert da.attrs["units"] == "t yr-1" and da.attrs["crs"] == "EPSG:4326"
    assert da.sizes["x"] == 4 and da.sizes["y"] == 3  # 2.95..3.25 x 50.55..50.75
    assert float(da.sel(sector="A_PublicPower", pollutant="NOx", x=3.05, y=50.65)) == pytest.approx(
        2.0
    )
    assert set(da["pollutant"].values) == {"NOx", "PM2.5", "SO2"}
    total = 10.5 + 1.25 + 0.75 + 100 + 7 + 2
    assert float(da.sum()) == pytest.approx(total)
    grid = _covering_grid((2.9, 3.3), (50.5, 50.8))
    inv = build_inventory(grid, reference_year=2021, gridded=da)
    assert float(inv["emission"].sum()) == pytest.approx(total, rel=1e-9)


def test_emep_bbox_countries_pollutants_mapping(tmp_path: Path) -> None:
    path = _emep_file(tmp_path)
    box = read_emep_gridded(path, bbox=[3.0, 50.6, 3.1, 50.7], pollutants=["NOx"])
    assert box.sizes["x"] == 2 and box.sizes["y"] == 2  # one cell, and a neighbour
    assert float(box.sum()) == pytest.approx(2.0)
    fr = read_emep_gridded(path, bbox=[3.0, 50.6, 3.1, 50.7], countries=["FR"], pollutants=["NOx"])
    assert float(fr.sum()) == pytest.approx(1.25)
    ships = read_emep_gridded(
        path, pollutants=["NOx"], sector_mapping={"P_IntShipping": "G_Shipping"}
    )
    assert float(ships.sel(sector="G_Shipping").sum()) == pytest.approx(50.0)
    # a header row instead of the '# Format' comment, several files, gzip
    import gzip

    plain = tmp_path / "plain.txt.gz"
    plain.write_bytes(gzip.compress(EMEP.replace("# Format: ", "").encode()))
    both = read_emep_gridded([plain, path], pollutants=["PM2.5"])
    assert float(both.sum()) == pytest.approx(14.0)


def test_emep_bad_inputs(tmp_path: Path) -> None:
    bad_num = _emep_file(tmp_path, EMEP.replace("10.5", "10,5x"), "bad.txt")
    with pytest.raises(
        InputError, match=r"bad.txt, column 'EMISSION'.*'10,5x' at line 3.*\[inputs.gridded\]"
    ):
        read_emep_gridded(bad_num, config_key=KEY)
    no_col = _emep_file(tmp_path, EMEP.replace("LATITUDE", "LAT"), "nocol.txt")
    with pytest.raises(
        MissingVariableError, match=r"nocol.txt: missing column\(s\) \['LATITUDE'\]"
    ):
        read_emep_gridded(no_col, config_key=KEY)
    bad_unit = _emep_file(tmp_path, EMEP.replace(";Mg;", ";kWh;"), "unit.txt")
    with pytest.raises(
        UnitsError, match=r"unit.txt, column 'UNIT'.*'kWh'.*\[inputs.gridded\] unit"
    ):
        read_emep_gridded(bad_unit, config_key=KEY)
    off = _emep_file(tmp_path, EMEP.replace("2.95;50.55", "2.93;50.55"), "off.txt")
    with pytest.raises(
        InputError, match=r"line 3 of .*off.txt: 2.93, 50.55.*\[inputs.gridded\] resolution"
    ):
        read_emep_gridded(
            off, config_key=KEY, pollutants=["NOx"], sector_mapping={"P_IntShipping": "drop"}
        )
    neg = _emep_file(tmp_path, EMEP.replace("10.5", "-10.5"), "neg.txt")
    with pytest.raises(
        InputError, match=r"neg.txt, column 'EMISSION': negative value\(s\) at lines 3"
    ):
        read_emep_gridded(neg)
    with pytest.raises(ConfigError, match=r"\[inputs.gridded\] pollutants"):
        read_emep_gridded(_emep_file(tmp_path), pollutants=["Ozone"], config_key=KEY)


# ------------------------------------------------------------------ GriddedOptions
def test_gridded_options_keep_their_keywords(tmp_path: Path) -> None:
    """`pollutants`, `bbox`, `sector_mapping`, `what` and `config_key` (GriddedOptions) are
    taken by keyword as before the group, with the same effect."""
    box = [2.9, 50.5, 3.3, 50.8]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # P_IntShipping dropped, CO not asked for: no warning
        emep = read_emep_gridded(_emep_file(tmp_path), pollutants=["NOx"], bbox=box,
                                 sector_mapping={"P_IntShipping": "drop"}, what="EMEP NOx",
                                 config_key=KEY)  # fmt: skip
    assert emep["pollutant"].values.tolist() == ["NOx"]
    assert float(emep.sum()) == pytest.approx(10.5 + 1.25 + 0.75 + 100)
    path = _eccad_file(tmp_path)
    cams = read_cams_reg(path, year=2019, pollutants=["NOx"], bbox=[2.85, 50.5, 3.3, 50.8],
                         sector_mapping={"D_Fugitives": "drop"}, what="CAMS NOx", config_key=KEY)  # fmt: skip
    assert "D_Fugitive" not in cams["sector"].values
    with xr.open_dataset(path) as ds:
        kept = ["A_PublicPower", "C_OtherStationaryComb", "F_RoadTransport"]
        inside = ds.isel(time=0).sel(lon=slice(2.8, None))  # the cells of the bbox
        expected = sum(float(inside[s].sum()) for s in kept) * 1e-3  # kg -> t
    assert float(cams.sum()) == pytest.approx(expected)
    # `what` names the input, `config_key` the key that fixes it
    bad = _emep_file(tmp_path, EMEP.replace("10.5", "10,5x"), "bad.txt")
    with pytest.raises(InputError, match=r"^EMEP NOx, column 'EMISSION'.*\[inputs.gridded\]"):
        read_emep_gridded(bad, what="EMEP NOx", config_key=KEY)
    with pytest.raises(ConfigError, match=r"bbox must be.*Fix \[inputs.gridded\] bbox"):
        read_cams_reg(path, bbox=[3.3, 50.5, 2.8, 50.8], config_key=KEY)


@pytest.mark.parametrize("reader", [read_cams_reg, read_emep_gridded])
def test_a_misspelt_gridded_option_is_one_error_naming_it(tmp_path: Path, reader: Any) -> None:
    with pytest.raises(
        TypeError,
        match=rf"^{reader.__name__}\(\) got an unexpected keyword argument 'box' \(did you mean 'bbox'\?\); ",
    ):
        reader(tmp_path / "never_read.nc", box=[2.9, 50.5, 3.3, 50.8], config_key=KEY)


def test_an_input_reaches_the_gridded_options_by_name(tmp_path: Path) -> None:
    """The configuration sets GriddedOptions' keys by name, refuses a misspelt one, and the
    reader gets `what` and `config_key` from :func:`read_input`."""
    import inspect

    from fake_pipeline import write_config
    from trajectoire.io.config import load_config
    from trajectoire.io.formats import FORMATS, read_input

    assert {"pollutants", "bbox", "sector_mapping"} <= set(FORMATS["gridded"]["emep"].keywords())
    assert {"what", "config_key"} <= set(inspect.signature(read_cams_reg).parameters)
    _emep_file(tmp_path, EMEP.replace("10.5", "10,5x"), "NOx_2021.txt")
    table = '[inputs.gridded]\npath = "NOx_2021.txt"\nformat = "emep"\n'
    with pytest.raises(ConfigError, match=r"bboxx.*did you mean 'bbox'"):
        load_config(write_config(tmp_path, extra=table + "bboxx = [2.9, 50.5, 3.3, 50.8]\n"))
    cfg = load_config(write_config(tmp_path, extra=table + "bbox = [2.9, 50.5, 3.3, 50.8]\n"))
    with pytest.raises(
        InputError, match=r"^NOx_2021.txt \(\[inputs\] gridded\), column 'EMISSION'"
    ):
        read_input("gridded", cfg.inputs.gridded)
