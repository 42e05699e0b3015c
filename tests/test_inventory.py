"""The reference inventory: readers, proxy allocation, builder, operations, bad input."""

from __future__ import annotations

import sys

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import rasterio
import shapely
import xarray as xr
from hypothesis import given
from hypothesis import strategies as st

from trajectoire import Grid, GridError, InputError, TrajectoireWarning, UnitsError
from trajectoire.inventory import (
    DEFAULT_PROXIES,
    add,
    allocate,
    build_inventory,
    crop,
    empty_inventory,
    group_sectors,
    proxy_grid,
    read_area_totals,
    read_gridded,
    read_point_sources,
    read_road_emission_factors,
    read_roads,
    read_zones,
    scale,
    totals,
)
from trajectoire.sectors import GNFR

#: the synthetic gridded files of these tests cover part of the run's grid on purpose
PART_OF_GRID = pytest.mark.filterwarnings(
    "ignore:.*of the run's grid.*:trajectoire.errors.TrajectoireWarning"
)

X0, Y0 = 700_000.0, 7_000_000.0
GRID = Grid.from_bounds(X0, Y0, X0 + 5000, Y0 + 4000, 100)


# ---------------------------------------------------------------- synthetic inputs
def write_points(path, rows=None, **extra):
    df = pd.DataFrame(
        rows
        or [
            ["S1", "plant", X0 + 1050, Y0 + 950, "A", 80.0, 3.0, 420.0, 12.0, 1975, "", 120.0, 8.0],
            ["S2", "works", X0 + 3020, Y0 + 3010, "B", 40.0, 1.5, 380.0, 9.0, "", 2015, 30.0, 2.5],
            ["S3", "boiler", X0 + 4510, Y0 + 220, "C", 15.0, 0.6, 350.0, 6.0, "", "", 1.0, 0.2],
        ],
        columns=[
            "source_id",
            "name",
            "x",
            "y",
            "sector",
            "height",
            "diameter",
            "temperature",
            "velocity",
            "start_year",
            "end_year",
            "NOx",
            "PM10",
        ],
    )
    for k, v in extra.items():
        df[k] = v
    df.to_csv(path, index=False)
    return df


def write_roads(path):
    lines = [
        shapely.LineString([(X0 + 100, Y0 + 2050), (X0 + 4900, Y0 + 2150)]),
        shapely.LineString([(X0 + 2500, Y0 + 100), (X0 + 2600, Y0 + 3900), (X0 + 4000, Y0 + 3950)]),
        shapely.LineString([(X0 + 300, Y0 + 300), (X0 + 1200, Y0 + 1700)]),
    ]
    gdf = gpd.GeoDataFrame(
        {
            "road_id": ["R1", "R2", "R3"],
            "category": ["motorway", "urban", "rural"],
            "aadt": [60_000.0, 12_000.0, 3_000.0],
            "hdv_share": [0.15, 0.05, 0.1],
        },
        geometry=lines,
        crs="EPSG:2154",
    )
    gdf.to_file(path, layer="roads")
    return gdf


def write_factors(path):
    rows = []
    for cat, k in (("motorway", 1.0), ("urban", 1.3), ("rural", 0.9)):
        rows += [[cat, "NOx", 0.3 * k, 4.0 * k], [cat, "PM10", 0.03 * k, 0.2 * k]]
    df = pd.DataFrame(rows, columns=["category", "pollutant", "ef_light", "ef_heavy"])
    df.to_csv(path, index=False)
    return df


def write_zones(path):
    boxes = [
        shapely.box(X0, Y0, X0 + 2500, Y0 + 2000),
        shapely.box(X0 + 2500, Y0, X0 + 5000, Y0 + 2000),
        shapely.box(X0, Y0 + 2000, X0 + 2500, Y0 + 4000),
        shapely.Polygon(
            [
                (X0 + 2500, Y0 + 2000),
                (X0 + 5000, Y0 + 2000),
                (X0 + 5000, Y0 + 4000),
                (X0 + 2550, Y0 + 3990),
            ]
        ),
    ]
    gdf = gpd.GeoDataFrame(
        {
            "zone_id": ["Z1", "Z2", "Z3", "Z4"],
            "pop_2013": [1000, 0, 500, 20],
            "pop_2019": [1100, 0, 550, 25],
        },
        geometry=boxes,
        crs="EPSG:2154",
    )
    gdf.to_file(path, layer="zones")
    return gdf


def write_area(path):
    rows = [
        ["Z1", "C", "NOx", 5.0],
        ["Z2", "J", "NOx", 2.0],
        ["Z3", "C", "PM10", 1.5],
        ["Z1", "K", "NH3", 7.0],
        ["Z4", "B", "NOx", 3.0],
        ["Z3", "L", "NH3", 4.0],
    ]
    df = pd.DataFrame(rows, columns=["zone_id", "sector", "pollutant", "emission"])
    df.to_csv(path, index=False)
    return df


def write_landuse(path, crs="EPSG:2154"):
    g = Grid.from_bounds(X0, Y0, X0 + 5000, Y0 + 4000, 50)
    rng = np.random.default_rng(0)
    codes = rng.integers(1, 7, size=g.shape).astype("uint8")
    profile = g.rasterio_profile(dtype="uint8")
    if crs is None:
        profile.pop("crs")
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(codes, 1)
    return codes


def lonlat_grid_inside():
    tr = pyproj.Transformer.from_crs("EPSG:2154", "EPSG:4326", always_xy=True)
    lon, lat = tr.transform(X0 + 2500, Y0 + 2000)
    return Grid(round(lon, 2) - 0.02, round(lat, 2) - 0.01, 0.01, 0.005, 4, 4, "EPSG:4326")


def write_gridded_nc(path):
    g = lonlat_grid_inside()
    vals = np.arange(16.0).reshape(4, 4)
    da = xr.DataArray(
        vals[::-1],  # lat increasing, as in most NetCDF inventories
        dims=("lat", "lon"),
        coords={"lat": g.y[::-1], "lon": g.x},
        attrs={"units": "kg yr-1"},
        name="emi_nox",
    )
    da.to_dataset().to_netcdf(path)
    return vals.sum() * 1e-3


