"""Exact length of straight segments inside the cells of a regular grid.

A segment ``P(t) = P0 + t (P1 - P0)``, ``t`` in [0, 1], is cut at every parameter ``t`` where
it crosses a vertical grid line ``x = xmin + k dx`` or a horizontal one ``y = ymax - k dy``.
Between two consecutive cuts the segment lies in one cell (the cell of the piece's mid-point),
and its length there is ``(t_b - t_a) * |P1 - P0|``. The pieces telescope, so their lengths
add up to the segment length to round-off. This is the grid traversal of Amanatides and Woo
(1987), written with explicit crossing parameters so that every piece length is exact.

Reference: Amanatides, J. and Woo, A. (1987), "A fast voxel traversal algorithm for ray
tracing", Eurographics '87, 3-10.
"""

import math

import numpy as np
from numba import njit, prange

from ._config import CACHE


@njit(cache=CACHE)
def _crossing_range(a0, a1, n):
    """Grid-line indices k in [0, n] with min(a0, a1) <= k <= max(a0, a1)."""
    lo = min(a0, a1)
    hi = max(a0, a1)
    k0 = max(0, int(math.ceil(lo)))
    k1 = min(n, int(math.floor(hi)))
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return 0, -1
    return k0, k1


@njit(cache=CACHE)
def _n_pieces(u0, v0, u1, v1, nx, ny):
    kx0, kx1 = _crossing_range(u0, u1, nx)
    ky0, ky1 = _crossing_range(v0, v1, ny)
    return max(0, kx1 - kx0 + 1) + max(0, ky1 - ky0 + 1) + 1


@njit(cache=CACHE)
def _offsets(x0, y0, x1, y1, xmin, ymax, dx, dy, nx, ny):
    ns = x0.shape[0]
    offsets = np.zeros(ns + 1, np.int64)
    for s in range(ns):
        u0 = (x0[s] - xmin) / dx
        u1 = (x1[s] - xmin) / dx
        v0 = (ymax - y0[s]) / dy
        v1 = (ymax - y1[s]) / dy
        offsets[s + 1] = offsets[s] + _n_pieces(u0, v0, u1, v1, nx, ny)
    return offsets


@njit(cache=CACHE)
def _add_crossings(ts, m, a0, da, k0, k1):
    """Write at ``ts[m:]`` the ``t`` in (0, 1) where ``a0 + t da`` crosses ``k0..k1``; new m."""
    if da != 0.0:
        for k in range(k0, k1 + 1):
            t = (k - a0) / da
            if 0.0 < t < 1.0:
                ts[m] = t
                m += 1
    return m


@njit(cache=CACHE)
def _fill_segment(s, x0, y0, x1, y1, xmin, ymax, dx, dy, nx, ny, offsets, seg, cell, length):
    """Cut segment ``s`` at its grid-line crossings and write its pieces from offsets[s]."""
    u0 = (x0[s] - xmin) / dx
    u1 = (x1[s] - xmin) / dx
    v0 = (ymax - y0[s]) / dy
    v1 = (ymax - y1[s]) / dy
    seg_len = math.hypot(x1[s] - x0[s], y1[s] - y0[s])
    if not (seg_len > 0.0 and math.isfinite(seg_len)):
        return
    kx0, kx1 = _crossing_range(u0, u1, nx)
    ky0, ky1 = _crossing_range(v0, v1, ny)
    nt = max(0, kx1 - kx0 + 1) + max(0, ky1 - ky0 + 1) + 2
    ts = np.empty(nt, np.float64)
    m = 0
    ts[m] = 0.0
    m += 1
    ts[m] = 1.0
    m += 1
    du = u1 - u0
    dv = v1 - v0
    m = _add_crossings(ts, m, u0, du, kx0, kx1)
    m = _add_crossings(ts, m, v0, dv, ky0, ky1)
    tsort = np.sort(ts[:m])
    out = offsets[s]
    for p in range(m - 1):
        ta = tsort[p]
        tb = tsort[p + 1]
        if tb <= ta:
            continue
        tm = 0.5 * (ta + tb)
        col = int(math.floor(u0 + tm * du))
        row = int(math.floor(v0 + tm * dv))
        if col < 0 or col >= nx or row < 0 or row >= ny:
            continue
        seg[out] = s
        cell[out] = row * nx + col
        length[out] = (tb - ta) * seg_len
        out += 1


@njit(cache=CACHE)
def _empty_pieces(x0, y0, x1, y1, xmin, ymax, dx, dy, nx, ny):
    """Offsets of each segment's pieces and the unfilled piece arrays (segment -1)."""
    offsets = _offsets(x0, y0, x1, y1, xmin, ymax, dx, dy, nx, ny)
    total = offsets[x0.shape[0]]
    seg = np.full(total, -1, np.int64)
    cell = np.full(total, -1, np.int64)
    length = np.zeros(total, np.float64)
    return offsets, seg, cell, length


@njit(cache=CACHE)
def _filled_pieces(seg, cell, length):
    """The pieces that :func:`_fill_segment` filled (segment >= 0)."""
    keep = seg >= 0
    return seg[keep], cell[keep], length[keep]


@njit(cache=CACHE, parallel=True)
def segment_cell_lengths(x0, y0, x1, y1, xmin, ymax, dx, dy, nx, ny):
    """Length of each straight segment inside each cell of a north-up regular grid.

    Parameters
    ----------
    x0, y0, x1, y1 : float64 arrays
        Segment end points [CRS units].
    xmin, ymax : float
        Left and top outer edges of the grid [CRS units].
    dx, dy : float
        Cell sizes [CRS units], > 0.
    nx, ny : int
        Grid shape (row 0 at the top).

    Returns
    -------
    seg : int64 array
        Segment of each piece.
    cell : int64 array
        Flat cell index ``row * nx + col`` of each piece.
    length : float64 array
        Length of the piece [CRS units], > 0.

    Notes
    -----
    Pieces outside the grid are left out; their length is the segment length minus the sum
    of the returned pieces. Degenerate (zero-length) and non-finite segments give no piece.
    Parallel over segments; :func:`segment_cell_lengths_serial` is the same computation on
    one thread (cheaper for a few segments, where starting threads dominates).
    """
    offsets, seg, cell, length = _empty_pieces(x0, y0, x1, y1, xmin, ymax, dx, dy, nx, ny)
    for s in prange(x0.shape[0]):
        _fill_segment(s, x0, y0, x1, y1, xmin, ymax, dx, dy, nx, ny, offsets, seg, cell, length)
    return _filled_pieces(seg, cell, length)


@njit(cache=CACHE)
def segment_cell_lengths_serial(x0, y0, x1, y1, xmin, ymax, dx, dy, nx, ny):
    """Single-threaded :func:`segment_cell_lengths` (same arguments and results)."""
    offsets, seg, cell, length = _empty_pieces(x0, y0, x1, y1, xmin, ymax, dx, dy, nx, ny)
    for s in range(x0.shape[0]):
        _fill_segment(s, x0, y0, x1, y1, xmin, ymax, dx, dy, nx, ny, offsets, seg, cell, length)
    return _filled_pieces(seg, cell, length)
