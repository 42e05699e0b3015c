"""Inverse-distance weighting (Shepard 1968) of station values onto many target points.

Numpy arrays in, SI units (metres), no xarray. The loop over targets is parallel (``prange``);
each target visits every station once (stations are few, targets are the grid cells).
"""

import math

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
    r2 = radius * radius
    half = 0.5 * power
    for t in prange(n_t):
        x = tx[t]
        y = ty[t]
        for f in range(n_f):
            num = 0.0
            den = 0.0
            num0 = 0.0
            cnt0 = 0
            for k in range(n_s):
                v = values[f, k]
                if math.isnan(v):
                    continue
                dx = x - sx[k]
                dy = y - sy[k]
                d2 = dx * dx + dy * dy
                if d2 > r2:
                    continue
                if d2 == 0.0:
                    num0 += v
                    cnt0 += 1
                    continue
                w = 1.0 / d2 if power == 2.0 else d2 ** (-half)
                num += w * v
                den += w
            if cnt0 > 0:
                out[f, t] = num0 / cnt0
            elif den > 0.0:
                out[f, t] = num / den
            else:
                out[f, t] = fill
