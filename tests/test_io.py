"""Tests of trajectoire.io: CF NetCDF read by GDAL and xarray, GeoTIFF export, summary."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import rasterio
import xarray as xr

import fake_pipeline
from trajectoire.config import load_config
from trajectoire.errors import InputError, MissingVariableError
from trajectoire.grid import Grid
from trajectoire.io import (
    atomic_path,
    check_writable,
    crs_variable,
    export_geotiff,
    open_output,
    summary,
    write_netcdf,
)
from trajectoire.io.netcdf import UNSHUFFLED_VARIABLES, select_map
from trajectoire.runner import run

GRIDDED = ("emission", "concentration", "contribution", "population")


@pytest.fixture(scope="module")
def output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One output of the fake pipeline: 1990..1993, map years 1990 and 1993."""
    d = tmp_path_factory.mktemp("io")
    cfg = load_config(fake_pipeline.write_config(d, last_year=1993, map_years=(1990, 1993)))
    return run(cfg, d / "out.nc", pipeline=fake_pipeline, progress=False)


@pytest.fixture(scope="module")
def grid(output: Path) -> Grid:
    cfg = load_config(output.parent / "config.toml")
    return fake_pipeline.prepare(cfg).grid


def test_gdal_reads_every_gridded_variable_with_crs_and_exact_transform(
    output: Path, grid: Grid
) -> None:
    for name in GRIDDED:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # GDAL must not complain about the grid mapping
            with rasterio.open(f'NETCDF:"{output}":{name}') as src:
                assert src.crs.to_epsg() == 2154, name
                assert src.transform == grid.transform, name
                assert (src.height, src.width) == grid.shape
                assert src.tags(1)["units"]


def test_gdal_band_values_match_xarray(output: Path) -> None:
    with rasterio.open(f'NETCDF:"{output}":concentration') as src:
        band1 = src.read(1)
        tags = src.tags(1)
    with xr.open_dataset(output) as ds:
        expected = ds["concentration"].isel(year=0, pollutant=0).values
    assert tags["NETCDF_DIM_year"] == "1990"
    np.testing.assert_array_equal(band1, expected)


def test_xarray_round_trip_cf_attributes(output: Path, grid: Grid) -> None:
    with xr.open_dataset(output) as ds:
        assert ds.attrs["Conventions"] == "CF-1.8"
        for key in ("title", "institution", "source", "history", "references"):
            assert key in ds.attrs
        assert ds.attrs["trajectoire_version"]
        assert ds.attrs["trajectoire_config"].startswith("[run]")
        assert ds.attrs["input_checksums"].startswith('{"territories": "sha256:')
        assert "F_RoadTransport" in ds.attrs["trajectory_methods"]
        assert ds["x"].attrs["standard_name"] == "projection_x_coordinate"
        assert ds["y"].attrs["units"] == "m"
        np.testing.assert_array_equal(ds["x"].values, grid.x)
        assert ds["crs"].attrs["grid_mapping_name"] == "lambert_conformal_conic"
        assert "spatial_ref" in ds["crs"].attrs and "crs_wkt" in ds["crs"].attrs
        for name in GRIDDED:
            da = ds[name]
            assert da.attrs["grid_mapping"] == "crs"
            assert da.attrs["units"] and da.attrs["long_name"]
            assert da.dtype == np.float32
            assert da.encoding["zlib"]
            assert da.encoding["shuffle"] == (name not in UNSHUFFLED_VARIABLES)
        assert ds["emission"].dims == ("year", "sector", "pollutant", "y", "x")
        assert ds["emission"].encoding["chunksizes"] == (1, 1, 1, *grid.shape)
        assert ds["concentration"].attrs["cell_methods"] == "year: mean"  # from the registry
        # contribution: on the one year dim, missing outside the map years
        contrib = ds["contribution"]
        assert contrib.sizes["year"] == 4
        assert np.isnan(contrib.sel(year=[1991, 1992])).all()
        assert np.isfinite(contrib.sel(year=[1990, 1993])).all()
        assert list(np.atleast_1d(ds.attrs["map_years"])) == [1990, 1993]


