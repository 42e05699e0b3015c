"""Exact conservative regridding between regular grids: 1-D overlaps and their outer product.

Two regular grids in the same CRS overlap cell by cell in rectangles. The overlap area of
source cell ``(i, j)`` and target cell ``(k, l)`` is the product of the overlap of the two
row intervals and the overlap of the two column intervals,

``A_{ij,kl} = |[y_i] ∩ [Y_k]| * |[x_j] ∩ [X_l]|``,

so the whole area-weight matrix is the Kronecker product of two 1-D overlap matrices and never
needs polygons. :func:`overlap_1d` computes the 1-D overlaps of two sorted edge arrays by a
merge (cost ``O(n + m)``); :func:`apply_separable` applies the product to stacked fields
without forming the 2-D matrix (cost proportional to the number of non-zero 2-D weights).
"""

import numpy as np
from numba import njit, prange

from ._config import CACHE


@njit(cache=CACHE)
def overlap_1d(src_edges, dst_edges):
    """Lengths of the overlaps of two partitions of a line into intervals.

    Parameters
    ----------
    src_edges, dst_edges : float64 arrays
        Strictly increasing interval edges (``n + 1`` and ``m + 1`` values): interval ``i`` is
        ``[edges[i], edges[i + 1]]``.

    Returns
    -------
    src, dst : int64 arrays
        Source and target interval of each non-empty overlap, sorted by target then source.
    length : float64 array
        Overlap length ``min(hi) - max(lo) > 0`` [units of the edges].
    """
    n = src_edges.shape[0] - 1
    m = dst_edges.shape[0] - 1
    cap = n + m + 1
    src = np.empty(cap, np.int64)
    dst = np.empty(cap, np.int64)
    length = np.empty(cap, np.float64)
    i = 0
    j = 0
    k = 0
    while i < n and j < m:
        lo = max(src_edges[i], dst_edges[j])
        hi = min(src_edges[i + 1], dst_edges[j + 1])
        if hi > lo:
            src[k] = i
            dst[k] = j
            length[k] = hi - lo
            k += 1
        if src_edges[i + 1] < dst_edges[j + 1]:
            i += 1
        elif src_edges[i + 1] > dst_edges[j + 1]:
            j += 1
        else:
            i += 1
            j += 1
    return src[:k], dst[:k], length[:k]


@njit(cache=CACHE, parallel=True)
def apply_separable(fields, y_ptr, y_src, y_w, x_ptr, x_src, x_w, out):
    """Apply separable weights ``W[(k, l), (i, j)] = wy[k, i] * wx[l, j]`` to stacked fields.

    ``out[f, k, l] = sum_i wy[k, i] * (sum_j wx[l, j] * fields[f, i, j])``.

    Parameters
    ----------
    fields : float64 array, shape (nf, ny_src, nx_src)
        Source fields.
    y_ptr, y_src, y_w : arrays
        Row weights in compressed form: the source rows of target row ``k`` are
        ``y_src[y_ptr[k]:y_ptr[k + 1]]`` with weights ``y_w[...]`` (``y_ptr`` has
        ``ny_dst + 1`` entries).
    x_ptr, x_src, x_w : arrays
        Column weights, same layout (``nx_dst + 1`` pointers).
    out : float64 array, shape (nf, ny_dst, nx_dst)
        Output, overwritten.

    Notes
    -----
    Two passes: columns first into a ``(nf, ny_src, nx_dst)`` buffer, then rows, whose
    inner loop runs over contiguous target columns (vectorised). Each output is summed in a
    fixed order, so the result does not depend on the number of threads.
    """
    nf = fields.shape[0]
    nys = fields.shape[1]
    ny = y_ptr.shape[0] - 1
    nx = x_ptr.shape[0] - 1
    tmp = np.zeros((nf, nys, nx))
    for fi in prange(nf * nys):
        f = fi // nys
        i = fi % nys
        for c in range(nx):
            acc = 0.0
            for b in range(x_ptr[c], x_ptr[c + 1]):
                acc += x_w[b] * fields[f, i, x_src[b]]
            tmp[f, i, c] = acc
    for fk in prange(nf * ny):
        f = fk // ny
        k = fk % ny
        a0 = y_ptr[k]
        a1 = y_ptr[k + 1]
        if a1 == a0:
            for c in range(nx):
                out[f, k, c] = 0.0
            continue
        i = y_src[a0]
        wy = y_w[a0]
        for c in range(nx):
            out[f, k, c] = wy * tmp[f, i, c]
        for a in range(a0 + 1, a1):
            i = y_src[a]
            wy = y_w[a]
            for c in range(nx):
                out[f, k, c] += wy * tmp[f, i, c]
    return out


@njit(cache=CACHE, parallel=True)
def apply_csr(fields, ptr, idx, w, out):
    """Apply a sparse weight matrix in CSR form to stacked flattened fields.

    ``out[f, t] = sum_{a in ptr[t]:ptr[t+1]} w[a] * fields[f, idx[a]]``.

    Parameters
    ----------
    fields : float64 array, shape (nf, n_src)
        Source fields, flattened.
    ptr, idx, w : arrays
        CSR pointers (``n_dst + 1``), source indices and weights.
    out : float64 array, shape (nf, n_dst)
        Output, overwritten.
    """
    nf = fields.shape[0]
    nt = ptr.shape[0] - 1
    for t in prange(nt):
        for f in range(nf):
            acc = 0.0
            for a in range(ptr[t], ptr[t + 1]):
                acc += w[a] * fields[f, idx[a]]
            out[f, t] = acc
    return out
