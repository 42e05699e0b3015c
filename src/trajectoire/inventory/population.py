"""Census population on the grid, and the population of any year between censuses.

One definition serves the run (the population that weighs the exposure) and the trajectory
rebuild (the proxy that moves residential emissions with the population):
:func:`census_population` spreads each census column ``pop_<year>`` of the zones over the
grid, :func:`population_at` interpolates between census years.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from trajectoire.errors import MissingVariableError
from trajectoire.geo.grid import Grid
from trajectoire.inventory.proxies import _census_columns, proxy_grid

__all__ = ["census_population", "population_at"]


def census_population(zones: Any, grid: Grid, *, prefix: str = "pop_") -> xr.DataArray:
    """Inhabitants per cell at each census year of the zones.

    Parameters
    ----------
    zones : geopandas.GeoDataFrame
        Population zones (``zones.gpkg``, :func:`trajectoire.inventory.read_zones`), any CRS,
        with one column ``<prefix><year>`` [inhabitants] per census (a four-digit year).
    grid : Grid
        Run grid.
    prefix : str, default "pop_"
        Prefix of the census columns.

    Returns
    -------
    xarray.DataArray
        ``population(census, y, x)`` [inhabitants per cell], float64, with coordinate
        ``census`` the census years in increasing order. Each census is spread within each
        zone in proportion to area, as the ``"population"`` proxy
        (:func:`trajectoire.inventory.proxy_grid`) does; a zone's cells inside the grid hold
        its population times the share of its area inside the grid.

    Raises
    ------
    trajectoire.MissingVariableError
        The zones have no census column.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> from trajectoire import Grid
    >>> g = Grid.from_bounds(700_000, 7_000_000, 700_200, 7_000_100, 100)
    >>> zones = gpd.GeoDataFrame(
    ...     {"zone_id": ["Z"], "pop_2000": [100.0], "pop_1990": [80.0]},
    ...     geometry=[shapely.box(700_000, 7_000_000, 700_200, 7_000_100)], crs="EPSG:2154")
    >>> pop = census_population(zones, g)
    >>> pop.dims, pop.census.values.tolist(), pop.sum(["y", "x"]).values.tolist()
    (('census', 'y', 'x'), [1990, 2000], [80.0, 100.0])
    """
    columns = _census_columns(zones.columns, prefix)
    if not columns:
        raise MissingVariableError(
            f"zones: no census column '{prefix}<year>' (columns {list(zones.columns)}); "
            f"expected one column per census year, e.g. {prefix}1990, {prefix}1999 "
            "(docs/input-formats.md)."
        )
    years = sorted(columns)
    fields = [
        proxy_grid("population", grid, zones=zones, population_column=columns[year])
        for year in years
    ]
    return xr.DataArray(
        np.asarray(np.stack(fields), dtype=np.float64),
        dims=("census", "y", "x"),
        coords={"census": years, **grid.coords()},
        name="population",
        attrs={"units": "1", "long_name": "inhabitants per cell at census years"},
    )


def population_at(census: xr.DataArray, year: int) -> np.ndarray:
    """Inhabitants per cell in `year`, interpolated linearly between census years.

    Parameters
    ----------
    census : xarray.DataArray
        ``(census, y, x)`` inhabitants per cell at the census years, increasing
        (:func:`census_population`).
    year : int
        Year wanted.

    Returns
    -------
    numpy.ndarray
        ``(ny, nx)`` inhabitants per cell [float64]: the census of `year` when there is one,
        linear between the two censuses around it, and the first (last) census before the
        first (after the last).

    Examples
    --------
    >>> import xarray as xr
    >>> census = xr.DataArray([[[10.0]], [[20.0]]], dims=("census", "y", "x"),
    ...                       coords={"census": [1990, 2000]})
    >>> [float(population_at(census, y)[0, 0]) for y in (1980, 1990, 1995, 2000, 2020)]
    [10.0, 10.0, 15.0, 20.0, 20.0]
    """
    c = [int(v) for v in census["census"].values]
    values = np.asarray(census.transpose("census", "y", "x").values, dtype=np.float64)
    if year <= c[0]:
        return values[0]
    if year >= c[-1]:
        return values[-1]
    k = int(np.searchsorted(c, year)) - 1
    t = (year - c[k]) / (c[k + 1] - c[k])
    return (1.0 - t) * values[k] + t * values[k + 1]
