"""Source attribution: who contributes to what people breathe, and why it changed.

trajectoire's dispersion is linear in the emissions, so the contribution of a group of
sources (a sector, a territory of origin) is the concentration its emissions alone produce,
and the contributions plus the background add up to the total to round-off
(*tagging* = *brute force* = *local fractions* for a linear model; Thunis et al., 2019,
Environment International 130, 104825, doi:10.1016/j.envint.2019.05.019). Receptor aggregates (territory
means, population-weighted means, station points) are computed with the adjoint of the
dispersion (see :mod:`trajectoire._kernels.aggregate`): no extra dispersion run per source
group.

The change between two years is split exactly into the effects of emissions, meteorology and
background with **Shapley values** (Shapley, 1953): for a factor set N,
``φ_i = Σ_{S ⊆ N∖{i}} |S|! (n−|S|−1)!/n! [v(S ∪ {i}) − v(S)]``, where ``v(S)`` is the
concentration with the factors of S at their final-year state and the others at their
initial state. The effects add up to the change exactly (efficiency) and do not depend on an
order of substitution. Shapley is preferred to LMDI here because it needs no logarithms
(zero emissions of a closed plant are fine) and, for the linear-in-emissions model, it is the
symmetric average of the two possible substitution orders. See ``docs/attribution.md``.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import xarray as xr

from trajectoire._kernels.aggregate import (
    aggregate_by_origin,
    aggregate_stack_by_origin,
    shared_cells,
)
from trajectoire._validate import (
    did_you_mean,
    first_true,
    is_integer_number,
    require_year,
    rows_preview,
    year_ranges,
)
from trajectoire.dispersion.background import RegionalBackground
from trajectoire.dispersion.concentration import KernelClass, YearDispersion
from trajectoire.dispersion.local import Stacks
from trajectoire.dispersion.receptors import Receptor, receptor_means, window_dot
from trajectoire.errors import InputError, MissingVariableError
from trajectoire.species import normalise_pollutant

__all__ = [
    "Origins",
    "ReceptorSums",
    "aggregate_by_origin_stack",
    "aggregate_by_origin_window",
    "background_of_year",
    "decompose_change",
    "footprint",
    "no2_territory_sums",
    "origin_layers",
    "shapley_values",
    "source_receptor_matrix",
    "territory_background",
    "window_sums",
]


def origin_layers(
    fractions: npt.ArrayLike, *, max_overlap: int = 4
) -> tuple[np.ndarray, np.ndarray]:
    """Compress ``(n_origin, ny, nx)`` cell fractions into per-cell origin lists.

    Parameters
    ----------
    fractions : array_like
        Share of each cell belonging to each origin (territories and "rest"), summing to 1
        (checked by :meth:`Origins.from_fractions`; here each share in [0, 1]).
    max_overlap : int, default 4
        Largest number of origins sharing one cell.

    Returns
    -------
    index : numpy.ndarray of int64, (k, ny, nx)
        Origin indices per cell, -1 where unused.
    fraction : numpy.ndarray of float64, (k, ny, nx)
        Matching fractions.

    Raises
    ------
    trajectoire.InputError
        `fractions` is not 3-D, holds a NaN, a negative share or one above 1, or more than
        `max_overlap` origins share a cell (one line each, with the first value at fault).
    """
    f = np.asarray(fractions, dtype=float)
    if f.ndim != 3:
        raise InputError(f"origin_layers: expected (origin, y, x) fractions, got shape {f.shape}.")
    _check_fractions(f)
    present = f > 0
    count = present.sum(axis=0)
    k = int(max(1, count.max()))
    if k > max_overlap:
        raise InputError(f"origin_layers: {k} origins overlap in one cell (max {max_overlap}).")
    order = _present_first(present, count, k)
    frac = np.take_along_axis(f, order, axis=0)
    index = np.where(frac > 0, order, -1).astype(np.int64)
    return index, np.where(index >= 0, frac, 0.0)


#: how far the origin shares of a cell may sum from 1 (round-off of the polygon areas)
_FRACTION_SUM_TOLERANCE = 1e-6


def _check_fractions(f: np.ndarray, *, sums: bool = False) -> None:
    """InputError when a share of `f` ``(origin, y, x)`` is NaN, negative or above 1, or
    (with `sums`) the shares of a cell with an origin do not sum to 1 (a pass over `f` for
    its minimum, one for its maximum, one for the sum)."""
    if f.size == 0:
        return
    low, high = f.min(), f.max()
    if not (low >= 0.0 and high <= 1.0 + _FRACTION_SUM_TOLERANCE):  # NaN too
        bad = ~((f >= 0.0) & (f <= 1.0 + _FRACTION_SUM_TOLERANCE))
        o, r, c = first_true(bad)
        raise InputError(
            f"origin_layers: fractions[{o}, {r}, {c}] = {float(f[o, r, c])}; expected shares of "
            f"the cell in [0, 1] (no NaN), {int(bad.sum())} value(s) at fault. Fill missing "
            "shares with 0."
        )
    if not sums:
        return
    total = f.sum(axis=0)
    off = (total != 0.0) & (np.abs(total - 1.0) > _FRACTION_SUM_TOLERANCE)
    if off.any():
        r, c = first_true(off)
        raise InputError(
            f"Origins.from_fractions: the shares of cell ({r}, {c}) sum to "
            f"{float(total[r, c]):.6g} ({int(off.sum())} cell(s) off); expected the origins' "
            'shares of a cell to sum to 1 (add a "rest" origin, or divide by the sum).'
        )


def _present_first(present: np.ndarray, count: np.ndarray, k: int) -> np.ndarray:
    """The first `k` rows of ``np.argsort(~present, axis=0, kind="stable")``, the same
    integers, without sorting: in each cell the origins present (in their order), then the
    others; origin ``o`` goes to slot ``(number of present origins before it)`` when present,
    else ``count + (number of absent origins before it)``. `count` is the number present."""
    small: npt.DTypeLike = np.int16 if present.shape[0] < 2**15 else np.int64
    before = np.cumsum(present, axis=0, dtype=small) - present
    origin = np.arange(present.shape[0], dtype=small)[:, None, None]
    slot = np.where(present, before, count.astype(small) + origin - before)
    order = np.empty((k, *present.shape[1:]), dtype=np.intp)
    for o in range(present.shape[0]):
        for p in range(k):
            order[p][slot[o] == p] = o
    return order


def aggregate_by_origin_window(
    adjoint: np.ndarray,
    emission: np.ndarray,
    height_of_sector: npt.ArrayLike,
    origin_index: np.ndarray,
    origin_fraction: np.ndarray,
    n_origin: int,
) -> np.ndarray:
    """Source-receptor sums ``Σ_c A[h(s), c] E[s, c] F[o, c]`` for receptor aggregates.

    Parameters
    ----------
    adjoint : numpy.ndarray (n_height, ny, nx) or (n_weighting, n_height, ny, nx)
        Adjoint field(s) of the receptor aggregate(s) per release-height class, on one window.
    emission : numpy.ndarray (n_sector, ny, nx)
        Emission per cell [t yr-1] (same window), float32 or float64; a strided view of a
        larger grid is used without copying.
    height_of_sector : array_like of int (n_sector,)
        Release-height class of each sector.
    origin_index, origin_fraction : numpy.ndarray (k, ny, nx)
        From :func:`origin_layers` (same window).
    n_origin : int
        Number of origins.

    Returns
    -------
    numpy.ndarray (n_sector, n_origin) or (n_weighting, n_sector, n_origin)
        Contribution of each sector and origin to each receptor aggregate.

    See Also
    --------
    aggregate_by_origin_stack : every pollutant of an emission stack in one pass (faster).
    """
    a = np.asarray(adjoint, dtype=np.float64)
    single = a.ndim == 3
    if single:
        a = a[None]
    out = np.zeros((a.shape[0], emission.shape[0], n_origin))
    e = np.asarray(emission)
    if e.dtype not in (np.float32, np.float64):
        e = e.astype(np.float64)
    aggregate_by_origin(
        np.ascontiguousarray(a),
        e,
        np.asarray(height_of_sector, dtype=np.int64),
        np.asarray(origin_index, dtype=np.int64),
        np.asarray(origin_fraction, dtype=np.float64),
        out,
    )
    return out[0] if single else out


def aggregate_by_origin_stack(
    adjoint: npt.ArrayLike,
    emission: np.ndarray,
    height_of_sector: npt.ArrayLike,
    origin_index: np.ndarray,
    origin_fraction: np.ndarray,
    n_origin: int,
    *,
    rows: slice | None = None,
    cols: slice | None = None,
    pollutants: npt.ArrayLike | None = None,
    sectors: npt.ArrayLike | None = None,
    shared: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Source-receptor sums of every sector and pollutant of an emission stack on one window.

    ``out[..., s, o, p] = Σ_c A[..., h(s), c] E[s, p, c] F[o, c]`` over the cells ``c`` of the
    window: :func:`aggregate_by_origin_window` for all pollutants in one pass, with the
    emission and the origin layers given on the whole grid (no window copies).

    Parameters
    ----------
    adjoint : array_like (n_height, wy, wx) or (n_weighting, n_height, wy, wx)
        Adjoint field(s) of the receptor aggregate(s) per release-height class, on the window
        [ug m-3 per (t yr-1)].
    emission : numpy.ndarray (n_sector, n_pollutant, ny, nx)
        Emission per cell on the grid [t yr-1], float32 or float64. A C-contiguous array is
        used without copying and is the fast case; other layouts work, more slowly.
    height_of_sector : array_like of int (n_sector,)
        Release-height class of each sector.
    origin_index, origin_fraction : numpy.ndarray (k, ny, nx)
        From :func:`origin_layers`, on the grid.
    n_origin : int
        Number of origins.
    rows, cols : slice, optional
        The window in the grid (step 1; default: the whole grid). Its shape must be the
        adjoint's ``(wy, wx)``.
    pollutants : array_like of int, optional
        Pollutant planes of `emission` to aggregate, in the order of the result (default:
        all).
    sectors : array_like of int, optional
        The sectors whose planes may hold a non-zero value (default: all). The others are
        not read and their sums are +0, which is what they sum to, bit for bit, when their
        planes are ±0 in every cell of the window (the run gives the sectors that emit the
        pollutant in some year: the others' planes are ±0 everywhere).
    shared : tuple of two numpy.ndarray, optional
        Where the layers after the first of `origin_index` hold an origin
        (:func:`trajectoire._kernels.aggregate.shared_cells` of `origin_index`; found here
        when not given). Give it, or use :func:`window_sums` with an :class:`Origins`, when
        summing many windows of one grid.

    Returns
    -------
    numpy.ndarray (n_sector, n_origin, n_pollutant) or (n_weighting, n_sector, n_origin, n_pollutant)
        Contribution of each sector, origin and pollutant to each receptor aggregate, float64.

    Raises
    ------
    trajectoire.InputError
        Shapes that do not match, a window outside the grid or with a step.

    Notes
    -----
    Sums are accumulated in float64 and do not depend on the number of threads
    (:func:`trajectoire._kernels.aggregate.aggregate_stack_by_origin`). Summed over origins
    the result is the plain adjoint product ``Σ_c A[h(s), c] E[s, p, c]`` wherever the
    fractions of a cell add up to 1.

    Examples
    --------
    >>> a = np.ones((1, 2, 3))  # one height class, a 2 x 3 window
    >>> e = np.ones((1, 2, 4, 5))  # one sector, two pollutants, a 4 x 5 grid
    >>> e[0, 1] *= 2.0
    >>> idx, frac = origin_layers(np.ones((1, 4, 5)))
    >>> aggregate_by_origin_stack(a, e, [0], idx, frac, 1, rows=slice(1, 3), cols=slice(0, 3))
    array([[[ 6., 12.]]])
    """
    a = np.asarray(adjoint, dtype=np.float64)
    single = a.ndim == 3
    if single:
        a = a[None]
    e = np.asarray(emission)
    if e.dtype not in (np.float32, np.float64):
        e = e.astype(np.float64)
    oidx = np.asarray(origin_index, dtype=np.int64)
    ofrac = np.asarray(origin_fraction, dtype=np.float64)
    if a.ndim != 4 or e.ndim != 4:
        raise InputError(
            "aggregate_by_origin_stack: expected adjoint (n_weighting, n_height, wy, wx) and "
            f"emission (sector, pollutant, y, x), got shapes {np.shape(adjoint)} and {e.shape}."
        )
    ny, nx = e.shape[-2:]
    if oidx.shape != ofrac.shape or oidx.ndim != 3 or oidx.shape[1:] != (ny, nx):
        raise InputError(
            f"aggregate_by_origin_stack: origin layers {oidx.shape} and {ofrac.shape} must be "
            f"(k, {ny}, {nx}) like the emission grid."
        )
    r0, r1, rstep = (rows or slice(None)).indices(ny)
    c0, c1, cstep = (cols or slice(None)).indices(nx)
    if rstep != 1 or cstep != 1 or (r1 - r0, c1 - c0) != a.shape[-2:]:
        raise InputError(
            f"aggregate_by_origin_stack: window rows {r0}:{r1}:{rstep}, cols {c0}:{c1}:{cstep} "
            f"of the {ny} x {nx} grid does not match the adjoint's {a.shape[-2:]} (step 1)."
        )
    h = np.asarray(height_of_sector, dtype=np.int64)
    if h.shape != (e.shape[0],) or (h.size and not 0 <= h.min() <= h.max() < a.shape[1]):
        raise InputError(
            f"aggregate_by_origin_stack: height_of_sector {h.tolist()} must give one class in "
            f"0..{a.shape[1] - 1} for each of the {e.shape[0]} sectors."
        )
    pol = (
        np.arange(e.shape[1], dtype=np.int64)
        if pollutants is None
        else np.asarray(pollutants, dtype=np.int64).reshape(-1)
    )
    if pol.size and not 0 <= pol.min() <= pol.max() < e.shape[1]:
        raise InputError(
            f"aggregate_by_origin_stack: pollutants {pol.tolist()} outside 0..{e.shape[1] - 1}."
        )
    sec = (
        np.arange(e.shape[0], dtype=np.int64)
        if sectors is None
        else np.unique(np.asarray(sectors, dtype=np.int64).reshape(-1))
    )
    if sec.size and not 0 <= sec[0] <= sec[-1] < e.shape[0]:
        raise InputError(
            f"aggregate_by_origin_stack: sectors {sec.tolist()} outside 0..{e.shape[0] - 1}."
        )
    if shared is None:
        shared = shared_cells(oidx)
    ptr, col = shared
    if ptr.shape != (oidx.shape[0], ny + 1) or ptr[-1, -1] != col.size:
        raise InputError(
            f"aggregate_by_origin_stack: shared cells of shape {ptr.shape}, {col.shape} are not "
            f"those of the origin layers {oidx.shape} (give shared_cells(origin_index))."
        )
    out = np.zeros((a.shape[0], e.shape[0], n_origin, pol.size))
    aggregate_stack_by_origin(
        np.ascontiguousarray(a), e, pol, sec, r0, c0, h, oidx, ofrac, ptr, col, out
    )
    return out[0] if single else out


