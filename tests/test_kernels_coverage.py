"""Kernel of the exact polygon coverage (``_kernels/coverage.py``) against plain references.

The reference clips every ring against every cell (Sutherland-Hodgman, one half-plane at a
time) and takes the signed shoelace area of what is left. Clipping a closed curve to a
half-plane keeps the winding number of every point inside it, so the clipped signed area is
the integral of the winding number over the cell: exact for any closed ring, simple or not,
and additive over rings (exteriors counter-clockwise, holes clockwise). The kernel integrates
the same quantity by Green's theorem, so the two agree to round-off on every input. Shapely's
polygon intersection, a third implementation, checks valid polygons with holes.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from hypothesis import example, given
from hypothesis import strategies as st

from trajectoire._kernels import coverage
from trajectoire._kernels.coverage import polygon_coverage

ATOL = 1e-12  # cell units; the coordinates below are at most ~10 cells


# ---------------------------------------------------------------- plain references
def shoelace(u: np.ndarray, v: np.ndarray) -> float:
    """Signed area of a closed ring (last vertex equal to the first) [cell units]."""
    return 0.5 * float(np.sum(u[:-1] * v[1:] - u[1:] * v[:-1]))


def _clip_half_plane(pts: list[tuple[float, float]], axis: int, bound: float, keep_below: bool):
    """Sutherland-Hodgman: the part of a closed polyline on one side of ``p[axis] = bound``."""
    out: list[tuple[float, float]] = []
    n = len(pts)
    for k in range(n):
        p, q = pts[k], pts[(k + 1) % n]
        p_in = p[axis] <= bound if keep_below else p[axis] >= bound
        q_in = q[axis] <= bound if keep_below else q[axis] >= bound
        if p_in:
            out.append(p)
        if p_in != q_in:
            t = (bound - p[axis]) / (q[axis] - p[axis])
            cut = (p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1]))
            cut = (bound, cut[1]) if axis == 0 else (cut[0], bound)
            out.append(cut)
    return out


def ring_in_cell(u: np.ndarray, v: np.ndarray, i: int, j: int) -> float:
    """Signed area of ring ``(u, v)`` inside cell ``[i, i+1] x [j, j+1]``."""
    pts = list(zip(u[:-1].tolist(), v[:-1].tolist(), strict=True))
    for axis, bound, below in ((0, i, False), (0, i + 1, True), (1, j, False), (1, j + 1, True)):
        pts = _clip_half_plane(pts, axis, bound, below)
        if not pts:
            return 0.0
    arr = np.array([*pts, pts[0]])
    return shoelace(arr[:, 0], arr[:, 1])


def coverage_reference(rings: list[np.ndarray], ny: int, nx: int) -> np.ndarray:
    """``(ny, nx)`` area of the rings in each cell, row 0 at the bottom, by clipping."""
    out = np.zeros((ny, nx))
    for ring in rings:
        u, v = ring[:, 0], ring[:, 1]
        j0, j1 = max(0, math.floor(v.min())), min(ny, math.ceil(v.max()))
        i0, i1 = max(0, math.floor(u.min())), min(nx, math.ceil(u.max()))
        for j in range(j0, j1):
            for i in range(i0, i1):
                out[j, i] += ring_in_cell(u, v, i, j)
    return out


def run_kernel(rings: list[np.ndarray], ny: int, nx: int, kernel=polygon_coverage) -> np.ndarray:
    """Call the kernel on rings given as ``(n, 2)`` closed arrays of (u, v)."""
    uv = np.concatenate(rings)
    starts = np.concatenate([[0], np.cumsum([len(r) for r in rings])]).astype(np.int64)
    return kernel(np.ascontiguousarray(uv[:, 0]), np.ascontiguousarray(uv[:, 1]), starts, ny, nx)


def closed(*pts: tuple[float, float]) -> np.ndarray:
    return np.array([*pts, pts[0]], dtype=float)


def box(u0: float, v0: float, u1: float, v1: float, *, clockwise: bool = False) -> np.ndarray:
    ring = closed((u0, v0), (u1, v0), (u1, v1), (u0, v1))
    return ring[::-1].copy() if clockwise else ring


def overlap_1d(lo: float, hi: float, n: int) -> np.ndarray:
    """Length of ``[lo, hi]`` inside each unit interval ``[k, k+1]``, k < n."""
    k = np.arange(n)
    return np.clip(np.minimum(hi, k + 1) - np.maximum(lo, k), 0.0, None)


def cells_of_shapely(poly: shapely.Polygon, ny: int, nx: int) -> np.ndarray:
    out = np.zeros((ny, nx))
    for j in range(ny):
        for i in range(nx):
            out[j, i] = poly.intersection(shapely.box(i, j, i + 1, j + 1)).area
    return out


# ---------------------------------------------------------------- closed forms
def test_box_aligned_with_cells_covers_them_exactly():
    got = run_kernel([box(1, 1, 3, 2)], 3, 4)
    want = np.zeros((3, 4))
    want[1, 1:3] = 1.0
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize(
    "bounds", [(0.5, 0.25, 2.25, 1.75), (0.1, 0.1, 0.2, 0.3), (1.3, 0.0, 3.7, 2.999)]
)
def test_box_across_cells_is_separable_product(bounds):
    """An axis-aligned box covers cell (j, i) by ``overlap_v(j) * overlap_u(i)``."""
    u0, v0, u1, v1 = bounds
    got = run_kernel([box(*bounds)], 3, 4)
    want = np.outer(overlap_1d(v0, v1, 3), overlap_1d(u0, u1, 4))
    np.testing.assert_allclose(got, want, rtol=0, atol=ATOL)


def test_rotated_square_halves_four_cells():
    diamond = closed((2, 1), (3, 2), (2, 3), (1, 2))
    got = run_kernel([diamond], 4, 4)
    want = np.zeros((4, 4))
    want[1:3, 1:3] = 0.5
    np.testing.assert_allclose(got, want, rtol=0, atol=ATOL)


def test_triangle():
    """Right triangle (0,0) (2,0) (0,2): one full cell, two halves, one empty."""
    got = run_kernel([closed((0, 0), (2, 0), (0, 2))], 2, 2)
    np.testing.assert_allclose(got, [[1.0, 0.5], [0.5, 0.0]], rtol=0, atol=ATOL)


def test_thin_triangle_inside_one_cell():
    tri = closed((0.1, 0.2), (0.9, 0.25), (0.3, 0.7))
    got = run_kernel([tri], 2, 2)
    assert got[0, 0] == pytest.approx(shoelace(tri[:, 0], tri[:, 1]), abs=ATOL)
    assert np.count_nonzero(got) == 1


def test_polygon_with_aligned_hole():
    got = run_kernel([box(0, 0, 4, 4), box(1, 1, 3, 3, clockwise=True)], 4, 4)
    want = np.ones((4, 4))
    want[1:3, 1:3] = 0.0
    np.testing.assert_array_equal(got, want)


def test_polygon_with_hole_across_cells():
    got = run_kernel([box(0, 0, 3, 3), box(0.5, 0.5, 1.5, 2.0, clockwise=True)], 3, 3)
    want = np.ones((3, 3)) - np.outer(overlap_1d(0.5, 2.0, 3), overlap_1d(0.5, 1.5, 3))
    np.testing.assert_allclose(got, want, rtol=0, atol=ATOL)
    assert got.sum() == pytest.approx(9.0 - 1.5, abs=ATOL)


def test_parts_outside_the_window_are_left_out():
    """A box larger than the window covers every cell once; one above it covers nothing."""
    np.testing.assert_allclose(run_kernel([box(-2, -1, 6, 9)], 3, 4), np.ones((3, 4)), atol=ATOL)
    assert not run_kernel([box(0, 3.5, 4, 5)], 3, 4).any()
    assert not run_kernel([box(-3, 0, -1, 3)], 3, 4).any()
    half_out = run_kernel([box(-1.5, 0.5, 1.5, 4.5)], 3, 4)  # crosses left and top edges
    want = np.outer(overlap_1d(0.5, 4.5, 3), overlap_1d(-1.5, 1.5, 4))
    np.testing.assert_allclose(half_out, want, rtol=0, atol=ATOL)


def test_orientation_gives_the_sign():
    tri = closed((0.2, 0.2), (2.5, 0.4), (1.0, 1.8))
    ccw = run_kernel([tri], 2, 3)
    cw = run_kernel([tri[::-1].copy()], 2, 3)
    np.testing.assert_allclose(cw, -ccw, rtol=0, atol=ATOL)
    assert (ccw >= -ATOL).all() and (ccw <= 1 + ATOL).all()


def test_degenerate_rings_cover_nothing():
    flat = closed((0.5, 0.5), (2.5, 0.5), (1.5, 0.5))  # zero area, along a row
    vertical = closed((1.0, 0.0), (1.0, 2.0))  # along a grid line, back and forth
    point = closed((1.0, 1.0))
    for ring in (flat, vertical, point):
        np.testing.assert_allclose(run_kernel([ring], 3, 3), 0.0, atol=ATOL)


# ---------------------------------------------------------------- random rings
coord = st.one_of(
    st.floats(-1.5, 7.5, allow_nan=False, allow_infinity=False),
    st.integers(-1, 7).map(float),  # vertices on grid lines and corners
    st.integers(-2, 15).map(lambda k: k / 2.0),
)
rings = st.lists(st.tuples(coord, coord), min_size=1, max_size=9).map(lambda p: closed(*p))


@given(st.lists(rings, min_size=1, max_size=3), st.integers(1, 6), st.integers(1, 6))
@example([closed((0.0, 0.0), (1.0, 0.0), (1.0, 1.0))], 1, 1)  # edges along the window
@example([closed((2.0, 2.0), (0.0, 0.0), (0.5, 1.5))], 3, 3)  # through a corner
def test_matches_clipping_reference_on_any_rings(ring_list, ny, nx):
    """Any closed rings, self-intersecting included: the winding-number area of each cell."""
    got = run_kernel(ring_list, ny, nx)
    want = coverage_reference(ring_list, ny, nx)
    np.testing.assert_allclose(got, want, rtol=0, atol=ATOL)


@given(rings, rings, st.integers(1, 5), st.integers(1, 5))
def test_additive_over_rings(a, b, ny, nx):
    both = run_kernel([a, b], ny, nx)
    np.testing.assert_allclose(both, run_kernel([a], ny, nx) + run_kernel([b], ny, nx), atol=ATOL)


@st.composite
def star_polygons(draw):
    """A simple polygon star-shaped around its centre, and a hole scaled from it (or none)."""
    n = draw(st.integers(3, 12))
    # angle gaps below pi: the centre sees every vertex, so the polygon is simple and the
    # copy scaled down around the centre lies strictly inside it
    gaps = np.array(draw(st.lists(st.floats(1.0, 1.9), min_size=n, max_size=n)))
    angles = draw(st.floats(0, 2 * np.pi)) + np.cumsum(gaps) * 2 * np.pi / gaps.sum()
    radii = np.array(draw(st.lists(st.floats(0.2, 3.0), min_size=n, max_size=n)))
    cu, cv = draw(st.floats(0.0, 6.0)), draw(st.floats(0.0, 5.0))
    ext = closed(*zip(cu + radii * np.cos(angles), cv + radii * np.sin(angles), strict=True))
    scale = draw(st.one_of(st.none(), st.floats(0.1, 0.9)))
    if scale is None:
        return [ext]
    hole = np.column_stack([cu + scale * (ext[:, 0] - cu), cv + scale * (ext[:, 1] - cv)])
    return [ext, hole[::-1].copy()]


@given(star_polygons(), st.integers(1, 6), st.integers(1, 6))
def test_matches_shapely_intersection(rings_, ny, nx):
    poly = shapely.Polygon(rings_[0], holes=rings_[1:])
    assert poly.is_valid
    got = run_kernel(rings_, ny, nx)
    np.testing.assert_allclose(got, cells_of_shapely(poly, ny, nx), rtol=0, atol=ATOL)


@given(star_polygons(), st.integers(1, 8), st.integers(1, 8))
def test_conserves_area_inside_the_window(rings_, ny, nx):
    """The covered areas add up to the polygon's area inside the window, each in [0, 1]."""
    poly = shapely.Polygon(rings_[0], holes=rings_[1:])
    got = run_kernel(rings_, ny, nx)
    inside = poly.intersection(shapely.box(0, 0, nx, ny)).area
    assert got.sum() == pytest.approx(inside, rel=1e-12, abs=ATOL)
    assert (got >= -ATOL).all() and (got <= 1.0 + ATOL).all()


