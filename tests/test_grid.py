"""Grid construction, coordinates, lookups and exact polygon area fractions."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from hypothesis import example, given
from hypothesis import strategies as st

from trajectoire import Grid, GridError, InputError, area_fractions, coverage_matrix
from trajectoire.errors import TrajectoireWarning

X0, Y0 = 700_000.0, 7_050_000.0  # somewhere near Lille, Lambert-93


def test_from_bounds_snaps_and_has_cf_coords():
    g = Grid.from_bounds(X0 + 30, Y0 + 30, X0 + 970, Y0 + 480, 100, snap=True)
    assert g.bounds == (X0, Y0, X0 + 1000, Y0 + 500)
    assert g.shape == (5, 10)
    np.testing.assert_allclose(g.x, X0 + 50 + 100 * np.arange(10))
    np.testing.assert_allclose(g.y, Y0 + 450 - 100 * np.arange(5))
    coords = g.coords()
    assert coords["x"].attrs["standard_name"] == "projection_x_coordinate"
    assert g.transform.c == X0 and g.transform.f == Y0 + 500 and g.transform.e == -100


def test_xarray_and_rasterio_round_trip():
    g = Grid.from_bounds(X0, Y0, X0 + 2000, Y0 + 1000, 250)
    da = g.to_dataarray(np.arange(g.size, dtype=float).reshape(g.shape))
    assert Grid.from_xarray(da).same_as(g)
    prof = g.rasterio_profile()
    assert Grid.from_rasterio(prof["transform"], prof["width"], prof["height"], g.crs).same_as(g)


def test_cell_index_points():
    g = Grid.from_bounds(X0, Y0, X0 + 300, Y0 + 200, 100)
    row, col, inside = g.cell_index(
        [X0 + 10, X0 + 299, X0 - 1, X0 + 300], [Y0 + 199, Y0 + 1, Y0, Y0]
    )
    assert row.tolist() == [0, 1, -1, 1]
    assert col.tolist() == [0, 2, -1, 2]
    assert inside.tolist() == [True, True, False, True]


@pytest.mark.parametrize("res", [0, -100, float("nan"), float("inf")])
def test_non_positive_resolution_is_a_clear_error(res):
    with pytest.raises(GridError, match="resolution"):
        Grid.from_bounds(X0, Y0, X0 + 1000, Y0 + 1000, res)


def test_degrees_passed_as_metres_is_a_clear_error():
    with pytest.raises(GridError, match="degrees"):
        Grid.from_bounds(2.9, 50.5, 3.2, 50.8, 100)
    # the same bounds with their CRS named are accepted and reprojected
    g = Grid.from_bounds(2.9, 50.5, 3.2, 50.8, 100, bounds_crs="EPSG:4326")
    assert 690_000 < g.xmin < 710_000 and 7_040_000 < g.ymin < 7_070_000


def test_from_bounds_keeps_bounds_a_whole_number_of_cells_apart():
    """Issue 13: 700050..700650 at 100 m is the 6 x 6 grid asked (another model's grid)."""
    g = Grid.from_bounds(700_050, 7_000_050, 700_650, 7_000_650, 100)
    assert g.bounds == (700_050.0, 7_000_050.0, 700_650.0, 7_000_650.0)
    assert g.shape == (6, 6)
    # dx != dy, offsets that are not multiples of the resolution
    x0, y0 = X0 + 1_013.5, Y0 + 2_027.25
    g = Grid.from_bounds(x0, y0, x0 + 7 * 30, y0 + 3 * 45, (30, 45), snap=None)
    assert g.shape == (3, 7) and g.xmin == x0 and g.ymin == y0


def test_from_bounds_snapping_not_asked_warns_with_the_bounds_used():
    with pytest.warns(
        TrajectoireWarning, match=r"covers \(700000.0, 7050000.0, 701000.0, 7050500.0\)"
    ):
        g = Grid.from_bounds(X0 + 30, Y0 + 30, X0 + 970, Y0 + 480, 100)
    assert g.bounds == (X0, Y0, X0 + 1000, Y0 + 500)


@given(
    x0=st.floats(200_000, 1_100_000),
    y0=st.floats(6_100_000, 7_100_000),
    nx=st.integers(1, 500),
    ny=st.integers(1, 500),
    res=st.sampled_from([1.0, 10.0, 25.0, 100.0, 250.0, 1000.0, 0.5]),
)
def test_from_bounds_whole_cells_round_trip(x0, y0, nx, ny, res):
    """Bounds of any grid give that grid back (no snapping, no warning)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g = Grid.from_bounds(x0, y0, x0 + nx * res, y0 + ny * res, res)
    assert g.shape == (ny, nx)
    assert g.xmin == x0 and g.ymin == y0


def test_empty_bounds_error():
    with pytest.raises(GridError, match="empty bounds"):
        Grid.from_bounds(X0, Y0, X0, Y0 + 100, 10)


def test_around_needs_a_crs():
    import geopandas as gpd

    with pytest.raises(InputError, match="no CRS"):
        Grid.around(gpd.GeoSeries([shapely.box(X0, Y0, X0 + 10, Y0 + 10)]))
    g = Grid.around(
        gpd.GeoSeries([shapely.box(X0, Y0, X0 + 10, Y0 + 10)], crs=2154), 100, buffer=1000
    )
    assert g.bounds == (X0 - 1000, Y0 - 1000, X0 + 1100, Y0 + 1100)


def _reference_fractions(geom, g):
    """Plain shapely clipping, cell by cell: the independent reference."""
    out = np.zeros(g.shape)
    for r in range(g.ny):
        for c in range(g.nx):
            cell = shapely.box(
                g.xmin + c * g.dx,
                g.ymax - (r + 1) * g.dy,
                g.xmin + (c + 1) * g.dx,
                g.ymax - r * g.dy,
            )
            out[r, c] = shapely.intersection(geom, cell).area / g.cell_area
    return out


coord = st.floats(min_value=-50.0, max_value=1050.0, allow_nan=False)


@st.composite
def polygons(draw):
    n = draw(st.integers(min_value=3, max_value=12))
    pts = [(X0 + draw(coord), Y0 + draw(coord)) for _ in range(n)]
    poly = shapely.make_valid(shapely.Polygon(pts))
    polys = [p for p in shapely.get_parts(poly) if p.geom_type == "Polygon"]
    return shapely.MultiPolygon(polys) if polys else shapely.Polygon()


@given(polygons(), st.sampled_from([50.0, 100.0, 137.0]))
@example(shapely.Polygon([(X0, Y0), (X0 + 1, Y0), (X0, Y0 + 1e-5)]), 100.0)  # 5e-6 m2
def test_area_fractions_match_clipping_and_are_in_unit_interval(geom, res):
    g = Grid.from_bounds(X0, Y0, X0 + 1000, Y0 + 1000, res, snap=False)
    f = area_fractions(geom, g)
    assert f.min() >= -1e-9 and f.max() <= 1 + 1e-9
    np.testing.assert_allclose(f, _reference_fractions(geom, g), atol=1e-9)
    inside = shapely.intersection(geom, shapely.box(*g.bounds)).area
    # fractions under 1e-9 are round-off, set to 0 by design (area_fractions' docstring): a
    # sliver of 5e-6 m2 (1 m by 5 um, found by hypothesis) is then 0 in every 100 m cell
    floor = 1e-9 * g.cell_area * np.count_nonzero(_reference_fractions(geom, g))
    assert math.isclose(f.sum() * g.cell_area, inside, rel_tol=1e-9, abs_tol=1e-6 + floor)


@given(
    st.lists(st.floats(min_value=10, max_value=990), min_size=1, max_size=6, unique=True),
    st.lists(st.floats(min_value=10, max_value=990), min_size=1, max_size=6, unique=True),
    st.floats(min_value=0, max_value=1),
)
def test_fractions_of_a_tiling_sum_to_one(xcuts, ycuts, rot):
    """Polygons that tile a square (a sheared checkerboard of cuts) cover every cell once."""
    xs = [0.0, *sorted(xcuts), 1000.0]
    ys = [0.0, *sorted(ycuts), 1000.0]
    # shear the inner vertical cuts by less than half the narrowest column: still a tiling
    shear = 0.45 * float(np.diff(xs).min()) * rot
    tiles = []
    for i in range(len(xs) - 1):
        for j in range(len(ys) - 1):
            # quadrilaterals whose vertical edges are sheared: still an exact tiling
            a, b = xs[i], xs[i + 1]
            c, d = ys[j], ys[j + 1]
            sa = 0.0 if i == 0 else shear
            sb = 0.0 if i + 1 == len(xs) - 1 else shear
            tiles.append(
                shapely.Polygon(
                    [
                        (X0 + a + sa * c / 1000, Y0 + c),
                        (X0 + b + sb * c / 1000, Y0 + c),
                        (X0 + b + sb * d / 1000, Y0 + d),
                        (X0 + a + sa * d / 1000, Y0 + d),
                    ]
                )
            )
    g = Grid.from_bounds(X0, Y0, X0 + 1000, Y0 + 1000, 70, snap=False)
    m = coverage_matrix(tiles, g)
    total = np.asarray(m.sum(axis=0)).reshape(g.shape)
    # cells fully inside the square are covered exactly once
    full = area_fractions(shapely.box(X0, Y0, X0 + 1000, Y0 + 1000), g)
    np.testing.assert_allclose(total, full, atol=1e-9)


def test_polygon_with_hole_and_outside_parts():
    outer = shapely.box(X0 - 500, Y0 - 500, X0 + 600, Y0 + 600)
    hole = shapely.box(X0 + 100, Y0 + 100, X0 + 300, Y0 + 300)
    geom = outer.difference(hole)
    g = Grid.from_bounds(X0, Y0, X0 + 1000, Y0 + 1000, 100)
    f = area_fractions(geom, g)
    assert math.isclose(f.sum() * g.cell_area, 600 * 600 - 200 * 200, rel_tol=1e-12)


def test_real_territories_rasterised_area_within_0_1_percent(shared_data):
    """Each real territory polygon (IGN ADMIN EXPRESS 2018 via shared/data) on a 100 m grid."""
    import geopandas as gpd

    terr = gpd.read_file(shared_data / "territories" / "territoires_aqah.gpkg", layer="territoires")
    for _, row in terr.iterrows():
        g = Grid.around(gpd.GeoSeries([row.geometry], crs=terr.crs), 100, buffer=200)
        f = area_fractions(row.geometry, g)
        assert abs(f.sum() * g.cell_area / row.geometry.area - 1) < 1e-3, row.territoire


# --------------------------------------------- a buffer far beyond the CRS's domain (D8)
def test_buffer_reaching_far_beyond_the_crs_domain_is_refused_before_any_grid():
    """A 3000 km [grid] buffer around Lille built a 6215 x 6115 grid in Lambert-93 (whose
    area of use is France) and ended on a MemoryError in build_inventory; 500 km is fine."""
    import geopandas as gpd

    lille = gpd.GeoSeries([shapely.box(X0, Y0, X0 + 30_000, Y0 + 30_000)], crs=2154)
    with pytest.raises(
        GridError,
        match=r"box plus buffer = 3000000 m spans x -2300000 to 3730000, .* beyond the area "
        r"of use of RGF93 v1 / Lambert-93 .*: lower the buffer",
    ):
        Grid.around(lille, 1000.0, buffer=3_000_000.0)
    g = Grid.around(lille, 1000.0, buffer=500_000.0)
    assert g.shape == (1030, 1030)


def test_run_grid_of_too_many_cells_is_refused_naming_the_keys(tmp_path):
    """A run's grid above RUN_MAX_CELLS is one line naming its cells and [grid] resolution
    and buffer, before anything of its size is allocated (a 300 km buffer at 100 m: 60
    million cells, ~0.5 GB per map, about 30 GB for the inventory)."""
    from test_pipeline import small_config
    from trajectoire import pipeline as P
    from trajectoire.config import load_config

    cfg = small_config(
        tmp_path,
        **{r"^resolution = [\d.]+": "resolution = 100.0", r"^buffer = [\d.]+": "buffer = 300000.0"},
    )
    with pytest.raises(
        InputError,
        match=r"config\.toml: no grid can be made over the territories with \[grid\] resolution "
        r"= 100 m and buffer = 300000 m \(the grid has \d+ x \d+ = [\d ]+ cells of 100 m "
        r"\([\d.]+ GiB a float64 map.*more than the 20 000 000 a run holds\); check these keys",
    ):
        P._territories_and_grid(load_config(cfg))
    from trajectoire.geo.grid import RUN_MAX_CELLS, check_run_cells

    check_run_cells(Grid.from_bounds(X0, Y0, X0 + 100_000, Y0 + 100_000, 100.0))  # 1e6: fine
    assert RUN_MAX_CELLS == 20_000_000


def test_in_area_of_use_with_its_margin_and_nan():
    """Positions in the area of use of a CRS (widened by the margin), in any CRS; NaN is
    not in it; a CRS without an area of use gives None."""
    import pyproj

    from trajectoire.geo.grid import in_area_of_use

    # Lille in Lambert-93, the same in degrees, degrees read as Lambert-93, and NaN
    got = in_area_of_use(
        "EPSG:2154", "EPSG:2154", [704_000.0, 3.06, np.nan], [7_059_000.0, 50.63, 1.0]
    )
    assert got.tolist() == [True, False, False]
    assert in_area_of_use("EPSG:2154", "EPSG:4326", [3.06], [50.63]).tolist() == [True]
    # 1 degree beyond France's area: inside with the default 2-degree margin, not without
    west = pyproj.CRS("EPSG:2154").area_of_use.west
    assert in_area_of_use("EPSG:2154", "EPSG:4326", [west - 1.0], [46.0]).tolist() == [True]
    assert in_area_of_use("EPSG:2154", "EPSG:4326", [west - 1.0], [46.0], 0.0).tolist() == [False]
    assert in_area_of_use("+proj=merc +datum=WGS84", "EPSG:4326", [3.0], [50.0]) is None
