"""Local concentration of one year: gridded emissions by FFT convolution, stacks by footprints.

The local concentration is the part of the concentration that the modelled sources make; the
regional background is added to it at output (:mod:`trajectoire.io.outputs`). It is linear in
the emissions, so

* the sectors of one kernel class (release height, initial sigma_z) are summed before the
  forward transform (one transform per class, one inverse in all, :func:`local_concentration`), which equals
  one convolution per sector to round-off;
* when the contribution of each sector is wanted as a map, each sector is convolved alone
  and the total is their sum (:func:`sector_concentrations`), so that the contributions add
  up to the total exactly;
* a stack adds ``q × footprint`` on the window of its footprint
  (:func:`trajectoire.dispersion.stack_footprints`), with ``q`` its emission of the year.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import xarray as xr

from trajectoire.dispersion.concentration import (
    DispersionSettings,
    YearDispersion,
    stack_footprint_sets,
)
from trajectoire.dispersion.points import AnnualStacks
from trajectoire.dispersion.receptors import Footprint
from trajectoire.errors import InputError
from trajectoire.geo.grid import Grid
from trajectoire.inventory.schema import POINT_SOURCE_VARIABLES

__all__ = [
    "Stacks",
    "add_stacks",
    "emitting_stacks",
    "local_concentration",
    "locate_stacks",
    "sector_concentrations",
    "stack_emission",
    "year_stacks",
]


@dataclass
class Stacks:
    """The stacks of a run in one year's meteorology.

    Attributes
    ----------
    footprints : list of (slice, slice, numpy.ndarray)
        Annual footprint of each stack [ug m-3 per t yr-1] on its window of the grid.
    sector : list of int
        Index of each stack's sector in the run's sector list.
    origin : list of int
        Index of each stack's territory of origin in the run's origin list.
    """

    footprints: list[Footprint]
    sector: list[int]
    origin: list[int]

    def __len__(self) -> int:
        return len(self.footprints)


def locate_stacks(
    inventory: xr.Dataset,
    grid: Grid,
    fractions: np.ndarray,
    origins: Sequence[str],
    *,
    territories: Any = None,
) -> xr.Dataset | None:
    """The stacks of an inventory that lie on the grid, with their cell and origin.

    Parameters
    ----------
    inventory : xarray.Dataset
        An inventory with a ``source`` dim (:func:`trajectoire.inventory.build_inventory`).
    grid : Grid
        The run's grid.
    fractions : numpy.ndarray
        ``(origin, ny, nx)`` share of each cell in each origin [1].
    origins : sequence of str
        Origin ids (territories and "rest").
    territories : geopandas.GeoDataFrame, optional
        The territories' polygons (a ``territory`` column holding the ids of `origins`,
        any CRS): a stack's origin is then the territory its point lies in, "rest" when it
        lies in none (on a border shared by two, the one holding the larger share of the
        cell). Without them, the origin holding the largest share of the stack's cell,
        which credits a stack near a border to its neighbour when the neighbour holds
        more of the cell (what the run did before 2026-12-06).

    Returns
    -------
    xarray.Dataset or None
        Positions, sector and stack parameters of the stacks inside the grid, plus ``row``,
        ``col`` and ``origin``; None when the inventory has no stack.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> x0, y0 = 700_000.0, 7_000_000.0  # Lambert-93 [m]
    >>> grid = Grid.from_bounds(x0, y0, x0 + 2000.0, y0 + 1000.0, 1000.0, crs="EPSG:2154")
    >>> t = gpd.GeoDataFrame(  # A holds the first 700 m, B the rest
    ...     {"territory": ["A", "B"]},
    ...     geometry=[shapely.box(x0, y0, x0 + 700, y0 + 1000),
    ...               shapely.box(x0 + 700, y0, x0 + 2000, y0 + 1000)],
    ...     crs="EPSG:2154",
    ... )
    >>> from trajectoire.geo.territories import territory_fractions
    >>> f = territory_fractions(t, grid).values
    >>> inv = xr.Dataset({v: ("source", [10.0]) for v in POINT_SOURCE_VARIABLES})
    >>> inv = inv.assign(source_x=("source", [x0 + 800.0]), source_y=("source", [y0 + 500.0]))
    >>> str(locate_stacks(inv, grid, f, ["A", "B", "rest"])["origin"].item())  # cell 70 % A
    'A'
    >>> str(locate_stacks(inv, grid, f, ["A", "B", "rest"], territories=t)["origin"].item())
    'B'
    """
    if "source" not in inventory.dims or inventory.sizes["source"] == 0:
        return None
    pts = inventory[list(POINT_SOURCE_VARIABLES)].load()
    row, col, inside = grid.cell_index(pts["source_x"].values, pts["source_y"].values)
    pts = pts.isel(source=np.flatnonzero(inside))
    row, col = row[inside], col[inside]
    share = np.asarray(fractions)[:, row, col]  # (origin, stack)
    if territories is not None:
        share = _point_shares(pts, grid, territories, origins, share)
    origin = np.argmax(share, axis=0)
    return pts.assign(
        origin=("source", np.asarray(origins)[origin]), row=("source", row), col=("source", col)
    )


def _point_shares(
    pts: xr.Dataset, grid: Grid, territories: Any, origins: Sequence[str], share: np.ndarray
) -> np.ndarray:
    """`share` (origin, stack) kept only for the territories whose polygon covers each
    stack's point (all of them on a shared border), "rest" alone (1) where none does."""
    import shapely

    from trajectoire.geo.grid import to_crs

    ids = [str(i) for i in territories["territory"]]
    shapes = to_crs(territories, grid.crs, what="territories").values
    points = shapely.points(pts["source_x"].values, pts["source_y"].values)
    covers = np.zeros_like(share, dtype=bool)
    for geom, tid in zip(shapes, ids, strict=True):
        if tid in origins:  # a territory of the file the run did not ask is no origin
            covers[list(origins).index(tid)] |= shapely.covers(geom, points)
    covers[-1] = ~covers[:-1].any(axis=0)  # in no territory: the rest of the grid
    # the share breaks a tie on a border; a covering territory with no area in the cell
    # (a point on the cell's edge) still wins over those that do not cover the point
    return np.where(covers, share + 1.0, 0.0)


