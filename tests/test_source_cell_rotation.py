"""The source cell of annual_kernel does not depend on the rose's orientation against the grid
(probe 13, finding 2).

A square cell is symmetric under a quarter turn, so turning every wind direction by 90
degrees must turn the kernel by 90 degrees, the source cell included. With the default
Gaussian sectors, the source cell's fixed angular rule resolved the sharp sector edges of
the stable classes only where they fell between its nodes: one 10-degree sector, class F,
200 m cells, 3.5366 for a wind from the north and 3.3022 (-6.6 %) from the east, south or
west. The angular integral is now in closed form (``_source_cell_gauss``). Each test below
that concerns the default failed on the former code.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

import trajectoire.meteo as tm
from trajectoire._kernels import plume_longterm as lt
from trajectoire.dispersion import annual_kernel, dispersion_coefficients
from trajectoire.units import SECONDS_PER_YEAR

_T = pd.date_range("2021-01-01", periods=2, freq="h")
BASE = tm.met_classes(
    xr.Dataset(
        {
            "wind_speed": ("time", [4.0, 4.0]),
            "wind_direction": ("time", [270.0, 270.0]),
            "stability": ("time", ["D", "D"]),
        },
        coords={"time": _T},
    )
).isel(year=0)


def rose(weights, cls, u=4.0, speed=2):
    """A table whose class `cls` (speed class `speed`, mean 1/u = 1/`u`) has `weights` on
    the 36 direction sectors, every other class none."""
    g = BASE.copy()
    fr = xr.zeros_like(g.frequency)
    fr.loc[{"speed": g.speed[speed], "stability": cls}] = np.asarray(weights, dtype=float)
    g["frequency"] = fr
    g["inverse_wind_speed"] = xr.full_like(g.inverse_wind_speed, 1.0 / u)
    g["mixing_height"] = xr.full_like(g.mixing_height, 5000.0)
    return g


def one_sector(direction, cls):
    w = np.zeros(36)
    w[direction // 10] = 1.0
    return rose(w, cls)


def own_cell(table, **kw):
    kw.setdefault("resolution", 200.0)
    kw.setdefault("radius", kw["resolution"])
    return float(annual_kernel(table, **kw).sel(dy=0, dx=0))


@pytest.mark.parametrize("cls", list("ABCDEF"))
def test_one_sector_source_cell_is_the_same_for_winds_along_each_axis(cls):
    """The probe's case: winds from 0, 90, 180 and 270 degrees, 200 m cells."""
    vals = [own_cell(one_sector(d, cls)) for d in (0, 90, 180, 270)]
    np.testing.assert_allclose(vals, vals[0], rtol=1e-12)


@pytest.mark.parametrize("sigma", ["briggs-urban", "briggs-rural", "pgt"])
@pytest.mark.parametrize("cls", list("ABCDEF"))
def test_default_source_cell_equals_the_converged_value(cls, sigma):
    """The default rule is within 0.1 % of refine=4 (converged) for one-sector roses in every
    class (in fact 1e-8), for directions on the axes, between them and on a diagonal."""
    for d in (0, 20, 40, 90, 130, 250):
        table = one_sector(d, cls)
        got = own_cell(table, resolution=100.0, sigma=sigma)
        ref = own_cell(table, resolution=100.0, sigma=sigma, refine=4)
        assert got == pytest.approx(ref, rel=1e-3), (d, got, ref)