# ------------------------------------------------------------------ receptor aggregates
@dataclass(frozen=True)
class Origins:
    """The origins of a run's grid cells, compressed per cell (:func:`origin_layers`).

    Attributes
    ----------
    index, fraction : numpy.ndarray
        ``(k, ny, nx)`` origin ids and shares of each cell.
    count : int
        Number of origins (territories and "rest").
    known_shared : tuple of two numpy.ndarray, optional
        :attr:`shared` when already found for the same `index` (a run keeps it for all its
        years); found from `index` when first needed otherwise.
    """

    index: np.ndarray
    fraction: np.ndarray
    count: int
    known_shared: tuple[np.ndarray, np.ndarray] | None = field(
        default=None, repr=False, compare=False
    )

    @functools.cached_property
    def shared(self) -> tuple[np.ndarray, np.ndarray]:
        """Where the layers after the first hold an origin (the cells shared by several
        origins), row by row: :func:`trajectoire._kernels.aggregate.shared_cells`, found
        once for all the windows of a run (or `known_shared`)."""
        if self.known_shared is not None:
            return self.known_shared
        return shared_cells(np.asarray(self.index, dtype=np.int64))

    @classmethod
    def from_fractions(cls, fractions: np.ndarray) -> Origins:
        """From ``(origin, ny, nx)`` cell fractions summing to 1 over the origins (to
        round-off, 1e-6, in every cell with an origin; a cell of zeros has none).

        Raises
        ------
        trajectoire.InputError
            As :func:`origin_layers`, or the shares of a cell do not sum to 1 (one line
            naming the first such cell and its sum).
        """
        f = np.asarray(fractions, dtype=float)
        if f.ndim == 3:
            _check_fractions(f, sums=True)
        index, fraction = origin_layers(fractions)
        return cls(index, fraction, int(fractions.shape[0]))


