"""The exposure zones: reading ``[inputs] exposure_zones`` and splitting each territory's
inhabitants inside and outside them."""

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import example, given, settings
from hypothesis import strategies as st

from trajectoire import InputError, MissingVariableError
from trajectoire.errors import ConfigError
from trajectoire.geo.territories import read_exposure_zones
from trajectoire.io.config import InputSpec
from trajectoire.io.formats import read_input


def _write(path: Path, frame: gpd.GeoDataFrame, layer: str | None = None) -> Path:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "'crs' was not provided", UserWarning)
        frame.to_file(path, driver="GPKG", layer=layer)
    return path


def _zones(ids, geoms, column="zone_id", crs="EPSG:2154") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({column: ids}, geometry=geoms, crs=crs)


BOXES = [
    shapely.box(700_000, 7_000_000, 701_000, 7_001_000),
    shapely.box(702_000, 7_000_000, 703_000, 7_001_000),
]


# ------------------------------------------------------------------ reading the layer
def test_exposure_zones_layer_the_file_lacks_is_one_error_listing_its_layers(tmp_path):
    """It was a pyogrio DataLayerError traceback (the layer was passed to gpd.read_file)."""
    path = _write(tmp_path / "z.gpkg", _zones(["A", "B"], BOXES), layer="qpv")
    with pytest.raises(MissingVariableError, match=r"no layer 'qpvv'.*holds \['qpv'\]"):
        read_exposure_zones(path, layer="qpvv")
    assert list(read_exposure_zones(path, layer="qpv")["zone_id"]) == ["A", "B"]


def test_exposure_zones_of_several_layers_need_one_named(tmp_path):
    """The first layer was read silently."""
    path = _write(tmp_path / "z.gpkg", _zones(["X"], BOXES[:1]), layer="aaa_other")
    _write(path, _zones(["A", "B"], BOXES), layer="qpv")
    with pytest.raises(
        InputError, match=r"several layers.*set \[inputs\.exposure_zones\] layer = "
    ):
        read_exposure_zones(path)
    assert list(read_exposure_zones(path, layer="qpv")["zone_id"]) == ["A", "B"]


def test_exposure_zones_table_without_geometry_is_one_error(tmp_path):
    """A CSV ended on AttributeError: 'DataFrame' object has no attribute 'crs'."""
    path = tmp_path / "zones.csv"
    path.write_text("zone_id,x\nA,1\n")
    with pytest.raises(
        InputError, match=r"zones\.csv .*is a table without geometry.*expected a vector file"
    ):
        read_exposure_zones(path)


def test_exposure_zones_columns_of_the_configuration_rename_the_id(tmp_path):
    """``columns = { zone_id = "code_qp" }`` was ignored (no 'zone_id' column), and a
    mapping to a column the file lacks passed."""
    path = _write(tmp_path / "z.gpkg", _zones(["A", "B"], BOXES, column="code_qp"))
    spec = InputSpec.model_validate({"path": str(path), "columns": {"zone_id": "code_qp"}})
    assert list(read_input("exposure_zones", spec)["zone_id"]) == ["A", "B"]
    bad = InputSpec.model_validate(
        {"path": str(path), "columns": {"zone_id": "nonexistent"}, "id_column": "code_qp"}
    )
    with pytest.raises(ConfigError, match=r"columns\.zone_id = 'nonexistent'.*no column"):
        read_input("exposure_zones", bad)


def test_exposure_zones_empty_polygon_is_refused(tmp_path):
    """An empty polygon passed silently (the territories reader refuses one)."""
    path = _write(tmp_path / "z.gpkg", _zones(["A", "B"], [BOXES[0], shapely.Polygon()]))
    with pytest.raises(InputError, match=r"zone 'B' has an empty geometry"):
        read_exposure_zones(path)


# ------------------------------------------------------- inside and outside, per territory
def _two_territories(slope: float, crs: str = "EPSG:2154") -> gpd.GeoDataFrame:
    """A and B side by side in a 6 x 4 km box, split by a slanted line (off the cell edges)."""
    x0, y0, x1, y1 = 700_000.0, 7_000_000.0, 706_000.0, 7_004_000.0
    xa, xb = 703_017.3 - slope * 2000, 703_017.3 + slope * 2000
    a = shapely.Polygon([(x0, y0), (xa, y0), (xb, y1), (x0, y1)])
    b = shapely.Polygon([(xa, y0), (x1, y0), (x1, y1), (xb, y1)])
    return gpd.GeoDataFrame(
        {"territory": ["A", "B"], "population": [0, 0]}, geometry=[a, b], crs=crs
    )


def _grid(resolution: float, dx: float, dy: float):
    from trajectoire.geo.grid import Grid

    return Grid.from_bounds(
        698_000 + dx, 6_998_000 + dy, 708_000 + dx, 7_006_000 + dy, resolution, snap=False
    )