def year_stacks(
    points: xr.Dataset | None,
    met_year: xr.Dataset,
    grid: Grid,
    settings: DispersionSettings,
    sectors: Sequence[str],
    origins: Sequence[str],
    *,
    decay_rate: float = 0.0,
    deposition_velocity: float = 0.0,
    active: npt.ArrayLike | None = None,
) -> Stacks:
    """Footprints of the run's stacks in one year's meteorology.

    Parameters
    ----------
    points : xarray.Dataset or None
        The stacks (``source`` dim): ``source_x``, ``source_y`` [m], ``source_sector``,
        ``origin``, and the stack parameters of
        :data:`trajectoire.inventory.schema.STACK_VARIABLES`. None: no stack.
    met_year : xarray.Dataset
        One year of :func:`trajectoire.meteo.met_classes`.
    grid : Grid
        The run's grid.
    settings : DispersionSettings
        Radius, receptor height and sigma scheme.
    sectors, origins : sequence of str
        The run's sectors and origins (territories and "rest").
    decay_rate : float, default 0
        First-order loss rate [s-1] of the pollutants these footprints serve.
    deposition_velocity : float, default 0
        Dry deposition velocity [m s-1] of those pollutants (source depletion, see
        :func:`trajectoire.dispersion.stack_footprints`); 0 gives the footprints without
        deposition bit for bit.
    active : array of bool ``(stack,)``, optional
        The stacks whose footprints are needed (default: all). An inactive stack gets an
        empty footprint (a window of no cell): the run passes the stacks that emit none of
        the pollutants these footprints serve, which add nothing anywhere.

    Returns
    -------
    Stacks
    """
    request = StackSet(met_year, decay_rate, deposition_velocity, active)
    return year_stack_sets(points, grid, settings, sectors, origins, [request])[0]


@dataclass(frozen=True)
class StackSet:
    """One set of footprints :func:`year_stack_sets` computes (the arguments of
    :func:`year_stacks` that differ between the kernel sets of a year).

    Attributes
    ----------
    met_year : xarray.Dataset
        One year of :func:`trajectoire.meteo.met_classes` (or a species' seasonal table).
    decay_rate : float, default 0
        First-order loss rate [s-1] of the pollutants these footprints serve.
    deposition_velocity : float, default 0
        Dry deposition velocity [m s-1] of those pollutants.
    active : array of bool ``(stack,)``, optional
        The stacks whose footprints are needed (default: all); the others get empty ones.
    """

    met_year: xr.Dataset
    decay_rate: float = 0.0
    deposition_velocity: float = 0.0
    active: npt.ArrayLike | None = None