@pytest.fixture
def inputs(tmp_path):
    d = {
        "point_sources": tmp_path / "point_sources.csv",
        "roads": tmp_path / "roads.gpkg",
        "road_emission_factors": tmp_path / "road_emission_factors.csv",
        "zones": tmp_path / "zones.gpkg",
        "area_totals": tmp_path / "area_emissions.csv",
        "landuse": tmp_path / "landuse.tif",
    }
    write_points(d["point_sources"])
    write_roads(d["roads"])
    write_factors(d["road_emission_factors"])
    write_zones(d["zones"])
    write_area(d["area_totals"])
    write_landuse(d["landuse"])
    return d


@PART_OF_GRID
# ---------------------------------------------------------------- builder
def test_build_inventory_conserves_every_input(inputs, tmp_path):
    nc_total = write_gridded_nc(tmp_path / "cams.nc")
    gridded = read_gridded(tmp_path / "cams.nc", sector="M", pollutant="NOx")
    ds = build_inventory(GRID, reference_year=2019, gridded=[gridded], **inputs)
    pts = pd.read_csv(inputs["point_sources"])
    area = pd.read_csv(inputs["area_totals"])
    roads = read_roads(inputs["roads"], emission_factors=inputs["road_emission_factors"])
    road_t = (roads[["NOx", "PM10"]].to_numpy() * roads.length.to_numpy()[:, None] / 1000).sum(0)
    expect = {
        "NOx": pts["NOx"].sum()
        + area.query("pollutant == 'NOx'")["emission"].sum()
        + road_t[0]
        + nc_total,
        "PM10": pts["PM10"].sum() + area.query("pollutant == 'PM10'")["emission"].sum() + road_t[1],
        "NH3": area.query("pollutant == 'NH3'")["emission"].sum(),
    }
    got = ds["emission"].sum(("sector", "y", "x")) + ds["point_emission"].sum("source")
    for pol, val in expect.items():
        np.testing.assert_allclose(float(got.sel(pollutant=pol)), val, rtol=1e-9)
    # road emissions go to F only, with the traffic formula (AADT x EF x 365.25 days)
    f_nox = float(ds["emission"].sel(sector="F_RoadTransport", pollutant="NOx").sum())
    np.testing.assert_allclose(f_nox, road_t[0], rtol=1e-9)


def test_inventory_layout(inputs):
    ds = build_inventory(GRID, reference_year=2019, point_sources=inputs["point_sources"])
    assert ds["emission"].dims == ("sector", "pollutant", "y", "x")
    assert ds["emission"].attrs["units"] == "t yr-1"
    assert ds["sector"].values.tolist() == list(GNFR)
    assert ds["pollutant"].values.tolist() == ["NOx", "PM10"]
    assert Grid.from_xarray(ds).same_as(GRID)
    assert ds.attrs["reference_year"] == 2019 and "build_inventory" in ds.attrs["history"]
    for var in (
        "source_x",
        "source_y",
        "source_sector",
        "stack_height",
        "stack_diameter",
        "exit_temperature",
        "exit_velocity",
        "start_year",
        "end_year",
        "source_name",
    ):
        assert ds[var].dims == ("source",)
    assert ds["start_year"].values.tolist() == [1975, -1, -1]
    assert ds["end_year"].values.tolist() == [-1, 2015, -1]
    assert ds["source_sector"].values.tolist() == [
        "A_PublicPower",
        "B_Industry",
        "C_OtherStationaryComb",
    ]


def test_point_sources_from_geopackage_in_another_crs(tmp_path):
    df = write_points(tmp_path / "p.csv")
    gdf = gpd.GeoDataFrame(
        df.drop(columns=["x", "y"]), geometry=gpd.points_from_xy(df.x, df.y), crs="EPSG:2154"
    ).to_crs("EPSG:4326")
    gdf.to_file(tmp_path / "p.gpkg")
    ds = build_inventory(GRID, reference_year=2019, point_sources=tmp_path / "p.gpkg")
    np.testing.assert_allclose(ds["source_x"].values, df["x"].values, atol=1e-3)


def test_roads_with_emissions_per_km(tmp_path):
    gdf = write_roads(tmp_path / "r.gpkg").drop(columns=["aadt", "hdv_share"])
    gdf["nox"] = [2.0, 1.0, 0.5]  # kg yr-1 km-1
    gdf.to_file(tmp_path / "r2.gpkg")
    roads = read_roads(tmp_path / "r2.gpkg", units="kg yr-1")
    assert roads.attrs["pollutants"] == ["NOx"]
    ds = build_inventory(GRID, reference_year=2019, roads=roads)
    expect = float((gdf["nox"] * gdf.length / 1000).sum()) * 1e-3
    np.testing.assert_allclose(float(ds["emission"].sum()), expect, rtol=1e-9)


def test_gridded_geotiff_and_units(tmp_path):
    g = Grid.from_bounds(X0, Y0, X0 + 5000, Y0 + 4000, 1000)
    vals = np.arange(20.0).reshape(g.shape)
    with rasterio.open(tmp_path / "b.tif", "w", **g.rasterio_profile(dtype="float64")) as dst:
        dst.write(vals, 1)
        dst.update_tags(units="kg yr-1")
    da = read_gridded(tmp_path / "b.tif", sector="B", pollutant="SO2")
    assert da.dims == ("sector", "pollutant", "y", "x")
    ds = build_inventory(GRID, reference_year=2019, gridded=da)
    assert ds["sector"].size == 13
    with rasterio.open(tmp_path / "c.tif", "w", **g.rasterio_profile("float64")) as dst:
        dst.write(vals, 1)
    with pytest.raises(UnitsError, match="no units found"):
        read_gridded(tmp_path / "c.tif", sector="B", pollutant="SO2")
    np.testing.assert_allclose(float(ds["emission"].sum()), vals.sum() * 1e-3, rtol=1e-12)


