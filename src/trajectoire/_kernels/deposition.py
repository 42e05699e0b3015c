"""Dry deposition by source depletion: the depletion integral and factor of a plume.

A plume that deposits at the velocity ``v_d`` [m s-1] at the reference height ``z_d`` (the
receptor height) loses, per metre of travel, ``v_d`` times its crosswind-integrated
concentration at ``z_d`` (source depletion: the vertical profile stays Gaussian, the mass
it carries decreases; Horst 1977; ISC3 Vol. II section 1.3.1)::

    dQ/dx = - v_d Q(x) g(x) / u - k Q(x) / u,     g(x) = V(z_d, h, sigma_z(x), z_i) / (sqrt(2 pi) sigma_z(x))

with ``V`` the vertical term with ground and lid reflections (:func:`.plume.vertical_term`)
and ``k`` a first-order loss rate. Hence ``Q(x) = Q0 exp(-k x / u) F(x)`` with the depletion
factor::

    F(x) = exp(-(v_d / u) I(x)),     I(x) = int_0^x g(x') dx'   [-]

Without a lid and with ``z_d = 0``, ``V = 2 exp(-h^2 / 2 sigma_z^2)`` and ``F`` is the
familiar ``exp[-(2/pi)^(1/2) (v_d/u) int_0^x exp(-h^2 / 2 sigma_z^2) / sigma_z dx']``.

``I`` depends on the met group (stability, lid, release height) but neither on ``u`` nor on
``v_d``, so it is tabulated once per group on log-uniform nodes ``r_k = exp(s0 + k ds)``:
panel integrals in ``s = ln r`` of ``r g(r)`` by 8-point Gauss-Legendre, summed from
``r_0``, and ``I(r_0) = r_0 g(r_0)`` (``g`` held at its value below the first node; for a
receptor above or below the release ``g`` vanishes there). Between nodes, ``I`` is the cubic
Hermite interpolant in ``s`` with the exact slopes ``dI/ds = r g(r)``; below ``r_0`` it is
``I(r_0) r / r_0``, beyond the last node it continues with the last slope.

A depletion set is the tuple ``dep = (v_d, s0, ds, itab, dtab)``: ``itab[g, k] = I_g(r_k)``
[-], ``dtab[g, k] = r_k g_g(r_k)``. ``v_d = 0`` means no deposition: the kernels then skip
the factor altogether, so their results are bit-for-bit those without deposition.

SI units (m, s). No NaN policy beyond the plume's: a NaN height or sigma propagates.
"""

import math

import numpy as np
from numba import njit, prange

from ._config import CACHE
from .plume import SQRT_2PI, vertical_term
from .sigma import sigma_z

GL8_X, GL8_W = np.polynomial.legendre.leggauss(8)
NODES_PER_DECADE = 64
R_FIRST = 1e-6  # [m] first node of the tables

NO_DEPOSITION = (0.0, 0.0, 1.0, np.zeros((1, 1)), np.zeros((1, 1)))
"""The depletion set of a species that does not deposit (any number of groups)."""
NO_DEPOSITION_STACKS = (0.0, 0.0, 1.0, np.zeros((1, 1, 1)), np.zeros((1, 1, 1)))
"""The same for :func:`.plume_longterm.point_sources_footprint` (tables per stack)."""


@njit(cache=CACHE)
def crosswind_unit(r, z, h, zi, scheme, cls, sz0):
    """``g(r) = V(z, h, s, zi) / (sqrt(2 pi) s)`` [m-1] with ``s^2 = sigma_z(r)^2 + sz0^2``.

    The crosswind-integrated concentration per unit emission and unit 1/u, without loss.
    """
    sz = sigma_z(r, scheme, cls)
    if sz0 > 0.0:
        sz = math.sqrt(sz * sz + sz0 * sz0)
    return crosswind_at(z, h, zi, sz)


@njit(cache=CACHE)
def crosswind_at(z, h, zi, sz):
    """:func:`crosswind_unit` for a given vertical spread `sz` [m] (``σz``, or
    ``√(σz² + sz0²)``): the kernels that evaluate many groups of one stability class at one
    distance compute ``σz`` once (:func:`.stacks._node_terms`)."""
    if sz <= 1e-100:
        return 0.0
    return vertical_term(z, h, sz, zi) / (SQRT_2PI * sz)


@njit(cache=CACHE, parallel=True)
def depletion_tables(z, hs, zis, clss, scheme, sz0, s0, ds, itab, dtab):
    """Fill ``itab[g, k] = I_g(r_k)`` and ``dtab[g, k] = r_k g_g(r_k)``, ``r_k = exp(s0 + k ds)``.

    ``I_g(r) = int_0^r g_g(r') dr'`` for the groups ``g`` of release heights `hs` [m], lids
    `zis` [m] and stability indices `clss`, receptor (deposition reference) height `z` [m],
    dispersion scheme `scheme` and initial vertical spread `sz0` [m]. Groups run in parallel.
    """
    ng, nk = itab.shape
    for g in prange(ng):
        r = math.exp(s0)
        val = r * crosswind_unit(r, z, hs[g], zis[g], scheme, clss[g], sz0)
        itab[g, 0] = val
        dtab[g, 0] = val
        acc = val
        for k in range(1, nk):
            lo = s0 + (k - 1) * ds
            for q in range(GL8_X.shape[0]):
                s = lo + 0.5 * ds * (1.0 + GL8_X[q])
                rr = math.exp(s)
                acc += (
                    0.5
                    * ds
                    * GL8_W[q]
                    * rr
                    * crosswind_unit(rr, z, hs[g], zis[g], scheme, clss[g], sz0)
                )
            itab[g, k] = acc
            rk = math.exp(s0 + k * ds)
            dtab[g, k] = rk * crosswind_unit(rk, z, hs[g], zis[g], scheme, clss[g], sz0)


@njit(cache=CACHE)
def depletion_integral(r, irow, drow, s0, ds):
    """``I(r)`` [-] from one group's tables (cubic Hermite in ``ln r``, see the module)."""
    if r <= 0.0:
        return 0.0
    s = math.log(r)
    t = (s - s0) / ds
    nk = irow.shape[0]
    if t <= 0.0:
        return irow[0] * r / math.exp(s0)
    if t >= nk - 1:
        return irow[nk - 1] + drow[nk - 1] * (s - s0 - (nk - 1) * ds)
    k = int(t)
    u = t - k
    um = 1.0 - u
    h00 = (1.0 + 2.0 * u) * um * um
    h10 = u * um * um
    h01 = u * u * (3.0 - 2.0 * u)
    h11 = -u * u * um
    val = h00 * irow[k] + h01 * irow[k + 1] + ds * (h10 * drow[k] + h11 * drow[k + 1])
    return max(val, 0.0)  # the cubic may dip below 0 by round-off where I is ~1e-60


@njit(cache=CACHE)
def depletion_factor(r, vd_inv_u, irow, drow, s0, ds):
    """Source-depletion factor ``F(r) = exp(-v_d <1/u> I(r))`` [-], 0 < F <= 1."""
    return math.exp(-vd_inv_u * depletion_integral(r, irow, drow, s0, ds))


def table_nodes(r_max):
    """``(s0, ds, nk)`` of log-uniform nodes from :data:`R_FIRST` to at least `r_max` [m]."""
    s0 = math.log(R_FIRST)
    ds = math.log(10.0) / NODES_PER_DECADE
    nk = int(math.ceil((math.log(max(r_max, 10.0 * R_FIRST)) - s0) / ds)) + 2
    return s0, ds, nk
