"""A random reference inventory for tests, examples and benchmarks.

Synthetic data lives in :mod:`trajectoire.sample`; no domain module imports it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dask.array as da
import numpy as np
import xarray as xr

from trajectoire.geo.grid import Grid

__all__ = ["synthetic_inventory"]


def synthetic_inventory(
    grid: Grid | None = None,
    *,
    sectors: Sequence[str] = ("A_PublicPower", "F_RoadTransport"),
    pollutants: Sequence[str] = ("NOx", "PM10"),
    reference_year: int = 2018,
    n_sources: int = 3,
    seed: int = 0,
    dtype: str = "float64",
    lazy: bool = False,
) -> xr.Dataset:
    """A random reference inventory following docs/data-model.md (for tests and benchmarks).

    Parameters
    ----------
    grid : Grid, optional
        Grid of the inventory; default 10 x 8 cells of 100 m in Lambert-93.
    sectors, pollutants : sequence of str
        GNFR ids and pollutant ids.
    reference_year : int, default 2018
        ``attrs["reference_year"]``.
    n_sources : int, default 3
        Number of point stacks (sectors cycled, positions inside the grid, open lifetimes).
    seed : int, default 0
        Random seed.
    dtype : str, default "float64"
        Dtype of ``emission``.
    lazy : bool, default False
        Build ``emission`` as a dask array chunked per (sector, pollutant), generated on
        demand (for grids too large to hold).

    Returns
    -------
    xarray.Dataset
        ``emission(sector, pollutant, y, x)`` [t yr-1] and the point-source variables.

    Examples
    --------
    >>> ds = synthetic_inventory()
    >>> ds["emission"].dims, int(ds.attrs["reference_year"])
    (('sector', 'pollutant', 'y', 'x'), 2018)
    """
    g = grid if grid is not None else Grid.from_bounds(700_000, 7_050_000, 701_000, 7_050_800, 100)
    rng = np.random.default_rng(seed)
    shape = (len(sectors), len(pollutants), g.ny, g.nx)
    data: Any
    if lazy:
        drng = da.random.default_rng(seed)
        data = drng.random(shape, chunks=(1, 1, g.ny, g.nx), dtype=np.float64).astype(dtype)
    else:
        data = rng.random(shape, dtype=np.dtype(dtype).type)
    coords: dict[str, Any] = {
        "sector": list(sectors),
        "pollutant": list(pollutants),
        **g.coords(),
    }
    ds = xr.Dataset(coords=coords)
    ds["emission"] = xr.DataArray(
        data, dims=("sector", "pollutant", "y", "x"), attrs={"units": "t yr-1"}
    )
    n = int(n_sources)
    src = [f"S{i:03d}" for i in range(n)]
    ds = ds.assign_coords(source=src)
    ds["point_emission"] = xr.DataArray(
        rng.uniform(1.0, 10.0, (n, len(pollutants))),
        dims=("source", "pollutant"),
        attrs={"units": "t yr-1"},
    )
    ds["source_x"] = ("source", rng.uniform(g.xmin, g.xmax, n), {"units": "m"})
    ds["source_y"] = ("source", rng.uniform(g.ymin, g.ymax, n), {"units": "m"})
    ds["source_sector"] = ("source", np.array([sectors[i % len(sectors)] for i in range(n)]))
    ds["stack_height"] = ("source", rng.uniform(20, 80, n), {"units": "m"})
    ds["stack_diameter"] = ("source", rng.uniform(1, 4, n), {"units": "m"})
    ds["exit_temperature"] = ("source", rng.uniform(350, 450, n), {"units": "K"})
    ds["exit_velocity"] = ("source", rng.uniform(5, 20, n), {"units": "m s-1"})
    ds["start_year"] = ("source", np.full(n, -1, dtype=np.int64))
    ds["end_year"] = ("source", np.full(n, -1, dtype=np.int64))
    ds["source_name"] = ("source", np.array([f"stack {s}" for s in src]))
    ds.attrs = {"crs": g.crs.to_string(), "reference_year": int(reference_year)}
    return ds
