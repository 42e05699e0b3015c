"""Conservative regridding (trajectoire.regrid): both paths, conservation, plans, errors."""

from __future__ import annotations

import numpy as np
import pyproj
import pytest
import shapely
import xarray as xr
from hypothesis import given
from hypothesis import strategies as st

from trajectoire import Grid, GridError, InputError, TrajectoireWarning
from trajectoire.regrid import Regridder, grid_of, lines_to_grid, points_to_grid, regrid

X0, Y0 = 700_000.0, 7_000_000.0
TO_L93 = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:2154", always_xy=True)
L93 = pyproj.CRS("EPSG:2154")


def lambert(x0, y0, x1, y1, res):
    return Grid.from_bounds(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1, res, snap=False)


def covering(size, res):
    """A grid of `res` cells from (X0, Y0) that covers a `size` x `size` square."""
    n = int(np.ceil(size / res))
    return Grid(X0, Y0, res, res, n, n, "EPSG:2154")


@st.composite
def grid_pair(draw):
    """A source grid and a target grid that covers it (same CRS, unrelated resolutions)."""
    sdx = draw(st.floats(50, 900))
    sdy = draw(st.floats(50, 900))
    nx, ny = draw(st.integers(1, 8)), draw(st.integers(1, 8))
    ox, oy = draw(st.floats(0, 500)), draw(st.floats(0, 500))
    src = Grid(X0 + ox, Y0 + oy, sdx, sdy, nx, ny, "EPSG:2154")
    tdx, tdy = draw(st.floats(40, 1200)), draw(st.floats(40, 1200))
    tx0 = src.xmin - draw(st.floats(0, 1)) * tdx
    ty0 = src.ymin - draw(st.floats(0, 1)) * tdy
    tnx = int(np.ceil((src.xmax - tx0) / tdx)) + draw(st.integers(0, 2))
    tny = int(np.ceil((src.ymax - ty0) / tdy)) + draw(st.integers(0, 2))
    return src, Grid(tx0, ty0, tdx, tdy, tnx, tny, "EPSG:2154")


# ---------------------------------------------------------------- conservation
@given(grid_pair(), st.integers(0, 1000))
def test_separable_conserves_mass(pair, seed):
    src, dst = pair
    f = np.random.default_rng(seed).random((2, *src.shape))
    out = Regridder(src, dst).apply_array(f)
    np.testing.assert_allclose(out.sum(axis=(1, 2)), f.sum(axis=(1, 2)), rtol=1e-9)


@given(grid_pair(), st.integers(0, 1000))
def test_separable_and_polygon_paths_agree(pair, seed):
    src, dst = pair
    f = np.random.default_rng(seed).random(src.shape)
    a = Regridder(src, dst).apply_array(f)
    b = Regridder(src, dst, method="polygon").apply_array(f)
    # the polygon path clips in absolute Lambert-93 coordinates (7e6 m: 1e-9 m steps), so a
    # sliver cell can differ by ~1e-11 of the total mass (seen: 1.2e-9 of a small cell)
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-10 * f.sum())


@given(grid_pair(), st.integers(0, 1000))
def test_back_to_source_conserves_mass(pair, seed):
    """Target -> source direction (the target covers the source, so mass outside is lost
    exactly as the plan's source_coverage says)."""
    src, dst = pair
    g = np.random.default_rng(seed).random(dst.shape)
    plan = Regridder(dst, src)
    out = plan.apply_array(g)
    np.testing.assert_allclose(out.sum(), (g * plan.source_coverage).sum(), rtol=1e-9)


@pytest.mark.parametrize("factor", [2, 4, 10, 3])
def test_finer_and_back_round_trip(factor):
    coarse = lambert(0, 0, 6000, 4000, 1000)
    fine = lambert(0, 0, 6000, 4000, 1000 / factor)
    f = np.random.default_rng(factor).random((3, *coarse.shape))
    there = Regridder(coarse, fine).apply_array(f)
    back = Regridder(fine, coarse).apply_array(there)
    if factor in (2, 4):  # powers of two: every weight is exact in binary
        np.testing.assert_array_equal(back, f)
    else:
        np.testing.assert_allclose(back, f, rtol=1e-14)


def test_intensive_keeps_constants_and_means():
    a = lambert(0, 0, 3000, 2000, 1000)
    b = lambert(-500, 0, 3500, 2000, 700)
    out = Regridder(a, b, extensive=False).apply_array(np.full(a.shape, 3.5))
    covered = ~np.isnan(out)
    np.testing.assert_allclose(out[covered], 3.5)
    assert np.isnan(out).any()  # target cells beyond the source


