"""Exact area of polygons inside the cells of a regular grid.

The area of a polygon P inside cell (i, j) follows from Green's theorem,
``A(P ∩ cell) = -∮_{∂P} clamp(v - j, 0, 1) du`` (counter-clockwise exterior rings, clockwise
holes), in grid-index coordinates ``u = (x - xmin)/dx``, ``v = (y - ymin)/dy`` where a cell has
unit area. Every ring edge is split where it crosses a grid line, so that each piece lies
inside one column and one row. A piece of signed width ``du`` in row ``j`` adds
``du * (v_mid - j)`` to its own cell (the trapezoid between the piece and the bottom of the
row; exact because the piece is straight) and ``du`` to every cell below it in the column.
The second term is accumulated in a difference array and summed from the top row down at
the end, so the cost is proportional to the number of edge-cell crossings plus the size of
the window, not to the number of cells under the polygon times the number of edges.

This is the "signed area accumulation" scheme of scanline font rasterisers, made exact
for polygons; the result agrees with polygon clipping (shapely ``intersection``) to
round-off (see ``tests/test_kernels_coverage.py``).
"""

import math

import numpy as np
from numba import njit

from ._config import CACHE


@njit(cache=CACHE)
def _add_edge(acc, below, u0, v0, u1, v1):
    """Accumulate the contribution of one straight edge (index coordinates)."""
    ny, nx = acc.shape
    du_total = u1 - u0
    if du_total == 0.0:
        return
    dv_total = v1 - v0
    # integer crossings of u and v strictly inside the edge, visited in increasing t
    if du_total > 0:
        ku = math.floor(u0) + 1.0
        ku_end = math.ceil(u1) - 1.0
        su = 1.0
    else:
        ku = math.ceil(u0) - 1.0
        ku_end = math.floor(u1) + 1.0
        su = -1.0
    if dv_total > 0:
        kv = math.floor(v0) + 1.0
        kv_end = math.ceil(v1) - 1.0
        sv = 1.0
    elif dv_total < 0:
        kv = math.ceil(v0) - 1.0
        kv_end = math.floor(v1) + 1.0
        sv = -1.0
    else:
        kv = 0.0
        kv_end = -1.0
        sv = 1.0
    has_v = dv_total != 0.0
    t_prev = 0.0
    ua = u0
    va = v0
    while True:
        # next crossing parameter
        tu = 2.0
        if (su > 0 and ku <= ku_end) or (su < 0 and ku >= ku_end):
            tu = (ku - u0) / du_total
        tv = 2.0
        if has_v and ((sv > 0 and kv <= kv_end) or (sv < 0 and kv >= kv_end)):
            tv = (kv - v0) / dv_total
        if tu <= tv:
            t_next = tu
        else:
            t_next = tv
        if t_next > 1.0:
            t_next = 1.0
        if t_next == 1.0:
            ub = u1
            vb = v1
        else:
            ub = u0 + t_next * du_total
            vb = v0 + t_next * dv_total
        if t_next > t_prev:
            du = ub - ua
            um = 0.5 * (ua + ub)
            vm = 0.5 * (va + vb)
            i = int(math.floor(um))
            if 0 <= i < nx:
                j = int(math.floor(vm))
                if j >= ny:
                    below[ny - 1, i] += du
                elif j >= 0:
                    acc[j, i] += du * (vm - j)
                    if j > 0:
                        below[j - 1, i] += du
        if t_next >= 1.0:
            break
        if tu <= tv:
            ku += su
        if tv <= tu:
            kv += sv
        t_prev = t_next
        ua = ub
        va = vb


@njit(cache=CACHE)
def polygon_coverage(u, v, ring_starts, ny, nx):
    """Area of a polygon inside each cell of an ``(ny, nx)`` window, in cell units.

    Parameters
    ----------
    u, v : float64 arrays
        Vertex coordinates in grid-index units (``u = (x - x_left)/dx``,
        ``v = (y - y_bottom)/dy``), all rings concatenated, each ring closed (last vertex
        equal to the first). Exterior rings counter-clockwise, holes clockwise.
    ring_starts : int64 array
        Index of the first vertex of each ring, followed by ``len(u)``.
    ny, nx : int
        Window shape. Row 0 is the **bottom** row.

    Returns
    -------
    numpy.ndarray
        ``(ny, nx)`` float64 fraction of each cell covered, in [0, 1] up to round-off.
    """
    acc = np.zeros((ny, nx))
    below = np.zeros((ny, nx))
    for r in range(ring_starts.shape[0] - 1):
        for k in range(ring_starts[r], ring_starts[r + 1] - 1):
            _add_edge(acc, below, u[k], v[k], u[k + 1], v[k + 1])
    for i in range(nx):
        run = 0.0
        for j in range(ny - 1, -1, -1):
            run += below[j, i]
            acc[j, i] = -(acc[j, i] + run)
    return acc
