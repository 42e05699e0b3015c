"""Input/output: run configuration, CF NetCDF and GeoTIFF writing, chunk I/O."""

from __future__ import annotations

from typing import Any

from trajectoire import _legacy
from trajectoire.io import chunks, config, netcdf
from trajectoire.io.chunks import (
    copy_chunks,
    deflate_level,
    io_pool,
    io_threads,
    write_array,
)
from trajectoire.io.config import (
    MAX_YEAR,
    MIN_YEAR,
    SIGMA_SCHEMES,
    TERRITORY_IDS,
    TRAJECTORY_METHODS,
    AttributionConfig,
    DispersionConfig,
    GridConfig,
    InputsConfig,
    MeteoConfig,
    OutputConfig,
    RunConfig,
    RunSection,
    TrajectoryConfig,
    UncertaintyConfig,
    load_config,
    parse_years,
)
from trajectoire.io.netcdf import (
    FLOAT_VARIABLES,
    GRID_MAPPING,
    LOSSLESS_VARIABLES,
    atomic_path,
    check_writable,
    crs_variable,
    export_geotiff,
    map_to_geotiff,
    netcdf_encoding,
    open_output,
    select_map,
    summary,
    write_netcdf,
)

__all__ = [
    "FLOAT_VARIABLES",
    "GRID_MAPPING",
    "LOSSLESS_VARIABLES",
    "MAX_YEAR",
    "MIN_YEAR",
    "SIGMA_SCHEMES",
    "TERRITORY_IDS",
    "TRAJECTORY_METHODS",
    "AttributionConfig",
    "DispersionConfig",
    "GridConfig",
    "InputsConfig",
    "MeteoConfig",
    "OutputConfig",
    "RunConfig",
    "RunSection",
    "TrajectoryConfig",
    "UncertaintyConfig",
    "atomic_path",
    "check_writable",
    "chunks",
    "config",
    "copy_chunks",
    "crs_variable",
    "deflate_level",
    "export_geotiff",
    "io_pool",
    "io_threads",
    "load_config",
    "map_to_geotiff",
    "netcdf",
    "netcdf_encoding",
    "open_output",
    "parse_years",
    "select_map",
    "summary",
    "write_array",
    "write_netcdf",
]


def __getattr__(name: str) -> Any:
    """Names of the former flat module ``trajectoire.io`` not re-exported above (issue 11)."""
    return _legacy.lookup(__name__, name)
