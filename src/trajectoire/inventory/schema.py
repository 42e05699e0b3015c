"""The inventory dataset schema: its variables, their attributes, and its assembly.

The canonical inventory is an :class:`xarray.Dataset` (see ``docs/data-model.md``):
``emission(sector, pollutant, y, x)`` [t yr-1 per cell] for area and line sources on the run
grid, and point stacks kept as points on dim ``source`` (``point_emission(source,
pollutant)`` [t yr-1], position, sector and stack parameters). This module is the one
definition of that layout: the names of the point-source variables
(:data:`POINT_VARIABLES`, :data:`STACK_VARIABLES`, :data:`POINT_SOURCE_VARIABLES`), their
attributes, and the assembly of a dataset from its parts (:func:`empty_inventory`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr

from trajectoire.geo.grid import Grid
from trajectoire.sectors import GNFR, normalise_sector
from trajectoire.species import normalise_pollutant

__all__ = [
    "POINT_SOURCE_VARIABLES",
    "POINT_VARIABLES",
    "STACK_VARIABLES",
    "empty_inventory",
]

#: Point-source variables on dim ``source`` and the input column each one comes from.
POINT_VARIABLES: dict[str, str] = {
    "source_name": "name",
    "source_sector": "sector",
    "stack_height": "height",
    "stack_diameter": "diameter",
    "exit_temperature": "temperature",
    "exit_velocity": "velocity",
    "start_year": "start_year",
    "end_year": "end_year",
}

#: Stack parameters of a point source on dim ``source``: ``stack_height`` [m],
#: ``stack_diameter`` [m] (inner, at the top), ``exit_temperature`` [K] and
#: ``exit_velocity`` [m s-1] of the gas.
STACK_VARIABLES: tuple[str, ...] = (
    "stack_height",
    "stack_diameter",
    "exit_temperature",
    "exit_velocity",
)

#: Point-source variables a plume model needs, on dim ``source``: position ``source_x``,
#: ``source_y`` [m] in the grid CRS, GNFR ``source_sector`` and the :data:`STACK_VARIABLES`.
POINT_SOURCE_VARIABLES: tuple[str, ...] = (
    "source_x",
    "source_y",
    "source_sector",
    *STACK_VARIABLES,
)


def empty_inventory(
    grid: Grid,
    sectors: Sequence[str] = GNFR,
    pollutants: Sequence[str] = ("NOx",),
    *,
    reference_year: int,
) -> xr.Dataset:
    """An inventory with zero emission and no point source.

    Parameters
    ----------
    grid : Grid
        Run grid.
    sectors : sequence of str, default all GNFR sectors
        Sector ids (aliases accepted).
    pollutants : sequence of str
        Pollutant ids (aliases accepted).
    reference_year : int
        Year the inventory describes.

    Returns
    -------
    xarray.Dataset
        The canonical inventory layout (``docs/data-model.md``).

    Examples
    --------
    >>> from trajectoire import Grid
    >>> g = Grid.from_bounds(700_000, 7_000_000, 701_000, 7_001_000, 100)
    >>> ds = empty_inventory(g, ["F", "C"], ["nox"], reference_year=2019)
    >>> ds["emission"].dims, ds.sector.values.tolist(), ds.sizes["source"]
    (('sector', 'pollutant', 'y', 'x'), ['F_RoadTransport', 'C_OtherStationaryComb'], 0)
    """
    sec = [normalise_sector(s) for s in sectors]
    pol = [normalise_pollutant(p) for p in pollutants]
    em = np.zeros((len(sec), len(pol), grid.ny, grid.nx))
    return _assemble(grid, sec, pol, em, _empty_points(pol), reference_year)


def _empty_points(pollutants: Sequence[str]) -> xr.Dataset:
    """The point-source part of an inventory without any source (variables as read)."""
    nothing = np.array([], dtype=object)
    data: dict[str, Any] = {
        "point_emission": (("source", "pollutant"), np.zeros((0, len(pollutants))))
    }
    for name in POINT_SOURCE_VARIABLES:
        data[name] = ("source", nothing if name == "source_sector" else np.zeros(0))
    for name in ("start_year", "end_year"):
        data[name] = ("source", np.zeros(0, dtype=np.int64))
    data["source_name"] = ("source", nothing)
    return xr.Dataset(data, coords={"source": nothing, "pollutant": list(pollutants)})


#: Attributes of the point-source variables (set by :func:`_assemble`, the one place).
_POINT_ATTRS = {
    "point_emission": {"units": "t yr-1", "long_name": "point-source emission"},
    "source_x": {"units": "m", "long_name": "stack x in the grid CRS"},
    "source_y": {"units": "m", "long_name": "stack y in the grid CRS"},
    "source_sector": {"long_name": "GNFR sector of the stack"},
    "stack_height": {"units": "m", "long_name": "physical stack height"},
    "stack_diameter": {"units": "m", "long_name": "inner stack diameter at the top"},
    "exit_temperature": {"units": "K", "long_name": "gas exit temperature"},
    "exit_velocity": {"units": "m s-1", "long_name": "gas exit velocity"},
    "start_year": {"long_name": "first year of operation (-1 unknown)"},
    "end_year": {"long_name": "last year of operation (-1 unknown)"},
    "source_name": {"long_name": "name of the source"},
}


def _assemble(
    grid: Grid,
    sectors: Sequence[str],
    pollutants: Sequence[str],
    emission: np.ndarray,
    points: xr.Dataset,
    reference_year: int,
) -> xr.Dataset:
    """The inventory dataset from its parts: gridded `emission` and the `points` dataset.

    `emission` is ``(sector, pollutant, y, x)`` [t yr-1 per cell]; the point variables are
    reindexed on `pollutants` (0 for a pollutant a source does not emit) and get their
    attributes here, the one place that sets them.
    """
    coords: dict[str, Any] = {"sector": list(sectors), "pollutant": list(pollutants)}
    coords.update(grid.coords())
    em = xr.DataArray(emission, dims=("sector", "pollutant", "y", "x"), coords=coords)
    em.attrs = {
        "units": "t yr-1",
        "long_name": "emission per grid cell",
        "cell_methods": "year: sum area: sum",
    }
    pts = points.reindex(pollutant=list(pollutants), fill_value=0.0)
    ds = xr.Dataset({"emission": em})
    for name in pts.data_vars:
        ds[name] = pts[name]
        ds[name].attrs = dict(_POINT_ATTRS.get(str(name), {}))
    ds = ds.assign_coords(source=pts["source"].values.astype(object))
    ds.attrs = {"crs": grid.crs.to_string(), "reference_year": int(reference_year)}
    return ds
