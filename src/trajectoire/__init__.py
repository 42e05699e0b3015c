"""trajectoire: fine-scale air-pollutant emission and concentration trajectories.

Rebuilds emission and concentration grids from 1990 to today for the Hauts-de-France
territories, with the share of each source in what people breathe.
"""

from trajectoire import (  # _environment first: it guards the imports below
    _environment,  # noqa: F401
    _legacy,
    accessor,  # registers the ds.trajectoire accessor
    assess,
    attribution,
    batch,
    dispersion,
    geo,
    inventory,
    io,
    meteo,
    trajectory,
)
from trajectoire._version import __version__
from trajectoire.assess import exposure
from trajectoire.assess import fusion as interpolate
from trajectoire.assess.evaluation import evaluate, mqi, mqi_network
from trajectoire.assess.fusion import cross_validate, fuse
from trajectoire.assess.stations import sample_at_stations
from trajectoire.batch.runner import run
from trajectoire.dispersion import background, chemistry, concentration
from trajectoire.errors import (
    ConfigError,
    GridError,
    InputError,
    MissingVariableError,
    TrajectoireError,
    TrajectoireWarning,
    UnitsError,
)
from trajectoire.geo import territories
from trajectoire.geo.grid import Grid
from trajectoire.geo.rasterize import area_fractions, coverage_matrix
from trajectoire.geo.regridding import Regridder, regrid
from trajectoire.geo.territories import (
    TERRITORIES,
    load_territories,
    regional_grid,
    territory_fractions,
    territory_grid,
)
from trajectoire.io.config import RunConfig, load_config
from trajectoire.io.netcdf import export_geotiff, open_output, write_netcdf
from trajectoire.trajectory import trends

_legacy.register()

__all__ = [
    "TERRITORIES",
    "ConfigError",
    "Grid",
    "GridError",
    "InputError",
    "MissingVariableError",
    "Regridder",
    "RunConfig",
    "TrajectoireError",
    "TrajectoireWarning",
    "UnitsError",
    "__version__",
    "accessor",
    "area_fractions",
    "assess",
    "attribution",
    "background",
    "batch",
    "chemistry",
    "concentration",
    "coverage_matrix",
    "cross_validate",
    "dispersion",
    "evaluate",
    "evaluation",
    "export_geotiff",
    "exposure",
    "fuse",
    "geo",
    "interpolate",
    "inventory",
    "io",
    "load_config",
    "load_territories",
    "meteo",
    "mqi",
    "mqi_network",
    "open_output",
    "regional_grid",
    "regrid",
    "run",
    "sample_at_stations",
    "territories",
    "territory_fractions",
    "territory_grid",
    "trajectory",
    "trends",
    "write_netcdf",
]
