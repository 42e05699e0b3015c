"""A kernel set is built only for the classes and stacks its pollutants are released by.

The emerging species of the sample come from a few sectors (PFOA from two stacks, TRWP from
roads): their kernel sets skip the other release classes and stacks. These tests check that
what is skipped adds nothing, against the unpruned computation.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from test_pipeline import small_config
from trajectoire import TrajectoireWarning
from trajectoire import pipeline as P
from trajectoire.config import load_config
from trajectoire.dispersion import DispersionSettings, YearDispersion
from trajectoire.dispersion.local import emitting_stacks, year_stacks
from trajectoire.geo.grid import Grid
from trajectoire.meteo import met_classes
from trajectoire.trajectory.basis import emission_from_basis, emitting_sectors


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> P.RunContext:
    cfg = load_config(small_config(tmp_path_factory.mktemp("pruning")))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrajectoireWarning)
        return P.prepare(cfg)


def test_emitting_sectors_against_the_yearly_emissions(ctx: P.RunContext) -> None:
    got = emitting_sectors(ctx.basis, ctx.basis_weight)
    want = np.zeros_like(got)
    for year in ctx.years:
        w = np.asarray(ctx.basis_weight.sel(year=year).values, dtype=np.float32)
        for ip in range(len(ctx.dispersed)):
            e = emission_from_basis(ctx.basis, w, ip)
            want[ip] |= e.reshape(e.shape[0], -1).any(axis=1)
    np.testing.assert_array_equal(got, want)
    # the sample's PFOA comes from stacks only, its TRWP from roads only
    pols = ctx.dispersed
    if "PFOA" in pols:
        assert not got[pols.index("PFOA")].any()
    if "TRWP" in pols:
        assert list(np.asarray(ctx.sectors)[got[pols.index("TRWP")]]) == ["F_RoadTransport"]


def test_emitting_stacks_against_the_stack_emissions(ctx: P.RunContext) -> None:
    got = emitting_stacks(ctx.point_emission, ctx.dispersed)
    assert got is not None and ctx.point_emission is not None
    for ip, pol in enumerate(ctx.dispersed):
        q = ctx.point_emission.sel(pollutant=pol).fillna(0.0)
        np.testing.assert_array_equal(got[ip], (q != 0).any("year").values)
    assert emitting_stacks(None, ctx.dispersed) is None


def test_pruned_year_equals_the_unpruned_year(ctx: P.RunContext, monkeypatch) -> None:
    """Every variable of a year is the same with every class and stack in every kernel set."""
    year = ctx.years[-1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrajectoireWarning)
        pruned = P.compute_year(ctx, year)
        heights, _ = ctx.heights()
        monkeypatch.setattr(P.RunContext, "classes_of", lambda self, members: heights)
        monkeypatch.setattr(P.RunContext, "stacks_of", lambda self, members, year=None: None)
        full = P.compute_year(ctx, year)
    assert set(pruned.data_vars) == set(full.data_vars)
    for name in pruned.data_vars:
        a, b = pruned[name], full[name]
        if a.dtype.kind != "f":
            xr.testing.assert_equal(a, b)
            continue
        scale = float(np.nanmax(np.abs(b.values))) if np.isfinite(b.values).any() else 0.0
        np.testing.assert_allclose(a.values, b.values, rtol=1e-12, atol=1e-14 * scale, err_msg=name)


GRID = Grid.from_bounds(700_000.0, 7_000_000.0, 703_000.0, 7_003_000.0, 200.0)


@functools.cache
def _met() -> xr.Dataset:
    times = xr.date_range("2019-01-01", periods=24 * 20, freq="h", use_cftime=False)
    rng = np.random.default_rng(3)
    hourly = xr.Dataset(
        {
            "wind_speed": ("time", rng.uniform(1.0, 8.0, times.size)),
            "wind_direction": ("time", rng.uniform(0.0, 360.0, times.size)),
            "stability": ("time", np.array(list("ABCDEF"))[rng.integers(0, 6, times.size)]),
        },
        coords={"time": times},
    )
    return met_classes(hourly).isel(year=0)


@settings(max_examples=10, deadline=None)
@given(r=st.integers(0, 14), c=st.integers(0, 14), keep=st.sampled_from([1.0, 10.0]))
def test_adjoints_of_a_class_without_kernel_are_zero(r: int, c: int, keep: float) -> None:
    s = DispersionSettings(radius=1000.0)
    met = _met()
    both = YearDispersion(GRID, met, s, [1.0, 10.0])
    one = YearDispersion(GRID, met, s, [keep])
    none = YearDispersion(GRID, met, s, [])
    assert none.half == one.half == both.half == 5
    w = np.zeros((15, 15))
    w[r, c] = 1.0
    a_both, a_one = both.adjoints(w, [1.0, 10.0]), one.adjoints(w, [1.0, 10.0])
    k = [1.0, 10.0].index(keep)
    np.testing.assert_array_equal(a_one[k], a_both[k])
    assert not a_one[1 - k].any()
    assert not none.adjoints(w, [1.0, 10.0]).any()
    rs, cs, p = one.point_adjoint(r, c, 11.0 - keep)  # the class it does not hold
    assert p.shape == (rs.stop - rs.start, cs.stop - cs.start) and not p.any()


def test_inactive_stacks_get_empty_footprints(ctx: P.RunContext) -> None:
    assert ctx.points is not None
    met = ctx.met_of(ctx.years[-1])
    args = (ctx.points, met, ctx.grid, ctx.settings, ctx.sectors, ctx.origins)
    full = year_stacks(*args)
    n = len(full)
    active = np.arange(n) % 3 == 0
    part = year_stacks(*args, active=active)
    assert len(part) == n and part.sector == full.sector and part.origin == full.origin
    for i in range(n):
        rs, cs, fp = part.footprints[i]
        if active[i]:
            assert (rs, cs) == full.footprints[i][:2]
            np.testing.assert_array_equal(fp, full.footprints[i][2])
        else:
            assert fp.size == 0
    none = year_stacks(*args, active=np.zeros(n, dtype=bool))
    assert all(fp[2].size == 0 for fp in none.footprints)
    with pytest.raises(Exception, match="active has shape"):
        year_stacks(*args, active=np.ones(n + 1, dtype=bool))


@pytest.fixture(scope="module")
def opening(tmp_path_factory: pytest.TempPathFactory) -> P.RunContext:
    """The small run over 1997–1998: the sample stack ARC-SUGAR opens in 1998."""
    over = {
        r"^first_year = \d+": "first_year = 1997",
        r"^last_year = \d+": "last_year = 1998",
        r"^map_years = \[.*\]": "map_years = [1997]",
    }
    cfg = load_config(small_config(tmp_path_factory.mktemp("opening"), **over))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrajectoireWarning)
        return P.prepare(cfg)


def _idle_year(ctx: P.RunContext) -> tuple[int, list[int]]:
    """A year of the run in which some stack of the first kernel set emits none of its
    pollutants although it does in another year, and that set's pollutants."""
    members = next(iter(ctx.kernel_groups.values()))
    for year in ctx.years:
        ever, now = ctx.stacks_of(members), ctx.stacks_of(members, year)
        assert ever is not None and now is not None
        if (ever & ~now).any():
            return year, members
    pytest.fail("the fixture has no year with an idle stack")


