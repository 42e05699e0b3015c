"""Geometry: the grid, territories, rasterisation of polygons/lines/points and conservative regridding."""

from __future__ import annotations

from trajectoire.geo import grid, rasterize, regridding, territories
from trajectoire.geo.grid import (
    DEFAULT_CRS,
    Grid,
    as_crs,
    crs_of,
    to_crs,
)
from trajectoire.geo.rasterize import (
    area_fractions,
    coverage_matrix,
    lines_to_grid,
    points_to_grid,
    to_grid_geometries,
    to_grid_geometry,
)
from trajectoire.geo.regridding import (
    SMALL_PROBLEM,
    Regridder,
    grid_of,
    regrid,
)
from trajectoire.geo.territories import (
    COLUMNS,
    TERRITORIES,
    Territory,
    buffer_mask,
    get_territory,
    load_territories,
    regional_grid,
    sample_territories_path,
    territory_fractions,
    territory_grid,
)

__all__ = [
    "COLUMNS",
    "DEFAULT_CRS",
    "SMALL_PROBLEM",
    "TERRITORIES",
    "Grid",
    "Regridder",
    "Territory",
    "area_fractions",
    "as_crs",
    "buffer_mask",
    "coverage_matrix",
    "crs_of",
    "get_territory",
    "grid",
    "grid_of",
    "lines_to_grid",
    "load_territories",
    "points_to_grid",
    "rasterize",
    "regional_grid",
    "regrid",
    "regridding",
    "sample_territories_path",
    "territories",
    "territory_fractions",
    "territory_grid",
    "to_crs",
    "to_grid_geometries",
    "to_grid_geometry",
]