def test_write_netcdf_round_trips_every_variable(tmp_path: Path) -> None:
    g = Grid.from_bounds(700_000, 7_050_000, 701_000, 7_050_500, 100)
    ds = xr.Dataset(coords={"year": [2000, 2001], "pollutant": ["NOx"], **g.coords()})
    ds["concentration"] = (
        ("year", "pollutant", "y", "x"),
        np.arange(2 * 5 * 10, dtype=float).reshape(2, 1, 5, 10),
        {"units": "ug m-3", "note": {"a": 1}},
    )
    ds["exposure"] = (("year", "pollutant"), [[1.0], [2.0]], {"units": "ug m-3"})
    ds.attrs["crs"] = "EPSG:2154"
    path = write_netcdf(ds, tmp_path / "a.nc")
    assert not (tmp_path / "a.nc.tmp").exists()
    with open_output(path) as back:
        for name in ds.data_vars:
            np.testing.assert_array_equal(back[name].values, ds[name].values)
            assert back[name].attrs["units"] == "ug m-3"
        assert back["concentration"].attrs["note"] == '{"a": 1}'
        assert back["concentration"].attrs["grid_mapping"] == "crs"
        assert "grid_mapping" not in back["exposure"].attrs
        assert back.attrs["crs"] == "EPSG:2154"
        assert Grid.from_xarray(back).same_as(g)


def test_crs_variable_geotransform() -> None:
    g = Grid.from_bounds(650_000, 7_000_000, 650_300, 7_000_200, 100)
    attrs = crs_variable(g).attrs
    assert attrs["GeoTransform"] == "650000.0 100.0 0.0 7000200.0 0.0 -100.0"
    assert attrs["epsg_code"] == "EPSG:2154"


def test_export_geotiff(output: Path, grid: Grid, tmp_path: Path) -> None:
    tif = export_geotiff(output, tmp_path / "c.tif", year=1993, pollutant="pm10")
    with rasterio.open(tif) as src:
        assert src.crs.to_epsg() == 2154
        assert src.transform == grid.transform
        assert src.count == 1 and src.dtypes[0] == "float32"
        assert np.isnan(src.nodata)
        assert src.profile["compress"] == "deflate" and src.profile["tiled"]
        tags = src.tags(1)
        assert tags["units"] == "ug m-3" and tags["year"] == "1993" and tags["pollutant"] == "PM10"
        assert src.descriptions[0] == "concentration PM10 1993"
        values = src.read(1)
    with xr.open_dataset(output) as ds:
        expected = ds["concentration"].sel(year=1993, pollutant="PM10").values
    np.testing.assert_array_equal(values, expected)


def test_export_geotiff_replaces_neither_the_netcdf_nor_another_file(
    output: Path, tmp_path: Path
) -> None:
    """``export_geotiff(out.nc, out.nc)`` and ``ds.trajectoire.to_geotiff`` onto the file
    the dataset was opened from replaced the run's output by a GeoTIFF; a CSV or a
    configuration given as the GeoTIFF was replaced too."""
    import shutil

    nc = shutil.copy(output, tmp_path / "out.nc")
    before = Path(nc).read_bytes()
    with pytest.raises(InputError, match="is the NetCDF the map is read from"):
        export_geotiff(nc, nc, year=1993, pollutant="PM10")
    with xr.open_dataset(nc) as ds, pytest.raises(InputError, match="the NetCDF the map is"):
        ds.trajectoire.to_geotiff(nc, year=1993, pollutant="PM10")
    assert Path(nc).read_bytes() == before
    table = tmp_path / "stations.csv"
    table.write_text("id,x,y\nA,1,2\n")
    with pytest.raises(InputError, match="exists and is not a GeoTIFF file"):
        export_geotiff(nc, table, year=1993, pollutant="PM10")
    assert table.read_text() == "id,x,y\nA,1,2\n"
    tif = export_geotiff(nc, tmp_path / "c.tif", year=1993, pollutant="PM10")
    assert export_geotiff(nc, tif, year=1992, pollutant="PM10") == tif  # a GeoTIFF: replaced