def year_stack_sets(
    points: xr.Dataset | None,
    grid: Grid,
    settings: DispersionSettings,
    sectors: Sequence[str],
    origins: Sequence[str],
    sets: Sequence[StackSet],
) -> list[Stacks]:
    """:func:`year_stacks` of several sets (e.g. the kernel sets of a year) together.

    The footprints of every set are computed in one call
    (:func:`trajectoire.dispersion.concentration.stack_footprint_sets`), which computes the
    geometry of each cell once for all of them; each set's :class:`Stacks` is bit for bit
    what :func:`year_stacks` gives it alone.

    Parameters
    ----------
    points, grid, settings, sectors, origins
        As :func:`year_stacks`.
    sets : sequence of StackSet
        The sets: each one's meteorology, loss and active stacks.

    Returns
    -------
    list of Stacks
        One per set, in the order of `sets`.
    """
    if points is None:
        return [Stacks([], [], []) for _ in sets]
    n = points.sizes["source"]
    chosen = []
    for req in sets:
        on = np.ones(n, dtype=bool) if req.active is None else np.asarray(req.active, dtype=bool)
        if on.shape != (n,):
            raise InputError(f"year_stacks: active has shape {on.shape}; expected ({n},).")
        chosen.append(np.flatnonzero(on))
    wanted = [(i, sel) for i, sel in enumerate(chosen) if sel.size]
    computed = stack_footprint_sets(
        [(sets[i].met_year, _stack_keywords(points, sel, settings, sets[i])) for i, sel in wanted],
        grid=grid,
        radius=settings.radius,
    )
    sector = [list(sectors).index(str(v)) for v in points["source_sector"].values]
    origin = [list(origins).index(str(v)) for v in points["origin"].values]
    empty: Footprint = (slice(0, 0), slice(0, 0), np.zeros((0, 0)))
    out = []
    by_set = dict(zip([i for i, _ in wanted], computed, strict=True))
    for i, sel in enumerate(chosen):
        footprints = [empty] * n
        for s, fp in zip(sel, by_set.get(i, []), strict=True):
            footprints[s] = fp
        out.append(Stacks(footprints, sector, origin))
    return out


def _stack_keywords(
    points: xr.Dataset, sel: np.ndarray, settings: DispersionSettings, req: StackSet
) -> AnnualStacks:
    """The keywords of :func:`stack_footprints` for the stacks `sel` of `points`."""
    return {
        "x": points["source_x"].values[sel],
        "y": points["source_y"].values[sel],
        "stack_height": points["stack_height"].values[sel],
        "stack_diameter": points["stack_diameter"].values[sel],
        "exit_temperature": points["exit_temperature"].values[sel],
        "exit_velocity": points["exit_velocity"].values[sel],
        "receptor_height": settings.receptor_height,
        "sigma": settings.sigma,
        "decay_rate": req.decay_rate,
        "deposition_velocity": req.deposition_velocity,
        "sector_smoothing": settings.sector_shape,
    }


def stack_emission(point_emission: xr.DataArray | None, year: int, pollutant: str) -> np.ndarray:
    """Emission of each stack in `year` [t yr-1], 0 for the stacks out of service (NaN)."""
    if point_emission is None:
        return np.zeros(0)
    q = np.asarray(point_emission.sel(year=year, pollutant=pollutant).values, dtype=float)
    return np.nan_to_num(q, nan=0.0)


