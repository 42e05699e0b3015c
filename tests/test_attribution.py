"""Attribution helpers: adjoint aggregation, Shapley split, footprints."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.signal import convolve2d

from trajectoire import InputError
from trajectoire._kernels.aggregate import BLOCK_ROWS, aggregate_stack_by_origin, shared_cells
from trajectoire.attribution import (
    Origins,
    ReceptorSums,
    aggregate_by_origin_stack,
    aggregate_by_origin_window,
    decompose_change,
    footprint,
    origin_layers,
    shapley_values,
    window_sums,
)
from trajectoire.dispersion.receptors import Receptor


def _random_fractions(rng, n_origin, ny, nx):
    raw = rng.random((n_origin, ny, nx)) * (rng.random((n_origin, ny, nx)) < 0.4)
    raw[0] += 1e-3  # every cell belongs to something
    return raw / raw.sum(0)


@given(st.integers(0, 2**32 - 1))
def test_aggregate_kernel_matches_numpy(seed):
    rng = np.random.default_rng(seed)
    n_s, n_h, n_o, ny, nx = 4, 2, 3, 7, 9
    adj = rng.random((n_h, ny, nx))
    emis = rng.random((n_s, ny, nx)) * (rng.random((n_s, ny, nx)) < 0.7)
    h = rng.integers(0, n_h, n_s)
    frac = _random_fractions(rng, n_o, ny, nx)
    idx, fr = origin_layers(frac)
    got = aggregate_by_origin_window(adj, emis, h, idx, fr, n_o)
    ref = np.einsum("syx,oyx->so", adj[h] * emis, frac)
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-14)
    # summing over origins gives the plain adjoint product
    np.testing.assert_allclose(got.sum(1), (adj[h] * emis).sum((1, 2)), rtol=1e-12)


def _stack_case(rng, *, ny, nx, n_s=3, n_p=4, n_h=2, n_o=3, n_w=2, dtype=np.float64):
    """Random grid emission stack, origin layers and a window with its adjoints."""
    emis = (rng.random((n_s, n_p, ny, nx)) * (rng.random((n_s, n_p, ny, nx)) < 0.7)).astype(dtype)
    emis[0, 0] = 0.0  # an empty plane, as a sector that only has stacks
    frac = _random_fractions(rng, n_o, ny, nx)
    frac[:, rng.random((ny, nx)) < 0.05] = 0.0  # cells outside every origin
    idx, fr = origin_layers(frac)
    r0, c0 = int(rng.integers(0, ny // 3 + 1)), int(rng.integers(0, nx // 3 + 1))
    r1, c1 = int(rng.integers(r0 + 1, ny + 1)), int(rng.integers(c0 + 1, nx + 1))
    adj = rng.random((n_w, n_h, r1 - r0, c1 - c0))
    h = rng.integers(0, n_h, n_s)
    return emis, frac, idx, fr, slice(r0, r1), slice(c0, c1), adj, h


def _stack_reference(adj, emis, h, frac, rows, cols, pollutants):
    """Plain numpy: out[w, s, o, p] = Σ_c A[w, h(s), c] E[s, P(p), c] F[o, c]."""
    e = emis[:, pollutants, rows, cols].astype(np.float64)
    return np.einsum("wsyx,spyx,oyx->wsop", adj[:, h], e, frac[:, rows, cols])


@given(st.integers(0, 2**32 - 1), st.sampled_from([np.float32, np.float64]))
def test_aggregate_stack_matches_numpy(seed, dtype):
    """Window on the grid, rows over several blocks, several layers, cells without origin."""
    rng = np.random.default_rng(seed)
    ny, nx = int(rng.integers(1, 3 * BLOCK_ROWS)), int(rng.integers(1, 40))
    emis, frac, idx, fr, rows, cols, adj, h = _stack_case(rng, ny=ny, nx=nx, dtype=dtype)
    pols = rng.permutation(emis.shape[1])[: int(rng.integers(1, emis.shape[1] + 1))]
    got = aggregate_by_origin_stack(adj, emis, h, idx, fr, 3, rows=rows, cols=cols, pollutants=pols)
    ref = _stack_reference(adj, emis, h, frac, rows, cols, pols)
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-13)
    # summed over origins: the plain adjoint product, where a cell's fractions add up to 1
    inside = frac.sum(0)[rows, cols] > 0
    plain = np.einsum(
        "wsyx,spyx->wsp", adj[:, h] * inside, emis[:, pols, rows, cols].astype(np.float64)
    )
    np.testing.assert_allclose(got.sum(2), plain, rtol=1e-12, atol=1e-13)


@given(st.integers(0, 2**32 - 1), st.floats(-3.0, 3.0), st.floats(-3.0, 3.0))
def test_aggregate_stack_is_linear_in_emission(seed, a, b):
    rng = np.random.default_rng(seed)
    e1, frac, idx, fr, rows, cols, adj, h = _stack_case(rng, ny=2 * BLOCK_ROWS + 5, nx=17)
    e2 = rng.random(e1.shape)

    def agg(e):
        return aggregate_by_origin_stack(adj, e, h, idx, fr, 3, rows=rows, cols=cols)

    np.testing.assert_allclose(
        agg(a * e1 + b * e2), a * agg(e1) + b * agg(e2), rtol=1e-10, atol=1e-12
    )


def test_aggregate_stack_equals_the_window_function_per_pollutant():
    """One pass over the stack == one aggregate_by_origin_window call per pollutant."""
    rng = np.random.default_rng(3)
    emis, _, idx, fr, rows, cols, adj, h = _stack_case(rng, ny=80, nx=50, dtype=np.float32)
    got = aggregate_by_origin_stack(adj, emis, h, idx, fr, 3, rows=rows, cols=cols)
    for p in range(emis.shape[1]):
        one = aggregate_by_origin_window(
            adj, emis[:, p, rows, cols], h, idx[:, rows, cols], fr[:, rows, cols], 3
        )
        np.testing.assert_allclose(got[..., p], one, rtol=1e-12, atol=1e-13)
    # one weighting: (sector, origin, pollutant), strided emission views give the same sums
    single = aggregate_by_origin_stack(adj[1], emis[:, ::-1], h, idx, fr, 3, rows=rows, cols=cols)
    np.testing.assert_allclose(single, got[1][..., ::-1], rtol=1e-12, atol=1e-13)


@given(st.integers(0, 2**32 - 1))
def test_gridded_sums_one_pollutant_at_a_time_are_the_same_bits(seed):
    """ReceptorSums.add_gridded with each pollutant given alone, ``(sector, 1, y, x)`` and
    ``planes=[0]`` (the run forms one pollutant at a time), == all of them in one call."""
    rng = np.random.default_rng(seed)
    emis, frac, idx, fr, rows, cols, adj, h = _stack_case(
        rng, ny=int(rng.integers(1, 2 * BLOCK_ROWS + 3)), nx=23, dtype=np.float32
    )
    origins = Origins(idx, fr, 3)
    area = [Receptor("t", rows, cols, np.ones(adj.shape[-2:]))]
    stations = [(rows, cols, adj[0])]
    pols = [int(p) for p in rng.permutation(emis.shape[1])[:3]]
    n_s, n_p = emis.shape[:2]
    whole = ReceptorSums.zeros(1, 1, n_s, 3, n_p)
    whole.add_gridded([adj], area, stations, emis, h, origins, pols)
    alone = ReceptorSums.zeros(1, 1, n_s, 3, n_p)
    for p in pols:
        one = np.ascontiguousarray(emis[:, p])[:, None]
        alone.add_gridded([adj], area, stations, one, h, origins, [p], planes=[0])
    for a, b in zip(
        (whole.territory, whole.exposure, whole.station),
        (alone.territory, alone.exposure, alone.station),
        strict=True,
    ):
        assert np.array_equal(a.view(np.uint64), b.view(np.uint64))
    # the sums were filled wherever the window has emission in some origin (a window of a
    # few cells may have none: the numpy reference says which)
    filled = _stack_reference(adj, emis, h, frac, rows, cols, pols).any()
    assert whole.territory[..., pols].any() == filled


def test_origins_given_their_shared_cells_sum_the_same_bits():
    """Origins(known_shared=...) (a run finds the shared cells once) uses what it is given
    and sums as the Origins that finds them itself."""
    rng = np.random.default_rng(11)
    emis, _, idx, fr, rows, cols, adj, h = _stack_case(rng, ny=2 * BLOCK_ROWS + 5, nx=17)
    found = Origins(idx, fr, 3)
    given = Origins(idx, fr, 3, known_shared=shared_cells(idx))
    assert given.shared is given.known_shared
    for a, b in zip(found.shared, given.shared, strict=True):
        assert np.array_equal(a, b)
    args = (adj, emis, h)
    one = window_sums(*args, found, rows, cols)
    two = window_sums(*args, given, rows, cols)
    assert np.array_equal(one.view(np.uint64), two.view(np.uint64))
    # a wrong row index is not silently used as if it were found: it changes the sums
    wrong = Origins(idx, fr, 3, known_shared=(np.zeros_like(found.shared[0]), found.shared[1][:0]))
    if found.shared[1].size:
        assert not np.array_equal(window_sums(*args, wrong, rows, cols), one)


def test_aggregate_stack_kernel_compiled_matches_python():
    rng = np.random.default_rng(4)
    emis, _, idx, fr, rows, cols, adj, h = _stack_case(rng, ny=BLOCK_ROWS + 3, nx=6)
    args = (adj, emis, np.arange(emis.shape[1]), np.arange(emis.shape[0]), rows.start,
            cols.start, h, idx, fr, *shared_cells(idx))  # fmt: skip
    shape = (adj.shape[0], emis.shape[0], 3, emis.shape[1])
    compiled, python = np.zeros(shape), np.zeros(shape)
    aggregate_stack_by_origin(*args, compiled)
    aggregate_stack_by_origin.py_func(*args, python)
    np.testing.assert_allclose(compiled, python, rtol=1e-13, atol=1e-15)


@given(seed=st.integers(0, 2**32 - 1), k=st.integers(1, 4))
def test_shared_cells_list_the_layers_after_the_first(seed, k):
    """shared_cells against numpy: for each layer q > 0 and row, the columns holding an
    origin, increasing; layer 0 is not listed."""
    rng = np.random.default_rng(seed)
    ny, nx = int(rng.integers(1, 12)), int(rng.integers(1, 12))
    idx = np.where(rng.random((k, ny, nx)) < 0.3, rng.integers(0, 5, (k, ny, nx)), -1)
    ptr, col = shared_cells(idx.astype(np.int64))
    assert ptr.shape == (k, ny + 1) and not ptr[0].any()
    expected = [np.nonzero(idx[q, i] >= 0)[0] for q in range(1, k) for i in range(ny)]
    got = [col[ptr[q, i] : ptr[q, i + 1]] for q in range(1, k) for i in range(ny)]
    assert all(np.array_equal(a, b) for a, b in zip(got, expected, strict=True))
    assert col.size == sum(e.size for e in expected) == (ptr[-1, -1] if k > 1 else 0)


def test_window_sums_refuse_shared_cells_of_other_layers():
    rng = np.random.default_rng(2)
    emis, _, idx, fr, rows, cols, adj, h = _stack_case(rng, ny=9, nx=7)
    ptr, col = shared_cells(idx)
    with pytest.raises(InputError, match="shared cells"):
        aggregate_by_origin_stack(adj, emis, h, idx, fr, 3, rows=rows, cols=cols,
                                  shared=(ptr[:, :-1], col))  # fmt: skip
    given = aggregate_by_origin_stack(adj, emis, h, idx, fr, 3, rows=rows, cols=cols,
                                      shared=(ptr, col))  # fmt: skip
    found = aggregate_by_origin_stack(adj, emis, h, idx, fr, 3, rows=rows, cols=cols)
    assert np.array_equal(given.view(np.uint64), found.view(np.uint64))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), zero=st.sets(st.integers(0, 3), max_size=3))
def test_aggregate_stack_leaves_out_sectors_of_zeros_bit_for_bit(seed, zero):
    """Sectors whose planes are ±0 in every cell, left out (``sectors=``): every sum the
    same bits as with all sectors read, theirs +0."""
    rng = np.random.default_rng(seed)
    emis, _, idx, fr, rows, cols, adj, h = _stack_case(rng, ny=BLOCK_ROWS + 5, nx=17)
    emis = emis.copy()
    for s in zero:
        if s < emis.shape[0]:
            emis[s] = np.where(rng.random(emis[s].shape) < 0.5, -0.0, 0.0)
    keep = [s for s in range(emis.shape[0]) if s not in zero]
    every = aggregate_by_origin_stack(adj, emis, h, idx, fr, 3, rows=rows, cols=cols)
    some = aggregate_by_origin_stack(adj, emis, h, idx, fr, 3, rows=rows, cols=cols,
                                     sectors=keep)  # fmt: skip
    assert np.array_equal(every.view(np.uint64), some.view(np.uint64))
    with pytest.raises(InputError, match="sectors"):
        aggregate_by_origin_stack(adj, emis, h, idx, fr, 3, rows=rows, cols=cols,
                                  sectors=[emis.shape[0]])  # fmt: skip


def test_aggregate_stack_does_not_depend_on_the_number_of_threads():
    import numba

    rng = np.random.default_rng(5)
    emis, _, idx, fr, rows, cols, adj, h = _stack_case(rng, ny=4 * BLOCK_ROWS + 7, nx=30)
    runs = []
    default = numba.get_num_threads()
    try:
        for n in sorted({1, default}):
            numba.set_num_threads(n)
            runs.append(aggregate_by_origin_stack(adj, emis, h, idx, fr, 3, rows=rows, cols=cols))
    finally:
        numba.set_num_threads(default)
    for r in runs[1:]:
        np.testing.assert_array_equal(r, runs[0])


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"emission": np.ones((2, 5, 6))}, "emission"),
        ({"rows": slice(0, 3)}, "window"),
        ({"rows": slice(0, 4, 2)}, "window"),
        ({"height_of_sector": [0, 2]}, "height_of_sector"),
        ({"pollutants": [3]}, "pollutants"),
        ({"origin_index": np.zeros((1, 4, 4), dtype=np.int64)}, "origin layers"),
    ],
)
def test_aggregate_stack_rejects_bad_input(change, match):
    idx, fr = origin_layers(np.ones((1, 5, 6)))
    kw = {
        "adjoint": np.ones((2, 2, 2)),
        "emission": np.ones((2, 3, 5, 6)),
        "height_of_sector": [0, 1],
        "origin_index": idx,
        "origin_fraction": fr,
        "n_origin": 1,
        "rows": slice(1, 3),
        "cols": slice(0, 2),
    }
    kw.update(change)
    with pytest.raises(InputError, match=match):
        aggregate_by_origin_stack(**kw)


def test_origin_layers_rejects_bad_shape():
    with pytest.raises(InputError, match="origin, y, x"):
        origin_layers(np.ones((3, 3)))


def test_adjoint_identity_with_convolution():
    """<w, K*E> == <K⋆w, E>: the identity the receptor aggregates rely on."""
    rng = np.random.default_rng(1)
    k = rng.random((5, 5))
    e = rng.random((12, 10))
    w = rng.random((12, 10)) * (rng.random((12, 10)) < 0.3)
    conc = convolve2d(e, k, mode="same")
    adjoint = convolve2d(w, k[::-1, ::-1], mode="same")
    assert np.sum(w * conc) == pytest.approx(np.sum(adjoint * e), rel=1e-12)


def test_footprint_sums_to_convolution_value():
    rng = np.random.default_rng(2)
    k = rng.random((7, 7))
    e = rng.random((15, 11))
    conc = convolve2d(e, k, mode="same")
    for r, c in [(0, 0), (7, 5), (14, 10), (2, 9)]:
        fp = footprint(k, e, r, c)
        assert fp.sum() == pytest.approx(conc[r, c], rel=1e-12)


@given(arrays(float, 3, elements=st.floats(0.1, 10)), arrays(float, 3, elements=st.floats(0.1, 10)))
def test_shapley_efficiency_and_symmetry(a0, a1):
    # C(e, m, b) = E_e * M_m + B_b, a bilinear model plus an additive background
    def conc(e, m, b):
        return [a0[0], a1[0]][e] * [a0[1], a1[1]][m] + [a0[2], a1[2]][b]

    out = decompose_change(conc)
    total = conc(1, 1, 1) - conc(0, 0, 0)
    assert out["emission"] + out["meteorology"] + out["background"] == pytest.approx(total)
    assert out["background"] == pytest.approx(a1[2] - a0[2])
    # emission effect = mean of the two substitution orders
    e_eff = 0.5 * ((a1[0] - a0[0]) * a0[1] + (a1[0] - a0[0]) * a1[1])
    assert out["emission"] == pytest.approx(e_eff)


def test_shapley_player_limits():
    with pytest.raises(InputError, match="1 to 10"):
        shapley_values([], lambda s: 0.0)


@given(st.integers(0, 2**32 - 1), st.integers(1, 9), st.floats(0.05, 0.9))
def test_origin_layers_order_is_the_stable_argsort(seed, n_o, p):
    """The origins of each cell, present ones first in their order, then the others: the
    same integers as the stable argsort of ``~present`` (the sort it replaces), and the
    layers hold every present origin with its fraction."""
    from trajectoire.attribution import _present_first

    rng = np.random.default_rng(seed)
    present = rng.random((n_o, 6, 7)) < p
    count = present.sum(axis=0)
    k = int(max(1, count.max()))
    want = np.argsort(~present, axis=0, kind="stable")[:k]
    got = _present_first(present, count, k)
    assert got.dtype == want.dtype and np.array_equal(got, want)
    frac = np.where(present, rng.random(present.shape), 0.0)
    if k <= 4:
        idx, fr = origin_layers(frac)
        rebuilt = np.zeros_like(frac)
        for q in range(idx.shape[0]):
            yy, xx = np.nonzero(idx[q] >= 0)
            rebuilt[idx[q][yy, xx], yy, xx] = fr[q][yy, xx]
        assert np.array_equal(rebuilt, frac)
