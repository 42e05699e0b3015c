"""Long-term (climatological) plume kernels: sector-averaged annual means and hourly series.

Sector-averaged long-term mean (ISCLT; US EPA 1995, Vol. II section 2) of a unit source for
wind-direction sectors ``d`` of angular width ``D = 2 pi / N``::

    C(r, theta) = sum_g  w_g(theta) / r * V_g / (sqrt(2 pi) sigma_z,g(r)) * exp(-k r / u_g)

where the groups ``g`` are (speed, stability, lid) classes, ``w_g(theta)`` [rad-1] the
angular density of the plume directions of the group, ``V_g`` the vertical term with ground
and lid reflections (see :mod:`.plume`) and ``k`` a first-order loss rate. A depositing
species is further multiplied by the source-depletion factor ``F_g(r)`` of
:mod:`.deposition` (the depletion set ``dep``, last argument before the output). The angular density
of one sector is one of three shapes, selected by the integer ``smooth`` of the kernels:

* ``0`` (:data:`SECTOR_FLAT`): its indicator divided by ``D`` (pure ISCLT);
* ``1`` (:data:`SECTOR_HAT`): the hat function that interpolates linearly between adjacent
  sector centres;
* ``2`` (:data:`SECTOR_GAUSS`): the indicator convolved with the lateral Gaussian of the
  group's plume in angle, of standard deviation ``s_g(r) = sigma_y,g(r) / r`` [rad]
  (:func:`gauss_density`): the expected angular density of the hourly plumes when the
  directions are uniform within each sector, so it depends on the distance and on the
  stability class.

All three integrate to the sector's weight over the circle, so the mass flux through every
circle around the source is kept. For point sources, ``3`` (:data:`SECTOR_GAUSS_EXACT`) is
the Gaussian sectors beyond :data:`NEAR_FIELD` and, within it, the expectation of the hourly
plumes with the plume's exact geometry (:func:`exact_group`: downwind ``r cos δ``,
crosswind ``r sin δ`` instead of ``r`` and ``r δ``), which the small-angle form above
approximates far from the source. ``True``/``False`` (the boolean of earlier versions) mean
hat/flat. The weight of a sector already holds the frequency times the mean of 1/u of its
class.

Distances [m], bearings [degree clockwise from north], SI units throughout.
"""

import math

import numpy as np
from numba import njit, prange

from ._config import CACHE
from .deposition import crosswind_at, crosswind_unit, depletion_factor, depletion_integral
from .plume import SQRT_2PI, TAIL, downwind_unit, plume_value
from .rise import effective_height
from .sigma import sigma_y, sigma_y_slope_bound

SECTOR_FLAT = 0
"""Flat sectors: the indicator of the sector over its width (pure ISCLT)."""
SECTOR_HAT = 1
"""Hat functions interpolating linearly between adjacent sector centres."""
SECTOR_GAUSS = 2
"""Flat sectors convolved with the plume's lateral Gaussian ``sigma_y(r) / r`` (default)."""
SECTOR_GAUSS_EXACT = 3
"""Point sources: :data:`SECTOR_GAUSS` beyond :data:`NEAR_FIELD` of the source, the plume's
exact geometry within it (:func:`exact_group`): ``"gauss"`` of the stack paths."""

NEAR_FIELD = 5000.0
"""Distance [m] within which the stack paths integrate the directions of each sector with
the plume's exact geometry (downwind ``r cos δ``, crosswind ``r sin δ``) instead of the
sector-average form (``sigma_z`` at ``r``, crosswind ``r δ``)."""
EXACT_SUB = (8, 4, 2)
"""Sub-intervals per sector of the exact-geometry integral (:func:`exact_group`) within
500 m, 2 km and beyond (:func:`exact_sub`): the midpoint rule of the smooth factors keeps
within 0.1 % of the converged integral beyond 500 m (0.4 % at 200 m of a 120 m stack)."""

# tails of the lateral Gaussian beyond GAUSS_REACH standard deviations are left out
# (Phi(-8.5) < 1e-17 of the sector's weight)
GAUSS_REACH = 8.5
_INV_SQRT2 = 1.0 / math.sqrt(2.0)


@njit(cache=CACHE)
def cic_unit(r, z, h, zi, scheme, cls, sz0, decay_k, inv_u):
    """Crosswind-integrated concentration per unit emission and per unit 1/u [m-1].

    ``V(z, h, s, zi) / (sqrt(2 pi) s) exp(-k r inv_u)`` with ``s^2 = sigma_z(r)^2 + sz0^2``.
    """
    val = crosswind_unit(r, z, h, zi, scheme, cls, sz0)
    return _with_decay(val, r, decay_k, inv_u)


@njit(cache=CACHE)
def cic_at(r, z, h, zi, sz, decay_k, inv_u):
    """:func:`cic_unit` for a given vertical spread `sz` [m] (:func:`.deposition.crosswind_at`)."""
    return _with_decay(crosswind_at(z, h, zi, sz), r, decay_k, inv_u)


@njit(cache=CACHE, inline="always")
def _with_decay(val, r, decay_k, inv_u):
    """`val` times the first-order loss ``exp(-k r inv_u)`` over the travel to `r` [m]."""
    if decay_k > 0.0:
        val *= math.exp(-decay_k * r * inv_u)
    return val


@njit(cache=CACHE)
def angular_density(theta, weights, smooth):
    """Angular density [rad-1] at plume bearing `theta` [degree] of sector `weights`.

    ``weights[d]`` belongs to wind blowing *from* ``d * 360 / N`` degrees, whose plume travels
    towards ``d * 360 / N + 180``.
    """
    n = weights.shape[0]
    width = 360.0 / n
    t = ((theta - 180.0) % 360.0) / width
    if smooth:
        f = math.floor(t)
        d0 = int(f) % n
        fr = t - f
        w = (1.0 - fr) * weights[d0] + fr * weights[(d0 + 1) % n]
    else:
        d = int(math.floor(t + 0.5)) % n
        w = weights[d]
    return w / math.radians(width)


@njit(cache=CACHE)
def _sector_mass(x, c):
    """``2 [Phi((x + 1/2) / s) - Phi((x - 1/2) / s)]`` with ``c = 1 / (s sqrt 2)``.

    The share (times 2) of a Gaussian of standard deviation ``s`` centred at ``x`` that falls
    on ``[-1/2, 1/2]``, computed with the complementary error function on the far side so
    that tails keep their relative accuracy.
    """
    a = x + 0.5
    b = x - 0.5
    return _edge_mass(a, math.erfc(abs(a) * c), b, math.erfc(abs(b) * c))


@njit(cache=CACHE)
def _edge_mass(a, qa, b, qb):
    """``2 [Phi(a / s) - Phi(b / s)]`` (``a > b``) from ``q = erfc(|z| / (s sqrt 2))`` of
    each edge: ``2 Phi(z / s)`` is ``2 - q`` for ``z > 0`` and ``q`` otherwise, and the
    difference is taken between the small complements so that tails keep their accuracy."""
    if b >= 0.0:
        return qb - qa
    if a <= 0.0:
        return qa - qb
    return 2.0 - qa - qb


@njit(cache=CACHE)
def gauss_position(t, weights, spread):
    """Angular density [per sector width] at sector position `t` of Gaussian-smoothed sectors.

    ``sum_d weights[d mod N] [Phi((t - d + 1/2) / s) - Phi((t - d - 1/2) / s)]`` over the
    integers ``d`` within ``GAUSS_REACH s + 1/2`` of `t` (all images of each sector on the
    circle), with ``s = spread`` in sector widths; ``spread <= 0`` gives the flat sector of
    `t`. `t` is the plume bearing minus 180 degrees, in sector widths. Adjacent sectors
    share their edge, so each edge costs one ``erfc``.
    """
    return gauss_position_mix(t, weights, weights, 0.0, spread)


