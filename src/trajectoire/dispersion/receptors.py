"""Receptors: weighted windows of the grid (territory means, population-weighted means, cells).

A receptor aggregate is a weighted sum ``R = Σ_c w(c) C(c)`` of the concentration field over
a window of the grid (the bounding box of a territory, widened by the kernel radius). Because
the model is linear, ``R`` is also the dot product of each source field with the receptor's
*adjoint* (the weights convolved with the flipped kernel, :meth:`YearDispersion.adjoints`),
which is how :mod:`trajectoire.attribution` splits it by sector and territory of origin
without one dispersion run per source group. Stack footprints, which are small windows of
the grid themselves, are aggregated by direct window dot products.

Weights are normalised to sum to 1 over the window, so ``R`` is a mean [ug m-3].
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from trajectoire.dispersion.concentration import KernelClass, YearDispersion
from trajectoire.errors import InputError

__all__ = [
    "Footprint",
    "Receptor",
    "cell_values",
    "footprint_sums",
    "population_receptors",
    "receptor_means",
    "station_adjoints",
    "territory_adjoints",
    "territory_receptors",
    "window_dot",
    "window_receptor",
]

#: A stack footprint: rows, columns of its window and the concentration per unit emission
#: [ug m-3 per t yr-1] in it (:func:`trajectoire.dispersion.stack_footprints`).
Footprint = tuple[slice, slice, np.ndarray]


@dataclass
class Receptor:
    """A weighted receptor aggregate on a window of the grid.

    Attributes
    ----------
    name : str
        Receptor id (a territory id).
    rows, cols : slice
        Window of the grid.
    weights : numpy.ndarray
        ``(rows, cols)`` weights [1], summing to 1 over the window (or all 0 when the
        receptor has no weight, e.g. a territory without inhabitants).
    """

    name: str
    rows: slice
    cols: slice
    weights: np.ndarray


def window_receptor(name: str, weights: np.ndarray, half: int) -> Receptor:
    """The receptor of a weight field, on its bounding box widened by `half` cells.

    Parameters
    ----------
    name : str
        Receptor id.
    weights : numpy.ndarray
        ``(ny, nx)`` non-negative weights over the whole grid (e.g. the share of each cell
        inside a territory) [1].
    half : int
        Kernel half-width [cells]: the window is widened by it on every side (clipped to the
        grid) so that the adjoint of the receptor fits in the window.

    Returns
    -------
    Receptor
        Weights normalised to sum to 1.

    Raises
    ------
    trajectoire.InputError
        The weights are 0 everywhere (the territory does not overlap the grid).
    """
    rows = np.flatnonzero(weights.any(axis=1))
    cols = np.flatnonzero(weights.any(axis=0))
    if rows.size == 0:
        raise InputError(f"territory {name!r} does not overlap the grid.")
    ny, nx = weights.shape
    r = slice(max(0, rows[0] - half), min(ny, rows[-1] + half + 1))
    c = slice(max(0, cols[0] - half), min(nx, cols[-1] + half + 1))
    w = weights[r, c]
    return Receptor(name, r, c, w / w.sum())


def territory_receptors(
    fractions: np.ndarray, names: Sequence[str], radius: float, resolution: float
) -> list[Receptor]:
    """Area-mean receptors of territories, on windows wide enough for a kernel of `radius`.

    Parameters
    ----------
    fractions : numpy.ndarray
        ``(territory, ny, nx)`` share of each cell inside each territory [1] (extra layers
        beyond ``len(names)``, such as the rest of the grid, are ignored).
    names : sequence of str
        Territory ids, one per receptor.
    radius : float
        Dispersion kernel radius [m].
    resolution : float
        Grid cell size [m].

    Returns
    -------
    list of Receptor
    """
    half = int(np.ceil(radius / resolution))
    return [window_receptor(str(t), fractions[i], half) for i, t in enumerate(names)]


def population_receptors(
    receptors: Sequence[Receptor],
    population: np.ndarray,
    fractions: np.ndarray,
    *,
    inhabitants: Sequence[np.ndarray] | None = None,
) -> list[Receptor]:
    """Population-weighted receptors on the windows of area-mean receptors.

    Parameters
    ----------
    receptors : sequence of Receptor
        Area-mean receptors (:func:`territory_receptors`), in the order of `fractions`.
    population : numpy.ndarray
        ``(ny, nx)`` inhabitants per cell.
    fractions : numpy.ndarray
        ``(territory, ny, nx)`` share of each cell inside each territory [1].
    inhabitants : sequence of numpy.ndarray, optional
        Each territory's own inhabitants per cell on its receptor's window
        (:meth:`trajectoire.inventory.population.TerritoryPopulation.windows`); when given,
        they are the weights, and `population` and `fractions` are not used.

    Returns
    -------
    list of Receptor
        Weights ``pop × fraction`` (or `inhabitants`) normalised to 1 over each window (all
        0 for a territory without inhabitants).
    """
    out = []
    for i, rec in enumerate(receptors):
        if inhabitants is not None:
            w = np.asarray(inhabitants[i], dtype=float)
            out.append(Receptor(rec.name, rec.rows, rec.cols, w / w.sum() if w.sum() > 0 else w))
            continue
        w = population[rec.rows, rec.cols] * fractions[i][rec.rows, rec.cols]
        total = w.sum()
        out.append(Receptor(rec.name, rec.rows, rec.cols, w / total if total > 0 else w))
    return out


def territory_adjoints(
    disp: YearDispersion,
    area: Sequence[Receptor],
    population: Sequence[Receptor],
    heights: Sequence[float | KernelClass],
) -> list[np.ndarray]:
    """Adjoint fields of the area-mean and population-weighted receptor of each territory.

    Parameters
    ----------
    disp : YearDispersion
        The year's kernels.
    area, population : sequence of Receptor
        The two weightings of each territory, on the same windows.
    heights : sequence of float or KernelClass
        Kernel classes ``(release height, initial sigma_z)`` [m] (bare heights: sigma_z0 0).

    Returns
    -------
    list of numpy.ndarray
        Per territory, ``(2, n_height, wy, wx)``: area mean first, then population.
    """
    return [
        disp.adjoints(np.stack([a.weights, p.weights]), heights)
        for a, p in zip(area, population, strict=True)
    ]


def station_adjoints(
    disp: YearDispersion,
    rows: npt.ArrayLike,
    cols: npt.ArrayLike,
    heights: Sequence[float | KernelClass],
) -> list[Footprint]:
    """Adjoint of the concentration at each station cell, for every kernel class.

    Returns
    -------
    list of (slice, slice, numpy.ndarray)
        Per station, its window and the ``(n_height, wy, wx)`` flipped kernels around it.
    """
    out = []
    for r_st, c_st in zip(np.asarray(rows, dtype=int), np.asarray(cols, dtype=int), strict=True):
        parts = [disp.point_adjoint(int(r_st), int(c_st), h) for h in heights]
        out.append((parts[0][0], parts[0][1], np.stack([q[2] for q in parts])))
    return out


def window_dot(rec: Receptor, fp: Footprint) -> float:
    """``Σ w_r(c) fp(c)`` over the overlap of a receptor window and a footprint window."""
    rs, cs, f = fp
    r0, r1 = max(rec.rows.start, rs.start), min(rec.rows.stop, rs.stop)
    c0, c1 = max(rec.cols.start, cs.start), min(rec.cols.stop, cs.stop)
    if r0 >= r1 or c0 >= c1:
        return 0.0
    w = rec.weights[
        r0 - rec.rows.start : r1 - rec.rows.start, c0 - rec.cols.start : c1 - rec.cols.start
    ]
    v = f[r0 - rs.start : r1 - rs.start, c0 - cs.start : c1 - cs.start]
    return float((w * v).sum())


def footprint_sums(receptors: Sequence[Receptor], footprints: Sequence[Footprint]) -> np.ndarray:
    """Receptor aggregate of each footprint: ``(receptor, footprint)`` [ug m-3 per t yr-1]."""
    return np.array([[window_dot(r, fp) for fp in footprints] for r in receptors]).reshape(
        len(receptors), len(footprints)
    )


def cell_values(
    rows: npt.ArrayLike, cols: npt.ArrayLike, footprints: Sequence[Footprint]
) -> np.ndarray:
    """Value of each footprint at each cell: ``(cell, footprint)`` [ug m-3 per t yr-1]."""

    def value(fp: Footprint, row: int, col: int) -> float:
        rs, cs, f = fp
        if rs.start <= row < rs.stop and cs.start <= col < cs.stop:
            return float(f[row - rs.start, col - cs.start])
        return 0.0

    r_all, c_all = np.asarray(rows, dtype=int), np.asarray(cols, dtype=int)
    return np.array(
        [
            [value(fp, int(r), int(c)) for fp in footprints]
            for r, c in zip(r_all, c_all, strict=True)
        ]
    ).reshape(r_all.size, len(footprints))


def receptor_means(receptors: Sequence[Receptor], field: np.ndarray) -> np.ndarray:
    """``Σ_c w(c) field(c)`` of each receptor: ``(receptor,)`` in the units of `field`."""
    return np.array([float((r.weights * field[r.rows, r.cols]).sum()) for r in receptors])
