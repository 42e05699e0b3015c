"""Kernels of the stack footprints by radial tabulation (``_kernels/stacks.py``).

``radial_profiles`` tabulates ``R_d(r) = N/2π Σ_g a[g, d] fac[g] CIC_g(r) / r`` and
``footprint_from_profiles`` evaluates ``(1 - φ) R_d0(r) + φ R_d1(r)`` on cell centres, ``R``
interpolated linearly between the radial nodes. Both are checked against plain-numpy
references written here (the crosswind-integrated concentration from the numpy sigmas and
vertical term of ``test_kernels_plume.py``), against the exact long-term sum
(``plume_longterm.point_density``) that the tabulation replaces, and on their properties:
linearity, the flux through a circle, isotropy, the side of the plume, and zero outside
``0 < r <= radius``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from test_kernels_plume import np_sigmas, np_vertical
from trajectoire._kernels import plume_longterm
from trajectoire._kernels.deposition import NO_DEPOSITION as NO_DEP
from trajectoire._kernels.stacks import footprint_from_profiles, radial_profiles

NO_LID = 1e30
SQRT_2PI = math.sqrt(2.0 * math.pi)


# ---------------------------------------------------------------- plain-numpy references
def np_cic(r, z, h, zi, scheme, cls, decay_k, inv_u):
    """Crosswind-integrated concentration per unit emission and 1/u [m-1] at radii `r`."""
    r = np.asarray(r, dtype=float)
    sz = np_sigmas(r, scheme, int(cls))[1]
    if zi >= 1e29:
        v = np_vertical(z, h, sz, None)
    elif h > zi or z > zi:
        v = np.zeros_like(r)
    else:  # well mixed below the lid once sigma_z > 1.6 z_i, as the kernel does
        v = np.where(sz > 1.6 * zi, SQRT_2PI * sz / zi, np_vertical(z, h, sz, zi))
    return v / (SQRT_2PI * sz) * np.exp(-decay_k * r * inv_u)


def np_radial_profiles(a, fac, hs, zis, clss, invus, scheme, z, decay_k, r_nodes):
    """``R[d, k]`` by a matrix product over the met groups; the loss over the travel time
    at the stack-top wind, ``<1/u_s> = fac <1/u>``."""
    cic = np.array(
        [
            np_cic(r_nodes, z, hs[g], zis[g], scheme, clss[g], decay_k, fac[g] * invus[g])
            for g in range(a.shape[0])
        ]
    )  # (G, K)
    n = a.shape[1]
    return (a * fac[:, None]).T @ cic * n / (2.0 * np.pi * r_nodes)


def np_footprint(profiles, r_nodes, sx, sy, xs, ys, radius):
    """Footprint on the cell centres ``(ys[i], xs[j])``, vectorised."""
    n = profiles.shape[0]
    dx = xs[None, :] - sx
    dy = ys[:, None] - sy
    r = np.hypot(dx, dy)
    t = np.mod(np.degrees(np.arctan2(dx, dy)) - 180.0, 360.0) / (360.0 / n)
    d0 = np.floor(t).astype(int) % n
    d1 = (d0 + 1) % n
    phi = t - np.floor(t)
    # np.interp holds the end values outside the nodes, as the kernel does
    along = np.stack([np.interp(r, r_nodes, profiles[d]) for d in range(n)])  # (N, ny, nx)
    v0 = np.take_along_axis(along, d0[None], axis=0)[0]
    v1 = np.take_along_axis(along, d1[None], axis=0)[0]
    out = (1.0 - phi) * v0 + phi * v1
    out[(r > radius) | (r <= 0.0)] = 0.0
    return out


def run_footprint(profiles, r_nodes, sx, sy, xs, ys, radius, kernel=footprint_from_profiles):
    out = np.zeros((ys.size, xs.size))
    kernel(profiles, r_nodes, sx, sy, xs, ys, radius, out)
    return out


# ---------------------------------------------------------------- inputs
@st.composite
def met_groups(draw):
    """Direction weights and per-group parameters of G met groups on N sectors."""
    g = draw(st.integers(1, 4))
    n = draw(st.integers(4, 36))
    floats = st.floats(0.0, 1.0)
    a = np.array(draw(st.lists(floats, min_size=g * n, max_size=g * n))).reshape(g, n)
    fac = np.array(
        draw(st.lists(st.one_of(st.just(0.0), st.floats(0.3, 2.0)), min_size=g, max_size=g))
    )
    hs = np.array(draw(st.lists(st.floats(0.0, 150.0), min_size=g, max_size=g)))
    zis = np.array(
        draw(st.lists(st.one_of(st.just(NO_LID), st.floats(200.0, 2500.0)), min_size=g, max_size=g))
    )
    clss = np.array(draw(st.lists(st.integers(0, 5), min_size=g, max_size=g)), dtype=np.int64)
    invus = np.array(draw(st.lists(st.floats(0.05, 2.0), min_size=g, max_size=g)))
    return a, fac, hs, zis, clss, invus


def fixed_groups(n=16, seed=4):
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.0, 1.0, (3, n))
    fac = np.array([1.0, 0.7, 1.3])
    hs = np.array([5.0, 40.0, 90.0])
    zis = np.array([800.0, NO_LID, 400.0])
    clss = np.array([3, 5, 1], dtype=np.int64)
    invus = np.array([0.4, 0.9, 0.2])
    return a, fac, hs, zis, clss, invus


nodes = st.lists(st.floats(1.0, 20_000.0), min_size=1, max_size=30).map(
    lambda v: np.unique(np.asarray(v))
)


# ---------------------------------------------------------------- radial_profiles
@given(
    met_groups(),
    st.sampled_from([0, 1]),
    st.floats(0.0, 10.0),
    st.one_of(st.just(0.0), st.floats(1e-6, 1e-3)),
    nodes,
)
@example(
    groups=(
        np.array([[1.0, 0.5, 0.2, 0.0]]),
        np.array([1.0]),
        np.array([0.0]),
        np.array([433.3230140232023]),
        np.array([2], dtype=np.int64),
        np.array([1.0]),
    ),
    scheme=0,
    z=0.0,
    decay_k=0.0,
    r_nodes=np.array([18978.924555080368]),
)
def test_radial_profiles_match_numpy_reference(groups, scheme, z, decay_k, r_nodes):
    got = radial_profiles(*groups, scheme, z, decay_k, r_nodes, NO_DEP)
    want = np_radial_profiles(*groups, scheme, z, decay_k, r_nodes)
    assert got.shape == (groups[0].shape[1], r_nodes.size)
    # absolute floor 1e-300: an underflowing exp gives 0 in one and a subnormal (5e-324) in
    # the other, which a relative tolerance alone cannot accept
    scale = np.abs(want).max(initial=0)
    # the image sum and the well-mixed form agree at the switch (sz = 1.6 zi) to 7e-6
    # relative (the plume kernel's docstring); at a node where the reference's sigma_z and
    # the kernel's (equal to 1e-12) fall on both sides of a group's switch, each takes its
    # own form: 6.5e-6 apart at r = 18978.9 m, zi = 433.32 m (rural C; found by a search)
    zis, clss = groups[3], groups[4]
    sz = np.array([np.asarray(np_sigmas(r_nodes, scheme, int(c))[1]) for c in clss])  # (G, K)
    at_switch = (np.abs(sz - 1.6 * zis[:, None]) <= 1e-12 * 1.6 * zis[:, None]).any(axis=0)
    for cols, rtol in ((~at_switch, 1e-9), (at_switch, 7e-6)):
        np.testing.assert_allclose(
            got[:, cols], want[:, cols], rtol=rtol, atol=1e-12 * scale + 1e-300
        )


@given(met_groups(), st.floats(0.0, 3.0), st.floats(0.0, 3.0))
def test_radial_profiles_linear_in_the_weights(groups, alpha, beta):
    a, *rest = groups
    other = np.roll(a, 1, axis=1) + 0.5
    r_nodes = np.geomspace(5.0, 15_000.0, 12)
    one = radial_profiles(a, *rest, 0, 1.5, 0.0, r_nodes, NO_DEP)
    two = radial_profiles(other, *rest, 0, 1.5, 0.0, r_nodes, NO_DEP)
    both = radial_profiles(alpha * a + beta * other, *rest, 0, 1.5, 0.0, r_nodes, NO_DEP)
    # absolute floor 1e-300 as above: profiles of 1e-313 are subnormal, with a few
    # significant bits, and a relative tolerance of 1e-12 cannot hold there
    np.testing.assert_allclose(
        both,
        alpha * one + beta * two,
        rtol=1e-12,
        atol=1e-14 * np.abs(both).max(initial=0) + 1e-300,
    )


@given(met_groups(), st.sampled_from([0, 1]))
def test_radial_profiles_keep_the_flux_through_each_circle(groups, scheme):
    """``∫ C(r, θ) r dθ = (2π/N) Σ_d R_d(r) r = Σ_g (Σ_d a_gd) fac_g CIC_g(r)``.

    The hat functions of the sector interpolation integrate to ``2π/N`` each, so the flux
    through a circle of radius ``r`` is that of the sector weights, whatever their shape.
    """
    a, fac, hs, zis, clss, invus = groups
    r_nodes = np.geomspace(2.0, 30_000.0, 15)
    prof = radial_profiles(a, fac, hs, zis, clss, invus, scheme, 1.5, 0.0, r_nodes, NO_DEP)
    flux = prof.sum(axis=0) * 2.0 * np.pi / a.shape[1] * r_nodes
    cic = np.array(
        [
            [plume_longterm.cic_unit(r, 1.5, hs[g], zis[g], scheme, clss[g], 0.0, 0.0, invus[g])
             for r in r_nodes]
            for g in range(a.shape[0])
        ]
    )  # fmt: skip
    want = (a.sum(axis=1) * fac) @ cic
    np.testing.assert_allclose(flux, want, rtol=1e-12, atol=1e-300)


def test_radial_profiles_zero_without_emission_or_wind_factor():
    a, fac, hs, zis, clss, invus = fixed_groups()
    r_nodes = np.linspace(10.0, 2000.0, 9)
    assert not radial_profiles(np.zeros_like(a), fac, hs, zis, clss, invus, 0, 1.5, 0.0,
                               r_nodes, NO_DEP).any()  # fmt: skip
    zero = radial_profiles(a, 0.0 * fac, hs, zis, clss, invus, 0, 1.5, 0.0, r_nodes, NO_DEP)
    assert not zero.any()


def test_radial_profiles_decay_only_lowers():
    groups = fixed_groups()
    r_nodes = np.linspace(10.0, 5000.0, 20)
    still = radial_profiles(*groups, 0, 1.5, 0.0, r_nodes, NO_DEP)
    decayed = radial_profiles(*groups, 0, 1.5, 1e-4, r_nodes, NO_DEP)
    assert (decayed <= still).all()
    assert (decayed[:, -1] < still[:, -1]).all()


def test_radial_profiles_compiled_matches_python():
    groups = fixed_groups()
    r_nodes = np.linspace(5.0, 3000.0, 25)
    for scheme, decay in ((0, 0.0), (1, 2e-5)):
        got = radial_profiles(*groups, scheme, 1.5, decay, r_nodes, NO_DEP)
        want = radial_profiles.py_func(*groups, scheme, 1.5, decay, r_nodes, NO_DEP)
        np.testing.assert_allclose(got, want, rtol=1e-15, atol=0)


# ---------------------------------------------------------------- footprint_from_profiles
@st.composite
def footprint_inputs(draw):
    n = draw(st.integers(4, 24))
    k = draw(st.integers(2, 30))
    profiles = np.array(
        draw(st.lists(st.floats(0.0, 1.0), min_size=n * k, max_size=n * k))
    ).reshape(n, k)
    spacing = draw(st.floats(1.0, 50.0))
    r_nodes = spacing / 2.0 + spacing * np.arange(k)
    res = draw(st.floats(2.0, 100.0))
    nx, ny = draw(st.integers(1, 15)), draw(st.integers(1, 15))
    xs = res / 2.0 + res * np.arange(nx)
    ys = res / 2.0 + res * np.arange(ny)[::-1]  # rows from north to south, as a grid's
    sx = draw(st.floats(-res, (nx + 1) * res))
    sy = draw(st.floats(-res, (ny + 1) * res))
    radius = draw(st.floats(0.0, 1.5 * r_nodes[-1]))
    return profiles, r_nodes, sx, sy, xs, ys, radius


@given(footprint_inputs())
def test_footprint_matches_numpy_reference(inputs):
    got = run_footprint(*inputs)
    want = np_footprint(*inputs)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


@given(footprint_inputs(), st.floats(0.0, 3.0), st.floats(0.0, 3.0))
def test_footprint_linear_in_the_profiles(inputs, alpha, beta):
    profiles, *rest = inputs
    other = np.roll(profiles, 1, axis=0) + 0.25
    both = run_footprint(alpha * profiles + beta * other, *rest)
    want = alpha * run_footprint(profiles, *rest) + beta * run_footprint(other, *rest)
    np.testing.assert_allclose(both, want, rtol=1e-12, atol=1e-13)


def test_footprint_is_exact_at_the_nodes_on_sector_axes():
    """On a node radius along a sector's plume axis, the footprint is the tabulated value."""
    n, k = 8, 6
    profiles = np.arange(1.0, n * k + 1).reshape(n, k)
    r_nodes = 10.0 + 20.0 * np.arange(k)
    for d in range(n):
        bearing = math.radians(d * 360.0 / n + 180.0)  # wind from d * 45 degrees blows there
        for kk in range(k):
            x = np.array([r_nodes[kk] * math.sin(bearing)])
            y = np.array([r_nodes[kk] * math.cos(bearing)])
            got = run_footprint(profiles, r_nodes, 0.0, 0.0, x, y, 1e9)[0, 0]
            assert got == pytest.approx(profiles[d, kk], rel=1e-12), (d, kk)