# ---------------------------------------------------------------- allocation
def test_default_proxies_cover_every_gnfr_sector():
    assert set(DEFAULT_PROXIES) == set(GNFR)


def test_population_proxy_uses_nearest_census(inputs):
    zones = read_zones(inputs["zones"])
    p = proxy_grid("population", GRID, zones=zones, reference_year=2018)
    np.testing.assert_allclose(p.sum(), 1100 + 550 + 25, rtol=1e-9)


def test_allocation_follows_the_proxy(inputs):
    zones = read_zones(inputs["zones"])
    tab = read_area_totals(inputs["area_totals"])
    em = allocate(
        tab[tab.sector == "K_AgriLivestock"],
        zones,
        GRID,
        proxies={"K": "landuse:pasture"},
        landuse=__import__("trajectoire.inventory").inventory.read_landuse(inputs["landuse"]),
    )
    k = em.sel(sector="K_AgriLivestock", pollutant="NH3").values
    np.testing.assert_allclose(k.sum(), 7.0, rtol=1e-12)
    assert k[20:, :25].sum() == pytest.approx(7.0)  # all of it in zone Z1 (south-west)


def test_zero_proxy_falls_back_to_area_and_says_so(inputs):
    zones = read_zones(inputs["zones"])
    tab = pd.DataFrame(
        {
            "zone_id": ["Z2"],
            "sector": ["C_OtherStationaryComb"],
            "pollutant": ["NOx"],
            "emission": [2.0],
        }
    )
    with pytest.warns(TrajectoireWarning, match=r"zero everywhere on zone\(s\) Z2.*by area"):
        em = allocate(tab, zones, GRID, population_column="pop_2019")
    z2 = em.values[0, 0, 20:, 25:]
    np.testing.assert_allclose(z2, 2.0 / z2.size, rtol=1e-12)


def test_zero_proxies_of_several_sectors_are_said_once(inputs):
    """Two sectors whose proxy is zero on a zone: one warning naming both (a run spreads a
    dozen sectors; a warning each buried the log), each sector's mass still kept."""
    zones = read_zones(inputs["zones"])
    tab = pd.DataFrame(
        {
            "zone_id": ["Z2", "Z2"],
            "sector": ["C_OtherStationaryComb", "J_Waste"],
            "pollutant": ["NOx", "NOx"],
            "emission": [2.0, 3.0],
        }
    )
    with pytest.warns(TrajectoireWarning) as caught:
        em = allocate(tab, zones, GRID, population_column="pop_2019", proxies={"J": "population"})
    said = [str(w.message) for w in caught if "zero everywhere" in str(w.message)]
    assert len(said) == 1, said
    assert (
        "sector C_OtherStationaryComb: the proxy population is zero everywhere on zone(s) Z2"
        in (said[0])
    )
    assert "sector J_Waste: the proxy population is zero everywhere on zone(s) Z2" in said[0]
    np.testing.assert_allclose(em.sum(("y", "x")).values[:, 0], [2.0, 3.0], rtol=1e-12)


def test_zone_partly_outside_keeps_inside_share():
    zones = gpd.GeoDataFrame(
        {"zone_id": ["A"]},
        geometry=[shapely.box(X0 - 1000, Y0, X0 + 1000, Y0 + 1000)],
        crs="EPSG:2154",
    )
    tab = pd.DataFrame({"zone_id": ["A"], "sector": ["M"], "pollutant": ["NOx"], "emission": [4.0]})
    tab = read_area_totals(tab)
    with pytest.warns(TrajectoireWarning, match=r"outside the grid.*zones A.*2 t yr-1"):
        em = allocate(tab, zones, GRID, proxies={"M": "area"})
    np.testing.assert_allclose(float(em.sum()), 2.0, rtol=1e-12)


def test_zone_partly_outside_reports_each_pollutant_in_its_own_units():
    """The share left out is given per pollutant: a particle-number species (UFP, particles
    a year) is not added to the tonnes of the mass species."""
    zones = gpd.GeoDataFrame(
        {"zone_id": ["A"]},
        geometry=[shapely.box(X0 - 1000, Y0, X0 + 1000, Y0 + 1000)],
        crs="EPSG:2154",
    )
    tab = pd.DataFrame(
        {
            "zone_id": ["A", "A"],
            "sector": ["M", "M"],
            "pollutant": ["NOx", "UFP"],
            "emission": [4.0, 6e20],
        }
    )
    with pytest.warns(TrajectoireWarning) as caught:
        allocate(tab, zones, GRID, proxies={"M": "area"})
    message = next(str(w.message) for w in caught if "outside the grid" in str(w.message))
    assert "NOx 2 t yr-1" in message
    assert "UFP 3e+20 yr-1" in message
    assert "in all" not in message


def test_allocation_makes_each_named_proxy_once_and_lets_it_go_after_its_last_sector(
    inputs, monkeypatch
):
    """Sectors sharing a named proxy share one (zone, cell) matrix; each is let go once
    the last sector using it is spread (prepare's peak at 100 m), and the result is that of
    the proxies made afresh for every sector. (The proxy per (zone, cell),
    ``_zone_proxy``, replaced the proxy grid of the whole cells, ``proxy_grid``.)"""
    import weakref

    from trajectoire.inventory import proxies as mod

    zones = read_zones(inputs["zones"])
    rows = [
        (z, s, "NOx", 1.0 + i + 0.5 * j)
        for i, s in enumerate(["A", "B", "C", "E", "M"])
        for j, z in enumerate(["Z1"])
    ]
    tab = read_area_totals(
        pd.DataFrame(rows, columns=["zone_id", "sector", "pollutant", "emission"])
    )
    spec = {"A": "population", "B": "population", "C": "area", "E": "area", "M": "Area "}
    # sectors in order A, B, C, E, M: "population" is last used by B, "area" by M
    real = mod._zone_proxy
    made: dict[str, list] = {}

    def tracking(proxy, *args, **kwargs):
        key = proxy.strip().lower()
        if key == "area":  # population's grid is gone once B, its last sector, is spread
            assert made["population"] and all(ref() is None for ref in made["population"])
        out = real(proxy, *args, **kwargs)
        made.setdefault(key, []).append(weakref.ref(out))
        return out

    monkeypatch.setattr(mod, "_zone_proxy", tracking)
    got = allocate(tab, zones, GRID, proxies=spec, population_column="pop_2019")
    assert {k: len(v) for k, v in made.items()} == {"area": 1, "population": 1}
    monkeypatch.setattr(mod, "_proxy_key", lambda spec: None)  # no sharing
    fresh = allocate(tab, zones, GRID, proxies=spec, population_column="pop_2019")
    xr.testing.assert_identical(got, fresh)
    assert {k: len(v) for k, v in made.items()} == {"area": 4, "population": 3}