def polar_reference(direction, cls, u=4.0, res=200.0, z=1.5, n_a=720):
    """An independent numpy integral of the source cell (the probe's): the mean over the
    cell of the point kernel at its centre, in polar coordinates about the receptor, the
    angular density of the Gaussian sector evaluated at every (bearing, distance) node."""
    from scipy.stats import norm

    width = math.radians(10.0)
    to = math.radians(direction) + math.pi  # the plume goes to
    a = (np.arange(n_a) + 0.5) / n_a * 2.0 * np.pi  # bearing receptor -> emitting point
    big = np.maximum(np.abs(np.sin(a)), np.abs(np.cos(a)))
    xg, wg = np.polynomial.legendre.leggauss(80)
    tot = 0.0
    for al, rm in zip(a, res / 2.0 / big, strict=True):
        lo, hi = math.log(rm) - 16.0, math.log(rm)
        rho = np.exp((xg + 1.0) / 2.0 * (hi - lo) + lo)
        sy, sz = dispersion_coefficients(rho, cls, sigma="briggs-urban")
        s = sy / rho
        th = al + np.pi  # bearing emitting point -> receptor
        w = (
            sum(
                norm.cdf((th + 2 * np.pi * m - to + width / 2) / s)
                - norm.cdf((th + 2 * np.pi * m - to - width / 2) / s)
                for m in (-1, 0, 1)
            )
            / width
        )
        v = 2.0 * np.exp(-(z**2) / 2.0 / sz**2)
        tot += np.sum(w * v / (np.sqrt(2 * np.pi) * sz) * rho * wg / 2.0 * (hi - lo))
    return tot * (2 * np.pi / n_a) / res**2 / u * 1e12 / SECONDS_PER_YEAR


@pytest.mark.parametrize(("direction", "cls"), [(90, "F"), (40, "E"), (180, "D")])
def test_source_cell_agrees_with_an_independent_polar_integral(direction, cls):
    got = own_cell(one_sector(direction, cls))
    assert got == pytest.approx(polar_reference(direction, cls), rel=1e-4)


@settings(max_examples=25, deadline=None)
@given(
    weights=st.lists(
        st.one_of(st.just(0.0), st.floats(0.01, 1.0)), min_size=36, max_size=36
    ).filter(lambda w: sum(w) > 0),
    cls=st.sampled_from(list("ABCDEF")),
    quarter=st.integers(1, 3),
    res=st.sampled_from([100.0, 200.0, 1000.0]),
    height=st.sampled_from([0.0, 10.0]),
    vd=st.sampled_from([0.0, 0.01]),
)
def test_a_rose_turned_by_quarter_turns_turns_the_kernel(weights, cls, quarter, res, height, vd):
    """Any rose turned by 90, 180 or 270 degrees (9, 18, 27 sectors) gives the kernel turned
    clockwise by as much, the source cell included, with release heights and deposition."""
    kw = {"resolution": res, "radius": 3 * res, "release_height": height}
    kw["deposition_velocity"] = vd
    k0 = annual_kernel(rose(weights, cls), **kw).values
    k1 = annual_kernel(rose(np.roll(weights, 9 * quarter), cls), **kw).values
    np.testing.assert_allclose(k1, np.rot90(k0, -quarter), rtol=1e-11, atol=0.0)


@settings(max_examples=50, deadline=None)
@given(
    weights=st.lists(st.floats(0.0, 1.0), min_size=4, max_size=36),
    spread=st.one_of(st.just(0.0), st.floats(0.01, 3.0)),
    t1=st.floats(-40.0, 40.0),
    length=st.floats(0.0, 12.0),
)
def test_gauss_arc_mass_is_the_integral_of_the_density(weights, spread, t1, length):
    """The closed-form weight of an arc equals the integral of gauss_position over it
    (composite Gauss-Legendre on pieces narrower than the spread), and a whole turn gives
    the rose's weight."""
    w = np.asarray(weights)
    n = w.size
    assert lt.gauss_arc_mass(t1, t1 + n, w, spread) == pytest.approx(w.sum(), rel=1e-12, abs=1e-12)
    t2 = t1 + length
    pieces = max(1, math.ceil(length / max(min(spread, 0.5), 0.05) * 2))
    x, q = np.polynomial.legendre.leggauss(12)
    edges = np.linspace(t1, t2, pieces + 1)
    if spread == 0.0:  # the flat sectors' jumps at the half-integers are breaks too
        inner = np.arange(math.ceil(t1 - 0.5), math.floor(t2 - 0.5) + 1) + 0.5
        edges = np.unique(np.concatenate([edges, inner[(inner > t1) & (inner < t2)]]))
    num = 0.0
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        mid, hw = 0.5 * (lo + hi), 0.5 * (hi - lo)
        num += hw * sum(
            qk * lt.gauss_position(mid + hw * xk, w, spread) for xk, qk in zip(x, q, strict=True)
        )
    assert lt.gauss_arc_mass(t1, t2, w, spread) == pytest.approx(num, rel=1e-9, abs=1e-12)