def test_footprint_of_one_sector_lies_downwind():
    """Wind only from the north (sector 0): the plume lies south, within one sector width."""
    n = 16
    profiles = np.zeros((n, 10))
    profiles[0] = 1.0
    r_nodes = 5.0 + 10.0 * np.arange(10)
    xs = np.linspace(-95.0, 95.0, 39)
    ys = xs[::-1].copy()
    out = run_footprint(profiles, r_nodes, 0.0, 0.0, xs, ys, 90.0)
    dx, dy = np.meshgrid(xs, ys)
    off_axis = np.abs(np.degrees(np.arctan2(dx, -dy)))  # angle from due south
    assert (out[off_axis >= 360.0 / n] == 0.0).all()
    assert (out[(off_axis < 360.0 / n - 1e-9) & (np.hypot(dx, dy) <= 90.0)] > 0.0).all()
    assert out[dy > 0].max() == 0.0


def test_footprint_zero_at_the_source_and_beyond_radius():
    profiles = np.ones((8, 5))
    r_nodes = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    xs = np.arange(-6.0, 7.0)
    ys = xs[::-1].copy()
    out = run_footprint(profiles, r_nodes, 0.0, 0.0, xs, ys, 4.5)
    dx, dy = np.meshgrid(xs, ys)
    r = np.hypot(dx, dy)
    assert (out[(r > 4.5) | (r == 0.0)] == 0.0).all()
    np.testing.assert_allclose(out[(r <= 4.5) & (r > 0.0)], 1.0, rtol=1e-15)


