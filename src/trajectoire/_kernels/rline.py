"""Finite line sources with initial spread (RLINE-like): concentration at receptor points.

A road segment emitting ``q`` [g m-1 s-1] is a continuum of point sources; its
concentration at a receptor is the integral along the segment of the Gaussian point-source
plume (Snyder et al. 2013; Venkatram et al. 2013)::

    C(r) = int_0^L q c1(x(s), y(s)) ds

with ``x(s)``, ``y(s)`` the downwind and crosswind distances of the receptor from the point
at arclength ``s`` and the unit plume

    c1 = 1 / (2 pi u sy sz) exp(-y^2 / 2 sy^2) V(z, h, sz, zi)

``V`` the vertical term with ground and lid reflections of :mod:`trajectoire._kernels.plume`.
The sigmas are those of the run's scheme (:mod:`trajectoire._kernels.sigma`) with the road's
initial spreads added in quadrature, ``sy^2 = sy(x)^2 + sy0^2``, ``sz^2 = sz(x)^2 + sz0^2``.
As in RLINE the initial lateral spread is the road's half width projected across the wind,
``sy0 = 0.5 W |t . d|`` (``t`` the segment's direction, ``d`` the wind's): 0 for a
perpendicular wind (the width then lies along the wind), half the width for a parallel one.
That keeps the parallel-wind integral finite for a receptor on the road's axis (without it
the integrand behaves as 1/x at the receptor).

Integration: the part of the segment upwind of the receptor (``x(s) > 0``) is cut into
panels no longer than half the local sigma_y across the wind (``0.5 sy / |a_y|``, ``a_y``
the segment's crosswind slope) and than a quarter of the distance scale along it
(``0.25 (x + x0) / |a_x|``, where sigma changes), each integrated by Gauss-Legendre
(6 nodes); the parts more than 9 sigma_y off the axis are skipped in steps. A perpendicular
wind (``a_x = 0``) and a parallel one (``a_y = 0``) need no special case: each bound is simply
absent. Upwind receptors receive nothing (RLINE's meander term is not modelled).

All quantities SI (m, s, g); wind directions meteorological (degree, from).

References
----------
Snyder, M. G., Venkatram, A., Heist, D. K., Perry, S. G., Petersen, W. B. and Isakov, V.
(2013). RLINE: A line source dispersion model for near-surface releases. Atmos. Environ.
77, 748-756.
Venkatram, A., Snyder, M. G., Heist, D. K., Perry, S. G., Petersen, W. B. and Isakov, V.
(2013). Re-formulation of plume spread for near-surface dispersion. Atmos. Environ. 77,
846-855.
"""

import math

import numpy as np
from numba import njit, prange

from ._config import CACHE
from .plume import TAIL, downwind_unit, plume_frame, vertical_term
from .sigma import sigma_y, sigma_z

# 6-point Gauss-Legendre nodes and weights on [-1, 1]
GL_X = np.array(
    [
        -0.9324695142031521,
        -0.6612093864662645,
        -0.2386191860831969,
        0.2386191860831969,
        0.6612093864662645,
        0.9324695142031521,
    ]
)
GL_W = np.array(
    [
        0.1713244923791704,
        0.3607615730479146,
        0.4679139345726910,
        0.4679139345726910,
        0.3607615730479146,
        0.1713244923791704,
    ]
)
MAX_PANELS = 100000  # per (segment, receptor, hour): a safety bound, never reached in tests


@njit(cache=CACHE, error_model="numpy")
def spread_plume(x, y, z, h, sy0, sz0, zi, scheme, cls):
    """Unit point plume ``u C / q`` [m-2] with initial spreads (0 for ``x <= 0``).

    ``exp(-y^2 / 2 sy^2) V(z, h, sz, zi) / (2 pi sy sz)`` with ``sy^2 = sy(x)^2 + sy0^2`` and
    ``sz^2 = sz(x)^2 + sz0^2``.
    """
    if x <= 0.0:
        return 0.0
    a = sigma_y(x, scheme, cls)
    b = sigma_z(x, scheme, cls)
    sy = math.sqrt(a * a + sy0 * sy0)
    sz = math.sqrt(b * b + sz0 * sz0)
    if sy <= 1e-100 or sz <= 1e-100:
        return 0.0
    ey = y * y / (2.0 * sy * sy)
    if ey > TAIL:
        return 0.0
    return math.exp(-ey) * vertical_term(z, h, sz, zi) / (2.0 * math.pi * sy * sz)