@st.composite
def zones_and_proxy(draw):
    n = draw(st.integers(1, 4))
    polys = []
    for _ in range(n):
        pts = draw(
            st.lists(st.tuples(st.floats(0, 5000), st.floats(0, 4000)), min_size=3, max_size=7)
        )
        poly = shapely.convex_hull(shapely.MultiPoint([(X0 + a, Y0 + b) for a, b in pts]))
        if poly.area < 1.0:
            poly = shapely.box(X0 + 10, Y0 + 10, X0 + 500, Y0 + 700)
        polys.append(poly)
    seed = draw(st.integers(0, 10_000))
    sparse_ = draw(st.floats(0, 0.95))
    return polys, seed, sparse_


@given(zones_and_proxy())
def test_allocation_conserves_mass_per_zone_and_sector(case):
    polys, seed, sparsity = case
    rng = np.random.default_rng(seed)
    proxy = rng.random(GRID.shape) * (rng.random(GRID.shape) > sparsity)
    zones = gpd.GeoDataFrame(
        {"zone_id": [f"z{i}" for i in range(len(polys))]}, geometry=polys, crs="EPSG:2154"
    )
    for i in range(len(polys)):
        tab = pd.DataFrame(
            {
                "zone_id": [f"z{i}"] * 2,
                "sector": ["C", "B"],
                "pollutant": ["NOx", "SO2"],
                "emission": rng.uniform(0.1, 100, 2),
            }
        )
        tab = read_area_totals(tab)
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TrajectoireWarning)  # possible area fallback
            em = allocate(tab, zones, GRID, proxies={"C": proxy, "B": "area"})
        got = em.sum(("y", "x"))
        np.testing.assert_allclose(
            float(got.sel(sector="C_OtherStationaryComb", pollutant="NOx")),
            tab.emission.iloc[0],
            rtol=1e-9,
        )
        np.testing.assert_allclose(
            float(got.sel(sector="B_Industry", pollutant="SO2")), tab.emission.iloc[1], rtol=1e-9
        )


def test_proxy_as_geometries_and_dataarray(inputs):
    zones = read_zones(inputs["zones"])
    tab = read_area_totals(
        pd.DataFrame({"zone_id": ["Z1"], "sector": ["J"], "pollutant": ["NOx"], "emission": [3.0]})
    )
    site = gpd.GeoDataFrame(
        {"w": [1.0]},
        geometry=[shapely.box(X0 + 200, Y0 + 200, X0 + 400, Y0 + 300)],
        crs="EPSG:2154",
    )
    em = allocate(tab, zones, GRID, proxies={"J": (site, "w")}).values[0, 0]
    assert np.count_nonzero(em) == 2 and em.sum() == pytest.approx(3.0)
    coarse = Grid.from_bounds(X0, Y0, X0 + 5000, Y0 + 4000, 1000)
    da = coarse.to_dataarray(np.eye(4, 5))
    em2 = allocate(tab, zones, GRID, proxies={"J": da}).values[0, 0]
    assert em2.sum() == pytest.approx(3.0)


# ---------------------------------------------------------------- bad input
def test_negative_and_nan_emissions_name_file_and_rows(tmp_path):
    p = tmp_path / "pts.csv"
    df = write_points(p)
    df.loc[1, "NOx"] = -3.0
    df.to_csv(p, index=False)
    with pytest.raises(InputError, match=r"pts.csv, column 'NOx': 1 negative.*rows S2"):
        read_point_sources(p)
    a = tmp_path / "area.csv"
    df = write_area(a)
    df.loc[2, "emission"] = np.nan
    df.to_csv(a, index=False)
    with pytest.raises(
        InputError, match=r"area.csv, column 'emission': not a number: an empty cell at line 4"
    ):
        read_area_totals(a)


def test_unknown_sector_and_pollutant(tmp_path):
    a = tmp_path / "area.csv"
    df = write_area(a)
    df.loc[0, "sector"] = "Z_Moon"
    df.to_csv(a, index=False)
    with pytest.raises(InputError, match=r"unknown sector.*'Z_Moon' \(line 2\)"):
        read_area_totals(a)
    df = write_area(a)
    df.loc[3, "pollutant"] = "CO9"
    df.to_csv(a, index=False)
    with pytest.raises(InputError, match=r"unknown pollutant.*'CO9' \(line 5\)"):
        read_area_totals(a)
    write_points(tmp_path / "p.csv", siret=[1, 2, 3])
    with pytest.raises(InputError, match=r"pollutant columns: unknown pollutant.*'siret'"):
        read_point_sources(tmp_path / "p.csv")
    assert read_point_sources(tmp_path / "p.csv", pollutants=["NOx"]).sizes["pollutant"] == 1


@pytest.mark.parametrize("units", ["kg", "kg m-2 s-1", "ug m-3"])
def test_units_that_are_not_a_mass_per_year(inputs, units):
    with pytest.raises(UnitsError, match="mass per year"):
        read_point_sources(inputs["point_sources"], units=units)