def test_footprint_of_isotropic_profiles_is_symmetric():
    """Profiles equal in every direction give a footprint symmetric about the source."""
    rng = np.random.default_rng(2)
    radial = rng.uniform(0.0, 1.0, 40)
    profiles = np.tile(radial, (12, 1))
    r_nodes = 2.5 + 5.0 * np.arange(40)
    xs = 10.0 * np.arange(-15, 16)
    ys = xs[::-1].copy()
    out = run_footprint(profiles, r_nodes, 0.0, 0.0, xs, ys, 150.0)
    np.testing.assert_allclose(out, out[::-1, :], rtol=1e-14, atol=0)
    np.testing.assert_allclose(out, out[:, ::-1], rtol=1e-14, atol=0)
    np.testing.assert_allclose(out, out.T, rtol=1e-14, atol=0)


def test_footprint_compiled_matches_python():
    rng = np.random.default_rng(9)
    profiles = rng.uniform(0.0, 1.0, (16, 30))
    r_nodes = 5.0 + 10.0 * np.arange(30)
    xs = 25.0 + 50.0 * np.arange(12)
    ys = xs[::-1].copy()
    args = (profiles, r_nodes, 280.0, 310.0, xs, ys, 260.0)
    got = run_footprint(*args)
    want = run_footprint(*args, kernel=footprint_from_profiles.py_func)
    np.testing.assert_allclose(got, want, rtol=1e-15, atol=0)


