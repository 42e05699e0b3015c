"""Met-class frequency tables weighted hour by hour by an emission profile (issue 15).

A seasonal species (a pesticide sprayed in spring) emits more in some hours: its annual
kernel is built from the meteorology of those hours, each hour counted with the profile's
factor. Reference: the weighted mean of the one-hour kernels (the same identity as
``test_annual_mean_from_table_equals_mean_of_hourly_kernels`` of test_dispersion, weighted).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from test_dispersion import synth
from trajectoire import dispersion as disp
from trajectoire import meteo as tm
from trajectoire.errors import InputError
from trajectoire.inventory.temporal import hourly_factors


def _unstamped(ds: xr.Dataset) -> xr.Dataset:
    """`ds` with the UTC time taken off its ``history`` line (two calls may straddle a
    second: the test was flaky for that alone)."""
    out = ds.copy()
    out.attrs["history"] = "\n".join(
        line.split(": ", 1)[1] for line in ds.attrs["history"].splitlines()
    )
    return out


def test_no_weights_and_unit_weights_give_the_same_table_bit_for_bit():
    met = synth(n=3000, seed=2)
    plain = tm.met_classes(met)
    ones = tm.met_classes(met, weights=np.ones(met.sizes["time"]))
    xr.testing.assert_identical(_unstamped(plain), _unstamped(ones))


def test_calm_fraction_is_the_weighted_share_of_the_calms():
    """calm_fraction was weighted calms over unweighted valid hours: 2.5 here (probe E #4)."""
    t = pd.date_range("2019-01-01", periods=10, freq="h")
    met = xr.Dataset(
        {
            "wind_speed": ("time", [0.2] * 5 + [3.0] * 5),
            "wind_direction": ("time", [0.0] * 5 + [270.0] * 5),
            "stability": ("time", ["D"] * 10),
        },
        coords={"time": t},
    )

    def calm_fraction(weights):
        return tm.met_classes(met, weights=weights)["calm_fraction"].values.item()

    assert calm_fraction(None) == 0.5
    # equal weights: the unweighted share, bit for bit (2.0 sums exactly)
    assert calm_fraction(np.full(10, 2.0)) == 0.5
    w = np.array([5.0] * 5 + [0.1] * 5)
    assert calm_fraction(w) == pytest.approx(25.0 / 25.5, rel=1e-12)
    table = tm.met_classes(met, weights=w)
    assert table["valid_hours"].values.item() == 10.0  # hours, not weights
    # the calms are the lowest speed class here (the others blow at 3 m/s): same share
    lowest = table["frequency"].isel(speed=0).sum().item()
    assert table["calm_fraction"].values.item() == pytest.approx(lowest, rel=1e-12)


@settings(max_examples=15, deadline=None)
@given(scale=st.floats(0.01, 100.0), seed=st.integers(0, 50))
def test_a_constant_factor_on_the_weights_changes_nothing(scale, seed):
    met = synth(n=300, seed=seed)
    w = np.random.default_rng(seed).uniform(0.0, 3.0, met.sizes["time"])
    a = tm.met_classes(met, weights=w)
    b = tm.met_classes(met, weights=w * scale)
    for v in ("frequency", "inverse_wind_speed", "mixing_height", "calm_fraction"):
        np.testing.assert_allclose(a[v].values, b[v].values, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(a["frequency"].sum(("direction", "speed", "stability")), 1.0)


def test_weighted_kernel_is_the_weighted_mean_of_the_hourly_kernels():
    met = synth(n=40, calm=False, seed=4)
    w = np.random.default_rng(1).uniform(0.0, 2.0, 40)
    k = dict(resolution=100.0, radius=800.0)
    year = disp.annual_kernel(tm.met_classes(met, weights=w).isel(year=0), **k).values
    hourly = np.array(
        [
            disp.annual_kernel(tm.met_classes(met.isel(time=[t])).isel(year=0), **k).values
            for t in range(40)
        ]
    )
    want = np.tensordot(w, hourly, axes=1) / w.sum()
    np.testing.assert_allclose(year, want, rtol=1e-6, atol=1e-12 * want.max())


def test_emission_in_westerly_hours_raises_the_concentration_downwind_east():
    n = 2000
    rng = np.random.default_rng(3)
    directions = rng.choice([90.0, 270.0], n)  # wind from the east or from the west
    met = synth(n=n, calm=False, seed=3, directions=directions)
    w = np.where(directions == 270.0, 1.8, 0.2)  # the source emits mostly in westerly hours
    k = dict(resolution=100.0, radius=1000.0)
    plain = disp.annual_kernel(tm.met_classes(met).isel(year=0), **k)
    seasonal = disp.annual_kernel(tm.met_classes(met, weights=w).isel(year=0), **k)
    centre = plain.sizes["dy"] // 2  # dx > 0: east of the source cell
    east = {"dy": centre, "dx": slice(centre + 2, None)}  # downwind of a wind from the west
    west = {"dy": centre, "dx": slice(None, centre - 1)}
    assert float(seasonal[east].sum()) > 1.5 * float(plain[east].sum())
    assert float(seasonal[west].sum()) < 0.5 * float(plain[west].sum())


def test_with_a_temporal_profile_of_the_registry():
    times = pd.date_range("2021-01-01", periods=8760, freq="h")
    rng = np.random.default_rng(0)
    met = xr.Dataset(
        {
            "wind_speed": ("time", rng.gamma(2.0, 1.5, 8760) + 1.0),
            "wind_direction": ("time", rng.uniform(0, 360, 8760)),
            "stability": ("time", np.array(list("ABCDEF"))[rng.integers(0, 6, 8760)]),
        },
        coords={"time": times},
    )
    f = hourly_factors("L_AgriOther", times, species="S-metolachlor")
    assert f.mean() == pytest.approx(1.0, rel=1e-12) and f.max() > 2.0  # a spring calendar
    table = tm.met_classes(met, weights=f)
    assert float(table["frequency"].sum()) == pytest.approx(1.0, rel=1e-12)
    assert table["valid_hours"].values.tolist() == [8760.0]  # counts stay hours


@pytest.mark.parametrize("bad", [np.ones(5), -np.ones(100), np.full(100, np.nan)])
def test_bad_weights_are_one_clear_error(bad):
    with pytest.raises(InputError, match="weights") as err:
        tm.met_classes(synth(n=100), weights=bad)
    assert "\n" not in str(err.value)