def test_units_conversion(inputs):
    ds = read_point_sources(inputs["point_sources"], units="kg yr-1")
    assert float(ds["point_emission"].sel(source="S1", pollutant="NOx")) == pytest.approx(0.12)


def test_raster_without_crs(tmp_path):
    write_landuse(tmp_path / "lu.tif", crs=None)
    with pytest.raises(InputError, match=r"lu.tif: the raster has no CRS.*crs='EPSG:2154'"):
        read_gridded(tmp_path / "lu.tif", units="t yr-1", sector="B", pollutant="NOx")


def test_netcdf_without_crs(tmp_path):
    xr.Dataset(
        {"e": (("y", "x"), np.ones((2, 2)))}, coords={"y": [1.5, 0.5], "x": [0.5, 1.5]}
    ).to_netcdf(tmp_path / "e.nc")
    with pytest.raises(InputError, match="has no CRS"):
        read_gridded(tmp_path / "e.nc", units="t yr-1", sector="B", pollutant="NOx")


def test_points_outside_grid_warn_or_raise(tmp_path):
    p = tmp_path / "pts.csv"
    df = write_points(p)
    df.loc[2, "x"] = X0 + 9000
    df.to_csv(p, index=False)
    with pytest.warns(TrajectoireWarning, match=r"pts.csv: 1 point source\(s\) of 3.*S3"):
        ds = build_inventory(GRID, reference_year=2019, point_sources=p)
    assert ds.sizes["source"] == 2
    with pytest.raises(InputError, match=r"pts.csv: 1 point source\(s\).*S3.*Enlarge"):
        build_inventory(GRID, reference_year=2019, point_sources=p, strict=True)


def test_duplicated_source_ids(tmp_path):
    p = tmp_path / "pts.csv"
    df = write_points(p)
    df.loc[2, "source_id"] = "S1"
    df.to_csv(p, index=False)
    with pytest.raises(
        InputError, match=r"pts.csv, column 'source_id': duplicated.*'S1' at line 2, line 4"
    ):
        read_point_sources(p)


def test_tables_given_as_dataframes_name_their_row_labels(tmp_path):
    """A table given as a DataFrame has no file lines: its messages name its row labels
    (a CSV's name its lines, test_duplicated_source_ids)."""
    df = write_points(tmp_path / "pts.csv")
    df.index = ["a", "b", "c"]
    df.loc["c", "source_id"] = "S1"
    with pytest.raises(InputError, match=r"duplicated.*'S1' at row 'a', row 'c'"):
        read_point_sources(df)
    df = write_points(tmp_path / "pts.csv")
    df.index = [10, 20, 30]
    df.loc[20, "sector"] = "Z_Moon"
    with pytest.raises(InputError, match=r"unknown sector\(s\) 'Z_Moon' \(row 20\)"):
        read_point_sources(df)
    ef = pd.DataFrame(
        {"category": ["urban", "rural"], "pollutant": ["NOx", "NOx"], "ef_light": [0.3, -0.1],
         "ef_heavy": [3.0, 2.0]},
        index=["u", "r"],
    )  # fmt: skip
    with pytest.raises(InputError, match=r"'ef_light': 1 negative value\(s\) \(row 'r': -0.1\)"):
        read_road_emission_factors(ef)


def test_bad_traffic(inputs, tmp_path):
    gdf = gpd.read_file(inputs["roads"])
    gdf.loc[0, "hdv_share"] = 15.0
    gdf.to_file(tmp_path / "r.gpkg")
    with pytest.raises(InputError, match=r"hdv_share.*rows R1.*divide percentages"):
        read_roads(tmp_path / "r.gpkg", emission_factors=inputs["road_emission_factors"])
    gdf = gpd.read_file(inputs["roads"])
    gdf.loc[0, "category"] = "tunnel"
    gdf.to_file(tmp_path / "r3.gpkg")
    with pytest.raises(InputError, match=r"categories \['tunnel'\] have no emission factor"):
        read_roads(tmp_path / "r3.gpkg", emission_factors=inputs["road_emission_factors"])


def test_totals_for_unknown_zone(inputs):
    tab = read_area_totals(
        pd.DataFrame({"zone_id": ["Q"], "sector": ["C"], "pollutant": ["NOx"], "emission": [1.0]})
    )
    with pytest.raises(InputError, match="zone id.*Q.*not in the zones file"):
        allocate(tab, read_zones(inputs["zones"]), GRID)


def test_area_totals_empty_zone_id_is_one_line_naming_the_line(tmp_path):
    """An empty zone_id is refused by the reader, naming the file, the line and the column
    (before, it passed and allocate failed with a TypeError); the other ids stay text
    (before, the empty cell made the column float: 59001 became '59001.0')."""
    path = tmp_path / "area.csv"
    path.write_text("zone_id,sector,pollutant,emission\n59001,F,NOx,1\n,C,PM10,3.25\n")
    with pytest.raises(InputError) as info:
        read_area_totals(path)
    line = str(info.value)
    assert "\n" not in line
    for part in (str(path), "column 'zone_id'", "empty cell(s) at line 3", "[inputs] zones"):
        assert part in line, (part, line)
    path.write_text("zone_id,sector,pollutant,emission\n59001,F,NOx,1\n59002,C,PM10,\n")
    with pytest.raises(InputError, match="line 3"):  # the ids are fine, the emission is not
        read_area_totals(path)