def local_concentration(
    disp: YearDispersion,
    emission: np.ndarray,
    stack_emission: np.ndarray,
    stacks: Stacks,
    sectors: Sequence[str],
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """Local concentration [ug m-3] of gridded emissions and stacks, float64.

    Sectors are grouped by kernel class (release height, initial sigma_z) before the forward
    transforms (one per class, one inverse in all): linearity makes this equal to one convolution per sector.

    Parameters
    ----------
    disp : YearDispersion
        The year's kernels.
    emission : numpy.ndarray
        ``(sector, ny, nx)`` emission of one pollutant [t yr-1].
    stack_emission : numpy.ndarray
        ``(stack,)`` emission of each stack [t yr-1] (:func:`stack_emission`).
    stacks : Stacks
        The year's stack footprints.
    sectors : sequence of str
        Sector of each plane of `emission` (released at the height the settings of
        `disp` give it).
    weights : numpy.ndarray, optional
        ``(sector,)`` factors of the gridded emission, as for
        :meth:`~trajectoire.dispersion.YearDispersion.total` (`stack_emission` is taken as
        given).

    Returns
    -------
    numpy.ndarray
        ``(ny, nx)`` [ug m-3].
    """
    local = disp.total(emission, sectors, weights)
    add_stacks(local[None], stack_emission, stacks, by_sector=False)
    return local


def sector_concentrations(
    disp: YearDispersion,
    emission: np.ndarray,
    stack_emission: np.ndarray,
    stacks: Stacks,
    sectors: Sequence[str],
    out: np.ndarray | None = None,
    *,
    each: Callable[[int, np.ndarray], None] | None = None,
) -> tuple[np.ndarray | None, np.ndarray]:
    """Local concentration of each sector [ug m-3] and their sum, float64.

    Each sector's gridded emission is convolved alone (at its release height) and its stacks
    are added on their windows; the total is the sum over sectors, so the contributions add
    up to it exactly.

    Parameters
    ----------
    disp, emission, stack_emission, stacks, sectors
        As for :func:`local_concentration`.
    out : numpy.ndarray, optional
        ``(sector, ny, nx)`` float64 array to fill (reused between pollutants to save
        memory); a new one by default.
    each : callable, optional
        ``each(i, plane)`` receives each sector's ``(ny, nx)`` float64 field in turn, in one
        reused plane, instead of a ``(sector, ny, nx)`` array being kept (`out` is then not
        used): the same values and the same total, bit for bit, without the sector-sized
        float64 array (0.28 GB at 100 m on the sample).

    Returns
    -------
    by_sector : numpy.ndarray or None
        ``(sector, ny, nx)`` [ug m-3] (`out` when given); None with `each`.
    total : numpy.ndarray
        ``(ny, nx)`` [ug m-3].
    """
    if each is None:
        by_sector = disp.by_sector(emission, sectors, out=out)
        add_stacks(by_sector, stack_emission, stacks, by_sector=True)
        return by_sector, by_sector.sum(axis=0)
    # the same operations one sector at a time: each stack is added to its sector's plane
    # in stack order, and the planes are summed in sector order, as by_sector.sum(axis=0)
    # does (a reduction over the leading axis adds whole planes in turn)
    total = np.zeros(emission.shape[1:])
    plane = np.empty(emission.shape[1:])
    for i, sector in enumerate(sectors):
        if emission[i].any():
            plane[...] = disp.convolve(emission[i], disp.settings.class_of(sector))
        else:
            plane[...] = 0.0
        for k, (rs, cs, fp) in enumerate(stacks.footprints):
            if stacks.sector[k] == i and stack_emission[k] > 0:
                plane[rs, cs] += stack_emission[k] * fp
        if i == 0:
            total[...] = plane
        else:
            total += plane
        each(i, plane)
    return None, total


def add_stacks(
    fields: np.ndarray, stack_emission: np.ndarray, stacks: Stacks, *, by_sector: bool
) -> None:
    """Add ``q × footprint`` of every emitting stack to `fields`, in place.

    Parameters
    ----------
    fields : numpy.ndarray
        ``(sector, ny, nx)`` when `by_sector` (each stack goes to its sector's plane), else
        ``(1, ny, nx)`` [ug m-3].
    stack_emission : numpy.ndarray
        ``(stack,)`` [t yr-1].
    stacks : Stacks
        Footprints and sectors.
    by_sector : bool
        Whether `fields` has one plane per sector.
    """
    for k, (rs, cs, fp) in enumerate(stacks.footprints):
        if stack_emission[k] > 0:
            fields[stacks.sector[k] if by_sector else 0, rs, cs] += stack_emission[k] * fp


def emitting_stacks(
    point_emission: xr.DataArray | None, pollutants: Sequence[str]
) -> np.ndarray | None:
    """Which stacks emit each pollutant in some year: ``(pollutant, stack)`` bool (None
    without stacks); NaN (out of service) counts as no emission."""
    if point_emission is None:
        return None
    q = point_emission.sel(pollutant=list(pollutants)).transpose("pollutant", "source", "year")
    return np.asarray((np.nan_to_num(q.values, nan=0.0) != 0).any(axis=-1), dtype=bool)