def window_sums(
    adjoint: np.ndarray,
    emission: np.ndarray,
    height_of_sector: np.ndarray,
    origins: Origins,
    rows: slice,
    cols: slice,
    pollutants: npt.ArrayLike | None = None,
    sectors: npt.ArrayLike | None = None,
) -> np.ndarray:
    """Receptor sums of a window by sector and origin (:func:`aggregate_by_origin_stack`).

    Parameters
    ----------
    adjoint : numpy.ndarray
        ``(n_height, wy, wx)`` or ``(n_weighting, n_height, wy, wx)`` adjoint field(s).
    emission : numpy.ndarray
        The grid's emission of one pollutant ``(sector, ny, nx)`` (result ``(..., sector,
        origin)``) or a stack ``(sector, pollutant, ny, nx)`` of which the planes
        `pollutants` are summed (result ``(..., sector, origin, pollutant)``) [t yr-1].
    height_of_sector : numpy.ndarray
        Release-height class of each sector.
    origins : Origins
        Origins of the cells.
    rows, cols : slice
        The window.
    pollutants : array_like of int, optional
        Planes of a stack `emission` (default all).
    sectors : array_like of int, optional
        The sectors that may emit (default all): as for :func:`aggregate_by_origin_stack`.

    Returns
    -------
    numpy.ndarray
        Contributions [ug m-3], float64.
    """
    single = emission.ndim == 3
    out = aggregate_by_origin_stack(
        adjoint,
        emission[:, None] if single else emission,
        height_of_sector,
        origins.index,
        origins.fraction,
        origins.count,
        rows=rows,
        cols=cols,
        pollutants=None if single else pollutants,
        sectors=sectors,
        shared=origins.shared,
    )
    return out[..., 0] if single else out