def test_intensive_skips_nan_sources():
    a = lambert(0, 0, 2000, 1000, 1000)
    b = lambert(0, 0, 2000, 1000, 2000)
    out = Regridder(a, b, extensive=False).apply_array(np.array([[1.0, np.nan]]))
    np.testing.assert_allclose(out, [[1.0]])


def test_lonlat_source_onto_lambert_conserves():
    ll = Grid(2.9, 50.5, 0.1, 0.05, 6, 8, "EPSG:4326")
    target = Grid.from_bounds(2.85, 50.45, 3.55, 50.95, 500, bounds_crs="EPSG:4326")
    f = np.random.default_rng(0).random(ll.shape)
    plan = Regridder(ll, target)
    assert plan.method == "polygon"
    np.testing.assert_allclose(plan.source_coverage, 1.0, rtol=1e-12)
    np.testing.assert_allclose(plan.apply_array(f).sum(), f.sum(), rtol=1e-9)


def test_lonlat_dataarray_with_lat_lon_dims():
    lat = 50.5 + 0.025 + 0.05 * np.arange(4)
    lon = 2.9 + 0.05 + 0.1 * np.arange(3)
    da = xr.DataArray(np.ones((4, 3)), dims=("lat", "lon"), coords={"lat": lat, "lon": lon})
    target = Grid.from_bounds(2.8, 50.4, 3.3, 50.8, 1000, bounds_crs="EPSG:4326")
    out = regrid(da, target)
    assert out.dims == ("y", "x") and out.attrs["crs"] == "EPSG:2154"
    np.testing.assert_allclose(float(out.sum()), 12.0, rtol=1e-9)


# ---------------------------------------------------------------- xarray layer
def test_dataarray_extra_dims_increasing_y_and_dask():
    src = lambert(0, 0, 3000, 2000, 1000)
    dst = lambert(0, 0, 3000, 2000, 500)
    vals = np.random.default_rng(1).random((2, 3, *src.shape))
    da = xr.DataArray(
        vals,
        dims=("sector", "pollutant", "y", "x"),
        coords={"sector": ["a", "b"], "pollutant": ["p", "q", "r"], **src.coords()},
        attrs={"crs": "EPSG:2154", "units": "t yr-1"},
    )
    ref = regrid(da, dst)
    assert ref.dims == da.dims and ref.attrs["units"] == "t yr-1"
    assert Grid.from_xarray(ref).same_as(dst)
    flipped = regrid(da.isel(y=slice(None, None, -1)), dst)
    xr.testing.assert_allclose(flipped, ref)
    lazy = regrid(da.chunk({"sector": 1}), dst)
    assert lazy.chunks is not None
    xr.testing.assert_allclose(lazy.compute(), ref)
    np.testing.assert_allclose(ref.sum(("y", "x")), da.sum(("y", "x")), rtol=1e-12)


def test_dataset_passes_other_variables_through():
    src = lambert(0, 0, 2000, 2000, 1000)
    dst = lambert(0, 0, 2000, 2000, 500)
    ds = xr.Dataset(
        {"e": (("y", "x"), np.ones(src.shape)), "label": ("k", [1, 2])},
        coords=src.coords(),
        attrs={"crs": "EPSG:2154"},
    )
    out = Regridder(src, dst)(ds)
    assert out["e"].shape == dst.shape and out["label"].values.tolist() == [1, 2]


def test_rioxarray_style_spatial_ref():
    src = lambert(0, 0, 2000, 2000, 1000)
    da = xr.DataArray(np.ones(src.shape), dims=("y", "x"), coords=src.coords())
    da = da.assign_coords(spatial_ref=xr.DataArray(0, attrs={"crs_wkt": src.crs.to_wkt()}))
    out = regrid(da, lambert(0, 0, 2000, 2000, 500))
    assert "spatial_ref" not in out.coords and float(out.sum()) == pytest.approx(4.0)


def test_plan_save_load_and_repr(tmp_path):
    ll = Grid(2.9, 50.5, 0.1, 0.05, 4, 4, "EPSG:4326")
    target = Grid.from_bounds(2.9, 50.5, 3.3, 50.7, 1000, bounds_crs="EPSG:4326")
    src = lambert(0, 0, 3000, 2000, 1000)
    for plan in (Regridder(ll, target), Regridder(src, lambert(0, 0, 3000, 2000, 300))):
        plan.to_netcdf(tmp_path / "w.nc")
        again = Regridder.from_netcdf(tmp_path / "w.nc")
        f = np.random.default_rng(2).random(plan.source.shape)
        np.testing.assert_array_equal(again.apply_array(f), plan.apply_array(f))
        assert repr(again) == repr(plan)
    assert repr(plan).startswith("Regridder(separable, extensive, 3 x 2 -> 10 x 7 cells")