def test_zone_ids_are_text_with_their_leading_zeros(tmp_path):
    """INSEE codes with a leading zero (02001) keep it in area_emissions.csv, and ids that
    a GeoPackage stores as floats (59001.0) are the integer's text: both files join (before,
    02001 became 2001 and the valid file was refused as naming unknown zones)."""
    g = Grid.from_bounds(X0, Y0, X0 + 1000, Y0 + 1000, 100)
    area = tmp_path / "area.csv"
    area.write_text("zone_id,sector,pollutant,emission\n02001,M,NOx,1\n59001,M,NOx,2\n")
    tab = read_area_totals(area)
    assert tab["zone_id"].tolist() == ["02001", "59001"]
    boxes = [
        shapely.box(X0, Y0, X0 + 500, Y0 + 1000),
        shapely.box(X0 + 500, Y0, X0 + 1000, Y0 + 1000),
    ]
    gpd.GeoDataFrame({"zone_id": ["02001", "59001"]}, geometry=boxes, crs=2154).to_file(
        tmp_path / "text.gpkg"
    )
    gpd.GeoDataFrame({"code": [2001.0, 59001.0]}, geometry=boxes, crs=2154).to_file(
        tmp_path / "floats.gpkg"
    )
    zones = read_zones(tmp_path / "text.gpkg")
    out = allocate(tab, zones, g, proxies={"M": "area"}).sel(sector="M_Other", pollutant="NOx")
    assert float(out.isel(x=slice(0, 5)).sum()) == pytest.approx(1.0)
    assert float(out.isel(x=slice(5, 10)).sum()) == pytest.approx(2.0)
    floats = read_zones(tmp_path / "floats.gpkg", id_column="code")
    assert floats["zone_id"].tolist() == ["2001", "59001"]
    gpd.GeoDataFrame({"zone_id": ["A", None]}, geometry=boxes, crs=2154).to_file(
        tmp_path / "blank.gpkg"
    )
    with pytest.raises(InputError, match=r"column 'zone_id': empty cell\(s\) at row 1"):
        read_zones(tmp_path / "blank.gpkg")


def test_requested_sectors_must_cover_inputs(inputs):
    with pytest.raises(InputError, match=r"sector\(s\) \['B_Industry'"):
        build_inventory(
            GRID, reference_year=2019, point_sources=inputs["point_sources"], sectors=["A", "C"]
        )


# ---------------------------------------------------------------- operations
@pytest.fixture
def inv(inputs):
    return build_inventory(GRID, reference_year=2019, **inputs)


def _total(ds):
    return float(ds["emission"].sum() + ds["point_emission"].sum())


def test_group_sectors_keeps_totals(inv):
    g = group_sectors(inv)
    assert "residential_tertiary" in g["sector"].values
    np.testing.assert_allclose(_total(g), _total(inv), rtol=1e-12)
    with pytest.raises(InputError, match="no group"):
        group_sectors(inv, {"A": "x"})


def test_scale(inv):
    s = scale(inv, {"C": 2.0, "NH3": 0.5, ("A", "NOx"): 0.0})
    c = inv["emission"].sel(sector="C_OtherStationaryComb", pollutant="NOx").sum()
    np.testing.assert_allclose(
        s["emission"].sel(sector="C_OtherStationaryComb", pollutant="NOx").sum(), 2 * c
    )
    assert float(s["point_emission"].sel(source="S1", pollutant="NOx")) == 0.0
    with pytest.raises(InputError, match="negative"):
        scale(inv, {"C": -1.0})


def test_crop_and_totals_use_exact_fractions(inv):
    terr = shapely.box(X0 + 1050, Y0 + 1030, X0 + 3070, Y0 + 3050)
    c = crop(inv, terr)
    tab = totals(inv, gpd.GeoDataFrame({"territory": ["T"]}, geometry=[terr], crs="EPSG:2154"))
    np.testing.assert_allclose(_total(c), tab["emission"].sum(), rtol=1e-12)
    assert c.sizes["source"] == 1 and c["source"].values.tolist() == ["S2"]
    assert list(tab.columns) == ["territory", "sector", "pollutant", "emission"]
    whole = totals(inv)
    np.testing.assert_allclose(whole["emission"].sum(), _total(inv), rtol=1e-12)


def test_add(inv):
    b = empty_inventory(GRID, ["C", "G"], ["NOx", "SO2"], reference_year=2019)
    b["emission"].loc[{"sector": "G_Shipping", "pollutant": "SO2"}] = 1.0
    s = add(inv, b)
    assert "SO2" in s["pollutant"].values
    np.testing.assert_allclose(_total(s), _total(inv) + GRID.size, rtol=1e-12)
    with pytest.raises(InputError, match="duplicated id"):
        add(inv, inv)
    other = empty_inventory(
        Grid.from_bounds(X0, Y0, X0 + 1000, Y0 + 1000, 100), ["C"], ["NOx"], reference_year=2019
    )
    with pytest.raises(GridError, match="different grids"):
        add(inv, other)


# ---------------------------------------------------------------- real open data
@pytest.mark.requires_shared
def test_real_irep_sites_and_commune_population(shared_data):
    """IREP 2021 site positions (synthetic emission column) and commune populations."""
    sites = gpd.read_file(shared_data / "point_sources" / "irep2021_sites_59_60_62_geocoded.gpkg")
    communes = gpd.read_file(
        shared_data / "territories" / "communes_59_60_62.gpkg", layer="communes_cog2026"
    )
    douai = communes[communes["territoire"] == "DOUAISIS"].copy()
    grid = Grid.around(douai, 200, buffer=1000)
    sites = sites.rename(columns={"irep_identifiant": "source_id"})
    sites["sector"] = "B"
    sites["NOx"] = np.linspace(0.5, 5.0, len(sites))
    pts = read_point_sources(sites[["source_id", "sector", "NOx", "geometry"]], what="irep")
    with pytest.warns(TrajectoireWarning) as rec:
        ds = build_inventory(grid, reference_year=2021, point_sources=pts)
    messages = [str(w.message) for w in rec]
    assert any(m.startswith("irep: ") and "lie outside the grid" in m for m in messages)
    assert any(m.startswith("irep: ") and "is missing or empty for all" in m for m in messages)
    assert 0 < ds.sizes["source"] < len(sites)
    zones = douai.rename(columns={"insee_cog2026": "zone_id"})
    zones = read_zones(zones)
    tab = pd.DataFrame(
        {
            "zone_id": zones["zone_id"],
            "sector": "C",
            "pollutant": "PM2.5",
            "emission": zones["pmun_2023"] * 1e-3,
        }
    )
    em = allocate(read_area_totals(tab), zones, grid, population_column="pmun_2023")
    np.testing.assert_allclose(float(em.sum()), tab["emission"].sum(), rtol=1e-9)


