"""trajectoire: fine-scale air-pollutant emission and concentration trajectories.

Rebuilds emission and concentration grids from 1990 to today for the Hauts-de-France
territories, with the share of each source in what people breathe.
"""

from . import (
    accessor,  # registers the ds.trajectoire accessor
    attribution,
    chemistry,
    concentration,
    dispersion,
    evaluation,
    exposure,
    interpolate,
    inventory,
    meteo,
    territories,
    trajectory,
    trends,
)
from ._version import __version__
from .config import RunConfig, load_config
from .errors import (
    ConfigError,
    GridError,
    InputError,
    MissingVariableError,
    TrajectoireError,
    TrajectoireWarning,
    UnitsError,
)
from .evaluation import evaluate, mqi, mqi_network, sample_at_stations
from .grid import Grid, area_fractions, coverage_matrix
from .interpolate import cross_validate, fuse
from .io import export_geotiff, open_output, write_netcdf
from .regrid import Regridder, regrid
from .runner import run
from .territories import (
    TERRITORIES,
    load_territories,
    regional_grid,
    territory_fractions,
    territory_grid,
)

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
    "attribution",
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
    "interpolate",
    "inventory",
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
