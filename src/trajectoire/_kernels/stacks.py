"""Long-term footprints of point stacks by radial tabulation.

The sector-averaged long-term concentration of a stack (see :mod:`.plume_longterm`) at
distance ``r`` and plume bearing ``θ`` is

``C(r, θ) = Σ_g w_g(θ) fac_g CIC_g(r; H_g) / r``

where the angular density of group ``g`` interpolates linearly between the two sector
centres around ``θ``: ``w_g(θ) = [(1 − φ) a_{g,d0} + φ a_{g,d1}] N / 2π``. Exchanging the
sums gives ``C(r, θ) = (1 − φ) R_{d0}(r) + φ R_{d1}(r)`` with the radial profiles
``R_d(r) = N/2π Σ_g a_{g,d} fac_g CIC_g(r; H_g) / r``, which do not depend on the receptor.
Tabulating ``R_d`` on a fine radial grid once per stack turns the cost per receptor cell
from one plume evaluation per met group (tens) into two linear interpolations; the
tabulation error is bounded in ``tests/test_kernels_stacks.py`` against the exact sum.
"""

import math

import numpy as np
from numba import njit, prange

from ._config import CACHE
from .deposition import depletion_factor
from .plume_longterm import cic_unit


@njit(cache=CACHE, parallel=True)
def radial_profiles(a, fac, hs, zis, clss, invus, scheme, z, decay_k, r_nodes, dep):
    """Radial profiles ``R[d, k]`` [per unit emission rate] of one stack at nodes ``r_nodes``.

    Parameters
    ----------
    a : (G, N) float64
        Direction weights of each met group (frequency × <1/u>).
    fac : (G,) float64
        Wind-speed factor of each group at the stack top (1/u_s = fac / u_10).
    hs : (G,) float64
        Effective release height of each group [m].
    zis, clss, invus : (G,) arrays
        Mixing height [m], stability index, mean 1/u [s m-1] of each group.
    scheme : int
        Dispersion-coefficient scheme code.
    z : float
        Receptor height [m].
    decay_k : float
        First-order loss rate [s-1].
    r_nodes : (K,) float64
        Increasing radii [m], all > 0.
    dep : tuple
        Depletion set ``(v_d, s0, ds, itab, dtab)`` of the stack's groups
        (:mod:`.deposition`); each group depletes at its stack-top wind, ``1/u = fac / u_g``.
    """
    vd, s0, ds, itab, dtab = dep
    ng, n = a.shape
    nk = r_nodes.shape[0]
    out = np.zeros((n, nk))
    inv_width = n / (2.0 * math.pi)
    for k in prange(nk):
        r = r_nodes[k]
        for g in range(ng):
            if fac[g] == 0.0:
                continue
            c = fac[g] * cic_unit(r, z, hs[g], zis[g], scheme, clss[g], 0.0, decay_k, invus[g])
            if c == 0.0:
                continue
            if vd > 0.0:
                c *= depletion_factor(r, vd * fac[g] * invus[g], itab[g], dtab[g], s0, ds)
            c *= inv_width / r
            for d in range(n):
                out[d, k] += a[g, d] * c
    return out


@njit(cache=CACHE, parallel=True)
def footprint_from_profiles(profiles, r_nodes, sx, sy, xs, ys, radius, out):
    """Footprint on the cell centres ``(ys[i], xs[j])`` of a stack at ``(sx, sy)``.

    ``out[i, j] = (1 − φ) R_{d0}(r) + φ R_{d1}(r)``, ``R`` interpolated linearly between the
    nodes (uniform spacing), zero beyond `radius` and at ``r = 0``.
    """
    n, nk = profiles.shape
    width = 360.0 / n
    r0 = r_nodes[0]
    dr = r_nodes[1] - r_nodes[0]
    ny = ys.shape[0]
    nx = xs.shape[0]
    for i in prange(ny):
        ddy = ys[i] - sy
        for j in range(nx):
            ddx = xs[j] - sx
            r = math.hypot(ddx, ddy)
            if r > radius or r <= 0.0:
                continue
            theta = math.degrees(math.atan2(ddx, ddy))
            t = ((theta - 180.0) % 360.0) / width
            f = math.floor(t)
            d0 = int(f) % n
            d1 = (d0 + 1) % n
            phi = t - f
            q = (r - r0) / dr
            if q <= 0.0:
                v0 = profiles[d0, 0]
                v1 = profiles[d1, 0]
            elif q >= nk - 1:
                v0 = profiles[d0, nk - 1]
                v1 = profiles[d1, nk - 1]
            else:
                k = int(q)
                u = q - k
                v0 = (1.0 - u) * profiles[d0, k] + u * profiles[d0, k + 1]
                v1 = (1.0 - u) * profiles[d1, k] + u * profiles[d1, k + 1]
            out[i, j] = (1.0 - phi) * v0 + phi * v1
