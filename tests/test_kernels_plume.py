"""Kernel tests for the Gaussian plume, the sigmas, Briggs rise and line sources (issue 5).

Every numba kernel is checked against a plain-numpy reference written here, against closed
forms (crosswind integral, mass flux through a downwind plane, infinite crosswind line) and
against published values (Briggs 1973 formulas, Turner 1970 curves via ISC3).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from scipy import integrate

from trajectoire._kernels import plume, plume_longterm, rise, sigma
from trajectoire._kernels.deposition import NO_DEPOSITION as NO_DEP
from trajectoire._kernels.deposition import NO_DEPOSITION_STACKS as NO_DEP_STACKS

CLASSES = "ABCDEF"

# ------------------------------------------------------------------ numpy references
# Briggs (1973) as tabulated by Griffiths (1994) / ISC3 Table 1-2..1-4: (a, b, c) of a x (1+bx)^c
RURAL_Y = [(0.22, 1e-4, -0.5), (0.16, 1e-4, -0.5), (0.11, 1e-4, -0.5), (0.08, 1e-4, -0.5),
           (0.06, 1e-4, -0.5), (0.04, 1e-4, -0.5)]  # fmt: skip
RURAL_Z = [(0.20, 0.0, 0.0), (0.12, 0.0, 0.0), (0.08, 2e-4, -0.5), (0.06, 1.5e-3, -0.5),
           (0.03, 3e-4, -1.0), (0.016, 3e-4, -1.0)]  # fmt: skip
URBAN_Y = [(0.32, 4e-4, -0.5), (0.32, 4e-4, -0.5), (0.22, 4e-4, -0.5), (0.16, 4e-4, -0.5),
           (0.11, 4e-4, -0.5), (0.11, 4e-4, -0.5)]  # fmt: skip
URBAN_Z = [(0.24, 1e-3, 0.5), (0.24, 1e-3, 0.5), (0.20, 0.0, 0.0), (0.14, 3e-4, -0.5),
           (0.08, 1.5e-3, -0.5), (0.08, 1.5e-3, -0.5)]  # fmt: skip


def np_briggs(x, table, cls):
    a, b, c = table[cls]
    return a * x * (1.0 + b * x) ** c


def np_sigmas(x, scheme, cls):
    if scheme == 0:
        return np_briggs(x, RURAL_Y, cls), np_briggs(x, RURAL_Z, cls)
    if scheme == 1:
        return np_briggs(x, URBAN_Y, cls), np_briggs(x, URBAN_Z, cls)
    out_y = np.array([sigma.sigma_y.py_func(v, 2, cls) for v in np.atleast_1d(x)])
    out_z = np.array([sigma.sigma_z.py_func(v, 2, cls) for v in np.atleast_1d(x)])
    return out_y, out_z


def np_vertical(z, h, sz, zi, nimg=30):
    if zi is None or np.isinf(zi):
        return np.exp(-((z - h) ** 2) / (2 * sz**2)) + np.exp(-((z + h) ** 2) / (2 * sz**2))
    n = np.arange(-nimg, nimg + 1)[:, None]
    return (
        np.exp(-((z - h + 2 * n * zi) ** 2) / (2 * sz**2))
        + np.exp(-((z + h + 2 * n * zi) ** 2) / (2 * sz**2))
    ).sum(axis=0)


def np_plume(q, x, y, z, u, h, zi, scheme, cls):
    x = np.atleast_1d(np.asarray(x, dtype=float))
    y, z = np.broadcast_to(y, x.shape), np.broadcast_to(z, x.shape)
    out = np.zeros_like(x)
    pos = x > 0
    sy, sz = np_sigmas(x[pos], scheme, cls)
    v = np_vertical(z[pos], h, sz, zi)
    ey = y[pos] ** 2 / (2 * sy**2)
    out[pos] = np.where(ey > 50.0, 0.0, q / (2 * np.pi * u * sy * sz) * np.exp(-ey) * v)
    return out  # same lateral cut as the kernel: |y| > 10 sigma_y gives 0


def run_plume(q, x, y, z, u, h, zi, scheme, cls):
    x = np.atleast_1d(np.asarray(x, dtype=float))
    n = x.size
    full = [np.broadcast_to(np.asarray(v, dtype=float), (n,)).copy() for v in (q, x, y, z, u, h)]
    zi_arr = np.full(n, 1e30 if zi is None or np.isinf(zi) else zi)
    out = np.empty(n)
    plume.plume_array(*full, zi_arr, np.full(n, cls, dtype=np.int64), scheme, out)
    return out


# ------------------------------------------------------------------ sigmas
@pytest.mark.reference
@pytest.mark.parametrize("x", [100.0, 1000.0, 10000.0])
@pytest.mark.parametrize("cls", range(6))
def test_sigma_briggs_formulas(x, cls):
    """Briggs (1973) rural and urban formulas (Griffiths 1994 Table 1; ISC3 Tables 1-3, 1-4)."""
    for scheme, (ty, tz) in {0: (RURAL_Y, RURAL_Z), 1: (URBAN_Y, URBAN_Z)}.items():
        assert sigma.sigma_y(x, scheme, cls) == pytest.approx(np_briggs(x, ty, cls), rel=1e-12)
        assert sigma.sigma_z(x, scheme, cls) == pytest.approx(np_briggs(x, tz, cls), rel=1e-12)


@pytest.mark.reference
def test_sigma_briggs_spot_values():
    """Hand-computed values: rural D at 1 km, urban D at 10 km, rural F at 100 m."""
    assert sigma.sigma_y(1000.0, 0, 3) == pytest.approx(80 / math.sqrt(1.1), rel=1e-12)
    assert sigma.sigma_z(1000.0, 0, 3) == pytest.approx(60 / math.sqrt(2.5), rel=1e-12)
    assert sigma.sigma_y(10000.0, 1, 3) == pytest.approx(1600 / math.sqrt(5.0), rel=1e-12)
    assert sigma.sigma_z(10000.0, 1, 3) == pytest.approx(1400 / math.sqrt(4.0), rel=1e-12)
    assert sigma.sigma_z(100.0, 0, 5) == pytest.approx(1.6 / 1.03, rel=1e-12)


# Turner (1970) workbook, Figs. 3-2 and 3-3, read at 1 km (the values that every textbook
# tabulates: e.g. sigma_y(D) = 68 m, sigma_z(D) = 32 m); figure-reading precision ~ 5 %.
TURNER_1KM_Y = {"A": 209.0, "B": 154.0, "C": 104.0, "D": 68.0, "E": 51.0, "F": 34.0}
TURNER_1KM_Z = {"A": 454.0, "B": 109.0, "C": 61.0, "D": 32.0, "E": 22.0, "F": 14.0}


@pytest.mark.reference
@pytest.mark.parametrize("cls", range(6))
def test_sigma_pgt_turner_curves_at_1km(cls):
    letter = CLASSES[cls]
    assert sigma.sigma_y(1000.0, 2, cls) == pytest.approx(TURNER_1KM_Y[letter], rel=0.05)
    assert sigma.sigma_z(1000.0, 2, cls) == pytest.approx(TURNER_1KM_Z[letter], rel=0.05)


@pytest.mark.reference
def test_sigma_pgt_isc3_formula_values():
    """ISC3 Eq. 1-33 and Table 1-1 evaluated by hand at tabulated distances."""
    th = math.radians(8.3330 - 0.72382 * math.log(10.0))
    assert sigma.sigma_y(10000.0, 2, 3) == pytest.approx(465.11628 * 10 * math.tan(th), rel=1e-6)
    assert sigma.sigma_z(10000.0, 2, 3) == pytest.approx(33.504 * 10**0.60486, rel=1e-12)
    assert sigma.sigma_z(500.0, 2, 0) == pytest.approx(346.75 * 0.5**1.7283, rel=1e-12)
    assert sigma.sigma_z(5000.0, 2, 0) == 5000.0  # class A beyond 3.11 km
    assert sigma.sigma_z(100000.0, 2, 5) == pytest.approx(34.219 * 100**0.21716, rel=1e-12)


@pytest.mark.reference
def test_sigma_pgt_table_is_nearly_continuous():
    """Transcription check: adjacent ISC3 pieces meet at the breakpoints (within 3 %)."""
    for cls in range(6):
        for bound in sigma.PGT_SZ_X[cls]:
            if bound > 1e20 or (cls == 0 and bound == 3.11):
                continue
            below = sigma.sigma_z(bound * 1000 * (1 - 1e-9), 2, cls)
            above = sigma.sigma_z(bound * 1000 * (1 + 1e-9), 2, cls)
            assert above == pytest.approx(below, rel=0.03), (CLASSES[cls], bound)


def test_sigmas_zero_upwind_and_increasing():
    for scheme in range(3):
        for cls in range(6):
            assert sigma.sigma_y(0.0, scheme, cls) == 0.0
            assert sigma.sigma_z(-5.0, scheme, cls) == 0.0
            xs = np.geomspace(10, 50000, 50)
            sz = [sigma.sigma_z(v, scheme, cls) for v in xs]
            sy = [sigma.sigma_y(v, scheme, cls) for v in xs]
            assert np.all(np.diff(sy) > 0)
            assert np.all(np.diff(sz) >= 0)


def test_sigma_compiled_matches_python():
    for scheme in range(3):
        for cls in range(6):
            for x in (3.0, 150.0, 2500.0, 45000.0):
                assert sigma.sigma_y(x, scheme, cls) == pytest.approx(
                    sigma.sigma_y.py_func(x, scheme, cls), rel=1e-13
                )
                assert sigma.sigma_z(x, scheme, cls) == pytest.approx(
                    sigma.sigma_z.py_func(x, scheme, cls), rel=1e-13
                )


# ------------------------------------------------------------------ plume
@given(
    x=st.floats(-500, 30000).filter(lambda v: v <= 0 or v > 1e-3),
    y=st.floats(-3000, 3000),
    z=st.floats(0, 300),
    h=st.floats(0, 300),
    u=st.floats(0.5, 20),
    zi=st.one_of(st.none(), st.floats(350, 3000)),
    scheme=st.integers(0, 1),
    cls=st.integers(0, 5),
)
@example(x=10203.545642663285, y=0.0, z=0.0, h=0.0, u=1.0, zi=443.03625169989385, scheme=1, cls=3)
def test_plume_matches_numpy_reference(x, y, z, h, u, zi, scheme, cls):
    got = run_plume(2.5, x, y, z, u, h, zi, scheme, cls)[0]
    sz = np_sigmas(max(x, 1e-9), scheme, cls)[1]
    if zi is not None and np.asarray(sz) > 1.6 * zi:
        sy = np_sigmas(x, scheme, cls)[0]
        ey = y**2 / (2 * sy**2)
        want = 0.0 if ey > 50 else 2.5 / (math.sqrt(2 * math.pi) * u * sy * zi) * math.exp(-ey)
    else:
        want = np_plume(2.5, x, y, z, u, h, zi, scheme, cls)[0]
    # the image sum and the well-mixed form agree at the switch (sz = 1.6 zi) to 7e-6
    # relative (the plume kernel's docstring); where this sigma_z and the kernel's (equal to
    # 1e-12, test_sigma_briggs_formulas) fall on both sides of the switch, each takes its
    # own form: 6.5e-6 apart at x = 10203.5 m, zi = 443.04 m (urban D; found by a search)
    at_switch = zi is not None and abs(float(np.asarray(sz)) - 1.6 * zi) <= 1e-12 * 1.6 * zi
    assert got == pytest.approx(want, rel=7e-6 if at_switch else 1e-9, abs=1e-300)


@given(
    x=st.floats(1, 20000),
    y=st.floats(0, 2000),
    z=st.floats(0, 100),
    h=st.floats(0, 100),
    cls=st.integers(0, 5),
    scheme=st.integers(0, 2),
)
def test_plume_symmetric_in_y_and_linear_in_q(x, y, z, h, cls, scheme):
    a = run_plume(1.0, x, y, z, 3.0, h, 1000.0, scheme, cls)[0]
    b = run_plume(1.0, x, -y, z, 3.0, h, 1000.0, scheme, cls)[0]
    c = run_plume(7.0, x, y, z, 3.0, h, 1000.0, scheme, cls)[0]
    assert a == b
    assert c == pytest.approx(7.0 * a, rel=1e-14, abs=1e-300)


def test_plume_upwind_is_zero():
    assert np.all(run_plume(1.0, np.array([-10.0, 0.0]), 0.0, 0.0, 3.0, 10.0, None, 0, 3) == 0)


def test_plume_above_lid_is_zero_below():
    assert run_plume(1.0, 1000.0, 0.0, 1.5, 3.0, 600.0, 500.0, 0, 3)[0] == 0.0


@pytest.mark.parametrize(
    ("x", "h", "z", "zi", "cls"),
    [
        (500.0, 0.0, 0.0, None, 3),
        (2000.0, 50.0, 10.0, None, 4),
        (3000.0, 80.0, 1.5, 400.0, 2),
        (20000.0, 30.0, 1.5, 300.0, 1),
    ],  # fmt: skip
)
def test_crosswind_integral_closed_form(x, h, z, zi, cls):
    """int C dy = q V / (sqrt(2 pi) u sigma_z)."""
    q, u = 3.0, 4.0
    sy = sigma.sigma_y(x, 0, cls)
    ys = np.linspace(-12 * sy, 12 * sy, 4001)
    c = run_plume(q, np.full(ys.size, x), ys, z, u, h, zi, 0, cls)
    num = integrate.simpson(c, x=ys)
    sz = sigma.sigma_z(x, 0, cls)
    zz = 1e30 if zi is None else zi
    want = q / (math.sqrt(2 * math.pi) * u * sz) * plume.vertical_term(z, h, sz, zz)
    assert num == pytest.approx(want, rel=1e-6)
    zcall = np.inf if zi is None else zi
    assert plume.crosswind_integrated(q, x, z, u, h, zz, 0, cls) == pytest.approx(want, rel=1e-12)
    assert zcall > 0


@pytest.mark.parametrize(
    ("x", "h", "zi", "cls"),
    [
        (1000.0, 0.0, None, 3),
        (1000.0, 60.0, None, 3),
        (3000.0, 100.0, 500.0, 2),
        (5000.0, 20.0, 400.0, 1),
        (30000.0, 20.0, 400.0, 0),
        (800.0, 150.0, 200.0, 0),
    ],  # fmt: skip
)
def test_mass_flux_through_downwind_plane(x, h, zi, cls):
    """int int u C dy dz over the plane (z in [0, zi]) equals q to 1e-6, with reflections."""
    q, u = 2.0, 5.0
    sy = sigma.sigma_y(x, 0, cls)
    sz = sigma.sigma_z(x, 0, cls)
    zmax = zi if zi is not None else h + 12 * sz
    zz = 1e30 if zi is None else zi

    def crosswind(zv):
        return integrate.quad(
            lambda yv: plume.plume_value(q, x, yv, zv, u, h, zz, 0, cls),
            -12 * sy,
            12 * sy,
            epsabs=0,
            epsrel=1e-10,
            limit=200,
        )[0]

    pts = [h] if 0 < h < zmax else None
    flux = integrate.quad(crosswind, 0, zmax, epsabs=0, epsrel=1e-9, limit=200, points=pts)[0]
    assert u * flux == pytest.approx(q, rel=1e-6)


def test_vertical_term_images_match_well_mixed_at_switch():
    """At sigma_z = 1.6 zi the image sum is within 1e-5 of the well-mixed form (Poisson sum).

    The first Fourier term of the image sum is 2 exp(-pi^2 sigma_z^2 / (2 zi^2)) ~ 6.5e-6.
    """
    zi = 500.0
    sz = 1.6 * zi * (1 - 1e-12)
    for z, h in ((0.0, 0.0), (1.5, 100.0), (300.0, 450.0)):
        images = plume.vertical_term(z, h, sz, zi)
        mixed = plume.vertical_term(z, h, sz * (1 + 2e-12), zi)
        assert mixed == pytest.approx(math.sqrt(2 * math.pi) * sz / zi, rel=1e-9)
        assert images == pytest.approx(mixed, rel=1e-5)
        assert np_vertical(z, h, sz, zi) == pytest.approx(images, rel=1e-12)


def test_plume_compiled_matches_python():
    for args in (
        (1.0, 900.0, 30.0, 2.0, 3.0, 40.0, 700.0, 1, 3),
        (1.0, 50.0, 0.0, 0.0, 1.0, 0.0, 1e30, 2, 5),
    ):
        assert plume.plume_value(*args) == pytest.approx(
            plume.plume_value.py_func(*args), rel=1e-13
        )


# ------------------------------------------------------------------ plume rise
@pytest.mark.reference
def test_briggs_rise_regimes_by_hand():
    """The four regimes of Briggs final rise evaluated by hand (ISC3 Eqs. 1-8 to 1-25)."""
    g = rise.G
    # buoyant, neutral, Fb >= 55
    d, vs, ts, ta, u = 4.0, 20.0, 420.0, 285.0, 6.0
    fb = g * vs * d * d * (ts - ta) / (4 * ts)
    assert fb > 55
    assert rise.final_rise(d, vs, ts, ta, u, 3) == pytest.approx(38.71 * fb**0.6 / u, rel=1e-12)
    # buoyant, neutral, Fb < 55
    d, vs, ts = 1.0, 8.0, 400.0
    fb = g * vs * d * d * (ts - ta) / (4 * ts)
    assert fb < 55
    assert rise.final_rise(d, vs, ts, ta, u, 2) == pytest.approx(21.425 * fb**0.75 / u, rel=1e-12)
    # momentum (cold jet), unstable
    assert rise.final_rise(1.0, 15.0, 280.0, 285.0, 5.0, 1) == pytest.approx(3 * 15.0 / 5.0)
    # stable buoyant: min(2.6 (Fb/(u s))^1/3, 4 Fb^1/4 s^-3/8), class F
    d, vs, ts, ta, u = 2.0, 15.0, 400.0, 280.0, 4.0
    fb = g * vs * d * d * (ts - ta) / (4 * ts)
    s = g / ta * 0.035
    want = min(2.6 * (fb / (u * s)) ** (1 / 3), 4 * fb**0.25 * s**-0.375)
    assert rise.final_rise(d, vs, ts, ta, u, 5) == pytest.approx(want, rel=1e-12)
    # stable momentum, class E
    fm = 10.0**2 * 1.0 * 280.0 / (4 * 280.0)
    s = g / 280.0 * 0.020
    want = min(1.5 * (fm / (3.0 * math.sqrt(s))) ** (1 / 3), 3 * 1.0 * 10.0 / 3.0)
    assert rise.final_rise(1.0, 10.0, 280.0, 280.0, 3.0, 4) == pytest.approx(want, rel=1e-12)


def test_stack_tip_downwash():
    assert rise.downwash_height(30.0, 2.0, 3.0, 4.0) == pytest.approx(30 + 2 * 2 * (0.75 - 1.5))
    assert rise.downwash_height(30.0, 2.0, 10.0, 4.0) == 30.0
    assert rise.downwash_height(0.5, 2.0, 0.0, 4.0) == 0.0  # never below ground


@given(u=st.floats(0.5, 30), cls=st.integers(0, 5), ts=st.floats(250, 700))
def test_rise_non_negative_and_falls_with_wind(u, cls, ts):
    r1 = rise.final_rise(2.0, 12.0, ts, 285.0, u, cls)
    r2 = rise.final_rise(2.0, 12.0, ts, 285.0, 2 * u, cls)
    assert r1 >= 0 and r2 <= r1 + 1e-12


# ------------------------------------------------------------------ line sources
def run_line(ql, p0, p1, rx, ry, rz, u, wd, h, zi, scheme, cls):
    gx, gw = np.polynomial.legendre.leggauss(4)
    rx, ry, rz = (np.atleast_1d(np.asarray(v, dtype=float)) for v in (rx, ry, rz))
    out = np.empty(rx.size)
    plume.line_source(ql, *p0, *p1, rx, ry, rz, u, wd, h, zi, scheme, cls, gx, gw, out)
    return out


@pytest.mark.reference
@pytest.mark.parametrize(("dist", "h", "z", "cls"), [(20.0, 0.0, 1.5, 3), (100.0, 0.0, 0.0, 3),
                                                    (300.0, 5.0, 2.0, 4), (50.0, 0.0, 1.5, 0)])  # fmt: skip
def test_line_source_infinite_crosswind_limit(dist, h, z, cls):
    """Long crosswind line: C = q_l V / (sqrt(2 pi) u sigma_z) (Seinfeld and Pandis 2016, 18.5)."""
    ql, u = 1e-3, 2.5
    got = run_line(ql, (-20000.0, 0.0), (20000.0, 0.0), 0.0, dist, z, u, 180.0, h, 1e30, 0, cls)[0]
    sz = sigma.sigma_z(dist, 0, cls)
    want = ql / (math.sqrt(2 * math.pi) * u * sz) * plume.vertical_term(z, h, sz, 1e30)
    assert got == pytest.approx(want, rel=1e-6)


@given(
    angle=st.floats(0, 359.9),
    rx=st.floats(-300, 300),
    ry=st.floats(-300, 300),
    cls=st.integers(0, 5),
)
def test_line_source_matches_brute_force_sum(angle, rx, ry, cls):
    """Numerical line integral against a dense sum of point plumes (numpy reference)."""
    p0, p1 = (-150.0, -40.0), (120.0, 90.0)
    got = run_line(1.0, p0, p1, rx, ry, 1.5, 3.0, angle, 0.0, 1e30, 1, cls)[0]
    n = 40001
    t = (np.arange(n) + 0.5) / n
    sx = p0[0] + t * (p1[0] - p0[0])
    sy_ = p0[1] + t * (p1[1] - p0[1])
    seg = math.hypot(p1[0] - p0[0], p1[1] - p0[1]) / n
    phi = math.radians(angle)
    ex, ey = -math.sin(phi), -math.cos(phi)
    ox, oy = rx - sx, ry - sy_
    xd = ox * ex + oy * ey
    yc = -ox * ey + oy * ex
    want = (np_plume(1.0, xd, yc, 1.5, 3.0, 0.0, None, 1, cls) * seg).sum()
    assert got == pytest.approx(want, rel=2e-3, abs=1e-12 * max(want, 1e-30) + 1e-15)


# ------------------------------------------------------------------ long-term pieces
@given(
    weights=st.lists(st.floats(0, 1), min_size=4, max_size=36),
    smooth=st.booleans(),
)
def test_angular_density_integrates_to_total_weight(weights, smooth):
    w = np.array(weights)
    n = 200 * w.size  # cells aligned with the sector edges and centres: exact midpoint rule
    th = (np.arange(n) + 0.5) * 360.0 / n
    dens = np.array([plume_longterm.angular_density(t, w, smooth) for t in th])
    assert dens.sum() * 2 * np.pi / n == pytest.approx(w.sum(), rel=1e-9, abs=1e-12)


def test_ring_integral_of_point_density():
    """int P(r, theta) r dtheta = sum_g (sum_d a_gd) CIC_g(r): the sector form keeps the flux."""
    rng = np.random.default_rng(3)
    a = rng.uniform(0, 1, (3, 16))
    hs = np.array([0.0, 10.0, 25.0])
    zis = np.array([800.0, 1e30, 300.0])
    clss = np.array([3, 5, 1], dtype=np.int64)
    invus = np.ones(3)
    for r in (150.0, 1200.0, 9000.0):
        n = 3600
        th = np.radians((np.arange(n) + 0.5) * 360.0 / n)
        vals = [
            plume_longterm.point_density(
                r * math.sin(t),
                r * math.cos(t),
                1.5,
                a,
                hs,
                zis,
                clss,
                invus,
                0,
                0.0,
                0.0,
                True,
                NO_DEP,
            )  # fmt: skip
            for t in th
        ]
        ring = np.sum(vals) * r * 2 * np.pi / n
        want = sum(
            a[g].sum() * plume_longterm.cic_unit(r, 1.5, hs[g], zis[g], 0, clss[g], 0.0, 0.0, 1.0)
            for g in range(3)
        )
        assert ring == pytest.approx(want, rel=1e-9)


def test_hourly_points_matches_plume_reference():
    rng = np.random.default_rng(1)
    nt, ns, nr = 5, 3, 40
    u10 = rng.uniform(1, 8, nt)
    wd = rng.uniform(0, 360, nt)
    cls = rng.integers(0, 6, nt).astype(np.int64)
    zi = np.where(cls < 4, 900.0, 1e30)
    ta = np.full(nt, 285.0)
    sx, sy = rng.uniform(-500, 500, ns), rng.uniform(-500, 500, ns)
    q = rng.uniform(1, 10, ns)
    hs, ds = rng.uniform(5, 80, ns), rng.uniform(0.5, 3, ns)
    vs, ts = rng.uniform(2, 20, ns), rng.uniform(300, 450, ns)
    p = np.array([0.07, 0.07, 0.10, 0.15, 0.35, 0.55])
    rx, ry = rng.uniform(-3000, 3000, nr), rng.uniform(-3000, 3000, nr)
    rz = np.full(nr, 1.5)
    out = np.empty((nt, nr))
    plume_longterm.hourly_points(u10, wd, cls, zi, ta, sx, sy, q, hs, ds, vs, ts, p, 10.0, rx, ry,
                                 rz, 0, 0.0, out)  # fmt: skip
    want = np.zeros((nt, nr))
    for t in range(nt):
        phi = math.radians(wd[t])
        ex, ey = -math.sin(phi), -math.cos(phi)
        for s in range(ns):
            us = u10[t] * (max(hs[s], 10.0) / 10.0) ** p[cls[t]]
            h = rise.effective_height.py_func(hs[s], ds[s], vs[s], ts[s], ta[t], us, cls[t])
            ox, oy = rx - sx[s], ry - sy[s]
            xd, yc = ox * ex + oy * ey, -ox * ey + oy * ex
            zz = None if zi[t] > 1e29 else zi[t]
            want[t] += np_plume(q[s], xd, yc, 1.5, us, h, zz, 0, int(cls[t]))
    np.testing.assert_allclose(out, want, rtol=1e-9, atol=1e-300)


def test_point_sources_footprint_matches_numpy_reference():
    rng = np.random.default_rng(5)
    a = rng.uniform(0, 1, (2, 8))
    zis = np.array([700.0, 1e30])
    clss = np.array([2, 4], dtype=np.int64)
    invus = np.array([0.3, 0.5])
    src_x, src_y = np.array([1030.0, 1410.0]), np.array([980.0, 1275.0])
    hs = rng.uniform(10, 60, (2, 2))
    fac = rng.uniform(0.5, 1, (2, 2))
    w = rng.uniform(0, 3, (2, 3))
    xs = 50.0 + 100.0 * np.arange(25)
    ys = 2450.0 - 100.0 * np.arange(25)
    out = np.zeros((3, 25, 25))
    plume_longterm.point_sources_footprint(src_x, src_y, hs, fac, w, a, zis, clss, invus, 0, 1.5,
                                           0.0, True, 900.0, xs, ys, NO_DEP_STACKS, out)  # fmt: skip
    want = np.zeros_like(out)
    width = 360.0 / 8
    for s in range(2):
        for iy, yc in enumerate(ys):
            for ix, xc in enumerate(xs):
                dx, dy = xc - src_x[s], yc - src_y[s]
                r = math.hypot(dx, dy)
                if r > 900.0 or r == 0:
                    continue
                t = ((math.degrees(math.atan2(dx, dy)) - 180.0) % 360.0) / width
                d0, fr = int(np.floor(t)) % 8, t - np.floor(t)
                val = 0.0
                for g in range(2):
                    wg = ((1 - fr) * a[g, d0] + fr * a[g, (d0 + 1) % 8]) / math.radians(width)
                    sz = sigma.sigma_z(r, 0, clss[g])
                    zz = None if zis[g] > 1e29 else zis[g]
                    if zz is not None and sz > 1.6 * zz:
                        v = math.sqrt(2 * math.pi) * sz / zz
                    else:
                        v = np_vertical(1.5, hs[s, g], sz, zz)
                    val += fac[s, g] * wg * v / (math.sqrt(2 * math.pi) * sz)
                want[:, iy, ix] += val / r * w[s]
    np.testing.assert_allclose(out, want, rtol=1e-9, atol=1e-300)


def np_point_density(dx, dy, a_row, h, zi, cls, z=1.5, scheme=0):
    """Numpy reference of the sector-averaged (smoothed) long-term point kernel, one group."""
    r = math.hypot(dx, dy)
    n = a_row.size
    width = 360.0 / n
    t = ((math.degrees(math.atan2(dx, dy)) - 180.0) % 360.0) / width
    d0, fr = int(math.floor(t)) % n, t - math.floor(t)
    w = ((1 - fr) * a_row[d0] + fr * a_row[(d0 + 1) % n]) / math.radians(width)
    sz = np_sigmas(r, scheme, cls)[1]
    if zi is not None and sz > 1.6 * zi:
        v = math.sqrt(2 * math.pi) * sz / zi
    else:
        v = float(np.ravel(np_vertical(z, h, sz, zi))[0])
    return w / r * v / (math.sqrt(2 * math.pi) * sz)


@pytest.mark.parametrize("h", [0.0, 12.0])
def test_annual_kernel_grid_matches_adaptive_quadrature(h):
    """Cell-averaged kernel against scipy's adaptive quadrature of the numpy point kernel."""
    rng = np.random.default_rng(11)
    a = rng.uniform(0.2, 1.0, (1, 8))
    res, m, cls, zi = 100.0, 6, 3, 600.0
    orders = [16, 8, 4, 2, 1]
    gl_x = np.zeros((5, 16))
    gl_w = np.zeros((5, 16))
    for lev, n in enumerate(orders):
        x, w = np.polynomial.legendre.leggauss(n)
        gl_x[lev, :n], gl_w[lev, :n] = 0.5 * x, 0.5 * w
    kinks = np.arange(8) * 45.0
    breaks = np.unique(np.concatenate([[0.0, 360.0, 45.0, 135.0, 225.0, 315.0], kinks]))
    ax, aw = np.polynomial.legendre.leggauss(8)
    rx, rw = np.polynomial.legendre.leggauss(16)
    out = np.zeros((2 * m + 1, 2 * m + 1))
    plume_longterm.annual_kernel_grid(
        m, res, 1.5, a, np.array([h]), np.array([zi]), np.array([cls], dtype=np.int64),
        np.ones(1), 0, 0.0, 0.0, True, 1e9, gl_x, gl_w, np.array(orders, dtype=np.int64),
        np.array([1, 3, 8, 40], dtype=np.int64), breaks, ax, aw, rx, rw, 6, NO_DEP, out,
    )  # fmt: skip
    for oi, oj in ((0, 1), (-1, -1), (2, -3), (-4, 5), (6, 0)):
        east, north = oj * res, -oi * res
        ref = integrate.dblquad(
            lambda sy, sx, e=east, n=north: np_point_density(e - sx, n - sy, a[0], h, zi, cls),
            -res / 2, res / 2, -res / 2, res / 2, epsabs=0, epsrel=1e-7,
        )[0] / res**2  # fmt: skip
        assert out[oi + m, oj + m] == pytest.approx(ref, rel=5e-3), (oi, oj)

    # the source cell, in polar coordinates around the receptor (no singularity)
    def radial(alpha):
        rmax = res / 2 / max(abs(math.sin(alpha)), abs(math.cos(alpha)))
        theta = math.degrees(alpha) + 180.0
        n = 8
        t = ((theta - 180.0) % 360.0) / 45.0
        d0, fr = int(math.floor(t)) % n, t - math.floor(t)
        w = ((1 - fr) * a[0, d0] + fr * a[0, (d0 + 1) % n]) / math.radians(45.0)

        def cic(rho):
            sz = np_sigmas(rho, 0, cls)[1]
            return float(np.ravel(np_vertical(1.5, h, sz, zi))[0]) / (math.sqrt(2 * math.pi) * sz)

        return w * integrate.quad(cic, 1e-9, rmax, epsabs=0, epsrel=1e-9, limit=200)[0]

    pts = np.radians(breaks[1:-1])
    ref0 = integrate.quad(radial, 0, 2 * math.pi, points=pts, epsabs=0, epsrel=1e-8,
                          limit=200)[0] / res**2  # fmt: skip
    assert out[m, m] == pytest.approx(ref0, rel=1e-4)