def test_a_map_of_a_dataset_already_cut_is_the_one_asked(output: Path) -> None:
    """``ds.isel(year=0).trajectoire.map(year=1993, ...)`` returned the first year's map and
    ``ds.sel(pollutant="NOx").trajectoire.map(pollutant="PM10")`` the NOx map: the asked
    value was ignored once its dimension was a scalar coordinate."""
    with xr.open_dataset(output) as ds:
        whole = ds.trajectoire.map(year=1993, pollutant="PM10")
        cut = ds.sel(year=1993).trajectoire.map(year=1993, pollutant="pm10")
        np.testing.assert_array_equal(cut.values, whole.values)
        one = ds.sel(pollutant="PM10").trajectoire.map(year=1993)
        np.testing.assert_array_equal(one.values, whole.values)
        with pytest.raises(InputError, match=r"year=1993 asked of a dataset already cut to year"):
            ds.isel(year=0).trajectoire.map(year=1993, pollutant="PM10")
        with pytest.raises(InputError, match=r"pollutant='PM10' asked of a dataset already cut"):
            ds.sel(pollutant="NOx").trajectoire.map(year=1993, pollutant="PM10")


def test_write_netcdf_mistakes_are_one_line(tmp_path: Path) -> None:
    """A DataArray, ``dtype="float16"``, ``significant_digits=0`` and a missing directory
    ended in netCDF-C's or xarray's errors ("Permission denied" for the directory); an
    existing CSV was replaced by the NetCDF."""
    ds = xr.Dataset({"v": ("x", np.arange(3.0))}, coords={"x": [0.0, 1.0, 2.0]})
    cases = [
        (ds["v"], tmp_path / "a.nc", {}, "expected an xarray.Dataset (a DataArray"),
        (ds, tmp_path / "a.nc", {"dtype": "float16"}, "dtype='float16'; expected 'float32'"),
        (ds, tmp_path / "a.nc", {"significant_digits": 0}, "significant_digits=0; expected an"),
        (ds, tmp_path / "no" / "a.nc", {}, "does not exist; create it first"),
    ]
    for data, path, kw, said in cases:
        with pytest.raises(InputError, match=re.escape(said)):
            write_netcdf(data, path, **kw)
    table = tmp_path / "t.csv"
    table.write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match="exists and is not a NetCDF file"):
        write_netcdf(ds, table)
    assert table.read_text() == "a,b\n1,2\n"
    assert not list(tmp_path.glob("*.nc"))
    write_netcdf(ds, tmp_path / "a.nc", significant_digits=3)


def test_export_contribution_needs_sector_and_map_year(output: Path, tmp_path: Path) -> None:
    tif = tmp_path / "k.tif"
    with pytest.raises(InputError, match="--sector"):
        export_geotiff(output, tif, variable="contribution", year=1990, pollutant="NOx")
    with pytest.raises(InputError, match="not a map year"):
        export_geotiff(output, tif, variable="contribution", year=1991, pollutant="NOx", sector="F")
    assert not tif.exists() and not Path(str(tif) + ".tmp").exists()
    export_geotiff(output, tif, variable="contribution", year=1990, pollutant="NOx", sector="F")
    with rasterio.open(tif) as src:
        assert src.tags(1)["sector"] == "F_RoadTransport"


