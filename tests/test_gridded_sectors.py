"""``pipeline._gridded_sectors``: the sectors with a gridded emission > 0, field by field up
to the first that emits, against the whole-array reference, whatever the order of the dims."""

from __future__ import annotations

import numpy as np
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from trajectoire.batch.pipeline import _gridded_sectors

_VALUES = st.sampled_from([0.0, -0.0, 1e-300, -2.5, 3.0, np.nan, np.inf, -np.inf])


@settings(max_examples=60, deadline=None)
@given(
    values=hnp.arrays(
        np.float64,
        st.tuples(st.integers(1, 4), st.integers(1, 3), st.integers(1, 3), st.integers(1, 4)),
        elements=_VALUES,
    ),
    order=st.permutations(["sector", "pollutant", "y", "x"]),
)
def test_gridded_sectors_is_any_positive_value(values, order):
    names = [f"S{i}" for i in range(values.shape[0])]
    da = xr.DataArray(values, dims=("sector", "pollutant", "y", "x"), coords={"sector": names})
    inventory = xr.Dataset({"emission": da.transpose(*order)})
    expected = {names[i] for i in range(values.shape[0]) if bool((values[i] > 0).any())}
    assert _gridded_sectors(inventory) == expected


def test_gridded_sectors_without_a_pollutant_dim():
    em = np.zeros((3, 2, 5))
    em[2, 1, 4] = 0.5
    em[0, 0, 0] = -1.0  # negative: not an emission
    inventory = xr.Dataset(
        {"emission": (("sector", "y", "x"), em)}, coords={"sector": ["A", "B", "C"]}
    )
    assert _gridded_sectors(inventory) == {"C"}
