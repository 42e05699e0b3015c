"""Receptor aggregates of emission fields weighted by adjoint (footprint) fields.

For a linear dispersion model ``C = K * E`` (a convolution), any weighted mean of the
concentration over receptors, ``<w, C> = Σ_r w(r) C(r)``, equals ``<A, E>`` with the
*adjoint* field ``A = K ⋆ w`` (the correlation of the weights with the kernel): the
sensitivity of the receptor aggregate to the emission of each cell. Splitting ``E`` by
sector and territory of origin then gives the source-receptor contributions by cheap sums.
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
