"""Gaussian plume kernels: point release with ground and lid reflections, line sources.

The steady Gaussian plume of a continuous point release ``q`` [g s-1] at effective height
``H`` [m] in a wind ``u`` [m s-1] blowing along ``x`` (Turner 1970; Seinfeld and Pandis 2016,
ch. 18)::

    C(x, y, z) = q / (2 pi u sy sz) exp(-y^2 / 2 sy^2) V(z, H, sz, zi)

with the vertical term ``V`` summing the ground-reflected source and, under a mixing lid at
``zi``, the image sources at ``+-H + 2 n zi``::

    V = sum_n [exp(-(z - H + 2 n zi)^2 / 2 sz^2) + exp(-(z + H + 2 n zi)^2 / 2 sz^2)]

When ``sz > 1.6 zi`` the material is well mixed below the lid and ``V = sqrt(2 pi) sz / zi``
(ISC3 Vol. II Eq. 1-52). The two forms agree there to 7e-6 relative (by Poisson summation
the image sum is the well-mixed value times ``1 + 2 sum_k exp(-pi^2 k^2 sz^2 / 2 zi^2)
cos(k pi z / zi) cos(k pi H / zi)``), so the switch is all but seamless; both conserve mass. A plume whose
effective height is above the lid (``H > zi``) leaves no ground-level concentration (ISC3).
No lid is encoded as ``zi = inf``. The lateral tail beyond ten sigma_y (``exp(-y^2 / 2 sy^2)
< exp(-50) = 2e-22``) is set to 0, which lets the multi-source loops skip those receptors
before computing anything.

All quantities are SI (m, s, g); kernels never see units strings.
"""

import math

from numba import njit, prange

from ._config import CACHE
from .sigma import sigma_y, sigma_z

SQRT_2PI = math.sqrt(2.0 * math.pi)
NO_LID = 1e29  # any mixing height above this is "no lid"
TAIL = 50.0  # lateral tail cut: y^2 / (2 sy^2) > TAIL (|y| > 10 sy, exp(-50) = 2e-22) gives 0


@njit(cache=CACHE, error_model="numpy")
def vertical_term(z, h, sz, zi):
    """Vertical term V(z, H, sigma_z, z_i) [-] with ground and lid reflections.

    ``zi >= 1e29`` (or inf) means no lid: ground reflection only.
    """
    if sz <= 1e-100:
        return 0.0
    two_s2 = 2.0 * sz * sz
    if zi >= NO_LID:
        inv0 = 1.0 / two_s2
        return math.exp(-(z - h) * (z - h) * inv0) + math.exp(-(z + h) * (z + h) * inv0)
    if h > zi or z > zi:
        return 0.0
    if sz > 1.6 * zi:
        return SQRT_2PI * sz / zi
    nmax = int(4.5 * sz / zi) + 2
    inv = 1.0 / two_s2
    # the direct term (n = 0) is the largest; images below exp(-TAIL) of it are not computed.
    # For 0 <= z, h <= zi both exponents grow with |n| once n != 0, so each direction of the
    # image series stops at the first n whose two terms are below the cut.
    cut = (z - h) * (z - h) * inv + TAIL
    v = math.exp(-(z - h) * (z - h) * inv) + math.exp(-(z + h) * (z + h) * inv)
    for sign in (1.0, -1.0):
        for k in range(1, nmax + 1):
            shift = sign * 2.0 * k * zi
            a = z - h + shift
            b = z + h + shift
            ea = a * a * inv
            eb = b * b * inv
            if ea >= cut and eb >= cut:
                break
            if ea < cut:
                v += math.exp(-ea)
            if eb < cut:
                v += math.exp(-eb)
    return v


@njit(cache=CACHE, error_model="numpy")
def plume_value(q, x, y, z, u, h, zi, scheme, cls):
    """Concentration [g m-3] of the Gaussian plume at one receptor (0 for ``x <= 0``)."""
    if x <= 0.0:
        return 0.0
    sy = sigma_y(x, scheme, cls)
    sz = sigma_z(x, scheme, cls)
    if sy <= 1e-100 or sz <= 1e-100:  # x within ~1e-100 m of the source: treated as 0
        return 0.0
    ey = y * y / (2.0 * sy * sy)
    if ey > TAIL:
        return 0.0
    v = vertical_term(z, h, sz, zi)
    return q / (2.0 * math.pi * u * sy * sz) * math.exp(-ey) * v


@njit(parallel=True, cache=CACHE)
def plume_array(q, x, y, z, u, h, zi, cls, scheme, out):
    """Gaussian plume [g m-3] at receptors given in plume coordinates (1-D, same length).

    ``out[i] = plume_value(q[i], x[i], y[i], z[i], u[i], h[i], zi[i], scheme, cls[i])``.
    """
    for i in prange(x.shape[0]):
        out[i] = plume_value(q[i], x[i], y[i], z[i], u[i], h[i], zi[i], scheme, cls[i])