def _population_zones(territories: gpd.GeoDataFrame, densities) -> gpd.GeoDataFrame:
    """Population zones cutting across the territories: vertical strips of 1.3 km, each
    of its own density [inhabitants m-2]."""
    strips = [
        shapely.box(699_000 + 1300 * k, 6_999_000, 699_000 + 1300 * (k + 1), 7_005_000)
        for k in range(len(densities))
    ]
    pop = [d * s.area for d, s in zip(densities, strips, strict=True)]
    return gpd.GeoDataFrame({"zone_id": range(len(strips)), "pop_2019": pop},
                            geometry=strips, crs=territories.crs)  # fmt: skip


def _split(zones, territories, grid, own):
    from trajectoire.assess.exposure import ZoneExposure
    from trajectoire.geo.territories import zone_territory_fractions

    return ZoneExposure.split(own, zone_territory_fractions(zones, territories, grid), ["NO2"])


@settings(max_examples=25)
@given(
    slope=st.floats(-0.8, 0.8),
    resolution=st.sampled_from([100.0, 250.0, 1000.0]),
    dx=st.floats(0, 999),
    dy=st.floats(0, 999),
    densities=st.lists(st.floats(1e-4, 1e-2), min_size=6, max_size=6),
)
def test_zones_equal_to_the_territories_leave_no_one_outside(slope, resolution, dx, dy, densities):
    """docs/exposure.md: a layer covering the whole territory leaves 0 outside, and inside
    + outside is the territory's population. With the share of the whole cell, a cell on
    the border gave the territory's inhabitants its share of the cell only (26 318 of MEL's
    inhabitants 'outside' MEL at 1 km)."""
    from trajectoire.assess.exposure import territory_inhabitants
    from trajectoire.geo.territories import territory_fractions
    from trajectoire.inventory.population import TerritoryPopulation

    terr = _two_territories(slope)
    grid = _grid(resolution, dx, dy)
    zones = terr.rename(columns={"territory": "zone_id"})[["zone_id", "geometry"]]
    by_zones = TerritoryPopulation.from_zones(_population_zones(terr, densities), terr, grid)
    uniform = np.full(grid.shape, 100.0)  # the other source: a population grid
    by_grid = territory_inhabitants(uniform, territory_fractions(terr, grid).values[:-1])
    for own in (by_zones.at(2019), by_grid):
        z = _split(zones, terr, grid, own)
        total = np.asarray(own.sum(axis=1)).ravel()
        np.testing.assert_allclose(z.inhabitants.sum(axis=1), total, rtol=1e-12)
        assert (z.inhabitants[:, 1] <= 1e-9 * total).all(), z.inhabitants


@settings(max_examples=25)
@given(
    slope=st.floats(-0.8, 0.8),
    resolution=st.sampled_from([250.0, 1000.0]),
    dx=st.floats(0, 999),
    dy=st.floats(0, 999),
    cx=st.floats(701_500, 704_500),
    cy=st.floats(7_001_000, 7_003_000),
)
@example(slope=0.0, resolution=250.0, dx=0.0, dy=1.192092896e-07, cx=701500.0, cy=7001000.0)
def test_border_neighbourhood_inhabitants_match_an_exact_overlay(slope, resolution, dx, dy, cx, cy):
    """A neighbourhood across the border of A and B (and reaching beyond both): each
    territory's inhabitants inside it are, with the population spread by area within each
    territory, ``P_T area(N ∩ T) / area(T)`` (shapely's overlay), whatever the grid.

    Before, the neighbourhood's share of the whole cell gave a border cell's inhabitants
    of A the zone's part in B too, and the zone's part in A against the whole cell: 12 957
    inside for a 5.4 km2 neighbourhood at MEL's border against 15 346 by an overlay.
    """
    from trajectoire.inventory.population import TerritoryPopulation

    terr = _two_territories(slope)
    grid = _grid(resolution, dx, dy)
    people = {"A": 40_000.0, "B": 9_000.0}
    census = terr.rename(columns={"territory": "zone_id"})[["zone_id", "geometry"]]
    census["pop_2019"] = [people["A"], people["B"]]
    own = TerritoryPopulation.from_zones(census, terr, grid).at(2019)
    hood = shapely.Polygon([(cx - 1500, cy - 900), (cx + 1700, cy - 1300),
                            (cx + 1200, cy + 1100), (cx - 1100, cy + 1500)])  # fmt: skip
    zones = gpd.GeoDataFrame({"zone_id": ["N"]}, geometry=[hood], crs=terr.crs)
    z = _split(zones, terr, grid, own)
    for k, t in enumerate(terr.geometry):
        exact = people[terr.territory[k]] * hood.intersection(t).area / t.area
        assert z.inhabitants[k, 0] == pytest.approx(exact, rel=1e-9, abs=1e-6)
        # to the documented round-off floor of the area fractions (under 1e-9 set to 0): a
        # grid 1.2e-7 m off the territories' edges (found by hypothesis) leaves slivers of
        # 5e-10 of a cell there, and 3e-11 of A's inhabitants with them
        assert z.inhabitants[k].sum() == pytest.approx(people[terr.territory[k]], rel=1e-9)


