"""Tests of trajectoire.dispersion: stable plume API, long-term kernel, FFT plan, stacks."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from trajectoire import dispersion as disp
from trajectoire import meteo as tm
from trajectoire.errors import InputError, MissingVariableError, TrajectoireWarning
from trajectoire.grid import Grid
from trajectoire.units import SECONDS_PER_YEAR


def synth(n=2000, seed=0, calm=True, start="2021-01-01", directions=None):
    rng = np.random.default_rng(seed)
    u = rng.gamma(2.0, 1.5, n) + (0.0 if calm else 1.0)
    d = rng.uniform(0, 360, n) % 360 if directions is None else np.asarray(directions)
    return xr.Dataset(
        {
            "wind_speed": ("time", u),
            "wind_direction": ("time", d),
            "stability": ("time", np.array(list("ABCDEF"))[rng.integers(0, 6, n)]),
        },
        coords={"time": pd.date_range(start, periods=n, freq="h")},
        attrs={"anemometer_height": 10.0},
    )


@pytest.fixture(scope="module")
def table():
    return tm.met_classes(synth()).isel(year=0)


# ------------------------------------------------------------------ gaussian_plume (stable)
def test_gaussian_plume_broadcasts_and_matches_formula():
    x = np.array([100.0, 1000.0, 5000.0])[:, None]
    y = np.array([0.0, 50.0])[None, :]
    c = disp.gaussian_plume(2.0, x, y, 1.5, u=4.0, stability="C", h=20.0)
    assert c.shape == (3, 2)
    sy, sz = disp.dispersion_coefficients(1000.0, "C")
    want = (
        2.0 / (2 * math.pi * 4.0 * sy * sz) * math.exp(-(50.0**2) / (2 * sy**2))
        * (math.exp(-(18.5**2) / (2 * sz**2)) + math.exp(-(21.5**2) / (2 * sz**2)))
    )  # fmt: skip
    assert c[1, 1] == pytest.approx(float(want), rel=1e-12)


def test_sigma_schemes_are_one_vocabulary():
    from trajectoire import config

    assert (
        config.SIGMA_SCHEMES == tuple(disp.SIGMA_SCHEMES) == ("briggs-urban", "briggs-rural", "pgt")
    )
    assert config.DispersionConfig(sigma="pgt").sigma == "pgt"
    with pytest.raises(ValueError, match="did you mean 'briggs-rural'"):
        config.DispersionConfig(sigma="briggs-rurall")
    with pytest.raises(InputError, match="briggs-urban"):
        disp.gaussian_plume(1.0, 100.0, 0.0, 0.0, u=2.0, stability="D", h=0.0, sigma="x")


def test_gaussian_plume_options_and_upwind():
    for sigma in ("briggs-rural", "briggs-urban", "pgt"):
        c = disp.gaussian_plume(1.0, [-10.0, 0.0, 500.0], 0.0, 0.0, u=2.0, stability="D", h=0.0,
                                sigma=sigma, mixing_height=400.0)  # fmt: skip
        assert c[0] == 0.0 and c[1] == 0.0 and c[2] > 0
    many = disp.gaussian_plume(1.0, 800.0, 0.0, 0.0, u=2.0, stability=["A", "F"], h=0.0)
    assert many[1] > many[0]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"u": -1.0}, "negative wind speed"),
        ({"u": 0.0}, "calm threshold"),
        ({"stability": "G"}, "unknown stability"),
        ({"stability": 3}, "class letters"),
        ({"h": -5.0}, "stack below zero"),
        ({"sigma": "klug"}, "sigma="),
        ({"mixing_height": 0.0}, "mixing_height"),
    ],
)
def test_gaussian_plume_bad_input(kwargs, match):
    args = {"u": 3.0, "stability": "D", "h": 10.0} | kwargs
    with pytest.raises(InputError, match=match):
        disp.gaussian_plume(1.0, 100.0, 0.0, 0.0, **args)


def test_effective_height_and_bad_stack():
    h = disp.effective_height([30.0, 60.0], 2.0, 12.0, 420.0, 285.0, 5.0, "D")
    assert h.shape == (2,) and np.all(h > [30.0, 60.0])
    with pytest.raises(InputError, match="below ground"):
        disp.effective_height(-1.0, 2.0, 12.0, 420.0, 285.0, 5.0, "D")
    with pytest.raises(InputError, match="temperatures"):
        disp.effective_height(10.0, 2.0, 12.0, 0.0, 285.0, 5.0, "D")


def test_line_source_api():
    c = disp.line_source(1e-3, (-20000.0, 0.0), (20000.0, 0.0), 0.0, [100.0, -100.0], 0.0,
                         u=2.0, wind_direction=180.0, stability="D", sigma="briggs-rural")  # fmt: skip
    sz = disp.dispersion_coefficients(100.0, "D")[1]
    assert c[0] == pytest.approx(2e-3 / (math.sqrt(2 * math.pi) * 2.0 * float(sz)), rel=1e-6)
    assert c[1] == 0.0  # upwind of the road
    with pytest.raises(InputError, match="wind_direction"):
        disp.line_source(1.0, (0, 0), (1, 1), 0.0, 0.0, u=1.0, wind_direction=360.0,
                         stability="D")  # fmt: skip


# ------------------------------------------------------------------ FFT convolution
def direct_convolution(field, kernel):
    """Plain numpy double loop over the kernel offsets ("same" alignment, zero outside)."""
    ny, nx = field.shape
    ky, kx = kernel.shape
    my, mx = ky // 2, kx // 2
    out = np.zeros_like(field)
    for i in range(ky):
        for j in range(kx):
            di, dj = i - my, j - mx  # receptor = source + (di, dj)
            ys, ye = max(0, -di), min(ny, ny - di)
            xs, xe = max(0, -dj), min(nx, nx - dj)
            if ys < ye and xs < xe:
                out[ys + di : ye + di, xs + dj : xe + dj] += kernel[i, j] * field[ys:ye, xs:xe]
    return out


@given(
    data=st.data(),
    ny=st.integers(1, 12),
    nx=st.integers(1, 12),
    my=st.integers(0, 8),
    mx=st.integers(0, 8),
)
def test_fft_convolution_equals_direct_sum(data, ny, nx, my, mx):
    field = data.draw(hnp.arrays(np.float64, (ny, nx), elements=st.floats(0, 100)))
    kernel = data.draw(hnp.arrays(np.float64, (2 * my + 1, 2 * mx + 1), elements=st.floats(0, 10)))
    want = direct_convolution(field, kernel)
    got = disp.ConvolutionPlan((ny, nx), kernel.shape).convolve(field, kernel)
    scale = max(np.abs(want).max(), 1e-300)
    assert np.abs(got - want).max() <= 1e-6 * scale + 1e-12


def test_fft_no_wraparound_and_alignment():
    field = np.zeros((5, 6))
    field[0, 0] = 1.0  # a corner source: nothing may appear on the far edges
    kernel = np.ones((7, 7))
    out = disp.fft_convolve(field, kernel)
    assert out[0:4, 0:4].min() == pytest.approx(1.0)
    assert np.abs(out[4:, :]).max() < 1e-12 and np.abs(out[:, 4:]).max() < 1e-12
    kern = np.zeros((3, 3))
    kern[2, 1] = 1.0  # offset dy = +1: one row south
    field = np.zeros((4, 4))
    field[1, 2] = 1.0
    assert np.argwhere(np.abs(disp.fft_convolve(field, kern)) > 0.5).tolist() == [[2, 2]]


def test_convolution_plan_reuses_spectra_and_leading_dims():
    rng = np.random.default_rng(0)
    fields = rng.uniform(0, 1, (3, 2, 20, 30))
    kernel = rng.uniform(0, 1, (11, 9))
    plan = disp.ConvolutionPlan((20, 30), (11, 9))
    spec = plan.forward(fields)
    ks = plan.kernel_spectrum(kernel)
    out = plan.inverse(spec * ks)
    assert out.shape == fields.shape
    np.testing.assert_allclose(out[1, 0], direct_convolution(fields[1, 0], kernel), rtol=1e-10)
    combo = plan.inverse((2.0 * spec[0] + 0.5 * spec[1]) * ks)  # linearity: scale spectra
    np.testing.assert_allclose(combo, 2.0 * out[0] + 0.5 * out[1], rtol=1e-10, atol=1e-12)
    assert "fft_shape" in repr(plan)


@given(
    st.integers(1, 40),
    st.integers(1, 40),
    st.sampled_from([np.float32, np.float64]),
    st.sampled_from(["double", "single"]),
    st.integers(0, 2**32 - 1),
)
def test_forward_through_the_kept_padded_array_is_scipys_transform(ny, nx, dtype, prec, seed):
    """A single field goes through the plan's kept padded array: the same bits as scipy's
    own zero padding of the field in the plan's dtype, call after call (the corner written
    each time, the rest left at 0), whatever plans of other shapes do in between."""
    import scipy.fft

    rng = np.random.default_rng(seed)
    kind = np.float32 if prec == "single" else np.float64
    plan = disp.ConvolutionPlan((ny, nx), (5, 3), dtype=kind)
    bigger = disp.ConvolutionPlan((ny + 1, nx + 2), (5, 3), dtype=kind)  # often the same fft
    for _ in range(3):
        field = (rng.random((ny, nx)) * (rng.random((ny, nx)) < 0.7)).astype(dtype)
        want = scipy.fft.rfftn(field.astype(kind), s=plan.fft_shape, axes=(-2, -1))
        got = plan.forward(field)
        assert got.dtype == want.dtype
        assert np.array_equal(got.view(np.uint8), want.view(np.uint8))
        bigger.forward(rng.random((ny + 1, nx + 2)))  # its own array, not this one's


def test_convolution_plan_bad_shapes():
    with pytest.raises(InputError, match="odd"):
        disp.ConvolutionPlan((10, 10), (4, 5))
    plan = disp.ConvolutionPlan((10, 10), (5, 5))
    with pytest.raises(InputError, match="field"):
        plan.forward(np.zeros((9, 10)))
    with pytest.raises(InputError, match="kernel"):
        plan.kernel_spectrum(np.zeros((3, 3)))


# ------------------------------------------------------------------ annual kernel
def test_annual_kernel_layout_units_and_cutoff(table):
    k = disp.annual_kernel(table, resolution=100.0, radius=1000.0)
    assert k.dims == ("dy", "dx") and k.shape == (21, 21)
    assert k.attrs["units"] == "ug m-3 yr t-1"
    v = k.values
    assert np.isfinite(v).all() and (v >= 0).all()
    assert v[10, 10] == v.max() and v[10, 10] > 0  # source cell, no singularity
    assert v[0, 0] == 0.0  # corner beyond the 1 km cut-off
    assert v[0, 10] > 0  # 1000 m north, on the cut-off circle


def test_annual_kernel_direction_convention():
    """A south-westerly wind carries pollution to the north-east (dy < 0 is north)."""
    met = synth(n=200, calm=False, directions=np.full(200, 225.0))
    k = disp.annual_kernel(tm.met_classes(met).isel(year=0), resolution=100.0, radius=1500.0)
    assert float(k.sel(dy=-5, dx=5)) > 0
    assert float(k.sel(dy=5, dx=-5)) == 0.0
    # crosswind: 0 with flat or hat sectors, the far tail of the plume's Gaussian by default
    assert float(k.sel(dy=-5, dx=-5)) < 1e-6 * float(k.sel(dy=-5, dx=5))
    hat = disp.annual_kernel(
        tm.met_classes(met).isel(year=0), resolution=100.0, radius=1500.0, sector_smoothing="hat"
    )
    assert float(hat.sel(dy=-5, dx=-5)) == 0.0


def test_annual_kernel_converged(table):
    """Refining the quadrature changes no cell by more than 1 %."""
    for h in (0.0, 15.0):
        a = disp.annual_kernel(table, resolution=100.0, radius=2500.0, release_height=h).values
        b = disp.annual_kernel(
            table, resolution=100.0, radius=2500.0, release_height=h, refine=3
        ).values
        pos = b > 1e-6 * b.max()
        assert np.max(np.abs(a[pos] - b[pos]) / b[pos]) < 0.01


@pytest.mark.parametrize("nd", [16, 36])
def test_annual_kernel_isotropic_for_uniform_rose(nd):
    n = nd * 6 * 20  # within one year
    met = synth(n=n, calm=False, directions=np.tile(np.arange(nd) * (360 / nd), n // nd))
    met["stability"] = met["stability"].copy(data=np.full(n, "D"))
    met["wind_speed"] = met["wind_speed"].copy(data=np.full(n, 3.0))
    table = tm.met_classes(met, n_directions=nd).isel(year=0)
    k = disp.annual_kernel(table, resolution=100.0, radius=1500.0)
    v = k.values
    np.testing.assert_allclose(v, v.T, rtol=1e-9)
    np.testing.assert_allclose(v, v[::-1, :], rtol=1e-9)


def test_annual_mean_from_table_equals_mean_of_hourly_kernels():
    """Same kernel physics: the frequency-weighted kernel is the mean of the hourly ones."""
    met = synth(n=60, calm=False, seed=4)
    year = disp.annual_kernel(tm.met_classes(met).isel(year=0), resolution=100.0, radius=800.0)
    hourly = [
        disp.annual_kernel(
            tm.met_classes(met.isel(time=[t])).isel(year=0), resolution=100.0, radius=800.0
        ).values
        for t in range(60)
    ]
    mean = np.mean(hourly, axis=0)
    np.testing.assert_allclose(year.values, mean, rtol=1e-6, atol=1e-12 * mean.max())


def test_annual_kernel_decay_reduces_far_field(table):
    a = disp.annual_kernel(table, resolution=100.0, radius=3000.0)
    b = disp.annual_kernel(table, resolution=100.0, radius=3000.0, decay_rate=1e-3)
    assert float(b.sel(dy=0, dx=0)) == pytest.approx(float(a.sel(dy=0, dx=0)), rel=0.05)
    assert float(b.sel(dy=0, dx=25)) < 0.6 * float(a.sel(dy=0, dx=25))


def test_annual_kernel_ground_mass_budget():
    """Uniform emission over a wide area: the centre equals the sum of the kernel (FFT path)."""
    met = synth(n=500, calm=False, seed=2)
    k = disp.annual_kernel(tm.met_classes(met).isel(year=0), resolution=200.0, radius=2000.0)
    field = np.ones((41, 41))
    conc = disp.fft_convolve(field, k.values)
    assert conc[20, 20] == pytest.approx(k.values.sum(), rel=1e-10)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"resolution": 0.0}, "resolution"),
        ({"radius": 50.0}, "radius"),
        ({"release_height": -2.0}, "release_height"),
        ({"sigma": "x"}, "sigma"),
        ({"receptor_height": 0.0}, "not integrable"),
        ({"refine": 0}, "refine"),
    ],
)
def test_annual_kernel_bad_input(table, kwargs, match):
    args = {"resolution": 100.0, "radius": 500.0} | kwargs
    with pytest.raises(InputError, match=match):
        disp.annual_kernel(table, **args)


def test_annual_kernel_bad_table(table):
    with pytest.raises(MissingVariableError, match="frequency"):
        disp.annual_kernel(table.drop_vars("frequency"), resolution=100.0, radius=500.0)
    two = xr.concat([table, table], dim="year")
    with pytest.raises(InputError, match="one year"):
        disp.annual_kernel(two, resolution=100.0, radius=500.0)


# ------------------------------------------------------------------ stacks
X0, Y0 = 700_000.0, 7_050_000.0
STACKS = {
    "x": [X0 + 1030.0, X0 + 1460.0],
    "y": [Y0 + 980.0, Y0 + 1225.0],
    "stack_height": [40.0, 15.0],
    "stack_diameter": [2.0, 0.8],
    "exit_temperature": [420.0, 300.0],
    "exit_velocity": [12.0, 6.0],
}


def test_point_sources_annual_weights_and_determinism(table):
    grid = Grid.from_bounds(X0, Y0, X0 + 2500, Y0 + 2500, 100)
    w = np.array([[1.0, 2.0, 0.0], [3.0, 0.0, 1.0]])
    out = disp.point_sources_annual(table, **STACKS, weights=w, grid=grid, radius=1500.0)
    assert out.shape == (3, 25, 25)
    one = disp.point_sources_annual(
        table, **{k: [v[0]] for k, v in STACKS.items()}, weights=[1.0], grid=grid, radius=1500.0
    )
    two = disp.point_sources_annual(
        table, **{k: [v[1]] for k, v in STACKS.items()}, weights=[1.0], grid=grid, radius=1500.0
    )
    np.testing.assert_allclose(out[0], one[0] + 2 * 0 + 3 * two[0], rtol=1e-12)
    np.testing.assert_allclose(out[1], 2 * one[0], rtol=1e-12)
    again = disp.point_sources_annual(table, **STACKS, weights=w, grid=grid, radius=1500.0)
    assert np.array_equal(out, again)
    assert out.max() > 0


def test_point_sources_annual_bad_input(table):
    grid = Grid.from_bounds(X0, Y0, X0 + 1000, Y0 + 1000, 100)
    bad = dict(STACKS, stack_height=[-3.0, 10.0])
    with pytest.raises(InputError, match="stack height below zero"):
        disp.point_sources_annual(table, **bad, weights=[1.0, 1.0], grid=grid, radius=500.0)
    with pytest.raises(InputError, match="weights"):
        disp.point_sources_annual(table, **STACKS, weights=[1.0], grid=grid, radius=500.0)
    with pytest.raises(InputError, match="Grid"):
        disp.point_sources_annual(table, **STACKS, weights=[1.0, 1.0], grid=None, radius=500.0)


def test_hourly_at_receptors_matches_plume():
    t = pd.date_range("2021-07-01", periods=3, freq="h")
    met = xr.Dataset(
        {
            "wind_speed": ("time", [4.0, 0.3, np.nan]),
            "wind_direction": ("time", [270.0, 90.0, 0.0]),
            "stability": ("time", ["D", "F", "D"]),
            "temperature": ("time", [290.0, 285.0, 285.0]),
        },
        coords={"time": t},
        attrs={"anemometer_height": 10.0},
    )
    one = {k: [v[0]] for k, v in STACKS.items()}
    c = disp.hourly_at_receptors(met, **one, emission=[100.0], receptors_x=[X0 + 1030.0 + 800.0],
                                 receptors_y=[Y0 + 980.0], calm_directions="reported")  # fmt: skip
    assert c.dims == ("time", "receptor") and c.attrs["units"] == "ug m-3"
    assert c.attrs["calm_hours"] == 1 and c.attrs["missing_hours"] == 1
    assert np.isnan(c.values[2, 0])
    assert c.values[1, 0] == 0.0  # easterly wind: receptor upwind
    us = float(tm.wind_at_height(4.0, 40.0, "D")[()])
    h = float(disp.effective_height(40.0, 2.0, 12.0, 420.0, 290.0, us, "D"))
    q = 100.0 * 1e6 / SECONDS_PER_YEAR
    want = disp.gaussian_plume(q, 800.0, 0.0, 1.5, u=us, stability="D", h=h,
                               mixing_height=800.0) * 1e6  # fmt: skip
    assert c.values[0, 0] == pytest.approx(float(want), rel=1e-10)
    with pytest.raises(MissingVariableError, match="add_stability"):
        disp.hourly_at_receptors(met.drop_vars("stability"), **one, emission=[1.0],
                                 receptors_x=[0.0], receptors_y=[0.0])  # fmt: skip


@pytest.mark.parametrize("nd", [16, 36])
def test_point_sources_annual_agrees_with_annual_kernel_far_field(nd):
    """A ground-level stack without rise at a cell centre: the two long-term code paths agree.

    Beyond 40 cells (40 N / 16 for N > 16 sectors) the area kernel uses the cell-centre value,
    which is what the point path computes, so they must match to round-off there. The point
    path's exact geometry near the source (issue 14) is turned off (``near_field=0``): the
    area kernel keeps the sector-average form.
    """
    table = tm.met_classes(synth(), n_directions=nd).isel(year=0)
    edge = math.ceil(40 * max(1.0, nd / 16))
    res, radius = 100.0, (edge + 10) * 100.0
    side = 2 * (edge + 10) * 100 + 100
    grid = Grid.from_bounds(X0, Y0, X0 + side, Y0 + side, res)
    ic = grid.ny // 2
    sx, sy = float(grid.x[ic]), float(grid.y[ic])
    field = disp.point_sources_annual(
        table, x=[sx], y=[sy], stack_height=[0.0], stack_diameter=[0.0],
        exit_temperature=[300.0], exit_velocity=[0.0], weights=[1.0], grid=grid,
        radius=radius, sigma="briggs-urban", near_field=0.0,
    )[0]  # fmt: skip
    kern = disp.annual_kernel(table, resolution=res, radius=radius, sigma="briggs-urban")
    m = kern.sizes["dy"] // 2
    block = field[ic - m : ic + m + 1, ic - m : ic + m + 1]
    ii, jj = np.indices(block.shape)
    far = np.maximum(abs(ii - m), abs(jj - m)) > edge
    assert far.sum() > 100
    np.testing.assert_allclose(block[far], kern.values[far], rtol=1e-10, atol=1e-14)


def _one_class_table(order, with_lids):
    """All hours class D, wind from the east, the classes listed in `order`."""
    n = 16
    f = np.zeros((n, 1, len(order)))
    f[4, 0, order.index("D")] = 1.0
    ds = xr.Dataset(
        {
            "frequency": (("direction", "speed", "stability"), f),
            "inverse_wind_speed": (("direction", "speed", "stability"), np.full_like(f, 1 / 3.0)),
        },
        coords={"direction": np.arange(n) * 22.5, "speed": [3.0], "stability": list(order)},
    )
    if with_lids:
        lid = {"A": 1500, "B": 1500, "C": 1000, "D": 800, "E": np.inf, "F": np.inf}
        zi = np.array([lid[c] for c in order], float)
        ds["mixing_height"] = (
            ("direction", "speed", "stability"),
            np.broadcast_to(zi, f.shape).copy(),
        )
    return ds


def test_default_lids_follow_the_stability_labels():
    """A table without `mixing_height` took each class's default lid by its position in
    A..F, not by its label: classes listed F..A gave D the lid of C (-19 % at 20 km), and a
    table of fewer classes than six was a numpy broadcasting error."""
    from trajectoire.dispersion import annual_kernel

    kw = dict(resolution=200.0, radius=20000.0)
    ref = annual_kernel(_one_class_table("ABCDEF", True), **kw).values
    for order in ("FEDCBA", "DBA", "D"):
        got = annual_kernel(_one_class_table(order, False), **kw).values
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-15 * ref.max())


@pytest.mark.parametrize(
    ("call", "names"),
    [
        (lambda: disp.gaussian_plume(1, np.ones(3) * 100, np.zeros(4), 0, u=3, stability="D", h=0), "x (3,) and y (4,)"),
        (lambda: disp.gaussian_plume(1, np.ones(3) * 100, 0, 0, u=3, stability=["A", "B"], h=0), "x (3,) and stability (2,)"),
        (lambda: disp.effective_height(np.ones(2) * 50, np.ones(3) * 2, 15, 400, 283, 5, "D"), "stack_height (2,) and diameter (3,)"),
        (lambda: disp.dispersion_coefficients(np.ones(3) * 100, ["A", "B"]), "x (3,) and stability (2,)"),
    ],
)  # fmt: skip
def test_shapes_that_do_not_broadcast_are_one_input_error(call, names):
    """The stable functions promise numpy broadcasting; shapes that do not broadcast were
    numpy's bare ValueError."""
    with pytest.raises(InputError, match="do not broadcast together") as info:
        call()
    assert names in str(info.value)