# ---------------------------------------------------------------- more readers and proxies
def test_multiband_geotiff_and_netcdf_with_sector_dims(tmp_path):
    g = Grid.from_bounds(X0, Y0, X0 + 5000, Y0 + 4000, 1000)
    vals = np.stack([np.full(g.shape, 1.0), np.full(g.shape, 2.0)])
    with rasterio.open(tmp_path / "m.tif", "w", **g.rasterio_profile("float64", count=2)) as dst:
        dst.write(vals)
    da = read_gridded(tmp_path / "m.tif", units="t yr-1", bands=[("B", "NOx"), ("C", "PM10")])
    assert float(da.sel(sector="C_OtherStationaryComb", pollutant="PM10").sum()) == 40.0
    assert float(da.sel(sector="B_Industry", pollutant="PM10").sum()) == 0.0
    with pytest.raises(InputError, match=r"2 bands; pass bands="):
        read_gridded(tmp_path / "m.tif", units="t yr-1")
    nc = da.rename("emission").to_dataset()
    nc.attrs["crs"] = "EPSG:2154"
    nc.to_netcdf(tmp_path / "s.nc")
    back = read_gridded(tmp_path / "s.nc", units="kg yr-1")
    np.testing.assert_allclose(back.values, da.values * 1e-3)
    ds = build_inventory(GRID, reference_year=2019, gridded=tmp_path / "s.nc")
    np.testing.assert_allclose(float(ds["emission"].sum()), 60.0, rtol=1e-12)  # file units


def test_gridded_negative_and_nan(tmp_path):
    g = Grid.from_bounds(X0, Y0, X0 + 2000, Y0 + 2000, 1000)
    da = g.to_dataarray(np.array([[1.0, -2.0], [np.nan, 0.0]]), attrs={"units": "t yr-1"})
    with pytest.raises(InputError, match=r"NaN / nodata.*fill_value=0.0"):
        read_gridded(da, sector="B", pollutant="NOx")
    with pytest.raises(InputError, match=r"1 negative value\(s\).*row 0, col 1"):
        read_gridded(da.fillna(0.0), sector="B", pollutant="NOx")
    with pytest.raises(UnitsError, match="mass per year"):
        read_gridded(da.fillna(0.0), units="kg m-2 s-1", sector="B", pollutant="NOx")


def test_named_proxies_and_errors(inputs):
    from trajectoire import ConfigError

    roads = read_roads(inputs["roads"], emission_factors=inputs["road_emission_factors"])
    length = proxy_grid("road_length", GRID, roads=roads)
    np.testing.assert_allclose(length.sum(), roads.length.sum(), rtol=1e-12)
    traffic = proxy_grid("roads", GRID, roads=roads)
    np.testing.assert_allclose(traffic.sum(), (roads.length * roads.aadt).sum(), rtol=1e-12)
    with pytest.raises(ConfigError, match="unknown proxy 'nightlights'"):
        proxy_grid("nightlights", GRID)
    with pytest.raises(ConfigError, match=r"needs a land-use raster"):
        proxy_grid("landuse:arable", GRID)
    from trajectoire.inventory import read_landuse

    lu = read_landuse(inputs["landuse"])
    with pytest.raises(ConfigError, match="unknown land-use class 'desert'"):
        proxy_grid("landuse:desert", GRID, landuse=lu)
    built = proxy_grid("built_up", GRID, landuse=lu)
    both = proxy_grid("landuse:1,2", GRID, landuse=lu)
    np.testing.assert_array_equal(built, both)
    np.testing.assert_allclose(
        proxy_grid("landuse:1,2,3,4,5,6", GRID, landuse=lu), GRID.cell_area, rtol=1e-12
    )


def test_proxy_dataarray_without_crs_is_placed_by_its_coordinates():
    """A proxy map without a CRS, of the grid's shape: its x/y coordinates say where its
    values are. South-up or x-decreasing maps are turned north-up; a map elsewhere (or
    without coordinates matching the cell centres) is refused, naming the fix (a CRS).
    Before, the values were used in array order whatever the coordinates: a south-up map
    put mass in the mirror cell, a map 5 km east was used as if on the grid."""
    g = Grid.from_bounds(X0, Y0, X0 + 300, Y0 + 200, 100)  # 3 x 2 cells
    north_up = xr.DataArray(np.arange(6.0).reshape(2, 3), dims=("y", "x"), coords=g.coords())
    want = north_up.values
    for da in (
        north_up,
        north_up.sortby("y"),
        north_up.sortby("x", ascending=False),
        north_up.sortby("y").transpose("x", "y"),
        north_up.drop_vars(["x", "y"]),  # no coordinates: the grid's cells, as a numpy array
    ):
        np.testing.assert_array_equal(proxy_grid(da, g), want)
    zones = gpd.GeoDataFrame({"zone_id": ["Z"]}, geometry=[shapely.box(*g.bounds)], crs=2154)
    tot = pd.DataFrame(
        {"zone_id": ["Z"], "sector": ["M_Other"], "pollutant": ["NOx"], "emission": [15.0]}
    )
    out = allocate(tot, zones, g, proxies={"M": north_up.sortby("y")})
    np.testing.assert_allclose(out.sel(sector="M_Other", pollutant="NOx").values, want)
    shifted = north_up.assign_coords(x=north_up.x + 5000)
    with pytest.raises(InputError) as info:
        proxy_grid(shifted, g)
    line = str(info.value)
    assert "\n" not in line
    for part in ("without a CRS", "x coordinates (705050 .. 705250)", "(700050 .. 700250",
                 "attrs['crs']", "regridded"):  # fmt: skip
        assert part in line, (part, line)
    coarse = north_up.assign_coords(y=[Y0 + 300, Y0 + 100])  # another resolution
    with pytest.raises(InputError, match="y coordinates"):
        proxy_grid(coarse, g)