def test_weights_matrix_matches_apply():
    src = lambert(0, 0, 3000, 2000, 1000)
    dst = lambert(-200, 100, 3100, 1900, 430)
    plan = Regridder(src, dst)
    f = np.random.default_rng(3).random(src.shape)
    np.testing.assert_allclose(
        (plan.weights @ f.ravel()).reshape(dst.shape), plan.apply_array(f), rtol=1e-12
    )


# ---------------------------------------------------------------- errors
def test_source_without_crs_raises():
    src = lambert(0, 0, 2000, 2000, 1000)
    da = xr.DataArray(np.ones(src.shape), dims=("y", "x"), coords=src.coords())
    with pytest.raises(GridError, match="no CRS"):
        regrid(da, src)


def test_source_without_xy_dims_raises():
    with pytest.raises(GridError, match="expected cell-centre dims"):
        grid_of(xr.DataArray(np.ones((2, 2)), dims=("a", "b"), attrs={"crs": "EPSG:2154"}))


def test_plan_applied_to_another_grid_raises():
    src = lambert(0, 0, 2000, 2000, 1000)
    plan = Regridder(src, lambert(0, 0, 2000, 2000, 500))
    other = lambert(0, 0, 3000, 2000, 1000).to_dataarray(np.ones((2, 3)))
    with pytest.raises(GridError, match="Build a new Regridder"):
        plan(other)


def test_separable_across_crs_raises():
    ll = Grid(2.9, 50.5, 0.1, 0.05, 4, 4, "EPSG:4326")
    with pytest.raises(GridError, match="method='polygon'"):
        Regridder(ll, lambert(0, 0, 1000, 1000, 100), method="separable")


# ---------------------------------------------------------------- points and lines
def test_points_outside_are_reported_not_dropped_silently():
    g = lambert(0, 0, 1000, 1000, 100)
    x = [X0 + 50, X0 + 5000, X0 + 950]
    y = [Y0 + 50, Y0 + 50, Y0 + 950]
    with pytest.warns(TrajectoireWarning, match=r"1 point\(s\) of 3 .*rows S2.*carrying 2"):
        out = points_to_grid(x, y, [1.0, 2.0, 3.0], g, what="stacks.csv", labels=["S1", "S2", "S3"])
    assert out.sum() == 4.0
    with pytest.raises(InputError, match=r"stacks.csv: 1 point\(s\).*Enlarge the grid"):
        points_to_grid(x, y, [1.0, 2.0, 3.0], g, strict=True, what="stacks.csv")


@given(
    st.lists(
        st.tuples(st.floats(0, 1000), st.floats(0, 1000), st.floats(0, 10)), min_size=1, max_size=30
    )
)
def test_points_conserve_mass(pts):
    g = covering(1000, 70)
    a = np.asarray(pts)
    out = points_to_grid(X0 + a[:, 0], Y0 + a[:, 1], np.stack([a[:, 2], 2 * a[:, 2]], 1), g)
    np.testing.assert_allclose(out.sum(axis=(1, 2)), [a[:, 2].sum(), 2 * a[:, 2].sum()], rtol=1e-12)


polyline = st.lists(st.tuples(st.floats(1, 999), st.floats(1, 999)), min_size=2, max_size=8)


@given(st.lists(polyline, min_size=1, max_size=5), st.floats(30, 400))
def test_lines_conserve_mass(lines, res):
    g = covering(1000, res)
    geoms = [shapely.LineString([(X0 + x, Y0 + y) for x, y in pl]) for pl in lines]
    vals = np.arange(1.0, len(geoms) + 1)
    out = lines_to_grid(geoms, g, values=vals)
    expect = float(np.sum(vals * shapely.length(np.asarray(geoms))))
    np.testing.assert_allclose(out.sum(), expect, rtol=1e-9)


def test_lines_in_another_crs_and_multilines():
    import geopandas as gpd

    g = lambert(0, 0, 2000, 2000, 100)
    ml = shapely.MultiLineString(
        [
            [(X0 + 100, Y0 + 100), (X0 + 1900, Y0 + 100)],
            [(X0 + 100, Y0 + 500), (X0 + 100, Y0 + 1500)],
        ]
    )
    gs = gpd.GeoSeries([ml], crs="EPSG:2154").to_crs("EPSG:4326")
    out = lines_to_grid(gs, g)
    np.testing.assert_allclose(out.sum(), 2800.0, rtol=1e-6)


