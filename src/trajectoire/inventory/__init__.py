"""Reference emission inventory: schema, readers, spatial proxies, census population, assembly, dataset operations.

The headline names are imported here; every other public name of the modules
(schema, readers, proxies, population, build, ops) and of the former flat module resolves on first use.
"""

# isort: skip_file
# fmt: off
from trajectoire import _legacy
from trajectoire.inventory.schema import check_stacks, empty_inventory
from trajectoire.inventory.readers import read_area_totals, read_gridded, read_landuse, read_point_sources, read_road_emission_factors, read_roads, read_zones
from trajectoire.inventory.proxies import allocate, proxy_grid
from trajectoire.inventory.population import census_population, population_at
from trajectoire.inventory.build import build_inventory
from trajectoire.inventory.ops import add, crop, group_sectors, scale, totals

__all__ = "add allocate build_inventory census_population check_stacks crop empty_inventory group_sectors population_at proxy_grid read_area_totals read_gridded read_landuse read_point_sources read_road_emission_factors read_roads read_zones scale totals".split()
__getattr__, __dir__ = _legacy.package_names(__name__, ("schema", "readers", "proxies", "population", "build", "ops"))
# fmt: on