def test_stability_class_shapes_that_do_not_broadcast():
    from trajectoire.meteo import stability_class

    with pytest.raises(InputError, match=r"obukhov_length \(3,\) and roughness_length \(2,\)"):
        stability_class([-5.0, -50.0, 3.0], [0.1, 0.2])


def test_hourly_hours_without_temperature_or_lid_are_filled_and_said():
    """A usable hour whose temperature or lid is missing takes the documented default
    (283.15 K, the class's lid), with a warning that counts such hours and names the first;
    the values are those of the same hour given the default explicitly."""
    t = pd.date_range("2021-07-01", periods=3, freq="h")
    met = xr.Dataset(
        {
            "wind_speed": ("time", [4.0, 3.0, np.nan]),
            "wind_direction": ("time", [270.0, 270.0, 0.0]),
            "stability": ("time", ["D", "D", "D"]),
            "temperature": ("time", [290.0, np.nan, np.nan]),
            "mixing_height": ("time", [800.0, 800.0, np.nan]),
        },
        coords={"time": t},
        attrs={"anemometer_height": 10.0},
    )
    one = {k: [v[0]] for k, v in STACKS.items()}
    kw = dict(**one, emission=[100.0], receptors_x=[X0 + 1830.0], receptors_y=[Y0 + 980.0])
    with pytest.warns(TrajectoireWarning, match=r"1 of 3 hours .* no temperature, the first "
                      r"at 2021-07-01T01:00; those hours use 283.15 K"):  # fmt: skip
        got = disp.hourly_at_receptors(met, **kw)
    filled = met.assign(temperature=("time", [290.0, 283.15, np.nan]))
    assert got.values[1, 0] == disp.hourly_at_receptors(filled, **kw).values[1, 0]
    no_lid = met.assign(mixing_height=("time", [800.0, np.nan, np.nan]))
    with pytest.warns(TrajectoireWarning, match="no mixing_height") as rec:
        disp.hourly_at_receptors(no_lid.assign(temperature=filled["temperature"]), **kw)
    assert len(rec) == 1  # the unusable third hour (no wind) is not counted