def test_export_bad_requests(output: Path, tmp_path: Path) -> None:
    tif = tmp_path / "x.tif"
    with pytest.raises(MissingVariableError, match="no gridded variable 'ozone'"):
        export_geotiff(output, tif, variable="ozone", year=1990, pollutant="NOx")
    with pytest.raises(InputError, match="year 2050 not in the file; available: 1990..1993"):
        export_geotiff(output, tif, year=2050, pollutant="NOx")
    with pytest.raises(InputError, match="pollutant 'SO2' not in the file"):
        export_geotiff(output, tif, year=1990, pollutant="SO2")
    with pytest.raises(InputError, match="not found"):
        export_geotiff(tmp_path / "none.nc", tif, year=1990, pollutant="NOx")
    # a sector given for a total (concentration has no sector): was ignored, the total
    # written under the sector's name
    with pytest.raises(InputError) as info:
        export_geotiff(output, tif, year=1990, pollutant="NOx", sector="F")
    msg = str(info.value)
    assert "concentration has no sector dimension" in msg and "sector 'F'" in msg, msg
    assert "'contribution'" in msg and "map years 1990, 1993" in msg, msg
    assert not tif.exists()


def test_a_map_per_territory_is_not_offered_for_export() -> None:
    """``territory_fraction`` (one map per territory) was listed among the variables to
    export, then failed on 'still has dims'; it is now said up front, with the xarray call."""
    y, x = np.arange(3.0), np.arange(4.0)
    ds = xr.Dataset(
        {
            "territory_fraction": (("territory", "y", "x"), np.ones((2, 3, 4))),
            "concentration": (("year", "pollutant", "y", "x"), np.ones((1, 1, 3, 4))),
        },
        coords={"territory": ["MEL", "CUD"], "year": [2019], "pollutant": ["NOx"], "y": y, "x": x},
    )
    with pytest.raises(InputError, match=r"territory_fraction is given per territory") as exc:
        select_map(ds, "territory_fraction", year=2019, pollutant="NOx")
    assert "expected one of ['concentration']" in str(exc.value)
    assert ".sel({'territory': 'MEL'})" in str(exc.value)
    with pytest.raises(MissingVariableError, match=r"expected one of \['concentration'\]"):
        select_map(ds, "nope", year=2019, pollutant="NOx")


def test_map_selection_keywords(output: Path, tmp_path: Path) -> None:
    """The keywords of MapSelection (issue 11), taken by select_map and passed on by the
    GeoTIFF writers and the accessor: the keyword calls give the map asked for, a misspelled
    or missing keyword raises one TypeError naming it, before anything is written."""
    with open_output(output) as ds:
        expected = ds["contribution"].sel(year=1990, pollutant="NOx", sector="F_RoadTransport")
        da, sel = select_map(ds, "contribution", year=1990, pollutant="nox", sector="F")
        xr.testing.assert_identical(da, expected.transpose("y", "x"))
        assert sel == {"year": 1990, "pollutant": "NOx", "sector": "F_RoadTransport"}
        by_accessor = ds.trajectoire.map("contribution", year=1990, pollutant="NOx", sector="F")
        xr.testing.assert_identical(by_accessor, da)
        conc, sel = select_map(ds, year=1993, pollutant="PM10")  # sector defaults to None
        assert sel == {"year": 1993, "pollutant": "PM10"}
        np.testing.assert_array_equal(
            conc.values, ds["concentration"].sel(year=1993, pollutant="PM10").values
        )
        tif = ds.trajectoire.to_geotiff(
            tmp_path / "a.tif", "contribution", year=1990, pollutant="NOx", sector="F"
        )
        with rasterio.open(tif) as src:
            np.testing.assert_array_equal(src.read(1), da.values.astype("float32"))
            assert src.tags(1)["sector"] == "F_RoadTransport" and src.tags(1)["year"] == "1990"
        bad = tmp_path / "b.tif"
        calls = {
            "'yaer'": lambda: select_map(ds, yaer=1990, pollutant="NOx"),
            "'polutant'": lambda: select_map(ds, year=1990, polutant="NOx"),
            "missing keyword argument 'year'": lambda: select_map(ds, pollutant="NOx"),
            "'sectr'": lambda: ds.trajectoire.to_geotiff(
                bad, year=1990, pollutant="NOx", sectr="F"
            ),
            "'Sector'": lambda: export_geotiff(output, bad, year=1990, pollutant="NOx", Sector="F"),
        }
        for needle, call in calls.items():
            with pytest.raises(TypeError) as info:
                call()
            assert needle in str(info.value) and "MapSelection" in str(info.value)
            assert "\n" not in str(info.value)
        assert not bad.exists()
        # a pollutant is asked for where the variable has one (an InputError listing them)
        with pytest.raises(InputError) as err:
            ds.trajectoire.map(year=1990)
        assert "concentration is given per pollutant" in str(err.value)
        assert "['NOx', 'PM10']" in str(err.value) and "\n" not in str(err.value)
        # each refusal names the file and both ways of asking (the flag and the keyword)
        for call, needles in {
            lambda: select_map(ds, "contribution", year=1990, pollutant="NOx"): (
                "contribution is given per sector",
                "(--sector, sector=)",
            ),
            lambda: select_map(ds, "contribution", year=1990, pollutant="NOx", sector="Roads"): (
                "unknown sector 'Roads'",
                "(--sector, sector=)",
            ),
            lambda: select_map(ds, year=1990, pollutant="NOy"): (
                "unknown pollutant 'NOy'",
                "(--pollutant, pollutant=)",
            ),
        }.items():
            with pytest.raises(InputError) as err:
                call()
            assert str(err.value).startswith(f"{output}: ") and "\n" not in str(err.value)
            assert all(n in str(err.value) for n in needles), str(err.value)


