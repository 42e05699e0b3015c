"""Shared work between met groups and between stacks: bit for bit the unshared kernels.

:func:`trajectoire._kernels.plume_longterm.point_density_sets` (groups of one stability
class share the sector masses, whatever their set and release height, groups of one height,
lid, class and initial sigma_z the crosswind term and depletion integral) against
:func:`~trajectoire._kernels.plume_longterm.point_density`, the kernels built together
against a quadrature of :func:`~trajectoire._kernels.plume_longterm.point_density` point by
point, and
:func:`trajectoire._kernels.stacks.footprints_aligned` (stacks placed alike in their cells
share each cell's geometry) against
:func:`~trajectoire._kernels.stacks.footprint_from_class_profiles` stack by stack. The
unshared kernels are themselves checked against numpy references
(``test_kernels_plume.py``, ``test_kernels_stacks.py``); here equality is exact.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trajectoire._kernels import plume_longterm as lt
from trajectoire._kernels.deposition import (
    NO_DEPOSITION,
    NO_DEPOSITION_STACKS,
    depletion_tables,
    table_nodes,
)
from trajectoire._kernels.stacks import (
    footprint_from_class_profiles,
    footprints_aligned,
    profiles_stacks_last,
    radial_profiles_by_class,
)


def groups(seed, speeds=3, n=36):
    """Met groups with several speeds per (class, lid), as kept apart with decay."""
    rng = np.random.default_rng(seed)
    cls = np.repeat(np.arange(6), speeds)
    zis = np.repeat([1500.0, 1200.0, 1000.0, 800.0, 1e30, 1e30], speeds)
    a = rng.random((cls.size, n)) * (rng.random((cls.size, n)) > 0.2)
    invus = rng.uniform(0.1, 1.0, cls.size)
    hs = np.full(cls.size, 4.0)
    return a, hs, zis, cls, invus


def deposition(z, hs, zis, cls, vd):
    if vd == 0.0:
        return NO_DEPOSITION
    s0, ds, nk = table_nodes(30_000.0)
    itab = np.empty((cls.size, nk))
    dtab = np.empty_like(itab)
    depletion_tables(z, hs, zis, cls, 1, 0.0, s0, ds, itab, dtab)
    return (vd, s0, ds, itab, dtab)


@settings(max_examples=30, deadline=None)
@given(
    dx=st.floats(-20_000.0, 20_000.0),
    dy=st.floats(-20_000.0, 20_000.0),
    decay=st.sampled_from([0.0, 1e-4]),
    vd=st.sampled_from([0.0, 0.003]),
    seed=st.integers(0, 5),
)
def test_point_density_sets_of_one_set_is_point_density_bit_for_bit(dx, dy, decay, vd, seed):
    a, hs, zis, cls, invus = groups(seed)
    dep = deposition(1.5, hs, zis, cls, vd)
    itab, dtab = (dep[3], dep[4]) if vd > 0 else (np.zeros((cls.size, 1)),) * 2
    gset = np.zeros(cls.size, dtype=np.int64)
    sz0s, ks, vds = np.array([0.0]), np.array([decay]), np.array([vd])
    layout = lt.sets_layout(a, hs, zis, cls, gset, sz0s, vds, itab, dtab)
    assert layout[0].size == 6 and layout[2].max() < cls.size
    ng, nc = cls.size, 6
    buffers = (np.empty((nc, 3, lt.SHARE_CAP)), np.empty(ng), np.zeros(2 * ng, dtype=np.bool_),
               np.empty(ng), np.empty((nc, 2), dtype=np.int64), np.empty(ng))  # fmt: skip
    got = np.full(1, np.nan)
    ok = lt.point_density_sets(dx, dy, 1.5, a, hs, zis, cls, invus, gset, 1, sz0s, ks, vds,
                               dep[1], dep[2], itab, dtab, layout, *buffers, got)  # fmt: skip
    want = lt.point_density(
        dx, dy, 1.5, a, hs, zis, cls, invus, 1, 0.0, decay, lt.SECTOR_GAUSS, dep
    )
    # False: more sector edges within reach than the buffers hold (within a few metres of
    # the source), where the caller takes point_density itself
    assert got[0] == want if ok else math.hypot(dx, dy) < 50.0


def test_shared_layout_groups_by_class_lid_and_height():
    a, hs, zis, cls, invus = groups(0, speeds=2)
    ucls, gci, base = lt.shared_layout(hs, zis, cls, np.zeros((1, 1)), np.zeros((1, 1)), 0.0)
    assert list(ucls) == list(range(6))
    assert list(gci) == list(cls)
    assert list(base) == [0, 0, 2, 2, 4, 4, 6, 6, 8, 8, 10, 10]
    hs2 = hs.copy()
    hs2[1] = 5.0  # another height: its own vertical term
    assert lt.shared_layout(hs2, zis, cls, np.zeros((1, 1)), np.zeros((1, 1)), 0.0)[2][1] == 1


def test_annual_kernel_grid_shared_matches_unshared_path():
    """The grid with shared groups equals the sum of the groups' own kernels to round-off
    (the kernel is linear in the groups), and is non-negative."""
    a, hs, zis, cls, invus = groups(3)
    dep = NO_DEPOSITION
    from trajectoire.dispersion.longterm import _quadrature

    rules = _quadrature(1, 36, lt.SECTOR_GAUSS)
    m, res = 6, 200.0
    out = np.zeros((2 * m + 1, 2 * m + 1))
    args = (1.5, 1, 0.0, 1e-4, lt.SECTOR_GAUSS, m * res)
    lt.annual_kernel_grid(m, res, args[0], a, hs, zis, cls, invus, *args[1:], *rules, 6, dep, out)
    parts = np.zeros_like(out)
    for g in range(cls.size):
        one = np.zeros_like(out)
        sl = slice(g, g + 1)
        lt.annual_kernel_grid(m, res, args[0], a[sl], hs[sl], zis[sl], cls[sl], invus[sl],
                              *args[1:], *rules, 6, dep, one)  # fmt: skip
        parts += one
    assert (out >= 0).all() and out.max() > 0
    np.testing.assert_allclose(out, parts, rtol=1e-12, atol=0)


@settings(max_examples=10, deadline=None)
@given(
    fx=st.sampled_from([0.0, 50.0, 13.25]),
    fy=st.sampled_from([0.0, 50.0, 71.5]),
    near=st.sampled_from([0.0, 1500.0]),
    seed=st.integers(0, 3),
)
def test_footprints_aligned_is_class_profiles_bit_for_bit(fx, fy, near, seed):
    rng = np.random.default_rng(seed)
    a, _, zis, cls, invus = groups(seed, speeds=2)
    res, radius, half = 100.0, 2000.0, 20
    nodes = np.arange(5.0, radius + res + 10.0, 10.0)
    xs = 1000.0 + res * (np.arange(60) + 0.5)
    ys = 9000.0 - res * (np.arange(60) + 0.5)
    stacks = [(3000.0 + fx, 6000.0 + fy), (4000.0 + fx, 5500.0 + fy), (1100.0 + fx, 8900.0 + fy)]
    profs, want, rows, cols = [], [], [], []
    size = 2 * half + 3
    for s, (sx, sy) in enumerate(stacks):
        fac = rng.uniform(0.5, 1.0, cls.size)
        if s == 1:  # a class the other stacks have and this one lacks: its profiles are 0
            fac[cls == seed % 6] = 0.0
        hs = np.full(cls.size, 30.0 + 10 * s)
        prof = radial_profiles_by_class(
            a, fac, hs, zis, cls, invus, 1, 1.5, 0.0, nodes, NO_DEPOSITION
        )
        profs.append(prof)
        ic, jc = int((9000.0 - sy) // res), int((sx - 1000.0) // res)
        r0, r1 = max(0, ic - half - 1), min(60, ic + half + 2)
        c0, c1 = max(0, jc - half - 1), min(60, jc + half + 2)
        fp = np.zeros((r1 - r0, c1 - c0))
        footprint_from_class_profiles(
            prof, nodes, 1, sx, sy, xs[c0:c1], ys[r0:r1], radius, fp, near
        )
        want.append(fp)
        rows.append([r0 - ic + half + 1, r1 - ic + half + 1])
        cols.append([c0 - jc + half + 1, c1 - jc + half + 1])
    sx, sy = stacks[0]
    ic, jc = int((9000.0 - sy) // res), int((sx - 1000.0) // res)
    dxs = 1000.0 + res * (jc + np.arange(size) - half - 1 + 0.5) - sx
    dys = 9000.0 - res * (ic + np.arange(size) - half - 1 + 0.5) - sy
    out = np.zeros((size, size, len(stacks)))
    cells = np.argwhere(np.ones((size, size), dtype=bool))[::-1].copy()  # any order
    footprints_aligned(np.stack([p.transpose(0, 2, 1) for p in profs], axis=-1), nodes, 1, dxs, dys,
                       np.array(rows), np.array(cols), radius, near, cells, out)  # fmt: skip
    for s in range(len(stacks)):
        got = out[rows[s][0] : rows[s][1], cols[s][0] : cols[s][1], s]
        assert got.shape == want[s].shape
        assert np.array_equal(got, want[s])
        assert want[s].max() > 0


def _met(seed, n=1500):
    import pandas as pd
    import xarray as xr

    from trajectoire import meteo as tm

    rng = np.random.default_rng(seed)
    met = xr.Dataset(
        {
            "wind_speed": ("time", rng.gamma(2.0, 1.5, n) + 0.5),
            "wind_direction": ("time", rng.uniform(0, 360, n)),
            "stability": ("time", np.array(list("ABCDEF"))[rng.integers(0, 6, n)]),
        },
        coords={"time": pd.date_range("2021-01-01", periods=n, freq="h")},
        attrs={"anemometer_height": 10.0},
    )
    return tm.met_classes(met).isel(year=0)


@settings(max_examples=6, deadline=None)
@given(
    height=st.sampled_from([0.0, 4.0, 20.0]),
    sz0=st.sampled_from([0.0, 3.0]),
    seasonal=st.booleans(),
    seed=st.integers(0, 3),
)
def test_annual_kernels_built_together_are_each_kernel_bit_for_bit(height, sz0, seasonal, seed):
    """The kernels of several sets built together (shared sector masses, crosswind terms
    and depletion integrals) equal each set's :func:`annual_kernel` exactly: inert, decay,
    two deposition velocities (one table shared), decay with deposition, a second frequency
    table (a seasonal set: other weights and lids), other release heights and initial
    sigma_z (other crosswind terms, the same sector masses)."""
    from trajectoire.dispersion.longterm import _set_inputs, annual_kernel, annual_kernels

    table = _met(seed)
    other = _met(seed + 10) if seasonal else table
    sets = [
        dict(freq_year=table, release_height=height, initial_sigma_z=sz0),
        dict(freq_year=table, release_height=height, initial_sigma_z=sz0, decay_rate=1e-4),
        dict(freq_year=table, release_height=height, initial_sigma_z=sz0, deposition_velocity=0.003),
        dict(freq_year=other, release_height=height, initial_sigma_z=sz0),
        dict(freq_year=table, release_height=height, initial_sigma_z=sz0, decay_rate=2e-5,
             deposition_velocity=0.01),
        dict(freq_year=other, release_height=height, initial_sigma_z=sz0, deposition_velocity=0.003),
        dict(freq_year=table, release_height=height + 10.0, initial_sigma_z=sz0),
        dict(freq_year=table, release_height=height, initial_sigma_z=sz0 + 2.0, decay_rate=1e-4),
        dict(freq_year=other, release_height=25.0, deposition_velocity=0.003),
    ]  # fmt: skip
    kw = dict(resolution=200.0, radius=1600.0)
    got = annual_kernels(sets, **kw)
    assert len(got) == len(sets)
    cells = [(8, 9), (7, 7), (9, 10), (4, 12), (8, 16), (0, 8), (13, 2)]  # of 17 x 17
    for one, k in zip(sets, got, strict=True):
        alone = annual_kernel(one["freq_year"], **{**kw, **{k_: v for k_, v in one.items()
                                                          if k_ != "freq_year"}}).values  # fmt: skip
        assert k.shape == alone.shape == (17, 17) and (k > 0).any()
        np.testing.assert_array_equal(k, alone)
        inp = _set_inputs(one, kw["resolution"], kw["radius"], 1.5, "briggs-urban", "gauss", 1)
        for i, j in cells:  # the unshared density, point by point
            assert k[i, j] == _unshared_cell(inp, i, j)


def _unshared_cell(inp, i, j):
    """``annual_kernel_grid``'s quadrature of one cell (not the source cell) with the
    unshared :func:`point_density`, from Python."""
    gl_x, gl_w, gl_n, level_edges = inp.rules[:4]
    oi, oj = i - inp.m, j - inp.m
    east, north = oj * inp.res, -oi * inp.res
    if np.hypot(east, north) > inp.rad * (1.0 + 1e-12):
        return 0.0
    c = max(abs(oi), abs(oj))
    lev = 0
    while lev < level_edges.shape[0] and c > level_edges[lev]:
        lev += 1
    tot = 0.0
    for p in range(gl_n[lev]):
        sx = gl_x[lev, p] * inp.res
        for q in range(gl_n[lev]):
            sy = gl_x[lev, q] * inp.res
            v = lt.point_density(east - sx, north - sy, inp.z, *inp.groups, inp.code, inp.sz0,
                                 inp.k, lt.SECTOR_GAUSS, inp.dep)  # fmt: skip
            tot += gl_w[lev, p] * gl_w[lev, q] * v
    return tot


def test_annual_kernels_reject_unknown_set_keys():
    from trajectoire.dispersion.longterm import annual_kernels
    from trajectoire.errors import InputError

    with pytest.raises(InputError, match="expected 'freq_year'"):
        annual_kernels([dict(freq_year=_met(0), release_hieght=4.0)], resolution=200.0,
                       radius=1600.0)  # fmt: skip


@settings(max_examples=25, deadline=None)
@given(
    dx=st.floats(-20_000.0, 20_000.0),
    dy=st.floats(-20_000.0, 20_000.0),
    seed=st.integers(0, 5),
)
def test_point_density_sets_is_each_sets_point_density_bit_for_bit(dx, dy, seed):
    """:func:`point_density_sets` at one point: each set's value is its own
    :func:`point_density` exactly (sets of other heights, initial sigma_z, losses and
    depletion stacked), and so is the per-set fallback ``_set_density``."""
    a, hs, zis, cls, invus = groups(seed)
    a2, _, zis2, cls2, invus2 = groups(seed + 1, speeds=1)
    stacked = [(a, hs, zis, cls, invus, 0.0, 0.0, 0.0), (a, hs, zis, cls, invus, 0.0, 1e-4, 0.003),
               (a2, np.full(cls2.size, 25.0), zis2, cls2, invus2, 2.0, 0.0, 0.0),
               (a, hs, zis, cls, invus, 0.0, 0.0, 0.003)]  # fmt: skip
    deps = [deposition(1.5, s[1], s[2], s[3], s[7]) for s in stacked]
    nk = max(d[3].shape[1] for d in deps)
    itab = np.concatenate([d[3] if s[7] > 0 else np.zeros((s[3].size, nk))
                           for s, d in zip(stacked, deps, strict=True)])  # fmt: skip
    dtab = np.concatenate([d[4] if s[7] > 0 else np.zeros((s[3].size, nk))
                           for s, d in zip(stacked, deps, strict=True)])  # fmt: skip
    s0, ds = deps[1][1], deps[1][2]
    cat = [np.concatenate([s[n] for s in stacked]) for n in range(5)]
    starts = np.cumsum([0] + [s[3].size for s in stacked]).astype(np.int64)
    gset = np.repeat(np.arange(len(stacked)), np.diff(starts))
    sz0s, ks, vds = (np.array([s[n] for s in stacked]) for n in (5, 6, 7))
    layout = lt.sets_layout(*cat[:4], gset, sz0s, vds, itab, dtab)
    ng, nc = cat[3].size, layout[0].size
    buffers = (np.empty((nc, 3, lt.SHARE_CAP)), np.empty(ng), np.zeros(2 * ng, dtype=np.bool_),
               np.empty(ng), np.empty((nc, 2), dtype=np.int64), np.empty(ng))  # fmt: skip
    tot = np.full(len(stacked), np.nan)
    ok = lt.point_density_sets(dx, dy, 1.5, *cat, gset, 1, sz0s, ks, vds, s0, ds, itab, dtab,
                               layout, *buffers, tot)  # fmt: skip
    assert ok or math.hypot(dx, dy) < 50.0  # else the caller takes point_density
    for i, (s, dep) in enumerate(zip(stacked, deps, strict=True)):
        want = lt.point_density(dx, dy, 1.5, *s[:5], 1, s[5], s[6], lt.SECTOR_GAUSS, dep)
        assert tot[i] == want or not ok
        alone = lt._set_density(dx, dy, i, 1.5, *cat, starts, 1, sz0s, ks, vds, s0, ds, itab,
                                dtab, lt.SECTOR_GAUSS)  # fmt: skip
        assert alone == want


@settings(max_examples=40, deadline=None)
@given(u=st.integers(0, 300), v=st.integers(0, 300))
def test_orbit_is_the_distinct_images_of_a_cell(u, v):
    """The cells computed together by the kernels' orbit loop are exactly the images of
    ``(u, v)`` under the 8 symmetries of the square lattice, each once."""
    u, v = max(u, v), min(u, v)
    cells = np.zeros((8, 2), dtype=np.int64)
    k = lt._orbit(u, v, cells)
    want = {(su * a, sv * b) for a, b in ((u, v), (v, u)) for su in (1, -1) for sv in (1, -1)}
    got = [tuple(int(x) for x in c) for c in cells[:k]]
    assert len(got) == len(set(got)) == len(want)
    assert set(got) == want


def _one_set_kernel(seed, rules=None, **one):
    """A depositing, decaying kernel (the orbit path: several groups a class), 17 x 17 at
    200 m, by ``annual_kernel_grids`` with `rules` (the kernel's own by default), and its
    inputs."""
    from trajectoire.dispersion.longterm import _kernel_grids, _set_inputs

    one = {"freq_year": _met(seed), "decay_rate": 1e-4, "deposition_velocity": 0.003, **one}
    inp = _set_inputs(one, 200.0, 1600.0, 1.5, "briggs-urban", "gauss", 1)
    if rules is not None:
        inp = inp._replace(rules=rules(inp.rules))
    return _kernel_grids([inp])[0], inp


@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 3), height=st.sampled_from([0.0, 10.0]))
def test_kernel_by_orbit_is_the_unshared_quadrature_at_every_cell(seed, height):
    """Every cell of a kernel built by orbits (distance factors shared between the mirror
    images of a cell) is the unshared density's quadrature, bit for bit."""
    k, inp = _one_set_kernel(seed, release_height=height)
    assert k.shape == (17, 17) and (k > 0).sum() > 150
    for i in range(17):
        for j in range(17):
            if (i, j) != (inp.m, inp.m):
                assert k[i, j] == _unshared_cell(inp, i, j), (i, j)
    # the mirror images differ (the wind rose is not symmetric): the bearings are each own
    assert not np.array_equal(k, k[:, ::-1]) and not np.array_equal(k, k.T)


def test_kernel_by_orbit_never_reuses_a_factor_of_another_distance():
    """With a quadrature that is not symmetric (one node moved by 1e-10 of itself), the mirror
    images of a point are no longer at the same distance: the loop must compute their
    factors afresh, and every cell is still the unshared quadrature of those nodes."""

    def skewed(rules):
        gl_x = rules.gl_x.copy()
        for lev, n in enumerate(rules.gl_n):
            if n > 1:
                gl_x[lev, 0] *= 1.0 + 1e-10
        return rules._replace(gl_x=gl_x)

    k, inp = _one_set_kernel(1, rules=skewed)
    assert not np.array_equal(inp.rules.gl_x[0, :16], -inp.rules.gl_x[0, 15::-1])
    for i in range(17):
        for j in range(17):
            if (i, j) != (inp.m, inp.m):
                assert k[i, j] == _unshared_cell(inp, i, j), (i, j)


@settings(max_examples=12, deadline=None)
@given(
    vd=st.sampled_from([0.0, 0.003]),
    decay=st.sampled_from([0.0, 1e-4]),
    order=st.permutations(range(4)),
    seed=st.integers(0, 5),
)
def test_profiles_stacks_last_is_each_stacks_class_profiles_bit_for_bit(vd, decay, order, seed):
    """The profiles of several stacks written in the aligned layout (the slots in any
    order, some classes absent from a stack) are each stack's
    :func:`radial_profiles_by_class`, bit for bit, with and without deposition."""
    rng = np.random.default_rng(seed)
    a, _, zis, cls, invus = groups(seed, speeds=2)
    nodes = np.arange(5.0, 3000.0, 10.0)
    n_st = 4
    fac = rng.uniform(0.5, 1.0, (n_st, cls.size))
    fac[1, cls == seed % 6] = 0.0  # a class the other stacks have and this one lacks
    hs = 20.0 + 15.0 * rng.random((n_st, cls.size))
    deps = [deposition(1.5, hs[s], zis, cls, vd) for s in range(n_st)]
    if vd == 0.0:
        dep = NO_DEPOSITION_STACKS
    else:
        v, s0, ds = deps[0][:3]
        dep = (v, s0, ds, np.stack([d[3] for d in deps]), np.stack([d[4] for d in deps]))
    out = np.full((6, nodes.size, a.shape[1], n_st), np.nan)
    stacks = np.array([3, 0, 2, 1], dtype=np.int64)
    slots = np.array(order, dtype=np.int64)
    profiles_stacks_last(a, fac, hs, zis, cls, invus, 1, 1.5, decay, nodes, dep, stacks, slots,
                         out)  # fmt: skip
    for st_, q in zip(stacks, slots, strict=True):
        want = radial_profiles_by_class(
            a, fac[st_], hs[st_], zis, cls, invus, 1, 1.5, decay, nodes, deps[st_]
        )
        got = out[..., q].transpose(0, 2, 1)
        assert got.tobytes() == np.ascontiguousarray(want).tobytes()
        assert want.max() > 0


@settings(max_examples=300, deadline=None)
@given(
    r=st.floats(1e-3, 3e4),
    z=st.floats(0.0, 10.0),
    h=st.floats(0.0, 400.0),
    zi=st.sampled_from([50.0, 300.0, 800.0, 1500.0, 1e30]),
    scheme=st.sampled_from([0, 1, 2]),
    cls=st.integers(0, 5),
    decay_k=st.sampled_from([0.0, 1e-5, 3e-4]),
    inv_u=st.floats(0.05, 2.0),
)
def test_node_terms_sigma_looked_up_is_cic_unit_bit_for_bit(r, z, h, zi, scheme, cls, decay_k,
                                                           inv_u):  # fmt: skip
    """The profiles' terms take σz from ``class_sigma_z`` (once per node and class) instead
    of computing it per met group: ``cic_at`` with it is ``cic_unit``, the same bits."""
    from trajectoire._kernels.plume_longterm import cic_at, cic_unit
    from trajectoire._kernels.stacks import class_sigma_z

    sz = class_sigma_z(r, scheme)[cls]
    want = cic_unit(r, z, h, zi, scheme, cls, 0.0, decay_k, inv_u)
    got = cic_at(r, z, h, zi, sz, decay_k, inv_u)
    assert got == want or (np.isnan(got) and np.isnan(want))
    assert np.signbit(got) == np.signbit(want)


@settings(max_examples=12, deadline=None)
@given(
    vd=st.sampled_from([0.0, 0.003]),
    decay=st.sampled_from([0.0, 1e-4]),
    rows=st.lists(st.integers(0, 2), min_size=1, max_size=7),
    seed=st.integers(0, 5),
)
def test_profiles_stacks_last_computes_a_repeated_row_once_with_the_same_bits(vd, decay, rows,
                                                                              seed):  # fmt: skip
    """A row given several times (stacks with the same parameters) fills each of its slots
    with its own :func:`radial_profiles_by_class`, bit for bit, whatever the order of the
    repeats and the slots."""
    rng = np.random.default_rng(seed)
    a, _, zis, cls, invus = groups(seed, speeds=2)
    nodes = np.arange(5.0, 2000.0, 10.0)
    fac = rng.uniform(0.5, 1.0, (3, cls.size))
    hs = 20.0 + 15.0 * rng.random((3, cls.size))
    deps = [deposition(1.5, hs[s], zis, cls, vd) for s in range(3)]
    if vd == 0.0:
        dep = NO_DEPOSITION_STACKS
    else:
        dep = (*deps[0][:3], np.stack([d[3] for d in deps]), np.stack([d[4] for d in deps]))
    stacks = np.array(rows, dtype=np.int64)
    slots = rng.permutation(stacks.size).astype(np.int64)
    out = np.full((6, nodes.size, a.shape[1], stacks.size), np.nan)
    profiles_stacks_last(a, fac, hs, zis, cls, invus, 1, 1.5, decay, nodes, dep, stacks, slots,
                         out)  # fmt: skip
    for st_, q in zip(stacks, slots, strict=True):
        want = radial_profiles_by_class(
            a, fac[st_], hs[st_], zis, cls, invus, 1, 1.5, decay, nodes, deps[st_]
        )
        assert out[..., q].transpose(0, 2, 1).tobytes() == np.ascontiguousarray(want).tobytes()