@njit(cache=CACHE)
def gauss_position_mix(t, w0, w1, u, spread):
    """:func:`gauss_position` of the weights ``(1 - u) w0 + u w1`` (linear interpolation
    between two tables, e.g. two radial nodes), without forming them; ``u = 0`` is
    :func:`gauss_position` of `w0` bit for bit."""
    n = w0.shape[0]
    if spread <= 0.0:
        d = int(math.floor(t + 0.5)) % n
        return (1.0 - u) * w0[d] + u * w1[d]
    reach = GAUSS_REACH * spread + 0.5
    lo = int(math.floor(t - reach))
    hi = int(math.ceil(t + reach))
    c = _INV_SQRT2 / spread
    tot = 0.0
    qprev = -1.0  # erfc at the lower edge of the previous sector (< 0: not computed)
    for d in range(lo, hi + 1):
        dm = d % n
        w = (1.0 - u) * w0[dm] + u * w1[dm]
        b = t - d - 0.5
        if w == 0.0:
            qprev = -1.0
            continue
        a = b + 1.0
        qa = qprev if qprev >= 0.0 else math.erfc(abs(a) * c)
        qb = math.erfc(abs(b) * c)
        tot += w * _edge_mass(a, qa, b, qb)
        qprev = qb
    return 0.5 * tot


@njit(cache=CACHE)
def gauss_density(theta, weights, spread):
    """Angular density [rad-1] at plume bearing `theta` [degree] of Gaussian-smoothed sectors.

    The flat sectors of `weights` (as :func:`angular_density`) convolved on the circle with
    a Gaussian of standard deviation `spread` [rad] (the plume's ``sigma_y(r) / r``)::

        w(theta) = 1/D sum_d a_d [Phi((theta - theta_d + D/2) / s) - Phi((theta - theta_d - D/2) / s)]

    with ``theta_d = d D + 180°`` the plume bearing of sector ``d`` and ``D = 2 pi / N``. It
    integrates to ``sum_d a_d`` over the circle, tends to the flat sectors as ``s -> 0`` and
    to the uniform ``sum_d a_d / (2 pi)`` as ``s`` grows.
    """
    n = weights.shape[0]
    width = 2.0 * math.pi / n
    t = ((theta - 180.0) % 360.0) / (360.0 / n)
    return gauss_position(t, weights, spread / width) / width


@njit(cache=CACHE)
def lateral_mass(ul, uh, sy):
    """``Phi(uh / sy) - Phi(ul / sy)`` (``uh >= ul``), tails kept to relative accuracy."""
    c = _INV_SQRT2 / sy
    return 0.5 * _edge_mass(uh, math.erfc(abs(uh) * c), ul, math.erfc(abs(ul) * c))


@njit(cache=CACHE)
def exact_sub(r):
    """Sub-intervals per sector of the exact-geometry integral at distance `r` [m]."""
    if r < 500.0:
        return EXACT_SUB[0]
    if r < 2000.0:
        return EXACT_SUB[1]
    return EXACT_SUB[2]


@njit(cache=CACHE)
def sector_pieces(r, t, n, nsub):
    """The sub-intervals of direction of the exact-geometry integral at a receptor.

    For a receptor at distance `r` [m] and sector position `t` (plume bearing minus 180
    degrees, in sector widths), each of the `n` sectors ``d`` whose directions put the
    receptor downwind is cut into `nsub` equal pieces; the angle ``δ`` between the
    receptor's bearing and the plume axis runs over ``[(t - d - 1/2) D, (t - d + 1/2) D]``
    (``D = 2 pi / n``), clipped to ``|δ| < pi / 2``. Returns ``(k, 4)`` rows ``(d mod n,
    x_m, u_lo, u_hi)``: the downwind distance ``r cos δ_m`` at the piece's middle and the
    crosswind distances ``r sin δ`` at its ends [m].
    """
    width = 2.0 * math.pi / n
    half = 0.5 * math.pi
    lo = int(math.floor(t - 0.25 * n - 0.5))
    hi = int(math.ceil(t + 0.25 * n + 0.5))
    out = np.empty(((hi - lo + 1) * nsub, 4))
    k = 0
    for d in range(lo, hi + 1):
        b = (t - d - 0.5) * width
        for j in range(nsub):
            dl = max(b + j * width / nsub, -half)
            dh = min(b + (j + 1) * width / nsub, half)
            if dh <= dl:
                continue
            dm = 0.5 * (dl + dh)
            out[k, 0] = d % n
            out[k, 1] = r * math.cos(dm)
            out[k, 2] = r * math.sin(dl)
            out[k, 3] = r * math.sin(dh)
            k += 1
    return out[:k]


@njit(cache=CACHE)
def piece_sigma(pieces, p, far, scheme, cls):
    """``sigma_y`` [m] at the downwind distance of direction piece `p` (a row of
    :func:`sector_pieces`: sector, ``x``, ``u_lo``, ``u_hi``), or 0 where the piece is out of
    the plume's reach: its crosswind interval beyond ``far`` (``GAUSS_REACH sigma_y(r)``,
    ``sigma_y`` grows with ``x <= r``) or beyond ``GAUSS_REACH sigma_y(x)`` of either side."""
    if pieces[p, 2] > far or pieces[p, 3] < -far:
        return 0.0
    sy = sigma_y(pieces[p, 1], scheme, cls)
    if sy <= 0.0 or pieces[p, 2] > GAUSS_REACH * sy or pieces[p, 3] < -GAUSS_REACH * sy:
        return 0.0
    return sy


@njit(cache=CACHE)
def exact_group(r, pieces, row, z, h, zi, scheme, cls, sz0, decay_k, inv_u, dep_g):
    """Long-term concentration of one met group, plume geometry exact [per unit emission].

    The expectation of the hourly plumes of the group when the plume direction is uniform
    within each sector (weight ``row[d]`` = frequency × mean 1/u)::

        C = sum_d row[d] / D int_{sector d} CIC(r cos δ) G(r sin δ; sigma_y(r cos δ)) dδ

    with ``G`` the lateral Gaussian [m-1]. With ``u = r sin δ`` (``du = r cos δ dδ``) each
    piece of :func:`sector_pieces` gives ``CIC(x_m) / x_m [Phi(u_hi / sigma_y(x_m)) -
    Phi(u_lo / sigma_y(x_m))]`` (midpoint rule for the smooth factors, the Gaussian exact):
    far from the source (``x_m -> r``, ``sin δ -> δ``) it tends to the sector-average form
    of :data:`SECTOR_GAUSS`. `dep_g` is ``(v_d / u, s0, ds, itab_g, dtab_g)`` (``v_d = 0``:
    no depletion).
    """
    inv_width = row.shape[0] / (2.0 * math.pi)
    vdu, s0, ds, itab, dtab = dep_g
    # sigma_y grows with x <= r: pieces beyond GAUSS_REACH sigma_y(r) are beyond reach
    far = GAUSS_REACH * sigma_y(r, scheme, cls)
    tot = 0.0
    for k in range(pieces.shape[0]):
        if row[int(pieces[k, 0])] == 0.0:
            continue
        sy = piece_sigma(pieces, k, far, scheme, cls)
        if sy <= 0.0:
            continue
        w = row[int(pieces[k, 0])]
        x, ul, uh = pieces[k, 1], pieces[k, 2], pieces[k, 3]
        c = cic_unit(x, z, h, zi, scheme, cls, sz0, decay_k, inv_u)
        if c == 0.0:
            continue
        if vdu > 0.0:
            c *= depletion_factor(x, vdu, itab, dtab, s0, ds)
        tot += w * c / x * lateral_mass(ul, uh, sy)
    return tot * inv_width


