"""Attribution helpers: adjoint aggregation, Shapley split, footprints."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.signal import convolve2d

from trajectoire import InputError
from trajectoire.attribution import (
    aggregate_by_origin_window,
    decompose_change,
    footprint,
    origin_layers,
    shapley_values,
)


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
