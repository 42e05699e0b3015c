"""Reference emission inventory: schema, readers, spatial proxies, census population, assembly, dataset operations.

The headline names are imported here; every other public name of the modules
(schema, readers, proxies, population, build, ops, irep, communes, gridded, emerging) and of the former flat module resolves on first use.
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
from trajectoire.inventory.irep import read_irep
from trajectoire.inventory.communes import read_commune_inventory, read_commune_population
from trajectoire.inventory.gridded import read_cams_reg, read_emep_gridded
from trajectoire.inventory.emerging import class_shares, euro_shares, fleet_composition, load_emerging_factors, monthly_split, pesticide_emissions, pfoa_phase_out_index, point_source_series, trwp_factors, tyre_road_wear, ufp_airport_emissions, ufp_road_emissions, ufp_road_factors, ufp_wood_emissions

__all__ = "add allocate build_inventory census_population check_stacks class_shares crop empty_inventory euro_shares fleet_composition load_emerging_factors monthly_split pesticide_emissions pfoa_phase_out_index point_source_series trwp_factors tyre_road_wear ufp_airport_emissions ufp_road_emissions ufp_road_factors ufp_wood_emissions group_sectors population_at proxy_grid read_area_totals read_cams_reg read_commune_inventory read_commune_population read_emep_gridded read_gridded read_irep read_landuse read_point_sources read_road_emission_factors read_roads read_zones scale totals".split()
__getattr__, __dir__ = _legacy.package_names(__name__, ("schema", "readers", "proxies", "population", "build", "ops", "irep", "communes", "gridded", "emerging"))
# fmt: on