@njit(cache=CACHE)
def lateral_spread(r, scheme, cls):
    """Angular standard deviation ``sigma_y(r) / r`` [rad] of a plume at distance `r` [m]."""
    return sigma_y(r, scheme, cls) / r


@njit(cache=CACHE)
def _sector_position(theta, n, smooth):
    """Sectors ``d0``, ``d1`` and the weight ``fr`` of ``d1`` at plume bearing `theta`."""
    width = 360.0 / n
    t = ((theta - 180.0) % 360.0) / width
    if smooth:
        f = math.floor(t)
        d0 = int(f) % n
        return d0, (d0 + 1) % n, t - f
    d = int(math.floor(t + 0.5)) % n
    return d, d, 0.0


@njit(cache=CACHE)
def depleted(val, r, g, inv_u, dep):
    """`val` times the depletion factor of group `g` at `r` (`val` itself when ``v_d = 0``)."""
    vd, s0, ds, itab, dtab = dep
    if vd > 0.0 and val != 0.0:
        val *= depletion_factor(r, vd * inv_u, itab[g], dtab[g], s0, ds)
    return val


@njit(cache=CACHE)
def point_density(dx, dy, z, a, hs, zis, clss, invus, scheme, sz0, decay_k, smooth, dep):
    """Long-term concentration per unit emission at offset (dx east, dy north) [m].

    Same as summing ``angular_density(theta, a[g], smooth) * cic_unit(...) / r`` over the
    groups ``g``, with the sector position computed once (with ``smooth = SECTOR_GAUSS``,
    :func:`gauss_density` at the group's ``sigma_y(r) / r``); times the depletion factor of each
    group for the depletion set `dep` (:mod:`.deposition`).
    """
    r = math.hypot(dx, dy)
    if r <= 0.0:
        return 0.0
    n = a.shape[1]
    theta = math.degrees(math.atan2(dx, dy))
    inv_width = n / (2.0 * math.pi)
    if smooth == SECTOR_GAUSS_EXACT and r < NEAR_FIELD:
        pieces = sector_pieces(r, ((theta - 180.0) % 360.0) * (n / 360.0), n, exact_sub(r))
        vd, s0, ds, itab, dtab = dep
        tot = 0.0
        for g in range(a.shape[0]):
            gd = g if vd > 0.0 else 0  # the no-deposition set has one dummy row
            dep_g = (vd * invus[g], s0, ds, itab[gd], dtab[gd])
            tot += exact_group(
                r, pieces, a[g], z, hs[g], zis[g], scheme, clss[g], sz0, decay_k, invus[g], dep_g
            )
        return tot
    if smooth >= SECTOR_GAUSS:
        t = ((theta - 180.0) % 360.0) * (n / 360.0)
        tot = 0.0
        for g in range(a.shape[0]):
            w = gauss_position(t, a[g], lateral_spread(r, scheme, clss[g]) * inv_width)
            if w == 0.0:
                continue
            c = cic_unit(r, z, hs[g], zis[g], scheme, clss[g], sz0, decay_k, invus[g])
            tot += w * inv_width * depleted(c, r, g, invus[g], dep)
        return tot / r
    d0, d1, fr = _sector_position(theta, n, smooth)
    tot = 0.0
    for g in range(a.shape[0]):
        w = ((1.0 - fr) * a[g, d0] + fr * a[g, d1]) * inv_width
        if w == 0.0:
            continue
        c = cic_unit(r, z, hs[g], zis[g], scheme, clss[g], sz0, decay_k, invus[g])
        tot += w * depleted(c, r, g, invus[g], dep)
    return tot / r


SHARE_CAP = 256
"""Most sector edges per class that :func:`point_density_sets` keeps in its buffers (beyond,
the point falls back to :func:`point_density`)."""


@njit(cache=CACHE)
def shared_layout(hs, zis, clss, itab, dtab, vd):
    """Which groups share their class and their vertical term (one kernel set).

    Returns ``(ucls, gci, base)``: the distinct stability classes in order of first
    appearance, the index in ``ucls`` of each group's class, and for each group the first
    group with the same release height, lid and class (and, with deposition, the same
    depletion tables), whose crosswind term ``crosswind_unit`` and depletion integral it
    shares (they differ only by the speed, through ``exp(-k r / u)`` and ``v_d / u``).
    """
    ng = clss.shape[0]
    gci = np.empty(ng, dtype=np.int64)
    base = np.empty(ng, dtype=np.int64)
    ucls = np.empty(ng, dtype=np.int64)
    nc = 0
    for g in range(ng):
        ci = -1
        for k in range(nc):
            if ucls[k] == clss[g]:
                ci = k
                break
        if ci < 0:
            ucls[nc] = clss[g]
            ci = nc
            nc += 1
        gci[g] = ci
        base[g] = g
        for b in range(g):
            if base[b] != b or clss[b] != clss[g] or hs[b] != hs[g] or zis[b] != zis[g]:
                continue
            if vd > 0.0 and not (
                np.array_equal(itab[b], itab[g]) and np.array_equal(dtab[b], dtab[g])
            ):
                continue
            base[g] = b
            break
    return ucls[:nc], gci, base


@njit(cache=CACHE)
def _class_edges(t, spread, c, qb, mc, mf):
    """The sector masses of the Gaussian of spread `spread` (``c = 1 / (spread sqrt 2)``)
    at position `t`, as :func:`gauss_position_mix` forms them for every set of weights.

    For the sectors ``d = lo .. lo + k - 1`` within reach: ``qb`` the erfc at the lower edge,
    ``mc`` the mass when the sector before holds weight (its lower-edge erfc reused) and
    ``mf`` when it does not (the upper-edge erfc computed afresh; the same value unless
    ``b + 1`` rounds differently from the edge before). Returns ``(lo, k)``.
    """
    reach = GAUSS_REACH * spread + 0.5
    lo = int(math.floor(t - reach))
    hi = int(math.ceil(t + reach))
    nk = hi - lo + 1
    bprev = 0.0
    for k in range(nk):
        d = lo + k
        b = t - d - 0.5
        a = b + 1.0
        qb[k] = math.erfc(abs(b) * c)
        if k > 0:
            mc[k] = _edge_mass(a, qb[k - 1], b, qb[k])
        if k > 0 and a == bprev:
            mf[k] = mc[k]
        else:
            mf[k] = _edge_mass(a, math.erfc(abs(a) * c), b, qb[k])
        bprev = b
    return lo, nk


@njit(cache=CACHE)
def _same_bits(x, y):
    """Whether two finite floats are the same bits (``==`` and, at zero, the same sign)."""
    return x == y and (x != 0.0 or math.copysign(1.0, x) == math.copysign(1.0, y))