@dataclass
class ReceptorSums:
    """One year's receptor aggregates by sector and origin [ug m-3].

    Attributes
    ----------
    territory, exposure : numpy.ndarray
        ``(territory, sector, origin, pollutant)``: area means and population-weighted means.
    station : numpy.ndarray
        ``(station, sector, origin, pollutant)``: values at the station cells.
    """

    territory: np.ndarray
    exposure: np.ndarray
    station: np.ndarray

    @classmethod
    def zeros(
        cls, n_territory: int, n_station: int, n_sector: int, n_origin: int, n_pol: int
    ) -> ReceptorSums:
        """All aggregates 0."""
        terr = np.zeros((n_territory, n_sector, n_origin, n_pol))
        return cls(terr, np.zeros_like(terr), np.zeros((n_station, n_sector, n_origin, n_pol)))

    def add_gridded(
        self,
        territory_adjoints: Sequence[np.ndarray],
        area: Sequence[Receptor],
        station_adjoints: Sequence[tuple[slice, slice, np.ndarray]],
        emission: np.ndarray,
        height_of_sector: np.ndarray,
        origins: Origins,
        pollutants: int | Sequence[int],
        planes: Sequence[int] | None = None,
        sectors: npt.ArrayLike | None = None,
    ) -> None:
        """Set the gridded part of some pollutants, each window once for all of them.

        `pollutants` is their number (the first ones) or their indices: the planes of
        `emission` ``(sector, pollutant, ny, nx)`` and of the aggregates they fill, all
        dispersed with the kernels the adjoints come from (one call per kernel set when
        pollutants deposit or decay at different rates). `planes`, when given, are the
        planes of `emission` that hold them, in the same order (``[0]`` for one pollutant
        given alone as ``(sector, 1, ny, nx)``: the same sums, bit for bit, as each
        pollutant's sums do not depend on the others'). `sectors`, when given, are the
        sectors that may emit them (:func:`aggregate_by_origin_stack`).
        """
        every = np.arange(pollutants) if isinstance(pollutants, int) else np.asarray(pollutants)
        n_pol = slice(None, every.size) if isinstance(pollutants, int) else every
        read = every if planes is None else np.asarray(planes)
        for ir, rec in enumerate(area):
            both = window_sums(
                territory_adjoints[ir],
                emission,
                height_of_sector,
                origins,
                rec.rows,
                rec.cols,
                read,
                sectors,
            )
            self.territory[ir][..., n_pol] = both[0]
            self.exposure[ir][..., n_pol] = both[1]
        for ist, (rs, cs, a) in enumerate(station_adjoints):
            self.station[ist][..., n_pol] = window_sums(
                a, emission, height_of_sector, origins, rs, cs, read, sectors
            )

    def add_stacks(
        self,
        stacks: Stacks,
        sums: tuple[np.ndarray, np.ndarray, np.ndarray],
        stack_emission: np.ndarray,
        pollutants: Sequence[int] | None = None,
    ) -> None:
        """Add each stack's contribution to the first pollutants (or to `pollutants`).

        Parameters
        ----------
        stacks : Stacks
            Sector and origin of each stack.
        sums : tuple of numpy.ndarray
            Footprint sums at the territory, exposure and station receptors, each
            ``(receptor, stack)`` (:func:`trajectoire.dispersion.receptors.footprint_sums`).
        stack_emission : numpy.ndarray
            ``(pollutant, stack)`` emissions [t yr-1] of the first pollutants, or of
            `pollutants`.
        pollutants : sequence of int, optional
            Indices of the rows of `stack_emission` in the aggregates (footprints of the
            kernel set those pollutants share).
        """
        n_d = slice(None, stack_emission.shape[0]) if pollutants is None else np.asarray(pollutants)
        for k in range(len(stacks)):
            qk = stack_emission[:, k]
            if (qk > 0).any():
                qk = np.where(qk > 0, qk, 0.0)
                s, o = stacks.sector[k], stacks.origin[k]
                for agg, fp in zip(
                    (self.territory, self.exposure, self.station), sums, strict=True
                ):
                    agg[:, s, o][..., n_d] += fp[:, k, None] * qk

    def set_derived(
        self,
        ip: int,
        territory_exposure: np.ndarray,
        source_ip: int,
        ratio: np.ndarray,
        rows: npt.ArrayLike,
        cols: npt.ArrayLike,
        shares: npt.ArrayLike | None = None,
    ) -> None:
        """Set a derived pollutant (NO2 from NOx): its territory and exposure sums as given,
        its station values as the source pollutant's times `ratio` at the station cell.

        With `shares` (f-NO2 of each sector, issue 14) the sector *s* keeps the share
        ``f_s`` of its source-pollutant sums as is (primary NO2) and `territory_exposure`
        and `ratio` apply to the rest: ``f_s S_src + (1 − f_s) S_given``, and
        ``(f_s + (1 − f_s) ratio) S_src`` at the stations. All shares 0 is the plain rule.

        Parameters
        ----------
        ip : int
            The derived pollutant.
        territory_exposure : numpy.ndarray
            ``(2, territory, sector, origin)`` (:func:`no2_territory_sums`).
        source_ip : int
            The pollutant it derives from (NOx).
        ratio : numpy.ndarray
            ``(ny, nx)`` derived per unit of source pollutant, cell by cell.
        rows, cols : sequence of int
            Station cells.
        shares : array_like, optional
            ``(sector,)`` share of the source pollutant that is the derived one as emitted.
        """
        n_s = self.territory.shape[1]
        f = np.zeros(n_s) if shares is None else np.asarray(shares, dtype=float)
        fs = f[:, None]
        for agg, given in zip((self.territory, self.exposure), territory_exposure, strict=True):
            agg[:, :, :, ip] = fs * agg[:, :, :, source_ip] + (1.0 - fs) * given
        cells = zip(np.asarray(rows, dtype=int), np.asarray(cols, dtype=int), strict=True)
        for ist, (r, c) in enumerate(cells):
            per_source = fs + (1.0 - fs) * ratio[int(r), int(c)]
            self.station[ist, :, :, ip] = self.station[ist, :, :, source_ip] * per_source


