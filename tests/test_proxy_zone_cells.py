"""A zone's area total is spread over the proxy inside that zone only (probe 13, finding 1).

In a cell shared by two zones, the weight of the cell for zone Z is the proxy inside the
part of the cell that lies in Z: ``P_zc = proxy(z ∩ c)``. Before, it was the proxy of the
whole cell (``f_zc P_c``), so a zone's total went onto its neighbour's land (at 1 km, 71 of
a zone's 100 t in a cell where the zone has no pasture), and from there into the
neighbouring territory. Each test below failed on that code.
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from trajectoire import Grid, TrajectoireWarning
from trajectoire.geo.grid import north_up
from trajectoire.geo.rasterize import coverage_matrix, lines_to_grid
from trajectoire.geo.regridding import Regridder
from trajectoire.inventory import allocate, build_inventory, proxy_grid

X0, Y0 = 700_000.0, 7_000_000.0
CRS = "EPSG:2154"

#: zone A: x 0-1500 m, zone B: x 1500-3000 m (the probe's reproducer)
ZONES = gpd.GeoDataFrame(
    {"zone_id": ["A", "B"], "population": [100.0, 100_000.0]},
    geometry=[
        shapely.box(X0, Y0, X0 + 1500, Y0 + 1000),
        shapely.box(X0 + 1500, Y0, X0 + 3000, Y0 + 1000),
    ],
    crs=CRS,
)


def totals(zone="A", sector="K_AgriLivestock", amount=100.0, pollutant="NH3"):
    return pd.DataFrame(
        {"zone_id": [zone], "sector": [sector], "pollutant": [pollutant], "emission": [amount]}
    )


def field(em, sector="K_AgriLivestock", pollutant="NH3"):
    return em.sel(sector=sector, pollutant=pollutant).values


def codes_raster(codes, res=100.0, x0=X0, y0=Y0, crs=CRS):
    """A land-use raster of class codes (north-up rows) as read_landuse gives it."""
    ny, nx = codes.shape
    g = Grid.from_bounds(x0, y0, x0 + nx * res, y0 + ny * res, res, crs=crs)
    return g.to_dataarray(np.asarray(codes, dtype="uint8"), attrs={"crs": crs})


def exact_land(zone, grid, codes_da, code):
    """Brute force: area [m2] of the pixels of class `code` in zone ∩ cell, by shapely."""
    src = Grid.from_xarray(codes_da)
    vals = np.asarray(north_up(codes_da).transpose("y", "x").values)
    rr, cc = np.nonzero(vals == code)
    pixels = shapely.box(
        src.xmin + cc * src.dx,
        src.ymax - (rr + 1) * src.dy,
        src.xmin + (cc + 1) * src.dx,
        src.ymax - rr * src.dy,
    )
    land = shapely.intersection(shapely.union_all(pixels), zone)
    out = np.zeros(grid.shape)
    for r in range(grid.ny):
        for c in range(grid.nx):
            cell = shapely.box(
                grid.xmin + c * grid.dx,
                grid.ymax - (r + 1) * grid.dy,
                grid.xmin + (c + 1) * grid.dx,
                grid.ymax - r * grid.dy,
            )
            out[r, c] = shapely.intersection(land, cell).area
    return out


# ---------------------------------------------------------------- the probe's reproducer
def test_a_zone_total_stays_on_its_own_pasture_at_1_km():
    """A's only pasture is x 0-100 m, B's x 1500-2000 m; the cell [1000, 2000] holds B's
    pasture and none of A's: A's 100 t all go to the cell [0, 1000] (71.4 t went east)."""
    pasture = gpd.GeoDataFrame(
        geometry=[
            shapely.box(X0, Y0, X0 + 100, Y0 + 1000),
            shapely.box(X0 + 1500, Y0, X0 + 2000, Y0 + 1000),
        ],
        crs=CRS,
    )
    for res in (1000.0, 100.0):
        grid = Grid.from_bounds(X0, Y0, X0 + 3000, Y0 + 1000, res)
        e = field(allocate(totals(), ZONES, grid, proxies={"K": pasture})).sum(axis=0)
        x = grid.x - X0
        assert e[x < 100].sum() == pytest.approx(100.0, rel=1e-12) if res < 1000 else True
        assert e[x < 1000].sum() == pytest.approx(100.0, rel=1e-12)
        assert e[x > 1000].sum() == 0.0


def test_landuse_raster_is_split_by_the_zones_on_an_unaligned_grid():
    """A 100 m land-use raster on a 1001 m grid whose cell edges cut pixels that a zone
    boundary (slanted) also cuts: each zone's share of each cell is the pasture of
    zone ∩ cell, to round-off (brute force with shapely)."""
    rng = np.random.default_rng(3)
    codes = np.where(rng.random((20, 30)) < 0.3, 4, 3)
    lu = codes_raster(codes)
    zones = gpd.GeoDataFrame(
        {"zone_id": ["W", "E"]},
        geometry=[
            shapely.Polygon([(X0, Y0), (X0 + 1350, Y0), (X0 + 1720, Y0 + 2000), (X0, Y0 + 2000)]),
            shapely.Polygon(
                [(X0 + 1350, Y0), (X0 + 3000, Y0), (X0 + 3000, Y0 + 2000), (X0 + 1720, Y0 + 2000)]
            ),
        ],
        crs=CRS,
    )
    grid = Grid(X0 - 37.0, Y0 - 11.0, 1001.0, 1001.0, 4, 3, CRS)
    for zid, shape in zip(["W", "E"], zones.geometry, strict=True):
        e = field(allocate(totals(zid, amount=10.0), zones, grid, landuse=lu))
        want = exact_land(shape, grid, lu, 4)
        np.testing.assert_allclose(e, 10.0 * want / want.sum(), rtol=1e-9, atol=1e-12)


def test_build_inventory_spreads_with_the_raster_pixels(tmp_path):
    """build_inventory gives allocate the land-use raster itself (not its areas per cell,
    which lose where the land lies inside a cell)."""
    import rasterio

    codes = np.full((10, 30), 3, dtype="uint8")  # arable
    codes[:, :1] = 4  # A's pasture: x 0-100 m
    codes[:, 15:20] = 4  # B's: x 1500-2000 m
    src = Grid.from_bounds(X0, Y0, X0 + 3000, Y0 + 1000, 100)
    path = tmp_path / "landuse.tif"
    with rasterio.open(path, "w", **src.rasterio_profile(dtype="uint8")) as dst:
        dst.write(codes, 1)
    zones_path = tmp_path / "zones.gpkg"
    ZONES.to_file(zones_path, layer="zones")
    grid = Grid.from_bounds(X0, Y0, X0 + 3000, Y0 + 1000, 1000)
    ds = build_inventory(
        grid, reference_year=2019, area_totals=totals(), zones=zones_path, landuse=path
    )
    e = ds["emission"].sel(sector="K_AgriLivestock", pollutant="NH3").values
    np.testing.assert_allclose(e.sum(axis=0), [100.0, 0.0, 0.0], atol=1e-9)


def test_roads_of_the_neighbour_carry_none_of_a_zones_total():
    """Road traffic proxy: A's total goes along A's roads only, not along the motorway of B
    that crosses a cell A shares."""
    roads = gpd.GeoDataFrame(
        {"road_id": ["a", "b"], "aadt": [1000.0, 80_000.0]},
        geometry=[
            shapely.LineString([(X0 + 50, Y0), (X0 + 50, Y0 + 1000)]),
            shapely.LineString([(X0 + 1800, Y0), (X0 + 1800, Y0 + 1000)]),
        ],
        crs=CRS,
    )
    grid = Grid.from_bounds(X0, Y0, X0 + 3000, Y0 + 1000, 1000)
    for proxy in ("roads", "road_length"):
        em = allocate(
            totals(sector="F_RoadTransport", pollutant="NOx"),
            ZONES,
            grid,
            roads=roads,
            proxies={"F": proxy},
        )
        np.testing.assert_allclose(
            field(em, "F_RoadTransport", "NOx")[0], [100.0, 0.0, 0.0], atol=1e-9
        )


def test_points_of_the_neighbour_carry_none_of_a_zones_total():
    pts = gpd.GeoDataFrame(
        {"w": [1.0, 50.0]},
        geometry=[shapely.Point(X0 + 500, Y0 + 500), shapely.Point(X0 + 1700, Y0 + 500)],
        crs=CRS,
    )
    grid = Grid.from_bounds(X0, Y0, X0 + 3000, Y0 + 1000, 1000)
    em = allocate(totals(sector="J_Waste", pollutant="NOx"), ZONES, grid, proxies={"J": (pts, "w")})
    np.testing.assert_allclose(field(em, "J_Waste", "NOx")[0], [100.0, 0.0, 0.0], atol=1e-9)


def test_population_of_the_neighbour_does_not_pull_a_zones_total():
    """The population proxy is each zone's inhabitants spread uniformly over it: within a
    zone, its total goes by area, whatever the density of the zone next door (B holds 1000
    times A's inhabitants on the same area; A's share of the cell [1000, 2000] is 1/3)."""
    grid = Grid.from_bounds(X0, Y0, X0 + 3000, Y0 + 1000, 1000)
    em = allocate(
        totals(sector="C_OtherStationaryComb", pollutant="NOx", amount=3.0),
        ZONES,
        grid,
        population_column="population",
    )
    np.testing.assert_allclose(
        field(em, "C_OtherStationaryComb", "NOx")[0], [2.0, 1.0, 0.0], rtol=1e-12
    )


def test_a_zone_whose_proxy_lies_only_beyond_its_border_falls_back_to_area():
    """A's cell [1000, 2000] holds pasture, but in B's half only: A has no pasture, so its
    total is spread by area with the documented warning (it went onto B's pasture)."""
    pasture = gpd.GeoDataFrame(geometry=[shapely.box(X0 + 1600, Y0, X0 + 1900, Y0 + 1000)], crs=CRS)
    grid = Grid.from_bounds(X0, Y0, X0 + 3000, Y0 + 1000, 1000)
    with pytest.warns(TrajectoireWarning, match=r"zero everywhere on zone\(s\) A.*by area"):
        em = allocate(totals(amount=3.0), ZONES, grid, proxies={"K": pasture})
    np.testing.assert_allclose(field(em)[0], [2.0, 1.0, 0.0], rtol=1e-12)


def test_raster_proxy_on_finer_pixels_is_split_by_the_zones():
    """A proxy grid on pixels of its own (here 100 m, same CRS, south-up) is split between
    the zones by its pixels; a numpy array on the run grid cannot be and keeps f_zc P_c."""
    src = Grid.from_bounds(X0, Y0, X0 + 3000, Y0 + 1000, 100)
    vals = np.zeros(src.shape)
    vals[:, 0] = 1.0  # A's: x 0-100 m
    vals[:, 16] = 5.0  # B's: x 1600-1700 m
    da = src.to_dataarray(vals, attrs={"crs": CRS}).sortby("y")  # south-up
    grid = Grid.from_bounds(X0, Y0, X0 + 3000, Y0 + 1000, 1000)
    em = allocate(totals(sector="J_Waste", pollutant="NOx"), ZONES, grid, proxies={"J": da})
    np.testing.assert_allclose(field(em, "J_Waste", "NOx")[0], [100.0, 0.0, 0.0], atol=1e-9)
    on_cells = np.array([[1.0, 5.0, 0.0]])
    em = allocate(totals(sector="J_Waste", pollutant="NOx"), ZONES, grid, proxies={"J": on_cells})
    np.testing.assert_allclose(  # 1 x 1 and 5 x 1/2 in A's part of the cells
        field(em, "J_Waste", "NOx")[0], [100.0 / 3.5, 250.0 / 3.5, 0.0], rtol=1e-12
    )


def test_proxy_grid_of_a_south_up_raster_is_not_mirrored():
    """proxy_grid regridded a south-up DataArray by its array order (its north-west value
    came out in the south-west)."""
    coarse = Grid.from_bounds(X0, Y0, X0 + 2000, Y0 + 2000, 1000)
    da = coarse.to_dataarray(np.array([[1.0, 0.0], [0.0, 0.0]]), attrs={"crs": CRS})
    grid = Grid.from_bounds(X0, Y0, X0 + 2000, Y0 + 2000, 500)
    np.testing.assert_array_equal(proxy_grid(da.sortby("y"), grid), proxy_grid(da, grid))
    assert proxy_grid(da, grid)[0, 0] == 0.25


def test_landuse_raster_in_another_crs_is_split_by_the_zones():
    """A land-use raster in Web Mercator: each zone's weights are its land inside its own
    part of the cells (brute force in the raster's CRS, where the areas of 3 km of land
    scale alike to 1e-3), and none of its total goes to the land of the next zone."""
    grid = Grid.from_bounds(X0, Y0, X0 + 3000, Y0 + 1000, 1000)
    merc = "EPSG:3857"
    x0, y0, x1, y1 = ZONES.to_crs(merc).total_bounds
    src = Grid.from_bounds(x0 - 160, y0 - 160, x1 + 160, y1 + 160, 80.0, crs=merc, snap=True)
    cx, cy = np.meshgrid(src.x, src.y)
    lx = gpd.GeoSeries(gpd.points_from_xy(cx.ravel(), cy.ravel()), crs=merc).to_crs(CRS).x
    lx = lx.to_numpy().reshape(src.shape) - X0
    codes = np.where(((lx > 200) & (lx < 500)) | ((lx > 1300) & (lx < 1900)), 4, 3)
    lu = src.to_dataarray(codes.astype("uint8"), attrs={"crs": merc})
    e = field(allocate(totals(), ZONES, grid, landuse=lu))[0]
    a = ZONES.to_crs(merc).geometry.iloc[0]
    land = shapely.union_all(
        [
            shapely.box(
                src.xmin + c * src.dx,
                src.ymax - (r + 1) * src.dy,
                src.xmin + (c + 1) * src.dx,
                src.ymax - r * src.dy,
            )
            for r, c in zip(*np.nonzero(codes == 4), strict=True)
        ]
    ).intersection(a)
    cells = gpd.GeoSeries(
        [shapely.box(X0 + k * 1000, Y0, X0 + (k + 1) * 1000, Y0 + 1000) for k in range(3)],
        crs=CRS,
    ).to_crs(merc)
    want = np.array([land.intersection(c).area for c in cells.segmentize(10.0)])
    np.testing.assert_allclose(e, 100.0 * want / want.sum(), rtol=1e-3, atol=1e-9)
    assert e[1] < 55.0  # the old weights, all the pasture of the cell: about 80 t


# ---------------------------------------------------------------- the geo helpers
def test_line_coverage_matrix_rows_are_the_lengths_of_lines_to_grid():
    from trajectoire.geo.rasterize import line_coverage_matrix

    grid = Grid.from_bounds(X0, Y0, X0 + 3000, Y0 + 1000, 250)
    lines = [
        shapely.LineString([(X0 + 10, Y0 + 10), (X0 + 2990, Y0 + 970)]),
        shapely.MultiLineString(
            [[(X0, Y0 + 500), (X0 + 900, Y0 + 500)], [(X0 + 5, Y0), (X0 + 5, Y0 + 999)]]
        ),
    ]
    m = line_coverage_matrix(lines, grid)
    assert m.shape == (2, grid.size)
    np.testing.assert_allclose(m.sum(axis=1).A1, [shapely.length(g) for g in lines], rtol=1e-12)
    w = np.array([2.0, 3.0])
    np.testing.assert_allclose((m.T @ w).reshape(grid.shape), lines_to_grid(lines, grid, values=w))


@pytest.mark.parametrize("crs", [CRS, "EPSG:3857"])
def test_overlap_areas_is_the_matrix_of_covered_area(crs):
    src = Grid.from_bounds(X0, Y0, X0 + 1000, Y0 + 700, 100)
    if crs != CRS:
        src = Grid.from_bounds(290_000, 6_560_000, 291_100, 6_560_800, 100, crs=crs)
    grid = Grid(X0 - 500, Y0 - 500, 333.0, 333.0, 6, 6, CRS)
    plan = Regridder(src, grid)
    vals = np.random.default_rng(0).random(src.shape)
    np.testing.assert_allclose(
        (plan.overlap_areas @ vals.ravel()).reshape(grid.shape), plan.covered_area(vals), rtol=1e-12
    )


# ---------------------------------------------------------------- properties
def halfplane(angle, offset):
    """The half-plane left of a line through the domain, as a large polygon."""
    c = np.array([X0 + 1500.0, Y0 + 1000.0]) + offset * np.array([np.cos(angle), np.sin(angle)])
    d = np.array([-np.sin(angle), np.cos(angle)]) * 1e5
    n = np.array([np.cos(angle), np.sin(angle)]) * 1e5
    return shapely.Polygon([c - d, c + d, c + d - n, c - d - n])


@st.composite
def partition_and_land(draw):
    angles = draw(st.lists(st.floats(0.0, np.pi), min_size=1, max_size=2))
    offsets = draw(st.lists(st.floats(-700.0, 700.0), min_size=len(angles), max_size=len(angles)))
    domain = shapely.box(X0, Y0, X0 + 3000, Y0 + 2000)
    parts = [domain]
    for a, o in zip(angles, offsets, strict=True):
        h = halfplane(a, o)
        parts = [p for q in parts for p in (q.intersection(h), q.difference(h)) if p.area > 1.0]
    parts = [p for p in parts if p.geom_type == "Polygon"]
    res = draw(st.sampled_from([250.0, 333.0, 500.0, 1000.0, 1001.0]))
    shift = draw(st.tuples(st.floats(0.0, 99.0), st.floats(0.0, 99.0)))
    seed = draw(st.integers(0, 10_000))
    share = draw(st.floats(0.0, 0.6))
    return parts, res, shift, seed, share


@settings(max_examples=25, deadline=None)
@given(partition_and_land())
def test_each_zone_keeps_its_mass_on_its_own_land(case):
    """Random zones (a square cut by 1-2 lines), a random 100 m raster, a grid of another
    resolution and origin: each zone's cells receive exactly its total (mass conserved per
    zone) in proportion to the land of zone ∩ cell (brute force), or by area when the zone
    has no land (the documented fallback)."""
    parts, res, (sx, sy), seed, share = case
    rng = np.random.default_rng(seed)
    codes = np.where(rng.random((20, 30)) < share, 4, 5)
    lu = codes_raster(codes)
    zones = gpd.GeoDataFrame(
        {"zone_id": [f"z{i}" for i in range(len(parts))]}, geometry=parts, crs=CRS
    )
    n = (int(3000 // res) + 2, int(2000 // res) + 2)
    grid = Grid(X0 - sx, Y0 - sy, res, res, *n, CRS)
    cover = coverage_matrix(zones, grid).toarray() * grid.cell_area
    for i, shape in enumerate(parts):
        amount = float(rng.uniform(0.1, 100.0))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TrajectoireWarning)  # a zone without pasture
            e = field(allocate(totals(f"z{i}", amount=amount), zones, grid, landuse=lu))
        assert e.sum() == pytest.approx(amount, rel=1e-12)
        land = exact_land(shape, grid, lu, 4)
        land[land < 1e-6] = 0.0  # slivers of round-off
        want = land if land.sum() > 1e-3 else cover[i].reshape(grid.shape)
        np.testing.assert_allclose(e, amount * want / want.sum(), rtol=1e-7, atol=1e-9 * amount)


@st.composite
def partition_and_shapes(draw):
    parts, res, shift, seed, _ = draw(partition_and_land())
    kind = draw(st.sampled_from(["polygon", "line"]))
    n = draw(st.integers(1, 6))
    pts = draw(
        st.lists(
            st.tuples(st.floats(0.0, 3000.0), st.floats(0.0, 2000.0)),
            min_size=2 * n,
            max_size=2 * n,
        )
    )
    shapes = []
    for (x0, y0), (x1, y1) in zip(pts[::2], pts[1::2], strict=True):
        a, b = (X0 + x0, Y0 + y0), (X0 + x1, Y0 + y1)
        if kind == "line":
            shapes.append(shapely.LineString([a, b]))
        else:
            box = shapely.box(min(a[0], b[0]), min(a[1], b[1]), max(a[0], b[0]), max(a[1], b[1]))
            shapes.append(box.buffer(50.0) if box.area < 1.0 else box)
    return parts, res, shift, seed, kind, shapes


@settings(max_examples=25, deadline=None)
@given(partition_and_shapes())
def test_each_zone_keeps_its_mass_on_its_own_shapes(case):
    """Random proxy polygons (by area) or lines (by length, weighted): each zone's cells
    receive exactly its total, in proportion to the shapes inside zone ∩ cell (brute force,
    each shape on its own: overlapping shapes count twice, as the proxy's weights add)."""
    parts, res, (sx, sy), seed, kind, shapes = case
    rng = np.random.default_rng(seed)
    w = rng.uniform(0.5, 2.0, len(shapes))
    proxy = (gpd.GeoDataFrame({"w": w}, geometry=shapes, crs=CRS), "w")
    zones = gpd.GeoDataFrame(
        {"zone_id": [f"z{i}" for i in range(len(parts))]}, geometry=parts, crs=CRS
    )
    n = (int(3000 // res) + 2, int(2000 // res) + 2)
    grid = Grid(X0 - sx, Y0 - sy, res, res, *n, CRS)
    cover = coverage_matrix(zones, grid).toarray()
    measure = shapely.area if kind == "polygon" else shapely.length
    for i, zone in enumerate(parts):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TrajectoireWarning)  # a zone without shapes
            em = allocate(totals(f"z{i}", sector="J_Waste"), zones, grid, proxies={"J": proxy})
        e = field(em, "J_Waste")
        assert e.sum() == pytest.approx(100.0, rel=1e-12)
        want = np.zeros(grid.shape)
        for r in range(grid.ny):
            for c in range(grid.nx):
                if cover[i, r * grid.nx + c] == 0.0:
                    continue
                cell = shapely.box(
                    grid.xmin + c * grid.dx,
                    grid.ymax - (r + 1) * grid.dy,
                    grid.xmin + (c + 1) * grid.dx,
                    grid.ymax - r * grid.dy,
                )
                piece = shapely.intersection(zone, cell)
                want[r, c] = float(np.sum(w * measure(shapely.intersection(shapes, piece))))
        if want.sum() <= 1e-6 * max(float(np.sum(w * measure(shapes))), 1e-300):
            want = cover[i].reshape(grid.shape)  # the documented fallback: by area
        np.testing.assert_allclose(e, 100.0 * want / want.sum(), rtol=1e-7, atol=1e-7)