@njit(cache=CACHE)
def _edges_sums(w0, w1, u, lo, ne, mc, mf, tot):
    """Twice :func:`gauss_position_mix` of the weights ``(1 - u) w0[:, s] + u w1[:, s]`` of
    several weight tables ``s`` at once, into ``tot[s]``, from the masses of
    :func:`_class_edges` (bit for bit: the same products added in the same order).

    `w0`, `w1` are ``(sector, table)``: the tables lie together in memory for each sector
    and the innermost loop runs over them. With `u` None the weights are `w0` itself
    (numba compiles that form apart, without the interpolation). A sector whose weight is 0
    adds ``0 × mass = +0`` (the masses are finite and not negative), which leaves a sum as
    it is, and the next sector takes its mass from a fresh erfc (``mf``), as
    :func:`gauss_position_mix` does. The two masses of a sector are the same bits unless
    its upper edge rounded differently from the lower edge of the sector before (under 1 %
    of the edges): only there does a table's mass depend on whether its weight in the
    sector before is 0, which is then formed again. One definition for the area kernels
    (:func:`point_density_sets`: the groups of a stability class) and the stacks' shared
    footprints (:func:`.stacks.footprints_aligned`: the stacks at the two nodes around a
    cell).
    """
    n, nst = w0.shape
    tot[:] = 0.0
    dm = lo % n
    dp = dm  # the sector before (unused at the first edge)
    for e in range(ne):
        a = w0[dm]
        f = mf[e]
        c = mc[e] if e > 0 else f  # the first sector has none before it: mf
        if _same_bits(c, f):
            if u is None:
                for s in range(nst):
                    tot[s] += a[s] * c
            else:
                b = w1[dm]
                for s in range(nst):
                    tot[s] += ((1.0 - u) * a[s] + u * b[s]) * c
        else:
            ap = w0[dp]
            if u is None:
                for s in range(nst):
                    tot[s] += a[s] * (c if ap[s] != 0.0 else f)
            else:
                b = w1[dm]
                bp = w1[dp]
                for s in range(nst):
                    held = (1.0 - u) * ap[s] + u * bp[s] != 0.0
                    tot[s] += ((1.0 - u) * a[s] + u * b[s]) * (c if held else f)
        dp = dm
        dm += 1
        if dm == n:
            dm = 0


@njit(cache=CACHE)
def _radial(theta, row, g, rmax, clim, rx, rw, ndec):
    """``int_0^rmax w_g(theta) CIC_g(rho) drho`` on `ndec` decades in ``log rho``
    (:func:`_log_rule`).

    The radial integral of :func:`_source_cell` along bearing `theta` [degree] for the flat
    and hat sectors, whose angular density ``w`` (:func:`angular_density`) does not depend on
    ``rho`` (the Gaussian sectors take :func:`_source_cell_gauss`).
    """
    z, a, hs, zis, clss, invus, scheme, sz0, decay_k, smooth, dep = clim
    w = angular_density(theta, row, smooth)
    if w == 0.0:
        return 0.0
    radial = 0.0
    rhos, weights = _log_rule(rmax, ndec, rx, rw)
    for p in range(rhos.shape[0]):
        rho = rhos[p]
        c = cic_unit(rho, z, hs[g], zis[g], scheme, clss[g], sz0, decay_k, invus[g])
        radial += weights[p] * w * depleted(c, rho, g, invus[g], dep)
    return radial


@njit(cache=CACHE)
def _log_rule(rmax, ndec, rx, rw):
    """The Gauss-Legendre rule ``(rx, rw)`` on [-1, 1] mapped onto each of the `ndec`
    decades of ``log rho`` below `rmax` [m], for ``int_0^rmax f(rho) drho``: nodes ``rho``
    [m] and weights ``rw th rho`` (``th`` the half-width of a decade in ``log rho``, ``rho``
    the Jacobian), decade by decade from the smallest."""
    nq = rx.shape[0]
    rhos = np.empty(ndec * nq)
    weights = np.empty_like(rhos)
    for dec in range(ndec):
        tlo = math.log(rmax) - (ndec - dec) * math.log(10.0)
        thi = tlo + math.log(10.0)
        tm = 0.5 * (tlo + thi)
        th = 0.5 * (thi - tlo)
        for ir in range(nq):
            rho = math.exp(tm + th * rx[ir])
            rhos[dec * nq + ir] = rho
            weights[dec * nq + ir] = rw[ir] * th * rho
    return rhos, weights


@njit(cache=CACHE)
def _source_cell(res, clim, breaks, ax, aw, rx, rw, ndec):
    """Integral over the receptor's own cell, in polar coordinates around the receptor.

    ``int dA C = int dalpha w(alpha + 180) int_0^R(alpha) CIC(rho) drho``: the 1/r of the
    point kernel cancels the Jacobian, so the integrand is regular. `clim` is
    ``(z, a, hs, zis, clss, invus, scheme, sz0, decay_k, smooth, dep)``, the arguments of
    :func:`point_density` after the offset. Gaussian sectors take :func:`_source_cell_gauss`
    (`breaks` are then its ``phi`` breaks); the flat and hat sectors, whose angular density
    does not depend on ``rho``, integrate the radial integral (`ndec` decades in log(rho)
    below the cell edge ``R(alpha)``) over the bearings, on the intervals between `breaks`
    [degree] (cell corners, axes and sector kinks), where it is smooth.
    """
    if clim[9] == SECTOR_GAUSS:
        return _source_cell_gauss(res, clim, breaks, ax, aw, rx, rw, ndec)
    a = clim[1]
    half = 0.5 * res
    ng = a.shape[0]
    tot = 0.0
    nodes, weights = _piecewise_rule(breaks, ax, aw)
    for p in range(nodes.shape[0]):
        alpha = nodes[p]
        big = max(abs(math.sin(alpha)), abs(math.cos(alpha)))
        rmax = half / big
        theta = math.degrees(alpha) + 180.0
        for g in range(ng):
            tot += weights[p] * _radial(theta, a[g], g, rmax, clim, rx, rw, ndec)
    return tot


@njit(cache=CACHE)
def _piecewise_rule(breaks, ax, aw):
    """The Gauss-Legendre rule ``(ax, aw)`` on [-1, 1] mapped onto each interval between
    consecutive `breaks` [degree] (empty intervals skipped): nodes [radian] and weights
    ``aw hw`` (``hw`` the interval's half-width [radian]), interval by interval."""
    nq = ax.shape[0]
    nodes = np.empty(max(breaks.shape[0] - 1, 0) * nq)
    weights = np.empty_like(nodes)
    m = 0
    for k in range(breaks.shape[0] - 1):
        lo = math.radians(breaks[k])
        hi = math.radians(breaks[k + 1])
        if hi <= lo:
            continue
        mid = 0.5 * (lo + hi)
        hw = 0.5 * (hi - lo)
        for ia in range(nq):
            nodes[m] = mid + hw * ax[ia]
            weights[m] = aw[ia] * hw
            m += 1
    return nodes[:m], weights[:m]


@njit(cache=CACHE)
def _smoothed_tail(y, s):
    """``int_-inf^-|y| Phi(x / s) dx = s [phi(u) - u (1 - Phi(u))]``, ``u = |y| / s`` (> 0)."""
    u = abs(y) / s
    return s * (math.exp(-0.5 * u * u) / SQRT_2PI - 0.5 * u * math.erfc(u * _INV_SQRT2))


@njit(cache=CACHE)
def _sector_cdf(x, s):
    """Mass of a unit sector ``[-1/2, 1/2]`` convolved with a Gaussian of standard deviation
    `s` that lies below `x` (sector widths): ``int_-inf^x [Phi((t + 1/2) / s) - Phi((t - 1/2)
    / s)] dt``, the flat sector's ``clamp(x + 1/2, 0, 1)`` plus the smooth correction of
    :func:`_smoothed_tail` at each edge (``s <= 0``: the flat sector)."""
    flat = min(max(x + 0.5, 0.0), 1.0)
    if s <= 0.0:
        return flat
    return flat + _smoothed_tail(x + 0.5, s) - _smoothed_tail(x - 0.5, s)


