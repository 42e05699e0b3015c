"""The stable radix argsort (trajectoire._kernels.sorting) against numpy's stable argsort:
the same permutation for any float64 values without NaN (ties, both zeros, infinities,
subnormals, negative values, a few distinct values), small and large."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trajectoire._kernels.sorting import SMALL, _radix_argsort, stable_argsort

special = st.sampled_from(
    [0.0, -0.0, np.inf, -np.inf, 5e-324, -5e-324, 1.0, -1.0, np.finfo(float).max, 1e-300]
)


@settings(max_examples=80, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(0, 3 * SMALL),
    distinct=st.integers(1, 40),
    extra=st.lists(special, max_size=20),
    spread=st.sampled_from([1e-3, 1.0, 1e6, 1e300]),
)
def test_the_permutation_of_numpy_stable_argsort(seed, n, distinct, extra, spread):
    rng = np.random.default_rng(seed)
    pool = np.concatenate([rng.standard_normal(distinct) * spread, np.asarray(extra, float)])
    values = rng.choice(pool, n) if n else np.zeros(0)
    want = np.argsort(values, kind="stable")
    np.testing.assert_array_equal(stable_argsort(values), want)
    if n:  # the radix path itself, whatever the size
        np.testing.assert_array_equal(_radix_argsort(values), want)


def test_large_continuous_values_and_one_exponent():
    rng = np.random.default_rng(7)
    for values in (rng.random(200_000) * 40.0, 1.0 + rng.random(50_000) * 1e-9):
        np.testing.assert_array_equal(stable_argsort(values), np.argsort(values, kind="stable"))


def test_both_zeros_keep_their_index_order():
    values = np.array([0.0, -0.0, 0.0, -0.0] * 200)
    np.testing.assert_array_equal(_radix_argsort(values), np.arange(values.size))


def test_two_dims_are_refused():
    with pytest.raises(ValueError, match="1-D"):
        stable_argsort(np.zeros((2, 2)))
