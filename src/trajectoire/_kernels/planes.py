"""Sums of whole-grid planes in one pass; a plane's cells inside a mask, branch-free.

:func:`planes_sum` adds selected planes of a ``(plane, ny, nx)`` stack into one float64
plane, row by row: each plane is read once and the sum is written once, where the same sum
by numpy (``field += planes[k]`` for each ``k``) reads and writes the float64 field again
for every plane. The operations on each cell are the same, in the same order, so the result
is the same, bit for bit (``tests/test_kernels_planes.py`` checks it against numpy).
"""

import numpy as np
from numba import njit, prange

from ._config import CACHE


@njit(cache=CACHE, parallel=True)
def planes_sum(planes, sel, weights, out):
    """``out = (((+0 + x_0) + x_1) + ...)`` cell by cell, ``x_k = planes[sel[k]]`` (times
    ``weights[sel[k]]`` when `weights` is not None), added in float64, then written in the
    type of `out`; returns whether a sum is not 0 (before that conversion).

    Parameters
    ----------
    planes : float32 or float64 array (n_plane, ny, nx)
        The planes (e.g. one pollutant's emission of each sector [t yr-1]).
    sel : int64 array
        The planes to add, in the order they are added.
    weights : float32 or float64 array (n_plane,) or None
        A factor of each plane: ``x_k = planes[sel[k]] * weights[sel[k]]``, the product in
        the type numpy gives it (float32 planes and float32 weights: float32; a float64
        operand: float64), then added in float64.
    out : float64 or float32 array (ny, nx), any strides
        Written (its values before are not read). A float32 `out` receives each float64
        sum rounded to float32, as ``numpy.asarray(sum, dtype=np.float32)`` gives it (the
        corner of a single-precision FFT's padded array, filled without a float64 field
        in between).

    Returns
    -------
    bool
        Whether some float64 sum is not 0 (NaN counts as not 0): ``field.any()`` of the
        float64 field, whatever the type of `out`.

    Notes
    -----
    The sum of each cell starts from +0 and adds the planes in the order of `sel`: the
    operations of ``field = np.zeros(...)`` followed by ``field += planes[k]`` (or
    ``field += planes[k] * weights[k]``) for ``k`` in `sel`, which numpy applies to each
    cell independently. Each row is summed in a float64 row of its own, then written.
    Rows are processed in parallel; the result does not depend on the number of threads.
    """
    ny, nx = out.shape
    nb = (ny + SUM_ROWS - 1) // SUM_ROWS
    nonzero = np.zeros(nb, dtype=np.int64)
    for b in prange(nb):
        acc = np.empty(nx)  # one float64 row per block of rows
        count = 0
        for i in range(b * SUM_ROWS, min(ny, (b + 1) * SUM_ROWS)):
            acc[:] = 0.0
            for k in sel:
                src = planes[k, i]
                if weights is None:
                    for j in range(nx):
                        acc[j] += src[j]
                else:
                    w = weights[k]
                    for j in range(nx):
                        acc[j] += src[j] * w
            row = out[i]
            for j in range(nx):
                row[j] = acc[j]
            for j in range(nx):
                count += acc[j] != 0.0
        nonzero[b] = count
    return nonzero.sum() > 0


#: Rows of a block of :func:`planes_sum` (one task of its parallel loop).
SUM_ROWS = 16


@njit(cache=CACHE, nogil=True)
def masked_inside(plane, inside, out):
    """A plane's cells inside a mask as float32, and whether a NaN lies beyond it.

    ``out[j] = float32(plane.flat[inside[j]])`` (the value times 1, as numpy's
    multiplication by a plane of 1 inside the mask and NaN beyond gives it there).

    Parameters
    ----------
    plane : float32 or float64 array (ny, nx), C-contiguous
        The plane (e.g. a sector's contribution [ug m-3]).
    inside : int64 array (n,)
        The flat indices of the cells inside the mask, increasing.
    out : float32 array (n,)
        Filled with the values inside.

    Returns
    -------
    (bool, bool)
        Whether a cell beyond the mask holds NaN (its bits after the blanking multiplication
        are then not known here: the caller takes numpy's path), and whether every value
        written to `out` is +0 (its bits all 0).

    Notes
    -----
    Three branch-free loops that the compiler vectorises: the gather of the cells inside,
    the OR and the NaN count of their bits, and the NaN count of the whole plane (a NaN
    lies beyond the mask when the plane holds more than the cells inside). A single loop
    over every cell asking whether it is inside cost ten times as much (6 ms against 0.7
    ms for a 100 m plane of the sample, 2.7 million cells).
    """
    flat = plane.ravel()
    for j in range(inside.shape[0]):
        out[j] = np.float32(flat[inside[j]] * 1.0)
    bits = out.view(np.uint32)
    seen = np.uint32(0)
    nan_in = 0
    for j in range(bits.shape[0]):
        b = bits[j]
        seen |= b
        nan_in += (b & np.uint32(0x7FFFFFFF)) > np.uint32(0x7F800000)
    nan_all = 0
    for k in range(flat.shape[0]):
        v = flat[k]
        nan_all += v != v
    return nan_all > nan_in, seen == 0