# ---------------------------------------------------------------- against the exact sum
def exact_footprint(groups, sx, sy, xs, ys, radius, z=1.5, scheme=0):
    """``plume_longterm.point_density`` (the sum over groups) at every cell centre."""
    a, fac, hs, zis, clss, invus = groups
    af = a * fac[:, None]
    out = np.zeros((ys.size, xs.size))
    for i, y in enumerate(ys):
        for j, x in enumerate(xs):
            r = math.hypot(x - sx, y - sy)
            if 0.0 < r <= radius:
                out[i, j] = plume_longterm.point_density(
                    x - sx, y - sy, z, af, hs, zis, clss, invus, scheme, 0.0, 0.0, True, NO_DEP
                )
    return out


def test_tabulated_footprint_equals_exact_sum_on_the_nodes():
    """On a node radius the only difference from the exact sum is round-off."""
    groups = fixed_groups()
    rng = np.random.default_rng(12)
    for rr, b in zip(rng.uniform(20.0, 3000.0, 40), rng.uniform(0.0, 2 * np.pi, 40), strict=True):
        x, y = np.array([rr * math.sin(b)]), np.array([rr * math.cos(b)])
        prof = radial_profiles(*groups, 0, 1.5, 0.0, np.array([rr, rr + 1.0]), NO_DEP)
        got = run_footprint(prof, np.array([rr, rr + 1.0]), 0.0, 0.0, x, y, 1e9)[0, 0]
        want = exact_footprint(groups, 0.0, 0.0, x, y, 1e9)[0, 0]
        assert got == pytest.approx(want, rel=1e-9)


