"""Dry deposition by source depletion (``_kernels/deposition.py``, issue 14).

The depletion integral ``I(r) = ∫_0^r V(z, h, σz, zi) / (√(2π) σz) dr'`` is checked against
its closed form for ``σz = a x`` (Briggs rural A: ``σz = 0.2 x``) and against scipy's
adaptive quadrature of the plain-numpy plume of ``test_kernels_plume.py`` (lids, other
classes, initial spread); the factor ``F = exp(-(v_d/u) I)`` on its properties (hypothesis);
and the long-term kernel that uses it on the mass balance of the issue: emitted = airborne
outflow + deposited + decayed.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import integrate, special

from test_kernels_plume import np_sigmas, np_vertical
from trajectoire._kernels import deposition as dep
from trajectoire._kernels import plume_longterm
from trajectoire._kernels.stacks import radial_profiles

SQRT_2PI = math.sqrt(2.0 * math.pi)
NO_LID = 1e30


def tables(z, hs, zis, clss, scheme=0, sz0=0.0, r_max=1e5):
    hs, zis = np.atleast_1d(np.asarray(hs, float)), np.atleast_1d(np.asarray(zis, float))
    clss = np.atleast_1d(np.asarray(clss, dtype=np.int64))
    s0, ds, nk = dep.table_nodes(r_max)
    itab = np.empty((hs.size, nk))
    dtab = np.empty_like(itab)
    dep.depletion_tables(z, hs, zis, clss, scheme, sz0, s0, ds, itab, dtab)
    return s0, ds, itab, dtab


def integral(r, t, g=0):
    s0, ds, itab, dtab = t
    return dep.depletion_integral(r, itab[g], dtab[g], s0, ds)


def np_g(r, z, h, zi, scheme, cls, sz0=0.0):
    """``V / (√(2π) σz)`` from the numpy sigmas and vertical term [m-1]."""
    sz = float(np_sigmas(np.array([r]), scheme, cls)[1][0])
    sz = math.hypot(sz, sz0)
    zz = None if zi >= 1e29 else zi
    if zz is not None and sz > 1.6 * zz:
        return 1.0 / zz
    return float(np.ravel(np_vertical(z, h, sz, zz))[0]) / (SQRT_2PI * sz)


def np_integral(r, z, h, zi, scheme, cls, sz0=0.0):
    """Adaptive quadrature of ``g`` in ``ln r`` from 1e-9 m to `r` (independent reference)."""
    f = lambda s: math.exp(s) * np_g(math.exp(s), z, h, zi, scheme, cls, sz0)  # noqa: E731
    lo = math.log(1e-9)
    pts = np.linspace(lo, math.log(r), 40)
    return sum(
        integrate.quad(f, a, b, epsabs=0, epsrel=1e-12, limit=200)[0]
        for a, b in zip(pts[:-1], pts[1:], strict=True)
    )


# ---------------------------------------------------------------- the depletion integral
@pytest.mark.parametrize(("z", "h"), [(1.5, 0.0), (0.0, 10.0), (1.5, 25.0), (4.0, 1.0)])
def test_integral_matches_closed_form_for_linear_sigma(z, h):
    """σz = a x (Briggs rural class A, a = 0.2), no lid:
    ``I(x) = [E1((z-h)²/2a²x²) + E1((z+h)²/2a²x²)] / (2 √(2π) a)``."""
    a = 0.2
    t = tables(z, [h], [NO_LID], [0])
    for x in (3.0, 50.0, 730.0, 4000.0, 25_000.0):
        want = (special.exp1((z - h) ** 2 / (2 * a * a * x * x))
                + special.exp1((z + h) ** 2 / (2 * a * a * x * x))) / (2 * SQRT_2PI * a)  # fmt: skip
        # absolute 1e-7 on I is a relative error below 1e-8 on F for v_d/u < 0.1
        assert integral(x, t) == pytest.approx(want, rel=1e-9, abs=1e-7), x


@pytest.mark.parametrize(
    ("scheme", "cls", "h", "zi", "sz0"),
    [(0, 3, 0.0, 800.0, 0.0), (1, 5, 12.0, 300.0, 0.0), (2, 4, 30.0, NO_LID, 0.0),
     (1, 1, 0.0, 1500.0, 2.0), (0, 5, 60.0, 100.0, 0.0)],
)  # fmt: skip
def test_integral_matches_numpy_quadrature(scheme, cls, h, zi, sz0):
    """Against scipy's quadrature of the numpy plume (lid images, well-mixed limit, PGT).

    1e-6: the PGT sigma_z has kinks and the vertical term a 7e-6 step at the well-mixed
    switch, which the panel rules of the tables straddle (1e-6 on I is 1e-8 on F)."""
    t = tables(1.5, [h], [zi], [cls], scheme=scheme, sz0=sz0)
    for x in (40.0, 333.0, 2500.0, 19_000.0):
        want = np_integral(x, 1.5, h, zi, scheme, cls, sz0)
        assert integral(x, t) == pytest.approx(want, rel=1e-6, abs=1e-6), x


def test_integral_node_values_and_slopes():
    """At the nodes the interpolant returns the tables; between them its slope in ln r is
    the integrand ``r g(r)`` to the Hermite error (largest, 3e-4, where g rises steeply)."""
    t = tables(1.5, [5.0], [900.0], [3])
    s0, ds, itab, dtab = t
    for k in (3, 400, 500):
        assert integral(math.exp(s0 + k * ds), t) == pytest.approx(itab[0, k], rel=1e-12)
    for r in (17.3, 240.0, 3100.0):
        e = 1e-4
        slope = (integral(r * math.exp(e), t) - integral(r * math.exp(-e), t)) / (2 * e)
        assert slope == pytest.approx(r * np_g(r, 1.5, 5.0, 900.0, 0, 3), rel=1e-3)


def test_tables_compiled_match_python():
    s0, ds, nk = dep.table_nodes(2e4)
    args = (1.5, np.array([0.0, 20.0]), np.array([NO_LID, 700.0]), np.array([2, 4]), 1, 0.5)
    got = [np.empty((2, nk)), np.empty((2, nk))]
    want = [np.empty((2, nk)), np.empty((2, nk))]
    dep.depletion_tables(*args, s0, ds, *got)
    dep.depletion_tables.py_func(*args, s0, ds, *want)
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=0)
    for r in (1e-7, 0.3, 77.0, 5e4):
        assert dep.depletion_factor(r, 0.003, got[0][1], got[1][1], s0, ds) == pytest.approx(
            dep.depletion_factor.py_func(r, 0.003, got[0][1], got[1][1], s0, ds), rel=1e-13
        )


# ---------------------------------------------------------------- the factor's properties
@given(
    h=st.floats(0.0, 200.0),
    zi=st.one_of(st.just(NO_LID), st.floats(150.0, 3000.0)),
    cls=st.integers(0, 5),
    scheme=st.integers(0, 2),
    vd=st.floats(1e-4, 0.05),
    inv_u=st.floats(0.05, 2.0),
)
def test_factor_decreases_with_distance_and_velocity(h, zi, cls, scheme, vd, inv_u):
    """0 < F <= 1, F non-increasing in r and in v_d (up to round-off of the interpolant)."""
    s0, ds, itab, dtab = tables(1.5, [h], [zi], [cls], scheme=scheme, r_max=3e4)
    r = np.geomspace(0.01, 3e4, 300)
    f = np.array([dep.depletion_factor(x, vd * inv_u, itab[0], dtab[0], s0, ds) for x in r])
    f2 = np.array([dep.depletion_factor(x, 2 * vd * inv_u, itab[0], dtab[0], s0, ds) for x in r])
    assert (f > 0).all() and (f <= 1).all()
    assert (np.diff(f) <= 1e-12).all()
    assert (f2 <= f).all()


@given(q1=st.floats(0.0, 1e3), q2=st.floats(0.0, 1e3), vd=st.floats(0.0, 0.03))
def test_depleted_profiles_linear_in_emission(q1, q2, vd):
    """The depleted radial profiles of a stack are linear in its emission weights."""
    a = np.random.default_rng(2).uniform(0, 1, (2, 16))
    fac, hs = np.array([1.0, 0.8]), np.array([15.0, 40.0])
    zis, clss, invus = np.array([800.0, NO_LID]), np.array([3, 5]), np.array([0.3, 0.7])
    s0, ds, itab, dtab = tables(1.5, hs, zis, clss)
    d = (vd, s0, ds, itab, dtab)
    r = np.linspace(10.0, 5000.0, 50)
    one = radial_profiles(a, fac, hs, zis, clss, invus, 0, 1.5, 0.0, r, d)
    both = radial_profiles((q1 + q2) * a, fac, hs, zis, clss, invus, 0, 1.5, 0.0, r, d)
    np.testing.assert_allclose(both, (q1 + q2) * one, rtol=1e-12, atol=1e-300)


def test_zero_velocity_is_bit_for_bit_no_deposition():
    """v_d = 0 with real tables gives exactly the kernel of the no-deposition set."""
    a = np.random.default_rng(1).uniform(0, 1, (2, 36))
    hs, zis = np.array([1.0, 20.0]), np.array([600.0, NO_LID])
    clss, invus = np.array([1, 4]), np.array([0.2, 0.6])
    s0, ds, itab, dtab = tables(1.5, hs, zis, clss)
    for dx, dy in ((30.0, -7.0), (-900.0, 1200.0), (5e3, 2e3)):
        args = (dx, dy, 1.5, a, hs, zis, clss, invus, 1, 0.0, 1e-4, True)
        zero = plume_longterm.point_density(*args, (0.0, s0, ds, itab, dtab))
        assert zero == plume_longterm.point_density(*args, dep.NO_DEPOSITION)


# ---------------------------------------------------------------- the mass balance
@pytest.mark.parametrize(
    ("cls", "h", "zi", "vd", "k", "inv_u", "sz0"),
    [(3, 0.0, 800.0, 0.01, 0.0, 0.25, 1.0), (5, 10.0, NO_LID, 0.008, 1e-4, 0.6, 0.0),
     (1, 25.0, 400.0, 0.02, 3e-5, 0.15, 0.0), (4, 3.0, 250.0, 0.004, 0.0, 0.4, 0.0)],
)  # fmt: skip
def test_mass_balance_emitted_equals_outflow_deposited_decayed(cls, h, zi, vd, k, inv_u, sz0):
    """Issue 14: on the radial kernel, emitted = outflow + deposited + decayed to 1e-6.

    One met group with an isotropic rose (``a = <1/u> / N`` per sector) around a source of
    1 g s-1. The ring integral of the long-term kernel ``point_density`` is the
    crosswind-integrated concentration at the receptor height, ``C_ring(r) = 2π r P(r)
    = <1/u> g(r) F(r) E(r)`` [s m-2]. The column mass per metre of travel is
    ``∫∫ C dz dθ r = <1/u> F E`` (the vertical term integrates to ``√(2π) σz`` over the
    reflected column), so:

    * deposited inside R: ``v_d ∫_0^R C_ring dr`` (the concentration kernel itself);
    * decayed inside R: ``k <1/u> ∫_0^R F E dr``;
    * airborne outflow through the circle R: ``u × <1/u> F(R) E(R) = F(R) E(R)``;

    with ``F`` the kernel's depletion factor. The integrals are composite Gauss-Legendre
    rules in ``ln r`` (40 panels per decade, 16 nodes), from 1e-6 m; the check is
    ``|1 - (out + dep + dec)| < 1e-6``. What this checks is that the kernel's depletion is
    the exact loss of what it deposits (the ODE ``dQ/dr = -(v_d g + k) <1/u> Q``) to the
    accuracy of the tabulated integral; on the gridded kernel the cell quadrature adds its
    own, larger, discretisation error.
    """
    n = 16
    a = np.full((1, n), inv_u / n)
    hs, zis, clss, ius = np.array([h]), np.array([zi]), np.array([cls]), np.array([inv_u])
    s0, ds, itab, dtab = tables(1.5, hs, zis, clss, sz0=sz0)
    dset = (vd, s0, ds, itab, dtab)
    radius = 20_000.0

    def ring(r):
        return (
            2
            * math.pi
            * r
            * plume_longterm.point_density(
                0.0, r, 1.5, a, hs, zis, clss, ius, 0, sz0, k, True, dset
            )
        )

    def fe(r):
        f = dep.depletion_factor(r, vd * inv_u, itab[0], dtab[0], s0, ds)
        return f * math.exp(-k * r * inv_u)

    x, w = np.polynomial.legendre.leggauss(16)
    edges = np.linspace(math.log(1e-6), math.log(radius), 40 * 11 + 1)
    deposited = decayed = 0.0
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        for xi, wi in zip(x, w, strict=True):
            r = math.exp(0.5 * (lo + hi) + 0.5 * (hi - lo) * xi)
            jac = 0.5 * (hi - lo) * wi * r
            deposited += jac * vd * ring(r)
            decayed += jac * k * inv_u * fe(r)
    outflow = fe(radius)
    assert deposited > 0.05  # the test has something to check
    assert abs(1.0 - (outflow + deposited + decayed)) < 1e-6, (outflow, deposited, decayed)
