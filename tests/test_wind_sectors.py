"""Gaussian-smoothed direction sectors of the annual path and the calm convention (issue 14).

``plume_longterm.gauss_density`` convolves flat sectors with the lateral Gaussian of each
plume (``sigma_y(r) / r`` in angle). Checked against a plain-numpy reference written here
(``scipy.special.ndtr`` with the images of the circle), on its properties (mass on the
circle, mirror symmetry, flat sectors as ``s -> 0``, uniform as ``s`` grows), through the
point kernel and the tabulated stack footprints (``_kernels/stacks.py``), and the hourly
path's calms spread as the frequency tables spread them.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy.special import ndtr

import trajectoire.meteo as tm
from test_kernels_stacks import exact_footprint, fixed_groups, np_cic
from trajectoire import dispersion as disp
from trajectoire._kernels import plume_longterm as lt
from trajectoire._kernels.deposition import NO_DEPOSITION as NO_DEP
from trajectoire._kernels.sigma import sigma_y
from trajectoire._kernels.stacks import (
    footprint_from_class_profiles,
    radial_profiles,
    radial_profiles_by_class,
)
from trajectoire.errors import InputError

GAUSS = lt.SECTOR_GAUSS


# ---------------------------------------------------------------- numpy reference
def np_gauss_density(theta, weights, spread, images=None):
    """Sum over sectors and images of ``a_d [Phi((dth + D/2)/s) - Phi((dth - D/2)/s)] / D``."""
    theta = np.atleast_1d(np.asarray(theta, dtype=float)) % 360.0
    n = weights.size
    width = 2 * np.pi / n
    centres = np.arange(n) * width + np.pi
    k = images if images is not None else int(np.ceil(9 * spread / (2 * np.pi))) + 1
    out = np.zeros(theta.size)
    for m in range(-k, k + 1):
        dth = np.radians(theta)[:, None] - centres[None, :] + 2 * np.pi * m
        out += (ndtr((dth + width / 2) / spread) - ndtr((dth - width / 2) / spread)) @ weights
    return out / width


def density(theta, weights, spread):
    return np.array([lt.gauss_density(float(t), weights, spread) for t in np.atleast_1d(theta)])


weights_st = st.integers(3, 40).flatmap(
    lambda n: st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n).map(np.array)
)
spread_st = st.floats(1e-3, 3.0)


# ---------------------------------------------------------------- gauss_density
@settings(max_examples=40, deadline=None)
@given(weights_st, spread_st, st.lists(st.floats(-720.0, 720.0), min_size=1, max_size=8))
def test_gauss_density_matches_numpy_reference(w, s, thetas):
    got = density(thetas, w, s)
    want = np_gauss_density(thetas, w, s)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12 * max(w.sum(), 1e-300))


@settings(max_examples=30, deadline=None)
@given(weights_st, spread_st)
def test_gauss_density_keeps_the_mass_on_the_circle(w, s):
    """The integral over the circle is the sum of the weights (mass flux kept)."""
    th = (np.arange(7200) + 0.5) * 0.05  # midpoint rule, 0.05°: exact to 1e-9 for s >= 1e-3
    got = density(th, w, s).sum() * np.radians(0.05)
    assert got == pytest.approx(w.sum(), rel=1e-6, abs=1e-12)


@settings(max_examples=30, deadline=None)
@given(weights_st, spread_st, st.floats(0.0, 180.0))
def test_gauss_density_mirror_symmetry(w, s, off):
    """Weights symmetric about sector 0 give a density symmetric about its plume bearing."""
    sym = w + np.roll(w[::-1], 1)  # sym[d] == sym[-d]
    a = lt.gauss_density(180.0 + off, sym, s)
    b = lt.gauss_density(180.0 - off, sym, s)
    assert a == pytest.approx(b, rel=1e-9, abs=1e-14)


@given(weights_st)
def test_gauss_density_tends_to_flat_sectors(w):
    n = w.size
    centres = np.arange(n) * 360.0 / n + 180.0
    inner = np.concatenate([centres + f * 360.0 / n for f in (-0.3, 0.0, 0.3)])
    flat = np.array([lt.angular_density(t, w, lt.SECTOR_FLAT) for t in inner])
    np.testing.assert_allclose(density(inner, w, 1e-5), flat, rtol=1e-12, atol=0)
    np.testing.assert_allclose(density(inner, w, 0.0), flat, rtol=1e-15, atol=0)


@given(weights_st)
@example(np.array([1e-318, 0.0, 0.0]))  # 1.59158e-319 against 1.59153e-319: 3.1e-5 apart
def test_gauss_density_tends_to_uniform(w):
    th = np.linspace(0.0, 360.0, 37)
    # absolute floor 1e-300, as in test_kernels_stacks: weights in the subnormal range
    # (below 2.2e-308, spaced 5e-324 apart) have few significant bits, and each image of a
    # sector within reach (163 of them for 3 sectors) rounds its share to them, which a
    # relative tolerance alone cannot accept (1e-318 on the first of 3 sectors: 3.1e-5 off)
    np.testing.assert_allclose(density(th, w, 20.0), w.sum() / (2 * np.pi), rtol=1e-6, atol=1e-300)


def test_gauss_density_linear_in_the_weights():
    rng = np.random.default_rng(3)
    a, b = rng.random(36), rng.random(36)
    th = rng.uniform(0, 360, 50)
    np.testing.assert_allclose(
        density(th, 2.0 * a - 0.5 * b, 0.07),
        2.0 * density(th, a, 0.07) - 0.5 * density(th, b, 0.07),
        rtol=1e-12,
        atol=1e-15,
    )


# ---------------------------------------------------------------- point kernel
def test_point_density_gauss_matches_numpy_reference():
    """The point kernel: sum over groups of the numpy density times the numpy CIC / r."""
    a, fac, hs, zis, clss, invus = fixed_groups(n=36)
    rng = np.random.default_rng(5)
    for r, b in zip(rng.uniform(30.0, 15_000.0, 25), rng.uniform(0, 360, 25), strict=True):
        dx, dy = r * math.sin(math.radians(b)), r * math.cos(math.radians(b))
        got = lt.point_density(dx, dy, 1.5, a, hs, zis, clss, invus, 0, 0.0, 0.0, GAUSS, NO_DEP)
        want = 0.0
        for g in range(a.shape[0]):
            s = sigma_y(r, 0, clss[g]) / r
            dens = np_gauss_density(b, a[g], s)[0]
            cic = np_cic(np.array([r]), 1.5, hs[g], zis[g], 0, clss[g], 0.0, invus[g])[0]
            want += dens * cic / r
        assert got == pytest.approx(float(want), rel=1e-9)


def test_point_density_gauss_ring_integral():
    """Over a circle, the Gaussian sectors carry the same flux as the flat ones."""
    a, fac, hs, zis, clss, invus = fixed_groups(n=36)
    for r in (50.0, 700.0, 9000.0):
        th = np.radians((np.arange(14400) + 0.5) * 0.025)
        ring = {}
        for mode in (lt.SECTOR_FLAT, GAUSS):
            vals = [
                lt.point_density(
                    r * math.sin(t), r * math.cos(t), 1.5, a, hs, zis, clss, invus, 0, 0.0, 0.0,
                    mode, NO_DEP,
                )
                for t in th
            ]  # fmt: skip
            ring[mode] = np.sum(vals) * r * (th[1] - th[0])
        assert ring[GAUSS] == pytest.approx(ring[lt.SECTOR_FLAT], rel=1e-6)


# ---------------------------------------------------------------- stacks: per-class profiles
def test_profiles_by_class_sum_to_the_profiles():
    groups = fixed_groups(n=36)
    r_nodes = np.linspace(10.0, 5000.0, 40)
    per = radial_profiles_by_class(*groups, 1, 1.5, 1e-4, r_nodes, NO_DEP)
    whole = radial_profiles(*groups, 1, 1.5, 1e-4, r_nodes, NO_DEP)
    np.testing.assert_allclose(per.sum(axis=0), whole, rtol=1e-12, atol=0)
    assert not per[[0, 2, 4]].any()  # fixed_groups has classes B, D, F only


def test_class_footprint_equals_exact_sum_on_the_nodes():
    """On a node radius the tabulated Gaussian footprint is the exact point kernel."""
    groups = fixed_groups(n=36)
    rng = np.random.default_rng(8)
    for rr, b in zip(rng.uniform(20.0, 8000.0, 30), rng.uniform(0.0, 2 * np.pi, 30), strict=True):
        x, y = np.array([rr * math.sin(b)]), np.array([rr * math.cos(b)])
        nodes = np.array([rr, rr + 1.0])
        prof = radial_profiles_by_class(*groups, 0, 1.5, 0.0, nodes, NO_DEP)
        got = np.zeros((1, 1))
        footprint_from_class_profiles(prof, nodes, 0, 0.0, 0.0, x, y, 1e9, got)
        a, fac, hs, zis, clss, invus = groups
        want = lt.point_density(
            x[0], y[0], 1.5, a * fac[:, None], hs, zis, clss, invus, 0, 0.0, 0.0, GAUSS, NO_DEP
        )
        assert got[0, 0] == pytest.approx(want, rel=1e-9)


def test_class_footprint_close_to_exact_at_the_default_spacing():
    groups = fixed_groups(n=36)
    res = 100.0
    r_nodes = np.arange(res / 20, 40 * res + res + res / 10, res / 10)
    prof = radial_profiles_by_class(*groups, 0, 1.5, 0.0, r_nodes, NO_DEP)
    xs = res / 2 + res * np.arange(-40, 40)
    ys = xs[::-1].copy()
    got = np.zeros((ys.size, xs.size))
    footprint_from_class_profiles(prof, r_nodes, 0, 30.0, -20.0, xs, ys, 40 * res, got)
    a, fac, hs, zis, clss, invus = groups
    want = np.zeros_like(got)
    for i, y in enumerate(ys):
        for j, x in enumerate(xs):
            r = math.hypot(x - 30.0, y + 20.0)
            if 0 < r <= 40 * res:
                want[i, j] = lt.point_density(
                    x - 30.0, y + 20.0, 1.5, a * fac[:, None], hs, zis, clss, invus, 0, 0.0,
                    0.0, GAUSS, NO_DEP,
                )  # fmt: skip
    r = np.hypot(xs[None, :] - 30.0, ys[:, None] + 20.0)
    far = (r >= res) & (want > 1e-6 * want.max())
    assert np.max(np.abs(got[far] / want[far] - 1)) < 0.01
    assert exact_footprint is not None  # the hat reference of test_kernels_stacks


# ---------------------------------------------------------------- API
def synth(n=400, seed=0, directions=None):
    rng = np.random.default_rng(seed)
    wd = rng.uniform(0, 360, n) if directions is None else directions
    return xr.Dataset(
        {
            "wind_speed": ("time", rng.gamma(2.0, 1.5, n) + 1.0),
            "wind_direction": ("time", np.asarray(wd) % 360),
            "stability": ("time", np.array(list("ABCDEF"))[rng.integers(0, 6, n)]),
        },
        coords={"time": pd.date_range("2021-01-01", periods=n, freq="h")},
    )


def test_sector_smoothing_values():
    table = tm.met_classes(synth()).isel(year=0)
    kw = {"resolution": 100.0, "radius": 800.0}
    hat = disp.annual_kernel(table, sector_smoothing="hat", **kw).values
    np.testing.assert_array_equal(disp.annual_kernel(table, sector_smoothing=True, **kw), hat)
    flat = disp.annual_kernel(table, sector_smoothing="flat", **kw).values
    np.testing.assert_array_equal(disp.annual_kernel(table, sector_smoothing=False, **kw), flat)
    gauss = disp.annual_kernel(table, **kw).values
    assert not np.array_equal(gauss, hat)
    with pytest.raises(InputError, match="sector_smoothing"):
        disp.annual_kernel(table, sector_smoothing="box", **kw)


def test_annual_kernel_gauss_converged_and_keeps_mass():
    """Refining the quadrature changes no cell by more than 1 %; total as the hat kernel's."""
    table = tm.met_classes(synth(seed=2)).isel(year=0)
    kw = {"resolution": 100.0, "radius": 2000.0, "release_height": 10.0}
    a = disp.annual_kernel(table, **kw).values
    b = disp.annual_kernel(table, refine=3, **kw).values
    pos = b > 1e-6 * b.max()
    assert np.max(np.abs(a[pos] - b[pos]) / b[pos]) < 0.01
    hat = disp.annual_kernel(table, sector_smoothing="hat", **kw).values
    assert a.sum() == pytest.approx(hat.sum(), rel=0.01)


