"""Kernels of the exact separable regridding: 1-D overlaps and weight application."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from trajectoire._kernels.regrid import apply_csr, apply_separable, overlap_1d


# ---------------------------------------------------------------- plain-numpy references
def overlap_1d_reference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Dense (n, m) matrix of interval overlap lengths, by brute force."""
    lo = np.maximum(a[:-1, None], b[None, :-1])
    hi = np.minimum(a[1:, None], b[None, 1:])
    return np.clip(hi - lo, 0.0, None)


def dense_from_coo(src, dst, w, n, m):
    out = np.zeros((n, m))
    np.add.at(out, (src, dst), w)
    return out


def csr_by_dst(src, dst, w, m):
    order = np.lexsort((src, dst))
    ptr = np.concatenate([[0], np.cumsum(np.bincount(dst, minlength=m))]).astype(np.int64)
    return ptr, src[order].astype(np.int64), w[order]


edges = (
    st.lists(st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False), min_size=2, max_size=25)
    .map(lambda v: np.unique(np.round(np.asarray(v), 6)))
    .filter(lambda e: e.size >= 2)
)


# ---------------------------------------------------------------- overlap_1d
def test_overlap_1d_known_case():
    src, dst, length = overlap_1d(np.arange(4.0), np.array([0.5, 1.7, 3.5]))
    assert src.tolist() == [0, 1, 1, 2]
    assert dst.tolist() == [0, 0, 1, 1]
    np.testing.assert_allclose(length, [0.5, 0.7, 0.3, 1.0])


def test_overlap_1d_matches_py_func():
    a = np.array([0.0, 0.3, 1.0, 2.5])
    b = np.array([-1.0, 0.5, 0.9, 3.0])
    for x, y in zip(overlap_1d(a, b), overlap_1d.py_func(a, b), strict=True):
        np.testing.assert_array_equal(x, y)


def test_overlap_1d_disjoint_is_empty():
    src, _, _ = overlap_1d(np.array([0.0, 1.0]), np.array([2.0, 3.0]))
    assert src.size == 0


@given(edges, edges)
def test_overlap_1d_matches_reference(a, b):
    src, dst, length = overlap_1d(a, b)
    ref = overlap_1d_reference(a, b)
    got = dense_from_coo(src, dst, length, a.size - 1, b.size - 1)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-9)
    assert np.all(length > 0)


@given(edges, st.floats(0.1, 10.0), st.integers(1, 30))
def test_overlap_1d_conserves_length(a, step, n):
    """Every source interval is fully shared out when the target covers it."""
    b = np.linspace(a[0] - step, a[-1] + step, n + 1)
    src, _, length = overlap_1d(a, b)
    per_src = np.bincount(src, weights=length, minlength=a.size - 1)
    np.testing.assert_allclose(per_src, np.diff(a), rtol=1e-12, atol=1e-9)


# ---------------------------------------------------------------- apply_separable
def _random_separable(rng, ny_s, nx_s, ny_t, nx_t):
    ey_s = np.sort(rng.uniform(0, 10, ny_s + 1))
    ex_s = np.sort(rng.uniform(0, 10, nx_s + 1))
    ey_t = np.linspace(-1, 11, ny_t + 1)
    ex_t = np.linspace(-1, 11, nx_t + 1)
    ys, yd, yl = overlap_1d(ey_s, ey_t)
    xs, xd, xl = overlap_1d(ex_s, ex_t)
    return (ys, yd, yl), (xs, xd, xl)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_apply_separable_matches_dense_kronecker(seed):
    rng = np.random.default_rng(seed)
    ny_s, nx_s, ny_t, nx_t = 5, 7, 4, 9
    (ys, yd, yl), (xs, xd, xl) = _random_separable(rng, ny_s, nx_s, ny_t, nx_t)
    fields = rng.random((3, ny_s, nx_s))
    wy = dense_from_coo(yd, ys, yl, ny_t, ny_s)
    wx = dense_from_coo(xd, xs, xl, nx_t, nx_s)
    ref = np.einsum("ki,lj,fij->fkl", wy, wx, fields)
    out = np.empty((3, ny_t, nx_t))
    apply_separable(fields, *csr_by_dst(ys, yd, yl, ny_t), *csr_by_dst(xs, xd, xl, nx_t), out)
    np.testing.assert_allclose(out, ref, rtol=1e-13, atol=1e-13)


@given(
    st.integers(1, 6), st.integers(1, 6), st.integers(1, 8), st.integers(1, 8), st.integers(0, 99)
)
def test_apply_separable_is_linear_and_conserves(ny_s, nx_s, ny_t, nx_t, seed):
    rng = np.random.default_rng(seed)
    (ys, yd, yl), (xs, xd, xl) = _random_separable(rng, ny_s, nx_s, ny_t, nx_t)
    # normalise to fractions of each source interval: then sums are conserved
    yw = yl / np.bincount(ys, weights=yl, minlength=ny_s)[ys]
    xw = xl / np.bincount(xs, weights=xl, minlength=nx_s)[xs]
    yc = csr_by_dst(ys, yd, yw, ny_t)
    xc = csr_by_dst(xs, xd, xw, nx_t)
    f = rng.random((2, ny_s, nx_s))
    out = apply_separable(f, *yc, *xc, np.empty((2, ny_t, nx_t)))
    np.testing.assert_allclose(out.sum(axis=(1, 2)), f.sum(axis=(1, 2)), rtol=1e-12)
    both = apply_separable(
        np.ascontiguousarray(2.0 * f[:1] + f[1:]), *yc, *xc, np.empty((1, ny_t, nx_t))
    )
    np.testing.assert_allclose(both[0], 2.0 * out[0] + out[1], rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------- apply_csr
def test_apply_csr_matches_dense():
    rng = np.random.default_rng(3)
    dense = rng.random((6, 10)) * (rng.random((6, 10)) < 0.4)
    ptr = np.concatenate([[0], np.cumsum((dense != 0).sum(1))]).astype(np.int64)
    rows, cols = np.nonzero(dense)
    fields = rng.random((4, 10))
    out = np.empty((4, 6))
    apply_csr(fields, ptr, cols.astype(np.int64), dense[rows, cols], out)
    np.testing.assert_allclose(out, fields @ dense.T, rtol=1e-13)
