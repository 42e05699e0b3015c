"""Near field of the stacks (issue 14): exact plume geometry and the stacks' speed classes.

Within ``NEAR_FIELD`` of a stack the annual path integrates the directions of each sector
with the plume's own geometry (downwind ``r cos δ``, crosswind ``r sin δ``;
``plume_longterm.exact_group``) instead of the sector-average form, and the met groups of
the stacks come from a table with finer speed classes (``stack_frequency`` of
``met_classes``), so that the plume rise follows the hours. Checked here against a
plain-numpy midpoint rule over the directions of the library plume
(:func:`trajectoire.dispersion.gaussian_plume`), on properties (linearity, mirror symmetry
about the wind axis, isotropy, non-negativity, far-field limit) and on the configuration.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

import trajectoire.meteo as tm
from test_pipeline import small_config
from test_wind_sectors import synth
from trajectoire import Grid
from trajectoire import dispersion as disp
from trajectoire._kernels import plume_longterm as lt
from trajectoire._kernels.deposition import NO_DEPOSITION as NO_DEP
from trajectoire.config import load_config
from trajectoire.dispersion.longterm import _T_PER_YR_TO_UG
from trajectoire.dispersion.points import _stack_groups, _stacks, stack_table
from trajectoire.errors import ConfigError, InputError

LETTERS = "ABCDEF"
NO_LID = 1e30
URBAN = 1  # scheme code of "briggs-urban"
X0, Y0 = 700_000.0, 7_050_000.0  # Lambert-93 [m]


def groups(n=36, seed=2):
    """Four met groups: classes B, D, F, D (one with a lid), heights 0 to 120 m."""
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.0, 1.0, (4, n)) * (rng.uniform(size=(4, n)) > 0.3)
    hs = np.array([0.0, 45.0, 120.0, 70.0])
    zis = np.array([NO_LID, NO_LID, NO_LID, 600.0])
    clss = np.array([1, 3, 5, 3], dtype=np.int64)
    invus = np.array([0.5, 0.3, 0.8, 0.2])
    return np.ascontiguousarray(a), hs, zis, clss, invus


def library(dx, dy, grp, z=1.5, smooth=lt.SECTOR_GAUSS_EXACT):
    a, hs, zis, clss, invus = grp
    return lt.point_density(dx, dy, z, a, hs, zis, clss, invus, URBAN, 0.0, 0.0, smooth, NO_DEP)


def np_exact(dx, dy, grp, z=1.5, nphi=400):
    """Midpoint rule over `nphi` directions per sector of the hourly plume (numpy)."""
    a, hs, zis, clss, invus = grp
    n = a.shape[1]
    width = 2 * math.pi / n
    r, theta = math.hypot(dx, dy), math.atan2(dx, dy)
    phis = (np.arange(n) * width + math.pi)[:, None] + (
        (np.arange(nphi) + 0.5) / nphi - 0.5
    ) * width
    x, y = r * np.cos(theta - phis), r * np.sin(theta - phis)
    down = x > 0
    tot = 0.0
    for g in range(a.shape[0]):
        zi = None if zis[g] >= 1e29 else zis[g]
        c = disp.gaussian_plume(1.0, np.where(down, x, 1.0), y, z, u=1.0,
                                stability=LETTERS[clss[g]], h=hs[g], sigma="briggs-urban",
                                mixing_height=zi)  # fmt: skip
        tot += float(a[g] @ np.where(down, c, 0.0).mean(axis=1))
    return tot


@pytest.mark.parametrize("r", [150.0, 400.0, 1200.0, 3500.0])
@pytest.mark.parametrize("bearing", [3.0, 97.0, 181.0, 266.5])
def test_exact_geometry_matches_numpy_midpoint_rule(r, bearing):
    grp = groups()
    dx, dy = r * math.sin(math.radians(bearing)), r * math.cos(math.radians(bearing))
    want = np_exact(dx, dy, grp)
    assert want > 0
    assert library(dx, dy, grp) == pytest.approx(want, rel=2e-3)


@pytest.mark.parametrize("h", [0.0, 30.0, 90.0])
@pytest.mark.parametrize("cls", [0, 3, 5])
def test_exact_geometry_per_class_and_height(h, cls):
    """One group at a time: every class and several release heights, 300 m downwind."""
    a = np.zeros((1, 36))
    a[0, 0] = 1.0  # wind from the north: the plume goes south
    grp = (a, np.array([h]), np.array([NO_LID]), np.array([cls], dtype=np.int64), np.ones(1))
    for bearing in (180.0, 176.0, 170.0):
        dx, dy = 300.0 * math.sin(math.radians(bearing)), 300.0 * math.cos(math.radians(bearing))
        want = np_exact(dx, dy, grp)
        assert library(dx, dy, grp) == pytest.approx(want, rel=3e-3, abs=1e-12 * (1 + want))


def test_exact_geometry_changes_the_near_field_of_a_stack_only():
    """Near an elevated release the sector-average form is off by more than 1 %, at a
    ground-level one by < 1 %; the exact form tends to it far away."""
    grp = groups()
    a, hs, zis, clss, invus = grp
    one = (a[1:2], hs[1:2], zis[1:2], clss[1:2], invus[1:2])  # D, 45 m
    dx, dy = 200.0 * math.sin(0.3), 200.0 * math.cos(0.3)
    ratio = library(dx, dy, one) / library(dx, dy, one, smooth=lt.SECTOR_GAUSS)
    assert abs(ratio - 1) > 0.01
    ground = (a[:1], hs[:1], zis[:1], clss[:1], invus[:1])
    assert library(dx, dy, ground) == pytest.approx(
        library(dx, dy, ground, smooth=lt.SECTOR_GAUSS), rel=1e-2
    )


def exact_at(r, t, grp, n=36):
    """``exact_group`` summed over the groups at (r, sector position t), any distance."""
    a, hs, zis, clss, invus = grp
    pieces = lt.sector_pieces(r, t, n, lt.exact_sub(r))
    dep = (0.0, 0.0, 1.0, np.zeros(1), np.zeros(1))
    return sum(
        lt.exact_group(r, pieces, a[g], 1.5, hs[g], zis[g], URBAN, clss[g], 0.0, 0.0, invus[g], dep)
        for g in range(a.shape[0])
    )


@pytest.mark.parametrize("r", [15_000.0, 30_000.0])
def test_far_field_tends_to_the_sector_average_form(r):
    grp = groups()
    for bearing in (10.0, 133.0, 250.0):
        theta = bearing
        t = ((theta - 180.0) % 360.0) * 36 / 360.0
        dx, dy = r * math.sin(math.radians(theta)), r * math.cos(math.radians(theta))
        avg = library(dx, dy, grp, smooth=lt.SECTOR_GAUSS)
        assert exact_at(r, t, grp) == pytest.approx(avg, rel=3e-3)


weights = st.lists(st.floats(0.0, 1.0), min_size=36, max_size=36).map(np.array)


@settings(max_examples=25, deadline=None)
@given(weights, weights, st.floats(0.0, 5.0), st.floats(0.0, 5.0), st.floats(50.0, 4000.0),
       st.floats(0.0, 360.0))  # fmt: skip
def test_linear_in_the_emission(w1, w2, al, be, r, bearing):
    grp = groups()
    dx, dy = r * math.sin(math.radians(bearing)), r * math.cos(math.radians(bearing))

    def with_rows(w):
        return (np.ascontiguousarray(np.tile(w, (4, 1))), *grp[1:])

    mix = library(dx, dy, with_rows(al * w1 + be * w2))
    want = al * library(dx, dy, with_rows(w1)) + be * library(dx, dy, with_rows(w2))
    assert mix >= 0.0
    assert mix == pytest.approx(want, rel=1e-9, abs=1e-300)


@settings(max_examples=25, deadline=None)
@given(st.floats(50.0, 4500.0), st.floats(0.0, 60.0), st.integers(0, 35), st.integers(0, 3))
@example(500.0, 38.21770123928726, 18, 1)  # 499.99999999999994 m and 500 m: 4.9 % apart
def test_mirror_symmetric_about_the_wind_axis(r, off, d, g):
    """One sector: receptors mirrored about its plume axis get the same value.

    As in :func:`test_uniform_rose_is_isotropic`, the two receptors' distances are
    ``hypot`` of rounded offsets: at ``r`` = 500 m or 2000 m one may fall one ulp below the
    threshold of :func:`~trajectoire._kernels.plume_longterm.exact_sub` and the other on it,
    each on its own quadrature (8 or 4, 4 or 2 pieces per sector), which differ by far more
    than round-off off the plume axis (4.9 % at r = 500 m, 38° off the axis of sector 18,
    group 1), so such pairs are left out."""
    grp = groups()
    a = np.zeros((1, 36))
    a[0, d] = 1.0
    one = (a, grp[1][g : g + 1], grp[2][g : g + 1], grp[3][g : g + 1], grp[4][g : g + 1])
    axis = d * 10.0 + 180.0
    offsets = [
        (r * math.sin(math.radians(axis + s * off)), r * math.cos(math.radians(axis + s * off)))
        for s in (1, -1)
    ]
    assume(len({lt.exact_sub(math.hypot(dx, dy)) for dx, dy in offsets}) == 1)
    vals = [library(dx, dy, one) for dx, dy in offsets]
    assert vals[0] >= 0.0
    assert vals[0] == pytest.approx(vals[1], rel=1e-9, abs=1e-300)


@settings(max_examples=15, deadline=None)
@given(st.floats(50.0, 4500.0), st.floats(0.0, 360.0), st.floats(0.0, 360.0))
def test_uniform_rose_is_isotropic(r, b1, b2):
    """Same distance, same pieces per sector: the bearing does not matter.

    The two receptors' distances are ``hypot`` of rounded offsets: one ulp either side of a
    threshold of :func:`~trajectoire._kernels.plume_longterm.exact_sub` (500 m, 2000 m) puts
    them on different quadratures, whose step is bounded apart
    (``test_quadrature_step_at_the_thresholds_is_within_its_accuracy``)."""
    grp = groups()
    uni = (np.ones((4, 36)), *grp[1:])
    offsets = [(r * math.sin(math.radians(b)), r * math.cos(math.radians(b))) for b in (b1, b2)]
    assume(len({lt.exact_sub(math.hypot(dx, dy)) for dx, dy in offsets}) == 1)
    v1, v2 = (library(dx, dy, uni) for dx, dy in offsets)
    assert v1 > 0.0
    assert v1 == pytest.approx(v2, rel=1e-4)  # to the accuracy of the direction pieces


@pytest.mark.parametrize("threshold", [500.0, 2000.0])
@pytest.mark.parametrize("seed", [0, 2, 7])
def test_quadrature_step_at_the_thresholds_is_within_its_accuracy(threshold, seed):
    """Where the pieces per sector change (8 to 4 at 500 m, 4 to 2 at 2 km) the field steps
    by less than the quadrature's accuracy against the numpy midpoint rule (2e-3): measured
    at most 2.6e-4 at 500 m and 1.3e-3 at 2 km on these groups (2026-12-04)."""
    grp = groups(seed=seed)
    for bearing in np.arange(0.0, 360.0, 7.3):
        s, c = math.sin(math.radians(bearing)), math.cos(math.radians(bearing))
        inside, outside = (threshold * (1.0 + e) for e in (-1e-12, 1e-12))
        assert lt.exact_sub(inside) > lt.exact_sub(outside)
        a, b = library(inside * s, inside * c, grp), library(outside * s, outside * c, grp)
        assert a > 0.0
        assert a == pytest.approx(b, rel=2e-3)


# ---------------------------------------------------------------- stacks' speed classes
@pytest.fixture(scope="module")
def tables():
    met = synth(seed=5)
    return tm.met_classes(met), tm.met_classes(met, stack_speed_edges=None)


def test_stack_table_keeps_the_first_table_and_its_moments(tables):
    fine, coarse = tables
    for name in coarse.data_vars:
        np.testing.assert_array_equal(fine[name].values, coarse[name].values)
    assert "stack_frequency" not in coarse
    assert fine.sizes["stack_speed"] == len(tm.DEFAULT_STACK_SPEED_EDGES)
    for year in fine["year"].values:
        f, c = stack_table(fine.sel(year=year)), coarse.sel(year=year)
        assert float(f["frequency"].sum()) == pytest.approx(float(c["frequency"].sum()), rel=1e-12)
        per_dir = (f["frequency"] * f["inverse_wind_speed"]).sum(("speed", "stability"))
        want = (c["frequency"] * c["inverse_wind_speed"]).sum(("speed", "stability"))
        np.testing.assert_allclose(per_dir.values, want.values, rtol=1e-12)
    assert stack_table(coarse) is coarse


def test_ground_source_does_not_see_the_speed_classes(tables):
    """Without rise or decay the finer classes only regroup the same sum of f <1/u>."""
    fine, coarse = (t.isel(year=0) for t in tables)
    grid = Grid.from_bounds(X0, Y0, X0 + 3000.0, Y0 + 3000.0, 100.0)
    kw = dict(x=[X0 + 1510.0], y=[Y0 + 1480.0], stack_height=[0.0], stack_diameter=[0.0],
              exit_temperature=[283.15], exit_velocity=[0.0], weights=[1.0], grid=grid,
              radius=1400.0, sigma="briggs-urban")  # fmt: skip
    a = disp.point_sources_annual(fine, **kw)
    b = disp.point_sources_annual(coarse, **kw)
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12 * b.max())
    kw["stack_height"] = [40.0]
    kw["stack_diameter"] = [1.0]
    kw["exit_velocity"] = [10.0]
    kw["exit_temperature"] = [400.0]
    a = disp.point_sources_annual(fine, **kw)
    b = disp.point_sources_annual(coarse, **kw)
    assert np.abs(a - b).max() > 1e-3 * b.max()


def test_near_field_zero_is_the_sector_average_form(tables):
    table = tables[0].isel(year=0)
    grid = Grid.from_bounds(X0, Y0, X0 + 2000.0, Y0 + 2000.0, 100.0)
    kw = dict(x=[X0 + 1010.0], y=[Y0 + 980.0], stack_height=[40.0], stack_diameter=[1.0],
              exit_temperature=[400.0], exit_velocity=[10.0], grid=grid, radius=900.0)  # fmt: skip
    old = disp.point_sources_annual(table, weights=[1.0], near_field=0.0, **kw)[0]
    new = disp.point_sources_annual(table, weights=[1.0], **kw)[0]
    assert np.abs(old - new).max() > 1e-3 * old.max()
    ((rows, cols, fp),) = disp.stack_footprints(table, near_field=0.0, **kw)
    r = np.hypot(grid.x[cols][None, :] - X0 - 1010.0, grid.y[rows][:, None] - Y0 - 980.0)
    pos = (old[rows, cols] > 1e-6 * old.max()) & (r >= grid.resolution)
    assert np.abs(fp[pos] / old[rows, cols][pos] - 1).max() < 0.01
    with pytest.raises(InputError, match="near_field=-1.0; expected a distance >= 0"):
        disp.stack_footprints(table, near_field=-1.0, **kw)


def test_bad_stack_speed_edges_are_named(tables):
    with pytest.raises(InputError, match=r"stack_speed_edges=\[0.0, 2.0, 1.0\]"):
        tm.met_classes(synth(seed=5), stack_speed_edges=[0.0, 2.0, 1.0])


def test_config_key_stack_speed_edges(tmp_path):
    cfg = load_config(small_config(tmp_path))
    assert cfg.meteo.stack_speed_edges is None
    cases = (("[]", []), ("[0, 1, 2.5]", [0.0, 1.0, 2.5]), ("[0, 2, 1]", None), ("[1, 2]", None))
    for i, (value, want) in enumerate(cases):
        (tmp_path / str(i)).mkdir()
        path = small_config(tmp_path / str(i))
        path.write_text(
            path.read_text().replace("[meteo]", f"[meteo]\nstack_speed_edges = {value}")
        )
        if want is not None:
            assert load_config(path).meteo.stack_speed_edges == want
            assert load_config(path).config_hash() != cfg.config_hash()
        else:
            with pytest.raises(ConfigError, match=r"\[meteo\] stack_speed_edges: received"):
                load_config(path)
    # the default hashes by its value (the default written out is the same run), so a change
    # of the library's default changes the hash and --resume does not reuse older parts
    (tmp_path / "same").mkdir()
    path = small_config(tmp_path / "same")
    edges = ", ".join(repr(e) for e in tm.DEFAULT_STACK_SPEED_EDGES)
    path.write_text(path.read_text().replace("[meteo]", f"[meteo]\nstack_speed_edges = [{edges}]"))
    assert load_config(path).config_hash() == cfg.config_hash()


# ------------------------------------------- the stacks' classes as fine as the reports
OLD_STACK_SPEED_EDGES = (*(0.5 * i for i in range(21)), 12.0, 15.0)  # before 2026-12-04
TALL = dict(stack_height=[150.0], stack_diameter=[5.0], exit_temperature=[450.0],
            exit_velocity=[20.0])  # fmt: skip


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(1, 199), min_size=5, max_size=60),
    st.sampled_from([0.1, 0.514444]),  # 0.1 m s-1 (Météo-France, ISD-Lite) or 1 kt
)
def test_each_reported_speed_has_a_stack_class_of_its_own(ks, step):
    """Speeds reported to 0.1 m s-1 or to 1 kt (below 19.9 m s-1): every (reported speed,
    stability) pair of the hours is one class of the stacks' table, whose mean of 1/u is
    that speed's, so each met group's plume rise is exactly its hours'. (Calms, below the
    0.5 m s-1 threshold, are left out: raised to it, they keep the class of the speed
    reported, so that 0.1-0.5 m s-1 are several classes of one mean speed.)"""
    u = np.array(ks, dtype=float) * step
    u = u[(u >= tm.CALM_THRESHOLD) & (u < 19.9)]  # no calm (0.1-0.4 m s-1 are calms)
    assume(u.size >= 2)
    met = synth(n=u.size, seed=len(ks))
    met["wind_speed"] = ("time", u)
    table = tm.met_classes(met).isel(year=0)
    freq = table["stack_frequency"].values  # (direction, speed class, stability)
    used = freq.sum(axis=0) > 0
    at = np.maximum(u, tm.CALM_THRESHOLD)
    pairs = {(round(float(v), 6), c) for v, c in zip(at, met["stability"].values, strict=True)}
    assert int(used.sum()) == len(pairs)
    speeds = np.array(sorted({v for v, _ in pairs}))
    inv_u = table["stack_inverse_wind_speed"].values[freq > 0]
    nearest = np.abs(1.0 / inv_u[:, None] - speeds[None, :]).min(axis=1)
    np.testing.assert_array_less(nearest, 1e-9)


def test_tall_stack_follows_the_mean_of_its_hourly_plumes():
    """A tall buoyant stack (150 m, 5 m, 20 m s-1, 450 K) within 1 km: the annual path
    against the mean of the hourly plumes of the same physics, each report's direction
    spread over its 10° (the reference of ``benchmarks/bench_wind_sectors.py``), speeds
    reported to 0.1 m s-1. Within issue 14's target (median 3 %, 90th percentile 10 % at
    each ring) with the stacks' 0.1 m s-1 classes; the former 0.5 m s-1 classes miss it at
    200 m (7 % / 23 % here), where the ground concentration comes from the few windy hours
    whose plume rise is lowest."""
    met = synth(n=600, seed=3)
    rng = np.random.default_rng(4)
    met["wind_speed"] = ("time", np.round(met["wind_speed"].values, 1))
    met["wind_direction"] = ("time", rng.integers(0, 36, 600) * 10.0)
    dist = np.repeat([200.0, 500.0, 1000.0], 36)
    bearing = np.tile(np.arange(36) * 10.0 + 5.0, 3)
    rx, ry = dist * np.sin(np.radians(bearing)), dist * np.cos(np.radians(bearing))
    brute = np.zeros(rx.size)
    for off in (np.arange(4) + 0.5) / 4 * 10.0 - 5.0:
        m = met.assign(wind_direction=(met["wind_direction"] + off) % 360.0)
        c = disp.hourly_at_receptors(m, x=0.0, y=0.0, emission=1.0, receptors_x=rx,
                                     receptors_y=ry, sigma="briggs-urban",
                                     **{k: v[0] for k, v in TALL.items()})  # fmt: skip
        brute += np.nanmean(c.values, axis=0) / 4
    _, stack = _stacks(0.0, 0.0, **TALL)
    worst = {}
    for label, edges in (("new", tm.DEFAULT_STACK_SPEED_EDGES), ("old", OLD_STACK_SPEED_EDGES)):
        table = tm.met_classes(met, stack_speed_edges=edges).isel(year=0)
        a, cls, zis, ius, hs, fac = _stack_groups(table, URBAN, stack, 283.15)
        a = np.ascontiguousarray(a * fac[0][:, None] * _T_PER_YR_TO_UG)
        h = np.ascontiguousarray(hs[0])
        est = np.array([
            lt.point_density(x, y, 1.5, a, h, zis, cls, ius, URBAN, 0.0, 0.0,
                             lt.SECTOR_GAUSS_EXACT, NO_DEP)
            for x, y in zip(rx, ry, strict=True)
        ])  # fmt: skip
        err = np.abs(est / brute - 1.0).reshape(3, 36)
        worst[label] = (np.median(err, axis=1).max(), np.percentile(err, 90, axis=1).max())
    assert worst["new"][0] <= 0.03 and worst["new"][1] <= 0.10, worst
    assert worst["old"][0] > 0.03 or worst["old"][1] > 0.10, worst  # the test can fail
