"""Kernel that splits straight segments by cell: exact lengths, conservation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from trajectoire._kernels.lines import segment_cell_lengths, segment_cell_lengths_serial


# ---------------------------------------------------------------- plain-numpy reference
def clip_length(x0, y0, x1, y1, bx0, by0, bx1, by1):
    """Length of a segment inside a box, by Liang-Barsky parametric clipping."""
    dx, dy = x1 - x0, y1 - y0
    t0, t1 = 0.0, 1.0
    for p, q in ((-dx, x0 - bx0), (dx, bx1 - x0), (-dy, y0 - by0), (dy, by1 - y0)):
        if p == 0:
            if q < 0:
                return 0.0
            continue
        with np.errstate(over="ignore"):  # a tiny p gives t = +-inf: the right limit
            t = q / p
        if p < 0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
    return max(0.0, t1 - t0) * math.hypot(dx, dy)


def reference(x0, y0, x1, y1, xmin, ymax, dx, dy, nx, ny):
    """Dense (n_segments, ny * nx) lengths by clipping every segment with every cell."""
    out = np.zeros((len(x0), ny * nx))
    for s in range(len(x0)):
        for r in range(ny):
            for c in range(nx):
                out[s, r * nx + c] = clip_length(
                    x0[s],
                    y0[s],
                    x1[s],
                    y1[s],
                    xmin + c * dx,
                    ymax - (r + 1) * dy,
                    xmin + (c + 1) * dx,
                    ymax - r * dy,
                )
    return out


def dense(seg, cell, length, ns, ncell):
    out = np.zeros((ns, ncell))
    np.add.at(out, (seg, cell), length)
    return out


coord = st.floats(-5.0, 15.0, allow_nan=False, allow_infinity=False, allow_subnormal=False)
segments = st.lists(st.tuples(coord, coord, coord, coord), min_size=1, max_size=6)


def test_known_case():
    seg, cell, length = segment_cell_lengths(
        np.array([0.5]),
        np.array([0.5]),
        np.array([2.5]),
        np.array([1.7]),
        0.0,
        3.0,
        1.0,
        1.0,
        3,
        3,
    )
    assert seg.tolist() == [0, 0, 0, 0]
    assert sorted(cell.tolist()) == [4, 5, 6, 7]
    np.testing.assert_allclose(length.sum(), math.hypot(2.0, 1.2), rtol=1e-14)


def test_matches_py_func():
    args = (
        np.array([0.1, 2.0]),
        np.array([0.2, 2.9]),
        np.array([2.9, 0.3]),
        np.array([1.1, 0.1]),
        0.0,
        3.0,
        1.0,
        1.0,
        3,
        3,
    )
    for a, b in zip(segment_cell_lengths(*args), segment_cell_lengths.py_func(*args), strict=True):
        np.testing.assert_array_equal(a, b)


def test_segment_along_grid_line_counted_once():
    seg, cell, length = segment_cell_lengths(
        np.array([0.0]),
        np.array([2.0]),
        np.array([3.0]),
        np.array([2.0]),
        0.0,
        3.0,
        1.0,
        1.0,
        3,
        3,
    )
    np.testing.assert_allclose(length.sum(), 3.0)
    assert len(set(cell.tolist())) == 3


def test_degenerate_and_nan_segments_give_nothing():
    seg, _, _ = segment_cell_lengths(
        np.array([1.0, np.nan]),
        np.array([1.0, 0.0]),
        np.array([1.0, 1.0]),
        np.array([1.0, 1.0]),
        0.0,
        3.0,
        1.0,
        1.0,
        3,
        3,
    )
    assert seg.size == 0


@pytest.mark.parametrize(("dx", "dy"), [(1.0, 1.0), (2.5, 0.7)])
def test_matches_clipping_reference(dx, dy):
    rng = np.random.default_rng(0)
    n = 20
    x0, y0, x1, y1 = (rng.uniform(-3, 12, n) for _ in range(4))
    args = (x0, y0, x1, y1, 0.0, 10.0, dx, dy, 4, 5)
    got = dense(*segment_cell_lengths(*args), n, 20)
    np.testing.assert_allclose(got, reference(*args), rtol=1e-9, atol=1e-12)


@given(segments, st.floats(0.3, 3.0), st.floats(0.3, 3.0))
@example(segs=[(0.0, 0.0, 0.0, 2.2250738585072014e-308)], dx=1.0, dy=1.0)  # q / p overflowed
def test_lengths_add_up_to_clipped_length(segs, dx, dy):
    """Conservation: the pieces add up to the part of each segment inside the grid."""
    a = np.asarray(segs, dtype=float)
    nx, ny = 7, 6
    xmin, ymax = -1.0, 11.0
    seg, cell, length = segment_cell_lengths_serial(
        a[:, 0].copy(), a[:, 1].copy(), a[:, 2].copy(), a[:, 3].copy(), xmin, ymax, dx, dy, nx, ny
    )
    assert np.all(length > 0) and np.all((cell >= 0) & (cell < nx * ny))
    per_seg = np.bincount(seg, weights=length, minlength=len(a))
    expect = [clip_length(*row, xmin, ymax - ny * dy, xmin + nx * dx, ymax) for row in a]
    np.testing.assert_allclose(per_seg, expect, rtol=1e-9, atol=1e-9)


@given(segments)
def test_reversing_a_segment_changes_nothing(segs):
    a = np.asarray(segs, dtype=float)
    fwd = segment_cell_lengths_serial(
        a[:, 0].copy(), a[:, 1].copy(), a[:, 2].copy(), a[:, 3].copy(), 0.0, 10.0, 1.0, 1.0, 10, 10
    )
    bwd = segment_cell_lengths_serial(
        a[:, 2].copy(), a[:, 3].copy(), a[:, 0].copy(), a[:, 1].copy(), 0.0, 10.0, 1.0, 1.0, 10, 10
    )
    np.testing.assert_allclose(dense(*fwd, len(a), 100), dense(*bwd, len(a), 100), atol=1e-9)


def test_serial_and_parallel_agree():
    rng = np.random.default_rng(5)
    a = [rng.uniform(-2, 12, 300) for _ in range(4)]
    args = (*a, 0.0, 10.0, 0.7, 1.3, 14, 8)
    for x, y in zip(segment_cell_lengths(*args), segment_cell_lengths_serial(*args), strict=True):
        np.testing.assert_array_equal(x, y)
