"""Dry deposition in the wrappers (issue 14): annual kernel, stacks, annual_concentration,
the species registry and the ``[dispersion]`` configuration."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import xarray as xr

from test_concentration import SETTINGS, emission_field, met_table
from trajectoire.dispersion import (
    DispersionSettings,
    annual_concentration,
    annual_kernel,
    dry_deposition,
    point_sources_annual,
    stack_footprints,
)
from trajectoire.errors import InputError
from trajectoire.species import DEPOSITION_REFERENCES, POLLUTANTS
from trajectoire.units import SECONDS_PER_YEAR

STACK = dict(x=[X := 702_000.0], y=[Y := 6_502_000.0], stack_height=[30.0],
             stack_diameter=[1.5], exit_temperature=[400.0], exit_velocity=[8.0])  # fmt: skip


def table():
    return met_table((2018,)).isel(year=0)


@pytest.mark.parametrize("h", [0.0, 20.0])
def test_annual_kernel_deposition_only_lowers_and_grows_with_distance(h):
    t = table()
    plain = annual_kernel(t, resolution=200.0, radius=3000.0, release_height=h)
    dep = annual_kernel(t, resolution=200.0, radius=3000.0, release_height=h,
                        deposition_velocity=0.01)  # fmt: skip
    zero = annual_kernel(t, resolution=200.0, radius=3000.0, release_height=h,
                         deposition_velocity=0.0)  # fmt: skip
    assert np.array_equal(zero.values, plain.values)
    inside = plain.values > 0
    ratio = dep.values[inside] / plain.values[inside]
    assert (ratio < 1).all() and (ratio > 0.3).all()
    assert dep.attrs["deposition_velocity"] == 0.01
    # the loss grows along the travel: the far ring keeps less than the near ring
    r = np.hypot(*np.meshgrid(plain["dy"], plain["dx"], indexing="ij")) * 200.0
    near = dep.values[(r > 150) & (r < 500)].sum() / plain.values[(r > 150) & (r < 500)].sum()
    far = dep.values[(r > 2500) & inside].sum() / plain.values[(r > 2500) & inside].sum()
    assert far < near


def test_annual_kernel_deposition_bad_values():
    t = table()
    with pytest.raises(InputError, match="deposition_velocity"):
        annual_kernel(t, resolution=200.0, radius=1000.0, deposition_velocity=-0.01)
    with pytest.raises(InputError, match="convert cm s-1 to m s-1"):
        annual_kernel(t, resolution=200.0, radius=1000.0, deposition_velocity=1.5)
    with pytest.raises(InputError, match="diverges"):
        annual_kernel(t, resolution=200.0, radius=1000.0, release_height=1.5,
                      deposition_velocity=0.01)  # fmt: skip


def test_stacks_deposition_agrees_between_exact_and_tabulated_paths():
    from trajectoire.geo.grid import Grid

    t = table()
    g = Grid.from_bounds(X - 2000, Y - 2000, X + 2000, Y + 2000, 100.0)
    kw = dict(**STACK, grid=g, radius=1800.0)
    exact = point_sources_annual(t, weights=[1.0], deposition_velocity=0.008, **kw)[0]
    plain = point_sources_annual(t, weights=[1.0], **kw)[0]
    rows, cols, fp = stack_footprints(t, deposition_velocity=0.008, **kw)[0]
    fp0 = stack_footprints(t, **kw)[0][2]
    assert (exact <= plain).all() and (exact < plain).any()
    # the depletion each path applies agrees (the tabulation error near the stack cancels)
    win, win0 = exact[rows, cols], plain[rows, cols]
    ok = (win0 > 1e-3 * win0.max()) & (fp0 > 0)
    np.testing.assert_allclose(fp[ok] / fp0[ok], win[ok] / win0[ok], rtol=2e-3)


def test_annual_concentration_writes_deposition():
    g, e = emission_field((2018,))
    settings = DispersionSettings(**{**SETTINGS.__dict__, "deposition_velocity": {"PM10": 0.004}})
    ds = annual_concentration(e, met_table((2018,)), settings=settings)
    plain = annual_concentration(e, met_table((2018,)), settings=SETTINGS)
    assert ds["deposition"].attrs["units"] == "ug m-2 yr-1"
    local = ds["contribution"].sum("sector")
    want = local.sel(pollutant="PM10") * 0.004 * SECONDS_PER_YEAR
    xr.testing.assert_allclose(ds["deposition"].sel(pollutant="PM10"), want, rtol=1e-12)
    assert float(ds["deposition"].sel(pollutant="NOx").max()) == 0.0
    xr.testing.assert_identical(ds["concentration"].sel(pollutant="NOx"),
                                plain["concentration"].sel(pollutant="NOx"))  # fmt: skip
    assert float(ds["concentration"].sel(pollutant="PM10").sum()) < float(
        plain["concentration"].sel(pollutant="PM10").sum()
    )
    assert "deposition" not in plain


def test_dry_deposition_needs_a_pollutant_dim():
    with pytest.raises(InputError, match="pollutant"):
        dry_deposition(xr.DataArray(np.ones(3), dims="x"), SETTINGS)


def test_registry_velocities_are_cited_and_plausible():
    for p in POLLUTANTS.values():
        if p.deposition_velocity is not None:  # None: no default known (issue 15)
            assert 0.0 <= p.deposition_velocity <= 0.05
            assert p.id in DEPOSITION_REFERENCES
    assert POLLUTANTS["SO2"].decay_rate == pytest.approx(np.log(2) / 14400.0)
    assert POLLUTANTS["NOx"].decay_rate == 0.0


def test_settings_from_config_switch_and_overrides():
    base = dict(radius=5000.0, sigma="briggs-urban", receptor_height=1.5, release_height={})
    off = DispersionSettings.from_config(SimpleNamespace(**base))
    assert dict(off.deposition_velocity) == {}
    on = DispersionSettings.from_config(
        SimpleNamespace(**base, dry_deposition=True, deposition_velocity={"NH3": 0.02, "PM10": 0})
    )
    assert on.deposition_velocity["NH3"] == 0.02
    assert "PM10" not in on.deposition_velocity
    assert on.deposition_velocity["SO2"] == POLLUTANTS["SO2"].deposition_velocity
    assert on.removal("NMVOC") == (0.0, 0.0)


def test_config_validates_velocities():
    from trajectoire.io.config import DispersionConfig

    cfg = DispersionConfig(dry_deposition=True, deposition_velocity={"nh3": 0.01})
    assert cfg.deposition_velocity == {"NH3": 0.01}
    with pytest.raises(ValueError, match="convert cm s-1 to m s-1"):
        DispersionConfig(deposition_velocity={"NH3": 1.0e1})
    with pytest.raises(ValueError, match="pollutant"):
        DispersionConfig(deposition_velocity={"XYZ": 0.01})
