"""The reference-year emission inventory built from the input files.

:func:`build_inventory` assembles the canonical inventory (:mod:`trajectoire.inventory.schema`)
from the input files of ``docs/input-formats.md``: point sources, road links (emissions per
km, or traffic times emission factors), polygon totals spread with proxies
(:data:`trajectoire.inventory.proxies.DEFAULT_PROXIES`), and gridded inventories in any CRS
(conservatively regridded with :class:`trajectoire.geo.regridding.Regridder`). Every path
conserves mass to round-off; see ``docs/inventory.md``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from trajectoire._validate import rows_preview
from trajectoire.cf import add_history
from trajectoire.errors import InputError, warn
from trajectoire.geo.grid import Grid, as_crs
from trajectoire.geo.regridding import Regridder
from trajectoire.inventory.proxies import (
    ProxySpec,
    allocate,
    grid_roads,
    landuse_areas,
)
from trajectoire.inventory.readers import (
    _name,
    read_area_totals,
    read_gridded,
    read_landuse,
    read_point_sources,
    read_roads,
    read_zones,
)
from trajectoire.inventory.schema import _assemble, _empty_points
from trajectoire.sectors import GNFR, normalise_sector
from trajectoire.species import POLLUTANTS, normalise_pollutant

__all__ = ["build_inventory"]


def build_inventory(
    grid: Grid,
    *,
    reference_year: int,
    point_sources: Any = None,
    roads: Any = None,
    road_emission_factors: Any = None,
    area_totals: Any = None,
    zones: Any = None,
    proxies: Mapping[str, ProxySpec] | None = None,
    landuse: Any = None,
    population_column: str | None = None,
    gridded: Any = None,
    sectors: Sequence[str] | None = None,
    pollutants: Sequence[str] | None = None,
    strict: bool = False,
) -> xr.Dataset:
    """Build the canonical reference-year inventory on `grid` from any mix of inputs.

    Parameters
    ----------
    grid : Grid
        Run grid (projected, metres).
    reference_year : int
        Year the inputs describe.
    point_sources : path, DataFrame or Dataset, optional
        Stacks (:func:`read_point_sources`); kept as points.
    roads : path or GeoDataFrame, optional
        Road links (:func:`read_roads`), gridded into ``F_RoadTransport`` by length.
    road_emission_factors : path or DataFrame, optional
        Factors per category when `roads` carries traffic instead of emissions.
    area_totals : path or DataFrame, optional
        Zone totals (:func:`read_area_totals`), spread with `proxies`.
    zones : path or GeoDataFrame, optional
        Zones of `area_totals` (and population for the ``population`` proxy).
    proxies : mapping of sector to proxy, optional
        Overrides of :data:`DEFAULT_PROXIES`.
    landuse : path or DataArray, optional
        Land-use raster for the ``landuse:`` proxies.
    population_column : str, optional
        Zone population column (default: ``population`` or ``pop_<year>`` nearest
        `reference_year`).
    gridded : path, DataArray or list of them, optional
        Gridded inventories in any CRS (:func:`read_gridded` output or files), regridded
        conservatively.
    sectors, pollutants : sequence of str, optional
        Keep only these (default: all GNFR sectors; the pollutants found in the inputs).
        Inputs with other sectors/pollutants are an error when these are given.
    strict : bool, default False
        Raise instead of warning for point sources outside the grid.

    Returns
    -------
    xarray.Dataset
        The canonical inventory (``docs/data-model.md``), with a ``history`` line.

    Raises
    ------
    trajectoire.InputError
        Any bad input (see the readers), sectors or pollutants outside the requested lists,
        duplicated source ids.
    """
    parts: list[xr.DataArray] = []
    zones_gdf = read_zones(zones) if zones is not None else None
    roads_gdf = None
    if roads is not None:
        roads_gdf = read_roads(roads, emission_factors=road_emission_factors)
        parts.append(grid_roads(roads_gdf, grid).expand_dims(sector=["F_RoadTransport"]))
    lu = read_landuse(landuse) if landuse is not None else None
    lu_areas = landuse_areas(lu, grid) if lu is not None else None
    if area_totals is not None:
        tab = read_area_totals(area_totals, what=_name(area_totals, "area totals"))
        if zones_gdf is None:
            raise InputError(
                "build_inventory: area_totals given without zones; pass zones='zones.gpkg'."
            )
        parts.append(
            allocate(
                tab,
                zones_gdf,
                grid,
                proxies=proxies,
                population_column=population_column,
                landuse=lu_areas,
                roads=roads_gdf,
                reference_year=reference_year,
                what=_name(area_totals, "area totals"),
            )
        )
    if gridded is not None:
        items = gridded if isinstance(gridded, list | tuple) else [gridded]
        for item in items:
            da = item if isinstance(item, xr.DataArray) else read_gridded(item)
            if "sector" not in da.dims or da.attrs.get("units") != "t yr-1":
                da = read_gridded(da)
            parts.append(Regridder(da, grid, extensive=True)(da))
    points = None
    if point_sources is not None:
        points = (
            point_sources
            if isinstance(point_sources, xr.Dataset)
            else read_point_sources(point_sources)
        )
        points = _points_inside(_points_to_grid_crs(points, grid), grid, strict)
    # labels
    found_sec: list[str] = []
    found_pol: list[str] = []
    for da in parts:
        found_sec += [str(s) for s in da["sector"].values]
        found_pol += [str(p) for p in da["pollutant"].values]
    if points is not None:
        found_sec += [str(s) for s in points["source_sector"].values]
        found_pol += [str(p) for p in points["pollutant"].values]
    if sectors is None:
        sec = list(GNFR)
    else:
        sec = [normalise_sector(s, what="sectors") for s in sectors]
        _require_subset(found_sec, sec, "sector")
    if pollutants is None:
        pol = [p for p in POLLUTANTS if p in set(found_pol)] or ["NOx"]
    else:
        pol = [normalise_pollutant(p, what="pollutants") for p in pollutants]
        _require_subset(found_pol, pol, "pollutant")
    em = np.zeros((len(sec), len(pol), grid.ny, grid.nx))
    for da in parts:
        for s in da["sector"].values:
            for p in da["pollutant"].values:
                em[sec.index(str(s)), pol.index(str(p))] += da.sel(sector=s, pollutant=p).values
    pts = points if points is not None else _empty_points(pol)
    ds = _assemble(grid, sec, pol, em, pts, reference_year)
    inputs = [
        f"{k}={_name(v, type(v).__name__)}"
        for k, v in (
            ("point_sources", point_sources),
            ("roads", roads),
            ("area_totals", area_totals),
            ("gridded", gridded),
        )
        if v is not None
    ]
    return add_history(ds, f"build_inventory({', '.join(inputs)}, grid={grid})")


def _require_subset(found: Iterable[str], allowed: Sequence[str], kind: str) -> None:
    extra = sorted(set(found) - set(allowed))
    if extra:
        raise InputError(
            f"build_inventory: the inputs contain {kind}(s) {extra} that are not in the "
            f"requested {kind}s {list(allowed)}. Add them to {kind}s= or drop them from the "
            "inputs."
        )


def _points_inside(points: xr.Dataset, grid: Grid, strict: bool) -> xr.Dataset:
    _, _, inside = grid.cell_index(points["source_x"].values, points["source_y"].values)
    if inside.all():
        return points
    bad = [str(s) for s in points["source"].values[~inside]]
    name = points.attrs.get("source_file", "point sources")
    lost = points["point_emission"].isel(source=np.flatnonzero(~inside)).sum("source")
    detail = ", ".join(
        f"{p} {float(v):.6g}" for p, v in zip(lost.pollutant.values, lost.values, strict=True)
    )
    msg = (
        f"{name}: {len(bad)} point source(s) of {inside.size} lie outside the grid {grid} "
        f"(source_id {rows_preview(bad)}; {detail} t yr-1). "
    )
    if strict:
        raise InputError(msg + "Enlarge the grid (Grid.around with a larger buffer) or drop them.")
    warn(msg + "They are left out of the inventory; enlarge the grid to keep them.")
    return points.isel(source=np.flatnonzero(inside))


def _points_to_grid_crs(points: xr.Dataset, grid: Grid) -> xr.Dataset:
    import pyproj

    src = as_crs(points.attrs.get("crs", grid.crs.to_string()))
    if src == grid.crs or points.sizes["source"] == 0:
        return points
    tr = pyproj.Transformer.from_crs(src, grid.crs, always_xy=True)
    x, y = tr.transform(points["source_x"].values, points["source_y"].values)
    out = points.copy()
    out["source_x"] = ("source", np.asarray(x, dtype=float))
    out["source_y"] = ("source", np.asarray(y, dtype=float))
    out.attrs["crs"] = grid.crs.to_string()
    return out