def no2_territory_sums(
    disp: YearDispersion,
    area: Sequence[Receptor],
    population: Sequence[Receptor],
    ratio: np.ndarray,
    nox_emission: np.ndarray,
    nox_stack_emission: np.ndarray,
    stacks: Stacks,
    height_of_sector: np.ndarray,
    origins: Origins,
    heights: Sequence[KernelClass] | None = None,
) -> np.ndarray:
    """NO2 receptor sums by sector and origin under the incremental rule.

    The local NO2 of a cell is ``ratio(c) × NOx_local(c)`` (``ratio`` from
    :func:`trajectoire.dispersion.chemistry.no2_increment_ratio`), so a receptor's NO2 from a
    source group is its NOx weighted by ``w(c) ratio(c)``: the NOx emissions aggregated with
    the adjoints of the ratio-weighted receptors.

    Parameters
    ----------
    disp : YearDispersion
        The year's kernels.
    area, population : sequence of Receptor
        Area-mean and population-weighted receptors of the territories.
    ratio : numpy.ndarray
        ``(ny, nx)`` local NO2 per unit local NOx [1].
    nox_emission : numpy.ndarray
        ``(sector, ny, nx)`` gridded NOx emission [t yr-1].
    nox_stack_emission : numpy.ndarray
        ``(stack,)`` NOx emission of each stack [t yr-1].
    stacks : Stacks
        The year's stacks.
    height_of_sector : numpy.ndarray
        Release-height class of each sector: an index in `heights`.
    origins : Origins
        Origins of the cells.
    heights : sequence of KernelClass, optional
        The kernel classes `height_of_sector` indexes (default: those of `disp`, in order);
        a class `disp` holds no kernel of has zero adjoints (no NOx released there).

    Returns
    -------
    numpy.ndarray
        ``(2, territory, sector, origin)``: area means then population-weighted means
        [ug m-3].
    """
    heights = list(disp.kernels) if heights is None else list(heights)
    out = np.zeros((2, len(area), nox_emission.shape[0], origins.count))
    for ir, rec in enumerate(area):
        rw = ratio[rec.rows, rec.cols]
        pair = [
            Receptor(rec.name, rec.rows, rec.cols, rec.weights * rw),
            Receptor(rec.name, rec.rows, rec.cols, population[ir].weights * rw),
        ]
        both = disp.adjoints(np.stack([r.weights for r in pair]), heights)
        sums = window_sums(both, nox_emission, height_of_sector, origins, rec.rows, rec.cols)
        for j, (wr, part) in enumerate(zip(pair, sums, strict=True)):
            out[j, ir] = part
            for k, fp in enumerate(stacks.footprints):
                if nox_stack_emission[k] > 0:
                    out[j, ir, stacks.sector[k], stacks.origin[k]] += nox_stack_emission[
                        k
                    ] * window_dot(wr, fp)
    return out


