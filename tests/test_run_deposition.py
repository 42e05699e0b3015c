"""Dry deposition in the batch run (issue 14) on the small sample run of test_pipeline.

ACSO and ARC on a 250 m grid with a 5 km radius, with ``[dispersion] dry_deposition = true``
(the registry's velocities, NMVOC given 0 explicitly), beside the same run without it. The
checks: the written deposition is ``v_d`` times the written local concentration cell by cell
and adds up to ``territory_deposition``; the receptor aggregates (one adjoint set per kernel
set) still agree with the maps; the change split still adds up; a pollutant that does not
deposit comes out bit for bit as without deposition; NH3's local part drops.
"""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import numpy as np
import pytest

from test_pipeline import small_config
from trajectoire import TrajectoireWarning
from trajectoire import pipeline as P
from trajectoire.config import load_config
from trajectoire.errors import ConfigError
from trajectoire.io.config import DispersionConfig
from trajectoire.units import SECONDS_PER_YEAR

YEARS = (2016, 2018)  # 2018 is the map year of small_config
DEPOSIT = {
    r"^receptor_height = 1\.5": (
        "receptor_height = 1.5\ndry_deposition = true\ndeposition_velocity = { NMVOC = 0.0 }"
    )
}
AGGREGATES = (
    "concentration",
    "contribution",
    "territory_contribution",
    "exposure_contribution",
    "station_contribution",
    "exposure",
)


def _run(tmp, **over):
    cfg = load_config(small_config(tmp, **over))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrajectoireWarning)
        ctx = P.prepare(cfg)
        return ctx, {y: P.compute_year(ctx, y) for y in YEARS}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    dep = _run(tmp_path_factory.mktemp("dep"), **DEPOSIT)
    plain = _run(tmp_path_factory.mktemp("plain"))
    return dep, plain


def test_settings_ask_a_velocity_for_every_dispersed_pollutant():
    cfg = SimpleNamespace(dispersion=DispersionConfig())
    assert not P._settings(cfg, ["NH3", "NMVOC"]).deposition_velocity
    on = SimpleNamespace(dispersion=DispersionConfig(dry_deposition=True))
    with pytest.raises(ConfigError) as err:
        P._settings(on, ["NH3", "NMVOC", "SO2"])
    msg = str(err.value)
    assert "'NMVOC'" in msg and "[dispersion] deposition_velocity" in msg
    assert "NH3" not in msg and "SO2" not in msg  # the registry has theirs
    given = DispersionConfig(dry_deposition=True, deposition_velocity={"NMVOC": 0.0})
    s = P._settings(SimpleNamespace(dispersion=given), ["NH3", "NMVOC"])
    assert s.removal("NH3") == (0.0, 0.01) and s.removal("NMVOC") == (0.0, 0.0)


def test_without_deposition_nothing_is_written(runs):
    (_, _), (ctx, years) = runs
    assert ctx.settings.removal_groups(ctx.dispersed) == {(0.0, 0.0): [0, 1, 2, 3, 4, 5]}
    for ds in years.values():
        assert "deposition" not in ds and "territory_deposition" not in ds


def test_deposition_is_velocity_times_local_concentration(runs):
    (ctx, years), _ = runs
    ds = years[2018].isel(year=0)
    dep = ds["deposition"]
    assert dep.attrs["units"] == "ug m-2 yr-1" and "deposition" not in years[2016]
    local = ds["contribution"].astype(float).sum("sector", skipna=False)
    for pol in ctx.dispersed:
        vd = ctx.settings.removal(pol)[1]
        got = dep.sel(pollutant=pol).values.astype(float)
        want = local.sel(pollutant=pol).values * vd * SECONDS_PER_YEAR
        ok = np.isfinite(want)
        assert ok.sum() > 100 and np.array_equal(ok, np.isfinite(got))
        # float32 maps: each written value rounded once (sum of contributions: a few ulp)
        np.testing.assert_allclose(got[ok], want[ok], rtol=2e-6, atol=1e-30, err_msg=pol)
        assert (got[ok] > 0).any() == (vd > 0)
    assert bool(dep.sel(pollutant="NO2").isnull().all())  # NOx carries it (as NO2)


