""":func:`trajectoire._kernels.planes.planes_sum` against numpy, bit for bit."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from trajectoire._kernels.planes import planes_sum


def numpy_sum(planes, sel, weights=None):
    """The sum as the run formed it before: a float64 field of +0, each plane added in turn."""
    field = np.zeros(planes.shape[1:])
    for k in sel:
        field += planes[k] if weights is None else planes[k] * weights[k]
    return field


def bits(a):
    return np.ascontiguousarray(a).view(np.uint64)


def assert_same(got, want):
    """The same bits cell by cell (signed zeros included), NaN where numpy has NaN.

    A NaN's payload and sign are not compared: when both operands of an add are NaN,
    numpy's own result depends on its loop (the length of the array and the cell's place
    in it: for ``f += x`` with ``f`` the negative and ``x`` the positive quiet NaN, numpy
    2.4 returns ``x``'s for 1 cell, ``f``'s for 2 to 8 and 16, both within 12), and so does
    a compiled kernel's. The run's planes hold no NaN (its inputs refuse them)."""
    got, want = np.ascontiguousarray(got), np.ascontiguousarray(want)
    nan_got, nan_want = np.isnan(got), np.isnan(want)
    np.testing.assert_array_equal(nan_got, nan_want)
    uint = np.uint64 if got.dtype == np.float64 else np.uint32
    np.testing.assert_array_equal(got.view(uint)[~nan_got], want.view(uint)[~nan_want])


@settings(max_examples=150, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(1, 6),
    shape=st.tuples(st.integers(1, 9), st.integers(1, 40)),
    dtype=st.sampled_from([np.float32, np.float64]),
    wdtype=st.sampled_from([None, np.float32, np.float64]),
    specials=st.booleans(),
)
def test_planes_sum_is_numpy_bit_for_bit(seed, n, shape, dtype, wdtype, specials):
    """Any planes (signed zeros, cancelling values, tiny and huge ones, NaN and infinities),
    any selection order with repeats, weights of either type: the same bits as numpy (NaN
    where numpy has NaN: :func:`assert_same`)."""
    planes, sel, weights = _draw(seed, n, shape, dtype, wdtype, specials)
    out = np.full(shape, np.nan)
    with np.errstate(invalid="ignore", over="ignore"):
        want = numpy_sum(planes, sel, weights)
        nonzero = planes_sum(planes, sel, weights, out)
        assert nonzero == bool(want.any())
        # into float32 (a single-precision FFT's padded array, strided): the float64 sum
        # rounded as numpy converts it
        padded = np.full((shape[0] + 2, shape[1] + 3), np.float32(7.0))
        corner = padded[: shape[0], : shape[1]]
        assert planes_sum(planes, sel, weights, corner) == nonzero
        want32 = np.asarray(want, dtype=np.float32)
    assert out.dtype == np.float64
    assert_same(out, want)
    assert_same(corner, want32)
    assert (padded[shape[0] :] == 7.0).all() and (padded[:, shape[1] :] == 7.0).all()


def _draw(seed, n, shape, dtype, wdtype, specials):
    """Planes, a selection and weights of one draw of the property above."""
    rng = np.random.default_rng(seed)
    planes = rng.standard_normal((n, *shape)) * 10.0 ** rng.integers(-30, 30, (n, *shape))
    planes = planes.astype(dtype)
    planes[rng.random(planes.shape) < 0.3] = 0.0
    planes[rng.random(planes.shape) < 0.1] = -0.0
    if n > 1:  # exact cancellation between two planes: +0, never -0
        planes[1, 0] = -planes[0, 0]
    if specials:
        flat = planes.reshape(-1)
        flat[rng.integers(0, flat.size, 3)] = [np.nan, np.inf, -np.inf]
    sel = rng.integers(0, n, rng.integers(0, 2 * n + 1)).astype(np.int64)
    weights = None if wdtype is None else rng.uniform(-2.0, 2.0, n).astype(wdtype)
    if weights is not None:
        weights[rng.random(n) < 0.3] = 0.0
    return planes, sel, weights


def test_the_nan_cases_that_numpy_itself_resolves_both_ways():
    """Two draws of the property above (seeds 0 and 1007) where a NaN sum meets a NaN
    plane: numpy kept the sum's NaN in one and the plane's in the other; the kernel's
    cells are NaN in both, and every other cell is numpy's, bit for bit."""
    for seed, n, shape, wdtype in ((0, 6, (2, 6), np.float32), (1007, 5, (1, 1), None)):
        planes, sel, weights = _draw(seed, n, shape, np.float32, wdtype, True)
        out = np.empty(shape)
        with np.errstate(invalid="ignore", over="ignore"):
            want = numpy_sum(planes, sel, weights)
            planes_sum(planes, sel, weights, out)
        assert np.isnan(want).any()
        assert_same(out, want)