def test_stack_footprints_gauss_agree_with_point_sources_annual():
    from trajectoire import Grid

    table = tm.met_classes(synth(seed=3)).isel(year=0)
    x0, y0 = 700_000.0, 7_050_000.0
    grid = Grid.from_bounds(x0 - 2000, y0 - 2000, x0 + 2000, y0 + 2000, 100)
    stack = {"x": [x0 + 30.0], "y": [y0 - 20.0], "stack_height": [30.0], "stack_diameter": [1.0],
             "exit_temperature": [380.0], "exit_velocity": [8.0]}  # fmt: skip
    exact = disp.point_sources_annual(table, **stack, weights=[1.0], grid=grid, radius=1800.0)[0]
    ((rows, cols, fp),) = disp.stack_footprints(table, **stack, grid=grid, radius=1800.0)
    tab = np.zeros_like(exact)
    tab[rows, cols] = fp
    r = np.hypot(grid.x[None, :] - x0 - 30.0, grid.y[:, None] - y0 + 20.0)
    pos = (exact > 1e-6 * exact.max()) & (r >= grid.resolution)  # beyond a cell, as the hat's
    assert np.max(np.abs(tab[pos] / exact[pos] - 1)) < 0.01


# ---------------------------------------------------------------- calms, hourly path
def test_hourly_calms_spread_like_the_tables():
    """A calm hour is the mean of its plume over the slowest non-calm hours' directions."""
    t = pd.date_range("2021-07-01", periods=5, freq="h")
    met = xr.Dataset(
        {
            "wind_speed": ("time", [1.2, 1.3, 5.0, 0.2, 1.0]),
            "wind_direction": ("time", [200.0, 250.0, 90.0, 0.0, 200.0]),
            "stability": ("time", ["D", "D", "D", "D", "D"]),
        },
        coords={"time": t},
    )
    kw = {"x": [0.0], "y": [0.0], "stack_height": [20.0], "stack_diameter": [1.0],
          "exit_temperature": [300.0], "exit_velocity": [5.0], "emission": [1.0],
          "receptors_x": [300.0, -50.0, 600.0], "receptors_y": [400.0, 900.0, -100.0]}  # fmt: skip
    spread = disp.hourly_at_receptors(met, **kw)
    rep = disp.hourly_at_receptors(met, calm_directions="reported", **kw)
    np.testing.assert_array_equal(spread.values[[0, 1, 2, 4]], rep.values[[0, 1, 2, 4]])
    # the calm (index 3, u raised to 0.5) over the slow hours' directions 200, 250, 200
    one = met.isel(time=[3, 3])
    one["wind_direction"] = ("time", [200.0, 250.0])
    parts = disp.hourly_at_receptors(one, calm_directions="reported", **kw).values
    want = (2 * parts[0] + parts[1]) / 3
    np.testing.assert_allclose(spread.values[3], want, rtol=1e-12)
    assert spread.attrs["calm_directions"] == "spread"
    # an hourly factor scales each hour, calms included, after the spreading
    f = np.array([1.0, 2.0, 0.5, 3.0, 1.0])
    scaled = disp.hourly_at_receptors(met, hourly_factor=f, **kw)
    np.testing.assert_allclose(scaled.values, spread.values * f[:, None], rtol=1e-12)
    with pytest.raises(InputError, match="calm_directions"):
        disp.hourly_at_receptors(met, calm_directions="north", **kw)


