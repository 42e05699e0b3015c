"""Dispersion coefficients sigma_y(x), sigma_z(x) of the Pasquill-Gifford classes.

Schemes (integer codes used by every kernel):

* ``0`` Briggs (1973) open-country (rural) formulas,
* ``1`` Briggs (1973) urban formulas (McElroy-Pooler St. Louis data),
* ``2`` Pasquill-Gifford-Turner curves (Turner 1970 workbook) as fitted in ISC3
  (EPA-454/B-95-003b, Vol. II, Eqs. 1-33, 1-34 and Table 1-1).

Stability classes are integers ``0..5`` for ``A..F``. Distances are in metres, sigmas in
metres. Every function here is scalar and cheap, to be inlined in the plume loops.

References
----------
Briggs, G. A. (1973). Diffusion estimation for small emissions. ATDL contribution 79, NOAA.
Gifford, F. A. (1976). Turbulent diffusion-typing schemes: a review. Nucl. Saf. 17, 68-86.
Turner, D. B. (1970). Workbook of atmospheric dispersion estimates. EPA AP-26.
US EPA (1995). User's guide for the Industrial Source Complex (ISC3) dispersion models,
Vol. II. EPA-454/B-95-003b.
"""

import math

import numpy as np
from numba import njit

from ._config import CACHE