def test_lines_reject_polygons():
    g = lambert(0, 0, 1000, 1000, 100)
    with pytest.raises(InputError, match="LineString"):
        lines_to_grid([shapely.box(X0, Y0, X0 + 10, Y0 + 10)], g)


@pytest.mark.parametrize("method", ["separable", "polygon"])
def test_covered_area_of_an_indicator(method):
    src = lambert(0, 0, 3000, 2000, 250)
    dst = lambert(-300, -100, 3300, 2100, 700)
    ind = np.zeros(src.shape)
    ind[2:5, 3:9] = 1.0
    area = Regridder(src, dst, method=method, extensive=False).covered_area(ind)
    np.testing.assert_allclose(area.sum(), 18 * src.cell_area, rtol=1e-12)
    assert area.max() <= dst.cell_area * (1 + 1e-12)


@given(
    st.floats(2.0, 3.5),
    st.floats(49.5, 50.8),
    st.floats(0.005, 0.05),
    st.floats(0.005, 0.05),
    st.integers(1, 5),
    st.integers(1, 5),
    st.sampled_from([150.0, 400.0, 1000.0]),
    st.integers(0, 99),
)
def test_lonlat_sources_conserve_mass(lon0, lat0, dlon, dlat, nx, ny, res, seed):
    """Any lon/lat source grid inside a Lambert-93 target keeps its total (polygon path)."""
    src = Grid(lon0, lat0, dlon, dlat, nx, ny, "EPSG:4326")
    x0, y0, x1, y1 = TO_L93.transform_bounds(
        lon0 - 0.01, lat0 - 0.01, lon0 + nx * dlon + 0.01, lat0 + ny * dlat + 0.01
    )
    dst = Grid(x0, y0, res, res, int((x1 - x0) // res) + 1, int((y1 - y0) // res) + 1, L93)
    f = np.random.default_rng(seed).random(src.shape)
    plan = Regridder(src, dst)
    np.testing.assert_allclose(plan.source_coverage, 1.0, rtol=1e-9)
    np.testing.assert_allclose(plan.apply_array(f).sum(), f.sum(), rtol=1e-9)


@pytest.mark.parametrize("method", ["separable", "polygon"])
def test_numba_and_scipy_application_agree(monkeypatch, method):
    """Small problems use scipy's sparse product, large ones the parallel numba kernels."""
    import trajectoire.geo.regridding as rg

    src = lambert(0, 0, 3000, 2000, 330)
    dst = lambert(-100, -100, 3100, 2100, 170)
    f = np.random.default_rng(4).random((3, *src.shape))
    plan = Regridder(src, dst, method=method)
    small = plan.apply_array(f)
    monkeypatch.setattr(rg, "SMALL_PROBLEM", 0)
    large = plan.apply_array(f)
    np.testing.assert_allclose(large, small, rtol=1e-13, atol=1e-15)


def test_inventory_dataset_point_positions_follow_the_crs():
    from trajectoire.inventory import empty_inventory

    g = Grid(3.0, 50.3, 0.01, 0.005, 4, 4, "EPSG:4326")
    inv = empty_inventory(g, ["B"], ["NOx"], reference_year=2019)
    inv = (
        inv.drop_dims("source")
        .assign(source_x=("source", [3.015]), source_y=("source", [50.31]))
        .assign_coords(source=["S1"])
    )
    inv["emission"][:] = 1.0
    x0, y0, x1, y1 = TO_L93.transform_bounds(*g.bounds)
    dst = Grid(
        x0 - 100, y0 - 100, 100.0, 100.0, int((x1 - x0) // 100) + 3, int((y1 - y0) // 100) + 3, L93
    )
    out = Regridder(g, dst)(inv)
    ex, ey = TO_L93.transform(3.015, 50.31)
    assert float(out["source_x"][0]) == pytest.approx(ex) and float(
        out["source_y"][0]
    ) == pytest.approx(ey)
    np.testing.assert_allclose(float(out["emission"].sum()), 16.0, rtol=1e-9)


def test_nan_in_an_extensive_field_is_said_and_the_rest_conserved() -> None:
    """NaN cells of an amount field make the target cells they overlap NaN (the amount
    there is unknown): a warning counts both, instead of a finite total silently short;
    the cells away from them keep their amounts exactly; no NaN, no warning."""
    fine = Grid.from_bounds(700_000, 7_000_000, 701_000, 7_001_000, 100)
    coarse = Grid.from_bounds(700_000, 7_000_000, 701_000, 7_001_000, 200)
    da = fine.to_dataarray(np.ones(fine.shape), attrs={"units": "t yr-1"})
    holed = da.where(da.x > 700_300)  # 3 of 10 columns NaN
    with pytest.warns(TrajectoireWarning, match=r"30 source cell\(s\) .* the 10 target cell"):
        out = regrid(holed, coarse)
    assert int(np.isnan(out).sum()) == 10
    np.testing.assert_allclose(out.values[:, 2:], 4.0, rtol=1e-12)  # untouched by the NaN
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", TrajectoireWarning)
        assert float(regrid(da, coarse).sum()) == pytest.approx(100.0, rel=1e-12)
        regrid(holed, coarse, extensive=False)  # a density: NaN cells leave the mean


def test_intensive_units_without_extensive_is_an_error() -> None:
    """A concentration [ug m-3] was summed by the default extensive=True (a coarse cell
    got four times the density); now the units decide, or the caller says."""
    fine = Grid.from_bounds(700_000, 7_000_000, 701_000, 7_001_000, 100)
    coarse = Grid.from_bounds(700_000, 7_000_000, 701_000, 7_001_000, 200)
    for units in ("ug m-3", "kg m-2 s-1", "ppb"):
        conc = fine.to_dataarray(np.full(fine.shape, 5.0), attrs={"units": units})
        with pytest.raises(InputError, match="pass extensive=False|Pass extensive=False"):
            regrid(conc.rename("c"), coarse)
        np.testing.assert_allclose(regrid(conc, coarse, extensive=False).values, 5.0)
        np.testing.assert_allclose(regrid(conc, coarse, extensive=True).values, 20.0)
    amounts = fine.to_dataarray(np.ones(fine.shape), attrs={"units": "t yr-1"})
    assert float(regrid(amounts, coarse).sum()) == pytest.approx(100.0)
    no_units = fine.to_dataarray(np.ones(fine.shape))
    assert float(regrid(no_units, coarse).sum()) == pytest.approx(100.0)  # as before


def test_extensive_must_be_a_bool() -> None:
    g = Grid.from_bounds(700_000, 7_000_000, 701_000, 7_001_000, 100)
    da = g.to_dataarray(np.ones(g.shape), attrs={"units": "t yr-1"})
    with pytest.raises(InputError, match=r"extensive='no' \(str\)"):
        regrid(da, g, extensive="no")  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"extensive=0 \(int\)"):
        Regridder(g, g, extensive=0)  # type: ignore[arg-type]


def test_dataset_of_both_kinds_is_said() -> None:
    fine = Grid.from_bounds(700_000, 7_000_000, 701_000, 7_001_000, 100)
    coarse = Grid.from_bounds(700_000, 7_000_000, 701_000, 7_001_000, 200)
    ds = xr.Dataset(
        {
            "emission": fine.to_dataarray(np.ones(fine.shape), attrs={"units": "t yr-1"}),
            "concentration": fine.to_dataarray(np.ones(fine.shape), attrs={"units": "ug m-3"}),
        },
        attrs={"crs": "EPSG:2154"},
    )
    for flag in (None, True, False):
        with pytest.raises(InputError, match=r"concentration \[ug m-3\].*emission \[t yr-1\]"):
            regrid(ds, coarse, extensive=flag)
    assert float(regrid(ds[["emission"]], coarse)["emission"].sum()) == pytest.approx(100.0)


def test_variable_of_an_output_names_its_grid_mapping(tmp_path) -> None:  # noqa: ANN001
    """ds['emission'] of a written output has grid_mapping='crs' but the 'crs' variable
    stays in the Dataset: the error says so and how to keep it (was 'no CRS')."""
    g = Grid.from_bounds(700_000, 7_000_000, 701_000, 7_001_000, 100)
    em = g.to_dataarray(np.ones(g.shape), attrs={"units": "t yr-1"})
    em.attrs.pop("crs", None)
    em.attrs["grid_mapping"] = "crs"
    ds = xr.Dataset({"emission": em, "crs": xr.DataArray(0, attrs={"crs_wkt": L93.to_wkt()})})
    with pytest.raises(GridError, match=r"grid_mapping='crs'.*ds\[\['emission'\]\]"):
        regrid(ds["emission"], g)
    out = regrid(ds["emission"].assign_coords(crs=ds["crs"]), g)
    assert float(out.sum()) == pytest.approx(100.0)