def test_a_map_without_pollutant_needs_none(output: Path, tmp_path: Path) -> None:
    """``population`` (and ``mask``) have no pollutant dim: their maps were refused without
    a pollutant (``trajectoire export --variable population`` needed ``--pollutant``)."""
    tif = export_geotiff(output, tmp_path / "p.tif", variable="population", year=1991)
    with xr.open_dataset(output) as ds:
        expected = ds["population"].sel(year=1991).values if "year" in ds["population"].dims \
            else ds["population"].values  # fmt: skip
    with xr.open_dataset(output) as ds:
        dated = "year" in ds["population"].dims
    with rasterio.open(tif) as src:
        np.testing.assert_array_equal(src.read(1), expected.astype("float32"))
        assert "pollutant" not in src.tags(1)
        # a map without years is not labelled with the year asked (it read "mask 2019")
        assert src.descriptions[0] == ("population 1991" if dated else "population")
        assert ("year" in src.tags(1)) == dated
    with open_output(output) as ds:
        da, sel = select_map(ds, "population", year=1991)
        assert sel == ({"year": 1991} if "year" in ds["population"].dims else {})
        assert da.dims == ("y", "x")
        # a pollutant given anyway is not checked against a variable that has none
        same = ds.trajectoire.map("population", year=1991, pollutant="NOx")
        xr.testing.assert_identical(same, da)


def test_a_missing_pollutant_lists_the_number_species_too() -> None:
    """The particle-number species (``UFP``) live in ``concentration_number``; without a
    pollutant the message lists them with the mass species, as ``--pollutant UFP`` works."""
    y, x = np.arange(3.0), np.arange(4.0)
    ds = xr.Dataset(
        {
            "concentration": (("year", "pollutant", "y", "x"), np.ones((1, 1, 3, 4))),
            "concentration_number": (("year", "pollutant_number", "y", "x"), np.ones((1, 1, 3, 4))),
        },
        coords={"year": [2019], "pollutant": ["NOx"], "pollutant_number": ["UFP"], "y": y, "x": x},
    )
    with pytest.raises(InputError, match=r"among \['NOx', 'UFP'\]\.$"):
        select_map(ds, year=2019)


@pytest.mark.parametrize("year", [1990.7, None, [1990], True])
def test_map_year_must_be_one_whole_year(output: Path, year: object) -> None:
    """year=1990.7 gave the map of 1990 (int(year)); None or a list a bare TypeError."""
    with open_output(output) as ds:
        with pytest.raises(InputError, match=r"expected one whole year, such as 2019") as info:
            ds.trajectoire.map(year=year, pollutant="NOx")
        assert repr(year) in str(info.value)
        np.testing.assert_array_equal(
            ds.trajectoire.map(year=1990.0, pollutant="NOx").values,
            ds.trajectoire.map(year=1990, pollutant="NOx").values,
        )


