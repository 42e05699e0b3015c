"""Reference emission inventory: schema, readers, spatial proxies, assembly and dataset operations."""

from __future__ import annotations

from typing import Any

from trajectoire import _legacy
from trajectoire.inventory import build
from trajectoire.inventory.build import (
    DEFAULT_PROXIES,
    LANDUSE_CLASSES,
    POINT_VARIABLES,
    ProxySpec,
    add,
    allocate,
    build_inventory,
    crop,
    empty_inventory,
    grid_roads,
    group_sectors,
    landuse_areas,
    proxy_grid,
    read_area_totals,
    read_gridded,
    read_landuse,
    read_point_sources,
    read_road_emission_factors,
    read_roads,
    read_zones,
    road_emissions_per_km,
    scale,
    totals,
)

__all__ = [
    "DEFAULT_PROXIES",
    "LANDUSE_CLASSES",
    "POINT_VARIABLES",
    "ProxySpec",
    "add",
    "allocate",
    "build",
    "build_inventory",
    "crop",
    "empty_inventory",
    "grid_roads",
    "group_sectors",
    "landuse_areas",
    "proxy_grid",
    "read_area_totals",
    "read_gridded",
    "read_landuse",
    "read_point_sources",
    "read_road_emission_factors",
    "read_roads",
    "read_zones",
    "road_emissions_per_km",
    "scale",
    "totals",
]


def __getattr__(name: str) -> Any:
    """Names of the former flat module ``trajectoire.inventory`` not re-exported above (issue 11)."""
    return _legacy.lookup(__name__, name)
