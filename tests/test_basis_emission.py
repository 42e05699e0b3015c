"""The year's emission from the basis fields (trajectory.basis): `emission_from_basis` and its
plane-by-plane form `sector_emissions` against a plain numpy reference, bit for bit, and the
properties of a weighted sum (linearity in the weights, zero weights give +0 planes)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from trajectoire.trajectory.basis import (
    blank_fields,
    emission_from_basis,
    emission_planes,
    sector_emissions,
)


def _reference(basis: np.ndarray, weight: np.ndarray, p: int) -> np.ndarray:
    """Σ_b weight[b, s, p] basis[b, p, s], float32, accumulated in the order of b."""
    out = (basis[0, p] * weight[0, :, p][:, None, None]).astype(np.float32)
    for b in range(1, basis.shape[0]):
        out = out + (basis[b, p] * weight[b, :, p][:, None, None]).astype(np.float32)
    return out


shapes = st.tuples(
    st.integers(1, 3), st.integers(1, 3), st.integers(1, 4), st.integers(1, 5), st.integers(1, 6)
)


@settings(max_examples=60, deadline=None)
@given(shape=shapes, seed=st.integers(0, 2**31 - 1))
def test_emission_from_basis_and_sector_planes_match_the_reference(shape, seed):
    rng = np.random.default_rng(seed)
    nb, npol, ns, ny, nx = shape
    basis = (rng.random(shape) * (rng.random(shape) < 0.6)).astype(np.float32)
    weight = (rng.normal(size=(nb, ns, npol)) * 3).astype(np.float32)
    for p in range(npol):
        ref = _reference(basis, weight, p)
        got = emission_from_basis(basis, weight, p)
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got.view(np.uint32), ref.view(np.uint32))
        planes = [plane.copy() for plane in sector_emissions(basis, weight, p)]
        assert len(planes) == ns
        np.testing.assert_array_equal(np.stack(planes).view(np.uint32), got.view(np.uint32))


@settings(max_examples=40, deadline=None)
@given(shape=shapes, seed=st.integers(0, 2**31 - 1), a=st.floats(-4, 4, width=32))
def test_linear_in_the_weights_and_zero_weights_give_positive_zeros(shape, seed, a):
    rng = np.random.default_rng(seed)
    nb, npol, ns, ny, nx = shape
    basis = rng.random(shape).astype(np.float32)
    weight = rng.random((nb, ns, npol)).astype(np.float32)
    one = emission_from_basis(basis, weight, 0).astype(np.float64)
    scaled = emission_from_basis(basis, (weight * np.float32(a)).astype(np.float32), 0)
    np.testing.assert_allclose(scaled, a * one, rtol=1e-5, atol=1e-6)
    zero = emission_from_basis(basis, np.zeros_like(weight), 0)
    assert not zero.view(np.uint32).any()  # +0 everywhere: the output skips such planes


def test_the_plane_is_reused_and_the_output_may_be_a_strided_view():
    rng = np.random.default_rng(1)
    basis = rng.random((2, 2, 3, 4, 5)).astype(np.float32)
    weight = rng.random((2, 3, 2)).astype(np.float32)
    planes = list(sector_emissions(basis, weight, 1))
    assert all(plane is planes[0] for plane in planes)  # one scratch plane, valid until next
    whole = np.zeros((3, 2, 4, 5), dtype=np.float32)
    emission_from_basis(basis, weight, 1, out=whole[:, 1])
    np.testing.assert_array_equal(whole[:, 1], emission_from_basis(basis, weight, 1))
    assert not whole[:, 0].any()


@settings(max_examples=60, deadline=None)
@given(shape=shapes, seed=st.integers(0, 2**31 - 1), scale=st.sampled_from([None, 1e-18]))
def test_blank_planes_are_formed_without_the_basis_bit_for_bit(shape, seed, scale):
    """Planes whose basis fields are all +0 filled from one cell: the same bits as the
    products, whatever the weights (negative or -0: -0 planes; NaN or inf: the plane's own
    path), and the basis is not read for them where the weights are finite (a blank field
    replaced by garbage changes nothing there)."""
    rng = np.random.default_rng(seed)
    nb, npol, ns, ny, nx = shape
    basis = (rng.random(shape) * (rng.random(shape) < 0.6)).astype(np.float32)
    off = rng.random((npol, ns)) < 0.5
    basis[:, off] = 0.0
    weight = (rng.normal(size=(nb, ns, npol)) * 3).astype(np.float32)
    special = rng.random(weight.shape)
    weight[special < 0.15] = -0.0
    weight[(special > 0.15) & (special < 0.2)] = np.nan
    weight[(special > 0.2) & (special < 0.25)] = -np.inf
    weight[(special > 0.25) & (special < 0.35)] = 0.0
    blank = blank_fields(basis)
    np.testing.assert_array_equal(blank, ~basis.reshape(nb, npol, ns, -1).any(axis=(0, 3)))
    garbage = basis.copy()
    finite = np.isfinite(weight).all(axis=0).T  # (pollutant, sector)
    garbage[:, blank & finite] = np.float32(7.0)  # must never be read
    for p in range(npol):
        with np.errstate(invalid="ignore"):
            want = emission_from_basis(basis, weight, p, scale=scale)
            got = emission_from_basis(garbage, weight, p, scale=scale, blank=blank)
            planes = [q.copy() for q in sector_emissions(garbage, weight, p, blank)]
            unscaled = emission_from_basis(basis, weight, p)
        np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32))
        for s, plane in enumerate(planes):
            np.testing.assert_array_equal(plane.view(np.uint32), unscaled[s].view(np.uint32))


def test_a_negative_zero_or_nan_cell_is_not_blank():
    basis = np.zeros((2, 1, 3, 2, 2), dtype=np.float32)
    basis[1, 0, 1, 0, 1] = -0.0
    basis[0, 0, 2, 1, 1] = np.nan
    assert blank_fields(basis).tolist() == [[True, False, False]]


@settings(max_examples=60, deadline=None)
@given(
    shape=shapes,
    seed=st.integers(0, 2**31 - 1),
    order=st.lists(
        st.tuples(st.integers(0, 2), st.sampled_from([None, 1e-18, -2.0]), st.booleans()),
        max_size=8,
    ),
)
def test_one_array_reused_with_its_constants_known_gives_each_pollutant_bit_for_bit(
    shape, seed, order
):
    """The run forms each pollutant in turn in one array, knowing which blank planes it
    already holds (``constant``): any sequence of pollutants and scales gives each one the
    bits of a fresh array, the planes skipped included (+0 and -0 planes alternate), and the
    constants kept are the bits the planes hold. Formed plane by plane
    (:func:`emission_planes`), each plane yielded holds its final bits as it is yielded, and
    the bits said known are those of every cell."""
    rng = np.random.default_rng(seed)
    nb, npol, ns, ny, nx = shape
    basis = (rng.random(shape) * (rng.random(shape) < 0.6)).astype(np.float32)
    basis[:, rng.random((npol, ns)) < 0.6] = 0.0
    weight = (rng.normal(size=(nb, ns, npol)) * 3).astype(np.float32)
    special = rng.random(weight.shape)
    weight[special < 0.2] = -0.0
    weight[(special > 0.2) & (special < 0.25)] = np.nan
    blank = blank_fields(basis)
    out = np.full((ns, ny, nx), np.float32(5.0))
    constant = np.full(ns, -1, dtype=np.int64)
    for p, scale, by_plane in order:
        p %= npol
        with np.errstate(invalid="ignore"):
            want = emission_from_basis(basis, weight, p, scale=scale, blank=blank)
            if by_plane:
                planes = emission_planes(basis, weight, p, out, scale, blank, constant)
                for s, (plane, bits) in enumerate(planes):
                    assert np.shares_memory(plane, out[s])
                    assert np.array_equal(plane.view(np.uint32), want[s].view(np.uint32))
                    assert bits == constant[s]
                    assert bits < 0 or (plane.view(np.uint32) == bits).all()
                got = out
            else:
                got = emission_from_basis(
                    basis, weight, p, out=out, scale=scale, blank=blank, constant=constant
                )
        assert got is out
        np.testing.assert_array_equal(out.view(np.uint32), want.view(np.uint32))
        for s in np.flatnonzero(constant >= 0):
            assert (out[s].view(np.uint32) == constant[s]).all()
