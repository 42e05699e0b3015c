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

Integration: the part of the segment upwind of the receptor (``x(s) > 0``) is integrated
from its point nearest the plume's axis (where it crosses ``y = 0``, else its end of least
``|y|``) towards both its ends, in panels no longer than half the local sigma_y across the
wind (``0.5 sy / |a_y|``, ``a_y`` the segment's crosswind slope, ``sy`` at the panel's start,
sigma_y taken linear in x below ``X_LINEAR`` = 1e-6 m) and than a quarter of the distance
scale along it (``0.25 (x + x0) / |a_x|``, where sigma changes), each integrated by
Gauss-Legendre (6 nodes); the parts more than 9 sigma_y off the axis are skipped in steps.
A perpendicular wind (``a_x = 0``) and a parallel one (``a_y = 0``) need no special case:
each bound is simply absent. Upwind receptors receive nothing (RLINE's meander term is not
modelled). Points are located from the segment's nearer end point, so that a receptor on an
end point is at ``x = y = 0`` exactly; where the part is cut at ``x = 0``, ``y`` there is
``cross(segment, receptor - end) / (L a_x)``, exactly 0 for a receptor on the road's line.

A receptor on the line of a road nearly across the wind (``|a_x|`` small): the points ``v``
metres from it are ``|a_x| v`` upwind and ``|a_y| v`` aside, their plume ``sigma_y0 = 0.5 W
|a_x|`` wide, so that the integrand is a half Gaussian in ``v``, ``0.5 W |a_x| / |a_y|``
wide (1e-8 m for a road rising 2**-23 m over 56 m), whose integral does not depend on
``a_x``: ``u C / q = V / (2 sqrt(2 pi) sigma_z0)``, the half line. The panels follow that
width down to ``SY_CUT`` (1e-100 m, below which a plume is 0); the shortest step is
``SY_CUT / 10``, or ``1e-9 L`` without initial spread (``W = 0``, where ``c1 ~ 1/v`` at a
receptor on the road's line). Exactly across the wind (``a_x = 0``) the road's line is at
``x = 0`` and gives nothing: the value jumps at that one angle, from the half line (the
side of the road upwind of the receptor, for any ``a_x`` however small) to 0, as it does
for a receptor that crosses the line of a road exactly across the wind (0 on it, the whole
line just downwind). The jump is the model's (no upwind diffusion), not the quadrature's.
Next to it the value is ill-conditioned: a receptor ``dn`` metres off the road's line is
``dn / |a_x|`` across the wind from where the line crosses ``x = 0``, so it sees the half
line only within about ``0.5 W a_x^2`` of the line; for a road within ~5e-8 rad of
perpendicular (W = 10 m), a receptor within rounding (1e-14 m) of its line gets a value set by
that rounding. Splitting such a road at a computed point and putting the receptor there is
therefore ill-posed; points exactly on the line (exact coordinate differences, as on the
axes) are on it for the whole road and for each part.

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
from .plume import TAIL, downwind_unit, vertical_term
from .sigma import sigma_y, sigma_z

# 6-point Gauss-Legendre nodes and weights on [-1, 1], correctly rounded (Newton on P6 in
# 60 digits; the middle weight was 0.3607615730479146, 2.2e-13 low, so that the weights
# summed to 2 - 4.5e-13 and every integral came out 2.2e-13 low)
GL_X = np.array(
    [
        -0.932469514203152,
        -0.6612093864662645,
        -0.2386191860831969,
        0.2386191860831969,
        0.6612093864662645,
        0.932469514203152,
    ]
)
GL_W = np.array(
    [
        0.17132449237917036,
        0.3607615730481386,
        0.46791393457269104,
        0.46791393457269104,
        0.3607615730481386,
        0.17132449237917036,
    ]
)
MAX_PANELS = 100000  # per piece (two per segment, receptor, hour): a safety bound, never reached
SY_CUT = 1e-100  # a plume whose sigma_y or sigma_z is at most this [m] is 0 (spread_plume)
X_LINEAR = 1e-6  # [m] below it the panel lengths take sigma_y linear in x (_sigma_y_below)


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
    if sy <= SY_CUT or sz <= SY_CUT:
        return 0.0
    ey = y * y / (2.0 * sy * sy)
    if ey > TAIL:
        return 0.0
    return math.exp(-ey) * vertical_term(z, h, sz, zi) / (2.0 * math.pi * sy * sz)


@njit(cache=CACHE, error_model="numpy")
def _sigma_y_below(x, scheme, cls):
    """sigma_y [m] for the panel lengths: ``sigma_y(x)``, and below ``X_LINEAR`` the line
    ``sigma_y(X_LINEAR) x / X_LINEAR``, under sigma_y there (sigma_y / x falls with x in every
    scheme) and clear of the pole of the PGT fit (its angle reaches 90 degrees at x = 5e-9 m
    for class A, 6e-15 m for B)."""
    if x >= X_LINEAR:
        return sigma_y(x, scheme, cls)
    return sigma_y(X_LINEAR, scheme, cls) * (max(x, 0.0) / X_LINEAR)


@njit(cache=CACHE, error_model="numpy")
def _walk(xp, yp, cx, cy, span, h, sz0, sy0, sy_far, x0s, smin, rz, zi, scheme, cls):
    """``int_0^span c1 dv`` [m-1] along a straight piece walked from the point of it nearest
    the plume's axis, ``(x, y) = (xp + cx v, yp + cy v)`` (``|y|`` does not fall along it);
    ``sy_far`` is sigma_y (with the initial spread) at the piece's largest x.

    Panels no longer than half of sigma_y across the wind and a quarter of the distance
    scale along it, the part more than 9 sigma_y off the axis skipped (the module's
    docstring).
    """
    bx = abs(cx)
    by = abs(cy)
    total = 0.0
    v = 0.0
    it = 0
    while v < span and it < MAX_PANELS:
        it += 1
        xs = max(xp + cx * v, 0.0)
        ys = yp + cy * v
        a = _sigma_y_below(xs, scheme, cls)
        sy = math.sqrt(a * a + sy0 * sy0)
        if abs(ys) > 9.0 * sy:
            # far off the plume axis. |y| - 8.5 sy changes by at most (|cy| + 4.5 |cx|) per
            # metre of v (d sigma_y / dx < 0.5 in every scheme), so nothing is within 8.5 sy
            # before that step; moving away from the axis with the largest sigma of the rest
            # (here if x does not grow, else at the piece's end) still 9 times smaller than
            # |y|, the rest is skipped
            if ys * cy >= 0.0 and (cx <= 0.0 or abs(ys) > 9.0 * sy_far):
                break
            step = max((abs(ys) - 8.5 * sy) / (by + 4.5 * bx), smin, 1e-15 * v)
            v = min(v + step, span)
            continue
        # (where x falls along the panel, towards the receptor, sy falls over it by at most
        # 0.5 bx step <= 0.25 |cx / cy| sy, and x by at most a quarter of x + x0)
        step = 1e300
        if by > 0.0:
            step = 0.5 * sy / by
        if bx > 0.0:
            step = min(step, 0.25 * (xs + x0s) / bx)
        step = max(step, smin, 1e-15 * v)  # 1e-15 v: each step moves v, whatever rounds
        ve = min(v + step, span)
        half = 0.5 * (ve - v)
        mid = 0.5 * (ve + v)
        acc = 0.0
        for k in range(GL_X.shape[0]):
            vk = mid + half * GL_X[k]
            acc += GL_W[k] * spread_plume(
                xp + cx * vk, yp + cy * vk, rz, h, sy0, sz0, zi, scheme, cls
            )
        total += acc * half
        v = ve
    return total


@njit(cache=CACHE, error_model="numpy")
def _cut_y(dx, dy, ex, ey, lax):
    """Crosswind coordinate [m] of the point where a segment ``(dx, dy)`` [m] crosses the
    line through the receptor across the wind (``x = 0``), from an end point ``(ex, ey)`` [m]
    from it (receptor minus end): ``cross(segment, receptor - end) / (L a_x)``, with
    ``lax = L a_x`` the segment's length along the wind."""
    return (dx * ey - dy * ex) / lax


@njit(cache=CACHE, error_model="numpy")
def segment_value(x0, y0, x1, y1, h, sz0, width, rx, ry, rz, dxw, dyw, zi, scheme, cls):
    """Integral ``int_0^L c1 ds`` [m-1] of the unit plume along one segment (``u C / q``).

    ``(dxw, dyw)`` is the unit vector of the wind's travel (towards) in the map frame.
    """
    # the receptor in plume coordinates (x along the wind) seen from each end point; along
    # the segment x and y are linear, x(s) = xa - s ax = xb + (L - s) ax, the same for y
    xa = (rx - x0) * dxw + (ry - y0) * dyw
    ya = -(rx - x0) * dyw + (ry - y0) * dxw
    xb = (rx - x1) * dxw + (ry - y1) * dyw
    yb = -(rx - x1) * dyw + (ry - y1) * dxw
    x_far = max(xa, xb)
    if x_far <= 0.0:  # downwind of the receptor
        return 0.0
    a_far = _sigma_y_below(x_far, scheme, cls)
    if ya * yb > 0.0 and min(abs(ya), abs(yb)) > 9.0 * math.hypot(a_far, 0.5 * width):
        # more than 9 sigma_y off the axis everywhere (sigma_y0 <= W / 2): nothing
        return 0.0
    dx = x1 - x0
    dy = y1 - y0
    length = math.hypot(dx, dy)
    if length <= 0.0:
        return 0.0
    lax = dx * dxw + dy * dyw  # L ax
    ax = lax / length
    ay = (-dx * dyw + dy * dxw) / length
    # the part upwind of the receptor (x > 0): its length and its ends in plume coordinates,
    # each measured from the nearer end point. Where it is cut at x = 0, y there is
    # cross(segment, receptor - end) / (L ax): exactly 0 for a receptor on the road's line
    # (when the coordinates' differences and their products are exact), however small ax
    span = length
    xp0, yp0 = xa, ya
    xp1, yp1 = xb, yb
    if ax < 0.0:  # x grows from the start to the end
        if xb <= 0.0:
            return 0.0
        if xa < 0.0:
            if -xa <= xb:  # nearer the start
                span, yp0 = length - xa / ax, _cut_y(dx, dy, rx - x0, ry - y0, lax)
            else:
                span, yp0 = -xb / ax, _cut_y(dx, dy, rx - x1, ry - y1, lax)
            xp0 = 0.0
    elif ax > 0.0:  # x falls
        if xa <= 0.0:
            return 0.0
        if xb < 0.0:
            if xa <= -xb:
                span, yp1 = xa / ax, _cut_y(dx, dy, rx - x0, ry - y0, lax)
            else:
                span, yp1 = length + xb / ax, _cut_y(dx, dy, rx - x1, ry - y1, lax)
            xp1 = 0.0
    elif xa <= 0.0:  # across the wind: x constant
        return 0.0
    sy0 = 0.5 * width * abs(ax)
    # the anchor: the point of the part nearest the plume's axis, y = 0 if it crosses it, else
    # the end of least |y|, located from that end. The part is integrated from there towards
    # both ends, so that the plume is resolved wherever it is narrow: on the axis next to the
    # receptor, where it is 0.5 W |ax| / |ay| wide for a receptor on the road's line
    across = yp0 * yp1 < 0.0
    if abs(yp0) <= abs(yp1):
        d = min(max(yp0 / ay, 0.0), span) if across else 0.0
        xp, yp, span0, span1 = xp0 - ax * d, yp0, d, span - d
    else:
        d = min(max(-yp1 / ay, 0.0), span) if across else 0.0
        xp, yp, span0, span1 = xp1 + ax * d, yp1, span - d, d
    xp = max(xp, 0.0)
    if across:
        yp = 0.0
    # nowhere within 9 sigma_y of the axis (|y| >= |yp|, sigma_y largest at the largest x):
    # nothing
    sy_far = math.sqrt(a_far * a_far + sy0 * sy0)
    if abs(yp) > 9.0 * sy_far:
        return 0.0
    # distance scale of the sigmas: below x0 the initial spreads dominate
    x0s = max(sz0, sy0, 0.1)
    # the shortest step: SY_CUT / 10 (the plume is 0 where sy <= SY_CUT, and panels are
    # 0.5 sy / |ay| >= 0.5 sy long), or, without an initial lateral spread (width 0), 1e-9 L:
    # there sy -> 0 at x -> 0, and a receptor on the road's line sees c1 ~ 1/v
    smin = 0.1 * SY_CUT
    if sy0 == 0.0 and ax != 0.0:
        smin = 1e-9 * length
    total = 0.0
    if span0 > 0.0:  # towards the start
        total += _walk(xp, yp, ax, ay, span0, h, sz0, sy0, sy_far, x0s, smin, rz, zi, scheme, cls)
    if span1 > 0.0:  # towards the end
        total += _walk(xp, yp, -ax, -ay, span1, h, sz0, sy0, sy_far, x0s, smin, rz, zi, scheme, cls)
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