@njit(cache=CACHE)
def gauss_arc_mass(t1, t2, weights, spread):
    """Weight of Gaussian-smoothed sectors on the arc ``[t1, t2]`` (sector positions).

    The integral of :func:`gauss_position` from `t1` to `t2` (``t2 >= t1``, sector widths,
    any number of turns), in closed form: ``sum_d weights[d mod N] [J(t2 - d) - J(t1 - d)]``
    with ``J`` the cumulative mass of one smoothed sector (:func:`_sector_cdf`), over the
    sectors within ``GAUSS_REACH s + 1/2`` of the arc. The whole circle gives
    ``sum(weights)``.
    """
    n = weights.shape[0]
    reach = GAUSS_REACH * max(spread, 0.0) + 0.5
    lo = int(math.floor(t1 - reach))
    hi = int(math.ceil(t2 + reach))
    tot = 0.0
    for d in range(lo, hi + 1):
        w = weights[d % n]
        if w != 0.0:
            tot += w * (_sector_cdf(t2 - d, spread) - _sector_cdf(t1 - d, spread))
    return tot


@njit(cache=CACHE)
def _source_cell_gauss(res, clim, breaks, ax, aw, rx, rw, ndec):
    """:func:`_source_cell` of Gaussian-smoothed sectors: the radial integral outside, the
    angular one in closed form.

    Swapping the two integrals, ``int_0^{R_max} drho CIC(rho) M(rho)`` with ``M(rho)`` the
    weight of the angular density at distance ``rho`` (:func:`gauss_density`, spread
    ``sigma_y(rho) / rho``) over the bearings where the cell reaches beyond ``rho``. Within
    the inscribed disc (``rho <= res / 2``) that is every bearing, ``M = sum(weights)``
    (`ndec` decades in log(rho), :func:`_log_rule`); in the corners (``rho = (res / 2) /
    cos(phi)``, ``0 <= phi <= pi / 4``) it is the four arcs ``diagonal +- (pi / 4 - phi)``,
    each of weight :func:`gauss_arc_mass` (exact). The ``phi`` integral runs between
    `breaks` [degree]: where an arc's end meets a sector edge (the integrand has a smoothed
    kink there). No bearing is sampled, so the value does not depend on where the sectors
    lie against the cell's axes: a rose turned by 90 degrees gives the same value (the
    four arcs are turned into each other).
    """
    z, a, hs, zis, clss, invus, scheme, sz0, decay_k, smooth, dep = clim
    half = 0.5 * res
    n = a.shape[1]
    width = 2.0 * math.pi / n
    quarter = 0.25 * math.pi
    nodes, weights = _piecewise_rule(breaks, ax, aw)
    rhos, radial_w = _log_rule(half, ndec, rx, rw)
    tot = 0.0
    for g in range(a.shape[0]):
        row = a[g]
        total = 0.0
        for d in range(n):
            total += row[d]
        if total == 0.0:
            continue
        inner = 0.0  # the inscribed disc: every bearing, the sectors' whole weight
        for p in range(rhos.shape[0]):
            rho = rhos[p]
            c = cic_unit(rho, z, hs[g], zis[g], scheme, clss[g], sz0, decay_k, invus[g])
            inner += radial_w[p] * depleted(c, rho, g, invus[g], dep)
        corner = 0.0  # the four corners beyond it: arcs about the diagonals
        for p in range(nodes.shape[0]):
            phi = nodes[p]
            cos_phi = math.cos(phi)
            rho = half / cos_phi
            c = cic_unit(rho, z, hs[g], zis[g], scheme, clss[g], sz0, decay_k, invus[g])
            c = depleted(c, rho, g, invus[g], dep)
            if c == 0.0:
                continue
            spread = lateral_spread(rho, scheme, clss[g]) / width
            arc = (quarter - phi) / width  # half-width of each arc [sector widths]
            mass = 0.0
            for q in range(4):  # plume bearings 45, 135, 225, 315 degrees
                t = ((45.0 + 90.0 * q - 180.0) % 360.0) / (360.0 / n)
                mass += gauss_arc_mass(t - arc, t + arc, row, spread)
            corner += weights[p] * half * math.sin(phi) / (cos_phi * cos_phi) * c * mass
        tot += total * inner + corner
    return tot


def annual_kernel_grid(
    m,
    res,
    z,
    a,
    hs,
    zis,
    clss,
    invus,
    scheme,
    sz0,
    decay_k,
    smooth,
    radius,
    gl_x,
    gl_w,
    gl_n,
    level_edges,
    breaks,
    ax,
    aw,
    rx,
    rw,
    ndec,
    dep,
    out,
):
    """Cell-averaged long-term kernel on offsets ``-m..m`` (rows south, columns east).

    ``out[i, j]`` is the mean over the source cell (side `res` [m], centred on the origin) of
    :func:`point_density` at the receptor ``(east, north) = ((j - m) res, -(i - m) res)``:
    tensor Gauss-Legendre rules whose order falls with the Chebyshev distance of the cell
    (``gl_x[l, :gl_n[l]]`` on [-1/2, 1/2], level ``l`` for distances up to ``level_edges[l]``),
    and the polar integral :func:`_source_cell` for the source cell itself. Offsets whose
    centre lies beyond `radius` [m] are 0. `dep` is the depletion set of the groups.

    One kernel set of :func:`annual_kernel_grids` (plain Python: it only forms the set).
    """
    vd, s0, ds, itab, dtab = dep
    if not vd > 0.0:  # the no-deposition set's tables are a dummy row
        itab = dtab = np.zeros((a.shape[0], 1))
    annual_kernel_grids(m, res, z, a, hs, zis, clss, invus, np.array([0, a.shape[0]]), scheme,
                        np.array([float(sz0)]), np.array([float(decay_k)]),
                        np.array([float(vd)]), float(s0), float(ds),
                        np.ascontiguousarray(itab, dtype=np.float64),
                        np.ascontiguousarray(dtab, dtype=np.float64), smooth, radius, gl_x, gl_w,
                        gl_n, level_edges, breaks, ax, aw, rx, rw, ndec, out[None])  # fmt: skip


@njit(cache=CACHE)
def sets_layout(a, hs, zis, clss, gset, sz0s, vds, itab, dtab):
    """Which groups of several kernel sets share work, for :func:`point_density_sets`.

    Returns ``(ucls, gci, base, ibase, cstart, pos, at)``: the distinct stability classes,
    the index in ``ucls`` of each group's class, the first group (of any set) with the same
    release height, lid, class and initial sigma_z (``sz0s[gset[g]]``), whose crosswind
    term the group shares, and for a group of a depositing set (``vds[gset[g]] > 0``) the
    first such group of a depositing set with the same depletion tables, whose depletion
    integral it shares (-1 for the other groups); then the groups in class order: the
    groups of class ``ucls[c]`` are at positions ``cstart[c]:cstart[c + 1]``, group ``g``
    at ``pos[g]`` (in the order of the groups), and ``at[:, pos[g]]`` holds its direction
    weights ``a[g]`` (sectors first, so that the groups of a class lie together for each
    sector).
    """
    ucls, gci, _ = shared_layout(hs, zis, clss, itab, dtab, 0.0)
    ng = clss.shape[0]
    base = np.empty(ng, dtype=np.int64)
    ibase = np.full(ng, -1, dtype=np.int64)
    for g in range(ng):
        base[g] = g
        for b in range(g):
            if (
                base[b] == b
                and clss[b] == clss[g]
                and hs[b] == hs[g]
                and zis[b] == zis[g]
                and sz0s[gset[b]] == sz0s[gset[g]]
            ):
                base[g] = b
                break
        if vds[gset[g]] <= 0.0:
            continue
        ibase[g] = g
        for b in range(g):
            if ibase[b] != b or base[b] != base[g]:
                continue
            if np.array_equal(itab[b], itab[g]) and np.array_equal(dtab[b], dtab[g]):
                ibase[g] = b
                break
    nc = ucls.shape[0]
    cstart = np.zeros(nc + 1, dtype=np.int64)
    for g in range(ng):
        cstart[gci[g] + 1] += 1
    for c in range(nc):
        cstart[c + 1] += cstart[c]
    fill = cstart[:nc].copy()
    pos = np.empty(ng, dtype=np.int64)
    at = np.empty((a.shape[1], ng))
    for g in range(ng):
        pos[g] = fill[gci[g]]
        fill[gci[g]] += 1
        at[:, pos[g]] = a[g]
    return ucls, gci, base, ibase, cstart, pos, at


