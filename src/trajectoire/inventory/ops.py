"""Operations on inventories: group sectors, scale, crop to a territory, add, totals.

Each takes and returns the canonical inventory (:mod:`trajectoire.inventory.schema`), adds a
``history`` line and conserves mass: totals change only as the operation says.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import shapely
import xarray as xr
from scipy import sparse

from trajectoire._validate import require_columns, require_non_negative
from trajectoire.cf import add_history
from trajectoire.errors import GridError, InputError
from trajectoire.geo.grid import Grid, to_crs
from trajectoire.geo.rasterize import coverage_matrix
from trajectoire.inventory.readers import _check_duplicates
from trajectoire.inventory.schema import _assemble
from trajectoire.sectors import GNFR, SECTEN_OF_GNFR, normalise_sector
from trajectoire.species import normalise_pollutant

__all__ = ["add", "crop", "group_sectors", "scale", "totals"]


def _grid(ds: xr.Dataset) -> Grid:
    return Grid.from_xarray(ds)


def group_sectors(ds: xr.Dataset, mapping: Mapping[str, str] | None = None) -> xr.Dataset:
    """Sum sectors into groups (SECTEN groups by default, or a user mapping).

    Parameters
    ----------
    ds : xarray.Dataset
        An inventory.
    mapping : mapping of GNFR id to group name, optional
        Default :data:`trajectoire.sectors.SECTEN_OF_GNFR`. Every sector of `ds` needs an
        entry.

    Returns
    -------
    xarray.Dataset
        Same layout with the ``sector`` coordinate holding group names; ``source_sector`` is
        mapped too. Totals are unchanged.

    Raises
    ------
    trajectoire.InputError
        A sector without a group in the mapping.

    Examples
    --------
    >>> from trajectoire import Grid
    >>> from trajectoire.inventory import empty_inventory
    >>> g = Grid.from_bounds(700_000, 7_000_000, 700_200, 7_000_200, 100)
    >>> ds = empty_inventory(g, ["A", "D", "C"], ["NOx"], reference_year=2019)
    >>> group_sectors(ds).sector.values.tolist()
    ['energy', 'residential_tertiary']
    """
    table = {normalise_sector(k, what="mapping"): v for k, v in (mapping or SECTEN_OF_GNFR).items()}
    secs = [str(s) for s in ds["sector"].values]
    missing = [s for s in secs if s not in table]
    if missing:
        raise InputError(
            f"group_sectors: sector(s) {missing} have no group in the mapping; add them "
            f"(mapping has {sorted(table)})."
        )
    groups = [table[s] for s in secs]
    order = list(dict.fromkeys(groups))
    em = ds["emission"].assign_coords(group=("sector", groups)).groupby("group").sum("sector")
    em = em.rename(group="sector").sel(sector=order).transpose("sector", "pollutant", "y", "x")
    out = ds.drop_vars("emission").drop_dims("sector", errors="ignore")
    out["emission"] = em.assign_attrs(ds["emission"].attrs)
    if "source_sector" in ds and ds.sizes.get("source", 0):
        out["source_sector"] = (
            "source",
            np.array([table.get(str(s), str(s)) for s in ds["source_sector"].values], object),
        )
    return add_history(out, f"group_sectors(mapping={'SECTEN' if mapping is None else 'user'})")


def scale(ds: xr.Dataset, factors: Mapping[Any, float] | xr.DataArray) -> xr.Dataset:
    """Multiply emissions by factors per sector, per pollutant or per (sector, pollutant).

    Parameters
    ----------
    ds : xarray.Dataset
        An inventory.
    factors : mapping or DataArray
        Keys are sector ids (or letters), pollutant ids, or ``(sector, pollutant)`` pairs;
        missing entries keep factor 1. A DataArray with ``sector`` and/or ``pollutant`` dims
        is broadcast. Factors must be finite and >= 0. Point sources are scaled too.

    Returns
    -------
    xarray.Dataset

    Raises
    ------
    trajectoire.InputError
        Negative/NaN factors, unknown keys.
    """
    secs = [str(s) for s in ds["sector"].values]
    pols = [str(p) for p in ds["pollutant"].values]
    if isinstance(factors, xr.DataArray):
        f = factors.broadcast_like(
            xr.DataArray(
                np.ones((len(secs), len(pols))),
                dims=("sector", "pollutant"),
                coords={"sector": secs, "pollutant": pols},
            )
        ).fillna(1.0)
        mat = f.transpose("sector", "pollutant").values
    else:
        mat = np.ones((len(secs), len(pols)))
        for key, val in factors.items():
            if isinstance(key, tuple):
                s2, p2 = normalise_sector(key[0]), normalise_pollutant(key[1])
                mat[secs.index(s2), pols.index(p2)] *= val
                continue
            sec_id: str | None
            try:
                sec_id = normalise_sector(key)
            except InputError:
                sec_id = None
            if sec_id is not None and sec_id in secs:
                mat[secs.index(sec_id), :] *= val
                continue
            p = normalise_pollutant(key, what="scale factors")
            if p not in pols:
                raise InputError(f"scale: pollutant {p!r} not in the inventory {pols}.")
            mat[:, pols.index(p)] *= val
    require_non_negative(mat, "scale factors", secs)
    fac = xr.DataArray(
        mat, dims=("sector", "pollutant"), coords={"sector": secs, "pollutant": pols}
    )
    out = ds.copy()
    out["emission"] = (ds["emission"] * fac).assign_attrs(ds["emission"].attrs)
    if ds.sizes.get("source", 0):
        idx = [secs.index(str(s)) if str(s) in secs else -1 for s in ds["source_sector"].values]
        pf = np.array([mat[i] if i >= 0 else np.ones(len(pols)) for i in idx])
        out["point_emission"] = ds["point_emission"] * pf
        out["point_emission"].attrs = ds["point_emission"].attrs
    return add_history(out, "scale(factors)")


def crop(ds: xr.Dataset, territory: Any, *, crs: Any = None) -> xr.Dataset:
    """Keep the emissions inside a territory: exact area shares of boundary cells.

    Parameters
    ----------
    ds : xarray.Dataset
        An inventory.
    territory : shapely geometry, GeoSeries or GeoDataFrame
        Territory polygon(s) (a GeoSeries/GeoDataFrame is reprojected; a bare geometry is in
        `crs`, default the inventory CRS).
    crs : any, optional
        CRS of a bare shapely geometry.

    Returns
    -------
    xarray.Dataset
        On the sub-grid of the territory's bounding box; each cell keeps the share of its
        emission equal to the share of its area inside the territory (emission assumed
        uniform within a cell); point sources inside the territory are kept.
    """
    from trajectoire.geo.rasterize import area_fractions, to_grid_geometry

    grid = _grid(ds)
    frac = area_fractions(territory, grid, crs=crs)
    geom = to_grid_geometry(territory, grid, crs)
    rows, cols = grid.window(tuple(shapely.bounds(geom).tolist()))
    sub = grid.subgrid(rows, cols)
    out = ds.isel(y=rows, x=cols).copy()
    out["emission"] = (ds["emission"].isel(y=rows, x=cols) * frac[rows, cols]).assign_attrs(
        ds["emission"].attrs
    )
    if ds.sizes.get("source", 0):
        inside = shapely.covers(geom, shapely.points(ds["source_x"].values, ds["source_y"].values))
        out = out.isel(source=np.flatnonzero(inside))
    out = out.assign_coords(sub.coords())
    return add_history(out, "crop(territory)")


def add(a: xr.Dataset, b: xr.Dataset) -> xr.Dataset:
    """Add two inventories on the same grid (sectors and pollutants are united).

    Parameters
    ----------
    a, b : xarray.Dataset
        Inventories on the same grid (regrid one of them first otherwise).

    Returns
    -------
    xarray.Dataset
        Gridded emissions summed (missing sector/pollutant = 0), point sources of both.

    Raises
    ------
    trajectoire.GridError
        Different grids.
    trajectoire.InputError
        A point-source id present in both.
    """
    ga, gb = _grid(a), _grid(b)
    if not ga.same_as(gb):
        raise GridError(
            f"add: the inventories are on different grids ({ga} and {gb}); regrid one with "
            "trajectoire.regrid(b['emission'], grid_a) first."
        )
    secs = list(dict.fromkeys([*map(str, a.sector.values), *map(str, b.sector.values)]))
    order = [s for s in GNFR if s in secs] + [s for s in secs if s not in GNFR]
    pols = list(dict.fromkeys([*map(str, a.pollutant.values), *map(str, b.pollutant.values)]))
    ea = a["emission"].reindex(sector=order, pollutant=pols, fill_value=0.0)
    eb = b["emission"].reindex(sector=order, pollutant=pols, fill_value=0.0)
    pa = a.drop_dims(["y", "x", "sector"], errors="ignore").drop_vars("emission", errors="ignore")
    pb = b.drop_dims(["y", "x", "sector"], errors="ignore").drop_vars("emission", errors="ignore")
    ids = [*map(str, pa["source"].values), *map(str, pb["source"].values)]
    _check_duplicates(ids, "add: point-source ids of the two inventories")
    pa = pa.reindex(pollutant=pols, fill_value=0.0)
    pb = pb.reindex(pollutant=pols, fill_value=0.0)
    pts = xr.concat([pa, pb], dim="source", data_vars="minimal", coords="minimal")
    pts = pts.drop_vars(["y", "x", "sector"], errors="ignore")
    year = int(a.attrs.get("reference_year", b.attrs.get("reference_year", -1)))
    out = _assemble(ga, order, pols, (ea + eb).values, pts, year)
    return add_history(out, "add(a, b)")


def totals(ds: xr.Dataset, territories: Any = None, *, column: str = "territory") -> pd.DataFrame:
    """Emission totals per territory, sector and pollutant as a tidy table.

    Parameters
    ----------
    ds : xarray.Dataset
        An inventory.
    territories : GeoDataFrame, optional
        Territory polygons (any CRS) with an id column. Default: the whole grid (territory
        ``"all"``).
    column : str, default "territory"
        Id column of `territories`.

    Returns
    -------
    pandas.DataFrame
        Columns ``territory``, ``sector``, ``pollutant``, ``emission`` [t yr-1]: gridded
        emission weighted by the exact share of each cell inside the territory, plus the
        point sources inside it.

    Examples
    --------
    >>> from trajectoire import Grid
    >>> from trajectoire.inventory import empty_inventory
    >>> g = Grid.from_bounds(700_000, 7_000_000, 700_200, 7_000_200, 100)
    >>> ds = empty_inventory(g, ["F"], ["NOx"], reference_year=2019)
    >>> ds["emission"][:] = 2.0
    >>> totals(ds)
      territory           sector pollutant  emission
    0       all  F_RoadTransport       NOx       8.0
    """
    secs = [str(s) for s in ds["sector"].values]
    pols = [str(p) for p in ds["pollutant"].values]
    em = np.asarray(ds["emission"].transpose("sector", "pollutant", "y", "x").values)
    nsrc = ds.sizes.get("source", 0)
    pe = np.asarray(ds["point_emission"].transpose("source", "pollutant").values) if nsrc else None
    psec = [str(s) for s in ds["source_sector"].values] if nsrc else []
    grid = _grid(ds)
    if territories is None:
        names = ["all"]
        weights = sparse.csr_matrix(np.ones((1, grid.size)))
        pt_in = np.ones((1, nsrc), dtype=bool)
    else:
        require_columns(territories.columns, [column], "territories")
        tg = to_crs(territories, grid.crs, what="territories")
        names = [str(v) for v in territories[column]]
        weights = coverage_matrix(tg, grid)
        pts = shapely.points(ds["source_x"].values, ds["source_y"].values) if nsrc else None
        pt_in = np.array(
            [shapely.covers(g, pts) if nsrc else np.zeros(0, bool) for g in tg.values]
        ).reshape(len(names), nsrc)
    flat = em.reshape(len(secs) * len(pols), grid.size)
    grid_tot = np.asarray(weights @ flat.T).reshape(len(names), len(secs), len(pols))
    if nsrc and pe is not None:
        for k, s in enumerate(psec):
            if s in secs:
                grid_tot[:, secs.index(s), :] += pt_in[:, k, None] * pe[k][None, :]
    t_idx, s_idx, p_idx = np.meshgrid(
        np.arange(len(names)), np.arange(len(secs)), np.arange(len(pols)), indexing="ij"
    )
    return pd.DataFrame(
        {
            "territory": np.array(names, dtype=object)[t_idx.ravel()],
            "sector": np.array(secs, dtype=object)[s_idx.ravel()],
            "pollutant": np.array(pols, dtype=object)[p_idx.ravel()],
            "emission": grid_tot.ravel(),
        }
    )