def test_hourly_calm_without_direction_is_spread_and_missing_when_reported():
    """A calm with no direction is a calm in the spread mode, as in met_classes (its own
    direction is never used); the reported mode has no direction to put it on: a missing
    hour, NaN (probe E #7)."""
    t = pd.date_range("2021-07-01", periods=4, freq="h")
    met = xr.Dataset(
        {
            "wind_speed": ("time", [1.2, 1.3, 0.2, 3.0]),
            "wind_direction": ("time", [200.0, 250.0, np.nan, np.nan]),
            "stability": ("time", ["D", "D", "D", "D"]),
        },
        coords={"time": t},
    )
    kw = {"x": [0.0], "y": [0.0], "stack_height": [20.0], "stack_diameter": [1.0],
          "exit_temperature": [300.0], "exit_velocity": [5.0], "emission": [1.0],
          "receptors_x": [300.0, -50.0], "receptors_y": [400.0, 900.0]}  # fmt: skip
    coded = met.copy()
    coded["wind_direction"] = ("time", [200.0, 250.0, 0.0, np.nan])
    spread = disp.hourly_at_receptors(met, **kw)
    np.testing.assert_array_equal(spread.values, disp.hourly_at_receptors(coded, **kw).values)
    assert np.isfinite(spread.values[2]).all() and spread.values[2].max() > 0
    assert np.isnan(spread.values[3]).all()  # not a calm: its direction is needed
    assert spread.attrs["calm_hours"] == 1 and spread.attrs["missing_hours"] == 1
    rep = disp.hourly_at_receptors(met, calm_directions="reported", **kw)
    assert np.isnan(rep.values[2:]).all() and rep.attrs["missing_hours"] == 2
    assert rep.attrs["calm_hours"] == 0


