"""Arrays in another dims order or orientation than a Grid's are read by label, not by
position: ``annual_concentration`` and the GeoTIFF export (found by a probe of the public
functions: transposed emissions gave zero contributions, ascending ``y`` mirrored maps and
GeoTIFFs, a NaN cell dropped a sector from the concentration, an extra dim vanished)."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
import xarray as xr

from test_concentration import SETTINGS, emission_field, met_table
from trajectoire import Grid, InputError
from trajectoire.concentration import annual_concentration
from trajectoire.geo.grid import north_up
from trajectoire.io import export_geotiff


@pytest.fixture(scope="module")
def reference():
    g, e = emission_field(years=(2017,))
    met = met_table(years=(2017,))
    return e, met, annual_concentration(e, met, settings=SETTINGS)


@pytest.mark.parametrize(
    "change",
    [
        lambda e: e.transpose("x", "pollutant", "y", "sector", "year"),
        lambda e: e.transpose("year", "sector", "pollutant", "x", "y"),
        lambda e: e.sortby("y"),
        lambda e: e.sortby("y").sortby("x", ascending=False).transpose("y", ...),
    ],
    ids=["transposed", "x-y swapped", "y ascending", "both flipped"],
)
def test_annual_concentration_reads_emission_by_label(reference, change):
    e, met, ref = reference
    got = annual_concentration(change(e), met, settings=SETTINGS)
    assert float(ref["contribution"].sum()) > 0
    for name in ("concentration", "contribution"):
        assert got[name].dims == ref[name].dims
        np.testing.assert_array_equal(got[name].values, ref[name].values)
        np.testing.assert_array_equal(got["y"].values, ref["y"].values)


def test_annual_concentration_refuses_nan_and_extra_dims(reference):
    e, met, _ = reference
    holed = e.copy()
    holed[0, 1, 0, 3, 4] = np.nan
    with pytest.raises(
        InputError,
        match=r"1 NaN or infinite cell\(s\) in 2017, NOx \(first: sector 'F_RoadTransport' "
        r"at x=.*fillna\(0\)",
    ):
        annual_concentration(holed, met, settings=SETTINGS)
    members = xr.concat([e, 5 * e], dim="member")
    with pytest.raises(InputError, match=r"dim\(s\) \['member'\] \(member: 2\).*once per member"):
        annual_concentration(members, met, settings=SETTINGS)


def _peak_in_geotiff(path):
    with rasterio.open(path) as src:
        a = src.read(1)
        r, c = np.unravel_index(np.nanargmax(a), a.shape)
        return src.xy(r, c)


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d,
        lambda d: d.sortby("y"),
        lambda d: d.sortby("y").sortby("x", ascending=False),
        lambda d: d.transpose("x", "y", ...),
    ],
    ids=["north-up", "y ascending", "both flipped", "x first"],
)
def test_geotiff_puts_the_peak_where_it_is(tmp_path, change):
    g = Grid.from_bounds(700_000, 7_050_000, 701_000, 7_051_500, 100)
    v = np.zeros(g.shape)
    v[2, 7] = 1.0
    conc = g.to_dataarray(v).expand_dims(year=[2020], pollutant=["NO2"])
    ds = xr.Dataset({"concentration": conc.assign_attrs(units="ug m-3")})
    ds.attrs["crs"] = "EPSG:2154"
    ds = change(ds)
    tif = ds.trajectoire.to_geotiff(tmp_path / "a.tif", year=2020, pollutant="NO2")
    assert _peak_in_geotiff(tif) == (float(g.x[7]), float(g.y[2]))
    ds.to_netcdf(tmp_path / "a.nc")
    export_geotiff(tmp_path / "a.nc", tmp_path / "b.tif", year=2020, pollutant="NO2")
    assert _peak_in_geotiff(tmp_path / "b.tif") == (float(g.x[7]), float(g.y[2]))


def test_north_up_moves_labels_with_values():
    da = xr.DataArray(
        np.arange(6.0).reshape(2, 3), dims=("y", "x"), coords={"y": [0.5, 1.5], "x": [2, 1, 0]}
    )
    up = north_up(da)
    assert up["y"].values.tolist() == [1.5, 0.5] and up["x"].values.tolist() == [0, 1, 2]
    for y in (0.5, 1.5):
        for x in (0, 1, 2):
            assert float(up.sel(y=y, x=x)) == float(da.sel(y=y, x=x))
    assert north_up(up) is up  # already north-up: nothing moved


def test_reduced_variables_keep_no_grid_attributes():
    """population_weighted_mean of a (scenario, y, x) field kept attrs['crs'] without any
    x/y, and cell_methods 'year: mean ...' without a year (not CF: the name before each
    method is a dim or coordinate)."""
    from trajectoire.assess.exposure import population_weighted_mean

    g = Grid.from_bounds(700_000, 7_050_000, 700_400, 7_050_300, 100)
    conc = g.to_dataarray(np.arange(12.0).reshape(g.shape)).expand_dims(scenario=["a", "b"])
    conc.attrs.update(units="ug m-3", crs="EPSG:2154")
    pop = g.to_dataarray(np.ones(g.shape)).assign_attrs(crs="EPSG:2154")
    frac = g.to_dataarray(np.ones(g.shape)).expand_dims(territory=["MEL"])
    out = population_weighted_mean(conc, pop, frac)
    assert "crs" not in out.attrs and "grid_mapping" not in out.attrs
    assert out.attrs["cell_methods"].startswith("area: mean")
    with_year = population_weighted_mean(conc.expand_dims(year=[2020]), pop, frac)
    assert with_year.attrs["cell_methods"].startswith("year: mean area: mean")


@pytest.mark.parametrize("epsg", [2154, 3035, 32631, 3857])
@pytest.mark.parametrize(("lon", "lat"), [(2.37, 51.03), (3.06, 50.63), (2.47, 49.26)])
def test_true_north_angle_is_the_opposite_of_proj_meridian_convergence(epsg, lon, lat):
    import pyproj

    x, y = pyproj.Transformer.from_crs("EPSG:4326", epsg, always_xy=True).transform(lon, lat)
    g = Grid.from_bounds(x - 500, y - 500, x + 500, y + 500, 100, f"EPSG:{epsg}")
    convergence = pyproj.Proj(f"EPSG:{epsg}").get_factors(lon, lat).meridian_convergence
    assert g.true_north_angle() == pytest.approx(-convergence, abs=0.01)


def test_a_run_on_a_grid_turned_from_true_north_warns():
    """The wind directions are applied in the grid's axes: on EPSG:3035 the plumes over
    Dunkerque turned by 5.9 degrees without a word (found by a probe)."""
    from types import SimpleNamespace

    import pyproj

    from trajectoire import TrajectoireWarning
    from trajectoire.batch.pipeline import _check_meteo_site

    config = SimpleNamespace(meteo=SimpleNamespace(latitude=51.03, longitude=2.37))
    for epsg, turned in ((3035, True), (2154, False)):
        tr = pyproj.Transformer.from_crs("EPSG:4326", epsg, always_xy=True)
        x, y = tr.transform(2.37, 51.03)
        g = Grid.from_bounds(x - 5000, y - 5000, x + 5000, y + 5000, 500, f"EPSG:{epsg}")
        if turned:
            with pytest.warns(TrajectoireWarning, match=r"\+5\.9 degrees from the grid's north"):
                _check_meteo_site(config, g)
        else:
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("error")
                _check_meteo_site(config, g)
