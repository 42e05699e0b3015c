"""Results do not depend on the CRS the same geometries are given in (issue 13).

The sample's territories, zones and point sources are written in EPSG:2154 (as shipped),
EPSG:4326 and EPSG:3857; the regional grid, the territory fractions, the buffer mask and the
reference inventory computed from each must agree to 1e-9 relative. Reprojecting moves a
vertex by ~1e-9 m, so every difference beyond that is a CRS dependence: a decision taken on
round-off (a cell covered by a sliver of 1e-15 of its area, a stack on a cell edge).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest

from trajectoire import Grid
from trajectoire.geo.territories import (
    buffer_mask,
    load_territories,
    regional_grid,
    territory_fractions,
)
from trajectoire.inventory import build_inventory, read_point_sources

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
CRSS = ("EPSG:2154", "EPSG:4326", "EPSG:3857")
#: 500 m cells: coarse enough to be quick, fine enough that the sample's zones leave
#: round-off slivers in cells they do not reach.
RESOLUTION = 500.0
RTOL = 1e-9


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """The sample's territories, zones and point sources, in each CRS of :data:`CRSS`."""
    tmp = tmp_path_factory.mktemp("crs")
    territories = gpd.read_file(SAMPLE / "territories.gpkg")
    zones = gpd.read_file(SAMPLE / "zones.gpkg")
    points = pd.read_csv(SAMPLE / "point_sources.csv")
    out: dict[str, dict[str, Any]] = {}
    for crs in CRSS:
        tag = crs.replace(":", "_")
        territories.to_crs(crs).to_file(tmp / f"territories_{tag}.gpkg")
        zones.to_crs(crs).to_file(tmp / f"zones_{tag}.gpkg")
        tr = pyproj.Transformer.from_crs("EPSG:2154", crs, always_xy=True)
        pts = points.copy()
        pts["x"], pts["y"] = tr.transform(points["x"].to_numpy(), points["y"].to_numpy())
        if crs == "EPSG:4326":
            pts = pts.rename(columns={"x": "lon", "y": "lat"})
        pts.to_csv(tmp / f"points_{tag}.csv", index=False)
        out[crs] = {
            "territories": load_territories(tmp / f"territories_{tag}.gpkg"),
            "zones": tmp / f"zones_{tag}.gpkg",
            "point_sources": read_point_sources(tmp / f"points_{tag}.csv", crs=crs),
        }
    return out


@pytest.fixture(scope="module")
def grid(inputs: dict[str, dict[str, Any]]) -> Grid:
    return regional_grid(inputs["EPSG:2154"]["territories"], resolution=RESOLUTION)


@pytest.fixture(scope="module")
def inventories(inputs: dict[str, dict[str, Any]], grid: Grid) -> dict[str, Any]:
    out = {}
    for crs, given in inputs.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the sample's zones without industrial land
            out[crs] = build_inventory(
                grid,
                reference_year=2018,
                point_sources=given["point_sources"],
                zones=given["zones"],
                area_totals=SAMPLE / "area_emissions.csv",
                landuse=SAMPLE / "landuse.tif",
                roads=SAMPLE / "roads.gpkg",
                road_emission_factors=SAMPLE / "road_emission_factors.csv",
            )
    return out


@pytest.mark.parametrize("crs", CRSS[1:])
def test_regional_grid(inputs: dict[str, dict[str, Any]], grid: Grid, crs: str) -> None:
    other = regional_grid(inputs[crs]["territories"], resolution=RESOLUTION)
    assert other.bounds == grid.bounds and other.shape == grid.shape
    assert other.crs == grid.crs


@pytest.mark.parametrize("crs", CRSS[1:])
def test_territory_fractions(inputs: dict[str, dict[str, Any]], grid: Grid, crs: str) -> None:
    ref = territory_fractions(inputs["EPSG:2154"]["territories"], grid)
    got = territory_fractions(inputs[crs]["territories"], grid)
    assert got["territory"].values.tolist() == ref["territory"].values.tolist()
    np.testing.assert_allclose(got.values, ref.values, rtol=0, atol=RTOL)  # fractions <= 1
    # the area of each territory on the grid
    np.testing.assert_allclose(
        got.sum(("y", "x")).values, ref.sum(("y", "x")).values, rtol=RTOL, atol=0
    )


@pytest.mark.parametrize("crs", CRSS[1:])
def test_inventory_totals(inventories: dict[str, Any], crs: str) -> None:
    ref, got = inventories["EPSG:2154"], inventories[crs]
    for name in ("sector", "pollutant", "source"):
        assert got[name].values.tolist() == ref[name].values.tolist()
    np.testing.assert_allclose(
        got["emission"].sum(("y", "x")).values,
        ref["emission"].sum(("y", "x")).values,
        rtol=RTOL,
        atol=0,
    )
    np.testing.assert_array_equal(got["point_emission"].values, ref["point_emission"].values)


@pytest.mark.parametrize("crs", CRSS[1:])
def test_stack_positions_are_the_same(inventories: dict[str, Any], crs: str) -> None:
    """The sample's stacks (whole metres) come back exactly from any CRS."""
    ref, got = inventories["EPSG:2154"], inventories[crs]
    np.testing.assert_array_equal(got["source_x"].values, ref["source_x"].values)
    np.testing.assert_array_equal(got["source_y"].values, ref["source_y"].values)


@pytest.mark.parametrize("crs", CRSS[1:])
def test_stacks_on_cell_edges_stay_in_their_cell(crs: str) -> None:
    """A stack on a cell edge (round coordinates) is in the same cell in every CRS."""
    g = Grid.from_bounds(700_000, 7_000_000, 701_000, 7_001_000, 100)
    x = np.array([700_100.0, 700_500.0, 700_900.0, 700_250.0])
    y = np.array([7_000_300.0, 7_000_700.0, 7_000_100.0, 7_000_800.0])
    tr = pyproj.Transformer.from_crs("EPSG:2154", crs, always_xy=True)
    lon, lat = tr.transform(x, y)
    frame = pd.DataFrame(
        {
            "source_id": ["A", "B", "C", "D"],
            "sector": "B",
            "x": lon,
            "y": lat,
            "height": 30.0,
            "diameter": 2.0,
            "temperature": 400.0,
            "velocity": 10.0,
            "NOx": 1.0,
        }
    )
    ds = build_inventory(g, reference_year=2019, point_sources=read_point_sources(frame, crs=crs))
    np.testing.assert_array_equal(ds["source_x"].values, x)
    np.testing.assert_array_equal(ds["source_y"].values, y)


@pytest.mark.parametrize("crs", CRSS[1:])
def test_inventory_cells(inventories: dict[str, Any], crs: str) -> None:
    """Every cell, not only the totals: a zone total is never put in a cell it only
    reaches through round-off."""
    ref, got = inventories["EPSG:2154"], inventories[crs]
    a = ref["emission"].values
    b = got["emission"].values
    scale = np.abs(a).max(axis=(-2, -1), keepdims=True)
    assert np.all(np.abs(b - a) <= RTOL * scale)


@pytest.mark.parametrize("crs", CRSS[1:])
def test_buffer_mask(inputs: dict[str, dict[str, Any]], grid: Grid, crs: str) -> None:
    """The cells within the buffer of a territory (in 4326 at 500 m, 30 cells differed)."""
    ref = buffer_mask(inputs["EPSG:2154"]["territories"], grid)
    got = buffer_mask(inputs[crs]["territories"], grid)
    np.testing.assert_array_equal(got.values, ref.values)
