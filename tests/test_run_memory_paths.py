"""The memory- and time-saving paths of issue 18 against the plain ones they replace.

* receptor adjoints transformed on the weights' support only: against a direct
  correlation (scipy.signal, an independent route), with zero margins, a support touching
  the window's edge, and exact zeros beyond the kernel's reach;
* ``sector_concentrations(..., each=)``: the same planes and total, bit for bit, as the
  ``(sector, y, x)`` array path;
* ``YearMaps.set_no2`` one plane at a time: bit for bit the formula it replaces;
* ``fft_threads``: the environment variable is read and checked, results do not depend on it;
* ``split_number_species(..., in_place=True)``: the gridded arrays reordered in their own
  memory give the same dataset (variables, order, values, attributes) as the copying path,
  as views of those arrays; the in-place permutation against ``numpy.take``;
* prepare's float32 basis made pair by pair while the reference's fields are given back
  (``basis_array(..., done=)``, ``_linear_form``): the same basis, bit for bit.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import signal

from trajectoire import Grid, InputError
from trajectoire.batch.pipeline import _linear_form
from trajectoire.concentration import DispersionSettings, YearDispersion
from trajectoire.dispersion.chemistry import sector_no2_ratio
from trajectoire.dispersion.convolution import ConvolutionPlan, fft_threads
from trajectoire.dispersion.local import Stacks, sector_concentrations
from trajectoire.io.outputs import YearMaps, _permute_in_place, split_number_species
from trajectoire.sample.synthetic import synthetic_inventory
from trajectoire.trajectory import rebuild
from trajectoire.trajectory.basis import basis_array

X0, Y0 = 650_000.0, 6_900_000.0
SETTINGS = DispersionSettings(
    radius=1000.0, release_height={"C_OtherStationaryComb": 8.0, "B_Industry": 15.0}
)
SECTORS = ["C_OtherStationaryComb", "F_RoadTransport", "B_Industry"]


def met_table() -> xr.Dataset:
    """A small synthetic frequency table of one year (south-westerly dominated)."""
    rng = np.random.default_rng(3)
    speeds = [1.5, 4.0, 8.0]
    f = rng.random((1, 8, 3, 6))
    f[:, 5] *= 4
    f /= f.sum()
    iu = np.broadcast_to(1.0 / np.array(speeds)[None, None, :, None], f.shape).copy()
    dims = ("year", "direction", "speed", "stability")
    coords = {
        "year": [2018],
        "direction": np.arange(8) * 45.0,
        "speed": speeds,
        "stability": list("ABCDEF"),
    }
    ds = xr.Dataset({"frequency": (dims, f), "inverse_wind_speed": (dims, iu)}, coords=coords)
    ds.attrs["anemometer_height"] = 10.0
    return ds


def _disp(shape=(24, 30)) -> YearDispersion:
    g = Grid.from_bounds(X0, Y0, X0 + shape[1] * 250, Y0 + shape[0] * 250, 250)
    return YearDispersion(g, met_table().sel(year=2018), SETTINGS, [1.0, 8.0, 15.0])


DISP = _disp()


@settings(max_examples=25, deadline=None)
@given(
    r0=st.integers(0, 10),
    c0=st.integers(0, 10),
    h=st.integers(1, 8),
    w_=st.integers(1, 8),
    seed=st.integers(0, 2**16),
)
def test_adjoints_on_the_support_match_direct_correlation(r0, c0, h, w_, seed):
    wy, wx = 20, 22  # the window; the weights are non-zero on a sub-rectangle of it
    rng = np.random.default_rng(seed)
    w = np.zeros((2, wy, wx))
    w[:, r0 : r0 + h, c0 : c0 + w_] = rng.random((2, min(h, wy - r0), min(w_, wx - c0)))
    heights = [1.0, 15.0]
    a = DISP.adjoints(w, heights)
    m = DISP.half
    for i in range(2):
        for j, hh in enumerate(heights):
            ref = signal.correlate2d(w[i], DISP.kernels[hh], mode="same")
            np.testing.assert_allclose(a[i, j], ref, rtol=1e-9, atol=1e-12 * ref.max())
    # exactly 0 beyond the kernel's reach of the support
    reach = np.zeros((wy, wx), dtype=bool)
    reach[max(0, r0 - m) : r0 + h + m, max(0, c0 - m) : c0 + w_ + m] = True
    assert np.all(a[..., ~reach] == 0.0)


def test_adjoints_of_zero_weights_are_zero():
    assert not DISP.adjoints(np.zeros((2, 6, 7)), [1.0]).any()


def test_adjoints_are_linear_in_the_weights():
    rng = np.random.default_rng(4)
    w1, w2 = rng.random((9, 11)), rng.random((9, 11))
    a = DISP.adjoints(np.stack([w1, w2, 2.0 * w1 + 3.0 * w2]), [8.0])
    np.testing.assert_allclose(a[2], 2.0 * a[0] + 3.0 * a[1], rtol=1e-12, atol=1e-15)


def _stacks(shape):
    rng = np.random.default_rng(7)
    fps = []
    for r, c in ((3, 4), (10, 12), (15, 20)):
        rs, cs = slice(r, min(shape[0], r + 6)), slice(c, min(shape[1], c + 5))
        fps.append((rs, cs, rng.random((rs.stop - rs.start, cs.stop - cs.start))))
    return Stacks(fps, [0, 2, 0], [0, 1, 0])


def test_sector_concentrations_one_plane_at_a_time_is_bit_identical():
    rng = np.random.default_rng(5)
    e = (rng.random((3, *DISP.grid.shape)) * (rng.random((3, *DISP.grid.shape)) < 0.4)).astype(
        np.float32
    )
    e[1] = 0.0  # a sector that emits nothing
    stacks = _stacks(DISP.grid.shape)
    q = np.array([2.0, 0.5, 0.0])
    by_sector, total = sector_concentrations(DISP, e, q, stacks, SECTORS)
    got = np.empty_like(by_sector)

    def keep(i, plane):
        got[i] = plane

    none, total2 = sector_concentrations(DISP, e, q, stacks, SECTORS, each=keep)
    assert none is None
    assert np.array_equal(got, by_sector)
    assert np.array_equal(total2, total)


def test_set_no2_one_plane_at_a_time_is_the_formula():
    rng = np.random.default_rng(6)
    shape = (13, 17)
    mask = rng.random(shape) < 0.6
    maps = YearMaps(3, 2, mask, with_contribution=True)
    total = rng.random(shape) * 30
    ratio = rng.random(shape)
    nox = rng.random((3, *shape)) * 10
    shares = np.array([0.1, 0.0, 0.35])
    maps.set_no2(1, total, ratio, nox, shares)
    want = np.where(mask, nox * sector_no2_ratio(shares, ratio), np.nan).astype(np.float32)
    assert np.array_equal(maps.contribution[0, :, 1], want, equal_nan=True)
    conc = np.where(mask, total, np.nan).astype(np.float32)
    assert np.array_equal(maps.concentration[0, 1], conc, equal_nan=True)


def test_fft_threads_env(monkeypatch):
    monkeypatch.delenv("TRAJECTOIRE_FFT_THREADS", raising=False)
    assert fft_threads() == -1
    field = np.random.default_rng(8).random((30, 40))
    kern = np.random.default_rng(9).random((7, 9))
    ref = ConvolutionPlan(field.shape, kern.shape).convolve(field, kern)
    monkeypatch.setenv("TRAJECTOIRE_FFT_THREADS", "1")
    assert fft_threads() == 1
    plan = ConvolutionPlan(field.shape, kern.shape)
    assert plan.workers == 1
    assert np.array_equal(plan.convolve(field, kern), ref)
    for bad in ("0", "-3", "two"):
        monkeypatch.setenv("TRAJECTOIRE_FFT_THREADS", bad)
        with pytest.raises(InputError, match="TRAJECTOIRE_FFT_THREADS"):
            fft_threads()


@settings(max_examples=60, deadline=None)
@given(
    order=st.integers(1, 7).flatmap(lambda n: st.permutations(list(range(n)))),
    axis=st.integers(0, 2),
)
def test_permute_in_place_is_take(order, axis):
    shape = [3, 4, 5]
    shape[axis] = len(order)
    data = np.random.default_rng(len(order)).random(shape)
    expected = np.take(data, order, axis=axis)
    _permute_in_place(data, axis, list(order))
    assert np.array_equal(data, expected)


def _year_like(pollutants: list[str]) -> xr.Dataset:
    """A year's dataset in miniature: gridded maps, a territory aggregate, a scalar."""
    rng = np.random.default_rng(5)
    n_p, shape = len(pollutants), (4, 5)
    grid = {"year": [2020], "pollutant": pollutants, "y": np.arange(4.0), "x": np.arange(5.0)}
    emission = rng.random((1, 2, n_p, *shape)).astype(np.float32)
    emission[0, 0, 1, 0, 0] = np.nan
    return xr.Dataset(
        {
            "emission": (("year", "sector", "pollutant", "y", "x"), emission, {"units": "t yr-1"}),
            "concentration": (
                ("year", "pollutant", "y", "x"),
                rng.random((1, n_p, *shape)).astype(np.float32),
                {"units": "ug m-3", "long_name": "concentration"},
            ),
            "territory_concentration": (
                ("year", "territory", "pollutant"),
                rng.random((1, 3, n_p)),
                {"units": "ug m-3"},
            ),
            "calm": (("year",), [0.1]),
        },
        coords={**grid, "sector": ["A", "B"], "territory": ["t1", "t2", "t3"]},
    )