@njit(cache=CACHE)
def point_density_sets(dx, dy, z, a, hs, zis, clss, invus, gset, scheme, sz0s, decay_ks, vds,
                       s0, ds, itab, dtab, layout, buf, cw, done, ival, lo_k, wg, tot):  # fmt: skip
    """:func:`point_density` (``SECTOR_GAUSS``) of several kernel sets at once, bit for bit,
    sharing work between their groups.

    The groups of all the sets are stacked (`gset` gives the set of each group, in order;
    `sz0s`, `decay_ks` and `vds` the initial sigma_z [m], loss rate [s-1] and deposition
    velocity [m s-1] of each set, `itab`, `dtab` the depletion tables of each group, unused
    for a set with ``v_d = 0``). The sector masses under the lateral Gaussian depend on a
    group only through its stability class, whatever its release height, table, loss or
    deposition, and the crosswind term on its class, height, lid and initial sigma_z, the
    depletion integral on those and its tables: each is computed once per point for all
    the groups that share it (:func:`sets_layout`), and each group adds its own weights
    and its speed's factors ``exp(-k r / u)`` and ``exp(-(v_d / u) I)`` in the order of
    :func:`point_density`. Writes the density of set ``s`` into ``tot[s]``; returns False
    where a class has more than :data:`SHARE_CAP` sector edges within reach, where the
    caller computes each set with :func:`point_density`. The sector sums of the groups of a
    class are formed together (:func:`_edges_sums` on the class-ordered weights of
    :func:`sets_layout`). `buf` ``(n_class, 3, SHARE_CAP)``, `cw`, `ival`, `wg` (per
    group), `done` (twice the groups) and `lo_k` ``(n_class, 2)`` are work buffers.

    It is :func:`sets_radial` (what depends on the distance only) followed by
    :func:`sets_angular` (the bearing's sector masses and the sums).
    """
    r = math.hypot(dx, dy)
    if r <= 0.0:
        tot[:] = 0.0
        return True
    spc = np.empty(layout[0].shape[0])
    cg = np.empty(a.shape[0])
    sets_radial(r, z, hs, zis, clss, invus, gset, scheme, sz0s, decay_ks, vds, s0, ds, itab,
                dtab, layout, a.shape[1], cw, done, ival, spc, cg)  # fmt: skip
    return sets_angular(dx, dy, r, a.shape[1], gset, layout, spc, cg, buf, lo_k, wg, tot)


@njit(cache=CACHE)
def sets_radial(r, z, hs, zis, clss, invus, gset, scheme, sz0s, decay_ks, vds, s0, ds, itab,
                dtab, layout, n, cw, done, ival, spc, cg):  # fmt: skip
    """The factors of :func:`point_density_sets` at distance `r` [m] > 0 that do not depend
    on the bearing: ``spc[c]``, the lateral spread of class ``ucls[c]`` in sector widths
    (`n` sectors), and ``cg[g]``, group ``g``'s crosswind term times its speed's loss
    ``exp(-k r / u)`` and depletion ``exp(-(v_d / u) I(r))`` [m-1].

    The same operations as the unshared density, for every group (the density skips the
    groups of weight 0 at a bearing; their factor is then unused). Points at the same
    distance (the mirror images of a point in the kernel's square lattice) have the same
    factors, bit for bit: :func:`annual_kernel_grids` computes them once for all of them.
    `cw`, `done` and `ival` are work buffers as for :func:`point_density_sets`.
    """
    ucls, gci, base, ibase, cstart, pos, at = layout
    ng = clss.shape[0]
    inv_width = n / (2.0 * math.pi)
    for ci in range(ucls.shape[0]):
        spc[ci] = lateral_spread(r, scheme, ucls[ci]) * inv_width
    done[:] = False
    for g in range(ng):
        b = base[g]
        if not done[b]:
            cw[b] = crosswind_unit(r, z, hs[b], zis[b], scheme, clss[b], sz0s[gset[b]])
            done[b] = True
        s = gset[g]
        c = cw[b]
        if decay_ks[s] > 0.0:
            c *= math.exp(-decay_ks[s] * r * invus[g])
        vd = vds[s]
        if vd > 0.0 and c != 0.0:
            ib = ibase[g]
            if not done[ng + ib]:
                ival[ib] = depletion_integral(r, itab[ib], dtab[ib], s0, ds)
                done[ng + ib] = True
            c *= math.exp(-(vd * invus[g]) * ival[ib])
        cg[g] = c


@njit(cache=CACHE)
def sets_angular(dx, dy, r, n, gset, layout, spc, cg, buf, lo_k, wg, tot):
    """:func:`point_density_sets` at the point ``(dx, dy)`` [m] at distance `r` > 0, from the
    factors :func:`sets_radial` gave for `r`: the sector masses of each class at the
    bearing, the groups' sector sums, ``tot[s] = sum_g w_g c_g / r``. Returns False (and
    leaves `tot`) where a class has more than :data:`SHARE_CAP` sector edges within reach.
    """
    ucls, gci, base, ibase, cstart, pos, at = layout
    theta = math.degrees(math.atan2(dx, dy))
    inv_width = n / (2.0 * math.pi)
    t = ((theta - 180.0) % 360.0) * (n / 360.0)
    for ci in range(ucls.shape[0]):
        sp = spc[ci]
        reach = GAUSS_REACH * sp + 0.5
        if sp <= 0.0 or int(math.ceil(t + reach)) - int(math.floor(t - reach)) + 1 > SHARE_CAP:
            return False
        lo, nk = _class_edges(t, sp, _INV_SQRT2 / sp, buf[ci, 0], buf[ci, 1], buf[ci, 2])
        lo_k[ci, 0] = lo
        lo_k[ci, 1] = nk
    for ci in range(ucls.shape[0]):
        c0, c1 = cstart[ci], cstart[ci + 1]
        _edges_sums(at[:, c0:c1], None, None, lo_k[ci, 0], lo_k[ci, 1], buf[ci, 1], buf[ci, 2],
                    wg[c0:c1])  # fmt: skip
    tot[:] = 0.0
    for g in range(gset.shape[0]):
        w = 0.5 * wg[pos[g]]
        if w == 0.0:
            continue
        tot[gset[g]] += w * inv_width * cg[g]
    for s in range(tot.shape[0]):
        tot[s] /= r
    return True


@njit(cache=CACHE)
def _set_density(dx, dy, s, z, a, hs, zis, clss, invus, starts, scheme, sz0s, decay_ks, vds,
                 s0, ds, itab, dtab, smooth):  # fmt: skip
    """:func:`point_density` of set `s` of the stacked groups."""
    lo, hi = starts[s], starts[s + 1]
    dep = (vds[s], s0, ds, itab[lo:hi], dtab[lo:hi])
    return point_density(dx, dy, z, a[lo:hi], hs[lo:hi], zis[lo:hi], clss[lo:hi],
                         invus[lo:hi], scheme, sz0s[s], decay_ks[s], smooth, dep)  # fmt: skip