def test_geotiff_into_a_missing_directory_is_one_line(output: Path, tmp_path: Path) -> None:
    """ds.trajectoire.to_geotiff("nodir/m.tif") ended on rasterio's RasterioIOError."""
    tif = tmp_path / "nodir" / "m.tif"
    with open_output(output) as ds:
        with pytest.raises(InputError, match=r"GeoTIFF .*m\.tif.*does not exist") as info:
            ds.trajectoire.to_geotiff(tif, year=1990, pollutant="NOx")
        assert "mkdir -p" in str(info.value) and "\n" not in str(info.value)
        with pytest.raises(InputError, match="is a directory"):
            ds.trajectoire.to_geotiff(tmp_path, year=1990, pollutant="NOx")
    with pytest.raises(InputError, match="does not exist"):
        export_geotiff(output, tif, year=1990, pollutant="NOx")
    assert not tif.parent.exists()


def test_open_output_of_what_is_not_a_path(output: Path, tmp_path: Path) -> None:
    """None, an open file or a dataset were pathlib's TypeError; a directory was said to be
    'not found'."""
    with pytest.raises(InputError, match=r"got NoneType None; expected the path"):
        open_output(None)  # type: ignore[arg-type]
    with open(output, "rb") as handle, pytest.raises(InputError) as info:
        open_output(handle)  # type: ignore[arg-type]
    assert f"such as open_output({str(output)!r})" in str(info.value)
    with pytest.raises(InputError, match="already open"):
        open_output(xr.Dataset())  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"is a directory; give the path of a trajectoire"):
        open_output(tmp_path)


def test_summary(output: Path) -> None:
    text = summary(output)
    assert "fake run" in text
    assert "Grid(40 x 30 cells of 100 x 100" in text
    assert "1990..1993 (4)" in text
    assert "map years:   [1990, 1993]" in text
    assert "emission         (year, sector, pollutant, y, x)  [t yr-1]" in text
    assert "NOx" in text and "on disk" in text
    assert "domain-mean concentration" in text


def test_check_writable(tmp_path: Path) -> None:
    assert check_writable(tmp_path / "o.nc") == (tmp_path / "o.nc").absolute()
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(InputError, match="does not exist"):
        check_writable(tmp_path / "missing" / "o.nc")
    (tmp_path / "file").write_text("")
    with pytest.raises(InputError, match="does not exist"):
        check_writable(tmp_path / "file" / "o.nc")
    with pytest.raises(InputError, match="is a directory"):
        check_writable(tmp_path)


def test_atomic_path_leaves_nothing_on_error(tmp_path: Path) -> None:
    target = tmp_path / "t.txt"
    target.write_text("old")

    def killed() -> None:
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        killed()
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.txt"]


def test_significant_digits_quantises_within_precision(tmp_path: Path) -> None:
    g = Grid.from_bounds(700_000, 7_050_000, 705_000, 7_055_000, 100)
    rng = np.random.default_rng(3)
    values = rng.gamma(2.0, 10.0, size=(1, *g.shape))
    ds = xr.Dataset(coords={"year": [2000], **g.coords()})
    ds["concentration"] = (("year", "y", "x"), values, {"units": "ug m-3"})
    ds.attrs["crs"] = "EPSG:2154"
    exact = write_netcdf(ds, tmp_path / "exact.nc")
    lossy = write_netcdf(ds, tmp_path / "lossy.nc", significant_digits=3)
    with xr.open_dataset(exact) as a, xr.open_dataset(lossy) as b:
        np.testing.assert_array_equal(a["concentration"].values, values.astype("f4"))
        rel = np.abs(b["concentration"].values - values) / values
        assert 0 < rel.max() < 5e-3  # half a unit of the 3rd significant digit
    assert lossy.stat().st_size < exact.stat().st_size