def test_calm_threshold_one_default():
    """Tables and the hourly path share the default of ``[meteo] calm_threshold``."""
    import inspect

    from trajectoire.io.config import MeteoConfig

    assert MeteoConfig().calm_threshold == tm.CALM_THRESHOLD == 0.5
    for f in (tm.met_classes, disp.hourly_at_receptors):
        assert inspect.signature(f).parameters["calm_threshold"].default == tm.CALM_THRESHOLD


# ---------------------------------------------------------------- mechanical mixing height
def test_mechanical_mixing_height_closed_form():
    """``2300 (0.4 u / ln(10 / z0))^1.5`` (Venkatram 1980 with AERMET's coefficient)."""
    from trajectoire.meteo.profiles import mechanical_mixing_height

    u = np.array([0.5, 2.0, 4.0, 12.0])
    for z0 in (0.03, 0.5, 1.5):
        want = 2300.0 * (0.4 * u / np.log(10.0 / z0)) ** 1.5
        np.testing.assert_allclose(mechanical_mixing_height(u, z0), want, rtol=1e-14)
    assert mechanical_mixing_height(2.0, 0.5, reference_height=20.0) < mechanical_mixing_height(
        2.0, 0.5
    )
    with pytest.raises(InputError, match="roughness_length"):
        mechanical_mixing_height(2.0, 12.0)