def test_planes_sum_of_nothing_is_positive_zero():
    planes = np.full((2, 3, 4), -0.0, dtype=np.float32)
    out = np.full((3, 4), np.nan)
    planes_sum(planes, np.zeros(0, dtype=np.int64), None, out)
    assert (bits(out) == 0).all()
    planes_sum(planes, np.array([0, 1]), None, out)
    assert (bits(out) == 0).all()  # +0 + -0 = +0


def test_planes_sum_reads_strided_planes():
    """A view (a pollutant's planes of a larger stack) gives the same as a copy."""
    rng = np.random.default_rng(0)
    big = rng.random((5, 2, 7, 9)).astype(np.float32)
    view = big[:, 1]
    out_v, out_c = np.empty((7, 9)), np.empty((7, 9))
    planes_sum(view, np.array([4, 0, 2]), None, out_v)
    planes_sum(np.ascontiguousarray(view), np.array([4, 0, 2]), None, out_c)
    np.testing.assert_array_equal(out_v, out_c)
    np.testing.assert_array_equal(out_v, numpy_sum(view, [4, 0, 2]))


def _maps_written(maps, n_s):
    """What a YearMaps writes of its contribution planes, and which planes it holds."""
    held = sorted(maps._contribution)
    planes = np.asarray(maps.written_contribution().compute(scheduler="synchronous"))
    return held, planes.view(np.uint32)


@settings(max_examples=150, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    shape=st.tuples(st.integers(1, 9), st.integers(1, 13)),
    dtype=st.sampled_from([np.float32, np.float64]),
    kind=st.sampled_from(["values", "zeros", "negative zeros", "tiny", "nan inside", "nan beyond"]),
    share=st.floats(0.0, 1.0),
)
def test_a_contribution_plane_is_kept_as_numpy_blanks_it(seed, shape, dtype, kind, share):
    """YearMaps.set_contribution_plane's one pass (masked_inside) keeps the bits of the
    blanking multiplication and the same planes, constant or held, as numpy's path: signed
    zeros, values that are 0 in float32, NaN inside or beyond the mask, any mask."""
    from trajectoire.io import outputs

    rng = np.random.default_rng(seed)
    mask = rng.random(shape) < share
    plane = (rng.standard_normal(shape) * 10.0 ** rng.integers(-3, 3, shape)).astype(dtype)
    if kind == "zeros":
        plane[:] = 0.0
        plane[~mask] = rng.standard_normal(int((~mask).sum()))  # beyond: anything finite
    elif kind == "negative zeros":
        plane[:] = 0.0
        plane[rng.random(shape) < 0.5] = -0.0
    elif kind == "tiny":
        plane[:] = 1e-50 if dtype == np.float64 else 0.0  # 0 once in float32
    elif kind == "nan inside":
        plane[mask & (rng.random(shape) < 0.5)] = np.nan
        plane[rng.random(shape) < 0.2] = np.inf
    elif kind == "nan beyond":
        plane[~mask & (rng.random(shape) < 0.5)] = -np.nan
    n_s = 3
    fused = outputs.YearMaps(n_s, 1, mask, with_contribution=True)
    former = outputs.YearMaps(n_s, 1, mask, with_contribution=True)
    with np.errstate(invalid="ignore"):
        for s, p in enumerate([plane, np.zeros(shape, dtype=dtype), -plane]):
            fused.set_contribution_plane(0, s, p)
            # the former path: numpy's multiplication and bit tests
            masked = np.empty(shape, dtype=np.float32)
            np.multiply(p, former._keep, out=masked, casting="same_kind")
            former._keep_plane(former._contribution, (s, 0), masked)
    held_f, bits_f = _maps_written(fused, n_s)
    held_o, bits_o = _maps_written(former, n_s)
    assert held_f == held_o
    np.testing.assert_array_equal(bits_f, bits_o)