def test_stacks_of_a_year_are_those_emitting_that_year(opening: P.RunContext) -> None:
    ctx = opening
    assert ctx.point_emission is not None
    for members in ctx.kernel_groups.values():
        for year in ctx.years:
            got = ctx.stacks_of(members, year)
            pols = [ctx.dispersed[i] for i in members]
            q = ctx.point_emission.sel(year=year, pollutant=pols).fillna(0.0)
            want = (q > 0).any("pollutant").values
            np.testing.assert_array_equal(got, want)


def test_a_year_without_its_idle_stacks_is_the_same_bit_for_bit(
    opening: P.RunContext, monkeypatch
) -> None:
    """The year's own computation skips the footprints of the stacks that emit nothing
    that year (``stack_set(..., emitting_only=True)``): every variable keeps its bits."""
    ctx = opening
    year, members = _idle_year(ctx)
    key = next(iter(ctx.kernel_groups))
    idle = ctx.stacks_of(members) & ~ctx.stacks_of(members, year)
    skipped = ctx.stack_set(year, key, members, emitting_only=True)
    assert all(skipped.footprints[i][2].size == 0 for i in np.flatnonzero(idle))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrajectoireWarning)
        lean = P.compute_year(ctx, year)
        every = P.RunContext.stacks_of
        monkeypatch.setattr(
            P.RunContext, "stacks_of", lambda self, members, year=None: every(self, members)
        )
        full = P.compute_year(ctx, year)
    assert set(lean.data_vars) == set(full.data_vars)
    for name in lean.data_vars:
        a, b = lean[name].values, full[name].values
        if a.dtype.kind == "f":
            np.testing.assert_array_equal(
                a.view(f"u{a.itemsize}"), b.view(f"u{b.itemsize}"), err_msg=name
            )
        else:
            np.testing.assert_array_equal(a, b, err_msg=name)
