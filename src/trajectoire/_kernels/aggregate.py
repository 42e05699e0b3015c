"""Receptor aggregates of emission fields weighted by adjoint (footprint) fields.

For a linear dispersion model ``C = K * E`` (a convolution), any weighted mean of the
concentration over receptors, ``<w, C> = Σ_r w(r) C(r)``, equals ``<A, E>`` with the
*adjoint* field ``A = K ⋆ w`` (the correlation of the weights with the kernel): the
sensitivity of the receptor aggregate to the emission of each cell. Splitting ``E`` by
sector and territory of origin then gives the source-receptor contributions by cheap sums.

* :func:`aggregate_by_origin`: one emission field per sector (one pollutant), any window
  view, cell by cell;
* :func:`aggregate_stack_by_origin`: a whole (sector, pollutant) emission stack given on the
  grid, one pass over the window, vectorised over columns: the pipeline's path (issue 6),
  with the cells shared by several origins listed once by :func:`shared_cells`.
"""

import numpy as np
from numba import njit, prange

from ._config import CACHE


@njit(cache=CACHE, parallel=True)
def aggregate_by_origin(adjoint, emission, height_of_sector, origin_index, origin_fraction, out):
    """Accumulate ``out[w, s, o] += Σ_c A[w, h(s), c] E[s, c] F[o, c]`` over a window of cells.

    Parameters
    ----------
    adjoint : float64 array (n_weighting, n_height, ny, nx)
        Adjoint fields of one or several receptor weightings of the same window, per
        release-height class [ug m-3 per (t yr-1)].
    emission : float64 array (n_sector, ny, nx)
        Emission per cell [t yr-1].
    height_of_sector : int64 array (n_sector,)
        Release-height class of each sector.
    origin_index : int64 array (k, ny, nx)
        Up to ``k`` origins (territories) overlapping each cell, -1 for none.
    origin_fraction : float64 array (k, ny, nx)
        Share of the cell's emission from each of those origins (sums to 1 per cell).
    out : float64 array (n_weighting, n_sector, n_origin)
        Accumulator, updated in place.

    Notes
    -----
    Rows are processed in parallel into per-row partial sums, which are then added in row
    order: the result does not depend on the number of threads (deterministic).
    """
    n_w = adjoint.shape[0]
    n_sector, ny, nx = emission.shape
    n_origin = out.shape[2]
    k = origin_index.shape[0]
    partial = np.zeros((ny, n_w, n_sector, n_origin))
    for i in prange(ny):
        acc = partial[i]
        for j in range(nx):
            for s in range(n_sector):
                e = emission[s, i, j]
                if e == 0.0:
                    continue
                h = height_of_sector[s]
                for q in range(k):
                    o = origin_index[q, i, j]
                    if o < 0:
                        continue
                    ef = e * origin_fraction[q, i, j]
                    for w in range(n_w):
                        acc[w, s, o] += adjoint[w, h, i, j] * ef
    for i in range(ny):
        out += partial[i]


#: Rows of a window handled together by one task of :func:`aggregate_stack_by_origin`. The
#: partition (and so the order of the floating-point sums) does not depend on the number of
#: threads.
BLOCK_ROWS = 32