def test_zones_beyond_every_territory_split_nobody():
    """A zone in the buffer, beyond both territories, holds none of their inhabitants; one
    that touches a territory along its slanted border (their intersection is a line) holds
    none of its inhabitants either."""
    from trajectoire.inventory.population import TerritoryPopulation

    terr = _two_territories(0.3)
    grid = _grid(250.0, 0.0, 0.0)
    census = terr.rename(columns={"territory": "zone_id"})[["zone_id", "geometry"]]
    census["pop_2019"] = [100.0, 200.0]
    own = TerritoryPopulation.from_zones(census, terr, grid).at(2019)
    # touching A's western edge along a cell edge, and a corner of B
    zones = _zones(["W", "NE"], [shapely.box(699_000, 7_001_000, 700_000, 7_002_000),
                                 shapely.box(706_000, 7_004_000, 707_000, 7_005_000)])  # fmt: skip
    z = _split(zones, terr, grid, own)
    np.testing.assert_array_equal(z.inhabitants[:, 0], 0.0)
    np.testing.assert_allclose(z.inhabitants[:, 1], [100.0, 200.0], rtol=1e-12)
    a, b = terr.geometry
    in_b = shapely.intersection(b, shapely.box(702_000, 7_000_000, 704_500, 7_004_000))
    z = _split(_zones(["B-side"], [in_b]), terr, grid, own)
    assert z.inhabitants[0, 0] < 1e-9 * 100.0
    assert z.inhabitants[1, 0] == pytest.approx(200.0 * in_b.area / b.area, rel=1e-9)


def test_run_with_the_territories_as_exposure_zones_leaves_no_one_outside(tmp_path):
    """The run splits each territory's own inhabitants by its own share: the sample's
    CUD and CCHF (which share a border) given as the exposure zones leave nobody outside."""
    from test_pipeline import SAMPLE, small_config
    from trajectoire import pipeline as P
    from trajectoire.assess.exposure import ZoneExposure
    from trajectoire.config import load_config

    cfg = small_config(
        tmp_path,
        **{
            r"^resolution = [\d.]+": "resolution = 1000.0",
            r"^territories = \[.*\]": 'territories = ["CUD", "CCHF"]',
            r'^exposure_zones = ".*qpv\.gpkg"': "[inputs.exposure_zones]\n"
            f'path = "{SAMPLE / "territories.gpkg"}"\nid_column = "territory"',
        },
    )
    config = load_config(cfg)
    terr, grid = P._territories_and_grid(config)
    own = P.TerritoryPopulation.from_zones(P._read(config, "zones"), terr, grid).at(2018)
    z = ZoneExposure.split(own, P._zone_fraction(config, terr, grid), ["NO2"])
    total = np.asarray(own.sum(axis=1)).ravel()
    assert total.min() > 50_000
    np.testing.assert_allclose(z.inhabitants.sum(axis=1), total, rtol=1e-12)
    assert (z.inhabitants[:, 1] <= 1e-9 * total).all(), z.inhabitants


def test_zone_shares_by_territory_are_checked_and_read_at_each_entry():
    """A ``(territory, cell)`` share: read at each territory's own entries (sparse: 0 where
    it has none, as dense), of the inhabitants' shape and in [0, 1]."""
    from scipy import sparse

    from trajectoire.assess.exposure import ZoneExposure

    own = sparse.csr_matrix(np.array([[10.0, 20.0, 0.0], [0.0, 5.0, 8.0]]))
    shares = np.array([[0.5, 1.0, 0.0], [0.0, 0.2, 0.0]])
    for f in (shares, sparse.csr_matrix(shares)):
        z = ZoneExposure.split(own, f, ["NO2"])
        np.testing.assert_allclose(z.inhabitants, [[25.0, 5.0], [1.0, 12.0]])
    with pytest.raises(InputError, match=r"zone_fraction has shape \(1, 3\) and inhabitants"):
        ZoneExposure.split(own, sparse.csr_matrix(shares[:1]), ["NO2"])
    with pytest.raises(InputError, match=r"must lie in \[0, 1\]"):
        ZoneExposure.split(own, sparse.csr_matrix(shares * 2), ["NO2"])