@njit(parallel=True, cache=CACHE)
def annual_kernel_grids(m, res, z, a, hs, zis, clss, invus, starts, scheme, sz0s, decay_ks, vds,
                        s0, ds, itab, dtab, smooth, radius, gl_x, gl_w, gl_n, level_edges, breaks,
                        ax, aw, rx, rw, ndec, out):  # fmt: skip
    """:func:`annual_kernel_grid` of several kernel sets at once, bit for bit the kernel of
    each set built alone (its :func:`point_density` at every point of the quadrature).

    The groups of the sets are stacked: set ``s`` is rows ``starts[s]:starts[s + 1]`` of
    `a`, `hs`, `zis`, `clss`, `invus` (each set's own :func:`annual_kernel_grid` arguments,
    any release heights), with initial sigma_z ``sz0s[s]`` [m], loss rate ``decay_ks[s]``
    [s-1], deposition velocity ``vds[s]`` [m s-1] and the depletion tables of its groups in
    `itab`, `dtab` (on the common nodes `s0`, `ds`; any values for a set with ``v_d = 0``).
    The sets share the points of the quadrature, hence, with Gaussian sectors (`smooth`
    :data:`SECTOR_GAUSS`, the sector shape of every set), the sector masses of each
    stability class and the crosswind terms of equal groups (:func:`point_density_sets`);
    other shapes compute each set on its own. ``out[s]`` is the kernel of set ``s``. The
    cells are computed orbit by orbit (:func:`_grids_by_orbit`): the mirror images of a
    cell share the factors of their points that depend on the distance only.
    """
    nset = starts.shape[0] - 1
    ng = a.shape[0]
    gset = np.empty(ng, dtype=np.int64)
    for s in range(nset):
        gset[starts[s] : starts[s + 1]] = s
    layout = sets_layout(a, hs, zis, clss, gset, sz0s, vds, itab, dtab)
    nc = layout[0].shape[0]
    # sharing pays where some class has several groups (or sets); one set with one group
    # a class (an inert kernel alone) is cheaper with point_density itself
    share = smooth == SECTOR_GAUSS and (nset > 1 or ng > nc)
    _grids_by_orbit(m, res, z, a, hs, zis, clss, invus, gset, starts, scheme, sz0s, decay_ks,
                    vds, s0, ds, itab, dtab, smooth, radius, gl_x, gl_w, gl_n, level_edges,
                    breaks, ax, aw, rx, rw, ndec, layout, share, out)  # fmt: skip


@njit(cache=CACHE)
def _orbit(u, v, cells):
    """The distinct offsets ``(oi, oj)`` among ``(±u, ±v)`` and ``(±v, ±u)`` (the images of
    a cell under the symmetries of the square lattice) into `cells`; returns their number."""
    k = 0
    for e in range(8):
        a_, b_ = (u, v) if e < 4 else (v, u)
        oi = -a_ if e & 1 else a_
        oj = -b_ if e & 2 else b_
        new = True
        for f in range(k):
            if cells[f, 0] == oi and cells[f, 1] == oj:
                new = False
                break
        if new:
            cells[k, 0] = oi
            cells[k, 1] = oj
            k += 1
    return k