@given(st.floats(0.1, 30.0), st.floats(0.1, 10.0), st.floats(0.001, 2.0))
def test_mechanical_mixing_height_scales_as_u_to_the_three_halves(u, lam, z0):
    from trajectoire.meteo.profiles import mechanical_mixing_height

    one = float(mechanical_mixing_height(u, z0)[()])
    assert float(mechanical_mixing_height(lam * u, z0)[()]) == pytest.approx(lam**1.5 * one)


def test_add_mixing_height_keeps_data_and_fills_chosen_classes():
    from trajectoire.meteo.profiles import add_mixing_height, mechanical_mixing_height

    ds = xr.Dataset(
        {
            "wind_speed": ("time", [3.0, 3.0, 0.1, 5.0, 2.0]),
            "stability": ("time", ["B", "D", "F", "E", "F"]),
            "mixing_height": ("time", [np.nan, np.nan, np.nan, 420.0, np.nan]),
        },
        attrs={"roughness_length": 0.5},
    )
    got = add_mixing_height(ds)["mixing_height"].values
    mech = mechanical_mixing_height(np.array([3.0, 0.5, 2.0]), 0.5)  # calm raised to 0.5
    assert np.isnan(got[0])  # B keeps its class default
    np.testing.assert_allclose(got[[1, 2, 4]], mech, rtol=1e-14)
    assert got[3] == 420.0  # the data win
    only_f = add_mixing_height(ds, classes=["F"])["mixing_height"].values
    assert np.isnan(only_f[1])
    with pytest.raises(Exception, match="roughness"):
        add_mixing_height(ds.drop_attrs())


def test_class_lid_is_the_mean_of_the_hourly_lids():
    """With lids from the data (ERA5 blh) or the scheme, a class's lid is their mean."""
    from trajectoire.meteo.profiles import add_mixing_height

    met = synth(n=600, seed=9, directions=np.full(600, 90.0))
    met.attrs["roughness_length"] = 0.5
    filled = add_mixing_height(met)
    table = tm.met_classes(filled, n_directions=36).isel(year=0)
    zi = filled["mixing_height"].values
    u = filled["wind_speed"].values
    stab = filled["stability"].values
    edges = np.asarray(tm.DEFAULT_SPEED_EDGES)
    s = np.searchsorted(edges, u, side="right") - 1
    for c in "DEF":
        for k in range(edges.size):
            sel = (stab == c) & (s == k)
            if sel.any():
                got = float(table["mixing_height"].sel(direction=90.0, stability=c)[k])
                assert got == pytest.approx(zi[sel].mean(), rel=1e-12)
