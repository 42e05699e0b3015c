"""A seasonal species in the annual mode of the run (issue 15): S-metolachlor.

The small sample run of ``test_pipeline`` with the sample's S-metolachlor (volatilised from
arable land, L_AgriOther only). The herbicide
has the temporal profile ``"L_AgriOther/S-metolachlor"`` (spring spraying): its kernels are
built from the meteorology with each hour weighted by the profile's hourly factor, NH3 of
the same sector keeps the unweighted ones.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from test_pipeline import small_config
from trajectoire import TrajectoireWarning
from trajectoire import pipeline as P
from trajectoire.config import load_config
from trajectoire.dispersion import YearDispersion
from trajectoire.dispersion.local import local_concentration
from trajectoire.inventory.temporal import hourly_factors

KEY = "L_AgriOther/S-metolachlor"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("seasonal")
    over = {r"^pollutants = \[.*\]": 'pollutants = ["NOx", "NH3", "S-metolachlor"]'}
    cfg = load_config(small_config(tmp, **over))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrajectoireWarning)
        ctx = P.prepare(cfg)
        ds = P.compute_year(ctx, 2018)
    return ctx, ds


def test_the_herbicide_gets_kernels_of_its_own(run):
    ctx, _ = run
    assert ctx.seasonal == {"S-metolachlor": KEY}
    groups = ctx.kernel_groups
    assert groups[(0.0, 0.0, KEY)] == [ctx.dispersed.index("S-metolachlor")]
    assert ctx.dispersed.index("NH3") in groups[(0.0, 0.0, None)]
    table = ctx.met_of(2018, KEY)
    assert float(table["frequency"].sum()) == pytest.approx(1.0, rel=1e-12)
    assert not np.allclose(table["frequency"], ctx.met_of(2018)["frequency"])


def test_its_concentration_is_the_profile_weighted_kernel(run):
    ctx, ds = run
    heights, _ = ctx.heights()
    e = P.emission_of(ctx, 2018, "S-metolachlor")
    q = np.zeros(0)
    from trajectoire.dispersion.local import year_stacks

    out = {}
    for season in (KEY, None):
        met = ctx.met_of(2018, season)
        disp = YearDispersion(ctx.grid, met, ctx.settings, heights)
        stacks = year_stacks(ctx.points, met, ctx.grid, ctx.settings, ctx.sectors, ctx.origins)
        q = np.zeros(len(stacks.sector))
        out[season] = local_concentration(disp, e.astype(np.float32), q, stacks, ctx.sectors)
    bg = float(ds["background"].sel(pollutant="S-metolachlor").isel(year=0))
    got = ds["concentration"].sel(pollutant="S-metolachlor").isel(year=0).values.astype(float)
    got = got - bg  # the local part
    ok = np.isfinite(got)
    assert ok.sum() > 1000
    np.testing.assert_allclose(got[ok], out[KEY][ok], rtol=2e-5, atol=1e-7 * out[KEY].max())
    # the spring meteorology is not the year's: the map differs by more than round-off
    rel = np.abs(out[KEY][ok] - out[None][ok]).max() / out[None][ok].max()
    assert rel > 1e-3


def test_the_weights_are_the_registry_profile():
    t = pd.date_range("2018-01-01", "2018-12-31 23:00", freq="h")
    f = hourly_factors("L_AgriOther", t, species="S-metolachlor", utc_offset=1.0)
    spring = (t.month >= 3) & (t.month <= 7)
    assert f[~spring].sum() < 1e-9 * f.sum() or f[spring].sum() > 0.9 * f.sum()