def shapley_values(
    players: Sequence[Hashable], value: Callable[[frozenset[Hashable]], npt.ArrayLike]
) -> dict[Hashable, np.ndarray]:
    """Shapley decomposition of ``value(all) − value(∅)`` among `players`.

    Parameters
    ----------
    players : sequence of hashable
        The factors (e.g. ``["emission", "meteorology", "background"]``); at most 10.
    value : callable
        ``value(S)`` for a frozenset S of players "switched on" (array-like result).

    Returns
    -------
    dict
        Player -> its Shapley value (same shape as `value`'s result). The values add up to
        ``value(all) − value(∅)`` to round-off.

    Raises
    ------
    trajectoire.InputError
        `players` is a bare string (its letters would be the players), holds a name twice
        (two effects would share one key, so that the values no longer add up), has none
        or more than 10; `value` is not callable, returns something that is not numbers, or
        returns arrays of shapes that do not broadcast (one line each).

    Examples
    --------
    >>> v = lambda s: (2.0 if "a" in s else 1.0) * (3.0 if "b" in s else 1.0)
    >>> phi = shapley_values(["a", "b"], v)
    >>> float(phi["a"] + phi["b"]), float(phi["a"])
    (5.0, 2.0)
    """
    return _shapley("shapley_values", "players", players, value, _value_text)


def _value_text(s: frozenset[Hashable]) -> str:
    """``value({...})`` naming a coalition, for the messages of :func:`shapley_values`."""
    return f"value({sorted(map(str, s))})" if s else "value(∅)"


def _shapley(
    where: str,
    what: str,
    players: Sequence[Hashable],
    value: Callable[[frozenset[Hashable]], npt.ArrayLike],
    describe: Callable[[frozenset[Hashable]], str],
) -> dict[Hashable, np.ndarray]:
    """:func:`shapley_values`, its messages starting with `where`, calling the players
    `what` and naming a coalition with `describe` (``concentration(1, 0, 0)`` for :func:`decompose_change`)."""
    if isinstance(players, str | bytes):
        raise InputError(
            f"{where}: {what}={players!r} is one string; expected a list of names, such as "
            f"[{players!r}] or {list(map(str, ('emission', 'meteorology')))}."
        )
    players = list(players)
    n = len(players)
    if n == 0 or n > 10:
        raise InputError(f"{where}: needs 1 to 10 players, got {n}.")
    if len(set(players)) != n:
        dup = [p for i, p in enumerate(players) if p in players[:i]]
        raise InputError(
            f"{where}: {what} {players!r} repeat {', '.join(map(repr, dict.fromkeys(dup)))}; "
            "expected distinct names (a repeated name merges two effects into one, which then no longer "
            "add up to the total)."
        )
    if not callable(value):
        raise InputError(
            f"{where}: the value function is a {type(value).__name__}, not callable; expected "
            "a function of the players switched on (a frozenset)."
        )
    cache: dict[frozenset[Hashable], np.ndarray] = {}

    def v(s: frozenset[Hashable]) -> np.ndarray:
        if s not in cache:
            got = value(s)
            try:
                cache[s] = np.asarray(got, dtype=float)
            except (TypeError, ValueError):
                raise InputError(
                    f"{where}: {describe(s)} returned {str(got)[:40]!r} "
                    f"({type(got).__name__}); expected a number or an array of numbers."
                ) from None
        return cache[s]

    def diff(a: frozenset[Hashable], b: frozenset[Hashable]) -> np.ndarray:
        try:
            return v(a) - v(b)
        except ValueError:
            raise InputError(
                f"{where}: {describe(a)} has shape {v(a).shape} but {describe(b)} has shape "
                f"{v(b).shape}; expected results of one shape for every combination."
            ) from None

    phi: dict[Hashable, np.ndarray] = {}
    for p in players:
        others = [q for q in players if q != p]
        total: np.ndarray | float = 0.0
        for size in range(n):
            weight = math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)
            for subset in itertools.combinations(others, size):
                s = frozenset(subset)
                total = total + weight * diff(s | {p}, s)
        phi[p] = np.asarray(total)
    return phi


def decompose_change(
    concentration: Callable[[int, int, int], npt.ArrayLike],
    *,
    factors: Sequence[str] = ("emission", "meteorology", "background"),
) -> dict[str, np.ndarray]:
    """Split ``C(1, 1, 1) − C(0, 0, 0)`` into emission, meteorology and background effects.

    Parameters
    ----------
    concentration : callable
        ``concentration(e, m, b)`` with each argument 0 (initial year) or 1 (final year)
        returning the concentration (scalar or array) with emissions of year ``e``,
        meteorology of year ``m`` and background of year ``b``.
    factors : sequence of str
        Names of the three effects in the returned dict.

    Returns
    -------
    dict of str to numpy.ndarray
        The three Shapley effects and ``"total"``; the effects add up to the total exactly.

    Raises
    ------
    trajectoire.InputError
        `factors` is a bare string, not three names, or repeats a name; `concentration` is
        not callable, returns something that is not numbers, or returns arrays of shapes
        that do not broadcast for two combinations (one line naming them and their shapes).

    Examples
    --------
    >>> eff = decompose_change(lambda e, m, b: 10.0 * (1 + e) + 2.0 * m + b)
    >>> {k: float(v) for k, v in eff.items()}
    {'emission': 10.0, 'meteorology': 2.0, 'background': 1.0, 'total': 13.0}
    """
    if isinstance(factors, str | bytes):
        raise InputError(
            f"decompose_change: factors={factors!r} is one string; expected three names, such "
            "as ('emission', 'meteorology', 'background')."
        )
    names = list(factors)
    if len(names) != 3:
        raise InputError(
            f"decompose_change: factors={names!r}; exactly three factor names are expected, "
            "such as ('emission', 'meteorology', 'background')."
        )
    if not callable(concentration):
        raise InputError(
            f"decompose_change: concentration is a {type(concentration).__name__}, not "
            "callable; expected a function concentration(e, m, b) of three 0/1 switches."
        )

    def value(s: frozenset[Hashable]) -> npt.ArrayLike:
        return concentration(int(names[0] in s), int(names[1] in s), int(names[2] in s))

    def describe(s: frozenset[Hashable]) -> str:
        return f"concentration{tuple(int(f in s) for f in names)}"

    phi = _shapley("decompose_change", "factors", names, value, describe)
    out = {str(k): v for k, v in phi.items()}
    out["total"] = np.asarray(concentration(1, 1, 1), dtype=float) - np.asarray(
        concentration(0, 0, 0), dtype=float
    )
    return out


