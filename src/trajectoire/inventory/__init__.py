"""Reference emission inventory: schema, readers, spatial proxies, census population, assembly and dataset operations."""

from __future__ import annotations

from typing import Any

from trajectoire import _legacy
from trajectoire.inventory import build, ops, population, proxies, readers, schema
from trajectoire.inventory.build import build_inventory
from trajectoire.inventory.ops import add, crop, group_sectors, scale, totals
from trajectoire.inventory.population import census_population, population_at
from trajectoire.inventory.proxies import (
    DEFAULT_PROXIES,
    LANDUSE_CLASSES,
    ProxySpec,
    allocate,
    grid_roads,
    landuse_areas,
    proxy_grid,
    road_emissions_per_km,
)
from trajectoire.inventory.readers import (
    read_area_totals,
    read_gridded,
    read_landuse,
    read_point_sources,
    read_road_emission_factors,
    read_roads,
    read_zones,
)
from trajectoire.inventory.schema import (
    POINT_SOURCE_VARIABLES,
    POINT_VARIABLES,
    STACK_RULES,
    STACK_VARIABLES,
    check_stacks,
    empty_inventory,
)

__all__ = [
    "DEFAULT_PROXIES",
    "LANDUSE_CLASSES",
    "POINT_SOURCE_VARIABLES",
    "POINT_VARIABLES",
    "STACK_RULES",
    "STACK_VARIABLES",
    "ProxySpec",
    "add",
    "allocate",
    "build",
    "build_inventory",
    "census_population",
    "check_stacks",
    "crop",
    "empty_inventory",
    "grid_roads",
    "group_sectors",
    "landuse_areas",
    "ops",
    "population",
    "population_at",
    "proxies",
    "proxy_grid",
    "read_area_totals",
    "read_gridded",
    "read_landuse",
    "read_point_sources",
    "read_road_emission_factors",
    "read_roads",
    "read_zones",
    "readers",
    "road_emissions_per_km",
    "scale",
    "schema",
    "totals",
]


def __getattr__(name: str) -> Any:
    """Names of the former flat module ``trajectoire.inventory`` not re-exported above (issue 11)."""
    return _legacy.lookup(__name__, name)
