"""Geometry: the grid, rasterisation of polygons, lines and points, territories, conservative regridding.

The headline names are imported here; every other public name of the modules
(grid, rasterize, territories, regridding) resolves on first use.
"""

# isort: skip_file
# fmt: off
from trajectoire import _legacy
from trajectoire.geo.grid import Grid, to_crs
from trajectoire.geo.rasterize import area_fractions, coverage_matrix
from trajectoire.geo.territories import TERRITORIES, buffer_mask, load_territories, regional_grid, territory_fractions, territory_grid
from trajectoire.geo.regridding import Regridder, regrid

__all__ = "TERRITORIES Grid Regridder area_fractions buffer_mask coverage_matrix load_territories regional_grid regrid territory_fractions territory_grid to_crs".split()
__getattr__, __dir__ = _legacy.package_names(__name__, ("grid", "rasterize", "territories", "regridding"))
# fmt: on