@njit(parallel=True, cache=CACHE)
def _grids_by_orbit(m, res, z, a, hs, zis, clss, invus, gset, starts, scheme, sz0s, decay_ks,
                    vds, s0, ds, itab, dtab, smooth, radius, gl_x, gl_w, gl_n, level_edges,
                    breaks, ax, aw, rx, rw, ndec, layout, share, out):  # fmt: skip
    """The cells of :func:`annual_kernel_grids`, orbit by orbit: with `share` (Gaussian
    sectors, several groups a class or several sets) each point takes
    :func:`point_density_sets`'s path, with the factors that depend on the distance only
    (:func:`sets_radial`: the crosswind terms, losses, depletion and lateral spreads, two
    thirds of the work at a point) computed once per distance among the mirror images of a
    cell; without, each set's :func:`point_density` (``_set_density``) at every point.

    The quadrature of a cell is symmetric (Gauss-Legendre nodes ``x_p = -x_{n-1-p}``
    exactly) and the offsets are integers times `res`, so the image of a point under a
    symmetry of the lattice (a sign change or a swap of the axes) lies at the same
    distance, bit for bit (``hypot`` takes absolute values and orders its arguments). The
    cells of one orbit (:func:`_orbit`, up to 8) are computed together: each point looks
    its distance up among those the orbit has met and reuses their factors where it is
    found (it is computed afresh otherwise, so the values never depend on the symmetry
    holding); the bearing's part (:func:`sets_angular`) and the sums are each point's own,
    in the cell's order. The orbits are spread over the threads in pairs ``(u, m - u)`` of
    their larger offset, of equal work.
    """
    nlev = level_edges.shape[0]
    nset = starts.shape[0] - 1
    ng = a.shape[0]
    nd = a.shape[1]
    nc = layout[0].shape[0]
    qmax = gl_x.shape[1]
    cap = qmax * qmax
    for half in prange((m + 2) // 2):
        buf = np.empty((nc, 3, SHARE_CAP))
        cw = np.empty(ng)
        done = np.zeros(2 * ng, dtype=np.bool_)
        ival = np.empty(ng)
        lo_k = np.empty((nc, 2), dtype=np.int64)
        wg = np.empty(ng)
        tot = np.empty(nset)
        acc = np.empty(nset)
        cells = np.empty((8, 2), dtype=np.int64)
        rs = np.empty(cap + 1)
        spcs = np.empty((cap + 1, nc))
        cgs = np.empty((cap + 1, ng))
        for side in range(2):
            u = half if side == 0 else m - half
            if side == 1 and u == half:
                break
            for v in range(u + 1):
                k = _orbit(u, v, cells)
                stored = 0
                for e in range(k):
                    oi = cells[e, 0]
                    oj = cells[e, 1]
                    i = oi + m
                    j = oj + m
                    east = oj * res
                    north = -oi * res
                    if math.hypot(east, north) > radius * (1.0 + 1e-12):
                        out[:, i, j] = 0.0
                        continue
                    if oi == 0 and oj == 0:
                        for s in range(nset):
                            lo, hi = starts[s], starts[s + 1]
                            clim = (z, a[lo:hi], hs[lo:hi], zis[lo:hi], clss[lo:hi],
                                    invus[lo:hi], scheme, sz0s[s], decay_ks[s], smooth,
                                    (vds[s], s0, ds, itab[lo:hi], dtab[lo:hi]))  # fmt: skip
                            out[s, i, j] = _source_cell(res, clim, breaks, ax, aw, rx, rw,
                                                        ndec) / (res * res)  # fmt: skip
                        continue
                    c = max(abs(oi), abs(oj))
                    lev = 0
                    while lev < nlev and c > level_edges[lev]:
                        lev += 1
                    nq = gl_n[lev]
                    acc[:] = 0.0
                    for p in range(nq):
                        sx = gl_x[lev, p] * res
                        for q in range(nq):
                            sy = gl_x[lev, q] * res
                            dx = east - sx
                            dy = north - sy
                            r = math.hypot(dx, dy)
                            ok = share
                            if share and r <= 0.0:
                                tot[:] = 0.0
                            elif share:
                                slot = -1
                                for f in range(stored):
                                    if rs[f] == r:
                                        slot = f
                                        break
                                if slot < 0:
                                    slot = stored if stored < cap else cap
                                    rs[slot] = r
                                    sets_radial(r, z, hs, zis, clss, invus, gset, scheme, sz0s,
                                                decay_ks, vds, s0, ds, itab, dtab, layout, nd,
                                                cw, done, ival, spcs[slot], cgs[slot])  # fmt: skip
                                    if stored < cap:
                                        stored += 1
                                ok = sets_angular(dx, dy, r, nd, gset, layout, spcs[slot],
                                                  cgs[slot], buf, lo_k, wg, tot)  # fmt: skip
                            if not ok:
                                for s in range(nset):
                                    tot[s] = _set_density(dx, dy, s, z, a, hs, zis, clss,
                                                          invus, starts, scheme, sz0s,
                                                          decay_ks, vds, s0, ds, itab, dtab,
                                                          smooth)  # fmt: skip
                            for s in range(nset):
                                acc[s] += gl_w[lev, p] * gl_w[lev, q] * tot[s]
                    out[:, i, j] = acc


@njit(parallel=True, cache=CACHE)
def point_sources_footprint(
    src_x,
    src_y,
    hs,
    fac,
    weights,
    a,
    zis,
    clss,
    invus,
    scheme,
    z,
    decay_k,
    smooth,
    radius,
    xs,
    ys,
    dep,
    out,
    near=NEAR_FIELD,
):
    """Accumulate the long-term footprints of point sources on grid-cell centres.

    ``out[k, iy, ix] += sum_s weights[s, k] sum_g fac[s, g] w_g(theta) CIC_g(r; hs[s, g]) / r``
    (``w_g`` of the sector shape `smooth`) for the cells within `radius` [m] of each source. Rows are independent (``prange``) and
    each row adds the sources in their given order: the summation order is fixed, the result
    is deterministic whatever the number of threads. `xs` (increasing) and `ys` are the cell
    centres of a regular grid. `dep` is ``(v_d, s0, ds, itab, dtab)`` with tables of shape
    (n_source, G, K): each stack's groups deplete at their stack-top wind ``fac / u``.
    With ``smooth = SECTOR_GAUSS_EXACT`` the cells within `near` [m] of a stack take the
    plume's exact geometry (:func:`exact_group`).
    """
    vd, s0, ds, itab3, dtab3 = dep
    nsrc = src_x.shape[0]
    ny = ys.shape[0]
    nx = xs.shape[0]
    nk = weights.shape[1]
    ng = a.shape[0]
    nd = a.shape[1]
    inv_width = nd / (2.0 * math.pi)
    dx = xs[1] - xs[0] if nx > 1 else 1.0
    for iy in prange(ny):
        yc = ys[iy]
        for s in range(nsrc):
            ddy = yc - src_y[s]
            if abs(ddy) > radius:
                continue
            half = math.sqrt(max(radius * radius - ddy * ddy, 0.0))
            ix0 = max(0, int(math.ceil((src_x[s] - half - xs[0]) / dx)) - 1)
            ix1 = min(nx - 1, int(math.floor((src_x[s] + half - xs[0]) / dx)) + 1)
            for ix in range(ix0, ix1 + 1):
                ddx = xs[ix] - src_x[s]
                r = math.hypot(ddx, ddy)
                if r > radius or r <= 0.0:
                    continue
                theta = math.degrees(math.atan2(ddx, ddy))
                d0, d1, fr = _sector_position(theta, nd, smooth)
                t = ((theta - 180.0) % 360.0) * (nd / 360.0)
                if smooth == SECTOR_GAUSS_EXACT and r < near:
                    pieces = sector_pieces(r, t, nd, exact_sub(r))
                    val = 0.0
                    for g in range(ng):
                        if fac[s, g] == 0.0:
                            continue
                        sd, gd = (s, g) if vd > 0.0 else (0, 0)
                        dep_g = (vd * fac[s, g] * invus[g], s0, ds, itab3[sd, gd], dtab3[sd, gd])
                        val += fac[s, g] * exact_group(
                            r, pieces, a[g], z, hs[s, g], zis[g], scheme, clss[g], 0.0, decay_k,
                            fac[s, g] * invus[g], dep_g,
                        )  # fmt: skip
                    for k in range(nk):
                        out[k, iy, ix] += val * weights[s, k]
                    continue
                val = 0.0
                for g in range(ng):
                    if fac[s, g] == 0.0:
                        continue
                    if smooth >= SECTOR_GAUSS:
                        sp = lateral_spread(r, scheme, clss[g]) * inv_width
                        w = gauss_position(t, a[g], sp) * inv_width
                    else:
                        w = ((1.0 - fr) * a[g, d0] + fr * a[g, d1]) * inv_width
                    if w == 0.0:
                        continue
                    c = cic_unit(
                        r, z, hs[s, g], zis[g], scheme, clss[g], 0.0, decay_k, fac[s, g] * invus[g]
                    )  # the loss at the stack-top wind, 1/u_s = fac / u
                    if vd > 0.0 and c != 0.0:
                        c *= depletion_factor(
                            r, vd * fac[s, g] * invus[g], itab3[s, g], dtab3[s, g], s0, ds
                        )
                    val += fac[s, g] * w * c
                val /= r
                if val == 0.0:
                    continue
                for k in range(nk):
                    out[k, iy, ix] += val * weights[s, k]


@njit(parallel=True, cache=CACHE)
def _stack_heights(u10, cls, ta, hs, ds, vs, ts, p, zref, us_out, h_out):
    """Wind at the stack top and effective height for every (hour, stack)."""
    for t in prange(u10.shape[0]):
        c = cls[t]
        for s in range(hs.shape[0]):
            us = u10[t] * (max(hs[s], zref) / zref) ** p[c]
            us_out[t, s] = us
            h_out[t, s] = effective_height(hs[s], ds[s], vs[s], ts[s], ta[t], us, c)


@njit(parallel=True, cache=CACHE, error_model="numpy")
def hourly_points(
    u10,
    wdir,
    cls,
    zi,
    ta,
    sx,
    sy,
    q,
    hs,
    ds,
    vs,
    ts,
    p,
    zref,
    rx,
    ry,
    rz,
    scheme,
    decay_k,
    out,
):
    """Hourly concentrations [g m-3] of point stacks at receptors, one plume per hour.

    For hour ``t`` and stack ``s``: wind at the stack top ``u_s = u10 (max(h_s, zref) /
    zref)^p[cls]``, effective height from Briggs rise (stack-tip downwash and final rise),
    plume along the hour's direction (wind blowing from ``wdir`` degrees), lid ``zi``.
    Receptors run in parallel; for each receptor the hours and then the stacks are added in
    their given order (deterministic). Receptors upwind or beyond ten sigma_y off the axis
    are skipped before any sigma is computed (see ``plume.TAIL``).
    """
    nt = u10.shape[0]
    ns = sx.shape[0]
    nr = rx.shape[0]
    us = np.empty((nt, ns))
    heff = np.empty((nt, ns))
    _stack_heights(u10, cls, ta, hs, ds, vs, ts, p, zref, us, heff)
    ex = np.empty(nt)
    ey = np.empty(nt)
    slope2 = np.empty(nt)
    for t in range(nt):
        ex[t], ey[t] = downwind_unit(wdir[t])
        b = sigma_y_slope_bound(scheme, cls[t])
        slope2[t] = 2.0 * TAIL * b * b if b > 0.0 else -1.0
    for r in prange(nr):
        for t in range(nt):
            c = cls[t]
            acc = 0.0
            for s in range(ns):
                ox = rx[r] - sx[s]
                oy = ry[r] - sy[s]
                xd = ox * ex[t] + oy * ey[t]
                if xd <= 0.0:
                    continue
                yc = -ox * ey[t] + oy * ex[t]
                if slope2[t] > 0.0 and yc * yc > slope2[t] * xd * xd:
                    continue
                val = plume_value(q[s], xd, yc, rz[r], us[t, s], heff[t, s], zi[t], scheme, c)
                if decay_k > 0.0:
                    val *= math.exp(-decay_k * xd / us[t, s])
                acc += val
            out[t, r] = acc