@pytest.mark.parametrize("numbers", [["UFP"], ["UFP", "N2"], ["NOx"], []])
def test_split_in_place_is_the_copying_split(numbers):
    pollutants = ["NOx", "PM10", "UFP", "PFOA", "N2", "NO2"]
    expected = split_number_species(_year_like(pollutants), numbers)
    ds = _year_like(pollutants)
    buffer = ds["emission"].data
    got = split_number_species(ds, numbers, in_place=True)
    assert list(got.variables) == list(expected.variables)
    xr.testing.assert_identical(got, expected)
    if numbers:  # views of the dataset's own arrays, not copies
        assert np.shares_memory(got["emission"].data, buffer)
        assert np.shares_memory(got["emission_number"].data, buffer)


def test_basis_array_skips_empty_fields_bit_for_bit():
    rng = np.random.default_rng(7)
    values = rng.random((2, 3, 4, 5, 6))  # (basis, pollutant, sector, y, x) float64
    values[0, 1, 2] = 0.0  # a field nothing emits: not written
    values[1, 0, 3] = -0.0  # kept: -0 is not +0 bit for bit
    values[1, 2, 1] = 0.0
    values[1, 2, 1, 0, 0] = np.nan
    da = xr.DataArray(values, dims=("basis", "pollutant", "sector", "y", "x"))
    got = basis_array(da.transpose("basis", "sector", "pollutant", "y", "x"))
    expected = values.astype(np.float32)
    assert got.dtype == np.float32
    assert got.tobytes() == expected.tobytes()