@njit(cache=CACHE, error_model="numpy")
def segment_value(x0, y0, x1, y1, h, sz0, width, rx, ry, rz, dxw, dyw, zi, scheme, cls):
    """Integral ``int_0^L c1 ds`` [m-1] of the unit plume along one segment (``u C / q``).

    ``(dxw, dyw)`` is the unit vector of the wind's travel (towards) in the map frame.
    """
    length = math.hypot(x1 - x0, y1 - y0)
    if length <= 0.0:
        return 0.0
    tx = (x1 - x0) / length
    ty = (y1 - y0) / length
    # the receptor and the segment in plume coordinates (x along the wind), and the part of
    # the segment upwind of the receptor, x(s) = xr - s ax > 0 for s in [sa, sb]
    xr, yr, ax, ay, sa, sb = plume_frame(rx - x0, ry - y0, tx, ty, dxw, dyw, length)
    sy0 = 0.5 * width * abs(ax)
    if sb <= sa:
        return 0.0
    # distance scale of the sigmas: below x0 the initial spreads dominate
    x0s = max(sz0, sy0, 0.1)
    smin = 1e-9 * length
    total = 0.0
    s = sa
    it = 0
    while s < sb and it < MAX_PANELS:
        it += 1
        xs = max(xr - s * ax, 0.0)
        ys = yr - s * ay
        sa_y = sigma_y(max(xs, 1e-6), scheme, cls)
        sy = math.sqrt(sa_y * sa_y + sy0 * sy0)
        if abs(ys) > 9.0 * sy:
            # far off the plume axis. |y| - 8.5 sy changes by at most (|ay| + 4.5 |ax|) per
            # metre of s (d sigma_y / dx < 0.5 in every scheme), so nothing is within 8.5 sy
            # before that step; moving away from the axis with the segment's largest sigma
            # still 9 times smaller than |y|, the rest of the segment is skipped
            if ys * ay < 0.0 or ay == 0.0:
                a_far = sigma_y(max(xr - sa * ax, xr - sb * ax, 1e-6), scheme, cls)
                if abs(ys) > 9.0 * math.sqrt(a_far * a_far + sy0 * sy0):
                    break
            step = max((abs(ys) - 8.5 * sy) / (abs(ay) + 4.5 * abs(ax)), smin)
            s = min(s + step, sb)
            continue
        step = 1e300
        if abs(ay) > 0.0:
            step = 0.5 * sy / abs(ay)
        if abs(ax) > 0.0:
            step = min(step, 0.25 * (xs + x0s) / abs(ax))
        step = max(step, smin)
        se = min(s + step, sb)
        half = 0.5 * (se - s)
        mid = 0.5 * (se + s)
        acc = 0.0
        for k in range(GL_X.shape[0]):
            sk = mid + half * GL_X[k]
            acc += GL_W[k] * spread_plume(
                xr - sk * ax, yr - sk * ay, rz, h, sy0, sz0, zi, scheme, cls
            )
        total += acc * half
        s = se
    return total


@njit(parallel=True, cache=CACHE)
def lines_at_receptors(
    x0, y0, x1, y1, q, h, sz0, width, rx, ry, rz, wind_dir, inv_u, cls, zi, weight, scheme, out
):
    """Weighted sum over met cases of each segment's concentration [g m-3] at receptors.

    Segments ``(x0, y0) -> (x1, y1)`` [m] emit ``q`` [g m-1 s-1] at height ``h`` [m] with
    initial sigma_z ``sz0`` and road width ``width`` [m]. Met cases ``k``: wind from
    ``wind_dir[k]`` [degree], ``inv_u[k]`` = 1/u [s m-1], class ``cls[k]``, lid ``zi[k]``
    [m], weight ``weight[k]`` [1]. ``out[i, j] = q[j] sum_k weight[k] inv_u[k] I_jk(i)``
    (receptor ``i``, segment ``j``). The (receptor, segment) pairs run in parallel; each adds
    its cases in order (deterministic).
    """
    ns = x0.shape[0]
    nk = wind_dir.shape[0]
    dxw = np.empty(nk)
    dyw = np.empty(nk)
    for k in range(nk):
        dxw[k], dyw[k] = downwind_unit(wind_dir[k])
    for m in prange(rx.shape[0] * ns):
        i = m // ns
        j = m - i * ns
        acc = 0.0
        if q[j] != 0.0:
            for k in range(nk):
                if weight[k] == 0.0:
                    continue
                acc += weight[k] * inv_u[k] * segment_value(
                    x0[j], y0[j], x1[j], y1[j], h[j], sz0[j], width[j],
                    rx[i], ry[i], rz[i], dxw[k], dyw[k], zi[k], scheme, cls[k],
                )  # fmt: skip
        out[i, j] = q[j] * acc


@njit(parallel=True, cache=CACHE)
def lines_hourly(
    x0, y0, x1, y1, q, h, sz0, width, rx, ry, rz, wind_dir, inv_u, cls, zi, scheme, out
):
    """Line-source concentration [g m-3] at receptors for each hour: ``out[k, i]``.

    Arguments as :func:`lines_at_receptors` (one case per hour, no weights). Hours with
    ``inv_u[k] == 0`` (missing) are left at 0.
    """
    ns = x0.shape[0]
    nk = wind_dir.shape[0]
    for m in prange(nk * rx.shape[0]):
        k = m // rx.shape[0]
        i = m - k * rx.shape[0]
        if inv_u[k] == 0.0:
            out[k, i] = 0.0
            continue
        dxw, dyw = downwind_unit(wind_dir[k])
        part = 0.0
        for j in range(ns):
            if q[j] == 0.0:
                continue
            part += q[j] * segment_value(
                x0[j], y0[j], x1[j], y1[j], h[j], sz0[j], width[j],
                rx[i], ry[i], rz[i], dxw, dyw, zi[k], scheme, cls[k],
            )  # fmt: skip
        out[k, i] = inv_u[k] * part
