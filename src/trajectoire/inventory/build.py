"""The reference-year emission inventory built from the input files.

:func:`build_inventory` assembles the canonical inventory (:mod:`trajectoire.inventory.schema`)
from the input files of ``docs/input-formats.md``: point sources, road links (emissions per
km, or traffic times emission factors), polygon totals spread with proxies
(:data:`trajectoire.inventory.proxies.DEFAULT_PROXIES`), and gridded inventories in any CRS
(conservatively regridded with :class:`trajectoire.geo.regridding.Regridder`). Every path
conserves mass to round-off; see ``docs/inventory.md``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from os import PathLike
from typing import Any, Literal

import numpy as np
import xarray as xr

from trajectoire._memory import release_pages
from trajectoire._validate import DATA_YEARS, require_year, rows_preview
from trajectoire.cf import add_history
from trajectoire.errors import GridError, InputError, warn
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
    _option_of,
    read_area_totals,
    read_gridded,
    read_landuse,
    read_point_sources,
    read_roads,
    read_zones,
)
from trajectoire.inventory.schema import (
    _assemble,
    _empty_points,
    check_stacks,
    warn_doubtful_heights,
)
from trajectoire.sectors import GNFR, normalise_sector
from trajectoire.species import emission_units_of, known_species, normalise_pollutant

log = logging.getLogger(__name__)

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
    others: Literal["raise", "drop"] = "raise",
    road_proxy: Any = None,
) -> xr.Dataset:
    """Build the canonical reference-year inventory on `grid` from any mix of inputs.

    Parameters
    ----------
    grid : Grid
        Run grid (projected, metres): a :class:`trajectoire.Grid`
        (``Grid.from_bounds(xmin, ymin, xmax, ymax, resolution)``), not its bounds.
    reference_year : int
        Year the inputs describe: a whole year of ``trajectoire._validate.DATA_YEARS``
        (1900 to 2100; a run's ``[run] reference_year`` is narrower, 1960 to now).
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
        Raise instead of warning for point sources outside the grid (a grid that holds none
        of the stacks is always an error).
    others : {"raise", "drop"}, default "raise"
        What to do with pollutants of the inputs that `pollutants` does not list: an error,
        or leave them out (logged). The run drops them: ``[run] pollutants`` selects among
        the inputs.
    road_proxy : path or GeoDataFrame, optional
        Road links used only as the ``roads`` and ``road_length`` proxies of `area_totals`,
        where `roads` is not given (their emissions are not added): an inventory of
        another year spreads its road totals along the run's network (an anchor of
        ``[[inputs.anchors]]`` without roads of its own).

    Returns
    -------
    xarray.Dataset
        The canonical inventory (``docs/data-model.md``), with a ``history`` line.

    Raises
    ------
    trajectoire.GridError
        `grid` is not a :class:`trajectoire.Grid` (its bounds as a tuple, for instance).
    trajectoire.InputError
        `reference_year` is not a whole year from 1900 to 2100 (``2019.5``, ``19``); no
        emission input (none of `point_sources`, `roads`, `area_totals`, `gridded`: the
        inventory would be zero); roads, or zones with totals, none of which lies on the
        grid (:func:`~trajectoire.inventory.proxies.grid_roads`,
        :func:`~trajectoire.inventory.allocate`: a wrong CRS label, a grid elsewhere).
        Any bad input (see the readers), sectors or pollutants outside the requested lists,
        duplicated source ids; stacks whose positions cannot be in their CRS (degrees read
        as metres, or the reverse); impossible or missing stack parameters
        (:func:`trajectoire.inventory.check_stacks`: height < 0 m, diameter <= 0 m, exit
        temperature < 223.15 K (-50 degC), exit velocity < 0 m s-1, NaN for some stacks: no
        default is filled in); every stack outside the grid (or any, with `strict`). Each
        message names the file, the source ids (the first 5, then a count), the column and
        the values.

    Warns
    -----
    trajectoire.TrajectoireWarning
        Part of the road network or of the zones outside the grid (the share left out).
        Stacks outside the grid, named with their coordinates (the first 10, then a count)
        and the emission they carry: they are left out of the inventory. A stack parameter
        missing for every stack (a column absent from the file): it stays NaN, no default is
        filled in (the stacks cannot be dispersed).
    """
    reference_year = _check_call(grid, reference_year, point_sources, roads, area_totals, gridded)
    parts: list[xr.DataArray] = []
    owned: list[bool] = []  # a part made here (its memory is given back as it is added)
    zones_gdf = read_zones(zones) if zones is not None else None
    roads_gdf = None
    if roads is not None:
        roads_gdf = read_roads(roads, emission_factors=road_emission_factors)
    proxy_roads = roads_gdf
    if proxy_roads is None and road_proxy is not None:
        proxy_roads = read_roads(road_proxy)
    lu = read_landuse(landuse) if landuse is not None else None
    if lu is not None and zones_gdf is not None:
        _check_landuse_coverage(lu, landuse_areas(lu, grid), zones_gdf, grid, landuse)
    if area_totals is not None:
        tab = read_area_totals(area_totals)  # named as read (its file, when it has one)
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
                landuse=lu,  # its pixels: split between the zones that share a cell
                roads=proxy_roads,
                reference_year=reference_year,
                what=_name(area_totals, "area totals"),
            )
        )
        owned.append(True)
    del lu  # only the allocation reads it
    if roads_gdf is not None:
        # the roads part comes first in the sum, but is made once the area part is: the
        # two are not held beside the allocation's own temporaries (prepare's peak at 100 m)
        parts.insert(0, grid_roads(roads_gdf, grid).expand_dims(sector=["F_RoadTransport"]))
        owned.insert(0, True)
    if gridded is not None:
        items = gridded if isinstance(gridded, list | tuple) else [gridded]
        for item in items:
            da = item if isinstance(item, xr.DataArray) else read_gridded(item)
            if "sector" not in da.dims or da.attrs.get("units") != "t yr-1":
                da = read_gridded(da)
            plan = Regridder(da, grid, extensive=True)
            _warn_partial_cover(plan, da)  # before: no overlap at all is said with its key
            parts.append(plan(da))
            owned.append(False)  # it may share memory with the caller's array
            _warn_left_out(da, parts[-1], grid)
    points = None
    if point_sources is not None:
        points = (
            point_sources
            if isinstance(point_sources, xr.Dataset)
            else read_point_sources(point_sources)
        )
        _check_positions_crs(points, grid)
        check_stacks(points, missing="warn")
        warn_doubtful_heights(points)
    given, points = points, None if points is None else _points_to_grid_crs(points, grid)
    # the pollutants taken from each gridded part (a selection would copy the grids)
    kept = [[str(p) for p in da["pollutant"].values] for da in parts]
    if pollutants is not None and others == "drop":
        kept, points = _keep_pollutants(parts, points, pollutants)
    if points is not None and given is not None:  # after the selection: what is kept
        points = _points_inside(points, given, grid, strict)
    # labels
    found_sec: list[str] = []
    found_pol: list[str] = []
    for da, names in zip(parts, kept, strict=True):
        if names:
            found_sec += [str(s) for s in da["sector"].values]
            found_pol += names
    if points is not None:
        found_sec += [str(s) for s in points["source_sector"].values]
        found_pol += [str(p) for p in points["pollutant"].values]
    if sectors is None:
        sec = list(GNFR)
    else:
        sec = [normalise_sector(s, what="sectors") for s in sectors]
        _require_subset(found_sec, sec, "sector")
    if pollutants is None:
        pol = [p for p in known_species() if p in set(found_pol)] or ["NOx"]
    else:
        pol = [normalise_pollutant(p, what="pollutants") for p in pollutants]
        _require_subset(found_pol, pol, "pollutant")
    em = np.zeros((len(sec), len(pol), grid.ny, grid.nx))
    # each part is dropped once added: at 100 m the area part alone is ~1.2 GB (float64).
    # A part made here gives each field's pages back once it is added (release_pages), so
    # that it shrinks as `em` grows: at 100 m prepare's peak was here, 3.07 GiB.
    parts.reverse()
    kept.reverse()
    owned.reverse()
    while parts:
        _add_part(em, parts.pop(), kept.pop(), sec, pol, release=owned.pop())
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


def _check_call(
    grid: Any,
    reference_year: Any,
    point_sources: Any,
    roads: Any,
    area_totals: Any,
    gridded: Any,
) -> int:
    """The mistakes of a call of :func:`build_inventory` said in one line each: a `grid`
    that is not a Grid (its bounds: ``'tuple' object has no attribute 'crs'``), a
    `reference_year` that is not a whole year of the run's range (``2019.5`` was kept as
    2019, ``19`` as year 19), no emission input (an inventory of zeros). The year, as int."""
    if not isinstance(grid, Grid):
        shown = repr(grid)
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        raise GridError(
            f"build_inventory: grid={shown} ({type(grid).__name__}); expected a "
            "trajectoire.Grid. Make one from the bounds: Grid.from_bounds(xmin, ymin, xmax, "
            "ymax, resolution, crs='EPSG:2154'), or Grid.around(territories, resolution)."
        )
    year = require_year(reference_year, "build_inventory: reference_year")
    if not DATA_YEARS[0] <= year <= DATA_YEARS[1]:
        raise InputError(
            f"build_inventory: reference_year={reference_year!r}: expected a year from "
            f"{DATA_YEARS[0]} to {DATA_YEARS[1]}, the four digits of the year the inputs "
            "describe (2019, not 19)."
        )
    given = {
        "point_sources": point_sources,
        "roads": roads,
        "area_totals": area_totals,
        "gridded": gridded,
    }
    if all(v is None for v in given.values()):
        raise InputError(
            "build_inventory: no emission input: the inventory would be 0 everywhere; "
            f"expected at least one of {', '.join(given)} (road_emission_factors, zones, "
            "proxies, landuse and road_proxy only say how these are read or spread)."
        )
    return year


LANDUSE_COVERAGE = 0.9
"""Share of the zones' area on the grid under a land-use class below which
:func:`build_inventory` warns that the land-use raster misses part of the zones."""


def _check_landuse_coverage(
    lu: xr.DataArray, areas: xr.DataArray, zones: Any, grid: Grid, source: Any
) -> None:
    """Warn when the land-use raster classifies less than :data:`LANDUSE_COVERAGE` of the
    zones' area on the grid (a raster of another extent, or of another CRS read as this
    one): the ``landuse:`` proxies see no land there, and the zones' totals fall back to
    their area (each zone then warned apart, without the cause)."""
    from trajectoire.geo.territories import zone_layer_fraction

    weight = zone_layer_fraction(zones, grid)
    total = float(weight.sum())
    if total <= 0.0:
        return
    classified = np.clip(np.asarray(areas.values).sum(axis=0) / grid.cell_area, 0.0, 1.0)
    share = float((weight * classified).sum() / total)
    if share >= LANDUSE_COVERAGE:
        return
    name = str(source) if isinstance(source, str | PathLike) else "landuse"
    xs, ys = np.asarray(lu["x"].values), np.asarray(lu["y"].values)
    x0, y0, x1, y1 = grid.bounds
    warn(
        f"{name} ([inputs] landuse): its classes cover {100 * share:.0f} % of the zones' area "
        f"on the grid (the raster spans x {xs.min():.0f} to {xs.max():.0f}, y {ys.min():.0f} "
        f"to {ys.max():.0f} in its CRS {lu.attrs.get('crs', '?')}; the grid x {x0:.0f} to "
        f"{x1:.0f}, y {y0:.0f} to {y1:.0f} in {grid.crs.to_string()}); expected a raster "
        "over the zones (90 % at least). The landuse: proxies see no land elsewhere, and "
        "those zones' totals are spread by area. Give a raster that covers the zones, or "
        "its CRS ([inputs.landuse] crs)."
    )


def _add_part(
    em: np.ndarray,
    da: xr.DataArray,
    names: Sequence[str],
    sec: Sequence[str],
    pol: Sequence[str],
    *,
    release: bool,
) -> None:
    """Add the fields of part `da` (pollutants `names`) into `em` ``(sector, pollutant, y,
    x)``; with `release`, each field's pages are given back once added (the part reads as 0
    there afterwards: only for a part made by :func:`build_inventory`, discarded after)."""
    for s in da["sector"].values:
        for p in names:
            field = da.sel(sector=s, pollutant=p).values
            # adding ±0 leaves `em` as it is, bit for bit: an empty field is skipped, so that
            # the pages of a (sector, pollutant) nothing emits are never mapped
            if field.any():
                em[sec.index(str(s)), pol.index(p)] += field
                if release:
                    release_pages(field)


def _keep_pollutants(
    parts: list[xr.DataArray], points: xr.Dataset | None, pollutants: Sequence[str]
) -> tuple[list[list[str]], xr.Dataset | None]:
    """The pollutants of each gridded part among `pollutants`, and the stacks restricted to
    them (the others logged). The parts are not selected: a list selection would copy their
    grids (1.6 GB for the area part at 100 m on the sample)."""
    wanted = {normalise_pollutant(p, what="pollutants") for p in pollutants}
    dropped: set[str] = set()
    kept: list[list[str]] = []
    for da in parts:
        have = [str(p) for p in da["pollutant"].values]
        dropped |= set(have) - wanted
        kept.append([p for p in have if p in wanted])
    if points is not None:
        have = [str(p) for p in points["pollutant"].values]
        dropped |= set(have) - wanted
        points = points.sel(pollutant=[p for p in have if p in wanted])
    if dropped:
        log.info(
            "build_inventory: pollutants %s of the inputs are not asked (pollutants=%s): left out",
            sorted(dropped),
            sorted(wanted),
        )
    return kept, points


def _require_subset(found: Iterable[str], allowed: Sequence[str], kind: str) -> None:
    extra = sorted(set(found) - set(allowed))
    if extra:
        raise InputError(
            f"build_inventory: the inputs contain {kind}(s) {extra} that are not in the "
            f"requested {kind}s {list(allowed)}. Add them to {kind}s= or drop them from the "
            "inputs."
        )


#: How many offending stacks an error names (then "and N more"), as in ``check_stacks``.
_ERROR_NAMES = 5
#: How many stacks left out of the grid a warning names (then "and N more").
_WARNING_NAMES = 10
#: The fix named by every message about a point-source file.
_CONFIG_KEY = "[inputs] point_sources"


def _point_file(points: xr.Dataset) -> str:
    return str(points.attrs.get("source_file", "point sources"))


#: Share of the run's grid a gridded inventory may leave uncovered without a warning.
UNCOVERED_TOLERANCE = 0.01


def _warn_partial_cover(plan: Regridder, da: xr.DataArray) -> None:
    """Warn where a gridded inventory covers less than the whole run grid: beyond its
    extent its sectors get nothing from it, silently (a file cut to a bbox smaller than
    the grid and its buffer, a national file of another country)."""
    target = plan.target
    covered = float(plan.covered_area(np.ones((plan.source.ny, plan.source.nx))).sum())
    share = covered / (target.size * abs(target.dx * target.dy))
    if share >= 1.0 - UNCOVERED_TOLERANCE:
        return
    name = da.attrs.get("source_file", "a gridded inventory")
    if covered <= 0.0:
        x0, y0, x1, y1 = plan.source.bounds
        raise InputError(
            f"{name}: does not overlap the run's grid at all (its cells span x {x0:.6g} to "
            f"{x1:.6g}, y {y0:.6g} to {y1:.6g} in {plan.source.crs.to_string()}; the grid "
            f"{tuple(round(b) for b in target.bounds)} in {target.crs.to_string()}). Check "
            "its CRS and extent ([inputs.gridded] crs), or leave it out of [inputs] gridded."
        )
    sectors = [str(s) for s in da["sector"].values]
    warn(
        f"{name}: covers {share:.0%} of the run's grid (bounds {tuple(round(b) for b in target.bounds)} "
        f"in {target.crs.to_string()}); beyond its extent its sectors {sectors} get no "
        "emission from it. Check its extent (a file or bbox cut smaller than the grid and its "
        "buffer), or give another input for the rest of the grid ([inputs] gridded, "
        "area_emissions)."
    )


#: Share of a gridded inventory's emission that may fall outside the run's grid unsaid
#: (the regridding's own round-off is about 1e-13).
LEFT_OUT_TOLERANCE = 1e-6


def _warn_left_out(da: xr.DataArray, on_grid: xr.DataArray, grid: Grid) -> None:
    """Warn where part of a gridded inventory's emission lies outside the run's grid: the
    regridding keeps what falls on the grid (a national or regional inventory larger than
    the domain), as the zones, roads and stacks outside it are said (issue 3: nothing
    dropped without a word)."""
    before = da.sum([d for d in da.dims if d != "pollutant"], skipna=True)
    after = on_grid.sum([d for d in on_grid.dims if d != "pollutant"], skipna=True)
    pols = [str(p) for p in before["pollutant"].values]
    b = np.asarray(before.values, dtype=float)
    a = np.asarray(after.sel(pollutant=pols).values, dtype=float)
    out = np.where(b > 0, 1.0 - a / np.where(b > 0, b, 1.0), 0.0)
    if not (out > LEFT_OUT_TOLERANCE).any():
        return
    i = int(np.argmax(out))
    name = da.attrs.get("source_file", "a gridded inventory")
    warn(
        f"{name}: {out[i]:.1%} of its {pols[i]} emission ({b[i] - a[i]:.6g} of {b[i]:.6g} "
        f"{da.attrs.get('units', 't yr-1')}) lies outside the run's grid (bounds "
        f"{tuple(round(v) for v in grid.bounds)} in {grid.crs.to_string()}) and is left out; "
        "expected of an inventory larger than the domain, else check its CRS and extent "
        "([inputs.gridded] crs)."
    )


def _check_positions_crs(points: xr.Dataset, grid: Grid) -> None:
    """Raise if the stack positions cannot be coordinates of the CRS they are read in.

    A stack whose projected coordinates (metres) fit in [-180, 180] x [-90, 90] is in degrees
    of longitude/latitude read as metres; geographic coordinates outside that range are metres
    read as degrees. Every such stack is named (the first 5, then a count).
    """
    if points.sizes["source"] == 0:
        return
    crs = as_crs(points.attrs.get("crs", grid.crs.to_string()))
    x = np.asarray(points["source_x"].values, dtype=float)
    y = np.asarray(points["source_y"].values, dtype=float)
    degrees = (np.abs(x) <= 180.0) & (np.abs(y) <= 90.0)
    bad = degrees if crs.is_projected else ~degrees
    if not bad.any():
        return
    ids = [str(s) for s in points["source"].values]
    idx = np.flatnonzero(bad)
    named = [f"{ids[i]} (x={x[i]:.6g}, y={y[i]:.6g})" for i in idx]
    epsg = crs.to_epsg()
    crs_name = f"EPSG:{epsg}" if epsg else crs.name
    name = _point_file(points)
    # read through the configuration (its messages name the input): the key to set
    key = _option_of(name, "crs", python="")
    if crs.is_projected:
        found = "look like degrees of longitude/latitude"
        fix = "name the columns 'lon' and 'lat' (read as EPSG:4326), or " + (
            f'set {key} = "EPSG:4326" (the CRS of its x/y columns)'
            if key
            else "read the file with read_point_sources(..., crs='EPSG:4326') (the CRS "
            "of its x/y columns)"
        )
    else:
        found = "are outside [-180, 180] x [-90, 90] and cannot be degrees"
        fix = (
            f"name the columns 'x' and 'y' and set {key} = \"EPSG:2154\" (their projected "
            "CRS; EPSG:2154 is also what leaving the key out gives), or fix the CRS of the file"
            if key
            else "name the columns 'x' and 'y' and give their projected CRS "
            "(read_point_sources(..., crs='EPSG:2154')), or fix the CRS of the file"
        )
    raise InputError(
        f"{name}: the positions of {idx.size} stack(s) of "
        f"{points.sizes['source']} {found}, but they are read in {crs_name} "
        f"({crs.axis_info[0].unit_name if crs.axis_info else 'unknown unit'}): source_id "
        f"{rows_preview(named, _ERROR_NAMES)}. Expected coordinates of {crs_name}: {fix}"
        + ("." if key else f"; the file is set by {_CONFIG_KEY}.")
    )


def _points_inside(points: xr.Dataset, given: xr.Dataset, grid: Grid, strict: bool) -> xr.Dataset:
    """The stacks of `points` (in the grid CRS) inside `grid`; warn naming the others.

    `given` holds the same stacks with the positions as read (for the messages). Raise when
    `strict`, or when every stack is outside the grid.
    """
    _, _, inside = grid.cell_index(points["source_x"].values, points["source_y"].values)
    if inside.all():
        return points
    out = np.flatnonzero(~inside)
    ids = [str(s) for s in points["source"].values]
    gx = np.asarray(given["source_x"].values, dtype=float)
    gy = np.asarray(given["source_y"].values, dtype=float)
    named = [f"{ids[i]} (x={gx[i]:.10g}, y={gy[i]:.10g})" for i in out]
    crs = as_crs(given.attrs.get("crs", grid.crs.to_string()))
    epsg = crs.to_epsg()
    in_crs = f" in {f'EPSG:{epsg}' if epsg else crs.name}"
    lost = points["point_emission"].isel(source=out).sum("source")
    # each pollutant in its own units; none when the stacks carry none of the run's
    # pollutants (a run of UFP alone, stacks of masses): it said "they carry  t yr-1"
    detail = ", ".join(
        f"{p} {float(v):.6g} {emission_units_of(str(p))}"
        for p, v in zip(lost.pollutant.values, lost.values, strict=True)
    )
    carry = f"they carry {detail}" if detail else "they carry none of the run's pollutants"
    bounds = ", ".join(f"{b:.10g}" for b in grid.bounds)
    rule = f"outside the grid (bounds ({bounds}) in {grid.crs.to_string()})"
    leave_out = inside.any() and not strict
    msg = (
        f"{_point_file(points)}: {out.size} point source(s) of {inside.size} lie outside the "
        f"grid: source_id {rows_preview(named, _WARNING_NAMES if leave_out else _ERROR_NAMES)}"
        f"{in_crs}; {carry}. "
    )
    if leave_out:
        warn(
            msg + f"Rule applied: left out of the run: {rule}. Enlarge the grid ([grid] "
            f"buffer, Grid.around with a larger buffer) to keep them, or check their "
            f"coordinates in the file set by {_CONFIG_KEY}."
        )
        return points.isel(source=np.flatnonzero(inside))
    every = " (every stack of the file)" if not inside.any() else ""
    raise InputError(
        msg + f"Rule: a stack {rule} cannot be used{every}. Enlarge the grid (Grid.around with "
        f"a larger buffer, [grid] buffer) or drop them; check their coordinates and CRS in the "
        f"file set by {_CONFIG_KEY}."
    )


def _points_to_grid_crs(points: xr.Dataset, grid: Grid) -> xr.Dataset:
    """`points` with positions in the grid CRS (unchanged when they are in it already).

    Reprojected positions are rounded to a power-of-two lattice far below the cell size
    (:func:`_position_quantum`), so that a stack given in another CRS lands where the same
    stack given in the grid CRS does: reprojection round-off (~1e-9 m) would otherwise move a
    stack on a cell edge (round coordinates) into the neighbouring cell.
    """
    import pyproj

    src = as_crs(points.attrs.get("crs", grid.crs.to_string()))
    if src == grid.crs or points.sizes["source"] == 0:
        return points
    tr = pyproj.Transformer.from_crs(src, grid.crs, always_xy=True)
    x, y = tr.transform(points["source_x"].values, points["source_y"].values)
    q = _position_quantum(grid)
    out = points.copy()
    out["source_x"] = ("source", np.round(np.asarray(x, dtype=float) / q) * q)
    out["source_y"] = ("source", np.round(np.asarray(y, dtype=float) / q) * q)
    out.attrs["crs"] = grid.crs.to_string()
    return out


def _position_quantum(grid: Grid) -> float:
    """A power of two about 2**-30 of the cell size [grid CRS units] (1.2e-7 m for 200 m).

    Whole and half coordinates are multiples of it, so they survive a reprojection round
    trip exactly; its half is far above the round-off of a reprojection (~1e-9 m).
    """
    return float(2.0 ** (math.floor(math.log2(min(grid.dx, grid.dy))) - 30))