def test_group_sectors_with_own_mapping(inv):
    mine = {s: ("traffic" if s.startswith("F") else "rest") for s in GNFR}
    g = group_sectors(inv, mine)
    assert g["sector"].values.tolist() == ["rest", "traffic"]
    assert set(g["source_sector"].values) == {"rest"}


def test_parts_given_back_as_they_are_added_leave_the_inventory_bit_for_bit(inputs, monkeypatch):
    """build_inventory gives the pages of the area and road parts back field by field once
    added (prepare's peak at 100 m, issue 18): the inventory is that of the plain loop."""
    from trajectoire.inventory import build

    released: list[int] = []
    real = build.release_pages

    def counting(a):
        released.append(real(a))
        return released[-1]

    monkeypatch.setattr(build, "release_pages", counting)
    ds = build_inventory(GRID, reference_year=2019, **inputs)
    monkeypatch.setattr(build, "release_pages", lambda a: 0)
    plain = build_inventory(GRID, reference_year=2019, **inputs)
    xr.testing.assert_identical(ds, plain)
    assert np.array_equal(
        ds["emission"].values.view(np.uint64), plain["emission"].values.view(np.uint64)
    )
    assert len(released) >= 3  # the road and area fields that emit
    if sys.platform.startswith("linux"):
        assert sum(released) > 0


def test_many_repeated_ids_are_named_five_in_file_order_then_counted(tmp_path):
    """A file repeating 40 keys: its one line names the first five (in the order of the
    file, with their lines) and counts the others, instead of listing all of them."""
    rows = [f"Z{k:02d},B_Industry,NOx,1.0,t yr-1" for k in range(40, 0, -1)]
    path = tmp_path / "area.csv"
    path.write_text("zone_id,sector,pollutant,emission,units\n" + "\n".join(rows + rows) + "\n")
    with pytest.raises(InputError) as info:
        read_area_totals(path)
    msg = str(info.value)
    assert "\n" not in msg
    assert "'Z40/B_Industry/NOx' at line 2, line 42; 'Z39/B_Industry/NOx' at line 3, line 43" in msg
    assert "(and 35 more repeated ids)" in msg and "Z35" not in msg


def test_a_reader_given_an_open_file_says_what_it_takes():
    """An open file or a StringIO was a bare AttributeError ('copy')."""
    import io

    from trajectoire.errors import InputError
    from trajectoire.inventory.readers import read_point_sources

    with pytest.raises(InputError, match=r"received StringIO; expected a file path"):
        read_point_sources(io.StringIO("source_id,x,y\n1,2,3\n"))


def test_a_gridded_inventory_over_part_of_the_grid_is_warned():
    """A gridded inventory that covers part of the run's grid gives nothing beyond its
    extent: said with the share it covers; one that covers the grid says nothing."""
    import warnings

    half = Grid.from_bounds(X0, Y0, X0 + 2500, Y0 + 4000, 500)
    vals = np.ones(half.shape)
    da = half.to_dataarray(vals, attrs={"units": "t yr-1"})
    da = read_gridded(da, sector="B", pollutant="SO2", what="cams_cut.nc")
    with pytest.warns(TrajectoireWarning, match=r"cams_cut.nc: covers 50% of the run's grid"):
        ds = build_inventory(GRID, reference_year=2019, gridded=da)
    np.testing.assert_allclose(float(ds["emission"].sum()), vals.sum(), rtol=1e-12)
    same = Grid.from_bounds(X0, Y0, X0 + 5000, Y0 + 4000, 1000)
    da = read_gridded(
        same.to_dataarray(np.ones(same.shape), attrs={"units": "t yr-1"}),
        sector="B",
        pollutant="SO2",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", TrajectoireWarning)
        build_inventory(GRID, reference_year=2019, gridded=da)


def test_a_gridded_inventory_larger_than_the_grid_says_what_is_left_out():
    """An inventory larger than the run's grid keeps what falls on it: the rest was left
    out without a word, where the zones, roads and stacks outside the grid are said."""
    whole = Grid.from_bounds(X0 - 1000, Y0 - 1000, X0 + 6000, Y0 + 5000, 1000)
    vals = np.ones(whole.shape)  # 42 t yr-1, of which the grid's 20 km2 take 20
    da = read_gridded(
        whole.to_dataarray(vals, attrs={"units": "t yr-1"}),
        sector="B",
        pollutant="SO2",
        what="national.tif",
    )
    with pytest.warns(TrajectoireWarning) as said:
        ds = build_inventory(GRID, reference_year=2019, gridded=da)
    (text,) = [str(w.message) for w in said if "outside the run's grid" in str(w.message)]
    assert text.startswith("national.tif: 52.4% of its SO2 emission (22 of 42 t yr-1)"), text
    assert "[inputs.gridded] crs" in text and "\n" not in text
    np.testing.assert_allclose(float(ds["emission"].sum()), 20.0, rtol=1e-12)


def test_a_gridded_inventory_beside_the_grid_is_an_error_with_its_key():
    """One that misses the run's grid entirely (another CRS's coordinates, another
    country's file) is an error naming the file and the key, not a 0 % warning and an
    inventory without its emissions."""
    from trajectoire.errors import InputError

    away = Grid.from_bounds(X0 + 50_000, Y0, X0 + 52_000, Y0 + 2000, 500)
    da = read_gridded(
        away.to_dataarray(np.ones(away.shape), attrs={"units": "t yr-1"}),
        sector="B",
        pollutant="SO2",
        what="cams_elsewhere.nc",
    )
    with pytest.raises(
        InputError, match=r"cams_elsewhere.nc: does not overlap the run's grid"
    ) as e:
        build_inventory(GRID, reference_year=2019, gridded=da)
    assert "[inputs.gridded] crs" in str(e.value) and "\n" not in str(e.value)
