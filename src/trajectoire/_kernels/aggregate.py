"""Receptor aggregates of emission fields weighted by an adjoint (footprint) field.

For a linear dispersion model ``C = K * E`` (a convolution), any weighted mean of the
concentration over receptors, ``<w, C> = Σ_r w(r) C(r)``, equals ``<A, E>`` with the
*adjoint* field ``A = K ⋆ w`` (the correlation of the weights with the kernel): the
sensitivity of the receptor aggregate to the emission of each cell. Splitting ``E`` by
sector and territory of origin then gives the source-receptor contributions by cheap sums.
"""

from numba import njit

from ._config import CACHE


@njit(cache=CACHE)
def aggregate_by_origin(adjoint, emission, height_of_sector, origin_index, origin_fraction, out):
    """Accumulate ``out[s, o] += Σ_c A[h(s), c] E[s, c] F[o, c]`` over a window of cells.

    Parameters
    ----------
    adjoint : float64 array (n_height, ny, nx)
        Adjoint field per release-height class [ug m-3 per (t yr-1)].
    emission : float64 array (n_sector, ny, nx)
        Emission per cell [t yr-1].
    height_of_sector : int64 array (n_sector,)
        Release-height class of each sector.
    origin_index : int64 array (k, ny, nx)
        Up to ``k`` origins (territories) overlapping each cell, -1 for none.
    origin_fraction : float64 array (k, ny, nx)
        Share of the cell's emission from each of those origins (sums to 1 per cell).
    out : float64 array (n_sector, n_origin)
        Accumulator, updated in place. Cells are visited in a fixed order, so the sum is
        deterministic.
    """
    n_sector, ny, nx = emission.shape
    k = origin_index.shape[0]
    for i in range(ny):
        for j in range(nx):
            for s in range(n_sector):
                e = emission[s, i, j]
                if e == 0.0:
                    continue
                v = adjoint[height_of_sector[s], i, j] * e
                if v == 0.0:
                    continue
                for q in range(k):
                    o = origin_index[q, i, j]
                    if o >= 0:
                        out[s, o] += v * origin_fraction[q, i, j]