def background_of_year(
    background: xr.DataArray,
    regional: RegionalBackground | None,
    year: int,
    pollutant: str,
    local: Callable[[], np.ndarray],
    *,
    with_no2: bool = False,
) -> dict[str, float | np.ndarray]:
    """The background of one year, the ``background`` factor of the change split.

    Parameters
    ----------
    background : xarray.DataArray
        ``(year, pollutant)`` scalar background [ug m-3] (the station background of
        ``[inputs] background``; zeros when the run has a regional field).
    regional : RegionalBackground or None
        The run's regional model field (``[inputs.background] format = "field"``), or None.
    year : int
        The year of the background.
    pollutant : str
        A dispersed pollutant.
    local : callable
        ``local()`` returns the local contribution of `pollutant` with the emissions **and**
        the meteorology of `year` (every sector and origin) on the run grid; called only
        with a regional field.
    with_no2 : bool, default False
        Also the NO2 background (`pollutant` must be ``"NOx"``).

    Returns
    -------
    dict of str to float or numpy.ndarray
        ``{pollutant: B}`` (and ``"NO2"``): a scalar for the station background, else the
        map of :meth:`RegionalBackground.background_maps` [ug m-3]. The key is the
        pollutant's name in `background` (``"nox"`` is read as ``"NOx"``).

    Raises
    ------
    trajectoire.InputError
        `year` is not a whole year (text such as ``"2019"`` is read), or `background` is not
        a ``(year, pollutant)`` DataArray (one line).
    trajectoire.MissingVariableError
        `year` or `pollutant` (or NO2 with `with_no2`) is not in `background`: one line
        naming it and the years or pollutants present.

    Notes
    -----
    With a regional field the background of a year is the field of that year less its own
    local part, the uEMEP way (Denby et al. 2020, GMD 13, 6303), exactly the map the run
    adds to that year's local part. It depends on the year's emissions and meteorology
    through the removed local part, but as one factor: the split's ``C(e, m, b)`` is the
    local part of emissions ``e`` and meteorology ``m`` plus this background of year ``b``,
    so ``C(1, 1, 1)`` and ``C(0, 0, 0)`` are the run's two years and the three effects add
    up to the run's change. The background effect is the change of the regional part (the
    field without the local part), what the regional model attributes to sources outside
    the local model.
    """
    if regional is None:
        year, pollutant = _background_keys(background, year, pollutant, with_no2)
        pols = [pollutant, "NO2"] if with_no2 else [pollutant]
        return {p: float(background.sel(year=year, pollutant=p)) for p in pols}
    return dict(regional.background_maps(year, pollutant, local(), with_no2=with_no2))


def _background_keys(
    background: xr.DataArray, year: object, pollutant: str, with_no2: bool
) -> tuple[int, str]:
    """`year` and `pollutant` as `background`'s ``(year, pollutant)`` labels, checked: one
    line naming what is missing and what is there (not xarray's KeyError)."""
    where = "background_of_year"
    if not isinstance(background, xr.DataArray) or not {"year", "pollutant"} <= set(
        map(str, background.dims)
    ):
        dims = tuple(getattr(background, "dims", ()))
        raise InputError(
            f"{where}: background is a {type(background).__name__} with dims {dims}; expected "
            "the (year, pollutant) DataArray of read_background (not a selection of one year)."
        )
    years = background["year"].values
    y = require_year(year, f"{where}: year")
    if y not in years:
        raise MissingVariableError(
            f"{where}: year {y} is not in the background (years "
            f"{year_ranges(int(v) for v in years)}); give the background of that year."
        )
    present = [str(v) for v in background["pollutant"].values]
    names = [pollutant, "NO2"] if with_no2 else [pollutant]
    for i, name in enumerate(names):
        if name in present:
            continue
        canon = normalise_pollutant(str(name), what=f"{where}: pollutant")
        if canon not in present:
            why = " (with_no2=True needs it)" if i == 1 else did_you_mean(str(name), present)
            raise MissingVariableError(
                f"{where}: pollutant {name!r} is not in the background (pollutants "
                f"{present}){why}; give its background."
            )
        names[i] = canon
    return y, names[0]