@pytest.mark.parametrize("res", [100.0, 25.0])
def test_tabulation_error_is_small_at_the_default_node_spacing(res):
    """Nodes a tenth of a cell apart (``stack_footprints``' default): within 1 % beyond a cell.

    Linear interpolation errs by at most ``dr² max|R''| / 8``; ``R`` varies on the scale of
    ``r`` itself, so the relative error falls like ``(dr / r)²``: a few 1e-3 at worst one
    cell away, a few 1e-6 at the median cell.
    """
    groups = fixed_groups()
    spacing = res / 10.0
    radius = 40 * res
    r_nodes = np.arange(spacing / 2.0, radius + res + spacing, spacing)
    prof = radial_profiles(*groups, 0, 1.5, 0.0, r_nodes, NO_DEP)
    xs = res / 2.0 + res * np.arange(-40, 40)
    ys = xs[::-1].copy()
    sx, sy = 0.3 * res, -0.2 * res
    got = run_footprint(prof, r_nodes, sx, sy, xs, ys, radius)
    want = exact_footprint(groups, sx, sy, xs, ys, radius)
    r = np.hypot(xs[None, :] - sx, ys[:, None] - sy)
    far = (r >= res) & (r <= radius) & (want > 1e-6 * want.max())
    rel = np.abs(got[far] - want[far]) / want[far]
    assert rel.max() < 1e-2  # 2e-3 (100 m cells) and 3e-3 (25 m) when written
    assert np.median(rel) < 3e-5  # 3e-6 and 4e-6