@given(star_polygons())
def test_conserves_the_whole_area_of_a_polygon_inside(rings_):
    """Shifted inside a window that holds it, the polygon's whole (shoelace) area is kept."""
    uv = np.concatenate(rings_)
    shift = np.floor(uv.min(axis=0)) - 1.0
    moved = [r - shift for r in rings_]
    top = np.concatenate(moved).max(axis=0)
    ny, nx = math.ceil(top[1]) + 1, math.ceil(top[0]) + 1
    area = sum(shoelace(r[:, 0], r[:, 1]) for r in moved)
    assert run_kernel(moved, ny, nx).sum() == pytest.approx(area, rel=1e-12, abs=ATOL)


# ---------------------------------------------------------------- compiled against Python
def test_compiled_matches_python_source(monkeypatch):
    """The compiled kernel gives the numbers of its Python source (``py_func``)."""
    rng = np.random.default_rng(7)
    cases = [
        [box(0.5, 0.25, 2.25, 1.75)],
        [box(0, 0, 3, 3), box(0.5, 0.5, 1.5, 2.0, clockwise=True)],
        [closed(*rng.uniform(-1, 6, (8, 2)))],
    ]
    compiled = [run_kernel(c, 5, 5) for c in cases]
    monkeypatch.setattr(coverage, "_add_edge", coverage._add_edge.py_func)
    for c, want in zip(cases, compiled, strict=True):
        got = run_kernel(c, 5, 5, kernel=polygon_coverage.py_func)
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-15)