@njit(cache=CACHE, parallel=True)
def aggregate_stack_by_origin(
    adjoint,
    emission,
    pollutant,
    sectors,
    row0,
    col0,
    height_of_sector,
    origin_index,
    origin_fraction,
    shared_ptr,
    shared_col,
    out,
):
    """Accumulate ``out[w, s, o, p] += Σ_c A[w, h(s), c] E[s, P(p), c] F[o, c]`` over a window.

    The multi-pollutant form of :func:`aggregate_by_origin`: every sector and pollutant of an
    emission stack in one pass, the emission and origin layers given on the whole grid and the
    window by its first row and column.

    Parameters
    ----------
    adjoint : float64 array (n_weighting, n_height, wy, wx)
        Adjoint fields of the window [ug m-3 per (t yr-1)].
    emission : float32 or float64 array (n_sector, n_plane, ny, nx)
        Emission per cell on the grid [t yr-1]; fastest when C-contiguous.
    pollutant : int64 array (n_pollutant,)
        Planes of `emission` to aggregate (``P(p)``).
    sectors : int64 array
        The sectors to aggregate (increasing); the others are left as they are in `out`
        (give only sectors whose planes hold a non-zero value: a plane of zeros adds
        nothing but ±0 to a sum, so leaving it out gives the same bits).
    row0, col0 : int
        Grid row and column of the window's first cell.
    height_of_sector : int64 array (n_sector,)
        Release-height class of each sector.
    origin_index : int64 array (k, ny, nx)
        Up to ``k`` origins overlapping each cell of the grid, -1 for none.
    origin_fraction : float64 array (k, ny, nx)
        Share of the cell's emission from each of those origins.
    shared_ptr, shared_col : int64 arrays (k, ny + 1) and (n,)
        :func:`shared_cells` of `origin_index`: where the layers ``q > 0`` hold an origin.
    out : float64 array (n_weighting, n_sector, n_origin, n_pollutant)
        Accumulator, updated in place.

    Notes
    -----
    The window is cut into blocks of :data:`BLOCK_ROWS` rows, processed in parallel. Within a
    block, each emission plane is streamed row after row (contiguous reads) and multiplied
    with ``G = A F_0`` (first origin layer; formed for the height classes of the given
    sectors only, nothing at all when no sector is given) into per-column accumulators,
    vectorised over the columns; a column's accumulator is handed to its origin where the
    origin changes down the column and at the end of the block. Cells shared by several origins (layers ``q > 0``,
    rare: 0.24 % of the sample's cells at 100 m) are added one by one, found from
    `shared_ptr` and `shared_col` rather than by reading the layers ``q > 0`` of every cell
    of the window (a quarter of a window sum's time, for the same additions in the same
    order). The block sums are added in block order: the result does not
    depend on the number of threads. Accumulation is in float64.
    """
    n_w, n_h, ny, nx = adjoint.shape
    n_s = emission.shape[0]
    n_p = pollutant.shape[0]
    n_o = out.shape[2]
    k = origin_index.shape[0]
    n_b = (ny + BLOCK_ROWS - 1) // BLOCK_ROWS
    if sectors.shape[0] == 0 or n_p == 0:
        return
    # the height classes of the sectors given: G is formed for those only (the others'
    # would not be read)
    used = np.zeros(n_h, dtype=np.bool_)
    for s in sectors:
        used[height_of_sector[s]] = True
    partial = np.zeros((n_b, n_w, n_s, n_o, n_p))
    for b in prange(n_b):
        acc = partial[b]
        i0 = b * BLOCK_ROWS
        nb = min(ny, i0 + BLOCK_ROWS) - i0
        # G[h, w, i, j] = A[w, h, i, j] F_0[i, j] and the first-layer origin of each cell
        g = np.empty((n_h, n_w, nb, nx))
        o0 = np.empty((nb, nx), dtype=np.int64)
        # columns whose origin differs from the row above: (row start offsets, columns)
        brk_col = np.empty(nb * nx, dtype=np.int64)
        brk_start = np.zeros(nb + 1, dtype=np.int64)
        n_brk = 0
        for ib in range(nb):
            gi = row0 + i0 + ib
            brk_start[ib] = n_brk
            for j in range(nx):
                o = origin_index[0, gi, col0 + j]
                o0[ib, j] = o
                if ib > 0 and o != o0[ib - 1, j]:
                    brk_col[n_brk] = j
                    n_brk += 1
            f_row = origin_fraction[0, gi, col0 : col0 + nx]
            for h in range(n_h):
                if not used[h]:
                    continue
                for w in range(n_w):
                    a_row = adjoint[w, h, i0 + ib]
                    g_row = g[h, w, ib]
                    for j in range(nx):
                        g_row[j] = a_row[j] * f_row[j]
            for j in range(nx):
                if o0[ib, j] < 0:
                    for h in range(n_h):
                        if used[h]:
                            for w in range(n_w):
                                g[h, w, ib, j] = 0.0
        brk_start[nb] = n_brk
        col = np.empty((n_w, nx))
        for s in sectors:
            h = height_of_sector[s]
            for p in range(n_p):
                plane = pollutant[p]
                col[:, :] = 0.0
                for ib in range(nb):
                    for t in range(brk_start[ib], brk_start[ib + 1]):
                        j = brk_col[t]
                        o = o0[ib - 1, j]
                        for w in range(n_w):
                            if o >= 0:
                                acc[w, s, o, p] += col[w, j]
                            col[w, j] = 0.0
                    # row views: the loop below is vectorised (strided indexing is not)
                    e_row = emission[s, plane, row0 + i0 + ib, col0 : col0 + nx]
                    for w in range(n_w):
                        c_row = col[w]
                        g_row = g[h, w, ib]
                        for j in range(nx):
                            c_row[j] += g_row[j] * e_row[j]
                for j in range(nx):
                    o = o0[nb - 1, j]
                    if o >= 0:
                        for w in range(n_w):
                            acc[w, s, o, p] += col[w, j]
        # cells shared by several origins: the further layers, cell by cell
        for q in range(1, k):
            for ib in range(nb):
                gi = row0 + i0 + ib
                for t in range(shared_ptr[q, gi], shared_ptr[q, gi + 1]):
                    c = shared_col[t]  # increasing along the row
                    if c < col0:
                        continue
                    if c >= col0 + nx:
                        break
                    j = c - col0
                    o = origin_index[q, gi, c]
                    f = origin_fraction[q, gi, c]
                    for s in sectors:
                        h = height_of_sector[s]
                        for w in range(n_w):
                            a = adjoint[w, h, i0 + ib, j] * f
                            for p in range(n_p):
                                acc[w, s, o, p] += a * emission[s, pollutant[p], gi, col0 + j]
    for b in range(n_b):
        out += partial[b]


@njit(cache=CACHE)
def shared_cells(origin_index):
    """Where the layers ``q > 0`` of origin layers hold an origin, row by row.

    Parameters
    ----------
    origin_index : int64 array (k, ny, nx)
        Origins of each cell, -1 for none (:func:`trajectoire.attribution.origin_layers`).

    Returns
    -------
    ptr : int64 array (k, ny + 1)
        ``shared_col[ptr[q, i]:ptr[q, i + 1]]`` are the columns of row ``i`` where layer
        ``q`` holds an origin (``>= 0``), increasing; ``ptr[0]`` is all 0 (layer 0 is not
        listed).
    col : int64 array (n,)
        The columns, layer by layer, row by row.
    """
    k, ny, nx = origin_index.shape
    ptr = np.zeros((k, ny + 1), dtype=np.int64)
    n = 0
    for q in range(1, k):
        for i in range(ny):
            for j in range(nx):
                n += origin_index[q, i, j] >= 0
    col = np.empty(n, dtype=np.int64)
    t = 0
    for q in range(1, k):
        ptr[q, 0] = t
        for i in range(ny):
            for j in range(nx):
                if origin_index[q, i, j] >= 0:
                    col[t] = j
                    t += 1
            ptr[q, i + 1] = t
    return ptr, col