def test_territory_deposition_is_the_map_summed_over_each_territory(runs):
    (ctx, years), _ = runs
    for year, ds in years.items():
        td = ds["territory_deposition"].isel(year=0)
        assert td.attrs["units"] == "t yr-1"
        assert bool(td.sel(pollutant="NO2").isnull().all())
        assert float(td.sel(pollutant="NH3").min()) > 0
        if year != 2018:
            continue
        for it, terr in enumerate(ctx.territories):
            frac = ctx.fractions[it]
            for pol in ctx.dispersed:
                flux = ds["deposition"].sel(pollutant=pol).values[0].astype(float)
                ref = np.nansum(flux * frac) * ctx.grid.cell_area * 1e-12
                got = float(td.sel(territory=terr, pollutant=pol))
                assert got == pytest.approx(ref, rel=1e-6, abs=1e-15), (terr, pol)


def test_aggregates_agree_with_the_depleted_maps(runs):
    (ctx, years), _ = runs
    assert len(ctx.settings.removal_groups(ctx.dispersed)) == 5  # NOx and PM2.5 share one
    for year, ds in years.items():
        for it, terr in enumerate(ctx.territories):
            frac = ctx.fractions[it]
            for pol in ctx.output_pollutants:
                conc = ds["concentration"].sel(pollutant=pol, year=year).values.astype(float)
                mean_map = np.nansum(conc * frac) / frac.sum()
                agg = float(
                    ds["territory_concentration"].sel(receptor=terr, pollutant=pol, year=year)
                )
                assert agg == pytest.approx(mean_map, rel=2e-5), (year, terr, pol)
        for ist, st in ctx.stations.iterrows():
            for pol in ("NH3", "SO2", "NO2"):
                cell = float(ds["concentration"].sel(pollutant=pol, year=year)[st.row, st.col])
                got = float(ds["station_concentration"].sel(pollutant=pol, year=year)[ist])
                if np.isfinite(cell):
                    assert got == pytest.approx(cell, rel=2e-5), (year, pol)


def test_change_split_uses_the_depleted_kernels(runs):
    (ctx, years), _ = runs
    ch = P.decompose_change(ctx, *YEARS)
    effects = (
        ch["change_emission"].sel(sector="all")
        + ch["change_meteorology"].sel(sector="all")
        + ch["change_background"]
    )
    np.testing.assert_allclose(effects.values, ch["change_total"].values, rtol=1e-12, atol=1e-12)
    direct = (
        years[2018]["territory_concentration"].isel(year=0)
        - years[2016]["territory_concentration"].isel(year=0)
    ).transpose("receptor", "pollutant")
    np.testing.assert_allclose(ch["change_total"].values, direct.values, rtol=2e-5)


def test_a_pollutant_that_does_not_deposit_is_unchanged(runs):
    """NMVOC (v_d 0) keeps the kernels without deposition: bit for bit the plain run."""
    (_, dep), (_, plain) = runs
    for year in YEARS:
        for name in AGGREGATES:
            if name not in plain[year]:
                continue
            a = dep[year][name].sel(pollutant="NMVOC").values
            b = plain[year][name].sel(pollutant="NMVOC").values
            assert np.array_equal(a, b, equal_nan=True), (year, name)


def test_nh3_local_part_drops(runs):
    """The depleted NH3 local part inside the mask, against the run without deposition."""
    (_, dep), (_, plain) = runs

    def local(ds):
        return ds["contribution"].sel(pollutant="NH3").astype(float).sum("sector", skipna=False)

    a, b = local(dep[2018]).values, local(plain[2018]).values
    ok = np.isfinite(a)
    change = a[ok].mean() / b[ok].mean() - 1.0
    assert -0.35 < change < -0.1, change
    assert np.all(a[ok] <= b[ok] * (1 + 1e-6))