def test_significant_digits_keeps_emissions_and_counts_exact(tmp_path: Path) -> None:
    """Emission maps and counts of inhabitants, mass and particle-number forms alike, are
    written bit for bit with significant_digits (their totals must add up); the
    concentrations beside them are quantised."""
    g = Grid.from_bounds(700_000, 7_050_000, 703_000, 7_052_000, 100)
    rng = np.random.default_rng(5)
    ds = xr.Dataset(coords={"year": [2000], **g.coords()})
    names = ("emission", "emission_number", "population", "concentration", "concentration_number")
    for name in names:
        ds[name] = (("year", "y", "x"), rng.gamma(2.0, 10.0, size=(1, *g.shape)).astype("f4"))
    ds["inhabitants_above_number"] = (("year",), np.array([123457.0], dtype="f4"))
    ds.attrs["crs"] = "EPSG:2154"
    lossy = write_netcdf(ds, tmp_path / "lossy.nc", significant_digits=2)
    with xr.open_dataset(lossy) as b:
        for name in ("emission", "emission_number", "population", "inhabitants_above_number"):
            np.testing.assert_array_equal(b[name].values, ds[name].values, err_msg=name)
        for name in ("concentration", "concentration_number"):
            assert not np.array_equal(b[name].values, ds[name].values), name


@pytest.mark.parametrize(
    ("value", "years"),
    [
        (None, []),
        ("", []),
        (np.int32(2020), [2020]),
        (np.array([2023, 1990, 2000], dtype="int32"), [1990, 2000, 2023]),
        ("1990 1995 2023", [1990, 1995, 2023]),  # written as text by earlier versions
        ("2000, 1990", [1990, 2000]),
    ],
)
def test_years_attribute_reads_integers_and_text(value, years):
    from trajectoire.io.netcdf import years_attribute

    assert years_attribute(value) == years
    ds = xr.Dataset(attrs={} if value is None else {"map_years": value})
    assert ds.trajectoire.map_years == years


def test_species_view_puts_the_number_variables_under_the_mass_names() -> None:
    from trajectoire.species import species_view

    ds = xr.Dataset(
        {
            "exposure": (("territory", "pollutant"), [[12.0, 20.0]], {"units": "ug m-3"}),
            "exposure_number": (("territory", "pollutant_number"), [[9e3]], {"units": "cm-3"}),
            "background": (("pollutant",), [8.0, 10.0]),  # no number companion: left out
            "population": (("territory",), [1e5]),  # on no pollutant dim: kept
        },
        coords={"territory": ["MEL"], "pollutant": ["NO2", "PM10"], "pollutant_number": ["UFP"]},
    )
    view = species_view(ds, "ufp")
    assert sorted(view.data_vars) == ["exposure", "population"]
    assert view["exposure"].dims == ("territory", "pollutant")
    assert view["pollutant"].values.tolist() == ["UFP"]
    assert view["exposure"].attrs["units"] == "cm-3" and float(view["exposure"][0, 0]) == 9e3
    for mass in ("NO2", "pm10", None):
        assert species_view(ds, mass) is ds
    plain = ds.drop_vars(["exposure_number", "pollutant_number"])  # no number species
    assert species_view(plain, "UFP") is plain
    with pytest.raises(InputError, match="here: unknown pollutant 'XYZ'"):
        species_view(ds, "XYZ", what="here")


def _maps_file(map_years: list[int] | None) -> xr.Dataset:
    """An output-like dataset: ``deposition`` per year and pollutant, NaN outside the map
    years and for NO2 (docs/outputs.md), with the ``map_years`` attribute given."""
    years, pols = [2019, 2020], ["NOx", "PFOA", "NO2"]
    dep = np.full((2, 3, 2, 2), np.nan, np.float32)
    for i, y in enumerate(years):
        if map_years and y in map_years:
            dep[i, :2] = 1.0
    ds = xr.Dataset(
        {"deposition": (("year", "pollutant", "y", "x"), dep, {"units": "ug m-2 yr-1"})},
        coords={"year": years, "pollutant": pols, "y": [1.5, 0.5], "x": [0.5, 1.5]},
    )
    if map_years is not None:
        ds.attrs["map_years"] = np.asarray(map_years, dtype="int32")
    return ds


