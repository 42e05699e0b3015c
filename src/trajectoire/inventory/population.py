"""Census population on the grid, and the population of any year between censuses.

One definition serves the run (the population that weighs the exposure) and the trajectory
rebuild (the proxy that moves residential emissions with the population):
:func:`census_population` spreads each census column ``pop_<year>`` of the zones over the
grid, :func:`population_at` interpolates between census years.

:class:`TerritoryPopulation` splits the same inhabitants by territory exactly: the zones are
cut by the territory polygons, so a cell on a territory's border holds the inhabitants of
the zones on each side, not the cell's population times its area share (which, at 1 km,
moved up to 6 % of a territory's inhabitants across its border).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from scipy import sparse

from trajectoire.errors import InputError, MissingVariableError, warn
from trajectoire.geo.grid import Grid, to_crs
from trajectoire.geo.rasterize import coverage_matrix
from trajectoire.inventory.proxies import (
    _census_columns,
    census_near_misses,
    off_grid_extent,
    proxy_grid,
    zones_name,
)

__all__ = ["TerritoryPopulation", "census_population", "population_at"]


def _census_of(zones: Any, prefix: str) -> dict[int, str]:
    """Census year -> column ``<prefix><year>`` of `zones`; none is an error, and a column
    that looks like one but is not read (``pop2019``, ``POP_2019``) is an error where no
    census is read, a warning beside the others (its census would be interpolated)."""
    columns = _census_columns(zones.columns, prefix)
    near = census_near_misses(zones.columns, prefix)
    named = f"column(s) {', '.join(map(repr, near))} would be read named {', '.join(near.values())}"
    name = zones_name(zones)
    if not columns:
        raise MissingVariableError(
            f"{name}: no census column '{prefix}<year>' (columns {list(zones.columns)})"
            + (f"; the {named}" if near else "")
            + f"; expected one column per census year, e.g. {prefix}1990, {prefix}1999 "
            "(lower case, docs/input-formats.md). Rename the columns in the file."
        )
    if near and not zones.attrs.get("census_near_misses_said"):  # once for these zones
        warn(
            f"{name}: {named}; they are not read: the censuses read are "
            f"{', '.join(columns.values())}, the years between them interpolated. Rename "
            "the column(s) in the file to have them read."
        )
        zones.attrs["census_near_misses_said"] = True
    return columns


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
    trajectoire.InputError
        No zone overlaps the grid (zones in another CRS than their label, a grid
        elsewhere): the population would be 0 everywhere. The message gives the zones' and
        the grid's bounds and CRS.

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
    columns = _census_of(zones, prefix)
    years = sorted(columns)
    fields = [
        proxy_grid("population", grid, zones=zones, population_column=columns[year])
        for year in years
    ]
    if not any(f.any() for f in fields):  # no inhabitant on the grid: is any zone on it?
        _check_zones_on_grid(zones, grid)
    return xr.DataArray(
        np.asarray(np.stack(fields), dtype=np.float64),
        dims=("census", "y", "x"),
        coords={"census": years, **grid.coords()},
        name="population",
        attrs={"units": "1", "long_name": "inhabitants per cell at census years"},
    )


def _check_zones_on_grid(zones: Any, grid: Grid) -> None:
    """Raise when no zone overlaps `grid`: the population would be 0 in every cell,
    silently (zones in another CRS than the one they are labelled with, a grid elsewhere).
    Zones on the grid without inhabitants pass."""
    import shapely

    shapes = np.asarray(to_crs(zones, grid.crs, what=zones_name(zones)).geometry.values)
    if not len(shapes) or shapely.intersects(shapes, shapely.box(*grid.bounds)).any():
        return
    raise InputError(
        f"{zones_name(zones)}: none of the {len(shapes)} zone(s) overlaps the grid, so the "
        f"population would be 0 in every cell ({off_grid_extent('zones', zones, grid)}). "
        "Check the zones' CRS (a CRS label that is not the one of the coordinates puts them "
        "elsewhere: [inputs.zones] crs, or GeoDataFrame.set_crs/to_crs) or build the grid "
        "over them (Grid.around)."
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
    values = np.asarray(census.transpose("census", "y", "x").values, dtype=np.float64)
    i, j, t = _interpolation([int(v) for v in census["census"].values], year)
    if i == j:
        return values[i]
    return (1.0 - t) * values[i] + t * values[j]


def _interpolation(census: list[int], year: int) -> tuple[int, int, float]:
    """Indices of the censuses around `year` and the weight of the later (as
    :func:`population_at`: held before the first and after the last census)."""
    if year <= census[0]:
        return 0, 0, 0.0
    if year >= census[-1]:
        return len(census) - 1, len(census) - 1, 0.0
    k = int(np.searchsorted(census, year)) - 1
    return k, k + 1, (year - census[k]) / (census[k + 1] - census[k])


@dataclass(frozen=True)
class TerritoryPopulation:
    """Inhabitants of each territory in each cell, from zones cut by the territories.

    Build it with :meth:`from_zones`. A zone's inhabitants are spread uniformly over its
    area (as :func:`census_population`); the part of the zone inside a territory and inside
    a cell holds ``density x area`` of them. Summed over cells this is, to round-off, the
    zones' population inside each territory, whatever the grid's resolution.

    Attributes
    ----------
    census : list of int
        Census years, increasing.
    territory : list of str
        Territory ids, in the order of the rows.
    density : numpy.ndarray
        ``(census, piece)`` inhabitants per m2 of each piece (a zone within a territory).
    owner : numpy.ndarray
        ``(piece,)`` index of the piece's territory.
    cover : scipy.sparse.csr_matrix
        ``(piece, cell)`` area [m2] of each piece in each cell (cells flattened row-major).
    shape : tuple of int
        ``(ny, nx)`` of the grid.
    """

    census: list[int]
    territory: list[str]
    density: np.ndarray
    owner: np.ndarray
    cover: sparse.csr_matrix
    shape: tuple[int, int]

    @classmethod
    def from_zones(
        cls, zones: Any, territories: Any, grid: Grid, *, prefix: str = "pop_"
    ) -> TerritoryPopulation:
        """Cut the zones by the territories and cover the grid with the pieces.

        Parameters
        ----------
        zones : geopandas.GeoDataFrame
            As for :func:`census_population`.
        territories : geopandas.GeoDataFrame
            Territories with a ``territory`` id column (:func:`trajectoire.load_territories`).
        grid : Grid
            As for :func:`census_population`.
        prefix : str, default "pop_"
            As for :func:`census_population`.

        Returns
        -------
        TerritoryPopulation

        Raises
        ------
        trajectoire.MissingVariableError
            The zones have no census column.
        """
        import geopandas as gpd

        columns = _census_of(zones, prefix)
        years = sorted(columns)
        z = to_crs(zones, grid.crs, what="zones")  # the geometries, in the grid's CRS
        pops = np.stack(
            [pd.to_numeric(zones[columns[y]], errors="coerce").to_numpy(float) for y in years]
        )
        area = np.asarray(z.area, dtype=float)
        dens = np.divide(pops, area, out=np.zeros_like(pops), where=area > 0)
        t = to_crs(territories, grid.crs, what="territories")
        ids = [str(v) for v in territories["territory"]]
        left = gpd.GeoDataFrame(
            {"_zone": np.arange(len(z))}, geometry=z.geometry.values, crs=grid.crs
        )
        right = gpd.GeoDataFrame(
            {"_territory": np.arange(len(t))}, geometry=t.geometry.values, crs=grid.crs
        )
        pieces = gpd.overlay(left, right, how="intersection", keep_geom_type=True)
        cover = coverage_matrix(pieces.geometry, grid) * grid.cell_area
        return cls(
            census=years,
            territory=ids,
            density=dens[:, pieces["_zone"].to_numpy()],
            owner=pieces["_territory"].to_numpy(),
            cover=sparse.csr_matrix(cover),
            shape=grid.shape,
        )

    def at(self, year: int) -> sparse.csr_matrix:
        """``(territory, cell)`` inhabitants in `year` (linear between censuses, held outside).

        Parameters
        ----------
        year : int
            Year wanted.

        Returns
        -------
        scipy.sparse.csr_matrix
            Inhabitants of each territory in each cell (cells flattened row-major).
        """
        i, j, w = _interpolation(self.census, year)
        d = (1.0 - w) * self.density[i] + w * self.density[j]
        pick = sparse.csr_matrix(
            (d, (self.owner, np.arange(d.size))), shape=(len(self.territory), d.size)
        )
        return sparse.csr_matrix(pick @ self.cover)

    def totals(self, year: int) -> np.ndarray:
        """``(territory,)`` inhabitants of each territory in `year`."""
        return np.asarray(self.at(year).sum(axis=1)).ravel()

    def windows(self, year: int, rows: list[slice], cols: list[slice]) -> list[np.ndarray]:
        """Each territory's inhabitants per cell on a window of the grid.

        Parameters
        ----------
        year : int
            Year wanted.
        rows, cols : list of slice
            One window per territory, in the order of :attr:`territory`.

        Returns
        -------
        list of numpy.ndarray
            ``(rows, cols)`` inhabitants per cell of each territory in its window.
        """
        return self.windows_of(self.at(year), rows, cols)

    def windows_of(
        self, per_cell: sparse.csr_matrix, rows: list[slice], cols: list[slice]
    ) -> list[np.ndarray]:
        """:meth:`windows` of a ``(territory, cell)`` matrix already computed by :meth:`at`
        (a run computes it once a year and reads its windows and totals from it)."""
        out = []
        for i, (r, c) in enumerate(zip(rows, cols, strict=True)):
            row = per_cell.getrow(i)
            yy, xx = np.divmod(row.indices, self.shape[1])
            win = np.zeros((r.stop - r.start, c.stop - c.start))
            inside = (yy >= r.start) & (yy < r.stop) & (xx >= c.start) & (xx < c.stop)
            win[yy[inside] - r.start, xx[inside] - c.start] = row.data[inside]
            out.append(win)
        return out
