"""Cell means of the stacks' footprints near each stack.

A stack is a point; the grid's cells are 100 m to 1 km squares. Sampled at the cell centres
alone, a stack's footprint depends on where the stack lies within its cell: the ground-level
plume of a tall stack rises from nothing to its maximum within a few hundred metres, so
near the stack one value per cell can be far from the cell's mean (on the real-data
example at 1 km, CUD's mean NOx moved by −13.5 % and its exposure by −24 % when the cells
went from 1000 to 1001 m; with the cell means, by +0.1 % and −0.1 %). The area sources'
kernels are cell means already (:func:`.longterm.annual_kernel` averages over the source
cell with Gauss-Legendre rules whose order falls with distance); the stacks' footprints now
are too, near the stack, with the midpoint rule on a regular sub-grid of each cell
(:data:`CELL_MEAN_LEVELS`): ``n x n`` sub-points per cell, ``n`` falling with the distance
to the stack's cell, the centre value beyond (``docs/dispersion.md``, "Cell means near the
stacks").

The sub-points of a band of cells form one regular grid of spacing ``h / n``, so every
footprint kernel evaluates them as it evaluates the cells: :func:`band_means` takes the
kernel as a function of the sub-points' offsets and averages its values cell by cell.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["CELL_MEAN_LEVELS", "band_means", "sub_offsets"]

CELL_MEAN_LEVELS: tuple[tuple[int, int], ...] = ((1, 8), (3, 4), (8, 2))
"""``(edge, n)``: the cells within ``edge`` cells of the stack's cell (Chebyshev distance,
and beyond the previous edge) take the mean of ``n x n`` sub-points (midpoint rule); the
cells beyond the last edge keep their centre value. The edges are those of the area
kernels' Gauss-Legendre rules (:func:`.longterm._quadrature`: 1, 3 and 8 cells). Against
the mean of 40 x 40 (1 km cells) or 16 x 16 sub-points (200 m), for stacks of 20, 80 and
150 m: within 0.4 % of the largest cell within 8 cells, where the centre values were 2 to
18 % off (``tests/test_cell_means.py``; 16, 8 and 4 sub-points: 0.1 %, at four times the
cost). ``n`` is even, so that no sub-point falls on a stack at its cell's centre (the
footprint is 0 at the stack itself)."""


def sub_offsets(n: int) -> np.ndarray:
    """Offsets of the ``n`` midpoint sub-points of a cell from its centre, in cell sizes:
    ``(k + 1/2) / n - 1/2``, ``k = 0 .. n - 1`` (symmetric about 0)."""
    return (np.arange(n) + 0.5) / n - 0.5


Evaluate = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
"""``evaluate(fx, fy, points) -> values``: the footprint at the sub-points of offsets
``fx[b]`` east and ``fy[a]`` north of the stack [m] (regular, spacing ``h / n``), as an
array ``(len(fy), len(fx), ...)``; only ``points`` (``(m, 2)`` of ``(a, b)``) are needed,
the others may be left as anything finite."""


def band_means(
    gx: np.ndarray,
    gy: np.ndarray,
    cell: float,
    evaluate: Evaluate,
    levels: tuple[tuple[int, int], ...] = CELL_MEAN_LEVELS,
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The cell means near a stack, band by band of :data:`CELL_MEAN_LEVELS`.

    Parameters
    ----------
    gx, gy : numpy.ndarray
        Offsets [m] east of the stack of the columns' centres and north of the rows'
        centres of a window (NaN: a column or row beyond the grid, left out). Regular,
        spacing `cell` (``gy`` decreasing for a north-up grid).
    cell : float
        The cell size [m].
    evaluate : callable
        The footprint at sub-points (:data:`Evaluate`).
    levels : tuple of (int, int)
        ``(edge, n)`` per band, edges increasing.

    Returns
    -------
    list of (numpy.ndarray, numpy.ndarray, numpy.ndarray)
        Per band with cells: their rows and columns in the window (``(m,)`` each) and their
        means ``(m, ...)``, the trailing axes those of `evaluate`.

    Notes
    -----
    The sub-points run in the direction of `gx` and `gy` (a monotone, regular grid, as the
    kernels that take cell centres expect). A cell's distance to the stack's cell is the
    larger of its column's and its row's (:func:`_cells_away`: 0 for the stack's own cell,
    and for both cells beside a stack on their common edge). The sub-points of a band's
    bounding square form one regular grid; `evaluate` is asked for the sub-points of the
    band's cells only, and each mean is the plain average of its ``n x n`` sub-points,
    added in their order (:func:`_mean_in_order`).
    """
    dcol = _cells_away(gx, cell)
    drow = _cells_away(gy, cell)
    out: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    inner = -1
    for edge, n in levels:
        cols = np.flatnonzero(dcol <= edge)
        rows = np.flatnonzero(drow <= edge)
        if cols.size and rows.size:
            dist = np.maximum(drow[rows][:, None], dcol[cols][None, :])
            ri, ci = np.nonzero((dist > inner) & (dist <= edge))
            if ri.size:
                off = sub_offsets(n) * cell
                fx = (gx[cols][:, None] + _direction(gx) * off[None, :]).ravel()
                fy = (gy[rows][:, None] + _direction(gy) * off[None, :]).ravel()
                sub = np.arange(n)
                a = (ri[:, None, None] * n + sub[None, :, None]).repeat(n, axis=2)
                b = (ci[:, None, None] * n + sub[None, None, :]).repeat(n, axis=1)
                points = np.stack([a.ravel(), b.ravel()], axis=1)
                values = np.asarray(evaluate(fx, fy, points))
                picked = values[points[:, 0], points[:, 1]]
                means = _mean_in_order(picked.reshape((ri.size, n * n) + picked.shape[1:]))
                out.append((rows[ri], cols[ci], means))
        inner = edge
    return out


def _direction(g: np.ndarray) -> float:
    """``-1.0`` where the known offsets `g` decrease (rows of a north-up grid), else 1."""
    known = g[np.isfinite(g)]
    return -1.0 if known.size > 1 and known[1] < known[0] else 1.0


def _mean_in_order(values: np.ndarray) -> np.ndarray:
    """Mean over axis 1 of `values`, the terms added one after the other in their order, so
    that each mean has the same bits whatever the trailing axes hold (numpy's reductions
    pair the terms by the array's layout: a stack's footprint would then depend on the
    number of stacks computed beside it)."""
    total = values[:, 0].copy()
    for q in range(1, values.shape[1]):
        total += values[:, q]
    return total / values.shape[1]


def _cells_away(offsets: np.ndarray, cell: float) -> np.ndarray:
    """Columns' (or rows') distance to the stack's, in cells: ``d`` where the centre's
    offset ``|g|`` lies in ``((d - 1/2) h, (d + 1/2) h]``, i.e. ``ceil(|g| / h - 1/2)``
    (both columns beside a stack on their common edge are at 0, so the bands stay
    symmetric about the stack); infinite for NaN (beyond the grid)."""
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(offsets), np.ceil(np.abs(offsets) / cell - 0.5), np.inf)
