"""Each territory's own inhabitants per cell (zones cut by the territories).

Checked against an independent reference computed with shapely alone (the inhabitants of
zone z inside territory t are ``pop_z x area(z ∩ t) / area(z)``), whatever the grid's
resolution, and against properties: interpolation between censuses as
:func:`population_at`, windows that add up to the totals.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
import shapely
import xarray as xr
from hypothesis import example, given, settings
from hypothesis import strategies as st

from trajectoire import Grid
from trajectoire.inventory.population import TerritoryPopulation, population_at

X0, Y0 = 700_000.0, 7_000_000.0


def _zones(boxes: list[tuple[float, float, float, float]], pops: list[float]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "zone_id": [f"Z{i}" for i in range(len(boxes))],
            "pop_2000": pops,
            "pop_2010": [2.0 * p for p in pops],
        },
        geometry=[shapely.box(X0 + a, Y0 + b, X0 + c, Y0 + d) for a, b, c, d in boxes],
        crs="EPSG:2154",
    )


def _territories(polys: list[shapely.Geometry]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"territory": [f"T{i}" for i in range(len(polys))]}, geometry=polys, crs="EPSG:2154"
    )


def _reference(zones: gpd.GeoDataFrame, terr: gpd.GeoDataFrame, column: str) -> list[float]:
    """Independent: shapely intersections only."""
    out = []
    for t in terr.geometry:
        total = 0.0
        for z, pop in zip(zones.geometry, zones[column], strict=True):
            total += pop * shapely.intersection(z, t).area / z.area
        out.append(total)
    return out


box = st.tuples(
    st.floats(0, 2_000), st.floats(0, 2_000), st.floats(100, 1_500), st.floats(100, 1_500)
).map(lambda v: (v[0], v[1], v[0] + v[2], v[1] + v[3]))


@settings(max_examples=25, deadline=None)
@given(
    boxes=st.lists(box, min_size=1, max_size=4),
    pops=st.lists(st.floats(0, 1e4), min_size=4, max_size=4),
    cut=st.floats(300, 3_000),
    resolution=st.sampled_from([50.0, 250.0, 1000.0]),
)
@example(boxes=[(900.0, 0.0, 1000.000005, 100.0)], pops=[1e4] * 4, cut=3000.0, resolution=1000.0)
def test_totals_are_the_exact_overlay_at_any_resolution(boxes, pops, cut, resolution):
    zones = _zones(boxes, pops[: len(boxes)])
    terr = _territories(
        [
            shapely.box(X0 - 500, Y0 - 500, X0 + cut, Y0 + 4_000),
            shapely.box(X0 + cut, Y0 - 500, X0 + 4_500, Y0 + 4_000),
        ]
    )
    grid = Grid.from_bounds(X0 - 1_000, Y0 - 1_000, X0 + 5_000, Y0 + 5_000, resolution)
    tp = TerritoryPopulation.from_zones(zones, terr, grid)
    for year, column in ((2000, "pop_2000"), (2010, "pop_2010")):
        ref = _reference(zones, terr, column)
        # fractions under 1e-9 are round-off, set to 0 by design (coverage_matrix's
        # docstring): each piece of a zone loses up to 1e-9 of a cell, with its density, in
        # every cell it touches (the cut adds one column). A zone 100 m tall ending 5e-6 m
        # past a 1000 m grid line loses 5e-4 m2 there: 5e-4 of its 1e4 inhabitants (1e-3 of
        # the 2e4 in 2010), against the former 1e-6 + 1e-9 of the total
        floor = 0.0
        for (a, b, c, d), pop in zip(boxes, zones[column], strict=True):
            cells = (math.ceil((c - a) / resolution) + 2) * (math.ceil((d - b) / resolution) + 1)
            floor += pop / ((c - a) * (d - b)) * 1e-9 * grid.cell_area * cells
        np.testing.assert_allclose(tp.totals(year), ref, rtol=1e-9, atol=1e-6 + floor)


def test_interpolation_between_censuses_follows_population_at():
    zones = _zones([(0, 0, 1_000, 1_000)], [100.0])
    terr = _territories([shapely.box(X0, Y0, X0 + 1_000, Y0 + 1_000)])
    grid = Grid.from_bounds(X0, Y0, X0 + 1_000, Y0 + 1_000, 100)
    tp = TerritoryPopulation.from_zones(zones, terr, grid)
    census = xr.DataArray([[[100.0]], [[200.0]]], dims=("census", "y", "x"))
    census = census.assign_coords(census=[2000, 2010])
    for year in (1990, 2000, 2004, 2010, 2030):
        want = float(population_at(census, year)[0, 0])
        assert float(tp.totals(year)[0]) == pytest.approx(want, rel=1e-12)


def test_a_border_cell_holds_each_side_s_own_inhabitants():
    """A dense zone and an empty zone share one 1 km cell: the dense side's territory gets
    all its inhabitants (area sharing would give each territory half)."""
    zones = _zones([(0, 0, 500, 1_000), (500, 0, 1_000, 1_000)], [1_000.0, 0.0])
    terr = _territories(
        [
            shapely.box(X0, Y0, X0 + 500, Y0 + 1_000),
            shapely.box(X0 + 500, Y0, X0 + 1_000, Y0 + 1_000),
        ]
    )
    grid = Grid.from_bounds(X0, Y0, X0 + 1_000, Y0 + 1_000, 1_000)
    tp = TerritoryPopulation.from_zones(zones, terr, grid)
    np.testing.assert_allclose(tp.totals(2000), [1_000.0, 0.0], atol=1e-9)
    wins = tp.windows(2000, [slice(0, 1)] * 2, [slice(0, 1)] * 2)
    np.testing.assert_allclose([w.sum() for w in wins], [1_000.0, 0.0], atol=1e-9)


def test_windows_add_up_to_the_totals():
    zones = _zones([(0, 0, 1_200, 800), (1_200, 0, 2_000, 2_000)], [300.0, 700.0])
    terr = _territories([shapely.box(X0 + 100, Y0 + 100, X0 + 1_900, Y0 + 1_900)])
    grid = Grid.from_bounds(X0, Y0, X0 + 2_000, Y0 + 2_000, 100)
    tp = TerritoryPopulation.from_zones(zones, terr, grid)
    (win,) = tp.windows(2010, [slice(0, grid.ny)], [slice(0, grid.nx)])
    assert win.sum() == pytest.approx(float(tp.totals(2010)[0]), rel=1e-12)
    assert win.sum() == pytest.approx(_reference(zones, terr, "pop_2010")[0], rel=1e-9)