def test_a_map_years_variable_outside_the_map_years_is_refused_not_exported_as_nan() -> None:
    """``deposition`` (like ``contribution``) exists in the map years only: a year outside
    them is refused, as for contribution (it was exported as an all-NaN map); a map year's
    NaN map by definition (NO2's deposition) says so; a file without map years says that."""
    ds = _maps_file([2020])
    da, _ = select_map(ds, "deposition", year=2020, pollutant="PFOA")
    assert float(da.max()) == 1.0
    with pytest.raises(InputError, match=r"deposition maps of 2019 are missing \(not a map year"):
        select_map(ds, "deposition", year=2019, pollutant="PFOA")
    with pytest.raises(InputError, match="deposition of NO2 in 2020 holds no value"):
        select_map(ds, "deposition", year=2020, pollutant="NO2")
    bare = _maps_file(None).drop_vars("deposition")
    bare["concentration"] = xr.zeros_like(_maps_file(None)["deposition"])
    with pytest.raises(MissingVariableError, match=r"no deposition maps: none of the file's "):
        select_map(bare, "deposition", year=2019, pollutant="PFOA")
    with pytest.raises(MissingVariableError, match=r"no gridded variable 'exposure'"):
        select_map(bare, "exposure", year=2019, pollutant="PFOA")


def test_geotiff_band_unit_and_all_nan_maps(output: Path, tmp_path: Path) -> None:
    """The units were only a tag (GDAL's band unit, which QGIS shows, was unset); NO2's
    emission map (NaN everywhere: NO2 is formed from NOx) was written as an all-NaN GeoTIFF
    with exit status 0."""
    tif = export_geotiff(output, tmp_path / "c.tif", year=1991, pollutant="NOx")
    with rasterio.open(tif) as src:
        assert src.units == ("ug m-3",)
    g = Grid.from_bounds(700_000, 7_050_000, 701_000, 7_051_000, 100)
    e = np.ones((2, *g.shape))
    e[1] = np.nan  # NO2: not emitted as such
    ds = xr.Dataset(
        {"emission": (("pollutant", "y", "x"), e, {"units": "t yr-1"})},
        coords={"pollutant": ["NOx", "NO2"], **g.coords()},
        attrs={"crs": "EPSG:2154"},
    ).expand_dims(year=[1991])
    ds.trajectoire.to_geotiff(tmp_path / "nox.tif", "emission", year=1991, pollutant="NOx")
    with pytest.raises(InputError, match=r"holds no value \(NaN in every cell"):
        ds.trajectoire.to_geotiff(tmp_path / "e.tif", "emission", year=1991, pollutant="NO2")
    assert not (tmp_path / "e.tif").exists()


def test_stations_positions_are_their_variables_coordinates(tmp_path):
    """CF 5: the station variables name ``station_x station_y`` in their ``coordinates``;
    the positions are stored as coordinates (float64, no fill value), so that a Lambert-93
    northing keeps its centimetres (float32 steps by 0.5 m there)."""
    y = 7_050_123.37
    ds = xr.Dataset(
        {
            "station_concentration": (("year", "station"), np.array([[12.5, 30.0]])),
            "station_x": ("station", [700_000.25, 701_234.56]),
            "station_y": ("station", [y, y + 1.0]),
        },
        coords={"year": [2019], "station": ["FR1", "FR2"]},
    )
    ds["station_concentration"].attrs["units"] = "ug m-3"
    path = write_netcdf(ds, tmp_path / "st.nc")
    import netCDF4

    with netCDF4.Dataset(path) as nc:
        assert nc["station_concentration"].coordinates == "station_x station_y"
        assert nc["station_y"].dtype == np.float64
        assert "_FillValue" not in nc["station_y"].ncattrs()
        assert nc["station_y"][0] == y
    back = xr.open_dataset(path)
    assert "station_x" in back.coords and float(back.station_y[0]) == y