@njit(cache=CACHE)
def crosswind_integrated(q, x, z, u, h, zi, scheme, cls):
    """Crosswind-integrated concentration [g m-2] ``q V / (sqrt(2 pi) u sigma_z)``."""
    if x <= 0.0:
        return 0.0
    sz = sigma_z(x, scheme, cls)
    if sz <= 1e-100:
        return 0.0
    return q / (SQRT_2PI * u * sz) * vertical_term(z, h, sz, zi)


@njit(cache=CACHE)
def _line_panel(ql, sa, sb, px, py, ex, ey, rz, u, h, zi, scheme, cls, gx, gw):
    """Gauss-Legendre integral of the plume along the line between arclengths sa and sb."""
    half = 0.5 * (sb - sa)
    mid = 0.5 * (sa + sb)
    total = 0.0
    for k in range(gx.shape[0]):
        s = mid + half * gx[k]
        sxp = px + ex * s
        syp = py + ey * s
        total += gw[k] * plume_value(ql, sxp, syp, rz, u, h, zi, scheme, cls)
    return total * half


@njit(cache=CACHE, inline="always")
def downwind_unit(wind_dir):
    """Unit vector ``(ex, ey)`` [1, map frame, y to the north] along which the plume travels
    when the wind blows from `wind_dir` [degree, meteorological: 0 from the north, 90 from
    the east]: ``(-sin phi, -cos phi)``. Inlined by numba (``inline="always"``): called per
    hour and receptor in :func:`.rline.lines_hourly`, where a call measured 2 % slower."""
    phi = math.radians(wind_dir)
    return -math.sin(phi), -math.cos(phi)


@njit(cache=CACHE)
def plume_frame(ox, oy, tx, ty, dxw, dyw, length):
    """A receptor and a straight segment in the frame of the plume (x along the wind).

    ``(ox, oy)`` is the receptor's offset from the segment start [m], ``(tx, ty)`` the unit
    vector along the segment, ``(dxw, dyw)`` the unit vector of the wind's travel, both in
    the map frame. Returns ``(xr, yr, ax, ay, sa, sb)``: the receptor ``(xr, yr)`` and the
    segment direction ``(ax, ay)`` in the plume frame (the source point at arclength ``s``
    sits at ``s (ax, ay)``, so ``x(s) = xr - s ax``), and the arclengths ``[sa, sb]`` of the
    part upwind of the receptor (``x(s) > 0``); ``sb <= sa`` when there is none.
    """
    xr = ox * dxw + oy * dyw
    yr = -ox * dyw + oy * dxw
    ax = tx * dxw + ty * dyw
    ay = -tx * dyw + ty * dxw
    sa = 0.0
    sb = length
    if ax > 0.0:
        sb = min(sb, xr / ax)
    elif ax < 0.0:
        sa = max(sa, xr / ax)
    elif xr <= 0.0:
        sb = -1.0
    return xr, yr, ax, ay, sa, sb


@njit(parallel=True, cache=CACHE)
def line_source(ql, x0, y0, x1, y1, rx, ry, rz, u, wind_dir, h, zi, scheme, cls, gx, gw, out):
    """Concentration [g m-3] at receptors from a uniform line source (numerical integration).

    The segment from ``(x0, y0)`` to ``(x1, y1)`` [m, map frame, y to the north] emits
    ``ql`` [g m-1 s-1]; the wind blows from `wind_dir` [degree, meteorological]. For each
    receptor the integral ``C = int_0^L ql c1(r - s(l)) dl`` of the unit plume ``c1`` is
    computed on panels no longer than half the local sigma_y, skipping the parts of the
    segment that are upwind or further than 8 sigma_y off the plume axis; each panel uses the
    Gauss-Legendre rule (`gx`, `gw` on [-1, 1]).
    """
    dxw, dyw = downwind_unit(wind_dir)
    length = math.hypot(x1 - x0, y1 - y0)
    if length <= 0.0:
        for i in range(rx.shape[0]):
            out[i] = 0.0
        return
    tx = (x1 - x0) / length
    ty = (y1 - y0) / length
    for i in prange(rx.shape[0]):
        # receptor relative to the segment start, in plume coordinates
        # downwind distance and crosswind offset of the receptor from the point at s:
        # x(s) = xr - s ax, y(s) = yr - s ay (both linear in s), for s in [sa, sb]
        xr, yr, ax, ay, sa, sb = plume_frame(rx[i] - x0, ry[i] - y0, tx, ty, dxw, dyw, length)
        total = 0.0
        if sb > sa:
            smin = 1e-6 * length
            s = sa
            it = 0
            while s < sb and it < 200000:
                it += 1
                xs = xr - s * ax
                ys = yr - s * ay
                sy = sigma_y(max(xs, 1e-3), scheme, cls)
                ay_abs = abs(ys)
                if ay_abs > 9.0 * sy:
                    step = max((ay_abs - 8.0 * sy) / 4.0, smin)
                    s = min(s + step, sb)
                    continue
                step = max(0.5 * sy, smin)
                se = min(s + step, sb)
                total += _line_panel(
                    ql, s, se, xr, yr, -ax, -ay, rz[i], u, h, zi, scheme, cls, gx, gw
                )
                s = se
        out[i] = total