def _proxy_trajectory():
    """A trajectory with several basis fields per (sector, pollutant): the reference and the
    knots of a spatial proxy of one sector (1990, 2000, 2010), all read from the reference's
    fields."""
    grid = Grid.from_bounds(700_000, 7_050_000, 700_600, 7_050_400, 100)
    sectors, pols = ["A_PublicPower", "F_RoadTransport"], ["NOx", "PM10"]
    ref = synthetic_inventory(
        grid, sectors=sectors, pollutants=pols, reference_year=2010, n_sources=0, seed=5
    )
    rows = [
        (s, p, y, 1.0 + 0.01 * (y - 1990)) for s in sectors for p in pols for y in range(1985, 2026)
    ]
    idx = pd.DataFrame(rows, columns=["sector", "pollutant", "year", "value"])
    knots = np.random.default_rng(8).uniform(0.5, 2.0, (3, *grid.shape))
    proxy = xr.DataArray(
        knots, dims=("year", "y", "x"), coords={"year": [1990, 2000, 2010], **grid.coords()}
    )
    return ref, lambda r: rebuild(r, idx, range(1985, 2011), proxies={"F": proxy})


def test_basis_array_calls_done_once_per_pair_after_its_fields():
    """``done(pollutant, sector)`` comes once per pair, once all its basis fields are made:
    zeroing the pair's reference field then changes nothing (the run gives its pages back)."""
    ref, make = _proxy_trajectory()
    expected = basis_array(make(ref.copy(deep=True))["basis_emission"])
    assert expected.shape[0] > 1  # the proxy's knots read the same reference fields
    em = ref["emission"]
    calls: list[tuple[str, str]] = []

    def done(pollutant, sector):
        calls.append((pollutant, sector))
        em.loc[{"sector": sector, "pollutant": pollutant}] = 0.0  # never read again

    got = basis_array(make(ref)["basis_emission"], done=done)
    assert got.tobytes() == expected.tobytes()
    pairs = [(str(p), str(s)) for p in em["pollutant"].values for s in em["sector"].values]
    assert calls == pairs
    assert not em.values.any()


def test_linear_form_gives_the_reference_pages_back_bit_for_bit():
    """prepare's ``_linear_form`` with the run's reference: the same basis, weights, small
    variables and stacks' series as without it, and the reference's fields released."""
    grid = Grid.from_bounds(650_000, 6_900_000, 714_000, 6_932_000, 100, crs="EPSG:2154")
    ref = synthetic_inventory(
        grid, sectors=["A_PublicPower"], pollutants=["NOx", "PM10"], reference_year=2010, seed=2
    )
    ref["emission"] = ref["emission"] + 1.0  # every cell written: every page mapped
    idx = pd.DataFrame(
        [
            ("A_PublicPower", p, y, 1.0 + 0.02 * (y - 1990))
            for p in ("NOx", "PM10")
            for y in range(1985, 2026)
        ],
        columns=["sector", "pollutant", "year", "value"],
    )
    plain = _linear_form(rebuild(ref.copy(deep=True), idx, range(2005, 2011)))
    got = _linear_form(rebuild(ref, idx, range(2005, 2011)), ref)
    assert got[0].tobytes() == plain[0].tobytes()
    for a, b in zip(got[1:], plain[1:], strict=True):
        xr.testing.assert_identical(a, b)
    if sys.platform.startswith("linux"):  # MADV_DONTNEED: the whole pages read 0 afterwards
        values = ref["emission"].values
        kept = np.count_nonzero(values, axis=(-2, -1))  # the partial pages at a field's ends
        assert (kept <= 2 * 4096 // 8).all() and kept.sum() < values.size // 100
