"""trajectoire: fine-scale air-pollutant emission and concentration trajectories.

Rebuilds emission and concentration grids from 1990 to today for the Hauts-de-France
territories, with the share of each source in what people breathe.
"""

from ._version import __version__
from .errors import (
    ConfigError,
    GridError,
    InputError,
    MissingVariableError,
    TrajectoireError,
    TrajectoireWarning,
    UnitsError,
)
from .grid import Grid, area_fractions, coverage_matrix

__all__ = [
    "ConfigError",
    "Grid",
    "GridError",
    "InputError",
    "MissingVariableError",
    "TrajectoireError",
    "TrajectoireWarning",
    "UnitsError",
    "__version__",
    "area_fractions",
    "coverage_matrix",
]
