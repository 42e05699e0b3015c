"""Inverse-distance weighting (Shepard 1968) of station values onto many target points.

Numpy arrays in, SI units (metres), no xarray. The loop over targets is parallel (``prange``);
each target visits every station once (stations are few, targets are the grid cells).
"""

import math

import numpy as np
from numba import njit, prange

from ._config import CACHE

__all__ = ["idw"]


@njit(cache=CACHE, parallel=True)
def idw(tx, ty, sx, sy, values, power, radius, fill, out):
    """Shepard inverse-distance weighted mean of station values at target points.

    Parameters
    ----------
    tx, ty : float64[n_target]
        Target coordinates [m].
    sx, sy : float64[n_station]
        Station coordinates [m].
    values : float64[n_field, n_station]
        Values to interpolate, one row per field (NaN: the station is skipped in that field).
    power : float
        Exponent ``p`` of the weights ``w_k = d_k ** -p`` (> 0).
    radius : float
        Search radius [m]: stations farther than ``radius`` get no weight (``inf`` for all).
    fill : float
        Value where no station lies within ``radius``.
    out : float64[n_field, n_target]
        Result, written in place.

    Notes
    -----
    .. math:: \\hat v(x) = \\frac{\\sum_{k: d_k \\le R} d_k^{-p} v_k}
              {\\sum_{k: d_k \\le R} d_k^{-p}}

    A target at distance 0 of a station takes that station's value (exact interpolator); if
    several stations coincide with it, their mean. Accumulation in float64.
    """
    n_t = tx.shape[0]
    n_s = sx.shape[0]
    n_f = values.shape[0]
    for t in prange(n_t):
        num = np.zeros(n_f)
        den = np.zeros(n_f)
        num0 = np.zeros(n_f)
        cnt0 = np.zeros(n_f)
        exact = False
        for k in range(n_s):
            dx = tx[t] - sx[k]
            dy = ty[t] - sy[k]
            d = math.sqrt(dx * dx + dy * dy)
            if d > radius:
                continue
            if d == 0.0:
                exact = True
                for f in range(n_f):
                    v = values[f, k]
                    if not math.isnan(v):
                        num0[f] += v
                        cnt0[f] += 1.0
                continue
            w = d ** (-power)
            for f in range(n_f):
                v = values[f, k]
                if not math.isnan(v):
                    num[f] += w * v
                    den[f] += w
        for f in range(n_f):
            if exact and cnt0[f] > 0.0:
                out[f, t] = num0[f] / cnt0[f]
            elif den[f] > 0.0:
                out[f, t] = num[f] / den[f]
            else:
                out[f, t] = fill