def territory_background(
    background: xr.DataArray,
    regional: RegionalBackground | None,
    year: int,
    pollutant: str,
    receptors: Sequence[Receptor],
    local: Callable[[], np.ndarray],
) -> np.ndarray:
    """Mean background of each receptor in one year [ug m-3], ``(receptor,)``.

    Parameters
    ----------
    background, regional, year, pollutant, local
        As in :func:`background_of_year`.
    receptors : sequence of Receptor
        The receptors (area weights of the territories, for the change split).

    Returns
    -------
    numpy.ndarray
        The scalar background repeated, or ``Σ_c w(c) B(c)`` of the field's map (the
        ``territory_background`` the run writes for that year).

    Raises
    ------
    trajectoire.InputError
        `receptors` is not a sequence (one line), or as :func:`background_of_year`.
    trajectoire.MissingVariableError
        As :func:`background_of_year`.

    Examples
    --------
    >>> bg = xr.DataArray([[4.0]], dims=("year", "pollutant"),
    ...                   coords={"year": [2019], "pollutant": ["NOx"]})
    >>> territory_background(bg, None, 2019, "NOx", [None, None], lambda: None).tolist()
    [4.0, 4.0]
    """
    if isinstance(receptors, str | bytes) or not hasattr(receptors, "__len__"):
        raise InputError(
            f"territory_background: receptors={receptors!r} ({type(receptors).__name__}); "
            "expected a sequence of Receptor, one per territory."
        )
    maps = background_of_year(background, regional, year, pollutant, local)
    value = maps[pollutant] if pollutant in maps else next(iter(maps.values()))
    if np.ndim(value) == 0:
        return np.full(len(receptors), float(value))
    return receptor_means(receptors, np.asarray(value))


def source_receptor_matrix(contribution: xr.DataArray) -> xr.DataArray:
    """Territory-to-territory matrix from receptor aggregates split by sector and origin.

    Parameters
    ----------
    contribution : xarray.DataArray
        Contributions with dims including ``receptor`` and ``origin`` (and possibly
        ``sector``, which is summed) [ug m-3].

    Returns
    -------
    xarray.DataArray
        ``(..., receptor, origin)``: the part of receptor territory's mean concentration due to
        each origin's emissions. Rows add up to the local part of the receptor mean.

    Raises
    ------
    trajectoire.InputError
        `contribution` is not a DataArray (a whole output Dataset: pass
        ``ds["territory_contribution"]``), or lacks the ``receptor`` or ``origin`` dim.
    """
    if not isinstance(contribution, xr.DataArray):
        hint = (
            f" (variables {rows_preview(sorted(map(str, contribution.data_vars)), 6)})"
            if isinstance(contribution, xr.Dataset)
            else ""
        )
        raise InputError(
            f"source_receptor_matrix: got a {type(contribution).__name__}{hint}; expected one "
            "DataArray with dims receptor and origin: pass ds['territory_contribution']."
        )
    for d in ("receptor", "origin"):
        if d not in contribution.dims:
            raise InputError(f"source_receptor_matrix: missing dim {d!r} in {contribution.dims}.")
    out = contribution.sum("sector") if "sector" in contribution.dims else contribution
    out.attrs = {**contribution.attrs, "long_name": "source-receptor matrix between territories"}
    return out


def footprint(
    kernel: npt.ArrayLike,
    emission: npt.ArrayLike,
    row: int,
    col: int,
) -> np.ndarray:
    """Map of where a receptor cell's concentration comes from.

    ``footprint[c] = K[r − c] E[c]``: the concentration at receptor cell ``r = (row, col)``
    due to the emission of each cell ``c``. Its sum is the local concentration at ``r``.

    Parameters
    ----------
    kernel : array_like (2m+1, 2m+1)
        Dispersion kernel [ug m-3 per (t yr-1)], centre ``[m, m]`` = source cell, row offset
        positive southwards.
    emission : array_like (..., ny, nx)
        Emission per cell [t yr-1].
    row, col : int
        Receptor cell.

    Returns
    -------
    numpy.ndarray (..., ny, nx)
        Contribution of each cell [ug m-3]; zero beyond the kernel radius.

    Raises
    ------
    trajectoire.InputError
        The kernel is not square with an odd size, `emission` is not a map (at least 2-D),
        `row` or `col` is not an integer or lies outside the grid (one line each).
    """
    k = np.asarray(kernel, dtype=float)
    e = np.asarray(emission, dtype=float)
    if k.ndim != 2 or k.shape[0] != k.shape[1] or k.shape[0] % 2 == 0:
        raise InputError(f"footprint: kernel must be square with odd size, got {k.shape}.")
    if e.ndim < 2:
        raise InputError(
            f"footprint: emission has shape {e.shape}; expected a map (..., ny, nx) of the "
            "emission per cell."
        )
    for name, v in (("row", row), ("col", col)):
        if not is_integer_number(v):
            raise InputError(
                f"footprint: {name}={v!r} ({type(v).__name__}); expected an integer cell index "
                f"(e.g. int({name}) or the grid's index of the receptor)."
            )
    m = k.shape[0] // 2
    ny, nx = e.shape[-2:]
    if not (0 <= row < ny and 0 <= col < nx):
        raise InputError(f"footprint: receptor cell ({row}, {col}) outside the {ny} x {nx} grid.")
    out = np.zeros_like(e)
    r0, r1 = max(0, row - m), min(ny, row + m + 1)
    c0, c1 = max(0, col - m), min(nx, col + m + 1)
    # K[r - c + m] with c in the window: rows row - i + m for i in r0..r1-1 (descending)
    kk = k[[row - i + m for i in range(r0, r1)]][:, [col - j + m for j in range(c0, c1)]]
    out[..., r0:r1, c0:c1] = kk * e[..., r0:r1, c0:c1]
    return out