# Briggs rural: sigma_y = a x (1 + 1e-4 x)^-1/2 ; sigma_z = a x (1 + b x)^c
RURAL_SY_A = np.array([0.22, 0.16, 0.11, 0.08, 0.06, 0.04])
RURAL_SZ_A = np.array([0.20, 0.12, 0.08, 0.06, 0.03, 0.016])
RURAL_SZ_B = np.array([0.0, 0.0, 2e-4, 1.5e-3, 3e-4, 3e-4])
RURAL_SZ_C = np.array([0.0, 0.0, -0.5, -0.5, -1.0, -1.0])
# Briggs urban: sigma_y = a x (1 + 4e-4 x)^-1/2 ; sigma_z = a x (1 + b x)^c
URBAN_SY_A = np.array([0.32, 0.32, 0.22, 0.16, 0.11, 0.11])
URBAN_SZ_A = np.array([0.24, 0.24, 0.20, 0.14, 0.08, 0.08])
URBAN_SZ_B = np.array([1e-3, 1e-3, 0.0, 3e-4, 1.5e-3, 1.5e-3])
URBAN_SZ_C = np.array([0.5, 0.5, 0.0, -0.5, -0.5, -0.5])
# ISC3 fit of the Pasquill-Gifford sigma_y: 465.11628 x tan(0.017453293 (c - d ln x)), x [km]
PGT_SY_C = np.array([24.1670, 18.3330, 12.5000, 8.3330, 6.2500, 4.1667])
PGT_SY_D = np.array([2.5334, 1.8096, 1.0857, 0.72382, 0.54287, 0.36191])
# ISC3 Table 1-1: sigma_z = a x^b [m], x [km], on distance ranges; per class A..F three
# rows: the upper bound of each range (the last range of each class is open-ended, upper
# bound 1e30), then a, then b. Class A beyond 3.11 km is the constant 5000 m (a = 5000,
# b = 0).
_INF = 1e30
PGT_SZ_TABLE = np.array(
    [
        # A
        [0.10, 0.15, 0.20, 0.25, 0.30, 0.40, 0.50, 3.11, _INF, _INF],
        [122.800, 158.080, 170.220, 179.520, 217.410, 258.890, 346.750, 453.850, 5000.0, 0.0],
        [0.94470, 1.05420, 1.09320, 1.12620, 1.26440, 1.40940, 1.72830, 2.11660, 0.0, 0.0],
        # B
        [0.20, 0.40, _INF, _INF, _INF, _INF, _INF, _INF, _INF, _INF],
        [90.673, 98.483, 109.300, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        [0.93198, 0.98332, 1.09710, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        # C
        [_INF, _INF, _INF, _INF, _INF, _INF, _INF, _INF, _INF, _INF],
        [61.141, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        [0.91465, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        # D
        [0.30, 1.00, 3.00, 10.0, 30.0, _INF, _INF, _INF, _INF, _INF],
        [34.459, 32.093, 32.093, 33.504, 36.650, 44.053, 0.0, 0.0, 0.0, 0.0],
        [0.86974, 0.81066, 0.64403, 0.60486, 0.56589, 0.51179, 0.0, 0.0, 0.0, 0.0],
        # E
        [0.10, 0.30, 1.00, 2.00, 4.00, 10.0, 20.0, 40.0, _INF, _INF],
        [24.260, 23.331, 21.628, 21.628, 22.534, 24.703, 26.970, 35.420, 47.618, 0.0],
        [0.83660, 0.81956, 0.75660, 0.63077, 0.57154, 0.50527, 0.46713, 0.37615, 0.29592, 0.0],
        # F
        [0.20, 0.70, 1.00, 2.00, 3.00, 7.00, 15.0, 30.0, 60.0, _INF],
        [15.209, 14.457, 13.953, 13.953, 14.823, 16.187, 17.836, 22.651, 27.074, 34.219],
        [0.81558, 0.78407, 0.68465, 0.63227, 0.54503, 0.46490, 0.41507, 0.32681, 0.27436, 0.21716],
    ]
).reshape(6, 3, 10)
#: Upper bounds [km], a and b of the ranges, ``(class, range)`` each (rows of the table).
PGT_SZ_X = np.ascontiguousarray(PGT_SZ_TABLE[:, 0])
PGT_SZ_A = np.ascontiguousarray(PGT_SZ_TABLE[:, 1])
PGT_SZ_B = np.ascontiguousarray(PGT_SZ_TABLE[:, 2])
PGT_SZ_MAX = 5000.0  # ISC3 caps sigma_z at 5000 m


@njit(cache=CACHE)
def sigma_y_slope_bound(scheme, cls):
    """An upper bound of sigma_y(x) / x for all x > 0 (Briggs), or -1 when none is known."""
    if scheme == 0:
        return RURAL_SY_A[cls]
    if scheme == 1:
        return URBAN_SY_A[cls]
    return -1.0


@njit(cache=CACHE, error_model="numpy")
def _power(base, c):
    """``base ** c`` for the exponents of the Briggs formulas (0, +-1/2, -1) without pow."""
    if c == 0.0:
        return 1.0
    if c == -0.5:
        return 1.0 / math.sqrt(base)
    if c == 0.5:
        return math.sqrt(base)
    if c == -1.0:
        return 1.0 / base
    return base**c


@njit(cache=CACHE, error_model="numpy")
def sigma_y(x, scheme, cls):
    """Lateral dispersion coefficient sigma_y [m] at downwind distance `x` [m] > 0.

    Rural: ``a x (1 + 0.0001 x)^-1/2``; urban: ``a x (1 + 0.0004 x)^-1/2`` (Briggs 1973);
    PGT: ``465.11628 X tan(0.017453293 (c - d ln X))`` with ``X = x/1000`` (ISC3 Eq. 1-33).
    Returns 0 for ``x <= 0``.
    """
    if x <= 0.0:
        return 0.0
    if scheme == 0:
        return RURAL_SY_A[cls] * x / math.sqrt(1.0 + 1e-4 * x)
    if scheme == 1:
        return URBAN_SY_A[cls] * x / math.sqrt(1.0 + 4e-4 * x)
    xk = x * 1e-3
    th = 0.017453293 * (PGT_SY_C[cls] - PGT_SY_D[cls] * math.log(xk))
    return 465.11628 * xk * math.tan(th)


@njit(cache=CACHE, error_model="numpy")
def sigma_z(x, scheme, cls):
    """Vertical dispersion coefficient sigma_z [m] at downwind distance `x` [m] > 0.

    Rural and urban: ``a x (1 + b x)^c`` with Briggs (1973) constants; PGT: ``a X^b``
    (``X = x/1000``) on the distance ranges of ISC3 Table 1-1, capped at 5000 m.
    Returns 0 for ``x <= 0``.
    """
    if x <= 0.0:
        return 0.0
    if scheme == 0:
        return RURAL_SZ_A[cls] * x * _power(1.0 + RURAL_SZ_B[cls] * x, RURAL_SZ_C[cls])
    if scheme == 1:
        return URBAN_SZ_A[cls] * x * _power(1.0 + URBAN_SZ_B[cls] * x, URBAN_SZ_C[cls])
    xk = x * 1e-3
    k = 0
    while xk > PGT_SZ_X[cls, k]:
        k += 1
    s = PGT_SZ_A[cls, k] * xk ** PGT_SZ_B[cls, k]
    return min(s, PGT_SZ_MAX)


@njit(cache=CACHE)
def sigmas(x, scheme, cls, out_y, out_z):
    """Fill `out_y`, `out_z` with sigma_y, sigma_z [m] at the distances `x` [m] (1-D)."""
    for i in range(x.shape[0]):
        out_y[i] = sigma_y(x[i], scheme, cls[i])
        out_z[i] = sigma_z(x[i], scheme, cls[i])
